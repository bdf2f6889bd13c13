//! Property tests: the source parsers never panic, and host patterns agree with a plain
//! set model of union, intersection, exclusion and slices.

use super::model::InventoryData;
use super::{ini, yaml_source, Inventory};
use proptest::prelude::*;
use std::collections::HashSet;

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn ini_parser_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        let mut d = InventoryData::new();
        if let Ok(text) = ini::decode(&bytes) {
            let _ = ini::parse(&mut d, &text);
        }
        d.reconcile();
    }

    #[test]
    fn ini_parser_never_panics_on_inventory_like_text(
        lines in proptest::collection::vec("[\\[\\]a-c0-9:=,'\" #;!\\-\\.]{0,16}", 0..20)
    ) {
        let mut d = InventoryData::new();
        let _ = ini::parse(&mut d, &lines.join("\n"));
        d.reconcile();
    }

    #[test]
    fn yaml_parser_never_panics(text in "[a-z0-9:\\-\\[\\]{},\\n '\"#&*!|>]{0,200}") {
        let mut d = InventoryData::new();
        if let Ok(node) = crate::yaml::load(&text, std::path::Path::new("p.yml")) {
            let _ = yaml_source::parse(&mut d, &node);
        }
        d.reconcile();
    }

    #[test]
    fn yaml_inventory_shapes_never_panic(
        groups in proptest::collection::vec(("[a-d]", proptest::option::of("[a-d]"), proptest::collection::vec("h[0-5]", 0..4)), 0..6)
    ) {
        let mut text = String::from("all:\n  children:\n");
        for (g, child, hosts) in &groups {
            text.push_str(&format!("    {g}:\n      hosts:\n"));
            for h in hosts {
                text.push_str(&format!("        {h}:\n"));
            }
            if let Some(c) = child {
                text.push_str(&format!("      children:\n        {c}:\n"));
            }
        }
        let mut d = InventoryData::new();
        if let Ok(node) = crate::yaml::load(&text, std::path::Path::new("p.yml")) {
            let _ = yaml_source::parse(&mut d, &node);
        }
        d.reconcile();
    }

    #[test]
    fn any_pattern_resolves_without_panic(pattern in "[a-c0-9:&!,~*?\\[\\]\\-\\.()|^$+{}]{0,24}") {
        let mut d = InventoryData::new();
        let _ = ini::parse(&mut d, "a1\n[b]\nb1\nb2\n[c:children]\nb\n");
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("inv.ini");
        std::fs::write(&path, "a1\n[b]\nb1\nb2\n[c:children]\nb\n").unwrap();
        let (inv, _) = Inventory::load(&[&path]).unwrap();
        let _ = inv.resolve(&pattern);
        let _ = super::address::expand_hostpattern(&pattern);
    }

    #[test]
    fn patterns_agree_with_set_model(
        membership in proptest::collection::vec(proptest::collection::vec(0usize..12, 0..8), 1..5),
        ops in proptest::collection::vec((0usize..3, 0usize..5, proptest::option::of((0i64..4, proptest::option::of(0i64..5)))), 1..4),
        sep in prop_oneof![Just(":"), Just(",")],
    ) {
        // Flat groups g0..gN listing hosts hNN in a given order.
        let mut text = String::new();
        for (gi, hosts) in membership.iter().enumerate() {
            text.push_str(&format!("[g{gi}]\n"));
            for h in hosts {
                text.push_str(&format!("h{h:02}\n"));
            }
        }
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("inv.ini");
        std::fs::write(&path, &text).unwrap();
        let (inv, _) = Inventory::load(&[&path]).unwrap();

        let group_list = |g: usize| -> Vec<String> {
            let mut seen = HashSet::new();
            membership.get(g).map(|hs| hs.iter().map(|h| format!("h{h:02}")).filter(|h| seen.insert(h.clone())).collect()).unwrap_or_default()
        };
        let slice = |v: Vec<String>, s: Option<(i64, Option<i64>)>| -> Vec<String> {
            match s {
                None => v,
                Some(_) if v.is_empty() => v,
                Some((start, None)) => v.get(start as usize).cloned().into_iter().collect(),
                Some((start, Some(0))) => v.get(start as usize).cloned().into_iter().collect(),
                Some((start, Some(end))) => v.iter().skip(start as usize).take((end - start + 1).max(0) as usize).cloned().collect(),
            }
        };
        let mut parts = Vec::new();
        let (mut regular, mut inter, mut excl) = (Vec::new(), Vec::new(), Vec::new());
        let mut out_of_range = false;
        for (i, (kind, g, s)) in ops.iter().enumerate() {
            let kind = if i == 0 { 0 } else { *kind };
            let g = g % membership.len();
            let sub = match s {
                None => String::new(),
                Some((a, None)) => format!("[{a}]"),
                Some((a, Some(b))) => format!("[{a}:{b}]"),
            };
            parts.push(format!("{}g{g}{sub}", ["", "&", "!"][kind]));
            let list = group_list(g);
            if let Some((a, e)) = s {
                if !list.is_empty() && (e.is_none() || *e == Some(0)) && *a as usize >= list.len() {
                    out_of_range = true;
                }
            }
            let hosts = slice(list, *s);
            [&mut regular, &mut inter, &mut excl][kind].push(hosts);
        }
        let res = inv.resolve(&parts.join(sep));
        if out_of_range {
            prop_assert!(res.is_err());
            return Ok(());
        }
        let mut want: Vec<String> = Vec::new();
        for r in regular {
            for h in r {
                if !want.contains(&h) {
                    want.push(h);
                }
            }
        }
        for i in inter {
            want.retain(|h| i.contains(h));
        }
        for e in excl {
            want.retain(|h| !e.contains(h));
        }
        prop_assert_eq!(res.unwrap().hosts, want, "pattern {}", parts.join(sep));
    }
}
