//! fleetsim-sim: the simulated world that playbooks act on.
//!
//! Each inventory host is a simulated machine with a sandboxed filesystem (`fs`) and an
//! in-process POSIX shell (`shell`); nothing here touches the user's real machine outside
//! the sandbox folder, and nothing starts a real process.

pub mod fs;
pub mod shell;
