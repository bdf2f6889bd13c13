//! The simulated fleet: services (apps, load balancers, databases) that react to what
//! playbooks do to hosts, client traffic through the load balancers, faults on purpose, and
//! the rollout invariants checked over the whole run.

pub mod commands;
pub mod conf;
pub mod faults;
pub mod http;
pub mod model;
pub mod report;
