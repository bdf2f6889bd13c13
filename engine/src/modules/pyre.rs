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

/// One piece of a parsed replacement template: text, or the text of a group.
#[derive(Debug, Clone, PartialEq)]
pub enum Piece {
    Text(String),
    Group(usize),
}

/// Python's `re._parser.parse_template`: the template checked against a pattern with
/// `group_count` groups (the whole match counted) before anything is matched, as `re.sub`
/// does, so a bad template fails even where nothing matches. Errors read as Python's
/// `re.error` (`bad escape \D at position 2`); an unknown group name is Python's
/// IndexError, which carries no position.
pub fn parse_template(
    template: &str,
    group_count: usize,
    group_names: &[Option<&str>],
) -> Result<Vec<Piece>, String> {
    let chars: Vec<char> = template.chars().collect();
    let mut pieces = Vec::new();
    let mut text = String::new();
    let mut i = 0;
    let group = |n: usize, at: usize| -> Result<Piece, String> {
        if n >= group_count {
            Err(format!("invalid group reference {n} at position {at}"))
        } else {
            Ok(Piece::Group(n))
        }
    };
    let push_group = |text: &mut String, pieces: &mut Vec<Piece>, p: Piece| {
        if !text.is_empty() {
            pieces.push(Piece::Text(std::mem::take(text)));
        }
        pieces.push(p);
    };
    while i < chars.len() {
        let c = chars[i];
        if c != '\\' {
            text.push(c);
            i += 1;
            continue;
        }
        let at = i;
        let Some(&next) = chars.get(i + 1) else {
            return Err(format!("bad escape (end of pattern) at position {at}"));
        };
        i += 2;
        match next {
            '0'..='9' => {
                let mut digits = next.to_string();
                if let Some(&d) = chars.get(i).filter(|d| d.is_ascii_digit()) {
                    digits.push(d);
                    i += 1;
                }
                if digits.starts_with('0') {
                    // `\0` and `\0NN` are octal escapes in Python.
                    let code = u32::from_str_radix(&digits, 8).unwrap_or(0);
                    text.push(char::from_u32(code).unwrap_or('\0'));
                    continue;
                }
                let n: usize = digits.parse().unwrap_or(0);
                let p = group(n, at + 1)?;
                push_group(&mut text, &mut pieces, p);
            }
            'g' => {
                if chars.get(i) != Some(&'<') {
                    return Err(format!("missing < at position {i}"));
                }
                i += 1;
                let name_at = i;
                let mut name = String::new();
                loop {
                    match chars.get(i) {
                        Some('>') => break,
                        Some(ch) => name.push(*ch),
                        None => {
                            return Err(format!(
                                "missing >, unterminated name at position {name_at}"
                            ))
                        }
                    }
                    i += 1;
                }
                i += 1;
                if name.is_empty() {
                    return Err(format!("missing group name at position {name_at}"));
                }
                let p = if let Ok(n) = name.parse::<usize>() {
                    group(n, name_at)?
                } else if name.chars().all(|c| c.is_alphanumeric() || c == '_')
                    && !name.starts_with(|c: char| c.is_ascii_digit())
                {
                    let n = group_names
                        .iter()
                        .position(|g| *g == Some(name.as_str()))
                        .ok_or_else(|| format!("unknown group name '{name}'"))?;
                    Piece::Group(n)
                } else {
                    return Err(format!(
                        "bad character in group name '{name}' at position {name_at}"
                    ));
                };
                push_group(&mut text, &mut pieces, p);
            }
            'n' | 't' | 'r' | 'f' | 'v' | 'a' | 'b' | '\\' => text.push(match next {
                'n' => '\n',
                't' => '\t',
                'r' => '\r',
                'f' => '\x0c',
                'v' => '\x0b',
                'a' => '\x07',
                'b' => '\x08',
                _ => '\\',
            }),
            c if c.is_ascii_alphabetic() => {
                return Err(format!("bad escape \\{c} at position {at}"));
            }
            other => {
                text.push('\\');
                text.push(other);
            }
        }
    }
    if !text.is_empty() {
        pieces.push(Piece::Text(text));
    }
    Ok(pieces)
}

/// The text a parsed template gives for one match; a group that did not take part in the
/// match gives nothing.
pub fn expand_pieces(caps: &Captures<'_>, pieces: &[Piece]) -> String {
    let mut out = String::new();
    for p in pieces {
        match p {
            Piece::Text(t) => out.push_str(t),
            Piece::Group(n) => {
                if let Some(m) = caps.get(*n) {
                    out.push_str(m.as_str());
                }
            }
        }
    }
    out
}

/// `match.expand(template)`: group references and escapes replaced. A reference to a group
/// that did not take part in the match expands to nothing; one to a group the pattern does
/// not have is an error (`invalid group reference 3 at position 1`), as in Python.
pub fn expand(
    caps: &Captures<'_>,
    template: &str,
    group_names: &[Option<&str>],
) -> Result<String, String> {
    let pieces = parse_template(template, caps.len(), group_names)?;
    Ok(expand_pieces(caps, &pieces))
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
            "invalid group reference 3 at position 1"
        );
        assert_eq!(
            expand_on(r"(a)", "a", r"\g<nope>").unwrap_err(),
            "unknown group name 'nope'"
        );
        assert_eq!(
            expand_on(r"(a)", "a", r"x\d").unwrap_err(),
            "bad escape \\d at position 1"
        );
        // As Python's parse_template: positions of the reference, the name, the '<'.
        let names = [None, None];
        for (template, error) in [
            (r"ab\g<5>", "invalid group reference 5 at position 5"),
            (r"x\15", "invalid group reference 15 at position 2"),
            (r"\g<1", "missing >, unterminated name at position 3"),
            (r"\g", "missing < at position 2"),
            ("\\", "bad escape (end of pattern) at position 0"),
            (r"\g<>", "missing group name at position 3"),
            (r"\g<-1>", "bad character in group name '-1' at position 3"),
            (r"\q\D", "bad escape \\q at position 0"),
        ] {
            assert_eq!(parse_template(template, 2, &names).unwrap_err(), error);
        }
        assert_eq!(
            parse_template(r"\1-\g<0>x", 2, &names).unwrap(),
            vec![
                Piece::Group(1),
                Piece::Text("-".into()),
                Piece::Group(0),
                Piece::Text("x".into())
            ]
        );
    }

    #[test]
    fn python_end_of_text() {
        let re = compile(r"a\Z", false).unwrap();
        assert!(search(&re, "ba"));
        assert!(!search(&re, "ab"));
    }
}
