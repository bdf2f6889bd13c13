//! `template`: render a controller-side Jinja file (from the role's or playbook's
//! `templates/`) with the host's variables and write it like `copy` (force, backup,
//! validate, attributes). The whitespace options (`trim_blocks`, `lstrip_blocks`,
//! `newline_sequence`) come from the task and from a `#jinja2:` first line, as ansible-core
//! 2.19's template action and `TemplateOverrides` take them.

use serde_json::{json, Value};

use super::{arg_str, Args, Module, ModuleCtx, ModuleResult};

pub struct Template;

/// Options the template action consumes itself; the rest go to `copy`.
const TEMPLATE_ONLY: &[&str] = &[
    "newline_sequence",
    "block_start_string",
    "block_end_string",
    "variable_start_string",
    "variable_end_string",
    "comment_start_string",
    "comment_end_string",
    "trim_blocks",
    "lstrip_blocks",
    "output_encoding",
];

/// The Jinja defaults of the delimiters fleetsim's templar is built with.
const DEFAULT_DELIMITERS: &[(&str, &str)] = &[
    ("block_start_string", "{%"),
    ("block_end_string", "%}"),
    ("variable_start_string", "{{"),
    ("variable_end_string", "}}"),
    ("comment_start_string", "{#"),
    ("comment_end_string", "#}"),
];

/// How a template's text is lexed (`TemplateOverrides`, the parts fleetsim honours).
#[derive(Clone, Debug, PartialEq)]
struct Whitespace {
    trim_blocks: bool,
    lstrip_blocks: bool,
    newline_sequence: String,
}

impl Default for Whitespace {
    fn default() -> Self {
        Whitespace {
            trim_blocks: true,
            lstrip_blocks: false,
            newline_sequence: "\n".into(),
        }
    }
}

/// Splits off a `#jinja2: key: value, ...` first line and applies it over `ws`.
fn header_overrides(text: &str, ws: &mut Whitespace) -> Result<String, String> {
    const HEADER: &str = "#jinja2:";
    let Some(rest) = text.strip_prefix(HEADER) else {
        return Ok(text.to_string());
    };
    let Some(eol) = rest.find('\n') else {
        return Err(format!("Missing newline after {HEADER:?} override.").replace('"', "'"));
    };
    for pair in rest[..eol].split(',') {
        if pair.trim().is_empty() {
            return Err("Empty '#jinja2:' override pair not allowed.".into());
        }
        let Some((key, val)) = pair.split_once(':') else {
            return Err(format!(
                "Missing key-value separator `:` in '#jinja2:' override pair '{pair}'."
            ));
        };
        let key = key.trim();
        // ansible-core checks the key before it reads the value.
        let known = [
            "trim_blocks",
            "lstrip_blocks",
            "newline_sequence",
            "keep_trailing_newline",
            "line_statement_prefix",
            "line_comment_prefix",
        ];
        if !known.contains(&key) && !DEFAULT_DELIMITERS.iter().any(|(name, _)| *name == key) {
            return Err(format!("Invalid '#jinja2:' override key '{key}'."));
        }
        let val = literal(val.trim())
            .ok_or_else(|| format!("malformed node or string in '#jinja2:' override: {val}"))?;
        match (key, val) {
            ("trim_blocks", Value::Bool(b)) => ws.trim_blocks = b,
            ("lstrip_blocks", Value::Bool(b)) => ws.lstrip_blocks = b,
            ("newline_sequence", Value::String(s)) => ws.newline_sequence = s,
            ("keep_trailing_newline", Value::Bool(_)) => {
                // ansible-core restores the source's trailing newlines after rendering
                // whatever this says, for the template module.
            }
            (k, Value::String(s))
                if DEFAULT_DELIMITERS
                    .iter()
                    .any(|(name, def)| *name == k && *def == s) => {}
            (k, _) if DEFAULT_DELIMITERS.iter().any(|(name, _)| *name == k) => {
                return Err(format!(
                    "fleetsim does not simulate the '#jinja2:' override '{k}' (custom Jinja delimiters)"
                ));
            }
            ("line_statement_prefix" | "line_comment_prefix", Value::Null) => {}
            ("line_statement_prefix" | "line_comment_prefix", _) => {
                return Err(format!(
                    "fleetsim does not simulate the '#jinja2:' override '{key}'"
                ));
            }
            (k, _)
                if [
                    "trim_blocks",
                    "lstrip_blocks",
                    "newline_sequence",
                    "keep_trailing_newline",
                ]
                .contains(&k) =>
            {
                return Err(format!(
                    "'#jinja2:' override '{k}' has a value of the wrong type"
                ));
            }
            (k, _) => return Err(format!("Invalid '#jinja2:' override key '{k}'.")),
        }
    }
    Ok(rest[eol + 1..].to_string())
}

/// `ast.literal_eval` for the values a header holds: True/False/None and quoted strings.
fn literal(s: &str) -> Option<Value> {
    match s {
        "True" => return Some(json!(true)),
        "False" => return Some(json!(false)),
        "None" => return Some(Value::Null),
        _ => {}
    }
    let quote = s.chars().next().filter(|q| *q == '\'' || *q == '"')?;
    let inner = s.strip_prefix(quote)?.strip_suffix(quote)?;
    let mut out = String::new();
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next()? {
                'n' => out.push('\n'),
                'r' => out.push('\r'),
                't' => out.push('\t'),
                other => out.push(other),
            }
        } else {
            out.push(c);
        }
    }
    Some(json!(out))
}

/// Rewrites template source written for `ws` so that fleetsim's templar (trim_blocks on,
/// lstrip_blocks off, `\n` newlines) renders it the same: `+%}` keeps the newline after a
/// tag when trim_blocks is off, the blanks before a tag alone at the start of a line go when
/// lstrip_blocks is on, and newlines in the text become `newline_sequence`.
fn rewrite(src: &str, ws: &Whitespace) -> String {
    if *ws == Whitespace::default() {
        return src.to_string();
    }
    let mut out = String::with_capacity(src.len() + 16);
    let mut rest = src;
    // Whether only blanks follow the last newline written (or the start of the source).
    let mut line_start = true;
    let push_text = |out: &mut String, text: &str, line_start: &mut bool| {
        let normalised = text.replace("\r\n", "\n").replace('\r', "\n");
        for ch in normalised.chars() {
            if ch == '\n' {
                out.push_str(&ws.newline_sequence);
                *line_start = true;
            } else {
                if ch != ' ' && ch != '\t' {
                    *line_start = false;
                }
                out.push(ch);
            }
        }
    };
    while let Some(at) = ["{{", "{%", "{#"].iter().filter_map(|m| rest.find(m)).min() {
        let (text, tag) = rest.split_at(at);
        let kind = &tag[..2];
        let ws_control = tag[2..].starts_with(['-', '+']);
        let is_block = kind != "{{";
        let mut before = String::new();
        push_text(&mut before, text, &mut line_start);
        if is_block && ws.lstrip_blocks && !ws_control && line_start {
            let kept = before.trim_end_matches([' ', '\t']).len();
            before.truncate(kept);
        }
        out.push_str(&before);
        let end_marker = match kind {
            "{{" => "}}",
            "{%" => "%}",
            _ => "#}",
        };
        let Some(len) = tag_len(tag, end_marker, kind != "{#") else {
            // Unterminated: leave the rest for the templar to report.
            out.push_str(tag);
            return out;
        };
        let whole = &tag[..len];
        let emitted = if is_block && !ws.trim_blocks && !whole[..len - 2].ends_with(['-', '+']) {
            format!("{}+{end_marker}", &whole[..len - 2])
        } else {
            whole.to_string()
        };
        out.push_str(&emitted);
        // `{% raw %}` runs to `{% endraw %}` untouched.
        let inner = whole[2..len - 2].trim_matches(['-', '+', ' ', '\t', '\n']);
        if kind == "{%" && inner == "raw" {
            let after = &tag[len..];
            let end = find_endraw(after);
            out.push_str(&after[..end]);
            line_start = false;
            rest = &after[end..];
            continue;
        }
        line_start = false;
        rest = &tag[len..];
    }
    push_text(&mut out, rest, &mut line_start);
    out
}

/// The length of the tag at the start of `tag`, through `end`; quotes are skipped inside
/// expressions and statements (a `"%}"` in a string does not end the tag).
fn tag_len(tag: &str, end: &str, quoted: bool) -> Option<usize> {
    let bytes = tag.as_bytes();
    let mut i = 2;
    let mut quote: Option<u8> = None;
    while i < bytes.len() {
        let b = bytes[i];
        match quote {
            Some(q) => {
                if b == b'\\' {
                    i += 1;
                } else if b == q {
                    quote = None;
                }
            }
            None if quoted && (b == b'\'' || b == b'"') => quote = Some(b),
            None if tag[i..].starts_with(end) => return Some(i + end.len()),
            None => {}
        }
        i += 1;
    }
    None
}

/// Where the `{% endraw %}` tag starts in `s` (its end when there is none).
fn find_endraw(s: &str) -> usize {
    let mut from = 0;
    while let Some(at) = s[from..].find("{%") {
        let start = from + at;
        let inner = s[start + 2..].trim_start_matches(['-', '+']).trim_start();
        if inner.starts_with("endraw") {
            return start;
        }
        from = start + 2;
    }
    s.len()
}

impl Module for Template {
    fn run(&self, ctx: &mut ModuleCtx<'_>, args: &Args) -> ModuleResult {
        let flag = |name: &str, default: bool| -> Result<bool, ModuleResult> {
            match args.get(name) {
                None => Ok(default),
                Some(v) => super::to_bool(v).ok_or_else(|| {
                    super::action_fail(&format!(
                        "The value '{}' is not a valid boolean.",
                        crate::playbook::scalar_text(v)
                    ))
                }),
            }
        };
        let mut ws = Whitespace::default();
        match (flag("trim_blocks", true), flag("lstrip_blocks", false)) {
            (Ok(t), Ok(l)) => {
                ws.trim_blocks = t;
                ws.lstrip_blocks = l;
            }
            (Err(r), _) | (_, Err(r)) => return r,
        }
        if let Some(seq) = arg_str(args, "newline_sequence") {
            ws.newline_sequence = match seq.as_str() {
                "\\n" => "\n".into(),
                "\\r" => "\r".into(),
                "\\r\\n" => "\r\n".into(),
                other => other.to_string(),
            };
        }
        if args.get("state").is_some_and(|v| !v.is_null()) {
            return super::action_fail("'state' cannot be specified on a template");
        }
        let (Some(src), Some(dest)) = (arg_str(args, "src"), arg_str(args, "dest")) else {
            return super::action_fail("src and dest are required");
        };
        if !["\n", "\r", "\r\n"].contains(&ws.newline_sequence.as_str()) {
            return super::action_fail("newline_sequence needs to be one of: \n, \r or \r\n");
        }
        for (name, default) in DEFAULT_DELIMITERS {
            if let Some(v) = arg_str(args, name).filter(|v| v != default) {
                return super::action_fail(&format!(
                    "fleetsim does not simulate the option '{name}' of template (custom Jinja delimiters; '{v}' given)"
                ));
            }
        }
        if arg_str(args, "output_encoding")
            .is_some_and(|e| !e.eq_ignore_ascii_case("utf-8") && !e.eq_ignore_ascii_case("utf8"))
        {
            return super::action_fail(
                "fleetsim does not simulate the option 'output_encoding' of template (only utf-8)",
            );
        }
        let Some(real) = ctx.find_controller_file(&src, "templates") else {
            let searched: Vec<std::path::PathBuf> = ctx
                .search_dirs
                .iter()
                .flat_map(|d| [d.join("templates").join(&src), d.join(&src)])
                .collect();
            let mut r = super::fail(&super::controller_file_not_found(&src, &searched));
            r.insert("_ansible_raised".into(), json!(super::RAISED_FROM_ERROR));
            return r;
        };
        let text = match std::fs::read_to_string(&real) {
            Ok(t) => t,
            Err(e) => return super::action_fail(&format!("could not read {src}: {e}")),
        };
        let now = ctx.world.clock.now();
        let mtime = std::fs::metadata(&real)
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map_or(now, |d| d.as_secs_f64());
        // An absolute src is a path on the simulated controller; a relative one was found
        // in the project, where it really is.
        let fullpath = if std::path::Path::new(&src).is_absolute() {
            src.clone()
        } else {
            real.display().to_string()
        };
        let vars = crate::template::with_template_file_vars(
            &ctx.vars,
            &crate::template::TemplateFile {
                written: &src,
                fullpath: &fullpath,
                dest: Some(&dest),
                mtime,
                now,
            },
        );
        let body = match header_overrides(&text, &mut ws) {
            Ok(b) => b,
            Err(e) => return super::action_fail(&e),
        };
        // ansible-core's template action: the search path (role, task file and play
        // folders) and then the template's own folder, each with its `templates/` first.
        // An absolute src is the simulated controller's path; the loader reads it there.
        let source_dir = if std::path::Path::new(&src).is_absolute() {
            std::path::Path::new(&src).parent()
        } else {
            real.parent()
        };
        let searchpath: Vec<String> = ctx
            .search_dirs
            .iter()
            .map(std::path::PathBuf::as_path)
            .chain(source_dir)
            .flat_map(|d| [d.join("templates"), d.to_path_buf()])
            .map(|d| d.display().to_string())
            .collect();
        let rendered = if ws == Whitespace::default() {
            ctx.templar
                .render_template_file_text(&body, &vars, false, searchpath)
        } else {
            // Jinja drops the source's last newline (keep_trailing_newline is off) and
            // ansible-core then appends newline_sequence until the output ends with as many
            // newlines as the source did; fleetsim's templar keeps it, so it goes first.
            let trimmed = body
                .strip_suffix("\r\n")
                .or_else(|| body.strip_suffix('\n'))
                .unwrap_or(&body);
            ctx.templar
                .render_template_file_text(&rewrite(trimmed, &ws), &vars, true, searchpath)
                .map(|mut out| {
                    let trailing = |s: &str| s.len() - s.trim_end_matches('\n').len();
                    for _ in trailing(&out)..trailing(&body) {
                        out.push_str(&ws.newline_sequence);
                    }
                    out
                })
        };
        // ansible-core's template action lets the templar's error out (an AnsibleError, not
        // an AnsibleActionFail): `Task failed: MESSAGE`, caused at the template file.
        let rendered = match rendered {
            Ok(s) => s,
            Err(e) => {
                let mut r = super::fail(e.message());
                r.insert("_ansible_raised".into(), json!(super::RAISED_ERROR));
                r.insert("_ansible_raised_origin".into(), json!(fullpath));
                return r;
            }
        };
        // What copy receives: the task's options without the template-only ones.
        let mut copy_args: Args = args
            .iter()
            .filter(|(k, _)| !TEMPLATE_ONLY.contains(&k.as_str()))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        if copy_args.get("mode").and_then(Value::as_str) == Some("preserve") {
            use std::os::unix::fs::PermissionsExt;
            let m = std::fs::metadata(&real)
                .map(|m| m.permissions().mode() & 0o7777)
                .unwrap_or(0o644);
            copy_args.insert("mode".into(), json!(format!("0{m:03o}")));
        }
        let copy_args = match super::validated(ctx, &super::copy::SPEC, &copy_args) {
            Ok(a) => a,
            Err(mut r) => {
                r.insert(
                    "checksum".into(),
                    json!(super::sha1_hex(rendered.as_bytes())),
                );
                return r;
            }
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
        let mut target = dest.clone();
        if host.fs.is_dir(&dest) {
            let name = real
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            target = format!(
                "{}/{}",
                dest.trim_end_matches('/'),
                name.trim_end_matches(".j2")
            );
        }
        super::copy::write_file(
            host,
            &target,
            rendered.as_bytes(),
            Some(&real.display().to_string()),
            &opts,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_sets_whitespace() {
        let mut ws = Whitespace::default();
        let body = header_overrides(
            "#jinja2: lstrip_blocks: True, trim_blocks: False\nx\n",
            &mut ws,
        )
        .unwrap();
        assert_eq!(body, "x\n");
        assert!(ws.lstrip_blocks);
        assert!(!ws.trim_blocks);
        let mut ws = Whitespace::default();
        assert!(header_overrides("#jinja2: bogus: 1\nx", &mut ws)
            .unwrap_err()
            .contains("Invalid '#jinja2:' override key 'bogus'"));
        assert!(header_overrides("#jinja2: trim_blocks: False", &mut ws).is_err());
    }

    #[test]
    fn rewrite_for_lstrip_without_trim() {
        let ws = Whitespace {
            trim_blocks: false,
            lstrip_blocks: true,
            newline_sequence: "\n".into(),
        };
        assert_eq!(
            rewrite(
                "a:\n    {% for i in x %}\n  - {{ i }}\n    {% endfor %}\nend\n",
                &ws
            ),
            "a:\n{% for i in x +%}\n  - {{ i }}\n{% endfor +%}\nend\n"
        );
        // A tag after text on its line keeps the blanks; quoted "%}" does not end a tag.
        assert_eq!(rewrite("x  {% if '%}' %}y", &ws), "x  {% if '%}' +%}y");
        // Raw blocks are left alone.
        assert_eq!(
            rewrite("{% raw %}  {% x %}{% endraw %}", &ws),
            "{% raw +%}  {% x %}{% endraw +%}"
        );
    }

    #[test]
    fn defaults_leave_the_source_alone() {
        assert_eq!(
            rewrite("  {% if a %}\r\n", &Whitespace::default()),
            "  {% if a %}\r\n"
        );
    }
}
