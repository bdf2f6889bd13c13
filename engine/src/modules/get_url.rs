//! `get_url`: downloads a URL onto the target host as ansible-core's module does: `file://`
//! from the host's own files, `http://` over the simulated network from the fleet's services
//! (faults apply: a refused connection, a timeout on the virtual clock, a 503 while an app
//! restarts), `checksum` checks, `force`, a folder as `dest`, `backup`, and the file
//! attributes; check mode asks with `HEAD` and writes nothing.
//!
//! [`fetch`] is also what `unarchive` uses for a `remote_src` URL.

use serde_json::{json, Value};

use fleetsim_sim::fleet::http::{HttpRequest, NetError};
use fleetsim_sim::fs::WriteMode;

use super::spec::{opt, spec, Kind, ModuleName, Spec};
use super::{arg_str, Args, Module, ModuleCtx, ModuleResult};
use crate::template::filters::hash::b64encode;

pub struct GetUrl;

/// `url_argument_spec()` and get_url's own options. Client certificates and Kerberos have
/// nothing to talk to on the simulated network, so they are refused.
const SPEC: Spec = spec(
    ModuleName::AsWritten,
    &[
        opt("url", Kind::Str).required(),
        opt("dest", Kind::Path).required(),
        opt("force", Kind::Bool),
        opt("http_agent", Kind::Str),
        opt("use_proxy", Kind::Bool),
        opt("validate_certs", Kind::Bool),
        opt("url_username", Kind::Str).aliases(&["username"]),
        opt("url_password", Kind::Str).aliases(&["password"]),
        opt("force_basic_auth", Kind::Bool),
        opt("client_cert", Kind::Path).refused(),
        opt("client_key", Kind::Path).refused(),
        opt("use_gssapi", Kind::Bool),
        opt("backup", Kind::Bool),
        opt("checksum", Kind::Str),
        opt("timeout", Kind::Int),
        opt("headers", Kind::Dict),
        opt("tmp_dest", Kind::Path),
        opt("unredirected_headers", Kind::List),
        opt("decompress", Kind::Bool),
        opt("ciphers", Kind::List).refused(),
        opt("use_netrc", Kind::Bool),
    ],
)
.file_common();

/// Where the module keeps the download before moving it into place (Ansible's
/// `module.tmpdir`, a random name there; a fixed one here, so runs print the same bytes).
const MODULE_TMP: &str = "/root/.ansible/tmp/ansible-tmp-fleetsim-get_url";

/// What a request brought back.
pub(super) struct Fetched {
    pub body: Vec<u8>,
    /// The HTTP status; None for `file://` (urllib gives such answers no code).
    pub status: Option<u16>,
    /// `OK (N bytes)`.
    pub msg: String,
    /// Virtual seconds it took.
    pub elapsed: f64,
}

/// Why a request brought nothing back, with `fetch_url`'s `info`.
pub(super) struct FetchError {
    /// -1 when no HTTP answer came.
    pub status: i64,
    pub msg: String,
    pub elapsed: f64,
}

/// How to ask.
pub(super) struct Request<'a> {
    pub url: &'a str,
    pub method: &'a str,
    pub timeout: f64,
    pub headers: Vec<(String, String)>,
}

/// `fetch_url`: reads a `file://` URL from the target host's files or sends an HTTP request
/// from the target host over the simulated network (advancing the virtual clock by the time
/// it took).
pub(super) fn fetch(ctx: &mut ModuleCtx<'_>, req: Request<'_>) -> Result<Fetched, FetchError> {
    let url = req.url;
    let no_answer = |msg: String, elapsed: f64| FetchError {
        status: -1,
        msg,
        elapsed,
    };
    if let Some(rest) = url.strip_prefix("file:") {
        // `file:///p` and `file:/p` name /p on the host the module runs on.
        let path = match rest.strip_prefix("//") {
            Some(after) => after.find('/').map_or("/", |i| &after[i..]).to_string(),
            None => rest.to_string(),
        };
        let host = ctx.target_host().map_err(|r| {
            no_answer(
                r.get("msg")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .into(),
                0.0,
            )
        })?;
        return match host.fs.read(&path) {
            Ok(body) => Ok(Fetched {
                msg: format!("OK ({} bytes)", body.len()),
                body,
                status: None,
                elapsed: 0.0,
            }),
            Err(_) if host.fs.is_dir(&path) => Err(no_answer(
                format!("Request failed: <urlopen error [Errno 21] Is a directory: '{path}'>"),
                0.0,
            )),
            Err(_) if host.fs.exists(&path) => Err(no_answer(
                format!("Request failed: <urlopen error [Errno 13] Permission denied: '{path}'>"),
                0.0,
            )),
            Err(_) => Err(no_answer(
                format!(
                    "Request failed: <urlopen error [Errno 2] No such file or directory: '{path}'>"
                ),
                0.0,
            )),
        };
    }
    let Some((scheme, addr, port, path)) = super::uri::parse_url(url) else {
        let scheme = url.split_once("://").map_or("", |(s, _)| s);
        return Err(no_answer(
            if scheme.is_empty() {
                format!("Request failed: <urlopen error unknown url type: {url}>")
            } else {
                format!("Request failed: <urlopen error unknown url type: {scheme}>")
            },
            0.0,
        ));
    };
    if scheme == "https" {
        // The simulated network has no TLS: say so rather than pretend.
        return Err(no_answer(
            "Request failed: <urlopen error [SSL: WRONG_VERSION_NUMBER] wrong version number (_ssl.c:1006)>".into(),
            0.0,
        ));
    }
    let now = ctx.world.clock.now();
    let from = ctx.target.clone();
    let http = HttpRequest {
        method: req.method.to_string(),
        path,
        host: format!("{addr}:{port}"),
        headers: req.headers,
        body: Vec::new(),
    };
    let answer = ctx
        .world
        .with_fleet(|f| f.http(&from, &addr, port, http, req.timeout, now));
    let (resp, took) = match answer {
        Some((Ok(resp), took)) => (resp, took),
        Some((Err(e), took)) => {
            ctx.world.clock.advance(took);
            let why = match e {
                NetError::Refused => "[Errno 111] Connection refused",
                NetError::Timeout { .. } => "timed out",
                NetError::NoRoute => "[Errno 101] Network is unreachable",
            };
            return Err(no_answer(
                format!("Request failed: <urlopen error {why}>"),
                took,
            ));
        }
        // Without a fleet nothing listens on the simulated network.
        None => {
            return Err(no_answer(
                "Request failed: <urlopen error [Errno 111] Connection refused>".into(),
                0.0,
            ))
        }
    };
    ctx.world.clock.advance(took);
    if !(200..300).contains(&resp.status) {
        return Err(FetchError {
            status: i64::from(resp.status),
            msg: format!("HTTP Error {}: {}", resp.status, resp.reason()),
            elapsed: took,
        });
    }
    let length = resp.body.len();
    Ok(Fetched {
        // A HEAD answer has the headers of the GET one and no body.
        body: if req.method == "HEAD" {
            Vec::new()
        } else {
            resp.body
        },
        status: Some(resp.status),
        msg: format!("OK ({length} bytes)"),
        elapsed: took,
    })
}

/// The file name `get_url` gives a download into a folder: the URL path's last part, or
/// `index.html`.
fn url_filename(url: &str) -> String {
    let after_scheme = url.split_once("://").map_or(url, |(_, r)| r);
    let path = match after_scheme.find('/') {
        Some(i) => &after_scheme[i..],
        None => "",
    };
    let path = path.split(['?', '#']).next().unwrap_or_default();
    match path.rsplit('/').next() {
        Some(name) if !name.is_empty() => name.to_string(),
        _ => "index.html".into(),
    }
}

/// Adds `add_path_info`'s fields for `path` when it exists (not the `path` key itself:
/// these results name it `dest`).
pub(super) fn path_info(fs: &fleetsim_sim::fs::Sandbox, path: &str, r: &mut ModuleResult) {
    if fs.exists(path) {
        super::file::attrs(fs, path, r);
        r.remove("path");
    }
}

/// The request headers the options ask for.
pub(super) fn request_headers(args: &Args) -> Vec<(String, String)> {
    let mut headers = Vec::new();
    if let Some(Value::Object(h)) = args.get("headers") {
        for (k, v) in h {
            headers.push((
                k.clone(),
                v.as_str().map_or_else(|| v.to_string(), str::to_string),
            ));
        }
    }
    let agent = arg_str(args, "http_agent").unwrap_or_else(|| "ansible-httpget".into());
    headers.push(("User-Agent".into(), agent));
    if let Some(user) = arg_str(args, "url_username") {
        let password = arg_str(args, "url_password").unwrap_or_default();
        headers.push((
            "Authorization".into(),
            format!(
                "Basic {}",
                b64encode(format!("{user}:{password}").as_bytes())
            ),
        ));
    }
    headers
}

/// The `timeout` option in seconds (get_url's default is 10).
pub(super) fn timeout_of(args: &Args) -> f64 {
    args.get("timeout").and_then(Value::as_f64).unwrap_or(10.0)
}

/// The lines of a checksum file (`sha256sum` output) as `parse_digest_lines` reads them:
/// (digest, file name) pairs; a file of one bare digest names `filename`.
fn parse_digest_lines(filename: &str, text: &str) -> Vec<(String, String)> {
    let lines: Vec<&str> = text.lines().collect();
    let mut parsed = Vec::new();
    if lines.len() == 1 && lines[0].split_whitespace().count() == 1 {
        return vec![(lines[0].trim().to_string(), filename.to_string())];
    }
    for line in lines {
        let parts: Vec<&str> = line.split_whitespace().collect();
        if parts.len() < 2 {
            continue;
        }
        // `HASH *name` (binary mode) or `HASH  name`, and `./name` as sha256sum prints it.
        let name = parts[1]
            .trim_start_matches('*')
            .trim_start_matches("./")
            .to_string();
        parsed.push((parts[0].to_string(), name));
    }
    parsed
}

impl Module for GetUrl {
    fn run(&self, ctx: &mut ModuleCtx<'_>, args: &Args) -> ModuleResult {
        let args = match super::validated(ctx, &SPEC, args) {
            Ok(a) => a,
            Err(r) => return r,
        };
        if args.get("use_gssapi").and_then(super::to_bool) == Some(true) {
            return super::fail("fleetsim does not simulate the option 'use_gssapi' of get_url");
        }
        let flag = |name: &str| args.get(name).and_then(super::to_bool).unwrap_or(false);
        let url = arg_str(&args, "url").unwrap_or_default();
        let mut dest = arg_str(&args, "dest").unwrap_or_default();
        let mut force = flag("force");
        let backup = flag("backup");
        let check = ctx.check_mode;
        let timeout = timeout_of(&args);
        let headers = request_headers(&args);
        let tmp_dest = arg_str(&args, "tmp_dest").filter(|t| !t.is_empty());

        let mut result = super::ok(false);
        result.insert("checksum_dest".into(), Value::Null);
        result.insert("checksum_src".into(), Value::Null);
        result.insert("dest".into(), json!(dest));
        result.insert("elapsed".into(), json!(0));
        result.insert("url".into(), json!(url));
        let failed = |msg: &str, result: &ModuleResult| {
            let mut r = result.clone();
            r.insert("failed".into(), json!(true));
            r.insert("msg".into(), json!(msg));
            r
        };

        let (dest_is_dir, dest_exists) = match ctx.target_host() {
            Ok(h) => (h.fs.is_dir(&dest), h.fs.exists(&dest)),
            Err(r) => return r,
        };
        // `checksum: ALGORITHM:DIGEST`, the digest possibly in a checksum file at a URL.
        let mut wanted: Option<(String, String)> = None;
        if let Some(spec) = arg_str(&args, "checksum").filter(|c| !c.is_empty()) {
            let Some((algorithm, digest)) = spec.split_once(':') else {
                return failed(
                    "The checksum parameter has to be in format <algorithm>:<checksum>",
                    &result,
                );
            };
            let mut digest = digest.to_string();
            if digest.contains("://") {
                let listing = match fetch(
                    ctx,
                    Request {
                        url: &digest,
                        method: "GET",
                        timeout,
                        headers: headers.clone(),
                    },
                ) {
                    Ok(f) => f,
                    Err(e) => return download_failed(e, &url, &dest),
                };
                let filename = url_filename(&url);
                let text = String::from_utf8_lossy(&listing.body).to_string();
                match parse_digest_lines(&filename, &text)
                    .into_iter()
                    .find(|(_, f)| *f == filename)
                {
                    Some((d, _)) => digest = d,
                    None => {
                        return super::fail(&format!(
                            "Unable to find a checksum for file '{filename}' in '{digest}'"
                        ))
                    }
                }
            }
            // Anything not alphanumeric goes (the infamous zero-width space among them).
            let digest: String = digest
                .chars()
                .filter(|c| c.is_alphanumeric() || *c == '_')
                .collect::<String>()
                .to_lowercase();
            if digest.is_empty() || !digest.chars().all(|c| c.is_ascii_hexdigit()) {
                return failed("The checksum format is invalid", &result);
            }
            wanted = Some((algorithm.to_string(), digest));
        }

        if !dest_is_dir && dest_exists {
            let host = match ctx.target_host() {
                Ok(h) => h,
                Err(r) => return r,
            };
            let mut mismatch = false;
            if let Some((algorithm, digest)) = &wanted {
                let current = host.fs.read(&dest).unwrap_or_default();
                mismatch = match digest_of(algorithm, &current, &dest) {
                    Ok(d) => &d != digest,
                    Err(r) => return r,
                };
                if !force && !mismatch {
                    // Already there: only the file attributes may change.
                    let changed =
                        match super::file::apply_file_args(&mut host.fs, &dest, &args, check) {
                            Ok(c) => c,
                            Err(e) => return super::fail(&e),
                        };
                    result.insert("changed".into(), json!(changed));
                    result.insert(
                        "msg".into(),
                        json!(if changed {
                            "file already exists but file attributes changed"
                        } else {
                            "file already exists"
                        }),
                    );
                    path_info(&host.fs, &dest, &mut result);
                    return result;
                }
            }
            if mismatch {
                force = true;
            }
        }
        // fleetsim's services never answer 304, so `force` changes nothing more here.
        let _ = force;

        let method = if check { "HEAD" } else { "GET" };
        let fetched = match fetch(
            ctx,
            Request {
                url: &url,
                method,
                timeout,
                headers,
            },
        ) {
            Ok(f) => f,
            Err(e) => return download_failed(e, &url, &dest),
        };
        result.insert("elapsed".into(), json!(fetched.elapsed as i64));
        let host = match ctx.target_host() {
            Ok(h) => h,
            Err(r) => return r,
        };
        let tmp_dir = match &tmp_dest {
            Some(t) if host.fs.is_dir(t) => t.clone(),
            Some(t) if host.fs.exists(t) => {
                return super::fail(&format!("{t} is a file but should be a directory."))
            }
            Some(t) => return super::fail(&format!("{t} directory does not exist.")),
            None => MODULE_TMP.to_string(),
        };
        result.insert(
            "src".into(),
            json!(format!("{}/tmpdownload", tmp_dir.trim_end_matches('/'))),
        );
        if dest_is_dir {
            dest = format!("{}/{}", dest.trim_end_matches('/'), url_filename(&url));
            result.insert("dest".into(), json!(dest));
        }
        let checksum_src = super::sha1_hex(&fetched.body);
        result.insert("checksum_src".into(), json!(checksum_src));
        let existing = host.fs.read(&dest).ok();
        if host.fs.exists(&dest) {
            if host.fs.is_dir(&dest) {
                return failed(&format!("Destination {dest} is not writable"), &result);
            }
            result.insert(
                "checksum_dest".into(),
                json!(super::sha1_hex(existing.as_deref().unwrap_or_default())),
            );
        } else {
            let dir = match dest.trim_end_matches('/').rfind('/') {
                Some(0) => "/".to_string(),
                Some(i) => dest[..i].to_string(),
                None => ".".to_string(),
            };
            if !host.fs.is_dir(&dir) {
                return failed(&format!("Destination {dir} does not exist"), &result);
            }
        }
        let same = result.get("checksum_dest") == result.get("checksum_src");
        if check {
            result.insert("changed".into(), json!(!same));
            result.insert("msg".into(), json!(fetched.msg));
            path_info(&host.fs, &dest, &mut result);
            return result;
        }
        if let Some((algorithm, digest)) = &wanted {
            let src = result
                .get("src")
                .and_then(Value::as_str)
                .unwrap_or_default();
            let got = match digest_of(algorithm, &fetched.body, src) {
                Ok(d) => d,
                Err(r) => return r,
            };
            if &got != digest {
                return failed(
                    &format!("The checksum for {src} did not match {digest}; it was {got}."),
                    &result,
                );
            }
        }
        let mut backup_file = String::new();
        let mut changed = false;
        if !same {
            if backup {
                match super::backup_local(&mut host.fs, &dest, false) {
                    Ok(b) => backup_file = b,
                    Err(r) => return r,
                }
            }
            if let Err(e) = host.fs.write(&dest, &fetched.body, WriteMode::Truncate) {
                let src = result
                    .get("src")
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                return failed(&format!("failed to copy {src} to {dest}: {e}"), &result);
            }
            // A new file from the module's temporary one: 0600 before the umask's default
            // is applied by atomic_move, i.e. 0644 as any new file.
            changed = true;
        }
        match super::file::apply_file_args(&mut host.fs, &dest, &args, false) {
            Ok(c) => changed |= c,
            Err(e) => return super::fail(&e),
        }
        result.insert("changed".into(), json!(changed));
        result.insert(
            "md5sum".into(),
            json!(crate::template::filters::hash::md5_bytes_hex(
                &host.fs.read(&dest).unwrap_or_default()
            )),
        );
        if !backup_file.is_empty() {
            result.insert("backup_file".into(), json!(backup_file));
        }
        result.insert("msg".into(), json!(fetched.msg));
        result.insert(
            "status_code".into(),
            fetched.status.map_or(Value::Null, |s| json!(s)),
        );
        path_info(&host.fs, &dest, &mut result);
        result
    }
}

/// `digest_from_file`: the digest of a file's bytes, or its failure for an algorithm it does
/// not know.
fn digest_of(algorithm: &str, data: &[u8], path: &str) -> Result<String, ModuleResult> {
    super::digest_hex(algorithm, data).ok_or_else(|| {
        super::fail(&format!(
            "Could not hash file '{path}' with algorithm '{algorithm}'. Available algorithms: md5, sha1, sha224, sha256, sha384, sha512"
        ))
    })
}

/// `url_get`'s failures: no answer (`msg` is the reason), or an answer other than 200.
fn download_failed(e: FetchError, url: &str, dest: &str) -> ModuleResult {
    let mut r = if e.status == -1 {
        super::fail(&e.msg)
    } else {
        let mut r = super::fail("Request failed");
        r.insert("status_code".into(), json!(e.status));
        r.insert("response".into(), json!(e.msg));
        r
    };
    r.insert("url".into(), json!(url));
    r.insert("dest".into(), json!(dest));
    r.insert("elapsed".into(), json!(e.elapsed as i64));
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_from_urls() {
        assert_eq!(
            url_filename("http://h:8080/rel/app-1.2.tar.gz"),
            "app-1.2.tar.gz"
        );
        assert_eq!(url_filename("http://h:8080/"), "index.html");
        assert_eq!(url_filename("http://h"), "index.html");
        assert_eq!(url_filename("http://h/a/b.zip?x=1"), "b.zip");
        assert_eq!(url_filename("file:///srv/x.txt"), "x.txt");
    }

    #[test]
    fn digest_lines() {
        let text = "abc123  app.tar.gz\ndef456 *other.zip\n";
        assert_eq!(
            parse_digest_lines("app.tar.gz", text),
            vec![
                ("abc123".to_string(), "app.tar.gz".to_string()),
                ("def456".to_string(), "other.zip".to_string())
            ]
        );
        assert_eq!(
            parse_digest_lines("f", "abc123\n"),
            vec![("abc123".to_string(), "f".to_string())]
        );
    }

    #[test]
    fn basic_auth() {
        assert_eq!(b64encode(b"user:pass"), "dXNlcjpwYXNz");
        assert_eq!(b64encode(b"a"), "YQ==");
        assert_eq!(b64encode(b"ab"), "YWI=");
    }
}
