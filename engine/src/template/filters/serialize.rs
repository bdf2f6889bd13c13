//! Serialisation filters: `to_json`/`to_nice_json` (Python's `json.dumps` output byte for byte),
//! `from_json`, `to_yaml`/`to_nice_yaml` (PyYAML's style) and `from_yaml`/`from_yaml_all`.

use minijinja::value::Value;
use minijinja::{Environment, Error};
use serde_json::Value as J;

use super::{add, defined, err, plugin_err, Args};
use crate::template::convert::{to_json, to_mj_static};
use crate::template::pyrepr::{float_repr, py_str};
use crate::template::yaml_emit::{dump, YamlOpts};

/// Python's `json.dumps` string escaping (`ensure_ascii=True`).
fn json_str(s: &str, ensure_ascii: bool, out: &mut String) {
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
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c if ensure_ascii && (c as u32) > 0x7e => {
                let mut buf = [0u16; 2];
                for u in c.encode_utf16(&mut buf) {
                    out.push_str(&format!("\\u{:04x}", u));
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Options of Python's `json.dumps`.
pub(crate) struct JsonOpts {
    pub indent: Option<usize>,
    pub sort_keys: bool,
    pub ensure_ascii: bool,
    pub item_sep: String,
    pub key_sep: String,
}

/// Python's `json.dumps(v, ...)`.
pub(crate) fn dumps(v: &J, o: &JsonOpts) -> String {
    let mut out = String::new();
    write_json(v, o, 0, &mut out);
    out
}

fn write_json(v: &J, o: &JsonOpts, level: usize, out: &mut String) {
    match v {
        J::Null => out.push_str("null"),
        J::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        J::Number(n) => {
            if n.is_f64() {
                let f = n.as_f64().unwrap_or(0.0);
                out.push_str(&match float_repr(f).as_str() {
                    "inf" => "Infinity".into(),
                    "-inf" => "-Infinity".into(),
                    "nan" => "NaN".into(),
                    r => r.to_string(),
                })
            } else {
                out.push_str(&n.to_string())
            }
        }
        J::String(s) => json_str(s, o.ensure_ascii, out),
        J::Array(a) => {
            if a.is_empty() {
                out.push_str("[]");
                return;
            }
            out.push('[');
            for (i, x) in a.iter().enumerate() {
                if i > 0 {
                    out.push_str(&o.item_sep);
                }
                if let Some(ind) = o.indent {
                    out.push('\n');
                    out.push_str(&" ".repeat(ind * (level + 1)));
                }
                write_json(x, o, level + 1, out);
            }
            if let Some(ind) = o.indent {
                out.push('\n');
                out.push_str(&" ".repeat(ind * level));
            }
            out.push(']');
        }
        J::Object(m) => {
            if m.is_empty() {
                out.push_str("{}");
                return;
            }
            let mut entries: Vec<_> = m.iter().collect();
            if o.sort_keys {
                entries.sort_by(|a, b| a.0.cmp(b.0));
            }
            out.push('{');
            for (i, (k, x)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push_str(&o.item_sep);
                }
                if let Some(ind) = o.indent {
                    out.push('\n');
                    out.push_str(&" ".repeat(ind * (level + 1)));
                }
                json_str(k, o.ensure_ascii, out);
                out.push_str(&o.key_sep);
                write_json(x, o, level + 1, out);
            }
            if let Some(ind) = o.indent {
                out.push('\n');
                out.push_str(&" ".repeat(ind * level));
            }
            out.push('}');
        }
    }
}

fn data(v: &Value) -> Result<J, Error> {
    defined(v)?;
    to_json(v).map_err(|e| err(e.message().to_string()))
}

fn json_opts(a: &Args, nice: bool) -> JsonOpts {
    let indent = match a.get(99, "indent") {
        Some(i) if i.is_none() => None,
        Some(i) => i.as_i64().map(|n| n.max(0) as usize),
        None => {
            if nice {
                Some(4)
            } else {
                None
            }
        }
    };
    let sort_keys = a.kw("sort_keys").map(super::truthy_arg).unwrap_or(nice);
    let ensure_ascii = a.kw("ensure_ascii").map(super::truthy_arg).unwrap_or(true);
    let item_sep = if indent.is_some() { "," } else { ", " }.to_string();
    JsonOpts {
        indent,
        sort_keys,
        ensure_ascii,
        item_sep,
        key_sep: ": ".into(),
    }
}

/// YAML text (yaml-rust2 for now; the crate's YAML 1.1 loader replaces it once merged) to JSON.
pub(crate) fn yaml_to_json(y: &yaml_rust2::Yaml) -> J {
    use yaml_rust2::Yaml;
    match y {
        Yaml::Real(s) => s
            .parse::<f64>()
            .ok()
            .and_then(serde_json::Number::from_f64)
            .map(J::Number)
            .unwrap_or(J::String(s.clone())),
        Yaml::Integer(i) => J::from(*i),
        Yaml::String(s) => J::String(s.clone()),
        Yaml::Boolean(b) => J::Bool(*b),
        Yaml::Array(a) => J::Array(a.iter().map(yaml_to_json).collect()),
        Yaml::Hash(h) => {
            let mut m = serde_json::Map::new();
            for (k, v) in h {
                let key = match yaml_to_json(k) {
                    J::String(s) => s,
                    other => crate::template::pyrepr::json_repr(&other),
                };
                m.insert(key, yaml_to_json(v));
            }
            J::Object(m)
        }
        Yaml::Alias(_) | Yaml::Null | Yaml::BadValue => J::Null,
    }
}

fn load_yaml(name: &str, s: &str) -> Result<Vec<J>, Error> {
    let docs = yaml_rust2::YamlLoader::load_from_str(s).map_err(|e| plugin_err(name, e))?;
    Ok(docs.iter().map(yaml_to_json).collect())
}

pub(crate) fn register(env: &mut Environment<'static>) {
    add(env, &["to_json"], |a, v| {
        Ok(Value::from(dumps(&data(&v)?, &json_opts(a, false))))
    });
    add(env, &["to_nice_json"], |a, v| {
        Ok(Value::from(dumps(&data(&v)?, &json_opts(a, true))))
    });
    add(env, &["from_json"], |_, v| {
        defined(&v)?;
        let s = py_str(&v);
        let j: J = serde_json::from_str(&s).map_err(|e| plugin_err("from_json", e))?;
        Ok(to_mj_static(&j))
    });
    add(env, &["to_yaml"], |a, v| {
        let flow = match a.kw("default_flow_style") {
            Some(f) if f.is_none() => None,
            Some(f) => Some(f.is_true()),
            None => None,
        };
        let opts = YamlOpts {
            indent: a.int(99, "indent").unwrap_or(2).max(1) as usize,
            flow,
            sort_keys: a.kw("sort_keys").map(super::truthy_arg).unwrap_or(true),
            width: a.int(99, "width").unwrap_or(80).max(1) as usize,
        };
        Ok(Value::from(dump(&data(&v)?, opts)))
    });
    add(env, &["to_nice_yaml"], |a, v| {
        let opts = YamlOpts {
            indent: a.int(0, "indent").unwrap_or(4).max(1) as usize,
            flow: Some(false),
            sort_keys: a.kw("sort_keys").map(super::truthy_arg).unwrap_or(true),
            width: a.int(99, "width").unwrap_or(80).max(1) as usize,
        };
        Ok(Value::from(dump(&data(&v)?, opts)))
    });
    add(env, &["from_yaml"], |_, v| {
        defined(&v)?;
        let docs = load_yaml("from_yaml", &py_str(&v))?;
        Ok(to_mj_static(&docs.into_iter().next().unwrap_or(J::Null)))
    });
    add(env, &["from_yaml_all"], |_, v| {
        defined(&v)?;
        Ok(to_mj_static(&J::Array(load_yaml(
            "from_yaml_all",
            &py_str(&v),
        )?)))
    });
}
