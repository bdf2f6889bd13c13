//! `iptables`: packet filter rules on the host's simulated `iptables`/`ip6tables`
//! ([`fleetsim_sim::os::iptables`]), as ansible-core's module drives them: the rule built
//! from the options in the module's order (`construct_rule`), `-C` to see whether it is
//! there, then `-A`/`-I`/`-D`; `flush`, `policy` (read back from `-L`), chain creation and
//! deletion with `chain_management`; `ip_version: both` runs both tools. The rules are
//! kept per host but not enforced by the simulated network (see COVERAGE.md).

use serde_json::{json, Value};

use fleetsim_sim::os::iptables as ipt;
use fleetsim_sim::os::Distro;

use super::spec::{opt, spec, Kind, ModuleName, Spec};
use super::{arg_str, Args, Module, ModuleCtx, ModuleResult};

pub struct Iptables;

const SPEC: Spec = spec(
    ModuleName::AsWritten,
    &[
        opt("table", Kind::Str).choices(&["filter", "nat", "mangle", "raw", "security"]),
        opt("state", Kind::Str).choices(&["absent", "present"]),
        opt("action", Kind::Str).choices(&["append", "insert"]),
        opt("ip_version", Kind::Str).choices(&["ipv4", "ipv6", "both"]),
        opt("chain", Kind::Str),
        opt("rule_num", Kind::Str),
        opt("protocol", Kind::Str),
        opt("wait", Kind::Str),
        opt("source", Kind::Str),
        opt("to_source", Kind::Str),
        opt("destination", Kind::Str),
        opt("to_destination", Kind::Str),
        opt("match", Kind::List),
        opt("tcp_flags", Kind::Dict),
        opt("jump", Kind::Str),
        opt("gateway", Kind::Str),
        opt("log_prefix", Kind::Str),
        opt("log_level", Kind::Str).choices(&[
            "0", "1", "2", "3", "4", "5", "6", "7", "emerg", "alert", "crit", "error", "warning",
            "notice", "info", "debug",
        ]),
        opt("goto", Kind::Str),
        opt("in_interface", Kind::Str),
        opt("out_interface", Kind::Str),
        opt("fragment", Kind::Str),
        opt("set_counters", Kind::Str),
        opt("source_port", Kind::Str),
        opt("destination_port", Kind::Str),
        opt("destination_ports", Kind::List),
        opt("to_ports", Kind::Str),
        opt("set_dscp_mark", Kind::Str),
        opt("set_dscp_mark_class", Kind::Str),
        opt("comment", Kind::Str),
        opt("ctstate", Kind::List),
        opt("src_range", Kind::Str),
        opt("dst_range", Kind::Str),
        opt("match_set", Kind::Str),
        opt("match_set_flags", Kind::Str)
            .choices(&["src", "dst", "src,dst", "dst,src", "src,src", "dst,dst"]),
        opt("limit", Kind::Str),
        opt("limit_burst", Kind::Str),
        opt("uid_owner", Kind::Str),
        opt("gid_owner", Kind::Str),
        opt("reject_with", Kind::Str),
        opt("icmp_type", Kind::Str),
        opt("syn", Kind::Str).choices(&["ignore", "match", "negate"]),
        opt("flush", Kind::Bool),
        opt("policy", Kind::Str).choices(&["ACCEPT", "DROP", "QUEUE", "RETURN"]),
        opt("chain_management", Kind::Bool),
        opt("numeric", Kind::Bool),
    ],
)
.mutually_exclusive(&[
    &["set_dscp_mark", "set_dscp_mark_class"],
    &["flush", "policy"],
])
.required_if(&[
    ("jump", "TEE", &["gateway"], false),
    ("jump", "tee", &["gateway"], false),
]);

/// The defaults ansible-core's spec gives, filled in before validation (`flush`'s is
/// not: it would trip the `flush`/`policy` exclusion, which Ansible checks before
/// defaults; its `required_if` is checked in `run`).
fn defaults(args: &Args) -> Args {
    let mut a = args.clone();
    for (k, v) in [
        ("table", json!("filter")),
        ("state", json!("present")),
        ("action", json!("append")),
        ("ip_version", json!("ipv4")),
        ("match", json!([])),
        ("destination_ports", json!([])),
        ("ctstate", json!([])),
        ("syn", json!("ignore")),
        ("chain_management", json!(false)),
        ("numeric", json!(false)),
    ] {
        if a.get(k).is_none_or(Value::is_null) {
            a.insert(k.into(), v);
        }
    }
    a
}

fn s(args: &Args, k: &str) -> Option<String> {
    arg_str(args, k)
}

fn list(args: &Args, k: &str) -> Vec<String> {
    match args.get(k) {
        Some(Value::Array(a)) => a.iter().map(crate::playbook::scalar_text).collect(),
        _ => Vec::new(),
    }
}

/// `append_param`: `FLAG VALUE`, or `! FLAG VALUE` for a value starting with `!`.
fn param(rule: &mut Vec<String>, v: Option<String>, flag: &str) {
    if let Some(v) = v {
        match v.strip_prefix('!') {
            Some(rest) => rule.extend(["!".into(), flag.into(), rest.into()]),
            None => rule.extend([flag.into(), v]),
        }
    }
}

fn flag(rule: &mut Vec<String>, v: Option<&str>, f: &str, negatable: bool) {
    match v {
        Some("match") => rule.push(f.into()),
        Some("negate") if negatable => rule.extend(["!".into(), f.into()]),
        _ => {}
    }
}

fn csv(rule: &mut Vec<String>, v: &[String], f: &str) {
    if !v.is_empty() {
        rule.extend([f.into(), v.join(",")]);
    }
}

fn with_match(rule: &mut Vec<String>, on: bool, m: &str) {
    if on {
        rule.extend(["-m".into(), m.into()]);
    }
}

/// `construct_rule`, option by option in the module's order.
fn construct_rule(a: &Args, ip_version: &str) -> Vec<String> {
    let mut r: Vec<String> = Vec::new();
    let matches = list(a, "match");
    let jump = s(a, "jump");
    param(&mut r, s(a, "protocol"), "-p");
    param(&mut r, s(a, "source"), "-s");
    param(&mut r, s(a, "destination"), "-d");
    for m in &matches {
        param(&mut r, Some(m.clone()), "-m");
    }
    if let Some(Value::Object(tf)) = a.get("tcp_flags") {
        if let (Some(Value::Array(f)), Some(Value::Array(set))) =
            (tf.get("flags"), tf.get("flags_set"))
        {
            let j = |v: &Vec<Value>| {
                v.iter()
                    .map(crate::playbook::scalar_text)
                    .collect::<Vec<_>>()
                    .join(",")
            };
            r.extend(["--tcp-flags".into(), j(f), j(set)]);
        }
    }
    param(&mut r, jump.clone(), "-j");
    if jump
        .as_deref()
        .is_some_and(|j| j.eq_ignore_ascii_case("tee"))
    {
        param(&mut r, s(a, "gateway"), "--gateway");
    }
    param(&mut r, s(a, "log_prefix"), "--log-prefix");
    param(&mut r, s(a, "log_level"), "--log-level");
    param(&mut r, s(a, "to_destination"), "--to-destination");
    let dports = list(a, "destination_ports");
    with_match(&mut r, !dports.is_empty(), "multiport");
    csv(&mut r, &dports, "--dports");
    param(&mut r, s(a, "to_source"), "--to-source");
    param(&mut r, s(a, "goto"), "-g");
    param(&mut r, s(a, "in_interface"), "-i");
    param(&mut r, s(a, "out_interface"), "-o");
    param(&mut r, s(a, "fragment"), "-f");
    param(&mut r, s(a, "set_counters"), "-c");
    param(&mut r, s(a, "source_port"), "--source-port");
    param(&mut r, s(a, "destination_port"), "--destination-port");
    param(&mut r, s(a, "to_ports"), "--to-ports");
    let jump_lower = jump.as_deref().map(str::to_lowercase);
    param(&mut r, s(a, "set_dscp_mark"), "--set-dscp");
    if s(a, "set_dscp_mark").is_some() && jump_lower.as_deref() != Some("dscp") {
        r.extend(["-j".into(), "DSCP".into()]);
    }
    param(&mut r, s(a, "set_dscp_mark_class"), "--set-dscp-class");
    if s(a, "set_dscp_mark_class").is_some() && jump_lower.as_deref() != Some("dscp") {
        r.extend(["-j".into(), "DSCP".into()]);
    }
    flag(&mut r, s(a, "syn").as_deref(), "--syn", true);
    let ctstate = list(a, "ctstate");
    if matches.iter().any(|m| m == "conntrack") {
        csv(&mut r, &ctstate, "--ctstate");
    } else if matches.iter().any(|m| m == "state") {
        csv(&mut r, &ctstate, "--state");
    } else if !ctstate.is_empty() {
        with_match(&mut r, true, "conntrack");
        csv(&mut r, &ctstate, "--ctstate");
    }
    let (src_range, dst_range) = (s(a, "src_range"), s(a, "dst_range"));
    if matches.iter().any(|m| m == "iprange") {
        param(&mut r, src_range, "--src-range");
        param(&mut r, dst_range, "--dst-range");
    } else if src_range.is_some() || dst_range.is_some() {
        with_match(&mut r, true, "iprange");
        param(&mut r, src_range, "--src-range");
        param(&mut r, dst_range, "--dst-range");
    }
    let match_set = s(a, "match_set");
    if matches.iter().any(|m| m == "set") {
        param(&mut r, match_set, "--match-set");
        flag(
            &mut r,
            Some("match"),
            &s(a, "match_set_flags").unwrap_or_default(),
            false,
        );
    } else if match_set.is_some() {
        with_match(&mut r, true, "set");
        param(&mut r, match_set, "--match-set");
        flag(
            &mut r,
            Some("match"),
            &s(a, "match_set_flags").unwrap_or_default(),
            false,
        );
    }
    let (limit, burst) = (s(a, "limit"), s(a, "limit_burst"));
    with_match(&mut r, limit.is_some() || burst.is_some(), "limit");
    param(&mut r, limit, "--limit");
    param(&mut r, burst, "--limit-burst");
    for (key, f) in [("uid_owner", "--uid-owner"), ("gid_owner", "--gid-owner")] {
        let v = s(a, key);
        with_match(&mut r, v.is_some(), "owner");
        flag(&mut r, v.as_deref(), f, true);
        param(&mut r, v, f);
    }
    if jump.is_none() {
        for key in ["reject_with", "set_dscp_mark_class", "set_dscp_mark"] {
            if s(a, key).is_some() {
                let target = if key == "reject_with" {
                    "REJECT"
                } else {
                    "DSCP"
                };
                r.extend(["-j".into(), target.into()]);
            }
        }
    }
    param(&mut r, s(a, "reject_with"), "--reject-with");
    let icmp = if ip_version == "ipv6" {
        "--icmpv6-type"
    } else {
        "--icmp-type"
    };
    param(&mut r, s(a, "icmp_type"), icmp);
    let comment = s(a, "comment");
    with_match(&mut r, comment.is_some(), "comment");
    param(&mut r, comment, "--comment");
    r
}

/// Runs a built command line (its first word is the tool's path).
fn exec(
    fs: &mut fleetsim_sim::fs::Sandbox,
    distro: Distro,
    v6: bool,
    cmd: &[String],
) -> ipt::Output {
    ipt::run(fs, distro, v6, &cmd[1..])
}

/// `run_command(cmd, check_rc=True)`: a failing command fails the module with its output.
fn exec_ok(
    fs: &mut fleetsim_sim::fs::Sandbox,
    distro: Distro,
    v6: bool,
    cmd: Vec<String>,
) -> Result<ipt::Output, ModuleResult> {
    let o = exec(fs, distro, v6, &cmd);
    if o.rc != 0 {
        let mut r = super::fail(o.stderr.trim_end());
        r.insert("cmd".into(), json!(cmd.join(" ")));
        r.insert("rc".into(), json!(o.rc));
        r.insert("stdout".into(), json!(o.stdout));
        r.insert("stderr".into(), json!(o.stderr));
        return Err(r);
    }
    Ok(o)
}

/// `push_arguments`: `PATH -t TABLE ACTION CHAIN [NUM] [-w SECS] [RULE]`.
fn push_arguments(
    path: &str,
    action: &str,
    a: &Args,
    wait: &Option<String>,
    rule: Option<&[String]>,
) -> Vec<String> {
    let mut cmd = vec![
        path.to_string(),
        "-t".into(),
        s(a, "table").unwrap_or_default(),
        action.into(),
        s(a, "chain").unwrap_or_default(),
    ];
    if action == "-I" {
        if let Some(n) = s(a, "rule_num").filter(|n| !n.is_empty()) {
            cmd.push(n);
        }
    }
    if let Some(w) = wait.as_ref().filter(|w| !w.is_empty()) {
        cmd.extend(["-w".into(), w.clone()]);
    }
    if let Some(r) = rule {
        cmd.extend(r.iter().cloned());
    }
    cmd
}

impl Module for Iptables {
    fn run(&self, ctx: &mut ModuleCtx<'_>, args: &Args) -> ModuleResult {
        let mut a = match super::validated(ctx, &SPEC, &defaults(args)) {
            Ok(a) => a,
            Err(r) => return r,
        };
        let flush = a.get("flush").and_then(super::to_bool).unwrap_or(false);
        if !flush && s(&a, "chain").is_none() {
            return super::fail("flush is False but all of the following are missing: chain");
        }
        for key in ["set_dscp_mark", "set_dscp_mark_class"] {
            if s(&a, key).is_some() && s(&a, "jump").is_none() {
                return super::fail(&format!("missing parameter(s) required by '{key}': jump"));
            }
        }
        let ip_version = s(&a, "ip_version").unwrap_or_else(|| "ipv4".into());
        let state = s(&a, "state").unwrap_or_else(|| "present".into());
        let chain_management = a
            .get("chain_management")
            .and_then(super::to_bool)
            .unwrap_or(false);
        let wait_arg = s(&a, "wait");
        let rule_text = construct_rule(&a, &ip_version).join(" ");
        let mut result = super::ok(false);
        result.insert("failed".into(), json!(false));
        result.insert("ip_version".into(), json!(ip_version));
        result.insert("table".into(), json!(s(&a, "table")));
        result.insert("chain".into(), json!(s(&a, "chain")));
        result.insert("flush".into(), json!(flush));
        result.insert("rule".into(), json!(rule_text));
        result.insert("state".into(), json!(state));
        result.insert("chain_management".into(), json!(chain_management));
        result.insert("wait".into(), json!(wait_arg));
        let check = ctx.check_mode;
        let host = match ctx.target_host() {
            Ok(h) => h,
            Err(r) => return r,
        };
        let distro: Distro = match host.os() {
            Ok(d) => d,
            Err(e) => return super::fail(&e),
        };
        let versions: Vec<bool> = match ip_version.as_str() {
            "both" => vec![false, true],
            "ipv6" => vec![true],
            _ => vec![false],
        };
        let mut both_changed = false;
        for v6 in versions {
            let tool = if v6 { "ip6tables" } else { "iptables" };
            let path = format!("/usr/sbin/{tool}");
            if !host.fs.is_file(&path) {
                return super::fail(&format!(
                    "Failed to find required executable \"{tool}\" in paths: /usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
                ));
            }
            if s(&a, "log_prefix").is_some() || s(&a, "log_level").is_some() {
                match s(&a, "jump") {
                    None => {
                        a.insert("jump".into(), json!("LOG"));
                    }
                    Some(j) if j != "LOG" => {
                        return super::fail(
                            "Logging options can only be used with the LOG jump target.",
                        )
                    }
                    _ => {}
                }
            }
            let version_of = if v6 { "ipv6" } else { "ipv4" };
            let rule = construct_rule(&a, version_of);
            // iptables 1.8 takes `-w SECONDS`, so `wait` is passed as given.
            let wait = wait_arg.clone();
            if flush {
                both_changed = true;
                if !check {
                    if let Err(r) = exec_ok(
                        &mut host.fs,
                        distro,
                        v6,
                        push_arguments(&path, "-F", &a, &wait, None),
                    ) {
                        return r;
                    }
                }
            } else if let Some(policy) = s(&a, "policy") {
                let listed = match exec_ok(
                    &mut host.fs,
                    distro,
                    v6,
                    push_arguments(&path, "-L", &a, &wait, None),
                ) {
                    Ok(o) => o,
                    Err(r) => return r,
                };
                let header = listed
                    .stdout
                    .split('\n')
                    .next()
                    .unwrap_or_default()
                    .to_string();
                let current = header
                    .split("(policy ")
                    .nth(1)
                    .and_then(|r| r.split(')').next())
                    .filter(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_uppercase()));
                let Some(current) = current else {
                    return super::fail("Can't detect current policy");
                };
                let changed = current != policy;
                both_changed |= changed;
                if changed && !check {
                    let mut cmd = push_arguments(&path, "-P", &a, &wait, None);
                    cmd.push(policy.clone());
                    if let Err(r) = exec_ok(&mut host.fs, distro, v6, cmd) {
                        return r;
                    }
                }
            } else if state == "absent" && rule_text.is_empty() {
                let present = exec(
                    &mut host.fs,
                    distro,
                    v6,
                    &push_arguments(&path, "-L", &a, &wait, None),
                )
                .rc == 0;
                both_changed |= present;
                if present && chain_management && !check {
                    if let Err(r) = exec_ok(
                        &mut host.fs,
                        distro,
                        v6,
                        push_arguments(&path, "-X", &a, &wait, None),
                    ) {
                        return r;
                    }
                }
            } else if state == "present" && rule_text.is_empty() {
                let present = exec(
                    &mut host.fs,
                    distro,
                    v6,
                    &push_arguments(&path, "-L", &a, &wait, None),
                )
                .rc == 0;
                both_changed |= !present;
                if !present && chain_management && !check {
                    if let Err(r) = exec_ok(
                        &mut host.fs,
                        distro,
                        v6,
                        push_arguments(&path, "-N", &a, &wait, None),
                    ) {
                        return r;
                    }
                }
            } else {
                let present = exec(
                    &mut host.fs,
                    distro,
                    v6,
                    &push_arguments(&path, "-C", &a, &wait, Some(&rule)),
                )
                .rc == 0;
                let wanted = state == "present";
                if present == wanted {
                    continue;
                }
                both_changed = true;
                if !check {
                    let action = if !wanted {
                        "-D"
                    } else if s(&a, "action").as_deref() == Some("insert") {
                        "-I"
                    } else {
                        "-A"
                    };
                    if let Err(r) = exec_ok(
                        &mut host.fs,
                        distro,
                        v6,
                        push_arguments(&path, action, &a, &wait, Some(&rule)),
                    ) {
                        return r;
                    }
                }
            }
        }
        result.insert("changed".into(), json!(both_changed));
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(v: Value) -> String {
        let a = defaults(v.as_object().unwrap());
        construct_rule(&a, "ipv4").join(" ")
    }

    #[test]
    fn rules_are_built_in_the_modules_order() {
        assert_eq!(
            rule(json!({"chain": "INPUT", "protocol": "tcp", "destination_port": "22", "ctstate": ["NEW"], "syn": "match", "jump": "ACCEPT", "comment": "ssh"})),
            "-p tcp -j ACCEPT --destination-port 22 --syn -m conntrack --ctstate NEW -m comment --comment ssh"
        );
        assert_eq!(
            rule(json!({"source": "!10.0.0.0/8", "reject_with": "tcp-reset"})),
            "! -s 10.0.0.0/8 -j REJECT --reject-with tcp-reset"
        );
        assert_eq!(
            rule(
                json!({"protocol": "tcp", "destination_ports": ["80", "443"], "match": ["state"], "ctstate": ["ESTABLISHED", "RELATED"], "jump": "ACCEPT"})
            ),
            "-p tcp -m state -j ACCEPT -m multiport --dports 80,443 --state ESTABLISHED,RELATED"
        );
        assert_eq!(rule(json!({"chain": "INPUT"})), "");
    }
}
