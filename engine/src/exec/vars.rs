//! Variables as a host sees them at one task: Ansible's precedence levels as an ordered stack
//! of layers, the magic variables, and `hostvars` for the other hosts.
//!
//! Values stay raw here; the templar templates them lazily when a template reads them.

use std::sync::{Arc, Mutex};

use indexmap::IndexMap;
use serde_json::{Map, Value};

use crate::template::VarSource;

pub type Vars = Map<String, Value>;

/// The store's maps by host name: looked up for every variable a template reads (several per
/// lookup, one per dynamic layer), so under a fast hash instead of SipHash. They are
/// iterated in insertion order, which does not depend on the hasher.
pub type HostMap<V> = IndexMap<String, V, foldhash::fast::RandomState>;

/// What every host's variables are built from, shared and updated as the run goes on.
#[derive(Debug, Default)]
pub struct VarStore {
    /// Inventory variables per host (groups merged, host last), untemplated.
    pub inventory: HostMap<Arc<Vars>>,
    /// Gathered facts per host (keys without the `ansible_` prefix).
    pub facts: HostMap<Arc<Vars>>,
    /// The facts per host a module returned without the `ansible_` prefix (`getent_passwd`,
    /// `services`, `packages`): Ansible injects them as variables under that bare name.
    pub bare_facts: HostMap<std::collections::BTreeSet<String>>,
    /// set_fact results and registered variables per host; they live for the whole run.
    pub host_facts: HostMap<Vars>,
    /// include_vars per host.
    pub include_vars: HostMap<Vars>,
    /// `-e` variables: above everything.
    pub extra: Arc<Vars>,
    /// Magic variables that are the same for every host (groups, playbook_dir, ...).
    pub common_magic: Arc<Vars>,
    /// Per-host magic (inventory_hostname, group_names, ...).
    pub host_magic: HostMap<Arc<Vars>>,
    /// The big entries of `common_magic` (`groups`, the play's host lists), also held here
    /// behind an `Arc` so that a template reading them shares them instead of copying a
    /// value that grows with the inventory, once per host and task.
    shared_magic: IndexMap<String, minijinja::Value>,
}

pub type SharedStore = Arc<Mutex<VarStore>>;

impl VarStore {
    /// Sets the common magic variable `name` to `value`, shared (see `shared_magic`).
    /// In place when no variable source of a finished task still holds the old map (the
    /// usual case).
    pub fn set_shared_magic(&mut self, name: &str, value: Value) {
        // The play's host lists are set again before every task and seldom change:
        // converting them again (and copying the common map) would give the same values.
        if self.shared_magic.contains_key(name) && self.common_magic.get(name) == Some(&value) {
            return;
        }
        self.shared_magic
            .insert(name.to_string(), crate::template::freeze(&value));
        Arc::make_mut(&mut self.common_magic).insert(name.to_string(), value);
    }

    fn is_bare_fact(&self, host: &str, name: &str) -> bool {
        self.bare_facts.get(host).is_some_and(|s| s.contains(name))
    }

    /// A dynamic layer's value for `name`.
    fn lookup(&self, layer: &Layer, host: &str, name: &str) -> Option<Value> {
        match layer {
            Layer::Fixed(m) => m.get(name).cloned(),
            Layer::Facts => {
                // `ansible_facts` is defined for every host, empty before any fact is known.
                let Some(facts) = self.facts.get(host) else {
                    return (name == "ansible_facts").then(|| Value::Object(Map::new()));
                };
                if name == "ansible_facts" {
                    return Some(Value::Object((**facts).clone()));
                }
                match name.strip_prefix("ansible_") {
                    Some(short) => facts.get(short).cloned(),
                    None if self.is_bare_fact(host, name) => facts.get(name).cloned(),
                    None => None,
                }
            }
            Layer::IncludeVars => self.include_vars.get(host)?.get(name).cloned(),
            Layer::HostFacts => self.host_facts.get(host)?.get(name).cloned(),
        }
    }

    /// [`VarStore::has`] and [`VarStore::lookup`] in one search: None when the layer does not
    /// hold `name`, else what `lookup` gives (borrowed when it can be). The layer walk asks
    /// this of every layer from the top, and copies only the value it settles on.
    fn find<'s>(
        &'s self,
        layer: &'s Layer,
        host: &str,
        name: &str,
    ) -> Option<Option<std::borrow::Cow<'s, Value>>> {
        use std::borrow::Cow;
        match layer {
            Layer::Fixed(m) => m.get(name).map(|v| Some(Cow::Borrowed(v))),
            Layer::Facts => {
                if name == "ansible_facts" {
                    return Some(Some(Cow::Owned(Value::Object(
                        self.facts
                            .get(host)
                            .map(|f| (**f).clone())
                            .unwrap_or_default(),
                    ))));
                }
                let facts = self.facts.get(host)?;
                let prefixed = name
                    .strip_prefix("ansible_")
                    .is_some_and(|n| facts.contains_key(n) && !self.is_bare_fact(host, n));
                let bare = self.is_bare_fact(host, name) && facts.contains_key(name);
                if !prefixed && !bare {
                    return None;
                }
                Some(match name.strip_prefix("ansible_") {
                    Some(short) => facts.get(short).map(Cow::Borrowed),
                    None => facts.get(name).map(Cow::Borrowed),
                })
            }
            Layer::IncludeVars => self
                .include_vars
                .get(host)?
                .get(name)
                .map(|v| Some(Cow::Borrowed(v))),
            Layer::HostFacts => self
                .host_facts
                .get(host)?
                .get(name)
                .map(|v| Some(Cow::Borrowed(v))),
        }
    }

    /// Whether a dynamic layer holds `name` ([`VarStore::lookup`] without copying the value).
    fn has(&self, layer: &Layer, host: &str, name: &str) -> bool {
        match layer {
            Layer::Fixed(m) => m.contains_key(name),
            Layer::Facts => {
                name == "ansible_facts"
                    || self.facts.get(host).is_some_and(|facts| {
                        name.strip_prefix("ansible_")
                            .is_some_and(|n| facts.contains_key(n) && !self.is_bare_fact(host, n))
                            || (self.is_bare_fact(host, name) && facts.contains_key(name))
                    })
            }
            Layer::IncludeVars => self
                .include_vars
                .get(host)
                .is_some_and(|m| m.contains_key(name)),
            Layer::HostFacts => self
                .host_facts
                .get(host)
                .is_some_and(|m| m.contains_key(name)),
        }
    }

    fn names(&self, layer: &Layer, host: &str) -> Vec<String> {
        match layer {
            Layer::Fixed(m) => m.keys().cloned().collect(),
            Layer::Facts => self
                .facts
                .get(host)
                .map(|f| fact_vars(f).keys().cloned().collect())
                .unwrap_or_else(|| vec!["ansible_facts".to_string()]),
            Layer::IncludeVars => self
                .include_vars
                .get(host)
                .map(|m| m.keys().cloned().collect())
                .unwrap_or_default(),
            Layer::HostFacts => self
                .host_facts
                .get(host)
                .map(|m| m.keys().cloned().collect())
                .unwrap_or_default(),
        }
    }
}

/// Facts as variables: `ansible_facts` holds them all, and each is also `ansible_NAME`.
pub fn fact_vars(facts: &Vars) -> Vars {
    let mut out = Map::new();
    for (k, v) in facts {
        out.insert(format!("ansible_{k}"), v.clone());
    }
    out.insert("ansible_facts".into(), Value::Object(facts.clone()));
    out
}

/// One precedence level: fixed for the task, or read from the store when looked up (the
/// host's facts, set_facts and include_vars change while a loop runs).
#[derive(Clone)]
pub enum Layer {
    Fixed(Arc<Vars>),
    Facts,
    IncludeVars,
    HostFacts,
}

/// The variables of one host at one task: low-precedence layers first.
#[derive(Clone)]
pub struct HostVarSource {
    pub host: String,
    /// From lowest to highest precedence; the last layer holding a name wins.
    pub layers: Vec<Layer>,
    pub store: SharedStore,
    /// Where layers added for one item go: right above the extra vars (Ansible's loop
    /// variables win even over `-e`), below the magic variables.
    item_at: usize,
}

/// What a task adds around the host's own variables.
#[derive(Default, Clone)]
pub struct TaskLayers {
    pub role_defaults: Vec<Arc<Vars>>,
    pub play: Vec<Arc<Vars>>,
    pub role_vars: Vec<Arc<Vars>>,
    pub task: Vec<Arc<Vars>>,
    pub role_params: Vec<Arc<Vars>>,
    /// The `vars:` of the `include_tasks` that brought the task in (ansible-core's
    /// `Task.get_include_params`): they are task vars too, and again above set_fact and
    /// role params.
    pub include_params: Vec<Arc<Vars>>,
    pub magic: Option<Arc<Vars>>,
}

impl HostVarSource {
    /// The full stack for `host` at a task (Ansible's 22 levels, collapsed to the ones that
    /// fleetsim has): role defaults < inventory < facts < play vars < role vars < block/task
    /// vars < include_vars < set_fact/register < role params < include params < extra vars <
    /// loop item (added by
    /// [`HostVarSource::with_layer`]) < magic.
    pub fn for_task(store: &SharedStore, host: &str, t: &TaskLayers) -> HostVarSource {
        let s = store.lock().unwrap_or_else(|e| e.into_inner());
        let fixed = |v: &Arc<Vars>| Layer::Fixed(v.clone());
        let mut layers: Vec<Layer> = Vec::new();
        layers.extend(t.role_defaults.iter().map(fixed));
        if let Some(v) = s.inventory.get(host) {
            layers.push(fixed(v));
        }
        layers.push(Layer::Facts);
        layers.extend(t.play.iter().map(fixed));
        layers.extend(t.role_vars.iter().map(fixed));
        layers.extend(t.task.iter().map(fixed));
        layers.push(Layer::IncludeVars);
        layers.push(Layer::HostFacts);
        layers.extend(t.role_params.iter().map(fixed));
        layers.extend(t.include_params.iter().map(fixed));
        layers.push(fixed(&s.extra));
        let item_at = layers.len();
        layers.push(fixed(&s.common_magic));
        if let Some(m) = s.host_magic.get(host) {
            layers.push(fixed(m));
        }
        if let Some(m) = &t.magic {
            layers.push(fixed(m));
        }
        drop(s);
        HostVarSource {
            host: host.to_string(),
            layers,
            store: store.clone(),
            item_at,
        }
    }

    /// What `hostvars[host]` shows: the host's own variables, without play or task vars.
    pub fn for_hostvars(store: &SharedStore, host: &str) -> HostVarSource {
        HostVarSource::for_task(store, host, &TaskLayers::default())
    }

    /// Adds a layer on top (loop variables, a registered result within a loop, ...).
    /// Adds, below everything, the connection variables ansible-core's executor puts into a
    /// task's variables when the host does not set them (`PlayContext.update_vars`):
    /// `ansible_host`/`ansible_ssh_host` (the remote address, the inventory name unless set),
    /// and the play context's defaults for a connection fleetsim simulates.
    pub fn with_connection_defaults(&self) -> HostVarSource {
        let mut m = Vars::new();
        let addr = self
            .get("ansible_host")
            .unwrap_or_else(|| Value::String(self.host.clone()));
        m.insert("ansible_ssh_host".into(), addr.clone());
        m.insert("ansible_host".into(), addr);
        m.insert("ansible_timeout".into(), Value::from(10));
        m.insert("ansible_pipelining".into(), Value::Bool(false));
        m.insert(
            "ansible_module_compression".into(),
            Value::String("ZIP_DEFLATED".into()),
        );
        m.insert(
            "ansible_shell_executable".into(),
            Value::String("/bin/sh".into()),
        );
        let mut v = self.clone();
        v.layers.insert(0, Layer::Fixed(Arc::new(m)));
        v.item_at += 1;
        v
    }

    /// `ansible_user` from the `remote_user` keyword (PlayContext.update_vars), under every
    /// variable that sets it: the simulated hosts have no logins, but templates see it.
    pub fn with_remote_user(&self, user: Value) -> HostVarSource {
        let mut m = Vars::new();
        m.insert("ansible_user".into(), user);
        let mut v = self.clone();
        v.layers.insert(0, Layer::Fixed(Arc::new(m)));
        v.item_at += 1;
        v
    }

    /// The variables of `delegate` for this task, as ansible-core's
    /// `get_delegated_vars_and_hostname` gives them under `ansible_delegated_vars`: the same
    /// play, role and task layers over the delegate's own inventory variables, facts and
    /// magic variables, with `inventory_hostname` still the delegating host's.
    pub fn for_delegate(&self, delegate: &str) -> HostVarSource {
        let s = self.store.lock().unwrap_or_else(|e| e.into_inner());
        let own = |map: &HostMap<Arc<Vars>>, host: &str| map.get(host).cloned();
        let (my_inventory, my_magic) = (
            own(&s.inventory, &self.host),
            own(&s.host_magic, &self.host),
        );
        let (their_inventory, their_magic) =
            (own(&s.inventory, delegate), own(&s.host_magic, delegate));
        drop(s);
        let is = |layer: &Layer, mine: &Option<Arc<Vars>>| match (layer, mine) {
            (Layer::Fixed(v), Some(m)) => Arc::ptr_eq(v, m),
            _ => false,
        };
        let mut layers = Vec::with_capacity(self.layers.len() + 1);
        let mut item_at = self.item_at;
        for (i, layer) in self.layers.iter().enumerate() {
            let swapped = if is(layer, &my_inventory) {
                their_inventory.clone()
            } else if is(layer, &my_magic) {
                their_magic.clone()
            } else {
                layers.push(layer.clone());
                continue;
            };
            match swapped {
                Some(v) => layers.push(Layer::Fixed(v)),
                // A delegate outside the inventory has no variables of its own.
                None if i < self.item_at => item_at -= 1,
                None => {}
            }
        }
        let mut name = Vars::new();
        name.insert(
            "inventory_hostname".into(),
            Value::String(self.host.clone()),
        );
        layers.push(Layer::Fixed(Arc::new(name)));
        HostVarSource {
            host: delegate.to_string(),
            layers,
            store: self.store.clone(),
            item_at,
        }
    }

    pub fn with_layer(&self, layer: Arc<Vars>) -> HostVarSource {
        let mut v = self.clone();
        v.layers.insert(v.item_at, Layer::Fixed(layer));
        v.item_at += 1;
        v
    }
}

impl VarSource for HostVarSource {
    fn get(&self, name: &str) -> Option<Value> {
        let s = self.store.lock().unwrap_or_else(|e| e.into_inner());
        let (_, value) = self.find(&s, name)?;
        Some(self.merged(&s, name, value))
    }

    fn names(&self) -> Vec<String> {
        let s = self.store.lock().unwrap_or_else(|e| e.into_inner());
        let mut seen = indexmap::IndexSet::new();
        for l in &self.layers {
            for k in s.names(l, &self.host) {
                seen.insert(k);
            }
        }
        seen.into_iter().collect()
    }

    fn host_vars(&self, host: &str) -> Option<Arc<dyn VarSource>> {
        let known = {
            let s = self.store.lock().unwrap_or_else(|e| e.into_inner());
            s.inventory.contains_key(host) || s.host_magic.contains_key(host)
        };
        if !known {
            return None;
        }
        Some(Arc::new(HostVarSource::for_hostvars(&self.store, host)))
    }

    fn host_names(&self) -> Vec<String> {
        let s = self.store.lock().unwrap_or_else(|e| e.into_inner());
        s.inventory.keys().cloned().collect()
    }

    /// See [`HostVarSource::trusted_layer`].
    fn is_trusted(&self, name: &str) -> bool {
        let s = self.store.lock().unwrap_or_else(|e| e.into_inner());
        Self::trusted_layer(self.layer_of(&s, name))
    }

    fn get_shared(&self, name: &str) -> Option<minijinja::Value> {
        let s = self.store.lock().unwrap_or_else(|e| e.into_inner());
        let shared = s.shared_magic.get(name)?;
        // Only when the common magic layer is the one the host sees (nothing above it
        // holds the name).
        match self.layer_of(&s, name)? {
            Layer::Fixed(m) if Arc::ptr_eq(m, &s.common_magic) => Some(shared.clone()),
            _ => None,
        }
    }

    /// One lock and one search of the layers for both answers.
    fn get_with_trust(&self, name: &str) -> Option<(Value, bool)> {
        let s = self.store.lock().unwrap_or_else(|e| e.into_inner());
        let (layer, raw) = self.find(&s, name)?;
        let raw = self.merged(&s, name, raw);
        Some((raw, Self::trusted_layer(Some(layer))))
    }
}

impl HostVarSource {
    /// The highest layer that holds `name` and the value the host sees there (before
    /// merging): [`HostVarSource::layer_of`] then [`VarStore::lookup`], each layer searched
    /// once.
    fn find<'a>(&'a self, s: &VarStore, name: &str) -> Option<(&'a Layer, Value)> {
        for layer in self.layers.iter().rev() {
            if let Some(found) = s.find(layer, &self.host, name) {
                return Some((layer, found?.into_owned()));
            }
        }
        None
    }

    /// The highest layer that holds `name`: the one whose value the host sees.
    fn layer_of(&self, s: &VarStore, name: &str) -> Option<&Layer> {
        self.layers
            .iter()
            .rev()
            .find(|l| s.has(l, &self.host, name))
    }

    /// Under `ANSIBLE_HASH_BEHAVIOUR=merge`, a dict's value is every layer's dict merged,
    /// lowest precedence first (ansible-core combines each level with `combine_vars`).
    fn merged(&self, s: &VarStore, name: &str, top: Value) -> Value {
        if !crate::config::hash_merge() || !top.is_object() {
            return top;
        }
        let mut acc: Option<Value> = None;
        for layer in &self.layers {
            if let Some(v) = s.lookup(layer, &self.host, name) {
                acc = Some(match acc {
                    Some(prev) => crate::config::combine(prev, v),
                    None => v,
                });
            }
        }
        acc.unwrap_or(top)
    }

    /// Facts and set_fact/registered results are data, never templated again (2.19's
    /// trust model); everything else written by the user is.
    fn trusted_layer(layer: Option<&Layer>) -> bool {
        !matches!(layer, Some(Layer::Facts) | Some(Layer::HostFacts))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn vars(v: Value) -> Arc<Vars> {
        match v {
            Value::Object(m) => Arc::new(m),
            _ => unreachable!(),
        }
    }

    /// The one-pass search gives what the layer walk and the lookup gave, value and trust,
    /// for every kind of layer (facts with and without the `ansible_` prefix, bare facts,
    /// a host without facts, set_fact over facts, names nowhere).
    #[test]
    fn find_agrees_with_layer_of_then_lookup() {
        let mut store = VarStore::default();
        store.inventory.insert(
            "web".into(),
            vars(json!({"port": 80, "ansible_os_family": "inv", "x": "{{ port }}"})),
        );
        store.inventory.insert("bare".into(), vars(json!({"a": 1})));
        store.facts.insert(
            "web".into(),
            vars(json!({"os_family": "Debian", "getent_passwd": {"root": []}, "ip": "10.0.0.1"})),
        );
        store
            .bare_facts
            .insert("web".into(), ["getent_passwd".to_string()].into());
        let mut set = Vars::new();
        set.insert("ip".into(), json!("shadowed?"));
        set.insert("ansible_ip".into(), json!("10.9.9.9"));
        store.host_facts.insert("web".into(), set);
        store.extra = vars(json!({"e": true}));
        let store: SharedStore = Arc::new(Mutex::new(store));
        let layers = TaskLayers {
            play: vec![vars(json!({"port": 8080, "p": "{{ x }}"}))],
            ..TaskLayers::default()
        };
        let names = [
            "port",
            "x",
            "p",
            "e",
            "a",
            "ansible_facts",
            "ansible_os_family",
            "ansible_ip",
            "ip",
            "getent_passwd",
            "ansible_getent_passwd",
            "nowhere",
        ];
        for host in ["web", "bare", "unknown"] {
            let source = HostVarSource::for_task(&store, host, &layers);
            let s = store.lock().unwrap();
            for name in names {
                let old = source.layer_of(&s, name).and_then(|layer| {
                    let v = s.lookup(layer, host, name)?;
                    Some((v, HostVarSource::trusted_layer(Some(layer))))
                });
                let new = source
                    .find(&s, name)
                    .map(|(layer, v)| (v, HostVarSource::trusted_layer(Some(layer))));
                assert_eq!(old, new, "{host}: {name}");
            }
        }
    }
}

#[cfg(test)]
mod delegate_tests {
    use super::*;
    use serde_json::json;

    fn vars(v: Value) -> Arc<Vars> {
        Arc::new(v.as_object().cloned().unwrap_or_default())
    }

    #[test]
    fn delegate_sees_its_own_host_layers_and_the_task_layers() {
        let mut store = VarStore::default();
        store
            .inventory
            .insert("w1".into(), vars(json!({"port": 80, "tier": "web"})));
        store
            .inventory
            .insert("d1".into(), vars(json!({"role": "primary", "tier": "db"})));
        store.host_magic.insert(
            "w1".into(),
            vars(json!({"inventory_hostname": "w1", "group_names": ["web"]})),
        );
        store.host_magic.insert(
            "d1".into(),
            vars(json!({"inventory_hostname": "d1", "group_names": ["db"]})),
        );
        store
            .host_facts
            .insert("d1".into(), vars(json!({"schema": 42})).as_ref().clone());
        let shared: SharedStore = Arc::new(Mutex::new(store));
        let layers = TaskLayers {
            task: vec![vars(json!({"task_level": "t"}))],
            ..TaskLayers::default()
        };
        let mine = HostVarSource::for_task(&shared, "w1", &layers);
        let theirs = mine.for_delegate("d1");
        assert_eq!(theirs.get("role"), Some(json!("primary")));
        assert_eq!(theirs.get("tier"), Some(json!("db")));
        assert_eq!(theirs.get("port"), None);
        assert_eq!(theirs.get("schema"), Some(json!(42)));
        assert_eq!(theirs.get("task_level"), Some(json!("t")));
        assert_eq!(theirs.get("group_names"), Some(json!(["db"])));
        // ansible-core keeps the delegating host's name.
        assert_eq!(theirs.get("inventory_hostname"), Some(json!("w1")));
        // A delegate outside the inventory has only the task's layers.
        let nowhere = mine.for_delegate("elsewhere");
        assert_eq!(nowhere.get("tier"), None);
        assert_eq!(nowhere.get("task_level"), Some(json!("t")));
    }
}
