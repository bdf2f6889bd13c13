//! In-process POSIX shell over a host sandbox: `command`, `shell` and `lookup('pipe')` never start a real process.
//!
//! [`run`] executes a script the way `/bin/sh -c SCRIPT` (dash) would on the simulated host:
//! every path goes through the host's [`Sandbox`], `sleep` advances the virtual clock in
//! [`ShellContext::now`], `$RANDOM` draws from the caller-seeded [`ShellContext::rng`], and
//! commands the shell does not implement can be supplied by an [`ExternalCommands`] hook
//! (the services layer adds `systemctl`, `curl`, ...). Execution is bounded by a step budget
//! and an output cap, so `while true; do :; done` ends with an error instead of hanging.

mod arith;
mod ast;
mod builtins;
mod exec;
mod expand;
mod io;
mod parse;
pub mod pattern;

#[cfg(test)]
mod tests;

use crate::fs::{FsError, Sandbox};
use indexmap::IndexMap;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// Exit status when the step budget or output cap runs out (as `timeout(1)` reports a kill).
pub const BUDGET_EXIT: i32 = 124;

/// What a script printed and how it ended.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ShellOutput {
    /// Exit status (0..=255, as a real shell reports it).
    pub rc: i32,
    /// Bytes written to fd 1.
    pub stdout: Vec<u8>,
    /// Bytes written to fd 2.
    pub stderr: Vec<u8>,
    /// The step budget or output cap ran out (rc is [`BUDGET_EXIT`]).
    pub budget_exhausted: bool,
}

impl ShellOutput {
    /// A finished command with text output.
    pub fn new(rc: i32, stdout: impl Into<Vec<u8>>, stderr: impl Into<Vec<u8>>) -> Self {
        ShellOutput {
            rc,
            stdout: stdout.into(),
            stderr: stderr.into(),
            budget_exhausted: false,
        }
    }

    /// stdout as text (lossy UTF-8).
    pub fn stdout_str(&self) -> String {
        String::from_utf8_lossy(&self.stdout).into_owned()
    }

    /// stderr as text (lossy UTF-8).
    pub fn stderr_str(&self) -> String {
        String::from_utf8_lossy(&self.stderr).into_owned()
    }
}

/// The user a script runs as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    /// Login name (`whoami`).
    pub name: String,
    /// Numeric uid (`id -u`).
    pub uid: u32,
    /// Primary group name.
    pub group: String,
    /// Numeric gid.
    pub gid: u32,
    /// Home directory (`~`, default `$HOME`).
    pub home: String,
}

impl Default for User {
    fn default() -> Self {
        User {
            name: "root".into(),
            uid: 0,
            group: "root".into(),
            gid: 0,
            home: "/root".into(),
        }
    }
}

/// What an external command sees of the host it runs on.
pub struct HostView<'a> {
    /// The host's filesystem.
    pub sandbox: &'a mut Sandbox,
    /// Working directory of the calling shell.
    pub cwd: &'a str,
    /// Exported variables of the calling shell, in order.
    pub env: &'a IndexMap<String, String>,
    /// The virtual clock (epoch seconds); a command that takes time advances it.
    pub now: &'a mut f64,
    /// Host name.
    pub hostname: &'a str,
    /// The user running the command.
    pub user: &'a User,
}

/// Commands provided outside the shell (service managers, network tools...).
pub trait ExternalCommands {
    /// Runs `argv` (argv[0] is the command name as typed) with the given stdin; `None` means
    /// "not mine", and the shell goes on to its own utilities and then `not found`.
    fn call(
        &mut self,
        argv: &[String],
        stdin: &[u8],
        host: &mut HostView<'_>,
    ) -> Option<ShellOutput>;

    /// Whether `name` is a command of this system whatever its arguments (`which NAME`
    /// finds it in `/usr/bin`).
    fn provides(&self, _name: &str) -> bool {
        false
    }
}

/// The open-files limit (soft, hard) a simulated process starts with.
pub const DEFAULT_NOFILE: (u64, u64) = (1024, 524_288);

/// Everything a script runs against: one host's sandbox and the process-like state.
/// [`run`] does not change `env` or `cwd` (each run is a fresh `sh -c`), but does advance
/// `now` and `rng`, and consumes `stdin`.
pub struct ShellContext {
    /// The host's filesystem.
    pub sandbox: Sandbox,
    /// Working directory (a host path).
    pub cwd: String,
    /// Environment, in order (all exported to the script).
    pub env: IndexMap<String, String>,
    /// `hostname` output.
    pub hostname: String,
    /// The user the script runs as (root by default).
    pub user: User,
    /// Virtual clock, epoch seconds: `date` reads it, `sleep` advances it.
    pub now: f64,
    /// Seconds the host's own clock is off (a `clock_skew` fault): `date` shows
    /// `now + clock_offset`; `sleep`, file times and the fleet's commands keep `now`.
    pub clock_offset: f64,
    /// Seeded randomness for `$RANDOM` (and anything else random).
    pub rng: ChaCha8Rng,
    /// Bytes the script reads on fd 0.
    pub stdin: Vec<u8>,
    /// Hook for commands the shell does not know (`Send`, so hosts can run on worker threads).
    pub external: Option<Box<dyn ExternalCommands + Send>>,
    /// Maximum execution steps (commands, loop rounds, expansions) per [`run`].
    pub budget: u64,
    /// Maximum bytes written (all streams and pipes together) per [`run`].
    pub max_output: usize,
    /// `$0` and the prefix of shell errors: `sh` gives `sh: 1: foo: not found` (Ansible's
    /// `shell` module runs `/bin/sh -c`, which would print `/bin/sh: 1: ...`).
    pub shell_name: String,
    /// Run as bash (`executable: /bin/bash`) rather than dash: `set -o pipefail` is
    /// accepted and errors read `bash: line 1: foo: command not found`. Everything else
    /// stays dash's.
    pub bash: bool,
    /// The process's open-files limit (soft, hard), `ulimit -n`: a Debian login's 1024 and
    /// systemd's 524288 unless the module lowered or raised it
    /// (`ansible_python_module_rlimit_nofile`).
    pub nofile: (u64, u64),
}

impl ShellContext {
    /// A context for the sandbox's host: cwd `/` (the controller's working folder on the
    /// controller, see [`crate::fs::mount_project`]), user root, clock 0, RNG seeded with `seed`,
    /// a minimal environment (HOME, PATH, PWD, LOGNAME, USER, SHELL).
    pub fn new(sandbox: Sandbox, seed: u64) -> Self {
        let hostname = sandbox.hostname().to_string();
        let user = User::default();
        let mut env = IndexMap::new();
        env.insert("HOME".to_string(), user.home.clone());
        env.insert(
            "PATH".to_string(),
            "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin".to_string(),
        );
        env.insert("LOGNAME".to_string(), user.name.clone());
        env.insert("USER".to_string(), user.name.clone());
        env.insert("SHELL".to_string(), "/bin/sh".to_string());
        ShellContext {
            cwd: sandbox.cwd().to_string(),
            sandbox,
            env,
            hostname,
            user,
            now: 0.0,
            clock_offset: 0.0,
            rng: ChaCha8Rng::seed_from_u64(seed),
            stdin: Vec::new(),
            external: None,
            budget: 1_000_000,
            max_output: 64 << 20,
            shell_name: "sh".into(),
            bash: false,
            nofile: DEFAULT_NOFILE,
        }
    }

    /// Changes the working directory (must be a directory in the sandbox).
    pub fn chdir(&mut self, dir: &str) -> Result<(), FsError> {
        let abs = io::join_path(&self.cwd, dir);
        let st = self.sandbox.stat(&abs)?;
        if st.kind != crate::fs::FileKind::Dir {
            return Err(FsError {
                errno: crate::fs::Errno::NotDir,
                path: dir.to_string(),
            });
        }
        self.cwd = io::normalize(&abs);
        Ok(())
    }

    /// Sets the user and makes the sandbox check permissions as that user.
    pub fn set_user(&mut self, user: User) {
        self.env.insert("HOME".into(), user.home.clone());
        self.env.insert("LOGNAME".into(), user.name.clone());
        self.env.insert("USER".into(), user.name.clone());
        self.user = user;
    }
}

/// Runs `script` as `sh -c script` on the context's host and returns its exit status and
/// output. Never panics on any input; never touches anything outside the sandbox.
pub fn run(script: &str, ctx: &mut ShellContext) -> ShellOutput {
    exec::run_script(script, ctx, &[])
}

/// Like [`run`] with positional parameters (`sh -c script NAME ARG...`: `$0` is `name`).
pub fn run_with_args(script: &str, ctx: &mut ShellContext, args: &[String]) -> ShellOutput {
    exec::run_script(script, ctx, args)
}
