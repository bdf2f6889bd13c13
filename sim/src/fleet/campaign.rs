//! A `fleetsim check` campaign: draw cases from a strategy, run each through a
//! [`CaseRunner`] (the playbook against the fleet with the case's faults), stop at the first
//! case that breaks an invariant and shrink it with proptest's `ValueTree` to a minimal one.
//!
//! Determinism rules, so that a campaign is a function of its seed:
//! - case `i` of campaign seed `s` is drawn from a `TestRng` seeded by `(s, i)` alone
//!   ([`case_tree`]), never from a shared random stream, so the order in which threads
//!   take cases cannot change any case;
//! - `--jobs` threads take cases in index order, and the campaign reports the failure with the
//!   lowest index (every lower case has completed by then), with the statistics of the cases
//!   up to it, so the verdict and the numbers do not depend on thread timing;
//! - `--shard I/N` keeps the cases whose index is `I-1` modulo `N`, so the shards of a
//!   campaign are disjoint and together are the whole campaign;
//! - shrinking runs on one thread, and the runner must be a pure function of the case.

use std::fmt;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use indexmap::IndexMap;
use proptest::strategy::{Strategy, ValueTree};
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use serde::{Deserialize, Serialize};

use super::case::Case;
use super::report::Report;
use crate::rng::Stream;

/// Runs one case: the playbook against the fleet with the case's parameters and faults.
/// Implementations must be deterministic (the same case gives the same outcome), which the
/// simulation is for a fixed seed and start time.
pub trait CaseRunner: Sync {
    /// `Err` when the run could not happen at all (the campaign stops with the message).
    fn run(&self, case: &Case) -> Result<CaseOutcome, String>;
}

/// What one run gave.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CaseOutcome {
    /// `fleetsim playbook`'s exit status for this run.
    pub exit_code: i32,
    pub report: Report,
    /// What the run printed on stderr when it stopped with an error (shown when the campaign
    /// aborts on a fatal run).
    pub error: Option<String>,
    /// The playbook could not run to its end: it did not load, or an error stopped it before
    /// the recap. The campaign then stops instead of shrinking. Not an exit status: Ansible
    /// gives 4 both to a playbook that does not load and to a run where a host was
    /// unreachable, and the second is fine as long as the invariants hold.
    pub fatal: bool,
}

/// Names one case: the index-th case of the campaign seeded `seed`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct CaseId {
    pub seed: u64,
    pub index: u64,
}

impl fmt::Display for CaseId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "case {} of seed {}", self.index, self.seed)
    }
}

/// `--shard I/N`: the cases whose index is `I-1` modulo `N` (`index` is 0-based here).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shard {
    pub index: u64,
    pub count: u64,
}

impl Shard {
    /// The whole campaign.
    pub const WHOLE: Shard = Shard { index: 0, count: 1 };

    /// Parses `I/N` with `1 <= I <= N`.
    pub fn parse(text: &str) -> Result<Shard, String> {
        let bad = || format!("--shard takes I/N with 1 <= I <= N (such as 2/4), not '{text}'");
        let (i, n) = text.split_once('/').ok_or_else(bad)?;
        let i: u64 = i.trim().parse().map_err(|_| bad())?;
        let n: u64 = n.trim().parse().map_err(|_| bad())?;
        if i == 0 || n == 0 || i > n {
            return Err(bad());
        }
        Ok(Shard {
            index: i - 1,
            count: n,
        })
    }

    pub fn contains(&self, case_index: u64) -> bool {
        case_index % self.count == self.index
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index + 1, self.count)
    }
}

/// How a campaign runs.
#[derive(Debug, Clone)]
pub struct CampaignConfig {
    pub seed: u64,
    /// Cases `0..cases` of the seed (those of the shard).
    pub cases: u64,
    /// Threads running cases.
    pub jobs: usize,
    pub shard: Shard,
    /// Saved failing cases, run before the campaign's own (by the first shard only, so that
    /// the shards together still run each exactly once).
    pub regressions: Vec<CaseId>,
    /// Runs the shrinker may spend before settling for the smallest failure so far.
    pub max_shrink_runs: u32,
    /// Invariants the rollout breaks without any fault (its baseline run): every case would
    /// break them, so a case fails only when it breaks another one.
    pub baseline_broken: Vec<String>,
}

impl CampaignConfig {
    pub fn new(seed: u64, cases: u64) -> CampaignConfig {
        CampaignConfig {
            seed,
            cases,
            jobs: 1,
            shard: Shard::WHOLE,
            regressions: Vec::new(),
            max_shrink_runs: DEFAULT_MAX_SHRINK_RUNS,
            baseline_broken: Vec::new(),
        }
    }

    /// The saved cases this shard reruns: each once, none outside the first shard.
    pub fn saved_ids(&self) -> Vec<CaseId> {
        let mut ids: Vec<CaseId> = Vec::new();
        if self.shard.index == 0 {
            for r in &self.regressions {
                if !ids.contains(r) {
                    ids.push(*r);
                }
            }
        }
        ids
    }

    /// The cases this campaign runs, in order: regressions, then its own.
    pub fn case_ids(&self) -> Vec<CaseId> {
        let saved = self.saved_ids();
        let mut ids = saved.clone();
        ids.extend(
            (0..self.cases)
                .filter(|i| self.shard.contains(*i))
                .map(|index| CaseId {
                    seed: self.seed,
                    index,
                })
                .filter(|id| !saved.contains(id)),
        );
        ids
    }
}

/// proptest's default is 2^32 shrink iterations; each of ours runs a playbook, so settle
/// sooner (a few hundred runs take about a second with the simulated fleet).
pub const DEFAULT_MAX_SHRINK_RUNS: u32 = 1000;

/// Hears about progress (the binary draws its progress bar from this).
pub trait Observer: Sync {
    /// A case finished (called from the thread that ran it).
    fn case_done(&self, _id: CaseId, _held: bool) {}
    /// The shrinker ran its `runs`-th case; the smallest failure so far has `faults` faults.
    fn shrinking(&self, _runs: u32, _faults: usize) {}
}

/// An observer that ignores everything.
pub struct Quiet;

impl Observer for Quiet {}

/// The random generator of one case: seeded from `(seed, index)` through the simulation's
/// named streams, so it depends on nothing else.
pub fn rng_for(id: CaseId) -> TestRng {
    let mut stream = Stream::derive(id.seed, &format!("fleetsim check case {}", id.index));
    let mut bytes = [0u8; 32];
    for chunk in bytes.chunks_mut(8) {
        chunk.copy_from_slice(&stream.next_u64().to_le_bytes());
    }
    TestRng::from_seed(RngAlgorithm::ChaCha, &bytes)
}

/// The value tree of one case (its current value is the case as drawn; simplifying it
/// shrinks).
pub fn case_tree<S: Strategy<Value = Case>>(strategy: &S, id: CaseId) -> Result<S::Tree, String> {
    let config = Config {
        failure_persistence: None,
        ..Config::default()
    };
    let mut runner = TestRunner::new_with_rng(config, rng_for(id));
    strategy
        .new_tree(&mut runner)
        .map_err(|reason| format!("{id}: the strategy rejected every draw: {reason}"))
}

/// The case `id` names, as drawn.
pub fn case_at<S: Strategy<Value = Case>>(strategy: &S, id: CaseId) -> Result<Case, String> {
    case_tree(strategy, id).map(|t| t.current())
}

/// What a campaign found.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CampaignResult {
    /// Cases counted: every case when all held, else the cases up to the first failure.
    pub ran: u64,
    /// Of those, how many were saved regressions.
    pub regressions_ran: u64,
    /// Per invariant (in report order), how many of the counted cases held it.
    pub held: IndexMap<String, u64>,
    pub verdict: Verdict,
    /// The run without any fault, when the caller made one (see
    /// [`CampaignConfig::baseline_broken`]).
    pub baseline: Option<(Case, CaseOutcome)>,
    /// Cases that panicked (fleetsim bugs), in case order; each is a failing case.
    pub panicked: Vec<Aborted>,
    /// How each counted case ended, in campaign order: what merging shards needs to count
    /// exactly as the whole campaign counts (see [`merge_shards`]).
    pub records: Vec<CaseRecord>,
    /// The invariant name lists the records point into, in order of first appearance.
    pub invariant_lists: Vec<Vec<String>>,
}

/// How one case of a campaign ended.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CaseRecord {
    pub id: CaseId,
    /// A saved failing case rerun before the campaign's own.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub saved: bool,
    pub end: CaseEnd,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CaseEnd {
    /// It ran: `list` indexes [`CampaignResult::invariant_lists`], `broken` that list.
    Ran {
        list: usize,
        broken: Vec<usize>,
    },
    Aborted(Box<Aborted>),
    Panicked(Box<Aborted>),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Verdict {
    /// Every case held every invariant.
    Held,
    Counterexample(Box<Counterexample>),
    /// A case could not run; the campaign stopped there.
    Aborted(Box<Aborted>),
}

/// The first failing case and the minimal case shrinking reached from it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Counterexample {
    pub id: CaseId,
    /// The case as drawn.
    pub found: Case,
    /// The invariants it broke. A shrunk case counts as failing when it breaks one of these.
    pub broken: Vec<String>,
    pub minimal: Case,
    /// The minimal case's run.
    pub outcome: CaseOutcome,
    /// Cases the shrinker ran, and how many of them still failed (each a step down).
    pub shrink_runs: u32,
    pub shrink_steps: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Aborted {
    pub id: CaseId,
    /// The case that could not run (a shrunk one when it happened while shrinking).
    pub case: Option<Case>,
    pub exit_code: Option<i32>,
    pub message: String,
}

/// The result of one case of the campaign proper, kept small (a campaign may hold millions):
/// the invariant names are shared by every case whose report lists the same ones.
enum Slot {
    Ran(Arc<[String]>, Box<[bool]>),
    Aborted(Box<Aborted>),
    /// The case panicked (a fleetsim bug): reported with its replay command; the campaign
    /// goes on.
    Panicked(Box<Aborted>),
}

impl Slot {
    /// Whether the case ends the campaign: it could not run, or it broke an invariant that
    /// the baseline (`ignored`) does not break already.
    fn stops(&self, ignored: &[String]) -> bool {
        match self {
            Slot::Ran(names, holds) => names
                .iter()
                .zip(holds.iter())
                .any(|(n, h)| !h && !ignored.contains(n)),
            Slot::Aborted(_) => true,
            Slot::Panicked(_) => false,
        }
    }
}

/// The distinct invariant name lists seen (one, in practice).
#[derive(Default)]
struct Names(Mutex<Vec<Arc<[String]>>>);

impl Names {
    fn intern(&self, names: Vec<String>) -> Arc<[String]> {
        // A poisoned lock only means another worker panicked; the list itself is intact.
        let mut known = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(n) = known.iter().find(|n| n[..] == names[..]) {
            return n.clone();
        }
        let n: Arc<[String]> = names.into();
        known.push(n.clone());
        n
    }
}

/// Runs a campaign: the cases in `cfg.case_ids()` order on `cfg.jobs` threads, then shrinks
/// the first failure.
pub fn run_campaign<S>(
    strategy: &S,
    runner: &dyn CaseRunner,
    cfg: &CampaignConfig,
    observer: &dyn Observer,
) -> CampaignResult
where
    S: Strategy<Value = Case> + Sync,
{
    let ids = cfg.case_ids();
    let slots: Mutex<Vec<Option<Slot>>> = Mutex::new((0..ids.len()).map(|_| None).collect());
    let names = Names::default();
    let next = AtomicUsize::new(0);
    // The lowest slot known to stop the campaign; workers take no slot above it.
    let stop_at = AtomicUsize::new(usize::MAX);
    let jobs = cfg.jobs.clamp(1, ids.len().max(1));
    std::thread::scope(|scope| {
        for _ in 0..jobs {
            scope.spawn(|| loop {
                let k = next.fetch_add(1, Ordering::SeqCst);
                if k >= ids.len() || k > stop_at.load(Ordering::SeqCst) {
                    break;
                }
                let slot = run_slot(strategy, runner, ids[k], &names);
                let stops = slot.stops(&cfg.baseline_broken);
                if stops {
                    stop_at.fetch_min(k, Ordering::SeqCst);
                }
                observer.case_done(ids[k], !stops);
                // A poisoned lock only means another worker panicked, and the scope re-raises
                // that panic anyway: keep the data.
                slots.lock().unwrap_or_else(|e| e.into_inner())[k] = Some(slot);
            });
        }
    });
    let slots = slots.into_inner().unwrap_or_else(|e| e.into_inner());
    // case_ids() put the saved cases first.
    let saved_count = cfg.saved_ids().len();
    let mut records = Vec::new();
    let mut lists: Vec<Vec<String>> = Vec::new();
    for (k, slot) in slots.into_iter().enumerate() {
        // Every slot below the first stop was taken before it and so completed.
        let Some(slot) = slot else { break };
        let stops = slot.stops(&cfg.baseline_broken);
        let end = match slot {
            Slot::Ran(names, holds) => {
                // Lists numbered by first appearance in case order, not by which worker
                // met them first, so that the result is the same whatever the jobs.
                let list = match lists.iter().position(|l| l[..] == names[..]) {
                    Some(i) => i,
                    None => {
                        lists.push(names.to_vec());
                        lists.len() - 1
                    }
                };
                let broken = (0..holds.len()).filter(|i| !holds[*i]).collect();
                CaseEnd::Ran { list, broken }
            }
            Slot::Aborted(a) => CaseEnd::Aborted(a),
            Slot::Panicked(a) => CaseEnd::Panicked(a),
        };
        records.push(CaseRecord {
            id: ids[k],
            saved: k < saved_count,
            end,
        });
        if stops {
            break;
        }
    }
    let verdict = match records.last().map(|r| (r, stops(r, &lists, cfg))) {
        Some((r, Some(broken))) => match &r.end {
            CaseEnd::Aborted(a) => Verdict::Aborted(a.clone()),
            _ => shrink_case(
                strategy,
                runner,
                r.id,
                broken,
                cfg.max_shrink_runs,
                observer,
            ),
        },
        _ => Verdict::Held,
    };
    tally(records, lists, verdict)
}

/// Whether a recorded case ends the campaign (see `Slot::stops`): `Some` with the
/// invariants it broke beyond the baseline's (none for a case that could not run).
fn stops(r: &CaseRecord, lists: &[Vec<String>], cfg: &CampaignConfig) -> Option<Vec<String>> {
    match &r.end {
        CaseEnd::Ran { list, broken } => {
            let names: Vec<String> = broken
                .iter()
                .map(|i| lists[*list][*i].clone())
                .filter(|n| !cfg.baseline_broken.contains(n))
                .collect();
            (!names.is_empty()).then_some(names)
        }
        CaseEnd::Aborted(_) => Some(Vec::new()),
        CaseEnd::Panicked(_) => None,
    }
}

/// The counts of a campaign from its records (every case up to and including the first
/// that stopped it).
fn tally(records: Vec<CaseRecord>, lists: Vec<Vec<String>>, verdict: Verdict) -> CampaignResult {
    let mut held: IndexMap<String, u64> = IndexMap::new();
    let mut panicked = Vec::new();
    for r in &records {
        match &r.end {
            CaseEnd::Ran { list, broken } => {
                for (i, name) in lists[*list].iter().enumerate() {
                    *held.entry(name.clone()).or_insert(0) += u64::from(!broken.contains(&i));
                }
            }
            CaseEnd::Panicked(a) => panicked.push((**a).clone()),
            CaseEnd::Aborted(_) => {}
        }
    }
    CampaignResult {
        ran: records.len() as u64,
        regressions_ran: records.iter().filter(|r| r.saved).count() as u64,
        held,
        verdict,
        baseline: None,
        panicked,
        records,
        invariant_lists: lists,
    }
}

/// One shard's campaign as `fleetsim check --shard I/N` writes it, or a whole campaign's
/// (shard 1/1): what [`merge_shards`] needs besides the result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ShardResult {
    pub seed: u64,
    pub cases: u64,
    pub shard: Shard,
    /// The saved failing cases the whole campaign reruns first (only shard 1 runs them).
    pub saved: Vec<CaseId>,
    pub baseline_broken: Vec<String>,
    pub max_shrink_runs: u32,
    pub result: CampaignResult,
}

impl ShardResult {
    pub fn new(cfg: &CampaignConfig, result: CampaignResult) -> ShardResult {
        let mut saved = Vec::new();
        for r in &cfg.regressions {
            if !saved.contains(r) {
                saved.push(*r);
            }
        }
        ShardResult {
            seed: cfg.seed,
            cases: cfg.cases,
            shard: cfg.shard,
            saved,
            baseline_broken: cfg.baseline_broken.clone(),
            max_shrink_runs: cfg.max_shrink_runs,
            result,
        }
    }
}

/// The whole campaign from the results of its shards, exactly as one process running it
/// unsharded would have found it: the same cases counted (every case up to the first that
/// stops the campaign in campaign order, whichever shard ran it), the same counts, and the
/// same counterexample (the shard owning the first failing case shrank it, and shrinking
/// depends only on the case).
pub fn merge_shards(mut shards: Vec<ShardResult>) -> Result<ShardResult, String> {
    let Some(first) = shards.first() else {
        return Err("no shard results to merge".into());
    };
    let (seed, cases, count) = (first.seed, first.cases, first.shard.count);
    for s in &shards {
        if (s.seed, s.cases, s.shard.count) != (seed, cases, count) {
            return Err(format!(
                "the shard results are of different campaigns: shard {} of seed {} ({} cases) \
                 and shard {} of seed {seed} ({cases} cases)",
                s.shard, s.seed, s.cases, first.shard
            ));
        }
        if s.baseline_broken != first.baseline_broken || s.max_shrink_runs != first.max_shrink_runs
        {
            return Err(format!(
                "shards {} and {} ran with different baselines or shrink budgets (different \
                 playbooks or options?)",
                s.shard, first.shard
            ));
        }
    }
    shards.sort_by_key(|s| s.shard.index);
    if let Some(w) = shards.windows(2).find(|w| w[0].shard == w[1].shard) {
        return Err(format!("shard {} is given twice", w[0].shard));
    }
    if let Some(k) = (0..count).find(|k| !shards.iter().any(|s| s.shard.index == *k)) {
        return Err(format!("shard {}/{count} is missing", k + 1));
    }
    let cfg = CampaignConfig {
        seed,
        cases,
        jobs: 1,
        shard: Shard::WHOLE,
        regressions: shards[0].saved.clone(),
        max_shrink_runs: shards[0].max_shrink_runs,
        baseline_broken: shards[0].baseline_broken.clone(),
    };
    // Each shard's records, by case, ready to be taken in campaign order.
    let mut by_case: Vec<std::collections::BTreeMap<(bool, CaseId), CaseRecord>> = shards
        .iter()
        .map(|s| {
            s.result
                .records
                .iter()
                .map(|r| ((r.saved, r.id), r.clone()))
                .collect()
        })
        .collect();
    let saved_count = cfg.saved_ids().len();
    let mut records = Vec::new();
    let mut lists: Vec<Vec<String>> = Vec::new();
    let mut stopped = None;
    for (k, id) in cfg.case_ids().into_iter().enumerate() {
        let saved = k < saved_count;
        let owner = if saved {
            0
        } else {
            (id.index % count) as usize
        };
        let Some(mut r) = by_case[owner].remove(&(saved, id)) else {
            return Err(format!(
                "shard {} has no result for {id}, yet no earlier case stopped the campaign \
                 (a shard cut short?)",
                shards[owner].shard
            ));
        };
        if let CaseEnd::Ran { list, .. } = &mut r.end {
            let names = &shards[owner].result.invariant_lists[*list];
            *list = match lists.iter().position(|l| l == names) {
                Some(i) => i,
                None => {
                    lists.push(names.clone());
                    lists.len() - 1
                }
            };
        }
        let stop = stops(&r, &lists, &cfg).map(|_| owner);
        records.push(r);
        if stop.is_some() {
            stopped = stop;
            break;
        }
    }
    let verdict = match (stopped, records.last()) {
        (Some(owner), Some(r)) => match &r.end {
            CaseEnd::Aborted(a) => Verdict::Aborted(a.clone()),
            _ => match &shards[owner].result.verdict {
                Verdict::Counterexample(cx) if cx.id == r.id => Verdict::Counterexample(cx.clone()),
                _ => {
                    return Err(format!(
                        "shard {} counts {} as failing but found no counterexample from it",
                        shards[owner].shard, r.id
                    ))
                }
            },
        },
        _ => Verdict::Held,
    };
    let mut result = tally(records, lists, verdict);
    result.baseline = shards[0].result.baseline.clone();
    Ok(ShardResult::new(&cfg, result))
}

fn run_slot<S: Strategy<Value = Case>>(
    strategy: &S,
    runner: &dyn CaseRunner,
    id: CaseId,
    names: &Names,
) -> Slot {
    let case = match case_at(strategy, id) {
        Ok(c) => c,
        Err(message) => {
            return Slot::Aborted(Box::new(Aborted {
                id,
                case: None,
                exit_code: None,
                message,
            }))
        }
    };
    match run_checked(runner, id, &case) {
        Err(a) if a.exit_code == Some(PANIC_EXIT) => Slot::Panicked(a),
        Ok(o) => Slot::Ran(
            names.intern(o.report.invariants.iter().map(|i| i.name.clone()).collect()),
            o.report.invariants.iter().map(|i| i.holds).collect(),
        ),
        Err(a) => Slot::Aborted(a),
    }
}

/// The exit status of a case that panicked (ansible-playbook's after an unexpected
/// exception).
pub const PANIC_EXIT: i32 = 250;

/// Runs a case; a runner error or a fatal exit status becomes an abort.
fn run_checked(
    runner: &dyn CaseRunner,
    id: CaseId,
    case: &Case,
) -> Result<CaseOutcome, Box<Aborted>> {
    // A panic is a fleetsim bug in that case alone: it must not end the whole campaign.
    let ran = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| runner.run(case)));
    let ran = match ran {
        Ok(r) => r,
        Err(payload) => {
            let what = payload
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "a panic".to_string());
            return Err(Box::new(Aborted {
                id,
                case: Some(case.clone()),
                exit_code: Some(PANIC_EXIT),
                message: format!("fleetsim: internal error (please report it): {what}"),
            }));
        }
    };
    match ran {
        Err(message) => Err(Box::new(Aborted {
            id,
            case: Some(case.clone()),
            exit_code: None,
            message,
        })),
        Ok(o) if o.fatal => Err(Box::new(Aborted {
            id,
            case: Some(case.clone()),
            exit_code: Some(o.exit_code),
            message: o.error.clone().unwrap_or_else(|| {
                format!("the playbook stopped with exit status {}", o.exit_code)
            }),
        })),
        Ok(o) => Ok(o),
    }
}

/// proptest's shrinking loop (as `TestRunner::shrink` runs it): simplify while the case
/// still fails, complicate when a step went too far, until neither moves or the budget is
/// spent. "Still fails" means it breaks one of the invariants the found case broke, so the
/// minimal case shows the same problem rather than drifting to another.
fn shrink_case<S: Strategy<Value = Case>>(
    strategy: &S,
    runner: &dyn CaseRunner,
    id: CaseId,
    broken: Vec<String>,
    budget: u32,
    observer: &dyn Observer,
) -> Verdict {
    let mut tree = match case_tree(strategy, id) {
        Ok(t) => t,
        Err(message) => {
            return Verdict::Aborted(Box::new(Aborted {
                id,
                case: None,
                exit_code: None,
                message,
            }))
        }
    };
    let found = tree.current();
    // Rerun the found case for its outcome (the campaign kept only the verdicts).
    let outcome = match run_checked(runner, id, &found) {
        Ok(o) => o,
        Err(a) => return Verdict::Aborted(a),
    };
    let mut best = (found.clone(), outcome);
    let mut runs = 0u32;
    let mut steps = 0u32;
    if tree.simplify() {
        while runs < budget {
            let candidate = tree.current();
            runs += 1;
            let o = match run_checked(runner, id, &candidate) {
                Ok(o) => o,
                Err(a) => return Verdict::Aborted(a),
            };
            let still_fails = o
                .report
                .invariants
                .iter()
                .any(|i| !i.holds && broken.contains(&i.name));
            if still_fails {
                steps += 1;
                best = (candidate, o);
                observer.shrinking(runs, best.0.plan.faults.len());
                if !tree.simplify() {
                    break;
                }
            } else {
                observer.shrinking(runs, best.0.plan.faults.len());
                if !tree.complicate() {
                    break;
                }
            }
        }
    }
    Verdict::Counterexample(Box::new(Counterexample {
        id,
        found,
        broken,
        minimal: best.0,
        outcome: best.1,
        shrink_runs: runs,
        shrink_steps: steps,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fleet::faults::{FaultKind, FaultRule, TaskEdge, Trigger};
    use crate::fleet::report::{InvariantResult, Traffic, INVARIANTS};
    use crate::fleet::space::{
        FaultSpace, FleetSpace, NumRange, Targets, TimeTriggers, TriggerSpace,
    };
    use crate::fleet::strategy;
    use std::collections::BTreeMap;

    fn hosts() -> Vec<String> {
        ["web-prod-01", "web-prod-02", "api-prod-01"]
            .iter()
            .map(|s| s.to_string())
            .collect()
    }

    fn report(broken: &[&str]) -> Report {
        Report {
            seed: 0,
            start_time: "2026-01-01T00:00:00Z".into(),
            virtual_seconds: 1.0,
            traffic: Traffic::default(),
            invariants: INVARIANTS
                .iter()
                .map(|n| InvariantResult {
                    name: n.to_string(),
                    holds: !broken.contains(n),
                    violations: vec![],
                })
                .collect(),
        }
    }

    fn outcome(broken: &[&str]) -> CaseOutcome {
        CaseOutcome {
            exit_code: if broken.is_empty() { 0 } else { 10 },
            report: report(broken),
            error: None,
            fatal: false,
        }
    }

    /// The fake runner of these tests: breaks capacity_floor when its predicate holds for the
    /// case, without any engine.
    struct FakeRunner<F>(F);

    impl<F: Fn(&Case) -> bool + Sync> CaseRunner for FakeRunner<F> {
        fn run(&self, case: &Case) -> Result<CaseOutcome, String> {
            Ok(outcome(if (self.0)(case) {
                &["capacity_floor"]
            } else {
                &[]
            }))
        }
    }

    /// Breaks capacity_floor when a slow_restart of more than 5 s hits web-prod-01 while
    /// web-prod-01 is rolled out.
    const SLOW_WEB01: FakeRunner<fn(&Case) -> bool> = FakeRunner(slow_web01_case);

    fn slow_web01(r: &FaultRule) -> bool {
        r.kind == FaultKind::SlowRestart
            && r.hosts.as_deref() == Some("web-prod-01")
            && r.seconds.unwrap_or(0.0) > 5.0
    }

    fn slow_web01_case(case: &Case) -> bool {
        case.hosts.iter().any(|h| h == "web-prod-01") && case.plan.faults.iter().any(slow_web01)
    }

    /// Holds everything and remembers which cases it saw.
    #[derive(Default)]
    struct Recorder(Mutex<Vec<Case>>);

    impl CaseRunner for Recorder {
        fn run(&self, case: &Case) -> Result<CaseOutcome, String> {
            self.0.lock().unwrap().push(case.clone());
            Ok(outcome(&[]))
        }
    }

    #[derive(Default)]
    struct SeenIds(Mutex<Vec<CaseId>>);

    impl Observer for SeenIds {
        fn case_done(&self, id: CaseId, _held: bool) {
            self.0.lock().unwrap().push(id);
        }
    }

    fn strategy() -> proptest::strategy::SBoxedStrategy<Case> {
        strategy::case(&FaultSpace::builtin(), &hosts())
    }

    fn counterexample(r: &CampaignResult) -> &Counterexample {
        match &r.verdict {
            Verdict::Counterexample(c) => c,
            other => panic!("expected a counterexample, got {other:?}"),
        }
    }

    #[test]
    fn shrinks_a_slow_restart_on_web01_to_one_fault() {
        let cfg = CampaignConfig {
            jobs: 2,
            ..CampaignConfig::new(42, 200)
        };
        let r = run_campaign(&strategy(), &SLOW_WEB01, &cfg, &Quiet);
        let c = counterexample(&r);
        assert_eq!(c.broken, vec!["capacity_floor".to_string()]);
        assert_eq!(c.minimal.plan.faults.len(), 1, "{:#?}", c.minimal);
        let f = &c.minimal.plan.faults[0];
        assert_eq!(f.kind, FaultKind::SlowRestart);
        assert_eq!(f.hosts.as_deref(), Some("web-prod-01"));
        assert_eq!(f.seconds, Some(5.001), "the smallest duration above 5 s");
        assert_eq!(f.at, None, "from the start is the simplest trigger");
        assert_eq!(c.minimal.hosts, vec!["web-prod-01".to_string()]);
        assert!(c.minimal.fleet.is_unchanged());
        assert_eq!(c.minimal.seed, c.found.seed);
        assert!(c.shrink_steps > 0 && c.shrink_runs >= c.shrink_steps);
        assert!(!c.outcome.report.holds());
        // The cases up to and including the failure are counted.
        assert_eq!(r.ran, c.id.index + 1);
        assert_eq!(r.held["capacity_floor"], r.ran - 1);
        assert_eq!(r.held["no_failed_requests"], r.ran);
    }

    #[test]
    fn same_seed_same_cases_and_same_counterexample_whatever_the_jobs() {
        let s = strategy();
        let first = run_campaign(&s, &SLOW_WEB01, &CampaignConfig::new(7, 300), &Quiet);
        for jobs in [1, 2, 4] {
            let cfg = CampaignConfig {
                jobs,
                ..CampaignConfig::new(7, 300)
            };
            let again = run_campaign(&s, &SLOW_WEB01, &cfg, &Quiet);
            let (a, b) = (counterexample(&first), counterexample(&again));
            assert_eq!(a.id, b.id);
            assert_eq!(a.found, b.found);
            assert_eq!(a.minimal, b.minimal);
            assert_eq!(
                (a.shrink_runs, a.shrink_steps),
                (b.shrink_runs, b.shrink_steps)
            );
            assert_eq!(first.ran, again.ran);
            assert_eq!(first.held, again.held);
        }
        // Case i is the same case in any campaign of the same seed, and another seed differs.
        let cases = |seed| -> Vec<Case> {
            (0..20)
                .map(|index| case_at(&s, CaseId { seed, index }).unwrap())
                .collect()
        };
        assert_eq!(cases(7), cases(7));
        assert_ne!(cases(7), cases(8));
    }

    #[test]
    fn the_shards_together_are_the_whole_campaign() {
        let s = strategy();
        let whole_seen = SeenIds::default();
        let whole_runner = Recorder::default();
        let whole = run_campaign(&s, &whole_runner, &CampaignConfig::new(9, 60), &whole_seen);
        assert!(matches!(whole.verdict, Verdict::Held));
        assert_eq!(whole.ran, 60);
        let mut union_ids = Vec::new();
        let mut union_cases = Vec::new();
        let mut held_sum: IndexMap<String, u64> = IndexMap::new();
        for i in 1..=3 {
            let cfg = CampaignConfig {
                shard: Shard::parse(&format!("{i}/3")).unwrap(),
                jobs: 2,
                ..CampaignConfig::new(9, 60)
            };
            let seen = SeenIds::default();
            let runner = Recorder::default();
            let r = run_campaign(&s, &runner, &cfg, &seen);
            assert!(matches!(r.verdict, Verdict::Held));
            assert_eq!(r.ran, 20);
            union_ids.extend(seen.0.into_inner().unwrap());
            union_cases.extend(runner.0.into_inner().unwrap());
            for (k, v) in r.held {
                *held_sum.entry(k).or_insert(0) += v;
            }
        }
        let mut whole_ids = whole_seen.0.into_inner().unwrap();
        whole_ids.sort();
        union_ids.sort();
        assert_eq!(union_ids, whole_ids, "disjoint, and together the whole");
        let key = |c: &Case| serde_json::to_string(c).unwrap();
        let mut whole_cases: Vec<String> = whole_runner
            .0
            .into_inner()
            .unwrap()
            .iter()
            .map(key)
            .collect();
        let mut union_cases: Vec<String> = union_cases.iter().map(key).collect();
        whole_cases.sort();
        union_cases.sort();
        assert_eq!(union_cases, whole_cases);
        assert_eq!(held_sum, whole.held);
    }

    #[test]
    fn the_lowest_failing_shard_finds_the_whole_campaigns_counterexample() {
        let s = strategy();
        let whole = run_campaign(&s, &SLOW_WEB01, &CampaignConfig::new(11, 300), &Quiet);
        let w = counterexample(&whole);
        let mut found = BTreeMap::new();
        for i in 1..=4 {
            let cfg = CampaignConfig {
                shard: Shard::parse(&format!("{i}/4")).unwrap(),
                ..CampaignConfig::new(11, 300)
            };
            if let Verdict::Counterexample(c) = run_campaign(&s, &SLOW_WEB01, &cfg, &Quiet).verdict
            {
                found.insert(c.id.index, c.minimal.clone());
            }
        }
        let (index, minimal) = found.into_iter().next().unwrap();
        assert_eq!(index, w.id.index);
        assert_eq!(minimal, w.minimal);
    }

    /// Runs shards `1/n..n/n` of `cfg` with `runner` and merges their results.
    fn merged(cfg: &CampaignConfig, n: u64, runner: &dyn CaseRunner) -> ShardResult {
        let s = strategy();
        let shards = (1..=n)
            .map(|i| {
                let cfg = CampaignConfig {
                    shard: Shard::parse(&format!("{i}/{n}")).unwrap(),
                    jobs: 2,
                    ..cfg.clone()
                };
                let r = run_campaign(&s, runner, &cfg, &Quiet);
                // Through the file format, as separate processes would hand it over.
                let json = serde_json::to_string(&ShardResult::new(&cfg, r)).unwrap();
                serde_json::from_str(&json).unwrap()
            })
            .collect();
        merge_shards(shards).unwrap()
    }

    #[test]
    fn merged_shards_are_the_whole_campaign_when_every_case_holds() {
        let cfg = CampaignConfig::new(9, 60);
        let whole = run_campaign(&strategy(), &Recorder::default(), &cfg, &Quiet);
        assert_eq!(
            merged(&cfg, 4, &Recorder::default()),
            ShardResult::new(&cfg, whole)
        );
    }

    #[test]
    fn merged_shards_find_the_whole_campaigns_counterexample_and_counts() {
        let mut cfg = CampaignConfig::new(11, 300);
        cfg.jobs = 2;
        let whole = run_campaign(&strategy(), &SLOW_WEB01, &cfg, &Quiet);
        let counted = whole.ran;
        assert!(counted < 300, "the campaign stops at its first failure");
        for n in [2, 3, 4, 7] {
            let m = merged(&cfg, n, &SLOW_WEB01);
            assert_eq!(m, ShardResult::new(&cfg, whole.clone()), "{n} shards");
        }
    }

    #[test]
    fn merging_refuses_missing_duplicated_and_foreign_shards() {
        let cfg = CampaignConfig::new(3, 20);
        let s = strategy();
        let shard = |text: &str, seed: u64| {
            let cfg = CampaignConfig {
                seed,
                shard: Shard::parse(text).unwrap(),
                ..cfg.clone()
            };
            ShardResult::new(&cfg, run_campaign(&s, &Recorder::default(), &cfg, &Quiet))
        };
        let err = |v: Vec<ShardResult>| merge_shards(v).unwrap_err();
        assert_eq!(
            err(vec![shard("1/3", 3), shard("3/3", 3)]),
            "shard 2/3 is missing"
        );
        assert_eq!(
            err(vec![shard("1/2", 3), shard("1/2", 3), shard("2/2", 3)]),
            "shard 1/2 is given twice"
        );
        assert!(err(vec![shard("1/2", 3), shard("2/2", 4)]).contains("different campaigns"));
        assert_eq!(err(Vec::new()), "no shard results to merge");
    }

    #[test]
    fn saved_regressions_run_first() {
        let s = strategy();
        // Find a failing case somewhere in seed 5, then run a campaign of another seed that
        // would find nothing in 0 cases but has the saved case.
        let found = counterexample(&run_campaign(
            &s,
            &SLOW_WEB01,
            &CampaignConfig::new(5, 300),
            &Quiet,
        ))
        .id;
        let cfg = CampaignConfig {
            regressions: vec![found, found],
            ..CampaignConfig::new(1234, 0)
        };
        let r = run_campaign(&s, &SLOW_WEB01, &cfg, &Quiet);
        assert_eq!(counterexample(&r).id, found);
        assert_eq!((r.ran, r.regressions_ran), (1, 1));
        // Only the first shard reruns them.
        let cfg = CampaignConfig {
            shard: Shard::parse("2/2").unwrap(),
            ..cfg
        };
        assert!(matches!(
            run_campaign(&s, &SLOW_WEB01, &cfg, &Quiet).verdict,
            Verdict::Held
        ));
    }

    /// Fails to run case seeds that are multiples of 7 with a fatal status.
    struct Broken;

    impl CaseRunner for Broken {
        fn run(&self, case: &Case) -> Result<CaseOutcome, String> {
            if case.seed % 7 == 0 {
                return Ok(CaseOutcome {
                    exit_code: 4,
                    report: report(&[]),
                    error: Some("ERROR! 'copy' is not a valid attribute for a Play".into()),
                    fatal: true,
                });
            }
            if case.seed % 5 == 0 {
                return Err("cannot create a sandbox".into());
            }
            Ok(outcome(&[]))
        }
    }

    #[test]
    fn a_playbook_that_cannot_run_aborts_at_the_lowest_such_case() {
        let s = strategy();
        let mut verdicts = Vec::new();
        for jobs in [1, 3] {
            let cfg = CampaignConfig {
                jobs,
                ..CampaignConfig::new(3, 200)
            };
            let r = run_campaign(&s, &Broken, &cfg, &Quiet);
            let Verdict::Aborted(a) = r.verdict else {
                panic!("expected an abort")
            };
            let case = a.case.clone().unwrap();
            let expected_index = (0..200)
                .find(|&index| {
                    let c = case_at(&s, CaseId { seed: 3, index }).unwrap();
                    c.seed % 7 == 0 || c.seed % 5 == 0
                })
                .unwrap();
            assert_eq!(a.id.index, expected_index);
            if case.seed % 7 == 0 {
                assert_eq!(a.exit_code, Some(4));
                assert!(a.message.contains("not a valid attribute"));
            } else {
                assert_eq!(a.exit_code, None);
                assert_eq!(a.message, "cannot create a sandbox");
            }
            assert_eq!(r.ran, expected_index + 1);
            verdicts.push(a.id);
        }
        assert_eq!(verdicts[0], verdicts[1]);
    }

    /// Panics on case seeds that are multiples of 3 (a fleetsim bug outside any task).
    struct Panicky;

    impl CaseRunner for Panicky {
        fn run(&self, case: &Case) -> Result<CaseOutcome, String> {
            if case.seed % 3 == 0 {
                panic!("boom on seed {}", case.seed);
            }
            Ok(outcome(&[]))
        }
    }

    #[test]
    fn issue_14_a_case_that_panics_fails_alone_and_the_campaign_goes_on() {
        let s = strategy();
        let r = run_campaign(&s, &Panicky, &CampaignConfig::new(5, 40), &Quiet);
        assert!(matches!(r.verdict, Verdict::Held));
        assert_eq!(r.ran, 40);
        let expected: Vec<u64> = (0..40)
            .filter(|&index| case_at(&s, CaseId { seed: 5, index }).unwrap().seed % 3 == 0)
            .collect();
        assert!(!expected.is_empty());
        assert_eq!(
            r.panicked.iter().map(|a| a.id.index).collect::<Vec<_>>(),
            expected
        );
        for a in &r.panicked {
            let seed = a.case.as_ref().unwrap().seed;
            assert_eq!(a.exit_code, Some(PANIC_EXIT));
            assert_eq!(
                a.message,
                format!("fleetsim: internal error (please report it): boom on seed {seed}")
            );
        }
    }

    #[test]
    fn shard_parsing() {
        assert_eq!(Shard::parse("2/4").unwrap(), Shard { index: 1, count: 4 });
        assert_eq!(Shard::parse("2/4").unwrap().to_string(), "2/4");
        for bad in ["0/4", "5/4", "1", "a/b", "1/0", ""] {
            assert!(Shard::parse(bad).is_err(), "{bad}");
        }
        let s = Shard::parse("3/3").unwrap();
        assert!(s.contains(2) && s.contains(5) && !s.contains(3));
    }

    #[test]
    fn the_shrink_budget_is_respected() {
        let cfg = CampaignConfig {
            max_shrink_runs: 3,
            ..CampaignConfig::new(42, 200)
        };
        let r = run_campaign(&strategy(), &SLOW_WEB01, &cfg, &Quiet);
        assert!(counterexample(&r).shrink_runs <= 3);
    }

    /// A space of at most one slow_restart, starting at a time in `[lo, hi]` seconds; nothing
    /// else varies.
    fn time_space(lo: f64, hi: f64) -> FaultSpace {
        let mut space = FaultSpace::builtin();
        space.max_faults = 1;
        space.triggers = TriggerSpace {
            time: Some(TimeTriggers {
                weight: 1,
                seconds: NumRange::new(lo, hi),
            }),
            ..TriggerSpace::default()
        };
        space.kinds.retain(|k, _| *k == FaultKind::SlowRestart);
        space.fleet = FleetSpace::default();
        space
    }

    /// The time the case's first timed fault starts at.
    fn fault_time(case: &Case) -> Option<f64> {
        case.plan.faults.iter().find_map(|f| match f.at {
            Some(Trigger::Time { time }) => Some(time),
            _ => None,
        })
    }

    #[test]
    fn a_time_that_must_be_late_enough_shrinks_to_the_next_whole_second() {
        // In the built-in space (several faults, other triggers): a fault at 12.347 s or
        // later breaks the rollout; the minimal case has one fault, at exactly 13 s.
        let late = FakeRunner(|c: &Case| {
            c.plan
                .faults
                .iter()
                .any(|f| matches!(f.at, Some(Trigger::Time { time }) if time >= 12.347))
        });
        for seed in 0..5 {
            let r = run_campaign(&strategy(), &late, &CampaignConfig::new(seed, 200), &Quiet);
            let c = counterexample(&r);
            assert_eq!(c.minimal.plan.faults.len(), 1, "{:#?}", c.minimal);
            assert_eq!(fault_time(&c.minimal), Some(13.0), "seed {seed}");
        }
        // Drawn between the limit and the next whole second, the time moves later; drawn after
        // it, earlier; both end on the same round time.
        let s = strategy::case(&time_space(12.0, 14.0), &hosts());
        let late = FakeRunner(|c: &Case| fault_time(c).is_some_and(|t| t >= 12.5));
        let (mut later, mut earlier) = (0, 0);
        for seed in 0..20 {
            let r = run_campaign(&s, &late, &CampaignConfig::new(seed, 200), &Quiet);
            let c = counterexample(&r);
            assert_eq!(fault_time(&c.minimal), Some(13.0), "seed {seed}");
            let found = fault_time(&c.found).unwrap();
            if found < 13.0 {
                later += 1;
            } else if found > 13.0 {
                earlier += 1;
            }
        }
        assert!(
            later > 0 && earlier > 0,
            "{later} moved later, {earlier} earlier"
        );
    }

    #[test]
    fn a_time_that_must_be_in_a_window_shrinks_inside_it() {
        let s = strategy::case(&time_space(0.0, 60.0), &hosts());
        // A window with whole seconds in it: its first whole second.
        let window =
            FakeRunner(|c: &Case| fault_time(c).is_some_and(|t| (31.4..=33.6).contains(&t)));
        // One without: inside it, on its first tenth.
        let narrow =
            FakeRunner(|c: &Case| fault_time(c).is_some_and(|t| (20.25..=20.75).contains(&t)));
        for seed in 0..5 {
            let r = run_campaign(&s, &window, &CampaignConfig::new(seed, 500), &Quiet);
            assert_eq!(fault_time(&counterexample(&r).minimal), Some(32.0));
            let r = run_campaign(&s, &narrow, &CampaignConfig::new(seed, 1000), &Quiet);
            assert_eq!(fault_time(&counterexample(&r).minimal), Some(20.3));
        }
    }

    #[test]
    fn a_task_trigger_keeps_its_host_only_when_the_failure_needs_it() {
        let mut space = FaultSpace::builtin();
        let task = space.triggers.task.as_mut().unwrap();
        task.names = Some(vec!["Deploy".into(), "Check".into()]);
        task.hosts = Some(Targets::Rollout);
        let s = strategy::case(&space, &hosts());
        let on_task = |f: &FaultRule| match &f.at {
            Some(Trigger::Task { host, .. }) => Some(host.clone()),
            _ => None,
        };
        // Any task trigger breaks the rollout: the host goes.
        let any = FakeRunner(|c: &Case| c.plan.faults.iter().any(|f| on_task(f).is_some()));
        // Only a fault that waits for a task on web-prod-02 does: the host stays.
        let on_web02 = FakeRunner(|c: &Case| {
            c.plan
                .faults
                .iter()
                .any(|f| on_task(f) == Some(Some("web-prod-02".into())))
        });
        for seed in 0..5 {
            let r = run_campaign(&s, &any, &CampaignConfig::new(seed, 300), &Quiet);
            let minimal = &counterexample(&r).minimal.plan.faults;
            assert_eq!(minimal.len(), 1);
            assert_eq!(on_task(&minimal[0]), Some(None), "{minimal:?}");
            let r = run_campaign(&s, &on_web02, &CampaignConfig::new(seed, 300), &Quiet);
            let minimal = &counterexample(&r).minimal.plan.faults;
            assert_eq!(minimal.len(), 1);
            assert_eq!(
                minimal[0].at,
                Some(Trigger::Task {
                    task: "Deploy".into(),
                    when: TaskEdge::Start,
                    host: Some("web-prod-02".into()),
                })
            );
        }
    }

    proptest::proptest! {
        #![proptest_config(Config { cases: 64, failure_persistence: None, ..Config::default() })]

        /// Whatever the space's time range and the window of failing times, the minimal case's
        /// time stays in the range and in the window, and the same seed shrinks to it again.
        #[test]
        fn shrunk_times_stay_inside_the_space_range(
            lo in 0u32..100_000,
            len in 1u32..100_000,
            from in 0.0f64..1.0,
            width in 0.05f64..1.0,
            seed in 0u64..1000,
        ) {
            let (lo, hi) = (f64::from(lo) / 1000.0, f64::from(lo + len) / 1000.0);
            let a = lo + from * (hi - lo);
            let b = (a + width * (hi - lo)).min(hi);
            let runner = FakeRunner(move |c: &Case| fault_time(c).is_some_and(|t| a <= t && t <= b));
            let s = strategy::case(&time_space(lo, hi), &hosts());
            let cfg = CampaignConfig::new(seed, 300);
            let r = run_campaign(&s, &runner, &cfg, &Quiet);
            if let Verdict::Counterexample(c) = &r.verdict {
                let t = fault_time(&c.minimal).unwrap();
                proptest::prop_assert!(lo <= t && t <= hi, "{t} outside [{lo}, {hi}]");
                proptest::prop_assert!(a <= t && t <= b, "{t} outside the window [{a}, {b}]");
                let again = run_campaign(&s, &runner, &cfg, &Quiet);
                proptest::prop_assert_eq!(&counterexample(&again).minimal, &c.minimal);
            }
        }
    }
}
