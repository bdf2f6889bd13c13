//! The in-process shell: parse and run a script in a fresh temporary sandbox (its step
//! budget ends runaway loops); nothing may be written outside it.
#![no_main]

use fleetsim_sim::fs::Sandbox;
use fleetsim_sim::shell::{self, ShellContext};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(script) = std::str::from_utf8(data) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let Ok(sb) = Sandbox::new(dir.path(), "fuzzhost") else {
        return;
    };
    let mut ctx = ShellContext::new(sb, 1);
    ctx.hostname = "fuzzhost".into();
    let _ = shell::run(script, &mut ctx);
});
