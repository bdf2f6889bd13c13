//! `fleetsim inventory` and `fleetsim hosts`: ansible-inventory and `ansible --list-hosts`,
//! with their output, warnings and exit codes.

use crate::cli::{HostsArgs, InventoryArgs, InventoryOpts};
use fleetsim_engine::inventory::output::{graph, host_json, list_json, python_json};
use fleetsim_engine::inventory::{
    DiagKind, Diagnostic, Inventory, Resolution, UNEXPECTED_INDEX_ERROR,
};
use std::io::Write;

/// Exit status Ansible uses for option errors (`AnsibleOptionsError`).
const EXIT_OPTIONS: i32 = 5;
/// Exit status for other Ansible errors.
const EXIT_ERROR: i32 = 1;
/// Exit status for an unexpected (non-Ansible) exception.
const EXIT_UNEXPECTED: i32 = 250;
/// Exit status for `AnsibleParserError` (a broken group_vars/host_vars file).
const EXIT_PARSER: i32 = 4;

/// Ansible's boolean parsing of environment settings.
pub(crate) fn env_bool(name: &str, default: bool) -> bool {
    match std::env::var(name) {
        Ok(v) => matches!(
            v.trim().to_ascii_lowercase().as_str(),
            "1" | "true" | "yes" | "on" | "y" | "t"
        ),
        Err(_) => default,
    }
}

fn error(msg: &str) {
    eprintln!("[ERROR]: {msg}");
}

/// Prints warnings the way Ansible's settings ask for; returns an error message when a
/// setting turns a warning into a failure.
pub(crate) fn report(diags: &[Diagnostic]) -> Option<String> {
    let mismatch =
        std::env::var("ANSIBLE_HOST_PATTERN_MISMATCH").unwrap_or_else(|_| "warning".into());
    let unparsed_warning = env_bool("ANSIBLE_INVENTORY_UNPARSED_WARNING", true);
    let deprecations = env_bool("ANSIBLE_DEPRECATION_WARNINGS", true);
    let mut fail = None;
    for d in diags {
        match d.kind {
            DiagKind::PatternMismatch if mismatch == "ignore" => continue,
            DiagKind::Deprecation | DiagKind::DeprecationNotice if !deprecations => continue,
            DiagKind::PatternMismatch if mismatch == "error" => {
                fail.get_or_insert_with(|| d.message.clone());
                continue;
            }
            DiagKind::NothingParsed => {
                if env_bool("ANSIBLE_INVENTORY_UNPARSED_FAILED", false) {
                    fail.get_or_insert_with(|| {
                        "No inventory was parsed, please check your configuration and options."
                            .into()
                    });
                    continue;
                }
                if !unparsed_warning {
                    continue;
                }
            }
            _ => {}
        }
        eprintln!("{d}");
    }
    fail
}

/// Loads the inventory sources (`-i`, else `ANSIBLE_INVENTORY`, else /etc/ansible/hosts) for a
/// command that reads variables (a broken group_vars/host_vars file is fatal, exit 4).
pub(crate) fn load(opts: &InventoryOpts) -> Result<Inventory, i32> {
    load_with(opts, true)
}

/// The inventory for `ansible-playbook`, which reads `group_vars`/`host_vars` on demand: a
/// file that does not load is an error only when a play needs it (the runner raises it).
pub(crate) fn load_for_playbook(opts: &InventoryOpts) -> Result<Inventory, i32> {
    load_with(opts, false)
}

/// The inventory, or the exit code; `needs_vars` makes a broken vars file fatal (as it is for
/// Ansible whenever variables are read).
fn load_with(opts: &InventoryOpts, needs_vars: bool) -> Result<Inventory, i32> {
    let sources: Vec<String> = if !opts.inventory.is_empty() {
        opts.inventory.clone()
    } else if let Ok(v) = std::env::var("ANSIBLE_INVENTORY") {
        v.split(',')
            .map(str::to_string)
            .filter(|s| !s.is_empty())
            .collect()
    } else {
        vec!["/etc/ansible/hosts".into()]
    };
    let (inv, diags, vars_error) = Inventory::load_full(&sources);
    match (needs_vars, vars_error) {
        (true, Some(e)) => {
            let _ = report(&diags);
            error(&e.to_string());
            Err(EXIT_PARSER)
        }
        (_, _) => {
            // Ansible stays quiet about its default inventory when the file is missing.
            let quiet_default =
                opts.inventory.is_empty() && !std::path::Path::new("/etc/ansible/hosts").exists();
            let shown: Vec<Diagnostic> = diags
                .into_iter()
                .filter(|d| {
                    !(quiet_default
                        && d.kind == DiagKind::SourceFailed
                        && d.message.contains("/etc/ansible/hosts"))
                })
                .collect();
            if let Some(msg) = report(&shown) {
                error(&msg);
                return Err(EXIT_ERROR);
            }
            if env_bool("ANSIBLE_INVENTORY_ANY_UNPARSED_IS_FAILED", false) {
                if let Some(d) = shown
                    .iter()
                    .find(|d| d.message.starts_with("Unable to parse "))
                {
                    let src = d
                        .message
                        .trim_start_matches("Unable to parse ")
                        .trim_end_matches(" as an inventory source");
                    error(&format!(
                        "Completely failed to parse inventory source {src}"
                    ));
                    return Err(EXIT_ERROR);
                }
            }
            Ok(inv)
        }
    }
}

fn print(text: &str) {
    let mut out = std::io::stdout().lock();
    // A closed pipe (`| head`) is not an error worth a panic.
    let _ = writeln!(out, "{text}");
}

/// `fleetsim inventory`.
pub fn run_inventory(args: &InventoryArgs) -> i32 {
    let used = [args.list, args.host.is_some(), args.graph]
        .iter()
        .filter(|b| **b)
        .count();
    if used == 0 {
        error(
            "No action selected, at least one of --host, --graph or --list needs to be specified.",
        );
        return EXIT_OPTIONS;
    }
    if used > 1 {
        error("Conflicting options used, only one of --host, --graph or --list can be used at the same time.");
        return EXIT_OPTIONS;
    }
    let mut inv = match load_with(&args.opts, args.list || args.host.is_some()) {
        Ok(i) => i,
        Err(code) => return code,
    };
    if let Some(host) = &args.host {
        return match host_json(&inv, host) {
            Some(v) => {
                print(&python_json(&v));
                0
            }
            None => {
                if let Ok(r) = inv.resolve_ignoring_limit(host) {
                    let _ = report(&r.warnings);
                }
                error("You must pass a single valid host to --host parameter");
                EXIT_OPTIONS
            }
        };
    }
    if args.opts.limit.is_some() {
        if let Err(e) = inv.set_limit(args.opts.limit.as_deref()) {
            error(&e.0);
            return EXIT_ERROR;
        }
    }
    let text = if args.graph {
        match graph(&inv, args.pattern.as_deref().unwrap_or("all")) {
            Some(t) => t,
            None => {
                error("Pattern must be valid group name when using --graph");
                return EXIT_OPTIONS;
            }
        }
    } else {
        python_json(&list_json(&inv))
    };
    std::mem::forget(inv);
    match &args.output {
        Some(path) if args.list => {
            if std::fs::write(path, text.as_bytes()).is_err() {
                error(&format!("Unable to write to destination file '{path}'."));
                return EXIT_ERROR;
            }
        }
        _ => print(&text),
    }
    0
}

/// `fleetsim hosts PATTERN`.
pub fn run_hosts(args: &HostsArgs) -> i32 {
    let mut inv = match load_with(&args.opts, false) {
        Ok(i) => i,
        Err(code) => return code,
    };
    // get_host_list: an empty inventory only leaves the implicit localhost.
    let no_hosts = inv.hosts().is_empty();
    if no_hosts
        && env_bool("ANSIBLE_LOCALHOST_WARNING", true)
        && !["localhost", "127.0.0.1", "::1"].contains(&args.pattern.as_str())
    {
        eprintln!(
            "[WARNING]: provided hosts list is empty, only localhost is available. Note that the implicit localhost does not match 'all'"
        );
    }
    if let Err(e) = inv.set_limit(args.opts.limit.as_deref()) {
        error(&e.0);
        return EXIT_ERROR;
    }
    let res = match inv.resolve(&args.pattern) {
        Ok(r) => r,
        Err(e) if e.0 == UNEXPECTED_INDEX_ERROR => {
            error(&e.0);
            return EXIT_UNEXPECTED;
        }
        // `ansible` swallows pattern errors unless a limit is set (adhoc.py's get_host_list).
        Err(e) if args.opts.limit.is_some() => {
            error(&e.0);
            return EXIT_ERROR;
        }
        Err(_) => Resolution::default(),
    };
    if let Some(msg) = report(&res.warnings) {
        error(&msg);
        return EXIT_ERROR;
    }
    if res.hosts.is_empty() && !no_hosts {
        if args.opts.limit.is_some() {
            error("Specified inventory, host pattern and/or --limit leaves us with no hosts to target.");
            return EXIT_ERROR;
        }
        eprintln!("[WARNING]: No hosts matched, nothing to do");
    }
    // The process ends right after printing: skip tearing down a large inventory.
    std::mem::forget(inv);
    let mut text = format!("  hosts ({}):", res.hosts.len());
    for h in &res.hosts {
        text.push_str("\n    ");
        text.push_str(h);
    }
    print(&text);
    0
}
