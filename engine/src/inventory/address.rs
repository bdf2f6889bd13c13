//! Host addresses and ranges: `ansible.parsing.utils.addresses.parse_address` and
//! `ansible.plugins.inventory.expand_hostname_range`, message for message.

use regex::Regex;
use std::sync::LazyLock;

const NUMERIC_RANGE: &str = r"\[(?:[0-9]+:[0-9]+)(?::[0-9]+)?\]";
const HEX_RANGE: &str = r"\[(?:[0-9a-f]+:[0-9a-f]+)(?::[0-9]+)?\]";
const ALNUM_RANGE: &str = r"\[(?:[a-z]:[a-z]|[0-9]+:[0-9]+)(?::[0-9]+)?\]";

static BRACKETED_HOSTPORT: LazyLock<Regex> = LazyLock::new(|| re(r"^\[(.+)\]:([0-9]+)$"));
static HOSTPORT: LazyLock<Regex> = LazyLock::new(|| re(r"^((?:[^:\[\]]|\[[^\]]*\])*):([0-9]+)$"));
static IPV4: LazyLock<Regex> = LazyLock::new(|| {
    let c = format!(r"(?:[01]?[0-9]{{1,2}}|2[0-4][0-9]|25[0-5]|{NUMERIC_RANGE})");
    re(&format!(r"(?i)^(?:{c}\.){{3}}{c}$"))
});
static IPV6: LazyLock<Regex> = LazyLock::new(|| {
    let c = format!(r"(?:[0-9a-f]{{1,4}}|{HEX_RANGE})");
    let alts = [
        format!("(?:{c}:){{7}}{c}"),
        format!("(?:{c}:){{1,6}}:"),
        format!("(?:{c}:)(?::{c}){{1,6}}"),
        format!("(?:{c}:){{2}}(?::{c}){{1,5}}"),
        format!("(?:{c}:){{3}}(?::{c}){{1,4}}"),
        format!("(?:{c}:){{4}}(?::{c}){{1,3}}"),
        format!("(?:{c}:){{5}}(?::{c}){{1,2}}"),
        format!("(?:{c}:){{6}}(?::{c})"),
        format!(":(?::{c}){{1,6}}"),
        format!("{c}?::"),
        format!(r"(?:0:){{6}}(?:{c}\.){{3}}{c}"),
        format!(r"::(?:ffff:)?(?:{c}\.){{3}}{c}"),
        format!(r"(?:0:){{5}}ffff:(?:{c}\.){{3}}{c}"),
    ];
    re(&format!("(?i)^(?:{})$", alts.join("|")))
});
/// One hostname label without Python's trailing `(?<![_-])`, which `is_hostname` checks by hand.
static HOSTNAME: LazyLock<Regex> = LazyLock::new(|| {
    let label = format!(r"(?:\w|{ALNUM_RANGE})(?:[\w-]|{ALNUM_RANGE})*");
    re(&format!(r"(?i)^{label}(?:\.{label})*$"))
});

fn re(s: &str) -> Regex {
    // The expressions are constants of this file; a failure is a programming error caught by tests.
    Regex::new(s).expect("constant regex")
}

fn is_hostname(s: &str) -> bool {
    HOSTNAME.is_match(s) && s.split('.').all(|l| !l.ends_with('_') && !l.ends_with('-'))
}

/// `parse_address(address, allow_ranges)`: `(host, port)` or Ansible's error text.
pub fn parse_address(address: &str, allow_ranges: bool) -> Result<(String, Option<i64>), String> {
    let mut address = address.to_string();
    let mut port = None;
    // Python tries both expressions in turn without stopping at the first match.
    for pat in [&*BRACKETED_HOSTPORT, &*HOSTPORT] {
        if !address.contains(':') {
            break;
        }
        if let Some(c) = pat.captures(&address) {
            let (a, p) = (c[1].to_string(), c[2].to_string());
            port = Some(p.parse::<i64>().unwrap_or(i64::MAX));
            address = a;
        }
    }
    // Any of the three shapes makes it a host; try the cheap, common one first and skip the
    // big IPv6 expression for text without a colon.
    let is_host = is_hostname(&address)
        || (address.starts_with(|c: char| c.is_ascii_digit() || c == '[')
            && IPV4.is_match(&address))
        || (address.contains(':') && IPV6.is_match(&address));
    if !is_host {
        return Err(format!("Not a valid network hostname: {address}"));
    }
    if !allow_ranges && address.contains('[') {
        return Err("Detected range in host but was asked to ignore ranges".into());
    }
    Ok((address, port))
}

/// Python's `int(text)` for range bounds.
fn py_int(s: &str) -> Result<i64, String> {
    let t = s.trim();
    let err = || format!("invalid literal for int() with base 10: '{s}'");
    let (neg, digits) = match t.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, t.strip_prefix('+').unwrap_or(t)),
    };
    if digits.is_empty()
        || digits.starts_with('_')
        || digits.ends_with('_')
        || digits.contains("__")
    {
        return Err(err());
    }
    if !digits.chars().all(|c| c.is_ascii_digit() || c == '_') {
        return Err(err());
    }
    let v: i64 = digits.replace('_', "").parse().map_err(|_| err())?;
    Ok(if neg { -v } else { v })
}

fn zfill(s: &str, width: usize) -> String {
    let n = s.chars().count();
    if n >= width {
        return s.to_string();
    }
    let pad = "0".repeat(width - n);
    match s.strip_prefix(['-', '+']) {
        Some(rest) => format!("{}{}{}", &s[..1], pad, rest),
        None => format!("{pad}{s}"),
    }
}

const LETTERS: &str = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
/// Refuse expansions beyond this many names rather than exhaust memory on a typo: real
/// Ansible would try and run out of memory. No range can give more hosts than an inventory
/// may hold, so the bound is the inventory's.
const MAX_EXPANSION: usize = super::model::MAX_HOSTS;
/// The same bound in bytes of names: a long line with several ranges multiplies its length
/// by their product long before the count bound is reached.
const MAX_EXPANSION_BYTES: usize = 64 << 20;

/// `expand_hostname_range(line)`: every name a `[a:b(:step)]` pattern stands for.
pub fn expand_hostname_range(line: &str) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    let mut bytes = 0;
    expand_into(line, line, &mut out, &mut bytes)?;
    Ok(out)
}

/// `whole` is the pattern as written, named in the bound's error; `line` is what is left of
/// it to expand at this depth.
fn expand_into(
    whole: &str,
    line: &str,
    out: &mut Vec<String>,
    bytes: &mut usize,
) -> Result<(), String> {
    if line.is_empty() {
        return Ok(());
    }
    let replaced = line.replacen('[', "|", 1).replacen(']', "|", 1);
    let parts: Vec<&str> = replaced.split('|').collect();
    if parts.len() < 3 {
        return Err(format!(
            "not enough values to unpack (expected 3, got {})",
            parts.len()
        ));
    }
    if parts.len() > 3 {
        return Err("too many values to unpack (expected 3)".into());
    }
    let (head, nrange, tail) = (parts[0], parts[1], parts[2]);
    let bounds: Vec<&str> = nrange.split(':').collect();
    if bounds.len() != 2 && bounds.len() != 3 {
        return Err("host range must be begin:end or begin:end:step".into());
    }
    let beg = if bounds[0].is_empty() { "0" } else { bounds[0] };
    let end = bounds[1];
    let step = if bounds.len() == 3 { bounds[2] } else { "1" };
    if end.is_empty() {
        return Err("host range must specify end value".into());
    }
    let width = if beg.starts_with('0') && beg.len() > 1 {
        if beg.chars().count() != end.chars().count() {
            return Err("host range must specify equal-length begin and end formats".into());
        }
        Some(beg.chars().count())
    } else {
        None
    };
    let fill = |x: String| match width {
        Some(w) => zfill(&x, w),
        None => x,
    };
    let mut seq: Vec<String> = Vec::new();
    let alpha = match (LETTERS.find(beg), LETTERS.find(end)) {
        (Some(b), Some(e)) => {
            if b > e {
                return Err("host range must have begin <= end".into());
            }
            match py_int(step) {
                Ok(0) | Err(_) => false,
                Ok(st) => {
                    let letters: Vec<char> = LETTERS.chars().collect();
                    let hi = (e + 1).min(letters.len());
                    if st > 0 {
                        seq = letters[b..hi]
                            .iter()
                            .step_by(st as usize)
                            .map(|c| c.to_string())
                            .collect();
                    }
                    true
                }
            }
        }
        _ => false,
    };
    if !alpha {
        let (b, e, st) = (py_int(beg)?, py_int(end)?, py_int(step)?);
        if st == 0 {
            return Err("range() arg 3 must not be zero".into());
        }
        // i128: bounds are Python ints; no i64 arithmetic on them may overflow.
        let (b, st, stop) = (b as i128, st as i128, e as i128 + 1);
        let count = if st > 0 && stop > b {
            (stop - b - 1) / st + 1
        } else if st < 0 && stop < b {
            (b - stop - 1) / (-st) + 1
        } else {
            0
        };
        if count > MAX_EXPANSION as i128 {
            return Err(format!(
                "host range [{nrange}] expands to more than {MAX_EXPANSION} hosts (fleetsim's limit)"
            ));
        }
        let mut x = b;
        for _ in 0..count {
            seq.push(x.to_string());
            x += st;
        }
    }
    for r in seq {
        let name = format!("{head}{}{tail}", fill(r));
        if name.contains('[') {
            expand_into(whole, &name, out, bytes)?;
        } else {
            *bytes += name.len();
            out.push(name);
        }
        if out.len() > MAX_EXPANSION || *bytes > MAX_EXPANSION_BYTES {
            return Err(format!(
                "host range in '{whole}' expands to more than {MAX_EXPANSION} hosts or {} MiB of \
                 names (fleetsim's limit)",
                MAX_EXPANSION_BYTES >> 20
            ));
        }
    }
    Ok(())
}

/// `BaseInventoryPlugin._expand_hostpattern`: names and optional port of one host entry.
pub fn expand_hostpattern(pattern: &str) -> Result<(Vec<String>, Option<i64>), String> {
    let (p, port) = parse_address(pattern, true).unwrap_or_else(|_| (pattern.to_string(), None));
    if p.contains('[') {
        Ok((expand_hostname_range(&p)?, port))
    } else {
        Ok((vec![p], port))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses() {
        assert_eq!(
            parse_address("db1.example.com:5309", true).unwrap(),
            ("db1.example.com".into(), Some(5309))
        );
        assert_eq!(
            parse_address("[::1]:22", true).unwrap(),
            ("::1".into(), Some(22))
        );
        assert_eq!(
            parse_address("fe80::1", true).unwrap(),
            ("fe80::1".into(), None)
        );
        assert_eq!(
            parse_address("web[01:03].x", true).unwrap().0,
            "web[01:03].x"
        );
        assert!(parse_address("g1:g2", true).is_err());
        assert!(parse_address("bad-", true).is_err());
        assert!(parse_address("g3[0]", true).is_err());
        assert!(parse_address("web[1:2]", false).is_err());
    }

    #[test]
    fn ranges() {
        assert_eq!(
            expand_hostname_range("web[01:04:2].x").unwrap(),
            vec!["web01.x", "web03.x"]
        );
        assert_eq!(
            expand_hostname_range("db-[a:c]").unwrap(),
            vec!["db-a", "db-b", "db-c"]
        );
        assert_eq!(
            expand_hostname_range("h[1:2]-[a:b]").unwrap(),
            vec!["h1-a", "h1-b", "h2-a", "h2-b"]
        );
        assert_eq!(
            expand_hostname_range("h[:2]").unwrap(),
            vec!["h0", "h1", "h2"]
        );
        assert_eq!(
            expand_hostname_range("web[1:3").unwrap_err(),
            "not enough values to unpack (expected 3, got 2)"
        );
        assert!(expand_hostname_range("h[01:100]").is_err());
        assert!(expand_hostname_range("h[c:a]").is_err());
        assert!(expand_hostname_range("h[-9223372036854775808:9223372036854775807]").is_err());
        assert_eq!(
            expand_hostname_range("h[9223372036854775807:9223372036854775807]")
                .unwrap()
                .len(),
            1
        );
    }
}
