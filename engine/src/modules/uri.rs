//! `uri`: an HTTP request over the simulated network. Only addresses of the simulated fleet
//! (127.0.0.0/8) exist there; a request to an address and port where no simulated service
//! listens fails as a real one does, with `Connection refused` and status -1.

use serde_json::{json, Value};

use super::{arg_str, Args, Module, ModuleCtx, ModuleResult};

pub struct Uri;

/// Splits `http://host:port/path` into (scheme, host, port, path).
fn parse_url(url: &str) -> Option<(String, String, u16, String)> {
    let (scheme, rest) = url.split_once("://")?;
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    let default_port = match scheme {
        "http" => 80,
        "https" => 443,
        _ => return None,
    };
    let (host, port) = match authority.rsplit_once(':') {
        Some((h, p)) => (h, p.parse().ok()?),
        None => (authority, default_port),
    };
    Some((scheme.to_string(), host.to_string(), port, path.to_string()))
}

impl Module for Uri {
    fn run(&self, ctx: &mut ModuleCtx<'_>, args: &Args) -> ModuleResult {
        let Some(url) = arg_str(args, "url") else {
            return super::fail("missing required arguments: url");
        };
        let expected: Vec<i64> = match args.get("status_code") {
            Some(Value::Array(a)) => a
                .iter()
                .filter_map(|v| {
                    v.as_i64()
                        .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
                })
                .collect(),
            Some(v) => v
                .as_i64()
                .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
                .into_iter()
                .collect(),
            None => vec![200],
        };
        let Some((_scheme, host, port, _path)) = parse_url(&url) else {
            let mut r = super::fail(&format!("Status code was -1 and not {expected:?}: Request failed: <urlopen error unknown url type: {url}>"));
            r.insert("status".into(), json!(-1));
            r.insert("url".into(), json!(url));
            return r;
        };
        // The simulated network has no services yet (the fleet model adds them), so every
        // connection is refused, immediately, as on a host where nothing listens.
        let _ = (ctx, host, port);
        let mut r = super::fail(&format!(
            "Status code was -1 and not {expected:?}: Request failed: <urlopen error [Errno 111] Connection refused>"
        ));
        r.insert("status".into(), json!(-1));
        r.insert("url".into(), json!(url));
        r.insert("elapsed".into(), json!(0));
        r.insert("redirected".into(), json!(false));
        r.insert("changed".into(), json!(false));
        r
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        assert_eq!(
            parse_url("http://127.1.0.2:8080/health"),
            Some(("http".into(), "127.1.0.2".into(), 8080, "/health".into()))
        );
        assert_eq!(parse_url("https://x").map(|u| u.2), Some(443));
        assert_eq!(parse_url("ftp://x"), None);
    }
}
