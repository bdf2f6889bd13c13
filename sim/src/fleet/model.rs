//! The fleet model (`fleet.yml`): which host groups run which service, on which port
//! variable, bound to which files, with which timings, and the client traffic through the
//! load balancers. Plain data, deserialized by the binary from YAML (with spans for errors).

use serde::{Deserialize, Serialize};

/// A whole `fleet.yml`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FleetModel {
    /// HTTP applications with a health endpoint.
    #[serde(default)]
    pub apps: Vec<AppSpec>,
    /// Load balancers, each with a pool read from its `active/` and `draining/` folders.
    #[serde(default)]
    pub load_balancers: Vec<LbSpec>,
    /// Primary/replica databases.
    #[serde(default)]
    pub databases: Vec<DbSpec>,
    /// Client traffic sent through every load balancer while playbooks run.
    #[serde(default)]
    pub traffic: TrafficSpec,
    /// Host variables that name a host's environment and tier (`environment_isolation`).
    #[serde(default)]
    pub labels: LabelVars,
}

/// `apps:` entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AppSpec {
    /// Host pattern of the hosts running this app (an inventory group, usually).
    pub hosts: String,
    /// Host variable holding the port the app listens on.
    pub port_var: String,
    /// The config file; `{host}` is the inventory hostname. Writing it restarts the app with
    /// the `version = "..."` it names.
    pub config: String,
    /// Virtual seconds an app is down (503 on /health, refusing `/`) while restarting.
    #[serde(default = "default_restart_seconds")]
    pub restart_seconds: f64,
    /// Version every app runs before the first play.
    #[serde(default = "default_version")]
    pub initial_version: String,
    /// A service name for `systemctl` (default `app`).
    #[serde(default = "default_app_unit")]
    pub unit: String,
    /// A folder on the app's host whose files the app serves over HTTP (`GET /rel/app.tar.gz`
    /// answers `DOCROOT/rel/app.tar.gz`), as an artifact or static-file server: what
    /// `get_url` and `unarchive` download from. None: the app answers only `/` and `/health`.
    #[serde(default)]
    pub docroot: Option<String>,
}

/// `load_balancers:` entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LbSpec {
    /// Host pattern of the load balancer hosts.
    pub hosts: String,
    pub port_var: String,
    /// Folder holding `active/` and `draining/`; `{host}` is the LB's inventory hostname.
    pub pool_dir: String,
    /// Host pattern of the backends placed in `active/` before the first play.
    pub backends: String,
    /// The environment and tier this LB serves (`environment_isolation`).
    pub environment: String,
    pub tier: String,
    /// How many of the pool's backends may be out of rotation at once (`capacity_floor`).
    #[serde(default = "default_max_unavailable")]
    pub max_unavailable: usize,
    /// Active health checking by the LB itself: off unless set.
    #[serde(default)]
    pub health_check: Option<LbHealthCheck>,
    /// A service name for `systemctl` (default `lb`).
    #[serde(default = "default_lb_unit")]
    pub unit: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LbHealthCheck {
    /// Virtual seconds between two checks of each backend.
    pub interval: f64,
    #[serde(default = "default_health_path")]
    pub path: String,
}

/// `databases:` entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DbSpec {
    pub hosts: String,
    pub port_var: String,
    /// Host variable saying `primary` or `replica`.
    pub role_var: String,
    /// A replica's replication config (`primary_host`/`primary_port` or `connection_string`).
    pub replication_config: String,
    /// Folder where the playbook writes backups (recorded in the report's events).
    #[serde(default)]
    pub backups: Option<String>,
    /// Writes per virtual second on each primary.
    #[serde(default = "default_write_rate")]
    pub writes_per_second: f64,
    /// Seconds a replica trails its primary when healthy.
    #[serde(default = "default_replica_lag")]
    pub replica_lag: f64,
    /// A replica trailing by more than this at the end of the run breaks
    /// `replication_healthy`.
    #[serde(default = "default_max_lag")]
    pub max_lag: f64,
    #[serde(default = "default_db_unit")]
    pub unit: String,
}

/// `traffic:`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrafficSpec {
    /// Requests per virtual second through each load balancer.
    #[serde(default = "default_rps")]
    pub requests_per_second: f64,
    /// A request unanswered after this many virtual seconds has failed.
    #[serde(default = "default_timeout")]
    pub timeout: f64,
    #[serde(default = "default_traffic_path")]
    pub path: String,
}

impl Default for TrafficSpec {
    fn default() -> Self {
        TrafficSpec {
            requests_per_second: default_rps(),
            timeout: default_timeout(),
            path: default_traffic_path(),
        }
    }
}

/// `labels:`: the host variables naming environment and tier.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LabelVars {
    #[serde(default = "default_env_var")]
    pub environment: String,
    #[serde(default = "default_tier_var")]
    pub tier: String,
}

impl Default for LabelVars {
    fn default() -> Self {
        LabelVars {
            environment: default_env_var(),
            tier: default_tier_var(),
        }
    }
}

fn default_restart_seconds() -> f64 {
    0.1
}
fn default_version() -> String {
    "1".into()
}
fn default_app_unit() -> String {
    "app".into()
}
fn default_lb_unit() -> String {
    "lb".into()
}
fn default_db_unit() -> String {
    "db".into()
}
fn default_max_unavailable() -> usize {
    1
}
fn default_health_path() -> String {
    "/health".into()
}
fn default_write_rate() -> f64 {
    5.0
}
fn default_replica_lag() -> f64 {
    0.5
}
fn default_max_lag() -> f64 {
    5.0
}
fn default_rps() -> f64 {
    10.0
}
fn default_timeout() -> f64 {
    2.0
}
fn default_traffic_path() -> String {
    "/".into()
}
fn default_env_var() -> String {
    "app_env".into()
}
fn default_tier_var() -> String {
    "tier".into()
}

/// Replaces `{host}` in a path template.
pub fn host_path(template: &str, host: &str) -> String {
    template.replace("{host}", host)
}
