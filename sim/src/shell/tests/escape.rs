//! Scripts that try to leave the sandbox: none of them may change anything outside it.

use super::*;
use std::collections::BTreeMap;
use std::path::Path;

fn snapshot(dir: &Path, m: &mut BTreeMap<String, Vec<u8>>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        let md = std::fs::symlink_metadata(&p).unwrap();
        if md.is_dir() {
            m.insert(p.display().to_string(), b"<dir>".to_vec());
            snapshot(&p, m);
        } else {
            m.insert(p.display().to_string(), std::fs::read(&p).unwrap());
        }
    }
}

/// A temp dir with real files next to the sandbox folder, and two hosts.
struct Lab {
    tmp: tempfile::TempDir,
    a: ShellContext,
    b: ShellContext,
}

impl Lab {
    fn new() -> Self {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(tmp.path().join("outside/etc")).unwrap();
        std::fs::write(tmp.path().join("outside/etc/passwd"), "real-secret\n").unwrap();
        std::fs::write(tmp.path().join("outside/victim"), "keep me\n").unwrap();
        let a = new_ctx(&tmp, "a");
        let b = new_ctx(&tmp, "b");
        Lab { tmp, a, b }
    }
    fn outside(&self) -> BTreeMap<String, Vec<u8>> {
        let mut m = BTreeMap::new();
        snapshot(&self.tmp.path().join("outside"), &mut m);
        m
    }
    fn real_outside(&self) -> String {
        self.tmp.path().join("outside").display().to_string()
    }
}

#[test]
fn dotdot_redirections_stay_inside() {
    let mut lab = Lab::new();
    let before = lab.outside();
    let o = lab.real_outside();
    let script = format!(
        "echo pwned > ../../../../../../../../victim; echo pwned > /../../outside/victim; \
         cat ../../../../etc/passwd; echo pwned >> {o}/victim; cd ../../../..; pwd; \
         echo x > ../../../escape; cat {o}/etc/passwd; ls ../../..; cp /work {o} 2>/dev/null; \
         mkdir -p ../../{o}/etc && echo pwned > ../../{o}/etc/passwd"
    );
    let out = run(&script, &mut lab.a);
    assert!(!out.stdout_str().contains("real-secret"));
    assert!(out.stdout_str().contains("/\n"));
    assert_eq!(lab.outside(), before);
    // What was written landed inside host a's root.
    assert_eq!(lab.a.sandbox.read_to_string("/victim").unwrap(), "pwned\n");
    assert!(lab.a.sandbox.exists("/escape"));
}

#[test]
fn symlinks_absolute_relative_chained_and_dirs_stay_inside() {
    let mut lab = Lab::new();
    let before = lab.outside();
    let o = lab.real_outside();
    let script = format!(
        "ln -s /etc/passwd x; cat x; echo rc=$?; \
         ln -s {o}/etc/passwd y; cat y; echo pwned > y; \
         ln -s ../../../../../../../.. up; ls up/ >/dev/null; echo pwned > up/victim; \
         ln -s up chain1; ln -s chain1/.. chain2; echo pwned > chain2/victim2; \
         ln -s {o} dirlink; mkdir -p dirlink/etc; echo pwned > dirlink/etc/passwd; cat dirlink/etc/passwd; \
         rm -rf dirlink; ln -s loop2 loop1; ln -s loop1 loop2; cat loop1"
    );
    let out = run(&script, &mut lab.a);
    assert!(
        !out.stdout_str().contains("real-secret"),
        "{}",
        out.stdout_str()
    );
    assert!(out
        .stderr_str()
        .starts_with("cat: x: No such file or directory\n"));
    assert!(out
        .stderr_str()
        .ends_with("cat: loop1: Too many levels of symbolic links\n"));
    assert_eq!(lab.outside(), before);
    // `ln -s /etc/passwd x; cat x` reads the sandbox's /etc/passwd once it exists.
    let out = run(
        "mkdir -p /etc; echo 'root:x:0:0::/root:/bin/sh' > /etc/passwd; cat x",
        &mut lab.a,
    );
    assert_eq!(out.stdout_str(), "root:x:0:0::/root:/bin/sh\n");
    assert_eq!(lab.outside(), before);
}

#[test]
fn hard_links_only_within_the_root() {
    let mut lab = Lab::new();
    let before = lab.outside();
    let o = lab.real_outside();
    let script = format!(
        "ln {o}/victim v; echo rc=$?; ln ../../../../outside/victim v2; echo rc=$?; \
         ln -s {o}/victim s; ln s h; echo pwned > h; cat {o}/victim"
    );
    let out = run(&script, &mut lab.a);
    assert!(out.stdout_str().starts_with("rc=1\nrc=1\n"));
    assert_eq!(out.stdout_str(), "rc=1\nrc=1\n");
    assert_eq!(lab.outside(), before);
}

#[test]
fn rm_rf_root_wipes_only_one_host() {
    let mut lab = Lab::new();
    let before = lab.outside();
    for ctx in [&mut lab.a, &mut lab.b] {
        let out = run(
            "mkdir -p /etc /var/lib; echo h > /etc/hostname; ln -s ../.. /var/up",
            ctx,
        );
        assert_eq!(out.rc, 0);
    }
    let out = run("cd /; rm -rf /; echo rc=$?", &mut lab.a);
    assert_eq!(
        out.stderr_str(),
        "rm: it is dangerous to operate recursively on '/'\nrm: use --no-preserve-root to override this failsafe\n"
    );
    assert!(lab.a.sandbox.exists("/etc/hostname"));
    let out = run(
        "cd /; rm -rf --no-preserve-root /; ls -a /; rm -rf /*; echo rc=$?",
        &mut lab.a,
    );
    assert_eq!(out.stdout_str(), ".\n..\nrc=0\n");
    assert!(lab.a.sandbox.root().is_dir());
    assert_eq!(
        lab.b.sandbox.read_to_string("/etc/hostname").unwrap(),
        "h\n"
    );
    let out = run("cat /etc/hostname; cat /var/up/etc/hostname", &mut lab.b);
    assert_eq!(out.stdout_str(), "h\nh\n");
    assert_eq!(lab.outside(), before);
    // The sandbox folder itself survives too.
    assert!(lab.tmp.path().join("sb/hosts/b/etc/hostname").is_file());
}

#[test]
fn cat_etc_passwd_reads_the_sandbox_file() {
    let mut lab = Lab::new();
    let out = run("cat /etc/passwd", &mut lab.a);
    assert_eq!(
        out.stderr_str(),
        "cat: /etc/passwd: No such file or directory\n"
    );
    assert_eq!(out.rc, 1);
}

#[test]
fn globbing_and_find_do_not_leave() {
    let mut lab = Lab::new();
    let before = lab.outside();
    let out = run(
        "ln -s ../../../.. up; echo up/*; echo /../../*; find / -name passwd; cd ../../..; find . -maxdepth 1 | sort",
        &mut lab.a,
    );
    assert!(
        !out.stdout_str().contains("outside"),
        "{}",
        out.stdout_str()
    );
    assert_eq!(lab.outside(), before);
}
