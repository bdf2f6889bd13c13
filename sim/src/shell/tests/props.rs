//! Property tests: the parser and runner never panic on arbitrary input (bounded by the
//! budget), and nothing a script does reaches outside the sandbox.

use super::*;
use proptest::prelude::*;

fn ctx(tmp: &tempfile::TempDir) -> ShellContext {
    let mut c = new_ctx(tmp, "p");
    c.budget = 2_000;
    c.max_output = 64 * 1024;
    c
}

/// Fragments of shell syntax, so that random scripts reach deep into the grammar.
fn fragment() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("echo a".to_string()),
        Just("if".to_string()),
        Just("then".to_string()),
        Just("fi".to_string()),
        Just("while true; do".to_string()),
        Just("done".to_string()),
        Just("case $x in *)".to_string()),
        Just(";;".to_string()),
        Just("esac".to_string()),
        Just("$(".to_string()),
        Just(")".to_string()),
        Just("`".to_string()),
        Just("\"".to_string()),
        Just("'".to_string()),
        Just("${x:-".to_string()),
        Just("}".to_string()),
        Just("$((1+".to_string()),
        Just("<<EOF\nbody\nEOF\n".to_string()),
        Just("|".to_string()),
        Just("&&".to_string()),
        Just("||".to_string()),
        Just(";".to_string()),
        Just("\n".to_string()),
        Just("> ../../x".to_string()),
        Just("rm -rf /".to_string()),
        Just("f() { f; }; f".to_string()),
        Just("cat /etc/passwd".to_string()),
        Just("ln -s / l; echo x > l/../../y".to_string()),
        "[ -~]{0,8}".prop_map(|s| s),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn arbitrary_bytes_never_panic(script in "\\PC{0,80}") {
        let tmp = tempfile::tempdir().unwrap();
        let mut c = ctx(&tmp);
        let out = run(&script, &mut c);
        prop_assert!((0..=255).contains(&out.rc));
    }

    #[test]
    fn grammar_soup_never_panics_or_escapes(parts in proptest::collection::vec(fragment(), 0..24)) {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::write(tmp.path().join("canary"), "c").unwrap();
        let mut c = ctx(&tmp);
        let script = parts.join(" ");
        let out = run(&script, &mut c);
        prop_assert!((0..=255).contains(&out.rc));
        // Only the canary and the sandbox folder exist next to each other.
        let mut names: Vec<String> = std::fs::read_dir(tmp.path()).unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
        names.sort();
        prop_assert_eq!(names, vec!["canary".to_string(), "sb".to_string()]);
        prop_assert_eq!(std::fs::read(tmp.path().join("canary")).unwrap(), b"c".to_vec());
        // Determinism: the same script on a fresh host gives the same bytes.
        let tmp2 = tempfile::tempdir().unwrap();
        let mut c2 = ctx(&tmp2);
        prop_assert_eq!(run(&script, &mut c2), out);
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_crash(n in 1usize..400) {
        let tmp = tempfile::tempdir().unwrap();
        let mut c = ctx(&tmp);
        let script = format!("{}echo x{}", "$(".repeat(n), ")".repeat(n));
        let _ = run(&script, &mut c);
        let script = format!("{}true{}", "( ".repeat(n), " )".repeat(n));
        let _ = run(&script, &mut c);
        let script = format!("echo $(({}1{}))", "(".repeat(n), ")".repeat(n));
        let _ = run(&script, &mut c);
    }
}
