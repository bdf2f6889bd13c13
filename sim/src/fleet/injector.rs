//! Turns a fault plan into windows of virtual time per target host: a time trigger opens
//! its window when the plan is loaded, a task or restart trigger when that happens on the
//! host. The fleet and the engine ask "is a fault of this kind on this host now?".

use indexmap::{IndexMap, IndexSet};

use super::faults::{FaultKind, FaultPlan, FaultRule, TaskEdge, Trigger};
use crate::rng::Stream;

/// A window during which a rule acts on a host, in epoch seconds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Window {
    pub from: f64,
    pub until: f64,
}

impl Window {
    pub fn contains(&self, t: f64) -> bool {
        t >= self.from && t < self.until
    }
}

/// One rule with its targets resolved and the windows opened so far.
#[derive(Debug, Clone)]
pub struct Armed {
    pub rule: FaultRule,
    /// Target hosts (for a partition: both sides).
    pub targets: Vec<String>,
    /// partition: the two sides.
    pub sides: Option<(Vec<String>, Vec<String>)>,
    /// Windows per target host (a partition keeps its windows under every host of both
    /// sides).
    pub windows: IndexMap<String, Vec<Window>>,
    /// A task trigger's `host:` hosts: a task there opens every target's window.
    pub trigger_hosts: Option<Vec<String>>,
}

/// Every rule of the plan, armed.
#[derive(Debug, Clone)]
pub struct Injector {
    pub armed: Vec<Armed>,
    start: f64,
    /// Draws for probabilistic rules, from (seed, "faults").
    rng: Stream,
    /// One-shot effects (a crash, its recovery) already applied: (rule, host, from, end?).
    applied: IndexSet<(usize, String, u64, bool)>,
}

impl Injector {
    /// Arms a plan; `resolve` turns a host pattern into inventory hosts.
    pub fn new(
        plan: &FaultPlan,
        start: f64,
        seed: u64,
        resolve: &dyn Fn(&str) -> Vec<String>,
    ) -> Result<Injector, String> {
        let mut armed = Vec::new();
        let mut rng = Stream::derive(seed, "#faults");
        for (i, rule) in plan.faults.iter().enumerate() {
            let n = i + 1;
            let (targets, sides) = if rule.kind == FaultKind::Partition {
                let Some([a, b]) = &rule.between else {
                    return Err(format!(
                        "fault {n} (partition) needs `between: [SIDE_A, SIDE_B]`"
                    ));
                };
                let (a, b) = (resolve(a), resolve(b));
                if a.is_empty() || b.is_empty() {
                    return Err(format!(
                        "fault {n} (partition): a side of `between` matches no host"
                    ));
                }
                let mut all = a.clone();
                all.extend(b.iter().filter(|h| !a.contains(h)).cloned());
                (all, Some((a, b)))
            } else {
                let Some(pattern) = &rule.hosts else {
                    return Err(format!("fault {n} ({}) needs `hosts:`", rule.kind.name()));
                };
                let hosts = resolve(pattern);
                if hosts.is_empty() {
                    return Err(format!(
                        "fault {n} ({}): hosts `{pattern}` match no host",
                        rule.kind.name()
                    ));
                }
                (hosts, None)
            };
            check_fields(n, rule)?;
            let trigger_hosts = match &rule.at {
                Some(Trigger::Task { host: Some(p), .. }) => {
                    let hosts = resolve(p);
                    if hosts.is_empty() {
                        return Err(format!(
                            "fault {n} ({}): `at: {{host: {p}}}` matches no host",
                            rule.kind.name()
                        ));
                    }
                    Some(hosts)
                }
                _ => None,
            };
            let mut a = Armed {
                rule: rule.clone(),
                targets,
                sides,
                windows: IndexMap::new(),
                trigger_hosts,
            };
            match &rule.at {
                None => a.open_all(start, &mut rng),
                Some(Trigger::Time { time }) => a.open_all(start + time.max(0.0), &mut rng),
                Some(_) => {}
            }
            armed.push(a);
        }
        Ok(Injector {
            armed,
            start,
            rng,
            applied: IndexSet::new(),
        })
    }

    /// A task started or ended on `host`: opens the windows of rules triggered by it.
    pub fn on_task(&mut self, host: &str, task: &str, edge: TaskEdge, now: f64) {
        let rng = &mut self.rng;
        for a in &mut self.armed {
            let Some(Trigger::Task { task: t, when, .. }) = &a.rule.at else {
                continue;
            };
            if t != task || *when != edge {
                continue;
            }
            match &a.trigger_hosts {
                // Each target's window opens once: the task may run on several such hosts.
                Some(on) if on.iter().any(|h| h == host) => {
                    for target in a.targets.clone() {
                        if !a.windows.contains_key(&target) {
                            a.open(&target, now, rng);
                        }
                    }
                }
                Some(_) => {}
                None if a.targets.iter().any(|h| h == host) => a.open(host, now, rng),
                None => {}
            }
        }
    }

    /// `host` began its `n`th restart: opens the windows of rules triggered by it.
    pub fn on_restart(&mut self, host: &str, n: u32, now: f64) {
        let rng = &mut self.rng;
        for a in &mut self.armed {
            if let Some(Trigger::Restart { restart }) = &a.rule.at {
                if *restart == n && a.targets.iter().any(|h| h == host) {
                    a.open(host, now, rng);
                }
            }
        }
    }

    /// The first rule of `kind` acting on `host` at `now`.
    pub fn active(&self, kind: FaultKind, host: &str, now: f64) -> Option<&FaultRule> {
        self.armed
            .iter()
            .filter(|a| a.rule.kind == kind)
            .find(|a| {
                a.windows
                    .get(host)
                    .is_some_and(|ws| ws.iter().any(|w| w.contains(now)))
            })
            .map(|a| &a.rule)
    }

    /// Whether a partition separates `a` and `b` at `now`.
    pub fn partitioned(&self, a: &str, b: &str, now: f64) -> bool {
        self.armed
            .iter()
            .filter(|r| r.rule.kind == FaultKind::Partition)
            .any(|r| {
                let Some((x, y)) = &r.sides else { return false };
                let across = (x.iter().any(|h| h == a) && y.iter().any(|h| h == b))
                    || (x.iter().any(|h| h == b) && y.iter().any(|h| h == a));
                across
                    && r.windows
                        .get(a)
                        .is_some_and(|ws| ws.iter().any(|w| w.contains(now)))
            })
    }

    /// task_fail on `host` at `now`: the message, when the rule fires (its probability is
    /// drawn from the run's seed, so the same run fails the same tasks).
    pub fn task_failure(&mut self, host: &str, now: f64) -> Option<String> {
        let rule = self.active(FaultKind::TaskFail, host, now)?.clone();
        let p = rule.probability.unwrap_or(1.0);
        if p < 1.0 && self.rng.unit() >= p {
            return None;
        }
        Some(
            rule.message
                .unwrap_or_else(|| "fault injected by fleetsim: task_fail".to_string()),
        )
    }

    /// The first window edge (state may change there) after `after` and up to `until`, if
    /// any: the fleet's event loop asks before every event, so it allocates nothing.
    pub fn first_edge_between(&self, after: f64, until: f64) -> Option<f64> {
        self.edges_in(after, until).min_by(f64::total_cmp)
    }

    fn edges_in(&self, after: f64, until: f64) -> impl Iterator<Item = f64> + '_ {
        self.armed
            .iter()
            .flat_map(|a| a.windows.values().flatten())
            .flat_map(|w| [w.from, w.until])
            .filter(move |t| *t > after && *t <= until && t.is_finite())
    }

    /// Windows of `kind` that begin in (after, until]: (host, rule, window).
    pub fn starting_between(
        &self,
        kind: FaultKind,
        after: f64,
        until: f64,
    ) -> Vec<(String, FaultRule, Window)> {
        let mut out = Vec::new();
        for a in self.armed.iter().filter(|a| a.rule.kind == kind) {
            for (h, ws) in &a.windows {
                for w in ws.iter().filter(|w| w.from > after && w.from <= until) {
                    out.push((h.clone(), a.rule.clone(), *w));
                }
            }
        }
        out.sort_by(|x, y| x.2.from.total_cmp(&y.2.from));
        out
    }

    /// Windows of `kind` that end in (after, until].
    pub fn ending_between(&self, kind: FaultKind, after: f64, until: f64) -> Vec<(String, f64)> {
        let mut out = Vec::new();
        for a in self.armed.iter().filter(|a| a.rule.kind == kind) {
            for (h, ws) in &a.windows {
                for w in ws.iter().filter(|w| w.until > after && w.until <= until) {
                    out.push((h.clone(), w.until));
                }
            }
        }
        out.sort_by(|x, y| x.1.total_cmp(&y.1));
        out
    }

    /// Starts and ends of windows of one-shot kinds (crash, primary_crash) reached by `now`
    /// and not yet acted on: (kind, host, true for an end), in plan order. Each is returned
    /// once.
    pub fn due_one_shots(&mut self, now: f64) -> Vec<(FaultKind, String, bool)> {
        let mut out = Vec::new();
        for (i, a) in self.armed.iter().enumerate() {
            if !matches!(a.rule.kind, FaultKind::Crash | FaultKind::PrimaryCrash) {
                continue;
            }
            for (h, ws) in &a.windows {
                for w in ws {
                    for (edge, end) in [(w.from, false), (w.until, true)] {
                        if edge <= now && self.applied.insert((i, h.clone(), edge.to_bits(), end)) {
                            out.push((a.rule.kind, h.clone(), end));
                        }
                    }
                }
            }
        }
        out
    }

    /// Ends of one-shot windows not acted on yet, whatever their time: a run that ends
    /// takes its faults with it (the next command of a lab starts without them).
    pub fn pending_ends(&mut self) -> Vec<(FaultKind, String, bool)> {
        let mut out = Vec::new();
        for (i, a) in self.armed.iter().enumerate() {
            if !matches!(a.rule.kind, FaultKind::Crash | FaultKind::PrimaryCrash) {
                continue;
            }
            for (h, ws) in &a.windows {
                for w in ws {
                    let started = self
                        .applied
                        .contains(&(i, h.clone(), w.from.to_bits(), false));
                    if started && self.applied.insert((i, h.clone(), w.until.to_bits(), true)) {
                        out.push((a.rule.kind, h.clone(), true));
                    }
                }
            }
        }
        out
    }

    /// Virtual seconds since the run started (for messages).
    pub fn elapsed(&self, t: f64) -> f64 {
        t - self.start
    }
}

impl Armed {
    fn open_all(&mut self, from: f64, rng: &mut Stream) {
        // A partition opens on both sides at once (see `open`).
        let hosts = if self.sides.is_some() {
            self.targets.iter().take(1).cloned().collect()
        } else {
            self.targets.clone()
        };
        for h in hosts {
            self.open(&h, from, rng);
        }
    }

    /// Opens a window on `host` from `from`, unless the rule's `probability` says this
    /// occasion passes (task_fail draws per task instead, in [`Injector::task_failure`]).
    fn open(&mut self, host: &str, from: f64, rng: &mut Stream) {
        if let Some(p) = self.rule.probability {
            if self.rule.kind != FaultKind::TaskFail && p < 1.0 && rng.unit() >= p {
                return;
            }
        }
        let until = match self.rule.duration {
            Some(d) => from + d.max(0.0),
            None => f64::INFINITY,
        };
        let w = Window { from, until };
        // A partition acts on both sides together, so its window opens for every host.
        let hosts = if self.sides.is_some() {
            self.targets.clone()
        } else {
            vec![host.to_string()]
        };
        for h in hosts {
            self.windows.entry(h).or_default().push(w);
        }
    }
}

/// The fields a kind needs, with their ranges.
fn check_fields(n: usize, rule: &FaultRule) -> Result<(), String> {
    let kind = rule.kind.name();
    let need = |v: Option<f64>, field: &str| -> Result<(), String> {
        match v {
            None => Err(format!("fault {n} ({kind}) needs `{field}:`")),
            Some(x) if !x.is_finite() || x < 0.0 => Err(format!(
                "fault {n} ({kind}): `{field}: {x}` must be 0 or more"
            )),
            Some(_) => Ok(()),
        }
    };
    match rule.kind {
        FaultKind::SlowRestart => need(rule.seconds, "seconds")?,
        FaultKind::Latency => need(rule.delay, "delay")?,
        FaultKind::ReplicaLag => need(rule.lag, "lag")?,
        FaultKind::ClockSkew if rule.offset.is_none() => {
            return Err(format!("fault {n} ({kind}) needs `offset:`"));
        }
        _ => {}
    }
    if let Some(p) = rule.probability {
        if !(0.0..=1.0).contains(&p) {
            return Err(format!(
                "fault {n} ({kind}): `probability: {p}` must be between 0 and 1"
            ));
        }
    }
    if let Some(s) = rule.status {
        if !(100..=599).contains(&s) {
            return Err(format!(
                "fault {n} ({kind}): `status: {s}` is not an HTTP status"
            ));
        }
    }
    if let Some(d) = rule.duration {
        if !d.is_finite() || d < 0.0 {
            return Err(format!("fault {n} ({kind}): `for: {d}` must be 0 or more"));
        }
    }
    if let Some(Trigger::Time { time }) = &rule.at {
        if !time.is_finite() || *time < 0.0 {
            return Err(format!(
                "fault {n} ({kind}): `at: {{time: {time}}}` must be 0 or more"
            ));
        }
    }
    if let Some(Trigger::Restart { restart: 0 }) = &rule.at {
        return Err(format!(
            "fault {n} ({kind}): `at: {{restart: 0}}`: restarts count from 1"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fleet::faults::FaultRule;

    fn resolve(p: &str) -> Vec<String> {
        match p {
            "web" => vec!["web-1".into(), "web-2".into()],
            "lb" => vec!["lb-1".into()],
            "none" => vec![],
            h => vec![h.to_string()],
        }
    }

    #[test]
    fn time_trigger_opens_a_window_for_every_target() {
        let mut r = FaultRule::new(FaultKind::Unhealthy, "web");
        r.at = Some(Trigger::Time { time: 10.0 });
        r.duration = Some(5.0);
        let inj = Injector::new(&FaultPlan { faults: vec![r] }, 100.0, 1, &resolve).unwrap();
        assert!(inj.active(FaultKind::Unhealthy, "web-2", 109.9).is_none());
        assert!(inj.active(FaultKind::Unhealthy, "web-2", 110.0).is_some());
        assert!(inj.active(FaultKind::Unhealthy, "web-1", 114.9).is_some());
        assert!(inj.active(FaultKind::Unhealthy, "web-1", 115.0).is_none());
        assert_eq!(inj.first_edge_between(100.0, 200.0), Some(110.0));
        assert_eq!(inj.first_edge_between(110.0, 200.0), Some(115.0));
        assert_eq!(inj.first_edge_between(115.0, 200.0), None);
    }

    #[test]
    fn task_and_restart_triggers_open_on_the_host_only() {
        let mut a = FaultRule::new(FaultKind::Unreachable, "web");
        a.at = Some(Trigger::Task {
            task: "Deploy".into(),
            when: TaskEdge::Start,
            host: None,
        });
        let mut b = FaultRule::new(FaultKind::SlowRestart, "web-2");
        b.at = Some(Trigger::Restart { restart: 2 });
        b.seconds = Some(40.0);
        let mut inj = Injector::new(&FaultPlan { faults: vec![a, b] }, 0.0, 1, &resolve).unwrap();
        inj.on_task("web-1", "Deploy", TaskEdge::End, 3.0);
        assert!(inj.active(FaultKind::Unreachable, "web-1", 4.0).is_none());
        inj.on_task("web-1", "Deploy", TaskEdge::Start, 5.0);
        assert!(inj.active(FaultKind::Unreachable, "web-1", 5.0).is_some());
        assert!(inj.active(FaultKind::Unreachable, "web-2", 5.0).is_none());
        inj.on_restart("web-2", 1, 6.0);
        assert!(inj.active(FaultKind::SlowRestart, "web-2", 6.0).is_none());
        inj.on_restart("web-2", 2, 7.0);
        assert!(inj.active(FaultKind::SlowRestart, "web-2", 7.0).is_some());
    }

    #[test]
    fn a_task_on_another_host_can_trigger_a_fault() {
        let mut r = FaultRule::new(FaultKind::DiskFull, "lb");
        r.at = Some(Trigger::Task {
            task: "Deploy".into(),
            when: TaskEdge::End,
            host: Some("web-2".into()),
        });
        let mut inj = Injector::new(&FaultPlan { faults: vec![r] }, 0.0, 1, &resolve).unwrap();
        inj.on_task("web-1", "Deploy", TaskEdge::End, 1.0);
        assert!(inj.active(FaultKind::DiskFull, "lb-1", 1.0).is_none());
        inj.on_task("web-2", "Deploy", TaskEdge::End, 2.0);
        assert!(inj.active(FaultKind::DiskFull, "lb-1", 2.0).is_some());
        assert!(inj.active(FaultKind::DiskFull, "web-2", 2.0).is_none());
    }

    #[test]
    fn probability_decides_each_time_a_trigger_fires() {
        let rule = |p: f64| {
            let mut r = FaultRule::new(FaultKind::SlowRestart, "web");
            r.seconds = Some(9.0);
            r.at = Some(Trigger::Restart { restart: 1 });
            r.probability = Some(p);
            r
        };
        let fired = |p: f64, seed: u64| {
            let mut inj = Injector::new(
                &FaultPlan {
                    faults: vec![rule(p)],
                },
                0.0,
                seed,
                &resolve,
            )
            .unwrap();
            inj.on_restart("web-1", 1, 1.0);
            inj.active(FaultKind::SlowRestart, "web-1", 1.0).is_some()
        };
        assert!((0..20).all(|seed| fired(1.0, seed)));
        assert!((0..20).all(|seed| !fired(0.0, seed)));
        let half: Vec<bool> = (0..40).map(|seed| fired(0.5, seed)).collect();
        assert!(half.contains(&true) && half.contains(&false));
        assert_eq!(
            half,
            (0..40).map(|seed| fired(0.5, seed)).collect::<Vec<_>>()
        );
    }

    #[test]
    fn partitions_cut_both_ways() {
        let mut r = FaultRule::new(FaultKind::Partition, "unused");
        r.hosts = None;
        r.between = Some(["lb".into(), "web-1".into()]);
        let inj = Injector::new(&FaultPlan { faults: vec![r] }, 0.0, 1, &resolve).unwrap();
        assert!(inj.partitioned("lb-1", "web-1", 1.0));
        assert!(inj.partitioned("web-1", "lb-1", 1.0));
        assert!(!inj.partitioned("lb-1", "web-2", 1.0));
    }

    #[test]
    fn bad_rules_are_explained() {
        let err = |r: FaultRule| {
            Injector::new(&FaultPlan { faults: vec![r] }, 0.0, 1, &resolve).unwrap_err()
        };
        assert_eq!(
            err(FaultRule::new(FaultKind::SlowRestart, "web")),
            "fault 1 (slow_restart) needs `seconds:`"
        );
        assert_eq!(
            err(FaultRule::new(FaultKind::Crash, "none")),
            "fault 1 (crash): hosts `none` match no host"
        );
        let mut p = FaultRule::new(FaultKind::TaskFail, "web");
        p.probability = Some(1.5);
        assert_eq!(
            err(p),
            "fault 1 (task_fail): `probability: 1.5` must be between 0 and 1"
        );
    }

    #[test]
    fn task_failures_follow_the_seed() {
        let mut r = FaultRule::new(FaultKind::TaskFail, "web");
        r.probability = Some(0.5);
        let plan = FaultPlan { faults: vec![r] };
        let draws = |seed| {
            let mut inj = Injector::new(&plan, 0.0, seed, &resolve).unwrap();
            (0..32)
                .map(|i| inj.task_failure("web-1", f64::from(i)).is_some())
                .collect::<Vec<_>>()
        };
        assert_eq!(draws(7), draws(7));
        assert!(draws(7).contains(&true) && draws(7).contains(&false));
    }
}
