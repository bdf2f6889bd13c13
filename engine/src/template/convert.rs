//! Conversions between `serde_json::Value` (the executor's data) and minijinja values.

use std::sync::Arc;

use minijinja::value::{Value, ValueKind};
use serde_json::Value as J;

use super::error::TemplateError;
use super::mutable::{MutDict, MutList};
use super::undefined::{undefined_error, undefined_message, with_frame};
use super::vars::{FrozenDict, JDict, JList};

/// Already-templated JSON as a minijinja value (containers are wrapped, not copied).
pub fn to_mj_static(v: &J) -> Value {
    match v {
        J::Null => Value::from(()),
        J::Bool(b) => Value::from(*b),
        J::Number(n) => {
            if let Some(i) = n.as_i64() {
                Value::from(i)
            } else if let Some(u) = n.as_u64() {
                Value::from(u)
            } else {
                Value::from(n.as_f64().unwrap_or(f64::NAN))
            }
        }
        J::String(s) => Value::from(s.as_str()),
        J::Array(items) => Value::from_object(JList {
            items: Arc::new(items.clone()),
            owner: None,
        }),
        J::Object(map) => Value::from_object(JDict {
            map: Arc::new(map.clone()),
            owner: None,
        }),
    }
}

/// Data that every host reads and nothing templates (`groups`, the play's host lists),
/// converted once: dicts become dicts of converted values, so that reading `groups['web']`
/// shares the list instead of copying it for every host at every task.
pub fn freeze(v: &J) -> Value {
    match v {
        J::Object(map) => Value::from_object(FrozenDict(
            map.iter().map(|(k, v)| (k.clone(), freeze(v))).collect(),
        )),
        other => to_mj_static(other),
    }
}

/// [`to_mj_static`] for a value the caller owns: containers are wrapped without a copy.
pub(crate) fn to_mj_owned(v: J) -> Value {
    match v {
        J::Array(items) => Value::from_object(JList {
            items: Arc::new(items),
            owner: None,
        }),
        J::Object(map) => Value::from_object(JDict {
            map: Arc::new(map),
            owner: None,
        }),
        other => to_mj_static(&other),
    }
}

fn undefined_in_result() -> TemplateError {
    let message = with_frame(|fr| undefined_message(&fr.misses, ""))
        .unwrap_or_else(|| "undefined variable".to_string());
    undefined_error(message)
}

/// A float as JSON (NaN/inf, which JSON cannot hold, become null).
pub fn json_float(f: f64) -> J {
    serde_json::Number::from_f64(f)
        .map(J::Number)
        .unwrap_or(J::Null)
}

/// A minijinja number as JSON, keeping ints and floats apart.
pub fn number_to_json(v: &Value) -> J {
    if v.is_integer() {
        if let Ok(i) = i64::try_from(v.clone()) {
            return J::from(i);
        }
        if let Ok(u) = u64::try_from(v.clone()) {
            return J::from(u);
        }
    }
    json_float(f64::try_from(v.clone()).unwrap_or(f64::NAN))
}

/// A minijinja value as JSON; an undefined anywhere inside is an error, as in Ansible.
pub fn to_json(v: &Value) -> Result<J, TemplateError> {
    to_json_depth(v, 0, &mut 0)
}

/// `text` counts the bytes of strings copied so far: a lazy `[big] * 1000` is cheap as a
/// template value and gigabytes as data (see [`super::MAX_TEXT_BYTES`]).
fn to_json_depth(v: &Value, depth: usize, text: &mut usize) -> Result<J, TemplateError> {
    if depth > 512 {
        return Err(super::vars::recursion_error());
    }
    if *text > super::MAX_TEXT_BYTES {
        return Err(super::too_large());
    }
    Ok(match v.kind() {
        ValueKind::Undefined => return Err(undefined_in_result()),
        ValueKind::None => J::Null,
        ValueKind::Bool => J::Bool(v.is_true()),
        ValueKind::Number => number_to_json(v),
        ValueKind::String => {
            let text_of = v.as_str().unwrap_or_default();
            *text += text_of.len();
            if *text > super::MAX_TEXT_BYTES {
                return Err(super::too_large());
            }
            J::String(text_of.to_string())
        }
        ValueKind::Bytes => J::String(v.to_string()),
        ValueKind::Seq | ValueKind::Iterable => {
            if let Some(l) = v.downcast_object_ref::<JList>() {
                if l.owner.is_none() {
                    return Ok(J::Array((*l.items).clone()));
                }
            }
            if let Some(l) = v.downcast_object_ref::<MutList>() {
                let items = l.snapshot();
                let mut out = Vec::with_capacity(items.len());
                for item in items.iter() {
                    out.push(to_json_depth(item, depth + 1, text)?);
                }
                return Ok(J::Array(out));
            }
            let mut out = Vec::new();
            if let Ok(iter) = v.try_iter() {
                for item in iter {
                    out.push(to_json_depth(&item, depth + 1, text)?);
                }
            }
            J::Array(out)
        }
        ValueKind::Map => {
            if let Some(d) = v.downcast_object_ref::<JDict>() {
                if d.owner.is_none() {
                    return Ok(J::Object((*d.map).clone()));
                }
            }
            if let Some(d) = v.downcast_object_ref::<MutDict>() {
                let mut out = serde_json::Map::new();
                for (k, item) in d.snapshot() {
                    out.insert(key_string(&k), to_json_depth(&item, depth + 1, text)?);
                }
                return Ok(J::Object(out));
            }
            let mut out = serde_json::Map::new();
            if let Ok(iter) = v.try_iter() {
                for key in iter {
                    let item = v.get_item(&key).unwrap_or(Value::UNDEFINED);
                    out.insert(key_string(&key), to_json_depth(&item, depth + 1, text)?);
                }
            }
            J::Object(out)
        }
        _ => J::String(v.to_string()),
    })
}

/// A dict key as a JSON object key (Python would keep non-string keys; JSON cannot).
pub fn key_string(k: &Value) -> String {
    match k.as_str() {
        Some(s) => s.to_string(),
        None => super::pyrepr::py_str(k),
    }
}
