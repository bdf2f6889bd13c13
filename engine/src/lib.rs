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
pub mod surrogate;
pub mod template;
pub mod vault;
pub mod yaml;

/// The ansible-core release whose behaviour fleetsim mimics: `ansible_version` and
/// `fleetsim playbook --version` report it.
pub const ANSIBLE_CORE_VERSION: &str = "2.19.14";

/// [`ANSIBLE_CORE_VERSION`] as the `ansible_version` magic variable holds it.
pub fn ansible_version_var() -> serde_json::Value {
    let numbers: Vec<u64> = ANSIBLE_CORE_VERSION
        .split('.')
        .map(|n| n.parse().unwrap_or(0))
        .collect();
    serde_json::json!({
        "full": ANSIBLE_CORE_VERSION,
        "major": numbers[0],
        "minor": numbers[1],
        "revision": numbers[2],
        "string": ANSIBLE_CORE_VERSION,
    })
}

#[cfg(test)]
mod version_tests {
    #[test]
    fn ansible_version_has_every_part_of_the_mimicked_release() {
        assert_eq!(
            super::ansible_version_var(),
            serde_json::json!({"full": "2.19.14", "major": 2, "minor": 19, "revision": 14, "string": "2.19.14"})
        );
    }
}
