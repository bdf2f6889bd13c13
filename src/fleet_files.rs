//! The fleet's files on the command line: reading `--fleet` and `--faults`, and after the
//! run the FLEET REPORT, `--report FILE.json` and the exit status for broken invariants.

use std::path::Path;

use fleetsim_engine::exec::exit;
use fleetsim_engine::output::Display;
use fleetsim_sim::fleet::faults::FaultPlan;
use fleetsim_sim::fleet::model::FleetModel;
use fleetsim_sim::fleet::report::Report;

use crate::cli::PlaybookArgs;

/// The exit status of a run whose playbooks succeeded but whose fleet broke an invariant.
pub const INVARIANT_BROKEN: i32 = 10;

/// How many violations of each invariant the text report shows (the JSON has them all).
const SHOWN_VIOLATIONS: usize = 3;

/// Reads the fleet model and the fault plan (none: no faults).
pub fn load(fleet: &Path, faults: Option<&Path>) -> Result<(FleetModel, FaultPlan), String> {
    let model = fleetsim_engine::yaml::load_typed::<FleetModel>(fleet, "fleet model")?;
    let plan = match faults {
        Some(p) => fleetsim_engine::yaml::load_typed::<FaultPlan>(p, "fault plan")?,
        None => FaultPlan::default(),
    };
    Ok((model, plan))
}

/// Prints the FLEET REPORT after the recap, writes `--report`, and gives the exit status:
/// the playbook's own unless it succeeded and an invariant broke (then 10).
pub fn finish(display: &mut Display, report: &Report, a: &PlaybookArgs, code: i32) -> i32 {
    for line in render(report).lines() {
        if line.starts_with("FLEET REPORT") {
            display.banner("FLEET REPORT");
        } else {
            display.line(line);
        }
    }
    display.flush();
    if let Some(path) = &a.report {
        let text = match serde_json::to_string_pretty(report) {
            Ok(t) => t + "\n",
            Err(e) => {
                eprintln!("[ERROR]: cannot encode the fleet report: {e}");
                return exit::ERROR;
            }
        };
        if let Err(e) = std::fs::write(path, text) {
            eprintln!(
                "[ERROR]: cannot write the fleet report {}: {e}",
                path.display()
            );
            return exit::ERROR;
        }
    }
    if code == exit::OK && !report.holds() {
        INVARIANT_BROKEN
    } else {
        code
    }
}

/// The text of the FLEET REPORT (its first line is the banner's title).
pub fn render(report: &Report) -> String {
    let mut out = String::from("FLEET REPORT\n");
    out.push_str(&format!(
        "seed {}, start {}, {:.1} virtual seconds\n",
        report.seed, report.start_time, report.virtual_seconds
    ));
    let t = &report.traffic;
    out.push_str(&format!(
        "traffic: {} requests, {} failed\n",
        t.requests, t.failed
    ));
    for (lb, c) in &t.by_lb {
        out.push_str(&format!(
            "  {lb:<18} {:>6} requests {:>6} failed\n",
            c.requests, c.failed
        ));
    }
    out.push_str("invariants:\n");
    for inv in &report.invariants {
        let verdict = if inv.holds {
            "held".to_string()
        } else {
            let n = inv.violations.len();
            format!("BROKEN ({n} violation{})", if n == 1 { "" } else { "s" })
        };
        let dots = ".".repeat(26usize.saturating_sub(inv.name.len()));
        out.push_str(&format!("  {} {dots} {verdict}\n", inv.name));
        for v in inv.violations.iter().take(SHOWN_VIOLATIONS) {
            let task = v
                .task
                .as_deref()
                .map(|t| format!(" during [{t}]"))
                .unwrap_or_default();
            out.push_str(&format!("    at {:.1} s{task}: {}\n", v.at, v.detail));
        }
        if inv.violations.len() > SHOWN_VIOLATIONS {
            out.push_str(&format!(
                "    ... and {} more (--report FILE.json lists them all)\n",
                inv.violations.len() - SHOWN_VIOLATIONS
            ));
        }
    }
    out
}
