//! `curl` and `systemctl` for the in-process shell, acting on the simulated fleet: the shell
//! hands them over through its [`ExternalCommands`] hook, and they reach the fleet only
//! through [`FleetAccess`], which the fleet implements (tests use a canned fake).
//!
//! Both print what the real tools print on Debian 12 (curl 7.88.1, systemd 252), with the
//! same exit codes, because playbooks branch on exactly those (`failed_when: rc == 7`,
//! `until: result.stdout == "200"`).

mod curl;
mod systemctl;

use super::http::{HttpRequest, HttpResponse, NetError};
use crate::shell::{ExternalCommands, HostView, ShellOutput};
use std::fmt;

/// What the fleet offers the commands. Every call happens at virtual time `now` (the
/// calling shell's clock: a script that sleeps between two calls must see time pass) and
/// returns, with its result, the virtual seconds it took (network latency, a timeout, a
/// restart), which the commands add to the shell's clock.
pub trait FleetAccess: Send {
    /// An HTTP request from host `from` to `addr:port`. `addr` is as written in the URL:
    /// `127.0.0.1`/`localhost` (the host itself), a fleet address, or a name. `timeout` is
    /// the longest the caller waits, in virtual seconds.
    fn http(
        &mut self,
        from: &str,
        addr: &str,
        port: u16,
        req: HttpRequest,
        timeout: f64,
        now: f64,
    ) -> (Result<HttpResponse, NetError>, f64);

    /// `systemctl ACTION UNIT` on `host` (`unit` without `.service`); returns the unit's state
    /// once the action is done ([`UnitAction::Status`] changes nothing). Reloading a unit
    /// that is not active should leave it as it is.
    fn systemctl(
        &mut self,
        host: &str,
        action: UnitAction,
        unit: &str,
        now: f64,
    ) -> (Result<UnitState, UnitError>, f64);

    /// When the unit entered its current state (epoch seconds), for `systemctl status`'s
    /// `since` part; `None` leaves it out.
    fn unit_since(&self, _host: &str, _unit: &str) -> Option<f64> {
        None
    }
}

/// What `systemctl` asks of a unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnitAction {
    Start,
    Stop,
    Restart,
    Reload,
    /// Only report the state (`status`, `is-active`).
    Status,
}

/// A unit's state as `systemctl is-active` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnitState {
    Active,
    Inactive,
    /// Starting (a restart still in progress).
    Activating,
    Failed,
}

impl UnitState {
    /// The word `systemctl is-active` prints.
    pub fn name(self) -> &'static str {
        match self {
            UnitState::Active => "active",
            UnitState::Inactive => "inactive",
            UnitState::Activating => "activating",
            UnitState::Failed => "failed",
        }
    }
}

impl fmt::Display for UnitState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Why a `systemctl` call found nothing to act on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnitError {
    /// No such unit on the host.
    NotFound,
}

impl fmt::Display for UnitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            UnitError::NotFound => f.write_str("Unit not found"),
        }
    }
}

impl std::error::Error for UnitError {}

/// The shell hook providing `curl` and `systemctl` on top of a [`FleetAccess`]. Put it in
/// `ShellContext::external`.
pub struct FleetCommands<A: FleetAccess> {
    access: A,
}

impl<A: FleetAccess> FleetCommands<A> {
    pub fn new(access: A) -> Self {
        FleetCommands { access }
    }

    pub fn access(&self) -> &A {
        &self.access
    }

    pub fn access_mut(&mut self) -> &mut A {
        &mut self.access
    }

    pub fn into_inner(self) -> A {
        self.access
    }
}

impl<A: FleetAccess> ExternalCommands for FleetCommands<A> {
    fn call(
        &mut self,
        argv: &[String],
        stdin: &[u8],
        host: &mut HostView<'_>,
    ) -> Option<ShellOutput> {
        match command_name(argv.first()?)? {
            "curl" => Some(curl::run(&mut self.access, argv, stdin, host)),
            "systemctl" => Some(systemctl::run(&mut self.access, argv, host)),
            _ => None,
        }
    }
}

/// The command a name runs: a bare name, or a path into a standard bin directory (where
/// Debian installs both tools; `/opt/x/curl` is not ours).
fn command_name(arg0: &str) -> Option<&str> {
    let (dir, base) = match arg0.rsplit_once('/') {
        None => ("", arg0),
        Some((d, b)) => (d, b),
    };
    let dir_ok = matches!(dir, "" | "/bin" | "/usr/bin" | "/sbin" | "/usr/sbin");
    (dir_ok && matches!(base, "curl" | "systemctl")).then_some(base)
}

/// Moves the calling shell's clock by the time a fleet call took; returns the time counted.
fn charge(took: f64, host: &mut HostView<'_>) -> f64 {
    if took.is_finite() && took > 0.0 {
        *host.now += took;
        took
    } else {
        0.0
    }
}

/// A host path given on a command line, made absolute against the shell's working directory.
fn abs_path(cwd: &str, p: &str) -> String {
    if p.starts_with('/') {
        p.to_string()
    } else if cwd.ends_with('/') {
        format!("{cwd}{p}")
    } else {
        format!("{cwd}/{p}")
    }
}

#[cfg(test)]
pub(crate) mod fake {
    //! A canned fleet for the command tests: fixed answers per `addr:port`, units per name.

    use super::*;
    use indexmap::IndexMap;
    use std::sync::{Arc, Mutex};

    /// What the fake answers for one `addr:port`.
    #[derive(Clone)]
    pub enum Answer {
        /// Responses in turn (the last one repeats).
        Responses(Vec<HttpResponse>),
        Fail(NetError),
        /// Takes `delay` seconds, then answers (or times out if `delay` > timeout).
        Slow(f64, HttpResponse),
    }

    /// Everything the fake saw, shared so a test can read it after a shell run.
    #[derive(Default)]
    pub struct Log {
        pub requests: Vec<(f64, String, String, u16, HttpRequest, f64)>,
        pub unit_calls: Vec<(f64, String, UnitAction, String)>,
    }

    pub struct Fake {
        pub answers: IndexMap<(String, u16), Answer>,
        pub units: IndexMap<String, UnitState>,
        /// Seconds a start/restart takes.
        pub restart_takes: f64,
        /// Seconds a refused connection takes to be reported.
        pub refuse_takes: f64,
        pub since: Option<f64>,
        pub elapsed: f64,
        pub log: Arc<Mutex<Log>>,
    }

    impl Fake {
        pub fn new() -> Fake {
            Fake {
                answers: IndexMap::new(),
                units: IndexMap::new(),
                restart_takes: 0.0,
                refuse_takes: 0.0,
                since: None,
                elapsed: 0.0,
                log: Arc::default(),
            }
        }

        pub fn answer(mut self, addr: &str, port: u16, a: Answer) -> Fake {
            self.answers.insert((addr.to_string(), port), a);
            self
        }

        pub fn unit(mut self, name: &str, state: UnitState) -> Fake {
            self.units.insert(name.to_string(), state);
            self
        }
    }

    impl FleetAccess for Fake {
        fn http(
            &mut self,
            from: &str,
            addr: &str,
            port: u16,
            req: HttpRequest,
            timeout: f64,
            now: f64,
        ) -> (Result<HttpResponse, NetError>, f64) {
            let r = self.answer_http(now, from, addr, port, req, timeout);
            (r, self.elapsed)
        }

        fn systemctl(
            &mut self,
            host: &str,
            action: UnitAction,
            unit: &str,
            now: f64,
        ) -> (Result<UnitState, UnitError>, f64) {
            let r = self.act(now, host, action, unit);
            (r, self.elapsed)
        }

        fn unit_since(&self, _host: &str, _unit: &str) -> Option<f64> {
            self.since
        }
    }

    impl Fake {
        fn answer_http(
            &mut self,
            at: f64,
            from: &str,
            addr: &str,
            port: u16,
            req: HttpRequest,
            timeout: f64,
        ) -> Result<HttpResponse, NetError> {
            if let Ok(mut log) = self.log.lock() {
                log.requests
                    .push((at, from.into(), addr.into(), port, req.clone(), timeout));
            }
            self.elapsed = 0.0;
            match self.answers.get_mut(&(addr.to_string(), port)) {
                None => {
                    self.elapsed = self.refuse_takes;
                    Err(NetError::Refused)
                }
                Some(Answer::Fail(NetError::Timeout { .. })) => {
                    self.elapsed = timeout;
                    Err(NetError::Timeout { after: timeout })
                }
                Some(Answer::Fail(e)) => Err(e.clone()),
                Some(Answer::Slow(delay, r)) => {
                    if *delay > timeout {
                        self.elapsed = timeout;
                        Err(NetError::Timeout { after: timeout })
                    } else {
                        self.elapsed = *delay;
                        Ok(r.clone())
                    }
                }
                Some(Answer::Responses(rs)) => {
                    let r = if rs.len() > 1 {
                        rs.remove(0)
                    } else {
                        rs[0].clone()
                    };
                    Ok(r)
                }
            }
        }

        fn act(
            &mut self,
            at: f64,
            host: &str,
            action: UnitAction,
            unit: &str,
        ) -> Result<UnitState, UnitError> {
            if let Ok(mut log) = self.log.lock() {
                log.unit_calls.push((at, host.into(), action, unit.into()));
            }
            self.elapsed = 0.0;
            let state = self.units.get_mut(unit).ok_or(UnitError::NotFound)?;
            match action {
                UnitAction::Start | UnitAction::Restart => {
                    self.elapsed = self.restart_takes;
                    if *state != UnitState::Failed || action == UnitAction::Restart {
                        *state = UnitState::Active;
                    }
                }
                UnitAction::Stop => *state = UnitState::Inactive,
                UnitAction::Reload | UnitAction::Status => {}
            }
            Ok(*state)
        }
    }

    /// One command line at a time against a fake fleet, on a host of its own (a temporary
    /// sandbox), as the shell would call it.
    pub struct Bench {
        _tmp: tempfile::TempDir,
        pub sandbox: crate::fs::Sandbox,
        pub now: f64,
        pub cmds: FleetCommands<Fake>,
        command: &'static str,
        host: &'static str,
        cwd: &'static str,
    }

    impl Bench {
        /// `command` (`curl`, `systemctl`) on `host`, run from `cwd` (created), at `now`.
        pub fn new(
            command: &'static str,
            host: &'static str,
            cwd: &'static str,
            now: f64,
            fake: Fake,
        ) -> Bench {
            let tmp = tempfile::tempdir().unwrap();
            let mut sandbox = crate::fs::Sandbox::new(&tmp.path().join("sb"), host).unwrap();
            sandbox.mkdir(cwd, true).unwrap();
            Bench {
                _tmp: tmp,
                sandbox,
                now,
                cmds: FleetCommands::new(fake),
                command,
                host,
                cwd,
            }
        }

        pub fn run(&mut self, args: &[&str]) -> ShellOutput {
            self.run_stdin(args, b"")
        }

        pub fn run_stdin(&mut self, args: &[&str], stdin: &[u8]) -> ShellOutput {
            let argv: Vec<String> = std::iter::once(self.command)
                .chain(args.iter().copied())
                .map(String::from)
                .collect();
            let env = IndexMap::new();
            let user = crate::shell::User::default();
            let mut view = HostView {
                sandbox: &mut self.sandbox,
                cwd: self.cwd,
                env: &env,
                now: &mut self.now,
                hostname: self.host,
                user: &user,
            };
            self.cmds.call(&argv, stdin, &mut view).unwrap()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::fake::{Answer, Fake};
    use super::*;
    use crate::fs::Sandbox;
    use crate::shell::{run, ShellContext};

    #[test]
    fn only_our_commands_are_taken() {
        assert_eq!(command_name("curl"), Some("curl"));
        assert_eq!(command_name("/usr/bin/curl"), Some("curl"));
        assert_eq!(command_name("/bin/systemctl"), Some("systemctl"));
        assert_eq!(command_name("/opt/curl"), None);
        assert_eq!(command_name("wget"), None);
        assert_eq!(abs_path("/work", "out.txt"), "/work/out.txt");
        assert_eq!(abs_path("/", "out.txt"), "/out.txt");
        assert_eq!(abs_path("/work", "/tmp/x"), "/tmp/x");
    }

    /// The commands inside a real shell run: pipelines, `||`, `$?`, the clock, `cat` of a
    /// file `curl -o` wrote, and other commands left to the shell.
    #[test]
    fn curl_and_systemctl_inside_the_shell() {
        let tmp = tempfile::tempdir().unwrap();
        let mut sb = Sandbox::new(&tmp.path().join("sb"), "web-prod-01").unwrap();
        sb.mkdir("/tmp", true).unwrap();
        let mut ctx = ShellContext::new(sb, 1);
        ctx.now = 1000.0;
        let fake = Fake::new()
            .answer(
                "localhost",
                8080,
                Answer::Slow(0.25, HttpResponse::text(200, "ok\n")),
            )
            .unit("app", UnitState::Active);
        let log = fake.log.clone();
        let mut fake = fake;
        fake.restart_takes = 2.0;
        ctx.external = Some(Box::new(FleetCommands::new(fake)));
        let out = run(
            "systemctl restart app && curl -s http://localhost:8080/health -o /tmp/h; \
             cat /tmp/h; curl -s http://127.1.0.9:8080/ || echo \"down rc=$?\"; \
             systemctl is-active app | tr a-z A-Z; echo hi | grep -c hi",
            &mut ctx,
        );
        assert_eq!(out.stderr_str(), "");
        assert_eq!(out.stdout_str(), "ok\ndown rc=7\nACTIVE\n1\n");
        assert_eq!(out.rc, 0);
        assert_eq!(ctx.now, 1002.25);
        let log = log.lock().unwrap();
        // The request went out after the restart, from this host, to the host's own port.
        assert_eq!(log.requests[0].0, 1002.0);
        assert_eq!(log.requests[0].1, "web-prod-01");
        assert_eq!(log.requests[0].2, "localhost");
        assert_eq!(log.requests[0].4.host, "localhost:8080");
        assert_eq!(log.unit_calls[0].0, 1000.0);
    }
}
