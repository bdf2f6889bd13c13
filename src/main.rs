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

fn main() {
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
