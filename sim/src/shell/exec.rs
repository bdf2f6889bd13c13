//! The executor: runs parsed commands with dash's semantics (subshells, pipelines, redirections,
//! `set -e`, functions, loops) entirely in process, bounded by a step budget.

use super::ast::*;
use super::builtins::{self, Kind};
use super::io::*;
use super::parse::{parse_heredoc_body, Parser};
use super::{HostView, ShellContext, ShellOutput, BUDGET_EXIT};
use crate::fs::{FileKind, WriteMode};
use indexmap::IndexMap;
use rand::Rng;
use std::rc::Rc;

/// Function calls deeper than this end the script (dash would eventually crash).
const MAX_CALL_DEPTH: usize = 64;

/// Non-local control flow, carried in `Err` so `?` unwinds to the construct that handles it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Flow {
    /// `break n`
    Break(usize),
    /// `continue n`
    Continue(usize),
    /// `return n`
    Return(i32),
    /// `exit n` or a fatal shell error (ends the current (sub)shell).
    Exit(i32),
    /// Budget or output cap exhausted: ends the whole run, through subshells.
    Abort(String),
}

/// Result of executing something: its exit status, or a flow of control.
pub(crate) type Ex = Result<i32, Flow>;

/// A shell variable.
#[derive(Debug, Clone)]
pub(crate) struct Var {
    pub value: String,
    pub exported: bool,
}

/// Interpreter state for one [`super::run`].
pub(crate) struct Shell<'c> {
    pub ctx: &'c mut ShellContext,
    pub vars: IndexMap<String, Var>,
    pub cwd: String,
    pub funcs: IndexMap<String, Rc<Command>>,
    pub positional: Vec<String>,
    pub arg0: String,
    pub last_rc: i32,
    /// Status of the last command substitution in the current simple command.
    pub subst_rc: Option<i32>,
    pub errexit: bool,
    pub nounset: bool,
    /// `set -o pipefail` (bash only): a pipeline's status is its last failing stage's.
    pub pipefail: bool,
    /// The shell behaves as bash where fleetsim models a difference (see
    /// [`ShellContext::bash`]); `bash -c` and `sh -c` switch it for the child.
    pub bash: bool,
    suppress_errexit: usize,
    pub bufs: Vec<Vec<u8>>,
    steps: u64,
    written: usize,
    call_depth: usize,
    pub line: usize,
    pub loop_depth: usize,
    /// Set when a write to a file sink failed (disk full, read-only): the running command
    /// reports it as a write error, as real tools do.
    write_failed: Option<crate::fs::Errno>,
    /// The fd table set by `exec` without a command (`exec >log 2>&1`), with a generation
    /// counter: running lists adopt it for their remaining commands when it changes.
    pub exec_fds: Option<Fds>,
    pub exec_gen: u64,
    /// `trap ... EXIT` action of the top-level shell.
    pub exit_trap: Option<String>,
    /// The open-files limit (soft, hard): `ulimit -n` reads and sets it, a subshell's
    /// change stays in the subshell.
    pub nofile: (u64, u64),
    /// Saved outer values of `local` variables, one frame per function call.
    local_frames: Vec<Vec<(String, Option<Var>)>>,
}

/// Entry point behind [`super::run`].
pub(crate) fn run_script(script: &str, ctx: &mut ShellContext, args: &[String]) -> ShellOutput {
    let stdin = std::mem::take(&mut ctx.stdin);
    let user = ctx.user.clone();
    ctx.sandbox.set_actor(&user.name, &user.group);
    let mut sh = Shell::new(ctx, args);
    let fds: Fds = {
        let mut f = vec![Fd::Closed; MAX_FD + 1];
        f[0] = Fd::In(Input::new(stdin));
        f[1] = Fd::Out(Sink::Buf(0));
        f[2] = Fd::Out(Sink::Buf(1));
        f
    };
    let mut r = sh.exec_source(script, &fds, 1);
    if let Some(action) = sh.exit_trap.take() {
        if !matches!(r, Err(Flow::Abort(_))) {
            // The trap sees the script's status in $? and keeps it unless it exits itself.
            sh.last_rc = match &r {
                Ok(rc) | Err(Flow::Exit(rc)) | Err(Flow::Return(rc)) => *rc,
                _ => sh.last_rc,
            };
            let status = sh.last_rc;
            r = match sh.exec_source(&action, &fds, sh.line) {
                Ok(_) => Ok(status),
                other => other,
            };
        }
    }
    let (rc, exhausted) = match r {
        Ok(rc) => (rc, false),
        Err(Flow::Exit(n)) | Err(Flow::Return(n)) => (n, false),
        Err(Flow::Break(_)) | Err(Flow::Continue(_)) => (sh.last_rc, false),
        Err(Flow::Abort(msg)) => {
            let line = format!("{}: {}: {}\n", sh.ctx.shell_name, sh.line, msg);
            sh.bufs[1].extend_from_slice(line.as_bytes());
            (BUDGET_EXIT, true)
        }
    };
    let stderr = std::mem::take(&mut sh.bufs[1]);
    let stdout = std::mem::take(&mut sh.bufs[0]);
    let now = sh.ctx.now;
    sh.ctx.sandbox.set_now(now);
    ShellOutput {
        rc: rc & 0xff,
        stdout,
        stderr,
        budget_exhausted: exhausted,
    }
}

impl<'c> Shell<'c> {
    fn new(ctx: &'c mut ShellContext, args: &[String]) -> Self {
        let mut vars = IndexMap::new();
        for (k, v) in &ctx.env {
            vars.insert(
                k.clone(),
                Var {
                    value: v.clone(),
                    exported: true,
                },
            );
        }
        let cwd = ctx.cwd.clone();
        let bash = ctx.bash;
        vars.insert(
            "PWD".into(),
            Var {
                value: cwd.clone(),
                exported: true,
            },
        );
        vars.entry("IFS".into()).or_insert(Var {
            value: " \t\n".into(),
            exported: false,
        });
        let (arg0, positional) = match args.split_first() {
            Some((a0, rest)) => (a0.clone(), rest.to_vec()),
            None => (ctx.shell_name.clone(), Vec::new()),
        };
        let nofile = ctx.nofile;
        Shell {
            ctx,
            vars,
            cwd,
            funcs: IndexMap::new(),
            positional,
            arg0,
            last_rc: 0,
            subst_rc: None,
            errexit: false,
            nounset: false,
            pipefail: false,
            bash,
            suppress_errexit: 0,
            bufs: vec![Vec::new(), Vec::new()],
            steps: 0,
            written: 0,
            call_depth: 0,
            line: 1,
            loop_depth: 0,
            local_frames: Vec::new(),
            write_failed: None,
            exit_trap: None,
            exec_fds: None,
            exec_gen: 0,
            nofile,
        }
    }

    // ----- budget and output -----

    /// Counts one step; fails once the budget or output cap is spent.
    pub fn tick(&mut self) -> Result<(), Flow> {
        self.tick_n(1)
    }

    /// Counts `n` steps (for commands doing proportional work).
    pub fn tick_n(&mut self, n: u64) -> Result<(), Flow> {
        self.steps = self.steps.saturating_add(n);
        if self.steps > self.ctx.budget {
            return Err(Flow::Abort(format!(
                "fleetsim: step budget of {} exhausted",
                self.ctx.budget
            )));
        }
        if self.written > self.ctx.max_output {
            return Err(Flow::Abort(format!(
                "fleetsim: output cap of {} bytes exceeded",
                self.ctx.max_output
            )));
        }
        Ok(())
    }

    /// Whether the output cap has been passed (long-running producers stop early).
    pub fn over_output(&self) -> bool {
        self.written > self.ctx.max_output
    }

    fn new_buf(&mut self) -> usize {
        self.bufs.push(Vec::new());
        self.bufs.len() - 1
    }

    /// Writes to an fd; false if it is not open for writing or the write failed.
    pub fn write_fd(&mut self, fds: &Fds, fd: usize, data: &[u8]) -> bool {
        if data.is_empty() {
            return true;
        }
        let Some(Fd::Out(sink)) = fds.get(fd) else {
            self.write_failed = Some(crate::fs::Errno::Other("Bad file descriptor".into()));
            return false;
        };
        if self.over_output() {
            return false;
        }
        self.written += data.len();
        match sink {
            Sink::Buf(i) => {
                if let Some(b) = self.bufs.get_mut(*i) {
                    b.extend_from_slice(data);
                }
                true
            }
            Sink::File(p) => {
                let now = self.ctx.now;
                self.ctx.sandbox.set_now(now);
                match self.ctx.sandbox.write(p, data, WriteMode::Append) {
                    Ok(()) => true,
                    Err(e) => {
                        self.write_failed = Some(e.errno);
                        false
                    }
                }
            }
            Sink::Null => true,
        }
    }

    /// Writes to stdout.
    pub fn out(&mut self, fds: &Fds, data: impl AsRef<[u8]>) {
        self.write_fd(fds, 1, data.as_ref());
    }

    /// Writes to stderr.
    pub fn err(&mut self, fds: &Fds, data: impl AsRef<[u8]>) {
        self.write_fd(fds, 2, data.as_ref());
    }

    /// Prints a shell diagnostic: `$0: LINE: MSG` (bash: `$0: line LINE: MSG`), `$0`
    /// being the shell's name (`sh`, `/bin/sh`) or the script's path, as dash and bash
    /// print them.
    pub fn shell_err(&mut self, fds: &Fds, msg: &str) {
        let s = if self.bash {
            format!("{}: line {}: {}\n", self.arg0, self.line, msg)
        } else {
            format!("{}: {}: {}\n", self.arg0, self.line, msg)
        };
        self.err(fds, s);
    }

    /// Reports a command the shell cannot find, in dash's or bash's words.
    pub fn command_not_found(&mut self, fds: &Fds, name: &str) {
        let msg = match (self.bash, name.contains('/')) {
            (false, _) => format!("{name}: not found"),
            (true, false) => format!("{name}: command not found"),
            (true, true) => format!("{name}: No such file or directory"),
        };
        self.shell_err(fds, &msg);
    }

    /// Reads all remaining stdin.
    pub fn stdin_all(&mut self, fds: &Fds) -> Vec<u8> {
        match fds.first() {
            Some(Fd::In(i)) => i.read_all(),
            _ => Vec::new(),
        }
    }

    /// Reads one line of stdin.
    pub fn stdin_line(&mut self, fds: &Fds) -> Option<(Vec<u8>, bool)> {
        match fds.first() {
            Some(Fd::In(i)) => i.read_line(),
            _ => None,
        }
    }

    // ----- variables -----

    /// A parameter's value: specials, positionals, `RANDOM`, `LINENO`, then variables.
    pub fn get_var(&mut self, name: &str) -> Option<String> {
        match name {
            "?" => Some(self.last_rc.to_string()),
            "#" => Some(self.positional.len().to_string()),
            "@" | "*" => Some(self.positional.join(" ")),
            // A fixed pid keeps output deterministic.
            "$" => Some("4242".into()),
            "!" => None,
            "-" => Some(format!(
                "{}{}",
                if self.errexit { "e" } else { "" },
                if self.nounset { "u" } else { "" }
            )),
            "0" => Some(self.arg0.clone()),
            "RANDOM" if !self.vars.contains_key("RANDOM") => {
                Some(self.ctx.rng.random_range(0..32768u32).to_string())
            }
            n if n.chars().all(|c| c.is_ascii_digit()) => {
                let i: usize = n.parse().ok()?;
                self.positional.get(i.checked_sub(1)?).cloned()
            }
            n => self.vars.get(n).map(|v| v.value.clone()),
        }
    }

    /// Assigns a variable (keeping its export flag).
    pub fn set_var(&mut self, name: &str, value: String) {
        match self.vars.get_mut(name) {
            Some(v) => v.value = value,
            None => {
                self.vars.insert(
                    name.to_string(),
                    Var {
                        value,
                        exported: false,
                    },
                );
            }
        }
    }

    /// Whether a function is running (`local` is only valid there).
    pub fn in_function(&self) -> bool {
        !self.local_frames.is_empty()
    }

    /// Makes `name` local to the running function (restored when it returns).
    pub fn make_local(&mut self, name: &str) {
        let old = self.vars.get(name).cloned();
        if let Some(frame) = self.local_frames.last_mut() {
            if !frame.iter().any(|(n, _)| n == name) {
                frame.push((name.to_string(), old));
            }
        }
    }

    /// The exported variables, in definition order.
    pub fn exported_env(&self) -> IndexMap<String, String> {
        self.vars
            .iter()
            .filter(|(_, v)| v.exported)
            .map(|(k, v)| (k.clone(), v.value.clone()))
            .collect()
    }

    /// A path argument made absolute against the shell's cwd.
    pub fn abs(&self, p: &str) -> String {
        join_path(&self.cwd, p)
    }

    // ----- running source text -----

    /// Parses and runs `src` one complete command at a time (as dash does), in the current
    /// shell. A syntax error prints dash's message and exits with 2.
    pub fn exec_source(&mut self, src: &str, fds: &Fds, first_line: usize) -> Ex {
        let mut p = Parser::new(src, first_line);
        let mut rc = 0;
        let mut cur = fds.clone();
        let mut gen = self.exec_gen;
        loop {
            match p.next_complete_command() {
                Ok(Some(list)) => {
                    rc = self.exec_list(&list, &cur)?;
                    self.adopt_exec_fds(&mut cur, &mut gen);
                }
                Ok(None) => return Ok(rc),
                Err(e) => {
                    self.line = e.line;
                    self.shell_err(fds, &e.msg);
                    return Err(Flow::Exit(2));
                }
            }
        }
    }

    /// Runs `f` as a subshell: variables, functions, cwd and options are restored after,
    /// and `exit` ends only the subshell.
    pub fn subshell(&mut self, f: impl FnOnce(&mut Self) -> Ex) -> Ex {
        let vars = self.vars.clone();
        let funcs = self.funcs.clone();
        let cwd = self.cwd.clone();
        let positional = self.positional.clone();
        let arg0 = self.arg0.clone();
        let opts = (self.errexit, self.nounset, self.loop_depth, self.last_rc);
        let dialect = (self.pipefail, self.bash);
        let exec_state = (self.exec_fds.clone(), self.exec_gen);
        let nofile = self.nofile;
        let r = f(self);
        self.nofile = nofile;
        (self.exec_fds, self.exec_gen) = exec_state;
        self.vars = vars;
        self.funcs = funcs;
        self.cwd = cwd;
        self.positional = positional;
        self.arg0 = arg0;
        (self.errexit, self.nounset, self.loop_depth, self.last_rc) = opts;
        (self.pipefail, self.bash) = dialect;
        match r {
            Ok(rc) | Err(Flow::Exit(rc)) | Err(Flow::Return(rc)) => Ok(rc),
            Err(Flow::Break(_)) | Err(Flow::Continue(_)) => Ok(0),
            Err(a @ Flow::Abort(_)) => Err(a),
        }
    }

    fn suppressed(&mut self, f: impl FnOnce(&mut Self) -> Ex) -> Ex {
        self.suppress_errexit += 1;
        let r = f(self);
        self.suppress_errexit -= 1;
        r
    }

    // ----- lists, pipelines -----

    pub fn exec_list(&mut self, list: &List, fds: &Fds) -> Ex {
        let mut rc = 0;
        let mut cur = fds.clone();
        let mut gen = self.exec_gen;
        for ao in list {
            rc = self.exec_and_or(ao, &cur)?;
            self.adopt_exec_fds(&mut cur, &mut gen);
        }
        Ok(rc)
    }

    /// After `exec >file` the rest of the shell writes there: a list picks up the new table.
    fn adopt_exec_fds(&self, cur: &mut Fds, gen: &mut u64) {
        if self.exec_gen != *gen {
            *gen = self.exec_gen;
            if let Some(f) = &self.exec_fds {
                *cur = f.clone();
            }
        }
    }

    fn exec_and_or(&mut self, ao: &AndOr, fds: &Fds) -> Ex {
        let mut rc = if ao.rest.is_empty() {
            self.exec_pipeline(&ao.first, fds)?
        } else {
            self.suppressed(|s| s.exec_pipeline(&ao.first, fds))?
        };
        let n = ao.rest.len();
        for (i, (and, p)) in ao.rest.iter().enumerate() {
            if *and != (rc == 0) {
                continue;
            }
            rc = if i + 1 == n {
                self.exec_pipeline(p, fds)?
            } else {
                self.suppressed(|s| s.exec_pipeline(p, fds))?
            };
        }
        self.last_rc = rc;
        Ok(rc)
    }

    fn exec_pipeline(&mut self, p: &Pipeline, fds: &Fds) -> Ex {
        self.tick()?;
        let run = |sh: &mut Self| -> Ex {
            if p.cmds.len() == 1 {
                return sh.exec_command(&p.cmds[0], fds);
            }
            // Stages run one after another, each in a subshell, the output of one being
            // the input of the next (no real concurrency: producers are bounded instead).
            let mut input = fds[0].clone();
            let mut rc = 0;
            let mut last_failure = 0;
            let n = p.cmds.len();
            for (i, c) in p.cmds.iter().enumerate() {
                let mut f = fds.clone();
                f[0] = input.clone();
                let buf = if i + 1 < n {
                    let b = sh.new_buf();
                    f[1] = Fd::Out(Sink::Buf(b));
                    Some(b)
                } else {
                    None
                };
                rc = sh.subshell(|s| s.exec_command(c, &f))?;
                if rc != 0 {
                    last_failure = rc;
                }
                if let Some(b) = buf {
                    input = Fd::In(Input::new(std::mem::take(&mut sh.bufs[b])));
                }
            }
            Ok(if sh.pipefail { last_failure } else { rc })
        };
        let rc = if p.bang {
            let rc = self.suppressed(run)?;
            (rc == 0) as i32
        } else {
            run(self)?
        };
        self.last_rc = rc;
        if !p.bang && rc != 0 && self.errexit && self.suppress_errexit == 0 {
            return Err(Flow::Exit(rc));
        }
        Ok(rc)
    }

    fn exec_command(&mut self, c: &Command, fds: &Fds) -> Ex {
        match c {
            Command::Simple(s) => self.exec_simple(s, fds),
            Command::Compound(cc, redirs) => {
                let f = match self.apply_redirs(redirs, fds)? {
                    Ok(f) => f,
                    Err(msg) => {
                        self.shell_err(fds, &msg);
                        return Ok(2);
                    }
                };
                self.exec_compound(cc, &f)
            }
            Command::FuncDef(name, body) => {
                self.funcs.insert(name.clone(), body.clone());
                Ok(0)
            }
        }
    }

    fn loop_body(&mut self, body: &List, fds: &Fds) -> Result<Option<i32>, Flow> {
        match self.exec_list(body, fds) {
            Ok(rc) => Ok(Some(rc)),
            Err(Flow::Break(n)) if n > 1 => Err(Flow::Break(n - 1)),
            Err(Flow::Break(_)) => Ok(None),
            Err(Flow::Continue(n)) if n > 1 => Err(Flow::Continue(n - 1)),
            Err(Flow::Continue(_)) => Ok(Some(0)),
            Err(e) => Err(e),
        }
    }

    fn exec_compound(&mut self, c: &Compound, fds: &Fds) -> Ex {
        match c {
            Compound::Brace(l) => self.exec_list(l, fds),
            Compound::Subshell(l) => self.subshell(|s| s.exec_list(l, fds)),
            Compound::If {
                branches,
                otherwise,
            } => {
                for (cond, body) in branches {
                    if self.suppressed(|s| s.exec_list(cond, fds))? == 0 {
                        return self.exec_list(body, fds);
                    }
                }
                match otherwise {
                    Some(l) => self.exec_list(l, fds),
                    None => Ok(0),
                }
            }
            Compound::For { var, words, body } => {
                let items = match words {
                    Some(ws) => self.expand_words(ws, fds)?,
                    None => self.positional.clone(),
                };
                let mut rc = 0;
                self.loop_depth += 1;
                let r = (|| {
                    for it in items {
                        self.tick()?;
                        self.set_var(var, it);
                        match self.loop_body(body, fds)? {
                            Some(r) => rc = r,
                            None => break,
                        }
                    }
                    Ok(rc)
                })();
                self.loop_depth -= 1;
                r
            }
            Compound::Loop { until, cond, body } => {
                let mut rc = 0;
                self.loop_depth += 1;
                let r = (|| loop {
                    self.tick()?;
                    let c = match self.suppressed(|s| s.exec_list(cond, fds)) {
                        Ok(c) => c,
                        Err(Flow::Break(_)) => return Ok(rc),
                        Err(Flow::Continue(_)) => continue,
                        Err(e) => return Err(e),
                    };
                    if (c == 0) == *until {
                        return Ok(rc);
                    }
                    match self.loop_body(body, fds)? {
                        Some(r) => rc = r,
                        None => return Ok(rc),
                    }
                })();
                self.loop_depth -= 1;
                r
            }
            Compound::Case { word, arms } => {
                let subject = self.expand_word_str(word, fds)?;
                for (pats, body) in arms {
                    for p in pats {
                        let pat = self.expand_pattern(p, fds)?;
                        if pat.matches(&subject) {
                            return self.exec_list(body, fds);
                        }
                    }
                }
                Ok(0)
            }
        }
    }

    // ----- simple commands -----

    fn exec_simple(&mut self, cmd: &SimpleCommand, fds: &Fds) -> Ex {
        self.line = cmd.line;
        let now = self.ctx.now;
        self.ctx.sandbox.set_now(now);
        self.subst_rc = None;
        let argv = self.expand_words(&cmd.words, fds)?;
        let mut assigns = Vec::with_capacity(cmd.assigns.len());
        for (name, w) in &cmd.assigns {
            let v = self.expand_word_str(w, fds)?;
            assigns.push((name.clone(), v));
        }
        if argv.is_empty() {
            for (name, v) in assigns {
                self.set_var(&name, v);
            }
            return match self.apply_redirs(&cmd.redirs, fds)? {
                Ok(_) => Ok(self.subst_rc.unwrap_or(0)),
                Err(msg) => {
                    self.shell_err(fds, &msg);
                    Ok(2)
                }
            };
        }
        let f = match self.apply_redirs(&cmd.redirs, fds)? {
            Ok(f) => f,
            Err(msg) => {
                self.shell_err(fds, &msg);
                return Ok(2);
            }
        };
        if builtins::kind(&argv[0]) == Some(Kind::Special) {
            for (name, v) in assigns {
                self.set_var(&name, v);
            }
            return self.dispatch(&argv, &f);
        }
        // Prefix assignments are the command's environment only.
        let mut saved = Vec::new();
        for (name, v) in assigns {
            saved.push((name.clone(), self.vars.get(&name).cloned()));
            self.vars.insert(
                name,
                Var {
                    value: v,
                    exported: true,
                },
            );
        }
        let r = self.dispatch(&argv, &f);
        for (name, old) in saved.into_iter().rev() {
            match old {
                Some(v) => {
                    self.vars.insert(name, v);
                }
                None => {
                    self.vars.shift_remove(&name);
                }
            }
        }
        r
    }

    /// Finds and runs a command: functions, shell builtins, the external hook, utilities,
    /// scripts in the sandbox; otherwise `not found` (127).
    pub fn dispatch(&mut self, argv: &[String], fds: &Fds) -> Ex {
        let name = argv[0].as_str();
        if let Some(body) = self.funcs.get(name).cloned() {
            return self.call_function(&body, argv, fds);
        }
        let kind = builtins::kind(name);
        if matches!(kind, Some(Kind::Special) | Some(Kind::Regular)) {
            return self.run_builtin(argv, fds, true);
        }
        // Utilities and external programs live in the standard bin directories: without
        // them in PATH, dash finds nothing (`PATH=/nope; ls` is `not found`).
        let on_path = self.vars.get("PATH").is_some_and(|p| {
            p.value.split(':').any(|d| {
                matches!(
                    d,
                    "/bin"
                        | "/usr/bin"
                        | "/sbin"
                        | "/usr/sbin"
                        | "/usr/local/bin"
                        | "/usr/local/sbin"
                )
            })
        });
        if !on_path && !name.contains('/') {
            self.command_not_found(fds, name);
            return Ok(127);
        }
        if let Some(out) = self.call_external(argv, fds) {
            self.out(fds, &out.stdout);
            self.err(fds, &out.stderr);
            return Ok(out.rc);
        }
        if kind == Some(Kind::Utility) {
            return self.run_builtin(argv, fds, false);
        }
        if name.contains('/') {
            return self.exec_path(argv, fds);
        }
        self.command_not_found(fds, name);
        Ok(127)
    }

    /// Runs an implemented command and reports failed writes the way dash builtins
    /// (`sh: 1: echo: echo: I/O error`) or GNU tools (`cat: write error: ...`) do.
    fn run_builtin(&mut self, argv: &[String], fds: &Fds, shell_builtin: bool) -> Ex {
        let outer = self.write_failed.take();
        let r = builtins::run(self, argv, fds);
        let failed = std::mem::replace(&mut self.write_failed, outer);
        match (r, failed) {
            (Ok(_), Some(e)) => {
                let name = &argv[0];
                if shell_builtin {
                    self.shell_err(fds, &format!("{name}: {name}: I/O error"));
                } else {
                    self.err(fds, format!("{name}: write error: {}\n", e.message()));
                }
                Ok(1)
            }
            (r, _) => r,
        }
    }

    fn call_external(&mut self, argv: &[String], fds: &Fds) -> Option<ShellOutput> {
        self.ctx.external.as_ref()?;
        let env = self.exported_env();
        let stdin = match fds.first() {
            Some(Fd::In(i)) => i.clone(),
            _ => Input::new(Vec::new()),
        };
        // Peek by reading a clone of the cursor's data, then rewind if not handled.
        let data = stdin.read_all();
        let ctx = &mut *self.ctx;
        let ext = ctx.external.as_mut()?;
        let mut view = HostView {
            sandbox: &mut ctx.sandbox,
            cwd: &self.cwd,
            env: &env,
            now: &mut ctx.now,
            hostname: &ctx.hostname,
            user: &ctx.user,
        };
        let r = ext.call(argv, &data, &mut view);
        if r.is_none() {
            stdin.unread(data.len());
        }
        r
    }

    /// A command given by path: a known utility in a standard bin directory, or a shell
    /// script in the sandbox (run in a subshell); anything else cannot run here.
    fn exec_path(&mut self, argv: &[String], fds: &Fds) -> Ex {
        let name = argv[0].as_str();
        let (dir, base) = name.rsplit_once('/').unwrap_or(("", name));
        let std_dir = matches!(
            dir,
            "/bin" | "/usr/bin" | "/sbin" | "/usr/sbin" | "/usr/local/bin"
        );
        let path = self.abs(name);
        match self.ctx.sandbox.stat(&path) {
            Ok(st) if st.kind == FileKind::Dir => {
                self.shell_err(fds, &format!("{name}: Permission denied"));
                Ok(126)
            }
            Ok(st) => {
                if st.mode & 0o111 == 0 {
                    self.shell_err(fds, &format!("{name}: Permission denied"));
                    return Ok(126);
                }
                let text = self.ctx.sandbox.read_to_string(&path).unwrap_or_default();
                let first = text.lines().next().unwrap_or("");
                // The interpreter named by `#!`; without one the shell runs the script.
                let interp = match first.strip_prefix("#!") {
                    None => None,
                    Some(rest) => {
                        let prog = rest.split_whitespace().next().unwrap_or("");
                        let prog = if prog.ends_with("/env") {
                            rest.split_whitespace().nth(1).unwrap_or("")
                        } else {
                            prog
                        };
                        Some(prog.rsplit('/').next().unwrap_or(""))
                    }
                };
                if !matches!(interp, None | Some("sh" | "bash" | "dash")) {
                    self.command_not_found(fds, name);
                    return Ok(127);
                }
                let parent_is_bash = self.bash;
                if let Some(interp) = interp {
                    self.bash = interp == "bash";
                }
                let r = self.run_script_text(&text, name, &argv[1..], fds, false);
                self.bash = parent_is_bash;
                r
            }
            Err(_)
                if std_dir
                    && matches!(builtins::kind(base), Some(Kind::Utility | Kind::Regular)) =>
            {
                let mut a = argv.to_vec();
                a[0] = base.to_string();
                builtins::run(self, &a, fds)
            }
            Err(_) => {
                self.command_not_found(fds, name);
                Ok(127)
            }
        }
    }

    /// Runs script text as a child shell (`sh file args`, `./script`).
    pub fn run_script_text(
        &mut self,
        text: &str,
        arg0: &str,
        args: &[String],
        fds: &Fds,
        errexit: bool,
    ) -> Ex {
        let line = self.line;
        let r = self.subshell(|s| {
            s.funcs.clear();
            s.arg0 = arg0.to_string();
            s.positional = args.to_vec();
            s.errexit = errexit;
            s.pipefail = false;
            s.vars.retain(|k, v| v.exported || k == "IFS");
            s.exec_source(text, fds, 1)
        });
        self.line = line;
        r
    }

    fn call_function(&mut self, body: &Rc<Command>, argv: &[String], fds: &Fds) -> Ex {
        if self.call_depth >= MAX_CALL_DEPTH {
            return Err(Flow::Abort(format!(
                "fleetsim: function nesting deeper than {MAX_CALL_DEPTH}"
            )));
        }
        self.call_depth += 1;
        let saved = std::mem::replace(&mut self.positional, argv[1..].to_vec());
        let line = self.line;
        self.local_frames.push(Vec::new());
        let r = self.exec_command(body, fds);
        for (name, old) in self
            .local_frames
            .pop()
            .unwrap_or_default()
            .into_iter()
            .rev()
        {
            match old {
                Some(v) => {
                    self.vars.insert(name, v);
                }
                None => {
                    self.vars.shift_remove(&name);
                }
            }
        }
        self.positional = saved;
        self.line = line;
        self.call_depth -= 1;
        match r {
            Err(Flow::Return(n)) => Ok(n),
            other => other,
        }
    }

    // ----- redirections -----

    /// Applies redirections to a copy of `fds`. Expansion errors are flows; open errors are
    /// dash's message (`cannot create X: Directory nonexistent`).
    pub fn apply_redirs(
        &mut self,
        redirs: &[Redir],
        fds: &Fds,
    ) -> Result<Result<Fds, String>, Flow> {
        let mut f = fds.clone();
        for r in redirs {
            let default_fd = match r.op {
                RedirOp::In | RedirOp::DupIn | RedirOp::ReadWrite => 0,
                _ => 1,
            };
            let fd = r.fd.map(|n| n as usize).unwrap_or(default_fd);
            let target = match &r.target {
                RedirTarget::Here(cell) => {
                    let (body, expand) = match cell.get() {
                        Some(h) => (h.body.clone(), h.expand),
                        None => (String::new(), false),
                    };
                    let text = if expand {
                        match parse_heredoc_body(&body, self.line + 1) {
                            Ok(w) => self.expand_word_str(&w, fds)?,
                            Err(e) => {
                                self.shell_err(fds, &e.msg);
                                return Err(Flow::Exit(2));
                            }
                        }
                    } else {
                        body
                    };
                    f[fd] = Fd::In(Input::new(text.into_bytes()));
                    continue;
                }
                RedirTarget::Word(w) => self.expand_word_str(w, fds)?,
            };
            match r.op {
                RedirOp::In | RedirOp::ReadWrite => {
                    if target == "/dev/null" {
                        f[fd] = Fd::In(Input::new(Vec::new()));
                        continue;
                    }
                    let p = self.abs(&target);
                    if r.op == RedirOp::ReadWrite && !self.ctx.sandbox.exists(&p) {
                        if let Err(e) = self.ctx.sandbox.write(&p, b"", WriteMode::Append) {
                            return Ok(Err(format!(
                                "cannot create {target}: {}",
                                redirect_errmsg(&e.errno, true)
                            )));
                        }
                    }
                    match self.ctx.sandbox.read(&p) {
                        Ok(d) => f[fd] = Fd::In(Input::new(d)),
                        Err(e) => {
                            return Ok(Err(format!(
                                "cannot open {target}: {}",
                                redirect_errmsg(&e.errno, false)
                            )))
                        }
                    }
                }
                RedirOp::Out | RedirOp::Append | RedirOp::OutErr
                    if target == "/dev/stdout" || target == "/dev/stderr" =>
                {
                    let src = if target == "/dev/stdout" { 1 } else { 2 };
                    f[fd] = f[src].clone();
                    if r.op == RedirOp::OutErr {
                        f[2] = f[src].clone();
                    }
                }
                RedirOp::Out | RedirOp::Append | RedirOp::OutErr => {
                    let sink = match self.open_out(&target, r.op == RedirOp::Append) {
                        Ok(s) => s,
                        Err(m) => return Ok(Err(m)),
                    };
                    f[fd] = Fd::Out(sink.clone());
                    if r.op == RedirOp::OutErr {
                        f[2] = Fd::Out(sink);
                    }
                }
                RedirOp::DupOut | RedirOp::DupIn => {
                    if target == "-" {
                        f[fd] = Fd::Closed;
                    } else {
                        match target.parse::<usize>() {
                            Ok(n) if n <= MAX_FD => {
                                if matches!(f[n], Fd::Closed) {
                                    return Ok(Err(format!("{n}: Bad file descriptor")));
                                }
                                f[fd] = f[n].clone();
                            }
                            _ => return Ok(Err("Syntax error: Bad fd number".to_string())),
                        }
                    }
                }
            }
        }
        Ok(Ok(f))
    }

    fn open_out(&mut self, target: &str, append: bool) -> Result<Sink, String> {
        if target == "/dev/null" {
            return Ok(Sink::Null);
        }
        let p = self.abs(target);
        let mode = if append {
            WriteMode::Append
        } else {
            WriteMode::Truncate
        };
        match self.ctx.sandbox.write(&p, b"", mode) {
            Ok(()) => Ok(Sink::File(p)),
            Err(e) => Err(format!(
                "cannot create {target}: {}",
                redirect_errmsg(&e.errno, true)
            )),
        }
    }
}

impl super::arith::ArithEnv for Shell<'_> {
    fn get_var(&mut self, name: &str) -> Option<String> {
        Shell::get_var(self, name)
    }
    fn set_var(&mut self, name: &str, value: i64) {
        Shell::set_var(self, name, value.to_string());
    }
}
