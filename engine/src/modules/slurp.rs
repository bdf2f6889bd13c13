//! `slurp`: a file of the target host, base64-encoded, as Ansible returns it.

use serde_json::json;

use super::spec::{opt, spec, Kind, ModuleName, Spec};
use super::{arg_str, Args, Module, ModuleCtx, ModuleResult};

pub struct Slurp;

const SPEC: Spec = spec(
    ModuleName::AsWritten,
    &[opt("src", Kind::Path).aliases(&["path"]).required()],
);

impl Module for Slurp {
    fn run(&self, ctx: &mut ModuleCtx<'_>, args: &Args) -> ModuleResult {
        let args = &match super::validated(ctx, &SPEC, args) {
            Ok(a) => a,
            Err(r) => return r,
        };
        let Some(src) = arg_str(args, "src").or_else(|| arg_str(args, "path")) else {
            return super::fail("missing required arguments: src");
        };
        let host = match ctx.target_host() {
            Ok(h) => h,
            Err(r) => return r,
        };
        if host.fs.is_dir(&src) {
            return super::fail(&format!("source is a directory and must be a file: {src}"));
        }
        match host.fs.read(&src) {
            Ok(data) => {
                let mut r = super::ok(false);
                r.insert(
                    "content".into(),
                    json!(crate::template::filters::hash::b64encode(&data)),
                );
                r.insert("encoding".into(), json!("base64"));
                r.insert("source".into(), json!(src));
                r
            }
            Err(e) if e.errno == fleetsim_sim::fs::Errno::NoEnt => {
                let mut r = super::fail(&format!("File not found: {src}"));
                r.insert(
                    "_ansible_error_detail".into(),
                    json!(format!(
                        "File not found: {src}: [Errno 2] No such file or directory: '{src}'"
                    )),
                );
                r
            }
            Err(e) => super::fail(&format!(
                "file is not readable: {src}: {}",
                e.errno.message()
            )),
        }
    }
}
