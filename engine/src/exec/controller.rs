//! The simulated controller as lookups see it: files found beside the playbook and in
//! roles, absolute paths inside the controller's (localhost's) sandbox, a fixed documented
//! environment plus `--env` values, and `pipe` through the in-process shell. Nothing here
//! reads the real machine's environment or runs a real process.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use fleetsim_sim::fs::{FileKind, Sandbox};
use fleetsim_sim::shell::{self, ShellContext};

use crate::template::{LookupHost, Templar};

use super::RunOptions;

/// The controller environment every run starts with (documented in the README), before
/// `--env` additions.
pub const BASE_ENV: &[(&str, &str)] = &[
    ("HOME", "/root"),
    ("LANG", "C.UTF-8"),
    ("LOGNAME", "root"),
    (
        "PATH",
        "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    ),
    ("PWD", "/root"),
    ("SHELL", "/bin/sh"),
    ("USER", "root"),
];

/// The controller's side of lookups.
pub struct Controller {
    sandbox_dir: PathBuf,
    env: Vec<(String, String)>,
    seed: u64,
    /// Folders searched for relative names, for the task being templated (role first).
    pub search_dirs: Mutex<Vec<PathBuf>>,
    /// The virtual time, updated by the runner.
    pub now: Mutex<f64>,
}

impl Controller {
    pub fn new(opts: &RunOptions) -> Controller {
        let mut env: Vec<(String, String)> = BASE_ENV
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        for (k, v) in &opts.env {
            env.retain(|(ek, _)| ek != k);
            env.push((k.clone(), v.clone()));
        }
        Controller {
            sandbox_dir: opts.sandbox.clone(),
            env,
            seed: opts.seed,
            search_dirs: Mutex::new(Vec::new()),
            now: Mutex::new(opts.start_time),
        }
    }

    fn sandbox(&self) -> Option<Sandbox> {
        Sandbox::new(&self.sandbox_dir, "localhost").ok()
    }

    /// Whether an absolute path is one of ours on the real machine (a file found in the
    /// search folders, as `find_file` returns them, or inside the sandbox folder) rather
    /// than a path on the simulated controller.
    fn is_project_path(&self, p: &Path) -> bool {
        if p.starts_with(&self.sandbox_dir) {
            return true;
        }
        let dirs = self.search_dirs.lock().unwrap_or_else(|e| e.into_inner());
        dirs.iter().any(|d| d.is_absolute() && p.starts_with(d))
    }

    /// Where a path test (`is file`, `is link`, ...) looks once the project is mounted in
    /// the controller's sandbox: the controller's filesystem, as Python's `os.path` sees the
    /// real one under Ansible. A relative name is a project file of the search folders when
    /// one is there (the role's or the playbook's folder), else it is taken from the
    /// controller's working folder, where a local task's relative `dest:` wrote it. `None`:
    /// no project is mounted, or the path is a real one inside the sandbox folder.
    fn on_controller(&self, path: &str) -> Option<(Sandbox, String)> {
        let sb = self.sandbox().filter(Sandbox::has_project)?;
        if Path::new(path).is_absolute() {
            if Path::new(path).starts_with(&self.sandbox_dir) {
                return None;
            }
            return Some((sb, path.to_string()));
        }
        let in_search_dir = {
            let dirs = self.search_dirs.lock().unwrap_or_else(|e| e.into_inner());
            dirs.iter()
                .filter(|d| d.is_absolute())
                .map(|d| d.join(path).display().to_string())
                .find(|p| sb.lstat(p).is_ok())
        };
        let p = in_search_dir.unwrap_or_else(|| path.to_string());
        Some((sb, p))
    }

    /// A real path for a controller path: relative names in the search folders (they are
    /// the user's project files), absolute ones inside the controller's sandbox. Project
    /// paths go through the project check (`..` or a link out of it reads as missing).
    fn real(&self, path: &str) -> Option<PathBuf> {
        if Path::new(path).is_absolute() {
            if self.is_project_path(Path::new(path)) {
                return crate::project::readable(Path::new(path));
            }
            let sb = self.sandbox()?;
            return sb.real_path(path).ok();
        }
        let dirs = self.search_dirs.lock().unwrap_or_else(|e| e.into_inner());
        dirs.iter()
            .map(|d| d.join(path))
            .find_map(|p| crate::project::readable(&p))
    }
}

impl LookupHost for Controller {
    fn find_file(&self, name: &str, subdir: &str) -> Option<String> {
        if Path::new(name).is_absolute() {
            // A project file named by its full path (`fileglob`'s results, `role_path ~
            // '/files/x'`) is the project's; any other absolute path the controller's.
            if self.is_project_path(Path::new(name))
                && crate::project::readable(Path::new(name)).is_some()
            {
                return Some(name.to_string());
            }
            let sb = self.sandbox()?;
            return sb.exists(name).then(|| name.to_string());
        }
        let dirs = self.search_dirs.lock().unwrap_or_else(|e| e.into_inner());
        for d in dirs.iter() {
            for cand in [d.join(subdir).join(name), d.join(name)] {
                if let Some(p) = crate::project::readable(&cand) {
                    return Some(p.display().to_string());
                }
            }
        }
        None
    }

    fn read_file(&self, path: &str) -> Option<String> {
        // Paths returned by find_file are real project paths or controller paths; `real`
        // checks the former against the project and resolves the latter in the sandbox.
        std::fs::read_to_string(self.real(path)?).ok()
    }

    fn read_bytes(&self, path: &str) -> Option<Vec<u8>> {
        std::fs::read(self.real(path)?).ok()
    }

    fn env(&self, name: &str) -> Option<String> {
        self.env
            .iter()
            .rev()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    }

    fn pipe(&self, cmd: &str) -> Result<String, String> {
        let sb = self
            .sandbox()
            .ok_or("the controller sandbox is not available")?;
        let mut ctx = ShellContext::new(sb, self.seed ^ fleetsim_sim::rng::fnv1a(cmd.as_bytes()));
        ctx.now = *self.now.lock().unwrap_or_else(|e| e.into_inner());
        ctx.hostname = "localhost".into();
        // The command sees the controller's environment, as Popen inherits ansible-playbook's.
        for (k, v) in &self.env {
            ctx.env.insert(k.clone(), v.clone());
        }
        let out = shell::run(cmd, &mut ctx);
        if out.rc != 0 {
            return Err(format!("lookup_plugin.pipe({cmd}) returned {}", out.rc));
        }
        Ok(out.stdout_str().trim_end_matches('\n').to_string())
    }

    fn exists(&self, path: &str) -> bool {
        if let Some((sb, p)) = self.on_controller(path) {
            return sb.exists(&p);
        }
        // `real` maps any absolute path into the sandbox, whether it is there or not.
        self.real(path).is_some_and(|p| p.exists())
    }

    fn is_file(&self, path: &str) -> bool {
        if let Some((sb, p)) = self.on_controller(path) {
            return sb.is_file(&p);
        }
        self.real(path).map(|p| p.is_file()).unwrap_or(false)
    }

    fn is_dir(&self, path: &str) -> bool {
        if let Some((sb, p)) = self.on_controller(path) {
            return sb.is_dir(&p);
        }
        self.real(path).map(|p| p.is_dir()).unwrap_or(false)
    }

    fn is_link(&self, path: &str) -> bool {
        if let Some((sb, p)) = self.on_controller(path) {
            return sb.lstat(&p).is_ok_and(|s| s.kind == FileKind::Symlink);
        }
        // `real` follows links: ask about the path itself.
        self.real(path)
            .is_some_and(|p| p.symlink_metadata().is_ok_and(|m| m.is_symlink()))
    }

    fn list_dir(&self, path: &str) -> Option<Vec<String>> {
        let p = Path::new(path);
        if self.is_project_path(p) || !p.is_absolute() {
            let real = self.real(path)?;
            // Names of a linked folder outside the project are not listed either.
            let mut names: Vec<String> = std::fs::read_dir(real)
                .ok()?
                .filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect();
            names.sort();
            return Some(names);
        }
        self.sandbox()?.list_dir(path).ok()
    }

    fn search_dirs(&self) -> Vec<String> {
        let dirs = self.search_dirs.lock().unwrap_or_else(|e| e.into_inner());
        dirs.iter().map(|d| d.display().to_string()).collect()
    }

    fn now_epoch(&self) -> Option<f64> {
        Some(*self.now.lock().unwrap_or_else(|e| e.into_inner()))
    }

    fn mtime(&self, path: &str) -> Option<f64> {
        let modified = std::fs::metadata(self.real(path)?).ok()?.modified().ok()?;
        let since = modified.duration_since(std::time::UNIX_EPOCH).ok()?;
        Some(since.as_secs_f64())
    }
}

/// Where a controller-side path is on the real machine: an absolute path resolves inside the
/// simulated controller's (`localhost`) sandbox, as a chroot would (`..` and links stay in);
/// a relative one is taken from `base` (the user's project folder, as Ansible reads it).
pub fn controller_path(sandbox_dir: &Path, base: &Path, name: &str) -> Option<PathBuf> {
    if Path::new(name).is_absolute() {
        Sandbox::new(sandbox_dir, "localhost")
            .ok()?
            .real_path(name)
            .ok()
    } else {
        Some(base.join(name))
    }
}

/// A templar for a run: the run seed and the simulated controller behind lookups.
pub fn templar_for(opts: &RunOptions) -> (Templar, Arc<Controller>) {
    let controller = Arc::new(Controller::new(opts));
    (Templar::new(opts.seed, controller.clone()), controller)
}
