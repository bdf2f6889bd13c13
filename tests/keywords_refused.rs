//! Keywords (and keyword values) fleetsim cannot honour stop the run at load, naming the
//! keyword with file, line and column (exit 4), rather than being accepted and ignored.

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

fn refused(playbook: &str, message: &str, place: &str) {
    let out = run(playbook);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(4), "{stdout}\n{stderr}");
    assert!(
        stderr.contains(&format!("[ERROR]: {message}\nOrigin: ")) && stderr.contains(place),
        "{stderr}"
    );
    assert!(!stdout.contains("PLAY ["), "{stdout}");
}

#[test]
fn strategy_debug_is_refused() {
    refused(
        "- hosts: all\n  strategy: debug\n  tasks:\n    - debug: msg=x\n",
        "fleetsim does not support the keyword 'strategy' with the value 'debug' (the debug strategy is an interactive debugger) yet",
        "site.yml:2:3",
    );
}

#[test]
fn strategy_unknown_is_ansibles_error() {
    let out = run(
        "- hosts: all\n  gather_facts: false\n  strategy: bogus\n  tasks:\n    - debug: msg=x\n",
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("[ERROR]: Invalid play strategy specified: bogus\nOrigin: ")
            && stderr.contains("site.yml:1:3"),
        "{stderr}"
    );
}

#[test]
fn strategy_free_and_host_pinned_run() {
    for s in ["free", "host_pinned", "ansible.builtin.free"] {
        let out = run(&format!(
            "- hosts: all\n  gather_facts: false\n  strategy: {s}\n  tasks:\n    - debug: msg=x\n"
        ));
        assert_eq!(out.status.code(), Some(0), "{s}");
        assert!(String::from_utf8_lossy(&out.stdout).contains("ok: [app1]"));
    }
}

#[test]
fn strategy_linear_is_accepted() {
    let out = run(
        "- hosts: all\n  gather_facts: false\n  strategy: linear\n  tasks:\n    - debug: msg=x\n",
    );
    assert_eq!(out.status.code(), Some(0));
}

#[test]
fn become_user_other_than_root_is_refused_only_when_become_is_on() {
    refused(
        "- hosts: all\n  become: true\n  tasks:\n    - block:\n        - command: whoami\n      become_user: postgres\n",
        "fleetsim does not support the keyword 'become_user' with the user 'postgres' (tasks on simulated hosts run as root) yet",
        "site.yml:6:7",
    );
    let out = run(
        "- hosts: all\n  gather_facts: false\n  become_user: postgres\n  tasks:\n    - command: whoami\n",
    );
    assert_eq!(out.status.code(), Some(0));
}

#[test]
fn a_templated_gather_subset_and_fact_path_are_honoured() {
    // Once refused here; now honoured (conformance gather-subset-templated, local-facts).
    let out = run("- hosts: all\n  vars:\n    subsets: ['!all', network]\n  gather_subset: \"{{ subsets }}\"\n  fact_path: /etc/facts.d\n  tasks:\n    - debug: msg=\"{{ ansible_facts.gather_subset }} {{ ansible_local }}\"\n");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(
        stdout.contains("\"msg\": \"['!all', 'network'] {}\""),
        "{stdout}"
    );
    // An undefined variable in the subset fails the gathering for that host.
    let out = run("- hosts: all\n  gather_subset: \"{{ subsets }}\"\n  tasks: []\n");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(2), "{stdout}");
    assert!(stdout.contains("'subsets' is undefined"), "{stdout}");
}

#[test]
fn module_defaults_must_be_mappings() {
    let out = run("- hosts: all\n  module_defaults: [copy]\n  tasks: []\n");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(4));
    assert!(
        stderr.contains(
            "The field 'module_defaults' is supposed to be a dictionary or list of dictionaries"
        ),
        "{stderr}"
    );
}

#[test]
fn vars_prompt_encrypt_is_refused() {
    let out = run(
        "- hosts: all\n  vars_prompt:\n    - name: pw\n      encrypt: sha512_crypt\n  tasks: []\n",
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(4));
    assert!(
        stderr.contains("fleetsim does not support the option 'encrypt' of vars_prompt yet"),
        "{stderr}"
    );
}

#[test]
fn include_role_public_and_no_duplicates_are_refused() {
    refused(
        "- hosts: all\n  gather_facts: false\n  tasks:\n    - include_role:\n        name: r\n        public: true\n",
        "fleetsim does not honour include_role's public: True (only its default)",
        "site.yml:4:7",
    );
    refused(
        "- hosts: all\n  gather_facts: false\n  tasks:\n    - include_role:\n        name: r\n        allow_duplicates: false\n",
        "fleetsim does not honour include_role's allow_duplicates: False (only its default)",
        "site.yml:4:7",
    );
}
