//! What a run with a fleet found: traffic counts, each invariant held or not with its
//! violations, and the seed to replay it. Printed as the FLEET REPORT and written by
//! `--report FILE.json` in this shape.

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};

/// The invariants, in the order reports list them.
pub const INVARIANTS: [&str; 6] = [
    "no_failed_requests",
    "capacity_floor",
    "no_traffic_to_unready",
    "healthy_before_readd",
    "environment_isolation",
    "replication_healthy",
];

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    pub seed: u64,
    /// RFC 3339, UTC.
    pub start_time: String,
    pub virtual_seconds: f64,
    pub traffic: Traffic,
    pub invariants: Vec<InvariantResult>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Traffic {
    pub requests: u64,
    pub failed: u64,
    /// Per load balancer, in fleet order.
    pub by_lb: IndexMap<String, LbTraffic>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LbTraffic {
    pub requests: u64,
    pub failed: u64,
    /// The same counts per virtual second of the run, for a timeline (seconds without
    /// requests are left out).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub per_second: Vec<SecondCount>,
}

/// Requests through a load balancer during one virtual second (`second` counts from 0).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SecondCount {
    pub second: u64,
    pub requests: u64,
    pub failed: u64,
}

impl LbTraffic {
    /// Counts one request made at `elapsed` virtual seconds.
    pub fn count(&mut self, elapsed: f64, failed: bool) {
        self.requests += 1;
        self.failed += u64::from(failed);
        let second = elapsed.max(0.0).floor() as u64;
        // Requests come in time order, so the current second is the last one or a new one.
        match self.per_second.last_mut() {
            Some(last) if last.second == second => {
                last.requests += 1;
                last.failed += u64::from(failed);
            }
            _ => self.per_second.push(SecondCount {
                second,
                requests: 1,
                failed: u64::from(failed),
            }),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InvariantResult {
    pub name: String,
    pub holds: bool,
    /// Every violation, in time order (the text report shows the first few).
    pub violations: Vec<Violation>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Violation {
    /// Virtual seconds since the run started.
    pub at: f64,
    pub hosts: Vec<String>,
    /// The load balancer concerned, if any.
    pub lb: Option<String>,
    /// The task running then (its name as the banner shows it), if any.
    pub task: Option<String>,
    pub detail: String,
}

impl Report {
    /// True when every invariant held.
    pub fn holds(&self) -> bool {
        self.invariants.iter().all(|i| i.holds)
    }

    /// The names of the invariants that did not hold.
    pub fn broken(&self) -> Vec<&str> {
        self.invariants
            .iter()
            .filter(|i| !i.holds)
            .map(|i| i.name.as_str())
            .collect()
    }
}
