//! Attempts to leave the sandbox through the `fleetsim` binary: `..` paths, absolute and
//! relative symlinks, symlinked directories, hard links, shell redirections, `chdir`,
//! `rm -rf /`, and controller-side reads (`lookup('file'|'env'|'pipe')`, `src:`,
//! `vars_files`). Each test keeps a canary directory next to the sandbox and checks it, and
//! the real /tmp paths the playbook names, are untouched, and that the playbook sees what a
//! chroot at SANDBOX/hosts/HOST would give it.

mod support;

use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use support::{fleetsim, inode, tree, Run, START};

/// What the canary's secret file holds; no run may print it or copy it into a sandbox.
const SECRET: &str = "canary-secret-7f3a91\n";

/// One test's world: `ROOT/play` (inventory and playbook), `ROOT/sandbox` and the canary
/// `ROOT/canary` right next to the sandbox.
struct Lab {
    _tmp: tempfile::TempDir,
    root: PathBuf,
    play: PathBuf,
    sandbox: PathBuf,
    canary: PathBuf,
    canary_before: BTreeMap<String, String>,
    /// A real /tmp path prefix the playbooks aim at; nothing may appear there.
    real_tmp: String,
}

impl Lab {
    fn new(name: &str) -> Lab {
        let tmp = tempfile::Builder::new()
            .prefix("fsim-escape-")
            .tempdir()
            .unwrap();
        let root = tmp.path().to_path_buf();
        let play = root.join("play");
        let canary = root.join("canary");
        fs::create_dir_all(&play).unwrap();
        fs::create_dir_all(canary.join("sub")).unwrap();
        fs::write(canary.join("secret"), SECRET).unwrap();
        fs::write(canary.join("sub/keep"), "keep me\n").unwrap();
        fs::write(canary.join("vars.yml"), "leaked: \"real canary value\"\n").unwrap();
        let real_tmp = format!("/tmp/fsim-escape-{}-{name}", std::process::id());
        let lab = Lab {
            canary_before: tree(&canary),
            sandbox: root.join("sandbox"),
            _tmp: tmp,
            root,
            play,
            canary,
            real_tmp,
        };
        lab.assert_untouched();
        lab
    }

    /// Replaces the placeholders CANARY (the canary's real absolute path) and REALTMP (a real
    /// /tmp path prefix) in playbook text.
    fn fill(&self, text: &str) -> String {
        text.replace("CANARY", self.canary.to_str().unwrap())
            .replace("REALTMP", &self.real_tmp)
    }

    /// Writes the inventory and playbook into `play/` and runs the binary there.
    fn run(&self, inventory: &str, playbook: &str, extra: &[&str], envs: &[(&str, &str)]) -> Run {
        fs::write(self.play.join("inv"), inventory).unwrap();
        fs::write(self.play.join("p.yml"), self.fill(playbook)).unwrap();
        let sandbox = self.sandbox.to_str().unwrap();
        let mut args = vec![
            "playbook",
            "-i",
            "inv",
            "p.yml",
            "--sandbox",
            sandbox,
            "--seed",
            "7",
            "--start-time",
            START,
        ];
        args.extend_from_slice(extra);
        let run = fleetsim(&self.play, &args, envs);
        assert!(
            !run.stdout.contains(SECRET.trim()),
            "the canary's content reached the output:\n{}",
            run.stdout
        );
        run
    }

    fn host(&self, h: &str) -> PathBuf {
        self.sandbox.join("hosts").join(h)
    }

    /// The canary is as it was, no real /tmp path named by the playbook exists, and the run
    /// created nothing next to the sandbox.
    fn assert_untouched(&self) {
        assert_eq!(tree(&self.canary), self.canary_before, "canary changed");
        let secret = fs::symlink_metadata(self.canary.join("secret")).unwrap();
        assert_eq!(secret.nlink(), 1, "something hard-linked the canary");
        let prefix = Path::new(&self.real_tmp);
        let name = prefix.file_name().unwrap().to_str().unwrap();
        let leaked: Vec<String> = fs::read_dir("/tmp")
            .unwrap()
            .filter_map(Result::ok)
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with(name))
            .collect();
        assert!(leaked.is_empty(), "real /tmp entries created: {leaked:?}");
        let mut top: Vec<String> = fs::read_dir(&self.root)
            .unwrap()
            .filter_map(Result::ok)
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        top.sort();
        top.retain(|n| n != "sandbox");
        assert_eq!(
            top,
            ["canary", "play"],
            "files appeared next to the sandbox"
        );
    }

    fn read(&self, host: &str, path: &str) -> String {
        let p = self.host(host).join(path.trim_start_matches('/'));
        fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
    }

    fn link(&self, host: &str, path: &str) -> String {
        let p = self.host(host).join(path.trim_start_matches('/'));
        fs::read_link(&p)
            .unwrap_or_else(|e| panic!("{}: {e}", p.display()))
            .display()
            .to_string()
    }

    fn exists(&self, host: &str, path: &str) -> bool {
        fs::symlink_metadata(self.host(host).join(path.trim_start_matches('/'))).is_ok()
    }
}

#[test]
fn dotdot_paths_stop_at_the_host_root() {
    let lab = Lab::new("dotdot");
    fs::write(lab.play.join("t.j2"), "tpl for {{ inventory_hostname }}\n").unwrap();
    let run = lab.run(
        "h1\n",
        r#"
- hosts: h1
  gather_facts: false
  tasks:
    - file: {path: /tmp/a/b, state: directory}
    - file: {path: "/tmp/a/b/../../../../../..REALTMP-dir", state: directory}
    - copy: {dest: "/tmp/a/../../../../../..REALTMP-copy", content: "copied\n"}
    - lineinfile: {path: "/../../..REALTMP-line", line: "a line", create: yes}
    - template: {src: t.j2, dest: "/tmp/a/b/../../../../../../../..REALTMP-tpl"}
    - stat: {path: "/tmp/a/b/../../../../../../../..CANARY/secret"}
      register: st
    - stat: {path: "/tmp/a/../../../.."}
      register: top
    - copy:
        dest: /tmp/stat.txt
        content: "{{ st.stat.exists }} {{ top.stat.isdir }}"
"#,
        &[],
        &[],
    );
    run.expect_code(0);
    lab.assert_untouched();
    let name = lab.real_tmp.clone();
    assert!(lab.host("h1").join(format!("{}-dir", &name[1..])).is_dir());
    assert_eq!(lab.read("h1", &format!("{name}-copy")), "copied\n");
    assert_eq!(lab.read("h1", &format!("{name}-line")), "a line\n");
    assert_eq!(lab.read("h1", &format!("{name}-tpl")), "tpl for h1\n");
    // `..` above / is / itself, so the canary's path names nothing in the host, and the
    // host's root is a directory.
    assert_eq!(lab.read("h1", "/tmp/stat.txt"), "False True");
}

#[test]
fn symlinks_resolve_inside_the_host() {
    let lab = Lab::new("symlink");
    fs::write(lab.play.join("t.j2"), "tpl\n").unwrap();
    let run = lab.run(
        "h1\n",
        r#"
- hosts: h1
  gather_facts: false
  tasks:
    - file: {path: /tmp/d, state: directory}
    - file: {src: /, dest: /tmp/rootlink, state: link}
    - file: {src: ../../../../../.., dest: /tmp/d/up, state: link}
    - file: {src: CANARY, dest: /tmp/canarylink, state: link, force: true}
    - file: {src: /tmp/d, dest: /tmp/dirlink, state: link}
    - shell: ln -s CANARY /tmp/shlink && ln -s ../../../../../.. /tmp/shup
    # Writes through links that point at / or above it land at the host's root.
    - copy: {dest: "/tmp/rootlink/tmp/via-abs.txt", content: "abs\n"}
    - copy: {dest: "/tmp/d/up/via-rel.txt", content: "rel\n"}
    - copy: {dest: "/tmp/dirlink/in-dir.txt", content: "dir\n"}
    - lineinfile: {path: "/tmp/shup/tmp/line.txt", line: "line", create: yes}
    - template: {src: t.j2, dest: "/tmp/rootlink/tpl.txt"}
    - shell: echo shell > /tmp/shup/shell.txt && echo deep > /tmp/rootlink/tmp/rootlink/deep.txt
    # Links to the canary's real path dangle: that path does not exist inside h1.
    - copy: {dest: /tmp/canarylink/pwned, content: "x\n"}
      ignore_errors: true
    - lineinfile: {path: /tmp/shlink/secret, line: pwned}
      ignore_errors: true
    - template: {src: t.j2, dest: /tmp/shlink/sub/keep}
      ignore_errors: true
    - file: {path: /tmp/canarylink/secret, state: absent}
    - stat: {path: /tmp/canarylink/secret}
      register: st
    - shell: cat /tmp/shlink/secret /tmp/rootlink/CANARY/secret /tmp/d/up/CANARY/sub/keep
      register: cat
      ignore_errors: true
    - copy:
        dest: /tmp/result.txt
        content: "{{ st.stat.exists }} rc={{ cat.rc }} out={{ cat.stdout }}"
"#,
        &[],
        &[],
    );
    run.expect_code(0);
    lab.assert_untouched();
    // Links keep the target the playbook gave, as in a chroot.
    assert_eq!(lab.link("h1", "/tmp/rootlink"), "/");
    assert_eq!(lab.link("h1", "/tmp/d/up"), "../../../../../..");
    assert_eq!(
        lab.link("h1", "/tmp/canarylink"),
        lab.canary.display().to_string()
    );
    assert_eq!(
        lab.link("h1", "/tmp/shlink"),
        lab.canary.display().to_string()
    );
    assert_eq!(lab.read("h1", "/tmp/via-abs.txt"), "abs\n");
    assert_eq!(lab.read("h1", "/via-rel.txt"), "rel\n");
    assert_eq!(lab.read("h1", "/tmp/d/in-dir.txt"), "dir\n");
    assert_eq!(lab.read("h1", "/tmp/line.txt"), "line\n");
    assert_eq!(lab.read("h1", "/tpl.txt"), "tpl\n");
    assert_eq!(lab.read("h1", "/shell.txt"), "shell\n");
    assert_eq!(lab.read("h1", "/deep.txt"), "deep\n");
    assert!(!lab.exists("h1", "/tmp/pwned"));
    // The three writes through dangling links fail the way Ansible reports a missing
    // destination directory or file.
    assert!(run
        .stdout
        .contains("Destination directory /tmp/canarylink does not exist"));
    assert!(run
        .stdout
        .contains("Destination /tmp/shlink/secret does not exist !"));
    assert_eq!(
        run.stdout.matches("...ignoring").count(),
        4,
        "{}",
        run.stdout
    );
    assert_eq!(lab.read("h1", "/tmp/result.txt"), "False rc=1 out=");
}

#[test]
fn host_side_checks_and_edits_through_a_root_symlink_see_only_the_host() {
    let lab = Lab::new("hostside");
    let run = lab.run(
        "h1\n",
        r#"
- hosts: h1
  gather_facts: false
  tasks:
    - file: {src: /, dest: /tmp/r, state: link}
    # The canary's path through the link is the canary's path inside h1: absent.
    - command: echo ran
      args: {creates: /tmp/rCANARY/secret}
      register: creates
    - command: echo ran
      args: {removes: /tmp/rCANARY/secret}
      register: removes
    - stat: {path: /tmp/rCANARY/secret}
      register: st
    - copy:
        dest: /tmp/checks
        content: "{{ creates.stdout }} {{ removes.stdout is search('skipped, since .* does not exist') }} {{ st.stat.exists }}\n"
    - blockinfile: {path: /tmp/rCANARY/secret, block: pwned}
      ignore_errors: true
    - file: {path: /tmp/rCANARY/secret, state: absent}
    - file: {path: /tmp/rCANARY/secret, mode: "0777"}
      ignore_errors: true
    - file: {path: /tmp/rCANARY, state: touch}
      ignore_errors: true
    - shell: cp -r /tmp/rCANARY /tmp/cp; mv /tmp/rCANARY/secret /tmp/mv; chmod 000 /tmp/rCANARY/secret; ls /tmp/rCANARY
      ignore_errors: true
"#,
        &[],
        &[],
    );
    run.expect_code(0);
    lab.assert_untouched();
    assert_eq!(lab.read("h1", "/tmp/checks"), "ran True False\n");
    assert_eq!(
        run.stdout.matches("...ignoring").count(),
        4,
        "{}",
        run.stdout
    );
    assert!(!lab.exists("h1", "/tmp/cp") && !lab.exists("h1", "/tmp/mv"));
}

#[test]
fn hard_links_only_join_files_of_the_same_host() {
    let lab = Lab::new("hard");
    let run = lab.run(
        "h1\n",
        r#"
- hosts: h1
  gather_facts: false
  tasks:
    - copy: {dest: /tmp/orig, content: "orig\n"}
    - file: {src: /, dest: /tmp/rootlink, state: link}
    - file: {src: /tmp/orig, dest: /tmp/hard, state: hard}
    - file: {src: /tmp/rootlink/tmp/orig, dest: /tmp/hard-via-link, state: hard}
    - shell: ln /tmp/orig /tmp/shell-hard && echo more >> /tmp/hard
    - file: {src: CANARY/secret, dest: /tmp/hard-canary, state: hard}
      ignore_errors: true
    - file: {src: /tmp/rootlink/../../CANARY/secret, dest: /tmp/hard-canary2, state: hard}
      ignore_errors: true
    - shell: ln CANARY/secret /tmp/shell-hard-canary
      ignore_errors: true
"#,
        &[],
        &[],
    );
    run.expect_code(0);
    lab.assert_untouched();
    let orig = inode(&lab.host("h1").join("tmp/orig"));
    for p in ["tmp/hard", "tmp/hard-via-link", "tmp/shell-hard"] {
        assert_eq!(inode(&lab.host("h1").join(p)), orig, "{p}");
    }
    assert_eq!(lab.read("h1", "/tmp/orig"), "orig\nmore\n");
    for p in [
        "/tmp/hard-canary",
        "/tmp/hard-canary2",
        "/tmp/shell-hard-canary",
    ] {
        assert!(!lab.exists("h1", p), "{p}");
    }
    assert_eq!(
        run.stdout.matches("...ignoring").count(),
        3,
        "{}",
        run.stdout
    );
}

#[test]
fn shell_redirections_and_chdir_stay_inside() {
    let lab = Lab::new("shell");
    let run = lab.run(
        "h1\n",
        r#"
- hosts: h1
  gather_facts: false
  tasks:
    - file: {src: /, dest: /tmp/rootlink, state: link}
    - shell: echo out > ../../../../../..REALTMP-redirect
      args: {chdir: /tmp}
    - shell: cd /; cd ..; cd ../..; pwd > /tmp/pwd.txt; echo up > up.txt
    - shell: echo abs > REALTMP-abs; echo append >> REALTMP-abs
    - command: touch escaped
      args: {chdir: "/tmp/../../.."}
    - shell: echo here > here.txt
      args: {chdir: /tmp/rootlink/tmp/rootlink/tmp}
    - command: pwd
      args: {chdir: CANARY}
      ignore_errors: true
    - shell: echo pwned >> CANARY/secret
      ignore_errors: true
    - shell: cd CANARY && echo pwned > pwned
      ignore_errors: true
"#,
        &[],
        &[],
    );
    run.expect_code(0);
    lab.assert_untouched();
    let name = &lab.real_tmp;
    assert_eq!(lab.read("h1", &format!("{name}-redirect")), "out\n");
    assert_eq!(lab.read("h1", &format!("{name}-abs")), "abs\nappend\n");
    assert_eq!(lab.read("h1", "/tmp/pwd.txt"), "/\n");
    assert_eq!(lab.read("h1", "/up.txt"), "up\n");
    assert_eq!(lab.read("h1", "/escaped"), "");
    assert_eq!(lab.read("h1", "/tmp/here.txt"), "here\n");
    assert!(run.stdout.contains(&format!(
        "Unable to change directory before execution: {}: No such file or directory",
        lab.canary.display()
    )));
    assert_eq!(
        run.stdout.matches("...ignoring").count(),
        3,
        "{}",
        run.stdout
    );
}

#[test]
fn rm_rf_root_on_one_host_leaves_the_others() {
    let lab = Lab::new("rmrf");
    let run = lab.run(
        "h1\nh2\nh3\n",
        r#"
- hosts: all
  gather_facts: false
  tasks:
    - copy: {dest: /tmp/keep, content: "{{ inventory_hostname }}\n"}
    - file: {path: /srv, state: directory}
    - copy: {dest: /srv/keep, content: "srv\n"}
    - file: {src: CANARY, dest: /tmp/canarylink, state: link, force: true}
    - file: {src: ../../../.., dest: /tmp/up, state: link}
    - shell: rm -rf /tmp/canarylink/ /tmp/up/CANARY /tmp/up/../../CANARY/sub
      when: inventory_hostname == 'h1'
    - shell: cd /; rm -rf --no-preserve-root /
      when: inventory_hostname == 'h1'
    - file: {path: /tmp/up, state: absent}
      when: inventory_hostname == 'h2'
    - stat: {path: /tmp/keep}
      register: keep
    - shell: ls -a / && echo {{ keep.stat.exists }} > /after.txt
"#,
        &[],
        &[],
    );
    run.expect_code(0);
    lab.assert_untouched();
    // h1 is empty but for what the last task wrote; its root folder survives, as a chroot's
    // root does.
    let h1 = tree(&lab.host("h1"));
    assert_eq!(
        h1.into_iter().collect::<Vec<_>>(),
        [("after.txt".to_string(), "f 644 False\n".to_string())]
    );
    for h in ["h2", "h3"] {
        assert_eq!(lab.read(h, "/tmp/keep"), format!("{h}\n"));
        assert_eq!(lab.read(h, "/srv/keep"), "srv\n");
        assert_eq!(lab.read(h, "/after.txt"), "True\n");
    }
    assert!(!lab.exists("h2", "/tmp/up"));
    assert_eq!(lab.link("h3", "/tmp/up"), "../../../..");
}

/// The simulated controller (`localhost`), seeded with its own /etc files.
fn seed_controller(lab: &Lab) {
    let etc = lab.host("localhost").join("etc");
    fs::create_dir_all(&etc).unwrap();
    fs::write(etc.join("hostname"), "simulated-controller\n").unwrap();
    fs::write(etc.join("passwd"), "simulated passwd\n").unwrap();
}

const LOOKUPS: &str = r#"
- hosts: h1
  gather_facts: false
  tasks:
    - copy:
        dest: /tmp/lookups.txt
        content: |
          pipe={{ lookup('pipe', 'cat /etc/hostname') }}
          file={{ lookup('file', '/etc/passwd') }}
          HOME={{ lookup('env', 'HOME') }}
          USER={{ lookup('env', 'USER') }}
          PATH={{ lookup('env', 'PATH') }}
          SECRET={{ lookup('env', 'FLEETSIM_SECRET') }}
"#;

#[test]
fn controller_lookups_read_the_simulated_controller() {
    let lab = Lab::new("lookups");
    seed_controller(&lab);
    // A distinctive real environment: none of it may show through.
    let real_env = [
        ("FLEETSIM_SECRET", "leak"),
        ("HOME", "/real/home/leak"),
        ("USER", "realuser"),
        ("PATH", &*std::env::var("PATH").unwrap()),
    ];
    let run = lab.run("h1\n", LOOKUPS, &[], &real_env);
    run.expect_code(0);
    lab.assert_untouched();
    let sim_path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
    let want = |secret: &str| {
        format!(
            "pipe=simulated-controller\nfile=simulated passwd\nHOME=/root\nUSER=root\n\
             PATH={sim_path}\nSECRET={secret}\n"
        )
    };
    assert_eq!(lab.read("h1", "/tmp/lookups.txt"), want(""));

    // Only `--env` passes a value through.
    let run = lab.run(
        "h1\n",
        LOOKUPS,
        &["--env", "FLEETSIM_SECRET=given"],
        &real_env,
    );
    run.expect_code(0);
    assert_eq!(lab.read("h1", "/tmp/lookups.txt"), want("given"));
}

#[test]
fn controller_reads_of_real_absolute_paths_fail() {
    let lab = Lab::new("ctlread");
    let run = lab.run(
        "h1\n",
        r#"
- hosts: h1
  gather_facts: false
  tasks:
    - debug: {msg: "{{ lookup('file', '/etc/passwd') }}"}
      ignore_errors: true
    - debug: {msg: "{{ lookup('file', 'CANARY/secret') }}"}
      ignore_errors: true
    - debug: {msg: "{{ lookup('pipe', 'cat /etc/hostname CANARY/secret') }}"}
      ignore_errors: true
    - copy: {src: CANARY/secret, dest: /tmp/secret}
      ignore_errors: true
    - template: {src: CANARY/secret, dest: /tmp/secret}
      ignore_errors: true
    - copy: {dest: CANARY/secret, content: "x\n"}
      delegate_to: localhost
      ignore_errors: true
    - debug: {msg: "{{ lookup('file', '/etc/hostname') }}"}
"#,
        &[],
        &[],
    );
    // The last task fails for real: the simulated controller has no /etc/hostname.
    run.expect_code(2);
    lab.assert_untouched();
    let real_passwd = fs::read_to_string("/etc/passwd").unwrap_or_default();
    let first = real_passwd.lines().next().unwrap_or("root:x:0:0");
    assert!(!run.stdout.contains(first), "real /etc/passwd was read");
    assert!(run
        .stdout
        .contains("Unable to access the file '/etc/passwd': File not found"));
    let canary = lab.canary.display();
    assert!(run.stdout.contains(&format!(
        "Unable to access the file '{canary}/secret': File not found"
    )));
    assert!(run
        .stdout
        .contains(&format!("Could not find or access '{canary}/secret'")));
    assert!(run
        .stdout
        .contains("The lookup plugin 'pipe' failed: lookup_plugin.pipe(cat /etc/hostname"));
    assert!(run
        .stdout
        .contains(&format!("Destination directory {canary} does not exist")));
    assert!(run
        .stdout
        .contains("Unable to access the file '/etc/hostname': File not found"));
    assert_eq!(
        run.stdout.matches("...ignoring").count(),
        6,
        "{}",
        run.stdout
    );
    assert!(!lab.exists("h1", "/tmp/secret"));
}

/// Controller-side reads that still reach the real machine (engine bugs, reported; the
/// README says absolute controller paths resolve inside `localhost`'s sandbox). The test
/// below fails when one of these stops leaking (remove it from the list then) and when any
/// other probe leaks.
const KNOWN_ESCAPES: &[&str] = &[];

/// Every probe first makes the simulated controller's root exist and gives it a link to
/// the real `/`'s path: `/tmp/rootlink -> /`.
const PROBE_SETUP: &str = "- hosts: h1\n  gather_facts: false\n  tasks:\n    - file: {src: /, dest: /tmp/rootlink, state: link}\n      delegate_to: localhost\n";

#[test]
fn controller_reads_that_reach_the_real_machine() {
    let lab = Lab::new("ctlprobe");
    // `/..` three times from SANDBOX/hosts/localhost is the folder that holds the canary.
    let dotdot = "/../../../canary/vars.yml";
    let via_link = "/tmp/rootlinkCANARY/vars.yml";
    let probes = [
        (
            "vars_files-absolute",
            "- hosts: h1\n  gather_facts: false\n  vars_files: [CANARY/vars.yml]\n  tasks:\n    - debug: {var: leaked}\n".to_string(),
        ),
        (
            "include_vars-absolute",
            format!("{PROBE_SETUP}    - include_vars: {{file: CANARY/vars.yml}}\n    - debug: {{var: leaked}}\n"),
        ),
        (
            "lookup-file-absolute",
            format!("{PROBE_SETUP}    - debug: {{msg: \"{{{{ lookup('file', 'CANARY/vars.yml') }}}}\"}}\n"),
        ),
        (
            "lookup-file-dotdot",
            format!("{PROBE_SETUP}    - debug: {{msg: \"{{{{ lookup('file', '{dotdot}') }}}}\"}}\n"),
        ),
        (
            "lookup-template-via-controller-symlink",
            format!("{PROBE_SETUP}    - debug: {{msg: \"{{{{ lookup('template', '{via_link}') }}}}\"}}\n"),
        ),
        (
            "copy-src-dotdot",
            format!("{PROBE_SETUP}    - copy: {{src: \"{dotdot}\", dest: /tmp/out}}\n"),
        ),
        (
            "template-src-dotdot",
            format!("{PROBE_SETUP}    - template: {{src: \"{dotdot}\", dest: /tmp/out}}\n"),
        ),
        (
            "copy-src-via-controller-symlink",
            format!("{PROBE_SETUP}    - copy: {{src: \"{via_link}\", dest: /tmp/out}}\n"),
        ),
        (
            "template-src-via-controller-symlink",
            format!("{PROBE_SETUP}    - template: {{src: \"{via_link}\", dest: /tmp/out}}\n"),
        ),
    ];
    let mut leaking = Vec::new();
    for (name, playbook) in &probes {
        let _ = fs::remove_dir_all(&lab.sandbox);
        let run = lab.run("h1\n", playbook, &[], &[]);
        // Failing is fine (the file is not in the controller's sandbox); panicking is not.
        assert!(
            matches!(run.code, Some(0 | 2)) && !run.stderr.contains("panicked"),
            "{name}: {run:?}"
        );
        lab.assert_untouched();
        let copied = tree(&lab.host("h1"))
            .values()
            .any(|v| v.contains("real canary value"));
        if run.stdout.contains("real canary value") || copied {
            leaking.push(*name);
        }
    }
    assert_eq!(
        leaking, KNOWN_ESCAPES,
        "probes that read the real canary (update KNOWN_ESCAPES only when one is fixed)"
    );
}

#[test]
fn shell_and_facts_see_the_simulated_environment() {
    let lab = Lab::new("shellenv");
    let run = lab.run(
        "h1\n",
        r#"
- hosts: h1
  gather_facts: true
  tasks:
    - shell: echo "HOME=$HOME SECRET=$FLEETSIM_SECRET USER=$USER" > /tmp/shell-env
    - shell: cat /proc/self/environ /etc/hostname CANARY/secret
      ignore_errors: true
    - copy:
        dest: /tmp/facts
        content: "{{ ansible_env.HOME }} {{ ansible_env.FLEETSIM_SECRET | default('unset') }} {{ ansible_hostname }} {{ ansible_user_id }}\n"
"#,
        &[],
        &[("FLEETSIM_SECRET", "leak"), ("HOME", "/real/home/leak")],
    );
    run.expect_code(0);
    lab.assert_untouched();
    assert_eq!(
        lab.read("h1", "/tmp/shell-env"),
        "HOME=/root SECRET= USER=root\n"
    );
    // The host is named after its inventory name, not the real machine.
    assert_eq!(lab.read("h1", "/tmp/facts"), "/root unset h1 root\n");
    assert!(run
        .stdout
        .contains("cat: /proc/self/environ: No such file or directory"));
}

#[test]
fn temporary_sandbox_removal_does_not_follow_links() {
    let lab = Lab::new("tmpsandbox");
    // Without --sandbox the sandbox is a temp dir (under TMPDIR) removed at exit; its links
    // to / and to the canary must be removed as links, not followed.
    let tmpdir = lab.play.join("tmpdir");
    fs::create_dir_all(&tmpdir).unwrap();
    fs::write(lab.play.join("inv"), "h1\n").unwrap();
    fs::write(
        lab.play.join("p.yml"),
        lab.fill(
            r#"
- hosts: h1
  gather_facts: false
  tasks:
    - file: {src: CANARY, dest: /tmp/canarylink, state: link, force: true}
    - file: {src: /, dest: /tmp/rootlink, state: link}
    - shell: ln -s CANARY/sub /tmp/sublink && ln -s ../../.. /tmp/up
"#,
        ),
    )
    .unwrap();
    let run = fleetsim(
        &lab.play,
        &["playbook", "-i", "inv", "p.yml", "--seed", "7"],
        &[("TMPDIR", tmpdir.to_str().unwrap())],
    );
    run.expect_code(0);
    lab.assert_untouched();
    let left: Vec<_> = fs::read_dir(&tmpdir).unwrap().collect();
    assert!(left.is_empty(), "temporary sandbox left behind: {left:?}");
}

#[test]
fn issue_14_host_names_with_slashes_and_dots_stay_under_hosts() {
    let lab = Lab::new("hostnames");
    let run = lab.run(
        "\"../../escaped\" ansible_connection=local\n\"a/b\"\n\"..\"\n",
        r#"
- hosts: all
  gather_facts: false
  tasks:
    - copy: {dest: /tmp/mine, content: "{{ inventory_hostname }}\n"}
"#,
        &[],
        &[],
    );
    run.expect_code(0);
    lab.assert_untouched();
    // `ansible_connection=local` shares the controller's files (a link to localhost).
    let link = fs::read_link(lab.host("..%2F..%2Fescaped")).unwrap();
    assert_eq!(link, Path::new("localhost"));
    assert_eq!(lab.read("localhost", "/tmp/mine"), "../../escaped\n");
    assert_eq!(lab.read("a%2Fb", "/tmp/mine"), "a/b\n");
    assert_eq!(lab.read("%2E%2E", "/tmp/mine"), "..\n");
}

/// The hint that follows a read refused for being outside the project.
fn outside_hint(path: &str) -> String {
    format!(
        "fleetsim: hint: '{path}' is outside the project (the folders of the playbooks and \
         inventories, the roles paths, the controller's sandbox): fleetsim reads nothing else of \
         this machine; add --project-root DIR to let a run read the folder DIR"
    )
}

#[test]
fn issue_14_relative_and_linked_controller_reads_stay_in_the_project() {
    let lab = Lab::new("project");
    // Links inside the project to files and folders outside it.
    std::os::unix::fs::symlink("../canary/secret", lab.play.join("secret-link")).unwrap();
    std::os::unix::fs::symlink("../canary", lab.play.join("canary-dir")).unwrap();
    fs::create_dir_all(lab.play.join("frags")).unwrap();
    fs::write(lab.play.join("frags/a"), "fragment a\n").unwrap();
    std::os::unix::fs::symlink("../../canary/secret", lab.play.join("frags/b")).unwrap();
    let run = lab.run(
        "h1\n",
        r#"
- hosts: h1
  gather_facts: false
  tasks:
    - debug: {msg: "{{ lookup('file', '../canary/secret') }}"}
      ignore_errors: true
    - debug: {msg: "{{ lookup('file', 'secret-link') }}"}
      ignore_errors: true
    - debug: {msg: "{{ lookup('template', 'canary-dir/vars.yml') }}"}
      ignore_errors: true
    - copy: {src: ../canary/secret, dest: /tmp/secret}
      ignore_errors: true
    - template: {src: secret-link, dest: /tmp/secret}
      ignore_errors: true
    - include_vars: ../canary/vars.yml
      ignore_errors: true
    - include_vars: {dir: canary-dir}
      ignore_errors: true
    - assemble: {src: frags, dest: /tmp/assembled, remote_src: false}
    - debug: {msg: "{{ leaked | default('not leaked') }}"}
"#,
        &[],
        &[],
    );
    run.expect_code(0);
    lab.assert_untouched();
    assert!(!run.stdout.contains("real canary value"), "{}", run.stdout);
    assert!(
        run.stdout.contains("\"msg\": \"not leaked\""),
        "{}",
        run.stdout
    );
    assert!(run
        .stdout
        .contains("Unable to access the file '../canary/secret': File not found"));
    assert!(run
        .stdout
        .contains("Unable to access the file 'secret-link': File not found"));
    assert!(run
        .stdout
        .contains("Could not find or access '../canary/vars.yml' on the Ansible Controller."));
    assert!(run.stdout.contains("canary-dir directory does not exist"));
    assert_eq!(
        run.stdout.matches("...ignoring").count(),
        7,
        "{}",
        run.stdout
    );
    // The linked fragment is left out; the one inside the project is assembled.
    assert_eq!(lab.read("h1", "/tmp/assembled"), "fragment a\n");
    assert!(!lab.exists("h1", "/tmp/secret"));
    let canary = lab.canary.display().to_string();
    assert!(
        run.stderr
            .contains(&outside_hint(&format!("{canary}/secret"))),
        "{}",
        run.stderr
    );
    let play = lab.play.display().to_string();
    assert!(run
        .stderr
        .contains(&outside_hint(&format!("{play}/secret-link"))));
}

#[test]
fn issue_14_imports_and_extra_vars_files_outside_the_project_are_not_read() {
    let lab = Lab::new("imports");
    let canary = lab.canary.display().to_string();
    let run = lab.run(
        "h1\n",
        "- hosts: h1\n  gather_facts: false\n  tasks:\n    - import_tasks: CANARY/vars.yml\n",
        &[],
        &[],
    );
    run.expect_code(1);
    lab.assert_untouched();
    assert!(
        run.stderr.contains(&format!(
            "[ERROR]: Unable to retrieve file contents.\nCould not find or access '{canary}/vars.yml' on the Ansible Controller."
        )),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("real canary value"));
    assert!(run
        .stderr
        .contains(&outside_hint(&format!("{canary}/vars.yml"))));

    let vars_arg = format!("@{canary}/vars.yml");
    let playbook = "- hosts: h1\n  gather_facts: false\n  tasks:\n    - debug: {var: leaked}\n";
    let run = lab.run("h1\n", playbook, &["-e", &vars_arg], &[]);
    run.expect_code(1);
    assert!(run.stderr.contains(&format!(
        "[ERROR]: Unable to retrieve file contents.\nCould not find or access '{canary}/vars.yml' on the Ansible Controller."
    )));
    assert!(!run.stderr.contains("real canary value"));

    // Named with --project-root, the folder is part of the project.
    let run = lab.run(
        "h1\n",
        playbook,
        &["-e", &vars_arg, "--project-root", &canary],
        &[],
    );
    run.expect_code(0);
    assert!(run.stdout.contains("\"leaked\": \"real canary value\""));
    lab.assert_untouched();
}

/// The controller is `localhost`'s filesystem in the sandbox; the managed hosts' folders
/// beside it are their disks, which the controller cannot read through a real path either.
/// (An absolute path is the simulated controller's own, so only a relative path from the
/// project reaches the real sandbox folder.)
#[test]
fn the_controller_reads_its_own_sandbox_not_the_other_hosts() {
    let lab = Lab::new("ctlhosts");
    let playbook = r#"
- hosts: h1
  gather_facts: false
  tasks:
    - copy: {dest: /tmp/private.txt, content: "h1 private\n"}
    - copy: {dest: /tmp/ctl.txt, content: "controller file\n"}
      delegate_to: localhost
    - debug: {msg: "{{ lookup('file', '../sandbox/hosts/h1/tmp/private.txt') }}"}
      ignore_errors: true
    - debug: {msg: "{{ lookup('file', '../sandbox/hosts/localhost/tmp/ctl.txt') }}"}
    - debug: {msg: "{{ lookup('file', '/tmp/ctl.txt') }}"}
"#;
    let run = lab.run("h1\n", playbook, &[], &[]);
    run.expect_code(0);
    lab.assert_untouched();
    assert!(
        run.stdout.contains(
            "Unable to access the file '../sandbox/hosts/h1/tmp/private.txt': File not found"
        ),
        "{}",
        run.stdout
    );
    assert!(!run.stdout.contains("h1 private"), "{}", run.stdout);
    assert_eq!(
        run.stdout.matches("\"msg\": \"controller file\"").count(),
        2,
        "{}",
        run.stdout
    );
}

/// Inventory variables and inventory folders are controller reads too: a `group_vars/all`
/// folder, a `host_vars` file or an inventory folder's entry that links out of the project
/// is not followed (it reads as missing, with the hint), so nothing of the canary reaches a
/// variable or a host name.
#[test]
fn inventory_links_out_of_the_project_are_not_followed() {
    let lab = Lab::new("invlinks");
    fs::create_dir_all(lab.play.join("group_vars")).unwrap();
    fs::create_dir_all(lab.play.join("host_vars")).unwrap();
    fs::create_dir_all(lab.play.join("invdir")).unwrap();
    std::os::unix::fs::symlink(&lab.canary, lab.play.join("group_vars/all")).unwrap();
    std::os::unix::fs::symlink(
        lab.canary.join("vars.yml"),
        lab.play.join("host_vars/h1.yml"),
    )
    .unwrap();
    fs::write(lab.play.join("invdir/hosts"), "h1\n").unwrap();
    std::os::unix::fs::symlink(lab.canary.join("secret"), lab.play.join("invdir/leak")).unwrap();
    let playbook = "
- hosts: all
  gather_facts: false
  tasks:
    - debug: {msg: \"{{ leaked | default('not read') }} {{ groups['all'] | join(',') }}\"}
";
    for inventory in ["inv", "invdir"] {
        fs::write(lab.play.join("inv"), "h1\n").unwrap();
        fs::write(lab.play.join("p.yml"), playbook).unwrap();
        let sandbox = lab.sandbox.to_str().unwrap();
        let run = fleetsim(
            &lab.play,
            &["playbook", "-i", inventory, "p.yml", "--sandbox", sandbox],
            &[],
        );
        run.expect_code(0);
        assert!(
            run.stdout.contains("\"msg\": \"not read h1\""),
            "{}",
            run.stdout
        );
        assert!(!run.stdout.contains("canary"), "{}", run.stdout);
        for refused in ["group_vars/all", "host_vars/h1.yml"] {
            let shown = format!(
                "fleetsim: hint: '{}/{refused}' is outside the project",
                lab.play.display()
            );
            assert!(run.stderr.contains(&shown), "{}", run.stderr);
        }
    }
    lab.assert_untouched();
}
