//! Ansible's `key=value` argument strings (`file: path=/x state=directory`), split with
//! shell-like quoting as `parse_kv` does; what is not `k=v` becomes `_raw_params`.

use serde_json::{Map, Value};

/// Splits `args` into words, keeping quotes and Jinja blocks together (Ansible's `split_args`).
pub fn split_args(args: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut cur = String::new();
    let mut quote: Option<char> = None;
    let mut depth = 0usize;
    let chars: Vec<char> = args.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        if depth == 0 && quote.is_none() && c.is_whitespace() {
            if !cur.is_empty() {
                words.push(std::mem::take(&mut cur));
            }
            i += 1;
            continue;
        }
        if (c == '{' && (next == Some('{') || next == Some('%') || next == Some('#')))
            && quote.is_none()
        {
            depth += 1;
            cur.push(c);
            cur.push(next.unwrap_or(' '));
            i += 2;
            continue;
        }
        if depth > 0 && (c == '}' || c == '%' || c == '#') && next == Some('}') && quote.is_none() {
            depth -= 1;
            cur.push(c);
            cur.push('}');
            i += 2;
            continue;
        }
        if c == '\\' && quote != Some('\'') {
            cur.push(c);
            if let Some(n) = next {
                cur.push(n);
            }
            i += 2;
            continue;
        }
        match quote {
            Some(q) if c == q => quote = None,
            None if (c == '"' || c == '\'') && depth == 0 => quote = Some(c),
            _ => {}
        }
        cur.push(c);
        i += 1;
    }
    if !cur.is_empty() {
        words.push(cur);
    }
    words
}

fn unquote(s: &str) -> String {
    let b = s.as_bytes();
    if b.len() >= 2 && (b[0] == b'"' || b[0] == b'\'') && b[b.len() - 1] == b[0] {
        s[1..s.len() - 1].to_string()
    } else {
        s.to_string()
    }
}

/// Parses `k=v` pairs; words without `=` go to `_raw_params` (for command/shell) in order.
/// `check_raw` keeps the whole string as raw params for modules that take free-form text.
pub fn parse_kv(args: &str, check_raw: bool) -> Map<String, Value> {
    let mut out = Map::new();
    let mut raw: Vec<String> = Vec::new();
    for word in split_args(args) {
        match word.find('=') {
            Some(eq) if !word[..eq].is_empty() && is_key(&word[..eq]) => {
                let key = &word[..eq];
                let value = unquote(&word[eq + 1..]).replace("\\=", "=");
                if check_raw && !FREE_FORM_KEYS.contains(&key) {
                    raw.push(word.clone());
                } else {
                    out.insert(key.to_string(), Value::String(value));
                }
            }
            _ => raw.push(word),
        }
    }
    if !raw.is_empty() {
        out.insert("_raw_params".into(), Value::String(raw.join(" ")));
    }
    out
}

/// Keys that command/shell still take as options inside their free-form text.
const FREE_FORM_KEYS: &[&str] = &[
    "creates",
    "removes",
    "chdir",
    "executable",
    "warn",
    "stdin",
    "stdin_add_newline",
    "strip_empty_ends",
];

fn is_key(s: &str) -> bool {
    s.chars().all(|c| c.is_alphanumeric() || c == '_')
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn key_values_with_quotes_and_templates() {
        let got = parse_kv(
            "path=/tmp/x state=directory msg='a b' v={{ x | default('q r') }}",
            false,
        );
        assert_eq!(
            Value::Object(got),
            json!({"path": "/tmp/x", "state": "directory", "msg": "a b", "v": "{{ x | default('q r') }}"})
        );
    }

    #[test]
    fn free_form_commands_keep_their_words() {
        let got = parse_kv("echo hi > /tmp/x chdir=/tmp", true);
        assert_eq!(
            Value::Object(got),
            json!({"chdir": "/tmp", "_raw_params": "echo hi > /tmp/x"})
        );
    }
}
