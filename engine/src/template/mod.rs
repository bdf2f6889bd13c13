//! Jinja templating configured as Ansible configures it: filters, tests, lookups, undefined rules.
//!
//! The executor builds one [`Templar`] per run (seed for `random`/`shuffle`, a [`LookupHost`]
//! for lookups and path tests) and calls, with a [`VarSource`] for the host at hand:
//!
//! - [`Templar::render`] on task args (every string, dict keys included),
//! - [`Templar::render_str`] on one string (a lone `{{ expr }}` keeps its native type),
//! - [`Templar::render_template_text`] for the `template` module (always text),
//! - [`Templar::eval_conditional`] / [`Templar::eval_conditional_value`] for `when`,
//!   `failed_when`, `changed_when`, `until` and `assert`'s `that`.
//!
//! Variables are templated lazily, in their owner's context, when a template reads them
//! (`hostvars['h'].x` uses `h`'s variables); values the executor marks untrusted through
//! [`VarSource::is_trusted`] (registered results, facts, `set_fact` values) are never templated.
//! `omit` renders to [`OMIT_PLACEHOLDER`]; drop arguments for which [`is_omit`] holds.
//! Errors are [`TemplateError`]s whose message is Ansible's text (what follows `Task failed: `,
//! or `Error while resolving value for 'msg': `), with the template line/column when known.
//!
//! Layout: `vars` (lazy variable objects), `convert` (JSON <-> minijinja), `undefined` (miss
//! bookkeeping and messages), `pyrepr` (Python printing), `rewrite` (source rewrites for Python
//! behaviour minijinja lacks), `methods`/`pyformat` (Python methods and formatting), `filters/*`,
//! `tests` (Jinja tests), `lookups`, `yaml_emit` (PyYAML-style dumping), `mutable` (lists and
//! dicts created by templates), `error`; `spec` holds the unit tests.

mod convert;
mod error;
mod file_vars;
pub(crate) mod filters;
mod lookup_files;
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
use std::sync::{Arc, LazyLock, Mutex};

use minijinja::value::Value;
use minijinja::{Environment, ErrorKind, UndefinedBehavior};
use serde_json::Value as J;

pub use convert::{freeze, to_json, to_mj_static};
pub use error::{TemplateError, TemplateErrorKind, HELP_MARK};
pub use file_vars::{with_template_file_vars, TemplateFile, CONTROLLER_HOSTNAME, CONTROLLER_USER};
pub use lookups::{LookupHost, NoLookups, LOOKUP_NAMES};
pub use undefined::{is_omit, OMIT_PLACEHOLDER};
pub use vars::{is_template, MapVars, VarSource, WithDelegate};
/// PyYAML-style dumping, also used to write files for users (`fleetsim check`'s fault plans).
pub use yaml_emit::{dump as dump_yaml, YamlOpts};

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
    strict: &'static Environment<'static>,
    /// Undefined values chain through attribute access; used only to re-run a template whose
    /// strict run failed on `a.b.c` right before `| default(...)` or `is defined`.
    chain: &'static Environment<'static>,
    pub lookup: Arc<dyn LookupHost>,
    /// State of the seeded generator behind `random` and `shuffle`.
    pub rng: Mutex<u64>,
}

/// The two environments, built once per process: they hold no state of a run (filters and
/// lookups reach the run through [`current`]), and building them registers some hundreds
/// of filters, which `fleetsim check` would otherwise do for every case.
static STRICT: LazyLock<Environment<'static>> =
    LazyLock::new(|| build_env(UndefinedBehavior::Strict));
static CHAIN: LazyLock<Environment<'static>> =
    LazyLock::new(|| build_env(UndefinedBehavior::Chainable));

/// Templates compiled for [`STRICT`], by source. A playbook's templates are rendered again
/// and again (every task, host, loop item and `fleetsim check` case), and compiling costs
/// about as much as rendering. Sources are the user's own text (playbooks, variables, files
/// read by the `template` module and lookups): values computed during a run are never
/// templated. A compiled template borrows its source for good, so cached sources are
/// leaked, up to [`COMPILED_MAX_BYTES`]; past that, templates are compiled for each render
/// as before.
static COMPILED: LazyLock<Mutex<CompiledCache>> = LazyLock::new(Mutex::default);

/// How many bytes of template source [`COMPILED`] may keep.
const COMPILED_MAX_BYTES: usize = 16 << 20;

#[derive(Default)]
struct CompiledCache {
    /// Under a fast hash: every render hashes its whole source to find it.
    templates: std::collections::HashMap<
        &'static str,
        minijinja::Template<'static, 'static>,
        foldhash::fast::RandomState,
    >,
    bytes: usize,
}

/// Renders `src` in the strict environment as `STRICT.render_str` does (same template name,
/// same errors), with the compiled template taken from [`COMPILED`] when it is there.
fn render_strict(src: &str, root: Value) -> Result<String, minijinja::Error> {
    let (cached, room) = match COMPILED.lock() {
        Ok(c) => (
            c.templates.get(src).cloned(),
            c.bytes + src.len() <= COMPILED_MAX_BYTES,
        ),
        Err(_) => (None, false),
    };
    if let Some(t) = cached {
        return render_bounded(&t, root);
    }
    if !room {
        return render_bounded(&STRICT.template_from_str(src)?, root);
    }
    // Compiled once to see that it compiles: a source that does not is not kept (its error
    // comes from compiling it, as without the cache).
    STRICT.template_from_str(src)?;
    let leaked: &'static str = Box::leak(src.to_string().into_boxed_str());
    let t = STRICT.template_from_str(leaked)?;
    if let Ok(mut c) = COMPILED.lock() {
        c.bytes += leaked.len();
        c.templates.insert(leaked, t.clone());
    }
    render_bounded(&t, root)
}

/// The most text one render, or one value turned into text or data, may produce. Fuel bounds
/// the steps, not the bytes: `{% for i in range(100) %}{{ big }}{% endfor %}` over a 100 MB
/// string is a few hundred steps and ten gigabytes, which would end the process (an
/// allocation failure aborts) where it should fail the task.
pub const MAX_TEXT_BYTES: usize = 256 << 20;

/// The error of a render past [`MAX_TEXT_BYTES`].
pub(crate) fn too_large() -> TemplateError {
    TemplateError::new(
        TemplateErrorKind::Runtime,
        format!(
            "fleetsim: the template's result is larger than its budget of {} MiB; fleetsim stops it rather than exhaust the machine's memory",
            MAX_TEXT_BYTES >> 20
        ),
    )
}

/// Refuses a string of `len` bytes past [`MAX_TEXT_BYTES`] before it is built (a padding
/// width or a precision of a billion is one step and a gigabyte).
pub(crate) fn check_text_len(len: usize) -> Result<(), minijinja::Error> {
    if len > MAX_TEXT_BYTES {
        return Err(minijinja::Error::new(
            ErrorKind::InvalidOperation,
            too_large().message().to_string(),
        ));
    }
    Ok(())
}

/// The most items a filter may build in one list (all the tuples' items together): the
/// same guard as [`MAX_TEXT_BYTES`] for `permutations`, `product`, `batch` and `slice`, one
/// step each for the template and billions of values for the filter.
pub const MAX_ITEMS: usize = 10_000_000;

/// Refuses a filter result of `count` items past [`MAX_ITEMS`] before it is built.
pub(crate) fn check_items(count: usize) -> Result<(), minijinja::Error> {
    if count > MAX_ITEMS {
        return Err(minijinja::Error::new(
            ErrorKind::InvalidOperation,
            format!(
                "fleetsim: the result would have more than {MAX_ITEMS} items; fleetsim stops it rather than exhaust the machine's memory"
            ),
        ));
    }
    Ok(())
}

/// A render's output, refused past [`MAX_TEXT_BYTES`].
struct BoundedText(Vec<u8>);

impl std::io::Write for BoundedText {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.0.len() + buf.len() > MAX_TEXT_BYTES {
            return Err(std::io::Error::other("template output over budget"));
        }
        self.0.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn render_bounded(
    t: &minijinja::Template<'_, '_>,
    root: Value,
) -> Result<String, minijinja::Error> {
    let mut out = BoundedText(Vec::new());
    t.render_captured_to(root, &mut out)?;
    // minijinja writes only whole `str`s, so the bytes are UTF-8.
    Ok(String::from_utf8(out.0)
        .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned()))
}

thread_local! {
    /// The templar and context of the renders in progress (innermost last), for lookups.
    static CURRENT: RefCell<Vec<(Arc<Inner>, Arc<Ctx>)>> = const { RefCell::new(Vec::new()) };
    /// `[DEPRECATION WARNING]`s raised while templating, until the executor shows them with
    /// the task they belong to ([`take_deprecations`]).
    static DEPRECATIONS: RefCell<Vec<String>> = const { RefCell::new(Vec::new()) };
}

/// Records a warning raised while templating, shown with the task as the deprecations are.
fn warn_later(msg: &str, help: Option<&str>) {
    let mut text = format!("[WARNING]: {msg}");
    if let Some(help) = help {
        text.push_str(&format!("\n\n{help}\n"));
    }
    DEPRECATIONS.with(|d| d.borrow_mut().push(text));
}

/// Records a deprecation as ansible-core's `Display.deprecated` words it (message, the
/// version that removes the feature, then the help text).
fn deprecated(msg: &str, help: Option<&str>) {
    let mut text = format!(
        "[DEPRECATION WARNING]: {msg} This feature will be removed from ansible-core version 2.23."
    );
    if let Some(help) = help {
        text.push_str(&format!("\n\n{help}\n"));
    }
    DEPRECATIONS.with(|d| d.borrow_mut().push(text));
}

/// The deprecation warnings templating raised since the last call, as lines to show.
pub fn take_deprecations() -> Vec<String> {
    DEPRECATIONS.with(|d| std::mem::take(&mut *d.borrow_mut()))
}

/// ansible-core's help text for a broken conditional it lets through.
const BROKEN_CONDITIONAL_ALLOWED: &str = "Broken conditionals are currently allowed because the `ALLOW_BROKEN_CONDITIONALS` configuration option is enabled.";

/// The innermost render's templar and variables.
pub(crate) fn current() -> Option<(Arc<Inner>, Arc<Ctx>)> {
    CURRENT.with(|c| c.borrow().last().cloned())
}

impl Templar {
    /// A templar whose `random`/`shuffle` follow `seed`, with lookups served by `lookup`.
    pub fn new(seed: u64, lookup: Arc<dyn LookupHost>) -> Templar {
        Templar {
            inner: Arc::new(Inner {
                strict: &STRICT,
                chain: &CHAIN,
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

    /// Evaluate a bare expression (`debug`'s `var`), as Ansible's `evaluate_expression`:
    /// compiled in expression mode, where its lexer does not escape backslashes, so string
    /// constants keep Jinja's escape sequences (`'\\1'` is a backreference).
    pub fn eval_expression(
        &self,
        expr: &str,
        vars: &Arc<dyn VarSource>,
    ) -> Result<J, TemplateError> {
        let ctx = Ctx::new(vars.clone(), self.inner.clone());
        self.inner
            .render_expr_in(&format!("{{{{ {expr} }}}}"), &ctx)
            .map_err(expression_error)
    }

    /// Render a template file's text (the `template` module): always a string, never native.
    /// `trim_blocks` is on and the trailing newline is kept, as the module's defaults are.
    pub fn render_template_text(
        &self,
        text: &str,
        vars: &Arc<dyn VarSource>,
    ) -> Result<String, TemplateError> {
        self.template_text(text, vars, false)
    }

    /// [`Templar::render_template_text`] without the trailing-newline handling, for a caller
    /// that strips and restores the newlines itself.
    pub fn render_template_text_verbatim(
        &self,
        text: &str,
        vars: &Arc<dyn VarSource>,
    ) -> Result<String, TemplateError> {
        self.template_text(text, vars, true)
    }

    /// The template module's render of a template file's text: as
    /// [`Templar::render_template_text`] (`verbatim` as its verbatim form), with the
    /// template's own `{% include %}`, `{% import %}`, `{% from %}` and `{% extends %}`
    /// looked up in `searchpath` (ansible-core's template action gives Jinja the search path
    /// with each folder's `templates/` first). The copied environment a loader needs is made
    /// only for a source that can name another template.
    pub fn render_template_file_text(
        &self,
        text: &str,
        vars: &Arc<dyn VarSource>,
        verbatim: bool,
        searchpath: Vec<String>,
    ) -> Result<String, TemplateError> {
        let names_templates = ["include", "import", "extends"]
            .iter()
            .any(|word| text.contains(word));
        if !is_template(text) || !names_templates {
            return self.template_text(text, vars, verbatim);
        }
        let ctx = Ctx::new(vars.clone(), self.inner.clone());
        self.inner
            .render_text_searching_in(text, &ctx, verbatim, searchpath)
    }

    fn template_text(
        &self,
        text: &str,
        vars: &Arc<dyn VarSource>,
        verbatim: bool,
    ) -> Result<String, TemplateError> {
        if !is_template(text) {
            return Ok(text.to_string());
        }
        let ctx = Ctx::new(vars.clone(), self.inner.clone());
        if verbatim {
            self.inner.render_text_verbatim_in(text, &ctx)
        } else {
            self.inner.render_text_in(text, &ctx)
        }
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
        if e.is_empty() && crate::config::allow_broken_conditionals() {
            deprecated(
                "Empty conditional expression was evaluated as True.",
                Some(BROKEN_CONDITIONAL_ALLOWED),
            );
            return Ok(true);
        }
        // Ansible templates a conditional only when it is all template (starts and ends with
        // delimiters); anything else is an expression, where `{{` is a syntax error.
        let all_template = possibly_all_template(e);
        if !all_template && outside_string_literals(e).contains("{{") {
            return Err(TemplateError::new(
                TemplateErrorKind::Syntax,
                "Syntax error in expression. Template delimiters are not supported in expressions: expected token ':', got '}'",
            ));
        }
        let ctx = Ctx::new(vars.clone(), self.inner.clone());
        let src = if all_template {
            e.to_string()
        } else {
            format!("{{{{ {} }}}}", self.render_const_templates(e, &ctx)?)
        };
        let value = self.inner.render_expr_in(&src, &ctx).map_err(|err| {
            // ansible-core adds the conditional's context to an undefined variable only;
            // another failure keeps Jinja's `Error rendering template|expression: ...`.
            let undefined = matches!(err.kind(), TemplateErrorKind::Undefined);
            if all_template {
                return if undefined {
                    err.map_message(|m| format!("Error while evaluating conditional: {m}"))
                } else {
                    err
                };
            }
            let err = shift_column(err, 3);
            if matches!(err.kind(), TemplateErrorKind::Syntax) {
                // Compiled as an expression: Jinja names the end of the expression 'end of
                // template', and Ansible adds no conditional prefix to syntax errors.
                return err.map_message(|m| {
                    m.replacen("Syntax error in template", "Syntax error in expression", 1)
                        .replace("'end of print statement'", "'end of template'")
                });
            }
            if undefined {
                err.map_message(|m| format!("Error while evaluating conditional: {m}"))
            } else {
                expression_error(err)
            }
        })?;
        // `when: "{{ expr_var }}"` whose value is a string: that string is the expression.
        // Only a variable's own value keeps the trust of the file that defined it; a string
        // the template computed (`{{ '1 == 1' }}`) is untrusted and Ansible refuses to
        // evaluate it as an expression.
        let value = match value {
            J::String(inner) if all_template && !inner.trim().is_empty() => {
                let body = e
                    .trim_start_matches("{{")
                    .trim_end_matches("}}")
                    .trim()
                    .trim_start_matches('-')
                    .trim_end_matches('-')
                    .trim();
                let is_variable = !body.is_empty()
                    && !body.starts_with(|c: char| c.is_ascii_digit())
                    && body
                        .chars()
                        .all(|c| c.is_alphanumeric() || c == '_' || c == '.');
                if !is_variable {
                    return Err(TemplateError::new(
                        TemplateErrorKind::Runtime,
                        UNTRUSTED_MESSAGE,
                    ));
                }
                return self.eval_conditional(inner.trim(), vars);
            }
            other => other,
        };
        if all_template {
            // Only an indirect expression (a string) is a reason to template a conditional.
            deprecated(
                "Conditionals should not be surrounded by templating delimiters such as {{ }} or {% %}.",
                None,
            );
        }
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
                let msg = format!(
                    "Conditional result ({truth}) was derived from value of type '{}'{at}. Conditionals must have a boolean result.",
                    json_type_name(&other)
                );
                if crate::config::allow_broken_conditionals() {
                    deprecated(&msg, Some(BROKEN_CONDITIONAL_ALLOWED));
                    return Ok(json_truthy(&other));
                }
                Err(TemplateError::new(
                    TemplateErrorKind::NonBooleanConditional,
                    msg,
                ))
            }
        }
    }
}

impl Templar {
    /// A conditional expression whose string constants that look like templates
    /// (`"{{ 'hi' }}" == "hi"`) are replaced by what they render to, as ansible-core's
    /// `_access_const` renders them (trusted, native) with a warning for each.
    fn render_const_templates(&self, expr: &str, ctx: &Arc<Ctx>) -> Result<String, TemplateError> {
        let mut out = String::with_capacity(expr.len());
        let mut rest = expr;
        while let Some((start, end, body)) = next_string_literal(rest) {
            out.push_str(&rest[..start]);
            if is_template(&body) {
                let value = self.inner.render_in(&body, ctx).map_err(|err| {
                    err.map_message(|m| format!("Error while evaluating conditional: {m}"))
                })?;
                warn_later(
                    "Jinja constant strings should not contain embedded templates. This feature will be disabled by default in ansible-core 2.23.",
                    Some("Use inline expressions, for example: `when: \"{{ a_var }}\" == 42` becomes `when: a_var == 42`"),
                );
                out.push_str(&pyrepr::json_repr(&value));
            } else {
                out.push_str(&rest[start..end]);
            }
            rest = &rest[end..];
        }
        out.push_str(rest);
        Ok(out)
    }

    /// Run lookup `name` on already templated `terms`, as a `with_<name>` loop does: the items
    /// (a string or other single term is one term). Errors carry Ansible's text
    /// (`The lookup plugin 'x' failed: ...`).
    pub fn run_lookup(
        &self,
        name: &str,
        terms: &J,
        vars: &Arc<dyn VarSource>,
    ) -> Result<Vec<J>, TemplateError> {
        let terms: Vec<Value> = match terms {
            J::Array(items) => items.iter().map(convert::to_mj_static).collect(),
            other => vec![convert::to_mj_static(other)],
        };
        let ctx = Ctx::new(vars.clone(), self.inner.clone());
        push_frame();
        CURRENT.with(|c| c.borrow_mut().push((self.inner.clone(), ctx)));
        let result = lookups::run_for_loop(name, &terms);
        CURRENT.with(|c| c.borrow_mut().pop());
        pop_frame();
        let to_err = |e: minijinja::Error| {
            let detail = e.detail().unwrap_or_default();
            let text = detail.strip_prefix(filters::EXACT).unwrap_or(detail);
            TemplateError::new(TemplateErrorKind::Runtime, text.to_string())
        };
        let items = result.map_err(to_err)?;
        push_frame();
        let out = items.iter().map(convert::to_json).collect();
        pop_frame();
        out
    }

    /// [`Templar::eval_conditional`] for a raw YAML value: booleans are taken as they are
    /// (`when: true`), strings are evaluated, anything else is an expression in its Python form
    /// (`when: 1` fails the boolean rule as Ansible's does).
    pub fn eval_conditional_value(
        &self,
        cond: &J,
        vars: &Arc<dyn VarSource>,
    ) -> Result<bool, TemplateError> {
        match cond {
            J::Bool(b) => Ok(*b),
            J::String(s) => self.eval_conditional(s, vars),
            other => self.eval_conditional(&pyrepr::json_repr(other), vars),
        }
    }

    /// Whether every string in a rendered value is free of the `omit` placeholder; the executor
    /// drops module arguments for which [`is_omit`] holds.
    pub fn contains_omit(value: &J) -> bool {
        match value {
            J::String(_) => is_omit(value),
            J::Array(a) => a.iter().any(Self::contains_omit),
            J::Object(o) => o.values().any(Self::contains_omit),
            _ => false,
        }
    }
}

/// Jinja's builtin tests that minijinja provides and that we keep as they are.
const MINIJINJA_TESTS: &[&str] = &["escaped", "false", "filter", "test", "true"];

/// minijinja builtins that neither Ansible nor Jinja has: removed, so that using one fails
/// with `No filter named ...` / `No test named ...` as in Ansible.
const NOT_ANSIBLE_FILTERS: &[&str] = &["chain", "lines"];
const NOT_ANSIBLE_TESTS: &[&str] = &["startingwith", "endingwith", "safe"];

/// Every filter templates can use, sorted (Ansible's, Jinja's, fleetsim's spellings), without
/// the `ansible.builtin.` forms registered beside each.
pub fn filter_names() -> Vec<&'static str> {
    LazyLock::force(&STRICT);
    let mut names: Vec<&'static str> = filters::REGISTERED_FILTERS
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .iter()
        .copied()
        .collect();
    names.sort_unstable();
    names
}

/// Every test templates can use (`x is NAME`), sorted.
pub fn test_names() -> Vec<&'static str> {
    LazyLock::force(&STRICT);
    let mut names: Vec<&'static str> = filters::REGISTERED_TESTS
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .iter()
        .copied()
        .chain(MINIJINJA_TESTS.iter().copied())
        .collect();
    names.sort_unstable();
    names.dedup();
    names
}

/// Every lookup (`lookup('NAME')`, `query`, `with_NAME`), sorted.
pub fn lookup_names() -> Vec<&'static str> {
    LOOKUP_NAMES.to_vec()
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

/// The steps one render may take: far more than any real template needs (Lab 8.2's take
/// thousands), a few seconds of wall time at most.
pub const TEMPLATE_FUEL: u64 = 20_000_000;

fn build_env(behavior: UndefinedBehavior) -> Environment<'static> {
    let mut env = Environment::new();
    env.set_undefined_behavior(behavior);
    env.set_trim_blocks(true);
    env.set_keep_trailing_newline(true);
    env.set_recursion_limit(200);
    // A step budget per render (minijinja's fuel): `{% for %}` over a huge range ends with
    // an error naming the budget instead of running for hours.
    env.set_fuel(Some(TEMPLATE_FUEL));
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
    for name in NOT_ANSIBLE_FILTERS {
        env.remove_filter(name);
    }
    for name in NOT_ANSIBLE_TESTS {
        env.remove_test(name);
    }
    env
}

/// The `template` lookup's options for one file (see [`Inner::render_file_in`]).
pub(crate) struct FileRender {
    pub variable: (String, String),
    pub comment: (String, String),
    pub trim_blocks: bool,
    /// Folders `{% include %}` and `{% import %}` look in, first first.
    pub searchpath: Vec<String>,
}

impl Inner {
    /// Render `s` with `ctx` as the variables; Ansible's native-or-string result rules.
    pub(crate) fn render_in(self: &Arc<Self>, s: &str, ctx: &Arc<Ctx>) -> Result<J, TemplateError> {
        if !is_template(s) {
            return Ok(J::String(s.to_string()));
        }
        // Jinja's lexer (keep_trailing_newline off, as Ansible compiles) drops one trailing
        // newline, so `"{{ 5 }}\n"` is the single node 5, a native int; Ansible then gives a
        // string result back the newlines its source ended with (`_post_render_mutation`).
        let body = without_last_newline(s);
        let (out, frame) = self.render_raw(body, ctx, true)?;
        match finish_native(out, frame)? {
            J::String(mut text) => {
                restore_newlines(s, &mut text);
                Ok(J::String(text))
            }
            other => Ok(other),
        }
    }

    /// [`Inner::render_in`] without Ansible's backslash escaping (conditionals are expressions
    /// whose string constants keep Jinja's escape sequences).
    pub(crate) fn render_expr_in(
        self: &Arc<Self>,
        s: &str,
        ctx: &Arc<Ctx>,
    ) -> Result<J, TemplateError> {
        let (out, frame) = self.render_raw(s, ctx, false)?;
        finish_native(out, frame)
    }

    /// Render `s` to text (no native types): the template module and the `template` lookup.
    pub(crate) fn render_text_in(
        self: &Arc<Self>,
        s: &str,
        ctx: &Arc<Ctx>,
    ) -> Result<String, TemplateError> {
        // As in render_in: Jinja drops the source's last newline before trim_blocks can see
        // it, and Ansible gives the output back the newlines the source ended with.
        let body = without_last_newline(s);
        let mut out = self.render_text_verbatim_in(body, ctx)?;
        restore_newlines(s, &mut out);
        Ok(out)
    }

    /// [`Inner::render_text_in`] of a source whose trailing newline the caller already
    /// handled (the template module with its own `newline_sequence`).
    pub(crate) fn render_text_verbatim_in(
        self: &Arc<Self>,
        s: &str,
        ctx: &Arc<Ctx>,
    ) -> Result<String, TemplateError> {
        let (out, _frame) = self.render_raw(s, ctx, false)?;
        Ok(out)
    }

    /// Renders a template file as the `template` lookup does (`_engine.template` with the
    /// lookup's overrides, no backslash escaping): a native result (a template of one
    /// expression gives its value, one with no output `None`), in an environment with the
    /// given delimiters and `trim_blocks` whose `{% include %}` and `{% import %}` find
    /// templates in `opts.searchpath`.
    pub(crate) fn render_file_in(
        self: &Arc<Self>,
        s: &str,
        ctx: &Arc<Ctx>,
        opts: &FileRender,
    ) -> Result<J, TemplateError> {
        let syntax = minijinja::syntax::SyntaxConfig::builder()
            .variable_delimiters(opts.variable.0.clone(), opts.variable.1.clone())
            .comment_delimiters(opts.comment.0.clone(), opts.comment.1.clone())
            .build()
            .map_err(|e| TemplateError::new(TemplateErrorKind::Syntax, e.to_string()))?;
        // A copy of the strict environment (its filters, tests and lookups) for this one
        // render: the loader and the syntax are this file's.
        let mut env = self.strict.clone();
        env.set_syntax(syntax);
        env.set_trim_blocks(opts.trim_blocks);
        // Ansible's environment drops a template's last newline (an included one's too).
        env.set_keep_trailing_newline(false);
        self.set_template_loader(&mut env, opts.searchpath.clone());
        let body = without_last_newline(s);
        // The source rewrites find code by Jinja's own delimiters.
        let rewrite_ok = opts.variable.0 == "{{"
            && opts.variable.1 == "}}"
            && opts.comment.0 == "{#"
            && opts.comment.1 == "#}";
        let (out, frame) = self.render_raw_with(body, ctx, false, Some(&env), rewrite_ok)?;
        match finish_native(out, frame)? {
            J::String(mut text) => {
                restore_newlines(s, &mut text);
                Ok(J::String(text))
            }
            other => Ok(other),
        }
    }

    /// Jinja's FileSystemLoader over `searchpath` for `env`: a name's parts under each folder
    /// in turn, read from the controller; `..` never leaves them.
    fn set_template_loader(&self, env: &mut Environment<'static>, searchpath: Vec<String>) {
        let host = self.lookup.clone();
        env.set_loader(move |name| {
            if name.split('/').any(|p| p == "..") {
                return Ok(None);
            }
            Ok(searchpath
                .iter()
                .find_map(|d| host.read_file(&format!("{}/{name}", d.trim_end_matches('/')))))
        });
    }

    /// The template module's text render ([`Inner::render_text_in`], or its verbatim form)
    /// in an environment whose `{% include %}`, `{% import %}` and `{% extends %}` find
    /// templates in `searchpath`. As in Ansible's environment, an included template's last
    /// newline is dropped; the caller's source gets its trailing newlines back as before.
    pub(crate) fn render_text_searching_in(
        self: &Arc<Self>,
        s: &str,
        ctx: &Arc<Ctx>,
        verbatim: bool,
        searchpath: Vec<String>,
    ) -> Result<String, TemplateError> {
        let mut env = self.strict.clone();
        env.set_keep_trailing_newline(false);
        self.set_template_loader(&mut env, searchpath);
        let body = if verbatim { s } else { without_last_newline(s) };
        let (mut out, _frame) = self.render_raw_with(body, ctx, false, Some(&env), true)?;
        if !verbatim {
            restore_newlines(s, &mut out);
        }
        Ok(out)
    }

    fn render_raw(
        self: &Arc<Self>,
        s: &str,
        ctx: &Arc<Ctx>,
        escape_backslashes: bool,
    ) -> Result<(String, Frame), TemplateError> {
        self.render_raw_with(s, ctx, escape_backslashes, None, true)
    }

    /// [`Inner::render_raw`] in `env` when given (no chained-undefined retry there), with
    /// the source rewrites only when `rewrite_ok` (the source has Jinja's delimiters).
    fn render_raw_with(
        self: &Arc<Self>,
        s: &str,
        ctx: &Arc<Ctx>,
        escape_backslashes: bool,
        env: Option<&Environment<'static>>,
        rewrite_ok: bool,
    ) -> Result<(String, Frame), TemplateError> {
        if frames_depth() > MAX_NESTING {
            return Err(vars::recursion_error());
        }
        let rewritten = if rewrite_ok {
            rewrite::rewrite(s, escape_backslashes)
        } else {
            None
        };
        let src: &str = rewritten.as_deref().unwrap_or(s);
        push_frame();
        CURRENT.with(|c| c.borrow_mut().push((self.clone(), ctx.clone())));
        let root = Value::from_dyn_object(ctx.clone());
        let mut result = match env {
            Some(e) => {
                let e: &Environment<'_> = e;
                e.template_from_str(src)
                    .and_then(|t| render_bounded(&t, root.clone()))
            }
            None => render_strict(src, root.clone()),
        };
        if let Err(e) = &result {
            if env.is_none() && e.kind() == ErrorKind::UndefinedError && chain_rescued(src, e) {
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
            Err(e) => {
                let chain_msg = if e.kind() == ErrorKind::UndefinedError {
                    failing_snippet(src, &e).and_then(|(s, end)| {
                        let snippet = &src[s..end];
                        match undefined::matching_miss(&frame.misses, snippet) {
                            Some(_) => None,
                            None => self.describe_chain(snippet, ctx),
                        }
                    })
                } else {
                    None
                };
                let err = map_error(e, &frame, src);
                Err(match chain_msg {
                    Some(m) => err.map_message(|_| m),
                    None => err,
                })
            }
        }
    }

    /// For an undefined `a.b.c` that no recorded miss explains (attribute access on a string or
    /// number), find the first link that fails and name its parent's type, as Jinja does:
    /// `object of type 'int' has no attribute 'b'`. Template locals are not visible here, so
    /// chains rooted in loop variables fall back to the generic message.
    fn describe_chain(self: &Arc<Self>, snippet: &str, ctx: &Arc<Ctx>) -> Option<String> {
        let links = chain_links(snippet)?;
        for i in 1..links.len() {
            let parent = links[..i].concat();
            let here = links[..=i].concat();
            let probe = format!("{{{{ (({here}) is defined, ({parent}) | type_debug) }}}}");
            push_frame();
            let out = self
                .strict
                .render_str(&probe, Value::from_dyn_object(ctx.clone()));
            pop_frame();
            let out = out.ok()?;
            if let Some(rest) = out.strip_prefix("[False, '") {
                let ty = rest.trim_end_matches("']");
                let link = &links[i];
                let attr = match link.strip_prefix('.') {
                    Some(a) => format!("'{a}'"),
                    None => link
                        .trim_start_matches('[')
                        .trim_end_matches(']')
                        .to_string(),
                };
                return Some(format!("object of type '{ty}' has no attribute {attr}"));
            }
        }
        None
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

fn frames_depth() -> usize {
    CURRENT.with(|c| c.borrow().len())
}

/// Ansible's concat: None outputs are dropped; a single output keeps its native type.
/// Ansible's `is_possibly_all_template`: starts with a Jinja start delimiter and ends with
/// an end delimiter.
/// The next Jinja string literal in `expr`: where it starts and ends (quotes included) and
/// its text (with `\\`, `\'`, `\"`, `\n` and `\t` unescaped, as Jinja's lexer reads them).
fn next_string_literal(expr: &str) -> Option<(usize, usize, String)> {
    let start = expr.find(['\'', '"'])?;
    let quote = expr[start..].chars().next()?;
    let mut text = String::new();
    let mut chars = expr[start + 1..].char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some((_, 'n')) => text.push('\n'),
                Some((_, 't')) => text.push('\t'),
                Some((_, other @ ('\\' | '\'' | '"'))) => text.push(other),
                Some((_, other)) => {
                    text.push('\\');
                    text.push(other);
                }
                None => return None,
            },
            c if c == quote => return Some((start, start + 1 + i + 1, text)),
            c => text.push(c),
        }
    }
    None
}

/// `expr` without its string literals (for a look at its own syntax).
fn outside_string_literals(expr: &str) -> String {
    let mut out = String::new();
    let mut rest = expr;
    while let Some((start, end, _)) = next_string_literal(rest) {
        out.push_str(&rest[..start]);
        out.push_str("''");
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

/// Whether `s` is untrusted text where an expression is expected: a `!unsafe` value as the
/// YAML loader quotes it, or any text that is one raw block (which ansible-core renders to
/// a string it does not trust as an expression either).
pub fn is_untrusted_text(s: &str) -> bool {
    let s = s.trim();
    s.starts_with("{% raw %}") && s.ends_with("{% endraw %}")
}

/// ansible-core's refusal of untrusted text as an expression (TemplateTrustCheckFailedError).
pub const UNTRUSTED_MESSAGE: &str = "Encountered untrusted template or expression.";

pub fn possibly_all_template(s: &str) -> bool {
    (s.starts_with("{{") || s.starts_with("{%") || s.starts_with("{#"))
        && (s.ends_with("}}") || s.ends_with("%}") || s.ends_with("#}"))
}

/// How many `\n` a string ends with (Ansible's `_count_newlines_from_end`).
fn trailing_newlines(s: &str) -> usize {
    s.len() - s.trim_end_matches('\n').len()
}

/// The source as Jinja's lexer sees it with keep_trailing_newline off: one line ending less.
fn without_last_newline(s: &str) -> &str {
    s.strip_suffix("\r\n")
        .or_else(|| s.strip_suffix('\n'))
        .or_else(|| s.strip_suffix('\r'))
        .unwrap_or(s)
}

/// Ansible's `_post_render_mutation`: the output gets back the newlines its source ended
/// with, when rendering lost them.
fn restore_newlines(source: &str, out: &mut String) {
    let (want, have) = (trailing_newlines(source), trailing_newlines(out));
    if want > have {
        out.push_str(&"\n".repeat(want - have));
    }
}

fn finish_native(out: String, frame: Frame) -> Result<J, TemplateError> {
    let real: Vec<&Value> = frame.nodes.iter().filter(|v| !v.is_none()).collect();
    if frame.nodes.len() == 1 && real.len() == 1 && out == pyrepr::py_str(real[0]) {
        push_frame();
        // An undefined value inside the result (`map(attribute='x')` over a dict without
        // it) was noted while rendering: its message is what the conversion reports.
        with_frame(|fr| fr.misses.clone_from(&frame.misses));
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
    if range.end > src.len()
        || range.start > range.end
        || !src.is_char_boundary(range.start)
        || !src.is_char_boundary(range.end)
    {
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

/// Split `a.b['c'][0]` into `["a", ".b", "['c']", "[0]"]`; `None` if it is not a plain chain.
fn chain_links(snippet: &str) -> Option<Vec<String>> {
    let s = snippet.trim();
    let b = s.as_bytes();
    let mut links = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let start = i;
        if b[i] == b'.' {
            i += 1;
        } else if b[i] == b'[' {
            let close = s[i..].find(']')? + i;
            links.push(s[start..=close].to_string());
            i = close + 1;
            continue;
        }
        while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_') {
            i += 1;
        }
        if i == start || (i == start + 1 && b[start] == b'.') {
            return None;
        }
        links.push(s[start..i].to_string());
    }
    (links.len() >= 2).then_some(links)
}

/// Whether a strict failure at `a.b.c` is followed by a filter or a definedness test, to which
/// Ansible's chaining undefined would have been handed (`| default(...)`, `is defined`). The
/// chainable re-run lets the filter decide: `default` rescues, and filters that need a value fail
/// with the undefined message as in Ansible. Other tests (`is none`) fail on undefined there.
fn chain_rescued(src: &str, err: &minijinja::Error) -> bool {
    let Some((_, end)) = failing_snippet(src, err) else {
        return false;
    };
    let mut rest = src[end..].trim_start();
    while let Some(r) = rest.strip_prefix(')') {
        rest = r.trim_start();
    }
    if rest.starts_with('|') && !rest.starts_with("||") {
        return true;
    }
    if let Some(r) = rest.strip_prefix("is") {
        let words: Vec<&str> = r.split_whitespace().take(2).collect();
        let word = |i: usize| {
            words
                .get(i)
                .map(|w| w.trim_end_matches(|c: char| !c.is_alphanumeric()))
                .unwrap_or("")
        };
        return matches!(word(0), "defined" | "undefined")
            || (word(0) == "not" && matches!(word(1), "defined" | "undefined"));
    }
    false
}

/// A failure rendered from an expression (a conditional, debug's `var`) rather than a
/// template: Jinja's message says so (`Error rendering expression: ...`).
fn expression_error(err: TemplateError) -> TemplateError {
    err.map_message(|m| match m.strip_prefix("Error rendering template: ") {
        Some(rest) => format!("Error rendering expression: {rest}"),
        None => m.to_string(),
    })
}

/// Translate a minijinja error into Ansible's message, keeping it as the source.
fn map_error(e: minijinja::Error, frame: &Frame, src: &str) -> TemplateError {
    let snippet = failing_snippet(src, &e)
        .map(|(s, end)| src[s..end].to_string())
        .unwrap_or_default();
    let detail = e.detail().unwrap_or_default().to_string();
    let (kind, message) = if let Some(text) = detail.strip_prefix(filters::EXACT) {
        // our own filters/tests/lookups already produced Ansible's wording
        let kind = if e.kind() == ErrorKind::UndefinedError {
            TemplateErrorKind::Undefined
        } else {
            TemplateErrorKind::Runtime
        };
        (kind, text.to_string())
    } else {
        match e.kind() {
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
                match detail.strip_prefix("unknown statement ") {
                    Some(tag) => {
                        let at = e.range().map_or(src.len(), |r| r.start.min(src.len()));
                        format!(
                            "Syntax error in template: {}",
                            unknown_tag_message(tag.trim(), &src[..at])
                        )
                    }
                    None => format!("Syntax error in template: {}", jinja_syntax_text(&detail)),
                },
            ),
            ErrorKind::UnknownMethod => {
                // `x.nomethod()`: Jinja reports the missing attribute of the object
                let (ty, name) = detail
                    .split_once(" has no method named ")
                    .unwrap_or(("object", detail.as_str()));
                (
                    TemplateErrorKind::Undefined,
                    format!(
                        "object of type '{}' has no attribute '{name}'",
                        kind_to_python(ty)
                    ),
                )
            }
            ErrorKind::WriteFailure => {
                return too_large();
            }
            ErrorKind::OutOfFuel => (
                TemplateErrorKind::Runtime,
                format!(
                    "fleetsim: the template took more than its budget of {TEMPLATE_FUEL} steps (a loop over a huge range?); fleetsim stops it rather than run for hours"
                ),
            ),
            _ => {
                if (detail.contains("undefined") || detail.is_empty()) && !frame.misses.is_empty() {
                    (
                        TemplateErrorKind::Undefined,
                        undefined_message(&frame.misses, &snippet),
                    )
                } else if detail.is_empty() {
                    (
                        TemplateErrorKind::Runtime,
                        format!("Error rendering template: {}", e.kind()),
                    )
                } else {
                    (
                        TemplateErrorKind::Runtime,
                        format!("Error rendering template: {}", python_op_text(&detail)),
                    )
                }
            }
        }
    };
    let mut err = TemplateError::new(kind, message);
    if let (Some(line), Some(range)) = (e.line(), e.range()) {
        let mut start = range.start.min(src.len());
        while !src.is_char_boundary(start) {
            start -= 1;
        }
        let line_start = src[..start].rfind('\n').map(|p| p + 1).unwrap_or(0);
        err = err.with_position(line, src[line_start..start].chars().count() + 1);
    }
    err.with_source(e)
}

/// minijinja's value kinds under their Python names.
fn kind_to_python(kind: &str) -> &str {
    match kind {
        "map" => "dict",
        "string" => "str",
        "sequence" | "iterable" => "list",
        "number" => "int",
        "none" => "NoneType",
        "bool" => "bool",
        other => other,
    }
}

/// minijinja's operator failures in Python's words.
fn python_op_text(detail: &str) -> String {
    if let Some(rest) = detail.strip_prefix("tried to use ") {
        // "tried to use + operator on unsupported types number and string"
        if let Some((op, types)) = rest.split_once(" operator on unsupported types ") {
            if let Some((a, b)) = types.split_once(" and ") {
                return format!(
                    "unsupported operand type(s) for {op}: '{}' and '{}'",
                    kind_to_python(a),
                    kind_to_python(b)
                );
            }
        }
    }
    // Python's ZeroDivisionError texts (minijinja: "unable to calculate 5 % 0").
    if detail.starts_with("unable to calculate") {
        if detail.ends_with("// 0") {
            return "integer division or modulo by zero".into();
        }
        if detail.ends_with("% 0") {
            return "integer modulo by zero".into();
        }
        if detail.ends_with("/ 0") {
            return "division by zero".into();
        }
    }
    detail.to_string()
}

/// A few of minijinja's syntax messages in Jinja2's words.
fn jinja_syntax_text(detail: &str) -> String {
    match detail {
        "unexpected end of variable block" => "unexpected 'end of print statement'".into(),
        "unexpected end of block" => "unexpected 'end of statement block'".into(),
        other => other.to_string(),
    }
}

/// Jinja's parser on a tag it does not know (`fail_unknown_tag`): the tag, what the
/// innermost open block waits for, and that block. `before` is the template up to the tag.
/// Ansible enables no Jinja extension, so `break`, `continue` and `do` are unknown too.
fn unknown_tag_message(tag: &str, before: &str) -> String {
    // (tag, the end tags it waits for) of each open block, innermost last.
    let mut open: Vec<(String, Vec<&'static str>)> = Vec::new();
    let mut rest = before;
    while let Some(start) = rest.find("{%") {
        let body = &rest[start + 2..];
        let Some(end) = body.find("%}") else { break };
        let inner = body[..end].trim_matches(|c: char| c == '-' || c == '+' || c.is_whitespace());
        rest = &body[end + 2..];
        let word = inner.split_whitespace().next().unwrap_or("");
        let waits: Option<Vec<&'static str>> = match word {
            "for" => Some(vec!["endfor", "else"]),
            "if" => Some(vec!["elif", "else", "endif"]),
            "macro" => Some(vec!["endmacro"]),
            "call" => Some(vec!["endcall"]),
            "filter" => Some(vec!["endfilter"]),
            "block" => Some(vec!["endblock"]),
            "with" => Some(vec!["endwith"]),
            "autoescape" => Some(vec!["endautoescape"]),
            // `{% set x %}...{% endset %}` is a block; `{% set x = 1 %}` is not.
            "set" if !inner.contains('=') => Some(vec!["endset"]),
            "raw" => {
                match rest.find("endraw") {
                    Some(i) => rest = &rest[i..],
                    None => break,
                }
                None
            }
            _ => None,
        };
        if let Some(w) = waits {
            open.push((word.to_string(), w));
        } else if word == "else" {
            if let Some(top) = open.last_mut() {
                top.1 = match top.0.as_str() {
                    "for" => vec!["endfor"],
                    "if" => vec!["endif"],
                    _ => top.1.clone(),
                };
            }
        } else if word.starts_with("end") && word != "endraw" {
            open.pop();
        }
    }
    let mut message = format!("Encountered unknown tag '{tag}'.");
    if let Some((name, waits)) = open.last() {
        let looking: Vec<String> = waits.iter().map(|w| format!("'{w}'")).collect();
        let looking = looking.join(" or ");
        if open.iter().any(|(_, w)| w.contains(&tag)) {
            message.push_str(&format!(
                " You probably made a nesting mistake. Jinja is expecting this tag, but currently looking for {looking}."
            ));
        } else {
            message.push_str(&format!(
                " Jinja was looking for the following tags: {looking}."
            ));
        }
        message.push_str(&format!(
            " The innermost block that needs to be closed is '{name}'."
        ));
    }
    message
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
