//! `assemble`: one file from the fragments of a folder, in name order, with an optional
//! delimiter and name regexp; the folder is on the host (`remote_src`, the default) or on
//! the controller (then the result is copied as `copy` would). ansible-core 2.19's action
//! and module.

use serde_json::{json, Value};

use super::spec::{opt, spec, Kind, ModuleName, Spec};
use super::{arg_str, Args, Module, ModuleCtx, ModuleResult};

pub struct Assemble;

const SPEC: Spec = spec(
    ModuleName::Fixed("ansible.legacy.assemble"),
    &[
        opt("src", Kind::Path).required(),
        opt("delimiter", Kind::Str),
        opt("dest", Kind::Path).required(),
        opt("backup", Kind::Bool),
        opt("remote_src", Kind::Bool),
        opt("regexp", Kind::Str),
        opt("ignore_hidden", Kind::Bool),
        opt("validate", Kind::Str),
        opt("decrypt", Kind::Bool),
    ],
)
.file_common();

/// `codecs.escape_decode`: `\n`, `\t`, `\\`, `\xNN` in a delimiter.
fn escape_decode(s: &str) -> Vec<u8> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\' && i + 1 < b.len() {
            let c = b[i + 1];
            let simple = match c {
                b'n' => Some(b'\n'),
                b't' => Some(b'\t'),
                b'r' => Some(b'\r'),
                b'\\' => Some(b'\\'),
                b'\'' => Some(b'\''),
                b'"' => Some(b'"'),
                b'0' => Some(0),
                _ => None,
            };
            if let Some(v) = simple {
                out.push(v);
                i += 2;
                continue;
            }
            if c == b'x' && i + 3 < b.len() {
                if let Ok(v) = u8::from_str_radix(&s[i + 2..(i + 4).min(s.len())], 16) {
                    out.push(v);
                    i += 4;
                    continue;
                }
            }
        }
        out.push(b[i]);
        i += 1;
    }
    out
}

/// `assemble_from_fragments` over `(name, content)` pairs already in name order and filtered.
fn assemble(fragments: &[(String, Vec<u8>)], delimiter: Option<&str>) -> Vec<u8> {
    let mut out = Vec::new();
    let mut delimit_me = false;
    let mut add_newline = false;
    for (_, content) in fragments {
        if add_newline {
            out.push(b'\n');
        }
        if delimit_me {
            if let Some(d) = delimiter.filter(|d| !d.is_empty()) {
                let d = escape_decode(d);
                out.extend_from_slice(&d);
                if d.last() != Some(&b'\n') {
                    out.push(b'\n');
                }
            }
        }
        out.extend_from_slice(content);
        delimit_me = true;
        add_newline = !content.ends_with(b"\n");
    }
    out
}

/// Keeps the fragments the regexp and `ignore_hidden` let through.
fn wanted(name: &str, re: Option<&fancy_regex::Regex>, ignore_hidden: bool) -> bool {
    re.is_none_or(|re| super::pyre::search(re, name)) && !(ignore_hidden && name.starts_with('.'))
}

impl Module for Assemble {
    fn run(&self, ctx: &mut ModuleCtx<'_>, args: &Args) -> ModuleResult {
        let (Some(src), Some(dest)) = (arg_str(args, "src"), arg_str(args, "dest")) else {
            return super::action_fail("src and dest are required");
        };
        let remote_src = args
            .get("remote_src")
            .and_then(super::to_bool)
            .unwrap_or(true);
        let regexp = arg_str(args, "regexp");
        let ignore_hidden = args
            .get("ignore_hidden")
            .and_then(super::to_bool)
            .unwrap_or(false);
        let delimiter = arg_str(args, "delimiter");
        if !remote_src {
            // Fragments on the controller; the result goes through copy.
            let Some(real) = ctx.find_controller_file(&src, "files") else {
                return super::action_fail(&format!(
                    "Could not find or access '{src}' on the Ansible Controller."
                ));
            };
            if !real.is_dir() {
                return super::action_fail(&format!(
                    "Source ({}) is not a directory",
                    real.display()
                ));
            }
            let re = match regexp
                .as_deref()
                .map(|r| super::pyre::compile(r, false))
                .transpose()
            {
                Ok(re) => re,
                Err(e) => return super::action_fail(&e),
            };
            let mut names: Vec<String> = std::fs::read_dir(&real)
                .map(|rd| {
                    rd.filter_map(Result::ok)
                        .map(|e| e.file_name().to_string_lossy().into_owned())
                        .collect()
                })
                .unwrap_or_default();
            names.sort();
            let fragments: Vec<(String, Vec<u8>)> = names
                .into_iter()
                .filter(|n| wanted(n, re.as_ref(), ignore_hidden))
                .filter_map(|n| {
                    // A fragment linked to a file outside the project is not read.
                    let p = crate::project::readable_file(&real.join(&n))?;
                    std::fs::read(&p).ok().map(|d| (n, d))
                })
                .collect();
            let data = assemble(&fragments, delimiter.as_deref());
            let copy_args: Args = args
                .iter()
                .filter(|(k, _)| {
                    ![
                        "remote_src",
                        "regexp",
                        "delimiter",
                        "ignore_hidden",
                        "decrypt",
                    ]
                    .contains(&k.as_str())
                })
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            let copy_args = match super::validated(ctx, &super::copy::SPEC, &copy_args) {
                Ok(a) => a,
                Err(r) => return r,
            };
            let opts = super::copy::WriteOpts {
                args: &copy_args,
                check: ctx.check_mode,
                now: ctx.world.clock.now(),
            };
            let host = match ctx.target_host() {
                Ok(h) => h,
                Err(r) => return r,
            };
            return super::copy::write_file(host, &dest, &data, None, &opts);
        }
        let args = match super::validated(ctx, &SPEC, args) {
            Ok(a) => a,
            Err(r) => return r,
        };
        let src = arg_str(&args, "src").unwrap_or_default();
        let dest = arg_str(&args, "dest").unwrap_or_default();
        let validate = arg_str(&args, "validate");
        let check = ctx.check_mode;
        let now = ctx.world.clock.now();
        let host = match ctx.target_host() {
            Ok(h) => h,
            Err(r) => return r,
        };
        if !host.fs.exists(&src) {
            return super::fail(&format!("Source ({src}) does not exist"));
        }
        if !host.fs.is_dir(&src) {
            return super::fail(&format!("Source ({src}) is not a directory"));
        }
        let re = match regexp
            .as_deref()
            .map(|r| super::pyre::compile(r, false))
            .transpose()
        {
            Ok(re) => re,
            Err(e) => {
                return super::fail(&format!(
                    "Invalid Regexp ({e}) in \"{}\"",
                    regexp.unwrap_or_default()
                ))
            }
        };
        if let Some(v) = validate.as_deref().filter(|v| !v.contains("%s")) {
            return super::fail(&format!("validate must contain %s: {v}"));
        }
        let mut names = host.fs.list_dir(&src).unwrap_or_default();
        names.sort();
        let fragments: Vec<(String, Vec<u8>)> = names
            .into_iter()
            .filter(|n| wanted(n, re.as_ref(), ignore_hidden))
            .filter_map(|n| {
                let p = format!("{}/{n}", src.trim_end_matches('/'));
                host.fs
                    .is_file(&p)
                    .then(|| host.fs.read(&p).ok().map(|d| (n, d)))
                    .flatten()
            })
            .collect();
        let data = assemble(&fragments, delimiter.as_deref());
        let checksum = super::sha1_hex(&data);
        let mut r = super::ok(false);
        r.insert("src".into(), json!(src));
        r.insert("dest".into(), json!(dest));
        r.insert("checksum".into(), json!(checksum));
        r.insert(
            "md5sum".into(),
            json!(crate::template::filters::hash::md5_bytes_hex(&data)),
        );
        let dest_sum = host.fs.read(&dest).ok().map(|d| super::sha1_hex(&d));
        let mut changed = false;
        if dest_sum.as_deref() != Some(checksum.as_str()) {
            if let Some(v) = &validate {
                let out = match super::command::validate_with(host, now, v, &data) {
                    Ok(o) => o,
                    Err(r) => return r,
                };
                r.insert(
                    "validation".into(),
                    json!({"rc": out.rc, "stdout": out.stdout_str(), "stderr": out.stderr_str()}),
                );
                if out.rc != 0 {
                    return super::fail(&format!(
                        "failed to validate: rc:{} error:{}",
                        out.rc,
                        out.stderr_str()
                    ));
                }
            }
            if args.get("backup").and_then(Value::as_bool).unwrap_or(false) && dest_sum.is_some() {
                match super::backup_local(&mut host.fs, &dest, check) {
                    Ok(b) => {
                        r.insert("backup_file".into(), json!(b));
                    }
                    Err(e) => return e,
                }
            }
            if !check {
                if let Err(e) = host
                    .fs
                    .write(&dest, &data, fleetsim_sim::fs::WriteMode::Truncate)
                {
                    return super::fail(&format!("Unable to write {dest}: {e}"));
                }
            }
            changed = true;
        }
        if host.fs.exists(&dest) {
            match super::file::apply_file_args(&mut host.fs, &dest, &args, check) {
                Ok(c) => changed |= c,
                Err(e) => return super::fail(&e),
            }
        }
        r.insert("changed".into(), json!(changed));
        r.insert("msg".into(), json!("OK"));
        // exit_json's `add_path_info` for `dest`: its state, mode, owner... (no `path`).
        super::file::attrs(&host.fs, &dest, &mut r);
        r.remove("path");
        r
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fragments_join_with_newlines_and_delimiters() {
        let f = vec![
            ("1".to_string(), b"a".to_vec()),
            ("2".to_string(), b"b\n".to_vec()),
        ];
        assert_eq!(assemble(&f, None), b"a\nb\n");
        assert_eq!(assemble(&f, Some("# --")), b"a\n# --\nb\n");
        assert_eq!(escape_decode(r"x\ty\n"), b"x\ty\n");
    }
}
