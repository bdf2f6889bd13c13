//! The shell counterparts of the OS modules, for the in-process shell: `apt-get`/`apt`,
//! `dnf`/`yum`, `dpkg -l|-s`, `rpm -q|-qa`, `useradd`, `groupadd`, `id USER`, `getent`,
//! `crontab -l`, `debconf-show`/`debconf-get-selections`/`debconf-set-selections`, `pip`/`pip3` (the system's, or a virtualenv's by its path), and `systemctl` for units of the OS (units of the fleet's services go on to
//! the fleet's own `systemctl`). They read and write the same files the modules do.

use super::{accounts, packages, units, Distro, Family};
use crate::shell::{ExternalCommands, HostView, ShellOutput};

/// The OS commands, in front of another hook (the fleet's `curl`/`systemctl`).
pub struct OsCommands {
    distro: Distro,
    inner: Option<Box<dyn ExternalCommands + Send>>,
}

impl OsCommands {
    pub fn new(distro: Distro, inner: Option<Box<dyn ExternalCommands + Send>>) -> Self {
        OsCommands { distro, inner }
    }
}

fn out(rc: i32, stdout: impl Into<String>) -> ShellOutput {
    ShellOutput::new(rc, stdout.into().into_bytes(), Vec::new())
}

fn err(rc: i32, stderr: impl Into<String>) -> ShellOutput {
    ShellOutput::new(rc, Vec::new(), stderr.into().into_bytes())
}

fn base(arg0: &str) -> &str {
    arg0.rsplit('/').next().unwrap_or(arg0)
}

impl ExternalCommands for OsCommands {
    fn provides(&self, name: &str) -> bool {
        let fam = self.distro.family();
        let mine = match name {
            "apt-get" | "apt" | "dpkg" => fam == Family::Debian,
            "debconf-show" | "debconf-get-selections" | "debconf-set-selections" => {
                fam == Family::Debian
            }
            "dnf" | "yum" | "rpm" => fam == Family::Redhat,
            "useradd" | "groupadd" | "getent" | "crontab" | "systemctl" => true,
            // pip and iptables are files their packages install, which `which` finds.
            _ => false,
        };
        mine || self.inner.as_ref().is_some_and(|i| i.provides(name))
    }

    fn call(
        &mut self,
        argv: &[String],
        stdin: &[u8],
        host: &mut HostView<'_>,
    ) -> Option<ShellOutput> {
        let name = base(argv.first()?);
        let args: Vec<&str> = argv[1..].iter().map(String::as_str).collect();
        let fam = self.distro.family();
        let mine = match name {
            "apt-get" | "apt" | "dpkg" => fam == Family::Debian,
            "debconf-show" | "debconf-get-selections" | "debconf-set-selections" => {
                fam == Family::Debian
            }
            "dnf" | "yum" | "rpm" => fam == Family::Redhat,
            "useradd" | "groupadd" | "getent" | "crontab" => true,
            "id" => !args.is_empty() && !args[0].starts_with('-'),
            // Only once installed (else the shell reports them not found): the system's pip
            // with python3-pip, a venv's by its path; iptables with its package.
            "pip" | "pip3" => {
                venv_root(host.sandbox, &argv[0]).is_some()
                    || super::pip::system_pip_installed(host.sandbox, self.distro)
            }
            "iptables" | "ip6tables" | "iptables-save" | "ip6tables-save" => {
                host.sandbox.is_file("/usr/sbin/iptables")
            }
            "systemctl" => {
                // The OS answers for its own units (those of a fresh host's base packages
                // too, before its state is laid out); the fleet's go on to the fleet.
                // Nothing is laid out to ask, so hosts that only run fleet commands keep
                // their sandbox as it was.
                let unit = args.iter().rev().find(|a| !a.starts_with('-'));
                unit.is_some_and(|u| {
                    units::exists(host.sandbox, u)
                        || (!host.sandbox.exists("/etc/os-release")
                            && super::catalogue::Catalogue::builtin()
                                .base(self.distro)
                                .any(|p| p.services.iter().any(|s| s.name == units::base_name(u))))
                })
            }
            _ => false,
        };
        if !mine {
            return self.inner.as_mut()?.call(argv, stdin, host);
        }
        if let Err(e) = super::ensure(host.sandbox, self.distro, host.hostname) {
            return Some(err(1, format!("{name}: {e}\n")));
        }
        Some(match name {
            "apt-get" | "apt" | "dnf" | "yum" => self.pkg_tool(name, &args, host),
            "dpkg" => dpkg(self.distro, &args, host),
            "rpm" => rpm(self.distro, &args, host),
            "useradd" => useradd(self.distro, &args, host),
            "groupadd" => groupadd(&args, host),
            "id" => id(args[0], host),
            "getent" => getent(&args, host),
            "crontab" => crontab(self.distro, &args, host),
            "pip" | "pip3" => pip(self.distro, &argv[0], &argv[1..], host),
            "iptables" | "ip6tables" | "iptables-save" | "ip6tables-save" => {
                iptables(self.distro, name, &argv[1..], host)
            }
            "debconf-show" => match args.as_slice() {
                [] => err(1, "Usage: debconf-show packagename [...] [--db=dbname]\n"),
                pkgs => out(
                    0,
                    pkgs.iter()
                        .map(|p| super::debconf::show(host.sandbox, p))
                        .collect::<String>(),
                ),
            },
            "debconf-get-selections" => out(0, super::debconf::get_selections(host.sandbox)),
            "debconf-set-selections" => {
                let seen = !args.contains(&"-u");
                let input = match args.iter().find(|a| !a.starts_with('-')) {
                    Some(f) => match host.sandbox.read_to_string(f) {
                        Ok(t) => t,
                        Err(e) => return Some(err(1, format!("debconf-set-selections: {e}\n"))),
                    },
                    None => String::from_utf8_lossy(stdin).into_owned(),
                };
                match super::debconf::set_selections(host.sandbox, &input, seen) {
                    Ok(()) => out(0, ""),
                    Err(e) => err(1, e),
                }
            }
            _ => systemctl(&args, host),
        })
    }
}

impl OsCommands {
    fn pkg_tool(&self, tool: &str, args: &[&str], host: &mut HostView<'_>) -> ShellOutput {
        let words: Vec<&str> = args
            .iter()
            .copied()
            .filter(|a| !a.starts_with('-'))
            .collect();
        let Some((verb, names)) = words.split_first() else {
            return err(1, format!("{tool}: missing command\n"));
        };
        let names: Vec<String> = names.iter().map(|s| s.to_string()).collect();
        let d = self.distro;
        match *verb {
            "update" | "makecache" => out(0, "Reading package lists...\n"),
            "install" => match packages::plan_install(host.sandbox, d, &names, false) {
                Err(missing) => match d.family() {
                    Family::Debian => {
                        err(100, format!("E: Unable to locate package {}\n", missing[0]))
                    }
                    Family::Redhat => err(
                        1,
                        format!(
                            "No match for argument: {}\nError: Unable to find a match: {}\n",
                            missing[0],
                            missing.join(" ")
                        ),
                    ),
                },
                Ok(plan) => {
                    let mut text = String::new();
                    for (p, _) in &plan.install {
                        let v = p.version_for(d).unwrap_or_default();
                        text.push_str(&match d.family() {
                            Family::Debian => format!("Setting up {} ({v}) ...\n", p.name),
                            Family::Redhat => {
                                format!("  Installing       : {}-{v}.x86_64\n", p.name)
                            }
                        });
                    }
                    if plan.install.is_empty() {
                        text = match d.family() {
                            Family::Debian => {
                                format!("{} is already the newest version.\n", names.join(", "))
                            }
                            Family::Redhat => {
                                "Dependencies resolved.\nNothing to do.\nComplete!\n".into()
                            }
                        };
                    }
                    match packages::apply_install(host.sandbox, d, &plan) {
                        Ok(()) => out(0, text),
                        Err(e) => err(100, format!("E: {e}\n")),
                    }
                }
            },
            "remove" | "purge" | "erase" => {
                let gone = packages::plan_remove(host.sandbox, d, &names);
                match packages::apply_remove(host.sandbox, d, &gone, *verb == "purge") {
                    Ok(()) => out(
                        0,
                        gone.iter()
                            .map(|i| format!("Removing {} ({}) ...\n", i.name, i.version))
                            .collect::<String>(),
                    ),
                    Err(e) => err(100, format!("E: {e}\n")),
                }
            }
            other => err(
                1,
                format!("{tool}: '{other}' is not simulated by fleetsim\n"),
            ),
        }
    }
}

/// The virtualenv a pip called by its path belongs to (`/opt/venv/bin/pip` -> `/opt/venv`).
fn venv_root(fs: &crate::fs::Sandbox, arg0: &str) -> Option<String> {
    arg0.rsplit_once('/')
        .and_then(|(dir, _)| dir.strip_suffix("/bin"))
        .filter(|root| super::pip::Env::venv_exists(fs, root))
        .map(str::to_string)
}

/// `pip ARGS`: a virtualenv's pip when called by its path (`/opt/venv/bin/pip`), else the
/// system interpreter's, which exists once python3-pip is installed.
fn pip(d: Distro, arg0: &str, args: &[String], host: &mut HostView<'_>) -> ShellOutput {
    use super::pip::{run, Env};
    let env = match venv_root(host.sandbox, arg0) {
        Some(root) => Env::venv(d, &root),
        None => Env::system(d),
    };
    let breaking = host
        .env
        .get("PIP_BREAK_SYSTEM_PACKAGES")
        .is_some_and(|v| v == "1");
    let cwd = host.cwd.to_string();
    let o = run(host.sandbox, d, &env, args, &cwd, breaking);
    ShellOutput::new(o.rc, o.stdout.into_bytes(), o.stderr.into_bytes())
}

/// `iptables`/`ip6tables` once the package that ships them is installed, and
/// `iptables-save` (every table, in the save format).
fn iptables(d: Distro, name: &str, args: &[String], host: &mut HostView<'_>) -> ShellOutput {
    use super::iptables as ipt;
    let v6 = name.starts_with("ip6");
    if name.ends_with("-save") {
        let mut s = String::new();
        for (table, _) in ipt::TABLES {
            let t = ipt::Table::load(host.sandbox, v6, table);
            s.push_str(&format!("*{table}\n"));
            for (c, p) in &t.policies {
                s.push_str(&format!(":{c} {p} [0:0]\n"));
            }
            for c in &t.chains {
                s.push_str(&format!(":{c} - [0:0]\n"));
            }
            for line in t.dump(None).lines().filter(|l| l.starts_with("-A ")) {
                s.push_str(line);
                s.push('\n');
            }
            s.push_str("COMMIT\n");
        }
        return out(0, s);
    }
    let o = ipt::run(host.sandbox, d, v6, args);
    ShellOutput::new(o.rc, o.stdout.into_bytes(), o.stderr.into_bytes())
}

/// `dpkg -l [NAME...]` and `dpkg -s NAME`.
fn dpkg(d: Distro, args: &[&str], host: &mut HostView<'_>) -> ShellOutput {
    let all = packages::installed(host.sandbox, d);
    match args.first().copied() {
        Some("-l") | Some("--list") => {
            let wanted = &args[1..];
            let mut s = String::from("Desired=Unknown/Install/Remove/Purge/Hold\n| Status=Not/Inst/Conf-files/Unpacked/halF-conf/Half-inst/trig-aWait/Trig-pend\n|/ Err?=(none)/Reinst-required (Status,Err: uppercase=bad)\n||/ Name           Version      Architecture Description\n+++-==============-============-============-=================================\n");
            let mut rc = 0;
            for w in wanted {
                if !all.iter().any(|i| i.name == *w) {
                    rc = 1;
                }
            }
            for i in all.iter().filter(|i| wanted.is_empty() || wanted.contains(&i.name.as_str())) {
                s.push_str(&format!("ii  {:<14} {:<12} {:<12} {}\n", i.name, i.version, i.arch, i.summary));
            }
            let e: String = wanted
                .iter()
                .filter(|w| !all.iter().any(|i| i.name == **w))
                .map(|w| format!("dpkg-query: no packages found matching {w}\n"))
                .collect();
            ShellOutput::new(rc, s.into_bytes(), e.into_bytes())
        }
        Some("-s") | Some("--status") => match args.get(1).and_then(|n| all.iter().find(|i| i.name == *n)) {
            Some(i) => out(0, format!("Package: {}\nStatus: install ok installed\nArchitecture: {}\nVersion: {}\nDescription: {}\n", i.name, i.arch, i.version, i.summary)),
            None => err(1, format!("dpkg-query: package '{}' is not installed and no information is available\n", args.get(1).unwrap_or(&""))),
        },
        _ => err(2, "dpkg: fleetsim simulates dpkg -l and dpkg -s\n"),
    }
}

/// `rpm -q NAME...` and `rpm -qa`.
fn rpm(d: Distro, args: &[&str], host: &mut HostView<'_>) -> ShellOutput {
    let all = packages::installed(host.sandbox, d);
    let line = |i: &packages::Installed| {
        let v = i
            .version
            .split_once(':')
            .map_or(i.version.as_str(), |(_, v)| v);
        format!("{}-{v}.{}\n", i.name, i.arch)
    };
    match args.first().copied() {
        Some("-qa") => out(0, all.iter().map(line).collect::<String>()),
        Some("-q") => {
            let (mut s, mut rc) = (String::new(), 0);
            for n in &args[1..] {
                match all.iter().find(|i| i.name == *n) {
                    Some(i) => s.push_str(&line(i)),
                    None => {
                        s.push_str(&format!("package {n} is not installed\n"));
                        rc = 1;
                    }
                }
            }
            out(rc, s)
        }
        _ => err(1, "rpm: fleetsim simulates rpm -q and rpm -qa\n"),
    }
}

/// `useradd [-m] [-r] [-s SHELL] [-d HOME] [-g GROUP] [-G G1,G2] [-c COMMENT] [-u UID] NAME`.
fn useradd(d: Distro, args: &[&str], host: &mut HostView<'_>) -> ShellOutput {
    let (mut shell, mut home, mut group, mut groups, mut comment, mut uid) =
        (None, None, None, Vec::new(), String::new(), None);
    let (mut make_home, mut system, mut name) = (false, false, None);
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match *a {
            "-m" | "--create-home" => make_home = true,
            "-r" | "--system" => system = true,
            "-s" | "--shell" => shell = it.next().map(|s| s.to_string()),
            "-d" | "--home-dir" => home = it.next().map(|s| s.to_string()),
            "-g" | "--gid" => group = it.next().map(|s| s.to_string()),
            "-G" | "--groups" => {
                groups = it
                    .next()
                    .map(|s| s.split(',').map(str::to_string).collect())
                    .unwrap_or_default()
            }
            "-c" | "--comment" => comment = it.next().map(|s| s.to_string()).unwrap_or_default(),
            "-u" | "--uid" => uid = it.next().and_then(|s| s.parse().ok()),
            other if other.starts_with('-') => {
                return err(
                    2,
                    format!("useradd: option '{other}' is not simulated by fleetsim\n"),
                )
            }
            other => name = Some(other.to_string()),
        }
    }
    let Some(name) = name else {
        return err(2, "Usage: useradd [options] LOGIN\n");
    };
    let fs = &mut *host.sandbox;
    if accounts::user(fs, &name).is_some() {
        return err(9, format!("useradd: user '{name}' already exists\n"));
    }
    for g in &groups {
        if accounts::group(fs, g).is_none() {
            return err(6, format!("useradd: group '{g}' does not exist\n"));
        }
    }
    let uid = uid.unwrap_or_else(|| accounts::next_uid(fs, system));
    let gid = match &group {
        Some(g) => match accounts::group(fs, g) {
            Some(found) => found.gid,
            None => return err(6, format!("useradd: group '{g}' does not exist\n")),
        },
        None => {
            let gid = if accounts::group_by_gid(fs, uid).is_none() {
                uid
            } else {
                accounts::next_gid(fs, system)
            };
            if let Err(e) = accounts::save_group(
                fs,
                accounts::Group {
                    name: name.clone(),
                    gid,
                    members: vec![],
                },
            ) {
                return err(1, format!("useradd: {e}\n"));
            }
            gid
        }
    };
    let home = home.unwrap_or_else(|| format!("/home/{name}"));
    let default_shell = if d.family() == Family::Debian {
        "/bin/sh"
    } else {
        "/bin/bash"
    };
    let now = fs.now();
    let u = accounts::User {
        name: name.clone(),
        uid,
        gid,
        gecos: comment,
        home: home.clone(),
        shell: shell.unwrap_or_else(|| default_shell.into()),
    };
    let gname = accounts::group_by_gid(fs, gid)
        .map(|g| g.name)
        .unwrap_or_default();
    // Rocky's useradd creates the home folder by default (CREATE_HOME yes); Debian's does not.
    let create = make_home || (d.family() == Family::Redhat && !system);
    let res = accounts::save_user(fs, u, now)
        .and_then(|_| accounts::set_memberships(fs, &name, &groups, true))
        .and_then(|_| {
            if create && !fs.exists(&home) {
                accounts::make_home(fs, &home, &name, &gname)
            } else {
                Ok(())
            }
        });
    match res {
        Ok(()) => out(0, ""),
        Err(e) => err(1, format!("useradd: {e}\n")),
    }
}

fn groupadd(args: &[&str], host: &mut HostView<'_>) -> ShellOutput {
    let system = args.iter().any(|a| *a == "-r" || *a == "--system");
    let Some(name) = args.iter().rev().find(|a| !a.starts_with('-')) else {
        return err(2, "Usage: groupadd [options] GROUP\n");
    };
    let fs = &mut *host.sandbox;
    if accounts::group(fs, name).is_some() {
        return err(9, format!("groupadd: group '{name}' already exists\n"));
    }
    let gid = accounts::next_gid(fs, system);
    match accounts::save_group(
        fs,
        accounts::Group {
            name: name.to_string(),
            gid,
            members: vec![],
        },
    ) {
        Ok(()) => out(0, ""),
        Err(e) => err(10, format!("groupadd: {e}\n")),
    }
}

/// `id USER`: `uid=1000(alice) gid=1000(alice) groups=1000(alice),27(sudo)`.
fn id(user: &str, host: &mut HostView<'_>) -> ShellOutput {
    let fs = &*host.sandbox;
    let Some(u) = accounts::user(fs, user) else {
        return err(1, format!("id: '{user}': no such user\n"));
    };
    let gname = |gid: u32| {
        accounts::group_by_gid(fs, gid)
            .map(|g| g.name)
            .unwrap_or_else(|| gid.to_string())
    };
    let mut groups = vec![format!("{}({})", u.gid, gname(u.gid))];
    for g in accounts::groups(fs)
        .into_iter()
        .filter(|g| g.members.iter().any(|m| m == user) && g.gid != u.gid)
    {
        groups.push(format!("{}({})", g.gid, g.name));
    }
    out(
        0,
        format!(
            "uid={}({}) gid={}({}) groups={}\n",
            u.uid,
            u.name,
            u.gid,
            gname(u.gid),
            groups.join(",")
        ),
    )
}

/// `getent DATABASE [KEY...]`: exit 2 when a key is missing, 1 for an unknown database.
fn getent(args: &[&str], host: &mut HostView<'_>) -> ShellOutput {
    let Some(db) = args.first() else {
        return err(1, "getent: wrong number of arguments\n");
    };
    let Some(lines) = accounts::getent(host.sandbox, db) else {
        return err(1, format!("Unknown database: {db}\n"));
    };
    if args.len() == 1 {
        return out(
            0,
            lines.iter().map(|l| format!("{l}\n")).collect::<String>(),
        );
    }
    let (mut s, mut rc) = (String::new(), 0);
    for key in &args[1..] {
        match lines.iter().find(|l| {
            let f: Vec<&str> = l.split(':').collect();
            f[0] == *key || (key.parse::<u64>().is_ok() && f.get(2) == Some(key))
        }) {
            Some(l) => s.push_str(&format!("{l}\n")),
            None => rc = 2,
        }
    }
    out(rc, s)
}

/// `crontab -l [-u USER]`.
fn crontab(d: Distro, args: &[&str], host: &mut HostView<'_>) -> ShellOutput {
    let user = args
        .iter()
        .position(|a| *a == "-u")
        .and_then(|i| args.get(i + 1))
        .map_or_else(|| host.user.name.clone(), |u| u.to_string());
    if !args.contains(&"-l") {
        return err(1, "crontab: fleetsim simulates crontab -l\n");
    }
    let path = format!("{}/{user}", d.crontab_dir());
    match host.sandbox.read_to_string(&path) {
        Ok(t) => out(0, t),
        Err(_) => err(1, format!("no crontab for {user}\n")),
    }
}

/// `systemctl VERB UNIT` for a unit of the OS (what systemd 252 prints and returns).
fn systemctl(args: &[&str], host: &mut HostView<'_>) -> ShellOutput {
    let words: Vec<&str> = args
        .iter()
        .copied()
        .filter(|a| !a.starts_with('-'))
        .collect();
    let (Some(verb), Some(unit)) = (words.first().copied(), words.last().copied()) else {
        return err(1, "systemctl: missing unit\n");
    };
    let fs = &mut *host.sandbox;
    let name = units::base_name(unit).to_string();
    match verb {
        "is-active" => {
            let a = units::active(fs, &name);
            out(
                if a == units::Active::Active { 0 } else { 3 },
                format!("{}\n", a.name()),
            )
        }
        "is-enabled" => {
            let w = units::enabled_word(fs, &name);
            out(
                if matches!(w, "enabled" | "static") {
                    0
                } else {
                    1
                },
                format!("{w}\n"),
            )
        }
        "enable" | "disable" => match units::set_enabled(fs, &name, verb == "enable") {
            Ok(()) => out(0, ""),
            Err(e) => err(1, format!("{e}\n")),
        },
        "mask" | "unmask" => match units::set_masked(fs, &name, verb == "mask") {
            Ok(()) => out(0, ""),
            Err(e) => err(1, format!("{e}\n")),
        },
        "status" => {
            let a = units::active(fs, &name);
            let sub = match a {
                units::Active::Active => "running",
                units::Active::Failed => "failed",
                units::Active::Inactive => "dead",
            };
            let file = units::unit_file(fs, &name).unwrap_or_default();
            out(
                if a == units::Active::Active { 0 } else { 3 },
                format!(
                    "* {name}.service\n     Loaded: loaded ({file}; {})\n     Active: {} ({sub})\n",
                    units::enabled_word(fs, &name),
                    a.name()
                ),
            )
        }
        "start" | "stop" | "restart" | "reload" | "try-restart" | "reload-or-restart" => {
            match units::control_os(fs, verb, &name) {
                Ok(units::Control::Failed(msg)) => err(1, msg),
                Ok(_) => out(0, ""),
                Err(e) => err(1, format!("{e}\n")),
            }
        }
        other => err(
            1,
            format!("systemctl: '{other}' is not simulated by fleetsim\n"),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::shell::{run, ShellContext};

    fn shell(
        distro: Distro,
        script: &str,
    ) -> (crate::os::tests::tempdir::Dir, ShellOutput, ShellContext) {
        let (t, fs) = crate::os::tests::host(distro);
        let mut sc = ShellContext::new(fs, 1);
        sc.external = Some(Box::new(OsCommands::new(distro, None)));
        let o = run(script, &mut sc);
        (t, o, sc)
    }

    #[test]
    fn packages_accounts_and_units_through_the_shell() {
        let (_t, o, _) = shell(
            Distro::Debian12,
            "apt-get install -y htop >/dev/null && dpkg -l htop | tail -1 | cut -c1-9; \
             groupadd ops && useradd -m -G ops alice && id alice; getent passwd alice; \
             systemctl is-active cron; systemctl stop cron; systemctl is-active cron; echo rc=$?; \
             crontab -l; echo rc=$?",
        );
        let s = o.stdout_str();
        assert!(s.contains("ii  htop"), "{s}");
        assert!(
            s.contains("uid=1000(alice) gid=1001(alice) groups=1001(alice),1000(ops)"),
            "{s}"
        );
        assert!(s.contains("alice:x:1000:1001::/home/alice:/bin/sh"), "{s}");
        assert!(s.contains("active\ninactive\nrc=3\n"), "{s}");
        assert!(
            o.stderr_str().contains("no crontab for root"),
            "{}",
            o.stderr_str()
        );
    }

    #[test]
    fn rpm_and_dnf_on_rocky() {
        let (_t, o, _) = shell(Distro::Rocky9, "rpm -q git; echo rc=$?; dnf install -y git >/dev/null; rpm -q git; dnf install -y nope; echo rc=$?");
        let s = o.stdout_str();
        assert!(
            s.contains("package git is not installed\nrc=1\ngit-2.43.5-2.el9_5.x86_64\n"),
            "{s}"
        );
        assert!(s.ends_with("rc=1\n"), "{s}");
        assert!(o.stderr_str().contains("No match for argument: nope"));
    }
}
