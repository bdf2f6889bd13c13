//! Mutable list and dict objects for literals written inside templates, so that
//! `{% set acc = [] %}{% set _ = acc.append(x) %}` mutates `acc` as Python's list would.

use std::sync::{Arc, Mutex, MutexGuard};

use indexmap::IndexMap;
use minijinja::value::{Enumerator, Object, ObjectRepr, Value};
use minijinja::{Error, ErrorKind, State};

/// A Python list created by a template literal.
#[derive(Debug, Default)]
pub struct MutList(Mutex<Vec<Value>>);

impl MutList {
    /// A list holding `items`.
    pub fn new(items: Vec<Value>) -> Self {
        MutList(Mutex::new(items))
    }

    fn lock(&self) -> MutexGuard<'_, Vec<Value>> {
        // A poisoned lock only means another render panicked mid-update; the data is still usable.
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A copy of the current items.
    pub fn snapshot(&self) -> Vec<Value> {
        self.lock().clone()
    }
}

fn int_arg(args: &[Value], i: usize) -> Option<i64> {
    args.get(i).and_then(|v| v.as_i64())
}

impl Object for MutList {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Seq
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        let items = self.lock();
        let idx = key.as_i64()?;
        let len = items.len() as i64;
        let real = if idx < 0 { idx + len } else { idx };
        if real < 0 || real >= len {
            return None;
        }
        items.get(real as usize).cloned()
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        Enumerator::Values(self.snapshot())
    }

    fn enumerator_len(self: &Arc<Self>) -> Option<usize> {
        Some(self.lock().len())
    }

    fn call_method(
        self: &Arc<Self>,
        _state: &State<'_, '_>,
        method: &str,
        args: &[Value],
    ) -> Result<Value, Error> {
        let mut items = self.lock();
        match method {
            "append" => {
                items.push(args.first().cloned().unwrap_or_default());
                Ok(Value::from(()))
            }
            "extend" => {
                if let Some(other) = args.first() {
                    items.extend(other.try_iter()?);
                }
                Ok(Value::from(()))
            }
            "insert" => {
                let len = items.len() as i64;
                let mut at = int_arg(args, 0).unwrap_or(len);
                if at < 0 {
                    at = (at + len).max(0);
                }
                let at = (at.min(len)) as usize;
                items.insert(at, args.get(1).cloned().unwrap_or_default());
                Ok(Value::from(()))
            }
            "pop" => {
                let len = items.len() as i64;
                let mut at = int_arg(args, 0).unwrap_or(-1);
                if at < 0 {
                    at += len;
                }
                if at < 0 || at >= len {
                    return Err(Error::new(
                        ErrorKind::InvalidOperation,
                        "pop index out of range",
                    ));
                }
                Ok(items.remove(at as usize))
            }
            "remove" => {
                let target = args.first().cloned().unwrap_or_default();
                match items.iter().position(|v| *v == target) {
                    Some(i) => {
                        items.remove(i);
                        Ok(Value::from(()))
                    }
                    None => Err(Error::new(
                        ErrorKind::InvalidOperation,
                        "list.remove(x): x not in list",
                    )),
                }
            }
            "clear" => {
                items.clear();
                Ok(Value::from(()))
            }
            "reverse" => {
                items.reverse();
                Ok(Value::from(()))
            }
            "sort" => {
                items.sort_by(|a, b| a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal));
                Ok(Value::from(()))
            }
            _ => Err(Error::from(ErrorKind::UnknownMethod)),
        }
    }
}

/// A Python dict created by a template literal.
#[derive(Debug, Default)]
pub struct MutDict(Mutex<IndexMap<Value, Value>>);

impl MutDict {
    /// A dict holding `items`.
    pub fn new(items: IndexMap<Value, Value>) -> Self {
        MutDict(Mutex::new(items))
    }

    fn lock(&self) -> MutexGuard<'_, IndexMap<Value, Value>> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A copy of the current pairs.
    pub fn snapshot(&self) -> Vec<(Value, Value)> {
        self.lock()
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }
}

impl Object for MutDict {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Map
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        let got = self.lock().get(key).cloned();
        if got.is_none() {
            if let Some(k) = key.as_str() {
                super::undefined::record_miss(
                    k,
                    format!("object of type 'dict' has no attribute '{k}'"),
                );
            }
        }
        got
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        Enumerator::Values(self.lock().keys().cloned().collect())
    }

    fn enumerator_len(self: &Arc<Self>) -> Option<usize> {
        Some(self.lock().len())
    }

    fn call_method(
        self: &Arc<Self>,
        _state: &State<'_, '_>,
        method: &str,
        args: &[Value],
    ) -> Result<Value, Error> {
        match method {
            "update" => {
                let mut pairs = Vec::new();
                for a in args {
                    for k in a.try_iter()? {
                        let v = a.get_item(&k)?;
                        pairs.push((k, v));
                    }
                }
                let mut map = self.lock();
                for (k, v) in pairs {
                    map.insert(k, v);
                }
                Ok(Value::from(()))
            }
            "pop" => {
                let key = args.first().cloned().unwrap_or_default();
                match self.lock().shift_remove(&key) {
                    Some(v) => Ok(v),
                    None => args.get(1).cloned().ok_or_else(|| {
                        Error::new(ErrorKind::InvalidOperation, format!("KeyError: {key}"))
                    }),
                }
            }
            "setdefault" => {
                let key = args.first().cloned().unwrap_or_default();
                let dflt = args.get(1).cloned().unwrap_or(Value::from(()));
                Ok(self.lock().entry(key).or_insert(dflt).clone())
            }
            "clear" => {
                self.lock().clear();
                Ok(Value::from(()))
            }
            _ => Err(Error::from(ErrorKind::UnknownMethod)),
        }
    }
}
