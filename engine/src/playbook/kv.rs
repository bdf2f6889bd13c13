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

/// Ansible's `unquote`: one pair of matching quotes around the whole text, unless the closing
/// one is escaped.
fn unquote(s: &str) -> String {
    let cs: Vec<char> = s.chars().collect();
    let n = cs.len();
    if n > 1 && (cs[0] == '"' || cs[0] == '\'') && cs[n - 1] == cs[0] && cs[n - 2] != '\\' {
        cs[1..n - 1].iter().collect()
    } else {
        s.to_string()
    }
}

/// Ansible's `_decode_escapes`: the escape sequences Python's `unicode-escape` codec knows
/// (`\\`, `\n`, `\t`, `\'`, `\"`, `\a`, `\b`, `\f`, `\r`, `\v`, `\xHH`, `\uHHHH`,
/// `\UHHHHHHHH`) become their characters; any other backslash stays as written. (`\N{NAME}`
/// needs Unicode's name table and is left as written.)
fn decode_escapes(s: &str) -> String {
    let cs: Vec<char> = s.chars().collect();
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    while i < cs.len() {
        if cs[i] != '\\' || i + 1 >= cs.len() {
            out.push(cs[i]);
            i += 1;
            continue;
        }
        let single = match cs[i + 1] {
            '\\' => Some('\\'),
            '\'' => Some('\''),
            '"' => Some('"'),
            'a' => Some('\u{7}'),
            'b' => Some('\u{8}'),
            'f' => Some('\u{c}'),
            'n' => Some('\n'),
            'r' => Some('\r'),
            't' => Some('\t'),
            'v' => Some('\u{b}'),
            _ => None,
        };
        if let Some(c) = single {
            out.push(c);
            i += 2;
            continue;
        }
        let width = match cs[i + 1] {
            'x' => 2,
            'u' => 4,
            'U' => 8,
            _ => 0,
        };
        let hex: String = cs.iter().skip(i + 2).take(width).collect();
        let decoded =
            (width > 0 && hex.len() == width && hex.chars().all(|c| c.is_ascii_hexdigit()))
                .then(|| u32::from_str_radix(&hex, 16).ok().and_then(char::from_u32))
                .flatten();
        match decoded {
            Some(c) => {
                out.push(c);
                i += 2 + width;
            }
            None => {
                out.push('\\');
                i += 1;
            }
        }
    }
    out
}

/// Where a word's key ends: its first `=` after the first character that no backslash
/// escapes (Ansible's search starts at index 1).
fn key_end(word: &str) -> Option<usize> {
    let mut prev = None;
    for (at, c) in word.char_indices() {
        if at > 0 && c == '=' && prev != Some('\\') {
            return Some(at);
        }
        prev = Some(c);
    }
    None
}

/// Parses `k=v` pairs; words without `=` go to `_raw_params` in order, as ansible-core's
/// `parse_kv` does: escape sequences in a word are decoded before it is split, a word whose
/// every `=` is escaped is free-form text (with `\=` as `=`).
///
/// With `check_raw` (command, shell, raw, script) the free-form text keeps its own spacing
/// and newlines, as Ansible keeps them: only the option words (`chdir=...`, `creates=...`)
/// are taken out of it.
pub fn parse_kv(args: &str, check_raw: bool) -> Map<String, Value> {
    let mut out = Map::new();
    let mut raw: Vec<String> = Vec::new();
    let mut text = args.to_string();
    for word in split_args(args) {
        let decoded = decode_escapes(&word);
        if !decoded.contains('=') {
            raw.push(word);
            continue;
        }
        let Some(eq) = key_end(&decoded) else {
            raw.push(decoded.replace("\\=", "="));
            continue;
        };
        let key = decoded[..eq].trim();
        if check_raw && !FREE_FORM_KEYS.contains(&key) {
            raw.push(word.clone());
            continue;
        }
        if check_raw {
            remove_word(&mut text, &word);
        }
        let value = unquote(decoded[eq + 1..].trim());
        out.insert(key.to_string(), Value::String(value));
    }
    if check_raw {
        let t = text.trim();
        if !t.is_empty() {
            out.insert("_raw_params".into(), Value::String(t.to_string()));
        }
    } else if !raw.is_empty() {
        out.insert("_raw_params".into(), Value::String(raw.join(" ")));
    }
    out
}

/// Removes the last occurrence of an option word and the spaces before it.
fn remove_word(text: &mut String, word: &str) {
    if let Some(at) = text.rfind(word) {
        let start = text[..at].trim_end_matches([' ', '\t']).len();
        text.replace_range(start..at + word.len(), "");
    }
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
    fn free_form_text_keeps_spacing_and_newlines() {
        let got = parse_kv("echo a   b\necho c chdir=/tmp\n", true);
        assert_eq!(
            Value::Object(got),
            json!({"chdir": "/tmp", "_raw_params": "echo a   b\necho c"})
        );
    }

    #[test]
    fn escapes_are_decoded_before_splitting_as_ansible_does() {
        // Each as ansible-core 2.19's parse_kv returned it.
        let got = parse_kv(r"msg=a\\b\nc\x41\u00e9 re='\\d+' raw\=word k\=v=1", false);
        assert_eq!(
            Value::Object(got),
            json!({"msg": "a\\b\ncA\u{e9}", "re": "\\d+", "k\\=v": "1", "_raw_params": "raw=word"})
        );
    }

    #[test]
    fn any_text_before_the_first_equals_sign_is_the_key() {
        let got = parse_kv("foo-bar=1 =x", false);
        assert_eq!(
            Value::Object(got),
            json!({"foo-bar": "1", "_raw_params": "=x"})
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
