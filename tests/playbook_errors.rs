//! Errors that stop a run, as ansible-core 2.19 reports them: the message on stderr, the exit
//! status, and no PLAY RECAP.

use std::process::{Command, Output};

fn run(inventory: &str, playbook: &str) -> Output {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("inv"), inventory).unwrap();
    std::fs::write(dir.path().join("site.yml"), playbook).unwrap();
    Command::new(env!("CARGO_BIN_EXE_fleetsim"))
        .args(["playbook", "-i", "inv", "site.yml", "--seed", "1"])
        .arg("--sandbox")
        .arg(dir.path().join("sandbox"))
        .current_dir(dir.path())
        .output()
        .unwrap()
}

#[test]
fn notifying_a_handler_that_does_not_exist_stops_the_run() {
    let out = run(
        "app1\n",
        "- hosts: app1\n  gather_facts: false\n  tasks:\n    - command: echo x\n      notify: nope\n    - debug: msg=after\n",
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr.contains("[ERROR]: The requested handler 'nope' was not found in either the main handlers list nor in the listening handlers list"), "{stderr}");
    assert!(stdout.contains("TASK [command]"), "{stdout}");
    assert!(!stdout.contains("changed: [app1]"), "{stdout}");
    assert!(!stdout.contains("PLAY RECAP"), "{stdout}");
}

#[test]
fn an_unchanged_task_notifies_nothing_so_a_missing_handler_does_not_matter() {
    let out = run(
        "app1\n",
        "- hosts: app1\n  gather_facts: false\n  tasks:\n    - command: echo x\n      changed_when: false\n      notify: nope\n",
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn the_event_log_is_one_json_object_a_line_and_reproducible() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("inv"), "a1\na2\n").unwrap();
    std::fs::write(
        dir.path().join("site.yml"),
        "- hosts: all\n  gather_facts: false\n  tasks:\n    - pause: {seconds: 5}\n    - command: echo x\n      when: inventory_hostname == 'a1'\n",
    )
    .unwrap();
    let events = |name: &str| {
        let log = dir.path().join(name);
        let out = Command::new(env!("CARGO_BIN_EXE_fleetsim"))
            .args(["playbook", "-i", "inv", "site.yml", "--seed", "5"])
            .args(["--start-time", "2026-01-01T00:00:00Z", "--events"])
            .arg(&log)
            .arg("--sandbox")
            .arg(dir.path().join(format!("sb-{name}")))
            .current_dir(dir.path())
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0));
        std::fs::read_to_string(log).unwrap()
    };
    let first = events("one.jsonl");
    assert_eq!(first, events("two.jsonl"));
    let lines: Vec<serde_json::Value> = first
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let statuses: Vec<(String, String)> = lines
        .iter()
        .map(|e| {
            (
                e["host"].as_str().unwrap().to_string(),
                e["detail"]["status"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        statuses,
        vec![
            ("a1".to_string(), "ok".to_string()),
            ("a1".to_string(), "changed".to_string()),
            ("a2".to_string(), "skipped".to_string()),
        ]
    );
    // The pause moved the virtual clock: the command ended more than 5 s into the run.
    assert!(lines[1]["at"].as_f64().unwrap() > 5.0, "{first}");
}
