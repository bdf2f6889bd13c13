//! `curl` as Debian 12's curl 7.88.1 behaves for plain-HTTP requests: option parsing with
//! combined short flags, the request it builds (`User-Agent: curl/7.88.1`, `Accept: */*`,
//! form-encoded `-d`), what goes to stdout, stderr or `-o FILE`, `--write-out`, `--fail`,
//! `--retry`, and its exit codes and error texts.
//!
//! Only `http://` exists: the simulated fleet has no TLS, so `https://` fails the way a
//! curl built without TLS does (exit 1, `Protocol "https" not supported or disabled in
//! libcurl`) rather than pretending to verify certificates. Not simulated: the progress
//! meter curl prints to stderr without `-s` when stdout is not a terminal, URL globbing
//! (`{a,b}`, `[1-3]`: such characters are sent percent-encoded), and following redirects
//! (`-L` is accepted; the fleet's services never redirect).

use super::{abs_path, charge, FleetAccess};
use crate::fleet::http::{HttpRequest, HttpResponse, NetError};
use crate::fs::WriteMode;
use crate::shell::{HostView, ShellOutput};

const VERSION: &str = "7.88.1";

/// curl's connect timeout when neither `-m` nor `--connect-timeout` is given
/// (DEFAULT_CONNECT_TIMEOUT): a host that never answers is given up after 300 s.
const DEFAULT_CONNECT_TIMEOUT: f64 = 300.0;

/// `--retry` waits 1 s before the first retry and doubles the wait each time, up to 10 min
/// (unless `--retry-delay` fixes it).
const RETRY_FIRST_DELAY: f64 = 1.0;
const RETRY_MAX_DELAY: f64 = 600.0;

/// HTTP statuses `--retry` treats as transient (curl's list).
const RETRY_STATUSES: [u16; 8] = [408, 429, 500, 502, 503, 504, 522, 524];

const TRY_HELP: &str = "curl: try 'curl --help' or 'curl --manual' for more information\n";

const SHORT_HELP: &str = "Usage: curl [options...] <url>
 -d, --data <data>          HTTP POST data
 -f, --fail                 Fail fast with no output on HTTP errors
 -h, --help <category>      Get help for commands
 -i, --include              Include protocol response headers in the output
 -o, --output <file>        Write to file instead of stdout
 -O, --remote-name          Write output to a file named as the remote file
 -s, --silent               Silent mode
 -T, --upload-file <file>   Transfer local FILE to destination
 -u, --user <user:password> Server user and password
 -A, --user-agent <name>    Send User-Agent <name> to server
 -v, --verbose              Make the operation more talkative
 -V, --version              Show version number and quit

This is not the full help, this menu is stripped into categories.
Use \"--help category\" to get an overview of all categories.
For all options use the manual or \"--help all\".
";

/// The options understood; everything else is `is unknown` (exit 2), as in curl.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Opt {
    Silent,
    ShowError,
    Fail,
    FailWithBody,
    Head,
    Include,
    Verbose,
    Location,
    Insecure,
    Globoff,
    Get,
    Request,
    Header,
    Data,
    DataRaw,
    DataBinary,
    Output,
    RemoteName,
    CreateDirs,
    WriteOut,
    MaxTime,
    ConnectTimeout,
    Retry,
    RetryDelay,
    RetryConnRefused,
    User,
    UserAgent,
    Url,
    Help,
    Version,
}

/// (short letter, long name, option, takes a value).
const OPTS: &[(Option<char>, &str, Opt, bool)] = &[
    (Some('s'), "silent", Opt::Silent, false),
    (Some('S'), "show-error", Opt::ShowError, false),
    (Some('f'), "fail", Opt::Fail, false),
    (None, "fail-with-body", Opt::FailWithBody, false),
    (Some('I'), "head", Opt::Head, false),
    (Some('i'), "include", Opt::Include, false),
    (Some('v'), "verbose", Opt::Verbose, false),
    (Some('L'), "location", Opt::Location, false),
    (Some('k'), "insecure", Opt::Insecure, false),
    (Some('g'), "globoff", Opt::Globoff, false),
    (Some('G'), "get", Opt::Get, false),
    (Some('X'), "request", Opt::Request, true),
    (Some('H'), "header", Opt::Header, true),
    (Some('d'), "data", Opt::Data, true),
    (None, "data-raw", Opt::DataRaw, true),
    (None, "data-binary", Opt::DataBinary, true),
    (Some('o'), "output", Opt::Output, true),
    (Some('O'), "remote-name", Opt::RemoteName, false),
    (None, "create-dirs", Opt::CreateDirs, false),
    (Some('w'), "write-out", Opt::WriteOut, true),
    (Some('m'), "max-time", Opt::MaxTime, true),
    (None, "connect-timeout", Opt::ConnectTimeout, true),
    (None, "retry", Opt::Retry, true),
    (None, "retry-delay", Opt::RetryDelay, true),
    (None, "retry-connrefused", Opt::RetryConnRefused, false),
    (Some('u'), "user", Opt::User, true),
    (Some('A'), "user-agent", Opt::UserAgent, true),
    (None, "url", Opt::Url, true),
    (Some('h'), "help", Opt::Help, false),
    (Some('V'), "version", Opt::Version, false),
];

/// Request data and how curl reads it.
#[derive(Debug, Clone)]
enum Data {
    /// `-d`: `@file` reads the file and drops its CR and LF characters.
    Ascii(String),
    /// `--data-raw`: taken as written, `@` included.
    Raw(String),
    /// `--data-binary`: `@file` reads the file as is.
    Binary(String),
}

/// Where one URL's output goes.
#[derive(Debug, Clone)]
enum Target {
    Stdout,
    File(String),
    /// `-O`: the URL's last path segment, in the working directory.
    RemoteName,
}

#[derive(Debug, Default)]
struct Args {
    silent: bool,
    show_error: bool,
    fail: bool,
    fail_with_body: bool,
    head: bool,
    include: bool,
    verbose: bool,
    get: bool,
    create_dirs: bool,
    method: Option<String>,
    headers: Vec<String>,
    data: Vec<Data>,
    targets: Vec<Target>,
    write_out: Option<String>,
    max_time: Option<f64>,
    connect_timeout: Option<f64>,
    retry: u32,
    retry_delay: Option<f64>,
    retry_connrefused: bool,
    user: Option<String>,
    user_agent: Option<String>,
    urls: Vec<String>,
    help: bool,
    version: bool,
}

impl Args {
    /// Whether error messages are printed (`-s` hides them, `-S` brings them back).
    fn show_errors(&self) -> bool {
        !self.silent || self.show_error
    }
}

/// Parses the command line; `Err` is the message after `curl: `.
fn parse(argv: &[String]) -> Result<Args, String> {
    let mut args = Args::default();
    let mut i = 1;
    let mut options_done = false;
    while i < argv.len() {
        let a = &argv[i];
        i += 1;
        if !options_done && a == "--" {
            options_done = true;
        } else if !options_done && a.starts_with("--") {
            // curl has no `--name=value` form: `--max-time=5` is an unknown option.
            let Some(&(_, _, opt, takes)) = OPTS.iter().find(|o| o.1 == &a[2..]) else {
                return Err(format!("option {a}: is unknown"));
            };
            let value = if takes {
                let Some(v) = argv.get(i) else {
                    return Err(format!("option {a}: requires parameter"));
                };
                i += 1;
                Some(v.as_str())
            } else {
                None
            };
            apply(&mut args, opt, value, a)?;
        } else if !options_done && a.len() > 1 && a.starts_with('-') {
            let letters: Vec<char> = a[1..].chars().collect();
            let mut j = 0;
            while j < letters.len() {
                let c = letters[j];
                j += 1;
                let name = format!("-{c}");
                let Some(&(_, _, opt, takes)) = OPTS.iter().find(|o| o.0 == Some(c)) else {
                    return Err(format!("option {name}: is unknown"));
                };
                if !takes {
                    apply(&mut args, opt, None, &name)?;
                    continue;
                }
                // A value-taking letter swallows the rest of the cluster (`-XPOST`,
                // `-sSo out`), or else the next argument.
                let rest: String = letters[j..].iter().collect();
                let value = if !rest.is_empty() {
                    rest
                } else if let Some(v) = argv.get(i) {
                    i += 1;
                    v.clone()
                } else {
                    return Err(format!("option {name}: requires parameter"));
                };
                apply(&mut args, opt, Some(&value), &name)?;
                break;
            }
        } else {
            args.urls.push(a.clone());
        }
    }
    Ok(args)
}

fn apply(args: &mut Args, opt: Opt, value: Option<&str>, name: &str) -> Result<(), String> {
    let v = || value.unwrap_or_default().to_string();
    match opt {
        Opt::Silent => args.silent = true,
        Opt::ShowError => args.show_error = true,
        Opt::Fail => args.fail = true,
        Opt::FailWithBody => args.fail_with_body = true,
        Opt::Head => args.head = true,
        Opt::Include => args.include = true,
        Opt::Verbose => args.verbose = true,
        // No redirects, no TLS, no globbing here: accepted so scripts run unchanged.
        Opt::Location | Opt::Insecure | Opt::Globoff => {}
        Opt::Get => args.get = true,
        Opt::Request => args.method = Some(v()),
        Opt::Header => args.headers.push(v()),
        Opt::Data => args.data.push(Data::Ascii(v())),
        Opt::DataRaw => args.data.push(Data::Raw(v())),
        Opt::DataBinary => args.data.push(Data::Binary(v())),
        Opt::Output => args.targets.push(Target::File(v())),
        Opt::RemoteName => args.targets.push(Target::RemoteName),
        Opt::CreateDirs => args.create_dirs = true,
        Opt::WriteOut => args.write_out = Some(v()),
        // 0 means "no limit" for both, as in curl.
        Opt::MaxTime => args.max_time = Some(seconds(&v(), name)?).filter(|t| *t > 0.0),
        Opt::ConnectTimeout => {
            args.connect_timeout = Some(seconds(&v(), name)?).filter(|t| *t > 0.0)
        }
        Opt::Retry => {
            args.retry = v()
                .parse()
                .map_err(|_| format!("option {name}: expected a proper numerical parameter"))?
        }
        // Whole seconds, as curl reads it.
        Opt::RetryDelay => {
            let secs: u32 = v()
                .parse()
                .map_err(|_| format!("option {name}: expected a proper numerical parameter"))?;
            args.retry_delay = Some(f64::from(secs));
        }
        Opt::RetryConnRefused => args.retry_connrefused = true,
        Opt::User => args.user = Some(v()),
        Opt::UserAgent => args.user_agent = Some(v()),
        Opt::Url => args.urls.push(v()),
        Opt::Help => args.help = true,
        Opt::Version => args.version = true,
    }
    Ok(())
}

fn seconds(v: &str, name: &str) -> Result<f64, String> {
    v.parse::<f64>()
        .ok()
        .filter(|t| t.is_finite() && *t >= 0.0)
        .ok_or_else(|| format!("option {name}: expected a proper numerical parameter"))
}

/// A parsed `http://` URL.
#[derive(Debug, Clone, PartialEq)]
struct Url {
    /// Host as written (without IPv6 brackets).
    host: String,
    port: u16,
    /// The port was written in the URL (it then shows in `Host:` unless it is 80).
    port_given: bool,
    /// Normalized path and query, percent-encoded where HTTP requires it.
    path: String,
    /// `user:password@` from the URL.
    userinfo: Option<String>,
}

impl Url {
    /// The `Host:` header: the port only when it is not 80 (as curl sends it).
    fn host_header(&self) -> String {
        let h = if self.host.contains(':') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        };
        if self.port == 80 {
            h
        } else {
            format!("{h}:{}", self.port)
        }
    }

    /// `%{url_effective}`.
    fn effective(&self) -> String {
        let h = if self.host.contains(':') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        };
        if self.port_given {
            format!("http://{h}:{}{}", self.port, self.path)
        } else {
            format!("http://{h}{}", self.path)
        }
    }
}

/// A transfer that failed before or instead of an HTTP answer: curl's exit code and message.
#[derive(Debug, Clone, PartialEq)]
struct Failure {
    rc: i32,
    message: String,
}

impl Failure {
    fn new(rc: i32, message: impl Into<String>) -> Failure {
        Failure {
            rc,
            message: message.into(),
        }
    }
}

fn bad_url() -> Failure {
    Failure::new(3, "URL using bad/illegal format or missing URL")
}

fn parse_url(s: &str) -> Result<Url, Failure> {
    if s.is_empty() || s.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(bad_url());
    }
    let (scheme, rest) = match s.find("://") {
        Some(i) => (s[..i].to_ascii_lowercase(), &s[i + 3..]),
        // No scheme: curl guesses http.
        None => ("http".to_string(), s),
    };
    if scheme != "http" {
        return Err(Failure::new(
            1,
            format!("Protocol \"{scheme}\" not supported or disabled in libcurl"),
        ));
    }
    let auth_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(auth_end);
    let (userinfo, hostport) = match authority.rsplit_once('@') {
        Some((u, h)) => (Some(u.to_string()), h),
        None => (None, authority),
    };
    let (host, port_text) = if let Some(v6) = hostport.strip_prefix('[') {
        let (h, after) = v6.split_once(']').ok_or_else(bad_url)?;
        let port = match after {
            "" => None,
            p => Some(p.strip_prefix(':').ok_or_else(bad_url)?),
        };
        if h.is_empty()
            || !h
                .chars()
                .all(|c| c.is_ascii_hexdigit() || c == ':' || c == '.')
        {
            return Err(bad_url());
        }
        (h.to_string(), port)
    } else {
        let (h, p) = match hostport.split_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (hostport, None),
        };
        if h.is_empty()
            || !h
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_'))
        {
            return Err(bad_url());
        }
        (h.to_string(), p)
    };
    let (port, port_given) = match port_text {
        None | Some("") => (80, false),
        Some(p) if p.bytes().all(|b| b.is_ascii_digit()) && p.len() <= 5 => {
            (p.parse::<u16>().map_err(|_| bad_url())?, true)
        }
        Some(_) => return Err(bad_url()),
    };
    let tail = tail.split('#').next().unwrap_or("");
    let (path, query) = match tail.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (tail, None),
    };
    let mut full = normalize_path(path);
    if let Some(q) = query {
        full.push('?');
        full.push_str(q);
    }
    Ok(Url {
        host,
        port,
        port_given,
        path: percent_encode(&full),
        userinfo,
    })
}

/// Removes `.` and `..` segments as curl does before sending (RFC 3986 5.2.4).
fn normalize_path(path: &str) -> String {
    if path.is_empty() {
        return "/".into();
    }
    let mut out: Vec<&str> = Vec::new();
    let segments: Vec<&str> = path.split('/').skip(1).collect();
    let last = segments.len().saturating_sub(1);
    let mut trailing_slash = false;
    for (i, seg) in segments.iter().enumerate() {
        match *seg {
            "." => trailing_slash = i == last,
            ".." => {
                out.pop();
                trailing_slash = i == last;
            }
            s => {
                out.push(s);
                trailing_slash = false;
            }
        }
    }
    let mut p = format!("/{}", out.join("/"));
    if trailing_slash && !p.ends_with('/') {
        p.push('/');
    }
    p
}

/// Percent-encodes the bytes an HTTP request target cannot carry as they are.
fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        let keep = b.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=:@/?%".contains(&b);
        if keep {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// stdout and stderr being collected.
#[derive(Default)]
struct Out {
    stdout: Vec<u8>,
    stderr: Vec<u8>,
}

impl Out {
    fn err(&mut self, s: &str) {
        self.stderr.extend_from_slice(s.as_bytes());
    }

    /// curl's `warnf`: hidden by `-s`; `Warning: ` starts each line and the text is
    /// wrapped at a blank to fit 79 columns, the blank kept at the end of the line.
    fn warn(&mut self, args: &Args, text: &str) {
        const PREFIX: &[u8] = b"Warning: ";
        const WIDTH: usize = 79 - PREFIX.len();
        if args.silent {
            return;
        }
        let mut rest = text.as_bytes();
        while !rest.is_empty() {
            self.stderr.extend_from_slice(PREFIX);
            if rest.len() > WIDTH {
                let mut cut = WIDTH - 1;
                while cut > 0 && !matches!(rest[cut], b' ' | b'\t') {
                    cut -= 1;
                }
                if cut == 0 {
                    cut = WIDTH - 1;
                }
                self.stderr.extend_from_slice(&rest[..=cut]);
                self.stderr.push(b'\n');
                rest = &rest[cut + 1..];
            } else {
                self.stderr.extend_from_slice(rest);
                rest = &[];
            }
        }
    }
}

/// Runs `curl ARGS...` on the host.
pub(super) fn run<A: FleetAccess>(
    access: &mut A,
    argv: &[String],
    stdin: &[u8],
    host: &mut HostView<'_>,
) -> ShellOutput {
    let args = match parse(argv) {
        Ok(a) => a,
        Err(m) => return ShellOutput::new(2, "", format!("curl: {m}\n{TRY_HELP}")),
    };
    if args.help {
        return ShellOutput::new(0, SHORT_HELP, "");
    }
    if args.version {
        // A build with HTTP only: what this simulated curl can do.
        let v = format!(
            "curl {VERSION} (x86_64-pc-linux-gnu) libcurl/{VERSION}\nRelease-Date: 2023-02-20\nProtocols: http\nFeatures: IPv6 Largefile UnixSockets\n"
        );
        return ShellOutput::new(0, v, "");
    }
    if args.urls.is_empty() {
        return ShellOutput::new(2, "", format!("curl: no URL specified!\n{TRY_HELP}"));
    }
    let mut out = Out::default();
    let body = request_body(&args, stdin, host, &mut out);
    let write_out = args.write_out.as_ref().map(|w| match w.strip_prefix('@') {
        Some("-") => String::from_utf8_lossy(stdin).into_owned(),
        Some(file) => host
            .sandbox
            .read(&abs_path(host.cwd, file))
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .unwrap_or_default(),
        None => w.clone(),
    });
    let mut rc = 0;
    for (i, url) in args.urls.iter().enumerate() {
        let target = args.targets.get(i).cloned().unwrap_or(Target::Stdout);
        // curl's exit status is the last transfer's.
        rc = transfer(
            access,
            &args,
            url,
            target,
            &body,
            write_out.as_deref(),
            host,
            &mut out,
        );
    }
    ShellOutput::new(rc, out.stdout, out.stderr)
}

/// The request body from all `-d`/`--data-*` options, joined with `&`.
fn request_body(
    args: &Args,
    stdin: &[u8],
    host: &mut HostView<'_>,
    out: &mut Out,
) -> Option<Vec<u8>> {
    if args.data.is_empty() {
        return None;
    }
    let mut body = Vec::new();
    for (i, d) in args.data.iter().enumerate() {
        if i > 0 {
            body.push(b'&');
        }
        let (text, from_file, strip) = match d {
            Data::Ascii(t) => (t, t.starts_with('@'), true),
            Data::Binary(t) => (t, t.starts_with('@'), false),
            Data::Raw(t) => (t, false, false),
        };
        if !from_file {
            body.extend_from_slice(text.as_bytes());
            continue;
        }
        let name = &text[1..];
        let content = if name == "-" {
            Some(stdin.to_vec())
        } else {
            host.sandbox.read(&abs_path(host.cwd, name)).ok()
        };
        match content {
            Some(c) if strip => body.extend(c.into_iter().filter(|b| *b != b'\r' && *b != b'\n')),
            Some(c) => body.extend(c),
            None => out.warn(
                args,
                &format!("Couldn't read data from file \"{name}\", this makes an empty POST.\n"),
            ),
        }
    }
    Some(body)
}

/// What `--write-out` can report about one transfer.
struct Info<'a> {
    url: Option<&'a Url>,
    method: &'a str,
    response: Option<&'a HttpResponse>,
    time_total: f64,
    exitcode: i32,
    errormsg: String,
    num_retries: u32,
}

/// One URL: build the request, send it (retrying if asked), deliver the answer, report.
#[allow(clippy::too_many_arguments)]
fn transfer<A: FleetAccess>(
    access: &mut A,
    args: &Args,
    url_text: &str,
    target: Target,
    body: &Option<Vec<u8>>,
    write_out: Option<&str>,
    host: &mut HostView<'_>,
    out: &mut Out,
) -> i32 {
    let start = *host.now;
    let mut info = Info {
        url: None,
        method: "GET",
        response: None,
        time_total: 0.0,
        exitcode: 0,
        errormsg: String::new(),
        num_retries: 0,
    };
    let url = match parse_url(url_text) {
        Ok(u) => u,
        Err(f) => {
            return finish(args, &mut info, Some(f), write_out, start, host, out);
        }
    };
    let req = build_request(args, &url, body);
    let method = req.method.clone();
    info.method = &method;
    info.url = Some(&url);

    let limit = match (args.max_time, args.connect_timeout) {
        (Some(m), Some(c)) => m.min(c),
        (Some(m), None) => m,
        (None, Some(c)) => c,
        (None, None) => DEFAULT_CONNECT_TIMEOUT,
    };
    // Which limit ran out decides the message: `-m` is the whole operation's.
    let operation_limit = args
        .max_time
        .is_some_and(|m| args.connect_timeout.is_none_or(|c| m <= c));
    let addr = if url.host == "localhost" {
        "127.0.0.1"
    } else {
        url.host.as_str()
    };

    let mut retries_left = args.retry;
    let mut delay = args.retry_delay.unwrap_or(RETRY_FIRST_DELAY);
    let mut last_response: Option<HttpResponse> = None;
    let failure = loop {
        if args.verbose {
            out.err(&format!("*   Trying {addr}:{}...\n", url.port));
        }
        let at = *host.now;
        let (result, took) =
            access.http(host.hostname, &url.host, url.port, req.clone(), limit, at);
        let took = charge(took, host);
        let ms = (took * 1000.0).round() as u64;
        let (failure, why_retry) = match &result {
            Ok(resp) => {
                if args.verbose {
                    verbose_exchange(&req, &url, addr, resp, out);
                }
                let failed = resp.status >= 400 && (args.fail || args.fail_with_body);
                let f = if failed {
                    Some(Failure::new(
                        22,
                        format!("The requested URL returned error: {}", resp.status),
                    ))
                } else {
                    None
                };
                let retry = RETRY_STATUSES
                    .contains(&resp.status)
                    .then_some("HTTP error");
                (f, retry)
            }
            Err(NetError::Refused) | Err(NetError::NoRoute) => (
                Some(Failure::new(
                    7,
                    format!(
                        "Failed to connect to {} port {} after {ms} ms: Couldn't connect to server",
                        url.host, url.port
                    ),
                )),
                args.retry_connrefused.then_some("connection refused"),
            ),
            Err(NetError::Timeout { after }) => {
                let ms = (after * 1000.0).round() as u64;
                let message = if operation_limit {
                    format!("Operation timed out after {ms} milliseconds with 0 bytes received")
                } else {
                    format!("Connection timed out after {ms} milliseconds")
                };
                (Some(Failure::new(28, message)), Some("timeout"))
            }
        };
        let mut failure = failure;
        if let Ok(resp) = result {
            if let Err(f) = deliver(args, &resp, &target, &url, host, out) {
                failure = Some(f);
            }
            last_response = Some(resp);
        }
        match why_retry {
            Some(why) if retries_left > 0 && failure.as_ref().is_none_or(|f| f.rc != 23) => {
                // A server's `Retry-After: SECONDS` sets this wait (curl honours it even
                // with --retry-delay); the doubling goes on underneath.
                let retry_after = last_response
                    .as_ref()
                    .filter(|_| why == "HTTP error")
                    .and_then(|r| r.header("retry-after"))
                    .and_then(|v| v.trim().parse::<u32>().ok())
                    .filter(|s| *s > 0)
                    .map(f64::from);
                let wait = retry_after.unwrap_or(delay);
                out.warn(
                    args,
                    &format!(
                        "Problem : {why}. Will retry in {} seconds. {retries_left} retries left.\n",
                        wait.floor() as u64
                    ),
                );
                *host.now += wait;
                retries_left -= 1;
                info.num_retries += 1;
                if args.retry_delay.is_none() {
                    delay = (delay * 2.0).min(RETRY_MAX_DELAY);
                }
            }
            _ => break failure,
        }
    };
    info.response = last_response.as_ref();
    if args.verbose {
        match &failure {
            None => out.err(&format!(
                "* Connection #0 to host {} left intact\n",
                url.host
            )),
            Some(f) => out.err(&format!("* {}\n* Closing connection 0\n", f.message)),
        }
    }
    finish(args, &mut info, failure, write_out, start, host, out)
}

/// Prints the error (if shown) and the `--write-out` text; returns the exit code.
fn finish(
    args: &Args,
    info: &mut Info<'_>,
    failure: Option<Failure>,
    write_out: Option<&str>,
    start: f64,
    host: &mut HostView<'_>,
    out: &mut Out,
) -> i32 {
    info.time_total = *host.now - start;
    if let Some(f) = &failure {
        info.exitcode = f.rc;
        info.errormsg = f.message.clone();
        if args.show_errors() {
            out.err(&format!("curl: ({}) {}\n", f.rc, f.message));
        }
    }
    if let Some(fmt) = write_out {
        let text = format_write_out(fmt, info, out);
        out.stdout.extend_from_slice(text.as_bytes());
    }
    failure.map_or(0, |f| f.rc)
}

fn build_request(args: &Args, url: &Url, body: &Option<Vec<u8>>) -> HttpRequest {
    let mut path = url.path.clone();
    let mut send_body = body.clone();
    if args.get {
        // -G: the data becomes the query string.
        if let Some(b) = send_body.take() {
            path.push(if path.contains('?') { '&' } else { '?' });
            path.push_str(&percent_encode(&String::from_utf8_lossy(&b)));
        }
    }
    let method = match &args.method {
        Some(m) => m.clone(),
        None if args.head => "HEAD".into(),
        None if send_body.is_some() => "POST".into(),
        None => "GET".into(),
    };
    let mut req = HttpRequest::new(&method, &url.host_header(), &path);
    // curl's own headers, in its order; a -H with the same name replaces one ("Name:" with
    // nothing after the colon removes it).
    let mut defaults: Vec<(String, String)> = Vec::new();
    if let Some(user) = args.user.as_ref().or(url.userinfo.as_ref()) {
        let creds = if user.contains(':') {
            user.clone()
        } else {
            format!("{user}:")
        };
        defaults.push((
            "Authorization".into(),
            format!("Basic {}", crate::base64::encode(creds.as_bytes())),
        ));
    }
    defaults.push((
        "User-Agent".into(),
        args.user_agent
            .clone()
            .unwrap_or_else(|| format!("curl/{VERSION}")),
    ));
    defaults.push(("Accept".into(), "*/*".into()));
    if send_body.is_some() {
        defaults.push((
            "Content-Type".into(),
            "application/x-www-form-urlencoded".into(),
        ));
    }
    let mut custom: Vec<(String, String)> = Vec::new();
    let mut removed: Vec<String> = Vec::new();
    for h in &args.headers {
        if let Some((name, value)) = h.split_once(':') {
            let name = name.trim();
            let value = value.trim();
            if name.is_empty() {
                continue;
            }
            if name.eq_ignore_ascii_case("host") {
                if value.is_empty() {
                    removed.push(name.to_ascii_lowercase());
                } else {
                    req.host = value.to_string();
                }
                continue;
            }
            if value.is_empty() {
                removed.push(name.to_ascii_lowercase());
            } else {
                removed.push(name.to_ascii_lowercase());
                custom.push((name.to_string(), value.to_string()));
            }
        } else if let Some(name) = h.strip_suffix(';') {
            // `Name;` sends the header with an empty value.
            removed.push(name.trim().to_ascii_lowercase());
            custom.push((name.trim().to_string(), String::new()));
        }
        // Anything else is not a header; curl ignores it.
    }
    for (k, v) in defaults {
        if !removed.contains(&k.to_ascii_lowercase()) {
            req.headers.push((k, v));
        }
    }
    req.headers.extend(custom);
    if let Some(b) = send_body {
        req.body = b;
    }
    req
}

/// The status line and headers as curl prints them for `-i`/`-I`.
fn head_text(resp: &HttpResponse) -> String {
    let mut s = format!("HTTP/1.1 {} {}\r\n", resp.status, resp.reason());
    for (k, v) in &resp.headers {
        s.push_str(&format!("{k}: {v}\r\n"));
    }
    s.push_str("\r\n");
    s
}

/// Writes the answer where it goes. `Err` is curl's write failure (exit 23).
fn deliver(
    args: &Args,
    resp: &HttpResponse,
    target: &Target,
    url: &Url,
    host: &mut HostView<'_>,
    out: &mut Out,
) -> Result<(), Failure> {
    if resp.status >= 400 && args.fail && !args.fail_with_body {
        return Ok(());
    }
    let mut content = Vec::new();
    if args.head || args.include {
        content.extend_from_slice(head_text(resp).as_bytes());
    }
    if !args.head {
        content.extend_from_slice(&resp.body);
    }
    let file = match target {
        Target::Stdout => None,
        Target::File(f) => Some(f.clone()),
        Target::RemoteName => {
            let path = url.path.split('?').next().unwrap_or("");
            let name = path.rsplit('/').next().unwrap_or("");
            if name.is_empty() {
                return Err(Failure::new(23, "Remote file name has no length"));
            }
            Some(name.to_string())
        }
    };
    match file.as_deref() {
        None | Some("-") | Some("/dev/stdout") => out.stdout.extend_from_slice(&content),
        Some("/dev/stderr") => out.stderr.extend_from_slice(&content),
        Some("/dev/null") => {}
        Some(f) => {
            let path = abs_path(host.cwd, f);
            if args.create_dirs {
                if let Some((dir, _)) = path.rsplit_once('/') {
                    if !dir.is_empty() {
                        // A failure shows up as the write's own error just below.
                        let _ = host.sandbox.mkdir(dir, true);
                    }
                }
            }
            if let Err(e) = host.sandbox.write(&path, &content, WriteMode::Truncate) {
                out.warn(
                    args,
                    &format!("Failed to open the file {f}: {}\n", e.errno.message()),
                );
                return Err(Failure::new(23, "Failure writing output to destination"));
            }
        }
    }
    Ok(())
}

/// `-v`'s account of a completed exchange (after the `Trying` line).
fn verbose_exchange(req: &HttpRequest, url: &Url, addr: &str, resp: &HttpResponse, out: &mut Out) {
    let mut s = format!(
        "* Connected to {} ({addr}) port {} (#0)\n",
        url.host, url.port
    );
    s.push_str(&format!("> {} {} HTTP/1.1\r\n", req.method, req.path));
    s.push_str(&format!("> Host: {}\r\n", req.host));
    for (k, v) in &req.headers {
        s.push_str(&format!("> {k}: {v}\r\n"));
    }
    if !req.body.is_empty() {
        s.push_str(&format!("> Content-Length: {}\r\n", req.body.len()));
    }
    s.push_str("> \r\n");
    for line in head_text(resp).split_inclusive("\r\n") {
        s.push_str("< ");
        s.push_str(line);
    }
    out.err(&s);
}

/// Expands a `--write-out` format: `%{var}`, `%header{name}`, `%%`, `\n`, `\r`, `\t`.
fn format_write_out(fmt: &str, info: &Info<'_>, out: &mut Out) -> String {
    let mut s = String::new();
    let mut chars = fmt.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.peek() {
                Some('n') => {
                    chars.next();
                    s.push('\n');
                }
                Some('r') => {
                    chars.next();
                    s.push('\r');
                }
                Some('t') => {
                    chars.next();
                    s.push('\t');
                }
                _ => s.push('\\'),
            },
            '%' => {
                let rest: String = chars.clone().collect();
                if rest.starts_with('%') {
                    chars.next();
                    s.push('%');
                } else if let Some(r) = rest.strip_prefix('{').and_then(|r| r.split_once('}')) {
                    let name = r.0;
                    for _ in 0..name.chars().count() + 2 {
                        chars.next();
                    }
                    match write_out_var(name, info) {
                        Some(v) => s.push_str(&v),
                        None => out.err(&format!("curl: unknown --write-out variable: '{name}'\n")),
                    }
                } else if let Some(r) = rest.strip_prefix("header{").and_then(|r| r.split_once('}'))
                {
                    let name = r.0;
                    for _ in 0..name.chars().count() + 8 {
                        chars.next();
                    }
                    if let Some(v) = info.response.and_then(|r| r.header(name)) {
                        s.push_str(v);
                    }
                } else {
                    s.push('%');
                }
            }
            c => s.push(c),
        }
    }
    s
}

fn write_out_var(name: &str, info: &Info<'_>) -> Option<String> {
    let resp = info.response;
    Some(match name {
        "http_code" | "response_code" => format!("{:03}", resp.map_or(0, |r| r.status)),
        "http_version" => if resp.is_some() { "1.1" } else { "0" }.to_string(),
        "time_total" | "time_starttransfer" => format!("{:.6}", info.time_total),
        "time_connect" | "time_namelookup" | "time_pretransfer" | "time_appconnect"
        | "time_redirect" => format!("{:.6}", 0.0),
        "size_download" => resp.map_or(0, |r| r.body.len()).to_string(),
        "size_header" => resp.map_or(0, |r| head_text(r).len()).to_string(),
        "size_upload" | "size_request" => "0".to_string(),
        "content_type" => resp
            .and_then(|r| r.header("content-type"))
            .unwrap_or("")
            .to_string(),
        "url_effective" | "url" => info.url.map(Url::effective).unwrap_or_default(),
        "method" => info.method.to_string(),
        "exitcode" => info.exitcode.to_string(),
        "errormsg" => info.errormsg.clone(),
        "num_retries" => info.num_retries.to_string(),
        "num_headers" => resp.map_or(0, |r| r.headers.len()).to_string(),
        "remote_port" => info.url.map(|u| u.port.to_string()).unwrap_or_default(),
        "scheme" => "HTTP".to_string(),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::super::fake::{Answer, Bench, Fake};
    use super::*;
    use proptest::prelude::*;

    /// One curl command line against `fake` on host `web-01` (cwd `/work`).
    fn bench(fake: Fake) -> Bench {
        Bench::new("curl", "web-01", "/work", 100.0, fake)
    }

    impl Bench {
        fn requests(&self) -> Vec<(f64, String, String, u16, HttpRequest, f64)> {
            self.cmds.access().log.lock().unwrap().requests.clone()
        }
    }

    fn ok_json() -> HttpResponse {
        HttpResponse::json(200, &serde_json::json!({"status": "healthy"}))
    }

    fn fleet() -> Fake {
        Fake::new()
            .answer("127.1.0.2", 8080, Answer::Responses(vec![ok_json()]))
            .answer(
                "127.1.0.3",
                8080,
                Answer::Responses(vec![HttpResponse::text(503, "draining\n")]),
            )
            .answer(
                "127.1.0.4",
                8080,
                Answer::Fail(NetError::Timeout { after: 0.0 }),
            )
            .answer("127.1.0.5", 80, Answer::Fail(NetError::NoRoute))
    }

    fn check(out: &ShellOutput, rc: i32, stdout: &str, stderr: &str) {
        assert_eq!(
            (out.rc, out.stdout_str().as_str(), out.stderr_str().as_str()),
            (rc, stdout, stderr)
        );
    }

    #[test]
    fn get_prints_the_body_and_sends_curls_headers() {
        let mut b = bench(fleet());
        let out = b.run(&["http://127.1.0.2:8080/health"]);
        check(&out, 0, r#"{"status":"healthy"}"#, "");
        let reqs = b.requests();
        let (at, from, addr, port, req, timeout) = &reqs[0];
        assert_eq!(
            (*at, from.as_str(), addr.as_str(), *port),
            (100.0, "web-01", "127.1.0.2", 8080)
        );
        assert_eq!(*timeout, DEFAULT_CONNECT_TIMEOUT);
        assert_eq!(req.method, "GET");
        assert_eq!(req.path, "/health");
        assert_eq!(req.host, "127.1.0.2:8080");
        assert_eq!(
            req.headers,
            [
                ("User-Agent".to_string(), "curl/7.88.1".to_string()),
                ("Accept".to_string(), "*/*".to_string())
            ]
        );
    }

    #[test]
    fn connection_refused() {
        let mut f = fleet();
        f.refuse_takes = 0.0004;
        let mut b = bench(f);
        let expected = "curl: (7) Failed to connect to 127.1.0.9 port 8080 after 0 ms: Couldn't connect to server\n";
        check(&b.run(&["http://127.1.0.9:8080/"]), 7, "", expected);
        check(&b.run(&["-s", "http://127.1.0.9:8080/"]), 7, "", "");
        check(&b.run(&["-sS", "http://127.1.0.9:8080/"]), 7, "", expected);
        check(
            &b.run(&["-s", "-S", "http://127.1.0.9:8080/"]),
            7,
            "",
            expected,
        );
        check(
            &b.run(&["http://127.1.0.5/"]),
            7,
            "",
            "curl: (7) Failed to connect to 127.1.0.5 port 80 after 0 ms: Couldn't connect to server\n",
        );
    }

    #[test]
    fn fail_and_http_errors() {
        let mut b = bench(fleet());
        // Without -f an HTTP error is a success with the error page.
        check(
            &b.run(&["-s", "http://127.1.0.3:8080/health"]),
            0,
            "draining\n",
            "",
        );
        check(
            &b.run(&["-f", "http://127.1.0.3:8080/health"]),
            22,
            "",
            "curl: (22) The requested URL returned error: 503\n",
        );
        check(&b.run(&["-sf", "http://127.1.0.3:8080/health"]), 22, "", "");
        check(
            &b.run(&["-fsS", "http://127.1.0.3:8080/health"]),
            22,
            "",
            "curl: (22) The requested URL returned error: 503\n",
        );
        check(
            &b.run(&["--fail-with-body", "-s", "http://127.1.0.3:8080/health"]),
            22,
            "draining\n",
            "",
        );
        check(
            &b.run(&["-sf", "http://127.1.0.2:8080/health", "-o", "/dev/null"]),
            0,
            "",
            "",
        );
    }

    #[test]
    fn write_out_http_code() {
        let mut b = bench(fleet());
        check(
            &b.run(&[
                "-s",
                "-o",
                "/dev/null",
                "-w",
                "%{http_code}",
                "http://127.1.0.3:8080/health",
            ]),
            0,
            "503",
            "",
        );
        check(
            &b.run(&[
                "-s",
                "-o",
                "/dev/null",
                "-w",
                "%{http_code}\\n",
                "http://127.1.0.9:8080/",
            ]),
            7,
            "000\n",
            "",
        );
        check(
            &b.run(&["-sfw", "%{http_code} %{content_type} %{size_download} %{method} %{url_effective} 100%%\\t%{exitcode}\\n", "127.1.0.3:8080/x"]),
            22,
            "503 text/plain; charset=utf-8 9 GET http://127.1.0.3:8080/x 100%\t22\n",
            "",
        );
        check(
            &b.run(&[
                "-s",
                "-o",
                "/dev/null",
                "-w",
                "%{nope}%header{content-type}",
                "http://127.1.0.2:8080/",
            ]),
            0,
            "application/json",
            "curl: unknown --write-out variable: 'nope'\n",
        );
    }

    #[test]
    fn timeouts() {
        let mut b = bench(fleet());
        check(
            &b.run(&["--connect-timeout", "2", "http://127.1.0.4:8080/"]),
            28,
            "",
            "curl: (28) Connection timed out after 2000 milliseconds\n",
        );
        assert_eq!(b.now, 102.0);
        check(
            &b.run(&["-m", "1.5", "http://127.1.0.4:8080/"]),
            28,
            "",
            "curl: (28) Operation timed out after 1500 milliseconds with 0 bytes received\n",
        );
        check(&b.run(&["-sm3", "http://127.1.0.4:8080/"]), 28, "", "");
        assert_eq!(b.requests()[2].5, 3.0);
        // The default connect timeout.
        check(
            &b.run(&["http://127.1.0.4:8080/"]),
            28,
            "",
            "curl: (28) Connection timed out after 300000 milliseconds\n",
        );
        // A slow answer inside the limit arrives, and the clock moves by its delay.
        let mut b = bench(Fake::new().answer("h", 80, Answer::Slow(0.75, ok_json())));
        check(
            &b.run(&["-s", "-m", "2", "-w", " %{time_total}", "http://h/"]),
            0,
            r#"{"status":"healthy"} 0.750000"#,
            "",
        );
        assert_eq!(b.now, 100.75);
    }

    #[test]
    fn output_file_goes_into_the_sandbox() {
        let mut b = bench(fleet());
        check(
            &b.run(&["-s", "-o", "health.json", "http://127.1.0.2:8080/health"]),
            0,
            "",
            "",
        );
        assert_eq!(
            b.sandbox.read("/work/health.json").unwrap(),
            br#"{"status":"healthy"}"#
        );
        check(
            &b.run(&["-o", "/missing/dir/x", "http://127.1.0.2:8080/"]),
            23,
            "",
            "Warning: Failed to open the file /missing/dir/x: No such file or directory\ncurl: (23) Failure writing output to destination\n",
        );
        check(
            &b.run(&[
                "-s",
                "--create-dirs",
                "-o",
                "/a/b/c.json",
                "http://127.1.0.2:8080/",
            ]),
            0,
            "",
            "",
        );
        assert!(b.sandbox.is_file("/a/b/c.json"));
        check(
            &b.run(&["-sO", "http://127.1.0.2:8080/files/report.txt?x=1"]),
            0,
            "",
            "",
        );
        assert!(b.sandbox.is_file("/work/report.txt"));
        // -f with an error writes nothing at all.
        check(
            &b.run(&["-sf", "-o", "err.txt", "http://127.1.0.3:8080/"]),
            22,
            "",
            "",
        );
        assert!(!b.sandbox.exists("/work/err.txt"));
    }

    #[test]
    fn methods_headers_and_data() {
        let mut b = bench(fleet());
        check(
            &b.run(&[
                "-s",
                "-X",
                "PUT",
                "-H",
                "X-Token: abc",
                "-H",
                "Accept:",
                "-H",
                "X-Empty;",
                "http://127.1.0.2:8080/a",
            ]),
            0,
            r#"{"status":"healthy"}"#,
            "",
        );
        check(
            &b.run(&[
                "-s",
                "-d",
                "a=1",
                "--data-raw",
                "@b",
                "-H",
                "Content-Type: application/json",
                "http://127.1.0.2:8080/p",
            ]),
            0,
            r#"{"status":"healthy"}"#,
            "",
        );
        b.sandbox
            .write("/work/body.txt", b"x=1\ny=2\n", WriteMode::Truncate)
            .unwrap();
        check(
            &b.run(&[
                "-s",
                "-d",
                "@body.txt",
                "--data-binary",
                "@body.txt",
                "http://127.1.0.2:8080/f",
            ]),
            0,
            r#"{"status":"healthy"}"#,
            "",
        );
        check(
            &b.run_stdin(
                &[
                    "-s",
                    "-G",
                    "-d",
                    "q=a b",
                    "-d",
                    "@-",
                    "http://127.1.0.2:8080/s?x=1",
                ],
                b"z=9",
            ),
            0,
            r#"{"status":"healthy"}"#,
            "",
        );
        check(
            &b.run(&[
                "-s",
                "-u",
                "admin:secret",
                "-A",
                "probe/1",
                "-XDELETE",
                "http://127.1.0.2:8080/d",
            ]),
            0,
            r#"{"status":"healthy"}"#,
            "",
        );
        check(
            &b.run(&[
                "-s",
                "-H",
                "Host: app.example",
                "http://u:p@127.1.0.2:8080/h",
            ]),
            0,
            r#"{"status":"healthy"}"#,
            "",
        );
        let reqs = b.requests();
        let r = &reqs[0].4;
        assert_eq!(r.method, "PUT");
        assert_eq!(
            r.headers,
            [
                ("User-Agent".to_string(), "curl/7.88.1".to_string()),
                ("X-Token".to_string(), "abc".to_string()),
                ("X-Empty".to_string(), String::new())
            ]
        );
        let r = &reqs[1].4;
        assert_eq!(r.method, "POST");
        assert_eq!(r.body, b"a=1&@b");
        assert_eq!(r.header("content-type"), Some("application/json"));
        assert_eq!(
            r.headers
                .iter()
                .filter(|(k, _)| k.eq_ignore_ascii_case("content-type"))
                .count(),
            1
        );
        assert_eq!(reqs[2].4.body, b"x=1y=2&x=1\ny=2\n");
        let r = &reqs[3].4;
        assert_eq!(
            (r.method.as_str(), r.path.as_str()),
            ("GET", "/s?x=1&q=a%20b&z=9")
        );
        assert!(r.body.is_empty());
        let r = &reqs[4].4;
        assert_eq!(r.method, "DELETE");
        assert_eq!(r.header("authorization"), Some("Basic YWRtaW46c2VjcmV0"));
        assert_eq!(r.header("user-agent"), Some("probe/1"));
        let r = &reqs[5].4;
        assert_eq!(r.host, "app.example");
        assert_eq!(r.header("authorization"), Some("Basic dTpw"));
    }

    #[test]
    fn head_and_include() {
        let mut b = bench(fleet());
        let head =
            "HTTP/1.1 503 Service Unavailable\r\ncontent-type: text/plain; charset=utf-8\r\n\r\n";
        check(&b.run(&["-sI", "http://127.1.0.3:8080/"]), 0, head, "");
        assert_eq!(b.requests()[0].4.method, "HEAD");
        check(
            &b.run(&["-si", "http://127.1.0.3:8080/"]),
            0,
            &format!("{head}draining\n"),
            "",
        );
        check(
            &b.run(&["--head", "--fail", "-s", "http://127.1.0.3:8080/"]),
            22,
            "",
            "",
        );
    }

    #[test]
    fn urls() {
        let p = |s: &str| parse_url(s);
        let u = p("http://127.1.0.2:8080/a/./b/../c?x=1#frag").unwrap();
        assert_eq!(
            (u.host.as_str(), u.port, u.path.as_str()),
            ("127.1.0.2", 8080, "/a/c?x=1")
        );
        assert_eq!(u.host_header(), "127.1.0.2:8080");
        let u = p("example").unwrap();
        assert_eq!(
            (u.port, u.path.as_str(), u.host_header()),
            (80, "/", "example".to_string())
        );
        assert_eq!(p("h?q").unwrap().path, "/?q");
        assert_eq!(p("HTTP://h/dir/").unwrap().path, "/dir/");
        assert_eq!(p("h/a/..").unwrap().path, "/");
        assert_eq!(p("h/é\"{x}").unwrap().path, "/%C3%A9%22%7Bx%7D");
        let u = p("http://[::1]:9000/").unwrap();
        assert_eq!(
            (u.host.as_str(), u.host_header()),
            ("::1", "[::1]:9000".to_string())
        );
        assert_eq!(p("u:pw@h:81").unwrap().userinfo.as_deref(), Some("u:pw"));
        assert_eq!(p("http://h:/").unwrap().port, 80);
        for bad in [
            "",
            "http://",
            "http://:80/",
            "h:99999",
            "h:8x",
            "a b",
            "http://[::1/",
            "ho^st",
        ] {
            assert_eq!(p(bad).unwrap_err().rc, 3, "{bad}");
        }
        assert_eq!(
            p("https://h/").unwrap_err(),
            Failure::new(1, "Protocol \"https\" not supported or disabled in libcurl")
        );
    }

    #[test]
    fn url_errors_print_like_curl() {
        let mut b = bench(fleet());
        check(
            &b.run(&["http://:8080/"]),
            3,
            "",
            "curl: (3) URL using bad/illegal format or missing URL\n",
        );
        check(&b.run(&["-s", "https://127.1.0.2/"]), 1, "", "");
        check(
            &b.run(&["https://127.1.0.2/"]),
            1,
            "",
            "curl: (1) Protocol \"https\" not supported or disabled in libcurl\n",
        );
        assert!(b.requests().is_empty());
    }

    #[test]
    fn option_errors() {
        let mut b = bench(fleet());
        let help = "curl: try 'curl --help' or 'curl --manual' for more information\n";
        check(
            &b.run(&["--foo", "http://h/"]),
            2,
            "",
            &format!("curl: option --foo: is unknown\n{help}"),
        );
        check(
            &b.run(&["-sZ", "http://h/"]),
            2,
            "",
            &format!("curl: option -Z: is unknown\n{help}"),
        );
        check(
            &b.run(&["--max-time=5", "http://h/"]),
            2,
            "",
            &format!("curl: option --max-time=5: is unknown\n{help}"),
        );
        check(
            &b.run(&["http://h/", "-o"]),
            2,
            "",
            &format!("curl: option -o: requires parameter\n{help}"),
        );
        check(
            &b.run(&["-m", "soon", "http://h/"]),
            2,
            "",
            &format!("curl: option -m: expected a proper numerical parameter\n{help}"),
        );
        check(
            &b.run(&["-s"]),
            2,
            "",
            &format!("curl: no URL specified!\n{help}"),
        );
        assert!(b
            .run(&["--version"])
            .stdout_str()
            .starts_with("curl 7.88.1 "));
        assert!(b
            .run(&["-h"])
            .stdout_str()
            .starts_with("Usage: curl [options...] <url>\n"));
        // `--` ends options: what follows is a URL even if it starts with a dash.
        assert_eq!(
            parse(&["curl".into(), "--".into(), "-x".into()])
                .unwrap()
                .urls,
            ["-x"]
        );
    }

    #[test]
    fn retry_waits_and_reports() {
        let fake = Fake::new().answer(
            "h",
            80,
            Answer::Responses(vec![
                HttpResponse::text(503, "busy\n"),
                HttpResponse::text(503, "busy\n"),
                HttpResponse::text(200, "ok\n"),
            ]),
        );
        let mut b = bench(fake);
        let out = b.run(&[
            "-f",
            "--retry",
            "3",
            "-w",
            "%{http_code} %{num_retries}\\n",
            "http://h/",
        ]);
        check(
            &out,
            0,
            "ok\n200 2\n",
            "Warning: Problem : HTTP error. Will retry in 1 seconds. 3 retries left.\nWarning: Problem : HTTP error. Will retry in 2 seconds. 2 retries left.\n",
        );
        assert_eq!(b.now, 103.0);
        let times: Vec<f64> = b.requests().iter().map(|r| r.0).collect();
        assert_eq!(times, [100.0, 101.0, 103.0]);

        // Refused connections are retried only with --retry-connrefused; -s hides warnings.
        let mut b = bench(Fake::new());
        check(&b.run(&["-s", "--retry", "2", "http://h/"]), 7, "", "");
        assert_eq!(b.requests().len(), 1);
        check(
            &b.run(&[
                "-s",
                "--retry",
                "2",
                "--retry-delay",
                "5",
                "--retry-connrefused",
                "http://h/",
            ]),
            7,
            "",
            "",
        );
        assert_eq!(b.requests().len(), 4);
        assert_eq!(b.now, 110.0);
    }

    #[test]
    fn retry_after_sets_the_wait_and_long_warnings_wrap() {
        let busy = HttpResponse::text(503, "").with_header("Retry-After", "7");
        let fake = Fake::new().answer(
            "h",
            80,
            Answer::Responses(vec![busy, HttpResponse::text(200, "ok\n")]),
        );
        let mut b = bench(fake);
        let out = b.run(&["-sS", "--retry", "1", "http://h/"]);
        check(&out, 0, "ok\n", "");
        assert_eq!(b.now, 107.0);
        let out = bench(Fake::new()).run(&["--retry", "1", "--retry-connrefused", "http://h/"]);
        assert_eq!(
            out.stderr_str(),
            "Warning: Problem : connection refused. Will retry in 1 seconds. 1 retries \n\
             Warning: left.\n\
             curl: (7) Failed to connect to h port 80 after 0 ms: Couldn't connect to server\n"
        );
    }

    #[test]
    fn verbose_shows_the_exchange() {
        let mut b = bench(fleet());
        let out = b.run(&["-sv", "http://127.1.0.3:8080/x"]);
        assert_eq!(out.stdout_str(), "draining\n");
        assert_eq!(
            out.stderr_str(),
            "*   Trying 127.1.0.3:8080...\n* Connected to 127.1.0.3 (127.1.0.3) port 8080 (#0)\n\
             > GET /x HTTP/1.1\r\n> Host: 127.1.0.3:8080\r\n> User-Agent: curl/7.88.1\r\n> Accept: */*\r\n> \r\n\
             < HTTP/1.1 503 Service Unavailable\r\n< content-type: text/plain; charset=utf-8\r\n< \r\n\
             * Connection #0 to host 127.1.0.3 left intact\n"
        );
    }

    #[test]
    fn several_urls_run_in_turn_and_the_last_decides() {
        let mut b = bench(fleet());
        let out = b.run(&[
            "-s",
            "-w",
            "%{http_code}\\n",
            "http://127.1.0.9:8080/",
            "http://127.1.0.2:8080/",
            "-o",
            "/dev/null",
        ]);
        check(&out, 0, "000\n{\"status\":\"healthy\"}200\n", "");
        let out = b.run(&["-s", "http://127.1.0.2:8080/", "http://127.1.0.9:8080/"]);
        check(&out, 7, r#"{"status":"healthy"}"#, "");
    }

    proptest! {
        /// Any command line ends with an exit code, never a panic.
        #[test]
        fn never_panics(args in prop::collection::vec(
            prop_oneof![
                prop::sample::select(vec![
                    "-s", "-S", "-f", "-o", "-w", "-X", "-H", "-d", "-m", "-I", "-i", "-v", "-G",
                    "-O", "--retry", "--retry-delay", "--data-binary", "--connect-timeout",
                    "-sSfo", "-XPOST", "%{http_code}\\n", "%header{", "%{", "@-", "@x", "/dev/null",
                    "http://127.1.0.2:8080/", "http://127.1.0.3:8080/a/../b", "127.1.0.4:8080",
                    "http://[::1", "https://x/", "h:", "Host:", "X;", "1", "0", "-1", "3",
                ]).prop_map(String::from),
                any::<String>(),
            ],
            0..8,
        )) {
            let mut b = bench(fleet());
            let argv: Vec<&str> = args.iter().map(String::as_str).collect();
            let out = b.run_stdin(&argv, b"x=1");
            prop_assert!((0..=255).contains(&out.rc));
        }
    }
}
