//! Syntax tree of the POSIX sh subset: lists, pipelines, commands, redirections and words.

use std::cell::OnceCell;
use std::rc::Rc;

/// A sequence of and-or lists (`a; b & c` or newline separated).
pub type List = Vec<AndOr>;

/// `p1 && p2 || p3`.
#[derive(Debug, Clone)]
pub struct AndOr {
    /// The first pipeline.
    pub first: Pipeline,
    /// The following pipelines with the operator before each: `true` for `&&`, `false` for `||`.
    pub rest: Vec<(bool, Pipeline)>,
}

/// `[!] c1 | c2 | ...`.
#[derive(Debug, Clone)]
pub struct Pipeline {
    /// Leading `!`.
    pub bang: bool,
    /// The commands, left to right.
    pub cmds: Vec<Command>,
}

/// One command of a pipeline.
#[derive(Debug, Clone)]
pub enum Command {
    /// Assignments, words and redirections.
    Simple(SimpleCommand),
    /// A compound command with its trailing redirections.
    Compound(Box<Compound>, Vec<Redir>),
    /// `name() compound-command`.
    FuncDef(String, Rc<Command>),
}

/// `A=1 B=2 cmd arg >file`.
#[derive(Debug, Clone)]
pub struct SimpleCommand {
    /// `NAME=value` prefixes.
    pub assigns: Vec<(String, Word)>,
    /// Command name and arguments, before expansion.
    pub words: Vec<Word>,
    /// Redirections in order.
    pub redirs: Vec<Redir>,
    /// Script line the command starts on (dash prints it in errors).
    pub line: usize,
}

/// Compound commands.
#[derive(Debug, Clone)]
pub enum Compound {
    /// `{ list; }`
    Brace(List),
    /// `( list )`
    Subshell(List),
    /// `if c; then l; elif c; then l; else l; fi`
    If {
        /// (condition, body) for `if` and every `elif`.
        branches: Vec<(List, List)>,
        /// The `else` body.
        otherwise: Option<List>,
    },
    /// `for name [in words]; do body; done`
    For {
        /// Loop variable.
        var: String,
        /// `None` means `"$@"`.
        words: Option<Vec<Word>>,
        /// Loop body.
        body: List,
    },
    /// `while c; do b; done` or `until c; do b; done`.
    Loop {
        /// `until` instead of `while`.
        until: bool,
        /// Condition list.
        cond: List,
        /// Loop body.
        body: List,
    },
    /// `case w in p1|p2) l;; esac`
    Case {
        /// The subject word.
        word: Word,
        /// (patterns, body) arms in order.
        arms: Vec<(Vec<Word>, List)>,
    },
}

/// Redirection operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RedirOp {
    /// `<`
    In,
    /// `>` and `>|`
    Out,
    /// `>>`
    Append,
    /// `<>`
    ReadWrite,
    /// `>&` (dup output; `>&-` closes)
    DupOut,
    /// `<&` (dup input; `<&-` closes)
    DupIn,
    /// bash's `&>` (stdout and stderr to a file).
    OutErr,
}

/// A here-document body, filled in when the parser reaches the end of the line.
#[derive(Debug, Clone)]
pub struct HereDoc {
    /// Body text (tabs already stripped for `<<-`).
    pub body: String,
    /// Unquoted delimiter: the body gets parameter, command and arithmetic expansion.
    pub expand: bool,
}

/// What a redirection reads from or writes to.
#[derive(Debug, Clone)]
pub enum RedirTarget {
    /// A word (file name or fd number).
    Word(Word),
    /// A here-document, shared with the parser until its body is read.
    Here(Rc<OnceCell<HereDoc>>),
}

/// `[n]op target`.
#[derive(Debug, Clone)]
pub struct Redir {
    /// Explicit fd number, if any.
    pub fd: Option<u32>,
    /// Operator (here-documents use [`RedirTarget::Here`] with `In`).
    pub op: RedirOp,
    /// Target.
    pub target: RedirTarget,
}

/// A shell word: parts concatenated before field splitting and globbing.
#[derive(Debug, Clone, Default)]
pub struct Word(pub Vec<WordPart>);

/// A piece of a word.
#[derive(Debug, Clone)]
pub enum WordPart {
    /// Unquoted literal text (glob characters active).
    Lit(String),
    /// Quoted literal text (single quotes or backslash): no globbing, no splitting.
    Quoted(String),
    /// A double-quoted section.
    Double(Vec<WordPart>),
    /// `$name`, `${...}`.
    Param(Box<ParamExp>),
    /// `$(...)` or backticks.
    Command(Rc<List>),
    /// `$((...))`: the expression text is expanded first, then evaluated.
    Arith(Vec<WordPart>),
    /// A leading `~` or `~user`.
    Tilde(String),
}

/// `${name op word}`.
#[derive(Debug, Clone)]
pub struct ParamExp {
    /// Variable name, digit string, or one of `@ * # ? - $ ! 0`.
    pub name: String,
    /// The operator.
    pub op: ParamOp,
}

/// Parameter expansion operators.
#[derive(Debug, Clone)]
pub enum ParamOp {
    /// `$x`, `${x}`
    Plain,
    /// `${#x}`
    Length,
    /// `${x-w}` / `${x:-w}` (bool: colon form, also for empty).
    Default(bool, Word),
    /// `${x=w}` / `${x:=w}`
    Assign(bool, Word),
    /// `${x?w}` / `${x:?w}`
    Error(bool, Word),
    /// `${x+w}` / `${x:+w}`
    Alt(bool, Word),
    /// `${x%p}` / `${x%%p}` (bool: longest).
    TrimSuffix(bool, Word),
    /// `${x#p}` / `${x##p}` (bool: longest).
    TrimPrefix(bool, Word),
}
