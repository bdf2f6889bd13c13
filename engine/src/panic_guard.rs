//! The last line of defence against fleetsim's own bugs: a panic inside a guarded call is
//! caught and returned as an [`InternalError`] (message and source location), so that one
//! task's bug fails that task as ansible-core fails a task whose code raised an unexpected
//! exception, and one case's bug does not end a whole `fleetsim check` campaign.
//!
//! Panics outside a guard keep Rust's default report: the hook only stays quiet for the
//! calls it guards.

use std::any::Any;
use std::cell::{Cell, RefCell};
use std::fmt;
use std::panic::{self, AssertUnwindSafe};
use std::sync::Once;

/// A panic caught by [`guarded`]: what it said and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InternalError {
    pub message: String,
    /// `file:line:column` of the panic in fleetsim's source, when the hook saw it.
    pub location: Option<String>,
}

impl fmt::Display for InternalError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.location {
            Some(at) => write!(f, "{} (at {at})", self.message),
            None => write!(f, "{}", self.message),
        }
    }
}

impl InternalError {
    /// The line fleetsim prints on stderr for it, asking for a report.
    pub fn report_line(&self) -> String {
        format!(
            "fleetsim: internal error: {self}. This is a bug in fleetsim, not in your playbook: please report it with the playbook, the inventory and the command line."
        )
    }
}

thread_local! {
    /// How many guarded calls this thread is inside (guards may nest).
    static DEPTH: Cell<usize> = const { Cell::new(0) };
    /// Where the last panic on this thread happened, recorded by the hook.
    static LOCATION: RefCell<Option<String>> = const { RefCell::new(None) };
}

static INSTALL_HOOK: Once = Once::new();

fn install_hook() {
    INSTALL_HOOK.call_once(|| {
        let default = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            if DEPTH.with(Cell::get) > 0 {
                let at = info
                    .location()
                    .map(|l| format!("{}:{}:{}", l.file(), l.line(), l.column()));
                LOCATION.with(|slot| *slot.borrow_mut() = at);
            } else {
                default(info);
            }
        }));
    });
}

fn payload_text(payload: &(dyn Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "a panic without a message".to_string()
    }
}

/// Runs `f`, turning a panic inside it into an [`InternalError`].
///
/// State `f` was changing may be half-changed afterwards (hence `AssertUnwindSafe`): callers
/// use it where a half-done task is what Ansible would leave too (a task that raised).
pub fn guarded<R>(f: impl FnOnce() -> R) -> Result<R, InternalError> {
    install_hook();
    DEPTH.with(|d| d.set(d.get() + 1));
    let result = panic::catch_unwind(AssertUnwindSafe(f));
    DEPTH.with(|d| d.set(d.get() - 1));
    result.map_err(|payload| InternalError {
        message: payload_text(payload.as_ref()),
        location: LOCATION.with(|slot| slot.borrow_mut().take()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_value_passes_through() {
        assert_eq!(guarded(|| 7), Ok(7));
    }

    #[test]
    fn a_panic_becomes_an_internal_error_with_its_location() {
        let err = guarded(|| -> u8 { panic!("boom {}", 42) }).unwrap_err();
        assert_eq!(err.message, "boom 42");
        let at = err.location.clone().expect("the hook records the location");
        assert!(at.contains("panic_guard.rs:"), "{at}");
        assert!(err
            .report_line()
            .starts_with("fleetsim: internal error: boom 42 (at "));
    }

    #[test]
    fn guards_nest() {
        let inner = guarded(|| guarded(|| -> u8 { panic!("inner") }));
        assert_eq!(inner.unwrap().unwrap_err().message, "inner");
    }
}
