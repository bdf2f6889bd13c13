//! The playbook conformance cases (copied from real ansible-core 2.19 runs into
//! `tests/conformance/cases/`) run through the `fleetsim` binary and compared as the shared
//! Python runner compares them: exit status, normalised result events, PLAY RECAP, and every
//! file left under the case's roots (mode and masked content digest).
//!
//! Cases fleetsim does not pass yet are listed, with the reason, in
//! `tests/conformance/known-failures.txt`; this test fails when any other case fails, and
//! also when a listed case starts passing (so the list only ever shrinks).

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use regex::Regex;
use sha2::{Digest, Sha256};

const DEFAULT_MASKS: &[(&str, &str)] = &[
    (r#"/[^\s'"]*/conf-[A-Za-z0-9_]+/case/"#, ""),
    (r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z?", "<TS>"),
    (r"\b1[5-9]\d{8}\b", "<EPOCH>"),
    (r"\b\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}\b", "<IP>"),
];

const DROP_KEYS: &[&str] = &[
    "ansible_loop_var",
    "item",
    "ansible_index_var",
    "changed",
    "failed",
    "skipped",
    "_ansible_no_log",
    "_ansible_verbose_always",
];

struct Case {
    name: String,
    dir: PathBuf,
    args: Vec<String>,
    roots: Vec<String>,
    masks: Vec<(Regex, String)>,
}

fn python_replacement(rep: &str) -> String {
    // Python's `\1` is regex's `${1}`; a literal `$` must be doubled.
    let rep = rep.replace('$', "$$");
    Regex::new(r"\\(\d)")
        .unwrap()
        .replace_all(&rep, "$${$1}")
        .into_owned()
}

fn load_case(dir: &Path) -> Case {
    let text = fs::read_to_string(dir.join("case.toml")).unwrap();
    let doc: toml::Table = text.parse().unwrap();
    let strings = |key: &str| -> Vec<String> {
        doc.get(key)
            .and_then(|v| v.as_array())
            .map(|a| {
                a.iter()
                    .filter_map(|x| x.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    };
    let mut roots = strings("roots");
    if roots.is_empty() {
        roots.push("/tmp/fsim".into());
    }
    let mut masks: Vec<(Regex, String)> = DEFAULT_MASKS
        .iter()
        .map(|(p, r)| (Regex::new(p).unwrap(), r.to_string()))
        .collect();
    for m in doc
        .get("masks")
        .and_then(|v| v.as_array())
        .into_iter()
        .flatten()
    {
        match m {
            toml::Value::Array(pair) => masks.push((
                Regex::new(pair[0].as_str().unwrap()).unwrap(),
                python_replacement(pair[1].as_str().unwrap()),
            )),
            toml::Value::String(p) => masks.push((Regex::new(p).unwrap(), "<MASKED>".into())),
            _ => {}
        }
    }
    Case {
        name: dir.file_name().unwrap().to_string_lossy().into_owned(),
        dir: dir.to_path_buf(),
        args: strings("args"),
        roots,
        masks,
    }
}

fn mask(text: &str, masks: &[(Regex, String)]) -> String {
    let mut t = text.to_string();
    for (re, rep) in masks {
        t = re.replace_all(&t, rep.as_str()).into_owned();
    }
    t
}

fn copy_dir(src: &Path, dst: &Path) {
    fs::create_dir_all(dst).unwrap();
    for e in fs::read_dir(src).unwrap() {
        let e = e.unwrap();
        let name = e.file_name();
        if name == "expected" || name == "case.toml" {
            continue;
        }
        let p = e.path();
        if p.is_dir() {
            copy_dir(&p, &dst.join(&name));
        } else {
            fs::copy(&p, dst.join(&name)).unwrap();
        }
    }
}

/// The shared runner's `parse_events`: result lines normalised and sorted within a task.
fn parse_events(stdout: &str, masks: &[(Regex, String)]) -> Vec<String> {
    let result = Regex::new(
        r"^(ok|changed|skipping|fatal|failed|included|rescued|ignored): \[(?P<host>[^\]\s]+)(?: -> (?P<dlg>[^\]\(]+)(?:\([^\]]*\))?)?\](?P<failed>: (?:FAILED|UNREACHABLE)!)?(?: (?:=> )?\(item=(?P<item>.*?)\))?(?P<rest> => .*)?\s*$",
    )
    .unwrap();
    let header = Regex::new(r"^(PLAY|TASK|RUNNING HANDLER) \[(?P<name>.*)\] \**\s*$").unwrap();
    let included = Regex::new(r"^included: (\S+) for (.*?)(?: => \(item=(.*)\))?\s*$").unwrap();
    let mut events = Vec::new();
    let mut block: Vec<String> = Vec::new();
    let lines: Vec<&str> = stdout.lines().collect();
    let mut i = 0;
    let flush = |events: &mut Vec<String>, block: &mut Vec<String>| {
        block.sort();
        events.append(block);
    };
    while i < lines.len() {
        let line = lines[i].trim_end();
        i += 1;
        if let Some(h) = header.captures(line) {
            flush(&mut events, &mut block);
            let kind = match &h[1] {
                "PLAY" => "PLAY",
                "TASK" => "TASK",
                _ => "HANDLER",
            };
            if &h["name"] != "Gathering Facts" {
                events.push(format!("{kind} {}", mask(&h["name"], masks)));
            }
            continue;
        }
        if line.starts_with("PLAY RECAP") {
            flush(&mut events, &mut block);
            break;
        }
        if line.starts_with("...ignoring") {
            block.push("...ignoring".into());
            continue;
        }
        if line.starts_with("included: ") {
            if let Some(m) = included.captures(line) {
                let item = m
                    .get(3)
                    .map(|x| format!(" item={}", mask(x.as_str(), masks)))
                    .unwrap_or_default();
                let base = Path::new(&m[1])
                    .file_name()
                    .map(|f| f.to_string_lossy().into_owned())
                    .unwrap_or_default();
                for host in m[2].split(", ") {
                    block.push(format!("included {} {base}{item}", host.trim()));
                }
            }
            continue;
        }
        let Some(m) = result.captures(line) else {
            continue;
        };
        let mut status = m[1].to_string();
        if status == "fatal" {
            status = "failed".into();
        }
        if m.name("failed")
            .map(|f| f.as_str().contains("UNREACHABLE"))
            .unwrap_or(false)
        {
            status = "unreachable".into();
        }
        let mut ev = format!("{status} {}", &m["host"]);
        if let Some(d) = m.name("dlg") {
            ev.push_str(&format!(" -> {}", d.as_str().trim()));
        }
        if let Some(item) = m.name("item") {
            ev.push_str(&format!(" item={}", mask(item.as_str().trim(), masks)));
        }
        let rest = m.name("rest").map(|r| r.as_str().trim()).unwrap_or("");
        if rest == "=> {" && (status == "ok" || status == "changed") {
            let mut body = vec!["{".to_string()];
            while i < lines.len() {
                body.push(lines[i].to_string());
                i += 1;
                if lines[i - 1].trim_end() == "}" {
                    break;
                }
            }
            match serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(
                &body.join("\n"),
            ) {
                Ok(mut payload) => {
                    payload.retain(|k, _| !DROP_KEYS.contains(&k.as_str()));
                    ev.push(' ');
                    ev.push_str(&mask(
                        &python_dumps_sorted(&serde_json::Value::Object(payload)),
                        masks,
                    ));
                }
                Err(_) => ev.push_str(" <unparsed payload>"),
            }
        }
        block.push(ev);
    }
    flush(&mut events, &mut block);
    events
}

/// `json.dumps(v, sort_keys=True)`, which escapes non-ASCII as `\uXXXX` (ensure_ascii).
fn python_dumps_sorted(v: &serde_json::Value) -> String {
    let text = fleetsim_engine::output::pyjson::dumps(v, None, true);
    let mut out = String::new();
    for c in text.chars() {
        if c.is_ascii() {
            out.push(c);
        } else {
            let mut buf = [0u16; 2];
            for unit in c.encode_utf16(&mut buf) {
                out.push_str(&format!("\\u{unit:04x}"));
            }
        }
    }
    out
}

fn parse_recap(stdout: &str) -> Vec<String> {
    let re = Regex::new(r"^(?P<host>\S+)\s+: ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)\s+skipped=(\d+)\s+rescued=(\d+)\s+ignored=(\d+)\s*$").unwrap();
    let mut out: Vec<String> = stdout
        .lines()
        .filter_map(|l| re.captures(l.trim_end()))
        .map(|g| {
            format!(
                "{} ok={} changed={} unreachable={} failed={} skipped={} rescued={} ignored={}",
                &g[1], &g[2], &g[3], &g[4], &g[5], &g[6], &g[7], &g[8]
            )
        })
        .collect();
    out.sort();
    out
}

fn glob_component(pat: &str, name: &str) -> bool {
    let re = format!(
        "^{}$",
        regex::escape(pat).replace(r"\*", ".*").replace(r"\?", ".")
    );
    Regex::new(&re).map(|r| r.is_match(name)).unwrap_or(false)
}

/// Paths under `base` matching an absolute glob such as `/tmp/lb-*`.
fn glob(base: &Path, pattern: &str) -> Vec<PathBuf> {
    let mut cur = vec![base.to_path_buf()];
    for comp in pattern.trim_start_matches('/').split('/') {
        let mut next = Vec::new();
        for dir in &cur {
            if comp.contains('*') || comp.contains('?') {
                if let Ok(rd) = fs::read_dir(dir) {
                    let mut names: Vec<_> =
                        rd.filter_map(Result::ok).map(|e| e.file_name()).collect();
                    names.sort();
                    for n in names {
                        if glob_component(comp, &n.to_string_lossy()) {
                            next.push(dir.join(n));
                        }
                    }
                }
            } else if dir.join(comp).exists() {
                next.push(dir.join(comp));
            }
        }
        cur = next;
    }
    cur
}

fn mode_of(p: &Path) -> String {
    use std::os::unix::fs::PermissionsExt;
    format!(
        "{:o}",
        // Followed, as the shared runner's os.stat does (a link shows its target's mode).
        fs::metadata(p)
            .or_else(|_| fs::symlink_metadata(p))
            .unwrap()
            .permissions()
            .mode()
            & 0o777
    )
}

/// The merged file tree of every host's sandbox under the case's roots.
fn tree_manifest(sandbox: &Path, roots: &[String], masks: &[(Regex, String)]) -> Vec<String> {
    let mut entries = BTreeSet::new();
    let hosts = fs::read_dir(sandbox.join("hosts"))
        .map(|rd| {
            rd.filter_map(Result::ok)
                .map(|e| e.path())
                .collect::<Vec<_>>()
        })
        .unwrap_or_default();
    for base in hosts {
        for root in roots {
            for top in glob(&base, root) {
                walk(&base, &top, masks, &mut entries);
            }
        }
    }
    entries.into_iter().collect()
}

fn walk(base: &Path, dir: &Path, masks: &[(Regex, String)], out: &mut BTreeSet<String>) {
    if !dir.is_dir() {
        return;
    }
    let rel = format!("/{}", dir.strip_prefix(base).unwrap().display());
    out.insert(format!("d {} {}", mode_of(dir), mask(&rel, masks)));
    let mut children: Vec<PathBuf> = fs::read_dir(dir)
        .unwrap()
        .filter_map(Result::ok)
        .map(|e| e.path())
        .collect();
    children.sort();
    for p in children {
        if p.is_dir() {
            // As the recording runner's os.walk (followlinks off): a link to a folder is
            // neither walked nor listed.
            if !p.is_symlink() {
                walk(base, &p, masks, out);
            }
        } else {
            let data = fs::read(&p).unwrap_or_default();
            let digest = match String::from_utf8(data.clone()) {
                Ok(text) => hex16(&Sha256::digest(mask(&text, masks).as_bytes())),
                Err(_) => hex16(&Sha256::digest(&data)),
            };
            let name = p.file_name().unwrap().to_string_lossy();
            out.insert(format!(
                "f {} {} {digest}",
                mode_of(&p),
                mask(&format!("{rel}/{name}"), masks)
            ));
        }
    }
}

fn hex16(d: &[u8]) -> String {
    d.iter().map(|b| format!("{b:02x}")).collect::<String>()[..16].to_string()
}

/// The `[ERROR]:` lines of an output, masked and sorted: Ansible shows each error text once
/// per run, so how many there are matters (their order follows results, which parallel
/// hosts may interleave differently).
fn error_headlines(stdout: &str, masks: &[(Regex, String)]) -> Vec<String> {
    let mut lines: Vec<String> = stdout
        .lines()
        .filter(|l| l.starts_with("[ERROR]: "))
        .map(|l| mask(l, masks))
        .collect();
    lines.sort();
    lines
}

fn lines_of(path: &Path) -> Vec<String> {
    fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect()
}

/// Runs one case; returns the differences (empty when it passes).
fn run_case(case: &Case) -> Vec<String> {
    let work = tempfile::Builder::new().prefix("conf-").tempdir().unwrap();
    let dir = work.path().join("case");
    copy_dir(&case.dir, &dir);
    let sandbox = work.path().join("sandbox");
    let out = Command::new(env!("CARGO_BIN_EXE_fleetsim"))
        .arg("playbook")
        .args(&case.args)
        .args([
            "--sandbox",
            sandbox.to_str().unwrap(),
            "--seed",
            "1",
            "--start-time",
            "2026-11-26T06:00:00Z",
        ])
        .current_dir(&dir)
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let mut problems = Vec::new();
    let want_rc = fs::read_to_string(case.dir.join("expected/rc"))
        .unwrap()
        .trim()
        .to_string();
    let got_rc = out
        .status
        .code()
        .map(|c| c.to_string())
        .unwrap_or_else(|| "signal".into());
    if want_rc != got_rc {
        problems.push(format!("exit status: expected {want_rc}, got {got_rc}"));
    }
    let checks = [
        ("events.txt", parse_events(&stdout, &case.masks)),
        ("recap.txt", parse_recap(&stdout)),
        ("stdout.txt", error_headlines(&stdout, &case.masks)),
        (
            "tree.txt",
            tree_manifest(&sandbox, &case.roots, &case.masks),
        ),
    ];
    for (file, got) in checks {
        let want = if file == "stdout.txt" {
            let text = fs::read_to_string(case.dir.join("expected/stdout.txt")).unwrap();
            error_headlines(&text, &case.masks)
        } else {
            lines_of(&case.dir.join("expected").join(file))
        };
        if want != got {
            let first = want
                .iter()
                .zip(got.iter())
                .position(|(a, b)| a != b)
                .unwrap_or(want.len().min(got.len()));
            problems.push(format!(
                "{file} differs at line {}: expected {:?}, got {:?}",
                first + 1,
                want.get(first),
                got.get(first)
            ));
        }
    }
    problems
}

#[test]
fn playbook_cases_match_real_ansible() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/conformance");
    let known: BTreeSet<String> = fs::read_to_string(root.join("known-failures.txt"))
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.split('#').next())
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect();
    let mut dirs: Vec<PathBuf> = fs::read_dir(root.join("cases"))
        .unwrap()
        .filter_map(Result::ok)
        .map(|e| e.path())
        .collect();
    dirs.sort();
    let mut unexpected = Vec::new();
    let mut fixed = Vec::new();
    let mut passed = 0;
    for d in &dirs {
        let case = load_case(d);
        let problems = run_case(&case);
        match (problems.is_empty(), known.contains(&case.name)) {
            (true, false) => passed += 1,
            (true, true) => fixed.push(case.name.clone()),
            (false, true) => {}
            (false, false) => {
                unexpected.push(format!("{}:\n  {}", case.name, problems.join("\n  ")))
            }
        }
    }
    println!(
        "playbook conformance: {passed} passed, {} known failures",
        known.len()
    );
    assert!(
        unexpected.is_empty(),
        "cases that should pass failed:\n{}",
        unexpected.join("\n")
    );
    assert!(
        fixed.is_empty(),
        "cases listed in known-failures.txt now pass; remove them: {fixed:?}"
    );
}
