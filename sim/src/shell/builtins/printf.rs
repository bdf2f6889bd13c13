//! `printf` and the backslash escapes shared with dash's `echo` and `%b`.

use super::super::exec::{Ex, Shell};
use super::super::io::Fds;

/// Appends `s` with echo/`%b` escapes interpreted; returns true if `\c` stopped output.
pub(crate) fn backslash_escapes(s: &str, out: &mut Vec<u8>) -> bool {
    let cs: Vec<char> = s.chars().collect();
    let mut i = 0;
    while i < cs.len() {
        let c = cs[i];
        if c != '\\' || i + 1 >= cs.len() {
            push_char(out, c);
            i += 1;
            continue;
        }
        i += 1;
        match cs[i] {
            'a' => out.push(7),
            'b' => out.push(8),
            'c' => return true,
            'e' => out.push(27),
            'f' => out.push(12),
            'n' => out.push(b'\n'),
            'r' => out.push(b'\r'),
            't' => out.push(b'\t'),
            'v' => out.push(11),
            '\\' => out.push(b'\\'),
            '0' => {
                let mut v = 0u32;
                let mut k = 0;
                while k < 3 && i + 1 < cs.len() && ('0'..='7').contains(&cs[i + 1]) {
                    i += 1;
                    v = v * 8 + cs[i].to_digit(8).unwrap_or(0);
                    k += 1;
                }
                out.push(v as u8);
            }
            other => {
                out.push(b'\\');
                push_char(out, other);
            }
        }
        i += 1;
    }
    false
}

fn push_char(out: &mut Vec<u8>, c: char) {
    let mut b = [0u8; 4];
    out.extend_from_slice(c.encode_utf8(&mut b).as_bytes());
}

/// Escapes in a printf format: like echo's plus `\NNN` octal and `\"`.
fn format_escape(cs: &[char], i: &mut usize, out: &mut Vec<u8>) {
    let c = cs[*i];
    match c {
        '0'..='7' => {
            let mut v = 0u32;
            let mut k = 0;
            while k < 3 && *i < cs.len() && ('0'..='7').contains(&cs[*i]) {
                v = v * 8 + cs[*i].to_digit(8).unwrap_or(0);
                *i += 1;
                k += 1;
            }
            out.push(v as u8);
            return;
        }
        'a' => out.push(7),
        'b' => out.push(8),
        'f' => out.push(12),
        'n' => out.push(b'\n'),
        'r' => out.push(b'\r'),
        't' => out.push(b'\t'),
        'v' => out.push(11),
        '\\' => out.push(b'\\'),
        '"' => out.push(b'"'),
        '\'' => out.push(b'\''),
        other => {
            out.push(b'\\');
            push_char(out, other);
        }
    }
    *i += 1;
}

/// Parses a numeric printf argument (`'c` gives the character code).
fn num(sh: &mut Shell<'_>, fds: &Fds, a: &str, rc: &mut i32) -> i64 {
    if let Some(rest) = a.strip_prefix('\'').or_else(|| a.strip_prefix('"')) {
        return rest.chars().next().map(|c| c as i64).unwrap_or(0);
    }
    if a.is_empty() {
        return 0;
    }
    match super::super::arith::parse_number(a) {
        Some(v) => v,
        None => {
            sh.shell_err(fds, &format!("printf: {a}: expected numeric value"));
            *rc = 1;
            0
        }
    }
}

/// Widths past this are clamped: `printf '%999999999s'` must not allocate a gigabyte.
const MAX_WIDTH: usize = 1 << 16;

fn pad(s: &str, flags: &str, width: Option<usize>) -> String {
    let w = width.unwrap_or(0).min(MAX_WIDTH);
    let len = s.chars().count();
    if len >= w {
        return s.to_string();
    }
    let fill = w - len;
    if flags.contains('-') {
        format!("{s}{}", " ".repeat(fill))
    } else if flags.contains('0') && !s.is_empty() {
        let (sign, digits) = if s.starts_with('-') || s.starts_with('+') {
            s.split_at(1)
        } else {
            ("", s)
        };
        format!("{sign}{}{digits}", "0".repeat(fill))
    } else {
        format!("{}{s}", " ".repeat(fill))
    }
}

pub(crate) fn printf(sh: &mut Shell<'_>, argv: &[String], fds: &Fds) -> Ex {
    let Some(fmt) = argv.get(1) else {
        sh.shell_err(fds, "printf: usage: printf format [arg ...]");
        return Ok(2);
    };
    let fmt: Vec<char> = fmt.chars().collect();
    let args = &argv[2..];
    let mut ai = 0;
    let mut out = Vec::new();
    let mut rc = 0;
    loop {
        let mut consumed = false;
        let mut i = 0;
        while i < fmt.len() {
            let c = fmt[i];
            if c == '\\' && i + 1 < fmt.len() {
                i += 1;
                if fmt[i] == 'c' {
                    sh.out(fds, out);
                    return Ok(rc);
                }
                format_escape(&fmt, &mut i, &mut out);
                continue;
            }
            if c != '%' {
                push_char(&mut out, c);
                i += 1;
                continue;
            }
            i += 1;
            if fmt.get(i) == Some(&'%') {
                out.push(b'%');
                i += 1;
                continue;
            }
            let mut flags = String::new();
            while let Some(&f) = fmt.get(i) {
                if "-+ 0#".contains(f) {
                    flags.push(f);
                    i += 1;
                } else {
                    break;
                }
            }
            let next_arg = |ai: &mut usize, consumed: &mut bool| -> Option<String> {
                let a = args.get(*ai).cloned();
                if a.is_some() {
                    *ai += 1;
                    *consumed = true;
                }
                a
            };
            let mut width = None;
            if fmt.get(i) == Some(&'*') {
                i += 1;
                let a = next_arg(&mut ai, &mut consumed).unwrap_or_default();
                width = Some(num(sh, fds, &a, &mut rc).unsigned_abs() as usize);
            } else {
                let st = i;
                while fmt.get(i).is_some_and(|c| c.is_ascii_digit()) {
                    i += 1;
                }
                if i > st {
                    width = fmt[st..i].iter().collect::<String>().parse().ok();
                }
            }
            let mut prec = None;
            if fmt.get(i) == Some(&'.') {
                i += 1;
                if fmt.get(i) == Some(&'*') {
                    i += 1;
                    let a = next_arg(&mut ai, &mut consumed).unwrap_or_default();
                    prec = Some(num(sh, fds, &a, &mut rc).max(0) as usize);
                } else {
                    let st = i;
                    while fmt.get(i).is_some_and(|c| c.is_ascii_digit()) {
                        i += 1;
                    }
                    prec = Some(fmt[st..i].iter().collect::<String>().parse().unwrap_or(0));
                }
            }
            let Some(&conv) = fmt.get(i) else {
                sh.shell_err(fds, "printf: %: invalid directive");
                sh.out(fds, out);
                return Ok(1);
            };
            i += 1;
            let arg = next_arg(&mut ai, &mut consumed);
            let s = match conv {
                's' => {
                    let mut a = arg.unwrap_or_default();
                    if let Some(p) = prec {
                        a = a.chars().take(p).collect();
                    }
                    pad(&a, &flags, width)
                }
                'b' => {
                    let mut b = Vec::new();
                    let stop = backslash_escapes(&arg.unwrap_or_default(), &mut b);
                    let s = String::from_utf8_lossy(&b).into_owned();
                    out.extend_from_slice(pad(&s, &flags, width).as_bytes());
                    if stop {
                        sh.out(fds, out);
                        return Ok(rc);
                    }
                    continue;
                }
                'c' => pad(
                    &arg.and_then(|a| a.chars().next())
                        .map(String::from)
                        .unwrap_or_default(),
                    &flags,
                    width,
                ),
                'd' | 'i' | 'u' | 'o' | 'x' | 'X' => {
                    let v = num(sh, fds, &arg.unwrap_or_default(), &mut rc);
                    let mut body = match conv {
                        'o' => format!("{:o}", v),
                        'x' => format!("{:x}", v),
                        'X' => format!("{:X}", v),
                        'u' => format!("{}", v as u64),
                        _ => format!("{}", v.unsigned_abs()),
                    };
                    if let Some(p) = prec.map(|p| p.min(MAX_WIDTH)) {
                        while body.len() < p {
                            body.insert(0, '0');
                        }
                    }
                    if flags.contains('#') && v != 0 {
                        match conv {
                            'o' => body.insert(0, '0'),
                            'x' => body.insert_str(0, "0x"),
                            'X' => body.insert_str(0, "0X"),
                            _ => {}
                        }
                    }
                    let sign = if matches!(conv, 'd' | 'i') {
                        if v < 0 {
                            "-"
                        } else if flags.contains('+') {
                            "+"
                        } else if flags.contains(' ') {
                            " "
                        } else {
                            ""
                        }
                    } else {
                        ""
                    };
                    let f = if prec.is_some() {
                        flags.replace('0', "")
                    } else {
                        flags.clone()
                    };
                    pad(&format!("{sign}{body}"), &f, width)
                }
                'f' | 'F' | 'e' | 'E' | 'g' | 'G' => {
                    let a = arg.unwrap_or_default();
                    let v: f64 = a.trim().parse().unwrap_or(0.0);
                    let p = prec.unwrap_or(6).min(64);
                    let body = match conv {
                        'e' | 'E' => {
                            let s = format!("{:.*e}", p, v);
                            // Rust prints `1e3`; C prints `1e+03`.
                            let (m, e) = s.split_once('e').unwrap_or((&s, "0"));
                            let e: i32 = e.parse().unwrap_or(0);
                            let s = format!("{m}e{}{:02}", if e < 0 { '-' } else { '+' }, e.abs());
                            if conv == 'E' {
                                s.to_uppercase()
                            } else {
                                s
                            }
                        }
                        'g' | 'G' => {
                            let s = format!("{}", v);
                            if conv == 'G' {
                                s.to_uppercase()
                            } else {
                                s
                            }
                        }
                        _ => format!("{:.*}", p, v),
                    };
                    let body = if flags.contains('+') && v >= 0.0 {
                        format!("+{body}")
                    } else {
                        body
                    };
                    pad(&body, &flags, width)
                }
                other => {
                    sh.shell_err(fds, &format!("printf: %{other}: invalid directive"));
                    sh.out(fds, out);
                    return Ok(1);
                }
            };
            out.extend_from_slice(s.as_bytes());
        }
        // The format is reused while arguments remain (and it consumed some).
        if ai >= args.len() || !consumed {
            break;
        }
        sh.tick()?;
    }
    sh.out(fds, out);
    Ok(rc)
}
