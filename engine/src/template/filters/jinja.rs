//! Jinja's builtin filters that minijinja lacks or shapes differently, as Jinja 3.1 (the one
//! ansible-core ships with) and MarkupSafe compute them: `escape`, `forceescape`, `striptags`,
//! `urlize`, `wordwrap`, `xmlattr`, `filesizeformat`, `urlencode`, and Ansible's `urldecode`.

use minijinja::value::{Value, ValueKind};
use minijinja::Environment;

use super::{add, defined, err, Args};
use crate::template::pyrepr::{py_str, str_repr};

/// MarkupSafe's `escape` of text.
pub(crate) fn html_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\'' => out.push_str("&#39;"),
            '"' => out.push_str("&#34;"),
            _ => out.push(c),
        }
    }
    out
}

/// `html.unescape` for the entities MarkupSafe's own escaping produces, the common named
/// ones and numeric references.
fn html_unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(p) = rest.find('&') {
        out.push_str(&rest[..p]);
        rest = &rest[p..];
        let end = rest[1..]
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '#'))
            .map(|e| e + 1)
            .unwrap_or(rest.len());
        let name = &rest[1..end];
        let decoded = match name {
            "amp" => Some('&'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            "nbsp" => Some('\u{a0}'),
            _ => name.strip_prefix('#').and_then(|n| {
                let code = match n.strip_prefix(['x', 'X']) {
                    Some(h) => u32::from_str_radix(h, 16).ok(),
                    None => n.parse().ok(),
                };
                code.and_then(char::from_u32)
            }),
        };
        match decoded {
            Some(c) => {
                out.push(c);
                let after = &rest[end..];
                rest = after.strip_prefix(';').unwrap_or(after);
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// MarkupSafe's `Markup.striptags`: comments, then tags, removed; whitespace collapsed;
/// entities decoded.
fn striptags(s: &str) -> String {
    let mut value = s.to_string();
    while let Some(start) = value.find("<!--") {
        let Some(end) = value[start..].find("-->").map(|e| e + start) else {
            break;
        };
        value = format!("{}{}", &value[..start], &value[end + 3..]);
    }
    while let Some(start) = value.find('<') {
        let Some(end) = value[start..].find('>').map(|e| e + start) else {
            break;
        };
        value = format!("{}{}", &value[..start], &value[end + 1..]);
    }
    html_unescape(&value.split_whitespace().collect::<Vec<_>>().join(" "))
}

/// `urllib.parse.quote_from_bytes` with `safe` added to the always-safe characters.
fn quote(s: &str, safe: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"_.-~".contains(&b) || safe.as_bytes().contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Jinja's `url_quote`: `/` stays for paths; in query strings nothing is safe and spaces are `+`.
fn url_quote(v: &Value, for_qs: bool) -> String {
    let s = py_str(v);
    if for_qs {
        quote(&s, "").replace("%20", "+")
    } else {
        quote(&s, "/")
    }
}

/// Python's `urllib.parse.unquote_plus` (UTF-8, undecodable bytes replaced).
fn unquote_plus(s: &str) -> String {
    let s = s.replace('+', " ");
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            let hex = std::str::from_utf8(&b[i + 1..i + 3]).unwrap_or("");
            if let Ok(n) = u8::from_str_radix(hex, 16) {
                out.push(n);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Jinja's `filesizeformat`.
fn filesizeformat(bytes: f64, binary: bool) -> String {
    let base: f64 = if binary { 1024.0 } else { 1000.0 };
    let prefixes = if binary {
        ["KiB", "MiB", "GiB", "TiB", "PiB", "EiB", "ZiB", "YiB"]
    } else {
        ["kB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB"]
    };
    if bytes == 1.0 {
        return "1 Byte".into();
    }
    if bytes < base {
        return format!("{} Bytes", bytes.trunc() as i64);
    }
    let mut unit = base;
    for prefix in prefixes {
        unit *= base;
        if bytes < unit {
            return format!("{:.1} {prefix}", base * bytes / unit);
        }
    }
    format!(
        "{:.1} {}",
        base * bytes / unit,
        prefixes[prefixes.len() - 1]
    )
}

/// Python's `textwrap.TextWrapper` chunking (`wordsep_re` / `wordsep_simple_re`).
fn wrap_chunks_of(text: &str, break_on_hyphens: bool) -> Vec<String> {
    const WS: &str = r"[\t\n\x0b\x0c\r ]";
    const NWS: &str = r"[^\t\n\x0b\x0c\r ]";
    const WP: &str = r#"[\w!"'&.,?]"#;
    const LT: &str = r"[^\d\W]";
    let pattern = if break_on_hyphens {
        format!(
            r"({WS}+|(?<={WP})-{{2,}}(?=\w)|{NWS}+?(?:-(?:(?<={LT}{{2}}-)|(?<={LT}-{LT}-))(?={LT}-?{LT})|(?={WS}|\z)|(?<={WP})(?=-{{2,}}\w)))"
        )
    } else {
        format!(r"({WS}+)")
    };
    let Ok(re) = fancy_regex::Regex::new(&pattern) else {
        return vec![text.to_string()];
    };
    // re.split with a capturing group: the pieces between matches and the matches themselves.
    let mut chunks = Vec::new();
    let mut last = 0;
    for m in re.find_iter(text).flatten() {
        if m.start() == m.end() {
            continue;
        }
        chunks.push(text[last..m.start()].to_string());
        chunks.push(m.as_str().to_string());
        last = m.end();
    }
    chunks.push(text[last..].to_string());
    chunks.retain(|c| !c.is_empty());
    chunks
}

/// Python's `textwrap.wrap(text, width, expand_tabs=False, replace_whitespace=False, ...)`.
fn textwrap(
    text: &str,
    width: usize,
    break_long_words: bool,
    break_on_hyphens: bool,
) -> Vec<String> {
    let len = |s: &str| s.chars().count();
    let is_blank = |s: &str| s.trim().is_empty();
    let mut chunks = wrap_chunks_of(text, break_on_hyphens);
    chunks.reverse();
    let mut lines: Vec<String> = Vec::new();
    while !chunks.is_empty() {
        let mut cur: Vec<String> = Vec::new();
        let mut cur_len = 0;
        if chunks.last().is_some_and(|c| is_blank(c)) && !lines.is_empty() {
            chunks.pop();
        }
        while let Some(c) = chunks.last() {
            let l = len(c);
            if cur_len + l <= width {
                cur_len += l;
                cur.push(chunks.pop().unwrap_or_default());
            } else {
                break;
            }
        }
        if chunks.last().is_some_and(|c| len(c) > width) {
            let space_left = if width < 1 { 1 } else { width - cur_len };
            if break_long_words {
                let chunk: Vec<char> = chunks
                    .last()
                    .map(|c| c.chars().collect())
                    .unwrap_or_default();
                let mut end = space_left;
                if break_on_hyphens && chunk.len() > space_left {
                    let hyphen = chunk[..space_left.min(chunk.len())]
                        .iter()
                        .rposition(|&c| c == '-');
                    if let Some(h) = hyphen {
                        if h > 0 && chunk[..h].iter().any(|&c| c != '-') {
                            end = h + 1;
                        }
                    }
                }
                let end = end.min(chunk.len());
                cur.push(chunk[..end].iter().collect());
                if let Some(last) = chunks.last_mut() {
                    *last = chunk[end..].iter().collect();
                }
            } else if cur.is_empty() {
                cur.push(chunks.pop().unwrap_or_default());
            }
        }
        if cur.last().is_some_and(|c| is_blank(c)) {
            cur.pop();
        }
        if !cur.is_empty() {
            lines.push(cur.concat());
        }
    }
    lines
}

/// Python's `str.splitlines()`.
pub(crate) fn py_splitlines(s: &str) -> Vec<&str> {
    const BREAKS: &[char] = &[
        '\n', '\r', '\x0b', '\x0c', '\x1c', '\x1d', '\x1e', '\u{85}', '\u{2028}', '\u{2029}',
    ];
    let mut out = Vec::new();
    let mut rest = s;
    while !rest.is_empty() {
        match rest.find(BREAKS) {
            Some(p) => {
                out.push(&rest[..p]);
                let nl = if rest[p..].starts_with("\r\n") {
                    2
                } else {
                    rest[p..].chars().next().map(char::len_utf8).unwrap_or(1)
                };
                rest = &rest[p + nl..];
            }
            None => {
                out.push(rest);
                rest = "";
            }
        }
    }
    out
}

/// Jinja's `urlize` (jinja2/utils.py), with its default `rel="noopener"`.
fn urlize(text: &str, trim_url_limit: Option<usize>, rel: &str, target: Option<&str>) -> String {
    let http = regex::Regex::new(
        r"(?i)^((https?://|www\.)(([\w%-]+\.)+)?([a-z]{2,63}|xn--[\w%]{2,59})|([\w%-]{2,63}\.)+(com|net|int|edu|gov|org|info|mil)|(https?://)((([\d]{1,3})(\.[\d]{1,3}){3})|(\[([\da-f]{0,4}:){2}([\da-f]{0,4}:?){1,6}])))(?::[\d]{1,5})?(?:[/?#]\S*)?$",
    );
    let email = regex::Regex::new(r"^\S+@\w[\w.-]*\.\w+$");
    let (Ok(http), Ok(email)) = (http, email) else {
        return text.to_string();
    };
    let lead = regex::Regex::new(r"^([(<]|&lt;)+").ok();
    let trail = regex::Regex::new(r"([)>.,\n]|&gt;)+$").ok();
    let trim = |x: &str| match trim_url_limit {
        Some(n) if x.chars().count() > n => format!("{}...", x.chars().take(n).collect::<String>()),
        _ => x.to_string(),
    };
    let rel_attr = if rel.is_empty() {
        String::new()
    } else {
        format!(" rel=\"{}\"", html_escape(rel))
    };
    let target_attr = target
        .map(|t| format!(" target=\"{}\"", html_escape(t)))
        .unwrap_or_default();
    let escaped = html_escape(text);
    let mut out = String::new();
    let mut pieces = Vec::new();
    let mut last = 0;
    for m in regex::Regex::new(r"\s+")
        .map(|r| r.find_iter(&escaped).collect::<Vec<_>>())
        .unwrap_or_default()
    {
        pieces.push((&escaped[last..m.start()], false));
        pieces.push((m.as_str(), true));
        last = m.end();
    }
    pieces.push((&escaped[last..], false));
    for (word, is_space) in pieces {
        if is_space {
            out.push_str(word);
            continue;
        }
        let (mut head, mut middle, mut tail) = (String::new(), word.to_string(), String::new());
        if let Some(m) = lead.as_ref().and_then(|r| r.find(&middle)) {
            head = m.as_str().to_string();
            middle = middle[m.end()..].to_string();
        }
        if [")", ">", ".", ",", "\n", "&gt;"]
            .iter()
            .any(|e| middle.ends_with(e))
        {
            if let Some(m) = trail.as_ref().and_then(|r| r.find(&middle)) {
                tail = m.as_str().to_string();
                middle = middle[..m.start()].to_string();
            }
        }
        for (open, close) in [("(", ")"), ("<", ">"), ("&lt;", "&gt;")] {
            let opens = middle.matches(open).count();
            if opens <= middle.matches(close).count() {
                continue;
            }
            for _ in 0..opens.min(tail.matches(close).count()) {
                let Some(i) = tail.find(close) else { break };
                let end = i + close.len();
                middle.push_str(&tail[..end]);
                tail = tail[end..].to_string();
            }
        }
        if http.is_match(&middle) {
            let href = if middle.starts_with("https://") || middle.starts_with("http://") {
                middle.clone()
            } else {
                format!("https://{middle}")
            };
            middle = format!(
                "<a href=\"{href}\"{rel_attr}{target_attr}>{}</a>",
                trim(&middle)
            );
        } else if middle.starts_with("mailto:") && email.is_match(&middle[7..]) {
            middle = format!("<a href=\"{middle}\">{}</a>", &middle[7..]);
        } else if middle.contains('@')
            && !middle.starts_with("www.")
            && !middle.starts_with('@')
            && !middle.contains(':')
            && email.is_match(&middle)
        {
            middle = format!("<a href=\"mailto:{middle}\">{middle}</a>");
        }
        out.push_str(&head);
        out.push_str(&middle);
        out.push_str(&tail);
    }
    out
}

fn text_arg(a: &Args, i: usize, name: &str) -> Option<String> {
    a.str(i, name)
}

pub(crate) fn register(env: &mut Environment<'static>) {
    add(env, &["escape", "e"], |_, v| {
        defined(&v)?;
        if v.is_safe() {
            return Ok(v);
        }
        Ok(Value::from_safe_string(html_escape(&py_str(&v))))
    });
    add(env, &["forceescape"], |_, v| {
        defined(&v)?;
        Ok(Value::from_safe_string(html_escape(&py_str(&v))))
    });
    add(env, &["striptags"], |_, v| {
        defined(&v)?;
        Ok(Value::from(striptags(&py_str(&v))))
    });
    add(env, &["urlize"], |a, v| {
        defined(&v)?;
        let limit = a.int(0, "trim_url_limit").map(|n| n.max(0) as usize);
        let nofollow = a.bool(1, "nofollow", false);
        let target = text_arg(a, 2, "target");
        let mut rel: Vec<String> = text_arg(a, 3, "rel")
            .unwrap_or_default()
            .split_whitespace()
            .map(String::from)
            .collect();
        if nofollow {
            rel.push("nofollow".into());
        }
        rel.push("noopener".into());
        rel.sort();
        rel.dedup();
        Ok(Value::from(urlize(
            &py_str(&v),
            limit,
            &rel.join(" "),
            target.as_deref(),
        )))
    });
    add(env, &["wordwrap"], |a, v| {
        defined(&v)?;
        let width = a.int(0, "width").unwrap_or(79);
        if width <= 0 {
            return Err(err(format!("invalid width {width} (must be > 0)")));
        }
        let break_long = a.bool(1, "break_long_words", true);
        let wrapstring = text_arg(a, 2, "wrapstring").unwrap_or_else(|| "\n".into());
        let hyphens = a.bool(3, "break_on_hyphens", true);
        let text = py_str(&v);
        let paragraphs: Vec<String> = py_splitlines(&text)
            .into_iter()
            .map(|line| textwrap(line, width as usize, break_long, hyphens).join(&wrapstring))
            .collect();
        Ok(Value::from(paragraphs.join(&wrapstring)))
    });
    add(env, &["xmlattr"], |a, v| {
        defined(&v)?;
        if v.kind() != ValueKind::Map {
            return Err(err(format!(
                "'{}' object has no attribute 'items'",
                crate::template::pyrepr::py_type_name(&v)
            )));
        }
        let autospace = a.bool(0, "autospace", true);
        let mut items = Vec::new();
        for k in v.try_iter()? {
            let val = v.get_item(&k)?;
            if val.is_none() || val.is_undefined() {
                continue;
            }
            let key = py_str(&k);
            if key
                .chars()
                .any(|c| c.is_whitespace() || matches!(c, '/' | '>' | '='))
            {
                return Err(err(format!(
                    "Invalid character in attribute name: {}",
                    str_repr(&key)
                )));
            }
            items.push(format!(
                "{}=\"{}\"",
                html_escape(&key),
                html_escape(&py_str(&val))
            ));
        }
        let mut rv = items.join(" ");
        if autospace && !rv.is_empty() {
            rv.insert(0, ' ');
        }
        Ok(Value::from(rv))
    });
    add(env, &["filesizeformat"], |a, v| {
        defined(&v)?;
        let bytes = match v.kind() {
            ValueKind::Number | ValueKind::Bool => f64::try_from(v.clone()).ok(),
            ValueKind::String => v.as_str().and_then(|s| s.trim().parse().ok()),
            _ => None,
        }
        .ok_or_else(|| {
            err(format!(
                "could not convert string to float: {}",
                str_repr(&py_str(&v))
            ))
        })?;
        Ok(Value::from(filesizeformat(
            bytes,
            a.bool(0, "binary", false),
        )))
    });
    add(env, &["urlencode"], |_, v| {
        defined(&v)?;
        match v.kind() {
            ValueKind::Map => {
                let mut parts = Vec::new();
                for k in v.try_iter()? {
                    let val = v.get_item(&k)?;
                    parts.push(format!("{}={}", url_quote(&k, true), url_quote(&val, true)));
                }
                Ok(Value::from(parts.join("&")))
            }
            ValueKind::Seq | ValueKind::Iterable => {
                let mut parts = Vec::new();
                for pair in v.try_iter()? {
                    let kv: Vec<Value> = super::items(&pair)?;
                    if kv.len() != 2 {
                        return Err(err(if kv.len() > 2 {
                            "too many values to unpack (expected 2)".to_string()
                        } else {
                            format!("not enough values to unpack (expected 2, got {})", kv.len())
                        }));
                    }
                    parts.push(format!(
                        "{}={}",
                        url_quote(&kv[0], true),
                        url_quote(&kv[1], true)
                    ));
                }
                Ok(Value::from(parts.join("&")))
            }
            _ => Ok(Value::from(url_quote(&v, false))),
        }
    });
    add(env, &["urldecode"], |_, v| {
        defined(&v)?;
        match v.as_str() {
            Some(s) => Ok(Value::from(unquote_plus(s))),
            None => Err(err(format!(
                "a bytes-like object is required, not '{}'",
                crate::template::pyrepr::py_type_name(&v)
            ))),
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn textwrap_matches_python() {
        // python3 -c "import textwrap; print(textwrap.wrap('the quick brown fox jumps over the lazy dog', 10))"
        assert_eq!(
            textwrap(
                "the quick brown fox jumps over the lazy dog",
                10,
                true,
                true
            ),
            ["the quick", "brown fox", "jumps over", "the lazy", "dog"]
        );
        // textwrap.wrap('a well-known long-winded example', 8)
        assert_eq!(
            textwrap("a well-known long-winded example", 8, true, true),
            ["a well-", "known", "long-", "winded", "example"]
        );
        // textwrap.wrap('abcdefghijkl mn', 5)
        assert_eq!(
            textwrap("abcdefghijkl mn", 5, true, true),
            ["abcde", "fghij", "kl mn"]
        );
        assert_eq!(
            textwrap("abcdefghijkl mn", 5, false, true),
            ["abcdefghijkl", "mn"]
        );
    }

    #[test]
    fn html_helpers() {
        assert_eq!(
            html_escape("<a href='x'>&\"</a>"),
            "&lt;a href=&#39;x&#39;&gt;&amp;&#34;&lt;/a&gt;"
        );
        assert_eq!(striptags("<b>x</b>  y <!-- c --> &amp; &#65;"), "x y & A");
        assert_eq!(unquote_plus("a%20b%2Fc+d%"), "a b/c d%");
        assert_eq!(filesizeformat(123456789.0, false), "123.5 MB");
        assert_eq!(filesizeformat(123456789.0, true), "117.7 MiB");
        assert_eq!(filesizeformat(1.0, false), "1 Byte");
        assert_eq!(filesizeformat(999.0, false), "999 Bytes");
        assert_eq!(
            urlize("see http://x.org now", None, "noopener", None),
            "see <a href=\"http://x.org\" rel=\"noopener\">http://x.org</a> now"
        );
    }
}
