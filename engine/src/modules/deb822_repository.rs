//! `deb822_repository`: an APT source in deb822 form, `/etc/apt/sources.list.d/SLUG.sources`,
//! as ansible-core's module writes it with python3-debian's `Deb822`: one field per option
//! in option-name order (`name` as `X-Repolib-Name`, `uris` as `URIs`, others title-cased),
//! booleans `yes`/`no`, lists space-joined, multi-line values indented with `.` for empty
//! lines; the file replaced when its content differs, `mode` applied; `state: absent`
//! removes the file and the slug's key files. `signed_by` is passed through (a keyring
//! path on the host, a fingerprint, an inline key); a URL to fetch it from is refused.
//! It needs python3-debian, taken as present on Debian-family hosts; elsewhere it fails as
//! the module fails without it.

use serde_json::{json, Value};

use fleetsim_sim::os::Family;

use super::spec::{opt, spec, Kind, ModuleName, Spec};
use super::{arg_str, Args, Module, ModuleCtx, ModuleResult};

pub struct Deb822Repository;

const SPEC: Spec = spec(
    ModuleName::AsWritten,
    &[
        opt("allow_downgrade_to_insecure", Kind::Bool),
        opt("allow_insecure", Kind::Bool),
        opt("allow_weak", Kind::Bool),
        opt("architectures", Kind::List),
        opt("by_hash", Kind::Bool),
        opt("check_date", Kind::Bool),
        opt("check_valid_until", Kind::Bool),
        opt("components", Kind::List),
        opt("date_max_future", Kind::Int),
        opt("enabled", Kind::Bool),
        opt("inrelease_path", Kind::Str),
        opt("languages", Kind::List),
        opt("name", Kind::Str).required(),
        opt("pdiffs", Kind::Bool),
        opt("signed_by", Kind::Str),
        opt("suites", Kind::List),
        opt("targets", Kind::List),
        opt("trusted", Kind::Bool),
        opt("types", Kind::List),
        opt("uris", Kind::List),
        opt("mode", Kind::Raw),
        opt("state", Kind::Str).choices(&["absent", "present"]),
    ],
);

const SOURCES_DIR: &str = "/etc/apt/sources.list.d";
const KEYRINGS_DIR: &str = "/etc/apt/keyrings";

/// The file name stem: lower case, `_` and blanks as `-`, other characters dropped.
fn slug(name: &str) -> String {
    let mut s = String::new();
    let mut in_sep = false;
    for c in name.to_lowercase().chars() {
        if c == '_' || c.is_whitespace() {
            if !in_sep {
                s.push('-');
            }
            in_sep = true;
            continue;
        }
        in_sep = false;
        if c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' {
            s.push(c);
        }
    }
    s
}

fn field_name(key: &str) -> String {
    match key {
        "name" => "X-Repolib-Name".into(),
        "uris" => "URIs".into(),
        _ => key
            .split('_')
            .map(|w| {
                let mut c = w.chars();
                c.next()
                    .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
                    .unwrap_or_default()
            })
            .collect::<Vec<_>>()
            .join("-"),
    }
}

/// `format_multiline`: a newline, then each line indented by four spaces, empty ones `.`.
fn multiline(v: &str) -> String {
    let lines: Vec<String> = v
        .trim()
        .lines()
        .map(|l| {
            let l = l.trim();
            format!("    {}", if l.is_empty() { "." } else { l })
        })
        .collect();
    format!("\n{}", lines.join("\n"))
}

/// The source's deb822 text (`Deb822.dump()`).
fn render(args: &Args) -> String {
    let mut out = String::new();
    // Fields in option-name order, as the module's `sorted(params.items())`.
    let mut keys: Vec<&str> = SPEC
        .opts
        .iter()
        .map(|o| o.name)
        .filter(|k| !matches!(*k, "mode" | "state"))
        .collect();
    keys.sort_unstable();
    for key in keys {
        let Some(v) = args.get(key).filter(|v| !v.is_null()) else {
            continue;
        };
        let mut text = match v {
            Value::Bool(b) => if *b { "yes" } else { "no" }.to_string(),
            Value::Array(items) => items
                .iter()
                .map(crate::playbook::scalar_text)
                .collect::<Vec<_>>()
                .join(" "),
            other => crate::playbook::scalar_text(other),
        };
        if text.contains('\n') {
            text = multiline(&text);
        }
        let name = field_name(key);
        if text.is_empty() || text.starts_with('\n') {
            out.push_str(&format!("{name}:{text}\n"));
        } else {
            out.push_str(&format!("{name}: {text}\n"));
        }
    }
    out
}

impl Module for Deb822Repository {
    fn run(&self, ctx: &mut ModuleCtx<'_>, args: &Args) -> ModuleResult {
        let mut args = match super::validated(ctx, &SPEC, args) {
            Ok(a) => a,
            Err(r) => return r,
        };
        if args.get("types").is_none_or(Value::is_null) {
            args.insert("types".into(), json!(["deb"]));
        }
        if let Some(Value::Array(types)) = args.get("types") {
            let bad: Vec<String> = types
                .iter()
                .map(crate::playbook::scalar_text)
                .filter(|t| !matches!(t.as_str(), "deb" | "deb-src"))
                .collect();
            if !bad.is_empty() {
                return super::fail(&format!(
                    "value of types must be one or more of: deb, deb-src. Got no match for: {}",
                    bad.join(", ")
                ));
            }
        }
        let name = arg_str(&args, "name").unwrap_or_default();
        let state = arg_str(&args, "state").unwrap_or_else(|| "present".into());
        let check = ctx.check_mode;
        let (host, distro) = match ctx.target_os_host() {
            Ok(hd) => hd,
            Err(r) => return r,
        };
        // python3-debian is taken as present on the Debian family (the reference hosts have
        // it); elsewhere there is no such package.
        if distro.family() != Family::Debian {
            let node = fleetsim_sim::os::hostname(&host.fs, &host.name);
            return super::fail(&format!(
                "Failed to import the required Python library (python3-debian) on {node}'s Python /usr/bin/python3. Please read the module documentation and install it in the appropriate location. If the required library is installed, but Ansible is using the wrong Python interpreter, please consult the documentation on ansible_python_interpreter"
            ));
        }
        let slug = slug(&name);
        let dest = format!("{SOURCES_DIR}/{slug}.sources");
        let mut changed = false;
        if state == "absent" {
            let mut key_file = String::new();
            for path in [
                dest.clone(),
                format!("{KEYRINGS_DIR}/{slug}.asc"),
                format!("{KEYRINGS_DIR}/{slug}.gpg"),
            ] {
                if path != dest {
                    key_file = path.clone();
                }
                if host.fs.exists(&path) {
                    if !check {
                        if let Err(e) = host.fs.remove_file(&path) {
                            return super::fail(&e.to_string());
                        }
                    }
                    changed = true;
                }
            }
            let mut r = super::ok(changed);
            r.insert("repo".into(), Value::Null);
            r.insert("dest".into(), json!(dest));
            r.insert("key_filename".into(), json!(key_file));
            return r;
        }
        let mut key_filename = Value::Null;
        if let Some(key) = arg_str(&args, "signed_by") {
            if key.contains("://") && !key.contains('\n') {
                return super::fail(&format!(
                    "fleetsim does not fetch signed_by keys from URLs ('{key}'); give a keyring path on the host or the key itself"
                ));
            }
            if host.fs.is_file(&key) {
                key_filename = json!(key);
            }
        }
        let repo = render(&args);
        let current = host.fs.read(&dest).ok();
        if current.as_deref() != Some(repo.as_bytes()) {
            if !check {
                if let Err(e) = fleetsim_sim::os::put(&mut host.fs, &dest, &repo) {
                    return super::fail(&e);
                }
            }
            changed = true;
        }
        if host.fs.exists(&dest) {
            let mode = args
                .get("mode")
                .filter(|m| !m.is_null())
                .cloned()
                .unwrap_or(json!("0644"));
            match super::file::apply_mode(&mut host.fs, &dest, Some(&mode), check) {
                Ok(c) => changed |= c,
                Err(e) => return super::fail(&e),
            }
        }
        let mut r = super::ok(changed);
        r.insert("repo".into(), json!(repo));
        r.insert("dest".into(), json!(dest));
        r.insert("key_filename".into(), key_filename);
        r
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_become_slugs_and_field_names() {
        assert_eq!(slug("Fsim Example_Repo 2"), "fsim-example-repo-2");
        assert_eq!(slug("docker.io (CE)"), "dockerio-ce");
        assert_eq!(field_name("check_valid_until"), "Check-Valid-Until");
        assert_eq!(field_name("uris"), "URIs");
        assert_eq!(field_name("name"), "X-Repolib-Name");
    }

    #[test]
    fn multi_line_values_are_indented_with_dots_for_blank_lines() {
        assert_eq!(multiline("a\n\n b\n"), "\n    a\n    .\n    b");
    }
}
