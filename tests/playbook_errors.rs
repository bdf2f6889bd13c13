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

#[test]
fn end_role_outside_a_role_is_refused_before_anything_runs() {
    let out = run(
        "app1\n",
        "- hosts: app1\n  gather_facts: false\n  tasks:\n    - name: stop it\n      meta: end_role\n",
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(4));
    assert!(
        stderr.contains("[ERROR]: Cannot execute 'end_role' from outside of a role\nOrigin: <unknown>\n\nTASK: meta (end_role)"),
        "{stderr}"
    );
    assert!(String::from_utf8_lossy(&out.stdout).trim().is_empty());
}

#[test]
fn an_include_apply_that_is_not_a_mapping_is_refused_at_load() {
    let out = run(
        "app1\n",
        "- hosts: app1\n  gather_facts: false\n  tasks:\n    - include_tasks:\n        file: t.yml\n        apply: 3\n",
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(4));
    assert!(stderr.contains("[ERROR]: Expected a dict for apply but got <class 'ansible.module_utils._internal._datatag._AnsibleTaggedInt'> instead\nOrigin: "), "{stderr}");
}

#[test]
fn an_unknown_apply_keyword_stops_the_run_when_the_include_runs() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("t.yml"), "- debug: msg=t\n").unwrap();
    std::fs::write(dir.path().join("inv"), "app1\n").unwrap();
    std::fs::write(
        dir.path().join("site.yml"),
        "- hosts: app1\n  gather_facts: false\n  tasks:\n    - debug: msg=first\n    - include_tasks:\n        file: t.yml\n        apply:\n          tags: x\n          bogus: 1\n",
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_fleetsim"))
        .args(["playbook", "-i", "inv", "site.yml", "--seed", "1"])
        .arg("--sandbox")
        .arg(dir.path().join("sandbox"))
        .current_dir(dir.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(4));
    assert!(stdout.contains("TASK [include_tasks]"), "{stdout}");
    assert!(!stdout.contains("PLAY RECAP"), "{stdout}");
    assert!(
        stderr.contains("[ERROR]: 'bogus' is not a valid attribute for a Block\nOrigin: ")
            && stderr.contains("site.yml:9:11"),
        "{stderr}"
    );
}

#[test]
fn a_timeout_that_is_not_an_int_points_at_the_keywords_value() {
    let out = run(
        "app1\n",
        "- hosts: app1\n  gather_facts: false\n  tasks:\n    - name: a\n      debug: msg=hi\n      timeout: abc\n",
    );
    // ansible-core prints a task's error on stdout, inside the task's output.
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(2), "{stdout}");
    // The task, then both links of the cause chain at `abc` (line 6, column 16), as
    // ansible-core 2.19 prints them.
    assert_eq!(stdout.matches("site.yml:4:7\n").count(), 1, "{stdout}");
    assert_eq!(stdout.matches("site.yml:6:16\n").count(), 2, "{stdout}");
    assert!(
        stdout.contains("\n<<< caused by >>>\n\nError processing keyword 'timeout'.\nOrigin: "),
        "{stdout}"
    );
}

#[test]
fn an_empty_inventory_warns_that_all_does_not_match_the_implicit_localhost() {
    let out = run(
        "",
        "- hosts: localhost\n  gather_facts: false\n  tasks:\n    - debug: msg=hi\n",
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("[WARNING]: provided hosts list is empty, only localhost is available. Note that the implicit localhost does not match 'all'\n"), "{stderr}");
    let with_hosts = run(
        "app1\n",
        "- hosts: localhost\n  gather_facts: false\n  tasks:\n    - debug: msg=hi\n",
    );
    assert!(!String::from_utf8_lossy(&with_hosts.stderr).contains("provided hosts list is empty"));
}

#[test]
fn an_unknown_loop_control_key_is_refused_at_load_with_its_origin() {
    let out = run(
        "app1\n",
        "- hosts: app1\n  gather_facts: false\n  tasks:\n    - debug: var=item\n      loop: [1]\n      loop_control:\n        break_on: item == 1\n",
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(4), "{stderr}");
    assert!(
        stderr.contains("[ERROR]: 'break_on' is not a valid attribute for a LoopControl\nOrigin: ")
            && stderr.contains("site.yml:7:9"),
        "{stderr}"
    );
}
