//! `known_hosts`: adds, replaces or removes a host's key in an OpenSSH known_hosts file on the
//! target host, as ansible-core's module does over `ssh-keygen -F`/`-R`: host patterns
//! (lists, `*`/`?` wildcards, `!` negation, `[host]:port`), hashed names (`|1|salt|hmac`,
//! HMAC-SHA1), `@cert-authority`/`@revoked` lines left alone by removal, `hash_host` with a
//! salt from the host's seeded random stream, check mode and the diff.

use serde_json::{json, Value};

use fleetsim_sim::fs::WriteMode;

use super::spec::{opt, spec, Kind, ModuleName, Spec};
use super::{arg_str, Args, Module, ModuleCtx, ModuleResult};
use crate::template::filters::hash::{b64decode, b64encode};

pub struct KnownHosts;

const SPEC: Spec = spec(
    ModuleName::AsWritten,
    &[
        opt("name", Kind::Str).aliases(&["host"]).required(),
        opt("key", Kind::Str),
        opt("path", Kind::Path),
        opt("hash_host", Kind::Bool),
        opt("state", Kind::Str).choices(&["absent", "present"]),
    ],
);

/// A known_hosts line split as `normalize_known_hosts_key` splits it.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Entry {
    marker: Option<String>,
    host: String,
    kind: String,
    key: String,
}

fn parse_entry(line: &str) -> Option<Entry> {
    let mut parts = line.split_whitespace();
    let first = parts.next()?;
    let (marker, host) = if first.starts_with('@') {
        (Some(first.to_string()), parts.next()?.to_string())
    } else {
        (None, first.to_string())
    };
    Some(Entry {
        marker,
        host,
        kind: parts.next()?.to_string(),
        key: parts.next()?.to_string(),
    })
}

/// OpenSSH's `match_pattern`: `*` and `?` wildcards.
fn wildcard(name: &str, pattern: &str) -> bool {
    let (n, p): (Vec<char>, Vec<char>) = (name.chars().collect(), pattern.chars().collect());
    let (mut i, mut j, mut star, mut mark) = (0, 0, None, 0);
    while i < n.len() {
        if j < p.len() && (p[j] == '?' || p[j] == n[i]) {
            i += 1;
            j += 1;
        } else if j < p.len() && p[j] == '*' {
            star = Some(j);
            mark = i;
            j += 1;
        } else if let Some(s) = star {
            j = s + 1;
            mark += 1;
            i = mark;
        } else {
            return false;
        }
    }
    p[j..].iter().all(|c| *c == '*')
}

/// Whether a known_hosts host field names `host` (`match_hostname`, or a hashed name).
fn host_matches(field: &str, host: &str) -> bool {
    if let Some(rest) = field.strip_prefix("|1|") {
        let Some((salt, hash)) = rest.split_once('|') else {
            return false;
        };
        let Some(salt) = b64decode(salt) else {
            return false;
        };
        return b64encode(&hmac_sha1(&salt, host.as_bytes())) == hash;
    }
    let mut positive = false;
    for pattern in field.split(',') {
        let pattern = pattern.to_lowercase();
        if let Some(negated) = pattern.strip_prefix('!') {
            if wildcard(host, negated) {
                return false;
            }
        } else if wildcard(host, &pattern) {
            positive = true;
        }
    }
    positive
}

/// `ssh-keygen -F HOST`: the lines of `text` that name the host, with their line numbers.
fn find(text: &str, host: &str) -> Vec<(usize, String)> {
    text.lines()
        .enumerate()
        .filter_map(|(i, line)| {
            let trimmed = line.trim_start();
            if trimmed.is_empty() || trimmed.starts_with('#') {
                return None;
            }
            let entry = parse_entry(trimmed)?;
            host_matches(&entry.host, host).then(|| (i + 1, line.to_string()))
        })
        .collect()
}

/// HMAC-SHA1, as OpenSSH hashes a known_hosts name (`|1|salt|hash`).
fn hmac_sha1(key: &[u8], data: &[u8]) -> Vec<u8> {
    use hmac::{Hmac, Mac};
    let mut mac =
        <Hmac<sha1::Sha1> as Mac>::new_from_slice(key).expect("HMAC takes a key of any length");
    mac.update(data);
    mac.finalize().into_bytes().to_vec()
}

impl Module for KnownHosts {
    fn run(&self, ctx: &mut ModuleCtx<'_>, args: &Args) -> ModuleResult {
        let args = match super::validated(ctx, &SPEC, args) {
            Ok(a) => a,
            Err(r) => return r,
        };
        let name = arg_str(&args, "name").unwrap_or_default();
        let host = name.to_lowercase();
        let key_param = arg_str(&args, "key").filter(|k| !k.is_empty());
        let path = arg_str(&args, "path").unwrap_or_else(|| "/root/.ssh/known_hosts".into());
        let hash_host = args.get("hash_host").and_then(super::to_bool) == Some(true);
        let state = arg_str(&args, "state").unwrap_or_else(|| "present".into());
        let check = ctx.check_mode;
        let target = match ctx.target_host() {
            Ok(h) => h,
            Err(r) => return r,
        };
        if key_param.is_none() && state != "absent" {
            return super::fail("No key specified when adding a host");
        }
        let mut key = key_param.clone();
        if let (Some(k), true) = (&key, hash_host) {
            let salt: Vec<u8> = (0..20).map(|_| target.rng.below(256) as u8).collect();
            let hashed = format!(
                "|1|{}|{}",
                b64encode(&salt),
                b64encode(&hmac_sha1(&salt, host.as_bytes()))
            );
            let mut parts: Vec<String> = k.split_whitespace().map(str::to_string).collect();
            let i = usize::from(parts.first().is_some_and(|p| p.starts_with('@')));
            if i < parts.len() {
                parts[i] = hashed;
            }
            key = Some(parts.join(" "));
        }
        if let Some(k) = &mut key {
            if !k.ends_with('\n') {
                k.push('\n');
            }
        }
        // sanity_check: the key's own host field must name the host.
        if let Some(k) = &key {
            if regex::Regex::new(r"\S+(\s+)?,(\s+)?")
                .map(|re| re.is_match(&host))
                .unwrap_or(false)
            {
                return super::fail("Comma separated list of names is not supported. Please pass a single name to lookup in the known_hosts file.");
            }
            if find(k, &host).is_empty() {
                return super::fail(
                    "Host parameter does not match hashed host field in supplied key",
                );
            }
        }
        let before = target.fs.read_to_string(&path).ok();
        // search_for_host_key
        let (found, replace_or_add, found_line) = match &before {
            None => (false, false, None),
            Some(text) => {
                let hits = find(text, &host);
                if hits.is_empty() {
                    (false, false, None)
                } else if let Some(k) = &key {
                    let mut new_key = parse_entry(k.trim()).unwrap_or(Entry {
                        marker: None,
                        host: String::new(),
                        kind: String::new(),
                        key: String::new(),
                    });
                    let mut verdict = (true, true, None);
                    for (line_no, line) in &hits {
                        let Some(found_key) = parse_entry(line.trim()) else {
                            continue;
                        };
                        if found_key.marker.is_some() {
                            if new_key == found_key {
                                verdict = (true, false, Some(*line_no));
                                break;
                            }
                            continue;
                        }
                        if new_key.host.starts_with("|1|") && found_key.host.starts_with("|1|") {
                            new_key.host = found_key.host.clone();
                        }
                        if new_key == found_key {
                            verdict = (true, false, Some(*line_no));
                            break;
                        }
                        if new_key.kind == found_key.kind {
                            verdict = (true, true, Some(*line_no));
                            break;
                        }
                    }
                    verdict
                } else {
                    (true, false, None)
                }
            }
        };
        // compute_diff
        let before_text = before.clone().unwrap_or_default();
        let mut lines: Vec<String> = before_text
            .split_inclusive('\n')
            .map(str::to_string)
            .collect();
        if (replace_or_add || state == "absent")
            && found_line.is_some_and(|n| (1..=lines.len()).contains(&n))
        {
            lines.remove(found_line.unwrap_or(1) - 1);
        }
        if state == "present" && (replace_or_add || found_line.is_none()) {
            lines.push(key.clone().unwrap_or_default());
        }
        let diff = json!({
            "before_header": if before.is_some() { path.as_str() } else { "/dev/null" },
            "after_header": path,
            "before": before_text,
            "after": lines.concat(),
        });
        let mut r = super::ok(false);
        for (k, v) in &args {
            r.insert(k.clone(), v.clone());
        }
        for (k, default) in [
            ("key", Value::Null),
            ("hash_host", json!(false)),
            ("state", json!("present")),
        ] {
            if r.get(k).is_none_or(Value::is_null) {
                r.insert(k.into(), default);
            }
        }
        r.insert("path".into(), json!(path));
        r.insert("changed".into(), json!(false));
        r.insert("diff".into(), diff);
        r.insert(super::DIFF_ALWAYS.into(), json!(true));
        if state == "absent" && found_line.is_none() && key.is_some() {
            return r;
        }
        if check {
            r.insert(
                "changed".into(),
                json!(replace_or_add || (state == "present") != found),
            );
            return r;
        }
        let mut text = before_text.clone();
        if found && key.is_none() && state == "absent" {
            // ssh-keygen -R: every line naming the host goes, but CA and revocation lines.
            let keep: Vec<&str> = text
                .split_inclusive('\n')
                .filter(|line| {
                    let t = line.trim_start();
                    t.is_empty()
                        || t.starts_with('#')
                        || parse_entry(t)
                            .is_none_or(|e| e.marker.is_some() || !host_matches(&e.host, &host))
                })
                .collect();
            text = keep.concat();
            if let Err(e) = target.fs.write(&path, text.as_bytes(), WriteMode::Truncate) {
                return super::fail(&format!("Failed to write to file '{path}': {e}"));
            }
            r.insert("changed".into(), json!(true));
        }
        if replace_or_add || found != (state == "present") {
            let mut out: Vec<&str> = Vec::new();
            for (i, line) in text.split_inclusive('\n').enumerate() {
                if found_line == Some(i + 1) && (replace_or_add || state == "absent") {
                    continue;
                }
                out.push(line);
            }
            let mut written = out.concat();
            if state == "present" {
                written.push_str(key.as_deref().unwrap_or_default());
            }
            let dir = match path.rfind('/') {
                Some(0) => "/".to_string(),
                Some(i) => path[..i].to_string(),
                None => ".".to_string(),
            };
            if !target.fs.is_dir(&dir) {
                return super::fail(&format!(
                    "Failed to write to file '{path}': [Errno 2] No such file or directory: '{dir}'"
                ));
            }
            if let Err(e) = target
                .fs
                .write(&path, written.as_bytes(), WriteMode::Truncate)
            {
                return super::fail(&format!("Failed to write to file '{path}': {e}"));
            }
            r.insert("changed".into(), json!(true));
        }
        r
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_and_negations() {
        assert!(host_matches("example.com,10.0.0.1", "example.com"));
        assert!(host_matches("*.example.com", "host.example.com"));
        assert!(!host_matches(
            "*.example.com,!bad.example.com",
            "bad.example.com"
        ));
        assert!(!host_matches("example.com", "example.org"));
        assert!(host_matches("[example.org]:2222", "[example.org]:2222"));
    }

    #[test]
    fn hashed_names_match_with_their_salt() {
        // From OpenSSH's own known_hosts: `|1|salt|hmac` of "example.org" with this salt.
        let salt = b64decode("d71/U7CbOH3Su+d2zxlbmiNfXtI=").unwrap();
        let field = format!(
            "|1|{}|{}",
            b64encode(&salt),
            b64encode(&hmac_sha1(&salt, b"example.org"))
        );
        assert!(host_matches(&field, "example.org"));
        assert!(!host_matches(&field, "example.com"));
    }

    #[test]
    fn hmac_sha1_matches_rfc_2202() {
        let digest = hmac_sha1(b"Jefe", b"what do ya want for nothing?");
        let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(hex, "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79");
    }

    #[test]
    fn base64_round_trips() {
        for data in [&b""[..], b"a", b"ab", b"abc", b"abcd"] {
            assert_eq!(b64decode(&b64encode(data)).unwrap(), data);
        }
    }
}
