//! `fleetsim check SCENARIO --playbook PLAYBOOK`: property-based testing of a rollout. Reads
//! the scenario (inventory, fleet, fault space), draws cases with the sim crate's proptest
//! strategies, runs them through a [`runner::CaseRunner`] on `--jobs` threads, shrinks the
//! first failure to a minimal case, writes it as a `--faults` plan with its replay command,
//! saves it for the next campaign, and prints a summary.
//!
//! Exit statuses: 0 every case held every invariant; 10 a counterexample was found; 5 bad
//! options (or files the options name that are missing); 4 a space file (or playbook) that
//! does not load; a playbook that cannot run aborts the campaign with its own status (4 or
//! 250); 1 anything else that stopped the campaign.

pub(crate) mod artifacts;
mod progress;
mod regressions;
pub mod runner;
mod shards;
mod space_file;

use std::io::Write;
use std::path::{Path, PathBuf};

use fleetsim_engine::exec::exit;
use fleetsim_engine::inventory::Inventory;
use fleetsim_engine::playbook::{self, Item, Playbook};
use fleetsim_sim::fleet::campaign::{
    run_campaign, CampaignConfig, CampaignResult, CaseOutcome, Observer, Shard, Verdict,
};
use fleetsim_sim::fleet::case::Case;
use fleetsim_sim::fleet::space::{FaultSpace, PathSeg, Targets};
use fleetsim_sim::fleet::strategy;

use crate::cli::{CheckArgs, CheckCmd, InventoryOpts, ReportOpts};
use runner::{CaseRunner, PlaybookSpec};

/// `fleetsim check`: a campaign, or the merge of a campaign's shards.
pub fn run_command(c: &CheckCmd) -> i32 {
    match (&c.action, &c.campaign) {
        (Some(crate::cli::CheckAction::Merge(m)), _) => shards::merge(m),
        (None, a) => run(a),
    }
}

/// Exit status when a counterexample was found (as `fleetsim playbook` when the playbook
/// succeeded but an invariant broke).
pub const COUNTEREXAMPLE: i32 = 10;

/// Exit status for a space file that does not load.
pub const BAD_SPACE: i32 = 4;

/// Everything a campaign needs, checked.
pub struct Setup {
    pub spec: PlaybookSpec,
    /// The hosts a case may roll out to: the play hosts within --limit.
    pub rollout: Vec<String>,
    pub space: FaultSpace,
    /// The space file, or `None` for the built-in space.
    pub space_path: Option<PathBuf>,
    pub cfg: CampaignConfig,
    pub out_dir: PathBuf,
    /// Where the cases' sandboxes go (`--scratch`).
    pub scratch: PathBuf,
    pub warnings: Vec<String>,
}

/// Why a campaign could not start: the exit status and the message (`None` when the
/// failing step printed it already).
#[derive(Debug)]
pub struct Fail {
    pub code: i32,
    pub message: Option<String>,
}

fn bad(message: String) -> Fail {
    Fail {
        code: exit::BAD_OPTIONS,
        message: Some(message),
    }
}

pub fn run(a: &CheckArgs) -> i32 {
    let setup = match prepare(a) {
        Ok(s) => s,
        Err(f) => {
            if let Some(m) = f.message {
                eprintln!("[ERROR]: {m}");
            }
            return f.code;
        }
    };
    for w in &setup.warnings {
        eprintln!("[WARNING]: {w}");
    }
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    say(&mut out, &header(&setup, a.seed.is_none()));
    let runner = match runner::real_runner(&setup.spec, &setup.scratch) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("[ERROR]: {}", e.message);
            return e.code;
        }
    };
    let bar = progress::Progress::new(setup.cfg.case_ids().len() as u64);
    let result = campaign(&setup, runner.as_ref(), &bar);
    bar.finish();
    let (text, code) = conclude(&setup.spec, &setup.out_dir, &result);
    say(&mut out, &text);
    if let Err(e) = shards::write_result(&setup, &result) {
        eprintln!("[ERROR]: {e}");
        return exit::ERROR;
    }
    if a.reports.any() {
        if let Err(e) = write_reports(&a.reports, &setup.spec, &setup.out_dir, &result) {
            eprintln!("[ERROR]: {e}");
            return exit::ERROR;
        }
    }
    code
}

/// `--junit`, `--html`, `--trace` of a campaign: the JUnit suite from its result; the
/// pictures from replays of the baseline (when it broke something) and the counterexample.
pub(crate) fn write_reports(
    reports: &ReportOpts,
    spec: &PlaybookSpec,
    out_dir: &Path,
    r: &CampaignResult,
) -> Result<(), String> {
    let mut replays: Vec<(String, Vec<String>)> = Vec::new();
    if let Some((case, o)) = &r.baseline {
        if !o.report.holds() {
            let argv = artifacts::replay_argv(spec, case, &spec.fleet, None);
            replays.push(("baseline: the rollout without any fault".into(), argv));
        }
    }
    if let Verdict::Counterexample(cx) = &r.verdict {
        let (plan, fleet) = artifacts::paths(out_dir, spec, cx);
        let argv = artifacts::replay_argv(spec, &cx.minimal, &fleet, Some(&plan));
        replays.push((format!("counterexample {}", cx.id), argv));
    }
    let mut records = Vec::new();
    if reports.html.is_some() || reports.trace.is_some() {
        for (title, argv) in &replays {
            let line = argv
                .iter()
                .map(|w| artifacts::shell_quote(w))
                .collect::<Vec<_>>()
                .join(" ");
            let mut session = crate::playbook_cmd::Session {
                records: Some(Vec::new()),
                replay: Some(line),
                quiet: true,
                ..Default::default()
            };
            let args = match <crate::cli::Cli as clap::Parser>::try_parse_from(argv) {
                Ok(crate::cli::Cli {
                    command: crate::cli::Command::Playbook(p),
                }) => p,
                _ => return Err(format!("cannot replay {title}")),
            };
            crate::playbook_cmd::run_in(&args, &mut session);
            for mut rec in session.records.unwrap_or_default() {
                rec.title = title.clone();
                records.push(rec);
            }
        }
    }
    let suites = [junit_suite(spec, r, &replays)];
    let title = format!("fleetsim check {}", spec.playbook.display());
    crate::report::write_files(reports, &title, &records, &suites)
}

/// A test case per invariant: failing when the counterexample (or the baseline) broke it,
/// with its violations and the command that replays the run.
fn junit_suite(
    spec: &PlaybookSpec,
    r: &CampaignResult,
    replays: &[(String, Vec<String>)],
) -> crate::report::junit::Suite {
    use crate::report::junit::{Case as TestCase, Outcome, Suite};
    let quoted = |argv: &[String]| {
        argv.iter()
            .map(|w| artifacts::shell_quote(w))
            .collect::<Vec<_>>()
            .join(" ")
    };
    let replay_of = |prefix: &str| {
        replays
            .iter()
            .find(|(t, _)| t.starts_with(prefix))
            .map(|(_, argv)| quoted(argv))
            .unwrap_or_default()
    };
    let mut cases = Vec::new();
    for name in fleetsim_sim::fleet::report::INVARIANTS {
        let broken_by = match (&r.verdict, &r.baseline) {
            (Verdict::Counterexample(cx), _) if cx.broken.iter().any(|b| b == name) => Some((
                format!("counterexample {}", cx.id),
                &cx.outcome.report,
                replay_of("counterexample"),
            )),
            (_, Some((_, o))) if o.report.broken().contains(&name) => Some((
                "the baseline (no fault)".to_string(),
                &o.report,
                replay_of("baseline"),
            )),
            _ => None,
        };
        let outcome = match broken_by {
            Some((who, report, replay)) => {
                let violations: Vec<_> = report
                    .invariants
                    .iter()
                    .filter(|i| i.name == name)
                    .flat_map(|i| i.violations.iter())
                    .collect();
                let mut output = String::new();
                for v in &violations {
                    output.push_str(&format!("at {} s: {}\n", v.at, v.detail));
                }
                output.push_str(&format!("replay: {replay}\n"));
                let first = violations
                    .first()
                    .map(|v| format!(": at {} s: {}", v.at, v.detail))
                    .unwrap_or_default();
                Outcome::Failed {
                    message: format!("broken by {who}{first}"),
                    output,
                }
            }
            None => Outcome::Passed,
        };
        let held = r.held.get(name).copied().unwrap_or(0);
        cases.push(TestCase {
            name: name.to_string(),
            classname: format!("fleetsim.check.{}", spec.playbook.display()),
            time: 0.0,
            outcome,
            system_out: format!("held in {held} of {} cases\n", r.ran),
        });
    }
    if let Verdict::Aborted(ab) = &r.verdict {
        cases.push(TestCase {
            name: "campaign".into(),
            classname: format!("fleetsim.check.{}", spec.playbook.display()),
            time: 0.0,
            outcome: Outcome::Failed {
                message: format!("{} could not run: {}", ab.id, ab.message),
                output: String::new(),
            },
            system_out: String::new(),
        });
    }
    Suite {
        name: format!("fleetsim check {}", spec.playbook.display()),
        timestamp: fleetsim_sim::clock::to_rfc3339(spec.start_time),
        cases,
    }
}

/// Writes to stdout; a closed pipe is not worth a panic.
fn say(out: &mut dyn Write, text: &str) {
    let _ = out.write_all(text.as_bytes());
    let _ = out.flush();
}

/// Checks the options and loads the scenario.
pub fn prepare(a: &CheckArgs) -> Result<Setup, Fail> {
    // clap requires both unless `merge` is given.
    let (Some(scenario), Some(playbook_path)) = (&a.scenario, &a.playbook) else {
        return Err(bad(
            "a campaign needs SCENARIO and --playbook PLAYBOOK".into()
        ));
    };
    if a.jobs == Some(0) {
        return Err(bad("--jobs must be at least 1".into()));
    }
    let jobs = a.jobs.unwrap_or_else(|| {
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
    });
    let shard = match &a.shard {
        Some(s) => shards::parse(s, |name| std::env::var(name).ok()).map_err(bad)?,
        None => Shard::WHOLE,
    };
    let start_time = fleetsim_sim::clock::parse_rfc3339(&a.start_time).ok_or_else(|| {
        bad(format!(
            "--start-time must be an RFC 3339 time such as 2026-01-01T00:00:00Z, not '{}'",
            a.start_time
        ))
    })?;
    if !scenario.is_dir() {
        return Err(bad(format!(
            "the scenario folder {} does not exist",
            scenario.display()
        )));
    }
    let inventory = if a.opts.inventory.is_empty() {
        let default = scenario.join("inventory.ini");
        if !default.exists() {
            return Err(bad(format!(
                "the scenario has no inventory: {} (give -i INVENTORY)",
                default.display()
            )));
        }
        vec![default.display().to_string()]
    } else {
        a.opts.inventory.clone()
    };
    let fleet = a
        .fleet
        .clone()
        .unwrap_or_else(|| scenario.join("fleet.yml"));
    if !fleet.is_file() {
        return Err(bad(format!(
            "no fleet model: {} (write one, or give --fleet FILE)",
            fleet.display()
        )));
    }
    if !playbook_path.is_file() {
        return Err(bad(format!(
            "the playbook: {} could not be found",
            playbook_path.display()
        )));
    }
    let mut extra = serde_json::Map::new();
    for e in &a.extra_vars {
        extra.extend(crate::playbook_cmd::parse_extra_vars(e).map_err(bad)?);
    }
    let (pb, _) = playbook::load_playbook(playbook_path, &extra).map_err(|e| Fail {
        code: e.exit_code(),
        message: Some(e.to_string()),
    })?;
    let mut inv = crate::inventory_cmd::load(&InventoryOpts {
        inventory: inventory.clone(),
        limit: a.opts.limit.clone(),
    })
    .map_err(|code| Fail {
        code,
        message: None,
    })?;
    inv.set_limit(a.opts.limit.as_deref())
        .map_err(|e| bad(e.0))?;
    let rollout = play_hosts(&pb, &inv).map_err(bad)?;
    if rollout.is_empty() {
        return Err(bad(match &a.opts.limit {
            Some(l) => format!("--limit '{l}' selects no host of the playbook's plays"),
            None => "the playbook's plays select no host of the inventory".into(),
        }));
    }
    let default_space = scenario.join("space.yml");
    let space_path = match &a.space {
        Some(p) => Some(p.clone()),
        None if default_space.is_file() => Some(default_space),
        None => None,
    };
    let mut space = match &space_path {
        Some(p) => {
            let file = space_file::load(p).map_err(|e| Fail {
                code: BAD_SPACE,
                message: Some(e.to_string()),
            })?;
            check_patterns(&file, &inv)?;
            file.space
        }
        None => FaultSpace::builtin(),
    };
    if let Some(t) = &mut space.triggers.task {
        if t.names.is_none() {
            t.names = Some(task_names(&pb));
        }
    }
    let mut warnings = Vec::new();
    let reg_path = a.out.join(regressions::FILE_NAME);
    let (saved, bad_lines) = regressions::read(&reg_path).map_err(|m| Fail {
        code: exit::ERROR,
        message: Some(m),
    })?;
    warnings.extend(bad_lines);
    let seed = a.seed.unwrap_or_else(crate::playbook_cmd::fresh_seed);
    let cfg = CampaignConfig {
        seed,
        cases: a.cases,
        jobs,
        shard,
        regressions: regressions::for_playbook(&saved, playbook_path),
        max_shrink_runs: a.max_shrink_runs,
        baseline_broken: Vec::new(),
    };
    Ok(Setup {
        spec: PlaybookSpec {
            inventory,
            playbook: playbook_path.clone(),
            fleet,
            extra_vars: a.extra_vars.clone(),
            tags: a.tags.clone(),
            skip_tags: a.skip_tags.clone(),
            start_time,
        },
        rollout,
        space,
        space_path,
        cfg,
        out_dir: a.out.clone(),
        scratch: a.scratch.clone().unwrap_or_else(runner::default_scratch),
        warnings,
    })
}

/// The hosts of the playbook's plays within the limit, in play order then inventory order.
/// A play whose `hosts:` is templated counts as every host of the limit (or the inventory).
fn play_hosts(pb: &Playbook, inv: &Inventory) -> Result<Vec<String>, String> {
    let mut out: Vec<String> = Vec::new();
    for play in &pb.plays {
        let pattern = match &play.hosts {
            serde_json::Value::Array(items) => items
                .iter()
                .map(playbook::scalar_text)
                .collect::<Vec<_>>()
                .join(","),
            other => playbook::scalar_text(other),
        };
        let pattern = if pattern.contains("{{") {
            "all".to_string()
        } else {
            pattern
        };
        for h in inv.resolve(&pattern).map_err(|e| e.0)?.hosts {
            if !out.contains(&h) {
                out.push(h);
            }
        }
    }
    Ok(out)
}

/// Task names a task trigger may name: as the banners show them, without templated ones
/// (their banner depends on the run), each once, in playbook order.
fn task_names(pb: &Playbook) -> Vec<String> {
    fn walk(items: &[Item], out: &mut Vec<String>) {
        for i in items {
            match i {
                Item::Task(t) => {
                    let name = t.display_name();
                    if !name.contains("{{") && !out.contains(&name) {
                        out.push(name);
                    }
                }
                Item::Block(b) => {
                    walk(&b.block, out);
                    walk(&b.rescue, out);
                    walk(&b.always, out);
                }
            }
        }
    }
    let mut out = Vec::new();
    for play in &pb.plays {
        for section in [&play.pre_tasks, &play.tasks, &play.post_tasks] {
            for b in section {
                walk(&b.block, &mut out);
                walk(&b.rescue, &mut out);
                walk(&b.always, &mut out);
            }
        }
    }
    out
}

/// Every host pattern the space names must match a host of the inventory (a typo would
/// otherwise make every such fault a silent no-op).
fn check_patterns(file: &space_file::SpaceFile, inv: &Inventory) -> Result<(), Fail> {
    let mut targets: Vec<(Vec<PathSeg>, &Targets)> = Vec::new();
    if let Some(hosts) = file
        .space
        .triggers
        .task
        .as_ref()
        .and_then(|t| t.hosts.as_ref())
    {
        let path = ["triggers", "task", "hosts"].map(|k| PathSeg::Key(k.into()));
        targets.push((path.to_vec(), hosts));
    }
    for (kind, ks) in &file.space.kinds {
        let base = vec![
            PathSeg::Key("kinds".into()),
            PathSeg::Key(kind.name().into()),
        ];
        let mut p = base.clone();
        p.push(PathSeg::Key("hosts".into()));
        targets.push((p, &ks.hosts));
        if let Some(sides) = &ks.between {
            for (i, s) in sides.iter().enumerate() {
                let mut p = base.clone();
                p.push(PathSeg::Key("between".into()));
                p.push(PathSeg::Index(i));
                targets.push((p, s));
            }
        }
    }
    for (path, t) in targets {
        let is_list = matches!(t, Targets::OneOf(_));
        for (i, pattern) in t.patterns().into_iter().enumerate() {
            let mut at = path.clone();
            if is_list {
                at.push(PathSeg::Index(i));
            }
            let problem = match inv.resolve_ignoring_limit(pattern) {
                Ok(r) if r.hosts.is_empty() => Some(format!(
                    "the host pattern '{pattern}' matches no host of the inventory"
                )),
                Ok(_) => None,
                Err(e) => Some(e.0),
            };
            if let Some(m) = problem {
                return Err(Fail {
                    code: BAD_SPACE,
                    message: Some(file.error_at(&at, false, m).to_string()),
                });
            }
        }
    }
    Ok(())
}

fn header(s: &Setup, random_seed: bool) -> String {
    let cfg = &s.cfg;
    let mut t = format!(
        "fleetsim check: seed {}{}, {} cases, shard {}, {} jobs\n",
        cfg.seed,
        if random_seed {
            format!(" (replay this campaign with --seed {})", cfg.seed)
        } else {
            String::new()
        },
        cfg.cases,
        cfg.shard,
        cfg.jobs
    );
    t.push_str(&format!("playbook: {}\n", s.spec.playbook.display()));
    t.push_str(&format!("rollout hosts: {}\n", s.rollout.join(", ")));
    t.push_str(&format!(
        "fault space: {}\n",
        match &s.space_path {
            Some(p) => p.display().to_string(),
            None => "built-in (see README, `fleetsim check`)".into(),
        }
    ));
    let saved = cfg.saved_ids().len();
    if saved > 0 {
        t.push_str(&format!(
            "rerunning {saved} saved failing case{} from {} first\n",
            if saved == 1 { "" } else { "s" },
            s.out_dir.join(regressions::FILE_NAME).display()
        ));
    }
    t
}

/// Runs the campaign of `setup` with `runner`.
///
/// First the baseline: the rollout on every rollout host, on the scenario's own fleet,
/// without any fault. What it breaks, every case breaks; the campaign then looks for faults
/// that break the other invariants (a counterexample that only repeats the baseline would
/// teach nothing about faults).
pub fn campaign(setup: &Setup, runner: &dyn CaseRunner, observer: &dyn Observer) -> CampaignResult {
    let strategy = strategy::case(&setup.space, &setup.rollout);
    let base_case = Case {
        seed: setup.cfg.seed,
        hosts: setup.rollout.clone(),
        fleet: Default::default(),
        plan: Default::default(),
    };
    // A baseline that cannot run is left to the campaign's own cases to report.
    let baseline = runner.run(&base_case).ok().filter(|o| !o.fatal);
    let mut cfg = setup.cfg.clone();
    if let Some(o) = &baseline {
        cfg.baseline_broken = o.report.broken().iter().map(|s| s.to_string()).collect();
    }
    let mut result = run_campaign(&strategy, runner, &cfg, observer);
    result.baseline = baseline.map(|o| (base_case, o));
    result
}

/// The baseline's part of the summary, when it broke something: what, where, and how to
/// see it again.
fn baseline_summary(spec: &PlaybookSpec, case: &Case, o: &CaseOutcome) -> String {
    let broken = o.report.broken();
    let mut t = format!(
        "without any fault (all rollout hosts, the scenario's fleet): {} broken
",
        broken.join(", ")
    );
    for inv in o.report.invariants.iter().filter(|i| !i.holds) {
        if let Some(v) = inv.violations.first() {
            t.push_str(&format!(
                "  {} at {} s: {}
",
                inv.name, v.at, v.detail
            ));
        }
    }
    t.push_str(&format!(
        "baseline replay: {}
",
        artifacts::replay_command(spec, case, &spec.fleet, None)
    ));
    t.push_str(
        "the cases below count as failing only when they break another invariant
",
    );
    t
}

/// The summary, the files of a counterexample, and the exit status.
pub fn conclude(spec: &PlaybookSpec, out_dir: &Path, r: &CampaignResult) -> (String, i32) {
    let mut t = String::from("\n");
    let baseline_broken = match &r.baseline {
        Some((case, o)) if !o.report.holds() => {
            t.push_str(&baseline_summary(spec, case, o));
            true
        }
        _ => false,
    };
    t.push_str(&format!(
        "cases run: {}{}\n",
        r.ran,
        if r.regressions_ran > 0 {
            format!(
                " ({} saved, {} new)",
                r.regressions_ran,
                r.ran - r.regressions_ran
            )
        } else {
            String::new()
        }
    ));
    // A case that panicked is a failing case (a fleetsim bug), shown with its replay
    // command; the campaign went on past it.
    for a in &r.panicked {
        t.push_str(&format!("failed: {} panicked: {}\n", a.id, a.message));
        if let Some(case) = &a.case {
            t.push_str(&format!(
                "replay: {}\n",
                artifacts::replay_command(spec, case, &spec.fleet, None)
            ));
        }
    }
    if !r.held.is_empty() {
        t.push_str("invariants held:\n");
        let width = r.held.keys().map(String::len).max().unwrap_or(0);
        for (name, n) in &r.held {
            t.push_str(&format!("  {name:<width$}  {n}/{}\n", r.ran));
        }
    }
    match &r.verdict {
        Verdict::Held if baseline_broken => {
            t.push_str("no case broke any other invariant\n");
            (t, COUNTEREXAMPLE)
        }
        Verdict::Held if !r.panicked.is_empty() => {
            t.push_str(&format!(
                "{} case(s) panicked; every other case held every invariant\n",
                r.panicked.len()
            ));
            (t, exit::UNEXPECTED)
        }
        Verdict::Held => {
            t.push_str("every case held every invariant\n");
            (t, exit::OK)
        }
        Verdict::Aborted(a) => {
            t.push_str(&format!("stopped: {} could not run\n", a.id));
            let status = match a.exit_code {
                Some(c) => format!(" (exit status {c})"),
                None => String::new(),
            };
            eprintln!("[ERROR]: {} could not run{status}: {}", a.id, a.message);
            (t, a.exit_code.unwrap_or(exit::ERROR))
        }
        Verdict::Counterexample(cx) => {
            let hosts = |n: usize| if n == 1 { "host" } else { "hosts" };
            let faults = |n: usize| if n == 1 { "fault" } else { "faults" };
            let (f0, h0) = (cx.found.plan.faults.len(), cx.found.hosts.len());
            t.push_str(&format!(
                "found: {} broke {} with {f0} {} on {h0} {}\n",
                cx.id,
                cx.broken.join(", "),
                faults(f0),
                hosts(h0),
            ));
            let (f1, h1) = (cx.minimal.plan.faults.len(), cx.minimal.hosts.len());
            t.push_str(&format!(
                "shrunk in {} runs ({} steps) to {f1} {} on {h1} {} ({}):\n",
                cx.shrink_runs,
                cx.shrink_steps,
                faults(f1),
                hosts(h1),
                cx.minimal.hosts.join(", ")
            ));
            for f in &cx.minimal.plan.faults {
                t.push_str(&format!("  - {}\n", artifacts::describe(f)));
            }
            if let Some(s) = cx.minimal.fleet.restart_seconds {
                t.push_str(&format!("  - fleet: restart_seconds {s}\n"));
            }
            if let Some(r) = cx.minimal.fleet.requests_per_second {
                t.push_str(&format!("  - fleet: requests_per_second {r}\n"));
            }
            for inv in cx.outcome.report.invariants.iter().filter(|i| !i.holds) {
                match inv.violations.first() {
                    Some(v) => {
                        let mut line = format!("  {} at {} s", inv.name, v.at);
                        if !v.hosts.is_empty() {
                            line.push_str(&format!(" on {}", v.hosts.join(", ")));
                        }
                        if let Some(lb) = &v.lb {
                            line.push_str(&format!(" via {lb}"));
                        }
                        if let Some(task) = &v.task {
                            line.push_str(&format!(" (task \"{task}\")"));
                        }
                        line.push_str(&format!(": {}\n", v.detail));
                        t.push_str(&line);
                    }
                    None => t.push_str(&format!("  {} broken\n", inv.name)),
                }
            }
            let written = match artifacts::write(out_dir, spec, cx) {
                Ok(w) => w,
                Err(m) => {
                    eprintln!("[ERROR]: {m}");
                    return (t, exit::ERROR);
                }
            };
            let note = format!(
                "{} broken; minimal: {f1} {} on {}",
                cx.broken.join(", "),
                faults(f1),
                cx.minimal.hosts.join(",")
            );
            if let Err(m) = regressions::append(
                &out_dir.join(regressions::FILE_NAME),
                cx.id,
                &spec.playbook,
                &note,
            ) {
                eprintln!("[WARNING]: the failing case was not saved: {m}");
            }
            t.push_str(&format!("fleet report: {}\n", written.report.display()));
            t.push_str(&format!("counterexample: {}\n", written.plan.display()));
            t.push_str(&format!("replay: {}\n", written.replay));
            (t, COUNTEREXAMPLE)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use fleetsim_sim::fleet::campaign::{CaseOutcome, Quiet};
    use fleetsim_sim::fleet::case::Case;
    use fleetsim_sim::fleet::faults::FaultKind;
    use fleetsim_sim::fleet::report::{InvariantResult, Report, Traffic, Violation, INVARIANTS};
    use std::path::Path;

    const FLEET: &str = "apps:\n  - hosts: web\n    port_var: web_port\n    config: /tmp/app-{host}/config.toml\n    restart_seconds: 0.1\nload_balancers: []\n";

    /// Breaks capacity_floor when a slow restart of more than 5 s hits web-01 while web-01
    /// is in the rollout.
    struct Fake;

    impl CaseRunner for Fake {
        fn run(&self, case: &Case) -> Result<CaseOutcome, String> {
            let rolled = case.hosts.iter().any(|h| h == "web-01");
            let slow = case.plan.faults.iter().any(|f| {
                f.kind == FaultKind::SlowRestart
                    && f.hosts.as_deref() == Some("web-01")
                    && f.seconds.unwrap_or(0.0) > 5.0
            });
            let broken = rolled && slow;
            Ok(CaseOutcome {
                exit_code: if broken { 10 } else { 0 },
                report: Report {
                    seed: case.seed,
                    start_time: "2026-01-01T00:00:00Z".into(),
                    virtual_seconds: 30.0,
                    traffic: Traffic::default(),
                    invariants: INVARIANTS
                        .iter()
                        .map(|n| {
                            let hit = broken && *n == "capacity_floor";
                            InvariantResult {
                                name: n.to_string(),
                                holds: !hit,
                                violations: if hit {
                                    vec![Violation {
                                        at: 12.4,
                                        hosts: vec!["web-01".into(), "web-02".into()],
                                        lb: Some("lb-01".into()),
                                        task: Some("Deploy".into()),
                                        detail: "2 of 3 backends out of rotation".into(),
                                    }]
                                } else {
                                    vec![]
                                },
                            }
                        })
                        .collect(),
                },
                error: None,
                fatal: false,
            })
        }
    }

    /// A scenario folder: inventory, fleet, a playbook.
    fn scenario() -> tempfile::TempDir {
        let d = tempfile::tempdir().unwrap();
        std::fs::write(
            d.path().join("inventory.ini"),
            "[web]\nweb-01 web_port=8080\nweb-02 web_port=8081\nweb-03 web_port=8082\n[lb]\nlb-01\n",
        )
        .unwrap();
        std::fs::write(d.path().join("fleet.yml"), FLEET).unwrap();
        std::fs::write(
            d.path().join("deploy.yml"),
            "- hosts: web\n  serial: 1\n  tasks:\n    - name: Deploy\n      debug: msg=x\n    - name: Check {{ inventory_hostname }}\n      debug: msg=y\n",
        )
        .unwrap();
        d
    }

    fn args(dir: &Path, extra: &[&str]) -> CheckArgs {
        use clap::Parser;
        let scenario = dir.display().to_string();
        let playbook = dir.join("deploy.yml").display().to_string();
        let out = dir.join("out").display().to_string();
        let mut argv = vec![
            "fleetsim",
            "check",
            &scenario,
            "--playbook",
            &playbook,
            "--out",
            &out,
        ];
        // Defaults of these tests, unless a test gives its own.
        for (opt, value) in [("--seed", "42"), ("--cases", "300")] {
            if !extra.contains(&opt) {
                argv.extend([opt, value]);
            }
        }
        argv.extend_from_slice(extra);
        match crate::cli::Cli::parse_from(argv).command {
            crate::cli::Command::Check(c) => c.campaign,
            _ => unreachable!(),
        }
    }

    #[test]
    fn setup_reads_the_scenario() {
        let d = scenario();
        let s = prepare(&args(d.path(), &["--jobs", "2", "--shard", "1/2"])).unwrap();
        assert_eq!(s.rollout, vec!["web-01", "web-02", "web-03"]);
        assert_eq!(s.cfg.jobs, 2);
        assert_eq!(s.cfg.shard, Shard::parse("1/2").unwrap());
        assert_eq!(s.space_path, None);
        // Task triggers draw the playbook's (untemplated) task names.
        assert_eq!(
            s.space.triggers.task.as_ref().unwrap().names,
            Some(vec!["Deploy".to_string()])
        );
        let s = prepare(&args(d.path(), &["-l", "web-02,lb-01"])).unwrap();
        assert_eq!(s.rollout, vec!["web-02"]);
    }

    #[test]
    fn bad_options_are_exit_5() {
        let d = scenario();
        for extra in [
            &["--shard", "3/2"][..],
            &["--jobs", "0"],
            &["--start-time", "yesterday"],
            &["-l", "lb-01"],
            &["--fleet", "/nonexistent/fleet.yml"],
        ] {
            let f = prepare(&args(d.path(), extra)).err().unwrap();
            assert_eq!(f.code, exit::BAD_OPTIONS, "{extra:?}: {:?}", f.message);
        }
    }

    #[test]
    fn a_space_pattern_that_matches_nothing_is_a_space_error() {
        let d = scenario();
        std::fs::write(
            d.path().join("space.yml"),
            "kinds:\n  unreachable:\n    hosts: [lb-01, lb-99]\n",
        )
        .unwrap();
        let f = prepare(&args(d.path(), &[])).err().unwrap();
        assert_eq!(f.code, BAD_SPACE);
        let m = f.message.unwrap();
        assert!(
            m.contains(
                "space.yml:3:20: invalid fault space: the host pattern 'lb-99' matches no host of the inventory"
            ),
            "{m}"
        );
        assert!(m.contains("space.yml:3:20"), "{m}");
    }

    #[test]
    fn task_trigger_hosts_must_match_the_inventory_too() {
        let d = scenario();
        let space = |hosts: &str| {
            format!(
                "triggers:\n  task:\n    when: [start]\n    hosts: {hosts}\nkinds:\n  task_fail: {{at: [task]}}\n"
            )
        };
        std::fs::write(d.path().join("space.yml"), space("[web-01, lb-01]")).unwrap();
        let s = prepare(&args(d.path(), &[])).unwrap();
        let task = s.space.triggers.task.unwrap();
        assert_eq!(
            task.hosts,
            Some(Targets::OneOf(vec!["web-01".into(), "lb-01".into()]))
        );
        assert_eq!(task.names, Some(vec!["Deploy".to_string()]));
        std::fs::write(d.path().join("space.yml"), space("[web-01, web-99]")).unwrap();
        let f = prepare(&args(d.path(), &[])).err().unwrap();
        assert_eq!(f.code, BAD_SPACE);
        let m = f.message.unwrap();
        assert!(
            m.contains(
                "space.yml:4:21: invalid fault space: the host pattern 'web-99' matches no host of the inventory"
            ),
            "{m}"
        );
    }

    #[test]
    fn a_campaign_finds_shrinks_writes_and_saves_a_counterexample() {
        let d = scenario();
        let s = prepare(&args(d.path(), &["--jobs", "2"])).unwrap();
        let r = campaign(&s, &Fake, &Quiet);
        let (text, code) = conclude(&s.spec, &s.out_dir, &r);
        assert_eq!(code, COUNTEREXAMPLE, "{text}");
        let Verdict::Counterexample(cx) = &r.verdict else {
            unreachable!()
        };
        assert!(text.contains(&format!(
            "found: case {} of seed 42 broke capacity_floor",
            cx.id.index
        )));
        assert!(text.contains(" to 1 fault on 1 host (web-01):\n  - slow_restart on web-01 from the start to the end (seconds 5.001)\n  capacity_floor at 12.4 s on web-01, web-02 via lb-01 (task \"Deploy\"): 2 of 3 backends out of rotation\n"), "{text}");
        let out = d.path().join("out");
        let plan = out.join(format!("deploy-42-{}.faults.yml", cx.id.index));
        assert!(text.contains(&format!("counterexample: {}\n", plan.display())));
        let written = std::fs::read_to_string(&plan).unwrap();
        assert!(
            written.ends_with("faults:\n- kind: slow_restart\n  hosts: web-01\n  seconds: 5.001\n")
        );
        let replay = text.lines().find(|l| l.starts_with("replay: ")).unwrap();
        assert!(replay.contains(" --limit web-01 "), "{replay}");
        assert!(
            replay.contains(&format!(" --seed {} ", cx.minimal.seed)),
            "{replay}"
        );
        assert!(
            replay.ends_with(" --start-time 2026-01-01T00:00:00Z"),
            "{replay}"
        );
        // The fleet was the scenario's: no fleet file, the replay uses fleet.yml.
        assert!(replay.contains(&format!("--fleet {}", d.path().join("fleet.yml").display())));
        // The next campaign (another seed, no new cases) reruns the saved case first.
        let s2 = prepare(&args(d.path(), &["--seed", "1", "--cases", "0"])).unwrap();
        assert_eq!(s2.cfg.regressions, vec![cx.id]);
        let r2 = campaign(&s2, &Fake, &Quiet);
        let (text2, code2) = conclude(&s2.spec, &s2.out_dir, &r2);
        assert_eq!(code2, COUNTEREXAMPLE);
        assert!(text2.contains("cases run: 1 (1 saved, 0 new)"), "{text2}");
    }

    #[test]
    fn a_changed_fleet_is_written_beside_the_plan() {
        let d = scenario();
        let s = prepare(&args(d.path(), &[])).unwrap();
        // Breaks only when restarts are slower than 1.9 s.
        struct SlowFleet;
        impl CaseRunner for SlowFleet {
            fn run(&self, case: &Case) -> Result<CaseOutcome, String> {
                let mut o = Fake.run(&Case {
                    plan: Default::default(),
                    ..case.clone()
                })?;
                if case.fleet.restart_seconds.unwrap_or(0.1) > 1.9 {
                    o.exit_code = 10;
                    o.report.invariants[0].holds = false;
                }
                Ok(o)
            }
        }
        let r = campaign(&s, &SlowFleet, &Quiet);
        let (text, code) = conclude(&s.spec, &s.out_dir, &r);
        assert_eq!(code, COUNTEREXAMPLE, "{text}");
        let Verdict::Counterexample(cx) = &r.verdict else {
            unreachable!()
        };
        assert_eq!(cx.minimal.fleet.restart_seconds, Some(1.901));
        assert!(cx.minimal.plan.faults.is_empty());
        let fleet = d
            .path()
            .join("out")
            .join(format!("deploy-42-{}.fleet.yml", cx.id.index));
        let model = artifacts::load_fleet(&fleet).unwrap();
        assert_eq!(model.apps[0].restart_seconds, 1.901);
        assert!(
            text.contains(&format!("--fleet {}", fleet.display())),
            "{text}"
        );
        assert!(
            text.contains("  - fleet: restart_seconds 1.901\n"),
            "{text}"
        );
    }

    #[test]
    fn every_case_holding_is_exit_0_with_counts() {
        let d = scenario();
        let s = prepare(&args(d.path(), &["--cases", "25", "-l", "web-02"])).unwrap();
        let r = campaign(&s, &Fake, &Quiet);
        let (text, code) = conclude(&s.spec, &s.out_dir, &r);
        assert_eq!(code, exit::OK);
        assert!(text.contains("cases run: 25\n"), "{text}");
        assert!(text.contains("  capacity_floor         25/25\n"), "{text}");
        assert!(text.ends_with("every case held every invariant\n"));
        assert!(
            !d.path().join("out").exists(),
            "nothing written when all held"
        );
    }

    #[test]
    fn the_readme_shows_the_builtin_space() {
        let readme = include_str!("../../README.md");
        let start = readme
            .find("<!-- builtin-space -->\n```yaml\n")
            .expect("README marks the built-in space");
        let body = &readme[start..];
        let body = &body[body.find("```yaml\n").unwrap() + 8..];
        let body = &body[..body.find("```").unwrap()];
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("space.yml");
        std::fs::write(&p, body).unwrap();
        let loaded = space_file::load(&p).map_err(|e| e.to_string()).unwrap();
        assert_eq!(loaded.space, FaultSpace::builtin());
    }
}
