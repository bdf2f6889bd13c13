//! `test` and `[`: file, string and integer tests with POSIX's argument-count rules.

use super::super::exec::{Ex, Shell};
use super::super::io::Fds;
use crate::fs::FileKind;

/// A test error: message after `sh: LINE: NAME: `, exit status 2.
type TResult = Result<bool, String>;

struct T<'a, 'b> {
    sh: &'a mut Shell<'b>,
    args: &'a [String],
    pos: usize,
}

const UNARY: &[&str] = &[
    "-e", "-f", "-d", "-s", "-r", "-w", "-x", "-L", "-h", "-z", "-n", "-b", "-c", "-p", "-S", "-t",
    "-g", "-u", "-k", "-O", "-G",
];
const BINARY: &[&str] = &[
    "=", "!=", "-eq", "-ne", "-lt", "-le", "-gt", "-ge", "-nt", "-ot", "-ef", "<", ">",
];

fn int(s: &str) -> Result<i64, String> {
    let t = s.trim();
    t.parse::<i64>().map_err(|_| format!("Illegal number: {s}"))
}

impl T<'_, '_> {
    fn unary(&mut self, op: &str, a: &str) -> TResult {
        let path = self.sh.abs(a);
        let sb = &self.sh.ctx.sandbox;
        let root = self.sh.ctx.user.uid == 0;
        Ok(match op {
            "-z" => a.is_empty(),
            "-n" => !a.is_empty(),
            "-t" => false,
            "-L" | "-h" => {
                !a.is_empty() && sb.lstat(&path).is_ok_and(|s| s.kind == FileKind::Symlink)
            }
            _ => {
                let Ok(st) = (if a.is_empty() {
                    Err(())
                } else {
                    sb.stat(&path).map_err(|_| ())
                }) else {
                    return Ok(false);
                };
                let mine = st.owner == self.sh.ctx.user.name;
                let bit = |shift_owner: u32| -> bool {
                    let m = st.mode;
                    if mine {
                        m & (shift_owner << 6) != 0
                    } else {
                        m & shift_owner != 0 || m & (shift_owner << 3) != 0
                    }
                };
                match op {
                    "-e" => true,
                    "-f" => st.kind == FileKind::File,
                    "-d" => st.kind == FileKind::Dir,
                    "-s" => st.size > 0,
                    "-r" => root || bit(4),
                    "-w" => (root || bit(2)) && !sb.read_only(),
                    "-x" => {
                        if root {
                            st.kind == FileKind::Dir || st.mode & 0o111 != 0
                        } else {
                            bit(1)
                        }
                    }
                    "-u" => st.mode & 0o4000 != 0,
                    "-g" => st.mode & 0o2000 != 0,
                    "-k" => st.mode & 0o1000 != 0,
                    "-O" => mine,
                    "-G" => st.group == self.sh.ctx.user.group,
                    _ => false,
                }
            }
        })
    }

    fn binary(&mut self, a: &str, op: &str, b: &str) -> TResult {
        Ok(match op {
            "=" => a == b,
            "!=" => a != b,
            "<" => a < b,
            ">" => a > b,
            "-eq" => int(a)? == int(b)?,
            "-ne" => int(a)? != int(b)?,
            "-lt" => int(a)? < int(b)?,
            "-le" => int(a)? <= int(b)?,
            "-gt" => int(a)? > int(b)?,
            "-ge" => int(a)? >= int(b)?,
            "-nt" | "-ot" | "-ef" => {
                let sb = &self.sh.ctx.sandbox;
                let (pa, pb) = (self.sh.abs(a), self.sh.abs(b));
                match (sb.stat(&pa), sb.stat(&pb)) {
                    (Ok(x), Ok(y)) => match op {
                        "-nt" => x.mtime > y.mtime,
                        "-ot" => x.mtime < y.mtime,
                        _ => sb.canonical(&pa).ok() == sb.canonical(&pb).ok(),
                    },
                    (Ok(_), Err(_)) => op == "-nt",
                    (Err(_), Ok(_)) => op == "-ot",
                    _ => false,
                }
            }
            _ => return Err(format!("{b}: unexpected operator")),
        })
    }

    fn peek(&self) -> Option<&str> {
        self.args.get(self.pos).map(String::as_str)
    }

    fn next(&mut self) -> Result<String, String> {
        let a = self
            .args
            .get(self.pos)
            .cloned()
            .ok_or("argument expected")?;
        self.pos += 1;
        Ok(a)
    }

    fn or(&mut self) -> TResult {
        let mut v = self.and()?;
        while self.peek() == Some("-o") {
            self.pos += 1;
            let r = self.and()?;
            v = v || r;
        }
        Ok(v)
    }

    fn and(&mut self) -> TResult {
        let mut v = self.not()?;
        while self.peek() == Some("-a") {
            self.pos += 1;
            let r = self.not()?;
            v = v && r;
        }
        Ok(v)
    }

    fn not(&mut self) -> TResult {
        if self.peek() == Some("!") {
            self.pos += 1;
            return Ok(!self.not()?);
        }
        self.primary()
    }

    fn primary(&mut self) -> TResult {
        let a = self.next()?;
        if a == "(" {
            let v = self.or()?;
            if self.next()? != ")" {
                return Err("closing paren expected".into());
            }
            return Ok(v);
        }
        if let Some(op) = self.peek().map(str::to_string) {
            if BINARY.contains(&op.as_str()) {
                self.pos += 1;
                let b = self.next()?;
                return self.binary(&a, &op, &b);
            }
        }
        if UNARY.contains(&a.as_str()) && self.pos < self.args.len() {
            let b = self.next()?;
            return self.unary(&a, &b);
        }
        Ok(!a.is_empty())
    }

    /// POSIX's rules for up to four arguments, then the general grammar.
    fn eval(&mut self) -> TResult {
        let a = self.args;
        let s = |i: usize| a[i].as_str();
        let v = match a.len() {
            0 => false,
            1 => !a[0].is_empty(),
            2 if s(0) == "!" => a[1].is_empty(),
            2 if UNARY.contains(&s(0)) => self.unary(s(0), s(1))?,
            2 => return Err(format!("{}: unexpected operator", s(0))),
            3 if BINARY.contains(&s(1)) => self.binary(s(0), s(1), s(2))?,
            3 if s(0) == "!" => {
                let mut t = T {
                    sh: self.sh,
                    args: &a[1..],
                    pos: 0,
                };
                !t.eval()?
            }
            3 if s(0) == "(" && s(2) == ")" => !a[1].is_empty(),
            3 if s(1) == "-a" || s(1) == "-o" => {
                let (x, y) = (!a[0].is_empty(), !a[2].is_empty());
                if s(1) == "-a" {
                    x && y
                } else {
                    x || y
                }
            }
            3 => return Err(format!("{}: unexpected operator", s(1))),
            4 if s(0) == "!" => {
                let mut t = T {
                    sh: self.sh,
                    args: &a[1..],
                    pos: 0,
                };
                !t.eval()?
            }
            _ => {
                let v = self.or()?;
                if self.pos != a.len() {
                    return Err(format!("{}: unexpected operator", s(self.pos)));
                }
                v
            }
        };
        Ok(v)
    }
}

pub(crate) fn test(sh: &mut Shell<'_>, argv: &[String], fds: &Fds) -> Ex {
    let name = argv[0].clone();
    let mut args = &argv[1..];
    if name == "[" {
        if args.last().map(String::as_str) != Some("]") {
            sh.shell_err(fds, "[: missing ]");
            return Ok(2);
        }
        args = &args[..args.len() - 1];
    }
    let mut t = T { sh, args, pos: 0 };
    match t.eval() {
        Ok(v) => Ok(if v { 0 } else { 1 }),
        Err(m) => {
            sh_err(t.sh, fds, &name, &m);
            Ok(2)
        }
    }
}

fn sh_err(sh: &mut Shell<'_>, fds: &Fds, name: &str, m: &str) {
    sh.shell_err(fds, &format!("{name}: {m}"));
}
