//! Records invariant violations as the run goes. A condition that stays broken (a backend
//! failing request after request, a pool below its floor) is one violation with a start, an
//! end and a count, not thousands of lines: that is what a person reading the report needs.

use indexmap::IndexMap;

use super::report::{InvariantResult, Violation, INVARIANTS};

/// A violation still going on (or closed), with what it needs to describe itself at the end.
#[derive(Debug, Clone)]
struct Spell {
    violation: Violation,
    /// What keeps it going: the same key at the next observation extends it.
    key: String,
    count: u64,
    until: f64,
    open: bool,
    /// `{n}`, `{from}`, `{to}` are filled in when the report is made.
    template: String,
}

/// Violations per invariant, in the order they began.
#[derive(Debug, Default)]
pub struct Checker {
    spells: IndexMap<&'static str, Vec<Spell>>,
}

/// One observation of a broken invariant.
pub struct Breach<'a> {
    pub invariant: &'static str,
    /// Observations with the same key continue the same violation while it is open.
    pub key: String,
    /// Elapsed virtual seconds.
    pub at: f64,
    pub hosts: Vec<String>,
    pub lb: Option<String>,
    pub task: Option<&'a str>,
    /// Text with `{n}` (how many observations), `{s}` (a plural "s" unless there was one),
    /// `{from}` and `{to}` (elapsed seconds).
    pub template: String,
}

impl Checker {
    /// Records a breach: extends the open violation with the same key, or starts one.
    pub fn breach(&mut self, b: Breach<'_>) {
        let list = self.spells.entry(b.invariant).or_default();
        if let Some(s) = list.iter_mut().rev().find(|s| s.open && s.key == b.key) {
            s.count += 1;
            s.until = b.at;
            return;
        }
        list.push(Spell {
            violation: Violation {
                at: round_ms(b.at),
                hosts: b.hosts,
                lb: b.lb,
                task: b.task.map(str::to_string),
                detail: String::new(),
            },
            key: b.key,
            count: 1,
            until: b.at,
            open: true,
            template: b.template,
        });
    }

    /// Ends the open violations of `invariant` whose key starts with `prefix`: the condition
    /// was observed to hold again.
    pub fn close(&mut self, invariant: &'static str, prefix: &str) {
        if let Some(list) = self.spells.get_mut(invariant) {
            for s in list
                .iter_mut()
                .filter(|s| s.open && s.key.starts_with(prefix))
            {
                s.open = false;
            }
        }
    }

    /// [`Checker::close`] with the prefix `HOST|`, without building it: the state checks
    /// close their host's violations after every observation.
    pub fn close_host(&mut self, invariant: &'static str, host: &str) {
        if let Some(list) = self.spells.get_mut(invariant) {
            for s in list.iter_mut().filter(|s| {
                s.open
                    && s.key
                        .strip_prefix(host)
                        .is_some_and(|rest| rest.starts_with('|'))
            }) {
                s.open = false;
            }
        }
    }

    /// Whether any violation of `invariant` is going on (a cheap test before building the
    /// key of a [`Checker::close`]).
    pub fn any_open(&self, invariant: &'static str) -> bool {
        self.spells
            .get(invariant)
            .is_some_and(|l| l.iter().any(|s| s.open))
    }

    /// Whether a violation of `invariant` with this key is going on.
    pub fn is_open(&self, invariant: &'static str, key: &str) -> bool {
        self.spells
            .get(invariant)
            .is_some_and(|l| l.iter().any(|s| s.open && s.key == key))
    }

    /// The results, one per invariant in report order.
    pub fn results(&self) -> Vec<InvariantResult> {
        INVARIANTS
            .iter()
            .map(|name| {
                let violations: Vec<Violation> = self
                    .spells
                    .get(name)
                    .map(|l| {
                        l.iter()
                            .map(|s| {
                                let mut v = s.violation.clone();
                                v.detail = s
                                    .template
                                    .replace("{n}", &s.count.to_string())
                                    .replace("{s}", if s.count == 1 { "" } else { "s" })
                                    .replace("{from}", &format!("{:.1}", s.violation.at))
                                    .replace("{to}", &format!("{:.1}", round_ms(s.until)));
                                v
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                InvariantResult {
                    name: name.to_string(),
                    holds: violations.is_empty(),
                    violations,
                }
            })
            .collect()
    }
}

pub fn round_ms(t: f64) -> f64 {
    (t * 1000.0).round() / 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b(key: &str, at: f64) -> Breach<'static> {
        Breach {
            invariant: "no_failed_requests",
            key: key.into(),
            at,
            hosts: vec!["web-1".into()],
            lb: Some("lb-1".into()),
            task: Some("Deploy"),
            template: "{n} request{s} failed from {from} s to {to} s".into(),
        }
    }

    #[test]
    fn a_run_of_breaches_is_one_violation_until_closed() {
        let mut c = Checker::default();
        c.breach(b("lb-1|web-1", 1.0));
        c.breach(b("lb-1|web-1", 1.5));
        c.breach(b("lb-1|web-1", 2.0));
        c.close("no_failed_requests", "lb-1|");
        c.breach(b("lb-1|web-1", 9.0));
        let r = c.results();
        assert_eq!(r.len(), INVARIANTS.len());
        let v = &r[0].violations;
        assert!(!r[0].holds);
        assert_eq!(v.len(), 2);
        assert_eq!(v[0].detail, "3 requests failed from 1.0 s to 2.0 s");
        assert_eq!(v[1].detail, "1 request failed from 9.0 s to 9.0 s");
        assert!(r[1..].iter().all(|i| i.holds));
    }

    #[test]
    fn close_host_closes_only_that_hosts_keys() {
        let mut c = Checker::default();
        c.breach(b("lb-1|web-1", 1.0));
        c.breach(b("lb-10|web-1", 1.0));
        c.breach(b("lb-1x", 1.0));
        c.close_host("no_failed_requests", "lb-1");
        assert!(!c.is_open("no_failed_requests", "lb-1|web-1"));
        // Another host whose name starts with the same letters, and a key without `|`.
        assert!(c.is_open("no_failed_requests", "lb-10|web-1"));
        assert!(c.is_open("no_failed_requests", "lb-1x"));
        // Another invariant: nothing to close.
        c.close_host("capacity_floor", "lb-10");
        assert!(c.is_open("no_failed_requests", "lb-10|web-1"));
    }
}
