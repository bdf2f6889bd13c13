//! `--faults FILE`: the YAML loader and serde into a fault plan, errors placed at a line; a
//! plan that loads then acts on Lab 8.2's fleet through a short rolling update.
#![no_main]

#[path = "common/fleet_run.rs"]
mod fleet_run;

use fleetsim_sim::fleet::faults::FaultPlan;
use fleetsim_sim::fleet::model::FleetModel;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let dir = tempfile::tempdir().unwrap();
    let Some(plan) = fleet_run::load::<FaultPlan>(dir.path(), data, "fault plan") else {
        return;
    };
    let Some(model) =
        fleet_run::load::<FleetModel>(dir.path(), fleet_run::FLEET.as_bytes(), "fleet model")
    else {
        return;
    };
    fleet_run::run(dir.path(), model, &plan);
});
