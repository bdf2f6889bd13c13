//! Deterministic facts in Ansible's shapes (`setup`/`gather_facts`): time from the virtual
//! clock, the host's simulated address, a fixed Debian 12 machine; nothing is read from the
//! real machine.

use serde_json::{json, Map, Value};

use crate::clock::Civil;

/// What facts are built from: the host's identity and address, and the virtual time.
#[derive(Debug, Clone)]
pub struct FactInputs<'a> {
    pub hostname: &'a str,
    pub address: &'a str,
    pub now: f64,
    pub user: &'a str,
}

/// `ansible_date_time` for epoch seconds `t` (UTC), every value a string as Ansible gives it.
pub fn date_time(t: f64) -> Value {
    let c = Civil::from_epoch(t);
    let epoch = (t.floor() as i64).to_string();
    json!({
        "date": c.format("%Y-%m-%d", t),
        "day": c.format("%d", t),
        "epoch": epoch,
        "epoch_int": epoch,
        "hour": c.format("%H", t),
        "iso8601": c.format("%Y-%m-%dT%H:%M:%SZ", t),
        "iso8601_basic": c.format("%Y%m%dT%H%M%S%f", t),
        "iso8601_basic_short": c.format("%Y%m%dT%H%M%S", t),
        "iso8601_micro": c.format("%Y-%m-%dT%H:%M:%S.%fZ", t),
        "minute": c.format("%M", t),
        "month": c.format("%m", t),
        "second": c.format("%S", t),
        "time": c.format("%H:%M:%S", t),
        "tz": "UTC",
        "tz_dst": "UTC",
        "tz_offset": "+0000",
        "weekday": c.weekday_name(),
        "weekday_number": c.format("%w", t),
        "weeknumber": c.format("%W", t),
        "year": c.format("%Y", t),
    })
}

/// The facts `setup` returns, without the `ansible_` prefix (as under `ansible_facts`).
pub fn gather(inp: &FactInputs<'_>) -> Map<String, Value> {
    let short = inp.hostname.split('.').next().unwrap_or(inp.hostname);
    let home = if inp.user == "root" {
        "/root".to_string()
    } else {
        format!("/home/{}", inp.user)
    };
    let iface = json!({
        "address": inp.address,
        "alias": "eth0",
        "broadcast": "127.255.255.255",
        "gateway": "127.0.0.1",
        "interface": "eth0",
        "macaddress": mac_for(inp.address),
        "mtu": 1500,
        "netmask": "255.0.0.0",
        "network": "127.0.0.0",
        "prefix": "8",
        "type": "ether",
    });
    let v = json!({
        "all_ipv4_addresses": [inp.address],
        "all_ipv6_addresses": [],
        "architecture": "x86_64",
        "date_time": date_time(inp.now),
        "default_ipv4": iface,
        "distribution": "Debian",
        "distribution_file_variety": "Debian",
        "distribution_major_version": "12",
        "distribution_release": "bookworm",
        "distribution_version": "12.8",
        "domain": "",
        "env": {
            "HOME": home,
            "LANG": "C.UTF-8",
            "LOGNAME": inp.user,
            "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
            "PWD": home,
            "SHELL": "/bin/sh",
            "USER": inp.user,
        },
        "fqdn": inp.hostname,
        "hostname": short,
        "kernel": "6.1.0-28-amd64",
        "lsb": {"codename": "bookworm", "id": "Debian", "major_release": "12", "release": "12"},
        "machine": "x86_64",
        "memfree_mb": 5841,
        "memtotal_mb": 7941,
        "nodename": inp.hostname,
        "os_family": "Debian",
        "pkg_mgr": "apt",
        "processor_cores": 2,
        "processor_count": 1,
        "processor_nproc": 2,
        "processor_vcpus": 2,
        "python": {
            "executable": "/usr/bin/python3",
            "has_sslcontext": true,
            "type": "cpython",
            "version": {"major": 3, "micro": 2, "minor": 11, "releaselevel": "final", "serial": 0},
            "version_info": [3, 11, 2, "final", 0],
        },
        "python_version": "3.11.2",
        "service_mgr": "systemd",
        "system": "Linux",
        "user_dir": home,
        "user_gecos": inp.user,
        "effective_user_id": if inp.user == "root" { 0 } else { 1000 },
        "real_user_id": if inp.user == "root" { 0 } else { 1000 },
        "user_gid": if inp.user == "root" { 0 } else { 1000 },
        "user_id": inp.user,
        "user_shell": if inp.user == "root" { "/bin/bash" } else { "/bin/sh" },
        "user_uid": if inp.user == "root" { 0 } else { 1000 },
        "loadavg": {"1m": 0.12, "5m": 0.08, "15m": 0.05},
        "virtualization_role": "guest",
        "virtualization_type": "fleetsim",
    });
    let mut facts = match v {
        Value::Object(m) => m,
        _ => Map::new(),
    };
    // The distribution collector's file facts (past json!'s recursion limit above).
    facts.insert("distribution_file_parsed".into(), json!(true));
    facts.insert("distribution_file_path".into(), json!("/etc/os-release"));
    facts.insert("distribution_minor_version".into(), json!("8"));
    facts
}

fn mac_for(address: &str) -> String {
    let octets: Vec<u8> = address.split('.').filter_map(|p| p.parse().ok()).collect();
    let tail = |i: usize| octets.get(i).copied().unwrap_or(0);
    format!(
        "02:42:{:02x}:{:02x}:{:02x}:{:02x}",
        tail(0),
        tail(1),
        tail(2),
        tail(3)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn date_time_has_ansibles_keys_as_strings() {
        let d = date_time(1_700_000_000.25);
        assert_eq!(d["epoch"], "1700000000");
        assert_eq!(d["iso8601"], "2023-11-14T22:13:20Z");
        assert_eq!(d["iso8601_micro"], "2023-11-14T22:13:20.250000Z");
        assert_eq!(d["weekday"], "Tuesday");
        assert_eq!(d["weekday_number"], "2");
    }

    #[test]
    fn facts_use_the_simulated_address() {
        let f = gather(&FactInputs {
            hostname: "web1.example.com",
            address: "127.1.0.5",
            now: 0.0,
            user: "root",
        });
        assert_eq!(f["default_ipv4"]["address"], "127.1.0.5");
        assert_eq!(f["hostname"], "web1");
        assert_eq!(f["user_id"], "root");
    }
}
