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
}

impl Host {
    pub fn new(sandbox_dir: &Path, name: &str, index: usize, seed: u64) -> FsResult<Host> {
        let mut fs = Sandbox::new(sandbox_dir, name)?;
        // A fresh Debian host has a world-writable /tmp; tasks in the lab write there.
        if !fs.exists("/tmp") {
            fs.mkdir("/tmp", true)?;
            fs.chmod("/tmp", 0o1777)?;
        }
        Ok(Host {
            name: name.to_string(),
            address: address_for(index),
            fs,
            rng: Stream::derive(seed, name),
            user: "root".into(),
        })
    }

    /// Facts as of virtual time `now`, without the `ansible_` prefix.
    pub fn facts(&self, now: f64) -> Map<String, Value> {
        facts::gather(&FactInputs {
            hostname: &self.name,
            address: &self.address,
            now,
            user: &self.user,
        })
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
