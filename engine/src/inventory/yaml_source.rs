//! The YAML inventory format (`ansible/plugins/inventory/yaml.py`): top-level keys are groups,
//! each with optional `hosts`, `vars` and `children`, nested to any depth.

use super::address::expand_hostpattern;
use super::model::InventoryData;
use super::SourceError;
use crate::yaml::{Node, NodeKind, Scalar};
use serde_json::Value;

/// Parses a loaded YAML document into `inv`.
pub fn parse(inv: &mut InventoryData, doc: &Node) -> Result<(), SourceError> {
    if is_falsy(doc) {
        return Err(err(doc, "Parsed empty YAML file".into()));
    }
    if doc.entries().is_none() {
        return Err(err(
            doc,
            format!(
                "YAML inventory has invalid structure, it should be a dictionary, got: <class '{}'>",
                node_type(doc)
            ),
        ));
    }
    if doc.get("plugin").is_some_and(|p| !is_falsy(p)) {
        return Err(err(
            doc,
            "Plugin configuration YAML file, not YAML inventory".into(),
        ));
    }
    for (k, v) in doc.dict_entries() {
        parse_group(inv, k, v)?;
    }
    Ok(())
}

fn err(node: &Node, message: String) -> SourceError {
    SourceError {
        message,
        line: Some(node.span.line),
        col: Some(node.span.col),
        line_text: None,
    }
}

fn is_falsy(n: &Node) -> bool {
    match &n.kind {
        NodeKind::Scalar(Scalar::Null) | NodeKind::Scalar(Scalar::Bool(false)) => true,
        NodeKind::Scalar(Scalar::Int(0)) => true,
        NodeKind::Scalar(Scalar::Float(f)) => *f == 0.0,
        NodeKind::Scalar(Scalar::Str(s)) => s.is_empty(),
        NodeKind::Seq(s) => s.is_empty(),
        NodeKind::Map(m) => m.is_empty(),
        _ => false,
    }
}

fn is_map_or_null(n: &Node) -> bool {
    n.entries().is_some() || n.is_null()
}

/// The Python class name Ansible 2.19 reports for a loaded YAML value: everything that can
/// carry an origin tag is a `_AnsibleTagged*` subclass; bools and None cannot be.
fn node_type(n: &Node) -> &'static str {
    match &n.kind {
        NodeKind::Scalar(Scalar::Str(_)) => {
            "ansible.module_utils._internal._datatag._AnsibleTaggedStr"
        }
        NodeKind::Scalar(Scalar::Int(_)) => {
            "ansible.module_utils._internal._datatag._AnsibleTaggedInt"
        }
        NodeKind::Scalar(Scalar::Float(_)) => {
            "ansible.module_utils._internal._datatag._AnsibleTaggedFloat"
        }
        NodeKind::Scalar(Scalar::Bool(_)) => "bool",
        NodeKind::Scalar(Scalar::Null) => "NoneType",
        NodeKind::Seq(_) => "ansible.module_utils._internal._datatag._AnsibleTaggedList",
        NodeKind::Map(_) => "ansible.module_utils._internal._datatag._AnsibleTaggedDict",
    }
}

/// The loader's `Found duplicate mapping key 'K'.` warnings, in document order.
pub fn duplicate_key_warnings(n: &Node, out: &mut Vec<String>) {
    match &n.kind {
        NodeKind::Map(entries) => {
            let mut seen: Vec<String> = Vec::new();
            for (k, v) in entries {
                let key = k.key_string();
                if seen.contains(&key) {
                    out.push(format!("Found duplicate mapping key '{key}'."));
                } else {
                    seen.push(key);
                }
                duplicate_key_warnings(v, out);
            }
        }
        NodeKind::Seq(items) => items.iter().for_each(|i| duplicate_key_warnings(i, out)),
        NodeKind::Scalar(_) => {}
    }
}

/// A section after `yaml.py`'s string-to-dict conversion: its entries, or `None` for null.
enum Section<'a> {
    Null,
    Entries(Vec<(&'a Node, Option<&'a Node>)>),
    NotMapping(&'a Node),
}

fn section(n: &Node) -> Section<'_> {
    match &n.kind {
        NodeKind::Scalar(Scalar::Null) => Section::Null,
        // `hosts: web1` means `hosts: {web1: null}`.
        NodeKind::Scalar(Scalar::Str(_)) => Section::Entries(vec![(n, None)]),
        NodeKind::Map(_) => Section::Entries(
            n.dict_entries()
                .into_iter()
                .map(|(k, v)| (k, Some(v)))
                .collect(),
        ),
        _ => Section::NotMapping(n),
    }
}

fn parse_group(inv: &mut InventoryData, key: &Node, data: &Node) -> Result<String, SourceError> {
    let name = key.key_string();
    if !is_map_or_null(data) {
        inv.warnings.push(format!(
            "Skipping '{name}' as this is not a valid group definition"
        ));
        return Ok(name);
    }
    if key.as_str().is_none() {
        return Err(err(
            key,
            format!(
                "Unable to add group {name}: Invalid group name supplied, expected a string but got <class '{}'> for {name}",
                node_type(key)
            ),
        ));
    }
    let group = inv
        .add_group(&name)
        .map_err(|e| err(key, format!("Unable to add group {name}: {e}")))?;
    if data.is_null() {
        return Ok(group);
    }
    let entries = data.dict_entries();
    for sec in ["vars", "children", "hosts"] {
        if let Some((_, v)) = entries.iter().find(|(k, _)| k.as_str() == Some(sec)) {
            if let Section::NotMapping(n) = section(v) {
                return Err(err(
                    n,
                    format!(
                        "Invalid \"{sec}\" entry for \"{group}\" group, requires a dictionary, found \"<class '{}'>\" instead.",
                        node_type(n)
                    ),
                ));
            }
        }
    }
    for (k, v) in entries {
        let kname = k.key_string();
        let is_section =
            matches!(kname.as_str(), "vars" | "children" | "hosts") && k.as_str().is_some();
        let sec = if is_section || v.entries().is_some() {
            section(v)
        } else {
            Section::NotMapping(v)
        };
        let items = match sec {
            Section::Null => continue,
            Section::NotMapping(n) if n.is_null() => continue,
            Section::NotMapping(n) => {
                inv.warnings.push(format!(
                    "Skipping key ({kname}) in group ({group}) as it is not a mapping, it is a <class '{}'>",
                    node_type(n)
                ));
                continue;
            }
            Section::Entries(items) => items,
        };
        match (is_section, kname.as_str()) {
            (true, "vars") => {
                for (vk, vv) in items {
                    inv.origin_pos = Some((vk.span.line, vk.span.col));
                    let value = vv.map(Node::to_value).unwrap_or(Value::Null);
                    inv.set_variable(&group, &vk.key_string(), value)
                        .map_err(|e| err(vk, e))?;
                }
            }
            (true, "children") => {
                for (ck, cv) in items {
                    let null = Node::null(ck.span);
                    let sub = parse_group(inv, ck, cv.unwrap_or(&null))?;
                    inv.add_child(&group, &sub).map_err(|e| err(ck, e))?;
                }
            }
            (true, "hosts") => {
                for (hk, hv) in items {
                    let Some(pattern) = hk.as_str() else {
                        return Err(err(
                            hk,
                            format!(
                                "Host pattern {} must be a string. Enclose integers/floats in quotation marks.",
                                hk.key_string()
                            ),
                        ));
                    };
                    let (hosts, port) = expand_hostpattern(pattern).map_err(|e| err(hk, e))?;
                    let vars: Vec<(&Node, Value)> = match hv {
                        Some(v) if !is_falsy(v) => match v.to_value() {
                            Value::Object(_) => v
                                .dict_entries()
                                .into_iter()
                                .map(|(k, x)| (k, x.to_value()))
                                .collect(),
                            other => {
                                return Err(err(
                                    v,
                                    format!(
                                    "Invalid data from file, expected dictionary and got:\n\n{}",
                                    crate::playbook::scalar_text(&other)
                                ),
                                ))
                            }
                        },
                        _ => Vec::new(),
                    };
                    for h in &hosts {
                        inv.add_host(h, Some(&group), port)
                            .map_err(|e| err(hk, e))?;
                        for (vk, vv) in &vars {
                            inv.origin_pos = Some((vk.span.line, vk.span.col));
                            inv.set_variable(h, &vk.key_string(), vv.clone())
                                .map_err(|e| err(hk, e))?;
                        }
                    }
                }
            }
            _ => {
                inv.warnings.push(format!(
                    "Skipping unexpected key ({kname}) in group ({group}), only \"vars\", \"children\" and \"hosts\" are valid"
                ));
            }
        }
    }
    Ok(group)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::path::Path;

    fn load(text: &str) -> Result<InventoryData, SourceError> {
        let mut d = InventoryData::new();
        let node = crate::yaml::load(text, Path::new("t.yml")).unwrap();
        parse(&mut d, &node)?;
        d.reconcile();
        Ok(d)
    }

    #[test]
    fn nested_groups() {
        let d = load("all:\n  vars: {r: 1}\n  hosts:\n    j:\n      ansible_port: 2222\n  children:\n    fe:\n      children:\n        blue:\n          hosts:\n            b1: {c: blue}\n            b[2:3]:\n    mon:\n      children:\n        fe:\n    other: {}\nextra:\n  hosts: solo\n").unwrap();
        assert_eq!(
            d.groups["all"].child_groups,
            vec!["ungrouped", "fe", "mon", "other", "extra"]
        );
        assert_eq!(d.group_hosts("mon"), vec!["b1", "b2", "b3"]);
        assert_eq!(d.group_hosts("ungrouped"), vec!["j"]);
        assert_eq!(d.hosts["b1"].vars["c"], json!("blue"));
        assert_eq!(d.groups["all"].vars["r"], json!(1));
        assert_eq!(d.group_hosts("extra"), vec!["solo"]);
    }

    #[test]
    fn bad_structures() {
        assert!(load("").is_err());
        assert!(load("- a\n").is_err());
        assert!(load("plugin: x\n").is_err());
        let e = load("all:\n  children:\n    g2: [1, 2]\n").unwrap_err();
        assert_eq!(e.message, "g2 is not a known host nor group");
        assert!(load("g:\n  hosts: [a]\n").is_err());
        assert!(load("g:\n  hosts:\n    1: {}\n").is_err());
    }
}
