//! Python methods on values (`s.split()`, `d.items()`, `l.index(x)`, `'{}'.format(x)`), which
//! Ansible templates use freely because Jinja runs on Python objects.

use minijinja::value::{Value, ValueKind};
use minijinja::{Error, ErrorKind, State};

use super::pyformat::str_format;
use super::pyrepr::{py_str, py_type_name};

fn err(msg: impl Into<String>) -> Error {
    Error::new(ErrorKind::InvalidOperation, msg.into())
}

/// Positional args and kwargs, split.
pub(crate) fn split_args(args: &[Value]) -> (Vec<Value>, Vec<(String, Value)>) {
    let mut pos = Vec::new();
    let mut kw = Vec::new();
    for a in args {
        if a.is_kwargs() {
            if let Ok(keys) = a.try_iter() {
                for k in keys {
                    let v = a.get_item(&k).unwrap_or_default();
                    kw.push((py_str(&k), v));
                }
            }
        } else {
            pos.push(a.clone());
        }
    }
    (pos, kw)
}

fn arg<'a>(pos: &'a [Value], kw: &'a [(String, Value)], i: usize, name: &str) -> Option<&'a Value> {
    pos.get(i)
        .or_else(|| kw.iter().find(|(k, _)| k == name).map(|(_, v)| v))
        .filter(|v| !v.is_none())
}

fn str_arg(pos: &[Value], kw: &[(String, Value)], i: usize, name: &str) -> Option<String> {
    arg(pos, kw, i, name).map(py_str)
}

fn list(items: Vec<Value>) -> Value {
    Value::from(items)
}

/// Python's `str.split(sep=None, maxsplit=-1)`.
pub(crate) fn py_split(s: &str, sep: Option<&str>, maxsplit: i64) -> Vec<String> {
    let mut out = Vec::new();
    match sep {
        None => {
            let mut rest = s.trim_start();
            let mut n = 0;
            while !rest.is_empty() {
                if maxsplit >= 0 && n >= maxsplit {
                    out.push(rest.trim_end().to_string());
                    return out;
                }
                match rest.find(char::is_whitespace) {
                    Some(p) => {
                        out.push(rest[..p].to_string());
                        rest = rest[p..].trim_start();
                        n += 1;
                    }
                    None => {
                        out.push(rest.to_string());
                        rest = "";
                    }
                }
            }
        }
        Some(sep) => {
            if maxsplit < 0 {
                out = s.split(sep).map(String::from).collect();
            } else {
                out = s
                    .splitn(maxsplit as usize + 1, sep)
                    .map(String::from)
                    .collect();
            }
        }
    }
    out
}

fn py_rsplit(s: &str, sep: Option<&str>, maxsplit: i64) -> Vec<String> {
    match sep {
        Some(sep) if maxsplit >= 0 => {
            let mut v: Vec<String> = s
                .rsplitn(maxsplit as usize + 1, sep)
                .map(String::from)
                .collect();
            v.reverse();
            v
        }
        None if maxsplit >= 0 => {
            let rev: String = s.chars().rev().collect();
            let mut parts: Vec<String> = py_split(&rev, None, maxsplit)
                .into_iter()
                .map(|p| p.chars().rev().collect())
                .collect();
            parts.reverse();
            parts
        }
        _ => py_split(s, sep, -1),
    }
}

fn strip_chars<'a>(s: &'a str, chars: Option<&str>, left: bool, right: bool) -> &'a str {
    let f = |c: char| match chars {
        Some(set) => set.contains(c),
        None => c.is_whitespace(),
    };
    let mut r = s;
    if left {
        r = r.trim_start_matches(f);
    }
    if right {
        r = r.trim_end_matches(f);
    }
    r
}

fn prefix_test(s: &str, arg: Option<&Value>, start: bool) -> Result<Value, Error> {
    let Some(a) = arg else {
        return Err(err("startswith takes at least 1 argument"));
    };
    let cands: Vec<String> = if a.kind() == ValueKind::Seq {
        a.try_iter()?.map(|v| py_str(&v)).collect()
    } else {
        vec![py_str(a)]
    };
    Ok(Value::from(cands.iter().any(|c| {
        if start {
            s.starts_with(c.as_str())
        } else {
            s.ends_with(c.as_str())
        }
    })))
}

/// Python's `str.title()`: capitalise after every non-letter.
pub(crate) fn py_title(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut prev_cased = false;
    for c in s.chars() {
        if prev_cased {
            out.extend(c.to_lowercase());
        } else {
            out.extend(c.to_uppercase());
        }
        prev_cased = c.is_alphabetic();
    }
    out
}

/// Python's `str.capitalize()`.
pub(crate) fn py_capitalize(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(f) => f
            .to_uppercase()
            .chain(chars.flat_map(|c| c.to_lowercase()))
            .collect(),
        None => String::new(),
    }
}

fn char_index(s: &str, byte: usize) -> i64 {
    s[..byte].chars().count() as i64
}

fn string_method(
    s: &str,
    method: &str,
    pos: &[Value],
    kw: &[(String, Value)],
) -> Result<Value, Error> {
    let a0 = str_arg(pos, kw, 0, "sep");
    Ok(match method {
        "split" => {
            let max = arg(pos, kw, 1, "maxsplit")
                .and_then(|v| v.as_i64())
                .unwrap_or(-1);
            list(
                py_split(s, a0.as_deref(), max)
                    .into_iter()
                    .map(Value::from)
                    .collect(),
            )
        }
        "rsplit" => {
            let max = arg(pos, kw, 1, "maxsplit")
                .and_then(|v| v.as_i64())
                .unwrap_or(-1);
            list(
                py_rsplit(s, a0.as_deref(), max)
                    .into_iter()
                    .map(Value::from)
                    .collect(),
            )
        }
        "strip" => Value::from(strip_chars(
            s,
            str_arg(pos, kw, 0, "chars").as_deref(),
            true,
            true,
        )),
        "lstrip" => Value::from(strip_chars(
            s,
            str_arg(pos, kw, 0, "chars").as_deref(),
            true,
            false,
        )),
        "rstrip" => Value::from(strip_chars(
            s,
            str_arg(pos, kw, 0, "chars").as_deref(),
            false,
            true,
        )),
        "startswith" => prefix_test(s, pos.first(), true)?,
        "endswith" => prefix_test(s, pos.first(), false)?,
        "upper" => Value::from(s.to_uppercase()),
        "lower" | "casefold" => Value::from(s.to_lowercase()),
        "title" => Value::from(py_title(s)),
        "capitalize" => Value::from(py_capitalize(s)),
        "swapcase" => Value::from(
            s.chars()
                .map(|c| {
                    if c.is_uppercase() {
                        c.to_lowercase().collect::<String>()
                    } else {
                        c.to_uppercase().collect()
                    }
                })
                .collect::<String>(),
        ),
        "replace" => {
            let old = str_arg(pos, kw, 0, "old").unwrap_or_default();
            let new = str_arg(pos, kw, 1, "new").unwrap_or_default();
            match arg(pos, kw, 2, "count").and_then(|v| v.as_i64()) {
                Some(n) if n >= 0 => Value::from(s.replacen(&old, &new, n as usize)),
                _ => Value::from(s.replace(&old, &new)),
            }
        }
        "format" => Value::from(str_format(s, pos, kw)?),
        "join" => {
            let items = pos
                .first()
                .ok_or_else(|| err("join() takes exactly one argument"))?;
            let mut parts = Vec::new();
            let mut total = 0usize;
            for it in items.try_iter()? {
                if it.kind() != ValueKind::String {
                    return Err(err(format!(
                        "sequence item {}: expected str instance, {} found",
                        parts.len(),
                        py_type_name(&it)
                    )));
                }
                parts.push(py_str(&it));
                total += parts.last().map_or(0, String::len) + s.len();
                if total > crate::template::MAX_TEXT_BYTES {
                    return Err(err(crate::template::too_large().message()));
                }
            }
            Value::from(parts.join(s))
        }
        "find" | "index" | "rfind" | "rindex" => {
            let sub = str_arg(pos, kw, 0, "sub").unwrap_or_default();
            let found = if method.starts_with('r') {
                s.rfind(&sub)
            } else {
                s.find(&sub)
            };
            match found {
                Some(b) => Value::from(char_index(s, b)),
                None if method.ends_with("find") => Value::from(-1),
                None => return Err(err("substring not found")),
            }
        }
        "count" => {
            let sub = str_arg(pos, kw, 0, "sub").unwrap_or_default();
            if sub.is_empty() {
                Value::from(s.chars().count() as i64 + 1)
            } else {
                Value::from(s.matches(&sub).count() as i64)
            }
        }
        "splitlines" => {
            let keep = arg(pos, kw, 0, "keepends")
                .map(|v| v.is_true())
                .unwrap_or(false);
            let mut out = Vec::new();
            let mut rest = s;
            while !rest.is_empty() {
                match rest.find(['\n', '\r']) {
                    Some(p) => {
                        let nl = if rest[p..].starts_with("\r\n") { 2 } else { 1 };
                        out.push(Value::from(if keep { &rest[..p + nl] } else { &rest[..p] }));
                        rest = &rest[p + nl..];
                    }
                    None => {
                        out.push(Value::from(rest));
                        rest = "";
                    }
                }
            }
            list(out)
        }
        "isdigit" | "isnumeric" | "isdecimal" => {
            Value::from(!s.is_empty() && s.chars().all(|c| c.is_ascii_digit() || c.is_numeric()))
        }
        "isalpha" => Value::from(!s.is_empty() && s.chars().all(char::is_alphabetic)),
        "isalnum" => Value::from(!s.is_empty() && s.chars().all(char::is_alphanumeric)),
        "isspace" => Value::from(!s.is_empty() && s.chars().all(char::is_whitespace)),
        "isupper" => {
            Value::from(s.chars().any(char::is_alphabetic) && !s.chars().any(char::is_lowercase))
        }
        "islower" => {
            Value::from(s.chars().any(char::is_alphabetic) && !s.chars().any(char::is_uppercase))
        }
        "istitle" => Value::from(!s.is_empty() && py_title(s) == s),
        "isidentifier" => Value::from(
            s.chars()
                .next()
                .is_some_and(|c| c.is_alphabetic() || c == '_')
                && s.chars().all(|c| c.is_alphanumeric() || c == '_'),
        ),
        "zfill" => {
            // A negative width pads nothing, as in Python.
            let w = pos.first().and_then(|v| v.as_i64()).unwrap_or(0).max(0) as usize;
            super::check_text_len(w)?;
            let n = s.chars().count();
            if n >= w {
                Value::from(s)
            } else if let Some(r) = s.strip_prefix(['-', '+']) {
                Value::from(format!("{}{}{}", &s[..1], "0".repeat(w - n), r))
            } else {
                Value::from(format!("{}{}", "0".repeat(w - n), s))
            }
        }
        "center" | "ljust" | "rjust" => {
            // A negative width pads nothing, as in Python.
            let w = pos.first().and_then(|v| v.as_i64()).unwrap_or(0).max(0) as usize;
            let fill = pos.get(1).map(py_str).unwrap_or_else(|| " ".into());
            super::check_text_len(w.saturating_mul(fill.len().max(1)))?;
            let n = s.chars().count();
            if n >= w {
                Value::from(s)
            } else {
                let pad = w - n;
                let (l, r) = match method {
                    "ljust" => (0, pad),
                    "rjust" => (pad, 0),
                    // CPython centres with the extra space on the left when the text length is odd
                    _ => {
                        let left = pad / 2 + (pad & w & 1);
                        (left, pad - left)
                    }
                };
                Value::from(format!("{}{s}{}", fill.repeat(l), fill.repeat(r)))
            }
        }
        "partition" | "rpartition" => {
            let sep = str_arg(pos, kw, 0, "sep").unwrap_or_default();
            let found = if method == "partition" {
                s.find(&sep)
            } else {
                s.rfind(&sep)
            };
            match found {
                Some(p) => list(vec![
                    Value::from(&s[..p]),
                    Value::from(sep.as_str()),
                    Value::from(&s[p + sep.len()..]),
                ]),
                None if method == "partition" => {
                    list(vec![Value::from(s), Value::from(""), Value::from("")])
                }
                None => list(vec![Value::from(""), Value::from(""), Value::from(s)]),
            }
        }
        "removeprefix" => {
            let p = str_arg(pos, kw, 0, "prefix").unwrap_or_default();
            Value::from(s.strip_prefix(p.as_str()).unwrap_or(s))
        }
        "removesuffix" => {
            let p = str_arg(pos, kw, 0, "suffix").unwrap_or_default();
            Value::from(s.strip_suffix(p.as_str()).unwrap_or(s))
        }
        "encode" | "decode" => Value::from(s),
        "expandtabs" => Value::from(s.replace('\t', "        ")),
        _ => return Err(Error::from(ErrorKind::UnknownMethod)),
    })
}

fn map_method(
    v: &Value,
    method: &str,
    pos: &[Value],
    kw: &[(String, Value)],
) -> Result<Value, Error> {
    let keys: Vec<Value> = v.try_iter()?.collect();
    Ok(match method {
        "keys" => list(keys),
        "values" => list(
            keys.iter()
                .map(|k| v.get_item(k).unwrap_or_default())
                .collect(),
        ),
        "items" => list(
            keys.iter()
                .map(|k| Value::from(vec![k.clone(), v.get_item(k).unwrap_or_default()]))
                .collect(),
        ),
        "get" => {
            let key = pos.first().cloned().unwrap_or_default();
            let dflt = pos
                .get(1)
                .cloned()
                .or_else(|| {
                    kw.iter()
                        .find(|(k, _)| k == "default")
                        .map(|(_, v)| v.clone())
                })
                .unwrap_or(Value::from(()));
            if keys.contains(&key) {
                v.get_item(&key).unwrap_or(dflt)
            } else {
                dflt
            }
        }
        "copy" => v.clone(),
        "__contains__" | "has_key" => {
            Value::from(keys.contains(&pos.first().cloned().unwrap_or_default()))
        }
        _ => return Err(Error::from(ErrorKind::UnknownMethod)),
    })
}

fn seq_method(v: &Value, method: &str, pos: &[Value]) -> Result<Value, Error> {
    let items: Vec<Value> = v.try_iter()?.collect();
    let target = pos.first().cloned().unwrap_or_default();
    Ok(match method {
        "index" => match items.iter().position(|x| *x == target) {
            Some(i) => Value::from(i as i64),
            None => {
                return Err(err(format!(
                    "{} is not in list",
                    super::pyrepr::py_repr(&target)
                )))
            }
        },
        "count" => Value::from(items.iter().filter(|x| **x == target).count() as i64),
        "copy" => list(items),
        "append" | "extend" | "insert" | "pop" | "remove" | "clear" | "reverse" | "sort" => {
            // Lists that came from variables or filters are immutable here; the mutation is
            // dropped (templates that rely on it build their list with `{% set x = [] %}`).
            Value::from(())
        }
        _ => return Err(Error::from(ErrorKind::UnknownMethod)),
    })
}

/// minijinja's unknown-method hook: Python methods on strings, dicts, lists and numbers.
pub(crate) fn call_method(
    _state: &State,
    value: &Value,
    method: &str,
    args: &[Value],
) -> Result<Value, Error> {
    let (pos, kw) = split_args(args);
    match value.kind() {
        ValueKind::String => string_method(value.as_str().unwrap_or_default(), method, &pos, &kw),
        ValueKind::Map => map_method(value, method, &pos, &kw),
        ValueKind::Seq | ValueKind::Iterable => seq_method(value, method, &pos),
        ValueKind::Number => match method {
            "is_integer" => Ok(Value::from(
                value.is_integer()
                    || f64::try_from(value.clone())
                        .map(|f| f.fract() == 0.0)
                        .unwrap_or(false),
            )),
            _ => Err(Error::from(ErrorKind::UnknownMethod)),
        },
        ValueKind::Undefined => Err(Error::from(ErrorKind::UndefinedError)),
        _ => Err(Error::from(ErrorKind::UnknownMethod)),
    }
}
