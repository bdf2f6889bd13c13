//! `--faults FILE`: the YAML loader and serde into a fault plan, errors placed at a line.
#![no_main]

use fleetsim_sim::fleet::faults::FaultPlan;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("faults.yml");
    std::fs::write(&path, data).unwrap();
    let _ = fleetsim_engine::yaml::load_typed::<FaultPlan>(&path, "fault plan");
});
