//! `TemplateError`: Ansible's message text plus minijinja's error kept as the `source()`.

use std::fmt;

/// What went wrong, in the categories the executor reacts to differently.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TemplateErrorKind {
    /// A variable or attribute was undefined when it was used (`'x' is undefined`).
    Undefined,
    /// The template could not be parsed, or names an unknown filter/test.
    Syntax,
    /// A variable refers to itself, directly or through others.
    Recursion,
    /// A conditional did not produce a boolean (2.19's rule).
    NonBooleanConditional,
    /// A filter, test, lookup or operation failed.
    Runtime,
}

/// An error from templating, with Ansible's message text (the part printed after `Task failed: `
/// or after `Error while resolving value for 'msg': `), the position inside the template when
/// known, and minijinja's error (if any) as its `source()`.
#[derive(Debug)]
pub struct TemplateError {
    kind: TemplateErrorKind,
    message: String,
    /// 1-based line and column inside the template string, when minijinja knows them.
    position: Option<(usize, usize)>,
    source: Option<minijinja::Error>,
    /// The help text of the exception a plugin raised (ansible-core's `help_text`), which
    /// Ansible prints after that exception's message, never in a result's `msg`.
    help: Option<String>,
}

/// Ends a plugin's error text with the help ansible-core shows for it (split off by
/// [`TemplateError`]: `message` keeps what precedes it).
pub const HELP_MARK: &str = "\u{0}help:";

impl TemplateError {
    /// A new error with Ansible's message text.
    pub fn new(kind: TemplateErrorKind, message: impl Into<String>) -> Self {
        TemplateError {
            kind,
            message: message.into(),
            position: None,
            source: None,
            help: None,
        }
        .split_help()
    }

    /// Moves the help ending the message (after [`HELP_MARK`]) to its own field.
    fn split_help(mut self) -> Self {
        if let Some((message, help)) = self.message.split_once(HELP_MARK) {
            self.help = Some(help.to_string());
            self.message = message.to_string();
        }
        self
    }

    /// The help text of the exception a plugin raised, if it has any.
    pub fn help(&self) -> Option<&str> {
        self.help.as_deref()
    }

    /// Attach the minijinja error this one came from (kept for `source()`, never flattened).
    pub fn with_source(mut self, source: minijinja::Error) -> Self {
        self.source = Some(source);
        self
    }

    /// Attach the 1-based line and column within the template.
    pub fn with_position(mut self, line: usize, column: usize) -> Self {
        self.position = Some((line, column));
        self
    }

    /// The category of the error.
    pub fn kind(&self) -> &TemplateErrorKind {
        &self.kind
    }

    /// Ansible's message text, e.g. `'x' is undefined`.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// 1-based (line, column) within the template string, when known.
    pub fn position(&self) -> Option<(usize, usize)> {
        self.position
    }

    /// The underlying minijinja error, if this error came from minijinja.
    pub fn minijinja(&self) -> Option<&minijinja::Error> {
        self.source.as_ref()
    }

    /// Replace the message (used to prefix context, e.g. `Error while evaluating conditional: `).
    pub fn map_message(mut self, f: impl FnOnce(&str) -> String) -> Self {
        self.message = f(&self.message);
        self
    }

    /// For a [`TemplateErrorKind::NonBooleanConditional`] error, name where the value came from
    /// (`path:line:col`) as Ansible does: `... derived from value of type 'str' at '<origin>'. ...`.
    pub fn set_conditional_origin(&mut self, origin: &str) {
        if self.kind == TemplateErrorKind::NonBooleanConditional && !self.message.contains(" at '")
        {
            if let Some(idx) = self.message.find(". Conditionals must") {
                self.message.insert_str(idx, &format!(" at '{origin}'"));
            }
        }
    }
}

impl fmt::Display for TemplateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for TemplateError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source
            .as_ref()
            .map(|e| e as &(dyn std::error::Error + 'static))
    }
}

impl Clone for TemplateError {
    fn clone(&self) -> Self {
        TemplateError {
            kind: self.kind.clone(),
            message: self.message.clone(),
            position: self.position,
            help: self.help.clone(),
            source: self.source.as_ref().map(|e| {
                minijinja::Error::new(e.kind(), e.detail().unwrap_or_default().to_string())
            }),
        }
    }
}
