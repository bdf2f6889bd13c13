//! Filters, registered on the environment: Ansible's `plugins/filter/core.py`, `mathstuff.py`,
//! `urlsplit.py`, `urls.py` and Jinja's builtins, with Ansible's semantics and error texts.

mod core;
mod crypt;
pub(crate) mod hash;
mod jinja;
mod lists;
pub(crate) mod paths;
mod serialize;
mod strings;

use minijinja::value::{Rest, Value, ValueKind};
use minijinja::{Environment, Error, ErrorKind, State};

use super::methods::split_args;
use super::pyrepr::py_str;

pub(crate) use core::boolean_strict;
pub(crate) use lists::{py_cmp, to_dict};
pub(crate) use paths::{abspath, glob_files};
pub(crate) use strings::{compile as regex_compile, shell_quote, strftime};

/// A filter's (or test's) arguments after the input value: positional and keyword.
pub(crate) struct Args<'a, 's> {
    pub state: &'a State<'s, 's>,
    pub pos: Vec<Value>,
    pub kw: Vec<(String, Value)>,
}

impl<'a, 's> Args<'a, 's> {
    pub fn new(state: &'a State<'s, 's>, rest: Vec<Value>) -> Self {
        let (pos, kw) = split_args(&rest);
        Args { state, pos, kw }
    }

    /// Argument `i`, or keyword `name`.
    pub fn get(&self, i: usize, name: &str) -> Option<&Value> {
        self.kw
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v)
            .or_else(|| self.pos.get(i))
    }

    /// Keyword-only argument.
    pub fn kw(&self, name: &str) -> Option<&Value> {
        self.kw.iter().find(|(k, _)| k == name).map(|(_, v)| v)
    }

    pub fn str(&self, i: usize, name: &str) -> Option<String> {
        self.get(i, name)
            .filter(|v| !v.is_none() && !v.is_undefined())
            .map(py_str)
    }

    pub fn bool(&self, i: usize, name: &str, dflt: bool) -> bool {
        self.get(i, name).map(truthy_arg).unwrap_or(dflt)
    }

    pub fn int(&self, i: usize, name: &str) -> Option<i64> {
        self.get(i, name).and_then(|v| {
            v.as_i64()
                .or_else(|| f64::try_from(v.clone()).ok().map(|f| f as i64))
                .or_else(|| v.as_str().and_then(|s| s.trim().parse().ok()))
        })
    }
}

/// A boolean argument as Python would read it.
pub(crate) fn truthy_arg(v: &Value) -> bool {
    match v.kind() {
        ValueKind::String => {
            matches!(
                v.as_str().unwrap_or("").to_lowercase().as_str(),
                "true" | "yes" | "1" | "on" | "y"
            )
        }
        _ => v.is_true(),
    }
}

/// An error with Ansible's text as the message.
pub(crate) fn err(msg: impl Into<String>) -> Error {
    Error::new(ErrorKind::InvalidOperation, msg.into())
}

/// Marks an error detail that already holds Ansible's exact text (no further wrapping).
pub(crate) const EXACT: char = '\u{1}';

/// An error whose detail is Ansible's final text.
pub(crate) fn exact(kind: ErrorKind, msg: impl std::fmt::Display) -> Error {
    Error::new(kind, format!("{EXACT}{msg}"))
}

/// An error raised by an Ansible filter plugin: `The filter plugin 'ansible.builtin.X' failed: ...`.
pub(crate) fn plugin_err(name: &str, msg: impl std::fmt::Display) -> Error {
    exact(
        ErrorKind::InvalidOperation,
        format!("The filter plugin 'ansible.builtin.{name}' failed: {msg}"),
    )
}

/// Wrap a filter's or test's failure as Ansible reports plugin exceptions; undefined values and
/// already-final texts pass through.
pub(crate) fn wrap_plugin_error(what: &str, name: &str, e: Error) -> Error {
    let passthrough = matches!(
        e.kind(),
        ErrorKind::UndefinedError | ErrorKind::UnknownFilter | ErrorKind::UnknownTest
    ) || e.detail().is_some_and(|d| d.starts_with(EXACT));
    if passthrough {
        return e;
    }
    let detail = e
        .detail()
        .map(str::to_string)
        .unwrap_or_else(|| e.kind().to_string());
    exact(
        e.kind(),
        format!("The {what} plugin 'ansible.builtin.{name}' failed: {detail}"),
    )
}

/// Fail on undefined input (filters other than `default` & co. cannot use it).
pub(crate) fn defined(v: &Value) -> Result<(), Error> {
    if v.is_undefined() {
        Err(Error::from(ErrorKind::UndefinedError))
    } else {
        Ok(())
    }
}

/// The items of an iterable value (strings give characters, maps give keys).
pub(crate) fn items(v: &Value) -> Result<Vec<Value>, Error> {
    defined(v)?;
    match v.kind() {
        ValueKind::String => Ok(v.as_str().unwrap_or("").chars().map(Value::from).collect()),
        ValueKind::Seq | ValueKind::Map | ValueKind::Iterable => Ok(v.try_iter()?.collect()),
        ValueKind::None => Err(err("'NoneType' object is not iterable")),
        _ => Err(err(format!(
            "'{}' object is not iterable",
            super::pyrepr::py_type_name(v)
        ))),
    }
}

/// The names registered through [`add`] (filters) and `tests::add` (tests), for
/// [`crate::template::filter_names`] and [`crate::template::test_names`].
pub(crate) static REGISTERED_FILTERS: std::sync::Mutex<std::collections::BTreeSet<&'static str>> =
    std::sync::Mutex::new(std::collections::BTreeSet::new());
pub(crate) static REGISTERED_TESTS: std::sync::Mutex<std::collections::BTreeSet<&'static str>> =
    std::sync::Mutex::new(std::collections::BTreeSet::new());

/// Note `name` in a registry.
pub(crate) fn note_name(
    registry: &std::sync::Mutex<std::collections::BTreeSet<&'static str>>,
    name: &'static str,
) {
    registry
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert(name);
}

type FilterFn = dyn Fn(&Args, Value) -> Result<Value, Error> + Send + Sync + 'static;

/// Register `f` under each of `names`.
pub(crate) fn add(
    env: &mut Environment<'static>,
    names: &[&'static str],
    f: impl Fn(&Args, Value) -> Result<Value, Error> + Send + Sync + 'static,
) {
    let f: std::sync::Arc<FilterFn> = std::sync::Arc::new(f);
    for &name in names {
        note_name(&REGISTERED_FILTERS, name);
        let f1 = f.clone();
        env.add_filter(
            name,
            move |state: &State, value: Value, rest: Rest<Value>| {
                let args = Args::new(state, rest.0);
                f1(&args, value).map_err(|e| wrap_plugin_error("filter", name, e))
            },
        );
        // Fully qualified names (`ansible.builtin.to_json`) as written in some playbooks.
        let f2 = f.clone();
        env.add_filter(
            format!("ansible.builtin.{name}"),
            move |state: &State, value: Value, rest: Rest<Value>| {
                let args = Args::new(state, rest.0);
                f2(&args, value).map_err(|e| wrap_plugin_error("filter", name, e))
            },
        );
    }
}

/// Register every filter.
pub(crate) fn register(env: &mut Environment<'static>) {
    core::register(env);
    lists::register(env);
    strings::register(env);
    serialize::register(env);
    hash::register(env);
    jinja::register(env);
    paths::register(env);
}
