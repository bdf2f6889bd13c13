//! Undefined bookkeeping: which names/attributes were missing during a render (so errors carry
//! Ansible's `'x' is undefined` text), errors raised where minijinja cannot return one, and `omit`.

use std::cell::RefCell;

use minijinja::Value;

use super::error::{TemplateError, TemplateErrorKind};

/// The placeholder Ansible substitutes for `omit`; the executor drops arguments equal to it.
pub const OMIT_PLACEHOLDER: &str = "__omit_place_holder__2d4aa8a4ea6e0b3f0dcbf0d51a1fb4d0b3b1fa7c";

/// Whether a rendered value is the `omit` placeholder (the executor drops such arguments).
pub fn is_omit(v: &serde_json::Value) -> bool {
    v.as_str() == Some(OMIT_PLACEHOLDER)
}

/// A missing variable or attribute seen while rendering.
#[derive(Debug, Clone)]
pub(crate) struct Miss {
    /// The variable name or attribute key (matched against the failing expression's text).
    pub key: String,
    /// Ansible's message for it.
    pub message: String,
}

/// Per-render state: misses, output nodes (for native results) and deferred errors.
#[derive(Default)]
pub(crate) struct Frame {
    pub misses: Vec<Miss>,
    /// Non-None values written by `{{ }}` (Ansible's concat drops None nodes).
    pub nodes: Vec<Value>,
    /// All `{{ }}` emissions, None included.
    pub emitted: usize,
    /// An error raised somewhere minijinja cannot return one (object lookups); it wins.
    pub fatal: Option<TemplateError>,
}

thread_local! {
    static FRAMES: RefCell<Vec<Frame>> = const { RefCell::new(Vec::new()) };
}

pub(crate) fn push_frame() {
    FRAMES.with(|f| f.borrow_mut().push(Frame::default()));
}

pub(crate) fn pop_frame() -> Frame {
    FRAMES.with(|f| f.borrow_mut().pop().unwrap_or_default())
}

/// Run `f` on the innermost frame, if any render is in progress.
pub(crate) fn with_frame<R>(f: impl FnOnce(&mut Frame) -> R) -> Option<R> {
    FRAMES.with(|frames| frames.borrow_mut().last_mut().map(f))
}

/// Record that `key` was missing, with Ansible's message for it.
pub(crate) fn record_miss(key: &str, message: String) {
    with_frame(|fr| {
        if fr.misses.len() < 256 {
            fr.misses.push(Miss {
                key: key.to_string(),
                message,
            })
        }
    });
}

/// Record an error that must fail the render even though the failing call could not return it.
pub(crate) fn record_fatal(err: TemplateError) {
    with_frame(|fr| {
        if fr.fatal.is_none() {
            fr.fatal = Some(err);
        }
    });
}

/// The Ansible message for an undefined variable.
pub(crate) fn undefined_var_message(name: &str) -> String {
    format!("'{name}' is undefined")
}

/// Pick the message for an undefined error raised at expression text `snippet`.
pub(crate) fn undefined_message(misses: &[Miss], snippet: &str) -> String {
    let words: Vec<&str> = snippet
        .split(|c: char| !(c.is_alphanumeric() || c == '_'))
        .filter(|w| !w.is_empty())
        .collect();
    // The latest miss whose key appears in the failing expression: earlier misses were
    // probably rescued by `default` or `is defined`.
    for m in misses.iter().rev() {
        if words.contains(&m.key.as_str()) {
            return m.message.clone();
        }
    }
    if let Some(m) = misses.last() {
        return m.message.clone();
    }
    let s = snippet.trim();
    if !s.is_empty() && s.chars().all(|c| c.is_alphanumeric() || c == '_') {
        return undefined_var_message(s);
    }
    "undefined variable".to_string()
}

/// An undefined error with Ansible's message.
pub(crate) fn undefined_error(message: String) -> TemplateError {
    TemplateError::new(TemplateErrorKind::Undefined, message)
}
