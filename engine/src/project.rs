//! The project: the only real folders a run reads from on the user's machine (issue 14).
//!
//! Under Ansible the controller is the machine itself; under fleetsim it is the project: the
//! folders of the playbooks and inventories, the roles and collections paths, every
//! `--project-root DIR`, and the simulated controller's (`localhost`'s) sandbox (never the
//! other hosts' sandboxes beside it: the controller cannot read a managed host's disk). Every
//! controller-side read (playbooks, imports and includes, roles, `vars_files`,
//! `include_vars`, `src:` of copy/template/script/assemble, file lookups, `-e @file`) asks
//! [`readable`] first; a path that is missing or whose real location (after every symlink)
//! is outside those folders reads as missing, so the caller words it as Ansible words a file
//! it cannot find. Paths refused for being outside are remembered for a `fleetsim: hint:`.
//!
//! The confinement is process-wide because the reads happen deep in the loader, the modules
//! and the lookups; a front end sets it once per run ([`confine`]). Without it (library use,
//! unit tests) every existing path is readable.

use std::path::{Component, Path, PathBuf};
use std::sync::{Mutex, RwLock};

/// The folders a run may read, each canonical (symlinks resolved).
#[derive(Debug, Clone, Default)]
struct Roots {
    dirs: Vec<PathBuf>,
    /// Sandbox areas (canonical) with how many folder levels lie between the area and a
    /// sandbox (0: the area is one sandbox; 1: it holds a sandbox per case). Of a sandbox's
    /// `hosts/` only `localhost` is readable, even when a project folder holds the area.
    sandboxes: Vec<(PathBuf, usize)>,
}

/// The folder of the simulated controller's filesystem inside a sandbox.
const CONTROLLER_DIR: [&str; 2] = ["hosts", "localhost"];

static ROOTS: RwLock<Option<Roots>> = RwLock::new(None);

/// Paths refused for being outside the project, in the order they were first asked for.
static REFUSED: Mutex<Vec<String>> = Mutex::new(Vec::new());

/// Confines every later controller read to `dirs` (folders that do not exist are skipped;
/// files stand for their folder). Replaces any earlier confinement and forgets refusals.
pub fn confine<P: AsRef<Path>>(dirs: &[P]) {
    let mut canon: Vec<PathBuf> = Vec::new();
    for d in dirs {
        let d = d.as_ref();
        let d = if d.is_file() {
            d.parent().map(Path::to_path_buf).unwrap_or_default()
        } else {
            d.to_path_buf()
        };
        let d = if d.as_os_str().is_empty() {
            PathBuf::from(".")
        } else {
            d
        };
        if let Ok(c) = std::fs::canonicalize(&d) {
            if !canon.contains(&c) {
                canon.push(c);
            }
        }
    }
    *ROOTS.write().unwrap_or_else(|e| e.into_inner()) = Some(Roots {
        dirs: canon,
        sandboxes: Vec::new(),
    });
    REFUSED.lock().unwrap_or_else(|e| e.into_inner()).clear();
}

/// Lifts the confinement (every existing path is readable again).
pub fn unconfine() {
    *ROOTS.write().unwrap_or_else(|e| e.into_inner()) = None;
}

/// The project folders the run is confined to (canonical), none when unconfined.
pub fn dirs() -> Vec<PathBuf> {
    let roots = ROOTS.read().unwrap_or_else(|e| e.into_inner());
    roots.as_ref().map(|r| r.dirs.clone()).unwrap_or_default()
}

/// Whether a run is confined (the CLI's runs are).
pub fn is_confined() -> bool {
    ROOTS.read().unwrap_or_else(|e| e.into_inner()).is_some()
}

/// Adds folders to the current confinement (a playbook met later in a run, a sandbox
/// created after the run started). No effect when unconfined.
pub fn allow<P: AsRef<Path>>(dir: P) {
    let Ok(c) = std::fs::canonicalize(dir.as_ref()) else {
        return;
    };
    let mut roots = ROOTS.write().unwrap_or_else(|e| e.into_inner());
    if let Some(r) = roots.as_mut() {
        if !r.dirs.contains(&c) {
            r.dirs.push(c);
        }
    }
}

/// Adds a sandbox area to the current confinement: `area` is one sandbox (`depth` 0) or holds
/// one sandbox per folder `depth` levels down (`fleetsim check`'s cases). Of each sandbox's
/// hosts only the controller's filesystem (`hosts/localhost`) is readable. No effect when
/// unconfined or when `area` does not exist.
pub fn allow_sandboxes<P: AsRef<Path>>(area: P, depth: usize) {
    let Ok(c) = std::fs::canonicalize(area.as_ref()) else {
        return;
    };
    let mut roots = ROOTS.write().unwrap_or_else(|e| e.into_inner());
    if let Some(r) = roots.as_mut() {
        if !r.sandboxes.iter().any(|(a, _)| *a == c) {
            r.sandboxes.push((c, depth));
        }
    }
}

/// Where a read of `path` may go: the path itself when it exists and its real location (all
/// symlinks followed) is inside the project; `None` when it does not exist or is outside
/// (the latter remembered for [`take_refused`]). Every controller-side read goes through
/// here, so a symlink inside the project that points outside it is not followed out.
pub fn readable(path: &Path) -> Option<PathBuf> {
    // Once the simulated controller has entered a project folder, its copy of the folder
    // is what the controller reads (what its tasks wrote there, without what they removed).
    if let Some(view) = fleetsim_sim::fs::controller_view(&lexical_absolute(path)) {
        return view;
    }
    let roots = ROOTS.read().unwrap_or_else(|e| e.into_inner());
    let Some(roots) = roots.as_ref() else {
        return path.exists().then(|| path.to_path_buf());
    };
    match inside(roots, path) {
        Ok(p) => Some(p),
        Err(Refusal::Missing) => None,
        Err(Refusal::Outside) => {
            let shown = lexical_absolute(path).display().to_string();
            let mut refused = REFUSED.lock().unwrap_or_else(|e| e.into_inner());
            if !refused.contains(&shown) {
                refused.push(shown);
            }
            None
        }
    }
}

/// Why a read was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Refusal {
    Missing,
    Outside,
}

/// The check behind [`readable`], for given canonical roots.
fn inside(roots: &Roots, path: &Path) -> Result<PathBuf, Refusal> {
    let real = std::fs::canonicalize(path).map_err(|_| Refusal::Missing)?;
    // Inside a sandbox area the hosts' filesystems decide alone: a project folder that
    // happens to hold the sandbox does not open the managed hosts' disks, while the
    // controller's own is always readable. Anything else there (a playbook the user keeps
    // beside the sandbox) follows the project's folders.
    for (area, depth) in &roots.sandboxes {
        if let Ok(rest) = real.strip_prefix(area) {
            let parts: Vec<_> = rest.components().map(|c| c.as_os_str()).collect();
            if parts.len() > *depth && parts[*depth] == CONTROLLER_DIR[0] {
                let controller = parts
                    .get(depth + 1)
                    .is_some_and(|p| *p == CONTROLLER_DIR[1]);
                return if controller {
                    Ok(path.to_path_buf())
                } else {
                    Err(Refusal::Outside)
                };
            }
        }
    }
    if roots.dirs.iter().any(|d| real.starts_with(d)) {
        Ok(path.to_path_buf())
    } else {
        Err(Refusal::Outside)
    }
}

/// [`readable`] for a file (not a folder).
pub fn readable_file(path: &Path) -> Option<PathBuf> {
    readable(path).filter(|p| p.is_file())
}

/// [`readable`] for a folder.
pub fn readable_dir(path: &Path) -> Option<PathBuf> {
    readable(path).filter(|p| p.is_dir())
}

/// The paths refused since the last call (or [`confine`]), first-asked first.
pub fn take_refused() -> Vec<String> {
    std::mem::take(&mut *REFUSED.lock().unwrap_or_else(|e| e.into_inner()))
}

/// The hint printed once per refused path, after Ansible's own "could not find" message.
pub fn hint_for(path: &str) -> String {
    format!(
        "'{path}' is outside the project (the folders of the playbooks and inventories, the \
         roles paths, the controller's sandbox): fleetsim reads nothing else of this machine; \
         add --project-root DIR to let a run read the folder DIR"
    )
}

/// `path` made absolute against the working folder with `.` and `..` folded as text (for
/// messages only; reads use the real location).
fn lexical_absolute(path: &Path) -> PathBuf {
    let base = if path.is_absolute() {
        PathBuf::new()
    } else {
        std::env::current_dir().unwrap_or_default()
    };
    let mut out = PathBuf::new();
    for c in base.join(path).components() {
        match c {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    // The process-wide state is left alone: other tests read files at the same time.
    #[test]
    fn reads_stay_inside_the_roots() {
        let tmp = tempfile::tempdir().unwrap();
        let proj = tmp.path().join("proj");
        let outside = tmp.path().join("outside");
        std::fs::create_dir_all(proj.join("sub")).unwrap();
        std::fs::create_dir_all(&outside).unwrap();
        std::fs::write(proj.join("sub/a.yml"), "a: 1\n").unwrap();
        std::fs::write(outside.join("secret"), "s\n").unwrap();
        std::os::unix::fs::symlink(&outside, proj.join("out")).unwrap();
        std::os::unix::fs::symlink("sub/a.yml", proj.join("in.yml")).unwrap();
        std::os::unix::fs::symlink("../outside/secret", proj.join("up")).unwrap();

        let roots = Roots {
            dirs: vec![std::fs::canonicalize(&proj).unwrap()],
            sandboxes: Vec::new(),
        };
        let ok = |p: &str| inside(&roots, &proj.join(p));
        assert_eq!(ok("sub/a.yml"), Ok(proj.join("sub/a.yml")));
        assert_eq!(ok("in.yml"), Ok(proj.join("in.yml")));
        assert_eq!(ok("sub/../../outside/secret"), Err(Refusal::Outside));
        assert_eq!(ok("out/secret"), Err(Refusal::Outside));
        assert_eq!(ok("up"), Err(Refusal::Outside));
        assert_eq!(ok("missing"), Err(Refusal::Missing));
        assert_eq!(
            lexical_absolute(Path::new("/a/b/../../c/./d")),
            Path::new("/c/d")
        );
    }

    #[test]
    fn of_a_sandboxs_hosts_only_the_controllers_files_are_readable() {
        let tmp = tempfile::tempdir().unwrap();
        let proj = tmp.path().join("proj");
        // A sandbox inside the project (`--sandbox ./sb`), and an area of case sandboxes.
        let sandbox = proj.join("sb");
        let cases = tmp.path().join("cases");
        for dir in [
            sandbox.join("hosts/localhost/tmp"),
            sandbox.join("hosts/web1/etc"),
            cases.join("case-1/hosts/localhost/tmp"),
            cases.join("case-1/hosts/web1/etc"),
        ] {
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(dir.join("f"), "x\n").unwrap();
        }
        // A host that shares the controller's filesystem (`ansible_connection: local`).
        std::os::unix::fs::symlink("localhost", sandbox.join("hosts/local1")).unwrap();
        let canon = |p: &Path| std::fs::canonicalize(p).unwrap();
        let roots = Roots {
            dirs: vec![canon(&proj)],
            sandboxes: vec![(canon(&sandbox), 0), (canon(&cases), 1)],
        };
        let at = |p: PathBuf| inside(&roots, &p).map(|_| ());
        assert_eq!(at(sandbox.join("hosts/localhost/tmp/f")), Ok(()));
        assert_eq!(at(sandbox.join("hosts/local1/tmp/f")), Ok(()));
        assert_eq!(at(sandbox.join("hosts/web1/etc/f")), Err(Refusal::Outside));
        assert_eq!(at(sandbox.join("hosts")), Err(Refusal::Outside));
        assert_eq!(
            at(sandbox.join("hosts/localhost/../web1/etc/f")),
            Err(Refusal::Outside)
        );
        assert_eq!(at(cases.join("case-1/hosts/localhost/tmp/f")), Ok(()));
        assert_eq!(
            at(cases.join("case-1/hosts/web1/etc/f")),
            Err(Refusal::Outside)
        );
        assert_eq!(at(cases.join("hosts/localhost")), Err(Refusal::Missing));
        // The user's own files beside the hosts (`--sandbox .`) follow the project's folders.
        std::fs::write(sandbox.join("site.yml"), "- hosts: all\n").unwrap();
        std::fs::write(cases.join("case-1/site.yml"), "- hosts: all\n").unwrap();
        assert_eq!(at(sandbox.join("site.yml")), Ok(()));
        assert_eq!(at(cases.join("case-1/site.yml")), Err(Refusal::Outside));
    }
}
