//! End-to-end playbook benchmarks through the `fleetsim` binary (build with
//! `cargo bench --bench playbook`, which uses the release profile): the six seed-lab
//! conformance cases (`tests/conformance/cases/seed-*`, each in a fresh temp copy with its
//! `case.toml` args) and the 50-host rolling deployment in `scenarios/rolling-50/`.

use criterion::{criterion_group, criterion_main, Criterion};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// One seed case: its folder and the arguments `case.toml` gives.
struct Case {
    name: String,
    dir: PathBuf,
    args: Vec<String>,
}

/// The `args` list of a case.toml.
fn case_args(text: &str) -> Vec<String> {
    let doc: toml::Table = text.parse().expect("case.toml");
    doc["args"]
        .as_array()
        .expect("args is a list")
        .iter()
        .map(|v| v.as_str().expect("args are strings").to_string())
        .collect()
}

fn seed_cases() -> Vec<Case> {
    let cases = root().join("tests/conformance/cases");
    let mut out: Vec<Case> = fs::read_dir(&cases)
        .expect("cases")
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().starts_with("seed-"))
        .map(|e| Case {
            name: e.file_name().to_string_lossy().into_owned(),
            args: case_args(&fs::read_to_string(e.path().join("case.toml")).expect("case.toml")),
            dir: e.path(),
        })
        .collect();
    out.sort_by(|a, b| a.name.cmp(&b.name));
    assert_eq!(out.len(), 6, "six seed cases");
    out
}

fn copy_dir(src: &Path, dst: &Path) {
    fs::create_dir_all(dst).expect("mkdir");
    for e in fs::read_dir(src).expect("read_dir").filter_map(Result::ok) {
        let name = e.file_name();
        if name == "expected" || name == "case.toml" {
            continue;
        }
        if e.path().is_dir() {
            copy_dir(&e.path(), &dst.join(&name));
        } else {
            fs::copy(e.path(), dst.join(&name)).expect("copy");
        }
    }
}

/// Runs the binary in `dir` with `args` plus a sandbox inside `dir`; panics unless it
/// exited with one of the statuses the inputs are known to give.
fn run(dir: &Path, args: &[String]) {
    let sandbox = dir.join("sandbox");
    let out = Command::new(env!("CARGO_BIN_EXE_fleetsim"))
        .arg("playbook")
        .args(args)
        .arg("--sandbox")
        .arg(&sandbox)
        .args(["--seed", "1", "--start-time", "2026-11-26T06:00:00Z"])
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .output()
        .expect("run fleetsim");
    // The as-written cases fail on purpose (2, or 4 for a playbook that does not load).
    let code = out.status.code();
    assert!(
        matches!(code, Some(0 | 2 | 4)),
        "fleetsim exited {code:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A fresh copy of `case` in a new temp dir: copying is part of each iteration's setup,
/// not of the measured time.
fn fresh(src: &Path) -> tempfile::TempDir {
    let tmp = tempfile::tempdir().expect("tempdir");
    copy_dir(src, tmp.path());
    tmp
}

fn benches(c: &mut Criterion) {
    let cases = seed_cases();
    let mut g = c.benchmark_group("playbook");
    g.sample_size(10)
        .measurement_time(Duration::from_secs(5))
        .warm_up_time(Duration::from_secs(1));

    g.bench_function("seed_cases_all_six", |b| {
        b.iter_batched(
            || cases.iter().map(|c| fresh(&c.dir)).collect::<Vec<_>>(),
            |dirs| {
                for (case, dir) in cases.iter().zip(&dirs) {
                    run(dir.path(), &case.args);
                }
                dirs
            },
            criterion::BatchSize::PerIteration,
        )
    });
    for case in &cases {
        g.bench_function(format!("case/{}", case.name), |b| {
            b.iter_batched(
                || fresh(&case.dir),
                |dir| {
                    run(dir.path(), &case.args);
                    dir
                },
                criterion::BatchSize::PerIteration,
            )
        });
    }

    let rolling = root().join("scenarios/rolling-50");
    let args: Vec<String> = ["-i", "inventory.ini", "rolling.yml"]
        .map(String::from)
        .to_vec();
    g.bench_function("rolling_50", |b| {
        b.iter_batched(
            || fresh(&rolling),
            |dir| {
                run(dir.path(), &args);
                dir
            },
            criterion::BatchSize::PerIteration,
        )
    });
    g.finish();
}

criterion_group!(playbook, benches);
criterion_main!(playbook);
