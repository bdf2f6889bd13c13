//! `fleetsim lab SCENARIO`: runs a lab's steps (`SCENARIO/lab.yml`) one after another on
//! one fleet, as a student types the lab's commands: each step prints the command, what it
//! shows, and whether it ended as the lab says it should. The fleet, its files and its
//! clock carry over from step to step.

use std::path::{Path, PathBuf};

use clap::Parser;
use serde::Deserialize;

use crate::cli::{Cli, Command};
use crate::playbook_cmd::{self, Session};

/// A `lab.yml`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LabFile {
    pub title: String,
    /// Inventory, fleet model: relative to the scenario folder.
    pub inventory: String,
    pub fleet: String,
    /// Seed of every step (`--seed` overrides it).
    #[serde(default)]
    pub seed: Option<u64>,
    /// Virtual time the first step starts (`--start-time` overrides it).
    #[serde(default)]
    pub start_time: Option<String>,
    /// Virtual seconds between two steps (the student reading and typing): restarts and
    /// faults of one step have settled when the next begins.
    #[serde(default = "default_gap")]
    pub gap_seconds: f64,
    pub steps: Vec<LabStep>,
}

fn default_gap() -> f64 {
    60.0
}

/// One command of the lab.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LabStep {
    pub name: String,
    /// What the student should look for.
    #[serde(default)]
    pub explain: Option<String>,
    pub playbook: String,
    /// More `fleetsim playbook` options (`--limit ...`, `-e ...`).
    #[serde(default)]
    pub args: Vec<String>,
    /// A fault plan for this step.
    #[serde(default)]
    pub faults: Option<String>,
    /// The exit status the step should end with (2: the playbook fails, as in the lab).
    #[serde(default)]
    pub expect: i32,
}

#[derive(Debug, clap::Args)]
pub struct LabArgs {
    /// The scenario folder (with lab.yml).
    #[arg(value_name = "SCENARIO")]
    pub scenario: PathBuf,
    /// Seed of every step (default: the lab's).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Virtual time of the first step, RFC 3339 (default: the lab's, else now).
    #[arg(long = "start-time", value_name = "RFC3339")]
    pub start_time: Option<String>,
    /// Keep the hosts' files under DIR (default: a temporary folder removed at exit).
    #[arg(long, value_name = "DIR")]
    pub sandbox: Option<PathBuf>,
    /// Run only the first N steps.
    #[arg(long, value_name = "N")]
    pub steps: Option<usize>,
    /// `--html`, `--trace`, `--junit`: one page with a section per step, the steps one
    /// after another on one trace, a JUnit test case per step.
    #[command(flatten)]
    pub reports: crate::cli::ReportOpts,
}

/// The command line of a step, as the student would type it from here.
fn step_argv(dir: &Path, lab: &LabFile, step: &LabStep, seed: u64) -> Vec<String> {
    let rel = |p: &str| dir.join(p).display().to_string();
    let mut argv = vec![
        "fleetsim".to_string(),
        "playbook".into(),
        "-i".into(),
        rel(&lab.inventory),
        rel(&step.playbook),
    ];
    argv.extend(step.args.iter().cloned());
    argv.extend(["--fleet".into(), rel(&lab.fleet)]);
    if let Some(f) = &step.faults {
        argv.extend(["--faults".into(), rel(f)]);
    }
    argv.extend(["--seed".into(), seed.to_string()]);
    argv
}

pub fn run(a: &LabArgs) -> i32 {
    let lab_path = a.scenario.join("lab.yml");
    let lab: LabFile = match fleetsim_engine::yaml::load_typed(&lab_path, "lab") {
        Ok(l) => l,
        Err(e) => {
            eprintln!("[ERROR]: {e}");
            return 4;
        }
    };
    let seed = a.seed.or(lab.seed).unwrap_or(0);
    let start_time = a.start_time.clone().or(lab.start_time.clone());
    // One sandbox for every step: what a step leaves on the hosts, the next one finds.
    let temp;
    let sandbox = match &a.sandbox {
        Some(d) => d.clone(),
        None => match tempfile::Builder::new()
            .prefix("fleetsim-lab-")
            .tempdir_in(crate::check::runner::default_scratch())
        {
            Ok(t) => {
                temp = t;
                crate::interrupt::remove_on_interrupt(temp.path().to_path_buf());
                temp.path().to_path_buf()
            }
            Err(e) => {
                eprintln!("[ERROR]: cannot create a sandbox folder: {e}");
                return 1;
            }
        },
    };
    let steps: Vec<&LabStep> = lab
        .steps
        .iter()
        .take(a.steps.unwrap_or(usize::MAX))
        .collect();
    println!("{}", lab.title);
    println!("{}", "=".repeat(lab.title.chars().count()));
    let mut session = Session {
        records: a.reports.any().then(Vec::new),
        ..Session::default()
    };
    let mut results = Vec::new();
    for (n, step) in steps.iter().enumerate() {
        let argv = step_argv(&a.scenario, &lab, step, seed);
        println!();
        println!("STEP {}/{}: {}", n + 1, steps.len(), step.name);
        if let Some(text) = &step.explain {
            for line in text.trim_end().lines() {
                println!("  {line}");
            }
        }
        let shown: Vec<String> = argv
            .iter()
            .map(|s| crate::check::artifacts::shell_quote(s))
            .collect();
        println!("$ {}", shown.join(" "));
        if let Some(t) = session.next_start.as_mut() {
            *t += lab.gap_seconds.max(0.0);
        }
        session.replay = Some(shown.join(" "));
        let mut full = argv.clone();
        full.extend(["--sandbox".into(), sandbox.display().to_string()]);
        if n == 0 {
            if let Some(t) = &start_time {
                full.extend(["--start-time".into(), t.clone()]);
            }
        }
        let code = match Cli::try_parse_from(&full) {
            Ok(Cli {
                command: Command::Playbook(p),
            }) => playbook_cmd::run_in(&p, &mut session),
            Ok(_) => 5,
            Err(e) => {
                eprintln!("[ERROR]: step {} of {}: {e}", n + 1, lab_path.display());
                5
            }
        };
        let verdict = if code == step.expect {
            "as the lab expects"
        } else {
            "NOT what the lab expects"
        };
        println!("--> exit {code} (expected {}): {verdict}", step.expect);
        if let Some(records) = session.records.as_mut() {
            // A step that stopped before running (bad options) still counts in the reports.
            if records.last().is_none_or(|r| r.expected_exit.is_some()) {
                records.push(crate::report::RunRecord {
                    title: String::new(),
                    replay: shown.join(" "),
                    playbooks: vec![step.playbook.clone()],
                    seed,
                    start_time: String::new(),
                    exit_code: code,
                    expected_exit: None,
                    events: Vec::new(),
                    recap: Vec::new(),
                    report: None,
                    groups: Default::default(),
                });
            }
            if let Some(record) = records.last_mut() {
                record.title = step.name.clone();
                record.expected_exit = Some(step.expect);
            }
        }
        results.push((step.name.clone(), code, step.expect));
    }
    if let Some(records) = &session.records {
        let suites = [crate::report::junit::lab_suite(&lab.title, records)];
        if let Err(e) = crate::report::write_files(&a.reports, &lab.title, records, &suites) {
            eprintln!("[ERROR]: {e}");
            return 1;
        }
    }
    println!();
    println!("LAB SUMMARY");
    for (i, (name, code, expect)) in results.iter().enumerate() {
        let mark = if code == expect { "ok" } else { "UNEXPECTED" };
        println!("  {:>2}. {name:<58} exit {code:<3} {mark}", i + 1);
    }
    if results.iter().all(|(_, c, e)| c == e) {
        0
    } else {
        1
    }
}
