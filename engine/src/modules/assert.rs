//! `assert`: evaluate `that` conditions in order; fail on the first false one with
//! `fail_msg`/`msg`, or succeed with `success_msg` (`All assertions passed` by default).

use serde_json::{json, Value};

use super::{Args, Module, ModuleCtx, ModuleResult};

pub struct Assert;

impl Module for Assert {
    fn connects(&self) -> bool {
        false
    }

    fn run(&self, ctx: &mut ModuleCtx<'_>, args: &Args) -> ModuleResult {
        let that: Vec<Value> = match args.get("that") {
            Some(Value::Array(a)) => a.clone(),
            Some(Value::Null) | None => {
                return super::action_fail("conditional required in \"that\" string")
            }
            Some(other) => vec![other.clone()],
        };
        let quiet = super::arg_bool(args, "quiet", false).unwrap_or(false);
        for cond in &that {
            let text = match cond {
                Value::String(s) => s.clone(),
                Value::Bool(b) => if *b { "True" } else { "False" }.to_string(),
                other => crate::playbook::scalar_text(other),
            };
            match ctx.templar.eval_conditional(&text, &ctx.vars) {
                Ok(true) => {}
                Ok(false) => {
                    let msg = args
                        .get("fail_msg")
                        .or_else(|| args.get("msg"))
                        .cloned()
                        .unwrap_or(json!("Assertion failed"));
                    let mut r = super::action_fail("");
                    r.insert("msg".into(), msg);
                    r.insert("assertion".into(), json!(text));
                    r.insert("evaluated_to".into(), json!(false));
                    // The action asks for its whole result to be shown, failed or not.
                    if !quiet {
                        r.insert("_ansible_verbose_always".into(), json!(true));
                    }
                    return r;
                }
                Err(e) => {
                    let mut r = super::action_fail(e.message());
                    if e.message() == crate::template::UNTRUSTED_MESSAGE {
                        // ansible-core's trust check raises out of the action (an
                        // AnsibleError, not an action failure): the executor's own result.
                        r.insert("_ansible_raised".into(), json!(super::RAISED_ERROR));
                        return r;
                    }
                    r.insert("_ansible_template_error".into(), json!(true));
                    return r;
                }
            }
        }
        let mut r = super::ok(false);
        if !quiet {
            let msg = args
                .get("success_msg")
                .cloned()
                .unwrap_or(json!("All assertions passed"));
            r.insert("msg".into(), msg);
            r.insert("_ansible_verbose_always".into(), json!(true));
        }
        r
    }
}
