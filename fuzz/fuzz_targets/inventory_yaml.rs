//! The YAML inventory source: loaded by the YAML loader, then read as groups and hosts.
#![no_main]

use std::path::Path;

use fleetsim_engine::inventory::{model::InventoryData, yaml_source};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(doc) = fleetsim_engine::yaml::load(text, Path::new("inventory.yml")) else {
        return;
    };
    let mut inv = InventoryData::new();
    if yaml_source::parse(&mut inv, &doc).is_ok() {
        inv.reconcile();
    }
});
