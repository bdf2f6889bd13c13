//! The simulated fleet: services (apps, load balancers, databases) that react to what
//! playbooks do to hosts, client traffic through the load balancers, faults on purpose, and
//! the rollout invariants checked over the whole run; and `fleetsim check`'s side of it: the
//! fault space, the proptest strategies drawing cases from it, and campaigns that shrink a
//! failing case to a minimal one.
//!
//! The fleet keeps its own time, which only moves forward: every entry point takes the
//! virtual time of the caller and first lets everything due by then happen (restarts
//! finishing, faults starting and ending, client requests), in time order. Services notice
//! files as inotify would: the engine calls [`Fleet::observe`] after each task on a host.

pub mod campaign;
pub mod case;
pub mod checker;
pub mod commands;
pub mod conf;
pub mod faults;
pub mod http;
pub mod injector;
pub mod model;
pub mod report;
pub mod services;
pub mod space;
pub mod strategy;

use std::cell::OnceCell;
use std::collections::{BTreeMap, HashMap, HashSet};

/// Tables looked up on every request or path change and never iterated for output: a fast
/// hash instead of SipHash.
type FastMap<K, V> = HashMap<K, V, foldhash::fast::RandomState>;
use std::path::PathBuf;
use std::sync::Arc;

use indexmap::IndexMap;
use serde_json::{json, Map, Value};

use crate::clock::Civil;
use crate::fs::{FileKind, Journal, Sandbox, WriteMode};
use crate::world::{Event, World};
use checker::{round_ms, Breach, Checker};
use faults::{FaultKind, FaultPlan, TaskEdge};
use http::{exchange, HttpRequest, HttpResponse, NetError, Wire};
use injector::Injector;
use model::{host_path, FleetModel};
use report::{LbTraffic, Report, Traffic};
use services::{App, AppState, Db, DbRole, Lb, Pool, StanzaFiles};

/// The path where a load balancer answers with its own status instead of forwarding.
pub const LB_STATUS_PATH: &str = "/lb-status";

/// What the fleet needs to know of the inventory.
pub trait Topology {
    /// The hosts a pattern matches, in inventory order.
    fn resolve(&self, pattern: &str) -> Vec<String>;
    /// A host's variable as the inventory gives it.
    fn var(&self, host: &str, name: &str) -> Option<Value>;
}

/// Faults acting on a host when a task starts there.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct HostFaults {
    pub unreachable: bool,
    pub disk_full: bool,
    pub read_only: bool,
    /// Seconds the host's clock is off.
    pub clock_offset: f64,
}

/// Which service listens on an address and port.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Service {
    App(usize),
    Lb(usize),
    Db(usize),
}

/// A host of the fleet: where it is and how to read its files.
#[derive(Debug, Clone)]
struct FleetHost {
    address: String,
    /// Its filesystem. A load balancer's is opened at once (its pool is laid out in it); an
    /// app's or a database's when the fleet first reads it: a campaign builds the fleet for
    /// every case, and most of its hosts' files are never read.
    fs: OnceCell<Sandbox>,
    /// Where to open it: the sandbox folder and the folder under `hosts/` that holds the
    /// host's files (the controller's, for a host that shares its filesystem).
    files: (PathBuf, String),
}

impl FleetHost {
    /// The host's filesystem, opened if need be; None when it cannot be opened (then it
    /// has no files the fleet could read).
    fn fs(&self) -> Option<&Sandbox> {
        if self.fs.get().is_none() {
            let (sandbox_dir, folder) = &self.files;
            let opened = Sandbox::new(sandbox_dir, folder).ok()?;
            let _ = self.fs.set(opened);
        }
        self.fs.get()
    }
}

/// Where a request ends up once routed.
enum Routed {
    To {
        /// Index of the host in [`Fleet::hosts`].
        host: usize,
        service: Service,
        delay: f64,
    },
    Failed(NetError),
}

/// Everything the answer to a request through a load balancer depends on: the request, the
/// backend the LB picked, how the network routed it there, and what the backend's answer
/// reads (whether it is starting, its version, an `unhealthy` fault's status). Two requests
/// with equal inputs get byte-identical answers, so the fleet keeps the answers it got over
/// the wire and replays them (see [`Fleet::through_lb`]).
#[derive(Debug, Clone)]
struct AnswerInputs {
    backend: Option<String>,
    forward: Option<Result<usize, NetError>>,
    unhealthy: Option<u16>,
    starting: bool,
    version: String,
    /// Shared with the fleet's client request to the LB when it is one, so that a lookup
    /// finds it by pointer before comparing its strings.
    request: Arc<HttpRequest>,
}

/// [`AnswerInputs`] borrowed from the fleet, to look a remembered answer up without
/// copying anything.
struct AnswerInputsRef<'a> {
    backend: Option<&'a str>,
    forward: Option<Result<usize, &'a NetError>>,
    unhealthy: Option<u16>,
    starting: bool,
    version: &'a str,
    request: &'a Arc<HttpRequest>,
}

impl AnswerInputsRef<'_> {
    /// Whether `k` holds these inputs; the cheap fields are compared first.
    fn matches(&self, k: &AnswerInputs) -> bool {
        k.backend.as_deref() == self.backend
            && k.forward.as_ref().map(|f| f.as_ref().map(|a| *a)) == self.forward
            && k.unhealthy == self.unhealthy
            && k.starting == self.starting
            && k.version == self.version
            && (Arc::ptr_eq(&k.request, self.request) || *k.request == **self.request)
    }

    fn to_owned(&self) -> AnswerInputs {
        AnswerInputs {
            backend: self.backend.map(str::to_string),
            forward: self.forward.map(|f| f.map_err(Clone::clone)),
            unhealthy: self.unhealthy,
            starting: self.starting,
            version: self.version.to_string(),
            request: Arc::clone(self.request),
        }
    }
}

/// A service that watches files.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Watcher {
    App(usize),
    Lb(usize),
    Db(usize),
}

/// The paths the services watch, indexed so that a changed path finds its watchers in
/// logarithmic time instead of a scan of every service (a fleet of thousands of apps sees
/// a change after nearly every task).
#[derive(Debug, Default)]
struct Watchers {
    by_path: BTreeMap<String, Vec<Watcher>>,
}

impl Watchers {
    fn watch(&mut self, path: &str, w: Watcher) {
        self.by_path.entry(path.to_string()).or_default().push(w);
    }

    /// Adds the watchers a change of `changed` concerns to `touched`: a watched path that
    /// is the changed one, inside it, or a folder above it (`rm -rf /tmp`). A change inside
    /// a watched folder is listed with its watcher, so that it can reread just that entry;
    /// any other change means the watcher rereads everything (None).
    fn touched_by(&self, changed: &str, touched: &mut BTreeMap<Watcher, Option<Vec<String>>>) {
        let mut whole = |ws: &Vec<Watcher>| {
            for w in ws {
                touched.insert(*w, None);
            }
        };
        if changed == "/" {
            self.by_path.values().for_each(&mut whole);
            return;
        }
        if let Some(ws) = self.by_path.get(changed) {
            whole(ws);
        }
        let below = format!("{changed}/");
        for (_, ws) in self
            .by_path
            .range(below.clone()..)
            .take_while(|(k, _)| k.starts_with(&below))
        {
            whole(ws);
        }
        // The folders above `changed`: every prefix that a `/` follows.
        for (k, _) in changed.match_indices('/') {
            if let Some(ws) = self.by_path.get(&changed[..k]) {
                for w in ws {
                    match touched.entry(*w) {
                        std::collections::btree_map::Entry::Vacant(e) => {
                            e.insert(Some(vec![changed.to_string()]));
                        }
                        std::collections::btree_map::Entry::Occupied(mut e) => {
                            if let Some(list) = e.get_mut() {
                                list.push(changed.to_string());
                            }
                        }
                    }
                }
            }
        }
    }
}

/// A pool to put in force: a whole new one, or the one in force with a new draining set.
enum NewPool {
    Whole(Pool),
    Draining(indexmap::IndexSet<String>),
}

/// Answers remembered per backend of a load balancer: enough for a backend in a few states
/// (starting, up, each version), few enough that a linear search stays cheap.
const REMEMBERED_ANSWERS: usize = 8;

/// What an answer through a load balancer depends on, with nothing particular to one fleet
/// (an app by its host, not its index): every fleet of the process shares these answers, so
/// the cases of a campaign, each with a fleet of its own, ask the HTTP wire once for each
/// (the first case), not once per case.
#[derive(Debug, PartialEq, Eq, Hash)]
struct SharedAnswerKey {
    /// Through a load balancer (which names the backend in a header), or asked directly.
    via_lb: bool,
    backend: Option<String>,
    reached: Reached,
    unhealthy: Option<u16>,
    starting: bool,
    version: String,
    request: HttpRequest,
}

/// Where the LB's forward ended, as far as the answer can tell.
#[derive(Debug, PartialEq, Eq, Hash)]
enum Reached {
    NoBackend,
    TimedOut,
    Failed,
    /// The app on this host answered.
    App(String),
}

/// At most this many shared answers are kept; past it they are forgotten all at once (a
/// process running many different fleets, as the tests do, must not grow without end).
const SHARED_ANSWERS: usize = 4096;

static SHARED: std::sync::LazyLock<std::sync::Mutex<FastMap<SharedAnswerKey, Arc<HttpResponse>>>> =
    std::sync::LazyLock::new(std::sync::Mutex::default);

fn shared_answer(key: &SharedAnswerKey) -> Option<Arc<HttpResponse>> {
    let answers = SHARED.lock().unwrap_or_else(|e| e.into_inner());
    answers.get(key).cloned()
}

fn share_answer(key: SharedAnswerKey, resp: &Arc<HttpResponse>) {
    let mut answers = SHARED.lock().unwrap_or_else(|e| e.into_inner());
    if answers.len() >= SHARED_ANSWERS {
        answers.clear();
    }
    answers.insert(key, Arc::clone(resp));
}

/// One load balancer's remembered answers, by the backend its round-robin picked (the
/// first of their inputs), newest last. Kept per backend, not in one list for the LB: the
/// round-robin visits every backend in turn, so a list shorter than the pool held none of
/// the answers a pool of hundreds asked for again, and every request went over the wire.
#[derive(Debug, Default, Clone)]
struct Remembered {
    /// Answers when no backend was in rotation.
    none: Vec<(AnswerInputs, Arc<HttpResponse>)>,
    /// Looked up only, never iterated.
    by_backend: FastMap<String, Vec<(AnswerInputs, Arc<HttpResponse>)>>,
}

impl Remembered {
    fn find(&self, inputs: &AnswerInputsRef<'_>) -> Option<&Arc<HttpResponse>> {
        let list = match inputs.backend {
            None => &self.none,
            Some(b) => self.by_backend.get(b)?,
        };
        list.iter()
            .find(|(k, _)| inputs.matches(k))
            .map(|(_, resp)| resp)
    }

    fn remember(&mut self, inputs: AnswerInputs, resp: Arc<HttpResponse>) {
        let list = match &inputs.backend {
            None => &mut self.none,
            Some(b) => match self.by_backend.get_mut(b) {
                Some(list) => list,
                None => self.by_backend.entry(b.clone()).or_default(),
            },
        };
        if list.len() == REMEMBERED_ANSWERS {
            list.remove(0);
        }
        list.push((inputs, resp));
    }
}

/// The running fleet.
pub struct Fleet {
    model: FleetModel,
    seed: u64,
    start: f64,
    now: f64,
    hosts: IndexMap<String, FleetHost, foldhash::fast::RandomState>,
    /// Host index by address (lookups only, never iterated).
    by_address: FastMap<String, usize>,
    apps: Vec<App>,
    lbs: Vec<Lb>,
    dbs: Vec<Db>,
    /// Who listens on (host index, port); lookups only, never iterated.
    listeners: FastMap<(usize, u16), Service>,
    injector: Injector,
    /// The task running now (its name as the banner shows it).
    task: Option<String>,
    checker: Checker,
    traffic: Traffic,
    /// Next client request per load balancer (epoch seconds).
    next_request: Vec<f64>,
    events: Vec<Event>,
    wire: Wire,
    /// Per load balancer, answers got over the wire by their inputs, newest last.
    answers: Vec<Remembered>,
    /// The request the clients send to each load balancer (always the same one).
    client_requests: Vec<Arc<HttpRequest>>,
    /// Whether [`Fleet::through_lb`] replays remembered answers (off only to test that
    /// replaying changes nothing).
    replay_answers: bool,
    /// Paths the hosts changed since the services last looked.
    journal: Journal,
    /// Who watches which path.
    watchers: Watchers,
    /// Per load balancer, what each stanza file parsed to, by file (`active/a.conf`) with
    /// the bytes it was parsed from: a reload parses only the files that changed.
    parsed_stanzas: Vec<services::StanzaCache>,
    /// Per load balancer, whether its pool's files include a symbolic link: a change
    /// anywhere in the pool folder may then change another file's content, so every change
    /// rereads the whole folder.
    pool_has_links: Vec<bool>,
    /// Per load balancer, whether the pool in force is what its `files_seen` parse to (not
    /// so after a rejected config): only then may a change of `draining/` alone keep the
    /// pool's backends ([`Fleet::observe_lb`]).
    pool_is_seen: Vec<bool>,
    /// Per load balancer, the outcome of its last capacity check while nothing it depends
    /// on changed since: None to check again, Some(None) when it held, Some(Some(key)) the
    /// breach going on. Only used while no fault is armed (faults change with time).
    capacity_seen: Vec<Option<Option<String>>>,
    /// Per app, the load balancers whose pools route to it (whose capacity depends on it).
    app_lbs: Vec<Vec<usize>>,
    /// Per load balancer, the app each backend of its pool reaches, in the pool's order.
    lb_apps: Vec<Vec<Option<usize>>>,
    /// When the first restarting app is up (infinity when none is restarting), None when
    /// an app's state changed since it was computed.
    restart_due: Option<f64>,
}

impl std::fmt::Debug for Fleet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Fleet")
            .field("apps", &self.apps.len())
            .field("load_balancers", &self.lbs.len())
            .field("databases", &self.dbs.len())
            .field("now", &self.now)
            .finish_non_exhaustive()
    }
}

fn int_var(v: Option<Value>) -> Option<i64> {
    match v? {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn str_var(v: Option<Value>) -> String {
    match v {
        Some(Value::String(s)) => s,
        Some(Value::Null) | None => String::new(),
        Some(other) => other.to_string(),
    }
}

impl Fleet {
    /// Builds the fleet over `world`'s hosts and lays its initial state into their sandboxes:
    /// every LB's `active/` holds a stanza per backend. Apps run their initial version
    /// without a config file and replicas follow their environment's primary in memory, so
    /// a playbook that forgets to create a folder still fails as on a real fleet.
    pub fn new(
        model: FleetModel,
        plan: &FaultPlan,
        topology: &dyn Topology,
        world: &mut World,
    ) -> Result<Fleet, String> {
        let start = world.clock.now();
        let mut hosts: IndexMap<String, FleetHost, foldhash::fast::RandomState> =
            IndexMap::default();
        // `open`: the host's sandbox is needed now (an LB's, to lay out its pool).
        let mut host_entry =
            |world: &mut World, name: &str, open: bool| -> Result<FleetHost, String> {
                if let Some(h) = hosts.get_mut(name) {
                    if open && h.fs.get().is_none() {
                        let fs = world
                            .host(name)
                            .map_err(|e| format!("cannot open the sandbox of {name}: {e}"))?
                            .fs
                            .clone();
                        let _ = h.fs.set(fs);
                    }
                    return Ok(h.clone());
                }
                let files = (world.sandbox_dir.clone(), world.files_of(name).to_string());
                let entry = match world.address_of(name) {
                    Some(address) if !open => FleetHost {
                        address,
                        fs: OnceCell::new(),
                        files,
                    },
                    _ => {
                        let h = world
                            .host(name)
                            .map_err(|e| format!("cannot open the sandbox of {name}: {e}"))?;
                        FleetHost {
                            address: h.address.clone(),
                            fs: OnceCell::from(h.fs.clone()),
                            files,
                        }
                    }
                };
                hosts.insert(name.to_string(), entry.clone());
                Ok(entry)
            };
        let port_of = |host: &str, var: &str, what: &str| -> Result<u16, String> {
            int_var(topology.var(host, var))
                .and_then(|p| u16::try_from(p).ok().filter(|p| *p > 0))
                .ok_or_else(|| {
                    format!("{what} on {host}: the host has no port in variable `{var}`")
                })
        };
        let labels = model.labels.clone();
        let mut listeners: IndexMap<(String, u16), Service> = IndexMap::new();
        let mut listen = |address: &str, port: u16, s: Service, host: &str| match listeners
            .insert((address.to_string(), port), s)
        {
            Some(_) => Err(format!(
                "two services of the fleet listen on {host} ({address}) port {port}"
            )),
            None => Ok(()),
        };

        // The hosts a section's `hosts:` pattern names; a pattern naming none is a mistake.
        let resolve_section = |section: &str, pattern: &str| -> Result<Vec<String>, String> {
            let matched = topology.resolve(pattern);
            if matched.is_empty() {
                return Err(format!("{section}: `hosts: {pattern}` matches no host"));
            }
            Ok(matched)
        };
        let mut apps = Vec::new();
        for spec in &model.apps {
            let matched = resolve_section("apps", &spec.hosts)?;
            for host in matched {
                let port = port_of(&host, &spec.port_var, "app")?;
                let fh = host_entry(world, &host, false)?;
                listen(&fh.address, port, Service::App(apps.len()), &host)?;
                apps.push(App {
                    environment: str_var(topology.var(&host, &labels.environment)),
                    tier: str_var(topology.var(&host, &labels.tier)),
                    config_path: host_path(&spec.config, &host),
                    unit: spec.unit.clone(),
                    docroot: spec.docroot.clone(),
                    restart_seconds: spec.restart_seconds,
                    version: spec.initial_version.clone(),
                    next_version: spec.initial_version.clone(),
                    state: AppState::Running,
                    config_seen: None,
                    restarts: 0,
                    restarted_at: None,
                    checked_since_restart: false,
                    host,
                    port,
                });
            }
        }

        let mut lbs = Vec::new();
        for spec in &model.load_balancers {
            let matched = resolve_section("load_balancers", &spec.hosts)?;
            let backends = topology.resolve(&spec.backends);
            for host in matched {
                let port = port_of(&host, &spec.port_var, "load balancer")?;
                let fh = host_entry(world, &host, true)?;
                listen(&fh.address, port, Service::Lb(lbs.len()), &host)?;
                let pool_dir = host_path(&spec.pool_dir, &host);
                let Some(mut fs) = fh.fs.get().cloned() else {
                    return Err(format!("cannot open the sandbox of {host}"));
                };
                fs.set_now(start);
                let active_dir = format!("{pool_dir}/active");
                fs.mkdir(&active_dir, true)
                    .map_err(|e| format!("cannot lay out {active_dir} on {host}: {e}"))?;
                for b in &backends {
                    let Some(app) = apps.iter().find(|a| &a.host == b) else {
                        return Err(format!(
                            "load balancer {host}: backend {b} runs no app of the fleet"
                        ));
                    };
                    let address = host_entry(world, b, false)?.address;
                    let stanza = initial_stanza(app, &address);
                    let path = format!("{active_dir}/{b}.conf");
                    fs.write(&path, stanza.as_bytes(), WriteMode::Truncate)
                        .map_err(|e| format!("cannot write {path} on {host}: {e}"))?;
                }
                lbs.push(Lb {
                    environment: spec.environment.clone(),
                    tier: spec.tier.clone(),
                    pool_dir,
                    unit: spec.unit.clone(),
                    max_unavailable: spec.max_unavailable,
                    initial_size: backends.len(),
                    pool: Pool::default(),
                    files_seen: (Vec::new(), Vec::new()),
                    rr_current: IndexMap::new(),
                    rr: None,
                    eligible: None,
                    running: true,
                    failing_checks: Default::default(),
                    health_interval: spec.health_check.as_ref().map(|h| h.interval.max(0.01)),
                    next_health_check: spec.health_check.as_ref().map(|h| start + h.interval),
                    host,
                    port,
                });
            }
        }

        let mut dbs = Vec::new();
        for spec in &model.databases {
            let matched = resolve_section("databases", &spec.hosts)?;
            for host in matched {
                let port = port_of(&host, &spec.port_var, "database")?;
                let fh = host_entry(world, &host, false)?;
                listen(&fh.address, port, Service::Db(dbs.len()), &host)?;
                let role = match str_var(topology.var(&host, &spec.role_var)).as_str() {
                    "primary" => DbRole::Primary,
                    "replica" => DbRole::Replica,
                    other => {
                        return Err(format!(
                            "database on {host}: `{}` is `{other}`, not primary or replica",
                            spec.role_var
                        ))
                    }
                };
                dbs.push(Db {
                    environment: str_var(topology.var(&host, &labels.environment)),
                    role,
                    unit: spec.unit.clone(),
                    replication_config: host_path(&spec.replication_config, &host),
                    backups_dir: spec.backups.as_ref().map(|b| host_path(b, &host)),
                    up: true,
                    source: None,
                    source_text: String::new(),
                    config_seen: None,
                    applied_until: start,
                    backups_seen: Default::default(),
                    writes_per_second: spec.writes_per_second,
                    base_lag: spec.replica_lag,
                    max_lag: spec.max_lag,
                    host,
                    port,
                });
            }
        }
        // Replicas start out following their environment's primary.
        for i in 0..dbs.len() {
            if dbs[i].role == DbRole::Replica {
                if let Some(p) = dbs
                    .iter()
                    .find(|p| p.role == DbRole::Primary && p.environment == dbs[i].environment)
                {
                    let text = format!("{}:{}", hosts[&p.host].address, p.port);
                    let src = p.host.clone();
                    dbs[i].source = Some(src);
                    dbs[i].source_text = text;
                }
            }
        }

        let resolve = |p: &str| topology.resolve(p);
        let injector = Injector::new(plan, start, world.seed, &resolve)?;
        let rate = model.traffic.requests_per_second;
        let n = lbs.len().max(1) as f64;
        // Spread the LBs' first requests over one interval so they do not all fire at once.
        let next_request = (0..lbs.len())
            .map(|i| {
                if rate > 0.0 {
                    start + (i as f64 + 1.0) / (n + 1.0) / rate
                } else {
                    f64::INFINITY
                }
            })
            .collect();
        let mut traffic = Traffic::default();
        for lb in &lbs {
            traffic.by_lb.insert(lb.host.clone(), LbTraffic::default());
        }
        let answers = vec![Remembered::default(); lbs.len()];
        let client_requests = lbs
            .iter()
            .map(|lb| {
                Arc::new(HttpRequest::get(
                    &format!("{}:{}", hosts[&lb.host].address, lb.port),
                    &model.traffic.path,
                ))
            })
            .collect();
        let by_address: FastMap<String, usize> = hosts
            .values()
            .enumerate()
            .map(|(i, h)| (h.address.clone(), i))
            .collect();
        let listeners = listeners
            .into_iter()
            .filter_map(|((address, port), s)| Some(((*by_address.get(&address)?, port), s)))
            .collect();
        let mut fleet = Fleet {
            model,
            seed: world.seed,
            start,
            now: start,
            hosts,
            by_address,
            apps,
            lbs,
            dbs,
            listeners,
            injector,
            task: None,
            checker: Checker::default(),
            traffic,
            next_request,
            events: Vec::new(),
            wire: Wire::new(),
            answers,
            client_requests,
            replay_answers: true,
            journal: world.watch_files(),
            watchers: Watchers::default(),
            parsed_stanzas: Vec::new(),
            pool_has_links: Vec::new(),
            pool_is_seen: Vec::new(),
            capacity_seen: Vec::new(),
            app_lbs: Vec::new(),
            lb_apps: Vec::new(),
            restart_due: None,
        };
        for (i, a) in fleet.apps.iter().enumerate() {
            fleet.watchers.watch(&a.config_path, Watcher::App(i));
        }
        for (i, l) in fleet.lbs.iter().enumerate() {
            fleet.watchers.watch(&l.pool_dir, Watcher::Lb(i));
        }
        for (i, d) in fleet.dbs.iter().enumerate() {
            fleet.watchers.watch(&d.replication_config, Watcher::Db(i));
            if let Some(b) = &d.backups_dir {
                fleet.watchers.watch(b, Watcher::Db(i));
            }
        }
        fleet.parsed_stanzas = vec![Default::default(); fleet.lbs.len()];
        fleet.pool_has_links = vec![false; fleet.lbs.len()];
        fleet.pool_is_seen = vec![false; fleet.lbs.len()];
        fleet.capacity_seen = vec![None; fleet.lbs.len()];
        fleet.app_lbs = vec![Vec::new(); fleet.apps.len()];
        fleet.lb_apps = vec![Vec::new(); fleet.lbs.len()];
        // Load the pools just laid out (not a re-add: they were there before the run).
        for i in 0..fleet.lbs.len() {
            let files = fleet.read_pool_files(i);
            match Pool::from_files(&files.0, &files.1, &mut fleet.parsed_stanzas[i]) {
                Ok(pool) => fleet.set_pool(i, pool),
                Err(e) => return Err(format!("initial pool of {}: {e}", fleet.lbs[i].host)),
            }
            fleet.lbs[i].files_seen = files;
            fleet.pool_is_seen[i] = true;
        }
        fleet.log_state("fleet_ready");
        fleet.evaluate();
        Ok(fleet)
    }

    /// Begins another run on the same fleet (the next command of a lab): services keep their
    /// state, files and versions; the faults, traffic counts and invariant records start
    /// afresh at the world's current time.
    pub fn begin_run(
        &mut self,
        plan: &FaultPlan,
        topology: &dyn Topology,
        world: &mut World,
    ) -> Result<(), String> {
        world.note_changes_in(self.journal.clone());
        let start = world.clock.now();
        // Clients send traffic while playbooks run: skip the requests of the pause between
        // two runs (restarts and faults still play out in it).
        let interval = 1.0 / self.model.traffic.requests_per_second;
        for next in &mut self.next_request {
            if next.is_finite() && *next < start {
                *next += ((start - *next) / interval).ceil() * interval;
            }
        }
        self.advance_to(start);
        // The previous run's crashes end with it.
        let ends = self.injector.pending_ends();
        self.apply_fault_edges(ends);
        for app in &mut self.apps {
            app.restarts = 0;
        }
        let resolve = |p: &str| topology.resolve(p);
        self.injector = Injector::new(plan, start, world.seed, &resolve)?;
        self.seed = world.seed;
        self.start = start;
        self.task = None;
        self.checker = Checker::default();
        for c in self.traffic.by_lb.values_mut() {
            *c = LbTraffic::default();
        }
        self.traffic.requests = 0;
        self.traffic.failed = 0;
        self.events.clear();
        self.evaluate();
        // A run on a fleet an earlier run left (a lab's next step) starts from its state.
        self.log_state("fleet_state");
        Ok(())
    }

    /// Records the fleet's services and state as they are now (`fleet_ready` when it is
    /// built, `fleet_state` when a later run begins): a timeline draws states from here on.
    fn log_state(&mut self, kind: &str) {
        let pools: Vec<Value> = self
            .lbs
            .iter()
            .map(|lb| {
                json!({
                    "lb": lb.host,
                    "in_rotation": lb.rotation_names(),
                    "draining": lb.pool.draining.iter().collect::<Vec<_>>(),
                })
            })
            .collect();
        let app_states: Map<String, Value> = self
            .apps
            .iter()
            .map(|a| {
                let state = match a.state {
                    AppState::Running => "up",
                    AppState::Starting { .. } => "starting",
                    AppState::Stopped | AppState::Crashed { .. } => "down",
                };
                (a.host.clone(), json!(state))
            })
            .collect();
        self.log(kind, None, json!({
            "apps": self.apps.len(), "load_balancers": self.lbs.len(), "databases": self.dbs.len(),
            "app_hosts": self.apps.iter().map(|a| a.host.as_str()).collect::<Vec<_>>(),
            "lb_hosts": self.lbs.iter().map(|l| l.host.as_str()).collect::<Vec<_>>(),
            "db_hosts": self.dbs.iter().map(|d| d.host.as_str()).collect::<Vec<_>>(),
            "app_states": app_states,
            "pools": pools,
        }));
    }

    /// Whether answers through a load balancer are replayed when their inputs repeat (on by
    /// default). Turning it off sends every request over the wire; the outcome is the same,
    /// which the tests check.
    pub fn set_replay_answers(&mut self, on: bool) {
        self.replay_answers = on;
    }

    /// The seed the fleet was built with.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    fn elapsed(&self) -> f64 {
        round_ms(self.now - self.start)
    }

    fn log(&mut self, kind: &str, host: Option<&str>, detail: Value) {
        self.events.push(Event {
            at: self.elapsed(),
            kind: kind.to_string(),
            host: host.map(str::to_string),
            detail,
        });
    }

    /// Events since the last call, for the run's event log.
    pub fn drain_events(&mut self) -> Vec<Event> {
        std::mem::take(&mut self.events)
    }

    // ----- entry points for the engine -----

    /// A task starts on `host` (the host it runs on: the inventory host, or the host it is
    /// delegated to) for inventory host `for_host`: faults triggered by it on either open,
    /// and the faults acting on `host` are returned. `Err` carries a `task_fail` message.
    pub fn task_started(
        &mut self,
        host: &str,
        for_host: &str,
        task: &str,
        now: f64,
    ) -> Result<HostFaults, String> {
        self.advance_to(now);
        self.task = Some(task.to_string());
        self.injector.on_task(host, task, TaskEdge::Start, self.now);
        if for_host != host {
            self.injector
                .on_task(for_host, task, TaskEdge::Start, self.now);
        }
        self.apply_one_shots();
        let faults = self.host_faults(host);
        if !faults.unreachable {
            if let Some(msg) = self.injector.task_failure(host, self.now) {
                self.log("fault_task_fail", Some(host), json!({"task": task}));
                return Err(msg);
            }
        }
        Ok(faults)
    }

    /// A task ended on `host` (for inventory host `for_host`).
    pub fn task_ended(&mut self, host: &str, for_host: &str, task: &str, now: f64) {
        self.advance_to(now);
        self.injector.on_task(host, task, TaskEdge::End, self.now);
        if for_host != host {
            self.injector
                .on_task(for_host, task, TaskEdge::End, self.now);
        }
        self.apply_one_shots();
        self.evaluate();
    }

    /// The faults acting on `host` now.
    pub fn host_faults(&self, host: &str) -> HostFaults {
        let now = self.now;
        HostFaults {
            unreachable: self
                .injector
                .active(FaultKind::Unreachable, host, now)
                .is_some(),
            disk_full: self
                .injector
                .active(FaultKind::DiskFull, host, now)
                .is_some(),
            read_only: self
                .injector
                .active(FaultKind::ReadOnly, host, now)
                .is_some(),
            clock_offset: self
                .injector
                .active(FaultKind::ClockSkew, host, now)
                .and_then(|r| r.offset)
                .unwrap_or(0.0),
        }
    }

    /// Lets everything due by `now` happen, then looks at the files the services watch.
    pub fn observe(&mut self, now: f64) {
        self.advance_to(now);
        let changed: Vec<String> =
            std::mem::take(&mut *self.journal.lock().unwrap_or_else(|e| e.into_inner()));
        if !changed.is_empty() {
            // Services in their order (apps, then LBs, then databases), each with the
            // changed paths inside one of its watched folders (None: reread everything).
            let mut touched: BTreeMap<Watcher, Option<Vec<String>>> = BTreeMap::new();
            for c in &changed {
                self.watchers.touched_by(c, &mut touched);
            }
            for (watcher, inside) in touched {
                match watcher {
                    Watcher::App(i) => self.observe_app(i),
                    Watcher::Lb(i) => self.observe_lb(i, inside.as_deref()),
                    Watcher::Db(i) => self.observe_db(i),
                }
            }
        }
        self.evaluate();
    }

    /// An HTTP request from `from` to `addr:port`, made by the playbook (`uri`, `curl`).
    /// Returns the answer or the network error, and the virtual seconds it took.
    pub fn http(
        &mut self,
        from: &str,
        addr: &str,
        port: u16,
        req: HttpRequest,
        timeout: f64,
        now: f64,
    ) -> (Result<HttpResponse, NetError>, f64) {
        self.advance_to(now);
        let (host, service, delay) = match self.route(from, addr, port, timeout) {
            Routed::To {
                host,
                service,
                delay,
            } => (host, service, delay),
            Routed::Failed(e) => {
                let took = match e {
                    NetError::Timeout { after } => after,
                    _ => 0.0,
                };
                return (Err(e), took);
            }
        };
        let host = self.host_name(host).to_string();
        let resp = self.serve(service, &host, req, timeout);
        if let (Ok(r), Service::App(i)) = (&resp, service) {
            if (200..300).contains(&r.status) {
                self.apps[i].checked_since_restart = true;
            }
        }
        (resp, delay)
    }

    /// A TCP connection attempt (`wait_for: port=`): Ok when something listens and answers.
    pub fn connect(
        &mut self,
        from: &str,
        addr: &str,
        port: u16,
        timeout: f64,
        now: f64,
    ) -> Result<(), NetError> {
        self.advance_to(now);
        match self.route(from, addr, port, timeout) {
            Routed::To { .. } => Ok(()),
            Routed::Failed(e) => Err(e),
        }
    }

    /// The unit names of the fleet's services on `host` (apps, LBs, databases), in model
    /// order: what a reboot of the host stops and starts.
    pub fn units_on(&self, host: &str) -> Vec<String> {
        let apps = self
            .apps
            .iter()
            .filter(|a| a.host == host)
            .map(|a| a.unit.clone());
        let lbs = self
            .lbs
            .iter()
            .filter(|l| l.host == host)
            .map(|l| l.unit.clone());
        let dbs = self
            .dbs
            .iter()
            .filter(|d| d.host == host)
            .map(|d| d.unit.clone());
        apps.chain(lbs).chain(dbs).collect()
    }

    /// `systemctl ACTION UNIT` on `host`. Returns the unit's state afterwards, or None when
    /// no service of the fleet on the host has that unit name.
    pub fn systemctl(
        &mut self,
        host: &str,
        action: &str,
        unit: &str,
        now: f64,
    ) -> Option<&'static str> {
        self.advance_to(now);
        let unit = unit.strip_suffix(".service").unwrap_or(unit);
        if let Some(i) = self
            .apps
            .iter()
            .position(|a| a.host == host && a.unit == unit)
        {
            match action {
                "start"
                    if !self.apps[i].is_up()
                        && !matches!(self.apps[i].state, AppState::Starting { .. }) =>
                {
                    self.restart_app(i, "systemctl start")
                }
                "restart" | "reload" => self.restart_app(i, &format!("systemctl {action}")),
                "stop" => {
                    self.apps[i].state = AppState::Stopped;
                    self.app_changed(i);
                    self.log("app_stopped", Some(host), json!({"by": "systemctl stop"}));
                }
                _ => {}
            }
            self.evaluate();
            return Some(match &self.apps[i].state {
                AppState::Running => "active",
                AppState::Starting { .. } => "activating",
                AppState::Stopped => "inactive",
                AppState::Crashed { .. } => "failed",
            });
        }
        if let Some(i) = self
            .lbs
            .iter()
            .position(|l| l.host == host && l.unit == unit)
        {
            match action {
                "start" | "restart" => self.lbs[i].running = true,
                "stop" => self.lbs[i].running = false,
                _ => {}
            }
            if matches!(action, "start" | "restart" | "reload") {
                // A reload re-reads the pool even when no file changed.
                self.lbs[i].files_seen = (Vec::new(), Vec::new());
                self.pool_is_seen[i] = false;
                self.observe_lb(i, None);
            }
            self.evaluate();
            return Some(if self.lbs[i].running {
                "active"
            } else {
                "inactive"
            });
        }
        if let Some(i) = self
            .dbs
            .iter()
            .position(|d| d.host == host && d.unit == unit)
        {
            match action {
                "start" | "restart" | "reload" => self.dbs[i].up = true,
                "stop" => self.dbs[i].up = false,
                _ => {}
            }
            self.evaluate();
            return Some(if self.dbs[i].up { "active" } else { "inactive" });
        }
        None
    }

    /// Ends the run at `now`: the report.
    pub fn finish(&mut self, now: f64) -> Report {
        self.observe(now);
        self.task = None;
        self.log_fault_windows();
        self.log(
            "fleet_report",
            None,
            json!({"requests": self.traffic.requests, "failed": self.traffic.failed}),
        );
        Report {
            seed: self.seed,
            start_time: Civil::from_epoch(self.start).format("%Y-%m-%dT%H:%M:%SZ", self.start),
            virtual_seconds: self.elapsed(),
            traffic: self.traffic.clone(),
            invariants: self.checker.results(),
        }
    }

    /// Records every window a fault was active in, cut at the run's end (a timeline shades
    /// them): one `fault_window` event each, in plan order, then by host.
    fn log_fault_windows(&mut self) {
        let end = self.elapsed();
        let mut windows = Vec::new();
        for (rule, armed) in self.injector.armed.iter().enumerate() {
            for (host, host_windows) in &armed.windows {
                for w in host_windows {
                    let from = round_ms(self.injector.elapsed(w.from)).max(0.0);
                    if from >= end {
                        continue;
                    }
                    let until = round_ms(self.injector.elapsed(w.until)).min(end);
                    windows.push((
                        host.clone(),
                        json!({
                            "fault": armed.rule.kind.name(),
                            "rule": rule,
                            "from": from,
                            "until": until,
                        }),
                    ));
                }
            }
        }
        for (host, detail) in windows {
            self.log("fault_window", Some(&host), detail);
        }
    }

    // ----- time -----

    /// Lets everything due by `t` happen in time order.
    fn advance_to(&mut self, t: f64) {
        if t <= self.now {
            return;
        }
        loop {
            let restart_due = match self.restart_due {
                Some(due) => due,
                None => {
                    let due = self
                        .apps
                        .iter()
                        .filter_map(|a| match a.state {
                            AppState::Starting { until } => Some(until),
                            _ => None,
                        })
                        .fold(f64::INFINITY, f64::min);
                    self.restart_due = Some(due);
                    due
                }
            };
            let request_due = self
                .next_request
                .iter()
                .copied()
                .fold(f64::INFINITY, f64::min);
            let check_due = self
                .lbs
                .iter()
                .filter_map(|l| l.next_health_check)
                .fold(f64::INFINITY, f64::min);
            let edge_due = self
                .injector
                .first_edge_between(self.now, t)
                .unwrap_or(f64::INFINITY);
            let next = restart_due.min(request_due).min(check_due).min(edge_due);
            if next > t {
                break;
            }
            // A client request changes no state: only the other events call for the state
            // invariants to be checked again.
            let state_may_change = next == restart_due || next == check_due || next == edge_due;
            self.now = self.now.max(next);
            self.apply_one_shots();
            // Only when an app is due (the one-shots may have restarted one: then the
            // cached time is gone and the apps are looked at).
            let any_due = self.restart_due.is_none_or(|due| due <= self.now);
            for i in 0..self.apps.len() {
                if !any_due {
                    break;
                }
                if let AppState::Starting { until } = self.apps[i].state {
                    if until <= self.now {
                        let app = &mut self.apps[i];
                        app.state = AppState::Running;
                        app.version = app.next_version.clone();
                        let (host, version) = (app.host.clone(), app.version.clone());
                        self.app_changed(i);
                        self.log("app_up", Some(&host), json!({"version": version}));
                    }
                }
            }
            for i in 0..self.lbs.len() {
                if self.lbs[i].next_health_check.is_some_and(|c| c <= self.now) {
                    self.lb_health_checks(i);
                }
            }
            if state_may_change {
                self.evaluate();
            }
            for i in 0..self.lbs.len() {
                while self.next_request[i] <= self.now {
                    self.client_request(i);
                    self.next_request[i] += 1.0 / self.model.traffic.requests_per_second;
                }
            }
        }
        self.now = t;
        self.apply_one_shots();
        self.evaluate();
    }

    /// Crashes and recoveries whose time has come.
    fn apply_one_shots(&mut self) {
        let due = self.injector.due_one_shots(self.now);
        self.apply_fault_edges(due);
    }

    /// Acts on the starts and ends of one-shot faults: (kind, host, true for an end).
    fn apply_fault_edges(&mut self, edges: Vec<(FaultKind, String, bool)>) {
        for (kind, host, end) in edges {
            match (kind, end) {
                (FaultKind::Crash, false) => {
                    for i in 0..self.apps.len() {
                        if self.apps[i].host == host {
                            self.apps[i].state = AppState::Crashed {
                                why: "crash fault".into(),
                            };
                            self.app_changed(i);
                        }
                    }
                    for l in self.lbs.iter_mut().filter(|l| l.host == host) {
                        l.running = false;
                    }
                    for d in self.dbs.iter_mut().filter(|d| d.host == host) {
                        d.up = false;
                    }
                    self.log("fault_crash", Some(&host), json!({}));
                }
                (FaultKind::Crash, true) => {
                    // systemd's Restart=on-failure brings it back after the fault's `for`.
                    for i in 0..self.apps.len() {
                        if self.apps[i].host == host
                            && matches!(self.apps[i].state, AppState::Crashed { .. })
                        {
                            self.restart_app(i, "recovered from crash");
                        }
                    }
                    for l in self.lbs.iter_mut().filter(|l| l.host == host) {
                        l.running = true;
                    }
                    for d in self.dbs.iter_mut().filter(|d| d.host == host) {
                        d.up = true;
                    }
                }
                (FaultKind::PrimaryCrash, up) => {
                    for d in self
                        .dbs
                        .iter_mut()
                        .filter(|d| d.host == host && d.role == DbRole::Primary)
                    {
                        d.up = up;
                    }
                    let kind = if up {
                        "db_primary_up"
                    } else {
                        "fault_primary_crash"
                    };
                    self.log(kind, Some(&host), json!({}));
                }
                _ => {}
            }
        }
    }

    // ----- files -----

    fn observe_app(&mut self, i: usize) {
        let host = self.apps[i].host.clone();
        let content = self.hosts[&host]
            .fs()
            .and_then(|fs| fs.read(&self.apps[i].config_path).ok());
        if content == self.apps[i].config_seen {
            return;
        }
        self.apps[i].config_seen = content.clone();
        let Some(bytes) = content else { return };
        match conf::app_version(&String::from_utf8_lossy(&bytes)) {
            Ok(v) => {
                if let Some(v) = v {
                    self.apps[i].next_version = v;
                }
                self.restart_app(i, "config written");
            }
            Err(e) => {
                let why = format!("cannot read {}: {e}", self.apps[i].config_path);
                self.log("app_crashed", Some(&host), json!({"why": why}));
                self.apps[i].state = AppState::Crashed { why };
                self.app_changed(i);
            }
        }
    }

    fn restart_app(&mut self, i: usize, why: &str) {
        let host = self.apps[i].host.clone();
        self.apps[i].restarts += 1;
        let n = self.apps[i].restarts;
        self.injector.on_restart(&host, n, self.now);
        let seconds = self
            .injector
            .active(FaultKind::SlowRestart, &host, self.now)
            .and_then(|r| r.seconds)
            .unwrap_or(self.apps[i].restart_seconds);
        let app = &mut self.apps[i];
        app.state = AppState::Starting {
            until: self.now + seconds,
        };
        app.restarted_at = Some(self.now);
        app.checked_since_restart = false;
        let version = app.next_version.clone();
        self.app_changed(i);
        self.log(
            "app_restart",
            Some(&host),
            json!({"why": why, "version": version, "seconds": seconds, "restart": n}),
        );
    }

    /// The stanza files of an LB's `active/` and `draining/`, sorted by name; also notes
    /// whether any of them is a symbolic link.
    fn read_pool_files(&mut self, i: usize) -> (StanzaFiles, StanzaFiles) {
        let lb = &self.lbs[i];
        let Some(fs) = self.hosts[&lb.host].fs() else {
            return Default::default();
        };
        let mut links = false;
        let mut read_dir = |sub: &str| {
            let dir = format!("{}/{sub}", lb.pool_dir);
            let mut names = fs.list_dir(&dir).unwrap_or_default();
            names.sort();
            names
                .into_iter()
                .filter(|n| n.ends_with(".conf"))
                .filter_map(|n| {
                    let path = format!("{dir}/{n}");
                    links |= fs.lstat(&path).is_ok_and(|s| s.kind == FileKind::Symlink);
                    let bytes = fs.read(&path).ok()?;
                    Some((format!("{sub}/{n}"), bytes))
                })
                .collect::<Vec<_>>()
        };
        let files = (read_dir("active"), read_dir("draining"));
        self.pool_has_links[i] = links;
        files
    }

    /// Brings the LB's files seen up to date after the changes `changed` (paths inside its
    /// pool folder), reading only the changed files: whether any file changed, or None when
    /// a change is not one file of `active/` or `draining/`, or the pool has symbolic links
    /// (then the whole folder must be read again; the files seen are left as they were).
    /// With it, whether a file of `active/` changed.
    fn reread_pool_files(&mut self, i: usize, changed: &[String]) -> Option<(bool, bool)> {
        if self.pool_has_links[i] {
            return None;
        }
        let lb = &self.lbs[i];
        let fs = self.hosts[&lb.host].fs()?;
        // First check that every change is one file, then read them.
        let mut entries = Vec::with_capacity(changed.len());
        for c in changed {
            let rel = c.strip_prefix(lb.pool_dir.as_str())?.strip_prefix('/')?;
            let (sub, name) = rel.split_once('/')?;
            if name.is_empty() || name.contains('/') {
                return None;
            }
            if !matches!(sub, "active" | "draining") || !name.ends_with(".conf") {
                continue;
            }
            if fs.lstat(c).is_ok_and(|s| s.kind == FileKind::Symlink) {
                // read_pool_files, which reads everything instead, notes the link.
                return None;
            }
            entries.push((sub == "active", format!("{sub}/{name}"), fs.read(c).ok()));
        }
        let seen = &mut self.lbs[i].files_seen;
        let (mut any, mut any_active) = (false, false);
        for (active, key, bytes) in entries {
            let list = if active { &mut seen.0 } else { &mut seen.1 };
            let at = list.binary_search_by(|(k, _)| k.as_str().cmp(&key));
            let changed = match (bytes, at) {
                (Some(bytes), Ok(k)) if list[k].1 != bytes => {
                    list[k].1 = bytes;
                    true
                }
                (Some(_), Ok(_)) | (None, Err(_)) => false,
                (Some(bytes), Err(k)) => {
                    list.insert(k, (key, bytes));
                    true
                }
                (None, Ok(k)) => {
                    list.remove(k);
                    true
                }
            };
            any |= changed;
            any_active |= changed && active;
        }
        Some((any, any_active))
    }

    /// The LB's pool folder changed: `changed` lists the paths inside it, None to read
    /// the whole folder again.
    fn observe_lb(&mut self, i: usize, changed: Option<&[String]>) {
        // Whether `active/` is as the pool in force was loaded from: then a change of
        // `draining/` alone (a drain or an undrain, twice per host of a rollout) replaces
        // the draining set and leaves the backends, and what they route to, as they are.
        let active_in_force = std::mem::take(&mut self.pool_is_seen[i]);
        let only_draining = match changed.and_then(|c| self.reread_pool_files(i, c)) {
            Some((false, _)) => {
                self.pool_is_seen[i] = active_in_force;
                return;
            }
            Some((true, active)) => active_in_force && !active,
            None => {
                let files = self.read_pool_files(i);
                if files == self.lbs[i].files_seen {
                    self.pool_is_seen[i] = active_in_force;
                    return;
                }
                let same_active = files.0 == self.lbs[i].files_seen.0;
                self.lbs[i].files_seen = files;
                active_in_force && same_active
            }
        };
        let host = self.lbs[i].host.clone();
        if self
            .injector
            .active(FaultKind::LbRejectConfig, &host, self.now)
            .is_some()
        {
            self.log(
                "lb_config_rejected",
                Some(&host),
                json!({"why": "lb_reject_config fault: the last good pool stays in place"}),
            );
            return;
        }
        let files = &self.lbs[i].files_seen;
        let loaded = if only_draining {
            Pool::draining_from_files(&files.1, &mut self.parsed_stanzas[i]).map(NewPool::Draining)
        } else {
            Pool::from_files(&files.0, &files.1, &mut self.parsed_stanzas[i]).map(NewPool::Whole)
        };
        match loaded {
            Ok(pool) => {
                self.apply_pool(i, pool);
                self.pool_is_seen[i] = true;
            }
            Err(e) => self.log(
                "lb_config_rejected",
                Some(&host),
                json!({"why": format!("{}/{e}", self.lbs[i].pool_dir)}),
            ),
        }
    }

    /// Puts `pool` in force on LB `i` and notes which apps its capacity now depends on.
    fn set_pool(&mut self, i: usize, pool: Pool) {
        for a in std::mem::take(&mut self.lb_apps[i]).into_iter().flatten() {
            self.app_lbs[a].retain(|&l| l != i);
        }
        self.lbs[i].set_pool(pool);
        let lb = &self.lbs[i];
        let apps: Vec<Option<usize>> = lb
            .pool
            .active
            .values()
            .map(|b| self.app_at(&lb.host, &b.address, b.port))
            .collect();
        for &a in apps.iter().flatten() {
            if !self.app_lbs[a].contains(&i) {
                self.app_lbs[a].push(i);
            }
        }
        self.lb_apps[i] = apps;
        self.capacity_seen[i] = None;
    }

    /// App `i`'s state changed: the capacity of the LBs routing to it may have too.
    fn app_changed(&mut self, i: usize) {
        self.restart_due = None;
        for &l in &self.app_lbs[i] {
            self.capacity_seen[l] = None;
        }
    }

    /// Puts a newly loaded pool in force and checks what entered rotation.
    fn apply_pool(&mut self, i: usize, pool: NewPool) {
        // The rotation after, and the names that entered and left it, in the pool's order.
        let (after, entered, left) = match pool {
            NewPool::Whole(pool) => {
                let before = self.lbs[i].rotation_names();
                self.set_pool(i, pool);
                let after = self.lbs[i].rotation_names();
                let (before_set, after_set): (HashSet<&String>, HashSet<&String>) =
                    (before.iter().collect(), after.iter().collect());
                let entered: Vec<String> = after
                    .iter()
                    .filter(|n| !before_set.contains(n))
                    .cloned()
                    .collect();
                let left: Vec<String> = before
                    .iter()
                    .filter(|n| !after_set.contains(n))
                    .cloned()
                    .collect();
                (after, entered, left)
            }
            NewPool::Draining(draining) => {
                let lb = &mut self.lbs[i];
                let old = std::mem::replace(&mut lb.pool.draining, draining);
                lb.rotation_changed();
                self.capacity_seen[i] = None;
                // The backends and their weights are those of before: a name entered the
                // rotation when it left draining/, and left it when it entered draining/,
                // so neither set of a pool of hundreds is made.
                let lb = &self.lbs[i];
                let after = lb.rotation_names();
                let entered: Vec<String> =
                    after.iter().filter(|n| old.contains(*n)).cloned().collect();
                let left: Vec<String> = lb
                    .pool
                    .active
                    .values()
                    .filter(|b| {
                        b.weight > 0
                            && !lb.failing_checks.contains(&b.name)
                            && lb.pool.draining.contains(&b.name)
                            && !old.contains(&b.name)
                    })
                    .map(|b| b.name.clone())
                    .collect();
                (after, entered, left)
            }
        };
        let lb_host = self.lbs[i].host.clone();
        self.log(
            "lb_reload",
            Some(&lb_host),
            // Built as values directly: `json!` puts every value through serde's serializer
            // (a copy of each name of a pool of hundreds, on each drain and each re-add).
            {
                let names = |it: &mut dyn Iterator<Item = &String>| {
                    Value::Array(it.map(|n| Value::String(n.clone())).collect())
                };
                let mut detail = Map::new();
                detail.insert("in_rotation".into(), names(&mut after.iter()));
                detail.insert(
                    "draining".into(),
                    names(&mut self.lbs[i].pool.draining.iter()),
                );
                Value::Object(detail)
            },
        );
        let task = self.task.clone();
        for name in &entered {
            let b = self.lbs[i].pool.active[name].clone();
            let target = self.app_at(&lb_host, &b.address, b.port);
            let problem = match target {
                None => Some(format!(
                    "nothing of the fleet listens at {}:{}",
                    b.address, b.port
                )),
                Some(a) => {
                    let app = &self.apps[a];
                    match self.app_unready(a, &lb_host) {
                        Some(why) => Some(format!("while {why}")),
                        None if app.restarted_at.is_some() && !app.checked_since_restart => {
                            Some(format!(
                                "before any health check passed since its restart at {:.1} s",
                                app.restarted_at.unwrap_or(self.start) - self.start
                            ))
                        }
                        None => None,
                    }
                }
            };
            if let Some(problem) = problem {
                self.checker.breach(Breach {
                    invariant: "healthy_before_readd",
                    key: format!("{lb_host}|{name}|{}", self.now),
                    at: self.elapsed(),
                    hosts: vec![name.clone()],
                    lb: Some(lb_host.clone()),
                    task: task.as_deref(),
                    template: format!("{name} entered the rotation of {lb_host} {problem}"),
                });
            }
            if let Some(a) = target {
                let (env, tier) = (&self.apps[a].environment, &self.apps[a].tier);
                let lb = &self.lbs[i];
                if *env != lb.environment || *tier != lb.tier {
                    let template = format!(
                        "{lb_host} ({} {}) routes to {name} ({env} {tier})",
                        lb.environment, lb.tier
                    );
                    self.checker.breach(Breach {
                        invariant: "environment_isolation",
                        key: format!("{lb_host}|{name}"),
                        at: self.elapsed(),
                        hosts: vec![name.clone()],
                        lb: Some(lb_host.clone()),
                        task: task.as_deref(),
                        template,
                    });
                }
            }
        }
        for name in &left {
            self.checker
                .close("environment_isolation", &format!("{lb_host}|{name}"));
        }
    }

    fn observe_db(&mut self, i: usize) {
        let host = self.dbs[i].host.clone();
        if let Some(dir) = self.dbs[i].backups_dir.clone() {
            let Some(fs) = self.hosts[&host].fs().cloned() else {
                return;
            };
            let mut names = fs.list_dir(&dir).unwrap_or_default();
            names.sort();
            for n in names {
                if !self.dbs[i].backups_seen.contains(&n) {
                    let bytes = fs.stat(&format!("{dir}/{n}")).map(|s| s.size).unwrap_or(0);
                    self.dbs[i].backups_seen.insert(n.clone());
                    self.log(
                        "db_backup",
                        Some(&host),
                        json!({"file": format!("{dir}/{n}"), "bytes": bytes}),
                    );
                }
            }
        }
        if self.dbs[i].role != DbRole::Replica {
            return;
        }
        let content = self.hosts[&host]
            .fs()
            .and_then(|fs| fs.read(&self.dbs[i].replication_config).ok());
        if content == self.dbs[i].config_seen {
            return;
        }
        self.dbs[i].config_seen = content.clone();
        let Some(bytes) = content else { return };
        match conf::replication_source(&String::from_utf8_lossy(&bytes)) {
            Ok(Some((addr, port))) => {
                let source = match self.listener(&host, &addr, port) {
                    Some(Service::Db(j)) => Some(self.dbs[j].host.clone()),
                    _ => None,
                };
                self.dbs[i].source = source.clone();
                self.dbs[i].source_text = format!("{addr}:{port}");
                self.log(
                    "replication_configured",
                    Some(&host),
                    json!({"source": source, "address": format!("{addr}:{port}")}),
                );
            }
            Ok(None) => {
                self.log(
                    "replication_config_rejected",
                    Some(&host),
                    json!({"why": "no primary_host/primary_port or connection_string"}),
                );
            }
            Err(e) => self.log(
                "replication_config_rejected",
                Some(&host),
                json!({"why": format!("{}: {e}", self.dbs[i].replication_config)}),
            ),
        }
    }

    // ----- network -----

    /// The fleet host with this address as seen from `from` (127.0.0.1 is `from` itself):
    /// its index in [`Fleet::hosts`].
    fn host_index(&self, from: &str, addr: &str) -> Option<usize> {
        if is_loopback(addr) {
            return self.hosts.get_index_of(from);
        }
        self.hosts
            .get_index_of(addr)
            .or_else(|| self.by_address.get(addr).copied())
    }

    fn listener(&self, from: &str, addr: &str, port: u16) -> Option<Service> {
        let host = self.host_index(from, addr)?;
        self.listeners.get(&(host, port)).copied()
    }

    fn app_at(&self, from: &str, addr: &str, port: u16) -> Option<usize> {
        match self.listener(from, addr, port)? {
            Service::App(i) => Some(i),
            _ => None,
        }
    }

    /// The name of the host at index `i` of [`Fleet::hosts`].
    fn host_name(&self, i: usize) -> &str {
        self.hosts
            .get_index(i)
            .map_or("", |(name, _)| name.as_str())
    }

    /// Finds where a request from `from` to `addr:port` goes, as the network sees it.
    fn route(&self, from: &str, addr: &str, port: u16, timeout: f64) -> Routed {
        let index = self.host_index(from, addr);
        let host = match index {
            Some(i) => self.host_name(i),
            // A host without services of the fleet still has a loopback interface: faults
            // on it apply, and nothing listens there.
            None if is_loopback(addr) => from,
            // Only the fleet exists on the simulated network: other loopback addresses
            // refuse, anything else has no route.
            None if addr.starts_with("127.") => return Routed::Failed(NetError::Refused),
            None => return Routed::Failed(NetError::NoRoute),
        };
        let now = self.now;
        if self
            .injector
            .active(FaultKind::Unreachable, host, now)
            .is_some()
            || self.injector.partitioned(from, host, now)
        {
            return Routed::Failed(NetError::Timeout { after: timeout });
        }
        let delay = self
            .injector
            .active(FaultKind::Latency, host, now)
            .and_then(|r| r.delay)
            .unwrap_or(0.0);
        if delay >= timeout {
            return Routed::Failed(NetError::Timeout { after: timeout });
        }
        let Some((index, service)) =
            index.and_then(|h| Some((h, self.listeners.get(&(h, port)).copied()?)))
        else {
            return Routed::Failed(NetError::Refused);
        };
        let open = match service {
            Service::App(i) => !matches!(
                self.apps[i].state,
                AppState::Stopped | AppState::Crashed { .. }
            ),
            Service::Lb(i) => self.lbs[i].running,
            Service::Db(i) => self.dbs[i].up,
        };
        if !open {
            return Routed::Failed(NetError::Refused);
        }
        Routed::To {
            host: index,
            service,
            delay,
        }
    }

    /// The answer of the service a request reached, over HTTP: an app or a database answers
    /// itself, a load balancer its status page or what the backend it forwards to answers.
    fn serve(
        &mut self,
        service: Service,
        host: &str,
        req: HttpRequest,
        timeout: f64,
    ) -> Result<HttpResponse, NetError> {
        if let Service::Lb(i) = service {
            if req.path.split('?').next() == Some(LB_STATUS_PATH) {
                return Ok(self.lb_status(i, req));
            }
            return self
                .through_lb(i, &Arc::new(req), timeout)
                .map(|(r, _)| Arc::unwrap_or_clone(r));
        }
        let now = self.now;
        let unhealthy = self
            .injector
            .active(FaultKind::Unhealthy, host, now)
            .map(|r| r.status.unwrap_or(500));
        let result = match service {
            Service::App(i) => {
                let served = self.docroot_file(i, &req);
                let app = &self.apps[i];
                // Asked directly, an app answers as it would through an LB, less the LB's
                // header: shared by every fleet alike (a docroot file's bytes are not among
                // the inputs, so such an answer is made afresh).
                let shared_key =
                    (self.replay_answers && served.is_none()).then(|| SharedAnswerKey {
                        via_lb: false,
                        backend: None,
                        reached: Reached::App(app.host.clone()),
                        unhealthy,
                        starting: matches!(app.state, AppState::Starting { .. }),
                        version: app.version.clone(),
                        request: req.clone(),
                    });
                if let Some(resp) = shared_key.as_ref().and_then(shared_answer) {
                    return Ok(HttpResponse::clone(&resp));
                }
                let served = served.as_deref();
                let result = self.wire.block_on(exchange(req, |r| async move {
                    app.respond(&r, unhealthy, served)
                }));
                if let (Some(key), Ok(resp)) = (shared_key, &result) {
                    share_answer(key, &Arc::new(resp.clone()));
                }
                result
            }
            Service::Db(i) => {
                let db = &self.dbs[i];
                let start = self.start;
                self.wire
                    .block_on(exchange(req, |r| async move { db.respond(&r, now, start) }))
            }
            Service::Lb(_) => return Err(NetError::Refused),
        };
        Ok(result.unwrap_or_else(|e| HttpResponse::text(500, &format!("{e:?}"))))
    }

    /// The file of app `i`'s docroot that a GET (or HEAD) of `req` names, read from the app's
    /// host; None without a docroot, for another method, for `/` and `/health`, for a path
    /// with `..`, and for a missing file.
    fn docroot_file(&self, i: usize, req: &HttpRequest) -> Option<Vec<u8>> {
        let app = &self.apps[i];
        let root = app.docroot.as_deref()?;
        if !matches!(req.method.as_str(), "GET" | "HEAD") {
            return None;
        }
        let path = req.path_only();
        if matches!(path, "/" | "/health") || path.split('/').any(|c| c == "..") {
            return None;
        }
        let fs = self.hosts.get(&app.host)?.fs()?;
        let full = format!(
            "{}/{}",
            root.trim_end_matches('/'),
            path.trim_start_matches('/')
        );
        if !fs.is_file(&full) {
            return None;
        }
        fs.read(&full).ok()
    }

    /// Why app `i` cannot serve requests from `from` now, or None when it can.
    fn app_unready(&self, i: usize, from: &str) -> Option<String> {
        let app = &self.apps[i];
        if let Some(why) = app.unready_reason() {
            return Some(why);
        }
        let now = self.now;
        if let Some(r) = self.injector.active(FaultKind::Unhealthy, &app.host, now) {
            return Some(format!("unhealthy (answering {})", r.status.unwrap_or(500)));
        }
        if self
            .injector
            .active(FaultKind::Unreachable, &app.host, now)
            .is_some()
        {
            return Some("unreachable".into());
        }
        if self.injector.partitioned(from, &app.host, now) {
            return Some(format!("cut off from {from} by a partition"));
        }
        let delay = self
            .injector
            .active(FaultKind::Latency, &app.host, now)
            .and_then(|r| r.delay)
            .unwrap_or(0.0);
        if delay >= self.model.traffic.timeout {
            return Some(format!("answering after {delay} s"));
        }
        None
    }

    /// A request through load balancer `i`: the LB picks a backend and forwards the request
    /// over HTTP. Returns the answer and the backend picked.
    ///
    /// Client traffic sends the same request thousands of times while the fleet's state
    /// stays put, so an answer got over the wire is remembered with everything it depends
    /// on ([`AnswerInputs`]) and replayed when those inputs come again: what changes between
    /// two such requests (the round-robin position, counts, the checks) happens on every
    /// request, only the identical bytes are not produced twice.
    fn through_lb(
        &mut self,
        i: usize,
        req: &Arc<HttpRequest>,
        timeout: f64,
    ) -> Result<(Arc<HttpResponse>, Option<usize>), NetError> {
        let picked = self.lbs[i].pick();
        let lb = &self.lbs[i];
        let backend = picked
            .and_then(|k| lb.pool.active.get_index(k))
            .map(|(_, b)| b);
        let forward = backend.map(
            |b| match self.route(&lb.host, &b.address, b.port, timeout) {
                Routed::To {
                    host,
                    service: Service::App(a),
                    ..
                } => Ok((a, host)),
                Routed::To { .. } => Err(NetError::Refused),
                Routed::Failed(e) => Err(e),
            },
        );
        let now = self.now;
        let reached = forward.as_ref().and_then(|f| f.as_ref().ok());
        let unhealthy = reached.and_then(|(_, h)| {
            self.injector
                .active(FaultKind::Unhealthy, self.host_name(*h), now)
                .map(|r| r.status.unwrap_or(500))
        });
        // A docroot file's bytes are not among the remembered answers' inputs: such an
        // answer is made afresh every time.
        let served = reached.and_then(|(a, _)| self.docroot_file(*a, req));
        let app = reached.map(|(a, _)| &self.apps[*a]);
        let inputs = AnswerInputsRef {
            backend: backend.map(|b| b.name.as_str()),
            forward: forward.as_ref().map(|f| f.as_ref().map(|(a, _)| *a)),
            unhealthy,
            starting: app.is_some_and(|a| matches!(a.state, AppState::Starting { .. })),
            version: app.map_or("", |a| a.version.as_str()),
            request: req,
        };
        let replay = self.replay_answers && served.is_none();
        if replay {
            if let Some(resp) = self.answers[i].find(&inputs) {
                return Ok((Arc::clone(resp), picked));
            }
        }
        let shared_key = replay.then(|| SharedAnswerKey {
            via_lb: true,
            backend: inputs.backend.map(str::to_string),
            reached: match (&forward, app) {
                (None, _) => Reached::NoBackend,
                (Some(Err(NetError::Timeout { .. })), _) => Reached::TimedOut,
                (Some(Err(_)), _) | (Some(Ok(_)), None) => Reached::Failed,
                (Some(Ok(_)), Some(app)) => Reached::App(app.host.clone()),
            },
            unhealthy,
            starting: inputs.starting,
            version: inputs.version.to_string(),
            request: HttpRequest::clone(req),
        });
        if let Some(resp) = shared_key.as_ref().and_then(shared_answer) {
            let key = inputs.to_owned();
            self.answers[i].remember(key, Arc::clone(&resp));
            return Ok((resp, picked));
        }
        let backend_name = inputs.backend;
        let served_bytes = served.as_deref();
        let result = self.wire.block_on(exchange(HttpRequest::clone(req), |r| {
            let forward = &forward;
            async move {
                match (forward, app) {
                    (None, _) => HttpResponse::text(503, "no backend in rotation\n"),
                    (Some(Err(NetError::Timeout { .. })), _) => {
                        HttpResponse::text(504, "backend timed out\n")
                    }
                    (Some(Err(_)), _) | (Some(Ok(_)), None) => {
                        HttpResponse::text(502, "backend refused the connection\n")
                    }
                    (Some(Ok(_)), Some(app)) => {
                        let mut resp = match exchange(r, |r2| async move {
                            app.respond(&r2, unhealthy, served_bytes)
                        })
                        .await
                        {
                            Ok(resp) => resp,
                            Err(_) => HttpResponse::text(502, "bad answer from backend\n"),
                        };
                        if let Some(n) = backend_name {
                            resp.headers
                                .push(("x-fleetsim-backend".into(), n.to_string()));
                        }
                        resp
                    }
                }
            }
        }));
        let Ok(resp) = result else {
            return Err(NetError::Refused);
        };
        let resp = Arc::new(resp);
        if served.is_some() {
            return Ok((resp, picked));
        }
        if let Some(shared_key) = shared_key {
            share_answer(shared_key, &resp);
        }
        let key = inputs.to_owned();
        self.answers[i].remember(key, Arc::clone(&resp));
        Ok((resp, picked))
    }

    /// The LB's own status page (as HAProxy's stats or nginx's status page): the pool in
    /// force, so a playbook can check that a drain or a re-add took effect.
    fn lb_status(&mut self, i: usize, req: HttpRequest) -> HttpResponse {
        let lb = &self.lbs[i];
        let body = json!({
            "lb": lb.host,
            "in_rotation": lb.rotation_names(),
            "draining": lb.pool.draining.iter().collect::<Vec<_>>(),
            "servers": lb.pool.active.keys().collect::<Vec<_>>(),
        });
        self.wire
            .block_on(exchange(req, |_| async { HttpResponse::json(200, &body) }))
            .unwrap_or_else(|e| HttpResponse::text(500, &format!("{e:?}")))
    }

    /// One client request through load balancer `i`, counted and checked.
    fn client_request(&mut self, i: usize) {
        let lb_host = self.lbs[i].host.clone();
        let timeout = self.model.traffic.timeout;
        // The clients are outside the fleet: they reach the LB unless it is down or cut off.
        let unreachable = self
            .injector
            .active(FaultKind::Unreachable, &lb_host, self.now)
            .is_some();
        let picked_unready;
        let outcome: Result<u16, String> = if unreachable {
            picked_unready = None;
            Err("load balancer unreachable".into())
        } else if !self.lbs[i].running {
            picked_unready = None;
            Err("load balancer down".into())
        } else {
            let req = Arc::clone(&self.client_requests[i]);
            let answer = self.through_lb(i, &req, timeout);
            match answer {
                Ok((resp, picked)) => {
                    picked_unready = picked
                        .and_then(|k| self.lbs[i].pool.active.get_index(k))
                        .map(|(name, b)| {
                            let why = match self.app_at(&lb_host, &b.address, b.port) {
                                Some(a) => self.app_unready(a, &lb_host),
                                None => Some("not a service of the fleet".into()),
                            };
                            (name.clone(), why)
                        });
                    if (200..300).contains(&resp.status) {
                        Ok(resp.status)
                    } else {
                        Err(format!("answered {}", resp.status))
                    }
                }
                Err(e) => {
                    picked_unready = None;
                    Err(format!("{e:?}"))
                }
            }
        };
        self.traffic.requests += 1;
        let elapsed = self.elapsed();
        let per_lb = match self.traffic.by_lb.get_mut(&lb_host) {
            Some(c) => c,
            None => self.traffic.by_lb.entry(lb_host.clone()).or_default(),
        };
        per_lb.count(elapsed, outcome.is_err());
        let backend = picked_unready
            .as_ref()
            .map(|(n, _)| n.clone())
            .unwrap_or_else(|| "-".into());
        if let Err(what) = &outcome {
            self.traffic.failed += 1;
            let hosts = if backend == "-" {
                Vec::new()
            } else {
                vec![backend.clone()]
            };
            let via = if backend == "-" {
                String::new()
            } else {
                format!(" via {backend}")
            };
            self.checker.breach(Breach {
                invariant: "no_failed_requests",
                key: format!("{lb_host}|{backend}|{what}"),
                at: self.elapsed(),
                hosts,
                lb: Some(lb_host.clone()),
                task: self.task.as_deref(),
                template: format!(
                    "{{n}} request{{s}} through {lb_host}{via} failed ({what}) from {{from}} s to {{to}} s"
                ),
            });
        } else if self.checker.any_open("no_failed_requests") {
            self.checker
                .close("no_failed_requests", &format!("{lb_host}|{backend}|"));
        }
        match picked_unready {
            Some((name, Some(why))) => self.checker.breach(Breach {
                invariant: "no_traffic_to_unready",
                key: format!("{lb_host}|{name}|{why}"),
                at: self.elapsed(),
                hosts: vec![name.clone()],
                lb: Some(lb_host.clone()),
                task: self.task.as_deref(),
                template: format!(
                    "{{n}} request{{s}} sent by {lb_host} to {name} while {why}, from {{from}} s to {{to}} s"
                ),
            }),
            Some((name, None)) if self.checker.any_open("no_traffic_to_unready") => self
                .checker
                .close("no_traffic_to_unready", &format!("{lb_host}|{name}|")),
            Some((_, None)) => {}
            None => {}
        }
    }

    /// The LB's own health checks (when the fleet model turns them on).
    fn lb_health_checks(&mut self, i: usize) {
        let lb_host = self.lbs[i].host.clone();
        let backends: Vec<_> = self.lbs[i].pool.active.values().cloned().collect();
        for b in backends {
            let ok = match self.app_at(&lb_host, &b.address, b.port) {
                Some(a) => self.app_unready(a, &lb_host).is_none(),
                None => false,
            };
            let lb = &mut self.lbs[i];
            let changed = if ok {
                lb.failing_checks.shift_remove(&b.name)
            } else {
                lb.failing_checks.insert(b.name.clone())
            };
            if changed {
                lb.rotation_changed();
                self.capacity_seen[i] = None;
                self.log(
                    "lb_health_check",
                    Some(&lb_host),
                    json!({"backend": b.name, "healthy": ok}),
                );
            }
        }
        let lb = &mut self.lbs[i];
        if let (Some(next), Some(interval)) = (lb.next_health_check.as_mut(), lb.health_interval) {
            *next += interval;
        }
    }

    // ----- invariants over state -----

    /// An open capacity breach whose backends are as they were: it goes on now.
    fn capacity_breach_goes_on(&mut self, key: String) {
        self.checker.breach(Breach {
            invariant: "capacity_floor",
            key,
            at: self.elapsed(),
            hosts: Vec::new(),
            lb: None,
            task: None,
            template: String::new(),
        });
    }

    /// Checks the invariants about state (capacity, replication) as of now.
    fn evaluate(&mut self) {
        let task = self.task.clone();
        // Armed faults change what is healthy as time goes: then every check is made again.
        let faults_armed = !self.injector.armed.is_empty();
        for i in 0..self.lbs.len() {
            if faults_armed {
                self.capacity_seen[i] = None;
            }
            // Nothing the check depends on changed since the last one: the same outcome,
            // observed again now.
            match &self.capacity_seen[i] {
                Some(None) => {
                    self.checker.close_host("capacity_floor", &self.lbs[i].host);
                    continue;
                }
                Some(Some(key)) if self.checker.is_open("capacity_floor", key) => {
                    let key = key.clone();
                    self.capacity_breach_goes_on(key);
                    continue;
                }
                _ => {}
            }
            let lb_host = self.lbs[i].host.clone();
            let floor = self.lbs[i]
                .initial_size
                .saturating_sub(self.lbs[i].max_unavailable);
            // The backends in rotation (as `rotation_names`) whose app is ready.
            let lb = &self.lbs[i];
            let healthy_backends = || {
                lb.pool
                    .active
                    .values()
                    .zip(&self.lb_apps[i])
                    .filter(|(b, _)| {
                        b.weight > 0
                            && !lb.pool.draining.contains(&b.name)
                            && !lb.failing_checks.contains(&b.name)
                    })
                    .filter(|(_, a)| a.is_some_and(|a| self.app_unready(a, &lb_host).is_none()))
                    .map(|(b, _)| b)
            };
            // Counted first: the names are wanted only for a breach, and a pool of hundreds
            // is checked again after each of its backends' restarts, drains and re-adds.
            if healthy_backends().count() >= floor {
                self.capacity_seen[i] = Some(None);
                self.checker.close_host("capacity_floor", &lb_host);
                continue;
            }
            let healthy: Vec<String> = healthy_backends().map(|b| b.name.clone()).collect();
            let key = format!("{lb_host}|{}", healthy.join(","));
            self.capacity_seen[i] = Some(Some(key.clone()));
            if self.checker.is_open("capacity_floor", &key) {
                self.capacity_breach_goes_on(key);
                continue;
            }
            self.checker.close_host("capacity_floor", &lb_host);
            let lb = &self.lbs[i];
            let names = if healthy.is_empty() {
                "none".to_string()
            } else {
                healthy.join(", ")
            };
            let out: Vec<String> = self
                .pool_names(i)
                .into_iter()
                .filter(|n| !healthy.contains(n))
                .collect();
            self.checker.breach(Breach {
                invariant: "capacity_floor",
                key,
                at: self.elapsed(),
                hosts: out,
                lb: Some(lb_host.clone()),
                task: task.as_deref(),
                template: format!(
                    "{lb_host} had {} healthy backend{} in rotation ({names}), below {} - {} = {floor}, from {{from}} s to {{to}} s",
                    healthy.len(),
                    if healthy.len() == 1 { "" } else { "s" },
                    lb.initial_size,
                    lb.max_unavailable,
                ),
            });
        }
        for i in 0..self.dbs.len() {
            if self.dbs[i].role != DbRole::Replica {
                continue;
            }
            let problem = self.replication_problem(i);
            let host = self.dbs[i].host.clone();
            match problem {
                None => self.checker.close_host("replication_healthy", &host),
                Some(p) => {
                    let key = format!("{host}|{p}");
                    if !self.checker.is_open("replication_healthy", &key) {
                        self.checker.close_host("replication_healthy", &host);
                    }
                    let template = format!("{host} {p}, from {{from}} s to {{to}} s");
                    self.checker.breach(Breach {
                        invariant: "replication_healthy",
                        key,
                        at: self.elapsed(),
                        hosts: vec![host],
                        lb: None,
                        task: task.as_deref(),
                        template,
                    });
                }
            }
        }
    }

    /// Every backend named in an LB's pool.
    fn pool_names(&self, i: usize) -> Vec<String> {
        self.lbs[i].pool.active.keys().cloned().collect()
    }

    /// What is wrong with replica `i`'s replication now, if anything; also moves its applied
    /// position forward while it is connected.
    fn replication_problem(&mut self, i: usize) -> Option<String> {
        let now = self.now;
        let d = &self.dbs[i];
        let Some(src) = d.source.clone() else {
            return Some(format!(
                "replicates from {}, where no database listens",
                d.source_text
            ));
        };
        let Some(p) = self.dbs.iter().position(|x| x.host == src) else {
            return Some(format!("replicates from {src}, which is no database"));
        };
        let primary = &self.dbs[p];
        if primary.role != DbRole::Primary {
            return Some(format!("replicates from {src}, which is a replica"));
        }
        if primary.environment != d.environment {
            return Some(format!(
                "replicates from {src} of {}, not of {}",
                primary.environment, d.environment
            ));
        }
        let connected = d.up
            && primary.up
            && self
                .injector
                .active(FaultKind::Unreachable, &src, now)
                .is_none()
            && self
                .injector
                .active(FaultKind::Unreachable, &d.host, now)
                .is_none()
            && !self.injector.partitioned(&d.host, &src, now);
        let extra = self
            .injector
            .active(FaultKind::ReplicaLag, &d.host, now)
            .and_then(|r| r.lag)
            .unwrap_or(0.0);
        let (base, max) = (d.base_lag, d.max_lag);
        let primary_up = primary.up;
        let d = &mut self.dbs[i];
        if connected {
            // A connected replica is as far behind as its replay delay says (a lag fault
            // stands for history before the run too, so it can exceed the run's length).
            d.applied_until = now - base - extra;
        }
        let lag = now - d.applied_until;
        if !primary_up {
            return Some(format!("replicates from {src}, which is down"));
        }
        if !connected {
            return Some(format!("cannot reach its primary {src}"));
        }
        (lag > max).then(|| format!("trails {src} by more than {max} s"))
    }
}

/// The fleet as the in-process shell's `curl` and `systemctl` reach it.
pub struct SharedFleet(pub std::sync::Arc<std::sync::Mutex<Fleet>>);

impl SharedFleet {
    fn with<T>(&self, f: impl FnOnce(&mut Fleet) -> T) -> T {
        f(&mut self.0.lock().unwrap_or_else(|e| e.into_inner()))
    }
}

impl commands::FleetAccess for SharedFleet {
    fn http(
        &mut self,
        from: &str,
        addr: &str,
        port: u16,
        req: HttpRequest,
        timeout: f64,
        now: f64,
    ) -> (Result<HttpResponse, NetError>, f64) {
        self.with(|f| f.http(from, addr, port, req, timeout, now))
    }

    fn systemctl(
        &mut self,
        host: &str,
        action: commands::UnitAction,
        unit: &str,
        now: f64,
    ) -> (Result<commands::UnitState, commands::UnitError>, f64) {
        use commands::{UnitAction, UnitError, UnitState};
        let verb = match action {
            UnitAction::Start => "start",
            UnitAction::Stop => "stop",
            UnitAction::Restart => "restart",
            UnitAction::Reload => "reload",
            UnitAction::Status => "status",
        };
        let state = self.with(|f| f.systemctl(host, verb, unit, now));
        let state = match state {
            None => Err(UnitError::NotFound),
            Some("active") => Ok(UnitState::Active),
            Some("activating") => Ok(UnitState::Activating),
            Some("failed") => Ok(UnitState::Failed),
            Some(_) => Ok(UnitState::Inactive),
        };
        (state, 0.0)
    }
}

/// The stanza a backend has in its LBs' `active/` before the first play.
/// Whether `addr` names the host itself.
fn is_loopback(addr: &str) -> bool {
    matches!(addr, "127.0.0.1" | "localhost" | "::1")
}

fn initial_stanza(app: &App, address: &str) -> String {
    format!(
        "# Initial pool member, laid out by fleetsim before the first play\n\
         server {} {{\n  address = \"{address}\"\n  port = {}\n  status = \"active\"\n  weight = 100\n  health_check = \"/health\"\n  environment = \"{}\"\n  tier = \"{}\"\n}}\n",
        app.host, app.port, app.environment, app.tier
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two apps behind one LB whose pool is in `/etc/lb`.
    struct TwoApps;

    impl Topology for TwoApps {
        fn resolve(&self, pattern: &str) -> Vec<String> {
            match pattern {
                "apps" => vec!["app-1".into(), "app-2".into()],
                "lbs" => vec!["lb-1".into()],
                _ => Vec::new(),
            }
        }
        fn var(&self, host: &str, name: &str) -> Option<Value> {
            match (host, name) {
                ("app-1", "app_port") => Some(json!(8001)),
                ("app-2", "app_port") => Some(json!(8002)),
                ("lb-1", "lb_port") => Some(json!(80)),
                _ => None,
            }
        }
    }

    #[test]
    fn a_drain_after_a_rejected_pool_reloads_the_whole_pool() {
        let dir = tempfile::tempdir().unwrap();
        let mut world = World::new(dir.path(), 1, 1_800_000_000.0);
        let model: FleetModel = serde_json::from_value(json!({
            "apps": [{"hosts": "apps", "port_var": "app_port", "config": "/etc/app.toml"}],
            "load_balancers": [{"hosts": "lbs", "port_var": "lb_port", "pool_dir": "/etc/lb",
                "backends": "apps", "environment": "production", "tier": "frontend"}],
        }))
        .unwrap();
        let mut fleet = Fleet::new(model, &FaultPlan::default(), &TwoApps, &mut world).unwrap();
        let rotation = |f: &Fleet| f.lbs[0].rotation_names();
        assert_eq!(rotation(&fleet), ["app-1", "app-2"]);
        let write = |world: &mut World, path: &str, text: &str| {
            let fs = &mut world.host("lb-1").unwrap().fs;
            fs.write(path, text.as_bytes(), WriteMode::Truncate)
                .unwrap();
        };
        world
            .host("lb-1")
            .unwrap()
            .fs
            .mkdir("/etc/lb/draining", false)
            .unwrap();
        fleet.observe(1_800_000_000.5);
        // A broken file in active/: the pool in force stays.
        write(&mut world, "/etc/lb/active/app-3.conf", "server app-3 {\n");
        fleet.observe(1_800_000_001.0);
        assert_eq!(rotation(&fleet), ["app-1", "app-2"]);
        // A drain now is not a change of draining/ alone against the pool in force: the
        // whole pool is read again, still broken, and nothing changes.
        write(
            &mut world,
            "/etc/lb/draining/app-1.conf",
            "server app-1 {\n}\n",
        );
        fleet.observe(1_800_000_002.0);
        assert_eq!(rotation(&fleet), ["app-1", "app-2"]);
        let kinds: Vec<String> = fleet.drain_events().into_iter().map(|e| e.kind).collect();
        assert_eq!(
            kinds.iter().filter(|k| *k == "lb_config_rejected").count(),
            2,
            "{kinds:?}"
        );
        // Repaired, the pool loads whole; then a drain alone takes the quick way.
        write(&mut world, "/etc/lb/active/app-3.conf", "");
        fleet.observe(1_800_000_003.0);
        assert_eq!(rotation(&fleet), ["app-2"]);
        assert!(fleet.pool_is_seen[0]);
        write(&mut world, "/etc/lb/draining/app-1.conf", "");
        write(
            &mut world,
            "/etc/lb/draining/app-2.conf",
            "server app-2 {\n}\n",
        );
        fleet.observe(1_800_000_004.0);
        assert_eq!(rotation(&fleet), ["app-1"]);
    }

    fn touched(w: &Watchers, changed: &[&str]) -> Vec<(Watcher, Option<Vec<String>>)> {
        let mut t = BTreeMap::new();
        for c in changed {
            w.touched_by(c, &mut t);
        }
        t.into_iter().collect()
    }

    #[test]
    fn a_change_finds_the_watchers_of_its_path_of_the_paths_inside_and_above_it() {
        let mut w = Watchers::default();
        w.watch("/tmp/lb/pool", Watcher::Lb(0));
        w.watch("/tmp/app/config.toml", Watcher::App(1));
        w.watch("/srv/db.conf", Watcher::Db(0));
        let file = "/tmp/lb/pool/active/a.conf";
        // Inside a watched folder: the watcher is told which entry changed.
        assert_eq!(
            touched(&w, &[file, "/tmp/lb/pool/draining/a.conf"]),
            vec![(
                Watcher::Lb(0),
                Some(vec![
                    file.to_string(),
                    "/tmp/lb/pool/draining/a.conf".into()
                ])
            )]
        );
        // The watched path itself, or a folder above it: everything is read again, and
        // the services come in their order (apps, LBs, databases).
        assert_eq!(
            touched(&w, &[file, "/tmp"]),
            vec![(Watcher::App(1), None), (Watcher::Lb(0), None)]
        );
        assert_eq!(
            touched(&w, &["/tmp/app/config.toml"]),
            vec![(Watcher::App(1), None)]
        );
        assert_eq!(touched(&w, &["/"]).len(), 3);
        // A sibling that only shares a prefix of the name is no change of theirs.
        assert!(touched(
            &w,
            &["/tmp/lb/poolside", "/tmp/app/config.toml.bak", "/srv/db"]
        )
        .is_empty());
    }
}
