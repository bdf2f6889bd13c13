//! The YAML loader (`fleetsim_engine::yaml::load`): any text either loads or is an error
//! with a line and column; converting the tree to JSON never panics either.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match fleetsim_engine::yaml::load(text, Path::new("fuzz.yml")) {
        Ok(node) => {
            let _ = node.to_value();
        }
        Err(e) => {
            let _ = e.headline();
        }
    }
});
