//! Ansible's default stdout callback, line for line: banners, per-host result lines,
//! per-item lines, `[ERROR]` blocks with their origin, `...ignoring`, and the PLAY RECAP.
//!
//! Results within a task are printed in inventory order (Ansible prints them as hosts
//! finish), so two runs always print the same bytes.

pub mod diff;
pub mod hints;
pub mod pyjson;

use std::collections::HashSet;
use std::io::Write;

use indexmap::IndexMap;
use serde_json::{Map, Value};

/// The recap counters of one host.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HostStats {
    pub ok: u32,
    pub changed: u32,
    pub unreachable: u32,
    pub failed: u32,
    pub skipped: u32,
    pub rescued: u32,
    pub ignored: u32,
}

/// The terminal width Ansible assumes when stdout is not a terminal.
const COLUMNS: usize = 80;

/// How a deprecation warning's line starts (shown on stderr, once, unless
/// `ANSIBLE_DEPRECATION_WARNINGS` turns them off).
pub const DEPRECATION_PREFIX: &str = "[DEPRECATION WARNING]: ";

/// The notice ansible-core shows once, before the first deprecation warning.
const DEPRECATION_NOTICE: &str = "[WARNING]: Deprecation warnings can be disabled by setting `deprecation_warnings=False` in ansible.cfg.";

/// Where output goes, with Ansible's formatting helpers.
pub struct Display {
    out: Box<dyn Write>,
    pub verbosity: u8,
    /// The text printed so far is kept when capturing (tests, `fleetsim lab`).
    captured: Option<Vec<u8>>,
    /// `[ERROR]` and `[WARNING]` texts shown so far: Ansible's display shows each once per
    /// run (the whole text, `Origin` and source lines included), so two hosts failing a task
    /// with the same message print one error block and two `fatal:` lines. Only looked up.
    shown_once: HashSet<String>,
    /// While set, what would be printed is kept here instead (the free strategy prints a
    /// host's result when its task ends on the virtual clock, not when it starts).
    held: Option<Vec<Held>>,
}

/// One piece of output kept back by [`Display::hold`].
#[derive(Debug, Clone)]
pub enum Held {
    Line(String),
    Error(String),
    Note(String),
}

impl Display {
    pub fn new(out: Box<dyn Write>, verbosity: u8) -> Display {
        Display {
            out,
            verbosity,
            captured: None,
            shown_once: HashSet::new(),
            held: None,
        }
    }

    /// A display that keeps everything in memory.
    pub fn capture(verbosity: u8) -> Display {
        Display {
            out: Box::new(std::io::sink()),
            verbosity,
            captured: Some(Vec::new()),
            shown_once: HashSet::new(),
            held: None,
        }
    }

    pub fn captured(&self) -> String {
        self.captured
            .as_ref()
            .map(|b| String::from_utf8_lossy(b).into_owned())
            .unwrap_or_default()
    }

    /// Prints one line (or a task's whole `[ERROR]` block); an error or a warning only if
    /// that text was not shown already, a warning on stderr. A closed pipe is not an error worth dying for:
    /// output simply stops.
    pub fn line(&mut self, text: &str) {
        if let Some(shown) = crate::surrogate::for_display(text) {
            self.line(&shown);
            self.warning(crate::surrogate::DISPLAY_WARNING);
            return;
        }
        if let Some(held) = &mut self.held {
            held.push(Held::Line(text.to_string()));
            return;
        }
        let deprecation = text.starts_with(DEPRECATION_PREFIX);
        if deprecation && !crate::config::deprecation_warnings() {
            return;
        }
        let once = text.starts_with("[ERROR]: ") || text.starts_with("[WARNING]: ") || deprecation;
        if once && !self.shown_once.insert(text.to_string()) {
            return;
        }
        if deprecation && !self.shown_once.contains(DEPRECATION_NOTICE) {
            self.line(DEPRECATION_NOTICE);
        }
        match &mut self.captured {
            Some(buf) => {
                buf.extend_from_slice(text.as_bytes());
                buf.push(b'\n');
            }
            // Ansible's warnings go to stderr, beside the callback's stdout.
            None if text.starts_with("[WARNING]: ") || deprecation => {
                let _ = self.out.flush();
                eprintln!("{text}");
            }
            None => {
                let _ = writeln!(self.out, "{text}");
            }
        }
    }

    /// `PLAY [name] ****...` preceded by an empty line, padded with stars to 80 columns.
    pub fn banner(&mut self, msg: &str) {
        let msg = msg.trim();
        let stars = COLUMNS.saturating_sub(msg.chars().count() + 1).max(3);
        self.line("");
        self.line(&format!("{msg} {}", "*".repeat(stars)));
    }

    pub fn warning(&mut self, msg: &str) {
        self.line(&format!("[WARNING]: {msg}"));
    }

    /// `[ERROR]: ...` followed by an empty line, on stderr as Ansible prints errors that stop
    /// the run (a playbook that does not load, a bad pattern). Failed tasks print their
    /// `[ERROR]` blocks on stdout, with their results, through [`Display::line`].
    pub fn error(&mut self, msg: &str) {
        if let Some(shown) = crate::surrogate::for_display(msg) {
            self.error(&shown);
            self.warning(crate::surrogate::DISPLAY_WARNING);
            return;
        }
        if let Some(held) = &mut self.held {
            held.push(Held::Error(msg.to_string()));
            return;
        }
        match &mut self.captured {
            Some(buf) => {
                buf.extend_from_slice(format!("[ERROR]: {msg}\n\n").as_bytes());
            }
            None => {
                let _ = self.out.flush();
                eprintln!("[ERROR]: {msg}\n");
            }
        }
    }

    /// fleetsim's own explanation after an Ansible message, on stderr so that stdout stays
    /// exactly what Ansible prints.
    pub fn hint(&mut self, msg: &str) {
        self.note(&format!("fleetsim: hint: {msg}"));
    }

    /// One line of fleetsim's own on stderr (a hint, an internal error report).
    pub fn note(&mut self, line: &str) {
        if let Some(held) = &mut self.held {
            held.push(Held::Note(line.to_string()));
            return;
        }
        match &mut self.captured {
            Some(buf) => buf.extend_from_slice(format!("{line}\n").as_bytes()),
            None => {
                let _ = self.out.flush();
                eprintln!("{line}");
            }
        }
    }

    /// Keeps what is printed from now on until [`Display::release`].
    pub fn hold(&mut self) {
        self.held.get_or_insert_with(Vec::new);
    }

    /// Stops holding output and hands back what was kept.
    pub fn release(&mut self) -> Vec<Held> {
        self.held.take().unwrap_or_default()
    }

    /// Prints output kept back earlier, as it would have been printed then.
    pub fn replay(&mut self, held: Vec<Held>) {
        for h in held {
            match h {
                Held::Line(t) => self.line(&t),
                Held::Error(t) => self.error(&t),
                Held::Note(t) => self.note(&t),
            }
        }
    }

    pub fn flush(&mut self) {
        let _ = self.out.flush();
    }
}

/// `json.dumps(result, sort_keys=True)` without internal `_ansible_*` keys; indented when
/// the result asks for it (`_ansible_verbose_always`, as `debug` does) or at `-vvv`.
pub fn dump_result(result: &Map<String, Value>, verbosity: u8) -> String {
    let indent = result
        .get("_ansible_verbose_always")
        .and_then(Value::as_bool)
        .unwrap_or(false)
        || verbosity > 2;
    let mut clean = strip_internal(result);
    // `_dump_results` drops the error summary and the warnings: the callback shows them on
    // their own.
    clean.remove("exception");
    clean.remove("warnings");
    clean.remove("deprecations");
    pyjson::dumps(
        &Value::Object(clean),
        if indent { Some(4) } else { None },
        true,
    )
}

/// What the callback sees of a result under `no_log: true` (ansible-core's `censor_result`):
/// only the keys it preserves, and the `censored` notice.
pub fn censor(result: &Map<String, Value>) -> Map<String, Value> {
    const PRESERVE: &[&str] = &[
        "attempts",
        "changed",
        "retries",
        "exception",
        "warnings",
        "deprecations",
    ];
    let mut out: Map<String, Value> = result
        .iter()
        .filter(|(k, _)| PRESERVE.contains(&k.as_str()))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    out.insert("censored".into(), Value::String(CENSORED.into()));
    out
}

/// The notice a censored result carries.
pub const CENSORED: &str =
    "the output has been hidden due to the fact that 'no_log: true' was specified for this result";

/// Removes `_ansible_*` keys (recursively, as `strip_internal_keys` does) and `invocation`.
/// A copy pruned in place: copying a map keeps its keys' hashes, where building it key by
/// key hashed every key again (every task's result passes here).
pub fn strip_internal(result: &Map<String, Value>) -> Map<String, Value> {
    let mut out = result.clone();
    strip_internal_in_place(&mut out);
    out
}

/// [`strip_internal`] on a map of one's own: the kept keys stay in their order, and dicts
/// inside it (directly, or as items of a list) lose theirs too.
fn strip_internal_in_place(map: &mut Map<String, Value>) {
    map.retain(|k, v| {
        if k.starts_with("_ansible") || k == "invocation" {
            return false;
        }
        match v {
            Value::Object(m) => strip_internal_in_place(m),
            Value::Array(items) => {
                for item in items {
                    if let Value::Object(m) = item {
                        strip_internal_in_place(m);
                    }
                }
            }
            _ => {}
        }
        true
    });
}

/// The PLAY RECAP block, hosts sorted by name.
pub fn recap(display: &mut Display, stats: &IndexMap<String, HostStats>) {
    display.banner("PLAY RECAP");
    let mut names: Vec<&String> = stats.keys().collect();
    names.sort();
    for name in names {
        let s = stats[name];
        display.line(&format!(
            "{:<26} : {} {} {} {} {} {} {}",
            name,
            field("ok", s.ok),
            field("changed", s.changed),
            field("unreachable", s.unreachable),
            field("failed", s.failed),
            field("skipped", s.skipped),
            field("rescued", s.rescued),
            field("ignored", s.ignored),
        ));
    }
    display.line("");
}

/// The CUSTOM STATS block the default callback prints after the recap when
/// show_custom_stats is on: each host's statistics, then the run's, each as indented JSON
/// with its line breaks taken out.
pub fn custom_stats(display: &mut Display, stats: &IndexMap<String, Map<String, Value>>) {
    if stats.is_empty() {
        return;
    }
    let flat = |m: &Map<String, Value>| {
        pyjson::dumps(&Value::Object(m.clone()), Some(1), true).replace('\n', "")
    };
    display.banner("CUSTOM STATS: ");
    let mut hosts: Vec<&String> = stats.keys().filter(|k| *k != "_run").collect();
    hosts.sort();
    for host in hosts {
        display.line(&format!("\t{host}: {}", flat(&stats[host])));
    }
    if let Some(run) = stats.get("_run") {
        display.line("");
        display.line(&format!("\tRUN: {}", flat(run)));
    }
    display.line("");
}

fn field(name: &str, n: u32) -> String {
    format!("{name}={:<4}", n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strip_internal_drops_internal_keys_at_every_depth_and_keeps_the_order() {
        let result = serde_json::json!({
            "z": 1,
            "_ansible_no_log": false,
            "invocation": {"module_args": {}},
            "results": [
                {"b": 1, "_ansible_item_label": "x", "a": {"_ansible_verbose_always": true, "c": 2}},
                [{"_ansible_deep": 1}],
                "text"
            ],
            "a": {"_ansible_parsed": true, "invocation": 1, "k": "v"}
        });
        let Value::Object(map) = result else {
            unreachable!()
        };
        let stripped = Value::Object(strip_internal(&map));
        // A list inside a list is left as it is: only a list's own dicts are stripped.
        assert_eq!(
            serde_json::to_string(&stripped).unwrap(),
            r#"{"z":1,"results":[{"b":1,"a":{"c":2}},[{"_ansible_deep":1}],"text"],"a":{"k":"v"}}"#
        );
    }

    #[test]
    fn an_error_or_warning_text_is_shown_once_per_run() {
        let mut d = Display::capture(0);
        let block = "[ERROR]: Task failed: Action failed: boom\nOrigin: site.yml:4:7\n";
        d.line(block);
        d.line("fatal: [a]: FAILED! => {}");
        d.line(block);
        d.line("fatal: [b]: FAILED! => {}");
        d.line("[ERROR]: Task failed: Action failed: boom\nOrigin: site.yml:9:7\n");
        let text = d.captured();
        assert_eq!(text.matches("site.yml:4:7").count(), 1, "{text}");
        assert_eq!(text.matches("site.yml:9:7").count(), 1, "{text}");
        assert_eq!(text.matches("fatal:").count(), 2, "{text}");
        d.warning("no inventory was parsed");
        d.warning("no inventory was parsed");
        assert_eq!(d.captured().matches("[WARNING]").count(), 1);
    }

    #[test]
    fn a_deprecation_is_shown_once_after_the_notice() {
        let mut d = Display::capture(0);
        let dep = "[DEPRECATION WARNING]: old. This feature will be removed from ansible-core version 2.23.";
        d.line(dep);
        d.line(dep);
        d.line("[DEPRECATION WARNING]: other.");
        let text = d.captured();
        if crate::config::deprecation_warnings() {
            assert_eq!(
                text.matches("Deprecation warnings can be disabled").count(),
                1,
                "{text}"
            );
            assert!(text.starts_with(DEPRECATION_NOTICE), "{text}");
            assert_eq!(text.matches(dep).count(), 1, "{text}");
            assert_eq!(text.matches("[DEPRECATION WARNING]").count(), 2, "{text}");
        } else {
            assert_eq!(text, "");
        }
    }

    #[test]
    fn banner_is_80_columns() {
        let mut d = Display::capture(0);
        d.banner("PLAY [file and copy]");
        let text = d.captured();
        let line = text.lines().nth(1).unwrap();
        assert_eq!(line.len(), 80);
        assert!(line.starts_with("PLAY [file and copy] ***"));
    }

    #[test]
    fn recap_line_matches_ansible() {
        let mut d = Display::capture(0);
        let mut stats = IndexMap::new();
        stats.insert(
            "app1".to_string(),
            HostStats {
                ok: 13,
                changed: 8,
                ignored: 1,
                ..HostStats::default()
            },
        );
        recap(&mut d, &stats);
        assert!(d.captured().contains(
            "app1                       : ok=13   changed=8    unreachable=0    failed=0    skipped=0    rescued=0    ignored=1   \n"
        ));
    }
}
