//! String filters: regular expressions (Python `re` semantics on fancy-regex), case and
//! whitespace, paths, quoting, comments, URLs, dates and human-readable sizes.

use minijinja::value::{Value, ValueKind};
use minijinja::{Environment, Error};

use super::{add, defined, err, plugin_err, Args};
use crate::template::methods::{py_capitalize, py_split, py_title};
use crate::template::pyformat::percent_format;
use crate::template::pyrepr::py_str;

/// Compile a Python `re` pattern with fancy-regex (flags from `ignorecase=`/`multiline=`).
pub(crate) fn compile(pattern: &str, a: Option<&Args>) -> Result<fancy_regex::Regex, Error> {
    let mut flags = String::new();
    if let Some(a) = a {
        if a.kw("ignorecase").is_some_and(super::truthy_arg) {
            flags.push('i');
        }
        if a.kw("multiline").is_some_and(super::truthy_arg) {
            flags.push('m');
        }
    }
    let pat = crate::pyre::to_rust(pattern);
    let full = if flags.is_empty() {
        pat
    } else {
        format!("(?{flags}){pat}")
    };
    fancy_regex::Regex::new(&full)
        .map_err(|e| err(format!("Invalid regular expression {pattern:?}: {e}")))
}

/// Expand a Python replacement template (`\1`, `\g<1>`, `\g<name>`, `\n`) for one match.
fn expand(repl: &str, caps: &fancy_regex::Captures) -> String {
    let mut out = String::new();
    let chars: Vec<char> = repl.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '\\' && i + 1 < chars.len() {
            let n = chars[i + 1];
            if n.is_ascii_digit() {
                let mut j = i + 1;
                let mut num = String::new();
                while j < chars.len() && chars[j].is_ascii_digit() && num.len() < 2 {
                    num.push(chars[j]);
                    j += 1;
                }
                let idx: usize = num.parse().unwrap_or(0);
                out.push_str(caps.get(idx).map(|m| m.as_str()).unwrap_or(""));
                i = j;
                continue;
            }
            if n == 'g' && chars.get(i + 2) == Some(&'<') {
                if let Some(end) = chars[i + 3..].iter().position(|c| *c == '>') {
                    let name: String = chars[i + 3..i + 3 + end].iter().collect();
                    let m = match name.parse::<usize>() {
                        Ok(idx) => caps.get(idx),
                        Err(_) => caps.name(&name),
                    };
                    out.push_str(m.map(|m| m.as_str()).unwrap_or(""));
                    i += 4 + end;
                    continue;
                }
            }
            match n {
                'n' => out.push('\n'),
                't' => out.push('\t'),
                'r' => out.push('\r'),
                '\\' => out.push('\\'),
                other => {
                    out.push('\\');
                    out.push(other);
                }
            }
            i += 2;
            continue;
        }
        out.push(c);
        i += 1;
    }
    out
}

fn regex_replace(a: &Args, v: Value) -> Result<Value, Error> {
    defined(&v)?;
    let s = py_str(&v);
    let pattern = a.str(0, "pattern").unwrap_or_default();
    let repl = a.str(1, "replacement").unwrap_or_default();
    let count = a.int(2, "count").unwrap_or(0);
    let re = compile(&pattern, Some(a))?;
    let mut out = String::new();
    let mut last = 0;
    let mut n = 0;
    for caps in re.captures_iter(&s) {
        let caps = caps.map_err(|e| err(e.to_string()))?;
        let m = caps.get(0).ok_or_else(|| err("regex"))?;
        out.push_str(&s[last..m.start()]);
        out.push_str(&expand(&repl, &caps));
        last = m.end();
        n += 1;
        if count > 0 && n >= count {
            break;
        }
    }
    out.push_str(&s[last..]);
    Ok(Value::from(out))
}

fn regex_search(a: &Args, v: Value) -> Result<Value, Error> {
    defined(&v)?;
    let s = py_str(&v);
    let pattern = a.str(0, "regex").unwrap_or_default();
    let re = compile(&pattern, Some(a))?;
    let Some(caps) = re.captures(&s).map_err(|e| err(e.to_string()))? else {
        return Ok(Value::from(()));
    };
    let groups: Vec<String> = a.pos.iter().skip(1).map(py_str).collect();
    if groups.is_empty() {
        return Ok(Value::from(caps.get(0).map(|m| m.as_str()).unwrap_or("")));
    }
    let mut out = Vec::new();
    for g in groups {
        let m = if let Some(n) = g.strip_prefix("\\g<").and_then(|r| r.strip_suffix('>')) {
            match n.parse::<usize>() {
                Ok(i) => caps.get(i),
                Err(_) => caps.name(n),
            }
        } else if let Some(n) = g.strip_prefix('\\') {
            n.parse::<usize>().ok().and_then(|i| caps.get(i))
        } else {
            return Err(plugin_err("regex_search", format!("Unknown argument {g}")));
        };
        out.push(
            m.map(|m| Value::from(m.as_str()))
                .unwrap_or(Value::from(())),
        );
    }
    Ok(Value::from(out))
}

fn regex_findall(a: &Args, v: Value) -> Result<Value, Error> {
    defined(&v)?;
    let s = py_str(&v);
    let pattern = a.str(0, "regex").unwrap_or_default();
    let re = compile(&pattern, Some(a))?;
    let groups = re.captures_len() - 1;
    let mut out = Vec::new();
    for caps in re.captures_iter(&s) {
        let caps = caps.map_err(|e| err(e.to_string()))?;
        let g = |i: usize| Value::from(caps.get(i).map(|m| m.as_str()).unwrap_or(""));
        out.push(match groups {
            0 => g(0),
            1 => g(1),
            n => Value::from((1..=n).map(g).collect::<Vec<_>>()),
        });
    }
    Ok(Value::from(out))
}

/// Python's `shlex.quote`.
pub(crate) fn shell_quote(s: &str) -> String {
    if s.is_empty() {
        return "''".into();
    }
    if s.chars()
        .all(|c| c.is_alphanumeric() || "@%+=:,./-_".contains(c))
    {
        return s.to_string();
    }
    format!("'{}'", s.replace('\'', "'\"'\"'"))
}

fn dirname(p: &str) -> String {
    match p.rfind('/') {
        Some(0) => "/".into(),
        Some(i) => {
            let head = &p[..i];
            let trimmed = head.trim_end_matches('/');
            if trimmed.is_empty() {
                head.to_string()
            } else {
                trimmed.to_string()
            }
        }
        None => String::new(),
    }
}

pub(crate) fn normpath(p: &str) -> String {
    let abs = p.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for seg in p.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                if parts.last().is_some_and(|l| *l != "..") {
                    parts.pop();
                } else if !abs {
                    parts.push("..");
                }
            }
            s => parts.push(s),
        }
    }
    let j = parts.join("/");
    if abs {
        format!("/{j}")
    } else if j.is_empty() {
        ".".into()
    } else {
        j
    }
}

fn splitext(p: &str) -> (String, String) {
    let base_start = p.rfind('/').map(|i| i + 1).unwrap_or(0);
    let base = &p[base_start..];
    let stripped = base.trim_start_matches('.');
    let lead = base.len() - stripped.len();
    match stripped.rfind('.') {
        Some(i) => {
            let at = base_start + lead + i;
            (p[..at].to_string(), p[at..].to_string())
        }
        None => (p.to_string(), String::new()),
    }
}

const SIZES: [(char, u128); 9] = [
    ('Y', 1 << 80),
    ('Z', 1 << 70),
    ('E', 1 << 60),
    ('P', 1 << 50),
    ('T', 1 << 40),
    ('G', 1 << 30),
    ('M', 1 << 20),
    ('K', 1 << 10),
    ('B', 1),
];

fn human_readable(size: f64, isbits: bool, unit: Option<&str>) -> String {
    let base = if isbits { "bits" } else { "Bytes" };
    let mut chosen = ('B', 1u128);
    for (suffix, limit) in SIZES {
        chosen = (suffix, limit);
        let hit = match unit {
            None => size >= limit as f64,
            Some(u) => u.to_uppercase().starts_with(suffix),
        };
        if hit {
            break;
        }
    }
    let suffix = if chosen.1 != 1 {
        format!("{}{}", chosen.0, &base[..1])
    } else {
        base.to_string()
    };
    format!("{:.2} {suffix}", size / chosen.1 as f64)
}

fn human_to_bytes(s: &str, default_unit: Option<&str>, isbits: bool) -> Result<i64, String> {
    let t = s.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (num, unit) = (t[..split].trim(), t[split..].trim());
    let n: f64 = num
        .parse()
        .map_err(|_| format!("human_to_bytes() can't interpret following string: {s}"))?;
    let unit = if unit.is_empty() {
        default_unit.unwrap_or("B")
    } else {
        unit
    };
    let first = unit.chars().next().unwrap_or('B').to_ascii_uppercase();
    let limit = SIZES
        .iter()
        .find(|(c, _)| *c == first)
        .map(|(_, l)| *l)
        .ok_or_else(|| {
            format!("human_to_bytes() failed to convert {s}. Value is not a valid string ({unit})")
        })?;
    if unit.len() > 1 {
        let last = unit.chars().last().unwrap_or('B');
        if isbits && last != 'b'
            || !isbits && last == 'b' && unit != "b" && !unit.eq_ignore_ascii_case("bytes")
        {
            let expect = if isbits { "bit" } else { "byte" };
            return Err(format!(
                "human_to_bytes() failed to convert {s}. Value is not a valid string (expected {expect} unit)"
            ));
        }
    }
    Ok((n * limit as f64).round() as i64)
}

/// C `strftime` for a UTC epoch time (the simulated controller runs in UTC), shared with the
/// simulation's clock.
pub(crate) fn strftime(fmt: &str, epoch: f64) -> String {
    fleetsim_sim::clock::Civil::from_epoch(epoch).format(fmt, epoch)
}

fn urlsplit(url: &str) -> serde_json::Map<String, serde_json::Value> {
    use serde_json::Value as J;
    let (rest, fragment) = match url.split_once('#') {
        Some((a, b)) => (a, b),
        None => (url, ""),
    };
    let (rest, query) = match rest.split_once('?') {
        Some((a, b)) => (a, b),
        None => (rest, ""),
    };
    let (scheme, rest) = match rest.split_once("://") {
        Some((s, r))
            if !s.is_empty() && s.chars().all(|c| c.is_alphanumeric() || "+-.".contains(c)) =>
        {
            (s.to_lowercase(), format!("//{r}"))
        }
        _ => (String::new(), rest.to_string()),
    };
    let (netloc, path) = match rest.strip_prefix("//") {
        Some(r) => match r.find('/') {
            Some(i) => (r[..i].to_string(), r[i..].to_string()),
            None => (r.to_string(), String::new()),
        },
        None => (String::new(), rest.clone()),
    };
    let (userinfo, hostport) = match netloc.rsplit_once('@') {
        Some((u, h)) => (Some(u.to_string()), h.to_string()),
        None => (None, netloc.clone()),
    };
    let (username, password) = match &userinfo {
        Some(u) => match u.split_once(':') {
            Some((a, b)) => (J::from(a), J::from(b)),
            None => (J::from(u.as_str()), J::Null),
        },
        None => (J::Null, J::Null),
    };
    let (host, port) = match hostport.rsplit_once(':') {
        Some((h, p)) if p.chars().all(|c| c.is_ascii_digit()) && !p.is_empty() => (
            h.to_string(),
            p.parse::<i64>().map(J::from).unwrap_or(J::Null),
        ),
        _ => (hostport.clone(), J::Null),
    };
    let mut m = serde_json::Map::new();
    m.insert("fragment".into(), J::from(fragment));
    m.insert(
        "hostname".into(),
        if host.is_empty() {
            J::Null
        } else {
            J::from(host.to_lowercase())
        },
    );
    m.insert("netloc".into(), J::from(netloc));
    m.insert("password".into(), password);
    m.insert("path".into(), J::from(path));
    m.insert("port".into(), port);
    m.insert("query".into(), J::from(query));
    m.insert("scheme".into(), J::from(scheme));
    m.insert("username".into(), username);
    m
}

/// Ansible's `comment` filter (`plugins/filter/core.py`), parameter for parameter.
fn comment(text: &str, style: &str, a: &Args) -> String {
    let (beginning, decoration, end) = match style {
        "erlang" => ("", "% ", ""),
        "c" => ("", "// ", ""),
        "cblock" => ("/*", " * ", " */"),
        "xml" => ("<!--", " - ", "-->"),
        _ => ("", "# ", ""),
    };
    let get = |name: &str, d: &str| a.kw(name).map(py_str).unwrap_or_else(|| d.to_string());
    let count = |name: &str| {
        a.kw(name)
            .and_then(|v| v.as_i64().or_else(|| py_str(v).trim().parse().ok()))
            .unwrap_or(1)
            .max(0) as usize
    };
    // The decoration (given or the style's) is also the default prefix and postfix.
    let prepostfix = get("decoration", decoration);
    let newline = get("newline", "\n");
    let beginning = get("beginning", beginning);
    let prefix = get("prefix", prepostfix.trim_end());
    let decoration = get("decoration", decoration);
    let postfix = get("postfix", prepostfix.trim_end());
    let end = get("end", end);
    let mut out = String::new();
    if !beginning.is_empty() {
        out.push_str(&beginning);
        out.push_str(&newline);
    }
    if !prefix.is_empty() {
        let one = if prefix != newline {
            format!("{prefix}{newline}")
        } else {
            newline.clone()
        };
        out.push_str(&one.repeat(count("prefix_count")));
    }
    let body = format!(
        "{decoration}{}",
        text.replace(&newline, &format!("{newline}{decoration}"))
    );
    out.push_str(&body.replace(
        &format!("{decoration}{newline}"),
        &format!("{}{newline}", decoration.trim_end()),
    ));
    for _ in 0..count("postfix_count") {
        out.push_str(&newline);
        out.push_str(&postfix);
    }
    if !end.is_empty() {
        out.push_str(&newline);
        out.push_str(&end);
    }
    out
}

/// Python's `re.escape` (3.7+): only the characters special in a pattern get a backslash
/// (`:`, `/`, `=`, `@`, `,` and non-ASCII stay as they are).
fn python_re_escape(s: &str) -> String {
    escape_chars(s, "()[]{}?*+-|^$\\.&~# \t\n\r\u{b}\u{c}")
}

/// `s` with a backslash before each character found in `special`.
fn escape_chars(s: &str, special: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if special.contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

pub(crate) fn register(env: &mut Environment<'static>) {
    add(env, &["regex_replace"], regex_replace);
    add(env, &["regex_search"], regex_search);
    add(env, &["regex_findall"], regex_findall);
    add(env, &["regex_escape"], |a, v| {
        let s = py_str(&v);
        match a.str(0, "re_type").as_deref().unwrap_or("python") {
            "python" => Ok(Value::from(python_re_escape(&s))),
            "posix_basic" => Ok(Value::from(escape_chars(&s, "].[^$*\\"))),
            "posix_extended" => Err(plugin_err(
                "regex_escape",
                "Regex type (posix_extended) not yet implemented",
            )),
            other => Err(plugin_err(
                "regex_escape",
                format!("Invalid regex type ({other})"),
            )),
        }
    });
    add(env, &["replace"], |a, v| {
        defined(&v)?;
        let s = py_str(&v);
        let old = a.str(0, "old").unwrap_or_default();
        let new = a.str(1, "new").unwrap_or_default();
        Ok(Value::from(match a.int(2, "count") {
            Some(n) if n >= 0 => s.replacen(&old, &new, n as usize),
            _ => s.replace(&old, &new),
        }))
    });
    add(env, &["lower"], |_, v| {
        defined(&v)?;
        Ok(Value::from(py_str(&v).to_lowercase()))
    });
    add(env, &["upper"], |_, v| {
        defined(&v)?;
        Ok(Value::from(py_str(&v).to_uppercase()))
    });
    add(env, &["title"], |_, v| {
        defined(&v)?;
        Ok(Value::from(py_title(&py_str(&v))))
    });
    add(env, &["capitalize"], |_, v| {
        defined(&v)?;
        Ok(Value::from(py_capitalize(&py_str(&v))))
    });
    add(env, &["trim"], |a, v| {
        defined(&v)?;
        let s = py_str(&v);
        Ok(Value::from(match a.str(0, "chars") {
            Some(cs) => s.trim_matches(|c| cs.contains(c)).to_string(),
            None => s.trim().to_string(),
        }))
    });
    add(env, &["split"], |a, v| {
        defined(&v)?;
        let sep = a.str(0, "sep");
        let max = a.int(1, "maxsplit").unwrap_or(-1);
        Ok(Value::from(
            py_split(&py_str(&v), sep.as_deref(), max)
                .into_iter()
                .map(Value::from)
                .collect::<Vec<_>>(),
        ))
    });
    add(env, &["indent"], |a, v| {
        defined(&v)?;
        let s = py_str(&v);
        let width = a
            .get(0, "width")
            .map(|w| {
                if let Some(s) = w.as_str() {
                    Ok::<String, Error>(s.to_string())
                } else {
                    let n = w.as_i64().unwrap_or(4).max(0) as usize;
                    crate::template::check_text_len(n)?;
                    Ok(" ".repeat(n))
                }
            })
            .transpose()?
            .unwrap_or_else(|| "    ".into());
        crate::template::check_text_len(
            width
                .len()
                .saturating_mul(s.matches('\n').count() + 1)
                .saturating_add(s.len()),
        )?;
        let first = a.bool(1, "first", false);
        let blank = a.bool(2, "blank", false);
        let mut out = Vec::new();
        for (i, line) in s.split('\n').enumerate() {
            if (i == 0 && !first) || (line.trim().is_empty() && !blank) {
                out.push(line.to_string());
            } else {
                out.push(format!("{width}{line}"));
            }
        }
        Ok(Value::from(out.join("\n")))
    });
    add(env, &["center"], |a, v| {
        let s = py_str(&v);
        let w = a.int(0, "width").unwrap_or(80).max(0) as usize;
        crate::template::check_text_len(w)?;
        let n = s.chars().count();
        if n >= w {
            return Ok(Value::from(s));
        }
        let pad = w - n;
        let left = pad / 2 + (pad & w & 1);
        Ok(Value::from(format!(
            "{}{s}{}",
            " ".repeat(left),
            " ".repeat(pad - left)
        )))
    });
    add(env, &["wordcount"], |_, v| {
        let s = py_str(&v);
        Ok(Value::from(
            s.split(|c: char| !(c.is_alphanumeric() || c == '_'))
                .filter(|w| !w.is_empty())
                .count(),
        ))
    });
    add(env, &["truncate"], |a, v| {
        let s = py_str(&v);
        let length = a.int(0, "length").unwrap_or(255).max(0) as usize;
        let killwords = a.bool(1, "killwords", false);
        let end = a.str(2, "end").unwrap_or_else(|| "...".into());
        let leeway = a.int(3, "leeway").unwrap_or(5).max(0) as usize;
        let n = s.chars().count();
        if n <= length + leeway {
            return Ok(Value::from(s));
        }
        let keep = length.saturating_sub(end.chars().count());
        let head: String = s.chars().take(keep).collect();
        if killwords {
            return Ok(Value::from(format!("{head}{end}")));
        }
        let cut = match head.rfind(' ') {
            Some(i) => head[..i].to_string(),
            None => head,
        };
        Ok(Value::from(format!("{cut}{end}")))
    });
    add(env, &["format"], |a, v| {
        let fmt = py_str(&v);
        if !a.kw.is_empty() {
            let m = Value::from_iter(a.kw.iter().map(|(k, v)| (k.clone(), v.clone())));
            return Ok(Value::from(percent_format(&fmt, &m)?));
        }
        Ok(Value::from(percent_format(
            &fmt,
            &Value::from(a.pos.clone()),
        )?))
    });
    add(env, &["quote"], |_, v| {
        defined(&v)?;
        let s = if v.is_none() {
            String::new()
        } else {
            py_str(&v)
        };
        Ok(Value::from(shell_quote(&s)))
    });
    add(env, &["basename"], |_, v| {
        let s = py_str(&v);
        Ok(Value::from(s.rsplit('/').next().unwrap_or("").to_string()))
    });
    add(env, &["dirname"], |_, v| {
        Ok(Value::from(dirname(&py_str(&v))))
    });
    add(env, &["realpath", "abspath"], |_, v| {
        Ok(Value::from(super::paths::abspath(&py_str(&v))))
    });
    add(env, &["normpath"], |_, v| {
        Ok(Value::from(normpath(&py_str(&v))))
    });
    add(env, &["expanduser"], |_, v| {
        let s = py_str(&v);
        let home = crate::template::current()
            .and_then(|c| c.0.lookup.env("HOME"))
            .unwrap_or_else(|| "/root".into());
        Ok(Value::from(if s == "~" {
            home
        } else if let Some(r) = s.strip_prefix("~/") {
            format!("{home}/{r}")
        } else {
            s
        }))
    });
    // `os.path.expandvars` with the controller's environment: `$NAME` and `${NAME}`; unknown
    // names stay as written.
    add(env, &["expandvars"], |_, v| {
        defined(&v)?;
        let s = py_str(&v);
        let Ok(re) = regex::Regex::new(r"\$(\w+|\{[^}]*\})") else {
            return Ok(Value::from(s));
        };
        let host = crate::template::current().map(|c| c.0.lookup.clone());
        let out = re.replace_all(&s, |c: &regex::Captures| {
            let name = c[1].trim_start_matches('{').trim_end_matches('}');
            host.as_ref()
                .and_then(|h| h.env(name))
                .unwrap_or_else(|| c[0].to_string())
        });
        Ok(Value::from(out.into_owned()))
    });
    add(env, &["splitext"], |_, v| {
        let (a, b) = splitext(&py_str(&v));
        Ok(Value::from(vec![Value::from(a), Value::from(b)]))
    });
    add(env, &["path_join"], |_, v| {
        let parts: Vec<String> = if v.kind() == ValueKind::Seq {
            v.try_iter()?.map(|p| py_str(&p)).collect()
        } else {
            vec![py_str(&v)]
        };
        let mut out = String::new();
        for p in parts {
            if p.starts_with('/') {
                out = p;
            } else if out.is_empty() || out.ends_with('/') {
                out.push_str(&p);
            } else {
                out.push('/');
                out.push_str(&p);
            }
        }
        Ok(Value::from(out))
    });
    add(env, &["comment"], |a, v| {
        let style = a.str(0, "style").unwrap_or_else(|| "plain".into());
        Ok(Value::from(comment(&py_str(&v), &style, a)))
    });
    add(env, &["urlsplit"], |a, v| {
        let m = urlsplit(&py_str(&v));
        match a.str(0, "query") {
            Some(q) if !q.is_empty() => m
                .get(&q)
                .map(crate::template::convert::to_mj_static)
                .ok_or_else(|| {
                    plugin_err("urlsplit", format!("urlsplit: unknown URL component: {q}"))
                }),
            _ => Ok(crate::template::convert::to_mj_static(
                &serde_json::Value::Object(m),
            )),
        }
    });
    add(env, &["human_readable"], |a, v| {
        let n = f64::try_from(v.clone())
            .ok()
            .or_else(|| v.as_str().and_then(|s| s.trim().parse().ok()))
            .ok_or_else(|| {
                plugin_err(
                    "human_readable",
                    format!(
                        "human_readable() can't interpret following string: {}",
                        py_str(&v)
                    ),
                )
            })?;
        Ok(Value::from(human_readable(
            n,
            a.bool(0, "isbits", false),
            a.str(1, "unit").as_deref(),
        )))
    });
    add(env, &["human_to_bytes"], |a, v| {
        human_to_bytes(
            &py_str(&v),
            a.str(0, "default_unit").as_deref(),
            a.bool(1, "isbits", false),
        )
        .map(Value::from)
        .map_err(|m| plugin_err("human_to_bytes", m))
    });
    add(env, &["strftime"], |a, v| {
        let fmt = py_str(&v);
        let secs = match a.get(0, "second") {
            Some(s) if !s.is_none() => f64::try_from(s.clone())
                .ok()
                .or_else(|| s.as_str().and_then(|x| x.parse().ok()))
                .ok_or_else(|| {
                    plugin_err(
                        "strftime",
                        format!("Invalid value for epoch value ({})", py_str(s)),
                    )
                })?,
            _ => crate::template::current()
                .and_then(|c| c.0.lookup.now_epoch())
                .unwrap_or(0.0),
        };
        Ok(Value::from(strftime(&fmt, secs)))
    });
    add(env, &["to_datetime"], |a, v| {
        let s = py_str(&v);
        let fmt = a
            .str(0, "format")
            .unwrap_or_else(|| "%Y-%m-%d %H:%M:%S".into());
        parse_datetime(&s, &fmt)
            .map(|epoch| Value::from(strftime("%Y-%m-%d %H:%M:%S", epoch)))
            .ok_or_else(|| {
                plugin_err(
                    "to_datetime",
                    format!("time data '{s}' does not match format '{fmt}'"),
                )
            })
    });
}

/// Parse `s` by a strptime format (the common directives); epoch seconds, UTC.
pub(crate) fn parse_datetime(s: &str, fmt: &str) -> Option<f64> {
    let (mut y, mut mo, mut d, mut h, mut mi, mut se) = (1900i64, 1u32, 1u32, 0i64, 0i64, 0i64);
    let sb = s.as_bytes();
    let mut i = 0;
    let mut chars = fmt.chars();
    let num = |i: &mut usize, max: usize| -> Option<i64> {
        let start = *i;
        while *i < sb.len() && *i - start < max && sb[*i].is_ascii_digit() {
            *i += 1;
        }
        s.get(start..*i)?.parse().ok()
    };
    while let Some(c) = chars.next() {
        if c == '%' {
            match chars.next()? {
                'Y' => y = num(&mut i, 4)?,
                'm' => mo = num(&mut i, 2)? as u32,
                'd' => d = num(&mut i, 2)? as u32,
                'H' => h = num(&mut i, 2)?,
                'M' => mi = num(&mut i, 2)?,
                'S' => se = num(&mut i, 2)?,
                'f' => {
                    num(&mut i, 6)?;
                }
                '%' => {
                    if sb.get(i) != Some(&b'%') {
                        return None;
                    }
                    i += 1;
                }
                _ => return None,
            }
        } else {
            if sb.get(i) != Some(&(c as u8)) {
                return None;
            }
            i += 1;
        }
    }
    if i != sb.len() {
        return None;
    }
    Some(
        (fleetsim_sim::clock::days_from_civil(y, mo as i64, d as i64) * 86400
            + h * 3600
            + mi * 60
            + se) as f64,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_sizes_dates() {
        assert_eq!(
            splitext("/etc/nginx/conf.d/site.conf"),
            ("/etc/nginx/conf.d/site".into(), ".conf".into())
        );
        assert_eq!(splitext(".bashrc"), (".bashrc".into(), "".into()));
        assert_eq!(dirname("/etc/nginx/conf.d/site.conf"), "/etc/nginx/conf.d");
        assert_eq!(shell_quote("it's a file"), "'it'\"'\"'s a file'");
        assert_eq!(human_readable(1024.0, false, None), "1.00 KB");
        assert_eq!(human_readable(500.0, false, None), "500.00 Bytes");
        assert_eq!(human_to_bytes("10 MB", None, false), Ok(10485760));
        assert_eq!(human_to_bytes("1.5K", None, false), Ok(1536));
        assert_eq!(
            strftime("%Y-%m-%d %H:%M:%S %a", 1700000000.0),
            "2023-11-14 22:13:20 Tue"
        );
        assert_eq!(
            parse_datetime("2023-11-14 22:13:20", "%Y-%m-%d %H:%M:%S"),
            Some(1700000000.0)
        );
        assert_eq!(normpath("/a/b/../c/./d"), "/a/c/d");
    }

    #[test]
    fn regex_escape_as_python_re_escape() {
        // Checked against Python 3.11: re.escape('price: $5.00 (net) a=b/c@d,e_f\u00e9\t')
        assert_eq!(
            python_re_escape("price: $5.00 (net) a=b/c@d,e_f\u{e9}\t"),
            "price:\\ \\$5\\.00\\ \\(net\\)\\ a=b/c@d,e_f\u{e9}\\\t"
        );
        assert_eq!(escape_chars("a.b[c]*", "].[^$*\\"), "a\\.b\\[c\\]\\*");
    }
}
