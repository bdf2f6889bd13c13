//! Snapshots (insta) of the seed lab's full `fleetsim playbook` output: the three playbooks
//! as written, which fail as they fail under real Ansible (exit 2, 2, 4), and the corrected
//! load-balancer rollout (exit 0); plus the virtual clock: three `pause: 10` advance it by
//! more than 30 s.

mod support;

use std::fs;
use std::path::{Path, PathBuf};

use regex::Regex;
use support::{fleetsim, Run, START};

const LIMIT: &str = "web_servers_prod[0:1],api_servers_prod[0]";

/// A temporary copy of `scenarios/lab-8.2`, so the printed paths are temp paths that
/// `scrub` can hide whatever the checkout's location.
struct LabCopy {
    _tmp: tempfile::TempDir,
    dir: PathBuf,
}

fn copy_dir(src: &Path, dst: &Path) {
    fs::create_dir_all(dst).unwrap();
    for e in fs::read_dir(src).unwrap() {
        let e = e.unwrap();
        let to = dst.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &to);
        } else {
            fs::copy(e.path(), to).unwrap();
        }
    }
}

fn lab() -> LabCopy {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("lab-8.2");
    copy_dir(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/lab-8.2"),
        &dir,
    );
    LabCopy { _tmp: tmp, dir }
}

impl LabCopy {
    fn run(&self, playbook: &str, extra: &[&str]) -> Run {
        let sandbox = self.dir.join("sandbox");
        let mut args = vec![
            "playbook",
            "-i",
            "inventory.ini",
            playbook,
            "--sandbox",
            sandbox.to_str().unwrap(),
            "--seed",
            "11",
            "--start-time",
            START,
        ];
        args.extend_from_slice(extra);
        fleetsim(&self.dir, &args, &[])
    }

    /// Output with the copy's temporary path replaced by `[LAB]`. (insta's own `filters`
    /// need a crate feature the workspace does not enable, so the filter is applied here.)
    fn scrub(&self, text: &str) -> String {
        let re = Regex::new(&regex::escape(self.dir.to_str().unwrap())).unwrap();
        re.replace_all(text, "[LAB]").into_owned()
    }
}

#[test]
fn as_written_lb_orchestration_fails_on_missing_directory() {
    let lab = lab();
    let run = lab.run(
        "playbooks/as-written/lb-orchestration.yml",
        &["--limit", LIMIT],
    );
    run.expect_code(2);
    assert!(run
        .stdout
        .contains("Destination directory /tmp/lb-lb-prod-01/draining does not exist"));
    insta::assert_snapshot!("as_written_lb", lab.scrub(&run.stdout));
}

#[test]
fn as_written_db_coordination_fails_on_missing_directories() {
    let lab = lab();
    let run = lab.run("playbooks/as-written/db-coordination.yml", &[]);
    run.expect_code(2);
    insta::assert_snapshot!("as_written_db", lab.scrub(&run.stdout));
}

#[test]
fn as_written_multi_env_does_not_load() {
    let lab = lab();
    let run = lab.run("playbooks/as-written/multi-env-orchestration.yml", &[]);
    run.expect_code(4);
    // Nothing ran: the error is all there is, wherever the binary prints it.
    let both = format!(
        "--- stdout\n{}--- stderr\n{}",
        lab.scrub(&run.stdout),
        lab.scrub(&run.stderr)
    );
    assert!(both.contains("'copy' is not a valid attribute for a Play"));
    assert!(!both.contains("PLAY RECAP"));
    insta::assert_snapshot!("as_written_multi_env", both);
}

#[test]
fn corrected_lb_orchestration_runs_clean() {
    let lab = lab();
    let run = lab.run(
        "playbooks/corrected/lb-orchestration.yml",
        &["--limit", LIMIT],
    );
    run.expect_code(0);
    assert!(run
        .stderr
        .contains("fleetsim: seed 11, start time 2026-11-26T06:00:00Z"));
    insta::assert_snapshot!("corrected_lb", lab.scrub(&run.stdout));
}

/// Seconds since midnight of an `HH:MM:SS` found in `text` after `prefix`.
fn clock(text: &str, prefix: &str) -> u32 {
    let re = Regex::new(&format!(
        r"{}\d{{4}}-\d\d-\d\dT(\d\d):(\d\d):(\d\d)Z",
        regex::escape(prefix)
    ))
    .unwrap();
    let c = re
        .captures(text)
        .unwrap_or_else(|| panic!("no {prefix}<time> in {text:?}"));
    let n = |i: usize| c[i].parse::<u32>().unwrap();
    n(1) * 3600 + n(2) * 60 + n(3)
}

#[test]
fn corrected_lb_orchestration_pauses_on_the_virtual_clock() {
    let lab = lab();
    // A second playbook in the same run reads the clock once the rollout is over.
    fs::write(
        lab.dir.join("end.yml"),
        "- hosts: web_servers_prod[0]\n  gather_facts: false\n  tasks:\n    - shell: date -u +%Y-%m-%dT%H:%M:%SZ > /tmp/end-time\n",
    )
    .unwrap();
    let run = lab.run(
        "playbooks/corrected/lb-orchestration.yml",
        &["end.yml", "--limit", LIMIT],
    );
    run.expect_code(0);
    assert_eq!(run.stdout.matches("Pausing for 10 seconds").count(), 3);
    let sandbox = lab.dir.join("sandbox/hosts");
    let end = fs::read_to_string(sandbox.join("web-prod-01/tmp/end-time")).unwrap();
    let end = clock(&end, "");
    let start = clock(START, "");
    assert!(end - start > 30, "virtual clock moved {} s", end - start);
    // The deployment logs on the controller show each serial batch starting after the
    // previous batch's pause: batch 2 and 3 start more than 10 and 20 s in.
    let logs = sandbox.join("controller-01/tmp/lb-orchestration/deployments");
    let mut starts: Vec<u32> = fs::read_dir(&logs)
        .unwrap()
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().ends_with(".log"))
        .map(|e| fs::read_to_string(e.path()).unwrap())
        .flat_map(|t| {
            t.lines()
                .filter(|l| l.contains("Starting deployment"))
                .map(|l| clock(l, ""))
                .collect::<Vec<_>>()
        })
        .collect();
    starts.sort();
    assert_eq!(starts.len(), 3);
    assert!(
        starts[1] - starts[0] > 10 && starts[2] - starts[1] > 10,
        "{starts:?}"
    );
}

#[test]
fn three_ten_second_pauses_advance_the_clock_by_thirty_seconds() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("inv"), "h1\n").unwrap();
    let mut play = String::from(
        "- hosts: h1\n  gather_facts: false\n  tasks:\n    - shell: date -u +%s > /tmp/t0\n",
    );
    for _ in 0..3 {
        play.push_str("    - pause: {seconds: 10}\n");
    }
    play.push_str("    - shell: date -u +%s > /tmp/t1\n");
    fs::write(dir.path().join("p.yml"), play).unwrap();
    let sandbox = dir.path().join("sandbox");
    let run = fleetsim(
        dir.path(),
        &[
            "playbook",
            "-i",
            "inv",
            "p.yml",
            "--sandbox",
            sandbox.to_str().unwrap(),
            "--start-time",
            START,
        ],
        &[],
    );
    run.expect_code(0);
    let read = |f: &str| -> i64 {
        fs::read_to_string(sandbox.join("hosts/h1/tmp").join(f))
            .unwrap()
            .trim()
            .parse()
            .unwrap()
    };
    // 2026-11-26T06:00:00Z as a Unix time.
    let start = 1_795_672_800;
    let (t0, t1) = (read("t0"), read("t1"));
    assert!((start..start + 5).contains(&t0), "first date {t0}");
    // Three pauses plus four tasks' 0.2 s each: between 30 and a few seconds more.
    assert!((30..35).contains(&(t1 - t0)), "clock moved {} s", t1 - t0);
}

/// `ANSIBLE_FORCE_HANDLERS=true` is the default of `--force-handlers` (DEFAULT_FORCE_HANDLERS):
/// the run is the one the flag gives, and the setting is not reported as ignored.
#[test]
fn ansible_force_handlers_in_the_environment_acts_as_the_flag() {
    let case =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/conformance/cases/handler-force-flag");
    let run = |extra: &[&str], envs: &[(&str, &str)]| {
        let tmp = tempfile::tempdir().unwrap();
        let sandbox = tmp.path().join("sandbox");
        let mut args = vec![
            "playbook",
            "-i",
            "inventory.ini",
            "site.yml",
            "--sandbox",
            sandbox.to_str().unwrap(),
            "--seed",
            "1",
            "--start-time",
            START,
        ];
        args.extend_from_slice(extra);
        fleetsim(&case, &args, envs)
    };
    let by_flag = run(&["--force-handlers"], &[]);
    by_flag.expect_code(2);
    let by_env = run(&[], &[("ANSIBLE_FORCE_HANDLERS", "true")]);
    by_env.expect_code(2);
    assert_eq!(by_env.stdout, by_flag.stdout);
    assert!(by_env.stdout.contains("app2 handler on app2"));
    assert!(
        !by_env.stderr.contains("ANSIBLE_FORCE_HANDLERS"),
        "{}",
        by_env.stderr
    );
    let plain = run(&[], &[]);
    assert!(!plain.stdout.contains("app2 handler on app2"));
}

/// `--version` names the ansible-core release fleetsim mimics, in the first line scripts
/// grep for (`ansible-playbook [core X.Y.Z]`), and needs no playbook.
#[test]
fn version_names_the_mimicked_ansible_core_release() {
    let tmp = tempfile::tempdir().unwrap();
    let run = fleetsim(tmp.path(), &["playbook", "--version"], &[]);
    run.expect_code(0);
    let first = run.stdout.lines().next().unwrap_or_default();
    assert!(
        first.starts_with("ansible-playbook [core 2.19.14]"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("\n  config file = None\n"));
    let top = fleetsim(tmp.path(), &["--version"], &[]);
    top.expect_code(0);
    assert!(
        top.stdout.contains("(ansible-core 2.19.14)"),
        "{}",
        top.stdout
    );
}
