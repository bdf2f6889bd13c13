//! Recursive-descent parser for the POSIX sh subset, with dash's syntax error messages.
//!
//! Why not `brush-parser` (evaluated, v0.4.0): it parses bash rather than sh, pulls ~60 crates
//! (two `darling`/`syn` stacks, `pest`, `peg`, `cached`, and `stacker`, which compiles C) onto
//! a 2-core build, reports its own error texts where we must print dash's
//! (`sh: 2: Syntax error: "done" unexpected`, with dash's line numbers), and parses a whole
//! script at once while dash parses and runs one complete command at a time (output before a
//! syntax error must still appear). The sh grammar subset we need is small enough that a
//! scanner-less recursive-descent parser over chars is clearer than adapting its AST.

use super::ast::*;
use std::cell::OnceCell;
use std::rc::Rc;

/// Nesting bound for compound commands and substitutions: keeps recursion (parse and
/// execution) far from the stack limit whatever the input.
const MAX_DEPTH: usize = 48;

const RESERVED: &[&str] = &[
    "if", "then", "else", "elif", "fi", "do", "done", "case", "esac", "while", "until", "for", "{",
    "}", "!", "in",
];

const OPERATORS: &[&str] = &[
    "&&", "||", ";;", "<<-", "<<", ">>", "<&", ">&", "<>", ">|", "&>", ";", "&", "|", "(", ")",
    "<", ">",
];

/// A syntax error: the line and dash's message (without the `sh: N: ` prefix).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    /// 1-based line of the script.
    pub line: usize,
    /// e.g. `Syntax error: "done" unexpected`.
    pub msg: String,
}

type PResult<T> = Result<T, ParseError>;

struct PendingHere {
    cell: Rc<OnceCell<HereDoc>>,
    delim: String,
    strip_tabs: bool,
    expand: bool,
}

/// Which context a run of word characters is parsed in.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// A plain word: ends at blanks and operators.
    Normal,
    /// The operand of `${x-...}`: ends at an unquoted `}`.
    Brace,
    /// Inside `"..."`: ends at the closing quote.
    Double,
    /// A here-document body: ends at end of input, quotes are literal.
    HereDoc,
}

/// Parser over one script; [`Parser::next_complete_command`] yields one top-level command
/// at a time so that the caller can run it before parsing the next, as dash does.
pub struct Parser {
    src: Vec<char>,
    pos: usize,
    line: usize,
    pending: Vec<PendingHere>,
    depth: usize,
}

fn is_meta(c: char) -> bool {
    matches!(
        c,
        ' ' | '\t' | '\n' | ';' | '&' | '|' | '(' | ')' | '<' | '>'
    )
}

/// Whether `s` is a valid variable name.
pub fn is_name(s: &str) -> bool {
    let mut cs = s.chars();
    matches!(cs.next(), Some(c) if c == '_' || c.is_ascii_alphabetic())
        && cs.all(|c| c == '_' || c.is_ascii_alphanumeric())
}

impl Parser {
    /// A parser for `src`, numbering lines from `first_line`.
    pub fn new(src: &str, first_line: usize) -> Self {
        Parser {
            src: src.chars().collect(),
            pos: 0,
            line: first_line,
            pending: Vec::new(),
            depth: 0,
        }
    }

    // ----- character level -----

    fn peek(&self) -> Option<char> {
        self.src.get(self.pos).copied()
    }

    fn peek_at(&self, n: usize) -> Option<char> {
        self.src.get(self.pos + n).copied()
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.src.get(self.pos).copied()?;
        self.pos += 1;
        if c == '\n' {
            self.line += 1;
        }
        Some(c)
    }

    fn starts_with(&self, s: &str) -> bool {
        s.chars()
            .enumerate()
            .all(|(k, c)| self.src.get(self.pos + k) == Some(&c))
    }

    fn err<T>(&self, msg: impl Into<String>) -> PResult<T> {
        Err(ParseError {
            line: self.line,
            msg: msg.into(),
        })
    }

    fn enter(&mut self) -> PResult<()> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return self.err("Syntax error: nesting too deep");
        }
        Ok(())
    }

    fn leave(&mut self) {
        self.depth -= 1;
    }

    /// Skips blanks, backslash-newlines and comments (not newlines).
    fn skip_blanks(&mut self) {
        loop {
            match self.peek() {
                Some(' ') | Some('\t') => {
                    self.bump();
                }
                Some('\\') if self.peek_at(1) == Some('\n') => {
                    self.bump();
                    self.bump();
                }
                Some('#') => {
                    while let Some(c) = self.peek() {
                        if c == '\n' {
                            break;
                        }
                        self.bump();
                    }
                }
                _ => return,
            }
        }
    }

    /// Consumes a newline and then the bodies of the here-documents begun on that line.
    fn newline(&mut self) {
        self.bump();
        let pending = std::mem::take(&mut self.pending);
        for h in pending {
            let mut body = String::new();
            loop {
                if self.peek().is_none() {
                    break;
                }
                let mut line = String::new();
                while let Some(c) = self.bump() {
                    if c == '\n' {
                        break;
                    }
                    line.push(c);
                }
                let line = if h.strip_tabs {
                    line.trim_start_matches('\t').to_string()
                } else {
                    line
                };
                if line == h.delim {
                    break;
                }
                body.push_str(&line);
                body.push('\n');
            }
            let _ = h.cell.set(HereDoc {
                body,
                expand: h.expand,
            });
        }
    }

    /// Skips blanks, comments and newlines (`linebreak` in the grammar).
    fn linebreak(&mut self) {
        loop {
            self.skip_blanks();
            if self.peek() == Some('\n') {
                self.newline();
            } else {
                return;
            }
        }
    }

    fn finish_pending_at_eof(&mut self) {
        for h in std::mem::take(&mut self.pending) {
            let _ = h.cell.set(HereDoc {
                body: String::new(),
                expand: h.expand,
            });
        }
    }

    fn peek_op(&self) -> Option<&'static str> {
        OPERATORS.iter().copied().find(|op| self.starts_with(op))
    }

    /// The raw run of word characters at the cursor.
    fn raw_run(&self) -> String {
        let mut s = String::new();
        let mut i = self.pos;
        while let Some(&c) = self.src.get(i) {
            if is_meta(c) {
                break;
            }
            s.push(c);
            i += 1;
        }
        s
    }

    fn peek_reserved(&self) -> Option<&'static str> {
        let run = self.raw_run();
        RESERVED.iter().copied().find(|r| *r == run)
    }

    fn eat_reserved(&mut self, kw: &str) {
        for _ in kw.chars() {
            self.bump();
        }
    }

    /// How dash names the token at the cursor in "unexpected" messages.
    fn describe_next(&self) -> String {
        match self.peek() {
            None => "end of file".into(),
            Some('\n') => "newline".into(),
            _ => match self.peek_op() {
                Some(op) => format!("\"{op}\""),
                None => format!("\"{}\"", self.raw_run()),
            },
        }
    }

    fn unexpected<T>(&self, expecting: Option<&str>) -> PResult<T> {
        let what = self.describe_next();
        match expecting {
            Some(e) => self.err(format!(
                "Syntax error: {what} unexpected (expecting \"{e}\")"
            )),
            None => self.err(format!("Syntax error: {what} unexpected")),
        }
    }

    fn expect_reserved(&mut self, kw: &str) -> PResult<()> {
        self.skip_blanks();
        if self.peek_reserved() == Some(kw) {
            self.eat_reserved(kw);
            Ok(())
        } else {
            self.unexpected(Some(kw))
        }
    }

    // ----- grammar -----

    /// Parses the next top-level complete command (one line's and-or lists), or `None` at
    /// end of input.
    pub fn next_complete_command(&mut self) -> PResult<Option<List>> {
        self.linebreak();
        if self.peek().is_none() {
            self.finish_pending_at_eof();
            return Ok(None);
        }
        let mut list = Vec::new();
        loop {
            list.push(self.and_or()?);
            self.skip_blanks();
            match self.peek_op() {
                Some(";") | Some("&") => {
                    self.bump();
                    self.skip_blanks();
                    match self.peek() {
                        None => break,
                        Some('\n') => {
                            self.newline();
                            break;
                        }
                        _ => continue,
                    }
                }
                _ => {}
            }
            match self.peek() {
                None => break,
                Some('\n') => {
                    self.newline();
                    break;
                }
                _ => return self.unexpected(None),
            }
        }
        if self.peek().is_none() {
            self.finish_pending_at_eof();
        }
        Ok(Some(list))
    }

    /// `compound_list`: and-or lists until one of `terms` (reserved words), `)`, `;;` or EOF.
    fn list(&mut self, terms: &[&str]) -> PResult<List> {
        self.enter()?;
        let mut list = Vec::new();
        loop {
            self.linebreak();
            if self.peek().is_none() {
                break;
            }
            if let Some(r) = self.peek_reserved() {
                if terms.contains(&r) {
                    break;
                }
            }
            if matches!(self.peek_op(), Some(")") | Some(";;")) {
                break;
            }
            list.push(self.and_or()?);
            self.skip_blanks();
            match self.peek_op() {
                Some(";") | Some("&") => {
                    self.bump();
                }
                _ => {
                    if self.peek() != Some('\n') {
                        break;
                    }
                }
            }
        }
        self.leave();
        Ok(list)
    }

    /// A list that must not be empty (bodies of compound commands).
    fn nonempty_list(&mut self, terms: &[&str], expecting: &str) -> PResult<List> {
        let l = self.list(terms)?;
        if l.is_empty() {
            self.skip_blanks();
            return self.unexpected(if self.peek().is_none() {
                Some(expecting)
            } else {
                None
            });
        }
        Ok(l)
    }

    fn and_or(&mut self) -> PResult<AndOr> {
        let first = self.pipeline()?;
        let mut rest = Vec::new();
        loop {
            self.skip_blanks();
            let and = match self.peek_op() {
                Some("&&") => true,
                Some("||") => false,
                _ => break,
            };
            self.bump();
            self.bump();
            self.linebreak();
            rest.push((and, self.pipeline()?));
        }
        Ok(AndOr { first, rest })
    }

    fn pipeline(&mut self) -> PResult<Pipeline> {
        self.skip_blanks();
        let mut bang = false;
        if self.peek_reserved() == Some("!") {
            self.bump();
            bang = true;
        }
        let mut cmds = vec![self.command()?];
        loop {
            self.skip_blanks();
            if self.peek_op() == Some("|") {
                self.bump();
                self.linebreak();
                cmds.push(self.command()?);
            } else {
                break;
            }
        }
        Ok(Pipeline { bang, cmds })
    }

    fn command(&mut self) -> PResult<Command> {
        self.skip_blanks();
        self.enter()?;
        let compound = match self.peek_reserved() {
            Some("if") => Some(self.if_clause()?),
            Some(kw @ ("while" | "until")) => Some(self.loop_clause(kw == "until")?),
            Some("for") => Some(self.for_clause()?),
            Some("case") => Some(self.case_clause()?),
            Some("{") => {
                self.bump();
                let l = self.nonempty_list(&["}"], "}")?;
                self.expect_reserved("}")?;
                Some(Compound::Brace(l))
            }
            Some(_) => return self.unexpected(None),
            None if self.peek_op() == Some("(") => {
                self.bump();
                let l = self.nonempty_list(&[], ")")?;
                self.skip_blanks();
                if self.peek_op() != Some(")") {
                    return self.unexpected(Some(")"));
                }
                self.bump();
                Some(Compound::Subshell(l))
            }
            None => None,
        };
        let cmd = match compound {
            Some(c) => {
                let mut redirs = Vec::new();
                loop {
                    self.skip_blanks();
                    if !self.at_redirection() {
                        break;
                    }
                    redirs.push(self.redirection()?);
                }
                Command::Compound(Box::new(c), redirs)
            }
            None => self.simple_command()?,
        };
        self.leave();
        Ok(cmd)
    }

    fn if_clause(&mut self) -> PResult<Compound> {
        self.eat_reserved("if");
        let mut branches = Vec::new();
        let mut otherwise = None;
        loop {
            let cond = self.nonempty_list(&["then"], "then")?;
            self.expect_reserved("then")?;
            let body = self.nonempty_list(&["elif", "else", "fi"], "fi")?;
            branches.push((cond, body));
            self.skip_blanks();
            match self.peek_reserved() {
                Some("elif") => {
                    self.eat_reserved("elif");
                }
                Some("else") => {
                    self.eat_reserved("else");
                    otherwise = Some(self.nonempty_list(&["fi"], "fi")?);
                    self.expect_reserved("fi")?;
                    break;
                }
                _ => {
                    self.expect_reserved("fi")?;
                    break;
                }
            }
        }
        Ok(Compound::If {
            branches,
            otherwise,
        })
    }

    fn do_group(&mut self) -> PResult<List> {
        self.linebreak();
        self.expect_reserved("do")?;
        let body = self.nonempty_list(&["done"], "done")?;
        self.expect_reserved("done")?;
        Ok(body)
    }

    fn loop_clause(&mut self, until: bool) -> PResult<Compound> {
        self.eat_reserved(if until { "until" } else { "while" });
        let cond = self.nonempty_list(&["do"], "do")?;
        let body = self.do_group()?;
        Ok(Compound::Loop { until, cond, body })
    }

    fn for_clause(&mut self) -> PResult<Compound> {
        self.eat_reserved("for");
        self.skip_blanks();
        let var = self.raw_run();
        if !is_name(&var) {
            return self.err("Syntax error: Bad for loop variable");
        }
        for _ in var.chars() {
            self.bump();
        }
        self.linebreak();
        let mut words = None;
        if self.peek_reserved() == Some("in") {
            self.eat_reserved("in");
            let mut ws = Vec::new();
            loop {
                self.skip_blanks();
                match self.peek() {
                    None | Some('\n') => break,
                    Some(c) if is_meta(c) => break,
                    _ => ws.push(self.word(Mode::Normal)?),
                }
            }
            words = Some(ws);
            self.skip_blanks();
            match self.peek() {
                Some(';') if self.peek_op() == Some(";") => {
                    self.bump();
                }
                Some('\n') => {}
                _ => return self.unexpected(Some("do")),
            }
        } else if self.peek_op() == Some(";") {
            self.bump();
        }
        let body = self.do_group()?;
        Ok(Compound::For { var, words, body })
    }

    fn case_clause(&mut self) -> PResult<Compound> {
        self.eat_reserved("case");
        self.skip_blanks();
        if self.peek().is_none_or(is_meta) {
            return self.unexpected(None);
        }
        let word = self.word(Mode::Normal)?;
        self.linebreak();
        self.expect_reserved("in")?;
        let mut arms = Vec::new();
        loop {
            self.linebreak();
            if self.peek_reserved() == Some("esac") {
                self.eat_reserved("esac");
                break;
            }
            if self.peek_op() == Some("(") {
                self.bump();
                self.skip_blanks();
            }
            let mut pats = Vec::new();
            loop {
                self.skip_blanks();
                match self.peek() {
                    Some(c) if !is_meta(c) => pats.push(self.word(Mode::Normal)?),
                    _ => return self.unexpected(Some(")")),
                }
                self.skip_blanks();
                match self.peek_op() {
                    Some("|") => {
                        self.bump();
                    }
                    Some(")") => {
                        self.bump();
                        break;
                    }
                    _ => return self.unexpected(Some(")")),
                }
            }
            let body = self.list(&["esac"])?;
            self.linebreak();
            if self.peek_op() == Some(";;") {
                self.bump();
                self.bump();
            } else if self.peek_reserved() != Some("esac") {
                return self.unexpected(Some("esac"));
            }
            arms.push((pats, body));
        }
        Ok(Compound::Case { word, arms })
    }

    fn at_redirection(&self) -> bool {
        let mut i = self.pos;
        while let Some(c) = self.src.get(i) {
            if c.is_ascii_digit() {
                i += 1;
            } else {
                break;
            }
        }
        match self.src.get(i) {
            Some('<') | Some('>') => true,
            Some('&') => i == self.pos && self.src.get(i + 1) == Some(&'>'),
            _ => false,
        }
    }

    fn redirection(&mut self) -> PResult<Redir> {
        let mut digits = String::new();
        while let Some(c) = self.peek() {
            if c.is_ascii_digit() {
                digits.push(c);
                self.bump();
            } else {
                break;
            }
        }
        let fd = if digits.is_empty() {
            None
        } else {
            match digits.parse::<u32>() {
                Ok(n) if n <= 9 => Some(n),
                _ => return self.err("Syntax error: Bad fd number"),
            }
        };
        let op = self.peek_op().unwrap_or("");
        for _ in op.chars() {
            self.bump();
        }
        if op == "<<" || op == "<<-" {
            self.skip_blanks();
            if self.peek().is_none_or(is_meta) {
                return self.unexpected(None);
            }
            let w = self.word(Mode::Normal)?;
            let quoted = w.0.iter().any(|p| !matches!(p, WordPart::Lit(_)));
            let delim = literal_text(&w);
            let cell = Rc::new(OnceCell::new());
            self.pending.push(PendingHere {
                cell: cell.clone(),
                delim,
                strip_tabs: op == "<<-",
                expand: !quoted,
            });
            return Ok(Redir {
                fd,
                op: RedirOp::In,
                target: RedirTarget::Here(cell),
            });
        }
        let op = match op {
            "<" => RedirOp::In,
            ">" | ">|" => RedirOp::Out,
            ">>" => RedirOp::Append,
            "<>" => RedirOp::ReadWrite,
            ">&" => RedirOp::DupOut,
            "<&" => RedirOp::DupIn,
            "&>" => RedirOp::OutErr,
            _ => return self.unexpected(None),
        };
        self.skip_blanks();
        if self.peek().is_none_or(is_meta) {
            return self.unexpected(None);
        }
        let w = self.word(Mode::Normal)?;
        Ok(Redir {
            fd,
            op,
            target: RedirTarget::Word(w),
        })
    }

    /// `NAME=` at the cursor?
    fn assignment_name(&self) -> Option<String> {
        let mut name = String::new();
        let mut i = self.pos;
        while let Some(&c) = self.src.get(i) {
            if c == '=' {
                return if is_name(&name) { Some(name) } else { None };
            }
            if !(c == '_' || c.is_ascii_alphanumeric()) {
                return None;
            }
            name.push(c);
            i += 1;
        }
        None
    }

    fn simple_command(&mut self) -> PResult<Command> {
        let line = self.line;
        let mut cmd = SimpleCommand {
            assigns: Vec::new(),
            words: Vec::new(),
            redirs: Vec::new(),
            line,
        };
        loop {
            self.skip_blanks();
            if self.at_redirection() {
                cmd.redirs.push(self.redirection()?);
                continue;
            }
            match self.peek() {
                Some(c) if !is_meta(c) => {}
                _ => break,
            }
            if cmd.words.is_empty() {
                if let Some(name) = self.assignment_name() {
                    for _ in 0..=name.chars().count() {
                        self.bump();
                    }
                    let value = self.word(Mode::Normal)?;
                    cmd.assigns.push((name, value));
                    continue;
                }
            }
            let w = self.word(Mode::Normal)?;
            if cmd.words.is_empty() && cmd.assigns.is_empty() && cmd.redirs.is_empty() {
                self.skip_blanks();
                if self.peek_op() == Some("(") {
                    return self.function_def(w);
                }
            }
            cmd.words.push(w);
        }
        if cmd.words.is_empty() && cmd.assigns.is_empty() && cmd.redirs.is_empty() {
            return self.unexpected(None);
        }
        Ok(Command::Simple(cmd))
    }

    fn function_def(&mut self, name_word: Word) -> PResult<Command> {
        self.bump();
        self.skip_blanks();
        if self.peek_op() != Some(")") {
            return self.unexpected(Some(")"));
        }
        self.bump();
        let name = literal_text(&name_word);
        if !is_name(&name) {
            return self.err("Syntax error: Bad function name");
        }
        self.linebreak();
        let body = self.command()?;
        if !matches!(body, Command::Compound(..)) {
            return self.err("Syntax error: Bad function body");
        }
        Ok(Command::FuncDef(name, Rc::new(body)))
    }

    // ----- words -----

    fn word(&mut self, mode: Mode) -> PResult<Word> {
        Ok(Word(self.parts(mode)?))
    }

    /// Parses word parts in `mode` until the mode's end (not consumed, except the closing
    /// `"` of [`Mode::Double`]).
    fn parts(&mut self, mode: Mode) -> PResult<Vec<WordPart>> {
        let mut parts = Vec::new();
        let mut lit = String::new();
        let flush = |lit: &mut String, parts: &mut Vec<WordPart>| {
            if !lit.is_empty() {
                parts.push(WordPart::Lit(std::mem::take(lit)));
            }
        };
        let start = self.pos;
        loop {
            let Some(c) = self.peek() else {
                if mode == Mode::Double {
                    return self.err("Syntax error: Unterminated quoted string");
                }
                if mode == Mode::Brace {
                    return self.err("Syntax error: Missing '}'");
                }
                break;
            };
            match (mode, c) {
                (Mode::Normal, c) if is_meta(c) => break,
                (Mode::Brace, '}') => break,
                (Mode::Double, '"') => {
                    self.bump();
                    break;
                }
                (Mode::Normal | Mode::Brace, '\'') => {
                    flush(&mut lit, &mut parts);
                    self.bump();
                    let mut q = String::new();
                    loop {
                        match self.bump() {
                            None => return self.err("Syntax error: Unterminated quoted string"),
                            Some('\'') => break,
                            Some(c) => q.push(c),
                        }
                    }
                    parts.push(WordPart::Quoted(q));
                }
                (Mode::Normal | Mode::Brace, '"') => {
                    flush(&mut lit, &mut parts);
                    self.bump();
                    let inner = self.parts(Mode::Double)?;
                    parts.push(WordPart::Double(inner));
                }
                (_, '\\') => {
                    self.bump();
                    match self.peek() {
                        Some('\n') => {
                            self.bump();
                        }
                        None => lit.push('\\'),
                        Some(n) => {
                            let escapes = match mode {
                                Mode::Double => matches!(n, '$' | '`' | '"' | '\\'),
                                Mode::HereDoc => matches!(n, '$' | '`' | '\\'),
                                _ => true,
                            };
                            if escapes {
                                self.bump();
                                flush(&mut lit, &mut parts);
                                parts.push(WordPart::Quoted(n.to_string()));
                            } else {
                                lit.push('\\');
                            }
                        }
                    }
                }
                (_, '$') => {
                    flush(&mut lit, &mut parts);
                    self.bump();
                    let p = self.dollar()?;
                    parts.push(p);
                }
                (_, '`') => {
                    flush(&mut lit, &mut parts);
                    self.bump();
                    let p = self.backtick(mode)?;
                    parts.push(p);
                }
                (Mode::Normal, '~') if self.pos == start => {
                    let mut name = String::new();
                    let mut i = self.pos + 1;
                    while let Some(&c) = self.src.get(i) {
                        if c == '/' || is_meta(c) {
                            break;
                        }
                        name.push(c);
                        i += 1;
                    }
                    if name
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c))
                    {
                        self.pos = i;
                        parts.push(WordPart::Tilde(name));
                    } else {
                        self.bump();
                        lit.push('~');
                    }
                }
                _ => {
                    self.bump();
                    lit.push(c);
                }
            }
        }
        flush(&mut lit, &mut parts);
        Ok(parts)
    }

    fn dollar(&mut self) -> PResult<WordPart> {
        match self.peek() {
            Some('{') => {
                self.bump();
                self.brace_param()
            }
            Some('(') if self.peek_at(1) == Some('(') => {
                self.bump();
                self.bump();
                self.enter()?;
                let parts = self.arith_parts()?;
                self.leave();
                Ok(WordPart::Arith(parts))
            }
            Some('(') => {
                self.bump();
                self.enter()?;
                let l = self.list(&[])?;
                self.linebreak();
                if self.peek_op() != Some(")") {
                    return self.unexpected(Some(")"));
                }
                self.bump();
                self.leave();
                Ok(WordPart::Command(Rc::new(l)))
            }
            Some(c) if c == '_' || c.is_ascii_alphabetic() => {
                let mut name = String::new();
                while let Some(c) = self.peek() {
                    if c == '_' || c.is_ascii_alphanumeric() {
                        name.push(c);
                        self.bump();
                    } else {
                        break;
                    }
                }
                Ok(param(name, ParamOp::Plain))
            }
            Some(c) if c.is_ascii_digit() || "@*#?-$!".contains(c) => {
                self.bump();
                Ok(param(c.to_string(), ParamOp::Plain))
            }
            // A `$` not followed by a name or `{`/`(` is literal, as in dash.
            _ => Ok(WordPart::Lit("$".into())),
        }
    }

    fn brace_param(&mut self) -> PResult<WordPart> {
        // ${#} is $#; ${#name} is a length.
        let mut length = false;
        if self.peek() == Some('#') && self.peek_at(1) != Some('}') {
            self.bump();
            length = true;
        }
        let mut name = String::new();
        match self.peek() {
            Some(c) if c == '_' || c.is_ascii_alphabetic() => {
                while let Some(c) = self.peek() {
                    if c == '_' || c.is_ascii_alphanumeric() {
                        name.push(c);
                        self.bump();
                    } else {
                        break;
                    }
                }
            }
            Some(c) if c.is_ascii_digit() => {
                while let Some(c) = self.peek() {
                    if c.is_ascii_digit() {
                        name.push(c);
                        self.bump();
                    } else {
                        break;
                    }
                }
            }
            Some(c) if "@*#?-$!".contains(c) => {
                name.push(c);
                self.bump();
            }
            _ => return self.err("Bad substitution"),
        }
        if length {
            if self.bump() != Some('}') {
                return self.err("Bad substitution");
            }
            return Ok(param(name, ParamOp::Length));
        }
        let colon = if self.peek() == Some(':') {
            self.bump();
            true
        } else {
            false
        };
        let op = self.bump();
        let mk: fn(bool, Word) -> ParamOp = match op {
            Some('}') if !colon => return Ok(param(name, ParamOp::Plain)),
            Some('-') => ParamOp::Default,
            Some('=') => ParamOp::Assign,
            Some('?') => ParamOp::Error,
            Some('+') => ParamOp::Alt,
            Some('%') if !colon => {
                let longest = self.peek() == Some('%');
                if longest {
                    self.bump();
                }
                let w = self.brace_operand()?;
                return Ok(param(name, ParamOp::TrimSuffix(longest, w)));
            }
            Some('#') if !colon => {
                let longest = self.peek() == Some('#');
                if longest {
                    self.bump();
                }
                let w = self.brace_operand()?;
                return Ok(param(name, ParamOp::TrimPrefix(longest, w)));
            }
            _ => return self.err("Bad substitution"),
        };
        let w = self.brace_operand()?;
        Ok(param(name, mk(colon, w)))
    }

    fn brace_operand(&mut self) -> PResult<Word> {
        self.enter()?;
        let w = self.word(Mode::Brace)?;
        self.leave();
        if self.bump() != Some('}') {
            return self.err("Syntax error: Missing '}'");
        }
        Ok(w)
    }

    /// The inside of `$((...))` up to the matching `))`, with expansions parsed.
    fn arith_parts(&mut self) -> PResult<Vec<WordPart>> {
        let mut parts = Vec::new();
        let mut lit = String::new();
        let mut depth = 0usize;
        loop {
            let Some(c) = self.peek() else {
                return self.err("Syntax error: Missing '))'");
            };
            match c {
                '(' => {
                    depth += 1;
                    lit.push(c);
                    self.bump();
                }
                ')' if depth == 0 => {
                    self.bump();
                    if self.bump() != Some(')') {
                        return self.err("Syntax error: Missing '))'");
                    }
                    break;
                }
                ')' => {
                    depth -= 1;
                    lit.push(c);
                    self.bump();
                }
                '$' | '`' | '"' | '\'' | '\\' => {
                    if !lit.is_empty() {
                        parts.push(WordPart::Lit(std::mem::take(&mut lit)));
                    }
                    match c {
                        '$' => {
                            self.bump();
                            parts.push(self.dollar()?);
                        }
                        '`' => {
                            self.bump();
                            parts.push(self.backtick(Mode::Double)?);
                        }
                        '"' => {
                            self.bump();
                            parts.push(WordPart::Double(self.parts(Mode::Double)?));
                        }
                        '\'' => {
                            self.bump();
                            let mut q = String::new();
                            loop {
                                match self.bump() {
                                    None => {
                                        return self.err("Syntax error: Unterminated quoted string")
                                    }
                                    Some('\'') => break,
                                    Some(c) => q.push(c),
                                }
                            }
                            parts.push(WordPart::Quoted(q));
                        }
                        _ => {
                            self.bump();
                            if let Some(n) = self.bump() {
                                parts.push(WordPart::Quoted(n.to_string()));
                            }
                        }
                    }
                }
                _ => {
                    lit.push(c);
                    self.bump();
                }
            }
        }
        if !lit.is_empty() {
            parts.push(WordPart::Lit(lit));
        }
        Ok(parts)
    }

    fn backtick(&mut self, mode: Mode) -> PResult<WordPart> {
        let line = self.line;
        let mut s = String::new();
        loop {
            match self.bump() {
                None => return self.err("Syntax error: EOF in backquote substitution"),
                Some('`') => break,
                Some('\\') => match self.peek() {
                    Some(n)
                        if n == '$'
                            || n == '`'
                            || n == '\\'
                            || (n == '"' && mode == Mode::Double) =>
                    {
                        self.bump();
                        s.push(n);
                    }
                    _ => s.push('\\'),
                },
                Some(c) => s.push(c),
            }
        }
        self.enter()?;
        let mut p = Parser::new(&s, line);
        p.depth = self.depth;
        let mut all = Vec::new();
        loop {
            match p.next_complete_command() {
                Ok(Some(l)) => all.extend(l),
                Ok(None) => break,
                Err(e) => return Err(e),
            }
        }
        self.leave();
        Ok(WordPart::Command(Rc::new(all)))
    }
}

fn param(name: String, op: ParamOp) -> WordPart {
    WordPart::Param(Box::new(ParamExp { name, op }))
}

/// The text of a word with quotes removed and no expansion (here-doc delimiters, function
/// names).
pub fn literal_text(w: &Word) -> String {
    fn go(parts: &[WordPart], out: &mut String) {
        for p in parts {
            match p {
                WordPart::Lit(s) | WordPart::Quoted(s) => out.push_str(s),
                WordPart::Double(inner) => go(inner, out),
                WordPart::Tilde(n) => {
                    out.push('~');
                    out.push_str(n);
                }
                WordPart::Param(p) => {
                    out.push('$');
                    out.push_str(&p.name);
                }
                WordPart::Command(_) | WordPart::Arith(_) => {}
            }
        }
    }
    let mut s = String::new();
    go(&w.0, &mut s);
    s
}

/// Parses a here-document body for expansion (only `$`, backquotes and `\` are special).
pub fn parse_heredoc_body(body: &str, line: usize) -> PResult<Word> {
    let mut p = Parser::new(body, line);
    p.word(Mode::HereDoc)
}
