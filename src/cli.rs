//! The command line: one clap `Subcommand` enum, so new commands (`playbook`, ...) are one
//! more variant plus a module; options shared by every Ansible-like command are flattened in.

use clap::{Args, Parser, Subcommand};

/// `fleetsim --version`: fleetsim's own version and the ansible-core release it mimics
/// (`fleetsim_engine::ANSIBLE_CORE_VERSION`; a test keeps the two equal).
pub const VERSION: &str = concat!(env!("CARGO_PKG_VERSION"), " (ansible-core 2.19.14)");

/// Run real Ansible playbooks against a simulated fleet.
#[derive(Debug, Parser)]
#[command(name = "fleetsim", version = VERSION, about)]
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
    /// Run playbooks against the simulated fleet, as `ansible-playbook` runs them.
    Playbook(Box<PlaybookArgs>),
    /// Run a lab's steps (SCENARIO/lab.yml) on one simulated fleet, as a student would.
    Lab(crate::lab::LabArgs),
    /// Check a rollout against many generated fault plans; shrink a failure to a minimal one.
    /// `fleetsim check merge DIR...` combines the results of a campaign's shards.
    Check(Box<CheckCmd>),
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

/// Pictures and CI files of a run, written when it ends (see `crate::report`).
#[derive(Debug, Args, Clone, Default)]
pub struct ReportOpts {
    /// Write a self-contained HTML timeline of the run (hosts, tasks, app states, pools,
    /// traffic, faults, invariant violations) to FILE.
    #[arg(long = "html", value_name = "FILE")]
    pub html: Option<std::path::PathBuf>,
    /// Write the run as Chrome trace-event JSON (ui.perfetto.dev, chrome://tracing) to FILE.
    #[arg(long = "trace", value_name = "FILE")]
    pub trace: Option<std::path::PathBuf>,
    /// Write JUnit XML to FILE (a test case per host and task, and per fleet invariant).
    #[arg(long = "junit", value_name = "FILE")]
    pub junit: Option<std::path::PathBuf>,
}

impl ReportOpts {
    pub fn any(&self) -> bool {
        self.html.is_some() || self.trace.is_some() || self.junit.is_some()
    }
}

/// `fleetsim playbook`: ansible-playbook's options plus fleetsim's own.
#[derive(Debug, Args)]
pub struct PlaybookArgs {
    #[command(flatten)]
    pub opts: InventoryOpts,
    /// Extra variables: `key=value ...`, JSON or YAML text, or `@FILE`. Repeatable.
    #[arg(short = 'e', long = "extra-vars", value_name = "EXTRA_VARS")]
    pub extra_vars: Vec<String>,
    /// Only run plays and tasks tagged with these values.
    #[arg(short = 't', long = "tags", value_name = "TAGS")]
    pub tags: Vec<String>,
    /// Only run plays and tasks whose tags do not match these values.
    #[arg(long = "skip-tags", value_name = "SKIP_TAGS")]
    pub skip_tags: Vec<String>,
    /// Don't make any changes; predict some of the changes that may occur.
    #[arg(short = 'C', long = "check")]
    pub check: bool,
    /// Show the differences in files and templates that change.
    #[arg(short = 'D', long = "diff")]
    pub diff: bool,
    /// Number of parallel processes (results print in inventory order whatever it is).
    #[arg(short = 'f', long = "forks", default_value_t = 5)]
    pub forks: usize,
    /// More output (-v, -vv, -vvv...).
    #[arg(short = 'v', long = "verbose", action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// Outputs a list of matching hosts; does not execute anything else.
    #[arg(long = "list-hosts")]
    pub list_hosts: bool,
    /// List all tasks that would be executed.
    #[arg(long = "list-tasks")]
    pub list_tasks: bool,
    /// List all available tags.
    #[arg(long = "list-tags")]
    pub list_tags: bool,
    /// Perform a syntax check on the playbook, but do not execute it.
    #[arg(long = "syntax-check")]
    pub syntax_check: bool,
    /// Start the playbook at the task matching this name.
    #[arg(long = "start-at-task", value_name = "TASK")]
    pub start_at_task: Option<String>,
    /// Run handlers even if a task fails.
    #[arg(long = "force-handlers")]
    pub force_handlers: bool,
    /// A file holding a vault password (its text, whitespace stripped). Repeatable.
    #[arg(
        long = "vault-password-file",
        visible_alias = "vault-pass-file",
        value_name = "FILE"
    )]
    pub vault_password_files: Vec<std::path::PathBuf>,
    /// A vault identity: `LABEL@FILE` or `FILE` (the label `default`). Repeatable.
    #[arg(long = "vault-id", value_name = "VAULT_ID")]
    pub vault_ids: Vec<String>,
    /// Ask for the vault password (refused: a simulation run never prompts).
    #[arg(
        short = 'J',
        long = "ask-vault-password",
        visible_alias = "ask-vault-pass"
    )]
    pub ask_vault_password: bool,
    /// Clear the fact cache for every host in inventory (every run starts with an empty
    /// cache here, as with Ansible's default memory cache, so there is nothing to clear).
    #[arg(long = "flush-cache")]
    pub flush_cache: bool,
    /// Accepted for compatibility; the simulation has no privilege escalation to do.
    #[arg(short = 'b', long = "become")]
    pub r#become: bool,
    /// Accepted for compatibility (connection type).
    #[arg(short = 'c', long = "connection", value_name = "CONNECTION")]
    pub connection: Option<String>,
    /// Accepted for compatibility (remote user).
    #[arg(short = 'u', long = "user", value_name = "REMOTE_USER")]
    pub user: Option<String>,
    /// Keep every simulated host's files under DIR/hosts/HOST (default: a temporary folder
    /// removed at exit, under /dev/shm when the machine has it, else the system's).
    #[arg(long, value_name = "DIR")]
    pub sandbox: Option<std::path::PathBuf>,
    /// Seed of every random draw (default: random, and printed so the run can be replayed).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Virtual clock start, RFC 3339 (default: now, printed so the run can be replayed).
    #[arg(long = "start-time", value_name = "RFC3339")]
    pub start_time: Option<String>,
    /// Environment variable of the simulated controller (`lookup('env')`). Repeatable.
    #[arg(long = "env", value_name = "NAME=VALUE")]
    pub env: Vec<String>,
    /// A folder the run may read besides the folders of the playbooks and inventories and
    /// the roles paths (every other controller read is refused). Repeatable.
    #[arg(long = "project-root", value_name = "DIR")]
    pub project_roots: Vec<std::path::PathBuf>,
    /// The virtual seconds the run may span (default 2592000, thirty days): a run past it
    /// stops after the task that crossed it, with exit status 2.
    #[arg(long = "max-virtual-time", value_name = "SECONDS")]
    pub max_virtual_time: Option<f64>,
    /// Write the run's event log to FILE, one JSON object a line (virtual times).
    #[arg(long = "events", value_name = "FILE")]
    pub events: Option<std::path::PathBuf>,
    #[command(flatten)]
    pub reports: ReportOpts,
    /// The fleet model: services on the hosts, their files and timings, client traffic.
    /// With it, invariants are checked and a FLEET REPORT follows the recap.
    #[arg(long, value_name = "FLEET.yml")]
    pub fleet: Option<std::path::PathBuf>,
    /// Faults to inject (needs --fleet).
    #[arg(long, value_name = "PLAN.yml", requires = "fleet")]
    pub faults: Option<std::path::PathBuf>,
    /// Write the fleet report as JSON to FILE (needs --fleet).
    #[arg(long, value_name = "FILE.json", requires = "fleet")]
    pub report: Option<std::path::PathBuf>,
    /// Show ansible-playbook's version lines (the ansible-core release fleetsim mimics) and exit.
    #[arg(long = "version")]
    pub version: bool,
    /// Playbooks to run, in order.
    #[arg(value_name = "PLAYBOOK", required_unless_present = "version")]
    pub playbooks: Vec<std::path::PathBuf>,
}

/// `fleetsim check SCENARIO ...` (a campaign) or `fleetsim check merge DIR...`.
#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub struct CheckCmd {
    #[command(subcommand)]
    pub action: Option<CheckAction>,
    // Not an `Option`: clap's derive leaves a flattened `Option` of these arguments empty
    // even when they are given; the two required ones are options instead.
    #[command(flatten)]
    pub campaign: CheckArgs,
}

#[derive(Debug, Subcommand)]
pub enum CheckAction {
    /// Combine the results of a campaign's shards (each `--out` folder, or the result files
    /// themselves) into the whole campaign's summary, counterexample and exit status.
    Merge(MergeArgs),
}

/// `fleetsim check merge`.
#[derive(Debug, Args)]
pub struct MergeArgs {
    /// The shards' `--out` folders (their `result-shard-I-of-N.json` files are read), or
    /// result files. Every shard of the campaign must be among them.
    #[arg(value_name = "DIR", required = true)]
    pub inputs: Vec<std::path::PathBuf>,
    /// Where the merged result, the counterexample and regressions.txt go.
    #[arg(long, value_name = "DIR", default_value = "fleetsim-check")]
    pub out: std::path::PathBuf,
    /// `--junit`: a test case per invariant; `--html`, `--trace`: the counterexample's run
    /// (and the baseline's when it breaks something), replayed to draw it.
    #[command(flatten)]
    pub reports: ReportOpts,
}

/// `fleetsim check`: a property-based campaign of one playbook over a scenario.
#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Scenario folder: inventory.ini, fleet.yml and (optional) space.yml.
    #[arg(value_name = "SCENARIO", required = true)]
    pub scenario: Option<std::path::PathBuf>,
    /// The playbook to check.
    #[arg(long, value_name = "PLAYBOOK", required = true)]
    pub playbook: Option<std::path::PathBuf>,
    /// `-i` overrides SCENARIO/inventory.ini; `-l` limits the hosts a case may roll out to.
    #[command(flatten)]
    pub opts: InventoryOpts,
    /// Extra variables, as for `fleetsim playbook`. Repeatable.
    #[arg(short = 'e', long = "extra-vars", value_name = "EXTRA_VARS")]
    pub extra_vars: Vec<String>,
    /// Only run plays and tasks tagged with these values.
    #[arg(short = 't', long = "tags", value_name = "TAGS")]
    pub tags: Vec<String>,
    /// Only run plays and tasks whose tags do not match these values.
    #[arg(long = "skip-tags", value_name = "SKIP_TAGS")]
    pub skip_tags: Vec<String>,
    /// The fleet model (default: SCENARIO/fleet.yml).
    #[arg(long, value_name = "FLEET")]
    pub fleet: Option<std::path::PathBuf>,
    /// How many cases to draw.
    #[arg(long, value_name = "N", default_value_t = 100)]
    pub cases: u64,
    /// Campaign seed (default: random, and printed so the campaign can be replayed).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Fault space (default: SCENARIO/space.yml if there is one, else the built-in space).
    #[arg(long, value_name = "SPACE")]
    pub space: Option<std::path::PathBuf>,
    /// Threads running cases (default: the number of cores). Results do not depend on it.
    #[arg(long, value_name = "N")]
    pub jobs: Option<usize>,
    /// Run only shard I of N (cases whose index is I-1 modulo N); the shards of a campaign
    /// together run exactly the whole campaign, and `fleetsim check merge` combines their
    /// results. `auto` takes I and N from the CI's environment (GitLab `parallel:`:
    /// CI_NODE_INDEX, CI_NODE_TOTAL); `auto/N` takes I from it (a Kubernetes Indexed Job's
    /// JOB_COMPLETION_INDEX, N its completions).
    #[arg(long, value_name = "I/N")]
    pub shard: Option<String>,
    /// Where the campaign's result (result.json, or result-shard-I-of-N.json for a shard),
    /// counterexamples and the saved failing cases (regressions.txt) go.
    #[arg(long, value_name = "DIR", default_value = "fleetsim-check")]
    pub out: std::path::PathBuf,
    /// Virtual clock start of every case, RFC 3339 (fixed by default so that a campaign is a
    /// function of its seed).
    #[arg(
        long = "start-time",
        value_name = "RFC3339",
        default_value = "2026-01-01T00:00:00Z"
    )]
    pub start_time: String,
    /// Cases the shrinker may run before settling for the smallest failure so far.
    #[arg(long = "max-shrink-runs", value_name = "N", default_value_t = 1000)]
    pub max_shrink_runs: u32,
    /// Where the cases' throwaway sandboxes are made (each removed when its case ends): by
    /// default /dev/shm, a filesystem in memory, when the machine has one, else the system's
    /// temporary folder.
    #[arg(long, value_name = "DIR")]
    pub scratch: Option<std::path::PathBuf>,
    /// `--junit`: a test case per invariant (failing with the counterexample and its replay
    /// command); `--html`, `--trace`: the counterexample's run (and the baseline's when it
    /// breaks something), replayed to draw it.
    #[command(flatten)]
    pub reports: ReportOpts,
}

#[cfg(test)]
mod tests {
    #[test]
    fn version_names_the_mimicked_ansible_core() {
        assert!(super::VERSION.ends_with(&format!(
            "(ansible-core {})",
            fleetsim_engine::ANSIBLE_CORE_VERSION
        )));
    }
}
