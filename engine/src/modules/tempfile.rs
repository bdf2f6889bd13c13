//! `tempfile`: a new temporary file or folder on the target host, named from the host's
//! seeded random stream (`ansible.XXXXXXXX`), mode 0600 / 0700 as mkstemp/mkdtemp make them.

use serde_json::json;

use fleetsim_sim::fs::WriteMode;

use super::spec::{opt, spec, Kind, ModuleName, Spec};
use super::{arg_str, Args, Module, ModuleCtx, ModuleResult};

pub struct TempFile;

const NAME_CHARS: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789_";

const SPEC: Spec = spec(
    ModuleName::AsWritten,
    &[
        opt("state", Kind::Str).choices(&["file", "directory"]),
        opt("path", Kind::Path),
        opt("prefix", Kind::Str),
        opt("suffix", Kind::Str),
    ],
);

impl Module for TempFile {
    fn run(&self, ctx: &mut ModuleCtx<'_>, args: &Args) -> ModuleResult {
        let args = &match super::validated(ctx, &SPEC, args) {
            Ok(a) => a,
            Err(r) => return r,
        };
        let state = arg_str(args, "state").unwrap_or_else(|| "file".into());
        let dir = arg_str(args, "path").unwrap_or_else(|| "/tmp".into());
        let prefix = arg_str(args, "prefix").unwrap_or_else(|| "ansible.".into());
        let suffix = arg_str(args, "suffix").unwrap_or_default();
        // The module's own check: each must be one file name component
        // (`os.path.basename(x) == x`), so `../x` or `a/b` cannot leave `path`.
        for (option, value) in [("prefix", &prefix), ("suffix", &suffix)] {
            if !value.is_empty() && value.contains('/') {
                return super::fail(&format!(
                    "{option} must be a valid file name component, got {}",
                    crate::template::pyrepr::str_repr(value)
                ));
            }
        }
        if state != "file" && state != "directory" {
            return super::fail(&format!(
                "value of state must be one of: directory, file, got: {state}"
            ));
        }
        let check = ctx.check_mode;
        let host = match ctx.target_host() {
            Ok(h) => h,
            Err(r) => return r,
        };
        if !host.fs.is_dir(&dir) {
            return super::fail(&format!("No such file or directory: '{dir}'"));
        }
        // Draw names until one is free, as mkstemp does.
        let path = loop {
            let name: String = (0..8)
                .map(|_| NAME_CHARS[host.rng.below(NAME_CHARS.len() as u64) as usize] as char)
                .collect();
            let p = format!("{}/{prefix}{name}{suffix}", dir.trim_end_matches('/'));
            if !host.fs.exists(&p) {
                break p;
            }
        };
        if !check {
            let made = if state == "file" {
                host.fs
                    .write(&path, b"", WriteMode::CreateNew)
                    .and_then(|_| host.fs.chmod(&path, 0o600))
            } else {
                host.fs
                    .mkdir(&path, false)
                    .and_then(|_| host.fs.chmod(&path, 0o700))
            };
            if let Err(e) = made {
                return super::fail(&format!("{}: '{path}'", e.errno.message()));
            }
        }
        let mut r = super::ok(true);
        super::file::attrs(&host.fs, &path, &mut r);
        r.insert("path".into(), json!(path));
        r
    }
}
