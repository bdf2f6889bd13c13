//! Shell tests: dash-recorded expectations for every construct, the seed lab's tasks, sandbox
//! escape attempts, budget limits, determinism, and never-panic property tests.

mod dash_cases;
mod escape;
mod props;

use super::*;
use crate::fs::Sandbox;

/// A fresh host `h` in a temp dir, cwd `/work` (an empty directory, like the temp dir the
/// dash expectations were recorded in).
pub(super) struct Host {
    pub tmp: tempfile::TempDir,
    pub ctx: ShellContext,
}

pub(super) fn host(name: &str) -> Host {
    let tmp = tempfile::tempdir().expect("tempdir");
    let host = new_ctx(&tmp, name);
    Host { tmp, ctx: host }
}

pub(super) fn new_ctx(tmp: &tempfile::TempDir, name: &str) -> ShellContext {
    let mut sb = Sandbox::new(&tmp.path().join("sb"), name).expect("sandbox");
    sb.mkdir("/work", true).expect("mkdir");
    sb.mkdir("/root", true).expect("mkdir");
    let mut ctx = ShellContext::new(sb, 42);
    ctx.chdir("/work").expect("chdir");
    ctx
}

pub(super) fn run_in(h: &mut Host, script: &str) -> ShellOutput {
    run(script, &mut h.ctx)
}

/// Declares a test comparing our shell with what dash printed for the same script.
macro_rules! dash_case {
    ($name:ident, $script:expr, $stdout:expr, $stderr:expr, $rc:expr) => {
        #[test]
        fn $name() {
            let mut h = super::host("h");
            let out = super::run_in(&mut h, $script);
            assert_eq!(out.stdout_str(), $stdout, "stdout of:\n{}", $script);
            assert_eq!(out.stderr_str(), $stderr, "stderr of:\n{}", $script);
            assert_eq!(out.rc, $rc, "rc of:\n{}", $script);
        }
    };
}
pub(super) use dash_case;

#[test]
fn seed_lab_backup_task() {
    let mut h = host("db-primary-01");
    let script = r#"echo "Creating backup for primary database db-primary-01"
mkdir -p "/tmp/db-db-primary-01/backups"
cat > "/tmp/db-db-primary-01/backups/backup-1700000000.sql" << 'BACKUP_EOF'
-- Database Backup for db-primary-01
CREATE TABLE users (
  id SERIAL PRIMARY KEY
);
BACKUP_EOF

echo "Backup completed: $(wc -c < "/tmp/db-db-primary-01/backups/backup-1700000000.sql") bytes"
"#;
    let out = run_in(&mut h, script);
    // Recorded from dash.
    assert_eq!(
        out.stdout_str(),
        "Creating backup for primary database db-primary-01\nBackup completed: 85 bytes\n"
    );
    assert_eq!(out.stderr_str(), "");
    assert_eq!(out.rc, 0);
    let body = h
        .ctx
        .sandbox
        .read_to_string("/tmp/db-db-primary-01/backups/backup-1700000000.sql")
        .unwrap();
    assert_eq!(
        body,
        "-- Database Backup for db-primary-01\nCREATE TABLE users (\n  id SERIAL PRIMARY KEY\n);\n"
    );
    // The file is in the sandbox, nowhere else.
    assert!(h
        .tmp
        .path()
        .join("sb/hosts/db-primary-01/tmp/db-db-primary-01/backups/backup-1700000000.sql")
        .is_file());
}

#[test]
fn seed_lab_replication_lag_task() {
    let script = r#"lag_ms=$(( RANDOM % 100 + 10 ))
echo "Current replication lag: ${lag_ms}ms"
sleep 2
echo "Final lag: $(( lag_ms / 2 ))ms"
"#;
    let mut h = host("db-replica-01");
    h.ctx.now = 1_700_000_000.0;
    let out = run_in(&mut h, script);
    assert_eq!(out.rc, 0);
    assert_eq!(out.stderr_str(), "");
    let text = out.stdout_str();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2);
    let lag: i64 = lines[0]
        .strip_prefix("Current replication lag: ")
        .and_then(|s| s.strip_suffix("ms"))
        .unwrap()
        .parse()
        .unwrap();
    assert!((10..110).contains(&lag));
    assert_eq!(lines[1], format!("Final lag: {}ms", lag / 2));
    // sleep advanced the virtual clock by exactly 2 s, and took no real time.
    assert_eq!(h.ctx.now, 1_700_000_002.0);
    // Same seed, same bytes.
    let mut h2 = host("db-replica-01");
    h2.ctx.now = 1_700_000_000.0;
    assert_eq!(run_in(&mut h2, script), out);
    // Another seed draws another value eventually.
    let mut values = std::collections::BTreeSet::new();
    for seed in 0..8 {
        let mut h3 = host("db-replica-01");
        h3.ctx.rng = rand::SeedableRng::seed_from_u64(seed);
        values.insert(run_in(&mut h3, script).stdout);
    }
    assert!(values.len() > 1);
}

#[test]
fn random_is_in_range_and_seeded() {
    let mut h = host("h");
    let out = run_in(&mut h, "for i in 1 2 3 4 5; do echo $RANDOM; done");
    let nums: Vec<u32> = out
        .stdout_str()
        .lines()
        .map(|l| l.parse().unwrap())
        .collect();
    assert_eq!(nums.len(), 5);
    assert!(nums.iter().all(|n| *n < 32768));
    let mut h2 = host("h");
    assert_eq!(
        run_in(&mut h2, "for i in 1 2 3 4 5; do echo $RANDOM; done"),
        out
    );
}

#[test]
fn date_reads_and_sleep_advances_virtual_clock() {
    let mut h = host("h");
    h.ctx.now = 1_700_000_000.0;
    let out = run_in(&mut h, "date +%s; sleep 1.5; sleep 1m; date -u +%T; date");
    assert_eq!(
        out.stdout_str(),
        "1700000000\n22:14:21\nTue Nov 14 22:14:21 UTC 2023\n"
    );
    assert_eq!(h.ctx.now, 1_700_000_061.5);
}

#[test]
fn a_skewed_clock_moves_date_not_time() {
    let mut h = host("h");
    h.ctx.now = 1_700_000_000.0;
    h.ctx.clock_offset = -3600.0;
    let out = run_in(&mut h, "date +%s; sleep 2; date +%s");
    assert_eq!(out.stdout_str(), "1699996400\n1699996402\n");
    assert_eq!(h.ctx.now, 1_700_000_002.0);
}

#[test]
fn infinite_loops_end_on_the_budget() {
    let mut h = host("h");
    h.ctx.budget = 10_000;
    let out = run_in(&mut h, "echo start; while true; do :; done; echo never");
    assert_eq!(out.rc, BUDGET_EXIT);
    assert!(out.budget_exhausted);
    assert_eq!(out.stdout_str(), "start\n");
    assert_eq!(
        out.stderr_str(),
        "sh: 1: fleetsim: step budget of 10000 exhausted\n"
    );
    let out = run_in(&mut h, "f() { f; }; f");
    assert_eq!(out.rc, BUDGET_EXIT);
    assert!(out.stderr_str().contains("function nesting"));
    let out = run_in(&mut h, "until false; do echo y; done | head -n 1");
    assert!(out.budget_exhausted);
    h.ctx.budget = 1_000_000;
    h.ctx.max_output = 1000;
    let out = run_in(&mut h, "while :; do echo xxxxxxxxxx; done");
    assert!(out.budget_exhausted);
    assert!(out.stderr_str().contains("output cap"));
    let out = run_in(&mut h, "sleep infinity");
    assert!(out.budget_exhausted);
}

#[test]
fn yes_is_bounded_in_pipelines() {
    let mut h = host("h");
    let out = run_in(&mut h, "yes | head -n 2; yes abc | wc -l");
    assert_eq!(out.stdout_str(), "y\ny\n262144\n");
}

#[test]
fn env_cwd_not_changed_by_run_and_stdin_consumed() {
    let mut h = host("h");
    h.ctx.stdin = b"line1\nline2\n".to_vec();
    let out = run_in(&mut h, "read a; cd /; X=1; export Y=2; cat; pwd");
    assert_eq!(out.stdout_str(), "line2\n/\n");
    assert_eq!(h.ctx.cwd, "/work");
    assert!(!h.ctx.env.contains_key("Y"));
    assert!(h.ctx.stdin.is_empty());
}

#[test]
fn user_is_configurable() {
    let mut h = host("h");
    h.ctx.set_user(User {
        name: "deploy".into(),
        uid: 1001,
        group: "deploy".into(),
        gid: 1001,
        home: "/home/deploy".into(),
    });
    let out = run_in(
        &mut h,
        "whoami; id; id -u; echo ~; echo $USER; touch /etc-file",
    );
    assert_eq!(
        out.stdout_str(),
        "deploy\nuid=1001(deploy) gid=1001(deploy) groups=1001(deploy)\n1001\n/home/deploy\ndeploy\n"
    );
    assert_eq!(
        out.stderr_str(),
        "touch: cannot touch '/etc-file': Permission denied\n"
    );
    assert_eq!(out.rc, 1);
}

#[test]
fn hostname_and_uname() {
    let mut h = host("web-01");
    let out = run_in(&mut h, "hostname; uname -n; uname");
    assert_eq!(out.stdout_str(), "web-01\nweb-01\nLinux\n");
}

struct FakeSystemctl;

impl ExternalCommands for FakeSystemctl {
    fn call(
        &mut self,
        argv: &[String],
        stdin: &[u8],
        host: &mut HostView<'_>,
    ) -> Option<ShellOutput> {
        match argv[0].as_str() {
            "systemctl" => {
                *host.now += 0.5;
                let body = format!(
                    "{} on {} stdin={}\n",
                    argv[1..].join(" "),
                    host.hostname,
                    stdin.len()
                );
                Some(ShellOutput::new(0, body, ""))
            }
            "cat" if argv.get(1).map(String::as_str) == Some("/override") => {
                Some(ShellOutput::new(3, "", "overridden\n"))
            }
            _ => None,
        }
    }
}

#[test]
fn external_hook_adds_commands_and_may_override_utilities() {
    let mut h = host("app1");
    h.ctx.external = Some(Box::new(FakeSystemctl));
    let out = run_in(
        &mut h,
        "systemctl restart nginx; echo abc | systemctl status x; cat /override; echo rc=$?; echo ok | cat",
    );
    assert_eq!(
        out.stdout_str(),
        "restart nginx on app1 stdin=0\nstatus x on app1 stdin=4\nrc=3\nok\n"
    );
    assert_eq!(out.stderr_str(), "overridden\n");
    assert_eq!(h.ctx.now, 1.0);
}

#[test]
fn shell_name_prefixes_errors() {
    let mut h = host("h");
    h.ctx.shell_name = "/bin/sh".into();
    let out = run_in(&mut h, "nope");
    assert_eq!(out.stderr_str(), "/bin/sh: 1: nope: not found\n");
}

#[test]
fn scripts_in_the_sandbox_run_as_child_shells() {
    let mut h = host("h");
    let out = run_in(
        &mut h,
        "printf '#!/bin/sh\\necho \"script $1\"\\nexit 3\\n' > s.sh; ./s.sh a; echo rc=$?; chmod +x s.sh; ./s.sh b; echo rc=$?; sh s.sh c; /bin/echo via-path; printf '#!/usr/bin/python3\\n' > p.py; chmod +x p.py; ./p.py",
    );
    assert_eq!(
        out.stdout_str(),
        "rc=126\nscript b\nrc=3\nscript c\nvia-path\n"
    );
    assert_eq!(
        out.stderr_str(),
        "sh: 1: ./s.sh: Permission denied\nsh: 1: ./p.py: not found\n"
    );
}

#[test]
fn ls_long_format() {
    let mut h = host("h");
    h.ctx.now = 1_700_000_000.0;
    let out = run_in(
        &mut h,
        "mkdir d; printf 'hello' > d/f; ln -s f d/l; chmod 600 d/f; ls -l d; ls -a d; ls -1 d",
    );
    assert_eq!(
        out.stdout_str(),
        "total 4\n-rw------- 1 root root 5 Nov 14 22:13 f\nlrwxrwxrwx 1 root root 1 Nov 14 22:13 l -> f\n.\n..\nf\nl\nf\nl\n"
    );
}

#[test]
fn mtime_from_virtual_clock() {
    let mut h = host("h");
    h.ctx.now = 1_000.0;
    run_in(&mut h, "echo a > f; sleep 5; echo b > g");
    assert_eq!(h.ctx.sandbox.stat("/work/f").unwrap().mtime, 1_000.0);
    assert_eq!(h.ctx.sandbox.stat("/work/g").unwrap().mtime, 1_005.0);
    let out = run_in(&mut h, "stat -c %Y f g; [ g -nt f ] && echo newer");
    assert_eq!(out.stdout_str(), "1000\n1005\nnewer\n");
}

#[test]
fn faults_surface_as_real_messages() {
    let mut h = host("h");
    h.ctx.sandbox.set_read_only(true);
    let out = run_in(&mut h, "echo x > f; touch g; mkdir d");
    assert_eq!(
        out.stderr_str(),
        "sh: 1: cannot create f: Read-only file system\ntouch: cannot touch 'g': Read-only file system\nmkdir: cannot create directory ‘d’: Read-only file system\n"
    );
    h.ctx.sandbox.set_read_only(false);
    h.ctx.sandbox.set_disk_full(true);
    let out = run_in(
        &mut h,
        "echo data > f; echo rc=$?; printf x >> f; seq 3 > f; cat f | wc -c",
    );
    assert_eq!(out.stdout_str(), "rc=1\n0\n");
    assert_eq!(
        out.stderr_str(),
        "sh: 1: echo: echo: I/O error\nsh: 1: printf: printf: I/O error\nseq: write error: No space left on device\n"
    );
}

#[test]
fn default_budget_ends_an_endless_loop_quickly() {
    let mut h = host("h");
    let start = std::time::Instant::now();
    let out = run_in(&mut h, "i=0; while true; do i=$((i+1)); done");
    assert!(out.budget_exhausted);
    // Generous bound for a debug build on a shared 2-core machine.
    assert!(start.elapsed().as_secs() < 30, "{:?}", start.elapsed());
}

#[test]
fn context_is_send_and_huge_widths_are_clamped() {
    fn assert_send<T: Send>() {}
    assert_send::<ShellContext>();
    let mut h = host("h");
    let out = run_in(&mut h, "printf '%999999999s|%.999999999d' x 1 | wc -c");
    assert_eq!(out.stdout_str(), "131073\n");
}

/// Runs `script` as `/bin/bash -c` does (the shell module with `executable: /bin/bash`).
fn run_as_bash(script: &str) -> ShellOutput {
    let mut h = host("h");
    h.ctx.bash = true;
    h.ctx.shell_name = "/bin/bash".into();
    run_in(&mut h, script)
}

// Expectations recorded with GNU bash 5.2.15 (`/bin/bash -c SCRIPT`) and dash 0.5.12.

#[test]
fn bash_pipefail_takes_the_last_failing_stage() {
    let out = run_as_bash(
        "set -o pipefail; false | true; echo $?; true | (exit 3) | true; echo $?; false | (exit 4) | true; echo $?",
    );
    assert_eq!((out.stdout_str().as_str(), out.rc), ("1\n3\n4\n", 0));
    let out = run_as_bash(
        "false | true; echo $?; set -o pipefail; set +o pipefail; false | true; echo $?",
    );
    assert_eq!(out.stdout_str(), "0\n0\n");
}

#[test]
fn pipefail_is_bash_only_and_not_inherited_by_a_child_shell() {
    let out = run_as_bash(
        "set -o pipefail; (false | true; echo in $?); sh -c 'set -o pipefail'; echo $?",
    );
    assert_eq!(out.stdout_str(), "in 1\n2\n");
    assert_eq!(out.stderr_str(), "sh: 1: set: Illegal option -o pipefail\n");
    let mut h = host("h");
    let out = run_in(
        &mut h,
        "bash -c 'set -o pipefail; false | cat; echo $?'; set -o pipefail",
    );
    assert_eq!(out.stdout_str(), "1\n");
    assert_eq!(out.stderr_str(), "sh: 1: set: Illegal option -o pipefail\n");
    assert_eq!(out.rc, 2);
}

#[test]
fn bash_words_its_errors_as_bash() {
    let out = run_as_bash("echo\nnosuch; /x/y; echo $0");
    assert_eq!(out.stdout_str(), "\n/bin/bash\n");
    assert_eq!(
        out.stderr_str(),
        "/bin/bash: line 2: nosuch: command not found\n/bin/bash: line 2: /x/y: No such file or directory\n"
    );
}

#[test]
fn printenv_prints_the_exported_environment() {
    let mut h = host("h");
    h.ctx.env.insert("STAGE".into(), "prod".into());
    let out = run_in(
        &mut h,
        "export A=1; B=2; printenv A STAGE; printenv B; echo $?; printenv NOPE A; echo $?; printenv | grep -c '^STAGE=prod$'; C=3 printenv C",
    );
    assert_eq!(out.stdout_str(), "1\nprod\n1\n1\n1\n1\n3\n");
    assert_eq!(out.rc, 0);
}

/// `ulimit -n` reads and sets the simulated open-files limit (soft by default, both when
/// set without -S/-H), a subshell's change stays in it, and resources fleetsim does not
/// model are refused by name.
#[test]
fn ulimit_open_files() {
    let mut h = host("h");
    let out = run_in(
        &mut h,
        "ulimit -n; ulimit -Hn; (ulimit -n 64; ulimit -n); ulimit -Sn 100; ulimit -n; ulimit -Hn; ulimit -Sn 600000; echo $?; ulimit; ulimit -c",
    );
    assert_eq!(
        out.stdout_str(),
        "1024\n524288\n64\n100\n524288\n2\nunlimited\n"
    );
    assert_eq!(
        out.stderr_str(),
        "sh: 1: ulimit: error setting limit (Invalid argument)\nsh: 1: ulimit: fleetsim simulates only -n and -f, not -c\n"
    );
    assert_eq!(out.rc, 2);
}
