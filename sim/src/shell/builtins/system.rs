//! System-ish utilities: sleep (virtual clock), hostname, whoami, id, uname, env, seq, yes,
//! basename, dirname, and `sh`/`bash` as child shells.

use super::super::exec::{Ex, Flow, Shell, Var};
use super::super::io::Fds;

/// `yes` stops after this many bytes: stages of a pipeline run one after another here, so
/// an endless producer must be bounded (`yes | head` still sees plenty).
const YES_LIMIT: usize = 1 << 20;

pub(crate) fn basename(sh: &mut Shell<'_>, argv: &[String], fds: &Fds) -> Ex {
    let Some(p) = argv.get(1) else {
        sh.err(
            fds,
            "basename: missing operand\nTry 'basename --help' for more information.\n",
        );
        return Ok(1);
    };
    let t = p.trim_end_matches('/');
    let mut b = if t.is_empty() && !p.is_empty() {
        "/".to_string()
    } else {
        t.rsplit('/').next().unwrap_or(t).to_string()
    };
    if let Some(suf) = argv.get(2) {
        if b.len() > suf.len() && b.ends_with(suf.as_str()) {
            b.truncate(b.len() - suf.len());
        }
    }
    sh.out(fds, format!("{b}\n"));
    Ok(0)
}

pub(crate) fn dirname(sh: &mut Shell<'_>, argv: &[String], fds: &Fds) -> Ex {
    let Some(p) = argv.get(1) else {
        sh.err(
            fds,
            "dirname: missing operand\nTry 'dirname --help' for more information.\n",
        );
        return Ok(1);
    };
    let t = p.trim_end_matches('/');
    let d = if t.is_empty() {
        if p.starts_with('/') { "/" } else { "." }.to_string()
    } else {
        match t.rfind('/') {
            None => ".".to_string(),
            Some(i) => {
                let d = t[..i].trim_end_matches('/');
                if d.is_empty() {
                    "/".to_string()
                } else {
                    d.to_string()
                }
            }
        }
    };
    sh.out(fds, format!("{d}\n"));
    Ok(0)
}

pub(crate) fn hostname(sh: &mut Shell<'_>, argv: &[String], fds: &Fds) -> Ex {
    let h = sh.ctx.hostname.clone();
    let s = match argv.get(1).map(String::as_str) {
        Some("-s") | Some("--short") => h.split('.').next().unwrap_or(&h).to_string(),
        Some("-f") | Some("--fqdn") | None => h,
        Some("-i") | Some("-I") => "127.0.1.1".to_string(),
        Some(_) => {
            sh.err(fds, "hostname: you must be root to change the host name\n");
            return Ok(1);
        }
    };
    sh.out(fds, format!("{s}\n"));
    Ok(0)
}

pub(crate) fn whoami(sh: &mut Shell<'_>, _: &[String], fds: &Fds) -> Ex {
    let u = sh.ctx.user.name.clone();
    sh.out(fds, format!("{u}\n"));
    Ok(0)
}

pub(crate) fn id(sh: &mut Shell<'_>, argv: &[String], fds: &Fds) -> Ex {
    let u = sh.ctx.user.clone();
    let args: String = argv[1..].concat();
    let s = if args.contains('u') {
        if args.contains('n') {
            u.name
        } else {
            u.uid.to_string()
        }
    } else if args.contains('g') || args.contains('G') {
        if args.contains('n') {
            u.group
        } else {
            u.gid.to_string()
        }
    } else {
        format!(
            "uid={}({}) gid={}({}) groups={}({})",
            u.uid, u.name, u.gid, u.group, u.gid, u.group
        )
    };
    sh.out(fds, format!("{s}\n"));
    Ok(0)
}

pub(crate) fn uname(sh: &mut Shell<'_>, argv: &[String], fds: &Fds) -> Ex {
    let host = sh.ctx.hostname.clone();
    let fields = [
        ('s', "Linux".to_string()),
        ('n', host),
        ('r', "6.1.0-13-amd64".to_string()),
        (
            'v',
            "#1 SMP PREEMPT_DYNAMIC Debian 6.1.55-1 (2023-09-29)".to_string(),
        ),
        ('m', "x86_64".to_string()),
        ('o', "GNU/Linux".to_string()),
    ];
    let flags: String = argv[1..]
        .iter()
        .map(|a| a.trim_start_matches('-'))
        .collect();
    let parts: Vec<String> = if flags.contains('a') {
        fields.iter().map(|f| f.1.clone()).collect()
    } else if flags.is_empty() {
        vec![fields[0].1.clone()]
    } else {
        fields
            .iter()
            .filter(|f| flags.contains(f.0))
            .map(|f| f.1.clone())
            .collect()
    };
    sh.out(fds, format!("{}\n", parts.join(" ")));
    Ok(0)
}

/// Parses `1.5`, `2m`, `1h`, `1d` into seconds.
fn duration(s: &str) -> Option<f64> {
    let (num, mult) = match s.chars().last()? {
        's' => (&s[..s.len() - 1], 1.0),
        'm' => (&s[..s.len() - 1], 60.0),
        'h' => (&s[..s.len() - 1], 3600.0),
        'd' => (&s[..s.len() - 1], 86400.0),
        _ => (s, 1.0),
    };
    if num.is_empty() || !num.chars().all(|c| c.is_ascii_digit() || c == '.') {
        return None;
    }
    num.parse::<f64>().ok().map(|v| v * mult)
}

pub(crate) fn sleep(sh: &mut Shell<'_>, argv: &[String], fds: &Fds) -> Ex {
    if argv.len() < 2 {
        sh.err(
            fds,
            "sleep: missing operand\nTry 'sleep --help' for more information.\n",
        );
        return Ok(1);
    }
    let mut total = 0.0;
    for a in &argv[1..] {
        if a == "infinity" {
            return Err(Flow::Abort("fleetsim: sleep infinity never returns".into()));
        }
        match duration(a) {
            Some(d) => total += d,
            None => {
                sh.err(
                    fds,
                    format!("sleep: invalid time interval ‘{a}’\nTry 'sleep --help' for more information.\n"),
                );
                return Ok(1);
            }
        }
    }
    sh.ctx.now += total;
    Ok(0)
}

pub(crate) fn env(sh: &mut Shell<'_>, argv: &[String], fds: &Fds) -> Ex {
    let mut i = 1;
    let mut assigns = Vec::new();
    let mut clear = false;
    let mut unsets = Vec::new();
    while i < argv.len() {
        let a = &argv[i];
        if a == "-i" || a == "-" {
            clear = true;
        } else if a == "-u" {
            i += 1;
            if let Some(n) = argv.get(i) {
                unsets.push(n.clone());
            }
        } else if let Some((k, v)) = a.split_once('=') {
            assigns.push((k.to_string(), v.to_string()));
        } else {
            break;
        }
        i += 1;
    }
    let saved = sh.vars.clone();
    if clear {
        for v in sh.vars.values_mut() {
            v.exported = false;
        }
    }
    for n in unsets {
        sh.vars.shift_remove(&n);
    }
    for (k, v) in assigns {
        sh.vars.insert(
            k,
            Var {
                value: v,
                exported: true,
            },
        );
    }
    let r = if i >= argv.len() {
        let mut out = String::new();
        for (k, v) in sh.exported_env() {
            out.push_str(&format!("{k}={v}\n"));
        }
        sh.out(fds, out);
        Ok(0)
    } else {
        // env runs programs, never shell functions.
        let funcs = std::mem::take(&mut sh.funcs);
        let r = sh.dispatch(&argv[i..], fds);
        sh.funcs = funcs;
        r
    };
    sh.vars = saved;
    r
}

/// `printenv [-0] [NAME...]`: the exported environment, or the values of the named
/// variables (status 1 when one of them is not exported), as GNU coreutils prints them.
pub(crate) fn printenv(sh: &mut Shell<'_>, argv: &[String], fds: &Fds) -> Ex {
    let (flags, names) = match super::flags(&argv[1..], "0") {
        Ok(f) => f,
        Err(c) => {
            super::bad_option(sh, fds, "printenv", c);
            return Ok(2);
        }
    };
    let end = if flags.contains('0') { '\0' } else { '\n' };
    let env = sh.exported_env();
    let mut out = String::new();
    if names.is_empty() {
        for (k, v) in &env {
            out.push_str(&format!("{k}={v}{end}"));
        }
        sh.out(fds, out);
        return Ok(0);
    }
    let mut rc = 0;
    for name in &names {
        match env.get(name.as_str()) {
            Some(v) if !name.contains('=') => out.push_str(&format!("{v}{end}")),
            _ => rc = 1,
        }
    }
    sh.out(fds, out);
    Ok(rc)
}

fn decimals(s: &str) -> usize {
    s.split_once('.').map(|(_, f)| f.len()).unwrap_or(0)
}

pub(crate) fn seq(sh: &mut Shell<'_>, argv: &[String], fds: &Fds) -> Ex {
    let mut sep = "\n".to_string();
    let mut width = false;
    let mut nums = Vec::new();
    let mut i = 1;
    while i < argv.len() {
        let a = &argv[i];
        if a == "-s" {
            i += 1;
            sep = argv.get(i).cloned().unwrap_or_default();
        } else if let Some(s) = a.strip_prefix("-s") {
            sep = s.to_string();
        } else if a == "-w" {
            width = true;
        } else {
            nums.push(a.clone());
        }
        i += 1;
    }
    let parsed: Option<Vec<f64>> = nums.iter().map(|n| n.parse::<f64>().ok()).collect();
    let (Some(p), 1..=3) = (parsed, nums.len()) else {
        let bad = nums.iter().find(|n| n.parse::<f64>().is_err());
        match bad {
            Some(b) => sh.err(
                fds,
                format!("seq: invalid floating point argument: ‘{b}’\n"),
            ),
            None => sh.err(fds, "seq: missing operand\n"),
        }
        return Ok(1);
    };
    let (first, step, last) = match p.as_slice() {
        [l] => (1.0, 1.0, *l),
        [f, l] => (*f, 1.0, *l),
        [f, s, l] => (*f, *s, *l),
        _ => (1.0, 1.0, 0.0),
    };
    if step == 0.0 {
        sh.err(fds, "seq: invalid Zero increment value: ‘0’\n");
        return Ok(1);
    }
    let prec = nums.iter().map(|n| decimals(n)).max().unwrap_or(0);
    let fmt = |v: f64| format!("{:.*}", prec, v);
    let w = if width {
        fmt(first).len().max(fmt(last).len())
    } else {
        0
    };
    let mut out = String::new();
    let mut k = 0u64;
    loop {
        let v = first + step * k as f64;
        if (step > 0.0 && v > last + 1e-9) || (step < 0.0 && v < last - 1e-9) {
            break;
        }
        if k > 0 {
            out.push_str(&sep);
        }
        let s = fmt(v);
        out.push_str(&format!("{s:0>w$}"));
        k += 1;
        if k % 1024 == 0 {
            sh.tick_n(64)?;
            if out.len() > sh.ctx.max_output {
                break;
            }
        }
    }
    if k > 0 {
        out.push('\n');
    }
    sh.out(fds, out);
    sh.tick()?;
    Ok(0)
}

pub(crate) fn yes(sh: &mut Shell<'_>, argv: &[String], fds: &Fds) -> Ex {
    let line = if argv.len() > 1 {
        format!("{}\n", argv[1..].join(" "))
    } else {
        "y\n".to_string()
    };
    let n = (YES_LIMIT / line.len()).max(1);
    sh.tick_n(n as u64 / 64)?;
    sh.out(fds, line.repeat(n));
    Ok(0)
}

/// `sh -c SCRIPT [NAME ARGS]`, `sh FILE ARGS`, or `sh` reading the script from stdin.
pub(crate) fn sh(shell: &mut Shell<'_>, argv: &[String], fds: &Fds) -> Ex {
    let mut i = 1;
    let mut errexit = false;
    while i < argv.len() && argv[i].starts_with('-') && argv[i] != "-c" {
        if argv[i].contains('e') {
            errexit = true;
        }
        i += 1;
    }
    let (text, arg0, args) = if argv.get(i).map(String::as_str) == Some("-c") {
        let Some(script) = argv.get(i + 1) else {
            shell.shell_err(fds, "-c requires an argument");
            return Ok(2);
        };
        let name = argv.get(i + 2).cloned().unwrap_or_else(|| argv[0].clone());
        let rest = argv
            .get(i + 3..)
            .map(<[String]>::to_vec)
            .unwrap_or_default();
        (script.clone(), name, rest)
    } else if let Some(file) = argv.get(i) {
        let p = shell.abs(file);
        match shell.ctx.sandbox.read_to_string(&p) {
            Ok(t) => (t, file.clone(), argv[i + 1..].to_vec()),
            Err(_) => {
                shell.err(
                    fds,
                    format!("{}: 0: cannot open {file}: No such file\n", argv[0]),
                );
                return Ok(2);
            }
        }
    } else {
        let t = String::from_utf8_lossy(&shell.stdin_all(fds)).into_owned();
        (t, argv[0].clone(), Vec::new())
    };
    // `bash -c` runs its script as bash, `sh -c` and `dash -c` as dash.
    let parent_is_bash = shell.bash;
    shell.bash = argv[0].rsplit('/').next() == Some("bash");
    let r = shell.run_script_text(&text, &arg0, &args, fds, errexit);
    shell.bash = parent_is_bash;
    r
}

/// dash's `ulimit` for what the simulation models: the open-files limit (`-n`, soft with
/// `-S`, hard with `-H`, both when setting without either) and the file-size limit (`-f`,
/// the default), which is unlimited. Other resources are refused by name.
pub(crate) fn ulimit(sh: &mut Shell<'_>, argv: &[String], fds: &Fds) -> Ex {
    let (mut hard, mut soft, mut resource) = (false, false, 'f');
    let mut value: Option<&str> = None;
    for arg in &argv[1..] {
        match arg.strip_prefix('-') {
            Some(flags) if !flags.is_empty() && value.is_none() => {
                for c in flags.chars() {
                    match c {
                        'H' => hard = true,
                        'S' => soft = true,
                        'n' | 'f' => resource = c,
                        other => {
                            sh.shell_err(
                                fds,
                                &format!("ulimit: fleetsim simulates only -n and -f, not -{other}"),
                            );
                            return Ok(2);
                        }
                    }
                }
            }
            _ if value.is_none() => value = Some(arg),
            _ => {
                sh.shell_err(fds, "ulimit: too many arguments");
                return Ok(2);
            }
        }
    }
    if resource == 'f' {
        return match value {
            None | Some("unlimited") => {
                if value.is_none() {
                    sh.out(fds, "unlimited\n");
                }
                Ok(0)
            }
            Some(_) => {
                sh.shell_err(fds, "ulimit: fleetsim simulates no file-size limit");
                Ok(2)
            }
        };
    }
    let Some(text) = value else {
        let n = if hard { sh.nofile.1 } else { sh.nofile.0 };
        sh.out(fds, format!("{n}\n"));
        return Ok(0);
    };
    let Ok(n) = text.parse::<u64>() else {
        sh.shell_err(fds, "ulimit: bad number");
        return Ok(2);
    };
    let (set_soft, set_hard) = if hard || soft {
        (soft, hard)
    } else {
        (true, true)
    };
    let new_hard = if set_hard { n } else { sh.nofile.1 };
    let new_soft = if set_soft {
        n
    } else {
        sh.nofile.0.min(new_hard)
    };
    if new_soft > new_hard {
        sh.shell_err(fds, "ulimit: error setting limit (Invalid argument)");
        return Ok(2);
    }
    sh.nofile = (new_soft, new_hard);
    Ok(0)
}
