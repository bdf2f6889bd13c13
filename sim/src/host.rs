//! One simulated machine: its name, simulated address, sandboxed filesystem, random stream
//! and the facts `setup` reports for it.

use std::path::Path;

use serde_json::{Map, Value};

use crate::facts::{self, FactInputs};
use crate::fs::{FsResult, Sandbox};
use crate::rng::Stream;

/// A simulated host.
#[derive(Debug, Clone)]
pub struct Host {
    /// The inventory name (or the name a task delegated to).
    pub name: String,
    /// Its address on the simulated network, in 127.0.0.0/8 and never a real network's.
    pub address: String,
    /// Its filesystem, rooted at SANDBOX/hosts/NAME.
    pub fs: Sandbox,
    /// Draws for this host only (`$RANDOM`, ...), derived from (seed, name).
    pub rng: Stream,
    /// The user tasks run as (the `ansible_user_id` fact).
    pub user: String,
    /// The distribution it runs, as the inventory's `fleetsim_os` names it (checked when
    /// first used, so a typo fails the host's first task with a clear message).
    pub os_name: String,
    /// When it last booted (epoch seconds): `ansible_uptime_seconds` counts from here.
    pub booted_at: f64,
}

impl Host {
    pub fn new(sandbox_dir: &Path, name: &str, index: usize, seed: u64) -> FsResult<Host> {
        let mut fs = Sandbox::new(sandbox_dir, name)?;
        // A fresh Debian host has a world-writable /tmp; tasks in the lab write there.
        if !fs.exists("/tmp") {
            fs.mkdir("/tmp", true)?;
            fs.chmod("/tmp", 0o1777)?;
        }
        // Every Linux host has the null device; commands and redirections use it.
        if !fs.exists(crate::fs::NULL_DEVICE) {
            fs.mkdir("/dev", true)?;
            fs.write(crate::fs::NULL_DEVICE, b"", crate::fs::WriteMode::Truncate)?;
        }
        Ok(Host {
            name: name.to_string(),
            address: address_for(index),
            fs,
            rng: Stream::derive(seed, name),
            user: "root".into(),
            os_name: crate::os::DEFAULT_OS.into(),
            booted_at: 0.0,
        })
    }

    /// The distribution the host runs.
    pub fn distro(&self) -> Result<crate::os::Distro, String> {
        crate::os::Distro::parse(&self.os_name)
    }

    /// The distribution, with its state laid into the sandbox (what OS modules and
    /// commands start with).
    pub fn os(&mut self) -> Result<crate::os::Distro, String> {
        let d = self.distro()?;
        crate::os::ensure(&mut self.fs, d, &self.name)?;
        Ok(d)
    }

    /// Facts as of virtual time `now`, without the `ansible_` prefix: the machine's, then
    /// its distribution's, then what its OS state says (host name, the user's account).
    pub fn facts(&self, now: f64) -> Result<Map<String, Value>, String> {
        let distro = self.distro()?;
        let hostname = crate::os::hostname(&self.fs, &self.name);
        let mut f = facts::gather(&FactInputs {
            hostname: &hostname,
            address: &self.address,
            now,
            user: &self.user,
        });
        f.extend(distro.facts());
        f.insert(
            "uptime_seconds".into(),
            serde_json::json!((now - self.booted_at).max(0.0).floor() as i64),
        );
        if let Some(u) = crate::os::accounts::user(&self.fs, &self.user) {
            f.insert("user_uid".into(), serde_json::json!(u.uid));
            f.insert("user_gid".into(), serde_json::json!(u.gid));
            f.insert("user_dir".into(), serde_json::json!(u.home));
            f.insert("user_shell".into(), serde_json::json!(u.shell));
            f.insert("user_gecos".into(), serde_json::json!(u.gecos));
        }
        Ok(f)
    }
}

/// The simulated address of the host with this index: 127.1.0.1, 127.1.0.2, ... (127.0.0.1
/// stays each host's own loopback).
pub fn address_for(index: usize) -> String {
    let n = index + 1;
    format!("127.{}.{}.{}", 1 + n / 65_536 % 254, n / 256 % 256, n % 256)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_loopback_and_distinct() {
        let a: Vec<String> = (0..600).map(address_for).collect();
        assert!(a.iter().all(|x| x.starts_with("127.")));
        let mut s = a.clone();
        s.sort();
        s.dedup();
        assert_eq!(s.len(), a.len());
    }
}
