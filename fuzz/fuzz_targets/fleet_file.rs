//! `--fleet FILE`: the YAML loader and serde into the fleet model, errors placed at a line;
//! a model that loads then runs a short rolling update of Lab 8.2's inventory (no faults).
#![no_main]

#[path = "common/fleet_run.rs"]
mod fleet_run;

use fleetsim_sim::fleet::faults::FaultPlan;
use fleetsim_sim::fleet::model::FleetModel;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let dir = tempfile::tempdir().unwrap();
    if let Some(model) = fleet_run::load::<FleetModel>(dir.path(), data, "fleet model") {
        fleet_run::run(dir.path(), model, &FaultPlan::default());
    }
});
