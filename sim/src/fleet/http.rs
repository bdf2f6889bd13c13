//! Real HTTP/1.1 between the fleet's services, in memory: hyper's client serializes a
//! request, hyper's server parses it and hands it to a handler, and the response travels back
//! the same way, all over a `tokio::io::duplex` pipe inside one process.
//!
//! Going through a real HTTP implementation (rather than passing structs around) means what a
//! playbook's `curl` or `uri` sees is what a real server would have sent: real framing,
//! `content-length`, HEAD without a body, lower-cased header names as hyper parses them.
//!
//! There is no socket, no thread and no tokio runtime: [`Wire`] is a tiny single-threaded
//! executor. Every future involved only waits on the other end of an in-memory pipe, so a
//! poll that returns `Pending` without having woken anything can never make progress again;
//! [`Wire::try_block_on`] reports that as [`Stalled`] instead of hanging. Nothing here reads
//! the clock (hyper's automatic `date` header is turned off): virtual time is the caller's.

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::header::{HeaderName, HeaderValue, CONTENT_LENGTH, HOST, TRANSFER_ENCODING};
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use std::cell::RefCell;
use std::fmt;
use std::future::Future;
use std::pin::pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};

/// Bytes the in-memory pipe buffers in each direction before the writer waits for the
/// reader: large enough that typical requests and responses pass in one write, small enough
/// that a 1 MiB body exercises the back-pressure path.
const PIPE_BYTES: usize = 64 * 1024;

/// Polls [`Wire::try_block_on`] allows before giving up on a future that keeps waking itself
/// without finishing (a 1 MiB body takes a few hundred).
const MAX_POLLS: u64 = 10_000_000;

/// An HTTP request as a service receives it (or a client sends it).
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct HttpRequest {
    /// `GET`, `POST`, ... (any token; hyper rejects what is not a valid method).
    pub method: String,
    /// Path and query, as on the request line (`/health?full=1`).
    pub path: String,
    /// The `Host` header value, e.g. `127.1.0.3:8080`.
    pub host: String,
    /// The other headers, in order (`Host` is [`HttpRequest::host`]). Received headers have
    /// the lower-case names hyper gives them; non-UTF-8 values are decoded lossily.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl HttpRequest {
    /// A request with no headers and no body.
    pub fn new(method: &str, host: &str, path: &str) -> HttpRequest {
        HttpRequest {
            method: method.to_string(),
            path: path.to_string(),
            host: host.to_string(),
            headers: Vec::new(),
            body: Vec::new(),
        }
    }

    /// `GET path` on `host`.
    pub fn get(host: &str, path: &str) -> HttpRequest {
        HttpRequest::new("GET", host, path)
    }

    /// Adds a header (builder style).
    pub fn with_header(mut self, name: &str, value: &str) -> HttpRequest {
        self.headers.push((name.to_string(), value.to_string()));
        self
    }

    /// Sets the body (builder style).
    pub fn with_body(mut self, body: impl Into<Vec<u8>>) -> HttpRequest {
        self.body = body.into();
        self
    }

    /// The first header named `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        find_header(&self.headers, name)
    }

    /// The path without its query string.
    pub fn path_only(&self) -> &str {
        self.path.split('?').next().unwrap_or(&self.path)
    }
}

/// An HTTP response as a service produces it (or a client receives it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpResponse {
    /// A final status, 200..=999 (1xx are not final answers and are refused).
    pub status: u16,
    /// Headers in order. `content-length` and `transfer-encoding` set by a handler are
    /// dropped: hyper frames the body itself. Received names are lower-case.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl HttpResponse {
    /// A response with no headers and no body.
    pub fn new(status: u16) -> HttpResponse {
        HttpResponse {
            status,
            headers: Vec::new(),
            body: Vec::new(),
        }
    }

    /// A JSON body with `content-type: application/json`.
    pub fn json(status: u16, value: &serde_json::Value) -> HttpResponse {
        // A `Value` always serializes (its map keys are strings); the default is unreachable.
        let body = serde_json::to_vec(value).unwrap_or_default();
        HttpResponse {
            status,
            headers: vec![("content-type".into(), "application/json".into())],
            body,
        }
    }

    /// A text body with `content-type: text/plain; charset=utf-8`.
    pub fn text(status: u16, text: &str) -> HttpResponse {
        HttpResponse {
            status,
            headers: vec![("content-type".into(), "text/plain; charset=utf-8".into())],
            body: text.as_bytes().to_vec(),
        }
    }

    /// Adds a header (builder style).
    pub fn with_header(mut self, name: &str, value: &str) -> HttpResponse {
        self.headers.push((name.to_string(), value.to_string()));
        self
    }

    /// The first header named `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        find_header(&self.headers, name)
    }

    /// The body as text (lossy UTF-8).
    pub fn body_text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The standard reason phrase of the status (`OK`, `Service Unavailable`), or `""`.
    pub fn reason(&self) -> &'static str {
        StatusCode::from_u16(self.status)
            .ok()
            .and_then(|s| s.canonical_reason())
            .unwrap_or("")
    }
}

fn find_header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// Why a request got no answer at the network level. The fleet decides (refused port,
/// partition, unreachable host); callers such as `curl` turn it into their own messages.
#[derive(Debug, Clone, PartialEq)]
pub enum NetError {
    /// Nothing listens on the port, or the service is down (ECONNREFUSED).
    Refused,
    /// No answer within the caller's limit; `after` is the virtual seconds waited.
    Timeout { after: f64 },
    /// The address belongs to no host of the fleet (EHOSTUNREACH).
    NoRoute,
}

impl fmt::Display for NetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NetError::Refused => write!(f, "Connection refused"),
            NetError::Timeout { after } => write!(f, "Connection timed out after {after} s"),
            NetError::NoRoute => write!(f, "No route to host"),
        }
    }
}

impl std::error::Error for NetError {}

/// A failure of the HTTP machinery itself. The simulation builds well-formed messages, so
/// these point at a bug or at a request a user wrote by hand (`curl -X 'BAD METHOD'`).
#[derive(Debug)]
pub enum WireError {
    /// The request could not be expressed in HTTP (invalid method, path or header).
    Request(hyper::http::Error),
    /// A handler answered with a status that is not a final HTTP status (below 200 or above 999).
    Status(u16),
    /// A response header could not be expressed in HTTP.
    ResponseHeader(hyper::http::Error),
    /// A handler was asked to serve while it was already serving (cannot happen with one
    /// request per exchange; reported rather than panicking).
    HandlerBusy,
    /// hyper's client side failed.
    Client(hyper::Error),
    /// hyper's server side failed.
    Server(hyper::Error),
    /// The future waited for something outside the simulation and can never finish.
    Stalled,
}

impl fmt::Display for WireError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WireError::Request(e) => write!(f, "cannot send this request over HTTP: {e}"),
            WireError::Status(s) => write!(
                f,
                "a service answered with status {s}, which HTTP cannot carry as a final answer"
            ),
            WireError::ResponseHeader(e) => {
                write!(f, "a service answered with a header HTTP cannot carry: {e}")
            }
            WireError::HandlerBusy => write!(
                f,
                "a service was asked to serve a request while serving another on the same exchange"
            ),
            WireError::Client(e) => write!(f, "HTTP client: {e}"),
            WireError::Server(e) => write!(f, "HTTP server: {e}"),
            WireError::Stalled => write!(f, "{Stalled}"),
        }
    }
}

impl std::error::Error for WireError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            WireError::Request(e) | WireError::ResponseHeader(e) => Some(e),
            WireError::Client(e) | WireError::Server(e) => Some(e),
            _ => None,
        }
    }
}

impl From<Stalled> for WireError {
    fn from(_: Stalled) -> Self {
        WireError::Stalled
    }
}

/// A future given to [`Wire::try_block_on`] waited for something nothing will ever deliver.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stalled;

impl fmt::Display for Stalled {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "a future waited for something outside the simulation and can never finish"
        )
    }
}

impl std::error::Error for Stalled {}

/// One real HTTP/1.1 exchange: hyper's client serializes `req`, hyper's server parses it and
/// calls `handler`, serializes its response, and the client parses that.
///
/// `handler` is called once. Its future need not be `Send` or `'static`, may borrow local
/// state, and may itself `exchange(...).await` with another handler (a load balancer
/// forwarding to a backend).
pub async fn exchange<H, Fut>(req: HttpRequest, handler: H) -> Result<HttpResponse, WireError>
where
    H: FnMut(HttpRequest) -> Fut,
    Fut: Future<Output = HttpResponse>,
{
    let request = to_hyper_request(req)?;
    let (client_io, server_io) = tokio::io::duplex(PIPE_BYTES);

    // hyper's http1 handshake does no I/O, so awaiting it here finishes at once.
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(client_io))
        .await
        .map_err(WireError::Client)?;

    // Why the server side gave up, if it was our handler's answer that could not be sent:
    // the client then only sees a closed connection, which says nothing useful.
    let failure: RefCell<Option<WireError>> = RefCell::new(None);
    let handler = RefCell::new(handler);
    let service = hyper::service::service_fn(|r: Request<Incoming>| serve(r, &handler, &failure));
    let server = hyper::server::conn::http1::Builder::new()
        // No wall clock in responses: the `date` header would differ from run to run.
        .auto_date_header(false)
        .header_read_timeout(None)
        .keep_alive(false)
        .serve_connection(TokioIo::new(server_io), service);

    let client = async move {
        let resp = sender.send_request(request).await?;
        let (parts, body) = resp.into_parts();
        let body = body.collect().await?.to_bytes();
        Ok::<_, hyper::Error>((parts, body))
    };

    let mut client = pin!(client);
    // A finished half is dropped at once: that closes its end of the pipe, so the other side
    // sees the connection end instead of waiting for bytes that will never come.
    let mut conn = pin!(Some(conn));
    let mut server = pin!(Some(server));
    let mut server_result: Option<Result<(), hyper::Error>> = None;
    // Drive the three parts together on whatever executor polls us: the client's request
    // future, the client connection that writes it to the pipe, and the server connection.
    let result = std::future::poll_fn(|cx| {
        if let Some(c) = conn.as_mut().as_pin_mut() {
            if c.poll(cx).is_ready() {
                conn.set(None);
            }
        }
        if let Some(s) = server.as_mut().as_pin_mut() {
            if let Poll::Ready(r) = s.poll(cx) {
                server_result = Some(r);
                server.set(None);
            }
        }
        client.as_mut().poll(cx)
    })
    .await;

    match result {
        Ok((parts, body)) => Ok(HttpResponse {
            status: parts.status.as_u16(),
            headers: from_header_map(&parts.headers, false),
            body: body.to_vec(),
        }),
        Err(client_err) => {
            if let Some(e) = failure.try_borrow_mut().ok().and_then(|mut f| f.take()) {
                return Err(e);
            }
            match server_result {
                Some(Err(e)) => Err(WireError::Server(e)),
                _ => Err(WireError::Client(client_err)),
            }
        }
    }
}

/// The server side of one request: read the whole body, call the handler, build hyper's
/// response. A failure is recorded in `failure` for [`exchange`] and closes the connection.
async fn serve<H, Fut>(
    req: Request<Incoming>,
    handler: &RefCell<H>,
    failure: &RefCell<Option<WireError>>,
) -> Result<Response<Full<Bytes>>, ServeFailed>
where
    H: FnMut(HttpRequest) -> Fut,
    Fut: Future<Output = HttpResponse>,
{
    let (parts, body) = req.into_parts();
    let body = match body.collect().await {
        Ok(b) => b.to_bytes(),
        Err(e) => return Err(record(failure, WireError::Server(e))),
    };
    let host = parts
        .headers
        .get(HOST)
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
        .unwrap_or_default();
    let path = parts
        .uri
        .path_and_query()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| parts.uri.to_string());
    let request = HttpRequest {
        method: parts.method.as_str().to_string(),
        path,
        host,
        headers: from_header_map(&parts.headers, true),
        body: body.to_vec(),
    };
    // The borrow ends with this statement: the handler's future does not hold it.
    let fut = match handler.try_borrow_mut() {
        Ok(mut h) => (*h)(request),
        Err(_) => return Err(record(failure, WireError::HandlerBusy)),
    };
    let resp = fut.await;
    to_hyper_response(resp).map_err(|e| record(failure, e))
}

/// What hyper's server is told when [`serve`] gives up; the real reason is in `failure`.
#[derive(Debug)]
struct ServeFailed;

impl fmt::Display for ServeFailed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "the service could not answer")
    }
}

impl std::error::Error for ServeFailed {}

/// Keeps the first failure for [`exchange`].
fn record(failure: &RefCell<Option<WireError>>, e: WireError) -> ServeFailed {
    if let Ok(mut slot) = failure.try_borrow_mut() {
        slot.get_or_insert(e);
    }
    ServeFailed
}

fn to_hyper_request(req: HttpRequest) -> Result<Request<Full<Bytes>>, WireError> {
    let method = Method::from_bytes(req.method.as_bytes())
        .map_err(|e| WireError::Request(hyper::http::Error::from(e)))?;
    // A request target is origin-form (`/path?query`): `health` would read as a host name.
    let path = if req.path.starts_with('/') {
        req.path.clone()
    } else {
        format!("/{}", req.path)
    };
    let mut builder = Request::builder()
        .method(method)
        .uri(path.as_str())
        .header(HOST, req.host.as_str());
    for (k, v) in &req.headers {
        // The Host header is the `host` field; a second one would make a malformed request.
        if k.eq_ignore_ascii_case("host") {
            continue;
        }
        builder = builder.header(k.as_str(), v.as_str());
    }
    builder
        .body(Full::new(Bytes::from(req.body)))
        .map_err(WireError::Request)
}

fn to_hyper_response(resp: HttpResponse) -> Result<Response<Full<Bytes>>, WireError> {
    if resp.status < 200 {
        return Err(WireError::Status(resp.status));
    }
    let status = StatusCode::from_u16(resp.status).map_err(|_| WireError::Status(resp.status))?;
    let mut out = Response::new(Full::new(Bytes::from(resp.body)));
    *out.status_mut() = status;
    let headers = out.headers_mut();
    for (k, v) in &resp.headers {
        let name = HeaderName::from_bytes(k.as_bytes())
            .map_err(|e| WireError::ResponseHeader(e.into()))?;
        // hyper frames the body from its real length; a handler's own framing headers could
        // only contradict it.
        if name == CONTENT_LENGTH || name == TRANSFER_ENCODING {
            continue;
        }
        let value = HeaderValue::from_str(v).map_err(|e| WireError::ResponseHeader(e.into()))?;
        headers.append(name, value);
    }
    Ok(out)
}

/// Header pairs in hyper's order (insertion order, repeated names grouped with the first).
fn from_header_map(map: &hyper::HeaderMap, skip_host: bool) -> Vec<(String, String)> {
    map.iter()
        .filter(|(k, _)| !(skip_host && *k == HOST))
        .map(|(k, v)| {
            (
                k.as_str().to_string(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect()
}

/// Runs the fleet's HTTP futures to completion on the calling thread.
///
/// It holds no runtime and no thread, so it is `Send + Sync` and cheap to create; one per
/// fleet is plenty.
#[derive(Debug, Clone, Default)]
pub struct Wire {
    _private: (),
}

/// Records that a future asked to be polled again.
struct Flag(AtomicBool);

impl Wake for Flag {
    fn wake(self: Arc<Self>) {
        self.0.store(true, Ordering::Release);
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.0.store(true, Ordering::Release);
    }
}

impl Wire {
    pub fn new() -> Wire {
        Wire { _private: () }
    }

    /// Polls `f` until it finishes. Everything the fleet awaits is in memory and wakes its
    /// waiter during the same poll, so a `Pending` with no wake-up means nothing ever will:
    /// that (or a future that keeps waking itself for ten million rounds) is [`Stalled`].
    pub fn try_block_on<F: Future>(&self, f: F) -> Result<F::Output, Stalled> {
        // A fresh flag per call, so a nested call cannot swallow the outer one's wake-up.
        let flag = Arc::new(Flag(AtomicBool::new(false)));
        let waker = Waker::from(flag.clone());
        let mut cx = Context::from_waker(&waker);
        let mut f = pin!(f);
        for _ in 0..MAX_POLLS {
            flag.0.store(false, Ordering::Release);
            if let Poll::Ready(v) = f.as_mut().poll(&mut cx) {
                return Ok(v);
            }
            if !flag.0.load(Ordering::Acquire) {
                return Err(Stalled);
            }
        }
        Err(Stalled)
    }

    /// Polls `f` until it finishes.
    ///
    /// # Panics
    ///
    /// If `f` stalls (see [`Wire::try_block_on`]). That takes a future waiting on something
    /// outside the simulation, a programming error no input can cause; hanging forever would
    /// be the only alternative. Use [`Wire::exchange`] or [`Wire::try_block_on`] to get an
    /// error instead.
    pub fn block_on<F: Future>(&self, f: F) -> F::Output {
        match self.try_block_on(f) {
            Ok(v) => v,
            Err(e) => panic!("{e}"),
        }
    }

    /// [`exchange`] run to completion; a stall is [`WireError::Stalled`].
    pub fn exchange<H, Fut>(&self, req: HttpRequest, handler: H) -> Result<HttpResponse, WireError>
    where
        H: FnMut(HttpRequest) -> Fut,
        Fut: Future<Output = HttpResponse>,
    {
        self.try_block_on(exchange(req, handler))?
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn echo(req: HttpRequest) -> std::future::Ready<HttpResponse> {
        let mut resp = HttpResponse::new(200).with_header("x-method", &req.method);
        resp = resp.with_header("x-path", &req.path);
        resp = resp.with_header("x-host", &req.host);
        for (k, v) in &req.headers {
            resp = resp.with_header(&format!("x-echo-{k}"), v);
        }
        resp.body = req.body;
        std::future::ready(resp)
    }

    #[test]
    fn get_round_trips_status_headers_and_body() {
        let wire = Wire::new();
        let req =
            HttpRequest::get("127.1.0.3:8080", "/health?full=1").with_header("X-Trace", "abc");
        let resp = wire
            .exchange(req, |r| async move {
                assert_eq!(r.method, "GET");
                assert_eq!(r.path, "/health?full=1");
                assert_eq!(r.path_only(), "/health");
                assert_eq!(r.host, "127.1.0.3:8080");
                assert_eq!(r.header("x-trace"), Some("abc"));
                HttpResponse::json(503, &serde_json::json!({"status": "draining"}))
                    .with_header("Retry-After", "5")
            })
            .unwrap();
        assert_eq!(resp.status, 503);
        assert_eq!(resp.reason(), "Service Unavailable");
        assert_eq!(resp.header("content-type"), Some("application/json"));
        assert_eq!(resp.header("RETRY-AFTER"), Some("5"));
        assert_eq!(resp.header("content-length"), Some("21"));
        assert_eq!(resp.body_text(), r#"{"status":"draining"}"#);
        // No wall clock leaks into responses.
        assert_eq!(resp.header("date"), None);
    }

    #[test]
    fn post_body_and_repeated_headers_round_trip() {
        let wire = Wire::new();
        let req = HttpRequest::new("POST", "h:1", "/api")
            .with_header("Content-Type", "text/plain")
            .with_header("X-Multi", "one")
            .with_header("X-Multi", "two")
            .with_body("a=1&b=2");
        let resp = wire.exchange(req, echo).unwrap();
        assert_eq!(resp.status, 200);
        assert_eq!(resp.header("x-method"), Some("POST"));
        assert_eq!(resp.header("x-host"), Some("h:1"));
        assert_eq!(resp.body, b"a=1&b=2");
        let echoed: Vec<_> = resp
            .headers
            .iter()
            .filter(|(k, _)| k.starts_with("x-echo-"))
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        assert_eq!(
            echoed,
            [
                "x-echo-content-type=text/plain",
                "x-echo-x-multi=one",
                "x-echo-x-multi=two",
                "x-echo-content-length=7"
            ]
        );
    }

    #[test]
    fn head_gets_headers_without_body() {
        let wire = Wire::new();
        let resp = wire
            .exchange(HttpRequest::new("HEAD", "h", "/"), |_| async {
                HttpResponse::text(200, "hello world")
            })
            .unwrap();
        assert_eq!(resp.status, 200);
        assert_eq!(resp.header("content-length"), Some("11"));
        assert!(resp.body.is_empty());
    }

    #[test]
    fn binary_and_large_bodies_round_trip() {
        let wire = Wire::new();
        let bin: Vec<u8> = vec![0xff, 0x00, 0xfe, b'\n', 0x80];
        let resp = wire
            .exchange(
                HttpRequest::new("PUT", "h", "/b").with_body(bin.clone()),
                echo,
            )
            .unwrap();
        assert_eq!(resp.body, bin);

        let big: Vec<u8> = (0..(1usize << 20)).map(|i| (i * 7 % 251) as u8).collect();
        let resp = wire
            .exchange(
                HttpRequest::new("POST", "h", "/big").with_body(big.clone()),
                echo,
            )
            .unwrap();
        assert_eq!(resp.body.len(), big.len());
        assert!(resp.body == big);
    }

    #[test]
    fn handler_borrows_local_state_across_many_exchanges() {
        let wire = Wire::new();
        let mut hits = 0u32;
        for i in 0..500 {
            let resp = wire
                .exchange(HttpRequest::get("h", &format!("/n/{i}")), |r| {
                    hits += 1;
                    let n = hits;
                    async move { HttpResponse::text(200, &format!("{} {n}", r.path)) }
                })
                .unwrap();
            assert_eq!(resp.body_text(), format!("/n/{i} {}", i + 1));
        }
        assert_eq!(hits, 500);
    }

    #[test]
    fn a_proxy_forwards_to_a_backend_inside_its_handler() {
        let wire = Wire::new();
        // State the backend mutates and the proxy reads: neither future is Send or 'static.
        let backend_hits = std::rc::Rc::new(std::cell::Cell::new(0));
        let seen = backend_hits.clone();
        let backend = move |r: HttpRequest| {
            let seen = seen.clone();
            async move {
                seen.set(seen.get() + 1);
                assert_eq!(r.header("x-forwarded-for"), Some("10.0.0.1"));
                assert_eq!(r.host, "127.1.0.2:8080");
                HttpResponse::text(418, &format!("backend saw {} {}", r.method, r.path))
            }
        };
        let proxy = |r: HttpRequest| {
            let backend = backend.clone();
            async move {
                let fwd = HttpRequest {
                    host: "127.1.0.2:8080".into(),
                    ..r.clone()
                }
                .with_header("X-Forwarded-For", "10.0.0.1");
                match exchange(fwd, backend).await {
                    Ok(b) => {
                        let mut out =
                            HttpResponse::new(b.status).with_header("x-served-by", "lb-1");
                        out.body = b.body;
                        out
                    }
                    Err(e) => HttpResponse::text(502, &e.to_string()),
                }
            }
        };
        let resp = wire
            .exchange(HttpRequest::new("DELETE", "127.1.0.1:80", "/x?y=1"), proxy)
            .unwrap();
        assert_eq!(resp.status, 418);
        assert_eq!(resp.header("x-served-by"), Some("lb-1"));
        assert_eq!(resp.body_text(), "backend saw DELETE /x?y=1");
        assert_eq!(backend_hits.get(), 1);
    }

    #[test]
    fn bad_messages_are_errors_not_panics() {
        let wire = Wire::new();
        let e = wire
            .exchange(HttpRequest::new("BAD METHOD", "h", "/"), echo)
            .unwrap_err();
        assert!(matches!(e, WireError::Request(_)), "{e}");
        // A path without its leading slash still reaches the handler as a path.
        let resp = wire
            .exchange(HttpRequest::get("h", "health"), echo)
            .unwrap();
        assert_eq!(resp.header("x-path"), Some("/health"));
        let e = wire
            .exchange(HttpRequest::get("h", "/a b"), echo)
            .unwrap_err();
        assert!(matches!(e, WireError::Request(_)), "{e}");
        let e = wire
            .exchange(HttpRequest::get("h", "/"), |_| async {
                HttpResponse::new(101)
            })
            .unwrap_err();
        assert!(matches!(e, WireError::Status(101)), "{e}");
        let e = wire
            .exchange(HttpRequest::get("h", "/"), |_| async {
                HttpResponse::new(1000)
            })
            .unwrap_err();
        assert!(matches!(e, WireError::Status(1000)), "{e}");
        let e = wire
            .exchange(HttpRequest::get("h", "/"), |_| async {
                HttpResponse::new(200).with_header("bad header", "x")
            })
            .unwrap_err();
        assert!(matches!(e, WireError::ResponseHeader(_)), "{e}");
        // The wire still works afterwards.
        assert_eq!(
            wire.exchange(HttpRequest::get("h", "/"), echo)
                .unwrap()
                .status,
            200
        );
    }

    #[test]
    fn handler_framing_headers_are_replaced_by_real_ones() {
        let wire = Wire::new();
        let resp = wire
            .exchange(HttpRequest::get("h", "/"), |_| async {
                HttpResponse::text(200, "abc").with_header("Content-Length", "99")
            })
            .unwrap();
        assert_eq!(resp.header("content-length"), Some("3"));
        assert_eq!(resp.body, b"abc");
    }

    #[test]
    fn a_future_waiting_on_nothing_is_stalled_not_hung() {
        let wire = Wire::new();
        assert_eq!(
            wire.try_block_on(std::future::pending::<()>()),
            Err(Stalled)
        );
        let e = wire
            .exchange(HttpRequest::get("h", "/"), |_| async {
                std::future::pending::<()>().await;
                HttpResponse::new(200)
            })
            .unwrap_err();
        assert!(matches!(e, WireError::Stalled));
        assert_eq!(wire.block_on(async { 40 + 2 }), 42);
    }

    #[test]
    fn wire_is_send_and_sync() {
        fn check<T: Send + Sync + 'static>() {}
        check::<Wire>();
    }
}
