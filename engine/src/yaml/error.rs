//! YAML errors as ansible-core 2.19 reports them: `YAML parsing failed: ...`, the origin with
//! the offending line, and Ansible's hints for the usual mistakes (tabs, unquoted templates,
//! colons in unquoted values, mismatched quotes).

use std::fmt;
use std::path::{Path, PathBuf};

use crate::diag::{source_context, Origin};

use super::Span;

/// A YAML document that could not be read or parsed.
#[derive(Debug, Clone)]
pub struct YamlError {
    /// Where the problem is (after Ansible's hint analysis moved the column).
    pub origin: Origin,
    /// The sentence after `YAML parsing failed: ` (or the I/O problem).
    pub message: String,
    /// Ansible's "For example: ..." text, when one of its hints applied.
    pub help: Option<Box<str>>,
    /// The rendered `Origin:` block with source lines and caret.
    pub context: Box<str>,
    /// Whether the file could not be read at all (not a syntax error).
    pub io: bool,
    /// Valid YAML that fleetsim refuses (a tag it cannot honour): the message stands alone.
    pub refused: bool,
}

impl YamlError {
    pub(crate) fn io(path: &Path, err: &std::io::Error) -> YamlError {
        YamlError {
            origin: Origin::new(path, 0, 0),
            message: format!("{err}"),
            help: None,
            context: format!("Origin: {}", path.display()).into(),
            io: true,
            refused: false,
        }
    }

    pub(crate) fn syntax(path: &Path, text: &str, at: Span, raw: &str) -> YamlError {
        let origin = Origin::new(PathBuf::from(path), at.line, at.col);
        let target = text
            .split('\n')
            .nth(at.line.saturating_sub(1))
            .unwrap_or("");
        let (message, col, help) = analyse(raw, target, at.col);
        let origin = Origin { col, ..origin };
        let context = source_context(&origin, Some(text)).into();
        YamlError {
            origin,
            message,
            help: help.map(Box::from),
            context,
            io: false,
            refused: false,
        }
    }

    /// Valid YAML fleetsim cannot honour, named at its place (never silently accepted).
    pub(crate) fn refused(path: &Path, text: &str, at: Span, message: &str) -> YamlError {
        let origin = Origin::new(PathBuf::from(path), at.line, at.col);
        let context = source_context(&origin, Some(text)).into();
        YamlError {
            origin,
            message: message.to_string(),
            help: None,
            context,
            io: false,
            refused: true,
        }
    }

    /// The headline Ansible prints after `[ERROR]: `.
    pub fn headline(&self) -> String {
        if self.io || self.refused {
            self.message.clone()
        } else {
            format!("YAML parsing failed: {}", self.message)
        }
    }
}

impl fmt::Display for YamlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}\n{}", self.headline(), self.context)?;
        if let Some(h) = &self.help {
            write!(f, "\n\n{h}")?;
        }
        Ok(())
    }
}

impl std::error::Error for YamlError {}

const TEMPLATE_HELP: &str =
    "\nFor example:\n\n    raw: {{ some_var }}\n\nShould be:\n\n    raw: \"{{ some_var }}\"\n";
const COLON_HELP: &str = "\nFor example:\n\n    raw: echo 'name: ansible'\n\nShould be:\n\n    raw: \"echo 'name: ansible'\"\n";
const QUOTE_HELP: &str =
    "\nFor example:\n\n    raw: \"foo\" in bar\n\nShould be:\n\n    raw: '\"foo\" in bar'\n";
const QUOTES_HELP: &str = "\nFor example:\n\n    raw: \"foo\" in \"bar\"\n\nShould be:\n\n    raw: '\"foo\" in \"bar\"'\n";

/// Ansible's `AnsibleYAMLParserError.handle_exception` heuristics, in the same order.
/// Returns the message, the (possibly moved) 1-based column and the help text.
fn analyse(raw: &str, line: &str, col: usize) -> (String, usize, Option<&'static str>) {
    if let Some(tab) = line.find('\t') {
        return ("Tabs are usually invalid in YAML.".into(), tab + 1, None);
    }
    // `^\s*(?:-\s+)*(?:[\w\s]+:\s+)?(?P<value>\{\{.*}})`
    let (prefix_end, value) = split_preamble(line, false);
    if let Some(v) = value {
        if v.starts_with("{{") && v.trim_end().contains("}}") && find_template_value(v) {
            return (
                "This may be an issue with missing quotes around a template block.".into(),
                prefix_end + 1,
                Some(TEMPLATE_HELP),
            );
        }
    }
    if !line.trim_start().starts_with(':') {
        let (start, value) = split_preamble(line, true);
        if let Some(v) = value {
            let fragment = replace_quoted(v);
            if let Some(pos) = colon_position(&fragment) {
                return (
                    "Colons in unquoted values must be followed by a non-space character.".into(),
                    start + pos + 1,
                    Some(COLON_HELP),
                );
            }
        }
    }
    let (start, value) = split_preamble(line, false);
    if let Some(v) = value {
        if let Some(first) = v.chars().next().filter(|c| *c == '"' || *c == '\'') {
            // Python's `.*?\s*$` keeps trailing spaces in the value.
            let last = v.chars().last().unwrap_or(first);
            if first != last {
                return (
                    "Values starting with a quote must end with the same quote.".into(),
                    start + 1,
                    Some(QUOTE_HELP),
                );
            } else if line.matches(first).count() > 2 {
                return (
                    "Values starting with a quote must end with the same quote, and not contain that quote.".into(),
                    start + 1,
                    Some(QUOTES_HELP),
                );
            }
        }
    }
    let mut message = raw.trim().to_string();
    if let Some(first) = message.chars().next() {
        message = first.to_uppercase().collect::<String>() + &message[first.len_utf8()..];
    }
    if !message.ends_with('.') {
        message.push('.');
    }
    let message = message.split_whitespace().collect::<Vec<_>>().join(" ");
    (message, col, None)
}

fn find_template_value(v: &str) -> bool {
    v.starts_with("{{") && v.contains("}}")
}

/// Splits a line into Ansible's "list/dict preamble" and the value after it:
/// `^\s*(?:-\s+)*(?:KEYCHARS+:\s+)?(?P<value>.*)$`, where KEYCHARS is `[\w\s]` or, for the
/// colon check, `[\w\s\[\]{}]`. Returns the byte offset of the value and the value.
fn split_preamble(line: &str, brackets_in_key: bool) -> (usize, Option<&str>) {
    let bytes = line.as_bytes();
    let mut i = 0;
    while i < bytes.len() && (bytes[i] as char).is_whitespace() {
        i += 1;
    }
    // (?:-\s+)*
    loop {
        if i < bytes.len() && bytes[i] == b'-' {
            let mut j = i + 1;
            let ws_start = j;
            while j < bytes.len() && (bytes[j] as char).is_whitespace() {
                j += 1;
            }
            if j > ws_start {
                i = j;
                continue;
            }
        }
        break;
    }
    // (?:[\w\s]+:\s+)? — greedy with backtracking: the key runs to the LAST `: ` it can reach
    // through key characters, as Python's regex would find.
    let is_key_char = |c: char| {
        c.is_alphanumeric()
            || c == '_'
            || c.is_whitespace()
            || (brackets_in_key && "[]{}".contains(c))
    };
    let rest = &line[i..];
    let mut best: Option<usize> = None;
    for (off, c) in rest.char_indices() {
        if c == ':' && off > 0 {
            let after = &rest[off + 1..];
            let ws = after.len() - after.trim_start().len();
            if ws > 0 {
                best = Some(off + 1 + ws);
            }
        }
        if !is_key_char(c) {
            break;
        }
    }
    match best {
        Some(b) => (i + b, Some(&line[i + b..])),
        None => (i, Some(rest)),
    }
}

/// `^\s*('[^']*'|"[^"]*")\s*$` replaced by dots: a properly quoted value is ignored.
fn replace_quoted(value: &str) -> String {
    let t = value.trim();
    let quoted = t.len() >= 2
        && ((t.starts_with('\'') && t.ends_with('\'') && !t[1..t.len() - 1].contains('\''))
            || (t.starts_with('"') && t.ends_with('"') && !t[1..t.len() - 1].contains('"')));
    if quoted {
        ".".repeat(value.len())
    } else {
        value.to_string()
    }
}

/// `:($| )` in the fragment.
fn colon_position(fragment: &str) -> Option<usize> {
    let b = fragment.as_bytes();
    (0..b.len()).find(|&i| b[i] == b':' && (i + 1 == b.len() || b[i + 1] == b' '))
}

#[cfg(test)]
mod tests {
    use super::super::load;
    use std::path::Path;

    fn err(text: &str) -> super::YamlError {
        load(text, Path::new("/p/site.yml")).unwrap_err()
    }

    #[test]
    fn misindented_list_item_as_ansible_reports_it() {
        let text = "- name: Broken YAML\n  hosts: app\n  gather_facts: false\n  tasks:\n    - name: Would write a file\n      file:\n        path: /tmp/fsim/app1\n        state: directory\n     - name: Mis-indented\n      debug:\n        msg: never\n";
        let e = err(text);
        assert_eq!(
            e.to_string(),
            "YAML parsing failed: While parsing a block collection did not find expected '-' indicator.\nOrigin: /p/site.yml:9:6\n\n7         path: /tmp/fsim/app1\n8         state: directory\n9      - name: Mis-indented\n       ^ column 6"
        );
    }

    #[test]
    fn unquoted_template_hint() {
        let e = err("- hosts: localhost\n  gather_facts: false\n  tasks:\n    - debug:\n        msg: {{ foo }}\n");
        assert_eq!(
            e.message,
            "This may be an issue with missing quotes around a template block."
        );
        assert_eq!((e.origin.line, e.origin.col), (5, 14));
        assert!(e.help.is_some());
    }

    #[test]
    fn colon_hint() {
        let e = err("- hosts: localhost\n  tasks:\n    - debug:\n        msg: a: b\n");
        assert_eq!(
            e.message,
            "Colons in unquoted values must be followed by a non-space character."
        );
        assert_eq!((e.origin.line, e.origin.col), (4, 15));
    }

    #[test]
    fn second_document_is_an_error() {
        let e = err("- hosts: localhost\n---\n- hosts: b\n");
        assert_eq!(
            e.message,
            "Expected a single document in the stream but found another document."
        );
        assert_eq!((e.origin.line, e.origin.col), (2, 1));
    }
}
