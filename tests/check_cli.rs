//! `fleetsim check` through the binary: its exit statuses for bad options (5), a bad space
//! file (4, with file:line:col), a playbook that does not load (4); on the lab, a
//! counterexample (10) whose replay reproduces the fleet report byte for byte, and results
//! that do not depend on `--jobs`.

use std::path::Path;
use std::process::{Command, Output};

const INVENTORY: &str =
    "[web]\nweb-01 web_port=8080\nweb-02 web_port=8081\n[lb]\nlb-01 lb_port=80\n";
const FLEET: &str =
    "apps:\n  - hosts: web\n    port_var: web_port\n    config: /tmp/app-{host}/config.toml\n";
const PLAYBOOK: &str = "- hosts: web\n  gather_facts: false\n  serial: 1\n  tasks:\n    - name: Deploy\n      debug: msg=x\n";

fn scenario() -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    std::fs::write(d.path().join("inventory.ini"), INVENTORY).unwrap();
    std::fs::write(d.path().join("fleet.yml"), FLEET).unwrap();
    std::fs::write(d.path().join("deploy.yml"), PLAYBOOK).unwrap();
    d
}

fn check(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_fleetsim"))
        .args(["check", ".", "--playbook", "deploy.yml", "--seed", "3"])
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn bad_options_exit_5() {
    let d = scenario();
    for args in [
        &["--shard", "0/2"][..],
        &["--shard", "two"],
        &["--jobs", "0"],
        &["--cases", "-3"],
        &["--no-such-option"],
        &["--start-time", "soon"],
        &["-l", "lb-01"],
    ] {
        let out = check(d.path(), args);
        assert_eq!(
            out.status.code(),
            Some(5),
            "{args:?}: {}",
            text(&out.stderr)
        );
    }
    let out = check(d.path(), &["--shard", "3/2"]);
    assert!(
        text(&out.stderr).contains("--shard takes I/N with 1 <= I <= N (such as 2/4), not '3/2'"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn a_missing_fleet_model_is_named() {
    let d = scenario();
    std::fs::remove_file(d.path().join("fleet.yml")).unwrap();
    let out = check(d.path(), &[]);
    assert_eq!(out.status.code(), Some(5));
    assert!(
        text(&out.stderr)
            .contains("[ERROR]: no fleet model: ./fleet.yml (write one, or give --fleet FILE)"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn a_bad_space_file_exits_4_naming_file_line_and_column() {
    let d = scenario();
    std::fs::write(
        d.path().join("space.yml"),
        "max_faults: 2\nkinds:\n  slow_restart:\n    weight: 2\n    sekonds: [1, 5]\n",
    )
    .unwrap();
    let out = check(d.path(), &[]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(4), "{stderr}");
    assert!(
        stderr.starts_with(
            "[ERROR]: ./space.yml:5:5: invalid fault space: unknown field `sekonds`, expected one of"
        ),
        "{stderr}"
    );
    assert!(
        stderr.contains("5     sekonds: [1, 5]\n      ^ column 5"),
        "{stderr}"
    );
    // --space names another file; the same rules apply.
    std::fs::write(
        d.path().join("other.yml"),
        "kinds:\n  unhealthy: {status: 42}\n",
    )
    .unwrap();
    let out = check(d.path(), &["--space", "other.yml"]);
    assert_eq!(out.status.code(), Some(4));
    assert!(
        text(&out.stderr).starts_with(
            "[ERROR]: other.yml:2:23: invalid fault space: 42 is not an HTTP status (100 to 599)"
        ),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn a_playbook_that_does_not_load_exits_4() {
    let d = scenario();
    std::fs::write(d.path().join("deploy.yml"), "- hosts: web\n  copy: {}\n").unwrap();
    let out = check(d.path(), &[]);
    assert_eq!(out.status.code(), Some(4), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("'copy' is not a valid attribute for a Play"));
}

/// The lab's corrected rollout breaks an invariant; check finds it, shrinks it, and its
/// replay command reproduces the minimal run's fleet report byte for byte.
#[test]
fn the_lab_counterexample_replays_byte_for_byte() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out_dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_fleetsim"))
        .args([
            "check",
            "scenarios/lab-8.2",
            "--playbook",
            "scenarios/lab-8.2/playbooks/corrected/lb-orchestration.yml",
            "--limit",
            "web_servers_prod[0:1],api_servers_prod[0]",
            "--seed",
            "1",
            "--cases",
            "5",
            "--jobs",
            "2",
            "--out",
        ])
        .arg(out_dir.path())
        .current_dir(root)
        .output()
        .unwrap();
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(10), "{stdout}{}", text(&out.stderr));
    assert!(stdout.starts_with("fleetsim check: seed 1, 5 cases, shard 1/1, 2 jobs\n"));
    assert!(stdout.contains("rollout hosts: web-prod-01, web-prod-02, api-prod-01\n"));
    // Without any fault it already breaks environment isolation: that is the baseline, and
    // the counterexample is about what a fault adds, shrunk to a single fault.
    assert!(
        stdout.contains(
            "without any fault (all rollout hosts, the scenario's fleet): environment_isolation broken\n"
        ),
        "{stdout}"
    );
    assert!(stdout.contains(" to 1 fault on 1 host "), "{stdout}");
    assert!(
        stdout.contains("found: case 0 of seed 1 broke healthy_before_readd"),
        "{stdout}"
    );
    let line = |prefix: &str| -> String {
        stdout
            .lines()
            .find_map(|l| l.strip_prefix(prefix))
            .unwrap_or_else(|| panic!("no `{prefix}` line in {stdout}"))
            .to_string()
    };
    let plan = line("counterexample: ");
    assert!(Path::new(&plan).is_file());
    let expected_report = std::fs::read_to_string(line("fleet report: ")).unwrap();
    let replay = line("replay: ");
    // Run the replay as a shell would split it (the paths here need no quoting).
    let mut words = replay.split(' ');
    assert_eq!(words.next(), Some("fleetsim"));
    let report = out_dir.path().join("replayed.json");
    let replayed = Command::new(env!("CARGO_BIN_EXE_fleetsim"))
        .args(words)
        .arg("--report")
        .arg(&report)
        .current_dir(root)
        .output()
        .unwrap();
    assert_eq!(
        replayed.status.code(),
        Some(10),
        "{}",
        text(&replayed.stderr)
    );
    assert_eq!(std::fs::read_to_string(&report).unwrap(), expected_report);
    // The failing case is saved for the next campaign.
    let saved = std::fs::read_to_string(out_dir.path().join("regressions.txt")).unwrap();
    assert!(
        saved.contains("\ncc 1 0 scenarios/lab-8.2/playbooks/corrected/lb-orchestration.yml\n"),
        "{saved}"
    );
}

/// The same seed gives the same summary whatever the number of jobs.
#[test]
fn jobs_do_not_change_the_result() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    // One output folder for both runs (its path is in the summary), emptied in between so
    // that the second run does not start with the first one's saved case.
    let out_dir = tempfile::tempdir().unwrap();
    let run = |jobs: &str| {
        let out = Command::new(env!("CARGO_BIN_EXE_fleetsim"))
            .args([
                "check",
                "scenarios/lab-8.2",
                "--playbook",
                "scenarios/lab-8.2/playbooks/corrected/lb-orchestration.yml",
                "--limit",
                "web-prod-01",
                "--seed",
                "7",
                "--cases",
                "4",
                "--jobs",
                jobs,
                "--out",
            ])
            .arg(out_dir.path())
            .current_dir(root)
            .output()
            .unwrap();
        let _ = std::fs::remove_file(out_dir.path().join("regressions.txt"));
        (
            out.status.code(),
            text(&out.stdout).replace(&format!("{jobs} jobs"), "N jobs"),
        )
    };
    assert_eq!(run("1"), run("3"));
}

/// A Ctrl-C in the middle of a campaign removes every case sandbox it made (in `--scratch`)
/// and exits 130, as a shell reports an interrupt.
#[test]
fn an_interrupt_leaves_no_sandbox_behind() {
    let d = scenario();
    let scratch = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_fleetsim"))
        .args(["check", ".", "--playbook", "deploy.yml", "--seed", "3"])
        .args(["--cases", "1000000", "--jobs", "2", "--scratch"])
        .arg(scratch.path())
        .current_dir(d.path())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // Wait until cases are running: a case sandbox exists inside the campaign's folder.
    let running = |dir: &Path| {
        std::fs::read_dir(dir).ok().is_some_and(|entries| {
            entries.flatten().any(|campaign| {
                std::fs::read_dir(campaign.path()).is_ok_and(|mut cases| cases.next().is_some())
            })
        })
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while !running(scratch.path()) {
        assert!(std::time::Instant::now() < deadline, "no case started");
        assert!(
            child.try_wait().unwrap().is_none(),
            "the campaign ended early"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let killed = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(130));
    let left: Vec<_> = std::fs::read_dir(scratch.path())
        .unwrap()
        .flatten()
        .collect();
    assert!(left.is_empty(), "left behind: {left:?}");
}
