//! TEMPORARY placeholder with the agreed API (replaced by the hyper wire at merge).
use std::future::Future;

#[derive(Debug, Clone, PartialEq)]
pub struct HttpRequest {
    pub method: String,
    pub path: String,
    pub host: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}
#[derive(Debug, Clone, PartialEq)]
pub struct HttpResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}
impl HttpRequest {
    pub fn get(host: &str, path: &str) -> HttpRequest {
        HttpRequest {
            method: "GET".into(),
            path: path.into(),
            host: host.into(),
            headers: vec![],
            body: vec![],
        }
    }
}
impl HttpResponse {
    pub fn json(status: u16, v: &serde_json::Value) -> HttpResponse {
        HttpResponse {
            status,
            headers: vec![("content-type".into(), "application/json".into())],
            body: serde_json::to_vec(v).unwrap_or_default(),
        }
    }
    pub fn text(status: u16, s: &str) -> HttpResponse {
        HttpResponse {
            status,
            headers: vec![("content-type".into(), "text/plain".into())],
            body: s.as_bytes().to_vec(),
        }
    }
}
#[derive(Debug, Clone, PartialEq)]
pub enum NetError {
    Refused,
    Timeout { after: f64 },
    NoRoute,
}
#[derive(Debug)]
pub struct WireError(pub String);
pub async fn exchange<H, Fut>(req: HttpRequest, mut handler: H) -> Result<HttpResponse, WireError>
where
    H: FnMut(HttpRequest) -> Fut,
    Fut: Future<Output = HttpResponse>,
{
    Ok(handler(req).await)
}
pub struct Wire;
impl Wire {
    pub fn new() -> Wire {
        Wire
    }
    pub fn block_on<F: Future>(&self, f: F) -> F::Output {
        let waker = std::task::Waker::noop();
        let mut cx = std::task::Context::from_waker(waker);
        let mut f = std::pin::pin!(f);
        loop {
            if let std::task::Poll::Ready(v) = f.as_mut().poll(&mut cx) {
                return v;
            }
        }
    }
}
