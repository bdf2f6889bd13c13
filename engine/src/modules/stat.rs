//! `stat`: what a path is on the target host (`exists`, `isdir`, `mode`, `checksum`...).

use serde_json::{json, Map, Value};

use fleetsim_sim::fs::FileKind;

use super::{arg_str, Args, Module, ModuleCtx, ModuleResult};

pub struct Stat;

impl Module for Stat {
    fn run(&self, ctx: &mut ModuleCtx<'_>, args: &Args) -> ModuleResult {
        let Some(path) = arg_str(args, "path") else {
            return super::fail("missing required arguments: path");
        };
        let follow = super::arg_bool(args, "follow", false).unwrap_or(false);
        let checksum = super::arg_bool(args, "get_checksum", true).unwrap_or(true);
        let host = match ctx.target_host() {
            Ok(h) => h,
            Err(r) => return r,
        };
        let st = if follow { host.fs.stat(&path) } else { host.fs.lstat(&path) };
        let mut s = Map::new();
        match st {
            Err(_) => {
                s.insert("exists".into(), json!(false));
            }
            Ok(st) => {
                let mode = st.mode & 0o7777;
                s.insert("exists".into(), json!(true));
                s.insert("path".into(), json!(path));
                s.insert("mode".into(), json!(format!("{mode:04o}")));
                s.insert("isdir".into(), json!(st.kind == FileKind::Dir));
                s.insert("isreg".into(), json!(st.kind == FileKind::File));
                s.insert("islnk".into(), json!(st.kind == FileKind::Symlink));
                s.insert("size".into(), json!(st.size));
                s.insert("mtime".into(), json!(st.mtime));
                s.insert("pw_name".into(), json!(st.owner));
                s.insert("gr_name".into(), json!(st.group));
                s.insert("uid".into(), json!(if st.owner == "root" { 0 } else { 1000 }));
                s.insert("gid".into(), json!(if st.group == "root" { 0 } else { 1000 }));
                s.insert("nlink".into(), json!(st.nlink));
                s.insert("readable".into(), json!(true));
                s.insert("writeable".into(), json!(true));
                s.insert("executable".into(), json!(mode & 0o111 != 0));
                s.insert("rusr".into(), json!(mode & 0o400 != 0));
                s.insert("wusr".into(), json!(mode & 0o200 != 0));
                s.insert("xusr".into(), json!(mode & 0o100 != 0));
                if st.kind == FileKind::File && checksum {
                    if let Ok(data) = host.fs.read(&path) {
                        s.insert("checksum".into(), json!(super::sha1_hex(&data)));
                    }
                }
                if st.kind == FileKind::Symlink {
                    if let Ok(t) = host.fs.read_link(&path) {
                        s.insert("lnk_source".into(), json!(t));
                    }
                }
            }
        }
        let mut r = super::ok(false);
        r.insert("stat".into(), Value::Object(s));
        r
    }
}
