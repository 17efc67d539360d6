//! Evidence upload benchmark: a large PDF through a running Traguardi, and the server's memory.
//!
//! An upload is streamed by the server to its store while it computes the SHA-256, so its memory
//! should not grow with the file. `make bench` starts the release server on 127.0.0.1 with the
//! demo data, `TRAGUARDI_EVIDENCE_MAX_BYTES` raised above the file and
//! `TRAGUARDI_EVIDENCE_STORE=target/bench/evidenze`, and runs this, which:
//! 1. signs in as the demo comune user (`POST /accedi`, same-origin `Origin` header);
//! 2. resets the server's peak RSS (`5` into `/proc/$BENCH_PID/clear_refs`) and reads its VmRSS;
//! 3. uploads a generated PDF of `BENCH_EVIDENCE_MB` (100) MB to `POST
//!    /comuni/072006/evidenze/step1_pagopa` as `multipart/form-data` with a Content-Length: the
//!    file (`%PDF-1.7`, deterministic pseudo-random bytes without `<`, `%%EOF`) is generated chunk
//!    by chunk while it is sent and hashed, never held in memory; meanwhile VmRSS is sampled every
//!    20 ms;
//! 4. reads the peak (VmHWM and the samples) and prints size, seconds, MB/s, RSS before, peak and
//!    growth against the goal (growth < 32 MB);
//! 5. downloads the newest evidence of the comune's evidence page (`GET /evidenze/{id}/file`) and compares its
//!    SHA-256 with the one computed while sending;
//! 6. sends two hostile bodies to the same address, chunked (no length to refuse up front), each
//!    generated while it is sent: `BENCH_HOSTILE_MB` (200) MB with no boundary at all, and a part
//!    header (`filename="`) followed by as many megabytes of `a` with no line end. For each it
//!    prints the answer (400, or the connection closed by the server after its answer), how much
//!    the client managed to send, and the server's RSS before, peak and growth (goal: growth
//!    < 32 MB; the server reads at most a chunk or two of either before refusing).
//!
//! It panics when the upload is not accepted (anything but 303) or the downloaded file differs;
//! the timing and memory figures vary with the machine and are only printed. Only loopback
//! addresses are ever loaded. MB are 2^20 bytes, as in `TRAGUARDI_EVIDENCE_MAX_BYTES`.
//!
//! Environment: `BENCH_URL` (default `http://127.0.0.1:3100`), `BENCH_PID` (the server's pid, for
//! its memory; without it the memory lines say so), `BENCH_EVIDENCE_MB` (100), `BENCH_HOSTILE_MB`
//! (200).

use std::{
    convert::Infallible,
    sync::{
        atomic::{AtomicBool, AtomicU64, Ordering},
        Arc, Mutex,
    },
    time::{Duration, Instant},
};

use http_body_util::{combinators::UnsyncBoxBody, BodyExt, Empty, Full, StreamBody};
use hyper::{
    body::{Bytes, Frame},
    header, Method, Request, Response, StatusCode,
};
use hyper_util::{
    client::legacy::{connect::HttpConnector, Client},
    rt::TokioExecutor,
};
use sha2::{Digest, Sha256};

type Body = UnsyncBoxBody<Bytes, Infallible>;
type HttpClient = Client<HttpConnector, Body>;

const EMAIL: &str = "demo.comune@traguardi.invalid";
const PASSWORD: &str = "Demo-Comune-2021";
/// Bari, one of the demo comune user's comuni.
const COMUNE: &str = "072006";
/// The step-1 pagoPA objective of the programme (migrations/*/…_fondo_innovazione.sql).
const OBJECTIVE: &str = "step1_pagopa";
const FILENAME: &str = "prova.pdf";
const BOUNDARY: &str = "traguardi-bench-8c1e5f0a2b9d4e7f";
const PDF_HEADER: &[u8] = b"%PDF-1.7\n";
const PDF_TRAILER: &[u8] = b"\n%%EOF\n";
const CHUNK: usize = 64 * 1024;
const MB: f64 = 1024.0 * 1024.0;

fn env_or<T: std::str::FromStr>(key: &str, default: T) -> T {
    std::env::var(key).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// One field of `/proc/{pid}/status`, in KiB.
fn status_kib(pid: u32, name: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status.lines().find(|l| l.starts_with(name))?.split_whitespace().nth(1)?.parse().ok()
}

fn hex(digest: &[u8]) -> String {
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// The uploaded file, generated while it is sent: the PDF header, `body` pseudo-random bytes
/// (xorshift64*, fixed seed; never `<`, so no HTML tag anywhere) and the `%%EOF` trailer,
/// wrapped in the multipart envelope. The file's SHA-256 goes into `digest` after the last byte.
struct Upload {
    preamble: Option<Bytes>,
    body_left: u64,
    trailer: Option<Bytes>,
    rng: u64,
    hasher: Option<Sha256>,
    digest: Arc<Mutex<Option<String>>>,
}

impl Upload {
    fn new(file_bytes: u64, digest: Arc<Mutex<Option<String>>>) -> (Self, u64) {
        let preamble = format!(
            "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{FILENAME}\"\r\n\
             Content-Type: application/pdf\r\n\r\n"
        );
        let epilogue = format!("\r\n--{BOUNDARY}--\r\n");
        let fixed = (PDF_HEADER.len() + PDF_TRAILER.len()) as u64;
        assert!(file_bytes > fixed, "the file must be larger than its PDF header and trailer");
        let mut hasher = Sha256::new();
        hasher.update(PDF_HEADER);
        let mut head = preamble.into_bytes();
        head.extend_from_slice(PDF_HEADER);
        let mut tail = PDF_TRAILER.to_vec();
        tail.extend_from_slice(epilogue.as_bytes());
        let content_length = head.len() as u64 + (file_bytes - fixed) + tail.len() as u64;
        let upload = Upload {
            preamble: Some(head.into()),
            body_left: file_bytes - fixed,
            trailer: Some(tail.into()),
            rng: 0x9e37_79b9_7f4a_7c15,
            hasher: Some(hasher),
            digest,
        };
        (upload, content_length)
    }

    fn next_random(&mut self) -> u64 {
        self.rng ^= self.rng >> 12;
        self.rng ^= self.rng << 25;
        self.rng ^= self.rng >> 27;
        self.rng.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
}

impl Iterator for Upload {
    type Item = Result<Frame<Bytes>, Infallible>;

    fn next(&mut self) -> Option<Self::Item> {
        if let Some(head) = self.preamble.take() {
            return Some(Ok(Frame::data(head)));
        }
        if self.body_left > 0 {
            let len = CHUNK.min(self.body_left as usize);
            let mut chunk = Vec::with_capacity(len + 8);
            while chunk.len() < len {
                chunk.extend_from_slice(&self.next_random().to_le_bytes());
            }
            chunk.truncate(len);
            for b in &mut chunk {
                if *b == b'<' {
                    *b = b'>';
                }
            }
            self.body_left -= len as u64;
            if let Some(h) = self.hasher.as_mut() {
                h.update(&chunk);
            }
            return Some(Ok(Frame::data(chunk.into())));
        }
        let tail = self.trailer.take()?;
        if let Some(mut h) = self.hasher.take() {
            h.update(PDF_TRAILER);
            *self.digest.lock().expect("digest lock") = Some(hex(&h.finalize()));
        }
        Some(Ok(Frame::data(tail)))
    }
}

/// A hostile body: `prefix`, then `left` bytes of `filler` 64 KiB at a time (never held whole);
/// the bytes handed to the connection so far are counted in `sent`.
struct Hostile {
    prefix: Option<Bytes>,
    chunk: Bytes,
    left: u64,
    sent: Arc<AtomicU64>,
}

impl Iterator for Hostile {
    type Item = Result<Frame<Bytes>, Infallible>;

    fn next(&mut self) -> Option<Self::Item> {
        let next = match self.prefix.take() {
            Some(p) => p,
            None if self.left == 0 => return None,
            None => {
                let n = self.left.min(self.chunk.len() as u64);
                self.left -= n;
                self.chunk.slice(..n as usize)
            }
        };
        self.sent.fetch_add(next.len() as u64, Ordering::Relaxed);
        Some(Ok(Frame::data(next)))
    }
}

/// The server's memory while something runs: RSS before (peak reset), then sampled.
struct Memory {
    pid: u32,
    before: u64,
    stop: Arc<AtomicBool>,
    sampler: std::thread::JoinHandle<u64>,
}

impl Memory {
    fn start(pid: Option<u32>) -> Option<Memory> {
        let pid = pid?;
        let _ = std::fs::write(format!("/proc/{pid}/clear_refs"), "5");
        let before = status_kib(pid, "VmRSS:")?;
        let stop = Arc::new(AtomicBool::new(false));
        Some(Memory { pid, before, stop: stop.clone(), sampler: sample_rss(pid, stop) })
    }

    /// "RSS before …, peak …, growth …" in MB.
    fn finish(self) -> String {
        self.stop.store(true, Ordering::Relaxed);
        let sampled = self.sampler.join().expect("memory sampler");
        let peak = sampled.max(status_kib(self.pid, "VmHWM:").unwrap_or(0));
        let mib = |kib: u64| kib as f64 / 1024.0;
        format!(
            "RSS before {:.1} MB, peak {:.1} MB, growth {:.1} MB (goal: growth < 32 MB)",
            mib(self.before),
            mib(peak),
            mib(peak.saturating_sub(self.before))
        )
    }
}

/// Sends a hostile body and prints the answer, what was sent and the server's memory.
#[allow(clippy::too_many_arguments)]
async fn hostile(
    client: &HttpClient,
    url: &str,
    authority: &str,
    cookie: &str,
    pid: Option<u32>,
    what: &str,
    prefix: &[u8],
    filler: u8,
    bytes: u64,
) {
    let sent = Arc::new(AtomicU64::new(0));
    let body = Hostile {
        prefix: Some(Bytes::copy_from_slice(prefix)).filter(|p| !p.is_empty()),
        chunk: Bytes::from(vec![filler; CHUNK]),
        left: bytes,
        sent: sent.clone(),
    };
    let req = request(Method::POST, url, authority, Some(cookie))
        .header(header::CONTENT_TYPE, format!("multipart/form-data; boundary={BOUNDARY}"))
        .body(StreamBody::new(futures_util::stream::iter(body)).boxed_unsync())
        .expect("hostile request");
    let memory = Memory::start(pid);
    let started = Instant::now();
    let answer = match client.request(req).await {
        Ok(response) => {
            let status = response.status();
            let body = text(response).await;
            let refused =
                ["non è leggibile", "troppi campi", "supera il limite"].iter().any(|m| body.contains(m));
            format!(
                "{status}{}",
                if refused { " with the Italian refusal" } else { " (no refusal message!)" }
            )
        }
        // The server answers after a chunk or two and closes: the client may see only that.
        Err(e) => format!("connection closed by the server ({e})"),
    };
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "hostile: {what}: {answer} after {:.1} MB sent in {seconds:.2} s; server memory: {}",
        sent.load(Ordering::Relaxed) as f64 / MB,
        memory.map_or("not measured (set BENCH_PID)".to_string(), Memory::finish)
    );
}

/// Samples the server's VmRSS every 20 ms until told to stop; returns the largest, in KiB.
fn sample_rss(pid: u32, stop: Arc<AtomicBool>) -> std::thread::JoinHandle<u64> {
    std::thread::spawn(move || {
        let mut max = 0;
        while !stop.load(Ordering::Relaxed) {
            max = max.max(status_kib(pid, "VmRSS:").unwrap_or(0));
            std::thread::sleep(Duration::from_millis(20));
        }
        max.max(status_kib(pid, "VmRSS:").unwrap_or(0))
    })
}

/// A request to the server with the same-origin headers its cross-site protection wants.
fn request(
    method: Method,
    url: &str,
    authority: &str,
    cookie: Option<&str>,
) -> hyper::http::request::Builder {
    let mut builder = Request::builder().method(method).uri(url).header(header::HOST, authority);
    if let Some(c) = cookie {
        builder = builder.header(header::COOKIE, c);
    }
    builder.header(header::ORIGIN, format!("http://{authority}"))
}

async fn text(response: Response<hyper::body::Incoming>) -> String {
    let bytes = response.into_body().collect().await.expect("response body").to_bytes();
    String::from_utf8_lossy(&bytes).into_owned()
}

async fn sign_in(client: &HttpClient, base: &str, authority: &str) -> String {
    let form = format!("email={}&password={PASSWORD}&next=/", EMAIL.replace('@', "%40"));
    let req = request(Method::POST, &format!("{base}/accedi"), authority, None)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Full::new(Bytes::from(form)).boxed_unsync())
        .expect("sign-in request");
    let response = client.request(req).await.expect("sign-in: the server does not answer");
    let status = response.status();
    // `name=value` of the session cookie (a cleared cookie has an empty value).
    let cookie = response
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter_map(|v| v.split(';').next())
        .map(str::trim)
        .filter(|c| c.split_once('=').is_some_and(|(_, value)| !value.is_empty()))
        .find(|c| c.split_once('=').is_some_and(|(name, _)| name.ends_with("traguardi_sessione")))
        .map(str::to_string);
    let body = text(response).await;
    match cookie {
        Some(c) if status == StatusCode::SEE_OTHER => c,
        _ => panic!("sign-in as {EMAIL} refused ({status}): {}", body.chars().take(300).collect::<String>()),
    }
}

/// The ids in `href="/evidenze/{id}/file"` links of a page.
fn evidence_ids(html: &str) -> Vec<u64> {
    html.split("href=\"/evidenze/")
        .skip(1)
        .filter_map(|rest| rest.split_once("/file\"").and_then(|(id, _)| id.parse().ok()))
        .collect()
}

#[tokio::main]
async fn main() {
    let base = std::env::var("BENCH_URL").unwrap_or_else(|_| "http://127.0.0.1:3100".to_string());
    let base = base.trim_end_matches('/').to_string();
    let authority =
        base.strip_prefix("http://").unwrap_or_else(|| panic!("BENCH_URL must be http://, not {base}"));
    assert!(!authority.contains('/'), "BENCH_URL is the server's address without a path, not {base}");
    let host = authority.rsplit_once(':').map_or(authority, |(h, _)| h);
    assert!(
        host == "localhost" || host.starts_with("127.") || host == "[::1]",
        "the benchmark only targets loopback addresses, not {base}"
    );
    let pid: Option<u32> = std::env::var("BENCH_PID").ok().and_then(|p| p.parse().ok());
    let mb: u64 = env_or("BENCH_EVIDENCE_MB", 100).max(1);
    let file_bytes = mb * 1024 * 1024;
    let client: HttpClient = Client::builder(TokioExecutor::new()).build_http();

    println!(
        "Traguardi evidence upload benchmark: {base}, a {mb} MB PDF to /comuni/{COMUNE}/evidenze/{OBJECTIVE}"
    );
    let cookie = sign_in(&client, &base, authority).await;

    // Memory before: the peak is reset to the current RSS, then sampled during the upload.
    let rss_before = pid.and_then(|pid| {
        if let Err(e) = std::fs::write(format!("/proc/{pid}/clear_refs"), "5") {
            println!("cannot reset the server's peak RSS (/proc/{pid}/clear_refs: {e}): the peak may predate the upload");
        }
        status_kib(pid, "VmRSS:")
    });
    if pid.is_some() && rss_before.is_none() {
        println!("cannot read /proc/{}/status: no memory figures", pid.unwrap_or_default());
    }
    let stop = Arc::new(AtomicBool::new(false));
    let sampler = pid.filter(|_| rss_before.is_some()).map(|pid| sample_rss(pid, stop.clone()));

    let digest = Arc::new(Mutex::new(None));
    let (upload, content_length) = Upload::new(file_bytes, digest.clone());
    let url = format!("{base}/comuni/{COMUNE}/evidenze/{OBJECTIVE}");
    let req = request(Method::POST, &url, authority, Some(&cookie))
        .header(header::CONTENT_TYPE, format!("multipart/form-data; boundary={BOUNDARY}"))
        .header(header::CONTENT_LENGTH, content_length)
        .body(StreamBody::new(futures_util::stream::iter(upload)).boxed_unsync())
        .expect("upload request");
    let started = Instant::now();
    let outcome = client.request(req).await;
    let seconds = started.elapsed().as_secs_f64();
    stop.store(true, Ordering::Relaxed);
    let sampled_kib = sampler.map(|s| s.join().expect("memory sampler"));
    let hwm_kib = pid.and_then(|pid| status_kib(pid, "VmHWM:"));

    // A server that refuses a body before reading it (size limit, session, cross-site check)
    // closes the connection: the client then sees a broken pipe rather than the answer.
    let response = outcome.unwrap_or_else(|e| {
        panic!(
            "upload to {url} failed after {seconds:.2} s: {e:?} (refused early? check \
             TRAGUARDI_EVIDENCE_MAX_BYTES and the server's log)"
        )
    });
    let status = response.status();
    let location = response.headers().get(header::LOCATION).and_then(|v| v.to_str().ok()).map(str::to_string);
    let body = text(response).await;
    assert!(
        status == StatusCode::SEE_OTHER,
        "upload not accepted: {status} {}",
        body.chars().take(500).collect::<String>()
    );
    let sent = digest.lock().expect("digest lock").clone().expect("the whole file was sent");
    println!(
        "upload: {mb} MB ({file_bytes} bytes of file, {content_length} of request) in {seconds:.2} s, \
         {:.1} MB/s → {status} {}",
        file_bytes as f64 / MB / seconds,
        location.as_deref().unwrap_or("(no Location)")
    );

    match (rss_before, hwm_kib.max(sampled_kib)) {
        (Some(before), Some(peak)) => {
            let mib = |kib: u64| kib as f64 / 1024.0;
            println!(
                "server memory: RSS before {:.1} MB, peak RSS {:.1} MB (VmHWM {:.1}, sampled every 20 ms {:.1}), \
                 growth {:.1} MB (goal: growth < 32 MB)",
                mib(before),
                mib(peak),
                mib(hwm_kib.unwrap_or(0)),
                mib(sampled_kib.unwrap_or(0)),
                mib(peak.saturating_sub(before)),
            );
        }
        _ => {
            println!("server memory: not measured (set BENCH_PID to the server's pid) (goal: growth < 32 MB)")
        }
    }

    // The newest evidence of the comune, downloaded and hashed as it arrives.
    let page_url = format!("{base}/comuni/{COMUNE}/evidenze");
    let req = request(Method::GET, &page_url, authority, Some(&cookie))
        .body(Empty::new().boxed_unsync())
        .expect("page request");
    let page = client.request(req).await.expect("comune page");
    assert!(page.status().is_success(), "GET {page_url}: {}", page.status());
    let page = text(page).await;
    let id = evidence_ids(&page)
        .into_iter()
        .max()
        .unwrap_or_else(|| panic!("{page_url} links no /evidenze/{{id}}/file"));
    let file_url = format!("{base}/evidenze/{id}/file");
    let req = request(Method::GET, &file_url, authority, Some(&cookie))
        .body(Empty::new().boxed_unsync())
        .expect("download request");
    let started = Instant::now();
    let response = client.request(req).await.expect("download");
    assert!(response.status().is_success(), "GET {file_url}: {}", response.status());
    let mut body = response.into_body();
    let (mut hasher, mut received) = (Sha256::new(), 0u64);
    while let Some(frame) = body.frame().await {
        if let Ok(data) = frame.expect("download body").into_data() {
            received += data.len() as u64;
            hasher.update(&data);
        }
    }
    let got = hex(&hasher.finalize());
    let matches = got == sent;
    println!(
        "download: evidence {id}, {received} bytes in {:.2} s; hash: {} (sent {sent}, received {got}); \
         the comune page {} the hash",
        started.elapsed().as_secs_f64(),
        if matches { "matches" } else { "DIFFERS" },
        if page.contains(&sent) { "shows" } else { "does not show" }
    );
    assert!(matches, "the downloaded file differs from the uploaded one");

    // Hostile bodies: refused after a chunk or two, the server's memory flat.
    let hostile_mb: u64 = env_or("BENCH_HOSTILE_MB", 200).max(1);
    let endless_header =
        format!("--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"");
    for (what, prefix, filler) in [
        (format!("{hostile_mb} MB with no boundary"), String::new(), b'x'),
        (format!("a part header that never ends ({hostile_mb} MB of `a`)"), endless_header, b'a'),
    ] {
        let bytes = hostile_mb * 1024 * 1024;
        hostile(&client, &url, authority, &cookie, pid, &what, prefix.as_bytes(), filler, bytes).await;
    }
}
