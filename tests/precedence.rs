//! Variable precedence corners checked against real ansible-core 2.19 by hand: a loop
//! variable wins even over `-e` (Ansible prints "a" for `-e item=X` with `loop: [a]`).

use std::process::Command;

#[test]
fn loop_variables_win_over_extra_vars() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("inv"), "app1\n").unwrap();
    std::fs::write(
        dir.path().join("site.yml"),
        "- hosts: app1\n  gather_facts: false\n  tasks:\n    - debug: msg=\"{{ item }} {{ other }}\"\n      loop: [a]\n",
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_fleetsim"))
        .args([
            "playbook", "-i", "inv", "site.yml", "-e", "item=X", "-e", "other=Y",
        ])
        .arg("--sandbox")
        .arg(dir.path().join("sb"))
        .current_dir(dir.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(stdout.contains("\"msg\": \"a Y\""), "{stdout}");
}
