//! proptest strategies over the playbook model: Jinja expressions typed by what they yield
//! (so filters get the kind of value they take, and real Ansible accepts most cases),
//! conditions, tasks, blocks, handlers, plays and inventories. Every choice lists its
//! simplest alternative first, which is where proptest's shrinking heads.

use proptest::prelude::*;
use proptest::sample::select;
use proptest::strategy::Union;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};

use crate::model::*;
use crate::yaml::Y;

/// What an expression may refer to besides the play's variables.
#[derive(Debug, Clone, Copy)]
struct Ctx {
    in_loop: bool,
}

fn pick(options: &[&'static str]) -> BoxedStrategy<String> {
    select(options.to_vec()).prop_map(str::to_string).boxed()
}

fn union(arms: Vec<(u32, BoxedStrategy<String>)>) -> BoxedStrategy<String> {
    Union::new_weighted(arms).boxed()
}

fn int_expr(depth: u32, ctx: Ctx) -> BoxedStrategy<String> {
    let mut leaves = vec![
        "n",
        "hv",
        "2",
        "words | length",
        "cfg.a",
        "(f1 | default(2)) | int",
        "groups['all'] | length",
        "ansible_play_batch | length",
        "r1.rc | default(7)",
        "(r2.results | default([])) | length",
        "label | length",
    ];
    if ctx.in_loop {
        leaves.push("ansible_loop_var | length");
    }
    let leaf = select(leaves).prop_map(str::to_string).boxed();
    if depth == 0 {
        return leaf;
    }
    let sub = int_expr(depth - 1, ctx);
    let s2 = || (sub.clone(), sub.clone());
    union(vec![
        (6, leaf),
        (1, s2().prop_map(|(a, b)| format!("({a} + {b})")).boxed()),
        (1, s2().prop_map(|(a, b)| format!("({a} - {b})")).boxed()),
        (1, sub.clone().prop_map(|a| format!("({a} * 3)")).boxed()),
        (1, sub.clone().prop_map(|a| format!("({a} // 2)")).boxed()),
        (1, sub.clone().prop_map(|a| format!("({a} % 3)")).boxed()),
        (1, sub.clone().prop_map(|a| format!("({a}) | abs")).boxed()),
        (
            1,
            s2().prop_map(|(a, b)| format!("[{a}, {b}] | max")).boxed(),
        ),
        (
            1,
            s2().prop_map(|(a, b)| format!("[{a}, {b}] | min")).boxed(),
        ),
        (
            1,
            s2().prop_map(|(a, b)| format!("[{a}, {b}, 1] | sum"))
                .boxed(),
        ),
        (
            1,
            str_expr(depth - 1, ctx)
                .prop_map(|s| format!("({s}) | length"))
                .boxed(),
        ),
        (
            1,
            list_expr(depth - 1, ctx)
                .prop_map(|l| format!("({l}) | length"))
                .boxed(),
        ),
    ])
}

fn str_expr(depth: u32, ctx: Ctx) -> BoxedStrategy<String> {
    let mut leaves = vec![
        "label",
        "inventory_hostname",
        "'lit'",
        "words | join(',')",
        "base",
        "f2 | default('none')",
        "r1.stdout | default('')",
        "group_names | join('+')",
        "cfg.b",
        "ansible_play_hosts | join(' ')",
    ];
    if ctx.in_loop {
        leaves.push("item | string");
    }
    let leaf = select(leaves).prop_map(str::to_string).boxed();
    if depth == 0 {
        return leaf;
    }
    let sub = str_expr(depth - 1, ctx);
    let int = int_expr(depth - 1, ctx);
    let one = |f: fn(String) -> String| sub.clone().prop_map(f).boxed();
    union(vec![
        (8, leaf),
        (1, one(|s| format!("({s}) | upper"))),
        (1, one(|s| format!("({s}) | lower"))),
        (1, one(|s| format!("({s}) | title"))),
        (1, one(|s| format!("({s}) | capitalize"))),
        (1, one(|s| format!("({s}) | replace('a', 'o')"))),
        (1, one(|s| format!("({s}) | regex_replace('[aeiou]', '_')"))),
        (
            1,
            one(|s| format!("({s}) | regex_replace('^(.)(.*)$', '\\\\2\\\\1')")),
        ),
        (1, one(|s| format!("({s}) | trim"))),
        (1, one(|s| format!("({s}) | reverse"))),
        (1, one(|s| format!("({s})[:3]"))),
        (1, one(|s| format!("({s}) | b64encode"))),
        (1, one(|s| format!("({s}) | hash('sha1')"))),
        (1, one(|s| format!("({s}) | truncate(6)"))),
        (1, one(|s| format!("({s}) | to_json"))),
        (1, one(|s| format!("({s}) | default('empty', true)"))),
        (1, one(|s| format!("({s}).split('a') | join('/')"))),
        (
            1,
            one(|s| format!("({s}) | regex_search('[a-z]+') | default('none', true)")),
        ),
        (1, one(|s| format!("({s}) | wordcount | string"))),
        (1, one(|s| format!("({s}) | center(11)"))),
        (1, one(|s| format!("({s}) | quote"))),
        (
            1,
            (sub.clone(), int.clone())
                .prop_map(|(s, i)| format!("({s}) ~ '-' ~ ({i})"))
                .boxed(),
        ),
        (
            1,
            (sub.clone(), int.clone())
                .prop_map(|(s, i)| format!("'%s=%d' % ({s}, {i})"))
                .boxed(),
        ),
        (
            1,
            int.clone().prop_map(|i| format!("({i}) | string")).boxed(),
        ),
        (
            1,
            (sub.clone(), bool_expr(depth - 1, ctx), sub.clone())
                .prop_map(|(a, c, b)| format!("({a}) if ({c}) else ({b})"))
                .boxed(),
        ),
        (
            1,
            (bool_expr(depth - 1, ctx), sub.clone(), sub.clone())
                .prop_map(|(c, a, b)| format!("({c}) | ternary({a}, {b})"))
                .boxed(),
        ),
        (
            1,
            list_expr(depth - 1, ctx)
                .prop_map(|l| format!("({l}) | map('string') | join(',')"))
                .boxed(),
        ),
    ])
}

fn list_expr(depth: u32, ctx: Ctx) -> BoxedStrategy<String> {
    let mut leaves = vec![
        "words",
        "[1, 2, 3]",
        "range(n) | list",
        "groups['web'] | default([])",
        "cfg | dict2items | map(attribute='key') | list",
        "group_names",
        "ansible_play_batch",
        "[3, 1, 3, 2]",
        "(r2.results | default([])) | map(attribute='item') | list",
        "(f3 | default([])) | list",
    ];
    if ctx.in_loop {
        leaves.push("[item]");
    }
    let leaf = select(leaves).prop_map(str::to_string).boxed();
    if depth == 0 {
        return leaf;
    }
    let sub = list_expr(depth - 1, ctx);
    let one = |f: fn(String) -> String| sub.clone().prop_map(f).boxed();
    let two = |f: fn((String, String)) -> String| (sub.clone(), sub.clone()).prop_map(f).boxed();
    union(vec![
        (8, leaf),
        (1, one(|l| format!("({l}) | map('string') | sort"))),
        (1, one(|l| format!("({l}) | unique"))),
        (1, one(|l| format!("({l}) | reverse | list"))),
        (
            1,
            one(|l| format!("({l}) | map('string') | map('upper') | list")),
        ),
        (1, one(|l| format!("({l}) | select('string') | list"))),
        (1, one(|l| format!("({l}) | reject('equalto', 1) | list"))),
        (
            1,
            one(|l| format!("({l}) | map('string') | select('match', '[a-h1-2]') | list")),
        ),
        (1, one(|l| format!("({l}) + ['x']"))),
        (1, one(|l| format!("({l})[:2]"))),
        (1, one(|l| format!("({l}) | batch(2) | list"))),
        (1, one(|l| format!("[({l}), 9] | flatten"))),
        (
            1,
            one(|l| format!("({l}) | first | default('none') | string | list")),
        ),
        (
            1,
            two(|(a, b)| format!("({a}) | difference({b}) | map('string') | sort")),
        ),
        (
            1,
            two(|(a, b)| format!("({a}) | union({b}) | map('string') | sort")),
        ),
        (
            1,
            two(|(a, b)| format!("({a}) | intersect({b}) | map('string') | sort")),
        ),
        (1, two(|(a, b)| format!("({a}) | zip({b}) | list"))),
        (
            1,
            str_expr(depth - 1, ctx)
                .prop_map(|s| format!("({s}).split(',')"))
                .boxed(),
        ),
    ])
}

fn dict_expr(depth: u32, ctx: Ctx) -> BoxedStrategy<String> {
    let leaf = pick(&[
        "cfg",
        "{'k': label, 'n': n}",
        "cfg | dict2items | items2dict",
        "f2 if (f2 is defined and f2 is mapping) else {}",
    ]);
    if depth == 0 {
        return leaf;
    }
    let sub = dict_expr(depth - 1, ctx);
    union(vec![
        (4, leaf),
        (
            1,
            (sub.clone(), int_expr(depth - 1, ctx))
                .prop_map(|(d, i)| format!("({d}) | combine({{'c': {i}}})"))
                .boxed(),
        ),
        (
            1,
            (sub.clone(), sub.clone())
                .prop_map(|(a, b)| format!("({a}) | combine({b})"))
                .boxed(),
        ),
        (
            1,
            list_expr(depth - 1, ctx)
                .prop_map(|l| format!("dict(({l}) | map('string') | zip(range(10)))"))
                .boxed(),
        ),
    ])
}

fn bool_expr(depth: u32, ctx: Ctx) -> BoxedStrategy<String> {
    let mut leaves = vec![
        "flag",
        "true",
        "not flag",
        "'web' in group_names",
        "inventory_hostname == 'h1'",
        "inventory_hostname in ['h2', 'h3']",
        "n > 2",
        "hv is even",
        "hv is odd",
        "n is divisibleby(3)",
        "cfg.a is defined",
        "nosuch is undefined",
        "f1 is defined",
        "r1 is defined and r1 is changed",
        "r1 is defined and r1 is failed",
        "r2 is defined and r2 is skipped",
        "r3 is defined and r3 is succeeded",
        "r1 is changed",
        "(r3.stat.exists | default(false)) | bool",
        "label is search('a')",
        "label is match('b')",
        "words is sequence",
        "cfg is mapping",
        "label is string",
        "n is number",
        "'x' in words",
        "words | length > 1",
        "flag | bool",
    ];
    if ctx.in_loop {
        leaves.extend([
            "item is defined",
            "(item | string) in ['1', '2', 'a', 'b']",
            "(item | string) is search('[13a]')",
        ]);
    }
    let leaf = select(leaves).prop_map(str::to_string).boxed();
    if depth == 0 {
        return leaf;
    }
    let sub = bool_expr(depth - 1, ctx);
    let int = int_expr(depth - 1, ctx);
    union(vec![
        (6, leaf),
        (
            1,
            (sub.clone(), sub.clone())
                .prop_map(|(a, b)| format!("({a}) and ({b})"))
                .boxed(),
        ),
        (
            1,
            (sub.clone(), sub.clone())
                .prop_map(|(a, b)| format!("({a}) or ({b})"))
                .boxed(),
        ),
        (1, sub.clone().prop_map(|a| format!("not ({a})")).boxed()),
        (
            1,
            (
                int.clone(),
                int.clone(),
                pick(&["==", "!=", "<", ">=", ">"]),
            )
                .prop_map(|(a, b, op)| format!("({a}) {op} ({b})"))
                .boxed(),
        ),
        (
            1,
            (str_expr(depth - 1, ctx), list_expr(depth - 1, ctx))
                .prop_map(|(s, l)| format!("({s}) in ({l})"))
                .boxed(),
        ),
        (
            1,
            str_expr(depth - 1, ctx)
                .prop_map(|s| format!("({s}) is search('[aeiou]')"))
                .boxed(),
        ),
    ])
}

/// Any value, for `debug var=` and `set_fact`.
fn value_expr(depth: u32, ctx: Ctx) -> BoxedStrategy<String> {
    union(vec![
        (3, str_expr(depth, ctx)),
        (2, int_expr(depth, ctx)),
        (2, list_expr(depth, ctx)),
        (1, dict_expr(depth, ctx)),
        (1, bool_expr(depth, ctx)),
    ])
}

/// A string with templates in it: a whole-value template (keeps the value's type) or text
/// around a template.
fn template(ctx: Ctx) -> BoxedStrategy<String> {
    union(vec![
        (1, pick(&["plain text", "hello"])),
        (
            4,
            value_expr(2, ctx)
                .prop_map(|e| format!("{{{{ {e} }}}}"))
                .boxed(),
        ),
        (
            2,
            (str_expr(1, ctx), int_expr(1, ctx))
                .prop_map(|(s, i)| format!("s={{{{ {s} }}}} i={{{{ {i} }}}}"))
                .boxed(),
        ),
    ])
}

fn condition(ctx: Ctx) -> BoxedStrategy<String> {
    bool_expr(2, ctx)
}

fn command(ctx: Ctx) -> BoxedStrategy<String> {
    let mut options = vec![
        "echo hello",
        "true",
        "false",
        "echo {{ label }} {{ n }}",
        "test -e {{ base }}/a",
        "test -d {{ base }}/d",
        "cat {{ base }}/c.txt",
        "echo {{ inventory_hostname }}",
    ];
    if ctx.in_loop {
        options.push("echo {{ item }}");
    }
    select(options).prop_map(str::to_string).boxed()
}

fn mode() -> BoxedStrategy<Option<&'static str>> {
    prop_oneof![
        3 => Just(None),
        1 => select(vec!["0644", "0600", "0755", "0700"]).prop_map(Some),
    ]
    .boxed()
}

fn action(ctx: Ctx) -> BoxedStrategy<Action> {
    let path = || 0u8..PATHS.len() as u8;
    prop_oneof![
        4 => template(ctx).prop_map(Action::Debug),
        2 => value_expr(2, ctx).prop_map(Action::DebugVar),
        3 => (1u8..=3, template(ctx)).prop_map(|(i, v)| Action::SetFact(i, v)),
        2 => command(ctx).prop_map(Action::Command),
        3 => (path(), select(vec!["directory", "touch", "absent"]), mode())
            .prop_map(|(path, state, mode)| Action::File { path, state, mode }),
        2 => (path(), template(ctx), mode()).prop_map(|(path, content, mode)| Action::Copy {
            path,
            content: format!("{content}\n"),
            mode,
        }),
        1 => (path(), template(ctx), any::<bool>())
            .prop_map(|(path, line, create)| Action::Lineinfile { path, line, create }),
        1 => path().prop_map(Action::Stat),
        1 => template(ctx).prop_map(Action::Fail),
        1 => prop::collection::vec(condition(ctx), 1..=2).prop_map(Action::Assert),
        1 => Just(Action::FlushHandlers),
    ]
    .boxed()
}

fn loop_spec() -> BoxedStrategy<Loop> {
    let items = prop_oneof![
        Just(Y::List(vec![Y::Int(1), Y::Int(2), Y::Int(3)])),
        Just(Y::List(vec![Y::s("a"), Y::s("b")])),
        Just(Y::s("{{ words }}")),
        Just(Y::s("{{ range(n) | list }}")),
        Just(Y::s("{{ cfg | dict2items }}")),
        Just(Y::List(vec![])),
        Just(Y::s("{{ ansible_play_batch }}")),
    ];
    let label = prop_oneof![
        4 => Just(None),
        1 => Just(Some("{{ item | string | upper }}".to_string())),
    ];
    (select(vec!["loop", "with_items"]), items, label)
        .prop_map(|(keyword, items, label)| Loop {
            keyword,
            items,
            label,
        })
        .boxed()
}

fn tags() -> BoxedStrategy<Vec<&'static str>> {
    prop_oneof![
        5 => Just(vec![]),
        1 => prop::collection::vec(select(vec!["a", "b", "always", "never"]), 1..=2),
    ]
    .boxed()
}

fn opt<T: std::fmt::Debug + Clone + 'static>(
    none_weight: u32,
    s: BoxedStrategy<T>,
) -> BoxedStrategy<Option<T>> {
    prop_oneof![none_weight => Just(None), 1 => s.prop_map(Some)].boxed()
}

fn task() -> BoxedStrategy<Task> {
    opt(3, loop_spec())
        .prop_flat_map(|looping| {
            let ctx = Ctx {
                in_loop: looping.is_some(),
            };
            (
                Just(looping),
                action(ctx),
                opt(3, condition(ctx)),
                opt(2, (1u8..=3).boxed()),
                opt(3, (0u8..3, any::<bool>()).boxed()),
                prop::bool::weighted(0.3),
                opt(6, condition(ctx)),
                opt(12, condition(ctx)),
                tags(),
            )
        })
        .prop_map(
            |(
                looping,
                action,
                when,
                register,
                notify,
                ignore_errors,
                changed_when,
                failed_when,
                tags,
            )| {
                // `meta: flush_handlers` takes no loop, condition or result (Ansible
                // rejects or warns about them); keep it bare.
                let bare = matches!(action, Action::FlushHandlers);
                let looping = if bare { None } else { looping };
                let when = if bare { None } else { when };
                let register = if bare { None } else { register };
                let notify = if bare { None } else { notify };
                let changed_when = if bare { None } else { changed_when };
                let failed_when = if bare { None } else { failed_when };
                Task {
                    action,
                    looping,
                    when,
                    register,
                    notify,
                    ignore_errors,
                    changed_when,
                    failed_when,
                    tags,
                }
            },
        )
        .boxed()
}

fn nodes(depth: u32, len: std::ops::RangeInclusive<usize>) -> BoxedStrategy<Vec<Node>> {
    prop::collection::vec(node(depth), len).boxed()
}

fn node(depth: u32) -> BoxedStrategy<Node> {
    if depth == 0 {
        return task().prop_map(Node::Task).boxed();
    }
    let ctx = Ctx { in_loop: false };
    let block = (
        nodes(depth - 1, 1..=3),
        nodes(depth - 1, 0..=2),
        nodes(depth - 1, 0..=2),
        opt(4, condition(ctx)),
        tags(),
    )
        .prop_map(|(block, rescue, always, when, tags)| {
            Node::Block(Block {
                block,
                rescue,
                always,
                when,
                tags,
            })
        });
    prop_oneof![
        5 => task().prop_map(Node::Task),
        1 => block,
    ]
    .boxed()
}

fn handler() -> BoxedStrategy<Handler> {
    let ctx = Ctx { in_loop: false };
    let action = prop_oneof![
        template(ctx).prop_map(Action::Debug),
        Just(Action::Command("echo handled".into())),
        (0u8..PATHS.len() as u8).prop_map(|path| Action::File {
            path,
            state: "touch",
            mode: None
        }),
    ];
    (action, any::<bool>())
        .prop_map(|(action, listen)| Handler { action, listen })
        .boxed()
}

fn play() -> BoxedStrategy<Play> {
    let pattern = select(vec![
        "all", "web", "db", "web:db", "all:!db", "web:&db", "h1", "h1:h2", "nogroup",
    ]);
    let serial = prop_oneof![
        4 => Just(None),
        1 => Just(Some(Y::Int(1))),
        1 => Just(Some(Y::Int(2))),
        1 => Just(Some(Y::s("50%"))),
        1 => Just(Some(Y::List(vec![Y::Int(1), Y::Int(2)]))),
    ];
    let order = prop_oneof![
        4 => Just(None),
        1 => select(vec!["inventory", "reverse_inventory", "sorted", "reverse_sorted"]).prop_map(Some),
    ];
    let vars = (
        0i64..5,
        prop::collection::vec(select(vec!["a", "b", "x", "beta", "Gamma"]), 0..4),
        any::<bool>(),
        select(vec!["alpha", "Bravo", "charlie delta", "e-1"]),
    )
        .prop_map(|(n, words, flag, label)| PlayVars {
            n,
            words,
            flag,
            label,
        });
    // Tasks first: proptest shrinks a tuple's members in order, and dropping tasks is what
    // makes a divergence small.
    (
        nodes(2, 1..=7),
        prop::collection::vec(handler(), 0..=2),
        pattern,
        serial,
        order,
        prop::bool::weighted(0.1),
        vars,
    )
        .prop_map(
            |(tasks, handlers, pattern, serial, order, any_errors_fatal, vars)| Play {
                pattern,
                serial,
                order,
                any_errors_fatal,
                vars,
                tasks,
                handlers,
            },
        )
        .boxed()
}

/// The whole case: inventory, plays, and the `--limit`/`--tags` options it runs with.
pub fn case() -> BoxedStrategy<Case> {
    let host = (0u8..4, -2i64..6).prop_map(|(groups, hv)| HostDef { groups, hv });
    let limit = prop_oneof![
        5 => Just(None),
        1 => select(vec!["h1", "web", "all:!h2", "h1,h3"]).prop_map(|l| Some(l.to_string())),
    ];
    let tag_select = prop_oneof![
        5 => Just(None),
        1 => select(vec!["a", "b"]).prop_map(|t| Some(TagSelect::Only(t))),
        1 => select(vec!["a", "never"]).prop_map(|t| Some(TagSelect::Skip(t))),
    ];
    (
        prop::collection::vec(play(), 1..=2),
        prop::collection::vec(host, 1..=4),
        prop::bool::weighted(0.85),
        limit,
        tag_select,
    )
        .prop_map(|(plays, hosts, setup_base, limit, tags)| Case {
            hosts,
            setup_base,
            plays,
            limit,
            tags,
        })
        .boxed()
}

/// The runner whose random draws a seed fixes: the same seed draws the same cases.
pub fn seeded_runner(seed: u64) -> TestRunner {
    let mut bytes = [0u8; 32];
    for (i, chunk) in bytes.chunks_mut(8).enumerate() {
        chunk.copy_from_slice(
            &(seed ^ (i as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15)).to_le_bytes(),
        );
    }
    TestRunner::new_with_rng(
        Config::default(),
        TestRng::from_seed(RngAlgorithm::ChaCha, &bytes),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::strategy::ValueTree;

    fn draw(seed: u64, count: usize) -> Vec<Case> {
        let mut runner = seeded_runner(seed);
        let strategy = case();
        (0..count)
            .map(|_| strategy.new_tree(&mut runner).expect("draw").current())
            .collect()
    }

    #[test]
    fn the_same_seed_draws_the_same_cases() {
        let render = |cases: Vec<Case>| -> Vec<String> {
            cases
                .iter()
                .map(|c| format!("{:?}{}{}", c.args(), c.inventory(), c.playbook()))
                .collect()
        };
        assert_eq!(render(draw(7, 10)), render(draw(7, 10)));
        assert_ne!(render(draw(7, 10)), render(draw(8, 10)));
    }

    #[test]
    fn generated_playbooks_are_yaml_and_load_in_fleetsim() {
        let dir = tempfile::tempdir().expect("tempdir");
        for (i, c) in draw(11, 60).iter().enumerate() {
            let text = c.playbook();
            let docs = yaml_rust2::YamlLoader::load_from_str(&text)
                .unwrap_or_else(|e| panic!("case {i} is not YAML: {e}\n{text}"));
            assert_eq!(docs.len(), 1, "case {i}: one document");
            assert!(docs[0].as_vec().is_some(), "case {i}: a list of plays");
            let path = dir.path().join(format!("site{i}.yml"));
            std::fs::write(&path, &text).expect("write");
            if let Err(e) = fleetsim_engine::playbook::load_playbook(&path, &Default::default()) {
                panic!("case {i} does not load in fleetsim: {e:?}\n{text}");
            }
        }
    }

    #[test]
    fn cleaned_up_cases_still_load_in_fleetsim() {
        let dir = tempfile::tempdir().expect("tempdir");
        for (i, mut c) in draw(5, 20).into_iter().enumerate() {
            for cleanup in CLEANUPS {
                cleanup(&mut c);
            }
            let path = dir.path().join(format!("site{i}.yml"));
            std::fs::write(&path, c.playbook()).expect("write");
            let loaded = fleetsim_engine::playbook::load_playbook(&path, &Default::default());
            assert!(
                loaded.is_ok(),
                "case {i}: {loaded:?}",
                loaded = loaded.err()
            );
            assert!(!c.playbook().contains("handlers:"), "handlers dropped");
        }
    }

    #[test]
    fn inventories_name_every_host_once_with_its_variable() {
        for c in draw(3, 30) {
            let inv = c.inventory();
            for i in 0..c.hosts.len() {
                let with_var = format!("{} hv=", host_name(i));
                assert_eq!(inv.matches(&with_var).count(), 1, "{inv}");
            }
        }
    }
}
