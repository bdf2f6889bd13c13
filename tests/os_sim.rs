//! The simulated operating systems (issue #13), driven through the binary: an introductory
//! playbook (packages, users, groups, a template, a service with its handler, cron, the host
//! name, facts checked with `assert`) on Debian, Ubuntu and Rocky hosts, its second run
//! idempotent; the state it leaves as files in the sandbox; the errors of the classic
//! mistakes; a fleet app restarted through its unit.

mod support;

use std::path::{Path, PathBuf};

use support::{fleetsim, START};

fn data() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/os")
}

fn run(sandbox: &Path, inventory: &str, playbook: &str, extra: &[&str]) -> support::Run {
    let sb = sandbox.display().to_string();
    let mut args = vec![
        "playbook",
        "-i",
        inventory,
        playbook,
        "--sandbox",
        &sb,
        "--seed",
        "7",
        "--start-time",
        START,
    ];
    args.extend_from_slice(extra);
    fleetsim(&data(), &args, &[])
}

fn recap(stdout: &str, host: &str) -> String {
    stdout
        .lines()
        .find(|l| l.starts_with(&format!("{host} ")) && l.contains("ok="))
        .unwrap_or_else(|| panic!("no recap line for {host} in\n{stdout}"))
        .to_string()
}

#[test]
fn introductory_playbook_runs_on_every_distribution_and_is_idempotent() {
    let dir = tempfile::tempdir().unwrap();
    let first = run(dir.path(), "inventory.ini", "intro.yml", &[]);
    first.expect_code(0);
    for h in ["deb1", "rocky1", "ubu1", "plain1"] {
        assert!(
            recap(&first.stdout, h).contains("failed=0"),
            "{}",
            first.stdout
        );
        assert!(
            !recap(&first.stdout, h).contains("changed=0"),
            "{}",
            first.stdout
        );
    }
    let second = run(dir.path(), "inventory.ini", "intro.yml", &[]);
    second.expect_code(0);
    for h in ["deb1", "rocky1", "ubu1", "plain1"] {
        assert!(
            recap(&second.stdout, h).contains("changed=0"),
            "{}",
            second.stdout
        );
    }
    // The state is files a user can inspect.
    let host = |h: &str, p: &str| {
        std::fs::read_to_string(dir.path().join("hosts").join(h).join(p)).unwrap_or_default()
    };
    assert!(host("deb1", "var/lib/dpkg/status")
        .contains("Package: nginx\nStatus: install ok installed"));
    assert!(host("rocky1", "var/lib/rpm/fleetsim-rpmdb")
        .contains("nginx 1:1.20.1-20.el9.0.1 x86_64 user"));
    assert!(host("rocky1", "etc/passwd").contains("alice:x:1000:"));
    assert!(host("deb1", "etc/group").contains("admins:x:1000:alice,bob"));
    assert!(host("deb1", "var/spool/cron/crontabs/root")
        .contains("#Ansible: backup\n0 2 * * * /usr/local/bin/backup.sh"));
    assert!(host("rocky1", "var/spool/cron/root").contains("#Ansible: backup"));
    assert_eq!(host("ubu1", "etc/hostname"), "ubu1.lab.example\n");
    assert_eq!(host("rocky1", "run/fleetsim/units/nginx"), "active\n");
    assert!(host("deb1", "etc/nginx/nginx.conf").starts_with("user www-data;"));
    assert!(host("rocky1", "usr/share/nginx/html/index.html").contains("Rocky 9.5"));
}

#[test]
fn facts_follow_the_distribution() {
    let dir = tempfile::tempdir().unwrap();
    let pb = dir.path().join("facts.yml");
    std::fs::write(
        &pb,
        "- hosts: rocky1,ubu1\n  tasks:\n    - debug:\n        msg: \"{{ ansible_distribution }} {{ ansible_distribution_version }} {{ ansible_os_family }} {{ ansible_pkg_mgr }} {{ ansible_distribution_release }}\"\n",
    )
    .unwrap();
    let r = run(dir.path(), "inventory.ini", &pb.display().to_string(), &[]);
    r.expect_code(0);
    assert!(
        r.stdout
            .contains("\"msg\": \"Rocky 9.5 RedHat dnf Blue Onyx\""),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout
            .contains("\"msg\": \"Ubuntu 24.04 Debian apt noble\""),
        "{}",
        r.stdout
    );
}

#[test]
fn unknown_distribution_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let inv = dir.path().join("inv.ini");
    std::fs::write(&inv, "h1 fleetsim_os=arch\n").unwrap();
    let pb = dir.path().join("p.yml");
    std::fs::write(&pb, "- hosts: all\n  tasks:\n    - ping:\n").unwrap();
    let r = run(
        dir.path(),
        &inv.display().to_string(),
        &pb.display().to_string(),
        &[],
    );
    r.expect_code(2);
    assert!(
        r.stdout.contains("fleetsim_os: unknown distribution 'arch' (fleetsim simulates debian-12, ubuntu-24.04, rocky-9)"),
        "{}",
        r.stdout
    );
}

#[test]
fn classic_mistakes_fail_as_the_package_managers_and_systemd_do() {
    let dir = tempfile::tempdir().unwrap();
    let r = run(
        dir.path(),
        "inventory.ini",
        "mistakes.yml",
        &["-l", "deb1,rocky1"],
    );
    r.expect_code(0);
    let out = &r.stdout;
    assert!(out.contains("fatal: [deb1]: FAILED! => {\"changed\": false, \"msg\": \"No package matching 'nginx-extras-nope' is available\"}"), "{out}");
    assert!(out.contains("\"failures\": [\"No package nginx-extras-nope available.\"], \"msg\": \"Failed to install some of the specified packages\""), "{out}");
    assert!(
        out.contains("Could not import the python3-apt module"),
        "{out}"
    );
    assert!(
        out.contains("Could not import the dnf python module"),
        "{out}"
    );
    assert!(
        out.contains("\"msg\": \"Could not find the requested service nginx: host\""),
        "{out}"
    );
    assert!(
        out.contains("\"msg\": \"Group nosuchgroup does not exist\""),
        "{out}"
    );
}

#[test]
fn restarting_a_fleet_apps_unit_restarts_the_app() {
    let dir = tempfile::tempdir().unwrap();
    let events = dir.path().join("events.jsonl");
    let ev = events.display().to_string();
    let r = run(
        dir.path(),
        "fleet-inventory.ini",
        "restart-app.yml",
        &["--fleet", "fleet.yml", "--events", &ev, "-v"],
    );
    r.expect_code(0);
    let log = std::fs::read_to_string(&events).unwrap();
    assert!(
        log.lines()
            .any(|l| l.contains("\"app_restart\"") && l.contains("systemctl restart")),
        "{log}"
    );
    assert!(log.lines().any(|l| l.contains("\"app_up\"")), "{log}");
    // Right after the restart the app is still starting; the retries see it come back.
    assert!(r.stdout.contains("...ignoring"), "{}", r.stdout);
    assert!(
        r.stdout
            .contains("FAILED - RETRYING: [app1]: Wait until healthy")
            || r.stdout.contains("ok: [app1]"),
        "{}",
        r.stdout
    );
}

#[test]
fn web_server_basics_lab_runs_as_its_steps_expect() {
    let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let r = fleetsim(&repo, &["lab", "scenarios/web-server-basics"], &[]);
    r.expect_code(0);
    let summary = r
        .stdout
        .split("LAB SUMMARY")
        .nth(1)
        .unwrap_or_default()
        .to_string();
    assert_eq!(summary.matches("   ok").count(), 5, "{}", r.stdout);
    assert!(r
        .stdout
        .contains("Could not find the requested service nginx: host"));
    assert!(r
        .stdout
        .contains("The requested handler 'restart nginx' was not found"));
    assert!(
        r.stdout.contains("'site_titel' is undefined"),
        "{}",
        r.stdout
    );
}

#[test]
fn shell_commands_see_the_same_state_as_the_modules() {
    let dir = tempfile::tempdir().unwrap();
    let pb = dir.path().join("shell.yml");
    std::fs::write(
        &pb,
        r#"- hosts: deb1,rocky1
  gather_facts: false
  tasks:
    - package: {name: git, state: present}
    - user: {name: dana}
    - shell: "{{ 'dpkg -l git | tail -1 | cut -c1-7' if inventory_hostname == 'deb1' else 'rpm -q git' }}; id dana; getent passwd dana | cut -d: -f1,6; systemctl is-active {{ 'ssh' if inventory_hostname == 'deb1' else 'sshd' }}"
      register: out
    - debug: {var: out.stdout_lines}
    - command: apt-get install -y no-such-pkg
      when: inventory_hostname == 'deb1'
      ignore_errors: true
"#,
    )
    .unwrap();
    let r = run(dir.path(), "inventory.ini", &pb.display().to_string(), &[]);
    r.expect_code(0);
    let out = &r.stdout;
    assert!(out.contains("\"ii  git\","), "{out}");
    assert!(out.contains("\"git-2.43.5-2.el9_5.x86_64\","), "{out}");
    assert!(
        out.contains("\"uid=1000(dana) gid=1000(dana) groups=1000(dana)\","),
        "{out}"
    );
    assert!(out.contains("\"dana:/home/dana\","), "{out}");
    assert!(
        out.contains("E: Unable to locate package no-such-pkg"),
        "{out}"
    );
}

#[test]
fn a_baseline_playbook_written_apart_runs_twice_on_debian_and_rocky() {
    let dir = tempfile::tempdir().unwrap();
    let limit = ["-l", "deb1,rocky1"];
    let first = run(dir.path(), "inventory.ini", "baseline.yml", &limit);
    first.expect_code(0);
    for h in ["deb1", "rocky1"] {
        assert!(
            !recap(&first.stdout, h).contains("changed=0"),
            "{}",
            first.stdout
        );
    }
    let second = run(dir.path(), "inventory.ini", "baseline.yml", &limit);
    second.expect_code(0);
    for h in ["deb1", "rocky1"] {
        assert!(
            recap(&second.stdout, h).contains("changed=0"),
            "{}",
            second.stdout
        );
    }
    let rpmdb = std::fs::read_to_string(dir.path().join("hosts/rocky1/var/lib/rpm/fleetsim-rpmdb"))
        .unwrap_or_default();
    assert!(rpmdb.contains("vim-enhanced "), "{rpmdb}");
}

#[test]
fn raw_prints_what_ansible_prints() {
    let dir = tempfile::tempdir().unwrap();
    let r = run(dir.path(), "inventory.ini", "raw.yml", &["-v"]);
    r.expect_code(0);
    for line in [
        r#"changed: [deb1] => {"changed": true, "rc": 0, "stderr": "err\n", "stderr_lines": ["err"], "stdout": "hi\n", "stdout_lines": ["hi"]}"#,
        "[ERROR]: Task failed: Action failed: non-zero return code",
        r#"fatal: [deb1]: FAILED! => {"changed": true, "msg": "non-zero return code", "rc": 3, "stderr": "", "stderr_lines": [], "stdout": "", "stdout_lines": []}"#,
        r#"skipping: [deb1] => {"changed": false}"#,
        r#"changed: [deb1] => {"changed": true, "rc": 0, "stderr": "", "stderr_lines": [], "stdout": "/bin/bash\n", "stdout_lines": ["/bin/bash"]}"#,
        r#""stdout_lines": ["Package: bash", "Status: install ok installed"]}"#,
    ] {
        assert!(r.stdout.contains(line), "{line}\nnot in\n{}", r.stdout);
    }
}

#[test]
fn get_url_and_unarchive_download_from_a_fleet_artifact_server() {
    // repo1's app serves /srv/www (`docroot:` in the fleet file); web1 downloads a release
    // with a checksum from a checksum file, unpacks it straight from the URL, gets a 404 for
    // a missing one, and times out while a fault takes repo1 off the network.
    let dir = tempfile::tempdir().unwrap();
    let r = run(
        dir.path(),
        "artifacts-inventory.ini",
        "artifacts.yml",
        &[
            "--fleet",
            "artifacts-fleet.yml",
            "--faults",
            "artifacts-faults.yml",
        ],
    );
    r.expect_code(0);
    assert!(
        recap(&r.stdout, "web1").contains("ok=9    changed=3"),
        "{}",
        r.stdout
    );
    let file = |p: &str| dir.path().join("hosts/web1").join(p);
    assert_eq!(
        std::fs::read(file("opt/app-1.0.tar.gz")).unwrap(),
        std::fs::read(data().join("files/app-1.0.tar.gz")).unwrap()
    );
    assert_eq!(
        std::fs::read_to_string(file("opt/app/app-1.0/conf/app.ini")).unwrap(),
        "[app]\nport = 8080\n"
    );
    assert!(!file("opt/down.tar.gz").exists());
}

#[test]
fn apt_repository_writes_sources_and_refreshes_the_cache() {
    let dir = tempfile::tempdir().unwrap();
    let r = run(dir.path(), "inventory.ini", "repos.yml", &[]);
    r.expect_code(0);
    let path = dir
        .path()
        .join("hosts/deb1/etc/apt/sources.list.d/mirror_example_net_debian.list");
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        "deb http://mirror.example.net/debian bookworm contrib\n"
    );
    // The emptied file is removed, as the module's save() removes it.
    assert!(!dir
        .path()
        .join("hosts/deb1/etc/apt/sources.list.d/example.list")
        .exists());
    assert!(
        r.stdout.contains("python3-apt must be installed"),
        "{}",
        r.stdout
    );
}

/// Runs `playbook` (written into the sandbox's folder) against the OS inventory.
fn run_inline(dir: &Path, name: &str, playbook: &str, extra: &[&str]) -> support::Run {
    let pb = dir.join(name);
    std::fs::write(&pb, playbook).unwrap();
    run(dir, "inventory.ini", &pb.display().to_string(), extra)
}

const PIP_PLAYBOOK: &str = r#"- hosts: deb1
  gather_facts: false
  tasks:
    - name: no pip yet
      pip: {name: six}
      ignore_errors: true
    - name: nor in the shell
      shell: pip3 --version
      changed_when: false
      ignore_errors: true
    - apt: {name: [python3-pip, virtualenv]}
    - name: Debian's python is externally managed
      pip: {name: six}
      ignore_errors: true
    - name: a virtualenv with flask
      pip: {name: "flask<3", virtualenv: /opt/app/venv}
      register: venv
    - debug: {var: venv.cmd}
    - name: a requirements file
      copy: {dest: /opt/app/requirements.txt, content: "gunicorn==22.0.0\nrequests>=2.31\n"}
    - pip: {requirements: requirements.txt, chdir: /opt/app, virtualenv: venv}
      register: reqs
    - name: gone again
      pip: {name: six, state: absent, virtualenv: /opt/app/venv}
      register: absent
    - debug: {var: absent.changed}
    - name: what the shell sees
      command: /opt/app/venv/bin/pip freeze
      register: freeze
    - debug: {var: freeze.stdout_lines}
    - name: check mode
      pip: {name: [flask, Django], virtualenv: /opt/app/venv}
      check_mode: true
      register: check
    - debug: {var: check.changed}
    - name: break_system_packages
      pip: {name: "six==1.16.0", break_system_packages: true}
    - name: no such project
      pip: {name: no-such-project, virtualenv: /opt/app/venv}
      ignore_errors: true
"#;

#[test]
fn pip_installs_into_venvs_and_the_system_as_pip_does() {
    let dir = tempfile::tempdir().unwrap();
    let first = run_inline(dir.path(), "pip.yml", PIP_PLAYBOOK, &[]);
    first.expect_code(0);
    let out = &first.stdout;
    for want in [
        "Unable to find any of pip3 to use.  pip needs to be installed.",
        "pip3: not found",
        "error: externally-managed-environment",
        r#""venv.cmd": [
        "/opt/app/venv/bin/pip3",
        "install",
        "flask<3"
    ]"#,
        r#""absent.changed": false"#,
        "\"gunicorn==22.0.0\",",
        "\"Flask==2.3.3\",",
        r#""check.changed": true"#,
        "ERROR: Could not find a version that satisfies the requirement no-such-project (from versions: none)",
    ] {
        assert!(out.contains(want), "{want}\nnot in\n{out}");
    }
    assert!(recap(out, "deb1").contains("failed=0"), "{out}");
    let host = dir.path().join("hosts/deb1");
    assert!(host.join("opt/app/venv/bin/activate").is_file());
    assert!(host
        .join("opt/app/venv/lib/python3.11/site-packages/requests-2.32.3.dist-info/METADATA")
        .is_file());
    assert!(host
        .join("usr/local/lib/python3.11/dist-packages/six-1.16.0.dist-info/METADATA")
        .is_file());
    // The second run changes nothing but what check mode and failures do not count.
    let second = run_inline(dir.path(), "pip.yml", PIP_PLAYBOOK, &[]);
    second.expect_code(0);
    assert!(
        recap(&second.stdout, "deb1").contains("changed=2"),
        "{}",
        second.stdout
    );
}

#[test]
fn debconf_iptables_and_yum_repository_keep_their_state_on_the_host() {
    let dir = tempfile::tempdir().unwrap();
    let pb = r#"- hosts: deb1,rocky1
  gather_facts: false
  tasks:
    - debconf: {name: tzdata, question: tzdata/Areas, vtype: select, value: Europe}
      when: inventory_hostname == 'deb1'
    - debconf: {name: mysql-server, question: mysql-server/root_password, vtype: password, value: s3cret}
      when: inventory_hostname == 'deb1'
    - package: {name: iptables, state: present}
    - iptables: {chain: INPUT, protocol: tcp, destination_port: "22", ctstate: [NEW], jump: ACCEPT, comment: ssh}
    - iptables: {chain: INPUT, source: 10.9.0.0/16, jump: DROP, action: insert}
    - iptables: {chain: LOGDROP, chain_management: true}
    - iptables: {chain: FORWARD, policy: DROP}
    - yum_repository:
        name: epel
        description: EPEL
        baseurl: https://download.example/epel/$releasever/$basearch/
        gpgcheck: true
      when: inventory_hostname == 'rocky1'
    - name: what the shell sees
      shell: "iptables -S; {{ 'debconf-show tzdata mysql-server' if inventory_hostname == 'deb1' else 'ls /etc/yum.repos.d' }}"
      changed_when: false
      register: out
    - debug: {var: out.stdout_lines}
"#;
    let first = run_inline(dir.path(), "extras.yml", pb, &[]);
    first.expect_code(0);
    let out = &first.stdout;
    for want in [
        "\"-P FORWARD DROP\",",
        "\"-N LOGDROP\",",
        "\"-A INPUT -s 10.9.0.0/16 -j DROP\",",
        "\"-A INPUT -p tcp -m tcp --dport 22 -m conntrack --ctstate NEW -m comment --comment ssh -j ACCEPT\"",
        "\"* tzdata/Areas: Europe\"",
        "\"epel.repo\",",
        "\"rocky.repo\"",
    ] {
        assert!(out.contains(want), "{want}\nnot in\n{out}");
    }
    assert_eq!(
        std::fs::read_to_string(dir.path().join("hosts/rocky1/etc/yum.repos.d/epel.repo")).unwrap(),
        "[epel]\nbaseurl = https://download.example/epel/$releasever/$basearch/\ngpgcheck = 1\nname = EPEL\n\n"
    );
    let second = run_inline(dir.path(), "extras.yml", pb, &[]);
    second.expect_code(0);
    for h in ["deb1", "rocky1"] {
        assert!(
            recap(&second.stdout, h).contains("changed=0"),
            "{}",
            second.stdout
        );
    }
}
