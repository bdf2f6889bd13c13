//! COVERAGE.md (the status of every ansible.builtin keyword, filter, test, lookup and module)
//! checked against the code's registries, so the table cannot drift: a name the code knows
//! must be in the table, a name marked supported or partial must be registered, and one
//! marked not-yet or refused must not be (or, for keywords and modules, must be refused).

use std::collections::BTreeMap;

use fleetsim_engine::{modules, playbook, template};

/// Actions the executor carries out itself rather than through the module registry.
const EXECUTOR_ACTIONS: &[&str] = &[
    "add_host",
    "gather_facts",
    "group_by",
    "import_playbook",
    "import_role",
    "import_tasks",
    "include_role",
    "include_tasks",
    "include_vars",
    "meta",
    "setup",
];

/// `(kind, name) -> status` from the tables of COVERAGE.md (`| kind | name | status | note |`).
fn table() -> BTreeMap<(String, String), String> {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/COVERAGE.md"))
        .expect("COVERAGE.md at the repository root");
    let mut out = BTreeMap::new();
    for line in text.lines() {
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        if cells.len() < 5
            || !matches!(
                cells[1],
                "keyword" | "filter" | "test" | "lookup" | "module"
            )
        {
            continue;
        }
        let name = cells[2].trim_matches('`').to_string();
        let status = cells[3].to_string();
        assert!(
            matches!(
                status.as_str(),
                "supported" | "partial" | "refused" | "not applicable" | "not yet"
            ),
            "unknown status {status:?} for {name}"
        );
        let old = out.insert((cells[1].to_string(), name.clone()), status);
        assert!(old.is_none(), "{name} listed twice");
    }
    out
}

fn check_registry(kind: &str, registered: &[&str]) {
    let t = table();
    for name in registered {
        let bare = name.strip_prefix("ansible.builtin.").unwrap_or(name);
        assert!(
            t.contains_key(&(kind.to_string(), bare.to_string())),
            "the {kind} '{bare}' is registered but missing from COVERAGE.md"
        );
    }
    for ((k, name), status) in &t {
        if k != kind {
            continue;
        }
        let known = registered.contains(&name.as_str());
        match status.as_str() {
            "supported" | "partial" => {
                assert!(known, "COVERAGE.md says the {kind} '{name}' is {status}, the code does not register it")
            }
            // Lookups and keywords are refused when used (a lookup's error, a keyword's load
            // error for the values fleetsim cannot honour): checked by the tests below.
            "not yet" if kind != "lookup" && kind != "keyword" => {
                assert!(
                    !known,
                    "COVERAGE.md says the {kind} '{name}' is {status}, the code registers it"
                )
            }
            _ => {}
        }
    }
}

#[test]
fn filters_match_the_registry() {
    check_registry("filter", &template::filter_names());
}

#[test]
fn tests_match_the_registry() {
    check_registry("test", &template::test_names());
}

#[test]
fn lookups_match_the_registry() {
    check_registry("lookup", &template::lookup_names());
}

#[test]
fn keywords_match_the_loader() {
    let mut accepted = playbook::accepted_keywords();
    accepted.push("with_<lookup>");
    check_registry("keyword", &accepted);
}

#[test]
fn modules_match_the_registry() {
    let t = table();
    for ((kind, name), status) in &t {
        if kind != "module" {
            continue;
        }
        let simulated =
            modules::lookup(name).is_some() || EXECUTOR_ACTIONS.contains(&name.as_str());
        match status.as_str() {
            "supported" | "partial" => assert!(
                simulated,
                "COVERAGE.md says the module '{name}' is {status}, fleetsim does not run it"
            ),
            _ => assert!(
                !simulated,
                "COVERAGE.md says the module '{name}' is {status}, fleetsim runs it"
            ),
        }
        assert!(
            playbook::modules_known::BUILTIN.contains(&name.as_str()) || name == "setup",
            "the module '{name}' is not an ansible.builtin name"
        );
    }
    for name in playbook::modules_known::BUILTIN {
        assert!(
            t.contains_key(&("module".to_string(), name.to_string())),
            "the builtin module '{name}' is missing from COVERAGE.md"
        );
    }
}

/// A keyword marked refused fails to load with an error naming it (exit 4), given the
/// value the note says is refused.
#[test]
fn refused_keywords_stop_the_load() {
    let t = table();
    let samples: BTreeMap<&str, &str> = [(
        "fact_path",
        "- hosts: all\n  fact_path: /etc/ansible/facts.d\n  tasks: []\n",
    )]
    .into_iter()
    .collect();
    for ((kind, name), status) in &t {
        if kind != "keyword" || status != "refused" {
            continue;
        }
        let text = samples
            .get(name.as_str())
            .unwrap_or_else(|| panic!("no sample playbook for the refused keyword '{name}'"));
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("site.yml");
        std::fs::write(&path, text).unwrap();
        let err = match playbook::load_playbook(&path, &serde_json::Map::new()) {
            Ok(_) => panic!("the refused keyword '{name}' loaded"),
            Err(e) => e.to_string(),
        };
        assert!(
            err.contains(&format!("fleetsim does not support the keyword '{name}'")),
            "{err}"
        );
    }
}
