//! Host patterns (`hosts:`, `--limit`): the input's first line is a limit, the rest one
//! pattern per line, resolved against a small fixed inventory with ranges, children and
//! IPv6 names.
#![no_main]

use std::sync::OnceLock;

use fleetsim_engine::inventory::Inventory;
use libfuzzer_sys::fuzz_target;

const INVENTORY: &str = "\
web[01:05].example.com
[db]
db-a ansible_host=10.0.0.1
db-b
[lb]
lb-[a:c]
2001:db8::1
[app:children]
db
lb
[prod:children]
app
";

fn inventory() -> &'static Inventory {
    static INV: OnceLock<Inventory> = OnceLock::new();
    INV.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("fleetsim-fuzz-patterns-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("inventory.ini");
        std::fs::write(&path, INVENTORY).unwrap();
        Inventory::load(&[path]).unwrap().0
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let mut lines = text.lines();
    let limit = lines.next();
    let mut inv = inventory().clone();
    let _ = inv.set_limit(limit);
    for pattern in lines {
        let _ = inv.resolve(pattern);
        let _ = inv.resolve_ignoring_limit(pattern);
    }
});
