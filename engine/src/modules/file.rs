//! `file`: directories (with their missing parents), touch, absent, links, and mode changes,
//! on the target host's sandbox, with Ansible's results and messages.

use serde_json::{json, Value};

use fleetsim_sim::fs::{FileKind, Sandbox};

use super::{arg_str, Args, Module, ModuleCtx, ModuleResult};

pub struct File;

/// The attributes Ansible reports for a path (`path`, `mode`, `owner`, `size`, `state`...).
pub(super) fn attrs(fs: &Sandbox, path: &str, r: &mut ModuleResult) {
    match fs.lstat(path) {
        Ok(st) => {
            r.insert("path".into(), json!(path));
            r.insert("mode".into(), json!(format!("{:04o}", st.mode & 0o7777)));
            r.insert("owner".into(), json!(st.owner));
            r.insert("group".into(), json!(st.group));
            r.insert(
                "uid".into(),
                json!(if st.owner == "root" { 0 } else { 1000 }),
            );
            r.insert(
                "gid".into(),
                json!(if st.group == "root" { 0 } else { 1000 }),
            );
            r.insert("size".into(), json!(st.size));
            let state = match st.kind {
                FileKind::Dir => "directory",
                FileKind::Symlink => "link",
                _ => "file",
            };
            r.insert("state".into(), json!(state));
        }
        Err(_) => {
            r.insert("path".into(), json!(path));
            r.insert("state".into(), json!("absent"));
        }
    }
}

/// The state word Ansible's file module reports for what a path is.
fn state_name(kind: Option<FileKind>) -> &'static str {
    match kind {
        None => "absent",
        Some(FileKind::Dir) => "directory",
        Some(FileKind::Symlink) => "link",
        Some(_) => "file",
    }
}

/// `path_content` of a folder: every folder and file below it, sorted.
fn folder_content(fs: &Sandbox, path: &str) -> Option<serde_json::Value> {
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
    Some(json!({"directories": dirs, "files": files}))
}

/// The `diff` of a state change, as the file module reports it for `--diff`: the path, and
/// the state and mode where they changed.
fn state_diff(
    path: &str,
    states: Option<(&str, &str)>,
    before_content: &Option<serde_json::Value>,
    modes: Option<(u32, u32)>,
) -> serde_json::Value {
    let mut b = serde_json::Map::new();
    let mut a = serde_json::Map::new();
    b.insert("path".into(), json!(path));
    a.insert("path".into(), json!(path));
    if let Some(c) = before_content {
        b.insert("path_content".into(), c.clone());
    }
    if let Some((bs, as_)) = states {
        b.insert("state".into(), json!(bs));
        a.insert("state".into(), json!(as_));
    }
    if let Some((bm, am)) = modes {
        b.insert("mode".into(), json!(format!("{bm:04o}")));
        a.insert("mode".into(), json!(format!("{am:04o}")));
    }
    json!({"before": b, "after": a})
}

/// Applies `mode` if given and different; returns whether it changed.
pub(super) fn apply_mode(
    fs: &mut Sandbox,
    path: &str,
    mode: Option<&Value>,
    check: bool,
) -> Result<bool, String> {
    let Some(m) = mode else { return Ok(false) };
    if m.is_null() {
        return Ok(false);
    }
    let current = fs.stat(path).map_err(|e| e.to_string())?.mode & 0o7777;
    let wanted = super::parse_mode(m, current)?;
    if wanted == current {
        return Ok(false);
    }
    if !check {
        fs.chmod(path, wanted).map_err(|e| e.to_string())?;
    }
    Ok(true)
}

impl Module for File {
    fn run(&self, ctx: &mut ModuleCtx<'_>, args: &Args) -> ModuleResult {
        let Some(path) = super::arg_path(args) else {
            return super::fail("missing required arguments: path");
        };
        let check = ctx.check_mode;
        let mode = args.get("mode");
        let host = match ctx.target_host() {
            Ok(h) => h,
            Err(r) => return r,
        };
        let fs = &mut host.fs;
        let exists = fs.lstat(&path).ok();
        let before_state = state_name(exists.as_ref().map(|s| s.kind));
        // What a folder about to be removed holds, for --diff (Ansible's `path_content`).
        let before_content = if before_state == "directory" {
            folder_content(fs, &path)
        } else {
            None
        };
        let before_mode = exists.as_ref().map(|s| s.mode & 0o7777);
        let state = match arg_str(args, "state") {
            Some(s) => s,
            None => match &exists {
                Some(st) if st.kind == FileKind::Dir => "directory".into(),
                Some(st) if st.kind == FileKind::Symlink => "link".into(),
                _ => "file".into(),
            },
        };
        let mut r = super::ok(false);
        let result: Result<bool, String> = match state.as_str() {
            "absent" => {
                if exists.is_some() {
                    if !check {
                        if let Err(e) = fs.remove_all(&path) {
                            return super::fail(&format!("rmtree failed: {e}"));
                        }
                    }
                    r.insert("path".into(), json!(path));
                    r.insert("state".into(), json!("absent"));
                    r.insert("changed".into(), json!(true));
                    r.insert(
                        "diff".into(),
                        state_diff(&path, Some((before_state, "absent")), &before_content, None),
                    );
                    return r;
                }
                r.insert("path".into(), json!(path));
                r.insert("state".into(), json!("absent"));
                return r;
            }
            "directory" => match &exists {
                Some(st) if st.kind != FileKind::Dir => {
                    return super::fail(&format!(
                        "{path} already exists as a {}",
                        if st.kind == FileKind::File { "file" } else { "link" }
                    ))
                }
                Some(_) => apply_mode(fs, &path, mode, check),
                None => make_dirs(fs, &path, mode, check),
            },
            "touch" => {
                let created = exists.is_none();
                if created && !check {
                    if let Err(e) = fs.write(&path, b"", fleetsim_sim::fs::WriteMode::Append) {
                        return super::fail(&format!(
                            "Error, could not touch target: {}",
                            e
                        ));
                    }
                }
                if !check {
                    let now = fs.now();
                    let _ = fs.set_mtime(&path, now);
                }
                if check && created {
                    Ok(true)
                } else {
                    apply_mode(fs, &path, mode, check).map(|_| true)
                }
            }
            "file" => match &exists {
                None => {
                    return super::fail(&format!(
                        "file ({path}) is absent, cannot continue"
                    ))
                }
                Some(st) if st.kind == FileKind::Dir => {
                    return super::fail(&format!("{path} is a directory, cannot continue"));
                }
                Some(_) => apply_mode(fs, &path, mode, check),
            },
            "link" | "hard" => {
                let Some(src) = arg_str(args, "src") else {
                    return super::fail("src is required for creating new links");
                };
                let same = if state == "link" {
                    fs.read_link(&path).ok().as_deref() == Some(src.as_str())
                } else {
                    false
                };
                if same {
                    Ok(false)
                } else if check {
                    Ok(true)
                } else {
                    if exists.is_some() {
                        let _ = fs.remove_file(&path);
                    }
                    let res = if state == "link" { fs.symlink(&src, &path) } else { fs.hardlink(&src, &path) };
                    res.map(|_| true).map_err(|e| e.to_string())
                }
            }
            other => {
                return super::fail(&format!(
                    "value of state must be one of: absent, directory, file, hard, link, touch, got: {other}"
                ))
            }
        };
        match result {
            Ok(changed) => {
                attrs(fs, &path, &mut r);
                r.insert("changed".into(), json!(changed));
                if changed {
                    let after_kind = fs.lstat(&path).ok().map(|s| s.kind);
                    let after_state = state_name(after_kind);
                    let after_mode = fs.stat(&path).ok().map(|s| s.mode & 0o7777);
                    // The mode before `mode:` was applied: the old one, or what a new folder
                    // or file gets from the umask.
                    let mode_before = before_mode.or(match after_kind {
                        Some(FileKind::Dir) => Some(0o755),
                        Some(FileKind::File) => Some(0o644),
                        _ => None,
                    });
                    let modes = match (mode_before, after_mode) {
                        (Some(b), Some(a)) if b != a && mode.is_some() => Some((b, a)),
                        _ => None,
                    };
                    let states =
                        (before_state != after_state).then_some((before_state, after_state));
                    r.insert("diff".into(), state_diff(&path, states, &None, modes));
                }
                r
            }
            Err(e) => super::fail(&e),
        }
    }
}

/// Creates `path` and its missing parents, each with `mode` (Ansible applies it to every
/// folder it creates).
fn make_dirs(
    fs: &mut Sandbox,
    path: &str,
    mode: Option<&Value>,
    check: bool,
) -> Result<bool, String> {
    if check {
        return Ok(true);
    }
    let mut cur = String::new();
    for part in path.split('/').filter(|p| !p.is_empty()) {
        cur.push('/');
        cur.push_str(part);
        if fs.exists(&cur) {
            continue;
        }
        fs.mkdir(&cur, false)
            .map_err(|e| format!("There was an issue creating {cur} as requested: {e}"))?;
        apply_mode(fs, &cur, mode, false)?;
    }
    Ok(true)
}
