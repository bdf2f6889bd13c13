//! `set_fact`: new host variables that live for the rest of the run (the executor stores
//! `ansible_facts` of this result with set_fact precedence).

use serde_json::{json, Value};

use super::{Args, Module, ModuleCtx, ModuleResult};

pub struct SetFact;

impl Module for SetFact {
    fn connects(&self) -> bool {
        false
    }

    fn run(&self, ctx: &mut ModuleCtx<'_>, args: &Args) -> ModuleResult {
        let mut facts = serde_json::Map::new();
        for (k, v) in args {
            if k == "cacheable" {
                continue;
            }
            // A rare place where Ansible templates keys ("backward-compatibility for dynamic
            // storage"): `set_fact: "{{ item }}=moo"` names its variable from the loop.
            let raw_key = k.clone();
            let rendered = match ctx.templar.render_str(k, &ctx.vars) {
                Ok(v) => v,
                Err(e) => return super::action_fail(&e.to_string()),
            };
            let valid = match &rendered {
                Value::String(s) => is_variable_name(s).then(|| s.clone()),
                _ => None,
            };
            let Some(k) = valid else {
                // ansible-core raises here (`validate_variable_name`), pointing at the key.
                let mut r = super::fail(&invalid_name_message(&rendered));
                r.insert("_ansible_raised".into(), json!(true));
                r.insert("_ansible_raised_key".into(), json!(raw_key));
                r.insert(
                    "_ansible_raised_help".into(),
                    json!("Variable names must be strings starting with a letter or underscore character, and contain only letters, numbers and underscores."),
                );
                return r;
            };
            facts.insert(k, v.clone());
        }
        if facts.is_empty() {
            return super::action_fail(
                "No key/value pairs provided, at least one is required for this action to succeed",
            );
        }
        let mut r = super::ok(false);
        r.insert("ansible_facts".into(), Value::Object(facts));
        r.insert("_ansible_set_fact".into(), json!(true));
        // `cacheable: true` makes them facts as well (the fact cache: `ansible_facts.NAME`).
        if args.get("cacheable").and_then(super::to_bool) == Some(true) {
            r.insert("_ansible_facts_cacheable".into(), json!(true));
        }
        r
    }
}

/// `validate_variable_name`: an ASCII Python identifier that is not one of the names Jinja
/// gives a meaning (`true`, `None`, `not`, ...).
pub(crate) fn is_variable_name(s: &str) -> bool {
    const JINJA_KEYWORDS: &[&str] = &["true", "false", "none", "True", "False", "None", "not"];
    let mut chars = s.chars();
    s.is_ascii()
        && matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !JINJA_KEYWORDS.contains(&s)
}

/// `validate_variable_name`'s message: scalars shown by `repr(str(name))`, the type named
/// for anything but a string.
pub(crate) fn invalid_name_message(name: &Value) -> String {
    let mut description = match name {
        Value::String(s) => format!("name {}", crate::template::pyrepr::str_repr(s)),
        Value::Array(_) | Value::Object(_) => "name".to_string(),
        scalar => {
            let text = match scalar {
                Value::Bool(true) => "True".to_string(),
                Value::Bool(false) => "False".to_string(),
                Value::Null => "None".to_string(),
                other => crate::template::pyrepr::json_repr(other),
            };
            format!("name {}", crate::template::pyrepr::str_repr(&text))
        }
    };
    if !name.is_string() {
        description.push_str(&format!(
            " of type '{}'",
            crate::template::json_type_name(name)
        ));
    }
    format!("Invalid variable {description}.")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variable_names_are_validated_as_ansible_core_does() {
        assert!(is_variable_name("my_key"));
        assert!(is_variable_name("_x1"));
        assert!(!is_variable_name("true"));
        assert!(!is_variable_name("not"));
        assert!(!is_variable_name("1a"));
        assert!(!is_variable_name("caf\u{e9}"));
        assert_eq!(
            invalid_name_message(&json!("true")),
            "Invalid variable name 'true'."
        );
        assert_eq!(
            invalid_name_message(&json!(1)),
            "Invalid variable name '1' of type 'int'."
        );
        assert_eq!(
            invalid_name_message(&json!(["a"])),
            "Invalid variable name of type 'list'."
        );
    }
}
