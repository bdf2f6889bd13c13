//! What `ansible-inventory` prints: `--list` (the legacy inventory-script JSON), `--graph`
//! and `--host`, plus Python's `json.dumps(..., sort_keys=True, indent=4)` byte for byte.

use super::model::LOCALHOST_NAMES;
use super::Inventory;
use serde_json::{Map, Value};
use std::collections::HashSet;

/// Variables `ansible-inventory` strips from its output (`C.INTERNAL_STATIC_VARS`).
const INTERNAL_STATIC_VARS: [&str; 34] = [
    "ansible_async_path",
    "ansible_collection_name",
    "ansible_config_file",
    "ansible_dependent_role_names",
    "ansible_diff_mode",
    "ansible_facts",
    "ansible_forks",
    "ansible_inventory_sources",
    "ansible_limit",
    "ansible_play_batch",
    "ansible_play_hosts",
    "ansible_play_hosts_all",
    "ansible_play_role_names",
    "ansible_playbook_python",
    "ansible_role_name",
    "ansible_role_names",
    "ansible_run_tags",
    "ansible_skip_tags",
    "ansible_verbosity",
    "ansible_version",
    "inventory_dir",
    "inventory_file",
    "inventory_hostname",
    "inventory_hostname_short",
    "groups",
    "group_names",
    "hostvars",
    "playbook_dir",
    "play_hosts",
    "role_name",
    "role_names",
    "role_path",
    "role_uuid",
    "omit",
];

/// A host's variables as `ansible-inventory` shows them (internal variables removed).
pub fn display_host_vars(inv: &Inventory, host: &str) -> Map<String, Value> {
    let mut v = inv.host_vars(host);
    v.retain(|k, _| !INTERNAL_STATIC_VARS.contains(&k.as_str()));
    v
}

/// The `--list` document (`InventoryCLI.json_inventory`), honouring the limit if set.
pub fn list_json(inv: &Inventory) -> Value {
    let data = inv.data();
    let hosts = match inv.resolve("all") {
        Ok(r) => r
            .hosts
            .into_iter()
            .filter(|h| data.hosts.contains_key(h))
            .collect(),
        Err(_) => inv.hosts(),
    };
    let available: HashSet<&str> = hosts.iter().map(String::as_str).collect();
    let mut results = Map::new();
    let mut seen: HashSet<String> = HashSet::new();
    format_group(inv, "all", &available, &mut seen, &mut results);
    let mut hostvars = Map::new();
    for h in &hosts {
        let v = display_host_vars(inv, h);
        if !v.is_empty() {
            hostvars.insert(h.clone(), Value::Object(v));
        }
    }
    let mut meta = Map::new();
    meta.insert("hostvars".into(), Value::Object(hostvars));
    meta.insert("profile".into(), Value::String("inventory_legacy".into()));
    results.insert("_meta".into(), Value::Object(meta));
    Value::Object(results)
}

fn format_group(
    inv: &Inventory,
    name: &str,
    available: &HashSet<&str>,
    seen: &mut HashSet<String>,
    out: &mut Map<String, Value>,
) {
    let Some(group) = inv.data().groups.get(name) else {
        return;
    };
    let mut entry = Map::new();
    if name != "all" {
        let hosts: Vec<Value> = group
            .hosts
            .iter()
            .filter(|h| available.contains(h.as_str()))
            .map(|h| Value::String(h.clone()))
            .collect();
        if !hosts.is_empty() {
            entry.insert("hosts".into(), Value::Array(hosts));
        }
    }
    let mut children = Vec::new();
    // Insert our entry first so the recursion's entries come after, as Python's dict order.
    out.insert(name.to_string(), Value::Null);
    for sub in &group.child_groups {
        children.push(Value::String(sub.clone()));
        if !seen.contains(sub) {
            format_group(inv, sub, available, seen, out);
            seen.insert(sub.clone());
        }
    }
    if !children.is_empty() {
        entry.insert("children".into(), Value::Array(children));
    }
    if entry.is_empty() {
        out.shift_remove(name);
    } else {
        out.insert(name.to_string(), Value::Object(entry));
    }
}

/// The `--graph [GROUP]` text, or `None` when `group` is not a group.
pub fn graph(inv: &Inventory, group: &str) -> Option<String> {
    inv.data().groups.get(group)?;
    let mut lines = Vec::new();
    graph_group(inv, group, 0, &mut lines);
    Some(lines.join("\n"))
}

fn graph_name(name: &str, depth: usize) -> String {
    if depth == 0 {
        name.to_string()
    } else {
        format!("{}--{}", "  |".repeat(depth), name)
    }
}

fn graph_group(inv: &Inventory, name: &str, depth: usize, out: &mut Vec<String>) {
    let Some(g) = inv.data().groups.get(name) else {
        return;
    };
    out.push(graph_name(&format!("@{name}:"), depth));
    for kid in &g.child_groups {
        graph_group(inv, kid, depth + 1, out);
    }
    if name != "all" {
        for h in &g.hosts {
            out.push(graph_name(h, depth + 1));
        }
    }
}

/// `--host HOST`: the pattern must select exactly one host; its variables.
pub fn host_json(inv: &Inventory, host: &str) -> Option<Value> {
    let r = inv.resolve_ignoring_limit(host).ok()?;
    if r.hosts.len() != 1 {
        return None;
    }
    let h = &r.hosts[0];
    if !inv.has_host(h) && !LOCALHOST_NAMES.contains(&h.as_str()) {
        return None;
    }
    Some(Value::Object(display_host_vars(inv, h)))
}

/// `json.dumps(value, sort_keys=True, indent=4)` as Python writes it (ASCII-only output,
/// `","`/`": "` separators with the indent, Python's float spelling).
pub fn python_json(v: &Value) -> String {
    crate::output::pyjson::dumps_with(
        v,
        &crate::output::pyjson::JsonOpts::python(Some(4), true, true),
    )
}

/// Python's `repr(float)`.
pub fn python_float(f: f64) -> String {
    crate::template::pyrepr::float_repr(f)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn python_json_layout() {
        let v = json!({"b": [1, 2.0, "é"], "a": {}, "c": [], "d": {"x": null}});
        assert_eq!(
            python_json(&v),
            "{\n    \"a\": {},\n    \"b\": [\n        1,\n        2.0,\n        \"\\u00e9\"\n    ],\n    \"c\": [],\n    \"d\": {\n        \"x\": null\n    }\n}"
        );
    }

    #[test]
    fn floats() {
        assert_eq!(python_float(1.5), "1.5");
        assert_eq!(python_float(1e16), "1e+16");
        assert_eq!(python_float(1.5e-5), "1.5e-05");
        assert_eq!(python_float(100.0), "100.0");
        assert_eq!(python_float(0.0001), "0.0001");
    }
}
