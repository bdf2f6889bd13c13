//! `fail`: fail the host with `msg` (default `Failed as requested from task`).

use serde_json::Value;

use super::{Args, Module, ModuleCtx, ModuleResult};

pub struct Fail;

impl Module for Fail {
    fn connects(&self) -> bool {
        false
    }

    fn run(&self, _ctx: &mut ModuleCtx<'_>, args: &Args) -> ModuleResult {
        let msg = match args.get("msg") {
            Some(Value::String(s)) => s.clone(),
            Some(Value::Null) | None => "Failed as requested from task".to_string(),
            Some(other) => crate::playbook::scalar_text(other),
        };
        super::action_fail(&msg)
    }
}
