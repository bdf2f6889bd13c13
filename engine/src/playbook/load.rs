//! Reads playbook, task and role files into [`Play`]s, [`Block`]s and [`Task`]s, validating
//! keywords and modules as Ansible's loader does and applying what blocks and imports pass
//! down to their tasks.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde_json::{Map, Value};

use super::error::LoadError;
use super::kv::parse_kv;
use super::modules_known;
use super::{Block, Cond, EnvEntry, Item, LoopSpec, Play, Playbook, RoleRef, Task};
use crate::diag::Origin;
use crate::yaml::{self, Node, NodeKind};

const PLAY_KEYWORDS: &[&str] = &[
    "any_errors_fatal",
    "become",
    "become_exe",
    "become_flags",
    "become_method",
    "become_user",
    "check_mode",
    "collections",
    "connection",
    "debugger",
    "diff",
    "environment",
    "fact_path",
    "force_handlers",
    "gather_facts",
    "gather_subset",
    "gather_timeout",
    "handlers",
    "hosts",
    "ignore_errors",
    "ignore_unreachable",
    "max_fail_percentage",
    "module_defaults",
    "name",
    "no_log",
    "order",
    "port",
    "post_tasks",
    "pre_tasks",
    "remote_user",
    "roles",
    "run_once",
    "serial",
    "strategy",
    "tags",
    "tasks",
    "throttle",
    "timeout",
    "vars",
    "vars_files",
    "vars_prompt",
];

/// Keywords shared by plays, blocks and tasks (Ansible's `Base` and mixins).
const COMMON_KEYWORDS: &[&str] = &[
    "any_errors_fatal",
    "become",
    "become_exe",
    "become_flags",
    "become_method",
    "become_user",
    "check_mode",
    "collections",
    "connection",
    "debugger",
    "diff",
    "environment",
    "ignore_errors",
    "ignore_unreachable",
    "module_defaults",
    "name",
    "no_log",
    "port",
    "remote_user",
    "run_once",
    "tags",
    "throttle",
    "timeout",
    "vars",
];

const BLOCK_ONLY_KEYWORDS: &[&str] = &[
    "block",
    "rescue",
    "always",
    "when",
    "delegate_to",
    "delegate_facts",
    "notify",
];

const TASK_ONLY_KEYWORDS: &[&str] = &[
    "action",
    "args",
    "async",
    "changed_when",
    "delay",
    "delegate_facts",
    "delegate_to",
    "failed_when",
    "local_action",
    "loop",
    "loop_control",
    "notify",
    "poll",
    "register",
    "retries",
    "until",
    "when",
    "listen",
];

/// The keywords a dynamic include (`include_tasks`, `include_role`) accepts (Ansible's
/// `TaskInclude.VALID_INCLUDE_KEYWORDS`).
const INCLUDE_KEYWORDS: &[&str] = &[
    "action",
    "args",
    "collections",
    "debugger",
    "ignore_errors",
    "loop",
    "loop_control",
    "name",
    "no_log",
    "register",
    "run_once",
    "tags",
    "timeout",
    "vars",
    "when",
];

/// Keywords inherited by the tasks inside a block or import, as written.
const INHERITED_KEYWORDS: &[&str] = &[
    "any_errors_fatal",
    "become",
    "become_user",
    "become_method",
    "check_mode",
    "connection",
    "delegate_to",
    "delegate_facts",
    "diff",
    "ignore_errors",
    "ignore_unreachable",
    "no_log",
    "run_once",
    "throttle",
    "timeout",
    "remote_user",
    "port",
];

/// What a block, import or role passes down to the tasks it holds.
#[derive(Clone, Default)]
struct Inherit {
    /// `notify` of the nearest block or import that sets it: a task without its own
    /// takes it (Task._get_parent_attribute; notify does not extend).
    notify: Option<Vec<String>>,
    when: Vec<Cond>,
    tags: Vec<String>,
    vars: Map<String, Value>,
    keywords: Map<String, Value>,
    /// Where each of `keywords` was written (errors about its value point there).
    keyword_origins: BTreeMap<String, Origin>,
    /// `module_defaults:` mappings, outermost first (a later one wins per action).
    module_defaults: Vec<Map<String, Value>>,
    /// `environment:` entries, outermost first (they add up rather than override).
    environment: Vec<EnvEntry>,
    role: Option<Arc<RoleRef>>,
    handlers: bool,
    /// How many dynamic includes lead to these tasks (see [`Task::include_depth`]).
    include_depth: usize,
}

/// Reads files relative to the playbook and remembers their text for error messages.
#[derive(Debug, Clone)]
pub struct Loader {
    pub playbook_dir: PathBuf,
    sources: BTreeMap<PathBuf, Arc<str>>,
    /// Roles met while loading a play, with their handlers (added to the play's handlers).
    role_handlers: Vec<Arc<Block>>,
    /// The role `load_role` loaded last (set when it returns).
    last_role: Option<Arc<RoleRef>>,
    role_defaults: Map<String, Value>,
    role_vars: Map<String, Value>,
    /// While a role's meta dependencies load: the roles loaded directly at each level.
    loading_dependencies: Vec<Vec<Arc<RoleRef>>>,
    /// The play's `roles:` entries so far, then the roles its `import_role`s loaded (each
    /// after its own tasks, as ansible-core appends it to `play.roles`): see [`Play::roles`].
    play_role_entries: Vec<Arc<RoleRef>>,
    play_roles: Vec<Arc<RoleRef>>,
    /// Set while the play's `roles:` entry is about to load its role.
    play_entry_pending: bool,
    /// How deep in meta dependencies loading is: a role loaded at depth 0 is one of the
    /// play's roles (a dependency's own `import_role` is again at depth 0).
    meta_dep_depth: usize,
    /// The files whose static imports are being expanded, outermost first: a file imported
    /// again while it is still being expanded is a cycle that would never end.
    importing: Vec<PathBuf>,
}

impl Loader {
    pub fn new(playbook_dir: &Path) -> Loader {
        Loader {
            playbook_dir: playbook_dir.to_path_buf(),
            sources: BTreeMap::new(),
            role_handlers: Vec::new(),
            last_role: None,
            role_defaults: Map::new(),
            role_vars: Map::new(),
            loading_dependencies: Vec::new(),
            play_role_entries: Vec::new(),
            play_roles: Vec::new(),
            play_entry_pending: false,
            meta_dep_depth: 0,
            importing: Vec::new(),
        }
    }

    /// Marks `path` as being expanded, or fails when it already is (an import cycle).
    fn enter_import(&mut self, path: &Path) -> Result<(), LoadError> {
        let key = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
        if let Some(first) = self.importing.iter().position(|p| *p == key) {
            let mut chain = self.importing[first..].to_vec();
            chain.push(key);
            return Err(LoadError::ImportCycle { chain });
        }
        self.importing.push(key);
        Ok(())
    }

    /// The text of a file loaded earlier (for rendering error context).
    pub fn source(&self, path: &Path) -> Option<Arc<str>> {
        self.sources.get(path).cloned()
    }

    fn read_yaml(&mut self, path: &Path) -> Result<Node, LoadError> {
        // Outside the project reads as missing, as Ansible words a file it cannot find.
        let text = crate::project::readable(path)
            .ok_or_else(|| std::io::Error::from(std::io::ErrorKind::NotFound))
            .and_then(std::fs::read_to_string)
            .map_err(|e| missing_file(path, &e))?;
        let node = yaml::load(&text, path)?;
        self.sources
            .insert(path.to_path_buf(), Arc::from(text.as_str()));
        Ok(node)
    }

    fn origin(path: &Path, node: &Node) -> Origin {
        Origin::new(path, node.span.line, node.span.col)
    }

    /// Loads a list of plays (and `import_playbook` entries) from `path`.
    fn load_plays(
        &mut self,
        path: &Path,
        extra_vars: &Map<String, Value>,
    ) -> Result<Vec<Arc<Play>>, LoadError> {
        self.enter_import(path)?;
        let plays = self.load_plays_of(path, extra_vars);
        self.importing.pop();
        plays
    }

    fn load_plays_of(
        &mut self,
        path: &Path,
        extra_vars: &Map<String, Value>,
    ) -> Result<Vec<Arc<Play>>, LoadError> {
        let doc = self.read_yaml(path)?;
        let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
        let shipped = super::plugins::templating_plugins(&dir);
        if !shipped.is_empty() {
            return Err(LoadError::Plain {
                message: super::plugins::templating_plugins_error(&dir, &shipped),
                exit_code: 4,
            });
        }
        // Playbook._load_playbook_data: nothing to run is an error naming the file.
        let shown = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
        let items = match &doc.kind {
            NodeKind::Seq(items) if items.is_empty() => {
                return Err(LoadError::Plain {
                    message: format!(
                        "A playbook must contain at least one play: {}",
                        shown.display()
                    ),
                    exit_code: 4,
                })
            }
            NodeKind::Seq(items) => items.clone(),
            NodeKind::Scalar(yaml::Scalar::Null) => {
                return Err(LoadError::Plain {
                    message: format!("Empty playbook, nothing to do: {}", shown.display()),
                    exit_code: 4,
                })
            }
            _ => {
                return Err(LoadError::at(
                    "A playbook must be a list of plays.",
                    Self::origin(path, &doc),
                ))
            }
        };
        let mut plays = Vec::new();
        for item in &items {
            if item.entries().is_none() {
                return Err(LoadError::at(
                    "A playbook must be a list of plays.",
                    Self::origin(path, item),
                ));
            }
            // ansible-core's _ACTION_IMPORT_PLAYBOOK: the short name and both FQCNs.
            let import_target = [
                "import_playbook",
                "ansible.builtin.import_playbook",
                "ansible.legacy.import_playbook",
            ]
            .iter()
            .find_map(|key| item.get(key));
            if let Some(target) = import_target {
                let file = target.as_str().unwrap_or_default();
                let target_path = dir.join(file);
                let mut vars = extra_vars.clone();
                if let Some(v) = item.get("vars") {
                    if let Value::Object(m) = v.to_value() {
                        vars.extend(m);
                    }
                }
                let sub_dir = target_path
                    .parent()
                    .map(Path::to_path_buf)
                    .unwrap_or_default();
                let mut sub = Loader::new(&sub_dir);
                sub.importing = self.importing.clone();
                let mut imported = sub.load_plays(&target_path, &vars)?;
                self.sources.append(&mut sub.sources);
                plays.append(&mut imported);
                continue;
            }
            plays.push(Arc::new(self.load_play(path, &dir, item, extra_vars)?));
        }
        Ok(plays)
    }

    fn load_play(
        &mut self,
        path: &Path,
        dir: &Path,
        node: &Node,
        import_vars: &Map<String, Value>,
    ) -> Result<Play, LoadError> {
        // Play.preprocess_data: the play keyword `user` is the old name of `remote_user`.
        let renamed;
        let node = match node.key_node("user") {
            Some(_) if node.get("remote_user").is_some() => {
                return Err(LoadError::at(
                    "both 'user' and 'remote_user' are set for this play. The use of 'user' is deprecated, and should be removed",
                    Self::origin(path, node),
                ));
            }
            Some(_) => {
                renamed = rename_key(node, "user", "remote_user");
                &renamed
            }
            None => node,
        };
        for (k, _) in node.entries().unwrap_or(&[]) {
            let key = k.key_string();
            if !PLAY_KEYWORDS.contains(&key.as_str()) {
                return Err(LoadError::at(
                    format!("'{key}' is not a valid attribute for a Play"),
                    Self::origin(path, k),
                ));
            }
        }
        let origin = Self::origin(path, node);
        // Play._validate_hosts: a hosts list that is there but empty.
        if let Some(h) = node.get("hosts") {
            let empty = match &h.kind {
                NodeKind::Seq(items) => items.is_empty(),
                NodeKind::Scalar(yaml::Scalar::Str(s)) => s.is_empty(),
                _ => false,
            };
            if empty {
                return Err(LoadError::Plain {
                    message: "Hosts list cannot be empty. Please check your playbook".into(),
                    exit_code: 4,
                });
            }
        }
        // Play._load_roles: `roles:` must be a list (null is none).
        if let Some(roles) = node
            .get("roles")
            .filter(|r| !r.is_null() && r.items().is_none())
        {
            let value = roles.to_value();
            return Err(LoadError::at(
                format!(
                    "A malformed role declaration was encountered: ds ({}) should be a list but was a {}",
                    match &value {
                        Value::String(s) => s.clone(),
                        other => crate::template::pyrepr::json_repr(other),
                    },
                    python_class(&value)
                ),
                Self::origin(path, node),
            ));
        }
        // Play._load_vars_prompt: every prompt names its variable.
        if let Some(prompts) = node.get("vars_prompt") {
            let nameless = prompts
                .items()
                .unwrap_or_default()
                .iter()
                .any(|p| p.entries().is_some() && p.get("name").is_none());
            if nameless {
                return Err(LoadError::at(
                    "Invalid vars_prompt data structure, missing 'name' key",
                    Self::origin(path, prompts),
                ));
            }
        }
        // Play._load_tasks and the like: a task list that is not a list.
        for section in ["pre_tasks", "tasks", "post_tasks", "handlers"] {
            let Some(list) = node.get(section) else {
                continue;
            };
            if list.is_null() || list.items().is_some() {
                continue;
            }
            let value = list.to_value();
            return Err(LoadError::at(
                format!(
                    "A malformed block was encountered while loading {section}: {} should be a list or None but is {}",
                    match &value {
                        Value::String(s) => s.clone(),
                        other => crate::template::pyrepr::json_repr(other),
                    },
                    python_class(&value)
                ),
                Self::origin(path, node),
            ));
        }
        let hosts = match node.get("hosts") {
            Some(h) if !h.is_null() => h.to_value(),
            _ => {
                return Err(LoadError::at(
                    "Hosts list cannot be empty. Please check your playbook",
                    origin,
                ))
            }
        };
        let mut keywords = Map::new();
        for (k, v) in node.dict_entries() {
            let key = k.key_string();
            if !matches!(
                key.as_str(),
                "tasks"
                    | "pre_tasks"
                    | "post_tasks"
                    | "handlers"
                    | "roles"
                    | "vars"
                    | "vars_files"
                    | "name"
                    | "hosts"
            ) {
                keywords.insert(key, v.to_value());
            }
        }
        let mut vars = import_vars.clone();
        if let Some(v) = node.get("vars") {
            vars.extend(vars_map(path, v)?);
        }
        let vars_files = match node.get("vars_files").map(Node::to_value) {
            Some(Value::Array(a)) => a,
            Some(Value::Null) | None => Vec::new(),
            Some(other) => vec![other],
        };
        let mut inherit = Inherit {
            tags: string_list(node.get("tags")),
            ..Inherit::default()
        };
        // run_once too: it is a Base attribute, so a play's reaches its tasks in 2.19.
        for k in INHERITED_KEYWORDS {
            if let Some(v) = node.get(k) {
                inherit.keywords.insert((*k).to_string(), v.to_value());
                inherit
                    .keyword_origins
                    .insert((*k).to_string(), Self::origin(path, v));
            }
        }
        if let Some(env) = node.get("environment") {
            inherit.environment.extend(env_entries(path, env));
        }
        if let Some(md) = node.get("module_defaults") {
            inherit.module_defaults.extend(module_defaults(path, md)?);
        }
        refuse_unsupported(path, node, &inherit.keywords)?;
        self.role_handlers.clear();
        self.play_roles.clear();
        self.play_role_entries.clear();
        self.role_defaults = Map::new();
        self.role_vars = Map::new();
        let pre_tasks = self.blocks(path, node.get("pre_tasks"), &inherit)?;
        let mut tasks = Vec::new();
        if let Some(roles) = node.get("roles") {
            for r in roles.items().unwrap_or(&[]) {
                self.play_entry_pending = true;
                let loaded = self.role_entry(path, dir, r, &inherit);
                self.play_entry_pending = false;
                tasks.extend(loaded?);
            }
        }
        tasks.extend(self.blocks(path, node.get("tasks"), &inherit)?);
        let post_tasks = self.blocks(path, node.get("post_tasks"), &inherit)?;
        // Role handlers come first, then the play's own (their order when flushing).
        let mut handlers = std::mem::take(&mut self.role_handlers);
        handlers.extend(self.blocks(
            path,
            node.get("handlers"),
            &Inherit {
                handlers: true,
                ..inherit.clone()
            },
        )?);
        Ok(Play {
            origin,
            name: node.get("name").map(|n| scalar_text(&n.to_value())),
            hosts,
            keywords,
            vars,
            vars_files,
            pre_tasks,
            tasks,
            post_tasks,
            handlers,
            dir: dir.to_path_buf(),
            role_defaults: std::mem::take(&mut self.role_defaults),
            role_vars: std::mem::take(&mut self.role_vars),
            roles: std::mem::take(&mut self.play_role_entries)
                .into_iter()
                .chain(std::mem::take(&mut self.play_roles))
                .collect(),
        })
    }

    /// `roles:` entries: `- web`, `- role: web` with params, `when` and `tags`.
    fn role_entry(
        &mut self,
        path: &Path,
        dir: &Path,
        node: &Node,
        inherit: &Inherit,
    ) -> Result<Vec<Arc<Block>>, LoadError> {
        // RoleInclude.load: the old `role,param=value` string form is an error (exit 1).
        if let Some(text) = node.as_str().filter(|t| t.contains(',')) {
            return Err(LoadError::Plain {
                message: format!("Invalid old style role requirement: {text}"),
                exit_code: 1,
            });
        }
        let (name, params_node) = match &node.kind {
            NodeKind::Scalar(_) => (scalar_text(&node.to_value()), None),
            NodeKind::Map(_) => {
                let name = node
                    .get("role")
                    .or_else(|| node.get("name"))
                    .map(|n| scalar_text(&n.to_value()))
                    .unwrap_or_default();
                (name, Some(node))
            }
            _ => {
                return Err(LoadError::at(
                    "role definitions must contain a role name",
                    Self::origin(path, node),
                ))
            }
        };
        let mut inh = inherit.clone();
        let mut params = Map::new();
        let mut keyword_vars = Map::new();
        // What makes two uses of a role the same role (ansible-core's `Role._get_hash_dict`):
        // its params, vars, `when` and `tags`, not other keywords.
        let mut identity = Map::new();
        if let Some(p) = params_node {
            for (k, v) in p.dict_entries() {
                let key = k.key_string();
                match key.as_str() {
                    "role" | "name" => {}
                    "when" => {
                        identity.insert(key.clone(), v.to_value());
                        inh.when.extend(conds(path, v));
                    }
                    "tags" => {
                        identity.insert(key.clone(), v.to_value());
                        inh.tags.extend(string_list(Some(v)));
                    }
                    "vars" => {
                        identity.insert(key.clone(), v.to_value());
                        keyword_vars.extend(vars_map(path, v)?);
                    }
                    "environment" => inh.environment.extend(env_entries(path, v)),
                    "module_defaults" => inh.module_defaults.extend(module_defaults(path, v)?),
                    other if COMMON_KEYWORDS.contains(&other) => {
                        inh.keyword_origins
                            .insert(key.clone(), Self::origin(path, v));
                        inh.keywords.insert(key, v.to_value());
                    }
                    _ => {
                        identity.insert(format!("param:{key}"), v.to_value());
                        params.insert(key, v.to_value());
                    }
                }
            }
        }
        // A role used again in the play (in `roles:` or as a dependency) with the same
        // identity runs once per host: ansible-core's iterator skips the tasks of a role the
        // host has completed, which it has when it reached the role's end after one of the
        // role's tasks ran for it (a use skipped by `when` does not count). So each use is
        // loaded, and ends with the implicit `role_complete` the runner keeps count with.
        if let Some(role_dir) = self.role_path(dir, &name) {
            let real = std::fs::canonicalize(&role_dir).unwrap_or(role_dir);
            let key = format!(
                "{}\0{}",
                real.display(),
                serde_json::to_string(&identity).unwrap_or_default()
            );
            let provided = params.clone();
            let dedup = !self.allows_duplicates(&real)?;
            let origin = Self::origin(path, node);
            let mut blocks = self.load_role(
                dir,
                &name,
                &RoleFiles::default(),
                params,
                keyword_vars,
                inh,
                origin.clone(),
                true,
                Some(provided),
            )?;
            if let Some(role) = self.last_role.clone() {
                if dedup {
                    let _ = role.dedup_key.set(key);
                    let complete = Task::role_complete(role.clone(), origin.clone());
                    blocks.push(Arc::new(Block {
                        origin,
                        name: None,
                        block: vec![Item::Task(Arc::new(complete))],
                        rescue: Vec::new(),
                        always: Vec::new(),
                        implicit: true,
                    }));
                }
            }
            return Ok(blocks);
        }
        self.load_role(
            dir,
            &name,
            &RoleFiles::default(),
            params,
            keyword_vars,
            inh,
            Self::origin(path, node),
            true,
            None,
        )
    }

    /// The role's `allow_duplicates` (meta/main.yml): it then runs again wherever it is used.
    fn allows_duplicates(&mut self, role_dir: &Path) -> Result<bool, LoadError> {
        let Some(meta) = find_yaml(&role_dir.join("meta"), "main") else {
            return Ok(false);
        };
        let node = self.read_yaml(&meta)?;
        Ok(node
            .get("allow_duplicates")
            .and_then(|n| crate::modules::to_bool(&n.to_value()))
            .unwrap_or(false))
    }

    /// Finds a role's folder as Ansible does: `roles/NAME` beside the playbook, then in the
    /// configured roles path (`ANSIBLE_ROLES_PATH`), then `NAME` beside the playbook.
    fn role_path(&self, dir: &Path, name: &str) -> Option<PathBuf> {
        let mut candidates = vec![
            dir.join("roles").join(name),
            self.playbook_dir.join("roles").join(name),
        ];
        candidates.extend(
            crate::config::roles_path()
                .into_iter()
                .map(|p| p.join(name)),
        );
        candidates.push(dir.join(name));
        candidates
            .into_iter()
            .find(|p| crate::project::readable_dir(p).is_some())
    }

    #[allow(clippy::too_many_arguments)]
    fn load_role(
        &mut self,
        dir: &Path,
        name: &str,
        files: &RoleFiles,
        params: Map<String, Value>,
        keyword_vars: Map<String, Value>,
        mut inh: Inherit,
        at: Origin,
        with_handlers: bool,
        validation: Option<Map<String, Value>>,
    ) -> Result<Vec<Arc<Block>>, LoadError> {
        let Some(role_dir) = self.role_path(dir, name) else {
            return Err(LoadError::at(self.role_not_found(dir, name), at));
        };
        let shipped = super::plugins::templating_plugins(&role_dir);
        if !shipped.is_empty() {
            return Err(LoadError::at(
                super::plugins::templating_plugins_error(&role_dir, &shipped),
                at,
            ));
        }
        let defaults = self.role_vars_file(&role_dir, "defaults", files.defaults.as_deref())?;
        let vars = self.role_vars_file(&role_dir, "vars", files.vars.as_deref())?;
        let role = Arc::new(RoleRef::new(
            name,
            role_dir.clone(),
            defaults,
            vars,
            params,
            keyword_vars,
            inh.role.clone(),
        ));
        if let Some(siblings) = self.loading_dependencies.last_mut() {
            siblings.push(role.clone());
        }
        let play_entry = std::mem::take(&mut self.play_entry_pending);
        if play_entry {
            self.play_role_entries.push(role.clone());
        }
        let mut blocks = Vec::new();
        // Dependencies in meta/main.yml run first (a dependency already used in the play
        // with the same identity is skipped by `role_entry`).
        let meta = find_yaml(&role_dir.join("meta"), "main");
        // The dependencies' dep chain ends with this role.
        let dep_inh = Inherit {
            role: Some(role.clone()),
            ..inh.clone()
        };
        self.loading_dependencies.push(Vec::new());
        if let Some(meta) = meta {
            let node = self.read_yaml(&meta)?;
            if let Some(deps) = node.get("dependencies") {
                for d in deps.items().unwrap_or(&[]) {
                    self.meta_dep_depth += 1;
                    let loaded = self.role_entry(&meta, &role_dir, d, &dep_inh);
                    self.meta_dep_depth -= 1;
                    match loaded {
                        Ok(b) => blocks.extend(b),
                        Err(e) => {
                            self.loading_dependencies.pop();
                            return Err(e);
                        }
                    }
                }
            }
        }
        let _ = role
            .dependencies
            .set(self.loading_dependencies.pop().unwrap_or_default());
        // The play's view of its roles' defaults and vars (for tasks outside them):
        // `Role.get_default_vars` and `get_vars` put a role's dependencies first, then its own.
        self.role_defaults.extend(role.defaults.clone());
        self.role_vars.extend(role.vars.clone());
        // Roles its tasks import are not its dependencies.
        self.loading_dependencies.push(Vec::new());
        let depth = std::mem::take(&mut self.meta_dep_depth);
        let tasks = self.role_tasks(&role_dir, files, &role, &mut inh, validation);
        self.meta_dep_depth = depth;
        self.loading_dependencies.pop();
        blocks.extend(tasks?);
        if !play_entry && self.meta_dep_depth == 0 {
            self.play_roles.push(role.clone());
        }
        self.last_role = Some(role.clone());
        // Each use of a role that is not deduplicated (role_entry returns before loading a
        // repeated one) is its own role with its own handlers, seeing its own params and
        // vars, as ansible-core's Role objects each compile their handler blocks.
        if with_handlers {
            let handlers_from = files.handlers.as_deref();
            let handlers = find_yaml(&role_dir.join("handlers"), handlers_from.unwrap_or("main"));
            if let (None, Some(wanted)) = (&handlers, handlers_from) {
                return Err(not_in_role("handlers", wanted));
            }
            if let Some(h) = handlers {
                let node = self.read_yaml(&h)?;
                let hinh = Inherit {
                    handlers: true,
                    ..inh.clone()
                };
                let hb = self.blocks(&h, Some(&node), &hinh)?;
                self.role_handlers.extend(hb);
            }
        }
        Ok(blocks)
    }

    /// A role's task file (`tasks/main.yml` or `tasks_from`), its tasks belonging to `role`.
    fn role_tasks(
        &mut self,
        role_dir: &Path,
        files: &RoleFiles,
        role: &Arc<RoleRef>,
        inh: &mut Inherit,
        validation: Option<Map<String, Value>>,
    ) -> Result<Vec<Arc<Block>>, LoadError> {
        inh.role = Some(role.clone());
        let tasks_from = files.tasks.as_deref().unwrap_or("main");
        let mut blocks = if let Some(tasks_file) = find_yaml(&role_dir.join("tasks"), tasks_from) {
            // `tasks_from` may not leave the role's tasks folder (an absolute path, `..`).
            let tasks_dir = role_dir.join("tasks");
            if !lexical_normpath(&tasks_file).starts_with(lexical_normpath(&tasks_dir)) {
                return Err(LoadError::Fatal {
                    message: format!(
                        "Failed loading '{}' for role ({}) as it is not inside the expected role path: '{}'",
                        tasks_file.display(),
                        role.name,
                        tasks_dir.display()
                    ),
                    exit_code: 4,
                });
            }
            let node = self.read_yaml(&tasks_file)?;
            self.blocks(&tasks_file, Some(&node), inh)?
        } else if let Some(wanted) = &files.tasks {
            return Err(not_in_role("tasks", wanted));
        } else {
            Vec::new()
        };
        if let Some(provided) = validation {
            if let Some(check) =
                self.argspec_validation(role_dir, files.entry_point(), role, provided, inh)?
            {
                blocks.insert(0, check);
            }
        }
        Ok(blocks)
    }

    /// ansible-core's `Role._prepend_validation_task`: when the role's argument specs
    /// (`meta/argument_specs.yml`, else `argument_specs` in `meta/main.yml`) have an entry
    /// for the entry point (`tasks_from`, `main` by default), a `validate_argument_spec`
    /// task tagged `always` runs before the role's tasks, checking the role's variables
    /// and its params (`provided`) against the entry point's `options`.
    fn argspec_validation(
        &mut self,
        role_dir: &Path,
        entry_point: &str,
        role: &Arc<RoleRef>,
        provided: Map<String, Value>,
        inh: &Inherit,
    ) -> Result<Option<Arc<Block>>, LoadError> {
        let meta = role_dir.join("meta");
        let (file, specs) = match ["yml", "yaml", "json"]
            .iter()
            .map(|ext| meta.join(format!("argument_specs.{ext}")))
            .find(|p| p.is_file())
        {
            Some(file) => {
                let node = self.read_yaml(&file)?;
                (file, node.get("argument_specs").map(Node::to_value))
            }
            None => match find_yaml(&meta, "main") {
                Some(file) => {
                    let node = self.read_yaml(&file)?;
                    (file, node.get("argument_specs").map(Node::to_value))
                }
                None => return Ok(None),
            },
        };
        let Some(Value::Object(specs)) = specs else {
            return Ok(None);
        };
        let spec = match specs.get(entry_point) {
            Some(Value::Object(spec)) if !spec.is_empty() => spec.clone(),
            _ => return Ok(None),
        };
        let mut name = format!("Validating arguments against arg spec '{entry_point}'");
        if let Some(short) = spec.get("short_description") {
            name.push_str(&format!(" - {}", scalar_text(short)));
        }
        let mut context = Map::new();
        context.insert("type".into(), Value::from("role"));
        context.insert("name".into(), Value::from(role.name.clone()));
        context.insert("argument_spec_name".into(), Value::from(entry_point));
        context.insert("path".into(), Value::from(role.path.display().to_string()));
        let mut args = Map::new();
        args.insert(
            "argument_spec".into(),
            spec.get("options")
                .cloned()
                .unwrap_or_else(|| Value::Object(Map::new())),
        );
        args.insert("provided_arguments".into(), Value::Object(provided));
        args.insert("validate_args_context".into(), Value::Object(context));
        let mut data = Map::new();
        data.insert(
            "action".into(),
            Value::from("ansible.builtin.validate_argument_spec"),
        );
        data.insert("args".into(), Value::Object(args));
        data.insert("name".into(), Value::from(name));
        data.insert("tags".into(), serde_json::json!(["always"]));
        let data = Value::Object(data);
        let node = Node::from_value(&Value::Array(vec![data.clone()]), yaml::Span::default());
        let mut blocks = self.blocks(&file, Some(&node), inh)?;
        // The task is data Ansible made, with no place in a file: its errors show
        // `Origin: <unknown>` and the data's `str()`.
        let origin = Origin::unknown_value(&crate::template::pyrepr::json_repr(&data));
        let Some(block) = blocks.pop() else {
            return Ok(None);
        };
        let mut block = Arc::unwrap_or_clone(block);
        for item in &mut block.block {
            if let Item::Task(task) = item {
                let mut t = Arc::unwrap_or_clone(task.clone());
                t.origin = origin.clone();
                t.origin_action = origin.clone();
                *task = Arc::new(t);
            }
        }
        Ok(Some(Arc::new(block)))
    }

    /// Loads a role for `include_role` at run time; its handlers (and those of the roles it
    /// brings) are then in [`Loader::take_role_handlers`], for the runner to add to the
    /// play's handlers as ansible-core's IncludeRole does. `include` is the include_role task and `apply` its `apply:` keywords. A role that
    /// cannot be found is a [`LoadError::Plain`] (the include fails for its hosts); a role
    /// that does not parse is an error that stops the run.
    pub fn load_role_dynamic(
        &mut self,
        dir: &Path,
        name: &str,
        files: &RoleFiles,
        mut params: Map<String, Value>,
        include: &Task,
        apply: Option<&Map<String, Value>>,
    ) -> Result<Vec<Arc<Block>>, LoadError> {
        if self.role_path(dir, name).is_none() {
            return Err(LoadError::Plain {
                message: self.role_not_found(dir, name),
                exit_code: 1,
            });
        }
        add_parent_role(&mut params, include.role.as_deref());
        // The including role (if any) heads the included role's dep chain.
        let inh = Inherit {
            include_depth: include.include_depth + 1,
            role: include.role.clone(),
            tags: include.inherited_tags.clone(),
            ..Inherit::default()
        };
        let inh = apply_block(include, apply, inh)?;
        let at = Origin::new(dir, 0, 0);
        self.role_handlers.clear();
        let validation = rolespec_validate(&include.args).then(Map::new);
        let blocks = self.load_role(
            dir,
            name,
            files,
            params,
            Map::new(),
            inh,
            at,
            true,
            validation,
        );
        // The play was loaded long ago: the runner keeps the roles includes add to it.
        self.play_roles.clear();
        blocks
    }

    /// The handler blocks of the roles [`Loader::load_role_dynamic`] loaded last.
    pub fn take_role_handlers(&mut self) -> Vec<Arc<Block>> {
        std::mem::take(&mut self.role_handlers)
    }

    /// The role `load_role` (or [`Loader::load_role_dynamic`]) loaded last.
    pub fn last_loaded_role(&self) -> Option<Arc<RoleRef>> {
        self.last_role.clone()
    }

    /// ansible-core's message for a role it cannot find, with the folders it searched.
    fn role_not_found(&self, dir: &Path, name: &str) -> String {
        let mut searched = vec![dir.join("roles")];
        searched.extend(crate::config::roles_path());
        searched.push(dir.to_path_buf());
        let searched = searched
            .iter()
            .map(|p| p.display().to_string())
            .collect::<Vec<_>>()
            .join(":");
        format!("the role '{name}' was not found in {searched}")
    }

    /// A role's `defaults/` or `vars/` file: `main`, or the one `defaults_from`/`vars_from`
    /// names (which must exist).
    fn role_vars_file(
        &mut self,
        role_dir: &Path,
        subdir: &str,
        from: Option<&str>,
    ) -> Result<Map<String, Value>, LoadError> {
        let Some(wanted) = from else {
            return self.vars_file_in(&role_dir.join(subdir));
        };
        let Some(p) = find_yaml(&role_dir.join(subdir), wanted) else {
            return Err(not_in_role(subdir, wanted));
        };
        let node = self.read_yaml(&p)?;
        match node.to_value() {
            Value::Object(m) => Ok(m),
            _ => Ok(Map::new()),
        }
    }

    fn vars_file_in(&mut self, dir: &Path) -> Result<Map<String, Value>, LoadError> {
        let mut merged = Map::new();
        for p in role_vars_files(dir) {
            // Later files replace the keys of earlier ones (combine_vars); an empty file or
            // one that is not a mapping adds nothing.
            if let Value::Object(m) = self.read_yaml(&p)?.to_value() {
                merged.extend(m);
            }
        }
        Ok(merged)
    }

    /// A list of tasks and blocks, with consecutive bare tasks grouped in implicit blocks.
    fn blocks(
        &mut self,
        path: &Path,
        list: Option<&Node>,
        inherit: &Inherit,
    ) -> Result<Vec<Arc<Block>>, LoadError> {
        let Some(list) = list else {
            return Ok(Vec::new());
        };
        if list.is_null() {
            return Ok(Vec::new());
        }
        let Some(items) = list.items() else {
            return Err(LoadError::at(
                "A malformed block was encountered while loading tasks: expected a list of tasks.",
                Self::origin(path, list),
            ));
        };
        let mut out = Vec::new();
        let mut implicit: Vec<Item> = Vec::new();
        let mut implicit_origin: Option<Origin> = None;
        for item in items {
            if item.get("block").is_some()
                || item.get("rescue").is_some()
                || item.get("always").is_some()
            {
                if !implicit.is_empty() {
                    out.push(Arc::new(Block {
                        origin: implicit_origin
                            .take()
                            .unwrap_or_else(|| Self::origin(path, item)),
                        name: None,
                        block: std::mem::take(&mut implicit),
                        rescue: Vec::new(),
                        always: Vec::new(),
                        implicit: true,
                    }));
                }
                out.push(Arc::new(self.block(path, item, inherit)?));
            } else {
                implicit_origin.get_or_insert_with(|| Self::origin(path, item));
                implicit.extend(self.task_or_import(path, item, inherit)?);
            }
        }
        if !implicit.is_empty() {
            out.push(Arc::new(Block {
                origin: implicit_origin.unwrap_or_else(|| Self::origin(path, list)),
                name: None,
                block: implicit,
                rescue: Vec::new(),
                always: Vec::new(),
                implicit: true,
            }));
        }
        Ok(out)
    }

    fn block(&mut self, path: &Path, node: &Node, inherit: &Inherit) -> Result<Block, LoadError> {
        for (k, _) in node.entries().unwrap_or(&[]) {
            let key = k.key_string();
            if !COMMON_KEYWORDS.contains(&key.as_str())
                && !BLOCK_ONLY_KEYWORDS.contains(&key.as_str())
            {
                return Err(LoadError::at(
                    format!("'{key}' is not a valid attribute for a Block"),
                    Self::origin(path, k),
                ));
            }
        }
        let mut inh = inherit.clone();
        apply_inherited(path, node, &mut inh)?;
        refuse_unsupported(path, node, &inh.keywords)?;
        let list = |this: &mut Self, key: &str| -> Result<Vec<Item>, LoadError> {
            let mut items = Vec::new();
            for b in this.blocks(path, node.get(key), &inh)? {
                // Flatten implicit blocks: their tasks belong to this block directly.
                if b.implicit {
                    items.extend(b.block.iter().cloned());
                } else {
                    items.push(Item::Block(b));
                }
            }
            Ok(items)
        };
        let block = list(self, "block")?;
        let rescue = list(self, "rescue")?;
        let always = list(self, "always")?;
        Ok(Block {
            origin: Self::origin(path, node),
            name: node.get("name").map(|n| scalar_text(&n.to_value())),
            block,
            rescue,
            always,
            implicit: false,
        })
    }

    /// A task entry, or the tasks of an `import_tasks`/`import_role` expanded in place.
    fn task_or_import(
        &mut self,
        path: &Path,
        node: &Node,
        inherit: &Inherit,
    ) -> Result<Vec<Item>, LoadError> {
        if node.entries().is_none() {
            return Err(LoadError::at(
                "A malformed block was encountered while loading tasks: a task must be a mapping.",
                Self::origin(path, node),
            ));
        }
        let task = self.task(path, node, inherit)?;
        if matches!(task.action.as_str(), "import_role" | "include_role") {
            check_role_use_args(&task, Self::origin(path, node))?;
        }
        match task.action.as_str() {
            "import_tasks" => {
                let file = task
                    .args
                    .get("_raw_params")
                    .or_else(|| task.args.get("file"))
                    .map(scalar_text)
                    .unwrap_or_default();
                let base = path.parent().unwrap_or(Path::new("."));
                let target =
                    resolve_task_file(base, &self.playbook_dir, task.role.as_deref(), &file);
                let mut inh = inherit.clone();
                apply_inherited(path, node, &mut inh)?;
                let sub = self.read_yaml(&target)?;
                self.enter_import(&target)?;
                let blocks = self.blocks(&target, Some(&sub), &inh);
                self.importing.pop();
                Ok(blocks?.into_iter().map(Item::Block).collect())
            }
            "import_role" => {
                let name = task
                    .args
                    .get("name")
                    .or_else(|| task.args.get("role"))
                    .map(scalar_text)
                    .unwrap_or_default();
                let files = RoleFiles::from_args(&task.args);
                let mut inh = inherit.clone();
                apply_inherited(path, node, &mut inh)?;
                let dir = path.parent().unwrap_or(Path::new(".")).to_path_buf();
                let mut params = Map::new();
                add_parent_role(&mut params, inherit.role.as_deref());
                // import_role's role has no params of its own (its `vars:` are not).
                let validation = rolespec_validate(&task.args).then(Map::new);
                let blocks = self.load_role(
                    &dir,
                    &name,
                    &files,
                    params,
                    Map::new(),
                    inh,
                    task.origin.clone(),
                    true,
                    validation,
                )?;
                Ok(blocks.into_iter().map(Item::Block).collect())
            }
            _ => Ok(vec![Item::Task(Arc::new(task))]),
        }
    }

    fn task(&mut self, path: &Path, node: &Node, inherit: &Inherit) -> Result<Task, LoadError> {
        let origin = Self::origin(path, node);
        let mut actions: Vec<(&Node, &Node)> = Vec::new();
        let mut loop_spec = None;
        let mut loop_origin = None;
        for (k, v) in node.dict_entries() {
            let key = k.key_string();
            if let Some(lookup) = key.strip_prefix("with_") {
                loop_spec = Some(LoopSpec::With(lookup.to_string(), v.to_value()));
                loop_origin = Some(Self::origin(path, v));
                continue;
            }
            if COMMON_KEYWORDS.contains(&key.as_str()) || TASK_ONLY_KEYWORDS.contains(&key.as_str())
            {
                continue;
            }
            actions.push((k, v));
        }
        let (action_name, action_args, action_origin) = if let Some(a) =
            node.get("action").or_else(|| node.get("local_action"))
        {
            if !actions.is_empty() {
                let names: Vec<String> = std::iter::once("action".to_string())
                    .chain(actions.iter().map(|(k, _)| k.key_string()))
                    .collect();
                return Err(LoadError::at(
                    format!("conflicting action statements: {}", names.join(", ")),
                    origin,
                ));
            }
            match a.to_value() {
                Value::String(s) => {
                    // ansible-core's _split_module_string: the first word as split_args
                    // splits (a `{{ template }}` is one word), the others joined by spaces.
                    let words = super::kv::split_args(&s);
                    let module = words.first().map(|w| w.trim().to_string());
                    (
                        module.unwrap_or_default(),
                        Value::String(words.get(1..).unwrap_or_default().join(" ")),
                        Self::origin(path, a),
                    )
                }
                Value::Object(mut m) => {
                    let (module, rest) = match m.remove("module").map(|v| scalar_text(&v)) {
                        Some(text) => {
                            let words = super::kv::split_args(&text);
                            (
                                words
                                    .first()
                                    .map(|w| w.trim().to_string())
                                    .unwrap_or_default(),
                                words.get(1..).unwrap_or_default().join(" "),
                            )
                        }
                        None => (String::new(), String::new()),
                    };
                    let check_raw = modules_known::resolve(&module)
                        .is_some_and(|short| FREEFORM_ACTIONS.contains(&short));
                    if !rest.is_empty() {
                        for (k, v) in parse_kv(&rest, check_raw) {
                            m.insert(k, v);
                        }
                    }
                    // ModuleArgsParser: an `args` inside the mapping (a mapping, or k=v text)
                    // is merged into the others.
                    match m.remove("args") {
                        Some(Value::Object(inner)) => m.extend(inner),
                        Some(Value::String(text)) => m.extend(parse_kv(&text, false)),
                        Some(other) => {
                            m.insert("args".into(), other);
                        }
                        None => {}
                    }
                    (module, Value::Object(m), Self::origin(path, a))
                }
                _ => (String::new(), Value::Null, Self::origin(path, a)),
            }
        } else {
            match actions.len() {
                0 => {
                    return Err(LoadError::at("no module/action detected in task.", origin));
                }
                1 => (
                    actions[0].0.key_string(),
                    actions[0].1.to_value(),
                    Self::origin(path, actions[0].0),
                ),
                _ => {
                    let names: Vec<String> = actions.iter().map(|(k, _)| k.key_string()).collect();
                    return Err(LoadError::at(
                        format!("conflicting action statements: {}", names.join(", ")),
                        origin,
                    ));
                }
            }
        };
        // `action: "{{ name }}"`: the module is known only when the task runs, per host
        // (ansible-core templates the action in Task._post_validate_args); its arguments are
        // parsed then, as below.
        let templated_action = crate::template::is_template(&action_name)
            && (node.get("action").is_some() || node.get("local_action").is_some());
        let short = if templated_action {
            Some("")
        } else {
            modules_known::resolve(&action_name)
        };
        let Some(short) = short else {
            // ansible_builtin_runtime.yml's tombstone for the action plugin `include`: the
            // plugin loader raises AnsiblePluginRemovedError, an error but no parse error.
            if matches!(action_name.as_str(), "include" | "ansible.builtin.include") {
                return Err(LoadError::At {
                    message: "The 'ansible.builtin.include' action plugin has been removed. Use include_tasks or import_tasks instead. This feature was removed from ansible-core in a release after 2023-05-16.".into(),
                    origin,
                    exit_code: 1,
                });
            }
            if let Some(plugin) =
                super::plugins::module_plugin(&action_name, path, &self.playbook_dir)
            {
                return Err(LoadError::at(
                    super::plugins::module_plugin_error(&action_name, &plugin),
                    origin,
                ));
            }
            return Err(LoadError::at(
                format!(
                    "couldn't resolve module/action '{action_name}'. This often indicates a misspelling, missing collection, or incorrect module path."
                ),
                origin,
            ));
        };
        if let Some(class) = match short {
            "include_tasks" => Some("TaskInclude"),
            "include_role" => Some("IncludeRole"),
            _ => None,
        } {
            // Ansible's TaskInclude.preprocess_data: keywords other than these would not
            // reach the included tasks, so a dynamic include refuses them.
            for (k, _) in node.dict_entries() {
                let key = k.key_string();
                let valid = INCLUDE_KEYWORDS.contains(&key.as_str())
                    || key.starts_with("with_")
                    || key == action_name
                    || (key == "listen" && inherit.handlers);
                if !valid {
                    return Err(LoadError::at(
                        format!("'{key}' is not a valid attribute for a {class}"),
                        origin,
                    ));
                }
            }
        }
        let extra_args = node.get("args").map(Node::to_value);
        // ModuleArgsParser: the `args` keyword is a mapping, or one template that resolves
        // to one (a layer under the task's own arguments); anything else is refused.
        match (&extra_args, node.get("args")) {
            (Some(Value::Object(_)) | Some(Value::Null) | None, _) => {}
            (Some(Value::String(t)), _) if crate::template::possibly_all_template(t) => {}
            (Some(_), Some(at)) => {
                return Err(LoadError::at(
                    "The value of the task `args` keyword is invalid.",
                    Self::origin(path, at),
                ));
            }
            (Some(_), None) => {}
        }
        let (args, action_template) = if templated_action {
            (Map::new(), Some((action_args, extra_args)))
        } else {
            (task_args(short, action_args, extra_args), None)
        };
        let mut arg_origins = BTreeMap::new();
        if let Some(a) = actions.first().map(|(_, v)| *v) {
            for (k, v) in a.dict_entries() {
                arg_origins.insert(k.key_string(), Self::origin(path, v));
                // Where the key itself is (set_fact's invalid variable names point there).
                arg_origins.insert(format!("key:{}", k.key_string()), Self::origin(path, k));
                // The keys of an include's `apply:`, for "not a valid attribute for a Block".
                if k.key_string() == "apply" {
                    for (ak, _) in v.dict_entries() {
                        arg_origins
                            .insert(format!("apply.{}", ak.key_string()), Self::origin(path, ak));
                    }
                }
            }
            if a.entries().is_none() {
                // Free-form text: errors about it point at the text itself.
                arg_origins.insert("_raw_params".to_string(), Self::origin(path, a));
            }
        }
        if let Some(extra) = node.get("args") {
            for (k, v) in extra.dict_entries() {
                arg_origins
                    .entry(k.key_string())
                    .or_insert_with(|| Self::origin(path, v));
            }
        }
        if short == "meta"
            && args.get("_raw_params").map(scalar_text).as_deref() == Some("end_role")
        {
            // ansible-core raises these with the task object, which has no origin yet: the
            // message shows `Origin: <unknown>` and the task's repr.
            let refused = |why: &str| LoadError::Plain {
                message: format!("{why}\nOrigin: <unknown>\n\nTASK: meta (end_role)"),
                exit_code: 4,
            };
            if inherit.handlers {
                return Err(refused("Cannot execute 'end_role' from a handler"));
            }
            if inherit.role.is_none() {
                return Err(refused("Cannot execute 'end_role' from outside of a role"));
            }
        }
        if matches!(short, "include_tasks" | "include_role") {
            if let Some(apply) = args.get("apply").filter(|a| !a.is_object()) {
                return Err(LoadError::at(
                    format!(
                        "Expected a dict for apply but got {} instead",
                        python_class(apply)
                    ),
                    origin,
                ));
            }
        }
        let mut keywords = inherit.keywords.clone();
        let mut keyword_origins = inherit.keyword_origins.clone();
        let mut task_module_defaults = inherit.module_defaults.clone();
        if let Some(md) = node.get("module_defaults") {
            task_module_defaults.extend(module_defaults(path, md)?);
        }
        for (k, v) in node.dict_entries() {
            let key = k.key_string();
            if matches!(
                key.as_str(),
                "name"
                    | "when"
                    | "tags"
                    | "vars"
                    | "loop"
                    | "loop_control"
                    | "register"
                    | "failed_when"
                    | "changed_when"
                    | "until"
                    | "notify"
                    | "listen"
                    | "args"
                    | "action"
                    | "local_action"
                    | "environment"
                    | "module_defaults"
            ) || key.starts_with("with_")
            {
                continue;
            }
            if COMMON_KEYWORDS.contains(&key.as_str()) || TASK_ONLY_KEYWORDS.contains(&key.as_str())
            {
                keyword_origins.insert(key.clone(), Self::origin(path, v));
                keywords.insert(key, v.to_value());
            }
        }
        refuse_unsupported(path, node, &keywords)?;
        if node.get("local_action").is_some() {
            keywords.insert("delegate_to".into(), Value::String("localhost".into()));
        }
        if let Some(l) = node.get("loop") {
            loop_spec = Some(LoopSpec::Loop(l.to_value()));
            loop_origin = Some(Self::origin(path, l));
        }
        let mut when = inherit.when.clone();
        if let Some(w) = node.get("when") {
            when.extend(conds(path, w));
        }
        let mut tags = inherit.tags.clone();
        tags.extend(string_list(node.get("tags")));
        let mut vars = inherit.vars.clone();
        let own_vars = match node.get("vars") {
            Some(v) => vars_map(path, v)?,
            None => Map::new(),
        };
        vars.extend(own_vars.clone());
        if let Some(reg) = node.get("register").filter(|r| !r.is_null()) {
            // Task._validate_register: the name is validated as set_fact's variable names.
            let value = reg.to_value();
            if !value
                .as_str()
                .is_some_and(crate::modules::set_fact::is_variable_name)
            {
                let cause = crate::modules::set_fact::invalid_name_message(&value);
                let context = crate::diag::source_context(&Self::origin(path, reg), None);
                return Err(LoadError::Plain {
                    message: format!(
                        "Invalid 'register' specified: {cause}\n\nInvalid 'register' specified.\n{context}\n\n<<< caused by >>>\n\n{cause}\n{context}\n\nVariable names must be strings starting with a letter or underscore character, and contain only letters, numbers and underscores."
                    ),
                    exit_code: 4,
                });
            }
        }
        if let Some(lc) = node.get("loop_control") {
            // LoopControl's attributes (ansible-core's playbook/loop_control.py); any other
            // key fails the load as Ansible's FieldAttributeBase does.
            const LOOP_CONTROL: &[&str] = &[
                "loop_var",
                "index_var",
                "label",
                "pause",
                "extended",
                "extended_allitems",
                "break_when",
            ];
            for (k, _) in lc.entries().unwrap_or(&[]) {
                let key = k.key_string();
                if !LOOP_CONTROL.contains(&key.as_str()) {
                    return Err(LoadError::at(
                        format!("'{key}' is not a valid attribute for a LoopControl"),
                        Self::origin(path, k),
                    ));
                }
            }
        }
        let loop_control = match node.get("loop_control").map(Node::to_value) {
            Some(Value::Object(m)) => m,
            _ => Map::new(),
        };
        Ok(Task {
            origin,
            name: node.get("name").map(|n| scalar_text(&n.to_value())),
            action: short.to_string(),
            action_fqcn: format!("ansible.builtin.{short}"),
            action_written: action_name.clone(),
            action_template,
            args,
            arg_origins,
            origin_action: action_origin,
            when,
            tags,
            vars,
            own_vars,
            loop_spec,
            loop_origin,
            loop_control,
            register: node.get("register").map(|n| scalar_text(&n.to_value())),
            keywords,
            keyword_origins,
            module_defaults: task_module_defaults,
            inherited_environment: inherit.environment.clone(),
            inherited_tags: inherit.tags.clone(),
            environment: node
                .get("environment")
                .map(|n| env_entries(path, n))
                .unwrap_or_default(),
            failed_when: node.get("failed_when").map(|n| conds(path, n)),
            changed_when: node.get("changed_when").map(|n| conds(path, n)),
            until: node.get("until").map(|n| conds(path, n)),
            notify: match node.get("notify") {
                Some(n) => string_list(Some(n)),
                None => inherit.notify.clone().unwrap_or_default(),
            },
            listen: string_list(node.get("listen")),
            role: inherit.role.clone(),
            file_dir: path.parent().map(Path::to_path_buf).unwrap_or_default(),
            is_handler: inherit.handlers,
            include_depth: inherit.include_depth,
            implicit: false,
        })
    }
}

/// A mapping node with every `from` key named `to`.
fn rename_key(node: &Node, from: &str, to: &str) -> Node {
    let mut out = node.clone();
    if let NodeKind::Map(entries) = &mut out.kind {
        for (k, _) in entries.iter_mut() {
            if k.as_str() == Some(from) {
                k.kind = NodeKind::Scalar(yaml::Scalar::Str(to.to_string()));
            }
        }
    }
    out
}

/// Modules whose `k=v` text keeps what is not `k=v` as `_raw_params` (FREEFORM_ACTIONS).
pub(crate) const FREEFORM_ACTIONS: &[&str] = &[
    "command",
    "shell",
    "raw",
    "script",
    "win_command",
    "win_shell",
];

/// A task's arguments for module `short` from what the task wrote after the module name (a
/// `k=v` string, a mapping or a lone value) and its `args:` keyword, which fills in what
/// the former does not set.
pub fn task_args(short: &str, action_args: Value, extra_args: Option<Value>) -> Map<String, Value> {
    let mut args = match action_args {
        Value::String(s) => {
            if matches!(
                short,
                "import_tasks" | "include_tasks" | "meta" | "include_vars"
            ) && !s.contains('=')
            {
                let mut m = Map::new();
                m.insert("_raw_params".into(), Value::String(s));
                m
            } else {
                parse_kv(&s, FREEFORM_ACTIONS.contains(&short))
            }
        }
        Value::Object(m) => m,
        Value::Null => Map::new(),
        other => {
            let mut m = Map::new();
            m.insert("_raw_params".into(), other);
            m
        }
    };
    match extra_args {
        Some(Value::Object(m)) => {
            for (k, v) in m {
                args.entry(k).or_insert(v);
            }
        }
        // `args: "{{ mapping }}"`: resolved when the task runs, under every other layer
        // (ansible-core's `_variable_params`).
        Some(Value::String(template)) => {
            args.insert(VARIABLE_PARAMS.into(), Value::String(template));
        }
        _ => {}
    }
    args
}

/// The task argument holding a templated `args:` keyword until the task runs.
pub const VARIABLE_PARAMS: &str = "_variable_params";

/// Applies a block's or import's `when`, `tags`, `vars` and inheritable keywords.
fn apply_inherited(path: &Path, node: &Node, inh: &mut Inherit) -> Result<(), LoadError> {
    if let Some(w) = node.get("when") {
        inh.when.extend(conds(path, w));
    }
    inh.tags.extend(string_list(node.get("tags")));
    if let Some(v) = node.get("vars") {
        inh.vars.extend(vars_map(path, v)?);
    }
    if let Some(n) = node.get("notify") {
        inh.notify = Some(string_list(Some(n)));
    }
    for k in INHERITED_KEYWORDS {
        if let Some(v) = node.get(k) {
            inh.keywords.insert((*k).to_string(), v.to_value());
            inh.keyword_origins
                .insert((*k).to_string(), Loader::origin(path, v));
        }
    }
    if let Some(env) = node.get("environment") {
        inh.environment.extend(env_entries(path, env));
    }
    if let Some(md) = node.get("module_defaults") {
        inh.module_defaults.extend(module_defaults(path, md)?);
    }
    Ok(())
}

/// `module_defaults:` as ansible-core's `_load_module_defaults` takes it: a mapping or a
/// list of mappings whose keys are action names (`copy`, `ansible.builtin.copy`) or groups.
fn module_defaults(path: &Path, node: &Node) -> Result<Vec<Map<String, Value>>, LoadError> {
    let entries: Vec<&Node> = match &node.kind {
        NodeKind::Scalar(yaml::Scalar::Null) => return Ok(Vec::new()),
        NodeKind::Seq(items) => items.iter().collect(),
        _ => vec![node],
    };
    let mut out = Vec::new();
    for e in entries {
        match e.to_value() {
            Value::Object(m) => out.push(m),
            _ => {
                return Err(LoadError::at(
                    "The field 'module_defaults' is supposed to be a dictionary or list of dictionaries, the keys of which must be static action, module, or group names. Only the values may contain templates. For example: {'ping': \"{{ ping_defaults }}\"}",
                    Loader::origin(path, e),
                ))
            }
        }
    }
    Ok(out)
}

/// Keywords (or values of them) fleetsim cannot honour: a load error naming the keyword at
/// the place it was written (exit 4), never silently ignored. `inherited` holds the
/// keywords in force around and at `node` (become from a play reaches its tasks).
fn refuse_unsupported(
    path: &Path,
    node: &Node,
    inherited: &Map<String, Value>,
) -> Result<(), LoadError> {
    let literal = |v: &Node| match v.to_value() {
        Value::String(s) if s.contains("{{") || s.contains("{%") => None,
        other => Some(other),
    };
    for (k, v) in node.dict_entries() {
        let key = k.key_string();
        let why = match key.as_str() {
            "strategy" => match literal(v) {
                // debug opens an interactive debugger; every other name is decided when the
                // play runs, as ansible-core does (free, host_pinned, or an invalid name).
                Some(Value::String(s))
                    if s == "debug"
                        || s == "ansible.builtin.debug"
                        || s == "ansible.legacy.debug" =>
                {
                    Some(format!(
                        "with the value '{s}' (the debug strategy is an interactive debugger)"
                    ))
                }
                _ => None,
            },
            "become_user" => {
                let become_on = node
                    .get("become")
                    .map(Node::to_value)
                    .or_else(|| inherited.get("become").cloned())
                    .and_then(|b| crate::modules::to_bool(&b))
                    .unwrap_or(false);
                match literal(v) {
                    Some(Value::String(s)) if become_on && s != "root" => Some(format!(
                        "with the user '{s}' (tasks on simulated hosts run as root)"
                    )),
                    _ => None,
                }
            }
            _ => None,
        };
        if let Some(why) = why {
            return Err(LoadError::at(
                format!("fleetsim does not support the keyword '{key}' {why} yet"),
                Loader::origin(path, k),
            ));
        }
    }
    Ok(())
}

/// An `environment:` value as entries: one per item of a list, else the value itself.
fn env_entries(path: &Path, node: &Node) -> Vec<EnvEntry> {
    let entry = |n: &Node| EnvEntry {
        value: n.to_value(),
        origin: Loader::origin(path, n),
        value_origins: n
            .dict_entries()
            .into_iter()
            .map(|(k, v)| (k.key_string(), Loader::origin(path, v)))
            .collect(),
    };
    match &node.kind {
        NodeKind::Seq(items) => items.iter().map(entry).collect(),
        _ => vec![entry(node)],
    }
}

fn conds(path: &Path, node: &Node) -> Vec<Cond> {
    match &node.kind {
        NodeKind::Seq(items) => items
            .iter()
            .map(|n| Cond {
                expr: n.to_value(),
                origin: Loader::origin(path, n),
            })
            .collect(),
        _ => vec![Cond {
            expr: node.to_value(),
            origin: Loader::origin(path, node),
        }],
    }
}

fn vars_map(path: &Path, node: &Node) -> Result<Map<String, Value>, LoadError> {
    match node.to_value() {
        Value::Object(m) => Ok(m),
        Value::Null => Ok(Map::new()),
        Value::Array(items) => {
            // A list of single-key dicts is accepted by Ansible too.
            let mut m = Map::new();
            for i in items {
                if let Value::Object(o) = i {
                    m.extend(o);
                }
            }
            Ok(m)
        }
        _ => Err(LoadError::at(
            "Vars in a Play must be specified as a dictionary.",
            Loader::origin(path, node),
        )),
    }
}

fn string_list(node: Option<&Node>) -> Vec<String> {
    match node.map(Node::to_value) {
        Some(Value::Array(a)) => a.iter().map(scalar_text).collect(),
        Some(Value::Null) | None => Vec::new(),
        Some(Value::String(s)) => s
            .split(',')
            .map(|p| p.trim().to_string())
            .filter(|p| !p.is_empty())
            .collect(),
        Some(other) => vec![scalar_text(&other)],
    }
}

/// The class ansible-core 2.19 names for a YAML value in type errors (values read from YAML
/// are tagged, except booleans and null).
fn python_class(v: &Value) -> &'static str {
    match v {
        Value::Null => "<class 'NoneType'>",
        Value::Bool(_) => "<class 'bool'>",
        Value::Number(n) if n.is_f64() => {
            "<class 'ansible.module_utils._internal._datatag._AnsibleTaggedFloat'>"
        }
        Value::Number(_) => "<class 'ansible.module_utils._internal._datatag._AnsibleTaggedInt'>",
        Value::String(_) => "<class 'ansible.module_utils._internal._datatag._AnsibleTaggedStr'>",
        Value::Array(_) => "<class 'ansible.module_utils._internal._datatag._AnsibleTaggedList'>",
        Value::Object(_) => "<class 'ansible.module_utils._internal._datatag._AnsibleTaggedDict'>",
    }
}

/// A scalar as the text Python's `str()` would give.
pub fn scalar_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => "None".into(),
        Value::Bool(true) => "True".into(),
        Value::Bool(false) => "False".into(),
        other => other.to_string(),
    }
}

/// `path` made absolute with `.` and `..` folded as text, links not followed (ansible-core's
/// `is_subpath` compares `unfrackpath(follow=False)` results).
fn lexical_normpath(path: &Path) -> PathBuf {
    let base = if path.is_absolute() {
        PathBuf::new()
    } else {
        std::env::current_dir().unwrap_or_default()
    };
    let mut out = PathBuf::from("/");
    for c in base.join(path).components() {
        match c {
            std::path::Component::ParentDir => {
                out.pop();
            }
            std::path::Component::Normal(s) => out.push(s),
            _ => {}
        }
    }
    out
}

/// The files a role's `vars/` or `defaults/` holds, as ansible-core's `_load_role_yaml` finds
/// them: `main.yml`, `main.yaml`, `main.json`, else `main`, which may be a folder: then every
/// file in it, names sorted, sub-folders walked in place, hidden files and `~` backups left
/// out, only names ending in `.yml`, `.yaml`, `.json` or with no extension.
fn role_vars_files(dir: &Path) -> Vec<PathBuf> {
    fn walk(folder: &Path, out: &mut Vec<PathBuf>) {
        let Ok(entries) = std::fs::read_dir(folder) else {
            return;
        };
        let mut names: Vec<String> = entries
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        for name in names {
            if name.starts_with('.') || name.ends_with('~') {
                continue;
            }
            let full = folder.join(&name);
            let ext = Path::new(&name)
                .extension()
                .map(|e| e.to_string_lossy().into_owned());
            if full.is_dir() && ext.is_none() {
                walk(&full, out);
            } else if full.is_file()
                && ext
                    .as_deref()
                    .is_none_or(|e| ["yml", "yaml", "json"].contains(&e))
            {
                out.push(full);
            }
        }
    }
    for ext in [".yml", ".yaml", ".json", ""] {
        let p = dir.join(format!("main{ext}"));
        if p.is_file() {
            return vec![p];
        }
        if ext.is_empty() && p.is_dir() {
            let mut out = Vec::new();
            walk(&p, &mut out);
            return out;
        }
    }
    Vec::new()
}

fn find_yaml(dir: &Path, stem: &str) -> Option<PathBuf> {
    [
        format!("{stem}.yml"),
        format!("{stem}.yaml"),
        format!("{stem}.json"),
        stem.to_string(),
    ]
    .into_iter()
    .map(|n| dir.join(n))
    .find(|p| p.is_file())
}

/// Where `import_tasks`/`include_tasks` look for a file: the role's tasks folder, the
/// including file's folder, then the playbook's.
pub fn resolve_task_file(
    base: &Path,
    playbook_dir: &Path,
    role: Option<&RoleRef>,
    file: &str,
) -> PathBuf {
    let p = Path::new(file);
    if p.is_absolute() {
        return p.to_path_buf();
    }
    let mut candidates = Vec::new();
    if let Some(r) = role {
        candidates.push(r.path.join("tasks").join(file));
    }
    candidates.push(base.join(file));
    candidates.push(playbook_dir.join(file));
    candidates
        .iter()
        .find(|c| c.is_file())
        .cloned()
        .unwrap_or_else(|| {
            candidates
                .get(if role.is_some() { 1 } else { 0 })
                .cloned()
                .unwrap_or_default()
        })
}

/// Ansible's message for a file it cannot read on the controller (exit status 1).
fn missing_file(path: &Path, err: &std::io::Error) -> LoadError {
    let errno = match err.kind() {
        std::io::ErrorKind::NotFound => "[Errno 2] No such file or directory".to_string(),
        std::io::ErrorKind::PermissionDenied => "[Errno 13] Permission denied".to_string(),
        _ => err.to_string(),
    };
    let p = path.display();
    LoadError::Plain {
        message: format!(
            "Unable to retrieve file contents.\nCould not find or access '{p}' on the Ansible Controller.\nIf you are using a module and expect the file to exist on the remote, see the remote_src option: {errno}: '{p}'"
        ),
        exit_code: 1,
    }
}

/// Loads a playbook file (the whole list of plays).
pub fn load_playbook(
    path: &Path,
    extra_vars: &Map<String, Value>,
) -> Result<(Playbook, Loader), LoadError> {
    let given = path.to_path_buf();
    let path = absolute(path);
    let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
    let mut loader = Loader::new(&dir);
    let plays = loader.load_plays(&path, extra_vars)?;
    Ok((Playbook { path, given, plays }, loader))
}

/// Loads a task file for `include_tasks` at run time (`include` is the include task), its
/// tasks inside the block the include's `apply:` keywords make.
pub fn load_task_file(
    loader: &mut Loader,
    path: &Path,
    include: &Task,
    apply: Option<&Map<String, Value>>,
) -> Result<Vec<Arc<Block>>, LoadError> {
    let node = loader.read_yaml(path)?;
    let inh = Inherit {
        role: include.role.clone(),
        handlers: include.is_handler,
        include_depth: include.include_depth + 1,
        tags: include.inherited_tags.clone(),
        ..Inherit::default()
    };
    let inh = apply_block(include, apply, inh)?;
    loader.blocks(path, Some(&node), &inh)
}

/// What the parent block that an include's `apply:` describes passes down to the included
/// tasks (ansible-core's `TaskInclude.build_parent_block`): its keys must be block keywords.
fn apply_block(
    include: &Task,
    apply: Option<&Map<String, Value>>,
    mut inh: Inherit,
) -> Result<Inherit, LoadError> {
    let Some(apply) = apply else {
        return Ok(inh);
    };
    let origin_of = |key: &str| {
        include
            .arg_origins
            .get(&format!("apply.{key}"))
            .or_else(|| include.arg_origins.get("apply"))
            .cloned()
            .unwrap_or_else(|| include.origin.clone())
    };
    for (key, value) in apply {
        if !COMMON_KEYWORDS.contains(&key.as_str()) && !BLOCK_ONLY_KEYWORDS.contains(&key.as_str())
        {
            return Err(LoadError::at(
                format!("'{key}' is not a valid attribute for a Block"),
                origin_of(key),
            ));
        }
        match key.as_str() {
            "when" => {
                let exprs = match value {
                    Value::Array(items) => items.clone(),
                    other => vec![other.clone()],
                };
                inh.when.extend(exprs.into_iter().map(|expr| Cond {
                    expr,
                    origin: origin_of(key),
                }));
            }
            "tags" => inh.tags.extend(match value {
                Value::Array(items) => items.iter().map(scalar_text).collect(),
                Value::String(s) => s
                    .split(',')
                    .map(|t| t.trim().to_string())
                    .filter(|t| !t.is_empty())
                    .collect(),
                Value::Null => Vec::new(),
                other => vec![scalar_text(other)],
            }),
            "vars" => {
                if let Value::Object(m) = value {
                    inh.vars.extend(m.clone());
                }
            }
            // The apply block's notify is the included tasks' own unless they set one.
            "notify" => {
                inh.notify = Some(match value {
                    Value::Array(a) => a.iter().map(scalar_text).collect(),
                    Value::Null => Vec::new(),
                    Value::String(s) => s
                        .split(',')
                        .map(|p| p.trim().to_string())
                        .filter(|p| !p.is_empty())
                        .collect(),
                    other => vec![scalar_text(other)],
                });
            }
            other if INHERITED_KEYWORDS.contains(&other) => {
                inh.keywords.insert(key.clone(), value.clone());
            }
            _ => {}
        }
    }
    Ok(inh)
}

fn absolute(p: &Path) -> PathBuf {
    if p.is_absolute() {
        p.to_path_buf()
    } else {
        std::env::current_dir()
            .map(|d| d.join(p))
            .unwrap_or_else(|_| p.to_path_buf())
    }
}

/// Every keyword the loader accepts on a play, block, task or role entry (sorted, deduped);
/// `with_<lookup>` is accepted besides these. COVERAGE.md lists each with its status.
pub fn accepted_keywords() -> Vec<&'static str> {
    let mut all: Vec<&'static str> = PLAY_KEYWORDS
        .iter()
        .chain(COMMON_KEYWORDS)
        .chain(BLOCK_ONLY_KEYWORDS)
        .chain(TASK_ONLY_KEYWORDS)
        .chain(INCLUDE_KEYWORDS)
        .copied()
        .collect();
    all.sort_unstable();
    all.dedup();
    all
}

/// `include_role`/`import_role` in a role's tasks: the included role's tasks see
/// `ansible_parent_role_names` and `ansible_parent_role_paths`, the including role first and
/// then the roles that included it (ansible-core's `IncludeRole.get_include_params`).
/// `IncludeRole.load`'s checks of include_role's and import_role's options, in its order.
fn check_role_use_args(task: &Task, at: Origin) -> Result<(), LoadError> {
    const FROM: &[&str] = &["tasks_from", "vars_from", "defaults_from", "handlers_from"];
    const OTHER: &[&str] = &["apply", "public", "allow_duplicates", "rolespec_validate"];
    let action = &task.action_written;
    let args = &task.args;
    if !args.contains_key("name") && !args.contains_key("role") {
        return Err(LoadError::at(
            format!("'name' is a required field for {action}."),
            at,
        ));
    }
    let mut bad: Vec<&str> = args
        .keys()
        .map(String::as_str)
        .filter(|k| !(["name", "role"].contains(k) || FROM.contains(k) || OTHER.contains(k)))
        .collect();
    if !bad.is_empty() {
        // (Python joins a set here: for several names its order changes from run to run.)
        bad.sort_unstable();
        return Err(LoadError::at(
            format!("Invalid options for {action}: {}", bad.join(",")),
            at,
        ));
    }
    for key in FROM {
        match args.get(*key) {
            None | Some(Value::String(_)) => {}
            // A template (`{{ x }}`) is a string too; others are not.
            Some(other) => {
                return Err(LoadError::Fatal {
                    message: format!(
                        "Expected a string for {key} but got <class '{}'> instead",
                        crate::modules::py_type(other)
                    ),
                    exit_code: 4,
                })
            }
        }
    }
    // Options fleetsim does not honour yet are refused by name rather than ignored: a public
    // include_role (its defaults and vars seen by the play's later tasks) and an include_role
    // that must not run again (`allow_duplicates: false`). Their defaults are accepted.
    let not_honoured = [("public", false), ("allow_duplicates", true)]
        .into_iter()
        .find(|(key, default)| {
            task.action == "include_role"
                && args
                    .get(*key)
                    .is_some_and(|v| crate::modules::to_bool(v) != Some(*default))
        });
    if let Some((key, _)) = not_honoured {
        return Err(LoadError::at(
            format!(
                "fleetsim does not honour include_role's {key}: {} (only its default)",
                scalar_text(&args[key])
            ),
            at,
        ));
    }
    match args.get("apply") {
        Some(v) if task.action == "import_role" && crate::template::json_truthy(v) => Err(
            LoadError::at(format!("Invalid options for {action}: apply"), at),
        ),
        Some(v) if !v.is_object() && !v.is_null() => Err(LoadError::at(
            format!(
                "Expected a dict for apply but got <class '{}'> instead",
                crate::modules::py_type(v)
            ),
            at,
        )),
        _ => Ok(()),
    }
}

/// Which file of each role folder a role use reads: `main` unless include_role or
/// import_role names one (`tasks_from`, `defaults_from`, `vars_from`, `handlers_from`).
#[derive(Debug, Clone, Default)]
pub struct RoleFiles {
    pub tasks: Option<String>,
    pub defaults: Option<String>,
    pub vars: Option<String>,
    pub handlers: Option<String>,
}

impl RoleFiles {
    /// The `*_from` options of an include_role or import_role (already templated).
    pub fn from_args(args: &Map<String, Value>) -> RoleFiles {
        let file = |key: &str| args.get(key).filter(|v| !v.is_null()).map(scalar_text);
        RoleFiles {
            tasks: file("tasks_from"),
            defaults: file("defaults_from"),
            vars: file("vars_from"),
            handlers: file("handlers_from"),
        }
    }

    /// The role's entry point: its argument spec's name.
    pub fn entry_point(&self) -> &str {
        self.tasks.as_deref().unwrap_or("main")
    }
}

/// ansible-core's `_load_role_yaml` when a `*_from` file is not in the role: the run stops.
fn not_in_role(subdir: &str, wanted: &str) -> LoadError {
    LoadError::Fatal {
        message: format!("Could not find specified file in role: {subdir}/{wanted}"),
        exit_code: 4,
    }
}

/// include_role's and import_role's `rolespec_validate` (true by default): whether the role's
/// argument spec is checked before its tasks.
fn rolespec_validate(args: &Map<String, Value>) -> bool {
    args.get("rolespec_validate")
        .and_then(crate::modules::to_bool)
        .unwrap_or(true)
}

fn add_parent_role(params: &mut Map<String, Value>, parent: Option<&RoleRef>) {
    let Some(parent) = parent else {
        return;
    };
    for (key, value) in [
        ("ansible_parent_role_names", parent.name.clone()),
        (
            "ansible_parent_role_paths",
            parent.path.display().to_string(),
        ),
    ] {
        let mut list = vec![Value::String(value)];
        if let Some(Value::Array(outer)) = parent.params.get(key) {
            list.extend(outer.iter().cloned());
        }
        params.insert(key.into(), Value::Array(list));
    }
}
