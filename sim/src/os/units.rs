//! systemd units of the simulated OS: which exist (unit files a package shipped under
//! `/usr/lib/systemd/system`, or an administrator wrote under `/etc/systemd/system`), which
//! are enabled (a link in `multi-user.target.wants/`) or masked (a link to `/dev/null`),
//! and which run (`/run/fleetsim/units/U`, emptied by a reboot).

use super::{fs_err, put, text};
use crate::fs::{FileKind, Sandbox};

pub const LIB_DIR: &str = "/usr/lib/systemd/system";
pub const ETC_DIR: &str = "/etc/systemd/system";
pub const WANTS_DIR: &str = "/etc/systemd/system/multi-user.target.wants";
pub const RUN_DIR: &str = "/run/fleetsim/units";

/// A unit's run state, as `systemctl is-active` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Active {
    Active,
    Inactive,
    Failed,
}

impl Active {
    pub fn name(self) -> &'static str {
        match self {
            Active::Active => "active",
            Active::Inactive => "inactive",
            Active::Failed => "failed",
        }
    }
}

/// `nginx` and `nginx.service` name the same unit.
pub fn base_name(unit: &str) -> &str {
    unit.strip_suffix(".service").unwrap_or(unit)
}

fn etc_path(unit: &str) -> String {
    format!("{ETC_DIR}/{}.service", base_name(unit))
}

fn lib_path(unit: &str) -> String {
    format!("{LIB_DIR}/{}.service", base_name(unit))
}

/// Whether the unit is masked (its `/etc` unit is a link to `/dev/null`).
pub fn is_masked(fs: &Sandbox, unit: &str) -> bool {
    let p = etc_path(unit);
    matches!(fs.lstat(&p), Ok(st) if st.kind == FileKind::Symlink)
        && fs.read_link(&p).ok().as_deref() == Some("/dev/null")
}

/// The unit file systemd would load, if any (the administrator's wins).
pub fn unit_file(fs: &Sandbox, unit: &str) -> Option<String> {
    let etc = etc_path(unit);
    if fs.is_file(&etc) {
        return Some(etc);
    }
    let lib = lib_path(unit);
    fs.is_file(&lib).then_some(lib)
}

/// Whether systemd knows the unit (a unit file, or a mask).
pub fn exists(fs: &Sandbox, unit: &str) -> bool {
    unit_file(fs, unit).is_some() || is_masked(fs, unit)
}

pub fn is_enabled(fs: &Sandbox, unit: &str) -> bool {
    fs.lstat(&format!("{WANTS_DIR}/{}.service", base_name(unit)))
        .is_ok()
}

/// `systemctl is-enabled`'s word.
pub fn enabled_word(fs: &Sandbox, unit: &str) -> &'static str {
    if is_masked(fs, unit) {
        "masked"
    } else if is_enabled(fs, unit) {
        "enabled"
    } else if !text(fs, &unit_file(fs, unit).unwrap_or_default()).contains("[Install]") {
        "static"
    } else {
        "disabled"
    }
}

pub fn set_enabled(fs: &mut Sandbox, unit: &str, on: bool) -> Result<(), String> {
    let link = format!("{WANTS_DIR}/{}.service", base_name(unit));
    if on {
        if fs.lstat(&link).is_err() {
            if !fs.is_dir(WANTS_DIR) {
                fs.mkdir(WANTS_DIR, true).map_err(fs_err)?;
            }
            let target = unit_file(fs, unit).unwrap_or_else(|| lib_path(unit));
            fs.symlink(&target, &link).map_err(fs_err)?;
        }
    } else if fs.lstat(&link).is_ok() {
        fs.remove_file(&link).map_err(fs_err)?;
    }
    Ok(())
}

pub fn set_masked(fs: &mut Sandbox, unit: &str, on: bool) -> Result<(), String> {
    let p = etc_path(unit);
    if on {
        if !is_masked(fs, unit) {
            if fs.lstat(&p).is_ok() {
                fs.remove_file(&p).map_err(fs_err)?;
            }
            if !fs.is_dir(ETC_DIR) {
                fs.mkdir(ETC_DIR, true).map_err(fs_err)?;
            }
            fs.symlink("/dev/null", &p).map_err(fs_err)?;
        }
    } else if is_masked(fs, unit) {
        fs.remove_file(&p).map_err(fs_err)?;
    }
    Ok(())
}

pub fn active(fs: &Sandbox, unit: &str) -> Active {
    match text(fs, &format!("{RUN_DIR}/{}", base_name(unit))).trim() {
        "active" => Active::Active,
        "failed" => Active::Failed,
        _ => Active::Inactive,
    }
}

pub fn set_active(fs: &mut Sandbox, unit: &str, state: Active) -> Result<(), String> {
    put(
        fs,
        &format!("{RUN_DIR}/{}", base_name(unit)),
        &format!("{}\n", state.name()),
    )
}

/// The `.service` units the host has (from both folders), sorted by name.
pub fn all_units(fs: &Sandbox) -> Vec<String> {
    let mut names: Vec<String> = [LIB_DIR, ETC_DIR]
        .iter()
        .flat_map(|d| fs.list_dir(d).unwrap_or_default())
        .filter_map(|f| f.strip_suffix(".service").map(str::to_string))
        .collect();
    names.sort();
    names.dedup();
    names
}

/// The unit file a package installs.
pub fn unit_text(description: &str, exec: &str) -> String {
    format!(
        "[Unit]\nDescription={description}\nAfter=network.target\n\n[Service]\nExecStart={exec}\n\n[Install]\nWantedBy=multi-user.target\n"
    )
}

/// Why a unit cannot start: the `ExecStart=` program is missing (a unit written before its
/// package was installed), as systemd reports it.
pub fn start_problem(fs: &Sandbox, unit: &str) -> Option<String> {
    let file = unit_file(fs, unit)?;
    let exec = text(fs, &file)
        .lines()
        .find_map(|l| l.trim().strip_prefix("ExecStart=").map(str::to_string))?;
    let prog = exec
        .trim_start_matches(['-', '@', '+', '!'])
        .split_whitespace()
        .next()?
        .to_string();
    (prog.starts_with('/') && !fs.exists(&prog)).then(|| {
        format!(
            "{}.service: Failed to locate executable {prog}: No such file or directory",
            base_name(unit)
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::os::{tests::host, Distro};

    #[test]
    fn enable_mask_and_run_state_live_in_files() {
        let (_t, mut fs) = host(Distro::Rocky9);
        assert!(exists(&fs, "sshd.service"));
        assert_eq!(enabled_word(&fs, "sshd"), "enabled");
        set_masked(&mut fs, "sshd", true).unwrap();
        assert_eq!(enabled_word(&fs, "sshd"), "masked");
        set_masked(&mut fs, "sshd", false).unwrap();
        set_enabled(&mut fs, "sshd", false).unwrap();
        assert_eq!(enabled_word(&fs, "sshd"), "disabled");
        set_active(&mut fs, "sshd", Active::Failed).unwrap();
        assert_eq!(active(&fs, "sshd"), Active::Failed);
        assert!(!exists(&fs, "nope"));
    }

    #[test]
    fn a_unit_whose_program_is_missing_cannot_start() {
        let (_t, mut fs) = host(Distro::Debian12);
        put(
            &mut fs,
            "/etc/systemd/system/app.service",
            &unit_text("x", "/opt/app/bin/app --serve"),
        )
        .unwrap();
        let e = start_problem(&fs, "app").unwrap();
        assert!(e.contains("/opt/app/bin/app"), "{e}");
        assert_eq!(start_problem(&fs, "ssh"), None);
    }
}

/// What `systemctl VERB UNIT` did to a unit, whoever runs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Control {
    /// The unit's `is-active` word afterwards.
    Done(&'static str),
    /// No such unit on the host.
    NotFound,
    /// The job failed: systemctl's message (its stderr), the unit is left `failed` when it
    /// tried to start.
    Failed(String),
}

/// `systemctl VERB UNIT` on `host` (`start`, `stop`, `restart`, `reload`, or `status` to
/// only ask): the one path the service modules and the shell's `systemctl` share. A unit
/// of the fleet (an app, an LB, a database) is the fleet's to act on (its restart time,
/// faults and health endpoint follow); any other is the host OS's.
pub fn control(
    world: &mut crate::world::World,
    host: &str,
    verb: &str,
    unit: &str,
) -> Result<Control, String> {
    let now = world.clock.now();
    if let Some(Some(state)) = world.with_fleet(|f| f.systemctl(host, verb, unit, now)) {
        world.absorb_fleet_events();
        return Ok(Control::Done(state));
    }
    let h = world.host(host).map_err(fs_err)?;
    h.os()?;
    control_os(&mut h.fs, verb, unit)
}

/// [`control`] for a unit of the host's OS.
pub fn control_os(fs: &mut Sandbox, verb: &str, unit: &str) -> Result<Control, String> {
    let name = base_name(unit);
    if !exists(fs, name) {
        return Ok(Control::NotFound);
    }
    let running = active(fs, name) == Active::Active;
    match verb {
        "start" | "restart" | "reload" | "try-restart" | "reload-or-restart" => {
            if is_masked(fs, name) {
                return Ok(Control::Failed(format!(
                    "Failed to {verb} {name}.service: Unit {name}.service is masked.\n"
                )));
            }
            if verb == "reload" && !running {
                return Ok(Control::Failed(format!(
                    "Job for {name}.service invalid.\nFailed to reload {name}.service: Job type reload is not applicable for unit {name}.service.\n"
                )));
            }
            if verb == "try-restart" && !running {
                return Ok(Control::Done(active(fs, name).name()));
            }
            if start_problem(fs, name).is_some() {
                set_active(fs, name, Active::Failed)?;
                return Ok(Control::Failed(format!(
                    "Job for {name}.service failed because the control process exited with error code.\nSee \"systemctl status {name}.service\" and \"journalctl -xeu {name}.service\" for details.\n"
                )));
            }
            set_active(fs, name, Active::Active)?;
        }
        "stop" => set_active(fs, name, Active::Inactive)?,
        _ => {}
    }
    Ok(Control::Done(active(fs, name).name()))
}
