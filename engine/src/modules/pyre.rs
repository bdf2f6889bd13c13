//! Python's `re` where modules need it (lineinfile, replace, find, assemble, wait_for):
//! compiling a pattern written for Python and expanding a replacement template the way
//! `match.expand` does (`\1`, `\g<name>`, `\g<1>`, `\n`).

use fancy_regex::{Captures, Regex};

/// Compiles a Python pattern; `multiline` is `re.MULTILINE`. The error is the text Python's
/// `re.error` would give as closely as the engine knows it.
pub fn compile(pattern: &str, multiline: bool) -> Result<Regex, String> {
    // Python-only spellings (`\Z`, `(?P=name)`, `{,n}`, `\é`) as the engine reads them.
    let translated = crate::pyre::to_rust(pattern);
    let src = if multiline {
        format!("(?m){translated}")
    } else {
        translated
    };
    Regex::new(&src).map_err(|e| e.to_string())
}

/// Whether `re` matches somewhere in `text` (`re.search`); an engine error (backtracking
/// limit) counts as no match.
pub fn search(re: &Regex, text: &str) -> bool {
    re.is_match(text).unwrap_or(false)
}

/// `match.expand(template)`: group references and escapes replaced. A reference to a group
/// that did not take part in the match expands to nothing; one to a group the pattern does
/// not have is an error (`invalid group reference 3`), as in Python.
pub fn expand(
    caps: &Captures<'_>,
    template: &str,
    group_names: &[Option<&str>],
) -> Result<String, String> {
    let mut out = String::new();
    let mut chars = template.chars().peekable();
    let group_count = caps.len();
    let by_index = |i: usize, out: &mut String| -> Result<(), String> {
        if i >= group_count {
            return Err(format!("invalid group reference {i}"));
        }
        if let Some(m) = caps.get(i) {
            out.push_str(m.as_str());
        }
        Ok(())
    };
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        let Some(&next) = chars.peek() else {
            return Err("bad escape (end of pattern)".into());
        };
        match next {
            '0'..='9' => {
                chars.next();
                let mut digits = next.to_string();
                if let Some(&d) = chars.peek() {
                    if d.is_ascii_digit() {
                        digits.push(d);
                        chars.next();
                    }
                }
                if digits.starts_with('0') {
                    // `\0` and `\0NN` are octal escapes in Python.
                    let code = u32::from_str_radix(&digits, 8).unwrap_or(0);
                    out.push(char::from_u32(code).unwrap_or('\0'));
                    continue;
                }
                let i: usize = digits.parse().unwrap_or(0);
                by_index(i, &mut out)?;
            }
            'g' => {
                chars.next();
                if chars.next() != Some('<') {
                    return Err("missing <".into());
                }
                let mut name = String::new();
                loop {
                    match chars.next() {
                        Some('>') => break,
                        Some(ch) => name.push(ch),
                        None => return Err("missing >, unterminated name".into()),
                    }
                }
                if let Ok(i) = name.parse::<usize>() {
                    by_index(i, &mut out)?;
                } else {
                    let i = group_names
                        .iter()
                        .position(|n| *n == Some(name.as_str()))
                        .ok_or_else(|| format!("unknown group name '{name}'"))?;
                    by_index(i, &mut out)?;
                }
            }
            'n' | 't' | 'r' | 'f' | 'v' | 'a' | 'b' | '\\' => {
                chars.next();
                out.push(match next {
                    'n' => '\n',
                    't' => '\t',
                    'r' => '\r',
                    'f' => '\x0c',
                    'v' => '\x0b',
                    'a' => '\x07',
                    'b' => '\x08',
                    _ => '\\',
                });
            }
            c if c.is_ascii_alphabetic() => {
                return Err(format!("bad escape \\{c}"));
            }
            _ => out.push('\\'),
        }
    }
    Ok(out)
}

/// The pattern's group names by index (index 0 is the whole match).
pub fn group_names(re: &Regex) -> Vec<Option<&str>> {
    re.capture_names().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn expand_on(pattern: &str, text: &str, template: &str) -> Result<String, String> {
        let re = compile(pattern, false).unwrap();
        let caps = re.captures(text).unwrap().unwrap();
        expand(&caps, template, &group_names(&re))
    }

    #[test]
    fn numbered_and_named_groups() {
        assert_eq!(expand_on(r"(\w+)=(\w+)", "a=b", r"\2=\1").unwrap(), "b=a");
        assert_eq!(
            expand_on(
                r"(?P<key>\w+)=(?P<val>\w+)",
                "a=b",
                r"\g<val>:\g<key>:\g<1>"
            )
            .unwrap(),
            "b:a:a"
        );
        assert_eq!(expand_on(r"(a)", "a", r"x\ty\\").unwrap(), "x\ty\\");
    }

    #[test]
    fn bad_references_are_errors() {
        assert_eq!(
            expand_on(r"(a)", "a", r"\3").unwrap_err(),
            "invalid group reference 3"
        );
        assert_eq!(
            expand_on(r"(a)", "a", r"\g<nope>").unwrap_err(),
            "unknown group name 'nope'"
        );
        assert_eq!(expand_on(r"(a)", "a", r"\d").unwrap_err(), "bad escape \\d");
    }

    #[test]
    fn python_end_of_text() {
        let re = compile(r"a\Z", false).unwrap();
        assert!(search(&re, "ba"));
        assert!(!search(&re, "ab"));
    }
}
