//! `replace`: every match of a Python regexp (MULTILINE) in a file replaced, optionally only
//! between `after` and `before`, with backup and validate: ansible-core 2.19's module.

use serde_json::{json, Value};

use super::spec::{opt, spec, Kind, ModuleName, Spec};
use super::{arg_str, Args, Module, ModuleCtx, ModuleResult};

pub struct Replace;

const SPEC: Spec = spec(
    ModuleName::AsWritten,
    &[
        opt("path", Kind::Path)
            .aliases(&["dest", "destfile", "name"])
            .required(),
        opt("regexp", Kind::Str).required(),
        opt("replace", Kind::Str),
        opt("after", Kind::Str),
        opt("before", Kind::Str),
        opt("backup", Kind::Bool),
        opt("validate", Kind::Str),
        opt("encoding", Kind::Str),
    ],
)
.file_common();

/// `re.subn(pattern, replacement, text)`: the new text and the number of replacements. The
/// template is parsed before the search, as Python's `re.subn` does: a bad one fails even
/// where nothing matches (ansible/ansible#79364).
fn subn(re: &fancy_regex::Regex, replacement: &str, text: &str) -> Result<(String, usize), String> {
    let names = super::pyre::group_names(re);
    let pieces = super::pyre::parse_template(replacement, re.captures_len(), &names)?;
    let mut out = String::with_capacity(text.len());
    let mut last = 0;
    let mut count = 0;
    for caps in re.captures_iter(text) {
        let caps = caps.map_err(|e| e.to_string())?;
        let Some(m) = caps.get(0) else { continue };
        out.push_str(&text[last..m.start()]);
        out.push_str(&super::pyre::expand_pieces(&caps, &pieces));
        last = m.end();
        count += 1;
    }
    out.push_str(&text[last..]);
    Ok((out, count))
}

impl Module for Replace {
    fn run(&self, ctx: &mut ModuleCtx<'_>, args: &Args) -> ModuleResult {
        let args = match super::validated(ctx, &SPEC, args) {
            Ok(a) => a,
            Err(r) => return r,
        };
        let path = arg_str(&args, "path").unwrap_or_default();
        let regexp = arg_str(&args, "regexp").unwrap_or_default();
        let replacement = arg_str(&args, "replace").unwrap_or_default();
        let after = arg_str(&args, "after").filter(|s| !s.is_empty());
        let before = arg_str(&args, "before").filter(|s| !s.is_empty());
        let encoding = arg_str(&args, "encoding").unwrap_or_else(|| "utf-8".into());
        if !["utf-8", "utf8", "ascii"].contains(&encoding.to_lowercase().as_str()) {
            return super::fail(&format!(
                "fleetsim does not simulate the option 'encoding' of replace with '{encoding}' (only utf-8)"
            ));
        }
        let check = ctx.check_mode;
        let now = ctx.world.clock.now();
        let host = match ctx.target_host() {
            Ok(h) => h,
            Err(r) => return r,
        };
        let with_rc = |rc: i64, msg: String| {
            let mut r = super::fail(&msg);
            r.insert("rc".into(), json!(rc));
            r
        };
        if host.fs.is_dir(&path) {
            return with_rc(256, format!("Path {path} is a directory !"));
        }
        if !host.fs.exists(&path) {
            return with_rc(257, format!("Path {path} does not exist !"));
        }
        let contents = match host.fs.read(&path) {
            Ok(d) => String::from_utf8_lossy(&d).into_owned(),
            Err(e) => return super::fail(&format!("Unable to read the contents of '{path}': {e}")),
        };
        let section_pattern = match (&after, &before) {
            (Some(a), Some(b)) => Some(format!("{a}(?P<subsection>.*?){b}")),
            (Some(a), None) => Some(format!("{a}(?P<subsection>.*)")),
            (None, Some(b)) => Some(format!("(?P<subsection>.*){b}")),
            _ => None,
        };
        let mut res = super::ok(false);
        res.insert("rc".into(), json!(0));
        let (section, span) = match &section_pattern {
            Some(p) => {
                let re = match super::pyre::compile(&format!("(?s){p}"), false) {
                    Ok(r) => r,
                    Err(e) => {
                        return super::fail(&format!("Unable to process replace due to error: {e}"))
                    }
                };
                match re
                    .captures(&contents)
                    .ok()
                    .flatten()
                    .and_then(|c| c.name("subsection").map(|m| (m.start(), m.end())))
                {
                    Some((s, e)) => (contents[s..e].to_string(), Some((s, e))),
                    None => {
                        res.insert(
                            "msg".into(),
                            json!(format!(
                                "Pattern for before/after params did not match the given file: {p}"
                            )),
                        );
                        return res;
                    }
                }
            }
            None => (contents.clone(), None),
        };
        let mre = match super::pyre::compile(&regexp, true) {
            Ok(r) => r,
            Err(e) => return super::fail(&format!("Unable to process replace due to error: {e}")),
        };
        let (replaced, count) = match subn(&mre, &replacement, &section) {
            Ok(x) => x,
            Err(e) => return super::fail(&format!("Unable to process replace due to error: {e}")),
        };
        let mut changed = false;
        let mut msg = String::new();
        let mut new_text = contents.clone();
        if count > 0 && replaced != section {
            new_text = match span {
                Some((s, e)) => format!("{}{}{}", &contents[..s], replaced, &contents[e..]),
                None => replaced,
            };
            msg = format!("{count} replacements made");
            changed = true;
            res.insert(
                "diff".into(),
                json!({"before_header": path, "before": contents, "after_header": path, "after": new_text}),
            );
        }
        if changed && !check {
            if args.get("backup").and_then(Value::as_bool).unwrap_or(false) {
                match super::backup_local(&mut host.fs, &path, check) {
                    Ok(b) => {
                        res.insert("backup_file".into(), json!(b));
                    }
                    Err(r) => return r,
                }
            }
            if let Err(r) = super::lineinfile::write_changes(
                arg_str(&args, "validate").as_deref(),
                host,
                now,
                &path,
                new_text.as_bytes(),
            ) {
                return r;
            }
        }
        if let Err(e) = super::file::apply_attrs_noting_change(
            &mut host.fs,
            &path,
            &args,
            check,
            &mut changed,
            &mut msg,
        ) {
            return super::fail(&e);
        }
        res.insert("msg".into(), json!(msg));
        res.insert("changed".into(), json!(changed));
        res
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subn_expands_groups_on_every_line() {
        let re = super::super::pyre::compile(r"^(\w+)=old$", true).unwrap();
        let (text, n) = subn(&re, r"\1=new", "a=old\nb=old\nc=keep\n").unwrap();
        assert_eq!(text, "a=new\nb=new\nc=keep\n");
        assert_eq!(n, 2);
    }

    #[test]
    fn bad_template_fails_without_a_match() {
        let re = super::super::pyre::compile(r"\.", true).unwrap();
        assert_eq!(
            subn(&re, r"\D", "").unwrap_err(),
            "bad escape \\D at position 0"
        );
    }
}
