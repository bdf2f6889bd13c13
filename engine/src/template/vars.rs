//! Lazy variables: the minijinja objects through which templates see a host's variables.
//! Values stay raw (untemplated) until read, and are then templated in their owner's context,
//! so `hostvars['h'].x` templates `x` with `h`'s variables, as Ansible's lazy containers do.

use std::cell::RefCell;
use std::collections::HashMap;

/// The contexts' caches are keyed by variable name and only looked up (never iterated), once
/// for every variable a template reads: a fast hash instead of SipHash.
type FastMap<V> = HashMap<String, V, foldhash::fast::RandomState>;
use std::sync::{Arc, Mutex};

use indexmap::IndexMap;
use minijinja::value::{Enumerator, Object, ObjectRepr, Value};
use serde_json::Value as J;

use super::convert::{to_mj_owned, to_mj_static};
use super::error::{TemplateError, TemplateErrorKind};
use super::undefined::{record_fatal, record_miss, undefined_var_message, OMIT_PLACEHOLDER};
use super::Inner;

/// Where templates read variables from; implemented by the executor for one host at one point
/// of the run (play vars, host vars, facts, registered results, loop item, ...).
///
/// Values are raw: strings may still hold `{{ }}`; the templar templates them when they are read.
pub trait VarSource: Send + Sync {
    /// The raw value of variable `name`, if defined.
    fn get(&self, name: &str) -> Option<J>;
    /// All variable names visible to this host (used when a template iterates the variables).
    fn names(&self) -> Vec<String>;
    /// The variables of another host, for `hostvars[host]` (templated in that host's context).
    fn host_vars(&self, _host: &str) -> Option<Arc<dyn VarSource>> {
        None
    }
    /// All host names in the inventory, for iterating `hostvars`.
    fn host_names(&self) -> Vec<String> {
        Vec::new()
    }
    /// Where variable `name` was defined (`path:line:col`), for conditional error messages.
    fn origin(&self, _name: &str) -> Option<String> {
        None
    }
    /// Whether strings inside `name` are templates. Ansible 2.19 templates only trusted sources
    /// (playbooks, inventory, vars files); registered results, facts and `set_fact` values
    /// (already templated when set) are data, even when they contain `{{`.
    fn is_trusted(&self, _name: &str) -> bool {
        true
    }
    /// [`VarSource::get`] and [`VarSource::is_trusted`] at once. The templar asks both for
    /// every variable it reads; a source that finds the value and its trust in one lookup
    /// overrides this to avoid looking the name up twice.
    fn get_with_trust(&self, name: &str) -> Option<(J, bool)> {
        let raw = self.get(name)?;
        Some((raw, self.is_trusted(name)))
    }
    /// A value that is data (never templated), shared rather than copied: for variables
    /// that grow with the inventory (`groups`), which every host reads at every task.
    fn get_shared(&self, _name: &str) -> Option<Value> {
        None
    }
    /// For a delegated task: the delegate's name and its variables, which templates read
    /// as `ansible_delegated_vars[delegate]`.
    fn delegated_vars(&self) -> Option<(String, Arc<dyn VarSource>)> {
        None
    }
}

/// A task's variables while it is delegated: everything from `vars`, plus the delegate's
/// variables for `ansible_delegated_vars` (templated lazily in the delegate's context).
pub struct WithDelegate {
    pub vars: Arc<dyn VarSource>,
    pub delegate: String,
    pub delegate_vars: Arc<dyn VarSource>,
}

impl VarSource for WithDelegate {
    fn get(&self, name: &str) -> Option<J> {
        self.vars.get(name)
    }
    fn names(&self) -> Vec<String> {
        self.vars.names()
    }
    fn host_vars(&self, host: &str) -> Option<Arc<dyn VarSource>> {
        self.vars.host_vars(host)
    }
    fn host_names(&self) -> Vec<String> {
        self.vars.host_names()
    }
    fn origin(&self, name: &str) -> Option<String> {
        self.vars.origin(name)
    }
    fn is_trusted(&self, name: &str) -> bool {
        self.vars.is_trusted(name)
    }
    fn get_with_trust(&self, name: &str) -> Option<(J, bool)> {
        self.vars.get_with_trust(name)
    }
    fn get_shared(&self, name: &str) -> Option<Value> {
        self.vars.get_shared(name)
    }
    fn delegated_vars(&self) -> Option<(String, Arc<dyn VarSource>)> {
        Some((self.delegate.clone(), self.delegate_vars.clone()))
    }
}

/// A simple in-memory [`VarSource`] (handy for tests and for the executor's ad-hoc contexts).
#[derive(Default, Clone)]
pub struct MapVars {
    /// The variables, in definition order.
    pub vars: serde_json::Map<String, J>,
    /// Other hosts' variables, for `hostvars`.
    pub hosts: indexmap::IndexMap<String, Arc<dyn VarSource>>,
}

impl MapVars {
    /// Variables from a JSON object (anything else gives no variables).
    pub fn new(vars: J) -> Self {
        MapVars {
            vars: match vars {
                J::Object(m) => m,
                _ => Default::default(),
            },
            hosts: Default::default(),
        }
    }
}

impl VarSource for MapVars {
    fn get(&self, name: &str) -> Option<J> {
        self.vars.get(name).cloned()
    }
    fn names(&self) -> Vec<String> {
        self.vars.keys().cloned().collect()
    }
    fn host_vars(&self, host: &str) -> Option<Arc<dyn VarSource>> {
        self.hosts.get(host).cloned()
    }
    fn host_names(&self) -> Vec<String> {
        self.hosts.keys().cloned().collect()
    }
}

/// Names minijinja resolves from the environment's globals after the context misses them; a miss
/// on these is not worth recording.
const GLOBAL_NAMES: &[&str] = &[
    "range",
    "dict",
    "namespace",
    "lookup",
    "query",
    "q",
    "lipsum",
    "cycler",
    "joiner",
    "now",
    "undef",
    "debug",
    "true",
    "false",
    "none",
    "True",
    "False",
    "None",
];

thread_local! {
    /// (owner, name) pairs being templated right now: seeing one again is a recursive loop.
    static IN_PROGRESS: RefCell<Vec<(usize, String)>> = const { RefCell::new(Vec::new()) };
}

/// The recursion error, with Ansible's text.
pub(crate) fn recursion_error() -> TemplateError {
    TemplateError::new(
        TemplateErrorKind::Recursion,
        "Recursive loop detected in template: maximum recursion depth exceeded",
    )
}

/// One host's variables as the root context of a render (and as `hostvars[host]`).
pub(crate) struct Ctx {
    pub vars: Arc<dyn VarSource>,
    pub inner: Arc<Inner>,
    cache: Mutex<FastMap<Cached>>,
    /// Variables whose templating failed, with the failure: re-reading one repeats the error
    /// without templating it again (failures inside deep chains would otherwise multiply).
    failed: Mutex<FastMap<TemplateError>>,
    /// Read as `hostvars[host]` (ansible-core's HostVarsVars): a missing name is then a
    /// missing attribute of that object, not an undefined variable.
    hostvars_view: bool,
}

/// A variable's value as [`Ctx`]'s cache keeps it. A container the context owns is kept
/// without its owner and gets it back when read: a cached value holding its own context
/// would be a reference cycle, and every context that read a list or a dict would leak
/// with all it cached.
enum Cached {
    Value(Value),
    OwnDict(Arc<serde_json::Map<String, J>>),
    OwnList(Arc<Vec<J>>),
}

impl std::fmt::Debug for Ctx {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("hostvars")
    }
}

impl Ctx {
    pub fn new(vars: Arc<dyn VarSource>, inner: Arc<Inner>) -> Arc<Ctx> {
        Arc::new(Ctx {
            vars,
            inner,
            cache: Mutex::new(FastMap::default()),
            failed: Mutex::new(FastMap::default()),
            hostvars_view: false,
        })
    }

    /// Another host's variables as `hostvars[host]` gives them.
    fn new_hostvars_view(vars: Arc<dyn VarSource>, inner: Arc<Inner>) -> Arc<Ctx> {
        Arc::new(Ctx {
            vars,
            inner,
            cache: Mutex::new(FastMap::default()),
            failed: Mutex::new(FastMap::default()),
            hostvars_view: true,
        })
    }

    fn report(name: &str, e: TemplateError) {
        if *e.kind() == TemplateErrorKind::Undefined {
            record_miss(name, e.message().to_string());
        } else {
            record_fatal(e);
        }
    }

    fn owner_id(&self) -> usize {
        Arc::as_ptr(&self.vars) as *const u8 as usize
    }

    fn cache_get(self: &Arc<Self>, name: &str) -> Option<Value> {
        let cache = self.cache.lock().ok()?;
        Some(match cache.get(name)? {
            Cached::Value(v) => v.clone(),
            Cached::OwnDict(map) => Value::from_object(JDict {
                map: map.clone(),
                owner: Some(self.clone()),
            }),
            Cached::OwnList(items) => Value::from_object(JList {
                items: items.clone(),
                owner: Some(self.clone()),
            }),
        })
    }

    fn cache_put(self: &Arc<Self>, name: &str, v: &Value) {
        let owned_here =
            |owner: &Option<Arc<Ctx>>| owner.as_ref().is_some_and(|o| Arc::ptr_eq(o, self));
        let entry = if let Some(d) = v
            .downcast_object_ref::<JDict>()
            .filter(|d| owned_here(&d.owner))
        {
            Cached::OwnDict(d.map.clone())
        } else if let Some(l) = v
            .downcast_object_ref::<JList>()
            .filter(|l| owned_here(&l.owner))
        {
            Cached::OwnList(l.items.clone())
        } else {
            Cached::Value(v.clone())
        };
        if let Ok(mut c) = self.cache.lock() {
            c.insert(name.to_string(), entry);
        }
    }

    /// Look up and template variable `name`; errors are recorded in the render's frame.
    pub fn resolve(self: &Arc<Self>, name: &str) -> Option<Value> {
        if let Some(v) = self.cache_get(name) {
            return Some(v);
        }
        if let Some(e) = self.failed.lock().ok().and_then(|c| c.get(name).cloned()) {
            Self::report(name, e);
            return None;
        }
        if let Some(v) = self.vars.get_shared(name) {
            self.cache_put(name, &v);
            return Some(v);
        }
        let (raw, trusted) = match self.vars.get_with_trust(name) {
            Some(found) => found,
            None => {
                return match name {
                    "hostvars" => Some(Value::from_object(HostVars {
                        ctx: self.clone(),
                        cache: Mutex::new(FastMap::default()),
                    })),
                    "omit" => Some(Value::from(OMIT_PLACEHOLDER)),
                    "ansible_delegated_vars" if self.vars.delegated_vars().is_some() => {
                        let (delegate, vars) = self.vars.delegated_vars()?;
                        let ctx = Ctx::new(vars, self.inner.clone());
                        let mut map = std::collections::BTreeMap::new();
                        map.insert(delegate, Value::from_dyn_object(ctx));
                        Some(Value::from(map))
                    }
                    // `vars['name_' ~ x]`: the host's variables as a dict, each templated when
                    // read, as Ansible's `vars` is.
                    "vars" => Some(Value::from_dyn_object(self.clone())),
                    _ => {
                        if self.hostvars_view {
                            record_miss(
                                name,
                                format!("object of type 'HostVarsVars' has no attribute '{name}'"),
                            );
                        } else if !GLOBAL_NAMES.contains(&name) {
                            record_miss(name, undefined_var_message(name));
                        }
                        None
                    }
                };
            }
        };
        let key = (self.owner_id(), name.to_string());
        let looping = IN_PROGRESS.with(|p| p.borrow().contains(&key));
        if looping {
            record_fatal(recursion_error());
            return None;
        }
        if !trusted {
            let v = to_mj_owned(raw);
            self.cache_put(name, &v);
            return Some(v);
        }
        IN_PROGRESS.with(|p| p.borrow_mut().push(key));
        let result = lazy_owned(raw, self);
        IN_PROGRESS.with(|p| {
            p.borrow_mut().pop();
        });
        match result {
            Ok(v) => {
                self.cache_put(name, &v);
                Some(v)
            }
            Err(e) => {
                if let Ok(mut f) = self.failed.lock() {
                    f.insert(name.to_string(), e.clone());
                }
                Self::report(name, e);
                None
            }
        }
    }
}

impl Object for Ctx {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Map
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        self.resolve(key.as_str()?)
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        Enumerator::Values(self.vars.names().into_iter().map(Value::from).collect())
    }
}

/// `hostvars`: every host's variables, each templated in its own context.
#[derive(Debug)]
pub(crate) struct HostVars {
    ctx: Arc<Ctx>,
    cache: Mutex<FastMap<Value>>,
}

impl Object for HostVars {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Map
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        let host = key.as_str()?;
        if let Some(v) = self.cache.lock().ok().and_then(|c| c.get(host).cloned()) {
            return Some(v);
        }
        match self.ctx.vars.host_vars(host) {
            Some(vars) => {
                let v =
                    Value::from_dyn_object(Ctx::new_hostvars_view(vars, self.ctx.inner.clone()));
                if let Ok(mut c) = self.cache.lock() {
                    c.insert(host.to_string(), v.clone());
                }
                Some(v)
            }
            None => {
                record_miss(host, format!("hostvars['{host}']"));
                None
            }
        }
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        Enumerator::Values(
            self.ctx
                .vars
                .host_names()
                .into_iter()
                .map(Value::from)
                .collect(),
        )
    }
}

/// Whether a string holds template markup (`{{`, `{%` or `{#`).
pub fn is_template(s: &str) -> bool {
    s.contains("{{") || s.contains("{%") || s.contains("{#")
}

/// A raw variable value as a minijinja value owned by `owner`: strings are templated now,
/// containers wrap lazily so their elements are templated when read.
pub(crate) fn lazy(raw: &J, owner: &Arc<Ctx>) -> Result<Value, TemplateError> {
    match raw {
        J::Array(_) | J::Object(_) => lazy_owned(raw.clone(), owner),
        J::String(s) if is_template(s) => render_lazy_string(s, owner),
        other => Ok(to_mj_static(other)),
    }
}

/// [`lazy`] for a value the caller owns: containers are wrapped without another copy.
fn lazy_owned(raw: J, owner: &Arc<Ctx>) -> Result<Value, TemplateError> {
    match raw {
        J::String(s) if is_template(&s) => render_lazy_string(&s, owner),
        J::Array(items) => Ok(Value::from_object(JList {
            items: Arc::new(items),
            owner: Some(owner.clone()),
        })),
        J::Object(map) => Ok(Value::from_object(JDict {
            map: Arc::new(map),
            owner: Some(owner.clone()),
        })),
        other => Ok(to_mj_owned(other)),
    }
}

fn render_lazy_string(s: &str, owner: &Arc<Ctx>) -> Result<Value, TemplateError> {
    let rendered = owner.inner.render_in(s, owner)?;
    Ok(to_mj_owned(rendered))
}

fn element(raw: &J, owner: &Option<Arc<Ctx>>) -> Value {
    match owner {
        None => to_mj_static(raw),
        Some(owner) => match lazy(raw, owner) {
            Ok(v) => v,
            Err(e) if *e.kind() == TemplateErrorKind::Undefined => {
                record_miss("", e.message().to_string());
                Value::UNDEFINED
            }
            Err(e) => {
                record_fatal(e);
                Value::UNDEFINED
            }
        },
    }
}

/// A dict from variables or from computed data (`owner: None` means already templated).
#[derive(Debug)]
pub(crate) struct JDict {
    pub map: Arc<serde_json::Map<String, J>>,
    pub owner: Option<Arc<Ctx>>,
}

impl Object for JDict {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Map
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        let k = match key.as_str() {
            Some(s) => s.to_string(),
            None => key.to_string(),
        };
        match self.map.get(&k) {
            Some(raw) => Some(element(raw, &self.owner)),
            None => {
                record_dict_miss(key, &k);
                None
            }
        }
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        Enumerator::Values(self.map.keys().map(|k| Value::from(k.as_str())).collect())
    }

    fn enumerator_len(self: &Arc<Self>) -> Option<usize> {
        Some(self.map.len())
    }
}

/// Notes a dict lookup that found nothing, in Jinja's words for the error it may become.
fn record_dict_miss(key: &Value, k: &str) {
    let shown = if key.as_str().is_some() {
        format!("'{k}'")
    } else {
        k.to_string()
    };
    record_miss(k, format!("object of type 'dict' has no attribute {shown}"));
}

/// A dict of data converted once and shared by every reader (see [`super::freeze`]): its
/// values are minijinja values already, so reading one copies nothing.
#[derive(Debug)]
pub(crate) struct FrozenDict(pub IndexMap<String, Value>);

impl Object for FrozenDict {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Map
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        let k = match key.as_str() {
            Some(s) => s.to_string(),
            None => key.to_string(),
        };
        let found = self.0.get(&k).cloned();
        if found.is_none() {
            record_dict_miss(key, &k);
        }
        found
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        Enumerator::Values(self.0.keys().map(|k| Value::from(k.as_str())).collect())
    }

    fn enumerator_len(self: &Arc<Self>) -> Option<usize> {
        Some(self.0.len())
    }
}

/// A list from variables or from computed data (`owner: None` means already templated).
#[derive(Debug)]
pub(crate) struct JList {
    pub items: Arc<Vec<J>>,
    pub owner: Option<Arc<Ctx>>,
}

impl Object for JList {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Seq
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        let idx = key
            .as_i64()
            .or_else(|| key.as_str().and_then(|s| s.parse().ok()));
        let Some(idx) = idx else {
            if let Some(s) = key.as_str() {
                record_miss(s, format!("object of type 'list' has no attribute '{s}'"));
            }
            return None;
        };
        let len = self.items.len() as i64;
        let real = if idx < 0 { idx + len } else { idx };
        if real < 0 || real >= len {
            // ansible-core's Marker builds "has no attribute" only for a truthy name: a
            // missing element 0 keeps Jinja's own message, naming the lazy list class a
            // variable's list is in Ansible.
            let msg = if idx == 0 {
                "ansible._internal._templating._lazy_containers._AnsibleLazyTemplateList object has no element 0".to_string()
            } else {
                format!("object of type 'list' has no attribute {idx}")
            };
            record_miss(&idx.to_string(), msg);
            return None;
        }
        Some(element(&self.items[real as usize], &self.owner))
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        Enumerator::Seq(self.items.len())
    }

    fn enumerator_len(self: &Arc<Self>) -> Option<usize> {
        Some(self.items.len())
    }
}
