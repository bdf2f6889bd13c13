//! `fleetsim playbook`: ansible-playbook against the simulated fleet. Parses the options,
//! sets up the sandbox, seed and virtual start time (printed on stderr so any run can be
//! replayed), and hands over to the engine's runner.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use serde_json::{Map, Value};

use fleetsim_engine::exec::{exit, RunOptions, Runner};
use fleetsim_engine::output::Display;
use fleetsim_sim::fleet::Fleet;

use crate::cli::PlaybookArgs;
use crate::report::RunRecord;

/// Parses one `-e` argument as ansible-playbook does: `@file` (YAML/JSON), a JSON or YAML
/// mapping, or `key=value` pairs (values stay strings).
pub fn parse_extra_vars(arg: &str) -> Result<Map<String, Value>, String> {
    let arg = arg.trim();
    if let Some(file) = arg.strip_prefix('@') {
        // Outside the project (or missing): ansible-core's message for a file it cannot read.
        let Some(path) = fleetsim_engine::project::readable_file(std::path::Path::new(file)) else {
            return Err(format!(
                "Unable to retrieve file contents.\nCould not find or access '{file}' on the Ansible Controller.\nIf you are using a module and expect the file to exist on the remote, see the remote_src option: [Errno 2] No such file or directory: '{file}'\n"
            ));
        };
        let node = fleetsim_engine::yaml::load_file(&path).map_err(|e| e.headline())?;
        return match node.to_value() {
            Value::Object(m) => Ok(m),
            Value::Null => Ok(Map::new()),
            _ => Err(format!(
                "Invalid extra vars data supplied. '{arg}' could not be made into a dictionary"
            )),
        };
    }
    if arg.starts_with('{') || arg.starts_with('[') {
        let node = fleetsim_engine::yaml::load(arg, std::path::Path::new("<extra vars>"))
            .map_err(|e| e.headline())?;
        return match node.to_value() {
            Value::Object(m) => Ok(m),
            _ => Err(format!(
                "Invalid extra vars data supplied. '{arg}' could not be made into a dictionary"
            )),
        };
    }
    let kv = fleetsim_engine::playbook::kv::parse_kv(arg, false);
    if kv.contains_key("_raw_params") {
        return Err(format!(
            "Invalid extra vars data supplied. '{arg}' could not be made into a dictionary"
        ));
    }
    Ok(kv)
}

/// A seed when none is given: from the OS clock's nanoseconds (outside the simulation, and
/// printed so the run can be replayed).
pub(crate) fn fresh_seed() -> u64 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    fleetsim_sim::rng::fnv1a(&nanos.to_le_bytes()) % 1_000_000_000
}

/// What the steps of a lab share: one fleet, and a clock that goes on from step to step.
#[derive(Default)]
pub struct Session {
    pub fleet: Option<Arc<Mutex<Fleet>>>,
    /// Where the next step's virtual clock starts (the previous step's end).
    pub next_start: Option<f64>,
    /// When set, each run is recorded here (a lab draws its steps on one page).
    pub records: Option<Vec<RunRecord>>,
    /// The command line that replays the next run, when it is not this process's own.
    pub replay: Option<String>,
    /// Print nothing (a run made only to draw it, as `fleetsim check --html` replays its
    /// counterexample).
    pub quiet: bool,
}

pub fn run(a: &PlaybookArgs) -> i32 {
    run_in(a, &mut Session::default())
}

/// `fleetsim playbook --version`: ansible-playbook's first line (`ansible-playbook [core
/// 2.19.14]`, which scripts grep for) with fleetsim's own version, the configuration file
/// (fleetsim reads only `ANSIBLE_*` variables, never an ansible.cfg) and the executable.
fn version_text() -> String {
    let exe = std::env::current_exe()
        .map(|p| p.display().to_string())
        .unwrap_or_else(|_| "fleetsim".into());
    format!(
        "ansible-playbook [core {}] (fleetsim {})\n  config file = None\n  executable location = {exe}\n",
        fleetsim_engine::ANSIBLE_CORE_VERSION,
        env!("CARGO_PKG_VERSION")
    )
}

/// Runs one `fleetsim playbook` command, within a lab's session (or a fresh one).
pub fn run_in(a: &PlaybookArgs, session: &mut Session) -> i32 {
    if a.version {
        print!("{}", version_text());
        return 0;
    }
    confine_project(&a.playbooks, &a.opts.inventory, &a.project_roots);
    let code = run_confined(a, session);
    for path in fleetsim_engine::project::take_refused() {
        eprintln!(
            "fleetsim: hint: {}",
            fleetsim_engine::project::hint_for(&path)
        );
    }
    code
}

/// Confines the run's controller reads to the project (issue 14): the folders of the
/// playbooks and of the inventories, the roles and collections paths, and each
/// `--project-root`. The sandbox is added once it exists.
pub fn confine_project(playbooks: &[PathBuf], inventories: &[String], project_roots: &[PathBuf]) {
    let mut dirs: Vec<PathBuf> = Vec::new();
    let parent = |p: &std::path::Path| -> PathBuf {
        match p.parent() {
            Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
            _ => PathBuf::from("."),
        }
    };
    dirs.extend(playbooks.iter().map(|p| parent(p)));
    for i in inventories {
        // A host list (`a,b,`) is no folder.
        let p = std::path::Path::new(i);
        if p.is_dir() {
            dirs.push(p.to_path_buf());
        } else if p.exists() {
            dirs.push(parent(p));
        }
    }
    dirs.extend(fleetsim_engine::config::roles_path());
    dirs.extend(fleetsim_engine::config::collections_path());
    dirs.extend(project_roots.iter().cloned());
    fleetsim_engine::project::confine(&dirs);
}

fn run_confined(a: &PlaybookArgs, session: &mut Session) -> i32 {
    let mut extra = Map::new();
    for e in &a.extra_vars {
        match parse_extra_vars(e) {
            Ok(m) => extra.extend(m),
            Err(msg) if msg.starts_with("Unable to retrieve file contents.") => {
                eprintln!("[ERROR]: {msg}");
                return exit::ERROR;
            }
            Err(msg) => {
                eprintln!("[ERROR]: {msg}");
                return exit::BAD_OPTIONS;
            }
        }
    }
    let start_time = match (session.next_start, &a.start_time) {
        // A lab's next step goes on where the previous one ended.
        (Some(t), _) => t,
        (None, Some(s)) => match fleetsim_sim::clock::parse_rfc3339(s) {
            Some(t) => t,
            None => {
                eprintln!("[ERROR]: --start-time must be an RFC 3339 time such as 2026-01-01T00:00:00Z, not '{s}'");
                return exit::BAD_OPTIONS;
            }
        },
        (None, None) => std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs() as f64)
            .unwrap_or(0.0),
    };
    if let Some(m) = a.max_virtual_time {
        if !(m.is_finite() && m > 0.0) {
            eprintln!("[ERROR]: --max-virtual-time takes a positive number of seconds, not '{m}'");
            return exit::BAD_OPTIONS;
        }
    }
    let seed = a.seed.unwrap_or_else(fresh_seed);
    let mut env = Vec::new();
    for e in &a.env {
        match e.split_once('=') {
            Some((k, v)) => env.push((k.to_string(), v.to_string())),
            None => {
                eprintln!("[ERROR]: --env takes NAME=VALUE, not '{e}'");
                return exit::BAD_OPTIONS;
            }
        }
    }
    for p in &a.playbooks {
        if !p.exists() {
            eprintln!("[ERROR]: the playbook: {} could not be found", p.display());
            return exit::ERROR;
        }
    }
    // The sandbox: kept where the user asked, else a temporary folder removed at exit, in
    // memory when the machine has a tmpfs (a module's work is mostly file system calls).
    let temp;
    let sandbox: PathBuf = match &a.sandbox {
        Some(d) => {
            if let Err(e) = std::fs::create_dir_all(d) {
                eprintln!(
                    "[ERROR]: cannot create the sandbox folder {}: {e}",
                    d.display()
                );
                return exit::ERROR;
            }
            d.clone()
        }
        None => match tempfile::Builder::new()
            .prefix("fleetsim-")
            .tempdir_in(crate::check::runner::default_scratch())
        {
            Ok(t) => {
                temp = t;
                let path = temp.path().to_path_buf();
                crate::interrupt::remove_on_interrupt(path.clone());
                path
            }
            Err(e) => {
                eprintln!("[ERROR]: cannot create a sandbox folder: {e}");
                return exit::ERROR;
            }
        },
    };
    // The controller's files are `localhost`'s in the sandbox; the other hosts' are not the
    // controller's to read.
    let _ = std::fs::create_dir_all(sandbox.join("hosts").join("localhost"));
    fleetsim_engine::project::allow_sandboxes(&sandbox, 0);
    // The controller works in the folder fleetsim runs in, and sees the project there as
    // a copy-on-write copy inside its sandbox (never the real files).
    let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("/"));
    if let Err(e) =
        fleetsim_sim::fs::mount_project(&sandbox, &fleetsim_engine::project::dirs(), &cwd)
    {
        eprintln!(
            "[ERROR]: cannot lay out the project in the controller's sandbox {}: {e}",
            sandbox.display()
        );
        return exit::ERROR;
    }
    if !session.quiet {
        eprintln!(
            "fleetsim: seed {seed}, start time {} (replay with --seed {seed} --start-time {})",
            fleetsim_sim::clock::to_rfc3339(start_time),
            fleetsim_sim::clock::to_rfc3339(start_time)
        );
    }
    // An Ansible setting fleetsim cannot honour is said, never silently ignored.
    for line in fleetsim_engine::config::unsupported_settings() {
        eprintln!("fleetsim: [WARNING]: {line}");
    }
    match vault_secrets(a) {
        Ok(secrets) => fleetsim_engine::vault::set_secrets(secrets),
        Err(e) => {
            eprintln!("[ERROR]: {e}");
            return exit::ERROR;
        }
    }
    let inventory = match crate::inventory_cmd::load_for_playbook(&a.opts) {
        Ok(i) => i,
        Err(code) => return code,
    };
    let mut inventory = inventory;
    // ansible-playbook's `get_host_list(inventory, subset)` (pattern 'all'): an inventory with
    // no hosts leaves only the implicit localhost, which 'all' does not match.
    if inventory.hosts().is_empty()
        && crate::inventory_cmd::env_bool("ANSIBLE_LOCALHOST_WARNING", true)
    {
        eprintln!(
            "[WARNING]: provided hosts list is empty, only localhost is available. Note that the implicit localhost does not match 'all'"
        );
    }
    if let Err(e) = inventory.set_limit(a.opts.limit.as_deref()) {
        eprintln!("[ERROR]: {}", e.0);
        return exit::ERROR;
    }
    // ansible-playbook's `get_host_list`: an inventory with hosts that the limit leaves
    // without any stops the run before the first play.
    let has_hosts = inventory
        .resolve_ignoring_limit("all")
        .is_ok_and(|r| !r.hosts.is_empty());
    let limited = inventory.resolve("all");
    if has_hosts && limited.as_ref().is_ok_and(|r| r.hosts.is_empty()) {
        if let Ok(r) = &limited {
            // The limit's own warnings (`Could not match supplied host pattern`) come first.
            if let Some(msg) = crate::inventory_cmd::report(&r.warnings) {
                eprintln!("[ERROR]: {msg}\n");
                return exit::ERROR;
            }
        }
        eprintln!(
            "[ERROR]: Specified inventory, host pattern and/or --limit leaves us with no hosts to target.\n"
        );
        return exit::ERROR;
    }
    let gathering = match fleetsim_engine::config::gathering() {
        Ok(g) => g,
        Err(e) => {
            eprintln!("[ERROR]: {e}");
            return exit::ERROR;
        }
    };
    let opts = RunOptions {
        gathering,
        inventory: a.opts.inventory.clone(),
        limit: a.opts.limit.clone(),
        extra_vars: extra,
        tags: split_list(&a.tags),
        skip_tags: split_list(&a.skip_tags),
        check: a.check,
        diff: a.diff,
        forks: a.forks,
        verbosity: a.verbose,
        start_at_task: a.start_at_task.clone(),
        sandbox: sandbox.clone(),
        seed,
        start_time,
        env,
        events: a.events.clone(),
        force_handlers: a.force_handlers || fleetsim_engine::config::force_handlers(),
        max_virtual_time: a.max_virtual_time,
        show_custom_stats: std::env::var("ANSIBLE_SHOW_CUSTOM_STATS")
            .ok()
            .and_then(|v| fleetsim_engine::config::parse_bool(&v))
            .unwrap_or(false),
    };
    let display = if session.quiet {
        Display::new(Box::new(std::io::sink()), a.verbose)
    } else {
        Display::new(Box::new(std::io::stdout()), a.verbose)
    };
    let templating = fleetsim_engine::exec::templar_for(&opts);
    let mut runner = Runner::new(opts, inventory, display, templating);
    if a.syntax_check || a.list_hosts || a.list_tasks {
        return runner.describe_playbooks(&a.playbooks, a.list_hosts, a.list_tasks);
    }
    if let Some(fleet) = &a.fleet {
        let loaded =
            crate::fleet_files::load(fleet, a.faults.as_deref()).and_then(|(model, plan)| {
                match &session.fleet {
                    Some(shared) => runner.join_fleet(shared.clone(), &plan),
                    None => {
                        runner.attach_fleet(model, &plan)?;
                        session.fleet = runner.world.fleet.clone();
                        Ok(())
                    }
                }
            });
        if let Err(e) = loaded {
            eprintln!("[ERROR]: {e}");
            return exit::ERROR;
        }
    }
    let code = runner.run_playbooks(&a.playbooks);
    session.next_start = Some(runner.world.clock.now());
    let report = runner.fleet_report.take();
    let code = match &report {
        Some(report) => crate::fleet_files::finish(&mut runner.display, report, a, code),
        None => code,
    };
    if a.reports.any() || session.records.is_some() {
        let replay = session
            .replay
            .take()
            .unwrap_or_else(|| own_replay_line(seed, &fleetsim_sim::clock::to_rfc3339(start_time)));
        let record = RunRecord {
            title: a
                .playbooks
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(" "),
            replay,
            playbooks: a
                .playbooks
                .iter()
                .map(|p| p.display().to_string())
                .collect(),
            seed,
            start_time: fleetsim_sim::clock::to_rfc3339(start_time),
            exit_code: code,
            expected_exit: None,
            events: std::mem::take(&mut runner.world.events),
            recap: runner.stats.iter().map(|(h, s)| (h.clone(), *s)).collect(),
            report,
            groups: lane_groups(&runner.inventory),
        };
        let suites = crate::report::junit::playbook_suites(&record);
        let written = crate::report::write_files(
            &a.reports,
            &record.title,
            std::slice::from_ref(&record),
            &suites,
        );
        if let Err(e) = written {
            eprintln!("[ERROR]: {e}");
            return exit::ERROR;
        }
        if let Some(records) = session.records.as_mut() {
            records.push(record);
        }
    }
    code
}

/// This process's command line, with the seed and start time that replay it exactly.
fn own_replay_line(seed: u64, start: &str) -> String {
    // The files this run writes about itself are left out: a replay should not overwrite them.
    let mut args: Vec<String> = Vec::new();
    let mut words = std::env::args().skip(1);
    while let Some(w) = words.next() {
        let flag = w.split('=').next().unwrap_or("");
        if matches!(flag, "--html" | "--trace" | "--junit" | "--events") {
            if !w.contains('=') {
                words.next();
            }
            continue;
        }
        args.push(w);
    }
    if !args
        .iter()
        .any(|a| a == "--seed" || a.starts_with("--seed="))
    {
        args.extend(["--seed".into(), seed.to_string()]);
    }
    if !args
        .iter()
        .any(|a| a == "--start-time" || a.starts_with("--start-time="))
    {
        args.extend(["--start-time".into(), start.to_string()]);
    }
    let mut line = String::from("fleetsim");
    for a in args {
        line.push(' ');
        line.push_str(&crate::check::artifacts::shell_quote(&a));
    }
    line
}

/// Each host's lane group on a timeline: its most specific inventory group (the one with
/// the fewest hosts; by name on a tie), `ungrouped` for hosts in no group.
fn lane_groups(
    inventory: &fleetsim_engine::inventory::Inventory,
) -> std::collections::BTreeMap<String, String> {
    let sizes: std::collections::BTreeMap<String, usize> = inventory
        .groups_map()
        .into_iter()
        .map(|(g, hosts)| (g, hosts.len()))
        .collect();
    inventory
        .hosts()
        .into_iter()
        .map(|h| {
            let group = inventory
                .group_names(&h)
                .into_iter()
                .filter(|g| g != "all" && g != "ungrouped")
                .min_by_key(|g| (sizes.get(g).copied().unwrap_or(usize::MAX), g.clone()))
                .unwrap_or_else(|| "ungrouped".into());
            (h.to_string(), group)
        })
        .collect()
}

fn split_list(values: &[String]) -> Vec<String> {
    values
        .iter()
        .flat_map(|v| v.split(','))
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect()
}

/// The run's vault secrets, as ansible-playbook gathers them: each `--vault-id` (`LABEL@FILE`
/// or `FILE`), each `--vault-password-file` (label `default`), and, when the command line
/// gives none, `ANSIBLE_VAULT_IDENTITY_LIST` and `ANSIBLE_VAULT_PASSWORD_FILE`.
fn vault_secrets(a: &PlaybookArgs) -> Result<Vec<fleetsim_engine::vault::Secret>, String> {
    use fleetsim_engine::vault::{read_password_file, split_vault_id, Secret};
    if a.ask_vault_password {
        return Err(
            "fleetsim does not prompt for a vault password: give it with --vault-password-file or --vault-id".into(),
        );
    }
    let mut ids: Vec<String> = a.vault_ids.clone();
    let mut files: Vec<std::path::PathBuf> = a.vault_password_files.clone();
    if ids.is_empty() && files.is_empty() {
        if let Ok(list) = std::env::var("ANSIBLE_VAULT_IDENTITY_LIST") {
            ids.extend(
                list.split(',')
                    .map(|s| s.trim().to_string())
                    .filter(|s| !s.is_empty()),
            );
        }
        if let Ok(file) = std::env::var("ANSIBLE_VAULT_PASSWORD_FILE") {
            if !file.is_empty() {
                files.push(file.into());
            }
        }
    }
    let mut secrets = Vec::new();
    for id in &ids {
        let (label, file) = split_vault_id(id);
        if file == "prompt" || file == "prompt_ask_vault_pass" {
            return Err(format!(
                "fleetsim does not prompt for a vault password (--vault-id {id}): give a password file"
            ));
        }
        secrets.push(Secret {
            vault_id: label,
            password: read_password_file(std::path::Path::new(&file))?,
        });
    }
    for file in &files {
        secrets.push(Secret {
            vault_id: "default".into(),
            password: read_password_file(file)?,
        });
    }
    Ok(secrets)
}
