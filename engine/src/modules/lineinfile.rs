//! `lineinfile`: make sure a line is in a file (replacing the last, or with `firstmatch` the
//! first, `regexp`/`search_string` match, else inserting after/before a match or at the
//! end), or remove matching lines. A port of ansible-core 2.19's `present()`/`absent()`.

use std::borrow::Cow;

use serde_json::json;

use fleetsim_sim::fs::{Sandbox, WriteMode};

use super::spec::{opt, spec, Kind, ModuleName, Spec};
use super::{arg_str, Args, Module, ModuleCtx, ModuleResult};

pub struct LineInFile;

const SPEC: Spec = spec(
    ModuleName::AsWritten,
    &[
        opt("path", Kind::Path)
            .aliases(&["dest", "destfile", "name"])
            .required(),
        opt("state", Kind::Str).choices(&["absent", "present"]),
        opt("regexp", Kind::Str).aliases(&["regex"]),
        opt("search_string", Kind::Str),
        opt("line", Kind::Str).aliases(&["value"]),
        opt("insertafter", Kind::Str),
        opt("insertbefore", Kind::Str),
        opt("backrefs", Kind::Bool),
        opt("create", Kind::Bool),
        opt("backup", Kind::Bool),
        opt("firstmatch", Kind::Bool),
        opt("validate", Kind::Str),
    ],
)
.file_common()
.mutually_exclusive(&[
    &["insertbefore", "insertafter"],
    &["regexp", "search_string"],
    &["backrefs", "search_string"],
]);

/// What the edit needs besides the file's lines.
struct Want<'a> {
    regexp: Option<&'a fancy_regex::Regex>,
    search_string: Option<&'a str>,
    line: &'a str,
    insertafter: Option<&'a str>,
    insertbefore: Option<&'a str>,
    backrefs: bool,
    firstmatch: bool,
}

/// A line without its line ending.
fn bare(l: &str) -> &str {
    l.trim_end_matches(['\r', '\n'])
}

/// `present()`: the lines after the edit and its message (empty when nothing changed).
fn present(lines: &mut Vec<Cow<'_, str>>, want: &Want<'_>) -> Result<String, String> {
    let line = want.line;
    let bre_ins = match (want.insertafter, want.insertbefore) {
        (Some(a), _) if a != "BOF" && a != "EOF" => Some(super::pyre::compile(a, false)?),
        (None, Some(b)) if b != "BOF" => Some(super::pyre::compile(b, false)?),
        _ => None,
    };
    // index[0]: the line the regexp/search_string (or the exact line) is on;
    // index[1]: where insertafter/insertbefore points.
    let mut index: [i64; 2] = [-1, -1];
    let mut matched: Option<String> = None;
    let mut exact_line_match = false;
    if let Some(re) = want.regexp {
        for (n, cur) in lines.iter().enumerate() {
            if let Ok(Some(caps)) = re.captures(bare(cur)) {
                index[0] = n as i64;
                matched = Some(if want.backrefs {
                    super::pyre::expand(&caps, line, &super::pyre::group_names(re))?
                } else {
                    line.to_string()
                });
                if want.firstmatch {
                    break;
                }
            }
        }
    }
    if let Some(s) = want.search_string {
        for (n, cur) in lines.iter().enumerate() {
            if cur.contains(s) {
                index[0] = n as i64;
                matched = Some(line.to_string());
                if want.firstmatch {
                    break;
                }
            }
        }
    }
    if matched.is_none() {
        for (n, cur) in lines.iter().enumerate() {
            if bare(cur) == line {
                index[0] = n as i64;
                exact_line_match = true;
            } else if let Some(re) = &bre_ins {
                if super::pyre::search(re, bare(cur)) {
                    if want.insertafter.is_some() {
                        index[1] = n as i64 + 1;
                        if want.firstmatch {
                            break;
                        }
                    }
                    if want.insertbefore.is_some() {
                        index[1] = n as i64;
                        if want.firstmatch {
                            break;
                        }
                    }
                }
            }
        }
    }
    let with_nl = |l: &str| Cow::Owned(format!("{l}\n"));
    let ends_nl = |l: &str| l.ends_with('\n') || l.ends_with('\r');
    let mut msg = String::new();
    if index[0] != -1 {
        let mut new_line = matched.clone().unwrap_or_else(|| line.to_string());
        if !new_line.ends_with('\n') {
            new_line.push('\n');
        }
        let no_search = want.regexp.is_none() && want.search_string.is_none() && matched.is_none();
        if no_search && !exact_line_match {
            // Only reached through insertafter/insertbefore matching with the exact line
            // absent; ansible-core keeps this branch, so does the port.
            let i1 = index[1];
            if want.insertafter.is_some_and(|a| a != "EOF") {
                if let Some(last) = lines.last_mut() {
                    if !ends_nl(last) {
                        last.to_mut().push('\n');
                    }
                }
                let i = i1.max(0) as usize;
                if lines.len() == i {
                    if i > 0 && bare(&lines[i - 1]) != line {
                        lines.push(with_nl(line));
                        msg = "line added".into();
                    }
                } else if i < lines.len() && bare(&lines[i]) != line {
                    lines.insert(i, with_nl(line));
                    msg = "line added".into();
                }
            } else if want.insertbefore.is_some_and(|b| b != "BOF") {
                let i = i1.max(0) as usize;
                let prev_differs = if i1 <= 0 {
                    lines.first().is_some_and(|l| bare(l) != line)
                } else {
                    bare(&lines[i - 1]) != line
                };
                if prev_differs {
                    lines.insert(i, with_nl(line));
                    msg = "line added".into();
                }
            }
        } else {
            let i0 = index[0] as usize;
            if lines[i0] != new_line {
                lines[i0] = Cow::Owned(new_line);
                msg = "line replaced".into();
            }
        }
    } else if want.backrefs {
        // Without a match the backreferences have nothing to fill them: leave the file.
    } else if want.insertbefore == Some("BOF") || want.insertafter == Some("BOF") {
        lines.insert(0, with_nl(line));
        msg = "line added".into();
    } else if want.insertafter == Some("EOF") || index[1] == -1 {
        if let Some(last) = lines.last() {
            if !ends_nl(last) {
                lines.push(Cow::Borrowed("\n"));
            }
        }
        lines.push(with_nl(line));
        msg = "line added".into();
    } else if want.insertafter.is_some() && index[1] != -1 {
        let i = index[1] as usize;
        if lines.len() == i {
            if bare(&lines[i - 1]) != line {
                lines.push(with_nl(line));
                msg = "line added".into();
            }
        } else if bare(&lines[i]) != line {
            lines.insert(i, with_nl(line));
            msg = "line added".into();
        }
    } else {
        lines.insert(index[1].max(0) as usize, with_nl(line));
        msg = "line added".into();
    }
    Ok(msg)
}

/// [`present`] for the common edit, `line` alone (no regexp or search_string, no anchor
/// but the default `insertafter: EOF`, no backrefs), decided without splitting the file
/// into lines: a log that every host of a fleet appends to is otherwise split once per
/// host. `Some(None)`: the last line equal to `line` is there as written, nothing changes;
/// `Some(Some(tail))`: `tail` is what the edit appends; `None`: another edit, or the line
/// is there with another line ending, for [`present`] to decide.
fn exact_line_edit(original: &str, want: &Want<'_>) -> Option<Option<String>> {
    let line = want.line;
    let simple = want.regexp.is_none()
        && want.search_string.is_none()
        && want.insertafter == Some("EOF")
        && want.insertbefore.is_none()
        && !want.backrefs
        && !line.is_empty()
        && !line.contains(['\r', '\n']);
    if !simple {
        return None;
    }
    // present() replaces the last line that is `line` once its line ending is trimmed: a
    // match that starts a line and that only `\r`s and then `\n` (or the end) follow.
    // (`line` holds neither, so a match that overlaps a whole-line one cannot hide it.)
    // The search runs forward and keeps the last such line: memmem's forward search is
    // vectorised, its reverse one is not (a reverse search was most of a 10,000-host run).
    let mut last_ending = None;
    for at in memchr::memmem::find_iter(original.as_bytes(), line.as_bytes()) {
        let starts_line = at == 0 || original.as_bytes()[at - 1] == b'\n';
        let rest = &original[at + line.len()..];
        let end = rest.find('\n').map_or(rest.len(), |i| i + 1);
        let ending = &rest[..end];
        if starts_line && ending.trim_end_matches(['\r', '\n']).is_empty() {
            last_ending = Some(ending);
        }
    }
    if let Some(ending) = last_ending {
        return (ending == "\n").then_some(None);
    }
    let newline_first = !original.is_empty() && !original.ends_with(['\n', '\r']);
    Some(Some(format!(
        "{}{line}\n",
        if newline_first { "\n" } else { "" }
    )))
}

/// How many times `byte` occurs in `bytes`.
fn count_byte(bytes: &[u8], byte: u8) -> usize {
    bytes.iter().filter(|&&b| b == byte).count()
}

/// `absent()`: removes the matching lines and returns how many.
fn absent(
    lines: &mut Vec<Cow<'_, str>>,
    regexp: Option<&fancy_regex::Regex>,
    search_string: Option<&str>,
    line: Option<&str>,
) -> usize {
    let before = lines.len();
    lines.retain(|l| {
        let hit = match (regexp, search_string) {
            (Some(re), _) => super::pyre::search(re, l.trim_end_matches('\n')),
            (None, Some(s)) => l.contains(s),
            (None, None) => Some(l.trim_end_matches(['\r', '\n'])) == line,
        };
        !hit
    });
    before - lines.len()
}

/// A file's text as read, and whether it is that text byte for byte (`false` when it is
/// missing, unreadable, or was mended from invalid UTF-8).
fn read_text(host: &fleetsim_sim::host::Host, path: &str) -> (String, bool) {
    match host.fs.read(path) {
        Ok(bytes) => match String::from_utf8(bytes) {
            Ok(text) => (text, true),
            Err(e) => (String::from_utf8_lossy(e.as_bytes()).into_owned(), false),
        },
        Err(_) => (String::new(), false),
    }
}

/// Writes the new content through `validate` (when given) and the backup (when asked).
pub(super) fn write_changes(
    ctx_validate: Option<&str>,
    host: &mut fleetsim_sim::host::Host,
    now: f64,
    path: &str,
    data: &[u8],
) -> Result<(), ModuleResult> {
    if let Some(v) = ctx_validate {
        if !v.contains("%s") {
            return Err(super::fail(&format!("validate must contain %s: {v}")));
        }
        let out = super::command::validate_with(host, now, v, data)?;
        if out.rc != 0 {
            return Err(super::fail(&format!(
                "failed to validate: rc:{} error:{}",
                out.rc,
                out.stderr_str()
            )));
        }
    }
    write_file(&mut host.fs, path, data)
}

fn write_file(fs: &mut Sandbox, path: &str, data: &[u8]) -> Result<(), ModuleResult> {
    fs.write(path, data, WriteMode::Truncate)
        .map_err(|e| super::fail(&e.to_string()))
}

impl Module for LineInFile {
    fn run(&self, ctx: &mut ModuleCtx<'_>, args: &Args) -> ModuleResult {
        let args = match super::validated(ctx, &SPEC, args) {
            Ok(a) => a,
            Err(r) => return r,
        };
        let path = arg_str(&args, "path").unwrap_or_default();
        let state = arg_str(&args, "state").unwrap_or_else(|| "present".into());
        let regexp_text = arg_str(&args, "regexp");
        let regexp = match &regexp_text {
            Some(r) => match super::pyre::compile(r, false) {
                Ok(re) => Some(re),
                Err(e) => return super::fail(&format!("Invalid regexp '{r}': {e}")),
            },
            None => None,
        };
        let search_string = arg_str(&args, "search_string");
        let line = arg_str(&args, "line");
        let flag = |name: &str| args.get(name).and_then(|v| v.as_bool()).unwrap_or(false);
        let (create, backup, backrefs, firstmatch) = (
            flag("create"),
            flag("backup"),
            flag("backrefs"),
            flag("firstmatch"),
        );
        let validate = arg_str(&args, "validate");
        let check = ctx.check_mode;
        let diff_mode = ctx.diff;
        let now = ctx.world.clock.now();
        // ansible-core warns about an empty regexp/search_string (it matches every line);
        // module warnings do not reach fleetsim's callback yet, so the edit just goes ahead.
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
        let mut result = if state == "present" {
            if backrefs && regexp.is_none() {
                return super::fail("regexp is required with backrefs=true");
            }
            let Some(line) = line else {
                return super::fail("line is required with state=present");
            };
            let (insertafter, insertbefore) = match (
                arg_str(&args, "insertafter"),
                arg_str(&args, "insertbefore"),
            ) {
                (None, None) => (Some("EOF".to_string()), None),
                other => other,
            };
            if !exists {
                if !create {
                    let mut r = super::fail(&format!("Destination {path} does not exist !"));
                    r.insert("rc".into(), json!(257));
                    return r;
                }
                let dir = parent(&path);
                if !dir.is_empty() && !host.fs.exists(&dir) && !check {
                    if let Err(e) = host.fs.mkdir(&dir, true) {
                        return super::fail(&format!("Error creating {dir} ({e})"));
                    }
                }
            }
            // Whether the file as read is the text below byte for byte: then an edit that
            // only adds lines at the end appends them instead of writing the whole file again.
            let (original, verbatim) = read_text(host, &path);
            let want = Want {
                regexp: regexp.as_ref(),
                search_string: search_string.as_deref(),
                line: &line,
                insertafter: insertafter.as_deref(),
                insertbefore: insertbefore.as_deref(),
                backrefs,
                firstmatch,
            };
            // The edit: the text it adds at the end when that is all it does, and the whole
            // new text when it was built (the line-by-line path builds it anyway).
            let (msg, tail, built) = match exact_line_edit(&original, &want) {
                Some(tail) => {
                    let msg = if tail.is_some() { "line added" } else { "" };
                    (msg.to_string(), tail, None)
                }
                None => {
                    let mut lines: Vec<Cow<'_, str>> =
                        Vec::with_capacity(count_byte(original.as_bytes(), b'\n') + 2);
                    lines.extend(original.split_inclusive('\n').map(Cow::Borrowed));
                    let msg = match present(&mut lines, &want) {
                        Ok(m) => m,
                        Err(e) => return super::fail(&e),
                    };
                    let new_text = lines.concat();
                    let tail = new_text.strip_prefix(original.as_str()).map(str::to_string);
                    (msg, tail, Some(new_text))
                }
            };
            let changed = !msg.is_empty();
            let new_text = || match &built {
                Some(text) => Cow::Borrowed(text.as_str()),
                None => Cow::Owned(format!("{original}{}", tail.as_deref().unwrap_or(""))),
            };
            let mut backup_dest = String::new();
            if changed && !check {
                if backup && exists {
                    match super::backup_local(&mut host.fs, &path, check) {
                        Ok(b) => backup_dest = b,
                        Err(r) => return r,
                    }
                }
                let appended = tail
                    .as_deref()
                    .filter(|_| verbatim && validate.is_none() && !original.is_empty());
                let written = match appended {
                    Some(tail) => host
                        .fs
                        .write(&path, tail.as_bytes(), WriteMode::Append)
                        .map_err(|e| super::fail(&e.to_string())),
                    None => {
                        write_changes(validate.as_deref(), host, now, &path, new_text().as_bytes())
                    }
                };
                if let Err(r) = written {
                    return r;
                }
            }
            let mut r = super::ok(changed);
            r.insert("msg".into(), json!(msg));
            r.insert("backup".into(), json!(backup_dest));
            // Without --diff the texts are not compared: no need to build the new one.
            let after = if diff_mode && changed {
                new_text()
            } else {
                Cow::Borrowed("")
            };
            if let Some(d) =
                super::content_diff(diff_mode, &path, &original, &after).filter(|_| changed)
            {
                r.insert("diff".into(), d);
            }
            if check && !exists {
                return r;
            }
            r
        } else {
            if regexp.is_none() && search_string.is_none() && line.is_none() {
                return super::fail(
                    "one of line, search_string, or regexp is required with state=absent",
                );
            }
            if !exists {
                let mut r = super::ok(false);
                r.insert("msg".into(), json!("file not present"));
                return r;
            }
            // Removing lines never only appends: the whole new text is written.
            let (original, _) = read_text(host, &path);
            let mut lines: Vec<Cow<'_, str>> =
                Vec::with_capacity(count_byte(original.as_bytes(), b'\n') + 2);
            lines.extend(original.split_inclusive('\n').map(Cow::Borrowed));
            let found = absent(
                &mut lines,
                regexp.as_ref(),
                search_string.as_deref(),
                line.as_deref(),
            );
            let changed = found > 0;
            let new_text = lines.concat();
            let mut backup_dest = String::new();
            if changed && !check {
                if backup {
                    match super::backup_local(&mut host.fs, &path, check) {
                        Ok(b) => backup_dest = b,
                        Err(r) => return r,
                    }
                }
                if let Err(r) =
                    write_changes(validate.as_deref(), host, now, &path, new_text.as_bytes())
                {
                    return r;
                }
            }
            let mut r = super::ok(changed);
            r.insert("found".into(), json!(found));
            r.insert(
                "msg".into(),
                json!(if changed {
                    format!("{found} line(s) removed")
                } else {
                    String::new()
                }),
            );
            r.insert("backup".into(), json!(backup_dest));
            if let Some(d) =
                super::content_diff(diff_mode, &path, &original, &new_text).filter(|_| changed)
            {
                r.insert("diff".into(), d);
            }
            r
        };
        // check_file_attrs: mode, owner and group.
        if host.fs.exists(&path) {
            let mut changed = result.get("changed") == Some(&json!(true));
            let mut msg = result
                .get("msg")
                .and_then(|m| m.as_str())
                .unwrap_or_default()
                .to_string();
            let msg_len = msg.len();
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
            if msg.len() != msg_len {
                result.insert("msg".into(), json!(msg));
                result.insert("changed".into(), json!(changed));
            }
        }
        result
    }
}

fn parent(path: &str) -> String {
    match path.rfind('/') {
        Some(0) => "/".to_string(),
        Some(i) => path[..i].to_string(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(text: &str) -> Vec<Cow<'_, str>> {
        text.split_inclusive('\n').map(Cow::Borrowed).collect()
    }

    fn want<'a>(line: &'a str) -> Want<'a> {
        Want {
            regexp: None,
            search_string: None,
            line,
            insertafter: Some("EOF"),
            insertbefore: None,
            backrefs: false,
            firstmatch: false,
        }
    }

    #[test]
    fn the_exact_line_shortcut_agrees_with_present() {
        let texts = [
            "",
            "x",
            "x\n",
            "x\r\n",
            "a\nx",
            "a\nx\r",
            "a\nxx\nx\n",
            "a\nxx\n",
            "a\nax\nb\n",
            "x\nb\nx\r\n",
            "x\r\nb\nx\n",
            "b\n\r",
            "b",
            "xx",
        ];
        let mut decided = 0;
        for text in texts {
            for line in ["x", "xx", "a"] {
                let w = want(line);
                let mut l = lines(text);
                let msg = present(&mut l, &w).unwrap();
                match exact_line_edit(text, &w) {
                    Some(None) => assert_eq!((msg.as_str(), l.concat()), ("", text.into())),
                    Some(Some(tail)) => {
                        assert_eq!(msg, "line added", "{text:?} {line:?}");
                        assert_eq!(l.concat(), format!("{text}{tail}"), "{text:?} {line:?}");
                    }
                    None => {
                        assert_eq!(msg, "line replaced", "{text:?} {line:?}");
                        continue;
                    }
                }
                decided += 1;
            }
        }
        assert!(decided > 30);
        // Any other edit is left to present().
        let mut w = want("x");
        w.insertafter = None;
        assert_eq!(exact_line_edit("a\n", &w), None);
        assert_eq!(exact_line_edit("a\n", &want("x\ny")), None);
    }

    #[test]
    fn insertafter_first_or_last_match() {
        let mut l = lines("[a]\nk=1\n[a]\nk=2\n");
        let mut w = want("x");
        w.insertafter = Some("^\\[a\\]");
        w.firstmatch = true;
        assert_eq!(present(&mut l, &w).unwrap(), "line added");
        assert_eq!(l.concat(), "[a]\nx\nk=1\n[a]\nk=2\n");
        w.line = "y";
        w.firstmatch = false;
        present(&mut l, &w).unwrap();
        assert_eq!(l.concat(), "[a]\nx\nk=1\n[a]\ny\nk=2\n");
    }

    #[test]
    fn named_backrefs() {
        let re = super::super::pyre::compile(r"^(?P<key>\w+)=(?P<val>\w+)$", false).unwrap();
        let mut l = lines("port=80\n");
        let mut w = want(r"\g<key>=8080 # was \g<val>");
        w.regexp = Some(&re);
        w.backrefs = true;
        assert_eq!(present(&mut l, &w).unwrap(), "line replaced");
        assert_eq!(l.concat(), "port=8080 # was 80\n");
    }

    #[test]
    fn backrefs_without_match_leave_the_file() {
        let re = super::super::pyre::compile(r"^nomatch(.*)$", false).unwrap();
        let mut l = lines("a\n");
        let mut w = want(r"\1");
        w.regexp = Some(&re);
        w.backrefs = true;
        assert_eq!(present(&mut l, &w).unwrap(), "");
        assert_eq!(l.concat(), "a\n");
    }

    #[test]
    fn absent_by_exact_line() {
        let mut l = lines("a\nb\na\n");
        assert_eq!(absent(&mut l, None, None, Some("a")), 2);
        assert_eq!(l.concat(), "b\n");
    }
}
