//! The files the fleet's services read from their hosts: load balancer pool stanzas
//! (`server NAME { key = value ... }`, as the seed lab's playbook writes them into
//! `active/*.conf` and `draining/*.conf`), app configs and database replication configs
//! (TOML). Every error says where: `line L column C: MESSAGE`.

use indexmap::IndexMap;
use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use std::fmt;
use std::ops::Range;

/// PostgreSQL's port when a replication config names a primary without one.
const DEFAULT_PG_PORT: u16 = 5432;

/// A config file the service cannot use, and where.
#[derive(Debug, Clone, PartialEq)]
pub struct ConfError {
    /// 1-based line.
    pub line: usize,
    /// 1-based column, in characters.
    pub column: usize,
    pub message: String,
    /// The TOML parser's own error, for TOML files (boxed: it is large, and errors travel
    /// through every `?`).
    pub source: Option<Box<toml::de::Error>>,
}

impl ConfError {
    fn new(line: usize, column: usize, message: impl Into<String>) -> ConfError {
        ConfError {
            line,
            column,
            message: message.into(),
            source: None,
        }
    }

    /// An error at byte `offset` of `text`.
    fn at(text: &str, offset: usize, message: impl Into<String>) -> ConfError {
        let (line, column) = line_col(text, offset);
        ConfError::new(line, column, message)
    }
}

impl fmt::Display for ConfError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "line {} column {}: {}",
            self.line, self.column, self.message
        )
    }
}

impl std::error::Error for ConfError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source
            .as_ref()
            .map(|e| &**e as &(dyn std::error::Error + 'static))
    }
}

/// 1-based line and character column of byte `offset` (clamped to the text).
fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let mut end = offset.min(text.len());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let before = &text[..end];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map(|i| i + 1).unwrap_or(0);
    (line, before[line_start..].chars().count() + 1)
}

// ----- load balancer stanzas -----

/// A value on the right of `key =` in a stanza.
#[derive(Debug, Clone, PartialEq)]
pub enum ConfValue {
    /// `"quoted"` (escapes `\"`, `\\`, `\n`, `\t`, `\r`).
    Str(String),
    /// `30`, `-1`.
    Int(i64),
    /// `0.5`, `1e3`.
    Float(f64),
    /// `true`, `false`.
    Bool(bool),
    /// Any other bare word: `draining`, `127.1.0.2`, `30s`.
    Word(String),
}

impl ConfValue {
    /// The text of a string or a bare word.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            ConfValue::Str(s) | ConfValue::Word(s) => Some(s),
            _ => None,
        }
    }

    /// A whole number, written bare or quoted (`port = "8080"` means what it says).
    pub fn as_int(&self) -> Option<i64> {
        match self {
            ConfValue::Int(n) => Some(*n),
            ConfValue::Str(s) | ConfValue::Word(s) => s.trim().parse().ok(),
            _ => None,
        }
    }
}

impl fmt::Display for ConfValue {
    /// The value as [`render`] writes it, which parses back to the same value.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfValue::Str(s) => write!(f, "{}", quote(s)),
            ConfValue::Int(n) => write!(f, "{n}"),
            // `{:?}` keeps a `.0` or an exponent, so the text reads back as a float.
            ConfValue::Float(x) => write!(f, "{x:?}"),
            ConfValue::Bool(b) => write!(f, "{b}"),
            ConfValue::Word(w) if is_word(w) && classify(w) == Ok(ConfValue::Word(w.clone())) => {
                write!(f, "{w}")
            }
            ConfValue::Word(w) => write!(f, "{}", quote(w)),
        }
    }
}

/// One `server NAME { ... }` block.
#[derive(Debug, Clone, PartialEq)]
pub struct Stanza {
    pub name: String,
    /// Line of the `server` keyword.
    pub line: usize,
    /// Fields in file order.
    pub fields: IndexMap<String, ConfValue>,
}

impl Stanza {
    pub fn get(&self, key: &str) -> Option<&ConfValue> {
        self.fields.get(key)
    }

    /// A string or bare-word field.
    pub fn str_field(&self, key: &str) -> Option<&str> {
        self.get(key).and_then(ConfValue::as_str)
    }

    pub fn address(&self) -> Option<&str> {
        self.str_field("address")
    }

    /// `port`, when it is a port ([`parse_stanzas`] rejects any other value).
    pub fn port(&self) -> Option<u16> {
        self.get("port").and_then(as_port)
    }

    /// `weight`, 1 when absent (as most load balancers default it).
    pub fn weight(&self) -> u32 {
        self.get("weight").and_then(as_weight).unwrap_or(1)
    }

    pub fn status(&self) -> Option<&str> {
        self.str_field("status")
    }
}

fn as_port(v: &ConfValue) -> Option<u16> {
    v.as_int()
        .and_then(|n| u16::try_from(n).ok())
        .filter(|p| *p != 0)
}

fn as_weight(v: &ConfValue) -> Option<u32> {
    v.as_int().and_then(|n| u32::try_from(n).ok())
}

/// Parses a pool file: any number of `server NAME { key = value }` stanzas, one field per
/// line, `#` comments on their own line or after a value, blank lines and any indentation.
/// Known fields are checked (`port` a port, `weight` a whole number, `address` and `status`
/// text); a field set twice in one stanza is an error.
pub fn parse_stanzas(text: &str) -> Result<Vec<Stanza>, ConfError> {
    StanzaParser::new(text).file()
}

/// Writes stanzas in the canonical layout; [`parse_stanzas`] reads them back unchanged
/// (except `line`).
pub fn render(stanzas: &[Stanza]) -> String {
    let mut out = String::new();
    for (i, s) in stanzas.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        let name = if is_word(&s.name) {
            s.name.clone()
        } else {
            quote(&s.name)
        };
        out.push_str(&format!("server {name} {{\n"));
        for (k, v) in &s.fields {
            out.push_str(&format!("  {k} = {v}\n"));
        }
        out.push_str("}\n");
    }
    out
}

fn quote(s: &str) -> String {
    let mut q = String::with_capacity(s.len() + 2);
    q.push('"');
    for c in s.chars() {
        match c {
            '"' => q.push_str("\\\""),
            '\\' => q.push_str("\\\\"),
            '\n' => q.push_str("\\n"),
            '\t' => q.push_str("\\t"),
            '\r' => q.push_str("\\r"),
            c => q.push(c),
        }
    }
    q.push('"');
    q
}

/// Characters a bare word (server name or value) may contain.
fn is_word_char(c: char) -> bool {
    !c.is_whitespace() && !c.is_control() && !matches!(c, '{' | '}' | '"' | '#' | '=')
}

fn is_word(s: &str) -> bool {
    !s.is_empty() && s.chars().all(is_word_char)
}

fn is_key(s: &str) -> bool {
    let mut cs = s.chars();
    matches!(cs.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && cs.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
}

/// What a bare word means: a bool, a number, or just a word. `Err` for a number too large.
fn classify(w: &str) -> Result<ConfValue, String> {
    match w {
        "true" => return Ok(ConfValue::Bool(true)),
        "false" => return Ok(ConfValue::Bool(false)),
        _ => {}
    }
    let digits = w.strip_prefix(['+', '-']).unwrap_or(w);
    let all_digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if all_digits(digits) {
        return w
            .parse::<i64>()
            .map(ConfValue::Int)
            .map_err(|_| format!("{w} is too large for a number"));
    }
    // A float is digits, then a `.digits` part, an exponent, or both.
    let (mantissa, exponent) = match digits.find(['e', 'E']) {
        Some(i) => (&digits[..i], Some(&digits[i + 1..])),
        None => (digits, None),
    };
    let (int_part, frac) = match mantissa.split_once('.') {
        Some((a, b)) => (a, Some(b)),
        None => (mantissa, None),
    };
    let is_float = all_digits(int_part)
        && frac.is_none_or(all_digits)
        && exponent.is_none_or(|e| all_digits(e.strip_prefix(['+', '-']).unwrap_or(e)))
        && (frac.is_some() || exponent.is_some());
    if is_float {
        return match w.parse::<f64>() {
            Ok(x) if x.is_finite() => Ok(ConfValue::Float(x)),
            _ => Err(format!("{w} is too large for a number")),
        };
    }
    Ok(ConfValue::Word(w.to_string()))
}

/// A character cursor with 1-based line and column.
struct StanzaParser {
    chars: Vec<char>,
    pos: usize,
    line: usize,
    col: usize,
}

impl StanzaParser {
    fn new(text: &str) -> StanzaParser {
        StanzaParser {
            chars: text.chars().collect(),
            pos: 0,
            line: 1,
            col: 1,
        }
    }

    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.pos += 1;
        if c == '\n' {
            self.line += 1;
            self.col = 1;
        } else {
            self.col += 1;
        }
        Some(c)
    }

    fn err(&self, message: impl Into<String>) -> ConfError {
        ConfError::new(self.line, self.col, message)
    }

    /// What the next character looks like in a message.
    fn found(&self) -> String {
        match self.peek() {
            None => "the end of the file".into(),
            Some('\n') => "the end of the line".into(),
            Some(c) => format!("'{c}'"),
        }
    }

    /// Spaces, tabs, carriage returns and a trailing `# comment` (not the newline).
    fn skip_inline(&mut self) {
        while let Some(c) = self.peek() {
            if c == '#' {
                while self.peek().is_some_and(|c| c != '\n') {
                    self.bump();
                }
            } else if c != '\n' && c.is_whitespace() {
                self.bump();
            } else {
                break;
            }
        }
    }

    /// Whitespace, comments and newlines.
    fn skip_blank(&mut self) {
        loop {
            self.skip_inline();
            if self.peek() == Some('\n') {
                self.bump();
            } else {
                break;
            }
        }
    }

    fn word(&mut self) -> String {
        let mut w = String::new();
        while let Some(c) = self.peek().filter(|c| is_word_char(*c)) {
            w.push(c);
            self.bump();
        }
        w
    }

    /// A `"..."` string; the cursor is on the opening quote.
    fn string(&mut self) -> Result<String, ConfError> {
        let (line, col) = (self.line, self.col);
        self.bump();
        let mut s = String::new();
        loop {
            match self.peek() {
                None | Some('\n') => {
                    return Err(ConfError::new(line, col, "unterminated string"));
                }
                Some('"') => {
                    self.bump();
                    return Ok(s);
                }
                Some('\\') => {
                    let (el, ec) = (self.line, self.col);
                    self.bump();
                    let esc = match self.peek() {
                        Some('"') => '"',
                        Some('\\') => '\\',
                        Some('n') => '\n',
                        Some('t') => '\t',
                        Some('r') => '\r',
                        None | Some('\n') => {
                            return Err(ConfError::new(line, col, "unterminated string"));
                        }
                        Some(other) => {
                            return Err(ConfError::new(
                                el,
                                ec,
                                format!(
                                    "unknown escape '\\{other}' in a string (write '\\\\' for a backslash)"
                                ),
                            ));
                        }
                    };
                    self.bump();
                    s.push(esc);
                }
                Some(c) => {
                    self.bump();
                    s.push(c);
                }
            }
        }
    }

    fn file(&mut self) -> Result<Vec<Stanza>, ConfError> {
        let mut out = Vec::new();
        loop {
            self.skip_blank();
            if self.peek().is_none() {
                return Ok(out);
            }
            out.push(self.stanza()?);
        }
    }

    fn stanza(&mut self) -> Result<Stanza, ConfError> {
        let line = self.line;
        if self.peek() == Some('}') {
            return Err(self.err("'}' without a server block to close"));
        }
        let start = (self.line, self.col);
        let kw = self.word();
        if kw != "server" {
            let found = if kw.is_empty() {
                self.found()
            } else {
                format!("'{kw}'")
            };
            return Err(ConfError::new(
                start.0,
                start.1,
                format!("expected 'server NAME {{', found {found}"),
            ));
        }
        self.skip_inline();
        let name = match self.peek() {
            Some('"') => self.string()?,
            Some(c) if is_word_char(c) => self.word(),
            _ => return Err(self.err("expected a server name after 'server'")),
        };
        if name.is_empty() {
            return Err(ConfError::new(line, start.1, "the server name is empty"));
        }
        self.skip_blank();
        if self.peek() != Some('{') {
            return Err(self.err(format!(
                "expected '{{' after server name, found {}",
                self.found()
            )));
        }
        self.bump();
        let mut fields: IndexMap<String, ConfValue> = IndexMap::new();
        let mut key_lines: IndexMap<String, usize> = IndexMap::new();
        loop {
            self.skip_blank();
            match self.peek() {
                None => {
                    return Err(self.err(format!(
                        "missing '}}' closing server {name} opened at line {line}"
                    )))
                }
                Some('}') => {
                    self.bump();
                    break;
                }
                _ => {}
            }
            let (kl, kc) = (self.line, self.col);
            let key = self.word();
            if key.is_empty() {
                return Err(self.err(format!(
                    "expected a field name or '}}', found {}",
                    self.found()
                )));
            }
            if key == "server" {
                return Err(ConfError::new(
                    kl,
                    kc,
                    format!("missing '}}' closing server {name} opened at line {line}"),
                ));
            }
            if !is_key(&key) {
                return Err(ConfError::new(
                    kl,
                    kc,
                    format!("'{key}' is not a field name (letters, digits, '_', '-' and '.')"),
                ));
            }
            self.skip_inline();
            if self.peek() != Some('=') {
                return Err(self.err(format!(
                    "expected '=' after field name {key}, found {}",
                    self.found()
                )));
            }
            self.bump();
            self.skip_inline_spaces();
            let (vl, vc) = (self.line, self.col);
            let value = match self.peek() {
                Some('"') => ConfValue::Str(self.string()?),
                Some(c) if is_word_char(c) => {
                    let w = self.word();
                    classify(&w).map_err(|m| ConfError::new(vl, vc, m))?
                }
                _ => {
                    return Err(self.err(format!(
                        "expected a value after '{key} =', found {}",
                        self.found()
                    )))
                }
            };
            check_field(&key, &value).map_err(|m| ConfError::new(vl, vc, m))?;
            if let Some(first) = key_lines.get(&key) {
                return Err(ConfError::new(
                    kl,
                    kc,
                    format!("duplicate field {key} in server {name} (first set at line {first})"),
                ));
            }
            self.skip_inline();
            match self.peek() {
                None | Some('\n') | Some('}') => {}
                _ => {
                    return Err(self.err(format!(
                        "expected the end of the line after the value of {key}, found {}",
                        self.found()
                    )))
                }
            }
            key_lines.insert(key.clone(), kl);
            fields.insert(key, value);
        }
        Ok(Stanza { name, line, fields })
    }

    /// Spaces and tabs only: a `#` right after `=` is a missing value, not a comment.
    fn skip_inline_spaces(&mut self) {
        while self.peek().is_some_and(|c| c != '\n' && c.is_whitespace()) {
            self.bump();
        }
    }
}

/// Checks the fields whose meaning the load balancer relies on.
fn check_field(key: &str, value: &ConfValue) -> Result<(), String> {
    match key {
        "port" if as_port(value).is_none() => Err(format!("port = {value} is not a port")),
        "weight" if as_weight(value).is_none() => Err(format!(
            "weight = {value} is not a weight (a whole number from 0 to {})",
            u32::MAX
        )),
        "address" | "status" if value.as_str().is_none() => {
            Err(format!("{key} = {value} should be a string"))
        }
        _ => Ok(()),
    }
}

// ----- TOML configs -----

/// A TOML value with the span of each value inside it, tables in document order.
#[derive(Debug, Clone, PartialEq)]
enum Node {
    Table(Vec<(String, Located)>),
    Array(Vec<Located>),
    Str(String),
    Int(i64),
    Float(f64),
    Bool(bool),
    Datetime(String),
}

impl Node {
    fn get(&self, key: &str) -> Option<&Located> {
        match self {
            Node::Table(t) => t.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    fn kind(&self) -> &'static str {
        match self {
            Node::Table(_) => "a table",
            Node::Array(_) => "an array",
            Node::Str(_) => "a string",
            Node::Int(_) => "an integer",
            Node::Float(_) => "a float",
            Node::Bool(_) => "a boolean",
            Node::Datetime(_) => "a date-time",
        }
    }
}

/// The key under which toml hands a date-time to a visitor (`toml_datetime`'s private
/// convention): turned back into a plain value rather than a one-key table.
const DATETIME_KEY: &str = "$__toml_private_datetime";

/// A TOML value and the bytes it spans (`0..0` for a table only implied by a header such
/// as `[a.b]`, which has no text of its own).
#[derive(Debug, Clone, PartialEq)]
struct Located {
    span: Range<usize>,
    node: Node,
}

impl Located {
    fn get_ref(&self) -> &Node {
        &self.node
    }

    fn span(&self) -> Range<usize> {
        self.span.clone()
    }
}

/// serde_spanned's protocol (what `toml::Spanned` asks the deserializer for), spoken here
/// because `Spanned` itself fails on implied tables, which have no span to give.
const SPANNED_NAME: &str = "$__serde_spanned_private_Spanned";
const SPANNED_START: &str = "$__serde_spanned_private_start";
const SPANNED_END: &str = "$__serde_spanned_private_end";
const SPANNED_VALUE: &str = "$__serde_spanned_private_value";
const SPANNED_FIELDS: &[&str] = &[SPANNED_START, SPANNED_END, SPANNED_VALUE];

impl<'de> Deserialize<'de> for Located {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Located, D::Error> {
        d.deserialize_struct(SPANNED_NAME, SPANNED_FIELDS, LocatedVisitor)
    }
}

struct LocatedVisitor;

impl LocatedVisitor {
    fn plain<E>(node: Result<Node, E>) -> Result<Located, E> {
        node.map(|node| Located { span: 0..0, node })
    }
}

impl<'de> Visitor<'de> for LocatedVisitor {
    type Value = Located;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "a TOML value")
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Located, E> {
        Self::plain(NodeVisitor.visit_bool(v))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Located, E> {
        Self::plain(NodeVisitor.visit_i64(v))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Located, E> {
        Self::plain(NodeVisitor.visit_u64(v))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Located, E> {
        Self::plain(NodeVisitor.visit_f64(v))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Located, E> {
        Self::plain(NodeVisitor.visit_str(v))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Located, A::Error> {
        Self::plain(NodeVisitor.visit_seq(seq))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Located, A::Error> {
        let Some(first) = map.next_key::<String>()? else {
            return Ok(Located {
                span: 0..0,
                node: Node::Table(Vec::new()),
            });
        };
        if first != SPANNED_START {
            // An implied table: no span, its entries follow.
            return Self::plain(table_entries(Some(first), map));
        }
        let start: usize = map.next_value()?;
        let mut end = start;
        let mut node = None;
        while let Some(k) = map.next_key::<String>()? {
            if k == SPANNED_END {
                end = map.next_value()?;
            } else if k == SPANNED_VALUE {
                node = Some(map.next_value::<Node>()?);
            } else {
                return Err(de::Error::custom(format!(
                    "unexpected key {k} in a spanned value"
                )));
            }
        }
        match node {
            Some(node) => Ok(Located {
                span: start..end,
                node,
            }),
            None => Err(de::Error::custom("a spanned value without its value")),
        }
    }
}

/// The entries of a table (the first key may already have been read).
fn table_entries<'de, A: MapAccess<'de>>(
    first: Option<String>,
    mut map: A,
) -> Result<Node, A::Error> {
    let mut entries = Vec::new();
    let mut key = first;
    if key.is_none() {
        key = map.next_key::<String>()?;
    }
    while let Some(k) = key {
        if k == DATETIME_KEY {
            return Ok(Node::Datetime(map.next_value::<String>()?));
        }
        let v = map.next_value::<Located>()?;
        entries.push((k, v));
        key = map.next_key::<String>()?;
    }
    Ok(Node::Table(entries))
}

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Node, D::Error> {
        d.deserialize_any(NodeVisitor)
    }
}

struct NodeVisitor;

impl<'de> Visitor<'de> for NodeVisitor {
    type Value = Node;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "a TOML value")
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Node, E> {
        Ok(Node::Bool(v))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Node, E> {
        Ok(Node::Int(v))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Node, E> {
        i64::try_from(v)
            .map(Node::Int)
            .map_err(|_| E::custom("integer too large"))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Node, E> {
        Ok(Node::Float(v))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Node, E> {
        Ok(Node::Str(v.to_string()))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Node, E> {
        Ok(Node::Str(v))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Node, A::Error> {
        let mut items = Vec::new();
        while let Some(v) = seq.next_element::<Located>()? {
            items.push(v);
        }
        Ok(Node::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Node, A::Error> {
        table_entries(None, map)
    }
}

fn parse_toml(text: &str) -> Result<Node, ConfError> {
    toml::from_str::<Node>(text).map_err(|e| {
        let (line, column) = e.span().map(|s| line_col(text, s.start)).unwrap_or((1, 1));
        ConfError {
            line,
            column,
            message: e.message().to_string(),
            source: Some(Box::new(e)),
        }
    })
}

/// The deployed version an app config names: `version` under `[application]`, else a
/// top-level `version`. `Ok(None)` when there is neither.
pub fn app_version(text: &str) -> Result<Option<String>, ConfError> {
    let doc = parse_toml(text)?;
    let found = doc
        .get("application")
        .and_then(|app| app.get_ref().get("version"))
        .or_else(|| doc.get("version"));
    match found {
        None => Ok(None),
        Some(v) => match v.get_ref() {
            Node::Str(s) => Ok(Some(s.clone())),
            other => {
                let raw = text.get(v.span()).unwrap_or("").trim();
                Err(ConfError::at(
                    text,
                    v.span().start,
                    format!(
                        "version must be a string, found {} (write version = \"{raw}\")",
                        other.kind()
                    ),
                ))
            }
        },
    }
}

/// Where a database replica replicates from: the first table (the top level, then every
/// table in document order, depth first) with `primary_host` (and `primary_port`, default
/// 5432) or a `connection_string` (`postgresql://user@host:port/db` or `host=... port=...`).
/// `Ok(None)` when no table names a primary.
pub fn replication_source(text: &str) -> Result<Option<(String, u16)>, ConfError> {
    let doc = parse_toml(text)?;
    find_source(text, &doc)
}

fn find_source(text: &str, table: &Node) -> Result<Option<(String, u16)>, ConfError> {
    let Node::Table(entries) = table else {
        return Ok(None);
    };
    if let Some(host) = table.get("primary_host") {
        let Node::Str(h) = host.get_ref() else {
            return Err(ConfError::at(
                text,
                host.span().start,
                format!(
                    "primary_host must be a string, found {}",
                    host.get_ref().kind()
                ),
            ));
        };
        if h.trim().is_empty() {
            return Err(ConfError::at(
                text,
                host.span().start,
                "primary_host is empty",
            ));
        }
        let port = match table.get("primary_port") {
            None => DEFAULT_PG_PORT,
            Some(p) => toml_port(p.get_ref()).ok_or_else(|| {
                let raw = text.get(p.span()).unwrap_or("").trim();
                ConfError::at(
                    text,
                    p.span().start,
                    format!("primary_port = {raw} is not a port"),
                )
            })?,
        };
        return Ok(Some((h.trim().to_string(), port)));
    }
    if let Some(cs) = table.get("connection_string") {
        let Node::Str(s) = cs.get_ref() else {
            return Err(ConfError::at(
                text,
                cs.span().start,
                format!(
                    "connection_string must be a string, found {}",
                    cs.get_ref().kind()
                ),
            ));
        };
        return parse_conninfo(s)
            .map(Some)
            .map_err(|m| ConfError::at(text, cs.span().start, format!("connection_string: {m}")));
    }
    for (_, v) in entries {
        // Arrays of tables (`[[replica]]`) are tables too.
        let children: &[Located] = match v.get_ref() {
            Node::Array(items) => items,
            _ => std::slice::from_ref(v),
        };
        for child in children {
            if let Some(found) = find_source(text, child.get_ref())? {
                return Ok(Some(found));
            }
        }
    }
    Ok(None)
}

fn toml_port(n: &Node) -> Option<u16> {
    let v = match n {
        Node::Int(i) => *i,
        Node::Str(s) => s.trim().parse().ok()?,
        _ => return None,
    };
    u16::try_from(v).ok().filter(|p| *p != 0)
}

/// Host and port of a libpq connection string, URI (`postgresql://u:p@host:5432/db?x=y`)
/// or keyword form (`host=h port=5432 user=u`). Only the first host of a list counts.
fn parse_conninfo(s: &str) -> Result<(String, u16), String> {
    let s = s.trim();
    let rest = s
        .strip_prefix("postgresql://")
        .or_else(|| s.strip_prefix("postgres://"));
    let (host, port) = match rest {
        Some(rest) => {
            let authority = rest.split(['/', '?']).next().unwrap_or("");
            let hostport = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
            let first = hostport.split(',').next().unwrap_or("");
            if let Some(v6) = first.strip_prefix('[') {
                match v6.split_once(']') {
                    Some((h, p)) => (h.to_string(), p.strip_prefix(':').map(str::to_string)),
                    None => return Err(format!("unclosed '[' in host of '{s}'")),
                }
            } else {
                match first.split_once(':') {
                    Some((h, p)) => (h.to_string(), Some(p.to_string())),
                    None => (first.to_string(), None),
                }
            }
        }
        None if s.contains('=') => {
            let mut host = String::new();
            let mut port = None;
            for pair in s.split_whitespace() {
                match pair.split_once('=') {
                    Some(("host" | "hostaddr", v)) if host.is_empty() => {
                        host = v.split(',').next().unwrap_or("").to_string();
                    }
                    Some(("port", v)) => {
                        port = Some(v.split(',').next().unwrap_or("").to_string());
                    }
                    Some(_) => {}
                    None => return Err(format!("'{pair}' is not key=value")),
                }
            }
            (host, port)
        }
        None => {
            return Err(format!(
                "'{s}' is neither a postgresql:// URI nor key=value pairs"
            ))
        }
    };
    if host.is_empty() {
        return Err(format!("no host in '{s}'"));
    }
    let port = match port.as_deref() {
        None | Some("") => DEFAULT_PG_PORT,
        Some(p) => p
            .parse::<u16>()
            .ok()
            .filter(|p| *p != 0)
            .ok_or_else(|| format!("port {p} is not a port"))?,
    };
    Ok((host, port))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// What the seed's "Put server in draining mode" template renders to (Ansible's
    /// trim_blocks eats the `{% if %}` lines but leaves their indentation on the next line).
    const DRAIN: &str = "# Drain configuration for web-prod-01\n\
# Generated: 2026-11-26T10:00:00Z\n\
\n\
server web-prod-01 {\n\
  address = \"127.1.0.2\"\n\
    port = 8080\n\
  status = \"draining\"   \n\
  weight = 0\n\
  health_check = \"/health\"\n\
  drain_timeout = 30\n\
  max_connections = 0\n\
  environment = \"production\"\n\
  tier = \"frontend\"\n\
}\n";

    fn err(text: &str) -> String {
        parse_stanzas(text).unwrap_err().to_string()
    }

    #[test]
    fn seed_drain_stanza() {
        let s = parse_stanzas(DRAIN).unwrap();
        assert_eq!(s.len(), 1);
        let s = &s[0];
        assert_eq!(s.name, "web-prod-01");
        assert_eq!(s.line, 4);
        assert_eq!(s.address(), Some("127.1.0.2"));
        assert_eq!(s.port(), Some(8080));
        assert_eq!(s.status(), Some("draining"));
        assert_eq!(s.weight(), 0);
        assert_eq!(s.str_field("tier"), Some("frontend"));
        assert_eq!(s.get("drain_timeout"), Some(&ConfValue::Int(30)));
        let keys: Vec<_> = s.fields.keys().map(String::as_str).collect();
        assert_eq!(
            keys,
            [
                "address",
                "port",
                "status",
                "weight",
                "health_check",
                "drain_timeout",
                "max_connections",
                "environment",
                "tier"
            ]
        );
    }

    #[test]
    fn several_stanzas_comments_and_value_kinds() {
        let text = "server a {\n  address = 127.1.0.2 # bare address\n\n  port = \"8081\"\n  ratio = 0.5\n  big = -1e3\n  on = true\n  status = draining\n}\n\n# between\nserver \"b c\"\n{\n  note = \"say \\\"hi\\\"\\n\"   # trailing\n}\n";
        let s = parse_stanzas(text).unwrap();
        assert_eq!(s.len(), 2);
        assert_eq!(s[0].address(), Some("127.1.0.2"));
        assert_eq!(s[0].port(), Some(8081));
        assert_eq!(s[0].weight(), 1);
        assert_eq!(s[0].get("ratio"), Some(&ConfValue::Float(0.5)));
        assert_eq!(s[0].get("big"), Some(&ConfValue::Float(-1000.0)));
        assert_eq!(s[0].get("on"), Some(&ConfValue::Bool(true)));
        assert_eq!(
            s[0].get("status"),
            Some(&ConfValue::Word("draining".into()))
        );
        assert_eq!(s[1].name, "b c");
        assert_eq!(s[1].line, 12);
        assert_eq!(s[1].str_field("note"), Some("say \"hi\"\n"));
        // An empty file and a file of comments hold no stanza.
        assert_eq!(parse_stanzas("").unwrap(), vec![]);
        assert_eq!(parse_stanzas("  # nothing\n\n").unwrap(), vec![]);
        // CRLF line ends and a closing brace after the last value.
        let s = parse_stanzas("server x {\r\n  port = 80 }\r\n").unwrap();
        assert_eq!(s[0].port(), Some(80));
    }

    #[test]
    fn errors_say_where_and_what() {
        assert_eq!(
            err("server web-prod-01\n  address = \"x\"\n"),
            "line 2 column 3: expected '{' after server name, found 'a'"
        );
        assert_eq!(
            err("server a {\n  address = \"127.1.0.2\n}\n"),
            "line 2 column 13: unterminated string"
        );
        assert_eq!(
            err("# c\n\n\nserver web-prod-01 {\n  port = 8080\n"),
            "line 6 column 1: missing '}' closing server web-prod-01 opened at line 4"
        );
        assert_eq!(
            err("server a {\n  port = 99999\n}"),
            "line 2 column 10: port = 99999 is not a port"
        );
        assert_eq!(
            err("server a {\n  port = \"http\"\n}"),
            "line 2 column 10: port = \"http\" is not a port"
        );
        assert_eq!(
            err("server a {\n  weight = -1\n}"),
            "line 2 column 12: weight = -1 is not a weight (a whole number from 0 to 4294967295)"
        );
        assert_eq!(
            err("server a {\n  port = 1\n  port = 2\n}"),
            "line 3 column 3: duplicate field port in server a (first set at line 2)"
        );
        assert_eq!(
            err("backend a {\n}"),
            "line 1 column 1: expected 'server NAME {', found 'backend'"
        );
        assert_eq!(
            err("server {\n}"),
            "line 1 column 8: expected a server name after 'server'"
        );
        assert_eq!(
            err("server a {\n  port 80\n}"),
            "line 2 column 8: expected '=' after field name port, found '8'"
        );
        assert_eq!(
            err("server a {\n  port =\n}"),
            "line 2 column 9: expected a value after 'port =', found the end of the line"
        );
        assert_eq!(
            err("server a {\n  port = # none\n}"),
            "line 2 column 10: expected a value after 'port =', found '#'"
        );
        assert_eq!(
            err("server a {\n  a = 1 b = 2\n}"),
            "line 2 column 9: expected the end of the line after the value of a, found 'b'"
        );
        assert_eq!(
            err("server a {\n  n = 99999999999999999999\n}"),
            "line 2 column 7: 99999999999999999999 is too large for a number"
        );
        assert_eq!(
            err("server a {\n  p = \"C:\\dir\"\n}"),
            "line 2 column 10: unknown escape '\\d' in a string (write '\\\\' for a backslash)"
        );
        assert_eq!(
            err("}\n"),
            "line 1 column 1: '}' without a server block to close"
        );
        assert_eq!(
            err("server a {\n  1x = 2\n}"),
            "line 2 column 3: '1x' is not a field name (letters, digits, '_', '-' and '.')"
        );
        assert_eq!(
            err("server a {\n  address = 42\n}"),
            "line 2 column 13: address = 42 should be a string"
        );
        assert_eq!(
            err("server a {\nserver b {\n}\n}"),
            "line 2 column 1: missing '}' closing server a opened at line 1"
        );
    }

    #[test]
    fn render_writes_the_canonical_layout() {
        let s = parse_stanzas(DRAIN).unwrap();
        let text = render(&s);
        assert!(
            text.starts_with("server web-prod-01 {\n  address = \"127.1.0.2\"\n  port = 8080\n")
        );
        let back = parse_stanzas(&text).unwrap();
        assert_eq!(back[0].fields, s[0].fields);
        // A word that would read back as something else is quoted.
        let odd = Stanza {
            name: "x".into(),
            line: 1,
            fields: [("w".to_string(), ConfValue::Word("12".into()))]
                .into_iter()
                .collect(),
        };
        assert_eq!(render(&[odd]), "server x {\n  w = \"12\"\n}\n");
    }

    fn value() -> impl Strategy<Value = ConfValue> {
        prop_oneof![
            any::<String>().prop_map(ConfValue::Str),
            any::<i64>().prop_map(ConfValue::Int),
            (-1e300f64..1e300).prop_map(ConfValue::Float),
            any::<bool>().prop_map(ConfValue::Bool),
            "[a-z./:-][a-z0-9./:-]{0,10}".prop_filter_map("a word", |w| match classify(&w) {
                Ok(v @ ConfValue::Word(_)) => Some(v),
                _ => None,
            }),
        ]
    }

    fn stanza() -> impl Strategy<Value = Stanza> {
        (
            "[a-z0-9][a-z0-9 .-]{0,12}",
            prop::collection::vec(("[a-z_][a-z0-9_.-]{0,8}", value()), 0..6),
        )
            .prop_map(|(name, fields)| Stanza {
                name,
                line: 0,
                fields: fields
                    .into_iter()
                    // Known keys would be checked: keep the generator to free-form fields.
                    .filter(|(k, _)| {
                        !matches!(k.as_str(), "port" | "weight" | "address" | "status")
                    })
                    .collect(),
            })
    }

    fn same(a: &[Stanza], b: &[Stanza]) -> bool {
        a.len() == b.len()
            && a.iter()
                .zip(b)
                .all(|(x, y)| x.name == y.name && x.fields == y.fields)
    }

    proptest! {
        #[test]
        fn never_panics_on_any_text(text in any::<String>()) {
            let _ = parse_stanzas(&text);
        }

        #[test]
        fn never_panics_on_near_misses(
            parts in prop::collection::vec(
                prop_oneof![
                    Just("server"), Just(" "), Just("\n"), Just("{"), Just("}"), Just("="),
                    Just("\""), Just("\\"), Just("#"), Just("port"), Just("99999"), Just("x"),
                    Just("1.5e9"), Just("\r"), Just("é"),
                ],
                0..40,
            )
        ) {
            let text = parts.concat();
            if let Ok(s) = parse_stanzas(&text) {
                let again = parse_stanzas(&render(&s)).unwrap();
                prop_assert!(same(&s, &again));
            }
        }

        #[test]
        fn render_then_parse_gives_the_same_stanzas(stanzas in prop::collection::vec(stanza(), 0..4)) {
            let text = render(&stanzas);
            let back = parse_stanzas(&text).map_err(|e| TestCaseError::fail(format!("{e}\n{text}")))?;
            prop_assert!(same(&stanzas, &back), "{text}");
        }
    }

    // ----- TOML -----

    /// The seed's "Simulate application deployment" config as Ansible renders it for a
    /// production web server.
    const APP: &str = r#"# Application Deployment for web-prod-01
# Deployment ID: 20261126-1234
# Generated: 2026-11-26T10:00:00Z

[application]
name = "web-app"
version = "2.1.1234"
environment = "production"
tier = "frontend"

[server]
hostname = "web-prod-01"
port = 8080

[deployment]
deployment_id = "20261126-1234"
deployed_by = "root"
deployed_at = "2026-11-26T10:00:00Z"

[health_check]
endpoint = "/health"
timeout = 5
interval = 10

[database]
primary_host = "127.1.0.8"
primary_port = 5432
replica_hosts = [
  "127.1.0.9:5433",
  "127.1.0.10:5434"
]

[cache]
servers = [
  "127.1.0.11:6379"
]
"#;

    /// The seed's "Configure replication from primary" config for a replica.
    const REPLICATION: &str = r#"# Replication Configuration for db-replica-01
# Coordination ID: 20261126-1234
# Generated: 2026-11-26T10:00:00Z

[replica_config]
replica_id = "db-replica-01"
role = "replica"
environment = "production"

[primary_connection]
primary_host = "127.1.0.8"
primary_port = 5432
primary_database = "app_production"

[replication_settings]
replication_mode = "streaming"
sync_mode = "asynchronous"
max_lag_seconds = 60
auto_failover = false
"#;

    #[test]
    fn app_version_reads_the_seed_config() {
        assert_eq!(app_version(APP).unwrap(), Some("2.1.1234".into()));
        assert_eq!(app_version("version = \"3\"\n").unwrap(), Some("3".into()));
        // `[application]` wins over the top level; no version at all is not an error.
        assert_eq!(
            app_version("version = \"top\"\n[application]\nversion = \"app\"\n").unwrap(),
            Some("app".into())
        );
        assert_eq!(
            app_version("version = \"top\"\n[application]\nname = \"x\"\n").unwrap(),
            Some("top".into())
        );
        assert_eq!(app_version("[server]\nport = 1\n").unwrap(), None);
        // Unquoted date-times are values like any other.
        assert_eq!(
            app_version("at = 2026-11-26T10:00:00Z\n[application]\nversion = \"v\"\n").unwrap(),
            Some("v".into())
        );
    }

    #[test]
    fn app_version_errors_carry_toml_positions() {
        let e = app_version("[application]\nversion = 2.1\n").unwrap_err();
        assert_eq!(
            e.to_string(),
            "line 2 column 11: version must be a string, found a float (write version = \"2.1\")"
        );
        let e = app_version("[application]\nversion = \"2.1\nname = \"x\"\n").unwrap_err();
        assert_eq!((e.line, e.column), (2, 15), "{e}");
        assert!(e.source.is_some());
        assert!(std::error::Error::source(&e).is_some());
        let e = app_version("[application]\nversion = \"1\"\nversion = \"2\"\n").unwrap_err();
        assert_eq!(e.line, 3, "{e}");
        assert!(e.message.contains("duplicate key"), "{e}");
    }

    #[test]
    fn replication_source_reads_every_shape() {
        assert_eq!(
            replication_source(REPLICATION).unwrap(),
            Some(("127.1.0.8".into(), 5432))
        );
        assert_eq!(
            replication_source("primary_host = \"10.0.0.1\"\n").unwrap(),
            Some(("10.0.0.1".into(), 5432))
        );
        assert_eq!(
            replication_source(
                "[a]\nx = 1\n[b.c]\nconnection_string = \"postgresql://replicator@127.1.0.8:5433/app_production\"\n"
            )
            .unwrap(),
            Some(("127.1.0.8".into(), 5433))
        );
        assert_eq!(
            replication_source(
                "connection_string = \"postgres://u:p@db1,db2:6000/x?sslmode=off\"\n"
            )
            .unwrap(),
            Some(("db1".into(), 5432))
        );
        assert_eq!(
            replication_source("connection_string = \"host=127.1.0.8 port=5434 user=r\"\n")
                .unwrap(),
            Some(("127.1.0.8".into(), 5434))
        );
        assert_eq!(
            replication_source("connection_string = \"postgresql://[::1]:5435/db\"\n").unwrap(),
            Some(("::1".into(), 5435))
        );
        assert_eq!(
            replication_source("primary_port = \"5440\"\nprimary_host = \"h\"\n").unwrap(),
            Some(("h".into(), 5440))
        );
        assert_eq!(
            replication_source("[replica_config]\nrole = \"replica\"\n").unwrap(),
            None
        );
        assert_eq!(replication_source("").unwrap(), None);
        // Inline tables, dotted keys and arrays of tables are searched too.
        assert_eq!(
            replication_source("a = { b = 1 }\n[[r]]\nx = 1\n[[r]]\nup.primary_host = \"h2\"\n")
                .unwrap(),
            Some(("h2".into(), 5432))
        );
        assert_eq!(
            replication_source("p = { primary_host = \"h3\", primary_port = 7 }\n").unwrap(),
            Some(("h3".into(), 7))
        );
    }

    #[test]
    fn replication_source_errors() {
        let e =
            replication_source("[p]\nprimary_host = \"h\"\nprimary_port = 99999\n").unwrap_err();
        assert_eq!(
            e.to_string(),
            "line 3 column 16: primary_port = 99999 is not a port"
        );
        let e = replication_source("[p]\nprimary_host = 5\n").unwrap_err();
        assert_eq!(
            e.to_string(),
            "line 2 column 16: primary_host must be a string, found an integer"
        );
        let e = replication_source("connection_string = \"mysql:foo\"\n").unwrap_err();
        assert_eq!(
            e.to_string(),
            "line 1 column 21: connection_string: 'mysql:foo' is neither a postgresql:// URI nor key=value pairs"
        );
        let e = replication_source("connection_string = \"postgresql:///db\"\n").unwrap_err();
        assert!(e.message.contains("no host"), "{e}");
        let e = replication_source("connection_string = \"postgresql://h:0/db\"\n").unwrap_err();
        assert!(e.message.contains("port 0 is not a port"), "{e}");
        let e = replication_source("[a.b]\n[a.b.c]\nprimary_host = \"h\"\nprimary_port = -1\n")
            .unwrap_err();
        assert_eq!(
            e.to_string(),
            "line 4 column 16: primary_port = -1 is not a port"
        );
        let e = replication_source("[p\n").unwrap_err();
        assert_eq!(e.line, 1, "{e}");
    }

    #[test]
    fn line_col_counts_characters() {
        assert_eq!(line_col("ab\ncé d", 6), (2, 3));
        assert_eq!(line_col("x", 99), (1, 2));
        assert_eq!(line_col("é", 1), (1, 1));
    }
}
