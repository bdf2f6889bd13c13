//! Python's `ast.literal_eval` and `shlex.split(comments=True)`, as the INI inventory uses them.
//!
//! INI values are typed by handing the raw text to `literal_eval`: whatever Python can read as a
//! literal becomes that value (`5` → int, `'["a"]'` → list, `False` → bool); anything else stays
//! the original string. Tuples and sets become lists, complex numbers and `...` become strings,
//! exactly as `ini.py`'s `_parse_recursive_coerce_types_and_tag` does.

use serde_json::{Map, Number, Value};

/// Splits a host line the way `shlex.split(line, comments=True)` (POSIX mode) does.
pub fn shlex_split(line: &str) -> Result<Vec<String>, String> {
    shlex_split_opts(line, true)
}

/// `shlex.split(line, comments=comments)` in POSIX mode. With `comments` false, `#` is an
/// ordinary character (what the `command` module's `shlex.split(args)` does).
pub fn shlex_split_opts(line: &str, comments: bool) -> Result<Vec<String>, String> {
    #[derive(PartialEq, Clone, Copy)]
    enum St {
        Space,
        Word,
        Quote(char),
        Escape(Esc),
    }
    #[derive(PartialEq, Clone, Copy)]
    enum Esc {
        Word,
        InDouble,
    }
    let mut out = Vec::new();
    let mut tok = String::new();
    let mut quoted = false;
    let mut st = St::Space;
    let mut chars = line.chars();
    loop {
        let c = chars.next();
        match st {
            St::Space => match c {
                None => break,
                Some(' ' | '\t' | '\r' | '\n') => {}
                Some('#') if comments => break,
                Some('\\') => st = St::Escape(Esc::Word),
                Some(q @ ('\'' | '"')) => {
                    st = St::Quote(q);
                }
                Some(ch) => {
                    tok.push(ch);
                    st = St::Word;
                }
            },
            St::Word => match c {
                None => break,
                Some(' ' | '\t' | '\r' | '\n') => {
                    out.push(std::mem::take(&mut tok));
                    quoted = false;
                    st = St::Space;
                }
                Some('#') if comments => {
                    // A comment ends the line even in the middle of a word.
                    st = St::Space;
                    break;
                }
                Some(q @ ('\'' | '"')) => st = St::Quote(q),
                Some('\\') => st = St::Escape(Esc::Word),
                Some(ch) => tok.push(ch),
            },
            St::Quote(q) => {
                quoted = true;
                match c {
                    None => return Err("No closing quotation".into()),
                    Some(ch) if ch == q => st = St::Word,
                    Some('\\') if q == '"' => st = St::Escape(Esc::InDouble),
                    Some(ch) => tok.push(ch),
                }
            }
            St::Escape(from) => match c {
                None => return Err("No escaped character".into()),
                Some(ch) => {
                    if from == Esc::InDouble && ch != '"' && ch != '\\' {
                        tok.push('\\');
                    }
                    tok.push(ch);
                    st = if from == Esc::InDouble {
                        St::Quote('"')
                    } else {
                        St::Word
                    };
                }
            },
        }
    }
    if st == St::Word || !tok.is_empty() || quoted {
        out.push(tok);
    }
    Ok(out)
}

/// The outcome of `literal_eval` as `ini.py` uses it.
pub enum Literal {
    /// Python read a literal: this is its (coerced) value.
    Value(Value),
    /// `ValueError`/`SyntaxError`: Ansible keeps the text as a string.
    NotLiteral,
}

/// `ast.literal_eval(text)`; `Err` only for errors Ansible does not catch (unhashable keys).
pub fn literal_eval(text: &str) -> Result<Literal, String> {
    let src = text.trim_start_matches([' ', '\t']);
    // Fast paths for the common shapes (plain decimal numbers, bare words), which are most
    // values in large inventories.
    let bytes = src.as_bytes();
    if !bytes.is_empty()
        && bytes.len() < 19
        && bytes.iter().all(u8::is_ascii_digit)
        && (bytes[0] != b'0' || bytes.len() == 1)
    {
        if let Ok(n) = src.parse::<i64>() {
            return Ok(Literal::Value(Value::from(n)));
        }
    }
    if bytes.first().is_some_and(|b| b.is_ascii_alphabetic())
        && bytes
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || *b == b'_')
        && !matches!(src, "True" | "False" | "None")
        && !(bytes.len() <= 2 && matches!(bytes[0] | 0x20, b'r' | b'u' | b'b' | b'f'))
    {
        return Ok(Literal::NotLiteral);
    }
    let toks = match tokenize(src) {
        Some(t) => t,
        None => return Ok(Literal::NotLiteral),
    };
    let mut p = Parser {
        toks,
        pos: 0,
        depth: 0,
    };
    match p.top() {
        Ok(Some(v)) if p.pos == p.toks.len() => Ok(Literal::Value(v.into_json())),
        Ok(_) => Ok(Literal::NotLiteral),
        Err(PErr::Syntax) => Ok(Literal::NotLiteral),
        Err(PErr::Fatal(m)) => Err(m),
    }
}

/// Convenience: the typed value Ansible stores for an INI value.
pub fn ini_value(text: &str) -> Result<Value, String> {
    Ok(match literal_eval(text)? {
        Literal::Value(v) => v,
        Literal::NotLiteral => Value::String(text.to_string()),
    })
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Int(String),
    Float(f64),
    Imag(f64),
    Str(String, bool),
    Name(String),
    Op(char),
    Ellipsis,
}

fn tokenize(s: &str) -> Option<Vec<Tok>> {
    let cs: Vec<char> = s.chars().collect();
    let mut i = 0;
    let mut out = Vec::new();
    while i < cs.len() {
        let c = cs[i];
        if c == ' ' || c == '\t' || c == '\x0c' {
            i += 1;
            continue;
        }
        if c == '#' {
            break;
        }
        if c == '\0' || c == '\n' || c == '\r' {
            return None;
        }
        if c == '.' && cs.get(i + 1) == Some(&'.') && cs.get(i + 2) == Some(&'.') {
            out.push(Tok::Ellipsis);
            i += 3;
            continue;
        }
        if c.is_ascii_digit() || (c == '.' && cs.get(i + 1).is_some_and(|d| d.is_ascii_digit())) {
            let (t, n) = number(&cs[i..])?;
            out.push(t);
            i += n;
            continue;
        }
        if c.is_alphabetic() || c == '_' {
            let start = i;
            while i < cs.len() && (cs[i].is_alphanumeric() || cs[i] == '_') {
                i += 1;
            }
            let word: String = cs[start..i].iter().collect();
            if i < cs.len() && (cs[i] == '\'' || cs[i] == '"') && word.len() <= 2 {
                let lw = word.to_ascii_lowercase();
                let valid = ["r", "u", "b", "br", "rb", "f", "fr", "rf"].contains(&lw.as_str());
                if !valid {
                    return None;
                }
                let (val, n) = string_lit(&cs[i..], lw.contains('r'), lw.contains('b'))?;
                if lw.contains('f') {
                    // f-strings are JoinedStr nodes: literal_eval rejects them.
                    out.push(Tok::Name("<fstring>".into()));
                } else {
                    out.push(Tok::Str(val, lw.contains('b')));
                }
                i += n;
                continue;
            }
            out.push(Tok::Name(word));
            continue;
        }
        if c == '\'' || c == '"' {
            let (val, n) = string_lit(&cs[i..], false, false)?;
            out.push(Tok::Str(val, false));
            i += n;
            continue;
        }
        if "[](){},:+-".contains(c) {
            out.push(Tok::Op(c));
            i += 1;
            continue;
        }
        if "*/%<>=!&|^~@.;".contains(c) {
            // Valid Python operators, never a literal: ValueError or SyntaxError alike.
            return None;
        }
        return None;
    }
    Some(out)
}

fn digits_us(cs: &[char], i: &mut usize, ok: impl Fn(char) -> bool) -> Option<String> {
    let mut s = String::new();
    let mut last_us = true;
    while *i < cs.len() && (ok(cs[*i]) || cs[*i] == '_') {
        if cs[*i] == '_' {
            if last_us {
                return None;
            }
            last_us = true;
        } else {
            s.push(cs[*i]);
            last_us = false;
        }
        *i += 1;
    }
    if last_us && !s.is_empty() {
        return None;
    }
    Some(s)
}

fn number(cs: &[char]) -> Option<(Tok, usize)> {
    let mut i = 0;
    if cs[0] == '0' && cs.len() > 1 && "xXoObB".contains(cs[1]) {
        let radix = match cs[1].to_ascii_lowercase() {
            'x' => 16,
            'o' => 8,
            _ => 2,
        };
        i = 2;
        if cs.get(2) == Some(&'_') {
            i = 3;
        }
        let d = digits_us(cs, &mut i, |c| c.is_digit(radix))?;
        if d.is_empty() || cs.get(i).is_some_and(|c| c.is_alphanumeric() || *c == '.') {
            return None;
        }
        let v = u128::from_str_radix(&d, radix).ok()?;
        return Some((Tok::Int(v.to_string()), i));
    }
    let int_part = digits_us(cs, &mut i, |c| c.is_ascii_digit())?;
    let mut is_float = false;
    let mut text = int_part.clone();
    if i < cs.len() && cs[i] == '.' {
        is_float = true;
        i += 1;
        text.push('.');
        if i < cs.len() && cs[i].is_ascii_digit() {
            text.push_str(&digits_us(cs, &mut i, |c| c.is_ascii_digit())?);
        }
    }
    if i < cs.len() && (cs[i] == 'e' || cs[i] == 'E') {
        let mut j = i + 1;
        let mut e = String::from("e");
        if j < cs.len() && (cs[j] == '+' || cs[j] == '-') {
            e.push(cs[j]);
            j += 1;
        }
        if j < cs.len() && cs[j].is_ascii_digit() {
            e.push_str(&digits_us(cs, &mut j, |c| c.is_ascii_digit())?);
            text.push_str(&e);
            is_float = true;
            i = j;
        } else {
            return None;
        }
    }
    if i < cs.len() && (cs[i] == 'j' || cs[i] == 'J') {
        let f: f64 = text.parse().ok()?;
        return Some((Tok::Imag(f), i + 1));
    }
    if i < cs.len() && (cs[i].is_alphanumeric() || cs[i] == '_') {
        return None;
    }
    if is_float {
        let t = if text.starts_with('.') {
            format!("0{text}")
        } else {
            text
        };
        return Some((Tok::Float(t.parse().ok()?), i));
    }
    // Decimal integers may not have leading zeros (Python 3), except zero itself.
    if int_part.len() > 1 && int_part.starts_with('0') && int_part.chars().any(|c| c != '0') {
        return None;
    }
    Some((Tok::Int(int_part.trim_start_matches('0').to_string()), i))
}

fn string_lit(cs: &[char], raw: bool, bytes: bool) -> Option<(String, usize)> {
    let q = cs[0];
    let triple = cs.len() >= 3 && cs[1] == q && cs[2] == q;
    let mut i = if triple { 3 } else { 1 };
    let mut out = String::new();
    loop {
        if i >= cs.len() {
            return None;
        }
        let c = cs[i];
        if c == q {
            if !triple {
                return Some((out, i + 1));
            }
            if i + 2 < cs.len() && cs[i + 1] == q && cs[i + 2] == q {
                return Some((out, i + 3));
            }
        }
        if bytes && !c.is_ascii() {
            return None;
        }
        if c == '\\' {
            let n = *cs.get(i + 1)?;
            if raw {
                out.push('\\');
                out.push(n);
                i += 2;
                continue;
            }
            i += 2;
            match n {
                '\\' => out.push('\\'),
                '\'' => out.push('\''),
                '"' => out.push('"'),
                'a' => out.push('\x07'),
                'b' => out.push('\x08'),
                'f' => out.push('\x0c'),
                'n' => out.push('\n'),
                'r' => out.push('\r'),
                't' => out.push('\t'),
                'v' => out.push('\x0b'),
                '0'..='7' => {
                    let mut v = n.to_digit(8)?;
                    let mut k = 0;
                    while k < 2 && i < cs.len() && cs[i].is_digit(8) {
                        v = v * 8 + cs[i].to_digit(8)?;
                        i += 1;
                        k += 1;
                    }
                    out.push(char::from_u32(v)?);
                }
                'x' | 'u' | 'U' if !(bytes && n != 'x') => {
                    let len = match n {
                        'x' => 2,
                        'u' => 4,
                        _ => 8,
                    };
                    let hex: String = cs.get(i..i + len)?.iter().collect();
                    if hex.len() != len || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
                        return None;
                    }
                    out.push(char::from_u32(u32::from_str_radix(&hex, 16).ok()?)?);
                    i += len;
                }
                'N' if !bytes => return None,
                other => {
                    out.push('\\');
                    out.push(other);
                }
            }
            continue;
        }
        out.push(c);
        i += 1;
    }
}

#[derive(Debug, Clone)]
enum Py {
    Int(String, bool),
    Float(f64),
    Complex(f64, f64),
    Str(String),
    Bytes(String),
    Bool(bool),
    None,
    Ellipsis,
    List(Vec<Py>),
    Dict(Vec<(Py, Py)>),
}

enum PErr {
    Syntax,
    Fatal(String),
}

struct Parser {
    toks: Vec<Tok>,
    pos: usize,
    depth: usize,
}

impl Py {
    fn hashable(&self) -> Result<(), PErr> {
        match self {
            Py::List(_) => Err(PErr::Fatal("unhashable type: 'list'".into())),
            Py::Dict(_) => Err(PErr::Fatal("unhashable type: 'dict'".into())),
            _ => Ok(()),
        }
    }

    fn key_string(&self) -> String {
        match self.clone().into_json() {
            Value::String(s) => s,
            Value::Null => "null".into(),
            other => other.to_string(),
        }
    }

    fn into_json(self) -> Value {
        match self {
            Py::Int(digits, neg) => {
                let s = if digits.is_empty() {
                    "0".to_string()
                } else {
                    digits
                };
                if let Ok(u) = s.parse::<u64>() {
                    if neg {
                        if u <= i64::MAX as u64 + 1 {
                            return Value::Number(Number::from((u as i128).wrapping_neg() as i64));
                        }
                    } else {
                        return Value::Number(Number::from(u));
                    }
                }
                // Beyond 64 bits: the nearest float (Python keeps the exact integer).
                let f: f64 = s.parse().unwrap_or(0.0);
                float_json(if neg { -f } else { f })
            }
            Py::Float(f) => float_json(f),
            Py::Complex(re, im) => Value::String(complex_str(re, im)),
            Py::Str(s) | Py::Bytes(s) => Value::String(s),
            Py::Bool(b) => Value::Bool(b),
            Py::None => Value::Null,
            Py::Ellipsis => Value::String("...".into()),
            Py::List(v) => Value::Array(v.into_iter().map(Py::into_json).collect()),
            Py::Dict(kv) => {
                let mut m = Map::new();
                for (k, v) in kv {
                    m.insert(k.key_string(), v.into_json());
                }
                Value::Object(m)
            }
        }
    }
}

fn float_json(f: f64) -> Value {
    match Number::from_f64(f) {
        Some(n) => Value::Number(n),
        // Python's json writes Infinity/NaN; JSON values cannot hold them, keep the text.
        None => Value::String(if f.is_nan() {
            "nan".into()
        } else if f > 0.0 {
            "inf".into()
        } else {
            "-inf".into()
        }),
    }
}

fn py_float_repr(f: f64) -> String {
    if f.fract() == 0.0 && f.abs() < 1e16 {
        format!("{}", f as i64)
    } else {
        format!("{f}")
    }
}

fn complex_str(re: f64, im: f64) -> String {
    if re == 0.0 && re.is_sign_positive() {
        format!("{}j", py_float_repr(im))
    } else {
        let sign = if im < 0.0 || (im == 0.0 && im.is_sign_negative()) {
            "-"
        } else {
            "+"
        };
        format!(
            "({}{}{}j)",
            py_float_repr(re),
            sign,
            py_float_repr(im.abs())
        )
    }
}

impl Parser {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos)
    }
    fn eat(&mut self, c: char) -> bool {
        if self.peek() == Some(&Tok::Op(c)) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    /// Top level: an expression, or a bare tuple `1, 2`.
    fn top(&mut self) -> Result<Option<Py>, PErr> {
        if self.toks.is_empty() {
            return Err(PErr::Syntax);
        }
        let first = self.expr()?;
        if self.peek() == Some(&Tok::Op(',')) {
            let mut items = vec![first];
            while self.eat(',') {
                if self.pos == self.toks.len() {
                    break;
                }
                items.push(self.expr()?);
            }
            return Ok(Some(Py::List(items)));
        }
        Ok(Some(first))
    }

    fn expr(&mut self) -> Result<Py, PErr> {
        self.depth += 1;
        if self.depth > 200 {
            return Err(PErr::Fatal("maximum recursion depth exceeded".into()));
        }
        let left = self.unary()?;
        let r = if matches!(self.peek(), Some(Tok::Op('+' | '-'))) {
            let neg = self.peek() == Some(&Tok::Op('-'));
            self.pos += 1;
            let right = self.unary()?;
            // literal_eval only folds `real +/- imaginary`.
            match (&left, &right) {
                (Py::Int(..) | Py::Float(_), Py::Complex(0.0, im)) => {
                    let re = match &left {
                        Py::Float(f) => *f,
                        Py::Int(d, n) => {
                            let f: f64 = if d.is_empty() {
                                0.0
                            } else {
                                d.parse().unwrap_or(0.0)
                            };
                            if *n {
                                -f
                            } else {
                                f
                            }
                        }
                        _ => 0.0,
                    };
                    Ok(Py::Complex(re, if neg { -im } else { *im }))
                }
                _ => Err(PErr::Syntax),
            }
        } else {
            Ok(left)
        };
        self.depth -= 1;
        r
    }

    fn unary(&mut self) -> Result<Py, PErr> {
        if matches!(self.peek(), Some(Tok::Op('+' | '-'))) {
            let neg = self.peek() == Some(&Tok::Op('-'));
            self.pos += 1;
            let v = self.atom()?;
            return match v {
                Py::Int(d, false) => Ok(Py::Int(d, neg)),
                Py::Float(f) => Ok(Py::Float(if neg { -f } else { f })),
                Py::Complex(re, im) => Ok(if neg {
                    Py::Complex(-re, -im)
                } else {
                    Py::Complex(re, im)
                }),
                _ => Err(PErr::Syntax),
            };
        }
        self.atom()
    }

    fn atom(&mut self) -> Result<Py, PErr> {
        let t = self.peek().cloned().ok_or(PErr::Syntax)?;
        self.pos += 1;
        match t {
            Tok::Int(d) => Ok(Py::Int(d, false)),
            Tok::Float(f) => Ok(Py::Float(f)),
            Tok::Imag(f) => Ok(Py::Complex(0.0, f)),
            Tok::Ellipsis => Ok(Py::Ellipsis),
            Tok::Str(s, b) => {
                let mut s = s;
                while let Some(Tok::Str(more, b2)) = self.peek().cloned() {
                    if b2 != b {
                        return Err(PErr::Syntax);
                    }
                    s.push_str(&more);
                    self.pos += 1;
                }
                Ok(if b { Py::Bytes(s) } else { Py::Str(s) })
            }
            Tok::Name(n) => match n.as_str() {
                "True" => Ok(Py::Bool(true)),
                "False" => Ok(Py::Bool(false)),
                "None" => Ok(Py::None),
                // literal_eval's one call: the empty set (a list once stored).
                "set" if self.eat('(') => {
                    if self.eat(')') {
                        Ok(Py::List(Vec::new()))
                    } else {
                        Err(PErr::Syntax)
                    }
                }
                _ => Err(PErr::Syntax),
            },
            Tok::Op('[') => Ok(Py::List(self.seq(']')?.0)),
            Tok::Op('(') => {
                let (items, trailing_comma) = self.seq(')')?;
                if items.len() == 1 && !trailing_comma {
                    let mut items = items;
                    return items.pop().ok_or(PErr::Syntax);
                }
                Ok(Py::List(items))
            }
            Tok::Op('{') => {
                if self.eat('}') {
                    return Ok(Py::Dict(Vec::new()));
                }
                let first = self.expr()?;
                if self.eat(':') {
                    first.hashable()?;
                    let v = self.expr()?;
                    let mut kv = vec![(first, v)];
                    while self.eat(',') {
                        if self.eat('}') {
                            return Ok(dedup_dict(kv));
                        }
                        let k = self.expr()?;
                        if !self.eat(':') {
                            return Err(PErr::Syntax);
                        }
                        k.hashable()?;
                        let v = self.expr()?;
                        kv.push((k, v));
                    }
                    if !self.eat('}') {
                        return Err(PErr::Syntax);
                    }
                    Ok(dedup_dict(kv))
                } else {
                    first.hashable()?;
                    let mut items = vec![first];
                    while self.eat(',') {
                        if self.eat('}') {
                            return Ok(Py::List(items));
                        }
                        let v = self.expr()?;
                        v.hashable()?;
                        items.push(v);
                    }
                    if !self.eat('}') {
                        return Err(PErr::Syntax);
                    }
                    Ok(Py::List(items))
                }
            }
            _ => Err(PErr::Syntax),
        }
    }

    fn seq(&mut self, close: char) -> Result<(Vec<Py>, bool), PErr> {
        let mut items = Vec::new();
        let mut trailing = false;
        if self.eat(close) {
            return Ok((items, false));
        }
        loop {
            items.push(self.expr()?);
            if self.eat(close) {
                return Ok((items, trailing));
            }
            if !self.eat(',') {
                return Err(PErr::Syntax);
            }
            trailing = true;
            if self.eat(close) {
                return Ok((items, trailing));
            }
        }
    }
}

/// A Python dict keeps the first position and the last value of a repeated key.
fn dedup_dict(kv: Vec<(Py, Py)>) -> Py {
    let mut seen: Vec<(String, usize)> = Vec::new();
    let mut out: Vec<(Py, Py)> = Vec::new();
    for (k, v) in kv {
        let ks = k.key_string();
        if let Some((_, idx)) = seen.iter().find(|(s, _)| *s == ks) {
            out[*idx].1 = v;
        } else {
            seen.push((ks, out.len()));
            out.push((k, v));
        }
    }
    Py::Dict(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ev(s: &str) -> Value {
        ini_value(s).unwrap()
    }

    #[test]
    fn literal_types() {
        assert_eq!(ev("5"), json!(5));
        assert_eq!(ev("-5"), json!(-5));
        assert_eq!(ev("1.5"), json!(1.5));
        assert_eq!(ev("1_000"), json!(1000));
        assert_eq!(ev("0x1f"), json!(31));
        assert_eq!(ev("012"), json!("012"));
        assert_eq!(ev("False"), json!(false));
        assert_eq!(ev("None"), Value::Null);
        assert_eq!(ev("true"), json!("true"));
        assert_eq!(ev("no"), json!("no"));
        assert_eq!(ev(r#"["fast", "ssd"]"#), json!(["fast", "ssd"]));
        assert_eq!(
            ev(r#"{"conn": 100, "mem": "2G"}"#),
            json!({"conn": 100, "mem": "2G"})
        );
        assert_eq!(ev(r#""shop front""#), json!("shop front"));
        assert_eq!(ev("'a' \"b\""), json!("ab"));
        assert_eq!(ev("(1, 2)"), json!([1, 2]));
        assert_eq!(ev("1, 2"), json!([1, 2]));
        assert_eq!(ev("(1)"), json!(1));
        assert_eq!(ev("5 # comment"), json!(5));
        assert_eq!(ev("pool.ntp.org"), json!("pool.ntp.org"));
        assert_eq!(ev("2j"), json!("2j"));
        assert_eq!(ev("1+2j"), json!("(1+2j)"));
        assert_eq!(ev("1+2"), json!("1+2"));
        assert_eq!(ev("..."), json!("..."));
        assert_eq!(ev("set()"), json!([]));
        assert_eq!(
            ev("[..., 1j, set(), {1, 2}, b'x']"),
            json!(["...", "1j", [], [1, 2], "x"])
        );
        assert_eq!(ev(""), json!(""));
        assert_eq!(ev("{1, 2}"), json!([1, 2]));
        assert_eq!(ev("'\\x41\\n'"), json!("A\n"));
        assert_eq!(ev("r'\\d'"), json!("\\d"));
        assert_eq!(ev("f'x'"), json!("f'x'"));
        assert_eq!(ev("1e3"), json!(1000.0));
        assert!(ini_value("{[1]: 2}").is_err());
    }

    #[test]
    fn shlex() {
        assert_eq!(shlex_split("a b=1 # c").unwrap(), vec!["a", "b=1"]);
        assert_eq!(
            shlex_split(r#"h x='["a", "b"]' y="p q""#).unwrap(),
            vec!["h", r#"x=["a", "b"]"#, "y=p q"]
        );
        assert_eq!(shlex_split("h x=a#b").unwrap(), vec!["h", "x=a"]);
        assert_eq!(shlex_split("h x=''").unwrap(), vec!["h", "x="]);
        assert_eq!(
            shlex_split(r#"h x="a\"b\n""#).unwrap(),
            vec!["h", "x=a\"b\\n"]
        );
        assert!(shlex_split("h x='a").is_err());
        assert_eq!(
            shlex_split_opts("echo a#b # c", false).unwrap(),
            vec!["echo", "a#b", "#", "c"]
        );
    }
}
