//! Python `re` patterns (what Ansible's regex filters, tests, `lineinfile` and `~regex`
//! host patterns take) spelled for fancy-regex, which reads most of Python's syntax as is.
//! One translation for every caller, so a pattern means the same thing everywhere.

/// Rewrites the Python-only spellings: `\Z` (end of text) as `\z`, `(?P=name)` as
/// `\k<name>`, `{,n}` as `{0,n}`, a `{` that starts no repetition as a literal `\{`, and a
/// backslash before a character that is not an ASCII letter or digit as that character
/// itself (Python reads `\é` or `\-` as the character; the Rust engines reject some).
pub fn to_rust(re: &str) -> String {
    let cs: Vec<char> = re.chars().collect();
    let mut out = String::with_capacity(re.len());
    let mut i = 0;
    while i < cs.len() {
        let c = cs[i];
        if c == '\\' && i + 1 < cs.len() {
            match cs[i + 1] {
                'Z' => out.push_str(r"\z"),
                n if n.is_ascii_alphanumeric() => {
                    out.push('\\');
                    out.push(n);
                }
                n => out.push_str(&regex::escape(&n.to_string())),
            }
            i += 2;
            continue;
        }
        if c == '(' && cs[i..].starts_with(&['(', '?', 'P', '=']) {
            if let Some(close) = cs[i..].iter().position(|c| *c == ')') {
                let name: String = cs[i + 4..i + close].iter().collect();
                out.push_str(&format!(r"\k<{name}>"));
                i += close + 1;
                continue;
            }
        }
        if c == '{' && cs.get(i + 1) == Some(&',') && is_quantifier(&cs[i..]) {
            // `{,n}` is Python's spelling of `{0,n}`.
            out.push_str("{0");
            i += 1;
            continue;
        }
        if c == '{' && !is_quantifier(&cs[i..]) {
            // Python reads a `{` that does not start `{m}`, `{m,}`, `{,n}` or `{m,n}` literally.
            out.push_str(r"\{");
            i += 1;
            continue;
        }
        out.push(c);
        i += 1;
    }
    out
}

/// Whether `s` starts with a Python repetition quantifier (`{m}`, `{m,}`, `{,n}`, `{m,n}`).
fn is_quantifier(s: &[char]) -> bool {
    let Some(close) = s.iter().position(|c| *c == '}') else {
        return false;
    };
    let inner: String = s[1..close].iter().collect();
    let (a, b) = match inner.split_once(',') {
        Some((a, b)) => (a, Some(b)),
        None => (inner.as_str(), None),
    };
    let digits = |x: &str| x.chars().all(|c| c.is_ascii_digit());
    match b {
        None => !a.is_empty() && digits(a),
        Some(b) => digits(a) && digits(b),
    }
}

#[cfg(test)]
mod tests {
    use super::to_rust;

    fn matches(py: &str, text: &str) -> bool {
        fancy_regex::Regex::new(&to_rust(py))
            .unwrap_or_else(|e| panic!("{py:?} -> {:?}: {e}", to_rust(py)))
            .is_match(text)
            .unwrap()
    }

    #[test]
    fn python_only_spellings() {
        assert_eq!(to_rust(r"a\Z"), r"a\z");
        assert_eq!(to_rust(r"(?P<w>\w)(?P=w)"), r"(?P<w>\w)\k<w>");
        assert_eq!(to_rust("x{,2}"), "x{0,2}");
        assert_eq!(to_rust("{a}"), r"\{a}");
        assert_eq!(to_rust(r"\d{2}"), r"\d{2}");
    }

    #[test]
    fn an_escaped_non_ascii_character_is_that_character() {
        // This once sliced the two-byte é in half and panicked.
        assert!(matches(r"a\éb", "aéb"));
        assert!(matches(r"\ü\-\ü", "ü-ü"));
        assert!(!matches(r"\é", "e"));
    }

    #[test]
    fn a_trailing_backslash_is_left_for_the_engine_to_reject() {
        assert_eq!(to_rust("a\\"), "a\\");
    }
}
