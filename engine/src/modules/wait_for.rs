//! `wait_for`: wait, on the virtual clock, for a file to appear or go, or for a port to
//! start or stop listening on the simulated network. A port is polled once a virtual second
//! (the fleet's services come up and go down as time passes); nothing else acts on a host's
//! files while a task waits, so a file condition false now stays false: the wait takes its
//! whole `timeout` (virtual seconds) and fails as Ansible's does.

use serde_json::{json, Value};

use super::spec::{opt, spec, Kind, ModuleName, Spec};
use super::{arg_str, Args, Module, ModuleCtx, ModuleResult};

pub struct WaitFor;

const SPEC: Spec = spec(
    ModuleName::AsWritten,
    &[
        opt("host", Kind::Str),
        opt("timeout", Kind::Int),
        opt("connect_timeout", Kind::Int),
        opt("delay", Kind::Int),
        opt("port", Kind::Int),
        opt("active_connection_states", Kind::List),
        opt("path", Kind::Path),
        opt("search_regex", Kind::Str),
        opt("state", Kind::Str).choices(&["absent", "drained", "present", "started", "stopped"]),
        opt("exclude_hosts", Kind::List),
        opt("sleep", Kind::Int),
        opt("msg", Kind::Str),
    ],
);

/// The groups of the first match of `re` in `text`: `(match_groups, match_groupdict)`.
fn match_groups(re: &fancy_regex::Regex, text: &str) -> Option<(Value, Value)> {
    let caps = re.captures(text).ok().flatten()?;
    let groups: Vec<Value> = (1..caps.len())
        .map(|i| {
            caps.get(i)
                .map(|m| json!(m.as_str()))
                .unwrap_or(Value::Null)
        })
        .collect();
    let mut dict = serde_json::Map::new();
    for name in re.capture_names().flatten() {
        dict.insert(
            name.to_string(),
            caps.name(name)
                .map(|m| json!(m.as_str()))
                .unwrap_or(Value::Null),
        );
    }
    Some((Value::Array(groups), Value::Object(dict)))
}

fn number(args: &Args, name: &str, default: f64) -> f64 {
    match args.get(name) {
        Some(Value::Number(n)) => n.as_f64().unwrap_or(default),
        Some(Value::String(s)) => s.trim().parse().unwrap_or(default),
        _ => default,
    }
}

impl Module for WaitFor {
    fn run(&self, ctx: &mut ModuleCtx<'_>, args: &Args) -> ModuleResult {
        let args = &match super::validated(ctx, &SPEC, args) {
            Ok(a) => a,
            Err(r) => return r,
        };
        let search_re = match arg_str(args, "search_regex") {
            Some(r) => match super::pyre::compile(&r, true) {
                Ok(re) => Some(re),
                Err(e) => return super::fail(&format!("Invalid regular expression: {e}")),
            },
            None => None,
        };
        if args.get("port").is_some_and(|p| !p.is_null())
            && args.get("path").is_some_and(|p| !p.is_null())
        {
            let mut r = super::fail("port and path parameter can not both be passed to wait_for");
            r.insert("elapsed".into(), json!(0));
            return r;
        }
        let mut groups = (json!([]), json!({}));
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
                        && match &search_re {
                            Some(re) => match host
                                .fs
                                .read_to_string(p)
                                .ok()
                                .and_then(|text| match_groups(re, &text))
                            {
                                Some(g) => {
                                    groups = g;
                                    true
                                }
                                None => false,
                            },
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
            r.insert("path".into(), json!(path));
            r.insert("port".into(), json!(port));
            r.insert("search_regex".into(), json!(search));
            r.insert("match_groups".into(), groups.0);
            r.insert("match_groupdict".into(), groups.1);
            r.insert("state".into(), json!(state));
            // exit_json's add_path_info: a `path` that exists gets its attributes (and its
            // `state` becomes what it is, `file`).
            if let Some(p) = &path {
                if let Ok(host) = ctx.target_host() {
                    if host.fs.exists(p) {
                        super::file::attrs(&host.fs, p, &mut r);
                    }
                }
            }
        }
        r
    }
}
