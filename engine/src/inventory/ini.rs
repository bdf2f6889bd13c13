//! The INI inventory format, following `ansible/plugins/inventory/ini.py` line for line.
//!
//! The parser mutates the inventory as it goes, as Ansible's does: when a later line fails,
//! what the earlier lines added stays (ansible-core 2.19 does not roll a failed source back).

use super::address::expand_hostpattern;
use super::model::InventoryData;
use super::pyliteral::{ini_value, shlex_split};
use super::SourceError;
use indexmap::IndexMap;
use regex::Regex;
use serde_json::{Map, Value};
use std::sync::LazyLock;

// The `expect`s below cannot fire: the expressions are constants, compiled by the unit tests.
static SECTION: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^\[([^:\]\s]+)(?::(\w+))?\]\s*(?:#.*)?$").expect("constant regex")
});
static GROUPNAME: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^([^:\]\s]+)\s*(?:#.*)?$").expect("constant regex"));

#[derive(Clone, Copy, PartialEq, Debug)]
enum State {
    Hosts,
    Children,
    Vars,
}

struct Pending {
    line: usize,
    state: State,
    name: String,
    parents: Vec<String>,
}

/// Splits text as Python's `str.splitlines()` does.
pub fn python_splitlines(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut it = text.char_indices().peekable();
    while let Some((pos, c)) = it.next() {
        let is_break = matches!(
            c,
            '\n' | '\r'
                | '\x0b'
                | '\x0c'
                | '\x1c'
                | '\x1d'
                | '\x1e'
                | '\u{85}'
                | '\u{2028}'
                | '\u{2029}'
        );
        if is_break {
            out.push(&text[start..pos]);
            start = pos + c.len_utf8();
            if c == '\r' && it.peek().is_some_and(|(_, n)| *n == '\n') {
                it.next();
                start += 1;
            }
        }
    }
    if start < text.len() {
        out.push(&text[start..]);
    }
    out
}

/// Decodes the file as `ini.py` does: UTF-8, but undecodable comment lines are blanked.
pub fn decode(bytes: &[u8]) -> Result<String, SourceError> {
    if let Ok(s) = std::str::from_utf8(bytes) {
        return Ok(s.to_string());
    }
    let mut out = String::new();
    for (n, line) in bytes.split(|b| *b == b'\n').enumerate() {
        if n > 0 {
            out.push('\n');
        }
        if line.first().is_some_and(|c| *c == b'#' || *c == b';') {
            continue;
        }
        match std::str::from_utf8(line) {
            Ok(s) => out.push_str(s),
            Err(e) => {
                let pos = e.valid_up_to();
                return Err(SourceError {
                    message: format!(
                        "Failed to parse inventory: 'utf-8' codec can't decode byte 0x{:02x} in position {}: invalid start byte",
                        line[pos], pos
                    ),
                    line: Some(n + 1),
                    col: Some(pos + 1),
                    line_text: Some(String::from_utf8_lossy(line).into_owned()),
                });
            }
        }
    }
    Ok(out)
}

/// Parses INI inventory `text` into `inv`. On error, returns where and why.
pub fn parse(inv: &mut InventoryData, text: &str) -> Result<(), SourceError> {
    let lines = python_splitlines(text);
    let mut p = IniParser {
        inv,
        pending: IndexMap::new(),
        lineno: 0,
    };
    let mut groupname = "ungrouped".to_string();
    let mut state = State::Hosts;
    for raw in &lines {
        p.lineno += 1;
        let lineno = p.lineno;
        p.inv.origin_pos = Some((lineno, 0));
        let line = raw.trim();
        let fail = |msg: String, focus: Option<&str>| SourceError::at_line(msg, lineno, raw, focus);
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        if let Some(m) = SECTION.captures(line) {
            let name = p.inv.safe_group_name(&m[1]);
            let st = m.get(2).map(|s| s.as_str()).unwrap_or("hosts");
            state = match st {
                "hosts" => State::Hosts,
                "children" => State::Children,
                "vars" => State::Vars,
                other => {
                    return Err(fail(
                        format!("Failed to parse inventory: Section [{name}:{other}] has unknown type: {other}"),
                        Some(other),
                    ))
                }
            };
            groupname = name.clone();
            if !p.inv.groups.contains_key(&name) {
                if state == State::Vars && !p.pending.contains_key(&name) {
                    p.pending.insert(
                        name.clone(),
                        Pending {
                            line: p.lineno,
                            state,
                            name: name.clone(),
                            parents: vec![],
                        },
                    );
                }
                p.inv.add_group(&name).map_err(|e| fail(wrap(&e), None))?;
            }
            if state != State::Vars {
                if let Some(pd) = p.pending.get(&name) {
                    if pd.state == State::Children {
                        p.add_pending_children(&name)
                            .map_err(|e| fail(wrap(&e), None))?;
                    } else {
                        p.pending.shift_remove(&name);
                    }
                }
            }
            continue;
        } else if line.starts_with('[') && line.ends_with(']') {
            return Err(fail(
                wrap(&format!(
                    "Invalid section entry: '{line}'. Please make sure that there are no spaces in the section entry, and that there are no other invalid characters"
                )),
                None,
            ));
        }
        match state {
            State::Hosts => {
                let (hosts, port, vars, focus) =
                    parse_host_definition(line).map_err(|(e, f)| fail(wrap(&e), f.as_deref()))?;
                for h in &hosts {
                    p.inv
                        .add_host(h, Some(&groupname), port)
                        .map_err(|e| fail(wrap(&e), focus.as_deref()))?;
                    for (k, v) in &vars {
                        p.inv
                            .set_variable(h, k, v.clone())
                            .map_err(|e| fail(wrap(&e), Some(k)))?;
                    }
                }
            }
            State::Vars => {
                let Some((k, v)) = line.split_once('=') else {
                    return Err(fail(
                        wrap(&format!("Expected key=value, got: {line}")),
                        None,
                    ));
                };
                let (k, v) = (k.trim(), v.trim());
                let value = ini_value(v).map_err(|e| fail(wrap(&e), Some(v)))?;
                p.inv
                    .set_variable(&groupname, k, value)
                    .map_err(|e| fail(wrap(&e), Some(k)))?;
            }
            State::Children => {
                let Some(m) = GROUPNAME.captures(line) else {
                    return Err(fail(
                        wrap(&format!("Expected group name, got: {line}")),
                        None,
                    ));
                };
                let child = m[1].to_string();
                if !p.inv.groups.contains_key(&child) {
                    match p.pending.get_mut(&child) {
                        Some(pd) => pd.parents.push(groupname.clone()),
                        None => {
                            p.pending.insert(
                                child.clone(),
                                Pending {
                                    line: p.lineno,
                                    state,
                                    name: child.clone(),
                                    parents: vec![groupname.clone()],
                                },
                            );
                        }
                    }
                } else {
                    p.inv
                        .add_child(&groupname, &child)
                        .map_err(|e| fail(wrap(&e), Some(&child)))?;
                }
            }
        }
    }
    if let Some((_, decl)) = p.pending.iter().next() {
        let raw = lines.get(decl.line.wrapping_sub(1)).copied().unwrap_or("");
        let msg = match decl.state {
            State::Vars => format!(
                "Section [{}:vars] not valid for undefined group '{}'.",
                decl.name, decl.name
            ),
            _ => format!(
                "Section [{}:children] includes undefined group '{}'.",
                decl.parents.last().map(String::as_str).unwrap_or(""),
                decl.name
            ),
        };
        return Err(SourceError::at_line(
            wrap(&msg),
            decl.line,
            raw,
            Some(&decl.name),
        ));
    }
    Ok(())
}

fn wrap(msg: &str) -> String {
    format!("Failed to parse inventory: {msg}")
}

struct IniParser<'a> {
    inv: &'a mut InventoryData,
    pending: IndexMap<String, Pending>,
    lineno: usize,
}

impl IniParser<'_> {
    fn add_pending_children(&mut self, group: &str) -> Result<(), String> {
        let parents = self
            .pending
            .get(group)
            .map(|p| p.parents.clone())
            .unwrap_or_default();
        for parent in parents {
            self.inv.add_child(&parent, group)?;
            if self
                .pending
                .get(&parent)
                .is_some_and(|p| p.state == State::Children)
            {
                self.add_pending_children(&parent)?;
            }
        }
        self.pending.shift_remove(group);
        Ok(())
    }
}

type HostDef = (Vec<String>, Option<i64>, Map<String, Value>, Option<String>);

/// `_parse_host_definition`: names, port and typed variables of one host line.
/// Errors carry a fragment of the line to point the caret at.
fn parse_host_definition(line: &str) -> Result<HostDef, (String, Option<String>)> {
    let tokens = shlex_split(line)
        .map_err(|e| (format!("Error parsing host definition '{line}': {e}"), None))?;
    let Some(first) = tokens.first() else {
        return Err(("list index out of range".into(), None));
    };
    let focus = first
        .find('[')
        .map(|i| first[i..].to_string())
        .or_else(|| Some(first.clone()));
    let (hostnames, port) = expand_hostpattern(first).map_err(|e| (e, focus.clone()))?;
    if first.trim().ends_with(':') && port.is_none() {
        return Err((
            format!("Invalid host pattern '{first}' supplied, ending in ':' is not allowed, this character is reserved to provide a port."),
            Some(":".into()),
        ));
    }
    if hostnames.iter().any(|h| h.trim() == "---") {
        return Err((
            format!("Invalid host pattern '{first}' supplied, '---' is normally a sign this is a YAML file."),
            None,
        ));
    }
    let mut vars = Map::new();
    for t in &tokens[1..] {
        let Some((k, v)) = t.split_once('=') else {
            return Err((
                format!("Expected key=value host variable assignment, got: {t}"),
                Some(t.clone()),
            ));
        };
        let value = ini_value(v).map_err(|e| (e, Some(t.clone())))?;
        vars.insert(k.to_string(), value);
    }
    Ok((hostnames, port, vars, Some(first.clone())))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn load(text: &str) -> InventoryData {
        let mut d = InventoryData::new();
        parse(&mut d, text).unwrap();
        d.reconcile();
        d
    }

    #[test]
    fn basic_sections() {
        let d = load("alpha\nbeta x=1\n[g1]\nalpha\n[g3:children]\ng1\ng9\n[g9]\nz:2222 a='[1]'\n[g3:vars]\nz=\"3\"\n");
        assert_eq!(d.group_hosts("ungrouped"), vec!["beta"]);
        assert_eq!(d.groups["g3"].child_groups, vec!["g1", "g9"]);
        assert_eq!(d.hosts["z"].vars["ansible_port"], json!(2222));
        assert_eq!(d.hosts["z"].vars["a"], json!([1]));
        assert_eq!(d.groups["g3"].vars["z"], json!("3"));
        assert_eq!(d.hosts["beta"].vars["x"], json!(1));
    }

    #[test]
    fn errors_name_the_line() {
        let mut d = InventoryData::new();
        let e = parse(&mut d, "[web]\nweb1\nweb[1:3 y=2\n").unwrap_err();
        assert_eq!(e.line, Some(3));
        assert_eq!(e.col, Some(4));
        assert!(
            d.hosts.contains_key("web1"),
            "earlier lines stay, as in Ansible"
        );
        let e = parse(&mut InventoryData::new(), "[a:children]\nb\n").unwrap_err();
        assert_eq!(
            e.message,
            "Failed to parse inventory: Section [a:children] includes undefined group 'b'."
        );
        assert!(parse(&mut InventoryData::new(), "[a b]\n").is_err());
        assert!(parse(&mut InventoryData::new(), "h x\n").is_err());
        assert!(parse(&mut InventoryData::new(), "[a:vars]\nx=1\n").is_err());
        assert!(parse(&mut InventoryData::new(), "[a:vars]\nx=1\n[a]\n").is_ok());
    }
}
