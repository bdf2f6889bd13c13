//! `ping`: answers `pong` (or `data`) from the host; `data: crash` raises, as the module does.

use serde_json::json;

use super::spec::{opt, spec, Kind, ModuleName, Spec};
use super::{arg_str, Args, Module, ModuleCtx, ModuleResult};

pub struct Ping;

const SPEC: Spec = spec(ModuleName::AsWritten, &[opt("data", Kind::Str)]);

impl Module for Ping {
    fn run(&self, ctx: &mut ModuleCtx<'_>, args: &Args) -> ModuleResult {
        let args = match super::validated(ctx, &SPEC, args) {
            Ok(a) => a,
            Err(r) => return r,
        };
        let data = arg_str(&args, "data").unwrap_or_else(|| "pong".into());
        if data == "crash" {
            // The module raises `Exception("boom")`: ansible-core reports the exception.
            let mut r = super::fail("Task failed: Module failed: boom");
            r.insert("_ansible_error_detail".into(), json!("boom"));
            return r;
        }
        let mut r = super::ok(false);
        r.insert("ping".into(), json!(data));
        r
    }
}
