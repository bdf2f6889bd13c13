//! `copy`: inline `content` or controller files and folders (`src`, with or without a
//! trailing slash) onto the target host, changed only when content or mode differ.

use std::path::Path;

use serde_json::{json, Value};

use fleetsim_sim::fs::{FileKind, Sandbox, WriteMode};

use super::{arg_str, Args, Module, ModuleCtx, ModuleResult};

pub struct Copy;

/// Writes `data` to `dest` on the target host as copy/template do: fails when the folder is
/// missing, keeps identical files (ok), applies `mode`, reports Ansible's result fields.
pub(super) fn write_file(
    fs: &mut Sandbox,
    dest: &str,
    data: &[u8],
    mode: Option<&Value>,
    src_label: Option<&str>,
    check: bool,
) -> ModuleResult {
    let checksum = super::sha1_hex(data);
    let dir = parent(dest);
    if !fs.is_dir(&dir) {
        let mut r = super::fail(&format!("Destination directory {dir} does not exist"));
        r.insert("checksum".into(), json!(checksum));
        return r;
    }
    let existing = fs.read(dest).ok();
    // What `--diff` shows (the executor drops it when diff mode is off).
    let diff = text_diff(
        existing.as_deref().map(|_| dest),
        dest,
        existing.as_deref().unwrap_or_default(),
        data,
    );
    let mut changed = false;
    if existing.as_deref() != Some(data) {
        changed = true;
        if !check {
            if let Err(e) = fs.write(dest, data, WriteMode::Truncate) {
                let mut r = super::fail(&format!("Destination {dest} not writable: {e}"));
                r.insert("checksum".into(), json!(checksum));
                return r;
            }
        }
    }
    if !check || existing.is_some() {
        match super::file::apply_mode(fs, dest, mode, check) {
            Ok(c) => changed |= c,
            Err(e) => return super::fail(&e),
        }
    }
    let mut r = super::ok(changed);
    r.insert("checksum".into(), json!(checksum));
    r.insert("dest".into(), json!(dest));
    if let Some(s) = src_label {
        r.insert("src".into(), json!(s));
    }
    super::file::attrs(fs, dest, &mut r);
    r.remove("path");
    if changed {
        r.insert(
            "md5sum".into(),
            json!(crate::template::filters::hash::md5_bytes_hex(data)),
        );
        if let Some(d) = diff {
            r.insert("diff".into(), d);
        }
    }
    r
}

/// A `diff` entry for a file's content (None for content that is not text).
pub(super) fn text_diff(
    before_header: Option<&str>,
    after_header: &str,
    before: &[u8],
    after: &[u8],
) -> Option<Value> {
    let (Ok(b), Ok(a)) = (std::str::from_utf8(before), std::str::from_utf8(after)) else {
        return None;
    };
    let mut d = serde_json::Map::new();
    if let Some(h) = before_header {
        d.insert("before_header".into(), json!(h));
    }
    d.insert("after_header".into(), json!(after_header));
    d.insert("before".into(), json!(b));
    d.insert("after".into(), json!(a));
    Some(Value::Object(d))
}

fn parent(path: &str) -> String {
    let trimmed = path.trim_end_matches('/');
    match trimmed.rfind('/') {
        Some(0) => "/".into(),
        Some(i) => trimmed[..i].into(),
        None => ".".into(),
    }
}

impl Module for Copy {
    fn run(&self, ctx: &mut ModuleCtx<'_>, args: &Args) -> ModuleResult {
        let Some(dest) = arg_str(args, "dest") else {
            return super::fail("missing required arguments: dest");
        };
        let mode = args.get("mode").filter(|m| !m.is_null()).cloned();
        let check = ctx.check_mode;
        if let Some(content) = args.get("content") {
            if args.get("src").is_some() {
                return super::action_fail("src and content are mutually exclusive");
            }
            let text = match content {
                Value::String(s) => s.clone(),
                other => crate::output::pyjson::dumps(other, None, false),
            };
            if dest.ends_with('/') {
                return super::action_fail("can not use content with a dir as dest");
            }
            let host = match ctx.target_host() {
                Ok(h) => h,
                Err(r) => return r,
            };
            if host.fs.is_dir(&dest) {
                return super::fail("can not use content with a dir as dest");
            }
            return write_file(
                &mut host.fs,
                &dest,
                text.as_bytes(),
                mode.as_ref(),
                None,
                check,
            );
        }
        let Some(src) = arg_str(args, "src") else {
            return super::action_fail("src (or content) is required");
        };
        if super::arg_bool(args, "remote_src", false).unwrap_or(false) {
            return remote_copy(ctx, &src, &dest, mode.as_ref(), check);
        }
        let Some(real) = ctx.find_controller_file(&src, "files") else {
            return super::action_fail(&format!(
                "Could not find or access '{src}'\nSearched in:\n{}\non the Ansible Controller.\nIf you are using a module and expect the file to exist on the remote, see the remote_src option",
                ctx.search_dirs
                    .iter()
                    .flat_map(|d| [d.join("files").join(&src), d.join(&src)])
                    .map(|p| format!("\t{}", p.display()))
                    .collect::<Vec<_>>()
                    .join("\n")
            ));
        };
        let host = match ctx.target_host() {
            Ok(h) => h,
            Err(r) => return r,
        };
        if real.is_dir() {
            // `src: conf` copies the folder itself; `src: conf/` copies what is inside.
            let base = if src.ends_with('/') {
                dest.trim_end_matches('/').to_string()
            } else {
                let name = real
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default();
                format!("{}/{}", dest.trim_end_matches('/'), name)
            };
            let mut changed = false;
            if let Err(e) = copy_tree(
                &mut host.fs,
                &real,
                &base,
                mode.as_ref(),
                check,
                &mut changed,
            ) {
                return super::fail(&e);
            }
            let mut r = super::ok(changed);
            r.insert("dest".into(), json!(dest));
            r.insert("src".into(), json!(real.display().to_string()));
            return r;
        }
        let data = match std::fs::read(&real) {
            Ok(d) => d,
            Err(e) => return super::action_fail(&format!("could not read {src}: {e}")),
        };
        let mut target = dest.clone();
        if dest.ends_with('/') || host.fs.is_dir(&dest) {
            if dest.ends_with('/') && !host.fs.exists(&dest) && !check {
                if let Err(e) = host.fs.mkdir(&dest, true) {
                    return super::fail(&e.to_string());
                }
            }
            let name = real
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            target = format!("{}/{}", dest.trim_end_matches('/'), name);
        }
        write_file(
            &mut host.fs,
            &target,
            &data,
            mode.as_ref(),
            Some(&real.display().to_string()),
            check,
        )
    }
}

/// `remote_src: true`: the source is on the target host itself.
fn remote_copy(
    ctx: &mut ModuleCtx<'_>,
    src: &str,
    dest: &str,
    mode: Option<&Value>,
    check: bool,
) -> ModuleResult {
    let host = match ctx.target_host() {
        Ok(h) => h,
        Err(r) => return r,
    };
    if host.fs.is_dir(src) {
        let name = src
            .trim_end_matches('/')
            .rsplit('/')
            .next()
            .unwrap_or_default();
        let target = if src.ends_with('/') {
            dest.trim_end_matches('/').to_string()
        } else {
            format!("{}/{name}", dest.trim_end_matches('/'))
        };
        let existed = host.fs.exists(&target);
        if !check {
            if let Err(e) = host.fs.copy_tree(src, &target) {
                return super::fail(&e.to_string());
            }
        }
        let mut r = super::ok(!existed);
        r.insert("dest".into(), json!(dest));
        r.insert("src".into(), json!(src));
        return r;
    }
    let data = match host.fs.read(src) {
        Ok(d) => d,
        Err(_) => return super::fail(&format!("Source {src} not found")),
    };
    let target = if dest.ends_with('/') || host.fs.is_dir(dest) {
        let name = src.rsplit('/').next().unwrap_or_default();
        format!("{}/{name}", dest.trim_end_matches('/'))
    } else {
        dest.to_string()
    };
    write_file(&mut host.fs, &target, &data, mode, Some(src), check)
}

fn copy_tree(
    fs: &mut Sandbox,
    real: &Path,
    dest: &str,
    mode: Option<&Value>,
    check: bool,
    changed: &mut bool,
) -> Result<(), String> {
    if !fs.exists(dest) {
        *changed = true;
        if !check {
            fs.mkdir(dest, true).map_err(|e| e.to_string())?;
        }
    } else if fs
        .stat(dest)
        .map(|s| s.kind != FileKind::Dir)
        .unwrap_or(false)
    {
        return Err(format!("{dest} exists and is not a directory"));
    }
    let mut entries: Vec<_> = std::fs::read_dir(real)
        .map_err(|e| e.to_string())?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .collect();
    entries.sort();
    for p in entries {
        let name = p
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let target = format!("{dest}/{name}");
        // A link is copied as a link (its target is a path on the host, resolved there),
        // never followed on the real machine.
        if p.symlink_metadata()
            .map(|m| m.file_type().is_symlink())
            .unwrap_or(false)
        {
            let link = std::fs::read_link(&p).map_err(|e| e.to_string())?;
            if !check && !fs.exists(&target) {
                fs.symlink(&link.to_string_lossy(), &target)
                    .map_err(|e| e.to_string())?;
                *changed = true;
            }
            continue;
        }
        if p.is_dir() {
            copy_tree(fs, &p, &target, mode, check, changed)?;
        } else {
            let data = std::fs::read(&p).map_err(|e| e.to_string())?;
            let r = write_file(fs, &target, &data, mode, None, check);
            if r.get("failed") == Some(&json!(true)) {
                return Err(r
                    .get("msg")
                    .and_then(Value::as_str)
                    .unwrap_or("copy failed")
                    .to_string());
            }
            *changed |= r.get("changed") == Some(&json!(true));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parent_of_paths() {
        assert_eq!(parent("/tmp/a/b.txt"), "/tmp/a");
        assert_eq!(parent("/b.txt"), "/");
        assert_eq!(parent("/tmp/a/"), "/tmp");
    }
}
