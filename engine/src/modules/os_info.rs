//! `service_facts`, `package_facts` and `getent`: what the simulated OS's units, package
//! database and account files hold, as facts in the modules' shapes.

use serde_json::{json, Map, Value};

use fleetsim_sim::os::{accounts, packages, units, Family};

use super::spec::{opt, spec, Kind, ModuleName, Spec};
use super::{arg_bool, arg_str, Args, Module, ModuleCtx, ModuleResult};

pub struct ServiceFacts;
pub struct PackageFacts;
pub struct Getent;

const NO_OPTIONS: Spec = spec(ModuleName::AsWritten, &[]);

const PACKAGE_FACTS_SPEC: Spec = spec(
    ModuleName::AsWritten,
    &[
        opt("manager", Kind::List),
        opt("strategy", Kind::Str).choices(&["first", "all"]),
    ],
);

const GETENT_SPEC: Spec = spec(
    ModuleName::AsWritten,
    &[
        opt("database", Kind::Str).required(),
        opt("key", Kind::Str),
        opt("split", Kind::Str),
        opt("fail_key", Kind::Bool),
        opt("service", Kind::Str),
    ],
);

fn facts(key: &str, v: Value) -> ModuleResult {
    let mut r = super::ok(false);
    r.insert("ansible_facts".into(), json!({ key: v }));
    r
}

impl Module for ServiceFacts {
    fn run(&self, ctx: &mut ModuleCtx<'_>, args: &Args) -> ModuleResult {
        if let Err(r) = super::validated(ctx, &NO_OPTIONS, args) {
            return r;
        }
        let host = match ctx.target_host() {
            Ok(h) => h,
            Err(r) => return r,
        };
        if let Err(e) = host.os() {
            return super::fail(&e);
        }
        let mut services = Map::new();
        for u in units::all_units(&host.fs) {
            let name = format!("{u}.service");
            let state = match units::active(&host.fs, &u) {
                units::Active::Active => "running",
                _ => "stopped",
            };
            let status = if units::active(&host.fs, &u) == units::Active::Failed {
                "failed"
            } else {
                units::enabled_word(&host.fs, &u)
            };
            services.insert(
                name.clone(),
                json!({"name": name, "state": state, "status": status, "source": "systemd"}),
            );
        }
        facts("services", Value::Object(services))
    }
}

/// `EPOCH:VERSION-RELEASE` split as rpm reports it.
fn rpm_parts(v: &str) -> (Value, String, String) {
    let (epoch, rest) = match v.split_once(':') {
        Some((e, r)) => (e.parse::<u64>().map(|e| json!(e)).unwrap_or(Value::Null), r),
        None => (Value::Null, v),
    };
    let (version, release) = rest.rsplit_once('-').unwrap_or((rest, ""));
    (epoch, version.to_string(), release.to_string())
}

impl Module for PackageFacts {
    fn run(&self, ctx: &mut ModuleCtx<'_>, args: &Args) -> ModuleResult {
        let args = match super::validated(ctx, &PACKAGE_FACTS_SPEC, args) {
            Ok(a) => a,
            Err(r) => return r,
        };
        let (host, distro) = match ctx.target_os_host() {
            Ok(hd) => hd,
            Err(r) => return r,
        };
        let native = match distro.family() {
            Family::Debian => "apt",
            Family::Redhat => "rpm",
        };
        if let Some(Value::Array(wanted)) = args.get("manager") {
            let ok = wanted
                .iter()
                .any(|m| matches!(m.as_str(), Some("auto")) || m.as_str() == Some(native));
            if !ok {
                return super::fail(&format!(
                    "Could not detect a supported package manager from the following list: {}, or the required Python library is not installed. Check warnings for details.",
                    crate::template::pyrepr::json_repr(&Value::Array(wanted.clone()))
                ));
            }
        }
        let mut pkgs = Map::new();
        let mut all = packages::installed(&host.fs, distro);
        all.sort_by(|a, b| a.name.cmp(&b.name));
        for p in all {
            let entry = match distro.family() {
                Family::Debian => json!({
                    "name": p.name, "version": p.version, "arch": p.arch,
                    "category": "admin", "origin": if distro == fleetsim_sim::os::Distro::Ubuntu2404 { "Ubuntu" } else { "Debian" },
                    "source": "apt",
                }),
                Family::Redhat => {
                    let (epoch, version, release) = rpm_parts(&p.version);
                    json!({"name": p.name, "version": version, "release": release, "epoch": epoch, "arch": p.arch, "source": "rpm"})
                }
            };
            pkgs.insert(p.name.clone(), json!([entry]));
        }
        facts("packages", Value::Object(pkgs))
    }
}

impl Module for Getent {
    fn run(&self, ctx: &mut ModuleCtx<'_>, args: &Args) -> ModuleResult {
        let args = match super::validated(ctx, &GETENT_SPEC, args) {
            Ok(a) => a,
            Err(r) => return r,
        };
        let database = arg_str(&args, "database").unwrap_or_default();
        let key = arg_str(&args, "key");
        let fail_key = arg_bool(&args, "fail_key", true).unwrap_or(true);
        let host = match ctx.target_host() {
            Ok(h) => h,
            Err(r) => return r,
        };
        if let Err(e) = host.os() {
            return super::fail(&e);
        }
        let Some(lines) = accounts::getent(&host.fs, &database) else {
            return super::fail("Missing arguments, or database unknown.");
        };
        let split = arg_str(&args, "split").unwrap_or_else(|| ":".into());
        let tree = format!("getent_{database}");
        let mut out = Map::new();
        let mut found = false;
        for l in &lines {
            let mut rec: Vec<&str> = l.split(split.as_str()).collect();
            let k = rec.remove(0);
            if let Some(want) = &key {
                // A key is a name, or (passwd/group) a numeric id.
                let id_match = want.parse::<u64>().is_ok() && rec.get(1) == Some(&want.as_str());
                if k != want && !id_match {
                    continue;
                }
            }
            found = true;
            out.insert(k.to_string(), json!(rec));
        }
        if key.is_some() && !found {
            let msg = "One or more supplied key could not be found in the database.";
            if !fail_key {
                out.insert(key.unwrap_or_default(), Value::Null);
                let mut r = facts(&tree, Value::Object(out));
                r.insert("msg".into(), json!(msg));
                return r;
            }
            return super::fail(msg);
        }
        facts(&tree, Value::Object(out))
    }
}
