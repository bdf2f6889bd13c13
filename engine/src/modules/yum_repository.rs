//! `yum_repository`: one section of a `.repo` file under `/etc/yum.repos.d` (or `reposdir`),
//! as ansible-core's module writes it through Python's `configparser`: the section named by
//! `name`, its keys sorted, booleans as `0`/`1`, `baseurl`/`gpgkey` lists one per continuation
//! line, `exclude`/`includepkgs` joined by spaces; the file removed when its last section
//! goes; the diff (the module's sorted `dump()`) returned always; file attributes applied.

use serde_json::{json, Value};

use fleetsim_sim::fs::{Sandbox, WriteMode};

use super::spec::{opt, spec, Kind, ModuleName, Opt, Spec};
use super::{arg_str, Args, Module, ModuleCtx, ModuleResult};

pub struct YumRepository;

/// The options that become keys of the section (every one but `name`, `description`,
/// `file`, `reposdir`, `state` and the file attributes), with their types.
const REPO_KEYS: &[Opt] = &[
    opt("async", Kind::Bool),
    opt("bandwidth", Kind::Str),
    opt("baseurl", Kind::List),
    opt("cost", Kind::Str),
    opt("countme", Kind::Bool),
    opt("deltarpm_metadata_percentage", Kind::Str),
    opt("deltarpm_percentage", Kind::Str),
    opt("enabled", Kind::Bool),
    opt("enablegroups", Kind::Bool),
    opt("exclude", Kind::List).aliases(&["excludepkgs"]),
    opt("failovermethod", Kind::Str).choices(&["roundrobin", "priority"]),
    opt("gpgcakey", Kind::Str),
    opt("gpgcheck", Kind::Bool),
    opt("gpgkey", Kind::List),
    opt("module_hotfixes", Kind::Bool),
    opt("http_caching", Kind::Str).choices(&["all", "packages", "none"]),
    opt("include", Kind::Str),
    opt("includepkgs", Kind::List),
    opt("ip_resolve", Kind::Str).choices(&["4", "6", "IPv4", "IPv6", "whatever"]),
    opt("keepalive", Kind::Bool),
    opt("keepcache", Kind::Str).choices(&["0", "1"]),
    opt("metadata_expire", Kind::Str),
    opt("metadata_expire_filter", Kind::Str).choices(&[
        "never",
        "read-only:past",
        "read-only:present",
        "read-only:future",
    ]),
    opt("metalink", Kind::Str),
    opt("mirrorlist", Kind::Str),
    opt("mirrorlist_expire", Kind::Str),
    opt("password", Kind::Str),
    opt("priority", Kind::Str),
    opt("protect", Kind::Bool),
    opt("proxy", Kind::Str),
    opt("proxy_password", Kind::Str),
    opt("proxy_username", Kind::Str),
    opt("repo_gpgcheck", Kind::Bool),
    opt("retries", Kind::Str),
    opt("s3_enabled", Kind::Bool),
    opt("skip_if_unavailable", Kind::Bool),
    opt("sslcacert", Kind::Str).aliases(&["ca_cert"]),
    opt("ssl_check_cert_permissions", Kind::Bool),
    opt("sslclientcert", Kind::Str).aliases(&["client_cert"]),
    opt("sslclientkey", Kind::Str).aliases(&["client_key"]),
    opt("sslverify", Kind::Bool).aliases(&["validate_certs"]),
    opt("throttle", Kind::Str),
    opt("timeout", Kind::Str),
    opt("ui_repoid_vars", Kind::Str),
    opt("username", Kind::Str),
];

/// [`REPO_KEYS`] and the options that say where the section goes.
const OPTS: &[Opt] = &{
    const N: usize = REPO_KEYS.len();
    let mut all = [opt("", Kind::Str); N + 5];
    let mut i = 0;
    while i < N {
        all[i] = REPO_KEYS[i];
        i += 1;
    }
    all[N] = opt("name", Kind::Str).required();
    all[N + 1] = opt("description", Kind::Str);
    all[N + 2] = opt("file", Kind::Str);
    all[N + 3] = opt("reposdir", Kind::Path);
    all[N + 4] = opt("state", Kind::Str).choices(&["present", "absent"]);
    all
};

const SPEC: Spec = spec(ModuleName::AsWritten, OPTS)
    .file_common()
    .required_if(&[
        (
            "state",
            "present",
            &["baseurl", "mirrorlist", "metalink"],
            true,
        ),
        ("state", "present", &["description"], false),
    ]);

/// A `.repo` file as `configparser.RawConfigParser` holds it: sections in file order, each
/// with its keys (lower-cased) in order; multi-line values joined by `\n`.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Ini {
    pub sections: Vec<(String, Vec<(String, String)>)>,
}

impl Ini {
    /// `RawConfigParser.read_string`: `[section]` headers, `key = value` or `key: value`
    /// (the first delimiter splits), indented continuation lines, `#`/`;` comment lines.
    /// What configparser rejects is an error here too.
    pub fn parse(text: &str, path: &str) -> Result<Ini, String> {
        let mut ini = Ini::default();
        // The key a continuation line extends, and whether a blank line came since.
        let mut open: Option<usize> = None;
        for (n, raw) in text.lines().enumerate() {
            let lineno = n + 1;
            let stripped = raw.trim();
            if stripped.is_empty() {
                open = None;
                continue;
            }
            if stripped.starts_with('#') || stripped.starts_with(';') {
                continue;
            }
            let indented = raw.starts_with([' ', '\t']);
            if indented {
                if let (Some(k), Some((_, keys))) = (open, ini.sections.last_mut()) {
                    keys[k].1.push('\n');
                    keys[k].1.push_str(stripped);
                    continue;
                }
            }
            if let Some(name) = stripped
                .strip_prefix('[')
                .and_then(|s| s.strip_suffix(']'))
                .filter(|_| !indented)
            {
                if name == "DEFAULT" {
                    return Err(format!(
                        "fleetsim does not read [DEFAULT] sections of repo files ({path}, line {lineno})"
                    ));
                }
                if ini.sections.iter().any(|(s, _)| s == name) {
                    return Err(format!(
                        "While reading from '{path}' [line {lineno:2}]: section '{name}' already exists"
                    ));
                }
                ini.sections.push((name.to_string(), Vec::new()));
                open = None;
                continue;
            }
            let Some((_, keys)) = ini.sections.last_mut() else {
                return Err(format!(
                    "File contains no section headers.\nfile: '{path}', line: {lineno}\n{raw:?}"
                ));
            };
            let Some(at) = stripped.find(['=', ':']) else {
                return Err(format!(
                    "Source contains parsing errors: '{path}'\n\t[line {lineno:2}]: {raw:?}"
                ));
            };
            let key = stripped[..at].trim().to_lowercase();
            let value = stripped[at + 1..].trim().to_string();
            if keys.iter().any(|(k, _)| *k == key) {
                let section = &ini.sections.last().map(|s| s.0.clone()).unwrap_or_default();
                return Err(format!(
                    "While reading from '{path}' [line {lineno:2}]: option '{key}' in section '{section}' already exists"
                ));
            }
            keys.push((key, value));
            open = Some(keys.len() - 1);
        }
        Ok(ini)
    }

    /// `RawConfigParser.write`: sections in order, `key = value` with continuation lines
    /// indented by a tab, a blank line after each section.
    pub fn write(&self) -> String {
        let mut out = String::new();
        for (name, keys) in &self.sections {
            out.push_str(&format!("[{name}]\n"));
            for (k, v) in keys {
                out.push_str(&format!("{k} = {}\n", v.replace('\n', "\n\t")));
            }
            out.push('\n');
        }
        out
    }

    /// The module's `dump()`: sections and their keys sorted, values as they are.
    pub fn dump(&self) -> String {
        let mut sections: Vec<&(String, Vec<(String, String)>)> = self.sections.iter().collect();
        sections.sort_by(|a, b| a.0.cmp(&b.0));
        let mut out = String::new();
        for (name, keys) in sections {
            out.push_str(&format!("[{name}]\n"));
            let mut keys: Vec<&(String, String)> = keys.iter().collect();
            keys.sort();
            for (k, v) in keys {
                out.push_str(&format!("{k} = {v}\n"));
            }
            out.push('\n');
        }
        out
    }

    pub fn remove(&mut self, section: &str) {
        self.sections.retain(|(s, _)| s != section);
    }
}

/// An option's value as the module stores it: booleans `1`/`0`, lists joined.
fn value_text(key: &str, v: &Value) -> String {
    match v {
        Value::Bool(b) => if *b { "1" } else { "0" }.to_string(),
        Value::Array(items) => {
            let items: Vec<String> = items.iter().map(crate::playbook::scalar_text).collect();
            // baseurl and gpgkey one per line; exclude and includepkgs on one.
            let sep = if matches!(key, "baseurl" | "gpgkey") {
                "\n"
            } else {
                " "
            };
            items.join(sep)
        }
        other => crate::playbook::scalar_text(other),
    }
}

fn read_repo_file(fs: &Sandbox, path: &str) -> Result<Ini, String> {
    if !fs.is_file(path) {
        return Ok(Ini::default());
    }
    let text = fs.read_to_string(path).map_err(|e| e.to_string())?;
    Ini::parse(&text, path)
}

impl Module for YumRepository {
    fn run(&self, ctx: &mut ModuleCtx<'_>, args: &Args) -> ModuleResult {
        // `state` defaults to present before `required_if` looks at it.
        let mut args = args.clone();
        if args.get("state").is_none_or(Value::is_null) {
            args.insert("state".into(), json!("present"));
        }
        let args = match super::validated(ctx, &SPEC, &args) {
            Ok(a) => a,
            Err(r) => return r,
        };
        let name = arg_str(&args, "name").unwrap_or_default();
        let state = arg_str(&args, "state").unwrap_or_else(|| "present".into());
        let reposdir = arg_str(&args, "reposdir").unwrap_or_else(|| "/etc/yum.repos.d".into());
        let file = arg_str(&args, "file").unwrap_or_else(|| name.clone());
        let check = ctx.check_mode;
        let host = match ctx.target_host() {
            Ok(h) => h,
            Err(r) => return r,
        };
        if !host.fs.is_dir(&reposdir) {
            return super::fail(&format!("Repo directory '{reposdir}' does not exist."));
        }
        let dest = format!("{}/{file}.repo", reposdir.trim_end_matches('/'));
        let mut repo = match read_repo_file(&host.fs, &dest) {
            Ok(r) => r,
            Err(e) => return super::fail(&e),
        };
        let before = repo.dump();
        repo.remove(&name);
        if state == "present" {
            // The section's keys, sorted: `description` is written as `name`.
            let mut keys: Vec<(String, String)> = REPO_KEYS
                .iter()
                .filter_map(|o| {
                    let v = args.get(o.name).filter(|v| !v.is_null())?;
                    Some((o.name.to_string(), value_text(o.name, v)))
                })
                .collect();
            if let Some(d) = args.get("description").filter(|v| !v.is_null()) {
                keys.push(("name".into(), value_text("name", d)));
            }
            keys.sort();
            repo.sections.push((name.clone(), keys));
        }
        let after = repo.dump();
        let mut changed = before != after;
        if changed && !check {
            let saved = if repo.sections.is_empty() {
                host.fs.remove_file(&dest).map_err(|e| {
                    (
                        format!("Cannot remove empty repo file {dest}."),
                        e.to_string(),
                    )
                })
            } else {
                host.fs
                    .write(&dest, repo.write().as_bytes(), WriteMode::Truncate)
                    .map_err(|e| (format!("Problems handling file '{dest}'."), e.to_string()))
            };
            if let Err((msg, details)) = saved {
                let mut r = super::fail(&msg);
                r.insert("details".into(), json!(details));
                return r;
            }
        }
        if host.fs.is_file(&dest) {
            match super::file::apply_file_args(&mut host.fs, &dest, &args, check) {
                Ok(c) => changed |= c,
                Err(e) => return super::fail(&e),
            }
        }
        let mut r = super::ok(changed);
        r.insert("repo".into(), json!(name));
        r.insert("state".into(), json!(state));
        r.insert(
            "diff".into(),
            json!({"before_header": dest, "before": before, "after_header": dest, "after": after}),
        );
        r.insert(super::DIFF_ALWAYS.into(), json!(true));
        r
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repo_files_parse_write_and_dump_as_configparser() {
        let text = "# comment\n[epel]\nName = EPEL\nbaseurl=http://a/\n  http://b/\nenabled: 1\n\n[appstream]\nname = AppStream\n";
        let ini = Ini::parse(text, "/x.repo").unwrap();
        assert_eq!(ini.sections[0].0, "epel");
        assert_eq!(
            ini.sections[0].1,
            vec![
                ("name".to_string(), "EPEL".to_string()),
                ("baseurl".to_string(), "http://a/\nhttp://b/".to_string()),
                ("enabled".to_string(), "1".to_string()),
            ]
        );
        assert_eq!(
            ini.write(),
            "[epel]\nname = EPEL\nbaseurl = http://a/\n\thttp://b/\nenabled = 1\n\n[appstream]\nname = AppStream\n\n"
        );
        assert_eq!(
            ini.dump(),
            "[appstream]\nname = AppStream\n\n[epel]\nbaseurl = http://a/\nhttp://b/\nenabled = 1\nname = EPEL\n\n"
        );
    }

    #[test]
    fn what_configparser_rejects_is_an_error() {
        let e = Ini::parse("name = x\n", "/r.repo").unwrap_err();
        assert!(e.starts_with("File contains no section headers."), "{e}");
        let e = Ini::parse("[a]\n[a]\n", "/r.repo").unwrap_err();
        assert!(e.contains("section 'a' already exists"), "{e}");
        let e = Ini::parse("[a]\nx=1\nX=2\n", "/r.repo").unwrap_err();
        assert!(
            e.contains("option 'x' in section 'a' already exists"),
            "{e}"
        );
        assert!(Ini::parse("[a]\njust words\n", "/r.repo").is_err());
    }

    #[test]
    fn values_as_the_module_stores_them() {
        assert_eq!(value_text("enabled", &json!(true)), "1");
        assert_eq!(value_text("baseurl", &json!(["a", "b"])), "a\nb");
        assert_eq!(value_text("exclude", &json!(["a", "b"])), "a b");
        assert_eq!(value_text("priority", &json!(10)), "10");
    }
}
