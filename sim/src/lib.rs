//! fleetsim-sim: the simulated world that playbooks act on.
//!
//! Each inventory host is a simulated machine ([`host::Host`]) with a sandboxed filesystem
//! (`fs`) and an in-process POSIX shell (`shell`); the [`world::World`] holds them with the
//! virtual clock, the run seed and the event log. Nothing here touches the user's real
//! machine outside the sandbox folder, and nothing starts a real process.

#![recursion_limit = "256"]

pub mod base64;
pub mod clock;
pub mod facts;
pub mod fleet;
pub mod fs;
pub mod host;
pub mod os;
pub mod rng;
pub mod shell;
pub mod world;
