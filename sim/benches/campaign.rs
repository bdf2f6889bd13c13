//! Campaign overhead: cases per second of `run_campaign` with a runner that does no work, so
//! the figure is what drawing, scheduling and bookkeeping cost per case (the real runner's
//! playbook run comes on top; `fleetsim check` on the lab measures that). Also the cost of
//! shrinking a failure found in the builtin space.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use fleetsim_sim::fleet::campaign::{run_campaign, CampaignConfig, CaseOutcome, CaseRunner, Quiet};
use fleetsim_sim::fleet::case::Case;
use fleetsim_sim::fleet::faults::FaultKind;
use fleetsim_sim::fleet::report::{InvariantResult, Report, Traffic, INVARIANTS};
use fleetsim_sim::fleet::space::FaultSpace;
use fleetsim_sim::fleet::strategy;

fn outcome(broken: bool) -> CaseOutcome {
    CaseOutcome {
        exit_code: if broken { 10 } else { 0 },
        report: Report {
            seed: 0,
            start_time: "2026-01-01T00:00:00Z".into(),
            virtual_seconds: 60.0,
            traffic: Traffic::default(),
            invariants: INVARIANTS
                .iter()
                .map(|n| InvariantResult {
                    name: n.to_string(),
                    holds: !(broken && *n == "capacity_floor"),
                    violations: vec![],
                })
                .collect(),
        },
        error: None,
        fatal: false,
    }
}

struct Holds;
impl CaseRunner for Holds {
    fn run(&self, _case: &Case) -> Result<CaseOutcome, String> {
        Ok(outcome(false))
    }
}

struct SlowWeb01;
impl CaseRunner for SlowWeb01 {
    fn run(&self, case: &Case) -> Result<CaseOutcome, String> {
        let hit = case.plan.faults.iter().any(|f| {
            f.kind == FaultKind::SlowRestart
                && f.hosts.as_deref() == Some("web-prod-01")
                && f.seconds.unwrap_or(0.0) > 5.0
        });
        Ok(outcome(hit))
    }
}

fn bench(c: &mut Criterion) {
    let hosts: Vec<String> = ["web-prod-01", "web-prod-02", "api-prod-01"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let s = strategy::case(&FaultSpace::builtin(), &hosts);
    let mut g = c.benchmark_group("campaign");
    g.throughput(Throughput::Elements(500));
    g.bench_function("500 holding cases, --jobs 2", |b| {
        let cfg = CampaignConfig {
            jobs: 2,
            ..CampaignConfig::new(1, 500)
        };
        b.iter(|| run_campaign(&s, &Holds, &cfg, &Quiet))
    });
    g.finish();
    c.bench_function("find and shrink a slow restart", |b| {
        let cfg = CampaignConfig::new(42, 500);
        b.iter(|| run_campaign(&s, &SlowWeb01, &cfg, &Quiet))
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
