//! Unit tests of the templar against outputs real Ansible (ansible-core 2.19) printed.

use std::sync::Arc;

use serde_json::{json, Value as J};

use super::*;

fn templar() -> Templar {
    Templar::new(42, Arc::new(NoLookups))
}

fn vars(v: J) -> Arc<dyn VarSource> {
    Arc::new(MapVars::new(v))
}

fn r(t: &str, v: J) -> J {
    templar()
        .render_str(t, &vars(v))
        .unwrap_or_else(|e| panic!("render of {t:?} failed: {e}"))
}

fn rs(t: &str) -> J {
    r(t, json!({}))
}

fn e(t: &str, v: J) -> String {
    match templar().render_str(t, &vars(v)) {
        Ok(x) => panic!("expected {t:?} to fail, got {x}"),
        Err(e) => e.message().to_string(),
    }
}

#[test]
fn native_types_and_text() {
    assert_eq!(rs("{{ 1 + 1 }}"), json!(2));
    assert_eq!(rs("sum {{ 1 + 1 }}"), json!("sum 2"));
    assert_eq!(rs("{{ [1, 2] }}"), json!([1, 2]));
    assert_eq!(rs("list {{ [1, 2] }}"), json!("list [1, 2]"));
    assert_eq!(rs("{{ true }}"), json!(true));
    assert_eq!(rs("{{ 'true' }}"), json!("true"));
    assert_eq!(rs("{{ none }}"), json!(null));
    assert_eq!(rs("{{ 3 }}{{ 4 }}"), json!("34"));
    assert_eq!(rs("x{{ none }}y"), json!("xy"));
    assert_eq!(rs("{{ none }}{{ none }}"), json!(null));
    assert_eq!(rs("{{ [none] }}"), json!([null]));
    assert_eq!(rs("{{ 8 / 2 }}"), json!(4.0));
    assert_eq!(rs("{{ 7 // 2 }}"), json!(3));
    assert_eq!(rs("plain"), json!("plain"));
    assert_eq!(
        rs("{{ 1.0 }} {{ 2.50 }} {{ 1e20 }} {{ [1.0, 'a', none, true, {'k': 'v'}] }} {{ 1/3 }}"),
        json!("1.0 2.5 1e+20 [1.0, 'a', None, True, {'k': 'v'}] 0.3333333333333333")
    );
}

#[test]
fn jinja_control() {
    let v = json!({"items_list": ["red", "green", "blue"], "nums": [3, 8, 1, 9], "empty": []});
    assert_eq!(
        r("{% for c in items_list %}{{ loop.index }}/{{ loop.length }}:{{ c }}{% if loop.first %}(first){% endif %}{% if loop.last %}(last){% endif %}[{{ loop.index0 }},{{ loop.revindex }}]{% if not loop.last %} {% endif %}{% endfor %}", v.clone()),
        json!("1/3:red(first)[0,3] 2/3:green[1,2] 3/3:blue(last)[2,1]")
    );
    assert_eq!(
        r(
            "{% for x in empty %}{{ x }}{% else %}nothing here{% endfor %}",
            v.clone()
        ),
        json!("nothing here")
    );
    assert_eq!(
        r(
            "{% for n in nums if n > 2 %}{{ n }}{{ ',' if not loop.last }}{% endfor %}",
            v.clone()
        ),
        json!("3,8,9")
    );
    assert_eq!(r("{% for n in nums if n > 2 %}{% if loop.last %}{{ loop.length }}{% endif %}{% endfor %}", v.clone()), json!(3));
    assert_eq!(r("{% set total = 0 %}{% for n in nums %}{% set total = total + n %}{% endfor %}{{ total }}", v.clone()), json!(0));
    assert_eq!(
        r("{% set ns = namespace(total=0, big=[]) %}{% for n in nums %}{% set ns.total = ns.total + n %}{% if n > 5 %}{% set ns.big = ns.big + [n] %}{% endif %}{% endfor %}{{ ns.total }} {{ ns.big }}", v.clone()),
        json!("21 [8, 9]")
    );
    assert_eq!(r("{% set acc = [] %}{% for n in nums %}{% set _ = acc.append(n * 10) %}{% endfor %}{{ acc }}", v.clone()), json!([30, 80, 10, 90]));
    assert_eq!(
        r("{% macro tag(name, value='none', sep='=') -%}<{{ name }}{{ sep }}{{ value }}>{%- endmacro %}{{ tag('a') }}{{ tag('b', 2) }}{{ tag('c', sep=':', value='x') }}", v.clone()),
        json!("<a=none><b=2><c:x>")
    );
    assert_eq!(
        r(
            "{% for c in items_list %}\n- {{ c }}\n{% endfor %}\nend\n",
            v
        ),
        json!("- red\n- green\n- blue\nend\n")
    );
}

#[test]
fn undefined_messages() {
    let v = json!({"cfg": {"net": {"mtu": 1500}}, "s": "abc", "l": [1, 2]});
    assert_eq!(e("{{ missing.b.c }}", v.clone()), "'missing' is undefined");
    assert_eq!(
        e("{{ cfg.disk.size }}", v.clone()),
        "object of type 'dict' has no attribute 'disk'"
    );
    assert_eq!(
        e("{{ (cfg.net.mtu + extra_mtu) | default('x') }}", v.clone()),
        "'extra_mtu' is undefined"
    );
    assert_eq!(
        e("{% for x in missing %}{% endfor %}", v.clone()),
        "'missing' is undefined"
    );
    assert_eq!(e("{{ missing + 1 }}", v.clone()), "'missing' is undefined");
    assert_eq!(
        e("{{ l[5] }}", v.clone()),
        "object of type 'list' has no attribute 5"
    );
    assert_eq!(
        e("version {{ app_version }}", v.clone()),
        "'app_version' is undefined"
    );
    assert_eq!(
        e("{{ x | mandatory('x must be set') }}", v.clone()),
        "The filter plugin 'ansible.builtin.mandatory' failed: x must be set"
    );
    assert_eq!(
        e("{{ 5 | nofilter }}", v.clone()),
        "Syntax error in template: No filter named 'nofilter'."
    );
    assert_eq!(
        e("{{ 5 is notest }}", v.clone()),
        "Syntax error in template: No test named 'notest'."
    );
}

#[test]
fn defaults_and_chaining() {
    let v = json!({"cfg": {"net": {"mtu": 1500}}, "empty_str": "", "nothing": null, "zero": 0});
    assert_eq!(r("{{ missing.b.c | default('x') }}", v.clone()), json!("x"));
    assert_eq!(r("{{ cfg.net.vlan | default(10) }}", v.clone()), json!(10));
    assert_eq!(
        r("{{ cfg.disk.size | d('no-disk') }}", v.clone()),
        json!("no-disk")
    );
    assert_eq!(
        r("{{ cfg['net']['gw'] | default('none') }}", v.clone()),
        json!("none")
    );
    assert_eq!(
        r("[{{ empty_str | default('fallback') }}]", v.clone()),
        json!("[]")
    );
    assert_eq!(
        r("{{ empty_str | default('fallback', true) }}", v.clone()),
        json!("fallback")
    );
    assert_eq!(
        r("{{ nothing | default('fallback') }}", v.clone()),
        json!(null)
    );
    assert_eq!(
        r("{{ zero | d('fallback', true) }}", v.clone()),
        json!("fallback")
    );
    assert_eq!(
        r(
            "{{ cfg.disk.size is defined }} {{ missing.b is defined }} {{ cfg.net is defined }}",
            v.clone()
        ),
        json!("False False True")
    );
    assert_eq!(
        r("{{ custom | default(omit) }}", v),
        json!(OMIT_PLACEHOLDER)
    );
}

#[test]
fn conditionals() {
    let t = templar();
    let v = vars(
        json!({"maint": true, "weight": 30, "group_names": ["web"], "s": "str", "cfg": {"a": 1}}),
    );
    assert!(t
        .eval_conditional("('web' in group_names and weight > 20) or maint", &v)
        .unwrap());
    assert!(!t.eval_conditional("not maint", &v).unwrap());
    assert!(t.eval_conditional("missing is not defined", &v).unwrap());
    assert!(t.eval_conditional("{{ weight == 30 }}", &v).unwrap());
    let err = t.eval_conditional("other_missing == 'x'", &v).unwrap_err();
    assert_eq!(
        err.message(),
        "Error while evaluating conditional: 'other_missing' is undefined"
    );
    let err = t.eval_conditional("cfg.disk.size == 3", &v).unwrap_err();
    assert_eq!(
        err.message(),
        "Error while evaluating conditional: object of type 'dict' has no attribute 'disk'"
    );
    let err = t.eval_conditional("'some string'", &v).unwrap_err();
    assert_eq!(err.message(), "Conditional result (True) was derived from value of type 'str'. Conditionals must have a boolean result.");
    let mut err = t.eval_conditional("cfg", &v).unwrap_err();
    err.set_conditional_origin("/p.yml:4:10");
    assert_eq!(err.message(), "Conditional result (True) was derived from value of type 'dict' at '/p.yml:4:10'. Conditionals must have a boolean result.");
}
