//! `fleetsim check`'s space file: the binary's own loader (included from src/check), serde
//! into a fault space and the space's checks, every error mapped to a line and column; a
//! space that loads then draws two cases over Lab 8.2's production web tier, shrinks one a
//! few steps, and runs each through a short rolling update on the fleet.
#![no_main]

#[allow(dead_code)]
#[path = "../../src/check/space_file.rs"]
mod space_file;

#[path = "common/fleet_run.rs"]
mod fleet_run;

use fleetsim_sim::fleet::campaign::{case_tree, CaseId};
use fleetsim_sim::fleet::model::FleetModel;
use libfuzzer_sys::fuzz_target;
use proptest::strategy::ValueTree;

fuzz_target!(|data: &[u8]| {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("space.yml");
    std::fs::write(&path, data).unwrap();
    let space = match space_file::load(&path) {
        Ok(s) => s,
        Err(e) => {
            let _ = e.to_string();
            return;
        }
    };
    let Some(model) =
        fleet_run::load::<FleetModel>(dir.path(), fleet_run::FLEET.as_bytes(), "fleet model")
    else {
        return;
    };
    let rollout: Vec<String> = ["web-prod-01", "web-prod-02", "web-prod-03"]
        .iter()
        .map(|h| h.to_string())
        .collect();
    let strategy = fleetsim_sim::fleet::strategy::case(&space.space, &rollout);
    for index in 0..2 {
        let Ok(mut tree) = case_tree(&strategy, CaseId { seed: 1, index }) else {
            return;
        };
        if index == 1 {
            for _ in 0..4 {
                if !tree.simplify() {
                    break;
                }
            }
        }
        let case = tree.current();
        let sandbox = dir.path().join(format!("case-{index}"));
        let _ = std::fs::create_dir_all(&sandbox);
        fleet_run::run(&sandbox, case.fleet.apply(&model), &case.plan);
    }
});
