//! The simulated operating system of a host: its distribution (inventory variable
//! `fleetsim_os`), the facts that distribution reports, and its state kept as ordinary files
//! in the host's sandbox so shell commands and a curious user see the same thing the
//! modules do:
//!
//! | state               | file(s)                                                        |
//! |---------------------|----------------------------------------------------------------|
//! | distribution        | `/etc/os-release` (and `/etc/redhat-release` on Rocky)          |
//! | packages (Debian)   | `/var/lib/dpkg/status`, automatic ones in `/var/lib/apt/extended_states` |
//! | packages (Rocky)    | `/var/lib/rpm/fleetsim-rpmdb` (`NAME VERSION ARCH user|dep`)    |
//! | apt cache time      | mtime of `/var/lib/apt/periodic/update-success-stamp`           |
//! | accounts            | `/etc/passwd`, `/etc/group`, `/etc/shadow`, home folders        |
//! | units               | `/usr/lib/systemd/system/U.service` (packages), `/etc/systemd/system/U.service` (admin), enabled = link in `multi-user.target.wants/`, masked = link to `/dev/null` |
//! | unit run state      | `/run/fleetsim/units/U` (`active`/`inactive`/`failed`); `/run` is emptied by a reboot |
//! | crontabs            | `/var/spool/cron/crontabs/USER` (Debian), `/var/spool/cron/USER` (Rocky) |
//! | hostname            | `/etc/hostname`                                                 |
//! | debconf answers     | `/var/cache/debconf/{config,passwords,templates}.dat` (Debian)  |
//! | pip distributions   | `SITE/NAME-VERSION.dist-info/` in `/usr/local/lib/pythonX.Y/...` or a venv |
//! | packet filter rules | `/run/fleetsim/iptables/{v4,v6}/TABLE` (`iptables -S` lines; not enforced) |
//! | yum repositories    | `/etc/yum.repos.d/*.repo` (Rocky; `rocky.repo` from the start)  |
//!
//! The state is laid into the sandbox the first time something needs it ([`ensure`]), so
//! hosts that never touch the OS keep an empty sandbox.

pub mod accounts;
pub mod catalogue;
pub mod commands;
pub mod debconf;
pub mod iptables;
pub mod packages;
pub mod pip;
pub mod units;

use serde::Deserialize;
use serde_json::{json, Map, Value};

use crate::fs::{Sandbox, WriteMode};

/// A distribution family: which package manager and file layout.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Family {
    Debian,
    Redhat,
}

/// The distributions a host can run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Distro {
    Debian12,
    Ubuntu2404,
    Rocky9,
}

/// The distribution when the inventory names none.
pub const DEFAULT_OS: &str = "debian-12";

impl Distro {
    pub const ALL: [Distro; 3] = [Distro::Debian12, Distro::Ubuntu2404, Distro::Rocky9];

    /// The `fleetsim_os` value naming a distribution.
    pub fn parse(s: &str) -> Result<Distro, String> {
        Distro::ALL
            .into_iter()
            .find(|d| d.id() == s)
            .ok_or_else(|| {
                format!(
                    "fleetsim_os: unknown distribution '{s}' (fleetsim simulates {})",
                    Distro::ALL.map(Distro::id).join(", ")
                )
            })
    }

    pub fn id(self) -> &'static str {
        match self {
            Distro::Debian12 => "debian-12",
            Distro::Ubuntu2404 => "ubuntu-24.04",
            Distro::Rocky9 => "rocky-9",
        }
    }

    pub fn family(self) -> Family {
        match self {
            Distro::Debian12 | Distro::Ubuntu2404 => Family::Debian,
            Distro::Rocky9 => Family::Redhat,
        }
    }

    /// The package manager `ansible_pkg_mgr` names.
    pub fn pkg_mgr(self) -> &'static str {
        match self.family() {
            Family::Debian => "apt",
            Family::Redhat => "dnf",
        }
    }

    /// Where the distribution keeps crontabs.
    pub fn crontab_dir(self) -> &'static str {
        match self.family() {
            Family::Debian => "/var/spool/cron/crontabs",
            Family::Redhat => "/var/spool/cron",
        }
    }

    /// Whether installing a package starts and enables its services (Debian's policy;
    /// Red Hat leaves them stopped and disabled).
    pub fn starts_services_on_install(self) -> bool {
        self.family() == Family::Debian
    }

    /// The facts that depend on the distribution, as ansible-core's `distribution`,
    /// `platform`, `lsb`, `python`, `selinux` and `apparmor` collectors report them there.
    pub fn facts(self) -> Map<String, Value> {
        let v = match self {
            Distro::Debian12 => json!({
                "distribution": "Debian",
                "distribution_file_parsed": true,
                "distribution_file_path": "/etc/os-release",
                "distribution_file_variety": "Debian",
                "distribution_major_version": "12",
                "distribution_minor_version": "11",
                "distribution_release": "bookworm",
                "distribution_version": "12.11",
                "os_family": "Debian",
                "kernel": "6.1.0-37-amd64",
                "kernel_version": "#1 SMP PREEMPT_DYNAMIC Debian 6.1.140-1 (2025-05-22)",
                "lsb": {"codename": "bookworm", "description": "Debian GNU/Linux 12 (bookworm)", "id": "Debian", "major_release": "12", "release": "12"},
                "python_version": "3.11.2",
                "python": python(3, 11, 2),
                "selinux": {"status": "disabled"},
                "selinux_python_present": true,
                "apparmor": {"status": "enabled"},
            }),
            Distro::Ubuntu2404 => json!({
                "distribution": "Ubuntu",
                "distribution_file_parsed": true,
                "distribution_file_path": "/etc/os-release",
                "distribution_file_variety": "Debian",
                "distribution_major_version": "24",
                "distribution_release": "noble",
                "distribution_version": "24.04",
                "os_family": "Debian",
                "kernel": "6.8.0-60-generic",
                "kernel_version": "#63-Ubuntu SMP PREEMPT_DYNAMIC Tue Apr 15 19:04:15 UTC 2025",
                "lsb": {"codename": "noble", "description": "Ubuntu 24.04.2 LTS", "id": "Ubuntu", "major_release": "24", "release": "24.04"},
                "python_version": "3.12.3",
                "python": python(3, 12, 3),
                "selinux": {"status": "disabled"},
                "selinux_python_present": true,
                "apparmor": {"status": "enabled"},
            }),
            Distro::Rocky9 => json!({
                "distribution": "Rocky",
                "distribution_file_parsed": true,
                "distribution_file_path": "/etc/redhat-release",
                "distribution_file_variety": "RedHat",
                "distribution_major_version": "9",
                "distribution_release": "Blue Onyx",
                "distribution_version": "9.5",
                "os_family": "RedHat",
                "kernel": "5.14.0-503.14.1.el9_5.x86_64",
                "kernel_version": "#1 SMP PREEMPT_DYNAMIC Fri Nov 15 12:04:32 UTC 2024",
                "lsb": {},
                "python_version": "3.9.21",
                "python": python(3, 9, 21),
                "selinux": {"config_mode": "enforcing", "mode": "enforcing", "policyvers": 33, "status": "enabled", "type": "targeted"},
                "selinux_python_present": true,
                "apparmor": {"status": "disabled"},
            }),
        };
        let mut m = match v {
            Value::Object(m) => m,
            _ => Map::new(),
        };
        m.insert("pkg_mgr".into(), json!(self.pkg_mgr()));
        m.insert("service_mgr".into(), json!("systemd"));
        m
    }

    /// `/etc/os-release` as the distribution ships it.
    fn os_release(self) -> &'static str {
        match self {
            Distro::Debian12 => "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nNAME=\"Debian GNU/Linux\"\nVERSION_ID=\"12\"\nVERSION=\"12 (bookworm)\"\nVERSION_CODENAME=bookworm\nID=debian\nHOME_URL=\"https://www.debian.org/\"\nSUPPORT_URL=\"https://www.debian.org/support\"\nBUG_REPORT_URL=\"https://bugs.debian.org/\"\n",
            Distro::Ubuntu2404 => "PRETTY_NAME=\"Ubuntu 24.04.2 LTS\"\nNAME=\"Ubuntu\"\nVERSION_ID=\"24.04\"\nVERSION=\"24.04.2 LTS (Noble Numbat)\"\nVERSION_CODENAME=noble\nID=ubuntu\nID_LIKE=debian\nHOME_URL=\"https://www.ubuntu.com/\"\nUBUNTU_CODENAME=noble\n",
            Distro::Rocky9 => "NAME=\"Rocky Linux\"\nVERSION=\"9.5 (Blue Onyx)\"\nID=\"rocky\"\nID_LIKE=\"rhel centos fedora\"\nVERSION_ID=\"9.5\"\nPLATFORM_ID=\"platform:el9\"\nPRETTY_NAME=\"Rocky Linux 9.5 (Blue Onyx)\"\nANSI_COLOR=\"0;32\"\nHOME_URL=\"https://rockylinux.org/\"\n",
        }
    }
}

fn python(major: u32, minor: u32, micro: u32) -> Value {
    json!({
        "executable": "/usr/bin/python3",
        "has_sslcontext": true,
        "type": "cpython",
        "version": {"major": major, "micro": micro, "minor": minor, "releaselevel": "final", "serial": 0},
        "version_info": [major, minor, micro, "final", 0],
    })
}

/// An OS operation that failed on the sandbox (disk full, read-only...): the message names
/// the path.
pub fn fs_err(e: crate::fs::FsError) -> String {
    e.to_string()
}

/// Writes `text` to `path`, creating its folder.
pub fn put(fs: &mut Sandbox, path: &str, text: &str) -> Result<(), String> {
    if let Some((dir, _)) = path.rsplit_once('/') {
        if !dir.is_empty() && !fs.is_dir(dir) {
            fs.mkdir(dir, true).map_err(fs_err)?;
        }
    }
    fs.write(path, text.as_bytes(), WriteMode::Truncate)
        .map_err(fs_err)
}

/// A file's text, or "" when it does not exist.
pub fn text(fs: &Sandbox, path: &str) -> String {
    fs.read_to_string(path).unwrap_or_default()
}

/// The distribution's own repositories (`yum_repository` and `dnf repolist` read them).
const ROCKY_REPO: &str = "# rocky.repo\n#\n# The mirrorlist system uses the connecting IP address of the client and the\n# update status of each mirror to pick current mirrors that are geographically\n# close to the client.\n\n[baseos]\nname=Rocky Linux $releasever - BaseOS\nmirrorlist=https://mirrors.rockylinux.org/mirrorlist?arch=$basearch&repo=BaseOS-$releasever$rltype\n#baseurl=http://dl.rockylinux.org/$contentdir/$releasever/BaseOS/$basearch/os/\ngpgcheck=1\nenabled=1\ncountme=1\nmetadata_expire=6h\ngpgkey=file:///etc/pki/rpm-gpg/RPM-GPG-KEY-Rocky-9\n\n[appstream]\nname=Rocky Linux $releasever - AppStream\nmirrorlist=https://mirrors.rockylinux.org/mirrorlist?arch=$basearch&repo=AppStream-$releasever$rltype\n#baseurl=http://dl.rockylinux.org/$contentdir/$releasever/AppStream/$basearch/os/\ngpgcheck=1\nenabled=1\ncountme=1\nmetadata_expire=6h\ngpgkey=file:///etc/pki/rpm-gpg/RPM-GPG-KEY-Rocky-9\n\n[crb]\nname=Rocky Linux $releasever - CRB\nmirrorlist=https://mirrors.rockylinux.org/mirrorlist?arch=$basearch&repo=CRB-$releasever$rltype\n#baseurl=http://dl.rockylinux.org/$contentdir/$releasever/CRB/$basearch/os/\ngpgcheck=1\nenabled=0\ncountme=1\nmetadata_expire=6h\ngpgkey=file:///etc/pki/rpm-gpg/RPM-GPG-KEY-Rocky-9\n";

/// Lays the distribution's initial state into the sandbox unless it is there already
/// (`/etc/os-release` marks it): base accounts, base packages with their files and units
/// (enabled and running), `/etc/hostname`.
pub fn ensure(fs: &mut Sandbox, distro: Distro, hostname: &str) -> Result<(), String> {
    if fs.exists("/etc/os-release") {
        return Ok(());
    }
    put(fs, "/etc/os-release", distro.os_release())?;
    if distro.family() == Family::Redhat {
        put(
            fs,
            "/etc/redhat-release",
            "Rocky Linux release 9.5 (Blue Onyx)\n",
        )?;
        put(fs, "/etc/yum.repos.d/rocky.repo", ROCKY_REPO)?;
    }
    let short = hostname.split('.').next().unwrap_or(hostname);
    put(fs, "/etc/hostname", &format!("{short}\n"))?;
    accounts::lay_base(fs, distro)?;
    let cat = catalogue::Catalogue::builtin();
    let base: Vec<catalogue::Package> = cat.base(distro).cloned().collect();
    let plan = packages::Plan {
        install: base.iter().map(|p| (p.clone(), false)).collect(),
        ..Default::default()
    };
    packages::apply_install(fs, distro, &plan)?;
    // The base system's daemons run from the first boot, on every family.
    for p in &base {
        for s in &p.services {
            units::set_enabled(fs, &s.name, true)?;
            units::set_active(fs, &s.name, units::Active::Active)?;
        }
    }
    if distro.family() == Family::Debian {
        // The package lists were last refreshed when the host was built, a day ago.
        let built = fs.now() - 86_400.0;
        put(fs, packages::APT_STAMP, &format!("{built}\n"))?;
        fs.set_mtime(packages::APT_STAMP, built).map_err(fs_err)?;
    }
    for d in ["/root", "/home", "/var/log"] {
        if !fs.is_dir(d) {
            fs.mkdir(d, true).map_err(fs_err)?;
        }
    }
    let _ = fs.chmod("/root", 0o700);
    Ok(())
}

/// The host name the OS reports: `/etc/hostname` once laid out, else the inventory name.
pub fn hostname(fs: &Sandbox, inventory_name: &str) -> String {
    let written = text(fs, "/etc/hostname");
    let written = written.trim();
    if written.is_empty() {
        inventory_name.to_string()
    } else {
        written.to_string()
    }
}

/// A reboot's effect on the state: runtime state (`/run`: unit states, iptables rules) is lost and every enabled unit
/// starts again.
pub fn reboot(fs: &mut Sandbox) -> Result<(), String> {
    for dir in [units::RUN_DIR, iptables::DIR] {
        if fs.is_dir(dir) {
            fs.remove_all(dir).map_err(fs_err)?;
        }
    }
    for unit in units::all_units(fs) {
        if units::is_enabled(fs, &unit) {
            units::set_active(fs, &unit, units::Active::Active)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sandbox() -> (tempdir::Dir, Sandbox) {
        let d = tempdir::Dir::new();
        let fs = Sandbox::new(d.path(), "web1").unwrap();
        (d, fs)
    }

    /// A temporary folder removed on drop (the sim crate has no tempfile dependency).
    pub(crate) mod tempdir {
        pub struct Dir(std::path::PathBuf);
        impl Dir {
            pub fn new() -> Dir {
                use std::sync::atomic::{AtomicU32, Ordering};
                static N: AtomicU32 = AtomicU32::new(0);
                let p = std::env::temp_dir().join(format!(
                    "fleetsim-os-test-{}-{}",
                    std::process::id(),
                    N.fetch_add(1, Ordering::SeqCst)
                ));
                std::fs::create_dir_all(&p).unwrap();
                Dir(p)
            }
            pub fn path(&self) -> &std::path::Path {
                &self.0
            }
        }
        impl Drop for Dir {
            fn drop(&mut self) {
                let _ = std::fs::remove_dir_all(&self.0);
            }
        }
    }

    pub(crate) fn host(distro: Distro) -> (tempdir::Dir, Sandbox) {
        let (d, mut fs) = sandbox();
        ensure(&mut fs, distro, "web1.example.com").unwrap();
        (d, fs)
    }

    #[test]
    fn distributions_parse_and_unknown_ones_are_named() {
        assert_eq!(Distro::parse("rocky-9"), Ok(Distro::Rocky9));
        let e = Distro::parse("arch").unwrap_err();
        assert!(
            e.contains("'arch'") && e.contains("debian-12, ubuntu-24.04, rocky-9"),
            "{e}"
        );
    }

    #[test]
    fn a_fresh_host_has_base_state() {
        for d in Distro::ALL {
            let (_t, fs) = host(d);
            assert_eq!(hostname(&fs, "x"), "web1");
            assert!(accounts::user(&fs, "root").is_some());
            assert!(packages::installed(&fs, d).iter().any(|p| p.name == "bash"));
            let ssh = if d.family() == Family::Debian {
                "ssh"
            } else {
                "sshd"
            };
            assert_eq!(units::active(&fs, ssh), units::Active::Active);
            assert!(units::is_enabled(&fs, ssh));
        }
    }

    #[test]
    fn reboot_restarts_only_enabled_units() {
        let (_t, mut fs) = host(Distro::Debian12);
        units::set_enabled(&mut fs, "ssh", false).unwrap();
        reboot(&mut fs).unwrap();
        assert_eq!(units::active(&fs, "ssh"), units::Active::Inactive);
        assert_eq!(units::active(&fs, "cron"), units::Active::Active);
    }
}
