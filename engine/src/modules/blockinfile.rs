//! `blockinfile`: insert, replace or remove a block of lines between marker lines
//! (`# BEGIN ANSIBLE MANAGED BLOCK` / `# END ...`), with `prepend_newline`/`append_newline`,
//! backup and validate: a port of ansible-core 2.19's module.

use serde_json::{json, Value};

use super::spec::{opt, spec, Kind, ModuleName, Spec};
use super::{arg_str, Args, Module, ModuleCtx, ModuleResult};

pub struct BlockInFile;

const SPEC: Spec = spec(
    ModuleName::AsWritten,
    &[
        opt("path", Kind::Path)
            .aliases(&["dest", "destfile", "name"])
            .required(),
        opt("state", Kind::Str).choices(&["absent", "present"]),
        opt("marker", Kind::Str),
        opt("block", Kind::Str).aliases(&["content"]),
        opt("insertafter", Kind::Str),
        opt("insertbefore", Kind::Str),
        opt("create", Kind::Bool),
        opt("backup", Kind::Bool),
        opt("validate", Kind::Str),
        opt("marker_begin", Kind::Str),
        opt("marker_end", Kind::Str),
        opt("append_newline", Kind::Bool),
        opt("prepend_newline", Kind::Bool),
    ],
)
.file_common()
.mutually_exclusive(&[&["insertbefore", "insertafter"]]);

/// The block placed into `lines`: where, with the blank lines asked for around it.
struct Edit<'a> {
    present: bool,
    block: &'a str,
    marker0: String,
    marker1: String,
    insertafter: Option<&'a str>,
    insertbefore: Option<&'a str>,
    prepend_newline: bool,
    append_newline: bool,
}

/// Whether a Python pattern sets `re.MULTILINE` inline (`(?m)`, `(?im)`: global flags lead
/// the pattern).
fn multiline_flag(pattern: &str) -> bool {
    pattern
        .strip_prefix("(?")
        .and_then(|rest| rest.split_once(')'))
        .is_some_and(|(flags, _)| {
            flags.contains('m') && flags.chars().all(|c| "aiLmsux".contains(c))
        })
}

fn apply(lines: &mut Vec<String>, e: &Edit<'_>) -> Result<bool, String> {
    let (mut insertafter, insertbefore) = (e.insertafter, e.insertbefore);
    if insertafter.is_none() && insertbefore.is_none() {
        insertafter = Some("EOF");
    }
    let insertre = match (insertafter, insertbefore) {
        (Some(a), _) if a != "EOF" => Some(super::pyre::compile(a, false)?),
        (None, Some(b)) if b != "BOF" => Some(super::pyre::compile(b, false)?),
        _ => None,
    };
    let blocklines: Vec<String> = if e.present && !e.block.is_empty() {
        let mut block = e.block.to_string();
        if !block.ends_with('\n') {
            block.push('\n');
        }
        let mut b = vec![e.marker0.clone()];
        b.extend(block.split_inclusive('\n').map(str::to_string));
        b.push(e.marker1.clone());
        b
    } else {
        Vec::new()
    };
    let (mut n0, mut n1) = (None, None);
    for (i, l) in lines.iter().enumerate() {
        if *l == e.marker0 {
            n0 = Some(i);
        }
        if *l == e.marker1 {
            n1 = Some(i);
        }
    }
    let mut at = match (n0, n1) {
        (Some(a), Some(b)) if a < b => {
            lines.drain(a..=b);
            a
        }
        (Some(a), Some(b)) => {
            lines.drain(b..=a);
            b
        }
        _ => match &insertre {
            // A pattern with the inline MULTILINE flag searches the whole text; the block
            // goes after the line the match ends on (before the one it starts on).
            Some(re) if multiline_flag(insertafter.or(insertbefore).unwrap_or_default()) => {
                let original: String = lines.concat();
                match re.find(&original).ok().flatten() {
                    None => lines.len(),
                    Some(m) if insertafter.is_some() => {
                        original[..m.end()].matches('\n').count() + 1
                    }
                    Some(m) => original[..m.start()].matches('\n').count(),
                }
            }
            Some(re) => {
                let found = lines
                    .iter()
                    .rposition(|l| super::pyre::search(re, l.trim_end_matches('\n')));
                match found {
                    None => lines.len(),
                    Some(i) if insertafter.is_some() => i + 1,
                    Some(i) => i,
                }
            }
            None if insertbefore.is_some() => 0,
            None => lines.len(),
        },
    };
    if at > 0 && !lines[at - 1].ends_with('\n') {
        lines[at - 1].push('\n');
    }
    if e.prepend_newline && e.present && at != 0 && lines[at - 1] != "\n" {
        lines.insert(at, "\n".into());
        at += 1;
    }
    let added = blocklines.len();
    for (k, l) in blocklines.into_iter().enumerate() {
        lines.insert(at + k, l);
    }
    if e.append_newline && e.present {
        let after = at + added;
        if after < lines.len() && lines[after] != "\n" {
            lines.insert(after, "\n".into());
        }
    }
    Ok(added > 0)
}

impl Module for BlockInFile {
    fn run(&self, ctx: &mut ModuleCtx<'_>, args: &Args) -> ModuleResult {
        let args = match super::validated(ctx, &SPEC, args) {
            Ok(a) => a,
            Err(r) => return r,
        };
        let path = arg_str(&args, "path").unwrap_or_default();
        let text =
            |name: &str, default: &str| arg_str(&args, name).unwrap_or_else(|| default.into());
        let flag = |name: &str| args.get(name).and_then(Value::as_bool).unwrap_or(false);
        let present = text("state", "present") == "present";
        let marker = text("marker", "# {mark} ANSIBLE MANAGED BLOCK");
        let block = text("block", "");
        let insertafter = arg_str(&args, "insertafter");
        let insertbefore = arg_str(&args, "insertbefore");
        let validate = arg_str(&args, "validate");
        let check = ctx.check_mode;
        let diff_mode = ctx.diff;
        let now = ctx.world.clock.now();
        let host = match ctx.target_host() {
            Ok(h) => h,
            Err(r) => return r,
        };
        if host.fs.is_dir(&path) {
            let mut r = super::fail(&format!("Path {path} is a directory !"));
            r.insert("rc".into(), json!(256));
            return r;
        }
        let exists = host.fs.exists(&path);
        if !exists {
            if !flag("create") {
                let mut r = super::fail(&format!("Path {path} does not exist !"));
                r.insert("rc".into(), json!(257));
                return r;
            }
            let dir = match path.rfind('/') {
                Some(0) => "/".to_string(),
                Some(i) => path[..i].to_string(),
                None => String::new(),
            };
            if !dir.is_empty() && !host.fs.exists(&dir) && !check {
                if let Err(e) = host.fs.mkdir(&dir, true) {
                    return super::fail(&format!("Error creating {dir} Error: {e}"));
                }
            }
        }
        let original = if exists {
            host.fs.read_to_string(&path).unwrap_or_default()
        } else {
            String::new()
        };
        if !present && !exists {
            let mut r = super::ok(false);
            r.insert("msg".into(), json!(format!("File {path} not present")));
            return r;
        }
        let mut lines: Vec<String> = original.split_inclusive('\n').map(str::to_string).collect();
        let edit = Edit {
            present,
            block: &block,
            marker0: format!(
                "{}\n",
                marker.replace("{mark}", &text("marker_begin", "BEGIN"))
            ),
            marker1: format!("{}\n", marker.replace("{mark}", &text("marker_end", "END"))),
            insertafter: insertafter.as_deref(),
            insertbefore: insertbefore.as_deref(),
            prepend_newline: flag("prepend_newline"),
            append_newline: flag("append_newline"),
        };
        let has_block = match apply(&mut lines, &edit) {
            Ok(b) => b,
            Err(e) => return super::fail(&e),
        };
        let result = lines.concat();
        let (mut msg, mut changed) = if exists && original == result {
            (String::new(), false)
        } else if !exists {
            ("File created".to_string(), true)
        } else if !has_block {
            ("Block removed".to_string(), true)
        } else {
            ("Block inserted".to_string(), true)
        };
        let mut backup_file = None;
        if changed && !check {
            if flag("backup") && exists {
                match super::backup_local(&mut host.fs, &path, check) {
                    Ok(b) => backup_file = Some(b),
                    Err(r) => return r,
                }
            }
            if let Err(r) = super::lineinfile::write_changes(
                validate.as_deref(),
                host,
                now,
                &path,
                result.as_bytes(),
            ) {
                return r;
            }
        }
        let mut r = super::ok(changed);
        if let Some(d) =
            super::content_diff(diff_mode, &path, &original, &result).filter(|_| changed)
        {
            r.insert("diff".into(), d);
        }
        if (exists || !check) && host.fs.exists(&path) {
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
        }
        r.insert("changed".into(), json!(changed));
        r.insert("msg".into(), json!(msg));
        if let Some(b) = backup_file {
            r.insert("backup_file".into(), json!(b));
        }
        r
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn edit<'a>(block: &'a str) -> Edit<'a> {
        Edit {
            present: true,
            block,
            marker0: "# BEGIN\n".into(),
            marker1: "# END\n".into(),
            insertafter: None,
            insertbefore: None,
            prepend_newline: false,
            append_newline: false,
        }
    }

    #[test]
    fn blank_lines_around_the_block() {
        let mut lines: Vec<String> = vec!["a\n".into(), "b\n".into()];
        let mut e = edit("x");
        e.insertafter = Some("^a");
        e.prepend_newline = true;
        e.append_newline = true;
        apply(&mut lines, &e).unwrap();
        assert_eq!(lines.concat(), "a\n\n# BEGIN\nx\n# END\n\nb\n");
        // Again: the block is replaced in place, the blank lines are not doubled.
        apply(&mut lines, &e).unwrap();
        assert_eq!(lines.concat(), "a\n\n# BEGIN\nx\n# END\n\nb\n");
    }

    #[test]
    fn removal_takes_the_markers() {
        let mut lines: Vec<String> = vec![
            "a\n".into(),
            "# BEGIN\n".into(),
            "x\n".into(),
            "# END\n".into(),
        ];
        let mut e = edit("");
        e.present = false;
        assert!(!apply(&mut lines, &e).unwrap());
        assert_eq!(lines.concat(), "a\n");
    }
}
