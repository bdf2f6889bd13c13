//! File descriptors of the in-process shell: shared input cursors, output sinks, path joining.

use std::cell::Cell;
use std::rc::Rc;

/// Highest fd number a script can redirect (`9>file`), as POSIX guarantees.
pub const MAX_FD: usize = 9;

/// A readable stream: bytes plus a cursor shared by everything holding this fd, so that
/// `while read l; do ...; done < f` reads successive lines.
#[derive(Debug, Clone)]
pub struct Input {
    data: Rc<Vec<u8>>,
    pos: Rc<Cell<usize>>,
}

impl Input {
    /// A stream over `data`.
    pub fn new(data: Vec<u8>) -> Self {
        Input {
            data: Rc::new(data),
            pos: Rc::new(Cell::new(0)),
        }
    }

    /// Reads everything left.
    pub fn read_all(&self) -> Vec<u8> {
        let p = self.pos.get().min(self.data.len());
        self.pos.set(self.data.len());
        self.data[p..].to_vec()
    }

    /// Gives back the last `n` bytes read (an external hook that declined the command).
    pub fn unread(&self, n: usize) {
        self.pos.set(self.pos.get().saturating_sub(n));
    }

    /// Reads one line; returns the bytes without the newline and whether a newline ended
    /// it, or `None` at end of input.
    pub fn read_line(&self) -> Option<(Vec<u8>, bool)> {
        let p = self.pos.get();
        if p >= self.data.len() {
            return None;
        }
        let rest = &self.data[p..];
        match rest.iter().position(|&b| b == b'\n') {
            Some(i) => {
                self.pos.set(p + i + 1);
                Some((rest[..i].to_vec(), true))
            }
            None => {
                self.pos.set(self.data.len());
                Some((rest.to_vec(), false))
            }
        }
    }
}

/// Where written bytes go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sink {
    /// An in-memory buffer of the executor (stdout, stderr, a pipe, a substitution).
    Buf(usize),
    /// A sandbox file (absolute host path), appended to on each write.
    File(String),
    /// `/dev/null`.
    Null,
}

/// One file descriptor.
#[derive(Debug, Clone)]
pub enum Fd {
    /// Open for reading.
    In(Input),
    /// Open for writing.
    Out(Sink),
    /// Not open.
    Closed,
}

/// The fd table of a command (fds 0..=9).
pub type Fds = Vec<Fd>;

/// Joins a host path to a working directory (lexically; the sandbox resolves `..` and links).
pub fn join_path(cwd: &str, p: &str) -> String {
    if p.starts_with('/') {
        p.to_string()
    } else if cwd.ends_with('/') {
        format!("{cwd}{p}")
    } else {
        format!("{cwd}/{p}")
    }
}

/// Lexically normalises an absolute path (`cd -L` semantics): drops `.`, folds `..`.
pub fn normalize(p: &str) -> String {
    let mut out: Vec<&str> = Vec::new();
    for c in p.split('/') {
        match c {
            "" | "." => {}
            ".." => {
                out.pop();
            }
            c => out.push(c),
        }
    }
    format!("/{}", out.join("/"))
}

/// dash's short text for an errno when a redirection fails to open (`cannot open X: No such
/// file`) or create (`cannot create X: Directory nonexistent`).
pub fn redirect_errmsg(e: &crate::fs::Errno, create: bool) -> String {
    use crate::fs::Errno;
    match e {
        Errno::NoEnt if create => "Directory nonexistent".into(),
        Errno::NoEnt => "No such file".into(),
        other => other.message().to_string(),
    }
}
