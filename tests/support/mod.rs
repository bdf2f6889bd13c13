//! Helpers shared by the integration tests that drive the `fleetsim` binary: run it, and
//! describe a directory tree (without following symlinks) so two trees can be compared.

// Each test file uses a different subset of these helpers.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;
use std::process::Command;

/// A fixed virtual start time, so outputs that print dates are reproducible.
pub const START: &str = "2026-11-26T06:00:00Z";

/// What one run of the binary gave.
#[derive(Debug)]
pub struct Run {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// Panics with the whole output unless the run exited with `code` and did not panic.
    pub fn expect_code(&self, code: i32) -> &Self {
        assert!(
            !self.stderr.contains("panicked"),
            "fleetsim panicked:\n{}",
            self.stderr
        );
        assert_eq!(
            self.code,
            Some(code),
            "unexpected exit status\n--- stdout\n{}\n--- stderr\n{}",
            self.stdout,
            self.stderr
        );
        self
    }
}

/// Runs `fleetsim ARGS...` in `cwd` with NO_COLOR set and `envs` added to the environment.
pub fn fleetsim(cwd: &Path, args: &[&str], envs: &[(&str, &str)]) -> Run {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_fleetsim"));
    cmd.args(args).current_dir(cwd).env("NO_COLOR", "1");
    for (k, v) in envs {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("run fleetsim");
    Run {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Every entry under `root`, by path relative to it: `d MODE`, `f MODE CONTENT` or
/// `l -> TARGET`. Symlinks are described, never followed: a sandbox may hold links whose
/// target is `/` on the real machine.
pub fn tree(root: &Path) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    walk(root, root, &mut out);
    out
}

fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, String>) {
    let Ok(rd) = fs::read_dir(dir) else { return };
    for e in rd.filter_map(Result::ok) {
        let p = e.path();
        let rel = p.strip_prefix(root).unwrap().to_string_lossy().into_owned();
        let md = fs::symlink_metadata(&p).unwrap();
        let mode = md.permissions().mode() & 0o7777;
        if md.file_type().is_symlink() {
            let target = fs::read_link(&p).unwrap();
            out.insert(rel, format!("l -> {}", target.display()));
        } else if md.is_dir() {
            out.insert(rel, format!("d {mode:o}"));
            walk(root, &p, out);
        } else {
            let data = fs::read(&p).unwrap();
            out.insert(
                rel,
                format!("f {mode:o} {}", String::from_utf8_lossy(&data)),
            );
        }
    }
}

/// Inode number of a path (without following a final symlink).
pub fn inode(p: &Path) -> u64 {
    fs::symlink_metadata(p).unwrap().ino()
}
