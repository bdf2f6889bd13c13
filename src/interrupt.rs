//! Ctrl-C and temporary sandboxes: an interrupt skips destructors, so a command that made a
//! temporary sandbox removes it itself before exiting as a shell reports an interrupt (130).

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};

/// Set as soon as an interrupt arrives: from then on the handler owns the process's exit.
static INTERRUPTED: AtomicBool = AtomicBool::new(false);

/// Removes `dir` when the user interrupts the command, then exits 130. Only the first
/// handler of a process is installed; each command sets at most one.
pub fn remove_on_interrupt(dir: PathBuf) {
    let _ = ctrlc::set_handler(move || {
        handling();
        let _ = std::fs::remove_dir_all(&dir);
        std::process::exit(130);
    });
}

/// Says an interrupt handler has started (every handler calls it first): the process now
/// ends with the handler's exit.
pub fn handling() {
    INTERRUPTED.store(true, Ordering::SeqCst);
}

/// Exits with `code`, unless an interrupt is being handled: then the handler's exit (130)
/// wins. (Removing the sandbox under running work can make that work fail and the command
/// end with its own error first; the interrupt is what the user did, so it is what counts.)
pub fn exit(code: i32) -> ! {
    while INTERRUPTED.load(Ordering::SeqCst) {
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    std::process::exit(code)
}
