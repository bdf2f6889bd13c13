//! A small fleet run shared by the fleet_file and fault_plan targets: Lab 8.2's inventory,
//! a short rolling update of the production web tier (drain, deploy, health check, return),
//! and the fleet and fault plan under test, run through the engine on the virtual clock to
//! the fleet's report. Parsing alone never reaches the fleet's construction, its services,
//! the injector or the invariant checks, where a model or plan that parses can still break.

use std::path::Path;

use fleetsim_engine::exec::{templar_for, RunOptions, Runner};
use fleetsim_engine::inventory::Inventory;
use fleetsim_engine::output::Display;
use fleetsim_sim::fleet::faults::FaultPlan;
use fleetsim_sim::fleet::model::FleetModel;

pub const INVENTORY: &str = include_str!("../../../scenarios/lab-8.2/inventory.ini");
pub const FLEET: &str = include_str!("../../../scenarios/lab-8.2/fleet.yml");

const PLAYBOOK: &str = r#"
- hosts: web_servers_prod
  gather_facts: false
  serial: 1
  tasks:
    - name: drain
      copy:
        dest: "/tmp/lb-lb-prod-01/draining/{{ inventory_hostname }}"
        content: "server {{ inventory_hostname }}\n"
      delegate_to: lb-prod-01
    - file: {path: "/tmp/app-{{ inventory_hostname }}", state: directory}
    - copy:
        dest: "/tmp/app-{{ inventory_hostname }}/config.toml"
        content: "version = \"2.0\"\n"
    - uri: {url: "http://localhost:{{ web_port }}/health"}
      register: health
      until: health.status == 200
      retries: 5
      delay: 2
      ignore_errors: true
    - name: return
      file: {path: "/tmp/lb-lb-prod-01/draining/{{ inventory_hostname }}", state: absent}
      delegate_to: lb-prod-01
"#;

/// Loads `kind` ("fleet model", "fault plan") from `text` as the CLI loads its file.
pub fn load<T: serde::de::DeserializeOwned>(
    dir: &Path,
    text: &[u8],
    kind: &str,
) -> Option<T> {
    let path = dir.join("input.yml");
    std::fs::write(&path, text).ok()?;
    fleetsim_engine::yaml::load_typed::<T>(&path, kind).ok()
}

/// Runs the rolling update with `model` and `plan` in a sandbox under `dir`; every outcome
/// (a model the fleet refuses, a failed host, a broken invariant) is fine, only a panic or
/// a hang is a finding.
pub fn run(dir: &Path, model: FleetModel, plan: &FaultPlan) {
    let inventory_path = dir.join("inventory.ini");
    let playbook_path = dir.join("rolling.yml");
    if std::fs::write(&inventory_path, INVENTORY).is_err()
        || std::fs::write(&playbook_path, PLAYBOOK).is_err()
    {
        return;
    }
    let Ok((inventory, _)) = Inventory::load(&[&inventory_path]) else {
        return;
    };
    let opts = RunOptions {
        inventory: vec![inventory_path.display().to_string()],
        forks: 5,
        sandbox: dir.join("sandbox"),
        seed: 7,
        start_time: 1_700_000_000.0,
        // A plan may hold a host down for a year: the run stops at an hour of virtual time.
        max_virtual_time: Some(3600.0),
        ..RunOptions::default()
    };
    let templating = templar_for(&opts);
    let mut runner = Runner::new(opts, inventory, Display::capture(0), templating);
    if runner.attach_fleet(model, plan).is_err() {
        return;
    }
    runner.run_playbooks(&[playbook_path]);
    if let Some(report) = runner.fleet_report.take() {
        let _ = serde_json::to_string(&report);
        let _ = report.holds();
    }
}
