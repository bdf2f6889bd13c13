//! fleetsim-engine: Ansible's semantics, as ansible-core 2.19 has them, over fleetsim's simulated hosts.
//!
//! The folders follow the pipeline a playbook run takes: `yaml` (loading with spans),
//! `inventory` (sources, groups, variables, host patterns), `template` (Jinja as Ansible
//! configures it), then the playbook loader, the executor, the modules and the output.

pub mod config;
pub mod diag;
pub mod exec;
pub mod inventory;
pub mod modules;
pub mod output;
pub mod panic_guard;
pub mod playbook;
pub mod project;
pub mod pyre;
pub mod template;
pub mod vault;
pub mod yaml;
