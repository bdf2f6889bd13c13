//! `uri`: an HTTP request over the simulated network, answered by the fleet's services
//! (`--fleet`). Only the fleet's addresses exist there; a request to an address and port
//! where no simulated service listens fails as a real one does, with `Connection refused`
//! and status -1, and one to an unreachable host times out on the virtual clock.

use serde_json::{json, Map, Value};

use fleetsim_sim::fleet::http::{HttpRequest, NetError};

use super::{arg_str, Args, Module, ModuleCtx, ModuleResult};

pub struct Uri;

/// Splits `http://host:port/path` into (scheme, host, port, path).
pub(super) fn parse_url(url: &str) -> Option<(String, String, u16, String)> {
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
        let Some((scheme, host, port, path)) = parse_url(&url) else {
            let mut r = super::fail(&format!("Status code was -1 and not {expected:?}: Request failed: <urlopen error unknown url type: {url}>"));
            r.insert("status".into(), json!(-1));
            r.insert("url".into(), json!(url));
            return r;
        };
        let method = arg_str(args, "method")
            .unwrap_or_else(|| "GET".into())
            .to_uppercase();
        let timeout = match args.get("timeout") {
            Some(Value::Number(n)) => n.as_f64().unwrap_or(30.0),
            Some(Value::String(s)) => s.trim().parse().unwrap_or(30.0),
            _ => 30.0,
        };
        let return_content = args
            .get("return_content")
            .and_then(super::to_bool)
            .unwrap_or(false);
        let mut headers: Vec<(String, String)> = Vec::new();
        if let Some(Value::Object(h)) = args.get("headers") {
            for (k, v) in h {
                headers.push((
                    k.clone(),
                    v.as_str().map_or_else(|| v.to_string(), str::to_string),
                ));
            }
        }
        let body = match args.get("body") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::String(s)) => s.clone().into_bytes(),
            Some(v) => {
                headers.push(("Content-Type".into(), "application/json".into()));
                v.to_string().into_bytes()
            }
        };
        let now = ctx.world.clock.now();
        let from = ctx.target.clone();
        let answer = if scheme == "https" {
            // The simulated network has no TLS: say so rather than pretend.
            None
        } else {
            let req = HttpRequest {
                method,
                path,
                host: format!("{host}:{port}"),
                headers,
                body,
            };
            ctx.world
                .with_fleet(|f| f.http(&from, &host, port, req, timeout, now))
        };
        let mut r = Map::new();
        let (resp, took) = match answer {
            Some((Ok(resp), took)) => (resp, took),
            Some((Err(e), took)) => {
                ctx.world.clock.advance(took);
                let why = match e {
                    NetError::Refused => "[Errno 111] Connection refused",
                    NetError::Timeout { .. } => "timed out",
                    NetError::NoRoute => "[Errno 101] Network is unreachable",
                };
                return request_failed(&url, &expected, why, took);
            }
            None if scheme == "https" => {
                return request_failed(
                    &url,
                    &expected,
                    "[SSL: WRONG_VERSION_NUMBER] wrong version number (_ssl.c:1006)",
                    0.0,
                )
            }
            // Without a fleet nothing listens on the simulated network.
            None => return request_failed(&url, &expected, "[Errno 111] Connection refused", 0.0),
        };
        ctx.world.clock.advance(took);
        let content = String::from_utf8_lossy(&resp.body).to_string();
        let status = i64::from(resp.status);
        for (k, v) in &resp.headers {
            r.insert(k.to_lowercase().replace('-', "_"), json!(v));
        }
        r.insert("changed".into(), json!(false));
        r.insert("connection".into(), json!("close"));
        r.insert("content_length".into(), json!(resp.body.len().to_string()));
        r.insert("cookies".into(), json!({}));
        r.insert("cookies_string".into(), json!(""));
        r.insert("elapsed".into(), json!(took as i64));
        r.insert("redirected".into(), json!(false));
        r.insert("server".into(), json!("fleetsim"));
        r.insert("status".into(), json!(status));
        r.insert("url".into(), json!(url));
        let is_json = resp
            .headers
            .iter()
            .any(|(k, v)| k.eq_ignore_ascii_case("content-type") && v.contains("json"));
        if is_json {
            if let Ok(v) = serde_json::from_str::<Value>(&content) {
                r.insert("json".into(), v);
            }
        }
        if return_content {
            r.insert("content".into(), json!(content));
        }
        if expected.contains(&status) {
            r.insert(
                "msg".into(),
                json!(format!("OK ({} bytes)", resp.body.len())),
            );
        } else {
            r.insert("failed".into(), json!(true));
            r.insert(
                "msg".into(),
                json!(format!(
                    "Status code was {status} and not {expected:?}: HTTP Error {status}: {}",
                    reason_phrase(resp.status)
                )),
            );
            if !return_content {
                r.insert("content".into(), json!(content));
            }
        }
        r
    }
}

/// A request that got no HTTP answer, as Ansible's uri reports it.
fn request_failed(url: &str, expected: &[i64], why: &str, took: f64) -> ModuleResult {
    let mut r = super::fail(&format!(
        "Status code was -1 and not {expected:?}: Request failed: <urlopen error {why}>"
    ));
    r.insert("status".into(), json!(-1));
    r.insert("url".into(), json!(url));
    r.insert("elapsed".into(), json!(took as i64));
    r.insert("redirected".into(), json!(false));
    r.insert("changed".into(), json!(false));
    r
}

/// The reason phrase Python's http.client gives a status.
fn reason_phrase(status: u16) -> &'static str {
    match status {
        200 => "OK",
        201 => "Created",
        204 => "No Content",
        301 => "Moved Permanently",
        302 => "Found",
        304 => "Not Modified",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "Unknown",
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
