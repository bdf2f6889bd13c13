//! The in-memory inventory graph, mirroring ansible-core's `InventoryData`, `Group` and `Host`.
//!
//! Every mutation follows the Python code path step for step (depth propagation, ancestor
//! bookkeeping, `reconcile_inventory`), because Ansible's output order falls out of those
//! side effects: `all`'s children are groups in creation order, hosts keep the order they were
//! first added to each group, and so on.

use indexmap::{IndexMap, IndexSet};
use serde_json::{Map, Value};
use std::collections::HashSet;

/// Names Ansible treats as the local machine (`C.LOCALHOST`).
pub const LOCALHOST_NAMES: [&str; 3] = ["127.0.0.1", "localhost", "::1"];

/// The most hosts one inventory may hold. Real Ansible has no bound and would run the
/// machine out of memory on a range typo (`h[0:99][0:99][0:99]`); each host costs fleetsim a
/// few kilobytes, so two hundred thousand (twice the largest inventory fleetsim is measured
/// on) keeps the worst case near half a gigabyte and a couple of seconds.
pub const MAX_HOSTS: usize = 200_000;

/// One inventory group (`ansible.inventory.group.Group`).
#[derive(Debug, Clone)]
pub struct Group {
    pub name: String,
    /// Longest distance from a root group; drives variable precedence (`sort_groups`).
    pub depth: usize,
    /// `ansible_group_priority`, default 1.
    pub priority: i64,
    pub vars: Map<String, Value>,
    pub child_groups: Vec<String>,
    pub parent_groups: Vec<String>,
    /// Hosts added directly to this group, in the order they were added.
    pub hosts: IndexSet<String>,
}

impl Group {
    fn new(name: &str) -> Self {
        Group {
            name: name.to_string(),
            depth: 0,
            priority: 1,
            vars: Map::new(),
            child_groups: Vec::new(),
            parent_groups: Vec::new(),
            hosts: IndexSet::new(),
        }
    }
}

/// One inventory host (`ansible.inventory.host.Host`).
#[derive(Debug, Clone)]
pub struct Host {
    pub name: String,
    pub vars: Map<String, Value>,
    /// Like Python's `Host.groups`: the groups the host was added to plus their ancestors, in
    /// the order Ansible appended them.
    pub groups: Vec<String>,
    /// The implicit `localhost` created on demand when a pattern names it.
    pub implicit: bool,
}

/// A source path with a 1-based line and column (0: unknown).
pub type SourcePos = (String, usize, usize);

/// An error raised by an inventory mutation (Ansible raises `AnsibleError` in the same places).
pub type ModelError = String;

/// The inventory graph plus the bookkeeping Ansible keeps beside it.
#[derive(Debug, Clone)]
pub struct InventoryData {
    pub groups: IndexMap<String, Group>,
    pub hosts: IndexMap<String, Host>,
    /// Name of the host that plays localhost (explicit in inventory), if any.
    pub localhost: Option<String>,
    /// The implicit localhost, once a pattern has asked for it.
    pub implicit_localhost: Option<Host>,
    /// The source being parsed: new hosts get `inventory_file`/`inventory_dir` from it.
    pub current_source: Option<String>,
    /// Warnings produced by mutations (Ansible's `display.warning` calls), drained by the loader.
    pub warnings: Vec<String>,
    /// `current_source` and its folder, cached.
    source_dir: Option<(String, String)>,
    /// Line and column (0 when unknown) of what the parser is reading, for deprecations.
    pub origin_pos: Option<(usize, usize)>,
    /// Variables with names Ansible accepts only with a deprecation warning, and where.
    pub deprecations: Vec<(String, Option<SourcePos>)>,
}

impl Default for InventoryData {
    fn default() -> Self {
        Self::new()
    }
}

impl InventoryData {
    /// A fresh inventory with `all` and `ungrouped`, as `InventoryData.__init__` makes it.
    pub fn new() -> Self {
        let mut d = InventoryData {
            groups: IndexMap::new(),
            hosts: IndexMap::new(),
            localhost: None,
            implicit_localhost: None,
            current_source: None,
            warnings: Vec::new(),
            source_dir: None,
            origin_pos: None,
            deprecations: Vec::new(),
        };
        d.groups.insert("all".into(), Group::new("all"));
        d.groups.insert("ungrouped".into(), Group::new("ungrouped"));
        // Cannot fail: both groups were just created and are distinct.
        let _ = d.add_child("all", "ungrouped");
        d
    }

    /// `add_group`: creates the group if missing; returns its name.
    pub fn add_group(&mut self, name: &str) -> Result<String, ModelError> {
        if name.is_empty() {
            return Err(format!("Invalid empty/false group name provided: {name}"));
        }
        let name = self.safe_group_name(name);
        if !self.groups.contains_key(&name) {
            self.groups.insert(name.clone(), Group::new(&name));
        }
        Ok(name)
    }

    /// `to_safe_group_name`, as the INI parser calls it on every section header and a new
    /// group gets it: under TRANSFORM_INVALID_GROUP_CHARS `always` or `silently` the
    /// characters Ansible rejects become `_`; `never` (the default) and `always` warn.
    pub fn safe_group_name(&mut self, name: &str) -> String {
        if !invalid_group_name(name) {
            return name.to_string();
        }
        match std::env::var("ANSIBLE_TRANSFORM_INVALID_GROUP_CHARS")
            .unwrap_or_default()
            .trim()
        {
            "always" => {
                self.warn("Invalid characters were found in group names and automatically replaced, use -vvvv to see details");
                replace_invalid_group_chars(name)
            }
            "silently" => replace_invalid_group_chars(name),
            "ignore" => name.to_string(),
            _ => {
                self.warn("Invalid characters were found in group names but not replaced, use -vvvv to see details");
                name.to_string()
            }
        }
    }

    fn warn(&mut self, msg: &str) {
        self.warnings.push(msg.to_string());
    }

    /// `add_host`: creates the host if missing (port only applies to a new host, as in
    /// Ansible) and adds it to `group` when given.
    pub fn add_host(
        &mut self,
        name: &str,
        group: Option<&str>,
        port: Option<i64>,
    ) -> Result<String, ModelError> {
        if name.is_empty() {
            return Err(format!("Invalid empty host name provided: {name}"));
        }
        if let Some(g) = group {
            if !self.groups.contains_key(g) {
                return Err(format!("Could not find group {g} in inventory"));
            }
        }
        if !self.hosts.contains_key(name) {
            if self.hosts.len() >= MAX_HOSTS {
                return Err(format!(
                    "adding host {name} would take the inventory past {MAX_HOSTS} hosts \
                     (fleetsim's limit)"
                ));
            }
            let mut h = Host {
                name: name.to_string(),
                vars: Map::with_capacity(4),
                groups: Vec::new(),
                implicit: false,
            };
            if let Some(p) = port {
                if p != 0 {
                    h.vars.insert("ansible_port".into(), Value::from(p));
                }
            }
            match &self.current_source {
                Some(src) => {
                    // One `stat` per source, not per host.
                    let dir = match &self.source_dir {
                        Some((s, d)) if s == src => d.clone(),
                        _ => {
                            let d = basedir(src);
                            self.source_dir = Some((src.clone(), d.clone()));
                            d
                        }
                    };
                    h.vars
                        .insert("inventory_file".into(), Value::String(src.clone()));
                    h.vars.insert("inventory_dir".into(), Value::String(dir));
                }
                None => {
                    h.vars.insert("inventory_file".into(), Value::Null);
                    h.vars.insert("inventory_dir".into(), Value::Null);
                }
            }
            self.hosts.insert(name.to_string(), h);
            if LOCALHOST_NAMES.contains(&name) {
                match &self.localhost {
                    None => self.localhost = Some(name.to_string()),
                    Some(first) => {
                        let msg = format!("A duplicate localhost-like entry was found ({name}). First found localhost was {first}");
                        self.warn(&msg);
                    }
                }
            }
        }
        if let Some(g) = group {
            self.group_add_host(g, name);
        }
        Ok(name.to_string())
    }

    /// `Group.add_host` + `Host.add_group`.
    fn group_add_host(&mut self, group: &str, host: &str) -> bool {
        let Some(g) = self.groups.get_mut(group) else {
            return false;
        };
        if !g.hosts.insert(host.to_string()) {
            return false;
        }
        let ancestors = self.ancestors(group);
        if let Some(h) = self.hosts.get_mut(host) {
            for a in ancestors {
                if !h.groups.contains(&a) {
                    h.groups.push(a);
                }
            }
            if !h.groups.iter().any(|x| x == group) {
                h.groups.push(group.to_string());
            }
        }
        true
    }

    /// `Group.remove_host` + `Host.remove_group` (only used for `ungrouped`, whose only
    /// ancestor is `all`, so no exclusive ancestors need removing).
    fn group_remove_host(&mut self, group: &str, host: &str) {
        if let Some(g) = self.groups.get_mut(group) {
            g.hosts.shift_remove(host);
        }
        if let Some(h) = self.hosts.get_mut(host) {
            h.groups.retain(|x| x != group);
        }
    }

    /// `set_variable` on a group or host. `ansible_group_priority` sets the priority.
    pub fn set_variable(
        &mut self,
        entity: &str,
        key: &str,
        value: Value,
    ) -> Result<(), ModelError> {
        if (self.groups.contains_key(entity) || self.hosts.contains_key(entity))
            && !is_identifier(key)
        {
            // validate_variable_name: accepted, with a deprecation warning (until 2.23).
            let at = match (&self.current_source, self.origin_pos) {
                (Some(src), Some((l, c))) => Some((src.clone(), l, c)),
                _ => None,
            };
            self.deprecations.push((key.to_string(), at));
        }
        if let Some(g) = self.groups.get_mut(entity) {
            if key == "ansible_group_priority" {
                g.priority = python_int(&value)?;
            } else {
                // Group.set_variable's combine_vars: dicts merge under hash merge.
                let value = match g.vars.remove(key) {
                    Some(old) => crate::config::combine(old, value),
                    None => value,
                };
                g.vars.insert(key.to_string(), value);
            }
            Ok(())
        } else if let Some(h) = self.hosts.get_mut(entity) {
            let value = match h.vars.remove(key) {
                Some(old) => crate::config::combine(old, value),
                None => value,
            };
            h.vars.insert(key.to_string(), value);
            Ok(())
        } else {
            Err(format!("Could not identify group or host named {entity}"))
        }
    }

    /// `add_child`: a group or host under `group`.
    pub fn add_child(&mut self, group: &str, child: &str) -> Result<bool, ModelError> {
        if !self.groups.contains_key(group) {
            return Err(format!("{group} is not a known group"));
        }
        if self.groups.contains_key(child) {
            self.add_child_group(group, child)
        } else if self.hosts.contains_key(child) {
            Ok(self.group_add_host(group, child))
        } else {
            Err(format!("{child} is not a known host nor group"))
        }
    }

    fn add_child_group(&mut self, parent: &str, child: &str) -> Result<bool, ModelError> {
        if parent == child {
            return Err("can't add group to itself".into());
        }
        if self.groups[parent].child_groups.iter().any(|c| c == child) {
            return Ok(false);
        }
        let start_ancestors: HashSet<String> = self.ancestors(child).into_iter().collect();
        let mut new_ancestors = self.ancestors(parent);
        if new_ancestors.iter().any(|a| a == child) {
            return Err(format!(
                "Adding group '{child}' as child to '{parent}' creates a recursive dependency loop."
            ));
        }
        new_ancestors.push(parent.to_string());
        new_ancestors.retain(|a| !start_ancestors.contains(a));

        let parent_depth = self.groups[parent].depth;
        if let Some(p) = self.groups.get_mut(parent) {
            p.child_groups.push(child.to_string());
        }
        if let Some(c) = self.groups.get_mut(child) {
            c.depth = c.depth.max(parent_depth + 1);
        }
        self.check_children_depth(child)?;
        let already = self.groups[child].parent_groups.iter().any(|p| p == parent);
        if !already {
            if let Some(c) = self.groups.get_mut(child) {
                c.parent_groups.push(parent.to_string());
            }
            for h in self.group_hosts(child) {
                if let Some(host) = self.hosts.get_mut(&h) {
                    for a in &new_ancestors {
                        if !host.groups.contains(a) {
                            host.groups.push(a.clone());
                        }
                    }
                }
            }
        }
        Ok(true)
    }

    /// `_check_children_depth`: push depth down to every descendant.
    fn check_children_depth(&mut self, name: &str) -> Result<(), ModelError> {
        let start_depth = self.groups[name].depth;
        let mut depth = start_depth;
        let mut seen: HashSet<String> = HashSet::new();
        let mut unprocessed: Vec<String> = dedup(self.groups[name].child_groups.clone());
        while !unprocessed.is_empty() {
            seen.extend(unprocessed.iter().cloned());
            depth += 1;
            let mut next = Vec::new();
            for g in &unprocessed {
                if let Some(grp) = self.groups.get_mut(g) {
                    if grp.depth < depth {
                        grp.depth = depth;
                        next.extend(grp.child_groups.iter().cloned());
                    }
                }
            }
            unprocessed = dedup(next);
            if depth - start_depth > seen.len() {
                return Err(format!(
                    "The group named '{name}' has a recursive dependency loop."
                ));
            }
        }
        Ok(())
    }

    /// All groups reachable through `parent_groups` (`get_ancestors`), in discovery order.
    pub fn ancestors(&self, name: &str) -> Vec<String> {
        self.walk(name, false, |g| &g.parent_groups)
    }

    /// `get_descendants(include_self=True, preserve_ordering=True)`: the group, its children,
    /// then each further level. Python walks deeper levels through a set, so its order there is
    /// arbitrary; we use discovery order, which is what it usually gives.
    pub fn descendants_ordered(&self, name: &str) -> Vec<String> {
        let mut ordered = vec![name.to_string()];
        ordered.extend(self.walk(name, false, |g| &g.child_groups));
        ordered
    }

    fn walk(
        &self,
        name: &str,
        _include_self: bool,
        rel: impl Fn(&Group) -> &Vec<String>,
    ) -> Vec<String> {
        let Some(start) = self.groups.get(name) else {
            return Vec::new();
        };
        let mut out: Vec<String> = Vec::new();
        let mut seen: HashSet<&str> = HashSet::new();
        let mut level: Vec<&str> = Vec::new();
        for g in rel(start) {
            if seen.insert(g.as_str()) {
                out.push(g.clone());
                level.push(g.as_str());
            }
        }
        while !level.is_empty() {
            let mut next = Vec::new();
            for g in &level {
                if let Some(grp) = self.groups.get(*g) {
                    for k in rel(grp) {
                        if seen.insert(k.as_str()) {
                            out.push(k.clone());
                            next.push(k.as_str());
                        }
                    }
                }
            }
            level = next;
        }
        out
    }

    /// `Group.get_hosts()`: hosts of the group and all its descendants, deduplicated;
    /// `all` leaves out the implicit localhost.
    pub fn group_hosts(&self, name: &str) -> Vec<String> {
        let mut out = Vec::new();
        let mut seen: HashSet<&str> = HashSet::new();
        for g in self.descendants_ordered(name) {
            if let Some(grp) = self.groups.get(&g) {
                for h in &grp.hosts {
                    if seen.insert(h.as_str()) {
                        out.push(h.clone());
                    }
                }
            }
        }
        out
    }

    /// `reconcile_inventory`: every group under `all`, hosts with no group into `ungrouped`,
    /// and out of `ungrouped` once they have a real group.
    pub fn reconcile(&mut self) {
        self.current_source = None;
        let names: Vec<String> = self.groups.keys().cloned().collect();
        for g in &names {
            if g != "all" && self.ancestors(g).is_empty() {
                // Cannot fail: `all` exists and a parentless group cannot be its ancestor.
                let _ = self.add_child("all", g);
            }
        }
        let hosts: Vec<String> = self.hosts.keys().cloned().collect();
        for h in &hosts {
            let (in_ungrouped, others, len, has_all, implicit) = {
                let host = &self.hosts[h];
                let others = host.groups.iter().any(|g| g != "all" && g != "ungrouped");
                (
                    host.groups.iter().any(|g| g == "ungrouped"),
                    others,
                    host.groups.len(),
                    host.groups.iter().any(|g| g == "all"),
                    host.implicit,
                )
            };
            if in_ungrouped {
                if others {
                    self.group_remove_host("ungrouped", h);
                }
            } else if !implicit && (len == 0 || (len == 1 && has_all)) {
                let _ = self.add_child("ungrouped", h);
            }
        }
        for g in &names {
            if self.hosts.contains_key(g) {
                let msg = format!("Found both group and host with same name: {g}");
                self.warn(&msg);
            }
        }
    }

    /// `get_host`: a known host, or the implicit localhost for a localhost-like name.
    pub fn get_host(&mut self, name: &str) -> Option<&Host> {
        if self.hosts.contains_key(name) {
            return self.hosts.get(name);
        }
        if LOCALHOST_NAMES.contains(&name) {
            if let Some(l) = self.localhost.clone() {
                return self.hosts.get(&l);
            }
            if self.implicit_localhost.is_none() {
                let mut vars = Map::new();
                // Ansible uses sys.executable; the simulated controller's python lives here.
                vars.insert(
                    "ansible_python_interpreter".into(),
                    Value::String("/usr/bin/python3".into()),
                );
                vars.insert("ansible_connection".into(), Value::String("local".into()));
                self.implicit_localhost = Some(Host {
                    name: name.to_string(),
                    vars,
                    groups: Vec::new(),
                    implicit: true,
                });
            }
            return self.implicit_localhost.as_ref();
        }
        None
    }
}

/// `os.path.dirname` of a source path (Ansible's `basedir` for files).
pub fn basedir(src: &str) -> String {
    let p = std::path::Path::new(src);
    if p.is_dir() {
        return src.to_string();
    }
    match src.rfind('/') {
        Some(0) => "/".into(),
        Some(i) => src[..i].to_string(),
        None => String::new(),
    }
}

fn dedup(v: Vec<String>) -> Vec<String> {
    let mut seen = HashSet::new();
    v.into_iter().filter(|x| seen.insert(x.clone())).collect()
}

/// Python's `str.isidentifier()`: what Ansible's `validate_variable_name` requires.
fn is_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    match chars.next() {
        Some(c) if c.is_alphabetic() || c == '_' => chars.all(|c| c.is_alphanumeric() || c == '_'),
        _ => false,
    }
}

/// `C.INVALID_VARIABLE_NAMES`: `^[\d\W]|[^\w]`.
/// `C.INVALID_VARIABLE_NAMES.sub('_', name)`: a leading digit or non-word character and
/// every later non-word character become `_`.
fn replace_invalid_group_chars(name: &str) -> String {
    name.chars()
        .enumerate()
        .map(|(i, c)| {
            let word = c.is_alphanumeric() || c == '_';
            if !word || (i == 0 && c.is_numeric()) {
                '_'
            } else {
                c
            }
        })
        .collect()
}

fn invalid_group_name(name: &str) -> bool {
    let mut chars = name.chars();
    match chars.next() {
        None => false,
        Some(c) if c.is_numeric() || !(c.is_alphanumeric() || c == '_') => true,
        _ => name.chars().any(|c| !(c.is_alphanumeric() || c == '_')),
    }
}

/// Python's `int(value)` for the types an inventory can hold, with Python's error text.
fn python_int(v: &Value) -> Result<i64, String> {
    match v {
        Value::Bool(b) => Ok(*b as i64),
        Value::Number(n) => Ok(n
            .as_i64()
            .unwrap_or_else(|| n.as_f64().map(|f| f.trunc() as i64).unwrap_or(0))),
        Value::String(s) => {
            let t = s.trim();
            let digits = t.strip_prefix(['-', '+']).unwrap_or(t);
            let ok = !digits.is_empty()
                && digits.chars().all(|c| c.is_ascii_digit() || c == '_')
                && !digits.starts_with('_')
                && !digits.ends_with('_')
                && !digits.contains("__");
            let parsed = if ok {
                t.replace('_', "").parse::<i64>().ok()
            } else {
                None
            };
            parsed.ok_or_else(|| {
                format!(
                    "invalid literal for int() with base 10: {}",
                    python_str_repr(s)
                )
            })
        }
        Value::Null => Err(
            "int() argument must be a string, a bytes-like object or a real number, not 'NoneType'"
                .into(),
        ),
        Value::Array(_) => Err(
            "int() argument must be a string, a bytes-like object or a real number, not 'list'"
                .into(),
        ),
        Value::Object(_) => Err(
            "int() argument must be a string, a bytes-like object or a real number, not 'dict'"
                .into(),
        ),
    }
}

/// Python's `repr()` of a string.
pub fn python_str_repr(s: &str) -> String {
    let q = if s.contains('\'') && !s.contains('"') {
        '"'
    } else {
        '\''
    };
    let mut out = String::new();
    out.push(q);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c == q => {
                out.push('\\');
                out.push(c);
            }
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\x{:02x}", c as u32))
            }
            c => out.push(c),
        }
    }
    out.push(q);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_inventory_stops_growing_at_its_bound() {
        let mut d = InventoryData::new();
        for i in 0..MAX_HOSTS {
            d.add_host(&format!("h{i}"), None, None).unwrap();
        }
        // A host it already has is still fine; a new one is refused with fleetsim's limit.
        d.add_host("h7", Some("ungrouped"), None).unwrap();
        let err = d.add_host("one-more", None, None).unwrap_err();
        assert_eq!(
            err,
            "adding host one-more would take the inventory past 200000 hosts (fleetsim's limit)"
        );
        assert_eq!(d.hosts.len(), MAX_HOSTS);
    }

    #[test]
    fn depth_and_ungrouped() {
        let mut d = InventoryData::new();
        d.add_group("a").unwrap();
        d.add_group("b").unwrap();
        d.add_host("h1", Some("ungrouped"), None).unwrap();
        d.add_host("h1", Some("b"), None).unwrap();
        d.add_host("h2", None, Some(22)).unwrap();
        d.add_child("a", "b").unwrap();
        d.reconcile();
        assert_eq!(d.groups["b"].depth, 2);
        assert_eq!(d.groups["all"].child_groups, vec!["ungrouped", "a"]);
        assert_eq!(d.group_hosts("ungrouped"), vec!["h2"]);
        assert_eq!(d.group_hosts("all"), vec!["h2", "h1"]);
        assert_eq!(d.hosts["h2"].vars["ansible_port"], 22);
        assert!(d.add_child("b", "a").is_err());
    }
}
