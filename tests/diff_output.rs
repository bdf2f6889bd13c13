//! `--diff` output against what real ansible-core 2.19 printed for the same playbook
//! (`tests/data/diff-mode/ansible-stdout.txt`, one host so the order is Ansible's too):
//! file state changes as JSON diffs, new and changed files, lineinfile's `(content)` headers.

use std::process::Command;

#[test]
fn diff_mode_prints_what_ansible_prints() {
    let data = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/diff-mode");
    let sandbox = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_fleetsim"))
        .args([
            "playbook",
            "-i",
            "inventory.ini",
            "site.yml",
            "--diff",
            "--seed",
            "3",
        ])
        .arg("--sandbox")
        .arg(sandbox.path())
        .current_dir(&data)
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let want = std::fs::read_to_string(data.join("ansible-stdout.txt")).unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), want);
}
