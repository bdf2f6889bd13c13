//! Where something came from, and how to show it: Ansible 2.19's `Origin:` line with the
//! offending source line, two lines of context and a caret under the column.

use std::fmt;
use std::path::{Path, PathBuf};

/// A position in a source file, 1-based as Ansible prints it (`path:line:col`).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Origin {
    pub path: PathBuf,
    pub line: usize,
    pub col: usize,
    /// For a value Ansible knows no source of (`Origin: <unknown>`): the value as it shows
    /// it instead of source lines (`SourceContext.from_value`), already shortened.
    /// (Boxed: an `Origin` rides inside every load error, which should stay small.)
    pub value: Option<Box<str>>,
}

impl Origin {
    pub fn new(path: impl Into<PathBuf>, line: usize, col: usize) -> Self {
        Origin {
            path: path.into(),
            line,
            col,
            value: None,
        }
    }

    /// The origin of a value without one (a keyword merged from several places), shown as
    /// `Origin: <unknown>` followed by the value's `str()`, shortened as Python's
    /// `textwrap.shorten(width=120)` does.
    pub fn unknown_value(text: &str) -> Self {
        Origin {
            value: Some(shorten(text, MAX_ANNOTATED_WIDTH).into()),
            ..Origin::new("<unknown>", 0, 0)
        }
    }
}

/// Python's `textwrap.shorten`: whitespace collapsed, then as many words as fit in `width`
/// with ` [...]` after them when some had to go.
fn shorten(text: &str, width: usize) -> String {
    const PLACEHOLDER: &str = " [...]";
    let words: Vec<&str> = text.split_whitespace().collect();
    let joined = words.join(" ");
    if joined.chars().count() <= width {
        return joined;
    }
    let mut out = String::new();
    for w in words {
        let extra = if out.is_empty() { 0 } else { 1 } + w.chars().count();
        if out.chars().count() + extra + PLACEHOLDER.len() > width {
            break;
        }
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(w);
    }
    if out.is_empty() {
        PLACEHOLDER.trim_start().to_string()
    } else {
        out + PLACEHOLDER
    }
}

impl fmt::Display for Origin {
    /// `path:line:col`, omitting missing elements from the right as Ansible's `Origin.__str__`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.path.display())?;
        if self.line > 0 {
            write!(f, ":{}", self.line)?;
            if self.col > 0 {
                write!(f, ":{}", self.col)?;
            }
        }
        Ok(())
    }
}

/// How many lines before the target line Ansible shows.
const CONTEXT_LINES: usize = 2;
/// Ansible's maximum width of an annotated line, label included.
const MAX_ANNOTATED_WIDTH: usize = 120;
const TRUNCATION_MARKER: &str = "...";

/// Renders `Origin: ...` followed by the annotated source lines, exactly as ansible-core's
/// `SourceContext.__str__` does. `source` is the file's text; when it is not available the
/// file is read from `origin.path` (and a read failure is reported as Ansible reports it).
pub fn source_context(origin: &Origin, source: Option<&str>) -> String {
    let mut out = format!("Origin: {origin}");
    if let Some(value) = &origin.value {
        out.push_str("\n\n");
        out.push_str(value);
        return out;
    }
    let lines = annotated_lines(origin, source);
    if !lines.is_empty() {
        out.push_str("\n\n");
        out.push_str(&lines.join("\n"));
    }
    out
}

/// The target line of an origin (the line the caret points into), if it can be read.
pub fn target_line(origin: &Origin, source: Option<&str>) -> Option<String> {
    let text = match source {
        Some(s) => s.to_string(),
        None => std::fs::read_to_string(&origin.path).ok()?,
    };
    text.split('\n')
        .nth(origin.line.checked_sub(1)?)
        .map(|l| l.trim_end_matches('\r').to_string())
}

fn annotated_lines(origin: &Origin, source: Option<&str>) -> Vec<String> {
    if origin.line < 1 {
        return Vec::new();
    }
    let owned;
    let text = match source {
        Some(s) => s,
        None => match std::fs::read_to_string(&origin.path) {
            Ok(t) => {
                owned = t;
                &owned
            }
            Err(_) => return vec!["(source not shown: FileNotFoundError)".to_string()],
        },
    };
    let all: Vec<&str> = text.split_inclusive('\n').collect();
    let start = (origin.line - 1).saturating_sub(CONTEXT_LINES);
    if all.len() < origin.line {
        return vec!["(source not shown: file truncated)".to_string()];
    }
    let label_width = origin.line.to_string().len();
    let max_src_len = MAX_ANNOTATED_WIDTH - label_width - 1;
    let mut usable = max_src_len;
    let mut out = Vec::new();
    for (idx, raw) in all[start..origin.line].iter().enumerate() {
        let num = start + idx + 1;
        let mut line: String = raw.trim_end_matches('\n').replace('\t', " ");
        if line.chars().count() > max_src_len {
            line = line
                .chars()
                .take(max_src_len - TRUNCATION_MARKER.len())
                .collect::<String>()
                + TRUNCATION_MARKER;
            usable = max_src_len - TRUNCATION_MARKER.len();
        }
        let sep = if line.is_empty() { "" } else { " " };
        out.push(format!("{num:>label_width$}{sep}{line}"));
    }
    let col = origin.col;
    if col >= 1 && usable >= col {
        let mut marker = format!("column {col}");
        let idx = col - 1;
        marker = if idx + 2 + marker.len() > max_src_len {
            format!(
                "{}{marker} ^",
                " ".repeat(idx.saturating_sub(marker.len() + 1))
            )
        } else {
            format!("{}^ {marker}", " ".repeat(idx))
        };
        out.push(format!("{} {marker}", " ".repeat(label_width)));
    }
    out
}

/// Convenience for callers holding a path and a position.
pub fn render_at(path: &Path, line: usize, col: usize, source: Option<&str>) -> String {
    source_context(&Origin::new(path, line, col), source)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_value_without_origin_is_shown_shortened() {
        let got = source_context(&Origin::unknown_value("[{'A':   1}]"), None);
        assert_eq!(got, "Origin: <unknown>\n\n[{'A': 1}]");
        let long = "word ".repeat(40);
        let shown = Origin::unknown_value(&long)
            .value
            .unwrap_or_default()
            .to_string();
        assert_eq!(shown, format!("{}[...]", "word ".repeat(23)));
        assert!(shown.len() <= 120);
    }

    #[test]
    fn renders_like_ansible_with_two_lines_of_context() {
        let src = "a\n\n  b: 1\n  - name: x\n";
        let got = source_context(&Origin::new("/p/site.yml", 4, 3), Some(src));
        assert_eq!(
            got,
            "Origin: /p/site.yml:4:3\n\n2\n3   b: 1\n4   - name: x\n    ^ column 3"
        );
    }

    #[test]
    fn label_width_follows_the_target_line_number() {
        let src = (1..=12).map(|n| format!("l{n}\n")).collect::<String>();
        let got = source_context(&Origin::new("f", 10, 1), Some(&src));
        assert_eq!(got, "Origin: f:10:1\n\n 8 l8\n 9 l9\n10 l10\n   ^ column 1");
    }

    #[test]
    fn origin_omits_missing_parts() {
        assert_eq!(Origin::new("f", 0, 0).to_string(), "f");
        assert_eq!(Origin::new("f", 3, 0).to_string(), "f:3");
    }
}
