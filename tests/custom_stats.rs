//! `set_stats` statistics add up per run and per host, and ANSIBLE_SHOW_CUSTOM_STATS prints
//! them after the recap exactly as ansible-core 2.19's default callback does (the expected
//! block below is real ansible-playbook output for the conformance case `set-stats`).

use std::path::Path;
use std::process::{Command, Output};

fn run_case(show: Option<&str>) -> Output {
    let case = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/conformance/cases/set-stats");
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_fleetsim"));
    cmd.args(["playbook", "-i", "inventory.ini", "site.yml", "--seed", "1"])
        .arg("--sandbox")
        .arg(dir.path().join("sandbox"))
        .current_dir(&case)
        .env_remove("ANSIBLE_SHOW_CUSTOM_STATS");
    if let Some(v) = show {
        cmd.env("ANSIBLE_SHOW_CUSTOM_STATS", v);
    }
    cmd.output().unwrap()
}

const EXPECTED: &str = "\
PLAY RECAP *********************************************************************
app1                       : ok=7    changed=0    unreachable=0    failed=0    skipped=0    rescued=0    ignored=2   
app2                       : ok=6    changed=0    unreachable=0    failed=0    skipped=1    rescued=0    ignored=2   


CUSTOM STATS: ******************************************************************
\tapp1: { \"hits\": 4, \"role\": \"web-app1\"}
\tapp2: { \"hits\": 4, \"role\": \"web-app2\"}

\tRUN: { \"deployed\": 2, \"info\": {  \"last\": \"app2\" }, \"names\": [  \"app1\",  \"app2\" ]}
";

#[test]
fn custom_stats_are_shown_after_the_recap_when_asked() {
    let out = run_case(Some("yes"));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    let at = stdout.find("PLAY RECAP").expect("a recap");
    assert_eq!(stdout[at..].trim_end(), EXPECTED.trim_end());
    assert!(!stderr.contains("SHOW_CUSTOM_STATS"), "{stderr}");
}

#[test]
fn custom_stats_are_not_shown_by_default() {
    for show in [None, Some("false")] {
        let out = run_case(show);
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert_eq!(out.status.code(), Some(0), "{stdout}");
        assert!(!stdout.contains("CUSTOM STATS"), "{stdout}");
    }
}
