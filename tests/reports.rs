//! `--html`, `--trace` and `--junit`, driven through the binary on the seed lab: the
//! slow-restart step's page shows the drain, the restart, the early re-add and the 503s at
//! their virtual times (read back from the data the page embeds, and drawn by a real headless
//! browser when one is installed); the trace is valid trace-event JSON; the JUnit files keep
//! to the Jenkins JUnit schema that CI systems read.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

const LAB: &str = "scenarios/lab-8.2";
const LIMIT: &str = "web_servers_prod[0:1],api_servers_prod[0]";

fn fleetsim(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_fleetsim"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("fleetsim runs")
}

/// The lab's third step (web-prod-02 slow to restart), writing every report into `dir`.
fn slow_restart_step(dir: &Path) -> (PathBuf, PathBuf, PathBuf) {
    let (html, trace, junit) = (
        dir.join("run.html"),
        dir.join("run.trace.json"),
        dir.join("run.xml"),
    );
    let out = fleetsim(&[
        "playbook",
        "-i",
        &format!("{LAB}/inventory.ini"),
        &format!("{LAB}/playbooks/corrected/lb-orchestration.yml"),
        "--limit",
        LIMIT,
        "--fleet",
        &format!("{LAB}/fleet.yml"),
        "--faults",
        &format!("{LAB}/faults/slow-restart.yml"),
        "--seed",
        "82",
        "--start-time",
        "2026-11-26T09:00:00Z",
        "--html",
        html.to_str().unwrap(),
        "--trace",
        trace.to_str().unwrap(),
        "--junit",
        junit.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(10), "{out:?}");
    (html, trace, junit)
}

/// The runs the page embeds.
fn page_data(page: &str) -> Value {
    let tag = "<script type=\"application/json\" id=\"fleetsim-data\">";
    let start = page.find(tag).expect("embedded data") + tag.len();
    let end = start + page[start..].find("</script>").unwrap();
    serde_json::from_str(&page[start..end]).expect("embedded JSON")
}

/// `(from, until, state)` of a lane.
fn spans(lane: &Value) -> Vec<(f64, f64, String)> {
    lane.as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["from"].as_f64().unwrap(),
                s["until"].as_f64().unwrap(),
                s["state"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn state_at(lane: &[(f64, f64, String)], t: f64) -> &str {
    lane.iter()
        .find(|(from, until, _)| *from <= t && t < *until)
        .map(|(_, _, s)| s.as_str())
        .unwrap_or("-")
}

#[test]
fn the_slow_restart_page_shows_drain_restart_early_readd_and_503s() {
    let dir = tempfile::tempdir().unwrap();
    let (html, _, _) = slow_restart_step(dir.path());
    let page = std::fs::read_to_string(&html).unwrap();
    // Self-contained: nothing is fetched from anywhere.
    assert!(!page.contains(" src=") && !page.contains("<link"));
    let run = &page_data(&page)[0];
    assert_eq!(run["exit_code"], 10);
    assert!(run["replay"]
        .as_str()
        .unwrap()
        .contains("--seed 82 --start-time 2026-11-26T09:00:00Z"));
    let web2 = run["hosts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["name"] == "web-prod-02")
        .expect("a lane for web-prod-02");
    assert_eq!(web2["group"], "web_servers_prod");
    let pool = spans(&web2["pools"]["lb-prod-01"]);
    let app = spans(&web2["app"]);
    // Drained at 14.4 s, restarted (40 s slow restart) at 25.2 s, back in the pool at 26.6 s
    // while still starting.
    assert_eq!(state_at(&pool, 10.0), "active");
    assert_eq!(state_at(&pool, 14.4), "draining");
    assert_eq!(state_at(&app, 25.0), "up");
    assert_eq!(state_at(&app, 25.2), "starting");
    assert_eq!(state_at(&pool, 26.6), "active");
    assert_eq!(state_at(&app, 26.6), "starting");
    let fault = &web2["faults"][0];
    assert_eq!(fault["state"], "slow_restart");
    assert_eq!(fault["from"], 25.2);
    // The 503s: lb-prod-01 fails requests from second 26 on, none before.
    let lb = run["lbs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["name"] == "lb-prod-01")
        .unwrap();
    let failed_seconds: Vec<u64> = lb["per_second"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c[2].as_u64().unwrap() > 0)
        .map(|c| c[0].as_u64().unwrap())
        .collect();
    assert_eq!(failed_seconds.first(), Some(&26));
    assert_eq!(lb["failed"], 47);
    let readd = run["violations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["invariant"] == "healthy_before_readd" && v["lb"] == "lb-prod-01")
        .expect("the early re-add is marked");
    assert_eq!(readd["at"], 26.6);
    assert_eq!(readd["hosts"][0], "web-prod-02");
    // The tasks' lane: the failed-free run still shows each task with its span.
    let tasks = web2["tasks"].as_array().unwrap();
    assert!(tasks
        .iter()
        .any(|t| t["label"] == "Remove draining configuration" && t["state"] == "changed"));
}

/// Chromium as Debian installs it, if it is there.
fn chromium() -> Option<&'static str> {
    ["/usr/bin/chromium", "/usr/bin/chromium-browser"]
        .into_iter()
        .find(|p| Path::new(p).exists())
}

#[test]
fn a_real_browser_draws_the_page() {
    let Some(browser) = chromium() else {
        eprintln!("skipped: no Chromium at /usr/bin/chromium (apt-get install chromium)");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let (html, _, _) = slow_restart_step(dir.path());
    let profile = dir.path().join("profile");
    let out = Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            &format!("--user-data-dir={}", profile.display()),
            "--dump-dom",
            &format!("file://{}", html.display()),
        ])
        .output()
        .expect("chromium runs");
    let dom = String::from_utf8_lossy(&out.stdout);
    // The script ran: lanes exist, with the states drawn as rects carrying their state.
    assert!(dom.contains("data-host=\"web-prod-02\""), "{dom:.2000}");
    assert!(dom.contains("data-state=\"draining\""));
    assert!(dom.contains("data-state=\"starting\""));
    assert!(dom.contains("class=\"violation\""));
    assert!(dom.contains("data-lb=\"lb-prod-01\""));
}

#[test]
fn the_trace_is_trace_event_json() {
    let dir = tempfile::tempdir().unwrap();
    let (_, trace, _) = slow_restart_step(dir.path());
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(trace).unwrap()).unwrap();
    let events = doc["traceEvents"].as_array().unwrap();
    for e in events {
        for key in ["ph", "ts", "pid", "tid"] {
            assert!(e.get(key).is_some(), "{key} missing in {e}");
        }
        assert!(e["ts"].is_i64(), "{e}");
    }
    let phases: std::collections::BTreeSet<&str> =
        events.iter().map(|e| e["ph"].as_str().unwrap()).collect();
    for ph in ["M", "X", "b", "e", "C", "i"] {
        assert!(phases.contains(ph), "no '{ph}' event");
    }
    // Tasks are complete events on the hosts' processes, in virtual microseconds.
    let drain = events
        .iter()
        .find(|e| e["ph"] == "X" && e["name"] == "Remove draining configuration")
        .unwrap();
    assert!(drain["dur"].as_i64().unwrap() > 0);
}

/// Checks a JUnit document against the Jenkins JUnit schema's rules (junit-4.xsd, which
/// Jenkins, GitLab and the GitHub test reporters read): the element tree, the order of a
/// test case's children, the required attributes, and plain-text `skipped`/`system-out`.
fn check_jenkins_junit(xml: &str) {
    let doc = roxmltree::Document::parse(xml).expect("well-formed XML");
    let root = doc.root_element();
    assert_eq!(root.tag_name().name(), "testsuites");
    let allowed = |node: roxmltree::Node, attrs: &[&str], required: &[&str]| {
        for a in node.attributes() {
            assert!(
                attrs.contains(&a.name()),
                "attribute {} not allowed on {}",
                a.name(),
                node.tag_name().name()
            );
        }
        for r in required {
            assert!(node.attribute(*r).is_some(), "{r} required");
        }
    };
    allowed(
        root,
        &["name", "time", "tests", "failures", "disabled", "errors"],
        &[],
    );
    for suite in root.children().filter(|n| n.is_element()) {
        assert_eq!(suite.tag_name().name(), "testsuite");
        allowed(
            suite,
            &[
                "name",
                "tests",
                "failures",
                "errors",
                "time",
                "disabled",
                "skipped",
                "timestamp",
                "hostname",
                "id",
                "package",
            ],
            &["name", "tests"],
        );
        let cases: Vec<_> = suite.children().filter(|n| n.is_element()).collect();
        assert_eq!(
            suite.attribute("tests").unwrap(),
            cases.len().to_string(),
            "tests counts the cases"
        );
        for case in cases {
            assert_eq!(case.tag_name().name(), "testcase");
            allowed(
                case,
                &["name", "assertions", "time", "classname", "status"],
                &["name"],
            );
            let order = ["skipped", "error", "failure", "system-out", "system-err"];
            let mut last = 0;
            for child in case.children().filter(|n| n.is_element()) {
                let name = child.tag_name().name();
                let at = order
                    .iter()
                    .position(|o| *o == name)
                    .unwrap_or_else(|| panic!("{name} not allowed in a testcase"));
                assert!(at >= last, "{name} out of order");
                last = at;
                match name {
                    "failure" | "error" => allowed(child, &["type", "message"], &[]),
                    _ => {
                        allowed(child, &[], &[]);
                        assert!(child.children().all(|c| c.is_text()));
                    }
                }
            }
        }
    }
}

#[test]
fn junit_of_a_playbook_lab_and_check_keeps_to_the_schema() {
    let dir = tempfile::tempdir().unwrap();
    let (_, _, junit) = slow_restart_step(dir.path());
    let xml = std::fs::read_to_string(&junit).unwrap();
    check_jenkins_junit(&xml);
    assert!(xml.contains(
        "name=\"[web-prod-02] Advanced Load Balancer Orchestration: Remove draining configuration\""
    ));
    // The fleet's invariants: the three this step breaks fail, with the replay command.
    let doc = roxmltree::Document::parse(&xml).unwrap();
    let failing: Vec<&str> = doc
        .descendants()
        .filter(|n| n.has_tag_name("testcase") && n.children().any(|c| c.has_tag_name("failure")))
        .map(|n| n.attribute("name").unwrap())
        .collect();
    assert!(failing.contains(&"healthy_before_readd"), "{failing:?}");
    assert!(failing.contains(&"no_failed_requests"));
    assert!(xml.contains("replay: fleetsim playbook"));

    // A lab: a case per step, all as the lab expects.
    let lab_xml = dir.path().join("lab.xml");
    let out = fleetsim(&["lab", LAB, "--junit", lab_xml.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0));
    let xml = std::fs::read_to_string(&lab_xml).unwrap();
    check_jenkins_junit(&xml);
    assert!(xml.contains("tests=\"9\" failures=\"0\""));

    // A check campaign that finds a counterexample: the invariants it broke fail.
    let check_xml = dir.path().join("check.xml");
    check_corrected_rollout(dir.path(), "--junit", &check_xml);
    let xml = std::fs::read_to_string(&check_xml).unwrap();
    check_jenkins_junit(&xml);
    assert!(xml.contains("<testcase name=\"healthy_before_readd\""));
    assert!(xml.contains("broken by counterexample"));
}

/// `fleetsim check` on the corrected rollout (it finds a counterexample: exit 10), writing
/// one report (`flag FILE`).
fn check_corrected_rollout(dir: &Path, flag: &str, file: &Path) {
    let out = fleetsim(&[
        "check",
        LAB,
        "--playbook",
        &format!("{LAB}/playbooks/corrected/lb-orchestration.yml"),
        "-l",
        LIMIT,
        "--cases",
        "20",
        "--seed",
        "3",
        "--out",
        dir.join("check").to_str().unwrap(),
        flag,
        file.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(10), "{out:?}");
}

#[test]
fn check_draws_its_counterexample() {
    let dir = tempfile::tempdir().unwrap();
    let html = dir.path().join("check.html");
    check_corrected_rollout(dir.path(), "--html", &html);
    let data = page_data(&std::fs::read_to_string(&html).unwrap());
    let runs = data.as_array().unwrap();
    let cx = runs.last().unwrap();
    assert!(cx["title"].as_str().unwrap().starts_with("counterexample"));
    assert!(!cx["violations"].as_array().unwrap().is_empty());
    assert!(cx["replay"].as_str().unwrap().contains("--faults"));
}

/// 500 hosts in two groups, rolled out 50 at a time, written as a page.
fn five_hundred_host_page(dir: &Path) -> PathBuf {
    let inventory = dir.join("inventory.ini");
    std::fs::write(&inventory, "[web]\nweb[001:400]\n[api]\napi[001:100]\n").unwrap();
    let playbook = dir.join("roll.yml");
    std::fs::write(
        &playbook,
        "- hosts: all\n  gather_facts: false\n  serial: 50\n  tasks:\n    - name: Deploy\n      copy: {dest: /tmp/app.conf, content: \"{{ inventory_hostname }}\\n\"}\n    - name: Check\n      command: cat /tmp/app.conf\n      changed_when: false\n",
    )
    .unwrap();
    let page = dir.join("500.html");
    let out = fleetsim(&[
        "playbook",
        "-i",
        inventory.to_str().unwrap(),
        playbook.to_str().unwrap(),
        "--seed",
        "5",
        "--sandbox",
        dir.join("sandbox").to_str().unwrap(),
        "--html",
        page.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    page
}

/// At 500 hosts the page stays small and every host is there, grouped by inventory group;
/// groups that big start closed, so a browser draws no lane until one is opened.
#[test]
fn a_page_of_500_hosts_stays_usable() {
    let dir = tempfile::tempdir().unwrap();
    let page = std::fs::read_to_string(five_hundred_host_page(dir.path())).unwrap();
    assert!(page.len() < 2_000_000, "{} bytes", page.len());
    let data = page_data(&page);
    let hosts = data[0]["hosts"].as_array().unwrap();
    assert_eq!(hosts.len(), 500);
    let in_group = |g: &str| hosts.iter().filter(|h| h["group"] == g).count();
    assert_eq!((in_group("web"), in_group("api")), (400, 100));
    let Some(browser) = chromium() else {
        eprintln!(
            "skipped the browser: no Chromium at /usr/bin/chromium (apt-get install chromium)"
        );
        return;
    };
    let html = dir.path().join("500.html");
    let out = Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            &format!("--user-data-dir={}", dir.path().join("profile").display()),
            "--dump-dom",
            &format!("file://{}", html.display()),
        ])
        .output()
        .expect("chromium runs");
    let dom = String::from_utf8_lossy(&out.stdout);
    assert!(dom.contains("web (400 hosts)"), "{dom:.2000}");
    assert!(dom.contains("api (100 hosts)"));
    assert!(
        !dom.contains("data-host="),
        "closed groups draw no lanes yet"
    );
    assert!(dom.contains("PLAY RECAP"));
}
