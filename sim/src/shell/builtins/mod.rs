//! The commands the in-process shell implements: dash builtins and the coreutils-like utilities
//! a playbook's `shell:` tasks use, all acting on the sandbox.

mod core;
mod date;
mod diff;
mod expr;
mod files;
mod printf;
mod system;
mod test;
mod text;

use super::exec::{Ex, Shell};
use super::io::Fds;

/// How a command name binds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// POSIX special builtins: prefix assignments persist; the external hook cannot override.
    Special,
    /// Regular shell builtins (cd, read, echo...): the external hook cannot override.
    Regular,
    /// Utilities (cat, ls, date...): the external hook may replace them.
    Utility,
}

type Handler = fn(&mut Shell<'_>, &[String], &Fds) -> Ex;

const TABLE: &[(&str, Kind, Handler)] = &[
    (":", Kind::Special, core::colon),
    (".", Kind::Special, core::source),
    ("break", Kind::Special, core::break_),
    ("continue", Kind::Special, core::continue_),
    ("eval", Kind::Special, core::eval),
    ("exec", Kind::Special, core::exec),
    ("exit", Kind::Special, core::exit),
    ("export", Kind::Special, core::export),
    ("readonly", Kind::Special, core::export),
    ("return", Kind::Special, core::return_),
    ("set", Kind::Special, core::set),
    ("shift", Kind::Special, core::shift),
    ("trap", Kind::Special, core::trap),
    ("unset", Kind::Special, core::unset),
    ("[", Kind::Regular, test::test),
    ("cd", Kind::Regular, core::cd),
    ("command", Kind::Regular, core::command),
    ("echo", Kind::Regular, core::echo),
    ("false", Kind::Regular, core::false_),
    ("local", Kind::Regular, core::local),
    ("printf", Kind::Regular, printf::printf),
    ("pwd", Kind::Regular, core::pwd),
    ("read", Kind::Regular, core::read),
    ("test", Kind::Regular, test::test),
    ("true", Kind::Regular, core::colon),
    ("type", Kind::Regular, core::type_),
    ("ulimit", Kind::Regular, system::ulimit),
    ("umask", Kind::Regular, core::colon),
    ("wait", Kind::Regular, core::colon),
    ("basename", Kind::Utility, system::basename),
    ("bash", Kind::Utility, system::sh),
    ("cat", Kind::Utility, files::cat),
    ("chmod", Kind::Utility, files::chmod),
    ("chown", Kind::Utility, files::chown),
    ("cp", Kind::Utility, files::cp),
    ("cut", Kind::Utility, text::cut),
    ("dash", Kind::Utility, system::sh),
    ("date", Kind::Utility, date::date),
    ("diff", Kind::Utility, diff::diff),
    ("dirname", Kind::Utility, system::dirname),
    ("env", Kind::Utility, system::env),
    ("expr", Kind::Utility, expr::expr),
    ("find", Kind::Utility, files::find),
    ("grep", Kind::Utility, text::grep),
    ("head", Kind::Utility, text::head),
    ("hostname", Kind::Utility, system::hostname),
    ("id", Kind::Utility, system::id),
    ("ln", Kind::Utility, files::ln),
    ("ls", Kind::Utility, files::ls),
    ("mkdir", Kind::Utility, files::mkdir),
    ("mv", Kind::Utility, files::mv),
    ("printenv", Kind::Utility, system::printenv),
    ("readlink", Kind::Utility, files::readlink),
    ("realpath", Kind::Utility, files::realpath),
    ("rm", Kind::Utility, files::rm),
    ("rmdir", Kind::Utility, files::rmdir),
    ("sed", Kind::Utility, text::sed),
    ("seq", Kind::Utility, system::seq),
    ("sh", Kind::Utility, system::sh),
    ("sleep", Kind::Utility, system::sleep),
    ("sort", Kind::Utility, text::sort),
    ("stat", Kind::Utility, files::stat),
    ("tail", Kind::Utility, text::tail),
    ("tee", Kind::Utility, text::tee),
    ("touch", Kind::Utility, files::touch),
    ("tr", Kind::Utility, text::tr),
    ("uname", Kind::Utility, system::uname),
    ("uniq", Kind::Utility, text::uniq),
    ("wc", Kind::Utility, text::wc),
    ("which", Kind::Utility, core::which),
    ("whoami", Kind::Utility, system::whoami),
    ("xargs", Kind::Utility, text::xargs),
    ("yes", Kind::Utility, system::yes),
];

/// How `name` binds, if the shell implements it.
pub(crate) fn kind(name: &str) -> Option<Kind> {
    TABLE.iter().find(|(n, _, _)| *n == name).map(|e| e.1)
}

/// Runs an implemented command (`argv[0]` must have a [`kind`]).
pub(crate) fn run(sh: &mut Shell<'_>, argv: &[String], fds: &Fds) -> Ex {
    match TABLE.iter().find(|(n, _, _)| *n == argv[0]) {
        Some((_, _, h)) => h(sh, argv, fds),
        None => Ok(127),
    }
}

/// Splits leading `-abc` flag clusters (only letters from `known`) from operands; `--` ends
/// options. Returns (flags, operands) or the first unknown flag.
pub(crate) fn flags(args: &[String], known: &str) -> Result<(String, Vec<String>), char> {
    let mut fl = String::new();
    let mut ops = Vec::new();
    let mut done = false;
    for a in args {
        if !done && a == "--" {
            done = true;
        } else if !done && a.len() > 1 && a.starts_with('-') {
            for c in a[1..].chars() {
                if !known.contains(c) {
                    return Err(c);
                }
                fl.push(c);
            }
        } else {
            ops.push(a.clone());
        }
    }
    Ok((fl, ops))
}

/// Prints `NAME: invalid option -- 'c'` and returns 1 (GNU tools' wording).
pub(crate) fn bad_option(sh: &mut Shell<'_>, fds: &Fds, name: &str, c: char) -> i32 {
    sh.err(fds, format!("{name}: invalid option -- '{c}'\n"));
    1
}

/// Reads a file operand (`-` is stdin).
pub(crate) fn read_operand(sh: &mut Shell<'_>, fds: &Fds, name: &str) -> Result<Vec<u8>, String> {
    if name == "-" || name == "/dev/stdin" {
        return Ok(sh.stdin_all(fds));
    }
    if name == "/dev/null" {
        return Ok(Vec::new());
    }
    let p = sh.abs(name);
    sh.ctx
        .sandbox
        .read(&p)
        .map_err(|e| e.errno.message().to_string())
}

/// Splits text into lines without their newline (a final newline does not make an empty line).
pub(crate) fn lines(data: &[u8]) -> Vec<&[u8]> {
    if data.is_empty() {
        return Vec::new();
    }
    let body = data.strip_suffix(b"\n").unwrap_or(data);
    body.split(|&b| b == b'\n').collect()
}
