//! Ansible inventories: INI and YAML sources, group_vars/host_vars, variable merging, host patterns.
//!
//! [`Inventory::load`] reads sources as `ansible-core` 2.19's `InventoryManager` does (files,
//! folders of files, `a,b,` host lists, plugin by plugin), [`Inventory::resolve`] evaluates host
//! patterns, and [`Inventory::host_vars`] merges variables in Ansible's precedence order.
//! Everything keeps Ansible's ordering: maps are `IndexMap`s, never hash-ordered.
//!
//! ```no_run
//! use fleetsim_engine::inventory::Inventory;
//! let (mut inv, warnings) = Inventory::load(&["inventory.ini"]).expect("vars files parse");
//! for w in &warnings {
//!     eprintln!("{w}"); // `[WARNING]: ...`, with file:line:col and a caret when known
//! }
//! inv.set_limit(Some("web*")).expect("limit file readable");
//! let targets = inv.resolve("webservers:&prod:!web3").expect("pattern evaluates");
//! for host in &targets.hosts {
//!     let vars = inv.host_vars(host); // merged, untemplated, Ansible's precedence
//!     let groups = inv.group_names(host); // the `group_names` magic variable
//!     let _ = (vars, groups);
//! }
//! let _groups = inv.groups_map(); // the `groups` magic variable
//! ```

pub mod address;
pub mod ini;
pub mod model;
pub mod output;
pub mod pattern;
#[cfg(test)]
mod props;
pub mod pyliteral;
mod vars_dirs;
pub mod yaml_source;

use crate::diag::{source_context, Origin};
use indexmap::IndexMap;
use model::{InventoryData, LOCALHOST_NAMES};
pub use pattern::PatternError;
use serde_json::{Map, Value};
use std::collections::HashSet;
use std::ffi::OsStr;
use std::fmt;
use std::path::{Path, PathBuf};
use vars_dirs::{Entity, VarsCache, VarsDir};

/// The message `ansible` prints (exit 250) for a lone `&`/`!` in a pattern.
pub const UNEXPECTED_INDEX_ERROR: &str =
    "Unexpected Exception, this is probably a bug: string index out of range";

/// A host's inventory name.
pub type HostName = String;

/// What a diagnostic is about, so front ends can honour Ansible's switches
/// (`ANSIBLE_HOST_PATTERN_MISMATCH`, `ANSIBLE_INVENTORY_UNPARSED_WARNING`, ...).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DiagKind {
    /// A source failed to parse with one plugin, or with all of them.
    SourceFailed,
    /// `No inventory was parsed, only implicit localhost is available`.
    NothingParsed,
    /// `Could not match supplied host pattern, ignoring: X`.
    PatternMismatch,
    /// Anything else Ansible warns about.
    Other,
    /// `[DEPRECATION WARNING]: ...` (hidden by `ANSIBLE_DEPRECATION_WARNINGS=0`).
    Deprecation,
    /// The one-time `Deprecation warnings can be disabled ...` notice before the first one.
    DeprecationNotice,
}

/// A warning as Ansible prints it (`[WARNING]: message`), plus where it points when known.
#[derive(Debug, Clone, PartialEq)]
pub struct Diagnostic {
    pub kind: DiagKind,
    pub message: String,
    /// `Origin: file:line:col` with the offending line and a caret, when there is a place.
    pub context: Option<String>,
}

impl Diagnostic {
    fn new(kind: DiagKind, message: impl Into<String>) -> Self {
        Diagnostic {
            kind,
            message: message.into(),
            context: None,
        }
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Ansible's display drops trailing whitespace.
        let prefix = match self.kind {
            DiagKind::Deprecation => "[DEPRECATION WARNING]",
            _ => "[WARNING]",
        };
        write!(f, "{prefix}: {}", self.message.trim_end())?;
        if let Some(c) = &self.context {
            write!(f, "\n{c}\n")?;
        }
        Ok(())
    }
}

/// A problem inside one source, with the 1-based line and column it was found at.
#[derive(Debug, Clone, PartialEq)]
pub struct SourceError {
    pub message: String,
    pub line: Option<usize>,
    pub col: Option<usize>,
    /// The raw line, when the parser had it (the context renderer re-reads it otherwise).
    pub line_text: Option<String>,
}

impl SourceError {
    /// An error on line `line` (`raw` is its text); the caret goes under `focus` if it
    /// occurs in the line, else under the first non-blank character.
    pub fn at_line(message: String, line: usize, raw: &str, focus: Option<&str>) -> SourceError {
        let byte = focus
            .filter(|f| !f.is_empty())
            .and_then(|f| raw.find(f))
            .unwrap_or_else(|| raw.len() - raw.trim_start().len());
        let col = raw[..byte].chars().count() + 1;
        SourceError {
            message,
            line: Some(line),
            col: Some(col),
            line_text: Some(raw.to_string()),
        }
    }
}

/// Errors that stop inventory loading.
#[derive(Debug, Clone, PartialEq)]
pub enum InventoryError {
    /// A `group_vars`/`host_vars` file that cannot be read, parsed, or is not a mapping.
    /// Ansible fails the run on these too.
    VarsFile {
        path: PathBuf,
        message: String,
        detail: String,
    },
}

impl fmt::Display for InventoryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            InventoryError::VarsFile {
                message, detail, ..
            } if detail.is_empty() => f.write_str(message),
            InventoryError::VarsFile {
                message, detail, ..
            } => {
                write!(f, "{message}\n\n{detail}")
            }
        }
    }
}

impl std::error::Error for InventoryError {}

/// The hosts a pattern selected, and the warnings Ansible prints while selecting them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Resolution {
    pub hosts: Vec<HostName>,
    pub warnings: Vec<Diagnostic>,
}

/// Group and host variables from one folder's `group_vars/` and `host_vars/`.
#[derive(Debug, Default, Clone)]
struct PluginVars {
    dir: VarsDir,
    groups: IndexMap<String, Map<String, Value>>,
    hosts: IndexMap<String, Map<String, Value>>,
}

/// A loaded inventory. A clone is the inventory as loaded again from the same files (while
/// they do not change): runs that each change their own copy (`add_host`, `group_by`)
/// load it once and clone it.
#[derive(Debug, Clone)]
pub struct Inventory {
    data: InventoryData,
    /// One entry per inventory source that is a file or folder (host lists have none).
    plugin_vars: Vec<PluginVars>,
    vars_cache: VarsCache,
    /// `--limit` patterns (`InventoryManager._subset`).
    subset: Option<Vec<String>>,
    /// Whether any source parsed.
    parsed: bool,
    /// The `group_vars`/`host_vars` files that did not load, by the group or host they are
    /// for: Ansible reads them on demand (`RUN_VARS_PLUGINS=demand`), so the error comes when
    /// a play first needs the variables of a host they apply to.
    vars_errors: Vec<(Entity, String, InventoryError)>,
    /// The `-i` values it was loaded from, for `meta: refresh_inventory`.
    sources: Vec<String>,
    /// What `add_host` and `group_by` changed, in order: a refresh applies it again
    /// (`InventoryManager._cached_dynamic_hosts` and `_cached_dynamic_grouping`).
    dynamic: Vec<DynamicChange>,
}

/// One runtime change to the inventory, kept to be made again after a refresh.
#[derive(Debug, Clone)]
enum DynamicChange {
    Host {
        name: String,
        groups: Vec<String>,
        vars: Map<String, Value>,
    },
    Grouping {
        host: String,
        group: String,
        parents: Vec<String>,
    },
}

const IGNORED_EXTS: [&str; 12] = [
    ".pyc", ".pyo", ".swp", ".bak", "~", ".rpm", ".md", ".txt", ".rst", ".orig", ".cfg", ".retry",
];

impl Inventory {
    /// Loads inventory sources as `ansible -i SRC -i SRC ...` does: each source is a file
    /// (tried as YAML when its extension allows, then INI), a folder (every entry, sorted,
    /// skipping hidden files, `group_vars`/`host_vars` and the usual ignored extensions) or a
    /// comma-separated host list (`'a,b,'`). Sources that fail to parse produce warnings and
    /// the load goes on with what parsed. Only a broken `group_vars`/`host_vars` file fails.
    pub fn load<S: AsRef<OsStr>>(
        sources: &[S],
    ) -> Result<(Inventory, Vec<Diagnostic>), InventoryError> {
        let (inv, diags, err) = Self::load_full(sources);
        match err {
            Some(e) => Err(e),
            None => Ok((inv, diags)),
        }
    }

    /// Like [`Inventory::load`], but a broken `group_vars`/`host_vars` file is not an error
    /// (its variables are simply missing): `ansible PATTERN --list-hosts` never reads
    /// variables, so Ansible succeeds there.
    pub fn load_for_patterns<S: AsRef<OsStr>>(sources: &[S]) -> (Inventory, Vec<Diagnostic>) {
        let (inv, diags, _) = Self::load_full(sources);
        (inv, diags)
    }

    /// Everything [`Inventory::load`] does, returning the inventory and its warnings even when a
    /// `group_vars`/`host_vars` file is broken (that error comes third), so a front end can
    /// print the warnings first and fail only when it needs variables, as Ansible does.
    pub fn load_full<S: AsRef<OsStr>>(
        sources: &[S],
    ) -> (Inventory, Vec<Diagnostic>, Option<InventoryError>) {
        let mut inv = Inventory {
            data: InventoryData::new(),
            plugin_vars: Vec::new(),
            vars_cache: VarsCache::default(),
            subset: None,
            parsed: false,
            vars_errors: Vec::new(),
            sources: sources
                .iter()
                .map(|s| s.as_ref().to_string_lossy().into_owned())
                .collect(),
            dynamic: Vec::new(),
        };
        let mut diags = Vec::new();
        let mut bases: Vec<PathBuf> = Vec::new();
        for s in sources {
            let raw = s.as_ref().to_string_lossy().into_owned();
            if raw.is_empty() {
                continue;
            }
            let source = if raw.contains(',') {
                raw.clone()
            } else {
                unfrackpath(&raw)
            };
            if inv.parse_source(&source, true, &mut diags) {
                inv.parsed = true;
            }
            // get_vars_from_inventory_sources: host lists have no folder; files use theirs.
            if raw.contains(',') && !Path::new(&raw).exists() {
                continue;
            }
            let p = Path::new(&source);
            bases.push(if p.is_dir() {
                p.to_path_buf()
            } else {
                p.parent().map(Path::to_path_buf).unwrap_or_default()
            });
        }
        if inv.parsed {
            inv.data.reconcile();
        } else {
            diags.push(Diagnostic::new(
                DiagKind::NothingParsed,
                "No inventory was parsed, only implicit localhost is available",
            ));
        }
        inv.drain_model_warnings(&mut diags);
        for b in bases {
            inv.plugin_vars.push(PluginVars {
                dir: VarsDir::new(b),
                ..Default::default()
            });
        }
        let groups: Vec<String> = inv.data.groups.keys().cloned().collect();
        let hosts: Vec<String> = inv.data.hosts.keys().cloned().collect();
        let mut first_err = None;
        // Keep going after a broken file so lenient callers still get every other file.
        let record = |first: &mut Option<InventoryError>, r: Result<(), InventoryError>| {
            if let Err(e) = r {
                first.get_or_insert(e);
            }
        };
        for g in &groups {
            record(&mut first_err, inv.load_plugin_vars(Entity::Group, g));
        }
        for h in &hosts {
            record(&mut first_err, inv.load_plugin_vars(Entity::Host, h));
        }
        for l in LOCALHOST_NAMES {
            if !inv.data.hosts.contains_key(l) {
                record(&mut first_err, inv.load_plugin_vars(Entity::Host, l));
            }
        }
        (inv, diags, first_err)
    }

    /// `meta: refresh_inventory` (`InventoryManager.refresh_inventory`): the sources read
    /// again, as the controller sees them now (a task may have changed them), under the same
    /// `--limit`, with the playbooks' variable folders read before, then the hosts and
    /// groupings `add_host` and `group_by` made applied again (a grouping of a host the
    /// sources no longer have is dropped). The warnings come with it; a broken variable file
    /// is an error, as at the start.
    pub fn refreshed(&self) -> Result<(Inventory, Vec<Diagnostic>), InventoryError> {
        let (mut inv, diags, err) = Self::load_full(&self.sources);
        if let Some(e) = err {
            return Err(e);
        }
        inv.subset = self.subset.clone();
        let inventory_dirs = inv.plugin_vars.len();
        for pv in self.plugin_vars.iter().skip(inventory_dirs) {
            inv.add_playbook_vars_dir(&pv.dir.base)?;
        }
        for change in &self.dynamic {
            match change {
                DynamicChange::Host { name, groups, vars } => {
                    let groups: Vec<&str> = groups.iter().map(String::as_str).collect();
                    let _ = inv.add_host(name, &groups, vars);
                }
                DynamicChange::Grouping {
                    host,
                    group,
                    parents,
                } => {
                    if !inv.data.hosts.contains_key(host)
                        && !LOCALHOST_NAMES.contains(&host.as_str())
                    {
                        continue;
                    }
                    let parents: Vec<&str> = parents.iter().map(String::as_str).collect();
                    let _ = inv.add_host_to_group(host, group, &parents);
                }
            }
        }
        Ok((inv, diags))
    }

    /// Adds `group_vars/` and `host_vars/` of a playbook's folder, which Ansible reads after
    /// the inventory's own (`*_plugins_play` in its variable precedence). A folder already
    /// read (the inventory's, or one added before) is not read twice: then it returns false,
    /// and the variables are what they were.
    pub fn add_playbook_vars_dir(&mut self, dir: &Path) -> Result<bool, InventoryError> {
        let dir = dir.to_path_buf();
        if self.plugin_vars.iter().any(|pv| pv.dir.base == dir) {
            return Ok(false);
        }
        self.plugin_vars.push(PluginVars {
            dir: VarsDir::new(dir),
            ..Default::default()
        });
        let groups: Vec<String> = self.data.groups.keys().cloned().collect();
        let hosts: Vec<String> = self.data.hosts.keys().cloned().collect();
        // Every file that loads is read (see `vars_errors`); the first error is returned.
        let mut first_err = None;
        for g in &groups {
            if let Err(e) = self.load_plugin_vars(Entity::Group, g) {
                first_err.get_or_insert(e);
            }
        }
        for h in &hosts {
            if let Err(e) = self.load_plugin_vars(Entity::Host, h) {
                first_err.get_or_insert(e);
            }
        }
        match first_err {
            Some(e) => Err(e),
            None => Ok(true),
        }
    }

    fn drain_model_warnings(&mut self, diags: &mut Vec<Diagnostic>) {
        for (key, at) in std::mem::take(&mut self.data.deprecations) {
            let mut context = match &at {
                Some((path, line, col)) => {
                    let origin = Origin::new(path, *line, *col);
                    let mut c = source_context(&origin, None);
                    if *col == 0 {
                        // No column: Ansible underlines the whole line.
                        if let Some(text) = crate::diag::target_line(&origin, None) {
                            let width = line.to_string().len();
                            c.push_str(&format!(
                                "\n{} {}",
                                " ".repeat(width),
                                "^".repeat(text.chars().count())
                            ));
                        }
                    }
                    c
                }
                None => String::new(),
            };
            if !context.is_empty() {
                context.push_str("\n\n");
            }
            context.push_str("Variable names must be strings starting with a letter or underscore character, and contain only letters, numbers and underscores.");
            let d = Diagnostic {
                kind: DiagKind::Deprecation,
                message: format!("Accepting inventory variable with invalid name '{key}'. This feature will be removed from ansible-core version 2.23."),
                context: Some(context),
            };
            if !diags.iter().any(|x| x.kind == DiagKind::DeprecationNotice) {
                diags.push(Diagnostic::new(
                    DiagKind::DeprecationNotice,
                    "Deprecation warnings can be disabled by setting `deprecation_warnings=False` in ansible.cfg.",
                ));
            }
            if !diags.contains(&d) {
                diags.push(d);
            }
        }
        for w in self.data.warnings.drain(..) {
            // Ansible's Display shows each distinct warning once.
            if !diags.iter().any(|d| d.message == w) {
                diags.push(Diagnostic::new(DiagKind::Other, w));
            }
        }
    }

    fn load_plugin_vars(&mut self, kind: Entity, name: &str) -> Result<(), InventoryError> {
        for pv in &mut self.plugin_vars {
            let files = pv.dir.files_for(kind, name);
            if files.is_empty() {
                continue;
            }
            let mut m = Map::new();
            if let Err(e) = self.vars_cache.merge_files(&files, &mut m) {
                self.vars_errors.push((kind, name.to_string(), e.clone()));
                return Err(e);
            }
            match kind {
                Entity::Group => pv.groups.insert(name.to_string(), m),
                Entity::Host => pv.hosts.insert(name.to_string(), m),
            };
        }
        Ok(())
    }

    /// `InventoryManager.parse_source`: a folder entry by entry, or a file plugin by plugin.
    /// Parses one source; `from_cli` when it is a `-i` value itself (not a folder's entry).
    fn parse_source(&mut self, source: &str, from_cli: bool, diags: &mut Vec<Diagnostic>) -> bool {
        let path = Path::new(source);
        // A folder is walked whatever its name (`a,b/` included: only a name that is not an
        // existing path is a host list).
        if path.is_dir() {
            let mut names: Vec<Vec<u8>> = match std::fs::read_dir(path) {
                Ok(rd) => rd
                    .filter_map(|e| e.ok())
                    .map(|e| e.file_name().into_encoded_bytes())
                    .collect(),
                Err(_) => Vec::new(),
            };
            names.sort();
            let mut parsed = false;
            for n in names {
                let name = String::from_utf8_lossy(&n).into_owned();
                if name.starts_with('.')
                    || ["host_vars", "group_vars", "vars_plugins"].contains(&name.as_str())
                    || IGNORED_EXTS.iter().any(|e| name.ends_with(e))
                {
                    continue;
                }
                let full = path.join(&name);
                // An entry linking out of the project is not followed (issue 14).
                if crate::project::readable(&full).is_none() {
                    continue;
                }
                let full = full.to_string_lossy().into_owned();
                if self.parse_source(&full, false, diags) {
                    parsed = true;
                }
            }
            return parsed;
        }
        self.data.current_source = Some(source.to_string());
        let mut failures: Vec<Diagnostic> = Vec::new();
        let parsed = self.try_plugins(source, from_cli, &mut failures);
        self.data.current_source = None;
        self.drain_model_warnings(diags);
        if !parsed {
            diags.extend(failures);
            diags.push(Diagnostic::new(
                DiagKind::SourceFailed,
                format!("Unable to parse {source} as an inventory source"),
            ));
        }
        parsed
    }

    fn try_plugins(
        &mut self,
        source: &str,
        from_cli: bool,
        failures: &mut Vec<Diagnostic>,
    ) -> bool {
        let path = Path::new(source);
        // host_list: a comma-separated list that is not a file name.
        // advanced_host_list (when INVENTORY_ENABLED names it) also expands `[a:b]` ranges;
        // an entry it cannot parse is kept as written.
        let advanced = std::env::var("ANSIBLE_INVENTORY_ENABLED")
            .is_ok_and(|v| v.split(',').any(|p| p.trim() == "advanced_host_list"));
        if source.contains(',') && !path.exists() {
            let plugin = if advanced {
                "advanced_host_list"
            } else {
                "host_list"
            };
            for h in source.split(',') {
                let h = h.trim();
                if h.is_empty() {
                    continue;
                }
                let (names, port) = if advanced {
                    match address::parse_address(h, true).and_then(|(pattern, port)| {
                        let names = if pattern.contains('[') {
                            address::expand_hostname_range(&pattern)?
                        } else {
                            vec![pattern]
                        };
                        Ok((names, port))
                    }) {
                        Ok(x) => x,
                        Err(_) => (vec![h.to_string()], None),
                    }
                } else {
                    let (host, port) =
                        address::parse_address(h, false).unwrap_or_else(|_| (h.to_string(), None));
                    (vec![host], port)
                };
                for host in names {
                    if !self.data.hosts.contains_key(&host) {
                        if let Err(e) = self.data.add_host(&host, Some("ungrouped"), port) {
                            failures.push(plugin_failure(plugin, &e, None, source, None));
                            return false;
                        }
                    }
                }
            }
            return true;
        }
        // Every file plugin first checks that the file exists and is readable.
        let Some(readable) = as_controller_sees(path) else {
            return false;
        };
        if !readable.is_file() {
            return false;
        }
        let bytes = match std::fs::read(&readable) {
            Ok(b) => b,
            Err(_) => return false,
        };
        let ext = vars_dirs::python_splitext_ext(source);
        let text = String::from_utf8_lossy(&bytes).into_owned();
        let mut yaml_doc = None;
        if ext == ".yml" || ext == ".yaml" {
            // auto: only YAML files naming an inventory plugin, which fleetsim does not run.
            let doc = crate::yaml::load(&text, path);
            if let Ok(d) = &doc {
                yaml_source::duplicate_key_warnings(d, &mut self.data.warnings);
            }
            let msg = match &doc {
                Err(e) => (e.headline(), Some(e.context.to_string())),
                Ok(d) => match d.get("plugin").and_then(|p| p.as_str()) {
                    Some(p) => (format!("inventory config '{source}' specifies unknown plugin '{p}'"), None),
                    None => (
                        format!("no root 'plugin' key found, '{source}' is not a valid YAML inventory plugin config file"),
                        None,
                    ),
                },
            };
            failures.push(Diagnostic {
                kind: DiagKind::SourceFailed,
                message: format!("Failed to parse inventory with 'auto' plugin: {}", msg.0),
                context: msg.1,
            });
            yaml_doc = Some(doc);
        }
        if ext.is_empty() || ext == ".yml" || ext == ".yaml" || ext == ".json" {
            let doc = yaml_doc.unwrap_or_else(|| {
                let d = crate::yaml::load(&text, path);
                if let Ok(d) = &d {
                    yaml_source::duplicate_key_warnings(d, &mut self.data.warnings);
                }
                d
            });
            match doc {
                Err(e) => failures.push(Diagnostic {
                    kind: DiagKind::SourceFailed,
                    message: format!(
                        "Failed to parse inventory with 'yaml' plugin: {}",
                        e.headline()
                    ),
                    context: Some(e.context.to_string()),
                }),
                Ok(node) => match yaml_source::parse(&mut self.data, &node) {
                    Ok(()) => return true,
                    Err(e) => failures.push(plugin_failure(
                        "yaml",
                        &e.message,
                        Some(&e),
                        source,
                        Some(&text),
                    )),
                },
            }
        }
        if ext == ".toml" {
            failures.push(plugin_failure(
                "toml",
                "TOML inventories are not supported by fleetsim",
                None,
                source,
                None,
            ));
            return false;
        }
        let text = match ini::decode(&bytes) {
            Ok(t) => t,
            Err(e) => {
                failures.push(plugin_failure(
                    "ini",
                    &e.message,
                    Some(&e),
                    source,
                    Some(&text),
                ));
                return false;
            }
        };
        if let Some(why) = ini_origin_refusal(source, from_cli) {
            failures.push(plugin_failure("ini", why, None, source, None));
            return false;
        }
        match ini::parse(&mut self.data, &text) {
            Ok(()) => true,
            Err(e) => {
                failures.push(plugin_failure(
                    "ini",
                    &e.message,
                    Some(&e),
                    source,
                    Some(&text),
                ));
                false
            }
        }
    }

    /// Applies `--limit` (`InventoryManager.subset`): same syntax as patterns, plus `@file`
    /// with one pattern a line. `None` removes the limit.
    pub fn set_limit(&mut self, limit: Option<&str>) -> Result<(), PatternError> {
        let Some(limit) = limit else {
            self.subset = None;
            return Ok(());
        };
        let mut out = Vec::new();
        for x in pattern::split_host_pattern(limit) {
            if let Some(file) = x.strip_prefix('@') {
                let p = Path::new(file);
                if !p.exists() {
                    return Err(PatternError(format!("Unable to find limit file {file}")));
                }
                if !p.is_file() {
                    return Err(PatternError(format!(
                        "Limit starting with \"@\" must be a file, not a directory: {file}"
                    )));
                }
                let text = std::fs::read_to_string(p)
                    .map_err(|e| PatternError(format!("Unable to read limit file {file}: {e}")))?;
                out.extend(text.split('\n').map(|l| l.trim().to_string()));
            } else {
                out.push(x);
            }
        }
        self.subset = Some(out);
        Ok(())
    }

    /// Hosts matching `pattern` (`InventoryManager.get_hosts` + `list_hosts`), in Ansible's
    /// order, restricted by the limit if one is set. `localhost` resolves to the implicit
    /// localhost when the inventory has none.
    pub fn resolve(&self, pattern: &str) -> Result<Resolution, PatternError> {
        let mut warnings = Vec::new();
        let mut hosts = self.evaluate(&pattern::split_host_pattern(pattern), &mut warnings)?;
        if let Some(subset) = &self.subset {
            let keep: HashSet<String> = self.evaluate(subset, &mut warnings)?.into_iter().collect();
            hosts.retain(|h| keep.contains(h));
        }
        let mut seen = HashSet::new();
        hosts.retain(|h| seen.insert(h.clone()));
        if hosts.is_empty() && LOCALHOST_NAMES.contains(&pattern) {
            hosts.push(pattern.to_string());
        }
        Ok(Resolution { hosts, warnings })
    }

    /// Same as [`Inventory::resolve`], ignoring any limit.
    pub fn resolve_ignoring_limit(&self, pattern: &str) -> Result<Resolution, PatternError> {
        let mut warnings = Vec::new();
        let mut hosts = self.evaluate(&pattern::split_host_pattern(pattern), &mut warnings)?;
        let mut seen = HashSet::new();
        hosts.retain(|h| seen.insert(h.clone()));
        Ok(Resolution { hosts, warnings })
    }

    /// `_evaluate_patterns`.
    fn evaluate(
        &self,
        patterns: &[String],
        warnings: &mut Vec<Diagnostic>,
    ) -> Result<Vec<String>, PatternError> {
        let mut hosts: Vec<String> = Vec::new();
        for p in pattern::order_patterns(patterns) {
            if self.data.hosts.contains_key(&p) {
                hosts.push(p);
                continue;
            }
            let that = self.match_one(&p, warnings)?;
            if p.starts_with('!') {
                let that: HashSet<&String> = that.iter().collect();
                hosts.retain(|h| !that.contains(h));
            } else if p.starts_with('&') {
                let that: HashSet<&String> = that.iter().collect();
                hosts.retain(|h| that.contains(h));
            } else {
                let existing: HashSet<String> = hosts.iter().cloned().collect();
                hosts.extend(that.into_iter().filter(|h| !existing.contains(h)));
            }
        }
        Ok(hosts)
    }

    /// `_match_one_pattern`.
    fn match_one(
        &self,
        pattern: &str,
        warnings: &mut Vec<Diagnostic>,
    ) -> Result<Vec<String>, PatternError> {
        let pattern = pattern.strip_prefix(['&', '!']).unwrap_or(pattern);
        if pattern.is_empty() {
            // A lone `&` or `!` (as in `a:& b`): Python's `pattern[0]` raises IndexError there.
            return Err(PatternError(UNEXPECTED_INDEX_ERROR.into()));
        }
        let (expr, sub, warn) = pattern::split_subscript(pattern);
        if let Some(w) = warn {
            warnings.push(Diagnostic::new(DiagKind::Other, w));
        }
        let hosts = self.enumerate_matches(&expr, warnings)?;
        pattern::apply_subscript(&hosts, sub).ok_or_else(|| {
            PatternError(format!(
                "No hosts matched the subscripted pattern '{pattern}'"
            ))
        })
    }

    /// `_enumerate_matches`: groups matching the pattern contribute all their hosts; hosts
    /// are matched by name when no group matched or the pattern is a glob or regex.
    fn enumerate_matches(
        &self,
        pattern: &str,
        warnings: &mut Vec<Diagnostic>,
    ) -> Result<Vec<String>, PatternError> {
        if pattern.is_empty() {
            return Ok(Vec::new());
        }
        let special =
            pattern.starts_with('~') || ['.', '?', '*', '['].iter().any(|c| pattern.contains(*c));
        let mut results = Vec::new();
        let matching_groups: Vec<&String> = if special {
            let m = pattern::Matcher::new(pattern)?;
            self.data.groups.keys().filter(|g| m.is_match(g)).collect()
        } else {
            // A glob without metacharacters matches only itself.
            self.data
                .groups
                .get_key_value(pattern)
                .map(|(k, _)| k)
                .into_iter()
                .collect()
        };
        for g in &matching_groups {
            results.extend(self.data.group_hosts(g));
        }
        if matching_groups.is_empty() || special {
            if special {
                let m = pattern::Matcher::new(pattern)?;
                results.extend(self.data.hosts.keys().filter(|h| m.is_match(h)).cloned());
            } else if self.data.hosts.contains_key(pattern) {
                results.push(pattern.to_string());
            }
        }
        if results.is_empty() && LOCALHOST_NAMES.contains(&pattern) {
            results.push(
                self.data
                    .localhost
                    .clone()
                    .unwrap_or_else(|| pattern.to_string()),
            );
        }
        if results.is_empty() && matching_groups.is_empty() && pattern != "all" {
            warnings.push(Diagnostic::new(
                DiagKind::PatternMismatch,
                format!("Could not match supplied host pattern, ignoring: {pattern}"),
            ));
        }
        Ok(results)
    }

    /// Every host in Ansible's `all` order (the implicit localhost is never among them).
    pub fn hosts(&self) -> Vec<HostName> {
        self.data.group_hosts("all")
    }

    /// [`Inventory::hosts`], then any host no group under `all` holds: a source whose parse
    /// failed half-way leaves its hosts in their groups, not yet under `all`, and they keep
    /// their variables and `group_names` as in Ansible.
    pub fn known_hosts(&self) -> Vec<HostName> {
        let mut out = self.hosts();
        let listed: std::collections::HashSet<HostName> = out.iter().cloned().collect();
        out.extend(
            self.data
                .hosts
                .keys()
                .filter(|h| !listed.contains(*h))
                .cloned(),
        );
        out
    }

    /// Whether `name` is a host of the inventory (not the implicit localhost).
    pub fn has_host(&self, name: &str) -> bool {
        self.data.hosts.contains_key(name)
    }

    /// Whether `name` is a group of the inventory.
    pub fn has_group(&self, name: &str) -> bool {
        self.data.groups.contains_key(name)
    }

    /// Whether any source parsed.
    pub fn parsed_any(&self) -> bool {
        self.parsed
    }

    /// The inventory graph, for read-only inspection.
    pub fn data(&self) -> &InventoryData {
        &self.data
    }

    /// A host's variables merged as Ansible's `VariableManager` merges inventory variables:
    /// `all` group vars < other groups' vars (sorted by depth, priority, name) < `group_vars/all`
    /// files < `group_vars/GROUP` files (same order) < the host's own inventory vars <
    /// `host_vars/HOST` files. Values are untemplated; `inventory_file`/`inventory_dir` are
    /// included as Ansible sets them. Unknown names give the implicit localhost's variables
    /// for localhost-like names and an empty map otherwise.
    pub fn host_vars(&self, name: &str) -> Map<String, Value> {
        let mut out = Map::new();
        let merge = |out: &mut Map<String, Value>, m: &Map<String, Value>| {
            for (k, v) in m {
                let v = match out.remove(k) {
                    Some(old) => crate::config::combine(old, v.clone()),
                    None => v.clone(),
                };
                out.insert(k.clone(), v);
            }
        };
        let implicit_vars;
        let (host_groups, own): (Vec<&model::Group>, &Map<String, Value>) =
            match self.data.hosts.get(name) {
                Some(h) => {
                    let mut gs: Vec<&model::Group> = h
                        .groups
                        .iter()
                        .filter(|g| *g != "all")
                        .filter_map(|g| self.data.groups.get(g))
                        .collect();
                    gs.sort_by(|a, b| {
                        (a.depth, a.priority, &a.name).cmp(&(b.depth, b.priority, &b.name))
                    });
                    (gs, &h.vars)
                }
                None if LOCALHOST_NAMES.contains(&name) => {
                    let mut m = Map::new();
                    m.insert(
                        "ansible_python_interpreter".into(),
                        Value::String("/usr/bin/python3".into()),
                    );
                    m.insert("ansible_connection".into(), Value::String("local".into()));
                    implicit_vars = m;
                    (Vec::new(), &implicit_vars)
                }
                None => return out,
            };
        if let Some(all) = self.data.groups.get("all") {
            merge(&mut out, &all.vars);
        }
        for g in &host_groups {
            merge(&mut out, &g.vars);
        }
        for pv in &self.plugin_vars {
            if let Some(m) = pv.groups.get("all") {
                merge(&mut out, m);
            }
        }
        for pv in &self.plugin_vars {
            for g in &host_groups {
                if let Some(m) = pv.groups.get(&g.name) {
                    merge(&mut out, m);
                }
            }
        }
        merge(&mut out, own);
        for pv in &self.plugin_vars {
            if let Some(m) = pv.hosts.get(name) {
                merge(&mut out, m);
            }
        }
        out
    }

    /// The `groups` magic variable: every group (including `all` and `ungrouped`) in
    /// inventory order, each with its hosts in Ansible's order.
    pub fn groups_map(&self) -> IndexMap<String, Vec<HostName>> {
        self.data
            .groups
            .keys()
            .map(|g| (g.clone(), self.data.group_hosts(g)))
            .collect()
    }

    /// The error of the first `group_vars`/`host_vars` file that did not load among those
    /// that apply to one of `hosts` (their groups, `all` included, then the host's own).
    pub fn vars_error_for(&self, hosts: &[String]) -> Option<&InventoryError> {
        hosts.iter().find_map(|h| {
            let groups = self.data.hosts.get(h).map(|x| &x.groups);
            self.vars_errors
                .iter()
                .find(|(kind, name, _)| match kind {
                    Entity::Group => {
                        name == "all" || groups.is_some_and(|g| g.iter().any(|x| x == name))
                    }
                    Entity::Host => name == h,
                })
                .map(|(_, _, e)| e)
        })
    }

    /// The `group_names` magic variable: the host's groups (ancestors included), sorted,
    /// without `all`.
    pub fn group_names(&self, host: &str) -> Vec<String> {
        let mut v: Vec<String> = match self.data.hosts.get(host) {
            Some(h) => h.groups.iter().filter(|g| *g != "all").cloned().collect(),
            None => Vec::new(),
        };
        v.sort();
        v.dedup();
        v
    }

    /// Runtime `add_host` (`InventoryManager.add_dynamic_host`): adds the host if new, merges
    /// `vars` into its variables, adds it to `groups` (created as needed). Returns whether
    /// anything changed.
    pub fn add_host(
        &mut self,
        name: &str,
        groups: &[&str],
        vars: &Map<String, Value>,
    ) -> Result<bool, String> {
        self.dynamic.push(DynamicChange::Host {
            name: name.to_string(),
            groups: groups.iter().map(|g| g.to_string()).collect(),
            vars: vars.clone(),
        });
        let mut changed = false;
        if !self.data.hosts.contains_key(name) {
            self.data.add_host(name, Some("all"), None)?;
            let _ = self.load_plugin_vars(Entity::Host, name);
            changed = true;
        }
        for (k, v) in vars {
            if self.data.hosts[name].vars.get(k) != Some(v) {
                self.data.set_variable(name, k, v.clone())?;
                changed = true;
            }
        }
        for g in groups {
            if !self.data.groups.contains_key(*g) {
                self.add_group(g)?;
                changed = true;
            }
            if !self.data.groups[*g].hosts.contains(name) {
                self.data.add_child(g, name)?;
                changed = true;
            }
        }
        if changed {
            self.data.reconcile();
            self.data.warnings.clear();
        }
        Ok(changed)
    }

    /// Runtime `add_group` (as `group_by` uses it): creates the group if missing, loading its
    /// `group_vars`. Returns its name.
    pub fn add_group(&mut self, name: &str) -> Result<String, String> {
        if !self.data.groups.contains_key(name) {
            self.data.add_group(name)?;
            self.data.reconcile();
            self.data.warnings.clear();
            let _ = self.load_plugin_vars(Entity::Group, name);
        }
        Ok(name.to_string())
    }

    /// Runtime `group_by` (`add_dynamic_group`): puts `host` in `group` (created as needed),
    /// making the group a child of each of `parents`. Returns whether anything changed.
    pub fn add_host_to_group(
        &mut self,
        host: &str,
        group: &str,
        parents: &[&str],
    ) -> Result<bool, String> {
        self.dynamic.push(DynamicChange::Grouping {
            host: host.to_string(),
            group: group.to_string(),
            parents: parents.iter().map(|p| p.to_string()).collect(),
        });
        let mut changed = false;
        if !self.data.groups.contains_key(group) {
            self.add_group(group)?;
            changed = true;
        }
        for p in parents {
            if !self.data.groups.contains_key(*p) {
                self.add_group(p)?;
                changed = true;
            }
            if self.data.add_child(p, group)? {
                changed = true;
            }
        }
        if self.data.hosts.contains_key(host) && !self.data.groups[group].hosts.contains(host) {
            self.data.add_child(group, host)?;
            changed = true;
        }
        if changed {
            self.data.reconcile();
            self.data.warnings.clear();
        }
        Ok(changed)
    }
}

/// Where a source file is read: the controller's copy of its project folder once the
/// controller's tasks have entered it (so a refresh sees what they changed: a link pointed
/// elsewhere, a file rewritten), else the file itself. `None`: the controller removed it.
fn as_controller_sees(path: &Path) -> Option<PathBuf> {
    let Ok(abs) = std::path::absolute(path) else {
        return Some(path.to_path_buf());
    };
    fleetsim_sim::fs::controller_view(&abs).unwrap_or_else(|| Some(path.to_path_buf()))
}

/// Why ansible-core 2.19's ini plugin refuses a file before reading its lines: it records
/// the file as the `Origin` of what it parses, and `Origin` takes only a plain absolute path.
/// A `-i` value with a comma stays the CLI's tagged text (`parse_sources` makes absolute only
/// the values without one), and the entries of such a folder named by a relative path stay
/// relative: both fail, so an INI inventory under a path with a comma does not load (a YAML
/// one does).
fn ini_origin_refusal(source: &str, from_cli: bool) -> Option<&'static str> {
    if from_cli && source.contains(',') {
        Some("Failed to parse inventory: Origin.path must be <class 'NoneType'> or <class 'str'> instead of <class 'ansible.module_utils._internal._datatag._AnsibleTaggedStr'>")
    } else if !source.starts_with('/') {
        Some("Failed to parse inventory: The `src` field must be an absolute path.")
    } else {
        None
    }
}

fn plugin_failure(
    plugin: &str,
    msg: &str,
    at: Option<&SourceError>,
    source: &str,
    text: Option<&str>,
) -> Diagnostic {
    let context = match at {
        Some(SourceError {
            line: Some(l), col, ..
        }) => Some(source_context(
            &Origin::new(source, *l, col.unwrap_or(0)),
            text,
        )),
        _ => Some(format!("Origin: {source}")),
    };
    Diagnostic {
        kind: DiagKind::SourceFailed,
        message: format!("Failed to parse inventory with '{plugin}' plugin: {msg}"),
        context,
    }
}

/// `unfrackpath(path, follow=False)`: `~` expanded, made absolute, `.`/`..` folded.
pub fn unfrackpath(p: &str) -> String {
    let expanded = match p.strip_prefix('~') {
        Some(rest) if rest.is_empty() || rest.starts_with('/') => {
            format!("{}{}", std::env::var("HOME").unwrap_or_default(), rest)
        }
        _ => p.to_string(),
    };
    let path = Path::new(&expanded);
    let abs = if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir().unwrap_or_default().join(path)
    };
    let mut parts: Vec<String> = Vec::new();
    for c in abs.components() {
        match c {
            std::path::Component::ParentDir => {
                parts.pop();
            }
            std::path::Component::Normal(s) => parts.push(s.to_string_lossy().into_owned()),
            _ => {}
        }
    }
    format!("/{}", parts.join("/"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn load(text: &str) -> Inventory {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("inv.ini");
        std::fs::write(&p, text).unwrap();
        Inventory::load(&[&p]).unwrap().0
    }

    #[test]
    fn a_broken_vars_file_is_an_error_for_the_hosts_it_applies_to_only() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("group_vars")).unwrap();
        std::fs::write(dir.path().join("group_vars/db.yml"), "- not a mapping\n").unwrap();
        let p = dir.path().join("inv.ini");
        std::fs::write(&p, "[web]\nw1\n[db]\nd1\n").unwrap();
        let (inv, _, first) = Inventory::load_full(&[&p]);
        assert!(first.is_some());
        assert!(inv.vars_error_for(&["w1".to_string()]).is_none());
        let err = inv.vars_error_for(&["w1".to_string(), "d1".to_string()]);
        assert!(err.unwrap().to_string().contains("group_vars/db.yml"));
    }

    #[test]
    fn magic_vars_views() {
        let inv = load("solo\n[web]\nw1\nw2\n[prod:children]\nweb\n[all:vars]\nx=1\n");
        let g = inv.groups_map();
        assert_eq!(
            g.keys().collect::<Vec<_>>(),
            vec!["all", "ungrouped", "web", "prod"]
        );
        assert_eq!(g["all"], vec!["solo", "w1", "w2"]);
        assert_eq!(g["prod"], vec!["w1", "w2"]);
        assert_eq!(inv.group_names("w1"), vec!["prod", "web"]);
        assert_eq!(inv.group_names("solo"), vec!["ungrouped"]);
        assert_eq!(inv.hosts(), vec!["solo", "w1", "w2"]);
        assert_eq!(inv.host_vars("w1")["x"], json!(1));
        assert!(inv.host_vars("w1").contains_key("inventory_file"));
        assert_eq!(
            inv.host_vars("localhost")["ansible_connection"],
            json!("local")
        );
        assert!(inv.host_vars("nope").is_empty());
    }

    #[test]
    fn comma_paths_refuse_ini_but_load_yaml() {
        let dir = tempfile::tempdir().unwrap();
        let folder = dir.path().join("a,b");
        std::fs::create_dir(&folder).unwrap();
        std::fs::write(folder.join("hosts"), "ini_host\n").unwrap();
        std::fs::write(folder.join("more.yml"), "all:\n  hosts:\n    yaml_host:\n").unwrap();
        // The INI file named with its comma on the command line is refused.
        let (inv, diags) = Inventory::load(&[folder.join("hosts")]).unwrap();
        assert!(inv.hosts().is_empty());
        assert!(diags
            .iter()
            .any(|d| d.message.contains("Origin.path must be")));
        // The folder itself is walked; named absolutely, both its files load.
        let (inv, _) = Inventory::load(&[&folder]).unwrap();
        let mut hosts = inv.hosts();
        hosts.sort();
        assert_eq!(hosts, vec!["ini_host", "yaml_host"]);
        assert_eq!(ini_origin_refusal("/x/a,b/hosts", false), None);
        assert!(ini_origin_refusal("a,b/hosts", false)
            .is_some_and(|m| m.contains("must be an absolute path")));
    }

    #[test]
    fn refresh_rereads_sources_and_replays_runtime_changes() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("inv.ini");
        std::fs::write(&p, "one\ntwo\n").unwrap();
        let mut inv = Inventory::load(&[&p]).unwrap().0;
        inv.set_limit(Some("!three")).unwrap();
        assert!(inv.add_host("extra", &["added"], &Map::new()).unwrap());
        assert!(inv.add_host_to_group("one", "odd", &[]).unwrap());
        assert!(inv.add_host_to_group("two", "even", &[]).unwrap());
        std::fs::write(&p, "two\nthree\nfour\n").unwrap();
        let (fresh, _) = inv.refreshed().unwrap();
        // The sources as they are now, under the same limit, with add_host's host kept.
        let mut all = fresh.resolve("all").unwrap().hosts;
        all.sort();
        assert_eq!(all, vec!["extra", "four", "two"]);
        assert_eq!(fresh.resolve("added").unwrap().hosts, vec!["extra"]);
        // A grouping of a host that is gone is dropped, group and all.
        assert!(!fresh.has_group("odd"));
        assert_eq!(fresh.resolve("even").unwrap().hosts, vec!["two"]);
    }

    #[test]
    fn runtime_additions() {
        let mut inv = load("[web]\nw1\n");
        let mut vars = Map::new();
        vars.insert("v".into(), json!(2));
        assert!(inv.add_host("new1", &["dyn"], &vars).unwrap());
        assert!(!inv.add_host("new1", &["dyn"], &vars).unwrap());
        assert_eq!(inv.resolve("dyn").unwrap().hosts, vec!["new1"]);
        assert_eq!(inv.groups_map()["ungrouped"], Vec::<String>::new());
        assert_eq!(inv.host_vars("new1")["v"], json!(2));
        assert!(inv.add_host_to_group("w1", "by_os", &["os"]).unwrap());
        assert_eq!(inv.group_names("w1"), vec!["by_os", "os", "web"]);
        assert_eq!(inv.resolve("os").unwrap().hosts, vec!["w1"]);
        // add_host puts the host in `all` itself, whose own hosts come first (as in Ansible).
        assert_eq!(inv.hosts(), vec!["new1", "w1"]);
    }

    #[test]
    fn limits() {
        let mut inv = load("[g]\na\nb\nc\n");
        inv.set_limit(Some("b:c")).unwrap();
        assert_eq!(inv.resolve("all").unwrap().hosts, vec!["b", "c"]);
        assert_eq!(
            inv.resolve_ignoring_limit("all").unwrap().hosts,
            vec!["a", "b", "c"]
        );
        assert_eq!(inv.resolve("localhost").unwrap().hosts, vec!["localhost"]);
        inv.set_limit(None).unwrap();
        assert_eq!(inv.resolve("g[1:]").unwrap().hosts, vec!["b", "c"]);
        assert!(inv.resolve("g[7]").is_err());
        let w = inv.resolve("zz").unwrap().warnings;
        assert_eq!(
            w[0].to_string(),
            "[WARNING]: Could not match supplied host pattern, ignoring: zz"
        );
    }
}
