//! Jinja templating configured as Ansible configures it: filters, tests, lookups, undefined rules.
//!
//! The executor builds one [`Templar`] per run and calls [`Templar::render`],
//! [`Templar::render_str`] and [`Templar::eval_conditional`] with a [`VarSource`] for the host at
//! hand. Variables are templated lazily, in their owner's context, when a template reads them.

mod convert;
mod error;
mod filters;
mod lookups;
mod methods;
mod mutable;
mod pyformat;
pub mod pyrepr;
mod rewrite;
mod tests;
mod undefined;
mod vars;
mod yaml_emit;

#[cfg(test)]
mod spec;

use std::cell::RefCell;
use std::sync::{Arc, Mutex};

use minijinja::value::Value;
use minijinja::{Environment, ErrorKind, UndefinedBehavior};
use serde_json::Value as J;

pub use convert::{to_json, to_mj_static};
pub use error::{TemplateError, TemplateErrorKind};
pub use lookups::{LookupHost, NoLookups};
pub use undefined::{is_omit, OMIT_PLACEHOLDER};
pub use vars::{is_template, MapVars, VarSource};

use undefined::{pop_frame, push_frame, undefined_message, with_frame, Frame};
use vars::Ctx;

/// How deep templates may nest (a variable templating another variable, ...) before we call it
/// a recursive loop; each level costs a minijinja render on the stack.
const MAX_NESTING: usize = 40;

/// Ansible's templar: renders template strings and conditionals against a host's variables.
///
/// Built once per run; cheap to share (`Clone` is an `Arc` clone).
#[derive(Clone)]
pub struct Templar {
    inner: Arc<Inner>,
}

/// The shared state behind a [`Templar`].
pub(crate) struct Inner {
    /// Undefined values fail on any use (the normal environment).
    strict: Environment<'static>,
    /// Undefined values chain through attribute access; used only to re-run a template whose
    /// strict run failed on `a.b.c` right before `| default(...)` or `is defined`.
    chain: Environment<'static>,
    pub lookup: Arc<dyn LookupHost>,
    /// State of the seeded generator behind `random` and `shuffle`.
    pub rng: Mutex<u64>,
}

thread_local! {
    /// The templar and context of the renders in progress (innermost last), for lookups.
    static CURRENT: RefCell<Vec<(Arc<Inner>, Arc<Ctx>)>> = const { RefCell::new(Vec::new()) };
}

/// The innermost render's templar and variables.
pub(crate) fn current() -> Option<(Arc<Inner>, Arc<Ctx>)> {
    CURRENT.with(|c| c.borrow().last().cloned())
}

impl Templar {
    /// A templar whose `random`/`shuffle` follow `seed`, with lookups served by `lookup`.
    pub fn new(seed: u64, lookup: Arc<dyn LookupHost>) -> Templar {
        Templar {
            inner: Arc::new(Inner {
                strict: build_env(UndefinedBehavior::Strict),
                chain: build_env(UndefinedBehavior::Chainable),
                lookup,
                rng: Mutex::new(seed ^ 0x9e37_79b9_7f4a_7c15),
            }),
        }
    }

    /// Template every string inside `value` (dict keys too), as Ansible does for task args.
    /// A string that is a single `{{ expr }}` becomes the expression's native value.
    pub fn render(&self, value: &J, vars: &Arc<dyn VarSource>) -> Result<J, TemplateError> {
        let ctx = Ctx::new(vars.clone(), self.inner.clone());
        self.render_value(value, &ctx)
    }

    fn render_value(&self, value: &J, ctx: &Arc<Ctx>) -> Result<J, TemplateError> {
        Ok(match value {
            J::String(s) => self.inner.render_in(s, ctx)?,
            J::Array(items) => J::Array(
                items
                    .iter()
                    .map(|v| self.render_value(v, ctx))
                    .collect::<Result<_, _>>()?,
            ),
            J::Object(map) => {
                let mut out = serde_json::Map::with_capacity(map.len());
                for (k, v) in map {
                    let key = if is_template(k) {
                        match self.inner.render_in(k, ctx)? {
                            J::String(s) => s,
                            other => pyrepr::json_repr(&other),
                        }
                    } else {
                        k.clone()
                    };
                    out.insert(key, self.render_value(v, ctx)?);
                }
                J::Object(out)
            }
            other => other.clone(),
        })
    }

    /// Template one string. A lone `{{ expr }}` gives the native value (list, int, ...); text
    /// mixed with expressions gives a string with values printed as Python prints them. Strings
    /// without `{{`, `{%` or `{#` come back untouched.
    pub fn render_str(&self, s: &str, vars: &Arc<dyn VarSource>) -> Result<J, TemplateError> {
        if !is_template(s) {
            return Ok(J::String(s.to_string()));
        }
        let ctx = Ctx::new(vars.clone(), self.inner.clone());
        self.inner.render_in(s, &ctx)
    }

    /// Render a template file's text (the `template` module): always a string, never native.
    /// `trim_blocks` is on and the trailing newline is kept, as the module's defaults are.
    pub fn render_template_text(
        &self,
        text: &str,
        vars: &Arc<dyn VarSource>,
    ) -> Result<String, TemplateError> {
        if !is_template(text) {
            return Ok(text.to_string());
        }
        let ctx = Ctx::new(vars.clone(), self.inner.clone());
        self.inner.render_text_in(text, &ctx)
    }

    /// Evaluate a conditional (`when`, `failed_when`, `changed_when`, `until`, `assert`'s
    /// `that`): a bare expression (or a template), whose result must be a boolean (2.19).
    ///
    /// Errors carry Ansible's text: `Error while evaluating conditional: 'x' is undefined`, or
    /// `Conditional result (True) was derived from value of type 'str' ...` for non-booleans;
    /// for the latter, [`TemplateError::set_conditional_origin`] adds where the value came from
    /// when the executor knows it better than the variable's own origin.
    pub fn eval_conditional(
        &self,
        expr: &str,
        vars: &Arc<dyn VarSource>,
    ) -> Result<bool, TemplateError> {
        let e = expr.trim();
        let src = if is_template(e) {
            e.to_string()
        } else {
            format!("{{{{ {e} }}}}")
        };
        let ctx = Ctx::new(vars.clone(), self.inner.clone());
        let value = self.inner.render_in(&src, &ctx).map_err(|err| {
            let err = if is_template(e) {
                err
            } else {
                shift_column(err, 3)
            };
            err.map_message(|m| format!("Error while evaluating conditional: {m}"))
        })?;
        match value {
            J::Bool(b) => Ok(b),
            other => {
                let origin = if e.chars().all(|c| c.is_alphanumeric() || c == '_') {
                    vars.origin(e)
                } else {
                    None
                };
                let at = origin.map(|o| format!(" at '{o}'")).unwrap_or_default();
                let truth = if json_truthy(&other) { "True" } else { "False" };
                Err(TemplateError::new(
                    TemplateErrorKind::NonBooleanConditional,
                    format!(
                        "Conditional result ({truth}) was derived from value of type '{}'{at}. Conditionals must have a boolean result.",
                        json_type_name(&other)
                    ),
                ))
            }
        }
    }
}

fn shift_column(err: TemplateError, by: usize) -> TemplateError {
    match err.position() {
        Some((1, col)) if col > by => err.with_position(1, col - by),
        _ => err,
    }
}

/// Python truthiness of plain data.
pub fn json_truthy(v: &J) -> bool {
    match v {
        J::Null => false,
        J::Bool(b) => *b,
        J::Number(n) => n.as_f64().map(|f| f != 0.0).unwrap_or(true),
        J::String(s) => !s.is_empty(),
        J::Array(a) => !a.is_empty(),
        J::Object(o) => !o.is_empty(),
    }
}

/// Python type name of plain data (`str`, `int`, `float`, `bool`, `NoneType`, `list`, `dict`).
pub fn json_type_name(v: &J) -> &'static str {
    match v {
        J::Null => "NoneType",
        J::Bool(_) => "bool",
        J::Number(n) => {
            if n.is_f64() {
                "float"
            } else {
                "int"
            }
        }
        J::String(_) => "str",
        J::Array(_) => "list",
        J::Object(_) => "dict",
    }
}

fn build_env(behavior: UndefinedBehavior) -> Environment<'static> {
    let mut env = Environment::new();
    env.set_undefined_behavior(behavior);
    env.set_trim_blocks(true);
    env.set_keep_trailing_newline(true);
    env.set_recursion_limit(200);
    env.set_formatter(|out, state, value| {
        if value.is_undefined() {
            // In strict mode minijinja fails on ordinary undefined values before calling us; what
            // arrives is the "silent" undefined of `a if b` without else, which prints nothing.
            if state.undefined_behavior() == UndefinedBehavior::Strict {
                return Ok(());
            }
            return Err(minijinja::Error::new(
                ErrorKind::UndefinedError,
                "undefined value printed",
            ));
        }
        with_frame(|fr| {
            fr.emitted += 1;
            if !value.is_none() && fr.nodes.len() < 2 {
                fr.nodes.push(value.clone());
            } else if !value.is_none() {
                fr.nodes.push(Value::from(()));
            }
        });
        if value.is_none() {
            return Ok(());
        }
        out.write_str(&pyrepr::py_str(value))
            .map_err(|_| minijinja::Error::new(ErrorKind::WriteFailure, "write failed"))
    });
    env.set_unknown_method_callback(methods::call_method);
    filters::register(&mut env);
    tests::register(&mut env);
    lookups::register(&mut env);
    env
}

impl Inner {
    /// Render `s` with `ctx` as the variables; Ansible's native-or-string result rules.
    pub(crate) fn render_in(self: &Arc<Self>, s: &str, ctx: &Arc<Ctx>) -> Result<J, TemplateError> {
        if !is_template(s) {
            return Ok(J::String(s.to_string()));
        }
        let (out, frame) = self.render_raw(s, ctx)?;
        finish_native(out, frame)
    }

    /// Render `s` to text (no native types): the template module and the `template` lookup.
    pub(crate) fn render_text_in(
        self: &Arc<Self>,
        s: &str,
        ctx: &Arc<Ctx>,
    ) -> Result<String, TemplateError> {
        let (out, frame) = self.render_raw(s, ctx)?;
        CURRENT.with(|_| ());
        let _ = frame;
        Ok(out)
    }

    fn render_raw(
        self: &Arc<Self>,
        s: &str,
        ctx: &Arc<Ctx>,
    ) -> Result<(String, Frame), TemplateError> {
        let depth = with_frame(|_| ()).map(|_| frames_depth()).unwrap_or(0);
        if depth > MAX_NESTING {
            return Err(vars::recursion_error());
        }
        let rewritten = rewrite::rewrite(s);
        let src: &str = rewritten.as_deref().unwrap_or(s);
        push_frame();
        CURRENT.with(|c| c.borrow_mut().push((self.clone(), ctx.clone())));
        let root = Value::from_dyn_object(ctx.clone());
        let mut result = self.strict.render_str(src, root.clone());
        if let Err(e) = &result {
            if e.kind() == ErrorKind::UndefinedError && chain_rescued(src, e) {
                with_frame(|fr| {
                    fr.nodes.clear();
                    fr.emitted = 0;
                });
                result = self.chain.render_str(src, root);
            }
        }
        CURRENT.with(|c| c.borrow_mut().pop());
        let frame = pop_frame();
        if let Some(fatal) = frame.fatal.clone() {
            return Err(fatal);
        }
        match result {
            Ok(out) => Ok((out, frame)),
            Err(e) => Err(map_error(e, &frame, src)),
        }
    }

    /// Next value of the seeded generator (splitmix64).
    pub(crate) fn next_random(&self) -> u64 {
        let mut state = self.rng.lock().unwrap_or_else(|e| e.into_inner());
        *state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        splitmix(*state)
    }
}

/// splitmix64's output function: good enough spread for `random`/`shuffle`, and reproducible.
pub(crate) fn splitmix(x: u64) -> u64 {
    let mut z = x;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

thread_local! {
    static DEPTH_PROBE: RefCell<usize> = const { RefCell::new(0) };
}

fn frames_depth() -> usize {
    CURRENT.with(|c| c.borrow().len())
}

/// Ansible's concat: None outputs are dropped; a single output keeps its native type.
fn finish_native(out: String, frame: Frame) -> Result<J, TemplateError> {
    let real: Vec<&Value> = frame.nodes.iter().filter(|v| !v.is_none()).collect();
    if frame.nodes.len() == 1 && real.len() == 1 && out == pyrepr::py_str(real[0]) {
        push_frame();
        let r = convert::to_json(real[0]);
        pop_frame();
        return r;
    }
    if frame.nodes.is_empty() && out.is_empty() {
        return Ok(J::Null);
    }
    Ok(J::String(out))
}

/// The text of the expression that failed, extended over trailing `.attr` / `[key]` accesses.
fn failing_snippet(src: &str, err: &minijinja::Error) -> Option<(usize, usize)> {
    let range = err.range()?;
    if range.end > src.len() || range.start > range.end {
        return None;
    }
    let b = src.as_bytes();
    let mut end = range.end;
    loop {
        if end < b.len() && b[end] == b'.' {
            let mut j = end + 1;
            while j < b.len() && (b[j].is_ascii_alphanumeric() || b[j] == b'_') {
                j += 1;
            }
            if j == end + 1 {
                break;
            }
            end = j;
        } else if end < b.len() && b[end] == b'[' {
            match src[end..].find(']') {
                Some(off) => end += off + 1,
                None => break,
            }
        } else {
            break;
        }
    }
    Some((range.start, end))
}

/// Whether a strict failure at `a.b.c` is rescued right away by `default`/`d` or a definedness
/// test, in which case Ansible's chaining undefined would have gone through.
fn chain_rescued(src: &str, err: &minijinja::Error) -> bool {
    let Some((_, end)) = failing_snippet(src, err) else {
        return false;
    };
    let mut rest = src[end..].trim_start();
    while let Some(r) = rest.strip_prefix(')') {
        rest = r.trim_start();
    }
    if let Some(r) = rest.strip_prefix('|') {
        let r = r.trim_start();
        let word: String = r
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        return word == "default" || word == "d" || word == "mandatory";
    }
    if let Some(r) = rest.strip_prefix("is") {
        let words: Vec<&str> = r.split_whitespace().take(2).collect();
        let first = words.first().copied().unwrap_or("");
        let first = first.trim_end_matches(|c: char| !c.is_alphanumeric());
        let second = words.get(1).copied().unwrap_or("");
        let second = second.trim_end_matches(|c: char| !c.is_alphanumeric());
        return matches!(first, "defined" | "undefined")
            || (first == "not" && matches!(second, "defined" | "undefined"));
    }
    false
}

/// Translate a minijinja error into Ansible's message, keeping it as the source.
fn map_error(e: minijinja::Error, frame: &Frame, src: &str) -> TemplateError {
    let snippet = failing_snippet(src, &e)
        .map(|(s, end)| src[s..end].to_string())
        .unwrap_or_default();
    let detail = e.detail().unwrap_or_default().to_string();
    let (kind, message) = match e.kind() {
        ErrorKind::UndefinedError => (
            TemplateErrorKind::Undefined,
            undefined_message(&frame.misses, &snippet),
        ),
        ErrorKind::UnknownFilter => (
            TemplateErrorKind::Syntax,
            format!(
                "Syntax error in template: No filter named '{}'.",
                unknown_name(&detail, &snippet)
            ),
        ),
        ErrorKind::UnknownTest => (
            TemplateErrorKind::Syntax,
            format!(
                "Syntax error in template: No test named '{}'.",
                unknown_name(&detail, &snippet)
            ),
        ),
        ErrorKind::SyntaxError => (
            TemplateErrorKind::Syntax,
            format!("Syntax error in template: {detail}"),
        ),
        _ => {
            if (detail.contains("undefined") || detail.is_empty()) && !frame.misses.is_empty() {
                (
                    TemplateErrorKind::Undefined,
                    undefined_message(&frame.misses, &snippet),
                )
            } else if detail.is_empty() {
                (TemplateErrorKind::Runtime, e.kind().to_string())
            } else {
                (TemplateErrorKind::Runtime, detail)
            }
        }
    };
    let mut err = TemplateError::new(kind, message);
    if let (Some(line), Some(range)) = (e.line(), e.range()) {
        let start = range.start.min(src.len());
        let line_start = src[..start].rfind('\n').map(|p| p + 1).unwrap_or(0);
        err = err.with_position(line, src[line_start..start].chars().count() + 1);
    }
    err.with_source(e)
}

/// The filter/test name from minijinja's detail (`filter foo is unknown`) or the snippet.
fn unknown_name(detail: &str, snippet: &str) -> String {
    for w in detail.split_whitespace() {
        let w = w.trim_matches(|c: char| !(c.is_alphanumeric() || c == '_' || c == '.'));
        if !w.is_empty() && !["filter", "test", "is", "unknown", "named", "no"].contains(&w) {
            return w.to_string();
        }
    }
    snippet.to_string()
}
