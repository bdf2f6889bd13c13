//! The host's packet filter rules as `iptables`/`ip6tables` keep them in the kernel: per
//! family and table, the built-in chains' policies, user chains and rules, stored as the
//! lines `iptables -t TABLE -S` prints in `/run/fleetsim/iptables/{v4,v6}/TABLE` (under
//! `/run`, so a reboot loses them, as it does unless something restores them).
//!
//! The fleet does not enforce these rules: traffic between simulated hosts and services
//! flows whatever they say. They exist for the `iptables` module, `iptables -S`/`-L`/`-C`
//! in the shell, and playbooks that read them back.
//!
//! Rules are kept normalised as iptables prints them back: addresses get their prefix
//! length (`/32`, `/128`), `-p tcp|udp` port options get their implicit `-m tcp|udp`,
//! long port options their short names, and words with spaces are quoted.

use super::{put, text, Distro};
use crate::fs::Sandbox;

pub const DIR: &str = "/run/fleetsim/iptables";

/// The tables and their built-in chains.
pub const TABLES: &[(&str, &[&str])] = &[
    ("filter", &["INPUT", "FORWARD", "OUTPUT"]),
    ("nat", &["PREROUTING", "INPUT", "OUTPUT", "POSTROUTING"]),
    (
        "mangle",
        &["PREROUTING", "INPUT", "FORWARD", "OUTPUT", "POSTROUTING"],
    ),
    ("raw", &["PREROUTING", "OUTPUT"]),
    ("security", &["INPUT", "FORWARD", "OUTPUT"]),
];

/// Targets built into iptables (a `-j` naming neither these nor a user chain is an error).
const TARGETS: &[&str] = &[
    "ACCEPT",
    "DROP",
    "REJECT",
    "RETURN",
    "LOG",
    "QUEUE",
    "DNAT",
    "SNAT",
    "MASQUERADE",
    "REDIRECT",
    "DSCP",
    "TEE",
    "MARK",
    "CONNMARK",
    "NOTRACK",
    "CT",
    "TCPMSS",
    "NFLOG",
];

/// `iptables --version` on the distribution.
pub fn version(distro: Distro) -> &'static str {
    match distro {
        Distro::Debian12 => "1.8.9",
        Distro::Ubuntu2404 | Distro::Rocky9 => "1.8.10",
    }
}

/// One table of one family.
#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    pub policies: Vec<(String, String)>,
    pub chains: Vec<String>,
    pub rules: Vec<(String, Vec<String>)>,
}

fn builtin(table: &str) -> Option<&'static [&'static str]> {
    TABLES.iter().find(|(t, _)| *t == table).map(|(_, c)| *c)
}

fn path(v6: bool, table: &str) -> String {
    format!("{DIR}/{}/{table}", if v6 { "v6" } else { "v4" })
}

/// Splits a rule line as a shell would (double quotes group words).
fn words(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut any = false;
    for c in line.chars() {
        match c {
            '"' => {
                quoted = !quoted;
                any = true;
            }
            c if c.is_whitespace() && !quoted => {
                if any || !cur.is_empty() {
                    out.push(std::mem::take(&mut cur));
                }
                any = false;
            }
            c => cur.push(c),
        }
    }
    if any || !cur.is_empty() {
        out.push(cur);
    }
    out
}

fn quote(w: &str) -> String {
    if w.is_empty() || w.contains(char::is_whitespace) {
        format!("\"{w}\"")
    } else {
        w.to_string()
    }
}

impl Table {
    pub fn load(fs: &Sandbox, v6: bool, table: &str) -> Table {
        let mut t = Table {
            policies: builtin(table)
                .unwrap_or_default()
                .iter()
                .map(|c| (c.to_string(), "ACCEPT".to_string()))
                .collect(),
            chains: Vec::new(),
            rules: Vec::new(),
        };
        for line in text(fs, &path(v6, table)).lines() {
            let w = words(line);
            match w.first().map(String::as_str) {
                Some("-P") if w.len() == 3 => {
                    if let Some(p) = t.policies.iter_mut().find(|(c, _)| *c == w[1]) {
                        p.1 = w[2].clone();
                    }
                }
                Some("-N") if w.len() == 2 => t.chains.push(w[1].clone()),
                Some("-A") if w.len() >= 2 => t.rules.push((w[1].clone(), w[2..].to_vec())),
                _ => {}
            }
        }
        t
    }

    /// `iptables -S [CHAIN]`.
    pub fn dump(&self, chain: Option<&str>) -> String {
        let mut s = String::new();
        let keep = |c: &str| chain.is_none_or(|x| x == c);
        for (c, p) in self.policies.iter().filter(|(c, _)| keep(c)) {
            s.push_str(&format!("-P {c} {p}\n"));
        }
        for c in self.chains.iter().filter(|c| keep(c)) {
            s.push_str(&format!("-N {c}\n"));
        }
        for (c, r) in self.rules.iter().filter(|(c, _)| keep(c)) {
            let r: Vec<String> = r.iter().map(|w| quote(w)).collect();
            s.push_str(&format!("-A {c} {}\n", r.join(" ")));
        }
        s
    }

    fn has_chain(&self, chain: &str) -> bool {
        self.policies.iter().any(|(c, _)| c == chain) || self.chains.iter().any(|c| c == chain)
    }
}

/// Options that belong to a target (`-j`), wherever the rule gives them.
const TARGET_OPTIONS: &[&str] = &[
    "--reject-with",
    "--log-prefix",
    "--log-level",
    "--to-destination",
    "--to-source",
    "--to-ports",
    "--set-dscp",
    "--set-dscp-class",
    "--gateway",
    "--set-mark",
];

/// A rule's words as iptables prints them back: addresses, interfaces and protocol first,
/// then each match with its options (the implicit `-m tcp`/`-m udp` of port options
/// first), then the target with its options.
pub fn normalise(rule: &[String], v6: bool) -> Vec<String> {
    // Groups of words: an option (with a `!` before it) and its values.
    let mut groups: Vec<Vec<String>> = Vec::new();
    let mut i = 0;
    while i < rule.len() {
        let mut g = Vec::new();
        if rule[i] == "!" {
            g.push("!".to_string());
            i += 1;
        }
        if let Some(w) = rule.get(i) {
            g.push(w.clone());
            i += 1;
        }
        while i < rule.len() && !rule[i].starts_with('-') && rule[i] != "!" {
            g.push(rule[i].clone());
            i += 1;
        }
        groups.push(g);
    }
    let opt = |g: &Vec<String>| g.iter().find(|w| *w != "!").cloned().unwrap_or_default();
    let mut base: Vec<(usize, Vec<String>)> = Vec::new();
    let mut matches: Vec<Vec<String>> = Vec::new();
    let mut target: Vec<String> = Vec::new();
    let mut target_opts: Vec<String> = Vec::new();
    let mut proto: Option<String> = None;
    for mut g in groups {
        let o = opt(&g);
        let slot = ["-s", "-d", "-i", "-o", "-p", "-f"].iter().position(|f| {
            *f == o
                || matches!(
                    (*f, o.as_str()),
                    ("-s", "--source")
                        | ("-d", "--destination")
                        | ("-i", "--in-interface")
                        | ("-o", "--out-interface")
                        | ("-p", "--protocol")
                        | ("-f", "--fragment")
                )
        });
        if let Some(slot) = slot {
            let at = g.iter().position(|w| *w != "!").unwrap_or(0);
            g[at] = ["-s", "-d", "-i", "-o", "-p", "-f"][slot].to_string();
            if slot <= 1 {
                if let Some(addr) = g.get_mut(at + 1) {
                    if !addr.contains('/') {
                        addr.push_str(if v6 { "/128" } else { "/32" });
                    }
                }
            }
            if slot == 4 {
                proto = g.get(at + 1).cloned();
            }
            base.push((slot, g));
        } else if o == "-m" || o == "--match" {
            matches.push(vec!["-m".into(), g.get(1).cloned().unwrap_or_default()]);
        } else if o == "-j" || o == "--jump" || o == "-g" || o == "--goto" {
            let f = if o.starts_with("-j") || o == "--jump" {
                "-j"
            } else {
                "-g"
            };
            target = vec![f.into(), g.get(1).cloned().unwrap_or_default()];
        } else if TARGET_OPTIONS.contains(&o.as_str()) {
            target_opts.extend(g);
        } else {
            let port = matches!(
                o.as_str(),
                "--dport"
                    | "--destination-port"
                    | "--sport"
                    | "--source-port"
                    | "--syn"
                    | "--tcp-flags"
            );
            if port {
                let at = g.iter().position(|w| *w != "!").unwrap_or(0);
                g[at] = match o.as_str() {
                    "--destination-port" => "--dport".into(),
                    "--source-port" => "--sport".into(),
                    other => other.into(),
                };
                if let Some(p) = proto
                    .clone()
                    .filter(|p| matches!(p.as_str(), "tcp" | "udp"))
                {
                    let last_is_proto = matches.last().is_some_and(|m| m[1] == p);
                    if !last_is_proto {
                        match matches.iter().position(|m| m[1] == p) {
                            Some(k) => {
                                let m = matches.remove(k);
                                matches.push(m);
                            }
                            None => matches.insert(0, vec!["-m".into(), p.clone()]),
                        }
                    }
                    if let Some(k) = matches.iter().position(|m| m[1] == p) {
                        matches[k].extend(g);
                        continue;
                    }
                }
            }
            match matches.last_mut() {
                Some(m) => m.extend(g),
                None => target_opts.extend(g),
            }
        }
    }
    base.sort_by_key(|(slot, _)| *slot);
    let mut out: Vec<String> = base.into_iter().flat_map(|(_, g)| g).collect();
    out.extend(matches.into_iter().flatten());
    out.extend(target);
    out.extend(target_opts);
    out
}

/// An `iptables` run's outcome.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Output {
    pub rc: i32,
    pub stdout: String,
    pub stderr: String,
}

fn done(stdout: String) -> Output {
    Output {
        rc: 0,
        stdout,
        stderr: String::new(),
    }
}

fn error(rc: i32, msg: impl Into<String>) -> Output {
    Output {
        rc,
        stdout: String::new(),
        stderr: msg.into(),
    }
}

const NO_CHAIN: &str = "iptables: No chain/target/match by that name.\n";
const BAD_RULE: &str = "iptables: Bad rule (does a matching rule exist in that chain?).\n";

/// `iptables ARGS` (or `ip6tables` with `v6`).
pub fn run(fs: &mut Sandbox, distro: Distro, v6: bool, args: &[String]) -> Output {
    let tool = if v6 { "ip6tables" } else { "iptables" };
    let mut table = "filter".to_string();
    let mut action: Option<(String, Option<String>)> = None;
    let mut rest: Vec<String> = Vec::new();
    let mut rule_num: Option<usize> = None;
    let mut numeric_listing = false;
    let mut i = 0;
    while i < args.len() {
        let a = args[i].as_str();
        match a {
            "--version" | "-V" => {
                return done(format!("{tool} v{} (nf_tables)\n", version(distro)));
            }
            "-t" | "--table" => {
                i += 1;
                table = args.get(i).cloned().unwrap_or_default();
            }
            "-w" | "--wait" => {
                // Seconds to wait for the xtables lock: nothing else holds it here.
                if args.get(i + 1).is_some_and(|n| n.parse::<u32>().is_ok()) {
                    i += 1;
                }
            }
            "-n" | "--numeric" => numeric_listing = true,
            "-A" | "-I" | "-D" | "-C" | "-F" | "-P" | "-N" | "-X" | "-L" | "-S" | "--append"
            | "--insert" | "--delete" | "--check" | "--flush" | "--policy" | "--new-chain"
            | "--delete-chain" | "--list" | "--list-rules"
                if action.is_none() =>
            {
                let short = match a {
                    "--append" => "-A",
                    "--insert" => "-I",
                    "--delete" => "-D",
                    "--check" => "-C",
                    "--flush" => "-F",
                    "--policy" => "-P",
                    "--new-chain" => "-N",
                    "--delete-chain" => "-X",
                    "--list" => "-L",
                    "--list-rules" => "-S",
                    s => s,
                };
                let chain = args.get(i + 1).filter(|c| !c.starts_with('-')).cloned();
                if chain.is_some() {
                    i += 1;
                }
                if short == "-I" {
                    if let Some(n) = args.get(i + 1).and_then(|n| n.parse::<usize>().ok()) {
                        rule_num = Some(n);
                        i += 1;
                    }
                }
                action = Some((short.to_string(), chain));
            }
            _ => rest.push(a.to_string()),
        }
        i += 1;
    }
    let _ = numeric_listing;
    if builtin(&table).is_none() {
        return error(
            3,
            format!("{tool} v{} (nf_tables): table '{table}' does not exist\nPerhaps iptables or your kernel needs to be upgraded.\n", version(distro)),
        );
    }
    let Some((action, chain)) = action else {
        return error(
            2,
            format!("{tool} v{} (nf_tables): no command specified\nTry `{tool} -h' or '{tool} --help' for more information.\n", version(distro)),
        );
    };
    let mut t = Table::load(fs, v6, &table);
    let chain_ok = |t: &Table, c: &Option<String>| c.as_deref().is_some_and(|c| t.has_chain(c));
    let result = match action.as_str() {
        "-S" => {
            if chain.is_some() && !chain_ok(&t, &chain) {
                return error(1, NO_CHAIN);
            }
            return done(t.dump(chain.as_deref()));
        }
        "-L" => {
            if chain.is_some() && !chain_ok(&t, &chain) {
                return error(1, NO_CHAIN);
            }
            return done(listing(&t, chain.as_deref()));
        }
        "-N" => {
            let Some(c) = chain else {
                return error(2, format!("{tool}: -N requires a chain name\n"));
            };
            if t.has_chain(&c) {
                return error(1, "iptables: Chain already exists.\n");
            }
            t.chains.push(c);
            Ok(())
        }
        "-X" => match chain {
            Some(c) if t.chains.contains(&c) => {
                if t.rules
                    .iter()
                    .any(|(_, r)| r.windows(2).any(|w| w[0] == "-j" && w[1] == c))
                {
                    return error(1, "iptables: Too many links.\n");
                }
                if t.rules.iter().any(|(rc, _)| *rc == c) {
                    return error(1, "iptables: Directory not empty.\n");
                }
                t.chains.retain(|x| *x != c);
                Ok(())
            }
            Some(c) if t.has_chain(&c) => {
                return error(
                    2,
                    format!(
                        "{tool} v{} (nf_tables): Cannot delete built-in chain\n",
                        version(distro)
                    ),
                )
            }
            Some(_) => return error(1, NO_CHAIN),
            None => {
                t.chains.clear();
                Ok(())
            }
        },
        "-F" => {
            match chain {
                Some(c) if !t.has_chain(&c) => return error(1, NO_CHAIN),
                Some(c) => t.rules.retain(|(rc, _)| *rc != c),
                None => t.rules.clear(),
            }
            Ok(())
        }
        "-P" => {
            let (Some(c), Some(p)) = (chain, rest.first()) else {
                return error(2, format!("{tool}: -P requires a chain and a policy\n"));
            };
            if !matches!(p.as_str(), "ACCEPT" | "DROP" | "QUEUE" | "RETURN") {
                return error(
                    2,
                    format!("{tool}: Bad policy name. Run `dmesg' for more information.\n"),
                );
            }
            match t.policies.iter_mut().find(|(x, _)| *x == c) {
                Some(slot) => slot.1 = p.clone(),
                None => return error(1, "iptables: Bad built-in chain name.\n"),
            }
            Ok(())
        }
        "-A" | "-I" | "-D" | "-C" => {
            let Some(c) = chain else {
                return error(2, format!("{tool}: {action} requires a chain\n"));
            };
            if !t.has_chain(&c) {
                return error(1, NO_CHAIN);
            }
            let rule = normalise(&rest, v6);
            for w in rule.windows(2).filter(|w| w[0] == "-j" || w[0] == "-g") {
                if !TARGETS.contains(&w[1].as_str()) && !t.has_chain(&w[1]) {
                    return error(2, format!("{tool} v{} (nf_tables): Couldn't load target `{}':No such file or directory\n\nTry `{tool} -h' or '{tool} --help' for more information.\n", version(distro), w[1]));
                }
            }
            let at = t.rules.iter().position(|(rc, r)| *rc == c && *r == rule);
            match action.as_str() {
                "-C" => {
                    return if at.is_some() {
                        done(String::new())
                    } else {
                        error(1, BAD_RULE)
                    };
                }
                "-D" => match at {
                    Some(i) => {
                        t.rules.remove(i);
                    }
                    None => return error(1, BAD_RULE),
                },
                "-A" => t.rules.push((c, rule)),
                _ => {
                    // -I: before the n-th rule of the chain (1 by default).
                    let n = rule_num.unwrap_or(1).max(1);
                    let positions: Vec<usize> = t
                        .rules
                        .iter()
                        .enumerate()
                        .filter(|(_, (rc, _))| *rc == c)
                        .map(|(i, _)| i)
                        .collect();
                    if n > positions.len() + 1 {
                        return error(1, "iptables: Index of insertion too big.\n");
                    }
                    let at = positions
                        .get(n - 1)
                        .copied()
                        .unwrap_or_else(|| positions.last().map_or(t.rules.len(), |p| p + 1));
                    t.rules.insert(at, (c, rule));
                }
            }
            Ok(())
        }
        other => Err(format!("{tool}: fleetsim does not simulate '{other}'\n")),
    };
    if let Err(e) = result {
        return error(2, e);
    }
    match put(fs, &path(v6, &table), &t.dump(None)) {
        Ok(()) => done(String::new()),
        Err(e) => error(4, format!("{tool}: {e}\n")),
    }
}

/// `iptables -L [CHAIN]`: each chain's header and its rules in the table layout.
fn listing(t: &Table, chain: Option<&str>) -> String {
    let mut s = String::new();
    let mut chains: Vec<(String, String)> = t
        .policies
        .iter()
        .map(|(c, p)| (c.clone(), format!("(policy {p})")))
        .collect();
    for c in &t.chains {
        let refs = t
            .rules
            .iter()
            .filter(|(_, r)| r.windows(2).any(|w| w[0] == "-j" && w[1] == *c))
            .count();
        chains.push((c.clone(), format!("({refs} references)")));
    }
    let mut first = true;
    for (c, header) in chains.iter().filter(|(c, _)| chain.is_none_or(|x| x == c)) {
        if !first {
            s.push('\n');
        }
        first = false;
        s.push_str(&format!("Chain {c} {header}\n"));
        s.push_str("target     prot opt source               destination         \n");
        for (_, r) in t.rules.iter().filter(|(rc, _)| rc == c) {
            let get = |flag: &str| r.windows(2).find(|w| w[0] == flag).map(|w| w[1].clone());
            let target = get("-j").unwrap_or_default();
            let prot = get("-p").unwrap_or_else(|| "all".into());
            let src = get("-s").unwrap_or_else(|| "anywhere".into());
            let dst = get("-d").unwrap_or_else(|| "anywhere".into());
            s.push_str(&format!("{target:<10} {prot:<4} --  {src:<20} {dst:<20}\n"));
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::os::tests::host;

    fn a(s: &str) -> Vec<String> {
        words(s)
    }

    #[test]
    fn rules_normalise_as_iptables_prints_them() {
        let n = |s: &str| normalise(&a(s), false).join(" ");
        assert_eq!(
            n("-p tcp -j ACCEPT --destination-port 22 --syn -m conntrack --ctstate NEW -m comment --comment ssh"),
            "-p tcp -m tcp --dport 22 --syn -m conntrack --ctstate NEW -m comment --comment ssh -j ACCEPT"
        );
        assert_eq!(
            n("! -s 10.0.0.0/8 -j REJECT --reject-with tcp-reset"),
            "! -s 10.0.0.0/8 -j REJECT --reject-with tcp-reset"
        );
        assert_eq!(
            n("-i eth0 -s 1.2.3.4 -p udp --sport 53"),
            "-s 1.2.3.4/32 -i eth0 -p udp -m udp --sport 53"
        );
        assert_eq!(
            n("-p tcp -m multiport --dports 80,443 -j ACCEPT"),
            "-p tcp -m multiport --dports 80,443 -j ACCEPT"
        );
    }

    #[test]
    fn rules_are_added_checked_listed_and_removed() {
        let (_t, mut fs) = host(Distro::Debian12);
        let d = Distro::Debian12;
        let ok = |o: Output| assert_eq!(o.rc, 0, "{o:?}");
        ok(run(&mut fs, d, false, &a("-t filter -A INPUT -p tcp --destination-port 22 -j ACCEPT -m comment --comment \"allow ssh\"")));
        ok(run(&mut fs, d, false, &a("-t filter -C INPUT -p tcp --destination-port 22 -j ACCEPT -m comment --comment \"allow ssh\"")));
        assert_eq!(
            run(
                &mut fs,
                d,
                false,
                &a("-C INPUT -p tcp --dport 23 -j ACCEPT")
            )
            .rc,
            1
        );
        ok(run(&mut fs, d, false, &a("-I INPUT 1 -s 10.0.0.1 -j DROP")));
        ok(run(&mut fs, d, false, &a("-N LOGDROP")));
        ok(run(&mut fs, d, false, &a("-P FORWARD DROP")));
        assert_eq!(
            run(&mut fs, d, false, &a("-S")).stdout,
            "-P INPUT ACCEPT\n-P FORWARD DROP\n-P OUTPUT ACCEPT\n-N LOGDROP\n-A INPUT -s 10.0.0.1/32 -j DROP\n-A INPUT -p tcp -m tcp --dport 22 -m comment --comment \"allow ssh\" -j ACCEPT\n"
        );
        assert!(run(&mut fs, d, false, &a("-L FORWARD"))
            .stdout
            .starts_with("Chain FORWARD (policy DROP)\n"));
        assert_eq!(
            run(&mut fs, d, false, &a("-A NOPE -j ACCEPT")).stderr,
            NO_CHAIN
        );
        assert_eq!(run(&mut fs, d, false, &a("-A INPUT -j NOPE")).rc, 2);
        ok(run(
            &mut fs,
            d,
            false,
            &a("-D INPUT -s 10.0.0.1/32 -j DROP"),
        ));
        assert_eq!(
            run(&mut fs, d, false, &a("-D INPUT -s 10.0.0.1/32 -j DROP")).stderr,
            BAD_RULE
        );
        // The other family and the other tables are separate.
        assert_eq!(
            run(&mut fs, d, true, &a("-S INPUT")).stdout,
            "-P INPUT ACCEPT\n"
        );
        assert_eq!(
            run(&mut fs, d, false, &a("-t nat -S POSTROUTING")).stdout,
            "-P POSTROUTING ACCEPT\n"
        );
        // A reboot forgets them.
        crate::os::reboot(&mut fs).unwrap();
        assert_eq!(
            run(&mut fs, d, false, &a("-S INPUT")).stdout,
            "-P INPUT ACCEPT\n"
        );
    }
}
