//! `$((...))` arithmetic: C integer expressions on i64 with variables, as dash evaluates them.

/// Variable access for arithmetic (`x` reads `$x`, `x=1` and `x+=1` assign).
pub trait ArithEnv {
    /// The variable's value (`None` if unset).
    fn get_var(&mut self, name: &str) -> Option<String>;
    /// Assigns the variable.
    fn set_var(&mut self, name: &str, value: i64);
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Num(i64),
    Name(String),
    Op(&'static str),
}

const OPS: &[&str] = &[
    "<<=", ">>=", "<<", ">>", "<=", ">=", "==", "!=", "&&", "||", "+=", "-=", "*=", "/=", "%=",
    "&=", "^=", "|=", "+", "-", "*", "/", "%", "<", ">", "&", "^", "|", "!", "~", "(", ")", "?",
    ":", "=",
];

/// Parses an integer constant the way dash does: decimal, `0x` hex, leading-0 octal.
pub fn parse_number(s: &str) -> Option<i64> {
    let s = s.trim();
    let (neg, body) = match s.strip_prefix('-') {
        Some(b) => (true, b),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    if body.is_empty() {
        return None;
    }
    let v = if let Some(h) = body.strip_prefix("0x").or_else(|| body.strip_prefix("0X")) {
        u64::from_str_radix(h, 16).ok()? as i64
    } else if body.len() > 1 && body.starts_with('0') {
        u64::from_str_radix(&body[1..], 8).ok()? as i64
    } else {
        body.parse::<u64>().ok()? as i64
    };
    Some(if neg { v.wrapping_neg() } else { v })
}

fn tokenize(s: &str) -> Result<Vec<Tok>, String> {
    let cs: Vec<char> = s.chars().collect();
    let mut i = 0;
    let mut out = Vec::new();
    while i < cs.len() {
        let c = cs[i];
        if c.is_whitespace() {
            i += 1;
        } else if c.is_ascii_digit() {
            let st = i;
            while i < cs.len() && cs[i].is_ascii_alphanumeric() {
                i += 1;
            }
            let t: String = cs[st..i].iter().collect();
            out.push(Tok::Num(parse_number(&t).ok_or("expecting EOF")?));
        } else if c == '_' || c.is_ascii_alphabetic() {
            let st = i;
            while i < cs.len() && (cs[i] == '_' || cs[i].is_ascii_alphanumeric()) {
                i += 1;
            }
            out.push(Tok::Name(cs[st..i].iter().collect()));
        } else {
            let rest: String = cs[i..cs.len().min(i + 3)].iter().collect();
            let op = OPS
                .iter()
                .find(|o| rest.starts_with(*o))
                .ok_or("expecting EOF")?;
            out.push(Tok::Op(op));
            i += op.len();
        }
    }
    Ok(out)
}

struct Ev<'a> {
    toks: Vec<Tok>,
    pos: usize,
    env: &'a mut dyn ArithEnv,
    depth: usize,
}

type R = Result<i64, String>;

impl Ev<'_> {
    fn peek_op(&self) -> Option<&'static str> {
        match self.toks.get(self.pos) {
            Some(Tok::Op(o)) => Some(o),
            _ => None,
        }
    }

    fn var_value(&mut self, name: &str) -> R {
        match self.env.get_var(name) {
            None => Ok(0),
            Some(v) if v.trim().is_empty() => Ok(0),
            Some(v) => parse_number(&v).ok_or_else(|| format!("Illegal number: {v}")),
        }
    }

    /// assignment / ternary level.
    fn expr(&mut self, skip: bool) -> R {
        self.depth += 1;
        if self.depth > 200 {
            return Err("expression too deeply nested".into());
        }
        if let (Some(Tok::Name(n)), Some(Tok::Op(op))) = (
            self.toks.get(self.pos).cloned(),
            self.toks.get(self.pos + 1),
        ) {
            let op = *op;
            if matches!(
                op,
                "=" | "+=" | "-=" | "*=" | "/=" | "%=" | "<<=" | ">>=" | "&=" | "^=" | "|="
            ) {
                self.pos += 2;
                let rhs = self.expr(skip)?;
                let v = if op == "=" {
                    rhs
                } else {
                    let cur = self.var_value(&n)?;
                    binop(&op[..op.len() - 1], cur, rhs, skip)?
                };
                if !skip {
                    self.env.set_var(&n, v);
                }
                self.depth -= 1;
                return Ok(v);
            }
        }
        let c = self.binary(0, skip)?;
        let r = if self.peek_op() == Some("?") {
            self.pos += 1;
            let a = self.expr(skip || c == 0)?;
            if self.peek_op() != Some(":") {
                return Err("expecting ':'".into());
            }
            self.pos += 1;
            let b = self.expr(skip || c != 0)?;
            if c != 0 {
                a
            } else {
                b
            }
        } else {
            c
        };
        self.depth -= 1;
        Ok(r)
    }

    fn binary(&mut self, min_prec: u8, skip: bool) -> R {
        let mut lhs = self.unary(skip)?;
        while let Some(op) = self.peek_op() {
            let Some(p) = prec(op) else { break };
            if p < min_prec {
                break;
            }
            self.pos += 1;
            match op {
                "&&" => {
                    let rhs = self.binary(p + 1, skip || lhs == 0)?;
                    lhs = (lhs != 0 && rhs != 0) as i64;
                }
                "||" => {
                    let rhs = self.binary(p + 1, skip || lhs != 0)?;
                    lhs = (lhs != 0 || rhs != 0) as i64;
                }
                _ => {
                    let rhs = self.binary(p + 1, skip)?;
                    lhs = binop(op, lhs, rhs, skip)?;
                }
            }
        }
        Ok(lhs)
    }

    fn unary(&mut self, skip: bool) -> R {
        self.depth += 1;
        if self.depth > 200 {
            return Err("expression too deeply nested".into());
        }
        let r = match self.toks.get(self.pos).cloned() {
            Some(Tok::Op(op @ ("+" | "-" | "!" | "~"))) => {
                self.pos += 1;
                let v = self.unary(skip)?;
                match op {
                    "+" => v,
                    "-" => v.wrapping_neg(),
                    "!" => (v == 0) as i64,
                    _ => !v,
                }
            }
            Some(Tok::Op("(")) => {
                self.pos += 1;
                let v = self.expr(skip)?;
                if self.peek_op() != Some(")") {
                    return Err("expecting ')'".into());
                }
                self.pos += 1;
                v
            }
            Some(Tok::Num(n)) => {
                self.pos += 1;
                n
            }
            Some(Tok::Name(n)) => {
                self.pos += 1;
                self.var_value(&n)?
            }
            _ => return Err("expecting primary".into()),
        };
        self.depth -= 1;
        Ok(r)
    }
}

fn prec(op: &str) -> Option<u8> {
    Some(match op {
        "||" => 1,
        "&&" => 2,
        "|" => 3,
        "^" => 4,
        "&" => 5,
        "==" | "!=" => 6,
        "<" | "<=" | ">" | ">=" => 7,
        "<<" | ">>" => 8,
        "+" | "-" => 9,
        "*" | "/" | "%" => 10,
        _ => return None,
    })
}

fn binop(op: &str, a: i64, b: i64, skip: bool) -> R {
    Ok(match op {
        "+" => a.wrapping_add(b),
        "-" => a.wrapping_sub(b),
        "*" => a.wrapping_mul(b),
        "/" | "%" => {
            if b == 0 {
                if skip {
                    return Ok(0);
                }
                return Err("division by zero".into());
            }
            if op == "/" {
                a.wrapping_div(b)
            } else {
                a.wrapping_rem(b)
            }
        }
        "<<" => a.wrapping_shl(b as u32),
        ">>" => a.wrapping_shr(b as u32),
        "<" => (a < b) as i64,
        "<=" => (a <= b) as i64,
        ">" => (a > b) as i64,
        ">=" => (a >= b) as i64,
        "==" => (a == b) as i64,
        "!=" => (a != b) as i64,
        "&" => a & b,
        "^" => a ^ b,
        "|" => a | b,
        _ => return Err("expecting EOF".into()),
    })
}

/// Evaluates an (already expanded) arithmetic expression. Errors are dash's message body
/// (`division by zero`, `expecting primary`, `Illegal number: x`); the caller formats
/// `arithmetic expression: MSG: "EXPR"`.
pub fn eval(expr: &str, env: &mut dyn ArithEnv) -> Result<i64, String> {
    let toks = tokenize(expr)?;
    if toks.is_empty() {
        return Ok(0);
    }
    let mut ev = Ev {
        toks,
        pos: 0,
        env,
        depth: 0,
    };
    let v = ev.expr(false)?;
    if ev.pos != ev.toks.len() {
        return Err("expecting EOF".into());
    }
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    struct Vars(BTreeMap<String, String>);
    impl ArithEnv for Vars {
        fn get_var(&mut self, n: &str) -> Option<String> {
            self.0.get(n).cloned()
        }
        fn set_var(&mut self, n: &str, v: i64) {
            self.0.insert(n.into(), v.to_string());
        }
    }

    fn ev(s: &str) -> Result<i64, String> {
        let mut v = Vars(BTreeMap::from([("x".to_string(), "7".to_string())]));
        eval(s, &mut v)
    }

    #[test]
    fn precedence_and_ops() {
        assert_eq!(ev("1 + 2 * 3"), Ok(7));
        assert_eq!(ev("(1 + 2) * 3"), Ok(9));
        assert_eq!(ev("x % 4 + 10"), Ok(13));
        assert_eq!(ev("-x / 2"), Ok(-3));
        assert_eq!(ev("010 + 0x10"), Ok(24));
        assert_eq!(ev("3 > 2 && 2 >= 2 || 0"), Ok(1));
        assert_eq!(ev("1 ? 5 : 1/0"), Ok(5));
        assert_eq!(ev("0 && 1/0"), Ok(0));
        assert_eq!(ev("1 << 4 | 1"), Ok(17));
        assert_eq!(ev("!0 + ~0"), Ok(0));
        assert_eq!(ev("unset_var + 1"), Ok(1));
        assert_eq!(ev("1/0"), Err("division by zero".into()));
        assert_eq!(ev("1 +"), Err("expecting primary".into()));
        assert_eq!(ev("1 2"), Err("expecting EOF".into()));
    }

    #[test]
    fn assignment() {
        let mut v = Vars(BTreeMap::new());
        assert_eq!(eval("y = 3 * 2", &mut v), Ok(6));
        assert_eq!(eval("y += 1", &mut v), Ok(7));
        assert_eq!(v.0["y"], "7");
    }
}
