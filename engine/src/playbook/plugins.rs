//! Python plugins shipped with a playbook or a role (`library/`, `action_plugins/`,
//! `filter_plugins/`, `test_plugins/`, `lookup_plugins/`). ansible-core loads them from
//! beside the playbook and from each role; fleetsim cannot run Python, so a playbook that
//! brings its own is stopped with an error naming the plugin files, rather than failing later
//! on a filter or module it does not know.

use std::path::{Path, PathBuf};

/// Plugin folders whose plugins any template may call: present means used.
const TEMPLATING_PLUGIN_DIRS: &[&str] = &["filter_plugins", "test_plugins", "lookup_plugins"];

/// The Python files of a plugin folder (not `__init__.py`), sorted.
fn python_files(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.extension().is_some_and(|x| x == "py")
                && p.file_name().is_some_and(|n| n != "__init__.py")
        })
        .collect();
    files.sort();
    files
}

/// The filter, test and lookup plugins shipped in `dir` (beside a playbook, or a role's
/// folder), as paths relative to `dir`.
pub fn templating_plugins(dir: &Path) -> Vec<String> {
    TEMPLATING_PLUGIN_DIRS
        .iter()
        .flat_map(|sub| python_files(&dir.join(sub)))
        .map(|p| p.strip_prefix(dir).unwrap_or(&p).display().to_string())
        .collect()
}

/// The error for a playbook or role that ships templating plugins.
pub fn templating_plugins_error(dir: &Path, found: &[String]) -> String {
    format!(
        "fleetsim cannot run the Python plugins shipped in {}: {} (fleetsim provides only ansible-core's built-in filters, tests and lookups)",
        dir.display(),
        found.join(", ")
    )
}

/// A module or action plugin named `action` shipped in `library/` or `action_plugins/` of
/// the task file's folder or one of its three nearest parents (a role's tasks/ file reaches
/// the role's folder and the playbook beside the `roles/` folder), or beside the playbook.
pub fn module_plugin(action: &str, task_file: &Path, playbook_dir: &Path) -> Option<PathBuf> {
    let short = action.strip_prefix("ansible.legacy.").unwrap_or(action);
    if short.contains('.') {
        return None;
    }
    let mut dirs: Vec<&Path> = task_file.ancestors().skip(1).take(4).collect();
    dirs.push(playbook_dir);
    for dir in dirs {
        for sub in ["library", "action_plugins"] {
            let folder = dir.join(sub);
            let Ok(entries) = std::fs::read_dir(&folder) else {
                continue;
            };
            let mut hits: Vec<PathBuf> = entries
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.file_stem().is_some_and(|s| s == short) && p.is_file())
                .collect();
            hits.sort();
            if let Some(hit) = hits.into_iter().next() {
                return Some(hit);
            }
        }
    }
    None
}

/// The error for a task whose module is a shipped plugin.
pub fn module_plugin_error(action: &str, plugin: &Path) -> String {
    format!(
        "couldn't resolve module/action '{action}': it is a plugin shipped with the playbook ({}), and fleetsim cannot run Python plugins; it simulates only the built-in modules it knows",
        plugin.display()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_filters_and_modules_are_found_by_name() {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let root = dir.path();
        std::fs::create_dir_all(root.join("filter_plugins")).expect("mkdir");
        std::fs::write(root.join("filter_plugins/myfilters.py"), "").expect("write");
        std::fs::write(root.join("filter_plugins/__init__.py"), "").expect("write");
        std::fs::create_dir_all(root.join("roles/r/library")).expect("mkdir");
        std::fs::create_dir_all(root.join("roles/r/tasks")).expect("mkdir");
        std::fs::write(root.join("roles/r/library/my_module.py"), "").expect("write");
        assert_eq!(
            templating_plugins(root),
            vec!["filter_plugins/myfilters.py".to_string()]
        );
        assert!(templating_plugins(&root.join("roles/r")).is_empty());
        let task_file = root.join("roles/r/tasks/main.yml");
        assert_eq!(
            module_plugin("my_module", &task_file, root),
            Some(root.join("roles/r/library/my_module.py"))
        );
        assert_eq!(
            module_plugin("ansible.legacy.my_module", &task_file, root),
            Some(root.join("roles/r/library/my_module.py"))
        );
        assert_eq!(module_plugin("other", &task_file, root), None);
        assert_eq!(
            module_plugin("community.x.my_module", &task_file, root),
            None
        );
    }
}
