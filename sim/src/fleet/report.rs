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
