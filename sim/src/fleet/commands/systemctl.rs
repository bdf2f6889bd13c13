//! `systemctl` as Debian 12's systemd 252 answers for the fleet's service units: start,
//! stop, restart, reload, try-restart, reload-or-restart, status, is-active, is-failed and
//! daemon-reload, with systemd's texts and exit codes (`status` follows the LSB codes: 0
//! running, 3 not running, 4 no such unit).

use super::{charge, FleetAccess, UnitAction, UnitError, UnitState};
use crate::clock::Civil;
use crate::shell::{HostView, ShellOutput};

/// Unit types other than services: named with their suffix they are passed on as is.
const UNIT_SUFFIXES: [&str; 10] = [
    ".socket",
    ".timer",
    ".target",
    ".mount",
    ".path",
    ".slice",
    ".scope",
    ".device",
    ".swap",
    ".automount",
];

/// Real systemctl verbs the simulation does not model: saying so beats `Unknown command
/// verb`, which would send the user looking for a typo.
const NOT_SIMULATED: [&str; 14] = [
    "list-units",
    "list-unit-files",
    "enable",
    "disable",
    "is-enabled",
    "mask",
    "unmask",
    "show",
    "cat",
    "kill",
    "daemon-reexec",
    "reset-failed",
    "edit",
    "isolate",
];

/// A unit as typed, as systemd names it, and as the fleet knows it.
struct Unit {
    /// `app.service`.
    display: String,
    /// `app` (the fleet's unit names carry no `.service`).
    key: String,
}

fn unit(arg: &str) -> Unit {
    if let Some(key) = arg.strip_suffix(".service") {
        Unit {
            display: arg.to_string(),
            key: key.to_string(),
        }
    } else if UNIT_SUFFIXES.iter().any(|s| arg.ends_with(s)) {
        Unit {
            display: arg.to_string(),
            key: arg.to_string(),
        }
    } else {
        Unit {
            display: format!("{arg}.service"),
            key: arg.to_string(),
        }
    }
}

#[derive(Default)]
struct Out {
    rc: i32,
    stdout: String,
    stderr: String,
}

/// Runs `systemctl ARGS...` on the host.
pub(super) fn run<A: FleetAccess>(
    access: &mut A,
    argv: &[String],
    host: &mut HostView<'_>,
) -> ShellOutput {
    let mut quiet = false;
    let mut words: Vec<&str> = Vec::new();
    for a in argv.iter().skip(1) {
        if let Some(long) = a.strip_prefix("--") {
            match long {
                "quiet" => quiet = true,
                // Paging, blocking and polkit prompts do not exist here.
                "no-pager" | "no-block" | "no-ask-password" | "full" | "system" | "no-legend"
                | "plain" | "now" => {}
                _ => {
                    return ShellOutput::new(
                        1,
                        "",
                        format!("systemctl: unrecognized option '{a}'\n"),
                    )
                }
            }
        } else if a.len() > 1 && a.starts_with('-') {
            for c in a[1..].chars() {
                match c {
                    'q' => quiet = true,
                    'l' => {}
                    _ => {
                        return ShellOutput::new(
                            1,
                            "",
                            format!("systemctl: invalid option -- '{c}'\n"),
                        )
                    }
                }
            }
        } else {
            words.push(a);
        }
    }
    let Some((&verb, units)) = words.split_first() else {
        return ShellOutput::new(1, "", "systemctl: listing units is not simulated\n");
    };
    let units: Vec<Unit> = units.iter().map(|u| unit(u)).collect();
    let mut out = Out::default();
    match verb {
        "daemon-reload" => {}
        "start" | "stop" | "restart" | "reload" | "try-restart" | "condrestart"
        | "reload-or-restart" | "status" | "is-active" | "is-failed"
            if units.is_empty() =>
        {
            return ShellOutput::new(1, "", "Too few arguments.\n");
        }
        "start" | "stop" | "restart" | "reload" | "try-restart" | "condrestart"
        | "reload-or-restart" => {
            for u in &units {
                change(access, host, verb, u, &mut out);
            }
        }
        "status" => status(access, host, &units, &mut out),
        "is-active" | "is-failed" => {
            let wanted = if verb == "is-active" {
                UnitState::Active
            } else {
                UnitState::Failed
            };
            let mut any = false;
            for u in &units {
                let state = query(access, host, &u.key).unwrap_or(UnitState::Inactive);
                any |= state == wanted;
                if !quiet {
                    out.stdout.push_str(state.name());
                    out.stdout.push('\n');
                }
            }
            out.rc = match (any, verb) {
                (true, _) => 0,
                (false, "is-active") => 3,
                (false, _) => 1,
            };
        }
        v if NOT_SIMULATED.contains(&v) => {
            return ShellOutput::new(1, "", format!("systemctl: '{v}' is not simulated\n"));
        }
        v => {
            return ShellOutput::new(1, "", format!("Unknown command verb '{v}'.\n"));
        }
    }
    ShellOutput::new(out.rc, out.stdout, out.stderr)
}

/// Asks the fleet for a unit's state, charging the clock.
fn query<A: FleetAccess>(
    access: &mut A,
    host: &mut HostView<'_>,
    key: &str,
) -> Result<UnitState, UnitError> {
    act(access, host, UnitAction::Status, key)
}

fn act<A: FleetAccess>(
    access: &mut A,
    host: &mut HostView<'_>,
    action: UnitAction,
    key: &str,
) -> Result<UnitState, UnitError> {
    let (r, took) = access.systemctl(host.hostname, action, key, *host.now);
    charge(took, host);
    r
}

/// start/stop/restart/reload and their conditional forms, for one unit.
fn change<A: FleetAccess>(
    access: &mut A,
    host: &mut HostView<'_>,
    verb: &str,
    u: &Unit,
    out: &mut Out,
) {
    // The action done, once conditional verbs have looked at the unit.
    let action = match verb {
        "start" => Ok(Some(UnitAction::Start)),
        "stop" => Ok(Some(UnitAction::Stop)),
        "restart" => Ok(Some(UnitAction::Restart)),
        "reload" => Ok(Some(UnitAction::Reload)),
        // Restart only what runs; leave the rest as it is.
        "try-restart" | "condrestart" => query(access, host, &u.key).map(|s| {
            matches!(s, UnitState::Active | UnitState::Activating).then_some(UnitAction::Restart)
        }),
        // Reload what runs, start what does not.
        _ => query(access, host, &u.key).map(|s| {
            Some(if s == UnitState::Active {
                UnitAction::Reload
            } else {
                UnitAction::Start
            })
        }),
    };
    let result = match action {
        Ok(Some(a)) => act(access, host, a, &u.key).map(|s| (a, s)),
        Ok(None) => return,
        Err(e) => Err(e),
    };
    let d = &u.display;
    match result {
        Err(UnitError::NotFound) => {
            // systemd says "not loaded" when stopping and "not found" otherwise.
            let why = if verb == "stop" {
                "not loaded"
            } else {
                "not found"
            };
            out.stderr
                .push_str(&format!("Failed to {verb} {d}: Unit {d} {why}.\n"));
            out.rc = 5;
        }
        Ok((action, state)) => {
            let starts = matches!(action, UnitAction::Start | UnitAction::Restart);
            if action == UnitAction::Reload && state != UnitState::Active {
                out.stderr
                    .push_str(&format!("{d} is not active, cannot reload.\n"));
                out.rc = 1;
            } else if starts && matches!(state, UnitState::Failed | UnitState::Inactive) {
                out.stderr.push_str(&format!(
                    "Job for {d} failed because the control process exited with error code.\n\
                     See \"systemctl status {d}\" and \"journalctl -xeu {d}\" for details.\n"
                ));
                out.rc = 1;
            }
        }
    }
}

fn status<A: FleetAccess>(access: &mut A, host: &mut HostView<'_>, units: &[Unit], out: &mut Out) {
    let mut missing = false;
    let mut down = false;
    let mut blocks: Vec<String> = Vec::new();
    for u in units {
        match query(access, host, &u.key) {
            Err(UnitError::NotFound) => {
                out.stderr
                    .push_str(&format!("Unit {} could not be found.\n", u.display));
                missing = true;
            }
            Ok(state) => {
                down |= state != UnitState::Active;
                let since = access.unit_since(host.hostname, &u.key);
                blocks.push(status_block(&u.display, &u.key, state, since, *host.now));
            }
        }
    }
    out.stdout = blocks.join("\n");
    out.rc = if missing {
        4
    } else if down {
        3
    } else {
        0
    };
}

/// The head of `systemctl status` for one unit (no journal lines: the simulation keeps none).
fn status_block(
    display: &str,
    name: &str,
    state: UnitState,
    since: Option<f64>,
    now: f64,
) -> String {
    let (dot, active) = match state {
        UnitState::Active => ("●", "active (running)"),
        UnitState::Activating => ("●", "activating (start)"),
        UnitState::Inactive => ("○", "inactive (dead)"),
        UnitState::Failed => ("×", "failed (Result: exit-code)"),
    };
    let since = since
        .map(|t| {
            let when = Civil::from_epoch(t).format("%a %Y-%m-%d %H:%M:%S UTC", t);
            format!(" since {when}; {}", relative(now - t))
        })
        .unwrap_or_default();
    format!(
        "{dot} {display} - {name}\n     Loaded: loaded (/etc/systemd/system/{display}; enabled; preset: enabled)\n     Active: {active}{since}\n"
    )
}

/// systemd's `format_timestamp_relative`: `5min ago`, `1h 2min ago`, `3 days ago`...
fn relative(seconds: f64) -> String {
    if seconds.is_nan() || seconds <= 0.0 {
        return "now".into();
    }
    let usec = (seconds * 1e6).round() as u64;
    const SEC: u64 = 1_000_000;
    const MIN: u64 = 60 * SEC;
    const HOUR: u64 = 60 * MIN;
    const DAY: u64 = 24 * HOUR;
    const WEEK: u64 = 7 * DAY;
    const MONTH: u64 = 2_629_800 * SEC;
    const YEAR: u64 = 31_557_600 * SEC;
    let plural = |n: u64, one: &str, many: &str| {
        if n == 1 {
            one.to_string()
        } else {
            many.to_string()
        }
    };
    if usec >= YEAR {
        let (y, m) = (usec / YEAR, usec % YEAR / MONTH);
        format!(
            "{y} {} {m} {} ago",
            plural(y, "year", "years"),
            plural(m, "month", "months")
        )
    } else if usec >= MONTH {
        let (m, d) = (usec / MONTH, usec % MONTH / DAY);
        format!(
            "{m} {} {d} {} ago",
            plural(m, "month", "months"),
            plural(d, "day", "days")
        )
    } else if usec >= WEEK {
        let (w, d) = (usec / WEEK, usec % WEEK / DAY);
        format!(
            "{w} {} {d} {} ago",
            plural(w, "week", "weeks"),
            plural(d, "day", "days")
        )
    } else if usec >= 2 * DAY {
        format!("{} days ago", usec / DAY)
    } else if usec >= 25 * HOUR {
        format!("1 day {}h ago", (usec - DAY) / HOUR)
    } else if usec >= 6 * HOUR {
        format!("{}h ago", usec / HOUR)
    } else if usec >= HOUR {
        format!("{}h {}min ago", usec / HOUR, usec % HOUR / MIN)
    } else if usec >= 5 * MIN {
        format!("{}min ago", usec / MIN)
    } else if usec >= MIN {
        format!("{}min {}s ago", usec / MIN, usec % MIN / SEC)
    } else if usec >= SEC {
        format!("{}s ago", usec / SEC)
    } else if usec >= 1000 {
        format!("{}ms ago", usec / 1000)
    } else {
        format!("{usec}us ago")
    }
}

#[cfg(test)]
mod tests {
    use super::super::fake::{Bench, Fake};
    use super::*;
    use proptest::prelude::*;

    /// One systemctl command line against `fake` on host `app-01`.
    fn bench(fake: Fake) -> Bench {
        // 2026-11-26T10:05:00Z
        Bench::new("systemctl", "app-01", "/", 1_795_687_500.0, fake)
    }

    impl Bench {
        fn state(&self, unit: &str) -> UnitState {
            self.cmds.access().units[unit]
        }
    }

    fn check(out: &ShellOutput, rc: i32, stdout: &str, stderr: &str) {
        assert_eq!(
            (out.rc, out.stdout_str().as_str(), out.stderr_str().as_str()),
            (rc, stdout, stderr)
        );
    }

    fn fleet() -> Fake {
        Fake::new()
            .unit("app", UnitState::Active)
            .unit("lb", UnitState::Inactive)
            .unit("db", UnitState::Failed)
    }

    #[test]
    fn start_stop_restart_change_the_unit_and_take_time() {
        let mut f = fleet();
        f.restart_takes = 3.0;
        let mut b = bench(f);
        let t0 = b.now;
        check(&b.run(&["stop", "app.service"]), 0, "", "");
        assert_eq!(b.state("app"), UnitState::Inactive);
        check(&b.run(&["start", "app"]), 0, "", "");
        assert_eq!(b.state("app"), UnitState::Active);
        check(&b.run(&["--no-pager", "restart", "app", "lb"]), 0, "", "");
        assert_eq!(b.state("lb"), UnitState::Active);
        assert_eq!(b.now, t0 + 9.0);
        let calls = b.cmds.access().log.lock().unwrap().unit_calls.clone();
        assert_eq!(
            calls[0],
            (
                t0,
                "app-01".to_string(),
                UnitAction::Stop,
                "app".to_string()
            )
        );
        assert_eq!(calls[2].0, t0 + 3.0);
        check(&b.run(&["daemon-reload"]), 0, "", "");
    }

    #[test]
    fn unknown_units() {
        let mut b = bench(fleet());
        check(
            &b.run(&["start", "foo"]),
            5,
            "",
            "Failed to start foo.service: Unit foo.service not found.\n",
        );
        check(
            &b.run(&["stop", "foo"]),
            5,
            "",
            "Failed to stop foo.service: Unit foo.service not loaded.\n",
        );
        check(
            &b.run(&["restart", "foo.service"]),
            5,
            "",
            "Failed to restart foo.service: Unit foo.service not found.\n",
        );
        check(
            &b.run(&["reload", "foo.timer"]),
            5,
            "",
            "Failed to reload foo.timer: Unit foo.timer not found.\n",
        );
        check(
            &b.run(&["status", "foo"]),
            4,
            "",
            "Unit foo.service could not be found.\n",
        );
        check(&b.run(&["is-active", "foo"]), 3, "inactive\n", "");
        check(&b.run(&["is-failed", "foo"]), 1, "inactive\n", "");
    }

    #[test]
    fn is_active_and_is_failed() {
        let mut b = bench(fleet());
        check(&b.run(&["is-active", "app"]), 0, "active\n", "");
        check(&b.run(&["is-active", "lb"]), 3, "inactive\n", "");
        check(&b.run(&["is-active", "db"]), 3, "failed\n", "");
        check(&b.run(&["is-active", "--quiet", "lb"]), 3, "", "");
        check(&b.run(&["-q", "is-active", "app"]), 0, "", "");
        // Any active unit makes it succeed.
        check(
            &b.run(&["is-active", "lb", "app"]),
            0,
            "inactive\nactive\n",
            "",
        );
        check(&b.run(&["is-failed", "db"]), 0, "failed\n", "");
        check(&b.run(&["is-failed", "app"]), 1, "active\n", "");
    }

    #[test]
    fn status_blocks() {
        let mut f = fleet();
        f.since = Some(1_795_687_200.0); // 10:00:00, five minutes before "now"
        let mut b = bench(f);
        check(
            &b.run(&["status", "app"]),
            0,
            "● app.service - app\n     Loaded: loaded (/etc/systemd/system/app.service; enabled; preset: enabled)\n     Active: active (running) since Thu 2026-11-26 10:00:00 UTC; 5min ago\n",
            "",
        );
        let out = b.run(&["status", "lb", "db"]);
        assert_eq!(out.rc, 3);
        let text = out.stdout_str();
        assert!(text.starts_with("○ lb.service - lb\n"), "{text}");
        assert!(
            text.contains("     Active: inactive (dead) since"),
            "{text}"
        );
        assert!(text.contains("\n\n× db.service - db\n"), "{text}");
        assert!(
            text.contains("     Active: failed (Result: exit-code) since"),
            "{text}"
        );
        let out = bench(fleet()).run(&["status", "app"]);
        assert!(out.stdout_str().ends_with("Active: active (running)\n"));
        check(
            &bench(fleet()).run(&["status", "app", "nope"]),
            4,
            &out.stdout_str(),
            "Unit nope.service could not be found.\n",
        );
    }

    #[test]
    fn failing_and_conditional_actions() {
        let mut b = bench(fleet());
        // The fake keeps a failed unit failed on start (restart recovers it).
        check(
            &b.run(&["start", "db"]),
            1,
            "",
            "Job for db.service failed because the control process exited with error code.\nSee \"systemctl status db.service\" and \"journalctl -xeu db.service\" for details.\n",
        );
        check(
            &b.run(&["reload", "lb"]),
            1,
            "",
            "lb.service is not active, cannot reload.\n",
        );
        check(&b.run(&["reload", "app"]), 0, "", "");
        check(&b.run(&["try-restart", "lb"]), 0, "", "");
        assert_eq!(b.state("lb"), UnitState::Inactive);
        check(&b.run(&["reload-or-restart", "lb"]), 0, "", "");
        assert_eq!(b.state("lb"), UnitState::Active);
        check(&b.run(&["try-restart", "db"]), 0, "", "");
        assert_eq!(b.state("db"), UnitState::Failed);
        check(&b.run(&["restart", "db"]), 0, "", "");
        check(&b.run(&["try-restart", "db"]), 0, "", "");
        assert_eq!(b.state("db"), UnitState::Active);
    }

    #[test]
    fn bad_command_lines() {
        let mut b = bench(fleet());
        check(&b.run(&["start"]), 1, "", "Too few arguments.\n");
        check(
            &b.run(&["frobnicate", "app"]),
            1,
            "",
            "Unknown command verb 'frobnicate'.\n",
        );
        check(
            &b.run(&["--bogus", "start", "app"]),
            1,
            "",
            "systemctl: unrecognized option '--bogus'\n",
        );
        check(
            &b.run(&["-z", "start", "app"]),
            1,
            "",
            "systemctl: invalid option -- 'z'\n",
        );
        check(
            &b.run(&["enable", "app"]),
            1,
            "",
            "systemctl: 'enable' is not simulated\n",
        );
        check(
            &b.run(&[]),
            1,
            "",
            "systemctl: listing units is not simulated\n",
        );
    }

    proptest! {
        #[test]
        fn never_panics(args in prop::collection::vec(
            prop_oneof![
                prop::sample::select(vec![
                    "start", "stop", "restart", "reload", "try-restart", "reload-or-restart",
                    "status", "is-active", "is-failed", "daemon-reload", "enable", "app", "lb",
                    "db.service", "x.timer", "-q", "--quiet", "--no-pager", "-", "--",
                ]).prop_map(String::from),
                any::<String>(),
            ],
            0..5,
        ), secs in any::<f64>()) {
            let mut b = bench(fleet());
            let argv: Vec<&str> = args.iter().map(String::as_str).collect();
            let out = b.run(&argv);
            prop_assert!((0..=255).contains(&out.rc));
            let _ = relative(secs);
        }
    }

    #[test]
    fn relative_times_as_systemd_prints_them() {
        let cases = [
            (0.0, "now"),
            (0.0005, "500us ago"),
            (0.25, "250ms ago"),
            (42.0, "42s ago"),
            (90.0, "1min 30s ago"),
            (300.0, "5min ago"),
            (3_900.0, "1h 5min ago"),
            (7.0 * 3600.0, "7h ago"),
            (26.0 * 3600.0, "1 day 2h ago"),
            (3.0 * 86_400.0, "3 days ago"),
            (8.0 * 86_400.0, "1 week 1 day ago"),
            (40.0 * 86_400.0, "1 month 9 days ago"),
            (400.0 * 86_400.0, "1 year 1 month ago"),
        ];
        for (secs, text) in cases {
            assert_eq!(relative(secs), text, "{secs}");
        }
    }
}
