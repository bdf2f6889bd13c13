//! `set_stats`: custom statistics for the run. The result carries `ansible_stats` (data,
//! per_host, aggregate); the executor adds them up ([`aggregate`]) and the default
//! callback prints them after the recap when ANSIBLE_SHOW_CUSTOM_STATS is on.

use serde_json::{json, Map, Value};

use super::{Args, Module, ModuleCtx, ModuleResult};

pub struct SetStats;

/// The options the action plugin accepts (`_VALID_ARGS`).
const VALID_ARGS: &[&str] = &["aggregate", "data", "per_host"];

impl Module for SetStats {
    fn connects(&self) -> bool {
        false
    }

    fn run(&self, ctx: &mut ModuleCtx<'_>, args: &Args) -> ModuleResult {
        let bad: Vec<&str> = args
            .keys()
            .map(String::as_str)
            .filter(|k| !VALID_ARGS.contains(k))
            .collect();
        if !bad.is_empty() {
            let mut r = super::fail(&format!(
                "Invalid options for {}: {}",
                ctx.task.action_written,
                bad.join(",")
            ));
            r.insert("_ansible_raised".into(), json!(true));
            return r;
        }
        let data = match args.get("data") {
            None => Map::new(),
            Some(Value::Object(m)) => m.clone(),
            Some(_) => {
                return super::action_fail("The 'data' option needs to be a dictionary/hash")
            }
        };
        // boolean(value, strict=False): anything not recognised is false.
        let flag = |name: &str, default: bool| match args.get(name) {
            None | Some(Value::Null) => default,
            Some(v) => super::to_bool(v).unwrap_or(false),
        };
        let per_host = flag("per_host", false);
        let aggregate = flag("aggregate", true);
        for k in data.keys() {
            if !is_identifier(k) {
                let mut r = super::fail(&format!("Invalid variable name '{k}'."));
                r.insert("_ansible_raised".into(), json!(true));
                r.insert("_ansible_raised_key".into(), json!(k));
                r.insert(
                    "_ansible_raised_help".into(),
                    json!("Variable names must be strings starting with a letter or underscore character, and contain only letters, numbers and underscores."),
                );
                return r;
            }
        }
        let mut r = super::ok(false);
        r.insert(
            "ansible_stats".into(),
            json!({"data": data, "per_host": per_host, "aggregate": aggregate}),
        );
        r
    }
}

fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_alphabetic() || c == '_')
        && chars.all(|c| c.is_alphanumeric() || c == '_')
}

/// Python's type of a JSON value as `isinstance` sees it (bool is also an int).
#[derive(PartialEq)]
enum PyType {
    Bool,
    Int,
    Float,
    Str,
    List,
    Dict,
    None,
}

fn py_type(v: &Value) -> PyType {
    match v {
        Value::Bool(_) => PyType::Bool,
        Value::Number(n) if n.is_f64() => PyType::Float,
        Value::Number(_) => PyType::Int,
        Value::String(_) => PyType::Str,
        Value::Array(_) => PyType::List,
        Value::Object(_) => PyType::Dict,
        Value::Null => PyType::None,
    }
}

/// `merge_hash`: mappings merged key by key, recursively; anything else replaced.
fn merge_hash(base: &mut Map<String, Value>, new: &Map<String, Value>) {
    for (k, v) in new {
        match (base.get_mut(k), v) {
            (Some(Value::Object(old)), Value::Object(add)) => merge_hash(old, add),
            _ => {
                base.insert(k.clone(), v.clone());
            }
        }
    }
}

fn as_int(v: &Value) -> Option<i64> {
    match v {
        Value::Bool(b) => Some(i64::from(*b)),
        other => other.as_i64(),
    }
}

/// ansible-core's `AggregateStats.update_custom_stats`: a new key is set; a value of
/// another type than the one held is dropped (`isinstance(new, type(old))`); mappings are
/// merged, numbers added, strings and lists concatenated.
pub fn aggregate(stats: &mut Map<String, Value>, key: &str, new: &Value) {
    let Some(old) = stats.get_mut(key) else {
        stats.insert(key.to_string(), new.clone());
        return;
    };
    let (old_t, new_t) = (py_type(old), py_type(new));
    let same = old_t == new_t || (old_t == PyType::Int && new_t == PyType::Bool);
    if !same {
        return;
    }
    match (&mut *old, new) {
        (Value::Object(o), Value::Object(n)) => merge_hash(o, n),
        (Value::Array(o), Value::Array(n)) => o.extend(n.iter().cloned()),
        (Value::String(o), Value::String(n)) => o.push_str(n),
        (Value::Number(o), Value::Number(n)) if old_t == PyType::Float => {
            let sum = o.as_f64().unwrap_or(0.0) + n.as_f64().unwrap_or(0.0);
            *old = json!(sum);
        }
        // None += None raises in Python; the stat keeps its value.
        (Value::Null, _) => {}
        (o, n) => {
            if let (Some(a), Some(b)) = (as_int(o), as_int(n)) {
                *old = json!(a.saturating_add(b));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn agg(old: Value, new: Value) -> Value {
        let mut m = Map::new();
        m.insert("k".into(), old);
        aggregate(&mut m, "k", &new);
        m["k"].clone()
    }

    #[test]
    fn values_of_one_type_add_up() {
        assert_eq!(agg(json!(1), json!(2)), json!(3));
        assert_eq!(agg(json!(1.5), json!(2.0)), json!(3.5));
        assert_eq!(agg(json!("a"), json!("b")), json!("ab"));
        assert_eq!(agg(json!([1]), json!([2])), json!([1, 2]));
        assert_eq!(
            agg(json!({"a": {"x": 1}, "b": 1}), json!({"a": {"y": 2}})),
            json!({"a": {"x": 1, "y": 2}, "b": 1})
        );
        // True + True is the int 2 in Python; an int takes a bool.
        assert_eq!(agg(json!(true), json!(true)), json!(2));
        assert_eq!(agg(json!(1), json!(true)), json!(2));
    }

    #[test]
    fn a_value_of_another_type_is_dropped() {
        assert_eq!(agg(json!(1), json!("x")), json!(1));
        assert_eq!(agg(json!(1), json!(1.5)), json!(1));
        assert_eq!(agg(json!(true), json!(1)), json!(true));
    }
}
