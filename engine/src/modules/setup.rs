//! The options of an explicit `setup` task: `filter` keeps the facts whose `ansible_` name
//! matches one of its fnmatch patterns (as ansible-core's `_filter`); gather_subset other
//! than `all` and `fact_path` are refused with an error; `gather_timeout` changes nothing
//! (simulated facts are gathered at once).

use regex::Regex;
use serde_json::{Map, Value};

use super::spec::{opt, spec, Kind, ModuleName, Spec};
use super::{Args, ModuleResult};

const SPEC: Spec = spec(
    ModuleName::AsWritten,
    &[
        opt("gather_subset", Kind::List),
        opt("gather_timeout", Kind::Int),
        opt("filter", Kind::List),
        opt("fact_path", Kind::Path).refused(),
    ],
);

/// Whether `pattern` matches `name` as `fnmatch.fnmatch` does on POSIX (case-sensitive).
fn fnmatch(name: &str, pattern: &str) -> bool {
    Regex::new(&crate::inventory::pattern::fnmatch_translate(pattern))
        .map(|r| r.is_match(name))
        .unwrap_or(false)
}

/// Whether the fact `name` (without its `ansible_` prefix) passes the filter patterns: an
/// empty pattern matches all; a pattern not starting with ansible_, facter or ohai is also
/// tried with `ansible_` in front.
fn kept(name: &str, patterns: &[String]) -> bool {
    let full = format!("ansible_{name}");
    patterns.iter().any(|f| {
        f.is_empty()
            || fnmatch(&full, f)
            || (!["ansible_", "facter", "ohai"]
                .iter()
                .any(|p| f.starts_with(p))
                && fnmatch(&full, &format!("ansible_{f}")))
    })
}

/// The facts an explicit `setup` task returns, or its failure.
pub fn select(
    action_written: &str,
    args: &Args,
    facts: Map<String, Value>,
) -> Result<Map<String, Value>, ModuleResult> {
    let args = SPEC.validate(action_written, args)?;
    let texts = |name: &str| -> Vec<String> {
        match args.get(name) {
            Some(Value::Array(items)) => items
                .iter()
                .map(|v| match v {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                })
                .collect(),
            _ => Vec::new(),
        }
    };
    let subset = texts("gather_subset");
    if !subset.is_empty() && subset != ["all"] {
        return Err(super::fail(&format!(
            "fleetsim does not simulate gather_subset {subset:?} (it gathers every simulated fact, as 'all'); remove the option or use all"
        )));
    }
    let patterns = texts("filter");
    // `filter: []`, `''` or `'*'`: no filtering.
    if patterns.is_empty() || patterns == ["*"] {
        return Ok(facts);
    }
    Ok(facts
        .into_iter()
        .filter(|(k, _)| kept(k, &patterns))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(p: &[&str]) -> Vec<&'static str> {
        let p: Vec<String> = p.iter().map(|s| s.to_string()).collect();
        [
            "distribution",
            "distribution_version",
            "hostname",
            "facter_x",
        ]
        .into_iter()
        .filter(|n| kept(n, &p))
        .collect()
    }

    #[test]
    fn filter_patterns_match_the_prefixed_names() {
        assert_eq!(
            names(&["ansible_distribution*"]),
            ["distribution", "distribution_version"]
        );
        assert_eq!(names(&["distribution"]), ["distribution"]);
        assert_eq!(
            names(&["ansible_host*", "*_version"]),
            ["distribution_version", "hostname"]
        );
        assert_eq!(names(&["Distribution"]), Vec::<&str>::new());
        assert_eq!(names(&[""]).len(), 4);
    }
}
