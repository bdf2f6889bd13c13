//! ansible-core's configuration as fleetsim reads it: the `ANSIBLE_*` environment variables
//! (named as in lib/ansible/config/base.yml, table in `settings.rs`). A setting fleetsim
//! honours is read here; one that cannot change anything in a simulation (ssh options, the
//! Python interpreter) is accepted; any other one set to something else than its default is
//! reported by [`unsupported_settings`], so that nothing is silently ignored.

pub mod settings;

use std::path::{Path, PathBuf};

use settings::{Setting, SETTINGS};

/// The settings fleetsim reads and honours (some of them in the inventory and output code).
const HONOURED: &[&str] = &[
    "ANSIBLE_ALLOW_BROKEN_CONDITIONALS",
    "ANSIBLE_DEPRECATION_WARNINGS",
    "ANSIBLE_FORCE_HANDLERS",
    "ANSIBLE_GATHERING",
    "ANSIBLE_HASH_BEHAVIOUR",
    "ANSIBLE_HOME",
    "ANSIBLE_HOST_PATTERN_MISMATCH",
    "ANSIBLE_INVENTORY",
    "ANSIBLE_INVENTORY_ANY_UNPARSED_IS_FAILED",
    "ANSIBLE_INVENTORY_UNPARSED_FAILED",
    "ANSIBLE_INVENTORY_UNPARSED_WARNING",
    "ANSIBLE_LOCALHOST_WARNING",
    "ANSIBLE_MODULE_STRICT_UTF8_RESPONSE",
    "ANSIBLE_ROLES_PATH",
    "ANSIBLE_SHOW_CUSTOM_STATS",
    "ANSIBLE_TRANSFORM_INVALID_GROUP_CHARS",
    "ANSIBLE_VAULT_IDENTITY_LIST",
    "ANSIBLE_VAULT_PASSWORD_FILE",
];

/// Settings that change nothing fleetsim does, whatever their value: how the real machine is
/// reached or how real Python runs there (there is neither), colours (fleetsim never colours
/// its output), worker processes, and options only other CLIs (`ansible`, `ansible-doc`) use.
const NO_EFFECT: &[&str] = &[
    "ANSIBLE_AGNOSTIC_BECOME_PROMPT",
    "ANSIBLE_DEVEL_WARNING",
    "ANSIBLE_DISPLAY_TRACEBACK",
    "ANSIBLE_FORKS",
    "ANSIBLE_HOST_KEY_CHECKING",
    "ANSIBLE_KEEP_REMOTE_FILES",
    "ANSIBLE_LOCAL_TEMP",
    "ANSIBLE_NOCOLOR",
    "ANSIBLE_PIPELINING",
    "ANSIBLE_PLAYBOOK_DIR",
    "ANSIBLE_PYTHON_INTERPRETER",
    "ANSIBLE_PYTHON_MODULE_RLIMIT_NOFILE",
    "ANSIBLE_SYSTEM_WARNINGS",
    "ANSIBLE_WORKER_SHUTDOWN_POLL_COUNT",
    "ANSIBLE_WORKER_SHUTDOWN_POLL_DELAY",
];

/// A boolean setting's value as ansible-core reads it (`ansible.module_utils.parsing.convert_bool`).
pub fn parse_bool(text: &str) -> Option<bool> {
    match text.trim().to_ascii_lowercase().as_str() {
        "y" | "yes" | "on" | "1" | "true" | "t" => Some(true),
        "n" | "no" | "off" | "0" | "false" | "f" | "" => Some(false),
        _ => None,
    }
}

fn setting(env: &str) -> Option<&'static Setting> {
    SETTINGS
        .binary_search_by(|s| s.env.cmp(env))
        .ok()
        .map(|i| &SETTINGS[i])
}

/// Whether `value` is what the setting is when unset (so setting it changes nothing).
fn is_default(s: &Setting, value: &str) -> bool {
    if s.kind.starts_with("bool") {
        return parse_bool(value) == parse_bool(s.default);
    }
    value == s.default
}

/// A boolean setting from its `ANSIBLE_*` variable, else its default; read once (the
/// setting is the process's).
fn env_bool_setting(env: &str, default: bool) -> bool {
    std::env::var(env)
        .ok()
        .and_then(|v| parse_bool(&v))
        .unwrap_or(default)
}

/// `ALLOW_BROKEN_CONDITIONALS` (`ANSIBLE_ALLOW_BROKEN_CONDITIONALS`): a conditional whose
/// result is not a boolean (or that is empty) is taken by its truth, with a deprecation
/// warning, rather than failing.
pub fn allow_broken_conditionals() -> bool {
    static ALLOW: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *ALLOW.get_or_init(|| env_bool_setting("ANSIBLE_ALLOW_BROKEN_CONDITIONALS", false))
}

/// `DEPRECATION_WARNINGS` (`ANSIBLE_DEPRECATION_WARNINGS`): whether `[DEPRECATION WARNING]`s
/// are shown.
pub fn deprecation_warnings() -> bool {
    env_bool_setting("ANSIBLE_DEPRECATION_WARNINGS", true)
}

/// `MODULE_STRICT_UTF8_RESPONSE` (`ANSIBLE_MODULE_STRICT_UTF8_RESPONSE`): whether
/// deserialized JSON (module results, `from_json`) is refused when one of its strings is not
/// valid UTF-8 (a lone surrogate).
pub fn module_strict_utf8_response() -> bool {
    env_bool_setting("ANSIBLE_MODULE_STRICT_UTF8_RESPONSE", true)
}

/// The value `lookup('config', NAME)` gives for a setting fleetsim honours and the
/// environment sets (a boolean one, typed as Ansible types it); `None` for the default.
pub fn honoured_value(name: &str) -> Option<serde_json::Value> {
    let s = SETTINGS
        .iter()
        .find(|s| s.name == name && HONOURED.contains(&s.env))?;
    if !s.kind.starts_with("bool") {
        return None;
    }
    let value = std::env::var(s.env).ok()?;
    parse_bool(&value).map(serde_json::Value::Bool)
}

/// `DEFAULT_FORCE_HANDLERS` (`ANSIBLE_FORCE_HANDLERS`): the default of `--force-handlers`,
/// and so of the play keyword `force_handlers`.
pub fn force_handlers() -> bool {
    std::env::var("ANSIBLE_FORCE_HANDLERS")
        .ok()
        .and_then(|v| parse_bool(&v))
        .unwrap_or(false)
}

/// `DEFAULT_GATHERING` (`ANSIBLE_GATHERING`): when a play gathers facts before its tasks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Gathering {
    /// Unless the play says `gather_facts: false` (the default).
    #[default]
    Implicit,
    /// Only when the play says `gather_facts: true`.
    Explicit,
    /// As implicit, but only for hosts whose facts no earlier play of the run gathered.
    Smart,
}

/// The `ANSIBLE_GATHERING` setting; a value outside its choices is an error naming them,
/// as Ansible's own configuration check gives.
pub fn gathering() -> Result<Gathering, String> {
    match std::env::var("ANSIBLE_GATHERING") {
        Err(_) => Ok(Gathering::Implicit),
        Ok(v) => match v.trim().to_ascii_lowercase().as_str() {
            "implicit" => Ok(Gathering::Implicit),
            "explicit" => Ok(Gathering::Explicit),
            "smart" => Ok(Gathering::Smart),
            _ => Err(format!(
                "Invalid value '{v}' for configuration option 'DEFAULT_GATHERING' (ANSIBLE_GATHERING), valid values are: implicit, explicit, smart"
            )),
        },
    }
}

/// `DEFAULT_HASH_BEHAVIOUR` (`ANSIBLE_HASH_BEHAVIOUR`) is `merge`: a dict variable defined
/// at two places (precedence levels, inventory sources) is merged key by key rather than
/// replaced. Read once: the setting is the process's.
pub fn hash_merge() -> bool {
    static MERGE: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *MERGE
        .get_or_init(|| std::env::var("ANSIBLE_HASH_BEHAVIOUR").is_ok_and(|v| v.trim() == "merge"))
}

/// ansible-core's `combine_vars` for one variable: `new` wins, except that under
/// [`hash_merge`] two dicts merge recursively (`merge_hash`, lists replaced).
pub fn combine(old: serde_json::Value, new: serde_json::Value) -> serde_json::Value {
    use serde_json::Value;
    if !hash_merge() {
        return new;
    }
    match (old, new) {
        (Value::Object(mut a), Value::Object(b)) => {
            for (k, v) in b {
                let merged = match a.remove(&k) {
                    Some(prev) => combine(prev, v),
                    None => v,
                };
                a.insert(k, merged);
            }
            Value::Object(a)
        }
        (_, new) => new,
    }
}

/// `~` and `~user`-less home expansion and `$VAR` expansion, as `unfrackpath` does, then
/// relative paths made absolute from the current folder.
fn unfrack(path: &str) -> PathBuf {
    let expanded = match path.strip_prefix('~') {
        Some(rest) if rest.is_empty() || rest.starts_with('/') => {
            format!("{}{rest}", std::env::var("HOME").unwrap_or_default())
        }
        _ => path.to_string(),
    };
    let p = PathBuf::from(expanded);
    if p.is_absolute() {
        return p;
    }
    std::env::current_dir().map(|d| d.join(&p)).unwrap_or(p)
}

/// `ANSIBLE_HOME` (default `~/.ansible`).
fn ansible_home() -> PathBuf {
    unfrack(&std::env::var("ANSIBLE_HOME").unwrap_or_else(|_| "~/.ansible".into()))
}

/// `DEFAULT_ROLES_PATH`: the folders searched for roles after the playbook's `roles/`
/// (`ANSIBLE_ROLES_PATH`, colon-separated; default `~/.ansible/roles`,
/// `/usr/share/ansible/roles`, `/etc/ansible/roles`).
/// `DEFAULT_CONNECTION_PLUGIN_PATH` (`ANSIBLE_CONNECTION_PLUGINS`, colon-separated): folders
/// of connection plugins a project ships (Python, which fleetsim cannot run).
pub fn connection_plugin_paths() -> Vec<PathBuf> {
    std::env::var("ANSIBLE_CONNECTION_PLUGINS")
        .map(|v| {
            v.split(':')
                .filter(|p| !p.is_empty())
                .map(unfrack)
                .collect()
        })
        .unwrap_or_default()
}

pub fn roles_path() -> Vec<PathBuf> {
    match std::env::var("ANSIBLE_ROLES_PATH") {
        Ok(v) => v
            .split(':')
            .filter(|p| !p.is_empty())
            .map(unfrack)
            .collect(),
        Err(_) => vec![
            ansible_home().join("roles"),
            PathBuf::from("/usr/share/ansible/roles"),
            PathBuf::from("/etc/ansible/roles"),
        ],
    }
}

/// `COLLECTIONS_PATHS` (`ANSIBLE_COLLECTIONS_PATH`, colon-separated; default
/// `~/.ansible/collections`, `/usr/share/ansible/collections`): part of the project a run
/// may read.
pub fn collections_path() -> Vec<PathBuf> {
    match std::env::var("ANSIBLE_COLLECTIONS_PATH") {
        Ok(v) => v
            .split(':')
            .filter(|p| !p.is_empty())
            .map(unfrack)
            .collect(),
        Err(_) => vec![
            ansible_home().join("collections"),
            PathBuf::from("/usr/share/ansible/collections"),
        ],
    }
}

/// The `ANSIBLE_*` settings in the environment that would change what Ansible does and that
/// fleetsim does not honour, one line each (`NAME=VALUE (SETTING): why`), sorted. Also an
/// `ANSIBLE_CONFIG` (or `./ansible.cfg`) with settings in it: fleetsim reads no ansible.cfg.
pub fn unsupported_settings() -> Vec<String> {
    let mut vars: Vec<(String, String)> = std::env::vars()
        .filter(|(k, _)| k.starts_with("ANSIBLE_"))
        .collect();
    vars.sort();
    let mut out = Vec::new();
    for (name, value) in &vars {
        if name == "ANSIBLE_CONFIG" {
            if config_file_has_settings(Path::new(value)) {
                out.push(format!(
                    "{name}={value}: fleetsim does not read ansible.cfg files; their settings are ignored"
                ));
            }
            continue;
        }
        if name == "ANSIBLE_HASH_BEHAVIOUR" && !matches!(value.trim(), "merge" | "replace") {
            out.push(format!(
                "{name}={value} (DEFAULT_HASH_BEHAVIOUR): not one of replace, merge; replace is used"
            ));
            continue;
        }
        if HONOURED.contains(&name.as_str()) || NO_EFFECT.contains(&name.as_str()) {
            continue;
        }
        let Some(s) = setting(name) else {
            // Not an ansible-core setting (a plugin's option, ansible-test's own): Ansible
            // itself ignores it unless that plugin runs, and fleetsim runs no plugin.
            continue;
        };
        if is_default(s, value) {
            continue;
        }
        if name == "ANSIBLE_LIBRARY" && (value.is_empty() || value == "/dev/null") {
            continue;
        }
        out.push(format!(
            "{name}={value} ({}): not supported by fleetsim, ignored",
            s.name
        ));
    }
    if std::env::var_os("ANSIBLE_CONFIG").is_none()
        && config_file_has_settings(Path::new("ansible.cfg"))
    {
        out.push(
            "./ansible.cfg: fleetsim does not read ansible.cfg files; their settings are ignored"
                .into(),
        );
    }
    out
}

/// Whether an ansible.cfg holds any setting (a `key = value` line outside comments).
fn config_file_has_settings(path: &Path) -> bool {
    let Ok(text) = std::fs::read_to_string(path) else {
        return false;
    };
    text.lines().any(|line| {
        let line = line.trim();
        !line.is_empty()
            && !line.starts_with('#')
            && !line.starts_with(';')
            && !line.starts_with('[')
            && line.contains('=')
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_settings_table_is_sorted_for_binary_search() {
        assert!(SETTINGS.windows(2).all(|w| w[0].env < w[1].env));
        assert_eq!(
            setting("ANSIBLE_ROLES_PATH").map(|s| s.name),
            Some("DEFAULT_ROLES_PATH")
        );
        assert!(setting("ANSIBLE_NOT_A_SETTING").is_none());
    }

    #[test]
    fn booleans_read_as_ansible_reads_them() {
        assert_eq!(parse_bool("Yes"), Some(true));
        assert_eq!(parse_bool("off"), Some(false));
        assert_eq!(parse_bool("maybe"), None);
    }

    #[test]
    fn a_value_equal_to_the_default_changes_nothing() {
        let force = setting("ANSIBLE_FORCE_HANDLERS").expect("a base.yml setting");
        assert!(is_default(force, "no"));
        assert!(!is_default(force, "true"));
        let strategy = setting("ANSIBLE_STRATEGY").expect("a base.yml setting");
        assert!(is_default(strategy, "linear"));
        assert!(!is_default(strategy, "free"));
    }

    #[test]
    fn every_honoured_or_inert_name_is_an_ansible_setting() {
        for name in HONOURED.iter().chain(NO_EFFECT) {
            assert!(setting(name).is_some(), "{name} is not in base.yml");
        }
    }
}
