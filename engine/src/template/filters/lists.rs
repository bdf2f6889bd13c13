//! List and aggregate filters: set operations, sort/unique, flatten, zip/product, map/select,
//! min/max/sum, random/shuffle, batch/slice/groupby/dictsort, math.

use std::cmp::Ordering;

use indexmap::IndexMap;
use minijinja::value::{Kwargs, Value, ValueKind};
use minijinja::{Environment, Error, ErrorKind};

use super::{add, defined, err, items, plugin_err, truthy_arg, Args};
use crate::template::mutable::MutDict;
use crate::template::pyrepr::{py_str, py_type_name};

/// Python's ordering of two values (`<`), with its TypeError for mixed types.
pub(crate) fn py_cmp(a: &Value, b: &Value, case_sensitive: bool) -> Result<Ordering, Error> {
    let num = |v: &Value| matches!(v.kind(), ValueKind::Number | ValueKind::Bool);
    if num(a) && num(b) {
        // Python's bool is an int (False == 0, True == 1).
        let int = |v: &Value| match v.kind() {
            ValueKind::Bool => Some(i128::from(v.is_true())),
            _ if v.is_integer() => i128::try_from(v.clone()).ok(),
            _ => None,
        };
        if let (Some(x), Some(y)) = (int(a), int(b)) {
            return Ok(x.cmp(&y));
        }
        let float = |v: &Value| match int(v) {
            Some(i) => i as f64,
            None => f64::try_from(v.clone()).unwrap_or(0.0),
        };
        let (x, y) = (float(a), float(b));
        return Ok(x.partial_cmp(&y).unwrap_or(Ordering::Equal));
    }
    match (a.kind(), b.kind()) {
        (ValueKind::String, ValueKind::String) => {
            let (x, y) = (a.as_str().unwrap_or(""), b.as_str().unwrap_or(""));
            if case_sensitive {
                Ok(x.cmp(y))
            } else {
                Ok(x.to_lowercase().cmp(&y.to_lowercase()))
            }
        }
        (ValueKind::Seq, ValueKind::Seq) => {
            let xs: Vec<Value> = a.try_iter()?.collect();
            let ys: Vec<Value> = b.try_iter()?.collect();
            for (x, y) in xs.iter().zip(ys.iter()) {
                let o = py_cmp(x, y, case_sensitive)?;
                if o != Ordering::Equal {
                    return Ok(o);
                }
            }
            Ok(xs.len().cmp(&ys.len()))
        }
        _ => Err(err(format!(
            "'<' not supported between instances of '{}' and '{}'",
            py_type_name(a),
            py_type_name(b)
        ))),
    }
}

/// `a.b.0` attribute paths as Jinja's `make_attrgetter` reads them.
pub(crate) fn get_path(v: &Value, path: &str) -> Value {
    let mut cur = v.clone();
    for part in path.split('.') {
        if cur.is_undefined() {
            return cur;
        }
        let next = match part.parse::<i64>() {
            Ok(i) if cur.kind() == ValueKind::Seq => cur.get_item(&Value::from(i)),
            _ => cur.get_item(&Value::from(part)),
        };
        cur = next.unwrap_or(Value::UNDEFINED);
    }
    cur
}

fn attr_key(v: &Value, attrs: &[String], case_sensitive: bool) -> Value {
    let get = |a: &String| {
        let x = get_path(v, a);
        if !case_sensitive {
            if let Some(s) = x.as_str() {
                return Value::from(s.to_lowercase());
            }
        }
        x
    };
    if attrs.len() == 1 {
        get(&attrs[0])
    } else {
        Value::from(attrs.iter().map(get).collect::<Vec<_>>())
    }
}

fn sort_values(mut xs: Vec<Value>, a: &Args) -> Result<Vec<Value>, Error> {
    let reverse = a.bool(0, "reverse", false);
    let cs = a.bool(1, "case_sensitive", false);
    let attrs: Vec<String> = a
        .str(2, "attribute")
        .map(|s| s.split(',').map(|p| p.trim().to_string()).collect())
        .unwrap_or_default();
    let mut failure = None;
    xs.sort_by(|x, y| {
        let (kx, ky) = if attrs.is_empty() {
            (x.clone(), y.clone())
        } else {
            (attr_key(x, &attrs, cs), attr_key(y, &attrs, cs))
        };
        match py_cmp(&kx, &ky, cs) {
            // Python's sorted(reverse=True) is stable: equal items keep their order, so the
            // comparison is reversed rather than the sorted list.
            Ok(o) if reverse => o.reverse(),
            Ok(o) => o,
            Err(e) => {
                failure.get_or_insert(e);
                Ordering::Equal
            }
        }
    });
    if let Some(e) = failure {
        return Err(e);
    }
    Ok(xs)
}

fn unique(xs: Vec<Value>) -> Vec<Value> {
    let mut out: Vec<Value> = Vec::new();
    for x in xs {
        if !out.contains(&x) {
            out.push(x);
        }
    }
    out
}

/// Python sets iterate small non-negative ints in ascending order; Ansible's set filters return
/// set order for hashable items, so mimic it where it is predictable.
fn set_order(xs: Vec<Value>) -> Vec<Value> {
    let small = xs.iter().all(|x| {
        x.is_integer()
            && x.as_i64()
                .is_some_and(|i| (0..(8 * xs.len().max(1) as i64)).contains(&i))
    });
    if small && !xs.is_empty() {
        let mut v = xs;
        v.sort_by_key(|x| x.as_i64().unwrap_or(0));
        v
    } else {
        xs
    }
}

fn list_of(v: &Value, what: &str) -> Result<Vec<Value>, Error> {
    if v.is_undefined() {
        return Err(Error::from(ErrorKind::UndefinedError));
    }
    items(v).map_err(|_| err(format!("{what} requires a list, got {}", py_type_name(v))))
}

fn flatten(
    xs: &[Value],
    levels: Option<i64>,
    skip_nulls: bool,
    out: &mut Vec<Value>,
) -> Result<(), Error> {
    for x in xs {
        if skip_nulls && (x.is_none() || x.as_str() == Some("None")) {
            continue;
        }
        if x.kind() == ValueKind::Seq && levels != Some(0) {
            let inner: Vec<Value> = x.try_iter()?.collect();
            flatten(&inner, levels.map(|l| l - 1), skip_nulls, out)?;
        } else {
            out.push(x.clone());
        }
    }
    Ok(())
}

fn kwargs_value(kw: &[(String, Value)]) -> Option<Value> {
    if kw.is_empty() {
        None
    } else {
        Some(Value::from(Kwargs::from_iter(
            kw.iter().map(|(k, v)| (k.as_str(), v.clone())),
        )))
    }
}

fn test_args(item: Value, rest: &[Value], kw: &[(String, Value)]) -> Vec<Value> {
    let mut args = vec![item];
    args.extend(rest.iter().cloned());
    args.extend(kwargs_value(kw));
    args
}

fn select_impl(a: &Args, v: Value, want: bool, by_attr: bool) -> Result<Value, Error> {
    let xs = items(&v)?;
    let (attr, rest) = if by_attr {
        (a.pos.first().map(py_str), a.pos.get(1..).unwrap_or(&[]))
    } else {
        (None, &a.pos[..])
    };
    let mut out = Vec::new();
    for x in xs {
        let subject = match &attr {
            Some(path) => get_path(&x, path),
            None => x.clone(),
        };
        let ok = match rest.first() {
            None => {
                if subject.is_undefined() {
                    return Err(missing_attr(&x, attr.as_deref().unwrap_or("")));
                }
                subject.is_true()
            }
            Some(test) => {
                let name = py_str(test);
                if subject.is_undefined() && !matches!(name.as_str(), "defined" | "undefined") {
                    return Err(missing_attr(&x, attr.as_deref().unwrap_or("")));
                }
                a.state
                    .perform_test(&name, &test_args(subject, &rest[1..], &a.kw))?
            }
        };
        if ok == want {
            out.push(x);
        }
    }
    Ok(Value::from(out))
}

fn missing_attr(item: &Value, attr: &str) -> Error {
    let first = attr.split('.').next().unwrap_or(attr);
    super::exact(
        ErrorKind::UndefinedError,
        format!(
            "object of type '{}' has no attribute '{first}'",
            py_type_name(item)
        ),
    )
}

/// Python's `round(x, ndigits)` on a float: the exact binary value rounded to `ndigits`
/// decimals, exact ties to even (`round(2.675, 2)` is 2.67, as 2.675 is stored a little
/// below). Rust's fixed-precision formatting rounds the exact value the same way.
pub(crate) fn py_round_float(x: f64, ndigits: i64) -> f64 {
    if !x.is_finite() || ndigits > 323 {
        return x;
    }
    if ndigits >= 0 {
        return format!("{:.*}", ndigits as usize, x).parse().unwrap_or(x);
    }
    // Negative digits round to tens, hundreds, ...: scale down, round half to even, scale up.
    let m = 10f64.powi((-ndigits).min(308) as i32);
    let y = x / m;
    let r = y.round();
    let r = if (y - y.trunc()).abs() == 0.5 {
        2.0 * (y / 2.0).round()
    } else {
        r
    };
    r * m
}

/// Python's `round(n, ndigits)` on an int: ints stay ints; negative digits round half to even.
fn py_round_int(n: i64, ndigits: i64) -> i64 {
    if !(-18..0).contains(&ndigits) {
        return if ndigits < -18 { 0 } else { n };
    }
    let m = 10i64.pow((-ndigits) as u32);
    let (q, r) = (n.div_euclid(m), n.rem_euclid(m));
    let up = match (2 * r).cmp(&m) {
        Ordering::Greater => true,
        Ordering::Less => false,
        Ordering::Equal => q % 2 != 0,
    };
    (q + up as i64) * m
}

/// Jinja's `round` filter: `common` is Python's `round`, `floor`/`ceil` scale, apply and divide
/// (always a float).
fn jinja_round(v: &Value, precision: i64, method: &str) -> Result<Value, Error> {
    if !matches!(method, "common" | "ceil" | "floor") {
        return Err(err("method must be common, ceil or floor"));
    }
    let is_int =
        matches!(v.kind(), ValueKind::Bool) || (v.kind() == ValueKind::Number && v.is_integer());
    if method == "common" && is_int {
        let n = i64::try_from(v.clone()).map_err(|_| err("must be real number"))?;
        return Ok(Value::from(py_round_int(n, precision)));
    }
    let x = f64::try_from(v.clone()).map_err(|_| {
        err(format!(
            "type {} doesn't define __round__ method",
            py_type_name(v)
        ))
    })?;
    if method == "common" {
        return Ok(Value::from(py_round_float(x, precision)));
    }
    let m = 10f64.powi(precision.clamp(-400, 400) as i32);
    let scaled = if method == "floor" {
        (x * m).floor()
    } else {
        (x * m).ceil()
    };
    Ok(Value::from(scaled / m))
}

pub(crate) fn register(env: &mut Environment<'static>) {
    add(env, &["list"], |_, v| Ok(Value::from(items(&v)?)));
    add(env, &["length", "count"], |_, v| {
        defined(&v)?;
        match v.kind() {
            ValueKind::String => Ok(Value::from(v.as_str().unwrap_or("").chars().count())),
            ValueKind::Seq | ValueKind::Map | ValueKind::Iterable => {
                Ok(Value::from(v.try_iter()?.count()))
            }
            _ => Err(err(format!(
                "object of type '{}' has no len()",
                py_type_name(&v)
            ))),
        }
    });
    add(env, &["first"], |_, v| {
        Ok(items(&v)?.into_iter().next().unwrap_or(Value::UNDEFINED))
    });
    add(env, &["last"], |_, v| {
        Ok(items(&v)?.into_iter().last().unwrap_or(Value::UNDEFINED))
    });
    add(env, &["reverse"], |_, v| {
        defined(&v)?;
        if let Some(s) = v.as_str() {
            return Ok(Value::from(s.chars().rev().collect::<String>()));
        }
        let mut xs = items(&v)?;
        xs.reverse();
        Ok(Value::from(xs))
    });
    for (name, max) in [("min", false), ("max", true)] {
        add(env, &[name], move |a, v| {
            let xs = items(&v)?;
            let attrs: Vec<String> = a.str(99, "attribute").into_iter().collect();
            let cs = a.bool(99, "case_sensitive", false);
            let mut best: Option<(Value, Value)> = None;
            for x in xs {
                let k = if attrs.is_empty() {
                    x.clone()
                } else {
                    attr_key(&x, &attrs, true)
                };
                best = match best {
                    None => Some((k, x)),
                    Some((bk, bx)) => {
                        let o = py_cmp(&k, &bk, cs)?;
                        if (max && o == Ordering::Greater) || (!max && o == Ordering::Less) {
                            Some((k, x))
                        } else {
                            Some((bk, bx))
                        }
                    }
                };
            }
            Ok(best.map(|b| b.1).unwrap_or(Value::UNDEFINED))
        });
    }
    add(env, &["sum"], |a, v| {
        let xs = items(&v)?;
        let attr = a.str(0, "attribute");
        let mut acc = a.get(1, "start").cloned().unwrap_or(Value::from(0));
        for x in xs {
            let x = match &attr {
                Some(p) => get_path(&x, p),
                None => x,
            };
            acc = if acc.kind() == ValueKind::Seq && x.kind() == ValueKind::Seq {
                let mut l: Vec<Value> = acc.try_iter()?.collect();
                l.extend(x.try_iter()?);
                Value::from(l)
            } else {
                add_numbers(&acc, &x)?
            };
        }
        Ok(acc)
    });
    add(env, &["join"], |a, v| {
        let xs = items(&v)?;
        let sep = a.str(0, "d").unwrap_or_default();
        let attr = a.str(1, "attribute");
        let mut parts: Vec<String> = Vec::with_capacity(xs.len());
        let mut total = 0usize;
        for x in &xs {
            let part = match &attr {
                Some(p) => py_str(&get_path(x, p)),
                None => py_str(x),
            };
            // `[big] * 1000 | join` is cheap to ask for and gigabytes to build.
            total += part.len() + sep.len();
            if total > crate::template::MAX_TEXT_BYTES {
                return Err(err(crate::template::too_large().message()));
            }
            parts.push(part);
        }
        Ok(Value::from(parts.join(&sep)))
    });
    add(env, &["unique"], |a, v| {
        // Both Jinja's unique and Ansible's fallback iterate the value: Python's TypeError.
        defined(&v)?;
        let xs = items(&v).map_err(|_| {
            plugin_err(
                "unique",
                format!("'{}' object is not iterable", py_type_name(&v)),
            )
        })?;
        let attr = a.str(1, "attribute");
        let cs = a.get(0, "case_sensitive").map(truthy_arg);
        // Ansible runs Jinja's `unique` (case-insensitive unless told otherwise) and falls back
        // to exact equality when an item is unhashable (a list or a dict).
        let unhashable = xs
            .iter()
            .any(|x| matches!(x.kind(), ValueKind::Seq | ValueKind::Map));
        // Jinja's unique cannot hash a dict or list key, and Ansible's own fallback does not
        // take `case_sensitive=False` or `attribute`: the filter fails then.
        let unhashable_key = xs.iter().find_map(|x| {
            let k = match &attr {
                Some(p) => get_path(x, p),
                None => x.clone(),
            };
            match k.kind() {
                ValueKind::Map => Some("_AnsibleLazyTemplateDict"),
                ValueKind::Seq => Some("_AnsibleLazyTemplateList"),
                _ => None,
            }
        });
        if let (Some(ty), true) = (unhashable_key, cs == Some(false) || attr.is_some()) {
            return Err(plugin_err(
                "unique",
                format!("Jinja2's unique filter failed and we cannot fall back to Ansible's version as it does not support the parameters supplied: unhashable type: '{ty}'"),
            ));
        }
        if attr.is_none() && (cs == Some(true) || unhashable) {
            return Ok(Value::from(unique(xs)));
        }
        let cs = cs.unwrap_or(false);
        let mut seen: Vec<Value> = Vec::new();
        let mut out = Vec::new();
        for x in xs {
            let mut k = match &attr {
                Some(p) => get_path(&x, p),
                None => x.clone(),
            };
            if !cs {
                if let Some(s) = k.as_str() {
                    k = Value::from(s.to_lowercase());
                }
            }
            if !seen.contains(&k) {
                seen.push(k);
                out.push(x);
            }
        }
        Ok(Value::from(out))
    });
    add(env, &["sort"], |a, v| {
        Ok(Value::from(sort_values(items(&v)?, a)?))
    });
    add(env, &["intersect"], |a, v| {
        let xs = list_of(&v, "intersect")?;
        let ys = list_of(a.get(0, "b").unwrap_or(&Value::UNDEFINED), "intersect")?;
        Ok(Value::from(set_order(unique(
            xs.into_iter().filter(|x| ys.contains(x)).collect(),
        ))))
    });
    add(env, &["difference"], |a, v| {
        let xs = list_of(&v, "difference")?;
        let ys = list_of(a.get(0, "b").unwrap_or(&Value::UNDEFINED), "difference")?;
        Ok(Value::from(set_order(unique(
            xs.into_iter().filter(|x| !ys.contains(x)).collect(),
        ))))
    });
    add(env, &["union"], |a, v| {
        let mut xs = list_of(&v, "union")?;
        xs.extend(list_of(
            a.get(0, "b").unwrap_or(&Value::UNDEFINED),
            "union",
        )?);
        Ok(Value::from(set_order(unique(xs))))
    });
    add(env, &["symmetric_difference"], |a, v| {
        let xs = list_of(&v, "symmetric_difference")?;
        let ys = list_of(
            a.get(0, "b").unwrap_or(&Value::UNDEFINED),
            "symmetric_difference",
        )?;
        let mut out: Vec<Value> = xs.iter().filter(|x| !ys.contains(x)).cloned().collect();
        out.extend(ys.iter().filter(|y| !xs.contains(y)).cloned());
        Ok(Value::from(set_order(unique(out))))
    });
    add(env, &["flatten"], |a, v| {
        let xs = list_of(&v, "flatten")?;
        let levels = a.int(0, "levels");
        let skip = a.bool(1, "skip_nulls", true);
        let mut out = Vec::new();
        flatten(&xs, levels, skip, &mut out)?;
        Ok(Value::from(out))
    });
    add(env, &["zip"], |a, v| {
        let mut lists = vec![items(&v)?];
        for p in &a.pos {
            lists.push(items(p)?);
        }
        let n = lists.iter().map(Vec::len).min().unwrap_or(0);
        Ok(Value::from(
            (0..n)
                .map(|i| Value::from(lists.iter().map(|l| l[i].clone()).collect::<Vec<_>>()))
                .collect::<Vec<_>>(),
        ))
    });
    add(env, &["zip_longest"], |a, v| {
        let mut lists = vec![items(&v)?];
        for p in &a.pos {
            lists.push(items(p)?);
        }
        let fill = a.kw("fillvalue").cloned().unwrap_or(Value::from(()));
        let n = lists.iter().map(Vec::len).max().unwrap_or(0);
        Ok(Value::from(
            (0..n)
                .map(|i| {
                    Value::from(
                        lists
                            .iter()
                            .map(|l| l.get(i).cloned().unwrap_or(fill.clone()))
                            .collect::<Vec<_>>(),
                    )
                })
                .collect::<Vec<_>>(),
        ))
    });
    add(env, &["product"], |a, v| {
        let mut lists = vec![items(&v)?];
        for p in &a.pos {
            lists.push(items(p)?);
        }
        let repeat = a.kw("repeat").and_then(|r| r.as_i64()).unwrap_or(1).max(0) as usize;
        crate::template::check_items(lists.len().saturating_mul(repeat))?;
        let base = lists.clone();
        for _ in 1..repeat {
            lists.extend(base.iter().cloned());
        }
        let tuples = lists.iter().fold(1usize, |n, l| n.saturating_mul(l.len()));
        crate::template::check_items(tuples.saturating_mul(lists.len()))?;
        let mut acc: Vec<Vec<Value>> = vec![vec![]];
        for l in lists {
            let mut next = Vec::new();
            for prefix in &acc {
                for x in &l {
                    let mut p = prefix.clone();
                    p.push(x.clone());
                    next.push(p);
                }
            }
            acc = next;
        }
        Ok(Value::from(
            acc.into_iter().map(Value::from).collect::<Vec<_>>(),
        ))
    });
    add(env, &["combinations"], |a, v| {
        let xs = items(&v)?;
        let r = a.int(0, "r").unwrap_or(0).max(0) as usize;
        // C(n, r) tuples of r items, counted without overflow.
        let mut tuples = 1usize;
        if r <= xs.len() {
            for i in 0..r {
                tuples = tuples.saturating_mul(xs.len() - i) / (i + 1);
                crate::template::check_items(tuples)?;
            }
        }
        crate::template::check_items(tuples.saturating_mul(r))?;
        let mut out = Vec::new();
        combos(&xs, r, 0, &mut vec![], &mut out);
        Ok(Value::from(out))
    });
    add(env, &["permutations"], |a, v| {
        let xs = items(&v)?;
        let r = a.int(0, "r").map(|r| r.max(0) as usize).unwrap_or(xs.len());
        // n! / (n - r)! tuples of r items.
        let tuples = (0..r.min(xs.len() + 1))
            .fold(1usize, |n, i| n.saturating_mul(xs.len().saturating_sub(i)));
        crate::template::check_items(tuples.saturating_mul(r))?;
        let mut out = Vec::new();
        perms(&xs, r, &mut vec![], &mut vec![false; xs.len()], &mut out);
        Ok(Value::from(out))
    });
    add(env, &["subelements"], |a, v| {
        let xs = items(&v)?;
        let path = a.str(0, "subelements").unwrap_or_default();
        let skip_missing = a
            .get(1, "skip_missing")
            .map(|s| {
                truthy_arg(s)
                    || (s.kind() == ValueKind::Map
                        && truthy_arg(&s.get_attr("skip_missing").unwrap_or_default()))
            })
            .unwrap_or(false);
        let mut out = Vec::new();
        for x in xs {
            let sub = get_path(&x, &path);
            if sub.is_undefined() {
                if skip_missing {
                    continue;
                }
                return Err(plugin_err(
                    "subelements",
                    format!(
                        "could not find '{path}' key in iterated item '{}'",
                        crate::template::pyrepr::py_repr(&x)
                    ),
                ));
            }
            if sub.kind() != ValueKind::Seq {
                return Err(plugin_err(
                    "subelements",
                    format!(
                        "the key {path} should point to a list, got '{}'",
                        crate::template::pyrepr::py_repr(&sub)
                    ),
                ));
            }
            for s in sub.try_iter()? {
                out.push(Value::from(vec![x.clone(), s]));
            }
        }
        Ok(Value::from(out))
    });
    add(env, &["batch"], |a, v| {
        let xs = items(&v)?;
        let n = a.int(0, "linecount").unwrap_or(1).max(1) as usize;
        let fill = a.get(1, "fill_with").cloned();
        if fill.is_some() {
            crate::template::check_items(n)?;
        }
        let mut out = Vec::new();
        for chunk in xs.chunks(n) {
            let mut c = chunk.to_vec();
            if let Some(f) = &fill {
                while c.len() < n {
                    c.push(f.clone());
                }
            }
            out.push(Value::from(c));
        }
        Ok(Value::from(out))
    });
    add(env, &["slice"], |a, v| {
        let xs = items(&v)?;
        let slices = a.int(0, "slices").unwrap_or(1).max(1) as usize;
        crate::template::check_items(slices)?;
        let fill = a.get(1, "fill_with").cloned();
        let per = xs.len() / slices;
        let extra = xs.len() % slices;
        let mut offset = 0;
        let mut out = Vec::new();
        for i in 0..slices {
            let start = offset + i * per;
            if i < extra {
                offset += 1;
            }
            let end = offset + (i + 1) * per;
            let mut c = xs[start.min(xs.len())..end.min(xs.len())].to_vec();
            if let Some(f) = &fill {
                if i >= extra && extra > 0 {
                    c.push(f.clone());
                }
            }
            out.push(Value::from(c));
        }
        Ok(Value::from(out))
    });
    add(env, &["groupby"], |a, v| {
        let attr = a.str(0, "attribute").unwrap_or_default();
        let cs = a.bool(99, "case_sensitive", false);
        let xs = items(&v)?;
        let mut sorted = xs;
        let mut failure = None;
        sorted.sort_by(|x, y| {
            py_cmp(
                &attr_key(x, std::slice::from_ref(&attr), cs),
                &attr_key(y, std::slice::from_ref(&attr), cs),
                cs,
            )
            .unwrap_or_else(|e| {
                failure.get_or_insert(e);
                Ordering::Equal
            })
        });
        if let Some(e) = failure {
            return Err(e);
        }
        let mut groups: Vec<(Value, Vec<Value>)> = Vec::new();
        for x in sorted {
            let k = get_path(&x, &attr);
            match groups.last_mut() {
                Some((gk, g)) if *gk == k => g.push(x),
                _ => groups.push((k, vec![x])),
            }
        }
        Ok(Value::from(
            groups
                .into_iter()
                .map(|(k, g)| Value::from(vec![k, Value::from(g)]))
                .collect::<Vec<_>>(),
        ))
    });
    add(env, &["dictsort"], |a, v| {
        defined(&v)?;
        let cs = a.bool(0, "case_sensitive", false);
        let by_value = a.str(1, "by").as_deref() == Some("value");
        let reverse = a.bool(2, "reverse", false);
        let mut pairs: Vec<(Value, Value)> = Vec::new();
        for k in v.try_iter()? {
            let val = v.get_item(&k)?;
            pairs.push((k, val));
        }
        let mut failure = None;
        pairs.sort_by(|x, y| {
            let (p, q) = if by_value { (&x.1, &y.1) } else { (&x.0, &y.0) };
            // Reversed comparison, not a reversed list: ties keep their order, as in
            // Python's stable sorted(reverse=True).
            py_cmp(p, q, cs)
                .map(|o| if reverse { o.reverse() } else { o })
                .unwrap_or_else(|e| {
                    failure.get_or_insert(e);
                    Ordering::Equal
                })
        });
        if let Some(e) = failure {
            return Err(e);
        }
        Ok(Value::from(
            pairs
                .into_iter()
                .map(|(k, v)| Value::from(vec![k, v]))
                .collect::<Vec<_>>(),
        ))
    });
    add(env, &["items"], |_, v| {
        if v.is_undefined() {
            return Ok(Value::from(Vec::<Value>::new()));
        }
        let mut out = Vec::new();
        for k in v.try_iter()? {
            let val = v.get_item(&k)?;
            out.push(Value::from(vec![k, val]));
        }
        Ok(Value::from(out))
    });
    add(env, &["map"], |a, v| {
        let xs = items(&v)?;
        // Jinja's prepare_map: `attribute=` selects attributes only when no filter name is
        // given; `map('map', attribute='x')` hands the keyword to the inner filter.
        if let Some(attr) = a.kw("attribute").filter(|_| a.pos.is_empty()).map(py_str) {
            let dflt = a.kw("default").cloned();
            let mut out = Vec::new();
            for x in xs {
                let got = get_path(&x, &attr);
                out.push(match (&dflt, got.is_undefined()) {
                    (Some(d), true) => d.clone(),
                    _ => got,
                });
            }
            return Ok(Value::from(out));
        }
        let Some(name) = a.pos.first().map(py_str) else {
            return Err(err("map requires a filter argument"));
        };
        let mut out = Vec::new();
        for x in xs {
            out.push(
                a.state
                    .apply_filter(&name, &test_args(x, &a.pos[1..], &a.kw))?,
            );
        }
        Ok(Value::from(out))
    });
    add(env, &["select"], |a, v| select_impl(a, v, true, false));
    add(env, &["reject"], |a, v| select_impl(a, v, false, false));
    add(env, &["selectattr"], |a, v| select_impl(a, v, true, true));
    add(env, &["rejectattr"], |a, v| select_impl(a, v, false, true));
    add(env, &["extract"], |a, v| {
        let container = a.get(0, "container").cloned().unwrap_or_default();
        let mut got = container.get_item(&v).unwrap_or(Value::UNDEFINED);
        if let Some(morekeys) = a.get(1, "morekeys") {
            let keys: Vec<Value> = if morekeys.kind() == ValueKind::Seq {
                morekeys.try_iter()?.collect()
            } else {
                vec![morekeys.clone()]
            };
            for k in keys {
                got = got.get_item(&k).unwrap_or(Value::UNDEFINED);
            }
        }
        Ok(got)
    });
    add(env, &["random"], |a, v| {
        defined(&v)?;
        let seed = a
            .kw("seed")
            .map(|s| crate::template::filters::hash::seed_of(&py_str(s)));
        let mut next = rng(seed);
        if v.is_integer() {
            let end = v.as_i64().unwrap_or(0);
            let start = a.get(0, "start").and_then(|s| s.as_i64()).unwrap_or(0);
            let step = a
                .get(1, "step")
                .and_then(|s| s.as_i64())
                .unwrap_or(1)
                .max(1);
            let n = (end - start + step - 1) / step;
            if n <= 0 {
                return Err(plugin_err("random", "empty range for randrange()"));
            }
            return Ok(Value::from(start + step * ((next() % n as u64) as i64)));
        }
        let xs = items(&v)?;
        if xs.is_empty() {
            return Err(plugin_err("random", "Cannot choose from an empty sequence"));
        }
        let i = (next() % xs.len() as u64) as usize;
        Ok(xs[i].clone())
    });
    add(env, &["shuffle"], |a, v| {
        let mut xs = items(&v)?;
        let seed = a
            .kw("seed")
            .map(|s| crate::template::filters::hash::seed_of(&py_str(s)));
        let mut next = rng(seed);
        for i in (1..xs.len()).rev() {
            let j = (next() % (i as u64 + 1)) as usize;
            xs.swap(i, j);
        }
        Ok(Value::from(xs))
    });
    add(env, &["abs"], |_, v| {
        defined(&v)?;
        if v.is_integer() {
            Ok(Value::from(i64::try_from(v.clone()).unwrap_or(0).abs()))
        } else {
            Ok(Value::from(
                f64::try_from(v.clone())
                    .map_err(|_| err("bad operand type for abs()"))?
                    .abs(),
            ))
        }
    });
    add(env, &["round"], |a, v| {
        defined(&v)?;
        let p = a.int(0, "precision").unwrap_or(0);
        let method = a.str(1, "method").unwrap_or_else(|| "common".into());
        jinja_round(&v, p, &method)
    });
    add(env, &["log"], |a, v| {
        let x = f64::try_from(v.clone())
            .map_err(|_| plugin_err("log", "log() can only be used on numbers"))?;
        Ok(Value::from(
            match a.get(0, "base").and_then(|b| f64::try_from(b.clone()).ok()) {
                Some(10.0) => x.log10(),
                Some(b) => x.ln() / b.ln(),
                None => x.ln(),
            },
        ))
    });
    add(env, &["pow"], |a, v| {
        let x = f64::try_from(v.clone())
            .map_err(|_| plugin_err("pow", "pow() can only be used on numbers"))?;
        let y = a
            .get(0, "y")
            .and_then(|b| f64::try_from(b.clone()).ok())
            .unwrap_or(1.0);
        Ok(Value::from(x.powf(y)))
    });
    add(env, &["root"], |a, v| {
        let x = f64::try_from(v.clone())
            .map_err(|_| plugin_err("root", "root() can only be used on numbers"))?;
        let b = a
            .get(0, "base")
            .and_then(|b| f64::try_from(b.clone()).ok())
            .unwrap_or(2.0);
        Ok(Value::from(if b == 2.0 {
            x.sqrt()
        } else {
            x.powf(1.0 / b)
        }))
    });
    add(env, &["attr"], |a, v| {
        Ok(v.get_attr(&a.str(0, "name").unwrap_or_default())
            .unwrap_or(Value::UNDEFINED))
    });
    add(env, &["dict"], |_, v| to_dict(&[v]));
}

fn add_numbers(a: &Value, b: &Value) -> Result<Value, Error> {
    let num = |v: &Value| matches!(v.kind(), ValueKind::Number | ValueKind::Bool);
    if !num(a) || !num(b) {
        return Err(err(format!(
            "unsupported operand type(s) for +: '{}' and '{}'",
            py_type_name(a),
            py_type_name(b)
        )));
    }
    if a.is_integer() && b.is_integer() {
        let x = i64::try_from(a.clone()).unwrap_or(0);
        let y = i64::try_from(b.clone()).unwrap_or(0);
        return Ok(Value::from(x.wrapping_add(y)));
    }
    Ok(Value::from(
        f64::try_from(a.clone()).unwrap_or(0.0) + f64::try_from(b.clone()).unwrap_or(0.0),
    ))
}

/// `dict(...)`: from a mapping, a list of pairs, or keyword arguments.
pub(crate) fn to_dict(args: &[Value]) -> Result<Value, Error> {
    let mut out = IndexMap::new();
    for a in args {
        if a.is_kwargs() || a.kind() == ValueKind::Map {
            for k in a.try_iter()? {
                let v = a.get_item(&k)?;
                out.insert(k, v);
            }
        } else {
            for pair in items(a)? {
                let kv: Vec<Value> = items(&pair)?;
                if kv.len() != 2 {
                    return Err(err(format!(
                        "dictionary update sequence element #{} has length {}; 2 is required",
                        out.len(),
                        kv.len()
                    )));
                }
                out.insert(kv[0].clone(), kv[1].clone());
            }
        }
    }
    Ok(Value::from_object(MutDict::new(out)))
}

fn combos(xs: &[Value], r: usize, start: usize, cur: &mut Vec<Value>, out: &mut Vec<Value>) {
    if cur.len() == r {
        out.push(Value::from(cur.clone()));
        return;
    }
    for i in start..xs.len() {
        cur.push(xs[i].clone());
        combos(xs, r, i + 1, cur, out);
        cur.pop();
    }
}

fn perms(xs: &[Value], r: usize, cur: &mut Vec<Value>, used: &mut Vec<bool>, out: &mut Vec<Value>) {
    if cur.len() == r {
        out.push(Value::from(cur.clone()));
        return;
    }
    for i in 0..xs.len() {
        if !used[i] {
            used[i] = true;
            cur.push(xs[i].clone());
            perms(xs, r, cur, used, out);
            cur.pop();
            used[i] = false;
        }
    }
}

/// A generator: the templar's seeded stream, or a private one for an explicit `seed=`.
fn rng(seed: Option<u64>) -> impl FnMut() -> u64 {
    let inner = crate::template::current().map(|c| c.0);
    let mut state = seed.unwrap_or(0);
    move || match (&inner, seed) {
        (_, Some(_)) => {
            state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
            crate::template::splitmix(state)
        }
        (Some(inner), None) => inner.next_random(),
        (None, None) => {
            state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
            crate::template::splitmix(state)
        }
    }
}
