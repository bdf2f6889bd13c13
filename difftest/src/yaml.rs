//! A small YAML emitter for generated playbooks: block mappings and sequences, flow lists
//! of scalars, and scalars quoted (as JSON strings, which YAML reads alike) whenever a
//! plain scalar could be read as something else.

/// A YAML value as the generator builds it. Mappings keep their key order.
#[derive(Debug, Clone, PartialEq)]
pub enum Y {
    Str(String),
    Int(i64),
    Bool(bool),
    List(Vec<Y>),
    Map(Vec<(String, Y)>),
}

impl Y {
    pub fn s(text: impl Into<String>) -> Y {
        Y::Str(text.into())
    }

    fn is_scalar(&self) -> bool {
        matches!(self, Y::Str(_) | Y::Int(_) | Y::Bool(_))
    }
}

/// Words PyYAML (YAML 1.1) resolves to booleans or null when unquoted.
const RESERVED: &[&str] = &[
    "y", "n", "yes", "no", "on", "off", "true", "false", "null", "none", "~",
];

fn scalar(y: &Y) -> String {
    match y {
        Y::Int(i) => i.to_string(),
        Y::Bool(b) => b.to_string(),
        Y::Str(s) => {
            let plain = !s.is_empty()
                && s.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
                && s.chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, ' ' | '_' | '-' | '.'))
                && !s.ends_with(' ')
                && !RESERVED.contains(&s.to_ascii_lowercase().as_str());
            if plain {
                s.clone()
            } else {
                serde_json::Value::String(s.clone()).to_string()
            }
        }
        Y::List(items) => {
            let inner: Vec<String> = items.iter().map(scalar).collect();
            format!("[{}]", inner.join(", "))
        }
        Y::Map(entries) => {
            let inner: Vec<String> = entries
                .iter()
                .map(|(k, v)| format!("{}: {}", scalar(&Y::s(k.clone())), scalar(v)))
                .collect();
            format!("{{{}}}", inner.join(", "))
        }
    }
}

/// Flow style is used for lists of scalars (and empty collections); mappings are written in
/// block style, as people write playbooks.
fn flow_ok(y: &Y) -> bool {
    match y {
        Y::List(items) => items.iter().all(|i| i.is_scalar() || flow_ok(i)),
        Y::Map(entries) => entries.is_empty(),
        _ => true,
    }
}

/// The document for a top-level value (a playbook is a list of plays).
pub fn emit(y: &Y) -> String {
    let mut out = String::new();
    block(y, 0, &mut out);
    out
}

fn block(y: &Y, indent: usize, out: &mut String) {
    let pad = " ".repeat(indent);
    match y {
        Y::List(items) if !items.is_empty() => {
            for item in items {
                match item {
                    Y::Map(entries) if !entries.is_empty() => {
                        let mut first = true;
                        for (k, v) in entries {
                            let lead = if first {
                                format!("{pad}- ")
                            } else {
                                format!("{pad}  ")
                            };
                            first = false;
                            entry(&lead, k, v, indent + 2, out);
                        }
                    }
                    other if flow_ok(other) => {
                        out.push_str(&format!("{pad}- {}\n", scalar(other)));
                    }
                    other => {
                        out.push_str(&format!("{pad}-\n"));
                        block(other, indent + 2, out);
                    }
                }
            }
        }
        Y::Map(entries) if !entries.is_empty() => {
            for (k, v) in entries {
                entry(&pad, k, v, indent, out);
            }
        }
        other => out.push_str(&format!("{pad}{}\n", scalar(other))),
    }
}

fn entry(lead: &str, key: &str, value: &Y, indent: usize, out: &mut String) {
    let key = scalar(&Y::s(key));
    let nested = match value {
        Y::List(items) => !items.is_empty() && !flow_ok(value),
        Y::Map(entries) => !entries.is_empty() && !flow_ok(value),
        _ => false,
    };
    if nested {
        out.push_str(&format!("{lead}{key}:\n"));
        block(value, indent + 2, out);
    } else {
        out.push_str(&format!("{lead}{key}: {}\n", scalar(value)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reserved_words_and_templates_are_quoted() {
        assert_eq!(scalar(&Y::s("yes")), "\"yes\"");
        assert_eq!(scalar(&Y::s("{{ n }}")), "\"{{ n }}\"");
        assert_eq!(scalar(&Y::s("t1 debug")), "t1 debug");
        assert_eq!(scalar(&Y::s("0644")), "\"0644\"");
    }

    #[test]
    fn a_play_is_block_style() {
        let play = Y::List(vec![Y::Map(vec![
            ("hosts".into(), Y::s("all")),
            (
                "tasks".into(),
                Y::List(vec![Y::Map(vec![
                    ("name".into(), Y::s("t1")),
                    (
                        "debug".into(),
                        Y::Map(vec![("msg".into(), Y::s("{{ n }}"))]),
                    ),
                ])]),
            ),
        ])]);
        assert_eq!(
            emit(&play),
            "- hosts: all\n  tasks:\n    - name: t1\n      debug:\n        msg: \"{{ n }}\"\n"
        );
    }
}
