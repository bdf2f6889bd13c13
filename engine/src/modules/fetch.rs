//! `fetch`: a file of the host copied to the controller, into the simulated controller's
//! (`localhost`) sandbox, never the real machine: `DEST/HOST/SRC` (or `DEST` itself with
//! `flat`), as ansible-core 2.19's fetch action lays it out and reports it.

use serde_json::json;

use super::{arg_str, Args, Module, ModuleCtx, ModuleResult};

pub struct Fetch;

/// `os.path.normpath` for an absolute or relative path.
fn normpath(p: &str) -> String {
    let absolute = p.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for c in p.split('/') {
        match c {
            "" | "." => {}
            ".." => {
                if parts.last().is_some_and(|l| *l != "..") {
                    parts.pop();
                } else if !absolute {
                    parts.push("..");
                }
            }
            other => parts.push(other),
        }
    }
    let joined = parts.join("/");
    if absolute {
        format!("/{joined}")
    } else if joined.is_empty() {
        ".".into()
    } else {
        joined
    }
}

impl Module for Fetch {
    fn run(&self, ctx: &mut ModuleCtx<'_>, args: &Args) -> ModuleResult {
        if ctx.check_mode {
            let mut r = super::ok(false);
            r.insert("skipped".into(), json!(true));
            r.insert(
                "msg".into(),
                json!("check mode not (yet) supported for this module"),
            );
            return r;
        }
        let flag =
            |name: &str, default: bool| args.get(name).and_then(super::to_bool).unwrap_or(default);
        let flat = flag("flat", false);
        let fail_on_missing = flag("fail_on_missing", true);
        let validate_checksum = flag("validate_checksum", true);
        let (Some(source), Some(dest)) = (arg_str(args, "src"), arg_str(args, "dest")) else {
            return super::action_fail("src and dest are required");
        };
        for (key, v) in args {
            if ![
                "src",
                "dest",
                "flat",
                "fail_on_missing",
                "validate_checksum",
            ]
            .contains(&key.as_str())
                && !v.is_null()
            {
                return super::action_fail(&format!(
                    "fleetsim does not simulate the option '{key}' of fetch"
                ));
            }
        }
        let source = if source == "~" || source.starts_with("~/") {
            format!("/root{}", &source[1..])
        } else {
            source
        };
        let inventory_name = ctx.host.clone();
        // path_dwim: a relative dest is beside the playbook.
        let base = ctx
            .search_dirs
            .last()
            .map(|d| d.display().to_string())
            .unwrap_or_else(|| "/".into());
        let dwim = |d: &str| {
            if d.starts_with('/') {
                d.to_string()
            } else {
                format!("{}/{d}", base.trim_end_matches('/'))
            }
        };
        let host = match ctx.target_host() {
            Ok(h) => h,
            Err(r) => return r,
        };
        if host.fs.is_dir(&source) {
            let mut r = super::fail("remote file is a directory, fetch cannot work on directories");
            if !fail_on_missing {
                r = super::ok(false);
                r.remove("changed");
                r.insert(
                    "msg".into(),
                    json!("remote file is a directory, fetch cannot work on directories, not transferring, ignored"),
                );
            }
            return r;
        }
        let data = match host.fs.read(&source) {
            Ok(d) => d,
            Err(_) => {
                let mut r = if fail_on_missing {
                    super::fail("the remote file does not exist, not transferring, ignored")
                } else {
                    let mut r = super::ok(false);
                    r.insert(
                        "msg".into(),
                        json!("the remote file does not exist, not transferring, ignored"),
                    );
                    r
                };
                r.insert("file".into(), json!(source));
                if fail_on_missing {
                    // The error line shows slurp's own failure, the result fetch's message.
                    r.insert(
                        "_ansible_error_detail".into(),
                        json!(format!(
                            "File not found: {source}: [Errno 2] No such file or directory: '{source}'"
                        )),
                    );
                }
                return r;
            }
        };
        let remote_checksum = super::sha1_hex(&data);
        let controller = match ctx.world.host("localhost") {
            Ok(h) => h,
            Err(e) => return super::fail(&format!("cannot open the controller's sandbox: {e}")),
        };
        let fs = &mut controller.fs;
        let dest = if flat {
            if fs.is_dir(&dwim(&dest)) && !dest.ends_with('/') {
                return super::action_fail(
                    "dest is an existing directory, use a trailing slash if you want to fetch src into that directory",
                );
            }
            let mut d = dest.clone();
            if d.ends_with('/') {
                d.push_str(source.rsplit('/').next().unwrap_or_default());
                if fs.is_dir(&dwim(&d)) {
                    return super::action_fail(&format!(
                        "calculated dest '{d}' is an existing directory, use another path that does not point to an existing directory"
                    ));
                }
            }
            normpath(&dwim(&d))
        } else {
            normpath(&format!("{}/{inventory_name}/{source}", dwim(&dest)))
        };
        let local = fs.read(&dest).ok();
        let local_checksum = local.as_deref().map(super::sha1_hex);
        let md5 = crate::template::filters::hash::md5_bytes_hex(&data);
        let mut r = super::ok(false);
        if local_checksum.as_deref() != Some(remote_checksum.as_str()) {
            let dir = match dest.rfind('/') {
                Some(0) => "/".to_string(),
                Some(i) => dest[..i].to_string(),
                None => ".".into(),
            };
            if let Err(e) = fs.mkdir(&dir, true) {
                return super::action_fail(&format!("Failed to fetch the file. {e}"));
            }
            if let Err(e) = fs.write(&dest, &data, fleetsim_sim::fs::WriteMode::Truncate) {
                return super::action_fail(&format!("Failed to fetch the file. {e}"));
            }
            let new_checksum = fs
                .read(&dest)
                .map(|d| super::sha1_hex(&d))
                .unwrap_or_default();
            if validate_checksum && new_checksum != remote_checksum {
                r = super::fail("checksum mismatch");
                r.insert("file".into(), json!(source));
            } else {
                r.insert("changed".into(), json!(true));
            }
            r.insert("md5sum".into(), json!(md5));
            r.insert("dest".into(), json!(dest));
            r.insert("remote_md5sum".into(), json!(null));
            r.insert("checksum".into(), json!(new_checksum));
            r.insert("remote_checksum".into(), json!(remote_checksum));
        } else {
            r.insert("md5sum".into(), json!(md5));
            r.insert("file".into(), json!(source));
            r.insert("dest".into(), json!(dest));
            r.insert("checksum".into(), json!(local_checksum));
        }
        r
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalised_paths() {
        assert_eq!(normpath("/a/b/../c//d/./e"), "/a/c/d/e");
        assert_eq!(normpath("/a/../../b"), "/b");
        assert_eq!(normpath("x/./y/"), "x/y");
    }
}
