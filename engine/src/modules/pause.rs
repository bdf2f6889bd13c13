//! `pause`: waits on the virtual clock (`seconds`/`minutes`); a prompt without a time would
//! wait for a keypress, which a simulation answers at once.

use serde_json::{json, Value};

use super::{Args, Module, ModuleCtx, ModuleResult};

pub struct Pause;

fn number(v: Option<&Value>) -> Result<Option<f64>, String> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => Ok(n.as_f64()),
        Some(Value::String(s)) => s
            .trim()
            .parse::<f64>()
            .map(Some)
            .map_err(|_| format!("non-integer value given for prompt duration:\n{s}")),
        Some(other) => Err(format!("non-integer value given for prompt duration:\n{other}")),
    }
}

impl Module for Pause {
    fn run(&self, ctx: &mut ModuleCtx<'_>, args: &Args) -> ModuleResult {
        let seconds = match (number(args.get("seconds")), number(args.get("minutes"))) {
            (Ok(s), Ok(m)) => s.or(m.map(|m| m * 60.0)),
            (Err(e), _) | (_, Err(e)) => return super::action_fail(&e),
        };
        let start = ctx.world.clock.now();
        let mut r = super::ok(false);
        match seconds {
            Some(secs) => {
                let shown = if args.get("minutes").is_some() && args.get("seconds").is_none() {
                    format!("Pausing for {} seconds", (secs).round() as i64)
                } else {
                    format!("Pausing for {} seconds", secs.trunc() as i64)
                };
                ctx.display.push(shown);
                ctx.display
                    .push("(ctrl+C then 'C' = continue early, ctrl+C then 'A' = abort)".into());
                ctx.world.clock.advance(secs);
                r.insert("echo".into(), json!(true));
                r.insert("user_input".into(), json!(""));
            }
            None => {
                let prompt = args
                    .get("prompt")
                    .map(crate::playbook::scalar_text)
                    .unwrap_or_else(|| "Press enter to continue, Ctrl+C to interrupt".into());
                ctx.display.push(format!("[{}]\n{prompt}:", ctx.task.display_name()));
                r.insert("echo".into(), json!(true));
                r.insert("user_input".into(), json!(""));
            }
        }
        let stop = ctx.world.clock.now();
        r.insert("start".into(), json!(fmt_time(start)));
        r.insert("stop".into(), json!(fmt_time(stop)));
        r.insert("delta".into(), json!((stop - start).round() as i64));
        r.insert("stdout".into(), json!(format!("Paused for {} seconds", trim_float((stop - start) ))));
        r
    }
}

fn trim_float(f: f64) -> String {
    crate::output::pyjson::float_repr((f * 100.0).round() / 100.0)
}

fn fmt_time(t: f64) -> String {
    let c = fleetsim_sim::clock::Civil::from_epoch(t);
    c.format("%Y-%m-%d %H:%M:%S.%f", t)
}
