//! `group_vars/` and `host_vars/` beside inventory sources: the `host_group_vars` vars plugin
//! with `DataLoader.find_vars_files` (first of `NAME`, `NAME.yml`, `NAME.yaml`, `NAME.json`;
//! a folder is read file by file, sorted, recursively).

use super::InventoryError;
use serde_json::{Map, Value};
use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};

const EXTENSIONS: [&str; 3] = [".yml", ".yaml", ".json"];

/// Group and host variable files found beside one inventory source.
#[derive(Debug, Default, Clone)]
pub struct VarsDir {
    pub base: PathBuf,
    /// Entries of `group_vars/` and `host_vars/` (names only), listed once: looking up
    /// 10,000 hosts must not cost 40,000 `stat` calls.
    group_entries: Option<BTreeSet<String>>,
    host_entries: Option<BTreeSet<String>>,
}

/// Which kind of entity a lookup is for.
#[derive(Clone, Copy, PartialEq, Debug)]
pub enum Entity {
    Group,
    Host,
}

impl VarsDir {
    pub fn new(base: PathBuf) -> VarsDir {
        let list = |sub: &str| -> Option<BTreeSet<String>> {
            let rd = std::fs::read_dir(base.join(sub)).ok()?;
            Some(
                rd.filter_map(|e| e.ok())
                    .filter_map(|e| e.file_name().into_string().ok())
                    .collect(),
            )
        };
        VarsDir {
            group_entries: list("group_vars"),
            host_entries: list("host_vars"),
            base,
        }
    }

    /// The files holding `name`'s variables, in load order.
    pub fn files_for(&self, kind: Entity, name: &str) -> Vec<PathBuf> {
        if name.starts_with('/') {
            return Vec::new();
        }
        let (sub, entries) = match kind {
            Entity::Group => ("group_vars", &self.group_entries),
            Entity::Host => ("host_vars", &self.host_entries),
        };
        let Some(entries) = entries else {
            return Vec::new();
        };
        let dir = self.base.join(sub);
        for ext in std::iter::once("").chain(EXTENSIONS) {
            let file = format!("{name}{ext}");
            if !entries.contains(&file) {
                continue;
            }
            let full = dir.join(&file);
            // Outside the project (a link out of it) reads as missing, as every controller
            // read does (issue 14).
            if crate::project::readable(&full).is_none() {
                return Vec::new();
            }
            if full.is_dir() {
                let mut found = Vec::new();
                dir_files(&full, &mut found);
                return found;
            }
            return vec![full];
        }
        Vec::new()
    }
}

/// `_get_dir_vars_files`: sorted, skipping hidden files and backups, recursing into folders
/// without an extension, keeping files with no extension or a YAML/JSON one.
fn dir_files(path: &Path, found: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(path) else {
        return;
    };
    let mut names: Vec<String> = rd
        .filter_map(|e| e.ok())
        .filter_map(|e| e.file_name().into_string().ok())
        .collect();
    names.sort();
    for n in names {
        if n.starts_with('.') || n.ends_with('~') {
            continue;
        }
        let ext = python_splitext_ext(&n);
        let full = path.join(&n);
        if crate::project::readable(&full).is_none() {
            continue;
        }
        if full.is_dir() && ext.is_empty() {
            dir_files(&full, found);
        } else if full.is_file() && (ext.is_empty() || EXTENSIONS.contains(&ext)) {
            found.push(full);
        }
    }
}

/// `os.path.splitext(name)[1]`: leading dots do not start an extension.
pub fn python_splitext_ext(name: &str) -> &str {
    let base = name.rsplit('/').next().unwrap_or(name);
    let stripped = base.trim_start_matches('.');
    match stripped.rfind('.') {
        Some(i) => &stripped[i..],
        None => "",
    }
}

/// Loaded variable files, cached by path (a file may serve several sources).
#[derive(Debug, Default, Clone)]
pub struct VarsCache {
    files: HashMap<PathBuf, Option<Map<String, Value>>>,
}

impl VarsCache {
    /// Merges `files` into `into` (replace, not deep merge: Ansible's default `hash_behaviour`).
    pub fn merge_files(
        &mut self,
        files: &[PathBuf],
        into: &mut Map<String, Value>,
    ) -> Result<(), InventoryError> {
        for f in files {
            if !self.files.contains_key(f) {
                let loaded = load_vars_file(f)?;
                self.files.insert(f.clone(), loaded);
            }
            if let Some(Some(m)) = self.files.get(f) {
                for (k, v) in m {
                    into.insert(k.clone(), v.clone());
                }
            }
        }
        Ok(())
    }
}

/// One vars file: `None` when it is empty (Ansible skips falsy data), an error when it is
/// not YAML or not a mapping.
fn load_vars_file(path: &Path) -> Result<Option<Map<String, Value>>, InventoryError> {
    let text = std::fs::read_to_string(path).map_err(|e| InventoryError::VarsFile {
        path: path.to_path_buf(),
        message: format!("Could not process '{}': {e}", path.display()),
        detail: String::new(),
    })?;
    let node = crate::yaml::load(&text, path).map_err(|e| InventoryError::VarsFile {
        path: path.to_path_buf(),
        message: e.headline(),
        detail: e.context.to_string(),
    })?;
    match node.to_value() {
        Value::Object(m) if m.is_empty() => Ok(None),
        Value::Object(m) => Ok(Some(m)),
        Value::Null | Value::Bool(false) => Ok(None),
        Value::Array(a) if a.is_empty() => Ok(None),
        Value::String(s) if s.is_empty() => Ok(None),
        Value::Number(n) if n.as_f64() == Some(0.0) => Ok(None),
        other => Err(InventoryError::VarsFile {
            path: path.to_path_buf(),
            message: format!(
                "Could not process '{}': failed to combine variables, expected dicts but got a 'dict' and a '{}'.",
                path.display(),
                tagged_type_name(&other)
            ),
            detail: String::new(),
        }),
    }
}

/// The class name Ansible 2.19 prints for a loaded value (origin-tagged where Python allows).
fn tagged_type_name(v: &Value) -> &'static str {
    match v {
        Value::Bool(_) => "bool",
        Value::Null => "NoneType",
        Value::Number(n) if n.is_f64() => "_AnsibleTaggedFloat",
        Value::Number(_) => "_AnsibleTaggedInt",
        Value::String(_) => "_AnsibleTaggedStr",
        Value::Array(_) => "_AnsibleTaggedList",
        Value::Object(_) => "_AnsibleTaggedDict",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splitext() {
        assert_eq!(python_splitext_ext("a.yml"), ".yml");
        assert_eq!(python_splitext_ext(".hidden"), "");
        assert_eq!(python_splitext_ext("main"), "");
        assert_eq!(python_splitext_ext("x.tar.gz"), ".gz");
    }

    #[test]
    fn finds_first_candidate_and_folders() {
        let t = tempfile::tempdir().unwrap();
        let gv = t.path().join("group_vars");
        std::fs::create_dir_all(gv.join("db")).unwrap();
        std::fs::write(gv.join("db/b.yml"), "b: 2\n").unwrap();
        std::fs::write(gv.join("db/a.yml"), "a: 1\nb: 1\n").unwrap();
        std::fs::write(gv.join("db/.hidden.yml"), "c: 1\n").unwrap();
        std::fs::write(gv.join("db.yml"), "ignored: true\n").unwrap();
        std::fs::write(gv.join("web.yaml"), "w: 1\n").unwrap();
        std::fs::write(gv.join("web.json"), "{\"w\": 2}\n").unwrap();
        let d = VarsDir::new(t.path().to_path_buf());
        let files = d.files_for(Entity::Group, "db");
        assert_eq!(files.len(), 2);
        let mut m = Map::new();
        VarsCache::default().merge_files(&files, &mut m).unwrap();
        assert_eq!(
            serde_json::Value::Object(m),
            serde_json::json!({"a": 1, "b": 2})
        );
        assert_eq!(d.files_for(Entity::Group, "web"), vec![gv.join("web.yaml")]);
        assert!(d.files_for(Entity::Host, "web").is_empty());
    }
}
