//! What a run did, laid out on its virtual time axis, for the pictures and CI files written
//! with `--html`, `--trace` and `--junit`: a [`RunRecord`] keeps one run's event log, recap
//! and fleet report; [`Timeline`] turns it into lanes of spans (tasks, app states, pool
//! membership, faults) and per-second traffic, which every writer draws from.

pub mod html;
pub mod junit;
pub mod trace;

use std::collections::BTreeMap;

use indexmap::IndexMap;
use serde::Serialize;
use serde_json::Value;

use fleetsim_engine::output::HostStats;
use fleetsim_sim::fleet::report::Report;
use fleetsim_sim::world::Event;

/// One `fleetsim playbook` run (alone, or a lab step), as the report writers need it.
#[derive(Debug, Clone)]
pub struct RunRecord {
    /// What the run was: the playbooks, or the lab step's name.
    pub title: String,
    /// The command line that replays it.
    pub replay: String,
    pub playbooks: Vec<String>,
    pub seed: u64,
    /// RFC 3339, UTC.
    pub start_time: String,
    pub exit_code: i32,
    /// The exit status a lab expects of this step.
    pub expected_exit: Option<i32>,
    pub events: Vec<Event>,
    /// PLAY RECAP rows, in the order ansible-playbook prints them.
    pub recap: Vec<(String, HostStats)>,
    pub report: Option<Report>,
    /// Each host's first inventory group (lanes are grouped by it).
    pub groups: BTreeMap<String, String>,
}

impl RunRecord {
    /// Whether the run ended as wanted: as the lab expects, or with exit status 0.
    pub fn as_expected(&self) -> bool {
        self.exit_code == self.expected_exit.unwrap_or(0)
    }
}

/// A stretch of virtual time with a label, in seconds since the run started.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Span {
    pub from: f64,
    pub until: f64,
    /// The state or result (`ok`, `changed`, `failed`, `starting`, `draining`, ...).
    pub state: String,
    /// What the span was (a task's name, a load balancer, a fault kind).
    pub label: String,
    /// More to show on hover (a failure's message).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub detail: String,
}

/// One host's lanes.
#[derive(Debug, Clone, Default, Serialize)]
pub struct HostLanes {
    pub name: String,
    pub group: String,
    pub tasks: Vec<Span>,
    /// The app's states (up, starting, unhealthy, down, unreachable), for app hosts.
    pub app: Vec<Span>,
    /// Membership of each load balancer's pool (active, draining, out), by LB.
    pub pools: IndexMap<String, Vec<Span>>,
    pub faults: Vec<Span>,
}

/// One load balancer's traffic lane: `[second, requests, failed]` per virtual second.
#[derive(Debug, Clone, Serialize)]
pub struct LbLane {
    pub name: String,
    pub per_second: Vec<[u64; 3]>,
    pub requests: u64,
    pub failed: u64,
}

/// An invariant violation, where the timeline marks it.
#[derive(Debug, Clone, Serialize)]
pub struct Marker {
    pub at: f64,
    pub invariant: String,
    pub hosts: Vec<String>,
    pub lb: Option<String>,
    pub task: Option<String>,
    pub detail: String,
}

/// A run laid out on its time axis.
#[derive(Debug, Clone, Serialize)]
pub struct Timeline {
    pub title: String,
    pub replay: String,
    pub seed: u64,
    pub start_time: String,
    pub exit_code: i32,
    pub expected_exit: Option<i32>,
    /// Virtual seconds from the start to the last thing that happened.
    pub end: f64,
    pub hosts: Vec<HostLanes>,
    pub lbs: Vec<LbLane>,
    pub violations: Vec<Marker>,
    /// `[host, ok, changed, unreachable, failed, skipped, rescued, ignored]`.
    pub recap: Vec<(String, [u32; 7])>,
    /// Each invariant with whether it held (empty without a fleet).
    pub invariants: Vec<(String, bool)>,
    pub requests: u64,
    pub failed_requests: u64,
}

fn num(v: &Value, key: &str) -> f64 {
    v.get(key).and_then(Value::as_f64).unwrap_or(0.0)
}

fn text(v: &Value, key: &str) -> String {
    match v.get(key) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Null) | None => String::new(),
        Some(other) => other.to_string(),
    }
}

fn names(v: &Value, key: &str) -> Vec<String> {
    v.get(key)
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|x| x.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// Lanes of states that change at instants: each change closes the open span of its key.
#[derive(Default)]
struct StateLanes {
    open: IndexMap<String, (f64, String)>,
    done: IndexMap<String, Vec<Span>>,
}

impl StateLanes {
    fn set(&mut self, key: &str, at: f64, state: &str) {
        if let Some((from, old)) = self.open.get(key) {
            if old == state {
                return;
            }
            let span = Span {
                from: *from,
                until: at,
                state: old.clone(),
                label: String::new(),
                detail: String::new(),
            };
            self.done.entry(key.to_string()).or_default().push(span);
        }
        self.open.insert(key.to_string(), (at, state.to_string()));
    }

    /// Closes every open span at `end`; spans of no length are dropped.
    fn finish(mut self, end: f64) -> IndexMap<String, Vec<Span>> {
        for (key, (from, state)) in std::mem::take(&mut self.open) {
            self.done.entry(key).or_default().push(Span {
                from,
                until: end,
                state,
                label: String::new(),
                detail: String::new(),
            });
        }
        for spans in self.done.values_mut() {
            spans.retain(|s| s.until > s.from);
        }
        self.done
    }
}

impl Timeline {
    pub fn from_record(r: &RunRecord) -> Timeline {
        let mut hosts: IndexMap<String, HostLanes> = IndexMap::new();
        let groups = &r.groups;
        let lane = |hosts: &mut IndexMap<String, HostLanes>, name: &str| {
            if !hosts.contains_key(name) {
                let lanes = HostLanes {
                    name: name.to_string(),
                    group: groups
                        .get(name)
                        .cloned()
                        .unwrap_or_else(|| "ungrouped".into()),
                    ..HostLanes::default()
                };
                hosts.insert(name.to_string(), lanes);
            }
        };
        // Hosts in recap order first, so the lanes follow the inventory.
        for (h, _) in &r.recap {
            lane(&mut hosts, h);
        }
        let mut app_states = StateLanes::default();
        // Keyed "HOST\tLB".
        let mut pool_states = StateLanes::default();
        let mut end: f64 = 0.0;
        for e in &r.events {
            end = end.max(e.at);
            let host = e.host.as_deref().unwrap_or("");
            let d = &e.detail;
            match e.kind.as_str() {
                "fleet_ready" | "fleet_state" => {
                    for a in names(d, "app_hosts") {
                        lane(&mut hosts, &a);
                        let state = d
                            .get("app_states")
                            .and_then(|s| s.get(&a))
                            .and_then(Value::as_str)
                            .unwrap_or("up");
                        app_states.set(&a, e.at, state);
                    }
                    for l in names(d, "lb_hosts").iter().chain(&names(d, "db_hosts")) {
                        lane(&mut hosts, l);
                    }
                    for p in d
                        .get("pools")
                        .and_then(Value::as_array)
                        .into_iter()
                        .flatten()
                    {
                        set_pool(&mut pool_states, &text(p, "lb"), p, e.at);
                    }
                }
                "lb_reload" => set_pool(&mut pool_states, host, d, e.at),
                "task" => {
                    let from = d.get("start").and_then(Value::as_f64).unwrap_or(e.at);
                    let until = d.get("end").and_then(Value::as_f64).unwrap_or(e.at);
                    end = end.max(until);
                    let mut state = text(d, "status");
                    if d.get("ignored").and_then(Value::as_bool) == Some(true) {
                        state = "ignored".into();
                    }
                    lane(&mut hosts, host);
                    hosts[host].tasks.push(Span {
                        from,
                        until,
                        state,
                        label: text(d, "task"),
                        detail: text(d, "msg"),
                    });
                }
                "app_restart" => app_states.set(host, e.at, "starting"),
                "app_up" => app_states.set(host, e.at, "up"),
                "app_crashed" | "app_stopped" | "fault_crash" => app_states.set(host, e.at, "down"),
                "fault_window" => {
                    let fault = text(d, "fault");
                    let (from, until) = (num(d, "from"), num(d, "until"));
                    lane(&mut hosts, host);
                    hosts[host].faults.push(Span {
                        from,
                        until,
                        state: fault.clone(),
                        label: fault,
                        detail: format!("rule {} of the fault plan", num(d, "rule") as u64 + 1),
                    });
                }
                _ => {}
            }
        }
        let mut app = app_states.finish(end);
        // A fault that makes an app unhealthy or unreachable shows over its state.
        for h in hosts.values_mut() {
            let mut spans = app.shift_remove(&h.name).unwrap_or_default();
            for f in &h.faults {
                if f.state == "unhealthy" || f.state == "unreachable" {
                    spans = overlay(spans, f.from, f.until, &f.state);
                }
            }
            h.app = spans;
        }
        for (key, spans) in pool_states.finish(end) {
            if let Some((host, lb)) = key.split_once('\t') {
                let labelled = spans
                    .into_iter()
                    .map(|s| Span {
                        label: lb.to_string(),
                        ..s
                    })
                    .collect();
                lane(&mut hosts, host);
                hosts[host].pools.insert(lb.to_string(), labelled);
            }
        }
        let (lbs, violations, invariants, requests, failed) = match &r.report {
            Some(rep) => {
                end = end.max(rep.virtual_seconds);
                let lbs = rep
                    .traffic
                    .by_lb
                    .iter()
                    .map(|(name, t)| LbLane {
                        name: name.clone(),
                        per_second: t
                            .per_second
                            .iter()
                            .map(|c| [c.second, c.requests, c.failed])
                            .collect(),
                        requests: t.requests,
                        failed: t.failed,
                    })
                    .collect();
                let mut marks: Vec<Marker> = rep
                    .invariants
                    .iter()
                    .flat_map(|i| {
                        i.violations.iter().map(|v| Marker {
                            at: v.at,
                            invariant: i.name.clone(),
                            hosts: v.hosts.clone(),
                            lb: v.lb.clone(),
                            task: v.task.clone(),
                            detail: v.detail.clone(),
                        })
                    })
                    .collect();
                marks.sort_by(|a, b| a.at.total_cmp(&b.at));
                let inv = rep
                    .invariants
                    .iter()
                    .map(|i| (i.name.clone(), i.holds))
                    .collect();
                (lbs, marks, inv, rep.traffic.requests, rep.traffic.failed)
            }
            None => (Vec::new(), Vec::new(), Vec::new(), 0, 0),
        };
        let recap = r
            .recap
            .iter()
            .map(|(h, s)| {
                (
                    h.clone(),
                    [
                        s.ok,
                        s.changed,
                        s.unreachable,
                        s.failed,
                        s.skipped,
                        s.rescued,
                        s.ignored,
                    ],
                )
            })
            .collect();
        Timeline {
            title: r.title.clone(),
            replay: r.replay.clone(),
            seed: r.seed,
            start_time: r.start_time.clone(),
            exit_code: r.exit_code,
            expected_exit: r.expected_exit,
            end,
            hosts: hosts.into_values().collect(),
            lbs,
            violations,
            recap,
            invariants,
            requests,
            failed_requests: failed,
        }
    }
}

/// Sets every backend's state in one LB's pool from an `lb_reload` (or the initial pools):
/// in rotation is `active`, listed as draining is `draining`, a backend seen before and now
/// in neither is `out`.
fn set_pool(states: &mut StateLanes, lb: &str, d: &Value, at: f64) {
    let active = names(d, "in_rotation");
    let draining = names(d, "draining");
    let prefix = format!("\t{lb}");
    let known: Vec<String> = states
        .open
        .keys()
        .filter(|k| k.ends_with(&prefix))
        .cloned()
        .collect();
    for key in known {
        let host = &key[..key.len() - prefix.len()];
        if !active.iter().any(|a| a == host) && !draining.iter().any(|a| a == host) {
            states.set(&key, at, "out");
        }
    }
    for h in &active {
        states.set(&format!("{h}\t{lb}"), at, "active");
    }
    for h in &draining {
        // A server both in `active/` and `draining/` takes no new requests: draining.
        states.set(&format!("{h}\t{lb}"), at, "draining");
    }
}

/// Puts `state` over `[from, until)` of a lane of consecutive spans.
fn overlay(spans: Vec<Span>, from: f64, until: f64, state: &str) -> Vec<Span> {
    let mut out = Vec::new();
    for s in spans {
        if s.until <= from || s.from >= until {
            out.push(s);
            continue;
        }
        if s.from < from {
            out.push(Span {
                until: from,
                ..s.clone()
            });
        }
        if s.until > until {
            out.push(Span {
                from: until,
                ..s.clone()
            });
        }
    }
    out.push(Span {
        from,
        until,
        state: state.to_string(),
        label: String::new(),
        detail: String::new(),
    });
    out.sort_by(|a, b| a.from.total_cmp(&b.from));
    out
}

/// Writes the files `opts` asks for: the page and the trace of `records` (a lab's steps in
/// order), and `suites` as JUnit XML.
pub fn write_files(
    opts: &crate::cli::ReportOpts,
    title: &str,
    records: &[RunRecord],
    suites: &[junit::Suite],
) -> Result<(), String> {
    let write = |path: &std::path::Path, text: String, what: &str| {
        std::fs::write(path, text)
            .map_err(|e| format!("cannot write the {what} {}: {e}", path.display()))
    };
    let timelines = || {
        records
            .iter()
            .map(Timeline::from_record)
            .collect::<Vec<_>>()
    };
    if let Some(path) = &opts.html {
        write(path, html::render(title, &timelines()), "HTML timeline")?;
    }
    if let Some(path) = &opts.trace {
        write(path, trace::render(&timelines()), "trace")?;
    }
    if let Some(path) = &opts.junit {
        write(path, junit::render(suites), "JUnit file")?;
    }
    Ok(())
}

/// Escapes text for XML and HTML (both element text and attribute values).
pub fn escape_xml(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // Characters XML 1.0 does not allow at all are dropped.
            c if (c as u32) < 0x20 && !matches!(c, '\t' | '\n' | '\r') => {}
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use serde_json::json;

    fn ev(at: f64, kind: &str, host: Option<&str>, detail: Value) -> Event {
        Event {
            at,
            kind: kind.into(),
            host: host.map(str::to_string),
            detail,
        }
    }

    pub(crate) fn record() -> RunRecord {
        RunRecord {
            title: "rollout.yml".into(),
            replay: "fleetsim playbook rollout.yml --seed 1".into(),
            playbooks: vec!["rollout.yml".into()],
            seed: 1,
            start_time: "2026-01-01T00:00:00Z".into(),
            exit_code: 2,
            expected_exit: None,
            events: vec![
                ev(
                    0.0,
                    "fleet_ready",
                    None,
                    json!({"app_hosts": ["web1"], "lb_hosts": ["lb1"], "db_hosts": [],
                           "pools": [{"lb": "lb1", "in_rotation": ["web1"], "draining": []}]}),
                ),
                ev(
                    1.0,
                    "lb_reload",
                    Some("lb1"),
                    json!({"in_rotation": [], "draining": ["web1"]}),
                ),
                ev(
                    1.2,
                    "task",
                    Some("web1"),
                    json!({"task": "drain", "play": "p", "path": "rollout.yml:3", "action": "copy",
                           "status": "changed", "ignored": false, "start": 1.0, "end": 1.2}),
                ),
                ev(2.0, "app_restart", Some("web1"), json!({"seconds": 5.0})),
                ev(
                    3.0,
                    "lb_reload",
                    Some("lb1"),
                    json!({"in_rotation": ["web1"], "draining": []}),
                ),
                ev(
                    3.2,
                    "task",
                    Some("web1"),
                    json!({"task": "check", "play": "p", "path": "rollout.yml:9", "action": "uri",
                           "status": "failed", "ignored": false, "start": 3.0, "end": 3.2,
                           "msg": "Status code was 503 & not [200]"}),
                ),
                ev(7.0, "app_up", Some("web1"), json!({})),
                ev(
                    8.0,
                    "fault_window",
                    Some("web1"),
                    json!({"fault": "slow_restart", "rule": 0, "from": 2.0, "until": 7.0}),
                ),
            ],
            recap: vec![(
                "web1".into(),
                HostStats {
                    ok: 1,
                    changed: 1,
                    failed: 1,
                    ..HostStats::default()
                },
            )],
            report: None,
            groups: BTreeMap::from([("web1".into(), "web".into()), ("lb1".into(), "lb".into())]),
        }
    }

    #[test]
    fn app_states_and_pool_membership_follow_the_events() {
        let t = Timeline::from_record(&record());
        assert_eq!(t.end, 8.0);
        let web = &t.hosts[0];
        assert_eq!(web.name, "web1");
        assert_eq!(web.group, "web");
        let app: Vec<(f64, f64, &str)> = web
            .app
            .iter()
            .map(|s| (s.from, s.until, s.state.as_str()))
            .collect();
        assert_eq!(
            app,
            vec![(0.0, 2.0, "up"), (2.0, 7.0, "starting"), (7.0, 8.0, "up")]
        );
        let pool: Vec<(f64, f64, &str)> = web.pools["lb1"]
            .iter()
            .map(|s| (s.from, s.until, s.state.as_str()))
            .collect();
        assert_eq!(
            pool,
            vec![
                (0.0, 1.0, "active"),
                (1.0, 3.0, "draining"),
                (3.0, 8.0, "active")
            ]
        );
        assert_eq!(web.tasks[1].state, "failed");
        assert_eq!(web.tasks[1].detail, "Status code was 503 & not [200]");
        assert_eq!(web.faults[0].state, "slow_restart");
    }

    #[test]
    fn an_unhealthy_fault_shows_over_the_app_state() {
        let spans = vec![Span {
            from: 0.0,
            until: 10.0,
            state: "up".into(),
            label: String::new(),
            detail: String::new(),
        }];
        let out = overlay(spans, 2.0, 5.0, "unhealthy");
        let got: Vec<(f64, f64, &str)> = out
            .iter()
            .map(|s| (s.from, s.until, s.state.as_str()))
            .collect();
        assert_eq!(
            got,
            vec![(0.0, 2.0, "up"), (2.0, 5.0, "unhealthy"), (5.0, 10.0, "up")]
        );
    }

    #[test]
    fn xml_escaping_drops_what_xml_cannot_hold() {
        assert_eq!(escape_xml("a<b & \"c\"\u{1}"), "a&lt;b &amp; &quot;c&quot;");
    }
}
