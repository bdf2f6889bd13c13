//! `debug`: print `msg` (already templated) or the value of `var`, with Ansible's result
//! shape (`_ansible_verbose_always` so the callback prints it indented), skipped when its
//! `verbosity` is above the run's `-v` count.

use serde_json::{json, Value};

use super::spec::{opt, spec, Kind, ModuleName, Spec};
use super::{Args, Module, ModuleCtx, ModuleResult};

/// The debug action's own argument spec (ansible-core's `validate_argument_spec` call).
const SPEC: Spec = spec(
    ModuleName::AsWritten,
    &[
        opt("msg", Kind::Raw),
        opt("var", Kind::Str),
        opt("verbosity", Kind::Int),
    ],
)
.mutually_exclusive(&[&["msg", "var"]]);

pub struct Debug;

impl Module for Debug {
    fn connects(&self) -> bool {
        false
    }

    fn run(&self, ctx: &mut ModuleCtx<'_>, args: &Args) -> ModuleResult {
        // The action types `var` with `_check_type_str_no_conversion`: an expression is
        // text, and anything else (a mapping, a number) is refused rather than converted.
        if let Some(var) = args.get("var").filter(|v| !v.is_string() && !v.is_null()) {
            let mut r = super::fail(&format!(
                "argument 'var' is of type {} and we were unable to convert to _check_type_str_no_conversion: '{}' is not a string and conversion is not allowed",
                crate::template::json_type_name(var),
                crate::template::pyrepr::json_repr(var)
            ));
            r.insert("_ansible_raised".into(), json!(true));
            return r;
        }
        let args = match super::validated(ctx, &SPEC, args) {
            Ok(a) => a,
            // The action raises: the headline is `Task failed: MESSAGE`, not a module's.
            Err(mut r) => {
                r.insert("_ansible_raised".into(), json!(true));
                return r;
            }
        };
        let mut r = super::ok(false);
        let verbosity = args.get("verbosity").and_then(Value::as_i64).unwrap_or(0);
        if verbosity > i64::from(ctx.verbosity) {
            r.insert(
                "skipped_reason".into(),
                json!("Verbosity threshold not met."),
            );
            r.insert("skipped".into(), json!(true));
            r.insert("failed".into(), json!(false));
            return r;
        }
        if let Some(var) = args.get("var") {
            let name = crate::playbook::scalar_text(var);
            let evaluated = if crate::template::is_untrusted_text(&name) {
                Err(crate::template::TemplateError::new(
                    crate::template::TemplateErrorKind::Runtime,
                    crate::template::UNTRUSTED_MESSAGE,
                ))
            } else {
                ctx.templar.eval_expression(&name, &ctx.vars)
            };
            let value = match evaluated {
                // An omitted value cannot be left out of the result: the action shows Omit's
                // repr and warns.
                Ok(v) if crate::template::is_omit(&v) => {
                    r.insert(
                        "warnings".into(),
                        json!(["The result of the `var` expression could not be omitted; a placeholder was used instead."]),
                    );
                    json!("<<Omit>>")
                }
                Ok(v) => v,
                // An undefined value shows as its marker; any other error (a filter that
                // raised) fails the action.
                // The action also warns about it (`ReplacingMarkerBehavior.emit_warnings`),
                // which the result keeps in `warnings`.
                Err(e) if matches!(e.kind(), crate::template::TemplateErrorKind::Undefined) => {
                    r.insert(
                        "warnings".into(),
                        json!([format!(
                            "Encountered 1 template error.\nerror 1 - {}",
                            e.message()
                        )]),
                    );
                    json!(format!("<< error 1 - {} >>", e.message()))
                }
                // The action raises an AnsibleError (not AnsibleActionFail): the task's
                // result is the executor's, `Task failed: ...` its msg.
                Err(e) => {
                    let mut r = super::fail(&format!(
                        "Error while resolving `var` expression: {}",
                        e.message()
                    ));
                    r.insert("_ansible_raised".into(), json!(super::RAISED_ERROR));
                    return r;
                }
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
