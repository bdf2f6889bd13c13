//! Inventory benchmarks on a generated 10,000-host INI inventory (10 groups `g0`..`g9` of
//! 1,000 hosts `gN-0000`.., each with `app_port` and `env` host vars, plus `[all:vars]`):
//! parse + `--list` JSON, and resolving `g1:g2:!h1-000*`.

use criterion::{criterion_group, criterion_main, Criterion};
use fleetsim_engine::inventory::output::{list_json, python_json};
use fleetsim_engine::inventory::Inventory;
use std::fmt::Write;
use std::time::Duration;

/// The benchmark inventory's text (also what BENCHMARKS.md's end-to-end runs use).
fn big_inventory() -> String {
    let mut s = String::from("[all:vars]\nntp=pool.ntp.org\nregion=eu-west-1\n\n");
    for g in 0..10 {
        let _ = writeln!(s, "[g{g}]");
        for h in 0..1000 {
            let env = if h % 2 == 0 { "prod" } else { "staging" };
            let _ = writeln!(s, "g{g}-{h:04} app_port={} env={env}", 8000 + h);
        }
        s.push('\n');
    }
    s
}

fn benches(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("big.ini");
    std::fs::write(&path, big_inventory()).expect("write inventory");
    if let Ok(keep) = std::env::var("FLEETSIM_BENCH_WRITE") {
        // Lets BENCHMARKS.md's end-to-end timings use the very same file.
        let _ = std::fs::write(keep, big_inventory());
    }

    let mut g = c.benchmark_group("inventory_10k");
    g.sample_size(10)
        .measurement_time(Duration::from_secs(5))
        .warm_up_time(Duration::from_secs(1));
    g.bench_function("parse_and_list_json", |b| {
        b.iter(|| {
            let (inv, _) = Inventory::load(&[&path]).expect("load");
            python_json(&list_json(&inv)).len()
        })
    });
    let (inv, _) = Inventory::load(&[&path]).expect("load");
    g.bench_function("parse_only", |b| {
        b.iter(|| Inventory::load(&[&path]).expect("load").0.hosts().len())
    });
    g.bench_function("resolve_g1_g2_not_h1", |b| {
        b.iter(|| inv.resolve("g1:g2:!h1-000*").expect("resolve").hosts.len())
    });
    g.finish();
}

criterion_group!(inventory, benches);
criterion_main!(inventory);
