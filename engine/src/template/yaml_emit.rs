//! A YAML emitter in PyYAML's style (`yaml.dump` as Ansible's `to_yaml` / `to_nice_yaml` call
//! it): sorted keys, indentless block sequences, flow style for leaf collections when
//! `default_flow_style=None`, PyYAML's quoting rules and 80-column folding.

use serde_json::Value as J;

use super::pyrepr::float_repr;

/// Emitter options.
pub struct YamlOpts {
    /// Spaces per nesting level (PyYAML's `indent`, 2 by default).
    pub indent: usize,
    /// `None`: leaf collections in flow style; `Some(false)`: always block; `Some(true)`: flow.
    pub flow: Option<bool>,
    pub sort_keys: bool,
    pub width: usize,
}

impl Default for YamlOpts {
    fn default() -> Self {
        YamlOpts {
            indent: 2,
            flow: None,
            sort_keys: true,
            width: 80,
        }
    }
}

fn is_scalar(v: &J) -> bool {
    !matches!(v, J::Array(_) | J::Object(_))
}

fn is_empty_coll(v: &J) -> bool {
    matches!(v, J::Array(a) if a.is_empty()) || matches!(v, J::Object(o) if o.is_empty())
}

fn resolves_implicitly(s: &str) -> bool {
    use std::sync::OnceLock;
    static RES: OnceLock<Vec<regex::Regex>> = OnceLock::new();
    let res = RES.get_or_init(|| {
        [
            r"^(?:yes|Yes|YES|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF)$",
            r"^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?|\.[0-9][0-9_]*(?:[eE][-+][0-9]+)?|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$",
            r"^(?:[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+|[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+)$",
            r"^(?:~|null|Null|NULL|)$",
            r"^(?:[0-9][0-9][0-9][0-9]-[0-9][0-9]?-[0-9][0-9]?(?:(?:[Tt]|[ \t]+)[0-9][0-9]?:[0-9][0-9]:[0-9][0-9](?:\.[0-9]*)?(?:[ \t]*(?:Z|[-+][0-9][0-9]?(?::[0-9][0-9])?))?)?)$",
            r"^(?:<<|=)$",
        ]
        .iter()
        .filter_map(|p| regex::Regex::new(p).ok())
        .collect()
    });
    res.iter().any(|r| r.is_match(s))
}

#[derive(PartialEq, Clone, Copy)]
enum Style {
    Plain,
    Single,
    Double,
}

fn is_printable(c: char) -> bool {
    matches!(c, '\n' | '\t' | '\x20'..='\x7e')
        || c == '\u{85}'
        || ('\u{a0}'..='\u{d7ff}').contains(&c)
        || ('\u{e000}'..='\u{fffd}').contains(&c)
        || ('\u{10000}'..='\u{10ffff}').contains(&c)
}

fn choose_style(s: &str, flow: bool, simple_key: bool) -> Style {
    if s.chars().any(|c| !is_printable(c) || c == '\u{feff}') {
        return Style::Double;
    }
    let multiline = s.contains('\n');
    if simple_key && multiline {
        return Style::Double;
    }
    if s.is_empty() || resolves_implicitly(s) {
        return Style::Single;
    }
    let mut plain = !multiline;
    if s.starts_with("---") || s.starts_with("...") {
        plain = false;
    }
    let chars: Vec<char> = s.chars().collect();
    let first = chars[0];
    if "#,[]{}&*!|>'\"%@`".contains(first) {
        plain = false;
    }
    if "-?:".contains(first) && chars.get(1).is_none_or(|c| c.is_whitespace()) {
        plain = false;
    }
    if first == ' ' || chars.last() == Some(&' ') {
        plain = false;
    }
    for (i, &c) in chars.iter().enumerate() {
        let next = chars.get(i + 1);
        if c == ':'
            && (next.is_none_or(|n| n.is_whitespace())
                || (flow && next.is_some_and(|n| ",[]{}".contains(*n))))
        {
            plain = false;
        }
        if c == '#' && i > 0 && chars[i - 1].is_whitespace() {
            plain = false;
        }
        if flow && ",?[]{}".contains(c) {
            plain = false;
        }
        if c == '\t' {
            plain = false;
        }
    }
    if plain {
        return Style::Plain;
    }
    // PyYAML refuses single quotes for text with leading/trailing spaces around line breaks
    if multiline && (s.contains(" \n") || s.contains("\n ")) {
        return Style::Double;
    }
    Style::Single
}

struct Emitter {
    out: String,
    column: usize,
    opts: YamlOpts,
}

impl Emitter {
    fn write(&mut self, s: &str) {
        self.out.push_str(s);
        match s.rfind('\n') {
            Some(p) => self.column = s[p + 1..].chars().count(),
            None => self.column += s.chars().count(),
        }
    }

    fn newline_indent(&mut self, indent: usize) {
        self.write("\n");
        self.write(&" ".repeat(indent));
    }

    fn scalar(&mut self, v: &J, flow: bool, simple_key: bool, indent: usize) {
        match v {
            J::Null => self.write("null"),
            J::Bool(b) => self.write(if *b { "true" } else { "false" }),
            J::Number(n) => {
                if n.is_f64() {
                    let f = n.as_f64().unwrap_or(0.0);
                    let r = float_repr(f);
                    let r = if r.contains('.') || r.contains("inf") || r.contains("nan") {
                        r
                    } else {
                        r.replacen('e', ".0e", 1)
                    };
                    self.write(&r)
                } else {
                    self.write(&n.to_string())
                }
            }
            J::String(s) => self.string(s, flow, simple_key, indent),
            _ => {}
        }
    }

    fn string(&mut self, s: &str, flow: bool, simple_key: bool, indent: usize) {
        match choose_style(s, flow, simple_key) {
            Style::Plain => self.folded_words(s, indent, ""),
            Style::Single => {
                self.write("'");
                let escaped = s.replace('\'', "''");
                let lines: Vec<&str> = escaped.split('\n').collect();
                for (i, line) in lines.iter().enumerate() {
                    if i > 0 {
                        // a line break inside single quotes is written as an empty line
                        self.write("\n");
                        self.newline_indent(indent + self.opts.indent);
                    }
                    self.folded_words(line, indent + self.opts.indent, "");
                }
                self.write("'");
            }
            Style::Double => {
                let mut out = String::from("\"");
                for c in s.chars() {
                    match c {
                        '"' => out.push_str("\\\""),
                        '\\' => out.push_str("\\\\"),
                        '\n' => out.push_str("\\n"),
                        '\t' => out.push_str("\\t"),
                        '\r' => out.push_str("\\r"),
                        '\0' => out.push_str("\\0"),
                        c if !is_printable(c) || c == '\u{feff}' => {
                            let n = c as u32;
                            if n <= 0xff {
                                out.push_str(&format!("\\x{n:02X}"));
                            } else if n <= 0xffff {
                                out.push_str(&format!("\\u{n:04X}"));
                            } else {
                                out.push_str(&format!("\\U{n:08X}"));
                            }
                        }
                        c => out.push(c),
                    }
                }
                out.push('"');
                self.write(&out);
            }
        }
    }

    /// Write words, breaking at a single space once past the width, as PyYAML does.
    fn folded_words(&mut self, s: &str, indent: usize, _p: &str) {
        let parts: Vec<&str> = s.split(' ').collect();
        for (i, w) in parts.iter().enumerate() {
            if i > 0 {
                let single_space = !w.is_empty() && !parts[i - 1].is_empty();
                if single_space && self.column > self.opts.width {
                    self.newline_indent(indent);
                } else {
                    self.write(" ");
                }
            }
            self.write(w);
        }
    }

    fn flow_style(&self, v: &J) -> bool {
        match self.opts.flow {
            Some(f) => f || is_empty_coll(v),
            None => match v {
                J::Array(a) => a.iter().all(is_scalar),
                J::Object(o) => o.values().all(is_scalar),
                _ => true,
            },
        }
    }

    fn entries<'a>(&self, o: &'a serde_json::Map<String, J>) -> Vec<(&'a String, &'a J)> {
        let mut e: Vec<_> = o.iter().collect();
        if self.opts.sort_keys {
            e.sort_by(|a, b| a.0.cmp(b.0));
        }
        e
    }

    fn flow_node(&mut self, v: &J, indent: usize) {
        match v {
            J::Array(a) => {
                self.write("[");
                for (i, x) in a.iter().enumerate() {
                    if i > 0 {
                        self.write(", ");
                    }
                    self.flow_node(x, indent + self.opts.indent);
                }
                self.write("]");
            }
            J::Object(o) => {
                self.write("{");
                for (i, (k, x)) in self.entries(o).into_iter().enumerate() {
                    if i > 0 {
                        self.write(", ");
                    }
                    self.string(k, true, true, indent + self.opts.indent);
                    self.write(": ");
                    self.flow_node(x, indent + self.opts.indent);
                }
                self.write("}");
            }
            other => self.scalar(other, true, false, indent),
        }
    }

    /// A node at block level; the cursor is where the node starts.
    fn block_node(&mut self, v: &J, indent: usize) {
        if is_scalar(v) {
            self.scalar(v, false, false, indent);
        } else if self.flow_style(v) {
            self.flow_node(v, indent);
        } else {
            match v {
                J::Array(a) => self.block_seq(a, indent),
                J::Object(o) => self.block_map(o, indent),
                _ => {}
            }
        }
    }

    fn block_seq(&mut self, a: &[J], indent: usize) {
        for (i, x) in a.iter().enumerate() {
            if i > 0 {
                self.newline_indent(indent);
            }
            self.write("-");
            let inner = indent + self.opts.indent;
            if is_scalar(x) || self.flow_style(x) {
                self.write(" ");
                self.block_node(x, inner);
            } else {
                let pad = inner.saturating_sub(self.column).max(1);
                self.write(&" ".repeat(pad));
                self.block_node(x, inner);
            }
        }
    }

    fn block_map(&mut self, o: &serde_json::Map<String, J>, indent: usize) {
        for (i, (k, x)) in self.entries(o).into_iter().enumerate() {
            if i > 0 {
                self.newline_indent(indent);
            }
            self.string(k, false, true, indent);
            self.write(":");
            if is_scalar(x) || self.flow_style(x) {
                self.write(" ");
                self.block_node(x, indent + self.opts.indent);
            } else if matches!(x, J::Array(_)) {
                // PyYAML writes sequences inside mappings without extra indentation
                self.newline_indent(indent);
                self.block_node(x, indent);
            } else {
                self.newline_indent(indent + self.opts.indent);
                self.block_node(x, indent + self.opts.indent);
            }
        }
    }
}

/// Dump `v` as PyYAML's `yaml.dump` would (document end marker for a lone plain scalar).
pub fn dump(v: &J, opts: YamlOpts) -> String {
    let mut e = Emitter {
        out: String::new(),
        column: 0,
        opts,
    };
    e.block_node(v, 0);
    e.out.push('\n');
    if let J::String(s) = v {
        if choose_style(s, false, false) == Style::Plain {
            e.out.push_str("...\n");
        }
    } else if is_scalar(v) {
        e.out.push_str("...\n");
    }
    e.out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn pyyaml_styles() {
        let data = json!({"zeta": 1, "alpha": [1, "two", true, null], "mid": {"b": 2, "a": "é"}});
        assert_eq!(
            dump(&data, YamlOpts::default()),
            "alpha: [1, two, true, null]\nmid: {a: é, b: 2}\nzeta: 1\n"
        );
        let nice = YamlOpts {
            indent: 4,
            flow: Some(false),
            ..Default::default()
        };
        assert_eq!(
            dump(&data, nice),
            "alpha:\n- 1\n- two\n- true\n- null\nmid:\n    a: é\n    b: 2\nzeta: 1\n"
        );
        let nice = YamlOpts {
            indent: 4,
            flow: Some(false),
            ..Default::default()
        };
        assert_eq!(
            dump(&json!({"a": [1, {"b": null}]}), nice),
            "a:\n- 1\n-   b: null\n"
        );
        assert_eq!(
            dump(
                &json!(["x y", "a: b", "", "yes", "1", 1.5]),
                YamlOpts::default()
            ),
            "[x y, 'a: b', '', 'yes', '1', 1.5]\n"
        );
        assert_eq!(dump(&json!("plain"), YamlOpts::default()), "plain\n...\n");
    }
}
