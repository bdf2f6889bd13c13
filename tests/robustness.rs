//! Inputs that once crashed fleetsim (issue 14): each ends as ansible-core 2.19 ends it,
//! never with a panic (exit 101) or a stack overflow (abort, 134).

use std::process::{Command, Output};

/// Runs `site.yml` among `files` (name, text) on a one-host local inventory.
fn run(files: &[(&str, &str)]) -> Output {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("inv"), "app1 ansible_connection=local\n").unwrap();
    for (name, text) in files {
        std::fs::write(dir.path().join(name), text).unwrap();
    }
    Command::new(env!("CARGO_BIN_EXE_fleetsim"))
        .args(["playbook", "-i", "inv", "site.yml", "--seed", "1"])
        .arg("--sandbox")
        .arg(dir.path().join("sandbox"))
        .current_dir(dir.path())
        .output()
        .unwrap()
}

const RECURSION: &str = "[ERROR]: Unexpected Exception, this is probably a bug: maximum recursion depth exceeded while calling a Python object";

#[test]
fn issue_14_a_playbook_importing_itself_is_ansibles_recursion_error() {
    let out = run(&[("site.yml", "- import_playbook: site.yml\n")]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(250), "{stderr}");
    assert!(stderr.contains(RECURSION), "{stderr}");
    assert!(
        stderr.contains("fleetsim: hint: the static imports never end: ")
            && stderr.contains("site.yml -> ")
            && stderr.contains("is imported again while it is being imported"),
        "{stderr}"
    );
    assert!(
        out.stdout.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

#[test]
fn issue_14_import_cycles_through_several_files_are_named_in_order() {
    let out = run(&[
        ("site.yml", "- import_playbook: b.yml\n"),
        (
            "b.yml",
            "- hosts: app1\n  gather_facts: false\n  tasks:\n    - import_tasks: t1.yml\n",
        ),
        ("t1.yml", "- debug: msg=one\n- import_tasks: t2.yml\n"),
        ("t2.yml", "- import_tasks: t1.yml\n"),
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(250), "{stderr}");
    assert!(stderr.contains(RECURSION), "{stderr}");
    let hint = stderr
        .lines()
        .find(|l| l.starts_with("fleetsim: hint:"))
        .expect("a hint");
    let t1 = hint.find("t1.yml -> ").expect(hint);
    let t2 = hint.find("t2.yml -> ").expect(hint);
    assert!(t1 < t2, "{hint}");
    assert!(
        !hint.contains("site.yml"),
        "only the cycle is named: {hint}"
    );
}

#[test]
fn issue_14_a_file_imported_twice_side_by_side_is_no_cycle() {
    let out = run(&[
        (
            "site.yml",
            "- hosts: app1\n  gather_facts: false\n  tasks:\n    - import_tasks: t.yml\n    - import_tasks: t.yml\n",
        ),
        ("t.yml", "- debug: msg=again\n"),
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert_eq!(stdout.matches("\"msg\": \"again\"").count(), 2, "{stdout}");
}

/// Found by the `templates` fuzz target: a base outside 2..=36 reached Rust's radix parser,
/// which panics. Jinja's `int` gives what Python's `int(text, base)` gives, else
/// `int(float(text))`, else 0 (ansible-core 2.19.14 prints `0 12 12 31 35 12 -26 0`).
#[test]
fn issue_14_int_with_any_base_is_pythons_int() {
    let out = run(&[(
        "site.yml",
        "- hosts: app1\n  gather_facts: false\n  tasks:\n    - debug: msg=\"{{ '0x1F' | int(base=91) }} {{ '12' | int(base=1) }} {{ '12' | int(base=0) }} {{ '0x1F' | int(base=0) }} {{ 'z' | int(base=36) }} {{ '12' | int(base=-3) }} {{ '-0b1_1010' | int(base=0) }} {{ '--5' | int(base=16) }}\"\n",
    )]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(
        stdout.contains("\"msg\": \"0 12 12 31 35 12 -26 0\""),
        "{stdout}"
    );
}

#[test]
fn issue_14_negative_string_widths_pad_nothing() {
    let out = run(&[(
        "site.yml",
        "- hosts: app1\n  gather_facts: false\n  tasks:\n    - debug: msg=\"[{{ 'x'.zfill(-1) }}|{{ 'x'.center(-3) }}]\"\n",
    )]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(stdout.contains("\"msg\": \"[x|x]\""), "{stdout}");
}

#[test]
fn issue_14_an_escaped_multibyte_character_in_a_pattern_is_that_character() {
    // ansible-core 2.19 printed "axb" (Python's re reads `\é` as `é`); fleetsim once cut the
    // two-byte character in half and panicked.
    let out = run(&[(
        "site.yml",
        "- hosts: app1\n  gather_facts: false\n  tasks:\n    - debug: msg=\"{{ 'aéb' | regex_replace('\\\\é', 'x') }}\"\n",
    )]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(stdout.contains("\"msg\": \"axb\""), "{stdout}");
}

#[test]
fn issue_14_a_task_file_including_itself_ends_as_ansible_does() {
    // ansible-core 2.19.14 shows 247 `included:` lines, then dies of Python's recursion limit.
    let out = run(&[
        (
            "site.yml",
            "- hosts: app1\n  gather_facts: false\n  tasks:\n    - include_tasks: rec.yml\n",
        ),
        ("rec.yml", "- include_tasks: rec.yml\n"),
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(250), "{stderr}");
    assert_eq!(stdout.matches("included: ").count(), 247);
    assert!(!stdout.contains("PLAY RECAP"));
    assert!(stderr.contains(RECURSION), "{stderr}");
}

#[test]
fn issue_14_the_timeout_keyword_cuts_a_task_on_the_virtual_clock() {
    let out = run(&[(
        "site.yml",
        "- hosts: app1\n  gather_facts: false\n  tasks:\n    - shell: sleep 30000\n      timeout: 5\n      ignore_errors: true\n",
    )]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(stdout.contains("fatal: [app1]: FAILED! => {\"changed\": false, \"msg\": \"Task failed: Timed out after 5 second(s).\", \"timedout\": {\"frame\": \"Configure `DISPLAY_TRACEBACK` to see a traceback on timeout errors.\", \"period\": 5}}"), "{stdout}");
    assert!(stdout.contains("...ignoring"), "{stdout}");
}

/// A task retried forever: `until` never holds.
const NEVER: &str = "- hosts: app1\n  gather_facts: false\n  tasks:\n    - name: never healthy\n      command: \"false\"\n      register: r\n      until: r.rc == 0\n      retries: 1000000000\n      delay: DELAY\n";

#[test]
fn issue_14_max_virtual_time_stops_a_runaway_retry_loop() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("inv"), "app1 ansible_connection=local\n").unwrap();
    std::fs::write(dir.path().join("site.yml"), NEVER.replace("DELAY", "10")).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_fleetsim"))
        .args(["playbook", "-i", "inv", "site.yml", "--seed", "1"])
        .args([
            "--start-time",
            "2026-01-01T00:00:00Z",
            "--max-virtual-time",
            "3600",
        ])
        .arg("--sandbox")
        .arg(dir.path().join("sandbox"))
        .current_dir(dir.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stdout.contains("\"msg\": \"fleetsim: stopped retrying after 361 attempts (1000000000 retries asked): the run exceeded its virtual time budget of 3600 seconds (--max-virtual-time)\""), "{stdout}");
    assert!(stderr.contains("[ERROR]: fleetsim: the run exceeded its virtual time budget of 3600 seconds (--max-virtual-time) in task 'never healthy' (virtual time 2026-01-01T01:00:01Z); stopping"), "{stderr}");
}

#[test]
fn issue_14_a_retry_loop_without_delay_stops_after_its_attempt_budget() {
    let out = run(&[("site.yml", &NEVER.replace("DELAY", "0"))]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(2));
    assert!(stdout.contains("fleetsim: stopped retrying after 100000 attempts (1000000000 retries asked): fleetsim makes at most 100000 attempts of one task"));
}

#[test]
fn issue_14_a_template_loop_over_a_huge_range_runs_out_of_steps() {
    let out = run(&[(
        "site.yml",
        "- hosts: app1\n  gather_facts: false\n  tasks:\n    - debug: msg=\"{% for i in range(100000) %}{% for j in range(100000) %}x{% endfor %}{% endfor %}\"\n",
    )]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(2), "{stdout}");
    assert!(stdout.contains("fleetsim: the template took more than its budget of 20000000 steps (a loop over a huge range?); fleetsim stops it rather than run for hours"), "{stdout}");
}

/// Found by the `inventory_ini` fuzz target: a host line whose several `[a:b]` ranges multiply
/// to millions of long names took gigabytes. The expansion now stops at a bound with a clear
/// message, and the INI plugin's failure is the warning Ansible prints for a file no plugin
/// parses.
#[test]
fn issue_14_a_host_line_whose_ranges_multiply_out_stops_at_a_bound() {
    let dir = tempfile::tempdir().unwrap();
    let found = dir.path().join("found.ini");
    std::fs::write(
        &found,
        include_bytes!("data/fuzz/inventory_ini-range-product.ini"),
    )
    .unwrap();
    let product = dir.path().join("product.ini");
    std::fs::write(&product, "[web]\nh[0:99]x[0:99]y[0:99]z[0:99]\n").unwrap();
    // The shape the `inventory_yaml` target found (session 7): one key whose ranges multiply
    // to a million hosts took 24 s and 2.7 GB before the bound was the inventory's.
    let yaml_product = dir.path().join("product.yml");
    std::fs::write(
        &yaml_product,
        "all:\n  hosts:\n    app[:99]p[:99]q[:99]:\n      ansible_port: 22\n",
    )
    .unwrap();
    for inventory in [&found, &product, &yaml_product] {
        let out = Command::new(env!("CARGO_BIN_EXE_fleetsim"))
            .args(["inventory", "--list", "-i"])
            .arg(inventory)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{stderr}");
        assert!(
            stderr.contains(
                "expands to more than 200000 hosts or 64 MiB of names (fleetsim's limit)"
            ),
            "{stderr}"
        );
    }
}

/// Fuel counts steps, not bytes: a few steps over a 100 MB string asked for gigabytes, and an
/// allocation that fails aborts the process (exit 134). Each way of building text past the
/// budget now fails its task and the run goes on. (Left out here, as they take half a minute
/// each in a debug build, escaping 256 MB a character at a time: a list's `repr`, `set_fact`
/// of a repeated list, `''.join(...)`; the same bound stops them.)
#[test]
fn issue_14_text_past_its_budget_fails_the_task_not_the_process() {
    let tasks = [
        "debug: msg=\"{% for i in range(3) %}{{ big }}{% endfor %}\"",
        "copy: {content: \"{{ ([big] * 3) | join }}\", dest: /tmp/x}",
        "copy: {content: \"{{ ([big] * 3) | to_json }}\", dest: /tmp/x}",
    ];
    let mut play = String::from(
        "- hosts: app1\n  gather_facts: false\n  tasks:\n    - set_fact: {big: \"{{ 'x' * 100000000 }}\"}\n",
    );
    for t in tasks {
        play.push_str(&format!("    - {t}\n      ignore_errors: true\n"));
    }
    play.push_str("    - debug: msg=survived\n");
    let out = run(&[("site.yml", &play)]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let tail: String = stdout
        .chars()
        .rev()
        .take(3000)
        .collect::<String>()
        .chars()
        .rev()
        .collect();
    assert_eq!(out.status.code(), Some(0), "{tail}");
    let failed = stdout
        .lines()
        .filter(|l| l.starts_with("fatal: [app1]") && l.contains("fleetsim: the template's result is larger than its budget of 256 MiB; fleetsim stops it rather than exhaust the machine's memory"))
        .count();
    assert_eq!(failed, tasks.len(), "{tail}");
    assert!(stdout.contains("\"msg\": \"survived\""), "{tail}");
}

/// "A billion laughs": nine nested aliases of nine items. PyYAML shares aliased nodes, so
/// Ansible loads this in no time; fleetsim copies them and took every byte of memory until
/// the process aborted. Its aliases now have a bound, and the play is refused as a file
/// Ansible could not parse would be.
#[test]
fn issue_14_a_billion_laughs_is_refused_at_the_alias_that_crosses_the_bound() {
    let mut vars = String::from("    a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
    for (prev, name) in "abcdefgh".chars().zip("bcdefghi".chars()) {
        let items = vec![format!("*{prev}"); 9].join(", ");
        vars.push_str(&format!("    {name}: &{name} [{items}]\n"));
    }
    let play = format!(
        "- hosts: app1\n  gather_facts: false\n  vars:\n{vars}  tasks:\n    - debug: msg=hi\n"
    );
    let out = run(&[("site.yml", &play)]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(4), "{stderr}");
    assert!(stderr.contains("[ERROR]: YAML parsing failed: The aliases of this file copy more than 1000000 nodes (fleetsim's limit: it copies an aliased node where PyYAML shares it)."), "{stderr}");
    assert!(stderr.contains("site.yml:10:12\n"), "{stderr}");
}

/// One template step can ask for a gigabyte of padding or billions of tuples; each is refused
/// before it is built, and the counts below the bounds are still Python's.
#[test]
fn issue_14_padding_and_combinatorics_past_their_bounds_fail_the_task() {
    let refused = [
        "{{ 'x' | center(1000000000) }}",
        "{{ 'x'.rjust(1000000000) }}",
        "{{ 'x' | indent(1000000000, true) }}",
        "{{ '%.1000000000f' % 1.0 }}",
        "{{ '{:>1000000000}'.format('x') }}",
        "{{ range(30) | permutations | list | length }}",
        "{{ range(100) | combinations(50) | list | length }}",
        "{{ [1, 2] | product(repeat=40) | list | length }}",
        "{{ [1] | slice(1000000000) | list | length }}",
    ];
    let mut play = String::from("- hosts: app1\n  gather_facts: false\n  tasks:\n");
    for t in refused {
        play.push_str(&format!(
            "    - debug: msg=\"{t}\"\n      ignore_errors: true\n"
        ));
    }
    play.push_str("    - debug: msg=\"{{ [range(12) | combinations(6) | list | length, range(8) | permutations(3) | list | length, [1, 2, 3] | product([4, 5], repeat=2) | list | length] }}\"\n");
    let out = run(&[("site.yml", &play)]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    let fatal: Vec<&str> = stdout
        .lines()
        .filter(|l| l.starts_with("fatal: [app1]"))
        .collect();
    assert_eq!(fatal.len(), refused.len(), "{stdout}");
    for line in fatal {
        assert!(
            line.contains("larger than its budget of 256 MiB")
                || line.contains("the result would have more than 10000000 items"),
            "{line}"
        );
    }
    assert!(
        stdout.contains("\"msg\": [\n        924,\n        336,\n        36\n    ]"),
        "{stdout}"
    );
}
