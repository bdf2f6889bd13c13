//! Playbooks as Ansible loads them: plays, blocks with rescue/always, tasks with their
//! keywords, roles, static imports; every piece keeps its origin for error messages.
//!
//! Loading validates what Ansible validates before running anything (unknown play or task
//! keywords, unknown modules, conflicting actions, missing imported files), so a playbook
//! that Ansible refuses is refused here with the same message and exit status.

mod error;
pub mod kv;
pub(crate) mod load;
pub mod modules_known;
mod plugins;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use serde_json::{Map, Value};

use crate::diag::Origin;

pub use error::LoadError;
pub use load::{
    accepted_keywords, load_playbook, load_task_file, resolve_task_file, scalar_text, task_args,
    Loader, RoleFiles,
};

/// A loaded playbook: its plays in order, `import_playbook` already expanded.
#[derive(Debug, Clone)]
pub struct Playbook {
    pub path: PathBuf,
    /// The path as the command line gave it (`-vv` shows "N plays in PATH").
    pub given: PathBuf,
    pub plays: Vec<Arc<Play>>,
}

/// One play.
#[derive(Debug, Clone)]
pub struct Play {
    pub origin: Origin,
    /// The name as written (templated with play vars when displayed).
    pub name: Option<String>,
    /// `hosts:` as written: a pattern string or a list of patterns.
    pub hosts: Value,
    /// Every play keyword other than the task lists, as written (gather_facts, serial, ...).
    pub keywords: Map<String, Value>,
    pub vars: Map<String, Value>,
    pub vars_files: Vec<Value>,
    pub pre_tasks: Vec<Arc<Block>>,
    /// Role tasks (from `roles:`) followed by the play's `tasks:`.
    pub tasks: Vec<Arc<Block>>,
    pub post_tasks: Vec<Arc<Block>>,
    /// Play handlers and the handlers of its roles.
    pub handlers: Vec<Arc<Block>>,
    /// The folder of the playbook file (`playbook_dir`, relative `src:` and vars_files).
    pub dir: PathBuf,
    /// Role defaults and vars visible to the whole play (Ansible exposes them play-wide).
    pub role_defaults: Map<String, Value>,
    pub role_vars: Map<String, Value>,
    /// ansible-core's `play.roles` as loading leaves it: the `roles:` entries and the roles
    /// of `import_role`, in load order (not meta dependencies; `include_role` adds its role
    /// when it runs). `ansible_play_role_names` and its kin are computed from them.
    pub roles: Vec<Arc<RoleRef>>,
}

/// A block: tasks, and what runs when one of them fails, and what always runs.
#[derive(Debug, Clone)]
pub struct Block {
    pub origin: Origin,
    pub name: Option<String>,
    pub block: Vec<Item>,
    pub rescue: Vec<Item>,
    pub always: Vec<Item>,
    /// Created around bare tasks, not written by the user.
    pub implicit: bool,
}

/// An entry of a block's lists.
#[derive(Debug, Clone)]
pub enum Item {
    Task(Arc<Task>),
    Block(Arc<Block>),
}

/// A condition (`when`, `failed_when`, `changed_when`, `until`) with where it was written.
#[derive(Debug, Clone)]
pub struct Cond {
    pub expr: Value,
    pub origin: Origin,
}

/// How a task loops.
#[derive(Debug, Clone)]
pub enum LoopSpec {
    /// `loop: EXPR`
    Loop(Value),
    /// `with_NAME: TERMS` (a lookup plugin's terms)
    With(String, Value),
}

/// One entry of an `environment:` keyword as written: a mapping, or a template that
/// renders to one. A keyword given a list contributes one entry per item.
#[derive(Debug, Clone)]
pub struct EnvEntry {
    pub value: Value,
    pub origin: Origin,
    /// Where each value of a mapping entry was written (an undefined variable in it is
    /// reported there).
    pub value_origins: BTreeMap<String, Origin>,
}

/// The role a task came from.
#[derive(Debug, Clone)]
pub struct RoleRef {
    pub name: String,
    pub path: PathBuf,
    pub defaults: Map<String, Value>,
    pub vars: Map<String, Value>,
    /// Parameters given where the role was used (`- role: x` with `x_var: 1`, or
    /// include_role's params).
    pub params: Map<String, Value>,
    /// The `vars:` keyword where the role was used (`- role: x` with `vars:`): at the level
    /// of the role's vars, not of its params.
    pub keyword_vars: Map<String, Value>,
    /// The role whose meta dependency (or whose tasks' `import_role`) brought this one in:
    /// ansible-core's dep chain, whose vars the role inherits.
    pub parent: Option<Arc<RoleRef>>,
    /// The direct meta dependencies, set once they are loaded: their vars and defaults are
    /// exported to this role.
    pub dependencies: std::sync::OnceLock<Vec<Arc<RoleRef>>>,
    /// The three layers a task of this role sees (defaults, vars, params), computed once.
    layers: std::sync::OnceLock<RoleLayers>,
    /// For a role used in `roles:` or as a meta dependency, without `allow_duplicates`:
    /// its identity in the play (folder, params, vars, when, tags). A host that completed
    /// one use of it skips every later use with the same identity (ansible-core's role
    /// cache and `Role.has_run`).
    pub dedup_key: std::sync::OnceLock<String>,
}

/// The variables a role gives its tasks, as ansible-core's `Role.get_default_vars`,
/// `get_vars(include_params=False)` and `get_role_params` compute them with the task's dep
/// chain.
#[derive(Debug, Clone)]
pub struct RoleLayers {
    pub defaults: Arc<Map<String, Value>>,
    pub vars: Arc<Map<String, Value>>,
    pub params: Arc<Map<String, Value>>,
}

impl RoleRef {
    pub fn new(
        name: &str,
        path: PathBuf,
        defaults: Map<String, Value>,
        vars: Map<String, Value>,
        params: Map<String, Value>,
        keyword_vars: Map<String, Value>,
        parent: Option<Arc<RoleRef>>,
    ) -> RoleRef {
        RoleRef {
            name: name.to_string(),
            path,
            defaults,
            vars,
            params,
            keyword_vars,
            parent,
            dependencies: std::sync::OnceLock::new(),
            layers: std::sync::OnceLock::new(),
            dedup_key: std::sync::OnceLock::new(),
        }
    }

    /// The names of all its meta dependencies, recursively, each dependency's own
    /// dependencies before it (ansible-core's `Role.get_all_dependencies`).
    pub fn all_dependency_names(&self, out: &mut Vec<String>) {
        for dep in self.dependencies.get().map(Vec::as_slice).unwrap_or(&[]) {
            dep.all_dependency_names(out);
            out.push(dep.name.clone());
        }
    }

    /// The dep chain, outermost role first, this role last (ansible-core's `Role.compile`
    /// gives a role's own blocks `dep_chain + [self]`).
    fn chain(&self) -> Vec<&RoleRef> {
        let mut chain = vec![self];
        let mut at = self.parent.as_deref();
        while let Some(r) = at {
            chain.push(r);
            at = r.parent.as_deref();
        }
        chain.reverse();
        chain
    }

    fn deps(&self) -> &[Arc<RoleRef>] {
        self.dependencies.get().map(Vec::as_slice).unwrap_or(&[])
    }

    /// `get_default_vars()` without a chain: the dependencies' defaults, then its own.
    fn exported_defaults(&self, out: &mut Map<String, Value>) {
        for d in self.deps() {
            d.exported_defaults(out);
        }
        out.extend(self.defaults.clone());
    }

    /// `get_vars(only_exports=True)` without a chain: the dependencies' vars, then its own.
    fn exported_vars(&self, out: &mut Map<String, Value>) {
        for d in self.deps() {
            d.exported_vars(out);
        }
        out.extend(self.vars.clone());
    }

    pub fn layers(&self) -> &RoleLayers {
        self.layers.get_or_init(|| {
            let chain = self.chain();
            let mut defaults = Map::new();
            for d in self.deps() {
                d.exported_defaults(&mut defaults);
            }
            for r in &chain[..chain.len() - 1] {
                defaults.extend(r.defaults.clone());
            }
            defaults.extend(self.defaults.clone());
            let mut vars = Map::new();
            for r in &chain {
                vars.extend(r.keyword_vars.clone());
                vars.extend(r.vars.clone());
            }
            for d in self.deps() {
                d.exported_vars(&mut vars);
            }
            vars.extend(self.vars.clone());
            vars.extend(self.keyword_vars.clone());
            let mut params = Map::new();
            for r in &chain {
                params.extend(r.params.clone());
            }
            RoleLayers {
                defaults: Arc::new(defaults),
                vars: Arc::new(vars),
                params: Arc::new(params),
            }
        })
    }
}

/// One task, with the keywords it inherits from its blocks and imports already applied.
#[derive(Debug, Clone)]
pub struct Task {
    pub origin: Origin,
    pub name: Option<String>,
    /// The module's short name (`copy` for `ansible.builtin.copy`).
    pub action: String,
    /// The name as Ansible prints it in messages (`ansible.builtin.copy`).
    pub action_fqcn: String,
    /// The module name as the task wrote it (an unnamed task's banner shows it).
    pub action_written: String,
    /// For `action: "{{ expr }}"`: what the task wrote after the module name and its
    /// `args:` keyword, parsed into [`Task::args`] once the name is templated for a host.
    pub action_template: Option<(Value, Option<Value>)>,
    pub args: Map<String, Value>,
    /// Where each argument was written, for "Error while resolving value for 'msg'".
    pub arg_origins: BTreeMap<String, Origin>,
    pub origin_action: Origin,
    /// Conditions from enclosing blocks and imports first, then the task's own.
    pub when: Vec<Cond>,
    pub tags: Vec<String>,
    /// Vars from enclosing blocks/imports, then the task's own (later wins).
    pub vars: Map<String, Value>,
    /// The task's own `vars:` alone: for an `include_tasks`, what ansible-core's
    /// `Task.get_include_params` gives the included tasks above set_fact and role params.
    pub own_vars: Map<String, Value>,
    pub loop_spec: Option<LoopSpec>,
    pub loop_origin: Option<Origin>,
    pub loop_control: Map<String, Value>,
    pub register: Option<String>,
    /// Keywords whose values are templated at run time, as written:
    /// delegate_to, delegate_facts, run_once, ignore_errors, ignore_unreachable, retries,
    /// delay, no_log, check_mode, diff, throttle, any_errors_fatal, become...
    pub keywords: Map<String, Value>,
    /// Where each keyword's value was written (the innermost place that set it).
    pub keyword_origins: BTreeMap<String, Origin>,
    /// `module_defaults` of the play, roles, blocks and the task, outermost first.
    pub module_defaults: Vec<Map<String, Value>>,
    /// `environment:` entries of the play, roles, blocks and imports around the task,
    /// outermost first (Ansible's `extend`/`prepend` field).
    pub inherited_environment: Vec<EnvEntry>,
    /// The tags of the blocks, roles and play around the task, without its own: what a
    /// dynamic include passes to the tasks it includes (ansible-core's
    /// `Task._get_parent_attribute` skips a parent that was not statically loaded).
    pub inherited_tags: Vec<String>,
    /// The task's own `environment:` entries (which an `include_tasks`/`include_role` does
    /// not pass to the tasks it includes).
    pub environment: Vec<EnvEntry>,
    pub failed_when: Option<Vec<Cond>>,
    pub changed_when: Option<Vec<Cond>>,
    pub until: Option<Vec<Cond>>,
    pub notify: Vec<String>,
    /// For handlers: the topics they listen to.
    pub listen: Vec<String>,
    pub role: Option<Arc<RoleRef>>,
    /// The folder of the file the task was written in (for relative paths).
    pub file_dir: PathBuf,
    pub is_handler: bool,
    /// How many dynamic includes (`include_tasks`, `include_role`) lead to this task: 0 for
    /// the play's own tasks. A recursion that goes too deep ends as ansible-core's does.
    pub include_depth: usize,
    /// Added by the loader, not written (a role's closing `role_complete`): never shown.
    pub implicit: bool,
}

impl Task {
    /// The `meta: role_complete` ansible-core's `Role.compile` ends each role with: a host
    /// that reaches it after a task of the role ran for it (not skipped, not unreachable)
    /// has completed the role. Tagged `always`, with no condition of its own, never shown.
    pub fn role_complete(role: Arc<RoleRef>, origin: Origin) -> Task {
        let mut args = Map::new();
        args.insert("_raw_params".into(), Value::String("role_complete".into()));
        Task {
            origin: origin.clone(),
            name: None,
            action: "meta".into(),
            action_fqcn: "ansible.builtin.meta".into(),
            action_written: "meta".into(),
            action_template: None,
            args,
            arg_origins: BTreeMap::new(),
            origin_action: origin,
            when: Vec::new(),
            tags: vec!["always".into()],
            vars: Map::new(),
            own_vars: Map::new(),
            loop_spec: None,
            loop_origin: None,
            loop_control: Map::new(),
            register: None,
            keywords: Map::new(),
            keyword_origins: BTreeMap::new(),
            module_defaults: Vec::new(),
            inherited_environment: Vec::new(),
            inherited_tags: Vec::new(),
            environment: Vec::new(),
            failed_when: None,
            changed_when: None,
            until: None,
            notify: Vec::new(),
            listen: Vec::new(),
            file_dir: role.path.clone(),
            role: Some(role),
            is_handler: false,
            include_depth: 0,
            implicit: true,
        }
    }

    /// The name Ansible shows in `TASK [...]`: the name, or the action when unnamed. An
    /// include_role is named without its role's prefix, and when unnamed as
    /// `include_role : ROLE` with the role's name as written (ansible-core's
    /// `IncludeRole.get_name`).
    pub fn display_name(&self) -> String {
        if self.action == "include_role" {
            return match &self.name {
                Some(n) if !n.is_empty() => n.clone(),
                _ => {
                    let role = self
                        .args
                        .get("name")
                        .or_else(|| self.args.get("role"))
                        .map(load::scalar_text)
                        .unwrap_or_else(|| "None".into());
                    format!("{} : {role}", self.action_written)
                }
            };
        }
        let base = match &self.name {
            Some(n) if !n.is_empty() => n.clone(),
            _ => self.action_written.clone(),
        };
        match &self.role {
            Some(r) => format!("{} : {}", r.name, base),
            None => base,
        }
    }

    pub fn keyword(&self, name: &str) -> Option<&Value> {
        self.keywords.get(name)
    }

    /// Where keyword `name` was written, else the task itself.
    pub fn keyword_origin(&self, name: &str) -> Origin {
        self.keyword_origins
            .get(name)
            .cloned()
            .unwrap_or_else(|| self.origin.clone())
    }

    /// The task's environment entries, outermost first, as Ansible's `_extend_value` joins
    /// them: a run of equal entries counts once and empty (`None`) entries are dropped.
    pub fn environment_chain(&self) -> Vec<&EnvEntry> {
        let mut out: Vec<&EnvEntry> = Vec::new();
        let mut previous: Option<&Value> = None;
        for e in self.inherited_environment.iter().chain(&self.environment) {
            if previous != Some(&e.value) && !e.value.is_null() {
                out.push(e);
            }
            previous = Some(&e.value);
        }
        out
    }
}
