//! What `fleetsim check` runs each case with: the playbook options every case shares
//! ([`PlaybookSpec`]) and the runner that turns a [`Case`] into one `fleetsim playbook` run
//! against the fleet with the case's faults. The contract a runner keeps is that running a
//! case is exactly what the replay command [`super::artifacts::replay_command`] prints does,
//! so a counterexample replays byte for byte.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use serde_json::{Map, Value};

use fleetsim_engine::exec::{exit, templar_for, RunOptions, Runner};
use fleetsim_engine::inventory::Inventory;
use fleetsim_engine::output::Display;
use fleetsim_engine::playbook::{load_playbook, Loader, Playbook};
use fleetsim_engine::yaml::load_typed;
pub use fleetsim_sim::fleet::campaign::{CaseOutcome, CaseRunner};
use fleetsim_sim::fleet::case::Case;
use fleetsim_sim::fleet::model::FleetModel;
use fleetsim_sim::fleet::report::{Report, Traffic};

use crate::cli::InventoryOpts;
use crate::fleet_files::INVARIANT_BROKEN;

/// The options of `fleetsim playbook` that every case of a campaign shares.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct PlaybookSpec {
    /// `-i` sources.
    pub inventory: Vec<String>,
    pub playbook: PathBuf,
    /// The scenario's fleet model; a case's [`fleetsim_sim::fleet::case::FleetParams`] apply
    /// on top of it.
    pub fleet: PathBuf,
    /// `-e` arguments as given (parsed as `fleetsim playbook` parses them).
    pub extra_vars: Vec<String>,
    pub tags: Vec<String>,
    pub skip_tags: Vec<String>,
    /// Virtual clock start (seconds since the epoch) of every case.
    pub start_time: f64,
}

/// A runner could not be set up; `code` is the exit status `fleetsim check` ends with.
#[derive(Debug, Clone, PartialEq)]
pub struct SetupError {
    pub code: i32,
    pub message: String,
}

/// The runner that plays each case with the engine and the fleet runtime, in process.
///
/// For each case it runs the playbook as `fleetsim playbook -i INVENTORY PLAYBOOK --limit
/// CASE.limit() [-e ...] [-t ...] [--skip-tags ...] --fleet FLEET --faults PLAN --seed
/// CASE.seed --start-time START` does, where FLEET is `spec.fleet` with `case.fleet` applied
/// and PLAN is `case.plan`, in a temporary sandbox of its own, with the output kept in memory
/// and dropped. The outcome is that command's exit status (10 when the playbook succeeded but
/// an invariant broke) and its fleet report.
pub fn real_runner(spec: &PlaybookSpec, scratch: &Path) -> Result<Box<dyn CaseRunner>, SetupError> {
    let setup_error = |message: String| SetupError {
        code: exit::ERROR,
        message,
    };
    // One folder for the campaign's sandboxes, so that a Ctrl-C (which skips destructors)
    // can remove whatever cases were running.
    let sandboxes = tempfile::Builder::new()
        .prefix("fleetsim-check-")
        .tempdir_in(scratch)
        .map_err(|e| {
            setup_error(format!(
                "cannot create a folder for the cases' sandboxes in {}: {e}",
                scratch.display()
            ))
        })?;
    // Every case reads only the project, as `fleetsim playbook` does: the folders of the
    // playbook, the inventories and the fleet model, and the cases' sandboxes.
    let fleet_dir = match spec.fleet.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => std::path::PathBuf::from("."),
    };
    crate::playbook_cmd::confine_project(
        std::slice::from_ref(&spec.playbook),
        &spec.inventory,
        &[fleet_dir],
    );
    // Each case's sandbox is a folder of this one; of each, only the controller's files.
    fleetsim_engine::project::allow_sandboxes(sandboxes.path(), 1);
    let doomed = sandboxes.path().to_path_buf();
    // Only the first handler of a process is installed; `fleetsim check` sets no other.
    let _ = ctrlc::set_handler(move || {
        // Cases running now would recreate folders as they are removed: stop new cases,
        // let the running ones end (a case takes milliseconds; bounded anyway), then remove.
        crate::interrupt::handling();
        INTERRUPTED.store(true, Ordering::SeqCst);
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        while CASES_RUNNING.load(Ordering::SeqCst) > 0 && std::time::Instant::now() < deadline {
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
        let _ = std::fs::remove_dir_all(&doomed);
        std::process::exit(130);
    });
    let model = load_typed::<FleetModel>(&spec.fleet, "fleet model").map_err(setup_error)?;
    let mut extra_vars = Map::new();
    for e in &spec.extra_vars {
        extra_vars.extend(
            crate::playbook_cmd::parse_extra_vars(e).map_err(|m| SetupError {
                code: exit::BAD_OPTIONS,
                message: m,
            })?,
        );
    }
    // Loaded here once with its warnings shown.
    crate::inventory_cmd::load(&InventoryOpts {
        inventory: spec.inventory.clone(),
        limit: None,
    })
    .map_err(|code| SetupError {
        code,
        message: "the inventory does not load".into(),
    })?;
    // Each case runs on a copy of this one: an inventory is not shared between runs, which
    // change it (add_host, group_by), and parsing it again for every case costs more than
    // copying it.
    let (mut inventory, _, vars_error) = Inventory::load_full(&spec.inventory);
    // Likewise the playbook: every case runs a copy of it (a playbook that does not load is
    // loaded again by each case, which then fails with Ansible's message).
    let playbook = load_playbook(&spec.playbook, &Map::new()).ok();
    // The playbook folder's group_vars/ and host_vars/ are read once for the campaign, not
    // once per case: a case's run then finds them read and keeps the variables it started
    // with. On an error the cases read them again and report it as a run does.
    if let Some(dir) = playbook.as_ref().and_then(|(pb, _)| pb.path.parent()) {
        let mut with_playbook_vars = inventory.clone();
        if with_playbook_vars.add_playbook_vars_dir(dir).is_ok() {
            inventory = with_playbook_vars;
        }
    }
    Ok(Box::new(EngineRunner {
        sandboxes,
        playbook,
        spec: spec.clone(),
        model,
        extra_vars,
        inventory: match vars_error {
            Some(e) => Err(e.to_string()),
            None => Ok(inventory),
        },
    }))
}

/// [`real_runner`]'s runner: what every case shares, loaded once.
struct EngineRunner {
    spec: PlaybookSpec,
    model: FleetModel,
    extra_vars: Map<String, Value>,
    /// The inventory every case starts from, or why its variables do not load (each case
    /// then fails with it).
    inventory: Result<Inventory, String>,
    /// The playbook as loaded once, with its loader; None when it does not load.
    playbook: Option<(Playbook, Loader)>,
    /// The campaign's folder of case sandboxes (removed with the runner).
    sandboxes: tempfile::TempDir,
}

/// Where case sandboxes go by default: `/dev/shm` when it is a folder we can write to (a
/// tmpfs on Linux: a case creates and removes a few hundred files, and in memory that costs
/// about half of what it costs on a disk's filesystem), else the system's temporary folder.
/// No output depends on it.
pub fn default_scratch() -> PathBuf {
    let shm = Path::new("/dev/shm");
    let writable = shm.is_dir()
        && tempfile::Builder::new()
            .prefix("fleetsim-probe-")
            .tempdir_in(shm)
            .is_ok();
    if writable {
        shm.to_path_buf()
    } else {
        std::env::temp_dir()
    }
}

/// Set by the Ctrl-C handler: no case starts after it.
static INTERRUPTED: AtomicBool = AtomicBool::new(false);

/// Cases between their start and the removal of their sandbox.
static CASES_RUNNING: AtomicUsize = AtomicUsize::new(0);

/// Counts a case as running until dropped. Counted first and the interrupt checked second,
/// so the handler, which sets the flag first and then waits for the count to reach zero,
/// never removes the folder under a case that went on.
struct Running;

impl Running {
    fn start() -> Result<Running, String> {
        CASES_RUNNING.fetch_add(1, Ordering::SeqCst);
        let running = Running;
        if INTERRUPTED.load(Ordering::SeqCst) {
            return Err("interrupted".into());
        }
        Ok(running)
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        CASES_RUNNING.fetch_sub(1, Ordering::SeqCst);
    }
}

impl CaseRunner for EngineRunner {
    fn run(&self, case: &Case) -> Result<CaseOutcome, String> {
        // Declared before the sandbox, so dropped after it.
        let _running = Running::start()?;
        // Removed when the case is done; a Ctrl-C removes the campaign's whole folder.
        let sandbox = tempfile::Builder::new()
            .prefix("case-")
            .tempdir_in(self.sandboxes.path())
            .map_err(|e| format!("cannot create a sandbox folder: {e}"))?;
        let limit = case.limit();
        let mut inventory = self.inventory.clone()?;
        inventory
            .set_limit(Some(&limit))
            .map_err(|e| format!("--limit {limit}: {}", e.0))?;
        let opts = RunOptions {
            inventory: self.spec.inventory.clone(),
            limit: Some(limit),
            extra_vars: self.extra_vars.clone(),
            tags: split_list(&self.spec.tags),
            skip_tags: split_list(&self.spec.skip_tags),
            // `fleetsim playbook`'s defaults, which the replay command relies on.
            forks: 5,
            sandbox: sandbox.path().to_path_buf(),
            seed: case.seed,
            start_time: self.spec.start_time,
            ..RunOptions::default()
        };
        let templating = templar_for(&opts);
        let mut runner = Runner::new(opts, inventory, Display::capture(0), templating);
        runner.attach_fleet(case.fleet.apply(&self.model), &case.plan)?;
        let code = match &self.playbook {
            Some(loaded) => runner.run_loaded(vec![loaded.clone()]),
            None => runner.run_playbooks(std::slice::from_ref(&self.spec.playbook)),
        };
        let error = || {
            let text = runner.display.captured();
            text.find("[ERROR]: ")
                .map(|i| text[i + "[ERROR]: ".len()..].trim_end().to_string())
        };
        match runner.fleet_report.take() {
            // The run reached its recap (whatever the hosts did): the fleet reported.
            Some(report) => Ok(CaseOutcome {
                exit_code: if code == exit::OK && !report.holds() {
                    INVARIANT_BROKEN
                } else {
                    code
                },
                error: None,
                report,
                fatal: false,
            }),
            // A playbook that does not load, or an error that stops the run, ends it before
            // the fleet reports.
            None => Ok(CaseOutcome {
                exit_code: code,
                error: Some(error().unwrap_or_else(|| {
                    format!("the run ended with exit status {code} before its recap")
                })),
                report: Report {
                    seed: case.seed,
                    start_time: fleetsim_sim::clock::to_rfc3339(self.spec.start_time),
                    virtual_seconds: 0.0,
                    traffic: Traffic::default(),
                    invariants: Vec::new(),
                },
                fatal: true,
            }),
        }
    }
}

fn split_list(values: &[String]) -> Vec<String> {
    values
        .iter()
        .flat_map(|v| v.split(','))
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect()
}
