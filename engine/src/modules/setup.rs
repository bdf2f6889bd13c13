//! The options of `setup` (an explicit task, or the play's fact gathering): `gather_subset`
//! picks fact collectors as ansible-core's `get_collector_names` and `_solve_deps` do,
//! `filter` keeps the facts whose `ansible_` name matches one of its fnmatch patterns (as
//! `_filter`); the `local` collector reads `fact_path` (default /etc/ansible/facts.d) on
//! the simulated host as ansible-core's LocalFactCollector does (`*.fact` files as JSON, else
//! INI); `gather_timeout` changes nothing (simulated facts are gathered at once).

use regex::Regex;
use std::collections::BTreeSet;

use serde_json::{json, Map, Value};

use super::spec::{opt, spec, Kind, ModuleName, Spec};
use super::{Args, ModuleResult};

const SPEC: Spec = spec(
    ModuleName::AsWritten,
    &[
        opt("gather_subset", Kind::List),
        opt("gather_timeout", Kind::Int),
        opt("filter", Kind::List),
        opt("fact_path", Kind::Path),
    ],
);

/// Whether `pattern` matches `name` as `fnmatch.fnmatch` does on POSIX (case-sensitive).
fn fnmatch(name: &str, pattern: &str) -> bool {
    Regex::new(&crate::inventory::pattern::fnmatch_translate(pattern))
        .map(|r| r.is_match(name))
        .unwrap_or(false)
}

/// Whether the fact `name` (without its `ansible_` prefix) passes the filter patterns: an
/// empty pattern matches all; a pattern not starting with ansible_, facter or ohai is also
/// tried with `ansible_` in front.
fn kept(name: &str, patterns: &[String]) -> bool {
    let full = format!("ansible_{name}");
    patterns.iter().any(|f| {
        f.is_empty()
            || fnmatch(&full, f)
            || (!["ansible_", "facter", "ohai"]
                .iter()
                .any(|p| f.starts_with(p))
                && fnmatch(&full, &format!("ansible_{f}")))
    })
}

/// Each name `gather_subset` may give and the collector it selects (ansible-core 2.19's
/// `build_fact_id_to_collector_map` on Linux: collector names and their `_fact_ids`).
const FACT_IDS: &[(&str, &str)] = &[
    ("all_ipv4_addresses", "network"),
    ("all_ipv6_addresses", "network"),
    ("apparmor", "apparmor"),
    ("architecture", "platform"),
    ("caps", "caps"),
    ("chroot", "chroot"),
    ("cmdline", "cmdline"),
    ("date_time", "date_time"),
    ("default_ipv4", "network"),
    ("default_ipv6", "network"),
    ("devices", "hardware"),
    ("distribution", "distribution"),
    ("distribution_major_version", "distribution"),
    ("distribution_release", "distribution"),
    ("distribution_version", "distribution"),
    ("dns", "dns"),
    ("effective_group_ids", "user"),
    ("effective_user_id", "user"),
    ("env", "env"),
    ("facter", "facter"),
    ("fibre_channel_wwn", "fibre_channel_wwn"),
    ("fips", "fips"),
    ("hardware", "hardware"),
    ("interfaces", "network"),
    ("is_chroot", "chroot"),
    ("iscsi", "iscsi"),
    ("kernel", "platform"),
    ("kernel_version", "platform"),
    ("loadavg", "loadavg"),
    ("local", "local"),
    ("lsb", "lsb"),
    ("machine", "platform"),
    ("machine_id", "platform"),
    ("mounts", "hardware"),
    ("network", "network"),
    ("nvme", "nvme"),
    ("ohai", "ohai"),
    ("os_family", "distribution"),
    ("pkg_mgr", "pkg_mgr"),
    ("platform", "platform"),
    ("processor", "hardware"),
    ("processor_cores", "hardware"),
    ("processor_count", "hardware"),
    ("python", "python"),
    ("python_version", "platform"),
    ("real_user_id", "user"),
    ("selinux", "selinux"),
    ("service_mgr", "service_mgr"),
    ("ssh_host_key_dsa_public", "ssh_pub_keys"),
    ("ssh_host_key_ecdsa_public", "ssh_pub_keys"),
    ("ssh_host_key_ed25519_public", "ssh_pub_keys"),
    ("ssh_host_key_rsa_public", "ssh_pub_keys"),
    ("ssh_host_pub_keys", "ssh_pub_keys"),
    ("ssh_pub_keys", "ssh_pub_keys"),
    ("system", "platform"),
    ("system_capabilities", "caps"),
    ("system_capabilities_enforced", "caps"),
    ("systemd", "systemd"),
    ("user", "user"),
    ("user_dir", "user"),
    ("user_gecos", "user"),
    ("user_gid", "user"),
    ("user_id", "user"),
    ("user_shell", "user"),
    ("user_uid", "user"),
    ("virtual", "virtual"),
    ("virtualization_role", "virtual"),
    ("virtualization_tech_guest", "virtual"),
    ("virtualization_tech_host", "virtual"),
    ("virtualization_type", "virtual"),
];

/// The setup module's `minimal_gather_subset`: gathered even under `!all`.
const MINIMAL: &[&str] = &[
    "apparmor",
    "caps",
    "cmdline",
    "date_time",
    "distribution",
    "dns",
    "env",
    "fips",
    "local",
    "lsb",
    "pkg_mgr",
    "platform",
    "python",
    "selinux",
    "service_mgr",
    "ssh_pub_keys",
    "user",
];

/// Collectors that need others' facts (`required_facts`), which are then gathered too.
const REQUIRES: &[(&str, &[&str])] = &[
    ("hardware", &["platform"]),
    ("network", &["distribution", "platform"]),
    ("pkg_mgr", &["distribution"]),
    ("service_mgr", &["distribution", "platform"]),
];

/// The collector of each simulated fact.
fn collector_of(fact: &str) -> &'static str {
    match fact {
        "architecture" | "domain" | "fqdn" | "hostname" | "kernel" | "machine" | "nodename"
        | "python_version" | "system" | "kernel_version" => "platform",
        "apparmor" => "apparmor",
        "selinux" | "selinux_python_present" => "selinux",
        "os_family" => "distribution",
        f if f.starts_with("distribution") => "distribution",
        "memfree_mb" | "memtotal_mb" | "uptime_seconds" => "hardware",
        "effective_user_id" | "real_user_id" => "user",
        f if f.starts_with("processor") => "hardware",
        "all_ipv4_addresses" | "all_ipv6_addresses" | "default_ipv4" => "network",
        f if f.starts_with("virtualization_") => "virtual",
        f if f.starts_with("user_") => "user",
        "date_time" | "env" | "lsb" | "pkg_mgr" | "python" | "service_mgr" | "loadavg" => FACT_IDS
            .iter()
            .find(|(id, _)| *id == fact)
            .map(|(_, c)| *c)
            .unwrap_or("unknown"),
        _ => "unknown",
    }
}

fn collector(id: &str) -> Option<&'static str> {
    FACT_IDS.iter().find(|(f, _)| *f == id).map(|(_, c)| *c)
}

/// The collectors a `gather_subset` list selects: `get_collector_names` (min first, then
/// additions, exclusions with a collector's own fact ids, explicit additions winning),
/// then the collectors those need. An unknown name is ansible-core's `Bad subset` error.
pub fn collectors(subset: &[String]) -> Result<BTreeSet<&'static str>, String> {
    let valid: BTreeSet<&str> = FACT_IDS.iter().map(|(f, _)| *f).collect();
    let minimal: BTreeSet<&str> = MINIMAL.iter().copied().collect();
    let asked: Vec<&str> = if subset.is_empty() {
        vec!["all"]
    } else {
        subset.iter().map(String::as_str).collect()
    };
    let mut additional: BTreeSet<&str> = BTreeSet::new();
    let mut exclude: BTreeSet<&str> = BTreeSet::new();
    let mut explicit: BTreeSet<&str> = BTreeSet::new();
    for name in std::iter::once("min").chain(asked) {
        match name {
            "min" => additional.extend(&minimal),
            "all" => additional.extend(&valid),
            _ => match name.strip_prefix('!') {
                Some("min") => exclude.extend(&minimal),
                Some("all") => exclude.extend(valid.difference(&minimal)),
                Some(other) => {
                    // `!hardware` also excludes hardware's own fact ids (devices, ...).
                    if valid.contains(other) && collector(other) == Some(other) {
                        exclude.extend(
                            FACT_IDS
                                .iter()
                                .filter(|(_, c)| *c == other)
                                .map(|(f, _)| *f),
                        );
                    }
                    if let Some(known) = valid.get(other) {
                        exclude.insert(known);
                    }
                }
                None => {
                    let Some(known) = valid.get(name) else {
                        let all: Vec<&str> = valid.iter().copied().collect();
                        return Err(format!(
                            "Bad subset '{name}' given to Ansible. gather_subset options allowed: all, {}",
                            all.join(", ")
                        ));
                    };
                    explicit.insert(known);
                    additional.insert(known);
                }
            },
        }
    }
    if additional.is_empty() {
        additional.extend(&valid);
    }
    let removed: BTreeSet<&str> = exclude.difference(&explicit).copied().collect();
    let mut chosen: BTreeSet<&'static str> = additional
        .difference(&removed)
        .filter_map(|id| collector(id))
        .collect();
    loop {
        let needed: Vec<&'static str> = REQUIRES
            .iter()
            .filter(|(c, _)| chosen.contains(c))
            .flat_map(|(_, reqs)| reqs.iter().copied())
            .filter(|r| !chosen.contains(r))
            .collect();
        if needed.is_empty() {
            return Ok(chosen);
        }
        chosen.extend(needed);
    }
}

/// A list option as text items (a string is one item after the spec's comma split).
fn texts(args: &Args, name: &str) -> Vec<String> {
    match args.get(name) {
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| match v {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// The facts `setup` returns with these options and the module's warnings, or its
/// failure: the chosen collectors' facts with `gather_subset` (as given) and
/// `module_setup`, then the filter. `fs` is the host's filesystem (executable local facts
/// run there at virtual time `now`).
pub fn select(
    action_written: &str,
    args: &Args,
    facts: Map<String, Value>,
    fs: Option<&mut fleetsim_sim::fs::Sandbox>,
    now: f64,
) -> Result<(Map<String, Value>, Vec<String>), ModuleResult> {
    let mut warnings = Vec::new();
    let args = SPEC.validate(action_written, args)?;
    let mut subset = texts(&args, "gather_subset");
    if subset.is_empty() {
        subset.push("all".into());
    }
    // The default subset (every host's fact gathering, every run) is worked out once: the
    // choice depends on nothing but the subset asked for.
    static ALL: std::sync::LazyLock<Result<BTreeSet<&'static str>, String>> =
        std::sync::LazyLock::new(|| collectors(&["all".to_string()]));
    let computed;
    let chosen = if subset.len() == 1 && subset[0] == "all" {
        &*ALL
    } else {
        computed = collectors(&subset);
        &computed
    };
    let chosen = chosen.as_ref().map_err(|e| super::fail(e))?;
    let mut out: Map<String, Value> = facts
        .into_iter()
        .filter(|(k, _)| chosen.contains(collector_of(k)))
        .collect();
    if chosen.contains("local") {
        let fact_path = match args.get("fact_path") {
            Some(Value::String(p)) => p.clone(),
            _ => DEFAULT_FACT_PATH.to_string(),
        };
        let local = match fs {
            Some(fs) => {
                local_facts(fs, now, &fact_path, &mut warnings).map_err(|e| super::fail(&e))?
            }
            None => Map::new(),
        };
        out.insert("local".into(), Value::Object(local));
    }
    out.insert("gather_subset".into(), json!(subset));
    out.insert("module_setup".into(), json!(true));
    let patterns = texts(&args, "filter");
    // `filter: []`, `''` or `'*'`: no filtering.
    if patterns.is_empty() || patterns == ["*"] {
        return Ok((out, warnings));
    }
    let out = out
        .into_iter()
        .filter(|(k, _)| kept(k, &patterns))
        .collect();
    Ok((out, warnings))
}

/// setup's default `fact_path`.
const DEFAULT_FACT_PATH: &str = "/etc/ansible/facts.d";

/// ansible-core's LocalFactCollector: every `*.fact` file of `fact_path` (sorted), under its
/// name without `.fact`, read as JSON or else as INI (sections of lower-cased options,
/// values through configparser's `%` interpolation); an executable file is run (as
/// `module.run_command(path)`: no shell, the host's in-process shell runs its `#!` script)
/// and its stdout read the same way. What cannot be read becomes the message ansible-core
/// stores instead, which it also pushes to `warnings`. A folder that is not there gives no
/// local facts. A script for an interpreter the simulated hosts do not have is an error
/// naming it: ansible-core would run it.
pub fn local_facts(
    fs: &mut fleetsim_sim::fs::Sandbox,
    now: f64,
    fact_path: &str,
    warnings: &mut Vec<String>,
) -> Result<Map<String, Value>, String> {
    let mut local = Map::new();
    let Ok(mut names) = fs.list_dir(fact_path) else {
        return Ok(local);
    };
    names.sort();
    for name in names.iter().filter(|n| n.ends_with(".fact")) {
        let path = format!("{}/{name}", fact_path.trim_end_matches('/'));
        let base = name.replace(".fact", "");
        let stat = match fs.stat(&path) {
            Ok(s) => s,
            Err(e) => {
                let failed = format!("Could not stat fact ({path}): {}", os_error(&e, &path));
                warnings.push(failed.clone());
                local.insert(base, json!(failed));
                continue;
            }
        };
        let out = if stat.mode & 0o100 != 0 {
            match run_fact_script(fs, now, &path)? {
                Ok(out) => out,
                Err(failed) => {
                    warnings.push(failed.clone());
                    local.insert(base, json!(failed));
                    continue;
                }
            }
        } else {
            // get_file_content: an unreadable file reads as ''.
            fs.read(&path).unwrap_or_default()
        };
        let Ok(text) = String::from_utf8(out) else {
            let fact = format!("error loading fact - output of running \"{path}\" was not utf-8");
            warnings.push(fact.clone());
            local.insert(base, json!(fact));
            continue;
        };
        let fact = match serde_json::from_str::<Value>(&text) {
            Ok(v) => v,
            Err(_) => match parse_ini(&text) {
                Some(ini) => ini_fact(&ini, &path, warnings),
                None => {
                    let fact = format!(
                        "error loading facts as JSON or ini - please check content: {path}"
                    );
                    warnings.push(fact.clone());
                    json!(fact)
                }
            },
        };
        local.insert(base, fact);
    }
    Ok(local)
}

/// Python's `str(OSError)` for a failed call on `path`: `[Errno N] MESSAGE: 'PATH'`.
fn os_error(e: &fleetsim_sim::fs::FsError, path: &str) -> String {
    use fleetsim_sim::fs::Errno;
    let number = match e.errno {
        Errno::Perm => 1,
        Errno::NoEnt => 2,
        Errno::Access => 13,
        Errno::NotDir => 20,
        Errno::NameTooLong => 36,
        Errno::Loop => 40,
        _ => return e.to_string(),
    };
    format!(
        "[Errno {number}] {}: {}",
        e.errno.message(),
        crate::template::pyrepr::str_repr(path)
    )
}

/// Runs an executable fact file: its stdout, or the message ansible-core stores for a
/// non-zero exit (`Failure executing fact script (PATH), rc: N, err: STDERR`). The outer
/// error: a script fleetsim's hosts cannot run.
fn run_fact_script(
    fs: &mut fleetsim_sim::fs::Sandbox,
    now: f64,
    path: &str,
) -> Result<Result<Vec<u8>, String>, String> {
    let text = fs.read(path).unwrap_or_default();
    let first = text.split(|b| *b == b'\n').next().unwrap_or(&[]);
    let first = String::from_utf8_lossy(first);
    if let Some(rest) = first.strip_prefix("#!") {
        let mut words = rest.split_whitespace();
        let prog = words.next().unwrap_or("");
        let prog = if prog.ends_with("/env") {
            words.next().unwrap_or("")
        } else {
            prog
        };
        let name = prog.rsplit('/').next().unwrap_or("");
        if !matches!(name, "sh" | "bash" | "dash") {
            return Err(format!(
                "fleetsim cannot run the executable local fact '{path}': its interpreter '{prog}' is not simulated (only sh, dash and bash scripts run on the simulated hosts)"
            ));
        }
    }
    let mut sc = fleetsim_sim::shell::ShellContext::new(
        fs.clone(),
        fleetsim_sim::rng::fnv1a(path.as_bytes()),
    );
    sc.now = now;
    let quoted = format!("'{}'", path.replace('\'', "'\"'\"'"));
    let out = fleetsim_sim::shell::run(&quoted, &mut sc);
    *fs = sc.sandbox;
    if out.rc != 0 {
        return Ok(Err(format!(
            "Failure executing fact script ({path}), rc: {}, err: {}",
            out.rc,
            out.stderr_str()
        )));
    }
    Ok(Ok(out.stdout))
}

/// An INI text as configparser reads it: the sections in order with their options
/// (lower-cased names, raw values) and the `[DEFAULT]` section's options.
#[derive(Debug, PartialEq)]
struct Ini {
    sections: Vec<(String, Vec<(String, String)>)>,
    defaults: Vec<(String, String)>,
}

/// Python's `configparser` (strict, default options, `=` or `:`, `#`/`;` comments,
/// indented continuation lines), or `None` where `read_file` raises (text before the first
/// section, a repeated section or option).
fn parse_ini(text: &str) -> Option<Ini> {
    let mut defaults: Vec<(String, String)> = Vec::new();
    let mut sections: Vec<(String, Vec<(String, String)>)> = Vec::new();
    let mut in_default = false;
    let mut last_key: Option<(bool, usize)> = None;
    for raw in text.lines() {
        let trimmed = raw.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') || trimmed.starts_with(';') {
            last_key = None;
            continue;
        }
        if raw.starts_with([' ', '\t']) {
            // A continuation of the previous option's value.
            let (in_def, idx) = last_key?;
            let opts = if in_def {
                &mut defaults
            } else {
                &mut sections.last_mut()?.1
            };
            let v = &mut opts[idx].1;
            v.push('\n');
            v.push_str(trimmed);
            continue;
        }
        if let Some(name) = trimmed.strip_prefix('[').and_then(|t| t.strip_suffix(']')) {
            if name == "DEFAULT" {
                in_default = true;
            } else {
                if sections.iter().any(|(s, _)| s == name) {
                    return None;
                }
                in_default = false;
                sections.push((name.to_string(), Vec::new()));
            }
            last_key = None;
            continue;
        }
        let split = trimmed.find(['=', ':'])?;
        let key = trimmed[..split].trim().to_lowercase();
        let value = trimmed[split + 1..].trim().to_string();
        let opts = if in_default {
            &mut defaults
        } else {
            &mut sections.last_mut()?.1
        };
        if opts.iter().any(|(k, _)| *k == key) {
            return None;
        }
        opts.push((key, value));
        last_key = Some((in_default, opts.len() - 1));
    }
    Some(Ini { sections, defaults })
}

/// The local fact of a parsed INI text, as LocalFactCollector builds it: each section's
/// options (its own, then the defaults) through `cp.get`. An option whose interpolation
/// fails makes the whole fact the error message (and a warning); an option read after that
/// fails to be stored in the message text, which ansible-core reports as a failed
/// conversion.
fn ini_fact(ini: &Ini, path: &str, warnings: &mut Vec<String>) -> Value {
    let mut fact: Result<Map<String, Value>, String> = Ok(Map::new());
    for (name, opts) in &ini.sections {
        let mut all: Vec<(String, String)> = opts.clone();
        for (k, v) in &ini.defaults {
            if !all.iter().any(|(o, _)| o == k) {
                all.push((k.clone(), v.clone()));
            }
        }
        if let Ok(m) = &mut fact {
            m.entry(name.clone()).or_insert_with(|| json!({}));
        }
        for (opt, raw) in &all {
            match interpolate(&all, name, opt, raw) {
                Err(ex) => {
                    let msg =
                        format!("error loading facts as ini - please check content: {path} ({ex})");
                    warnings.push(msg.clone());
                    fact = Err(msg);
                }
                Ok(val) => match &mut fact {
                    Ok(m) => {
                        if let Some(Value::Object(s)) = m.get_mut(name) {
                            s.insert(opt.clone(), json!(val));
                        }
                    }
                    Err(_) => {
                        // `fact[sect][opt] = val` on the message string: a TypeError.
                        let msg = format!(
                            "Failed to convert ({path}) to JSON: string indices must be integers, not 'str'"
                        );
                        warnings.push(msg.clone());
                        return json!(msg);
                    }
                },
            }
        }
    }
    match fact {
        Ok(m) => Value::Object(m),
        Err(msg) => json!(msg),
    }
}

/// configparser's BasicInterpolation of one option's raw value (`%%` is `%`,
/// `%(name)s` another option of the section or the defaults), or its exception's text.
fn interpolate(
    opts: &[(String, String)],
    section: &str,
    option: &str,
    raw: &str,
) -> Result<String, String> {
    use crate::template::pyrepr::str_repr;
    const MAX_DEPTH: usize = 10;
    fn some(
        opts: &[(String, String)],
        section: &str,
        option: &str,
        raw: &str,
        rest: &str,
        depth: usize,
        acc: &mut String,
    ) -> Result<(), String> {
        if depth > MAX_DEPTH {
            return Err(format!(
                "Recursion limit exceeded in value substitution: option {} in section {} contains an interpolation key which cannot be substituted in {MAX_DEPTH} steps. Raw value: {}",
                str_repr(option),
                str_repr(section),
                str_repr(raw)
            ));
        }
        let mut rest = rest;
        while !rest.is_empty() {
            let Some(p) = rest.find('%') else {
                acc.push_str(rest);
                return Ok(());
            };
            acc.push_str(&rest[..p]);
            rest = &rest[p..];
            match rest[1..].chars().next() {
                Some('%') => {
                    acc.push('%');
                    rest = &rest[2..];
                }
                Some('(') => {
                    let var = rest[2..]
                        .find(')')
                        .filter(|&e| e > 0 && rest[2 + e + 1..].starts_with('s'))
                        .map(|e| (rest[2..2 + e].to_lowercase(), 2 + e + 2));
                    let Some((var, len)) = var else {
                        return Err(format!(
                            "bad interpolation variable reference {}",
                            str_repr(rest)
                        ));
                    };
                    rest = &rest[len..];
                    let Some((_, v)) = opts.iter().find(|(k, _)| *k == var) else {
                        return Err(format!(
                            "Bad value substitution: option {} in section {} contains an interpolation key {} which is not a valid option name. Raw value: {}",
                            str_repr(option),
                            str_repr(section),
                            str_repr(&var),
                            str_repr(raw)
                        ));
                    };
                    if v.contains('%') {
                        some(opts, section, option, raw, v, depth + 1, acc)?;
                    } else {
                        acc.push_str(v);
                    }
                }
                _ => {
                    return Err(format!(
                        "'%' must be followed by '%' or '(', found: {}",
                        str_repr(rest)
                    ))
                }
            }
        }
        Ok(())
    }
    let mut acc = String::new();
    some(opts, section, option, raw, raw, 1, &mut acc)?;
    Ok(acc)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(p: &[&str]) -> Vec<&'static str> {
        let p: Vec<String> = p.iter().map(|s| s.to_string()).collect();
        [
            "distribution",
            "distribution_version",
            "hostname",
            "facter_x",
        ]
        .into_iter()
        .filter(|n| kept(n, &p))
        .collect()
    }

    fn chosen(subset: &[&str]) -> Vec<&'static str> {
        let s: Vec<String> = subset.iter().map(|x| x.to_string()).collect();
        collectors(&s).unwrap().into_iter().collect()
    }

    #[test]
    fn subsets_select_collectors_as_ansible_core_does() {
        let min = [
            "apparmor",
            "caps",
            "cmdline",
            "date_time",
            "distribution",
            "dns",
            "env",
            "fips",
            "local",
            "lsb",
            "pkg_mgr",
            "platform",
            "python",
            "selinux",
            "service_mgr",
            "ssh_pub_keys",
            "user",
        ];
        assert_eq!(chosen(&["!all"]), min);
        assert_eq!(chosen(&["!all", "!min"]), Vec::<&str>::new());
        // Network needs the platform and distribution facts.
        assert_eq!(
            chosen(&["!all", "!min", "network"]),
            ["distribution", "network", "platform"]
        );
        // A fact id selects its collector.
        assert_eq!(chosen(&["!all", "!min", "architecture"]), ["platform"]);
        // Excluding a collector excludes its fact ids; an explicit addition wins.
        assert!(!chosen(&["all", "!hardware"]).contains(&"hardware"));
        assert!(chosen(&["!hardware", "hardware"]).contains(&"hardware"));
        // What is needed comes back even when excluded.
        assert!(chosen(&["!all", "!platform", "!min", "hardware"]).contains(&"platform"));
    }

    #[test]
    fn an_unknown_subset_is_ansibles_error() {
        let e = collectors(&["bogus".to_string()]).unwrap_err();
        assert!(e.starts_with("Bad subset 'bogus' given to Ansible. gather_subset options allowed: all, all_ipv4_addresses, all_ipv6_addresses, apparmor,"), "{e}");
        // Excluding an unknown name is ignored.
        assert!(collectors(&["!bogus".to_string()]).is_ok());
    }

    #[test]
    fn every_simulated_fact_has_a_collector() {
        let facts = fleetsim_sim::facts::gather(&fleetsim_sim::facts::FactInputs {
            hostname: "web1",
            address: "127.1.0.1",
            now: 0.0,
            user: "root",
        });
        // The host adds its uptime and its OS's facts to these.
        let host_facts = [
            "uptime_seconds",
            "os_family",
            "pkg_mgr",
            "service_mgr",
            "apparmor",
            "selinux",
            "selinux_python_present",
            "kernel_version",
        ];
        for k in facts.keys().map(String::as_str).chain(host_facts) {
            assert_ne!(collector_of(k), "unknown", "{k}");
        }
    }

    #[test]
    fn filter_patterns_match_the_prefixed_names() {
        assert_eq!(
            names(&["ansible_distribution*"]),
            ["distribution", "distribution_version"]
        );
        assert_eq!(names(&["distribution"]), ["distribution"]);
        assert_eq!(
            names(&["ansible_host*", "*_version"]),
            ["distribution_version", "hostname"]
        );
        assert_eq!(names(&["Distribution"]), Vec::<&str>::new());
        assert_eq!(names(&[""]).len(), 4);
    }

    #[test]
    fn ini_local_facts_read_as_configparser_does() {
        let ini =
            parse_ini("# c\n[General]\nAsdf = 1\nbar: two\n  more\n[DEFAULT]\nd=x\n").unwrap();
        assert_eq!(
            ini_fact(&ini, "f", &mut Vec::new()),
            json!({"General": {"asdf": "1", "bar": "two\nmore", "d": "x"}})
        );
        assert_eq!(parse_ini("no header = 1\n"), None);
        let ini = parse_ini("[s]\na = 50%%\nb = %(a)s of %(A)s\n").unwrap();
        assert_eq!(
            ini_fact(&ini, "f", &mut Vec::new()),
            json!({"s": {"a": "50%", "b": "50% of 50%"}})
        );
        let mut warnings = Vec::new();
        let ini = parse_ini("[bad fact]\nvalue = this is a % bad % fact\n").unwrap();
        let msg = "error loading facts as ini - please check content: f ('%' must be followed by '%' or '(', found: '% bad % fact')";
        assert_eq!(ini_fact(&ini, "f", &mut warnings), json!(msg));
        assert_eq!(warnings, [msg]);
        let ini = parse_ini("[s]\ny = %(nope)s\n").unwrap();
        assert_eq!(
            ini_fact(&ini, "f", &mut Vec::new()),
            json!("error loading facts as ini - please check content: f (Bad value substitution: option 'y' in section 's' contains an interpolation key 'nope' which is not a valid option name. Raw value: '%(nope)s')")
        );
        assert_eq!(parse_ini("[a]\nx=1\n[a]\n"), None);
        assert_eq!(
            parse_ini(""),
            Some(Ini {
                sections: vec![],
                defaults: vec![]
            })
        );
    }
}
