//! The `environment:` keyword: the entries of the play, roles, blocks and the task merged
//! and templated as ansible-core's `Task._post_validate_environment` and
//! `ActionBase._compute_environment_string` do, into the variables a module's process (and
//! so `command`/`shell`) starts with.

use std::sync::Arc;

use indexmap::IndexMap;
use serde_json::Value;

use crate::diag::Origin;
use crate::playbook::{Block, EnvEntry, Item, Task};
use crate::template::{is_omit, pyrepr, Templar, VarSource};

/// The environment a task's module runs with, and the warnings resolving it gave.
#[derive(Debug, Default)]
pub struct TaskEnvironment {
    /// Names and values in the order Ansible's merged dict holds them.
    pub vars: IndexMap<String, String>,
    pub warnings: Vec<String>,
}

/// Why a task's environment could not be resolved, with the places Ansible names.
#[derive(Debug)]
pub struct EnvironmentError {
    /// The headline's tail: `Error processing keyword 'environment': ...`.
    pub message: String,
    /// The causes after the task: the keyword (shown by its value, it has no origin of its
    /// own once merged) and the failing template.
    pub chain: Vec<(String, Origin)>,
}

/// Python's `repr()` of the entries as Ansible holds them before templating.
fn written_repr(entries: &[&EnvEntry]) -> String {
    let values: Vec<Value> = entries.iter().map(|e| e.value.clone()).collect();
    pyrepr::json_repr(&Value::Array(values))
}

/// Whether an error templating one environment value is an undefined `ansible_env` that
/// `Task._post_validate_environment` ignores.
fn skips_undefined_env(message: &str) -> bool {
    message.contains("ansible_env") || message.contains("ansible_facts.env")
}

/// A templating error in one written entry, with the name of the value it came from
/// (`None` when the whole entry is one template).
struct EntryError<'a> {
    message: String,
    name: Option<&'a String>,
}

/// Templates one written `environment:` entry into `merged`: a mapping value by value (an
/// omitted value left out; one naming the facts' not yet gathered `ansible_env` skipped, as
/// ansible-core's test reads `'ansible_env' in error` for any action, by operator
/// precedence), or a whole template that must give a mapping. `Ok(false)` when it gave
/// something else.
fn merge_entry<'a>(
    templar: &Templar,
    written: &'a Value,
    vars: &Arc<dyn VarSource>,
    merged: &mut IndexMap<String, Value>,
) -> Result<bool, EntryError<'a>> {
    match written {
        Value::Object(map) => {
            for (name, value) in map {
                match templar.render(value, vars) {
                    Ok(v) if is_omit(&v) => {}
                    Ok(v) => {
                        merged.insert(name.clone(), v);
                    }
                    Err(e) if skips_undefined_env(e.message()) => {}
                    Err(e) => {
                        return Err(EntryError {
                            message: e.message().to_string(),
                            name: Some(name),
                        })
                    }
                }
            }
            Ok(true)
        }
        other => match templar.render(other, vars) {
            Ok(v) if is_omit(&v) => Ok(true),
            Ok(Value::Object(map)) => {
                merged.extend(map);
                Ok(true)
            }
            Ok(_) => Ok(false),
            Err(e) => Err(EntryError {
                message: e.message().to_string(),
                name: None,
            }),
        },
    }
}

/// The merged values as the module's process sees them: each as Python's `str()` prints it.
fn as_process_env(merged: IndexMap<String, Value>) -> IndexMap<String, String> {
    merged
        .into_iter()
        .map(|(name, value)| {
            let text = match value {
                Value::String(s) => s,
                other => pyrepr::json_repr(&other),
            };
            (name, text)
        })
        .collect()
}

/// The play's own `environment:` for the implicit fact gathering (the setup task sits in a
/// block of the play): names and values, the ones naming a not yet gathered `ansible_env`
/// left out as ansible-core leaves them out.
pub fn resolve_play(
    templar: &Templar,
    written: &Value,
    vars: &Arc<dyn VarSource>,
) -> Result<IndexMap<String, String>, String> {
    let items: Vec<&Value> = match written {
        Value::Array(items) => items.iter().collect(),
        Value::Null => Vec::new(),
        other => vec![other],
    };
    let mut merged: IndexMap<String, Value> = IndexMap::new();
    for item in items {
        merge_entry(templar, item, vars, &mut merged)
            .map_err(|e| format!("Error processing keyword 'environment': {}", e.message))?;
    }
    Ok(as_process_env(merged))
}

/// Resolves the task's environment for one host (and loop item).
pub fn resolve(
    templar: &Templar,
    task: &Task,
    vars: &Arc<dyn VarSource>,
) -> Result<TaskEnvironment, EnvironmentError> {
    let entries = task.environment_chain();
    let mut env = TaskEnvironment::default();
    if entries.is_empty() {
        return Ok(env);
    }
    let fail = |message: &str, origin: &Origin| {
        let keyword = "Error processing keyword 'environment'";
        EnvironmentError {
            message: format!("{keyword}: {message}"),
            chain: vec![
                (
                    format!("{keyword}."),
                    Origin::unknown_value(&written_repr(&entries)),
                ),
                (message.to_string(), origin.clone()),
            ],
        }
    };
    let mut merged: IndexMap<String, Value> = IndexMap::new();
    for entry in &entries {
        match merge_entry(templar, &entry.value, vars, &mut merged) {
            Ok(true) => {}
            Ok(false) => env.warnings.push(format!(
                "could not parse environment value, skipping: {}",
                written_repr(&entries)
            )),
            Err(e) => {
                let origin = e
                    .name
                    .and_then(|name| entry.value_origins.get(name))
                    .unwrap_or(&entry.origin);
                return Err(fail(&e.message, origin));
            }
        }
    }
    env.vars = as_process_env(merged);
    Ok(env)
}

/// What the tasks an include loads inherit of its environment: the entries around the
/// include, not the include's own (Ansible skips a dynamic include's own keywords when its
/// tasks look up their parents, `statically_loaded` being false).
pub fn cache_key(include: &Task) -> String {
    let values: Vec<Value> = include
        .inherited_environment
        .iter()
        .map(|e| e.value.clone())
        .collect();
    serde_json::to_string(&values).unwrap_or_default()
}

/// The included blocks with the include's inherited environment entries put before each
/// task's own (outermost first).
pub fn inherit_from_include(include: &Task, blocks: Vec<Arc<Block>>) -> Vec<Arc<Block>> {
    if include.inherited_environment.is_empty() {
        return blocks;
    }
    let outer = &include.inherited_environment;
    blocks
        .into_iter()
        .map(|b| Arc::new(block_with(&b, outer)))
        .collect()
}

fn block_with(block: &Block, outer: &[EnvEntry]) -> Block {
    let items = |list: &[Item]| -> Vec<Item> {
        list.iter()
            .map(|item| match item {
                Item::Task(t) => {
                    let mut t = Task::clone(t);
                    let mut env = outer.to_vec();
                    env.append(&mut t.inherited_environment);
                    t.inherited_environment = env;
                    Item::Task(Arc::new(t))
                }
                Item::Block(b) => Item::Block(Arc::new(block_with(b, outer))),
            })
            .collect()
    };
    Block {
        block: items(&block.block),
        rescue: items(&block.rescue),
        always: items(&block.always),
        ..block.clone()
    }
}
