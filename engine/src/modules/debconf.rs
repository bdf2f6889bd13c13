//! `debconf`: pre-answers a package's configuration question in the host's debconf database
//! ([`fleetsim_sim::os::debconf`]), as ansible-core's module does through `debconf-show`,
//! `debconf-get-selections` and `debconf-set-selections`: booleans compared lower-cased,
//! passwords against their stored value, multiselect lists sorted; `current`/`previous`
//! and the diff shaped as the module returns them (including its quirks: an unchanged run's
//! `current` is every answer of the package).

use serde_json::{json, Map, Value};

use fleetsim_sim::os::{debconf as db, Family};

use super::spec::{opt, spec, Kind, ModuleName, Spec};
use super::{arg_str, Args, Module, ModuleCtx, ModuleResult};

pub struct Debconf;

const SPEC: Spec = spec(
    ModuleName::AsWritten,
    &[
        opt("name", Kind::Str).required().aliases(&["pkg"]),
        opt("question", Kind::Str).aliases(&["selection", "setting"]),
        opt("vtype", Kind::Str).choices(&[
            "boolean",
            "error",
            "multiselect",
            "note",
            "password",
            "seen",
            "select",
            "string",
            "text",
            "title",
        ]),
        opt("value", Kind::Raw).aliases(&["answer"]),
        opt("unseen", Kind::Bool),
    ],
)
.required_together(&[&["question", "vtype", "value"]]);

/// Python's `to_text` of a YAML value (`True`, `5`, a list's repr is not needed here).
fn to_text(v: &Value) -> String {
    crate::playbook::scalar_text(v)
}

impl Module for Debconf {
    fn run(&self, ctx: &mut ModuleCtx<'_>, args: &Args) -> ModuleResult {
        let args = match super::validated(ctx, &SPEC, args) {
            Ok(a) => a,
            Err(r) => return r,
        };
        let pkg = arg_str(&args, "name").unwrap_or_default();
        let question = arg_str(&args, "question");
        let vtype = arg_str(&args, "vtype");
        let mut value = args.get("value").cloned().filter(|v| !v.is_null());
        let unseen = args.get("unseen").and_then(super::to_bool).unwrap_or(false);
        let check = ctx.check_mode;
        let diff_mode = ctx.diff;
        let (host, distro) = match ctx.target_os_host() {
            Ok(hd) => hd,
            Err(r) => return r,
        };
        if distro.family() != Family::Debian {
            return super::fail(
                "Failed to find required executable \"debconf-show\" in paths: /usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
            );
        }
        // get_selections: `debconf-show PKG` split at the first colon, `*` stripped.
        let mut prev: Map<String, Value> = Map::new();
        for line in db::show(&host.fs, &pkg).lines() {
            if let Some((k, v)) = line.split_once(':') {
                prev.insert(
                    k.trim().trim_matches('*').trim().to_string(),
                    json!(v.trim()),
                );
            }
        }
        let mut changed = false;
        if let Some(q) = &question {
            let (Some(vt), Some(v)) = (&vtype, &value) else {
                return super::fail(
                    "when supplying a question you must supply a valid vtype and value",
                );
            };
            let mut v = v.clone();
            if vt == "boolean" {
                v = json!(to_text(&v).to_lowercase());
            }
            match prev.get(q) {
                None => changed = true,
                Some(existing) => {
                    let existing_text = existing.as_str().unwrap_or_default().to_string();
                    let mut existing = existing.clone();
                    if vt == "boolean" {
                        existing = json!(existing_text.to_lowercase());
                    } else if vt == "password" {
                        existing = json!(password_value(&host.fs, &pkg, q, vt));
                    } else if vt == "multiselect" {
                        if let Value::Array(items) = &v {
                            let mut wanted: Vec<String> = Vec::new();
                            for i in items {
                                match i {
                                    Value::String(s) => wanted.push(s.clone()),
                                    _ => {
                                        return super::fail(
                                            "Invalid value provided for 'multiselect': '<' not supported between instances of 'int' and 'str'",
                                        )
                                    }
                                }
                            }
                            wanted.sort();
                            v = json!(wanted);
                            let mut have: Vec<String> = existing_text
                                .split(',')
                                .map(|s| s.trim().to_string())
                                .collect();
                            have.sort();
                            existing = json!(have);
                        }
                    }
                    // Python compares the value as YAML gave it: 5 is never "5".
                    changed = v != existing;
                }
            }
            value = Some(v);
        }
        let mut msg = String::new();
        if changed {
            let q = question.clone().unwrap_or_default();
            let vt = vtype.clone().unwrap_or_default();
            let mut v = value.clone().unwrap_or(Value::Null);
            if !check {
                if vt == "multiselect" {
                    if let Value::Array(items) = &v {
                        let parts: Vec<String> = items.iter().map(to_text).collect();
                        v = json!(parts.join(", "));
                    }
                }
                // ' '.join(...) needs a string.
                let Value::String(text) = &v else {
                    return super::fail(&format!(
                        "sequence item 3: expected str instance, {} found",
                        super::py_type(&v)
                    ));
                };
                if let Err(e) = db::set(&mut host.fs, &pkg, &q, &vt, text, !unseen) {
                    return super::fail(&e);
                }
                msg = String::new();
            }
            let mut curr = Map::new();
            curr.insert(q.clone(), v);
            let prev = match prev.get(&q) {
                Some(p) => {
                    let mut m = Map::new();
                    m.insert(q.clone(), p.clone());
                    m
                }
                None => {
                    let mut m = prev.clone();
                    m.insert(q.clone(), json!(""));
                    m
                }
            };
            let mut diff = Map::new();
            if diff_mode {
                let mut after = prev.clone();
                after.extend(curr.clone());
                diff.insert("before".into(), Value::Object(prev.clone()));
                diff.insert("after".into(), Value::Object(after));
            }
            let mut r = super::ok(true);
            r.insert("msg".into(), json!(msg));
            r.insert("current".into(), Value::Object(curr));
            r.insert("previous".into(), Value::Object(prev));
            r.insert("diff".into(), Value::Object(diff));
            return r;
        }
        let mut r = super::ok(false);
        r.insert("msg".into(), json!(msg));
        r.insert("current".into(), Value::Object(prev));
        r
    }
}

/// `get_password_value`: the stored password from `debconf-get-selections` ("" when the
/// line has no value).
fn password_value(
    fs: &fleetsim_sim::fs::Sandbox,
    pkg: &str,
    question: &str,
    vtype: &str,
) -> String {
    for line in db::get_selections(fs).lines() {
        if !line.starts_with(pkg) {
            continue;
        }
        let fields: Vec<&str> = line.split('\t').collect();
        if fields.len() <= 3 {
            return String::new();
        }
        if fields[1] == question && fields[2] == vtype {
            return fields[3].to_string();
        }
    }
    String::new()
}
