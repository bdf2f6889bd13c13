//! `debug`: print `msg` (already templated) or the value of `var`, with Ansible's result
//! shape (`_ansible_verbose_always` so the callback prints it indented).

use serde_json::{json, Value};

use super::{Args, Module, ModuleCtx, ModuleResult};

pub struct Debug;

impl Module for Debug {
    fn connects(&self) -> bool {
        false
    }

    fn run(&self, ctx: &mut ModuleCtx<'_>, args: &Args) -> ModuleResult {
        let mut r = super::ok(false);
        if let (Some(_), Some(_)) = (args.get("msg"), args.get("var")) {
            return super::action_fail("'msg' and 'var' are incompatible options");
        }
        if let Some(var) = args.get("var") {
            let name = crate::playbook::scalar_text(var);
            let value = match ctx.templar.eval_expression(&name, &ctx.vars) {
                Ok(v) if v == Value::String(name.clone()) => v,
                Ok(v) => v,
                Err(e) => json!(format!("<< error 1 - {} >>", e.message())),
            };
            r.insert(name, value);
        } else {
            let msg = args.get("msg").cloned().unwrap_or(json!("Hello world!"));
            r.insert("msg".into(), msg);
        }
        r.insert("_ansible_verbose_always".into(), json!(true));
        r
    }
}
