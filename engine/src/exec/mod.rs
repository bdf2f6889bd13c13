//! Running playbooks as ansible-playbook does: plays in order, hosts in serial batches,
//! facts, the linear strategy (every host takes the same task before any takes the next,
//! with rescue/always handled per host), handlers at the end of each section, and the exit
//! status Ansible gives.

mod controller;
mod environment;
mod iterator;
mod task;
pub mod vars;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use indexmap::{IndexMap, IndexSet};
use serde_json::{json, Map, Value};

use fleetsim_sim::fleet::faults::FaultPlan;
use fleetsim_sim::fleet::model::FleetModel;
use fleetsim_sim::fleet::report::Report;
use fleetsim_sim::fleet::{Fleet, Topology};
use fleetsim_sim::world::World;

use crate::inventory::{DiagKind, Inventory};
use crate::output::{self, Display, HostStats};
use crate::playbook::{self, Block, Item, Loader, Play, Playbook, Task};
use crate::template::{Templar, VarSource};

pub use controller::{controller_path, templar_for, Controller};
use iterator::HostCursor;
pub use task::HostOutcome;
use vars::{HostVarSource, SharedStore, TaskLayers, VarStore, Vars};

/// ansible-playbook's exit statuses.
pub mod exit {
    pub const OK: i32 = 0;
    pub const ERROR: i32 = 1;
    pub const HOST_FAILED: i32 = 2;
    /// ansible-core's `ExitCode.HOST_UNREACHABLE` (the same number as a parser error).
    pub const HOST_UNREACHABLE: i32 = 4;
    pub const PARSE_ERROR: i32 = 4;
    pub const BAD_OPTIONS: i32 = 5;
    /// ansible-core's exit status after an unexpected exception (in fleetsim: a panic).
    pub const UNEXPECTED: i32 = 250;
}

/// Options of a run, as ansible-playbook takes them plus fleetsim's own.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    pub inventory: Vec<String>,
    pub limit: Option<String>,
    pub extra_vars: Map<String, Value>,
    pub tags: Vec<String>,
    pub skip_tags: Vec<String>,
    pub check: bool,
    pub diff: bool,
    pub forks: usize,
    pub verbosity: u8,
    pub start_at_task: Option<String>,
    pub sandbox: PathBuf,
    pub seed: u64,
    pub start_time: f64,
    /// The simulated controller's environment (`lookup('env')`).
    pub env: Vec<(String, String)>,
    /// Where to write the run's event log, one JSON object a line (`--events`).
    pub events: Option<PathBuf>,
    /// `--force-handlers`: run notified handlers on hosts that failed (the play's
    /// `force_handlers` keyword wins).
    pub force_handlers: bool,
    /// `--max-virtual-time`: the virtual seconds a run may span (None: the default,
    /// [`DEFAULT_MAX_VIRTUAL_TIME`]). A run past it stops after the task that crossed it.
    pub max_virtual_time: Option<f64>,
    /// ANSIBLE_SHOW_CUSTOM_STATS: print the `set_stats` statistics after the recap.
    pub show_custom_stats: bool,
    /// ANSIBLE_GATHERING: when a play gathers facts.
    pub gathering: crate::config::Gathering,
}

/// The include depth at which ansible-core 2.19 (Python's default recursion limit of 1000)
/// dies: a task file including itself shows 247 `included:` lines first.
pub const MAX_INCLUDE_DEPTH: usize = 247;

/// Thirty virtual days: far past any lab (Lab 8.2 spans about 12 virtual minutes), short
/// enough that a runaway `until` loop ends within seconds of wall time.
pub const DEFAULT_MAX_VIRTUAL_TIME: f64 = 30.0 * 86_400.0;

impl RunOptions {
    /// The run's virtual time budget in seconds.
    pub fn virtual_budget(&self) -> f64 {
        self.max_virtual_time.unwrap_or(DEFAULT_MAX_VIRTUAL_TIME)
    }
}

/// How a task, a section, a batch or a play ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PlayEnd {
    Completed,
    /// max_fail_percentage fired: the batch stops at once (no handlers), the play's later
    /// batches still run, and the playbook stops after the play (ansible-core's
    /// `RUN_FAILED_BREAK_PLAY`).
    MaxFailed,
    /// `meta: end_play`: no later batch of the play runs; the next play does.
    EndPlay,
    /// Every host of a batch failed, or max_fail_percentage fired: the playbook stops here.
    BreakPlaybook,
}

/// The inventory as the fleet sees it: patterns ignore `--limit` (the fleet is every host,
/// whichever the playbook runs on). The second field, when given, holds the hosts' variables
/// the store copied from this inventory, so that the fleet's many lookups of one variable do
/// not each merge a host's groups again.
struct InventoryTopology<'a>(&'a Inventory, Option<&'a vars::HostMap<Arc<Vars>>>);

impl Topology for InventoryTopology<'_> {
    fn resolve(&self, pattern: &str) -> Vec<String> {
        self.0
            .resolve_ignoring_limit(pattern)
            .map(|r| r.hosts)
            .unwrap_or_default()
    }

    fn var(&self, host: &str, name: &str) -> Option<Value> {
        match self.1.and_then(|vars| vars.get(host)) {
            Some(vars) => vars.get(name).cloned(),
            None => self.0.host_vars(host).get(name).cloned(),
        }
    }
}

/// One run of one or more playbooks against the simulated world.
pub struct Runner {
    pub opts: RunOptions,
    pub inventory: Inventory,
    pub world: World,
    pub templar: Templar,
    controller: Arc<Controller>,
    store: SharedStore,
    pub display: Display,
    pub stats: IndexMap<String, HostStats>,
    /// `set_stats` statistics by host, and `_run` for the whole run.
    pub(crate) custom_stats: IndexMap<String, Map<String, Value>>,
    loader: Loader,
    /// Hosts that failed (and so take no part in later plays).
    failed: IndexSet<String>,
    unreachable: IndexSet<String>,
    /// Hosts that failed or became unreachable in the current play and that `meta:
    /// clear_host_errors` cleared: they stay out of ansible_play_hosts and
    /// ansible_play_batch until the play ends (the play's `_removed_hosts`, which clearing
    /// does not touch).
    removed_in_play: IndexSet<String>,
    /// A play stopped because max_fail_percentage fired: Ansible then ends with "hosts
    /// failed" (2) even when some host was unreachable.
    max_fail_broke_play: bool,
    /// fleetsim's own bugs met during the run (panics caught in a task): the run goes on as
    /// Ansible's does after a task raised, and ends with exit status 250.
    internal_errors: Vec<crate::panic_guard::InternalError>,
    /// The exit status of the last batch run (what ansible-playbook exits with).
    last_batch_status: Option<i32>,
    /// The hosts still running when the last batch ended (a failed host that a rescue
    /// caught is one of them).
    alive_at_batch_end: IndexSet<String>,
    /// Handlers notified per host, as indexes into the play's handler list.
    notified: IndexMap<String, IndexSet<usize>>,
    /// Notifications per host not yet resolved to handlers: ansible-core keeps the topics
    /// and looks the handlers up when it flushes them, so a role included after the
    /// notification can supply the handler that answers.
    notified_topics: IndexMap<String, IndexSet<String>>,
    /// `--start-at-task`: still looking for that task.
    start_at: Option<String>,
    /// Whether [`Runner::run_loaded`] ran before: until then the variable store holds what
    /// `Runner::new` copied from the inventory and nothing else.
    ran_playbooks: bool,
    /// Files included during the current task, by (path, vars): hosts share them.
    pub(crate) include_cache: IndexMap<String, Vec<Arc<Block>>>,
    /// The running play's handlers in the order they run: its roles' and its own, then
    /// those each `include_role` adds (ansible-core appends them to `play.handlers`).
    /// [`Runner::notified`] indexes into it.
    pub(crate) handlers_in_play: Vec<Arc<Task>>,
    /// Each handler's name as templated the first time a notification looked at it (None:
    /// it could not be templated), as ansible-core caches `handler.name`.
    handler_names: IndexMap<usize, Option<String>>,
    /// The roles the current play's `include_role` tasks added to it, in order (ansible-core
    /// appends each to `play.roles`): they count in `ansible_play_role_names` from then on.
    pub(crate) included_roles: Vec<Arc<playbook::RoleRef>>,
    /// (host, role identity) pairs where a task of that role ran for the host in this play
    /// (ok, changed or failed: not skipped, not unreachable): `Role._had_task_run`.
    roles_ran: BTreeSet<(String, String)>,
    /// (host, role identity) pairs the host completed (reached the role's closing
    /// `role_complete` after a task of it ran): later uses are skipped for it.
    roles_completed: BTreeSet<(String, String)>,
    /// The running task's name as its banner shows it (fault triggers and the fleet
    /// report name tasks so).
    pub(crate) current_task_name: String,
    /// The running play's name as its banner shows it (the event log's task records carry
    /// it, as the junit callback's test case names do).
    current_play_name: String,
    /// The running play's host pattern, templated (`meta: refresh_inventory` selects the
    /// play's hosts again with it).
    current_play_pattern: String,
    /// Under the free strategy, the banner of the task just run, printed only when its
    /// results are (the default callback shows a banner lazily, before a result of a task
    /// other than the last one shown).
    free_banner: Option<String>,
    /// Under the free strategy, the task whose banner was shown last.
    last_banner: Option<Arc<Task>>,
    /// The fleet's report, once the run with a fleet is over.
    pub fleet_report: Option<Report>,
    /// Hosts whose facts a play gathered (ANSIBLE_GATHERING=smart gathers them once).
    facts_gathered: IndexSet<String>,
}

impl Runner {
    pub fn new(
        opts: RunOptions,
        inventory: Inventory,
        display: Display,
        (templar, controller): (Templar, Arc<Controller>),
    ) -> Runner {
        let world = World::new(&opts.sandbox, opts.seed, opts.start_time);
        let store = Arc::new(Mutex::new(VarStore::default()));
        let start_at = opts.start_at_task.clone();
        let mut r = Runner {
            opts,
            inventory,
            world,
            templar,
            controller,
            store,
            display,
            stats: IndexMap::new(),
            custom_stats: IndexMap::new(),
            loader: Loader::new(Path::new(".")),
            failed: IndexSet::new(),
            unreachable: IndexSet::new(),
            removed_in_play: IndexSet::new(),
            max_fail_broke_play: false,
            internal_errors: Vec::new(),
            last_batch_status: None,
            alive_at_batch_end: IndexSet::new(),
            notified: IndexMap::new(),
            notified_topics: IndexMap::new(),
            start_at,
            include_cache: IndexMap::new(),
            handlers_in_play: Vec::new(),
            handler_names: IndexMap::new(),
            included_roles: Vec::new(),
            roles_ran: BTreeSet::new(),
            roles_completed: BTreeSet::new(),
            current_task_name: String::new(),
            current_play_name: String::new(),
            current_play_pattern: String::new(),
            free_banner: None,
            last_banner: None,
            fleet_report: None,
            facts_gathered: IndexSet::new(),
            ran_playbooks: false,
        };
        let hosts = r.inventory.hosts();
        r.world.plan_addresses(hosts.iter().map(String::as_str));
        r.refresh_inventory_vars();
        r
    }

    /// Builds the simulated fleet over the inventory's hosts (`--fleet`, `--faults`).
    pub fn attach_fleet(&mut self, model: FleetModel, plan: &FaultPlan) -> Result<(), String> {
        // What `refresh_inventory_vars` copied from the inventory, which nothing changed since.
        let vars = self
            .store
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .inventory
            .clone();
        let fleet = Fleet::new(
            model,
            plan,
            &InventoryTopology(&self.inventory, Some(&vars)),
            &mut self.world,
        )?;
        self.world.fleet = Some(Arc::new(Mutex::new(fleet)));
        self.world.absorb_fleet_events();
        Ok(())
    }

    /// Runs on a fleet that an earlier run built (the steps of a lab share one fleet), with
    /// this run's faults.
    pub fn join_fleet(&mut self, fleet: Arc<Mutex<Fleet>>, plan: &FaultPlan) -> Result<(), String> {
        for h in self.inventory.hosts() {
            self.world
                .host(&h)
                .map_err(|e| format!("cannot open the sandbox of {h}: {e}"))?;
        }
        fleet.lock().unwrap_or_else(|e| e.into_inner()).begin_run(
            plan,
            &InventoryTopology(&self.inventory, None),
            &mut self.world,
        )?;
        self.world.fleet = Some(fleet);
        Ok(())
    }

    /// Copies the inventory's variables and group memberships into the variable store.
    pub(crate) fn refresh_inventory_vars(&mut self) {
        let groups = self.inventory.groups_map();
        let mut store = self.store.lock().unwrap_or_else(|e| e.into_inner());
        let mut common = Map::new();
        common.insert("omit".into(), json!(crate::template::OMIT_PLACEHOLDER));
        common.insert("ansible_check_mode".into(), json!(self.opts.check));
        common.insert("ansible_diff_mode".into(), json!(self.opts.diff));
        common.insert("ansible_forks".into(), json!(self.opts.forks.max(1)));
        common.insert("ansible_verbosity".into(), json!(self.opts.verbosity));
        // `sys.executable` of ansible-playbook: the simulated controller's Python, the one
        // its facts report.
        common.insert("ansible_playbook_python".into(), json!("/usr/bin/python3"));
        common.insert("ansible_version".into(), crate::ansible_version_var());
        common.insert(
            "ansible_run_tags".into(),
            json!(if self.opts.tags.is_empty() {
                vec!["all".to_string()]
            } else {
                self.opts.tags.clone()
            }),
        );
        common.insert("ansible_skip_tags".into(), json!(self.opts.skip_tags));
        // ansible-core's load_options_vars: `ansible_limit` is the --limit string as given,
        // and stays undefined without one.
        if let Some(limit) = &self.opts.limit {
            common.insert("ansible_limit".into(), json!(limit));
        }
        if let Some(first) = self.opts.inventory.first() {
            let p = std::path::absolute(first).unwrap_or_else(|_| PathBuf::from(first));
            common.insert("inventory_file".into(), json!(p.display().to_string()));
            common.insert(
                "inventory_dir".into(),
                json!(p
                    .parent()
                    .map(|d| d.display().to_string())
                    .unwrap_or_default()),
            );
        }
        store.common_magic = Arc::new(common);
        store.set_shared_magic("groups", json!(groups));
        store.extra = Arc::new(self.opts.extra_vars.clone());
        for h in self.inventory.known_hosts() {
            let v = self.inventory.host_vars(&h);
            // `ansible_connection: local` runs the host's tasks on the controller: it sees
            // the controller's files, as it does under real Ansible.
            if v.get("ansible_connection").and_then(Value::as_str) == Some("local") {
                self.world.share_filesystem(&h, "localhost");
            }
            // The distribution the host runs; a value that is not a known name fails the
            // host's first use with a message naming it.
            match v.get("fleetsim_os") {
                None | Some(Value::Null) => {}
                Some(Value::String(os)) => self.world.plan_os(&h, os),
                Some(other) => self.world.plan_os(&h, &other.to_string()),
            }
            store.inventory.insert(h.clone(), Arc::new(v));
            let mut magic = Map::new();
            magic.insert("inventory_hostname".into(), json!(h));
            magic.insert(
                "inventory_hostname_short".into(),
                json!(h.split('.').next().unwrap_or(&h)),
            );
            magic.insert("group_names".into(), json!(self.inventory.group_names(&h)));
            store.host_magic.insert(h.clone(), Arc::new(magic));
        }
    }

    /// Makes sure a host that is not in the inventory (implicit localhost, a delegate_to
    /// target) has variables and magic variables like any other.
    pub(crate) fn ensure_host_vars(&mut self, host: &str) {
        // The implicit localhost sees the `all` group's variables (ansible-core's
        // VariableManager reads the all group for every host).
        let implicit_localhost =
            (host == "localhost" || host == "127.0.0.1").then(|| self.inventory.host_vars(host));
        let mut store = self.store.lock().unwrap_or_else(|e| e.into_inner());
        if store.host_magic.contains_key(host) {
            return;
        }
        let mut magic = Map::new();
        magic.insert("inventory_hostname".into(), json!(host));
        magic.insert(
            "inventory_hostname_short".into(),
            json!(host.split('.').next().unwrap_or(host)),
        );
        magic.insert("group_names".into(), json!(Vec::<String>::new()));
        store.host_magic.insert(host.to_string(), Arc::new(magic));
        if !store.inventory.contains_key(host) {
            let mut v = implicit_localhost.unwrap_or_default();
            if host == "localhost" || host == "127.0.0.1" {
                v.insert("ansible_connection".into(), json!("local"));
                v.insert(
                    "ansible_python_interpreter".into(),
                    json!("/usr/bin/python3"),
                );
            }
            store.inventory.insert(host.to_string(), Arc::new(v));
        }
    }

    /// Runs every play of the playbooks; returns ansible-playbook's exit status.
    pub fn run_playbooks(&mut self, paths: &[PathBuf]) -> i32 {
        let mut playbooks = Vec::new();
        for p in paths {
            match playbook::load_playbook(p, &Map::new()) {
                Ok(loaded) => playbooks.push(loaded),
                Err(e) => {
                    let text = e.to_string();
                    self.display.error(&text);
                    if let Some(h) = e.hint().or_else(|| {
                        output::hints::for_load_error(text.lines().next().unwrap_or(""))
                    }) {
                        self.display.hint(&h);
                    }
                    return e.exit_code();
                }
            }
        }
        self.run_loaded(playbooks)
    }

    /// Runs playbooks loaded beforehand (each with the loader that read it), as
    /// [`Runner::run_playbooks`] does once it has loaded them: `fleetsim check` loads its
    /// playbook once and runs a copy for every case.
    pub fn run_loaded(&mut self, loaded: Vec<(Playbook, Loader)>) -> i32 {
        let mut playbooks = Vec::with_capacity(loaded.len());
        for (pb, loader) in loaded {
            // The last playbook's loader reads the files included at run time.
            self.loader = loader;
            playbooks.push(pb);
        }
        let store_as_new = !std::mem::replace(&mut self.ran_playbooks, true);
        for (index, pb) in playbooks.iter().enumerate() {
            if let Some(dir) = pb.path.parent() {
                match self.inventory.add_playbook_vars_dir(dir) {
                    // A file that did not load is an error when a play needs the variables
                    // of a host it applies to (`Inventory::vars_error_for`), as Ansible reads
                    // these files on demand.
                    Err(_) => self.refresh_inventory_vars(),
                    // Before the first playbook the store is still what `Runner::new` made of
                    // this inventory: when the folder added nothing (`fleetsim check` adds it
                    // to the campaign's inventory once), copying it again would change nothing.
                    Ok(false) if index == 0 && store_as_new => {}
                    Ok(_) => self.refresh_inventory_vars(),
                }
            }
            {
                let mut store = self.store.lock().unwrap_or_else(|e| e.into_inner());
                let mut common = (*store.common_magic).clone();
                common.insert(
                    "playbook_dir".into(),
                    json!(pb
                        .path
                        .parent()
                        .map(|d| d.display().to_string())
                        .unwrap_or_default()),
                );
                store.common_magic = Arc::new(common);
            }
            // The default callback's `v2_playbook_on_start` and the executor's count, at -vv.
            if self.display.verbosity >= 2 {
                let base = pb
                    .path
                    .file_name()
                    .map(|f| f.to_string_lossy().into_owned())
                    .unwrap_or_default();
                self.display.banner(&format!("PLAYBOOK: {base}"));
                self.display.line(&format!(
                    "{} plays in {}",
                    pb.plays.len(),
                    pb.given.display()
                ));
            }
            for play in &pb.plays {
                match self.run_play(play) {
                    Ok(PlayEnd::BreakPlaybook) => break,
                    Ok(_) => {}
                    // An error that stops the run: Ansible prints no recap after it.
                    Err(code) => {
                        self.display.flush();
                        return code;
                    }
                }
            }
        }
        output::recap(&mut self.display, &self.stats);
        if self.opts.show_custom_stats {
            output::custom_stats(&mut self.display, &self.custom_stats);
        }
        self.display.flush();
        let now = self.world.clock.now();
        self.fleet_report = self.world.with_fleet(|f| f.finish(now));
        self.world.absorb_fleet_events();
        if let Err(e) = self.write_events() {
            self.display.error(&e);
            return exit::ERROR;
        }
        if !self.internal_errors.is_empty() {
            exit::UNEXPECTED
        } else if let Some(status) = self.last_batch_status {
            status
        } else if self.max_fail_broke_play {
            exit::HOST_FAILED
        } else if !self.unreachable.is_empty() {
            exit::HOST_UNREACHABLE
        } else if !self.failed.is_empty() {
            exit::HOST_FAILED
        } else {
            exit::OK
        }
    }

    /// Writes the event log (`--events FILE`): one JSON object a line, in the order things
    /// happened, with virtual times, so two runs with the same seed give the same file.
    fn write_events(&self) -> Result<(), String> {
        let Some(path) = &self.opts.events else {
            return Ok(());
        };
        let mut text = String::new();
        for e in &self.world.events {
            let line = serde_json::to_string(e).map_err(|err| err.to_string())?;
            text.push_str(&line);
            text.push('\n');
        }
        std::fs::write(path, text)
            .map_err(|err| format!("cannot write the event log {}: {err}", path.display()))
    }

    /// `--syntax-check`, `--list-hosts`, `--list-tasks`: load the playbooks and describe
    /// them as ansible-playbook does, without running anything.
    pub fn describe_playbooks(
        &mut self,
        paths: &[PathBuf],
        list_hosts: bool,
        list_tasks: bool,
    ) -> i32 {
        for p in paths {
            let pb = match playbook::load_playbook(p, &Map::new()) {
                Ok((pb, _)) => pb,
                Err(e) => {
                    self.display.error(&e.to_string());
                    return e.exit_code();
                }
            };
            self.display.line("");
            self.display.line(&format!("playbook: {}", p.display()));
            if !list_hosts && !list_tasks {
                continue;
            }
            for (i, play) in pb.plays.iter().enumerate() {
                let pattern = match &play.hosts {
                    Value::Array(items) => {
                        items.iter().map(playbook::scalar_text).collect::<Vec<_>>()
                    }
                    other => vec![playbook::scalar_text(other)],
                };
                let joined = pattern.join(",");
                let name = play.name.clone().unwrap_or_else(|| joined.clone());
                let play_tags = py_list(&play_tags(play));
                self.display.line("");
                self.display.line(&format!(
                    "  play #{} ({joined}): {name}\tTAGS: {play_tags}",
                    i + 1
                ));
                if list_hosts {
                    let hosts = self
                        .inventory
                        .resolve(&joined)
                        .map(|r| r.hosts)
                        .unwrap_or_default();
                    self.display
                        .line(&format!("    pattern: {}", py_list(&pattern)));
                    self.display.line(&format!("    hosts ({}):", hosts.len()));
                    for h in hosts {
                        self.display.line(&format!("      {h}"));
                    }
                }
                if list_tasks {
                    self.display.line("    tasks:");
                    for section in [&play.pre_tasks, &play.tasks, &play.post_tasks] {
                        for b in section.iter() {
                            for t in flatten_tasks(&b.block) {
                                if !t.implicit && self.tags_allow(&t) {
                                    self.display.line(&format!(
                                        "      {}\tTAGS: {}",
                                        t.display_name(),
                                        py_list(&t.tags)
                                    ));
                                }
                            }
                        }
                    }
                }
            }
        }
        if list_hosts || list_tasks {
            self.display.line("");
        }
        self.display.flush();
        exit::OK
    }

    fn stat(&mut self, host: &str) -> &mut HostStats {
        self.stats.entry(host.to_string()).or_default()
    }

    /// Templates a play-level value with the extra vars only (what Ansible can see before
    /// hosts are known).
    fn template_play_value(&self, v: &Value) -> Result<Value, String> {
        let src: Arc<dyn VarSource> = Arc::new(crate::template::MapVars::new(Value::Object(
            self.opts.extra_vars.clone(),
        )));
        self.templar
            .render(v, &src)
            .map_err(|e| e.message().to_string())
    }

    /// `vars_prompt`: without a terminal ansible-core does not prompt (it warns once) and
    /// each variable not given with --extra-vars takes its `default` as text ('None' when
    /// there is none). The entries are templated with the play's vars first.
    fn prompt_vars(&mut self, play: &Arc<Play>) -> Result<Arc<Play>, i32> {
        let Some(prompts) = play.keywords.get("vars_prompt") else {
            return Ok(play.clone());
        };
        let mut known = play.vars.clone();
        known.extend(self.opts.extra_vars.clone());
        let src: Arc<dyn VarSource> = Arc::new(crate::template::MapVars::new(Value::Object(known)));
        let prompts = match self.templar.render(prompts, &src) {
            Ok(Value::Array(a)) => a,
            Ok(Value::Null) => return Ok(play.clone()),
            Ok(other) => vec![other],
            Err(e) => {
                self.display.error(e.message());
                return Err(exit::ERROR);
            }
        };
        let mut vars = play.vars.clone();
        for p in prompts {
            let Value::Object(entry) = p else {
                continue;
            };
            let Some(name) = entry.get("name").map(playbook::scalar_text) else {
                continue;
            };
            if self.opts.extra_vars.contains_key(&name) {
                continue;
            }
            for refused in ["encrypt", "unsafe"] {
                let given = entry
                    .get(refused)
                    .is_some_and(|v| !v.is_null() && crate::modules::to_bool(v) != Some(false));
                if given {
                    self.display.error(&format!(
                        "fleetsim does not support the option '{refused}' of vars_prompt yet (variable '{name}')"
                    ));
                    return Err(exit::PARSE_ERROR);
                }
            }
            self.display
                .warning("Not prompting as we are not in interactive mode");
            let value = match entry.get("default") {
                None | Some(Value::Null) => "None".to_string(),
                Some(Value::String(s)) => s.clone(),
                Some(v) => crate::template::pyrepr::json_repr(v),
            };
            vars.insert(name, Value::String(value));
        }
        let mut new_play = (**play).clone();
        new_play.vars = vars;
        Ok(Arc::new(new_play))
    }

    fn run_play(&mut self, play: &Arc<Play>) -> Result<PlayEnd, i32> {
        self.included_roles.clear();
        // Roles are the play's own (its role cache): a later play runs them again.
        self.roles_ran.clear();
        self.roles_completed.clear();
        self.handlers_in_play = play_handlers(play);
        self.handler_names.clear();
        let play = &self.prompt_vars(play)?;
        let hosts_value = self.template_play_value(&play.hosts).map_err(|e| {
            self.display.error(&e);
            exit::ERROR
        })?;
        let pattern = match &hosts_value {
            Value::Array(items) => items
                .iter()
                .map(playbook::scalar_text)
                .collect::<Vec<_>>()
                .join(","),
            other => playbook::scalar_text(other),
        };
        let name = match &play.name {
            Some(n) => match self.template_play_value(&json!(n)) {
                Ok(v) => playbook::scalar_text(&v),
                Err(_) => n.clone(),
            },
            None => pattern.clone(),
        };
        self.current_play_name = name.clone();
        self.current_play_pattern = pattern.clone();
        let resolution = match self.inventory.resolve(&pattern) {
            Ok(r) => r,
            Err(e) => {
                self.display.error(&e.0);
                return Err(exit::ERROR);
            }
        };
        for w in &resolution.warnings {
            self.display.warning(&w.message);
        }
        // Hosts that failed in earlier plays stay in the play's batches (they count in serial
        // and max_fail_percentage) but run nothing, as ansible-core marks them failed at the
        // start of every batch.
        let hosts = resolution.hosts;
        // Ansible orders the hosts before the play's banner, so a bad `order:` stops the
        // run there, with the exit status of an options error.
        let ordered = match self.order_hosts(play, hosts.clone()) {
            Ok(h) => h,
            Err(e) => {
                self.display.error(&e);
                return Err(exit::BAD_OPTIONS);
            }
        };
        if hosts.is_empty() {
            self.display.banner(&format!("PLAY [{name}]"));
            self.display.line("skipping: no hosts matched");
            return Ok(PlayEnd::Completed);
        }
        for h in &hosts {
            self.ensure_host_vars(h);
        }
        // `order:` decides the order hosts run in (and so which host `run_once` picks), but
        // ansible_play_hosts(_all) stay in inventory order, as Ansible's `_hosts_cache_all`
        // is the pattern's hosts without `order`.
        let all_hosts = hosts;
        let hosts = ordered;
        self.removed_in_play.clear();
        let batches = match self.serial_batches(play, &hosts) {
            Ok(b) => b,
            Err(e) => {
                self.display.error(&e);
                return Err(exit::ERROR);
            }
        };
        // The executor reads the play's vars before its banner: a vars file named plainly
        // that does not parse stops the run there (ansible-core's parser error, status 4).
        if let Err(e) = self.check_plain_vars_files(play) {
            self.display.error(&e);
            return Err(exit::PARSE_ERROR);
        }
        let mut break_play = false;
        for batch in batches {
            // Ansible announces the play again for every serial batch.
            self.display.banner(&format!("PLAY [{name}]"));
            // The batch's hosts' `group_vars`/`host_vars` are read on demand, when their
            // first task needs them: a file that does not load stops the run after the banner.
            if let Some(e) = self.inventory.vars_error_for(&batch) {
                self.display.error(&e.to_string());
                return Err(exit::PARSE_ERROR);
            }
            let failed_before = self.failed.len() + self.unreachable.len();
            let carried: Vec<String> = self.failed.iter().cloned().collect();
            let end = self.run_batch(play, &batch, &all_hosts)?;
            // Unless `meta: clear_host_errors` cleared them during the batch.
            let carried_failures = carried.iter().any(|h| self.failed.contains(h));
            // ansible-playbook exits with the status of the last batch it ran: hosts failed
            // in it (or carried as failed into it from earlier batches) give 2, any host
            // unreachable so far 4, and max_fail_percentage 2 whatever else.
            let failed_in_batch = batch
                .iter()
                .any(|h| self.failed.contains(h) && !self.alive_at_batch_end.contains(h));
            self.last_batch_status = Some(if end == PlayEnd::MaxFailed {
                exit::HOST_FAILED
            } else if !self.unreachable.is_empty() {
                exit::HOST_UNREACHABLE
            } else if carried_failures || failed_in_batch {
                exit::HOST_FAILED
            } else {
                exit::OK
            });
            match end {
                PlayEnd::EndPlay => break,
                PlayEnd::MaxFailed | PlayEnd::BreakPlaybook => break_play = true,
                PlayEnd::Completed => {}
            }
            // The playbook stops when every host of the batch failed in it (hosts that
            // failed before the batch do not count again).
            let failed_now =
                (self.failed.len() + self.unreachable.len()).saturating_sub(failed_before);
            if failed_now >= batch.len() {
                return Ok(PlayEnd::BreakPlaybook);
            }
        }
        Ok(if break_play {
            PlayEnd::BreakPlaybook
        } else {
            PlayEnd::Completed
        })
    }

    /// The play's `order:` keyword (templated as Ansible post-validates it): the order hosts
    /// run in. `shuffle` draws from the run's seed.
    fn order_hosts(&self, play: &Play, mut hosts: Vec<String>) -> Result<Vec<String>, String> {
        let order = match play.keywords.get("order") {
            Some(v) => self.template_play_value(v)?,
            None => Value::Null,
        };
        match &order {
            Value::Null => {}
            Value::String(s) if s == "inventory" => {}
            Value::String(s) if s == "reverse_inventory" => hosts.reverse(),
            Value::String(s) if s == "sorted" => hosts.sort(),
            Value::String(s) if s == "reverse_sorted" => {
                hosts.sort();
                hosts.reverse();
            }
            Value::String(s) if s == "shuffle" => {
                let mut rng = fleetsim_sim::rng::Stream::derive(self.opts.seed, "#order");
                for i in (1..hosts.len()).rev() {
                    let j = rng.below(i as u64 + 1) as usize;
                    hosts.swap(i, j);
                }
            }
            other => {
                return Err(format!(
                    "Invalid 'order' specified for inventory hosts: {}",
                    playbook::scalar_text(other)
                ))
            }
        }
        Ok(hosts)
    }

    /// `serial:` as an int, a percentage, or a list of them (the last repeats).
    fn serial_batches(&self, play: &Play, hosts: &[String]) -> Result<Vec<Vec<String>>, String> {
        let Some(serial) = play.keywords.get("serial") else {
            return Ok(vec![hosts.to_vec()]);
        };
        let serial = self.template_play_value(serial)?;
        let steps: Vec<Value> = match serial {
            Value::Array(a) => a,
            Value::Null => return Ok(vec![hosts.to_vec()]),
            other => vec![other],
        };
        let total = hosts.len();
        let size_of = |v: &Value| -> Result<usize, String> {
            let n = match v {
                Value::Number(n) => n.as_f64().unwrap_or(0.0) as usize,
                Value::String(s) if s.trim().ends_with('%') => {
                    let pct: f64 = s
                        .trim()
                        .trim_end_matches('%')
                        .trim()
                        .parse()
                        .map_err(|_| format!("invalid serial value {s}"))?;
                    ((pct / 100.0) * total as f64) as usize
                }
                Value::String(s) => s
                    .trim()
                    .parse::<usize>()
                    .map_err(|_| format!("invalid serial value {s}"))?,
                other => return Err(format!("invalid serial value {other}")),
            };
            Ok(if n == 0 { total } else { n }.max(1))
        };
        let mut batches = Vec::new();
        let mut i = 0;
        let mut step = 0;
        while i < total {
            let n = size_of(&steps[step.min(steps.len() - 1)])?;
            let end = (i + n).min(total);
            batches.push(hosts[i..end].to_vec());
            i = end;
            step += 1;
        }
        Ok(batches)
    }

    /// Parses each `vars_files` entry written without a template (the ones ansible-core
    /// loads when it first gets the play's vars, before any host); the first that does not
    /// parse is the error.
    fn check_plain_vars_files(&self, play: &Play) -> Result<(), String> {
        for vf in &play.vars_files {
            let Value::String(name) = vf else {
                continue;
            };
            if crate::template::is_template(name) {
                continue;
            }
            let Some(path) = controller::controller_path(&self.opts.sandbox, &play.dir, name)
            else {
                continue;
            };
            if let Some(path) = crate::project::readable_file(&path) {
                crate::yaml::load_file(&path).map_err(|e| e.to_string())?;
            }
        }
        Ok(())
    }

    /// Play vars (and vars_files, which may name a file per host) for one host.
    fn play_layers(&mut self, play: &Play, host: &str) -> Result<Vec<Arc<Vars>>, String> {
        let mut layers = vec![Arc::new(play.vars.clone())];
        for vf in &play.vars_files {
            let base = TaskLayers {
                play: layers.clone(),
                ..TaskLayers::default()
            };
            let src: Arc<dyn VarSource> =
                Arc::new(HostVarSource::for_task(&self.store, host, &base));
            let candidates: Vec<Value> = match vf {
                Value::Array(a) => a.clone(),
                other => vec![other.clone()],
            };
            // The first candidate that exists is read; ansible-core 2.19 silently skips a
            // vars file it cannot find, but a file that does not parse stops the play.
            for c in candidates {
                let name = match self.templar.render(&c, &src) {
                    Ok(v) => playbook::scalar_text(&v),
                    Err(_) => continue,
                };
                // An absolute path inside the project (what `first_found` returns) is the
                // project's file; any other absolute path is on the simulated controller.
                let project = std::path::absolute(&play.dir).unwrap_or_else(|_| play.dir.clone());
                let path =
                    if Path::new(&name).is_absolute() && Path::new(&name).starts_with(&project) {
                        Some(PathBuf::from(&name))
                    } else {
                        controller::controller_path(&self.opts.sandbox, &play.dir, &name)
                    };
                let Some(path) = path else {
                    continue;
                };
                // Outside the project counts as missing (the next candidate is tried).
                let Some(path) = crate::project::readable_file(&path) else {
                    continue;
                };
                let node = crate::yaml::load_file(&path).map_err(|e| e.to_string())?;
                if let Value::Object(m) = node.to_value() {
                    layers.push(Arc::new(m));
                }
                break;
            }
        }
        Ok(layers)
    }

    fn run_batch(
        &mut self,
        play: &Arc<Play>,
        batch: &[String],
        all_hosts: &[String],
    ) -> Result<PlayEnd, i32> {
        let mut ctx = PlayCtx {
            play: play.clone(),
            batch: batch.to_vec(),
            all_hosts: all_hosts.to_vec(),
            play_layers: IndexMap::new(),
            alive: batch
                .iter()
                .filter(|h| !self.failed.contains(*h) && !self.unreachable.contains(*h))
                .cloned()
                .collect(),
            forced: IndexSet::new(),
            force_handlers: false,
            any_errors_fatal: play
                .keywords
                .get("any_errors_fatal")
                .and_then(crate::modules::to_bool)
                .unwrap_or(false),
            max_fail: play
                .keywords
                .get("max_fail_percentage")
                .and_then(Value::as_f64),
            batch_failed: BTreeSet::new(),
            end_play: false,
            ended: BTreeSet::new(),
            included: Vec::new(),
            free: false,
        };
        ctx.free = self.play_strategy(play, batch.len())?;
        // The callback's last banner outlives the batch: a later batch's result of the task
        // shown last shows no banner again (the batches run the same task objects).
        if ctx.free && ctx.max_fail.is_some() {
            self.display.warning("Using max_fail_percentage with the free strategy is not supported, as tasks are executed independently on each host");
        }
        for h in batch {
            match self.play_layers(play, h) {
                Ok(l) => {
                    ctx.play_layers.insert(h.clone(), l);
                }
                Err(e) => {
                    self.display.error(&e);
                    return Err(exit::ERROR);
                }
            }
        }
        ctx.force_handlers = match play.keywords.get("force_handlers") {
            Some(v) => {
                let v = self.template_play_value(v).map_err(|e| {
                    self.display.error(&e);
                    exit::ERROR
                })?;
                crate::modules::to_bool(&v).unwrap_or(false)
            }
            None => self.opts.force_handlers,
        };
        let end = self.run_batch_sections(play, &mut ctx);
        self.alive_at_batch_end = ctx.alive.clone();
        end
    }

    /// Facts, then each section of the play followed by its handlers, for one batch.
    fn run_batch_sections(&mut self, play: &Arc<Play>, ctx: &mut PlayCtx) -> Result<PlayEnd, i32> {
        self.update_play_magic(ctx);
        // ansible-core's PlayIterator: `implied` is an unset or true gather_facts.
        let keyword = play
            .keywords
            .get("gather_facts")
            .filter(|v| !v.is_null())
            .map(|v| crate::modules::to_bool(v).unwrap_or(true));
        let gather = match self.opts.gathering {
            crate::config::Gathering::Implicit | crate::config::Gathering::Smart => {
                keyword.unwrap_or(true)
            }
            crate::config::Gathering::Explicit => keyword.unwrap_or(false),
        };
        let sections: [&Vec<Arc<Block>>; 3] = [&play.pre_tasks, &play.tasks, &play.post_tasks];
        // --start-at-task: PlayIterator walks a play's tasks for the one to start at; a play
        // without it is done before it starts (no facts gathered).
        if let Some(target) = &self.start_at {
            if !sections
                .iter()
                .any(|blocks| blocks_start_at(blocks, target))
            {
                return Ok(PlayEnd::Completed);
            }
        }
        if gather && !ctx.alive.is_empty() {
            self.gather_facts(ctx);
        }
        for blocks in sections {
            if ctx.end_play {
                return Ok(PlayEnd::EndPlay);
            }
            let running: Vec<String> = ctx.alive.iter().cloned().collect();
            let end = self.run_section(ctx, blocks.clone())?;
            if end == PlayEnd::MaxFailed {
                return Ok(PlayEnd::MaxFailed);
            }
            if ctx.end_play {
                return Ok(PlayEnd::EndPlay);
            }
            // ansible-core wraps each section in a block whose `always` flushes handlers when
            // force_handlers is on: a host that failed in this section still runs the
            // handlers it notified (not one that became unreachable or was ended).
            if ctx.force_handlers {
                ctx.forced = running
                    .into_iter()
                    .filter(|h| {
                        !ctx.alive.contains(h)
                            && !self.unreachable.contains(h)
                            && !ctx.ended.contains(h)
                    })
                    .collect();
            }
            // The implicit flush after a section is tagged `always`: `--skip-tags always`
            // drops it, and notified handlers then never run.
            let end = if self.tags_select(&["always".to_string()]) {
                self.flush_handlers(ctx)?
            } else {
                PlayEnd::Completed
            };
            ctx.forced.clear();
            if end == PlayEnd::MaxFailed {
                return Ok(PlayEnd::MaxFailed);
            }
        }
        Ok(PlayEnd::Completed)
    }

    /// ansible_play_hosts and friends for the current batch.
    fn update_play_magic(&mut self, ctx: &PlayCtx) {
        // A failed host still running its always sections is no longer in the batch (Ansible
        // lists the hosts not in the play's `_removed_hosts`, which a failure joins at once).
        let alive: Vec<&String> = ctx
            .batch
            .iter()
            .filter(|h| {
                ctx.alive.contains(*h)
                    && !self.failed.contains(*h)
                    && !self.removed_in_play.contains(*h)
            })
            .collect();
        let all_alive: Vec<&String> = ctx
            .all_hosts
            .iter()
            .filter(|h| {
                !self.failed.contains(*h)
                    && !self.unreachable.contains(*h)
                    && !ctx.ended.contains(*h)
                    && !self.removed_in_play.contains(*h)
            })
            .collect();
        let mut store = self.store.lock().unwrap_or_else(|e| e.into_inner());
        store.set_shared_magic("ansible_play_hosts", json!(all_alive));
        store.set_shared_magic("play_hosts", json!(alive));
        store.set_shared_magic("ansible_play_batch", json!(alive));
        store.set_shared_magic("ansible_play_hosts_all", json!(ctx.all_hosts));
        // In place when no variable source of a finished task still holds the old map
        // (the usual case): it holds `groups`, which is costly to copy before every task.
        let common = Arc::make_mut(&mut store.common_magic);
        common.insert(
            "ansible_play_name".into(),
            json!(ctx.play.name.clone().unwrap_or_default()),
        );
    }

    fn gather_facts(&mut self, ctx: &mut PlayCtx) {
        let smart = self.opts.gathering == crate::config::Gathering::Smart;
        let hosts: Vec<String> = ctx
            .batch
            .iter()
            .filter(|h| ctx.alive.contains(*h))
            .filter(|h| !(smart && self.facts_gathered.contains(*h)))
            .cloned()
            .collect();
        if hosts.is_empty() {
            // `smart`: every host's facts are known already; no host runs the task, and
            // the linear strategy shows no banner for a task no host runs.
            return;
        }
        self.display.banner("TASK [Gathering Facts]");
        self.current_task_name = "Gathering Facts".into();
        // The play's gather_subset, gather_timeout and fact_path become setup's options.
        let mut setup_args = Map::new();
        for k in ["gather_subset", "gather_timeout", "fact_path"] {
            if let Some(v) = ctx.play.keywords.get(k).filter(|v| !v.is_null()) {
                setup_args.insert(k.to_string(), v.clone());
            }
        }
        for h in hosts {
            // The host's variables at the play level: the connection, the interpreter and a
            // templated gather_subset read them.
            let src: Arc<dyn VarSource> = Arc::new(HostVarSource::for_task(
                &self.store,
                &h,
                &TaskLayers {
                    play: ctx.play_layers.get(&h).cloned().unwrap_or_default(),
                    ..TaskLayers::default()
                },
            ));
            let keyword = ctx.play.keywords.get("connection");
            if let Some(name) = task::unknown_connection(self, keyword, &h, None, &src) {
                let message = format!("Task failed: {}", task::connection_not_found(&name, &src));
                self.display.line(&format!("[ERROR]: {message}"));
                self.gathering_failed(ctx, &h, &crate::modules::fail(&message));
                continue;
            }
            if let Some(r) = task::fleet_gate(self, &h, &h, true) {
                let json = output::dump_result(&r, self.display.verbosity);
                if r.get("unreachable") == Some(&json!(true)) {
                    // Gathering facts has no task position: the error is its message alone.
                    if let Some(Value::String(msg)) = r.get("msg") {
                        self.display.line(&format!("[ERROR]: {msg}"));
                    }
                    self.display
                        .line(&format!("fatal: [{h}]: UNREACHABLE! => {json}"));
                    self.stat(&h).unreachable += 1;
                    self.unreachable.insert(h.clone());
                } else {
                    self.display
                        .line(&format!("fatal: [{h}]: FAILED! => {json}"));
                    self.stat(&h).failed += 1;
                    self.failed.insert(h.clone());
                }
                ctx.alive.shift_remove(&h);
                continue;
            }
            let facts = match self.host_facts(&h) {
                Ok(f) => f,
                Err(e) => {
                    // A host whose facts cannot be gathered (its sandbox, an unknown
                    // `fleetsim_os`) fails here and leaves the play, as a failed setup does.
                    self.gathering_failed(ctx, &h, &crate::modules::fail(&e));
                    continue;
                }
            };
            // The module runs with the play's environment, which its `env` facts show.
            let facts = match self.play_environment(ctx, &h) {
                Ok(env) if !env.is_empty() => {
                    let mut facts = facts;
                    if let Some(Value::Object(known)) = facts.get_mut("env") {
                        for (k, v) in env {
                            known.insert(k, Value::String(v));
                        }
                    }
                    facts
                }
                Ok(_) => facts,
                Err(e) => {
                    self.gathering_failed(ctx, &h, &crate::modules::fail(&e));
                    continue;
                }
            };
            // A templated gather_subset is templated for each host, with its variables, as
            // the implicit setup task's arguments are.
            let host_setup_args = if setup_args
                .values()
                .any(|v| crate::template::is_template(&v.to_string()))
            {
                match self
                    .templar
                    .render(&Value::Object(setup_args.clone()), &src)
                {
                    Ok(Value::Object(m)) => m,
                    Ok(_) => setup_args.clone(),
                    Err(e) => {
                        self.gathering_failed(ctx, &h, &crate::modules::fail(e.message()));
                        continue;
                    }
                }
            } else {
                setup_args.clone()
            };
            // The play keyword is a list: a string is its one element (`"!all,min"` stays
            // one entry, split by the collectors but reported as written).
            let mut host_setup_args = host_setup_args;
            if let Some(Value::String(text)) = host_setup_args.get("gather_subset").cloned() {
                host_setup_args.insert("gather_subset".into(), json!([text]));
            }
            // The setup module runs with the host's configured interpreter.
            let interpreter = task::python_interpreter(self, "setup", true, &h, None, &src);
            if let Some(interpreter) =
                task::missing_interpreter(interpreter.as_deref(), &mut self.world, &h)
            {
                // The gather_facts action reports its setup module's failure among its
                // failed modules.
                let mut setup =
                    task::interpreter_not_found("setup", &host_setup_args, &interpreter);
                setup.remove("_ansible_action_failed");
                setup.insert("exception".into(), json!("(traceback unavailable)"));
                let mut failure = crate::modules::fail(
                    "The following modules failed to execute: ansible.legacy.setup.",
                );
                failure.insert("ansible_facts".into(), json!({}));
                failure.insert("changed".into(), json!(false));
                failure.insert(
                    "failed_modules".into(),
                    json!({ "ansible.legacy.setup": Value::Object(setup) }),
                );
                self.gathering_failed(ctx, &h, &failure);
                continue;
            }
            let now = self.world.clock.now();
            let fs = self.world.host(&h).ok().map(|host| &mut host.fs);
            let facts =
                match crate::modules::setup::select("setup", &host_setup_args, facts, fs, now) {
                    Ok((f, warnings)) => {
                        for w in warnings {
                            self.display.warning(&w);
                        }
                        f
                    }
                    Err(r) => {
                        // A bad gather_subset fails the gathering as setup's own failure.
                        self.gathering_failed(ctx, &h, &r);
                        continue;
                    }
                };
            self.store_facts(&h, facts);
            self.facts_gathered.insert(h.clone());
            self.display.line(&format!("ok: [{h}]"));
            self.stat(&h).ok += 1;
        }
        self.world.clock.advance(task::TASK_COST_SECONDS);
    }

    /// A host whose fact gathering failed: its `fatal:` line, its count, and it leaves the
    /// play, as a failed setup task does.
    fn gathering_failed(&mut self, ctx: &mut PlayCtx, h: &str, r: &crate::modules::ModuleResult) {
        let json = output::dump_result(r, self.display.verbosity);
        self.display
            .line(&format!("fatal: [{h}]: FAILED! => {json}"));
        // The implicit task inherits the play's keywords, ignore_errors among them.
        let ignored = ctx.play.keywords.get("ignore_errors").is_some_and(|v| {
            let layers = TaskLayers {
                play: ctx.play_layers.get(h).cloned().unwrap_or_default(),
                ..TaskLayers::default()
            };
            let src: Arc<dyn VarSource> =
                Arc::new(HostVarSource::for_task(&self.store, h, &layers));
            self.templar.render(v, &src).is_ok_and(|v| {
                crate::modules::to_bool(&v).unwrap_or_else(|| crate::template::json_truthy(&v))
            })
        });
        if ignored {
            self.display.line("...ignoring");
            let stat = self.stat(h);
            stat.ok += 1;
            stat.ignored += 1;
            return;
        }
        self.stat(h).failed += 1;
        self.failed.insert(h.to_string());
        ctx.alive.shift_remove(h);
    }

    /// The play's `environment:` templated for `host`, as the implicit fact gathering
    /// runs with it.
    fn play_environment(
        &self,
        ctx: &PlayCtx,
        host: &str,
    ) -> Result<IndexMap<String, String>, String> {
        let Some(written) = ctx.play.keywords.get("environment") else {
            return Ok(IndexMap::new());
        };
        let layers = TaskLayers {
            play: ctx.play_layers.get(host).cloned().unwrap_or_default(),
            ..TaskLayers::default()
        };
        let src: Arc<dyn VarSource> = Arc::new(HostVarSource::for_task(&self.store, host, &layers));
        environment::resolve_play(&self.templar, written, &src)
    }

    /// The facts `setup` reports for `host` now (a clock_skew fault moves its clock).
    pub(crate) fn host_facts(&mut self, host: &str) -> Result<Vars, String> {
        let now = self.world.clock.now();
        let skew = self
            .world
            .with_fleet(|f| f.host_faults(host).clock_offset)
            .unwrap_or(0.0);
        self.world
            .host(host)
            .map_err(|e| e.to_string())?
            .facts(now + skew)
    }

    /// Stores the facts a module returned, as Ansible's fact cache keeps them: `ansible_X`
    /// is `ansible_facts.X` and the variable `ansible_X`; a key without the prefix
    /// (`getent_passwd`) is `ansible_facts.getent_passwd` and the bare variable.
    pub(crate) fn store_module_facts(&mut self, host: &str, facts: Vars) {
        let mut short = Vars::new();
        let mut bare = Vec::new();
        for (k, v) in facts {
            match k.strip_prefix("ansible_") {
                Some(s) => {
                    short.insert(s.to_string(), v);
                }
                _ => {
                    bare.push(k.clone());
                    short.insert(k, v);
                }
            }
        }
        if !bare.is_empty() {
            let mut store = self.store.lock().unwrap_or_else(|e| e.into_inner());
            store
                .bare_facts
                .entry(host.to_string())
                .or_default()
                .extend(bare);
        }
        self.store_facts(host, short);
    }

    /// Stores gathered facts, with inventory overrides (`ansible_memtotal_mb=...` in the
    /// inventory wins over the simulated value, as a user would expect).
    pub(crate) fn store_facts(&mut self, host: &str, mut facts: Vars) {
        let mut store = self.store.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(inv) = store.inventory.get(host) {
            for (k, v) in inv.iter() {
                if let Some(name) = k.strip_prefix("ansible_") {
                    if facts.contains_key(name)
                        && !matches!(
                            name,
                            "host" | "port" | "user" | "connection" | "python_interpreter"
                        )
                    {
                        facts.insert(name.to_string(), v.clone());
                    }
                }
            }
        }
        let merged = match store.facts.get(host) {
            Some(old) => {
                let mut m = (**old).clone();
                m.extend(facts);
                m
            }
            None => facts,
        };
        store.facts.insert(host.to_string(), Arc::new(merged));
    }

    /// The linear strategy over one section's blocks for the batch's hosts, as ansible-core
    /// 2.19 runs it: the section's tasks (rescue and always included) form one ordered list,
    /// and each step runs the next task in that list that some host is waiting for, on
    /// every host waiting for it. Included tasks join the list right after their include.
    fn run_section(&mut self, ctx: &mut PlayCtx, blocks: Vec<Arc<Block>>) -> Result<PlayEnd, i32> {
        let hosts: Vec<String> = ctx
            .batch
            .iter()
            .filter(|h| ctx.alive.contains(*h))
            .cloned()
            .collect();
        if ctx.free {
            let blocks: Vec<Arc<Block>> = blocks
                .iter()
                .map(|b| self.filter_tagged(b))
                .filter(|b| block_has_tasks(b))
                .collect();
            return self.run_blocks_free(ctx, blocks, &hosts, true);
        }
        self.run_blocks(ctx, blocks, &hosts)
    }

    /// The linear strategy over `blocks` for `hosts` (a section's, or a handler's).
    fn run_blocks(
        &mut self,
        ctx: &mut PlayCtx,
        blocks: Vec<Arc<Block>>,
        hosts: &[String],
    ) -> Result<PlayEnd, i32> {
        let blocks: Vec<Arc<Block>> = blocks
            .iter()
            .map(|b| self.filter_tagged(b))
            .filter(|b| block_has_tasks(b))
            .collect();
        if ctx.free {
            return self.run_blocks_free(ctx, blocks, hosts, false);
        }
        let mut all_tasks: Vec<Arc<Task>> = blocks.iter().flat_map(|b| flatten_block(b)).collect();
        let blocks = Arc::new(blocks);
        let mut cursors: IndexMap<String, HostCursor> = hosts
            .iter()
            .map(|h| (h.clone(), HostCursor::new(blocks.clone())))
            .collect();
        let mut cur = 0usize;
        loop {
            if ctx.end_play {
                return Ok(PlayEnd::Completed);
            }
            let mut pending: Vec<(String, iterator::NextTask)> = Vec::new();
            for (h, c) in cursors.iter_mut() {
                if !ctx.alive.contains(h) && !ctx.forced.contains(h) {
                    continue;
                }
                let next = self.peek_past_completed_roles(h, c);
                // A failure the cursor only now knows was not caught (the host failed in a
                // rescue and its always section is done, or had nothing to run): the host is
                // out of the play, and runs no handlers.
                if c.failed && ctx.alive.contains(h) {
                    ctx.alive.shift_remove(h);
                    ctx.batch_failed.insert(h.clone());
                }
                if let Some(next) = next {
                    pending.push((h.clone(), next));
                }
            }
            if pending.is_empty() {
                return Ok(PlayEnd::Completed);
            }
            let waiting = |t: &Arc<Task>| pending.iter().any(|(_, n)| Arc::ptr_eq(&n.task, t));
            let n = all_tasks.len();
            let found = (cur..n)
                .chain(0..cur.min(n))
                .find(|&i| waiting(&all_tasks[i]));
            let task = match found {
                Some(i) => {
                    cur = i + 1;
                    all_tasks[i].clone()
                }
                // A task the list does not know (cannot happen for well-formed plays):
                // run the first host's task rather than stall.
                None => pending[0].1.task.clone(),
            };
            let members: Vec<(String, iterator::NextTask)> = pending
                .into_iter()
                .filter(|(_, n)| Arc::ptr_eq(&n.task, &task))
                .collect();
            for (h, _) in &members {
                if let Some(c) = cursors.get_mut(h) {
                    c.advance();
                }
            }
            ctx.included.clear();
            let end = self.run_task_for_hosts(ctx, &task, &members, &mut cursors)?;
            if !ctx.included.is_empty() {
                let new: Vec<Arc<Task>> =
                    ctx.included.iter().flat_map(|b| flatten_block(b)).collect();
                let at = cur.min(all_tasks.len());
                all_tasks.splice(at..at, new);
            }
            if end == PlayEnd::MaxFailed {
                return Ok(PlayEnd::MaxFailed);
            }
        }
    }

    /// The free strategy over `blocks` for `hosts`, on the virtual clock: each host takes
    /// its next task as soon as its previous one is done (free.py queues every unblocked
    /// host in turn, then collects the results that have arrived). A host's output is held
    /// until its task ends, and shown in the order tasks end (hosts in order for a tie),
    /// each result under its task's banner when another task's result came last.
    /// With `flush` (a play section), a host that is done runs the handlers it notified
    /// at once, as 2.19's iterator gives each host its handlers when it ends the section.
    fn run_blocks_free(
        &mut self,
        ctx: &mut PlayCtx,
        blocks: Vec<Arc<Block>>,
        hosts: &[String],
        flush: bool,
    ) -> Result<PlayEnd, i32> {
        let blocks = Arc::new(blocks);
        let mut cursors: IndexMap<String, HostCursor> = hosts
            .iter()
            .map(|h| (h.clone(), HostCursor::new(blocks.clone())))
            .collect();
        let start = self.world.clock.now();
        // When each host's worker is free again.
        let mut ready: IndexMap<String, f64> = hosts.iter().map(|h| (h.clone(), start)).collect();
        // Output not shown yet: (end time, order queued, task, banner, output).
        let mut held: Vec<FreeResult> = Vec::new();
        let mut seq = 0usize;
        let mut latest = start;
        let mut handler_blocks: Vec<(Vec<usize>, Arc<Block>)> = Vec::new();
        let result = loop {
            if ctx.end_play {
                break Ok(PlayEnd::Completed);
            }
            let mut pending: Vec<(String, iterator::NextTask)> = Vec::new();
            for (h, c) in cursors.iter_mut() {
                if !ctx.alive.contains(h) && !ctx.forced.contains(h) {
                    continue;
                }
                let mut next = self.peek_past_completed_roles(h, c);
                if c.failed && ctx.alive.contains(h) {
                    ctx.alive.shift_remove(h);
                    ctx.batch_failed.insert(h.clone());
                }
                if next.is_none() && flush && ctx.alive.contains(h) {
                    self.resolve_notifications(ctx, h);
                }
                if next.is_none()
                    && flush
                    && ctx.alive.contains(h)
                    && self.tags_select(&["always".to_string()])
                {
                    let due: Vec<usize> = self
                        .notified
                        .get_mut(h)
                        .map(|set| {
                            let mut v: Vec<usize> = set.drain(..).collect();
                            v.sort_unstable();
                            v
                        })
                        .unwrap_or_default();
                    if !due.is_empty() {
                        let handlers = self.handlers_in_play.clone();
                        let items: Vec<Item> = due
                            .iter()
                            .filter_map(|&i| handlers.get(i))
                            .map(|t| Item::Task(t.clone()))
                            .collect();
                        let first = &handlers[due[0]];
                        let block = Arc::new(Block {
                            origin: first.origin.clone(),
                            name: None,
                            block: items,
                            rescue: Vec::new(),
                            always: Vec::new(),
                            implicit: true,
                        });
                        // One shared block per set of handlers: hosts running the same
                        // handler show one banner, as they run the same task.
                        let block = match handler_blocks.iter().find(|(k, _)| *k == due) {
                            Some((_, b)) => b.clone(),
                            None => {
                                handler_blocks.push((due.clone(), block.clone()));
                                block
                            }
                        };
                        c.include(&[task::Included {
                            blocks: vec![block],
                            vars: Arc::new(Map::new()),
                            params: Arc::new(Map::new()),
                            name: String::new(),
                            item_label: None,
                        }]);
                        next = c.peek();
                    }
                }
                if let Some(next) = next {
                    pending.push((h.clone(), next));
                }
            }
            if pending.is_empty() {
                break Ok(PlayEnd::Completed);
            }
            let now = pending
                .iter()
                .map(|(h, _)| ready.get(h).copied().unwrap_or(start))
                .fold(f64::INFINITY, f64::min);
            self.show_free_results(&mut held, Some(now));
            // Tasks queued so far in this pass: each worker starts a little after the one
            // queued before it (free.py queues host after host, each a forked worker), so
            // a result of the first host can come back, and that host go on to a meta task
            // the strategy runs at once, before the second host's result of the same task.
            let mut queued = 0u32;
            for (h, next) in pending {
                if ready.get(&h).copied().unwrap_or(start) > now + FREE_TIE {
                    continue;
                }
                // The host may have been taken out by an earlier host's task (end_play).
                if ctx.end_play || (!ctx.alive.contains(&h) && !ctx.forced.contains(&h)) {
                    continue;
                }
                if let Some(c) = cursors.get_mut(&h) {
                    c.advance();
                }
                let start = if next.task.action == "meta" {
                    now
                } else {
                    queued += 1;
                    now + f64::from(queued - 1) * FREE_QUEUE_SECONDS
                };
                self.world.clock.cut_to(start);
                self.world.clock.advance_to(start);
                self.display.hold();
                self.free_banner = None;
                ctx.included.clear();
                let task = next.task.clone();
                let run = self.run_task_for_hosts(ctx, &task, &[(h.clone(), next)], &mut cursors);
                let lines = self.display.release();
                let end = self.world.clock.now();
                latest = latest.max(end);
                ready.insert(h.clone(), end);
                held.push(FreeResult {
                    end,
                    seq,
                    task,
                    banner: self.free_banner.take(),
                    lines,
                });
                seq += 1;
                if let Err(code) = run {
                    self.show_free_results(&mut held, None);
                    return Err(code);
                }
            }
        };
        self.show_free_results(&mut held, None);
        self.world.clock.advance_to(latest);
        result
    }

    /// The host's next task, past the tasks of a role it has completed in this play
    /// (ansible-core's iterator skips them, when the role does not allow duplicates; a
    /// notified handler runs whatever role it is of).
    fn peek_past_completed_roles(
        &self,
        host: &str,
        cursor: &mut HostCursor,
    ) -> Option<iterator::NextTask> {
        loop {
            let next = cursor.peek()?;
            let done = !next.task.is_handler
                && next
                    .task
                    .role
                    .as_ref()
                    .and_then(|r| r.dedup_key.get())
                    .is_some_and(|key| {
                        self.roles_completed
                            .contains(&(host.to_string(), key.clone()))
                    });
            if !done {
                return Some(next);
            }
            cursor.advance();
        }
    }

    /// Shows the held output of tasks that ended by `until` (all of it with None).
    fn show_free_results(&mut self, held: &mut Vec<FreeResult>, until: Option<f64>) {
        held.sort_by(|a, b| a.end.total_cmp(&b.end).then(a.seq.cmp(&b.seq)));
        let due = match until {
            Some(t) => held.iter().take_while(|r| r.end <= t + FREE_TIE).count(),
            None => held.len(),
        };
        for r in held.drain(..due) {
            if r.lines.is_empty() {
                continue;
            }
            let same = self
                .last_banner
                .as_ref()
                .is_some_and(|t| Arc::ptr_eq(t, &r.task));
            if !same {
                // Output with no banner (a META header) leaves the callback's last banner.
                if let Some(b) = &r.banner {
                    self.display.banner(b);
                    self.last_banner = Some(r.task.clone());
                }
            }
            self.display.replay(r.lines);
        }
    }

    /// A task's banner: printed now under linear, kept for its results under free.
    fn task_banner(&mut self, ctx: &PlayCtx, text: &str) {
        if ctx.free {
            self.free_banner = Some(text.to_string());
        } else {
            self.display.banner(text);
        }
    }

    /// The play's strategy keyword, templated as ansible-core post-validates it: whether
    /// it runs free. `host_pinned` is free with a worker pinned to each host, the same
    /// ordering while every host of the batch has a worker (forks); fewer workers than hosts
    /// would hold hosts back in ways fleetsim does not model, so that is refused.
    fn play_strategy(&mut self, play: &Play, batch: usize) -> Result<bool, i32> {
        let Some(v) = play.keywords.get("strategy") else {
            return Ok(false);
        };
        let v = self.template_play_value(v).map_err(|e| {
            self.display.error(&e);
            exit::ERROR
        })?;
        if v.is_null() {
            return Ok(false);
        }
        let name = playbook::scalar_text(&v);
        let short = name
            .strip_prefix("ansible.builtin.")
            .or_else(|| name.strip_prefix("ansible.legacy."))
            .unwrap_or(&name);
        match short {
            "linear" => Ok(false),
            "free" => Ok(true),
            "host_pinned" if batch <= self.opts.forks.max(1) => Ok(true),
            "host_pinned" => {
                self.display.error(&format!(
                    "fleetsim does not simulate the host_pinned strategy with fewer forks ({}) than hosts in a batch ({batch})\n{}",
                    self.opts.forks.max(1),
                    crate::diag::source_context(&play.origin, None)
                ));
                Err(exit::ERROR)
            }
            "debug" => {
                self.display.error(&format!(
                    "fleetsim does not simulate the debug strategy (an interactive debugger)\n{}",
                    crate::diag::source_context(&play.origin, None)
                ));
                Err(exit::ERROR)
            }
            _ => {
                self.display.error(&format!(
                    "Invalid play strategy specified: {name}\n{}",
                    crate::diag::source_context(&play.origin, None)
                ));
                Err(exit::ERROR)
            }
        }
    }

    /// `block` without the tasks `--tags`/`--skip-tags` leave out, nor the blocks left empty,
    /// as Ansible's `Block.filter_tagged_tasks` builds the play iterator's blocks: a rescue
    /// whose tasks are all left out is no rescue, so its block's failure stays a failure.
    /// Handlers run whatever the tags.
    fn filter_tagged(&self, block: &Arc<Block>) -> Arc<Block> {
        let keep = |items: &[Item]| -> Vec<Item> {
            items
                .iter()
                .filter_map(|it| match it {
                    Item::Task(t) => (t.is_handler || self.tags_allow(t)).then(|| it.clone()),
                    Item::Block(b) => {
                        let nb = self.filter_tagged(b);
                        block_has_tasks(&nb).then_some(Item::Block(nb))
                    }
                })
                .collect()
        };
        let (b, r, a) = (keep(&block.block), keep(&block.rescue), keep(&block.always));
        let same = |x: &[Item], y: &[Item]| {
            x.len() == y.len()
                && x.iter().zip(y).all(|p| match p {
                    (Item::Task(m), Item::Task(n)) => Arc::ptr_eq(m, n),
                    (Item::Block(m), Item::Block(n)) => Arc::ptr_eq(m, n),
                    _ => false,
                })
        };
        if same(&b, &block.block) && same(&r, &block.rescue) && same(&a, &block.always) {
            // Nothing left out: keep the block itself (its identity marks included files).
            return block.clone();
        }
        Arc::new(Block {
            block: b,
            rescue: r,
            always: a,
            ..(**block).clone()
        })
    }

    /// Whether `--tags`/`--skip-tags` select this task (Ansible's `evaluate_tags`).
    fn tags_allow(&self, task: &Task) -> bool {
        self.tags_select(&task.tags)
    }

    /// Whether `--tags`/`--skip-tags` select something tagged so.
    fn tags_select(&self, tags: &[String]) -> bool {
        let tags: BTreeSet<&str> = tags.iter().map(String::as_str).collect();
        let only: Vec<&str> = if self.opts.tags.is_empty() {
            vec!["all"]
        } else {
            self.opts.tags.iter().map(String::as_str).collect()
        };
        let skip: Vec<&str> = self.opts.skip_tags.iter().map(String::as_str).collect();
        let untagged = tags.is_empty();
        let run = tags.contains("always")
            || (only.contains(&"all") && !tags.contains("never"))
            || only.iter().any(|t| tags.contains(t))
            || (only.contains(&"tagged") && !untagged && !tags.contains("never"))
            || (only.contains(&"untagged") && untagged);
        if !run || skip.is_empty() {
            return run;
        }
        if skip.contains(&"all") {
            return tags.contains("always") && !skip.contains(&"always");
        }
        !(skip.iter().any(|t| tags.contains(t))
            || (skip.contains(&"tagged") && !untagged)
            || (skip.contains(&"untagged") && untagged))
    }

    /// Runs one task on the hosts whose turn it is, prints the results, updates stats and
    /// cursors, and applies any_errors_fatal / max_fail_percentage.
    fn run_task_for_hosts(
        &mut self,
        ctx: &mut PlayCtx,
        task: &Arc<Task>,
        members: &[(String, iterator::NextTask)],
        cursors: &mut IndexMap<String, HostCursor>,
    ) -> Result<PlayEnd, i32> {
        // Handlers run whatever the tags: only tasks are filtered.
        if !task.is_handler && !self.tags_allow(task) {
            return Ok(PlayEnd::Completed);
        }
        if let Some(target) = &self.start_at {
            if !starts_at(task, target) {
                return Ok(PlayEnd::Completed);
            }
            self.start_at = None;
        }
        if task.action == "meta" {
            return self.run_meta(ctx, task, members, cursors);
        }
        // Dynamic includes nest in ansible-core's Python stack: a task file that includes
        // itself ends with its RecursionError (an unexpected exception, exit 250) before
        // the task 247 includes deep is shown.
        if task.include_depth >= MAX_INCLUDE_DEPTH {
            self.display.error(
                "Unexpected Exception, this is probably a bug: maximum recursion depth exceeded while calling a Python object",
            );
            return Err(exit::UNEXPECTED);
        }
        self.update_play_magic(ctx);
        self.refuse_omitted_action(ctx, task, &members[..1])?;
        let banner_kind = if task.is_handler {
            "RUNNING HANDLER"
        } else {
            "TASK"
        };
        let shown = self.templated_name(ctx, task, &members[0].0, &members[0].1);
        self.task_banner(ctx, &format!("{banner_kind} [{shown}]"));
        // The banner came with the first host's task; the others are templated after it.
        self.refuse_omitted_action(ctx, task, &members[1..])?;
        self.current_task_name = shown;
        self.check_throttle(task, &members[0].0, &members[0].1)?;
        // add_host and pause act on the run, not on a host: Ansible runs them once for the
        // batch (BYPASS_HOST_LOOP).
        let bypass = matches!(
            task.action.as_str(),
            "add_host" | "pause" | "ansible.builtin.add_host" | "ansible.builtin.pause"
        );
        let mut run_once = bypass
            || task
                .keyword("run_once")
                .map(|v| self.keyword_bool(v, &members[0].0, task, &members[0].1))
                .unwrap_or(false);
        if ctx.free && run_once {
            // free.py refuses what bypasses the host loop, and runs a run_once task on every
            // host after a warning.
            if bypass {
                let short = task.action.rsplit('.').next().unwrap_or(&task.action);
                self.display.error(&format!(
                    "The '{short}' module bypasses the host loop, which is currently not supported in the free strategy and would instead execute for every host in the inventory list.\n{}",
                    crate::diag::source_context(&task.origin, None)
                ));
                return Err(exit::ERROR);
            }
            self.display.warning("Using run_once with the free strategy is not currently supported. This task will still be executed for every host in the inventory list.");
            run_once = false;
        }
        if ctx.free
            && task
                .keyword("any_errors_fatal")
                .and_then(crate::modules::to_bool)
                .unwrap_or(false)
        {
            self.display.warning("Using any_errors_fatal with the free strategy is not supported, as tasks are executed independently on each host");
        }
        let mut outcomes: Vec<HostOutcome> = Vec::new();
        self.include_cache.clear();
        let hosts: Vec<&(String, iterator::NextTask)> = if run_once {
            members.iter().take(1).collect()
        } else {
            members.iter().collect()
        };
        *self
            .controller
            .search_dirs
            .lock()
            .unwrap_or_else(|e| e.into_inner()) = task::search_dirs(task, ctx);
        let mut span = self.world.clock.parallel_start();
        // Each host's virtual start and end of the task, for the event log's timeline.
        let mut host_spans: Vec<(f64, f64)> = Vec::new();
        for (h, next) in hosts {
            span.next_host(&mut self.world.clock);
            let started = self.world.clock.elapsed();
            *self
                .controller
                .now
                .lock()
                .unwrap_or_else(|e| e.into_inner()) = self.world.clock.now();
            let layers = self.task_layers(ctx, h, task, next);
            let outcome =
                match crate::panic_guard::guarded(|| task::run_on_host(self, ctx, task, h, layers))
                {
                    Ok(outcome) => outcome,
                    Err(bug) => {
                        let outcome = task::internal_error_outcome(self, task, h, &bug);
                        self.display.note(&bug.report_line());
                        self.internal_errors.push(bug);
                        outcome
                    }
                };
            host_spans.push((started, self.world.clock.elapsed()));
            outcomes.push(outcome);
        }
        span.finish(&mut self.world.clock);
        // A change notifying a handler nobody answers to stops the run before its results
        // are shown, as ansible-core does.
        let mut unanswered = None;
        for o in outcomes.iter().filter(|o| o.changed && !o.skipped) {
            for topic in self.notify_topics(ctx, task, members, &o.host, &o.notify) {
                if unanswered.is_none() && self.handlers_notified(ctx, &o.host, &topic).is_empty() {
                    unanswered = Some(topic);
                }
            }
        }
        if let Some(topic) = unanswered {
            self.display.error(&format!(
                "The requested handler '{topic}' was not found in either the main handlers list nor in the listening handlers list"
            ));
            return Err(exit::ERROR);
        }
        // An included file that does not parse stops the run once the task's results are
        // shown (ansible-core's parser errors propagate out of the strategy).
        if let Some((msg, code)) = outcomes.iter().find_map(|o| match &o.include_failure {
            Some(task::IncludeFailure::Fatal(msg, code)) => Some((msg.clone(), *code)),
            _ => None,
        }) {
            for o in &outcomes {
                self.print_outcome(o);
            }
            self.display.error(&msg);
            return Err(code);
        }
        let mut include_errors: Vec<String> = Vec::new();
        for (index, o) in outcomes.iter().enumerate() {
            // A missing file or role: its error once, then the fatal line of each host.
            for reason in o.include_failure.iter().flat_map(|f| f.reasons()) {
                if !include_errors.contains(reason) {
                    self.display.error(reason);
                    include_errors.push(reason.clone());
                }
            }
            self.print_outcome(o);
            let status = if o.unreachable {
                "unreachable"
            } else if o.failed && !o.ignored {
                "failed"
            } else if o.skipped {
                "skipped"
            } else if o.changed {
                "changed"
            } else {
                "ok"
            };
            let mut detail = json!({
                "task": self.current_task_name,
                "play": self.current_play_name,
                "path": format!("{}:{}", shown_path(&task.origin.path), task.origin.line),
                "action": task.action,
                "status": status,
                "ignored": o.ignored,
            });
            // When the task began and ended on this host, with the cost every module run has
            // (a run_once result shared with the batch has no span of its own).
            if let Some((start, end)) = host_spans.get(index) {
                detail["start"] = json!(round_ms(*start));
                detail["end"] = json!(round_ms(*end + task::TASK_COST_SECONDS));
            }
            // Under no_log the event log keeps no message either (a templated no_log counts
            // as on: better to drop a message than to leak one).
            let censored = task
                .keyword("no_log")
                .is_some_and(|v| !matches!(v, Value::Bool(false)));
            if let Some(why) = outcome_message(o, status).filter(|_| !censored) {
                detail["msg"] = json!(why);
            }
            self.world.log("task", Some(&o.host), detail);
        }
        self.hint_failures(ctx, task, &outcomes);
        // The run-wide budget: a run whose virtual clock went past it stops here, naming the
        // task, with the status of a failed run.
        if self.world.clock.elapsed() > self.opts.virtual_budget() {
            self.display.error(&format!(
                "fleetsim: the run exceeded its virtual time budget of {} seconds (--max-virtual-time) in task '{}' (virtual time {}); stopping",
                fmt_seconds(self.opts.virtual_budget()),
                task.display_name(),
                fleetsim_sim::clock::to_rfc3339(self.world.clock.now()),
            ));
            return Err(exit::HOST_FAILED);
        }
        // `included: FILE for h1, h2 => (item=x)`: one line per included file, after the
        // per-host lines, naming every host that included it.
        let mut included: Vec<(String, Option<String>, Vec<String>)> = Vec::new();
        for o in &outcomes {
            for inc in &o.includes {
                match included
                    .iter_mut()
                    .find(|(n, l, _)| *n == inc.name && *l == inc.item_label)
                {
                    Some(entry) => entry.2.push(o.host.clone()),
                    None => included.push((
                        inc.name.clone(),
                        inc.item_label.clone(),
                        vec![o.host.clone()],
                    )),
                }
            }
        }
        for (name, label, hosts) in &included {
            let mut line = format!("included: {name} for {}", hosts.join(", "));
            if let Some(l) = label {
                line.push_str(&format!(" => (item={l})"));
            }
            self.display.line(&line);
        }
        self.world.clock.advance(task::TASK_COST_SECONDS);
        // run_once: every host of the batch shares the result (and the registered var).
        if run_once {
            if let Some(first) = outcomes.first().cloned() {
                for (h, _) in members.iter().skip(1) {
                    let mut o = first.clone();
                    o.host = h.clone();
                    if let (Some(reg), Some(res)) = (&task.register, &first.registered) {
                        self.register(h, reg, res.clone());
                    }
                    if let Some(facts) = &first.set_facts {
                        self.apply_set_fact(h, facts.clone());
                    }
                    o.ran_here = false;
                    outcomes.push(o);
                }
            }
        }
        let mut failed_now = Vec::new();
        let mut filtered_includes: Vec<(Arc<Block>, Arc<Block>)> = Vec::new();
        for o in &outcomes {
            let h = o.host.clone();
            if !o.ran_here {
                // A run_once result shared with the rest of the batch counts only where it ran.
                continue;
            }
            if o.unreachable {
                // The host leaves the hosts left to run, but its place in the play stays
                // where it is (2.19 does not mark an unreachable host failed in its
                // iterator): `meta: clear_host_errors` brings it back there.
                self.stat(&h).unreachable += 1;
                self.unreachable.insert(h.clone());
                ctx.alive.shift_remove(&h);
                failed_now.push(h);
                continue;
            }
            if !o.skipped {
                if let Some(key) = task.role.as_ref().and_then(|r| r.dedup_key.get()) {
                    self.roles_ran.insert((h.clone(), key.clone()));
                }
            }
            if let Some(failure) = &o.include_failure {
                // The include's failure counts as a failure even when a rescue catches it,
                // and the host stays failed for later plays (ansible-core marks it failed
                // without a task result, in its list of failed hosts).
                self.stat(&h).failed += failure.failures();
                self.failed.insert(h.clone());
                let rescued = cursors.get_mut(&h).map(|c| c.fail()).unwrap_or(false);
                if !rescued {
                    ctx.batch_failed.insert(h.clone());
                    if cursors.get(&h).map(|c| c.failed).unwrap_or(true) {
                        ctx.alive.shift_remove(&h);
                    }
                }
                failed_now.push(h.clone());
                continue;
            }
            if o.failed && !o.ignored {
                // What rescue sections can look at.
                let mut failed_vars = Map::new();
                failed_vars.insert(
                    "ansible_failed_task".into(),
                    json!({"name": task.name.clone().unwrap_or_default(), "action": task.action, "args": task.args}),
                );
                failed_vars.insert(
                    "ansible_failed_result".into(),
                    o.registered.clone().unwrap_or(Value::Null),
                );
                self.apply_set_fact(&h, failed_vars);
                let rescued = cursors.get_mut(&h).map(|c| c.fail()).unwrap_or(false);
                if rescued {
                    self.stat(&h).rescued += 1;
                } else {
                    // The host is failed; an always section may still run for it, but
                    // Ansible counts the failure now.
                    self.stat(&h).failed += 1;
                    self.failed.insert(h.clone());
                    ctx.batch_failed.insert(h.clone());
                    if cursors.get(&h).map(|c| c.failed).unwrap_or(true) {
                        ctx.alive.shift_remove(&h);
                    }
                }
                failed_now.push(h.clone());
                continue;
            }
            if !o.includes.is_empty() {
                // Each included file counts as one ok for the hosts that included it.
                self.stat(&h).ok += o.includes.len() as u32;
            } else if o.skipped {
                self.stat(&h).skipped += 1;
            } else {
                let s = self.stat(&h);
                s.ok += 1;
                if o.changed {
                    s.changed += 1;
                }
                if o.ignored {
                    s.ignored += 1;
                }
            }
            if !o.includes.is_empty() {
                // Included blocks are filtered by tags as the play's own are; one filtered
                // copy per block, shared by every host that included it.
                let includes: Vec<task::Included> = o
                    .includes
                    .iter()
                    .map(|inc| task::Included {
                        blocks: inc
                            .blocks
                            .iter()
                            .map(|b| {
                                match filtered_includes.iter().find(|(k, _)| Arc::ptr_eq(k, b)) {
                                    Some((_, f)) => f.clone(),
                                    None => {
                                        let f = self.filter_tagged(b);
                                        filtered_includes.push((b.clone(), f.clone()));
                                        f
                                    }
                                }
                            })
                            .filter(|b| block_has_tasks(b))
                            .collect(),
                        vars: inc.vars.clone(),
                        params: inc.params.clone(),
                        name: inc.name.clone(),
                        item_label: inc.item_label.clone(),
                    })
                    .collect();
                if let Some(c) = cursors.get_mut(&h) {
                    c.include(&includes);
                }
                for inc in &includes {
                    for b in &inc.blocks {
                        if !ctx.included.iter().any(|x| Arc::ptr_eq(x, b)) {
                            ctx.included.push(b.clone());
                        }
                    }
                }
            }
            if o.changed && !o.skipped && !o.notify.is_empty() {
                let topics = self.notify_topics(ctx, task, members, &h, &o.notify);
                self.notified_topics
                    .entry(h.clone())
                    .or_default()
                    .extend(topics);
            }
        }
        // Hosts whose cursor failed after running always sections are out of the play.
        for (h, c) in cursors.iter_mut() {
            if c.failed && ctx.alive.contains(h) {
                ctx.alive.shift_remove(h);
            }
        }
        // any_errors_fatal, and a failed run_once task (which stands for every host), fail
        // every other host of the batch; ignore_errors on the task prevents it.
        // Under free, linear's any_errors_fatal handling does not exist (free.py warns).
        let fatal = !ctx.free
            && (ctx.any_errors_fatal
                || run_once
                || task
                    .keyword("any_errors_fatal")
                    .and_then(crate::modules::to_bool)
                    .unwrap_or(false));
        let ignored = task
            .keyword("ignore_errors")
            .is_some_and(|v| self.keyword_bool(v, &members[0].0, task, &members[0].1));
        if !failed_now.is_empty() && fatal && !ignored {
            for h in ctx.batch.clone() {
                if !failed_now.contains(&h) {
                    self.mark_host_failed(ctx, cursors, &h);
                }
            }
        }
        if let Some(pct) = ctx.max_fail.filter(|_| !ctx.free) {
            let failed = ctx.batch_failed.len() as f64;
            if !outcomes.is_empty() && failed / ctx.batch.len() as f64 > pct / 100.0 {
                for h in ctx.batch.clone() {
                    if !failed_now.contains(&h) {
                        self.mark_host_failed(ctx, cursors, &h);
                    }
                }
                self.display.banner("NO MORE HOSTS LEFT");
                // The strategy then sees every host failed and ends the batch at once.
                self.display.banner("NO MORE HOSTS LEFT");
                self.max_fail_broke_play = true;
                return Ok(PlayEnd::MaxFailed);
            }
        }
        Ok(PlayEnd::Completed)
    }

    /// ansible-core's `mark_host_failed` for a host that did not fail itself (any_errors_fatal,
    /// max_fail_percentage, run_once): it leaves for its rescue or always section if it is
    /// in a block that has one, else out of the play.
    fn mark_host_failed(
        &mut self,
        ctx: &mut PlayCtx,
        cursors: &mut IndexMap<String, HostCursor>,
        host: &str,
    ) {
        if !ctx.alive.contains(host) || self.unreachable.contains(host) {
            return;
        }
        self.failed.insert(host.to_string());
        ctx.batch_failed.insert(host.to_string());
        match cursors.get_mut(host) {
            Some(c) => {
                c.fail();
                if c.failed {
                    ctx.alive.shift_remove(host);
                }
            }
            None => {
                ctx.alive.shift_remove(host);
            }
        }
    }

    /// The task's name templated with the first host's variables (an included task named
    /// "Summary for {{ env }}" shows each include's value), or as written when it cannot be.
    /// `action: "{{ expr }}"` whose module name templates to `omit` for a host: ansible-core's
    /// linear strategy templates the action of each host before it queues the task there
    /// (whatever `when` says; the banner comes with the first host queued) and stops the run
    /// with a parser error (exit 4). The free strategy does not: there the task's own
    /// post-validation fails the host.
    fn refuse_omitted_action(
        &mut self,
        ctx: &PlayCtx,
        task: &Task,
        members: &[(String, iterator::NextTask)],
    ) -> Result<(), i32> {
        if task.action_template.is_none() || ctx.free {
            return Ok(());
        }
        for (host, next) in members {
            let layers = self.task_layers(ctx, host, task, next);
            let src: Arc<dyn VarSource> =
                Arc::new(HostVarSource::for_task(&self.store, host, &layers));
            if let Ok(v) = self.templar.render_str(&task.action_written, &src) {
                if crate::template::is_omit(&v) {
                    self.display.error(&format!(
                        "Omit is not valid for the `action` keyword.\n{}",
                        crate::diag::source_context(&task.origin_action, None)
                    ));
                    return Err(exit::PARSE_ERROR);
                }
            }
        }
        Ok(())
    }

    fn templated_name(
        &self,
        ctx: &PlayCtx,
        task: &Task,
        host: &str,
        next: &iterator::NextTask,
    ) -> String {
        let raw = task.display_name();
        // Only a written name is templated (an unnamed include_role shows its role as written).
        if task.name.is_none() || !crate::template::is_template(&raw) {
            return raw;
        }
        let layers = self.task_layers(ctx, host, task, next);
        let src: Arc<dyn VarSource> = Arc::new(HostVarSource::for_task(&self.store, host, &layers));
        match self.templar.render_str(&raw, &src) {
            Ok(v) => playbook::scalar_text(&v),
            Err(e) => name_with_error_markers(&self.templar, &raw, &src, e.message()),
        }
    }

    /// The task's `notify` topics for `host`, templated with its vars as ansible-core's
    /// post_validate does (a topic that cannot be templated stays as written).
    fn notify_topics(
        &self,
        ctx: &PlayCtx,
        task: &Arc<Task>,
        members: &[(String, iterator::NextTask)],
        host: &str,
        topics: &[String],
    ) -> Vec<String> {
        if !topics.iter().any(|t| crate::template::is_template(t)) {
            return topics.to_vec();
        }
        // The host's own position gives the vars its includes add.
        let next = members
            .iter()
            .find(|(h, _)| h == host)
            .map(|(_, next)| next.clone())
            .unwrap_or_else(|| iterator::NextTask {
                task: task.clone(),
                include_vars: Vec::new(),
            });
        let layers = self.task_layers(ctx, host, task, &next);
        let src: Arc<dyn VarSource> = Arc::new(HostVarSource::for_task(&self.store, host, &layers));
        topics
            .iter()
            .map(|t| match self.templar.render_str(t, &src) {
                Ok(v) => playbook::scalar_text(&v),
                Err(_) => t.clone(),
            })
            .collect()
    }

    /// Turns `host`'s pending notification topics into the handlers they reach.
    fn resolve_notifications(&mut self, ctx: &PlayCtx, host: &str) {
        let Some(topics) = self.notified_topics.shift_remove(host) else {
            return;
        };
        for topic in topics {
            let reached = self.handlers_notified(ctx, host, &topic);
            self.notified
                .entry(host.to_string())
                .or_default()
                .extend(reached);
        }
    }

    /// ansible-core's `search_handlers_by_notification`: the handlers a notification of
    /// `topic` reaches, as indexes into [`Runner::handlers_in_play`]. By name only the last
    /// handler so named answers (a later copy of a role's handler wins); every handler
    /// listening to the topic answers, one per name. Names are templated once, with the
    /// notifying host's view of the handler's vars.
    fn handlers_notified(&mut self, ctx: &PlayCtx, host: &str, topic: &str) -> Vec<usize> {
        let mut reached = Vec::new();
        for i in (0..self.handlers_in_play.len()).rev() {
            let handler = self.handlers_in_play[i].clone();
            if handler.name.as_deref().unwrap_or_default().is_empty() {
                continue;
            }
            if let Some(name) = self.handler_name(ctx, host, i) {
                if handler_named(&handler, &name, topic) {
                    reached.push(i);
                    break;
                }
            }
        }
        let mut seen = IndexSet::new();
        for i in (0..self.handlers_in_play.len()).rev() {
            if !self.handlers_in_play[i].listen.iter().any(|l| l == topic) {
                continue;
            }
            let name = self.handler_name(ctx, host, i).unwrap_or_default();
            if !name.is_empty() && !seen.insert(name) {
                continue;
            }
            if !reached.contains(&i) {
                reached.push(i);
            }
        }
        reached
    }

    /// Handler `i`'s templated name, cached: None when it cannot be templated (with
    /// ansible-core's warning for a handler no listen topic can reach either).
    fn handler_name(&mut self, ctx: &PlayCtx, host: &str, i: usize) -> Option<String> {
        if let Some(name) = self.handler_names.get(&i) {
            return name.clone();
        }
        let handler = self.handlers_in_play[i].clone();
        let raw = handler.name.clone().unwrap_or_default();
        let name = if crate::template::is_template(&raw) {
            let next = iterator::NextTask {
                task: handler.clone(),
                include_vars: Vec::new(),
            };
            let layers = self.task_layers(ctx, host, &handler, &next);
            let src: Arc<dyn VarSource> =
                Arc::new(HostVarSource::for_task(&self.store, host, &layers));
            match self.templar.render_str(&raw, &src) {
                Ok(v) => Some(playbook::scalar_text(&v)),
                Err(e) => {
                    if handler.listen.is_empty() {
                        self.display.line(&format!(
                            "[WARNING]: Handler '{raw}' is unusable because it has no listen topics and the name could not be templated (host-specific variables are not supported in handler names). The error: {}",
                            e.message()
                        ));
                    }
                    None
                }
            }
        } else {
            Some(raw)
        };
        self.handler_names.insert(i, name.clone());
        name
    }

    /// After a task's results: fleetsim's hint for failures it can explain (once per hint).
    fn hint_failures(&mut self, ctx: &PlayCtx, task: &Task, outcomes: &[HostOutcome]) {
        // Runs after every task: without a failure there is nothing to explain, so skip
        // building the context below.
        if !outcomes.iter().any(|o| o.failed && o.ran_here) {
            return;
        }
        let groups: Vec<String> = self.inventory.data().groups.keys().cloned().collect();
        let folder_tasks: Vec<(String, String)> =
            [&ctx.play.pre_tasks, &ctx.play.tasks, &ctx.play.post_tasks]
                .into_iter()
                .flat_map(|s| s.iter().flat_map(|b| flatten_block(b)))
                .filter(|t| {
                    t.action == "file"
                        && t.args.get("state").and_then(Value::as_str) == Some("directory")
                })
                .filter_map(|t| {
                    let path = t
                        .args
                        .get("path")
                        .or_else(|| t.args.get("dest"))
                        .or_else(|| t.args.get("name"))?;
                    Some((t.display_name(), playbook::scalar_text(path)))
                })
                .collect();
        let gather_facts = ctx
            .play
            .keywords
            .get("gather_facts")
            .map(|v| crate::modules::to_bool(v).unwrap_or(true))
            .unwrap_or(true);
        let cx = output::hints::HintCtx {
            groups: &groups,
            gather_facts,
            folder_tasks: &folder_tasks,
            task: &task.display_name(),
        };
        let mut given = Vec::new();
        let mut missing_dirs: Vec<String> = Vec::new();
        for o in outcomes.iter().filter(|o| o.failed && o.ran_here) {
            let mut msgs = Vec::new();
            if let Some(Value::Object(r)) = &o.registered {
                if let Some(Value::Array(items)) = r.get("results") {
                    msgs.extend(
                        items
                            .iter()
                            .filter_map(|i| i.get("msg"))
                            .filter_map(Value::as_str)
                            .map(str::to_string),
                    );
                }
                if let Some(m) = r.get("msg").and_then(Value::as_str) {
                    msgs.push(m.to_string());
                }
            }
            for m in msgs {
                let m = m.strip_prefix("Task failed: ").unwrap_or(&m).to_string();
                if let Some(dir) = output::hints::missing_folder(&m) {
                    if !missing_dirs.iter().any(|d| d == dir) {
                        missing_dirs.push(dir.to_string());
                    }
                    continue;
                }
                let inner = m.rsplit(": ").next().unwrap_or(&m).to_string();
                for candidate in [m.clone(), inner] {
                    if let Some(h) = output::hints::for_failure(&candidate, &cx) {
                        if !given.contains(&h) {
                            given.push(h);
                        }
                        break;
                    }
                }
            }
        }
        if let Some(h) = output::hints::for_missing_folders(&missing_dirs, &cx) {
            given.insert(0, h);
        }
        for h in given {
            self.display.hint(&h);
        }
    }

    /// `throttle` as the strategy reads it before queueing the task: Python's `int()` of the
    /// templated value, or the run stops (exit 1). Under the linear strategy, hosts run one
    /// task in lockstep, so a valid throttle changes nothing that can be observed.
    fn check_throttle(
        &mut self,
        task: &Task,
        host: &str,
        next: &iterator::NextTask,
    ) -> Result<(), i32> {
        let Some(v) = task.keyword("throttle") else {
            return Ok(());
        };
        let src: Arc<dyn VarSource> = Arc::new(HostVarSource::for_task(
            &self.store,
            host,
            &self.base_layers(task, next),
        ));
        let why = match self.templar.render(v, &src) {
            Ok(v) => match python_int(&v) {
                Ok(_) => return Ok(()),
                Err(why) => why,
            },
            Err(e) => e.message().to_string(),
        };
        let origin = task.keyword_origin("throttle");
        self.display.error(&format!(
            "Failed to convert the throttle value to an integer: {why}\n{}",
            crate::diag::source_context(&origin, None)
        ));
        Err(exit::ERROR)
    }

    fn keyword_bool(&self, v: &Value, host: &str, task: &Task, next: &iterator::NextTask) -> bool {
        let src: Arc<dyn VarSource> = Arc::new(HostVarSource::for_task(
            &self.store,
            host,
            &self.base_layers(task, next),
        ));
        match self.templar.render(v, &src) {
            Ok(v) => crate::modules::to_bool(&v).unwrap_or(false),
            Err(_) => false,
        }
    }

    fn base_layers(&self, task: &Task, next: &iterator::NextTask) -> TaskLayers {
        let mut t = TaskLayers::default();
        if let Some(r) = &task.role {
            let layers = r.layers();
            t.role_defaults.push(layers.defaults.clone());
            t.role_vars.push(layers.vars.clone());
            if !layers.params.is_empty() {
                t.role_params.push(layers.params.clone());
            }
        }
        for (vars, params) in &next.include_vars {
            t.task.push(vars.clone());
            if !params.is_empty() {
                t.include_params.push(params.clone());
            }
        }
        if !task.vars.is_empty() {
            t.task.push(Arc::new(task.vars.clone()));
        }
        t
    }

    fn task_layers(
        &self,
        ctx: &PlayCtx,
        host: &str,
        task: &Task,
        next: &iterator::NextTask,
    ) -> TaskLayers {
        let mut t = self.base_layers(task, next);
        t.role_defaults
            .insert(0, Arc::new(ctx.play.role_defaults.clone()));
        t.play = ctx.play_layers.get(host).cloned().unwrap_or_default();
        t.role_vars.insert(0, Arc::new(ctx.play.role_vars.clone()));
        let mut magic = self.play_role_names(&ctx.play);
        if let Some(r) = &task.role {
            magic.insert("role_name".into(), json!(r.name));
            magic.insert("role_path".into(), json!(r.path.display().to_string()));
            magic.insert("ansible_role_name".into(), json!(r.name));
        }
        t.magic = Some(Arc::new(magic));
        t
    }

    /// ansible-core's `VariableManager._get_magic_variables` for the play's roles:
    /// `ansible_play_role_names` (and its old name `role_names`), the roles the play names
    /// or imports and those its includes added so far; `ansible_dependent_role_names`,
    /// their meta dependencies; `ansible_role_names`, both. Ansible builds the last two from
    /// a Python set (an order that changes from run to run); fleetsim sorts them.
    fn play_role_names(&self, play: &Play) -> Map<String, Value> {
        let roles: Vec<&Arc<playbook::RoleRef>> =
            play.roles.iter().chain(&self.included_roles).collect();
        let play_names: Vec<String> = roles.iter().map(|r| r.name.clone()).collect();
        let mut dependencies = Vec::new();
        for r in &roles {
            r.all_dependency_names(&mut dependencies);
        }
        let dependencies: BTreeSet<String> = dependencies.into_iter().collect();
        let all: BTreeSet<&String> = dependencies.iter().chain(&play_names).collect();
        let mut magic = Map::new();
        magic.insert("ansible_role_names".into(), json!(all));
        magic.insert("ansible_play_role_names".into(), json!(play_names));
        magic.insert("ansible_dependent_role_names".into(), json!(dependencies));
        magic.insert("role_names".into(), json!(play_names));
        magic
    }

    fn print_outcome(&mut self, o: &HostOutcome) {
        for line in &o.lines {
            self.display.line(line);
        }
    }

    /// Stores a registered result for a host.
    pub(crate) fn register(&mut self, host: &str, name: &str, value: Value) {
        let mut store = self.store.lock().unwrap_or_else(|e| e.into_inner());
        store
            .host_facts
            .entry(host.to_string())
            .or_default()
            .insert(name.to_string(), value);
    }

    pub(crate) fn apply_set_fact(&mut self, host: &str, facts: Vars) {
        let mut store = self.store.lock().unwrap_or_else(|e| e.into_inner());
        let entry = store.host_facts.entry(host.to_string()).or_default();
        for (k, v) in facts {
            entry.insert(k, v);
        }
    }

    pub(crate) fn apply_include_vars(&mut self, host: &str, vars: Vars) {
        let mut store = self.store.lock().unwrap_or_else(|e| e.into_inner());
        let entry = store.include_vars.entry(host.to_string()).or_default();
        for (k, v) in vars {
            entry.insert(k, v);
        }
    }

    pub(crate) fn store(&self) -> &SharedStore {
        &self.store
    }

    pub(crate) fn loader_mut(&mut self) -> &mut Loader {
        &mut self.loader
    }

    /// `meta:` tasks act on the play, not on hosts.
    fn run_meta(
        &mut self,
        ctx: &mut PlayCtx,
        task: &Arc<Task>,
        members: &[(String, iterator::NextTask)],
        cursors: &mut IndexMap<String, HostCursor>,
    ) -> Result<PlayEnd, i32> {
        let action = task
            .args
            .get("_raw_params")
            .map(playbook::scalar_text)
            .unwrap_or_default();
        // A role's closing role_complete: silent, uncounted, no condition.
        if task.implicit && action == "role_complete" {
            if let Some(key) = task.role.as_ref().and_then(|r| r.dedup_key.get()) {
                for (h, _) in members {
                    let pair = (h.clone(), key.clone());
                    if self.roles_ran.contains(&pair) {
                        self.roles_completed.insert(pair);
                    }
                }
            }
            return Ok(PlayEnd::Completed);
        }
        // The linear strategy runs most meta actions once, for the first host only (its
        // `when` decides for the whole batch); noop, end_host, flush_handlers, end_role and
        // reset_connection run per host. 2.19 announces the task once per host it runs for,
        // and hosts whose condition is false are skipped.
        let mut applies = Vec::new();
        let per_host = matches!(
            action.as_str(),
            "noop"
                | "reset_connection"
                | "end_host"
                | "role_complete"
                | "flush_handlers"
                | "end_role"
        );
        let running = if per_host {
            members
        } else {
            &members[..members.len().min(1)]
        };
        let banner = format!("TASK [{}]", task.display_name());
        for (h, next) in running {
            // Under free the banner comes lazily with a result: the META header is not one.
            if !ctx.free {
                self.task_banner(ctx, &banner);
            }
            let layers = self.task_layers(ctx, h, task, next);
            let src: Arc<dyn VarSource> =
                Arc::new(HostVarSource::for_task(&self.store, h, &layers));
            let mut ok = true;
            for c in &task.when {
                let text = match &c.expr {
                    Value::String(s) => s.clone(),
                    other => playbook::scalar_text(other),
                };
                if !matches!(self.templar.eval_conditional(&text, &src), Ok(true)) {
                    ok = false;
                }
            }
            let (msg, skipped_msg, skip_reason) = meta_messages(&action, h, task);
            // StrategyBase._execute_meta: the header at -vv, the skip's result at -v.
            let header = if ok { &msg } else { &skip_reason };
            if self.display.verbosity >= 2 {
                self.display.line(&format!("META: {header}"));
            }
            if !ok && ctx.free {
                self.task_banner(ctx, &banner);
            }
            if ok {
                applies.push(h.clone());
            } else if self.display.verbosity >= 1 {
                // Ansible prints the skip but does not count it in the recap.
                let result = json!({"msg": skipped_msg, "skip_reason": skip_reason});
                self.display.line(&format!(
                    "skipping: [{h}] => {}",
                    crate::output::pyjson::dumps(&result, None, true)
                ));
            } else {
                self.display.line(&format!("skipping: [{h}]"));
            }
        }
        if action == "flush_handlers" {
            let failed_before: Vec<u32> =
                members.iter().map(|(h, _)| self.stat(h).failed).collect();
            let end = self.flush_handlers(ctx)?;
            // A handler that fails fails the host where the flush stands (2.19's
            // mark_host_failed goes back to the state before flushing): a block around the
            // meta task rescues it or runs its always section.
            for ((h, _), before) in members.iter().zip(failed_before) {
                if self.stat(h).failed <= before || self.unreachable.contains(h) {
                    continue;
                }
                let Some(c) = cursors.get_mut(h) else {
                    continue;
                };
                if c.fail() {
                    let stat = self.stat(h);
                    stat.failed -= 1;
                    stat.rescued += 1;
                    self.failed.shift_remove(h);
                    ctx.batch_failed.remove(h);
                    ctx.alive.insert(h.clone());
                } else if !c.failed {
                    ctx.alive.insert(h.clone());
                }
            }
            return Ok(end);
        }
        match action.as_str() {
            // end_play and end_batch end every host of the batch (out of ansible_play_hosts,
            // no handlers); end_play also skips the play's later batches.
            "end_play" | "end_batch" if !applies.is_empty() => {
                ctx.end_play |= action == "end_play";
                for h in ctx.batch.clone() {
                    if self.unreachable.contains(&h) {
                        continue;
                    }
                    if ctx.alive.shift_remove(&h) {
                        ctx.ended.insert(h.clone());
                    }
                    if let Some(c) = cursors.get_mut(&h) {
                        c.stop(false);
                    }
                }
            }
            // The host skips the rest of the role the task belongs to (its tasks, rescue and
            // always sections alike), as ansible-core walks it to the role's end.
            "end_role" => {
                if let Some(role) = &task.role {
                    for h in &applies {
                        if let Some(c) = cursors.get_mut(h) {
                            while let Some(next) = c.peek() {
                                match &next.task.role {
                                    Some(r) if Arc::ptr_eq(r, role) => c.advance(),
                                    _ => break,
                                }
                            }
                        }
                    }
                }
            }
            "end_host" => {
                for h in applies {
                    ctx.alive.shift_remove(&h);
                    ctx.ended.insert(h.clone());
                    if let Some(c) = cursors.get_mut(&h) {
                        c.stop(false);
                    }
                }
            }
            // Ansible refreshes whatever the condition says (it warns that meta
            // refresh_inventory does not support when).
            "refresh_inventory" => self.refresh_inventory(ctx, cursors)?,
            // These act on every host of the batch when the first host's condition holds.
            "clear_facts" if !applies.is_empty() => {
                let mut store = self.store.lock().unwrap_or_else(|e| e.into_inner());
                for h in &ctx.batch {
                    store.facts.shift_remove(h);
                }
            }
            // Every host of the play's pattern, not only the batch: one that failed in an
            // earlier play is no longer failed (the run can end with 0).
            "clear_host_errors" if !applies.is_empty() => {
                for h in &ctx.all_hosts {
                    let was_failed = self.failed.shift_remove(h);
                    let was_unreachable = self.unreachable.shift_remove(h);
                    if was_failed || was_unreachable {
                        self.removed_in_play.insert(h.clone());
                    }
                    ctx.batch_failed.remove(h);
                    if let Some(c) = cursors.get_mut(h) {
                        c.clear_errors();
                        // An unreachable host goes on from where it was, so it runs the
                        // tasks it missed, this meta task among them, in the lockstep's
                        // wrap-around (linear.py's "pick up any tasks left after
                        // clear_host_errors").
                        if was_unreachable && !c.failed && ctx.batch.contains(h) {
                            ctx.alive.insert(h.clone());
                        }
                    }
                }
            }
            _ => {}
        }
        Ok(PlayEnd::Completed)
    }

    /// `meta: refresh_inventory`: the inventory read again (what add_host and group_by made
    /// kept), and the play's hosts selected again from it, as the strategy's `_set_hosts_cache`
    /// does: a host the sources no longer have leaves the play where it stands (not failed:
    /// it keeps its recap), a host they newly have joins ansible_play_hosts_all with nothing
    /// to run (the iterator gives it an empty state).
    fn refresh_inventory(
        &mut self,
        ctx: &mut PlayCtx,
        cursors: &mut IndexMap<String, HostCursor>,
    ) -> Result<(), i32> {
        let (inventory, diags) = match self.inventory.refreshed() {
            Ok(x) => x,
            Err(e) => {
                self.display.error(&e.to_string());
                return Err(exit::ERROR);
            }
        };
        for d in &diags {
            if matches!(
                d.kind,
                DiagKind::SourceFailed | DiagKind::NothingParsed | DiagKind::Other
            ) {
                self.display.warning(&d.message);
            }
        }
        self.inventory = inventory;
        let known = self.inventory.hosts();
        self.world.plan_addresses(known.iter().map(String::as_str));
        self.refresh_inventory_vars();
        let selected = self
            .inventory
            .resolve(&self.current_play_pattern)
            .map(|r| r.hosts)
            .unwrap_or_default();
        for h in &selected {
            self.ensure_host_vars(h);
        }
        let gone: Vec<String> = ctx
            .batch
            .iter()
            .filter(|h| !selected.contains(*h))
            .cloned()
            .collect();
        for h in &gone {
            ctx.alive.shift_remove(h);
            if let Some(c) = cursors.get_mut(h) {
                c.stop(false);
            }
        }
        ctx.batch.retain(|h| selected.contains(h));
        ctx.all_hosts = selected;
        Ok(())
    }

    /// Runs notified handlers, in the order they are defined, for the hosts that notified
    /// them and are still in the play (or forced to run them).
    fn flush_handlers(&mut self, ctx: &mut PlayCtx) -> Result<PlayEnd, i32> {
        // By index: a handler that is an include_role adds handlers while this runs.
        let mut next_index = 0;
        while let Some(h) = self.handlers_in_play.get(next_index).cloned() {
            let i = next_index;
            next_index += 1;
            // Notifications made so far (by earlier handlers too) reach their handlers now.
            for host in ctx.batch.clone() {
                self.resolve_notifications(ctx, &host);
            }
            let mut hosts = Vec::new();
            for host in ctx.batch.clone() {
                if !ctx.alive.contains(&host) && !ctx.forced.contains(&host) {
                    continue;
                }
                if self
                    .notified
                    .get_mut(&host)
                    .map(|set| set.shift_remove(&i))
                    .unwrap_or(false)
                {
                    hosts.push(host.clone());
                }
            }
            if hosts.is_empty() {
                continue;
            }
            let blocks = vec![Arc::new(Block {
                origin: h.origin.clone(),
                name: None,
                block: vec![Item::Task(h.clone())],
                rescue: Vec::new(),
                always: Vec::new(),
                implicit: true,
            })];
            // A handler that is an include_tasks runs the tasks it includes, as handlers.
            let failed_before: Vec<u32> = hosts.iter().map(|x| self.stat(x).failed).collect();
            let end = self.run_blocks(ctx, blocks, &hosts)?;
            // A host whose handler failed runs no further handler, forced or not.
            for (x, before) in hosts.iter().zip(failed_before) {
                if self.stat(x).failed > before {
                    ctx.forced.shift_remove(x);
                }
            }
            if end == PlayEnd::MaxFailed {
                return Ok(PlayEnd::MaxFailed);
            }
        }
        Ok(PlayEnd::Completed)
    }
}

/// Whether `--start-at-task` names this task: its name or its shown name, equal or as an
/// fnmatch pattern (ansible-core's PlayIterator).
fn starts_at(task: &Task, target: &str) -> bool {
    let shown = task.display_name();
    let matches =
        |name: &str| name == target || crate::template::filters::paths::fnmatch(name, target);
    task.name
        .as_deref()
        .is_some_and(|n| !n.is_empty() && matches(n))
        || matches(&shown)
}

/// Whether a list of blocks holds the task `--start-at-task` names (the tasks a play loads
/// statically; what dynamic includes bring is not known before they run).
fn blocks_start_at(blocks: &[Arc<Block>], target: &str) -> bool {
    fn items(list: &[Item], target: &str) -> bool {
        list.iter().any(|it| match it {
            Item::Task(t) => starts_at(t, target),
            Item::Block(b) => {
                items(&b.block, target) || items(&b.rescue, target) || items(&b.always, target)
            }
        })
    }
    blocks
        .iter()
        .any(|b| items(&b.block, target) || items(&b.rescue, target) || items(&b.always, target))
}

/// The `msg` (run, skipped) and `skip_reason` of a meta action run for `host`, as ansible-core's
/// StrategyBase._execute_meta words them (end_role's skip reason has no comma there).
fn meta_messages(action: &str, host: &str, task: &Task) -> (String, String, String) {
    let role = task
        .role
        .as_ref()
        .map(|r| r.name.clone())
        .unwrap_or_default();
    let (msg, suffix) = match action {
        "flush_handlers" => (
            format!("triggered running handlers for {host}"),
            format!(", not running handlers for {host}"),
        ),
        "refresh_inventory" => ("inventory successfully refreshed".into(), String::new()),
        "clear_facts" => (
            "facts cleared".into(),
            format!(", not clearing facts and fact cache for {host}"),
        ),
        "clear_host_errors" => (
            "cleared host errors".into(),
            format!(", not clearing host error state for {host}"),
        ),
        "end_batch" => ("ending batch".into(), ", continuing current batch".into()),
        "end_play" => ("ending play".into(), ", continuing play".into()),
        "end_host" => (
            format!("ending play for {host}"),
            format!(", continuing execution for {host}"),
        ),
        "end_role" => (
            format!("ending role {role} for {host}"),
            format!("continuing role {role} for {host}"),
        ),
        "reset_connection" => ("reset connection".into(), String::new()),
        other => (other.to_string(), String::new()),
    };
    let skip_reason = format!("{action} conditional evaluated to False{suffix}");
    // A skipped end_host keeps its historical lower-case `msg`; the others keep theirs.
    let skipped_msg = if action == "end_host" {
        format!("end_host conditional evaluated to false, continuing execution for {host}")
    } else {
        action.to_string()
    };
    (msg, skipped_msg, skip_reason)
}

/// A list of strings as Python prints it (`['a', 'b']`).
/// A task name whose template fails, as Ansible shows it (its `ReplacingMarkerBehavior`):
/// each `{{ ... }}` that fails becomes `<< error N - MESSAGE >>`, the rest renders as usual.
/// A name with statements (`{% ... %}`) is replaced whole.
fn name_with_error_markers(
    templar: &Templar,
    raw: &str,
    vars: &Arc<dyn VarSource>,
    whole_error: &str,
) -> String {
    if raw.contains("{%") {
        return format!("<< error 1 - {whole_error} >>");
    }
    let mut out = String::new();
    let mut errors = 0;
    let mut rest = raw;
    while let Some(start) = rest.find("{{") {
        let Some(len) = rest[start..].find("}}") else {
            break;
        };
        out.push_str(&rest[..start]);
        let expr = &rest[start..start + len + 2];
        // Rendered inside text (after a marker character) so that values print as Python
        // prints them in a string, as they would in the whole name.
        match templar.render_str(&format!("\u{1}{expr}"), vars) {
            Ok(v) => out.push_str(playbook::scalar_text(&v).trim_start_matches('\u{1}')),
            Err(e) => {
                errors += 1;
                out.push_str(&format!("<< error {errors} - {} >>", e.message()));
            }
        }
        rest = &rest[start + len + 2..];
    }
    out.push_str(rest);
    out
}

fn py_list(items: &[String]) -> String {
    let inner: Vec<String> = items
        .iter()
        .map(|i| crate::template::pyrepr::json_repr(&Value::String(i.clone())))
        .collect();
    format!("[{}]", inner.join(", "))
}

/// The tags written on a play.
fn play_tags(play: &Play) -> Vec<String> {
    match play.keywords.get("tags") {
        Some(Value::Array(a)) => a.iter().map(playbook::scalar_text).collect(),
        Some(Value::String(s)) => s.split(',').map(|t| t.trim().to_string()).collect(),
        _ => Vec::new(),
    }
}

/// The play's handlers in the order they run (role handlers first).
fn play_handlers(play: &Play) -> Vec<Arc<Task>> {
    play.handlers
        .iter()
        .flat_map(|b| flatten_tasks(&b.block))
        .collect()
}

/// Whether a notification of `topic` names this handler (its name templated as `name`):
/// the name itself or the name qualified with its role (ansible-core's `get_name()`).
fn handler_named(handler: &Task, name: &str, topic: &str) -> bool {
    name == topic
        || handler
            .role
            .as_ref()
            .is_some_and(|r| format!("{} : {name}", r.name) == topic)
}

/// Every task of a block in document order: its tasks, rescue, then always.
/// Ansible's `Block.has_tasks`: anything left in any of its sections.
fn block_has_tasks(b: &Block) -> bool {
    !(b.block.is_empty() && b.rescue.is_empty() && b.always.is_empty())
}

fn flatten_block(b: &Block) -> Vec<Arc<Task>> {
    let mut out = flatten_tasks(&b.block);
    out.extend(flatten_tasks(&b.rescue));
    out.extend(flatten_tasks(&b.always));
    out
}

/// Every task of a list of items, blocks flattened (for handlers).
fn flatten_tasks(items: &[Item]) -> Vec<Arc<Task>> {
    let mut out = Vec::new();
    for i in items {
        match i {
            Item::Task(t) => out.push(t.clone()),
            Item::Block(b) => {
                out.extend(flatten_tasks(&b.block));
                out.extend(flatten_tasks(&b.rescue));
                out.extend(flatten_tasks(&b.always));
            }
        }
    }
    out
}

/// The state of one batch of one play.
pub struct PlayCtx {
    pub play: Arc<Play>,
    pub batch: Vec<String>,
    pub all_hosts: Vec<String>,
    pub play_layers: IndexMap<String, Vec<Arc<Vars>>>,
    /// Hosts still running in this batch.
    pub alive: IndexSet<String>,
    any_errors_fatal: bool,
    max_fail: Option<f64>,
    batch_failed: BTreeSet<String>,
    end_play: bool,
    /// Hosts that `meta: end_host` took out of the play.
    ended: BTreeSet<String>,
    /// Failed hosts that run their notified handlers anyway (force_handlers), during a flush.
    forced: IndexSet<String>,
    /// The play's force_handlers (or `--force-handlers`).
    force_handlers: bool,
    /// Blocks that includes added during the current task (to extend the task list).
    included: Vec<Arc<Block>>,
    /// The play runs under the free strategy (`free`, or `host_pinned` with a worker for
    /// every host): each host goes on as soon as its own task is done.
    free: bool,
}

/// Two virtual times this close are the same moment (sums of task costs round).
const FREE_TIE: f64 = 1e-6;

/// Under the free strategy, how long after the task queued before it in the same pass a
/// host's task starts (the strategy queues one worker at a time).
const FREE_QUEUE_SECONDS: f64 = 0.001;

/// A host's task under the free strategy, its output held until the task ends.
struct FreeResult {
    end: f64,
    seq: usize,
    task: Arc<Task>,
    banner: Option<String>,
    lines: Vec<output::Held>,
}

/// Seconds as a budget message shows them: whole numbers without a fraction.
pub(crate) fn fmt_seconds(s: f64) -> String {
    if s.fract() == 0.0 && s.abs() < 1e15 {
        format!("{}", s as i64)
    } else {
        format!("{s}")
    }
}

/// Python's `int(value)`, with its error text (`invalid literal for int() with base 10: 'x'`).
fn python_int(v: &Value) -> Result<i64, String> {
    match v {
        Value::Bool(b) => Ok(i64::from(*b)),
        Value::Number(n) => n
            .as_i64()
            .or_else(|| n.as_f64().map(|f| f.trunc() as i64))
            .ok_or_else(|| format!("cannot convert {n} to integer")),
        Value::String(s) => {
            let t = s.trim().replace('_', "");
            t.parse::<i64>().map_err(|_| {
                format!(
                    "invalid literal for int() with base 10: {}",
                    crate::template::pyrepr::json_repr(v)
                )
            })
        }
        other => Err(format!(
            "int() argument must be a string, a bytes-like object or a real number, not '{}'",
            crate::modules::py_type(other)
        )),
    }
}

/// Milliseconds are what a timeline needs; rounding hides the float noise of subtracting two
/// epoch times.
fn round_ms(seconds: f64) -> f64 {
    (seconds * 1000.0).round() / 1000.0
}

/// Why a host's task failed or was skipped, as the junit callback reports it: the result's
/// `msg` (or `skip_reason`); `None` for other results.
fn outcome_message(o: &HostOutcome, status: &str) -> Option<String> {
    let result = o.registered.as_ref()?;
    let key = match status {
        "failed" | "unreachable" => "msg",
        "skipped" => "skip_reason",
        _ => return None,
    };
    let text = match result.get(key)? {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    Some(text)
}

/// A task file's path as the event log names it: relative to the working folder when it is
/// under it, so that logs of the same project compare equal wherever it is checked out.
fn shown_path(path: &Path) -> String {
    // Asked once per process: fleetsim never changes its working folder, and this runs for
    // every host of every task.
    static CWD: std::sync::LazyLock<Option<PathBuf>> =
        std::sync::LazyLock::new(|| std::env::current_dir().ok());
    CWD.as_deref()
        .and_then(|cwd| path.strip_prefix(cwd).ok().map(Path::to_path_buf))
        .unwrap_or_else(|| path.to_path_buf())
        .display()
        .to_string()
}
