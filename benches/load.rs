//! HTTP load benchmark: speed and memory of a running Traguardi, from a separate process.
//!
//! `make bench` starts the release server on 127.0.0.1 with the demo data and runs this. It
//! only ever talks to 127.0.0.1 (or another loopback address in `BENCH_URL`), sends a bounded
//! number of requests and stops by itself. It prints, per route, throughput and latency
//! percentiles, and the server's resident memory (VmRSS, peak VmHWM) before and after.
//!
//! Environment: `BENCH_URL` (default `http://127.0.0.1:3100`), `BENCH_REQUESTS` per route (500),
//! `BENCH_CONCURRENCY` (8), `BENCH_PID` (the server's pid, for its memory).

use std::time::{Duration, Instant};

use http_body_util::{BodyExt, Full};
use hyper::{body::Bytes, Method, Request};
use hyper_util::{client::legacy::Client, rt::TokioExecutor};

fn env_or<T: std::str::FromStr>(key: &str, default: T) -> T {
    std::env::var(key).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// VmRSS and VmHWM of a process, in KiB.
fn memory(pid: Option<u32>) -> Option<(u64, u64)> {
    let status = std::fs::read_to_string(format!("/proc/{}/status", pid?)).ok()?;
    let field = |name: &str| {
        status.lines().find(|l| l.starts_with(name))?.split_whitespace().nth(1)?.parse::<u64>().ok()
    };
    Some((field("VmRSS:")?, field("VmHWM:")?))
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

#[tokio::main]
async fn main() {
    let base = std::env::var("BENCH_URL").unwrap_or_else(|_| "http://127.0.0.1:3100".to_string());
    let host = base.trim_start_matches("http://").split(['/', ':']).next().unwrap_or_default();
    assert!(
        host == "localhost" || host.starts_with("127.") || host == "[::1]",
        "the benchmark only targets loopback addresses, not {base}"
    );
    let requests: usize = env_or("BENCH_REQUESTS", 500);
    let concurrency: usize = env_or("BENCH_CONCURRENCY", 8).max(1);
    let pid: Option<u32> = std::env::var("BENCH_PID").ok().and_then(|p| p.parse().ok());
    let client = Client::builder(TokioExecutor::new()).build_http::<Full<Bytes>>();

    println!("Traguardi load benchmark: {base}, {requests} requests per route, concurrency {concurrency}");
    if let Some((rss, hwm)) = memory(pid) {
        println!("server memory before: RSS {} MiB, peak {} MiB", rss / 1024, hwm / 1024);
    }
    println!(
        "{:<42} {:>9} {:>8} {:>9} {:>9} {:>9} {:>7}",
        "route", "req/s", "errors", "p50 ms", "p95 ms", "p99 ms", "KiB"
    );
    // (method, path, share of BENCH_REQUESTS): the report takes CPU seconds, not milliseconds,
    // so it gets a twentieth of the requests.
    let routes: [(Method, &str, usize); 8] = [
        (Method::GET, "/", 1),
        (Method::GET, "/comuni", 1),
        (Method::GET, "/comuni?provincia=LE&adesione=aderente", 1),
        (Method::GET, "/comuni/073013", 1),
        (Method::GET, "/export/comuni.csv", 1),
        (Method::GET, "/export/comuni.json", 1),
        (Method::POST, "/api/cruscotto", 1),
        (Method::GET, "/report.pdf", 20),
    ];
    for (method, path, divisor) in routes {
        let requests = (requests / divisor).max(concurrency);
        let started = Instant::now();
        let mut tasks = Vec::with_capacity(concurrency);
        for worker in 0..concurrency {
            let client = client.clone();
            let (method, url) = (method.clone(), format!("{base}{path}"));
            let share = requests / concurrency + usize::from(worker < requests % concurrency);
            tasks.push(tokio::spawn(async move {
                let mut latencies = Vec::with_capacity(share);
                let (mut errors, mut bytes) = (0usize, 0usize);
                for _ in 0..share {
                    let request = Request::builder()
                        .method(method.clone())
                        .uri(&url)
                        .header("content-type", "application/x-www-form-urlencoded")
                        .body(Full::new(Bytes::new()))
                        .expect("request");
                    let t = Instant::now();
                    match client.request(request).await {
                        Ok(response) if response.status().is_success() => {
                            let body = response.into_body().collect().await.map(|b| b.to_bytes().len());
                            bytes = body.unwrap_or(0);
                            latencies.push(t.elapsed());
                        }
                        _ => errors += 1,
                    }
                }
                (latencies, errors, bytes)
            }));
        }
        let (mut latencies, mut errors, mut bytes) = (Vec::new(), 0, 0);
        for task in tasks {
            let (l, e, b) = task.await.expect("worker");
            latencies.extend(l);
            errors += e;
            bytes = bytes.max(b);
        }
        let elapsed = started.elapsed();
        latencies.sort();
        let ms = |d: Duration| d.as_secs_f64() * 1000.0;
        println!(
            "{:<42} {:>9.0} {:>8} {:>9.2} {:>9.2} {:>9.2} {:>7}",
            format!("{method} {path}"),
            latencies.len() as f64 / elapsed.as_secs_f64(),
            errors,
            ms(percentile(&latencies, 0.50)),
            ms(percentile(&latencies, 0.95)),
            ms(percentile(&latencies, 0.99)),
            bytes / 1024
        );
    }
    if let Some((rss, hwm)) = memory(pid) {
        println!("server memory after: RSS {} MiB, peak {} MiB", rss / 1024, hwm / 1024);
    }
}
