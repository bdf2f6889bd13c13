//! Path filters that follow Python's `posixpath`/`ntpath` (`relpath`, `commonpath`,
//! `win_basename`, `win_dirname`, `win_splitdrive`) and `fileglob`, which globs the simulated
//! controller's filesystem through the [`LookupHost`](crate::template::LookupHost).

use minijinja::value::{Value, ValueKind};
use minijinja::Environment;

use super::strings::normpath;
use super::{add, defined, err, plugin_err};
use crate::template::pyrepr::{py_str, py_type_name};

/// The controller's working directory, as `os.getcwd()` would give it: the simulated
/// controller's `PWD`.
pub(crate) fn controller_cwd() -> String {
    crate::template::current()
        .and_then(|c| c.0.lookup.env("PWD"))
        .filter(|p| p.starts_with('/'))
        .unwrap_or_else(|| "/".into())
}

/// `os.path.abspath` on the controller.
pub(crate) fn abspath(p: &str) -> String {
    if p.starts_with('/') {
        normpath(p)
    } else {
        normpath(&format!("{}/{p}", controller_cwd()))
    }
}

/// `posixpath.relpath(path, start)`.
fn relpath(path: &str, start: &str) -> Result<String, String> {
    if path.is_empty() {
        return Err("no path specified".into());
    }
    let start_abs = abspath(start);
    let path_abs = abspath(path);
    let s: Vec<&str> = start_abs.split('/').filter(|x| !x.is_empty()).collect();
    let p: Vec<&str> = path_abs.split('/').filter(|x| !x.is_empty()).collect();
    let common = s.iter().zip(p.iter()).take_while(|(a, b)| a == b).count();
    let mut rel: Vec<&str> = vec![".."; s.len() - common];
    rel.extend(&p[common..]);
    Ok(if rel.is_empty() {
        ".".into()
    } else {
        rel.join("/")
    })
}

/// `posixpath.commonpath(paths)`.
fn commonpath(paths: &[String]) -> Result<String, String> {
    if paths.is_empty() {
        return Err("commonpath() arg is an empty sequence".into());
    }
    let absolute = paths[0].starts_with('/');
    if paths.iter().any(|p| p.starts_with('/') != absolute) {
        return Err("Can't mix absolute and relative paths".into());
    }
    let split: Vec<Vec<&str>> = paths
        .iter()
        .map(|p| {
            p.split('/')
                .filter(|c| !c.is_empty() && *c != ".")
                .collect()
        })
        .collect();
    let s1 = split.iter().min().cloned().unwrap_or_default();
    let s2 = split.iter().max().cloned().unwrap_or_default();
    let common = s1.iter().zip(s2.iter()).take_while(|(a, b)| a == b).count();
    let prefix = if absolute { "/" } else { "" };
    Ok(format!("{prefix}{}", s1[..common].join("/")))
}

/// `ntpath.splitdrive(p)` (Python 3.11).
fn nt_splitdrive(p: &str) -> (String, String) {
    if p.chars().count() >= 2 {
        let norm = p.replace('/', "\\");
        if norm.starts_with("\\\\") {
            let start = if norm
                .get(..8)
                .is_some_and(|s| s.eq_ignore_ascii_case("\\\\?\\UNC\\"))
            {
                8
            } else {
                2
            };
            let Some(index) = norm[start..].find('\\').map(|i| i + start) else {
                return (p.to_string(), String::new());
            };
            let Some(index2) = norm[index + 1..].find('\\').map(|i| i + index + 1) else {
                return (p.to_string(), String::new());
            };
            return (p[..index2].to_string(), p[index2..].to_string());
        }
        let mut chars = norm.chars();
        chars.next();
        if chars.next() == Some(':') {
            let cut = p.char_indices().nth(2).map(|(i, _)| i).unwrap_or(p.len());
            return (p[..cut].to_string(), p[cut..].to_string());
        }
    }
    (String::new(), p.to_string())
}

/// `ntpath.split(p)`: (head, tail).
fn nt_split(p: &str) -> (String, String) {
    let (drive, rest) = nt_splitdrive(p);
    let is_sep = |c: char| c == '\\' || c == '/';
    let i = rest.rfind(is_sep).map(|i| i + 1).unwrap_or(0);
    let (head, tail) = rest.split_at(i);
    let trimmed = head.trim_end_matches(is_sep);
    let head = if trimmed.is_empty() { head } else { trimmed };
    (format!("{drive}{head}"), tail.to_string())
}

/// Python's `fnmatch` of one name against one pattern component (`*`, `?`, `[...]`, `[!...]`).
pub(crate) fn fnmatch(name: &str, pattern: &str) -> bool {
    let mut re = String::from("(?s)^");
    let chars: Vec<char> = pattern.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        i += 1;
        match c {
            '*' => re.push_str(".*"),
            '?' => re.push('.'),
            '[' => {
                let mut j = i;
                if j < chars.len() && chars[j] == '!' {
                    j += 1;
                }
                if j < chars.len() && chars[j] == ']' {
                    j += 1;
                }
                while j < chars.len() && chars[j] != ']' {
                    j += 1;
                }
                if j >= chars.len() {
                    re.push_str("\\[");
                } else {
                    let mut set: String = chars[i..j].iter().collect();
                    i = j + 1;
                    set = set.replace('\\', "\\\\");
                    if let Some(rest) = set.strip_prefix('!') {
                        set = format!("^{rest}");
                    } else if set.starts_with('^') {
                        set = format!("\\{set}");
                    }
                    re.push('[');
                    re.push_str(&set.replace('[', "\\["));
                    re.push(']');
                }
            }
            other => re.push_str(&regex::escape(&other.to_string())),
        }
    }
    re.push('$');
    regex::Regex::new(&re).is_ok_and(|r| r.is_match(name))
}

fn has_magic(s: &str) -> bool {
    s.contains(['*', '?', '['])
}

/// Python's `glob.glob(pattern)` over the controller's files, then only regular files
/// (`fileglob`). Names starting with `.` match only patterns that start with `.`.
pub(crate) fn glob_files(pattern: &str) -> Vec<String> {
    let Some((inner, _)) = crate::template::current() else {
        return Vec::new();
    };
    let host = inner.lookup.clone();
    let absolute = pattern.starts_with('/');
    let parts: Vec<&str> = pattern.split('/').filter(|p| !p.is_empty()).collect();
    // (path as the result shows it, path to ask the controller about)
    let cwd = controller_cwd();
    // The leading components without wildcards are one folder, checked as a whole (a project
    // folder on the real machine is only known as a whole to the controller).
    let fixed = parts
        .iter()
        .take(parts.len().saturating_sub(1))
        .take_while(|p| !has_magic(p))
        .count();
    let mut current: Vec<String> = vec![String::new()];
    if fixed > 0 {
        let prefix = parts[..fixed].join("/");
        let shown = if absolute {
            format!("/{prefix}")
        } else {
            prefix
        };
        let real = if absolute {
            shown.clone()
        } else {
            format!("{}/{shown}", cwd.trim_end_matches('/'))
        };
        if !host.is_dir(&real) {
            return Vec::new();
        }
        current = vec![shown];
    }
    for (n, part) in parts.iter().enumerate().skip(fixed) {
        let last = n + 1 == parts.len();
        let mut next = Vec::new();
        for base in &current {
            let join = |name: &str| {
                if base.is_empty() {
                    if absolute {
                        format!("/{name}")
                    } else {
                        name.to_string()
                    }
                } else {
                    format!("{base}/{name}")
                }
            };
            let real = |shown: &str| {
                if absolute {
                    shown.to_string()
                } else {
                    format!("{}/{shown}", cwd.trim_end_matches('/'))
                }
            };
            if !has_magic(part) {
                let shown = join(part);
                if last || host.is_dir(&real(&shown)) {
                    next.push(shown);
                }
                continue;
            }
            let dir = if base.is_empty() {
                if absolute {
                    "/".to_string()
                } else {
                    cwd.clone()
                }
            } else {
                real(base)
            };
            let mut names = host.list_dir(&dir).unwrap_or_default();
            names.sort();
            for name in names {
                if name.starts_with('.') && !part.starts_with('.') {
                    continue;
                }
                if fnmatch(&name, part) {
                    next.push(join(&name));
                }
            }
        }
        current = next;
    }
    current
        .into_iter()
        .filter(|p| {
            let real = if absolute {
                p.clone()
            } else {
                format!("{}/{p}", cwd.trim_end_matches('/'))
            };
            !p.is_empty() && host.is_file(&real)
        })
        .collect()
}

pub(crate) fn register(env: &mut Environment<'static>) {
    add(env, &["relpath"], |a, v| {
        defined(&v)?;
        let start = a.str(0, "start").unwrap_or_else(|| ".".into());
        relpath(&py_str(&v), &start)
            .map(Value::from)
            .map_err(|m| plugin_err("relpath", m))
    });
    add(env, &["commonpath"], |_, v| {
        defined(&v)?;
        if !matches!(v.kind(), ValueKind::Seq | ValueKind::Iterable) {
            return Err(plugin_err(
                "commonpath",
                format!(
                    "|commonpath expects sequence, got <class '{}'> instead.",
                    py_type_name(&v)
                ),
            ));
        }
        let mut paths = Vec::new();
        for p in v.try_iter()? {
            if p.kind() != ValueKind::String {
                return Err(plugin_err(
                    "commonpath",
                    format!(
                        "expected str, bytes or os.PathLike object, not {}",
                        py_type_name(&p)
                    ),
                ));
            }
            paths.push(py_str(&p));
        }
        commonpath(&paths)
            .map(Value::from)
            .map_err(|m| plugin_err("commonpath", m))
    });
    add(env, &["win_basename"], |_, v| {
        defined(&v)?;
        Ok(Value::from(nt_split(&py_str(&v)).1))
    });
    add(env, &["win_dirname"], |_, v| {
        defined(&v)?;
        Ok(Value::from(nt_split(&py_str(&v)).0))
    });
    add(env, &["win_splitdrive"], |_, v| {
        defined(&v)?;
        let (d, p) = nt_splitdrive(&py_str(&v));
        Ok(Value::from(vec![Value::from(d), Value::from(p)]))
    });
    add(env, &["fileglob"], |_, v| {
        defined(&v)?;
        if v.kind() != ValueKind::String {
            return Err(err(format!(
                "expected str, bytes or os.PathLike object, not {}",
                py_type_name(&v)
            )));
        }
        Ok(Value::from(
            glob_files(&py_str(&v))
                .into_iter()
                .map(Value::from)
                .collect::<Vec<_>>(),
        ))
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn posix_and_nt_paths_match_python() {
        assert_eq!(relpath("/a/b/c", "/a/x").unwrap(), "../b/c");
        assert_eq!(relpath("/a", "/a").unwrap(), ".");
        assert_eq!(
            commonpath(&["/a/b/c".into(), "/a/b/d".into()]).unwrap(),
            "/a/b"
        );
        assert_eq!(commonpath(&["a/b".into(), "a/c".into()]).unwrap(), "a");
        assert!(commonpath(&["/a".into(), "b".into()]).is_err());
        assert_eq!(
            nt_splitdrive("C:\\Users\\me\\f.txt"),
            ("C:".into(), "\\Users\\me\\f.txt".into())
        );
        assert_eq!(
            nt_splitdrive("\\\\server\\share\\x"),
            ("\\\\server\\share".into(), "\\x".into())
        );
        assert_eq!(
            nt_split("C:\\Users\\me\\f.txt"),
            ("C:\\Users\\me".into(), "f.txt".into())
        );
        assert_eq!(nt_split("C:\\"), ("C:\\".into(), "".into()));
        assert!(fnmatch("a.txt", "*.txt"));
        assert!(fnmatch("b1", "[ab][0-9]"));
        assert!(!fnmatch("c1", "[!c]1"));
    }
}
