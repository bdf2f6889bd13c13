//! `pause`: waits on the virtual clock (`seconds`/`minutes`, at least one second); a pause
//! without a time would wait for a keypress, which a non-interactive run answers at once
//! with Ansible's warning. Output and result fields follow ansible-core's action plugin.

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
        Some(other) => Err(format!(
            "non-integer value given for prompt duration:\n{other}"
        )),
    }
}

fn fmt_time(t: f64) -> String {
    let c = fleetsim_sim::clock::Civil::from_epoch(t);
    c.format("%Y-%m-%d %H:%M:%S.%f", t)
}

impl Module for Pause {
    fn connects(&self) -> bool {
        false
    }

    fn run(&self, ctx: &mut ModuleCtx<'_>, args: &Args) -> ModuleResult {
        let (minutes, seconds) = match (number(args.get("minutes")), number(args.get("seconds"))) {
            (Ok(m), Ok(s)) => (m, s),
            (Err(e), _) | (_, Err(e)) => return super::action_fail(&e),
        };
        let echo = super::arg_bool(args, "echo", true).unwrap_or(true);
        let echo_note = if echo { "" } else { " (output is hidden)" };
        let prompt = args.get("prompt").filter(|p| !p.is_null());
        let (wait, unit) = match (minutes, seconds) {
            (Some(m), _) => (Some(m * 60.0), "minutes"),
            (None, Some(s)) => (Some(s), "seconds"),
            (None, None) => (None, "seconds"),
        };
        let start = ctx.world.clock.now();
        match wait {
            Some(secs) => {
                let secs = secs.max(1.0);
                ctx.display.push(format!(
                    "Pausing for {} seconds{echo_note}",
                    secs.trunc() as i64
                ));
                if prompt.is_some() {
                    ctx.display.push(
                        "(ctrl+C then 'C' = continue early, ctrl+C then 'A' = abort)\r".into(),
                    );
                }
                ctx.world.clock.advance(secs);
            }
            None => {
                // stdin is not a terminal in a simulation: Ansible does not wait then.
                ctx.display.push(
                    "[WARNING]: Not waiting for response to prompt as stdin is not interactive"
                        .into(),
                );
            }
        }
        let stop = ctx.world.clock.now();
        let duration = stop - start;
        let shown = if unit == "minutes" {
            duration / 60.0
        } else {
            duration
        };
        let shown = (shown * 100.0).round() / 100.0;
        let mut r = super::ok(false);
        r.insert("rc".into(), json!(0));
        r.insert("stderr".into(), json!(""));
        r.insert("start".into(), json!(fmt_time(start)));
        r.insert("stop".into(), json!(fmt_time(stop)));
        r.insert("delta".into(), json!(duration as i64));
        r.insert("echo".into(), json!(echo && wait.is_none()));
        r.insert(
            "stdout".into(),
            json!(format!(
                "Paused for {} {unit}",
                crate::template::pyrepr::float_repr(shown)
            )),
        );
        r.insert("user_input".into(), json!(""));
        r
    }
}
