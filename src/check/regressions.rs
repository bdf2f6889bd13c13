//! `DIR/regressions.txt`: the failing cases `fleetsim check` found, saved as proptest saves
//! its regression seeds, and rerun before the campaign's own cases next time. A case is named
//! by its campaign seed and index (the case is a pure function of them, given the space and
//! the rollout hosts), and kept per playbook.

use std::io::Write;
use std::path::Path;

use fleetsim_sim::fleet::campaign::CaseId;

pub const FILE_NAME: &str = "regressions.txt";

const HEADER: &str = "\
# Failing cases found by `fleetsim check`, rerun before any new case by every later check of
# the same playbook that writes to this folder. Each line `cc SEED INDEX PLAYBOOK` names case
# INDEX of campaign SEED; the case it draws depends on the fault space and the rollout hosts
# too, so keep this file with them. Check it in to share the cases.
";

/// One saved case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Saved {
    pub id: CaseId,
    pub playbook: String,
}

/// Reads the saved cases; a missing file has none. Lines that are not `cc SEED INDEX
/// PLAYBOOK` are returned as warnings (with their line number), not errors.
pub fn read(path: &Path) -> Result<(Vec<Saved>, Vec<String>), String> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok((vec![], vec![])),
        Err(e) => return Err(format!("cannot read {}: {e}", path.display())),
    };
    let mut saved = Vec::new();
    let mut warnings = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        match parse_line(line) {
            Some(s) => saved.push(s),
            None => warnings.push(format!(
                "{}:{}: ignoring a line that is not `cc SEED INDEX PLAYBOOK`",
                path.display(),
                n + 1
            )),
        }
    }
    Ok((saved, warnings))
}

fn parse_line(line: &str) -> Option<Saved> {
    let rest = line.strip_prefix("cc ")?;
    let mut parts = rest.trim_start().splitn(3, ' ');
    let seed = parts.next()?.parse().ok()?;
    let index = parts.next()?.parse().ok()?;
    let playbook = parts.next()?.trim().to_string();
    if playbook.is_empty() {
        return None;
    }
    Some(Saved {
        id: CaseId { seed, index },
        playbook,
    })
}

/// The saved cases of `playbook` (compared as written, and as canonical paths when both
/// exist).
pub fn for_playbook(saved: &[Saved], playbook: &Path) -> Vec<CaseId> {
    let canon = std::fs::canonicalize(playbook).ok();
    saved
        .iter()
        .filter(|s| {
            Path::new(&s.playbook) == playbook
                || (canon.is_some() && std::fs::canonicalize(&s.playbook).ok() == canon)
        })
        .map(|s| s.id)
        .collect()
}

/// Saves a failing case (once), creating the folder and the file with its header.
pub fn append(path: &Path, id: CaseId, playbook: &Path, note: &str) -> Result<(), String> {
    let (saved, _) = read(path)?;
    let playbook_text = playbook.display().to_string();
    if saved
        .iter()
        .any(|s| s.id == id && s.playbook == playbook_text)
    {
        return Ok(());
    }
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)
            .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    }
    let fresh = !path.exists();
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    let mut text = String::new();
    if fresh {
        text.push_str(HEADER);
    }
    text.push_str(&format!(
        "# {note}\ncc {} {} {playbook_text}\n",
        id.seed, id.index
    ));
    f.write_all(text.as_bytes())
        .map_err(|e| format!("cannot write {}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn saved_cases_round_trip_once_with_a_header() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("out").join(FILE_NAME);
        let id = CaseId {
            seed: 42,
            index: 17,
        };
        let pb = Path::new("play books/lb.yml");
        append(&p, id, pb, "capacity_floor broken").unwrap();
        append(&p, id, pb, "capacity_floor broken").unwrap();
        append(
            &p,
            CaseId { seed: 1, index: 2 },
            Path::new("other.yml"),
            "x",
        )
        .unwrap();
        let text = std::fs::read_to_string(&p).unwrap();
        assert!(text.starts_with("# Failing cases found by `fleetsim check`"));
        assert_eq!(text.matches("cc 42 17 play books/lb.yml\n").count(), 1);
        let (saved, warnings) = read(&p).unwrap();
        assert!(warnings.is_empty());
        assert_eq!(saved.len(), 2);
        assert_eq!(for_playbook(&saved, pb), vec![id]);
    }

    #[test]
    fn bad_lines_are_warnings_and_a_missing_file_is_empty() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join(FILE_NAME);
        assert_eq!(read(&p).unwrap(), (vec![], vec![]));
        std::fs::write(&p, "# c\ncc 1 2 a.yml\ncc x 2 a.yml\ncc 1 2\nrubbish\n").unwrap();
        let (saved, warnings) = read(&p).unwrap();
        assert_eq!(saved.len(), 1);
        assert_eq!(warnings.len(), 3);
        assert!(warnings[0].ends_with(":3: ignoring a line that is not `cc SEED INDEX PLAYBOOK`"));
    }
}
