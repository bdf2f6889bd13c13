//! `service`, `systemd` and `systemd_service`: systemd units of the simulated OS, and the
//! fleet's apps behind their unit names (a restart restarts the app in the fleet). Every
//! simulated host runs systemd, so `service` runs the systemd module as its action plugin
//! does there (dropping, with its warning, the options systemd does not use).

use serde_json::{json, Map, Value};

use fleetsim_sim::os::units::{self, Control};

use super::spec::{opt, spec, Kind, ModuleName, Spec};
use super::{arg_bool, arg_str, Args, Module, ModuleCtx, ModuleResult};

pub struct Service {
    /// `service` (the generic action) rather than `systemd`/`systemd_service`.
    pub generic: bool,
}

const SERVICE_SPEC: Spec = spec(
    ModuleName::AsWritten,
    &[
        opt("name", Kind::Str).required(),
        opt("state", Kind::Str).choices(&["reloaded", "restarted", "started", "stopped"]),
        opt("sleep", Kind::Int),
        opt("pattern", Kind::Str),
        opt("enabled", Kind::Bool),
        opt("runlevel", Kind::Str),
        opt("arguments", Kind::Str).aliases(&["args"]),
        opt("use", Kind::Str),
    ],
);

const SYSTEMD_SPEC: Spec = spec(
    ModuleName::Fixed("ansible.legacy.systemd"),
    &[
        opt("name", Kind::Str).aliases(&["service", "unit"]),
        opt("state", Kind::Str).choices(&["reloaded", "restarted", "started", "stopped"]),
        opt("enabled", Kind::Bool),
        opt("force", Kind::Bool),
        opt("masked", Kind::Bool),
        opt("daemon_reload", Kind::Bool).aliases(&["daemon-reload"]),
        opt("daemon_reexec", Kind::Bool).aliases(&["daemon-reexec"]),
        opt("scope", Kind::Str).choices(&["system", "user", "global"]),
        opt("no_block", Kind::Bool),
    ],
);

impl Module for Service {
    fn run(&self, ctx: &mut ModuleCtx<'_>, args: &Args) -> ModuleResult {
        let mut warnings = Vec::new();
        let args = if self.generic {
            let a = match super::validated(ctx, &SERVICE_SPEC, args) {
                Ok(a) => a,
                Err(r) => return r,
            };
            let chosen = arg_str(&a, "use").unwrap_or_else(|| "auto".into());
            if !matches!(chosen.as_str(), "auto" | "systemd") {
                return super::fail(&format!(
                    "fleetsim simulates systemd hosts only; the '{chosen}' service manager is not simulated"
                ));
            }
            let mut inner = args.clone();
            inner.remove("use");
            for unused in ["pattern", "runlevel", "sleep", "arguments", "args"] {
                if inner.remove(unused).is_some() {
                    warnings.push(format!(
                        "Ignoring \"{unused}\" as it is not used in \"systemd\""
                    ));
                }
            }
            inner
        } else {
            args.clone()
        };
        let args = match super::validated(ctx, &SYSTEMD_SPEC, &args) {
            Ok(a) => a,
            Err(r) => return r,
        };
        let mut r = systemd(ctx, &args);
        if !warnings.is_empty() {
            r.insert("warnings".into(), json!(warnings));
        }
        r
    }
}

fn systemd(ctx: &mut ModuleCtx<'_>, args: &Args) -> ModuleResult {
    let check = ctx.check_mode;
    let unit = arg_str(args, "name");
    let state = arg_str(args, "state");
    let enabled = match arg_bool(args, "enabled", false) {
        Ok(b) => args.get("enabled").filter(|v| !v.is_null()).map(|_| b),
        Err(r) => return r,
    };
    let masked = args
        .get("masked")
        .filter(|v| !v.is_null())
        .and_then(Value::as_bool);
    if arg_str(args, "scope").is_some_and(|s| s != "system") {
        return super::fail("fleetsim simulates the system scope of systemd only (scope: system)");
    }
    let daemon = ["daemon_reload", "daemon_reexec"]
        .iter()
        .any(|k| arg_bool(args, k, false).unwrap_or(false));
    if state.is_none() && enabled.is_none() && masked.is_none() && !daemon {
        return super::fail(
            "one of the following is required: state, enabled, masked, daemon_reload, daemon_reexec",
        );
    }
    if unit.is_none() {
        for (k, given) in [
            ("state", state.is_some()),
            ("enabled", enabled.is_some()),
            ("masked", masked.is_some()),
        ] {
            if given {
                return super::fail(&format!("missing parameter(s) required by '{k}': name"));
            }
        }
    }
    let host_name = ctx.target.clone();
    if let Err(e) = ctx
        .target_host()
        .and_then(|h| h.os().map_err(|e| super::fail(&e)))
    {
        let _ = e;
        return match ctx.target_host() {
            Ok(h) => super::fail(&h.os().err().unwrap_or_default()),
            Err(r) => r,
        };
    }
    let mut r = super::ok(false);
    r.insert("name".into(), json!(unit));
    r.insert("status".into(), json!({}));
    if daemon && !check {
        if let Ok(h) = ctx.target_host() {
            let t = h.fs.now();
            let _ =
                fleetsim_sim::os::put(&mut h.fs, "/run/fleetsim/daemon-reload", &format!("{t}\n"));
        }
    }
    let Some(unit) = unit else {
        return r;
    };
    if unit.contains(['*', '?', '[']) {
        return super::fail(&format!(
            "This module does not currently support using glob patterns, found '{}' in service name: {unit}",
            unit.chars().find(|c| matches!(c, '*' | '?' | '[')).unwrap_or('*')
        ));
    }
    // What `systemctl show` reports before anything changes (the module returns it as is).
    let before = match units::control(ctx.world, &host_name, "status", &unit) {
        Ok(c) => c,
        Err(e) => return super::fail(&e),
    };
    let found = before != Control::NotFound;
    let active_word = match &before {
        Control::Done(s) => *s,
        _ => "inactive",
    };
    let host = match ctx.target_host() {
        Ok(h) => h,
        Err(r) => return r,
    };
    r.insert(
        "status".into(),
        Value::Object(show(&host.fs, &unit, found, active_word)),
    );
    let missing = || {
        super::fail(&format!(
            "Could not find the requested service {unit}: host"
        ))
    };
    if let Some(want) = masked {
        let is = units::is_masked(&host.fs, &unit);
        if is != want {
            r.insert("changed".into(), json!(true));
            if !check {
                if let Err(e) = units::set_masked(&mut host.fs, &unit, want) {
                    return super::fail(&e);
                }
            }
        }
    }
    if let Some(want) = enabled {
        if !found {
            return missing();
        }
        let is = units::is_enabled(&host.fs, &unit);
        r.insert("enabled".into(), json!(is));
        if is != want {
            r.insert("changed".into(), json!(true));
            if !check {
                if units::is_masked(&host.fs, &unit) && want {
                    return super::fail(&format!(
                        "Unable to enable service {unit}: Failed to enable unit: Unit file /etc/systemd/system/{}.service is masked.\n",
                        units::base_name(&unit)
                    ));
                }
                if let Err(e) = units::set_enabled(&mut host.fs, &unit, want) {
                    return super::fail(&e);
                }
            }
            r.insert("enabled".into(), json!(want));
        }
    }
    if let Some(want) = state {
        if !found {
            return missing();
        }
        r.insert("state".into(), json!(want));
        let running = matches!(active_word, "active" | "activating" | "reloading");
        let action = match want.as_str() {
            "started" => (!running).then_some("start"),
            "stopped" => running.then_some("stop"),
            other => {
                r.insert("state".into(), json!("started"));
                Some(if running {
                    if other == "restarted" {
                        "restart"
                    } else {
                        "reload"
                    }
                } else {
                    "start"
                })
            }
        };
        if let Some(action) = action {
            r.insert("changed".into(), json!(true));
            if !check {
                match units::control(ctx.world, &host_name, action, &unit) {
                    Ok(Control::Failed(err)) => {
                        return super::fail(&format!("Unable to {action} service {unit}: {err}"))
                    }
                    Ok(_) => {}
                    Err(e) => return super::fail(&e),
                }
            }
        }
    }
    r
}

/// The `systemctl show` properties the module returns as `status` (a subset of the ~200
/// systemd prints: the ones playbooks read).
fn show(
    fs: &fleetsim_sim::fs::Sandbox,
    unit: &str,
    found: bool,
    active: &str,
) -> Map<String, Value> {
    let name = units::base_name(unit);
    let file = units::unit_file(fs, name);
    let description = file
        .as_deref()
        .map(|f| fleetsim_sim::os::text(fs, f))
        .and_then(|t| {
            t.lines()
                .find_map(|l| l.strip_prefix("Description=").map(str::to_string))
        })
        .unwrap_or_else(|| format!("{name}.service"));
    let load = if units::is_masked(fs, name) {
        "masked"
    } else if found {
        "loaded"
    } else {
        "not-found"
    };
    let sub = match active {
        "active" => "running",
        "activating" => "start",
        "failed" => "failed",
        _ => "dead",
    };
    let mut m = Map::new();
    let mut put = |k: &str, v: &str| {
        m.insert(k.into(), json!(v));
    };
    put("Id", &format!("{name}.service"));
    put("Names", &format!("{name}.service"));
    put("Description", &description);
    put("LoadState", load);
    put("ActiveState", active);
    put("SubState", sub);
    put("FragmentPath", file.as_deref().unwrap_or(""));
    put(
        "UnitFileState",
        if found {
            units::enabled_word(fs, name)
        } else {
            ""
        },
    );
    put("Type", "simple");
    put("Restart", "no");
    put("MainPID", if active == "active" { "4243" } else { "0" });
    put("CanStart", "yes");
    put("CanStop", "yes");
    put("CanReload", "yes");
    m
}
