//! fleetsim-difftest: differential testing of fleetsim against real ansible-playbook.
//!
//! Draws random playbooks and inventories (proptest strategies, `strategy.rs`), writes each
//! as a conformance case folder, records it from real Ansible and compares fleetsim with the
//! shared conformance runner (`run.rs`), and shrinks each new kind of divergence with
//! proptest's value trees to a small case, written ready to copy into
//! `tests/conformance/cases/`.

mod model;
mod run;
mod strategy;
mod yaml;

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::Parser;
use proptest::strategy::{Strategy, ValueTree};

use model::Case;
use run::{evaluate, write_case, Kind, Outcome, Tools};

#[derive(Parser, Debug)]
#[command(
    name = "fleetsim-difftest",
    about = "Random playbooks through real ansible-playbook and fleetsim; divergences shrunk to case folders."
)]
struct Args {
    /// How many random cases to try.
    #[arg(long, default_value_t = 100)]
    cases: usize,
    /// The seed: the same seed draws the same cases.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Where the shrunk divergences (case folders) and summary.txt go.
    #[arg(long)]
    out: PathBuf,
    /// Real ansible-playbook.
    #[arg(long, default_value = "/tmp/ansible-ref/bin/ansible-playbook")]
    ansible: PathBuf,
    /// The shared conformance runner (default: ../shared/conformance/run beside the
    /// workspace, or beside its parent folder).
    #[arg(long)]
    runner: Option<PathBuf>,
    /// The fleetsim binary (default: the workspace's target/release/fleetsim).
    #[arg(long)]
    fleetsim: Option<PathBuf>,
    /// Runs of both tools allowed while shrinking one divergence.
    #[arg(long, default_value_t = 40)]
    shrink_iters: u32,
    /// How many divergences to shrink in all.
    #[arg(long, default_value_t = 20)]
    max_shrunk: usize,
    /// How many divergences of one coarse signature (kinds, first differing statuses) to
    /// shrink; the others are only listed.
    #[arg(long, default_value_t = 2)]
    per_signature: usize,
    /// Stop drawing new cases after this many seconds (0: no limit).
    #[arg(long, default_value_t = 0)]
    time_limit: u64,
    /// The folder generated file tasks write under (one per host); give each of two runs
    /// at the same time its own.
    #[arg(long, default_value = model::DEFAULT_ROOT)]
    root: String,
    /// Only print the generated cases (playbook and inventory), run nothing.
    #[arg(long)]
    print: bool,
    /// Run only these case numbers of the seed's sequence (comma-separated), for example to
    /// shrink divergences a scan with `--max-shrunk 0` listed.
    #[arg(long, value_delimiter = ',')]
    only: Vec<usize>,
}

fn workspace_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default()
}

fn default_runner() -> PathBuf {
    let ws = workspace_dir();
    let candidates = [
        ws.join("../shared/conformance/run"),
        ws.join("../../shared/conformance/run"),
    ];
    candidates
        .iter()
        .find(|p| p.is_file())
        .cloned()
        .unwrap_or_else(|| candidates[0].clone())
}

/// The divergence a shrink must keep: its first kind of difference, for a file difference
/// the statuses of the first differing lines (`events.txt: ok>failed`), and whether Ansible
/// ran a play at all (so shrinking neither wanders off to another divergence nor into
/// playbooks Ansible rejects).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Target {
    primary: Kind,
    file_part: Option<String>,
    ansible_ran: bool,
}

impl Target {
    fn file_part(outcome: &Outcome, kind: Kind) -> Option<String> {
        let file = match kind {
            Kind::Events => "events.txt",
            Kind::Recap => "recap.txt",
            Kind::Tree => "tree.txt",
            Kind::ExitStatus | Kind::Messages => return None,
        };
        outcome
            .coarse_signature()
            .split(" | ")
            .find(|p| p.starts_with(file))
            .map(str::to_string)
    }

    fn of(outcome: &Outcome) -> Option<Target> {
        outcome.kinds.first().map(|&primary| Target {
            primary,
            file_part: Target::file_part(outcome, primary),
            ansible_ran: outcome.ansible_ran,
        })
    }

    fn matched_by(&self, outcome: &Outcome) -> bool {
        outcome.kinds.contains(&self.primary)
            && outcome.ansible_ran == self.ansible_ran
            && Target::file_part(outcome, self.primary) == self.file_part
    }
}

struct Shrunk {
    case: Case,
    outcome: Outcome,
    runs: u32,
}

/// proptest's shrinking loop (as its TestRunner runs it): simplify while the divergence
/// stays, complicate back when it goes, until the budget is spent.
fn shrink<T: ValueTree<Value = Case>>(
    tree: &mut T,
    first: Outcome,
    budget: u32,
    tools: &Tools,
    scratch: &Path,
) -> Shrunk {
    let target = Target::of(&first);
    let mut best = Shrunk {
        case: tree.current(),
        outcome: first,
        runs: 0,
    };
    let Some(target) = target else { return best };
    if !tree.simplify() {
        return best;
    }
    while best.runs < budget {
        best.runs += 1;
        let candidate = tree.current();
        let dir = scratch.join("shrink");
        let verdict = write_case(&candidate, &dir, "shrinking")
            .map_err(|e| e.to_string())
            .and_then(|()| evaluate(tools, &dir));
        let still = matches!(&verdict, Ok(o) if target.matched_by(o));
        if still {
            if let Ok(outcome) = verdict {
                best.case = candidate;
                best.outcome = outcome;
            }
            if !tree.simplify() {
                break;
            }
        } else if !tree.complicate() {
            break;
        }
    }
    // proptest shrinks a tuple's members one after another, so a spent budget can leave
    // keywords beside the cause (handlers, serial, conditions on other tasks): try dropping
    // each kind of them across the whole case, one run each.
    for simplify in model::CLEANUPS {
        let mut candidate = best.case.clone();
        if !simplify(&mut candidate) {
            continue;
        }
        best.runs += 1;
        let dir = scratch.join("shrink");
        let verdict = write_case(&candidate, &dir, "shrinking")
            .map_err(|e| e.to_string())
            .and_then(|()| evaluate(tools, &dir));
        if let Ok(outcome) = verdict {
            if target.matched_by(&outcome) {
                best.case = candidate;
                best.outcome = outcome;
            }
        }
    }
    best
}

fn copy_tree(from: &Path, to: &Path) -> std::io::Result<()> {
    fs::create_dir_all(to)?;
    for entry in fs::read_dir(from)? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_tree(&entry.path(), &target)?;
        } else {
            fs::copy(entry.path(), target)?;
        }
    }
    Ok(())
}

fn main() -> ExitCode {
    let args = Args::parse();
    model::set_root(args.root.clone());
    let mut runner = strategy::seeded_runner(args.seed);
    let strategy = strategy::case();

    if args.print {
        for i in 0..args.cases {
            match strategy.new_tree(&mut runner) {
                Ok(tree) => {
                    let case = tree.current();
                    let text = format!(
                        "# case {i}: {}\n{}\n{}\n",
                        case.args().join(" "),
                        case.inventory(),
                        case.playbook()
                    );
                    // A closed pipe (`| head`) ends the listing quietly.
                    if std::io::Write::write_all(&mut std::io::stdout(), text.as_bytes()).is_err() {
                        break;
                    }
                }
                Err(e) => eprintln!("case {i}: cannot draw: {e}"),
            }
        }
        return ExitCode::SUCCESS;
    }

    let tools = Tools {
        runner: args.runner.clone().unwrap_or_else(default_runner),
        ansible: args.ansible.clone(),
        fleetsim: args
            .fleetsim
            .clone()
            .unwrap_or_else(|| workspace_dir().join("target/release/fleetsim")),
    };
    for (what, path) in [
        ("runner", &tools.runner),
        ("ansible-playbook", &tools.ansible),
        ("fleetsim", &tools.fleetsim),
    ] {
        if !path.is_file() {
            eprintln!("fleetsim-difftest: {what} not found at {}", path.display());
            return ExitCode::from(2);
        }
    }
    let scratch = match tempfile::Builder::new().prefix("difftest-").tempdir() {
        Ok(d) => d,
        Err(e) => {
            eprintln!("fleetsim-difftest: cannot make a scratch folder: {e}");
            return ExitCode::from(2);
        }
    };
    if let Err(e) = fs::create_dir_all(&args.out) {
        eprintln!(
            "fleetsim-difftest: cannot create {}: {e}",
            args.out.display()
        );
        return ExitCode::from(2);
    }

    let started = Instant::now();
    let mut lines = Vec::new();
    let mut tried = 0;
    let mut same = 0;
    let mut rejected = 0;
    let mut harness_errors = 0;
    let mut by_signature: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut by_kind: BTreeMap<&str, usize> = BTreeMap::new();
    let mut shrunk_count = 0;
    for i in 0..args.cases {
        if args.time_limit > 0 && started.elapsed() > Duration::from_secs(args.time_limit) {
            eprintln!("time limit reached after {tried} cases");
            break;
        }
        let mut tree = match strategy.new_tree(&mut runner) {
            Ok(t) => t,
            Err(e) => {
                eprintln!("case {i}: cannot draw: {e}");
                continue;
            }
        };
        if !args.only.is_empty() && !args.only.contains(&i) {
            continue;
        }
        tried += 1;
        let name = format!("dt-{}-{i:04}", args.seed);
        let dir = scratch.path().join("cases").join(&name);
        let case = tree.current();
        let outcome = match write_case(&case, &dir, "difftest")
            .map_err(|e| e.to_string())
            .and_then(|()| evaluate(&tools, &dir))
        {
            Ok(o) => o,
            Err(e) => {
                harness_errors += 1;
                eprintln!("{name}: harness error: {e}");
                lines.push(format!(
                    "{name}: harness error: {}",
                    e.lines().next().unwrap_or("")
                ));
                continue;
            }
        };
        if !outcome.ansible_ran {
            rejected += 1;
        }
        if !outcome.diverges() {
            same += 1;
            eprintln!("{name}: same (ansible rc {})", outcome.ansible_rc);
            lines.push(format!(
                "{name}: same (rc {}, {} failed results{}{})",
                outcome.ansible_rc,
                outcome.ansible_failures,
                if outcome.ansible_first_failure.is_empty() {
                    ""
                } else {
                    ", first: "
                },
                outcome.ansible_first_failure
            ));
            continue;
        }
        for k in &outcome.kinds {
            *by_kind.entry(k.label()).or_default() += 1;
        }
        let sig = outcome.coarse_signature();
        eprintln!("{name}: DIFFERS {sig}");
        lines.push(format!("{name}: differs: {}", outcome.headline()));
        let seen = by_signature.get(&sig).map_or(0, Vec::len);
        by_signature
            .entry(sig.clone())
            .or_default()
            .push(name.clone());
        if seen >= args.per_signature || shrunk_count >= args.max_shrunk {
            // Not shrunk: keep the case as drawn (with Ansible's expected/) to look at.
            let kept = args.out.join("unshrunk").join(&name);
            if let Err(e) = copy_tree(&dir, &kept) {
                eprintln!("{name}: cannot keep the case: {e}");
            }
            continue;
        }
        shrunk_count += 1;
        let shrunk = shrink(
            &mut tree,
            outcome,
            args.shrink_iters,
            &tools,
            scratch.path(),
        );
        let note = shrunk.outcome.headline();
        let description = format!(
            "Generated by fleetsim-difftest (seed {}, case {i}), shrunk in {} runs. Divergence: {note}",
            args.seed, shrunk.runs
        );
        let found = args.out.join(&name);
        let written = write_case(&shrunk.case, &found, &description)
            .map_err(|e| e.to_string())
            .and_then(|()| evaluate(&tools, &found))
            .and_then(|o| {
                fs::write(found.join("NOTE"), format!("{}\n", o.headline()))
                    .map_err(|e| e.to_string())?;
                Ok(o)
            });
        match written {
            Ok(o) if o.diverges() => {
                eprintln!(
                    "{name}: shrunk in {} runs -> {}",
                    shrunk.runs,
                    found.display()
                );
                lines.push(format!(
                    "  shrunk to {} ({} runs)",
                    found.display(),
                    shrunk.runs
                ));
            }
            Ok(_) => {
                eprintln!("{name}: shrunk case no longer diverges on a rerun (flaky?)");
                lines.push("  shrunk case did not diverge on a rerun (flaky)".into());
            }
            Err(e) => eprintln!("{name}: cannot write the shrunk case: {e}"),
        }
    }

    let differ: usize = by_signature.values().map(Vec::len).sum();
    let mut summary = format!(
        "fleetsim-difftest seed {}: {tried} cases, {same} same, {differ} differ, {harness_errors} harness errors; \
         {rejected} cases real Ansible did not run (load errors)\n\ndivergences by kind (a case may show several):\n",
        args.seed
    );
    for (k, n) in &by_kind {
        summary.push_str(&format!("  {k}: {n}\n"));
    }
    summary.push_str("\ndivergences by signature:\n");
    for (sig, names) in &by_signature {
        summary.push_str(&format!(
            "  {} x {sig}\n    {}\n",
            names.len(),
            names.join(" ")
        ));
    }
    summary.push_str("\ncases:\n");
    for l in &lines {
        summary.push_str(l);
        summary.push('\n');
    }
    let _ = fs::write(args.out.join("summary.txt"), &summary);
    print!("{summary}");
    ExitCode::SUCCESS
}
