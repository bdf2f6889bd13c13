//! `--diff` output as Ansible's default callback prints it: Python `difflib.unified_diff`
//! of the before/after texts (dicts are dumped as indented JSON first), with Ansible's
//! `before: PATH`/`after: PATH` headers.

use serde_json::{Map, Value};
use similar::{DiffOp, TextDiff};

use super::pyjson;

/// The lines to print for a result's `diff` (empty when nothing differs).
pub fn render(diff: &Value) -> Vec<String> {
    let entries: Vec<&Map<String, Value>> = match diff {
        Value::Object(m) => vec![m],
        Value::Array(items) => items.iter().filter_map(Value::as_object).collect(),
        _ => Vec::new(),
    };
    let mut out = Vec::new();
    for d in entries {
        if let (Some(before), Some(after)) = (d.get("before"), d.get("after")) {
            out.extend(before_after(d, before, after));
        }
        // A package manager's transaction summary (apt's `prepared`) prints as it is,
        // after any before/after text (ansible's CallbackBase._get_diff).
        if let Some(Value::String(p)) = d.get("prepared") {
            out.extend(p.split('\n').map(str::to_string));
        }
    }
    out
}

/// The unified diff of one entry's before/after, followed by the blank line Ansible adds.
fn before_after(d: &Map<String, Value>, before: &Value, after: &Value) -> Vec<String> {
    let header = |key: &str, label: &str| match d.get(key).and_then(Value::as_str) {
        Some(h) => format!("{label}: {h}"),
        None => label.to_string(),
    };
    let mut lines = unified(
        &as_text(before),
        &as_text(after),
        &header("before_header", "before"),
        &header("after_header", "after"),
    );
    if !lines.is_empty() {
        lines.push(String::new());
    }
    lines
}

fn as_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => pyjson::dumps(other, Some(4), true) + "\n",
    }
}

/// `difflib.unified_diff(a.splitlines(True), b.splitlines(True), fromfile, tofile, n=3)`.
fn unified(a: &str, b: &str, from: &str, to: &str) -> Vec<String> {
    let old: Vec<&str> = a.split_inclusive('\n').collect();
    let new: Vec<&str> = b.split_inclusive('\n').collect();
    let diff = TextDiff::configure().diff_slices(&old, &new);
    let groups = diff.grouped_ops(3);
    if groups.is_empty() {
        return Vec::new();
    }
    let mut out = vec![format!("--- {from}"), format!("+++ {to}")];
    for group in groups {
        let (Some(first), Some(last)) = (group.first(), group.last()) else {
            continue;
        };
        let (a1, b1) = (first.old_range().start, first.new_range().start);
        let (a2, b2) = (last.old_range().end, last.new_range().end);
        out.push(format!("@@ -{} +{} @@", range(a1, a2), range(b1, b2)));
        for op in &group {
            let (tag, r_old, r_new) = (op, op.old_range(), op.new_range());
            match tag {
                DiffOp::Equal { .. } => r_old.for_each(|i| push_line(&mut out, ' ', old[i])),
                DiffOp::Delete { .. } => r_old.for_each(|i| push_line(&mut out, '-', old[i])),
                DiffOp::Insert { .. } => r_new.for_each(|i| push_line(&mut out, '+', new[i])),
                DiffOp::Replace { .. } => {
                    r_old.for_each(|i| push_line(&mut out, '-', old[i]));
                    r_new.for_each(|i| push_line(&mut out, '+', new[i]));
                }
            }
        }
    }
    out
}

fn push_line(out: &mut Vec<String>, mark: char, line: &str) {
    match line.strip_suffix('\n') {
        Some(l) => out.push(format!("{mark}{l}")),
        None => {
            out.push(format!("{mark}{line}"));
            out.push("\\ No newline at end of file".into());
        }
    }
}

/// difflib's `_format_range_unified`.
fn range(start: usize, stop: usize) -> String {
    let len = stop - start;
    match len {
        1 => format!("{}", start + 1),
        0 => format!("{start},0"),
        _ => format!("{},{len}", start + 1),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn prepared_prints_as_it_is() {
        let d = json!({"prepared": "The following NEW packages will be installed:\n  htop\n0 upgraded, 1 newly installed, 0 to remove and 0 not upgraded."});
        assert_eq!(
            render(&d),
            vec![
                "The following NEW packages will be installed:",
                "  htop",
                "0 upgraded, 1 newly installed, 0 to remove and 0 not upgraded."
            ]
        );
    }

    #[test]
    fn new_file_and_changed_line_as_ansible_prints_them() {
        let d = json!({"before": "", "after": "one\ntwo\n", "after_header": "/tmp/a.txt"});
        assert_eq!(
            render(&d),
            vec![
                "--- before",
                "+++ after: /tmp/a.txt",
                "@@ -0,0 +1,2 @@",
                "+one",
                "+two",
                ""
            ]
        );
        let d = json!({"before": "one\ntwo\n", "after": "one\nthree\n", "before_header": "/a", "after_header": "/a"});
        assert_eq!(
            render(&d),
            vec![
                "--- before: /a",
                "+++ after: /a",
                "@@ -1,2 +1,2 @@",
                " one",
                "-two",
                "+three",
                ""
            ]
        );
    }

    #[test]
    fn dicts_are_dumped_as_json() {
        let d = json!({"before": {"path": "/x", "state": "absent"}, "after": {"path": "/x", "state": "directory"}});
        assert_eq!(
            render(&d),
            vec![
                "--- before",
                "+++ after",
                "@@ -1,4 +1,4 @@",
                " {",
                "     \"path\": \"/x\",",
                "-    \"state\": \"absent\"",
                "+    \"state\": \"directory\"",
                " }",
                ""
            ]
        );
    }

    #[test]
    fn identical_texts_print_nothing() {
        assert!(render(&json!({"before": "a\n", "after": "a\n"})).is_empty());
    }
}
