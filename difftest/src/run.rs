//! Running one generated case through real Ansible and fleetsim with the shared conformance
//! runner (`run --update` records `expected/` from ansible-playbook, `run --engine` compares
//! fleetsim with it), and reading the runner's verdict back. The comparison itself is the
//! runner's: nothing here re-implements it.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::model::Case;

/// The programs a comparison needs.
#[derive(Debug, Clone)]
pub struct Tools {
    /// The shared conformance runner (`../shared/conformance/run`).
    pub runner: PathBuf,
    /// Real ansible-playbook (ansible-core 2.19).
    pub ansible: PathBuf,
    /// The fleetsim binary.
    pub fleetsim: PathBuf,
}

/// One way the runner found fleetsim's run different from Ansible's, in the runner's order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    ExitStatus,
    Events,
    Recap,
    Tree,
    /// Only the failure messages differ (the runner reports these but does not fail on them).
    Messages,
}

impl Kind {
    pub fn label(self) -> &'static str {
        match self {
            Kind::ExitStatus => "exit-status",
            Kind::Events => "events",
            Kind::Recap => "recap",
            Kind::Tree => "tree",
            Kind::Messages => "messages",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Outcome {
    /// ansible-playbook's exit status.
    pub ansible_rc: String,
    /// Whether Ansible got as far as running a play (false: the playbook did not load).
    pub ansible_ran: bool,
    /// How many results failed under Ansible, and the first failure message (to see at a
    /// glance what the generated cases exercise).
    pub ansible_failures: usize,
    pub ansible_first_failure: String,
    /// Empty when fleetsim matched Ansible.
    pub kinds: Vec<Kind>,
    /// The runner's report of the differences (empty when the same).
    pub report: String,
}

impl Outcome {
    pub fn diverges(&self) -> bool {
        !self.kinds.is_empty()
    }

    /// The first line of each difference the runner showed: the line Ansible gave and the
    /// one fleetsim gave instead (for grouping divergences and the one-line note).
    pub fn headline(&self) -> String {
        self.differences()
            .iter()
            .map(|d| match d {
                Difference::Text(line) => line.clone(),
                Difference::Lines {
                    file,
                    ansible,
                    fleetsim,
                } => {
                    format!(
                        "{file}: Ansible `{}`, fleetsim `{}`",
                        &ansible.get(1..).unwrap_or(""),
                        &fleetsim.get(1..).unwrap_or("")
                    )
                }
            })
            .collect::<Vec<_>>()
            .join("; ")
    }

    /// A coarse grouping key: the kinds, and per differing file the status (or entry kind)
    /// of the first line each side gave, with what differs in a tree entry.
    pub fn coarse_signature(&self) -> String {
        let mut parts: Vec<String> = vec![self
            .kinds
            .iter()
            .map(|k| k.label())
            .collect::<Vec<_>>()
            .join(",")];
        for d in self.differences() {
            if let Difference::Lines {
                file,
                ansible,
                fleetsim,
            } = d
            {
                let word = |l: &str| {
                    l.trim_start_matches(['-', '+'])
                        .split(' ')
                        .next()
                        .unwrap_or("")
                        .to_string()
                };
                let mut part = format!("{file}: {}>{}", word(&ansible), word(&fleetsim));
                if file == "tree.txt" {
                    let a: Vec<&str> = ansible.split(' ').collect();
                    let f: Vec<&str> = fleetsim.split(' ').collect();
                    if a.len() >= 3 && f.len() >= 3 && a[2] == f[2] {
                        part.push_str(if a[1] != f[1] { " mode" } else { " content" });
                    } else {
                        part.push_str(" paths");
                    }
                }
                parts.push(part);
            }
        }
        parts.join(" | ")
    }

    fn differences(&self) -> Vec<Difference> {
        let mut out = Vec::new();
        let mut lines = self.report.lines().map(str::trim).peekable();
        while let Some(line) = lines.next() {
            if line.starts_with("exit status:") || line.starts_with("failure messages") {
                out.push(Difference::Text(line.to_string()));
            } else if let Some(file) = line.strip_prefix("--- expected/") {
                let mut ansible = None;
                let mut fleetsim = None;
                while let Some(next) = lines.peek() {
                    if next.starts_with("--- expected/")
                        || next.starts_with("exit status:")
                        || next.starts_with("failure messages")
                    {
                        break;
                    }
                    let next = lines.next().unwrap_or_default();
                    if next.starts_with('-') && !next.starts_with("---") && ansible.is_none() {
                        ansible = Some(next.to_string());
                    } else if next.starts_with('+')
                        && !next.starts_with("+++")
                        && fleetsim.is_none()
                    {
                        fleetsim = Some(next.to_string());
                    }
                }
                out.push(Difference::Lines {
                    file: file.to_string(),
                    ansible: ansible.unwrap_or_default(),
                    fleetsim: fleetsim.unwrap_or_default(),
                });
            }
        }
        out
    }
}

enum Difference {
    Text(String),
    Lines {
        file: String,
        ansible: String,
        fleetsim: String,
    },
}

/// Writes the case folder `dir` (case.toml, inventory.ini, site.yml).
pub fn write_case(case: &Case, dir: &Path, description: &str) -> std::io::Result<()> {
    if dir.exists() {
        fs::remove_dir_all(dir)?;
    }
    fs::create_dir_all(dir)?;
    fs::write(dir.join("case.toml"), case.case_toml(description))?;
    fs::write(dir.join("inventory.ini"), case.inventory())?;
    fs::write(dir.join("site.yml"), case.playbook())?;
    Ok(())
}

/// Records `expected/` for the case folder `dir` from real Ansible, then compares fleetsim.
pub fn evaluate(tools: &Tools, dir: &Path) -> Result<Outcome, String> {
    let parent = dir.parent().ok_or("case folder has no parent")?;
    let name = dir
        .file_name()
        .ok_or("case folder has no name")?
        .to_string_lossy()
        .into_owned();
    let update = Command::new(&tools.runner)
        .arg("--cases")
        .arg(parent)
        .arg("--update")
        .arg("--ansible")
        .arg(&tools.ansible)
        .arg(&name)
        .output()
        .map_err(|e| format!("cannot start {}: {e}", tools.runner.display()))?;
    if !update.status.success() {
        return Err(format!(
            "runner --update failed: {}{}",
            String::from_utf8_lossy(&update.stdout),
            String::from_utf8_lossy(&update.stderr)
        ));
    }
    let expected = dir.join("expected");
    let ansible_rc = fs::read_to_string(expected.join("rc"))
        .map_err(|e| format!("no expected/rc: {e}"))?
        .trim()
        .to_string();
    let stdout = fs::read_to_string(expected.join("stdout.txt")).unwrap_or_default();
    let ansible_ran = stdout.lines().any(|l| l.starts_with("PLAY ["));
    let messages = fs::read_to_string(expected.join("messages.txt")).unwrap_or_default();
    let messages: Vec<&str> = messages.lines().filter(|l| !l.is_empty()).collect();
    let ansible_failures = messages.len();
    let ansible_first_failure = match messages.first() {
        Some(m) => m.to_string(),
        // A load error has no failed result: its `[ERROR]:` line says what went wrong.
        None => stdout
            .lines()
            .find(|l| l.starts_with("[ERROR]:") || l.starts_with("ERROR!"))
            .unwrap_or_default()
            .to_string(),
    };

    let engine = format!("{} playbook", tools.fleetsim.display());
    let compare = Command::new(&tools.runner)
        .arg("--cases")
        .arg(parent)
        .arg("--engine")
        .arg(&engine)
        .arg(&name)
        .output()
        .map_err(|e| format!("cannot start {}: {e}", tools.runner.display()))?;
    let report = String::from_utf8_lossy(&compare.stdout).into_owned();
    let mut kinds = Vec::new();
    for line in report.lines().map(str::trim) {
        let kind = if line.starts_with("exit status:") {
            Some(Kind::ExitStatus)
        } else if line.starts_with("--- expected/events.txt") {
            Some(Kind::Events)
        } else if line.starts_with("--- expected/recap.txt") {
            Some(Kind::Recap)
        } else if line.starts_with("--- expected/tree.txt") {
            Some(Kind::Tree)
        } else {
            None
        };
        kinds.extend(kind);
    }
    let passed = report.lines().any(|l| l.starts_with("ok   "));
    if !passed && kinds.is_empty() {
        return Err(format!(
            "runner --engine gave no verdict: {report}{}",
            String::from_utf8_lossy(&compare.stderr)
        ));
    }
    // "failure messages matching Ansible's (not part of pass/fail): A/B"
    let messages_differ = report
        .lines()
        .filter_map(|l| l.split("pass/fail): ").nth(1))
        .filter_map(|counts| counts.trim().split_once('/'))
        .any(|(same, total)| same != total);
    if messages_differ {
        kinds.push(Kind::Messages);
    }
    let report = report
        .lines()
        .filter(|l| {
            !l.starts_with("ok   ")
                && !l.starts_with("engine wall time")
                && !l.starts_with("conformance:")
                && (!l.starts_with("failure messages") || messages_differ)
        })
        .collect::<Vec<_>>()
        .join("\n");
    Ok(Outcome {
        ansible_rc,
        ansible_ran,
        ansible_failures,
        ansible_first_failure,
        kinds,
        report,
    })
}
