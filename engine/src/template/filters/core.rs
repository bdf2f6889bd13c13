//! Core filters: defaults, type conversions, ternary, dict shaping, combine, type_debug.

use indexmap::IndexMap;
use minijinja::value::{Value, ValueKind};
use minijinja::Environment;

use super::{add, defined, err, items, plugin_err, truthy_arg};
use crate::template::convert::to_json;
use crate::template::mutable::MutDict;
use crate::template::pyrepr::{py_repr, py_str, py_type_name};

pub(crate) fn register(env: &mut Environment<'static>) {
    add(env, &["default", "d"], |a, v| {
        let dflt = a
            .get(0, "default_value")
            .cloned()
            .unwrap_or(Value::from(""));
        let boolean = a.bool(1, "boolean", false);
        if v.is_undefined() || (boolean && !v.is_true()) {
            Ok(dflt)
        } else {
            Ok(v)
        }
    });
    add(env, &["mandatory"], |a, v| {
        if v.is_undefined() {
            match a.str(0, "msg") {
                Some(msg) => Err(plugin_err("mandatory", msg)),
                None => {
                    // ansible-core names the undefined value (`_undefined_name`): the name
                    // whose lookup just missed, the last one this render recorded.
                    let name = crate::template::undefined::with_frame(|f| {
                        f.misses.last().map(|m| m.key.clone())
                    })
                    .flatten()
                    .map(|n| format!("{} ", py_repr(&Value::from(n))))
                    .unwrap_or_default();
                    Err(plugin_err(
                        "mandatory",
                        format!("Mandatory variable {name}not defined."),
                    ))
                }
            }
        } else {
            Ok(v)
        }
    });
    add(env, &["bool"], |_, v| {
        defined(&v)?;
        Ok(Value::from(to_bool(&v)))
    });
    add(env, &["int"], |a, v| {
        defined(&v)?;
        let dflt = a.get(0, "default").cloned().unwrap_or(Value::from(0));
        let base = a.int(1, "base").unwrap_or(10);
        Ok(to_int(&v, base).map(Value::from).unwrap_or(dflt))
    });
    add(env, &["float"], |a, v| {
        defined(&v)?;
        let dflt = a.get(0, "default").cloned().unwrap_or(Value::from(0.0));
        Ok(match v.kind() {
            ValueKind::Number | ValueKind::Bool => {
                Value::from(f64::try_from(v.clone()).unwrap_or(0.0))
            }
            ValueKind::String => match v.as_str().unwrap_or("").trim().parse::<f64>() {
                Ok(f) => Value::from(f),
                Err(_) => dflt,
            },
            _ => dflt,
        })
    });
    add(env, &["string"], |_, v| {
        defined(&v)?;
        Ok(Value::from(py_str(&v)))
    });
    add(env, &["type_debug"], |_, v| {
        Ok(Value::from(py_type_name(&v)))
    });
    add(env, &["ternary"], |a, v| {
        defined(&v)?;
        let t = a.get(0, "true_val").cloned().unwrap_or_default();
        let f = a.get(1, "false_val").cloned().unwrap_or_default();
        if v.is_none() {
            if let Some(n) = a.get(2, "none_val") {
                return Ok(n.clone());
            }
        }
        Ok(if v.is_true() { t } else { f })
    });
    add(env, &["dict2items"], |a, v| {
        defined(&v)?;
        if v.kind() != ValueKind::Map {
            return Err(plugin_err(
                "dict2items",
                format!(
                    "dict2items requires a dictionary, got <class '{}'> instead.",
                    py_type_name(&v)
                ),
            ));
        }
        let kn = a.str(0, "key_name").unwrap_or_else(|| "key".into());
        let vn = a.str(1, "value_name").unwrap_or_else(|| "value".into());
        let mut out = Vec::new();
        for k in v.try_iter()? {
            let val = v.get_item(&k)?;
            out.push(Value::from_iter([(kn.clone(), k), (vn.clone(), val)]));
        }
        Ok(Value::from(out))
    });
    add(env, &["items2dict"], |a, v| {
        defined(&v)?;
        let kn = a.str(0, "key_name").unwrap_or_else(|| "key".into());
        let vn = a.str(1, "value_name").unwrap_or_else(|| "value".into());
        let mut out = IndexMap::new();
        for it in items(&v)? {
            if it.kind() != ValueKind::Map {
                return Err(plugin_err(
                    "items2dict",
                    format!(
                        "items2dict requires a list of dictionaries, got {} instead.",
                        py_type_name(&it)
                    ),
                ));
            }
            let k = it.get_attr(&kn)?;
            let val = it.get_attr(&vn)?;
            if k.is_undefined() || val.is_undefined() {
                return Err(plugin_err(
                    "items2dict",
                    format!(
                        "items2dict requires each dictionary in the list to contain the keys '{kn}' and '{vn}', got {} instead.",
                        py_repr(&v)
                    ),
                ));
            }
            out.insert(k, val);
        }
        Ok(Value::from_object(MutDict::new(out)))
    });
    add(env, &["rekey_on_member"], |a, v| {
        defined(&v)?;
        let key = a.get(0, "key").cloned().unwrap_or_default();
        let duplicates = a.str(1, "duplicates").unwrap_or_else(|| "error".into());
        if duplicates != "error" && duplicates != "overwrite" {
            return Err(plugin_err(
                "rekey_on_member",
                format!(
                    "duplicates parameter to rekey_on_member has unknown value {}",
                    py_repr(&Value::from(duplicates.as_str()))
                ),
            ));
        }
        let members: Vec<Value> = match v.kind() {
            ValueKind::Map => {
                let mut out = Vec::new();
                for k in v.try_iter()? {
                    out.push(v.get_item(&k)?);
                }
                out
            }
            ValueKind::Seq | ValueKind::Iterable => v.try_iter()?.collect(),
            _ => {
                return Err(plugin_err(
                    "rekey_on_member",
                    "Type is not a valid list, set, or dict",
                ))
            }
        };
        let mut out: IndexMap<Value, Value> = IndexMap::new();
        for item in members {
            if item.kind() != ValueKind::Map {
                return Err(plugin_err(
                    "rekey_on_member",
                    "List item is not a valid dict",
                ));
            }
            let elem = item.get_item(&key).unwrap_or(Value::UNDEFINED);
            if elem.is_undefined() {
                return Err(plugin_err(
                    "rekey_on_member",
                    format!("Key {} was not found.", py_repr(&key)),
                ));
            }
            if out.contains_key(&elem) && duplicates == "error" {
                return Err(plugin_err(
                    "rekey_on_member",
                    format!(
                        "Key {} is not unique, cannot convert to dict.",
                        py_repr(&elem)
                    ),
                ));
            }
            out.insert(elem, item);
        }
        Ok(Value::from_object(MutDict::new(out)))
    });
    add(env, &["combine"], |a, v| {
        defined(&v)?;
        if a.kw
            .iter()
            .any(|(k, _)| k != "recursive" && k != "list_merge")
        {
            return Err(plugin_err(
                "combine",
                "'recursive' and 'list_merge' are the only valid keyword arguments",
            ));
        }
        let recursive = a.kw("recursive").map(truthy_arg).unwrap_or(false);
        let list_merge = a
            .kw("list_merge")
            .map(py_str)
            .unwrap_or_else(|| "replace".into());
        // `flatten(terms, levels=1)`: the input and the arguments, lists spliced in, so
        // `[d1, d2] | combine` works too.
        let mut dicts = Vec::new();
        for t in std::iter::once(&v).chain(a.pos.iter()) {
            defined(t)?;
            if t.kind() == ValueKind::Seq {
                dicts.extend(t.try_iter()?);
            } else {
                dicts.push(t.clone());
            }
        }
        match dicts.len() {
            0 => return Ok(Value::from_object(MutDict::new(IndexMap::new()))),
            1 => return Ok(dicts.remove(0)),
            _ => {}
        }
        if ![
            "replace",
            "keep",
            "append",
            "prepend",
            "append_rp",
            "prepend_rp",
        ]
        .contains(&list_merge.as_str())
        {
            return Err(plugin_err(
                "combine",
                "merge_hash: 'list_merge' argument can only be equal to 'replace', 'keep', 'append', 'prepend', 'append_rp' or 'prepend_rp'",
            ));
        }
        // Ansible merges from the right (`merge_hash(lower, result)`): the first pair that is
        // not two dicts, in that order, is the one its error names.
        let mut result_type = py_type_name(&dicts[dicts.len() - 1]);
        for d in dicts[..dicts.len() - 1].iter().rev() {
            if d.kind() != ValueKind::Map || result_type != "dict" {
                return Err(plugin_err(
                    "combine",
                    format!(
                        "failed to combine variables, expected dicts but got a '{}' and a '{result_type}'.",
                        py_type_name(d)
                    ),
                ));
            }
            result_type = "dict";
        }
        let mut acc = serde_json::Map::new();
        for d in dicts {
            if let serde_json::Value::Object(m) =
                to_json(&d).map_err(|e| err(e.message().to_string()))?
            {
                merge(&mut acc, m, recursive, &list_merge);
            }
        }
        Ok(crate::template::convert::to_mj_static(
            &serde_json::Value::Object(acc),
        ))
    });
}

fn merge_lists(
    old: Vec<serde_json::Value>,
    new: Vec<serde_json::Value>,
    mode: &str,
) -> Vec<serde_json::Value> {
    match mode {
        "keep" => old,
        "append" => old.into_iter().chain(new).collect(),
        "prepend" => new.into_iter().chain(old).collect(),
        "append_rp" => {
            let mut out: Vec<_> = old.into_iter().filter(|x| !new.contains(x)).collect();
            out.extend(new);
            out
        }
        "prepend_rp" => {
            let mut out = new.clone();
            out.extend(old.into_iter().filter(|x| !new.contains(x)));
            out
        }
        _ => new,
    }
}

/// Ansible's `merge_hash`.
fn merge(
    acc: &mut serde_json::Map<String, serde_json::Value>,
    new: serde_json::Map<String, serde_json::Value>,
    recursive: bool,
    mode: &str,
) {
    use serde_json::Value as J;
    for (k, nv) in new {
        let merged = match (acc.remove(&k), nv) {
            (Some(J::Object(mut o)), J::Object(n)) if recursive => {
                merge(&mut o, n, recursive, mode);
                J::Object(o)
            }
            (Some(J::Array(o)), J::Array(n)) => J::Array(merge_lists(o, n, mode)),
            (_, nv) => nv,
        };
        // Python's dict keeps the position of an existing key on update.
        acc.insert(k, merged);
    }
}

/// Ansible's `bool` filter (`plugins/filter/core.py`): strings (lowercased, not stripped) and
/// ints (as their text, so `True` is `'true'`) in `yes/on/true/1` are true, in `no/off/false/0`
/// false; anything else falls back to `value == 1` (so `1.0` is true, `'y'` and `2` false).
pub(crate) fn to_bool(v: &Value) -> bool {
    let text = match v.kind() {
        ValueKind::String => Some(v.as_str().unwrap_or("").to_lowercase()),
        ValueKind::Bool => Some(if v.is_true() { "true" } else { "false" }.to_string()),
        ValueKind::Number if v.is_integer() => Some(v.to_string()),
        _ => None,
    };
    match text {
        Some(t) => matches!(t.as_str(), "yes" | "on" | "true" | "1"),
        None => v.kind() == ValueKind::Number && f64::try_from(v.clone()).is_ok_and(|f| f == 1.0),
    }
}

/// Ansible's `boolean()` (`module_utils/parsing/convert_bool.py`) with `strict=True`: `None`
/// where it raises (the value is not one of its booleans).
pub(crate) fn boolean_strict(v: &Value) -> Option<bool> {
    match v.kind() {
        ValueKind::Bool => Some(v.is_true()),
        ValueKind::String => match v.as_str().unwrap_or("").trim().to_lowercase().as_str() {
            "y" | "yes" | "on" | "1" | "true" | "t" => Some(true),
            "n" | "no" | "off" | "0" | "false" | "f" => Some(false),
            _ => None,
        },
        ValueKind::Number => match f64::try_from(v.clone()) {
            Ok(1.0) => Some(true),
            Ok(0.0) => Some(false),
            _ => None,
        },
        _ => None,
    }
}

/// Python's `int(text, base)`: bases 2 to 36 (a prefix such as `0x` allowed when it names
/// the base) or 0 (the prefix decides; decimal otherwise); a sign, surrounding spaces and
/// `_` between digits. `None` where Python raises ValueError (any other base included).
fn python_int_str(text: &str, base: i64) -> Option<i64> {
    if !(base == 0 || (2..=36).contains(&base)) {
        return None;
    }
    let t = text.trim();
    let (negative, t) = match t.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, t.strip_prefix('+').unwrap_or(t)),
    };
    let lower = t.to_ascii_lowercase();
    let prefixed = |p: &str, b: i64| lower.strip_prefix(p).map(|rest| (rest.to_string(), b));
    let (digits, radix, had_prefix) = match prefixed("0x", 16)
        .or_else(|| prefixed("0o", 8))
        .or_else(|| prefixed("0b", 2))
    {
        Some((rest, b)) if base == 0 || base == b => (rest, b, true),
        _ if base == 0 => (lower.clone(), 10, false),
        _ => (lower.clone(), base, false),
    };
    // Underscores only between digits (or right after a prefix).
    let digits = if had_prefix {
        digits.strip_prefix('_').unwrap_or(&digits).to_string()
    } else {
        digits
    };
    if digits.is_empty()
        || digits.starts_with('_')
        || digits.ends_with('_')
        || digits.contains("__")
    {
        return None;
    }
    let clean = digits.replace('_', "");
    if !clean.chars().all(|c| c.is_ascii_alphanumeric()) {
        return None;
    }
    // Base 0 refuses leading zeros in a decimal number other than zero itself.
    if base == 0
        && !had_prefix
        && clean.starts_with('0')
        && !clean.trim_start_matches('0').is_empty()
    {
        return None;
    }
    let n = i64::from_str_radix(&clean, radix as u32).ok()?;
    Some(if negative { -n } else { n })
}

/// Jinja's `int` filter: numbers truncate, strings parse (with base), else None.
pub(crate) fn to_int(v: &Value, base: i64) -> Option<i64> {
    match v.kind() {
        ValueKind::Bool => Some(v.is_true() as i64),
        ValueKind::Number => {
            if v.is_integer() {
                i64::try_from(v.clone()).ok()
            } else {
                f64::try_from(v.clone()).ok().map(|f| f.trunc() as i64)
            }
        }
        ValueKind::String => {
            // Jinja's do_int: `int(value, base)`, else `int(float(value))`, else the default.
            let s = v.as_str().unwrap_or("");
            python_int_str(s, base).or_else(|| {
                let t = s.trim().replace('_', "");
                t.parse::<f64>()
                    .ok()
                    .filter(|f| f.is_finite())
                    .map(|f| f.trunc() as i64)
            })
        }
        _ => None,
    }
}
