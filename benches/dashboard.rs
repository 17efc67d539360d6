//! The dashboard against a static copy of itself, and the wasm the browser downloads.
//!
//! `make bench` starts the release server on 127.0.0.1 with the demo data and runs this. It:
//! 1. saves the HTML of `BENCH_PAGE` (default `/`) as it is served now, into
//!    `target/bench/static/index.html`;
//! 2. serves that folder with a plain file server (tower-http `ServeDir`) on 127.0.0.1;
//! 3. loads both with `wrk` (a separate process; Debian's package) at `BENCH_CONNECTIONS` (64)
//!    connections for `BENCH_SECONDS` (10) each, after a short warm-up, and prints requests/s,
//!    p99 latency and the dashboard/static throughput ratio against the goal (at least 0.5);
//! 4. prints the size of the wasm in `target/site/pkg`, raw and gzip -9 (goal at most 200 KB).
//!
//! Only loopback addresses are ever loaded. Figures vary with the machine: nothing here asserts
//! a timing; the numbers are printed for the README.

use std::{
    path::{Path, PathBuf},
    process::Command,
    time::Duration,
};

use http_body_util::{BodyExt, Empty};
use hyper::{body::Bytes, Request};
use hyper_util::{client::legacy::Client, rt::TokioExecutor};

fn env_or<T: std::str::FromStr>(key: &str, default: T) -> T {
    std::env::var(key).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// What wrk reports: requests per second and the 99th percentile latency in milliseconds.
#[derive(Debug, Clone, Copy)]
struct Load {
    rps: f64,
    p99_ms: f64,
    non_2xx: u64,
}

fn wrk(url: &str, connections: u32, seconds: u32) -> Load {
    let threads = 2.min(connections);
    let out = Command::new("wrk")
        .args(["-t", &threads.to_string(), "-c", &connections.to_string(), "-d", &format!("{seconds}s")])
        .args(["--latency", url])
        .output()
        .expect("wrk is needed (Debian package wrk; `make bench` installs it)");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "wrk failed: {text}{}", String::from_utf8_lossy(&out.stderr));
    let field = |prefix: &str| -> Option<String> {
        text.lines()
            .map(str::trim)
            .find(|l| l.starts_with(prefix))
            .map(|l| l[prefix.len()..].trim().to_string())
    };
    let rps = field("Requests/sec:").and_then(|v| v.parse().ok()).unwrap_or(0.0);
    let p99_ms = field("99%").map(|v| to_ms(&v)).unwrap_or(f64::NAN);
    let non_2xx = field("Non-2xx or 3xx responses:").and_then(|v| v.parse().ok()).unwrap_or(0);
    Load { rps, p99_ms, non_2xx }
}

/// `1.23ms`, `850.00us`, `1.02s` → milliseconds.
fn to_ms(v: &str) -> f64 {
    let v = v.trim();
    let (num, unit) = v.split_at(v.find(|c: char| c.is_ascii_alphabetic()).unwrap_or(v.len()));
    let n: f64 = num.parse().unwrap_or(f64::NAN);
    match unit {
        "us" => n / 1000.0,
        "ms" => n,
        "s" => n * 1000.0,
        "m" => n * 60_000.0,
        _ => f64::NAN,
    }
}

fn gzip_size(path: &Path) -> Option<u64> {
    let out =
        Command::new("sh").arg("-c").arg(format!("gzip -9 -c '{}' | wc -c", path.display())).output().ok()?;
    String::from_utf8_lossy(&out.stdout).trim().parse().ok()
}

#[tokio::main]
async fn main() {
    let base = std::env::var("BENCH_URL").unwrap_or_else(|_| "http://127.0.0.1:3100".to_string());
    let host = base.trim_start_matches("http://").split(['/', ':']).next().unwrap_or_default();
    assert!(host == "localhost" || host.starts_with("127."), "the benchmark only loads loopback, not {base}");
    let page: String = env_or("BENCH_PAGE", "/".to_string());
    let connections: u32 = env_or("BENCH_CONNECTIONS", 64);
    let seconds: u32 = env_or("BENCH_SECONDS", 10);
    let site: PathBuf = env_or("BENCH_SITE", PathBuf::from("target/site"));

    // 1. The page exactly as served now.
    let client = Client::builder(TokioExecutor::new()).build_http::<Empty<Bytes>>();
    let response = client
        .request(Request::get(format!("{base}{page}")).body(Empty::new()).unwrap())
        .await
        .expect("the server answers");
    assert!(response.status().is_success(), "{page}: {}", response.status());
    let html = response.into_body().collect().await.unwrap().to_bytes();
    let dir = PathBuf::from("target/bench/static");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("index.html"), &html).unwrap();

    // 2. A plain file server for the copy, on a free loopback port.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let static_url = format!("http://{}/index.html", listener.local_addr().unwrap());
    let files = axum::Router::new().fallback_service(tower_http::services::ServeDir::new(&dir));
    tokio::spawn(async move { axum::serve(listener, files).await.unwrap() });
    tokio::time::sleep(Duration::from_millis(200)).await;

    // 3. The same load on both; wrk runs as a process of its own.
    let url = format!("{base}{page}");
    let (s, d) = tokio::task::spawn_blocking(move || {
        wrk(&static_url, connections, 2);
        let s = wrk(&static_url, connections, seconds);
        wrk(&url, connections, 2);
        let d = wrk(&url, connections, seconds);
        (s, d)
    })
    .await
    .unwrap();
    println!("Dashboard load benchmark: {base}{page}, {} KiB of HTML, {connections} connections, {seconds} s each (wrk)", html.len() / 1024);
    println!("{:<24} {:>10} {:>10} {:>9}", "", "req/s", "p99 ms", "non-2xx");
    println!("{:<24} {:>10.0} {:>10.2} {:>9}", "static copy (ServeDir)", s.rps, s.p99_ms, s.non_2xx);
    println!("{:<24} {:>10.0} {:>10.2} {:>9}", "dashboard (Traguardi)", d.rps, d.p99_ms, d.non_2xx);
    let ratio = d.rps / s.rps;
    println!(
        "throughput ratio dashboard/static: {ratio:.2} (goal >= 0.50: {})",
        if ratio >= 0.5 { "met" } else { "NOT met" }
    );

    // 4. The wasm shipped on first load.
    let pkg = site.join("pkg");
    let wasm = std::fs::read_dir(&pkg)
        .map(|d| {
            d.filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|e| e == "wasm"))
                .collect::<Vec<_>>()
        })
        .unwrap_or_default();
    if wasm.is_empty() {
        println!("no wasm found in {} (build with cargo leptos build --release first)", pkg.display());
    }
    for path in wasm {
        let raw = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
        let gz = gzip_size(&path).unwrap_or(0);
        println!(
            "wasm {}: {raw} bytes, {gz} bytes gzip -9 ({:.1} KB; goal <= 200 KB: {})",
            path.display(),
            gz as f64 / 1000.0,
            if gz <= 200_000 { "met" } else { "NOT met" }
        );
    }
}
