//! fleetsim's own hints after an error, on stderr: Ansible's message stays exactly as Ansible
//! prints it, and a line below says what usually causes it and where to look, for the
//! mistakes lab students meet most (the seed lab makes four of them).

/// What a hint may look at.
pub struct HintCtx<'a> {
    /// Every group name of the inventory.
    pub groups: &'a [String],
    /// Whether the play gathers facts.
    pub gather_facts: bool,
    /// Names of the play's tasks, in order, that create folders (`file: state=directory`),
    /// with the path they create as written.
    pub folder_tasks: &'a [(String, String)],
    /// The name of the failing task.
    pub task: &'a str,
}

/// Fact names that `setup` provides (without the `ansible_` prefix).
const FACTS: &[&str] = &[
    "date_time",
    "default_ipv4",
    "hostname",
    "fqdn",
    "nodename",
    "user_id",
    "env",
    "memtotal_mb",
    "memfree_mb",
    "processor_vcpus",
    "loadavg",
    "os_family",
    "distribution",
    "all_ipv4_addresses",
    "python",
    "facts",
];

/// The folder a failure says is missing, if that is the failure.
pub fn missing_folder(msg: &str) -> Option<&str> {
    msg.strip_prefix("Destination directory ")?
        .strip_suffix(" does not exist")
}

/// A hint for missing folders (several hosts or items often miss folders made by the same
/// task): which later task creates them, or how to create them.
pub fn for_missing_folders(dirs: &[String], cx: &HintCtx<'_>) -> Option<String> {
    let first = dirs.first()?;
    let more = match dirs.len() {
        1 => String::new(),
        n => format!(" (and {} more like it)", n - 1),
    };
    let creator = cx
        .folder_tasks
        .iter()
        .find(|(_, path)| has_literal(path) && path_template_matches(path, first));
    Some(match creator {
        Some((name, _)) => format!(
            "'{first}'{more} does not exist yet when task '{}' writes into it; task '{name}' creates it, so it has to run first.",
            cx.task
        ),
        None => format!(
            "'{first}'{more} does not exist on that host; create it first (file: path={first} state=directory)."
        ),
    })
}

/// A hint for a failure message, if fleetsim knows a likely cause.
pub fn for_failure(msg: &str, cx: &HintCtx<'_>) -> Option<String> {
    if let Some(dir) = missing_folder(msg) {
        return for_missing_folders(&[dir.to_string()], cx);
    }
    if let Some(var) = undefined_name(msg) {
        let is_fact = var
            .strip_prefix("ansible_")
            .is_some_and(|f| FACTS.contains(&f));
        if is_fact && !cx.gather_facts {
            return Some(format!(
                "'{var}' is a fact, and this play has gather_facts: no, so no fact about the host is known; set gather_facts: yes (or run the setup module first)."
            ));
        }
    }
    if let Some(key) = missing_group(msg) {
        let similar: Vec<&String> = cx
            .groups
            .iter()
            .filter(|g| {
                common_prefix(g, &key)
                    >= key
                        .len()
                        .min(g.len())
                        .saturating_sub(key.len().abs_diff(g.len()))
                        .max(4)
            })
            .collect();
        let list = if similar.is_empty() {
            cx.groups.join(", ")
        } else {
            similar
                .iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        };
        return Some(format!(
            "groups['{key}'] is not a group of this inventory; groups with a similar name: {list}."
        ));
    }
    None
}

/// A hint for a load error.
pub fn for_load_error(msg: &str) -> Option<String> {
    let attr = msg
        .strip_prefix('\'')?
        .split_once("' is not a valid attribute for a Play")?
        .0;
    if crate::playbook::modules_known::resolve(attr).is_some() {
        return Some(format!(
            "'{attr}' is a module, not a play keyword: this entry of the playbook is a task written at the level of plays. Move it under the tasks: of a play (or into a task file)."
        ));
    }
    None
}

fn undefined_name(msg: &str) -> Option<String> {
    let i = msg.find(" is undefined")?;
    let head = &msg[..i];
    let start = head.rfind('\'')?;
    let inner = &head[..start];
    let open = inner.rfind('\'')?;
    Some(inner[open + 1..].to_string())
}

fn missing_group(msg: &str) -> Option<String> {
    // `'dict object' has no attribute 'x'` / `object of type 'dict' has no attribute 'x'` on
    // `groups[...]` gives no hint of the dict; the key is a group name when it looks like one.
    let i = msg.find("has no attribute '")?;
    let rest = &msg[i + "has no attribute '".len()..];
    let key = rest.split('\'').next()?;
    (msg.contains("dict") && key.contains('_')).then(|| key.to_string())
}

/// Whether a path as written has a fixed part besides slashes (`{{ item }}` alone could be
/// anything, so it names no folder in particular).
fn has_literal(written: &str) -> bool {
    written
        .split("{{")
        .enumerate()
        .map(|(i, p)| {
            if i == 0 {
                p
            } else {
                p.split_once("}}").map(|x| x.1).unwrap_or("")
            }
        })
        .any(|lit| lit.trim_matches('/').len() > 1)
}

fn common_prefix(a: &str, b: &str) -> usize {
    a.chars().zip(b.chars()).take_while(|(x, y)| x == y).count()
}

/// Whether a path as written (maybe with `{{ }}`) could name `dir`: literal parts must match
/// in order.
fn path_template_matches(written: &str, dir: &str) -> bool {
    let mut rest = dir;
    for (i, part) in written.split("{{").enumerate() {
        let literal = if i == 0 {
            part
        } else {
            part.split_once("}}").map(|p| p.1).unwrap_or("")
        };
        if literal.is_empty() {
            continue;
        }
        match rest.find(literal) {
            Some(at) if i > 0 || at == 0 => rest = &rest[at + literal.len()..],
            _ => return false,
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cx<'a>(groups: &'a [String], folders: &'a [(String, String)], gather: bool) -> HintCtx<'a> {
        HintCtx {
            groups,
            gather_facts: gather,
            folder_tasks: folders,
            task: "Write",
        }
    }

    #[test]
    fn points_at_the_task_that_creates_the_folder() {
        let folders = vec![(
            "Create draining dirs".to_string(),
            "/tmp/lb-{{ item }}/draining".to_string(),
        )];
        let h = for_failure(
            "Destination directory /tmp/lb-lb-prod-01/draining does not exist",
            &cx(&[], &folders, true),
        )
        .unwrap();
        assert!(h.contains("task 'Create draining dirs' creates it"), "{h}");
        let only_item = vec![("Dirs".to_string(), "{{ item }}".to_string())];
        let h = for_failure(
            "Destination directory /tmp/x does not exist",
            &cx(&[], &only_item, true),
        )
        .unwrap();
        assert!(h.contains("create it first"), "{h}");
    }

    #[test]
    fn facts_without_gathering() {
        let h = for_failure("'ansible_date_time' is undefined", &cx(&[], &[], false)).unwrap();
        assert!(h.contains("gather_facts: no"));
        assert!(for_failure("'ansible_date_time' is undefined", &cx(&[], &[], true)).is_none());
    }

    #[test]
    fn missing_group_names_similar_ones() {
        let groups = vec!["web_servers_prod".to_string(), "db".to_string()];
        let h = for_failure(
            "object of type 'dict' has no attribute 'web_servers_production'",
            &cx(&groups, &[], true),
        )
        .unwrap();
        assert!(h.contains("web_servers_prod"), "{h}");
        assert!(!h.contains(", db"), "{h}");
    }

    #[test]
    fn module_at_play_level() {
        let h = for_load_error("'copy' is not a valid attribute for a Play").unwrap();
        assert!(h.contains("under the tasks:"));
        assert!(for_load_error("'serial_mode' is not a valid attribute for a Play").is_none());
    }
}
