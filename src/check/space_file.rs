//! Reading `space.yml`: the engine's YAML loader (PyYAML's scalars, a span on every node),
//! serde into [`FaultSpace`] with the path of any rejected field, and the space's own checks;
//! every error is mapped back to the file, line and column of the offending node.

use std::fmt;
use std::path::{Path, PathBuf};

use fleetsim_engine::diag::{source_context, Origin};
use fleetsim_engine::yaml::{self, Node, Span};
use fleetsim_sim::fleet::space::{FaultSpace, PathSeg, SpaceError};

/// A space file that cannot be used, with where.
#[derive(Debug, Clone)]
pub struct SpaceFileError {
    pub origin: Origin,
    pub message: String,
    /// `Origin: file:line:col` with the offending line and a caret.
    pub context: String,
}

impl fmt::Display for SpaceFileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The location first, so editors and terminals can jump to it; then Ansible's
        // `Origin:` block with the line and a caret.
        write!(
            f,
            "{}: invalid fault space: {}\n{}",
            self.origin, self.message, self.context
        )
    }
}

impl std::error::Error for SpaceFileError {}

/// A loaded space with the tree it came from (kept to place later errors, such as a host
/// pattern that matches nothing in the inventory).
pub struct SpaceFile {
    pub path: PathBuf,
    pub space: FaultSpace,
    node: Node,
}

impl SpaceFile {
    /// An error about the node at `path` (or its key, with `on_key`).
    pub fn error_at(&self, path: &[PathSeg], on_key: bool, message: String) -> SpaceFileError {
        let span = locate(&self.node, path, on_key);
        at(&self.path, span, message)
    }
}

/// Loads and checks a space file.
pub fn load(path: &Path) -> Result<SpaceFile, SpaceFileError> {
    let node = yaml::load_file(path).map_err(|e| SpaceFileError {
        message: e.headline(),
        context: e.context.to_string(),
        origin: e.origin,
    })?;
    let value = node.to_value();
    let space: FaultSpace = match serde_path_to_error::deserialize(value) {
        Ok(s) => s,
        Err(e) => {
            let mut segs = path_segments(e.path());
            let message = e.inner().to_string();
            // serde reports an unknown field or kind at the mapping that holds it, naming
            // the key in the message: point at that key.
            let mut on_key = false;
            if let Some(key) = unknown_key(&message) {
                if segs.last() == Some(&PathSeg::Key(key.to_string())) {
                    // A struct's unknown field is already on the path.
                    on_key = true;
                } else if node_at(&node, &segs).is_some_and(|m| m.key_node(key).is_some()) {
                    segs.push(PathSeg::Key(key.to_string()));
                    on_key = true;
                }
            }
            let span = locate(&node, &segs, on_key);
            return Err(at(path, span, message));
        }
    };
    let file = SpaceFile {
        path: path.to_path_buf(),
        space,
        node,
    };
    if let Err(SpaceError {
        path: p,
        on_key,
        message,
    }) = file.space.validate()
    {
        return Err(file.error_at(&p, on_key, message));
    }
    Ok(file)
}

fn at(path: &Path, span: Span, message: String) -> SpaceFileError {
    let origin = Origin::new(path, span.line, span.col);
    let context = source_context(&origin, None);
    SpaceFileError {
        origin,
        message,
        context,
    }
}

fn path_segments(p: &serde_path_to_error::Path) -> Vec<PathSeg> {
    use serde_path_to_error::Segment;
    p.iter()
        .filter_map(|s| match s {
            Segment::Seq { index } => Some(PathSeg::Index(*index)),
            Segment::Map { key } => Some(PathSeg::Key(key.clone())),
            Segment::Enum { variant } => Some(PathSeg::Key(variant.clone())),
            Segment::Unknown => None,
        })
        .collect()
}

/// The X of serde's "unknown field `X`" and "unknown variant `X`".
fn unknown_key(message: &str) -> Option<&str> {
    let rest = message
        .strip_prefix("unknown field `")
        .or_else(|| message.strip_prefix("unknown variant `"))?;
    rest.split_once('`').map(|(k, _)| k)
}

/// The node at `path`, if every step exists.
fn node_at<'a>(root: &'a Node, path: &[PathSeg]) -> Option<&'a Node> {
    let mut node = root;
    for seg in path {
        node = match seg {
            PathSeg::Key(k) => node.get(k)?,
            PathSeg::Index(n) => node.items()?.get(*n)?,
        };
    }
    Some(node)
}

/// The span of the node at `path`, or of the deepest node that exists on the way (a missing
/// field is reported at the mapping that lacks it).
fn locate(root: &Node, path: &[PathSeg], on_key: bool) -> Span {
    let mut node = root;
    for (i, seg) in path.iter().enumerate() {
        let last = i + 1 == path.len();
        let next = match seg {
            PathSeg::Key(k) if last && on_key => node.key_node(k),
            PathSeg::Key(k) => node.get(k),
            PathSeg::Index(n) => node.items().and_then(|items| items.get(*n)),
        };
        match next {
            Some(n) => node = n,
            None => break,
        }
    }
    node.span
}

#[cfg(test)]
mod tests {
    use super::*;
    use fleetsim_sim::fleet::faults::FaultKind;
    use fleetsim_sim::fleet::space::Targets;

    fn load_text(text: &str) -> Result<SpaceFile, SpaceFileError> {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("space.yml");
        std::fs::write(&p, text).unwrap();
        let r = load(&p);
        // Keep the messages free of the temp folder for the assertions.
        r.map_err(|mut e| {
            e.origin.path = PathBuf::from("space.yml");
            e
        })
    }

    fn where_(text: &str) -> (usize, usize, String) {
        match load_text(text) {
            Ok(_) => panic!("expected an error for {text:?}"),
            Err(e) => (e.origin.line, e.origin.col, e.message),
        }
    }

    #[test]
    fn a_good_space_loads() {
        let f = load_text(
            "max_faults: 2\nkinds:\n  slow_restart: {weight: 3, seconds: [1, 60]}\n  unreachable:\n    hosts: [lb-prod-01, lb-prod-02]\n    for: [1, 20]\nfleet:\n  restart_seconds: [0.05, 2]\n",
        )
        .unwrap();
        assert_eq!(f.space.max_faults, 2);
        assert_eq!(f.space.kinds.len(), 2);
        assert!(f.space.kinds.contains_key(&FaultKind::Unreachable));
    }

    #[test]
    fn task_trigger_hosts_load_and_a_bad_one_is_located() {
        let f = load_text(
            "triggers:\n  task: {weight: 1, when: [start], hosts: rollout}\nkinds:\n  task_fail: {at: [task]}\n",
        )
        .unwrap();
        let task = f.space.triggers.task.unwrap();
        assert_eq!(task.hosts, Some(Targets::Rollout));
        let (l, c, m) = where_(
            "triggers:\n  task:\n    hosts: [web-prod-01, rollout]\nkinds:\n  task_fail: {at: [task]}\n",
        );
        assert_eq!((l, c), (3, 26));
        assert_eq!(
            m,
            "`rollout` stands alone (`hosts: rollout`), not in a list"
        );
        let (l, c, m) = where_("triggers:\n  task:\n    hosts: []\nkinds:\n  crash: {}\n");
        assert_eq!((l, c), (3, 12));
        assert_eq!(m, "list at least one host pattern");
        let (l, c, m) = where_("triggers:\n  task:\n    hosts: {web: 1}\nkinds:\n  crash: {}\n");
        assert_eq!((l, c), (3, 12));
        assert!(m.contains("expected `rollout`, a host pattern"), "{m}");
    }

    #[test]
    fn an_unknown_field_points_at_its_key() {
        let (l, c, m) = where_("kinds:\n  slow_restart:\n    weight: 1\n    sekonds: [1, 2]\n");
        assert_eq!((l, c), (4, 5));
        assert!(m.starts_with("unknown field `sekonds`"), "{m}");
    }

    #[test]
    fn an_unknown_kind_points_at_its_key() {
        let (l, c, m) = where_("kinds:\n  slow_restart: {}\n  meltdown: {}\n");
        assert_eq!((l, c), (3, 3));
        assert!(m.starts_with("unknown variant `meltdown`"), "{m}");
    }

    #[test]
    fn a_wrong_type_points_at_the_value() {
        let (l, c, m) = where_("kinds:\n  unhealthy:\n    status: [500, oops]\n");
        assert_eq!((l, c), (3, 19));
        assert!(m.contains("invalid type: string \"oops\""), "{m}");
        let (l, c, m) = where_("max_faults: many\nkinds: {}\n");
        assert_eq!((l, c), (1, 13));
        assert!(m.contains("invalid type"), "{m}");
    }

    #[test]
    fn a_missing_field_points_at_its_mapping() {
        let (l, c, m) = where_("max_faults: 1\n");
        assert_eq!((l, c), (1, 1));
        assert_eq!(m, "missing field `kinds`");
        let (l, c, m) = where_("kinds: {}\ntriggers:\n  time: {weight: 2}\n");
        assert_eq!((l, c), (3, 9));
        assert_eq!(m, "missing field `seconds`");
    }

    #[test]
    fn a_semantic_error_points_at_the_field() {
        let (l, c, m) = where_("kinds:\n  crash:\n    seconds: [1, 2]\n");
        assert_eq!((l, c), (3, 5));
        assert_eq!(
            m,
            "`seconds` applies to slow_restart faults only, not crash"
        );
        let (l, c, m) = where_("kinds:\n  slow_restart:\n    seconds: [60, 1]\n");
        assert_eq!((l, c), (3, 14));
        assert_eq!(m, "the low bound 60 is above the high bound 1");
    }

    #[test]
    fn yaml_syntax_errors_keep_the_loaders_position() {
        let e = load_text("kinds:\n  slow_restart: {weight: 3\n")
            .err()
            .unwrap();
        assert!(
            e.message.starts_with("YAML parsing failed"),
            "{}",
            e.message
        );
        assert!(e.origin.line >= 2);
    }

    #[test]
    fn the_rendered_error_names_file_line_and_column() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("space.yml");
        std::fs::write(&p, "kinds:\n  crash: {for: [5, 1]}\n").unwrap();
        let e = load(&p).err().unwrap();
        let text = e.to_string();
        let first = text.lines().next().unwrap();
        assert!(
            first.ends_with(
                "space.yml:2:16: invalid fault space: the low bound 5 is above the high bound 1"
            ),
            "{text}"
        );
        assert!(text.contains("\nOrigin: "), "{text}");
        assert!(text.contains("  crash: {for: [5, 1]}"), "{text}");
    }
}
