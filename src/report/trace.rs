//! Chrome's trace-event JSON (`--trace FILE`), which ui.perfetto.dev and chrome://tracing
//! open: a process per host, a thread per lane (tasks, app state, each pool, faults); tasks
//! as complete events, states as async spans, requests as counters, invariant violations as
//! instant events. Times are virtual microseconds since the run started.

use indexmap::IndexMap;
use serde_json::{json, Value};

use super::{Span, Timeline};

const FLEET_PID: u64 = 1;
const TASKS_TID: u64 = 1;
const APP_TID: u64 = 2;
const FAULTS_TID: u64 = 3;
/// Pool lanes are threads from here on, one per load balancer.
const FIRST_POOL_TID: u64 = 10;

fn us(seconds: f64) -> i64 {
    (seconds * 1_000_000.0).round() as i64
}

fn meta(pid: u64, tid: u64, what: &str, name: &str) -> Value {
    json!({"ph": "M", "name": what, "pid": pid, "tid": tid, "ts": 0, "args": {"name": name}})
}

/// Async begin/end pairs for a lane of spans (Perfetto draws each as a slice on its own
/// track under the thread).
fn async_spans(
    out: &mut Vec<Value>,
    next_id: &mut u64,
    pid: u64,
    tid: u64,
    cat: &str,
    spans: &[Span],
) {
    for s in spans {
        *next_id += 1;
        let id = format!("0x{:x}", *next_id);
        let mut args = json!({"state": s.state});
        if !s.label.is_empty() {
            args["of"] = json!(s.label);
        }
        if !s.detail.is_empty() {
            args["detail"] = json!(s.detail);
        }
        out.push(
            json!({"ph": "b", "cat": cat, "name": s.state, "id": id, "pid": pid,
                        "tid": tid, "ts": us(s.from), "args": args}),
        );
        out.push(
            json!({"ph": "e", "cat": cat, "name": s.state, "id": id, "pid": pid,
                        "tid": tid, "ts": us(s.until)}),
        );
    }
}

/// The trace of one or more runs (a lab's steps become consecutive runs on one axis, each
/// shifted by where the previous one ended).
pub fn render(runs: &[Timeline]) -> String {
    let mut events: Vec<Value> = Vec::new();
    let mut pids: IndexMap<String, u64> = IndexMap::new();
    let mut next_id = 0u64;
    events.push(meta(FLEET_PID, 0, "process_name", "fleet"));
    events.push(meta(FLEET_PID, 0, "thread_name", "invariants"));
    let mut offset = 0.0;
    for t in runs {
        let shift = |s: f64| s + offset;
        let mut pid_of = |name: &str, events: &mut Vec<Value>| -> u64 {
            if let Some(p) = pids.get(name) {
                return *p;
            }
            let p = pids.len() as u64 + 2;
            pids.insert(name.to_string(), p);
            events.push(meta(p, 0, "process_name", name));
            events.push(meta(p, TASKS_TID, "thread_name", "tasks"));
            p
        };
        events.push(
            json!({"ph": "i", "s": "g", "name": format!("run: {}", t.title),
                           "pid": FLEET_PID, "tid": 0, "ts": us(offset),
                           "args": {"replay": t.replay, "exit": t.exit_code}}),
        );
        for h in &t.hosts {
            let pid = pid_of(&h.name, &mut events);
            for task in &h.tasks {
                let mut args = json!({"status": task.state});
                if !task.detail.is_empty() {
                    args["msg"] = json!(task.detail);
                }
                events.push(
                    json!({"ph": "X", "cat": "task", "name": task.label, "pid": pid,
                                   "tid": TASKS_TID, "ts": us(shift(task.from)),
                                   "dur": us(task.until - task.from), "args": args}),
                );
            }
            let shifted = |spans: &[Span]| -> Vec<Span> {
                spans
                    .iter()
                    .map(|s| Span {
                        from: shift(s.from),
                        until: shift(s.until),
                        ..s.clone()
                    })
                    .collect()
            };
            if !h.app.is_empty() {
                events.push(meta(pid, APP_TID, "thread_name", "app"));
                async_spans(
                    &mut events,
                    &mut next_id,
                    pid,
                    APP_TID,
                    "app",
                    &shifted(&h.app),
                );
            }
            if !h.faults.is_empty() {
                events.push(meta(pid, FAULTS_TID, "thread_name", "faults"));
                async_spans(
                    &mut events,
                    &mut next_id,
                    pid,
                    FAULTS_TID,
                    "fault",
                    &shifted(&h.faults),
                );
            }
            for (k, (lb, spans)) in h.pools.iter().enumerate() {
                let tid = FIRST_POOL_TID + k as u64;
                events.push(meta(pid, tid, "thread_name", &format!("pool of {lb}")));
                async_spans(&mut events, &mut next_id, pid, tid, "pool", &shifted(spans));
            }
        }
        for lb in &t.lbs {
            let pid = pid_of(&lb.name, &mut events);
            for [second, requests, failed] in &lb.per_second {
                events.push(json!({"ph": "C", "name": "requests per second", "pid": pid,
                                   "tid": 0, "ts": us(shift(*second as f64)),
                                   "args": {"ok": requests - failed, "failed": failed}}));
            }
            // The counter drops back to zero when the run ends.
            events.push(
                json!({"ph": "C", "name": "requests per second", "pid": pid, "tid": 0,
                               "ts": us(shift(t.end)), "args": {"ok": 0, "failed": 0}}),
            );
        }
        for v in &t.violations {
            let pid = match v.hosts.first().or(v.lb.as_ref()) {
                Some(h) => pid_of(h, &mut events),
                None => FLEET_PID,
            };
            events.push(
                json!({"ph": "i", "s": "p", "cat": "invariant", "name": v.invariant,
                               "pid": pid, "tid": 0, "ts": us(shift(v.at)),
                               "args": {"detail": v.detail, "task": v.task, "lb": v.lb}}),
            );
        }
        offset += t.end;
    }
    let doc = json!({"traceEvents": events, "displayTimeUnit": "ms",
                     "otherData": {"generator": "fleetsim", "clock": "virtual"}});
    let mut text = serde_json::to_string(&doc).unwrap_or_else(|_| "{}".into());
    text.push('\n');
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_event_has_ph_ts_pid_tid() {
        let t = Timeline::from_record(&crate::report::tests::record());
        let doc: Value = serde_json::from_str(&render(&[t])).expect("valid JSON");
        let events = doc["traceEvents"].as_array().expect("traceEvents");
        assert!(events.len() > 10);
        for e in events {
            for key in ["ph", "ts", "pid", "tid"] {
                assert!(e.get(key).is_some(), "{key} missing in {e}");
            }
        }
        let task = events
            .iter()
            .find(|e| e["ph"] == "X" && e["name"] == "check")
            .expect("the failed task");
        assert_eq!(task["ts"], 3_000_000);
        assert_eq!(task["dur"], 200_000);
        assert_eq!(task["args"]["status"], "failed");
        // Every async begin has its end.
        let begins = events.iter().filter(|e| e["ph"] == "b").count();
        let ends = events.iter().filter(|e| e["ph"] == "e").count();
        assert_eq!(begins, ends);
        assert!(events
            .iter()
            .any(|e| e["ph"] == "b" && e["cat"] == "pool" && e["name"] == "draining"));
    }
}
