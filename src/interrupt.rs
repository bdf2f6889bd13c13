//! Ctrl-C and temporary sandboxes: an interrupt skips destructors, so a command that made a
//! temporary sandbox removes it itself before exiting as a shell reports an interrupt (130).

use std::path::PathBuf;

/// Removes `dir` when the user interrupts the command, then exits 130. Only the first
/// handler of a process is installed; each command sets at most one.
pub fn remove_on_interrupt(dir: PathBuf) {
    let _ = ctrlc::set_handler(move || {
        let _ = std::fs::remove_dir_all(&dir);
        std::process::exit(130);
    });
}
