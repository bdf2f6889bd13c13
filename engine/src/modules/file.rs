//! `file`: directories (with their missing parents), touch, absent, links, modes, owners and
//! times (`modification_time`/`access_time`), recursively with `recurse`, on the target
//! host's sandbox: a port of ansible-core 2.19's module, with its results and messages.

use serde_json::{json, Map, Value};

use fleetsim_sim::fs::{FileKind, Sandbox};

use super::spec::{opt, spec, Kind, ModuleName, Spec};
use super::{arg_str, Args, Module, ModuleCtx, ModuleResult};

pub struct File;

const SPEC: Spec = spec(
    ModuleName::AsWritten,
    &[
        opt("state", Kind::Str).choices(&["absent", "directory", "file", "hard", "link", "touch"]),
        opt("path", Kind::Path)
            .aliases(&["dest", "name"])
            .required(),
        opt("_original_basename", Kind::Str),
        opt("recurse", Kind::Bool),
        opt("force", Kind::Bool),
        opt("follow", Kind::Bool),
        opt("_diff_peek", Kind::Bool),
        opt("src", Kind::Path),
        opt("modification_time", Kind::Str),
        opt("modification_time_format", Kind::Str),
        opt("access_time", Kind::Str),
        opt("access_time_format", Kind::Str),
    ],
)
.file_common();

/// The attributes Ansible reports for a path (`add_path_info`: `path`, `mode`, `owner`,
/// `size`, `state`...).
pub(super) fn attrs(fs: &Sandbox, path: &str, r: &mut ModuleResult) {
    r.insert("path".into(), json!(path));
    // One `lstat`; a second call (following it) only for a link, to see a dangling one.
    let Ok(st) = fs.lstat(path) else {
        r.insert("state".into(), json!("absent"));
        return;
    };
    if st.kind == FileKind::Symlink && fs.stat(path).is_err() {
        r.insert("state".into(), json!("absent"));
        return;
    }
    r.insert("mode".into(), json!(format!("0{:03o}", st.mode & 0o7777)));
    r.insert("owner".into(), json!(st.owner));
    r.insert("group".into(), json!(st.group));
    r.insert("uid".into(), json!(id_of(&st.owner)));
    r.insert("gid".into(), json!(id_of(&st.group)));
    r.insert("size".into(), json!(st.size));
    r.insert("state".into(), json!(state_name(Some(st.kind), st.nlink)));
}

/// `AnsibleModule.add_path_info`, which every module's exit_json and fail_json apply: the
/// stat of the result's `path` (else `dest`) when it exists (following links), nothing
/// when it does not.
pub(crate) fn add_path_info(fs: &Sandbox, r: &mut ModuleResult) {
    let Some(path) = r
        .get("path")
        .or_else(|| r.get("dest"))
        .and_then(Value::as_str)
        .map(str::to_string)
    else {
        return;
    };
    if fs.stat(&path).is_err() {
        return;
    }
    let had_path = r.contains_key("path");
    attrs(fs, &path, r);
    if !had_path {
        r.remove("path");
    }
}

/// The numeric id of a simulated user or group: root is 0, a number is itself, any other
/// name 1000.
pub(super) fn id_of(name: &str) -> u64 {
    if name == "root" {
        0
    } else {
        name.parse().unwrap_or(1000)
    }
}

/// `get_state`: what a path is, in the file module's words.
fn state_name(kind: Option<FileKind>, nlink: u64) -> &'static str {
    match kind {
        None => "absent",
        Some(FileKind::Dir) => "directory",
        Some(FileKind::Symlink) => "link",
        Some(_) if nlink > 1 => "hard",
        Some(_) => "file",
    }
}

fn get_state(fs: &Sandbox, path: &str) -> &'static str {
    match fs.lstat(path) {
        Ok(st) => state_name(Some(st.kind), st.nlink),
        Err(_) => "absent",
    }
}

/// `path_content` of a folder: every folder and file below it, in walk order.
fn folder_content(fs: &Sandbox, path: &str) -> Value {
    let mut dirs = Vec::new();
    let mut files = Vec::new();
    let mut stack = vec![path.trim_end_matches('/').to_string()];
    while let Some(dir) = stack.pop() {
        for name in fs.list_dir(&dir).unwrap_or_default() {
            let p = format!("{dir}/{name}");
            if fs
                .lstat(&p)
                .map(|s| s.kind == FileKind::Dir)
                .unwrap_or(false)
            {
                dirs.push(p.clone());
                stack.push(p);
            } else {
                files.push(p);
            }
        }
    }
    dirs.sort();
    files.sort();
    json!({"directories": dirs, "files": files})
}

/// `initial_diff`: the path, and the states when they differ.
fn initial_diff(fs: &Sandbox, path: &str, state: &str, prev: &str) -> Diff {
    let mut d = Diff::default();
    d.before.insert("path".into(), json!(path));
    d.after.insert("path".into(), json!(path));
    if prev != state {
        d.before.insert("state".into(), json!(prev));
        d.after.insert("state".into(), json!(state));
        if state == "absent" && prev == "directory" {
            d.before
                .insert("path_content".into(), folder_content(fs, path));
        }
    }
    d
}

/// The `before`/`after` of a file module diff.
#[derive(Default)]
pub(super) struct Diff {
    before: Map<String, Value>,
    after: Map<String, Value>,
}

impl Diff {
    fn into_value(self) -> Value {
        json!({"before": self.before, "after": self.after})
    }
}

/// Applies `mode` if given and different; returns whether it changed.
pub(super) fn apply_mode(
    fs: &mut Sandbox,
    path: &str,
    mode: Option<&Value>,
    check: bool,
) -> Result<bool, String> {
    set_mode(fs, path, mode, check, None)
}

fn set_mode(
    fs: &mut Sandbox,
    path: &str,
    mode: Option<&Value>,
    check: bool,
    diff: Option<&mut Diff>,
) -> Result<bool, String> {
    let Some(m) = mode.filter(|m| !m.is_null()) else {
        return Ok(false);
    };
    let st = fs.stat(path).map_err(|e| e.to_string())?;
    let current = st.mode & 0o7777;
    let wanted = super::parse_mode(m, current, st.kind == FileKind::Dir)?;
    if wanted == current {
        return Ok(false);
    }
    if let Some(d) = diff {
        d.before
            .insert("mode".into(), json!(format!("0{current:03o}")));
        d.after
            .insert("mode".into(), json!(format!("0{wanted:03o}")));
    }
    if !check {
        fs.chmod(path, wanted).map_err(|e| e.to_string())?;
    }
    Ok(true)
}

/// The failure of making a link (symbolic or hard): "linking" where nothing was, else
/// "replacing", as ansible-core's file module words it.
fn link_error(prev: &str, path: &str, e: impl std::fmt::Display) -> ModuleResult {
    let what = if prev == "absent" {
        "linking"
    } else {
        "replacing"
    };
    fail_at(&format!("Error while {what}: {e}"), path)
}

/// The editing modules' `check_file_attrs`: applies `owner`, `group` and `mode`, and when
/// they changed anything says so in `msg` (after " and " when the content changed too).
pub(super) fn apply_attrs_noting_change(
    fs: &mut Sandbox,
    path: &str,
    args: &Args,
    check: bool,
    changed: &mut bool,
    msg: &mut String,
) -> Result<(), String> {
    if apply_file_args(fs, path, args, check)? {
        if *changed {
            msg.push_str(" and ");
        }
        msg.push_str("ownership, perms or SE linux context changed");
        *changed = true;
    }
    Ok(())
}

/// `set_fs_attributes_if_different` for `owner`, `group` and `mode` (SELinux contexts are
/// accepted and ignored, as on a host without SELinux); returns whether anything changed.
pub(super) fn apply_file_args(
    fs: &mut Sandbox,
    path: &str,
    args: &Args,
    check: bool,
) -> Result<bool, String> {
    file_args_with_diff(fs, path, args, check, None)
}

fn file_args_with_diff(
    fs: &mut Sandbox,
    path: &str,
    args: &Args,
    check: bool,
    mut diff: Option<&mut Diff>,
) -> Result<bool, String> {
    let mut changed = false;
    let st = fs.stat(path).map_err(|e| e.to_string())?;
    for (key, current) in [("owner", &st.owner), ("group", &st.group)] {
        let Some(wanted) = arg_str(args, key).filter(|w| !w.is_empty()) else {
            continue;
        };
        if &wanted == current || id_of(&wanted) == id_of(current) && wanted.parse::<u64>().is_ok() {
            continue;
        }
        if let Some(d) = diff.as_deref_mut() {
            d.before.insert(key.into(), json!(id_of(current)));
            d.after.insert(key.into(), json!(id_of(&wanted)));
        }
        if !check {
            let (o, g) = if key == "owner" {
                (Some(wanted.as_str()), None)
            } else {
                (None, Some(wanted.as_str()))
            };
            fs.chown(path, o, g)
                .map_err(|e| format!("chown failed: {e}"))?;
        }
        changed = true;
    }
    changed |= set_mode(fs, path, args.get("mode"), check, diff)?;
    Ok(changed)
}

/// A requested time: `preserve` (None), `now`, or a fixed time parsed with the format.
#[derive(Clone, Copy, PartialEq, Debug)]
enum When {
    Preserve,
    Now,
    At(f64),
}

/// `get_timestamp_for_time`.
fn timestamp(value: &str, format: &str) -> Result<When, String> {
    match value {
        "preserve" => Ok(When::Preserve),
        "now" => Ok(When::Now),
        _ => strptime(value, format).map(When::At).ok_or_else(|| {
            format!(
                "Error while obtaining timestamp for time {value} using format {format}: time data '{value}' does not match format '{format}'"
            )
        }),
    }
}

/// `time.mktime(time.strptime(value, format))` for the numeric directives (`%Y %y %m %d %H
/// %M %S %j` and `%%`), in the simulated hosts' timezone, UTC.
fn strptime(value: &str, format: &str) -> Option<f64> {
    let (mut year, mut month, mut day, mut hour, mut minute, mut second) = (1900i64, 1, 1, 0, 0, 0);
    let v = value.as_bytes();
    let mut i = 0;
    let mut chars = format.chars();
    let number = |i: &mut usize, max_digits: usize| -> Option<i64> {
        let start = *i;
        while *i < v.len() && *i - start < max_digits && v[*i].is_ascii_digit() {
            *i += 1;
        }
        std::str::from_utf8(&v[start..*i]).ok()?.parse().ok()
    };
    while let Some(c) = chars.next() {
        if c == '%' {
            match chars.next()? {
                'Y' => year = number(&mut i, 4)?,
                'y' => {
                    let y = number(&mut i, 2)?;
                    year = if y < 69 { 2000 + y } else { 1900 + y };
                }
                'm' => month = number(&mut i, 2)?,
                'd' => day = number(&mut i, 2)?,
                'H' => hour = number(&mut i, 2)?,
                'M' => minute = number(&mut i, 2)?,
                'S' => second = number(&mut i, 2)?,
                '%' => {
                    if v.get(i) != Some(&b'%') {
                        return None;
                    }
                    i += 1;
                }
                _ => return None,
            }
        } else {
            let mut buf = [0u8; 4];
            let lit = c.encode_utf8(&mut buf).as_bytes();
            if !v[i..].starts_with(lit) {
                return None;
            }
            i += lit.len();
        }
    }
    let valid = i == v.len()
        && (1..=12).contains(&month)
        && (1..=31).contains(&day)
        && hour < 24
        && minute < 60
        && second <= 61;
    if !valid {
        return None;
    }
    let days = fleetsim_sim::clock::days_from_civil(year, month, day);
    Some((days * 86_400 + hour * 3600 + minute * 60 + second) as f64)
}

/// `update_timestamp_for_file`: sets the times asked for; returns whether they changed.
fn update_times(
    fs: &mut Sandbox,
    path: &str,
    mtime: When,
    atime: When,
    check: bool,
    diff: Option<&mut Diff>,
) -> Result<bool, String> {
    if mtime == When::Preserve && atime == When::Preserve {
        return Ok(false);
    }
    let st = fs
        .stat(path)
        .map_err(|e| format!("Error while updating modification or access time: {e}"))?;
    let now = fs.now();
    let pick = |w: When, prev: f64| match w {
        When::Preserve => prev,
        When::Now => now,
        When::At(t) => t,
    };
    let (new_m, new_a) = (pick(mtime, st.mtime), pick(atime, st.atime));
    let both_now = mtime == When::Now && atime == When::Now;
    if !both_now && new_m == st.mtime && new_a == st.atime {
        return Ok(false);
    }
    if !check {
        fs.set_times(path, Some(new_a), Some(new_m))
            .map_err(|e| format!("Error while updating modification or access time: {e}"))?;
    }
    if let Some(d) = diff {
        if new_m != st.mtime {
            d.before.insert("mtime".into(), json!(st.mtime));
            d.after.insert("mtime".into(), json!(new_m));
        }
        if new_a != st.atime {
            d.before.insert("atime".into(), json!(st.atime));
            d.after.insert("atime".into(), json!(new_a));
        }
    }
    Ok(true)
}

/// A failure carrying the path, as the module's `fail_json(path=...)` calls do.
fn fail_at(msg: &str, path: &str) -> ModuleResult {
    let mut r = super::fail(msg);
    r.insert("path".into(), json!(path));
    r
}

/// Everything one run of the module needs.
struct Run<'a> {
    args: &'a Args,
    check: bool,
    follow: bool,
    force: bool,
    mtime: When,
    atime: When,
}

impl Run<'_> {
    /// Owner, group, mode and times of `path`.
    fn attributes(
        &self,
        fs: &mut Sandbox,
        path: &str,
        diff: &mut Diff,
    ) -> Result<bool, ModuleResult> {
        let mut changed = file_args_with_diff(fs, path, self.args, self.check, Some(diff))
            .map_err(|e| fail_at(&e, path))?;
        changed |= update_times(fs, path, self.mtime, self.atime, self.check, Some(diff))
            .map_err(|e| fail_at(&e, path))?;
        Ok(changed)
    }

    /// Where attributes go: a followed link's target.
    fn followed(&self, fs: &Sandbox, path: &str) -> String {
        if self.follow && get_state(fs, path) == "link" {
            fs.canonical(path).unwrap_or_else(|_| path.to_string())
        } else {
            path.to_string()
        }
    }

    fn absent(&self, fs: &mut Sandbox, path: &str) -> Result<ModuleResult, ModuleResult> {
        let prev = get_state(fs, path);
        let mut r = super::ok(false);
        r.insert("path".into(), json!(path));
        r.insert("state".into(), json!("absent"));
        if prev != "absent" {
            let diff = initial_diff(fs, path, "absent", prev);
            if !self.check {
                let res = if prev == "directory" {
                    fs.remove_all(path)
                        .map_err(|e| format!("rmtree failed: {e}"))
                } else {
                    fs.remove_file(path)
                        .map_err(|_| "Unlinking failed.".to_string())
                };
                res.map_err(|e| fail_at(&e, path))?;
            }
            r.insert("changed".into(), json!(true));
            r.insert("diff".into(), diff.into_value());
        }
        Ok(r)
    }

    fn touch(&self, fs: &mut Sandbox, path: &str) -> Result<ModuleResult, ModuleResult> {
        let prev = get_state(fs, path);
        let mut r = super::ok(false);
        r.insert("dest".into(), json!(path));
        let mut changed = false;
        if prev == "absent" {
            if self.check {
                r.insert("changed".into(), json!(true));
                return Ok(r);
            }
            fs.write(path, b"", fleetsim_sim::fs::WriteMode::Append)
                .map_err(|e| {
                    // fail_json(exception=ex): the error line joins the OSError to the msg.
                    let mut r = fail_at("Error, could not touch target.", path);
                    r.insert(
                        "_ansible_error_detail".into(),
                        json!(format!(
                            "Error, could not touch target: {}",
                            super::py_os_error(&e)
                        )),
                    );
                    r
                })?;
            changed = true;
        }
        let mut diff = initial_diff(fs, path, "touch", prev);
        let target = self.followed(fs, path);
        match self.attributes(fs, &target, &mut diff) {
            Ok(c) => changed |= c,
            Err(e) => {
                if prev == "absent" {
                    let _ = fs.remove_file(path);
                }
                return Err(e);
            }
        }
        r.insert("changed".into(), json!(changed));
        r.insert("diff".into(), diff.into_value());
        Ok(r)
    }

    fn file(&self, fs: &mut Sandbox, path: &str) -> Result<ModuleResult, ModuleResult> {
        let mut path = path.to_string();
        let mut prev = get_state(fs, &path);
        if prev != "file" && self.follow && prev == "link" {
            path = fs.canonical(&path).unwrap_or(path);
            prev = get_state(fs, &path);
        }
        if prev != "file" && prev != "hard" {
            let mut r = fail_at(&format!("file ({path}) is {prev}, cannot continue"), &path);
            r.insert("state".into(), json!(prev));
            return Err(r);
        }
        let mut diff = initial_diff(fs, &path, "file", prev);
        let changed = self.attributes(fs, &path, &mut diff)?;
        let mut r = super::ok(changed);
        r.insert("path".into(), json!(path));
        r.insert("diff".into(), diff.into_value());
        Ok(r)
    }

    fn directory(
        &self,
        fs: &mut Sandbox,
        path: &str,
        recurse: bool,
    ) -> Result<ModuleResult, ModuleResult> {
        let mut path = path.to_string();
        let mut prev = get_state(fs, &path);
        if self.follow && prev == "link" {
            path = fs.canonical(&path).unwrap_or(path);
            prev = get_state(fs, &path);
        }
        let mut diff = initial_diff(fs, &path, "directory", prev);
        let mut changed = false;
        if prev == "absent" {
            if !self.check {
                // mkdir -p, with the attributes applied to every folder it creates.
                let absolute = path.starts_with('/');
                let mut cur = String::new();
                for part in path.trim_matches('/').split('/') {
                    cur = if cur.is_empty() && !absolute {
                        part.to_string()
                    } else {
                        format!("{cur}/{part}")
                    };
                    if fs.exists(&cur) {
                        continue;
                    }
                    fs.mkdir(&cur, false).map_err(|e| {
                        fail_at(
                            &format!("There was an issue creating {cur} as requested: {e}"),
                            &path,
                        )
                    })?;
                    changed = true;
                    changed |= self.attributes(fs, &cur, &mut diff)?;
                }
            } else {
                changed = true;
            }
        } else if prev != "directory" {
            return Err(fail_at(
                &format!("{path} already exists as a {prev}"),
                &path,
            ));
        } else {
            changed |= self.attributes(fs, &path, &mut diff)?;
            if recurse {
                changed |= self.recurse(fs, &path)?;
            }
        }
        let mut r = super::ok(changed);
        r.insert("path".into(), json!(path));
        r.insert("diff".into(), diff.into_value());
        Ok(r)
    }

    /// `recursive_set_attributes`: every folder and file below `dir`, links themselves and,
    /// with `follow`, what they point to.
    fn recurse(&self, fs: &mut Sandbox, dir: &str) -> Result<bool, ModuleResult> {
        let mut changed = false;
        let mut scratch = Diff::default();
        let mut stack = vec![dir.trim_end_matches('/').to_string()];
        while let Some(d) = stack.pop() {
            let mut entries = fs.list_dir(&d).unwrap_or_default();
            entries.sort();
            for name in entries {
                let p = format!("{d}/{name}");
                let Ok(st) = fs.lstat(&p) else { continue };
                if st.kind == FileKind::Symlink {
                    if self.follow {
                        if let Ok(target) = fs.canonical(&p) {
                            if fs.is_dir(&target) {
                                changed |= self.recurse(fs, &target)?;
                            }
                            changed |= self.attributes(fs, &target, &mut scratch)?;
                        }
                    }
                    continue;
                }
                changed |= self.attributes(fs, &p, &mut scratch)?;
                if st.kind == FileKind::Dir {
                    stack.push(p);
                }
            }
        }
        Ok(changed)
    }

    fn link(
        &self,
        fs: &mut Sandbox,
        path: &str,
        src: Option<String>,
    ) -> Result<ModuleResult, ModuleResult> {
        let prev = get_state(fs, path);
        let src = match src {
            Some(s) => Some(s),
            None if self.follow && fs.exists(path) => fs.read_link(path).ok(),
            None => None,
        };
        let relpath = if prev == "directory" {
            path.to_string()
        } else {
            match path.rfind('/') {
                Some(0) => "/".into(),
                Some(i) => path[..i].to_string(),
                None => String::new(),
            }
        };
        if let Some(s) = &src {
            let absrc = if s.starts_with('/') || relpath.is_empty() {
                s.clone()
            } else {
                format!("{}/{s}", relpath.trim_end_matches('/'))
            };
            if !self.force && !fs.exists(&absrc) {
                let mut r = fail_at(
                    &format!("src file does not exist, use 'force=yes' if you really want to create the link: {absrc}"),
                    path,
                );
                r.insert("src".into(), json!(s));
                return Err(r);
            }
        }
        if prev == "directory" {
            if !self.force {
                return Err(fail_at(
                    &format!("refusing to convert from {prev} to symlink for {path}"),
                    path,
                ));
            }
            if !fs.list_dir(path).unwrap_or_default().is_empty() {
                return Err(fail_at(
                    &format!("the directory {path} is not empty, refusing to convert it"),
                    path,
                ));
            }
        } else if (prev == "file" || prev == "hard") && !self.force {
            return Err(fail_at(
                &format!("refusing to convert from {prev} to symlink for {path}"),
                path,
            ));
        }
        let mut diff = initial_diff(fs, path, "link", prev);
        let mut changed = false;
        if prev == "link" {
            if let Some(s) = &src {
                let old = fs.read_link(path).unwrap_or_default();
                if &old != s {
                    diff.before.insert("src".into(), json!(old));
                    diff.after.insert("src".into(), json!(s));
                    changed = true;
                }
            }
        } else {
            if src.is_none() {
                return Err(super::fail("src is required for creating new symlinks"));
            }
            changed = true;
        }
        let src_text = src.clone().unwrap_or_default();
        if changed && !self.check {
            let res = match prev {
                "absent" => fs.symlink(&src_text, path),
                "directory" => fs
                    .remove_dir(path)
                    .and_then(|_| fs.symlink(&src_text, path)),
                _ => fs
                    .remove_file(path)
                    .and_then(|_| fs.symlink(&src_text, path)),
            };
            res.map_err(|e| link_error(prev, path, e))?;
        }
        let mut r = super::ok(changed);
        r.insert("dest".into(), json!(path));
        r.insert("src".into(), json!(src));
        if self.check && !fs.exists(path) && fs.lstat(path).is_err() {
            r.insert("diff".into(), diff.into_value());
            return Ok(r);
        }
        let target = self.followed(fs, path);
        if fs.stat(&target).is_ok() && (self.follow || target != path) {
            changed |= self.attributes(fs, &target, &mut diff)?;
        }
        r.insert("changed".into(), json!(changed));
        r.insert("diff".into(), diff.into_value());
        Ok(r)
    }

    fn hard(
        &self,
        fs: &mut Sandbox,
        path: &str,
        src: Option<String>,
    ) -> Result<ModuleResult, ModuleResult> {
        let prev = get_state(fs, path);
        if prev != "hard" && src.is_none() {
            return Err(super::fail("src is required for creating new hardlinks"));
        }
        if let Some(s) = &src {
            if !fs.exists(s) {
                let mut r = super::fail("src does not exist");
                r.insert("dest".into(), json!(path));
                r.insert("src".into(), json!(s));
                return Err(r);
            }
        }
        let mut diff = initial_diff(fs, path, "hard", prev);
        let same_inode = |fs: &Sandbox, s: &str| match (fs.stat(path), fs.stat(s)) {
            (Ok(a), Ok(b)) => a.inode == b.inode,
            _ => false,
        };
        let refuse = |msg: &str| {
            let mut r = super::fail(msg);
            r.insert("dest".into(), json!(path));
            r.insert("src".into(), json!(src));
            r
        };
        let changed = match prev {
            "absent" => true,
            "link" => {
                let old = fs.read_link(path).unwrap_or_default();
                let s = src.clone().unwrap_or_default();
                if old != s {
                    diff.before.insert("src".into(), json!(old));
                    diff.after.insert("src".into(), json!(s));
                    true
                } else {
                    false
                }
            }
            "hard" => match &src {
                Some(s) if !same_inode(fs, s) => {
                    if !self.force {
                        return Err(refuse(
                            "Cannot link, different hard link exists at destination",
                        ));
                    }
                    true
                }
                _ => false,
            },
            "file" => {
                if !self.force {
                    return Err(refuse(&format!(
                        "Cannot link, {prev} exists at destination"
                    )));
                }
                true
            }
            _ => {
                if !self.force {
                    return Err(refuse(
                        "Cannot link: different hard link exists at destination",
                    ));
                }
                true
            }
        };
        if changed && !self.check {
            let s = src.clone().unwrap_or_default();
            if prev != "absent" {
                let _ = if prev == "directory" {
                    fs.remove_all(path)
                } else {
                    fs.remove_file(path)
                };
            }
            fs.hardlink(&s, path)
                .map_err(|e| link_error(prev, path, e))?;
        }
        let mut r = super::ok(changed);
        r.insert("dest".into(), json!(path));
        r.insert("src".into(), json!(src));
        if self.check && !fs.exists(path) {
            r.insert("diff".into(), diff.into_value());
            return Ok(r);
        }
        let changed = changed | self.attributes(fs, path, &mut diff)?;
        r.insert("changed".into(), json!(changed));
        r.insert("diff".into(), diff.into_value());
        Ok(r)
    }
}

impl Module for File {
    fn run(&self, ctx: &mut ModuleCtx<'_>, args: &Args) -> ModuleResult {
        let args = match super::validated(ctx, &SPEC, args) {
            Ok(a) => a,
            Err(r) => return r,
        };
        let check = ctx.check_mode;
        let flag =
            |name: &str, default: bool| args.get(name).and_then(Value::as_bool).unwrap_or(default);
        let recurse = flag("recurse", false);
        let host = match ctx.target_host() {
            Ok(h) => h,
            Err(r) => return r,
        };
        let fs = &mut host.fs;
        let mut path = arg_str(&args, "path").unwrap_or_default();
        let src = arg_str(&args, "src");
        let mut state = arg_str(&args, "state");
        // additional_parameter_handling: a folder as path names the file inside it.
        if !matches!(state.as_deref(), Some("link" | "absent")) && fs.is_dir(&path) {
            let basename = arg_str(&args, "_original_basename").or_else(|| {
                src.as_ref()
                    .map(|s| s.rsplit('/').next().unwrap_or_default().to_string())
            });
            if let Some(b) = basename.filter(|b| !b.is_empty()) {
                path = format!("{}/{b}", path.trim_end_matches('/'));
            }
        }
        let prev = get_state(fs, &path);
        let state = match state.take() {
            Some(s) => s,
            None if prev != "absent" => prev.to_string(),
            None if recurse => "directory".into(),
            None => "file".into(),
        };
        if recurse && state != "directory" {
            return fail_at("recurse option requires state to be 'directory'", &path);
        }
        if src.is_some() && state != "link" && state != "hard" {
            return fail_at("src option requires state to be 'link' or 'hard'", &path);
        }
        // keep_backward_compatibility_on_timestamps: touch defaults to now, others preserve.
        let time_of = |key: &str| -> Result<When, String> {
            let format =
                arg_str(&args, &format!("{key}_format")).unwrap_or_else(|| "%Y%m%d%H%M.%S".into());
            match arg_str(&args, key) {
                Some(v) => timestamp(&v, &format),
                None if state == "touch" => Ok(When::Now),
                None => Ok(When::Preserve),
            }
        };
        let (mtime, atime) = match (time_of("modification_time"), time_of("access_time")) {
            (Ok(m), Ok(a)) => (m, a),
            (Err(e), _) | (_, Err(e)) => return super::fail(&e),
        };
        let run = Run {
            args: &args,
            check,
            follow: flag("follow", true),
            force: flag("force", false),
            mtime,
            atime,
        };
        if args.get("_diff_peek").is_some_and(|v| !v.is_null()) {
            let binary = fs
                .read(&path)
                .map(|d| d.iter().take(8192).any(|b| *b == 0))
                .unwrap_or(false);
            let mut r = super::ok(false);
            r.insert("path".into(), json!(path));
            r.insert("appears_binary".into(), json!(binary));
            return r;
        }
        let result = match state.as_str() {
            "absent" => run.absent(fs, &path),
            "touch" => run.touch(fs, &path),
            "directory" => run.directory(fs, &path, recurse),
            "link" => run.link(fs, &path, src),
            "hard" => run.hard(fs, &path, src),
            _ => run.file(fs, &path),
        };
        match result {
            Ok(mut r) => {
                // exit_json's add_path_info, for `path` (or else `dest`).
                let shown = r
                    .get("path")
                    .or_else(|| r.get("dest"))
                    .and_then(Value::as_str)
                    .map(str::to_string);
                if let Some(p) = shown {
                    if fs.stat(&p).is_ok() {
                        let had_path = r.contains_key("path");
                        attrs(fs, &p, &mut r);
                        if !had_path {
                            r.remove("path");
                        }
                    }
                }
                r
            }
            Err(r) => r,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_parse_as_strptime() {
        assert_eq!(
            strptime("202401021304.05", "%Y%m%d%H%M.%S"),
            Some(1_704_200_645.0)
        );
        assert_eq!(strptime("2024-01-02", "%Y-%m-%d"), Some(1_704_153_600.0));
        assert_eq!(strptime("2024-13-02", "%Y-%m-%d"), None);
        assert_eq!(strptime("2024-01-02x", "%Y-%m-%d"), None);
        assert!(timestamp("yesterday", "%Y")
            .unwrap_err()
            .contains("does not match format '%Y'"));
        assert_eq!(timestamp("now", "%Y"), Ok(When::Now));
        assert_eq!(timestamp("preserve", "%Y"), Ok(When::Preserve));
    }

    #[test]
    fn ids() {
        assert_eq!(id_of("root"), 0);
        assert_eq!(id_of("33"), 33);
        assert_eq!(id_of("www-data"), 1000);
    }

    #[test]
    fn path_info_only_for_existing_paths() {
        let dir = tempfile::tempdir().unwrap();
        let mut fs = Sandbox::new(dir.path(), "h").unwrap();
        fs.mkdir("/w", true).unwrap();
        fs.write("/w/f", b"12345", fleetsim_sim::fs::WriteMode::Truncate)
            .unwrap();
        fs.symlink("/nowhere", "/w/dead").unwrap();
        let result = |v: Value| v.as_object().cloned().unwrap_or_default();
        let mut r = result(json!({"failed": true, "path": "/w/f"}));
        add_path_info(&fs, &mut r);
        assert_eq!(
            (r["state"].clone(), r["size"].clone()),
            (json!("file"), json!(5))
        );
        // `dest` is stated when there is no `path`, without adding a `path`.
        let mut r = result(json!({"failed": true, "dest": "/w"}));
        add_path_info(&fs, &mut r);
        assert_eq!(r["state"], json!("directory"));
        assert!(!r.contains_key("path"));
        // Missing and dangling paths get nothing (os.path.exists follows links).
        for p in ["/w/none", "/w/dead"] {
            let mut r = result(json!({"failed": true, "path": p}));
            add_path_info(&fs, &mut r);
            assert_eq!(r.len(), 2, "{p}");
        }
    }
}
