//! `wait_for`: wait, on the virtual clock, for a file to appear or go, or for a port to
//! start or stop listening on the simulated network. A port is polled once a virtual second
//! (the fleet's services come up and go down as time passes); nothing else acts on a host's
//! files while a task waits, so a file condition false now stays false: the wait takes its
//! whole `timeout` (virtual seconds) and fails as Ansible's does.

use serde_json::{json, Value};

use super::{arg_str, Args, Module, ModuleCtx, ModuleResult};

pub struct WaitFor;

fn number(args: &Args, name: &str, default: f64) -> f64 {
    match args.get(name) {
        Some(Value::Number(n)) => n.as_f64().unwrap_or(default),
        Some(Value::String(s)) => s.trim().parse().unwrap_or(default),
        _ => default,
    }
}

impl Module for WaitFor {
    fn run(&self, ctx: &mut ModuleCtx<'_>, args: &Args) -> ModuleResult {
        let timeout = number(args, "timeout", 300.0);
        let delay = number(args, "delay", 0.0);
        let state = arg_str(args, "state").unwrap_or_else(|| "started".into());
        let path = arg_str(args, "path");
        let port = args.get("port").and_then(|v| {
            v.as_u64()
                .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
        });
        let host_arg = arg_str(args, "host").unwrap_or_else(|| "127.0.0.1".into());
        let search = arg_str(args, "search_regex");
        let msg = arg_str(args, "msg");
        let started = ctx.world.clock.now();
        ctx.world.clock.advance(delay);
        let satisfied = if let Some(p) = &path {
            let host = match ctx.target_host() {
                Ok(h) => h,
                Err(r) => return r,
            };
            let exists = host.fs.exists(p);
            match state.as_str() {
                "absent" => !exists,
                _ => {
                    exists
                        && match &search {
                            Some(re) => host
                                .fs
                                .read_to_string(p)
                                .ok()
                                .zip(fancy_regex::Regex::new(re).ok())
                                .is_some_and(|(text, re)| re.is_match(&text).unwrap_or(false)),
                            None => true,
                        }
                }
            }
        } else if let Some(port) = port {
            let want_open = !matches!(state.as_str(), "stopped" | "drained" | "absent");
            let from = ctx.target.clone();
            let port = u16::try_from(port).unwrap_or(0);
            // Polls once a virtual second, as Ansible's wait_for does, until the port is in
            // the wanted state or the timeout is spent; without a fleet nothing listens.
            let deadline = ctx.world.clock.now() + timeout;
            loop {
                let now = ctx.world.clock.now();
                let open = ctx
                    .world
                    .with_fleet(|f| f.connect(&from, &host_arg, port, 1.0, now).is_ok())
                    .unwrap_or(false);
                if open == want_open {
                    break true;
                }
                if ctx.world.fleet.is_none() || now + 1.0 > deadline {
                    break false;
                }
                ctx.world.clock.advance(1.0);
            }
        } else {
            true
        };
        let waited = ctx.world.clock.now() - started;
        let mut r = super::ok(false);
        if satisfied {
            r.insert("elapsed".into(), json!(waited as i64));
        } else {
            ctx.world.clock.advance_to(started + delay + timeout);
            let what = match (&path, port) {
                (Some(p), _) if state == "absent" => {
                    format!("Timeout when waiting for {p} to be absent.")
                }
                (Some(p), _) if search.is_some() => format!(
                    "Timeout when waiting for search string {} in {p}",
                    search.clone().unwrap_or_default()
                ),
                (Some(p), _) => format!("Timeout when waiting for file {p}"),
                (None, Some(port)) => format!("Timeout when waiting for {host_arg}:{port}"),
                _ => "Timeout".to_string(),
            };
            r = super::fail(&msg.unwrap_or(what));
            r.insert("elapsed".into(), json!((timeout + delay) as i64));
        }
        if satisfied {
            if let Some(p) = path {
                r.insert("path".into(), json!(p));
            }
            if let Some(port) = port {
                r.insert("port".into(), json!(port));
            }
            r.insert("state".into(), json!(state));
        }
        r
    }
}
