//! An explicit `setup` task: `filter` and `gather_subset` are honoured (see the conformance
//! cases setup-filter and gather-subset);
//! the options fleetsim cannot honour fail the task naming them instead of being ignored.

use std::process::{Command, Output};

fn run(playbook: &str) -> Output {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("inv"), "app1\n").unwrap();
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
fn an_unknown_subset_fails_the_task() {
    let out = run("- hosts: all\n  gather_facts: false\n  tasks:\n    - setup:\n        gather_subset: ['!all', networks]\n");
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(2), "{text}");
    assert!(
        text.contains("Bad subset 'networks' given to Ansible."),
        "{text}"
    );
}

#[test]
fn executable_local_facts_for_other_interpreters_fail_the_task() {
    // A `.fact` program in Python: the simulated hosts run only sh, dash and bash scripts
    // (conformance local-facts-exec has the shell ones, which run).
    let out = run("- hosts: all\n  gather_facts: false\n  tasks:\n    - file: path=/etc/ansible/facts.d state=directory\n    - copy: dest=/etc/ansible/facts.d/x.fact content='#!/usr/bin/python3' mode=0755\n    - setup:\n        fact_path: /etc/ansible/facts.d\n");
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(2), "{text}");
    assert!(
        text.contains("fleetsim cannot run the executable local fact '/etc/ansible/facts.d/x.fact': its interpreter '/usr/bin/python3' is not simulated"),
        "{text}"
    );
}

#[test]
fn all_and_a_timeout_are_accepted() {
    let out = run("- hosts: all\n  gather_facts: false\n  tasks:\n    - setup:\n        gather_subset: all\n        gather_timeout: 5\n    - debug:\n        var: ansible_facts.distribution\n");
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(
        text.contains("\"ansible_facts.distribution\": \"Debian\""),
        "{text}"
    );
}
