//! Soak test: a running Traguardi under mixed load at a fixed rate for minutes, from a separate
//! process, with its errors, its memory over time and its latency per route and minute.
//!
//! `make soak` starts the release server on 127.0.0.1 (on SQLite, then on a fresh PostgreSQL
//! database) with the demo dataset and three accounts of its own (one per role, made with
//! `traguardi user add`: an applied import ends a demo database and deletes its demo accounts,
//! so the soak signs in with real ones) and runs this, which:
//!
//! 1. signs in the three accounts (`POST /accedi`, same-origin `Origin`) and reads the comuni
//!    (codes and names) from `/api/v1/comuni`;
//! 2. sends operations on an **open-loop schedule**: operation *i* is due at `start + i / rate`
//!    and is sent then, each in its own task, however long earlier answers take. A slow answer
//!    therefore delays nothing else and is measured from the moment it was due (not from when
//!    a busy client got round to sending it), so a stalled server shows up as latency instead of
//!    as fewer requests (coordinated omission);
//! 3. draws each operation from a fixed, seeded mix: every page kind (the dashboard and the
//!    list with filters, a comune's page, deadlines, open data, the workspace, the trail, the
//!    evidence queue, imports, the static pages), the API and the dashboard's server function,
//!    the charts and the map as SVG and PNG, the report now and then, the exports (CSV, CSV for
//!    Excel, XLSX, JSON), sign-ins (one in ten with a wrong password) each followed by its
//!    sign-out, the Region's workspace forms (a note, a count snapshot), evidence uploads (small
//!    PDFs, as the comune's user, on its comuni) and imports (a small CSV of counts for a dry
//!    run and its report page; one in ten then applied). Pages are asked with `Accept-Encoding:
//!    gzip`, as browsers do; public pages are read signed in a third of the time;
//! 4. reads the server's VmRSS from `/proc/$SOAK_PID/status` every second;
//! 5. prints, and writes under `SOAK_OUT` (`target/soak`) as CSV, per route and per minute:
//!    requests, refusals, 5xx, errors, p50 and p99 (milliseconds from when each request was
//!    due to the end of its body), and the server's RSS at the start, after the first minute
//!    (warm-up), in the middle and at the end, and the median of each minute's readings.
//!
//! Counted apart: a wrong password's 401 and the sign-in limiter's 429 are the server doing its
//! job. Sign-ins come from rotating loopback addresses (127.0.0.2–127.0.0.254, as people sign
//! in from their own addresses), so the limiter keeps its production settings and a 429 means
//! it refused more than its allowance per address or account. Errors are: a status the
//! operation does not expect, a failed connection, an answer later than `SOAK_TIMEOUT` (30 s),
//! or an operation not sent because `SOAK_MAX_IN_FLIGHT` (1000) were still waiting. The
//! follow-up requests of a flow (a sign-out, an import's report and its confirmation) are sent
//! when the previous one answers, like a browser, and timed from their own start.
//!
//! It exits non-zero when a request got a 5xx or an error (goal: 0 of each), after printing
//! everything; the latencies and the memory are only printed, never asserted. Only loopback
//! addresses are ever loaded.
//!
//! Environment: `SOAK_URL` (`http://127.0.0.1:3300`), `SOAK_PID` (the server's pid, for its
//! memory), `SOAK_SECS` (600), `SOAK_RATE` (operations per second, 200), `SOAK_LABEL` (names
//! the output files: `sqlite`, `postgres`), `SOAK_OUT` (`target/soak`), `SOAK_PASSWORD` (the
//! three accounts' password), `SOAK_TIMEOUT` (seconds, 30), `SOAK_MAX_IN_FLIGHT` (1000),
//! `SOAK_SEED`.

use std::{
    collections::BTreeMap,
    convert::Infallible,
    fmt::Write as _,
    net::{IpAddr, Ipv4Addr},
    sync::{
        atomic::{AtomicU64, AtomicUsize, Ordering},
        Arc, Mutex,
    },
    time::{Duration, Instant},
};

use chrono::{Days, NaiveDate};
use http_body_util::{combinators::UnsyncBoxBody, BodyExt, Full};
use hyper::{
    body::Bytes,
    header::{self, HeaderMap},
    Method, Request, StatusCode,
};
use hyper_util::{
    client::legacy::{connect::HttpConnector, Client},
    rt::TokioExecutor,
};

type Body = UnsyncBoxBody<Bytes, Infallible>;
type HttpClient = Client<HttpConnector, Body>;

const REGIONE: &str = "soak.regione@traguardi.invalid";
const COMUNE_USER: &str = "soak.comune@traguardi.invalid";
const ASSESSORE: &str = "soak.assessore@traguardi.invalid";
/// The comune user's comuni (`make soak` binds them): Bari and Altamura.
const OWN_COMUNI: [&str; 2] = ["072006", "072004"];
const OBJECTIVES: [&str; 6] =
    ["step1_pagopa", "step1_io", "step1_spid", "final_pagopa", "final_io", "final_spid_cie"];
const CHARTS: [&str; 4] = ["adesione", "obiettivi", "servizi", "contributo"];
const BOUNDARY: &str = "traguardi-soak-5d0c9a7e3b1f4286";
/// New count snapshots go after the demo's last monthly count (30/06/2022), one per comune,
/// platform and day, so none meets an existing one.
const FIRST_COUNT_DAY: (i32, u32, u32) = (2022, 7, 1);

fn env_or<T: std::str::FromStr>(key: &str, default: T) -> T {
    std::env::var(key).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// SplitMix64: the operation mix and every choice inside an operation, from the seed and the
/// operation's number, so two runs send the same sequence.
fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

/// A small random source for one operation.
struct Dice(u64);

impl Dice {
    fn next(&mut self) -> u64 {
        self.0 = mix(self.0);
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
    fn chance(&mut self, one_in: u64) -> bool {
        self.next().is_multiple_of(one_in)
    }
}

/// The median of each whole minute's readings (`(second, KiB)`), in order; a last, partial
/// minute is left out.
fn minute_medians(samples: &[(u64, u64)]) -> Vec<u64> {
    let mut minutes: Vec<Vec<u64>> = Vec::new();
    for &(second, kib) in samples {
        let m = (second / 60) as usize;
        if minutes.len() <= m {
            minutes.resize(m + 1, Vec::new());
        }
        minutes[m].push(kib);
    }
    let whole = samples.last().map_or(0, |(s, _)| (*s / 60) as usize);
    minutes
        .into_iter()
        .take(whole)
        .filter(|m| !m.is_empty())
        .map(|mut m| {
            m.sort_unstable();
            m[m.len() / 2]
        })
        .collect()
}

/// VmRSS of a process, in KiB.
fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status.lines().find(|l| l.starts_with("VmRSS:"))?.split_whitespace().nth(1)?.parse().ok()
}

/// What one request came to.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Outcome {
    /// The status the operation expects.
    Ok,
    /// A refusal that is the server doing its job: a wrong password's 401.
    Refused,
    /// The sign-in limiter's 429.
    Limited,
    /// A 4xx the operation does not expect.
    Unexpected,
    /// A 5xx.
    ServerError,
    /// No answer: connection failed, timed out, or not sent (too many in flight).
    Error,
}

#[derive(Default, Clone)]
struct Cell {
    latencies_us: Vec<u32>,
    ok: u64,
    refused: u64,
    limited: u64,
    unexpected: u64,
    server_errors: u64,
    errors: u64,
}

impl Cell {
    fn requests(&self) -> u64 {
        self.ok + self.refused + self.limited + self.unexpected + self.server_errors + self.errors
    }
    fn add(&mut self, other: &Cell) {
        self.latencies_us.extend_from_slice(&other.latencies_us);
        self.ok += other.ok;
        self.refused += other.refused;
        self.limited += other.limited;
        self.unexpected += other.unexpected;
        self.server_errors += other.server_errors;
        self.errors += other.errors;
    }
}

/// Milliseconds at quantile `q` of sorted microseconds.
fn quantile_ms(sorted: &[u32], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    sorted[((sorted.len() as f64 - 1.0) * q).round() as usize] as f64 / 1000.0
}

#[derive(Default)]
struct Stats {
    /// (minute, route) → cell.
    cells: BTreeMap<(u64, &'static str), Cell>,
    /// The first few unexpected answers, to say what went wrong.
    samples: Vec<String>,
}

/// A finished exchange: status, headers, body.
struct Answer {
    status: StatusCode,
    headers: HeaderMap,
    body: Bytes,
}

impl Answer {
    fn location(&self) -> Option<&str> {
        self.headers.get(header::LOCATION).and_then(|v| v.to_str().ok())
    }
}

struct Sessions {
    regione: String,
    comune: String,
    assessore: String,
}

struct Soak {
    base: String,
    authority: String,
    client: HttpClient,
    /// One client per source address 127.0.0.2..=127.0.0.254, for the sign-ins.
    sign_in_clients: Vec<HttpClient>,
    password: String,
    sessions: Sessions,
    /// (ISTAT code, name) of every comune.
    comuni: Vec<(String, String)>,
    started: Instant,
    timeout: Duration,
    run: u64,
    stats: Mutex<Stats>,
    counts: AtomicU64,
    import_rows: AtomicU64,
    uploads: AtomicU64,
    sign_ins: AtomicU64,
}

/// What an operation accepts as its normal answer.
#[derive(Clone, Copy)]
enum Expect {
    Status(u16),
    /// A sign-in with a wrong password: 401 is the expected refusal.
    WrongPassword,
}

fn form_body(fields: &[(&str, &str)]) -> String {
    fields.iter().map(|(k, v)| format!("{}={}", encode(k), encode(v))).collect::<Vec<_>>().join("&")
}

/// `application/x-www-form-urlencoded` / query encoding.
fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => out.push(b as char),
            _ => {
                let _ = write!(out, "%{b:02X}");
            }
        }
    }
    out
}

/// `name=value` of the session cookie a sign-in set.
fn session_cookie(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter_map(|v| v.split(';').next())
        .map(str::trim)
        .filter(|c| {
            c.split_once('=')
                .is_some_and(|(name, value)| name.ends_with("traguardi_sessione") && !value.is_empty())
        })
        .map(str::to_string)
        .next()
}

fn multipart(field_file_name: &str, content_type: &str, content: &[u8]) -> Vec<u8> {
    let mut body = format!(
        "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{field_file_name}\"\r\n\
         Content-Type: {content_type}\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(content);
    body.extend_from_slice(format!("\r\n--{BOUNDARY}--\r\n").as_bytes());
    body
}

impl Soak {
    fn request(&self, method: Method, path: &str, cookie: Option<&str>) -> hyper::http::request::Builder {
        let mut b = Request::builder()
            .method(method.clone())
            .uri(format!("{}{path}", self.base))
            .header(header::HOST, &self.authority)
            .header(header::USER_AGENT, "traguardi-soak")
            .header(header::ACCEPT_ENCODING, "gzip");
        if method != Method::GET {
            // What a browser sends with a form of the site: the cross-site check wants it.
            b = b.header(header::ORIGIN, format!("http://{}", self.authority));
        }
        if let Some(c) = cookie {
            b = b.header(header::COOKIE, c);
        }
        b
    }

    fn get(&self, path: &str, cookie: Option<&str>) -> Request<Body> {
        self.request(Method::GET, path, cookie).body(Full::new(Bytes::new()).boxed_unsync()).expect("request")
    }

    fn post_form(&self, path: &str, cookie: Option<&str>, form: String) -> Request<Body> {
        self.request(Method::POST, path, cookie)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Full::new(Bytes::from(form)).boxed_unsync())
            .expect("request")
    }

    fn post_multipart(&self, path: &str, cookie: &str, body: Vec<u8>) -> Request<Body> {
        self.request(Method::POST, path, Some(cookie))
            .header(header::CONTENT_TYPE, format!("multipart/form-data; boundary={BOUNDARY}"))
            .header(header::CONTENT_LENGTH, body.len())
            .body(Full::new(Bytes::from(body)).boxed_unsync())
            .expect("request")
    }

    /// Sends `req`, reads the whole body, and records the outcome under `route` in the minute
    /// `due` falls in, timed from `due`.
    async fn send(
        &self,
        route: &'static str,
        due: Instant,
        req: Request<Body>,
        expect: Expect,
        client: Option<&HttpClient>,
    ) -> Option<Answer> {
        let client = client.unwrap_or(&self.client);
        let exchange = async {
            let response = client.request(req).await.map_err(|e| format!("{e:?}"))?;
            let (parts, body) = response.into_parts();
            let body = body.collect().await.map_err(|e| format!("body: {e}"))?.to_bytes();
            Ok::<_, String>(Answer { status: parts.status, headers: parts.headers, body })
        };
        let result = match tokio::time::timeout(self.timeout, exchange).await {
            Ok(r) => r,
            Err(_) => Err(format!("no answer within {} s", self.timeout.as_secs())),
        };
        let elapsed = due.elapsed();
        let outcome = match &result {
            Err(_) => Outcome::Error,
            Ok(a) => match (expect, a.status.as_u16()) {
                (Expect::Status(want), got) if got == want => Outcome::Ok,
                (Expect::WrongPassword, 401) => Outcome::Refused,
                (_, 429) => Outcome::Limited,
                (_, s) if s >= 500 => Outcome::ServerError,
                _ => Outcome::Unexpected,
            },
        };
        let minute = due.saturating_duration_since(self.started).as_secs() / 60;
        let mut stats = self.stats.lock().expect("stats");
        if !matches!(outcome, Outcome::Ok | Outcome::Refused | Outcome::Limited) && stats.samples.len() < 20 {
            let what = match &result {
                Err(e) => e.clone(),
                Ok(a) if a.headers.contains_key(header::CONTENT_ENCODING) => {
                    format!("{} (a compressed body of {} bytes)", a.status, a.body.len())
                }
                Ok(a) => format!(
                    "{} {}",
                    a.status,
                    String::from_utf8_lossy(&a.body[..a.body.len().min(300)]).replace('\n', " ")
                ),
            };
            stats.samples.push(format!("minute {minute}, {route}: {what}"));
        }
        let cell = stats.cells.entry((minute, route)).or_default();
        match outcome {
            Outcome::Ok => cell.ok += 1,
            Outcome::Refused => cell.refused += 1,
            Outcome::Limited => cell.limited += 1,
            Outcome::Unexpected => cell.unexpected += 1,
            Outcome::ServerError => cell.server_errors += 1,
            Outcome::Error => cell.errors += 1,
        }
        if result.is_ok() {
            cell.latencies_us.push(elapsed.as_micros().min(u32::MAX as u128) as u32);
        }
        drop(stats);
        result.ok()
    }

    /// An operation that could not be sent at its time.
    fn not_sent(&self, due: Instant) {
        let minute = due.saturating_duration_since(self.started).as_secs() / 60;
        let mut stats = self.stats.lock().expect("stats");
        stats.cells.entry((minute, "(not sent: too many in flight)")).or_default().errors += 1;
    }

    fn comune<'a>(&'a self, dice: &mut Dice) -> &'a (String, String) {
        dice.pick(&self.comuni)
    }

    /// A session for a page anyone may read: none two times in three, else any role's.
    fn maybe_session(&self, dice: &mut Dice) -> Option<&str> {
        match dice.below(9) {
            0 => Some(self.sessions.regione.as_str()),
            1 => Some(self.sessions.comune.as_str()),
            2 => Some(self.sessions.assessore.as_str()),
            _ => None,
        }
    }

    fn any_session(&self, dice: &mut Dice) -> &str {
        match dice.below(3) {
            0 => self.sessions.regione.as_str(),
            1 => self.sessions.comune.as_str(),
            _ => self.sessions.assessore.as_str(),
        }
    }

    /// The Region or the assessor (who read the whole trail, the queue, the proposals).
    fn reader_session(&self, dice: &mut Dice) -> &str {
        if dice.chance(2) {
            self.sessions.regione.as_str()
        } else {
            self.sessions.assessore.as_str()
        }
    }

    /// A day for a new count snapshot: the `n`-th (comune, day) pair after the demo's counts.
    fn count_slot(&self, n: u64) -> (&(String, String), NaiveDate) {
        let comuni = self.comuni.len() as u64;
        let first =
            NaiveDate::from_ymd_opt(FIRST_COUNT_DAY.0, FIRST_COUNT_DAY.1, FIRST_COUNT_DAY.2).expect("day");
        (&self.comuni[(n % comuni) as usize], first + Days::new(n / comuni))
    }
}

/// Filters as the list, the dashboard and the API take them (`with_pages` adds sorting and a
/// page).
fn filters(dice: &mut Dice, with_pages: bool) -> String {
    let mut q: Vec<String> = Vec::new();
    let opts: [(&str, &[&str]); 8] = [
        ("provincia", &["BA", "BT", "BR", "FG", "LE", "TA"]),
        ("adesione", &["aderente", "aderente_in_ritardo", "non_aderente", "rinuncia"]),
        ("popolazione", &["0-5000", "5000-40000", "40000-200000", "200000-"]),
        ("piattaforma", &["pagopa", "io", "spid_cie"]),
        ("primo_step", &["raggiunto", "non_raggiunto"]),
        ("finale", &["raggiunto", "non_raggiunto"]),
        ("scaduto", &["si"]),
        ("q", &["bari", "nardo", "sant%20agata", "073", "martina", "e986"]),
    ];
    for (key, values) in opts {
        if dice.chance(4) {
            q.push(format!("{key}={}", dice.pick(values)));
        }
    }
    if with_pages {
        if dice.chance(3) {
            let key =
                dice.pick(&["nome", "istat", "provincia", "popolazione", "adesione", "primo_step", "finale"]);
            q.push(format!("ordina={key}&verso={}", dice.pick(&["asc", "desc"])));
        }
        if dice.chance(4) {
            q.push(format!("pagina={}", 1 + dice.below(5)));
        }
    }
    q.join("&")
}

fn with_query(path: &str, query: &str) -> String {
    if query.is_empty() {
        path.to_string()
    } else {
        format!("{path}?{query}")
    }
}

/// The kinds of operation and their shares of the schedule (per thousand, roughly).
#[derive(Clone, Copy, Debug)]
enum Op {
    Dashboard,
    ComuniList,
    ComuniFiltered,
    ComunePage,
    Scadenze,
    OpenData,
    StaticPage,
    Profile,
    ApiComuni,
    ApiComune,
    ApiProvince,
    ServerFunction,
    ChartSvg,
    MapSvg,
    ChartPng,
    MapPng,
    Report,
    ExportCsv,
    ExportExcelCsv,
    ExportJson,
    ExportXlsx,
    ExportScadenze,
    ExportTrail,
    Workspace,
    Trail,
    ComuneTrail,
    EvidenceQueue,
    EvidencePage,
    Proposals,
    ImportsPage,
    SignIn,
    Note,
    Count,
    Upload,
    Import,
}

const MIX: [(Op, u32); 35] = [
    (Op::Dashboard, 90),
    (Op::ComuniList, 40),
    (Op::ComuniFiltered, 80),
    (Op::ComunePage, 120),
    (Op::Scadenze, 40),
    (Op::OpenData, 25),
    (Op::StaticPage, 10),
    (Op::Profile, 5),
    (Op::ApiComuni, 50),
    (Op::ApiComune, 40),
    (Op::ApiProvince, 20),
    (Op::ServerFunction, 40),
    (Op::ChartSvg, 30),
    (Op::MapSvg, 15),
    (Op::ChartPng, 8),
    (Op::MapPng, 4),
    (Op::Report, 1),
    (Op::ExportCsv, 25),
    (Op::ExportExcelCsv, 8),
    (Op::ExportJson, 15),
    (Op::ExportXlsx, 5),
    (Op::ExportScadenze, 6),
    (Op::ExportTrail, 3),
    (Op::Workspace, 25),
    (Op::Trail, 6),
    (Op::ComuneTrail, 8),
    (Op::EvidenceQueue, 8),
    (Op::EvidencePage, 10),
    (Op::Proposals, 4),
    (Op::ImportsPage, 4),
    (Op::SignIn, 3),
    (Op::Note, 4),
    (Op::Count, 2),
    (Op::Upload, 2),
    (Op::Import, 2),
];

fn choose(dice: &mut Dice) -> Op {
    let total: u32 = MIX.iter().map(|(_, w)| w).sum();
    let mut x = (dice.next() % total as u64) as u32;
    for (op, w) in MIX {
        if x < w {
            return op;
        }
        x -= w;
    }
    MIX[0].0
}

async fn run(soak: Arc<Soak>, op: Op, mut dice: Dice, due: Instant) {
    let s = &*soak;
    let ok = Expect::Status(200);
    match op {
        Op::Dashboard => {
            let q = if dice.chance(2) { String::new() } else { filters(&mut dice, false) };
            let cookie = s.maybe_session(&mut dice);
            s.send("GET /", due, s.get(&with_query("/", &q), cookie), ok, None).await;
        }
        Op::ComuniList => {
            let cookie = s.maybe_session(&mut dice);
            s.send("GET /comuni", due, s.get("/comuni", cookie), ok, None).await;
        }
        Op::ComuniFiltered => {
            let q = filters(&mut dice, true);
            let cookie = s.maybe_session(&mut dice);
            s.send("GET /comuni?filtri", due, s.get(&with_query("/comuni", &q), cookie), ok, None).await;
        }
        Op::ComunePage => {
            let (code, _) = s.comune(&mut dice);
            let cookie = s.maybe_session(&mut dice);
            s.send("GET /comuni/{codice}", due, s.get(&format!("/comuni/{code}"), cookie), ok, None).await;
        }
        Op::Scadenze => {
            let cookie = s.any_session(&mut dice);
            let q = if dice.chance(3) {
                format!("provincia={}", dice.pick(&["BA", "LE", "TA"]))
            } else {
                String::new()
            };
            s.send("GET /scadenze", due, s.get(&with_query("/scadenze", &q), Some(cookie)), ok, None).await;
        }
        Op::OpenData => {
            let path = if dice.chance(5) { "/opendata/catalogo.rdf" } else { "/opendata" };
            let route = if path == "/opendata" { "GET /opendata" } else { "GET /opendata/catalogo.rdf" };
            s.send(route, due, s.get(path, None), ok, None).await;
        }
        Op::StaticPage => {
            let path = *dice.pick(&["/accessibilita", "/privacy", "/note-legali", "/feedback"]);
            s.send("GET /accessibilita|privacy|note-legali|feedback", due, s.get(path, None), ok, None).await;
        }
        Op::Profile => {
            let cookie = s.any_session(&mut dice);
            s.send("GET /profilo", due, s.get("/profilo", Some(cookie)), ok, None).await;
        }
        Op::ApiComuni => {
            let mut q = filters(&mut dice, false);
            if dice.chance(2) {
                let per = dice.pick(&[50, 100, 500]);
                q = [q, format!("per_pagina={per}&pagina={}", 1 + dice.below(3))]
                    .into_iter()
                    .filter(|p| !p.is_empty())
                    .collect::<Vec<_>>()
                    .join("&");
            }
            s.send("GET /api/v1/comuni", due, s.get(&with_query("/api/v1/comuni", &q), None), ok, None).await;
        }
        Op::ApiComune => {
            let (code, _) = s.comune(&mut dice);
            s.send(
                "GET /api/v1/comuni/{codice}",
                due,
                s.get(&format!("/api/v1/comuni/{code}"), None),
                ok,
                None,
            )
            .await;
        }
        Op::ApiProvince => {
            let path = if dice.chance(10) { "/api/v1/openapi.json" } else { "/api/v1/province" };
            let route =
                if path == "/api/v1/province" { "GET /api/v1/province" } else { "GET /api/v1/openapi.json" };
            s.send(route, due, s.get(path, None), ok, None).await;
        }
        Op::ServerFunction => {
            let form = filters(&mut dice, false)
                .split('&')
                .filter(|p| !p.is_empty() && !p.starts_with("q="))
                .filter_map(|p| p.split_once('='))
                .map(|(k, v)| format!("filter[{k}]={v}"))
                .collect::<Vec<_>>()
                .join("&");
            let cookie = s.maybe_session(&mut dice);
            s.send("POST /api/cruscotto", due, s.post_form("/api/cruscotto", cookie, form), ok, None).await;
        }
        Op::ChartSvg | Op::ChartPng | Op::MapSvg | Op::MapPng => {
            let (name, route) = match op {
                Op::ChartSvg => (format!("{}.svg", dice.pick(&CHARTS)), "GET /grafici/{grafico}.svg"),
                Op::ChartPng => (format!("{}.png", dice.pick(&CHARTS)), "GET /grafici/{grafico}.png"),
                Op::MapSvg => ("mappa.svg".to_string(), "GET /grafici/mappa.svg"),
                _ => ("mappa.png".to_string(), "GET /grafici/mappa.png"),
            };
            let q = if dice.chance(2) { String::new() } else { filters(&mut dice, false) };
            s.send(route, due, s.get(&with_query(&format!("/grafici/{name}"), &q), None), ok, None).await;
        }
        Op::Report => {
            let q = if dice.chance(2) {
                String::new()
            } else {
                format!("provincia={}", dice.pick(&["BA", "LE", "FG"]))
            };
            s.send("GET /report.pdf", due, s.get(&with_query("/report.pdf", &q), None), ok, None).await;
        }
        Op::ExportCsv | Op::ExportExcelCsv | Op::ExportJson | Op::ExportXlsx => {
            let (file, route) = match op {
                Op::ExportCsv => ("comuni.csv", "GET /export/comuni.csv"),
                Op::ExportExcelCsv => ("comuni-excel.csv", "GET /export/comuni-excel.csv"),
                Op::ExportJson => ("comuni.json", "GET /export/comuni.json"),
                _ => ("comuni.xlsx", "GET /export/comuni.xlsx"),
            };
            let q = if dice.chance(2) { String::new() } else { filters(&mut dice, true) };
            let cookie = s.maybe_session(&mut dice);
            s.send(route, due, s.get(&with_query(&format!("/export/{file}"), &q), cookie), ok, None).await;
        }
        Op::ExportScadenze => {
            let ext = *dice.pick(&[".csv", "-excel.csv", ".xlsx", ".json"]);
            let cookie = s.any_session(&mut dice);
            s.send(
                "GET /export/scadenze.*",
                due,
                s.get(&format!("/export/scadenze{ext}"), Some(cookie)),
                ok,
                None,
            )
            .await;
        }
        Op::ExportTrail => {
            let ext = *dice.pick(&[".csv", ".json", ".xlsx"]);
            let cookie = s.reader_session(&mut dice);
            s.send(
                "GET /export/registro.*",
                due,
                s.get(&format!("/export/registro{ext}"), Some(cookie)),
                ok,
                None,
            )
            .await;
        }
        Op::Workspace => {
            let (code, _) = s.comune(&mut dice);
            let path = format!("/comuni/{code}/gestione");
            s.send(
                "GET /comuni/{codice}/gestione",
                due,
                s.get(&path, Some(s.sessions.regione.as_str())),
                ok,
                None,
            )
            .await;
        }
        Op::Trail => {
            let cookie = s.reader_session(&mut dice);
            s.send("GET /registro", due, s.get("/registro", Some(cookie)), ok, None).await;
        }
        Op::ComuneTrail => {
            let (code, _) = s.comune(&mut dice);
            let cookie = s.reader_session(&mut dice);
            s.send(
                "GET /comuni/{codice}/registro",
                due,
                s.get(&format!("/comuni/{code}/registro"), Some(cookie)),
                ok,
                None,
            )
            .await;
        }
        Op::EvidenceQueue => {
            let cookie = s.reader_session(&mut dice);
            let q = if dice.chance(3) {
                format!("provincia={}", dice.pick(&["BA", "LE"]))
            } else {
                String::new()
            };
            s.send("GET /evidenze", due, s.get(&with_query("/evidenze", &q), Some(cookie)), ok, None).await;
        }
        Op::EvidencePage => {
            let code = dice.pick(&OWN_COMUNI);
            let cookie =
                if dice.chance(2) { s.sessions.comune.as_str() } else { s.sessions.regione.as_str() };
            s.send(
                "GET /comuni/{codice}/evidenze",
                due,
                s.get(&format!("/comuni/{code}/evidenze"), Some(cookie)),
                ok,
                None,
            )
            .await;
        }
        Op::Proposals => {
            let cookie = s.sessions.regione.as_str();
            s.send("GET /proposte", due, s.get("/proposte", Some(cookie)), ok, None).await;
        }
        Op::ImportsPage => {
            let path = if dice.chance(4) { "/importazioni/modelli/conteggi.csv" } else { "/importazioni" };
            let route = if path == "/importazioni" {
                "GET /importazioni"
            } else {
                "GET /importazioni/modelli/{file}"
            };
            s.send(route, due, s.get(path, Some(s.sessions.regione.as_str())), ok, None).await;
        }
        Op::SignIn => {
            let n = s.sign_ins.fetch_add(1, Ordering::Relaxed);
            let client = &s.sign_in_clients[(n % s.sign_in_clients.len() as u64) as usize];
            let email = *dice.pick(&[REGIONE, COMUNE_USER, ASSESSORE]);
            let wrong = dice.chance(10);
            let password = if wrong { format!("{}-sbagliata", s.password) } else { s.password.clone() };
            let form = form_body(&[("email", email), ("password", &password), ("next", "/profilo")]);
            let expect = if wrong { Expect::WrongPassword } else { Expect::Status(303) };
            let answer =
                s.send("POST /accedi", due, s.post_form("/accedi", None, form), expect, Some(client)).await;
            if let Some(cookie) =
                answer.filter(|a| a.status == StatusCode::SEE_OTHER).and_then(|a| session_cookie(&a.headers))
            {
                let req = s.post_form("/esci", Some(&cookie), String::new());
                s.send("POST /esci", Instant::now(), req, Expect::Status(303), Some(client)).await;
            }
        }
        Op::Note => {
            let (code, _) = s.comune(&mut dice);
            let text = format!(
                "Nota di prova del soak n. {}: sentito il referente, la delibera è in corso.",
                dice.next() % 1_000_000
            );
            let form = form_body(&[("modulo", "nota"), ("testo", &text)]);
            let path = format!("/comuni/{code}/gestione/nota");
            s.send(
                "POST /comuni/{codice}/gestione/nota",
                due,
                s.post_form(&path, Some(s.sessions.regione.as_str()), form),
                Expect::Status(303),
                None,
            )
            .await;
        }
        Op::Count => {
            let n = s.counts.fetch_add(1, Ordering::Relaxed);
            let ((code, _), day) = s.count_slot(n);
            let day = day.format("%Y-%m-%d").to_string();
            let active = (dice.next() % 40).to_string();
            let form = form_body(&[
                ("modulo", "conteggio"),
                ("piattaforma", "pagopa"),
                ("giorno", &day),
                ("attivi", &active),
                ("versione", "0"),
            ]);
            let path = format!("/comuni/{code}/gestione/conteggio");
            s.send(
                "POST /comuni/{codice}/gestione/conteggio",
                due,
                s.post_form(&path, Some(s.sessions.regione.as_str()), form),
                Expect::Status(303),
                None,
            )
            .await;
        }
        Op::Upload => {
            let n = s.uploads.fetch_add(1, Ordering::Relaxed);
            let code = dice.pick(&OWN_COMUNI);
            let objective = dice.pick(&OBJECTIVES);
            // A small PDF, different every time (the same bytes twice are refused as a
            // duplicate), 2–34 KiB, with no `<` anywhere (HTML markup is refused).
            let mut pdf = format!("%PDF-1.7\n% Traguardi soak {} upload {n}\n", s.run).into_bytes();
            let filler = 2048 + dice.below(32 * 1024);
            while pdf.len() < filler {
                pdf.extend_from_slice(format!("{:016x}\n", dice.next()).as_bytes());
            }
            pdf.extend_from_slice(b"\n%%EOF\n");
            let body = multipart(&format!("verbale-{n}.pdf"), "application/pdf", &pdf);
            let path = format!("/comuni/{code}/evidenze/{objective}");
            s.send(
                "POST /comuni/{codice}/evidenze/{obiettivo}",
                due,
                s.post_multipart(&path, s.sessions.comune.as_str(), body),
                Expect::Status(303),
                None,
            )
            .await;
        }
        Op::Import => {
            let rows = 5;
            let first = s.import_rows.fetch_add(rows, Ordering::Relaxed);
            let platform = if dice.chance(2) { "io" } else { "spid_cie" };
            let mut csv = String::from("codice_istat;denominazione;piattaforma;giorno;attivi\n");
            for r in first..first + rows {
                let ((code, name), day) = s.count_slot(r);
                let _ =
                    writeln!(csv, "{code};{name};{platform};{};{}", day.format("%d/%m/%Y"), dice.next() % 30);
            }
            let body = multipart(&format!("conteggi-soak-{first}.csv"), "text/csv", csv.as_bytes());
            let regione = s.sessions.regione.as_str();
            let Some(answer) = s
                .send(
                    "POST /importazioni",
                    due,
                    s.post_multipart("/importazioni", regione, body),
                    Expect::Status(303),
                    None,
                )
                .await
            else {
                return;
            };
            let Some(report) =
                answer.location().filter(|l| l.starts_with("/importazioni/")).map(str::to_string)
            else {
                return;
            };
            s.send("GET /importazioni/{id}", Instant::now(), s.get(&report, Some(regione)), ok, None).await;
            if dice.chance(10) {
                let req = s.post_form(&format!("{report}/conferma"), Some(regione), String::new());
                s.send("POST /importazioni/{id}/conferma", Instant::now(), req, Expect::Status(303), None)
                    .await;
            }
        }
    }
}

async fn sign_in(client: &HttpClient, base: &str, authority: &str, email: &str, password: &str) -> String {
    let form = form_body(&[("email", email), ("password", password), ("next", "/profilo")]);
    let req = Request::builder()
        .method(Method::POST)
        .uri(format!("{base}/accedi"))
        .header(header::HOST, authority)
        .header(header::ORIGIN, format!("http://{authority}"))
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Full::new(Bytes::from(form)).boxed_unsync())
        .expect("sign-in request");
    let response = client.request(req).await.expect("sign-in: the server does not answer");
    let status = response.status();
    let cookie = session_cookie(response.headers());
    let body = response.into_body().collect().await.map(|b| b.to_bytes()).unwrap_or_default();
    match cookie {
        Some(c) if status == StatusCode::SEE_OTHER => c,
        _ => panic!(
            "sign-in as {email} refused ({status}); `make soak` creates the account with SOAK_PASSWORD: {}",
            String::from_utf8_lossy(&body[..body.len().min(300)])
        ),
    }
}

/// Every comune's ISTAT code and name, from the API.
async fn comuni(client: &HttpClient, base: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for page in 1.. {
        let req = Request::get(format!("{base}/api/v1/comuni?per_pagina=500&pagina={page}"))
            .body(Full::new(Bytes::new()).boxed_unsync())
            .expect("request");
        let response = client.request(req).await.expect("GET /api/v1/comuni");
        assert!(response.status().is_success(), "GET /api/v1/comuni: {}", response.status());
        let body = response.into_body().collect().await.expect("body").to_bytes();
        let json: serde_json::Value = serde_json::from_slice(&body).expect("the API's JSON");
        let list = json["comuni"].as_array().cloned().unwrap_or_default();
        if list.is_empty() {
            break;
        }
        for c in list {
            if let (Some(code), Some(name)) = (c["codice_istat"].as_str(), c["denominazione"].as_str()) {
                out.push((code.to_string(), name.to_string()));
            }
        }
    }
    assert!(!out.is_empty(), "the API lists no comuni");
    out
}

fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

#[tokio::main]
async fn main() {
    let base = std::env::var("SOAK_URL").unwrap_or_else(|_| "http://127.0.0.1:3300".to_string());
    let base = base.trim_end_matches('/').to_string();
    let authority = base
        .strip_prefix("http://")
        .unwrap_or_else(|| panic!("SOAK_URL must be http://, not {base}"))
        .to_string();
    assert!(!authority.contains('/'), "SOAK_URL is the server's address without a path, not {base}");
    let host = authority.rsplit_once(':').map_or(authority.as_str(), |(h, _)| h);
    assert!(
        host == "localhost" || host.starts_with("127.") || host == "[::1]",
        "the soak only targets loopback addresses, not {base}"
    );
    let secs: u64 = env_or("SOAK_SECS", 600).max(1);
    let rate: f64 = env_or("SOAK_RATE", 200.0_f64).max(0.1);
    let pid: Option<u32> = std::env::var("SOAK_PID").ok().and_then(|p| p.parse().ok());
    let label = std::env::var("SOAK_LABEL").unwrap_or_else(|_| "soak".to_string());
    let out_dir =
        std::path::PathBuf::from(std::env::var("SOAK_OUT").unwrap_or_else(|_| "target/soak".to_string()));
    let password =
        std::env::var("SOAK_PASSWORD").expect("SOAK_PASSWORD: the password `make soak` gave the accounts");
    let timeout = Duration::from_secs(env_or("SOAK_TIMEOUT", 30).max(1));
    let max_in_flight: usize = env_or("SOAK_MAX_IN_FLIGHT", 1000).max(1);
    let seed: u64 = env_or("SOAK_SEED", 17);
    let client: HttpClient = Client::builder(TokioExecutor::new()).build_http();
    let sign_in_clients: Vec<HttpClient> = (2..=254u8)
        .map(|last| {
            let mut connector = HttpConnector::new();
            connector.set_local_address(Some(IpAddr::V4(Ipv4Addr::new(127, 0, 0, last))));
            Client::builder(TokioExecutor::new()).build(connector)
        })
        .collect();

    println!("Traguardi soak ({label}): {base}, {rate} operations/s for {secs} s, open loop");
    let rss_start = pid.and_then(rss_kib);
    let sessions = Sessions {
        regione: sign_in(&client, &base, &authority, REGIONE, &password).await,
        comune: sign_in(&client, &base, &authority, COMUNE_USER, &password).await,
        assessore: sign_in(&client, &base, &authority, ASSESSORE, &password).await,
    };
    let comuni = comuni(&client, &base).await;
    let run_id =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let started = Instant::now();
    let soak = Arc::new(Soak {
        base,
        authority,
        client,
        sign_in_clients,
        password,
        sessions,
        comuni,
        started,
        timeout,
        run: run_id,
        stats: Mutex::new(Stats::default()),
        counts: AtomicU64::new(0),
        // From the first slot too: the workspace's counts are pagoPA's and the imports' App IO's
        // or SPID/CIE's, so they never meet; an offset in slots is an offset in days (one day
        // per 257 slots), and 1,000,000 once put every imported day in 2033, in the future,
        // which the planner refuses: every confirmation was a 400.
        import_rows: AtomicU64::new(0),
        uploads: AtomicU64::new(0),
        sign_ins: AtomicU64::new(0),
    });

    // The server's memory every second while the load runs.
    let rss_samples: Arc<Mutex<Vec<(u64, u64)>>> = Arc::default();
    let sampler = pid.map(|pid| {
        let samples = rss_samples.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(1));
            loop {
                tick.tick().await;
                let Some(kib) = rss_kib(pid) else { break };
                samples.lock().expect("rss").push((started.elapsed().as_secs(), kib));
            }
        })
    });

    // The open-loop schedule.
    let in_flight = Arc::new(AtomicUsize::new(0));
    let total = (secs as f64 * rate).round() as u64;
    let mut max_late = Duration::ZERO;
    let mut most_in_flight = 0usize;
    let mut last_report = 0u64;
    for i in 0..total {
        let due = started + Duration::from_secs_f64(i as f64 / rate);
        tokio::time::sleep_until(due.into()).await;
        max_late = max_late.max(due.elapsed());
        let now_in_flight = in_flight.load(Ordering::Relaxed);
        most_in_flight = most_in_flight.max(now_in_flight);
        let minute = due.duration_since(started).as_secs() / 60;
        if minute > last_report {
            last_report = minute;
            let stats = soak.stats.lock().expect("stats");
            let (requests, bad) =
                stats.cells.iter().filter(|((m, _), _)| *m == minute - 1).fold((0, 0), |(r, b), (_, c)| {
                    (r + c.requests(), b + c.unexpected + c.server_errors + c.errors)
                });
            drop(stats);
            println!(
                "  minute {minute}: {requests} requests, {bad} 5xx/errors/unexpected, {now_in_flight} in flight, server RSS {}",
                pid.and_then(rss_kib).map_or("?".to_string(), |k| format!("{:.1} MiB", mib(k)))
            );
        }
        if now_in_flight >= max_in_flight {
            soak.not_sent(due);
            continue;
        }
        let mut dice = Dice(mix(seed ^ mix(i)));
        let op = choose(&mut dice);
        in_flight.fetch_add(1, Ordering::Relaxed);
        let (soak, in_flight) = (soak.clone(), in_flight.clone());
        tokio::spawn(async move {
            run(soak, op, dice, due).await;
            in_flight.fetch_sub(1, Ordering::Relaxed);
        });
    }
    let schedule_secs = started.elapsed().as_secs_f64();
    // The last answers (each bounded by the timeout, and a flow by a few of them).
    let drain_until = Instant::now() + timeout * 4;
    while in_flight.load(Ordering::Relaxed) > 0 && Instant::now() < drain_until {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let left = in_flight.load(Ordering::Relaxed);
    let rss_end = pid.and_then(rss_kib);
    if let Some(s) = sampler {
        s.abort();
    }

    // Totals per route, per minute, and overall.
    let stats = std::mem::take(&mut *soak.stats.lock().expect("stats"));
    let minutes = stats.cells.keys().map(|(m, _)| *m).max().map_or(0, |m| m + 1);
    let mut per_route: BTreeMap<&'static str, Cell> = BTreeMap::new();
    let mut overall = Cell::default();
    for ((_, route), cell) in &stats.cells {
        per_route.entry(*route).or_default().add(cell);
        overall.add(cell);
    }
    let mut cells = stats.cells;
    for cell in cells.values_mut() {
        cell.latencies_us.sort_unstable();
    }
    for cell in per_route.values_mut() {
        cell.latencies_us.sort_unstable();
    }
    overall.latencies_us.sort_unstable();

    let requests = overall.requests();
    println!(
        "\nSchedule: {total} operations in {schedule_secs:.1} s ({:.1}/s), {requests} requests ({:.1}/s); \
         the client's worst lateness {:.1} ms, at most {most_in_flight} in flight, {left} unanswered at the end",
        total as f64 / schedule_secs,
        requests as f64 / schedule_secs,
        max_late.as_secs_f64() * 1000.0
    );
    println!(
        "Outcomes: {} as expected, {} wrong-password 401 (expected), {} sign-in limiter 429, \
         {} unexpected 4xx, {} 5xx, {} errors (no answer, timeout or not sent)",
        overall.ok,
        overall.refused,
        overall.limited,
        overall.unexpected,
        overall.server_errors,
        overall.errors
    );
    for s in &stats.samples {
        println!("  {s}");
    }

    // Memory: start (before the load), after the first minute (warm-up), middle, end.
    let samples = rss_samples.lock().expect("rss").clone();
    let at = |t: u64| samples.iter().find(|(s, _)| *s >= t).or(samples.last()).map(|(_, k)| *k);
    let warm = at(60.min(secs / 2));
    let middle = at(secs / 2);
    let fmt = |k: Option<u64>| k.map_or("?".to_string(), |k| format!("{:.1} MiB", mib(k)));
    match pid {
        Some(pid) => {
            let growth = match (warm, rss_end) {
                (Some(w), Some(e)) if w > 0 => format!("{:+.1}%", (e as f64 - w as f64) / w as f64 * 100.0),
                _ => "?".to_string(),
            };
            let peak = samples.iter().map(|(_, k)| *k).max();
            println!(
                "Server RSS (pid {pid}): start {}, after warm-up (minute 1) {}, middle {}, end {}, peak {}; \
                 end against warm-up {growth} (goal: within ±10%)",
                fmt(rss_start),
                fmt(warm),
                fmt(middle),
                fmt(rss_end),
                fmt(peak)
            );
        }
        None => println!("Server RSS: not measured (set SOAK_PID to the server's pid)"),
    }
    // One reading is one instant: a workbook or a report in flight moves it by tens of MiB. The
    // level is the median of each minute's one-second readings; the trend compares the last
    // minute's level with the second minute's, the first after the warm-up.
    let medians = minute_medians(&samples);
    if medians.len() >= 3 {
        let levels: Vec<String> = medians.iter().map(|k| format!("{:.0}", mib(*k))).collect();
        let (after_warm_up, last) = (medians[1], medians[medians.len() - 1]);
        println!(
            "Server RSS, median of each minute (MiB): {}; last minute against minute 2 (after the warm-up) {:+.1}% \
             (goal: within ±10%)",
            levels.join(", "),
            (last as f64 - after_warm_up as f64) / after_warm_up as f64 * 100.0
        );
    }

    // The tables.
    let width = per_route.keys().map(|r| r.len()).max().unwrap_or(10).max(10);
    println!(
        "\n{:<width$} {:>7} {:>6} {:>5} {:>5} {:>5} {:>5} {:>9} {:>9} {:>9}",
        "route (whole run)", "reqs", "401", "429", "4xx", "5xx", "err", "p50 ms", "p99 ms", "max ms"
    );
    for (route, c) in &per_route {
        println!(
            "{:<width$} {:>7} {:>6} {:>5} {:>5} {:>5} {:>5} {:>9.1} {:>9.1} {:>9.1}",
            route,
            c.requests(),
            c.refused,
            c.limited,
            c.unexpected,
            c.server_errors,
            c.errors,
            quantile_ms(&c.latencies_us, 0.5),
            quantile_ms(&c.latencies_us, 0.99),
            quantile_ms(&c.latencies_us, 1.0)
        );
    }
    println!(
        "{:<width$} {:>7} {:>6} {:>5} {:>5} {:>5} {:>5} {:>9.1} {:>9.1} {:>9.1}",
        "all",
        overall.requests(),
        overall.refused,
        overall.limited,
        overall.unexpected,
        overall.server_errors,
        overall.errors,
        quantile_ms(&overall.latencies_us, 0.5),
        quantile_ms(&overall.latencies_us, 0.99),
        quantile_ms(&overall.latencies_us, 1.0)
    );

    println!("\np50/p99 in ms per route and minute (from when each request was due):");
    let mut head = format!("{:<width$}", "route");
    for m in 0..minutes {
        let _ = write!(head, " {:>13}", format!("min {}", m + 1));
    }
    println!("{head}");
    for route in per_route.keys() {
        let mut line = format!("{route:<width$}");
        for m in 0..minutes {
            let cell = cells.get(&(m, *route));
            let text = match cell {
                Some(c) if !c.latencies_us.is_empty() => {
                    format!(
                        "{:.0}/{:.0}",
                        quantile_ms(&c.latencies_us, 0.5),
                        quantile_ms(&c.latencies_us, 0.99)
                    )
                }
                _ => "-".to_string(),
            };
            let _ = write!(line, " {text:>13}");
        }
        println!("{line}");
    }

    // The CSV files.
    if let Err(e) = std::fs::create_dir_all(&out_dir) {
        println!("cannot create {}: {e}", out_dir.display());
    }
    let mut csv = String::from("minute,route,requests,ok,refused_401,limited_429,unexpected_4xx,status_5xx,errors,p50_ms,p99_ms,max_ms\n");
    for ((m, route), c) in &cells {
        let _ = writeln!(
            csv,
            "{},\"{route}\",{},{},{},{},{},{},{},{:.2},{:.2},{:.2}",
            m + 1,
            c.requests(),
            c.ok,
            c.refused,
            c.limited,
            c.unexpected,
            c.server_errors,
            c.errors,
            quantile_ms(&c.latencies_us, 0.5),
            quantile_ms(&c.latencies_us, 0.99),
            quantile_ms(&c.latencies_us, 1.0)
        );
    }
    let latency_file = out_dir.join(format!("{label}-latency.csv"));
    let mut rss_csv = String::from("second,rss_kib\n");
    for (s, k) in &samples {
        let _ = writeln!(rss_csv, "{s},{k}");
    }
    let rss_file = out_dir.join(format!("{label}-rss.csv"));
    for (file, text) in [(&latency_file, csv), (&rss_file, rss_csv)] {
        match std::fs::write(file, text) {
            Ok(()) => println!("written: {}", file.display()),
            Err(e) => println!("cannot write {}: {e}", file.display()),
        }
    }

    let failures = overall.server_errors + overall.errors + overall.unexpected;
    if failures > 0 {
        eprintln!(
            "soak ({label}): {} 5xx, {} errors, {} unexpected 4xx (goal: 0)",
            overall.server_errors, overall.errors, overall.unexpected
        );
        std::process::exit(1);
    }
}
