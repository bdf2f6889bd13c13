//! Templating with a random context: the input is `VARS\0TEMPLATE`, VARS a YAML mapping
//! (any values: strings, numbers, lists, nested mappings) and TEMPLATE rendered as a task
//! argument, as a template file and as a conditional.
#![no_main]

use std::path::Path;
use std::sync::Arc;

use fleetsim_engine::template::{MapVars, NoLookups, Templar, VarSource};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (vars, template) = text.split_once('\0').unwrap_or(("", text));
    let vars = fleetsim_engine::yaml::load(vars, Path::new("vars.yml"))
        .map(|n| n.to_value())
        .unwrap_or_default();
    let vars: Arc<dyn VarSource> = Arc::new(MapVars::new(vars));
    let templar = Templar::new(7, Arc::new(NoLookups));
    let _ = templar.render_str(template, &vars);
    let _ = templar.render_template_text(template, &vars);
    let _ = templar.eval_conditional(template, &vars);
});
