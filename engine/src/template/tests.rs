//! Jinja tests (`x is defined`, `x is match(...)`, `v is version('1.2', '>')`, ...), Ansible's
//! and Jinja's, with their semantics on Ansible's data.

use std::cmp::Ordering;
use std::sync::Arc;

use minijinja::value::{Rest, Value, ValueKind};
use minijinja::{Environment, Error, State};

use super::filters::{err, py_cmp, truthy_arg, Args};
use super::pyrepr::{py_str, py_type_name};

type TestFn = dyn Fn(&Args, Value) -> Result<bool, Error> + Send + Sync + 'static;

fn add(
    env: &mut Environment<'static>,
    names: &[&'static str],
    f: impl Fn(&Args, Value) -> Result<bool, Error> + Send + Sync + 'static,
) {
    let f: Arc<TestFn> = Arc::new(f);
    for &name in names {
        super::filters::note_name(&super::filters::REGISTERED_TESTS, name);
        let g = f.clone();
        env.add_test(
            name,
            move |state: &State, value: Value, rest: Rest<Value>| {
                if value.is_undefined() && !matches!(name, "defined" | "undefined") {
                    // only the definedness tests accept an undefined value; others "use" it
                    return Err(Error::from(minijinja::ErrorKind::UndefinedError));
                }
                g(&Args::new(state, rest.0), value)
                    .map_err(|e| super::filters::wrap_plugin_error("test", name, e))
            },
        );
        let g = f.clone();
        env.add_test(
            format!("ansible.builtin.{name}"),
            move |state: &State, value: Value, rest: Rest<Value>| {
                if value.is_undefined() && !matches!(name, "defined" | "undefined") {
                    // only the definedness tests accept an undefined value; others "use" it
                    return Err(Error::from(minijinja::ErrorKind::UndefinedError));
                }
                g(&Args::new(state, rest.0), value)
                    .map_err(|e| super::filters::wrap_plugin_error("test", name, e))
            },
        );
    }
}

fn arg0(a: &Args) -> Value {
    a.pos.first().cloned().unwrap_or(Value::UNDEFINED)
}

fn need(v: &Value) -> Result<(), Error> {
    super::filters::defined(v)
}

fn contains(container: &Value, item: &Value) -> Result<bool, Error> {
    match container.kind() {
        ValueKind::String => Ok(container.as_str().unwrap_or("").contains(&py_str(item))),
        ValueKind::Seq | ValueKind::Map | ValueKind::Iterable => {
            Ok(container.try_iter()?.any(|x| x == *item))
        }
        _ => Err(err(format!(
            "argument of type '{}' is not iterable",
            py_type_name(container)
        ))),
    }
}

/// Registered-result tests need a dict.
fn result_field(name: &str, v: &Value, field: &str) -> Result<bool, Error> {
    need(v)?;
    if v.kind() != ValueKind::Map {
        return Err(err(format!("The '{name}' test expects a dictionary")));
    }
    let f = v.get_attr(field).unwrap_or_default();
    Ok(!f.is_undefined() && truthy_arg(&f))
}

fn regex_test(a: &Args, v: &Value, mode: &str) -> Result<bool, Error> {
    need(v)?;
    let pattern = a.str(0, "pattern").unwrap_or_default();
    let re = super::filters::regex_compile(&pattern, Some(a))?;
    let s = py_str(v);
    let found = match mode {
        "match" => {
            re.find(&s)
                .map_err(|e| err(e.to_string()))?
                .is_some_and(|m| m.start() == 0)
                || {
                    // `re.match` anchors at the start only: try an explicitly anchored pattern too
                    let anchored =
                        super::filters::regex_compile(&format!("^(?:{pattern})"), Some(a))?;
                    anchored.is_match(&s).map_err(|e| err(e.to_string()))?
                }
        }
        "fullmatch" => {
            let anchored = super::filters::regex_compile(&format!("^(?:{pattern})$"), Some(a))?;
            anchored.is_match(&s).map_err(|e| err(e.to_string()))?
        }
        _ => re.is_match(&s).map_err(|e| err(e.to_string()))?,
    };
    Ok(found)
}

// ---- versions ----------------------------------------------------------------------------

#[derive(Debug, Clone, PartialEq)]
enum Part {
    Num(u64),
    Str(String),
}

fn loose_parts(s: &str) -> Vec<Part> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut digit = None;
    let flush = |cur: &mut String, out: &mut Vec<Part>, digit: Option<bool>| {
        if !cur.is_empty() {
            out.push(match digit {
                Some(true) => Part::Num(cur.parse().unwrap_or(0)),
                _ => Part::Str(cur.clone()),
            });
            cur.clear();
        }
    };
    for c in s.chars() {
        if c == '.' {
            flush(&mut cur, &mut out, digit);
            digit = None;
            continue;
        }
        let d = c.is_ascii_digit();
        if digit.is_some() && digit != Some(d) {
            flush(&mut cur, &mut out, digit);
        }
        digit = Some(d);
        cur.push(c);
    }
    flush(&mut cur, &mut out, digit);
    out
}

fn cmp_loose(a: &str, b: &str) -> Result<Ordering, Error> {
    let (x, y) = (loose_parts(a), loose_parts(b));
    for (p, q) in x.iter().zip(y.iter()) {
        let o = match (p, q) {
            (Part::Num(m), Part::Num(n)) => m.cmp(n),
            (Part::Str(m), Part::Str(n)) => m.cmp(n),
            _ => return Err(err(
                "Version comparison failed: '<' not supported between instances of 'str' and 'int'",
            )),
        };
        if o != Ordering::Equal {
            return Ok(o);
        }
    }
    Ok(x.len().cmp(&y.len()))
}

/// (major, minor, patch) and an optional (a|b, n) prerelease.
type StrictVersion = (Vec<u64>, Option<(char, u64)>);

fn strict_parts(s: &str) -> Option<StrictVersion> {
    let re = regex::Regex::new(r"^(\d+)\.(\d+)(?:\.(\d+))?(?:([ab])(\d+))?$").ok()?;
    let c = re.captures(s)?;
    let n = |i: usize| c.get(i).and_then(|m| m.as_str().parse().ok());
    let nums = vec![n(1)?, n(2)?, n(3).unwrap_or(0)];
    let pre = c
        .get(4)
        .map(|m| (m.as_str().chars().next().unwrap_or('a'), n(5).unwrap_or(0)));
    Some((nums, pre))
}

fn cmp_strict(a: &str, b: &str) -> Result<Ordering, Error> {
    let x = strict_parts(a).ok_or_else(|| {
        err(format!(
            "Version comparison failed: invalid version number '{a}'"
        ))
    })?;
    let y = strict_parts(b).ok_or_else(|| {
        err(format!(
            "Version comparison failed: invalid version number '{b}'"
        ))
    })?;
    Ok(x.0.cmp(&y.0).then_with(|| match (&x.1, &y.1) {
        (None, None) => Ordering::Equal,
        (None, Some(_)) => Ordering::Greater,
        (Some(_), None) => Ordering::Less,
        (Some(p), Some(q)) => p.cmp(q),
    }))
}

fn semver_parts(s: &str) -> Option<(Vec<u64>, Vec<String>)> {
    let s = s.trim().trim_start_matches('v');
    let s = s.split('+').next()?;
    let (core, pre) = match s.split_once('-') {
        Some((c, p)) => (c, p.split('.').map(String::from).collect()),
        None => (s, vec![]),
    };
    let nums: Option<Vec<u64>> = core.split('.').map(|p| p.parse().ok()).collect();
    let nums = nums?;
    if nums.len() != 3 {
        return None;
    }
    Some((nums, pre))
}

fn cmp_semver(a: &str, b: &str) -> Result<Ordering, Error> {
    let x = semver_parts(a).ok_or_else(|| {
        err(format!(
            "Version comparison failed: invalid semantic version '{a}'"
        ))
    })?;
    let y = semver_parts(b).ok_or_else(|| {
        err(format!(
            "Version comparison failed: invalid semantic version '{b}'"
        ))
    })?;
    Ok(x.0
        .cmp(&y.0)
        .then_with(|| match (x.1.is_empty(), y.1.is_empty()) {
            (true, true) => Ordering::Equal,
            (true, false) => Ordering::Greater,
            (false, true) => Ordering::Less,
            _ => {
                for (p, q) in x.1.iter().zip(y.1.iter()) {
                    let o = match (p.parse::<u64>(), q.parse::<u64>()) {
                        (Ok(m), Ok(n)) => m.cmp(&n),
                        (Ok(_), Err(_)) => Ordering::Less,
                        (Err(_), Ok(_)) => Ordering::Greater,
                        _ => p.cmp(q),
                    };
                    if o != Ordering::Equal {
                        return o;
                    }
                }
                x.1.len().cmp(&y.1.len())
            }
        }))
}

/// Ansible's `version` test.
pub(crate) fn version_compare(
    v: &str,
    other: &str,
    op: &str,
    strict: bool,
    vtype: Option<&str>,
) -> Result<bool, Error> {
    let vtype = vtype.unwrap_or(if strict { "strict" } else { "loose" });
    let o = match vtype {
        "strict" => cmp_strict(v, other)?,
        "semver" | "semantic" => cmp_semver(v, other)?,
        "pep440" => cmp_pep440(v, other)?,
        "loose" | "python" => cmp_loose(v, other)?,
        t => {
            return Err(err(format!(
            "Invalid version type ({t}). Must be one of loose, strict, semver, semantic, pep440"
        )))
        }
    };
    Ok(match op {
        "==" | "=" | "eq" => o == Ordering::Equal,
        "!=" | "<>" | "ne" => o != Ordering::Equal,
        ">" | "gt" => o == Ordering::Greater,
        ">=" | "ge" => o != Ordering::Less,
        "<" | "lt" => o == Ordering::Less,
        "<=" | "le" => o != Ordering::Greater,
        _ => return Err(err(format!("Invalid operator type ({op})"))),
    })
}

/// `packaging.version.Version` order (pre-releases before their release), with the error
/// `Version('x')` raises for a string that is not PEP 440.
fn cmp_pep440(v: &str, other: &str) -> Result<Ordering, Error> {
    use fleetsim_sim::os::pip::Version;
    let parse = |s: &str| {
        Version::parse(s).ok_or_else(|| {
            err(format!(
                "Version comparison failed: Invalid version: {}",
                super::pyrepr::str_repr(s)
            ))
        })
    };
    Ok(parse(v)?.cmp(&parse(other)?))
}

/// Ansible's `truthy` test: Python truthiness, after `boolean()` when `convert_bool` is set
/// and the value is one of its booleans.
fn truthy(v: &Value, convert_bool: bool) -> bool {
    let converted = if convert_bool {
        super::filters::boolean_strict(v)
    } else {
        None
    };
    converted.unwrap_or_else(|| super::pyrepr::py_truthy(v))
}

/// Python's `urlsplit` of a string: (scheme, netloc).
fn urlparse(url: &str) -> (String, String) {
    let url: String = url
        .trim_start_matches(|c: char| c <= ' ')
        .chars()
        .filter(|c| !matches!(c, '\t' | '\r' | '\n'))
        .collect();
    let mut rest = url.as_str();
    let mut scheme = String::new();
    if let Some(i) = rest.find(':') {
        let cand = &rest[..i];
        if i > 0
            && cand.starts_with(|c: char| c.is_ascii_alphabetic())
            && cand
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
        {
            scheme = cand.to_ascii_lowercase();
            rest = &rest[i + 1..];
        }
    }
    let netloc = match rest.strip_prefix("//") {
        Some(r) => r[..r.find(['/', '?', '#']).unwrap_or(r.len())].to_string(),
        None => String::new(),
    };
    (scheme, netloc)
}

/// Ansible's `uri` test: any string parses; `schemes` limits the scheme.
fn is_uri(v: &Value, schemes: Option<&Value>) -> bool {
    let Some(s) = v.as_str() else {
        return false;
    };
    let (scheme, _) = urlparse(s);
    match schemes {
        Some(list) if !list.is_none() && super::pyrepr::py_truthy(list) => list
            .try_iter()
            .map(|mut it| it.any(|x| x.as_str() == Some(scheme.as_str())))
            .unwrap_or(false),
        _ => true,
    }
}

fn num(v: &Value) -> Option<f64> {
    if matches!(v.kind(), ValueKind::Number | ValueKind::Bool) {
        f64::try_from(v.clone()).ok()
    } else {
        None
    }
}

fn compare(a: &Args, v: &Value, want: &[Ordering]) -> Result<bool, Error> {
    need(v)?;
    let other = arg0(a);
    need(&other)?;
    Ok(want.contains(&py_cmp(v, &other, true)?))
}

pub(crate) fn register(env: &mut Environment<'static>) {
    add(env, &["defined"], |_, v| Ok(!v.is_undefined()));
    add(env, &["undefined"], |_, v| Ok(v.is_undefined()));
    add(env, &["none"], |_, v| Ok(v.is_none()));
    add(env, &["string"], |_, v| Ok(v.kind() == ValueKind::String));
    add(env, &["number"], |_, v| {
        Ok(matches!(v.kind(), ValueKind::Number | ValueKind::Bool))
    });
    add(env, &["integer"], |_, v| {
        Ok(v.kind() == ValueKind::Number && v.is_integer())
    });
    add(env, &["float"], |_, v| {
        Ok(v.kind() == ValueKind::Number && !v.is_integer())
    });
    add(env, &["boolean"], |_, v| Ok(v.kind() == ValueKind::Bool));
    add(env, &["mapping"], |_, v| Ok(v.kind() == ValueKind::Map));
    add(env, &["sequence"], |_, v| {
        Ok(matches!(
            v.kind(),
            ValueKind::Seq | ValueKind::String | ValueKind::Map
        ))
    });
    add(env, &["iterable"], |_, v| {
        Ok(matches!(
            v.kind(),
            ValueKind::Seq | ValueKind::String | ValueKind::Map | ValueKind::Iterable
        ))
    });
    add(env, &["callable"], |_, v| Ok(v.kind() == ValueKind::Plain));
    add(env, &["equalto", "eq", "==", "sameas"], |a, v| {
        need(&v)?;
        let o = arg0(a);
        need(&o)?;
        if v.kind() == ValueKind::Bool || o.kind() == ValueKind::Bool {
            return Ok(v.kind() == o.kind() && v == o);
        }
        Ok(v == o)
    });
    add(env, &["ne", "!="], |a, v| {
        need(&v)?;
        Ok(v != arg0(a))
    });
    add(env, &["gt", ">", "greaterthan"], |a, v| {
        compare(a, &v, &[Ordering::Greater])
    });
    add(env, &["ge", ">="], |a, v| {
        compare(a, &v, &[Ordering::Greater, Ordering::Equal])
    });
    add(env, &["lt", "<", "lessthan"], |a, v| {
        compare(a, &v, &[Ordering::Less])
    });
    add(env, &["le", "<="], |a, v| {
        compare(a, &v, &[Ordering::Less, Ordering::Equal])
    });
    add(env, &["in"], |a, v| {
        need(&v)?;
        contains(&arg0(a), &v)
    });
    add(env, &["contains"], |a, v| {
        need(&v)?;
        contains(&v, &arg0(a))
    });
    add(env, &["match"], |a, v| regex_test(a, &v, "match"));
    add(env, &["search"], |a, v| regex_test(a, &v, "search"));
    add(env, &["regex"], |a, v| {
        let mode = a.str(99, "match_type").unwrap_or_else(|| "search".into());
        regex_test(a, &v, &mode)
    });
    add(env, &["subset", "issubset"], |a, v| {
        let other = arg0(a);
        let xs = super::filters::items(&v)?;
        let ys = super::filters::items(&other)?;
        Ok(xs.iter().all(|x| ys.contains(x)))
    });
    add(env, &["superset", "issuperset"], |a, v| {
        let other = arg0(a);
        let xs = super::filters::items(&v)?;
        let ys = super::filters::items(&other)?;
        Ok(ys.iter().all(|y| xs.contains(y)))
    });
    add(env, &["truthy"], |a, v| {
        need(&v)?;
        Ok(truthy(&v, a.bool(0, "convert_bool", false)))
    });
    add(env, &["falsy"], |a, v| {
        need(&v)?;
        Ok(!truthy(&v, a.bool(0, "convert_bool", false)))
    });
    add(env, &["divisibleby"], |a, v| {
        need(&v)?;
        let (x, y) = (
            num(&v).ok_or_else(|| err("divisibleby needs a number"))?,
            num(&arg0(a)).unwrap_or(1.0),
        );
        Ok(y != 0.0 && x % y == 0.0)
    });
    add(env, &["even"], |_, v| {
        Ok(num(&v).is_some_and(|x| x % 2.0 == 0.0))
    });
    add(env, &["odd"], |_, v| {
        Ok(num(&v).is_some_and(|x| x.abs() % 2.0 == 1.0))
    });
    add(env, &["lower"], |_, v| {
        Ok(v.as_str().is_some_and(|s| s.to_lowercase() == s))
    });
    add(env, &["upper"], |_, v| {
        Ok(v.as_str().is_some_and(|s| s.to_uppercase() == s))
    });
    add(env, &["nan", "isnan"], |_, v| {
        Ok(num(&v).is_some_and(f64::is_nan))
    });
    add(env, &["uri"], |a, v| Ok(is_uri(&v, a.get(0, "schemes"))));
    add(env, &["url"], |a, v| {
        Ok(is_uri(&v, a.get(0, "schemes"))
            && v.as_str()
                .map(urlparse)
                .is_some_and(|(scheme, netloc)| !netloc.is_empty() || scheme == "file"))
    });
    add(env, &["urn"], |_, v| {
        Ok(is_uri(&v, Some(&Value::from(vec![Value::from("urn")]))))
    });
    add(env, &["unreachable"], |_, v| {
        result_field("unreachable", &v, "unreachable")
    });
    add(env, &["reachable"], |_, v| {
        Ok(!result_field("unreachable", &v, "unreachable")?)
    });
    add(env, &["timedout"], |_, v| {
        need(&v)?;
        if v.kind() != ValueKind::Map {
            return Err(err("The 'timedout' test expects a dictionary"));
        }
        let t = v.get_attr("timedout").unwrap_or_default();
        if t.is_undefined() || !super::pyrepr::py_truthy(&t) {
            return Ok(false);
        }
        let period = t.get_attr("period").unwrap_or_default();
        Ok(!period.is_undefined() && super::pyrepr::py_truthy(&period))
    });
    // Vault is not simulated: no value is vault-encrypted, and a controller file is one only
    // if it starts with the vault header.
    add(env, &["vault_encrypted"], |_, _| Ok(false));
    add(env, &["vaulted_file"], |_, v| {
        let p = py_str(&v);
        let text = super::current().and_then(|c| c.0.lookup.read_file(&p));
        match text {
            Some(t) => Ok(t.starts_with("$ANSIBLE_VAULT")),
            None => Err(err(format!(
                "Cannot test if the file {} is a vault.",
                super::pyrepr::str_repr(&p)
            ))),
        }
    });
    add(env, &["all"], |_, v| {
        Ok(super::filters::items(&v)?.iter().all(|x| x.is_true()))
    });
    add(env, &["any"], |_, v| {
        Ok(super::filters::items(&v)?.iter().any(|x| x.is_true()))
    });
    add(env, &["failed", "failure"], |_, v| {
        result_field("failed", &v, "failed")
    });
    add(env, &["succeeded", "success", "successful"], |_, v| {
        Ok(!result_field("succeeded", &v, "failed")?)
    });
    add(env, &["changed", "change"], |_, v| {
        // A loop's result has no `changed` of its own: any item changed (ansible-core reads
        // `results[0]` first to see it is a list of results, so an empty one is an error).
        let own = v.get_attr("changed").unwrap_or_default();
        let results = v.get_attr("results").unwrap_or_default();
        if v.kind() == ValueKind::Map && own.is_undefined() && results.kind() == ValueKind::Seq {
            let items = super::filters::items(&results)?;
            let first = items
                .first()
                .ok_or_else(|| err("list index out of range"))?;
            if first.kind() == ValueKind::Map {
                return Ok(items.iter().any(|r| {
                    let c = r.get_attr("changed").unwrap_or_default();
                    !c.is_undefined() && truthy_arg(&c)
                }));
            }
        }
        result_field("changed", &v, "changed")
    });
    add(env, &["skipped", "skip"], |_, v| {
        result_field("skipped", &v, "skipped")
    });
    // A result without the key is no async job: Ansible warns and answers True (fleetsim
    // has no warning channel out of templating yet, so only the answer is the same).
    add(env, &["finished"], |_, v| {
        need(&v)?;
        if v.kind() != ValueKind::Map {
            return Err(err("The 'finished' test expects a dictionary"));
        }
        let f = v.get_attr("finished").unwrap_or_default();
        Ok(f.is_undefined() || truthy_arg(&f))
    });
    add(env, &["started"], |_, v| {
        need(&v)?;
        if v.kind() != ValueKind::Map {
            return Err(err("The 'started' test expects a dictionary"));
        }
        let f = v.get_attr("started").unwrap_or_default();
        Ok(f.is_undefined() || truthy_arg(&f))
    });
    add(env, &["version", "version_compare"], |a, v| {
        need(&v)?;
        let other = a
            .str(0, "version")
            .ok_or_else(|| err("Version parameter to compare against is required"))?;
        let op = a.str(1, "operator").unwrap_or_else(|| "eq".into());
        let strict = a.bool(2, "strict", false);
        let vtype = a.str(3, "version_type");
        let strict_given = a.get(2, "strict").is_some_and(|x| !x.is_none());
        if strict_given && vtype.is_some() {
            return Err(err("Cannot specify both 'strict' and 'version_type'"));
        }
        let s = py_str(&v);
        if s.is_empty() {
            return Err(err("Input version value cannot be empty"));
        }
        if other.is_empty() {
            return Err(err("Version parameter to compare against cannot be empty"));
        }
        version_compare(&s, &other, &op, strict, vtype.as_deref())
    });
    add(env, &["same_file", "is_same_file"], |a, v| {
        need(&v)?;
        let other = py_str(&arg0(a));
        let p = py_str(&v);
        let host = super::current().map(|c| c.0.lookup.clone());
        let canon = |x: &str| {
            host.as_ref()
                .filter(|h| h.exists(x))
                .map(|_| super::filters::abspath(x))
        };
        match (canon(&p), canon(&other)) {
            (Some(x), Some(y)) => Ok(x == y),
            (None, _) => Err(err(format!(
                "[Errno 2] No such file or directory: {}",
                super::pyrepr::str_repr(&p)
            ))),
            (_, None) => Err(err(format!(
                "[Errno 2] No such file or directory: {}",
                super::pyrepr::str_repr(&other)
            ))),
        }
    });
    add(env, &["mount", "is_mount"], |_, v| {
        need(&v)?;
        // The simulated controller has one filesystem: only its root is a mount point.
        Ok(super::filters::abspath(&py_str(&v)) == "/")
    });
    for (name, which) in [
        ("file", 0u8),
        ("link_exists", 5),
        ("directory", 1),
        ("exists", 2),
        ("link", 3),
        ("abs", 4),
        ("is_file", 0),
        ("is_dir", 1),
        ("is_link", 3),
        ("is_abs", 4),
    ] {
        add(env, &[name], move |_, v| {
            need(&v)?;
            let p = py_str(&v);
            if which == 4 {
                return Ok(p.starts_with('/'));
            }
            let host = match super::current() {
                Some(c) => c.0.lookup.clone(),
                None => return Ok(false),
            };
            Ok(match which {
                0 => host.is_file(&p),
                1 => host.is_dir(&p),
                3 => host.is_link(&p),
                5 => host.exists(&p) || host.is_link(&p),
                _ => host.exists(&p),
            })
        });
    }
}
