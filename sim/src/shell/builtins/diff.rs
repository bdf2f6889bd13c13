//! `diff` (GNU diffutils): two files compared line by line, in the normal or the unified
//! (`-u`) format, with `-q`, `-s`, and the whitespace options `-w`, `-b`, `-B` that playbooks
//! use to check a templated file against a known-good one. Exit status 0 same, 1 different,
//! 2 trouble, as GNU diff.

use similar::{capture_diff_slices, group_diff_ops, Algorithm, DiffOp};

use super::{bad_option, flags, read_operand};
use crate::shell::exec::{Ex, Shell};
use crate::shell::io::Fds;

/// How lines are compared: the text each option makes of a line before comparing it.
struct Ignore {
    all_space: bool,
    space_change: bool,
}

impl Ignore {
    fn key(&self, line: &str) -> String {
        let body = line.strip_suffix('\n').unwrap_or(line);
        if self.all_space {
            body.chars().filter(|c| !c.is_whitespace()).collect()
        } else if self.space_change {
            // Runs of white space compare as one space; trailing white space is ignored.
            let mut out = String::new();
            let mut in_space = false;
            for c in body.chars() {
                if c.is_whitespace() {
                    in_space = true;
                } else {
                    if in_space {
                        out.push(' ');
                    }
                    in_space = false;
                    out.push(c);
                }
            }
            out
        } else {
            line.to_string()
        }
    }
}

pub(crate) fn diff(sh: &mut Shell<'_>, argv: &[String], fds: &Fds) -> Ex {
    let args: Vec<String> = argv[1..]
        .iter()
        .map(|a| match a.as_str() {
            "--unified" => "-u".into(),
            "--brief" => "-q".into(),
            "--report-identical-files" => "-s".into(),
            "--ignore-all-space" => "-w".into(),
            "--ignore-space-change" => "-b".into(),
            "--ignore-blank-lines" => "-B".into(),
            _ => a.clone(),
        })
        .collect();
    if let Some(long) = args.iter().find(|a| a.starts_with("--") && a.len() > 2) {
        sh.err(fds, format!("diff: unrecognized option '{long}'\n"));
        return Ok(2);
    }
    let (fl, ops) = match flags(&args, "uqswbB") {
        Ok(x) => x,
        Err(c) => {
            bad_option(sh, fds, "diff", c);
            return Ok(2);
        }
    };
    if ops.len() != 2 {
        let msg = match ops.len() {
            0 | 1 => format!(
                "diff: missing operand after '{}'\n",
                ops.last().map(String::as_str).unwrap_or("diff")
            ),
            _ => format!("diff: extra operand '{}'\n", ops[2]),
        };
        sh.err(fds, msg + "diff: Try 'diff --help' for more information.\n");
        return Ok(2);
    }
    let mut texts = Vec::new();
    for f in &ops {
        match read_operand(sh, fds, f) {
            Ok(d) => texts.push(String::from_utf8_lossy(&d).into_owned()),
            Err(m) => {
                sh.err(fds, format!("diff: {f}: {m}\n"));
                return Ok(2);
            }
        }
    }
    let ignore = Ignore {
        all_space: fl.contains('w'),
        space_change: fl.contains('b'),
    };
    let old: Vec<&str> = texts[0].split_inclusive('\n').collect();
    let new: Vec<&str> = texts[1].split_inclusive('\n').collect();
    let old_keys: Vec<String> = old.iter().map(|l| ignore.key(l)).collect();
    let new_keys: Vec<String> = new.iter().map(|l| ignore.key(l)).collect();
    let all_ops = capture_diff_slices(Algorithm::Myers, &old_keys, &new_keys);
    let blank_only = |op: &DiffOp| {
        fl.contains('B')
            && op.old_range().all(|i| old_keys[i].trim().is_empty())
            && op.new_range().all(|i| new_keys[i].trim().is_empty())
    };
    let changes: Vec<DiffOp> = all_ops
        .iter()
        .filter(|op| !matches!(op, DiffOp::Equal { .. }) && !blank_only(op))
        .copied()
        .collect();
    if changes.is_empty() {
        if fl.contains('s') {
            sh.out(
                fds,
                format!("Files {} and {} are identical\n", ops[0], ops[1]),
            );
        }
        return Ok(0);
    }
    if fl.contains('q') {
        sh.out(fds, format!("Files {} and {} differ\n", ops[0], ops[1]));
        return Ok(1);
    }
    let out = if fl.contains('u') {
        let header = |sh: &Shell<'_>, name: &str| {
            let p = sh.abs(name);
            let t = sh.ctx.sandbox.stat(&p).map(|s| s.mtime).unwrap_or(0.0);
            super::date::format_time(t.floor(), "%Y-%m-%d %H:%M:%S.000000000 +0000")
        };
        let mut out = format!(
            "--- {}\t{}\n+++ {}\t{}\n",
            ops[0],
            header(sh, &ops[0]),
            ops[1],
            header(sh, &ops[1])
        );
        unified(all_ops, &old, &new, &mut out);
        out
    } else {
        normal(&changes, &old, &new)
    };
    sh.out(fds, out);
    Ok(1)
}

/// A line with its marker; a last line without a newline gets GNU's note.
fn push_line(out: &mut String, mark: &str, line: &str) {
    out.push_str(mark);
    out.push_str(line);
    if !line.ends_with('\n') {
        out.push_str("\n\\ No newline at end of file\n");
    }
}

/// `N` or `N,M` (1-based, inclusive) for a normal-format hunk.
fn normal_range(start: usize, end: usize) -> String {
    if end - start == 1 {
        format!("{}", start + 1)
    } else {
        format!("{},{}", start + 1, end)
    }
}

/// GNU's default output: `2,3c2`, `5d4`, `7a8,9` with `<` and `>` lines.
fn normal(changes: &[DiffOp], old: &[&str], new: &[&str]) -> String {
    let mut out = String::new();
    for op in changes {
        let (o, n) = (op.old_range(), op.new_range());
        match op {
            DiffOp::Delete { .. } => {
                out.push_str(&format!("{}d{}\n", normal_range(o.start, o.end), n.start));
                o.for_each(|i| push_line(&mut out, "< ", old[i]));
            }
            DiffOp::Insert { .. } => {
                out.push_str(&format!("{}a{}\n", o.start, normal_range(n.start, n.end)));
                n.for_each(|i| push_line(&mut out, "> ", new[i]));
            }
            _ => {
                out.push_str(&format!(
                    "{}c{}\n",
                    normal_range(o.start, o.end),
                    normal_range(n.start, n.end)
                ));
                o.for_each(|i| push_line(&mut out, "< ", old[i]));
                out.push_str("---\n");
                n.for_each(|i| push_line(&mut out, "> ", new[i]));
            }
        }
    }
    out
}

/// `-L,N` of a unified hunk header (GNU prints `L` alone when the range has one line).
fn unified_range(start: usize, len: usize) -> String {
    match len {
        1 => format!("{}", start + 1),
        0 => format!("{start},0"),
        _ => format!("{},{len}", start + 1),
    }
}

/// Unified hunks with three lines of context; equal lines print as the first file has them.
fn unified(ops: Vec<DiffOp>, old: &[&str], new: &[&str], out: &mut String) {
    for group in group_diff_ops(ops, 3) {
        let (Some(first), Some(last)) = (group.first(), group.last()) else {
            continue;
        };
        let (a1, b1) = (first.old_range().start, first.new_range().start);
        let (a2, b2) = (last.old_range().end, last.new_range().end);
        out.push_str(&format!(
            "@@ -{} +{} @@\n",
            unified_range(a1, a2 - a1),
            unified_range(b1, b2 - b1)
        ));
        for op in &group {
            let (o, n) = (op.old_range(), op.new_range());
            match op {
                DiffOp::Equal { .. } => o.for_each(|i| push_line(out, " ", old[i])),
                DiffOp::Delete { .. } => o.for_each(|i| push_line(out, "-", old[i])),
                DiffOp::Insert { .. } => n.for_each(|i| push_line(out, "+", new[i])),
                DiffOp::Replace { .. } => {
                    o.for_each(|i| push_line(out, "-", old[i]));
                    n.for_each(|i| push_line(out, "+", new[i]));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::shell::tests::{host, run_in};

    // Expected outputs recorded from GNU diffutils 3.8.
    #[test]
    fn normal_and_unified_formats() {
        let mut h = host("h");
        let setup = "printf 'a\\nb\\nc\\nd\\ne\\nf\\ng\\nh\\n' > o; printf 'a\\nB\\nc\\ne\\nf\\nx\\ny\\ng\\nh' > n; ";
        let out = run_in(&mut h, &format!("{setup}diff o n"));
        assert_eq!(
            out.stdout_str(),
            "2c2\n< b\n---\n> B\n4d3\n< d\n6a6,7\n> x\n> y\n8c9\n< h\n---\n> h\n\\ No newline at end of file\n"
        );
        assert_eq!(out.rc, 1);
        let out = run_in(&mut h, "diff -u o n | tail -n +3");
        assert_eq!(
            out.stdout_str(),
            "@@ -1,8 +1,9 @@\n a\n-b\n+B\n c\n-d\n e\n f\n+x\n+y\n g\n-h\n+h\n\\ No newline at end of file\n"
        );
        let out = run_in(&mut h, "diff -u o n | head -2 | cut -c1-6");
        assert_eq!(out.stdout_str(), "--- o\t\n+++ n\t\n");
        let out = run_in(&mut h, "diff -q o n; diff -s o o; diff o o; echo $?");
        assert_eq!(
            out.stdout_str(),
            "Files o and n differ\nFiles o and o are identical\n0\n"
        );
    }

    #[test]
    fn white_space_options_and_trouble() {
        let mut h = host("h");
        let setup =
            "printf 'x  y\\n\\tz \\n' > w1; printf 'x y\\nz\\n' > w2; printf 'xy\\nz\\n' > w3; ";
        let out = run_in(&mut h, &format!("{setup}diff -b w1 w2; echo $?"));
        assert_eq!(out.stdout_str(), "2c2\n< \tz \n---\n> z\n1\n");
        let out = run_in(
            &mut h,
            "diff -w w1 w3; echo $?; diff -b w1 w3 >/dev/null; echo $?",
        );
        assert_eq!(out.stdout_str(), "0\n1\n");
        let out = run_in(&mut h, "diff w1 nope; echo $?");
        assert_eq!(out.stdout_str(), "2\n");
        assert_eq!(out.stderr_str(), "diff: nope: No such file or directory\n");
    }
}
