//! Python's lone surrogates in Rust strings: what ansible-core's text holds where bytes were
//! not UTF-8 (`to_text(..., errors='surrogate_or_strict')` decodes each bad byte 0xNN to
//! U+DCNN) or where JSON spelled one (`"\udc80"`).
//!
//! A Rust `String` cannot hold a surrogate, so fleetsim carries U+D800 + k as the
//! private-use character U+10F800 + k (plane 16, which text practically never uses). The
//! places where Python treats such text specially treat the stand-ins the same way: the
//! display writes each as `?` and warns (`Display._replacing_warning_handler`), JSON with
//! `ensure_ascii` escapes it as the surrogate, writing it as UTF-8 fails as `str.encode`
//! does, and `surrogateescape` encoding gives the original byte back.

/// The stand-in of U+D800 (the first surrogate); U+DFFF's is U+10FFFF.
const STAND_IN_BASE: u32 = 0x10_F800;
const FIRST_SURROGATE: u32 = 0xD800;
const SURROGATE_COUNT: u32 = 0x800;

/// The character fleetsim carries for the surrogate code unit `unit` (U+D800..=U+DFFF).
pub fn stand_in(unit: u32) -> Option<char> {
    (FIRST_SURROGATE..FIRST_SURROGATE + SURROGATE_COUNT)
        .contains(&unit)
        .then(|| char::from_u32(STAND_IN_BASE + unit - FIRST_SURROGATE))
        .flatten()
}

/// The surrogate code unit a stand-in character carries, if `c` is one.
pub fn surrogate_of(c: char) -> Option<u32> {
    let code = c as u32;
    (code >= STAND_IN_BASE).then(|| code - STAND_IN_BASE + FIRST_SURROGATE)
}

/// Whether `text` holds a (stand-in for a) lone surrogate.
pub fn has_surrogates(text: &str) -> bool {
    text.chars().any(|c| surrogate_of(c).is_some())
}

/// `bytes.decode('utf-8', 'surrogateescape')`: valid UTF-8 as it is, each byte of an
/// invalid sequence as (the stand-in of) U+DC00 + byte.
pub fn decode_surrogateescape(mut bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    loop {
        match std::str::from_utf8(bytes) {
            Ok(text) => {
                out.push_str(text);
                return out;
            }
            Err(e) => {
                let (valid, rest) = bytes.split_at(e.valid_up_to());
                // `valid` was just checked to be UTF-8.
                out.push_str(std::str::from_utf8(valid).unwrap_or_default());
                let bad = e.error_len().unwrap_or(rest.len());
                for b in &rest[..bad] {
                    out.extend(stand_in(0xDC00 + u32::from(*b)));
                }
                bytes = &rest[bad..];
            }
        }
    }
}

/// The text as the display writes it: each surrogate as `?` (Ansible's stdout and stderr use
/// an error handler that does so); `None` when there is none.
pub fn for_display(text: &str) -> Option<String> {
    has_surrogates(text).then(|| {
        text.chars()
            .map(|c| if surrogate_of(c).is_some() { '?' } else { c })
            .collect()
    })
}

/// The warning Ansible's display gives when it replaced something with `?`.
pub const DISPLAY_WARNING: &str =
    "Non UTF-8 encoded data replaced with \"?\" while displaying text to stdout/stderr.";

/// Python's `UnicodeEncodeError` text for `text.encode('utf-8')`, when the text holds
/// surrogates: the first run of them, by character position.
pub fn utf8_encode_error(text: &str) -> Option<String> {
    let chars: Vec<char> = text.chars().collect();
    let start = chars.iter().position(|c| surrogate_of(*c).is_some())?;
    let end = start
        + chars[start..]
            .iter()
            .take_while(|c| surrogate_of(**c).is_some())
            .count();
    Some(if end - start == 1 {
        let unit = surrogate_of(chars[start]).unwrap_or_default();
        format!(
            "'utf-8' codec can't encode character '\\u{unit:x}' in position {start}: surrogates not allowed"
        )
    } else {
        format!(
            "'utf-8' codec can't encode characters in position {start}-{}: surrogates not allowed",
            end - 1
        )
    })
}

/// JSON text with each `\uXXXX` escape of a lone surrogate (one not part of a pair) written
/// as its stand-in character, so that a strict JSON parser reads what Python's `json.loads`
/// reads; `None` when there is none.
pub fn json_with_stand_ins(json: &str) -> Option<String> {
    let bytes = json.as_bytes();
    let hex_at = |i: usize| -> Option<u32> {
        let digits = json.get(i..i + 4)?;
        digits
            .chars()
            .all(|c| c.is_ascii_hexdigit())
            .then(|| u32::from_str_radix(digits, 16).ok())
            .flatten()
    };
    // The code unit of a `\uXXXX` escape at byte `i` (the backslash), if there is one.
    let escape_at = |i: usize| -> Option<u32> {
        (bytes.get(i) == Some(&b'\\') && bytes.get(i + 1) == Some(&b'u'))
            .then(|| hex_at(i + 2))
            .flatten()
    };
    let mut out = String::new();
    let mut copied = 0;
    let mut in_string = false;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'"' => {
                in_string = !in_string;
                i += 1;
            }
            b'\\' if in_string => match escape_at(i) {
                // A pair is one character, which the parser reads itself.
                Some(0xD800..=0xDBFF) if matches!(escape_at(i + 6), Some(0xDC00..=0xDFFF)) => {
                    i += 12;
                }
                Some(unit @ 0xD800..=0xDFFF) => {
                    out.push_str(&json[copied..i]);
                    out.extend(stand_in(unit));
                    i += 6;
                    copied = i;
                }
                // Any other escape: `\uXXXX` is six bytes, the others (`\"`, `\\`, ...) two.
                Some(_) => i += 6,
                None => i += 2,
            },
            _ => i += 1,
        }
    }
    (copied > 0).then(|| {
        out.push_str(&json[copied..]);
        out
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_that_are_not_utf8_decode_as_python_escapes_them() {
        // 'Café Eñe' in latin-1: é and ñ are single bytes 0xe9 and 0xf1.
        let text = decode_surrogateescape(b"Caf\xe9 E\xf1e");
        assert_eq!(text.chars().count(), 8);
        assert_eq!(
            text.chars().filter_map(surrogate_of).collect::<Vec<_>>(),
            vec![0xDCE9, 0xDCF1]
        );
        assert_eq!(for_display(&text).unwrap(), "Caf? E?e");
        assert_eq!(decode_surrogateescape("Café".as_bytes()), "Café");
        assert_eq!(for_display("Café"), None);
    }

    #[test]
    fn encode_errors_are_pythons() {
        let one = format!("hi {} mom", stand_in(0xDC80).unwrap());
        assert_eq!(
            utf8_encode_error(&one).unwrap(),
            "'utf-8' codec can't encode character '\\udc80' in position 3: surrogates not allowed"
        );
        let two = decode_surrogateescape(b"ab\xff\xfe");
        assert_eq!(
            utf8_encode_error(&two).unwrap(),
            "'utf-8' codec can't encode characters in position 2-3: surrogates not allowed"
        );
        assert_eq!(utf8_encode_error("plain"), None);
        let json = json_with_stand_ins(r#"["hi \udc80 mom", "\ud83d\ude00", "\\udc80"]"#).unwrap();
        let parsed: Vec<String> = serde_json::from_str(&json).unwrap();
        assert_eq!(parsed[0], one);
        assert_eq!(parsed[1], "😀");
        assert_eq!(parsed[2], "\\udc80");
        assert_eq!(json_with_stand_ins(r#"{"a": "\u00e9"}"#), None);
        assert_eq!(stand_in(0x41), None);
        assert_eq!(surrogate_of('a'), None);
    }
}
