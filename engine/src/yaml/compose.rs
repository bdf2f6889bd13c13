//! Builds the [`Node`] tree from yaml-rust2's marked events: anchors, aliases, tags and
//! merge keys, with PyYAML's composer errors (single document, unhashable keys).

use std::collections::BTreeMap;
use std::path::Path;

use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser, Tag};
use yaml_rust2::scanner::{Marker, TScalarStyle};

use super::error::YamlError;
use super::resolve::{resolve_float, resolve_int, resolve_plain};
use super::{Node, NodeKind, Scalar, Span};

/// Collects every event with its position; the tree is built afterwards from the flat list,
/// which keeps the recursive construction simple and bounded by the input.
#[derive(Default)]
struct Recorder {
    events: Vec<(Event, Marker)>,
}

impl MarkedEventReceiver for Recorder {
    fn on_event(&mut self, ev: Event, mark: Marker) {
        self.events.push((ev, mark));
    }
}

fn span(mark: &Marker) -> Span {
    Span {
        line: mark.line(),
        col: mark.col() + 1,
    }
}

pub(super) fn compose_single(text: &str, path: &Path) -> Result<Node, YamlError> {
    let mut recorder = Recorder::default();
    let mut parser = Parser::new_from_str(text);
    if let Err(e) = parser.load(&mut recorder, true) {
        let m = e.marker();
        return Err(YamlError::syntax(
            path,
            text,
            span(m),
            &scan_message(e.info()),
        ));
    }
    let mut builder = Builder {
        events: &recorder.events,
        pos: 0,
        anchors: BTreeMap::new(),
        copied: 0,
        path,
        text,
        unsafe_depth: 0,
        building_key: false,
    };
    let mut docs: Vec<Node> = Vec::new();
    while builder.pos < builder.events.len() {
        let (ev, mark) = &builder.events[builder.pos];
        match ev {
            Event::DocumentStart => {
                if !docs.is_empty() {
                    return Err(YamlError::syntax(
                        path,
                        text,
                        span(mark),
                        "expected a single document in the stream but found another document",
                    ));
                }
                builder.pos += 1;
                let node = builder.node()?;
                docs.push(node);
            }
            _ => builder.pos += 1,
        }
    }
    Ok(docs
        .pop()
        .unwrap_or_else(|| Node::null(Span { line: 1, col: 1 })))
}

/// Whether the aliases of `text` (any number of documents) stay within [`MAX_ALIAS_COPIES`],
/// measured on the parser's events without building anything: for loaders that copy aliased
/// nodes (yaml-rust2's `YamlLoader`, behind `from_yaml`). Syntax errors are the loader's to
/// report; they pass here.
pub fn check_alias_copies(text: &str) -> Result<(), String> {
    let mut recorder = Recorder::default();
    if Parser::new_from_str(text)
        .load(&mut recorder, true)
        .is_err()
    {
        return Ok(());
    }
    let mut sizes: BTreeMap<usize, usize> = BTreeMap::new();
    // Open collections: their anchor and the nodes counted in them so far.
    let mut open: Vec<(usize, usize)> = Vec::new();
    let mut copied = 0usize;
    for (ev, _) in &recorder.events {
        let done = match ev {
            Event::Scalar(_, _, anchor, _) => Some((*anchor, 1)),
            Event::Alias(id) => {
                let size = sizes.get(id).copied().unwrap_or(1);
                copied = copied.saturating_add(size);
                if copied > MAX_ALIAS_COPIES {
                    return Err(format!(
                        "the aliases of this YAML copy more than {MAX_ALIAS_COPIES} nodes (fleetsim's limit: it copies an aliased node where PyYAML shares it)"
                    ));
                }
                Some((0, size))
            }
            Event::SequenceStart(anchor, _) | Event::MappingStart(anchor, _) => {
                open.push((*anchor, 1));
                None
            }
            Event::SequenceEnd | Event::MappingEnd => open.pop(),
            _ => None,
        };
        if let Some((anchor, size)) = done {
            if anchor > 0 {
                sizes.insert(anchor, size);
            }
            if let Some(parent) = open.last_mut() {
                parent.1 = parent.1.saturating_add(size);
            }
        }
    }
    Ok(())
}

/// yaml-rust2 writes "context, problem"; libyaml (which Ansible uses) keeps them apart and
/// Ansible joins them with a space.
fn scan_message(info: &str) -> String {
    info.replacen(", ", " ", 1)
}

struct Builder<'a> {
    events: &'a [(Event, Marker)],
    pos: usize,
    /// Each anchored node, with how many nodes it holds.
    anchors: BTreeMap<usize, (Node, usize)>,
    /// Nodes copied for aliases so far (see [`MAX_ALIAS_COPIES`]).
    copied: usize,
    path: &'a Path,
    text: &'a str,
    /// How many `!unsafe` sequences or mappings enclose the node being built: strings
    /// inside one are data, never templates (ansible-core's `_unsafe_depth`).
    unsafe_depth: usize,
    /// Whether the node being built is a mapping's key: an unsafe key stays as written when
    /// it holds no template markers (a key names a variable or an option, never an
    /// expression to refuse).
    building_key: bool,
}

/// The most nodes aliases may copy in one file. PyYAML shares an aliased node, so nine
/// nested aliases of nine items each ("a billion laughs") cost Ansible nothing until a
/// template walks them; fleetsim's tree copies each alias, and would take every byte of the
/// machine's memory before the process aborted.
const MAX_ALIAS_COPIES: usize = 1_000_000;

/// How many nodes `node` holds, itself included.
fn node_count(node: &Node) -> usize {
    match &node.kind {
        NodeKind::Scalar(_) => 1,
        NodeKind::Seq(items) => 1 + items.iter().map(node_count).sum::<usize>(),
        NodeKind::Map(entries) => {
            1 + entries
                .iter()
                .map(|(k, v)| node_count(k) + node_count(v))
                .sum::<usize>()
        }
    }
}

impl Builder<'_> {
    fn err(&self, mark: &Marker, msg: &str) -> YamlError {
        YamlError::syntax(self.path, self.text, span(mark), msg)
    }

    fn node(&mut self) -> Result<Node, YamlError> {
        let Some((ev, mark)) = self.events.get(self.pos) else {
            let last = self.events.last().map(|(_, m)| *m);
            return Ok(Node::null(last.as_ref().map(span).unwrap_or_default()));
        };
        let mark = *mark;
        self.pos += 1;
        match ev {
            Event::Scalar(value, style, anchor, tag) => {
                let node = Node {
                    kind: NodeKind::Scalar(self.scalar(value, *style, tag.as_ref(), &mark)?),
                    span: span(&mark),
                    tag: local_tag(tag.as_ref()),
                };
                self.remember(*anchor, &node);
                Ok(node)
            }
            Event::Alias(id) => {
                let Some((anchored, size)) = self.anchors.get(id) else {
                    return Err(self.err(&mark, "found undefined alias"));
                };
                self.copied += size;
                if self.copied > MAX_ALIAS_COPIES {
                    return Err(self.err(
                        &mark,
                        &format!(
                            "the aliases of this file copy more than {MAX_ALIAS_COPIES} nodes (fleetsim's limit: it copies an aliased node where PyYAML shares it)"
                        ),
                    ));
                }
                Ok(Node {
                    span: span(&mark),
                    ..anchored.clone()
                })
            }
            Event::SequenceStart(anchor, tag) => {
                let unsafe_tag = is_unsafe(tag.as_ref());
                self.unsafe_depth += usize::from(unsafe_tag);
                let mut items = Vec::new();
                loop {
                    match self.events.get(self.pos) {
                        Some((Event::SequenceEnd, _)) | None => {
                            self.pos += 1;
                            break;
                        }
                        _ => items.push(self.node()?),
                    }
                }
                self.unsafe_depth -= usize::from(unsafe_tag);
                let node = Node {
                    kind: NodeKind::Seq(items),
                    span: span(&mark),
                    tag: local_tag(tag.as_ref()),
                };
                self.remember(*anchor, &node);
                Ok(node)
            }
            Event::MappingStart(anchor, tag) => {
                let unsafe_tag = is_unsafe(tag.as_ref());
                self.unsafe_depth += usize::from(unsafe_tag);
                let mut merged: Vec<(Node, Node)> = Vec::new();
                let mut own: Vec<(Node, Node)> = Vec::new();
                loop {
                    match self.events.get(self.pos) {
                        Some((Event::MappingEnd, _)) | None => {
                            self.pos += 1;
                            break;
                        }
                        _ => {
                            self.building_key = true;
                            let key = self.node();
                            self.building_key = false;
                            let key = key?;
                            let value = self.node()?;
                            if !matches!(key.kind, NodeKind::Scalar(_)) {
                                return Err(YamlError::syntax(
                                    self.path,
                                    self.text,
                                    key.span,
                                    "while constructing a mapping found unhashable key",
                                ));
                            }
                            if key.as_str() == Some("<<") && key.tag.is_none() {
                                self.merge_into(&mut merged, value)?;
                            } else {
                                own.push((key, value));
                            }
                        }
                    }
                }
                self.unsafe_depth -= usize::from(unsafe_tag);
                // yaml-rust2 marks a block mapping where it found the first `:`; Ansible's
                // origin is where the mapping starts, i.e. its first key.
                let start = own
                    .first()
                    .map(|(k, _)| k.span)
                    .filter(|s| *s < span(&mark))
                    .unwrap_or(span(&mark));
                merged.extend(own);
                let node = Node {
                    kind: NodeKind::Map(merged),
                    span: start,
                    tag: local_tag(tag.as_ref()),
                };
                self.remember(*anchor, &node);
                Ok(node)
            }
            // Structural events never start a node; treat a stray one as an empty value.
            _ => Ok(Node::null(span(&mark))),
        }
    }

    /// PyYAML's `flatten_mapping`: `<<: *a` or `<<: [*a, *b]` (earlier maps win over later).
    fn merge_into(&self, merged: &mut Vec<(Node, Node)>, value: Node) -> Result<(), YamlError> {
        match value.kind {
            NodeKind::Map(entries) => {
                merged.extend(entries);
                Ok(())
            }
            NodeKind::Seq(items) => {
                // Later sources must not override earlier ones, so add them in reverse.
                for item in items.into_iter().rev() {
                    match item.kind {
                        NodeKind::Map(entries) => merged.extend(entries),
                        _ => {
                            return Err(YamlError::syntax(
                                self.path,
                                self.text,
                                item.span,
                                "while constructing a mapping expected a mapping for merging",
                            ))
                        }
                    }
                }
                Ok(())
            }
            _ => Err(YamlError::syntax(
                self.path,
                self.text,
                value.span,
                "while constructing a mapping expected a mapping or list of mappings for merging",
            )),
        }
    }

    fn remember(&mut self, anchor: usize, node: &Node) {
        if anchor > 0 {
            self.anchors
                .insert(anchor, (node.clone(), node_count(node)));
        }
    }

    fn scalar(
        &self,
        value: &str,
        style: TScalarStyle,
        tag: Option<&Tag>,
        mark: &Marker,
    ) -> Result<Scalar, YamlError> {
        if let Some(t) = tag {
            if t.handle == "tag:yaml.org,2002:" {
                return self.tagged_scalar(value, &t.suffix, mark);
            }
            // `!unsafe` resolves its text as a plain scalar would (`!unsafe '7'` is the int
            // 7, as ansible-core's construct_yaml_unsafe re-resolves the tag), and its strings
            // are never templated. Other local tags keep
            // the text.
            if t.handle == "!" && t.suffix == "unsafe" {
                return Ok(match resolve_plain(value) {
                    Scalar::Str(text) => Scalar::Str(self.quote_unsafe(&text)),
                    other => other,
                });
            }
            // A `!vault` value is its plaintext, decrypted with the run's vault secrets.
            // ansible-core decrypts it when it is first used; fleetsim when it loads it, so
            // a value no secret decrypts stops the run here, with Ansible's reason.
            if t.suffix == "vault" {
                return match crate::vault::decrypt_run(value.as_bytes()) {
                    Ok(plain) => Ok(Scalar::Str(String::from_utf8_lossy(&plain).into_owned())),
                    Err(e) => Err(YamlError::refused(
                        self.path,
                        self.text,
                        span(mark),
                        &format!("Error decrypting the '!vault' value: {e}"),
                    )),
                };
            }
            return Ok(Scalar::Str(value.to_string()));
        }
        let scalar = match style {
            TScalarStyle::Plain => resolve_plain(value),
            _ => Scalar::Str(value.to_string()),
        };
        Ok(match scalar {
            Scalar::Str(text) if self.unsafe_depth > 0 => Scalar::Str(self.quote_unsafe(&text)),
            other => other,
        })
    }

    /// Unsafe text as fleetsim carries it: a value always quoted (so that it stays
    /// recognisably untrusted where an expression is expected, see
    /// [`crate::template::is_untrusted_text`]), a key only when it holds template markers.
    fn quote_unsafe(&self, text: &str) -> String {
        if self.building_key {
            quote_template(text)
        } else {
            quote_untrusted(text)
        }
    }

    fn tagged_scalar(&self, value: &str, suffix: &str, mark: &Marker) -> Result<Scalar, YamlError> {
        let bad = |what: &str| {
            self.err(
                mark,
                &format!("while constructing a {what} found an invalid value {value:?}"),
            )
        };
        Ok(match suffix {
            "str" => Scalar::Str(value.to_string()),
            "int" => resolve_int(value).ok_or_else(|| bad("int"))?,
            "float" => match resolve_int(value) {
                Some(Scalar::Int(i)) => Scalar::Float(i as f64),
                _ => Scalar::Float(resolve_float(value).ok_or_else(|| bad("float"))?),
            },
            "bool" => match resolve_plain(value) {
                b @ Scalar::Bool(_) => b,
                _ => return Err(bad("bool")),
            },
            "null" => Scalar::Null,
            _ => resolve_plain(value),
        })
    }
}

fn is_unsafe(tag: Option<&Tag>) -> bool {
    tag.is_some_and(|t| t.handle == "!" && t.suffix == "unsafe")
}

/// Unsafe text as a template that renders to exactly that text. fleetsim carries values as
/// plain JSON, where a string is a template whenever it holds `{{`, `{%` or `{#`; wrapping
/// unsafe text in `{% raw %}` keeps it data through every place that templates it (vars,
/// task args, set_fact), and what a render gives back is never templated again, so the
/// text stays untemplated through registered results and filters as in ansible-core 2.19.
/// Text without template markers is the same either way and stays as written.
pub(crate) fn quote_template(text: &str) -> String {
    if !crate::template::is_template(text) {
        return text.to_string();
    }
    // `{%` inside the raw block could close it (`{% endraw %}`): each one is put back by an
    // expression between two raw blocks.
    let body = text.replace("{%", "{% endraw %}{{ '{%' }}{% raw %}");
    format!("{{% raw %}}{body}{{% endraw %}}")
}

/// Unsafe text as a template that renders to exactly that text, whether or not it holds
/// template markers: ansible-core refuses untrusted text where an expression is expected
/// (`when: !unsafe 1 == 0`, `debug: var=...`, an `assert` condition from a variable), and
/// the quoting is how fleetsim still knows the text is untrusted there.
pub(crate) fn quote_untrusted(text: &str) -> String {
    let body = text.replace("{%", "{% endraw %}{{ '{%' }}{% raw %}");
    format!("{{% raw %}}{body}{{% endraw %}}")
}

fn local_tag(tag: Option<&Tag>) -> Option<String> {
    tag.filter(|t| t.handle != "tag:yaml.org,2002:")
        .map(|t| format!("{}{}", t.handle, t.suffix))
}
