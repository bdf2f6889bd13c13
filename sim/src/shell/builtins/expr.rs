//! `expr` as GNU coreutils has it: `|`, `&`, comparisons, `+ -`, `* / %`, the anchored BRE
//! match `:` and the `match`/`substr`/`index`/`length`/`+` keywords, with its exit status
//! (1 for a null or zero result, 2 for a syntax or arithmetic error).

use super::super::exec::{Ex, Shell};
use super::super::io::Fds;

/// A value: expr keeps a string operand as written (`expr 007` prints `007`) and turns it
/// into a number only where an operator needs one.
#[derive(Debug, Clone, PartialEq)]
enum Val {
    Int(i128),
    Str(String),
}

impl Val {
    fn text(&self) -> String {
        match self {
            Val::Int(n) => n.to_string(),
            Val::Str(s) => s.clone(),
        }
    }

    /// GNU's `null`: the number 0, the empty string, or a string of zeros with an optional
    /// leading minus.
    fn is_null(&self) -> bool {
        match self {
            Val::Int(n) => *n == 0,
            Val::Str(s) => {
                let digits = s.strip_prefix('-').unwrap_or(s);
                s.is_empty() || (!digits.is_empty() && digits.bytes().all(|b| b == b'0'))
            }
        }
    }

    /// The integer an arithmetic operator needs: an optional `-` and digits only.
    fn integer(&self) -> Option<i128> {
        match self {
            Val::Int(n) => Some(*n),
            Val::Str(s) => looks_like_integer(s).then(|| s.parse().ok()).flatten(),
        }
    }
}

fn looks_like_integer(s: &str) -> bool {
    let digits = s.strip_prefix('-').unwrap_or(s);
    !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())
}

/// Why evaluation stopped: the message GNU expr prints after `expr: `.
type Failure = String;

/// Quotes an argument as coreutils' error messages do.
fn quoted(arg: &str) -> String {
    format!("‘{arg}’")
}

struct Parser<'a> {
    args: &'a [String],
    pos: usize,
}

impl<'a> Parser<'a> {
    fn peek_is(&self, word: &str) -> bool {
        self.args.get(self.pos).is_some_and(|a| a == word)
    }

    fn next_is(&mut self, word: &str) -> bool {
        let found = self.peek_is(word);
        if found {
            self.pos += 1;
        }
        found
    }

    /// The operand after the operator just read, or GNU's "missing argument" error.
    fn require_more(&self) -> Result<(), Failure> {
        if self.pos < self.args.len() {
            Ok(())
        } else {
            Err(format!(
                "syntax error: missing argument after {}",
                quoted(&self.args[self.pos - 1])
            ))
        }
    }

    /// `|`: the left value unless it is null, then the right (0 when both are null). The
    /// right side is parsed but not evaluated when the left decides (no division error).
    fn or(&mut self, evaluate: bool) -> Result<Val, Failure> {
        let mut left = self.and(evaluate)?;
        while self.next_is("|") {
            self.require_more()?;
            let right = self.and(evaluate && left.is_null())?;
            if left.is_null() {
                left = if right.is_null() { Val::Int(0) } else { right };
            }
        }
        Ok(left)
    }

    /// `&`: the left value when neither side is null, else 0.
    fn and(&mut self, evaluate: bool) -> Result<Val, Failure> {
        let mut left = self.compare(evaluate)?;
        while self.next_is("&") {
            self.require_more()?;
            let right = self.compare(evaluate && !left.is_null())?;
            if left.is_null() || right.is_null() {
                left = Val::Int(0);
            }
        }
        Ok(left)
    }

    /// Comparisons: numeric when both sides look like integers, else by bytes (the C
    /// locale's strcoll); 1 or 0.
    fn compare(&mut self, evaluate: bool) -> Result<Val, Failure> {
        let mut left = self.additive(evaluate)?;
        loop {
            let op = ["<=", ">=", "==", "!=", "<", ">", "="]
                .into_iter()
                .find(|op| self.peek_is(op));
            let Some(op) = op else {
                return Ok(left);
            };
            self.pos += 1;
            self.require_more()?;
            let right = self.additive(evaluate)?;
            if !evaluate {
                continue;
            }
            let order = match (left.integer(), right.integer()) {
                (Some(a), Some(b)) if looks_numeric(&left) && looks_numeric(&right) => a.cmp(&b),
                _ => left.text().as_bytes().cmp(right.text().as_bytes()),
            };
            let holds = match op {
                "<" => order.is_lt(),
                "<=" => order.is_le(),
                "=" | "==" => order.is_eq(),
                "!=" => order.is_ne(),
                ">=" => order.is_ge(),
                _ => order.is_gt(),
            };
            left = Val::Int(i128::from(holds));
        }
    }

    fn additive(&mut self, evaluate: bool) -> Result<Val, Failure> {
        let mut left = self.multiplicative(evaluate)?;
        loop {
            let op = if self.next_is("+") {
                '+'
            } else if self.next_is("-") {
                '-'
            } else {
                return Ok(left);
            };
            self.require_more()?;
            let right = self.multiplicative(evaluate)?;
            if evaluate {
                left = arithmetic(&left, op, &right)?;
            }
        }
    }

    fn multiplicative(&mut self, evaluate: bool) -> Result<Val, Failure> {
        let mut left = self.matching(evaluate)?;
        loop {
            let op = if self.next_is("*") {
                '*'
            } else if self.next_is("/") {
                '/'
            } else if self.next_is("%") {
                '%'
            } else {
                return Ok(left);
            };
            self.require_more()?;
            let right = self.matching(evaluate)?;
            if evaluate {
                left = arithmetic(&left, op, &right)?;
            }
        }
    }

    fn matching(&mut self, evaluate: bool) -> Result<Val, Failure> {
        let mut left = self.keyword(evaluate)?;
        while self.next_is(":") {
            self.require_more()?;
            let right = self.keyword(evaluate)?;
            if evaluate {
                left = regex_match(&left.text(), &right.text())?;
            }
        }
        Ok(left)
    }

    /// The keywords GNU expr knows in operand position, and `+ TOKEN` quoting one.
    fn keyword(&mut self, evaluate: bool) -> Result<Val, Failure> {
        if self.next_is("+") {
            self.require_more()?;
            let token = self.args[self.pos].clone();
            self.pos += 1;
            return Ok(Val::Str(token));
        }
        if self.next_is("length") {
            self.require_more()?;
            let s = self.keyword(evaluate)?;
            return Ok(Val::Int(s.text().chars().count() as i128));
        }
        if self.next_is("match") {
            self.require_more()?;
            let s = self.keyword(evaluate)?;
            self.require_more()?;
            let pattern = self.keyword(evaluate)?;
            return if evaluate {
                regex_match(&s.text(), &pattern.text())
            } else {
                Ok(Val::Int(0))
            };
        }
        if self.next_is("index") {
            self.require_more()?;
            let s = self.keyword(evaluate)?.text();
            self.require_more()?;
            let chars = self.keyword(evaluate)?.text();
            let at = s
                .chars()
                .position(|c| chars.contains(c))
                .map_or(0, |i| i + 1);
            return Ok(Val::Int(at as i128));
        }
        if self.next_is("substr") {
            self.require_more()?;
            let s = self.keyword(evaluate)?.text();
            self.require_more()?;
            let start = self.keyword(evaluate)?;
            self.require_more()?;
            let len = self.keyword(evaluate)?;
            // A position or length that is no positive integer gives the null string.
            let piece = match (start.integer(), len.integer()) {
                (Some(p), Some(l)) if p >= 1 && l >= 1 => s
                    .chars()
                    .skip((p - 1).min(usize::MAX as i128) as usize)
                    .take(l.min(usize::MAX as i128) as usize)
                    .collect(),
                _ => String::new(),
            };
            return Ok(Val::Str(piece));
        }
        self.primary(evaluate)
    }

    fn primary(&mut self, evaluate: bool) -> Result<Val, Failure> {
        let Some(arg) = self.args.get(self.pos) else {
            return Err(format!(
                "syntax error: missing argument after {}",
                quoted(&self.args[self.pos - 1])
            ));
        };
        if arg == "(" {
            self.pos += 1;
            self.require_more()?;
            let inner = self.or(evaluate)?;
            return match self.args.get(self.pos) {
                Some(a) if a == ")" => {
                    self.pos += 1;
                    Ok(inner)
                }
                Some(a) => Err(format!(
                    "syntax error: expecting ')' instead of {}",
                    quoted(a)
                )),
                None => Err(format!(
                    "syntax error: expecting ')' after {}",
                    quoted(&self.args[self.pos - 1])
                )),
            };
        }
        if arg == ")" {
            return Err("syntax error: unexpected ')'".into());
        }
        self.pos += 1;
        Ok(Val::Str(arg.clone()))
    }
}

/// Both operands of a comparison are compared as numbers only when each is (or is written
/// as) an integer.
fn looks_numeric(v: &Val) -> bool {
    match v {
        Val::Int(_) => true,
        Val::Str(s) => looks_like_integer(s),
    }
}

/// C's integer arithmetic (division truncates toward zero, the remainder takes the
/// dividend's sign) on operands that must be integers.
fn arithmetic(left: &Val, op: char, right: &Val) -> Result<Val, Failure> {
    let (Some(a), Some(b)) = (left.integer(), right.integer()) else {
        return Err("non-integer argument".into());
    };
    if matches!(op, '/' | '%') && b == 0 {
        return Err("division by zero".into());
    }
    let result = match op {
        '+' => a.checked_add(b),
        '-' => a.checked_sub(b),
        '*' => a.checked_mul(b),
        '/' => a.checked_div(b),
        _ => a.checked_rem(b),
    };
    result
        .map(Val::Int)
        .ok_or_else(|| "integer result too large".to_string())
}

/// `STRING : REGEX`: a basic regular expression anchored at the start. With a `\(...\)`
/// group the result is what the first group matched (the null string without a match),
/// else the number of characters matched.
fn regex_match(s: &str, pattern: &str) -> Result<Val, Failure> {
    let source = format!("^(?:{})", super::text::bre_to_ere(pattern));
    let re = regex::Regex::new(&source).map_err(|_| "Invalid regular expression".to_string())?;
    let groups = re.captures_len() > 1;
    Ok(match re.captures(s) {
        Some(caps) if groups => Val::Str(caps.get(1).map_or("", |m| m.as_str()).to_string()),
        Some(caps) => Val::Int(caps.get(0).map_or(0, |m| m.as_str().chars().count()) as i128),
        None if groups => Val::Str(String::new()),
        None => Val::Int(0),
    })
}

/// Evaluates expr's arguments (without `argv[0]`): the value, or the error message.
fn evaluate(args: &[String]) -> Result<Val, Failure> {
    let args = match args.first() {
        Some(first) if first == "--" => &args[1..],
        _ => args,
    };
    if args.is_empty() {
        return Err("missing operand\nTry 'expr --help' for more information.".into());
    }
    let mut parser = Parser { args, pos: 0 };
    let value = parser.or(true)?;
    match args.get(parser.pos) {
        Some(extra) => Err(format!(
            "syntax error: unexpected argument {}",
            quoted(extra)
        )),
        None => Ok(value),
    }
}

pub(crate) fn expr(sh: &mut Shell<'_>, argv: &[String], fds: &Fds) -> Ex {
    match evaluate(&argv[1..]) {
        Ok(value) => {
            sh.out(fds, format!("{}\n", value.text()));
            Ok(if value.is_null() { 1 } else { 0 })
        }
        Err(message) => {
            sh.err(fds, format!("expr: {message}\n"));
            Ok(2)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (arguments, stdout, stderr, status) as GNU coreutils 9 `expr` gave them.
    const RECORDED: &[(&[&str], &str, &str, i32)] = &[
        (
            &[],
            "",
            "expr: missing operand\nTry 'expr --help' for more information.\n",
            2,
        ),
        (
            &["1", "+"],
            "",
            "expr: syntax error: missing argument after ‘+’\n",
            2,
        ),
        (
            &["(", "1"],
            "",
            "expr: syntax error: expecting ')' after ‘1’\n",
            2,
        ),
        (
            &["1", "2"],
            "",
            "expr: syntax error: unexpected argument ‘2’\n",
            2,
        ),
        (&["a", "+", "1"], "", "expr: non-integer argument\n", 2),
        (&["1", "/", "0"], "", "expr: division by zero\n", 2),
        (&["1", "|", "1", "/", "0"], "1\n", "", 0),
        (&["abc", ":", "a\\(.\\)"], "b\n", "", 0),
        (&["abc", ":", "x\\(.\\)"], "\n", "", 1),
        (&["abc", ":", "ab"], "2\n", "", 0),
        (&["abc", ":", "x"], "0\n", "", 1),
        (&["007"], "007\n", "", 0),
        (&["007", "=", "7"], "1\n", "", 0),
        (&["substr", "hello", "2", "3"], "ell\n", "", 0),
        (&["substr", "hello", "0", "3"], "\n", "", 1),
        (&["index", "hello", "lo"], "3\n", "", 0),
        (&["length", "héllo"], "5\n", "", 0),
        (&["0", "|", ""], "0\n", "", 1),
        (&["", "&", "1"], "0\n", "", 1),
        (&["-0"], "-0\n", "", 1),
        (&["5", "%", "-3"], "2\n", "", 0),
        (&["-5", "/", "2"], "-2\n", "", 0),
        (&["b", "<", "a"], "0\n", "", 1),
        (&["(", "1", "+", "2", ")", "*", "3"], "9\n", "", 0),
        (&["+", "length"], "length\n", "", 0),
        (
            &["1", ")"],
            "",
            "expr: syntax error: unexpected argument ‘)’\n",
            2,
        ),
        (
            &["(", "1", "2"],
            "",
            "expr: syntax error: expecting ')' instead of ‘2’\n",
            2,
        ),
        (&["x", ":", "^x"], "1\n", "", 0),
        (&["match", "abc", "a*"], "1\n", "", 0),
        (&["2", "*", "3"], "6\n", "", 0),
        (&["3", "-", "5"], "-2\n", "", 0),
        (&["a", "=", "a"], "1\n", "", 0),
        (&["10", "<", "9"], "0\n", "", 1),
        (&["10", "<", "9a"], "1\n", "", 0),
        (&["0", "&", "x"], "0\n", "", 1),
        (&["a", "|", "b"], "a\n", "", 0),
        (&["", "|", "0"], "0\n", "", 1),
        (&["--", "-1"], "-1\n", "", 0),
        (&["abc", ":", "\\(x\\)*"], "\n", "", 1),
        (&["1", "+", "2", "+", "3"], "6\n", "", 0),
        (&[")"], "", "expr: syntax error: unexpected ')'\n", 2),
        (&["(", ")"], "", "expr: syntax error: unexpected ')'\n", 2),
        (
            &["99999999999999999999", "+", "1"],
            "100000000000000000000\n",
            "",
            0,
        ),
    ];

    #[test]
    fn matches_gnu_expr() {
        for (args, stdout, stderr, status) in RECORDED {
            let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
            let (out, err, rc) = match evaluate(&args) {
                Ok(v) => (
                    format!("{}\n", v.text()),
                    String::new(),
                    i32::from(v.is_null()),
                ),
                Err(m) => (String::new(), format!("expr: {m}\n"), 2),
            };
            assert_eq!(
                (out.as_str(), err.as_str(), rc),
                (*stdout, *stderr, *status),
                "expr {args:?}"
            );
        }
    }
}
