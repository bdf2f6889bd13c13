//! The simulated fleet, driven through the binary on the lab scenario: what each lab
//! playbook does to the invariants with and without faults, the report's shape and its
//! determinism, hand-written fault plans of every kind, and bad fleet files.

mod support;

use std::path::PathBuf;

use serde_json::Value;
use support::{fleetsim, Run, START};

const LIMIT: &str = "web_servers_prod[0:1],api_servers_prod[0]";

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn lab(rel: &str) -> String {
    repo()
        .join("scenarios/lab-8.2")
        .join(rel)
        .display()
        .to_string()
}

/// One run of a lab playbook against the lab's fleet, with its JSON report.
struct FleetRun {
    run: Run,
    report: Value,
    _dir: tempfile::TempDir,
    /// The folder of a playbook written for the test ([`run_written`]).
    _written: Option<tempfile::TempDir>,
}

impl FleetRun {
    /// Whether the named invariant held.
    fn holds(&self, name: &str) -> bool {
        self.invariant(name)["holds"]
            .as_bool()
            .unwrap_or_else(|| panic!("no invariant {name} in {}", self.report))
    }

    fn invariant(&self, name: &str) -> &Value {
        self.report["invariants"]
            .as_array()
            .expect("invariants")
            .iter()
            .find(|i| i["name"] == name)
            .unwrap_or_else(|| panic!("no invariant {name}"))
    }

    fn broken(&self) -> Vec<String> {
        self.report["invariants"]
            .as_array()
            .expect("invariants")
            .iter()
            .filter(|i| i["holds"] == false)
            .map(|i| i["name"].as_str().unwrap_or_default().to_string())
            .collect()
    }
}

/// Runs `playbook` (relative to the lab) with the lab's fleet and an optional fault plan,
/// given as a lab path or as YAML text.
fn run_fleet(
    playbook: &str,
    limit: Option<&str>,
    faults: Option<Plan<'_>>,
    seed: &str,
) -> FleetRun {
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("report.json");
    let sandbox = dir.path().join("sandbox");
    let inventory = lab("inventory.ini");
    let playbook = lab(playbook);
    let fleet = lab("fleet.yml");
    let mut args: Vec<String> = vec![
        "playbook".into(),
        "-i".into(),
        inventory,
        playbook,
        "--fleet".into(),
        fleet,
        "--seed".into(),
        seed.into(),
        "--start-time".into(),
        START.into(),
        "--report".into(),
        report.display().to_string(),
        "--sandbox".into(),
        sandbox.display().to_string(),
    ];
    if let Some(l) = limit {
        args.extend(["--limit".into(), l.into()]);
    }
    match faults {
        Some(Plan::Lab(f)) => args.extend(["--faults".into(), lab(f)]),
        Some(Plan::Text(text)) => {
            let p = dir.path().join("plan.yml");
            std::fs::write(&p, text).unwrap();
            args.extend(["--faults".into(), p.display().to_string()]);
        }
        None => {}
    }
    let argv: Vec<&str> = args.iter().map(String::as_str).collect();
    let run = fleetsim(&repo(), &argv, &[]);
    let report = std::fs::read_to_string(&report)
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or(Value::Null);
    FleetRun {
        run,
        report,
        _dir: dir,
        _written: None,
    }
}

enum Plan<'a> {
    Lab(&'a str),
    Text(&'a str),
}

/// A playbook written for the test (`text`, saved as PATH), run on the lab's fleet with the
/// fault plan `faults`; returns the run and PATH (error messages name it).
fn run_written(text: &str, faults: &str) -> (FleetRun, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let playbook = dir.path().join("written.yml");
    std::fs::write(&playbook, text).unwrap();
    let mut r = run_fleet(
        playbook.to_str().unwrap(),
        None,
        Some(Plan::Text(faults)),
        "3",
    );
    // The run keeps the folder alive with its own.
    r._written = Some(dir);
    (r, playbook)
}

const CORRECTED: &str = "playbooks/corrected/lb-orchestration.yml";
const HARDENED: &str = "playbooks/hardened/lb-orchestration.yml";

#[test]
fn corrected_rollout_breaks_environment_isolation() {
    let r = run_fleet(CORRECTED, Some(LIMIT), None, "7");
    r.run.expect_code(10);
    assert_eq!(r.broken(), ["environment_isolation"]);
    let v = &r.invariant("environment_isolation")["violations"];
    let texts: Vec<&str> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["detail"].as_str().unwrap())
        .collect();
    assert!(
        texts.contains(
            &"lb-stage-01 (staging frontend) routes to web-prod-01 (production frontend)"
        ),
        "{texts:?}"
    );
    assert!(r.run.stdout.contains("FLEET REPORT ****"));
    assert!(r.run.stdout.contains("environment_isolation ..... BROKEN"));
}

#[test]
fn corrected_rollout_with_a_slow_restart_sends_clients_to_a_starting_server() {
    let r = run_fleet(
        CORRECTED,
        Some(LIMIT),
        Some(Plan::Lab("faults/slow-restart.yml")),
        "7",
    );
    r.run.expect_code(10);
    for name in [
        "healthy_before_readd",
        "no_failed_requests",
        "no_traffic_to_unready",
        "environment_isolation",
    ] {
        assert!(!r.holds(name), "{name} should break: {}", r.report);
    }
    let first = &r.invariant("healthy_before_readd")["violations"][0];
    assert_eq!(first["hosts"][0], "web-prod-02");
    assert_eq!(first["task"], "Remove draining configuration");
    assert!(r.report["traffic"]["failed"].as_u64().unwrap() > 0);
}

#[test]
fn hardened_rollout_holds_every_invariant_with_and_without_faults() {
    for plan in [
        None,
        Some("faults/slow-restart.yml"),
        Some("faults/unhealthy-after-deploy.yml"),
    ] {
        let r = run_fleet(HARDENED, Some(LIMIT), plan.map(Plan::Lab), "7");
        r.run.expect_code(0);
        assert!(r.broken().is_empty(), "{plan:?}: {}", r.report);
        assert_eq!(r.report["traffic"]["failed"], 0, "{plan:?}");
    }
}

#[test]
fn hardened_rollout_stops_on_a_release_that_never_gets_healthy() {
    let r = run_fleet(
        HARDENED,
        Some(LIMIT),
        Some(Plan::Lab("faults/never-healthy.yml")),
        "7",
    );
    // The host fails (exit 2) but the rollout stops with it drained: clients never notice.
    r.run.expect_code(2);
    assert!(r.broken().is_empty(), "{}", r.report);
    assert!(r
        .run
        .stdout
        .contains("FAILED - RETRYING: [api-prod-01]: Wait until the new version answers healthy"));
}

#[test]
fn as_written_rollout_fails_as_without_a_fleet() {
    let with = run_fleet(
        "playbooks/as-written/lb-orchestration.yml",
        Some(LIMIT),
        None,
        "7",
    );
    with.run.expect_code(2);
    let dir = tempfile::tempdir().unwrap();
    let plain = fleetsim(
        &repo(),
        &[
            "playbook",
            "-i",
            &lab("inventory.ini"),
            &lab("playbooks/as-written/lb-orchestration.yml"),
            "--limit",
            LIMIT,
            "--seed",
            "7",
            "--start-time",
            START,
            "--sandbox",
            &dir.path().display().to_string(),
        ],
        &[],
    );
    plain.expect_code(2);
    let before_report = with.run.stdout.split("\n\nFLEET REPORT").next().unwrap();
    assert_eq!(
        before_report.trim_end_matches('\n'),
        plain.stdout.trim_end_matches('\n')
    );
    assert!(with
        .run
        .stdout
        .contains("Destination directory /tmp/lb-lb-prod-01/draining does not exist"));
}

#[test]
fn same_seed_same_report_byte_for_byte() {
    let a = run_fleet(
        CORRECTED,
        Some(LIMIT),
        Some(Plan::Lab("faults/slow-restart.yml")),
        "11",
    );
    let b = run_fleet(
        CORRECTED,
        Some(LIMIT),
        Some(Plan::Lab("faults/slow-restart.yml")),
        "11",
    );
    assert_eq!(a.run.stdout, b.run.stdout);
    assert_eq!(
        serde_json::to_string(&a.report).unwrap(),
        serde_json::to_string(&b.report).unwrap()
    );
    assert_eq!(a.report["seed"], 11);
    assert_eq!(a.report["start_time"], START);
}

/// Hand-written plans of kinds the lab's plans do not use.
#[test]
fn hand_written_fault_plans() {
    // A backend cut off from the LBs that send it traffic: requests time out at the LB.
    let r = run_fleet(
        HARDENED,
        Some(LIMIT),
        Some(Plan::Text(
            "faults:\n  - kind: partition\n    between: [load_balancers_prod, web-prod-03]\n    at: {time: 1}\n    for: 5\n",
        )),
        "3",
    );
    let failed = &r.invariant("no_failed_requests")["violations"][0];
    assert!(
        failed["detail"].as_str().unwrap().contains("answered 504"),
        "{failed}"
    );
    assert_eq!(failed["hosts"][0], "web-prod-03");

    // Latency above the clients' timeout is as bad as no answer.
    let r = run_fleet(
        HARDENED,
        Some(LIMIT),
        Some(Plan::Text(
            "faults:\n  - kind: latency\n    hosts: web-prod-03\n    delay: 5\n    at: {time: 2}\n    for: 3\n",
        )),
        "3",
    );
    let v = &r.invariant("no_failed_requests")["violations"][0];
    assert!(
        v["detail"].as_str().unwrap().contains("answered 504"),
        "{v}"
    );

    // A crash takes the app down until its `for` ends (then systemd restarts it).
    let r = run_fleet(
        HARDENED,
        Some(LIMIT),
        Some(Plan::Text(
            "faults:\n  - kind: crash\n    hosts: web-prod-03\n    at: {time: 3}\n    for: 4\n",
        )),
        "3",
    );
    let v = &r.invariant("no_failed_requests")["violations"][0];
    assert!(
        v["detail"].as_str().unwrap().contains("answered 502"),
        "{v}"
    );

    // An LB that rejects its new config keeps serving the old pool: the drain never takes
    // effect and clients reach a restarting server, whatever the playbook believes.
    let r = run_fleet(
        CORRECTED,
        Some("web_servers_prod[0]"),
        Some(Plan::Text(
            "faults:\n  - kind: lb_reject_config\n    hosts: lb-prod-01\n  - kind: slow_restart\n    hosts: web-prod-01\n    seconds: 5\n",
        )),
        "3",
    );
    assert!(!r.holds("no_traffic_to_unready"), "{}", r.report);

    // task_fail fails the task with the plan's message; unreachable gives UNREACHABLE and
    // exit 4 (ansible-core's HOST_UNREACHABLE); clock_skew moves the host's date facts.
    let r = run_fleet(
        CORRECTED,
        Some("web_servers_prod[0]"),
        Some(Plan::Text(
            "faults:\n  - kind: task_fail\n    hosts: web-prod-01\n    message: disk controller reset\n    at: {task: Create application directory}\n",
        )),
        "3",
    );
    r.run.expect_code(2);
    assert!(r.run.stdout.contains(
        "fatal: [web-prod-01]: FAILED! => {\"changed\": false, \"msg\": \"disk controller reset\"}"
    ), "{}", r.run.stdout);
    let r = run_fleet(
        CORRECTED,
        Some("web_servers_prod[0]"),
        Some(Plan::Text(
            "faults:\n  - kind: unreachable\n    hosts: web-prod-01\n",
        )),
        "3",
    );
    r.run.expect_code(4);
    // As ansible-core 2.19 prints it: the error on its own line (gathering facts has no task
    // position), then the result.
    assert!(
        r.run.stdout.contains("TASK [Gathering Facts] ****"),
        "{}",
        r.run.stdout
    );
    assert!(r.run.stdout.contains("\n[ERROR]: Task failed: Failed to connect to the host via ssh: ssh: connect to host 127.1.0.6 port 22: Connection timed out\nfatal: [web-prod-01]: UNREACHABLE! => {\"changed\": false, \"msg\": \"Task failed: Failed to connect to the host via ssh: ssh: connect to host 127.1.0.6 port 22: Connection timed out\", \"unreachable\": true}\n"), "{}", r.run.stdout);
    assert!(r.run.stdout.contains("unreachable=1"));
    let r = run_fleet(
        CORRECTED,
        Some("web_servers_prod[0]"),
        Some(Plan::Text(
            "faults:\n  - kind: clock_skew\n    hosts: web-prod-01\n    offset: 86400\n",
        )),
        "3",
    );
    assert!(r.run.stdout.contains("ok: [web-prod-01]"));
    let log = std::fs::read_dir(
        r._dir
            .path()
            .join("sandbox/hosts/localhost/tmp/lb-orchestration/deployments"),
    )
    .unwrap()
    .filter_map(|e| e.ok())
    .find(|e| e.file_name().to_string_lossy().ends_with(".log"))
    .map(|e| std::fs::read_to_string(e.path()).unwrap())
    .unwrap();
    assert!(log.starts_with("2026-11-27T06:00:"), "{log}");

    // A read-only disk on an LB: the drain write fails as a real one does.
    let r = run_fleet(
        CORRECTED,
        Some("web_servers_prod[0]"),
        Some(Plan::Text(
            "faults:\n  - kind: read_only\n    hosts: lb-prod-02\n",
        )),
        "3",
    );
    r.run.expect_code(2);
    assert!(
        r.run.stdout.contains("Read-only file system"),
        "{}",
        r.run.stdout
    );
}

/// A task on an unreachable host, and a loop on one, print what ansible-core 2.19 prints
/// (checked against it with a host whose ssh port refuses): the error block at the task's
/// position, once; a plain task's result UNREACHABLE; a loop's items each `failed:` and
/// then the loop UNREACHABLE with its results; exit 4.
#[test]
fn unreachable_tasks_and_loops_print_as_ansible_does() {
    const UNREACHABLE: &str = "faults:\n  - kind: unreachable\n    hosts: web-prod-01\n";
    let (r, playbook) = run_written(
        "- hosts: web-prod-01\n  gather_facts: false\n  tasks:\n    - name: Loop over items\n      command: echo {{ item }}\n      loop: [a, b]\n",
        UNREACHABLE,
    );
    r.run.expect_code(4);
    let msg = "Task failed: Failed to connect to the host via ssh: ssh: connect to host 127.1.0.6 port 22: Connection timed out";
    let origin = format!("Origin: {}:4:7", playbook.display());
    let want = format!(
        "TASK [Loop over items] *********************************************************\n\
         [ERROR]: {msg}\n{origin}\n\n\
         2   gather_facts: false\n3   tasks:\n4     - name: Loop over items\n        ^ column 7\n\n\
         failed: [web-prod-01] (item=a) => {{\"ansible_loop_var\": \"item\", \"changed\": false, \"item\": \"a\", \"msg\": \"{msg}\", \"unreachable\": true}}\n\
         failed: [web-prod-01] (item=b) => {{\"ansible_loop_var\": \"item\", \"changed\": false, \"item\": \"b\", \"msg\": \"{msg}\", \"unreachable\": true}}\n\
         fatal: [web-prod-01]: UNREACHABLE! => {{\"changed\": false, \"msg\": \"All items completed\", \"results\": [\
         {{\"ansible_loop_var\": \"item\", \"changed\": false, \"exception\": \"(traceback unavailable)\", \"item\": \"a\", \"msg\": \"{msg}\", \"unreachable\": true}}, \
         {{\"ansible_loop_var\": \"item\", \"changed\": false, \"exception\": \"(traceback unavailable)\", \"item\": \"b\", \"msg\": \"{msg}\", \"unreachable\": true}}], \
         \"unreachable\": true}}\n"
    );
    assert!(r.run.stdout.contains(&want), "{}", r.run.stdout);
    assert!(r.run.stdout.contains("unreachable=1"), "{}", r.run.stdout);

    // max_fail_percentage stopping the play after an unreachable host: Ansible ends with
    // "hosts failed" (2), not 4; the unreachable host does not count as failed for it.
    let (r, _) = run_written(
        "- hosts: web-prod-01,web-prod-02\n  gather_facts: false\n  max_fail_percentage: 0\n  tasks:\n    - command: echo hi\n    - fail: msg=boom\n      when: inventory_hostname == 'web-prod-02'\n    - debug: msg=after\n",
        UNREACHABLE,
    );
    r.run.expect_code(2);
    assert!(
        r.run
            .stdout
            .contains("changed: [web-prod-02]\n\nTASK [fail] ****"),
        "{}",
        r.run.stdout
    );
    assert!(
        r.run.stdout.contains("fatal: [web-prod-02]: FAILED! => {\"changed\": false, \"msg\": \"boom\"}\n\nNO MORE HOSTS LEFT"),
        "{}",
        r.run.stdout
    );
}

/// `ignore_unreachable` keeps an unreachable host in the play ("...ignoring", counted ok
/// and ignored), and controller-side actions (debug here) never connect, so they run on an
/// unreachable host, as under ansible-core 2.19.
#[test]
fn ignore_unreachable_and_actions_that_never_connect() {
    let (r, _) = run_written(
        "- hosts: web-prod-01\n  gather_facts: false\n  tasks:\n    - name: Plain\n      command: echo hi\n      ignore_unreachable: true\n    - name: After\n      debug: msg=after\n",
        "faults:\n  - kind: unreachable\n    hosts: web-prod-01\n",
    );
    let out = &r.run.stdout;
    assert!(
        out.contains("\"unreachable\": true}\n...ignoring\n\nTASK [After] ****"),
        "{out}"
    );
    assert!(
        out.contains("ok: [web-prod-01] => {\n    \"msg\": \"after\"\n}"),
        "{out}"
    );
    assert!(
        out.contains(
            "ok=2    changed=0    unreachable=0    failed=0    skipped=0    rescued=0    ignored=1"
        ),
        "{out}"
    );
}

/// A delegated task whose delegate is unreachable is labelled `host -> delegate` (no
/// address: the result never reached the delegate), and a delegated loop's own result with
/// `delegate_to` as written, as ansible-core 2.19 labels them.
#[test]
fn unreachable_delegates_are_labelled_as_ansible_does() {
    let (r, _) = run_written(
        "- hosts: web-prod-01\n  gather_facts: false\n  tasks:\n    - name: Delegated\n      command: echo hi\n      delegate_to: lb-prod-01\n    - name: Delegated loop\n      command: echo {{ item }}\n      delegate_to: \"{{ item }}\"\n      loop: [lb-prod-01, lb-prod-02]\n",
        "faults:\n  - kind: unreachable\n    hosts: lb-prod-01\n",
    );
    r.run.expect_code(4);
    assert!(
        r.run
            .stdout
            .contains("\nfatal: [web-prod-01 -> lb-prod-01]: UNREACHABLE! => {\"changed\": false, \"msg\": \"Task failed: Failed to connect"),
        "{}",
        r.run.stdout
    );
    // The host is out of the play after the first task: the loop never runs.
    assert!(
        !r.run.stdout.contains("TASK [Delegated loop]"),
        "{}",
        r.run.stdout
    );

    let (r, _) = run_written(
        "- hosts: web-prod-01\n  gather_facts: false\n  tasks:\n    - name: Delegated loop\n      command: echo {{ item }}\n      delegate_to: \"{{ item }}\"\n      loop: [lb-prod-01, lb-prod-02]\n",
        "faults:\n  - kind: unreachable\n    hosts: lb-prod-01\n",
    );
    r.run.expect_code(4);
    let out = &r.run.stdout;
    assert!(
        out.contains("\nfailed: [web-prod-01 -> lb-prod-01] (item=lb-prod-01) => {"),
        "{out}"
    );
    assert!(
        out.contains("\nchanged: [web-prod-01 -> lb-prod-02(localhost)] => (item=lb-prod-02)\n"),
        "{out}"
    );
    assert!(out.contains("\nfatal: [web-prod-01 -> {{ item }}]: UNREACHABLE! => {\"changed\": true, \"msg\": \"All items completed\""), "{out}");
}

/// A clock_skew fault moves the host's own clock as its shell sees it: `date` and the
/// command result's start/end, while the run's time (and the next task) stay true.
#[test]
fn clock_skew_moves_the_shells_date() {
    let (r, _) = run_written(
        "- hosts: web-prod-01,web-prod-02\n  gather_facts: false\n  tasks:\n    - name: Read the clock\n      command: date -u +%Y-%m-%dT%H\n      register: clock\n    - debug: msg=\"{{ clock.stdout }} {{ clock.start[:10] }}\"\n",
        "faults:\n  - kind: clock_skew\n    hosts: web-prod-01\n    offset: 86400\n",
    );
    r.run.expect_code(0);
    // START is 2026-11-26T06:00:00Z.
    assert!(
        r.run
            .stdout
            .contains("ok: [web-prod-01] => {\n    \"msg\": \"2026-11-27T06 2026-11-27\"\n}"),
        "{}",
        r.run.stdout
    );
    assert!(
        r.run
            .stdout
            .contains("ok: [web-prod-02] => {\n    \"msg\": \"2026-11-26T06 2026-11-26\"\n}"),
        "{}",
        r.run.stdout
    );
}

#[test]
fn database_faults_break_replication() {
    let lag = run_fleet(
        "playbooks/corrected/db-coordination.yml",
        None,
        Some(Plan::Lab("faults/replica-lag.yml")),
        "5",
    );
    lag.run.expect_code(10);
    assert_eq!(lag.broken(), ["replication_healthy"]);
    let crash = run_fleet(
        "playbooks/corrected/db-coordination.yml",
        None,
        Some(Plan::Lab("faults/primary-crash.yml")),
        "5",
    );
    crash.run.expect_code(10);
    let v = &crash.invariant("replication_healthy")["violations"][0];
    assert_eq!(
        v["detail"].as_str().unwrap().split(',').next().unwrap(),
        "db-replica-01 replicates from db-primary-01"
    );
    let clean = run_fleet("playbooks/corrected/db-coordination.yml", None, None, "5");
    clean.run.expect_code(0);
}

/// The corrected rollout (whole play) on the fleet model `fleet`, with more options.
fn corrected_with(fleet: &str, more: &[&str]) -> Run {
    let (inventory, playbook) = (lab("inventory.ini"), lab(CORRECTED));
    let mut args = vec!["playbook", "-i", &inventory, &playbook, "--fleet", fleet];
    args.extend_from_slice(more);
    fleetsim(&repo(), &args, &[])
}

#[test]
fn bad_fleet_and_fault_files_are_explained() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("plan.yml");
    std::fs::write(
        &bad,
        "faults:\n  - kind: slow_restart\n    hosts: web-prod-01\n    seconds: soon\n",
    )
    .unwrap();
    let r = corrected_with(&lab("fleet.yml"), &["--faults", &bad.display().to_string()]);
    r.expect_code(1);
    assert!(
        r.stderr.contains(
            "plan.yml:4:14: invalid type: string \"soon\", expected f64 at `faults[0].seconds`"
        ),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("4     seconds: soon"), "{}", r.stderr);

    std::fs::write(
        &bad,
        "faults:\n  - kind: slow_restart\n    hosts: web-prod-01\n",
    )
    .unwrap();
    let r = corrected_with(&lab("fleet.yml"), &["--faults", &bad.display().to_string()]);
    r.expect_code(1);
    assert!(
        r.stderr.contains("fault 1 (slow_restart) needs `seconds:`"),
        "{}",
        r.stderr
    );

    let fleet = dir.path().join("fleet.yml");
    std::fs::write(
        &fleet,
        "apps:\n  - hosts: web_servers\n    port_var: no_such_port\n    config: /x\n",
    )
    .unwrap();
    let r = corrected_with(&fleet.display().to_string(), &[]);
    r.expect_code(1);
    assert!(
        r.stderr
            .contains("app on web-prod-01: the host has no port in variable `no_such_port`"),
        "{}",
        r.stderr
    );

    std::fs::write(
        &fleet,
        "apps:\n  - hosts: web_servers\n    port_var: web_port\n    config: /x\nload_balancers:\n  - hosts: no_such_group\n    backends: web_servers\n    port_var: lb_port\n    pool_dir: /tmp/lb\n    environment: production\n    tier: frontend\n",
    )
    .unwrap();
    let r = corrected_with(&fleet.display().to_string(), &[]);
    r.expect_code(1);
    assert!(
        r.stderr
            .contains("load_balancers: `hosts: no_such_group` matches no host"),
        "{}",
        r.stderr
    );
}

#[test]
fn the_lab_runs_every_step_as_it_expects() {
    let r = fleetsim(&repo(), &["lab", &lab("")], &[]);
    r.expect_code(0);
    assert!(r.stdout.contains("LAB SUMMARY"));
    assert_eq!(
        r.stdout.matches("as the lab expects").count(),
        9,
        "{}",
        r.stdout
    );
    // Each step prints the command a student would type.
    assert!(r.stdout.contains("$ fleetsim playbook -i "));
}

#[test]
fn curl_and_systemctl_in_the_shell_reach_the_services() {
    let pb = repo()
        .join("tests/data/fleet/shell-reaches-services.yml")
        .display()
        .to_string();
    let r = fleetsim(
        &repo(),
        &[
            "playbook",
            "-i",
            &lab("inventory.ini"),
            &pb,
            "--fleet",
            &lab("fleet.yml"),
            "--seed",
            "1",
            "--start-time",
            START,
            "-v",
        ],
        &[],
    );
    // Stopping an app that is in rotation fails its clients' requests: exit 10.
    r.expect_code(10);
    assert!(r.stdout.contains(r#""msg": "ok""#), "{}", r.stdout);
    assert!(
        r.stdout.contains("to web-prod-01 while stopped"),
        "{}",
        r.stdout
    );
    // wait_for polls the port on the virtual clock: closed after the stop, open after the
    // start, and a wait for a closed port times out.
    assert!(r
        .stdout
        .contains(r#""msg": "Timeout when waiting for 127.0.0.1:8080""#));
    assert!(r.stdout.contains("TASK [The port opens] ***"));
    // The restart is seen in progress, then the poll loop waits it out on the virtual clock.
    assert!(
        r.stdout.contains(r#""stdout": "activating\nactive""#),
        "{}",
        r.stdout
    );
    assert!(r
        .stdout
        .contains(r#""stderr": "Failed to restart nginx.service: Unit nginx.service not found.""#));
    assert!(
        r.stdout
            .contains(r#""stdout": "web-prod-01 version 1\n 200""#),
        "{}",
        r.stdout
    );
}

#[test]
fn active_health_checks_take_a_starting_server_out_of_rotation() {
    // The same slow restart as above, with lb-prod-01/02 checking their backends every
    // second: they stop sending to web-prod-02 while it starts; the LBs without checks do not.
    let dir = tempfile::tempdir().unwrap();
    let model = std::fs::read_to_string(lab("fleet.yml")).unwrap();
    let checked = model.replacen(
        "    backends: web_servers_prod\n",
        "    backends: web_servers_prod\n    health_check: {interval: 1}\n",
        1,
    );
    assert_ne!(model, checked);
    let fleet = dir.path().join("fleet.yml");
    std::fs::write(&fleet, checked).unwrap();
    let report = dir.path().join("report.json");
    let (faults, report_path) = (lab("faults/slow-restart.yml"), report.display().to_string());
    let r = corrected_with(
        &fleet.display().to_string(),
        &[
            "--limit",
            LIMIT,
            "--faults",
            &faults,
            "--seed",
            "7",
            "--start-time",
            START,
            "--report",
            &report_path,
        ],
    );
    r.expect_code(10);
    let report: Value = serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    let by_lb = &report["traffic"]["by_lb"];
    // A check runs once a second, so at most a second's requests reach the server first.
    assert!(
        by_lb["lb-prod-01"]["failed"].as_u64().unwrap() <= 10,
        "{by_lb}"
    );
    assert!(
        by_lb["lb-internal-01"]["failed"].as_u64().unwrap() > 20,
        "{by_lb}"
    );
}
