//! Text utilities: wc, head, tail, grep, sed, cut, tr, sort, uniq, tee, xargs.

use super::super::exec::{Ex, Shell};
use super::super::io::{Fd, Fds, Input};
use super::{bad_option, lines, read_operand};
use crate::fs::WriteMode;
use regex::bytes::{Regex, RegexBuilder};

/// Collects (name, bytes) for each operand (stdin if none); prints errors with `errfmt`.
fn inputs(
    sh: &mut Shell<'_>,
    fds: &Fds,
    ops: &[String],
    errfmt: impl Fn(&str, &str) -> String,
) -> (Vec<(String, Vec<u8>)>, bool) {
    let mut out = Vec::new();
    let mut failed = false;
    if ops.is_empty() {
        out.push(("-".to_string(), sh.stdin_all(fds)));
    }
    for o in ops {
        match read_operand(sh, fds, o) {
            Ok(d) => out.push((o.clone(), d)),
            Err(m) => {
                let msg = errfmt(o, &m);
                sh.err(fds, msg);
                failed = true;
            }
        }
    }
    (out, failed)
}

pub(crate) fn wc(sh: &mut Shell<'_>, argv: &[String], fds: &Fds) -> Ex {
    let (fl, ops) = match super::flags(&argv[1..], "lcwmL") {
        Ok(x) => x,
        Err(c) => return Ok(bad_option(sh, fds, "wc", c)),
    };
    let fl = if fl.is_empty() { "lwc".to_string() } else { fl };
    let (ins, failed) = inputs(sh, fds, &ops, |o, m| format!("wc: {o}: {m}\n"));
    let mut rows: Vec<(Vec<usize>, String)> = Vec::new();
    let mut totals = [0usize; 3];
    for (name, d) in &ins {
        let l = d.iter().filter(|&&b| b == b'\n').count();
        let w = String::from_utf8_lossy(d).split_whitespace().count();
        let c = if fl.contains('m') {
            String::from_utf8_lossy(d).chars().count()
        } else {
            d.len()
        };
        let mut vals = Vec::new();
        for (i, (flag, v)) in [('l', l), ('w', w), ('c', c)].iter().enumerate() {
            if fl.contains(*flag) || (*flag == 'c' && fl.contains('m')) {
                vals.push(*v);
            }
            totals[i] += v;
        }
        rows.push((
            vals,
            if ops.is_empty() {
                String::new()
            } else {
                name.clone()
            },
        ));
    }
    if ins.len() > 1 {
        let vals: Vec<usize> = [('l', totals[0]), ('w', totals[1]), ('c', totals[2])]
            .iter()
            .filter(|(f, _)| fl.contains(*f) || (*f == 'c' && fl.contains('m')))
            .map(|x| x.1)
            .collect();
        rows.push((vals, "total".into()));
    }
    let ncols = rows.first().map(|r| r.0.len()).unwrap_or(0);
    // GNU wc: a single count of a single input is unpadded; stdin gets width 7; files get
    // the width of their total size.
    let width = if ncols == 1 && ins.len() == 1 {
        1
    } else if ops.is_empty() || ops.iter().any(|o| o == "-") {
        7
    } else {
        ins.iter()
            .map(|i| i.1.len())
            .sum::<usize>()
            .to_string()
            .len()
    };
    let mut out = String::new();
    for (vals, name) in rows {
        let cols: Vec<String> = vals.iter().map(|v| format!("{v:>width$}")).collect();
        out.push_str(&cols.join(" "));
        if !name.is_empty() {
            out.push(' ');
            out.push_str(&name);
        }
        out.push('\n');
    }
    sh.out(fds, out);
    Ok(if failed { 1 } else { 0 })
}

/// Parses head/tail's `-n N`, `-nN`, `-N`, `-c N`; returns (count, from_start (+N), bytes, operands).
fn count_args(argv: &[String]) -> Result<(i64, bool, bool, Vec<String>), String> {
    let mut n = 10i64;
    let mut plus = false;
    let mut bytes = false;
    let mut ops = Vec::new();
    let mut i = 1;
    while i < argv.len() {
        let a = &argv[i];
        let val = if a == "-n" || a == "-c" {
            bytes = a == "-c";
            i += 1;
            Some(
                argv.get(i)
                    .cloned()
                    .ok_or("option requires an argument -- 'n'")?,
            )
        } else if let Some(v) = a.strip_prefix("-n").filter(|v| !v.is_empty()) {
            Some(v.to_string())
        } else if let Some(v) = a.strip_prefix("-c").filter(|v| !v.is_empty()) {
            bytes = true;
            Some(v.to_string())
        } else if a.len() > 1 && a.starts_with('-') && a[1..].chars().all(|c| c.is_ascii_digit()) {
            Some(a[1..].to_string())
        } else if a == "-q" || a == "-s" {
            None
        } else {
            ops.push(a.clone());
            None
        };
        if let Some(v) = val {
            plus = v.starts_with('+');
            n = v
                .trim_start_matches('+')
                .parse()
                .map_err(|_| format!("invalid number of lines: ‘{v}’"))?;
        }
        i += 1;
    }
    Ok((n, plus, bytes, ops))
}

fn head_tail(sh: &mut Shell<'_>, argv: &[String], fds: &Fds, head: bool) -> Ex {
    let name = if head { "head" } else { "tail" };
    let (n, plus, bytes, ops) = match count_args(argv) {
        Ok(x) => x,
        Err(m) => {
            sh.err(fds, format!("{name}: {m}\n"));
            return Ok(1);
        }
    };
    let (ins, failed) = inputs(sh, fds, &ops, |o, m| {
        format!("{name}: cannot open '{o}' for reading: {m}\n")
    });
    let multi = ins.len() > 1;
    let mut out = Vec::new();
    for (i, (fname, d)) in ins.iter().enumerate() {
        if multi {
            if i > 0 {
                out.push(b'\n');
            }
            out.extend_from_slice(format!("==> {fname} <==\n").as_bytes());
        }
        if bytes {
            let len = d.len();
            let k = n.unsigned_abs() as usize;
            let slice = match (head, plus, n < 0) {
                (true, _, false) => &d[..k.min(len)],
                (true, _, true) => &d[..len.saturating_sub(k)],
                (false, true, _) => &d[(k.max(1) - 1).min(len)..],
                (false, false, _) => &d[len.saturating_sub(k)..],
            };
            out.extend_from_slice(slice);
            continue;
        }
        // Keep line terminators so a last line without newline stays so.
        let mut ls: Vec<&[u8]> = d.split_inclusive(|&b| b == b'\n').collect();
        let len = ls.len();
        let k = n.unsigned_abs() as usize;
        ls = match (head, plus, n < 0) {
            (true, _, false) => ls[..k.min(len)].to_vec(),
            (true, _, true) => ls[..len.saturating_sub(k)].to_vec(),
            (false, true, _) => ls[(k.max(1) - 1).min(len)..].to_vec(),
            (false, false, _) => ls[len.saturating_sub(k)..].to_vec(),
        };
        for l in ls {
            out.extend_from_slice(l);
        }
    }
    sh.out(fds, out);
    Ok(if failed { 1 } else { 0 })
}

pub(crate) fn head(sh: &mut Shell<'_>, argv: &[String], fds: &Fds) -> Ex {
    head_tail(sh, argv, fds, true)
}

pub(crate) fn tail(sh: &mut Shell<'_>, argv: &[String], fds: &Fds) -> Ex {
    head_tail(sh, argv, fds, false)
}

/// Translates a POSIX basic regular expression into `regex` syntax.
pub(super) fn bre_to_ere(p: &str) -> String {
    let cs: Vec<char> = p.chars().collect();
    let mut out = String::new();
    let mut i = 0;
    let mut in_bracket = false;
    while i < cs.len() {
        let c = cs[i];
        if in_bracket {
            if c == ']' {
                in_bracket = false;
            }
            if c == '\\' {
                out.push_str("\\\\");
            } else {
                out.push(c);
            }
            i += 1;
            continue;
        }
        match c {
            '\\' if i + 1 < cs.len() => {
                let n = cs[i + 1];
                match n {
                    '(' | ')' | '{' | '}' | '|' | '+' | '?' => out.push(n),
                    _ => {
                        out.push('\\');
                        out.push(n);
                    }
                }
                i += 2;
                continue;
            }
            '(' | ')' | '{' | '}' | '|' | '+' | '?' => {
                out.push('\\');
                out.push(c);
            }
            '*' if out.is_empty() || out.ends_with('^') => out.push_str("\\*"),
            '[' => {
                in_bracket = true;
                out.push('[');
                // `]` right after `[` or `[^` is a literal member.
                if cs.get(i + 1) == Some(&'^') {
                    out.push('^');
                    i += 1;
                }
                if cs.get(i + 1) == Some(&']') {
                    out.push_str("\\]");
                    i += 1;
                }
            }
            _ => out.push(c),
        }
        i += 1;
    }
    out
}

fn build_regex(
    p: &str,
    extended: bool,
    fixed: bool,
    icase: bool,
    word: bool,
    line: bool,
) -> Result<Regex, String> {
    let mut src = if fixed {
        regex::escape(p)
    } else if extended {
        p.to_string()
    } else {
        bre_to_ere(p)
    };
    if word {
        src = format!(r"\b(?:{src})\b");
    }
    if line {
        src = format!("^(?:{src})$");
    }
    RegexBuilder::new(&src)
        .case_insensitive(icase)
        .build()
        .map_err(|_| "Unmatched ( or \\(".to_string())
}

pub(crate) fn grep(sh: &mut Shell<'_>, argv: &[String], fds: &Fds) -> Ex {
    let mut fl = String::new();
    let mut patterns: Vec<String> = Vec::new();
    let mut ops = Vec::new();
    let mut i = 1;
    let mut done = false;
    while i < argv.len() {
        let a = &argv[i];
        if !done && a == "--" {
            done = true;
        } else if !done && a == "-e" {
            i += 1;
            patterns.push(argv.get(i).cloned().unwrap_or_default());
        } else if !done && a.len() > 1 && a.starts_with('-') {
            for c in a[1..].chars() {
                if !"qvciEFnlhswxoHr".contains(c) {
                    return Ok({
                        sh.err(fds, format!("grep: invalid option -- '{c}'\nUsage: grep [OPTION]... PATTERNS [FILE]...\nTry 'grep --help' for more information.\n"));
                        2
                    });
                }
                fl.push(c);
            }
        } else {
            ops.push(a.clone());
        }
        i += 1;
    }
    if patterns.is_empty() {
        if ops.is_empty() {
            sh.err(fds, "Usage: grep [OPTION]... PATTERNS [FILE]...\nTry 'grep --help' for more information.\n");
            return Ok(2);
        }
        patterns.push(ops.remove(0));
    }
    let has = |c: char| fl.contains(c);
    let mut res = Vec::new();
    for p in patterns.iter().flat_map(|p| p.split('\n')) {
        match build_regex(p, has('E'), has('F'), has('i'), has('w'), has('x')) {
            Ok(r) => res.push(r),
            Err(m) => {
                sh.err(fds, format!("grep: {m}\n"));
                return Ok(2);
            }
        }
    }
    let (ins, failed) = inputs(sh, fds, &ops, |o, m| {
        if has('s') {
            String::new()
        } else {
            format!("grep: {o}: {m}\n")
        }
    });
    let prefix = (ops.len() > 1 || has('H')) && !has('h');
    let mut any = false;
    let mut out = Vec::new();
    for (name, d) in &ins {
        let shown = if name == "-" {
            "(standard input)"
        } else {
            name.as_str()
        };
        let mut count = 0;
        for (ln, l) in lines(d).iter().enumerate() {
            let hit = res.iter().any(|r| r.is_match(l)) != has('v');
            if !hit {
                continue;
            }
            count += 1;
            any = true;
            if has('q') {
                return Ok(0);
            }
            if has('c') || has('l') {
                continue;
            }
            let mut pre = String::new();
            if prefix {
                pre.push_str(shown);
                pre.push(':');
            }
            if has('n') {
                pre.push_str(&format!("{}:", ln + 1));
            }
            if has('o') && !has('v') {
                for r in &res {
                    for m in r.find_iter(l) {
                        out.extend_from_slice(pre.as_bytes());
                        out.extend_from_slice(m.as_bytes());
                        out.push(b'\n');
                    }
                }
            } else {
                out.extend_from_slice(pre.as_bytes());
                out.extend_from_slice(l);
                out.push(b'\n');
            }
        }
        if has('c') {
            if prefix {
                out.extend_from_slice(format!("{shown}:").as_bytes());
            }
            out.extend_from_slice(format!("{count}\n").as_bytes());
        } else if has('l') && count > 0 {
            out.extend_from_slice(format!("{shown}\n").as_bytes());
        }
        sh.tick()?;
    }
    sh.out(fds, out);
    Ok(if failed && !has('q') {
        2
    } else if any {
        0
    } else {
        1
    })
}

enum Addr {
    Line(usize),
    Last,
    Re(Regex),
}

enum SedCmd {
    Subst {
        re: Regex,
        rep: String,
        global: bool,
        nth: usize,
        print: bool,
    },
    Delete,
    Print,
    Quit,
}

/// Parses a sed script: `[addr]s/re/rep/flags`, `[addr]d`, `[addr]p`, `[addr]q`, joined by
/// `;` or newlines.
fn parse_sed(script: &str, extended: bool) -> Result<Vec<(Option<Addr>, SedCmd)>, String> {
    let cs: Vec<char> = script.chars().collect();
    let mut i = 0;
    let mut cmds = Vec::new();
    let unknown = |c: char| format!("-e expression #1, char {}: unknown command: `{c}'", 1);
    while i < cs.len() {
        while i < cs.len() && (cs[i] == ';' || cs[i].is_whitespace()) {
            i += 1;
        }
        if i >= cs.len() {
            break;
        }
        let mut addr = None;
        if cs[i].is_ascii_digit() {
            let st = i;
            while i < cs.len() && cs[i].is_ascii_digit() {
                i += 1;
            }
            let n: String = cs[st..i].iter().collect();
            addr = Some(Addr::Line(n.parse().unwrap_or(0)));
        } else if cs[i] == '$' {
            addr = Some(Addr::Last);
            i += 1;
        } else if cs[i] == '/' {
            let (re, next) = read_delimited(&cs, i + 1, '/')?;
            i = next;
            addr = Some(Addr::Re(build_regex(
                &re, extended, false, false, false, false,
            )?));
        }
        let Some(&c) = cs.get(i) else {
            return Err("-e expression #1, char 1: missing command".into());
        };
        i += 1;
        let cmd = match c {
            'd' => SedCmd::Delete,
            'p' => SedCmd::Print,
            'q' => SedCmd::Quit,
            's' => {
                let delim = *cs.get(i).ok_or("unterminated `s' command")?;
                let (re, next) = read_delimited(&cs, i + 1, delim)?;
                let (rep, next) = read_delimited(&cs, next, delim)?;
                i = next;
                let mut global = false;
                let mut print = false;
                let mut icase = false;
                let mut nth = 1;
                while i < cs.len() && !matches!(cs[i], ';' | '\n' | '}') {
                    match cs[i] {
                        'g' => global = true,
                        'p' => print = true,
                        'I' | 'i' => icase = true,
                        d if d.is_ascii_digit() => nth = d.to_digit(10).unwrap_or(1) as usize,
                        ' ' => {}
                        _ => return Err("-e expression #1, char 1: unknown option to `s'".into()),
                    }
                    i += 1;
                }
                let re = build_regex(&re, extended, false, icase, false, false)?;
                SedCmd::Subst {
                    re,
                    rep,
                    global,
                    nth,
                    print,
                }
            }
            other => return Err(unknown(other)),
        };
        cmds.push((addr, cmd));
    }
    Ok(cmds)
}

fn read_delimited(cs: &[char], mut i: usize, delim: char) -> Result<(String, usize), String> {
    let mut s = String::new();
    while i < cs.len() {
        let c = cs[i];
        if c == '\\' && i + 1 < cs.len() {
            if cs[i + 1] == delim {
                s.push(delim);
            } else {
                s.push('\\');
                s.push(cs[i + 1]);
            }
            i += 2;
            continue;
        }
        if c == delim {
            return Ok((s, i + 1));
        }
        s.push(c);
        i += 1;
    }
    Err("-e expression #1, char 1: unterminated `s' command".into())
}

/// Expands `&`, `\1`..`\9`, `\n` in a sed replacement.
fn sed_replace(rep: &str, caps: &regex::bytes::Captures<'_>, out: &mut Vec<u8>) {
    let cs: Vec<char> = rep.chars().collect();
    let mut i = 0;
    while i < cs.len() {
        match cs[i] {
            '&' => out.extend_from_slice(caps.get(0).map(|m| m.as_bytes()).unwrap_or(b"")),
            '\\' if i + 1 < cs.len() => {
                i += 1;
                match cs[i] {
                    d @ '0'..='9' => {
                        let k = d.to_digit(10).unwrap_or(0) as usize;
                        out.extend_from_slice(caps.get(k).map(|m| m.as_bytes()).unwrap_or(b""));
                    }
                    'n' => out.push(b'\n'),
                    't' => out.push(b'\t'),
                    c => {
                        let mut b = [0u8; 4];
                        out.extend_from_slice(c.encode_utf8(&mut b).as_bytes());
                    }
                }
            }
            c => {
                let mut b = [0u8; 4];
                out.extend_from_slice(c.encode_utf8(&mut b).as_bytes());
            }
        }
        i += 1;
    }
}

fn run_sed(cmds: &[(Option<Addr>, SedCmd)], data: &[u8], quiet: bool) -> Vec<u8> {
    let ls = lines(data);
    let n = ls.len();
    let ends_nl = data.ends_with(b"\n");
    let mut out = Vec::new();
    'lines: for (idx, l) in ls.iter().enumerate() {
        let mut pat = l.to_vec();
        let last = idx + 1 == n;
        let emit = |out: &mut Vec<u8>, p: &[u8]| {
            out.extend_from_slice(p);
            if !last || ends_nl {
                out.push(b'\n');
            }
        };
        for (addr, cmd) in cmds {
            let applies = match addr {
                None => true,
                Some(Addr::Line(k)) => *k == idx + 1,
                Some(Addr::Last) => last,
                Some(Addr::Re(r)) => r.is_match(&pat),
            };
            if !applies {
                continue;
            }
            match cmd {
                SedCmd::Delete => continue 'lines,
                SedCmd::Print => emit(&mut out, &pat),
                SedCmd::Quit => {
                    if !quiet {
                        emit(&mut out, &pat);
                    }
                    return out;
                }
                SedCmd::Subst {
                    re,
                    rep,
                    global,
                    nth,
                    print,
                } => {
                    let mut res = Vec::new();
                    let mut lastpos = 0;
                    let mut count = 0;
                    let mut did = false;
                    for caps in re.captures_iter(&pat) {
                        let Some(m) = caps.get(0) else { continue };
                        count += 1;
                        if count < *nth || (did && !global) {
                            continue;
                        }
                        res.extend_from_slice(&pat[lastpos..m.start()]);
                        sed_replace(rep, &caps, &mut res);
                        lastpos = m.end();
                        did = true;
                    }
                    if did {
                        res.extend_from_slice(&pat[lastpos..]);
                        pat = res;
                        if *print {
                            emit(&mut out, &pat);
                        }
                    }
                }
            }
        }
        if !quiet {
            emit(&mut out, &pat);
        }
    }
    out
}

pub(crate) fn sed(sh: &mut Shell<'_>, argv: &[String], fds: &Fds) -> Ex {
    let mut quiet = false;
    let mut inplace = false;
    let mut extended = false;
    let mut scripts = Vec::new();
    let mut ops = Vec::new();
    let mut i = 1;
    while i < argv.len() {
        let a = argv[i].as_str();
        match a {
            "-n" => quiet = true,
            "-E" | "-r" => extended = true,
            "-e" => {
                i += 1;
                scripts.push(argv.get(i).cloned().unwrap_or_default());
            }
            a if a.starts_with("-i") => inplace = true,
            a if a.starts_with('-') && a.len() > 1 => {
                for c in a[1..].chars() {
                    match c {
                        'n' => quiet = true,
                        'E' | 'r' => extended = true,
                        'i' => inplace = true,
                        c => return Ok(bad_option(sh, fds, "sed", c)),
                    }
                }
            }
            _ => ops.push(a.to_string()),
        }
        i += 1;
    }
    if scripts.is_empty() {
        if ops.is_empty() {
            sh.err(
                fds,
                "Usage: sed [OPTION]... {script-only-if-no-other-script} [input-file]...\n",
            );
            return Ok(1);
        }
        scripts.push(ops.remove(0));
    }
    let cmds = match parse_sed(&scripts.join("\n"), extended) {
        Ok(c) => c,
        Err(m) => {
            sh.err(fds, format!("sed: {m}\n"));
            return Ok(1);
        }
    };
    if inplace {
        let mut rc = 0;
        for f in &ops {
            let p = sh.abs(f);
            match sh.ctx.sandbox.read(&p) {
                Ok(d) => {
                    let out = run_sed(&cmds, &d, quiet);
                    if let Err(e) = sh.ctx.sandbox.write(&p, &out, WriteMode::Truncate) {
                        sh.err(
                            fds,
                            format!(
                                "sed: couldn't open temporary file {f}: {}\n",
                                e.errno.message()
                            ),
                        );
                        rc = 4;
                    }
                }
                Err(e) => {
                    sh.err(fds, format!("sed: can't read {f}: {}\n", e.errno.message()));
                    rc = 2;
                }
            }
        }
        return Ok(rc);
    }
    let (ins, failed) = inputs(sh, fds, &ops, |o, m| format!("sed: can't read {o}: {m}\n"));
    let data: Vec<u8> = ins.into_iter().flat_map(|(_, d)| d).collect();
    let out = run_sed(&cmds, &data, quiet);
    sh.out(fds, out);
    Ok(if failed { 2 } else { 0 })
}

/// Parses a cut list (`1,3-5,7-`) into inclusive 1-based ranges.
fn cut_list(s: &str) -> Option<Vec<(usize, usize)>> {
    let mut v = Vec::new();
    for part in s.split(',') {
        let (a, b) = match part.split_once('-') {
            Some((a, b)) => (
                if a.is_empty() { 1 } else { a.parse().ok()? },
                if b.is_empty() {
                    usize::MAX
                } else {
                    b.parse().ok()?
                },
            ),
            None => {
                let n = part.parse().ok()?;
                (n, n)
            }
        };
        if a == 0 {
            return None;
        }
        v.push((a, b));
    }
    Some(v)
}

pub(crate) fn cut(sh: &mut Shell<'_>, argv: &[String], fds: &Fds) -> Ex {
    let mut delim = '\t';
    let mut fields = None;
    let mut chars = None;
    let mut only_delim = false;
    let mut ops = Vec::new();
    let mut i = 1;
    while i < argv.len() {
        let a = argv[i].as_str();
        let mut take = |flag: &str| -> Option<String> {
            if a == flag {
                i += 1;
                argv.get(i).cloned()
            } else {
                a.strip_prefix(flag).map(str::to_string)
            }
        };
        if let Some(d) = take("-d") {
            delim = d.chars().next().unwrap_or('\t');
        } else if let Some(f) = take("-f") {
            fields = Some(f);
        } else if let Some(c) = take("-c").or_else(|| take("-b")) {
            chars = Some(c);
        } else if a == "-s" {
            only_delim = true;
        } else {
            ops.push(a.to_string());
        }
        i += 1;
    }
    let (spec, by_field) = match (fields, chars) {
        (Some(f), _) => (f, true),
        (None, Some(c)) => (c, false),
        _ => {
            sh.err(fds, "cut: you must specify a list of bytes, characters, or fields\nTry 'cut --help' for more information.\n");
            return Ok(1);
        }
    };
    let Some(list) = cut_list(&spec) else {
        sh.err(
            fds,
            "cut: fields are numbered from 1\nTry 'cut --help' for more information.\n",
        );
        return Ok(1);
    };
    let want = |n: usize| list.iter().any(|(a, b)| *a <= n && n <= *b);
    let (ins, failed) = inputs(sh, fds, &ops, |o, m| format!("cut: {o}: {m}\n"));
    let mut out = String::new();
    for (_, d) in ins {
        for l in lines(&d) {
            let l = String::from_utf8_lossy(l);
            if by_field {
                if !l.contains(delim) {
                    if !only_delim {
                        out.push_str(&l);
                        out.push('\n');
                    }
                    continue;
                }
                let sel: Vec<&str> = l
                    .split(delim)
                    .enumerate()
                    .filter(|(k, _)| want(k + 1))
                    .map(|(_, f)| f)
                    .collect();
                out.push_str(&sel.join(&delim.to_string()));
            } else {
                let sel: String = l
                    .chars()
                    .enumerate()
                    .filter(|(k, _)| want(k + 1))
                    .map(|(_, c)| c)
                    .collect();
                out.push_str(&sel);
            }
            out.push('\n');
        }
    }
    sh.out(fds, out);
    Ok(if failed { 1 } else { 0 })
}

/// Expands a tr set: ranges, classes, escapes.
fn tr_set(s: &str) -> Vec<char> {
    let cs: Vec<char> = s.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < cs.len() {
        if cs[i] == '[' && cs.get(i + 1) == Some(&':') {
            let rest: String = cs[i + 2..].iter().collect();
            if let Some(end) = rest.find(":]") {
                let class = &rest[..end];
                let all = (0u8..128).map(char::from);
                out.extend(all.filter(|c| match class {
                    "upper" => c.is_ascii_uppercase(),
                    "lower" => c.is_ascii_lowercase(),
                    "digit" => c.is_ascii_digit(),
                    "alpha" => c.is_ascii_alphabetic(),
                    "alnum" => c.is_ascii_alphanumeric(),
                    "space" => c.is_ascii_whitespace() || *c == '\x0b',
                    "blank" => *c == ' ' || *c == '\t',
                    "punct" => c.is_ascii_punctuation(),
                    _ => false,
                }));
                i += 2 + end + 2;
                continue;
            }
        }
        let c = if cs[i] == '\\' && i + 1 < cs.len() {
            i += 1;
            match cs[i] {
                'n' => '\n',
                't' => '\t',
                'r' => '\r',
                '\\' => '\\',
                o => o,
            }
        } else {
            cs[i]
        };
        if cs.get(i + 1) == Some(&'-') && i + 2 < cs.len() {
            let end = cs[i + 2];
            let (a, b) = (c as u32, end as u32);
            if a <= b {
                out.extend((a..=b).filter_map(char::from_u32));
            }
            i += 3;
        } else {
            out.push(c);
            i += 1;
        }
    }
    out
}

pub(crate) fn tr(sh: &mut Shell<'_>, argv: &[String], fds: &Fds) -> Ex {
    let mut delete = false;
    let mut squeeze = false;
    let mut sets = Vec::new();
    for a in &argv[1..] {
        match a.as_str() {
            "-d" => delete = true,
            "-s" => squeeze = true,
            "-ds" | "-sd" => {
                delete = true;
                squeeze = true;
            }
            _ => sets.push(tr_set(a)),
        }
    }
    if sets.is_empty() {
        sh.err(
            fds,
            "tr: missing operand\nTry 'tr --help' for more information.\n",
        );
        return Ok(1);
    }
    let input = String::from_utf8_lossy(&sh.stdin_all(fds)).into_owned();
    let mut out = String::new();
    let s1 = &sets[0];
    let s2 = sets.get(1);
    let mut last: Option<char> = None;
    for c in input.chars() {
        let mapped = if delete {
            if s1.contains(&c) {
                continue;
            }
            Some(c)
        } else if let Some(s2) = s2 {
            match s1.iter().position(|x| *x == c) {
                Some(p) => s2.get(p).or(s2.last()).copied(),
                None => Some(c),
            }
        } else {
            Some(c)
        };
        let Some(m) = mapped else { continue };
        let sq_set = if delete { s2 } else { s2.or(Some(s1)) };
        if squeeze && last == Some(m) && sq_set.is_some_and(|s| s.contains(&m)) {
            continue;
        }
        last = Some(m);
        out.push(m);
    }
    sh.out(fds, out);
    Ok(0)
}

/// Leading number of a line, as `sort -n` reads it (non-numbers are 0).
fn leading_num(s: &str) -> f64 {
    let t = s.trim_start();
    let end = t
        .char_indices()
        .find(|(i, c)| !(c.is_ascii_digit() || *c == '.' || (*i == 0 && *c == '-')))
        .map(|(i, _)| i)
        .unwrap_or(t.len());
    t[..end].parse().unwrap_or(0.0)
}

pub(crate) fn sort(sh: &mut Shell<'_>, argv: &[String], fds: &Fds) -> Ex {
    let mut numeric = false;
    let mut reverse = false;
    let mut unique = false;
    let mut fold = false;
    let mut key: Option<usize> = None;
    let mut sep: Option<char> = None;
    let mut ops = Vec::new();
    let mut i = 1;
    while i < argv.len() {
        let a = argv[i].as_str();
        let opt = if a == "-k" || a == "-t" {
            i += 1;
            Some((a, argv.get(i).cloned().unwrap_or_default()))
        } else if a.len() > 2 && (a.starts_with("-k") || a.starts_with("-t")) {
            Some((&a[..2], a[2..].to_string()))
        } else {
            None
        };
        if let Some((a, v)) = opt {
            if a == "-k" {
                key = v
                    .split([',', '.'])
                    .next()
                    .and_then(|n| n.trim_end_matches(|c: char| c.is_alphabetic()).parse().ok());
                if v.contains('n') {
                    numeric = true;
                }
            } else {
                sep = v.chars().next();
            }
        } else if a.starts_with('-') && a.len() > 1 {
            for c in a[1..].chars() {
                match c {
                    'n' | 'g' | 'h' => numeric = true,
                    'r' => reverse = true,
                    'u' => unique = true,
                    'f' => fold = true,
                    'b' | 's' | 'V' => {}
                    c => return Ok(bad_option(sh, fds, "sort", c)),
                }
            }
        } else {
            ops.push(a.to_string());
        }
        i += 1;
    }
    let (ins, failed) = inputs(sh, fds, &ops, |o, m| {
        format!("sort: cannot read: {o}: {m}\n")
    });
    if failed {
        return Ok(2);
    }
    let mut all: Vec<String> = Vec::new();
    for (_, d) in &ins {
        all.extend(
            lines(d)
                .iter()
                .map(|l| String::from_utf8_lossy(l).into_owned()),
        );
    }
    sh.tick_n(all.len() as u64 / 64)?;
    let keyf = |l: &str| -> String {
        match key {
            None => l.to_string(),
            Some(k) => {
                let f: Vec<&str> = match sep {
                    Some(s) => l.split(s).collect(),
                    None => l.split_whitespace().collect(),
                };
                f.get(k.saturating_sub(1)..)
                    .map(|r| r.join(&sep.map(String::from).unwrap_or(" ".into())))
                    .unwrap_or_default()
            }
        }
    };
    let cmp = |a: &String, b: &String| -> std::cmp::Ordering {
        let (ka, kb) = (keyf(a), keyf(b));
        let o = if numeric {
            leading_num(&ka)
                .partial_cmp(&leading_num(&kb))
                .unwrap_or(std::cmp::Ordering::Equal)
        } else if fold {
            ka.to_lowercase().cmp(&kb.to_lowercase())
        } else {
            ka.cmp(&kb)
        };
        // GNU sort's last-resort comparison of whole lines keeps the order total.
        o.then_with(|| {
            if unique {
                std::cmp::Ordering::Equal
            } else {
                a.cmp(b)
            }
        })
    };
    all.sort_by(cmp);
    if reverse {
        all.reverse();
    }
    if unique {
        all.dedup_by(|a, b| cmp(a, b) == std::cmp::Ordering::Equal);
    }
    let mut out = String::new();
    for l in all {
        out.push_str(&l);
        out.push('\n');
    }
    sh.out(fds, out);
    Ok(0)
}

pub(crate) fn uniq(sh: &mut Shell<'_>, argv: &[String], fds: &Fds) -> Ex {
    let (fl, ops) = match super::flags(&argv[1..], "cdui") {
        Ok(x) => x,
        Err(c) => return Ok(bad_option(sh, fds, "uniq", c)),
    };
    let (ins, failed) = inputs(sh, fds, &ops[..ops.len().min(1)], |o, m| {
        format!("uniq: {o}: {m}\n")
    });
    let data: Vec<u8> = ins.into_iter().flat_map(|(_, d)| d).collect();
    let mut groups: Vec<(String, usize)> = Vec::new();
    for l in lines(&data) {
        let l = String::from_utf8_lossy(l).into_owned();
        match groups.last_mut() {
            Some((g, n))
                if *g == l || (fl.contains('i') && g.to_lowercase() == l.to_lowercase()) =>
            {
                *n += 1
            }
            _ => groups.push((l, 1)),
        }
    }
    let mut out = String::new();
    for (l, n) in groups {
        if (fl.contains('d') && n < 2) || (fl.contains('u') && n > 1) {
            continue;
        }
        if fl.contains('c') {
            out.push_str(&format!("{n:>7} {l}\n"));
        } else {
            out.push_str(&l);
            out.push('\n');
        }
    }
    sh.out(fds, out);
    Ok(if failed { 1 } else { 0 })
}

pub(crate) fn tee(sh: &mut Shell<'_>, argv: &[String], fds: &Fds) -> Ex {
    let (fl, ops) = match super::flags(&argv[1..], "ai") {
        Ok(x) => x,
        Err(c) => return Ok(bad_option(sh, fds, "tee", c)),
    };
    let data = sh.stdin_all(fds);
    let mut rc = 0;
    for f in ops {
        if f == "/dev/null" {
            continue;
        }
        let p = sh.abs(&f);
        let mode = if fl.contains('a') {
            WriteMode::Append
        } else {
            WriteMode::Truncate
        };
        if let Err(e) = sh.ctx.sandbox.write(&p, &data, mode) {
            sh.err(fds, format!("tee: {f}: {}\n", e.errno.message()));
            rc = 1;
        }
    }
    sh.out(fds, data);
    Ok(rc)
}

pub(crate) fn xargs(sh: &mut Shell<'_>, argv: &[String], fds: &Fds) -> Ex {
    let mut per = usize::MAX;
    let mut replace: Option<String> = None;
    let mut i = 1;
    while i < argv.len() {
        match argv[i].as_str() {
            "-n" => {
                i += 1;
                per = argv
                    .get(i)
                    .and_then(|n| n.parse().ok())
                    .unwrap_or(usize::MAX)
                    .max(1);
            }
            "-I" => {
                i += 1;
                replace = argv.get(i).cloned();
            }
            "-r" | "--no-run-if-empty" | "-0" => {}
            a if a.starts_with("-I") && a.len() > 2 => replace = Some(a[2..].to_string()),
            a if a.starts_with("-n") && a.len() > 2 => {
                per = a[2..].parse().unwrap_or(usize::MAX).max(1);
            }
            _ => break,
        }
        i += 1;
    }
    let mut cmd: Vec<String> = argv[i..].to_vec();
    if cmd.is_empty() {
        cmd.push("echo".into());
    }
    let input = String::from_utf8_lossy(&sh.stdin_all(fds)).into_owned();
    // The command reads nothing: a real xargs gives it /dev/null as stdin.
    let mut f = fds.clone();
    f[0] = Fd::In(Input::new(Vec::new()));
    let mut rc = 0;
    if let Some(r) = replace {
        for line in input.lines().filter(|l| !l.trim().is_empty()) {
            sh.tick()?;
            let a: Vec<String> = cmd.iter().map(|c| c.replace(&r, line.trim())).collect();
            if sh.dispatch(&a, &f)? != 0 {
                rc = 123;
            }
        }
        return Ok(rc);
    }
    let items: Vec<String> = input.split_whitespace().map(str::to_string).collect();
    if items.is_empty() {
        return Ok(if sh.dispatch(&cmd, &f)? != 0 { 123 } else { 0 });
    }
    for chunk in items.chunks(per.min(items.len())) {
        sh.tick()?;
        let mut a = cmd.clone();
        a.extend(chunk.iter().cloned());
        if sh.dispatch(&a, &f)? != 0 {
            rc = 123;
        }
    }
    Ok(rc)
}
