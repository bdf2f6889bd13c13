//! `fleetsim check`'s space file: the binary's own loader (included from src/check), serde
//! into a fault space and the space's checks, every error mapped to a line and column.
#![no_main]

#[allow(dead_code)]
#[path = "../../src/check/space_file.rs"]
mod space_file;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("space.yml");
    std::fs::write(&path, data).unwrap();
    if let Err(e) = space_file::load(&path) {
        let _ = e.to_string();
    }
});
