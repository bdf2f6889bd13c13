//! `find`: files, folders or links under `paths` matching names (globs or regexps), age,
//! size, content and mode, with the stat keys of each: ansible-core 2.19's module, walking
//! folders in name order (the real module walks in the order the filesystem lists them).

use serde_json::{json, Map, Value};

use fleetsim_sim::fs::{FileKind, Sandbox};
use fleetsim_sim::shell::pattern::Pattern;

use super::spec::{opt, spec, Kind, ModuleName, Spec};
use super::{arg_str, Args, Module, ModuleCtx, ModuleResult};

pub struct Find;

const SPEC: Spec = spec(
    ModuleName::AsWritten,
    &[
        opt("paths", Kind::List)
            .aliases(&["name", "path"])
            .required(),
        opt("patterns", Kind::List).aliases(&["pattern"]),
        opt("excludes", Kind::List).aliases(&["exclude"]),
        opt("contains", Kind::Str),
        opt("read_whole_file", Kind::Bool),
        opt("file_type", Kind::Str).choices(&["any", "directory", "file", "link"]),
        opt("age", Kind::Str),
        opt("age_stamp", Kind::Str).choices(&["atime", "ctime", "mtime"]),
        opt("size", Kind::Str),
        opt("recurse", Kind::Bool),
        opt("hidden", Kind::Bool),
        opt("follow", Kind::Bool),
        opt("get_checksum", Kind::Bool),
        opt("checksum_algorithm", Kind::Str)
            .aliases(&["checksum", "checksum_algo"])
            .choices(&["md5", "sha1", "sha224", "sha256", "sha384", "sha512"]),
        opt("use_regex", Kind::Bool),
        opt("depth", Kind::Int),
        opt("mode", Kind::Raw),
        opt("exact_mode", Kind::Bool),
        opt("encoding", Kind::Str),
        opt("limit", Kind::Int),
    ],
);

fn strings(v: Option<&Value>) -> Vec<String> {
    match v {
        Some(Value::Array(a)) => a.iter().map(crate::playbook::scalar_text).collect(),
        _ => Vec::new(),
    }
}

/// `pfilter`: the name matches a pattern and no exclude (globs, or regexps from the start).
fn name_filter(
    name: &str,
    patterns: &[String],
    excludes: &[String],
    regex: bool,
) -> Result<bool, String> {
    let hit = |p: &str| -> Result<bool, String> {
        if regex {
            let re = super::pyre::compile(&format!("^(?:{p})"), false)?;
            Ok(super::pyre::search(&re, name))
        } else {
            Ok(Pattern::parse(p).matches(name))
        }
    };
    for p in patterns {
        if hit(p)? {
            for e in excludes {
                if hit(e)? {
                    return Ok(false);
                }
            }
            return Ok(true);
        }
    }
    Ok(false)
}

/// `-?N[smhdw]` in seconds, or `-?N[bkmgt]` in bytes.
fn scaled(text: &str, units: &[(char, i64)]) -> Option<i64> {
    let t = text.to_lowercase();
    let (digits, unit) = match t.chars().last() {
        Some(c) if c.is_ascii_alphabetic() => (&t[..t.len() - 1], Some(c)),
        _ => (t.as_str(), None),
    };
    let n: i64 = digits.parse().ok()?;
    let factor = match unit {
        None => 1,
        Some(u) => units.iter().find(|(c, _)| *c == u)?.1,
    };
    Some(n * factor)
}

/// `statinfo`: what find reports for each match.
fn statinfo(path: &str, st: &fleetsim_sim::fs::Stat) -> Map<String, Value> {
    let mode = st.mode & 0o7777;
    let bit = |b: u32| json!(mode & b != 0);
    let mut r = Map::new();
    r.insert("path".into(), json!(path));
    r.insert("mode".into(), json!(format!("{mode:04o}")));
    r.insert("isdir".into(), json!(st.kind == FileKind::Dir));
    r.insert("ischr".into(), json!(false));
    r.insert("isblk".into(), json!(false));
    r.insert("isreg".into(), json!(st.kind == FileKind::File));
    r.insert("isfifo".into(), json!(false));
    r.insert("islnk".into(), json!(st.kind == FileKind::Symlink));
    r.insert("issock".into(), json!(false));
    r.insert("uid".into(), json!(super::file::id_of(&st.owner)));
    r.insert("gid".into(), json!(super::file::id_of(&st.group)));
    r.insert("size".into(), json!(st.size));
    r.insert("inode".into(), json!(st.inode));
    r.insert("dev".into(), json!(65024));
    r.insert("nlink".into(), json!(st.nlink));
    r.insert("atime".into(), json!(st.atime));
    r.insert("mtime".into(), json!(st.mtime));
    r.insert("ctime".into(), json!(st.ctime));
    r.insert("gr_name".into(), json!(st.group));
    r.insert("pw_name".into(), json!(st.owner));
    for (k, b) in [
        ("wusr", 0o200),
        ("rusr", 0o400),
        ("xusr", 0o100),
        ("wgrp", 0o020),
        ("rgrp", 0o040),
        ("xgrp", 0o010),
        ("woth", 0o002),
        ("roth", 0o004),
        ("xoth", 0o001),
        ("isuid", 0o4000),
        ("isgid", 0o2000),
    ] {
        r.insert(k.into(), bit(b));
    }
    r
}

/// The options of one search.
struct Query {
    patterns: Vec<String>,
    excludes: Vec<String>,
    use_regex: bool,
    file_type: String,
    age: Option<i64>,
    age_stamp: String,
    size: Option<i64>,
    contains: Option<fancy_regex::Regex>,
    read_whole_file: bool,
    mode: Option<Value>,
    exact_mode: bool,
    hidden: bool,
    checksum: Option<String>,
    depth: Option<i64>,
    recurse: bool,
    follow: bool,
    limit: Option<i64>,
}

impl Query {
    fn age_ok(&self, st: &fleetsim_sim::fs::Stat, now: f64) -> bool {
        let Some(age) = self.age else { return true };
        let t = match self.age_stamp.as_str() {
            "atime" => st.atime,
            "ctime" => st.ctime,
            _ => st.mtime,
        };
        if age >= 0 {
            now - t >= age as f64
        } else {
            now - t <= (-age) as f64
        }
    }

    fn size_ok(&self, st: &fleetsim_sim::fs::Stat) -> bool {
        match self.size {
            None => true,
            Some(s) if s >= 0 => st.size as i64 >= s,
            Some(s) => st.size as i64 <= -s,
        }
    }

    fn mode_ok(&self, st: &fleetsim_sim::fs::Stat) -> Result<bool, String> {
        let Some(m) = &self.mode else { return Ok(true) };
        let wanted = super::parse_mode(m, 0, false)? & 0o7777;
        let have = st.mode & 0o7777;
        Ok(if self.exact_mode {
            have == wanted
        } else {
            have & wanted != 0
        })
    }

    fn content_ok(&self, fs: &Sandbox, path: &str) -> bool {
        let Some(re) = &self.contains else {
            return true;
        };
        let Ok(data) = fs.read(path) else {
            return false;
        };
        let text = String::from_utf8_lossy(&data);
        if self.read_whole_file {
            return super::pyre::search(re, &text);
        }
        // `prog.match(line)`: anchored at the start of each line.
        text.split_inclusive('\n')
            .any(|line| re.find(line).ok().flatten().is_some_and(|m| m.start() == 0))
    }
}

/// Walks `root` top-down (files, then folders, of each folder), collecting matches.
fn walk(
    fs: &Sandbox,
    root: &str,
    q: &Query,
    now: f64,
    found: &mut Vec<Value>,
    looked: &mut usize,
) -> Result<(), String> {
    let base_depth = root.trim_end_matches('/').matches('/').count() + 1;
    let mut queue = vec![root.trim_end_matches('/').to_string()];
    while let Some(dir) = queue.pop() {
        let mut names = fs.list_dir(&dir).map_err(|e| e.to_string())?;
        names.sort();
        let is_dir = |n: &String| {
            let p = format!("{dir}/{n}");
            if q.follow {
                fs.is_dir(&p)
            } else {
                fs.lstat(&p)
                    .map(|s| s.kind == FileKind::Dir)
                    .unwrap_or(false)
            }
        };
        let (dirs, files): (Vec<String>, Vec<String>) = names.into_iter().partition(is_dir);
        *looked += dirs.len() + files.len();
        let mut descend = Vec::new();
        for name in files.iter().chain(dirs.iter()) {
            let path = format!("{dir}/{name}");
            let is_sub = dirs.contains(name);
            if let Some(d) = q.depth.filter(|d| *d > 0) {
                let depth = path.matches('/').count() as i64 - base_depth as i64 + 1;
                if depth > d {
                    continue;
                }
            }
            if is_sub {
                descend.push(path.clone());
            }
            if name.starts_with('.') && !q.hidden {
                continue;
            }
            let Ok(st) = fs.lstat(&path) else { continue };
            let names_ok = || name_filter(name, &q.patterns, &q.excludes, q.use_regex);
            let wanted = match (q.file_type.as_str(), st.kind) {
                ("any", _) => {
                    names_ok()?
                        && q.age_ok(&st, now)
                        && q.mode_ok(&st)?
                        && (st.kind != FileKind::File || q.size_ok(&st))
                }
                ("directory", FileKind::Dir) | ("link", FileKind::Symlink) => {
                    names_ok()? && q.age_ok(&st, now) && q.mode_ok(&st)?
                }
                ("file", FileKind::File) => {
                    names_ok()?
                        && q.age_ok(&st, now)
                        && q.size_ok(&st)
                        && q.content_ok(fs, &path)
                        && q.mode_ok(&st)?
                }
                _ => false,
            };
            let entry = wanted.then(|| statinfo(&path, &st));
            if let Some(mut e) = entry {
                if st.kind == FileKind::File {
                    if let Some(algo) = &q.checksum {
                        if let Ok(data) = fs.read(&path) {
                            e.insert("checksum".into(), json!(super::digest_hex(algo, &data)));
                        }
                    }
                }
                found.push(Value::Object(e));
            }
            if q.limit.is_some_and(|l| found.len() as i64 == l) {
                return Ok(());
            }
        }
        if !q.recurse {
            return Ok(());
        }
        // Pushed in reverse so the first folder is walked next (top-down, in name order).
        queue.extend(descend.into_iter().rev());
    }
    Ok(())
}

impl Module for Find {
    fn run(&self, ctx: &mut ModuleCtx<'_>, args: &Args) -> ModuleResult {
        let args = match super::validated(ctx, &SPEC, args) {
            Ok(a) => a,
            Err(r) => return r,
        };
        let flag =
            |name: &str, default: bool| args.get(name).and_then(Value::as_bool).unwrap_or(default);
        if let Some(m) = args.get("mode").filter(|m| !m.is_null() && !m.is_string()) {
            return super::fail(&format!(
                "argument 'mode' is not a string and conversion is not allowed, value is of type {}",
                super::py_type(m)
            ));
        }
        let use_regex = flag("use_regex", false);
        let mut patterns = strings(args.get("patterns"));
        if patterns.is_empty() {
            patterns.push(if use_regex { ".*" } else { "*" }.into());
        }
        let age = match arg_str(&args, "age") {
            None => None,
            Some(a) => match scaled(
                &a,
                &[
                    ('s', 1),
                    ('m', 60),
                    ('h', 3600),
                    ('d', 86_400),
                    ('w', 604_800),
                ],
            ) {
                Some(s) => Some(s),
                None => {
                    let mut r = super::fail("failed to process age");
                    r.insert("age".into(), json!(a));
                    return r;
                }
            },
        };
        let size = match arg_str(&args, "size") {
            None => None,
            Some(s) => match scaled(
                &s,
                &[
                    ('b', 1),
                    ('k', 1 << 10),
                    ('m', 1 << 20),
                    ('g', 1 << 30),
                    ('t', 1 << 40),
                ],
            ) {
                Some(n) => Some(n),
                None => {
                    let mut r = super::fail("failed to process size");
                    r.insert("size".into(), json!(s));
                    return r;
                }
            },
        };
        let limit = args.get("limit").and_then(Value::as_i64);
        if let Some(l) = limit.filter(|l| *l <= 0) {
            return super::fail(&format!("limit cannot be {l} (use None for unlimited)"));
        }
        let contains = match arg_str(&args, "contains") {
            Some(c) => match super::pyre::compile(&c, false) {
                Ok(re) => Some(re),
                Err(e) => return super::fail(&e),
            },
            None => None,
        };
        let q = Query {
            patterns,
            excludes: strings(args.get("excludes")),
            use_regex,
            file_type: arg_str(&args, "file_type").unwrap_or_else(|| "file".into()),
            age,
            age_stamp: arg_str(&args, "age_stamp").unwrap_or_else(|| "mtime".into()),
            size,
            contains,
            read_whole_file: flag("read_whole_file", false),
            mode: args.get("mode").filter(|m| !m.is_null()).cloned(),
            exact_mode: flag("exact_mode", true),
            hidden: flag("hidden", false),
            checksum: flag("get_checksum", false)
                .then(|| arg_str(&args, "checksum_algorithm").unwrap_or_else(|| "sha1".into())),
            depth: args.get("depth").and_then(Value::as_i64),
            recurse: flag("recurse", false),
            follow: flag("follow", false),
            limit,
        };
        let paths = strings(args.get("paths"));
        let host = match ctx.target_host() {
            Ok(h) => h,
            Err(r) => return r,
        };
        let now = host.fs.now();
        let mut found = Vec::new();
        let mut looked = 0;
        let mut skipped = Map::new();
        let mut warnings = false;
        for p in &paths {
            let res = if host.fs.is_dir(p) {
                walk(&host.fs, p, &q, now, &mut found, &mut looked)
            } else {
                Err(format!("'{p}' is not a directory"))
            };
            if let Err(e) = res {
                skipped.insert(p.clone(), json!(e));
                warnings = true;
            }
            if q.limit.is_some_and(|l| found.len() as i64 == l) {
                break;
            }
        }
        let msg = if warnings {
            "Not all paths examined, check warnings for details"
        } else if q.limit.is_some_and(|l| found.len() as i64 == l) {
            "Limit of matches reached"
        } else {
            "All paths examined"
        };
        let mut r = super::ok(false);
        r.insert("matched".into(), json!(found.len()));
        r.insert("files".into(), Value::Array(found));
        r.insert("msg".into(), json!(msg));
        r.insert("examined".into(), json!(looked));
        r.insert("skipped_paths".into(), Value::Object(skipped));
        r
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_units() {
        let pats = vec!["*.conf".to_string()];
        assert!(name_filter("a.conf", &pats, &[], false).unwrap());
        assert!(!name_filter("a.conf", &pats, &["a*".into()], false).unwrap());
        assert!(name_filter("app.log", &["app".into()], &[], true).unwrap());
        assert_eq!(scaled("2d", &[('d', 86_400)]), Some(172_800));
        assert_eq!(scaled("-10", &[('d', 86_400)]), Some(-10));
        assert_eq!(scaled("ten", &[('d', 86_400)]), None);
    }
}
