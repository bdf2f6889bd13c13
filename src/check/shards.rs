//! Campaigns spread over machines: `--shard auto` reads the shard from a CI's environment,
//! every campaign writes its result file into `--out`, and `fleetsim check merge` combines the
//! shards' files into exactly what the unsharded campaign prints, writes and exits with.

use std::path::{Path, PathBuf};

use fleetsim_engine::exec::exit;
use fleetsim_sim::fleet::campaign::{merge_shards, CampaignResult, Shard, ShardResult};
use serde::{Deserialize, Serialize};

use super::runner::PlaybookSpec;
use super::Setup;
use crate::cli::MergeArgs;

/// Names the format of the result file, so that a file of another version is refused with a
/// message rather than misread.
const FORMAT: &str = "fleetsim-check-result/1";

/// `--shard` as given: `I/N`, or `auto` (I and N from the environment), or `auto/N` (I from
/// the environment). `env` reads a variable (the process environment, or a test's map).
pub fn parse(text: &str, env: impl Fn(&str) -> Option<String>) -> Result<Shard, String> {
    let Some(rest) = text.strip_prefix("auto") else {
        return Shard::parse(text);
    };
    let count: Option<u64> = match rest {
        "" => None,
        _ => match rest.strip_prefix('/').map(str::parse) {
            Some(Ok(n)) if n > 0 => Some(n),
            _ => {
                return Err(format!(
                    "--shard takes I/N, auto, or auto/N with N at least 1, not '{text}'"
                ))
            }
        },
    };
    let number = |name: &str| -> Result<Option<u64>, String> {
        match env(name) {
            None => Ok(None),
            Some(v) => v
                .trim()
                .parse()
                .map(Some)
                .map_err(|_| format!("--shard {text}: {name} is '{v}', not a whole number")),
        }
    };
    // GitLab's `parallel: N`: CI_NODE_INDEX counts from 1.
    if let (Some(index), Some(total)) = (number("CI_NODE_INDEX")?, number("CI_NODE_TOTAL")?) {
        if count.is_some_and(|n| n != total) {
            return Err(format!(
                "--shard {text}: CI_NODE_TOTAL is {total}, not {}",
                count.unwrap_or(0)
            ));
        }
        return Shard::parse(&format!("{index}/{total}"))
            .map_err(|_| format!("--shard {text}: CI_NODE_INDEX {index} is not in 1..={total}"));
    }
    // A Kubernetes Indexed Job: JOB_COMPLETION_INDEX counts from 0; the count is the Job's
    // `completions`, which the pod is not told.
    if let Some(index) = number("JOB_COMPLETION_INDEX")? {
        let Some(n) = count else {
            return Err(format!(
                "--shard {text}: JOB_COMPLETION_INDEX gives the shard's index but not how many \
                 there are: give the Job's completions as --shard auto/N"
            ));
        };
        return Shard::parse(&format!("{}/{n}", index + 1))
            .map_err(|_| format!("--shard {text}: JOB_COMPLETION_INDEX {index} is not in 0..{n}"));
    }
    Err(format!(
        "--shard {text}: no shard in the environment (GitLab's parallel: sets CI_NODE_INDEX and \
         CI_NODE_TOTAL, a Kubernetes Indexed Job JOB_COMPLETION_INDEX); in a GitHub Actions \
         matrix give it as --shard ${{{{ matrix.shard }}}}/N"
    ))
}

/// The file a campaign (or shard) writes into `--out`.
pub fn file_name(shard: Shard) -> String {
    if shard == Shard::WHOLE {
        "result.json".to_string()
    } else {
        format!("result-shard-{}-of-{}.json", shard.index + 1, shard.count)
    }
}

/// What a result file holds: the campaign's options (to check that shards belong together
/// and to name files as the whole campaign would) and its result.
#[derive(Debug, Serialize, Deserialize)]
struct ResultFile {
    format: String,
    spec: PlaybookSpec,
    rollout: Vec<String>,
    /// The fault space file, or none for the built-in space.
    space: Option<PathBuf>,
    campaign: ShardResult,
}

/// Writes `setup`'s campaign result into its `--out` folder.
pub fn write_result(setup: &Setup, result: &CampaignResult) -> Result<(), String> {
    let mut cfg = setup.cfg.clone();
    // As `campaign` set it: what the baseline run broke.
    if let Some((_, o)) = result.baseline.as_ref().filter(|(_, o)| !o.fatal) {
        cfg.baseline_broken = o.report.broken().iter().map(|s| s.to_string()).collect();
    }
    let file = ResultFile {
        format: FORMAT.into(),
        spec: setup.spec.clone(),
        rollout: setup.rollout.clone(),
        space: setup.space_path.clone(),
        campaign: ShardResult::new(&cfg, result.clone()),
    };
    save(&setup.out_dir, &file)
}

fn save(out_dir: &Path, file: &ResultFile) -> Result<(), String> {
    std::fs::create_dir_all(out_dir)
        .map_err(|e| format!("cannot create {}: {e}", out_dir.display()))?;
    let path = out_dir.join(file_name(file.campaign.shard));
    let mut text = serde_json::to_string(file)
        .map_err(|e| format!("cannot encode the campaign's result: {e}"))?;
    text.push('\n');
    std::fs::write(&path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))
}

/// The result files among `inputs`: each a file, or a folder's `result-shard-*-of-*.json`.
fn shard_files(inputs: &[PathBuf]) -> Result<Vec<PathBuf>, String> {
    let mut files = Vec::new();
    for input in inputs {
        if input.is_file() {
            files.push(input.clone());
            continue;
        }
        let entries = std::fs::read_dir(input)
            .map_err(|e| format!("cannot read the shard results in {}: {e}", input.display()))?;
        let mut found: Vec<PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| {
                p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.starts_with("result-shard-") && n.ends_with(".json"))
            })
            .collect();
        if found.is_empty() {
            return Err(format!(
                "{} holds no shard result (result-shard-I-of-N.json, written by `fleetsim check \
                 --shard I/N --out DIR`)",
                input.display()
            ));
        }
        found.sort();
        files.extend(found);
    }
    Ok(files)
}

fn load(path: &Path) -> Result<ResultFile, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let format = serde_json::from_str::<serde_json::Value>(&text)
        .ok()
        .and_then(|v| v.get("format").and_then(|f| f.as_str()).map(String::from));
    if format.as_deref() != Some(FORMAT) {
        return Err(format!(
            "{} is not a result of this fleetsim's `fleetsim check` ({FORMAT})",
            path.display()
        ));
    }
    serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))
}

/// `fleetsim check merge DIR...`.
pub fn merge(m: &MergeArgs) -> i32 {
    let merged = match merged(&m.inputs) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("[ERROR]: {e}");
            return exit::BAD_OPTIONS;
        }
    };
    let c = &merged.campaign;
    let mut text = format!(
        "fleetsim check merge: seed {}, {} cases, {} shards\n",
        c.seed, c.cases, merged.shards
    );
    text.push_str(&format!(
        "playbook: {}\n",
        merged.file.spec.playbook.display()
    ));
    text.push_str(&format!(
        "rollout hosts: {}\n",
        merged.file.rollout.join(", ")
    ));
    text.push_str(&format!(
        "fault space: {}\n",
        match &merged.file.space {
            Some(p) => p.display().to_string(),
            None => "built-in (see README, `fleetsim check`)".into(),
        }
    ));
    let (summary, code) = super::conclude(&merged.file.spec, &m.out, &c.result);
    text.push_str(&summary);
    print!("{text}");
    let file = ResultFile {
        campaign: ShardResult {
            shard: Shard::WHOLE,
            ..merged.campaign.clone()
        },
        ..merged.file
    };
    if let Err(e) = save(&m.out, &file) {
        eprintln!("[ERROR]: {e}");
        return exit::ERROR;
    }
    if m.reports.any() {
        if let Err(e) = super::write_reports(&m.reports, &file.spec, &m.out, &c.result) {
            eprintln!("[ERROR]: {e}");
            return exit::ERROR;
        }
    }
    code
}

struct Merged {
    file: ResultFile,
    campaign: ShardResult,
    shards: usize,
}

fn merged(inputs: &[PathBuf]) -> Result<Merged, String> {
    let files = shard_files(inputs)?;
    let mut loaded = Vec::new();
    for path in &files {
        loaded.push((path, load(path)?));
    }
    let (first_path, first) = &loaded[0];
    for (path, f) in &loaded[1..] {
        if f.spec != first.spec || f.rollout != first.rollout || f.space != first.space {
            return Err(format!(
                "{} and {} are shards of different campaigns (playbook, inventory, fleet, \
                 options or fault space differ)",
                first_path.display(),
                path.display()
            ));
        }
    }
    let shards = loaded.len();
    let campaign = merge_shards(loaded.iter().map(|(_, f)| f.campaign.clone()).collect())?;
    let (_, file) = loaded.into_iter().next().expect("one file at least");
    Ok(Merged {
        file,
        campaign,
        shards,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn env(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: BTreeMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |name| map.get(name).cloned()
    }

    #[test]
    fn explicit_shards_need_no_environment() {
        assert_eq!(parse("2/4", env(&[])).unwrap().to_string(), "2/4");
    }

    #[test]
    fn gitlab_parallel_gives_index_and_total() {
        let gitlab = env(&[("CI_NODE_INDEX", "3"), ("CI_NODE_TOTAL", "5")]);
        assert_eq!(parse("auto", &gitlab).unwrap().to_string(), "3/5");
        assert_eq!(parse("auto/5", &gitlab).unwrap().to_string(), "3/5");
        assert_eq!(
            parse("auto/4", &gitlab).unwrap_err(),
            "--shard auto/4: CI_NODE_TOTAL is 5, not 4"
        );
    }

    #[test]
    fn a_kubernetes_indexed_job_counts_from_zero_and_needs_the_count() {
        let k8s = env(&[("JOB_COMPLETION_INDEX", "0")]);
        assert_eq!(parse("auto/4", &k8s).unwrap().to_string(), "1/4");
        assert!(parse("auto", &k8s).unwrap_err().contains("--shard auto/N"));
        let past = env(&[("JOB_COMPLETION_INDEX", "4")]);
        assert_eq!(
            parse("auto/4", &past).unwrap_err(),
            "--shard auto/4: JOB_COMPLETION_INDEX 4 is not in 0..4"
        );
    }

    #[test]
    fn auto_without_a_ci_says_what_it_looked_for() {
        let e = parse("auto", env(&[])).unwrap_err();
        assert!(
            e.contains("CI_NODE_INDEX") && e.contains("JOB_COMPLETION_INDEX"),
            "{e}"
        );
        assert!(parse("auto/0", env(&[])).is_err());
        assert!(parse("auto/x", env(&[])).is_err());
        let e = parse(
            "auto",
            env(&[("CI_NODE_INDEX", "a"), ("CI_NODE_TOTAL", "2")]),
        )
        .unwrap_err();
        assert_eq!(e, "--shard auto: CI_NODE_INDEX is 'a', not a whole number");
    }

    #[test]
    fn result_files_are_named_by_shard() {
        assert_eq!(file_name(Shard::WHOLE), "result.json");
        assert_eq!(
            file_name(Shard::parse("2/3").unwrap()),
            "result-shard-2-of-3.json"
        );
    }
}
