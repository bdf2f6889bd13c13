//! YAML files read into typed structures (`fleet.yml`, fault plans, fault spaces), with
//! errors that name the file, line and column of the offending value and show the line.

use std::path::Path;

use serde::de::DeserializeOwned;
use serde_path_to_error::Segment;

use super::{load_file, Node};
use crate::diag::{source_context, Origin};

/// Reads `path` as YAML into `T`. An empty file reads as an empty mapping.
pub fn load_typed<T: DeserializeOwned>(path: &Path, what: &str) -> Result<T, String> {
    let node = load_file(path).map_err(|e| {
        if e.io {
            format!("cannot read the {what} {}: {}", path.display(), e.message)
        } else {
            format!("{what} {}: {}\n\n{}", path.display(), e.message, e.context)
        }
    })?;
    let mut value = node.to_value();
    if value.is_null() {
        value = serde_json::Value::Object(Default::default());
    }
    serde_path_to_error::deserialize::<_, T>(value).map_err(|e| {
        let at = locate(&node, e.path().iter());
        let field = e.path().to_string();
        let origin = Origin::new(path, at.span.line, at.span.col);
        let inner = e.into_inner().to_string();
        let place = if field == "." {
            String::new()
        } else {
            format!(" at `{field}`")
        };
        format!(
            "{what} {origin}: {inner}{place}\n\n{}",
            source_context(&origin, None)
        )
    })
}

/// The deepest node along a serde path (as far as the document has it).
fn locate<'a>(node: &'a Node, path: impl Iterator<Item = &'a Segment>) -> &'a Node {
    let mut cur = node;
    for seg in path {
        let next = match seg {
            Segment::Seq { index } => cur.items().and_then(|i| i.get(*index)),
            Segment::Map { key } => cur.get(key),
            Segment::Enum { .. } | Segment::Unknown => None,
        };
        match next {
            Some(n) => cur = n,
            None => break,
        }
    }
    cur
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Doc {
        items: Vec<Item>,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Item {
        port: u16,
    }

    #[test]
    fn errors_point_at_the_value() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("f.yml");
        std::fs::write(&p, "items:\n  - port: 80\n  - port: lots\n").unwrap();
        let err = load_typed::<Doc>(&p, "fleet model").unwrap_err();
        assert!(
            err.contains(
                "f.yml:3:11: invalid type: string \"lots\", expected u16 at `items[1].port`"
            ),
            "{err}"
        );
        assert!(err.contains("3   - port: lots"), "{err}");
        assert!(err.contains("^ column 11"), "{err}");
    }

    #[test]
    fn unknown_fields_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("f.yml");
        std::fs::write(&p, "items: []\nitemz: 1\n").unwrap();
        let err = load_typed::<Doc>(&p, "fleet model").unwrap_err();
        assert!(err.contains("unknown field `itemz`"), "{err}");
    }
}
