//! Source rewrites for Python behaviour minijinja lacks: list/dict literals become mutable
//! objects when the template mutates something (`acc.append(x)`), and `'fmt' % args` becomes a
//! call to Python's %-formatting. Only code inside `{{ }}` / `{% %}` is touched.

/// Methods that mutate a list or dict in place.
const MUTATORS: &[&str] = &[
    ".append(",
    ".extend(",
    ".insert(",
    ".update(",
    ".pop(",
    ".remove(",
    ".setdefault(",
    ".clear(",
    ".reverse(",
    ".sort(",
];

const KEYWORDS: &[&str] = &[
    "in", "and", "or", "not", "if", "else", "elif", "is", "for", "set", "with", "return", "do",
];

#[derive(Debug, Clone, Copy, PartialEq)]
enum Tok {
    Ident,
    Str,
    Num,
    Punct(u8),
}

#[derive(Debug, Clone, Copy)]
struct Token {
    kind: Tok,
    start: usize,
    end: usize,
}

/// Rewrite `src` if it needs it; `None` when it is fine as it is (the common case).
pub fn rewrite(src: &str) -> Option<String> {
    let mutating = MUTATORS.iter().any(|m| src.contains(m));
    let percent = src.contains('%')
        && (src.contains("' %")
            || src.contains("\" %")
            || src.contains("'%")
            || src.contains("\"%"));
    if !mutating && !percent {
        return None;
    }
    let bytes = src.as_bytes();
    let mut edits: Vec<(usize, usize, &'static str)> = Vec::new();
    let mut i = 0;
    while i + 1 < bytes.len() {
        if bytes[i] == b'{' && (bytes[i + 1] == b'{' || bytes[i + 1] == b'%') {
            let closer = if bytes[i + 1] == b'{' { b'}' } else { b'%' };
            let (tokens, end) = tokenize(src, i + 2, closer);
            let region = &src[i + 2..end.min(src.len())];
            if closer == b'%'
                && region
                    .trim_start()
                    .trim_start_matches('-')
                    .trim_start()
                    .starts_with("raw")
            {
                // skip the raw block entirely
                match src[end..].find("endraw") {
                    Some(off) => {
                        i = end + off + 6;
                        continue;
                    }
                    None => break,
                }
            }
            edits_for(src, &tokens, mutating, &mut edits);
            i = end + 2;
        } else if bytes[i] == b'{' && bytes[i + 1] == b'#' {
            match src[i + 2..].find("#}") {
                Some(off) => i = i + 2 + off + 2,
                None => break,
            }
        } else {
            i += 1;
        }
    }
    if edits.is_empty() {
        return None;
    }
    edits.sort_by_key(|e| (e.0, e.1));
    let mut out = String::with_capacity(src.len() + edits.len() * 10);
    let mut pos = 0;
    for (at, del, text) in edits {
        if at < pos {
            continue;
        }
        out.push_str(&src[pos..at]);
        out.push_str(text);
        pos = at + del;
    }
    out.push_str(&src[pos..]);
    Some(out)
}

/// Tokens of one code region starting at `from`, and the offset of its closing delimiter.
fn tokenize(src: &str, from: usize, closer: u8) -> (Vec<Token>, usize) {
    let b = src.as_bytes();
    let mut toks = Vec::new();
    let mut i = from;
    let mut depth = 0i32;
    while i < b.len() {
        let c = b[i];
        if c == b'-' && i + 2 < b.len() && b[i + 1] == closer && b[i + 2] == b'}' && depth <= 0 {
            return (toks, i + 1);
        }
        if c == closer && i + 1 < b.len() && b[i + 1] == b'}' && depth <= 0 {
            return (toks, i);
        }
        if c.is_ascii_whitespace() {
            i += 1;
        } else if c == b'\'' || c == b'"' {
            let start = i;
            i += 1;
            while i < b.len() && b[i] != c {
                if b[i] == b'\\' {
                    i += 1;
                }
                i += 1;
            }
            i = (i + 1).min(b.len());
            toks.push(Token {
                kind: Tok::Str,
                start,
                end: i,
            });
        } else if c.is_ascii_alphabetic() || c == b'_' {
            let start = i;
            while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_') {
                i += 1;
            }
            toks.push(Token {
                kind: Tok::Ident,
                start,
                end: i,
            });
        } else if c.is_ascii_digit() {
            let start = i;
            while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'.' || b[i] == b'_') {
                i += 1;
            }
            toks.push(Token {
                kind: Tok::Num,
                start,
                end: i,
            });
        } else {
            if c == b'{' || c == b'[' || c == b'(' {
                depth += 1;
            } else if c == b'}' || c == b']' || c == b')' {
                depth -= 1;
            }
            toks.push(Token {
                kind: Tok::Punct(c),
                start: i,
                end: i + 1,
            });
            i += 1;
        }
    }
    (toks, b.len())
}

fn matching(tokens: &[Token], open_idx: usize) -> Option<usize> {
    let mut depth = 0;
    for (j, t) in tokens.iter().enumerate().skip(open_idx) {
        if let Tok::Punct(c) = t.kind {
            match c {
                b'(' | b'[' | b'{' => depth += 1,
                b')' | b']' | b'}' => {
                    depth -= 1;
                    if depth == 0 {
                        return Some(j);
                    }
                }
                _ => {}
            }
        }
    }
    None
}

fn is_operand_end(src: &str, t: &Token) -> bool {
    match t.kind {
        Tok::Ident => !KEYWORDS.contains(&&src[t.start..t.end]),
        Tok::Str | Tok::Num => true,
        Tok::Punct(c) => matches!(c, b')' | b']' | b'}'),
    }
}

/// The index of the last token of the operand starting at `k` (a primary with its postfixes).
fn operand_end(src: &str, tokens: &[Token], k: usize) -> Option<usize> {
    let t = tokens.get(k)?;
    let mut end = match t.kind {
        Tok::Punct(b'(') | Tok::Punct(b'[') | Tok::Punct(b'{') => matching(tokens, k)?,
        Tok::Punct(_) => return None,
        _ => k,
    };
    if t.kind == Tok::Ident || matches!(t.kind, Tok::Punct(b'(')) {
        loop {
            match tokens.get(end + 1).map(|t| t.kind) {
                Some(Tok::Punct(b'.'))
                    if tokens.get(end + 2).map(|t| t.kind) == Some(Tok::Ident) =>
                {
                    end += 2
                }
                Some(Tok::Punct(b'[')) | Some(Tok::Punct(b'(')) => end = matching(tokens, end + 1)?,
                _ => break,
            }
        }
    }
    let _ = src;
    Some(end)
}

fn edits_for(
    src: &str,
    tokens: &[Token],
    mutating: bool,
    edits: &mut Vec<(usize, usize, &'static str)>,
) {
    for (k, t) in tokens.iter().enumerate() {
        match t.kind {
            Tok::Punct(b'[') | Tok::Punct(b'{') if mutating => {
                let literal = match k.checked_sub(1).map(|p| &tokens[p]) {
                    None => true,
                    Some(prev) => !is_operand_end(src, prev),
                };
                if t.kind == Tok::Punct(b'[') && !literal {
                    continue;
                }
                if let Some(close) = matching(tokens, k) {
                    let open = if t.kind == Tok::Punct(b'[') {
                        "__mutlist("
                    } else {
                        "__mutdict("
                    };
                    edits.push((t.start, 0, open));
                    edits.push((tokens[close].end, 0, ")"));
                }
            }
            Tok::Str => {
                if tokens.get(k + 1).map(|t| t.kind) == Some(Tok::Punct(b'%')) {
                    // a `%` right after a string literal is Python's %-formatting
                    if let Some(end) = operand_end(src, tokens, k + 2) {
                        let prev_is_operand = k
                            .checked_sub(1)
                            .map(|p| {
                                is_operand_end(src, &tokens[p])
                                    || tokens[p].kind == Tok::Punct(b'.')
                            })
                            .unwrap_or(false);
                        if prev_is_operand {
                            continue;
                        }
                        edits.push((t.start, 0, "__pyfmt("));
                        edits.push((tokens[k + 1].start, 1, ","));
                        edits.push((tokens[end].end, 0, ")"));
                    }
                }
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::rewrite;

    #[test]
    fn list_literals_become_mutable_when_mutated() {
        let s = "{% set acc = [] %}{% set _ = acc.append(x[0]) %}{{ acc }}";
        assert_eq!(
            rewrite(s).as_deref(),
            Some("{% set acc = __mutlist([]) %}{% set _ = acc.append(x[0]) %}{{ acc }}")
        );
    }

    #[test]
    fn percent_formatting_becomes_a_call() {
        assert_eq!(
            rewrite("{{ '%s=%04d' % ('id', 42) }}").as_deref(),
            Some("{{ __pyfmt('%s=%04d' , ('id', 42)) }}")
        );
        assert_eq!(
            rewrite("{{ '%d' % x.y }}").as_deref(),
            Some("{{ __pyfmt('%d' , x.y) }}")
        );
        assert_eq!(rewrite("{{ 7 % 3 }}"), None);
    }
}
