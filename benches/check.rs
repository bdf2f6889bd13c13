//! `fleetsim check`'s throughput through the binary (`cargo bench --bench check`): the issue's
//! figure, 200 cases of the 3-host lab rollout (the hardened playbook, the lab's own
//! `space.yml`, client traffic through every load balancer) with `--jobs 2`, case sandboxes in
//! the default scratch folder and, for comparison, on the disk's temporary folder. Besides
//! criterion's times it prints cases per wall second.

use criterion::{criterion_group, criterion_main, Criterion};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

const CASES: u64 = 200;

fn lab() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/lab-8.2")
}

/// One campaign; `scratch` is `--scratch` (None: the default).
fn campaign(out: &Path, scratch: Option<&Path>) {
    let lab = lab();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_fleetsim"));
    cmd.arg("check")
        .arg(&lab)
        .arg("--playbook")
        .arg(lab.join("playbooks/hardened/lb-orchestration.yml"))
        .args(["--limit", "web_servers_prod[0:1],api_servers_prod[0]"])
        .args(["--cases", &CASES.to_string(), "--seed", "3", "--jobs", "2"])
        .arg("--out")
        .arg(out);
    if let Some(s) = scratch {
        cmd.arg("--scratch").arg(s);
    }
    let run = cmd.output().expect("run fleetsim check");
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert_eq!(run.status.code(), Some(0), "{stdout}");
    assert!(
        stdout.contains("every case held every invariant"),
        "{stdout}"
    );
}

fn benches(c: &mut Criterion) {
    let out = tempfile::tempdir().expect("tempdir");
    let disk = tempfile::tempdir().expect("tempdir");
    let settings: [(&str, Option<&Path>); 2] = [
        ("default_scratch", None),
        ("scratch_on_disk", Some(disk.path())),
    ];
    for (name, scratch) in settings {
        let t = Instant::now();
        campaign(out.path(), scratch);
        let secs = t.elapsed().as_secs_f64();
        eprintln!(
            "check/{name}: {CASES} cases in {secs:.2} s wall = {:.0} cases per second",
            CASES as f64 / secs
        );
    }
    let mut g = c.benchmark_group("check");
    g.sample_size(10)
        .measurement_time(Duration::from_secs(10))
        .warm_up_time(Duration::from_secs(1));
    for (name, scratch) in settings {
        g.bench_function(format!("hardened_lab_200_cases_jobs_2/{name}"), |b| {
            b.iter(|| campaign(out.path(), scratch))
        });
    }
    g.finish();
}

criterion_group!(check_benches, benches);
criterion_main!(check_benches);
