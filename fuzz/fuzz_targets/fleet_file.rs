//! `--fleet FILE`: the YAML loader and serde into the fleet model, errors placed at a line.
#![no_main]

use fleetsim_sim::fleet::model::FleetModel;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("fleet.yml");
    std::fs::write(&path, data).unwrap();
    let _ = fleetsim_engine::yaml::load_typed::<FleetModel>(&path, "fleet model");
});
