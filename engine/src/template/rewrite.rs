//! Source rewrites for Python behaviour minijinja lacks: list/dict literals become mutable
//! objects when the template mutates something (`acc.append(x)`), `'fmt' % args` becomes a
//! call to Python's %-formatting, and the divisor of `/` and `//` is checked for zero (Python
//! raises ZeroDivisionError where minijinja gives infinity). Only code inside `{{ }}` /
//! `{% %}` is touched.

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
///
/// `escape_backslashes` is Ansible's lexer rule for templates that come from YAML (task args and
/// variables, not template files or conditionals): backslashes in string constants inside
/// `{{ }}` are literal, so `'\1'` stays a backreference instead of becoming `\x01`.
pub fn rewrite(src: &str, escape_backslashes: bool) -> Option<String> {
    let escape = escape_backslashes && src.contains('\\');
    let mutating = MUTATORS.iter().any(|m| src.contains(m));
    let percent = src.contains('%')
        && (src.contains("' %")
            || src.contains("\" %")
            || src.contains("'%")
            || src.contains("\"%"));
    // tuples only differ from lists for `type_debug`, so literals become tuples only then
    let tuples = src.contains("type_debug");
    let dividing = src.contains('/');
    if !mutating && !percent && !escape && !tuples && !dividing {
        return None;
    }
    let bytes = src.as_bytes();
    let mut edits: Vec<(usize, usize, String)> = Vec::new();
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
            if tuples {
                tuple_edits(src, &tokens, &mut edits);
            }
            if dividing {
                divisor_edits(src, &tokens, &mut edits);
            }
            if escape && closer == b'}' {
                for t in tokens.iter().filter(|t| t.kind == Tok::Str) {
                    let text = &src[t.start..t.end];
                    if text.contains('\\') {
                        edits.push((t.start, t.end - t.start, text.replace('\\', "\\\\")));
                    }
                }
            }
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
        out.push_str(&text);
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

fn edits_for(src: &str, tokens: &[Token], mutating: bool, edits: &mut Vec<(usize, usize, String)>) {
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
                    edits.push((t.start, 0, open.to_string()));
                    edits.push((tokens[close].end, 0, ")".to_string()));
                }
            }
            Tok::Str if tokens.get(k + 1).map(|t| t.kind) == Some(Tok::Punct(b'%')) => {
                // a `%` right after a string literal is Python's %-formatting
                if let Some(end) = operand_end(src, tokens, k + 2) {
                    let prev_is_operand = k
                        .checked_sub(1)
                        .map(|p| {
                            is_operand_end(src, &tokens[p]) || tokens[p].kind == Tok::Punct(b'.')
                        })
                        .unwrap_or(false);
                    if prev_is_operand {
                        continue;
                    }
                    edits.push((t.start, 0, "__pyfmt(".to_string()));
                    edits.push((tokens[k + 1].start, 1, ",".to_string()));
                    edits.push((tokens[end].end, 0, ")".to_string()));
                }
            }
            _ => {}
        }
    }
}

/// The index of the last token of the unary operand starting at `k`, as Jinja parses the right
/// side of `/`: signs, a primary with its postfixes (`.name`, `[...]`, calls), its filters
/// (`| name(args)`, dotted names included) and a `** operand`.
fn unary_end(src: &str, tokens: &[Token], mut k: usize) -> Option<usize> {
    while matches!(tokens.get(k)?.kind, Tok::Punct(b'-') | Tok::Punct(b'+')) {
        k += 1;
    }
    let mut end = operand_end(src, tokens, k)?;
    let kind = |i: usize| tokens.get(i).map(|t| t.kind);
    let adjacent = |a: usize, b: usize| match (tokens.get(a), tokens.get(b)) {
        (Some(x), Some(y)) => x.end == y.start,
        _ => false,
    };
    loop {
        match kind(end + 1) {
            Some(Tok::Punct(b'.')) if kind(end + 2) == Some(Tok::Ident) => end += 2,
            Some(Tok::Punct(b'[')) | Some(Tok::Punct(b'(')) => end = matching(tokens, end + 1)?,
            Some(Tok::Punct(b'|')) if kind(end + 2) == Some(Tok::Ident) => {
                end += 2;
                while kind(end + 1) == Some(Tok::Punct(b'.')) && kind(end + 2) == Some(Tok::Ident) {
                    end += 2;
                }
            }
            Some(Tok::Punct(b'*'))
                if kind(end + 2) == Some(Tok::Punct(b'*')) && adjacent(end + 1, end + 2) =>
            {
                end = unary_end(src, tokens, end + 3)?;
            }
            _ => break,
        }
    }
    Some(end)
}

/// The divisor of each `/` and `//` becomes `__pydivisor(divisor, 'op')`, which raises
/// Python's ZeroDivisionError for a zero (minijinja gives infinity for `/`, and says
/// "unable to calculate" for an integer `//`).
fn divisor_edits(src: &str, tokens: &[Token], edits: &mut Vec<(usize, usize, String)>) {
    let is_slash = |i: usize| tokens.get(i).map(|t| t.kind) == Some(Tok::Punct(b'/'));
    let mut k = 0;
    while k < tokens.len() {
        if !is_slash(k) {
            k += 1;
            continue;
        }
        let floor = is_slash(k + 1) && tokens[k].end == tokens[k + 1].start;
        let operand = if floor { k + 2 } else { k + 1 };
        if let Some(end) = unary_end(src, tokens, operand) {
            let op = if floor { "//" } else { "/" };
            edits.push((tokens[operand].start, 0, "__pydivisor(".to_string()));
            edits.push((tokens[end].end, 0, format!(", '{op}')")));
        }
        k = operand;
    }
}

/// `(a, b)` / `()` literals (not calls) become `__tuple([a, b])`.
fn tuple_edits(src: &str, tokens: &[Token], edits: &mut Vec<(usize, usize, String)>) {
    for (k, t) in tokens.iter().enumerate() {
        if t.kind != Tok::Punct(b'(') {
            continue;
        }
        let call = k
            .checked_sub(1)
            .map(|p| is_operand_end(src, &tokens[p]))
            .unwrap_or(false);
        if call {
            continue;
        }
        let Some(close) = matching(tokens, k) else {
            continue;
        };
        let mut depth = 0;
        let mut comma = close == k + 1;
        for tok in &tokens[k + 1..close] {
            match tok.kind {
                Tok::Punct(b'(') | Tok::Punct(b'[') | Tok::Punct(b'{') => depth += 1,
                Tok::Punct(b')') | Tok::Punct(b']') | Tok::Punct(b'}') => depth -= 1,
                Tok::Punct(b',') if depth == 0 => comma = true,
                _ => {}
            }
        }
        if comma {
            edits.push((t.start, 1, "__tuple([".to_string()));
            edits.push((tokens[close].start, 1, "])".to_string()));
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
            rewrite(s, true).as_deref(),
            Some("{% set acc = __mutlist([]) %}{% set _ = acc.append(x[0]) %}{{ acc }}")
        );
    }

    #[test]
    fn percent_formatting_becomes_a_call() {
        assert_eq!(
            rewrite("{{ '%s=%04d' % ('id', 42) }}", true).as_deref(),
            Some("{{ __pyfmt('%s=%04d' , ('id', 42)) }}")
        );
        assert_eq!(
            rewrite("{{ '%d' % x.y }}", true).as_deref(),
            Some("{{ __pyfmt('%d' , x.y) }}")
        );
        assert_eq!(rewrite("{{ 7 % 3 }}", true), None);
        assert_eq!(
            rewrite(r"{{ '\1' }}{% set x = '\n' %}", true).as_deref(),
            Some(r"{{ '\\1' }}{% set x = '\n' %}")
        );
        assert_eq!(rewrite(r"{{ '\1' }}", false), None);
    }

    #[test]
    fn divisors_are_checked_for_zero() {
        assert_eq!(
            rewrite("{{ 5 / 0 | int }}", false).as_deref(),
            Some("{{ 5 / __pydivisor(0 | int, '/') }}")
        );
        assert_eq!(
            rewrite("{{ a // -b.c[0] ** 2 + 1 }}", false).as_deref(),
            Some("{{ a // __pydivisor(-b.c[0] ** 2, '//') + 1 }}")
        );
        assert_eq!(
            rewrite("{{ x / (y / z) | ansible.builtin.int(base=2) }}", false).as_deref(),
            Some("{{ x / __pydivisor((y / __pydivisor(z, '/')) | ansible.builtin.int(base=2), '/') }}")
        );
        // A slash in a string or outside the delimiters is not a division.
        assert_eq!(rewrite("/etc/{{ 'a/b' }}", false), None);
    }
}
