//! proptest strategies over rollouts: fault plans, fleet parameters, rollout hosts and whole
//! cases drawn from a [`FaultSpace`]. `fleetsim check` draws and shrinks its cases with
//! these, and they are public so that users can write their own `proptest!` tests:
//!
//! ```
//! use fleetsim_sim::fleet::space::FaultSpace;
//! use fleetsim_sim::fleet::strategy;
//! use proptest::prelude::*;
//!
//! let hosts = vec!["web-prod-01".to_string(), "web-prod-02".to_string()];
//! proptest!(|(case in strategy::case(&FaultSpace::builtin(), &hosts))| {
//!     prop_assert!(!case.hosts.is_empty());
//!     prop_assert!(case.plan.faults.len() <= 3);
//! });
//! ```
//!
//! Shrinking goes, in this order: fewer faults, each fault towards the first kind listed, the
//! first target, "from the start" rather than a later trigger, simpler trigger times (the low
//! bound, else the earliest whole second that still fails, which may be later than the drawn
//! time, else the same with tenths, hundredths, thousandths: see [`time_tree`]), no `host:` on
//! a task trigger, shorter durations, smaller parameters; then fewer rollout hosts; then the
//! scenario's own fleet timings, then smaller ones. The run seed never shrinks.

use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::{select, subsequence};
use proptest::strategy::{Just, SBoxedStrategy, Union};

use super::case::{Case, FleetParams};
use super::faults::{FaultKind, FaultPlan, FaultRule, Trigger};
use super::space::{
    Choices, FaultSpace, FleetSpace, KindSpace, NumRange, Targets, TriggerKind, TriggerSpace,
};

pub mod time_tree;

/// Numbers are drawn in thousandths, so a shrunk counterexample reads `seconds: 5.001`
/// rather than `5.000913727`, and integer shrinking (a binary search towards the low bound)
/// does the work.
const SCALE: f64 = 1000.0;

/// Run seeds stay below this so they read like the seeds `fleetsim playbook` prints.
const SEED_LIMIT: u64 = 1_000_000_000;

/// How often a varying fleet parameter differs from the scenario's value.
const FLEET_OVERRIDE_PROBABILITY: f64 = 0.75;

/// A number within `r`, in thousandths; shrinks towards the low bound (towards 0 when the
/// range spans it).
pub fn number(r: &NumRange) -> SBoxedStrategy<f64> {
    let lo = (r.lo * SCALE).round() as i64;
    let hi = (r.hi * SCALE).round() as i64;
    if lo >= hi {
        Just(lo as f64 / SCALE).sboxed()
    } else {
        (lo..=hi).prop_map(|m| m as f64 / SCALE).sboxed()
    }
}

/// A trigger time within `r`, in thousandths, drawn as [`number`] draws it; shrinks to the low
/// bound, else to the roundest time that still fails, earlier or later (see [`time_tree`]).
pub fn trigger_time(r: &NumRange) -> SBoxedStrategy<f64> {
    let lo = (r.lo * SCALE).round() as i64;
    let hi = (r.hi * SCALE).round() as i64;
    time_tree::TriggerTime::new(lo, hi).sboxed()
}

fn maybe_number(r: &Option<NumRange>) -> SBoxedStrategy<Option<f64>> {
    match r {
        Some(r) => number(r).prop_map(Some).sboxed(),
        None => Just(None).sboxed(),
    }
}

fn maybe_choice<T>(c: &Option<Choices<T>>) -> SBoxedStrategy<Option<T>>
where
    T: Clone + std::fmt::Debug + Send + Sync + 'static,
{
    match c {
        Some(Choices(list)) if !list.is_empty() => select(list.clone()).prop_map(Some).sboxed(),
        _ => Just(None).sboxed(),
    }
}

/// One host pattern for a target. `rollout` draws one of `rollout`; with no rollout hosts at
/// all it falls back to the pattern `all` rather than failing.
pub fn target(t: &Targets, rollout: &[String]) -> SBoxedStrategy<String> {
    match t {
        Targets::Rollout if !rollout.is_empty() => select(rollout.to_vec()).sboxed(),
        Targets::Pattern(p) => Just(p.clone()).sboxed(),
        Targets::OneOf(list) if !list.is_empty() => select(list.clone()).sboxed(),
        _ => Just("all".to_string()).sboxed(),
    }
}

/// When a fault of this kind starts (`None`: from the start of the run), among the triggers
/// both the kind allows and the space draws. `None` when there is no such trigger. `rollout`
/// is what a task trigger's `hosts: rollout` draws from.
pub fn trigger(
    triggers: &TriggerSpace,
    allowed: Option<&[TriggerKind]>,
    rollout: &[String],
) -> Option<SBoxedStrategy<Option<Trigger>>> {
    let all = [
        TriggerKind::Start,
        TriggerKind::Time,
        TriggerKind::Restart,
        TriggerKind::Task,
    ];
    let mut options: Vec<(u32, SBoxedStrategy<Option<Trigger>>)> = Vec::new();
    // Start first: Union shrinks towards earlier alternatives, and "from the start" is the
    // simplest trigger to read.
    for kind in all {
        let w = triggers.drawable_weight(kind);
        if w == 0 || allowed.is_some_and(|a| !a.contains(&kind)) {
            continue;
        }
        let s = match kind {
            TriggerKind::Start => Just(None).sboxed(),
            TriggerKind::Time => match &triggers.time {
                Some(t) => trigger_time(&t.seconds)
                    .prop_map(|time| Some(Trigger::Time { time }))
                    .sboxed(),
                None => continue,
            },
            TriggerKind::Restart => match &triggers.restart {
                Some(t) => {
                    let lo = t.nth.lo.max(1.0) as u32;
                    let hi = (t.nth.hi as u32).max(lo);
                    (lo..=hi)
                        .prop_map(|restart| Some(Trigger::Restart { restart }))
                        .sboxed()
                }
                None => continue,
            },
            TriggerKind::Task => match &triggers.task {
                Some(t) => {
                    let names = t.names.clone().unwrap_or_default();
                    if names.is_empty() || t.when.is_empty() {
                        continue;
                    }
                    // No `host:` (the task on the fault's own target) unless the space
                    // draws one, and then no host first, so that shrinking drops it.
                    let host = match &t.hosts {
                        Some(targets) => proptest::option::of(target(targets, rollout)).sboxed(),
                        None => Just(None).sboxed(),
                    };
                    (select(names), select(t.when.clone()), host)
                        .prop_map(|(task, when, host)| Some(Trigger::Task { task, when, host }))
                        .sboxed()
                }
                None => continue,
            },
        };
        options.push((w, s));
    }
    if options.is_empty() {
        None
    } else {
        Some(Union::new_weighted(options).sboxed())
    }
}

/// One rule of `kind` as `ks` describes it; `None` when no trigger it allows is drawn.
pub fn fault_rule(
    kind: FaultKind,
    ks: &KindSpace,
    triggers: &TriggerSpace,
    rollout: &[String],
) -> Option<SBoxedStrategy<FaultRule>> {
    let at = trigger(triggers, ks.at.as_deref(), rollout)?;
    let hosts = if kind == FaultKind::Partition {
        Just(None).sboxed()
    } else {
        target(&ks.hosts, rollout).prop_map(Some).sboxed()
    };
    let between = match &ks.between {
        Some([a, b]) => (target(a, rollout), target(b, rollout))
            .prop_map(|(a, b)| Some([a, b]))
            .sboxed(),
        None => Just(None).sboxed(),
    };
    Some(
        (
            hosts,
            between,
            at,
            maybe_number(&ks.duration),
            maybe_number(&ks.seconds),
            maybe_choice(&ks.status),
            maybe_number(&ks.delay),
            maybe_number(&ks.lag),
            maybe_number(&ks.offset),
            maybe_number(&ks.probability),
            maybe_choice(&ks.message),
        )
            .prop_map(
                move |(
                    hosts,
                    between,
                    at,
                    duration,
                    seconds,
                    status,
                    delay,
                    lag,
                    offset,
                    probability,
                    message,
                )| FaultRule {
                    kind,
                    hosts,
                    at,
                    duration,
                    seconds,
                    status,
                    between,
                    delay,
                    lag,
                    offset,
                    probability,
                    message,
                },
            )
            .sboxed(),
    )
}

/// A fault plan of 0 to `max_faults` rules, kinds drawn by weight. `rollout` is the hosts
/// `hosts: rollout` draws from (the whole --limit, whatever subset a case rolls out to).
pub fn fault_plan(space: &FaultSpace, rollout: &[String]) -> SBoxedStrategy<FaultPlan> {
    let rules: Vec<(u32, SBoxedStrategy<FaultRule>)> = space
        .kinds
        .iter()
        .filter(|(_, ks)| ks.weight > 0)
        .filter_map(|(kind, ks)| {
            fault_rule(*kind, ks, &space.triggers, rollout).map(|s| (ks.weight, s))
        })
        .collect();
    if rules.is_empty() || space.max_faults == 0 {
        return Just(FaultPlan::default()).sboxed();
    }
    vec(Union::new_weighted(rules), 0..=space.max_faults)
        .prop_map(|faults| FaultPlan { faults })
        .sboxed()
}

/// Fleet parameters: each one the space varies is either left as the scenario has it or
/// drawn from its range.
pub fn fleet_params(fleet: &FleetSpace) -> SBoxedStrategy<FleetParams> {
    let param = |r: &Option<NumRange>| match r {
        Some(r) => proptest::option::weighted(FLEET_OVERRIDE_PROBABILITY, number(r)).sboxed(),
        None => Just(None).sboxed(),
    };
    (
        param(&fleet.restart_seconds),
        param(&fleet.requests_per_second),
    )
        .prop_map(|(restart_seconds, requests_per_second)| FleetParams {
            restart_seconds,
            requests_per_second,
        })
        .sboxed()
}

/// A subset of `rollout` of at least `min_hosts` hosts (all of them when there are fewer), in
/// their order; shrinks by dropping hosts.
pub fn rollout_hosts(rollout: &[String], min_hosts: usize) -> SBoxedStrategy<Vec<String>> {
    if rollout.is_empty() {
        return Just(Vec::new()).sboxed();
    }
    let n = rollout.len();
    subsequence(rollout.to_vec(), min_hosts.clamp(1, n)..=n).sboxed()
}

/// A whole case: fault plan, rollout hosts, fleet parameters and run seed.
pub fn case(space: &FaultSpace, rollout: &[String]) -> SBoxedStrategy<Case> {
    // A tuple shrinks its parts in order: the fleet timings first go back to the scenario's
    // own, so a minimal case blames faults, which the scenario's fleet.yml then replays.
    (
        fleet_params(&space.fleet),
        fault_plan(space, rollout),
        rollout_hosts(rollout, space.min_hosts),
        (0..SEED_LIMIT).no_shrink(),
    )
        .prop_map(|(fleet, plan, hosts, seed)| Case {
            seed,
            hosts,
            fleet,
            plan,
        })
        .sboxed()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fleet::faults::TaskEdge;
    use crate::fleet::space::TaskTriggers;
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestCaseError;
    use proptest::test_runner::{Config, TestRng, TestRunner};

    fn hosts() -> Vec<String> {
        ["web-prod-01", "web-prod-02", "api-prod-01"]
            .iter()
            .map(|s| s.to_string())
            .collect()
    }

    fn runner(seed: u8) -> TestRunner {
        TestRunner::new_with_rng(
            Config::default(),
            TestRng::from_seed(proptest::test_runner::RngAlgorithm::ChaCha, &[seed; 32]),
        )
    }

    /// Task names as `fleetsim check` fills them in from the playbook.
    fn task_names() -> Vec<String> {
        vec!["Deploy application".into(), "Check health".into()]
    }

    /// The task trigger hosts of [`with_task_hosts`].
    fn trigger_hosts() -> Vec<String> {
        vec!["web-prod-02".into(), "lb-prod-01".into()]
    }

    /// The built-in space with the playbook's task names filled in, whose task triggers may
    /// name the host the task runs on.
    fn with_task_hosts() -> FaultSpace {
        let mut space = FaultSpace::builtin();
        let task = space.triggers.task.as_mut().unwrap();
        task.names = Some(task_names());
        task.hosts = Some(Targets::OneOf(trigger_hosts()));
        space
    }

    /// Checks that `case` lies inside the built-in space, whose task triggers (if any) draw
    /// their task from `task_names()` and their host from `trigger_hosts` (none: no host).
    fn inside_builtin(case: &Case, trigger_hosts: &[String]) -> Result<(), TestCaseError> {
        prop_assert!(!case.hosts.is_empty());
        prop_assert!(case.hosts.iter().all(|h| hosts().contains(h)));
        prop_assert!(case.plan.faults.len() <= 3);
        prop_assert!(case.seed < SEED_LIMIT);
        for f in &case.plan.faults {
            let host = f.hosts.as_deref().unwrap();
            prop_assert!(hosts().iter().any(|h| h == host));
            match &f.at {
                None | Some(Trigger::Restart { restart: 1..=2 }) => {}
                Some(Trigger::Time { time }) => prop_assert!((0.0..=60.0).contains(time)),
                Some(Trigger::Task { task, host, .. }) => {
                    prop_assert!(task_names().contains(task), "{task}");
                    if let Some(h) = host {
                        prop_assert!(trigger_hosts.contains(h), "task trigger host {h}");
                    }
                }
                other => prop_assert!(false, "trigger {other:?} is not in the space"),
            }
            match f.kind {
                FaultKind::SlowRestart => {
                    let s = f.seconds.unwrap();
                    prop_assert!((0.5..=30.0).contains(&s));
                }
                FaultKind::Unhealthy => {
                    let at_restart = matches!(f.at, Some(Trigger::Restart { restart: 1..=2 }));
                    prop_assert!(at_restart, "unhealthy starts at a restart: {:?}", f.at);
                    prop_assert!([500, 503].contains(&f.status.unwrap()));
                    prop_assert!((1.0..=30.0).contains(&f.duration.unwrap()));
                }
                FaultKind::TaskFail if !trigger_hosts.is_empty() => {
                    let at_task = matches!(f.at, Some(Trigger::Task { .. }));
                    prop_assert!(at_task, "task_fail starts at a task: {:?}", f.at);
                    prop_assert_eq!(f.message.as_deref(), Some("simulated failure"));
                }
                other => prop_assert!(false, "kind {other:?} is not in the builtin space"),
            }
        }
        if let Some(r) = case.fleet.restart_seconds {
            prop_assert!((0.05..=2.0).contains(&r));
        }
        Ok(())
    }

    proptest! {
        #[test]
        fn cases_stay_inside_the_builtin_space(
            case in case(&FaultSpace::builtin(), &hosts()),
            with_hosts in case(&with_task_hosts(), &hosts()),
        ) {
            // The built-in space draws no task trigger (no names yet), so no host either.
            inside_builtin(&case, &[])?;
            inside_builtin(&with_hosts, &trigger_hosts())?;
        }
    }

    #[test]
    fn task_triggers_draw_the_names_given() {
        let mut space = FaultSpace::builtin();
        space.triggers.task = Some(TaskTriggers {
            weight: 1,
            names: Some(vec!["Deploy application".into()]),
            when: vec![crate::fleet::faults::TaskEdge::End],
            hosts: None,
        });
        let strategy = fault_plan(&space, &hosts());
        let mut seen_task_fail = false;
        for seed in 0..50u8 {
            let plan = strategy.new_tree(&mut runner(seed)).unwrap().current();
            for f in plan.faults {
                if f.kind == FaultKind::TaskFail {
                    seen_task_fail = true;
                    assert_eq!(
                        f.at,
                        Some(Trigger::Task {
                            task: "Deploy application".into(),
                            when: crate::fleet::faults::TaskEdge::End,
                            host: None,
                        })
                    );
                    assert_eq!(f.message.as_deref(), Some("simulated failure"));
                }
            }
        }
        assert!(seen_task_fail, "task_fail is drawn once task names exist");
    }

    #[test]
    fn task_trigger_hosts_are_drawn_from_the_space_and_shrink_away() {
        let triggers = TriggerSpace {
            task: Some(TaskTriggers {
                weight: 1,
                names: Some(vec!["Deploy".into()]),
                when: vec![TaskEdge::Start],
                hosts: Some(Targets::Rollout),
            }),
            ..TriggerSpace::default()
        };
        let s = trigger(&triggers, None, &hosts()).unwrap();
        let mut seen = Vec::new();
        let mut without = 0;
        for seed in 0..50u8 {
            let mut tree = s.new_tree(&mut runner(seed)).unwrap();
            match tree.current() {
                Some(Trigger::Task { host: Some(h), .. }) => {
                    assert!(hosts().contains(&h), "{h}");
                    if !seen.contains(&h) {
                        seen.push(h);
                    }
                }
                Some(Trigger::Task { host: None, .. }) => without += 1,
                other => panic!("a task trigger was expected, not {other:?}"),
            }
            while tree.simplify() {}
            let simplest = Trigger::Task {
                task: "Deploy".into(),
                when: TaskEdge::Start,
                host: None,
            };
            assert_eq!(tree.current(), Some(simplest), "the host shrinks away");
        }
        assert_eq!(
            seen.len(),
            hosts().len(),
            "every rollout host is drawn: {seen:?}"
        );
        assert!(without > 0, "and sometimes none");
    }

    #[test]
    fn numbers_are_in_thousandths_and_shrink_to_the_low_bound() {
        let s = number(&NumRange::new(0.05, 2.0));
        let mut tree = s.new_tree(&mut runner(7)).unwrap();
        let v = tree.current();
        assert_eq!((v * 1000.0).round() / 1000.0, v);
        while tree.simplify() {}
        assert_eq!(tree.current(), 0.05);
        assert_eq!(
            number(&NumRange::new(3.0, 3.0))
                .new_tree(&mut runner(1))
                .unwrap()
                .current(),
            3.0
        );
    }

    #[test]
    fn plans_shrink_to_no_fault_and_hosts_to_one() {
        let s = case(&FaultSpace::builtin(), &hosts());
        for seed in 0..20u8 {
            let mut tree = s.new_tree(&mut runner(seed)).unwrap();
            let seed_before = tree.current().seed;
            while tree.simplify() {}
            let c = tree.current();
            assert!(c.plan.faults.is_empty());
            assert_eq!(c.hosts.len(), 1);
            assert!(c.fleet.is_unchanged());
            assert_eq!(c.seed, seed_before, "the run seed never shrinks");
        }
    }

    #[test]
    fn partitions_draw_both_sides_and_no_hosts() {
        let mut space = FaultSpace::builtin();
        space.kinds.clear();
        space.kinds.insert(
            FaultKind::Partition,
            KindSpace {
                between: Some([
                    Targets::Rollout,
                    Targets::OneOf(vec!["lb-prod-01".into(), "lb-prod-02".into()]),
                ]),
                ..KindSpace::new(1)
            },
        );
        space.max_faults = 1;
        let s = fault_plan(&space, &hosts());
        for seed in 0..20u8 {
            for f in s.new_tree(&mut runner(seed)).unwrap().current().faults {
                assert_eq!(f.hosts, None);
                let [a, b] = f.between.unwrap();
                assert!(hosts().contains(&a));
                assert!(b.starts_with("lb-prod-0"));
            }
        }
    }

    #[test]
    fn a_kind_without_a_drawable_trigger_is_never_drawn() {
        // The builtin task_fail waits for task names; with none it must simply not appear.
        let space = FaultSpace::builtin();
        let s = fault_plan(&space, &hosts());
        for seed in 0..50u8 {
            let plan = s.new_tree(&mut runner(seed)).unwrap().current();
            assert!(plan.faults.iter().all(|f| f.kind != FaultKind::TaskFail));
        }
    }

    #[test]
    fn no_rollout_hosts_do_not_panic() {
        let s = case(&FaultSpace::builtin(), &[]);
        let c = s.new_tree(&mut runner(3)).unwrap().current();
        assert!(c.hosts.is_empty());
        assert!(c
            .plan
            .faults
            .iter()
            .all(|f| f.hosts.as_deref() == Some("all")));
    }
}
