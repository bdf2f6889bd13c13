//! `script`: a controller-side script sent to the host and run there by the in-process
//! shell (sh or bash scripts only), with `creates`, `removes`, `chdir` and `executable`, as
//! ansible-core 2.19's script action reports it.

use serde_json::json;

use fleetsim_sim::shell::{self, ShellContext};

use super::spec::{opt, spec, Kind, ModuleName, Spec};
use super::{arg_str, Args, Module, ModuleCtx, ModuleResult};

pub struct Script;

const SPEC: Spec = spec(
    ModuleName::Fixed("script"),
    &[
        opt("_raw_params", Kind::Raw),
        opt("cmd", Kind::Str),
        opt("creates", Kind::Str),
        opt("removes", Kind::Str),
        opt("chdir", Kind::Str),
        opt("executable", Kind::Str),
    ],
)
.required_one_of(&[&["_raw_params", "cmd"]])
.mutually_exclusive(&[&["_raw_params", "cmd"]]);

/// Where the script is put on the host before it runs (removed afterwards).
const REMOTE_TMP: &str = "/root/.ansible/tmp/ansible-tmp-fleetsim-script";

impl Module for Script {
    fn run(&self, ctx: &mut ModuleCtx<'_>, args: &Args) -> ModuleResult {
        // `decrypt` is the action's own option (vault), not the module's.
        let mut plain = args.clone();
        plain.remove("decrypt");
        let args = match super::validated(ctx, &SPEC, &plain) {
            Ok(a) => a,
            Err(r) => return r,
        };
        let skipped = |msg: String| {
            let mut r = super::ok(false);
            r.insert("skipped".into(), json!(true));
            r.insert("msg".into(), json!(msg));
            r
        };
        let check = ctx.check_mode;
        let raw = arg_str(&args, "_raw_params")
            .or_else(|| arg_str(&args, "cmd"))
            .unwrap_or_default();
        let parts = match crate::inventory::pyliteral::shlex_split_opts(raw.trim(), false) {
            Ok(p) if !p.is_empty() => p,
            Ok(_) => return super::action_fail("no script given"),
            Err(e) => return super::action_fail(&e),
        };
        let executable = arg_str(&args, "executable");
        let bash = match executable.as_deref().map(|e| e.rsplit('/').next().unwrap_or_default()) {
            None | Some("sh" | "dash") => false,
            Some("bash") => true,
            Some(_) => {
                return super::action_fail(&format!(
                    "fleetsim does not simulate the option 'executable' of script with '{}' (only sh, dash and bash)",
                    executable.unwrap_or_default()
                ))
            }
        };
        let chdir = arg_str(&args, "chdir");
        if let Some(dir) = chdir.as_deref().filter(|d| !d.starts_with('/')) {
            return super::action_fail(&format!(
                "chdir {dir} must be an absolute path for a Unix-aware remote node"
            ));
        }
        let Some(real) = ctx.find_controller_file(&parts[0], "files") else {
            return super::action_fail(&format!(
                "Could not find or access '{}' on the Ansible Controller.",
                parts[0]
            ));
        };
        let text = match std::fs::read(&real) {
            Ok(t) => t,
            Err(e) => return super::action_fail(&format!("could not read {}: {e}", parts[0])),
        };
        // A script for another interpreter cannot run in the in-process shell.
        if executable.is_none() {
            let first = String::from_utf8_lossy(&text)
                .lines()
                .next()
                .unwrap_or_default()
                .to_string();
            if let Some(rest) = first.strip_prefix("#!") {
                let mut words = rest.split_whitespace();
                let prog = words.next().unwrap_or_default();
                let prog = if prog.ends_with("/env") {
                    words.next().unwrap_or_default()
                } else {
                    prog
                };
                if !matches!(prog.rsplit('/').next(), Some("sh" | "dash" | "bash")) {
                    return super::action_fail(&format!(
                        "fleetsim runs shell scripts only; '{}' needs '{prog}'",
                        parts[0]
                    ));
                }
            }
        }
        let now = ctx.world.clock.now();
        let seed = ctx.world.seed;
        let environment = ctx.environment.clone();
        let host = match ctx.target_host() {
            Ok(h) => h,
            Err(r) => return r,
        };
        if let Some(c) = arg_str(&args, "creates") {
            if host.fs.exists(&c) {
                return skipped(format!("{c} exists, matching creates option"));
            }
        }
        if let Some(r) = arg_str(&args, "removes") {
            if !host.fs.exists(&r) {
                return skipped(format!("{r} does not exist, matching removes option"));
            }
        }
        if check {
            if args.get("creates").is_some() || args.get("removes").is_some() {
                return super::ok(true);
            }
            let mut r = skipped("Check mode is not supported for this task.".into());
            r.insert("changed".into(), json!(false));
            return r;
        }
        let name = real
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "script".into());
        let remote = format!("{REMOTE_TMP}/{name}");
        let placed = host
            .fs
            .mkdir(REMOTE_TMP, true)
            .and_then(|_| {
                host.fs
                    .write(&remote, &text, fleetsim_sim::fs::WriteMode::Truncate)
            })
            .and_then(|_| host.fs.chmod(&remote, 0o700));
        if let Err(e) = placed {
            return super::fail(&format!("could not transfer the script: {e}"));
        }
        let command = raw.trim().replacen(&parts[0], &remote, 1);
        let command = match &executable {
            Some(e) => format!("{e} {command}"),
            None => command,
        };
        let mut sc = ShellContext::new(
            host.fs.clone(),
            seed ^ fleetsim_sim::rng::fnv1a(host.name.as_bytes()) ^ host.rng.next_u64(),
        );
        sc.now = now;
        sc.hostname = host.name.clone();
        sc.bash = bash;
        // The task's `environment:` (Ansible prefixes the script's command line with it).
        sc.env.extend(environment);
        if let Some(dir) = &chdir {
            if let Err(e) = sc.chdir(dir) {
                return super::fail(&format!("Unable to change directory before execution: {e}"));
            }
        }
        let out = shell::run(&command, &mut sc);
        let end = sc.now;
        host.fs = sc.sandbox;
        let _ = host.fs.remove_all(REMOTE_TMP);
        ctx.world.clock.advance_to(end);
        let (stdout, stderr) = (out.stdout_str(), out.stderr_str());
        let mut r = super::ok(true);
        r.insert("rc".into(), json!(out.rc));
        r.insert("stdout".into(), json!(stdout));
        r.insert(
            "stdout_lines".into(),
            json!(stdout.lines().collect::<Vec<_>>()),
        );
        r.insert("stderr".into(), json!(stderr));
        r.insert(
            "stderr_lines".into(),
            json!(stderr.lines().collect::<Vec<_>>()),
        );
        if out.rc != 0 {
            // Raised by the script action itself: "Action failed: non-zero return code".
            r.insert("msg".into(), json!("non-zero return code"));
            r.insert("failed".into(), json!(true));
            r.insert("_ansible_action_failed".into(), json!(true));
        }
        r
    }
}
