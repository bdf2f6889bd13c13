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
            let k = match ctx.templar.render_str(k, &ctx.vars) {
                Ok(Value::String(s)) => s,
                Ok(other) => other.to_string(),
                Err(e) => return super::action_fail(&e.to_string()),
            };
            if !is_identifier(&k) {
                // ansible-core raises here (`Invalid variable name`), pointing at the key.
                let mut r = super::fail(&format!("Invalid variable name '{k}'."));
                r.insert("_ansible_raised".into(), json!(true));
                r.insert("_ansible_raised_key".into(), json!(raw_key));
                r.insert(
                    "_ansible_raised_help".into(),
                    json!("Variable names must be strings starting with a letter or underscore character, and contain only letters, numbers and underscores."),
                );
                return r;
            }
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
        r
    }
}

fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_alphabetic() || c == '_')
        && chars.all(|c| c.is_alphanumeric() || c == '_')
}
