//! JUnit XML (`--junit FILE`), in the layout of community.general's junit callback, which
//! CI systems (Jenkins, GitLab, GitHub test reporters) read: a test case per host and task
//! named `[HOST] PLAY: TASK` with the task's `FILE:LINE` as class name; a test case per lab
//! step; a test case per fleet invariant.

use std::fmt::Write as _;

use super::{escape_xml, RunRecord};

/// One `<testcase>`.
#[derive(Debug, Clone, PartialEq)]
pub struct Case {
    pub name: String,
    pub classname: String,
    /// Virtual seconds.
    pub time: f64,
    pub outcome: Outcome,
    pub system_out: String,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    Passed,
    Failed { message: String, output: String },
    Skipped(String),
}

/// One `<testsuite>`.
#[derive(Debug, Clone, PartialEq)]
pub struct Suite {
    pub name: String,
    /// RFC 3339 start of the run; written as JUnit's local `YYYY-MM-DDTHH:MM:SS`.
    pub timestamp: String,
    pub cases: Vec<Case>,
}

impl Suite {
    fn failures(&self) -> usize {
        self.cases
            .iter()
            .filter(|c| matches!(c.outcome, Outcome::Failed { .. }))
            .count()
    }

    fn skipped(&self) -> usize {
        self.cases
            .iter()
            .filter(|c| matches!(c.outcome, Outcome::Skipped(_)))
            .count()
    }

    fn time(&self) -> f64 {
        self.cases.iter().map(|c| c.time).sum()
    }
}

/// The suites of one playbook run: one for the tasks (named after the first playbook, as
/// the callback names it), and one for the fleet's invariants when the run had a fleet.
pub fn playbook_suites(r: &RunRecord) -> Vec<Suite> {
    let name = r
        .playbooks
        .first()
        .map(|p| {
            let base = p.rsplit('/').next().unwrap_or(p);
            base.strip_suffix(".yml")
                .or_else(|| base.strip_suffix(".yaml"))
                .unwrap_or(base)
                .to_string()
        })
        .unwrap_or_else(|| "playbook".into());
    let mut cases = Vec::new();
    for e in r.events.iter().filter(|e| e.kind == "task") {
        let d = &e.detail;
        let get = |k: &str| d.get(k).and_then(|v| v.as_str()).unwrap_or("").to_string();
        let start = d.get("start").and_then(|v| v.as_f64()).unwrap_or(e.at);
        let end = d.get("end").and_then(|v| v.as_f64()).unwrap_or(e.at);
        let ignored = d.get("ignored").and_then(|v| v.as_bool()) == Some(true);
        // An ignored failure is a passing case, as the callback counts it by default
        // (JUNIT_FAIL_ON_IGNORE off); unreachable hosts are failures.
        let outcome = match get("status").as_str() {
            "failed" | "unreachable" if !ignored => Outcome::Failed {
                message: get("msg"),
                output: format!("{}: {}", get("status"), get("msg")),
            },
            "skipped" => Outcome::Skipped({
                let why = get("msg");
                if why.is_empty() {
                    "skipped".into()
                } else {
                    why
                }
            }),
            _ => Outcome::Passed,
        };
        cases.push(Case {
            name: format!(
                "[{}] {}: {}",
                e.host.as_deref().unwrap_or(""),
                get("play"),
                get("task")
            ),
            classname: get("path"),
            time: (end - start).max(0.0),
            outcome,
            system_out: String::new(),
        });
    }
    let mut suites = vec![Suite {
        name,
        timestamp: r.start_time.clone(),
        cases,
    }];
    if let Some(report) = &r.report {
        suites.push(invariant_suite(
            "fleet invariants",
            &r.start_time,
            report,
            &r.replay,
        ));
    }
    suites
}

/// A suite with a case per invariant: failing ones carry their violations and the command
/// that replays the run.
pub fn invariant_suite(
    name: &str,
    timestamp: &str,
    report: &fleetsim_sim::fleet::report::Report,
    replay: &str,
) -> Suite {
    let cases = report
        .invariants
        .iter()
        .map(|inv| {
            let outcome = if inv.holds {
                Outcome::Passed
            } else {
                let first = inv
                    .violations
                    .first()
                    .map(|v| format!("at {} s: {}", v.at, v.detail))
                    .unwrap_or_default();
                let mut output = String::new();
                for v in &inv.violations {
                    let _ = write!(output, "at {} s", v.at);
                    if let Some(t) = &v.task {
                        let _ = write!(output, " during [{t}]");
                    }
                    let _ = writeln!(output, ": {}", v.detail);
                }
                let _ = writeln!(output, "replay: {replay}");
                Outcome::Failed {
                    message: format!(
                        "{} broken ({} violations); first {first}",
                        inv.name,
                        inv.violations.len()
                    ),
                    output,
                }
            };
            Case {
                name: inv.name.clone(),
                classname: "fleet.invariants".into(),
                time: 0.0,
                outcome,
                system_out: String::new(),
            }
        })
        .collect();
    Suite {
        name: name.into(),
        timestamp: timestamp.into(),
        cases,
    }
}

/// A lab's suite: a case per step, failing when the step did not end as the lab expects.
pub fn lab_suite(title: &str, steps: &[RunRecord]) -> Suite {
    let cases = steps
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let expected = s.expected_exit.unwrap_or(0);
            let span = s.events.iter().map(|e| e.at).fold(0.0, f64::max);
            let outcome = if s.as_expected() {
                Outcome::Passed
            } else {
                Outcome::Failed {
                    message: format!("exit status {}, the lab expects {expected}", s.exit_code),
                    output: format!("$ {}\n", s.replay),
                }
            };
            Case {
                name: format!("step {}: {}", i + 1, s.title),
                classname: "lab".into(),
                time: span,
                outcome,
                system_out: format!("$ {}\nexit {}\n", s.replay, s.exit_code),
            }
        })
        .collect();
    Suite {
        name: title.into(),
        timestamp: steps
            .first()
            .map(|s| s.start_time.clone())
            .unwrap_or_default(),
        cases,
    }
}

/// JUnit's timestamp: ISO 8601 without a zone (the schema's `xs:dateTime` pattern).
fn junit_timestamp(rfc3339: &str) -> String {
    rfc3339.trim_end_matches('Z').to_string()
}

fn secs(t: f64) -> String {
    format!("{t:.3}")
}

/// The XML document of `suites`.
pub fn render(suites: &[Suite]) -> String {
    let mut x = String::from("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n");
    let total = |f: fn(&Suite) -> usize| suites.iter().map(f).sum::<usize>();
    let _ = writeln!(
        x,
        "<testsuites disabled=\"0\" errors=\"0\" failures=\"{}\" tests=\"{}\" time=\"{}\">",
        total(Suite::failures),
        total(|s| s.cases.len()),
        secs(suites.iter().map(Suite::time).sum())
    );
    for (id, s) in suites.iter().enumerate() {
        let _ = writeln!(
            x,
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{}\" errors=\"0\" skipped=\"{}\" disabled=\"0\" time=\"{}\" timestamp=\"{}\" hostname=\"fleetsim\" id=\"{id}\">",
            escape_xml(&s.name),
            s.cases.len(),
            s.failures(),
            s.skipped(),
            secs(s.time()),
            escape_xml(&junit_timestamp(&s.timestamp)),
        );
        for c in &s.cases {
            let _ = write!(
                x,
                "    <testcase name=\"{}\" classname=\"{}\" time=\"{}\"",
                escape_xml(&c.name),
                escape_xml(&c.classname),
                secs(c.time)
            );
            if c.outcome == Outcome::Passed && c.system_out.is_empty() {
                x.push_str("/>\n");
                continue;
            }
            x.push_str(">\n");
            match &c.outcome {
                Outcome::Passed => {}
                Outcome::Failed { message, output } => {
                    let _ = writeln!(
                        x,
                        "      <failure message=\"{}\" type=\"failure\">{}</failure>",
                        escape_xml(message),
                        escape_xml(output)
                    );
                }
                // Text only: the Jenkins schema makes `skipped` a plain string element.
                Outcome::Skipped(why) => {
                    let _ = writeln!(x, "      <skipped>{}</skipped>", escape_xml(why));
                }
            }
            if !c.system_out.is_empty() {
                let _ = writeln!(
                    x,
                    "      <system-out>{}</system-out>",
                    escape_xml(&c.system_out)
                );
            }
            x.push_str("    </testcase>\n");
        }
        x.push_str("  </testsuite>\n");
    }
    x.push_str("</testsuites>\n");
    x
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_case_per_host_and_task_with_failures_and_their_message() {
        let r = crate::report::tests::record();
        let xml = render(&playbook_suites(&r));
        assert!(xml.contains(
            "<testsuites disabled=\"0\" errors=\"0\" failures=\"1\" tests=\"2\" time=\"0.400\">"
        ));
        assert!(xml.contains("<testsuite name=\"rollout\" tests=\"2\" failures=\"1\""));
        assert!(xml.contains(
            "<testcase name=\"[web1] p: drain\" classname=\"rollout.yml:3\" time=\"0.200\"/>"
        ));
        assert!(xml.contains(
            "<failure message=\"Status code was 503 &amp; not [200]\" type=\"failure\">"
        ));
        assert!(xml.contains("timestamp=\"2026-01-01T00:00:00\""));
    }

    #[test]
    fn a_lab_step_that_ends_otherwise_fails() {
        let mut step = crate::report::tests::record();
        step.title = "Exercise 1".into();
        step.expected_exit = Some(0);
        let xml = render(&[lab_suite("Lab", &[step])]);
        assert!(xml.contains("name=\"step 1: Exercise 1\""));
        assert!(xml.contains("message=\"exit status 2, the lab expects 0\""));
    }
}
