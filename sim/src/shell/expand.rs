//! Word expansion: parameters, command substitution, arithmetic, field splitting, pathname
//! expansion (against the sandbox) and quote removal, in POSIX order.

use super::arith;
use super::ast::*;
use super::exec::{Flow, Shell};
use super::io::{join_path, Fd, Fds, Sink};
use super::pattern::Pattern;

/// A character of an expanded word and whether it was quoted (quoted chars never glob).
type Marked = (char, bool);

/// Accumulates fields while a word expands.
#[derive(Default)]
struct Fields {
    done: Vec<Vec<Marked>>,
    cur: Vec<Marked>,
    /// The current field exists even if empty (`""`).
    active: bool,
    /// The last thing seen was IFS whitespace that ended a field.
    after_ws: bool,
}

impl Fields {
    fn lit(&mut self, s: &str, quoted: bool) {
        self.cur.extend(s.chars().map(|c| (c, quoted)));
        self.active = true;
        self.after_ws = false;
    }

    fn end_field(&mut self) {
        self.done.push(std::mem::take(&mut self.cur));
        self.active = false;
    }

    /// Adds the result of an unquoted expansion, splitting it on IFS.
    fn split(&mut self, s: &str, ifs: &str) {
        for c in s.chars() {
            if ifs.contains(c) {
                if c == ' ' || c == '\t' || c == '\n' {
                    if self.active || !self.cur.is_empty() {
                        self.end_field();
                    }
                    self.after_ws = true;
                } else {
                    if !self.after_ws || self.active {
                        self.end_field();
                    }
                    self.after_ws = false;
                }
            } else {
                self.cur.push((c, false));
                self.active = true;
                self.after_ws = false;
            }
        }
    }

    fn finish(mut self) -> Vec<Vec<Marked>> {
        if self.active || !self.cur.is_empty() {
            self.end_field();
        }
        self.done
    }
}

fn unmark(f: &[Marked]) -> String {
    f.iter().map(|m| m.0).collect()
}

impl Shell<'_> {
    /// Expands command words into argv: splitting and globbing apply.
    pub(crate) fn expand_words(&mut self, words: &[Word], fds: &Fds) -> Result<Vec<String>, Flow> {
        let mut out = Vec::new();
        for w in words {
            let mut fb = Fields::default();
            self.expand_parts(&w.0, &mut fb, false, true, fds)?;
            for field in fb.finish() {
                if field
                    .iter()
                    .any(|&(c, q)| !q && matches!(c, '*' | '?' | '['))
                {
                    let matches = self.glob(&field)?;
                    if !matches.is_empty() {
                        out.extend(matches);
                        continue;
                    }
                }
                out.push(unmark(&field));
            }
        }
        Ok(out)
    }

    /// Expands a word to one string: no splitting, no globbing (assignments, redirection
    /// targets, `case` subjects, here-documents).
    pub(crate) fn expand_word_str(&mut self, w: &Word, fds: &Fds) -> Result<String, Flow> {
        let mut fb = Fields::default();
        self.expand_parts(&w.0, &mut fb, false, false, fds)?;
        let fields: Vec<String> = fb.finish().iter().map(|f| unmark(f)).collect();
        Ok(fields.join(" "))
    }

    /// Expands a word into a glob pattern (quoted characters literal).
    pub(crate) fn expand_pattern(&mut self, w: &Word, fds: &Fds) -> Result<Pattern, Flow> {
        let mut fb = Fields::default();
        self.expand_parts(&w.0, &mut fb, false, false, fds)?;
        let marked: Vec<Marked> = fb.finish().concat();
        Ok(Pattern::from_marked(&marked))
    }

    fn ifs(&self) -> String {
        self.vars
            .get("IFS")
            .map(|v| v.value.clone())
            .unwrap_or_else(|| " \t\n".into())
    }

    /// Adds an expansion's result: quoted → literal; unquoted → split if splitting applies.
    fn push_expansion(&mut self, fb: &mut Fields, s: &str, quoted: bool, split: bool) {
        if quoted {
            fb.lit(s, true);
        } else if split {
            let ifs = self.ifs();
            fb.split(s, &ifs);
        } else if !s.is_empty() {
            fb.lit(s, false);
        }
    }

    fn expand_parts(
        &mut self,
        parts: &[WordPart],
        fb: &mut Fields,
        quoted: bool,
        split: bool,
        fds: &Fds,
    ) -> Result<(), Flow> {
        for p in parts {
            match p {
                WordPart::Lit(s) => fb.lit(s, quoted),
                WordPart::Quoted(s) => fb.lit(s, true),
                WordPart::Double(inner) => {
                    let only_at = matches!(inner.as_slice(),
                        [WordPart::Param(pe)] if pe.name == "@" && matches!(pe.op, ParamOp::Plain));
                    if only_at && self.positional.is_empty() {
                        continue;
                    }
                    fb.active = true;
                    self.expand_parts(inner, fb, true, split, fds)?;
                }
                WordPart::Param(pe) => self.expand_param(pe, fb, quoted, split, fds)?,
                WordPart::Command(list) => {
                    let s = self.command_subst(list, fds)?;
                    self.push_expansion(fb, &s, quoted, split);
                }
                WordPart::Arith(inner) => {
                    let v = self.arith(inner, fds)?;
                    self.push_expansion(fb, &v.to_string(), quoted, split);
                }
                WordPart::Tilde(name) => {
                    let home = if name.is_empty() {
                        self.get_var("HOME")
                            .unwrap_or_else(|| self.ctx.user.home.clone())
                    } else if *name == self.ctx.user.name {
                        self.ctx.user.home.clone()
                    } else if name == "root" {
                        "/root".to_string()
                    } else {
                        format!("~{name}")
                    };
                    fb.lit(&home, true);
                }
            }
        }
        Ok(())
    }

    /// Runs `$(...)` in a subshell and returns its output without trailing newlines.
    pub(crate) fn command_subst(&mut self, list: &List, fds: &Fds) -> Result<String, Flow> {
        self.tick()?;
        self.bufs.push(Vec::new());
        let b = self.bufs.len() - 1;
        let mut f = fds.clone();
        f[1] = Fd::Out(Sink::Buf(b));
        let line = self.line;
        let rc = self.subshell(|s| s.exec_list(list, &f))?;
        self.line = line;
        self.subst_rc = Some(rc);
        let mut out = std::mem::take(&mut self.bufs[b]);
        while out.last() == Some(&b'\n') {
            out.pop();
        }
        Ok(String::from_utf8_lossy(&out).into_owned())
    }

    fn arith(&mut self, inner: &[WordPart], fds: &Fds) -> Result<i64, Flow> {
        let mut fb = Fields::default();
        self.expand_parts(inner, &mut fb, true, false, fds)?;
        let text: String = fb.finish().iter().map(|f| unmark(f)).collect();
        match arith::eval(&text, self) {
            Ok(v) => Ok(v),
            Err(m) if m.starts_with("Illegal number") => {
                self.shell_err(fds, &m);
                Err(Flow::Exit(2))
            }
            Err(m) => {
                self.shell_err(fds, &format!("arithmetic expression: {m}: \"{text}\""));
                Err(Flow::Exit(2))
            }
        }
    }

    fn expand_param(
        &mut self,
        pe: &ParamExp,
        fb: &mut Fields,
        quoted: bool,
        split: bool,
        fds: &Fds,
    ) -> Result<(), Flow> {
        let name = pe.name.as_str();
        let is_list = name == "@" || name == "*";
        let val = self.get_var(name);
        let set = val.is_some() && !(is_list && self.positional.is_empty());
        let empty = val.as_deref().unwrap_or("").is_empty();
        let check_unset = |sh: &mut Self| -> Result<(), Flow> {
            if sh.nounset && val.is_none() && !is_list && name != "!" {
                sh.shell_err(fds, &format!("{name}: parameter not set"));
                return Err(Flow::Exit(2));
            }
            Ok(())
        };
        match &pe.op {
            ParamOp::Plain => {
                check_unset(self)?;
                if is_list {
                    let params = self.positional.clone();
                    if quoted && name == "*" {
                        let sep = self
                            .ifs()
                            .chars()
                            .next()
                            .map(String::from)
                            .unwrap_or_default();
                        fb.lit(&params.join(&sep), true);
                    } else {
                        for (i, p) in params.iter().enumerate() {
                            if i > 0 && (quoted || fb.active || !fb.cur.is_empty()) {
                                fb.end_field();
                            }
                            self.push_expansion(fb, p, quoted, split);
                        }
                    }
                } else {
                    self.push_expansion(fb, val.as_deref().unwrap_or(""), quoted, split);
                }
            }
            ParamOp::Length => {
                check_unset(self)?;
                let n = if is_list {
                    self.positional.len()
                } else {
                    val.as_deref().unwrap_or("").chars().count()
                };
                self.push_expansion(fb, &n.to_string(), quoted, split);
            }
            ParamOp::Default(colon, w) => {
                if !set || (*colon && empty) {
                    self.expand_parts(&w.0, fb, quoted, split, fds)?;
                } else {
                    self.push_expansion(fb, val.as_deref().unwrap_or(""), quoted, split);
                }
            }
            ParamOp::Assign(colon, w) => {
                if !set || (*colon && empty) {
                    let s = self.expand_word_str(w, fds)?;
                    if !super::parse::is_name(name) {
                        self.shell_err(fds, &format!("{name}: bad variable name"));
                        return Err(Flow::Exit(2));
                    }
                    self.set_var(name, s.clone());
                    self.push_expansion(fb, &s, quoted, split);
                } else {
                    self.push_expansion(fb, val.as_deref().unwrap_or(""), quoted, split);
                }
            }
            ParamOp::Error(colon, w) => {
                if !set || (*colon && empty) {
                    let msg = self.expand_word_str(w, fds)?;
                    let msg = if !msg.is_empty() {
                        msg
                    } else if *colon {
                        "parameter null or not set".to_string()
                    } else {
                        "parameter not set".to_string()
                    };
                    self.shell_err(fds, &format!("{name}: {msg}"));
                    return Err(Flow::Exit(2));
                }
                self.push_expansion(fb, val.as_deref().unwrap_or(""), quoted, split);
            }
            ParamOp::Alt(colon, w) => {
                if set && !(*colon && empty) {
                    self.expand_parts(&w.0, fb, quoted, split, fds)?;
                }
            }
            ParamOp::TrimSuffix(longest, w) | ParamOp::TrimPrefix(longest, w) => {
                check_unset(self)?;
                let v = val.unwrap_or_default();
                let pat = self.expand_pattern(w, fds)?;
                let chars: Vec<char> = v.chars().collect();
                let res: String = if matches!(pe.op, ParamOp::TrimSuffix(..)) {
                    match pat.match_suffix(&v, *longest) {
                        Some(k) => chars[..chars.len() - k].iter().collect(),
                        None => v,
                    }
                } else {
                    match pat.match_prefix(&v, *longest) {
                        Some(k) => chars[k..].iter().collect(),
                        None => v,
                    }
                };
                self.push_expansion(fb, &res, quoted, split);
            }
        }
        Ok(())
    }

    /// Pathname expansion against the sandbox; sorted matches (empty if none).
    fn glob(&mut self, field: &[Marked]) -> Result<Vec<String>, Flow> {
        let absolute = field.first().map(|m| m.0) == Some('/');
        let dir_only = field.last().map(|m| m.0) == Some('/');
        let mut paths: Vec<String> = vec![if absolute { "/".into() } else { String::new() }];
        for comp in field.split(|m| m.0 == '/') {
            if comp.is_empty() {
                continue;
            }
            let pat = Pattern::from_marked(comp);
            let mut next = Vec::new();
            for base in &paths {
                if pat.has_wildcards() {
                    let dir = if base.is_empty() {
                        self.cwd.clone()
                    } else {
                        join_path(&self.cwd, base)
                    };
                    let Ok(names) = self.ctx.sandbox.list_dir(&dir) else {
                        continue;
                    };
                    self.tick_n(names.len() as u64 / 16 + 1)?;
                    for n in names {
                        if n.starts_with('.') && !pat.starts_with_dot() {
                            continue;
                        }
                        if pat.matches(&n) {
                            next.push(concat(base, &n));
                        }
                    }
                } else {
                    next.push(concat(base, &pat.literal()));
                }
            }
            paths = next;
        }
        let mut found: Vec<String> = paths
            .into_iter()
            .filter(|p| {
                let full = join_path(&self.cwd, p);
                if dir_only {
                    self.ctx.sandbox.is_dir(&full)
                } else {
                    self.ctx.sandbox.lstat(&full).is_ok()
                }
            })
            .map(|p| if dir_only { format!("{p}/") } else { p })
            .collect();
        found.sort();
        Ok(found)
    }
}

fn concat(base: &str, name: &str) -> String {
    if base.is_empty() {
        name.to_string()
    } else if base.ends_with('/') {
        format!("{base}{name}")
    } else {
        format!("{base}/{name}")
    }
}
