//! Shell glob patterns (`*`, `?`, `[...]`) for `case`, `${x%pat}`, pathname expansion and `find -name`.

#[derive(Debug, Clone, PartialEq)]
enum P {
    Char(char),
    Any,
    Star,
    Class {
        negated: bool,
        ranges: Vec<(char, char)>,
        named: Vec<String>,
    },
}

/// A compiled glob pattern.
#[derive(Debug, Clone, PartialEq)]
pub struct Pattern(Vec<P>);

impl Pattern {
    /// Builds a pattern from characters each marked `quoted` (quoted characters are literal).
    pub fn from_marked(chars: &[(char, bool)]) -> Pattern {
        let mut out = Vec::new();
        let mut i = 0;
        while i < chars.len() {
            let (c, q) = chars[i];
            if q {
                out.push(P::Char(c));
                i += 1;
                continue;
            }
            match c {
                '*' => out.push(P::Star),
                '?' => out.push(P::Any),
                '\\' if i + 1 < chars.len() => {
                    i += 1;
                    out.push(P::Char(chars[i].0));
                }
                '[' => match parse_class(&chars[i + 1..]) {
                    Some((class, used)) => {
                        out.push(class);
                        i += used;
                    }
                    None => out.push(P::Char('[')),
                },
                _ => out.push(P::Char(c)),
            }
            i += 1;
        }
        Pattern(out)
    }

    /// Builds a pattern from plain text (a backslash quotes the next character).
    pub fn parse(s: &str) -> Pattern {
        let v: Vec<(char, bool)> = s.chars().map(|c| (c, false)).collect();
        Pattern::from_marked(&v)
    }

    /// Whether the pattern has any wildcard (otherwise it only matches its literal text).
    pub fn has_wildcards(&self) -> bool {
        self.0.iter().any(|p| !matches!(p, P::Char(_)))
    }

    /// Whether it starts with a literal `.` (only such patterns match hidden files).
    pub fn starts_with_dot(&self) -> bool {
        matches!(self.0.first(), Some(P::Char('.')))
    }

    /// The literal text (for a pattern without wildcards).
    pub fn literal(&self) -> String {
        self.0
            .iter()
            .filter_map(|p| match p {
                P::Char(c) => Some(*c),
                _ => None,
            })
            .collect()
    }

    /// Whether the whole of `s` matches.
    pub fn matches(&self, s: &str) -> bool {
        let s: Vec<char> = s.chars().collect();
        self.matches_chars(&s)
    }

    fn matches_chars(&self, s: &[char]) -> bool {
        let p = &self.0;
        let (mut pi, mut si) = (0usize, 0usize);
        let mut star: Option<(usize, usize)> = None;
        while si < s.len() {
            if pi < p.len() {
                match &p[pi] {
                    P::Star => {
                        star = Some((pi, si));
                        pi += 1;
                        continue;
                    }
                    other if one(other, s[si]) => {
                        pi += 1;
                        si += 1;
                        continue;
                    }
                    _ => {}
                }
            }
            match star {
                Some((sp, ss)) => {
                    pi = sp + 1;
                    si = ss + 1;
                    star = Some((sp, ss + 1));
                }
                None => return false,
            }
        }
        p[pi..].iter().all(|x| matches!(x, P::Star))
    }

    /// Length in chars of the shortest/longest prefix of `s` that matches.
    pub fn match_prefix(&self, s: &str, longest: bool) -> Option<usize> {
        let cs: Vec<char> = s.chars().collect();
        let mut lens: Box<dyn Iterator<Item = usize>> = if longest {
            Box::new((0..=cs.len()).rev())
        } else {
            Box::new(0..=cs.len())
        };
        lens.find(|&n| self.matches_chars(&cs[..n]))
    }

    /// Length in chars of the shortest/longest suffix of `s` that matches.
    pub fn match_suffix(&self, s: &str, longest: bool) -> Option<usize> {
        let cs: Vec<char> = s.chars().collect();
        let n = cs.len();
        let mut lens: Box<dyn Iterator<Item = usize>> = if longest {
            Box::new((0..=n).rev())
        } else {
            Box::new(0..=n)
        };
        lens.find(|&k| self.matches_chars(&cs[n - k..]))
    }
}

fn one(p: &P, c: char) -> bool {
    match p {
        P::Char(x) => *x == c,
        P::Any => true,
        P::Star => true,
        P::Class {
            negated,
            ranges,
            named,
        } => {
            let hit = ranges.iter().any(|(a, b)| *a <= c && c <= *b)
                || named.iter().any(|n| named_class(n, c));
            hit != *negated
        }
    }
}

fn named_class(n: &str, c: char) -> bool {
    match n {
        "alpha" => c.is_ascii_alphabetic(),
        "digit" => c.is_ascii_digit(),
        "alnum" => c.is_ascii_alphanumeric(),
        "upper" => c.is_ascii_uppercase(),
        "lower" => c.is_ascii_lowercase(),
        "space" => c.is_ascii_whitespace(),
        "blank" => c == ' ' || c == '\t',
        "punct" => c.is_ascii_punctuation(),
        "xdigit" => c.is_ascii_hexdigit(),
        "cntrl" => c.is_ascii_control(),
        "print" => !c.is_ascii_control(),
        "graph" => !c.is_ascii_control() && c != ' ',
        _ => false,
    }
}

/// Parses the inside of `[...]` (after the `[`); returns the class and chars consumed
/// including the closing `]`, or `None` if there is no closing bracket.
fn parse_class(cs: &[(char, bool)]) -> Option<(P, usize)> {
    let mut i = 0;
    let mut negated = false;
    if let Some(&(c, false)) = cs.first() {
        if c == '!' || c == '^' {
            negated = true;
            i = 1;
        }
    }
    let mut ranges = Vec::new();
    let mut named = Vec::new();
    let mut first = true;
    while i < cs.len() {
        let (c, q) = cs[i];
        if c == ']' && !q && !first {
            return Some((
                P::Class {
                    negated,
                    ranges,
                    named,
                },
                i + 1,
            ));
        }
        first = false;
        if c == '[' && !q && cs.get(i + 1).map(|x| x.0) == Some(':') {
            let rest: String = cs[i + 2..].iter().map(|x| x.0).collect();
            if let Some(end) = rest.find(":]") {
                named.push(rest[..end].to_string());
                i += 2 + rest[..end].chars().count() + 2;
                continue;
            }
        }
        if cs.get(i + 1).map(|x| x.0) == Some('-') && cs.get(i + 2).is_some_and(|x| x.0 != ']') {
            ranges.push((c, cs[i + 2].0));
            i += 3;
        } else {
            ranges.push((c, c));
            i += 1;
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn glob_matching() {
        assert!(Pattern::parse("*.conf").matches("a.conf"));
        assert!(!Pattern::parse("*.conf").matches("a.conf.bak"));
        assert!(Pattern::parse("a?c").matches("abc"));
        assert!(Pattern::parse("[a-c]x").matches("bx"));
        assert!(!Pattern::parse("[!a-c]x").matches("bx"));
        assert!(Pattern::parse("[[:digit:]]*").matches("1abc"));
        assert!(Pattern::parse("\\*").matches("*"));
        assert!(!Pattern::parse("\\*").matches("x"));
        assert!(Pattern::parse("[ab").matches("[ab"));
        assert!(Pattern::parse("*").matches(""));
        assert_eq!(
            Pattern::parse(".*").match_suffix("abc.tar.gz", false),
            Some(3)
        );
        assert_eq!(
            Pattern::parse(".*").match_suffix("abc.tar.gz", true),
            Some(7)
        );
        assert_eq!(
            Pattern::parse("*.").match_prefix("abc.tar.gz", false),
            Some(4)
        );
    }
}
