//! The simulated world: the virtual clock, the run seed, the hosts (created on first use, in
//! a stable order) and the ordered event log.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use indexmap::IndexMap;
use serde::Serialize;

use crate::clock::Clock;
use crate::fleet::Fleet;
use crate::fs::{FsResult, Journal};
use crate::host::Host;
use crate::rng::Stream;

/// Something that happened, at a virtual time, for the event log (`--events`).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Event {
    /// Virtual seconds since the run started.
    pub at: f64,
    pub kind: String,
    pub host: Option<String>,
    pub detail: serde_json::Value,
}

/// Points SANDBOX/hosts/NAME at the owner's folder (a relative link inside the sandbox).
fn link_host_dir(sandbox_dir: &Path, name: &str, owner: &str) -> FsResult<()> {
    let hosts = sandbox_dir.join("hosts");
    let io = |e: std::io::Error| crate::fs::FsError::io(&e, "/");
    let owner = crate::fs::host_folder_name(owner);
    std::fs::create_dir_all(hosts.join(&owner)).map_err(io)?;
    let link = hosts.join(crate::fs::host_folder_name(name));
    if link.symlink_metadata().is_err() {
        std::os::unix::fs::symlink(&owner, &link).map_err(io)?;
    }
    Ok(())
}

/// How long every host has been up when a run starts (virtual seconds).
pub const BOOTED_BEFORE_START: f64 = 86_400.0;

/// A background job (`async`): the host it runs on, when its result file is written on
/// the virtual clock, and the result it then reports.
#[derive(Debug, Clone)]
pub struct AsyncJob {
    pub host: String,
    pub ready_at: f64,
    pub result: serde_json::Map<String, serde_json::Value>,
}

/// Everything the simulation knows.
#[derive(Debug)]
pub struct World {
    /// The virtual clock; pauses, sleeps and retries advance it, wall time never waits.
    pub clock: Clock,
    /// The run seed: every random draw derives from it; reuse it to reproduce a run.
    pub seed: u64,
    /// Where the hosts' filesystems live (SANDBOX/hosts/NAME).
    pub sandbox_dir: PathBuf,
    /// Hosts by name, in the order they were first needed (inventory order first).
    hosts: IndexMap<String, Host>,
    /// What happened, in order.
    pub events: Vec<Event>,
    /// Draws not tied to one host (the `random` filter on the controller).
    pub rng: Stream,
    /// Hosts whose filesystem is another host's (name -> owner): Ansible runs a host with
    /// `ansible_connection: local` on the controller itself, so it sees the controller's
    /// files. SANDBOX/hosts/NAME is then a link to the owner's folder.
    fs_owner: IndexMap<String, String>,
    /// The simulated fleet's services, when the run has one (`--fleet`). Shared, because
    /// the in-process shell's `curl` and `systemctl` reach it from inside a command.
    pub fleet: Option<Arc<Mutex<Fleet>>>,
    /// Address indexes given out ahead of first use (the inventory's hosts, in inventory
    /// order), so a host's address does not depend on which host a run touches first.
    planned: IndexMap<String, usize>,
    /// Hosts created that were not planned (delegation targets outside the inventory).
    unplanned: usize,
    /// Background jobs (`async`) whose result file is still there, by job id, for
    /// `async_status`.
    pub async_jobs: IndexMap<String, AsyncJob>,
    /// Jobs started so far (each job id is drawn from the seed and this count).
    pub async_started: u64,
    /// Changed paths of every host, once something watches files ([`World::watch_files`]).
    journal: Option<Journal>,
    /// The distribution each host runs (`fleetsim_os`), given before it is first used.
    os_plan: IndexMap<String, String>,
}

/// A kept sandbox remembers file ownership for the next run (see
/// [`crate::fs::Sandbox::save_ownership`]).
impl Drop for World {
    fn drop(&mut self) {
        for host in self.hosts.values() {
            // Best effort: a run's result does not depend on it, only the next run's.
            let _ = host.fs.save_ownership();
        }
    }
}

impl World {
    pub fn new(sandbox_dir: &Path, seed: u64, start_time: f64) -> World {
        World {
            clock: Clock::new(start_time),
            seed,
            sandbox_dir: sandbox_dir.to_path_buf(),
            hosts: IndexMap::new(),
            events: Vec::new(),
            rng: Stream::derive(seed, "#controller"),
            fs_owner: IndexMap::new(),
            fleet: None,
            planned: IndexMap::new(),
            unplanned: 0,
            async_jobs: IndexMap::new(),
            async_started: 0,
            journal: None,
            os_plan: IndexMap::new(),
        }
    }

    /// Sets the distribution `host` runs (the inventory's `fleetsim_os`).
    pub fn plan_os(&mut self, host: &str, os: &str) {
        self.os_plan.insert(host.to_string(), os.to_string());
        if let Some(h) = self.hosts.get_mut(host) {
            h.os_name = os.to_string();
        }
    }

    /// Makes `host` use `owner`'s filesystem (call before the host is first used).
    pub fn share_filesystem(&mut self, host: &str, owner: &str) {
        if host != owner && !self.hosts.contains_key(host) {
            self.fs_owner.insert(host.to_string(), owner.to_string());
        }
    }

    /// From now on, every host notes its changed paths in one journal (the returned one):
    /// the fleet's services watch files through it. Paths are host paths; hosts that share a
    /// filesystem share them too, so a watcher may reread a file that did not change for it,
    /// never miss one that did.
    pub fn watch_files(&mut self) -> Journal {
        let journal = self.journal.clone().unwrap_or_default();
        self.note_changes_in(journal.clone());
        journal
    }

    /// Notes every host's changed paths in `journal` (a fleet that outlives this world's
    /// run watches through it).
    pub fn note_changes_in(&mut self, journal: Journal) {
        for h in self.hosts.values_mut() {
            h.fs.set_journal(Some(journal.clone()));
        }
        self.journal = Some(journal);
    }

    /// Gives these hosts their addresses, in this order, whenever they are first used.
    pub fn plan_addresses<'a>(&mut self, names: impl IntoIterator<Item = &'a str>) {
        for n in names {
            let next = self.planned.len();
            self.planned.entry(n.to_string()).or_insert(next);
        }
    }

    /// The host named `name`, created with its planned address (else the next free one) if
    /// new.
    pub fn host(&mut self, name: &str) -> FsResult<&mut Host> {
        if !self.hosts.contains_key(name) {
            if let Some(owner) = self.fs_owner.get(name) {
                link_host_dir(&self.sandbox_dir, name, owner)?;
            }
            let index = match self.planned.get(name) {
                Some(i) => *i,
                None => {
                    self.unplanned += 1;
                    self.planned.len() + self.unplanned - 1
                }
            };
            let mut h = Host::new(&self.sandbox_dir, name, index, self.seed)?;
            h.fs.set_journal(self.journal.clone());
            if let Some(os) = self.os_plan.get(name) {
                h.os_name = os.clone();
            }
            // Up for a day when the run starts, so uptime reads as a running server's.
            h.booted_at = self.clock.start() - BOOTED_BEFORE_START;
            self.hosts.insert(name.to_string(), h);
        }
        let now = self.clock.now();
        let h = self
            .hosts
            .get_mut(name)
            .expect("inserted just above when missing");
        h.fs.set_now(now);
        Ok(h)
    }

    /// The address `name` has, or will have when first used, without creating the host
    /// (None for a host that is neither created nor planned).
    pub fn address_of(&self, name: &str) -> Option<String> {
        match self.hosts.get(name) {
            Some(h) => Some(h.address.clone()),
            None => self.planned.get(name).map(|i| crate::host::address_for(*i)),
        }
    }

    /// The folder under `SANDBOX/hosts/` that holds `name`'s files: its own, or that of the
    /// host whose filesystem it shares.
    pub fn files_of<'a>(&'a self, name: &'a str) -> &'a str {
        self.fs_owner.get(name).map_or(name, String::as_str)
    }

    pub fn get(&self, name: &str) -> Option<&Host> {
        self.hosts.get(name)
    }

    pub fn host_names(&self) -> impl Iterator<Item = &str> {
        self.hosts.keys().map(String::as_str)
    }

    /// Records an event at the current virtual time.
    pub fn log(&mut self, kind: &str, host: Option<&str>, detail: serde_json::Value) {
        // Milliseconds are what a timeline needs; rounding also hides the float noise of
        // subtracting two epoch times.
        self.events.push(Event {
            at: (self.clock.elapsed() * 1000.0).round() / 1000.0,
            kind: kind.to_string(),
            host: host.map(str::to_string),
            detail,
        });
    }
}

impl World {
    /// Runs `f` on the fleet, if the run has one.
    pub fn with_fleet<T>(&self, f: impl FnOnce(&mut Fleet) -> T) -> Option<T> {
        let fleet = self.fleet.as_ref()?;
        let mut guard = fleet.lock().unwrap_or_else(|e| e.into_inner());
        Some(f(&mut guard))
    }

    /// Moves the fleet's events into the event log (called after each step of the run, so
    /// the log keeps the order things happened in).
    pub fn absorb_fleet_events(&mut self) {
        if let Some(events) = self.with_fleet(Fleet::drain_events) {
            self.events.extend(events);
        }
    }
}
