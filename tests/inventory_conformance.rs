//! Runs every case under `tests/conformance/inventory/` through the `fleetsim` binary and
//! compares it with what real Ansible printed, as `run-inventory` does: `--list` as JSON,
//! `--graph` as text, and `hosts PATTERN` listings (sorted when Ansible's own order varies).

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

fn fleetsim(case: &Path, args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_fleetsim"))
        .args(args)
        .current_dir(case)
        .env("ANSIBLE_NOCOLOR", "1")
        .env("ANSIBLE_HOST_PATTERN_MISMATCH", "ignore")
        .env("ANSIBLE_INVENTORY_UNPARSED_WARNING", "0")
        .env("ANSIBLE_LOCALHOST_WARNING", "0")
        .output()
        .expect("run fleetsim");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn hosts_from_listing(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut seen = false;
    for line in text.lines() {
        if line.trim().starts_with("hosts (") {
            seen = true;
            continue;
        }
        if seen && line.starts_with("    ") && !line.trim().is_empty() {
            out.push(line.trim().to_string());
        }
    }
    out
}

fn inventory_file(case: &Path) -> &'static str {
    ["inventory.ini", "inventory.yml", "inventory.yaml"]
        .into_iter()
        .find(|n| case.join(n).exists())
        .expect("case has an inventory file")
}

fn cases() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/conformance/inventory");
    let mut v: Vec<PathBuf> = std::fs::read_dir(root)
        .expect("conformance folder")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.join("patterns.txt").is_file())
        .collect();
    v.sort();
    v
}

#[test]
fn inventory_conformance_cases() {
    let mut problems = Vec::new();
    let mut checks = 0;
    let all = cases();
    assert!(!all.is_empty(), "no conformance cases found");
    for case in &all {
        let name = case
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        let inv = inventory_file(case);

        let (rc, out, err) = fleetsim(case, &["inventory", "-i", inv, "--list"]);
        let want: Value = serde_json::from_str(
            &std::fs::read_to_string(case.join("expected/list.json")).unwrap(),
        )
        .unwrap();
        match serde_json::from_str::<Value>(&out) {
            Ok(got) if got == want => {}
            Ok(got) => problems.push(format!(
                "{name}: --list differs\n  want {want}\n  got  {got}"
            )),
            Err(_) => problems.push(format!("{name}: --list not JSON (exit {rc}): {out}{err}")),
        }
        checks += 1;

        let (_, out, err) = fleetsim(case, &["inventory", "-i", inv, "--graph"]);
        let want = std::fs::read_to_string(case.join("expected/graph.txt")).unwrap();
        if out.trim() != want.trim() {
            problems.push(format!(
                "{name}: --graph differs\n--- want\n{want}\n--- got\n{out}{err}"
            ));
        }
        checks += 1;

        let pats: Value = serde_json::from_str(
            &std::fs::read_to_string(case.join("expected/patterns.json")).unwrap(),
        )
        .unwrap();
        for (pat, want) in pats.as_object().unwrap() {
            let (_, out, err) = fleetsim(case, &["hosts", pat, "-i", inv]);
            let mut got = hosts_from_listing(&out);
            if want["ordered"] == Value::Bool(false) {
                got.sort();
            }
            let want_hosts: Vec<String> = want["hosts"]
                .as_array()
                .unwrap()
                .iter()
                .map(|h| h.as_str().unwrap().to_string())
                .collect();
            if got != want_hosts {
                problems.push(format!(
                    "{name}: pattern {pat:?}: want {want_hosts:?} got {got:?} {err}"
                ));
            }
            checks += 1;
        }
    }
    assert!(
        problems.is_empty(),
        "{} of {checks} checks failed:\n{}",
        problems.len(),
        problems.join("\n")
    );
}
