//! JSON as Python's `json.dumps` writes it, the one writer every Ansible-shaped output uses
//! (callback results, `to_json`/`to_nice_json`, `ansible-inventory --list`): its separators,
//! optional indent and key sorting, `ensure_ascii`, and floats as Python spells them.

use serde_json::Value;

use crate::template::pyrepr::float_repr;

/// The arguments of Python's `json.dumps` that change the text.
#[derive(Debug, Clone)]
pub struct JsonOpts {
    pub indent: Option<usize>,
    pub sort_keys: bool,
    /// Escape every non-ASCII character as `\uXXXX` (Python's default).
    pub ensure_ascii: bool,
    pub item_sep: String,
    pub key_sep: String,
}

impl JsonOpts {
    /// Python's defaults for `indent`: `", "` between items without indent, `","` with it.
    pub fn python(indent: Option<usize>, sort_keys: bool, ensure_ascii: bool) -> JsonOpts {
        JsonOpts {
            indent,
            sort_keys,
            ensure_ascii,
            item_sep: if indent.is_some() { "," } else { ", " }.into(),
            key_sep: ": ".into(),
        }
    }
}

/// `json.dumps(value, indent=indent, sort_keys=sort_keys, ensure_ascii=False)`, as Ansible's
/// callback writes results.
pub fn dumps(value: &Value, indent: Option<usize>, sort_keys: bool) -> String {
    dumps_with(value, &JsonOpts::python(indent, sort_keys, false))
}

/// `json.dumps` with every option spelled out.
pub fn dumps_with(value: &Value, o: &JsonOpts) -> String {
    let mut out = String::new();
    write_value(&mut out, value, o, 0);
    out
}

fn write_value(out: &mut String, v: &Value, o: &JsonOpts, level: usize) {
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => out.push_str(&number(n)),
        Value::String(s) => write_str(out, s, o.ensure_ascii),
        Value::Array(items) => {
            if items.is_empty() {
                out.push_str("[]");
                return;
            }
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(&o.item_sep);
                }
                newline(out, o.indent, level + 1);
                write_value(out, item, o, level + 1);
            }
            newline(out, o.indent, level);
            out.push(']');
        }
        Value::Object(map) => {
            if map.is_empty() {
                out.push_str("{}");
                return;
            }
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            if o.sort_keys {
                // Python sorts str keys by code point, which is UTF-8 byte order.
                entries.sort_by(|a, b| a.0.cmp(b.0));
            }
            out.push('{');
            for (i, (k, item)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push_str(&o.item_sep);
                }
                newline(out, o.indent, level + 1);
                write_str(out, k, o.ensure_ascii);
                out.push_str(&o.key_sep);
                write_value(out, item, o, level + 1);
            }
            newline(out, o.indent, level);
            out.push('}');
        }
    }
}

fn newline(out: &mut String, indent: Option<usize>, level: usize) {
    if let Some(n) = indent {
        out.push('\n');
        out.push_str(&" ".repeat(n * level));
    }
}

/// A number as `json.dumps` prints it: ints plainly, floats with Python's `repr`, and the
/// non-finite ones as `NaN`/`Infinity`.
pub fn number(n: &serde_json::Number) -> String {
    if n.is_f64() {
        let f = n.as_f64().unwrap_or(0.0);
        return match float_repr(f).as_str() {
            "inf" => "Infinity".into(),
            "-inf" => "-Infinity".into(),
            "nan" => "NaN".into(),
            r => r.to_string(),
        };
    }
    n.to_string()
}

fn write_str(out: &mut String, s: &str, ensure_ascii: bool) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            // A lone surrogate is one code unit (`json.dumps` escapes it as such).
            c if ensure_ascii && crate::surrogate::surrogate_of(c).is_some() => {
                let unit = crate::surrogate::surrogate_of(c).unwrap_or_default();
                out.push_str(&format!("\\u{unit:04x}"));
            }
            c if (c as u32) < 0x20 || (ensure_ascii && (c as u32) > 0x7e) => {
                let mut buf = [0u16; 2];
                for unit in c.encode_utf16(&mut buf) {
                    out.push_str(&format!("\\u{unit:04x}"));
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn compact_like_python() {
        let v = json!({"msg": "x", "changed": false, "n": [1, 2.5, 3.0]});
        assert_eq!(
            dumps(&v, None, true),
            r#"{"changed": false, "msg": "x", "n": [1, 2.5, 3.0]}"#
        );
    }

    #[test]
    fn indented_like_python() {
        let v = json!({"msg": ["a", {}], "b": []});
        assert_eq!(
            dumps(&v, Some(4), true),
            "{\n    \"b\": [],\n    \"msg\": [\n        \"a\",\n        {}\n    ]\n}"
        );
    }

    #[test]
    fn ensure_ascii_escapes_as_python() {
        let v = json!(["é", "😀"]);
        assert_eq!(
            dumps_with(&v, &JsonOpts::python(None, true, true)),
            r#"["\u00e9", "\ud83d\ude00"]"#
        );
        assert_eq!(dumps(&v, None, true), "[\"é\", \"😀\"]");
        // A lone surrogate (bytes that were not UTF-8) is one escape, as Python writes it.
        let lone = json!(crate::surrogate::decode_surrogateescape(b"a\xe9"));
        assert_eq!(
            dumps_with(&lone, &JsonOpts::python(None, true, true)),
            r#""a\udce9""#
        );
    }

    #[test]
    fn floats() {
        let f = |x: f64| number(&serde_json::Number::from_f64(x).unwrap());
        assert_eq!(f(1.0), "1.0");
        assert_eq!(f(0.1), "0.1");
        assert_eq!(f(1e16), "1e+16");
        assert_eq!(f(1.5e-5), "1.5e-05");
    }
}
