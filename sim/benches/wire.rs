//! How much one in-memory HTTP/1.1 exchange costs (sim::fleet::http): the fleet sends
//! thousands per run (client traffic, health checks, playbook `curl`s), so this must stay
//! in the microseconds.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use fleetsim_sim::fleet::http::{exchange, HttpRequest, HttpResponse, Wire};
use std::hint::black_box;

fn health(_: HttpRequest) -> std::future::Ready<HttpResponse> {
    std::future::ready(HttpResponse::json(
        200,
        &serde_json::json!({"status": "healthy", "version": "2.1.1234"}),
    ))
}

fn bench_wire(c: &mut Criterion) {
    let wire = Wire::new();
    let mut g = c.benchmark_group("wire");
    g.throughput(Throughput::Elements(1));

    g.bench_function("get_health", |b| {
        b.iter(|| {
            let req = HttpRequest::get("127.1.0.3:8080", "/health");
            black_box(wire.exchange(black_box(req), health))
        })
    });

    let body = vec![b'x'; 4096];
    g.bench_function("post_4k_echo", |b| {
        b.iter(|| {
            let req = HttpRequest::new("POST", "127.1.0.3:8080", "/data").with_body(body.clone());
            black_box(wire.exchange(req, |r| async move {
                let mut resp = HttpResponse::new(200);
                resp.body = r.body;
                resp
            }))
        })
    });

    // A load balancer forwarding to a backend: two exchanges, one inside the other.
    g.bench_function("proxied_get", |b| {
        b.iter(|| {
            let req = HttpRequest::get("127.1.0.1:80", "/");
            black_box(wire.exchange(req, |r| async move {
                let fwd = HttpRequest::get("127.1.0.3:8080", &r.path);
                match exchange(fwd, health).await {
                    Ok(resp) => resp.with_header("x-served-by", "lb-1"),
                    Err(e) => HttpResponse::text(502, &e.to_string()),
                }
            }))
        })
    });
    g.finish();
}

criterion_group!(benches, bench_wire);
criterion_main!(benches);
