//! `copy`: inline `content` or controller files and folders (`src`, with or without a
//! trailing slash) onto the target host, changed only when content or mode differ.

use std::path::Path;

use serde_json::{json, Value};

use fleetsim_sim::fs::{FileKind, WriteMode};

use super::spec::{opt, spec, Kind, ModuleName, Spec};
use super::{arg_str, Args, Module, ModuleCtx, ModuleResult};

pub struct Copy;

/// The copy module's options (the action plugin's own checks come first).
pub(super) const SPEC: Spec = spec(
    ModuleName::Fixed("ansible.legacy.copy"),
    &[
        opt("src", Kind::Path),
        opt("_original_basename", Kind::Str),
        opt("content", Kind::Str),
        opt("dest", Kind::Path).required(),
        opt("backup", Kind::Bool),
        opt("force", Kind::Bool),
        opt("validate", Kind::Str),
        opt("directory_mode", Kind::Raw),
        opt("remote_src", Kind::Bool),
        opt("local_follow", Kind::Bool),
        opt("checksum", Kind::Str),
        opt("follow", Kind::Bool),
    ],
)
.file_common();

/// What copy/template do besides writing the bytes: `force`, `backup`, `validate` and the
/// file attributes (`mode`, `owner`, `group`), from the validated options.
pub(super) struct WriteOpts<'a> {
    pub args: &'a Args,
    pub check: bool,
    pub now: f64,
}

impl WriteOpts<'_> {
    fn flag(&self, name: &str, default: bool) -> bool {
        self.args
            .get(name)
            .and_then(Value::as_bool)
            .unwrap_or(default)
    }
}

/// Writes `data` to `dest` on the target host as copy/template do: fails when the folder is
/// missing, keeps identical files (ok), backs up and validates, applies the file attributes,
/// reports Ansible's result fields.
pub(super) fn write_file(
    host: &mut fleetsim_sim::host::Host,
    dest: &str,
    data: &[u8],
    src_label: Option<&str>,
    opts: &WriteOpts<'_>,
) -> ModuleResult {
    let check = opts.check;
    let checksum = super::sha1_hex(data);
    let failed = |msg: &str| {
        let mut r = super::fail(msg);
        r.insert("checksum".into(), json!(checksum));
        r
    };
    // The action plugin stats the destination first (`_execute_remote_stat`): any error but
    // a missing file is raised, so failed_when cannot hide it (a parent that is a file).
    if let Err(e) = host.fs.stat(dest) {
        if e.errno != fleetsim_sim::fs::Errno::NoEnt {
            let mut r = super::fail(&format!(
                "Failed to get information on remote file ({dest}): {}",
                e.errno.message()
            ));
            r.insert("_ansible_raised".into(), json!(super::RAISED_ERROR));
            return r;
        }
    }
    let dir = parent(dest);
    if !host.fs.is_dir(&dir) {
        return failed(&format!("Destination directory {dir} does not exist"));
    }
    let existing = host.fs.read(dest).ok();
    if existing.is_some() && !opts.flag("force", true) {
        let mut r = super::ok(false);
        r.insert("dest".into(), json!(dest));
        if let Some(s) = src_label {
            r.insert("src".into(), json!(s));
        }
        return r;
    }
    // What `--diff` shows (the executor drops it when diff mode is off).
    let diff = text_diff(
        existing.as_deref().map(|_| dest),
        dest,
        existing.as_deref().unwrap_or_default(),
        data,
    );
    let mut changed = false;
    let mut backup_file = None;
    if existing.as_deref() != Some(data) {
        changed = true;
        if !check {
            if opts.flag("backup", false) && existing.is_some() {
                match super::backup_local(&mut host.fs, dest, check) {
                    Ok(b) => backup_file = Some(b),
                    Err(mut r) => {
                        r.insert("checksum".into(), json!(checksum));
                        return r;
                    }
                }
            }
            if let Some(v) = arg_str(opts.args, "validate") {
                if !v.contains("%s") {
                    return failed(&format!("validate must contain %s: {v}"));
                }
                match super::command::validate_with(host, opts.now, &v, data) {
                    Ok(out) if out.rc != 0 => {
                        let mut r = failed("failed to validate");
                        let (stdout, stderr) = (out.stdout_str(), out.stderr_str());
                        r.insert("exit_status".into(), json!(out.rc));
                        r.insert(
                            "stdout_lines".into(),
                            json!(stdout.lines().collect::<Vec<_>>()),
                        );
                        r.insert(
                            "stderr_lines".into(),
                            json!(stderr.lines().collect::<Vec<_>>()),
                        );
                        r.insert("stdout".into(), json!(stdout));
                        r.insert("stderr".into(), json!(stderr));
                        return r;
                    }
                    Ok(_) => {}
                    Err(mut r) => {
                        r.insert("checksum".into(), json!(checksum));
                        return r;
                    }
                }
            }
            if let Err(e) = host.fs.write(dest, data, WriteMode::Truncate) {
                return failed(&format!("Destination {dest} not writable: {e}"));
            }
        }
    }
    if !check || existing.is_some() {
        match super::file::apply_file_args(&mut host.fs, dest, opts.args, check) {
            Ok(c) => changed |= c,
            Err(e) => return super::fail(&e),
        }
    }
    let mut r = super::ok(changed);
    r.insert("checksum".into(), json!(checksum));
    r.insert("dest".into(), json!(dest));
    super::file::attrs(&host.fs, dest, &mut r);
    if changed {
        // A file written: the copy module's own result (no `path`).
        r.remove("path");
        if let Some(s) = src_label {
            r.insert("src".into(), json!(s));
        }
        r.insert(
            "md5sum".into(),
            json!(crate::template::filters::hash::md5_bytes_hex(data)),
        );
        if let Some(b) = backup_file {
            r.insert("backup_file".into(), json!(b));
        }
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
        // The action plugin's checks, before the module sees its options.
        for internal in ["_original_basename", "_diff_peek"] {
            if args.get(internal).is_some_and(|v| !v.is_null()) {
                return super::action_fail(&format!("Invalid parameter specified: \"{internal}\""));
            }
        }
        let src = arg_str(args, "src").filter(|s| !s.is_empty());
        let content = args.get("content").filter(|c| !c.is_null());
        let dest = arg_str(args, "dest").filter(|d| !d.is_empty());
        let remote_src = args
            .get("remote_src")
            .and_then(super::to_bool)
            .unwrap_or(false);
        let Some(dest) = (match (&src, content) {
            (None, None) => return super::action_fail("src (or content) is required"),
            _ => dest,
        }) else {
            return super::action_fail("dest is required");
        };
        if src.is_some() && content.is_some() {
            return super::action_fail("src and content are mutually exclusive");
        }
        if content.is_some() && dest.ends_with('/') {
            return super::action_fail("can not use content with a dir as dest");
        }
        // The bytes to send and where they come from, as far as the controller knows them.
        let mut payload: Option<(Vec<u8>, Option<String>)> = None;
        let mut folder: Option<std::path::PathBuf> = None;
        if let Some(content) = content {
            let text = match content {
                Value::String(s) => s.clone(),
                // The action writes lists and dicts as JSON, anything else as Python prints
                // it (`to_bytes`: a native bool from `"{{ a or b }}\n"` is `True`).
                Value::Array(_) | Value::Object(_) => {
                    crate::output::pyjson::dumps(content, None, false)
                }
                other => crate::template::pyrepr::json_repr(other),
            };
            payload = Some((text.into_bytes(), None));
        } else if !remote_src {
            let src = src.clone().unwrap_or_default();
            let Some(real) = ctx.find_controller_file(&src, "files") else {
                let searched: Vec<std::path::PathBuf> = ctx
                    .search_dirs
                    .iter()
                    .flat_map(|d| [d.join("files").join(&src), d.join(&src)])
                    .collect();
                let mut r = super::fail(&format!(
                    "Unexpected AnsibleActionFail error: {}",
                    super::controller_file_not_found(&src, &searched)
                ));
                r.insert("_ansible_raised".into(), json!(super::RAISED_UNEXPECTED));
                return r;
            };
            if real.is_dir() {
                folder = Some(real);
            } else {
                match std::fs::read(&real) {
                    Ok(d) => payload = Some((d, Some(real.display().to_string()))),
                    Err(e) => return super::action_fail(&format!("could not read {src}: {e}")),
                }
            }
        }
        // `mode: preserve` takes the source's mode: the action plugin reads it from the
        // controller's file (for `content`, the 0600 temporary file it writes the content
        // to); with remote_src, or file by file in a folder, it is read further on.
        let preserved: Option<Args> = match &payload {
            Some((_, label)) if is_preserve(args) => {
                let mode = match label {
                    Some(real) => real_file_mode(Path::new(real)),
                    None => 0o600,
                };
                Some(with_mode(args, mode))
            }
            _ => None,
        };
        let args = match super::validated(ctx, &SPEC, preserved.as_ref().unwrap_or(args)) {
            Ok(a) => a,
            Err(mut r) => {
                if let Some((data, _)) = &payload {
                    r.insert("checksum".into(), json!(super::sha1_hex(data)));
                }
                return r;
            }
        };
        let opts = WriteOpts {
            args: &args,
            check: ctx.check_mode,
            now: ctx.world.clock.now(),
        };
        let host = match ctx.target_host() {
            Ok(h) => h,
            Err(r) => return r,
        };
        if remote_src {
            return remote_copy(host, &src.unwrap_or_default(), &dest, &opts);
        }
        if let Some(real) = folder {
            let src = src.unwrap_or_default();
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
            if let Err(e) = copy_tree(host, &real, &base, &opts, &mut changed) {
                return super::fail(&e);
            }
            let mut r = super::ok(changed);
            r.insert("dest".into(), json!(dest));
            r.insert("src".into(), json!(real.display().to_string()));
            return r;
        }
        let Some((data, label)) = payload else {
            return super::fail("nothing to copy");
        };
        if content.is_some() && host.fs.is_dir(&dest) {
            return super::fail("can not use content with a dir as dest");
        }
        let mut target = dest.clone();
        if let Some(real_name) = label
            .as_deref()
            .and_then(|l| l.rsplit('/').next())
            .map(str::to_string)
        {
            if dest.ends_with('/') || host.fs.is_dir(&dest) {
                if dest.ends_with('/') && !host.fs.exists(&dest) && !opts.check {
                    if let Err(e) = host.fs.mkdir(&dest, true) {
                        return super::fail(&e.to_string());
                    }
                }
                target = format!("{}/{}", dest.trim_end_matches('/'), real_name);
            }
        }
        write_file(host, &target, &data, label.as_deref(), &opts)
    }
}

/// `remote_src: true`: the source is on the target host itself.
fn remote_copy(
    host: &mut fleetsim_sim::host::Host,
    src: &str,
    dest: &str,
    opts: &WriteOpts<'_>,
) -> ModuleResult {
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
        if !opts.check {
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
    // The copy module itself turns `preserve` into the remote source's mode.
    if is_preserve(opts.args) {
        let mode = host.fs.stat(src).map(|st| st.mode).unwrap_or(0o644);
        let args = with_mode(opts.args, mode);
        let opts = WriteOpts {
            args: &args,
            ..*opts
        };
        return write_file(host, &target, &data, Some(src), &opts);
    }
    write_file(host, &target, &data, Some(src), opts)
}

fn copy_tree(
    host: &mut fleetsim_sim::host::Host,
    real: &Path,
    dest: &str,
    opts: &WriteOpts<'_>,
    changed: &mut bool,
) -> Result<(), String> {
    let check = opts.check;
    if !host.fs.exists(dest) {
        *changed = true;
        if !check {
            host.fs.mkdir(dest, true).map_err(|e| e.to_string())?;
            // New folders take `directory_mode` (else the umask's 0755).
            if let Some(m) = opts.args.get("directory_mode").filter(|m| !m.is_null()) {
                super::file::apply_mode(&mut host.fs, dest, Some(m), false)?;
            }
        }
    } else if host
        .fs
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
            if !check && !host.fs.exists(&target) {
                host.fs
                    .symlink(&link.to_string_lossy(), &target)
                    .map_err(|e| e.to_string())?;
                *changed = true;
            }
            continue;
        }
        if p.is_dir() {
            copy_tree(host, &p, &target, opts, changed)?;
        } else {
            let data = std::fs::read(&p).map_err(|e| e.to_string())?;
            // The action sends each file of a folder with its own mode under `preserve`.
            let preserved =
                is_preserve(opts.args).then(|| with_mode(opts.args, real_file_mode(&p)));
            let file_opts = WriteOpts {
                args: preserved.as_ref().unwrap_or(opts.args),
                ..*opts
            };
            let r = write_file(host, &target, &data, None, &file_opts);
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

/// Whether the task asks for `mode: preserve`.
fn is_preserve(args: &Args) -> bool {
    args.get("mode").and_then(Value::as_str) == Some("preserve")
}

/// The permission bits of a controller file (what `os.stat` gives the action plugin).
fn real_file_mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path)
        .map(|m| m.permissions().mode() & 0o7777)
        .unwrap_or(0o644)
}

/// `args` with `mode` set as Ansible words a preserved mode (`'0%03o'`).
fn with_mode(args: &Args, mode: u32) -> Args {
    let mut out = args.clone();
    out.insert("mode".into(), json!(format!("0{mode:03o}")));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn preserved_mode_is_worded_as_ansible_does() {
        let args: Args = serde_json::from_value(json!({"mode": "preserve"})).unwrap();
        assert!(is_preserve(&args));
        assert_eq!(with_mode(&args, 0o640)["mode"], json!("0640"));
        assert_eq!(with_mode(&args, 0o4755)["mode"], json!("04755"));
    }

    #[test]
    fn parent_of_paths() {
        assert_eq!(parent("/tmp/a/b.txt"), "/tmp/a");
        assert_eq!(parent("/b.txt"), "/");
        assert_eq!(parent("/tmp/a/"), "/tmp");
    }
}
