//! The simulated fleet under load, through the `fleetsim` binary (`cargo bench --bench
//! fleet`): the whole Lab 8.2 (`fleetsim lab`, nine commands on one fleet) and the
//! corrected rollout with a slow restart, both with client traffic of 100 requests per
//! virtual second through each load balancer. Besides criterion's times it prints the
//! requests simulated per wall second.

use criterion::{criterion_group, criterion_main, Criterion};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

const RATE: &str = "requests_per_second: 100";

fn lab_src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/lab-8.2")
}

fn copy_dir(src: &Path, dst: &Path) {
    fs::create_dir_all(dst).expect("mkdir");
    for e in fs::read_dir(src).expect("read_dir").filter_map(Result::ok) {
        if e.path().is_dir() {
            copy_dir(&e.path(), &dst.join(e.file_name()));
        } else {
            fs::copy(e.path(), dst.join(e.file_name())).expect("copy");
        }
    }
}

/// A copy of the lab whose fleet sends 100 requests per virtual second through each LB.
fn busy_lab() -> tempfile::TempDir {
    let tmp = tempfile::tempdir().expect("tempdir");
    copy_dir(&lab_src(), tmp.path());
    let fleet = tmp.path().join("fleet.yml");
    let text = fs::read_to_string(&fleet).expect("fleet.yml");
    let busy = text.replace("requests_per_second: 10", RATE);
    assert_ne!(
        text, busy,
        "the lab's fleet.yml sets requests_per_second: 10"
    );
    fs::write(&fleet, busy).expect("write fleet.yml");
    tmp
}

fn fleetsim(dir: &Path, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_fleetsim"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .output()
        .expect("run fleetsim")
}

fn rollout(dir: &Path) -> u64 {
    let out = fleetsim(
        dir,
        &[
            "playbook",
            "-i",
            "inventory.ini",
            "playbooks/corrected/lb-orchestration.yml",
            "--limit",
            "web_servers_prod[0:1],api_servers_prod[0]",
            "--fleet",
            "fleet.yml",
            "--faults",
            "faults/slow-restart.yml",
            "--seed",
            "1",
            "--start-time",
            "2026-11-26T06:00:00Z",
            "--report",
            "report.json",
        ],
    );
    assert_eq!(
        out.status.code(),
        Some(10),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(dir.join("report.json")).expect("report"))
            .expect("report json");
    report["traffic"]["requests"].as_u64().expect("requests")
}

fn lab(dir: &Path) -> u64 {
    let out = fleetsim(dir, &["lab", "."]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    text.lines()
        .filter_map(|l| l.strip_prefix("traffic: "))
        .filter_map(|l| l.split(' ').next()?.parse::<u64>().ok())
        .sum()
}

fn benches(c: &mut Criterion) {
    let dir = busy_lab();
    // One timed run of each, for the requests-per-wall-second figure.
    for (name, f) in [("rollout", rollout as fn(&Path) -> u64), ("lab", lab)] {
        let t = Instant::now();
        let requests = f(dir.path());
        let secs = t.elapsed().as_secs_f64();
        eprintln!(
            "fleet/{name}: {requests} client requests in {secs:.3} s wall = {:.0} requests per wall second",
            requests as f64 / secs
        );
    }
    let mut g = c.benchmark_group("fleet");
    g.sample_size(10)
        .measurement_time(Duration::from_secs(8))
        .warm_up_time(Duration::from_secs(1));
    g.bench_function("corrected_rollout_slow_restart_100rps", |b| {
        b.iter(|| rollout(dir.path()))
    });
    g.bench_function("lab_8_2_all_steps_100rps", |b| b.iter(|| lab(dir.path())));
    g.finish();
}

criterion_group!(fleet_benches, benches);
criterion_main!(fleet_benches);
