//! `lineinfile`: make sure a line is in a file (replacing the last `regexp` match, or
//! inserting after/before a match or at the end), or remove matching lines.

use serde_json::json;

use fleetsim_sim::fs::WriteMode;

use super::{arg_str, Args, Module, ModuleCtx, ModuleResult};

pub struct LineInFile;

fn py_regex(pattern: &str) -> Result<fancy_regex::Regex, String> {
    fancy_regex::Regex::new(&crate::pyre::to_rust(pattern))
        .map_err(|e| format!("Invalid regexp '{pattern}': {e}"))
}

fn matches(re: &fancy_regex::Regex, line: &str) -> bool {
    re.is_match(line).unwrap_or(false)
}

impl Module for LineInFile {
    fn run(&self, ctx: &mut ModuleCtx<'_>, args: &Args) -> ModuleResult {
        let Some(path) = super::arg_path(args) else {
            return super::fail("missing required arguments: path");
        };
        let state = arg_str(args, "state").unwrap_or_else(|| "present".into());
        let regexp = match arg_str(args, "regexp").or_else(|| arg_str(args, "regex")) {
            Some(r) => match py_regex(&r) {
                Ok(re) => Some(re),
                Err(e) => return super::fail(&e),
            },
            None => None,
        };
        let search_string = arg_str(args, "search_string");
        let line = arg_str(args, "line");
        let create = super::arg_bool(args, "create", false).unwrap_or(false);
        let backrefs = super::arg_bool(args, "backrefs", false).unwrap_or(false);
        let insertafter = arg_str(args, "insertafter");
        let insertbefore = arg_str(args, "insertbefore");
        let mode = args.get("mode").filter(|m| !m.is_null()).cloned();
        let check = ctx.check_mode;
        let host = match ctx.target_host() {
            Ok(h) => h,
            Err(r) => return r,
        };
        let fs = &mut host.fs;
        let exists = fs.exists(&path);
        if fs.is_dir(&path) {
            let mut r = super::fail(&format!("Path {path} is a directory !"));
            r.insert("rc".into(), json!(256));
            return r;
        }
        let original = fs.read_to_string(&path).unwrap_or_default();
        let mut lines: Vec<String> = original.split_inclusive('\n').map(str::to_string).collect();
        let (changed, msg) = if state == "absent" {
            if !exists {
                let mut r = super::ok(false);
                r.insert("found".into(), json!(0));
                r.insert("msg".into(), json!("file not present"));
                return r;
            }
            let before = lines.len();
            lines.retain(|l| {
                let bare = l.trim_end_matches(['\n', '\r']);
                let hit = match (&regexp, &search_string, &line) {
                    (Some(re), _, _) => matches(re, bare),
                    (None, Some(s), _) => bare.contains(s.as_str()),
                    (None, None, Some(text)) => bare == text,
                    _ => false,
                };
                !hit
            });
            let removed = before - lines.len();
            let mut r_msg = String::new();
            if removed > 0 {
                r_msg = format!("{removed} line(s) removed");
            }
            if removed > 0 && !check {
                if let Err(e) = fs.write(&path, lines.concat().as_bytes(), WriteMode::Truncate) {
                    return super::fail(&e.to_string());
                }
            }
            let mut r = super::ok(removed > 0);
            r.insert("found".into(), json!(removed));
            r.insert("msg".into(), json!(r_msg));
            r.insert("backup".into(), json!(""));
            return r;
        } else {
            let Some(line) = line else {
                return super::fail("line is required with state=present");
            };
            if !exists && !create {
                let mut r = super::fail(&format!("Destination {path} does not exist !"));
                r.insert("rc".into(), json!(257));
                return r;
            }
            let bare = |l: &String| l.trim_end_matches(['\n', '\r']).to_string();
            let found = match (&regexp, &search_string) {
                (Some(re), _) => lines.iter().rposition(|l| matches(re, &bare(l))),
                (None, Some(s)) => lines.iter().rposition(|l| bare(l).contains(s.as_str())),
                _ => None,
            };
            let exact = lines.iter().any(|l| bare(l) == line);
            if let Some(idx) = found {
                let new_line = if backrefs {
                    let re = regexp.as_ref().expect("backrefs only with regexp");
                    let current = bare(&lines[idx]);
                    re.replace(&current, python_backrefs(&line).as_str())
                        .into_owned()
                } else {
                    line.clone()
                };
                if bare(&lines[idx]) == new_line {
                    (false, String::new())
                } else {
                    let nl = if lines[idx].ends_with('\n') { "\n" } else { "" };
                    lines[idx] = format!("{new_line}{nl}");
                    (true, "line replaced".to_string())
                }
            } else if backrefs || exact {
                // No match to replace: backrefs leave the file alone, and an exact line
                // already present needs nothing.
                (false, String::new())
            } else {
                let pos = insert_position(&lines, insertafter.as_deref(), insertbefore.as_deref())
                    .min(lines.len());
                // The line before the insertion point must end with a newline.
                if pos > 0 && !lines[pos - 1].ends_with('\n') {
                    lines[pos - 1].push('\n');
                }
                lines.insert(pos, format!("{line}\n"));
                (true, "line added".to_string())
            }
        };
        let new_text = lines.concat();
        if changed && !check {
            if !exists {
                let dir = match path.rfind('/') {
                    Some(0) => "/".to_string(),
                    Some(i) => path[..i].to_string(),
                    None => ".".into(),
                };
                if !fs.exists(&dir) {
                    if let Err(e) = fs.mkdir(&dir, true) {
                        return super::fail(&e.to_string());
                    }
                }
            }
            if let Err(e) = fs.write(&path, new_text.as_bytes(), WriteMode::Truncate) {
                return super::fail(&e.to_string());
            }
        }
        let mut changed = changed;
        let mut msg = msg;
        if fs.exists(&path) {
            match super::file::apply_mode(fs, &path, mode.as_ref(), check) {
                Ok(true) => {
                    if !changed {
                        msg = "ownership, perms or SE linux context changed".into();
                    } else {
                        msg.push_str(" and ownership, perms or SE linux context changed");
                    }
                    changed = true;
                }
                Ok(false) => {}
                Err(e) => return super::fail(&e),
            }
        }
        let mut r = super::ok(changed);
        if let Some(d) = super::content_diff(&path, &original, &new_text).filter(|_| changed) {
            r.insert("diff".into(), d);
        }
        r.insert("msg".into(), json!(msg));
        r.insert("backup".into(), json!(""));
        r
    }
}

/// Where to insert a new line: after the last match of `insertafter` (or EOF), before the
/// first match of `insertbefore` (or BOF).
fn insert_position(lines: &[String], after: Option<&str>, before: Option<&str>) -> usize {
    let bare = |l: &String| l.trim_end_matches(['\n', '\r']).to_string();
    if let Some(b) = before {
        if b == "BOF" {
            return 0;
        }
        if let Ok(re) = fancy_regex::Regex::new(b) {
            if let Some(i) = lines.iter().position(|l| matches(&re, &bare(l))) {
                return i;
            }
        }
        return lines.len();
    }
    if let Some(a) = after {
        if a == "EOF" {
            return lines.len();
        }
        if let Ok(re) = fancy_regex::Regex::new(a) {
            if let Some(i) = lines.iter().rposition(|l| matches(&re, &bare(l))) {
                return i + 1;
            }
        }
    }
    lines.len()
}

/// Python's `\1` backreferences in a replacement, as fancy-regex's `${1}`.
fn python_backrefs(s: &str) -> String {
    let mut out = String::new();
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\\' {
            if let Some(d) = chars.peek().copied().filter(char::is_ascii_digit) {
                chars.next();
                out.push_str(&format!("${{{d}}}"));
                continue;
            }
        }
        if c == '$' {
            out.push_str("$$");
            continue;
        }
        out.push(c);
    }
    out
}
