//! `command` and `shell`: run in the in-process shell over the target host's sandbox (never
//! a real process), with Ansible's result fields (`rc`, `stdout(_lines)`, `stderr(_lines)`,
//! `start`/`end`/`delta` on the virtual clock) and `creates`/`removes`/`chdir`/`stdin`.

use serde_json::{json, Value};

use fleetsim_sim::clock::Civil;
use fleetsim_sim::fleet::commands::FleetCommands;
use fleetsim_sim::fleet::SharedFleet;
use fleetsim_sim::shell::{self, ShellContext};

use super::spec::{opt, spec, Kind, ModuleName, Spec};
use super::{arg_str, Args, Module, ModuleCtx, ModuleResult};

pub struct Command {
    pub shell: bool,
}

/// Virtual time a command takes besides what it sleeps: a few milliseconds, as on a host.
const COMMAND_COST_SECONDS: f64 = 0.004;

fn fmt_time(t: f64) -> String {
    Civil::from_epoch(t).format("%Y-%m-%d %H:%M:%S.%f", t)
}

fn fmt_delta(d: f64) -> String {
    let d = d.max(0.0);
    let secs = d.trunc() as u64;
    let micros = ((d - d.trunc()) * 1e6).round() as u64;
    format!(
        "{}:{:02}:{:02}.{:06}",
        secs / 3600,
        secs / 60 % 60,
        secs % 60,
        micros
    )
}

/// Quotes one word for sh.
fn sh_quote(w: &str) -> String {
    if !w.is_empty()
        && w.chars()
            .all(|c| c.is_ascii_alphanumeric() || "@%+=:,./-_".contains(c))
    {
        w.to_string()
    } else {
        format!("'{}'", w.replace('\'', "'\"'\"'"))
    }
}

/// Where a host has its shells: `/bin`, `/usr/bin`, or a bare name found on PATH.
/// Python's `os.path.expandvars`: `$NAME` and `${NAME}` replaced by the variable's value
/// when it is set, left as written when not.
fn expand_vars(word: &str, env: &indexmap::IndexMap<String, String>) -> String {
    if !word.contains('$') {
        return word.to_string();
    }
    let mut out = String::new();
    let mut rest = word;
    while let Some(i) = rest.find('$') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        let (name, len) = if let Some(braced) = after.strip_prefix('{') {
            match braced.find('}') {
                Some(j) => (&braced[..j], j + 2),
                None => ("", 0),
            }
        } else {
            let n = after
                .char_indices()
                .find(|(_, c)| !(c.is_alphanumeric() || *c == '_'))
                .map(|(j, _)| j)
                .unwrap_or(after.len());
            (&after[..n], n)
        };
        match env.get(name).filter(|_| len > 0 && !name.is_empty()) {
            Some(v) => {
                out.push_str(v);
                rest = &after[len..];
            }
            None => {
                out.push('$');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// Python's `os.path.expanduser` for `~` and `~/...` (from `HOME`); `~user` is left as it is.
fn expand_user(word: &str, env: &indexmap::IndexMap<String, String>) -> String {
    match (word.strip_prefix('~'), env.get("HOME")) {
        (Some(rest), Some(home)) if rest.is_empty() || rest.starts_with('/') => {
            let home = home.trim_end_matches('/');
            let home = if home.is_empty() { "/" } else { home };
            if rest.is_empty() {
                home.to_string()
            } else if home == "/" {
                rest.to_string()
            } else {
                format!("{home}{rest}")
            }
        }
        _ => word.to_string(),
    }
}

fn is_shell_path(exe: &str) -> bool {
    match exe.rsplit_once('/') {
        None => true,
        Some((dir, _)) => matches!(dir, "/bin" | "/usr/bin"),
    }
}

/// Whether Python's `glob.glob(pattern)` finds anything on the host: `*`, `?` and `[...]`
/// in a component match names in its folder (a leading `.` only by a pattern that starts
/// with one); a pattern without wildcards names a path that exists (a dangling link too).
fn glob_matches(fs: &fleetsim_sim::fs::Sandbox, pattern: &str) -> bool {
    use fleetsim_sim::fs::FileKind;
    use fleetsim_sim::shell::pattern::Pattern;
    fn walk(fs: &fleetsim_sim::fs::Sandbox, base: &str, parts: &[&str], dir: bool) -> bool {
        let Some((first, rest)) = parts.split_first() else {
            return match dir {
                true => fs.stat(base).is_ok_and(|s| s.kind == FileKind::Dir),
                false => fs.lstat(base).is_ok(),
            };
        };
        let join = |name: &str| {
            if base.is_empty() {
                name.to_string()
            } else if base.ends_with('/') {
                format!("{base}{name}")
            } else {
                format!("{base}/{name}")
            }
        };
        let pat = Pattern::parse(first);
        if !pat.has_wildcards() {
            return walk(fs, &join(first), rest, dir);
        }
        let folder = if base.is_empty() { "." } else { base };
        let Ok(names) = fs.list_dir(folder) else {
            return false;
        };
        names
            .iter()
            .filter(|n| !n.starts_with('.') || first.starts_with('.'))
            .filter(|n| pat.matches(n))
            .any(|n| walk(fs, &join(n), rest, dir))
    }
    let (base, rel) = match pattern.strip_prefix('/') {
        Some(rel) => ("/", rel),
        None => ("", pattern),
    };
    let parts: Vec<&str> = rel.split('/').filter(|p| !p.is_empty()).collect();
    if parts.is_empty() {
        return fs.lstat(pattern).is_ok();
    }
    walk(fs, base, &parts, pattern.ends_with('/'))
}

fn lines(s: &str) -> Value {
    json!(s.lines().collect::<Vec<_>>())
}

/// The command module's options (`shell` is the same module with `_uses_shell`).
const SPEC: Spec = spec(
    ModuleName::Fixed("ansible.legacy.command"),
    &[
        opt("_raw_params", Kind::Str),
        opt("_uses_shell", Kind::Bool),
        opt("cmd", Kind::Str),
        opt("argv", Kind::List),
        opt("chdir", Kind::Path),
        opt("executable", Kind::Str),
        opt("expand_argument_vars", Kind::Bool),
        opt("creates", Kind::Path),
        opt("removes", Kind::Path),
        opt("stdin", Kind::Str),
        opt("stdin_add_newline", Kind::Bool),
        opt("strip_empty_ends", Kind::Bool),
    ],
)
.required_one_of(&[&["_raw_params", "cmd", "argv"]])
.mutually_exclusive(&[&["_raw_params", "cmd", "argv"]]);

impl Module for Command {
    fn run(&self, ctx: &mut ModuleCtx<'_>, args: &Args) -> ModuleResult {
        let args = &match super::validated(ctx, &SPEC, args) {
            Ok(a) => a,
            Err(r) => return r,
        };
        let mut r = self.run_validated(ctx, args);
        // The command module warns (module.warn) about the `executable` it does not use;
        // the warning is in every result it returns (check mode's and creates' too).
        if let (false, Some(exe)) = (self.shell, arg_str(args, "executable")) {
            let warning = format!(
                "As of Ansible 2.4, the parameter 'executable' is no longer supported with the 'command' module. Not using '{exe}'."
            );
            r.insert("warnings".into(), json!([warning]));
        }
        r
    }
}

impl Command {
    fn run_validated(&self, ctx: &mut ModuleCtx<'_>, args: &Args) -> ModuleResult {
        // The command module's words, kept to expand `$VAR` and `~` in them before running.
        let mut argv_words: Option<Vec<String>> = None;
        let (script, cmd_value) = if self.shell {
            let Some(cmd) = arg_str(args, "_raw_params").or_else(|| arg_str(args, "cmd")) else {
                return super::fail("no command given");
            };
            (cmd.clone(), json!(cmd))
        } else if let Some(Value::Array(argv)) = args.get("argv") {
            let words: Vec<String> = argv.iter().map(crate::playbook::scalar_text).collect();
            argv_words = Some(words.clone());
            (
                words
                    .iter()
                    .map(|w| sh_quote(w))
                    .collect::<Vec<_>>()
                    .join(" "),
                json!(words),
            )
        } else {
            let Some(cmd) = arg_str(args, "_raw_params").or_else(|| arg_str(args, "cmd")) else {
                return super::fail("no command given");
            };
            let words = match crate::inventory::pyliteral::shlex_split_opts(&cmd, false) {
                Ok(w) => w,
                Err(e) => return super::fail(&e),
            };
            argv_words = Some(words.clone());
            (
                words
                    .iter()
                    .map(|w| sh_quote(w))
                    .collect::<Vec<_>>()
                    .join(" "),
                json!(words),
            )
        };
        // `executable`: the shell module runs `EXECUTABLE -c CMD`; fleetsim's shell can be
        // dash or bash, and a host has no other shell. The command module ignores it.
        let executable = arg_str(args, "executable");
        let mut bash = false;
        let mut shell_name = if self.shell { "/bin/sh" } else { "sh" }.to_string();
        match &executable {
            Some(_) if !self.shell => {}
            Some(exe) => match exe.rsplit('/').next() {
                Some(name @ ("sh" | "bash" | "dash")) if is_shell_path(exe) => {
                    bash = name == "bash";
                    shell_name = exe.clone();
                }
                _ => {
                    let mut r = super::fail("Error executing command.");
                    r.insert(
                        "_ansible_error_detail".into(),
                        json!(format!(
                            "Error executing command: [Errno 2] No such file or directory: b'{exe}'"
                        )),
                    );
                    r.insert(
                        "cmd".into(),
                        json!(format!("{} -c {}", exe, sh_quote(&script))),
                    );
                    r.insert("rc".into(), json!(2));
                    r.insert("stdout".into(), json!(""));
                    r.insert("stdout_lines".into(), json!([]));
                    r.insert("stderr".into(), json!(""));
                    r.insert("stderr_lines".into(), json!([]));
                    return r;
                }
            },
            None => {}
        }
        let check = ctx.check_mode;
        let chdir = arg_str(args, "chdir");
        let creates = arg_str(args, "creates");
        let removes = arg_str(args, "removes");
        let stdin = arg_str(args, "stdin");
        let add_newline = super::arg_bool(args, "stdin_add_newline", true).unwrap_or(true);
        let strip = super::arg_bool(args, "strip_empty_ends", true).unwrap_or(true);
        let resolve = |p: &str| -> String {
            match (&chdir, p.starts_with('/')) {
                (Some(dir), false) => format!("{}/{p}", dir.trim_end_matches('/')),
                _ => p.to_string(),
            }
        };
        // The module's result before it runs anything: no start, end or delta.
        let not_run = || {
            let mut r = super::ok(false);
            r.insert("cmd".into(), cmd_value.clone());
            r.insert("start".into(), Value::Null);
            r.insert("end".into(), Value::Null);
            r.insert("delta".into(), Value::Null);
            r
        };
        let shoulda = if check { "Would" } else { "Did" };
        let skipped = |msg: String, stdout: String| {
            let mut r = not_run();
            r.insert("rc".into(), json!(0));
            r.insert("stdout".into(), json!(stdout));
            r.insert("stdout_lines".into(), json!([stdout]));
            r.insert("stderr".into(), json!(""));
            r.insert("stderr_lines".into(), json!([]));
            r.insert("msg".into(), json!(msg));
            r
        };
        {
            let host = match ctx.target_host() {
                Ok(h) => h,
                Err(r) => return r,
            };
            if let Some(c) = &creates {
                if glob_matches(&host.fs, &resolve(c)) {
                    return skipped(
                        format!("{shoulda} not run command since '{c}' exists"),
                        format!("skipped, since {c} exists"),
                    );
                }
            }
            if let Some(rm) = &removes {
                if !glob_matches(&host.fs, &resolve(rm)) {
                    return skipped(
                        format!("{shoulda} not run command since '{rm}' does not exist"),
                        format!("skipped, since {rm} does not exist"),
                    );
                }
            }
        }
        if check {
            let mut r = not_run();
            r.insert(
                "msg".into(),
                json!("Command would have run if not in check mode"),
            );
            r.insert("rc".into(), json!(0));
            r.insert("stdout".into(), json!(""));
            r.insert("stderr".into(), json!(""));
            if creates.is_none() && removes.is_none() {
                r.insert("skipped".into(), json!(true));
            } else {
                // creates/removes are the module's check mode: it would run, a change.
                r.insert("changed".into(), json!(true));
            }
            return r;
        }
        let expand_words = argv_words
            .as_deref()
            .filter(|_| super::arg_bool(args, "expand_argument_vars", true).unwrap_or(true));
        let stdin = stdin.map(|s| {
            let mut bytes = s.into_bytes();
            if add_newline {
                bytes.push(b'\n');
            }
            bytes
        });
        let ShellRun {
            out,
            start: now,
            end,
            skew,
        } = match run_script(
            ctx,
            &script,
            expand_words,
            shell_name,
            bash,
            chdir.as_deref(),
            stdin,
        ) {
            Ok(run) => run,
            Err(r) => return r,
        };
        // The command module execs its argv without a shell: a program that is not there
        // is Popen's FileNotFoundError, which run_command reports as its own failure.
        if let (false, 127, Some(program)) = (
            self.shell,
            out.rc,
            argv_words.as_ref().and_then(|w| w.first()),
        ) {
            if out.stderr_str() == format!("sh: 1: {program}: not found\n") {
                return exec_failure(
                    &format!("[Errno 2] No such file or directory: b'{program}'"),
                    argv_words.as_deref().unwrap_or_default(),
                );
            }
        }
        let mut stdout = out.stdout_str();
        let mut stderr = out.stderr_str();
        if strip {
            stdout = stdout.trim_end_matches(['\n', '\r']).to_string();
            stderr = stderr.trim_end_matches(['\n', '\r']).to_string();
        }
        let mut r = super::ok(true);
        r.insert("cmd".into(), cmd_value);
        r.insert("rc".into(), json!(out.rc));
        r.insert("start".into(), json!(fmt_time(now + skew)));
        r.insert("end".into(), json!(fmt_time(end + skew)));
        r.insert("delta".into(), json!(fmt_delta(end - now)));
        r.insert("stdout_lines".into(), lines(&stdout));
        r.insert("stderr_lines".into(), lines(&stderr));
        r.insert("stdout".into(), json!(stdout));
        r.insert("stderr".into(), json!(stderr));
        if out.rc != 0 {
            r.insert("failed".into(), json!(true));
            r.insert("msg".into(), json!("non-zero return code"));
        } else {
            r.insert("msg".into(), json!(""));
        }
        r
    }
}

/// run_command's failure when the program cannot be executed: `Error executing command.`,
/// rc the errno, the command line as `_clean_args` joins it, and the OSError in the error line.
fn exec_failure(os_error: &str, argv: &[String]) -> ModuleResult {
    let mut r = super::fail("Error executing command.");
    r.insert(
        "_ansible_error_detail".into(),
        json!(format!("Error executing command: {os_error}")),
    );
    let joined: Vec<String> = argv.iter().map(|w| sh_quote(w)).collect();
    r.insert("cmd".into(), json!(joined.join(" ")));
    r.insert("rc".into(), json!(2));
    for key in ["stdout", "stderr"] {
        r.insert(key.into(), json!(""));
        r.insert(format!("{key}_lines"), json!([]));
    }
    r
}

/// A script's run in the target's in-process shell: its output and the virtual times it
/// started and ended (the target's clock skew apart).
pub(super) struct ShellRun {
    pub out: shell::ShellOutput,
    pub start: f64,
    pub end: f64,
    /// The target's clock offset (a clock_skew fault): what its `date` adds to the run's time.
    pub skew: f64,
}

/// Runs `script` with `shell_name` (bash features when `bash`) in the target host's
/// in-process shell, with the task's environment, the fleet's `curl`/`systemctl` and the
/// OS's package and account commands, in `chdir`, fed `stdin`; advances the clock by what
/// it took. Shared by `command`/`shell` and `raw`.
///
/// `expand_words`: the command's argv when `expand_argument_vars` applies (run_command's
/// expand_user_and_vars): each word through os.path.expandvars and expanduser in the
/// module's environment, quoted again, becomes the command line.
pub(super) fn run_script(
    ctx: &mut ModuleCtx<'_>,
    script: &str,
    expand_words: Option<&[String]>,
    shell_name: String,
    bash: bool,
    chdir: Option<&str>,
    stdin: Option<Vec<u8>>,
) -> Result<ShellRun, ModuleResult> {
    let environment = ctx.environment.clone();
    let nofile = ctx.nofile;
    let now = ctx.world.clock.now();
    let seed = ctx.world.seed;
    let fleet = ctx.world.fleet.clone();
    // The target's own clock: a clock_skew fault moves what `date` and the result's
    // start/end say there, not the run's time.
    let target = ctx.target.clone();
    let skew = ctx
        .world
        .with_fleet(|f| f.host_faults(&target).clock_offset)
        .unwrap_or(0.0);
    let host = ctx.target_host()?;
    let mut sc = ShellContext::new(
        host.fs.clone(),
        seed ^ fleetsim_sim::rng::fnv1a(host.name.as_bytes()) ^ host.rng.next_u64(),
    );
    sc.now = now;
    sc.clock_offset = skew;
    if let Some(soft) = nofile {
        let hard = sc.nofile.1;
        sc.nofile = (soft.min(hard), hard);
    }
    sc.hostname = host.name.clone();
    // The task's `environment:` on top of the host's (Ansible prefixes the module's
    // command line with it, and the command inherits the module's environment).
    sc.env.extend(environment);
    let expanded = expand_words.map(|words| {
        words
            .iter()
            .map(|w| sh_quote(&expand_user(&expand_vars(w, &sc.env), &sc.env)))
            .collect::<Vec<_>>()
            .join(" ")
    });
    let script = expanded.as_deref().unwrap_or(script);
    // `curl` and `systemctl` reach the fleet's services, when the run has a fleet.
    if let Some(f) = fleet {
        sc.external = Some(Box::new(FleetCommands::new(SharedFleet(f))));
    }
    // apt-get, dnf, dpkg, rpm, useradd, getent, crontab and the OS's own systemd units
    // act on the simulated OS, in front of the fleet's commands.
    if let Ok(distro) = host.distro() {
        let inner = sc.external.take();
        sc.external = Some(Box::new(fleetsim_sim::os::commands::OsCommands::new(
            distro, inner,
        )));
    }
    sc.shell_name = shell_name;
    sc.bash = bash;
    if let Some(dir) = chdir {
        if let Err(e) = sc.chdir(dir) {
            let mut r = super::fail(&format!("Unable to change directory before execution: {e}"));
            r.insert("rc".into(), json!(None::<i32>));
            return Err(r);
        }
    }
    if let Some(s) = stdin {
        sc.stdin = s;
    }
    let out = shell::run(script, &mut sc);
    let end = sc.now + COMMAND_COST_SECONDS;
    host.fs = sc.sandbox;
    ctx.world.clock.advance_to(end);
    Ok(ShellRun {
        out,
        start: now,
        end,
        skew,
    })
}

/// Runs a module's `validate` command (`visudo -cf %s`) on the host against `data`, written
/// to a temporary file first, as `module.run_command(validate % tmpfile)` does: the command
/// is split as shlex splits it and run without a shell's expansions.
pub(super) fn validate_with(
    host: &mut fleetsim_sim::host::Host,
    now: f64,
    validate: &str,
    data: &[u8],
) -> Result<shell::ShellOutput, ModuleResult> {
    let tmp = format!("/tmp/.ansible-validate-{}.tmp", super::SIMULATED_PID);
    host.fs
        .write(&tmp, data, fleetsim_sim::fs::WriteMode::Truncate)
        .map_err(|e| {
            super::fail(&format!(
                "could not write a temporary file to validate: {e}"
            ))
        })?;
    let cmd = validate.replacen("%s", &tmp, 1);
    let words =
        crate::inventory::pyliteral::shlex_split_opts(&cmd, false).map_err(|e| super::fail(&e))?;
    let script = words
        .iter()
        .map(|w| sh_quote(w))
        .collect::<Vec<_>>()
        .join(" ");
    let mut sc = ShellContext::new(
        host.fs.clone(),
        fleetsim_sim::rng::fnv1a(host.name.as_bytes()),
    );
    sc.now = now;
    sc.hostname = host.name.clone();
    let out = shell::run(&script, &mut sc);
    host.fs = sc.sandbox;
    let _ = host.fs.remove_file(&tmp);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deltas_and_quotes() {
        assert_eq!(fmt_delta(2.004), "0:00:02.004000");
        assert_eq!(sh_quote("a b"), "'a b'");
        assert_eq!(sh_quote("|"), "'|'");
        assert_eq!(sh_quote("plain/path.txt"), "plain/path.txt");
    }

    #[test]
    fn creates_and_removes_glob_as_python_glob_does() {
        let dir = tempfile::tempdir().unwrap();
        let mut fs = fleetsim_sim::fs::Sandbox::new(dir.path(), "h").unwrap();
        fs.mkdir("/w/sub", true).unwrap();
        let w = fleetsim_sim::fs::WriteMode::Truncate;
        fs.write("/w/afile.txt", b"x", w).unwrap();
        fs.write("/w/.hidden", b"x", w).unwrap();
        fs.symlink("/nowhere", "/w/dead").unwrap();
        assert!(glob_matches(&fs, "/w/afile.*"));
        assert!(glob_matches(&fs, "/w/*/"));
        assert!(!glob_matches(&fs, "/w/afile*/"));
        assert!(glob_matches(&fs, "/w/a?ile.txt"));
        assert!(!glob_matches(&fs, "/w/b*"));
        assert!(!glob_matches(&fs, "/w/*hidden"));
        assert!(glob_matches(&fs, "/w/.h*"));
        assert!(glob_matches(&fs, "/w/dead"));
        assert!(!glob_matches(&fs, "/w/afile.txt/x"));
    }

    #[test]
    fn words_expand_as_python_expandvars_and_expanduser() {
        let env: indexmap::IndexMap<String, String> = [("HOME", "/root"), ("V", "x y")]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        assert_eq!(expand_vars("$V", &env), "x y");
        assert_eq!(expand_vars("a${V}b", &env), "ax yb");
        assert_eq!(expand_vars("$UNSET/$V", &env), "$UNSET/x y");
        assert_eq!(expand_vars("${V", &env), "${V");
        assert_eq!(expand_vars("cost $5", &env), "cost $5");
        assert_eq!(expand_user("~/f", &env), "/root/f");
        assert_eq!(expand_user("~", &env), "/root");
        assert_eq!(expand_user("~bob/f", &env), "~bob/f");
        assert_eq!(expand_user("a~", &env), "a~");
    }
}
