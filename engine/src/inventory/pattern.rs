//! Host patterns as `InventoryManager` evaluates them: splitting (`split_host_pattern`),
//! ordering (`order_patterns`), subscripts, fnmatch globs and `~regex` (Python `re.match`).

use super::address::parse_address;
use regex::Regex;
use std::sync::LazyLock;

// The `expect`s below cannot fire: the expressions are constants, compiled by the unit tests.
static SUBSCRIPT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^(?s)(.+)\[(?:(-?[0-9]+)|([0-9]+)([:-])([0-9]*))\]$").expect("constant regex")
});
static COLON_SPLIT: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?:[^\s:\[\]]|\[[^\]]*\])+").expect("constant regex"));

/// A pattern that could not be evaluated (Ansible raises `AnsibleError`).
#[derive(Debug, Clone, PartialEq)]
pub struct PatternError(pub String);

impl std::fmt::Display for PatternError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for PatternError {}

/// `split_host_pattern`: `a,b[1], c[2:3] , d` → `[a, b[1], c[2:3], d]`; colons separate only
/// when the whole string is not one address (IPv6, `host:port`, `web[1:3]`).
pub fn split_host_pattern(pattern: &str) -> Vec<String> {
    let parts: Vec<String> = if pattern.contains(',') {
        pattern.split(',').map(str::to_string).collect()
    } else if parse_address(pattern, true).is_ok() {
        vec![pattern.to_string()]
    } else {
        COLON_SPLIT
            .find_iter(pattern)
            .map(|m| m.as_str().to_string())
            .collect()
    };
    parts
        .iter()
        .map(|p| p.trim())
        .filter(|p| !p.is_empty())
        .map(str::to_string)
        .collect()
}

/// `order_patterns`: plain patterns first, then `&` intersections, then `!` exclusions;
/// with no plain pattern, `all` is implied.
pub fn order_patterns(patterns: &[String]) -> Vec<String> {
    let mut regular = Vec::new();
    let mut inter = Vec::new();
    let mut excl = Vec::new();
    for p in patterns {
        if p.is_empty() {
            continue;
        }
        if p.starts_with('!') {
            excl.push(p.clone());
        } else if p.starts_with('&') {
            inter.push(p.clone());
        } else {
            regular.push(p.clone());
        }
    }
    if regular.is_empty() {
        regular.push("all".into());
    }
    regular.extend(inter);
    regular.extend(excl);
    regular
}

/// A `[x]` or `[x:y]` subscript: `(start, end)`, `end == None` for a single index.
pub type Subscript = (i64, Option<i64>);

/// `_split_subscript`: the expression and its optional subscript (never for `~regex`).
/// Also returns the deprecation warning Ansible prints for `[x-y]`.
pub fn split_subscript(pattern: &str) -> (String, Option<Subscript>, Option<String>) {
    if pattern.starts_with('~') {
        return (pattern.to_string(), None, None);
    }
    let Some(c) = SUBSCRIPT.captures(pattern) else {
        return (pattern.to_string(), None, None);
    };
    let expr = c[1].to_string();
    let big = |s: &str| {
        s.parse::<i64>().unwrap_or(if s.starts_with('-') {
            i64::MIN
        } else {
            i64::MAX
        })
    };
    if let Some(idx) = c.get(2) {
        return (expr, Some((big(idx.as_str()), None)), None);
    }
    let start = big(&c[3]);
    let end = if c[5].is_empty() { -1 } else { big(&c[5]) };
    let warn = (&c[4] == "-").then(|| {
        "Use [x:y] inclusive subscripts instead of [x-y] which has been removed".to_string()
    });
    (expr, Some((start, Some(end))), warn)
}

/// `_apply_subscript`, with Python's indexing and slicing rules (`end` is inclusive, `-1`
/// means the last host, and an `end` of 0 selects the single host at `start`).
/// `None` is Python's `IndexError` (a single index past either end).
pub fn apply_subscript<T: Clone>(hosts: &[T], sub: Option<Subscript>) -> Option<Vec<T>> {
    let Some((start, end)) = sub else {
        return Some(hosts.to_vec());
    };
    if hosts.is_empty() {
        return Some(Vec::new());
    }
    let n = hosts.len() as i64;
    match end {
        Some(e) if e != 0 => {
            let e = if e == -1 { n - 1 } else { e };
            let norm = |i: i64| if i < 0 { (i + n).max(0) } else { i.min(n) };
            let (s, stop) = (norm(start), norm(e.saturating_add(1)));
            if s >= stop {
                Some(Vec::new())
            } else {
                Some(hosts[s as usize..stop as usize].to_vec())
            }
        }
        _ => {
            let i = if start < 0 { start + n } else { start };
            if i < 0 || i >= n {
                None
            } else {
                Some(vec![hosts[i as usize].clone()])
            }
        }
    }
}

/// A compiled single pattern: glob (fnmatch) or `~regex`, both anchored at the start as
/// Python's `re.match` is (globs also at the end, by `fnmatch.translate`).
pub enum Matcher {
    Regex(Regex),
    Fancy(fancy_regex::Regex),
}

impl Matcher {
    /// `_match_list`'s compilation step.
    pub fn new(pattern: &str) -> Result<Matcher, PatternError> {
        let bad = || PatternError(format!("Invalid host list pattern: {pattern}"));
        if let Some(re) = pattern.strip_prefix('~') {
            let anchored = format!("^(?:{})", crate::pyre::to_rust(re));
            if let Ok(r) = Regex::new(&anchored) {
                return Ok(Matcher::Regex(r));
            }
            // Look-around and backreferences need the backtracking engine.
            return fancy_regex::Regex::new(&anchored)
                .map(Matcher::Fancy)
                .map_err(|_| bad());
        }
        Regex::new(&fnmatch_translate(pattern))
            .map(Matcher::Regex)
            .map_err(|_| bad())
    }

    pub fn is_match(&self, s: &str) -> bool {
        match self {
            Matcher::Regex(r) => r.is_match(s),
            Matcher::Fancy(r) => r.is_match(s).unwrap_or(false),
        }
    }
}

/// `fnmatch.translate` into a Rust regex (anchored both ends, `.` matching newlines).
pub fn fnmatch_translate(pat: &str) -> String {
    let cs: Vec<char> = pat.chars().collect();
    let mut out = String::from("^(?s:");
    let mut i = 0;
    let n = cs.len();
    while i < n {
        let c = cs[i];
        i += 1;
        match c {
            '*' => {
                while i < n && cs[i] == '*' {
                    i += 1;
                }
                out.push_str(".*");
            }
            '?' => out.push('.'),
            '[' => {
                let mut j = i;
                if j < n && cs[j] == '!' {
                    j += 1;
                }
                if j < n && cs[j] == ']' {
                    j += 1;
                }
                while j < n && cs[j] != ']' {
                    j += 1;
                }
                if j >= n {
                    out.push_str(r"\[");
                } else {
                    let stuff: Vec<char> = cs[i..j].to_vec();
                    i = j + 1;
                    out.push_str(&class(&stuff));
                }
            }
            c => out.push_str(&regex::escape(&c.to_string())),
        }
    }
    out.push_str(")$");
    out
}

/// One `[...]` set of a glob.
fn class(stuff: &[char]) -> String {
    let (negate, body) = match stuff.first() {
        Some('!') => (true, &stuff[1..]),
        _ => (false, stuff),
    };
    if body.is_empty() {
        // `[!]` matches any one character; `[]` cannot occur (']' first is literal).
        return if negate { ".".into() } else { "(?!)".into() };
    }
    let mut items = String::new();
    let mut k = 0;
    while k < body.len() {
        let a = body[k];
        if k + 2 < body.len() && body[k + 1] == '-' {
            let b = body[k + 2];
            if a <= b {
                items.push_str(&format!("{}-{}", esc(a), esc(b)));
            }
            k += 3;
        } else {
            items.push_str(&esc(a));
            k += 1;
        }
    }
    if items.is_empty() {
        return if negate {
            ".".into()
        } else {
            "[^\\s\\S]".into()
        };
    }
    format!("[{}{}]", if negate { "^" } else { "" }, items)
}

fn esc(c: char) -> String {
    if c.is_alphanumeric() || c == '_' {
        c.to_string()
    } else {
        format!("\\x{{{:x}}}", c as u32)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splitting() {
        assert_eq!(
            split_host_pattern("a,b[1], c[2:3] , d"),
            vec!["a", "b[1]", "c[2:3]", "d"]
        );
        assert_eq!(split_host_pattern("g1:&g2:!g3"), vec!["g1", "&g2", "!g3"]);
        assert_eq!(split_host_pattern("web[0:2]"), vec!["web[0:2]"]);
        assert_eq!(split_host_pattern("g3[0]:g1"), vec!["g3[0]", "g1"]);
        assert_eq!(split_host_pattern("fe80::1"), vec!["fe80::1"]);
        assert_eq!(split_host_pattern("host:22"), vec!["host:22"]);
        assert_eq!(
            split_host_pattern("~(web|api)-prod-0[12]"),
            vec!["~(web|api)-prod-0[12]"]
        );
    }

    #[test]
    fn subscripts() {
        let h = ["a", "b", "c"];
        let ap = |p: &str| {
            let (e, s, _) = split_subscript(p);
            (e, apply_subscript(&h, s))
        };
        assert_eq!(ap("g[0]"), ("g".into(), Some(vec!["a"])));
        assert_eq!(ap("g[-1]"), ("g".into(), Some(vec!["c"])));
        assert_eq!(ap("g[0:1]"), ("g".into(), Some(vec!["a", "b"])));
        assert_eq!(ap("g[1:]"), ("g".into(), Some(vec!["b", "c"])));
        assert_eq!(ap("g[2:0]"), ("g".into(), Some(vec!["c"])));
        assert_eq!(ap("g[5]"), ("g".into(), None));
        assert_eq!(ap("g[-2:]").0, "g[-2:]");
    }

    #[test]
    fn globs() {
        let m = |p: &str, s: &str| Matcher::new(p).unwrap().is_match(s);
        assert!(m("*.example.com", "web1.example.com"));
        assert!(!m("*.example.com", "web1.example.org"));
        assert!(m("web[0-9]", "web5"));
        assert!(m("web[!0-9]", "webx"));
        assert!(m("a[", "a["));
        assert!(m("~web\\d", "web1.x"), "re.match anchors at the start only");
        assert!(!m("~eb", "web"));
        assert!(m("~(?=w)web", "web"));
        assert!(m("~a{", "a{"));
        assert!(m("~a{2}", "aa"));
        assert!(m("~xa{,2}y", "xy"));
        assert!(!m("all", "ally"));
    }
}
