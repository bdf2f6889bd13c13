//! `async_status`: the state of a background job (`async`) on the virtual clock:
//! unfinished until its result is written, then that result; `mode: cleanup` erases it.

use serde_json::{json, Map, Value};

use super::spec::{opt, spec, Kind, ModuleName, Spec};
use super::{arg_str, Args, Module, ModuleCtx, ModuleResult};

pub struct AsyncStatus;

const SPEC: Spec = spec(
    ModuleName::AsWritten,
    &[
        opt("jid", Kind::Str).required(),
        opt("mode", Kind::Str).choices(&["status", "cleanup"]),
    ],
);

/// Where async_wrapper writes a job's result (the remote user's `~/.ansible_async`).
pub fn results_file(jid: &str) -> String {
    format!("/root/.ansible_async/{jid}")
}

/// The empty output fields the async_status action starts every answer with.
pub fn empty_output() -> Map<String, Value> {
    let mut r = Map::new();
    r.insert("stderr".into(), json!(""));
    r.insert("stderr_lines".into(), json!([]));
    r.insert("stdout".into(), json!(""));
    r.insert("stdout_lines".into(), json!([]));
    r
}

impl Module for AsyncStatus {
    fn run(&self, ctx: &mut ModuleCtx<'_>, args: &Args) -> ModuleResult {
        let args = match super::validated(ctx, &SPEC, args) {
            Ok(a) => a,
            Err(r) => return r,
        };
        let jid = arg_str(&args, "jid").unwrap_or_default();
        let mode = arg_str(&args, "mode").unwrap_or_else(|| "status".into());
        let file = results_file(&jid);
        let job = ctx
            .world
            .async_jobs
            .get(&jid)
            .filter(|j| j.host == ctx.target)
            .cloned();
        let mut r = empty_output();
        r.insert("ansible_job_id".into(), json!(jid));
        let Some(job) = job else {
            r.extend(super::fail("could not find job"));
            // The action names the file before the module finds it missing.
            let key = if mode == "cleanup" {
                "erased"
            } else {
                "results_file"
            };
            r.insert(key.into(), json!(file));
            r.insert("finished".into(), json!(true));
            r.insert("started".into(), json!(true));
            return r;
        };
        if mode == "cleanup" {
            ctx.world.async_jobs.shift_remove(&jid);
            r.insert("changed".into(), json!(false));
            r.insert("erased".into(), json!(file));
            r.insert("finished".into(), json!(false));
            r.insert("started".into(), json!(false));
            return r;
        }
        r.insert("results_file".into(), json!(file));
        r.insert("started".into(), json!(true));
        if ctx.world.clock.now() + 1e-9 < job.ready_at {
            r.insert("changed".into(), json!(false));
            r.insert("finished".into(), json!(false));
            return r;
        }
        r.extend(job.result);
        r.insert("ansible_job_id".into(), json!(jid));
        r.insert("finished".into(), json!(true));
        r
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_file_is_under_the_async_dir() {
        assert_eq!(results_file("j1.2"), "/root/.ansible_async/j1.2");
    }

    #[test]
    fn empty_output_has_the_four_fields() {
        let keys: Vec<_> = empty_output().keys().cloned().collect();
        assert_eq!(keys, ["stderr", "stderr_lines", "stdout", "stdout_lines"]);
    }
}
