//! The command line: one clap `Subcommand` enum, so new commands (`playbook`, ...) are one
//! more variant plus a module; options shared by every Ansible-like command are flattened in.

use clap::{Args, Parser, Subcommand};

/// Run real Ansible playbooks against a simulated fleet.
#[derive(Debug, Parser)]
#[command(name = "fleetsim", version, about)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Show an inventory as `ansible-inventory` does (--list, --graph [GROUP], --host HOST).
    Inventory(InventoryArgs),
    /// Print the hosts a pattern selects, as `ansible PATTERN --list-hosts` does.
    Hosts(HostsArgs),
}

/// Inventory options every Ansible command takes (`-i`, `-l`).
#[derive(Debug, Args, Clone, Default)]
pub struct InventoryOpts {
    /// Inventory source: a file, a folder, or a comma-separated host list ('a,b,'). Repeatable.
    #[arg(short = 'i', long = "inventory", value_name = "INVENTORY")]
    pub inventory: Vec<String>,
    /// Further limit selected hosts to an additional pattern (or @file, one pattern a line).
    #[arg(short = 'l', long = "limit", value_name = "SUBSET")]
    pub limit: Option<String>,
}

#[derive(Debug, Args)]
pub struct InventoryArgs {
    #[command(flatten)]
    pub opts: InventoryOpts,
    /// Output all hosts info, as an inventory script.
    #[arg(long)]
    pub list: bool,
    /// Output one host's variables.
    #[arg(long, value_name = "HOST")]
    pub host: Option<String>,
    /// Show the group tree (from GROUP, default all).
    #[arg(long)]
    pub graph: bool,
    /// Send the --list output to a file instead of the screen.
    #[arg(long, value_name = "FILE")]
    pub output: Option<String>,
    /// Group to start --graph at (default: all).
    #[arg(value_name = "GROUP")]
    pub pattern: Option<String>,
}

#[derive(Debug, Args)]
pub struct HostsArgs {
    /// Host pattern, as given to `ansible`.
    #[arg(value_name = "PATTERN")]
    pub pattern: String,
    #[command(flatten)]
    pub opts: InventoryOpts,
}
