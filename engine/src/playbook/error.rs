//! Errors that stop a playbook from loading, shaped as ansible-core 2.19 prints them.

use std::fmt;

use crate::diag::{source_context, Origin};
use crate::yaml::YamlError;

/// Why a playbook could not be loaded. Displays as the text after `[ERROR]: `.
#[derive(Debug)]
pub enum LoadError {
    Yaml(YamlError),
    /// A message with the place it points at (`'x' is not a valid attribute for a Play`).
    At {
        message: String,
        origin: Origin,
        exit_code: i32,
    },
    /// A message without a position (a file that cannot be found).
    Plain {
        message: String,
        exit_code: i32,
    },
}

impl LoadError {
    pub fn at(message: impl Into<String>, origin: Origin) -> LoadError {
        LoadError::At {
            message: message.into(),
            origin,
            exit_code: 4,
        }
    }

    /// ansible-playbook's exit status for this failure: 4 for a parse error, 1 for some
    /// file-resolution failures (as in the `error-missing-import-tasks` case).
    pub fn exit_code(&self) -> i32 {
        match self {
            LoadError::Yaml(_) => 4,
            LoadError::At { exit_code, .. } | LoadError::Plain { exit_code, .. } => *exit_code,
        }
    }
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LoadError::Yaml(e) => write!(f, "{e}"),
            LoadError::At {
                message, origin, ..
            } => write!(f, "{message}\n{}", source_context(origin, None)),
            LoadError::Plain { message, .. } => write!(f, "{message}"),
        }
    }
}

impl std::error::Error for LoadError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            LoadError::Yaml(e) => Some(e),
            _ => None,
        }
    }
}

impl From<YamlError> for LoadError {
    fn from(e: YamlError) -> Self {
        LoadError::Yaml(e)
    }
}
