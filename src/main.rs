//! The `fleetsim` command line: thin over the engine and sim crates.

mod cli;
mod fleet_files;
mod inventory_cmd;
mod lab;
mod playbook_cmd;

use clap::Parser;
use cli::{Cli, Command};

fn main() {
    let cli = Cli::parse();
    let code = match &cli.command {
        Command::Inventory(a) => inventory_cmd::run_inventory(a),
        Command::Hosts(a) => inventory_cmd::run_hosts(a),
        Command::Playbook(a) => playbook_cmd::run(a),
        Command::Lab(a) => lab::run(a),
    };
    std::process::exit(code);
}
