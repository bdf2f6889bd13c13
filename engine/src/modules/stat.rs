//! `stat`: what a path is on the target host, with the whole key set ansible-core 2.19's
//! module returns (`exists`, `mode`, `isdir`, `atime`/`mtime`/`ctime`, `inode`, `dev`,
//! `checksum` by `checksum_algorithm`, `mimetype`/`charset`, the lsattr attributes...).

use serde_json::{json, Map, Value};

use fleetsim_sim::fs::{FileKind, Sandbox};

use super::spec::{opt, spec, Kind, ModuleName, Spec};
use super::{arg_str, Args, Module, ModuleCtx, ModuleResult};

pub struct Stat;

const SPEC: Spec = spec(
    ModuleName::AsWritten,
    &[
        opt("path", Kind::Path)
            .aliases(&["dest", "name"])
            .required(),
        opt("follow", Kind::Bool),
        opt("get_checksum", Kind::Bool),
        opt("get_mime", Kind::Bool).aliases(&["mime", "mime_type", "mime-type"]),
        opt("get_attributes", Kind::Bool).aliases(&["attr", "attributes"]),
        opt("checksum_algorithm", Kind::Str)
            .aliases(&["checksum", "checksum_algo"])
            .choices(&["md5", "sha1", "sha224", "sha256", "sha384", "sha512"]),
    ],
);

/// The device number every simulated filesystem reports.
const SIMULATED_DEV: u64 = 65024;

/// `file --mime-type` and `--mime-encoding` of a path, as far as its bytes tell.
fn mime(fs: &Sandbox, path: &str, kind: FileKind) -> (&'static str, &'static str) {
    match kind {
        FileKind::Dir => ("inode/directory", "binary"),
        FileKind::Symlink => ("inode/symlink", "binary"),
        FileKind::Other => ("inode/x-empty", "binary"),
        FileKind::File => match fs.read(path) {
            Ok(d) if d.is_empty() => ("inode/x-empty", "binary"),
            Ok(d) if d.contains(&0) => ("application/octet-stream", "binary"),
            Ok(d) if d.is_ascii() => ("text/plain", "us-ascii"),
            Ok(d) if std::str::from_utf8(&d).is_ok() => ("text/plain", "utf-8"),
            _ => ("application/octet-stream", "binary"),
        },
    }
}

/// The `stat` dict of an existing path (`st` from stat or lstat as `follow` says).
pub(super) fn stat_dict(
    fs: &Sandbox,
    path: &str,
    st: &fleetsim_sim::fs::Stat,
    checksum: Option<&str>,
    get_mime: bool,
    get_attributes: bool,
) -> Map<String, Value> {
    let mode = st.mode & 0o7777;
    let bit = |b: u32| json!(mode & b != 0);
    let mut s = Map::new();
    s.insert("exists".into(), json!(true));
    s.insert("path".into(), json!(path));
    s.insert("mode".into(), json!(format!("{mode:04o}")));
    s.insert("isdir".into(), json!(st.kind == FileKind::Dir));
    s.insert("ischr".into(), json!(false));
    s.insert("isblk".into(), json!(false));
    s.insert("isreg".into(), json!(st.kind == FileKind::File));
    s.insert("isfifo".into(), json!(false));
    s.insert("islnk".into(), json!(st.kind == FileKind::Symlink));
    s.insert("issock".into(), json!(false));
    s.insert("uid".into(), json!(super::file::id_of(&st.owner)));
    s.insert("gid".into(), json!(super::file::id_of(&st.group)));
    s.insert("size".into(), json!(st.size));
    s.insert("inode".into(), json!(st.inode));
    s.insert("dev".into(), json!(SIMULATED_DEV));
    s.insert("nlink".into(), json!(st.nlink));
    s.insert("atime".into(), json!(st.atime));
    s.insert("mtime".into(), json!(st.mtime));
    s.insert("ctime".into(), json!(st.ctime));
    s.insert("wusr".into(), bit(0o200));
    s.insert("rusr".into(), bit(0o400));
    s.insert("xusr".into(), bit(0o100));
    s.insert("wgrp".into(), bit(0o020));
    s.insert("rgrp".into(), bit(0o040));
    s.insert("xgrp".into(), bit(0o010));
    s.insert("woth".into(), bit(0o002));
    s.insert("roth".into(), bit(0o004));
    s.insert("xoth".into(), bit(0o001));
    s.insert("isuid".into(), bit(0o4000));
    s.insert("isgid".into(), bit(0o2000));
    s.insert("blocks".into(), json!(st.size.div_ceil(4096) * 8));
    s.insert("block_size".into(), json!(4096));
    s.insert("device_type".into(), json!(0));
    // Modules run as root: everything is readable and writable, executable with any x bit.
    s.insert("readable".into(), json!(true));
    s.insert("writeable".into(), json!(true));
    s.insert(
        "executable".into(),
        json!(mode & 0o111 != 0 || st.kind == FileKind::Dir),
    );
    s.insert("pw_name".into(), json!(st.owner));
    s.insert("gr_name".into(), json!(st.group));
    if st.kind == FileKind::Symlink {
        if let Ok(target) = fs.read_link(path) {
            let real = fs.canonical(path).unwrap_or_else(|_| target.clone());
            s.insert("lnk_source".into(), json!(real));
            s.insert("lnk_target".into(), json!(target));
        }
    }
    if let Some(algorithm) = checksum {
        if st.kind == FileKind::File {
            if let Ok(data) = fs.read(path) {
                if let Some(sum) = super::digest_hex(algorithm, &data) {
                    s.insert("checksum".into(), json!(sum));
                }
            }
        }
    }
    if get_mime {
        let (mimetype, charset) = mime(fs, path, st.kind);
        s.insert("mimetype".into(), json!(mimetype));
        s.insert("charset".into(), json!(charset));
    }
    if get_attributes {
        // lsattr on the simulated filesystem: no flags set.
        s.insert("version".into(), Value::Null);
        s.insert("attributes".into(), json!([]));
        s.insert("attr_flags".into(), json!(""));
    }
    s
}

impl Module for Stat {
    fn run(&self, ctx: &mut ModuleCtx<'_>, args: &Args) -> ModuleResult {
        let args = match super::validated(ctx, &SPEC, args) {
            Ok(a) => a,
            Err(r) => return r,
        };
        let path = arg_str(&args, "path").unwrap_or_default();
        let flag =
            |name: &str, default: bool| args.get(name).and_then(Value::as_bool).unwrap_or(default);
        let follow = flag("follow", false);
        let algorithm = arg_str(&args, "checksum_algorithm").unwrap_or_else(|| "sha1".into());
        let checksum = flag("get_checksum", true).then_some(algorithm.as_str());
        let host = match ctx.target_host() {
            Ok(h) => h,
            Err(r) => return r,
        };
        let st = if follow {
            host.fs.stat(&path)
        } else {
            host.fs.lstat(&path)
        };
        let s = match st {
            // Only a missing file is `exists: false`; any other OSError fails the module.
            Err(e) if e.errno != fleetsim_sim::fs::Errno::NoEnt => {
                let mut r = super::fail(e.errno.message());
                let detail = format!("{}: {}", e.errno.message(), super::py_os_error(&e));
                r.insert("_ansible_error_detail".into(), json!(detail));
                return r;
            }
            Err(_) => {
                let mut s = Map::new();
                s.insert("exists".into(), json!(false));
                s
            }
            Ok(st) => stat_dict(
                &host.fs,
                &path,
                &st,
                checksum,
                flag("get_mime", true),
                flag("get_attributes", true),
            ),
        };
        let mut r = super::ok(false);
        r.insert("stat".into(), Value::Object(s));
        r
    }
}
