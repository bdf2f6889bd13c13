//! Shell builtins proper: control flow, variables, options, `cd`, `read`, `echo` (dash's).

use super::super::exec::{Ex, Flow, Shell, Var};
use super::super::io::{normalize, Fds};
use super::super::parse::is_name;
use super::{kind, Kind};

/// `trap ACTION EXIT|0` runs ACTION when the script ends; other signals never arrive in the
/// simulation, so their traps are accepted and ignored.
pub(crate) fn trap(sh: &mut Shell<'_>, argv: &[String], _: &Fds) -> Ex {
    if argv.len() >= 3 {
        let action = &argv[1];
        for sig in &argv[2..] {
            if sig == "EXIT" || sig == "0" {
                sh.exit_trap = if action == "-" || action.is_empty() {
                    None
                } else {
                    Some(action.clone())
                };
            }
        }
    }
    Ok(0)
}

pub(crate) fn colon(_: &mut Shell<'_>, _: &[String], _: &Fds) -> Ex {
    Ok(0)
}

pub(crate) fn false_(_: &mut Shell<'_>, _: &[String], _: &Fds) -> Ex {
    Ok(1)
}

fn num_arg(
    sh: &mut Shell<'_>,
    fds: &Fds,
    cmd: &str,
    a: Option<&String>,
    default: i32,
) -> Result<i32, Flow> {
    match a {
        None => Ok(default),
        Some(s) => match s.parse::<i64>() {
            Ok(n) if n >= 0 => Ok(n as i32),
            _ => {
                sh.shell_err(fds, &format!("{cmd}: Illegal number: {s}"));
                Err(Flow::Exit(2))
            }
        },
    }
}

pub(crate) fn exit(sh: &mut Shell<'_>, argv: &[String], fds: &Fds) -> Ex {
    let rc = sh.last_rc;
    let n = num_arg(sh, fds, "exit", argv.get(1), rc)?;
    Err(Flow::Exit(n & 0xff))
}

pub(crate) fn return_(sh: &mut Shell<'_>, argv: &[String], fds: &Fds) -> Ex {
    let rc = sh.last_rc;
    let n = num_arg(sh, fds, "return", argv.get(1), rc)?;
    Err(Flow::Return(n))
}

fn loop_ctl(sh: &mut Shell<'_>, argv: &[String], fds: &Fds, brk: bool) -> Ex {
    let n = num_arg(sh, fds, &argv[0], argv.get(1), 1)?;
    if n == 0 {
        sh.shell_err(fds, &format!("{}: Illegal number: 0", argv[0]));
        return Err(Flow::Exit(2));
    }
    if sh.loop_depth == 0 {
        return Ok(0);
    }
    let n = (n as usize).min(sh.loop_depth);
    Err(if brk {
        Flow::Break(n)
    } else {
        Flow::Continue(n)
    })
}

pub(crate) fn break_(sh: &mut Shell<'_>, argv: &[String], fds: &Fds) -> Ex {
    loop_ctl(sh, argv, fds, true)
}

pub(crate) fn continue_(sh: &mut Shell<'_>, argv: &[String], fds: &Fds) -> Ex {
    loop_ctl(sh, argv, fds, false)
}

pub(crate) fn eval(sh: &mut Shell<'_>, argv: &[String], fds: &Fds) -> Ex {
    let src = argv[1..].join(" ");
    let line = sh.line;
    let r = sh.exec_source(&src, fds, line);
    sh.line = line;
    r
}

pub(crate) fn source(sh: &mut Shell<'_>, argv: &[String], fds: &Fds) -> Ex {
    let Some(file) = argv.get(1) else {
        return Ok(0);
    };
    let p = sh.abs(file);
    match sh.ctx.sandbox.read_to_string(&p) {
        Ok(text) => {
            let line = sh.line;
            let r = sh.exec_source(&text, fds, 1);
            sh.line = line;
            match r {
                Err(Flow::Return(n)) => Ok(n),
                other => other,
            }
        }
        Err(_) => {
            sh.shell_err(fds, &format!(".: cannot open {file}: No such file"));
            Err(Flow::Exit(2))
        }
    }
}

pub(crate) fn exec(sh: &mut Shell<'_>, argv: &[String], fds: &Fds) -> Ex {
    // Without a command, the redirections (already applied to `fds`) become the shell's.
    if argv.len() < 2 {
        sh.exec_fds = Some(fds.clone());
        sh.exec_gen += 1;
        return Ok(0);
    }
    let rc = sh.dispatch(&argv[1..], fds)?;
    Err(Flow::Exit(rc))
}

pub(crate) fn export(sh: &mut Shell<'_>, argv: &[String], fds: &Fds) -> Ex {
    let args: Vec<&String> = argv[1..].iter().filter(|a| *a != "-p").collect();
    if args.is_empty() {
        let mut out = String::new();
        let verb = if argv[0] == "readonly" {
            "readonly"
        } else {
            "export"
        };
        for (k, v) in sh.vars.iter().filter(|(_, v)| v.exported) {
            out.push_str(&format!(
                "{verb} {k}='{}'\n",
                v.value.replace('\'', "'\\''")
            ));
        }
        sh.out(fds, out);
        return Ok(0);
    }
    for a in args {
        let (name, value) = match a.split_once('=') {
            Some((n, v)) => (n.to_string(), Some(v.to_string())),
            None => (a.clone(), None),
        };
        if !is_name(&name) {
            sh.shell_err(fds, &format!("{}: bad variable name", argv[0]));
            return Err(Flow::Exit(2));
        }
        let v = sh.vars.entry(name).or_insert(Var {
            value: String::new(),
            exported: false,
        });
        if let Some(val) = value {
            v.value = val;
        }
        v.exported = true;
    }
    Ok(0)
}

pub(crate) fn local(sh: &mut Shell<'_>, argv: &[String], fds: &Fds) -> Ex {
    if !sh.in_function() {
        sh.shell_err(fds, "local: not in a function");
        return Err(Flow::Exit(2));
    }
    for a in &argv[1..] {
        let (name, value) = match a.split_once('=') {
            Some((n, v)) => (n.to_string(), Some(v.to_string())),
            None => (a.clone(), None),
        };
        if !is_name(&name) {
            sh.shell_err(fds, &format!("local: {name}: bad variable name"));
            return Err(Flow::Exit(2));
        }
        sh.make_local(&name);
        if let Some(v) = value {
            sh.set_var(&name, v);
        }
    }
    Ok(0)
}

pub(crate) fn unset(sh: &mut Shell<'_>, argv: &[String], _: &Fds) -> Ex {
    let mut funcs = false;
    for a in &argv[1..] {
        match a.as_str() {
            "-f" => funcs = true,
            "-v" => funcs = false,
            n if funcs => {
                sh.funcs.shift_remove(n);
            }
            n => {
                sh.vars.shift_remove(n);
            }
        }
    }
    Ok(0)
}

pub(crate) fn shift(sh: &mut Shell<'_>, argv: &[String], fds: &Fds) -> Ex {
    let n = num_arg(sh, fds, "shift", argv.get(1), 1)? as usize;
    if n > sh.positional.len() {
        sh.shell_err(fds, "shift: can't shift that many");
        return Err(Flow::Exit(2));
    }
    sh.positional.drain(..n);
    Ok(0)
}

pub(crate) fn set(sh: &mut Shell<'_>, argv: &[String], fds: &Fds) -> Ex {
    if argv.len() == 1 {
        let mut vars: Vec<(String, String)> = sh
            .vars
            .iter()
            .map(|(k, v)| (k.clone(), v.value.clone()))
            .collect();
        vars.sort();
        let mut out = String::new();
        for (k, v) in vars {
            out.push_str(&format!("{k}='{}'\n", v.replace('\'', "'\\''")));
        }
        sh.out(fds, out);
        return Ok(0);
    }
    let mut i = 1;
    while i < argv.len() {
        let a = &argv[i];
        if a == "--" {
            sh.positional = argv[i + 1..].to_vec();
            return Ok(0);
        }
        let on = a.starts_with('-');
        if !(on || a.starts_with('+')) || a.len() < 2 {
            sh.positional = argv[i..].to_vec();
            return Ok(0);
        }
        if &a[1..] == "o" {
            i += 1;
            match argv.get(i).map(String::as_str) {
                Some("errexit") => sh.errexit = on,
                Some("nounset") => sh.nounset = on,
                Some("pipefail") if sh.bash => sh.pipefail = on,
                // dash 0.5.12 (Debian 12) has no pipefail.
                Some("xtrace" | "noclobber" | "noglob" | "verbose") | None => {}
                Some(o) => {
                    sh.shell_err(fds, &format!("set: Illegal option -o {o}"));
                    return Err(Flow::Exit(2));
                }
            }
        } else {
            for c in a[1..].chars() {
                match c {
                    'e' => sh.errexit = on,
                    'u' => sh.nounset = on,
                    // Accepted and ignored: tracing, noclobber, noglob, allexport, verbose.
                    'x' | 'C' | 'f' | 'a' | 'v' | 'h' | 'm' | 'b' => {}
                    c => {
                        sh.shell_err(fds, &format!("set: Illegal option -{c}"));
                        return Err(Flow::Exit(2));
                    }
                }
            }
        }
        i += 1;
    }
    Ok(0)
}

pub(crate) fn cd(sh: &mut Shell<'_>, argv: &[String], fds: &Fds) -> Ex {
    let args: Vec<&String> = argv[1..]
        .iter()
        .filter(|a| *a != "-L" && *a != "-P")
        .collect();
    let (target, print) = match args.first().map(|s| s.as_str()) {
        None => (sh.get_var("HOME").unwrap_or_else(|| "/".into()), false),
        Some("-") => (sh.get_var("OLDPWD").unwrap_or_else(|| sh.cwd.clone()), true),
        Some(t) => (t.to_string(), false),
    };
    let new = normalize(&sh.abs(&target));
    if !sh.ctx.sandbox.is_dir(&new) {
        sh.shell_err(fds, &format!("cd: can't cd to {target}"));
        return Ok(2);
    }
    let old = std::mem::replace(&mut sh.cwd, new.clone());
    sh.set_var("OLDPWD", old);
    sh.set_var("PWD", new.clone());
    if print {
        sh.out(fds, format!("{new}\n"));
    }
    Ok(0)
}

pub(crate) fn pwd(sh: &mut Shell<'_>, _: &[String], fds: &Fds) -> Ex {
    let s = format!("{}\n", sh.cwd);
    sh.out(fds, s);
    Ok(0)
}

/// dash's `echo`: only a first `-n` is an option; backslash escapes are always interpreted.
pub(crate) fn echo(sh: &mut Shell<'_>, argv: &[String], fds: &Fds) -> Ex {
    let mut args = &argv[1..];
    let mut newline = true;
    if args.first().map(String::as_str) == Some("-n") {
        newline = false;
        args = &args[1..];
    }
    let mut out = Vec::new();
    for (i, a) in args.iter().enumerate() {
        if i > 0 {
            out.push(b' ');
        }
        if super::printf::backslash_escapes(a, &mut out) {
            sh.out(fds, out);
            return Ok(0);
        }
    }
    if newline {
        out.push(b'\n');
    }
    sh.out(fds, out);
    Ok(0)
}

pub(crate) fn read(sh: &mut Shell<'_>, argv: &[String], fds: &Fds) -> Ex {
    let mut raw = false;
    let mut names = Vec::new();
    let mut i = 1;
    while i < argv.len() {
        match argv[i].as_str() {
            "-r" => raw = true,
            "-p" => {
                i += 1;
                if let Some(p) = argv.get(i) {
                    let p = p.clone();
                    sh.err(fds, p);
                }
            }
            n => names.push(n.to_string()),
        }
        i += 1;
    }
    let mut line = String::new();
    let mut got_eol = false;
    let mut any = false;
    while let Some((bytes, nl)) = sh.stdin_line(fds) {
        any = true;
        let s = String::from_utf8_lossy(&bytes).into_owned();
        if !raw && s.ends_with('\\') && nl {
            line.push_str(&s[..s.len() - 1]);
            continue;
        }
        line.push_str(&s);
        got_eol = nl;
        break;
    }
    if !raw {
        let mut o = String::new();
        let mut cs = line.chars();
        while let Some(c) = cs.next() {
            if c == '\\' {
                if let Some(n) = cs.next() {
                    o.push(n);
                }
            } else {
                o.push(c);
            }
        }
        line = o;
    }
    if names.is_empty() {
        names.push("REPLY".into());
    }
    let ifs = sh
        .vars
        .get("IFS")
        .map(|v| v.value.clone())
        .unwrap_or_else(|| " \t\n".into());
    let mut rest = line.trim_start_matches(|c: char| ifs.contains(c) && c.is_whitespace());
    let n = names.len();
    for (k, name) in names.iter().enumerate() {
        if k + 1 == n {
            let v = rest.trim_end_matches(|c: char| ifs.contains(c) && c.is_whitespace());
            sh.set_var(name, v.to_string());
        } else {
            let end = rest.find(|c: char| ifs.contains(c)).unwrap_or(rest.len());
            sh.set_var(name, rest[..end].to_string());
            rest = rest[end..].trim_start_matches(|c: char| ifs.contains(c) && c.is_whitespace());
            if let Some(r) = rest.strip_prefix(|c: char| ifs.contains(c) && !c.is_whitespace()) {
                rest = r.trim_start_matches(|c: char| ifs.contains(c) && c.is_whitespace());
            }
        }
    }
    Ok(if any && got_eol { 0 } else { 1 })
}

fn describe(sh: &Shell<'_>, name: &str) -> Option<String> {
    if sh.funcs.contains_key(name) {
        return Some(name.to_string());
    }
    match kind(name) {
        Some(Kind::Special) | Some(Kind::Regular) => Some(name.to_string()),
        Some(Kind::Utility) => Some(format!("/usr/bin/{name}")),
        None => None,
    }
}

pub(crate) fn command(sh: &mut Shell<'_>, argv: &[String], fds: &Fds) -> Ex {
    match argv.get(1).map(String::as_str) {
        Some("-v") | Some("-V") => {
            let mut rc = 0;
            for n in &argv[2..] {
                match describe(sh, n) {
                    Some(d) => sh.out(fds, format!("{d}\n")),
                    None => rc = 127,
                }
            }
            Ok(rc)
        }
        Some(_) => {
            // `command name` skips functions.
            let funcs = std::mem::take(&mut sh.funcs);
            let r = sh.dispatch(&argv[1..], fds);
            sh.funcs = funcs;
            r
        }
        None => Ok(0),
    }
}

pub(crate) fn type_(sh: &mut Shell<'_>, argv: &[String], fds: &Fds) -> Ex {
    let mut rc = 0;
    for n in &argv[1..] {
        let line = if sh.funcs.contains_key(n) {
            format!("{n} is a shell function\n")
        } else {
            match kind(n) {
                Some(Kind::Special) => format!("{n} is a special shell builtin\n"),
                Some(Kind::Regular) => format!("{n} is a shell builtin\n"),
                Some(Kind::Utility) => format!("{n} is /usr/bin/{n}\n"),
                None => {
                    rc = 127;
                    format!("{n}: not found\n")
                }
            }
        };
        sh.out(fds, line);
    }
    Ok(rc)
}

pub(crate) fn which(sh: &mut Shell<'_>, argv: &[String], fds: &Fds) -> Ex {
    let mut rc = 0;
    for n in &argv[1..] {
        let external = sh.ctx.external.as_ref().is_some_and(|e| e.provides(n));
        if external
            || (kind(n).is_some() && !matches!(n.as_str(), "cd" | "export" | "set" | "unset"))
        {
            sh.out(fds, format!("/usr/bin/{n}\n"));
        } else {
            rc = 1;
        }
    }
    Ok(rc)
}
