//! `package`, `apt`, `dnf` (and `yum`, its alias in ansible-core 2.19): packages from the
//! simulated OS's catalogue, with the package manager's results, `changed` logic, check mode
//! and `--diff` (`prepared`, apt's transaction summary). `package` picks the host's
//! manager as its action plugin does (`ansible_pkg_mgr`, or `use:`).

use serde_json::{json, Value};

use fleetsim_sim::os::packages::{self, Installed, Plan, APT_STAMP};
use fleetsim_sim::os::{Distro, Family};

use super::spec::{opt, spec, Kind, ModuleName, Spec};
use super::{arg_bool, arg_str, Args, Module, ModuleCtx, ModuleResult};

/// Which module the task called.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Manager {
    /// `package`: the host's own manager.
    Generic,
    Apt,
    Dnf,
}

pub struct PackageModule(pub Manager);

/// Virtual seconds a package takes to download and unpack.
const SECONDS_PER_PACKAGE: f64 = 2.0;
/// Virtual seconds `apt-get update` / a dnf metadata refresh takes.
const CACHE_UPDATE_SECONDS: f64 = 3.0;

const PACKAGE_SPEC: Spec = spec(
    ModuleName::AsWritten,
    &[
        opt("name", Kind::List).required(),
        opt("state", Kind::Str).required(),
        opt("use", Kind::Str),
    ],
);

const APT_SPEC: Spec = spec(
    ModuleName::AsWritten,
    &[
        opt("name", Kind::List).aliases(&["package", "pkg"]),
        opt("state", Kind::Str).choices(&["absent", "build-dep", "latest", "present", "fixed"]),
        opt("update_cache", Kind::Bool).aliases(&["update-cache"]),
        opt("update_cache_retries", Kind::Int),
        opt("update_cache_retry_max_delay", Kind::Int),
        opt("cache_valid_time", Kind::Int),
        opt("purge", Kind::Bool),
        opt("default_release", Kind::Str).aliases(&["default-release"]),
        opt("install_recommends", Kind::Bool).aliases(&["install-recommends"]),
        opt("force", Kind::Bool),
        opt("clean", Kind::Bool),
        opt("upgrade", Kind::Str)
            .choices(&["dist", "full", "no", "safe", "yes"])
            .refused(),
        opt("dpkg_options", Kind::Str),
        opt("deb", Kind::Path).refused(),
        opt("autoremove", Kind::Bool),
        opt("autoclean", Kind::Bool),
        opt("fail_on_autoremove", Kind::Bool),
        opt("policy_rc_d", Kind::Int),
        opt("only_upgrade", Kind::Bool),
        opt("force_apt_get", Kind::Bool),
        opt("allow_unauthenticated", Kind::Bool).aliases(&["allow-unauthenticated"]),
        opt("allow_downgrade", Kind::Bool).aliases(&[
            "allow-downgrade",
            "allow_downgrades",
            "allow-downgrades",
        ]),
        opt("allow_change_held_packages", Kind::Bool),
        opt("lock_timeout", Kind::Int),
        opt("auto_install_module_deps", Kind::Bool),
    ],
);

const DNF_SPEC: Spec = spec(
    ModuleName::AsWritten,
    &[
        opt("name", Kind::List).aliases(&["pkg"]),
        opt("state", Kind::Str).choices(&["absent", "present", "installed", "removed", "latest"]),
        opt("list", Kind::Str).refused(),
        opt("conf_file", Kind::Str),
        opt("disable_gpg_check", Kind::Bool),
        opt("disablerepo", Kind::List),
        opt("enablerepo", Kind::List),
        opt("update_cache", Kind::Bool).aliases(&["expire-cache"]),
        opt("update_only", Kind::Bool),
        opt("autoremove", Kind::Bool),
        opt("security", Kind::Bool),
        opt("bugfix", Kind::Bool),
        opt("exclude", Kind::List),
        opt("installroot", Kind::Str).refused(),
        opt("releasever", Kind::Str),
        opt("disable_excludes", Kind::Str),
        opt("download_only", Kind::Bool).refused(),
        opt("download_dir", Kind::Str),
        opt("allowerasing", Kind::Bool),
        opt("nobest", Kind::Bool),
        opt("best", Kind::Bool),
        opt("cacheonly", Kind::Bool),
        opt("lock_timeout", Kind::Int),
        opt("install_weak_deps", Kind::Bool),
        opt("install_repoquery", Kind::Bool),
        opt("sslverify", Kind::Bool),
        opt("validate_certs", Kind::Bool),
        opt("disable_plugin", Kind::List),
        opt("enable_plugin", Kind::List),
        opt("skip_broken", Kind::Bool),
        opt("use_backend", Kind::Str),
    ],
);

/// The names a `name:` list asks for (apt's `name=VERSION` pins are refused: the catalogue
/// offers one version per distribution).
fn names(args: &Args) -> Vec<String> {
    match args.get("name") {
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(|v| match v {
                Value::String(s) => Some(s.trim().to_string()),
                Value::Null => None,
                other => Some(other.to_string()),
            })
            .filter(|s| !s.is_empty())
            .collect(),
        _ => Vec::new(),
    }
}

impl Module for PackageModule {
    fn run(&self, ctx: &mut ModuleCtx<'_>, args: &Args) -> ModuleResult {
        let (distro, manager, args) = match ctx.target_os_host() {
            Ok((_, distro)) => (distro, self.0, args.clone()),
            Err(r) => return r,
        };
        let manager = match manager {
            Manager::Generic => {
                let args = match super::validated(ctx, &PACKAGE_SPEC, &args) {
                    Ok(a) => a,
                    Err(r) => return r,
                };
                let chosen = arg_str(&args, "use").unwrap_or_else(|| "auto".into());
                let m = match chosen.as_str() {
                    "auto" => match distro.family() {
                        Family::Debian => Manager::Apt,
                        Family::Redhat => Manager::Dnf,
                    },
                    "apt" => Manager::Apt,
                    "dnf" | "dnf5" | "yum" => Manager::Dnf,
                    other => {
                        return super::fail(&format!(
                            "Could not find a matching action for the \"{other}\" package manager."
                        ))
                    }
                };
                // The action plugin hands the remaining options to the chosen module.
                let mut inner = args.clone();
                inner.remove("use");
                return match m {
                    Manager::Apt => apt(ctx, distro, &inner),
                    _ => dnf(ctx, distro, &inner),
                };
            }
            m => m,
        };
        match manager {
            Manager::Apt => match super::validated(ctx, &APT_SPEC, &args) {
                Ok(a) => apt(ctx, distro, &a),
                Err(r) => r,
            },
            _ => match super::validated(ctx, &DNF_SPEC, &args) {
                Ok(a) => dnf(ctx, distro, &a),
                Err(r) => r,
            },
        }
    }
}

/// `sys.version` as the host's Python prints it (in the "could not import" messages).
fn python_banner(distro: Distro) -> &'static str {
    match distro {
        Distro::Debian12 => "3.11.2 (main, Apr 28 2025, 14:11:48) [GCC 12.2.0]",
        Distro::Ubuntu2404 => "3.12.3 (main, Feb  4 2025, 14:48:35) [GCC 13.3.0]",
        Distro::Rocky9 => {
            "3.9.21 (main, Dec  5 2024, 00:00:00) \n[GCC 11.5.0 20240719 (Red Hat 11.5.0-2)]"
        }
    }
}

/// Seconds since the epoch of the last `apt-get update`: the stamp file's mtime, which the
/// simulation also writes into the file (virtual mtimes do not outlive a run; a sandbox
/// kept with `--sandbox` does).
fn apt_cache_time(ctx: &mut ModuleCtx<'_>) -> i64 {
    let Ok(h) = ctx.target_host() else {
        return 0;
    };
    let written = fleetsim_sim::os::text(&h.fs, APT_STAMP)
        .trim()
        .parse::<f64>()
        .ok();
    written
        .or_else(|| h.fs.stat(APT_STAMP).ok().map(|s| s.mtime))
        .map_or(0, |t| t.floor() as i64)
}

fn apt(ctx: &mut ModuleCtx<'_>, distro: Distro, args: &Args) -> ModuleResult {
    if distro.family() != Family::Debian {
        let interpreters = "['/usr/bin/python3', '/usr/bin/python']";
        return super::fail(&format!(
            "Could not import the python3-apt module using /usr/bin/python3 ({}). Ensure python3-apt package is installed (either manually or via the auto_install_module_deps option) or that you have specified the correct ansible_python_interpreter. (attempted {interpreters}).",
            python_banner(distro).replace('\n', "")
        ));
    }
    let check = ctx.check_mode;
    let diff_on = ctx.diff;
    let state = arg_str(args, "state").unwrap_or_else(|| "present".into());
    if matches!(state.as_str(), "build-dep" | "fixed") {
        return super::fail(&format!("fleetsim does not simulate apt's state={state}"));
    }
    let pkgs = names(args);
    let update = arg_bool(args, "update_cache", false).unwrap_or(false);
    let valid_for = args
        .get("cache_valid_time")
        .and_then(Value::as_i64)
        .unwrap_or(0);
    let autoremove = arg_bool(args, "autoremove", false).unwrap_or(false);
    let purge = arg_bool(args, "purge", false).unwrap_or(false);
    for p in &pkgs {
        if p.contains('=') || p.contains('*') {
            return super::fail(&format!(
                "fleetsim does not simulate version pins or wildcards in package names ('{p}'): its catalogue offers one version of each package"
            ));
        }
    }
    let now = ctx.world.clock.now();
    let mut cache_time = apt_cache_time(ctx);
    let mut cache_updated = false;
    if update || valid_for > 0 {
        if (cache_time as f64) + (valid_for as f64) < now {
            if !check {
                ctx.world.clock.advance(CACHE_UPDATE_SECONDS);
                let t = ctx.world.clock.now();
                if let Ok(h) = ctx.target_host() {
                    let _ = fleetsim_sim::os::put(&mut h.fs, APT_STAMP, &format!("{t}\n"));
                    let _ = h.fs.set_mtime(APT_STAMP, t);
                }
                cache_time = t.floor() as i64;
            }
            cache_updated = true;
        }
        if pkgs.is_empty() && !autoremove {
            let mut r = super::ok(cache_updated);
            r.insert("cache_updated".into(), json!(cache_updated));
            r.insert("cache_update_time".into(), json!(cache_time));
            return r;
        }
    }
    let host = match ctx.target_host() {
        Ok(h) => h,
        Err(r) => return r,
    };
    let mut r = match state.as_str() {
        "absent" => {
            let gone = packages::plan_remove(&host.fs, distro, &pkgs);
            let gone_names: Vec<String> = gone.iter().map(|i| i.name.clone()).collect();
            let mut all = gone.clone();
            if autoremove {
                all.extend(packages::orphans(&host.fs, distro, &gone_names));
            }
            if all.is_empty() {
                return super::ok(false);
            }
            let out = apt_remove_output(&all, purge, check);
            if !check {
                if let Err(e) = packages::apply_remove(&mut host.fs, distro, &all, purge) {
                    return super::fail(&e);
                }
            }
            let mut r = super::ok(true);
            r.insert("stdout".into(), json!(out));
            r.insert("stderr".into(), json!(""));
            r.insert("diff".into(), apt_diff(&out, diff_on));
            ctx.world
                .clock
                .advance(SECONDS_PER_PACKAGE * all.len() as f64);
            return r;
        }
        _ => {
            let plan = match packages::plan_install(&host.fs, distro, &pkgs, state == "latest") {
                Ok(p) => p,
                Err(missing) => {
                    return super::fail(&format!(
                        "No package matching '{}' is available",
                        missing[0]
                    ))
                }
            };
            let orphans = if autoremove {
                packages::orphans(&host.fs, distro, &[])
            } else {
                Vec::new()
            };
            if plan.is_empty() && orphans.is_empty() {
                if !check && !plan.mark_manual.is_empty() {
                    let _ = packages::apply_install(&mut host.fs, distro, &plan);
                }
                super::ok(false)
            } else {
                let out = apt_install_output(distro, &plan, &orphans, check);
                if !check {
                    if let Err(e) = packages::apply_install(&mut host.fs, distro, &plan) {
                        return super::fail(&e);
                    }
                    if !orphans.is_empty() {
                        if let Err(e) =
                            packages::apply_remove(&mut host.fs, distro, &orphans, false)
                        {
                            return super::fail(&e);
                        }
                    }
                }
                let n = plan.install.len() + plan.upgrade.len();
                let mut r = super::ok(true);
                r.insert("stdout".into(), json!(out));
                r.insert("stderr".into(), json!(""));
                r.insert("diff".into(), apt_diff(&out, diff_on));
                ctx.world.clock.advance(SECONDS_PER_PACKAGE * n as f64);
                r
            }
        }
    };
    r.insert("cache_updated".into(), json!(cache_updated));
    r.insert("cache_update_time".into(), json!(cache_time));
    r
}

/// apt's `parse_diff`: the lines from after "Reading state information..." to the
/// "N upgraded, ..." line, as `prepared` (only with `--diff`).
fn apt_diff(out: &str, diff_on: bool) -> Value {
    if !diff_on {
        return json!({});
    }
    let lines: Vec<&str> = out.lines().collect();
    let start = lines
        .iter()
        .position(|l| *l == "Reading state information...")
        .map_or(0, |i| i + 1);
    let end = lines
        .iter()
        .position(|l| l.split_whitespace().nth(1) == Some("upgraded,"))
        .map_or(lines.len(), |i| i + 1);
    json!({"prepared": lines[start.min(end)..end].join("\n")})
}

fn wrap_names(names: &[&str]) -> String {
    format!("  {}\n", names.join(" "))
}

/// What `apt-get -y install` prints for a plan (`--simulate` in check mode: `Inst`/`Conf`).
fn apt_install_output(distro: Distro, plan: &Plan, orphans: &[Installed], check: bool) -> String {
    let release = match distro {
        Distro::Ubuntu2404 => "Ubuntu:24.04/noble",
        _ => "Debian:12.11/stable",
    };
    let mut s = String::from(
        "Reading package lists...\nBuilding dependency tree...\nReading state information...\n",
    );
    let extra: Vec<&str> = plan
        .install
        .iter()
        .filter(|(_, dep)| *dep)
        .map(|(p, _)| p.name.as_str())
        .collect();
    if !extra.is_empty() {
        s.push_str("The following additional packages will be installed:\n");
        s.push_str(&wrap_names(&extra));
    }
    if !orphans.is_empty() {
        s.push_str("The following packages will be REMOVED:\n");
        s.push_str(&wrap_names(
            &orphans.iter().map(|i| i.name.as_str()).collect::<Vec<_>>(),
        ));
    }
    let mut new: Vec<&str> = plan.install.iter().map(|(p, _)| p.name.as_str()).collect();
    new.sort_unstable();
    if !new.is_empty() {
        s.push_str("The following NEW packages will be installed:\n");
        s.push_str(&wrap_names(&new));
    }
    let upgraded: Vec<&str> = plan.upgrade.iter().map(|(p, _)| p.name.as_str()).collect();
    if !upgraded.is_empty() {
        s.push_str("The following packages will be upgraded:\n");
        s.push_str(&wrap_names(&upgraded));
    }
    s.push_str(&format!(
        "{} upgraded, {} newly installed, {} to remove and 0 not upgraded.\n",
        upgraded.len(),
        new.len(),
        orphans.len()
    ));
    let version = |p: &fleetsim_sim::os::catalogue::Package| {
        p.version_for(distro).unwrap_or_default().to_string()
    };
    // dpkg unpacks dependencies first.
    let order: Vec<&fleetsim_sim::os::catalogue::Package> = plan
        .install
        .iter()
        .rev()
        .map(|(p, _)| p)
        .chain(plan.upgrade.iter().map(|(p, _)| p))
        .collect();
    if check {
        for i in orphans {
            s.push_str(&format!("Remv {} [{}]\n", i.name, i.version));
        }
        for p in &order {
            s.push_str(&format!(
                "Inst {} ({} {release} [amd64])\n",
                p.name,
                version(p)
            ));
        }
        for p in &order {
            s.push_str(&format!(
                "Conf {} ({} {release} [amd64])\n",
                p.name,
                version(p)
            ));
        }
        return s;
    }
    for p in &order {
        s.push_str(&format!(
            "Selecting previously unselected package {}.\nPreparing to unpack .../{}_{}_amd64.deb ...\nUnpacking {} ({}) ...\n",
            p.name, p.name, version(p).rsplit(':').next().unwrap_or_default(), p.name, version(p)
        ));
    }
    for i in orphans {
        s.push_str(&format!("Removing {} ({}) ...\n", i.name, i.version));
    }
    for p in &order {
        s.push_str(&format!("Setting up {} ({}) ...\n", p.name, version(p)));
    }
    s
}

/// What `apt-get -y remove` prints.
fn apt_remove_output(gone: &[Installed], purge: bool, check: bool) -> String {
    let mut s = String::from(
        "Reading package lists...\nBuilding dependency tree...\nReading state information...\n",
    );
    s.push_str("The following packages will be REMOVED:\n");
    let names: Vec<String> = gone
        .iter()
        .map(|i| {
            if purge {
                format!("{}*", i.name)
            } else {
                i.name.clone()
            }
        })
        .collect();
    s.push_str(&format!("  {}\n", names.join(" ")));
    s.push_str(&format!(
        "0 upgraded, 0 newly installed, {} to remove and 0 not upgraded.\n",
        gone.len()
    ));
    for i in gone {
        if check {
            s.push_str(&format!("Remv {} [{}]\n", i.name, i.version));
        } else {
            s.push_str(&format!("Removing {} ({}) ...\n", i.name, i.version));
            if purge {
                s.push_str(&format!(
                    "Purging configuration files for {} ({}) ...\n",
                    i.name, i.version
                ));
            }
        }
    }
    s
}

/// dnf's name for a package in its results: NAME-[EPOCH:]VERSION-RELEASE.ARCH.
fn nevra(name: &str, version: &str) -> String {
    format!("{name}-{version}.x86_64")
}

fn dnf(ctx: &mut ModuleCtx<'_>, distro: Distro, args: &Args) -> ModuleResult {
    if distro.family() != Family::Redhat {
        let mut r = super::fail(&format!(
            "Could not import the dnf python module using /usr/bin/python3 ({}). Please install `python3-dnf` package or ensure you have specified the correct ansible_python_interpreter. (attempted ['/usr/libexec/platform-python', '/usr/bin/python3', '/usr/bin/python'])",
            python_banner(distro)
        ));
        r.insert("results".into(), json!([]));
        return r;
    }
    let check = ctx.check_mode;
    let pkgs = names(args);
    let autoremove = arg_bool(args, "autoremove", false).unwrap_or(false);
    let state = arg_str(args, "state")
        .unwrap_or_else(|| if autoremove { "absent" } else { "present" }.into());
    if pkgs.is_empty() && !autoremove && !arg_bool(args, "update_cache", false).unwrap_or(false) {
        let mut r = super::fail("missing required arguments: name");
        r.insert("results".into(), json!([]));
        r.insert("rc".into(), json!(1));
        return r;
    }
    for p in &pkgs {
        if p.starts_with('@') || p.contains('*') || p.ends_with(".rpm") || p.contains("://") {
            return super::fail(&format!(
                "fleetsim does not simulate groups, wildcards or rpm files in package names ('{p}')"
            ));
        }
    }
    if arg_bool(args, "update_cache", false).unwrap_or(false) {
        ctx.world.clock.advance(CACHE_UPDATE_SECONDS);
    }
    let host = match ctx.target_host() {
        Ok(h) => h,
        Err(r) => return r,
    };
    let response = |changed: bool, msg: &str, results: Vec<String>| {
        let mut r = super::ok(changed);
        r.insert("msg".into(), json!(msg));
        r.insert("results".into(), json!(results));
        r.insert("rc".into(), json!(0));
        r
    };
    let (changed_results, seconds) = match state.as_str() {
        "absent" | "removed" => {
            let mut gone = packages::plan_remove(&host.fs, distro, &pkgs);
            let cat = fleetsim_sim::os::catalogue::Catalogue::builtin();
            // `vim` matches the vim-enhanced it provides.
            let matched = |n: &String| {
                let real = cat
                    .resolve(distro, n)
                    .map_or(n.as_str(), |p| p.name.as_str());
                gone.iter().any(|i| i.name == real)
            };
            let mut results: Vec<String> = pkgs
                .iter()
                .filter(|n| !matched(n))
                .map(|n| format!("No match for argument: {n}"))
                .collect();
            if autoremove {
                let names: Vec<String> = gone.iter().map(|i| i.name.clone()).collect();
                gone.extend(packages::orphans(&host.fs, distro, &names));
            }
            if gone.is_empty() {
                return response(false, "Nothing to do", results);
            }
            results.extend(
                gone.iter()
                    .map(|i| format!("Removed: {}", nevra(&i.name, &i.version))),
            );
            if !check {
                if let Err(e) = packages::apply_remove(&mut host.fs, distro, &gone, false) {
                    return super::fail(&e);
                }
            }
            (results, gone.len())
        }
        _ => {
            let plan = match packages::plan_install(&host.fs, distro, &pkgs, state == "latest") {
                Ok(p) => p,
                Err(missing) => {
                    let mut r = super::fail("Failed to install some of the specified packages");
                    r.insert(
                        "failures".into(),
                        json!(missing
                            .iter()
                            .map(|m| format!("No package {m} available."))
                            .collect::<Vec<_>>()),
                    );
                    r.insert("results".into(), json!([]));
                    r.insert("rc".into(), json!(1));
                    return r;
                }
            };
            if plan.is_empty() {
                if !check && !plan.mark_manual.is_empty() {
                    let _ = packages::apply_install(&mut host.fs, distro, &plan);
                }
                return response(false, "Nothing to do", Vec::new());
            }
            let results: Vec<String> = plan
                .install
                .iter()
                .map(|(p, _)| p)
                .chain(plan.upgrade.iter().map(|(p, _)| p))
                .map(|p| {
                    format!(
                        "Installed: {}",
                        nevra(&p.name, p.version_for(distro).unwrap_or_default())
                    )
                })
                .chain(
                    plan.upgrade
                        .iter()
                        .map(|(p, old)| format!("Removed: {}", nevra(&p.name, old))),
                )
                .collect();
            if !check {
                if let Err(e) = packages::apply_install(&mut host.fs, distro, &plan) {
                    return super::fail(&e);
                }
            }
            (results, plan.install.len() + plan.upgrade.len())
        }
    };
    if check {
        return response(
            true,
            "Check mode: No changes made, but would have if not in check mode",
            changed_results,
        );
    }
    ctx.world
        .clock
        .advance(SECONDS_PER_PACKAGE * seconds as f64);
    response(true, "", changed_results)
}
