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

/// The facts `setup` returns with these options, or its failure: the chosen collectors'
/// facts with `gather_subset` (as given) and `module_setup`, then the filter.
pub fn select(
    action_written: &str,
    args: &Args,
    facts: Map<String, Value>,
    fs: Option<&fleetsim_sim::fs::Sandbox>,
) -> Result<Map<String, Value>, ModuleResult> {
    let args = SPEC.validate(action_written, args)?;
    let mut subset = texts(&args, "gather_subset");
    if subset.is_empty() {
        subset.push("all".into());
    }
    let chosen = collectors(&subset).map_err(|e| super::fail(&e))?;
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
            Some(fs) => local_facts(fs, &fact_path).map_err(|e| super::fail(&e))?,
            None => Map::new(),
        };
        out.insert("local".into(), Value::Object(local));
    }
    out.insert("gather_subset".into(), json!(subset));
    out.insert("module_setup".into(), json!(true));
    let patterns = texts(&args, "filter");
    // `filter: []`, `''` or `'*'`: no filtering.
    if patterns.is_empty() || patterns == ["*"] {
        return Ok(out);
    }
    Ok(out
        .into_iter()
        .filter(|(k, _)| kept(k, &patterns))
        .collect())
}

/// setup's default `fact_path`.
const DEFAULT_FACT_PATH: &str = "/etc/ansible/facts.d";

/// ansible-core's LocalFactCollector: every `*.fact` file of `fact_path` (sorted), under its
/// name without `.fact`, read as JSON or else as INI (sections of lower-cased options);
/// text that is neither becomes the message ansible-core stores instead. A folder that is
/// not there gives no local facts. Executable fact files are programs, which the simulated
/// hosts do not run: an error naming the file.
pub fn local_facts(
    fs: &fleetsim_sim::fs::Sandbox,
    fact_path: &str,
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
                local.insert(base, json!(format!("Could not stat fact ({path}): {e}")));
                continue;
            }
        };
        if stat.mode & 0o100 != 0 {
            return Err(format!(
                "fleetsim does not run executable local facts yet ('{path}' is executable)"
            ));
        }
        let text = fs.read_to_string(&path).unwrap_or_default();
        let fact = match serde_json::from_str::<Value>(&text) {
            Ok(v) => v,
            Err(_) => match parse_ini(&text) {
                Some(sections) => Value::Object(sections),
                None => json!(format!(
                    "error loading facts as JSON or ini - please check content: {path}"
                )),
            },
        };
        local.insert(base, fact);
    }
    Ok(local)
}

/// Python's `configparser` (strict, default options, `=` or `:`, `#`/`;` comments,
/// indented continuation lines): sections of options with lower-cased names, or `None`
/// where configparser raises (text before the first section, a repeated section or option).
fn parse_ini(text: &str) -> Option<Map<String, Value>> {
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
    let mut out = Map::new();
    for (name, opts) in sections {
        let mut m = Map::new();
        for (k, v) in opts.into_iter().chain(defaults.iter().cloned()) {
            m.entry(k).or_insert(Value::String(v));
        }
        out.insert(name, Value::Object(m));
    }
    Some(out)
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
        let got =
            parse_ini("# c\n[General]\nAsdf = 1\nbar: two\n  more\n[DEFAULT]\nd=x\n").unwrap();
        assert_eq!(
            Value::Object(got),
            json!({"General": {"asdf": "1", "bar": "two\nmore", "d": "x"}})
        );
        assert_eq!(parse_ini("no header = 1\n"), None);
        assert_eq!(parse_ini("[a]\nx=1\n[a]\n"), None);
        assert_eq!(parse_ini(""), Some(Map::new()));
    }
}
