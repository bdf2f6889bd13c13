//! What `fleetsim check` leaves for a counterexample: the minimal fault plan in the
//! `--faults` format, the fleet file when the case changed fleet parameters, the minimal
//! run's fleet report (what the replay's `--report` writes, byte for byte), and the
//! `fleetsim playbook` command that replays it; plus one-line descriptions of faults for the
//! summary.

use std::path::{Path, PathBuf};

use fleetsim_engine::template::{dump_yaml, YamlOpts};
use fleetsim_sim::fleet::campaign::Counterexample;
use fleetsim_sim::fleet::case::Case;
use fleetsim_sim::fleet::faults::{FaultRule, TaskEdge, Trigger};
use fleetsim_sim::fleet::model::FleetModel;

use super::runner::PlaybookSpec;

/// Files written for one counterexample.
#[derive(Debug, Clone, PartialEq)]
pub struct Written {
    pub plan: PathBuf,
    /// The minimal case's fleet report, as the replay's `--report FILE.json` writes it.
    pub report: PathBuf,
    /// The fleet the replay uses: the scenario's, or one written beside the plan.
    pub fleet: PathBuf,
    pub replay: String,
}

/// Writes the minimal case of `cx` into `out` and returns the paths and the replay command.
pub fn write(out: &Path, spec: &PlaybookSpec, cx: &Counterexample) -> Result<Written, String> {
    std::fs::create_dir_all(out).map_err(|e| format!("cannot create {}: {e}", out.display()))?;
    let stem = stem(spec, cx);
    let (plan_path, fleet_path) = paths(out, spec, cx);
    if !cx.minimal.fleet.is_unchanged() {
        write_fleet(&fleet_path, spec, &cx.minimal)?;
    }
    let replay = replay_command(spec, &cx.minimal, &fleet_path, Some(&plan_path));
    let plan_value = serde_json::to_value(&cx.minimal.plan)
        .map_err(|e| format!("cannot serialize the fault plan: {e}"))?;
    let mut text = format!(
        "# Minimal counterexample from `fleetsim check` (campaign seed {}, case {}; shrunk from {} \
         to {} in {} runs).\n# It breaks: {}.\n# replay: {replay}\n",
        cx.id.seed,
        cx.id.index,
        faults(cx.found.plan.faults.len()),
        faults(cx.minimal.plan.faults.len()),
        cx.shrink_runs,
        cx.outcome.report.broken().join(", "),
    );
    text.push_str(&dump(&plan_value));
    std::fs::write(&plan_path, text)
        .map_err(|e| format!("cannot write {}: {e}", plan_path.display()))?;
    let report_path = out.join(format!("{stem}.report.json"));
    let report = serde_json::to_string_pretty(&cx.outcome.report)
        .map_err(|e| format!("cannot encode the fleet report: {e}"))?
        + "\n";
    std::fs::write(&report_path, report)
        .map_err(|e| format!("cannot write {}: {e}", report_path.display()))?;
    Ok(Written {
        plan: plan_path,
        report: report_path,
        fleet: fleet_path,
        replay,
    })
}

/// The name every file of a counterexample starts with: `PLAYBOOK-SEED-INDEX`.
fn stem(spec: &PlaybookSpec, cx: &Counterexample) -> String {
    format!(
        "{}-{}-{}",
        spec.playbook
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "playbook".into()),
        cx.id.seed,
        cx.id.index
    )
}

/// Where [`write`] puts a counterexample's fault plan, and the fleet its replay uses.
pub fn paths(out: &Path, spec: &PlaybookSpec, cx: &Counterexample) -> (PathBuf, PathBuf) {
    let stem = stem(spec, cx);
    let fleet = if cx.minimal.fleet.is_unchanged() {
        spec.fleet.clone()
    } else {
        out.join(format!("{stem}.fleet.yml"))
    };
    (out.join(format!("{stem}.faults.yml")), fleet)
}

fn dump(v: &serde_json::Value) -> String {
    dump_yaml(
        v,
        YamlOpts {
            sort_keys: false,
            // Block style throughout: one field a line reads (and diffs) best in a plan.
            flow: Some(false),
            ..YamlOpts::default()
        },
    )
}

/// Reads the scenario's fleet model as `fleetsim playbook --fleet` reads it.
pub fn load_fleet(path: &Path) -> Result<FleetModel, String> {
    fleetsim_engine::yaml::load_typed::<FleetModel>(path, "fleet model")
}

fn write_fleet(path: &Path, spec: &PlaybookSpec, case: &Case) -> Result<(), String> {
    let model = case.fleet.apply(&load_fleet(&spec.fleet)?);
    let value =
        serde_json::to_value(&model).map_err(|e| format!("cannot serialize the fleet: {e}"))?;
    let mut changes = Vec::new();
    if let Some(s) = case.fleet.restart_seconds {
        changes.push(format!("restart_seconds {s}"));
    }
    if let Some(r) = case.fleet.requests_per_second {
        changes.push(format!("requests_per_second {r}"));
    }
    let text = format!(
        "# {} with the counterexample's fleet parameters: {}.\n{}",
        spec.fleet.display(),
        changes.join(", "),
        dump(&value)
    );
    std::fs::write(path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))
}

/// The `fleetsim playbook` command that runs `case` as the campaign ran it.
pub fn replay_command(
    spec: &PlaybookSpec,
    case: &Case,
    fleet: &Path,
    plan: Option<&Path>,
) -> String {
    replay_argv(spec, case, fleet, plan)
        .iter()
        .map(|a| shell_quote(a))
        .collect::<Vec<_>>()
        .join(" ")
}

/// [`replay_command`]'s words, unquoted.
pub fn replay_argv(
    spec: &PlaybookSpec,
    case: &Case,
    fleet: &Path,
    plan: Option<&Path>,
) -> Vec<String> {
    let mut args: Vec<String> = vec!["fleetsim".into(), "playbook".into()];
    for i in &spec.inventory {
        args.push("-i".into());
        args.push(i.clone());
    }
    args.push(spec.playbook.display().to_string());
    args.push("--limit".into());
    args.push(case.limit());
    for e in &spec.extra_vars {
        args.push("-e".into());
        args.push(e.clone());
    }
    for t in &spec.tags {
        args.push("-t".into());
        args.push(t.clone());
    }
    for t in &spec.skip_tags {
        args.push("--skip-tags".into());
        args.push(t.clone());
    }
    args.push("--fleet".into());
    args.push(fleet.display().to_string());
    if let Some(plan) = plan {
        args.push("--faults".into());
        args.push(plan.display().to_string());
    }
    args.push("--seed".into());
    args.push(case.seed.to_string());
    args.push("--start-time".into());
    args.push(fleetsim_sim::clock::to_rfc3339(spec.start_time));
    args
}

/// POSIX shell quoting: plain words stay as they are, others go in single quotes.
pub fn shell_quote(s: &str) -> String {
    let plain = !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "_-./:=,@%+".contains(c));
    if plain {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

fn faults(n: usize) -> String {
    if n == 1 {
        "1 fault".into()
    } else {
        format!("{n} faults")
    }
}

/// One line for a fault: `slow_restart on web-prod-01 at 12.5 s for 3 s (seconds 5.001)`.
pub fn describe(rule: &FaultRule) -> String {
    let mut s = rule.kind.name().to_string();
    if let Some(h) = &rule.hosts {
        s.push_str(&format!(" on {h}"));
    }
    if let Some([a, b]) = &rule.between {
        s.push_str(&format!(" between {a} and {b}"));
    }
    match &rule.at {
        None => s.push_str(" from the start"),
        Some(Trigger::Time { time }) => s.push_str(&format!(" at {time} s")),
        Some(Trigger::Restart { restart }) => s.push_str(&format!(" at restart {restart}")),
        Some(Trigger::Task { task, when, host }) => s.push_str(&format!(
            " when task \"{task}\" {}{}",
            match when {
                TaskEdge::Start => "starts",
                TaskEdge::End => "ends",
            },
            host.as_ref()
                .map(|h| format!(" on {h}"))
                .unwrap_or_default()
        )),
    }
    match rule.duration {
        Some(d) => s.push_str(&format!(" for {d} s")),
        None => s.push_str(" to the end"),
    }
    let mut params = Vec::new();
    let mut num = |name: &str, v: Option<f64>| {
        if let Some(v) = v {
            params.push(format!("{name} {v}"));
        }
    };
    num("seconds", rule.seconds);
    num("delay", rule.delay);
    num("lag", rule.lag);
    num("offset", rule.offset);
    num("probability", rule.probability);
    if let Some(st) = rule.status {
        params.push(format!("status {st}"));
    }
    if let Some(m) = &rule.message {
        params.push(format!("message \"{m}\""));
    }
    if !params.is_empty() {
        s.push_str(&format!(" ({})", params.join(", ")));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use fleetsim_sim::fleet::case::FleetParams;
    use fleetsim_sim::fleet::faults::{FaultKind, FaultPlan};

    fn spec() -> PlaybookSpec {
        PlaybookSpec {
            inventory: vec!["scen/inventory.ini".into()],
            playbook: PathBuf::from("scen/playbooks/lb.yml"),
            fleet: PathBuf::from("scen/fleet.yml"),
            extra_vars: vec!["a=1 b=2".into()],
            tags: vec![],
            skip_tags: vec!["slow".into()],
            start_time: 1_767_225_600.0,
        }
    }

    fn rule() -> FaultRule {
        FaultRule {
            seconds: Some(5.001),
            ..FaultRule::new(FaultKind::SlowRestart, "web-prod-01")
        }
    }

    #[test]
    fn the_replay_command_quotes_what_a_shell_would_split() {
        let case = Case {
            seed: 77,
            hosts: vec!["web-prod-01".into(), "api-prod-01".into()],
            fleet: FleetParams::default(),
            plan: FaultPlan {
                faults: vec![rule()],
            },
        };
        assert_eq!(
            replay_command(
                &spec(),
                &case,
                Path::new("scen/fleet.yml"),
                Some(Path::new("out dir/p.faults.yml"))
            ),
            "fleetsim playbook -i scen/inventory.ini scen/playbooks/lb.yml --limit \
             web-prod-01,api-prod-01 -e 'a=1 b=2' --skip-tags slow --fleet scen/fleet.yml \
             --faults 'out dir/p.faults.yml' --seed 77 --start-time 2026-01-01T00:00:00Z"
        );
        assert_eq!(shell_quote("it's"), "'it'\\''s'");
        assert_eq!(shell_quote("web[0:1]"), "'web[0:1]'");
        assert_eq!(shell_quote(""), "''");
    }

    #[test]
    fn faults_read_as_one_line() {
        assert_eq!(
            describe(&rule()),
            "slow_restart on web-prod-01 from the start to the end (seconds 5.001)"
        );
        let r = FaultRule {
            at: Some(Trigger::Task {
                task: "Deploy".into(),
                when: TaskEdge::End,
                host: None,
            }),
            duration: Some(3.5),
            status: Some(503),
            ..FaultRule::new(FaultKind::Unhealthy, "web-prod-02")
        };
        assert_eq!(
            describe(&r),
            "unhealthy on web-prod-02 when task \"Deploy\" ends for 3.5 s (status 503)"
        );
    }

    #[test]
    fn a_written_counterexample_with_a_task_trigger_host_loads_back_with_faults() {
        use fleetsim_sim::fleet::campaign::{CaseId, CaseOutcome};
        use fleetsim_sim::fleet::report::{InvariantResult, Report, Traffic};

        let dir = tempfile::tempdir().unwrap();
        let fleet = dir.path().join("fleet.yml");
        std::fs::write(
            &fleet,
            "apps:\n  - hosts: web\n    port_var: web_port\n    config: /tmp/app-{host}/config.toml\n",
        )
        .unwrap();
        let spec = PlaybookSpec {
            fleet: fleet.clone(),
            ..spec()
        };
        // web-prod-02 comes up unhealthy when the deployment starts on web-prod-01.
        let plan = FaultPlan {
            faults: vec![
                FaultRule {
                    at: Some(Trigger::Task {
                        task: "Deploy application".into(),
                        when: TaskEdge::Start,
                        host: Some("web-prod-01".into()),
                    }),
                    duration: Some(12.0),
                    status: Some(503),
                    ..FaultRule::new(FaultKind::Unhealthy, "web-prod-02")
                },
                FaultRule {
                    at: Some(Trigger::Time { time: 13.0 }),
                    ..rule()
                },
            ],
        };
        let case = Case {
            seed: 5,
            hosts: vec!["web-prod-01".into(), "web-prod-02".into()],
            fleet: FleetParams::default(),
            plan,
        };
        let report = Report {
            seed: 5,
            start_time: "2026-01-01T00:00:00Z".into(),
            virtual_seconds: 40.0,
            traffic: Traffic::default(),
            invariants: vec![InvariantResult {
                name: "no_failed_requests".into(),
                holds: false,
                violations: vec![],
            }],
        };
        let cx = Counterexample {
            id: CaseId { seed: 9, index: 4 },
            found: case.clone(),
            broken: vec!["no_failed_requests".into()],
            minimal: case.clone(),
            outcome: CaseOutcome {
                exit_code: 10,
                report,
                error: None,
                fatal: false,
            },
            shrink_runs: 12,
            shrink_steps: 3,
        };
        let written = write(&dir.path().join("out"), &spec, &cx).unwrap();
        let text = std::fs::read_to_string(&written.plan).unwrap();
        assert!(
            text.contains(
                "  at:\n    task: Deploy application\n    when: start\n    host: web-prod-01\n"
            ),
            "{text}"
        );
        assert_eq!(written.fleet, fleet, "the scenario's fleet, unchanged");
        assert!(
            written
                .replay
                .contains(&format!(" --faults {} ", written.plan.display())),
            "{}",
            written.replay
        );
        // What `fleetsim playbook --fleet F --faults P` reads is the minimal plan itself.
        let (_, back) = crate::fleet_files::load(&written.fleet, Some(&written.plan)).unwrap();
        assert_eq!(back, cx.minimal.plan);
    }

    #[test]
    fn plans_dump_in_the_faults_format_and_load_back() {
        let plan = FaultPlan {
            faults: vec![
                rule(),
                FaultRule {
                    at: Some(Trigger::Time { time: 12.5 }),
                    duration: Some(2.0),
                    ..FaultRule::new(FaultKind::Unreachable, "lb-prod-01")
                },
            ],
        };
        let text = dump(&serde_json::to_value(&plan).unwrap());
        assert_eq!(
            text,
            "faults:\n- kind: slow_restart\n  hosts: web-prod-01\n  seconds: 5.001\n- kind: unreachable\n  hosts: lb-prod-01\n  at:\n    time: 12.5\n  for: 2.0\n"
        );
        let back: FaultPlan = serde_json::from_value(
            fleetsim_engine::yaml::load(&text, Path::new("p.yml"))
                .unwrap()
                .to_value(),
        )
        .unwrap();
        assert_eq!(back, plan);
    }
}
