//! Public answers kept per data version and day, compressed once.
//!
//! A public page, chart, export or API answer changes only when the data change (every writing
//! transaction bumps `data_version`, see `data::audit`) or the day does (the rules evaluate as of
//! today). Rendering the dashboard and gzipping its ~300 KB anew for every visitor made it the
//! slowest thing the server does; [`PageCache`] renders each public answer once per data version
//! and day, and compresses it once per encoding (gzip, Brotli), on first demand.
//!
//! What may be kept, and why nothing private or stale is ever served from it:
//! - only `GET` requests **without a `Cookie` or `Authorization` header**: such a request is
//!   anonymous whatever route it asks for, so what is kept is what anybody gets; a signed-in
//!   request (its session cookie) never reads nor fills the cache;
//! - only `200` answers without `Set-Cookie`, without `Cache-Control: private`/`no-store`, of a
//!   public content type (HTML, JSON, CSV, SVG, RDF, PDF, PNG), up to [`MAX_ENTRY_BYTES`];
//! - never the operator's routes, evidence and import files, sign-in, static files or server
//!   functions ([`EXCLUDED`]);
//! - each request reads `data_version` from the database (one indexed row): a write, on this
//!   server or on another sharing the database, empties the cache at the next request; the
//!   generation only moves forward, so a render that started before a write is never kept
//!   after it;
//! - the key is the path with its query, and whether the request came with an `Origin` (the
//!   open-data API answers it with CORS headers).
//!
//! Pages carry a Content-Security-Policy. Leptos admits its inline hydration scripts with a
//! per-request nonce, which a kept page cannot have (it would be the same for everyone, hence
//! no secret): a kept page's nonce is replaced by the SHA-256 hashes of its inline scripts
//! ([`pin_scripts`]), which admit exactly those scripts and nothing injected.
//!
//! Requests that miss at the same time wait for one render (a single flight per key), so a
//! burst after a write renders each page once.

use std::{
    collections::{BTreeSet, HashMap},
    sync::{Arc, Mutex},
};

use axum::{
    body::Body,
    extract::{Request, State},
    http::{header, HeaderMap, HeaderValue, Method, StatusCode},
    middleware::Next,
    response::{IntoResponse, Response},
};
use bytes::Bytes;
use chrono::NaiveDate;
use futures_util::StreamExt;
use http_body_util::BodyExt;
use tokio::sync::OnceCell;

use crate::state::AppState;

/// The most bytes (uncompressed and compressed together) kept by default: the Puglia demo's
/// public answers take a few megabytes; a national deployment with many filters more.
pub const DEFAULT_MAX_BYTES: usize = 64 * 1024 * 1024;
/// The largest single answer kept (the national CSV is about 2 MB); larger ones are sent as
/// rendered.
pub const MAX_ENTRY_BYTES: usize = 8 * 1024 * 1024;
/// At most this many keys per generation (query strings are chosen by visitors); past it the
/// cache starts again, which costs only renders.
const MAX_KEYS: usize = 4096;
/// Answers shorter than this are not worth compressing (tower-http's threshold too).
const MIN_COMPRESS: usize = 32;
/// The response header saying whether an answer came from the cache (`hit`), was rendered and
/// kept (`miss`); absent when the cache was not used. For tests, benchmarks and the operator.
pub const CACHE_HEADER: &str = "x-traguardi-cache";

/// Path prefixes never kept: operations (live answers), files with their own access rules and
/// trail, sign-in and sign-out, the Leptos server functions (under `/api/` but not `/api/v1/`),
/// static files (already files; they are served from disk).
pub const EXCLUDED: [&str; 10] = [
    "/healthz",
    "/readyz",
    "/metrics",
    "/evidenze/",
    "/importazioni/",
    "/accedi",
    "/esci",
    "/pkg/",
    "/bootstrap-italia/",
    "/api/",
];

/// An encoding the browser accepts, in the order the cache prefers them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Encoding {
    Brotli,
    Gzip,
    Identity,
}

impl Encoding {
    /// The best encoding `accept` (an `Accept-Encoding` value) allows: Brotli, then gzip, else
    /// none. A coding with `q=0` is refused; `*` allows both.
    pub fn negotiate(accept: Option<&str>) -> Encoding {
        let mut br = false;
        let mut gzip = false;
        for item in accept.unwrap_or_default().split(',') {
            let mut parts = item.split(';');
            let coding = parts.next().unwrap_or_default().trim().to_ascii_lowercase();
            let q = parts
                .filter_map(|p| p.trim().strip_prefix("q=").or_else(|| p.trim().strip_prefix("Q=")))
                .filter_map(|q| q.trim().parse::<f32>().ok())
                .next()
                .unwrap_or(1.0);
            let allowed = q > 0.0;
            match coding.as_str() {
                "br" => br = allowed,
                "gzip" | "x-gzip" => gzip = allowed,
                "*" => {
                    br |= allowed;
                    gzip |= allowed;
                }
                _ => {}
            }
        }
        if br {
            Encoding::Brotli
        } else if gzip {
            Encoding::Gzip
        } else {
            Encoding::Identity
        }
    }

    fn token(self) -> Option<&'static str> {
        match self {
            Encoding::Brotli => Some("br"),
            Encoding::Gzip => Some("gzip"),
            Encoding::Identity => None,
        }
    }
}

/// One kept answer: its headers as rendered, its bytes, and each compressed form once asked for.
#[derive(Debug)]
pub struct Entry {
    headers: HeaderMap,
    identity: Bytes,
    compressible: bool,
    gzip: OnceCell<Option<Bytes>>,
    br: OnceCell<Option<Bytes>>,
}

/// A key's answer: filled once by the first request; `None` when that answer may not be kept
/// (a 404, a refusal…), and the later requests of the generation then render their own.
type Cell = Arc<OnceCell<Option<Arc<Entry>>>>;

#[derive(Debug, Default)]
struct Generation {
    version: i64,
    day: Option<NaiveDate>,
    cells: HashMap<String, Cell>,
    bytes: usize,
}

/// The kept answers of the current data version and day (see the module's documentation).
#[derive(Debug)]
pub struct PageCache {
    max_bytes: usize,
    inner: Mutex<Generation>,
}

impl Default for PageCache {
    fn default() -> Self {
        PageCache::new(DEFAULT_MAX_BYTES)
    }
}

impl PageCache {
    /// A cache keeping at most `max_bytes`; 0 keeps nothing (every request renders).
    pub fn new(max_bytes: usize) -> PageCache {
        PageCache { max_bytes, inner: Mutex::default() }
    }

    /// `TRAGUARDI_PAGE_CACHE_MB` (whole megabytes, default 64, 0 turns the cache off); a bad
    /// value stops the start.
    pub fn from_env() -> anyhow::Result<PageCache> {
        match std::env::var("TRAGUARDI_PAGE_CACHE_MB") {
            Err(_) => Ok(PageCache::default()),
            Ok(v) => v
                .trim()
                .parse::<usize>()
                .ok()
                .and_then(|mb| mb.checked_mul(1024 * 1024))
                .map(PageCache::new)
                .ok_or_else(|| {
                    anyhow::anyhow!(
                        "TRAGUARDI_PAGE_CACHE_MB={v}: expected a whole number of megabytes, e.g. 64 (0: off)"
                    )
                }),
        }
    }

    /// The most bytes kept.
    pub fn max_bytes(&self) -> usize {
        self.max_bytes
    }

    /// The cell of `key` in the generation (`version`, `day`); `None` when the generation is
    /// older than the one already seen (a request that read the version before a write, or the
    /// day before midnight), which must not be kept.
    fn cell(&self, version: i64, day: NaiveDate, key: &str) -> Option<Cell> {
        let mut g = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        match (version, Some(day)).cmp(&(g.version, g.day)) {
            std::cmp::Ordering::Less => return None,
            std::cmp::Ordering::Greater => {
                *g = Generation { version, day: Some(day), ..Generation::default() };
            }
            std::cmp::Ordering::Equal => {}
        }
        if let Some(cell) = g.cells.get(key) {
            return Some(cell.clone());
        }
        if g.cells.len() >= MAX_KEYS || g.bytes >= self.max_bytes {
            g.cells.clear();
            g.bytes = 0;
        }
        let cell = Cell::default();
        g.cells.insert(key.to_string(), cell.clone());
        Some(cell)
    }

    /// Counts `bytes` kept in the generation (`version`, `day`), if it is still the current one.
    fn account(&self, version: i64, day: NaiveDate, bytes: usize) {
        let mut g = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        if g.version == version && g.day == Some(day) {
            g.bytes += bytes;
        }
    }

    /// Answers kept now and the bytes they take, every encoding counted (for `/metrics`: how
    /// much of the heap is the cache's).
    pub fn usage(&self) -> (usize, usize) {
        let g = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        (g.cells.values().filter(|c| matches!(c.get(), Some(Some(_)))).count(), g.bytes)
    }

    /// How many answers are kept now (for tests).
    pub fn len(&self) -> usize {
        let g = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        g.cells.values().filter(|c| matches!(c.get(), Some(Some(_)))).count()
    }

    /// Whether nothing is kept now.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The key of a request the cache may answer, `None` for every other request.
pub fn cache_key(req: &Request) -> Option<String> {
    if req.method() != Method::GET {
        return None;
    }
    let headers = req.headers();
    if [header::COOKIE, header::AUTHORIZATION, header::RANGE].iter().any(|h| headers.contains_key(h)) {
        return None;
    }
    let path = req.uri().path();
    let excluded = EXCLUDED.iter().any(|p| path == p.trim_end_matches('/') || path.starts_with(p));
    if excluded && !path.starts_with("/api/v1/") {
        return None;
    }
    let origin = if headers.contains_key(header::ORIGIN) { "o" } else { "-" };
    let target = req.uri().path_and_query().map(|pq| pq.as_str()).unwrap_or(path);
    Some(format!("{origin} {target}"))
}

/// The middleware: answers from the cache, or renders, keeps and answers.
pub async fn serve(State(state): State<AppState>, req: Request, next: Next) -> Response {
    if state.pages.max_bytes() == 0 {
        return next.run(req).await;
    }
    let Some(key) = cache_key(&req) else { return next.run(req).await };
    let encoding =
        Encoding::negotiate(req.headers().get(header::ACCEPT_ENCODING).and_then(|v| v.to_str().ok()));
    let version = match state.db.data_version().await {
        Ok(v) => v,
        Err(e) => {
            tracing::warn!(error = %e, "page cache: data version unreadable, rendering");
            return next.run(req).await;
        }
    };
    let day = crate::evaluation::today();
    let Some(cell) = state.pages.cell(version, day, &key) else { return next.run(req).await };

    let mut pending = Some((req, next));
    let mut own: Option<Response> = None;
    let mut rendered_here = false;
    let (pending_ref, own_ref, here_ref) = (&mut pending, &mut own, &mut rendered_here);
    let entry = cell
        .get_or_init(move || async move {
            *here_ref = true;
            let (mut req, next) = pending_ref.take().expect("the cell is filled once");
            // Rendered uncompressed; each encoding is made from these bytes once.
            req.headers_mut().remove(header::ACCEPT_ENCODING);
            match Entry::keep(next.run(req).await).await {
                Ok(entry) => Some(Arc::new(entry)),
                Err(response) => {
                    *own_ref = Some(response);
                    None
                }
            }
        })
        .await
        .clone();
    match entry {
        Some(entry) => {
            crate::ops::metrics::page_cache(if rendered_here { "miss" } else { "hit" });
            if rendered_here {
                state.pages.account(version, day, entry.identity.len());
            }
            entry.respond(encoding, !rendered_here, |bytes| state.pages.account(version, day, bytes)).await
        }
        None => {
            crate::ops::metrics::page_cache("uncacheable");
            match (own, pending) {
                (Some(response), _) => response,
                (None, Some((req, next))) => next.run(req).await,
                (None, None) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
            }
        }
    }
}

/// Content types kept, and whether each is worth compressing (PDFs and PNGs are compressed
/// already).
fn kept_type(content_type: &str) -> Option<bool> {
    let ct = content_type.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
    match ct.as_str() {
        "text/html"
        | "text/csv"
        | "text/plain"
        | "application/json"
        | "image/svg+xml"
        | "application/rdf+xml"
        | "application/xml"
        | "text/xml" => Some(true),
        "application/pdf" | "image/png" => Some(false),
        _ => None,
    }
}

impl Entry {
    /// Keeps `response` if it may be kept (see the module's documentation); otherwise gives it
    /// back unchanged (its body read only where it had to be).
    async fn keep(response: Response) -> Result<Entry, Response> {
        let headers = response.headers();
        let compressible =
            headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).and_then(kept_type);
        let private = headers
            .get_all(header::CACHE_CONTROL)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .any(|v| v.contains("private") || v.contains("no-store"));
        let too_long = headers
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<usize>().ok())
            .is_some_and(|n| n > MAX_ENTRY_BYTES);
        let Some(compressible) = compressible else { return Err(response) };
        if response.status() != StatusCode::OK
            || headers.contains_key(header::SET_COOKIE)
            || headers.contains_key(header::CONTENT_ENCODING)
            || private
            || too_long
        {
            return Err(response);
        }
        let (mut parts, body) = response.into_parts();
        let identity = match read_at_most(body, MAX_ENTRY_BYTES).await {
            Ok(bytes) => bytes,
            Err(Unread::TooLong(body)) => return Err(Response::from_parts(parts, body)),
            Err(Unread::Failed) => return Err(StatusCode::INTERNAL_SERVER_ERROR.into_response()),
        };
        // A page's nonce becomes the hashes of its scripts; a page where that cannot be done
        // is sent as rendered and not kept.
        let csp = parts.headers.get(header::CONTENT_SECURITY_POLICY).and_then(|v| v.to_str().ok());
        let identity = match csp.filter(|c| c.contains("'nonce-")) {
            None => identity,
            Some(csp) => {
                let pinned = std::str::from_utf8(&identity).ok().and_then(|html| pin_scripts(html, csp));
                let Some((html, csp)) = pinned else {
                    return Err(Response::from_parts(parts, Body::from(identity)));
                };
                match HeaderValue::from_str(&csp) {
                    Ok(v) => parts.headers.insert(header::CONTENT_SECURITY_POLICY, v),
                    Err(_) => return Err(Response::from_parts(parts, Body::from(identity))),
                };
                Bytes::from(html)
            }
        };
        for h in [header::CONTENT_LENGTH, header::TRANSFER_ENCODING, header::VARY] {
            parts.headers.remove(h);
        }
        Ok(Entry {
            headers: parts.headers,
            identity,
            compressible,
            gzip: OnceCell::new(),
            br: OnceCell::new(),
        })
    }

    /// The answer in `encoding` (compressed on first demand, `kept` called with the bytes
    /// added), marked as a hit or a miss.
    async fn respond(&self, encoding: Encoding, hit: bool, kept: impl Fn(usize)) -> Response {
        let compressed = if !self.compressible || self.identity.len() < MIN_COMPRESS {
            None
        } else {
            let cell = match encoding {
                Encoding::Brotli => Some(&self.br),
                Encoding::Gzip => Some(&self.gzip),
                Encoding::Identity => None,
            };
            match cell {
                None => None,
                Some(cell) => cell
                    .get_or_init(|| async {
                        let data = self.identity.clone();
                        let made = tokio::task::spawn_blocking(move || compress(&data, encoding)).await.ok();
                        if let Some(bytes) = &made {
                            kept(bytes.len());
                        }
                        made
                    })
                    .await
                    .clone()
                    .map(|bytes| (bytes, encoding)),
            }
        };
        let (body, coding) = match compressed {
            Some((bytes, encoding)) => (bytes, encoding.token()),
            None => (self.identity.clone(), None),
        };
        let mut response = Response::new(Body::from(body.clone()));
        *response.headers_mut() = self.headers.clone();
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_LENGTH, HeaderValue::from(body.len()));
        headers.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
        if let Some(coding) = coding {
            headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static(coding));
        }
        headers.insert(CACHE_HEADER, HeaderValue::from_static(if hit { "hit" } else { "miss" }));
        response
    }
}

/// `data` compressed at the best ratio (done once per answer and encoding).
pub fn compress(data: &[u8], encoding: Encoding) -> Bytes {
    use std::io::Write;
    match encoding {
        Encoding::Identity => Bytes::copy_from_slice(data),
        Encoding::Gzip => {
            let mut out = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
            out.write_all(data).expect("writing to memory");
            Bytes::from(out.finish().expect("writing to memory"))
        }
        Encoding::Brotli => {
            let mut out = Vec::new();
            let params = brotli::enc::BrotliEncoderParams { quality: 11, lgwin: 22, ..Default::default() };
            brotli::BrotliCompress(&mut &data[..], &mut out, &params).expect("writing to memory");
            Bytes::from(out)
        }
    }
}

enum Unread {
    /// Longer than the limit: the whole body still, the part read first and the rest after.
    TooLong(Body),
    Failed,
}

/// The body's bytes if it holds at most `limit` bytes.
async fn read_at_most(body: Body, limit: usize) -> Result<Bytes, Unread> {
    let mut body = body;
    let mut chunks: Vec<Bytes> = Vec::new();
    let mut read = 0usize;
    while let Some(frame) = body.frame().await {
        let Ok(frame) = frame else { return Err(Unread::Failed) };
        let Ok(data) = frame.into_data() else { continue };
        read += data.len();
        chunks.push(data);
        if read > limit {
            let head = futures_util::stream::iter(chunks.into_iter().map(Ok::<_, axum::Error>));
            return Err(Unread::TooLong(Body::from_stream(head.chain(body.into_data_stream()))));
        }
    }
    let mut all = Vec::with_capacity(read);
    for chunk in chunks {
        all.extend_from_slice(&chunk);
    }
    Ok(Bytes::from(all))
}

/// `html` without the nonce of `csp` (its `nonce` attributes dropped; Leptos also writes it as
/// the preload links' `crossorigin`, which becomes `anonymous`, the same request mode) and `csp`
/// with the nonce replaced by the SHA-256 hash of each inline script. `None` when the policy has
/// no nonce or the nonce is still in the page afterwards (somewhere this function does not know).
pub fn pin_scripts(html: &str, csp: &str) -> Option<(String, String)> {
    let nonce = csp.split("'nonce-").nth(1)?.split('\'').next()?;
    if nonce.is_empty() {
        return None;
    }
    let html = html
        .replace(&format!(" nonce=\"{nonce}\""), "")
        .replace(&format!("crossorigin=\"{nonce}\""), "crossorigin=\"anonymous\"");
    if html.contains(nonce) {
        return None;
    }
    let hashes: BTreeSet<String> = inline_scripts(&html).map(script_hash).collect();
    let sources = hashes.into_iter().collect::<Vec<_>>().join(" ");
    let csp = if sources.is_empty() {
        csp.replace(&format!(" 'nonce-{nonce}'"), "")
    } else {
        csp.replace(&format!("'nonce-{nonce}'"), &sources)
    };
    Some((html, csp))
}

/// The CSP source admitting the inline script `text`: `'sha256-…'` of its exact text.
pub fn script_hash(text: &str) -> String {
    use base64::Engine;
    use sha2::Digest;
    let digest = sha2::Sha256::digest(text.as_bytes());
    format!("'sha256-{}'", base64::engine::general_purpose::STANDARD.encode(digest))
}

/// The text of every inline `<script>` (one without `src`) of `html`.
pub fn inline_scripts(html: &str) -> impl Iterator<Item = &str> {
    let mut rest = html;
    std::iter::from_fn(move || loop {
        let start = rest.find("<script")?;
        let after = &rest[start + "<script".len()..];
        // `<scripts>` or `<script-x>` are other elements.
        if !after.starts_with(|c: char| c == '>' || c.is_ascii_whitespace()) {
            rest = after;
            continue;
        }
        let open_end = after.find('>')?;
        let attributes = &after[..open_end];
        let body = &after[open_end + 1..];
        let close = body.find("</script")?;
        rest = &body[close..];
        if !attributes.split_ascii_whitespace().any(|a| a.starts_with("src=")) {
            return Some(&body[..close]);
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_best_encoding_the_browser_allows_is_chosen() {
        assert_eq!(Encoding::negotiate(Some("gzip, deflate, br, zstd")), Encoding::Brotli);
        assert_eq!(Encoding::negotiate(Some("gzip, deflate")), Encoding::Gzip);
        assert_eq!(Encoding::negotiate(Some("br;q=0, gzip;q=0.5")), Encoding::Gzip);
        assert_eq!(Encoding::negotiate(Some("identity")), Encoding::Identity);
        assert_eq!(Encoding::negotiate(Some("*")), Encoding::Brotli);
        assert_eq!(Encoding::negotiate(Some("GZIP;Q=1")), Encoding::Gzip);
        assert_eq!(Encoding::negotiate(None), Encoding::Identity);
    }

    #[test]
    fn compressed_forms_decode_to_the_same_bytes() {
        use std::io::Read;
        let data = "<p>Comune di Altamura: 3 servizi pagoPA</p>".repeat(200);
        let gz = compress(data.as_bytes(), Encoding::Gzip);
        let mut back = String::new();
        flate2::read::GzDecoder::new(&gz[..]).read_to_string(&mut back).unwrap();
        assert_eq!(back, data);
        let br = compress(data.as_bytes(), Encoding::Brotli);
        let mut back = Vec::new();
        brotli::BrotliDecompress(&mut &br[..], &mut back).unwrap();
        assert_eq!(back, data.as_bytes());
        assert!(br.len() < data.len() / 10 && gz.len() < data.len() / 10);
    }

    #[test]
    fn a_pages_nonce_becomes_the_hashes_of_its_inline_scripts() {
        let csp =
            "default-src 'self'; script-src 'self' 'nonce-AbC+/1==' 'wasm-unsafe-eval'; style-src 'self'";
        let html = r#"<head><link rel="modulepreload" href="/pkg/t.js" crossorigin="AbC+/1=="><script type="module" nonce="AbC+/1==">go("/pkg")</script><script src="/x.js"></script></head><body><scripts></scripts><script nonce="AbC+/1==">__R=[1]</script></body>"#;
        let (page, policy) = pin_scripts(html, csp).expect("a nonce to replace");
        assert!(!page.contains("AbC+/1=="), "{page}");
        assert!(page.contains(r#"crossorigin="anonymous""#));
        assert_eq!(inline_scripts(&page).collect::<Vec<_>>(), ["go(\"/pkg\")", "__R=[1]"]);
        let expected: BTreeSet<String> = ["go(\"/pkg\")", "__R=[1]"].into_iter().map(script_hash).collect();
        let expected = expected.into_iter().collect::<Vec<_>>().join(" ");
        assert_eq!(
            policy,
            format!("default-src 'self'; script-src 'self' {expected} 'wasm-unsafe-eval'; style-src 'self'")
        );
        // The hash of a known text, as a browser computes it (`echo -n 'alert(1)' | sha256sum`).
        assert_eq!(script_hash("alert(1)"), "'sha256-bhHHL3z2vDgxUt0W3dWQOrprscmda2Y5pLsLg4GF+pI='");
    }

    #[test]
    fn a_page_whose_nonce_would_stay_is_not_pinned() {
        let csp = "script-src 'self' 'nonce-N0nce' 'wasm-unsafe-eval'";
        assert!(pin_scripts(r#"<script data-n="N0nce">x</script>"#, csp).is_none());
        assert!(pin_scripts("<p>no script</p>", "script-src 'self'").is_none());
        let (page, policy) = pin_scripts("<p>no script</p>", csp).unwrap();
        assert_eq!(page, "<p>no script</p>");
        assert_eq!(policy, "script-src 'self' 'wasm-unsafe-eval'");
    }

    #[test]
    fn only_anonymous_gets_of_public_routes_have_a_key() {
        let req = |method: Method, uri: &str, headers: &[(header::HeaderName, &str)]| {
            let mut b = Request::builder().method(method).uri(uri);
            for (k, v) in headers {
                b = b.header(k, *v);
            }
            b.body(Body::empty()).unwrap()
        };
        assert_eq!(
            cache_key(&req(Method::GET, "/comuni?provincia=BA", &[])).as_deref(),
            Some("- /comuni?provincia=BA")
        );
        assert_eq!(
            cache_key(&req(Method::GET, "/api/v1/comuni", &[(header::ORIGIN, "https://x.example")]))
                .as_deref(),
            Some("o /api/v1/comuni")
        );
        assert_eq!(cache_key(&req(Method::GET, "/", &[(header::COOKIE, "other=1")])), None);
        assert_eq!(cache_key(&req(Method::GET, "/metrics", &[(header::AUTHORIZATION, "Bearer t")])), None);
        assert_eq!(cache_key(&req(Method::POST, "/", &[])), None);
        assert_eq!(cache_key(&req(Method::HEAD, "/", &[])), None);
        for path in [
            "/healthz",
            "/metrics",
            "/readyz",
            "/evidenze/3/file",
            "/api/comune-riservato",
            "/accedi",
            "/pkg/traguardi.wasm",
        ] {
            assert_eq!(cache_key(&req(Method::GET, path, &[])), None, "{path}");
        }
    }

    #[test]
    fn a_generation_only_moves_forward() {
        let cache = PageCache::new(1024);
        let day = NaiveDate::from_ymd_opt(2021, 2, 28).unwrap();
        let a = cache.cell(5, day, "k").unwrap();
        assert!(Arc::ptr_eq(&a, &cache.cell(5, day, "k").unwrap()), "one cell per key");
        // A request that read the version before a write is not kept after it.
        let b = cache.cell(6, day, "k").unwrap();
        assert!(!Arc::ptr_eq(&a, &b));
        assert!(cache.cell(5, day, "k").is_none());
        // Nor one of yesterday after midnight.
        let next = day.succ_opt().unwrap();
        assert!(cache.cell(6, next, "k").is_some());
        assert!(cache.cell(6, day, "k").is_none());
    }
}
