//! The `csvfile` and `ini` lookups: a value from a CSV or INI file of the controller, found
//! in the `files/` search path and read through the lookup host (`LookupHost::find_file`,
//! `LookupHost::read_file`), as ansible-core's `csvfile.py` and `ini.py` read them.

use std::collections::BTreeMap;

use indexmap::IndexMap;

/// Python's `csv.reader` with the excel dialect and `delimiter`: quoted fields (`""` is a
/// quote), quoted line breaks kept, rows split on `\n` or `\r\n`.
pub fn csv_rows(text: &str, delimiter: char) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    let mut row: Vec<String> = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut in_quotes = false;
    let mut started = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if in_quotes {
            if c == '"' {
                if chars.peek() == Some(&'"') {
                    chars.next();
                    field.push('"');
                } else {
                    in_quotes = false;
                }
            } else {
                field.push(c);
            }
            continue;
        }
        match c {
            '"' if field.is_empty() && !quoted => {
                in_quotes = true;
                quoted = true;
                started = true;
            }
            c if c == delimiter => {
                row.push(std::mem::take(&mut field));
                quoted = false;
                started = true;
            }
            '\r' if chars.peek() == Some(&'\n') => {}
            '\n' | '\r' => {
                if started || !field.is_empty() {
                    row.push(std::mem::take(&mut field));
                }
                rows.push(std::mem::take(&mut row));
                quoted = false;
                started = false;
            }
            c => {
                field.push(c);
                started = true;
            }
        }
    }
    if started || !field.is_empty() || !row.is_empty() {
        row.push(field);
        rows.push(row);
    }
    rows
}

/// An INI file as Python's `configparser.ConfigParser` reads it (no inline comments,
/// `=` or `:` delimiters, indented continuation lines, a DEFAULT section inherited by all).
#[derive(Default)]
pub struct Ini {
    pub defaults: IndexMap<String, Option<String>>,
    pub sections: IndexMap<String, IndexMap<String, Option<String>>>,
}

/// How [`Ini::parse`] reads option names and bare keys.
pub struct IniOptions {
    pub case_sensitive: bool,
    pub allow_no_value: bool,
}

impl Ini {
    /// Adds `text` to what was read (ansible-core reads every term's file into one parser).
    pub fn parse(&mut self, text: &str, file: &str, opts: &IniOptions) -> Result<(), String> {
        let mut section: Option<String> = None;
        let mut last: Option<(usize, String)> = None;
        let mut seen: BTreeMap<(String, String), ()> = BTreeMap::new();
        for (lineno, raw) in text.lines().enumerate() {
            let trimmed = raw.trim();
            let indent = raw.len() - raw.trim_start().len();
            if trimmed.is_empty() || trimmed.starts_with('#') || trimmed.starts_with(';') {
                continue;
            }
            if let Some((cur_indent, key)) = &last {
                if indent > *cur_indent {
                    let map = match &section {
                        Some(s) if s != "DEFAULT" => self.sections.get_mut(s),
                        _ => Some(&mut self.defaults),
                    };
                    if let Some(Some(v)) = map.and_then(|m| m.get_mut(key)) {
                        v.push('\n');
                        v.push_str(trimmed);
                    }
                    continue;
                }
            }
            if trimmed.starts_with('[') && trimmed.ends_with(']') {
                let name = trimmed[1..trimmed.len() - 1].to_string();
                if name != "DEFAULT" {
                    self.sections.entry(name.clone()).or_default();
                }
                section = Some(name);
                last = None;
                continue;
            }
            let Some(sec) = section.clone() else {
                return Err(format!(
                    "File contains no section headers.\nfile: '<???>', line: {}\n{}",
                    lineno + 1,
                    crate::template::pyrepr::str_repr(&format!("{raw}\n"))
                ));
            };
            let split = trimmed.find(['=', ':']);
            let (key, value) = match split {
                Some(i) => (
                    trimmed[..i].trim().to_string(),
                    Some(trimmed[i + 1..].trim().to_string()),
                ),
                None if opts.allow_no_value => (trimmed.to_string(), None),
                None => {
                    return Err(format!(
                        "Source contains parsing errors: '<???>'\n\t[line {:>2}]: {}",
                        lineno + 1,
                        crate::template::pyrepr::str_repr(&format!("{raw}\n"))
                    ))
                }
            };
            let key = if opts.case_sensitive {
                key
            } else {
                key.to_lowercase()
            };
            if seen.insert((sec.clone(), key.clone()), ()).is_some() {
                return Err(format!(
                    "Duplicate option in {}.",
                    crate::template::pyrepr::str_repr(file)
                ));
            }
            let map = if sec == "DEFAULT" {
                &mut self.defaults
            } else {
                self.sections.entry(sec.clone()).or_default()
            };
            map.insert(key.clone(), value);
            last = Some((indent, key));
        }
        Ok(())
    }

    /// The section's options with the DEFAULT ones (`items(section)`), raw.
    fn items(&self, section: &str) -> Option<IndexMap<String, Option<String>>> {
        let own = if section == "DEFAULT" {
            IndexMap::new()
        } else {
            self.sections.get(section)?.clone()
        };
        let mut all = self.defaults.clone();
        for (k, v) in own {
            all.insert(k, v);
        }
        Some(all)
    }

    /// `BasicInterpolation`: `%%` is `%`, `%(name)s` the (interpolated) option `name`.
    fn interpolate(
        all: &IndexMap<String, Option<String>>,
        value: &str,
        depth: usize,
    ) -> Result<String, String> {
        if depth > 10 {
            return Err("Recursion limit exceeded in value substitution".into());
        }
        let mut out = String::new();
        let mut rest = value;
        while let Some(i) = rest.find('%') {
            out.push_str(&rest[..i]);
            let after = &rest[i + 1..];
            if let Some(r) = after.strip_prefix('%') {
                out.push('%');
                rest = r;
            } else if let Some(r) = after.strip_prefix('(') {
                let Some(end) = r.find(")s") else {
                    return Err(format!(
                        "bad interpolation variable reference {}",
                        crate::template::pyrepr::str_repr(rest)
                    ));
                };
                let name = r[..end].to_lowercase();
                match all.get(&name) {
                    Some(Some(v)) => out.push_str(&Self::interpolate(all, v, depth + 1)?),
                    _ => {
                        return Err(format!(
                            "Bad value substitution: option {} references an option that does not exist: {}",
                            crate::template::pyrepr::str_repr(&name),
                            crate::template::pyrepr::str_repr(&name)
                        ))
                    }
                }
                rest = &r[end + 2..];
            } else {
                return Err(format!(
                    "'%' must be followed by '%' or '(', found: {}",
                    crate::template::pyrepr::str_repr(&format!("%{after}"))
                ));
            }
        }
        out.push_str(rest);
        Ok(out)
    }

    /// The value(s) for `key` in `section`: one value (None when the key has no value),
    /// `default` when the key is missing, or with `regex` every value whose key matches.
    pub fn get(
        &self,
        section: &str,
        key: &str,
        regex: Option<&fancy_regex::Regex>,
        interpolation: bool,
        case_sensitive: bool,
    ) -> Result<Option<Vec<Option<String>>>, String> {
        let Some(all) = self.items(section) else {
            return Err(String::new());
        };
        let resolve = |v: &Option<String>| -> Result<Option<String>, String> {
            match v {
                Some(s) if interpolation => Self::interpolate(&all, s, 0).map(Some),
                other => Ok(other.clone()),
            }
        };
        if let Some(re) = regex {
            let mut out = Vec::new();
            for (k, v) in &all {
                if re.find(k).ok().flatten().is_some_and(|m| m.start() == 0) {
                    out.push(resolve(v)?);
                }
            }
            return Ok(Some(out));
        }
        let key = if case_sensitive {
            key.to_string()
        } else {
            key.to_lowercase()
        };
        match all.get(&key) {
            Some(v) => Ok(Some(vec![resolve(v)?])),
            None => Ok(None),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_as_python_reads_it() {
        let rows = csv_rows("a,b\n\"x, y\",\"say \"\"hi\"\"\"\r\nlast,\n", ',');
        assert_eq!(
            rows,
            vec![
                vec!["a".to_string(), "b".into()],
                vec!["x, y".into(), "say \"hi\"".into()],
                vec!["last".into(), "".into()],
            ]
        );
    }

    #[test]
    fn ini_sections_defaults_and_interpolation() {
        let mut ini = Ini::default();
        let opts = IniOptions {
            case_sensitive: false,
            allow_no_value: false,
        };
        ini.parse(
            "[DEFAULT]\nroot = /srv\n[app]\nUser = web\npath: %(root)s/app\nmulti = a\n  b\n",
            "x.ini",
            &opts,
        )
        .unwrap();
        let one = |k: &str| ini.get("app", k, None, true, false).unwrap();
        assert_eq!(one("user"), Some(vec![Some("web".into())]));
        assert_eq!(one("path"), Some(vec![Some("/srv/app".into())]));
        assert_eq!(one("multi"), Some(vec![Some("a\nb".into())]));
        assert_eq!(one("nope"), None);
        assert!(ini.get("other", "x", None, true, false).is_err());
    }
}
