//! The `fleetsim` command line: thin over the engine and sim crates.

mod check;
mod cli;
mod fleet_files;
mod interrupt;
mod inventory_cmd;
mod lab;
mod playbook_cmd;
mod report;

use clap::Parser;
use cli::{Cli, Command};

/// A campaign allocates and frees small strings and maps by the million (variables, template
/// contexts, HTTP messages); mimalloc's thread-local free lists serve that pattern much faster
/// than the system allocator, and keep `--jobs` threads from contending for one heap.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

extern "C" {
    /// mimalloc's C API, linked in with the allocator.
    fn mi_option_set(option: std::ffi::c_int, value: std::ffi::c_long);
}

/// `mi_option_purge_delay` in mimalloc.h's `mi_option_e` (the same in its v2 and v3).
const MI_OPTION_PURGE_DELAY: std::ffi::c_int = 15;

fn main() {
    // mimalloc hands freed memory back to the OS after 10 ms by default; a run that frees
    // and allocates again all along (the fleet's events and pool reloads) then takes every
    // page fault again, and with transparent huge pages the kernel zeroes 2 MiB each time:
    // a third of a 10,000-app fleet rollout's CPU went to that. The memory is kept for the
    // process instead (its peak is the same). MIMALLOC_PURGE_DELAY, if set, still decides.
    if std::env::var_os("MIMALLOC_PURGE_DELAY").is_none() {
        // SAFETY: a plain setter of mimalloc's option table, called before any thread starts.
        unsafe { mi_option_set(MI_OPTION_PURGE_DELAY, -1) };
    }
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            // `fleetsim check` documents exit 5 for bad options; the Ansible-like commands
            // keep clap's 2, which is what ansible-playbook's argparse exits with.
            let is_check = std::env::args().nth(1).as_deref() == Some("check");
            if is_check && e.use_stderr() {
                let _ = e.print();
                std::process::exit(fleetsim_engine::exec::exit::BAD_OPTIONS);
            }
            e.exit()
        }
    };
    let code = match &cli.command {
        Command::Inventory(a) => inventory_cmd::run_inventory(a),
        Command::Hosts(a) => inventory_cmd::run_hosts(a),
        Command::Playbook(a) => playbook_cmd::run(a),
        Command::Lab(a) => lab::run(a),
        Command::Check(a) => check::run_command(a),
    };
    interrupt::exit(code);
}
