//! The project as the simulated controller sees it: a copy-on-write view of the real
//! project folders inside the controller's sandbox, and the controller's working folder.
//!
//! Under Ansible the controller is the real machine: a `shell` task on a host with
//! `ansible_connection: local`, `lookup('pipe')` and a relative `dest:` all run in
//! ansible-playbook's working folder and see (and change) the project's files there. Under
//! fleetsim nothing a playbook does may change the real machine, so the controller's sandbox
//! (`SANDBOX/hosts/localhost`) shows each project folder at its real absolute path, filled
//! lazily: the first time the controller's filesystem resolves a path through a folder of the
//! project, that folder's entries are copied into the sandbox (files with their content and
//! mode, links as they are, sub-folders empty, themselves filled when first entered). From
//! then on the sandbox's copy is the folder: writes, removals and renames change the copy
//! only, never the real project. Controller-side reads of project files (lookups, `src:`,
//! includes, a re-read inventory) ask [`controller_view`] so they see what the controller's
//! tasks wrote there.
//!
//! The copy lives for one run: [`mount_project`] removes the previous run's copy, so every
//! run starts from the project on disk (the user's files stay the truth; a copy kept across
//! runs would hide the user's later edits).

use std::collections::HashSet;
use std::fs as stdfs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// The project folders mounted in one controller sandbox.
#[derive(Debug)]
pub struct ProjectOverlay {
    /// The controller's root (`SANDBOX/hosts/localhost`, canonical).
    root: PathBuf,
    /// The project folders (canonical real paths, which are also their host paths), none
    /// inside another.
    lowers: Vec<String>,
    /// Real folders never copied in (the sandbox itself, when it lies inside the project).
    skip: Vec<PathBuf>,
    /// The controller's working folder (a host path): relative paths start there.
    pub cwd: String,
    /// Host paths of the folders already copied in.
    filled: Mutex<HashSet<String>>,
}

/// Every mounted overlay of the process, by controller root (one per run; `fleetsim check`
/// mounts none).
static MOUNTED: Mutex<Vec<Arc<ProjectOverlay>>> = Mutex::new(Vec::new());

/// Mounts the project folders `dirs` in the controller sandbox of `sandbox_dir`, with `cwd`
/// as the controller's working folder: removes what an earlier run copied in, lays out the
/// empty folders down to each project folder and to `cwd`, and makes every controller
/// [`super::Sandbox`] opened afterwards (hosts with a local connection included) use it.
pub fn mount_project(sandbox_dir: &Path, dirs: &[PathBuf], cwd: &Path) -> std::io::Result<()> {
    let root_path = sandbox_dir.join("hosts").join("localhost");
    stdfs::create_dir_all(&root_path)?;
    let root = stdfs::canonicalize(&root_path)?;
    let sandbox_real = stdfs::canonicalize(sandbox_dir)?;
    let mut lowers: Vec<String> = Vec::new();
    for d in dirs {
        let Ok(c) = stdfs::canonicalize(d) else {
            continue;
        };
        // A folder inside the sandbox is the sandbox's, not the project's.
        if c.starts_with(&sandbox_real) || !c.is_dir() {
            continue;
        }
        let Some(s) = c.to_str() else { continue };
        lowers.push(s.to_string());
    }
    lowers.sort();
    lowers.dedup();
    // A folder inside another project folder is covered by it.
    let all = lowers.clone();
    lowers.retain(|l| !all.iter().any(|o| o != l && within(l, o)));
    for l in &lowers {
        let upper = root.join(l.trim_start_matches('/'));
        if upper.symlink_metadata().is_ok() {
            let _ = stdfs::remove_dir_all(&upper).or_else(|_| stdfs::remove_file(&upper));
        }
        stdfs::create_dir_all(&upper)?;
    }
    let cwd = stdfs::canonicalize(cwd).unwrap_or_else(|_| cwd.to_path_buf());
    let cwd = cwd.to_str().unwrap_or("/").to_string();
    if !lowers.iter().any(|l| within(&cwd, l)) {
        stdfs::create_dir_all(root.join(cwd.trim_start_matches('/')))?;
    }
    let overlay = Arc::new(ProjectOverlay {
        root: root.clone(),
        lowers,
        skip: vec![sandbox_real],
        cwd,
        filled: Mutex::new(HashSet::new()),
    });
    let mut mounted = MOUNTED.lock().unwrap_or_else(|e| e.into_inner());
    mounted.retain(|o| o.root != root);
    mounted.push(overlay);
    Ok(())
}

/// The overlay of the controller whose root is `root` (canonical), if one is mounted.
pub(super) fn mounted_at(root: &Path) -> Option<Arc<ProjectOverlay>> {
    // With nothing mounted (`fleetsim check`, which opens sandboxes all the time) the answer
    // is known without canonicalizing `root`, a `readlink` for each of its components.
    if MOUNTED.lock().unwrap_or_else(|e| e.into_inner()).is_empty() {
        return None;
    }
    let root = stdfs::canonicalize(root).ok()?;
    let mounted = MOUNTED.lock().unwrap_or_else(|e| e.into_inner());
    mounted.iter().find(|o| o.root == root).cloned()
}

/// Where a controller-side read of the real project path `path` goes: `Some(path in the
/// sandbox)` once the controller has entered the project folder holding it (the copy then
/// decides, and may say it is gone: `Some(None)`), `None` while the real project folder is
/// still the truth.
/// Reads go through the controller's own sandbox, so a link the controller made resolves
/// inside it, never out to the real machine.
pub fn controller_view(path: &Path) -> Option<Option<PathBuf>> {
    let path = path.to_str()?;
    if !path.starts_with('/') {
        return None;
    }
    let mounted = MOUNTED.lock().unwrap_or_else(|e| e.into_inner()).clone();
    for o in mounted {
        let Some(lower) = o.lowers.iter().find(|l| within(path, l)) else {
            continue;
        };
        // Until the controller enters a project folder, the real folder is its truth; from
        // then on the copy is (resolving fills what the read walks through).
        if !o.is_filled(lower) {
            return None;
        }
        let sandbox = super::Sandbox::new_at_root(o.root.clone(), "localhost", Some(o.clone()));
        return Some(
            sandbox
                .resolve(path, true)
                .ok()
                .filter(|r| r.real.symlink_metadata().is_ok())
                .map(|r| r.real),
        );
    }
    None
}

/// Whether `path` is `dir` or inside it (host paths).
fn within(path: &str, dir: &str) -> bool {
    path == dir
        || (path.starts_with(dir) && (dir == "/" || path.as_bytes().get(dir.len()) == Some(&b'/')))
}

impl ProjectOverlay {
    /// Whether the host path lies in a project folder.
    pub(super) fn covers(&self, host: &str) -> bool {
        self.lowers.iter().any(|l| within(host, l))
    }

    fn is_filled(&self, host: &str) -> bool {
        self.filled
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .contains(host)
    }

    /// Copies the entries of the real folder `host` into its copy at `upper` (once per run;
    /// entries the copy already has are kept). Best effort: an entry that cannot be read is
    /// left out, as if it were not there.
    pub(super) fn fill(&self, host: &str, upper: &Path) {
        let mut filled = self.filled.lock().unwrap_or_else(|e| e.into_inner());
        if filled.contains(host) {
            return;
        }
        filled.insert(host.to_string());
        let Ok(upper_md) = upper.symlink_metadata() else {
            // The copy of the folder is gone (removed by the controller): nothing to fill.
            return;
        };
        if !upper_md.is_dir() {
            return;
        }
        let Ok(entries) = stdfs::read_dir(host) else {
            return;
        };
        let mut entries: Vec<_> = entries.flatten().collect();
        entries.sort_by_key(|e| e.file_name());
        for e in entries {
            let real = e.path();
            if self.skip.contains(&real) {
                continue;
            }
            let target = upper.join(e.file_name());
            if target.symlink_metadata().is_ok() {
                continue;
            }
            let Ok(md) = real.symlink_metadata() else {
                continue;
            };
            let ft = md.file_type();
            let mode = md.permissions().mode() & 0o7777;
            if ft.is_symlink() {
                if let Ok(to) = stdfs::read_link(&real) {
                    let _ = std::os::unix::fs::symlink(to, &target);
                }
            } else if ft.is_dir() {
                if stdfs::create_dir(&target).is_ok() {
                    let _ = stdfs::set_permissions(
                        &target,
                        stdfs::Permissions::from_mode(mode | 0o700),
                    );
                }
            } else if ft.is_file() && stdfs::copy(&real, &target).is_ok() {
                let _ = stdfs::set_permissions(&target, stdfs::Permissions::from_mode(mode));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::{Sandbox, WriteMode};
    use super::*;

    #[test]
    fn the_controller_changes_its_copy_of_the_project_never_the_project() {
        let tmp = tempfile::tempdir().unwrap();
        let base = stdfs::canonicalize(tmp.path()).unwrap();
        let proj = base.join("proj");
        stdfs::create_dir_all(proj.join("sub")).unwrap();
        stdfs::write(proj.join("a.txt"), "a\n").unwrap();
        stdfs::write(proj.join("sub/b.txt"), "b\n").unwrap();
        std::os::unix::fs::symlink("a.txt", proj.join("link")).unwrap();
        // The sandbox inside the project (`--sandbox ./sb`) is never copied into itself.
        let sb = proj.join("sb");
        mount_project(&sb, std::slice::from_ref(&proj), &proj).unwrap();
        let p = |rel: &str| format!("{}/{rel}", proj.display());

        // Nothing entered yet: the real project is the truth.
        assert_eq!(controller_view(&proj.join("a.txt")), None);
        let mut fs = Sandbox::new(&sb, "localhost").unwrap();
        assert_eq!(fs.cwd(), proj.to_str().unwrap());
        assert_eq!(fs.read_to_string("a.txt").unwrap(), "a\n");
        assert_eq!(fs.read_to_string(&p("link")).unwrap(), "a\n");
        assert_eq!(fs.list_dir("sub").unwrap(), vec!["b.txt".to_string()]);
        assert!(!fs.exists("sb"));

        fs.write("new.txt", b"n\n", WriteMode::Truncate).unwrap();
        fs.remove_file("a.txt").unwrap();
        assert!(!proj.join("new.txt").exists());
        assert!(proj.join("a.txt").exists());
        let new = controller_view(&proj.join("new.txt")).unwrap().unwrap();
        assert_eq!(stdfs::read_to_string(new).unwrap(), "n\n");
        assert_eq!(controller_view(&proj.join("a.txt")), Some(None));
        let b = controller_view(&proj.join("sub/b.txt")).unwrap().unwrap();
        assert_eq!(stdfs::read_to_string(b).unwrap(), "b\n");

        // A link the controller makes resolves inside its sandbox, not on the real machine.
        fs.symlink(base.join("secret").to_str().unwrap(), "out")
            .unwrap();
        stdfs::write(base.join("secret"), "s\n").unwrap();
        assert_eq!(controller_view(&proj.join("out")), Some(None));

        // The next run starts again from the project on disk.
        mount_project(&sb, std::slice::from_ref(&proj), &proj).unwrap();
        assert_eq!(controller_view(&proj.join("new.txt")), None);
        let fs = Sandbox::new(&sb, "localhost").unwrap();
        assert!(!fs.exists("new.txt"));
        assert_eq!(fs.read_to_string("a.txt").unwrap(), "a\n");
        // Another host sharing the controller's files sees the same.
        let link = sb.join("hosts/local1");
        std::os::unix::fs::symlink("localhost", &link).unwrap();
        let shared = Sandbox::new(&sb, "local1").unwrap();
        assert_eq!(shared.read_to_string("sub/b.txt").unwrap(), "b\n");
    }
}
