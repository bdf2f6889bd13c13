//! Inputs that once crashed fleetsim (issue 14): each ends as ansible-core 2.19 ends it,
//! never with a panic (exit 101) or a stack overflow (abort, 134).

use std::process::{Command, Output};

/// Runs `site.yml` among `files` (name, text) on a one-host local inventory.
fn run(files: &[(&str, &str)]) -> Output {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("inv"), "app1 ansible_connection=local\n").unwrap();
    for (name, text) in files {
        std::fs::write(dir.path().join(name), text).unwrap();
    }
    Command::new(env!("CARGO_BIN_EXE_fleetsim"))
        .args(["playbook", "-i", "inv", "site.yml", "--seed", "1"])
        .arg("--sandbox")
        .arg(dir.path().join("sandbox"))
        .current_dir(dir.path())
        .output()
        .unwrap()
}

const RECURSION: &str = "[ERROR]: Unexpected Exception, this is probably a bug: maximum recursion depth exceeded while calling a Python object";

#[test]
fn issue_14_a_playbook_importing_itself_is_ansibles_recursion_error() {
    let out = run(&[("site.yml", "- import_playbook: site.yml\n")]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(250), "{stderr}");
    assert!(stderr.contains(RECURSION), "{stderr}");
    assert!(
        stderr.contains("fleetsim: hint: the static imports never end: ")
            && stderr.contains("site.yml -> ")
            && stderr.contains("is imported again while it is being imported"),
        "{stderr}"
    );
    assert!(
        out.stdout.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

#[test]
fn issue_14_import_cycles_through_several_files_are_named_in_order() {
    let out = run(&[
        ("site.yml", "- import_playbook: b.yml\n"),
        (
            "b.yml",
            "- hosts: app1\n  gather_facts: false\n  tasks:\n    - import_tasks: t1.yml\n",
        ),
        ("t1.yml", "- debug: msg=one\n- import_tasks: t2.yml\n"),
        ("t2.yml", "- import_tasks: t1.yml\n"),
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(250), "{stderr}");
    assert!(stderr.contains(RECURSION), "{stderr}");
    let hint = stderr
        .lines()
        .find(|l| l.starts_with("fleetsim: hint:"))
        .expect("a hint");
    let t1 = hint.find("t1.yml -> ").expect(hint);
    let t2 = hint.find("t2.yml -> ").expect(hint);
    assert!(t1 < t2, "{hint}");
    assert!(
        !hint.contains("site.yml"),
        "only the cycle is named: {hint}"
    );
}

#[test]
fn issue_14_a_file_imported_twice_side_by_side_is_no_cycle() {
    let out = run(&[
        (
            "site.yml",
            "- hosts: app1\n  gather_facts: false\n  tasks:\n    - import_tasks: t.yml\n    - import_tasks: t.yml\n",
        ),
        ("t.yml", "- debug: msg=again\n"),
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert_eq!(stdout.matches("\"msg\": \"again\"").count(), 2, "{stdout}");
}

#[test]
fn issue_14_negative_string_widths_pad_nothing() {
    let out = run(&[(
        "site.yml",
        "- hosts: app1\n  gather_facts: false\n  tasks:\n    - debug: msg=\"[{{ 'x'.zfill(-1) }}|{{ 'x'.center(-3) }}]\"\n",
    )]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(stdout.contains("\"msg\": \"[x|x]\""), "{stdout}");
}

#[test]
fn issue_14_an_escaped_multibyte_character_in_a_pattern_is_that_character() {
    // ansible-core 2.19 printed "axb" (Python's re reads `\é` as `é`); fleetsim once cut the
    // two-byte character in half and panicked.
    let out = run(&[(
        "site.yml",
        "- hosts: app1\n  gather_facts: false\n  tasks:\n    - debug: msg=\"{{ 'aéb' | regex_replace('\\\\é', 'x') }}\"\n",
    )]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(stdout.contains("\"msg\": \"axb\""), "{stdout}");
}
