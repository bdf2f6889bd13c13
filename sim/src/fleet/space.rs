//! The fault space (`space.yml`) of `fleetsim check`: which fault kinds a campaign draws, how
//! often, on which hosts, triggered how, with which parameter ranges, and which fleet timings
//! vary. Plain serde data (the binary reads it with spans for its errors) plus the semantic
//! checks serde cannot express, each naming the path of the offending field.
//!
//! ```yaml
//! max_faults: 3          # each case has 0..=max_faults faults
//! min_hosts: 1           # each case rolls out to at least this many of the --limit hosts
//! triggers:              # how a fault starts, drawn by weight (absent: not drawn)
//!   start: {weight: 1}                       # from the start of the run
//!   time: {weight: 2, seconds: [0, 60]}      # at a virtual time
//!   restart: {weight: 2, nth: [1, 2]}        # at the target's Nth app restart
//!   task: {weight: 1, when: [start, end]}    # when a task starts/ends on the target
//!                                            # (names: default, the playbook's task names;
//!                                            # hosts: where the task runs, default the target)
//! kinds:                 # the fault kinds drawn, by weight, in this order of simplicity
//!   slow_restart: {weight: 3, hosts: rollout, seconds: [0.5, 30]}
//!   unhealthy: {weight: 2, hosts: rollout, at: [restart], for: [1, 30], status: [500, 503]}
//!   unreachable: {weight: 1, hosts: [lb-prod-01, lb-prod-02], for: [1, 20]}
//!   partition: {between: [rollout, load_balancers_prod], for: [1, 10]}
//! fleet:                 # fleet.yml values a case may override (absent: never)
//!   restart_seconds: [0.05, 2]
//!   requests_per_second: [5, 20]
//! ```
//!
//! A range is `[low, high]` or one number; a choice (`status`, `message`) is one value or a
//! list. Targets (`hosts`, each side of `between`, a task trigger's `hosts`) are `rollout` (one
//! of the --limit hosts), a host pattern used as written, or a list of patterns of which one is
//! drawn.

use std::fmt;

use indexmap::IndexMap;
use serde::de::{self, Deserializer, IntoDeserializer, SeqAccess, Visitor};
use serde::{Deserialize, Serialize, Serializer};

use super::faults::{FaultKind, TaskEdge};

/// A whole `space.yml`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaultSpace {
    /// Each case has between 0 and this many faults.
    #[serde(default = "default_max_faults")]
    pub max_faults: usize,
    /// The fewest rollout hosts a case keeps (shrinking stops there).
    #[serde(default = "default_min_hosts")]
    pub min_hosts: usize,
    /// How faults start. Absent: [`TriggerSpace::builtin`]; present: only the triggers named.
    #[serde(default = "TriggerSpace::builtin")]
    pub triggers: TriggerSpace,
    /// The kinds drawn, in file order: shrinking moves a fault towards the first kind.
    #[serde(deserialize_with = "kinds_by_name")]
    pub kinds: IndexMap<FaultKind, KindSpace>,
    /// Fleet parameters that vary.
    #[serde(default)]
    pub fleet: FleetSpace,
}

/// `triggers:`; a trigger left out is never drawn.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TriggerSpace {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start: Option<StartTriggers>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time: Option<TimeTriggers>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restart: Option<RestartTriggers>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task: Option<TaskTriggers>,
}

/// A fault from the start of the run (no `at:` in the plan).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StartTriggers {
    #[serde(default = "default_weight")]
    pub weight: u32,
}

/// `at: {time: T}` with T drawn from `seconds`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TimeTriggers {
    #[serde(default = "default_weight")]
    pub weight: u32,
    pub seconds: NumRange,
}

/// `at: {restart: N}` with N drawn from `nth`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RestartTriggers {
    #[serde(default = "default_weight")]
    pub weight: u32,
    pub nth: NumRange,
}

/// `at: {task: NAME, when: EDGE}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TaskTriggers {
    #[serde(default = "default_weight")]
    pub weight: u32,
    /// Task names (as the banner shows them). `None`: the checked playbook's task names, which
    /// `fleetsim check` fills in before drawing; a space with `None` left draws no task
    /// trigger.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub names: Option<Vec<String>>,
    #[serde(default = "default_edges")]
    pub when: Vec<TaskEdge>,
    /// Where the task must run for the window to open (`host:` in the plan): drawn from these
    /// targets as a kind's `hosts` are, or left out (the task on the fault's own target),
    /// which shrinking tries first. Absent: a task trigger never names a host.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hosts: Option<Targets>,
}

/// The trigger kinds, as `at:` lists of a kind name them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TriggerKind {
    Start,
    Time,
    Restart,
    Task,
}

impl TriggerKind {
    pub fn name(self) -> &'static str {
        match self {
            TriggerKind::Start => "start",
            TriggerKind::Time => "time",
            TriggerKind::Restart => "restart",
            TriggerKind::Task => "task",
        }
    }
}

/// One entry of `kinds:`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KindSpace {
    /// Relative weight among the kinds (0: never drawn).
    #[serde(default = "default_weight")]
    pub weight: u32,
    /// The targets (every kind but `partition`).
    #[serde(default)]
    pub hosts: Targets,
    /// The triggers this kind may start with (default: every trigger of `triggers:`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at: Option<Vec<TriggerKind>>,
    /// How long the fault lasts; absent: to the end of the run.
    #[serde(rename = "for", default, skip_serializing_if = "Option::is_none")]
    pub duration: Option<NumRange>,
    /// slow_restart only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seconds: Option<NumRange>,
    /// unhealthy only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<Choices<u16>>,
    /// partition only (and required there): the two sides.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub between: Option<[Targets; 2]>,
    /// latency only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delay: Option<NumRange>,
    /// replica_lag only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lag: Option<NumRange>,
    /// clock_skew only (may be negative).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offset: Option<NumRange>,
    /// Any kind: the chance the fault fires each time it could.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub probability: Option<NumRange>,
    /// task_fail only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<Choices<String>>,
}

impl KindSpace {
    /// An entry with weight 1 on `rollout` hosts and no parameter set.
    pub fn new(weight: u32) -> KindSpace {
        KindSpace {
            weight,
            hosts: Targets::Rollout,
            at: None,
            duration: None,
            seconds: None,
            status: None,
            between: None,
            delay: None,
            lag: None,
            offset: None,
            probability: None,
            message: None,
        }
    }
}

/// `fleet:`: the fleet.yml values a case may override, each drawn from its range (or left as
/// the scenario has it, which shrinking tries first).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FleetSpace {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restart_seconds: Option<NumRange>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requests_per_second: Option<NumRange>,
}

/// Which hosts a fault hits.
#[derive(Debug, Clone, Default, PartialEq)]
pub enum Targets {
    /// One of the campaign's rollout hosts (the hosts --limit selects among the play's), drawn
    /// from all of them whatever subset the case rolls out to, so that shrinking the subset
    /// never moves a fault.
    #[default]
    Rollout,
    /// A host pattern, written into the plan as it is.
    Pattern(String),
    /// One of these patterns; shrinking moves towards the first.
    OneOf(Vec<String>),
}

/// A closed range of numbers, `[low, high]` or one number.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NumRange {
    pub lo: f64,
    pub hi: f64,
}

impl NumRange {
    pub fn new(lo: f64, hi: f64) -> NumRange {
        NumRange { lo, hi }
    }
}

/// One value or a list to choose from; shrinking moves towards the first.
#[derive(Debug, Clone, PartialEq)]
pub struct Choices<T>(pub Vec<T>);

/// Where in a space file a problem is: keys and list indices from the top.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PathSeg {
    Key(String),
    Index(usize),
}

/// A space that parses but makes no sense; `path` says where.
#[derive(Debug, Clone, PartialEq)]
pub struct SpaceError {
    pub path: Vec<PathSeg>,
    /// The problem is the key itself (a parameter that does not apply), not its value.
    pub on_key: bool,
    pub message: String,
}

impl fmt::Display for SpaceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut path = String::new();
        for seg in &self.path {
            match seg {
                PathSeg::Key(k) if path.is_empty() => path.push_str(k),
                PathSeg::Key(k) => {
                    path.push('.');
                    path.push_str(k);
                }
                PathSeg::Index(i) => path.push_str(&format!("[{i}]")),
            }
        }
        if path.is_empty() {
            write!(f, "{}", self.message)
        } else {
            write!(f, "{path}: {}", self.message)
        }
    }
}

impl std::error::Error for SpaceError {}

/// More faults than this per case is a typo, not a space: a run has a few dozen tasks.
pub const MAX_FAULTS_LIMIT: usize = 32;

impl FaultSpace {
    /// The space `fleetsim check` uses when the scenario has no `space.yml`: faults a careful
    /// rollout can survive (slow restarts, a new version that comes up unhealthy, a task that
    /// fails), on the rollout hosts, plus varied restart times and traffic. Faults that break
    /// the invariants whatever the playbook does (a pool member crashing or going unreachable
    /// while it serves) are left to scenario spaces that want them.
    pub fn builtin() -> FaultSpace {
        let mut kinds = IndexMap::new();
        kinds.insert(
            FaultKind::SlowRestart,
            KindSpace {
                seconds: Some(NumRange::new(0.5, 30.0)),
                ..KindSpace::new(3)
            },
        );
        kinds.insert(
            FaultKind::Unhealthy,
            KindSpace {
                at: Some(vec![TriggerKind::Restart]),
                duration: Some(NumRange::new(1.0, 30.0)),
                status: Some(Choices(vec![500, 503])),
                ..KindSpace::new(2)
            },
        );
        kinds.insert(
            FaultKind::TaskFail,
            KindSpace {
                at: Some(vec![TriggerKind::Task]),
                message: Some(Choices(vec!["simulated failure".into()])),
                ..KindSpace::new(1)
            },
        );
        FaultSpace {
            max_faults: default_max_faults(),
            min_hosts: default_min_hosts(),
            triggers: TriggerSpace::builtin(),
            kinds,
            fleet: FleetSpace {
                restart_seconds: Some(NumRange::new(0.05, 2.0)),
                requests_per_second: Some(NumRange::new(5.0, 20.0)),
            },
        }
    }

    /// Checks what serde cannot: ranges in order and in bounds, parameters on the kinds they
    /// apply to, something to draw.
    pub fn validate(&self) -> Result<(), SpaceError> {
        let top = |key: &str| vec![PathSeg::Key(key.into())];
        if self.max_faults > MAX_FAULTS_LIMIT {
            return Err(err(
                top("max_faults"),
                format!("at most {MAX_FAULTS_LIMIT} faults per case"),
            ));
        }
        if self.min_hosts == 0 {
            return Err(err(
                top("min_hosts"),
                "must be at least 1 (a rollout of no host checks nothing)".into(),
            ));
        }
        self.triggers.validate()?;
        for (kind, ks) in &self.kinds {
            let path = vec![
                PathSeg::Key("kinds".into()),
                PathSeg::Key(kind.name().into()),
            ];
            validate_kind(*kind, ks, &path, &self.triggers)?;
        }
        if self.max_faults > 0 && !self.kinds.values().any(|k| k.weight > 0) {
            return Err(err(
                top("kinds"),
                "no kind has a weight above 0 (set max_faults: 0 to vary the fleet alone)".into(),
            ));
        }
        let fleet = |key: &str| vec![PathSeg::Key("fleet".into()), PathSeg::Key(key.into())];
        if let Some(r) = &self.fleet.restart_seconds {
            check_range(r, fleet("restart_seconds"), Some(0.0), None)?;
        }
        if let Some(r) = &self.fleet.requests_per_second {
            check_range(r, fleet("requests_per_second"), Some(0.001), None)?;
        }
        Ok(())
    }
}

impl TriggerSpace {
    /// Every trigger: from the start (1), at a time in the first minute (2), at a target's
    /// first or second restart (2), when one of the playbook's tasks starts or ends (1).
    pub fn builtin() -> TriggerSpace {
        TriggerSpace {
            start: Some(StartTriggers { weight: 1 }),
            time: Some(TimeTriggers {
                weight: 2,
                seconds: NumRange::new(0.0, 60.0),
            }),
            restart: Some(RestartTriggers {
                weight: 2,
                nth: NumRange::new(1.0, 2.0),
            }),
            task: Some(TaskTriggers {
                weight: 1,
                names: None,
                when: default_edges(),
                hosts: None,
            }),
        }
    }

    /// The weight the space gives one trigger kind (0 when it is left out).
    pub fn weight(&self, kind: TriggerKind) -> u32 {
        match kind {
            TriggerKind::Start => self.start.as_ref().map_or(0, |t| t.weight),
            TriggerKind::Time => self.time.as_ref().map_or(0, |t| t.weight),
            TriggerKind::Restart => self.restart.as_ref().map_or(0, |t| t.weight),
            TriggerKind::Task => self.task.as_ref().map_or(0, |t| t.weight),
        }
    }

    /// The weight strategies draw with: as [`TriggerSpace::weight`], except that task
    /// triggers whose names were never filled in cannot be drawn.
    pub fn drawable_weight(&self, kind: TriggerKind) -> u32 {
        match kind {
            TriggerKind::Task => self
                .task
                .as_ref()
                .filter(|t| t.names.as_ref().is_some_and(|n| !n.is_empty()))
                .map_or(0, |t| t.weight),
            other => self.weight(other),
        }
    }

    fn validate(&self) -> Result<(), SpaceError> {
        let path = |a: &str, b: &str| {
            vec![
                PathSeg::Key("triggers".into()),
                PathSeg::Key(a.into()),
                PathSeg::Key(b.into()),
            ]
        };
        if let Some(t) = &self.time {
            check_range(&t.seconds, path("time", "seconds"), Some(0.0), None)?;
        }
        if let Some(t) = &self.restart {
            check_range(&t.nth, path("restart", "nth"), Some(1.0), None)?;
            if t.nth.lo.fract() != 0.0 || t.nth.hi.fract() != 0.0 {
                return Err(err(
                    path("restart", "nth"),
                    "restart numbers are whole numbers".into(),
                ));
            }
        }
        if let Some(t) = &self.task {
            if t.when.is_empty() {
                return Err(err(
                    path("task", "when"),
                    "list at least one of start, end".into(),
                ));
            }
            if let Some(names) = &t.names {
                if names.is_empty() {
                    return Err(err(
                        path("task", "names"),
                        "list at least one task name, or leave names out to use the playbook's"
                            .into(),
                    ));
                }
            }
            if let Some(hosts) = &t.hosts {
                hosts.validate(path("task", "hosts"))?;
            }
        }
        Ok(())
    }
}

fn validate_kind(
    kind: FaultKind,
    ks: &KindSpace,
    path: &[PathSeg],
    triggers: &TriggerSpace,
) -> Result<(), SpaceError> {
    let at = |key: &str| {
        let mut p = path.to_vec();
        p.push(PathSeg::Key(key.into()));
        p
    };
    let not_here = |key: &str, only: &str| {
        Err(SpaceError {
            path: at(key),
            on_key: true,
            message: format!("`{key}` applies to {only} faults only, not {}", kind.name()),
        })
    };
    if ks.seconds.is_some() && kind != FaultKind::SlowRestart {
        return not_here("seconds", "slow_restart");
    }
    if ks.status.is_some() && kind != FaultKind::Unhealthy {
        return not_here("status", "unhealthy");
    }
    if ks.between.is_some() && kind != FaultKind::Partition {
        return not_here("between", "partition");
    }
    if ks.delay.is_some() && kind != FaultKind::Latency {
        return not_here("delay", "latency");
    }
    if ks.lag.is_some() && kind != FaultKind::ReplicaLag {
        return not_here("lag", "replica_lag");
    }
    if ks.offset.is_some() && kind != FaultKind::ClockSkew {
        return not_here("offset", "clock_skew");
    }
    if ks.message.is_some() && kind != FaultKind::TaskFail {
        return not_here("message", "task_fail");
    }
    if kind == FaultKind::Partition {
        if ks.hosts != Targets::Rollout {
            return Err(SpaceError {
                path: at("hosts"),
                on_key: true,
                message: "a partition has no `hosts`: give its two sides as `between`".into(),
            });
        }
        match &ks.between {
            None => {
                return Err(err(
                    path.to_vec(),
                    "a partition needs `between: [SIDE, SIDE]`".into(),
                ))
            }
            Some(sides) => {
                for (i, s) in sides.iter().enumerate() {
                    let mut p = at("between");
                    p.push(PathSeg::Index(i));
                    s.validate(p)?;
                }
            }
        }
    } else {
        ks.hosts.validate(at("hosts"))?;
    }
    if let Some(r) = &ks.duration {
        check_range(r, at("for"), Some(0.0), None)?;
    }
    if let Some(r) = &ks.seconds {
        check_range(r, at("seconds"), Some(0.0), None)?;
    }
    if let Some(r) = &ks.delay {
        check_range(r, at("delay"), Some(0.0), None)?;
    }
    if let Some(r) = &ks.lag {
        check_range(r, at("lag"), Some(0.0), None)?;
    }
    if let Some(r) = &ks.offset {
        check_range(r, at("offset"), None, None)?;
    }
    if let Some(r) = &ks.probability {
        check_range(r, at("probability"), Some(0.0), Some(1.0))?;
    }
    if let Some(Choices(codes)) = &ks.status {
        for (i, c) in codes.iter().enumerate() {
            if !(100..=599).contains(c) {
                let mut p = at("status");
                p.push(PathSeg::Index(i));
                return Err(err(p, format!("{c} is not an HTTP status (100 to 599)")));
            }
        }
        if codes.is_empty() {
            return Err(err(at("status"), "list at least one status".into()));
        }
    }
    if let Some(Choices(m)) = &ks.message {
        if m.is_empty() {
            return Err(err(at("message"), "list at least one message".into()));
        }
    }
    if let Some(list) = &ks.at {
        if list.is_empty() {
            return Err(err(at("at"), "list at least one trigger".into()));
        }
        if ks.weight > 0 && list.iter().all(|t| triggers.weight(*t) == 0) {
            let named: Vec<&str> = list.iter().map(|t| t.name()).collect();
            return Err(err(
                at("at"),
                format!("none of {} is drawn by `triggers:`", named.join(", ")),
            ));
        }
    } else if ks.weight > 0
        && [
            TriggerKind::Start,
            TriggerKind::Time,
            TriggerKind::Restart,
            TriggerKind::Task,
        ]
        .iter()
        .all(|t| triggers.weight(*t) == 0)
    {
        return Err(err(
            vec![PathSeg::Key("triggers".into())],
            "no trigger has a weight above 0".into(),
        ));
    }
    Ok(())
}

impl Targets {
    fn validate(&self, path: Vec<PathSeg>) -> Result<(), SpaceError> {
        match self {
            Targets::Rollout => Ok(()),
            Targets::Pattern(p) if p.trim().is_empty() => {
                Err(err(path, "an empty host pattern".into()))
            }
            Targets::Pattern(_) => Ok(()),
            Targets::OneOf(list) if list.is_empty() => {
                Err(err(path, "list at least one host pattern".into()))
            }
            Targets::OneOf(list) => {
                for (i, p) in list.iter().enumerate() {
                    let mut at = path.clone();
                    at.push(PathSeg::Index(i));
                    if p == "rollout" {
                        return Err(err(
                            at,
                            "`rollout` stands alone (`hosts: rollout`), not in a list".into(),
                        ));
                    }
                    if p.trim().is_empty() {
                        return Err(err(at, "an empty host pattern".into()));
                    }
                }
                Ok(())
            }
        }
    }

    /// The host patterns written in the space (not `rollout`), for the binary to check
    /// against the inventory.
    pub fn patterns(&self) -> Vec<&str> {
        match self {
            Targets::Rollout => Vec::new(),
            Targets::Pattern(p) => vec![p.as_str()],
            Targets::OneOf(l) => l.iter().map(String::as_str).collect(),
        }
    }
}

fn err(path: Vec<PathSeg>, message: String) -> SpaceError {
    SpaceError {
        path,
        on_key: false,
        message,
    }
}

fn check_range(
    r: &NumRange,
    path: Vec<PathSeg>,
    min: Option<f64>,
    max: Option<f64>,
) -> Result<(), SpaceError> {
    if !r.lo.is_finite() || !r.hi.is_finite() {
        return Err(err(path, "bounds must be finite numbers".into()));
    }
    if r.lo > r.hi {
        return Err(err(
            path,
            format!("the low bound {} is above the high bound {}", r.lo, r.hi),
        ));
    }
    if let Some(m) = min {
        if r.lo < m {
            return Err(err(path, format!("must be at least {m}, not {}", r.lo)));
        }
    }
    if let Some(m) = max {
        if r.hi > m {
            return Err(err(path, format!("must be at most {m}, not {}", r.hi)));
        }
    }
    // Values are drawn in thousandths (see strategy), so bounds must fit an i64 of those.
    if r.lo.abs() > 1e12 || r.hi.abs() > 1e12 {
        return Err(err(path, "bounds must be within ±1e12".into()));
    }
    Ok(())
}

/// The kind names as plan files spell them.
const KIND_NAMES: [&str; 13] = [
    "slow_restart",
    "unhealthy",
    "unreachable",
    "crash",
    "disk_full",
    "read_only",
    "lb_reject_config",
    "partition",
    "latency",
    "replica_lag",
    "primary_crash",
    "clock_skew",
    "task_fail",
];

/// `kinds:` read with string keys, then named kinds: error paths then reach inside each
/// kind (a path tracker cannot record a key read as an enum).
fn kinds_by_name<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<IndexMap<FaultKind, KindSpace>, D::Error> {
    let named: IndexMap<String, KindSpace> = IndexMap::deserialize(d)?;
    let mut out = IndexMap::new();
    for (name, ks) in named {
        let kind = FaultKind::ALL
            .iter()
            .find(|k| k.name() == name)
            .ok_or_else(|| de::Error::unknown_variant(&name, &KIND_NAMES))?;
        out.insert(*kind, ks);
    }
    Ok(out)
}

fn default_max_faults() -> usize {
    3
}
fn default_min_hosts() -> usize {
    1
}
fn default_weight() -> u32 {
    1
}
fn default_edges() -> Vec<TaskEdge> {
    vec![TaskEdge::Start, TaskEdge::End]
}

// ---- serde for the shorthand forms ----

impl Serialize for NumRange {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        [self.lo, self.hi].serialize(s)
    }
}

impl<'de> Deserialize<'de> for NumRange {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = NumRange;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a number or a [low, high] pair of numbers")
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<NumRange, E> {
                Ok(NumRange::new(v, v))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<NumRange, E> {
                self.visit_f64(v as f64)
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<NumRange, E> {
                self.visit_f64(v as f64)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<NumRange, A::Error> {
                let lo: f64 = seq
                    .next_element()?
                    .ok_or_else(|| de::Error::invalid_length(0, &self))?;
                let hi: f64 = seq
                    .next_element()?
                    .ok_or_else(|| de::Error::invalid_length(1, &self))?;
                if seq.next_element::<de::IgnoredAny>()?.is_some() {
                    return Err(de::Error::invalid_length(3, &self));
                }
                Ok(NumRange::new(lo, hi))
            }
        }
        d.deserialize_any(V)
    }
}

impl<T: Serialize> Serialize for Choices<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(s)
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Choices<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<T>(std::marker::PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for V<T> {
            type Value = Choices<T>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a value or a list of values")
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Choices<T>, E> {
                Ok(Choices(vec![T::deserialize(v.into_deserializer())?]))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Choices<T>, E> {
                Ok(Choices(vec![T::deserialize(v.into_deserializer())?]))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Choices<T>, E> {
                Ok(Choices(vec![T::deserialize(v.into_deserializer())?]))
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Choices<T>, E> {
                Ok(Choices(vec![T::deserialize(v.into_deserializer())?]))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Choices<T>, E> {
                Ok(Choices(vec![T::deserialize(v.into_deserializer())?]))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Choices<T>, A::Error> {
                let mut out = Vec::new();
                while let Some(x) = seq.next_element()? {
                    out.push(x);
                }
                Ok(Choices(out))
            }
        }
        d.deserialize_any(V(std::marker::PhantomData))
    }
}

impl Serialize for Targets {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Targets::Rollout => s.serialize_str("rollout"),
            Targets::Pattern(p) => s.serialize_str(p),
            Targets::OneOf(l) => l.serialize(s),
        }
    }
}

impl<'de> Deserialize<'de> for Targets {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Targets;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("`rollout`, a host pattern, or a list of host patterns")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Targets, E> {
                Ok(if v == "rollout" {
                    Targets::Rollout
                } else {
                    Targets::Pattern(v.to_string())
                })
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Targets, A::Error> {
                let mut out = Vec::new();
                while let Some(x) = seq.next_element::<String>()? {
                    out.push(x);
                }
                Ok(Targets::OneOf(out))
            }
        }
        d.deserialize_any(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse(v: serde_json::Value) -> Result<FaultSpace, String> {
        let s: FaultSpace = serde_json::from_value(v).map_err(|e| e.to_string())?;
        s.validate().map_err(|e| e.to_string())?;
        Ok(s)
    }

    #[test]
    fn kind_names_are_the_plan_names() {
        let names: Vec<&str> = FaultKind::ALL.iter().map(|k| k.name()).collect();
        assert_eq!(names, KIND_NAMES);
    }

    #[test]
    fn builtin_is_valid() {
        FaultSpace::builtin().validate().unwrap();
    }

    #[test]
    fn builtin_round_trips_through_serde() {
        let b = FaultSpace::builtin();
        let back: FaultSpace = serde_json::from_value(serde_json::to_value(&b).unwrap()).unwrap();
        assert_eq!(back, b);
    }

    #[test]
    fn shorthands_parse() {
        let s = parse(json!({
            "kinds": {
                "slow_restart": {"seconds": 5},
                "unhealthy": {"status": 503, "hosts": "web"},
                "unreachable": {"hosts": ["lb1", "lb2"], "for": [1, 2.5]},
                "task_fail": {"message": "boom"}
            }
        }))
        .unwrap();
        assert_eq!(s.max_faults, 3);
        assert_eq!(s.triggers, TriggerSpace::builtin());
        let k = &s.kinds[&FaultKind::SlowRestart];
        assert_eq!(k.seconds, Some(NumRange::new(5.0, 5.0)));
        assert_eq!(k.hosts, Targets::Rollout);
        let u = &s.kinds[&FaultKind::Unhealthy];
        assert_eq!(u.status, Some(Choices(vec![503])));
        assert_eq!(u.hosts, Targets::Pattern("web".into()));
        let r = &s.kinds[&FaultKind::Unreachable];
        assert_eq!(r.hosts, Targets::OneOf(vec!["lb1".into(), "lb2".into()]));
        assert_eq!(r.duration, Some(NumRange::new(1.0, 2.5)));
        assert_eq!(
            s.kinds[&FaultKind::TaskFail].message,
            Some(Choices(vec!["boom".into()]))
        );
    }

    #[test]
    fn serde_errors_name_the_problem() {
        let e = parse(json!({"kinds": {"slow_restart": {"seconds": [1, 2, 3]}}})).unwrap_err();
        assert!(e.contains("invalid length 3"), "{e}");
        let e = parse(json!({"kinds": {"melt": {}}})).unwrap_err();
        assert!(e.contains("unknown variant `melt`"), "{e}");
        let e = parse(json!({"kinds": {}, "max_fault": 2})).unwrap_err();
        assert!(e.contains("unknown field `max_fault`"), "{e}");
        let e = parse(json!({"kinds": {"crash": {"hosts": 3}}})).unwrap_err();
        assert!(e.contains("`rollout`, a host pattern"), "{e}");
    }

    #[test]
    fn semantic_errors_carry_their_path() {
        let e = parse(json!({"kinds": {"crash": {"seconds": [1, 2]}}})).unwrap_err();
        assert_eq!(
            e,
            "kinds.crash.seconds: `seconds` applies to slow_restart faults only, not crash"
        );
        let e = parse(json!({"kinds": {"slow_restart": {"seconds": [9, 2]}}})).unwrap_err();
        assert_eq!(
            e,
            "kinds.slow_restart.seconds: the low bound 9 is above the high bound 2"
        );
        let e = parse(json!({"kinds": {"unhealthy": {"status": [500, 42]}}})).unwrap_err();
        assert_eq!(
            e,
            "kinds.unhealthy.status[1]: 42 is not an HTTP status (100 to 599)"
        );
        let e = parse(json!({"kinds": {"partition": {}}})).unwrap_err();
        assert_eq!(
            e,
            "kinds.partition: a partition needs `between: [SIDE, SIDE]`"
        );
        let e = parse(json!({"kinds": {"task_fail": {"probability": [0.5, 2]}}})).unwrap_err();
        assert_eq!(e, "kinds.task_fail.probability: must be at most 1, not 2");
        let e = parse(json!({"kinds": {"crash": {"hosts": ["a", "rollout"]}}})).unwrap_err();
        assert_eq!(
            e,
            "kinds.crash.hosts[1]: `rollout` stands alone (`hosts: rollout`), not in a list"
        );
        let e = parse(json!({"kinds": {"crash": {"weight": 0}}})).unwrap_err();
        assert!(e.starts_with("kinds: no kind has a weight above 0"), "{e}");
        let e = parse(json!({"min_hosts": 0, "kinds": {"crash": {}}})).unwrap_err();
        assert!(e.starts_with("min_hosts: "), "{e}");
    }

    #[test]
    fn a_kind_limited_to_triggers_that_are_not_drawn_is_an_error() {
        let e = parse(json!({
            "triggers": {"time": {"seconds": [0, 10]}},
            "kinds": {"unhealthy": {"at": ["restart"]}}
        }))
        .unwrap_err();
        assert_eq!(
            e,
            "kinds.unhealthy.at: none of restart is drawn by `triggers:`"
        );
    }

    #[test]
    fn task_triggers_may_draw_the_host_the_task_runs_on() {
        let kinds = json!({"task_fail": {"at": ["task"]}});
        let task = |v: serde_json::Value| {
            parse(json!({"triggers": {"task": v}, "kinds": kinds}))
                .map(|s| s.triggers.task.unwrap().hosts)
        };
        // Left out: never drawn, as before the field existed.
        assert_eq!(task(json!({"when": ["start"]})).unwrap(), None);
        assert_eq!(
            task(json!({"hosts": "rollout"})).unwrap(),
            Some(Targets::Rollout)
        );
        assert_eq!(
            task(json!({"hosts": "web-prod-01"})).unwrap(),
            Some(Targets::Pattern("web-prod-01".into()))
        );
        assert_eq!(
            task(json!({"hosts": ["web-prod-01", "lb-prod-01"]})).unwrap(),
            Some(Targets::OneOf(vec![
                "web-prod-01".into(),
                "lb-prod-01".into()
            ]))
        );
        assert_eq!(
            task(json!({"hosts": []})).unwrap_err(),
            "triggers.task.hosts: list at least one host pattern"
        );
        assert_eq!(
            task(json!({"hosts": ["web-prod-01", "rollout"]})).unwrap_err(),
            "triggers.task.hosts[1]: `rollout` stands alone (`hosts: rollout`), not in a list"
        );
        assert_eq!(
            task(json!({"hosts": " "})).unwrap_err(),
            "triggers.task.hosts: an empty host pattern"
        );
        let e = task(json!({"hosts": 7})).unwrap_err();
        assert!(e.contains("`rollout`, a host pattern"), "{e}");
        // And it survives a round trip.
        let mut space = FaultSpace::builtin();
        space.triggers.task.as_mut().unwrap().hosts = Some(Targets::Rollout);
        let back: FaultSpace =
            serde_json::from_value(serde_json::to_value(&space).unwrap()).unwrap();
        assert_eq!(back, space);
    }

    #[test]
    fn task_triggers_are_drawn_only_with_names() {
        let mut t = TriggerSpace::builtin();
        assert_eq!(t.weight(TriggerKind::Task), 1);
        assert_eq!(t.drawable_weight(TriggerKind::Task), 0);
        t.task.as_mut().unwrap().names = Some(vec!["Deploy".into()]);
        assert_eq!(t.drawable_weight(TriggerKind::Task), 1);
    }
}
