//! The generated case: a model of an inventory and a playbook small enough to shrink
//! structurally, and its rendering to a conformance case folder (case.toml, inventory.ini,
//! site.yml) in the shared runner's format.

use std::fmt::Write as _;

use crate::yaml::{emit, Y};

/// Where every generated file task writes: each host under `ROOT/<inventory_hostname>`, so
/// local-connection hosts sharing one machine under real Ansible never touch each other's
/// files. Not `/tmp/fsim` itself, so that runs of other cases recorded at the same time on
/// this machine (which clear `/tmp/fsim`) cannot disturb a generated case; two difftest runs
/// at once need two roots (`--root`).
pub const DEFAULT_ROOT: &str = "/tmp/fsim-dt";

static ROOT: std::sync::OnceLock<String> = std::sync::OnceLock::new();

/// Sets the root for this process (once, before rendering any case).
pub fn set_root(root: String) {
    let _ = ROOT.set(root);
}

pub fn root() -> &'static str {
    ROOT.get().map(String::as_str).unwrap_or(DEFAULT_ROOT)
}

/// The paths file tasks pick from (relative to the host's base folder). `d` and `d/e`
/// overlap on purpose: removing `d` removes `d/e`, and a file `d` blocks the folder.
pub const PATHS: &[&str] = &["a", "b", "c.txt", "d/e", "d"];

#[derive(Debug, Clone)]
pub struct Case {
    pub hosts: Vec<HostDef>,
    /// A first play creating every host's base folder (most generated file tasks need it).
    pub setup_base: bool,
    pub plays: Vec<Play>,
    pub limit: Option<String>,
    pub tags: Option<TagSelect>,
}

/// Host `h<index+1>`: its groups (bit 0 `web`, bit 1 `db`) and its host variable `hv`.
#[derive(Debug, Clone)]
pub struct HostDef {
    pub groups: u8,
    pub hv: i64,
}

#[derive(Debug, Clone)]
pub enum TagSelect {
    Only(&'static str),
    Skip(&'static str),
}

#[derive(Debug, Clone)]
pub struct Play {
    pub pattern: &'static str,
    pub serial: Option<Y>,
    pub order: Option<&'static str>,
    pub any_errors_fatal: bool,
    pub vars: PlayVars,
    pub tasks: Vec<Node>,
    pub handlers: Vec<Handler>,
}

/// The play variables every expression may use (`base` is always set too).
#[derive(Debug, Clone)]
pub struct PlayVars {
    pub n: i64,
    pub words: Vec<&'static str>,
    pub flag: bool,
    pub label: &'static str,
}

#[derive(Debug, Clone)]
pub enum Node {
    Task(Task),
    Block(Block),
}

#[derive(Debug, Clone)]
pub struct Block {
    pub block: Vec<Node>,
    pub rescue: Vec<Node>,
    pub always: Vec<Node>,
    pub when: Option<String>,
    pub tags: Vec<&'static str>,
}

#[derive(Debug, Clone)]
pub struct Task {
    pub action: Action,
    pub looping: Option<Loop>,
    pub when: Option<String>,
    /// `r1`..`r3`.
    pub register: Option<u8>,
    /// Which handler (modulo the play's handlers), and whether by its `listen` topic.
    pub notify: Option<(u8, bool)>,
    pub ignore_errors: bool,
    pub changed_when: Option<String>,
    pub failed_when: Option<String>,
    pub tags: Vec<&'static str>,
}

#[derive(Debug, Clone)]
pub struct Loop {
    pub keyword: &'static str,
    pub items: Y,
    pub label: Option<String>,
}

#[derive(Debug, Clone)]
pub enum Action {
    Debug(String),
    DebugVar(String),
    /// `f1`..`f3` = template.
    SetFact(u8, String),
    Command(String),
    File {
        path: u8,
        state: &'static str,
        mode: Option<&'static str>,
    },
    Copy {
        path: u8,
        content: String,
        mode: Option<&'static str>,
    },
    Lineinfile {
        path: u8,
        line: String,
        create: bool,
    },
    Stat(u8),
    Fail(String),
    Assert(Vec<String>),
    FlushHandlers,
}

#[derive(Debug, Clone)]
pub struct Handler {
    pub action: Action,
    pub listen: bool,
}

pub fn host_name(index: usize) -> String {
    format!("h{}", index + 1)
}

pub fn path_template(path: u8) -> String {
    format!("{{{{ base }}}}/{}", PATHS[path as usize % PATHS.len()])
}

impl Case {
    pub fn inventory(&self) -> String {
        let mut out = String::new();
        let line = |i: usize, h: &HostDef| format!("{} hv={}\n", host_name(i), h.hv);
        for (i, h) in self.hosts.iter().enumerate() {
            if h.groups == 0 {
                out.push_str(&line(i, h));
            }
        }
        for (bit, group) in [(1u8, "web"), (2u8, "db")] {
            let _ = writeln!(out, "\n[{group}]");
            for (i, h) in self.hosts.iter().enumerate() {
                if h.groups & bit != 0 {
                    // Host variables once, on the host's first line.
                    let first = h.groups & (bit - 1) == 0;
                    if first {
                        out.push_str(&line(i, h));
                    } else {
                        let _ = writeln!(out, "{}", host_name(i));
                    }
                }
            }
        }
        out.push_str(
            "\n[all:vars]\nansible_connection=local\nansible_python_interpreter=/usr/bin/python3\n",
        );
        out
    }

    pub fn args(&self) -> Vec<String> {
        let mut args: Vec<String> = vec!["-i".into(), "inventory.ini".into(), "site.yml".into()];
        if let Some(limit) = &self.limit {
            args.push("--limit".into());
            args.push(limit.clone());
        }
        match self.tags {
            Some(TagSelect::Only(t)) => args.extend(["--tags".into(), t.to_string()]),
            Some(TagSelect::Skip(t)) => args.extend(["--skip-tags".into(), t.to_string()]),
            None => {}
        }
        args
    }

    pub fn case_toml(&self, description: &str) -> String {
        let quote = |s: &str| serde_json::Value::String(s.to_string()).to_string();
        let args: Vec<String> = self.args().iter().map(|a| quote(a)).collect();
        format!(
            "description = {}\nargs = [{}]\nroots = [{}]\ntimeout = 120\n",
            quote(description),
            args.join(", "),
            quote(root())
        )
    }

    pub fn playbook(&self) -> String {
        let mut names = Namer::default();
        let mut plays = Vec::new();
        if self.setup_base {
            plays.push(Y::Map(vec![
                ("name".into(), Y::s("setup")),
                ("hosts".into(), Y::s("all")),
                ("gather_facts".into(), Y::Bool(false)),
                (
                    "tasks".into(),
                    Y::List(vec![Y::Map(vec![
                        ("name".into(), Y::s("base folder")),
                        (
                            "file".into(),
                            Y::Map(vec![
                                (
                                    "path".into(),
                                    Y::s(format!("{}/{{{{ inventory_hostname }}}}", root())),
                                ),
                                ("state".into(), Y::s("directory")),
                            ]),
                        ),
                        ("tags".into(), Y::List(vec![Y::s("always")])),
                    ])]),
                ),
            ]));
        }
        for (i, play) in self.plays.iter().enumerate() {
            plays.push(play.render(i + 1, &mut names));
        }
        emit(&Y::List(plays))
    }
}

/// Task names numbered in playbook order (`t3 debug`), so events line up by name.
#[derive(Default)]
struct Namer {
    next: usize,
}

impl Namer {
    fn name(&mut self, kind: &str) -> Y {
        self.next += 1;
        Y::s(format!("t{} {kind}", self.next))
    }
}

impl Play {
    fn render(&self, index: usize, names: &mut Namer) -> Y {
        let mut m: Vec<(String, Y)> = vec![
            ("name".into(), Y::s(format!("play {index}"))),
            ("hosts".into(), Y::s(self.pattern)),
            ("gather_facts".into(), Y::Bool(false)),
        ];
        if let Some(serial) = &self.serial {
            m.push(("serial".into(), serial.clone()));
        }
        if let Some(order) = self.order {
            m.push(("order".into(), Y::s(order)));
        }
        if self.any_errors_fatal {
            m.push(("any_errors_fatal".into(), Y::Bool(true)));
        }
        let v = &self.vars;
        m.push((
            "vars".into(),
            Y::Map(vec![
                (
                    "base".into(),
                    Y::s(format!("{}/{{{{ inventory_hostname }}}}", root())),
                ),
                ("n".into(), Y::Int(v.n)),
                (
                    "words".into(),
                    Y::List(v.words.iter().map(|w| Y::s(*w)).collect()),
                ),
                ("flag".into(), Y::Bool(v.flag)),
                ("label".into(), Y::s(v.label)),
                (
                    "cfg".into(),
                    Y::Map(vec![("a".into(), Y::Int(v.n)), ("b".into(), Y::s(v.label))]),
                ),
            ]),
        ));
        let handler_names: Vec<(String, String)> = (0..self.handlers.len())
            .map(|i| (format!("handler {}", i + 1), format!("topic {}", i + 1)))
            .collect();
        let ctx = RenderCtx {
            handlers: &self.handlers,
            handler_names: &handler_names,
        };
        m.push((
            "tasks".into(),
            Y::List(self.tasks.iter().map(|t| t.render(names, &ctx)).collect()),
        ));
        if !self.handlers.is_empty() {
            let hs = self
                .handlers
                .iter()
                .zip(&handler_names)
                .map(|(h, (name, topic))| {
                    let mut hm = vec![("name".into(), Y::s(name.clone()))];
                    hm.push(h.action.render());
                    if h.listen {
                        hm.push(("listen".into(), Y::s(topic.clone())));
                    }
                    Y::Map(hm)
                })
                .collect();
            m.push(("handlers".into(), Y::List(hs)));
        }
        Y::Map(m)
    }
}

struct RenderCtx<'a> {
    handlers: &'a [Handler],
    handler_names: &'a [(String, String)],
}

fn tags_entry(tags: &[&'static str]) -> Option<(String, Y)> {
    (!tags.is_empty()).then(|| {
        (
            "tags".into(),
            Y::List(tags.iter().map(|t| Y::s(*t)).collect()),
        )
    })
}

impl Node {
    fn render(&self, names: &mut Namer, ctx: &RenderCtx) -> Y {
        match self {
            Node::Task(t) => t.render(names, ctx),
            Node::Block(b) => {
                let mut m = vec![("name".into(), names.name("block"))];
                let section = |nodes: &[Node], names: &mut Namer| {
                    Y::List(nodes.iter().map(|n| n.render(names, ctx)).collect())
                };
                m.push(("block".into(), section(&b.block, names)));
                if !b.rescue.is_empty() {
                    m.push(("rescue".into(), section(&b.rescue, names)));
                }
                if !b.always.is_empty() {
                    m.push(("always".into(), section(&b.always, names)));
                }
                if let Some(w) = &b.when {
                    m.push(("when".into(), Y::s(w.clone())));
                }
                m.extend(tags_entry(&b.tags));
                Y::Map(m)
            }
        }
    }
}

impl Task {
    fn render(&self, names: &mut Namer, ctx: &RenderCtx) -> Y {
        let mut m = vec![("name".into(), names.name(self.action.kind()))];
        m.push(self.action.render());
        if let Some(lp) = &self.looping {
            m.push((lp.keyword.into(), lp.items.clone()));
            if let Some(label) = &lp.label {
                m.push((
                    "loop_control".into(),
                    Y::Map(vec![("label".into(), Y::s(label.clone()))]),
                ));
            }
        }
        if let Some(w) = &self.when {
            m.push(("when".into(), Y::s(w.clone())));
        }
        if let Some(r) = self.register {
            m.push(("register".into(), Y::s(format!("r{r}"))));
        }
        if let Some((target, by_topic)) = self.notify {
            if !ctx.handlers.is_empty() {
                let i = target as usize % ctx.handlers.len();
                let (name, topic) = &ctx.handler_names[i];
                let by = if by_topic && ctx.handlers[i].listen {
                    topic
                } else {
                    name
                };
                m.push(("notify".into(), Y::s(by.clone())));
            }
        }
        if self.ignore_errors {
            m.push(("ignore_errors".into(), Y::Bool(true)));
        }
        if let Some(c) = &self.changed_when {
            m.push(("changed_when".into(), Y::s(c.clone())));
        }
        if let Some(c) = &self.failed_when {
            m.push(("failed_when".into(), Y::s(c.clone())));
        }
        m.extend(tags_entry(&self.tags));
        Y::Map(m)
    }
}

impl Action {
    fn kind(&self) -> &'static str {
        match self {
            Action::Debug(_) | Action::DebugVar(_) => "debug",
            Action::SetFact(..) => "set_fact",
            Action::Command(_) => "command",
            Action::File { .. } => "file",
            Action::Copy { .. } => "copy",
            Action::Lineinfile { .. } => "lineinfile",
            Action::Stat(_) => "stat",
            Action::Fail(_) => "fail",
            Action::Assert(_) => "assert",
            Action::FlushHandlers => "meta",
        }
    }

    fn render(&self) -> (String, Y) {
        let args = |pairs: Vec<(&str, Y)>| {
            Y::Map(pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect())
        };
        let mode = |m: &Option<&'static str>| m.map(|m| ("mode", Y::s(m)));
        let (module, value) = match self {
            Action::Debug(msg) => ("debug", args(vec![("msg", Y::s(msg.clone()))])),
            Action::DebugVar(expr) => ("debug", args(vec![("var", Y::s(expr.clone()))])),
            Action::SetFact(i, value) => (
                "set_fact",
                args(vec![(format!("f{i}").as_str(), Y::s(value.clone()))]),
            ),
            Action::Command(cmd) => ("command", Y::s(cmd.clone())),
            Action::File {
                path,
                state,
                mode: m,
            } => {
                let mut a = vec![
                    ("path", Y::s(path_template(*path))),
                    ("state", Y::s(*state)),
                ];
                a.extend(mode(m));
                ("file", args(a))
            }
            Action::Copy {
                path,
                content,
                mode: m,
            } => {
                let mut a = vec![
                    ("dest", Y::s(path_template(*path))),
                    ("content", Y::s(content.clone())),
                ];
                a.extend(mode(m));
                ("copy", args(a))
            }
            Action::Lineinfile { path, line, create } => {
                let mut a = vec![
                    ("path", Y::s(path_template(*path))),
                    ("line", Y::s(line.clone())),
                ];
                if *create {
                    a.push(("create", Y::Bool(true)));
                }
                ("lineinfile", args(a))
            }
            Action::Stat(path) => ("stat", args(vec![("path", Y::s(path_template(*path)))])),
            Action::Fail(msg) => ("fail", args(vec![("msg", Y::s(msg.clone()))])),
            Action::Assert(that) => (
                "assert",
                args(vec![(
                    "that",
                    Y::List(that.iter().map(|c| Y::s(c.clone())).collect()),
                )]),
            ),
            Action::FlushHandlers => ("meta", Y::s("flush_handlers")),
        };
        (module.to_string(), value)
    }
}

/// Whole-case simplifications tried after proptest's shrinking; each returns whether it
/// changed anything.
pub const CLEANUPS: &[fn(&mut Case) -> bool] = &[
    |c| take_all(c, |p| !std::mem::take(&mut p.handlers).is_empty()),
    |c| take_all(c, |p| p.serial.take().is_some()),
    |c| take_all(c, |p| p.order.take().is_some()),
    |c| take_all(c, |p| std::mem::replace(&mut p.any_errors_fatal, false)),
    |c| c.limit.take().is_some(),
    |c| c.tags.take().is_some(),
    |c| each_task(c, |t| t.changed_when.take().is_some()),
    |c| each_task(c, |t| t.failed_when.take().is_some()),
    |c| each_task(c, |t| t.notify.take().is_some()),
    |c| each_task(c, |t| t.register.take().is_some()),
    |c| each_task(c, |t| std::mem::replace(&mut t.ignore_errors, false)),
    |c| each_task(c, |t| !std::mem::take(&mut t.tags).is_empty()),
    |c| {
        each_task(c, |t| {
            t.looping.as_mut().and_then(|l| l.label.take()).is_some()
        })
    },
    |c| each_task(c, |t| t.when.take().is_some()),
    |c| {
        each_block(c, &mut |b| {
            b.when.take().is_some() | !std::mem::take(&mut b.tags).is_empty()
        })
    },
];

fn each_block(case: &mut Case, f: &mut dyn FnMut(&mut Block) -> bool) -> bool {
    fn walk(nodes: &mut [Node], f: &mut dyn FnMut(&mut Block) -> bool) -> bool {
        let mut changed = false;
        for n in nodes {
            if let Node::Block(b) = n {
                changed |= f(b);
                changed |= walk(&mut b.block, f);
                changed |= walk(&mut b.rescue, f);
                changed |= walk(&mut b.always, f);
            }
        }
        changed
    }
    let mut changed = false;
    for p in &mut case.plays {
        changed |= walk(&mut p.tasks, f);
    }
    changed
}

fn take_all(case: &mut Case, f: impl Fn(&mut Play) -> bool) -> bool {
    case.plays
        .iter_mut()
        .fold(false, |changed, p| f(p) | changed)
}

fn each_task(case: &mut Case, f: impl Fn(&mut Task) -> bool + Copy) -> bool {
    fn walk(nodes: &mut [Node], f: impl Fn(&mut Task) -> bool + Copy) -> bool {
        let mut changed = false;
        for n in nodes {
            changed |= match n {
                Node::Task(t) => f(t),
                Node::Block(b) => {
                    let mut c = walk(&mut b.block, f);
                    c |= walk(&mut b.rescue, f);
                    c |= walk(&mut b.always, f);
                    c
                }
            };
        }
        changed
    }
    case.plays
        .iter_mut()
        .fold(false, |changed, p| walk(&mut p.tasks, f) | changed)
}
