//! Serialisation filters: `to_json`/`to_nice_json` (Python's `json.dumps` output byte for byte),
//! `from_json`, `to_yaml`/`to_nice_yaml` (PyYAML's style) and `from_yaml`/`from_yaml_all`.

use minijinja::value::Value;
use minijinja::{Environment, Error};
use serde_json::Value as J;

use super::{add, defined, err, plugin_err, Args};
use crate::template::convert::{to_json, to_mj_static};
use crate::template::pyrepr::py_str;
use crate::template::yaml_emit::{dump, YamlOpts};

use crate::output::pyjson::{dumps_with, JsonOpts};

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

/// serde_json's parse errors in the words of Python's `json` module where they coincide.
/// Why the first string (or key) of a deserialized value that is not valid UTF-8 cannot be
/// encoded, as ansible-core's JSON profiles check each one (`MODULE_STRICT_UTF8_RESPONSE`).
fn first_encode_error(value: &J) -> Option<String> {
    match value {
        J::String(s) => crate::surrogate::utf8_encode_error(s),
        J::Array(items) => items.iter().find_map(first_encode_error),
        J::Object(map) => map.iter().find_map(|(k, v)| {
            crate::surrogate::utf8_encode_error(k).or_else(|| first_encode_error(v))
        }),
        _ => None,
    }
}

fn python_json_error(text: &str, e: &serde_json::Error) -> String {
    let (line, col) = (e.line(), e.column());
    let offset: usize = text
        .split_inclusive('\n')
        .take(line.saturating_sub(1))
        .map(|l| l.chars().count())
        .sum::<usize>()
        + col.saturating_sub(1);
    let msg = e.to_string();
    let what = if msg.starts_with("expected value") || msg.starts_with("EOF while parsing a value")
    {
        "Expecting value"
    } else if msg.starts_with("trailing characters") {
        "Extra data"
    } else if msg.starts_with("key must be a string") {
        "Expecting property name enclosed in double quotes"
    } else {
        return msg;
    };
    format!("{what}: line {line} column {col} (char {offset})")
}

/// yaml-rust2 documents to JSON, for `from_yaml_all` (the crate's loader reads one document).
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
    crate::yaml::check_alias_copies(s).map_err(|e| plugin_err(name, e))?;
    let docs = yaml_rust2::YamlLoader::load_from_str(s).map_err(|e| plugin_err(name, e))?;
    Ok(docs.iter().map(yaml_to_json).collect())
}

pub(crate) fn register(env: &mut Environment<'static>) {
    add(env, &["to_json"], |a, v| {
        Ok(Value::from(dumps_with(&data(&v)?, &json_opts(a, false))))
    });
    // Jinja's `tojson`: `json.dumps(sort_keys=True)`, made safe for HTML.
    add(env, &["tojson"], |a, v| {
        let indent = a
            .get(0, "indent")
            .and_then(|i| i.as_i64())
            .map(|n| n.max(0) as usize);
        let text = dumps_with(&data(&v)?, &JsonOpts::python(indent, true, true));
        Ok(Value::from_safe_string(
            text.replace('<', "\\u003c")
                .replace('>', "\\u003e")
                .replace('&', "\\u0026")
                .replace('\'', "\\u0027"),
        ))
    });
    // Jinja's `pprint` is `pprint.pformat`, which prints Ansible's own dict and list types
    // with their `repr` (no sorting, no wrapping).
    add(env, &["pprint"], |_, v| {
        defined(&v)?;
        Ok(Value::from(crate::template::pyrepr::py_repr(&v)))
    });
    add(env, &["to_nice_json"], |a, v| {
        Ok(Value::from(dumps_with(&data(&v)?, &json_opts(a, true))))
    });
    add(env, &["from_json"], |_, v| {
        defined(&v)?;
        let s = py_str(&v);
        // Python's parser accepts a lone surrogate escape (`"\udc80"`), Rust's does not.
        let readable = crate::surrogate::json_with_stand_ins(&s);
        let j: J = serde_json::from_str(readable.as_deref().unwrap_or(&s))
            .map_err(|e| plugin_err("from_json", python_json_error(&s, &e)))?;
        if readable.is_some() && crate::config::module_strict_utf8_response() {
            if let Some(why) = first_encode_error(&j) {
                return Err(plugin_err(
                    "from_json",
                    format!(
                        "Refusing to deserialize an invalid UTF8 string value: {why}{}This check can be disabled with the `MODULE_STRICT_UTF8_RESPONSE` setting.",
                        crate::template::HELP_MARK
                    ),
                ));
            }
        }
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
        // the crate's loader resolves scalars as PyYAML does (YAML 1.1: `yes` is true, `0755` octal)
        let node = crate::yaml::load(&py_str(&v), std::path::Path::new("<string>"))
            .map_err(|e| plugin_err("from_yaml", &e.message))?;
        Ok(to_mj_static(&node.to_value()))
    });
    add(env, &["from_yaml_all"], |_, v| {
        defined(&v)?;
        Ok(to_mj_static(&J::Array(load_yaml(
            "from_yaml_all",
            &py_str(&v),
        )?)))
    });
}
