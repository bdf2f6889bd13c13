//! `cron`, `hostname`, `reboot` and `wait_for_connection` on the simulated OS: crontabs in
//! the spool folder, `/etc/hostname`, a reboot that takes the host down for virtual
//! seconds (its units restart as enabled, its uptime starts over).

use serde_json::{json, Value};

use fleetsim_sim::os::{self, text};

use super::spec::{opt, spec, Kind, ModuleName, Spec};
use super::{arg_bool, arg_str, Args, Module, ModuleCtx, ModuleResult};

pub struct Cron;
pub struct Hostname;
pub struct Reboot;
pub struct WaitForConnection;

const CRON_SPEC: Spec = spec(
    ModuleName::AsWritten,
    &[
        opt("name", Kind::Str).required(),
        opt("user", Kind::Str),
        opt("job", Kind::Str).aliases(&["value"]),
        opt("cron_file", Kind::Path),
        opt("state", Kind::Str).choices(&["absent", "present"]),
        opt("backup", Kind::Bool),
        opt("minute", Kind::Str),
        opt("hour", Kind::Str),
        opt("day", Kind::Str).aliases(&["dom"]),
        opt("month", Kind::Str),
        opt("weekday", Kind::Str).aliases(&["dow"]),
        opt("special_time", Kind::Str).choices(&[
            "annually", "daily", "hourly", "monthly", "reboot", "weekly", "yearly",
        ]),
        opt("disabled", Kind::Bool),
        opt("env", Kind::Bool).refused(),
        opt("insertafter", Kind::Str),
        opt("insertbefore", Kind::Str),
    ],
);

const HOSTNAME_SPEC: Spec = spec(
    ModuleName::AsWritten,
    &[
        opt("name", Kind::Str).required(),
        opt("use", Kind::Str).choices(&[
            "alpine", "debian", "freebsd", "generic", "macos", "macosx", "darwin", "openbsd",
            "openrc", "redhat", "sles", "solaris", "systemd",
        ]),
    ],
);

const REBOOT_SPEC: Spec = spec(
    ModuleName::AsWritten,
    &[
        opt("msg", Kind::Str),
        opt("pre_reboot_delay", Kind::Int),
        opt("post_reboot_delay", Kind::Int),
        opt("reboot_timeout", Kind::Int),
        opt("connect_timeout", Kind::Int),
        opt("test_command", Kind::Str),
        opt("search_paths", Kind::List),
        opt("boot_time_command", Kind::Str),
        opt("reboot_command", Kind::Str),
    ],
);

const WAIT_SPEC: Spec = spec(
    ModuleName::AsWritten,
    &[
        opt("connect_timeout", Kind::Int),
        opt("delay", Kind::Int),
        opt("sleep", Kind::Int),
        opt("timeout", Kind::Int),
    ],
);

/// Virtual seconds a simulated host takes from `shutdown -r` until it answers again.
pub const REBOOT_SECONDS: f64 = 25.0;

impl Module for Cron {
    fn run(&self, ctx: &mut ModuleCtx<'_>, args: &Args) -> ModuleResult {
        let args = match super::validated(ctx, &CRON_SPEC, args) {
            Ok(a) => a,
            Err(r) => return r,
        };
        let check = ctx.check_mode;
        let diff_on = ctx.diff;
        let (host, distro) = match ctx.target_os_host() {
            Ok(hd) => hd,
            Err(r) => return r,
        };
        let name = arg_str(&args, "name").unwrap_or_default();
        let user = arg_str(&args, "user");
        let state = arg_str(&args, "state").unwrap_or_else(|| "present".into());
        let special = arg_str(&args, "special_time");
        let field = |k: &str| arg_str(&args, k).unwrap_or_else(|| "*".into());
        let times_given = ["minute", "hour", "day", "month", "weekday"]
            .iter()
            .any(|k| arg_str(&args, k).is_some_and(|v| v != "*"));
        if special.is_some() && times_given {
            return super::fail(
                "You cannot combine special_time with any of the time or day/date parameters.",
            );
        }
        let cron_file = arg_str(&args, "cron_file").map(|f| {
            if f.starts_with('/') {
                f
            } else {
                format!("/etc/cron.d/{f}")
            }
        });
        if cron_file.as_deref() == Some("/etc/crontab") {
            return super::fail("Will not manage /etc/crontab via cron_file, see documentation.");
        }
        if cron_file.is_some() && user.is_none() {
            return super::fail("To use cron_file=... parameter you must specify user=... as well");
        }
        let job = arg_str(&args, "job");
        if state == "present" && job.is_none() {
            return super::fail("You must specify 'job' to install a new cron job or variable");
        }
        let owner = user.clone().unwrap_or_else(|| "root".into());
        let path = cron_file
            .clone()
            .unwrap_or_else(|| format!("{}/{owner}", distro.crontab_dir()));
        let existing = text(&host.fs, &path);
        let mut lines: Vec<String> = existing.lines().map(str::to_string).collect();
        let comment = format!("#Ansible: {name}");
        let disabled = if arg_bool(&args, "disabled", false).unwrap_or(false) {
            "#"
        } else {
            ""
        };
        let prefix_user = cron_file
            .as_ref()
            .map(|_| format!(" {owner}"))
            .unwrap_or_default();
        let line = job.map(|j| {
            let j = j.trim_matches(['\r', '\n']);
            match &special {
                Some(s) => format!("{disabled}@{s}{prefix_user} {j}"),
                None => format!(
                    "{disabled}{} {} {} {} {}{prefix_user} {j}",
                    field("minute"),
                    field("hour"),
                    field("day"),
                    field("month"),
                    field("weekday")
                ),
            }
        });
        let at = lines.iter().position(|l| *l == comment);
        let mut changed = false;
        match (state.as_str(), at) {
            ("present", None) => {
                lines.push(comment.clone());
                lines.push(line.unwrap_or_default());
                changed = true;
            }
            ("present", Some(i)) => {
                let want = line.unwrap_or_default();
                if lines.get(i + 1) != Some(&want) {
                    if i + 1 < lines.len() {
                        lines[i + 1] = want;
                    } else {
                        lines.push(want);
                    }
                    changed = true;
                }
            }
            ("absent", Some(i)) => {
                lines.drain(i..(i + 2).min(lines.len()));
                changed = true;
            }
            _ => {}
        }
        if !changed && !existing.is_empty() && !existing.ends_with('\n') {
            changed = true;
        }
        let rendered = if lines.is_empty() {
            String::new()
        } else {
            lines.join("\n") + "\n"
        };
        let jobs: Vec<String> = lines
            .iter()
            .filter_map(|l| l.strip_prefix("#Ansible: ").map(str::to_string))
            .collect();
        let header = match &cron_file {
            Some(f) => f.clone(),
            None => format!("crontab for user \"{owner}\""),
        };
        if state == "absent" && changed && cron_file.is_some() && jobs.is_empty() {
            // The last job of a cron_file goes with its file.
            if !check {
                let _ = host.fs.remove_file(&path);
            }
            let mut r = super::ok(true);
            r.insert("cron_file".into(), json!(cron_file));
            r.insert("state".into(), json!(state));
            r.insert(
                "diff".into(),
                if diff_on {
                    json!({"before": existing, "before_header": header, "after": "", "after_header": "/dev/null"})
                } else {
                    json!({})
                },
            );
            return r;
        }
        let mut r = super::ok(changed);
        r.insert("jobs".into(), json!(jobs));
        r.insert("envs".into(), json!([]));
        if changed {
            if !check {
                if let Err(e) = os::put(&mut host.fs, &path, &rendered) {
                    return super::fail(&e);
                }
                let mode = if cron_file.is_some() { 0o644 } else { 0o600 };
                let _ = host.fs.chmod(&path, mode);
                if cron_file.is_none() {
                    let _ = host.fs.chown(&path, Some(&owner), Some("crontab"));
                }
            }
            if diff_on {
                r.insert(
                    "diff".into(),
                    json!({"before": existing, "before_header": header, "after": rendered, "after_header": header}),
                );
            }
        }
        r
    }
}

impl Module for Hostname {
    fn run(&self, ctx: &mut ModuleCtx<'_>, args: &Args) -> ModuleResult {
        let args = match super::validated(ctx, &HOSTNAME_SPEC, args) {
            Ok(a) => a,
            Err(r) => return r,
        };
        let check = ctx.check_mode;
        let host = match ctx.target_host() {
            Ok(h) => h,
            Err(r) => return r,
        };
        if let Err(e) = host.os() {
            return super::fail(&e);
        }
        let name = arg_str(&args, "name").unwrap_or_default();
        let before = os::hostname(&host.fs, &host.name);
        let changed = before != name;
        if changed && !check {
            if let Err(e) = os::put(&mut host.fs, "/etc/hostname", &format!("{name}\n")) {
                return super::fail(&e);
            }
        }
        let mut r = super::ok(changed);
        r.insert("name".into(), json!(name));
        let short = name.split('.').next().unwrap_or(&name).to_string();
        let domain = name
            .split_once('.')
            .map(|(_, d)| d.to_string())
            .unwrap_or_default();
        r.insert(
            "ansible_facts".into(),
            json!({"ansible_hostname": short, "ansible_nodename": name, "ansible_fqdn": name, "ansible_domain": domain}),
        );
        if changed {
            r.insert(
                "diff".into(),
                json!({"after": format!("hostname = {name}\n"), "before": format!("hostname = {before}\n")}),
            );
        }
        r
    }
}

impl Module for Reboot {
    fn run(&self, ctx: &mut ModuleCtx<'_>, args: &Args) -> ModuleResult {
        let args = match super::validated(ctx, &REBOOT_SPEC, args) {
            Ok(a) => a,
            Err(r) => return r,
        };
        if ctx.check_mode {
            let mut r = super::ok(true);
            r.insert("elapsed".into(), json!(0));
            r.insert("rebooted".into(), json!(true));
            return r;
        }
        let int = |k: &str, d: i64| args.get(k).and_then(Value::as_i64).unwrap_or(d).max(0) as f64;
        let pre = int("pre_reboot_delay", 0);
        let post = int("post_reboot_delay", 0);
        let start = ctx.world.clock.now();
        let name = ctx.target.clone();
        {
            let host = match ctx.target_host() {
                Ok(h) => h,
                Err(r) => return r,
            };
            if let Err(e) = host.os() {
                return super::fail(&e);
            }
        }
        ctx.world.clock.advance(pre);
        let down_at = ctx.world.clock.now();
        ctx.world.log(
            "host_reboot",
            Some(&name),
            json!({"down_seconds": REBOOT_SECONDS}),
        );
        // The fleet's services on the host stop with it and start again when it is back.
        let fleet_units = ctx
            .world
            .with_fleet(|f| f.units_on(&name))
            .unwrap_or_default();
        for u in &fleet_units {
            let _ = os::units::control(ctx.world, &name, "stop", u);
        }
        ctx.world.clock.advance(REBOOT_SECONDS);
        for u in &fleet_units {
            let _ = os::units::control(ctx.world, &name, "start", u);
        }
        let up_at = ctx.world.clock.now();
        {
            let host = match ctx.target_host() {
                Ok(h) => h,
                Err(r) => return r,
            };
            if let Err(e) = os::reboot(&mut host.fs) {
                return super::fail(&e);
            }
            let _ = down_at;
            host.booted_at = up_at;
        }
        ctx.world.clock.advance(post);
        let mut r = super::ok(true);
        r.insert(
            "elapsed".into(),
            json!((ctx.world.clock.now() - start).floor() as i64),
        );
        r.insert("rebooted".into(), json!(true));
        r
    }
}

impl Module for WaitForConnection {
    fn run(&self, ctx: &mut ModuleCtx<'_>, args: &Args) -> ModuleResult {
        let args = match super::validated(ctx, &WAIT_SPEC, args) {
            Ok(a) => a,
            Err(r) => return r,
        };
        let delay = args
            .get("delay")
            .and_then(Value::as_i64)
            .unwrap_or(0)
            .max(0) as f64;
        let start = ctx.world.clock.now();
        ctx.world.clock.advance(delay);
        let mut r = super::ok(false);
        r.insert(
            "elapsed".into(),
            json!((ctx.world.clock.now() - start).floor() as i64),
        );
        r
    }
}
