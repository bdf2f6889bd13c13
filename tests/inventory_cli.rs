//! `fleetsim inventory` / `fleetsim hosts` end to end: folders and host lists as sources,
//! exit codes, and snapshots of `--graph` and of a parse-error warning.

use std::path::Path;
use std::process::Command;

fn run(dir: &Path, args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_fleetsim"))
        .args(args)
        .current_dir(dir)
        .env_remove("ANSIBLE_HOST_PATTERN_MISMATCH")
        .env_remove("ANSIBLE_INVENTORY_UNPARSED_WARNING")
        .env_remove("ANSIBLE_INVENTORY")
        .output()
        .expect("run fleetsim");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn write(dir: &Path, name: &str, text: &str) {
    let p = dir.join(name);
    if let Some(parent) = p.parent() {
        std::fs::create_dir_all(parent).unwrap();
    }
    std::fs::write(p, text).unwrap();
}

#[test]
fn graph_snapshot() {
    let t = tempfile::tempdir().unwrap();
    write(
        t.path(),
        "inv.ini",
        "lone\n[web]\nweb[1:2]\n[db]\ndb1\n[prod:children]\nweb\ndb\n[empty]\n",
    );
    let (rc, out, _) = run(t.path(), &["inventory", "-i", "inv.ini", "--graph"]);
    assert_eq!(rc, 0);
    insta::assert_snapshot!("graph_all", out);
    let (rc, out, _) = run(t.path(), &["inventory", "-i", "inv.ini", "--graph", "prod"]);
    assert_eq!(rc, 0);
    insta::assert_snapshot!("graph_prod", out);
}

#[test]
fn parse_error_warning_snapshot() {
    let t = tempfile::tempdir().unwrap();
    write(t.path(), "bad.ini", "[web]\nweb1 x=1\nweb[1:3 y=2\n");
    write(t.path(), "ok.ini", "[db]\ndb1\n");
    let (rc, out, err) = run(
        t.path(),
        &["inventory", "-i", "bad.ini", "-i", "ok.ini", "--graph"],
    );
    assert_eq!(rc, 0, "a bad source is a warning, as in Ansible");
    assert!(out.contains("web1"), "lines before the error stay: {out}");
    let err = err.replace(&t.path().display().to_string(), "TMP");
    insta::assert_snapshot!("ini_parse_error", err);
}

#[test]
fn folder_sources_and_host_lists() {
    let t = tempfile::tempdir().unwrap();
    write(t.path(), "inv/a.ini", "[a]\na1\n");
    write(t.path(), "inv/b.yml", "b:\n  hosts:\n    b1:\n");
    write(t.path(), "inv/notes.md", "[c]\nc1\n");
    write(t.path(), "inv/.hidden", "[d]\nd1\n");
    write(t.path(), "inv/group_vars/a.yml", "from_dir: 1\n");
    let (rc, out, _) = run(t.path(), &["hosts", "all", "-i", "inv"]);
    assert_eq!(rc, 0);
    assert_eq!(out, "  hosts (2):\n    a1\n    b1\n");
    let (_, out, _) = run(t.path(), &["inventory", "-i", "inv", "--host", "a1"]);
    assert_eq!(out, "{\n    \"from_dir\": 1\n}\n");
    let (_, out, _) = run(
        t.path(),
        &["hosts", "all", "-i", "x1,x2:2222,", "-i", "inv"],
    );
    assert_eq!(out, "  hosts (4):\n    x1\n    x2\n    a1\n    b1\n");
}

#[test]
fn exit_codes_follow_ansible() {
    let t = tempfile::tempdir().unwrap();
    write(t.path(), "inv.ini", "[g]\nh1\n");
    let code = |args: &[&str]| run(t.path(), args).0;
    assert_eq!(code(&["inventory", "-i", "inv.ini", "--list"]), 0);
    assert_eq!(code(&["inventory", "-i", "inv.ini"]), 5);
    assert_eq!(
        code(&["inventory", "-i", "inv.ini", "--list", "--graph"]),
        5
    );
    assert_eq!(code(&["inventory", "-i", "inv.ini", "--host", "nope"]), 5);
    assert_eq!(code(&["inventory", "-i", "inv.ini", "--graph", "nope"]), 5);
    assert_eq!(code(&["inventory", "-i", "missing.ini", "--list"]), 0);
    assert_eq!(code(&["hosts", "nope", "-i", "inv.ini"]), 0);
    assert_eq!(code(&["hosts", "all", "-i", "inv.ini", "-l", "nope"]), 1);
    assert_eq!(code(&["hosts", "g[5]", "-i", "inv.ini", "-l", "all"]), 1);
    let (_, out, err) = run(t.path(), &["hosts", "nope", "-i", "inv.ini"]);
    assert_eq!(out, "  hosts (0):\n");
    assert!(err.contains("[WARNING]: Could not match supplied host pattern, ignoring: nope"));
}

#[test]
fn limit_file_and_localhost() {
    let t = tempfile::tempdir().unwrap();
    write(t.path(), "inv.ini", "[g]\nh1\nh2\nh3\n");
    write(t.path(), "limit.txt", "h3\nh1\n");
    let (_, out, _) = run(
        t.path(),
        &["hosts", "g", "-i", "inv.ini", "-l", "@limit.txt"],
    );
    assert_eq!(out, "  hosts (2):\n    h1\n    h3\n");
    let (_, out, _) = run(t.path(), &["hosts", "localhost", "-i", "inv.ini"]);
    assert_eq!(out, "  hosts (1):\n    localhost\n");
    let (_, out, _) = run(t.path(), &["hosts", "all", "-i", "inv.ini"]);
    assert!(
        !out.contains("localhost"),
        "the implicit localhost is not in all"
    );
}
