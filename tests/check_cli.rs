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

/// A campaign run as 4 shards in separate processes, merged with `fleetsim check merge`, is
/// the unsharded campaign: the same summary, the same files byte for byte (counterexample,
/// fleet report, regressions.txt, result.json) and the same exit status. The space makes the
/// first failure case 4 of seed 1, which shard 1/4 finds while the others run past it.
#[test]
fn merged_shards_are_the_unsharded_campaign_byte_for_byte() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let scenario = root.join("scenarios/lab-8.2");
    let playbook = scenario.join("playbooks/hardened/lb-orchestration.yml");
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("space.yml"),
        "max_faults: 1\nmin_hosts: 1\ntriggers:\n  time: {weight: 1, seconds: [0, 60]}\nkinds:\n  slow_restart: {weight: 12, hosts: rollout, seconds: [0.5, 5]}\n  unreachable: {weight: 1, hosts: [lb-prod-01], for: [1, 20]}\n",
    )
    .unwrap();
    let campaign = |extra: &[&str]| {
        let mut c = Command::new(env!("CARGO_BIN_EXE_fleetsim"));
        c.arg("check")
            .arg(&scenario)
            .arg("--playbook")
            .arg(&playbook)
            .args(["--space", "space.yml", "--seed", "1", "--cases", "30"])
            .args(extra)
            .current_dir(dir.path());
        c
    };
    let whole = campaign(&["--jobs", "2", "--out", "out"]).output().unwrap();
    assert_eq!(whole.status.code(), Some(10), "{}", text(&whole.stderr));
    assert!(text(&whole.stdout).contains("found: case 4 of seed 1 broke no_failed_requests"));
    std::fs::rename(dir.path().join("out"), dir.path().join("whole")).unwrap();
    let shards: Vec<_> = (1..=4)
        .map(|i| {
            let (shard, out) = (format!("{i}/4"), format!("s{i}"));
            campaign(&["--jobs", "1", "--shard", &shard, "--out", &out])
                .stdout(std::process::Stdio::null())
                .spawn()
                .unwrap()
        })
        .collect();
    let codes: Vec<_> = shards
        .into_iter()
        .map(|mut s| s.wait().unwrap().code())
        .collect();
    // Shard 1/4 holds case 4; the others pass or fail on their own later cases.
    assert_eq!(codes[0], Some(10), "{codes:?}");
    let merged = Command::new(env!("CARGO_BIN_EXE_fleetsim"))
        .args(["check", "merge", "s3", "s1", "s4", "s2", "--out", "out"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert_eq!(merged.status.code(), Some(10), "{}", text(&merged.stderr));
    let summary = |o: &Output| {
        let t = text(&o.stdout);
        t[t.find("\n\n").expect("a summary after the header")..].to_string()
    };
    assert_eq!(summary(&merged), summary(&whole));
    assert!(text(&merged.stdout).starts_with("fleetsim check merge: seed 1, 30 cases, 4 shards\n"));
    let files = |sub: &str| {
        let mut names: Vec<_> = std::fs::read_dir(dir.path().join(sub))
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        names
            .into_iter()
            .map(|n| {
                let bytes = std::fs::read(dir.path().join(sub).join(&n)).unwrap();
                (n, bytes)
            })
            .collect::<Vec<_>>()
    };
    let (w, m) = (files("whole"), files("out"));
    assert_eq!(
        w.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>(),
        [
            "lb-orchestration-1-4.faults.yml",
            "lb-orchestration-1-4.report.json",
            "regressions.txt",
            "result.json"
        ]
    );
    assert!(
        w == m,
        "the merged files differ from the unsharded campaign's"
    );
    // A shard left out is named.
    let partial = Command::new(env!("CARGO_BIN_EXE_fleetsim"))
        .args(["check", "merge", "s1", "s3", "s4", "--out", "partial"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert_eq!(partial.status.code(), Some(5));
    assert_eq!(text(&partial.stderr), "[ERROR]: shard 2/4 is missing\n");
}

/// `--shard auto` takes the shard from GitLab's `parallel:` or a Kubernetes Indexed Job.
#[test]
fn the_shard_comes_from_the_ci_environment() {
    let d = scenario();
    let run = |shard: &str, env: &[(&str, &str)]| {
        let mut c = Command::new(env!("CARGO_BIN_EXE_fleetsim"));
        c.args(["check", ".", "--playbook", "deploy.yml", "--seed", "3"])
            .args(["--cases", "4", "--shard", shard])
            .current_dir(d.path())
            .env_remove("CI_NODE_INDEX")
            .env_remove("CI_NODE_TOTAL")
            .env_remove("JOB_COMPLETION_INDEX");
        for (k, v) in env {
            c.env(k, v);
        }
        c.output().unwrap()
    };
    let gitlab = run("auto", &[("CI_NODE_INDEX", "2"), ("CI_NODE_TOTAL", "3")]);
    assert!(
        text(&gitlab.stdout).contains(", shard 2/3, "),
        "{}",
        text(&gitlab.stderr)
    );
    assert!(d
        .path()
        .join("fleetsim-check/result-shard-2-of-3.json")
        .is_file());
    let k8s = run("auto/2", &[("JOB_COMPLETION_INDEX", "1")]);
    assert!(
        text(&k8s.stdout).contains(", shard 2/2, "),
        "{}",
        text(&k8s.stderr)
    );
    let none = run("auto", &[]);
    assert_eq!(none.status.code(), Some(5));
    assert!(text(&none.stderr).contains("no shard in the environment"));
}
