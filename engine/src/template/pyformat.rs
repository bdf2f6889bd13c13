//! Python string formatting: `str.format()` with its format-spec mini-language, and `%`.

use minijinja::value::{Value, ValueKind};
use minijinja::{Error, ErrorKind};

use super::pyrepr::{float_repr, py_repr, py_str};

fn err(msg: impl Into<String>) -> Error {
    Error::new(ErrorKind::InvalidOperation, msg.into())
}

struct Spec {
    fill: char,
    align: Option<char>,
    sign: char,
    alt: bool,
    zero: bool,
    width: usize,
    comma: bool,
    precision: Option<usize>,
    ty: Option<char>,
}

fn parse_spec(spec: &str) -> Spec {
    let chars: Vec<char> = spec.chars().collect();
    let mut i = 0;
    let mut s = Spec {
        fill: ' ',
        align: None,
        sign: '-',
        alt: false,
        zero: false,
        width: 0,
        comma: false,
        precision: None,
        ty: None,
    };
    if chars.len() >= 2 && matches!(chars[1], '<' | '>' | '^' | '=') {
        s.fill = chars[0];
        s.align = Some(chars[1]);
        i = 2;
    } else if !chars.is_empty() && matches!(chars[0], '<' | '>' | '^' | '=') {
        s.align = Some(chars[0]);
        i = 1;
    }
    if i < chars.len() && matches!(chars[i], '+' | '-' | ' ') {
        s.sign = chars[i];
        i += 1;
    }
    if i < chars.len() && chars[i] == '#' {
        s.alt = true;
        i += 1;
    }
    if i < chars.len() && chars[i] == '0' {
        s.zero = true;
        i += 1;
    }
    let mut w = String::new();
    while i < chars.len() && chars[i].is_ascii_digit() {
        w.push(chars[i]);
        i += 1;
    }
    s.width = w.parse().unwrap_or(0);
    if i < chars.len() && (chars[i] == ',' || chars[i] == '_') {
        s.comma = true;
        i += 1;
    }
    if i < chars.len() && chars[i] == '.' {
        i += 1;
        let mut p = String::new();
        while i < chars.len() && chars[i].is_ascii_digit() {
            p.push(chars[i]);
            i += 1;
        }
        s.precision = p.parse().ok();
    }
    if i < chars.len() {
        s.ty = Some(chars[i]);
    }
    s
}

fn group_thousands(digits: &str) -> String {
    let mut out = String::new();
    let n = digits.len();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (n - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn as_f64(v: &Value) -> Option<f64> {
    match v.kind() {
        ValueKind::Number | ValueKind::Bool => f64::try_from(v.clone()).ok(),
        _ => None,
    }
}

/// Format one value by a format spec, as Python's `format(value, spec)`.
pub fn format_value(v: &Value, spec: &str) -> Result<String, Error> {
    let s = parse_spec(spec);
    super::check_text_len(s.width.max(s.precision.unwrap_or(0)))?;
    let is_num = matches!(v.kind(), ValueKind::Number | ValueKind::Bool);
    let (body, numeric) = match s.ty {
        Some('d') | Some('n') => {
            if !v.is_integer() && v.kind() != ValueKind::Bool {
                return Err(err(format!(
                    "Unknown format code 'd' for object of type '{}'",
                    super::pyrepr::py_type_name(v)
                )));
            }
            let i = i128::try_from(v.clone()).unwrap_or(0);
            (i.to_string(), true)
        }
        Some(t @ ('x' | 'X' | 'o' | 'b')) => {
            let i = i128::try_from(v.clone()).map_err(|_| err("integer required"))?;
            let (neg, a) = (i < 0, i.unsigned_abs());
            let mut d = match t {
                'x' => format!("{a:x}"),
                'X' => format!("{a:X}"),
                'o' => format!("{a:o}"),
                _ => format!("{a:b}"),
            };
            if s.alt {
                d = format!("0{}{d}", if t == 'X' { 'X' } else { t });
            }
            (if neg { format!("-{d}") } else { d }, true)
        }
        Some(t @ ('f' | 'F' | 'e' | 'E' | 'g' | 'G' | '%')) => {
            let f = as_f64(v).ok_or_else(|| err("a real number is required"))?;
            let p = s.precision.unwrap_or(6);
            let d = match t {
                'f' | 'F' => format!("{f:.p$}"),
                'e' | 'E' => {
                    let e = format!("{f:.p$e}");
                    let (m, ex) = e.split_once('e').unwrap_or((&e, "0"));
                    let ex: i32 = ex.parse().unwrap_or(0);
                    let out = format!("{m}e{}{:02}", if ex < 0 { '-' } else { '+' }, ex.abs());
                    if t == 'E' {
                        out.to_uppercase()
                    } else {
                        out
                    }
                }
                '%' => format!("{:.p$}%", f * 100.0),
                _ => {
                    let r = float_repr(f);
                    r.trim_end_matches(".0").to_string()
                }
            };
            (d, true)
        }
        Some('s') | None => {
            if is_num && s.ty.is_none() {
                if let Some(p) = s.precision {
                    let f = as_f64(v).unwrap_or(0.0);
                    (format!("{f:.p$}"), true)
                } else {
                    (py_str(v), true)
                }
            } else {
                let mut t = py_str(v);
                if let Some(p) = s.precision {
                    t = t.chars().take(p).collect();
                }
                (t, false)
            }
        }
        Some('r') => (py_repr(v), false),
        Some(c) => return Err(err(format!("Unknown format code '{c}'"))),
    };
    let mut body = body;
    let mut sign = String::new();
    if numeric {
        if let Some(rest) = body.strip_prefix('-') {
            sign.push('-');
            body = rest.to_string();
        } else if s.sign == '+' {
            sign.push('+');
        } else if s.sign == ' ' {
            sign.push(' ');
        }
        if s.comma {
            let (int_part, frac) = match body.find('.') {
                Some(p) => (body[..p].to_string(), body[p..].to_string()),
                None => (body.clone(), String::new()),
            };
            if int_part.chars().all(|c| c.is_ascii_digit()) {
                body = format!("{}{frac}", group_thousands(&int_part));
            }
        }
    }
    let len = sign.chars().count() + body.chars().count();
    if len >= s.width {
        return Ok(format!("{sign}{body}"));
    }
    let pad = s.width - len;
    let (fill, align) = if s.zero && s.align.is_none() {
        ('0', '=')
    } else {
        (s.fill, s.align.unwrap_or(if numeric { '>' } else { '<' }))
    };
    let f = |n: usize| fill.to_string().repeat(n);
    Ok(match align {
        '<' => format!("{sign}{body}{}", f(pad)),
        '^' => format!("{}{sign}{body}{}", f(pad / 2), f(pad - pad / 2)),
        '=' => format!("{sign}{}{body}", f(pad)),
        _ => format!("{}{sign}{body}", f(pad)),
    })
}

/// Python's `str.format(*args, **kwargs)`.
pub fn str_format(fmt: &str, args: &[Value], kwargs: &[(String, Value)]) -> Result<String, Error> {
    let mut out = String::new();
    let chars: Vec<char> = fmt.chars().collect();
    let mut i = 0;
    let mut auto = 0usize;
    while i < chars.len() {
        let c = chars[i];
        if c == '{' {
            if chars.get(i + 1) == Some(&'{') {
                out.push('{');
                i += 2;
                continue;
            }
            let mut j = i + 1;
            let mut depth = 1;
            while j < chars.len() {
                if chars[j] == '{' {
                    depth += 1;
                } else if chars[j] == '}' {
                    depth -= 1;
                    if depth == 0 {
                        break;
                    }
                }
                j += 1;
            }
            if j >= chars.len() {
                return Err(err("Single '{' encountered in format string"));
            }
            let field: String = chars[i + 1..j].iter().collect();
            let (name, spec) = match field.find(':') {
                Some(p) => (&field[..p], &field[p + 1..]),
                None => (field.as_str(), ""),
            };
            let (name, conv) = match name.find('!') {
                Some(p) => (&name[..p], Some(&name[p + 1..])),
                None => (name, None),
            };
            // `name.attr` / `name[key]` accessors
            let base_end = name.find(['.', '[']).unwrap_or(name.len());
            let base = &name[..base_end];
            let mut v = if base.is_empty() {
                let v = args.get(auto).cloned().ok_or_else(|| {
                    err(format!(
                        "Replacement index {auto} out of range for positional args tuple"
                    ))
                })?;
                auto += 1;
                v
            } else if let Ok(idx) = base.parse::<usize>() {
                args.get(idx).cloned().ok_or_else(|| {
                    err(format!(
                        "Replacement index {idx} out of range for positional args tuple"
                    ))
                })?
            } else {
                kwargs
                    .iter()
                    .find(|(k, _)| k == base)
                    .map(|(_, v)| v.clone())
                    .ok_or_else(|| err(format!("'{base}'")))?
            };
            let mut rest = &name[base_end..];
            while !rest.is_empty() {
                if let Some(r) = rest.strip_prefix('.') {
                    let e = r.find(['.', '[']).unwrap_or(r.len());
                    v = v.get_attr(&r[..e])?;
                    rest = &r[e..];
                } else if let Some(r) = rest.strip_prefix('[') {
                    let e = r.find(']').unwrap_or(r.len());
                    let key = &r[..e];
                    v = match key.parse::<i64>() {
                        Ok(i) => v.get_item(&Value::from(i))?,
                        Err(_) => v.get_item(&Value::from(key))?,
                    };
                    rest = r.get(e + 1..).unwrap_or("");
                } else {
                    break;
                }
            }
            let v = match conv {
                Some("r") => Value::from(py_repr(&v)),
                Some("s") => Value::from(py_str(&v)),
                _ => v,
            };
            out.push_str(&format_value(&v, spec)?);
            i = j + 1;
        } else if c == '}' {
            if chars.get(i + 1) == Some(&'}') {
                i += 1;
            }
            out.push('}');
            i += 1;
        } else {
            out.push(c);
            i += 1;
        }
    }
    Ok(out)
}

/// Python's `fmt % args` (`args` a tuple/list, a dict for `%(name)s`, or a single value).
pub fn percent_format(fmt: &str, args: &Value) -> Result<String, Error> {
    let positional: Vec<Value> = match args.kind() {
        ValueKind::Seq => args.try_iter()?.collect(),
        _ => vec![args.clone()],
    };
    let mut next = 0;
    let mut out = String::new();
    let chars: Vec<char> = fmt.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        if chars[i] != '%' {
            out.push(chars[i]);
            i += 1;
            continue;
        }
        i += 1;
        if chars.get(i) == Some(&'%') {
            out.push('%');
            i += 1;
            continue;
        }
        let mut key = None;
        if chars.get(i) == Some(&'(') {
            let close = chars[i..].iter().position(|c| *c == ')').map(|p| p + i);
            let Some(close) = close else {
                return Err(err("incomplete format key"));
            };
            key = Some(chars[i + 1..close].iter().collect::<String>());
            i = close + 1;
        }
        let mut flags = String::new();
        while i < chars.len() && "-+ #0".contains(chars[i]) {
            flags.push(chars[i]);
            i += 1;
        }
        let mut width = String::new();
        while i < chars.len() && chars[i].is_ascii_digit() {
            width.push(chars[i]);
            i += 1;
        }
        let mut prec = None;
        if chars.get(i) == Some(&'.') {
            i += 1;
            let mut p = String::new();
            while i < chars.len() && chars[i].is_ascii_digit() {
                p.push(chars[i]);
                i += 1;
            }
            prec = Some(p);
        }
        let Some(&ty) = chars.get(i) else {
            return Err(err("incomplete format"));
        };
        i += 1;
        let v = match &key {
            Some(k) => args.get_item(&Value::from(k.as_str()))?,
            None => {
                let v = positional
                    .get(next)
                    .cloned()
                    .ok_or_else(|| err("not enough arguments for format string"))?;
                next += 1;
                v
            }
        };
        let align = if flags.contains('-') { "<" } else { "" };
        let zero = if flags.contains('0') && !flags.contains('-') {
            "0"
        } else {
            ""
        };
        let sign = if flags.contains('+') {
            "+"
        } else if flags.contains(' ') {
            " "
        } else {
            ""
        };
        let alt = if flags.contains('#') { "#" } else { "" };
        let precision = prec
            .map(|p| format!(".{}", if p.is_empty() { "0" } else { &p }))
            .unwrap_or_default();
        let spec_ty = match ty {
            'i' | 'u' => "d".to_string(),
            's' | 'r' | 'a' => String::new(),
            c => c.to_string(),
        };
        let v = match ty {
            's' => Value::from(py_str(&v)),
            'r' | 'a' => Value::from(py_repr(&v)),
            'd' | 'i' | 'u' => {
                if v.is_integer() {
                    v
                } else if let Some(f) = as_f64(&v) {
                    Value::from(f.trunc() as i64)
                } else {
                    return Err(err(format!(
                        "%{ty} format: a real number is required, not {}",
                        super::pyrepr::py_type_name(&v)
                    )));
                }
            }
            _ => v,
        };
        let spec = format!("{align}{sign}{alt}{zero}{width}{precision}{spec_ty}");
        out.push_str(&format_value(&v, &spec)?);
    }
    if key_free(&positional, next, args) {
        return Err(err("not all arguments converted during string formatting"));
    }
    Ok(out)
}

fn key_free(positional: &[Value], used: usize, args: &Value) -> bool {
    args.kind() == ValueKind::Seq && used < positional.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format_and_percent() {
        let r = str_format(
            "{name}:{port:05d}",
            &[],
            &[
                ("name".into(), Value::from("svc")),
                ("port".into(), Value::from(80)),
            ],
        )
        .unwrap();
        assert_eq!(r, "svc:00080");
        assert_eq!(
            str_format("{}-{}", &[Value::from("a"), Value::from(3)], &[]).unwrap(),
            "a-3"
        );
        assert_eq!(
            str_format(
                "{:>6.2f}|{:,}",
                &[Value::from(2.71528), Value::from(1234567)],
                &[]
            )
            .unwrap(),
            "  2.72|1,234,567"
        );
        let args = Value::from(vec![Value::from("id"), Value::from(42)]);
        assert_eq!(percent_format("%s=%04d", &args).unwrap(), "id=0042");
        assert_eq!(
            percent_format(
                "%-5s|%.2f|%x",
                &Value::from(vec![Value::from("ab"), Value::from(2.5), Value::from(255)])
            )
            .unwrap(),
            "ab   |2.50|ff"
        );
    }
}
