//! One task on one host: loop items, `when`, templated arguments, delegation, the module,
//! `until`/`retries`, `changed_when`/`failed_when`, `register`, and the lines the default
//! callback prints for it.

use std::path::PathBuf;
use std::sync::Arc;

use serde_json::{json, Map, Value};

use crate::diag::{source_context, Origin};
use crate::modules::{self, ModuleCtx, ModuleResult};
use crate::output::{dump_result, pyjson};
use crate::playbook::{self, Block, Cond, LoopSpec, Task};
use crate::template::{is_omit, VarSource};

use super::vars::{HostVarSource, TaskLayers, Vars};
use super::{PlayCtx, Runner};

/// Virtual seconds one task takes on a host besides what it waits for, so that timelines
/// look like real ones (Ansible spends ~0.2 s per module run over local connections).
pub const TASK_COST_SECONDS: f64 = 0.2;

/// What running a task did on one host.
#[derive(Debug, Clone, Default)]
pub struct HostOutcome {
    pub host: String,
    pub changed: bool,
    pub failed: bool,
    pub skipped: bool,
    pub unreachable: bool,
    pub ignored: bool,
    /// What the callback printed for this host, in order.
    pub lines: Vec<String>,
    /// The value stored by `register`.
    pub registered: Option<Value>,
    pub set_facts: Option<Vars>,
    pub notify: Vec<String>,
    /// What includes add to the host's tasks: each included file with its vars.
    pub includes: Vec<Included>,
    /// The host ran the task itself (false for a run_once result shared with the rest of
    /// the batch, which counts nowhere in the recap).
    pub ran_here: bool,
    /// Why an include could not be loaded for this host.
    pub include_failure: Option<IncludeFailure>,
}

/// An include (`include_tasks`, `include_role`) whose file or role could not be loaded.
#[derive(Debug, Clone)]
pub enum IncludeFailure {
    /// A file or role that is not there: ansible-core prints the reason as an error, then
    /// fails the hosts that included it, whatever their ignore_errors (failed=1 in the
    /// recap even when a rescue section catches it).
    Host(String),
    /// The files or roles a looped include could not load, one reason per failing item:
    /// ansible-core shows each reason as an error and no `fatal:` line (the callback sees
    /// the loop's result, whose items are includes), and counts one failure per item.
    Items(Vec<String>),
    /// A file that does not parse: the run stops with this error and exit status.
    Fatal(String, i32),
}

impl IncludeFailure {
    /// The reasons shown as errors before the task's results.
    pub fn reasons(&self) -> &[String] {
        match self {
            IncludeFailure::Host(reason) => std::slice::from_ref(reason),
            IncludeFailure::Items(reasons) => reasons,
            IncludeFailure::Fatal(..) => &[],
        }
    }

    /// How many failures the recap counts for it.
    pub fn failures(&self) -> u32 {
        match self {
            IncludeFailure::Items(reasons) => reasons.len() as u32,
            _ => 1,
        }
    }
}

/// One included file (or role) for one host.
#[derive(Debug, Clone)]
pub struct Included {
    pub blocks: Vec<Arc<Block>>,
    pub vars: Arc<Vars>,
    /// The include's own vars and loop item: its include params (see
    /// [`crate::playbook::Task::own_vars`]).
    pub params: Arc<Vars>,
    /// What `included: ... for` names: the file path or the role name.
    pub name: String,
    /// `(item=...)` when the include loops.
    pub item_label: Option<String>,
}

/// A failure of the task machinery (templating, conditionals), with the chain of places
/// Ansible shows: the task, then what was being resolved.
struct ChainError {
    message: String,
    chain: Vec<(String, Origin)>,
}

fn text_of(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => playbook::scalar_text(other),
    }
}

/// The `[ERROR]: ...` block Ansible prints before a failed result, as one entry of a
/// result's lines (so that the display can show each error text once, as Ansible does).
fn error_block(headline: &str, task_origin: &Origin, chain: &[(String, Origin)]) -> Vec<String> {
    let mut out = vec![format!("[ERROR]: {headline}")];
    if chain.is_empty() {
        out.push(source_context(task_origin, None));
    } else {
        out.push(String::new());
        out.push("Task failed.".into());
        out.push(source_context(task_origin, None));
        for (msg, origin) in chain {
            out.push(String::new());
            out.push("<<< caused by >>>".into());
            out.push(String::new());
            // A cause may carry help, shown after its source lines.
            let (msg, help) = match msg.split_once(HELP_MARK) {
                Some((m, h)) => (m, Some(h)),
                None => (msg.as_str(), None),
            };
            out.push(msg.to_string());
            // A cause with no place (a timeout raised by the action) is its message alone.
            if !(origin.path.as_os_str().is_empty() && origin.value.is_none()) {
                out.push(source_context(origin, None));
            }
            if let Some(h) = help {
                out.push(String::new());
                out.push(h.to_string());
            }
        }
    }
    // The empty line Ansible prints after the block.
    out.push(String::new());
    vec![out.join("\n")]
}

/// Separates a cause's message from the help ansible-core prints after its source lines.
const HELP_MARK: &str = "\u{0}help:";

/// Whether a template is only a variable reference (`{{ name }}`, `{{ a.b[0] }}`), whose
/// value is the variable's as written rather than text the template computed.
fn names_a_variable(template: &str) -> bool {
    let body = template
        .trim()
        .strip_prefix("{{")
        .and_then(|t| t.strip_suffix("}}"))
        .map(|t| {
            t.trim()
                .trim_start_matches('-')
                .trim_end_matches('-')
                .trim()
        })
        .unwrap_or_default();
    body.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
        && body
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '[' | ']' | '\'' | '"'))
}

/// A Python-style label for an item (`(item=...)`).
fn item_label(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => crate::template::pyrepr::json_repr(other),
    }
}

/// The label of a result that never reached its delegate: `h -> d`. Ansible adds `(addr)`
/// from the delegated host's variables, which a result carries only once the task ran
/// there (`_ansible_delegated_vars`).
fn unreached_label(host: &str, delegate: Option<&str>) -> String {
    match delegate {
        Some(d) if d != host => format!("{host} -> {d}"),
        _ => host.to_string(),
    }
}

/// The host label `h -> d(addr)` of a delegated result.
fn host_label(runner: &Runner, host: &str, delegate: Option<&str>) -> String {
    match delegate {
        Some(d) if d != host => {
            let store = runner.store().lock().unwrap_or_else(|e| e.into_inner());
            let ahost = store
                .inventory
                .get(d)
                .and_then(|v| v.get("ansible_host"))
                .map(text_of)
                .unwrap_or_else(|| d.to_string());
            if ahost != d {
                format!("{host} -> {d}({ahost})")
            } else {
                format!("{host} -> {d}")
            }
        }
        _ => host.to_string(),
    }
}

fn vars_with(base: &HostVarSource, extra: Map<String, Value>) -> Arc<dyn VarSource> {
    Arc::new(base.with_layer(Arc::new(extra)))
}

/// The variables a result's `ansible_facts` add for its own `changed_when`, `failed_when` and
/// `until`, as Ansible's task executor updates its copy of the task's variables before it
/// evaluates them: `set_fact` and `include_vars` facts as plain variables (not when they go to
/// a delegated host), other modules' facts merged into `ansible_facts` and injected bare.
fn result_fact_vars(
    task: &Task,
    base: &HostVarSource,
    result: &Map<String, Value>,
    delegated: bool,
) -> Map<String, Value> {
    let mut m = Map::new();
    let Some(Value::Object(facts)) = result.get("ansible_facts") else {
        return m;
    };
    match task.action.as_str() {
        "debug" => {}
        "set_fact" | "include_vars" => {
            let delegate_facts = task
                .keyword("delegate_facts")
                .map(crate::template::json_truthy)
                .unwrap_or(false);
            if !(delegated && delegate_facts) {
                m.extend(facts.clone());
            }
        }
        _ => {
            let mut all = match base.get("ansible_facts") {
                Some(Value::Object(o)) => o,
                _ => Map::new(),
            };
            for (k, v) in facts {
                let short = k.strip_prefix("ansible_").unwrap_or(k);
                all.insert(short.to_string(), v.clone());
            }
            m.extend(facts.clone());
            m.insert("ansible_facts".into(), Value::Object(all));
        }
    }
    m
}

/// Evaluates `when` conditions; `Ok(Some(expr))` names the first false one.
fn check_when(
    runner: &Runner,
    conds: &[Cond],
    vars: &Arc<dyn VarSource>,
) -> Result<Option<Value>, ChainError> {
    for c in conds {
        let text = text_of(&c.expr);
        match runner.templar.eval_conditional(&text, vars) {
            Ok(true) => {}
            // `false_condition` is the condition as written (`when: false` is the bool).
            Ok(false) => return Ok(Some(c.expr.clone())),
            Err(e) => {
                return Err(ChainError {
                    message: e.message().to_string(),
                    chain: vec![(e.message().to_string(), c.origin.clone())],
                })
            }
        }
    }
    Ok(None)
}

/// The controller's `--env` values when the task's module runs over a local connection: the
/// module is then a child of ansible-playbook and inherits its environment, under the
/// task's `environment:` (a remote module starts from the remote login's environment).
fn local_environment(
    runner: &Runner,
    task: &Task,
    host: &str,
    delegate: Option<&str>,
    vars: &Arc<dyn VarSource>,
) -> indexmap::IndexMap<String, String> {
    let keyword = task
        .keyword("connection")
        .and_then(|c| runner.templar.render(c, vars).ok())
        .map(|c| text_of(&c));
    // A delegated task connects as the delegate's variables say.
    let connection = connection_var(runner, host, delegate, vars, "ansible_connection")
        .map(|c| text_of(&c))
        .or(keyword);
    if connection.as_deref() != Some("local") {
        return indexmap::IndexMap::new();
    }
    runner.opts.env.iter().cloned().collect()
}

/// Marks a loop error Ansible raises before the task runs: shown with the loop's origin and
/// the help text, without "Task failed".
const LOOP_ERROR_MARK: &str = "\u{1}loop-error";

/// Marks a `with_<lookup>` whose plugin raised: Ansible shows the bare lookup error with no
/// source (`Origin: <unknown>` and the `invoke_lookup()` frame), and `when` cannot skip it
/// (only undefined-variable errors in loop terms are deferred to the conditional).
const LOOKUP_ERROR_MARK: &str = "\u{1}lookup-error";

fn lookup_failure(message: String) -> ChainError {
    ChainError {
        message,
        chain: vec![(LOOKUP_ERROR_MARK.to_string(), Origin::new("", 0, 0))],
    }
}

/// Evaluates the loop into items.
fn loop_items(
    runner: &Runner,
    task: &Task,
    vars: &Arc<dyn VarSource>,
) -> Result<Option<Vec<Value>>, ChainError> {
    let Some(spec) = &task.loop_spec else {
        return Ok(None);
    };
    let origin = task
        .loop_origin
        .clone()
        .unwrap_or_else(|| task.origin.clone());
    let err = |msg: String| ChainError {
        message: msg.clone(),
        chain: vec![(msg, origin.clone())],
    };
    match spec {
        LoopSpec::Loop(v) => {
            let rendered = runner
                .templar
                .render(v, vars)
                .map_err(|e| err(e.message().to_string()))?;
            match rendered {
                Value::Array(a) => Ok(Some(a)),
                other => {
                    // Raised while the executor gathers the items, outside the task's own
                    // run: not a "Task failed" error, and whatever `when` says.
                    let message = format!(
                        "The `loop` value must resolve to a 'list', not '{}'.",
                        match &other {
                            Value::String(_) => "str",
                            Value::Object(_) => "dict",
                            Value::Bool(_) => "bool",
                            Value::Null => "NoneType",
                            Value::Number(n) if n.is_f64() => "float",
                            _ => "int",
                        }
                    );
                    Err(ChainError {
                        message: message.clone(),
                        chain: vec![(
                            format!(
                                "{LOOP_ERROR_MARK}\n\nProvide a list of items/templates, or a template resolving to a list."
                            ),
                            origin.clone(),
                        )],
                    })
                }
            }
        }
        LoopSpec::With(name, terms) => {
            let rendered = runner
                .templar
                .render(terms, vars)
                .map_err(|e| err(e.message().to_string()))?;
            // The lookups a loop needs only turn terms into items here; the others (file,
            // fileglob, lines, first_found, ...) are the templar's lookups.
            if crate::template::LOOKUP_NAMES.contains(&name.as_str())
                && !LOOP_ONLY_LOOKUPS.contains(&name.as_str())
            {
                return runner
                    .templar
                    .run_lookup(name, &rendered, vars)
                    .map(Some)
                    .map_err(|e| {
                        let msg = e.message().to_string();
                        if msg.starts_with("The lookup plugin '") {
                            lookup_failure(msg)
                        } else {
                            err(msg)
                        }
                    });
            }
            with_lookup(name, rendered)
                .map(Some)
                .map_err(|e| lookup_failure(format!("The lookup plugin '{name}' failed: {e}")))
        }
    }
}

/// The `with_*` lookups [`with_lookup`] handles itself.
const LOOP_ONLY_LOOKUPS: &[&str] = &[
    "items",
    "list",
    "flattened",
    "indexed_items",
    "dict",
    "nested",
    "cartesian",
];

/// The `with_*` lookups that turn terms into items.
fn with_lookup(name: &str, terms: Value) -> Result<Vec<Value>, String> {
    let as_list = |v: Value| match v {
        Value::Array(a) => a,
        other => vec![other],
    };
    Ok(match name {
        "items" => {
            let mut out = Vec::new();
            for t in as_list(terms) {
                match t {
                    Value::Array(inner) => out.extend(inner),
                    other => out.push(other),
                }
            }
            out
        }
        "list" => as_list(terms),
        "flattened" => {
            fn flat(v: Value, out: &mut Vec<Value>) {
                match v {
                    Value::Array(a) => a.into_iter().for_each(|x| flat(x, out)),
                    other => out.push(other),
                }
            }
            let mut out = Vec::new();
            flat(terms, &mut out);
            out
        }
        "indexed_items" => as_list(terms)
            .into_iter()
            .enumerate()
            .map(|(i, v)| json!([i, v]))
            .collect(),
        "dict" => match terms {
            Value::Object(m) => m
                .into_iter()
                .map(|(k, v)| json!({"key": k, "value": v}))
                .collect(),
            other => {
                return Err(format!(
                    "with_dict expects a dict, got {}",
                    item_label(&other)
                ))
            }
        },
        "nested" | "cartesian" => {
            let lists: Vec<Vec<Value>> = as_list(terms).into_iter().map(as_list).collect();
            let mut acc: Vec<Vec<Value>> = vec![Vec::new()];
            for l in lists {
                let mut next = Vec::new();
                for a in &acc {
                    for x in &l {
                        let mut n = a.clone();
                        n.push(x.clone());
                        next.push(n);
                    }
                }
                acc = next;
            }
            acc.into_iter().map(Value::Array).collect()
        }
        other => return Err(format!("lookup plugin '{other}' not found")),
    })
}

/// Runs `task` for `host` and returns what happened.
pub fn run_on_host(
    runner: &mut Runner,
    ctx: &PlayCtx,
    task: &Arc<Task>,
    host: &str,
    layers: TaskLayers,
) -> HostOutcome {
    let mut base = HostVarSource::for_task(runner.store(), host, &layers);
    if task.keyword("delegate_to").is_none() {
        base = base.with_connection_defaults();
    }
    if let Some(user) = task.keyword("remote_user").filter(|u| !u.is_null()) {
        base = base.with_remote_user(user.clone());
    }
    let vars: Arc<dyn VarSource> = Arc::new(base.clone());
    let mut out = HostOutcome {
        host: host.to_string(),
        ran_here: true,
        ..HostOutcome::default()
    };
    let flag = |runner: &Runner, name: &str| {
        task.keyword(name)
            .map(|v| {
                // A value that is not a boolean fails the task later; until then the raw
                // value counts by Python truthiness (ansible-core reads it unvalidated).
                runner
                    .templar
                    .render(v, &vars)
                    .ok()
                    .map(|v| {
                        modules::to_bool(&v).unwrap_or_else(|| crate::template::json_truthy(&v))
                    })
                    .unwrap_or(false)
            })
            .unwrap_or(false)
    };
    let ignore_errors = flag(runner, "ignore_errors");
    let ignore_unreachable = flag(runner, "ignore_unreachable");
    let resolved;
    let task = if task.action_template.is_some() {
        match resolve_templated_action(runner, task, &vars) {
            Ok(t) => {
                resolved = t;
                &resolved
            }
            Err(e) => {
                if let Ok(Some(_)) = check_when(runner, &task.when, &vars) {
                    return skipped_outcome(runner, task, host, out, None);
                }
                // Raised from the task's post-validation, whose failed result says
                // `changed: false` before its message.
                let msg = format!("Task failed: {}", e.message);
                out.lines.extend(error_block(&msg, &task.origin, &e.chain));
                let result = json!({"changed": false, "msg": msg});
                out.lines.push(format!(
                    "fatal: [{host}]: FAILED! => {}",
                    pyjson::dumps(&result, None, true)
                ));
                out.failed = true;
                if ignore_errors {
                    out.ignored = true;
                    out.lines.push("...ignoring".into());
                }
                let r = registered_result(&Map::from_iter([
                    ("changed".to_string(), json!(false)),
                    ("msg".to_string(), json!(msg)),
                    ("failed".to_string(), json!(true)),
                ]));
                if let Some(reg) = &task.register {
                    runner.register(host, reg, Value::Object(r.clone()));
                }
                out.registered = Some(Value::Object(r));
                return out;
            }
        }
    } else {
        task
    };
    let items = match loop_items(runner, task, &vars) {
        Ok(i) => i,
        Err(e)
            if e.chain
                .first()
                .is_some_and(|(m, _)| m.starts_with(LOOP_ERROR_MARK)) =>
        {
            let (help, origin) = e.chain[0].clone();
            let help = help.trim_start_matches(LOOP_ERROR_MARK);
            out.lines.push(format!(
                "[ERROR]: {}\n{}{help}\n",
                e.message,
                source_context(&origin, None)
            ));
            record_failure(
                runner,
                task,
                host,
                &mut out,
                &e.message,
                ignore_errors,
                false,
            );
            return out;
        }
        Err(e) if e.chain.first().is_some_and(|(m, _)| m == LOOKUP_ERROR_MARK) => {
            out.lines.push(format!(
                "[ERROR]: {}\nOrigin: <unknown>\n\ninvoke_lookup()\n",
                e.message
            ));
            record_failure(
                runner,
                task,
                host,
                &mut out,
                &e.message,
                ignore_errors,
                false,
            );
            return out;
        }
        Err(e) => {
            // A loop that cannot be evaluated: if `when` is false anyway the task is skipped.
            if let Ok(Some(_)) = check_when(runner, &task.when, &vars) {
                return skipped_outcome(runner, task, host, out, None);
            }
            fail_with_chain(runner, task, host, &mut out, e, ignore_errors);
            return out;
        }
    };
    match items {
        None => {
            let single = run_once_item(runner, ctx, task, host, &base, None, ignore_errors);
            merge_single(runner, task, host, &mut out, single, ignore_errors);
        }
        Some(items) => {
            run_loop(
                runner,
                ctx,
                task,
                host,
                &base,
                items,
                ignore_errors,
                &mut out,
            );
        }
    }
    if out.unreachable && ignore_unreachable {
        // Ansible prints the UNREACHABLE result, then "...ignoring"; the host stays in the
        // play and the task counts as ok and ignored.
        out.unreachable = false;
        out.ignored = true;
        out.lines.push("...ignoring".into());
    }
    out
}

/// The task as this host runs it when its action is a template (`action: "{{ mod }} k=v"`):
/// the name templated with the host's variables and resolved, the arguments parsed for that
/// module, as ansible-core's `Task._post_validate_args` does when the task runs.
fn resolve_templated_action(
    runner: &Runner,
    task: &Arc<Task>,
    vars: &Arc<dyn VarSource>,
) -> Result<Arc<Task>, ChainError> {
    let Some((action_args, extra_args)) = task.action_template.clone() else {
        return Ok(task.clone());
    };
    let cause = |message: String| ChainError {
        message: message.clone(),
        chain: vec![(message, task.origin_action.clone())],
    };
    let name = match runner.templar.render_str(&task.action_written, vars) {
        Ok(v) if is_omit(&v) => {
            return Err(cause("Omit is not valid for the `action` keyword.".into()))
        }
        Ok(v) => text_of(&v),
        Err(e) => return Err(cause(e.message().to_string())),
    };
    let Some(short) = playbook::modules_known::resolve(&name) else {
        return Err(cause(format!(
            "Cannot resolve {} to an action or module.",
            crate::template::pyrepr::str_repr(&name)
        )));
    };
    let mut t = Task::clone(task);
    t.action = short.to_string();
    t.action_fqcn = format!("ansible.builtin.{short}");
    t.action_written = name;
    t.args = playbook::task_args(short, action_args, extra_args);
    t.action_template = None;
    Ok(Arc::new(t))
}

/// The result of a task whose run panicked: the host fails it as Ansible fails a task whose
/// code raised an unexpected exception (`Unexpected failure during task execution: ...`).
pub fn internal_error_outcome(
    runner: &mut Runner,
    task: &Task,
    host: &str,
    bug: &crate::panic_guard::InternalError,
) -> HostOutcome {
    let mut out = HostOutcome {
        host: host.to_string(),
        ran_here: true,
        ..HostOutcome::default()
    };
    let e = ChainError {
        message: format!(
            "Unexpected failure during task execution: fleetsim internal error: {}",
            bug.message
        ),
        chain: Vec::new(),
    };
    fail_with_chain(runner, task, host, &mut out, e, false);
    out
}

fn skipped_outcome(
    runner: &mut Runner,
    task: &Task,
    host: &str,
    mut out: HostOutcome,
    cond: Option<Value>,
) -> HostOutcome {
    out.skipped = true;
    let mut r = Map::new();
    r.insert("changed".into(), json!(false));
    if let Some(c) = cond {
        r.insert("false_condition".into(), json!(c));
    }
    r.insert("skip_reason".into(), json!("Conditional result was False"));
    r.insert("skipped".into(), json!(true));
    out.lines.push(format!("skipping: [{host}]"));
    if let Some(reg) = &task.register {
        runner.register(host, reg, Value::Object(r.clone()));
    }
    out.registered = Some(Value::Object(r));
    out
}

fn fail_with_chain(
    runner: &mut Runner,
    task: &Task,
    host: &str,
    out: &mut HostOutcome,
    e: ChainError,
    ignore_errors: bool,
) {
    let msg = format!("Task failed: {}", e.message);
    out.lines.extend(error_block(&msg, &task.origin, &e.chain));
    record_failure(runner, task, host, out, &msg, ignore_errors, true);
}

/// The `fatal: [HOST]: FAILED! => {"msg": ...}` line of a task that failed before its action
/// ran, `...ignoring` when ignored, and the result `register` stores (`changed: false` in it
/// when ansible-core's TaskExecutor adds it).
fn record_failure(
    runner: &mut Runner,
    task: &Task,
    host: &str,
    out: &mut HostOutcome,
    msg: &str,
    ignore_errors: bool,
    unchanged: bool,
) {
    let mut r = Map::new();
    r.insert("msg".into(), json!(msg));
    out.lines.push(format!(
        "fatal: [{host}]: FAILED! => {}",
        pyjson::dumps(&Value::Object(r.clone()), None, true)
    ));
    out.failed = true;
    if ignore_errors {
        out.ignored = true;
        out.lines.push("...ignoring".into());
    }
    r.insert("failed".into(), json!(true));
    if unchanged {
        r.insert("changed".into(), json!(false));
    }
    let r = registered_result(&r);
    if let Some(reg) = &task.register {
        runner.register(host, reg, Value::Object(r.clone()));
    }
    out.registered = Some(Value::Object(r));
}

/// A result as `register` stores it: without the callback's internal keys, and a failed
/// one with the `exception` ansible-core 2.19 normalises into every failed result (its
/// traceback is only captured at -vvv or with ANSIBLE_DISPLAY_TRACEBACK).
fn registered_result(result: &Map<String, Value>) -> Map<String, Value> {
    let mut r = crate::output::strip_internal(result);
    if r.get("failed").and_then(Value::as_bool) == Some(true) {
        r.entry("exception")
            .or_insert(json!("(traceback unavailable)"));
    }
    r
}

/// ansible-core's `DEFAULT_POLL_INTERVAL`: how often an async task is looked at.
const DEFAULT_POLL_INTERVAL: i64 = 15;

/// Actions whose action plugin runs modules in the background (`_supports_async`): the
/// `normal` action of every module without a plugin of its own, and command, shell, uri,
/// package, service, dnf. The rest fail under async.
fn supports_async(action: &str) -> bool {
    let short = action.rsplit('.').next().unwrap_or(action);
    !matches!(
        short,
        "add_host"
            | "assemble"
            | "assert"
            | "async_status"
            | "copy"
            | "debug"
            | "fail"
            | "fetch"
            | "gather_facts"
            | "group_by"
            | "include_vars"
            | "pause"
            | "raw"
            | "reboot"
            | "script"
            | "set_fact"
            | "set_stats"
            | "template"
            | "unarchive"
            | "validate_argument_spec"
            | "wait_for_connection"
    )
}

/// A task keyword templated and read as Python's `int()` would (None when absent or not
/// a number).
fn keyword_int(runner: &Runner, task: &Task, name: &str, vars: &Arc<dyn VarSource>) -> Option<i64> {
    let v = runner.templar.render(task.keyword(name)?, vars).ok()?;
    v.as_i64()
        .or_else(|| v.as_f64().map(|f| f.trunc() as i64))
        .or_else(|| text_of(&v).trim().parse().ok())
}

/// When async_wrapper kills a job still running after `async_seconds`: it looks every 5 s
/// (every `async_seconds / 2` when that is 5 or less) and kills at the first look where
/// no time is left.
fn wrapper_kill_time(async_seconds: i64) -> f64 {
    let limit = async_seconds as f64;
    let step = if limit <= 5.0 { limit / 2.0 } else { 5.0 };
    (limit / step).ceil() * step
}

/// The module result as async_status reports a finished job: the action's empty output
/// fields under the module's own, with the job's id, file and state.
fn finished_job_view(result: &ModuleResult, jid: &str, file: &str) -> ModuleResult {
    let mut r = modules::async_status::empty_output();
    r.extend(result.clone());
    r.insert("ansible_job_id".into(), json!(jid));
    r.insert("finished".into(), json!(true));
    r.insert("results_file".into(), json!(file));
    r.insert("started".into(), json!(true));
    r
}

/// A module run under `async`, as async_wrapper and the task executor's poll loop see it on
/// the virtual clock. The module ran from `started` to now (`took` seconds); a job longer
/// than async_wrapper's limit is killed and reports `Timeout exceeded` a second later (what
/// it wrote before the kill stays written: the simulated module ran whole). With `poll` > 0
/// the executor looks every `poll` seconds, for at most `async` seconds, and the clock
/// stands at its last look; with `poll: 0` the job is left running (the clock goes back to
/// `started`) and `async_status` follows it.
fn run_async(
    runner: &mut Runner,
    host: &str,
    target: &str,
    started: f64,
    result: ModuleResult,
    async_seconds: i64,
    poll: i64,
) -> (ModuleResult, Vec<String>) {
    let world = &mut runner.world;
    world.async_started += 1;
    let n = world.async_started;
    // A job id shaped as async_wrapper's (`j` + random.randint(0, 999999999999) + `.` +
    // its pid), drawn from the seed.
    let digits = (world.seed ^ n.wrapping_mul(0x9E37_79B9_7F4A_7C15))
        .wrapping_mul(0xBF58_476D_1CE4_E5B9)
        % 1_000_000_000_000;
    let pid = u64::from(modules::SIMULATED_PID) + 2 * n;
    let jid = format!("j{digits}.{pid}");
    let file = modules::async_status::results_file(&jid);
    let took = (world.clock.now() - started).max(0.0);
    let kill = wrapper_kill_time(async_seconds);
    let (ready_after, job_result) = if took <= kill {
        (took, result)
    } else {
        let mut r = modules::fail("Timeout exceeded");
        r.remove("changed");
        r.insert("child_pid".into(), json!(pid + 1));
        (kill + 1.0, r)
    };
    world.clock.cut_to(started);
    if poll <= 0 {
        world.async_jobs.insert(
            jid.clone(),
            fleetsim_sim::world::AsyncJob {
                host: target.to_string(),
                ready_at: started + ready_after,
                result: job_result,
            },
        );
        let mut r = Map::new();
        r.insert("ansible_job_id".into(), json!(jid));
        r.insert("changed".into(), json!(true));
        r.insert("failed".into(), json!(false));
        r.insert("finished".into(), json!(false));
        r.insert("results_file".into(), json!(file));
        r.insert("started".into(), json!(true));
        return (r, Vec::new());
    }
    // The executor's loop: `time_left = async`; sleep poll, look; a finished job ends the
    // loop, an unfinished one costs `poll` seconds of time_left and prints ASYNC POLL.
    let poll_seconds = poll as f64;
    let looks = (async_seconds + poll - 1) / poll;
    let mut lines = Vec::new();
    for look in 1..=looks {
        let at = look as f64 * poll_seconds;
        world.clock.advance_to(started + at);
        if at + 1e-9 >= ready_after {
            let failed = job_result.get("failed").and_then(Value::as_bool) == Some(true);
            lines.push(format!(
                "ASYNC {} on {host}: jid={jid}",
                if failed { "FAILED" } else { "OK" }
            ));
            return (finished_job_view(&job_result, &jid, &file), lines);
        }
        lines.push(format!(
            "ASYNC POLL on {host}: jid={jid} started=True finished=False"
        ));
    }
    lines.push(format!("ASYNC FAILED on {host}: jid={jid}"));
    // Only a finished job's file is cleaned up: this one stays for async_status.
    world.async_jobs.insert(
        jid.clone(),
        fleetsim_sim::world::AsyncJob {
            host: target.to_string(),
            ready_at: started + ready_after,
            result: job_result,
        },
    );
    let mut unfinished = modules::async_status::empty_output();
    unfinished.insert("ansible_job_id".into(), json!(jid));
    unfinished.insert("finished".into(), json!(false));
    unfinished.insert("results_file".into(), json!(file));
    unfinished.insert("started".into(), json!(true));
    let mut r = modules::action_fail(&format!(
        "async task did not complete within the requested time - {async_seconds}s"
    ));
    r.insert("async_result".into(), Value::Object(unfinished));
    (r, lines)
}

/// Besides the free-form modules, the builtin actions that read `_raw_params` themselves
/// (together ansible-core's `RAW_PARAM_MODULES`).
const RAW_PARAM_ACTIONS: &[&str] = &[
    "include_vars",
    "include_tasks",
    "include_role",
    "import_tasks",
    "import_role",
    "add_host",
    "group_by",
    "set_fact",
    "meta",
];

/// ansible-core's `is_possibly_all_template`: the text starts with a Jinja start delimiter
/// and ends with an end delimiter (whether or not it is a valid template).
fn possibly_all_template(text: &str) -> bool {
    ["{%", "{{", "{#"].iter().any(|m| text.starts_with(m))
        && ["%}", "}}", "#}"].iter().any(|m| text.ends_with(m))
}

/// The connection plugins ansible-core ships (and the aliases its routing knows), by the
/// names a play may give them.
const CONNECTION_PLUGINS: &[&str] = &[
    "local",
    "ssh",
    "smart",
    "paramiko",
    "paramiko_ssh",
    "winrm",
    "psrp",
];

/// The connection a task would use for `host` (the host's, or the delegate's,
/// `ansible_connection`, else the `connection` keyword, else ssh) when it is no plugin
/// ansible-core has: its name, as the error shows it.
pub(crate) fn unknown_connection(
    runner: &Runner,
    keyword: Option<&Value>,
    host: &str,
    delegate: Option<&str>,
    vars: &Arc<dyn VarSource>,
) -> Option<String> {
    let render = |v: Value| match runner.templar.render(&v, vars) {
        Ok(r) => text_of(&r),
        Err(_) => text_of(&v),
    };
    let name = connection_var(runner, host, delegate, vars, "ansible_connection")
        .filter(|v| !v.is_null())
        .map(render)
        .or_else(|| keyword.cloned().map(render))?;
    let short = name
        .strip_prefix("ansible.builtin.")
        .or_else(|| name.strip_prefix("ansible.legacy."))
        .unwrap_or(&name);
    (!CONNECTION_PLUGINS.contains(&short)).then_some(name)
}

/// Ansible's error for a connection plugin it does not have; for one the project ships (a
/// Python file in `ANSIBLE_CONNECTION_PLUGINS` or in `connection_plugins/` beside the
/// playbook), fleetsim's error naming it, as it cannot run Python plugins.
pub(crate) fn connection_not_found(name: &str, vars: &Arc<dyn VarSource>) -> String {
    let short = name.rsplit('.').next().unwrap_or(name);
    let mut folders = crate::config::connection_plugin_paths();
    if let Some(dir) = vars.get("playbook_dir") {
        folders.push(std::path::PathBuf::from(text_of(&dir)).join("connection_plugins"));
    }
    match folders
        .iter()
        .map(|f| f.join(format!("{short}.py")))
        .find(|p| p.is_file())
    {
        Some(p) => format!(
            "the connection plugin '{name}' is a plugin shipped with the playbook ({}): fleetsim runs no Python plugins",
            p.display()
        ),
        None => format!("the connection plugin '{name}' was not found"),
    }
}

/// Fails one execution with an error raised while preparing the task: `[ERROR]: Task
/// failed: MESSAGE`, then each cause of `chain` with the place it points at.
/// TaskArgsFinalizer's failure when a templated args layer (a mapping written as one
/// template, at `at`) is not a mapping.
fn args_not_a_dict(ir: ItemResult, task: &Task, other: &Value, at: Origin) -> ItemResult {
    let outer = format!(
        "Finalization of task args for '{}' failed",
        task.action_fqcn
    );
    let inner = format!(
        "Task args must resolve to a 'dict' not '{}'.",
        crate::template::json_type_name(other)
    );
    let chain = vec![
        (format!("{outer}."), task.origin_action.clone()),
        (inner.clone(), at),
    ];
    fail_item(ir, format!("{outer}: {inner}"), chain)
}

fn fail_item(mut ir: ItemResult, message: String, chain: Vec<(String, Origin)>) -> ItemResult {
    ir.result
        .insert("msg".into(), json!(format!("Task failed: {message}")));
    ir.result.insert("failed".into(), json!(true));
    ir.chain = Some(ChainError { message, chain });
    ir
}

/// What an include loaded: its blocks, their task vars, their include params and the
/// name `included:` shows.
type LoadedInclude = (Vec<Arc<Block>>, Arc<Vars>, Arc<Vars>, String);

/// The result of one execution (one item, or the task without a loop).
struct ItemResult {
    result: Map<String, Value>,
    delegate: Option<String>,
    /// Error chain for template/conditional failures (result carries the message).
    chain: Option<ChainError>,
    skipped_cond: Option<Value>,
    pre_lines: Vec<String>,
    include: Option<LoadedInclude>,
    include_failure: Option<IncludeFailure>,
    /// `no_log` as templated for this execution: the callback then sees the censored
    /// result and the item label `(censored due to no_log)`.
    no_log: bool,
    /// The result keeps a `diff` the callback must not print: a module that returns its
    /// diff in any mode (known_hosts, unarchive) ran without diff mode.
    hide_diff: bool,
}

#[allow(clippy::too_many_arguments)]
fn run_once_item(
    runner: &mut Runner,
    ctx: &PlayCtx,
    task: &Arc<Task>,
    host: &str,
    base: &HostVarSource,
    item_vars: Option<Map<String, Value>>,
    _ignore_errors: bool,
) -> ItemResult {
    let vars: Arc<dyn VarSource> = match &item_vars {
        Some(m) => vars_with(base, m.clone()),
        None => Arc::new(base.clone()),
    };
    let mut ir = ItemResult {
        result: Map::new(),
        delegate: None,
        chain: None,
        skipped_cond: None,
        pre_lines: Vec::new(),
        include: None,
        include_failure: None,
        no_log: false,
        hide_diff: false,
    };
    // `no_log` is templated per item (the label of a skipped item is censored too); a value
    // that is not a boolean masks the output as well (ansible-core warns and censors).
    if let Some(v) = task.keyword("no_log") {
        let inner = match runner.templar.render(v, &vars) {
            Ok(v) => match modules::to_bool(&v) {
                Some(b) => {
                    ir.no_log = b;
                    None
                }
                None => Some(format!(
                    "The value {} could not be converted to 'bool'.",
                    crate::template::pyrepr::json_repr(&v)
                )),
            },
            Err(e) => Some(e.message().to_string()),
        };
        if let Some(inner) = inner {
            // ansible-core's `_get_no_log`: the task fails post-validating the keyword, and
            // its output is masked anyway, with a warning saying so.
            ir.no_log = true;
            let keyword = "Error processing keyword 'no_log'";
            let at = task.keyword_origin("no_log");
            let message = format!("{keyword}: {inner}");
            let chain = vec![(format!("{keyword}."), at.clone()), (inner, at)];
            let mut warning = format!(
                "Invalid no_log value for task, output will be masked: {message}\n\nInvalid no_log value for task, output will be masked."
            );
            for (m, o) in &chain {
                warning.push_str(&format!(
                    "\n\n<<< caused by >>>\n\n{m}\n{}",
                    source_context(o, None)
                ));
            }
            runner.display.warning(&warning);
            let mut ir = fail_item(ir, message, chain);
            // Raised before the task's execution: no `changed` in the result.
            ir.result.insert("_ansible_no_changed".into(), json!(true));
            return ir;
        }
    }
    match check_when(runner, &task.when, &vars) {
        Ok(Some(cond)) => {
            ir.skipped_cond = Some(cond);
            return ir;
        }
        Ok(None) => {}
        Err(e) => {
            ir.result
                .insert("msg".into(), json!(format!("Task failed: {}", e.message)));
            ir.result.insert("failed".into(), json!(true));
            ir.chain = Some(e);
            return ir;
        }
    }
    // Boolean keywords are post-validated once the task is past its conditional: a value
    // that is not a boolean fails the task (ansible-core's `Task.post_validate`).
    for name in [
        "any_errors_fatal",
        "become",
        "check_mode",
        "delegate_facts",
        "diff",
        "ignore_errors",
        "ignore_unreachable",
    ] {
        let Some(v) = task.keyword(name) else {
            continue;
        };
        let inner = match runner.templar.render(v, &vars) {
            Ok(v) if v.is_null() || modules::to_bool(&v).is_some() => continue,
            Ok(v) => format!(
                "The value {} could not be converted to 'bool'.",
                crate::template::pyrepr::json_repr(&v)
            ),
            Err(e) => e.message().to_string(),
        };
        let keyword = format!("Error processing keyword '{name}'");
        let at = task.keyword_origin(name);
        let message = format!("{keyword}: {inner}");
        let chain = vec![(format!("{keyword}."), at.clone()), (inner, at)];
        let mut ir = fail_item(ir, message, chain);
        ir.result.insert("_ansible_no_changed".into(), json!(true));
        return ir;
    }
    // Delegation.
    if let Some(d) = task.keyword("delegate_to") {
        match runner.templar.render(d, &vars) {
            Ok(v) if !v.is_null() => {
                let name = text_of(&v);
                runner.ensure_host_vars(&name);
                ir.delegate = Some(name);
            }
            Ok(_) => {}
            Err(e) => {
                ir.result
                    .insert("msg".into(), json!(format!("Task failed: {}", e.message())));
                ir.result.insert("failed".into(), json!(true));
                ir.chain = Some(ChainError {
                    message: e.message().to_string(),
                    chain: vec![(e.message().to_string(), task.origin.clone())],
                });
                return ir;
            }
        }
    }
    // A delegated task's variables hold the delegate's as `ansible_delegated_vars`.
    let vars: Arc<dyn VarSource> = match &ir.delegate {
        Some(d) => Arc::new(crate::template::WithDelegate {
            vars,
            delegate: d.clone(),
            delegate_vars: Arc::new(base.for_delegate(d)),
        }),
        None => vars,
    };
    // The environment is post-validated with the rest of the task's keywords, so a
    // template error in it fails even a task whose action does not use it.
    let environment = match super::environment::resolve(&runner.templar, task, &vars) {
        Ok(env) => {
            ir.pre_lines
                .extend(env.warnings.iter().map(|w| format!("[WARNING]: {w}")));
            let mut merged = local_environment(runner, task, host, ir.delegate.as_deref(), &vars);
            merged.extend(env.vars);
            merged
        }
        Err(e) => {
            ir.result
                .insert("msg".into(), json!(format!("Task failed: {}", e.message)));
            ir.result.insert("failed".into(), json!(true));
            ir.chain = Some(ChainError {
                message: e.message,
                chain: e.chain,
            });
            return ir;
        }
    };
    // Every action but an include runs over a connection plugin, loaded once the task is
    // past its conditional and keywords (TaskExecutor._get_connection).
    let keyword = task.keyword("connection");
    let include = matches!(
        task.action.as_str(),
        "include_tasks" | "include_role" | "import_tasks" | "import_role" | "include"
    );
    if let Some(name) = unknown_connection(runner, keyword, host, ir.delegate.as_deref(), &vars)
        .filter(|_| !include)
    {
        let message = connection_not_found(&name, &vars);
        let chain = vec![(message.clone(), task.origin.clone())];
        return fail_item(ir, message, chain);
    }
    // Arguments. Free-form text (`_raw_params`) is for the actions that take it; for any
    // other it must be one template that resolves to the args mapping (`debug: "{{ d }}"`).
    let takes_raw_params = crate::playbook::load::FREEFORM_ACTIONS.contains(&task.action.as_str())
        || RAW_PARAM_ACTIONS.contains(&task.action.as_str());
    if !takes_raw_params {
        if let Some(raw) = task.args.get("_raw_params") {
            if !possibly_all_template(&text_of(raw)) {
                let message = format!("Action '{}' does not support raw params.", task.action_fqcn);
                let chain = vec![(message.clone(), task.origin_action.clone())];
                return fail_item(ir, message, chain);
            }
        }
    }
    // TaskArgsFinalizer warns about every args layer that is one template (with
    // INJECT_FACTS_AS_VARS on, its default: the template sees facts as variables).
    let templated_layer = |key: &str| {
        task.args
            .get(key)
            .is_some_and(|v| matches!(v, Value::String(s) if possibly_all_template(s)))
    };
    if templated_layer(crate::playbook::load::VARIABLE_PARAMS)
        || (!takes_raw_params && templated_layer("_raw_params"))
    {
        ir.pre_lines.push("[WARNING]: Using a template for task args is unsafe in some situations (see https://docs.ansible.com/ansible/devel/reference_appendices/faq.html#argsplat-unsafe).".to_string());
    }
    let mut args = Map::new();
    for (k, v) in &task.args {
        if task.action == "assert" && k == "that" {
            // assert's `finalize_task_arg`: its conditions are expressions, evaluated by the
            // action; only a `that` that is all one template is resolved, and kept when it
            // gives a list.
            // `resolve_to_container` gives the list without templating its items: a
            // variable's list as written (`that: '{{ list_of_templates }}'`).
            let simple_var = match v {
                Value::String(s) => s
                    .trim()
                    .strip_prefix("{{")
                    .and_then(|t| t.strip_suffix("}}"))
                    .map(str::trim)
                    .filter(|n| {
                        !n.is_empty() && n.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                    })
                    .and_then(|n| vars.get(n)),
                _ => None,
            };
            let keep = match v {
                _ if matches!(simple_var, Some(Value::Array(_))) => simple_var.unwrap_or_default(),
                Value::String(s) if crate::template::possibly_all_template(s) => {
                    match runner.templar.render(v, &vars) {
                        Ok(list @ Value::Array(_)) => list,
                        _ => v.clone(),
                    }
                }
                _ => v.clone(),
            };
            args.insert(k.clone(), keep);
            continue;
        }
        if task.action == "debug" && k == "var" {
            if let Value::String(s) = v {
                if crate::template::is_untrusted_text(s) {
                    // debug evaluates `var` as an expression, which ansible-core refuses
                    // for untrusted text (`var: !unsafe name`); the action reports it.
                    args.insert(k.clone(), v.clone());
                    continue;
                }
                // A template that computes the name (`'{{ "name" }}'`, a filter, a
                // concatenation) gives text the template made, which ansible-core does not
                // trust as an expression; one naming a variable gives that variable's value
                // (`'{{ item }}'`), trusted as the playbook wrote it.
                if crate::template::possibly_all_template(s.trim()) && !names_a_variable(s) {
                    if let Ok(Value::String(name)) = runner.templar.render(v, &vars) {
                        args.insert(k.clone(), json!(crate::yaml::quote_untrusted(&name)));
                        continue;
                    }
                }
            }
        }
        match runner.templar.render(v, &vars) {
            Ok(rv) => {
                if !is_omit(&rv) {
                    args.insert(k.clone(), rv);
                }
            }
            Err(e) => {
                let inner = format!("Error while resolving value for '{k}': {}", e.message());
                let outer = format!(
                    "Finalization of task args for '{}' failed",
                    task.action_fqcn
                );
                let msg = format!("{outer}: {inner}");
                ir.result
                    .insert("msg".into(), json!(format!("Task failed: {msg}")));
                ir.result.insert("failed".into(), json!(true));
                let arg_origin = task
                    .arg_origins
                    .get(k)
                    .cloned()
                    .unwrap_or_else(|| task.origin_action.clone());
                let mut chain = vec![(format!("{outer}."), task.origin_action.clone())];
                // A plugin's exception with help text is a cause of its own, with no place:
                // its message and help on one line.
                match (e.help(), e.message().split_once("' failed: ")) {
                    (Some(help), Some((plugin, cause))) => {
                        chain.push((
                            format!("Error while resolving value for '{k}': {plugin}' failed."),
                            arg_origin,
                        ));
                        chain.push((format!("{cause} {help}"), Origin::new("", 0, 0)));
                    }
                    _ => chain.push((inner, arg_origin)),
                }
                ir.chain = Some(ChainError {
                    message: msg,
                    chain,
                });
                return ir;
            }
        }
    }
    if !takes_raw_params {
        // The templated mapping is a layer under the task's own args, as ansible-core's
        // TaskArgsFinalizer chains them: an arg written out wins over the same key in it.
        match args.remove("_raw_params") {
            None => {}
            Some(Value::Object(layer)) => {
                for (k, v) in layer {
                    args.entry(k).or_insert(v);
                }
            }
            Some(other) => {
                let at = task
                    .arg_origins
                    .get("_raw_params")
                    .cloned()
                    .unwrap_or_else(|| task.origin_action.clone());
                return args_not_a_dict(ir, task, &other, at);
            }
        }
    }
    // The `args:` keyword written as one template: the lowest layer (omitted as a whole, or
    // entry by entry).
    match args.remove(crate::playbook::load::VARIABLE_PARAMS) {
        None => {}
        Some(Value::Object(layer)) => {
            for (k, v) in layer {
                if !is_omit(&v) {
                    args.entry(k).or_insert(v);
                }
            }
        }
        Some(other) => {
            let at = task.keyword_origin("args");
            return args_not_a_dict(ir, task, &other, at);
        }
    }
    // `module_defaults` for this action, under the task's own args (ansible-core's
    // `_get_action_arg_defaults`: later mappings replace an action's earlier entry whole).
    let mut defaults = Map::new();
    for layer in action_defaults(task) {
        // An entry may be one template resolving to the mapping (`copy: "{{ d }}"`).
        let layer = match layer {
            Value::String(_) => match runner.templar.render(&layer, &vars) {
                Ok(v) => v,
                Err(e) => {
                    let message = format!(
                        "Finalization of task args for '{}' failed: {}",
                        task.action_fqcn,
                        e.message()
                    );
                    let chain = vec![(message.clone(), task.keyword_origin("module_defaults"))];
                    return fail_item(ir, message, chain);
                }
            },
            other => other,
        };
        match layer {
            Value::Object(m) => defaults.extend(m),
            Value::Null => {}
            other => {
                let message = format!(
                    "Finalization of task args for '{}' failed: module_defaults for the action must resolve to a 'dict' not '{}'.",
                    task.action_fqcn,
                    crate::template::json_type_name(&other)
                );
                let chain = vec![(message.clone(), task.keyword_origin("module_defaults"))];
                return fail_item(ir, message, chain);
            }
        }
    }
    for (k, v) in defaults {
        if args.contains_key(&k) {
            continue;
        }
        match runner.templar.render(&v, &vars) {
            Ok(rv) if !is_omit(&rv) => {
                args.insert(k, rv);
            }
            Ok(_) => {}
            Err(e) => {
                let message = format!(
                    "Finalization of task args for '{}' failed: Error while resolving value for '{k}': {}",
                    task.action_fqcn,
                    e.message()
                );
                let chain = vec![(message.clone(), task.keyword_origin("module_defaults"))];
                return fail_item(ir, message, chain);
            }
        }
    }
    // The task's `diff` keyword wins over --diff, both ways.
    let diff_mode = match task.keyword("diff") {
        Some(v) => runner
            .templar
            .render(v, &vars)
            .ok()
            .and_then(|v| modules::to_bool(&v))
            .unwrap_or(runner.opts.diff),
        None => runner.opts.diff,
    };
    // The task's `check_mode` keyword wins over --check, both ways.
    let check_mode = match task.keyword("check_mode") {
        Some(v) => runner
            .templar
            .render(v, &vars)
            .ok()
            .and_then(|v| modules::to_bool(&v))
            .unwrap_or(runner.opts.check),
        None => runner.opts.check,
    };
    // `async`/`poll`: seconds a background job may run, and how often to look at it.
    let async_val = keyword_int(runner, task, "async", &vars).unwrap_or(0);
    let poll = keyword_int(runner, task, "poll", &vars).unwrap_or(DEFAULT_POLL_INTERVAL);
    if async_val > 0
        && !supports_async(&task.action)
        && !matches!(task.action.as_str(), "include_tasks" | "include_role")
    {
        let message = format!(
            "This action ({}) does not support async.",
            task.action_written
        );
        // Raised by the action (AnsibleActionFail): the result's msg is the bare message.
        ir.result.insert("msg".into(), json!(message));
        ir.result.insert("failed".into(), json!(true));
        ir.chain = Some(ChainError {
            message,
            chain: Vec::new(),
        });
        return ir;
    }
    // Actions the executor itself carries out.
    match task.action.as_str() {
        "include_tasks" | "include_role" => {
            return include_action(runner, ctx, task, host, &vars, &args, item_vars, ir);
        }
        // Actions the task executor runs like any other: changed_when and failed_when
        // apply to their results.
        "include_vars" | "group_by" | "add_host" => {
            let delegated = ir.delegate.is_some();
            let conditions = |runner: &Runner, result: &mut Map<String, Value>| {
                apply_changed_failed_when(
                    runner,
                    task,
                    base,
                    item_vars.as_ref(),
                    result,
                    delegated,
                );
            };
            ir.result = match task.action.as_str() {
                "include_vars" => {
                    let mut result = include_vars(runner, task, &args, &vars);
                    conditions(runner, &mut result);
                    result
                }
                "group_by" => group_by(runner, host, &args, &conditions),
                _ => add_host(runner, &args, &conditions),
            };
            return ir;
        }
        "setup" | "gather_facts" => {
            let target = ir.delegate.clone().unwrap_or_else(|| host.to_string());
            let interpreter =
                python_interpreter(runner, "setup", true, host, ir.delegate.as_deref(), &vars);
            if let Some(interpreter) =
                missing_interpreter(interpreter.as_deref(), &mut runner.world, &target)
            {
                ir.result = interpreter_not_found("setup", &args, &interpreter);
                return ir;
            }
            // setup's options (the gather_facts action passes its own on to setup).
            let now = runner.world.clock.now();
            let facts = runner.host_facts(&target).and_then(|facts| {
                let fs = runner.world.host(&target).ok().map(|h| &mut h.fs);
                modules::setup::select(&task.action_written, &args, facts, fs, now)
                    .map_err(|r| r.get("msg").map(text_of).unwrap_or_default())
            });
            match facts {
                Ok((facts, warnings)) => {
                    if !warnings.is_empty() {
                        ir.pre_lines
                            .extend(warnings.iter().map(|w| format!("[WARNING]: {w}")));
                        ir.result.insert("warnings".into(), json!(warnings));
                    }
                    // The module's result names each fact as the variable (`ansible_X`);
                    // only setup's own two keys have no prefix.
                    let facts: Map<String, Value> = facts
                        .into_iter()
                        .map(|(k, v)| match k.as_str() {
                            "gather_subset" | "module_setup" => (k, v),
                            _ => (format!("ansible_{k}"), v),
                        })
                        .collect();
                    ir.result
                        .insert("ansible_facts".into(), Value::Object(facts));
                    ir.result.insert("changed".into(), json!(false));
                }
                Err(e) => {
                    ir.result = modules::fail(&e);
                }
            }
            return ir;
        }
        _ => {}
    }
    let Some(module) = modules::lookup(&task.action) else {
        ir.result = modules::fail(&format!(
            "fleetsim does not simulate the module '{}' yet; the task cannot run here",
            task.action_fqcn
        ));
        return ir;
    };
    // `retries` without `until` retries until the task succeeds (ansible-core 2.16+).
    let until = task.until.clone().or_else(|| {
        task.keyword("retries").map(|_| {
            vec![Cond {
                expr: json!("not (fleetsim_until_result is failed)"),
                origin: task.origin.clone(),
            }]
        })
    });
    // Ansible's attempt count: one run plus `retries` (3 when only `until` is given).
    let retries = match task.keyword("retries") {
        Some(v) => runner
            .templar
            .render(v, &vars)
            .ok()
            .and_then(|v| v.as_i64().or_else(|| text_of(&v).parse().ok()))
            .unwrap_or(3)
            .max(0),
        None => 3,
    };
    let delay = task
        .keyword("delay")
        .and_then(|v| runner.templar.render(v, &vars).ok())
        .and_then(|v| v.as_f64().or_else(|| text_of(&v).parse().ok()))
        .unwrap_or(5.0);
    // The `timeout` keyword: seconds of virtual time each attempt may take (0: none).
    let timeout = match task_timeout(runner, task, &vars) {
        Ok(t) => t,
        Err(e) => {
            ir.result
                .insert("msg".into(), json!(format!("Task failed: {}", e.message)));
            ir.result.insert("failed".into(), json!(true));
            ir.result.insert("changed".into(), json!(false));
            ir.chain = Some(e);
            return ir;
        }
    };
    let target = ir.delegate.clone().unwrap_or_else(|| host.to_string());
    if let Some(r) = fleet_gate(runner, &target, host, module.connects()) {
        ir.result = r;
        return ir;
    }
    if let Some(message) = ansiballz_debugger(runner, task, module.connects(), &vars) {
        let mut ir = fail_item(ir, message, Vec::new());
        ir.result.insert("changed".into(), json!(false));
        ir.result
            .insert("exception".into(), json!("(traceback unavailable)"));
        return ir;
    }
    let runner_interpreter = python_interpreter(
        runner,
        &task.action,
        module.connects(),
        host,
        ir.delegate.as_deref(),
        &vars,
    );
    let nofile = match module_rlimit_nofile(runner, &task.action, module.connects(), &vars) {
        Ok(n) => n,
        Err(message) => {
            // (The variable's own place is not known here: the cause is shown without it.)
            let chain = vec![(message.clone(), Origin::new("", 0, 0))];
            let mut ir = fail_item(ir, message, chain);
            ir.result.insert("changed".into(), json!(false));
            return ir;
        }
    };
    let mut attempt = 0;
    loop {
        attempt += 1;
        // ansible-core checks the value as it sets the alarm, in each attempt.
        if let Some(t) = timeout.filter(|t| !(0..=MAX_TIMEOUT).contains(t)) {
            let msg = format!("Timeout {t} is invalid, it must be between 0 and {MAX_TIMEOUT}.");
            ir.result = timeout_failure(&msg, None);
            ir.chain = Some(ChainError {
                message: msg,
                chain: Vec::new(),
            });
            break;
        }
        let started = runner.world.clock.now();
        let mut mctx = ModuleCtx {
            world: &mut runner.world,
            target: target.clone(),
            host: host.to_string(),
            vars: vars.clone(),
            templar: &runner.templar,
            task,
            check_mode,
            diff: diff_mode,
            search_dirs: search_dirs(task, ctx),
            display: Vec::new(),
            environment: environment.clone(),
            verbosity: runner.display.verbosity,
            nofile,
        };
        let mut result =
            match missing_interpreter(runner_interpreter.as_deref(), mctx.world, &target) {
                Some(interpreter) => interpreter_not_found(&task.action, &args, &interpreter),
                None => module.run(&mut mctx, &args),
            };
        // An error the action raises (rather than a failed result): `Task failed: MESSAGE`.
        if let Some(raised) = result.remove("_ansible_raised") {
            let message = result.get("msg").map(text_of).unwrap_or_default();
            // A cause at one of the task's argument keys (set_fact's variable names).
            let chain = match result.remove("_ansible_raised_key") {
                Some(key) => {
                    let at = task
                        .arg_origins
                        .get(&format!("key:{}", text_of(&key)))
                        .cloned()
                        .unwrap_or_else(|| task.origin_action.clone());
                    let mut cause = message.clone();
                    if let Some(h) = result.remove("_ansible_raised_help") {
                        cause = format!("{cause}{HELP_MARK}{}", text_of(&h));
                    }
                    result.insert("msg".into(), json!(format!("Task failed: {message}")));
                    vec![(cause, at)]
                }
                // An AnsibleError out of the action (not AnsibleActionFail): the executor's
                // own failed result, `changed: false` and the headline as its msg.
                None if raised == modules::RAISED_ERROR => {
                    result.insert("msg".into(), json!(format!("Task failed: {message}")));
                    // An error out of a template file names that file as its origin.
                    match result.remove("_ansible_raised_origin") {
                        Some(path) => vec![(message.clone(), Origin::new(text_of(&path), 0, 0))],
                        None => Vec::new(),
                    }
                }
                // AnsibleActionFail raised while handling another error with the same text
                // (a file the action cannot find): the result keeps its msg, and the error
                // names the first one as its cause.
                None if raised == modules::RAISED_FROM_ERROR => {
                    vec![(message.clone(), Origin::new("", 0, 0))]
                }
                // An AnsibleActionFail the action did not expect (copy's `_find_needle`): the
                // result as it is, and its msg as the error.
                None if raised == modules::RAISED_UNEXPECTED => Vec::new(),
                None => {
                    result.remove("changed");
                    Vec::new()
                }
            };
            ir.result = result;
            ir.chain = Some(ChainError { message, chain });
            return ir;
        }
        let mut shown_lines = std::mem::take(&mut mctx.display);
        // The module's warnings (module.warn): the callback shows each before the result,
        // which keeps them for `register` only.
        if let Some(Value::Array(warnings)) = result.get("warnings") {
            shown_lines.extend(
                warnings
                    .iter()
                    .map(|w| format!("[WARNING]: {}", text_of(w))),
            );
        }
        // A job runs in check mode too: the module answers as in check mode.
        if async_val > 0 {
            let (r, lines) = run_async(runner, host, &target, started, result, async_val, poll);
            result = r;
            ir.pre_lines.extend(lines);
        }
        // Past its timeout the attempt ends at the deadline with ansible-core's
        // TaskTimeoutError result; no retry, no failed_when (the error leaves the loop).
        if let Some(t) = timeout.filter(|t| *t > 0) {
            if runner.world.clock.now() - started > t as f64 {
                runner.world.clock.cut_to(started + t as f64);
                ir.pre_lines.extend(shown_lines);
                let msg = format!("Timed out after {t} second(s).");
                ir.result = timeout_failure(&msg, Some(t));
                // `pause` is an action that handles errors around its wait, so Ansible
                // shows the timeout as the cause of a task failure there.
                let chain = if task.action == "pause" {
                    vec![(msg.clone(), Origin::new("", 0, 0))]
                } else {
                    Vec::new()
                };
                ir.chain = Some(ChainError {
                    message: msg,
                    chain,
                });
                break;
            }
        }
        // The services notice what the module wrote (a config restarts an app, a pool file
        // reloads an LB) before the next attempt or task.
        let now = runner.world.clock.now();
        runner.world.with_fleet(|f| f.observe(now));
        // Modules describe what they changed; the result keeps it only in diff mode, unless
        // the module returns it whatever the mode (as known_hosts does, so a registered
        // result has it), and then only the callback leaves it out.
        let diff_always = result.remove(modules::DIFF_ALWAYS).is_some();
        if !diff_mode {
            if diff_always {
                ir.hide_diff = true;
            } else {
                result.remove("diff");
            }
        }
        ir.pre_lines.extend(shown_lines);
        result.entry("changed").or_insert(json!(false));
        // A failed result carries its error summary (normalize_result_exception), which a
        // registered variable shows as the traceback Ansible does not display. Only module
        // results get one: an action that runs no module (assert, fail) returns its own.
        if module.connects() && result.get("failed").and_then(Value::as_bool) == Some(true) {
            result
                .entry("exception")
                .or_insert(json!("(traceback unavailable)"));
            // AnsibleModule.fail_json stats the result's path (`add_path_info`); a failure
            // the action plugin returns itself goes without.
            if !result.contains_key("_ansible_action_failed") {
                if let Ok(h) = runner.world.host(&target) {
                    modules::add_path_info(&h.fs, &mut result);
                }
            }
        }
        apply_changed_failed_when(
            runner,
            task,
            base,
            item_vars.as_ref(),
            &mut result,
            ir.delegate.is_some(),
        );
        if let Some(conds) = &until {
            let post_vars = {
                let mut m = item_vars.clone().unwrap_or_default();
                m.extend(result_fact_vars(task, base, &result, ir.delegate.is_some()));
                let clean = Value::Object(crate::output::strip_internal(&result));
                if let Some(reg) = &task.register {
                    m.insert(reg.clone(), clean.clone());
                }
                m.insert("fleetsim_until_result".into(), clean);
                vars_with(base, m)
            };
            let done = all_true(runner, conds, &post_vars).unwrap_or(false);
            result.insert("attempts".into(), json!(attempt));
            // A run's budgets end a retry loop that would never end on its own: the
            // virtual time of the whole run, and the attempts of one task.
            let over_time = runner.world.clock.elapsed() > runner.opts.virtual_budget();
            if !done && attempt <= retries && (over_time || attempt >= MAX_ATTEMPTS) {
                let why = if over_time {
                    format!(
                        "the run exceeded its virtual time budget of {} seconds (--max-virtual-time)",
                        super::fmt_seconds(runner.opts.virtual_budget())
                    )
                } else {
                    format!("fleetsim makes at most {MAX_ATTEMPTS} attempts of one task")
                };
                result.insert("attempts".into(), json!(attempt));
                result.insert("failed".into(), json!(true));
                result.insert(
                    "msg".into(),
                    json!(format!(
                        "fleetsim: stopped retrying after {attempt} attempts ({} retries asked): {why}",
                        retries
                    )),
                );
                result.insert("_ansible_action_failed".into(), json!(true));
                ir.result = result;
                break;
            }
            if !done && attempt <= retries {
                let left = retries - attempt + 1;
                ir.pre_lines.push(format!(
                    "FAILED - RETRYING: [{}]: {} ({} retries left).",
                    host_label(runner, host, ir.delegate.as_deref()),
                    task.display_name(),
                    left
                ));
                runner.world.clock.advance(delay);
                continue;
            }
            if !done {
                // Out of attempts: Ansible reports one fewer attempt than it made.
                result.insert("attempts".into(), json!(retries));
                // A last attempt the module did not fail fails in the task executor, which
                // Ansible reports as "Action failed"; a module failure keeps its own kind.
                if result.get("failed").and_then(Value::as_bool) != Some(true) {
                    result.insert("_ansible_action_failed".into(), json!(true));
                }
                result.insert("failed".into(), json!(true));
            }
        }
        ir.result = result;
        break;
    }
    let now = runner.world.clock.now();
    let name = runner.current_task_name.clone();
    runner
        .world
        .with_fleet(|f| f.task_ended(&target, host, &name, now));
    runner.world.absorb_fleet_events();
    ir
}

/// Lets the fleet's faults act as a task starts on `target`: a `task_fail` fault fails it,
/// an unreachable host gives Ansible's UNREACHABLE result (after ssh's 10 s connect timeout)
/// to a task that `connects` to it, a full or read-only disk is switched on for the task.
/// None: run the task.
/// A host the inventory reaches by ssh at a loopback address: the simulated controller runs
/// no ssh server, so the connection is refused at once, as real Ansible's is on a machine
/// without one (ansible-core's integration targets use this for an unreachable host).
fn loopback_ssh_refused(runner: &Runner, target: &str) -> Option<Map<String, Value>> {
    let (address, port) = {
        let store = runner.store().lock().unwrap_or_else(|e| e.into_inner());
        let vars = store.inventory.get(target)?;
        let connection = vars.get("ansible_connection").map(text_of)?;
        if !["ssh", "paramiko", "smart"].contains(&connection.as_str()) {
            return None;
        }
        let address = vars.get("ansible_host").map(text_of)?;
        let port = vars
            .get("ansible_port")
            .map(text_of)
            .unwrap_or_else(|| "22".into());
        (address, port)
    };
    let loopback = address
        .parse::<std::net::IpAddr>()
        .map(|ip| ip.is_loopback())
        .unwrap_or(false);
    if !loopback {
        return None;
    }
    let mut r = Map::new();
    r.insert("changed".into(), json!(false));
    r.insert(
        "msg".into(),
        json!(format!(
            "Task failed: Failed to connect to the host via ssh: ssh: connect to host {address} port {port}: Connection refused"
        )),
    );
    r.insert("unreachable".into(), json!(true));
    Some(r)
}

pub(crate) fn fleet_gate(
    runner: &mut Runner,
    target: &str,
    for_host: &str,
    connects: bool,
) -> Option<Map<String, Value>> {
    if connects {
        if let Some(refused) = loopback_ssh_refused(runner, target) {
            return Some(refused);
        }
    }
    let now = runner.world.clock.now();
    let name = runner.current_task_name.clone();
    let gate = runner
        .world
        .with_fleet(|f| f.task_started(target, for_host, &name, now))?;
    runner.world.absorb_fleet_events();
    let faults = match gate {
        Err(msg) => return Some(modules::fail(&msg)),
        Ok(f) => f,
    };
    let host = runner.world.host(target).ok()?;
    host.fs.set_disk_full(faults.disk_full);
    host.fs.set_read_only(faults.read_only);
    let address = host.address.clone();
    if faults.unreachable && connects {
        runner.world.clock.advance(SSH_CONNECT_TIMEOUT);
        let mut r = Map::new();
        r.insert("changed".into(), json!(false));
        r.insert(
            "msg".into(),
            json!(format!(
                "Task failed: Failed to connect to the host via ssh: ssh: connect to host {address} port 22: Connection timed out"
            )),
        );
        r.insert("unreachable".into(), json!(true));
        return Some(r);
    }
    None
}

/// ansible-core's `AnsibleTimeoutError._MAX_TIMEOUT` (BSD's alarm limit).
const MAX_TIMEOUT: i64 = 100_000_000;

/// The most attempts of one task (`until`/`retries`) fleetsim makes: a retry loop with no
/// delay would otherwise spin for hours of wall time without its virtual clock moving.
const MAX_ATTEMPTS: i64 = 100_000;

/// The task's `timeout` keyword, templated and converted to an int as ansible-core's
/// FieldAttribute does (None: not given or null).
fn task_timeout(
    runner: &Runner,
    task: &Task,
    vars: &Arc<dyn VarSource>,
) -> Result<Option<i64>, ChainError> {
    let Some(raw) = task.keyword("timeout") else {
        return Ok(None);
    };
    let keyword = "Error processing keyword 'timeout'";
    // Both links of the chain point at the keyword's value, as ansible-core's do.
    let at = task.keyword_origin("timeout");
    let fail = |message: String| ChainError {
        message: format!("{keyword}: {message}"),
        chain: vec![(format!("{keyword}."), at.clone()), (message, at.clone())],
    };
    let value = runner
        .templar
        .render(raw, vars)
        .map_err(|e| fail(e.message().to_string()))?;
    let converted = match &value {
        Value::Null => return Ok(None),
        Value::Number(n) => n.as_i64().or_else(|| n.as_f64().map(|f| f as i64)),
        Value::Bool(b) => Some(*b as i64),
        Value::String(s) => s.trim().parse::<i64>().ok(),
        _ => None,
    };
    converted.map(Some).ok_or_else(|| {
        fail(format!(
            "The value {} could not be converted to 'int'.",
            crate::template::pyrepr::json_repr(&value)
        ))
    })
}

/// ansible-core's result for a task that raised a timeout error.
fn timeout_failure(msg: &str, period: Option<i64>) -> Map<String, Value> {
    let mut r = Map::new();
    r.insert("changed".into(), json!(false));
    r.insert("msg".into(), json!(format!("Task failed: {msg}")));
    if let Some(p) = period {
        r.insert(
            "timedout".into(),
            json!({
                "frame": "Configure `DISPLAY_TRACEBACK` to see a traceback on timeout errors.",
                "period": p
            }),
        );
    }
    r.insert("failed".into(), json!(true));
    r
}

/// Ansible's default connection timeout, which an unreachable host costs each task.
const SSH_CONNECT_TIMEOUT: f64 = 10.0;

/// `changed_when` and `failed_when` on a result, as the task executor applies them to every
/// action's result: both see the result under its register name (and its facts).
fn apply_changed_failed_when(
    runner: &Runner,
    task: &Task,
    base: &HostVarSource,
    item_vars: Option<&Map<String, Value>>,
    result: &mut Map<String, Value>,
    delegated: bool,
) {
    if task.changed_when.is_none() && task.failed_when.is_none() {
        return;
    }
    // changed_when / failed_when see the result under its register name.
    let mut reg_vars = Map::new();
    if let Some(reg) = &task.register {
        reg_vars.insert(
            reg.clone(),
            Value::Object(crate::output::strip_internal(result)),
        );
    }
    let post_vars = {
        let mut m = item_vars.cloned().unwrap_or_default();
        m.extend(result_fact_vars(task, base, result, delegated));
        m.extend(reg_vars.clone());
        vars_with(base, m)
    };
    // ansible-core evaluates both in one `try`: an error fails the result and is kept as
    // the text of `changed_when_result` or `failed_when_result`, the module's own result
    // (and msg) left as they were; failed_when is not evaluated after a changed_when error.
    let fail_on_condition_error = |result: &mut Map<String, Value>, key: &str, message: &str| {
        if result.get("failed").and_then(Value::as_bool) != Some(true) {
            result.insert("_ansible_action_failed".into(), json!(true));
        }
        result.insert("failed".into(), json!(true));
        result.insert(key.into(), json!(message));
    };
    if let Some(conds) = &task.changed_when {
        match all_true(runner, conds, &post_vars) {
            Ok(c) => {
                result.insert("changed".into(), json!(c));
            }
            Err(e) => fail_on_condition_error(result, "changed_when_result", &e.message),
        }
    }
    let condition_error = result.contains_key("changed_when_result");
    if let Some(conds) = task.failed_when.as_ref().filter(|_| !condition_error) {
        match all_true_any(runner, conds, &post_vars) {
            Ok(f) => {
                result.insert("failed_when_result".into(), json!(f));
                if f {
                    // A result the module did not fail fails here, in the action: Ansible
                    // then reports "Action failed", not "Module failed".
                    if result.get("failed").and_then(Value::as_bool) != Some(true) {
                        result.insert("_ansible_action_failed".into(), json!(true));
                    }
                    result.insert("failed".into(), json!(true));
                } else {
                    result.insert("failed".into(), json!(false));
                    // The task executor keeps a failure failed_when overrode aside.
                    if let Some(e) = result.remove("exception") {
                        result.insert("failed_when_suppressed_exception".into(), e);
                    }
                }
            }
            Err(e) => fail_on_condition_error(result, "failed_when_result", &e.message),
        }
        // A result failed_when failed gets its summary too, when the result is made.
        if result.get("failed").and_then(Value::as_bool) == Some(true) {
            result
                .entry("exception")
                .or_insert(json!("(traceback unavailable)"));
        }
    }
}

/// `changed_when`: every condition must hold.
fn all_true(
    runner: &Runner,
    conds: &[Cond],
    vars: &Arc<dyn VarSource>,
) -> Result<bool, ChainError> {
    for c in conds {
        let text = text_of(&c.expr);
        match runner.templar.eval_conditional(&text, vars) {
            Ok(true) => {}
            Ok(false) => return Ok(false),
            Err(e) => {
                return Err(ChainError {
                    message: e.message().to_string(),
                    chain: vec![(e.message().to_string(), c.origin.clone())],
                })
            }
        }
    }
    Ok(true)
}

/// `failed_when` with a list: all conditions must hold (Ansible ANDs them too).
fn all_true_any(
    runner: &Runner,
    conds: &[Cond],
    vars: &Arc<dyn VarSource>,
) -> Result<bool, ChainError> {
    all_true(runner, conds, vars)
}

pub(super) fn search_dirs(task: &Task, ctx: &PlayCtx) -> Vec<PathBuf> {
    let mut dirs = Vec::new();
    if let Some(r) = &task.role {
        dirs.push(r.path.clone());
    }
    dirs.push(task.file_dir.clone());
    dirs.push(ctx.play.dir.clone());
    dirs
}

/// ansible-core's `merge_hash`: `new` over `old`, dicts merged recursively, lists replaced.
fn merge_hash(old: &Map<String, Value>, new: &Map<String, Value>) -> Map<String, Value> {
    let mut out = old.clone();
    for (k, v) in new {
        let merged = match (out.get(k), v) {
            (Some(Value::Object(a)), Value::Object(b)) => Value::Object(merge_hash(a, b)),
            _ => v.clone(),
        };
        out.insert(k.clone(), merged);
    }
    out
}

/// include_vars' own failure: the reason in `message` (not `msg`), no facts, no files.
fn include_vars_failed(message: &str) -> Map<String, Value> {
    let mut r = Map::new();
    r.insert("failed".into(), json!(true));
    r.insert("ansible_facts".into(), json!({}));
    r.insert("ansible_included_var_files".into(), json!([]));
    r.insert("message".into(), json!(message));
    r.insert("_ansible_action_failed".into(), json!(true));
    r
}

fn include_vars(
    runner: &mut Runner,
    task: &Task,
    args: &Map<String, Value>,
    vars: &Arc<dyn VarSource>,
) -> Map<String, Value> {
    let sandbox = runner.opts.sandbox.clone();
    // Relative names are searched in the role's and task file's folders; absolute ones live
    // in the simulated controller, never on the real machine.
    let candidates = |name: &str| -> Vec<PathBuf> {
        if std::path::Path::new(name).is_absolute() {
            // A path inside the project (`{{ role_path }}/vars2`) is the project's file;
            // any other lives in the simulated controller.
            let mut d = vec![PathBuf::from(name)];
            d.extend(super::controller::controller_path(
                &sandbox,
                std::path::Path::new("/"),
                name,
            ));
            return d;
        }
        let mut d = Vec::new();
        if let Some(r) = &task.role {
            d.push(r.path.join("vars").join(name));
            d.push(r.path.join(name));
        }
        d.push(task.file_dir.join("vars").join(name));
        d.push(task.file_dir.join(name));
        d
    };
    // The files to read, in order: one `file`, or every vars file of a `dir` (sorted, as
    // Ansible walks it).
    // A `dir` is found as the action's `_set_root_dir` finds it: in a role, under the role
    // (`vars/...` as written, anything else inside `vars/`); elsewhere beside the task's file.
    let dir_candidates = |name: &str| -> Vec<PathBuf> {
        if std::path::Path::new(name).is_absolute() {
            return candidates(name);
        }
        match &task.role {
            Some(r) if name.split('/').next() == Some("vars") => vec![r.path.join(name)],
            Some(r) => vec![r.path.join("vars").join(name)],
            None => vec![task.file_dir.join(name)],
        }
    };
    let files: Vec<PathBuf> = if let Some(dir) = args.get("dir").map(text_of) {
        let Some(root) = dir_candidates(&dir)
            .into_iter()
            .find(|p| crate::project::readable_dir(p).is_some())
        else {
            return include_vars_failed(&format!("{dir} directory does not exist"));
        };
        let exts: Vec<String> = match args.get("extensions") {
            Some(Value::Array(a)) => a.iter().map(text_of).collect(),
            _ => vec!["yaml".into(), "yml".into(), "json".into()],
        };
        let matching = args
            .get("files_matching")
            .map(text_of)
            .and_then(|p| regex::Regex::new(&p).ok());
        let ignore: Vec<String> = match args.get("ignore_files") {
            Some(Value::Array(a)) => a.iter().map(text_of).collect(),
            Some(v) => vec![text_of(v)],
            None => Vec::new(),
        };
        let depth = args.get("depth").and_then(Value::as_u64).unwrap_or(0) as usize;
        let mut found = Vec::new();
        collect_vars_files(
            &root,
            1,
            depth,
            &VarsFileFilter {
                matching: matching.as_ref(),
                ignore: &ignore,
                role_main: task
                    .role
                    .as_ref()
                    .map(|r| r.path.join("vars").join("main.yml")),
            },
            &mut found,
        );
        // Without ignore_unknown_extensions (the default) a file of another extension fails
        // the action, naming it and the valid ones.
        let ignore_unknown = args
            .get("ignore_unknown_extensions")
            .and_then(modules::to_bool)
            .unwrap_or(false);
        let valid = |p: &PathBuf| {
            let ext = p
                .extension()
                .map(|e| e.to_string_lossy().into_owned())
                .unwrap_or_default();
            exts.contains(&ext)
        };
        if !ignore_unknown {
            if let Some(bad) = found.iter().find(|p| !valid(p)) {
                return include_vars_failed(&format!(
                    "{} does not have a valid extension: {}",
                    bad.display(),
                    exts.join(", ")
                ));
            }
        }
        found.retain(valid);
        found
    } else {
        // The free-form name is split as key=value arguments are, so a folded `>` scalar
        // loses its newline.
        let file = args
            .get("_raw_params")
            .or_else(|| args.get("file"))
            .filter(|v| !v.is_null())
            .map(text_of)
            .unwrap_or_default()
            .trim()
            .to_string();
        if file.is_empty() {
            return include_vars_failed(
                "Could not find file on the Ansible Controller.\nIf you are using a module and expect the file to exist on the remote, see the remote_src option",
            );
        }
        match candidates(&file)
            .into_iter()
            .find(|p| crate::project::readable_file(p).is_some())
        {
            Some(p) => vec![p],
            None => {
                return include_vars_failed(&format!(
                    "Could not find or access '{file}' on the Ansible Controller.\nIf you are using a module and expect the file to exist on the remote, see the remote_src option"
                ))
            }
        }
    };
    let mut merged = Map::new();
    for path in &files {
        match crate::yaml::load_file(path) {
            Ok(node) => match node.to_value() {
                Value::Object(m) => merged.extend(m),
                Value::Null => {}
                _ => {
                    return include_vars_failed(&format!(
                        "{} must be stored as a dictionary/hash",
                        path.display()
                    ))
                }
            },
            Err(e) => return modules::action_fail(&e.headline()),
        }
    }
    let mut facts = match args.get("name").map(text_of) {
        Some(name) => {
            let mut m = Map::new();
            m.insert(name, Value::Object(merged));
            m
        }
        None => merged,
    };
    // `hash_behaviour: merge` (when not the configured behaviour): each loaded dict is
    // merged into the variable's current value.
    let hash_behaviour = args.get("hash_behaviour").map(text_of);
    let configured = if crate::config::hash_merge() {
        "merge"
    } else {
        "replace"
    };
    if hash_behaviour.as_deref() == Some("merge") && configured != "merge" {
        for (k, v) in facts.iter_mut() {
            if let (Some(Value::Object(old)), Value::Object(new)) = (vars.get(k), &*v) {
                *v = Value::Object(merge_hash(&old, new));
            }
        }
    }
    let mut r = modules::ok(false);
    r.insert("ansible_facts".into(), Value::Object(facts));
    r.insert(
        "ansible_included_var_files".into(),
        json!(files
            .iter()
            .map(|p| p.display().to_string())
            .collect::<Vec<_>>()),
    );
    r.insert("_ansible_include_vars".into(), json!(true));
    r
}

/// Vars files under `dir` as include_vars' `dir:` walks them: names sorted, subfolders after
/// the files of their parent, down to `depth` levels (0 = no limit).
/// Which files of a `dir:` include_vars reads: `files_matching`, `ignore_files`, and never
/// the role's own `vars/main.yml` (the role loads it already).
struct VarsFileFilter<'a> {
    matching: Option<&'a regex::Regex>,
    ignore: &'a [String],
    role_main: Option<PathBuf>,
}

fn collect_vars_files(
    dir: &std::path::Path,
    level: usize,
    depth: usize,
    filter: &VarsFileFilter<'_>,
    out: &mut Vec<PathBuf>,
) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<PathBuf> = rd.filter_map(Result::ok).map(|e| e.path()).collect();
    entries.sort();
    let mut subdirs = Vec::new();
    for p in entries {
        let name = p
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        // A link inside the folder to a file or folder outside the project is skipped.
        if crate::project::readable(&p).is_none() {
            continue;
        }
        if p.is_dir() {
            subdirs.push(p);
            continue;
        }
        if filter.ignore.contains(&name) || filter.role_main.as_ref() == Some(&p) {
            continue;
        }
        if filter.matching.is_some_and(|re| !re.is_match(&name)) {
            continue;
        }
        out.push(p);
    }
    if depth == 0 || level < depth {
        for d in subdirs {
            collect_vars_files(&d, level + 1, depth, filter, out);
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn include_action(
    runner: &mut Runner,
    ctx: &PlayCtx,
    task: &Arc<Task>,
    _host: &str,
    _vars: &Arc<dyn VarSource>,
    args: &Map<String, Value>,
    item_vars: Option<Map<String, Value>>,
    mut ir: ItemResult,
) -> ItemResult {
    let mut inc_vars: Vars = task.vars.clone();
    let mut inc_params: Vars = task.own_vars.clone();
    if let Some(iv) = &item_vars {
        inc_vars.extend(iv.clone());
        inc_params.extend(iv.clone());
    }
    let apply = args.get("apply").and_then(Value::as_object);
    let apply_key = apply
        .map(|a| pyjson::dumps(&Value::Object(a.clone()), None, true))
        .unwrap_or_default();
    if task.action == "include_tasks" {
        let file = args
            .get("_raw_params")
            .or_else(|| args.get("file"))
            .map(text_of)
            .unwrap_or_default();
        let path = normalize_path(&playbook::resolve_task_file(
            &task.file_dir,
            &ctx.play.dir,
            task.role.as_deref(),
            &file,
        ));
        // Hosts including the same file with the same vars share one copy of its tasks, so
        // they run them together (Ansible's IncludedFile deduplication).
        let key = format!(
            "{}\0{}\0{}\0{apply_key}",
            path.display(),
            pyjson::dumps(&Value::Object(inc_vars.clone()), None, true),
            super::environment::cache_key(task)
        );
        if let Some(blocks) = runner.include_cache.get(&key) {
            ir.include = Some((
                blocks.clone(),
                Arc::new(inc_vars),
                Arc::new(inc_params),
                path.display().to_string(),
            ));
            ir.result = modules::ok(false);
            return ir;
        }
        match playbook::load_task_file(runner.loader_mut(), &path, task, apply) {
            Ok(blocks) => {
                let blocks = super::environment::inherit_from_include(task, blocks);
                runner.include_cache.insert(key, blocks.clone());
                ir.include = Some((
                    blocks,
                    Arc::new(inc_vars),
                    Arc::new(inc_params),
                    path.display().to_string(),
                ));
                ir.result = modules::ok(false);
            }
            Err(e @ playbook::LoadError::Plain { .. }) => {
                let reason = format!(
                    "Could not find or access '{}' on the Ansible Controller: {e}",
                    path.display()
                );
                ir.result = include_failed_result(Some(&file), &reason);
                ir.include_failure = Some(IncludeFailure::Host(reason));
            }
            Err(e) => {
                ir.include_failure = Some(IncludeFailure::Fatal(e.to_string(), e.exit_code()));
            }
        }
        return ir;
    }
    let name = args
        .get("name")
        .or_else(|| args.get("role"))
        .map(text_of)
        .unwrap_or_default();
    let files = playbook::RoleFiles::from_args(args);
    let key = format!(
        "role:{name}:{files:?}\0{}\0{}\0{apply_key}",
        pyjson::dumps(&Value::Object(inc_vars.clone()), None, true),
        super::environment::cache_key(task)
    );
    if let Some(blocks) = runner.include_cache.get(&key) {
        ir.include = Some((
            blocks.clone(),
            Arc::new(Map::new()),
            Arc::new(Map::new()),
            name,
        ));
        ir.result = modules::ok(false);
        return ir;
    }
    match runner.loader_mut().load_role_dynamic(
        &ctx.play.dir,
        &name,
        &files,
        inc_vars.clone(),
        task,
        apply,
    ) {
        Ok(blocks) => {
            if let Some(role) = runner.loader_mut().last_loaded_role() {
                runner.included_roles.push(role);
            }
            // The included role's handlers join the play's, after those it has (each use
            // of a role has its own, with its own vars), as ansible-core's IncludeRole does.
            let handlers = runner.loader_mut().take_role_handlers();
            let handlers = super::environment::inherit_from_include(task, handlers);
            runner
                .handlers_in_play
                .extend(handlers.iter().flat_map(|b| super::flatten_block(b)));
            let blocks = super::environment::inherit_from_include(task, blocks);
            runner.include_cache.insert(key, blocks.clone());
            ir.include = Some((blocks, Arc::new(Map::new()), Arc::new(Map::new()), name));
            ir.result = modules::ok(false);
        }
        Err(e @ playbook::LoadError::Plain { .. }) => {
            let reason = e.to_string();
            ir.result = include_failed_result(None, &reason);
            ir.include_failure = Some(IncludeFailure::Host(reason));
        }
        Err(e) => {
            ir.include_failure = Some(IncludeFailure::Fatal(e.to_string(), e.exit_code()));
        }
    }
    ir
}

/// A path with `.` and `..` resolved lexically, as Python's `os.path.normpath` (ansible-core
/// shows an included file as `/play/t.yml`, not `/play/roles/x/../../t.yml`).
fn normalize_path(path: &std::path::Path) -> PathBuf {
    use std::path::Component;
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                if !out.pop() {
                    out.push("..");
                }
            }
            other => out.push(other.as_os_str()),
        }
    }
    out
}

/// The result a failed include shows: `include` (the file as written, for include_tasks) and
/// the `reason`.
fn include_failed_result(file: Option<&str>, reason: &str) -> Map<String, Value> {
    let mut r = Map::new();
    r.insert("changed".into(), json!(false));
    if let Some(f) = file {
        r.insert("include".into(), json!(f));
    }
    r.insert("reason".into(), json!(reason));
    r.insert("failed".into(), json!(true));
    r
}

/// Turns a single (non-loop) execution into the host outcome and printed lines.
fn merge_single(
    runner: &mut Runner,
    task: &Arc<Task>,
    host: &str,
    out: &mut HostOutcome,
    ir: ItemResult,
    ignore_errors: bool,
) {
    out.lines.extend(ir.pre_lines.iter().cloned());
    out.lines.extend(crate::template::take_deprecations());
    if let Some(cond) = ir.skipped_cond {
        let o = skipped_outcome(runner, task, host, std::mem::take(out), Some(cond));
        *out = o;
        return;
    }
    let label = host_label(runner, host, ir.delegate.as_deref());
    let no_log = ir.no_log;
    let mut result = ir.result;
    if let Some(failure) = ir.include_failure {
        include_failure_outcome(runner, host, out, failure, &result);
        return;
    }
    // A failure raised while running the task carries `changed: false` (TaskExecutor's
    // `_execute`).
    if ir.chain.is_some() && result.remove("_ansible_no_changed").is_none() {
        result.entry("changed").or_insert(json!(false));
    }
    if let Some((blocks, vars, params, name)) = ir.include {
        out.includes.push(Included {
            blocks,
            vars,
            params,
            name,
            item_label: None,
        });
        return;
    }
    let failed = result
        .get("failed")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let changed = result
        .get("changed")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let skipped = result
        .get("skipped")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    if result.get("unreachable").and_then(Value::as_bool) == Some(true) {
        out.unreachable = true;
        out.lines.extend(unreachable_block(task, &result));
        out.lines.push(format!(
            "fatal: [{}]: UNREACHABLE! => {}",
            unreached_label(host, ir.delegate.as_deref()),
            dump_result(&callback_view(&result, no_log), runner.display.verbosity)
        ));
        // The strategy registers every result, an unreachable one too (so `is reachable`
        // can test it after ignore_unreachable).
        let registered = Value::Object(registered_result(&result));
        if let Some(reg) = &task.register {
            runner.register(host, reg, registered.clone());
        }
        out.registered = Some(registered);
        return;
    }
    result.entry("failed").or_insert(json!(false));
    if failed {
        out.failed = true;
        out.changed = changed;
        out.lines
            .extend(failure_block(task, &result, ir.chain.as_ref()));
        fill_failure_msg(&mut result, ir.chain.as_ref());
        let mut shown = callback_view(&result, no_log);
        shown.remove("failed");
        // The callback strips `changed` from debug's result, as it strips all but `msg`.
        if ir.chain.is_some() && task.action == "debug" && !no_log {
            shown.remove("changed");
        }
        out.lines.push(format!(
            "fatal: [{label}]: FAILED! => {}",
            dump_result(&shown, runner.display.verbosity)
        ));
        if ignore_errors {
            out.ignored = true;
            out.lines.push("...ignoring".into());
        }
    } else if skipped {
        out.skipped = true;
        let mut line = format!("skipping: [{label}]");
        // At -v the callback shows why (`debug` under its `verbosity`: "Verbosity threshold
        // not met.").
        let shown = callback_view(&result, no_log);
        if verbose(&shown, runner.display.verbosity) {
            line.push_str(&format!(
                " => {}",
                dump_result(&clean_debug(task, &shown), runner.display.verbosity)
            ));
        }
        out.lines.push(line);
    } else {
        out.changed = changed;
        let censored = no_log.then(|| callback_view(&result, no_log));
        let shown = censored.as_ref().unwrap_or(&result);
        if changed && !ir.hide_diff {
            if let Some(d) = shown.get("diff") {
                out.lines.extend(crate::output::diff::render(d));
            }
        }
        let status = if changed { "changed" } else { "ok" };
        let mut line = format!("{status}: [{label}]");
        if verbose(shown, runner.display.verbosity) {
            let shown = callback_view(&result, no_log);
            line.push_str(&format!(
                " => {}",
                dump_result(&clean_debug(task, &shown), runner.display.verbosity)
            ));
        }
        out.lines.push(line);
        apply_result_facts(runner, task, host, ir.delegate.as_deref(), &result, out);
        apply_result_stats(runner, host, &result);
    }
    if changed && !failed {
        out.notify = task.notify.clone();
    }
    let registered = Value::Object(registered_result(&result));
    if let Some(reg) = &task.register {
        runner.register(host, reg, registered.clone());
    }
    out.registered = Some(registered);
}

/// Stores the facts a result (or one loop item's result) returns, where the strategy puts
/// them: on the delegate with `delegate_facts`, else on the host (whose run_once partners get
/// them too, through `out.set_facts`).
fn apply_result_facts(
    runner: &mut Runner,
    task: &Task,
    host: &str,
    delegate: Option<&str>,
    result: &Map<String, Value>,
    out: &mut HostOutcome,
) {
    // `debug: var=ansible_facts` shows facts under that key; ansible-core's strategy skips
    // the debug action's results (C._ACTION_DEBUG) so showing them never sets them.
    if task.action == "debug" {
        return;
    }
    let Some(Value::Object(facts)) = result.get("ansible_facts") else {
        return;
    };
    let facts = facts.clone();
    let to_delegate = task
        .keyword("delegate_facts")
        .and_then(modules::to_bool)
        .unwrap_or(false);
    let fact_host = match (delegate, to_delegate) {
        (Some(d), true) => d.to_string(),
        _ => host.to_string(),
    };
    if result.get("_ansible_set_fact").is_some() {
        if fact_host == host {
            out.set_facts
                .get_or_insert_with(Map::new)
                .extend(facts.clone());
        }
        // The strategy stores cacheable ones in the fact cache too (lower precedence, but
        // `ansible_facts.NAME` and later plays see them).
        if result.get("_ansible_facts_cacheable").is_some() {
            runner.store_module_facts(&fact_host, facts.clone());
        }
        runner.apply_set_fact(&fact_host, facts);
    } else if result.get("_ansible_include_vars").is_some() {
        runner.apply_include_vars(host, facts);
    } else {
        runner.store_module_facts(&fact_host, facts);
    }
}

/// Adds a result's `set_stats` statistics (`ansible_stats`) up, as the strategy does: for
/// the host (per_host) or the run, aggregated or set.
fn apply_result_stats(runner: &mut Runner, host: &str, result: &Map<String, Value>) {
    let Some(Value::Object(stats)) = result.get("ansible_stats") else {
        return;
    };
    let Some(Value::Object(data)) = stats
        .get("data")
        .filter(|d| d.as_object().is_some_and(|m| !m.is_empty()))
    else {
        return;
    };
    let flag = |name: &str| stats.get(name).and_then(Value::as_bool).unwrap_or(false);
    let owner = if flag("per_host") { host } else { "_run" };
    let held = runner.custom_stats.entry(owner.to_string()).or_default();
    for (k, v) in data {
        if flag("aggregate") {
            modules::set_stats::aggregate(held, k, v);
        } else {
            held.insert(k.clone(), v.clone());
        }
    }
}

/// A host whose include failed: the `fatal:` line (the error itself is shown once for the
/// task, by the caller), no "...ignoring" whatever ignore_errors says.
fn include_failure_outcome(
    runner: &Runner,
    host: &str,
    out: &mut HostOutcome,
    failure: IncludeFailure,
    result: &Map<String, Value>,
) {
    out.failed = true;
    if let IncludeFailure::Host(_) = &failure {
        let mut shown = result.clone();
        shown.remove("failed");
        out.lines.push(format!(
            "fatal: [{host}]: FAILED! => {}",
            dump_result(&shown, runner.display.verbosity)
        ));
    }
    out.include_failure = Some(failure);
}

/// The result as the callback receives it: censored under `no_log` (ansible-core's
/// `as_callback_task_result`), else without its status keys. An ok or changed result is
/// read in place for its diff and whether to show it (neither depends on the two keys the
/// view drops): the view itself is built only to be shown.
fn callback_view(result: &Map<String, Value>, no_log: bool) -> Map<String, Value> {
    if no_log {
        crate::output::censor(result)
    } else {
        // The status is the event's (`_RawTaskResult.as_callback_task_result` drops
        // `failed` and `skipped`): `ok: [h] => {...}` at -v never shows `"failed": false`.
        let mut shown = result.clone();
        shown.remove("failed");
        shown.remove("skipped");
        shown
    }
}

/// The item label the callback prints: `(censored due to no_log)` under `no_log`.
fn shown_label(label: &str, no_log: bool) -> String {
    if no_log {
        "(censored due to no_log)".into()
    } else {
        label.to_string()
    }
}

fn verbose(result: &Map<String, Value>, verbosity: u8) -> bool {
    verbosity > 0
        || result
            .get("_ansible_verbose_always")
            .and_then(Value::as_bool)
            .unwrap_or(false)
}

/// What `debug` shows: `msg` alone (or the variable), as the callback's `_clean_results`.
fn clean_debug(task: &Task, result: &Map<String, Value>) -> Map<String, Value> {
    if task.action != "debug" {
        return result.clone();
    }
    let mut r = result.clone();
    if r.contains_key("msg") {
        r.retain(|k, _| {
            k.starts_with('_')
                || ["msg", "exception", "warnings", "deprecations"].contains(&k.as_str())
        });
    } else {
        for k in [
            "changed",
            "failed",
            "skipped",
            "invocation",
            "skip_reason",
            "ansible_loop_var",
            "ansible_index_var",
            "ansible_loop",
        ] {
            r.remove(k);
        }
    }
    r
}

#[allow(clippy::too_many_arguments)]
fn run_loop(
    runner: &mut Runner,
    ctx: &PlayCtx,
    task: &Arc<Task>,
    host: &str,
    base: &HostVarSource,
    items: Vec<Value>,
    ignore_errors: bool,
    out: &mut HostOutcome,
) {
    let loop_var = task
        .loop_control
        .get("loop_var")
        .map(text_of)
        .unwrap_or_else(|| "item".into());
    let index_var = task.loop_control.get("index_var").map(text_of);
    let extended = task
        .loop_control
        .get("extended")
        .and_then(modules::to_bool)
        .unwrap_or(false);
    let extended_allitems = task
        .loop_control
        .get("extended_allitems")
        .and_then(modules::to_bool)
        .unwrap_or(true);
    let label_expr = task.loop_control.get("label").cloned();
    // Conditions checked after each item's result (2.17's `break_when`): true ends the loop.
    let break_when: Vec<Value> = match task.loop_control.get("break_when") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(a)) => a.clone(),
        Some(other) => vec![other.clone()],
    };
    let pause = task
        .loop_control
        .get("pause")
        .and_then(Value::as_f64)
        .unwrap_or(0.0);
    let n = items.len();
    let mut results = Vec::new();
    let mut any_changed = false;
    let mut any_failed = false;
    // Whether an item could not reach its host.
    let mut any_unreachable = false;
    let mut all_skipped = n > 0;
    // Why the items of a looped include that could not load failed.
    let mut item_failures: Vec<String> = Vec::new();
    // What the loop registered so far: Ansible stores each item's result under the register
    // name in the loop's variables, so the next item's `when` and args see the previous one.
    let mut carried = Map::new();
    for (i, item) in items.iter().enumerate() {
        // ansible-core sleeps `loop_control.pause` between items (before every item but the
        // first, skipped ones included), so the controller's `now()` moves with it.
        if pause > 0.0 && i > 0 {
            runner.world.clock.advance(pause);
            *runner
                .controller
                .now
                .lock()
                .unwrap_or_else(|e| e.into_inner()) = runner.world.clock.now();
        }
        let mut iv = carried.clone();
        iv.insert(loop_var.clone(), item.clone());
        iv.insert("ansible_loop_var".into(), json!(loop_var));
        if let Some(ix) = &index_var {
            iv.insert(ix.clone(), json!(i));
            iv.insert("ansible_index_var".into(), json!(ix));
        }
        if extended {
            iv.insert(
                "ansible_loop".into(),
                json!({
                    "allitems": items,
                    "index": i + 1,
                    "index0": i,
                    "revindex": n - i,
                    "revindex0": n - i - 1,
                    "first": i == 0,
                    "last": i + 1 == n,
                    "length": n,
                    "previtem": if i > 0 { items[i - 1].clone() } else { Value::Null },
                    "nextitem": items.get(i + 1).cloned().unwrap_or(Value::Null),
                }),
            );
            if i == 0 || !extended_allitems {
                if let Some(Value::Object(m)) = iv.get_mut("ansible_loop") {
                    if i == 0 {
                        m.remove("previtem");
                    }
                    if !extended_allitems {
                        m.remove("allitems");
                    }
                }
            }
            if i + 1 == n {
                if let Some(Value::Object(m)) = iv.get_mut("ansible_loop") {
                    m.remove("nextitem");
                }
            }
        }
        let item_src = vars_with(base, iv.clone());
        // A label that cannot be templated fails its item (labelled `None`) after it ran.
        let mut label_error = None;
        let label = match &label_expr {
            Some(l) => match runner.templar.render(l, &item_src) {
                Ok(v) => item_label(&v),
                Err(e) => {
                    label_error = Some(format!(
                        "Failed to template loop_control.label: {}",
                        e.message()
                    ));
                    "None".to_string()
                }
            },
            None => item_label(item),
        };
        'item: {
            let ir = run_once_item(
                runner,
                ctx,
                task,
                host,
                base,
                Some(iv.clone()),
                ignore_errors,
            );
            out.lines.extend(ir.pre_lines.iter().cloned());
            out.lines.extend(crate::template::take_deprecations());
            let no_log = ir.no_log;
            let label = shown_label(&label, no_log);
            if let Some(reg) = &task.register {
                let mut raw = crate::output::strip_internal(&ir.result);
                if let Some(cond) = &ir.skipped_cond {
                    raw.insert("changed".into(), json!(false));
                    raw.insert("false_condition".into(), json!(cond));
                    raw.insert("skip_reason".into(), json!("Conditional result was False"));
                    raw.insert("skipped".into(), json!(true));
                }
                carried.insert(reg.clone(), Value::Object(raw));
            }
            let mut r = ir.result.clone();
            let label_failed = label_error.is_some();
            if let Some(msg) = label_error {
                r.insert("failed".into(), json!(true));
                r.insert("msg".into(), json!(msg));
            }
            if extended {
                if let Some(l) = iv.get("ansible_loop") {
                    r.insert("ansible_loop".into(), l.clone());
                }
            }
            r.insert(loop_var.clone(), item.clone());
            r.insert("ansible_loop_var".into(), json!(loop_var));
            if let Some(ix) = &index_var {
                r.insert(ix.clone(), json!(i));
                r.insert("ansible_index_var".into(), json!(ix));
            }
            if let Some(cond) = &ir.skipped_cond {
                r.insert("changed".into(), json!(false));
                r.insert("false_condition".into(), json!(cond));
                r.insert("skip_reason".into(), json!("Conditional result was False"));
                r.insert("skipped".into(), json!(true));
                out.lines
                    .push(format!("skipping: [{host}] => (item={label}) "));
                results.push(Value::Object(crate::output::strip_internal(&r)));
                break 'item;
            }
            if ir.include_failure.is_some() || ir.include.is_some() {
                all_skipped = false;
            }
            match ir.include_failure {
                Some(IncludeFailure::Host(reason)) => {
                    // Every item is tried; the host fails once the loop is over.
                    item_failures.push(reason);
                    break 'item;
                }
                Some(failure) => {
                    let result = ir.result.clone();
                    include_failure_outcome(runner, host, out, failure, &result);
                    return;
                }
                None => {}
            }
            if let Some((blocks, vars, params, name)) = ir.include {
                // Each item of an include loop includes the file again, with that item.
                out.includes.push(Included {
                    blocks,
                    vars,
                    params,
                    name,
                    item_label: Some(label.clone()),
                });
                break 'item;
            }
            let label_host = host_label(runner, host, ir.delegate.as_deref());
            let failed = r.get("failed").and_then(Value::as_bool).unwrap_or(false);
            let changed = r.get("changed").and_then(Value::as_bool).unwrap_or(false);
            if r.get("unreachable").and_then(Value::as_bool) == Some(true) {
                // As Ansible prints an item that could not connect: a failed item line; the loop
                // ends UNREACHABLE below, its results carrying the (absent) traceback.
                any_changed |= changed;
                out.lines.extend(unreachable_block(task, &r));
                out.lines.push(format!(
                    "failed: [{}] (item={label}) => {}",
                    unreached_label(host, ir.delegate.as_deref()),
                    dump_result(&callback_view(&r, no_log), runner.display.verbosity)
                ));
                let mut kept = crate::output::strip_internal(&r);
                kept.insert("exception".into(), json!("(traceback unavailable)"));
                results.push(Value::Object(kept));
                any_unreachable = true;
                all_skipped = false;
                break 'item;
            }
            if !failed && r.get("skipped").and_then(Value::as_bool) == Some(true) {
                // The action skipped this item itself (`debug` above its verbosity).
                out.lines
                    .push(format!("skipping: [{label_host}] => (item={label}) "));
                r.entry("failed").or_insert(json!(false));
                results.push(Value::Object(crate::output::strip_internal(&r)));
                break 'item;
            }
            all_skipped = false;
            r.entry("failed").or_insert(json!(false));
            if failed {
                any_failed = true;
                any_changed |= changed;
                // A label failure is the loop's, set on an item that ran: no error block.
                if !label_failed {
                    out.lines.extend(failure_block(task, &r, ir.chain.as_ref()));
                }
                fill_failure_msg(&mut r, ir.chain.as_ref());
                let mut shown = if no_log {
                    callback_view(&r, no_log)
                } else {
                    clean_debug(task, &r)
                };
                shown.remove("failed");
                out.lines.push(format!(
                    "failed: [{label_host}] (item={label}) => {}",
                    dump_result(&shown, runner.display.verbosity)
                ));
            } else {
                any_changed |= changed;
                let censored = no_log.then(|| callback_view(&r, no_log));
                let shown = censored.as_ref().unwrap_or(&r);
                if changed && !ir.hide_diff {
                    if let Some(d) = shown.get("diff") {
                        out.lines.extend(crate::output::diff::render(d));
                    }
                }
                let status = if changed { "changed" } else { "ok" };
                let mut line = format!("{status}: [{label_host}] => (item={label})");
                if verbose(shown, runner.display.verbosity) {
                    let shown = callback_view(&r, no_log);
                    line.push_str(&format!(
                        " => {}",
                        dump_result(&clean_debug(task, &shown), runner.display.verbosity)
                    ));
                }
                out.lines.push(line);
                apply_result_facts(runner, task, host, ir.delegate.as_deref(), &r, out);
                apply_result_stats(runner, host, &r);
                if changed {
                    for n in &task.notify {
                        if !out.notify.contains(n) {
                            out.notify.push(n.clone());
                        }
                    }
                }
            }
            results.push(Value::Object(registered_result(&r)));
        }
        // ansible-core checks `break_when` after every item's result, whatever its status,
        // with the item's variables and its registered result.
        if !break_when.is_empty() {
            let mut bv = carried.clone();
            bv.insert(loop_var.clone(), item.clone());
            bv.insert("ansible_loop_var".into(), json!(loop_var));
            if let Some(ix) = &index_var {
                bv.insert(ix.clone(), json!(i));
                bv.insert("ansible_index_var".into(), json!(ix));
            }
            if let Some(l) = iv.get("ansible_loop") {
                bv.insert("ansible_loop".into(), l.clone());
            }
            let vars = vars_with(base, bv);
            let mut stop = true;
            for cond in &break_when {
                match runner.templar.eval_conditional(&text_of(cond), &vars) {
                    Ok(true) => {}
                    Ok(false) => {
                        stop = false;
                        break;
                    }
                    Err(e) => {
                        // The error leaves the loop: the task fails with it, its items'
                        // results dropped, as ansible-core's TaskExecutor.run reports it.
                        let chain = ChainError {
                            message: e.message().to_string(),
                            chain: Vec::new(),
                        };
                        out.lines.clear();
                        out.includes.clear();
                        fail_with_chain(runner, task, host, out, chain, ignore_errors);
                        return;
                    }
                }
            }
            if stop {
                break;
            }
        }
    }
    if !item_failures.is_empty() {
        // ansible-core marks the host failed after the include results: the files the
        // other items included never run.
        out.failed = true;
        out.includes.clear();
        out.include_failure = Some(IncludeFailure::Items(item_failures));
        return;
    }
    let mut top = Map::new();
    top.insert("changed".into(), json!(any_changed));
    if n == 0 {
        top.insert("skipped".into(), json!(true));
        top.insert("skipped_reason".into(), json!("No items in the list"));
        out.skipped = true;
        out.lines.push(format!("skipping: [{host}]"));
    } else if all_skipped {
        top.insert("skipped".into(), json!(true));
        top.insert("msg".into(), json!("All items skipped"));
        out.skipped = true;
        out.lines.push(format!("skipping: [{host}]"));
    } else if any_failed {
        top.insert("failed".into(), json!(true));
        top.insert("msg".into(), json!("One or more items failed"));
        top.insert("skipped".into(), json!(false));
        out.failed = true;
        out.changed = any_changed;
        if any_unreachable {
            top.insert("unreachable".into(), json!(true));
        }
        if task.action == "debug" {
            // Ansible's callback cleans a debug result down to its `msg` before it looks for
            // `results`, so a failed debug loop also prints the loop's own result.
            out.lines.push(format!(
                "fatal: [{host}]: FAILED! => {}",
                dump_result(&clean_debug(task, &top), runner.display.verbosity)
            ));
        }
        if ignore_errors {
            out.ignored = true;
            out.lines.push("...ignoring".into());
        }
    } else if any_unreachable {
        top.insert("msg".into(), json!("All items completed"));
        top.insert("unreachable".into(), json!(true));
        out.unreachable = true;
    } else {
        top.insert("msg".into(), json!("All items completed"));
        top.insert("skipped".into(), json!(false));
        out.changed = any_changed;
    }
    top.insert("results".into(), Value::Array(results));
    if out.unreachable {
        // The loop's own result is labelled with `delegate_to` as written (`{{ item }}`),
        // as Ansible labels it: its task is the untemplated one.
        let written = task.keyword("delegate_to").map(text_of);
        out.lines.push(format!(
            "fatal: [{}]: UNREACHABLE! => {}",
            unreached_label(host, written.as_deref()),
            dump_result(&top, runner.display.verbosity)
        ));
    }
    let registered = Value::Object(top);
    if let Some(reg) = &task.register {
        runner.register(host, reg, registered.clone());
    }
    out.registered = Some(registered);
}

/// The `[ERROR]` block before a result that could not reach its host: its message
/// (`Task failed: Failed to connect to the host via ssh: ...`) at the task's position.
fn unreachable_block(task: &Task, result: &Map<String, Value>) -> Vec<String> {
    match result.get("msg") {
        Some(msg) => error_block(&text_of(msg), &task.origin, &[]),
        None => Vec::new(),
    }
}

/// The `[ERROR]` block before a failed result: the chain of causes for template and
/// conditional errors, else `Action failed:` (raised by the action itself) or
/// `Module failed:` with the module's message.
fn failure_block(
    task: &Task,
    result: &Map<String, Value>,
    chain: Option<&ChainError>,
) -> Vec<String> {
    match chain {
        Some(c) => error_block(
            &format!("Task failed: {}", c.message),
            &task.origin,
            &c.chain,
        ),
        None => error_block(&failure_headline(result), &task.origin, &[]),
    }
}

/// `Task failed: Action failed: MSG` (raised by the action itself) or `Module failed: MSG`.
/// A result without `msg` is `Unknown error.`, as Ansible's error normalisation words it; an
/// empty message gives the bare default (`Action failed.`).
fn failure_headline(result: &Map<String, Value>) -> String {
    let kind = if result.get("_ansible_action_failed").is_some() {
        "Action failed"
    } else {
        "Module failed"
    };
    let msg = result
        .get("msg")
        .map(text_of)
        .unwrap_or_else(|| "Unknown error.".into());
    let detail = error_detail(result, &msg);
    if detail.is_empty() {
        format!("Task failed: {kind}.")
    } else {
        format!("Task failed: {kind}: {detail}")
    }
}

/// A failed result without `msg` gets the whole error text as its `msg`, as Ansible's
/// callback shows it (`"msg": "Task failed: Action failed: Unknown error."`).
fn fill_failure_msg(result: &mut Map<String, Value>, chain: Option<&ChainError>) {
    if chain.is_none() && !result.contains_key("msg") {
        let headline = failure_headline(result);
        result.insert("msg".into(), json!(headline));
    }
}

/// The text of the `[ERROR]: Task failed: Module failed: ...` line: the module's exception
/// detail when it gave one (Ansible shows the exception there), else its `msg`.
fn error_detail(result: &Map<String, Value>, msg: &str) -> String {
    result
        .get("_ansible_error_detail")
        .and_then(Value::as_str)
        .map(str::to_string)
        .unwrap_or_else(|| msg.to_string())
}

/// The `ansible_python_interpreter` a task's Python module would run with, templated (the
/// delegate's when the task is delegated), or `None` for actions that run no Python module
/// on the target (controller-side actions, raw, script) and for interpreter discovery
/// (`auto`, `auto_silent`, `auto_legacy`, `auto_legacy_silent`), which always finds the
/// distribution's python3.
/// `ansible_python_module_rlimit_nofile` (PYTHON_MODULE_RLIMIT_NOFILE): a Python module's
/// AnsiballZ wrapper sets its process's soft open-files limit to it (at most the hard
/// limit), which the commands it runs inherit; 0, omit or no value leave the host's.
/// `raw` and `script` run no wrapper and controller-side actions no module. A value that
/// does not template fails the task before the module runs.
fn module_rlimit_nofile(
    runner: &Runner,
    action: &str,
    connects: bool,
    vars: &Arc<dyn VarSource>,
) -> Result<Option<u64>, String> {
    if !connects || matches!(action, "raw" | "script" | "wait_for_connection") {
        return Ok(None);
    }
    let Some(written) = vars.get("ansible_python_module_rlimit_nofile") else {
        return Ok(None);
    };
    let value = runner
        .templar
        .render(&written, vars)
        .map_err(|e| e.message().to_string())?;
    if is_omit(&value) || value.is_null() {
        return Ok(None);
    }
    let n = match &value {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse::<i64>().ok(),
        Value::Bool(b) => Some(*b as i64),
        _ => None,
    };
    match n {
        Some(0) => Ok(None),
        Some(n) if n > 0 => Ok(Some(n as u64)),
        _ => Err(format!(
            "invalid literal for int() with base 10: {}",
            crate::template::pyrepr::json_repr(&value)
        )),
    }
}

pub(super) fn python_interpreter(
    runner: &Runner,
    action: &str,
    connects: bool,
    host: &str,
    delegate: Option<&str>,
    vars: &Arc<dyn VarSource>,
) -> Option<String> {
    // wait_for_connection's ping would time out rather than fail (not simulated).
    if !connects || matches!(action, "raw" | "script" | "wait_for_connection") {
        return None;
    }
    let written = connection_var(runner, host, delegate, vars, "ansible_python_interpreter")?;
    let rendered = runner.templar.render(&written, vars).unwrap_or(written);
    let interpreter = text_of(&rendered);
    if interpreter.is_empty() || interpreter.starts_with("auto") {
        return None;
    }
    // A local connection runs on the controller, whose programs are the real machine's
    // (an inventory names the controller's python by its real path), which the simulation
    // does not look at: only remote hosts' interpreters are checked.
    let connection = connection_var(runner, host, delegate, vars, "ansible_connection");
    if connection.is_some_and(|c| text_of(&c) == "local") {
        return None;
    }
    // The controller's own python (ansible_playbook_python) runs the controller's modules.
    if vars
        .get("ansible_playbook_python")
        .is_some_and(|p| text_of(&p) == interpreter)
    {
        return None;
    }
    Some(interpreter)
}

/// A connection variable of the host a task acts on: the delegate's inventory variable
/// when the task is delegated to another host, else the task's own.
fn connection_var(
    runner: &Runner,
    host: &str,
    delegate: Option<&str>,
    vars: &Arc<dyn VarSource>,
    name: &str,
) -> Option<Value> {
    match delegate.filter(|d| *d != host) {
        Some(d) => {
            let store = runner.store().lock().unwrap_or_else(|e| e.into_inner());
            store.inventory.get(d).and_then(|v| v.get(name)).cloned()
        }
        None => vars.get(name),
    }
}

/// The configured interpreter when the target host does not have it: the simulated
/// distributions ship their python3 (`/usr/bin/python3`, `/usr/bin/python3.X`, on the
/// shell's PATH as `python3` and `python3.X`); any other interpreter must be a file in the
/// host's sandbox (a virtualenv's `bin/python`, say).
pub(super) fn missing_interpreter(
    interpreter: Option<&str>,
    world: &mut fleetsim_sim::world::World,
    target: &str,
) -> Option<String> {
    let interpreter = interpreter?;
    let host = world.host(target).ok()?;
    let distro = host.os().ok()?;
    let xy = fleetsim_sim::os::pip::python_xy(distro);
    let shipped = ["python3".to_string(), format!("python{xy}")];
    let found = match interpreter.strip_prefix("/usr/bin/") {
        Some(name) if shipped.iter().any(|s| s == name) => true,
        _ if interpreter.contains('/') => host.fs.is_file(interpreter),
        _ => {
            shipped.iter().any(|s| s == interpreter)
                || ["/usr/local/bin", "/usr/bin", "/bin"]
                    .iter()
                    .any(|dir| host.fs.is_file(&format!("{dir}/{interpreter}")))
        }
    };
    (!found).then(|| interpreter.to_string())
}

/// What a task gets when its module's interpreter is missing, as 2.19 reports it: the
/// remote shell's `not found` (dash, the simulated hosts' /bin/sh), seen by the action's
/// remote stat for copy, template and fetch, and by the module result's parsing otherwise.
pub(super) fn interpreter_not_found(
    action: &str,
    args: &modules::Args,
    interpreter: &str,
) -> Map<String, Value> {
    let shell_error = format!("/bin/sh: 1: {interpreter}: not found");
    let arg = |name: &str| args.get(name).map(text_of).unwrap_or_default();
    match action {
        "copy" | "template" => {
            let mut r = modules::fail(&format!(
                "Failed to get information on remote file ({}): {shell_error}",
                arg("dest")
            ));
            r.insert("_ansible_raised".into(), json!(modules::RAISED_ERROR));
            r
        }
        "fetch" => {
            let src = arg("src");
            let mut r = modules::fail(&format!(
                "Failed to get information on remote file ({src}): {shell_error}"
            ));
            r.insert("file".into(), json!(src));
            r.insert("_ansible_action_failed".into(), json!(true));
            r
        }
        _ => {
            let mut r = modules::fail(&format!(
                "The module interpreter '{interpreter}' was not found."
            ));
            r.insert("module_stderr".into(), json!(format!("{shell_error}\n")));
            r.insert("module_stdout".into(), json!(""));
            r.insert("rc".into(), json!(127));
            r.insert("_ansible_action_failed".into(), json!(true));
            r
        }
    }
}

/// AnsiballZ's remote debugging (`_ansible_ansiballz_pydevd_config` or
/// `_ansible_ansiballz_debugpy_config`): the controller builds the extension's options (an
/// unknown option is its TypeError), and the module's wrapper imports the debugger module
/// (pydevd's `module`, default `pydevd`; always `debugpy`) before the module runs. The
/// simulated hosts have no debugger installed, so the import fails the module as it would
/// on such a host. The error raised, or `None`; actions that run no Python module (and raw,
/// script) are unaffected.
fn ansiballz_debugger(
    runner: &Runner,
    task: &Task,
    connects: bool,
    vars: &Arc<dyn VarSource>,
) -> Option<String> {
    if !connects || matches!(task.action.as_str(), "raw" | "script") {
        return None;
    }
    let (written, default, fields): (Value, &str, &[&str]) = [
        (
            "_ansible_ansiballz_pydevd_config",
            "pydevd",
            &["module", "settrace", "source_mapping"][..],
        ),
        (
            "_ansible_ansiballz_debugpy_config",
            "debugpy",
            &["host", "port", "connect", "source_mapping"][..],
        ),
    ]
    .into_iter()
    .find_map(|(name, default, fields)| vars.get(name).map(|v| (v, default, fields)))?;
    let config = runner.templar.render(&written, vars).unwrap_or(written);
    // The option is a mapping (JSON text in its environment variable form).
    let config = match config {
        Value::String(text) => serde_json::from_str(&text).unwrap_or(Value::Null),
        other => other,
    };
    let Value::Object(options) = config else {
        return None;
    };
    if let Some(k) = options.keys().find(|k| !fields.contains(&k.as_str())) {
        return Some(format!(
            "Options.__init__() got an unexpected keyword argument '{k}'"
        ));
    }
    let name = match options.get("module") {
        Some(v) => text_of(v),
        None => default.to_string(),
    };
    Some(format!("Module failed: No module named '{name}'"))
}

/// The task's changed_when/failed_when on a result (see [`apply_changed_failed_when`]).
type Conditions<'a> = dyn Fn(&Runner, &mut Map<String, Value>) + 'a;

/// group_by and add_host meet changed_when/failed_when twice, as in ansible-core: the task
/// executor on the action's result (`changed: false`), where a failure stops the change;
/// then, when the strategy has added the host or group, on the result whose `changed` says
/// whether that changed anything.
fn dynamic_inventory_change(
    runner: &mut Runner,
    mut result: Map<String, Value>,
    conditions: &Conditions<'_>,
    change: impl FnOnce(&mut Runner) -> Result<bool, String>,
) -> Map<String, Value> {
    conditions(runner, &mut result);
    if result.get("failed").and_then(Value::as_bool) == Some(true) {
        return result;
    }
    match change(runner) {
        Ok(changed) => {
            runner.refresh_inventory_vars();
            result.insert("changed".into(), json!(changed));
            conditions(runner, &mut result);
            result
        }
        Err(e) => modules::action_fail(&e),
    }
}

/// `group_by`: put the host in a group named by `key` (created under `parents`).
fn group_by(
    runner: &mut Runner,
    host: &str,
    args: &Map<String, Value>,
    conditions: &Conditions<'_>,
) -> Map<String, Value> {
    let Some(key) = args.get("key").map(text_of) else {
        return modules::action_fail("the 'key' param is required when using group_by");
    };
    let key = key.replace(' ', "-");
    let parents: Vec<String> = match args.get("parents") {
        Some(Value::Array(a)) => a.iter().map(text_of).collect(),
        Some(v) => vec![text_of(v)],
        None => vec!["all".into()],
    };
    let mut r = modules::ok(false);
    r.insert("add_group".into(), json!(key));
    r.insert("parent_groups".into(), json!(parents));
    // The strategy's add_dynamic_group sets `changed`: only a new group membership counts.
    dynamic_inventory_change(runner, r, conditions, |runner| {
        let parent_refs: Vec<&str> = parents.iter().map(String::as_str).collect();
        runner.inventory.add_host_to_group(host, &key, &parent_refs)
    })
}

/// `add_host`: a new host (or new groups and vars for a known one) in the in-memory inventory.
fn add_host(
    runner: &mut Runner,
    args: &Map<String, Value>,
    conditions: &Conditions<'_>,
) -> Map<String, Value> {
    // Free-form args (`add_host: "{{ data }}"`) must be a mapping; the args written out win.
    let mut combined = Map::new();
    match args.get("_raw_params") {
        None => {}
        Some(Value::Object(raw)) => combined.extend(raw.clone()),
        Some(other) => {
            // Text written in the playbook reaches the action as a tagged string.
            let class = match other {
                Value::String(_) => "ansible.module_utils._internal._datatag._AnsibleTaggedStr",
                Value::Array(_) => "list",
                Value::Bool(_) => "bool",
                Value::Number(n) if n.is_f64() => "float",
                Value::Number(_) => "int",
                _ => "NoneType",
            };
            // Raised as AnsibleActionFail: the result carries the (absent) traceback.
            let mut r = modules::action_fail(&format!(
                "Invalid raw parameters passed, requires a dictionary/mapping got a  <class '{class}'>"
            ));
            r.insert("exception".into(), json!("(traceback unavailable)"));
            return r;
        }
    }
    combined.extend(
        args.iter()
            .filter(|(k, _)| *k != "_raw_params")
            .map(|(k, v)| (k.clone(), v.clone())),
    );
    let args = &combined;
    // The action's own order: `name`, then `hostname`, then `host`.
    let Some(raw) = args
        .get("name")
        .or_else(|| args.get("hostname"))
        .or_else(|| args.get("host"))
        .map(text_of)
    else {
        return modules::action_fail("name, host or hostname needs to be provided");
    };
    // `host:port` (parse_address without ranges); a name it cannot parse is used as it is.
    let (name, port) = match crate::inventory::address::parse_address(&raw, false) {
        Ok((host, port)) => (host, port),
        Err(_) => (raw.clone(), None),
    };
    let groups: Vec<String> = match args
        .get("groupname")
        .or_else(|| args.get("groups"))
        .or_else(|| args.get("group"))
    {
        Some(Value::Array(a)) => a.iter().map(text_of).collect(),
        Some(Value::String(s)) => s
            .split(',')
            .map(|g| g.trim().to_string())
            .filter(|g| !g.is_empty())
            .collect(),
        Some(v) => vec![text_of(v)],
        None => Vec::new(),
    };
    let mut host_vars = Map::new();
    for (k, v) in args {
        if !matches!(k.as_str(), "name" | "hostname" | "groups" | "groupname") {
            host_vars.insert(k.clone(), v.clone());
        }
    }
    if let Some(p) = port {
        // The action sets the old name; it wins over a port given as an argument.
        host_vars.insert("ansible_ssh_port".into(), json!(p));
    }
    let mut r = modules::ok(false);
    r.insert(
        "add_host".into(),
        json!({"groups": groups, "host_name": name, "host_vars": host_vars}),
    );
    // The strategy's add_dynamic_host sets `changed`: only a new host, new or changed
    // variables or a new group membership count.
    dynamic_inventory_change(runner, r, conditions, |runner| {
        let group_refs: Vec<&str> = groups.iter().map(String::as_str).collect();
        runner.inventory.add_host(&name, &group_refs, &host_vars)
    })
}

/// The `module_defaults` entries that apply to the task's action, merged: an entry keyed by
/// the action's short name, `ansible.builtin.` or `ansible.legacy.` name, later mappings
/// replacing earlier ones. Groups (`group/NAME`): ansible.builtin's only group holding a
/// builtin module is `testgroup` (ping).
fn action_defaults(task: &Task) -> Vec<Value> {
    let mut merged: indexmap::IndexMap<String, Value> = indexmap::IndexMap::new();
    for mapping in &task.module_defaults {
        for (k, v) in mapping {
            let key = k
                .strip_prefix("ansible.builtin.")
                .or_else(|| k.strip_prefix("ansible.legacy."))
                .unwrap_or(k);
            merged.insert(key.to_string(), v.clone());
        }
    }
    let mut out = Vec::new();
    let in_group = |g: &str| {
        let g = g.strip_prefix("ansible.builtin.").unwrap_or(g);
        g == "testgroup" && task.action == "ping"
    };
    for (k, v) in &merged {
        if let Some(g) = k.strip_prefix("group/") {
            if in_group(g) {
                out.push(v.clone());
            }
        }
    }
    if let Some(v) = merged.get(&task.action) {
        out.push(v.clone());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::{
        modules, names_a_variable, normalize_path, registered_result, supports_async,
        wrapper_kill_time,
    };
    use serde_json::json;
    use std::path::{Path, PathBuf};

    #[test]
    fn a_template_naming_a_variable_is_told_from_one_computing_text() {
        for named in ["{{ item }}", "{{ a.b[0] }}", "{{- x['y'] -}}"] {
            assert!(names_a_variable(named), "{named}");
        }
        for computed in ["{{ \"name\" }}", "{{ a ~ 'b' }}", "{{ x | lower }}", "x"] {
            assert!(!names_a_variable(computed), "{computed}");
        }
    }

    #[test]
    fn included_paths_are_normalised_as_python_normpath_does() {
        assert_eq!(
            normalize_path(Path::new("/play/roles/outer/../../t.yml")),
            PathBuf::from("/play/t.yml")
        );
        assert_eq!(
            normalize_path(Path::new("/play/./tasks/x.yml")),
            PathBuf::from("/play/tasks/x.yml")
        );
        assert_eq!(normalize_path(Path::new("../a/b")), PathBuf::from("../a/b"));
    }

    #[test]
    fn async_wrapper_kills_at_its_first_look_past_the_limit() {
        // Up to 5 s it looks twice (at half the limit and at the limit).
        assert_eq!(wrapper_kill_time(2), 2.0);
        assert_eq!(wrapper_kill_time(5), 5.0);
        // Beyond, every 5 s: a 7 s limit is noticed at 10 s.
        assert_eq!(wrapper_kill_time(7), 10.0);
        assert_eq!(wrapper_kill_time(10), 10.0);
        assert_eq!(wrapper_kill_time(3600), 3600.0);
    }

    #[test]
    fn only_failed_results_are_registered_with_an_exception() {
        let mut failed = modules::fail("boom");
        failed.insert("_ansible_no_log".into(), json!(false));
        let r = registered_result(&failed);
        assert_eq!(r["exception"], json!("(traceback unavailable)"));
        assert!(!r.contains_key("_ansible_no_log"));
        assert!(!registered_result(&modules::ok(true)).contains_key("exception"));
    }

    #[test]
    fn async_support_follows_the_action_plugins() {
        assert!(supports_async("command") && supports_async("shell") && supports_async("file"));
        assert!(!supports_async("copy") && !supports_async("debug") && !supports_async("set_fact"));
    }
}
