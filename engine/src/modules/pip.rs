//! `pip`: Python packages from the simulated package index ([`fleetsim_sim::os::pip`]),
//! into the system interpreter or a `virtualenv` (created first, with `virtualenv` or
//! `python3 -m venv`), following ansible-core's module step by step: the pip command it
//! builds (`python3 -m pip` or the venv's `pip3`, `install`/`install -U`/`uninstall -y`,
//! `extra_args`, the names as `packaging` prints them or `-r requirements`), check mode's
//! `pip list --format=freeze` comparison, `changed` read from pip's output (or the freeze
//! before and after, for a requirements file), its failure message `stdout: ...\n:stderr:
//! ...`, and its result keys.
//!
//! Not simulated, and refused by name: VCS/URL names, `editable`, a `umask` other than
//! 022, virtualenv commands other than `virtualenv` and `python3 -m venv`, interpreters
//! other than the host's python3, and pip options the simulated pip does not know.

use serde_json::{json, Value};

use fleetsim_sim::os::pip::{self as sim_pip, Env, Requirement, VenvTool};
use fleetsim_sim::os::Distro;

use super::spec::{opt, spec, Kind, ModuleName, Spec};
use super::{arg_str, Args, Module, ModuleCtx, ModuleResult};

pub struct Pip;

const SPEC: Spec = spec(
    ModuleName::AsWritten,
    &[
        opt("state", Kind::Str).choices(&["present", "absent", "latest", "forcereinstall"]),
        opt("name", Kind::List),
        opt("version", Kind::Str),
        opt("requirements", Kind::Str),
        opt("virtualenv", Kind::Path),
        opt("virtualenv_site_packages", Kind::Bool),
        opt("virtualenv_command", Kind::Path),
        opt("virtualenv_python", Kind::Str),
        opt("extra_args", Kind::Str),
        opt("editable", Kind::Bool),
        opt("chdir", Kind::Path),
        opt("executable", Kind::Path),
        opt("umask", Kind::Str),
        opt("break_system_packages", Kind::Bool),
    ],
)
.required_one_of(&[&["name", "requirements"]])
.mutually_exclusive(&[&["name", "requirements"], &["executable", "virtualenv"]]);

/// `module.get_bin_path`'s search path.
const BIN_PATH: &[&str] = &[
    "/usr/local/sbin",
    "/usr/local/bin",
    "/usr/sbin",
    "/usr/bin",
    "/sbin",
    "/bin",
];

/// The ansible-core comparison operators that start a bare version clause in `name`.
const OP_PREFIXES: &[&str] = &[">=", "<=", ">", "<", "==", "!=", "~="];

/// `_recover_package_name`: re-joins version clauses a comma split off their name
/// (`['django>1.11.1', '<1.11.3']` is one requirement).
fn recover_package_names(names: &[String]) -> Vec<String> {
    let parts: Vec<&str> = names.iter().flat_map(|n| n.split(',')).collect();
    let mut out = Vec::new();
    let mut current: Vec<&str> = Vec::new();
    let mut in_brackets = false;
    for name in parts {
        let is_name = !OP_PREFIXES
            .iter()
            .any(|op| name.trim_start().starts_with(op));
        if is_name && !in_brackets {
            if !current.is_empty() {
                out.push(current.join(","));
            }
            current.clear();
        }
        if name.contains('[') {
            in_brackets = true;
        }
        if in_brackets && name.contains(']') {
            in_brackets = false;
        }
        current.push(name);
    }
    out.push(current.join(","));
    out
}

/// The module's `Package`: a parsed requirement (printed as `packaging` prints it), or the
/// raw text when it does not parse (pip then reports it).
struct Package {
    raw: String,
    req: Option<Requirement>,
}

impl Package {
    fn new(name: &str, version: Option<&str>) -> Package {
        let mut text = name.to_string();
        if let Some(v) = version.map(str::trim_start).filter(|v| !v.is_empty()) {
            let sep = if v.starts_with(|c: char| c.is_ascii_digit()) {
                "=="
            } else {
                " "
            };
            text = format!("{name}{sep}{v}");
        }
        Package {
            req: Requirement::parse(&text).ok(),
            raw: text,
        }
    }

    fn has_version_specifier(&self) -> bool {
        self.req.as_ref().is_some_and(|r| !r.specs.is_empty())
    }

    fn text(&self) -> String {
        self.req
            .as_ref()
            .map_or_else(|| self.raw.clone(), Requirement::to_string)
    }

    /// `_is_present` against `pip list --format=freeze` lines.
    fn is_present(&self, lines: &[&str]) -> bool {
        let Some(req) = &self.req else {
            return false;
        };
        lines.iter().any(|l| {
            let Some((n, v)) = l.split_once("==") else {
                return false;
            };
            sim_pip::canonical(n) == sim_pip::canonical(&req.name)
                && sim_pip::Version::parse(v).is_some_and(|v| req.contains(&v))
        })
    }
}

/// `_fail`: pip's output as the message, the command beside it.
fn pip_fail(cmd: &[String], out: &str, err: &str) -> ModuleResult {
    let mut msg = String::new();
    if !out.is_empty() {
        msg.push_str(&format!("stdout: {out}"));
    }
    if !err.is_empty() {
        msg.push_str(&format!("\n:stderr: {err}"));
    }
    let mut r = super::fail(&msg);
    r.insert("cmd".into(), json!(cmd));
    r
}

/// Finds a program on the host as `get_bin_path` does.
fn bin_path(fs: &fleetsim_sim::fs::Sandbox, name: &str) -> Option<String> {
    if name.starts_with('/') {
        return fs.is_file(name).then(|| name.to_string());
    }
    BIN_PATH
        .iter()
        .map(|d| format!("{d}/{name}"))
        .find(|p| fs.is_file(p))
}

/// How the pip command starts and which environment it acts on.
struct PipCmd {
    argv: Vec<String>,
    env: Env,
}

impl Module for Pip {
    fn run(&self, ctx: &mut ModuleCtx<'_>, args: &Args) -> ModuleResult {
        let args = match super::validated(ctx, &SPEC, args) {
            Ok(a) => a,
            Err(r) => return r,
        };
        let state = arg_str(&args, "state").unwrap_or_else(|| "present".into());
        let names: Option<Vec<String>> = match args.get("name") {
            Some(Value::Array(a)) => Some(a.iter().map(crate::playbook::scalar_text).collect()),
            _ => None,
        };
        let version = arg_str(&args, "version");
        let requirements = arg_str(&args, "requirements");
        let extra_args = arg_str(&args, "extra_args").filter(|s| !s.is_empty());
        let chdir_arg = arg_str(&args, "chdir");
        let mut venv = arg_str(&args, "virtualenv");
        if let (Some(e), Some(c)) = (&venv, &chdir_arg) {
            if !e.starts_with('/') {
                venv = Some(format!("{}/{e}", c.trim_end_matches('/')));
            }
        }
        if let Some(u) = arg_str(&args, "umask") {
            match u32::from_str_radix(&u, 8) {
                Err(e) => {
                    let mut r = super::fail("umask must be an octal integer");
                    r.insert(
                        "details".into(),
                        json!(format!("invalid literal for int() with base 8: '{u}' ({e})")),
                    );
                    return r;
                }
                Ok(0o022) => {}
                Ok(_) => {
                    return super::fail(
                        "fleetsim does not simulate the option 'umask' of pip other than 0022 (the simulated pip writes its files with the default modes)",
                    )
                }
            }
        }
        if args.get("editable").and_then(super::to_bool) == Some(true) {
            return super::fail("fleetsim does not simulate the option 'editable' of pip");
        }
        if state == "latest" && version.is_some() {
            return super::fail("version is incompatible with state=latest");
        }
        let chdir = chdir_arg.unwrap_or_else(|| "/tmp".into());
        let check = ctx.check_mode;
        let (host, distro) = match ctx.target_os_host() {
            Ok(hd) => hd,
            Err(r) => return r,
        };
        let mut out = String::new();
        let mut err = String::new();
        let mut venv_created = false;
        if let Some(env) = &venv {
            if !Env::venv_exists(&host.fs, env) {
                venv_created = true;
                if check {
                    return super::ok(true);
                }
                match setup_virtualenv(&mut host.fs, distro, &args, env) {
                    Ok((o, e)) => {
                        out.push_str(&o);
                        err.push_str(&e);
                    }
                    Err(r) => return r,
                }
            }
        }
        let pip = match get_pip(
            &host.fs,
            distro,
            venv.as_deref(),
            arg_str(&args, "executable").as_deref(),
        ) {
            Ok(p) => p,
            Err(r) => return r,
        };
        let mut cmd = pip.argv.clone();
        cmd.extend(
            match state.as_str() {
                "absent" => &["uninstall", "-y"][..],
                "latest" => &["install", "-U"][..],
                "forcereinstall" => &["install", "-U", "--force-reinstall"][..],
                _ => &["install"][..],
            }
            .iter()
            .map(|s| s.to_string()),
        );
        let mut packages: Vec<Package> = Vec::new();
        if let Some(names) = &names {
            if let Some(vcs) = names.iter().find(|n| {
                ["svn+", "git+", "hg+", "bzr+"]
                    .iter()
                    .any(|p| n.starts_with(p))
            }) {
                return super::fail(&format!(
                    "fleetsim does not simulate installing from version control ('{vcs}')"
                ));
            }
            packages = recover_package_names(names)
                .iter()
                .map(|n| Package::new(n, None))
                .collect();
            if let Some(v) = &version {
                if packages.len() > 1 {
                    return super::fail("'version' argument is ambiguous when installing multiple package distributions. Please specify version restrictions next to each package in 'name' argument.");
                }
                if packages[0].has_version_specifier() {
                    return super::fail("The 'version' argument conflicts with any version specifier provided along with a package name. Please keep the version specifier, but remove the 'version' argument.");
                }
                packages[0] = Package::new(&packages[0].text(), Some(v));
            }
        }
        if let Some(extra) = &extra_args {
            match crate::inventory::pyliteral::shlex_split_opts(extra, false) {
                Ok(words) => cmd.extend(words),
                Err(e) => return super::fail(&e),
            }
        }
        let break_system = args
            .get("break_system_packages")
            .and_then(super::to_bool)
            .unwrap_or(false);
        if names.is_some() {
            cmd.extend(packages.iter().map(Package::text));
        } else if let Some(r) = &requirements {
            cmd.extend(["-r".to_string(), r.clone()]);
        }
        let skip = pip.argv.len();
        let run_pip = |fs: &mut fleetsim_sim::fs::Sandbox, argv: &[String]| {
            sim_pip::run(fs, distro, &pip.env, &argv[skip..], &chdir, break_system)
        };
        let list_cmd: Vec<String> = pip
            .argv
            .iter()
            .cloned()
            .chain(["list".to_string(), "--format=freeze".to_string()])
            .collect();
        if check {
            if extra_args.is_some()
                || requirements.is_some()
                || state == "latest"
                || names.is_none()
            {
                return super::ok(true);
            }
            let listed = run_pip(&mut host.fs, &list_cmd);
            if listed.rc != 0 {
                return pip_fail(&list_cmd, &listed.stdout, &listed.stderr);
            }
            out.push_str(&listed.stdout);
            err.push_str(&listed.stderr);
            let lines: Vec<&str> = out
                .split('\n')
                .filter(|l| {
                    !l.is_empty()
                        && !l.starts_with("You are using")
                        && !l.starts_with("You should consider")
                })
                .collect();
            let changed = packages.iter().any(|p| {
                let present = p.is_present(&lines);
                (state == "present" && !present) || (state == "absent" && present)
            });
            let mut r = super::ok(changed);
            r.insert("cmd".into(), json!(list_cmd.join(" ")));
            r.insert("stdout".into(), json!(out));
            r.insert("stderr".into(), json!(err));
            return r;
        }
        let freeze_before = requirements
            .as_ref()
            .map(|_| run_pip(&mut host.fs, &list_cmd).stdout);
        let ran = run_pip(&mut host.fs, &cmd);
        out.push_str(&ran.stdout);
        err.push_str(&ran.stderr);
        let tolerated = ran.rc == 1
            && state == "absent"
            && (ran.stdout.contains("not installed") || ran.stderr.contains("not installed"));
        if ran.rc != 0 && !tolerated {
            return pip_fail(&cmd, &out, &err);
        }
        let mut changed = if state == "absent" {
            ran.stdout.contains("Successfully uninstalled")
        } else {
            match &freeze_before {
                None => ran.stdout.contains("Successfully installed"),
                Some(before) => *before != run_pip(&mut host.fs, &list_cmd).stdout,
            }
        };
        changed |= venv_created;
        let mut r = super::ok(changed);
        r.insert("cmd".into(), json!(cmd));
        r.insert("name".into(), json!(names));
        r.insert("version".into(), json!(version));
        r.insert("state".into(), json!(state));
        r.insert("requirements".into(), json!(requirements));
        r.insert("virtualenv".into(), json!(venv));
        r.insert("stdout".into(), json!(out));
        r.insert("stderr".into(), json!(err));
        r
    }
}

/// `_get_pip`: the venv's `pip3`/`pip`, the `executable` given, or the system's
/// `python3 -m pip` when python3-pip is installed.
fn get_pip(
    fs: &fleetsim_sim::fs::Sandbox,
    distro: Distro,
    venv: Option<&str>,
    executable: Option<&str>,
) -> Result<PipCmd, ModuleResult> {
    if let Some(env) = venv {
        let dir = format!("{}/bin", env.trim_end_matches('/'));
        return ["pip3", "pip"]
            .iter()
            .map(|b| format!("{dir}/{b}"))
            .find(|p| fs.is_file(p))
            .map(|p| PipCmd {
                argv: vec![p],
                env: Env::venv(distro, env),
            })
            .ok_or_else(|| {
                super::fail(&format!(
                    "Unable to find pip in the virtualenv, {env}, under any of these names: pip3, pip. Make sure pip is present in the virtualenv."
                ))
            });
    }
    if let Some(exe) = executable {
        let path = if exe.starts_with('/') {
            Some(exe.to_string())
        } else {
            bin_path(fs, exe)
        };
        let Some(path) = path else {
            return Err(super::fail(&format!(
                "Unable to find any of {exe} to use.  pip needs to be installed."
            )));
        };
        // A venv's own pip acts on that venv; the system's pips on the system.
        if let Some(root) = path
            .rsplit_once('/')
            .and_then(|(d, _)| d.strip_suffix("/bin"))
            .filter(|root| Env::venv_exists(fs, root))
        {
            return Ok(PipCmd {
                argv: vec![path.clone()],
                env: Env::venv(distro, root),
            });
        }
        let base = path.rsplit('/').next().unwrap_or_default();
        if matches!(base, "pip" | "pip3") || base.starts_with("pip3.") {
            if !fs.is_file(&path) {
                return Err(super::fail(&format!(
                    "[Errno 2] No such file or directory: b'{path}'"
                )));
            }
            return Ok(PipCmd {
                argv: vec![path],
                env: Env::system(distro),
            });
        }
        return Err(super::fail(&format!(
            "fleetsim simulates pip executables only (pip, pip3 or a virtualenv's), not '{exe}'"
        )));
    }
    if sim_pip::system_pip_installed(fs, distro) {
        return Ok(PipCmd {
            argv: vec!["/usr/bin/python3".into(), "-m".into(), "pip".into()],
            env: Env::system(distro),
        });
    }
    match bin_path(fs, "pip3") {
        Some(p) => Ok(PipCmd {
            argv: vec![p],
            env: Env::system(distro),
        }),
        None => Err(super::fail(
            "Unable to find any of pip3 to use.  pip needs to be installed.",
        )),
    }
}

/// `setup_virtualenv`: the command line the module builds, run through the simulated
/// `virtualenv` or `venv`; returns what it printed.
fn setup_virtualenv(
    fs: &mut fleetsim_sim::fs::Sandbox,
    distro: Distro,
    args: &Args,
    env: &str,
) -> Result<(String, String), ModuleResult> {
    let command = arg_str(args, "virtualenv_command").unwrap_or_else(|| "virtualenv".into());
    let mut cmd = crate::inventory::pyliteral::shlex_split_opts(&command, false)
        .map_err(|e| super::fail(&e))?;
    if cmd.is_empty() {
        return Err(super::fail("virtualenv_command is empty"));
    }
    let first = cmd[0].clone();
    if !first.contains('/') {
        cmd[0] = bin_path(fs, &first).ok_or_else(|| {
            super::fail(&format!(
                "Failed to find required executable \"{first}\" in paths: {}",
                BIN_PATH.join(":")
            ))
        })?;
    }
    let base = cmd[0].rsplit('/').next().unwrap_or_default().to_string();
    let is_python = base == "python3" || base == format!("python{}", sim_pip::python_xy(distro));
    let is_venv = base == "pyvenv" || (cmd.len() >= 3 && cmd[1] == "-m" && cmd[2] == "venv");
    let tool = if base == "virtualenv" && cmd.len() == 1 {
        VenvTool::Virtualenv
    } else if is_venv
        && (base == "pyvenv" || is_python)
        && cmd.len() == if base == "pyvenv" { 1 } else { 3 }
    {
        VenvTool::Venv
    } else {
        return Err(super::fail(&format!(
            "fleetsim simulates virtualenv_command 'virtualenv' and 'python3 -m venv' only, not '{command}'"
        )));
    };
    let site = args
        .get("virtualenv_site_packages")
        .and_then(super::to_bool)
        .unwrap_or(false);
    if site {
        cmd.push("--system-site-packages".into());
    }
    let python = arg_str(args, "virtualenv_python");
    match tool {
        VenvTool::Virtualenv => {
            let p = python.unwrap_or_else(|| "/usr/bin/python3".into());
            let xy = sim_pip::python_xy(distro);
            if !matches!(p.as_str(), "python3" | "/usr/bin/python3")
                && p != format!("python{xy}")
                && p != format!("/usr/bin/python{xy}")
            {
                return Err(super::fail(&format!(
                    "fleetsim simulates the host's python3 only, not virtualenv_python '{p}'"
                )));
            }
            cmd.push(format!("-p{p}"));
        }
        VenvTool::Venv => {
            if python.is_some() {
                return Err(super::fail(
                    "virtualenv_python should not be used when using the venv module or pyvenv as virtualenv_command",
                ));
            }
        }
    }
    cmd.push(env.to_string());
    let o = sim_pip::create_venv(fs, distro, env, tool, site);
    if o.rc != 0 {
        return Err(pip_fail(&cmd, &o.stdout, &o.stderr));
    }
    Ok((o.stdout, o.stderr))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_clauses_rejoin_their_names() {
        let v = |xs: &[&str]| xs.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            recover_package_names(&v(&[
                "django>1.11.1",
                "<1.11.3",
                "ipaddress",
                "simpleproject>1.1.0",
                "<2.0.0"
            ])),
            v(&[
                "django>1.11.1,<1.11.3",
                "ipaddress",
                "simpleproject>1.1.0,<2.0.0"
            ])
        );
        assert_eq!(
            recover_package_names(&v(&["django>1.11.1,<1.11.3,ipaddress"])),
            v(&["django>1.11.1,<1.11.3", "ipaddress"])
        );
    }

    #[test]
    fn packages_print_as_packaging_does() {
        assert_eq!(
            Package::new("requests", Some("2.31.0")).text(),
            "requests==2.31.0"
        );
        assert_eq!(
            Package::new("requests", Some(">=2, <3")).text(),
            "requests<3,>=2"
        );
        assert_eq!(
            Package::new("requests >= 2.0", None).text(),
            "requests>=2.0"
        );
        assert!(Package::new("six==1.16", None).has_version_specifier());
        let p = Package::new("Six>=1.16", None);
        assert!(p.is_present(&["six==1.17.0"]));
        assert!(!p.is_present(&["six==1.15.0"]));
        assert!(!Package::new("git+https://x", None).is_present(&["x==1"]));
    }

    #[test]
    fn failures_carry_pips_output() {
        let r = pip_fail(&["pip".into()], "", "ERROR: x\n");
        assert_eq!(r["msg"], json!("\n:stderr: ERROR: x\n"));
        let r = pip_fail(&["pip".into()], "Collecting x\n", "ERROR: x\n");
        assert_eq!(
            r["msg"],
            json!("stdout: Collecting x\n\n:stderr: ERROR: x\n")
        );
    }
}
