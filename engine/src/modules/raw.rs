//! `raw`: the command line given as it is to the target's shell, without a module (ansible's
//! `raw` action plugin): `rc`, `stdout(_lines)`, `stderr(_lines)` unstripped, always
//! changed, skipped in check mode, "non-zero return code" as an action failure.

use serde_json::json;

use super::command::{run_script, ShellRun};
use super::{arg_str, Args, Module, ModuleCtx, ModuleResult};

pub struct Raw;

/// The shells a host has (`executable:` naming anything else cannot run).
const SHELLS: &[&str] = &[
    "/bin/sh",
    "/bin/bash",
    "/bin/dash",
    "/usr/bin/sh",
    "/usr/bin/bash",
    "/usr/bin/dash",
];

impl Module for Raw {
    fn run(&self, ctx: &mut ModuleCtx<'_>, args: &Args) -> ModuleResult {
        // The action reads `_raw_params` and `executable` only; like ansible-core it takes
        // no argument spec, so other keys are not looked at.
        if !ctx.environment.is_empty() {
            ctx.display
                .push("[WARNING]: raw module does not support the environment keyword".into());
        }
        if ctx.check_mode {
            let mut r = super::ok(false);
            r.insert("skipped".into(), json!(true));
            return r;
        }
        let script = arg_str(args, "_raw_params").unwrap_or_default();
        let executable = arg_str(args, "executable").filter(|e| e != "False" && !e.is_empty());
        let (shell_name, bash) = match &executable {
            None => ("/bin/sh".to_string(), false),
            Some(exe) if SHELLS.contains(&exe.as_str()) => (exe.clone(), exe.ends_with("bash")),
            Some(exe) => {
                // `EXECUTABLE -c CMD` through /bin/sh: the shell reports the missing program.
                let mut r = super::action_fail("non-zero return code");
                r.insert("changed".into(), json!(true));
                r.insert("rc".into(), json!(127));
                let err = format!("/bin/sh: 1: {exe}: not found\n");
                r.insert("stderr_lines".into(), json!([err.trim_end()]));
                r.insert("stderr".into(), json!(err));
                r.insert("stdout".into(), json!(""));
                r.insert("stdout_lines".into(), json!([]));
                return r;
            }
        };
        let ShellRun { out, .. } =
            match run_script(ctx, &script, None, shell_name, bash, None, None) {
                Ok(run) => run,
                Err(r) => return r,
            };
        let stdout = out.stdout_str();
        let stderr = out.stderr_str();
        let mut r = if out.rc == 0 {
            super::ok(true)
        } else {
            let mut r = super::action_fail("non-zero return code");
            r.insert("changed".into(), json!(true));
            r
        };
        r.insert("rc".into(), json!(out.rc));
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
        r
    }
}
