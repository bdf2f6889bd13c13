//! Simulated `pip`: a Python package index ([`PyPi`], read from `sim/data/pypi.toml`),
//! environments (the system interpreter's `site-packages`, or a virtual environment made by
//! `virtualenv` or `python3 -m venv`), and the pip command line (`install`, `uninstall`,
//! `list`, `freeze`, `show`, `--version`) with pip's own output, so the `pip` module and a
//! `pip3 ...` typed in the shell see the same state.
//!
//! The state is ordinary files, as pip leaves them: one `NAME-VERSION.dist-info/METADATA`
//! per installed distribution in the environment's site-packages, an import package beside
//! it, console scripts in the environment's `bin/`; a virtual environment has
//! `pyvenv.cfg` and `bin/activate`. Versions and specifiers follow PEP 440 (release,
//! pre, post and dev segments; `==`, `!=`, `<`, `<=`, `>`, `>=`, `~=`, `===`, `.*`).
//! Requirements are `name` plus specifiers; extras, markers and URLs are refused by name.

use std::cmp::Ordering;

use serde::Deserialize;

use super::{fs_err, put, Distro, Family};
use crate::fs::Sandbox;

/// One project of the index.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Project {
    pub name: String,
    pub summary: String,
    /// Released versions, oldest first.
    pub versions: Vec<String>,
    #[serde(default)]
    pub requires: Vec<String>,
    #[serde(default)]
    pub bins: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct IndexFile {
    project: Vec<Project>,
}

/// The simulated package index.
#[derive(Debug, Clone, Default)]
pub struct PyPi {
    projects: Vec<Project>,
}

/// The index shipped with fleetsim.
pub const BUILTIN: &str = include_str!("../../data/pypi.toml");

impl PyPi {
    /// The built-in index (a unit test parses it, so it always does).
    pub fn builtin() -> PyPi {
        static INDEX: std::sync::OnceLock<PyPi> = std::sync::OnceLock::new();
        INDEX
            .get_or_init(|| {
                let mut p = PyPi::default();
                p.extend_from_toml(BUILTIN, "sim/data/pypi.toml")
                    .expect("the built-in index parses");
                p
            })
            .clone()
    }

    /// Adds (or replaces, by canonical name) the projects of a TOML file of the same shape;
    /// every version and requirement must parse.
    pub fn extend_from_toml(&mut self, text: &str, origin: &str) -> Result<(), String> {
        let file: IndexFile =
            toml::from_str(text).map_err(|e| format!("{origin}: {}", e.message()))?;
        for p in file.project {
            for v in &p.versions {
                Version::parse(v)
                    .ok_or_else(|| format!("{origin}: {}: invalid version '{v}'", p.name))?;
            }
            for r in &p.requires {
                Requirement::parse(r).map_err(|e| format!("{origin}: {}: {e}", p.name))?;
            }
            let key = canonical(&p.name);
            match self.projects.iter_mut().find(|q| canonical(&q.name) == key) {
                Some(q) => *q = p,
                None => self.projects.push(p),
            }
        }
        Ok(())
    }

    pub fn find(&self, name: &str) -> Option<&Project> {
        let key = canonical(name);
        self.projects.iter().find(|p| canonical(&p.name) == key)
    }

    pub fn len(&self) -> usize {
        self.projects.len()
    }

    pub fn is_empty(&self) -> bool {
        self.projects.is_empty()
    }
}

/// PEP 503's normal form of a project name: lower case, runs of `-_.` as one `-`.
pub fn canonical(name: &str) -> String {
    let mut out = String::new();
    let mut sep = false;
    for c in name.chars() {
        if matches!(c, '-' | '_' | '.') {
            sep = true;
            continue;
        }
        if sep && !out.is_empty() {
            out.push('-');
        }
        sep = false;
        out.extend(c.to_lowercase());
    }
    out
}

/// A version's release segments, then (rank, number) of its pre, post and dev parts.
type SortKey = (Vec<u64>, (i32, u64), (i32, u64), (i32, u64));

/// A PEP 440 version.
#[derive(Debug, Clone)]
pub struct Version {
    release: Vec<u64>,
    /// (0 = a, 1 = b, 2 = rc, number)
    pre: Option<(u8, u64)>,
    post: Option<u64>,
    dev: Option<u64>,
    text: String,
}

impl Version {
    pub fn parse(s: &str) -> Option<Version> {
        let text = s.trim().to_string();
        let lower = text.to_lowercase();
        let mut rest = lower.strip_prefix('v').unwrap_or(&lower);
        let end = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let rel = rest[..end].trim_end_matches('.');
        if rel.is_empty() || rel.split('.').any(str::is_empty) {
            return None;
        }
        let release = rel
            .split('.')
            .map(|p| p.parse().ok())
            .collect::<Option<Vec<u64>>>()?;
        rest = &rest[rel.len()..];
        let number = |r: &mut &str| -> u64 {
            let r2 = r.trim_start_matches(['.', '-', '_']);
            let n = r2.find(|c: char| !c.is_ascii_digit()).unwrap_or(r2.len());
            let v = r2[..n].parse().unwrap_or(0);
            *r = &r2[n..];
            v
        };
        let mut pre = None;
        let mut post = None;
        let mut dev = None;
        loop {
            let r = rest.trim_start_matches(['.', '-', '_']);
            if r.is_empty() {
                break;
            }
            let tag = [
                ("alpha", 0),
                ("beta", 1),
                ("preview", 2),
                ("pre", 2),
                ("rc", 2),
                ("c", 2),
                ("a", 0),
                ("b", 1),
            ]
            .into_iter()
            .find(|(t, _)| r.starts_with(t));
            if let Some((t, kind)) = tag.filter(|_| pre.is_none() && post.is_none()) {
                rest = &r[t.len()..];
                pre = Some((kind, number(&mut rest)));
            } else if let Some(t) = ["post", "rev", "r"]
                .into_iter()
                .find(|t| r.starts_with(t))
                .filter(|_| post.is_none())
            {
                rest = &r[t.len()..];
                post = Some(number(&mut rest));
            } else if r.starts_with("dev") && dev.is_none() {
                rest = &r[3..];
                dev = Some(number(&mut rest));
            } else {
                return None;
            }
        }
        Some(Version {
            release,
            pre,
            post,
            dev,
            text,
        })
    }

    pub fn is_prerelease(&self) -> bool {
        self.pre.is_some() || self.dev.is_some()
    }

    fn trimmed(&self) -> &[u64] {
        let n = self
            .release
            .iter()
            .rposition(|x| *x != 0)
            .map_or(0, |i| i + 1);
        &self.release[..n]
    }

    /// PEP 440's ordering key: a dev release before pre-releases, a final release after
    /// them, post releases after it.
    fn key(&self) -> SortKey {
        let pre = match (self.pre, self.post, self.dev) {
            (None, None, Some(_)) => (-1, 0),
            (None, _, _) => (3, 0),
            (Some((k, n)), _, _) => (i32::from(k), n),
        };
        let post = self.post.map_or((-1, 0), |n| (0, n));
        let dev = self.dev.map_or((1, 0), |n| (0, n));
        (self.trimmed().to_vec(), pre, post, dev)
    }
}

impl PartialEq for Version {
    fn eq(&self, other: &Self) -> bool {
        self.key() == other.key()
    }
}
impl Eq for Version {}
impl PartialOrd for Version {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Version {
    fn cmp(&self, other: &Self) -> Ordering {
        self.key().cmp(&other.key())
    }
}
impl std::fmt::Display for Version {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text)
    }
}

/// One version clause (`>=2.5`).
#[derive(Debug, Clone, PartialEq)]
pub struct Spec {
    pub op: &'static str,
    pub version: String,
}

impl Spec {
    /// Whether `v` satisfies the clause (pre-releases allowed, as the module asks).
    pub fn contains(&self, v: &Version) -> bool {
        if self.op == "===" {
            return v.text.eq_ignore_ascii_case(&self.version);
        }
        if let Some(prefix) = self.version.strip_suffix(".*") {
            let Some(p) = Version::parse(prefix) else {
                return false;
            };
            let mut rel = v.release.clone();
            rel.resize(rel.len().max(p.release.len()), 0);
            let hit = rel[..p.release.len()] == p.release[..];
            return if self.op == "!=" { !hit } else { hit };
        }
        let Some(s) = Version::parse(&self.version) else {
            return false;
        };
        match self.op {
            "==" => *v == s,
            "!=" => *v != s,
            "<=" => *v <= s,
            ">=" => *v >= s,
            // `<V` and `>V` do not admit V's own pre- and post-releases.
            "<" => {
                *v < s && (s.is_prerelease() || !(v.is_prerelease() && v.trimmed() == s.trimmed()))
            }
            ">" => {
                *v > s && (s.post.is_some() || !(v.post.is_some() && v.trimmed() == s.trimmed()))
            }
            "~=" => {
                let mut prefix = s.release.clone();
                prefix.pop();
                let mut rel = v.release.clone();
                rel.resize(rel.len().max(prefix.len()), 0);
                *v >= s && rel[..prefix.len()] == prefix[..]
            }
            _ => false,
        }
    }
}

impl std::fmt::Display for Spec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}{}", self.op, self.version)
    }
}

/// A requirement: a project name and version clauses.
#[derive(Debug, Clone, PartialEq)]
pub struct Requirement {
    pub name: String,
    pub specs: Vec<Spec>,
}

const OPS: [&str; 8] = ["===", "==", "!=", "<=", ">=", "~=", "<", ">"];

impl Requirement {
    /// Parses `name`, `name>=1,<2` or `name (>=1)`, as `packaging.requirements` does for
    /// what fleetsim simulates; extras, environment markers and URLs are errors naming them.
    pub fn parse(text: &str) -> Result<Requirement, String> {
        let s = text.trim();
        let name_end = s
            .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')))
            .unwrap_or(s.len());
        let name = &s[..name_end];
        if name.is_empty()
            || !name.starts_with(|c: char| c.is_ascii_alphanumeric())
            || !name.ends_with(|c: char| c.is_ascii_alphanumeric())
        {
            return Err(format!(
                "Invalid requirement: '{s}': Expected package name at the start of dependency specifier"
            ));
        }
        let mut rest = s[name_end..].trim();
        if rest.starts_with('[') {
            return Err(format!(
                "fleetsim's package index has no extras (requirement '{s}')"
            ));
        }
        if rest.contains(';') {
            return Err(format!(
                "fleetsim does not evaluate environment markers (requirement '{s}')"
            ));
        }
        if rest.starts_with('@') {
            return Err(format!(
                "fleetsim installs from its package index only, not from URLs (requirement '{s}')"
            ));
        }
        if let Some(inner) = rest.strip_prefix('(').and_then(|r| r.strip_suffix(')')) {
            rest = inner.trim();
        }
        let mut specs = Vec::new();
        if !rest.is_empty() {
            for clause in rest.split(',') {
                let clause = clause.trim();
                let op = OPS.into_iter().find(|o| clause.starts_with(o)).ok_or_else(|| {
                    format!(
                        "Invalid requirement: '{s}': Expected end or semicolon (after name and no valid version specifier)"
                    )
                })?;
                let version = clause[op.len()..].trim().to_string();
                let valid = match version.strip_suffix(".*") {
                    Some(p) => matches!(op, "==" | "!=") && Version::parse(p).is_some(),
                    None => op == "===" || Version::parse(&version).is_some(),
                };
                if !valid || version.contains(char::is_whitespace) {
                    return Err(format!(
                        "Invalid requirement: '{s}': Expected end or semicolon (after version specifier)"
                    ));
                }
                specs.push(Spec { op, version });
            }
        }
        Ok(Requirement {
            name: name.to_string(),
            specs,
        })
    }

    pub fn contains(&self, v: &Version) -> bool {
        self.specs.iter().all(|s| s.contains(v))
    }

    /// The specifier set as `packaging` prints it: clauses sorted, joined by commas.
    pub fn specifier(&self) -> String {
        let mut parts: Vec<String> = self.specs.iter().map(Spec::to_string).collect();
        parts.sort();
        parts.join(",")
    }
}

impl std::fmt::Display for Requirement {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}{}", self.name, self.specifier())
    }
}

/// A Python environment pip installs into.
#[derive(Debug, Clone, PartialEq)]
pub struct Env {
    /// The virtual environment's folder; None for the system interpreter.
    pub venv: Option<String>,
    /// Where distributions go.
    pub site: String,
    /// Where console scripts go.
    pub bin: String,
    /// The interpreter.
    pub python: String,
}

/// `X.Y` of the distribution's python3.
pub fn python_xy(distro: Distro) -> &'static str {
    match distro {
        Distro::Debian12 => "3.11",
        Distro::Ubuntu2404 => "3.12",
        Distro::Rocky9 => "3.9",
    }
}

/// The pip version the distribution's python3-pip ships (and venv seeds).
pub fn bundled_pip(distro: Distro) -> &'static str {
    match distro {
        Distro::Debian12 => "23.0.1",
        Distro::Ubuntu2404 => "24.0",
        Distro::Rocky9 => "21.2.3",
    }
}

impl Env {
    /// The system interpreter: pip run as root installs under /usr/local.
    pub fn system(distro: Distro) -> Env {
        let xy = python_xy(distro);
        let site = match distro.family() {
            Family::Debian => format!("/usr/local/lib/python{xy}/dist-packages"),
            Family::Redhat => format!("/usr/local/lib/python{xy}/site-packages"),
        };
        Env {
            venv: None,
            site,
            bin: "/usr/local/bin".into(),
            python: "/usr/bin/python3".into(),
        }
    }

    /// The virtual environment at `path`.
    pub fn venv(distro: Distro, path: &str) -> Env {
        let path = path.trim_end_matches('/');
        let path = if path.is_empty() { "/" } else { path };
        Env {
            venv: Some(path.to_string()),
            site: format!("{path}/lib/python{}/site-packages", python_xy(distro)),
            bin: format!("{path}/bin"),
            python: format!("{path}/bin/python"),
        }
    }

    /// Whether a virtual environment exists at `path` (its `bin/activate`, as the module
    /// checks).
    pub fn venv_exists(fs: &Sandbox, path: &str) -> bool {
        fs.exists(&format!("{}/bin/activate", path.trim_end_matches('/')))
    }

    /// Whether the venv sees the system's packages too (`--system-site-packages`).
    fn system_site_packages(&self, fs: &Sandbox) -> bool {
        self.venv.as_ref().is_some_and(|v| {
            super::text(fs, &format!("{v}/pyvenv.cfg"))
                .lines()
                .any(|l| l.replace(' ', "") == "include-system-site-packages=true")
        })
    }
}

/// Whether pip can run for the system interpreter: the distribution's pip package is
/// installed.
pub fn system_pip_installed(fs: &Sandbox, distro: Distro) -> bool {
    super::packages::installed(fs, distro)
        .iter()
        .any(|p| p.name == "python3-pip")
}

/// One installed distribution.
#[derive(Debug, Clone, PartialEq)]
pub struct Dist {
    pub name: String,
    pub version: String,
    /// Its `.dist-info` folder.
    pub info: String,
}

/// The distributions installed in one site-packages folder, by canonical name.
fn dists_in(fs: &Sandbox, site: &str) -> Vec<Dist> {
    let mut names = fs.list_dir(site).unwrap_or_default();
    names.sort();
    let mut out = Vec::new();
    for n in names.iter().filter(|n| n.ends_with(".dist-info")) {
        let info = format!("{site}/{n}");
        let meta = super::text(fs, &format!("{info}/METADATA"));
        let field = |key: &str| {
            meta.lines()
                .find_map(|l| l.strip_prefix(key).map(|v| v.trim().to_string()))
        };
        if let (Some(name), Some(version)) = (field("Name:"), field("Version:")) {
            out.push(Dist {
                name,
                version,
                info,
            });
        }
    }
    out.sort_by_key(|d| canonical(&d.name));
    out
}

/// What `env` sees installed: its own distributions, and the system's for a venv made
/// with `--system-site-packages` (its own win).
pub fn installed(fs: &Sandbox, distro: Distro, env: &Env) -> Vec<Dist> {
    let mut own = dists_in(fs, &env.site);
    if env.system_site_packages(fs) {
        for d in dists_in(fs, &Env::system(distro).site) {
            if !own.iter().any(|o| canonical(&o.name) == canonical(&d.name)) {
                own.push(d);
            }
        }
        own.sort_by_key(|d| canonical(&d.name));
    }
    own
}

/// A pip run's outcome.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Output {
    pub rc: i32,
    pub stdout: String,
    pub stderr: String,
}

fn fail(rc: i32, stdout: String, stderr: impl Into<String>) -> Output {
    Output {
        rc,
        stdout,
        stderr: stderr.into(),
    }
}

/// The name pip files a distribution under: `-` and `.` as `_`.
fn file_name(name: &str) -> String {
    name.replace(['-', '.'], "_")
}

fn import_name(name: &str) -> String {
    file_name(name).to_lowercase()
}

/// Writes a distribution into `env` as a wheel install leaves it.
fn write_dist(fs: &mut Sandbox, env: &Env, p: &Project, version: &str) -> Result<(), String> {
    let info = format!("{}/{}-{version}.dist-info", env.site, file_name(&p.name));
    let mut meta = format!(
        "Metadata-Version: 2.1\nName: {}\nVersion: {version}\nSummary: {}\n",
        p.name, p.summary
    );
    for r in &p.requires {
        meta.push_str(&format!("Requires-Dist: {r}\n"));
    }
    put(fs, &format!("{info}/METADATA"), &meta)?;
    put(fs, &format!("{info}/INSTALLER"), "pip\n")?;
    let module = format!("{}/{}/__init__.py", env.site, import_name(&p.name));
    put(fs, &module, &format!("__version__ = \"{version}\"\n"))?;
    for b in &p.bins {
        let path = format!("{}/{b}", env.bin);
        put(
            fs,
            &path,
            &format!(
                "#!{}\n# console script '{b}' of {} {version} (fleetsim)\n",
                env.python, p.name
            ),
        )?;
        fs.chmod(&path, 0o755).map_err(fs_err)?;
    }
    Ok(())
}

/// Removes an installed distribution: its metadata, its import package, its scripts.
fn remove_dist(fs: &mut Sandbox, env: &Env, d: &Dist) -> Result<(), String> {
    if let Some(site) = d.info.rsplit_once('/').map(|(s, _)| s.to_string()) {
        let module = format!("{site}/{}", import_name(&d.name));
        if fs.is_dir(&module) {
            fs.remove_all(&module).map_err(fs_err)?;
        }
    }
    fs.remove_all(&d.info).map_err(fs_err)?;
    if let Some(p) = PyPi::builtin().find(&d.name) {
        for b in &p.bins {
            let path = format!("{}/{b}", env.bin);
            // A venv's own pip scripts stay with the venv only when pip itself stays.
            if fs.is_file(&path) {
                fs.remove_file(&path).map_err(fs_err)?;
            }
        }
    }
    Ok(())
}

/// How a virtual environment is made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VenvTool {
    /// The `virtualenv` program.
    Virtualenv,
    /// `python3 -m venv` (or `pyvenv`).
    Venv,
}

/// Creates a virtual environment at `path`, seeded with the distribution's pip (and, for
/// `virtualenv`, setuptools and wheel); returns what the tool printed.
pub fn create_venv(
    fs: &mut Sandbox,
    distro: Distro,
    path: &str,
    tool: VenvTool,
    system_site_packages: bool,
) -> Output {
    let env = Env::venv(distro, path);
    let venv = env.venv.clone().unwrap_or_default();
    let xy = python_xy(distro);
    if tool == VenvTool::Venv
        && distro.family() == Family::Debian
        && !super::packages::installed(fs, distro)
            .iter()
            .any(|p| p.name == "python3-venv")
    {
        // Debian splits ensurepip out of python3: the folder is made, pip is not.
        let _ = fs.mkdir(&format!("{venv}/bin"), true);
        return fail(
            1,
            format!(
                "The virtual environment was not created successfully because ensurepip is not\navailable.  On Debian/Ubuntu systems, you need to install the python3-venv\npackage using the following command.\n\n    apt install python{xy}-venv\n\nYou may need to use sudo with that command.  After installing the python3-venv\npackage, recreate your virtual environment.\n\nFailing command: {venv}/bin/python3\n\n"
            ),
            "",
        );
    }
    let result = (|| -> Result<(), String> {
        put(
            fs,
            &format!("{venv}/pyvenv.cfg"),
            &format!(
                "home = /usr/bin\ninclude-system-site-packages = {}\nversion = {}\n",
                system_site_packages,
                distro
                    .facts()
                    .get("python_version")
                    .and_then(|v| v.as_str())
                    .unwrap_or(xy)
            ),
        )?;
        put(
            fs,
            &format!("{venv}/bin/activate"),
            &format!("# This file must be used with \"source bin/activate\"\nVIRTUAL_ENV=\"{venv}\"\nexport VIRTUAL_ENV\nPATH=\"$VIRTUAL_ENV/bin:$PATH\"\nexport PATH\n"),
        )?;
        for py in ["python", "python3", &format!("python{xy}")] {
            let link = format!("{venv}/bin/{py}");
            if !fs.exists(&link) {
                fs.symlink("/usr/bin/python3", &link).map_err(fs_err)?;
            }
        }
        fs.mkdir(&env.site, true).map_err(fs_err)?;
        let index = PyPi::builtin();
        let mut seeds = vec![("pip", bundled_pip(distro).to_string())];
        if tool == VenvTool::Virtualenv {
            let last = |n: &str| {
                index
                    .find(n)
                    .and_then(|p| p.versions.last().cloned())
                    .unwrap_or_default()
            };
            seeds.push(("setuptools", last("setuptools")));
            seeds.push(("wheel", last("wheel")));
        }
        for (name, version) in seeds {
            if let Some(p) = index.find(name) {
                write_dist(fs, &env, p, &version)?;
            }
        }
        Ok(())
    })();
    match result {
        Err(e) => fail(1, String::new(), format!("Error: {e}\n")),
        Ok(()) => Output {
            rc: 0,
            stdout: match tool {
                VenvTool::Virtualenv => format!(
                    "created virtual environment CPython{}.final.0-64 in 120ms\n  creator CPython3Posix(dest={venv}, clear=False, no_vcs_ignore=False, global={})\n",
                    distro.facts()
                        .get("python_version")
                        .and_then(|v| v.as_str())
                        .unwrap_or(xy),
                    if system_site_packages { "True" } else { "False" }
                ),
                VenvTool::Venv => String::new(),
            },
            stderr: String::new(),
        },
    }
}

/// The options of `pip install` fleetsim honours (others are refused by name).
#[derive(Debug, Default)]
struct InstallOpts {
    upgrade: bool,
    force: bool,
    no_deps: bool,
    break_system: bool,
    requirements: Vec<String>,
    names: Vec<String>,
}

/// A pip command line run against `env` on the host (`args` after `pip`), from folder
/// `cwd`; `break_system` is `PIP_BREAK_SYSTEM_PACKAGES=1` in its environment.
pub fn run(
    fs: &mut Sandbox,
    distro: Distro,
    env: &Env,
    args: &[String],
    cwd: &str,
    break_system: bool,
) -> Output {
    let Some((cmd, rest)) = args.split_first() else {
        return fail(
            1,
            String::new(),
            "\nUsage:   \n  pip <command> [options]\n\nERROR: You must give at least one requirement to install (see \"pip help install\")\n",
        );
    };
    let index = PyPi::builtin();
    match cmd.as_str() {
        "--version" | "-V" => Output {
            rc: 0,
            stdout: format!(
                "pip {} from {} (python {})\n",
                installed(fs, distro, env)
                    .iter()
                    .find(|d| canonical(&d.name) == "pip")
                    .map_or_else(|| bundled_pip(distro).to_string(), |d| d.version.clone()),
                match &env.venv {
                    Some(_) => format!("{}/pip", env.site),
                    None => "/usr/lib/python3/dist-packages/pip".into(),
                },
                python_xy(distro)
            ),
            stderr: String::new(),
        },
        "list" => list(fs, distro, env, rest),
        "freeze" => {
            let skip = ["pip", "setuptools", "wheel", "distribute"];
            let stdout = installed(fs, distro, env)
                .iter()
                .filter(|d| !skip.contains(&canonical(&d.name).as_str()))
                .map(|d| format!("{}=={}\n", d.name, d.version))
                .collect();
            Output {
                rc: 0,
                stdout,
                stderr: String::new(),
            }
        }
        "show" => show(fs, distro, env, &index, rest),
        "install" => {
            let mut o = InstallOpts {
                break_system,
                ..Default::default()
            };
            let mut i = 0;
            while i < rest.len() {
                let a = rest[i].as_str();
                match a {
                    "-U" | "--upgrade" => o.upgrade = true,
                    "--force-reinstall" => o.force = true,
                    "--no-deps" => o.no_deps = true,
                    "--no-cache-dir" | "--disable-pip-version-check" | "--no-input" => {}
                    "--break-system-packages" => o.break_system = true,
                    "-r" | "--requirement" => {
                        i += 1;
                        match rest.get(i) {
                            Some(f) => o.requirements.push(f.clone()),
                            None => {
                                return fail(
                                    2,
                                    String::new(),
                                    "\nUsage:   \n  pip install [options] <requirement specifier> [package-index-options] ...\n\n-r option requires 1 argument\n",
                                )
                            }
                        }
                    }
                    _ if a.starts_with("--requirement=") => {
                        o.requirements.push(a["--requirement=".len()..].to_string())
                    }
                    _ if a.starts_with("-r") && a.len() > 2 => {
                        o.requirements.push(a[2..].to_string())
                    }
                    _ if a.starts_with('-') => {
                        return fail(
                            2,
                            String::new(),
                            format!("fleetsim does not simulate the pip option '{a}'\n"),
                        )
                    }
                    _ => o.names.push(a.to_string()),
                }
                i += 1;
            }
            install(fs, distro, env, &index, &o, cwd)
        }
        "uninstall" => {
            let mut yes = false;
            let mut names = Vec::new();
            for a in rest {
                match a.as_str() {
                    "-y" | "--yes" => yes = true,
                    "--break-system-packages" => {}
                    _ if a.starts_with('-') => {
                        return fail(
                            2,
                            String::new(),
                            format!("fleetsim does not simulate the pip option '{a}'\n"),
                        )
                    }
                    _ => names.push(a.clone()),
                }
            }
            let breaking = break_system || rest.iter().any(|a| a == "--break-system-packages");
            uninstall(fs, distro, env, &names, yes, breaking)
        }
        other => fail(
            1,
            String::new(),
            format!("ERROR: unknown command \"{other}\"\n"),
        ),
    }
}

fn list(fs: &Sandbox, distro: Distro, env: &Env, args: &[String]) -> Output {
    let dists = installed(fs, distro, env);
    let freeze = args.iter().any(|a| a == "--format=freeze")
        || args
            .windows(2)
            .any(|w| w[0] == "--format" && w[1] == "freeze");
    if let Some(bad) = args.iter().find(|a| {
        !matches!(
            a.as_str(),
            "--format=freeze" | "--format=columns" | "--format" | "freeze" | "columns"
        )
    }) {
        return fail(
            2,
            String::new(),
            format!("fleetsim does not simulate the pip option '{bad}'\n"),
        );
    }
    let stdout = if freeze {
        dists
            .iter()
            .map(|d| format!("{}=={}\n", d.name, d.version))
            .collect()
    } else {
        let w = dists
            .iter()
            .map(|d| d.name.len())
            .chain([7])
            .max()
            .unwrap_or(7);
        let vw = dists
            .iter()
            .map(|d| d.version.len())
            .chain([7])
            .max()
            .unwrap_or(7);
        let mut s = format!(
            "{:<w$} {:<vw$}\n{} {}\n",
            "Package",
            "Version",
            "-".repeat(w),
            "-".repeat(vw)
        );
        for d in &dists {
            s.push_str(format!("{:<w$} {}", d.name, d.version).trim_end());
            s.push('\n');
        }
        s
    };
    Output {
        rc: 0,
        stdout,
        stderr: String::new(),
    }
}

fn show(fs: &Sandbox, distro: Distro, env: &Env, index: &PyPi, names: &[String]) -> Output {
    let dists = installed(fs, distro, env);
    let mut blocks = Vec::new();
    let mut missing = Vec::new();
    for n in names {
        match dists.iter().find(|d| canonical(&d.name) == canonical(n)) {
            Some(d) => {
                let p = index.find(&d.name);
                let requires: Vec<String> = p
                    .map(|p| {
                        p.requires
                            .iter()
                            .filter_map(|r| Requirement::parse(r).ok().map(|r| r.name))
                            .collect()
                    })
                    .unwrap_or_default();
                let required_by: Vec<String> = dists
                    .iter()
                    .filter(|o| {
                        index.find(&o.name).is_some_and(|op| {
                            op.requires.iter().any(|r| {
                                Requirement::parse(r)
                                    .is_ok_and(|r| canonical(&r.name) == canonical(&d.name))
                            })
                        })
                    })
                    .map(|o| o.name.clone())
                    .collect();
                let site = d.info.rsplit_once('/').map_or("", |(s, _)| s);
                blocks.push(format!(
                    "Name: {}\nVersion: {}\nSummary: {}\nLocation: {site}\nRequires: {}\nRequired-by: {}\n",
                    d.name,
                    d.version,
                    p.map_or("", |p| p.summary.as_str()),
                    requires.join(", "),
                    required_by.join(", ")
                ));
            }
            None => missing.push(n.clone()),
        }
    }
    let stderr = missing
        .iter()
        .map(|n| format!("WARNING: Package(s) not found: {n}\n"))
        .collect();
    Output {
        rc: if blocks.is_empty() { 1 } else { 0 },
        stdout: blocks.join("---\n"),
        stderr,
    }
}

/// PEP 668: the Debian family marks its system interpreter as managed by apt.
fn externally_managed(distro: Distro, env: &Env) -> Option<String> {
    if env.venv.is_some() || distro.family() != Family::Debian {
        return None;
    }
    let xy = python_xy(distro);
    let what = match distro {
        Distro::Ubuntu2404 => "Ubuntu",
        _ => "Debian",
    };
    Some(format!(
        "error: externally-managed-environment\n\n× This environment is externally managed\n╰─> To install Python packages system-wide, try apt install\n    python3-xyz, where xyz is the package you are trying to\n    install.\n    \n    If you wish to install a non-{what}-packaged Python package,\n    create a virtual environment using python3 -m venv path/to/venv.\n    Then use path/to/venv/bin/python3 and path/to/venv/bin/pip. Make\n    sure you have python3-full installed.\n    \n    If you wish to install a non-{what} packaged Python application,\n    it may be easiest to use pipx install xyz, which will manage a\n    virtual environment for you. Make sure you have pipx installed.\n    \n    See /usr/share/doc/python{xy}/README.venv for more information.\n\nnote: If you believe this is a mistake, please contact your Python installation or OS distribution provider. You can override this, at the risk of breaking your Python installation or OS, by passing --break-system-packages.\nhint: See PEP 668 for the detailed specification.\n"
    ))
}

const ROOT_WARNING: &str = "WARNING: Running pip as the 'root' user can result in broken permissions and conflicting behaviour with the system package manager. It is recommended to use a virtual environment instead: https://pip.pypa.io/warnings/venv\n";

/// The requirements of a requirements file (and the files it names with `-r`).
fn read_requirements(
    fs: &Sandbox,
    path: &str,
    cwd: &str,
    depth: usize,
    out: &mut Vec<String>,
) -> Result<(), String> {
    let full = if path.starts_with('/') {
        path.to_string()
    } else {
        format!("{}/{path}", cwd.trim_end_matches('/'))
    };
    let text = fs.read_to_string(&full).map_err(|_| {
        format!("ERROR: Could not open requirements file: [Errno 2] No such file or directory: '{path}'\n")
    })?;
    let dir = full.rsplit_once('/').map_or("/", |(d, _)| d).to_string();
    for line in text.lines() {
        // A comment starts at `#` preceded by whitespace (or at the line's start).
        let line = match line.find(" #").or(line.starts_with('#').then_some(0)) {
            Some(i) => &line[..i],
            None => line,
        }
        .trim();
        if line.is_empty() {
            continue;
        }
        if let Some(nested) = line
            .strip_prefix("-r ")
            .or_else(|| line.strip_prefix("--requirement "))
        {
            if depth > 8 {
                return Err(format!(
                    "ERROR: requirements files nest too deeply at '{path}'\n"
                ));
            }
            read_requirements(fs, nested.trim(), &dir, depth + 1, out)?;
        } else if line.starts_with('-') {
            return Err(format!(
                "fleetsim does not simulate the requirements file option '{line}' ({path})\n"
            ));
        } else {
            out.push(line.to_string());
        }
    }
    Ok(())
}

/// One project the resolver settled.
struct Node {
    key: String,
    /// The name as first asked for (pip prints that in its summaries).
    asked: String,
    project: Project,
    version: String,
    /// Whether it gets installed (else it was already satisfied).
    install: bool,
    replaces: Option<Dist>,
    /// Canonical names of the dependencies it asked for.
    deps: Vec<String>,
}

/// pip's installation order (`get_installation_order`): nodes without dependencies are
/// pruned round by round, each round weighted by the size of the graph left (so deeper
/// dependencies go first), then sorted by (weight, name), highest first.
fn installation_order(nodes: &[Node]) -> Vec<usize> {
    let mut left: Vec<usize> = (0..nodes.len()).collect();
    let mut weight = vec![0usize; nodes.len()];
    while !left.is_empty() {
        let leaves: Vec<usize> = left
            .iter()
            .copied()
            .filter(|&i| {
                !nodes[i]
                    .deps
                    .iter()
                    .any(|d| left.iter().any(|&j| nodes[j].key == *d))
            })
            .collect();
        // A cycle: what is left goes last, in name order.
        let leaves = if leaves.is_empty() {
            left.clone()
        } else {
            leaves
        };
        // The graph's size counts its root.
        let w = left.len();
        for &i in &leaves {
            weight[i] = w;
        }
        left.retain(|i| !leaves.contains(i));
    }
    let mut order: Vec<usize> = (0..nodes.len()).collect();
    order.sort_by(|&a, &b| (weight[b], &nodes[b].key).cmp(&(weight[a], &nodes[a].key)));
    order
}

fn install(
    fs: &mut Sandbox,
    distro: Distro,
    env: &Env,
    index: &PyPi,
    o: &InstallOpts,
    cwd: &str,
) -> Output {
    if !o.break_system {
        if let Some(e) = externally_managed(distro, env) {
            return fail(1, String::new(), e);
        }
    }
    let mut texts = o.names.clone();
    for r in &o.requirements {
        if let Err(e) = read_requirements(fs, r, cwd, 0, &mut texts) {
            return fail(1, String::new(), e);
        }
    }
    if texts.is_empty() {
        return fail(
            1,
            String::new(),
            "ERROR: You must give at least one requirement to install (see \"pip help install\")\n",
        );
    }
    let mut queue = std::collections::VecDeque::new();
    for t in &texts {
        match Requirement::parse(t) {
            // (requirement, the chain that asked for it, top-level)
            Ok(r) => queue.push_back((r, String::new(), true)),
            Err(e) => return fail(1, String::new(), format!("ERROR: {e}\n")),
        }
    }
    let before = installed(fs, distro, env);
    let mut stdout = String::new();
    let mut nodes: Vec<Node> = Vec::new();
    // Breadth first, as pip reports them: every top-level requirement, then what they need.
    while let Some((req, chain, top)) = queue.pop_front() {
        let key = canonical(&req.name);
        let from = if chain.is_empty() {
            String::new()
        } else {
            format!(" (from {chain})")
        };
        if let Some(n) = nodes.iter().find(|n| n.key == key) {
            if Version::parse(&n.version).is_some_and(|v| req.contains(&v)) {
                continue;
            }
            return fail(
                1,
                stdout,
                format!(
                    "ERROR: Cannot install {req} because these package versions have conflicting dependencies.\nERROR: ResolutionImpossible: for help visit https://pip.pypa.io/en/latest/topics/dependency-resolution/#dealing-with-dependency-conflicts\n"
                ),
            );
        }
        let Some(project) = index.find(&req.name) else {
            return fail(
                1,
                stdout,
                format!(
                    "ERROR: Could not find a version that satisfies the requirement {req} (from versions: none)\nERROR: No matching distribution found for {req}\n"
                ),
            );
        };
        let current = before.iter().find(|d| canonical(&d.name) == key).cloned();
        let current_v = current.as_ref().and_then(|d| Version::parse(&d.version));
        let current_ok = current_v.as_ref().is_some_and(|v| req.contains(v));
        let mut versions: Vec<Version> = project
            .versions
            .iter()
            .filter_map(|v| Version::parse(v))
            .collect();
        versions.sort();
        let best = versions
            .iter()
            .filter(|v| !v.is_prerelease() && req.contains(v))
            .max()
            .cloned();
        let site = current
            .as_ref()
            .and_then(|d| d.info.rsplit_once('/').map(|(s, _)| s.to_string()))
            .unwrap_or_default();
        let satisfied = |out: &mut String| {
            if let Some(d) = &current {
                out.push_str(&format!(
                    "Requirement already satisfied: {req} in {site}{from} ({})\n",
                    d.version
                ));
            }
        };
        // `-U` upgrades what was asked for; dependencies only when they must.
        let upgrade = top && o.upgrade;
        let newer = match (&best, &current_v) {
            (Some(b), Some(c)) => b > c,
            _ => false,
        };
        let (version, install) = if current_ok && !(upgrade && newer) && !o.force {
            satisfied(&mut stdout);
            (
                current
                    .as_ref()
                    .map(|d| d.version.clone())
                    .unwrap_or_default(),
                false,
            )
        } else {
            if current_ok {
                satisfied(&mut stdout);
            }
            let chosen = if current_ok && !(upgrade && newer) {
                current_v.clone()
            } else {
                best.clone()
            };
            let Some(chosen) = chosen else {
                return fail(
                    1,
                    stdout,
                    format!(
                        "ERROR: Could not find a version that satisfies the requirement {req} (from versions: {})\nERROR: No matching distribution found for {req}\n",
                        versions.iter().map(|v| v.text.as_str()).collect::<Vec<_>>().join(", ")
                    ),
                );
            };
            let wheel = format!(
                "{}-{chosen}-py3-none-any.whl",
                file_name(&canonical(&project.name))
            );
            // A size that does not change from run to run.
            let kb = 12 + wheel.bytes().map(u64::from).sum::<u64>() % 480;
            stdout.push_str(&format!(
                "Collecting {req}{from}\n  Downloading {wheel} ({kb} kB)\n"
            ));
            (chosen.text.clone(), true)
        };
        let mut deps = Vec::new();
        if !o.no_deps {
            let asked = if chain.is_empty() {
                req.to_string()
            } else {
                format!("{req}->{chain}")
            };
            for r in &project.requires {
                match Requirement::parse(r) {
                    Ok(dep) => {
                        deps.push(canonical(&dep.name));
                        queue.push_back((dep, asked.clone(), false));
                    }
                    Err(e) => return fail(1, stdout, format!("ERROR: {e}\n")),
                }
            }
        }
        nodes.push(Node {
            key,
            asked: req.name.clone(),
            project: project.clone(),
            version,
            replaces: if install { current } else { None },
            install,
            deps,
        });
    }
    let order = installation_order(&nodes);
    let to_install: Vec<&Node> = order
        .iter()
        .map(|&i| &nodes[i])
        .filter(|n| n.install)
        .collect();
    let mut stderr = String::new();
    if !to_install.is_empty() {
        stdout.push_str(&format!(
            "Installing collected packages: {}\n",
            to_install
                .iter()
                .map(|n| n.asked.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ));
        for n in &to_install {
            if let Some(old) = &n.replaces {
                stdout.push_str(&format!(
                    "  Attempting uninstall: {0}\n    Found existing installation: {1} {2}\n    Uninstalling {1}-{2}:\n      Successfully uninstalled {1}-{2}\n",
                    n.asked, old.name, old.version
                ));
                if let Err(e) = remove_dist(fs, env, old) {
                    return fail(1, stdout, format!("ERROR: {e}\n"));
                }
            }
            if let Err(e) = write_dist(fs, env, &n.project, &n.version) {
                return fail(
                    1,
                    stdout,
                    format!("ERROR: Could not install packages due to an OSError: {e}\n"),
                );
            }
        }
        // Sorted by name as pip sorts them: by the name asked for, capitals first.
        let mut done: Vec<(&str, &str)> = to_install
            .iter()
            .map(|n| (n.asked.as_str(), n.version.as_str()))
            .collect();
        done.sort();
        stdout.push_str(&format!(
            "Successfully installed {}\n",
            done.iter()
                .map(|(n, v)| format!("{n}-{v}"))
                .collect::<Vec<_>>()
                .join(" ")
        ));
    }
    if env.venv.is_none() {
        stderr.push_str(ROOT_WARNING);
    }
    Output {
        rc: 0,
        stdout,
        stderr,
    }
}

fn uninstall(
    fs: &mut Sandbox,
    distro: Distro,
    env: &Env,
    names: &[String],
    yes: bool,
    break_system: bool,
) -> Output {
    if names.is_empty() {
        return fail(
            1,
            String::new(),
            "ERROR: You must give at least one requirement to uninstall (see \"pip help uninstall\")\n",
        );
    }
    if !break_system {
        if let Some(e) = externally_managed(distro, env) {
            return fail(1, String::new(), e);
        }
    }
    let mut stdout = String::new();
    let mut stderr = String::new();
    for n in names {
        let req = match Requirement::parse(n) {
            Ok(r) => r,
            Err(e) => return fail(1, stdout, format!("ERROR: {e}\n")),
        };
        // Only the environment's own distributions can be removed.
        let found = dists_in(fs, &env.site)
            .into_iter()
            .find(|d| canonical(&d.name) == canonical(&req.name));
        let Some(d) = found else {
            stderr.push_str(&format!(
                "WARNING: Skipping {} as it is not installed.\n",
                req.name
            ));
            continue;
        };
        if !yes {
            return fail(
                1,
                stdout,
                format!("ERROR: fleetsim's pip uninstall needs -y to remove {} (there is no terminal to confirm on)\n", d.name),
            );
        }
        stdout.push_str(&format!(
            "Found existing installation: {0} {1}\nUninstalling {0}-{1}:\n  Successfully uninstalled {0}-{1}\n",
            d.name, d.version
        ));
        if let Err(e) = remove_dist(fs, env, &d) {
            return fail(1, stdout, format!("ERROR: {e}\n"));
        }
    }
    if env.venv.is_none() {
        stderr.push_str(ROOT_WARNING);
    }
    Output {
        rc: 0,
        stdout,
        stderr,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::os::tests::host;

    fn v(s: &str) -> Version {
        Version::parse(s).unwrap()
    }

    #[test]
    fn the_builtin_index_parses() {
        let i = PyPi::builtin();
        assert!(i.len() >= 40);
        assert!(i.find("jinja2").is_some());
        assert!(i.find("typing-extensions").is_some());
    }

    #[test]
    fn names_canonicalise() {
        assert_eq!(canonical("Foo__Bar.baz"), "foo-bar-baz");
        assert_eq!(canonical("PyYAML"), "pyyaml");
    }

    #[test]
    fn versions_order_as_pep_440() {
        assert!(v("1.0.dev1") < v("1.0a1"));
        assert!(v("1.0a1") < v("1.0b2"));
        assert!(v("1.0rc1") < v("1.0"));
        assert!(v("1.0") < v("1.0.post1"));
        assert_eq!(v("1.0"), v("1.0.0"));
        assert!(v("2.9.0.post0") > v("2.9.0"));
        assert!(v("1.10") > v("1.9"));
        assert!(Version::parse("one").is_none());
    }

    #[test]
    fn specifiers_match_and_print_sorted() {
        let r = Requirement::parse("requests >=2.0, <3").unwrap();
        assert_eq!(r.to_string(), "requests<3,>=2.0");
        assert!(r.contains(&v("2.31.0")));
        assert!(!r.contains(&v("3.0")));
        let r = Requirement::parse("x~=2.2").unwrap();
        assert!(r.contains(&v("2.9")) && !r.contains(&v("3.0")));
        let r = Requirement::parse("x==1.4.*").unwrap();
        assert!(r.contains(&v("1.4.7")) && !r.contains(&v("1.5")));
        let r = Requirement::parse("x!=2.2.0").unwrap();
        assert!(!r.contains(&v("2.2")));
        let r = Requirement::parse("botocore<2.0a.0").unwrap();
        assert!(r.contains(&v("1.36.2")));
        assert!(Requirement::parse("x[security]")
            .unwrap_err()
            .contains("extras"));
        assert!(Requirement::parse("x; python_version<'3'")
            .unwrap_err()
            .contains("markers"));
        assert!(Requirement::parse("x y").is_err());
        assert!(Requirement::parse(">=1").is_err());
    }

    fn args(s: &str) -> Vec<String> {
        s.split_whitespace().map(str::to_string).collect()
    }

    #[test]
    fn installs_with_dependencies_and_is_idempotent() {
        let (_t, mut fs) = host(Distro::Rocky9);
        let env = Env::system(Distro::Rocky9);
        let o = run(
            &mut fs,
            Distro::Rocky9,
            &env,
            &args("install requests==2.31.0"),
            "/tmp",
            false,
        );
        assert_eq!(o.rc, 0, "{o:?}");
        assert!(
            o.stdout.starts_with(
                "Collecting requests==2.31.0\n  Downloading requests-2.31.0-py3-none-any.whl"
            ),
            "{}",
            o.stdout
        );
        assert!(
            o.stdout
                .contains("Collecting idna<4,>=2.5 (from requests==2.31.0)\n"),
            "{}",
            o.stdout
        );
        assert!(o.stdout.contains("Installing collected packages: urllib3, idna, charset-normalizer, certifi, requests\n"), "{}", o.stdout);
        assert!(o.stdout.ends_with("Successfully installed certifi-2025.1.31 charset-normalizer-3.4.1 idna-3.10 requests-2.31.0 urllib3-2.3.0\n"), "{}", o.stdout);
        assert!(o.stderr.contains("as the 'root' user"));
        assert!(
            fs.is_file("/usr/local/lib/python3.9/site-packages/requests-2.31.0.dist-info/METADATA")
        );
        let again = run(
            &mut fs,
            Distro::Rocky9,
            &env,
            &args("install requests"),
            "/tmp",
            false,
        );
        assert!(
            !again.stdout.contains("Successfully installed"),
            "{}",
            again.stdout
        );
        assert!(again.stdout.starts_with("Requirement already satisfied: requests in /usr/local/lib/python3.9/site-packages (2.31.0)\nRequirement already satisfied: charset-normalizer<4,>=2 in /usr/local/lib/python3.9/site-packages (from requests) (3.4.1)\n"), "{}", again.stdout);
        let up = run(
            &mut fs,
            Distro::Rocky9,
            &env,
            &args("install -U requests"),
            "/tmp",
            false,
        );
        assert!(up.stdout.starts_with("Requirement already satisfied: requests in /usr/local/lib/python3.9/site-packages (2.31.0)\nCollecting requests\n"), "{}", up.stdout);
        assert!(up.stdout.ends_with("Installing collected packages: requests\n  Attempting uninstall: requests\n    Found existing installation: requests 2.31.0\n    Uninstalling requests-2.31.0:\n      Successfully uninstalled requests-2.31.0\nSuccessfully installed requests-2.32.3\n"), "{}", up.stdout);
        let freeze = run(
            &mut fs,
            Distro::Rocky9,
            &env,
            &args("list --format=freeze"),
            "/tmp",
            false,
        );
        assert_eq!(freeze.stdout, "certifi==2025.1.31\ncharset-normalizer==3.4.1\nidna==3.10\nrequests==2.32.3\nurllib3==2.3.0\n");
        let rm = run(
            &mut fs,
            Distro::Rocky9,
            &env,
            &args("uninstall -y requests idna nothere"),
            "/tmp",
            false,
        );
        assert!(rm
            .stdout
            .contains("Successfully uninstalled requests-2.32.3\n"));
        assert!(rm
            .stderr
            .starts_with("WARNING: Skipping nothere as it is not installed.\n"));
        assert!(!fs.exists("/usr/local/lib/python3.9/site-packages/requests"));
    }

    #[test]
    fn unknown_projects_and_versions_fail_as_pip_does() {
        let (_t, mut fs) = host(Distro::Rocky9);
        let env = Env::system(Distro::Rocky9);
        let o = run(
            &mut fs,
            Distro::Rocky9,
            &env,
            &args("install nosuchthing"),
            "/tmp",
            false,
        );
        assert_eq!(o.rc, 1);
        assert_eq!(o.stderr, "ERROR: Could not find a version that satisfies the requirement nosuchthing (from versions: none)\nERROR: No matching distribution found for nosuchthing\n");
        let o = run(
            &mut fs,
            Distro::Rocky9,
            &env,
            &args("install six==9.9"),
            "/tmp",
            false,
        );
        assert!(
            o.stderr.contains("(from versions: 1.15.0, 1.16.0, 1.17.0)"),
            "{}",
            o.stderr
        );
        let o = run(
            &mut fs,
            Distro::Rocky9,
            &env,
            &args("install --index-url http://x six"),
            "/tmp",
            false,
        );
        assert_eq!(o.rc, 2);
        assert!(o.stderr.contains("'--index-url'"));
    }

    #[test]
    fn debian_system_python_is_externally_managed() {
        let (_t, mut fs) = host(Distro::Debian12);
        let env = Env::system(Distro::Debian12);
        let o = run(
            &mut fs,
            Distro::Debian12,
            &env,
            &args("install six"),
            "/tmp",
            false,
        );
        assert_eq!(o.rc, 1);
        assert!(o
            .stderr
            .starts_with("error: externally-managed-environment\n"));
        let o = run(
            &mut fs,
            Distro::Debian12,
            &env,
            &args("install six"),
            "/tmp",
            true,
        );
        assert_eq!(o.rc, 0, "{o:?}");
        assert!(fs.is_file("/usr/local/lib/python3.11/dist-packages/six-1.17.0.dist-info/METADATA"));
    }

    #[test]
    fn venvs_are_created_and_installed_into() {
        let (_t, mut fs) = host(Distro::Debian12);
        let d = Distro::Debian12;
        let o = create_venv(&mut fs, d, "/opt/app/venv", VenvTool::Venv, false);
        assert_eq!(o.rc, 1);
        assert!(o.stdout.contains("apt install python3.11-venv"));
        let o = create_venv(&mut fs, d, "/opt/app/venv", VenvTool::Virtualenv, false);
        assert_eq!(o.rc, 0, "{o:?}");
        assert!(Env::venv_exists(&fs, "/opt/app/venv"));
        let env = Env::venv(d, "/opt/app/venv");
        let listed = run(
            &mut fs,
            d,
            &env,
            &args("list --format=freeze"),
            "/tmp",
            false,
        );
        assert_eq!(
            listed.stdout,
            "pip==23.0.1\nsetuptools==75.8.0\nwheel==0.45.1\n"
        );
        let o = run(
            &mut fs,
            d,
            &env,
            &args("install flask<3 pyyaml"),
            "/tmp",
            false,
        );
        assert_eq!(o.rc, 0, "{o:?}");
        assert!(o.stderr.is_empty());
        // As pip 23 orders and names them (checked against a real run).
        assert!(
            o.stdout
                .contains("Collecting flask<3\n  Downloading flask-2.3.3-py3-none-any.whl"),
            "{}",
            o.stdout
        );
        assert!(
            o.stdout
                .contains("Collecting MarkupSafe>=2.1.1 (from Werkzeug>=3.0.0->flask<3)\n"),
            "{}",
            o.stdout
        );
        assert!(o.stdout.contains("Installing collected packages: pyyaml, MarkupSafe, itsdangerous, click, blinker, Werkzeug, Jinja2, flask\n"), "{}", o.stdout);
        assert!(o.stdout.ends_with("Successfully installed Jinja2-3.1.5 MarkupSafe-3.0.2 Werkzeug-3.1.3 blinker-1.9.0 click-8.1.8 flask-2.3.3 itsdangerous-2.2.0 pyyaml-6.0.2\n"), "{}", o.stdout);
        assert!(fs.is_file("/opt/app/venv/bin/flask"));
        let freeze = run(&mut fs, d, &env, &args("freeze"), "/tmp", false);
        assert!(
            freeze
                .stdout
                .starts_with("blinker==1.9.0\nclick==8.1.8\nFlask==2.3.3\n"),
            "{}",
            freeze.stdout
        );
    }

    #[test]
    fn requirements_files_are_read_relative_to_cwd() {
        let (_t, mut fs) = host(Distro::Rocky9);
        let d = Distro::Rocky9;
        put(
            &mut fs,
            "/srv/app/requirements.txt",
            "# pinned\nsix==1.16.0  # compat\n-r extra.txt\n",
        )
        .unwrap();
        put(&mut fs, "/srv/app/extra.txt", "pytz\n").unwrap();
        let env = Env::system(d);
        let o = run(
            &mut fs,
            d,
            &env,
            &args("install -r requirements.txt"),
            "/srv/app",
            false,
        );
        assert!(
            o.stdout
                .ends_with("Successfully installed pytz-2025.1 six-1.16.0\n"),
            "{o:?}"
        );
        let o = run(
            &mut fs,
            d,
            &env,
            &args("install -r nope.txt"),
            "/srv/app",
            false,
        );
        assert_eq!(o.stderr, "ERROR: Could not open requirements file: [Errno 2] No such file or directory: 'nope.txt'\n");
    }
}
