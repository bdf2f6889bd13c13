//! The package database of the simulated OS and what installing or removing a package does
//! to the host: the files, programs, accounts and units of its catalogue entry.

use super::accounts::{self, Group, User};
use super::catalogue::{Catalogue, Package};
use super::{fs_err, put, text, units, Distro, Family};
use crate::fs::Sandbox;

pub const DPKG_STATUS: &str = "/var/lib/dpkg/status";
pub const APT_EXTENDED: &str = "/var/lib/apt/extended_states";
pub const RPMDB: &str = "/var/lib/rpm/fleetsim-rpmdb";
/// Its mtime is the time of the last `apt-get update` (as the apt module reads it).
pub const APT_STAMP: &str = "/var/lib/apt/periodic/update-success-stamp";

/// One installed package.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Installed {
    pub name: String,
    pub version: String,
    pub arch: String,
    /// Installed only as another package's dependency (what autoremove may remove).
    pub auto: bool,
    pub summary: String,
}

fn arch(distro: Distro) -> &'static str {
    match distro.family() {
        Family::Debian => "amd64",
        Family::Redhat => "x86_64",
    }
}

/// The installed packages, in database order.
pub fn installed(fs: &Sandbox, distro: Distro) -> Vec<Installed> {
    match distro.family() {
        Family::Debian => {
            let auto: Vec<String> = text(fs, APT_EXTENDED)
                .split("\n\n")
                .filter(|s| s.contains("Auto-Installed: 1"))
                .filter_map(|s| field(s, "Package"))
                .collect();
            text(fs, DPKG_STATUS)
                .split("\n\n")
                .filter(|s| s.contains("Status: install ok installed"))
                .filter_map(|s| {
                    let name = field(s, "Package")?;
                    Some(Installed {
                        auto: auto.contains(&name),
                        version: field(s, "Version").unwrap_or_default(),
                        arch: field(s, "Architecture").unwrap_or_default(),
                        summary: field(s, "Description").unwrap_or_default(),
                        name,
                    })
                })
                .collect()
        }
        Family::Redhat => text(fs, RPMDB)
            .lines()
            .filter_map(|l| {
                let f: Vec<&str> = l.splitn(5, ' ').collect();
                (f.len() >= 4).then(|| Installed {
                    name: f[0].into(),
                    version: f[1].into(),
                    arch: f[2].into(),
                    auto: f[3] == "dep",
                    summary: f.get(4).unwrap_or(&"").to_string(),
                })
            })
            .collect(),
    }
}

fn field(stanza: &str, key: &str) -> Option<String> {
    stanza.lines().find_map(|l| {
        l.strip_prefix(key)
            .and_then(|r| r.strip_prefix(": "))
            .map(str::to_string)
    })
}

fn save(fs: &mut Sandbox, distro: Distro, all: &[Installed]) -> Result<(), String> {
    match distro.family() {
        Family::Debian => {
            let cat = Catalogue::builtin();
            let status: Vec<String> = all
                .iter()
                .map(|p| {
                    let deps = cat
                        .get(distro, &p.name)
                        .map(|c| c.depends.join(", "))
                        .unwrap_or_default();
                    let mut s = format!(
                        "Package: {}\nStatus: install ok installed\nPriority: optional\nArchitecture: {}\nVersion: {}\n",
                        p.name, p.arch, p.version
                    );
                    if !deps.is_empty() {
                        s.push_str(&format!("Depends: {deps}\n"));
                    }
                    s.push_str(&format!("Description: {}\n", p.summary));
                    s
                })
                .collect();
            put(fs, DPKG_STATUS, &status.join("\n"))?;
            let ext: Vec<String> = all
                .iter()
                .filter(|p| p.auto)
                .map(|p| {
                    format!(
                        "Package: {}\nArchitecture: {}\nAuto-Installed: 1\n",
                        p.name, p.arch
                    )
                })
                .collect();
            put(fs, APT_EXTENDED, &ext.join("\n"))
        }
        Family::Redhat => {
            let s: String = all
                .iter()
                .map(|p| {
                    format!(
                        "{} {} {} {} {}\n",
                        p.name,
                        p.version,
                        p.arch,
                        if p.auto { "dep" } else { "user" },
                        p.summary
                    )
                })
                .collect();
            put(fs, RPMDB, &s)
        }
    }
}

/// What an install would do: the packages to add (requested ones first, then their
/// dependencies) and the installed ones to upgrade.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Plan {
    /// (package, installed as a dependency)
    pub install: Vec<(Package, bool)>,
    /// (package, old version)
    pub upgrade: Vec<(Package, String)>,
    /// Installed as a dependency before, asked for by name now (apt marks it manual).
    pub mark_manual: Vec<String>,
}

impl Plan {
    pub fn is_empty(&self) -> bool {
        self.install.is_empty() && self.upgrade.is_empty()
    }
}

/// Plans installing `names` (`latest` also upgrades installed ones the catalogue has newer).
/// Err carries the names the catalogue does not have for this distribution.
pub fn plan_install(
    fs: &Sandbox,
    distro: Distro,
    names: &[String],
    latest: bool,
) -> Result<Plan, Vec<String>> {
    let cat = Catalogue::builtin();
    let missing: Vec<String> = names
        .iter()
        .filter(|n| cat.resolve(distro, n).is_none())
        .cloned()
        .collect();
    if !missing.is_empty() {
        return Err(missing);
    }
    // A name another package provides stands for that package.
    let names: Vec<String> = names
        .iter()
        .filter_map(|n| cat.resolve(distro, n).map(|p| p.name.clone()))
        .collect();
    let have = installed(fs, distro);
    let mut plan = Plan::default();
    let mut queue: Vec<(String, bool)> = names.iter().map(|n| (n.clone(), false)).collect();
    let mut seen: Vec<String> = Vec::new();
    while let Some((name, dep)) = (!queue.is_empty()).then(|| queue.remove(0)) {
        if seen.contains(&name) {
            continue;
        }
        seen.push(name.clone());
        let Some(p) = cat.get(distro, &name) else {
            continue;
        };
        match have.iter().find(|i| i.name == name) {
            Some(i) => {
                let offered = p.version_for(distro).unwrap_or_default();
                if latest && !dep && i.version != offered {
                    plan.upgrade.push((p.clone(), i.version.clone()));
                }
                if !dep && i.auto {
                    plan.mark_manual.push(name.clone());
                }
            }
            None => {
                plan.install.push((p.clone(), dep));
                queue.extend(p.depends.iter().map(|d| (d.clone(), true)));
            }
        }
    }
    Ok(plan)
}

/// Carries out a plan at virtual time `now`.
pub fn apply_install(fs: &mut Sandbox, distro: Distro, plan: &Plan) -> Result<(), String> {
    let mut all = installed(fs, distro);
    for (p, dep) in &plan.install {
        unpack(fs, distro, p)?;
        all.push(Installed {
            name: p.name.clone(),
            version: p.version_for(distro).unwrap_or_default().to_string(),
            arch: arch(distro).into(),
            auto: *dep,
            summary: p.summary.clone(),
        });
    }
    for (p, _) in &plan.upgrade {
        if let Some(i) = all.iter_mut().find(|i| i.name == p.name) {
            i.version = p.version_for(distro).unwrap_or_default().to_string();
        }
    }
    for n in &plan.mark_manual {
        if let Some(i) = all.iter_mut().find(|i| &i.name == n) {
            i.auto = false;
        }
    }
    save(fs, distro, &all)?;
    // Services start once every package of the transaction is unpacked (postinst).
    if distro.starts_services_on_install() {
        for (p, _) in &plan.install {
            for s in &p.services {
                units::set_enabled(fs, &s.name, true)?;
                units::set_active(fs, &s.name, units::Active::Active)?;
            }
        }
    }
    Ok(())
}

/// Lays a package's folders, files, programs, accounts and unit files into the sandbox.
/// Existing configuration files are kept (dpkg and rpm keep an administrator's edits).
fn unpack(fs: &mut Sandbox, distro: Distro, p: &Package) -> Result<(), String> {
    for u in &p.users {
        if accounts::user(fs, &u.name).is_none() {
            let gid = match accounts::group(fs, &u.name) {
                Some(g) => g.gid,
                None => {
                    let gid = accounts::next_gid(fs, true);
                    accounts::save_group(
                        fs,
                        Group {
                            name: u.name.clone(),
                            gid,
                            members: vec![],
                        },
                    )?;
                    gid
                }
            };
            let uid = accounts::next_uid(fs, true);
            accounts::save_user(
                fs,
                User {
                    name: u.name.clone(),
                    uid,
                    gid,
                    gecos: String::new(),
                    home: u.home.clone(),
                    shell: u.shell.clone(),
                },
                fs.now(),
            )?;
            if u.home != "/nonexistent" && !fs.exists(&u.home) {
                fs.mkdir(&u.home, true).map_err(fs_err)?;
                let _ = fs.chown(&u.home, Some(&u.name), Some(&u.name));
            }
        }
    }
    for d in &p.dirs {
        if !fs.is_dir(d) {
            fs.mkdir(d, true).map_err(fs_err)?;
        }
    }
    for (path, body) in &p.files {
        if !fs.exists(path) {
            put(fs, path, body.strip_prefix('\n').unwrap_or(body))?;
            let _ = fs.chmod(path, 0o644);
        }
    }
    for b in &p.bins {
        put(
            fs,
            b,
            &format!(
                "#!/bin/sh\n# {} {} (a program simulated by fleetsim)\nexit 0\n",
                p.name,
                p.version_for(distro).unwrap_or_default()
            ),
        )?;
        fs.chmod(b, 0o755).map_err(fs_err)?;
    }
    for s in &p.services {
        let path = format!("{}/{}.service", units::LIB_DIR, s.name);
        put(fs, &path, &units::unit_text(&s.description, &s.exec))?;
    }
    Ok(())
}

/// The installed packages among `names`, to remove.
pub fn plan_remove(fs: &Sandbox, distro: Distro, names: &[String]) -> Vec<Installed> {
    let cat = Catalogue::builtin();
    let provided = |i: &Installed| {
        cat.get(distro, &i.name)
            .is_some_and(|p| p.provides.iter().any(|q| names.contains(q)))
    };
    installed(fs, distro)
        .into_iter()
        .filter(|i| names.contains(&i.name) || provided(i))
        .collect()
}

/// Automatic packages no manual package needs any more.
pub fn orphans(fs: &Sandbox, distro: Distro, removing: &[String]) -> Vec<Installed> {
    let cat = Catalogue::builtin();
    let all = installed(fs, distro);
    let keep: Vec<&Installed> = all.iter().filter(|i| !removing.contains(&i.name)).collect();
    // Everything reachable from a manual package stays.
    let mut needed: Vec<String> = keep
        .iter()
        .filter(|i| !i.auto)
        .map(|i| i.name.clone())
        .collect();
    let mut k = 0;
    while k < needed.len() {
        if let Some(p) = cat.get(distro, &needed[k]) {
            for d in &p.depends {
                if !needed.contains(d) {
                    needed.push(d.clone());
                }
            }
        }
        k += 1;
    }
    keep.into_iter()
        .filter(|i| i.auto && !needed.contains(&i.name))
        .cloned()
        .collect()
}

/// Removes packages: their programs and unit files, their non-configuration files, and
/// (with `purge`, and always on Red Hat, where rpm removes unmodified configuration) their
/// configuration. Their units stop.
pub fn apply_remove(
    fs: &mut Sandbox,
    distro: Distro,
    gone: &[Installed],
    purge: bool,
) -> Result<(), String> {
    let cat = Catalogue::builtin();
    let names: Vec<&str> = gone.iter().map(|i| i.name.as_str()).collect();
    for i in gone {
        let Some(p) = cat.get(distro, &i.name) else {
            continue;
        };
        for s in &p.services {
            units::set_active(fs, &s.name, units::Active::Inactive)?;
            units::set_enabled(fs, &s.name, false)?;
            let _ = fs.remove_file(&format!("{}/{}.service", units::LIB_DIR, s.name));
        }
        for b in &p.bins {
            let _ = fs.remove_file(b);
        }
        for (path, body) in &p.files {
            let is_conf = path.starts_with("/etc/");
            if !is_conf || purge {
                let _ = fs.remove_file(path);
            } else if distro.family() == Family::Redhat {
                let pristine = body.strip_prefix('\n').unwrap_or(body);
                if text(fs, path) == pristine {
                    let _ = fs.remove_file(path);
                } else {
                    let _ = fs.rename(path, &format!("{path}.rpmsave"));
                }
            }
        }
    }
    let mut all = installed(fs, distro);
    all.retain(|i| !names.contains(&i.name.as_str()));
    save(fs, distro, &all)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::os::tests::host;

    #[test]
    fn installing_nginx_brings_its_dependency_config_and_running_unit_on_debian() {
        let (_t, mut fs) = host(Distro::Debian12);
        let plan = plan_install(&fs, Distro::Debian12, &["nginx".into()], false).unwrap();
        let names: Vec<&str> = plan.install.iter().map(|(p, _)| p.name.as_str()).collect();
        assert_eq!(names, ["nginx", "nginx-common"]);
        apply_install(&mut fs, Distro::Debian12, &plan).unwrap();
        assert!(text(&fs, "/etc/nginx/nginx.conf").starts_with("user www-data;"));
        assert_eq!(units::active(&fs, "nginx"), units::Active::Active);
        assert!(
            plan_install(&fs, Distro::Debian12, &["nginx".into()], false)
                .unwrap()
                .is_empty()
        );
        let all = installed(&fs, Distro::Debian12);
        assert!(all.iter().any(|i| i.name == "nginx-common" && i.auto));
        let gone = plan_remove(&fs, Distro::Debian12, &["nginx".into()]);
        assert_eq!(
            orphans(&fs, Distro::Debian12, &["nginx".into()])[0].name,
            "nginx-common"
        );
        apply_remove(&mut fs, Distro::Debian12, &gone, false).unwrap();
        assert!(!fs.exists("/usr/sbin/nginx"));
        assert!(
            fs.exists("/etc/nginx/nginx.conf"),
            "dpkg keeps conffiles without purge"
        );
    }

    #[test]
    fn rocky_installs_leave_services_stopped_and_create_accounts() {
        let (_t, mut fs) = host(Distro::Rocky9);
        let plan = plan_install(&fs, Distro::Rocky9, &["nginx".into()], false).unwrap();
        apply_install(&mut fs, Distro::Rocky9, &plan).unwrap();
        assert_eq!(units::active(&fs, "nginx"), units::Active::Inactive);
        assert!(!units::is_enabled(&fs, "nginx"));
        assert!(accounts::user(&fs, "nginx").is_some());
        assert!(text(&fs, RPMDB).contains("nginx 1:1.20.1-20.el9.0.1 x86_64 user"));
    }

    #[test]
    fn a_provided_name_installs_and_removes_its_provider() {
        let (_t, mut fs) = host(Distro::Rocky9);
        let plan = plan_install(&fs, Distro::Rocky9, &["vim".into()], false).unwrap();
        let names: Vec<&str> = plan.install.iter().map(|(p, _)| p.name.as_str()).collect();
        assert_eq!(names, ["vim-enhanced"]);
        apply_install(&mut fs, Distro::Rocky9, &plan).unwrap();
        assert!(plan_install(&fs, Distro::Rocky9, &["vim".into()], false)
            .unwrap()
            .is_empty());
        let gone = plan_remove(&fs, Distro::Rocky9, &["vim".into()]);
        assert_eq!(gone[0].name, "vim-enhanced");
        // Debian has a package called vim and nothing provides vim-enhanced there.
        assert!(plan_install(&fs, Distro::Debian12, &["vim-enhanced".into()], false).is_err());
    }

    #[test]
    fn unknown_names_are_reported() {
        let (_t, fs) = host(Distro::Rocky9);
        let e = plan_install(
            &fs,
            Distro::Rocky9,
            &["apache2".into(), "git".into()],
            false,
        )
        .unwrap_err();
        assert_eq!(e, ["apache2"]);
    }
}
