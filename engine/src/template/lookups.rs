//! Lookups (`lookup('file', ...)`, `query`/`q`) served by the simulated controller through the
//! [`LookupHost`] trait, with Ansible's result munging (`wantlist`, comma joining, `errors=`).

use indexmap::IndexMap;
use minijinja::value::{Rest, Value, ValueKind};
use minijinja::{Environment, Error, ErrorKind, State};

use super::filters::{err, exact, items, shell_quote};
use super::methods::split_args;
use super::pyrepr::py_str;

/// The controller as lookups and path tests see it; implemented by the executor.
/// Every method has a conservative default so implementers add only what they simulate.
pub trait LookupHost: Send + Sync {
    /// Resolve a relative file name for a lookup, trying the search paths (role `files/` or
    /// `templates/` per `subdir`, the playbook dir, ...). Absolute paths should be returned as is
    /// when they exist.
    fn find_file(&self, _name: &str, _subdir: &str) -> Option<String> {
        None
    }
    /// Read a controller file.
    fn read_file(&self, _path: &str) -> Option<String> {
        None
    }
    /// A file's bytes (for lookups that decode another encoding than UTF-8).
    fn read_bytes(&self, _path: &str) -> Option<Vec<u8>> {
        None
    }
    /// Write a controller file (the `password` lookup stores generated passwords).
    fn write_file(&self, _path: &str, _content: &str) -> bool {
        false
    }
    /// A controller environment variable.
    fn env(&self, _name: &str) -> Option<String> {
        None
    }
    /// Run a command on the controller (`pipe`, `lines`): stdout, or an error message.
    fn pipe(&self, _cmd: &str) -> Result<String, String> {
        Err("pipe lookups are not available".into())
    }
    /// Path tests (`is file`, `is directory`, `is exists`, `is link`) on the controller.
    fn exists(&self, _path: &str) -> bool {
        false
    }
    fn is_file(&self, _path: &str) -> bool {
        false
    }
    fn is_dir(&self, _path: &str) -> bool {
        false
    }
    fn is_link(&self, _path: &str) -> bool {
        false
    }
    /// The names in a controller folder (`fileglob`), or `None` if it is not one.
    fn list_dir(&self, _path: &str) -> Option<Vec<String>> {
        None
    }
    /// The folders relative lookup names are searched in, most specific first (role, play
    /// folder, ...): `fileglob` globs a bare pattern in each one's `files/` and itself.
    fn search_dirs(&self) -> Vec<String> {
        Vec::new()
    }
    /// The (virtual) current time as epoch seconds, for `strftime` without a time.
    fn now_epoch(&self) -> Option<f64> {
        None
    }
    /// A controller file's modification time, epoch seconds (`template_mtime`).
    fn mtime(&self, _path: &str) -> Option<f64> {
        None
    }
}

/// A [`LookupHost`] with nothing behind it.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoLookups;

impl LookupHost for NoLookups {}

fn lookup_err(name: &str, msg: impl std::fmt::Display) -> Error {
    exact(
        ErrorKind::InvalidOperation,
        format!("The lookup plugin '{name}' failed: {msg}"),
    )
}

fn host() -> Result<std::sync::Arc<dyn LookupHost>, Error> {
    super::current()
        .map(|c| c.0.lookup.clone())
        .ok_or_else(|| err("lookups need a running template"))
}

fn flat_terms(terms: &[Value]) -> Result<Vec<Value>, Error> {
    let mut out = Vec::new();
    for t in terms {
        if t.kind() == ValueKind::Seq {
            out.extend(t.try_iter()?);
        } else {
            out.push(t.clone());
        }
    }
    Ok(out)
}

fn kw<'a>(kwargs: &'a [(String, Value)], name: &str) -> Option<&'a Value> {
    kwargs.iter().find(|(k, _)| k == name).map(|(_, v)| v)
}

/// The `template` lookup's options for the file at `path`, checked as its config does:
/// the delimiters and `trim_blocks` for the render, the folders `{% include %}` searches
/// (the file's own, then each search folder's `templates/` and the folder itself, as
/// ansible-core builds it from `ansible_search_path`) and `template_vars`, the variables
/// it adds. `convert_data` and `jinja2_native` are deprecated options ansible-core no longer
/// reads (it always renders natively); options it does not know it ignores too.
fn template_options(
    kwargs: &[(String, Value)],
    path: &str,
    h: &std::sync::Arc<dyn LookupHost>,
) -> Result<
    (
        super::FileRender,
        Option<serde_json::Map<String, serde_json::Value>>,
    ),
    Error,
> {
    let invalid = |name: &str, ty: &str, v: &Value| {
        lookup_err(
            "template",
            format!(
                "Config '{name}' for 'template' lookup plugin from 'Direct' has an invalid value: Invalid value provided for '{ty}': {}",
                super::pyrepr::py_repr(v)
            ),
        )
    };
    let text = |name: &str, default: &str| -> Result<String, Error> {
        match kw(kwargs, name) {
            None => Ok(default.to_string()),
            Some(v) if matches!(v.kind(), ValueKind::Seq | ValueKind::Map) => {
                Err(invalid(name, "str", v))
            }
            Some(v) if v.is_none() => Ok(default.to_string()),
            Some(v) => Ok(py_str(v)),
        }
    };
    // ansible-core's non-strict `boolean`.
    let flag = |name: &str, default: bool| -> bool {
        match kw(kwargs, name) {
            None => default,
            Some(v) if v.kind() == ValueKind::Bool || v.kind() == ValueKind::Number => v.is_true(),
            Some(v) => matches!(
                py_str(v).to_lowercase().as_str(),
                "y" | "yes" | "on" | "1" | "true" | "t" | "1.0"
            ),
        }
    };
    let template_vars = match kw(kwargs, "template_vars") {
        None => None,
        Some(v) if v.is_none() => None,
        Some(v) if v.kind() == ValueKind::Map => match super::convert::to_json(v) {
            Ok(serde_json::Value::Object(m)) => Some(m),
            _ => return Err(invalid("template_vars", "dict", v)),
        },
        Some(v) => return Err(invalid("template_vars", "dict", v)),
    };
    let mut searchpath = Vec::new();
    if let Some((dir, _)) = path.rsplit_once('/') {
        searchpath.push(if dir.is_empty() { "/" } else { dir }.to_string());
    }
    for d in h.search_dirs() {
        searchpath.push(format!("{}/templates", d.trim_end_matches('/')));
        searchpath.push(d);
    }
    let opts = super::FileRender {
        variable: (
            text("variable_start_string", "{{")?,
            text("variable_end_string", "}}")?,
        ),
        comment: (
            text("comment_start_string", "{#")?,
            text("comment_end_string", "#}")?,
        ),
        trim_blocks: flag("trim_blocks", true),
        searchpath,
    };
    Ok((opts, template_vars))
}

/// ansible-core's `sequence` lookup for one term: the shortcut form
/// `[start-]end[/stride][:format]` or `key=value` options, each option checked as the
/// plugin's config does (an integer, "has an invalid value" otherwise).
fn sequence(term: &str, kwargs: &[(String, Value)]) -> Result<Vec<Value>, Error> {
    static SHORTCUT: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    let shortcut = SHORTCUT.get_or_init(|| {
        regex::Regex::new(r"(?i)^((0?x?[0-9a-f]+)-)?(0?x?[0-9a-f]+)(/(0?x?[0-9a-f]+))?(:(.+))?$")
            .expect("static regex")
    });
    let fail = |m: String| lookup_err("sequence", m);
    let int = |k: &str, v: &str| -> Result<i64, Error> {
        v.trim().replace('_', "").parse::<i64>().map_err(|_| {
            fail(format!(
                "Config '{k}' for 'sequence' lookup plugin from 'Direct' has an invalid value: Invalid value provided for 'integer': '{v}'"
            ))
        })
    };
    // Options given as keywords are the defaults of every term.
    let mut opts: Vec<(String, String)> =
        kwargs.iter().map(|(k, v)| (k.clone(), py_str(v))).collect();
    let mut set = |k: &str, v: String| {
        opts.retain(|(o, _)| o != k);
        opts.push((k.to_string(), v));
    };
    if let Some(c) = shortcut.captures(term) {
        for (k, g) in [("start", 2), ("end", 3), ("stride", 5), ("format", 7)] {
            if let Some(m) = c.get(g) {
                set(k, m.as_str().to_string());
            }
        }
    } else {
        let mut kv = crate::playbook::kv::parse_kv(term, false);
        for f in ["start", "end", "stride", "count", "format"] {
            if let Some(v) = kv.shift_remove(f) {
                set(f, json_text(&v));
            }
        }
        if !kv.is_empty() {
            let keys: Vec<String> = kv.keys().map(|k| format!("'{k}'")).collect();
            return Err(fail(format!(
                "unrecognized arguments to with_sequence: [{}]",
                keys.join(", ")
            )));
        }
    }
    let get = |k: &str| opts.iter().find(|(o, _)| o == k).map(|(_, v)| v.clone());
    let opt_int = |k: &str| get(k).map(|v| int(k, &v)).transpose();
    let start = opt_int("start")?.unwrap_or(1);
    let mut end = opt_int("end")?;
    let count = opt_int("count")?;
    let stride = opt_int("stride")?.unwrap_or(1);
    let format = get("format").unwrap_or_else(|| "%d".to_string());
    match (count, end) {
        (None, None) => return Err(fail("must specify count or end in with_sequence".into())),
        (Some(_), Some(_)) => {
            return Err(fail(
                "can't specify both count and end in with_sequence".into(),
            ))
        }
        (Some(0), None) => return Ok(vec![]),
        (Some(c), None) => end = Some(start + c * stride - 1),
        _ => {}
    }
    let end = end.unwrap_or(0);
    if stride > 0 && end < start {
        return Err(fail("to count backwards make stride negative".into()));
    }
    if stride < 0 && end > start {
        return Err(fail("to count forward don't make stride negative".into()));
    }
    if stride == 0 {
        return Ok(vec![]);
    }
    if format.matches('%').count() != 1 {
        return Err(fail(format!("bad formatting string: {format}")));
    }
    let mut out = Vec::new();
    let mut i = start;
    while (stride > 0 && i <= end) || (stride < 0 && i >= end) {
        let s = super::pyformat::percent_format(&format, &Value::from(i))
            .map_err(|_| fail(format!("problem formatting {i} with '{format}'")))?;
        out.push(Value::from(s));
        i += stride;
        if out.len() > 100_000 {
            break;
        }
    }
    Ok(out)
}

/// A kv option's text (parse_kv gives strings; anything else in its Python form).
fn json_text(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn password(term: &str, kwargs: &[(String, Value)]) -> Result<Vec<Value>, Error> {
    let mut parts = term.split_whitespace();
    let path = parts.next().unwrap_or("/dev/null").to_string();
    let mut length = 20usize;
    let mut chars = String::new();
    for p in parts {
        if let Some((k, v)) = p.split_once('=') {
            match k {
                "length" => length = v.parse().unwrap_or(20),
                "chars" => chars = v.to_string(),
                _ => {}
            }
        }
    }
    if let Some(l) = kw(kwargs, "length").and_then(|v| v.as_i64()) {
        length = l.max(1) as usize;
    }
    if let Some(c) = kw(kwargs, "chars") {
        chars = if c.kind() == ValueKind::Seq {
            c.try_iter()?
                .map(|x| py_str(&x))
                .collect::<Vec<_>>()
                .join(",")
        } else {
            py_str(c)
        };
    }
    let h = host()?;
    if path != "/dev/null" {
        if let Some(existing) = h.read_file(&path) {
            let first = existing.lines().next().unwrap_or("");
            return Ok(vec![Value::from(
                first.split(" salt=").next().unwrap_or(first),
            )]);
        }
    }
    let mut alphabet = String::new();
    let set = if chars.is_empty() {
        "ascii_letters,digits,.,:-_".to_string()
    } else {
        chars
    };
    for c in set.split(',') {
        match c {
            "ascii_letters" => {
                alphabet.push_str("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
            }
            "ascii_lowercase" => alphabet.push_str("abcdefghijklmnopqrstuvwxyz"),
            "ascii_uppercase" => alphabet.push_str("ABCDEFGHIJKLMNOPQRSTUVWXYZ"),
            "digits" => alphabet.push_str("0123456789"),
            "hexdigits" => alphabet.push_str("0123456789abcdefABCDEF"),
            "punctuation" => alphabet.push_str("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"),
            other => alphabet.push_str(other),
        }
    }
    if alphabet.is_empty() {
        alphabet.push(',');
    }
    let alpha: Vec<char> = alphabet.chars().collect();
    let inner = super::current().map(|c| c.0);
    let pw: String = (0..length)
        .map(|_| {
            let r = inner.as_ref().map(|i| i.next_random()).unwrap_or(7);
            alpha[(r % alpha.len() as u64) as usize]
        })
        .collect();
    if path != "/dev/null" {
        h.write_file(&path, &format!("{pw}\n"));
    }
    Ok(vec![Value::from(pw)])
}

/// Ansible's `subelements` lookup: (item, subitem) pairs from a list of dicts and a dotted key.
fn subelements(terms: &[Value]) -> Result<Vec<Value>, Error> {
    let fail = |m: &str| {
        lookup_err(
            "subelements",
            format!("subelements lookup expects a list of two or three items, {m}"),
        )
    };
    if !(2..=3).contains(&terms.len()) {
        return Err(fail(""));
    }
    let (list, key) = (&terms[0], &terms[1]);
    if !matches!(list.kind(), ValueKind::Seq | ValueKind::Map) || key.kind() != ValueKind::String {
        return Err(fail(
            "first a dict or a list, second a string pointing to the subkey",
        ));
    }
    let is_skipped = |v: &Value| {
        let s = v.get_attr("skipped").unwrap_or_default();
        !s.is_undefined() && (s.kind() != ValueKind::Bool || s.is_true())
    };
    let elements: Vec<Value> = if list.kind() == ValueKind::Map {
        if is_skipped(list) {
            return Ok(vec![]);
        }
        list.try_iter()?
            .map(|k| list.get_item(&k).unwrap_or_default())
            .collect()
    } else {
        list.try_iter()?.collect()
    };
    let flags = terms.get(2).cloned();
    if let Some(f) = &flags {
        if f.kind() != ValueKind::Map {
            return Err(fail(
                "the optional third item must be a dict with flags ('skip_missing',)",
            ));
        }
    }
    let skip_missing = flags
        .as_ref()
        .and_then(|f| f.get_attr("skip_missing").ok())
        .filter(|v| !v.is_undefined())
        .map(|v| super::filters::boolean_strict(&v).unwrap_or(false))
        .unwrap_or(false);
    let subkeys: Vec<String> = key
        .as_str()
        .unwrap_or("")
        .split('.')
        .map(String::from)
        .collect();
    let label = |v: &Value| super::pyrepr::py_repr(v);
    let mut out = Vec::new();
    for item0 in elements {
        if item0.kind() != ValueKind::Map {
            return Err(lookup_err(
                "subelements",
                format!(
                    "subelements lookup expects a dictionary, got '{}'",
                    py_str(&item0)
                ),
            ));
        }
        if is_skipped(&item0) {
            continue;
        }
        // Walk to the list; the last key is popped from (a copy of) its parent dict.
        let mut parent =
            super::convert::to_json(&item0).map_err(|e| err(e.message().to_string()))?;
        let mut path: Vec<String> = Vec::new();
        let mut sublist: Vec<serde_json::Value> = Vec::new();
        for (i, subkey) in subkeys.iter().enumerate() {
            let last = i + 1 == subkeys.len();
            let mut cur = &parent;
            for p in &path {
                cur = &cur[p.as_str()];
            }
            let Some(value) = cur.get(subkey.as_str()) else {
                if skip_missing {
                    continue;
                }
                return Err(lookup_err(
                    "subelements",
                    format!(
                        "could not find '{subkey}' key in iterated item '{}'",
                        label(&super::convert::to_mj_static(cur))
                    ),
                ));
            };
            if !last {
                if !value.is_object() {
                    if skip_missing {
                        continue;
                    }
                    return Err(lookup_err(
                        "subelements",
                        format!(
                            "the key {subkey} should point to a dictionary, got '{}'",
                            label(&super::convert::to_mj_static(value))
                        ),
                    ));
                }
                path.push(subkey.clone());
            } else {
                let serde_json::Value::Array(items) = value else {
                    return Err(lookup_err(
                        "subelements",
                        format!(
                            "the key {subkey} should point to a list, got '{}'",
                            label(&super::convert::to_mj_static(value))
                        ),
                    ));
                };
                sublist = items.clone();
                let mut cur = &mut parent;
                for p in &path {
                    cur = &mut cur[p.as_str()];
                }
                if let Some(m) = cur.as_object_mut() {
                    m.shift_remove(subkey.as_str());
                }
            }
        }
        let parent = super::convert::to_mj_static(&parent);
        for item1 in sublist {
            out.push(Value::from(vec![
                parent.clone(),
                super::convert::to_mj_static(&item1),
            ]));
        }
    }
    Ok(out)
}

/// Ansible's settings with their defaults (`ansible-config` with no configuration file,
/// as root), for the `config` lookup.
static CONFIG_DEFAULTS: std::sync::LazyLock<serde_json::Map<String, serde_json::Value>> =
    std::sync::LazyLock::new(|| {
        serde_json::from_str(include_str!("config_defaults.json")).unwrap_or_default()
    });

/// The `config` lookup: Ansible's settings, which fleetsim runs with at their defaults.
fn config(terms: &[Value], kwargs: &[(String, Value)]) -> Result<Vec<Value>, Error> {
    let on_missing = kw(kwargs, "on_missing")
        .map(py_str)
        .unwrap_or_else(|| "error".into());
    if !matches!(on_missing.as_str(), "error" | "warn" | "skip") {
        return Err(lookup_err(
            "config",
            format!(
                "\"on_missing\" must be a string and one of \"error\", \"warn\" or \"skip\", not {on_missing}"
            ),
        ));
    }
    if kw(kwargs, "plugin_type").is_some() || kw(kwargs, "plugin_name").is_some() {
        return Err(lookup_err(
            "config",
            "fleetsim does not simulate plugin settings (plugin_type/plugin_name)",
        ));
    }
    let mut out = Vec::new();
    for t in flat_terms(terms)? {
        let Some(name) = t.as_str() else {
            return Err(lookup_err(
                "config",
                format!(
                    "Invalid setting identifier, \"{}\" is not a string, its a <class '{}'>",
                    py_str(&t),
                    super::pyrepr::py_type_name(&t)
                ),
            ));
        };
        // A setting fleetsim honours has the value the run uses; any other its default
        // (fleetsim reports the ones it does not honour when they are set).
        if let Some(v) = crate::config::honoured_value(name) {
            out.push(super::convert::to_mj_static(&v));
            continue;
        }
        match CONFIG_DEFAULTS.get(name) {
            Some(v) => out.push(super::convert::to_mj_static(v)),
            None if on_missing == "error" => {
                return Err(lookup_err(
                    "config",
                    format!("Unable to find setting {name}"),
                ))
            }
            None => {}
        }
    }
    Ok(out)
}

/// Hosts of `groups` (the `groups` variable) matching a host pattern: `a:b`, `a,b`, `a:&b`,
/// `a:!b`, wildcards and `~regex`.
fn match_hosts(groups: &Value, pattern: &str) -> Result<Vec<String>, Error> {
    let all: Vec<String> = groups
        .get_attr("all")
        .ok()
        .filter(|v| !v.is_undefined())
        .map(|v| items(&v).unwrap_or_default().iter().map(py_str).collect())
        .unwrap_or_default();
    let resolve = |p: &str| -> Vec<String> {
        if p == "all" || p == "*" {
            return all.clone();
        }
        if let Ok(g) = groups.get_attr(p) {
            if !g.is_undefined() {
                return items(&g).unwrap_or_default().iter().map(py_str).collect();
            }
        }
        let matcher = crate::inventory::pattern::Matcher::new(p).ok();
        let mut out: Vec<String> = Vec::new();
        if let Ok(keys) = groups.try_iter() {
            for gname in keys {
                let gname = py_str(&gname);
                if matcher.as_ref().is_some_and(|m| m.is_match(&gname)) {
                    if let Ok(g) = groups.get_attr(&gname) {
                        for h in items(&g).unwrap_or_default() {
                            let h = py_str(&h);
                            if !out.contains(&h) {
                                out.push(h);
                            }
                        }
                    }
                }
            }
        }
        for h in &all {
            if (h == p || matcher.as_ref().is_some_and(|m| m.is_match(h))) && !out.contains(h) {
                out.push(h.clone());
            }
        }
        out
    };
    let mut selected: Vec<String> = Vec::new();
    let parts = crate::inventory::pattern::order_patterns(
        &crate::inventory::pattern::split_host_pattern(pattern),
    );
    for part in parts {
        if let Some(p) = part.strip_prefix('!') {
            let drop = resolve(p);
            selected.retain(|h| !drop.contains(h));
        } else if let Some(p) = part.strip_prefix('&') {
            let keep = resolve(p);
            selected.retain(|h| keep.contains(h));
        } else {
            for h in resolve(&part) {
                if !selected.contains(&h) {
                    selected.push(h);
                }
            }
        }
    }
    // Inventory order, as Ansible lists matched hosts.
    let mut ordered: Vec<String> = all
        .iter()
        .filter(|h| selected.contains(h))
        .cloned()
        .collect();
    ordered.extend(selected.into_iter().filter(|h| !all.contains(h)));
    Ok(ordered)
}

/// Every lookup [`run`] serves (`lookup('NAME', ...)`, `query`, `with_NAME`).
pub const LOOKUP_NAMES: &[&str] = &[
    "cartesian",
    "config",
    "csvfile",
    "dict",
    "env",
    "file",
    "fileglob",
    "first_found",
    "indexed_items",
    "ini",
    "inventory_hostnames",
    "items",
    "lines",
    "list",
    "nested",
    "password",
    "pipe",
    "quote",
    "random_choice",
    "sequence",
    "subelements",
    "template",
    "together",
    "unvault",
    "url",
    "varnames",
    "vars",
];

fn run(name: &str, terms: &[Value], kwargs: &[(String, Value)]) -> Result<Vec<Value>, Error> {
    let short = name.strip_prefix("ansible.builtin.").unwrap_or(name);
    match short {
        "file" | "template" => {
            let h = host()?;
            let subdir = if short == "file" {
                "files"
            } else {
                "templates"
            };
            let mut out = Vec::new();
            for t in flat_terms(terms)? {
                let term = py_str(&t);
                let path = h.find_file(&term, subdir).ok_or_else(|| {
                    lookup_err(short, format!("Unable to access the file {}: File not found. Use -vvvvv to see paths searched.", super::pyrepr::str_repr(&term)))
                })?;
                let text = h.read_file(&path).ok_or_else(|| {
                    lookup_err(
                        short,
                        format!(
                            "Unable to access the file {}.",
                            super::pyrepr::str_repr(&term)
                        ),
                    )
                })?;
                if short == "file" {
                    let rstrip = kw(kwargs, "rstrip").map(|v| v.is_true()).unwrap_or(true);
                    let lstrip = kw(kwargs, "lstrip").map(|v| v.is_true()).unwrap_or(false);
                    let mut s = text.as_str();
                    if rstrip {
                        s = s.trim_end();
                    }
                    if lstrip {
                        s = s.trim_start();
                    }
                    out.push(Value::from(s));
                } else {
                    let opts = template_options(kwargs, &path, &h)?;
                    let (inner, ctx) = super::current().ok_or_else(|| err("no render"))?;
                    let now = h.now_epoch().unwrap_or(0.0);
                    let vars = super::with_template_file_vars(
                        &ctx.vars,
                        &super::TemplateFile {
                            written: &term,
                            fullpath: &path,
                            dest: None,
                            mtime: h.mtime(&path).unwrap_or(now),
                            now,
                        },
                    );
                    let vars = match &opts.1 {
                        Some(extra) => super::file_vars::with_vars_over(&vars, extra.clone()),
                        None => vars,
                    };
                    let ctx = super::vars::Ctx::new(vars, inner.clone());
                    // An error templating the file is not the plugin's: ansible-core's
                    // templar turns it into a marker that the lookup hands back, so it
                    // surfaces as it is (`'x' is undefined`, a syntax error, a filter's).
                    let rendered = inner.render_file_in(&text, &ctx, &opts.0).map_err(|e| {
                        let kind = if *e.kind() == super::TemplateErrorKind::Undefined {
                            ErrorKind::UndefinedError
                        } else {
                            ErrorKind::InvalidOperation
                        };
                        exact(kind, e.message())
                    })?;
                    out.push(super::convert::to_mj_owned(rendered));
                }
            }
            Ok(out)
        }
        "csvfile" => csvfile(terms, kwargs),
        "ini" => ini(terms, kwargs),
        "vars" => {
            let (_, ctx) = super::current().ok_or_else(|| err("no render"))?;
            let mut out = Vec::new();
            // Terms are not flattened: each one must be a name.
            for t in terms {
                if t.kind() != ValueKind::String {
                    return Err(lookup_err(
                        "vars",
                        format!(
                            "Variable name must be 'str' not '{}'.",
                            super::pyrepr::py_type_name(t)
                        ),
                    ));
                }
                let name = py_str(t);
                match ctx.resolve(&name) {
                    Some(v) => out.push(v),
                    None => match kw(kwargs, "default") {
                        Some(d) => out.push(d.clone()),
                        None => {
                            return Err(exact(
                                ErrorKind::UndefinedError,
                                format!(
                                    "No variable named {} was found.",
                                    super::pyrepr::str_repr(&name)
                                ),
                            ))
                        }
                    },
                }
            }
            Ok(out)
        }
        "env" => {
            let h = host()?;
            let dflt = kw(kwargs, "default").cloned().unwrap_or(Value::from(""));
            Ok(flat_terms(terms)?
                .iter()
                .map(|t| h.env(&py_str(t)).map(Value::from).unwrap_or(dflt.clone()))
                .collect())
        }
        "items" | "list" => {
            if short == "list" {
                return Ok(terms.to_vec());
            }
            flat_terms(terms)
        }
        "pipe" | "lines" => {
            let h = host()?;
            let mut out = Vec::new();
            for t in flat_terms(terms)? {
                let cmd = py_str(&t);
                let stdout = h.pipe(&cmd).map_err(|e| lookup_err(short, e))?;
                if short == "pipe" {
                    out.push(Value::from(stdout.trim_end_matches('\n')));
                } else {
                    out.extend(stdout.lines().map(Value::from));
                }
            }
            Ok(out)
        }
        "first_found" => {
            let h = host()?;
            let mut files = Vec::new();
            let mut paths: Vec<String> = Vec::new();
            let mut skip = kw(kwargs, "skip").map(|v| v.is_true()).unwrap_or(false);
            let add_files = |v: &Value, files: &mut Vec<String>| -> Result<(), Error> {
                if v.kind() == ValueKind::Seq {
                    for f in v.try_iter()? {
                        files.push(py_str(&f));
                    }
                } else {
                    files.extend(py_str(v).split([',', ';']).map(|s| s.trim().to_string()));
                }
                Ok(())
            };
            if let Some(f) = kw(kwargs, "files") {
                add_files(f, &mut files)?;
            }
            if let Some(p) = kw(kwargs, "paths") {
                let mut ps = Vec::new();
                add_files(p, &mut ps)?;
                paths.extend(ps);
            }
            for t in flat_terms(terms)? {
                if t.kind() == ValueKind::Map {
                    if let Ok(f) = t.get_attr("files") {
                        if !f.is_undefined() {
                            add_files(&f, &mut files)?;
                        }
                    }
                    if let Ok(p) = t.get_attr("paths") {
                        if !p.is_undefined() {
                            let mut ps = Vec::new();
                            add_files(&p, &mut ps)?;
                            paths.extend(ps);
                        }
                    }
                    if let Ok(s) = t.get_attr("skip") {
                        skip = skip || s.is_true();
                    }
                } else {
                    files.push(py_str(&t));
                }
            }
            for f in &files {
                let candidates: Vec<String> = if paths.is_empty() || f.starts_with('/') {
                    vec![f.clone()]
                } else {
                    paths
                        .iter()
                        .map(|p| format!("{}/{f}", p.trim_end_matches('/')))
                        .collect()
                };
                for c in candidates {
                    if let Some(found) = h.find_file(&c, "files") {
                        return Ok(vec![Value::from(found)]);
                    }
                }
            }
            if skip {
                return Ok(vec![]);
            }
            Err(lookup_err(
                "first_found",
                "No file was found when using first_found.",
            ))
        }
        "sequence" => {
            let mut out = Vec::new();
            // With keywords only there is still one (empty) term to loop over.
            if terms.is_empty() && !kwargs.is_empty() {
                out.extend(sequence("", kwargs)?);
            }
            for t in flat_terms(terms)? {
                out.extend(sequence(&py_str(&t), kwargs)?);
            }
            Ok(out)
        }
        "dict" => {
            let mut out = Vec::new();
            for t in terms {
                if t.kind() != ValueKind::Map {
                    return Err(lookup_err("dict", "with_dict expects a dict"));
                }
                for k in t.try_iter()? {
                    let v = t.get_item(&k)?;
                    out.push(Value::from_iter([("key", k), ("value", v)]));
                }
            }
            Ok(out)
        }
        "indexed_items" => Ok(flat_terms(terms)?
            .into_iter()
            .enumerate()
            .map(|(i, v)| Value::from(vec![Value::from(i), v]))
            .collect()),
        "nested" | "cartesian" => {
            let mut acc: Vec<Vec<Value>> = vec![vec![]];
            for t in terms {
                let xs = items(t)?;
                let mut next = Vec::new();
                for p in &acc {
                    for x in &xs {
                        let mut q = p.clone();
                        q.push(x.clone());
                        next.push(q);
                    }
                }
                acc = next;
            }
            Ok(acc.into_iter().map(Value::from).collect())
        }
        "together" => {
            if terms.is_empty() {
                return Err(lookup_err(
                    "together",
                    "with_together requires at least one element in each list",
                ));
            }
            let lists: Vec<Vec<Value>> = terms.iter().map(items).collect::<Result<_, _>>()?;
            let n = lists.iter().map(Vec::len).max().unwrap_or(0);
            Ok((0..n)
                .map(|i| {
                    Value::from(
                        lists
                            .iter()
                            .map(|l| l.get(i).cloned().unwrap_or(Value::from(())))
                            .collect::<Vec<_>>(),
                    )
                })
                .collect())
        }
        "password" => {
            let mut out = Vec::new();
            for t in flat_terms(terms)? {
                out.extend(password(&py_str(&t), kwargs)?);
            }
            Ok(out)
        }
        "random_choice" => {
            let xs = flat_terms(terms)?;
            if xs.is_empty() {
                return Ok(vec![]);
            }
            let r = super::current().map(|c| c.0.next_random()).unwrap_or(0);
            Ok(vec![xs[(r % xs.len() as u64) as usize].clone()])
        }
        "varnames" => {
            let (_, ctx) = super::current().ok_or_else(|| err("no render"))?;
            let names = ctx.vars.names();
            let mut out = Vec::new();
            for t in flat_terms(terms)? {
                let Some(pattern) = t.as_str() else {
                    return Err(lookup_err(
                        "varnames",
                        format!(
                            "Invalid setting identifier, \"{}\" is not a string, it is a <class '{}'>",
                            py_str(&t),
                            super::pyrepr::py_type_name(&t)
                        ),
                    ));
                };
                let re = super::filters::regex_compile(pattern, None).map_err(|e| {
                    let detail = e.detail().unwrap_or_default();
                    lookup_err(
                        "varnames",
                        format!(
                            "Unable to use \"{pattern}\" as a search parameter: {}",
                            python_re_error(detail).unwrap_or_else(|| detail.to_string())
                        ),
                    )
                })?;
                for n in &names {
                    if re.is_match(n).unwrap_or(false) {
                        out.push(Value::from(n.as_str()));
                    }
                }
            }
            Ok(out)
        }
        "subelements" => subelements(terms),
        "fileglob" => {
            let h = host()?;
            let mut out = Vec::new();
            for t in flat_terms(terms)? {
                let term = py_str(&t);
                let (dir, file) = match term.rfind('/') {
                    Some(i) => (Some(&term[..i]), &term[i + 1..]),
                    None => (None, term.as_str()),
                };
                let dirs: Vec<String> = match dir {
                    Some(d) => {
                        let d = if d.is_empty() { "/" } else { d };
                        h.find_file(d, "files").into_iter().collect()
                    }
                    None => h
                        .search_dirs()
                        .into_iter()
                        .flat_map(|p| [format!("{}/files", p.trim_end_matches('/')), p])
                        .collect(),
                };
                for d in dirs {
                    let found =
                        super::filters::glob_files(&format!("{}/{file}", d.trim_end_matches('/')));
                    if !found.is_empty() {
                        out.extend(found.into_iter().map(Value::from));
                        break;
                    }
                }
            }
            Ok(out)
        }
        "unvault" => {
            let h = host()?;
            let mut out = Vec::new();
            for t in flat_terms(terms)? {
                let term = py_str(&t);
                let text = h
                    .find_file(&term, "files")
                    .and_then(|p| h.read_file(&p))
                    .ok_or_else(|| {
                        lookup_err(
                            "unvault",
                            format!("Unable to find file matching \"{term}\" "),
                        )
                    })?;
                // A vaulted file is decrypted with the run's secrets; another is its text.
                if crate::vault::is_encrypted(text.as_bytes()) {
                    let plain = crate::vault::decrypt_run(text.as_bytes())
                        .map_err(|e| lookup_err("unvault", e))?;
                    out.push(Value::from(String::from_utf8_lossy(&plain).into_owned()));
                    continue;
                }
                out.push(Value::from(text));
            }
            Ok(out)
        }
        "config" => config(terms, kwargs),
        "url" => Err(lookup_err(
            "url",
            "fleetsim does not reach the network: the url lookup cannot be simulated",
        )),
        "inventory_hostnames" => {
            let (_, ctx) = super::current().ok_or_else(|| err("no render"))?;
            let groups = ctx.resolve("groups").unwrap_or_default();
            let mut out = Vec::new();
            for t in flat_terms(terms)? {
                for h in match_hosts(&groups, &py_str(&t))? {
                    if !out.contains(&h) {
                        out.push(h);
                    }
                }
            }
            Ok(out.into_iter().map(Value::from).collect())
        }
        "quote" => Ok(flat_terms(terms)?
            .iter()
            .map(|t| Value::from(shell_quote(&py_str(t))))
            .collect()),
        _ => Err(exact(
            ErrorKind::InvalidOperation,
            format!("The lookup plugin '{short}' was not found."),
        )),
    }
}

/// Run lookup `name` on `terms` (already templated) for a `with_<name>` loop: its items.
pub(crate) fn run_for_loop(name: &str, terms: &[Value]) -> Result<Vec<Value>, Error> {
    run(name, terms, &[])
}

fn invoke(name: &str, args: &[Value], force_list: bool) -> Result<Value, Error> {
    let (terms, mut kwargs) = split_args(args);
    let wantlist = force_list
        || kwargs
            .iter()
            .find(|(k, _)| k == "wantlist")
            .is_some_and(|(_, v)| v.is_true());
    let errors = kwargs
        .iter()
        .find(|(k, _)| k == "errors")
        .map(|(_, v)| py_str(v))
        .unwrap_or_else(|| "strict".into());
    kwargs.retain(|(k, _)| k != "wantlist" && k != "errors");
    for t in &terms {
        if t.is_undefined() {
            return Err(Error::from(ErrorKind::UndefinedError));
        }
    }
    let res = match run(name, &terms, &kwargs) {
        Ok(r) => r,
        Err(e) if errors == "ignore" || errors == "warn" => {
            let _ = e;
            return Ok(if wantlist {
                Value::from(Vec::<Value>::new())
            } else {
                Value::from(())
            });
        }
        Err(e) => return Err(e),
    };
    if wantlist {
        return Ok(Value::from(res));
    }
    Ok(match res.len() {
        0 => Value::from(Vec::<Value>::new()),
        1 => res.into_iter().next().unwrap_or_default(),
        _ if res.iter().all(|v| v.kind() == ValueKind::String) => {
            Value::from(res.iter().map(py_str).collect::<Vec<_>>().join(","))
        }
        _ => Value::from(res),
    })
}

pub(crate) fn register(env: &mut Environment<'static>) {
    env.add_function(
        "lookup",
        |_state: &State, name: String, rest: Rest<Value>| invoke(&name, &rest.0, false),
    );
    for q in ["query", "q"] {
        env.add_function(q, |_state: &State, name: String, rest: Rest<Value>| {
            invoke(&name, &rest.0, true)
        });
    }
    env.add_function("__mutlist", |v: Value| -> Result<Value, Error> {
        Ok(Value::from_object(super::mutable::MutList::new(
            v.try_iter()?.collect(),
        )))
    });
    env.add_function("__mutdict", |v: Value| -> Result<Value, Error> {
        let mut m = indexmap::IndexMap::new();
        for k in v.try_iter()? {
            let x = v.get_item(&k)?;
            m.insert(k, x);
        }
        Ok(Value::from_object(super::mutable::MutDict::new(m)))
    });
    env.add_function("__tuple", |v: Value| -> Result<Value, Error> {
        Ok(Value::from_object(super::mutable::Tuple(
            v.try_iter()?.collect(),
        )))
    });
    env.add_function(
        "__pyfmt",
        |fmt: String, args: Value| -> Result<Value, Error> {
            Ok(Value::from(super::pyformat::percent_format(&fmt, &args)?))
        },
    );
    // The divisor of `/` and `//` (see `rewrite`): Python's ZeroDivisionError for a zero
    // (False is the integer 0), the value itself otherwise. Whether the dividend is a float
    // is not known here: `5.0 / 0` says "division by zero" where Python says "float ...".
    env.add_function(
        "__pydivisor",
        |v: Value, op: String| -> Result<Value, Error> {
            let zero_int = (v.is_integer() && v.as_i64() == Some(0))
                || (v.kind() == ValueKind::Bool && !v.is_true());
            let zero_float =
                v.is_number() && !v.is_integer() && f64::try_from(v.clone()).ok() == Some(0.0);
            let message = match (op.as_str(), zero_int, zero_float) {
                ("/", true, _) => "division by zero",
                ("/", _, true) => "float division by zero",
                (_, true, _) => "integer division or modulo by zero",
                (_, _, true) => "float floor division by zero",
                _ => return Ok(v),
            };
            Err(Error::new(ErrorKind::InvalidOperation, message))
        },
    );
    env.add_function("dict", |args: Rest<Value>| super::filters::to_dict(&args.0));
    // ansible-core 2.19's `undef(hint)`: an undefined value (a lookup's `default=undef()`
    // makes a missing term undefined rather than a default text).
    env.add_function("undef", |_args: Rest<Value>| -> Result<Value, Error> {
        Ok(Value::UNDEFINED)
    });
    // `now(utc=False, fmt=None)`: the controller's (virtual) clock; without `fmt` Python would
    // return a datetime, printed as `YYYY-MM-DD HH:MM:SS.ffffff`, which is what we return.
    env.add_function("now", |args: Rest<Value>| -> Result<Value, Error> {
        let (_, kwargs) = split_args(&args.0);
        let epoch = super::current()
            .and_then(|c| c.0.lookup.now_epoch())
            .unwrap_or(0.0);
        let fmt = kw(&kwargs, "fmt")
            .map(py_str)
            .unwrap_or_else(|| "%Y-%m-%d %H:%M:%S.%f".into());
        Ok(Value::from(super::filters::strftime(&fmt, epoch)))
    });
}

/// A lookup option given as text or value, as ansible-core's `set_option` converts it.
/// csvfile's integer option `name`: a text that is no integer is refused as the config
/// system refuses it.
fn opt_int(name: &str, v: &Value) -> Result<i64, Error> {
    if let Some(i) = v.as_i64() {
        return Ok(i);
    }
    let s = py_str(v);
    if v.as_str().is_some() {
        return s.trim().parse::<i64>().map_err(|_| {
            lookup_err(
                "csvfile",
                format!(
                    "Config {} for 'csvfile' lookup plugin from 'Direct' has an invalid value: Invalid value provided for 'int': {}",
                    super::pyrepr::str_repr(name),
                    super::pyrepr::str_repr(&s)
                ),
            )
        });
    }
    s.trim().parse::<i64>().map_err(|_| {
        lookup_err(
            "csvfile",
            format!(
                "Invalid type for configuration option {}: int() argument is not an integer: {}",
                super::pyrepr::str_repr(name),
                super::pyrepr::str_repr(&s)
            ),
        )
    })
}

fn opt_bool(v: &Value) -> bool {
    match v.as_str() {
        Some(s) => matches!(
            s.trim().to_lowercase().as_str(),
            "1" | "true" | "yes" | "on" | "y" | "t"
        ),
        None => v.is_true(),
    }
}

/// Finds and reads a lookup's file in `files/` (through the lookup host, whose reads stay in
/// the controller's sandbox).
/// Python codec names fleetsim decodes: UTF-8 and ASCII, Latin-1 and ISO 8859-15.
fn known_encoding(encoding: &str) -> bool {
    codec(encoding).is_some()
}

/// The normalised codec for a Python encoding name.
fn codec(encoding: &str) -> Option<&'static str> {
    let e = encoding.trim().to_lowercase().replace('_', "-");
    match e.as_str() {
        "utf-8" | "utf8" | "ascii" | "us-ascii" => Some("utf-8"),
        "latin-1" | "latin1" | "iso8859-1" | "iso-8859-1" | "l1" | "8859" | "cp819" => {
            Some("latin-1")
        }
        "iso8859-15" | "iso-8859-15" | "latin-9" | "latin9" | "l9" => Some("iso8859-15"),
        _ => None,
    }
}

/// Bytes decoded as a single-byte codec: Latin-1 maps each byte to its code point; ISO
/// 8859-15 differs in eight places (the euro sign, Š, Ž, Œ, Ÿ...).
fn decode_single_byte(bytes: &[u8], codec: &str) -> String {
    bytes
        .iter()
        .map(|&b| match (codec, b) {
            ("iso8859-15", 0xA4) => '\u{20AC}',
            ("iso8859-15", 0xA6) => '\u{0160}',
            ("iso8859-15", 0xA8) => '\u{0161}',
            ("iso8859-15", 0xB4) => '\u{017D}',
            ("iso8859-15", 0xB8) => '\u{017E}',
            ("iso8859-15", 0xBC) => '\u{0152}',
            ("iso8859-15", 0xBD) => '\u{0153}',
            ("iso8859-15", 0xBE) => '\u{0178}',
            _ => char::from(b),
        })
        .collect()
}

/// A lookup's file read in `encoding` (UTF-8 unless a single-byte codec is named).
fn lookup_file_decoded(name: &str, file: &str, encoding: &str) -> Result<String, Error> {
    let h = host()?;
    let path = h.find_file(file, "files").ok_or_else(|| {
        lookup_err(
            name,
            "expected str, bytes or os.PathLike object, not NoneType",
        )
    })?;
    let text = match codec(encoding) {
        Some(c) if c != "utf-8" => h.read_bytes(&path).map(|b| decode_single_byte(&b, c)),
        _ => h.read_file(&path),
    };
    text.ok_or_else(|| {
        lookup_err(
            name,
            format!(
                "Unable to access the file {}.",
                super::pyrepr::str_repr(file)
            ),
        )
    })
}

/// `csvfile`: the `col` column of the first row whose `keycol` column is the key.
fn csvfile(terms: &[Value], kwargs: &[(String, Value)]) -> Result<Vec<Value>, Error> {
    const NAME: &str = "csvfile";
    let mut opts: IndexMap<String, Value> = IndexMap::new();
    opts.insert("col".into(), Value::from(1));
    opts.insert("keycol".into(), Value::from(0));
    opts.insert("default".into(), Value::from(()));
    opts.insert("delimiter".into(), Value::from("TAB"));
    opts.insert("file".into(), Value::from("ansible.csv"));
    opts.insert("encoding".into(), Value::from("utf-8"));
    for (k, v) in kwargs {
        if opts.contains_key(k) {
            opts.insert(k.clone(), v.clone());
        }
    }
    let terms = flat_terms(terms)?;
    if terms.is_empty() {
        return Err(lookup_err(NAME, "Search key is required but was not found"));
    }
    let mut out = Vec::new();
    for t in terms {
        let kv = crate::playbook::kv::parse_kv(&py_str(&t), false);
        let Some(key) = kv.get("_raw_params").map(crate::playbook::scalar_text) else {
            return Err(lookup_err(NAME, "Search key is required but was not found"));
        };
        for (k, v) in &kv {
            if k == "_raw_params" {
                continue;
            }
            if !opts.contains_key(k) {
                return Err(lookup_err(
                    NAME,
                    format!("{} is not a valid option", super::pyrepr::str_repr(k)),
                ));
            }
            opts.insert(k.clone(), Value::from(crate::playbook::scalar_text(v)));
        }
        let encoding = py_str(&opts["encoding"]);
        if !known_encoding(&encoding) {
            return Err(lookup_err(
                NAME,
                format!(
                    "fleetsim reads files as UTF-8, ASCII, Latin-1 or ISO 8859-15 only, not {encoding}"
                ),
            ));
        }
        let mut delimiter = py_str(&opts["delimiter"]);
        if delimiter == "TAB" {
            delimiter = "\t".into();
        }
        let mut chars = delimiter.chars();
        let (Some(delim), None) = (chars.next(), chars.next()) else {
            return Err(lookup_err(
                NAME,
                "\"delimiter\" must be a 1-character string",
            ));
        };
        let col = opt_int("col", &opts["col"])?;
        let keycol = opt_int("keycol", &opts["keycol"])?;
        let text = lookup_file_decoded(NAME, &py_str(&opts["file"]), &encoding)?;
        let index = |row: &[String], i: i64| -> Result<String, Error> {
            let at = if i < 0 { row.len() as i64 + i } else { i };
            usize::try_from(at)
                .ok()
                .and_then(|i| row.get(i).cloned())
                .ok_or_else(|| lookup_err(NAME, "list index out of range"))
        };
        let mut found = None;
        for row in super::lookup_files::csv_rows(&text, delim) {
            if row.is_empty() {
                continue;
            }
            if index(&row, keycol)? == key {
                found = Some(index(&row, col)?);
                break;
            }
        }
        match found {
            Some(v) => out.push(Value::from(v)),
            // A list default extends the results (`ret.extend(var)` for a sequence).
            None if !opts["default"].is_none() => match opts["default"].try_iter() {
                Ok(items) if opts["default"].kind() == minijinja::value::ValueKind::Seq => {
                    out.extend(items)
                }
                _ => out.push(opts["default"].clone()),
            },
            None => {}
        }
    }
    Ok(out)
}

/// `ini`: a value of an INI (or Java properties) file's section, or the values whose keys
/// match a regular expression.
fn ini(terms: &[Value], kwargs: &[(String, Value)]) -> Result<Vec<Value>, Error> {
    const NAME: &str = "ini";
    let mut opts: IndexMap<String, Value> = IndexMap::new();
    for (k, v) in [
        ("type", Value::from("ini")),
        ("file", Value::from("ansible.ini")),
        ("section", Value::from("global")),
        ("re", Value::from(false)),
        ("encoding", Value::from("utf-8")),
        ("default", Value::from("")),
        ("case_sensitive", Value::from(false)),
        ("allow_no_value", Value::from(false)),
        ("interpolation", Value::from(true)),
    ] {
        opts.insert(k.into(), v);
    }
    for (k, v) in kwargs {
        let k = if k == "allow_none" {
            "allow_no_value"
        } else {
            k
        };
        if opts.contains_key(k) {
            opts.insert(k.to_string(), v.clone());
        }
    }
    let parser_opts = super::lookup_files::IniOptions {
        case_sensitive: opt_bool(&opts["case_sensitive"]),
        allow_no_value: opt_bool(&opts["allow_no_value"]),
    };
    let interpolation = opt_bool(&opts["interpolation"]);
    let mut parsed = super::lookup_files::Ini::default();
    let mut out = Vec::new();
    for t in flat_terms(terms)? {
        let term = py_str(&t);
        let mut key = term.clone();
        if term.contains('=') || term.trim().contains(' ') {
            // ansible-core's `_parse_params`: a phrase without a known `option=` joins the
            // phrase before it (values with spaces).
            let mut grouped: IndexMap<String, String> = IndexMap::new();
            let mut this_key = "key".to_string();
            for (i, phrase) in term.split_whitespace().enumerate() {
                if phrase.contains('=') {
                    for k in opts.keys() {
                        if phrase.contains(&format!("{k}=")) {
                            this_key = k.clone();
                        }
                    }
                }
                let slot = grouped.entry(this_key.clone()).or_default();
                if i == 0 || slot.is_empty() {
                    *slot = phrase.to_string();
                } else {
                    slot.push(' ');
                    slot.push_str(phrase);
                }
            }
            let params: Vec<&str> = grouped.values().map(String::as_str).collect();
            let mut updated_key = false;
            for param in &params {
                if param.contains('=') {
                    let parts: Vec<&str> = param.split('=').collect();
                    if parts.len() != 2 {
                        return Err(lookup_err(
                            NAME,
                            format!(
                                "Could not use {} from {}.",
                                super::pyrepr::str_repr(param),
                                super::pyrepr::py_repr(&Value::from_serialize(&params))
                            ),
                        ));
                    }
                    let name = if parts[0] == "allow_none" {
                        "allow_no_value"
                    } else {
                        parts[0]
                    };
                    if !opts.contains_key(name) {
                        return Err(lookup_err(
                            NAME,
                            format!("{} is not a valid option.", super::pyrepr::str_repr(name)),
                        ));
                    }
                    opts.insert(name.to_string(), Value::from(parts[1]));
                } else if !updated_key {
                    key = param.to_string();
                    updated_key = true;
                }
            }
            if !updated_key {
                return Err(lookup_err(
                    NAME,
                    format!("No key to look up was provided as first term within string inline options: {term}"),
                ));
            }
        }
        let encoding = py_str(&opts["encoding"]);
        if !known_encoding(&encoding) {
            return Err(lookup_err(
                NAME,
                format!(
                    "fleetsim reads files as UTF-8, ASCII, Latin-1 or ISO 8859-15 only, not {encoding}"
                ),
            ));
        }
        let file = py_str(&opts["file"]);
        let mut text = lookup_file_decoded(NAME, &file, &encoding)?;
        let mut section = py_str(&opts["section"]);
        if py_str(&opts["type"]) == "properties" {
            text = format!("[java_properties]\n{text}");
            section = "java_properties".into();
        }
        parsed
            .parse(&text, &file, &parser_opts)
            .map_err(|e| lookup_err(NAME, e))?;
        let regex = if opt_bool(&opts["re"]) {
            Some(
                fancy_regex::Regex::new(&crate::pyre::to_rust(&key))
                    .map_err(|e| lookup_err(NAME, e))?,
            )
        } else {
            None
        };
        let got = parsed
            .get(
                &section,
                &key,
                regex.as_ref(),
                interpolation,
                parser_opts.case_sensitive,
            )
            .map_err(|e| {
                if e.is_empty() {
                    lookup_err(
                        NAME,
                        format!(
                            "No section {} in {}.",
                            super::pyrepr::str_repr(&section),
                            super::pyrepr::str_repr(&file)
                        ),
                    )
                } else {
                    lookup_err(NAME, e)
                }
            })?;
        match got {
            Some(values) if regex.is_some() => {
                out.extend(values.into_iter().map(|v| match v {
                    Some(s) => Value::from(s),
                    None => Value::from(()),
                }));
            }
            Some(values) => {
                if let Some(Some(s)) = values.into_iter().next() {
                    out.push(Value::from(s));
                }
            }
            None => {
                if !opts["default"].is_none() {
                    out.push(opts["default"].clone());
                }
            }
        }
    }
    Ok(out)
}

/// Python `re.error`'s text for the regex engine's parse errors it has a name for
/// (`nothing to repeat at position 0`), from "... Parsing error at position N: WHAT".
fn python_re_error(detail: &str) -> Option<String> {
    let (_, rest) = detail.split_once("Parsing error at position ")?;
    let (pos, what) = rest.split_once(": ")?;
    let pos: usize = pos.trim().parse().ok()?;
    let python = match what.trim() {
        "Target of repeat operator is invalid" => "nothing to repeat",
        "Opening parenthesis without closing parenthesis" => "missing ), unterminated subpattern",
        "Unclosed character class" => "unterminated character set",
        _ => return None,
    };
    Some(format!("{python} at position {pos}"))
}
