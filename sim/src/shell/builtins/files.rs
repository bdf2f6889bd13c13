//! File utilities over the sandbox: cat, mkdir, rm, rmdir, cp, mv, touch, ls, ln, chmod, chown,
//! stat, find, readlink, realpath — with GNU coreutils' messages.

use super::super::exec::{Ex, Shell};
use super::super::io::Fds;
use super::super::pattern::Pattern;
use super::{bad_option, flags, read_operand};
use crate::fs::{Errno, FileKind, Stat, WriteMode};

fn base_name(p: &str) -> &str {
    let t = p.trim_end_matches('/');
    if t.is_empty() {
        return "/";
    }
    t.rsplit('/').next().unwrap_or(t)
}

fn join(dir: &str, name: &str) -> String {
    if dir.ends_with('/') {
        format!("{dir}{name}")
    } else {
        format!("{dir}/{name}")
    }
}

pub(crate) fn cat(sh: &mut Shell<'_>, argv: &[String], fds: &Fds) -> Ex {
    let (fl, mut ops) = match flags(&argv[1..], "nuA") {
        Ok(x) => x,
        Err(c) => return Ok(bad_option(sh, fds, "cat", c)),
    };
    if ops.is_empty() {
        ops.push("-".into());
    }
    let mut rc = 0;
    let mut n = 0usize;
    for f in ops {
        match read_operand(sh, fds, &f) {
            Ok(d) => {
                if fl.contains('n') {
                    let mut out = String::new();
                    for l in super::lines(&d) {
                        n += 1;
                        out.push_str(&format!("{n:>6}\t{}\n", String::from_utf8_lossy(l)));
                    }
                    sh.out(fds, out);
                } else {
                    sh.out(fds, d);
                }
            }
            Err(m) => {
                sh.err(fds, format!("cat: {f}: {m}\n"));
                rc = 1;
            }
        }
        sh.tick()?;
    }
    Ok(rc)
}

/// Parses `755` or symbolic `u+x,go-w` against the current mode.
pub(crate) fn parse_mode(spec: &str, cur: u32, is_dir: bool) -> Option<u32> {
    if !spec.is_empty() && spec.chars().all(|c| c.is_digit(8)) {
        return u32::from_str_radix(spec, 8).ok().filter(|m| *m <= 0o7777);
    }
    let mut mode = cur;
    for clause in spec.split(',') {
        let cs: Vec<char> = clause.chars().collect();
        let mut i = 0;
        let mut who = 0u32;
        while i < cs.len() && "ugoa".contains(cs[i]) {
            who |= match cs[i] {
                'u' => 0o4700,
                'g' => 0o2070,
                'o' => 0o1007,
                _ => 0o7777,
            };
            i += 1;
        }
        if who == 0 {
            who = 0o7777 & !0o022;
        }
        if i >= cs.len() {
            return None;
        }
        while i < cs.len() {
            let op = cs[i];
            if !"+-=".contains(op) {
                return None;
            }
            i += 1;
            let mut bits = 0u32;
            while i < cs.len() && "rwxXst".contains(cs[i]) {
                bits |= match cs[i] {
                    'r' => 0o444,
                    'w' => 0o222,
                    'x' => 0o111,
                    'X' if is_dir || cur & 0o111 != 0 => 0o111,
                    'X' => 0,
                    's' => 0o6000,
                    _ => 0o1000,
                };
                i += 1;
            }
            let bits = bits & who;
            match op {
                '+' => mode |= bits,
                '-' => mode &= !bits,
                _ => mode = (mode & !(who & 0o7777)) | bits,
            }
        }
    }
    Some(mode)
}

pub(crate) fn mkdir(sh: &mut Shell<'_>, argv: &[String], fds: &Fds) -> Ex {
    let mut parents = false;
    let mut mode = None;
    let mut ops = Vec::new();
    let mut i = 1;
    while i < argv.len() {
        let a = &argv[i];
        match a.as_str() {
            "-p" | "--parents" => parents = true,
            "-m" => {
                i += 1;
                mode = argv.get(i).cloned();
            }
            "-pm" => {
                parents = true;
                i += 1;
                mode = argv.get(i).cloned();
            }
            s if s.starts_with("-m") => mode = Some(s[2..].to_string()),
            "-v" => {}
            s if s.starts_with('-') && s.len() > 1 => {
                return Ok(bad_option(
                    sh,
                    fds,
                    "mkdir",
                    s.chars().nth(1).unwrap_or('-'),
                ));
            }
            _ => ops.push(a.clone()),
        }
        i += 1;
    }
    if ops.is_empty() {
        sh.err(
            fds,
            "mkdir: missing operand\nTry 'mkdir --help' for more information.\n",
        );
        return Ok(1);
    }
    let mut rc = 0;
    for d in ops {
        let p = sh.abs(&d);
        let r = if parents {
            mkdir_parents(sh, &d)
        } else {
            sh.ctx.sandbox.mkdir(&p, false).map_err(|e| (d.clone(), e))
        };
        match r {
            Ok(()) => {
                if let Some(m) = &mode {
                    if let Some(m) = parse_mode(m, 0o755, true) {
                        let _ = sh.ctx.sandbox.chmod(&p, m);
                    }
                }
            }
            Err((shown, e)) => {
                sh.err(
                    fds,
                    format!(
                        "mkdir: cannot create directory ‘{shown}’: {}\n",
                        e.errno.message()
                    ),
                );
                rc = 1;
            }
        }
    }
    Ok(rc)
}

/// `mkdir -p` component by component, so an error names the component that failed, as GNU
/// mkdir does (`mkdir -p f/g` with a file `f`: `cannot create directory ‘f’: Not a directory`).
fn mkdir_parents(sh: &mut Shell<'_>, d: &str) -> Result<(), (String, crate::fs::FsError)> {
    let comps: Vec<&str> = d.split('/').filter(|c| !c.is_empty()).collect();
    let mut prefix = if d.starts_with('/') {
        "/".to_string()
    } else {
        String::new()
    };
    for (i, c) in comps.iter().enumerate() {
        if !prefix.is_empty() && !prefix.ends_with('/') {
            prefix.push('/');
        }
        prefix.push_str(c);
        if *c == "." || *c == ".." {
            continue;
        }
        let p = sh.abs(&prefix);
        match sh.ctx.sandbox.stat(&p) {
            Ok(st) if st.kind == FileKind::Dir => {}
            Ok(_) => {
                let errno = if i + 1 == comps.len() {
                    Errno::Exist
                } else {
                    Errno::NotDir
                };
                return Err((prefix.clone(), crate::fs::FsError { errno, path: p }));
            }
            Err(_) => sh
                .ctx
                .sandbox
                .mkdir(&p, false)
                .map_err(|e| (prefix.clone(), e))?,
        }
    }
    Ok(())
}

pub(crate) fn rm(sh: &mut Shell<'_>, argv: &[String], fds: &Fds) -> Ex {
    let mut args: Vec<String> = Vec::new();
    let mut preserve_root = true;
    for a in &argv[1..] {
        match a.as_str() {
            "--no-preserve-root" => preserve_root = false,
            "--recursive" => args.push("-r".into()),
            "--force" => args.push("-f".into()),
            _ => args.push(a.clone()),
        }
    }
    let (fl, ops) = match flags(&args, "rRfiIvd") {
        Ok(x) => x,
        Err(c) => return Ok(bad_option(sh, fds, "rm", c)),
    };
    let recursive = fl.contains('r') || fl.contains('R');
    let force = fl.contains('f');
    if ops.is_empty() {
        if force {
            return Ok(0);
        }
        sh.err(
            fds,
            "rm: missing operand\nTry 'rm --help' for more information.\n",
        );
        return Ok(1);
    }
    let mut rc = 0;
    for f in ops {
        sh.tick()?;
        let p = sh.abs(&f);
        let st = sh.ctx.sandbox.lstat(&p);
        let st = match st {
            Ok(s) => s,
            Err(e) => {
                if !(force && e.errno == Errno::NoEnt) {
                    sh.err(
                        fds,
                        format!("rm: cannot remove '{f}': {}\n", e.errno.message()),
                    );
                    rc = 1;
                }
                continue;
            }
        };
        if st.kind == FileKind::Dir {
            if !recursive {
                sh.err(fds, format!("rm: cannot remove '{f}': Is a directory\n"));
                rc = 1;
                continue;
            }
            let canon = sh.ctx.sandbox.canonical(&p).unwrap_or_default();
            if canon == "/" && preserve_root {
                sh.err(
                    fds,
                    format!("rm: it is dangerous to operate recursively on '{f}'\nrm: use --no-preserve-root to override this failsafe\n"),
                );
                rc = 1;
                continue;
            }
            let base = base_name(&f);
            if base == "." || base == ".." {
                sh.err(
                    fds,
                    format!("rm: refusing to remove '.' or '..' directory: skipping '{f}'\n"),
                );
                rc = 1;
                continue;
            }
        }
        let r = if st.kind == FileKind::Dir {
            sh.ctx.sandbox.remove_all(&p)
        } else {
            sh.ctx.sandbox.remove_file(&p)
        };
        if let Err(e) = r {
            sh.err(
                fds,
                format!("rm: cannot remove '{f}': {}\n", e.errno.message()),
            );
            rc = 1;
        }
    }
    Ok(rc)
}

pub(crate) fn rmdir(sh: &mut Shell<'_>, argv: &[String], fds: &Fds) -> Ex {
    let (_, ops) = match flags(&argv[1..], "pv") {
        Ok(x) => x,
        Err(c) => return Ok(bad_option(sh, fds, "rmdir", c)),
    };
    let mut rc = 0;
    for d in ops {
        let p = sh.abs(&d);
        if let Err(e) = sh.ctx.sandbox.remove_dir(&p) {
            sh.err(
                fds,
                format!("rmdir: failed to remove '{d}': {}\n", e.errno.message()),
            );
            rc = 1;
        }
    }
    Ok(rc)
}

pub(crate) fn cp(sh: &mut Shell<'_>, argv: &[String], fds: &Fds) -> Ex {
    let (fl, mut ops) = match flags(&argv[1..], "rRapfvPLdn") {
        Ok(x) => x,
        Err(c) => return Ok(bad_option(sh, fds, "cp", c)),
    };
    let recursive = fl.contains('r') || fl.contains('R') || fl.contains('a');
    if ops.len() < 2 {
        let msg = if ops.is_empty() {
            "cp: missing file operand\n".to_string()
        } else {
            format!("cp: missing destination file operand after '{}'\n", ops[0])
        };
        sh.err(fds, format!("{msg}Try 'cp --help' for more information.\n"));
        return Ok(1);
    }
    let dst = ops.pop().unwrap_or_default();
    let dpath = sh.abs(&dst);
    let dst_is_dir = sh.ctx.sandbox.is_dir(&dpath);
    if ops.len() > 1 && !dst_is_dir {
        sh.err(fds, format!("cp: target '{dst}' is not a directory\n"));
        return Ok(1);
    }
    let mut rc = 0;
    for src in ops {
        sh.tick()?;
        let spath = sh.abs(&src);
        let st = match sh.ctx.sandbox.stat(&spath) {
            Ok(s) => s,
            Err(e) => {
                sh.err(
                    fds,
                    format!("cp: cannot stat '{src}': {}\n", e.errno.message()),
                );
                rc = 1;
                continue;
            }
        };
        let target = if dst_is_dir {
            join(&dpath, base_name(&src))
        } else {
            dpath.clone()
        };
        let r = if st.kind == FileKind::Dir {
            if !recursive {
                sh.err(
                    fds,
                    format!("cp: -r not specified; omitting directory '{src}'\n"),
                );
                rc = 1;
                continue;
            }
            let sc = sh.ctx.sandbox.canonical(&spath).unwrap_or_default();
            let tc = sh
                .ctx
                .sandbox
                .resolve(&target, true)
                .map(|r| r.host)
                .unwrap_or_default();
            if tc == sc || tc.starts_with(&format!("{sc}/")) {
                sh.err(
                    fds,
                    format!("cp: cannot copy a directory, '{src}', into itself, '{dst}'\n"),
                );
                rc = 1;
                continue;
            }
            sh.ctx.sandbox.copy_tree(&spath, &target)
        } else {
            sh.ctx.sandbox.copy_file(&spath, &target)
        };
        if let Err(e) = r {
            sh.err(
                fds,
                format!(
                    "cp: cannot create regular file '{dst}': {}\n",
                    e.errno.message()
                ),
            );
            rc = 1;
        }
    }
    Ok(rc)
}

pub(crate) fn mv(sh: &mut Shell<'_>, argv: &[String], fds: &Fds) -> Ex {
    let (_, mut ops) = match flags(&argv[1..], "fivnT") {
        Ok(x) => x,
        Err(c) => return Ok(bad_option(sh, fds, "mv", c)),
    };
    if ops.len() < 2 {
        sh.err(
            fds,
            "mv: missing file operand\nTry 'mv --help' for more information.\n",
        );
        return Ok(1);
    }
    let dst = ops.pop().unwrap_or_default();
    let dpath = sh.abs(&dst);
    let dst_is_dir = sh.ctx.sandbox.is_dir(&dpath);
    if ops.len() > 1 && !dst_is_dir {
        sh.err(fds, format!("mv: target '{dst}' is not a directory\n"));
        return Ok(1);
    }
    let mut rc = 0;
    for src in ops {
        let spath = sh.abs(&src);
        if let Err(e) = sh.ctx.sandbox.lstat(&spath) {
            sh.err(
                fds,
                format!("mv: cannot stat '{src}': {}\n", e.errno.message()),
            );
            rc = 1;
            continue;
        }
        let target = if dst_is_dir {
            join(&dpath, base_name(&src))
        } else {
            dpath.clone()
        };
        match sh.ctx.sandbox.rename(&spath, &target) {
            Ok(()) => {}
            Err(e) if e.errno == Errno::Inval => {
                let shown = if dst_is_dir {
                    join(&dst, base_name(&src))
                } else {
                    dst.clone()
                };
                sh.err(
                    fds,
                    format!("mv: cannot move '{src}' to a subdirectory of itself, '{shown}'\n"),
                );
                rc = 1;
            }
            Err(e) => {
                sh.err(
                    fds,
                    format!(
                        "mv: cannot move '{src}' to '{dst}': {}\n",
                        e.errno.message()
                    ),
                );
                rc = 1;
            }
        }
    }
    Ok(rc)
}

pub(crate) fn touch(sh: &mut Shell<'_>, argv: &[String], fds: &Fds) -> Ex {
    let mut no_create = false;
    let mut when = None;
    let mut ops = Vec::new();
    let mut i = 1;
    while i < argv.len() {
        match argv[i].as_str() {
            "-c" => no_create = true,
            "-d" => {
                i += 1;
                when = argv
                    .get(i)
                    .and_then(|s| s.strip_prefix('@'))
                    .and_then(|s| s.parse().ok());
            }
            "-a" | "-m" => {}
            a => ops.push(a.to_string()),
        }
        i += 1;
    }
    let mut rc = 0;
    for f in ops {
        let p = sh.abs(&f);
        let now = when.unwrap_or(sh.ctx.now);
        let r = if sh.ctx.sandbox.exists(&p) {
            sh.ctx.sandbox.set_mtime(&p, now)
        } else if no_create {
            Ok(())
        } else {
            sh.ctx
                .sandbox
                .write(&p, b"", WriteMode::Append)
                .and_then(|_| sh.ctx.sandbox.set_mtime(&p, now))
        };
        if let Err(e) = r {
            sh.err(
                fds,
                format!("touch: cannot touch '{f}': {}\n", e.errno.message()),
            );
            rc = 1;
        }
    }
    Ok(rc)
}

/// `drwxr-xr-x` for a stat.
pub(crate) fn mode_string(st: &Stat) -> String {
    let t = match st.kind {
        FileKind::Dir => 'd',
        FileKind::Symlink => 'l',
        FileKind::File => '-',
        FileKind::Other => 'p',
    };
    let m = if st.kind == FileKind::Symlink {
        0o777
    } else {
        st.mode
    };
    let mut s = String::from(t);
    for (i, shift) in [6u32, 3, 0].iter().enumerate() {
        let b = (m >> shift) & 7;
        s.push(if b & 4 != 0 { 'r' } else { '-' });
        s.push(if b & 2 != 0 { 'w' } else { '-' });
        let special = match i {
            0 => m & 0o4000 != 0,
            1 => m & 0o2000 != 0,
            _ => m & 0o1000 != 0,
        };
        let x = b & 1 != 0;
        s.push(match (special, x, i) {
            (true, true, 2) => 't',
            (true, false, 2) => 'T',
            (true, true, _) => 's',
            (true, false, _) => 'S',
            (false, true, _) => 'x',
            (false, false, _) => '-',
        });
    }
    s
}

fn ls_size(st: &Stat) -> u64 {
    if st.kind == FileKind::Dir {
        4096
    } else {
        st.size
    }
}

fn ls_long(sh: &Shell<'_>, entries: &[(String, String, Stat)]) -> String {
    let w_link = entries
        .iter()
        .map(|e| e.2.nlink.to_string().len())
        .max()
        .unwrap_or(1);
    let w_user = entries.iter().map(|e| e.2.owner.len()).max().unwrap_or(1);
    let w_group = entries.iter().map(|e| e.2.group.len()).max().unwrap_or(1);
    let w_size = entries
        .iter()
        .map(|e| ls_size(&e.2).to_string().len())
        .max()
        .unwrap_or(1);
    let mut out = String::new();
    for (name, path, st) in entries {
        let date = super::date::ls_time(st.mtime, sh.ctx.now);
        let mut line = format!(
            "{} {:>w_link$} {:<w_user$} {:<w_group$} {:>w_size$} {date} {name}",
            mode_string(st),
            st.nlink,
            st.owner,
            st.group,
            ls_size(st),
        );
        if st.kind == FileKind::Symlink {
            if let Ok(t) = sh.ctx.sandbox.read_link(path) {
                line.push_str(&format!(" -> {t}"));
            }
        }
        out.push_str(&line);
        out.push('\n');
    }
    out
}

fn blocks(st: &Stat) -> u64 {
    match st.kind {
        FileKind::Dir => 4,
        FileKind::File => st.size.div_ceil(4096) * 4,
        _ => 0,
    }
}

pub(crate) fn ls(sh: &mut Shell<'_>, argv: &[String], fds: &Fds) -> Ex {
    let (fl, mut ops) = match flags(&argv[1..], "laA1dhFrt") {
        Ok(x) => x,
        Err(c) => return Ok(bad_option(sh, fds, "ls", c)),
    };
    let long = fl.contains('l');
    let all = fl.contains('a');
    let almost = fl.contains('A');
    let dir_itself = fl.contains('d');
    let reverse = fl.contains('r');
    if ops.is_empty() {
        ops.push(".".into());
    }
    let mut rc = 0;
    let mut files: Vec<(String, String, Stat)> = Vec::new();
    let mut dirs: Vec<(String, String)> = Vec::new();
    for o in &ops {
        let p = sh.abs(o);
        match sh.ctx.sandbox.lstat(&p) {
            Ok(st) => {
                let is_dir = st.kind == FileKind::Dir
                    || (st.kind == FileKind::Symlink && !long && sh.ctx.sandbox.is_dir(&p));
                if is_dir && !dir_itself {
                    dirs.push((o.clone(), p));
                } else {
                    files.push((o.clone(), p, st));
                }
            }
            Err(e) => {
                sh.err(
                    fds,
                    format!("ls: cannot access '{o}': {}\n", e.errno.message()),
                );
                rc = 2;
            }
        }
    }
    files.sort_by(|a, b| a.0.cmp(&b.0));
    dirs.sort();
    let mut out = String::new();
    if !files.is_empty() {
        if long {
            out.push_str(&ls_long(sh, &files));
        } else {
            for f in &files {
                out.push_str(&f.0);
                out.push('\n');
            }
        }
    }
    let headers = files.len() + dirs.len() > 1 || rc != 0;
    for (i, (shown, p)) in dirs.iter().enumerate() {
        sh.tick()?;
        if !files.is_empty() || i > 0 {
            out.push('\n');
        }
        if headers {
            out.push_str(&format!("{shown}:\n"));
        }
        let mut names = match sh.ctx.sandbox.list_dir(p) {
            Ok(n) => n,
            Err(e) => {
                sh.err(
                    fds,
                    format!(
                        "ls: cannot open directory '{shown}': {}\n",
                        e.errno.message()
                    ),
                );
                rc = 2;
                continue;
            }
        };
        if all {
            names.insert(0, "..".into());
            names.insert(0, ".".into());
        } else if !almost {
            names.retain(|n| !n.starts_with('.'));
        } else {
            names.retain(|n| n != "." && n != "..");
        }
        if reverse {
            names.reverse();
        }
        if long {
            let mut entries = Vec::new();
            for n in names {
                let full = join(p, &n);
                if let Ok(st) = sh.ctx.sandbox.lstat(&full) {
                    entries.push((n, full, st));
                }
            }
            let total: u64 = entries.iter().map(|e| blocks(&e.2)).sum();
            out.push_str(&format!("total {total}\n"));
            out.push_str(&ls_long(sh, &entries));
        } else {
            for n in names {
                out.push_str(&n);
                out.push('\n');
            }
        }
    }
    sh.out(fds, out);
    Ok(rc)
}

pub(crate) fn ln(sh: &mut Shell<'_>, argv: &[String], fds: &Fds) -> Ex {
    let (fl, ops) = match flags(&argv[1..], "sfnvT") {
        Ok(x) => x,
        Err(c) => return Ok(bad_option(sh, fds, "ln", c)),
    };
    let symbolic = fl.contains('s');
    let force = fl.contains('f');
    let (target, link) = match ops.as_slice() {
        [t] => (t.clone(), base_name(t).to_string()),
        [t, l] => (t.clone(), l.clone()),
        _ => {
            sh.err(
                fds,
                "ln: missing file operand\nTry 'ln --help' for more information.\n",
            );
            return Ok(1);
        }
    };
    let mut lpath = sh.abs(&link);
    let mut shown = link.clone();
    if !fl.contains('n') && sh.ctx.sandbox.is_dir(&lpath) {
        lpath = join(&lpath, base_name(&target));
        shown = join(&link, base_name(&target));
    }
    let kind = if symbolic {
        "symbolic link"
    } else {
        "hard link"
    };
    if !symbolic {
        let tpath = sh.abs(&target);
        if let Err(e) = sh.ctx.sandbox.lstat(&tpath) {
            sh.err(
                fds,
                format!("ln: failed to access '{target}': {}\n", e.errno.message()),
            );
            return Ok(1);
        }
    }
    if force
        && sh
            .ctx
            .sandbox
            .lstat(&lpath)
            .is_ok_and(|s| s.kind != FileKind::Dir)
    {
        let _ = sh.ctx.sandbox.remove_file(&lpath);
    }
    let r = if symbolic {
        sh.ctx.sandbox.symlink(&target, &lpath)
    } else {
        let tpath = sh.abs(&target);
        sh.ctx.sandbox.hardlink(&tpath, &lpath)
    };
    match r {
        Ok(()) => Ok(0),
        Err(e) => {
            sh.err(
                fds,
                format!(
                    "ln: failed to create {kind} '{shown}': {}\n",
                    e.errno.message()
                ),
            );
            Ok(1)
        }
    }
}

fn walk(
    sh: &mut Shell<'_>,
    path: &str,
    out: &mut Vec<String>,
) -> Result<(), super::super::exec::Flow> {
    sh.tick()?;
    out.push(path.to_string());
    if sh
        .ctx
        .sandbox
        .lstat(path)
        .is_ok_and(|s| s.kind == FileKind::Dir)
    {
        for n in sh.ctx.sandbox.list_dir(path).unwrap_or_default() {
            walk(sh, &join(path, &n), out)?;
        }
    }
    Ok(())
}

pub(crate) fn chmod(sh: &mut Shell<'_>, argv: &[String], fds: &Fds) -> Ex {
    let mut recursive = false;
    let mut rest = Vec::new();
    for a in &argv[1..] {
        if a == "-R" {
            recursive = true;
        } else if a == "-v" || a == "-f" {
        } else {
            rest.push(a.clone());
        }
    }
    if rest.len() < 2 {
        sh.err(
            fds,
            "chmod: missing operand\nTry 'chmod --help' for more information.\n",
        );
        return Ok(1);
    }
    let spec = rest.remove(0);
    let mut rc = 0;
    for f in rest {
        let p = sh.abs(&f);
        let mut targets = Vec::new();
        if recursive {
            walk(sh, &p, &mut targets)?;
        } else {
            targets.push(p);
        }
        for t in targets {
            let st = match sh.ctx.sandbox.stat(&t) {
                Ok(s) => s,
                Err(e) => {
                    sh.err(
                        fds,
                        format!("chmod: cannot access '{f}': {}\n", e.errno.message()),
                    );
                    rc = 1;
                    continue;
                }
            };
            let Some(m) = parse_mode(&spec, st.mode, st.kind == FileKind::Dir) else {
                sh.err(
                    fds,
                    format!(
                        "chmod: invalid mode: '{spec}'\nTry 'chmod --help' for more information.\n"
                    ),
                );
                return Ok(1);
            };
            if let Err(e) = sh.ctx.sandbox.chmod(&t, m) {
                sh.err(
                    fds,
                    format!(
                        "chmod: changing permissions of '{f}': {}\n",
                        e.errno.message()
                    ),
                );
                rc = 1;
            }
        }
    }
    Ok(rc)
}

pub(crate) fn chown(sh: &mut Shell<'_>, argv: &[String], fds: &Fds) -> Ex {
    let mut recursive = false;
    let mut rest = Vec::new();
    for a in &argv[1..] {
        match a.as_str() {
            "-R" => recursive = true,
            "-h" | "-v" | "-f" => {}
            _ => rest.push(a.clone()),
        }
    }
    if rest.len() < 2 {
        sh.err(
            fds,
            "chown: missing operand\nTry 'chown --help' for more information.\n",
        );
        return Ok(1);
    }
    let spec = rest.remove(0);
    let (user, group) = match spec.split_once([':', '.']) {
        Some((u, g)) => (u.to_string(), g.to_string()),
        None => (spec.clone(), String::new()),
    };
    let mut rc = 0;
    for f in rest {
        let p = sh.abs(&f);
        let mut targets = Vec::new();
        if recursive {
            walk(sh, &p, &mut targets)?;
        } else {
            targets.push(p);
        }
        for t in targets {
            let u = (!user.is_empty()).then_some(user.as_str());
            let g = (!group.is_empty()).then_some(group.as_str());
            if let Err(e) = sh.ctx.sandbox.chown(&t, u, g) {
                let verb = if e.errno == Errno::NoEnt {
                    "cannot access"
                } else {
                    "changing ownership of"
                };
                sh.err(fds, format!("chown: {verb} '{f}': {}\n", e.errno.message()));
                rc = 1;
            }
        }
    }
    Ok(rc)
}

fn kind_name(st: &Stat) -> &'static str {
    match st.kind {
        FileKind::Dir => "directory",
        FileKind::Symlink => "symbolic link",
        FileKind::File if st.size == 0 => "regular empty file",
        FileKind::File => "regular file",
        FileKind::Other => "fifo",
    }
}

fn uid_of(name: &str, sh: &Shell<'_>) -> u32 {
    if name == sh.ctx.user.name {
        sh.ctx.user.uid
    } else if name == "root" {
        0
    } else {
        1000
    }
}

pub(crate) fn stat(sh: &mut Shell<'_>, argv: &[String], fds: &Fds) -> Ex {
    let mut fmt = None;
    let mut deref = false;
    let mut ops = Vec::new();
    let mut i = 1;
    while i < argv.len() {
        match argv[i].as_str() {
            "-c" | "--format" | "--printf" => {
                i += 1;
                fmt = argv.get(i).map(|f| format!("{f}\n"));
            }
            "-L" => deref = true,
            a if a.starts_with("--format=") => fmt = Some(format!("{}\n", &a[9..])),
            a => ops.push(a.to_string()),
        }
        i += 1;
    }
    let mut rc = 0;
    let mut out = String::new();
    for f in ops {
        let p = sh.abs(&f);
        let r = if deref {
            sh.ctx.sandbox.stat(&p)
        } else {
            sh.ctx.sandbox.lstat(&p)
        };
        let st = match r {
            Ok(s) => s,
            Err(e) => {
                sh.err(
                    fds,
                    format!("stat: cannot statx '{f}': {}\n", e.errno.message()),
                );
                rc = 1;
                continue;
            }
        };
        let size = ls_size(&st);
        let mtime = st.mtime.floor() as i64;
        let ymd = super::date::format_time(mtime as f64, "%Y-%m-%d %H:%M:%S.000000000 +0000");
        let Some(fmt) = &fmt else {
            out.push_str(&format!(
                "  File: {f}\n  Size: {size}\tBlocks: {}\tIO Block: 4096   {}\nAccess: ({:04o}/{})  Uid: ({:5}/{:>8})   Gid: ({:5}/{:>8})\nModify: {ymd}\n",
                blocks(&st) * 2,
                kind_name(&st),
                st.mode,
                mode_string(&st),
                uid_of(&st.owner, sh),
                st.owner,
                uid_of(&st.group, sh),
                st.group
            ));
            continue;
        };
        let cs: Vec<char> = fmt.chars().collect();
        let mut j = 0;
        while j < cs.len() {
            if cs[j] == '%' && j + 1 < cs.len() {
                j += 1;
                match cs[j] {
                    'n' => out.push_str(&f),
                    'N' => {
                        out.push_str(&format!("'{f}'"));
                        if st.kind == FileKind::Symlink {
                            if let Ok(t) = sh.ctx.sandbox.read_link(&p) {
                                out.push_str(&format!(" -> '{t}'"));
                            }
                        }
                    }
                    's' => out.push_str(&size.to_string()),
                    'a' => out.push_str(&format!("{:o}", st.mode)),
                    'A' => out.push_str(&mode_string(&st)),
                    'U' => out.push_str(&st.owner),
                    'G' => out.push_str(&st.group),
                    'u' => out.push_str(&uid_of(&st.owner, sh).to_string()),
                    'g' => out.push_str(&uid_of(&st.group, sh).to_string()),
                    'F' => out.push_str(kind_name(&st)),
                    'h' => out.push_str(&st.nlink.to_string()),
                    'Y' | 'X' | 'Z' | 'W' => out.push_str(&mtime.to_string()),
                    'y' | 'x' | 'z' | 'w' => out.push_str(&ymd),
                    'b' => out.push_str(&(blocks(&st) * 2).to_string()),
                    'B' => out.push_str("512"),
                    'o' => out.push_str("4096"),
                    '%' => out.push('%'),
                    // Unsupported directives print `?`, as GNU stat does for unknown ones.
                    _ => out.push('?'),
                }
            } else {
                out.push(cs[j]);
            }
            j += 1;
        }
    }
    sh.out(fds, out);
    Ok(rc)
}

pub(crate) fn find(sh: &mut Shell<'_>, argv: &[String], fds: &Fds) -> Ex {
    let mut roots = Vec::new();
    let mut i = 1;
    while i < argv.len() && !argv[i].starts_with('-') && argv[i] != "!" && argv[i] != "(" {
        roots.push(argv[i].clone());
        i += 1;
    }
    if roots.is_empty() {
        roots.push(".".into());
    }
    let mut name: Vec<(Pattern, bool)> = Vec::new();
    let mut ftype = None;
    let mut maxdepth = usize::MAX;
    let mut mindepth = 0usize;
    let mut delete = false;
    while i < argv.len() {
        let a = argv[i].as_str();
        let v = argv.get(i + 1).cloned();
        match a {
            "-name" | "-iname" => {
                let Some(v) = v else {
                    sh.err(fds, format!("find: missing argument to `{a}'\n"));
                    return Ok(1);
                };
                let ci = a == "-iname";
                let p = if ci { v.to_lowercase() } else { v };
                name.push((Pattern::parse(&p), ci));
                i += 2;
            }
            "-type" => {
                ftype = v.and_then(|t| t.chars().next());
                i += 2;
            }
            "-maxdepth" => {
                maxdepth = v.and_then(|n| n.parse().ok()).unwrap_or(usize::MAX);
                i += 2;
            }
            "-mindepth" => {
                mindepth = v.and_then(|n| n.parse().ok()).unwrap_or(0);
                i += 2;
            }
            "-print" => i += 1,
            "-delete" => {
                delete = true;
                i += 1;
            }
            other => {
                sh.err(fds, format!("find: unknown predicate `{other}'\n"));
                return Ok(1);
            }
        }
    }
    let mut rc = 0;
    let mut out = String::new();
    let mut to_delete = Vec::new();
    for r in roots {
        let rp = sh.abs(&r);
        if sh.ctx.sandbox.lstat(&rp).is_err() {
            sh.err(fds, format!("find: ‘{r}’: No such file or directory\n"));
            rc = 1;
            continue;
        }
        // Depth-first, names sorted: a real find's order is the directory's, which we make
        // deterministic.
        let mut stack = vec![(r.clone(), rp, 0usize)];
        while let Some((shown, real, depth)) = stack.pop() {
            sh.tick()?;
            let Ok(st) = sh.ctx.sandbox.lstat(&real) else {
                continue;
            };
            let base = base_name(&shown).to_string();
            let ok_name = name.iter().all(|(p, ci)| {
                if *ci {
                    p.matches(&base.to_lowercase())
                } else {
                    p.matches(&base)
                }
            });
            let ok_type = match ftype {
                None => true,
                Some('f') => st.kind == FileKind::File,
                Some('d') => st.kind == FileKind::Dir,
                Some('l') => st.kind == FileKind::Symlink,
                Some(_) => false,
            };
            if depth >= mindepth && ok_name && ok_type {
                if delete {
                    to_delete.push(real.clone());
                } else {
                    out.push_str(&shown);
                    out.push('\n');
                }
            }
            if st.kind == FileKind::Dir && depth < maxdepth {
                let names = sh.ctx.sandbox.list_dir(&real).unwrap_or_default();
                for n in names.into_iter().rev() {
                    stack.push((join(&shown, &n), join(&real, &n), depth + 1));
                }
            }
        }
    }
    for p in to_delete.into_iter().rev() {
        let _ = sh.ctx.sandbox.remove_all(&p);
    }
    sh.out(fds, out);
    Ok(rc)
}

pub(crate) fn readlink(sh: &mut Shell<'_>, argv: &[String], fds: &Fds) -> Ex {
    let (fl, ops) = match flags(&argv[1..], "fenmqsv") {
        Ok(x) => x,
        Err(c) => return Ok(bad_option(sh, fds, "readlink", c)),
    };
    let mut rc = 0;
    for f in ops {
        let p = sh.abs(&f);
        let r = if fl.contains('f') || fl.contains('e') || fl.contains('m') {
            sh.ctx.sandbox.resolve(&p, true).map(|r| r.host)
        } else {
            sh.ctx.sandbox.read_link(&p)
        };
        match r {
            Ok(t) => sh.out(fds, format!("{t}\n")),
            Err(_) => rc = 1,
        }
    }
    Ok(rc)
}

pub(crate) fn realpath(sh: &mut Shell<'_>, argv: &[String], fds: &Fds) -> Ex {
    let mut rc = 0;
    for f in argv[1..].iter().filter(|a| !a.starts_with('-')) {
        let p = sh.abs(f);
        match sh.ctx.sandbox.canonical(&p) {
            Ok(t) => sh.out(fds, format!("{t}\n")),
            Err(e) => {
                sh.err(fds, format!("realpath: {f}: {}\n", e.errno.message()));
                rc = 1;
            }
        }
    }
    Ok(rc)
}
