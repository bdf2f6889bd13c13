//! The fleet replays an answer through a load balancer when everything it depends on
//! repeats (`Fleet::through_lb`); these runs check that this changes nothing: with replay
//! on and off, the lab's rollouts under its fault plans print the same output and give
//! the same report, byte for byte. The runs follow one another in one process, so the
//! later ones also replay answers the fleets of earlier runs got (the answers every fleet of a
//! process shares).

use std::path::{Path, PathBuf};

use fleetsim_engine::exec::{templar_for, RunOptions, Runner};
use fleetsim_engine::inventory::Inventory;
use fleetsim_engine::output::Display;
use fleetsim_engine::yaml::load_typed;
use fleetsim_sim::fleet::faults::FaultPlan;
use fleetsim_sim::fleet::model::FleetModel;

const LIMIT: &str = "web_servers_prod[0:1],api_servers_prod[0]";

fn lab(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("scenarios/lab-8.2")
        .join(rel)
}

/// Runs `playbook` on the lab's fleet with `faults`, at 50 requests per virtual second per
/// LB so that most answers are replays; returns the output and the report as JSON.
fn run(playbook: &str, faults: &str, replay: bool) -> (String, String) {
    let sandbox = tempfile::tempdir().unwrap();
    let inventory_path = lab("inventory.ini").display().to_string();
    let (mut inventory, _, error) = Inventory::load_full(std::slice::from_ref(&inventory_path));
    assert!(error.is_none(), "{error:?}");
    inventory.set_limit(Some(LIMIT)).unwrap();
    let opts = RunOptions {
        inventory: vec![inventory_path],
        limit: Some(LIMIT.into()),
        forks: 5,
        sandbox: sandbox.path().to_path_buf(),
        seed: 7,
        start_time: 1_767_225_600.0,
        ..RunOptions::default()
    };
    let templating = templar_for(&opts);
    let mut runner = Runner::new(opts, inventory, Display::capture(0), templating);
    let mut model = load_typed::<FleetModel>(&lab("fleet.yml"), "fleet model").unwrap();
    model.traffic.requests_per_second = 50.0;
    let plan = load_typed::<FaultPlan>(&lab(faults), "fault plan").unwrap();
    runner.attach_fleet(model, &plan).unwrap();
    runner.world.with_fleet(|f| f.set_replay_answers(replay));
    runner.run_playbooks(&[lab(playbook)]);
    let report = runner.fleet_report.take().expect("a fleet report");
    (
        runner.display.captured(),
        serde_json::to_string_pretty(&report).unwrap(),
    )
}

#[test]
fn replaying_answers_changes_nothing() {
    let mut failed_requests_seen = false;
    for playbook in [
        "playbooks/corrected/lb-orchestration.yml",
        "playbooks/hardened/lb-orchestration.yml",
    ] {
        for faults in [
            "faults/slow-restart.yml",
            "faults/unhealthy-after-deploy.yml",
            "faults/lb-unreachable.yml",
            "faults/never-healthy.yml",
        ] {
            let replayed = run(playbook, faults, true);
            let sent = run(playbook, faults, false);
            assert_eq!(replayed.0, sent.0, "{playbook} with {faults}: output");
            assert_eq!(replayed.1, sent.1, "{playbook} with {faults}: report");
            let report: serde_json::Value = serde_json::from_str(&replayed.1).unwrap();
            failed_requests_seen |= report["traffic"]["failed"].as_u64().unwrap_or(0) > 1;
        }
    }
    // The comparison means something only if some answers were failures, not all 200s.
    assert!(failed_requests_seen, "no run had failed client requests");
}
