//! YAML loading with line and column for every node, scalars resolved as PyYAML resolves them.
//!
//! Ansible reads YAML with PyYAML (YAML 1.1: `yes`/`no`/`on`/`off` are booleans, `0644` is
//! octal), and keeps the origin of every value so its errors can point at `file:line:col`.
//! [`load`] does the same on top of yaml-rust2's event parser: it builds a [`Node`] tree where
//! every node knows its [`Span`], and syntax errors become [`YamlError`]s that render the way
//! ansible-core 2.19 renders them (including its hints about unquoted templates and colons).

mod compose;
pub(crate) use compose::quote_untrusted;
mod error;
mod resolve;
mod typed;

use std::path::Path;

pub use compose::check_alias_copies;
pub use error::YamlError;
pub use resolve::resolve_plain;
use serde_json::Value;
pub use typed::load_typed;

/// A 1-based line and column, as Ansible prints them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Span {
    pub line: usize,
    pub col: usize,
}

/// A resolved scalar.
#[derive(Clone, Debug, PartialEq)]
pub enum Scalar {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
}

/// What a node holds.
#[derive(Clone, Debug, PartialEq)]
pub enum NodeKind {
    Scalar(Scalar),
    Seq(Vec<Node>),
    /// Entries in document order; `<<` merge keys are already expanded (merged entries first,
    /// then the mapping's own, so that later entries win as in PyYAML).
    Map(Vec<(Node, Node)>),
}

/// A YAML node with the position where it starts.
#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    pub kind: NodeKind,
    pub span: Span,
    /// An explicit local tag such as `!unsafe` or `!vault` (standard `!!` tags are applied).
    pub tag: Option<String>,
}

impl Node {
    pub fn null(span: Span) -> Node {
        Node {
            kind: NodeKind::Scalar(Scalar::Null),
            span,
            tag: None,
        }
    }

    /// The value under `key` of a mapping (the last one, if the key repeats).
    pub fn get(&self, key: &str) -> Option<&Node> {
        self.entries()?
            .iter()
            .rev()
            .find(|(k, _)| k.as_str() == Some(key))
            .map(|(_, v)| v)
    }

    /// The key node for `key` in a mapping (the last one, if the key repeats).
    pub fn key_node(&self, key: &str) -> Option<&Node> {
        self.entries()?
            .iter()
            .rev()
            .find(|(k, _)| k.as_str() == Some(key))
            .map(|(k, _)| k)
    }

    pub fn entries(&self) -> Option<&[(Node, Node)]> {
        match &self.kind {
            NodeKind::Map(m) => Some(m),
            _ => None,
        }
    }

    pub fn items(&self) -> Option<&[Node]> {
        match &self.kind {
            NodeKind::Seq(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match &self.kind {
            NodeKind::Scalar(Scalar::Str(s)) => Some(s),
            _ => None,
        }
    }

    pub fn is_null(&self) -> bool {
        matches!(self.kind, NodeKind::Scalar(Scalar::Null))
    }

    /// The mapping's entries with duplicate keys collapsed (last wins, first position kept),
    /// which is what a Python dict built from the mapping holds.
    pub fn dict_entries(&self) -> Vec<(&Node, &Node)> {
        let mut out: Vec<(&Node, &Node)> = Vec::new();
        for (k, v) in self.entries().unwrap_or(&[]) {
            let key = k.key_string();
            if let Some(slot) = out.iter_mut().find(|(ek, _)| ek.key_string() == key) {
                slot.1 = v;
            } else {
                out.push((k, v));
            }
        }
        out
    }

    /// A mapping key as the string Ansible's JSON output and variable names use.
    pub fn key_string(&self) -> String {
        match &self.kind {
            NodeKind::Scalar(s) => scalar_key(s),
            _ => value_to_python_str(&self.to_value()),
        }
    }

    /// A node holding plain data, every part at `span`: for tasks Ansible builds as data
    /// rather than reading them (a role's argument-spec validation task).
    pub fn from_value(v: &Value, span: Span) -> Node {
        let kind = match v {
            Value::Null => NodeKind::Scalar(Scalar::Null),
            Value::Bool(b) => NodeKind::Scalar(Scalar::Bool(*b)),
            Value::Number(n) => match n.as_i64() {
                Some(i) => NodeKind::Scalar(Scalar::Int(i)),
                None => NodeKind::Scalar(Scalar::Float(n.as_f64().unwrap_or_default())),
            },
            Value::String(t) => NodeKind::Scalar(Scalar::Str(t.clone())),
            Value::Array(items) => {
                NodeKind::Seq(items.iter().map(|i| Node::from_value(i, span)).collect())
            }
            Value::Object(m) => NodeKind::Map(
                m.iter()
                    .map(|(k, v)| {
                        (
                            Node::from_value(&Value::String(k.clone()), span),
                            Node::from_value(v, span),
                        )
                    })
                    .collect(),
            ),
        };
        Node {
            kind,
            span,
            tag: None,
        }
    }

    /// The plain data of this node, as `json.loads(json.dumps(yaml.safe_load(...)))` would
    /// give it: mapping keys become strings, order is kept.
    pub fn to_value(&self) -> Value {
        match &self.kind {
            NodeKind::Scalar(s) => scalar_value(s),
            NodeKind::Seq(items) => Value::Array(items.iter().map(Node::to_value).collect()),
            NodeKind::Map(entries) => {
                let mut map = serde_json::Map::new();
                for (k, v) in entries {
                    let key = k.key_string();
                    // Python dicts keep the first insertion position of a repeated key while
                    // taking its last value; serde_json's IndexMap insert does the same.
                    map.insert(key, v.to_value());
                }
                Value::Object(map)
            }
        }
    }
}

fn scalar_value(s: &Scalar) -> Value {
    match s {
        Scalar::Null => Value::Null,
        Scalar::Bool(b) => Value::Bool(*b),
        Scalar::Int(i) => Value::from(*i),
        Scalar::Float(f) => serde_json::Number::from_f64(*f)
            .map(Value::Number)
            // JSON has no NaN or infinity; Ansible's JSON output would fail on them as well,
            // so keep their YAML spelling rather than losing the value.
            .unwrap_or_else(|| Value::String(crate::template::pyrepr::float_repr(*f))),
        Scalar::Str(t) => Value::String(t.clone()),
    }
}

fn scalar_key(s: &Scalar) -> String {
    match s {
        Scalar::Null => "None".into(),
        Scalar::Bool(true) => "True".into(),
        Scalar::Bool(false) => "False".into(),
        Scalar::Int(i) => i.to_string(),
        Scalar::Float(f) => crate::template::pyrepr::float_repr(*f),
        Scalar::Str(t) => t.clone(),
    }
}

fn value_to_python_str(v: &Value) -> String {
    serde_json::to_string(v).unwrap_or_default()
}

/// Loads one YAML document from `text` (read from `path`, which errors name).
///
/// An empty document is a null node at 1:1. More than one document is an error, as with
/// PyYAML's `load`.
pub fn load(text: &str, path: &Path) -> Result<Node, YamlError> {
    // A whole file encrypted with Ansible Vault is read as its plaintext (DataLoader
    // decrypts any file it loads).
    if crate::vault::is_encrypted(text.as_bytes()) {
        let plain = crate::vault::decrypt_run(text.as_bytes()).map_err(|e| {
            YamlError::refused(
                path,
                text,
                Span { line: 1, col: 1 },
                &format!("Error decrypting {}: {e}", path.display()),
            )
        })?;
        let plain = String::from_utf8_lossy(&plain).into_owned();
        return compose::compose_single(&plain, path);
    }
    compose::compose_single(text, path)
}

/// Loads a file and parses it; an unreadable file is reported with its path.
pub fn load_file(path: &Path) -> Result<Node, YamlError> {
    let text = std::fs::read_to_string(path).map_err(|e| YamlError::io(path, &e))?;
    load(&text, path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::strategy::Strategy;
    use serde_json::json;

    fn v(text: &str) -> Value {
        load(text, Path::new("t.yml")).unwrap().to_value()
    }

    #[test]
    fn loads_plays_with_spans() {
        let text = "- name: p\n  hosts: all\n  tasks:\n    - debug:\n        msg: hi\n";
        let doc = load(text, Path::new("t.yml")).unwrap();
        let play = &doc.items().unwrap()[0];
        assert_eq!(play.span, Span { line: 1, col: 3 });
        let task = &play.get("tasks").unwrap().items().unwrap()[0];
        assert_eq!(task.span, Span { line: 4, col: 7 });
        let msg = task.get("debug").unwrap().get("msg").unwrap();
        assert_eq!(msg.span, Span { line: 5, col: 14 });
        assert_eq!(msg.as_str(), Some("hi"));
    }

    #[test]
    fn quoted_scalars_stay_strings() {
        assert_eq!(
            v("a: '0644'\nb: 0644\nc: \"yes\"\nd: yes\ne: |\n  x\n"),
            json!({"a": "0644", "b": 420, "c": "yes", "d": true, "e": "x\n"})
        );
    }

    /// Nine nested aliases of nine items: 387 million nodes if copied.
    fn billion_laughs() -> String {
        let mut text = String::from("a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
        for (prev, name) in "abcdefgh".chars().zip("bcdefghi".chars()) {
            let items = vec![format!("*{prev}"); 9].join(", ");
            text.push_str(&format!("{name}: &{name} [{items}]\n"));
        }
        text
    }

    #[test]
    fn aliases_that_copy_past_the_bound_are_refused() {
        let text = billion_laughs();
        let err = load(&text, Path::new("laughs.yml")).unwrap_err();
        assert!(
            err.headline().contains(
                "The aliases of this file copy more than 1000000 nodes (fleetsim's limit"
            ),
            "{}",
            err.headline()
        );
        // Refused at the alias that crossed the bound: line 7, the `f` list (9^5 nodes each).
        assert_eq!(err.origin.line, 7, "{err:?}");
        assert!(check_alias_copies(&text).is_err());
        // A few aliases are nothing.
        let small = "a: &a [1, 2]\nb: [*a, *a]\nc: {<<: {x: 1}}\n";
        assert!(load(small, Path::new("small.yml")).is_ok());
        assert!(check_alias_copies(small).is_ok());
        assert!(check_alias_copies("- *undefined\n").is_ok());
    }

    #[test]
    fn anchors_aliases_and_merge_keys() {
        let got = v("base: &b {x: 1, y: 2}\nother:\n  <<: *b\n  y: 3\nlist: [*b]\n");
        assert_eq!(
            got,
            json!({"base": {"x": 1, "y": 2}, "other": {"x": 1, "y": 3}, "list": [{"x": 1, "y": 2}]})
        );
    }

    #[test]
    fn empty_document_is_null() {
        assert_eq!(v(""), Value::Null);
        assert_eq!(v("# only a comment\n"), Value::Null);
    }

    #[test]
    fn standard_tags_apply() {
        assert_eq!(
            v("a: !!str 5\nb: !!int '7'\nc: !unsafe 'plain'\n"),
            json!({"a": "5", "b": 7, "c": "{% raw %}plain{% endraw %}"})
        );
    }

    #[test]
    fn unsafe_values_resolve_as_plain_and_their_templates_are_quoted() {
        assert_eq!(
            v("n: !unsafe '7'\nb: !unsafe yes\ns: !unsafe 'a {{ x }}'\n"),
            json!({"n": 7, "b": true, "s": "{% raw %}a {{ x }}{% endraw %}"})
        );
        // Everything under an unsafe sequence or mapping, and nothing after it.
        assert_eq!(
            v("l: !unsafe ['{{ x }}', {k: '{# c #}'}, 3]\nd: !unsafe {a: '{{ y }}'}\ne: '{{ z }}'\n"),
            json!({
                "l": ["{% raw %}{{ x }}{% endraw %}", {"k": "{% raw %}{# c #}{% endraw %}"}, 3],
                "d": {"a": "{% raw %}{{ y }}{% endraw %}"},
                "e": "{{ z }}",
            })
        );
        // Text without markers is quoted too (it stays untrusted where an expression is
        // expected); a key only when it holds markers (it names a variable).
        assert_eq!(
            v("p: !unsafe 1 == 0\nd: !unsafe {k: v, '{{ a }}': w}\n"),
            json!({
                "p": "{% raw %}1 == 0{% endraw %}",
                "d": {"k": "{% raw %}v{% endraw %}", "{% raw %}{{ a }}{% endraw %}": "{% raw %}w{% endraw %}"},
            })
        );
        // A `{%` inside could end the raw block early: it is put back by an expression.
        assert_eq!(
            v("s: !unsafe 'a {% endraw %} b'\n"),
            json!({"s": "{% raw %}a {% endraw %}{{ '{%' }}{% raw %} endraw %} b{% endraw %}"})
        );
    }

    #[test]
    fn vault_values_are_refused() {
        let e = load(
            "pw: !vault |\n  $ANSIBLE_VAULT;1.1;AES256\n  6162\n",
            Path::new("v.yml"),
        )
        .unwrap_err();
        // No vault secret in a unit test's process: the value cannot be decrypted.
        assert!(
            e.headline()
                .contains("Error decrypting the '!vault' value: Attempting to decrypt but no vault secrets found"),
            "{e}"
        );
    }

    #[test]
    fn duplicate_keys_last_wins_first_position() {
        assert_eq!(v("a: 1\nb: 2\na: 3\n"), json!({"a": 3, "b": 2}));
    }

    proptest::proptest! {
        #![proptest_config(proptest::test_runner::Config::with_cases(512))]

        /// Whatever the bytes, loading gives a tree or an error with a position; never a panic.
        #[test]
        fn loading_never_panics(text in "(?s).{0,200}") {
            let _ = load(&text, Path::new("p.yml"));
        }

        #[test]
        fn loading_yamlish_text_never_panics(
            text in proptest::collection::vec(
                proptest::prop_oneof![
                    proptest::strategy::Just("- ".to_string()),
                    proptest::strategy::Just(": ".to_string()),
                    proptest::strategy::Just("\n".to_string()),
                    proptest::strategy::Just("  ".to_string()),
                    proptest::strategy::Just("&a ".to_string()),
                    proptest::strategy::Just("*a".to_string()),
                    proptest::strategy::Just("<<: ".to_string()),
                    proptest::strategy::Just("{".to_string()),
                    proptest::strategy::Just("}".to_string()),
                    proptest::strategy::Just("[".to_string()),
                    proptest::strategy::Just("'".to_string()),
                    proptest::strategy::Just("\t".to_string()),
                    "[a-z0-9]{1,4}",
                ],
                0..40,
            ).prop_map(|parts| parts.concat())
        ) {
            let _ = load(&text, Path::new("p.yml"));
        }
    }
}
