//! PyYAML's implicit resolvers for plain scalars (YAML 1.1): which text is a bool, an int
//! (octal `0644`, hex, binary, sexagesimal `1:30`, `_` separators), a float or null.

use super::Scalar;

/// Resolves a plain (unquoted) scalar as PyYAML's SafeLoader would.
pub fn resolve_plain(text: &str) -> Scalar {
    match text {
        "" | "~" | "null" | "Null" | "NULL" => return Scalar::Null,
        "yes" | "Yes" | "YES" | "true" | "True" | "TRUE" | "on" | "On" | "ON" => {
            return Scalar::Bool(true)
        }
        "no" | "No" | "NO" | "false" | "False" | "FALSE" | "off" | "Off" | "OFF" => {
            return Scalar::Bool(false)
        }
        _ => {}
    }
    if let Some(i) = resolve_int(text) {
        return i;
    }
    if let Some(f) = resolve_float(text) {
        return Scalar::Float(f);
    }
    Scalar::Str(text.to_string())
}

/// Resolves `!!int`-shaped text, or `None` when it is not an int by PyYAML's regex.
pub fn resolve_int(text: &str) -> Option<Scalar> {
    let (neg, body) = split_sign(text);
    if body.is_empty() {
        return None;
    }
    let digits_ok =
        |s: &str, radix: u32| !s.is_empty() && s.chars().all(|c| c == '_' || c.is_digit(radix));
    let value: i128 = if let Some(b) = body.strip_prefix("0b") {
        if !digits_ok(b, 2) {
            return None;
        }
        parse_radix(b, 2)?
    } else if let Some(h) = body.strip_prefix("0x") {
        if !digits_ok(h, 16) {
            return None;
        }
        parse_radix(h, 16)?
    } else if body == "0" {
        0
    } else if let Some(o) = body.strip_prefix('0') {
        // `0[0-7_]+`: YAML 1.1 octal, so `0644` is 420.
        if !digits_ok(o, 8) {
            return None;
        }
        parse_radix(o, 8)?
    } else if body.contains(':') {
        // Sexagesimal `[1-9][0-9_]*(:[0-5]?[0-9])+`.
        let mut parts = body.split(':');
        let first = parts.next()?;
        if !first.starts_with(|c: char| ('1'..='9').contains(&c)) || !digits_ok(first, 10) {
            return None;
        }
        let mut acc = parse_radix(first, 10)?;
        for p in parts {
            if p.is_empty() || p.len() > 2 || !p.chars().all(|c| c.is_ascii_digit()) {
                return None;
            }
            if p.len() == 2 && p.as_bytes()[0] > b'5' {
                return None;
            }
            acc = acc.checked_mul(60)?.checked_add(p.parse::<i128>().ok()?)?;
        }
        acc
    } else {
        if !body.starts_with(|c: char| ('1'..='9').contains(&c)) || !digits_ok(body, 10) {
            return None;
        }
        parse_radix(body, 10)?
    };
    let value = if neg { -value } else { value };
    match i64::try_from(value) {
        Ok(v) => Some(Scalar::Int(v)),
        // Python ints are unbounded; beyond i64 we keep the nearest float rather than fail.
        Err(_) => Some(Scalar::Float(value as f64)),
    }
}

fn split_sign(text: &str) -> (bool, &str) {
    if let Some(rest) = text.strip_prefix('-') {
        (true, rest)
    } else if let Some(rest) = text.strip_prefix('+') {
        (false, rest)
    } else {
        (false, text)
    }
}

fn parse_radix(digits: &str, radix: u32) -> Option<i128> {
    let clean: String = digits.chars().filter(|&c| c != '_').collect();
    if clean.is_empty() {
        return Some(0);
    }
    i128::from_str_radix(&clean, radix).ok()
}

/// PyYAML's float resolver. Note that YAML 1.1 requires a dot: `1e3` stays a string.
pub fn resolve_float(text: &str) -> Option<f64> {
    match text {
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => return Some(f64::INFINITY),
        "-.inf" | "-.Inf" | "-.INF" => return Some(f64::NEG_INFINITY),
        ".nan" | ".NaN" | ".NAN" => return Some(f64::NAN),
        _ => {}
    }
    let (neg, body) = split_sign(text);
    let sign = if neg { -1.0 } else { 1.0 };
    if body.contains(':') {
        // `[0-9][0-9_]*(:[0-5]?[0-9])+\.[0-9_]*`
        let (int_part, frac) = body.split_once('.')?;
        if !frac.chars().all(|c| c.is_ascii_digit() || c == '_') {
            return None;
        }
        let mut parts = int_part.split(':');
        let first = parts.next()?;
        if first.is_empty() || !first.starts_with(|c: char| c.is_ascii_digit()) {
            return None;
        }
        let mut acc: f64 = first.replace('_', "").parse().ok()?;
        let mut n = 0;
        for p in parts {
            n += 1;
            if p.is_empty() || p.len() > 2 || !p.chars().all(|c| c.is_ascii_digit()) {
                return None;
            }
            if p.len() == 2 && p.as_bytes()[0] > b'5' {
                return None;
            }
            acc = acc * 60.0 + p.parse::<f64>().ok()?;
        }
        if n == 0 {
            return None;
        }
        let frac_clean = frac.replace('_', "");
        let frac_v: f64 = if frac_clean.is_empty() {
            0.0
        } else {
            format!("0.{frac_clean}").parse().ok()?
        };
        return Some(sign * (acc + frac_v));
    }
    // `[0-9][0-9_]*\.[0-9_]*([eE][-+][0-9]+)?` or `\.[0-9_]+([eE][-+][0-9]+)?`
    let (mantissa, exponent) = match body.find(['e', 'E']) {
        Some(i) => (&body[..i], Some(&body[i + 1..])),
        None => (body, None),
    };
    let (ip, fp) = mantissa.split_once('.')?;
    let digits_us = |s: &str| s.chars().all(|c| c.is_ascii_digit() || c == '_');
    if ip.is_empty() {
        if fp.is_empty() || !fp.starts_with(|c: char| c.is_ascii_digit() || c == '_') {
            return None;
        }
    } else if !ip.starts_with(|c: char| c.is_ascii_digit()) {
        return None;
    }
    if !digits_us(ip) || !digits_us(fp) {
        return None;
    }
    if let Some(e) = exponent {
        // PyYAML's 1.1 regex insists on an explicit sign in the exponent.
        let rest = e.strip_prefix(['+', '-'])?;
        if rest.is_empty() || !rest.chars().all(|c| c.is_ascii_digit()) {
            return None;
        }
    }
    let clean: String = body.chars().filter(|&c| c != '_').collect();
    let clean = if clean.starts_with('.') {
        format!("0{clean}")
    } else {
        clean
    };
    clean
        .parse::<f64>()
        .ok()
        .map(|v| if neg { -v.abs() } else { v })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yaml_1_1_booleans_and_nulls() {
        for t in ["yes", "On", "TRUE", "true"] {
            assert_eq!(resolve_plain(t), Scalar::Bool(true), "{t}");
        }
        for t in ["no", "off", "False"] {
            assert_eq!(resolve_plain(t), Scalar::Bool(false), "{t}");
        }
        for t in ["", "~", "null"] {
            assert_eq!(resolve_plain(t), Scalar::Null);
        }
        assert_eq!(resolve_plain("y"), Scalar::Str("y".into()));
        assert_eq!(resolve_plain("tRue"), Scalar::Str("tRue".into()));
    }

    #[test]
    fn ints_in_every_base() {
        assert_eq!(resolve_plain("0644"), Scalar::Int(420));
        assert_eq!(resolve_plain("0x1F"), Scalar::Int(31));
        assert_eq!(resolve_plain("0b101"), Scalar::Int(5));
        assert_eq!(resolve_plain("1_000"), Scalar::Int(1000));
        assert_eq!(resolve_plain("-42"), Scalar::Int(-42));
        assert_eq!(resolve_plain("1:30"), Scalar::Int(90));
        assert_eq!(resolve_plain("0"), Scalar::Int(0));
        assert_eq!(resolve_plain("08"), Scalar::Str("08".into()));
        assert_eq!(resolve_plain("0o17"), Scalar::Str("0o17".into()));
    }

    #[test]
    fn floats_need_a_dot() {
        assert_eq!(resolve_plain("1.5"), Scalar::Float(1.5));
        assert_eq!(resolve_plain("2."), Scalar::Float(2.0));
        assert_eq!(resolve_plain(".5"), Scalar::Float(0.5));
        assert_eq!(resolve_plain("1.0e+3"), Scalar::Float(1000.0));
        assert_eq!(resolve_plain("1e3"), Scalar::Str("1e3".into()));
        assert_eq!(resolve_plain("1.0e3"), Scalar::Str("1.0e3".into()));
        assert_eq!(resolve_plain("-.inf"), Scalar::Float(f64::NEG_INFINITY));
        assert_eq!(resolve_plain("1.2.3"), Scalar::Str("1.2.3".into()));
        assert_eq!(resolve_plain("190:20:30.15"), Scalar::Float(685230.15));
    }
}
