//! How fleetsim's cost grows with the fleet (`cargo bench --bench scale`): the rolling
//! playbook of `scenarios/rolling-50` on generated inventories of 500, 2,000 and 10,000 web
//! hosts, then a rollout of 10,000 fleet apps behind 20 load balancers with client traffic
//! of 100 requests per virtual second per LB. Each run is a fresh `fleetsim` process with a
//! fresh sandbox; the bench prints its wall time, its CPU time (user + system), its peak
//! memory (the child's `ru_maxrss`) and the CPU time's growth ratio between consecutive
//! points (linear is the ratio of host counts).
//!
//! Not criterion: a 10,000-host point is one run of seconds, and the figure that matters is
//! the ratio between points of the same run, measured under the same load.
//!
//! `FLEETSIM_SCALE_POINTS=500,2000` picks the points, `FLEETSIM_SCALE_FLEET=N` the fleet
//! run's number of apps (0 skips it); `FLEETSIM_SCALE_WRITE=DIR` also writes the generated inputs to DIR.

use std::fmt::Write as _;
use std::fs;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

/// Load balancers of the fleet run, and the hosts behind them.
const FLEET_LBS: usize = 20;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// An inventory of `n` web hosts plus the two LBs and the controller of rolling-50.
fn rolling_inventory(n: usize) -> String {
    let mut out = String::with_capacity(n * 32 + 200);
    out.push_str("[web]\n");
    for i in 0..n {
        let _ = writeln!(out, "web-{i:05} web_port={}", 8000 + i % 1000);
    }
    out.push_str("[lb]\nlb-01\nlb-02\n[controller]\nctl\n");
    out.push_str(
        "[all:vars]\nansible_connection=local\nansible_python_interpreter=/usr/bin/python3\n",
    );
    out
}

/// `apps` apps in 20 pools (app `i` is in pool `i % 20`, so every `serial: 10%` batch takes
/// a tenth of each pool), each pool behind its own LB.
fn fleet_inventory(apps: usize) -> String {
    let mut out = String::with_capacity(apps * 64);
    // The rollout's order is the `apps` group's: app number order, every pool in each batch.
    out.push_str("[apps]\n");
    for i in 0..apps {
        let _ = writeln!(
            out,
            "app-{i:05} app_port={} lb=lb-{:02}",
            10_000 + i,
            i % FLEET_LBS
        );
    }
    for p in 0..FLEET_LBS {
        let _ = writeln!(out, "[pool_{p:02}]");
        for i in (p..apps).step_by(FLEET_LBS) {
            let _ = writeln!(out, "app-{i:05}");
        }
        let _ = writeln!(out, "[lb_{p:02}]\nlb-{p:02} lb_port=80");
    }
    out.push_str("[lbs:children]\n");
    for p in 0..FLEET_LBS {
        let _ = writeln!(out, "lb_{p:02}");
    }
    out.push_str("[all:vars]\nansible_connection=local\napp_env=production\ntier=frontend\n");
    out
}

fn fleet_file(apps: usize) -> String {
    let per_pool = apps / FLEET_LBS;
    let mut out = String::from(
        "apps:\n  - hosts: apps\n    port_var: app_port\n    config: /tmp/app-{host}/config.toml\n    restart_seconds: 0.5\n\nload_balancers:\n",
    );
    for p in 0..FLEET_LBS {
        let _ = write!(
            out,
            "  - hosts: lb_{p:02}\n    port_var: lb_port\n    pool_dir: /tmp/lb-{{host}}\n    backends: pool_{p:02}\n    environment: production\n    tier: frontend\n    max_unavailable: {}\n",
            per_pool / 10
        );
    }
    out.push_str("\ntraffic:\n  requests_per_second: 100\n  timeout: 2\n  path: /\n");
    out.push_str("\nlabels:\n  environment: app_env\n  tier: tier\n");
    out
}

/// Drain from the host's LB, deploy (the app restarts), wait until healthy, put it back.
const FLEET_PLAYBOOK: &str = r#"- hosts: lbs
  gather_facts: false
  tasks:
    - name: Draining folders
      file:
        path: "/tmp/lb-{{ inventory_hostname }}/draining"
        state: directory

- hosts: apps
  gather_facts: false
  serial: "10%"
  tasks:
    - name: Drain from the load balancer
      copy:
        dest: "/tmp/lb-{{ lb }}/draining/{{ inventory_hostname }}.conf"
        content: "server {{ inventory_hostname }} { port = {{ app_port }} }\n"
      delegate_to: "{{ lb }}"
    - name: Release folder
      file:
        path: "/tmp/app-{{ inventory_hostname }}"
        state: directory
    - name: Deploy version 2
      copy:
        dest: "/tmp/app-{{ inventory_hostname }}/config.toml"
        content: "version = \"2.0\"\n"
    - name: Wait until healthy
      uri:
        url: "http://{{ inventory_hostname }}:{{ app_port }}/health"
      register: health
      until: health.status == 200
      retries: 10
      delay: 1
    - name: Back into rotation
      file:
        path: "/tmp/lb-{{ lb }}/draining/{{ inventory_hostname }}.conf"
        state: absent
      delegate_to: "{{ lb }}"
"#;

/// One measured run: wall seconds, CPU seconds (user + system) and peak resident memory
/// in MB. The CPU time moves far less than the wall time when other work shares the cores.
struct Measure {
    wall: f64,
    cpu: f64,
    peak_mb: f64,
    exit: i32,
}

/// Runs `fleetsim ARGS` in `dir`, its output to `dir/out.txt`, and measures it.
// The child is reaped by `wait4` (for its rusage), which clippy cannot see.
#[allow(clippy::zombie_processes)]
fn run(dir: &Path, args: &[&str]) -> Measure {
    let out = fs::File::create(dir.join("out.txt")).expect("output file");
    let start = Instant::now();
    let child = Command::new(env!("CARGO_BIN_EXE_fleetsim"))
        .args(args)
        .current_dir(dir)
        .stdout(out)
        .stderr(Stdio::null())
        .spawn()
        .expect("fleetsim starts");
    let pid = child.id() as libc::pid_t;
    let mut status = 0;
    // SAFETY: an all-zero `rusage` is a valid value of this plain C struct.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: `pid` is our own child, not yet waited for; both pointers are to live locals.
    let waited = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    assert_eq!(waited, pid, "wait4 on fleetsim");
    let wall = start.elapsed().as_secs_f64();
    let exit = std::process::ExitStatus::from_raw(status)
        .code()
        .unwrap_or(-1);
    let secs = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    Measure {
        wall,
        cpu: secs(usage.ru_utime) + secs(usage.ru_stime),
        peak_mb: usage.ru_maxrss as f64 / 1024.0,
        exit,
    }
}

fn points() -> Vec<usize> {
    match std::env::var("FLEETSIM_SCALE_POINTS") {
        Ok(s) => s
            .split(',')
            .map(|p| p.trim().parse().expect("FLEETSIM_SCALE_POINTS: numbers"))
            .collect(),
        Err(_) => vec![500, 2_000, 10_000],
    }
}

/// A folder on a memory file system when there is one (the sandbox's file operations are
/// most of a run), else the system's temporary folder.
fn scratch() -> tempfile::TempDir {
    let shm = Path::new("/dev/shm");
    let base = if shm.is_dir() {
        shm.to_path_buf()
    } else {
        std::env::temp_dir()
    };
    tempfile::Builder::new()
        .prefix("fleetsim-scale-")
        .tempdir_in(base)
        .expect("scratch folder")
}

fn write_inputs(name: &str, files: &[(&str, &str)]) {
    if let Ok(dir) = std::env::var("FLEETSIM_SCALE_WRITE") {
        let d = PathBuf::from(dir).join(name);
        fs::create_dir_all(&d).expect("FLEETSIM_SCALE_WRITE folder");
        for (f, text) in files {
            fs::write(d.join(f), text).expect("write input");
        }
    }
}

const COMMON: [&str; 4] = ["--seed", "1", "--start-time", "2026-11-26T06:00:00Z"];

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` passes nothing: run either way,
    // but under `cargo test` only the smallest point (a smoke run, not a measurement).
    let measuring = std::env::args().any(|a| a == "--bench");
    let playbook = fs::read_to_string(root().join("scenarios/rolling-50/rolling.yml"))
        .expect("scenarios/rolling-50/rolling.yml");
    let mut pts = points();
    if !measuring {
        pts.truncate(1);
    }
    println!("rolling playbook (scenarios/rolling-50/rolling.yml, serial 20%)");
    println!(
        "{:>8}  {:>9}  {:>9}  {:>9}  {:>20}",
        "hosts", "wall s", "CPU s", "peak MB", "CPU growth (linear)"
    );
    let mut prev: Option<(usize, f64)> = None;
    for &n in &pts {
        let dir = scratch();
        let inventory = rolling_inventory(n);
        fs::write(dir.path().join("inventory.ini"), &inventory).expect("inventory");
        fs::write(dir.path().join("rolling.yml"), &playbook).expect("playbook");
        write_inputs(
            &format!("rolling-{n}"),
            &[("inventory.ini", &inventory), ("rolling.yml", &playbook)],
        );
        let mut args = vec![
            "playbook",
            "-i",
            "inventory.ini",
            "rolling.yml",
            "--sandbox",
            "sandbox",
        ];
        args.extend(COMMON);
        let m = run(dir.path(), &args);
        assert_eq!(m.exit, 0, "rolling playbook on {n} hosts exits 0");
        let growth = match prev {
            Some((pn, pc)) => format!("{:.2} ({:.2})", m.cpu / pc, n as f64 / pn as f64),
            None => "-".into(),
        };
        println!(
            "{n:>8}  {:>9.2}  {:>9.2}  {:>9.1}  {growth:>20}",
            m.wall, m.cpu, m.peak_mb
        );
        prev = Some((n, m.cpu));
    }

    let apps: usize = std::env::var("FLEETSIM_SCALE_FLEET").map_or(10_000, |v| {
        v.parse().expect("FLEETSIM_SCALE_FLEET: a number")
    });
    if !measuring || apps == 0 {
        return;
    }
    let dir = scratch();
    let (inventory, fleet) = (fleet_inventory(apps), fleet_file(apps));
    for (f, text) in [
        ("inventory.ini", inventory.as_str()),
        ("fleet.yml", fleet.as_str()),
        ("rollout.yml", FLEET_PLAYBOOK),
    ] {
        fs::write(dir.path().join(f), text).expect("fleet input");
    }
    write_inputs(
        &format!("fleet-{apps}"),
        &[
            ("inventory.ini", &inventory),
            ("fleet.yml", &fleet),
            ("rollout.yml", FLEET_PLAYBOOK),
        ],
    );
    let mut args = vec![
        "playbook",
        "-i",
        "inventory.ini",
        "rollout.yml",
        "--fleet",
        "fleet.yml",
        "--report",
        "report.json",
        "--sandbox",
        "sandbox",
    ];
    args.extend(COMMON);
    let m = run(dir.path(), &args);
    let report: serde_json::Value = serde_json::from_str(
        &fs::read_to_string(dir.path().join("report.json")).unwrap_or_default(),
    )
    .unwrap_or_default();
    println!("\nfleet rollout: {apps} apps behind {FLEET_LBS} LBs, serial 10%, 100 req/s per LB");
    println!(
        "wall {:.2} s, CPU {:.2} s, peak {:.1} MB, exit {}, virtual {} s, requests {}, failed {}",
        m.wall,
        m.cpu,
        m.peak_mb,
        m.exit,
        report["virtual_seconds"],
        report["traffic"]["requests"],
        report["traffic"]["failed"]
    );
    if let Some(invs) = report["invariants"].as_array() {
        for inv in invs {
            println!(
                "  {}: {}",
                inv["name"].as_str().unwrap_or("?"),
                if inv["holds"] == true {
                    "holds"
                } else {
                    "BROKEN"
                }
            );
        }
    }
}
