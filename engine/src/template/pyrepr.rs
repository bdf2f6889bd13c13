//! Python-style printing of values: `str()` and `repr()` as CPython prints them, which is what
//! Ansible shows for values embedded in text (`['a', 'b']`, `True`, `None`, `{'k': 1}`, `1.0`).

use minijinja::value::{Value, ValueKind};

/// Python `repr()` of a float: shortest round-trip digits, exponent form outside 1e-4..1e16.
pub fn float_repr(f: f64) -> String {
    if f.is_nan() {
        return "nan".into();
    }
    if f.is_infinite() {
        return if f > 0.0 { "inf".into() } else { "-inf".into() };
    }
    if f == 0.0 {
        return if f.is_sign_negative() {
            "-0.0".into()
        } else {
            "0.0".into()
        };
    }
    // `{:e}` gives the shortest round-trip digits, e.g. `1.2345e6`.
    let sci = format!("{:e}", f);
    let (mant, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let neg = mant.starts_with('-');
    let digits: String = mant.chars().filter(|c| c.is_ascii_digit()).collect();
    let sign = if neg { "-" } else { "" };
    if (-4..16).contains(&exp) {
        let point = exp + 1; // position of the decimal point within digits
        let s = if point <= 0 {
            format!("0.{}{}", "0".repeat((-point) as usize), digits)
        } else if point as usize >= digits.len() {
            format!("{}{}.0", digits, "0".repeat(point as usize - digits.len()))
        } else {
            format!(
                "{}.{}",
                &digits[..point as usize],
                &digits[point as usize..]
            )
        };
        format!("{sign}{s}")
    } else {
        let m = if digits.len() > 1 {
            format!("{}.{}", &digits[..1], &digits[1..])
        } else {
            digits.clone()
        };
        let esign = if exp < 0 { '-' } else { '+' };
        format!("{sign}{m}e{esign}{:02}", exp.abs())
    }
}

/// Python `repr()` of a string: single quotes unless the text holds `'` and no `"`.
pub fn str_repr(s: &str) -> String {
    let quote = if s.contains('\'') && !s.contains('"') {
        '"'
    } else {
        '\''
    };
    let mut out = String::with_capacity(s.len() + 2);
    out.push(quote);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\x{:02x}", c as u32));
            }
            c if (0x80..0xa0).contains(&(c as u32)) => {
                out.push_str(&format!("\\x{:02x}", c as u32));
            }
            c => out.push(c),
        }
    }
    out.push(quote);
    out
}

/// Python `str()` of a value: strings as they are, everything else as `repr()`.
pub fn py_str(v: &Value) -> String {
    match v.kind() {
        ValueKind::String => v.as_str().unwrap_or_default().to_string(),
        ValueKind::Undefined => String::new(),
        _ => py_repr(v),
    }
}

/// Python `repr()` of a value.
pub fn py_repr(v: &Value) -> String {
    let mut out = String::new();
    write_repr(v, &mut out, 0);
    out
}

fn write_repr(v: &Value, out: &mut String, depth: usize) {
    if depth > 200 {
        out.push_str("...");
        return;
    }
    // Past the text budget the render fails (its frame carries the error); stop writing.
    if out.len() > super::MAX_TEXT_BYTES {
        super::undefined::record_fatal(super::too_large());
        return;
    }
    match v.kind() {
        ValueKind::Undefined | ValueKind::None => out.push_str("None"),
        ValueKind::Bool => out.push_str(if v.is_true() { "True" } else { "False" }),
        ValueKind::Number => {
            if v.is_integer() {
                out.push_str(&v.to_string());
            } else {
                let f: f64 = f64::try_from(v.clone()).unwrap_or(f64::NAN);
                out.push_str(&float_repr(f));
            }
        }
        ValueKind::String => out.push_str(&str_repr(v.as_str().unwrap_or_default())),
        ValueKind::Bytes => out.push_str(&format!("b{}", str_repr(&v.to_string()))),
        ValueKind::Seq | ValueKind::Iterable => {
            out.push('[');
            if let Ok(iter) = v.try_iter() {
                for (i, item) in iter.enumerate() {
                    if out.len() > super::MAX_TEXT_BYTES {
                        break;
                    }
                    if i > 0 {
                        out.push_str(", ");
                    }
                    write_repr(&item, out, depth + 1);
                }
            }
            out.push(']');
        }
        ValueKind::Map => {
            out.push('{');
            if let Ok(iter) = v.try_iter() {
                for (i, key) in iter.enumerate() {
                    if out.len() > super::MAX_TEXT_BYTES {
                        break;
                    }
                    if i > 0 {
                        out.push_str(", ");
                    }
                    write_repr(&key, out, depth + 1);
                    out.push_str(": ");
                    let item = v.get_item(&key).unwrap_or_default();
                    write_repr(&item, out, depth + 1);
                }
            }
            out.push('}');
        }
        _ => out.push_str(&v.to_string()),
    }
}

/// Python `repr()` of a JSON value (used for messages about plain data).
pub fn json_repr(v: &serde_json::Value) -> String {
    py_repr(&crate::template::convert::to_mj_static(v))
}

/// Python type name of a value (`type_debug`): str, int, float, bool, NoneType, list, dict.
pub fn py_type_name(v: &Value) -> &'static str {
    match v.kind() {
        ValueKind::Undefined => "AnsibleUndefined",
        ValueKind::None => "NoneType",
        ValueKind::Bool => "bool",
        ValueKind::Number => {
            if v.is_integer() {
                "int"
            } else {
                "float"
            }
        }
        ValueKind::String => "str",
        ValueKind::Bytes => "bytes",
        ValueKind::Seq => {
            if v.downcast_object_ref::<super::mutable::Tuple>().is_some() {
                "tuple"
            } else {
                "list"
            }
        }
        ValueKind::Map => "dict",
        ValueKind::Iterable => "generator",
        _ => "object",
    }
}

/// Python truthiness (what `bool(x)` gives), used in messages like `Conditional result (True)`.
pub fn py_truthy(v: &Value) -> bool {
    match v.kind() {
        ValueKind::Seq | ValueKind::Map => v.len().map(|l| l > 0).unwrap_or(true),
        _ => v.is_true(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_print_as_python() {
        assert_eq!(float_repr(1.0), "1.0");
        assert_eq!(float_repr(2.5), "2.5");
        assert_eq!(float_repr(1e20), "1e+20");
        assert_eq!(float_repr(1.0 / 3.0), "0.3333333333333333");
        assert_eq!(float_repr(0.0001), "0.0001");
        assert_eq!(float_repr(0.00001), "1e-05");
        assert_eq!(float_repr(123456789012345678.0), "1.2345678901234568e+17");
        assert_eq!(float_repr(-7.25), "-7.25");
        assert_eq!(float_repr(1e15), "1000000000000000.0");
        assert_eq!(float_repr(1e16), "1e+16");
    }

    #[test]
    fn containers_print_as_python() {
        let v =
            Value::from_serialize(serde_json::json!([1.0, "a", null, true, {"k": "v"}, "it's"]));
        assert_eq!(py_repr(&v), "[1.0, 'a', None, True, {'k': 'v'}, \"it's\"]");
        assert_eq!(py_str(&Value::from("x")), "x");
        assert_eq!(str_repr("a\nb"), "'a\\nb'");
    }
}
