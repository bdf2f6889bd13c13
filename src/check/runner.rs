//! What `fleetsim check` runs each case with: the playbook options every case shares
//! ([`PlaybookSpec`]) and the runner that turns a case into one `fleetsim playbook` run
//! against the fleet with the case's faults. The contract a runner keeps is that running a
//! case is exactly what the replay command [`super::artifacts::replay_command`] prints does,
//! so a counterexample replays byte for byte.

use std::path::PathBuf;

pub use fleetsim_sim::fleet::campaign::CaseRunner;

/// The options of `fleetsim playbook` that every case of a campaign shares.
#[derive(Debug, Clone, PartialEq)]
pub struct PlaybookSpec {
    /// `-i` sources.
    pub inventory: Vec<String>,
    pub playbook: PathBuf,
    /// The scenario's fleet model; a case's [`fleetsim_sim::fleet::case::FleetParams`] apply
    /// on top of it.
    pub fleet: PathBuf,
    /// `-e` arguments as given (parsed as `fleetsim playbook` parses them).
    pub extra_vars: Vec<String>,
    pub tags: Vec<String>,
    pub skip_tags: Vec<String>,
    /// Virtual clock start (seconds since the epoch) of every case.
    pub start_time: f64,
}

/// A runner could not be set up; `code` is the exit status `fleetsim check` ends with.
#[derive(Debug, Clone, PartialEq)]
pub struct SetupError {
    pub code: i32,
    pub message: String,
}

/// Exit status for "not available in this build".
pub const NOT_WIRED: i32 = 250;

/// The runner that plays each case with the real engine and fleet runtime.
///
/// For each case it must run the playbook as `fleetsim playbook -i INVENTORY PLAYBOOK
/// --limit CASE.limit() --fleet FLEET --faults PLAN --seed CASE.seed --start-time START
/// [-e ...] [-t ...] [--skip-tags ...]` would, where FLEET is `spec.fleet` with
/// `case.fleet` applied ([`fleetsim_sim::fleet::case::FleetParams::apply`]) and PLAN is
/// `case.plan`, and return its exit status and fleet report as a
/// `fleetsim_sim::fleet::campaign::CaseOutcome` (output discarded, the error text
/// kept in `CaseOutcome::error` when the playbook cannot run).
///
/// Not wired yet: the fleet runtime behind `fleetsim playbook --fleet/--faults` lands
/// separately. Until then `fleetsim check` stops here with exit status 250 after checking its
/// options, inventory, playbook and space.
pub fn real_runner(spec: &PlaybookSpec) -> Result<Box<dyn CaseRunner>, SetupError> {
    let _ = spec;
    Err(SetupError {
        code: NOT_WIRED,
        message: "fleetsim check is not yet wired to the fleet runtime: cases cannot run in \
                  this build (its options, inventory, playbook and space were checked)"
            .into(),
    })
}
