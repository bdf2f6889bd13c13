//! Argument specs: what options a module takes, checked as ansible-core's
//! `ArgumentSpecValidator` checks them (aliases, mutually exclusive options, required ones,
//! types, choices, `required_one_of`/`required_together`/`required_if`, then unknown
//! options), with its messages, so a module sees its options under their own names and
//! already converted.

use serde_json::{json, Map, Value};

use super::{Args, ModuleResult};

/// The type an option is converted to (`type=` in a module's `argument_spec`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Str,
    Bool,
    Int,
    Float,
    /// A string with `~` expanded, as `type='path'`.
    Path,
    /// A list; a string is split on commas.
    List,
    Dict,
    /// Taken as given.
    Raw,
}

impl Kind {
    /// The kind a spec names by `type:` (`None` for types fleetsim does not convert:
    /// bits, bytes, json, jsonarg, sid).
    pub fn from_name(name: &str) -> Option<Kind> {
        Some(match name {
            "str" => Kind::Str,
            "bool" => Kind::Bool,
            "int" => Kind::Int,
            "float" => Kind::Float,
            "path" => Kind::Path,
            "list" => Kind::List,
            "dict" => Kind::Dict,
            "raw" => Kind::Raw,
            _ => return None,
        })
    }

    fn name(self) -> &'static str {
        match self {
            Kind::Str => "str",
            Kind::Bool => "bool",
            Kind::Int => "int",
            Kind::Float => "float",
            Kind::Path => "path",
            Kind::List => "list",
            Kind::Dict => "dict",
            Kind::Raw => "raw",
        }
    }
}

/// One option of a module.
#[derive(Clone, Copy, Debug)]
pub struct Opt {
    pub name: &'static str,
    pub aliases: &'static [&'static str],
    pub kind: Kind,
    pub required: bool,
    pub choices: &'static [&'static str],
    /// An option ansible-core takes that fleetsim cannot honour: giving it is an error that
    /// names it, never silently ignored.
    pub refused: bool,
}

/// An option of type `kind`.
pub const fn opt(name: &'static str, kind: Kind) -> Opt {
    Opt {
        name,
        aliases: &[],
        kind,
        required: false,
        choices: &[],
        refused: false,
    }
}

impl Opt {
    pub const fn aliases(mut self, aliases: &'static [&'static str]) -> Opt {
        self.aliases = aliases;
        self
    }
    pub const fn required(mut self) -> Opt {
        self.required = true;
        self
    }
    pub const fn choices(mut self, choices: &'static [&'static str]) -> Opt {
        self.choices = choices;
        self
    }
    pub const fn refused(mut self) -> Opt {
        self.refused = true;
        self
    }
}

/// The options every file-writing module takes (`add_file_common_args=True`). SELinux
/// contexts are ignored as on a host without SELinux; `attributes` (chattr) is not simulated.
pub const FILE_COMMON: &[Opt] = &[
    opt("attributes", Kind::Str).aliases(&["attr"]).refused(),
    opt("group", Kind::Str),
    opt("mode", Kind::Raw),
    opt("owner", Kind::Str),
    opt("selevel", Kind::Str),
    opt("serole", Kind::Str),
    opt("setype", Kind::Str),
    opt("seuser", Kind::Str),
    opt("unsafe_writes", Kind::Bool),
];

/// How a module names itself in "Unsupported parameters for (NAME) module".
#[derive(Clone, Copy, Debug)]
pub enum ModuleName {
    /// The action as the task wrote it (`file`, `ansible.builtin.file`).
    AsWritten,
    /// A fixed name: modules run through an action plugin call `ansible.legacy.NAME`.
    Fixed(&'static str),
}

/// A module's argument spec.
#[derive(Clone, Copy, Debug)]
pub struct Spec {
    pub name: ModuleName,
    pub opts: &'static [Opt],
    /// Adds [`FILE_COMMON`].
    pub file_common: bool,
    pub mutually_exclusive: &'static [&'static [&'static str]],
    pub required_together: &'static [&'static [&'static str]],
    pub required_one_of: &'static [&'static [&'static str]],
    /// `(option, value, options required then, whether any one of them is enough)`.
    pub required_if: &'static [(&'static str, &'static str, &'static [&'static str], bool)],
}

/// A spec with only options.
pub const fn spec(name: ModuleName, opts: &'static [Opt]) -> Spec {
    Spec {
        name,
        opts,
        file_common: false,
        mutually_exclusive: &[],
        required_together: &[],
        required_one_of: &[],
        required_if: &[],
    }
}

impl Spec {
    pub const fn file_common(mut self) -> Spec {
        self.file_common = true;
        self
    }
    pub const fn mutually_exclusive(mut self, groups: &'static [&'static [&'static str]]) -> Spec {
        self.mutually_exclusive = groups;
        self
    }
    pub const fn required_together(mut self, groups: &'static [&'static [&'static str]]) -> Spec {
        self.required_together = groups;
        self
    }
    pub const fn required_one_of(mut self, groups: &'static [&'static [&'static str]]) -> Spec {
        self.required_one_of = groups;
        self
    }
    pub const fn required_if(
        mut self,
        rules: &'static [(&'static str, &'static str, &'static [&'static str], bool)],
    ) -> Spec {
        self.required_if = rules;
        self
    }

    fn all_opts(&self) -> impl Iterator<Item = &'static Opt> {
        let common: &'static [Opt] = if self.file_common { FILE_COMMON } else { &[] };
        self.opts.iter().chain(common.iter())
    }

    /// Checks `args` as ansible-core does before the module runs: on success the options
    /// under their canonical names (aliases folded in), converted to their types; on failure
    /// the module's failed result with ansible-core's message (the first error it finds).
    pub fn validate(&self, action_written: &str, args: &Args) -> Result<Args, ModuleResult> {
        let mut params = args.clone();
        // Aliases: the alias's value is copied to the option (it wins over the option).
        for o in self.all_opts() {
            for alias in o.aliases {
                if let Some(v) = args.get(*alias) {
                    params.insert(o.name.to_string(), v.clone());
                }
            }
        }
        let mut errors: Vec<String> = Vec::new();
        let legal = |k: &str| {
            self.all_opts()
                .any(|o| o.name == k || o.aliases.contains(&k))
        };
        let mut unsupported: Vec<&str> = args
            .keys()
            .map(String::as_str)
            .filter(|k| !legal(k))
            .collect();
        unsupported.sort_unstable();
        let given: std::collections::BTreeSet<String> = params.keys().cloned().collect();
        let present = |k: &str| given.contains(k);
        let mut exclusive = Vec::new();
        for group in self.mutually_exclusive {
            if group.iter().filter(|k| present(k)).count() > 1 {
                exclusive.push(group.join("|"));
            }
        }
        if !exclusive.is_empty() {
            errors.push(format!(
                "parameters are mutually exclusive: {}",
                exclusive.join(", ")
            ));
        }
        let mut missing: Vec<&str> = self
            .all_opts()
            .filter(|o| o.required && !present(o.name))
            .map(|o| o.name)
            .collect();
        missing.sort_unstable();
        if !missing.is_empty() {
            errors.push(format!(
                "missing required arguments: {}",
                missing.join(", ")
            ));
        }
        for o in self.all_opts() {
            let Some(v) = params.get(o.name) else {
                continue;
            };
            if v.is_null() && !o.required {
                continue;
            }
            match convert(v, o.kind) {
                Ok(c) => {
                    params.insert(o.name.to_string(), c);
                }
                Err(e) => errors.push(format!(
                    "argument '{}' is of type {} and we were unable to convert to {}: {e}",
                    o.name,
                    super::py_type(v),
                    o.kind.name()
                )),
            }
        }
        for o in self.all_opts().filter(|o| !o.choices.is_empty()) {
            let Some(v) = params.get(o.name) else {
                continue;
            };
            if v.is_null() {
                continue;
            }
            let text = crate::playbook::scalar_text(v);
            if !o.choices.contains(&text.as_str()) {
                errors.push(format!(
                    "value of {} must be one of: {}, got: {text}",
                    o.name,
                    o.choices.join(", ")
                ));
            }
        }
        for group in self.required_together {
            let n = group.iter().filter(|k| present(k)).count();
            if n > 0 && n < group.len() {
                errors.push(format!(
                    "parameters are required together: {}",
                    group.join(", ")
                ));
                break;
            }
        }
        for group in self.required_one_of {
            if !group.iter().any(|k| present(k)) {
                errors.push(format!(
                    "one of the following is required: {}",
                    group.join(", ")
                ));
                break;
            }
        }
        for (key, value, needed, any) in self.required_if {
            let matches = params
                .get(*key)
                .map(|v| crate::playbook::scalar_text(v) == *value)
                .unwrap_or(false);
            if !matches {
                continue;
            }
            let missing: Vec<&str> = needed.iter().copied().filter(|k| !present(k)).collect();
            if (*any && missing.len() == needed.len()) || (!*any && !missing.is_empty()) {
                errors.push(format!(
                    "{key} is {value} but {} of the following are missing: {}",
                    if *any { "any" } else { "all" },
                    missing.join(", ")
                ));
                break;
            }
        }
        if let Some(first) = errors.first() {
            return Err(super::fail(first));
        }
        if !unsupported.is_empty() {
            let name = match self.name {
                ModuleName::AsWritten => action_written,
                ModuleName::Fixed(n) => n,
            };
            let mut names: Vec<&str> = self.all_opts().map(|o| o.name).collect();
            names.sort_unstable();
            let mut aliases: Vec<&str> = self
                .all_opts()
                .flat_map(|o| o.aliases.iter().copied())
                .collect();
            aliases.sort_unstable();
            let mut supported = names.join(", ");
            if !aliases.is_empty() {
                supported.push_str(&format!(" ({})", aliases.join(", ")));
            }
            return Err(super::fail(&format!(
                "Unsupported parameters for ({name}) module: {}. Supported parameters include: {supported}.",
                unsupported.join(", ")
            )));
        }
        for o in self.all_opts().filter(|o| o.refused) {
            if params.get(o.name).is_some_and(|v| !v.is_null()) {
                return Err(super::fail(&format!(
                    "fleetsim does not simulate the option '{}' of {}",
                    o.name,
                    match self.name {
                        ModuleName::AsWritten => action_written,
                        ModuleName::Fixed(n) => n,
                    }
                )));
            }
        }
        // Aliases are gone: the module reads each option by its own name.
        for o in self.all_opts() {
            for alias in o.aliases {
                params.remove(*alias);
            }
        }
        Ok(params)
    }
}

/// Converts a value to an option's type as ansible-core's `check_type_*` functions do; the
/// error is the text after "unable to convert to TYPE: ".
pub fn convert(v: &Value, kind: Kind) -> Result<Value, String> {
    match kind {
        Kind::Raw => Ok(v.clone()),
        Kind::Str => Ok(json!(str_of(v))),
        Kind::Path => {
            let s = str_of(v);
            // Modules run as root on the simulated hosts.
            let expanded = if s == "~" {
                "/root".to_string()
            } else if let Some(rest) = s.strip_prefix("~/") {
                format!("/root/{rest}")
            } else {
                s
            };
            Ok(json!(expanded))
        }
        Kind::Bool => match v {
            Value::Bool(_) => Ok(v.clone()),
            Value::String(_) | Value::Number(_) => super::to_bool(v).map(Value::Bool).ok_or_else(|| {
                format!(
                    "The value '{}' is not a valid boolean. Valid booleans include: 0, 'on', 'f', 'false', 1, 'no', 'n', '1', '0', 't', 'y', 'off', 'yes', 'true'",
                    crate::playbook::scalar_text(v)
                )
            }),
            other => Err(format!("<class '{}'> cannot be converted to a bool", super::py_type(other))),
        },
        Kind::Int => match v {
            Value::Number(n) if n.is_i64() || n.is_u64() => Ok(v.clone()),
            Value::Bool(b) => Ok(json!(*b as i64)),
            Value::Number(n) => match n.as_f64() {
                Some(f) if f.fract() == 0.0 => Ok(json!(f as i64)),
                _ => Err(format!("\"{n}\" cannot be converted to an int")),
            },
            Value::String(s) => {
                let t = s.trim();
                if let Ok(i) = t.parse::<i64>() {
                    Ok(json!(i))
                } else {
                    match t.parse::<f64>() {
                        Ok(f) if f.is_finite() && f.fract() == 0.0 => Ok(json!(f as i64)),
                        _ => Err(format!("\"'{s}'\" cannot be converted to an int")),
                    }
                }
            }
            other => Err(format!(
                "\"{}\" cannot be converted to an int",
                crate::template::pyrepr::json_repr(other)
            )),
        },
        Kind::Float => match v {
            Value::Number(n) => Ok(json!(n.as_f64().unwrap_or_default())),
            Value::String(s) => s
                .trim()
                .parse::<f64>()
                .map(|f| json!(f))
                .map_err(|_| "<class 'str'> cannot be converted to a float".to_string()),
            other => Err(format!(
                "<class '{}'> cannot be converted to a float",
                super::py_type(other)
            )),
        },
        Kind::List => match v {
            Value::Array(_) => Ok(v.clone()),
            Value::String(s) => Ok(json!(s.split(',').collect::<Vec<_>>())),
            Value::Number(_) | Value::Bool(_) => Ok(json!([str_of(v)])),
            other => Err(format!(
                "<class '{}'> cannot be converted to a list",
                super::py_type(other)
            )),
        },
        Kind::Dict => match v {
            Value::Object(_) => Ok(v.clone()),
            Value::String(s) if s.trim_start().starts_with('{') => {
                match serde_json::from_str::<Value>(s) {
                    Ok(d @ Value::Object(_)) => Ok(d),
                    _ => Err("unable to evaluate string as dictionary".into()),
                }
            }
            Value::String(s) => {
                let mut m = Map::new();
                for pair in s.split([',', ' ']).filter(|p| !p.is_empty()) {
                    let Some((k, val)) = pair.split_once('=') else {
                        return Err("dictionary requested, could not parse JSON or key=value".into());
                    };
                    m.insert(k.trim().to_string(), json!(val.trim()));
                }
                Ok(Value::Object(m))
            }
            other => Err(format!(
                "<class '{}'> cannot be converted to a dict",
                super::py_type(other)
            )),
        },
    }
}

/// `str(value)` as Python prints it (None is '' as ansible-core 2.19's `check_type_str`).
fn str_of(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        Value::Bool(b) => if *b { "True" } else { "False" }.into(),
        Value::Number(_) => crate::playbook::scalar_text(v),
        other => crate::template::pyrepr::json_repr(other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DEMO: Spec = spec(
        ModuleName::AsWritten,
        &[
            opt("path", Kind::Path)
                .aliases(&["dest", "name"])
                .required(),
            opt("state", Kind::Str).choices(&["absent", "present"]),
            opt("backup", Kind::Bool),
            opt("count", Kind::Int),
            opt("regexp", Kind::Str),
            opt("search_string", Kind::Str),
        ],
    )
    .mutually_exclusive(&[&["regexp", "search_string"]]);

    fn args(v: Value) -> Args {
        v.as_object().cloned().unwrap_or_default()
    }

    fn err(r: Result<Args, ModuleResult>) -> String {
        r.err()
            .and_then(|m| m.get("msg").cloned())
            .map(|m| m.to_string())
            .unwrap_or_default()
    }

    #[test]
    fn aliases_fold_into_the_option_and_types_convert() {
        let p = DEMO
            .validate(
                "demo",
                &args(json!({"dest": "~/x", "backup": "yes", "count": "3"})),
            )
            .unwrap();
        assert_eq!(p.get("path"), Some(&json!("/root/x")));
        assert_eq!(p.get("backup"), Some(&json!(true)));
        assert_eq!(p.get("count"), Some(&json!(3)));
        assert!(p.get("dest").is_none());
    }

    #[test]
    fn unknown_options_are_named_with_what_is_supported() {
        let e = err(DEMO.validate("demo", &args(json!({"path": "/x", "zz": 1, "aa": 2}))));
        assert_eq!(
            e,
            "\"Unsupported parameters for (demo) module: aa, zz. Supported parameters include: backup, count, path, regexp, search_string, state (dest, name).\""
        );
    }

    #[test]
    fn errors_come_in_ansibles_order() {
        let e = err(DEMO.validate(
            "demo",
            &args(json!({"regexp": "a", "search_string": "b", "zz": 1})),
        ));
        assert!(
            e.contains("parameters are mutually exclusive: regexp|search_string"),
            "{e}"
        );
        let e = err(DEMO.validate("demo", &args(json!({"state": "gone"}))));
        assert!(e.contains("missing required arguments: path"), "{e}");
        let e = err(DEMO.validate("demo", &args(json!({"path": "/x", "state": "gone"}))));
        assert!(
            e.contains("value of state must be one of: absent, present, got: gone"),
            "{e}"
        );
        let e = err(DEMO.validate("demo", &args(json!({"path": "/x", "count": "many"}))));
        assert!(
            e.contains("argument 'count' is of type str and we were unable to convert to int"),
            "{e}"
        );
    }
}
