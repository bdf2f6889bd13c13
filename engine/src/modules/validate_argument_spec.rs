//! `validate_argument_spec`: checks values against an argument spec given as data (a role's
//! `meta/argument_specs.yml` entry point, or the task's own `argument_spec`), as
//! ansible-core's action plugin and its `ArgumentSpecValidator` do: the spec's names taken
//! from the task's variables, overridden by `provided_arguments`; then aliases, unknown
//! names, mutual exclusion, required ones, types and elements, choices, the `required_*`
//! checks and sub-options, every error collected in Ansible's order and wording.

use serde_json::{json, Map, Value};

use super::spec::{convert, Kind};
use super::{Args, Module, ModuleCtx, ModuleResult};

pub struct ValidateArgumentSpec;

impl Module for ValidateArgumentSpec {
    fn connects(&self) -> bool {
        false
    }

    fn run(&self, ctx: &mut ModuleCtx<'_>, args: &Args) -> ModuleResult {
        let context = args
            .get("validate_args_context")
            .cloned()
            .unwrap_or_else(|| json!({}));
        let Some(spec) = args.get("argument_spec") else {
            return raised(&format!(
                "\"argument_spec\" arg is required in args: {}",
                crate::template::pyrepr::json_repr(&Value::Object(args.clone()))
            ));
        };
        let Value::Object(spec) = spec else {
            return raised(&format!(
                "Incorrect type for argument_spec, expected dict and got <class '{}'>",
                super::py_type(spec)
            ));
        };
        let provided = match args.get("provided_arguments") {
            None => Map::new(),
            Some(Value::Object(m)) => m.clone(),
            Some(other) => {
                return raised(&format!(
                    "Incorrect type for provided_arguments, expected dict and got <class '{}'>",
                    super::py_type(other)
                ))
            }
        };
        if let Some(refusal) = unsupported_spec(spec) {
            return super::action_fail(&refusal);
        }
        // `get_args_from_task_vars`: the spec's names that are variables, templated.
        let mut params = Map::new();
        for name in spec.keys() {
            let Some(raw) = ctx.vars.get(name) else {
                continue;
            };
            let value = if ctx.vars.is_trusted(name) {
                match ctx.templar.render(&raw, &ctx.vars) {
                    Ok(v) => v,
                    Err(e) => return super::action_fail(e.message()),
                }
            } else {
                raw
            };
            params.insert(name.clone(), value);
        }
        params.extend(provided);
        let errors = validate(spec, params);
        let mut r = super::ok(false);
        r.insert("validate_args_context".into(), context);
        if errors.is_empty() {
            r.insert("msg".into(), json!("The arg spec validation passed"));
            return r;
        }
        r.insert("failed".into(), json!(true));
        r.insert(
            "msg".into(),
            json!(format!(
                "Validation of arguments failed:\n{}",
                errors.join("\n")
            )),
        );
        r.insert("argument_spec_data".into(), Value::Object(spec.clone()));
        r.insert("argument_errors".into(), json!(errors));
        r.insert("_ansible_action_failed".into(), json!(true));
        r
    }
}

/// An AnsibleError the action raises (not a validation failure).
fn raised(msg: &str) -> ModuleResult {
    let mut r = super::fail(msg);
    r.insert("_ansible_raised".into(), json!(super::RAISED_ERROR));
    r
}

/// Spec features fleetsim does not check: naming them is better than passing values that
/// Ansible would refuse.
fn unsupported_spec(spec: &Map<String, Value>) -> Option<String> {
    const KNOWN: &[&str] = &[
        "type",
        "required",
        "default",
        "choices",
        "elements",
        "options",
        "aliases",
        "description",
        "no_log",
        "version_added",
        "apply_defaults",
        "mutually_exclusive",
        "required_together",
        "required_one_of",
        "required_if",
        "required_by",
    ];
    for (name, option) in spec {
        let Value::Object(option) = option else {
            continue;
        };
        for key in option.keys() {
            if !KNOWN.contains(&key.as_str()) {
                return Some(format!(
                    "fleetsim does not check the argument spec key '{key}' (option '{name}')"
                ));
            }
        }
        for key in ["type", "elements"] {
            if let Some(t) = option.get(key).and_then(Value::as_str) {
                if Kind::from_name(t).is_none() {
                    return Some(format!(
                        "fleetsim does not check the argument spec type '{t}' (option '{name}')"
                    ));
                }
            }
        }
        if let Some(Value::Object(sub)) = option.get("options") {
            if let Some(r) = unsupported_spec(sub) {
                return Some(r);
            }
        }
    }
    None
}

/// An unsupported name: at the top level its name, in sub-options the path to it.
type Unsupported = (Vec<String>, Vec<String>);

/// `ArgumentSpecValidator.validate`: every error message, in Ansible's order.
pub fn validate(spec: &Map<String, Value>, mut params: Map<String, Value>) -> Vec<String> {
    let mut errors = Vec::new();
    let mut unsupported: Vec<Unsupported> = Vec::new();
    check_level(spec, None, &mut params, &[], &mut errors, &mut unsupported);
    sub_specs(spec, &mut params, &[], &mut errors, &mut unsupported);
    if !unsupported.is_empty() {
        let mut names: Vec<String> = unsupported.iter().map(|(p, _)| p.join(".")).collect();
        names.sort();
        // Python reports the options supported where the last unsupported name (in its set's
        // order) was found; with one unsupported name that is where it was found.
        let supported = unsupported
            .iter()
            .max_by(|a, b| a.0.cmp(&b.0))
            .map(|(_, s)| s.join(", "))
            .unwrap_or_default();
        errors.push(format!(
            "{}. Supported parameters include: {supported}.",
            names.join(", ")
        ));
    }
    errors
}

fn option<'a>(spec: &'a Map<String, Value>, name: &str) -> &'a Map<String, Value> {
    static EMPTY: std::sync::OnceLock<Map<String, Value>> = std::sync::OnceLock::new();
    spec.get(name)
        .and_then(Value::as_object)
        .unwrap_or_else(|| EMPTY.get_or_init(Map::new))
}

fn strings(v: Option<&Value>) -> Vec<String> {
    match v {
        Some(Value::Array(a)) => a.iter().map(crate::playbook::scalar_text).collect(),
        Some(Value::String(s)) => vec![s.clone()],
        _ => Vec::new(),
    }
}

/// " found in a -> b" after a message from a sub-option.
fn found_in(msg: String, context: &[String]) -> String {
    if context.is_empty() {
        msg
    } else {
        format!("{msg} found in {}", context.join(" -> "))
    }
}

/// The checks of one level (the top, or one dict of sub-options): aliases, unknown names,
/// mutual exclusion, defaults that are set, required names, types, choices, the `required_*`
/// rules of the option that holds this level, then every default.
fn check_level(
    spec: &Map<String, Value>,
    holder: Option<&Map<String, Value>>,
    params: &mut Map<String, Value>,
    context: &[String],
    errors: &mut Vec<String>,
    unsupported: &mut Vec<Unsupported>,
) {
    // Aliases: an alias's value is the option's.
    let mut legal: Vec<String> = Vec::new();
    let mut aliases: Vec<String> = Vec::new();
    for (name, _) in spec {
        legal.push(name.clone());
        for alias in strings(option(spec, name).get("aliases")) {
            if let Some(v) = params.get(&alias).cloned() {
                params.insert(name.clone(), v);
            }
            aliases.push(alias.clone());
            legal.push(alias);
        }
    }
    let mut supported: Vec<String> = spec.keys().cloned().collect();
    supported.sort();
    aliases.sort();
    let mut supported_text = supported;
    if !aliases.is_empty() {
        let last = supported_text.len().saturating_sub(1);
        if let Some(l) = supported_text.get_mut(last) {
            l.push_str(&format!(" ({})", aliases.join(", ")));
        }
    }
    for key in params.keys() {
        if !legal.contains(key) {
            let mut path = context.to_vec();
            path.push(key.clone());
            unsupported.push((path, supported_text.clone()));
        }
    }
    if let Some(holder) = holder {
        if let Some(m) = mutually_exclusive(holder.get("mutually_exclusive"), params) {
            errors.push(found_in(m, context));
        }
    }
    // Defaults other than None first, so that a required option with one is present.
    for (name, _) in spec {
        let default = option(spec, name).get("default").cloned();
        if let Some(d) = default.filter(|d| !d.is_null()) {
            params.entry(name.clone()).or_insert(d);
        }
    }
    let mut missing: Vec<&String> = spec
        .keys()
        .filter(|n| {
            option(spec, n).get("required").and_then(super::to_bool) == Some(true)
                && !params.contains_key(*n)
        })
        .collect();
    missing.sort();
    if !missing.is_empty() {
        let names: Vec<&str> = missing.iter().map(|s| s.as_str()).collect();
        errors.push(found_in(
            format!("missing required arguments: {}", names.join(", ")),
            context,
        ));
    }
    check_types(spec, params, context, errors);
    check_values(spec, params, context, errors);
    if let Some(holder) = holder {
        additional_checks(holder, params, context, errors);
    }
    for (name, _) in spec {
        let default = option(spec, name).get("default").cloned();
        params
            .entry(name.clone())
            .or_insert(default.unwrap_or(Value::Null));
    }
}

fn mutually_exclusive(groups: Option<&Value>, params: &Map<String, Value>) -> Option<String> {
    let Some(Value::Array(groups)) = groups else {
        return None;
    };
    let hits: Vec<String> = groups
        .iter()
        .map(|g| strings(Some(g)))
        .filter(|g| g.iter().filter(|k| params.contains_key(*k)).count() > 1)
        .map(|g| g.join("|"))
        .collect();
    (!hits.is_empty()).then(|| format!("parameters are mutually exclusive: {}", hits.join(", ")))
}

/// required_together, required_one_of, required_if and required_by of a sub-options level.
fn additional_checks(
    holder: &Map<String, Value>,
    params: &Map<String, Value>,
    context: &[String],
    errors: &mut Vec<String>,
) {
    let present = |k: &String| params.get(k).is_some_and(|v| !v.is_null());
    if let Some(Value::Array(groups)) = holder.get("required_together") {
        for g in groups.iter().map(|g| strings(Some(g))) {
            let n = g.iter().filter(|k| present(k)).count();
            if n > 0 && n < g.len() {
                errors.push(found_in(
                    format!("parameters are required together: {}", g.join(", ")),
                    context,
                ));
                break;
            }
        }
    }
    if let Some(Value::Array(groups)) = holder.get("required_one_of") {
        for g in groups.iter().map(|g| strings(Some(g))) {
            if !g.iter().any(present) {
                errors.push(found_in(
                    format!("one of the following is required: {}", g.join(", ")),
                    context,
                ));
                break;
            }
        }
    }
    if let Some(Value::Array(rules)) = holder.get("required_if") {
        for rule in rules.iter().filter_map(Value::as_array) {
            let (Some(key), Some(value), Some(needed)) = (rule.first(), rule.get(1), rule.get(2))
            else {
                continue;
            };
            let key = crate::playbook::scalar_text(key);
            let any = rule.get(3).and_then(super::to_bool).unwrap_or(false);
            if params.get(&key) != Some(value) {
                continue;
            }
            let needed = strings(Some(needed));
            let missing: Vec<&String> = needed.iter().filter(|k| !present(k)).collect();
            if (any && missing.len() == needed.len()) || (!any && !missing.is_empty()) {
                let names: Vec<&str> = missing.iter().map(|s| s.as_str()).collect();
                errors.push(found_in(
                    format!(
                        "{key} is {} but {} of the following are missing: {}",
                        crate::playbook::scalar_text(value),
                        if any { "any" } else { "all" },
                        names.join(", ")
                    ),
                    context,
                ));
                break;
            }
        }
    }
    if let Some(Value::Object(rules)) = holder.get("required_by") {
        for (key, needed) in rules {
            if !present(key) {
                continue;
            }
            let missing: Vec<String> = strings(Some(needed))
                .into_iter()
                .filter(|k| !present(k))
                .collect();
            if !missing.is_empty() {
                errors.push(found_in(
                    format!(
                        "missing parameter(s) required by '{key}': {}",
                        missing.join(", ")
                    ),
                    context,
                ));
                break;
            }
        }
    }
}

fn check_types(
    spec: &Map<String, Value>,
    params: &mut Map<String, Value>,
    context: &[String],
    errors: &mut Vec<String>,
) {
    for (name, _) in spec {
        let opt = option(spec, name);
        let Some(value) = params.get(name).cloned() else {
            continue;
        };
        let required = opt.get("required").and_then(super::to_bool) == Some(true);
        let default_none = opt.get("default").is_none_or(Value::is_null);
        if value.is_null() && !required && default_none {
            continue;
        }
        let wanted = opt.get("type").and_then(Value::as_str).unwrap_or("str");
        let kind = Kind::from_name(wanted).unwrap_or(Kind::Raw);
        match convert(&value, kind) {
            Ok(converted) => {
                let Some(elements) = opt.get("elements").and_then(Value::as_str) else {
                    params.insert(name.clone(), converted);
                    continue;
                };
                let Value::Array(items) = &converted else {
                    let mut msg = format!(
                        "Invalid type {wanted} for option '{}'",
                        crate::template::pyrepr::json_repr(&converted)
                    );
                    if !context.is_empty() {
                        msg.push_str(&format!(" found in '{}'.", context.join(" -> ")));
                    }
                    msg.push_str(", elements value check is supported only with 'list' type");
                    errors.push(msg);
                    continue;
                };
                let element_kind = Kind::from_name(elements).unwrap_or(Kind::Raw);
                let mut out = Vec::new();
                for item in items {
                    match convert(item, element_kind) {
                        Ok(v) => out.push(v),
                        Err(e) => {
                            let mut msg = format!("Elements value for option '{name}'");
                            if !context.is_empty() {
                                msg.push_str(&format!(" found in '{}'", context.join(" -> ")));
                            }
                            msg.push_str(&format!(
                                " is of type {} and we were unable to convert to {elements}: {e}",
                                super::py_type(item)
                            ));
                            errors.push(msg);
                        }
                    }
                }
                params.insert(name.clone(), Value::Array(out));
            }
            Err(e) => {
                let mut msg = format!("argument '{name}' is of type {}", super::py_type(&value));
                if !context.is_empty() {
                    msg.push_str(&format!(" found in '{}'.", context.join(" -> ")));
                }
                msg.push_str(&format!(" and we were unable to convert to {wanted}: {e}"));
                errors.push(msg);
            }
        }
    }
}

fn check_values(
    spec: &Map<String, Value>,
    params: &mut Map<String, Value>,
    context: &[String],
    errors: &mut Vec<String>,
) {
    for (name, _) in spec {
        let Some(Value::Array(choices)) = option(spec, name).get("choices") else {
            continue;
        };
        let Some(value) = params.get(name).cloned() else {
            continue;
        };
        let text = |v: &Value| crate::playbook::scalar_text(v);
        let choices_text: Vec<String> = choices.iter().map(text).collect();
        if let Value::Array(items) = &value {
            let off: Vec<String> = items
                .iter()
                .filter(|i| !choices.contains(i))
                .map(text)
                .collect();
            if !off.is_empty() {
                errors.push(found_in(
                    format!(
                        "value of {name} must be one or more of: {}. Got no match for: {}",
                        choices_text.join(", "),
                        off.join(", ")
                    ),
                    context,
                ));
            }
        } else if !choices.contains(&value) {
            errors.push(found_in(
                format!(
                    "value of {name} must be one of: {}, got: {}",
                    choices_text.join(", "),
                    text(&value)
                ),
                context,
            ));
        }
    }
}

/// `_validate_sub_spec`: the options of dict options (and of lists of dicts), each level
/// checked as the top is, then its own sub-options.
fn sub_specs(
    spec: &Map<String, Value>,
    params: &mut Map<String, Value>,
    context: &[String],
    errors: &mut Vec<String>,
    unsupported: &mut Vec<Unsupported>,
) {
    for (name, _) in spec {
        let opt = option(spec, name);
        let wanted = opt.get("type").and_then(Value::as_str).unwrap_or("");
        let elements = opt.get("elements").and_then(Value::as_str).unwrap_or("");
        if !(wanted == "dict" || (wanted == "list" && elements == "dict")) {
            continue;
        }
        let sub = opt.get("options").and_then(Value::as_object);
        let apply_defaults = opt.get("apply_defaults").and_then(super::to_bool) == Some(true);
        let Some(sub) = sub else {
            continue;
        };
        if apply_defaults {
            if params.get(name).is_none_or(Value::is_null) {
                params.insert(name.clone(), json!({}));
            }
        } else if params.get(name).is_none_or(Value::is_null) {
            continue;
        }
        let mut inner = context.to_vec();
        inner.push(name.clone());
        let value = params.get(name).cloned().unwrap_or(Value::Null);
        let (mut elements_list, is_list) = match value {
            Value::Array(a) => (a, true),
            other => (vec![other], false),
        };
        for element in elements_list.iter_mut() {
            let Value::Object(sub_params) = element else {
                errors.push(format!(
                    "value of '{name}' must be of type dict or list of dicts"
                ));
                continue;
            };
            check_level(sub, Some(opt), sub_params, &inner, errors, unsupported);
            sub_specs(sub, sub_params, &inner, errors, unsupported);
        }
        let value = if is_list {
            Value::Array(elements_list)
        } else {
            elements_list.pop().unwrap_or(Value::Null)
        };
        params.insert(name.clone(), value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn a_valid_set_passes_after_conversion() {
        let s = spec(json!({"port": {"type": "int", "required": true},
                            "mode": {"choices": ["blue", "green"], "default": "blue"}}));
        let p = spec(json!({"port": "8080"}));
        assert!(validate(&s, p).is_empty());
    }

    #[test]
    fn errors_come_in_ansibles_order_and_wording() {
        let s = spec(json!({
            "web_port": {"type": "int", "required": true},
            "web_mode": {"type": "str", "choices": ["blue", "green"], "default": "blue"},
            "web_tags": {"type": "list", "elements": "str"},
            "web_opts": {"type": "dict", "options": {"workers": {"type": "int", "default": 2}}}
        }));
        let p = spec(
            json!({"web_port": "abc", "web_mode": "red", "web_tags": [1, 2],
                            "web_opts": {"workers": "x", "bogus": 1}}),
        );
        assert_eq!(
            validate(&s, p),
            vec![
                "argument 'web_port' is of type str and we were unable to convert to int: \"'abc'\" cannot be converted to an int",
                "value of web_mode must be one of: blue, green, got: red",
                "argument 'workers' is of type str found in 'web_opts'. and we were unable to convert to int: \"'x'\" cannot be converted to an int",
                "web_opts.bogus. Supported parameters include: workers.",
            ]
        );
    }

    #[test]
    fn a_missing_required_option_is_named() {
        let s = spec(json!({"b": {"required": true}, "a": {"required": true}}));
        assert_eq!(
            validate(&s, Map::new()),
            vec!["missing required arguments: a, b"]
        );
    }

    #[test]
    fn unknown_spec_keys_are_refused_by_name() {
        let s = spec(json!({"a": {"type": "bits"}}));
        assert!(unsupported_spec(&s).unwrap().contains("'bits'"));
        let s = spec(json!({"a": {"fallback": ["env_fallback", ["X"]]}}));
        assert!(unsupported_spec(&s).unwrap().contains("'fallback'"));
    }
}
