//! One case of a `fleetsim check` campaign: the rollout hosts, the fleet timings and the fault
//! plan one run of the playbook gets, with the run seed. Drawn by [`super::strategy::case`],
//! run by a [`super::campaign::CaseRunner`], written back as `--limit`, `--fleet`, `--faults`
//! and `--seed` for a replay.

use serde::{Deserialize, Serialize};

use super::faults::FaultPlan;
use super::model::FleetModel;

/// Everything that varies from one case to the next.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Case {
    /// The run seed (`--seed`). Never shrunk: changing it changes every random draw of the
    /// run, which is not a "smaller" case, only a different one.
    pub seed: u64,
    /// The hosts the rollout touches (`--limit`), a non-empty subset of the campaign's
    /// rollout hosts, in their order.
    pub hosts: Vec<String>,
    /// Fleet timings that differ from the scenario's `fleet.yml`.
    pub fleet: FleetParams,
    pub plan: FaultPlan,
}

impl Case {
    /// The `--limit` that selects exactly this case's hosts.
    pub fn limit(&self) -> String {
        self.hosts.join(",")
    }
}

/// Fleet parameters a case overrides; `None` keeps the scenario's value, which is what
/// shrinking tries first (the simplest case is the scenario as written).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct FleetParams {
    /// Every app's `restart_seconds`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restart_seconds: Option<f64>,
    /// `traffic.requests_per_second`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requests_per_second: Option<f64>,
}

impl FleetParams {
    /// True when the case runs the scenario's fleet unchanged (no fleet file to write).
    pub fn is_unchanged(&self) -> bool {
        self.restart_seconds.is_none() && self.requests_per_second.is_none()
    }

    /// The scenario's model with this case's parameters applied.
    pub fn apply(&self, model: &FleetModel) -> FleetModel {
        let mut out = model.clone();
        if let Some(s) = self.restart_seconds {
            for app in &mut out.apps {
                app.restart_seconds = s;
            }
        }
        if let Some(r) = self.requests_per_second {
            out.traffic.requests_per_second = r;
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fleet::model::{AppSpec, TrafficSpec};

    fn model() -> FleetModel {
        FleetModel {
            apps: vec![AppSpec {
                hosts: "web".into(),
                port_var: "web_port".into(),
                config: "/tmp/app-{host}/config.toml".into(),
                restart_seconds: 0.1,
                initial_version: "1".into(),
                unit: "app".into(),
                docroot: None,
            }],
            load_balancers: vec![],
            databases: vec![],
            traffic: TrafficSpec::default(),
            labels: Default::default(),
        }
    }

    #[test]
    fn unchanged_params_keep_the_model() {
        let p = FleetParams::default();
        assert!(p.is_unchanged());
        assert_eq!(p.apply(&model()), model());
    }

    #[test]
    fn params_override_every_app_and_the_traffic() {
        let p = FleetParams {
            restart_seconds: Some(1.5),
            requests_per_second: Some(7.0),
        };
        let m = p.apply(&model());
        assert_eq!(m.apps[0].restart_seconds, 1.5);
        assert_eq!(m.traffic.requests_per_second, 7.0);
        assert!(!p.is_unchanged());
    }

    #[test]
    fn limit_joins_the_hosts() {
        let c = Case {
            seed: 1,
            hosts: vec!["a".into(), "b".into()],
            fleet: FleetParams::default(),
            plan: FaultPlan::default(),
        };
        assert_eq!(c.limit(), "a,b");
    }
}
