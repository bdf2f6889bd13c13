//! Errors that stop a playbook from loading, shaped as ansible-core 2.19 prints them.

use std::fmt;
use std::path::PathBuf;

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
    /// A message without a position that stops the run even where a [`LoadError::Plain`]
    /// only fails the hosts of an include (a role's file outside its role).
    Fatal {
        message: String,
        exit_code: i32,
    },
    /// Static imports that import themselves (`import_playbook`, `import_tasks`): Python's
    /// recursion limit ends ansible-core's load with an unexpected exception. `chain` is the
    /// files from the first one imported again down to the import that closes the cycle.
    ImportCycle {
        chain: Vec<PathBuf>,
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
            LoadError::At { exit_code, .. }
            | LoadError::Plain { exit_code, .. }
            | LoadError::Fatal { exit_code, .. } => *exit_code,
            LoadError::ImportCycle { .. } => 250,
        }
    }

    /// fleetsim's explanation of an error whose Ansible message does not say what is wrong.
    pub fn hint(&self) -> Option<String> {
        match self {
            LoadError::ImportCycle { chain } => {
                let names: Vec<String> = chain.iter().map(|p| p.display().to_string()).collect();
                let again = names.last().cloned().unwrap_or_default();
                Some(format!(
                    "the static imports never end: {} ({again} is imported again while it is being imported). Break the cycle, or make the repeated step an include_tasks with a condition that ends it.",
                    names.join(" -> ")
                ))
            }
            _ => None,
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
            LoadError::Plain { message, .. } | LoadError::Fatal { message, .. } => {
                write!(f, "{message}")
            }
            LoadError::ImportCycle { .. } => write!(
                f,
                "Unexpected Exception, this is probably a bug: maximum recursion depth exceeded while calling a Python object"
            ),
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
