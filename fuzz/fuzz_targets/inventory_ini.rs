//! The INI inventory parser, then the group reconciliation every load ends with.
#![no_main]

use fleetsim_engine::inventory::{ini, model::InventoryData};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = ini::decode(data) else {
        return;
    };
    let mut inv = InventoryData::new();
    if ini::parse(&mut inv, &text).is_ok() {
        inv.reconcile();
    }
});
