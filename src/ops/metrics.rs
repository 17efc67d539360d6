//! The counters, gauges and histograms of `/metrics`, in the Prometheus text format.
//!
//! One recorder per process (the `metrics` facade has one global recorder): [`install`] sets
//! it up once, and every router built afterwards (one in the server, many in the tests) reports
//! into it. The names live here, each with its help text, and the rest of the code calls the
//! small functions below, so a name cannot be misspelt at one call site.

use std::{sync::OnceLock, time::Duration};

use axum::{
    extract::{MatchedPath, Request, State},
    http::{header, Method},
    middleware::Next,
    response::{IntoResponse, Response},
};
use metrics::{counter, describe_counter, describe_gauge, describe_histogram, gauge, histogram, Unit};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

use crate::state::AppState;

pub const HTTP_REQUESTS: &str = "traguardi_http_requests_total";
pub const HTTP_DURATION: &str = "traguardi_http_request_duration_seconds";
pub const HTTP_IN_FLIGHT: &str = "traguardi_http_requests_in_flight";
pub const SNAPSHOT_REBUILDS: &str = "traguardi_snapshot_rebuilds_total";
pub const SNAPSHOT_FAILURES: &str = "traguardi_snapshot_rebuild_failures_total";
pub const SNAPSHOT_DURATION: &str = "traguardi_snapshot_rebuild_duration_seconds";
pub const DB_POOL_CONNECTIONS: &str = "traguardi_db_pool_connections";
pub const DB_POOL_MAX: &str = "traguardi_db_pool_max_connections";
pub const EVIDENCE_UPLOADS: &str = "traguardi_evidence_uploads_total";
pub const EVIDENCE_BYTES: &str = "traguardi_evidence_upload_bytes_total";
pub const IMPORT_UPLOADS: &str = "traguardi_import_uploads_total";
pub const IMPORT_DRY_RUNS: &str = "traguardi_import_dry_runs_total";
pub const IMPORT_APPLIES: &str = "traguardi_import_applies_total";
pub const SIGN_IN_FAILURES: &str = "traguardi_sign_in_failures_total";
pub const RATE_LIMITED: &str = "traguardi_rate_limit_refusals_total";
pub const BUSY: &str = "traguardi_busy_refusals_total";
pub const JOB_RUNS: &str = "traguardi_background_job_runs_total";
pub const JOB_FAILURES: &str = "traguardi_background_job_failures_total";
pub const JOB_LAST_SUCCESS: &str = "traguardi_background_job_last_success_timestamp_seconds";
pub const REMINDERS: &str = "traguardi_reminders_total";
pub const PAGE_CACHE: &str = "traguardi_page_cache_requests_total";
pub const PAGE_CACHE_BYTES: &str = "traguardi_page_cache_bytes";
pub const PAGE_CACHE_ENTRIES: &str = "traguardi_page_cache_entries";
pub const BUILD_INFO: &str = "traguardi_build_info";
pub const HEAP_BYTES: &str = "traguardi_heap_bytes";
pub const RESIDENT_BYTES: &str = "traguardi_resident_memory_bytes";

/// The background jobs, as [`job`] labels them.
const JOBS: &[&str] =
    &["session_sweep", "evidence_sweep", "audit_checkpoint", "reminders_plan", "reminders_send"];

/// A label's name and every value it takes.
pub type Label = (&'static str, &'static [&'static str]);

/// Every counter but the requests' (whose routes and statuses are many) with the one label it
/// has and every value that label takes: the functions below take nothing else (a debug build
/// checks each call), and [`install`] sets each series to 0. So the first scrape after a start
/// already lists them: Prometheus's `increase()` and `rate()` count a rise only against an
/// earlier sample of the same series, and an alert on "a sign-in failure" or "a failed
/// background job" would otherwise miss the first one after every restart.
pub const COUNTERS: &[(&str, Option<Label>)] = &[
    (SNAPSHOT_REBUILDS, None),
    (SNAPSHOT_FAILURES, None),
    (SIGN_IN_FAILURES, Some(("method", &["password", "oidc"]))),
    (RATE_LIMITED, Some(("limit", &["sign_in", "sign_in_oidc", "feedback"]))),
    // `other`: a limit made without a name (`WorkLimit::new`).
    (BUSY, Some(("work", &["report", "png", "drawing", "xlsx", "other"]))),
    (EVIDENCE_UPLOADS, Some(("outcome", &["stored", "refused", "failed"]))),
    (EVIDENCE_BYTES, None),
    (IMPORT_UPLOADS, Some(("outcome", &["stored", "refused", "busy"]))),
    (IMPORT_DRY_RUNS, Some(("outcome", &["clean", "problems", "unreadable", "busy", "failed"]))),
    (IMPORT_APPLIES, Some(("outcome", &["applied", "refused", "conflict", "failed"]))),
    (JOB_RUNS, Some(("job", JOBS))),
    (JOB_FAILURES, Some(("job", JOBS))),
    (REMINDERS, Some(("outcome", &["sent", "retry", "failed", "interrupted"]))),
    (PAGE_CACHE, Some(("result", &["hit", "miss", "uncacheable"]))),
];

/// Sets every series of [`COUNTERS`] to 0 (registers it; a counter already counting keeps its
/// count).
fn counters_at_zero() {
    for (name, label) in COUNTERS {
        match label {
            None => counter!(*name).increment(0),
            Some((key, values)) => {
                for value in *values {
                    counter!(*name, *key => *value).increment(0);
                }
            }
        }
    }
}

/// In a debug build, panics when `value` is not one of [`COUNTERS`]' values for `name`: a new
/// value must be listed there to be counted from zero.
fn listed(name: &str, value: &str) {
    debug_assert!(
        COUNTERS
            .iter()
            .any(|(n, label)| *n == name && label.is_some_and(|(_, values)| values.contains(&value))),
        "{name} counted with the label value {value:?}, which ops::metrics::COUNTERS does not list"
    );
}

/// Request latency buckets (seconds): pages answer in milliseconds, the report in about a
/// second, a large upload in several.
pub const HTTP_BUCKETS: [f64; 13] =
    [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0];
/// Snapshot rebuild buckets (seconds): tens of milliseconds for the 258 comuni of Puglia.
pub const SNAPSHOT_BUCKETS: [f64; 10] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0];

/// The process's recorder, installed on first use. Later calls return the same handle.
pub fn install() -> &'static PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(|| {
        let recorder = PrometheusBuilder::new()
            .set_buckets_for_metric(Matcher::Full(HTTP_DURATION.into()), &HTTP_BUCKETS)
            .and_then(|b| {
                b.set_buckets_for_metric(Matcher::Full(SNAPSHOT_DURATION.into()), &SNAPSHOT_BUCKETS)
            })
            .expect("non-empty bucket lists")
            .build_recorder();
        let handle = recorder.handle();
        if let Err(e) = metrics::set_global_recorder(recorder) {
            tracing::error!(error = %e, "another metrics recorder is installed: /metrics will be empty");
        }
        describe();
        counters_at_zero();
        gauge!(BUILD_INFO, "version" => env!("CARGO_PKG_VERSION")).set(1.0);
        // Histogram samples wait in per-metric buffers until a scrape or an upkeep folds them in:
        // without a scraper they would grow for ever.
        let upkeep = handle.clone();
        let spawned = std::thread::Builder::new().name("metrics-upkeep".into()).spawn(move || loop {
            std::thread::sleep(Duration::from_secs(5));
            upkeep.run_upkeep();
        });
        if let Err(e) = spawned {
            tracing::error!(error = %e, "metrics upkeep thread not started");
        }
        handle
    })
}

fn describe() {
    describe_counter!(HTTP_REQUESTS, "HTTP requests answered, by method, route template and status.");
    describe_histogram!(
        HTTP_DURATION,
        Unit::Seconds,
        "Time from the request's arrival to its response's head, by method and route template."
    );
    describe_gauge!(HTTP_IN_FLIGHT, "HTTP requests being answered now.");
    describe_counter!(
        SNAPSHOT_REBUILDS,
        "Rebuilds of the evaluated programme (after a write or at midnight)."
    );
    describe_counter!(SNAPSHOT_FAILURES, "Rebuilds of the evaluated programme that failed.");
    describe_histogram!(
        SNAPSHOT_DURATION,
        Unit::Seconds,
        "Time taken by a rebuild of the evaluated programme."
    );
    describe_gauge!(
        DB_POOL_CONNECTIONS,
        "Database connections open, by state (idle, in_use), read at scrape time."
    );
    describe_gauge!(DB_POOL_MAX, "The most database connections the pool opens.");
    describe_counter!(EVIDENCE_UPLOADS, "Evidence uploads, by outcome (stored, refused, failed).");
    describe_counter!(EVIDENCE_BYTES, Unit::Bytes, "Bytes of evidence files stored.");
    describe_counter!(IMPORT_UPLOADS, "Import files uploaded, by outcome (stored, refused, busy).");
    describe_counter!(
        IMPORT_DRY_RUNS,
        "Import dry runs, by outcome (clean, problems, unreadable, busy, failed)."
    );
    describe_counter!(IMPORT_APPLIES, "Confirmed imports, by outcome (applied, refused, conflict, failed).");
    describe_counter!(SIGN_IN_FAILURES, "Refused sign-ins, by method (password, oidc).");
    describe_counter!(
        RATE_LIMITED,
        "Requests refused by a per-address rate limit (429), by limit (sign_in, sign_in_oidc, feedback)."
    );
    describe_counter!(BUSY, "Expensive requests refused with 503 because the queue was full, by work.");
    describe_counter!(JOB_RUNS, "Runs of background jobs, by job.");
    describe_counter!(JOB_FAILURES, "Failed runs of background jobs, by job.");
    describe_counter!(
        REMINDERS,
        "Reminder e-mails by outcome (sent, retry: failed and queued again, failed: given up, interrupted: claimed by a sender that stopped mid-send)."
    );
    describe_gauge!(
        JOB_LAST_SUCCESS,
        Unit::Seconds,
        "Unix time of each background job's last successful run."
    );
    describe_counter!(
        PAGE_CACHE,
        "Anonymous GETs of public answers, by result (hit: from the cache; miss: rendered and kept; uncacheable: rendered, not kept)."
    );
    describe_gauge!(
        PAGE_CACHE_BYTES,
        Unit::Bytes,
        "Bytes the page cache keeps now (every encoding of every kept answer; emptied by each write)."
    );
    describe_gauge!(PAGE_CACHE_ENTRIES, "Answers the page cache keeps now.");
    describe_gauge!(BUILD_INFO, "Always 1; the version label says which build runs.");
    describe_gauge!(
        HEAP_BYTES,
        Unit::Bytes,
        "Rust's heap in use: allocated and not yet freed (the rest of the resident memory is code, the allocator's reserve and SQLite's own)."
    );
    describe_gauge!(RESIDENT_BYTES, Unit::Bytes, "The server's resident memory (VmRSS).");
}

/// Middleware: counts the request under its route template (`MatchedPath`; never the raw
/// path, whose identifiers would make a series per comune, evidence and import) and times it.
pub async fn observe(req: Request, next: Next) -> Response {
    let route = req.extensions().get::<MatchedPath>().map(|p| p.as_str().to_string());
    let route = route.unwrap_or_else(|| "unmatched".to_string());
    let method = method_label(req.method());
    let started = std::time::Instant::now();
    let in_flight = InFlight::enter();
    let response = next.run(req).await;
    drop(in_flight);
    let status = response.status().as_u16().to_string();
    counter!(HTTP_REQUESTS, "method" => method, "route" => route.clone(), "status" => status).increment(1);
    histogram!(HTTP_DURATION, "method" => method, "route" => route).record(started.elapsed().as_secs_f64());
    response
}

/// One request in [`HTTP_IN_FLIGHT`] until dropped (also when the client goes away and the
/// request's future with it).
struct InFlight;

impl InFlight {
    fn enter() -> InFlight {
        gauge!(HTTP_IN_FLIGHT).increment(1.0);
        InFlight
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        gauge!(HTTP_IN_FLIGHT).decrement(1.0);
    }
}

/// Methods outside the standard set share one label (a client may send any token).
fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::PATCH => "PATCH",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

/// `GET /metrics`: the text for allowed readers (see [`super::access`]), the site's ordinary
/// "page not found" for everyone else.
pub async fn scrape(State(state): State<AppState>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let client = crate::auth::routes::client_address(&state, &parts);
    if !state.metrics_access.permits(client, parts.headers.get(header::AUTHORIZATION)) {
        tracing::info!(%client, "metrics refused to this client (answered as an unknown address)");
        let uri = parts.uri.clone();
        let req = Request::from_parts(parts, body);
        let not_found = leptos_axum::file_and_error_handler::<AppState, _>(crate::app::shell);
        return not_found(uri, State(state), req).await;
    }
    let handle = install();
    let (size, idle, max) = crate::on_db!(&state.db, pool => (pool.size(), pool.num_idle() as u32, pool.options().get_max_connections()));
    gauge!(DB_POOL_CONNECTIONS, "state" => "idle").set(f64::from(idle));
    gauge!(DB_POOL_CONNECTIONS, "state" => "in_use").set(f64::from(size.saturating_sub(idle)));
    gauge!(DB_POOL_MAX).set(f64::from(max));
    let (entries, bytes) = state.pages.usage();
    gauge!(PAGE_CACHE_ENTRIES).set(entries as f64);
    gauge!(PAGE_CACHE_BYTES).set(bytes as f64);
    if let Some(bytes) = crate::ops::memory::heap_in_use() {
        gauge!(HEAP_BYTES).set(bytes as f64);
    }
    if let Some(bytes) = crate::ops::memory::resident_bytes() {
        gauge!(RESIDENT_BYTES).set(bytes as f64);
    }
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], handle.render()).into_response()
}

/// A rebuild of the evaluated programme, and how long it took.
pub fn snapshot_rebuilt(took: Duration) {
    counter!(SNAPSHOT_REBUILDS).increment(1);
    histogram!(SNAPSHOT_DURATION).record(took.as_secs_f64());
}

pub fn snapshot_failed() {
    counter!(SNAPSHOT_FAILURES).increment(1);
}

/// A refused sign-in: `password` (wrong credentials) or `oidc` (the callback refused).
pub fn sign_in_failed(method: &'static str) {
    listed(SIGN_IN_FAILURES, method);
    counter!(SIGN_IN_FAILURES, "method" => method).increment(1);
}

/// A request refused by a rate limit (`sign_in`, `sign_in_oidc`, `feedback`).
pub fn rate_limited(limit: &'static str) {
    listed(RATE_LIMITED, limit);
    counter!(RATE_LIMITED, "limit" => limit).increment(1);
}

/// An expensive request refused because its queue was full.
pub fn busy(work: &'static str) {
    listed(BUSY, work);
    counter!(BUSY, "work" => work).increment(1);
}

/// A public answer served from the page cache (`hit`), rendered and kept (`miss`), or rendered
/// and not kept (`uncacheable`).
pub fn page_cache(result: &'static str) {
    listed(PAGE_CACHE, result);
    counter!(PAGE_CACHE, "result" => result).increment(1);
}

/// An evidence upload's outcome (`stored`, `refused`, `failed`) and the bytes stored.
pub fn evidence_upload(outcome: &'static str, bytes: u64) {
    listed(EVIDENCE_UPLOADS, outcome);
    counter!(EVIDENCE_UPLOADS, "outcome" => outcome).increment(1);
    if bytes > 0 {
        counter!(EVIDENCE_BYTES).increment(bytes);
    }
}

pub fn import_upload(outcome: &'static str) {
    listed(IMPORT_UPLOADS, outcome);
    counter!(IMPORT_UPLOADS, "outcome" => outcome).increment(1);
}

pub fn import_dry_run(outcome: &'static str) {
    listed(IMPORT_DRY_RUNS, outcome);
    counter!(IMPORT_DRY_RUNS, "outcome" => outcome).increment(1);
}

pub fn import_apply(outcome: &'static str) {
    listed(IMPORT_APPLIES, outcome);
    counter!(IMPORT_APPLIES, "outcome" => outcome).increment(1);
}

/// Reminder e-mails by outcome (`sent`, `retry`, `failed`, `interrupted`).
pub fn reminders(outcome: &'static str, n: u64) {
    listed(REMINDERS, outcome);
    counter!(REMINDERS, "outcome" => outcome).increment(n);
}

/// One run of a background job (`session_sweep`, `evidence_sweep`, `audit_checkpoint`).
pub fn job(name: &'static str, ok: bool) {
    listed(JOB_RUNS, name);
    counter!(JOB_RUNS, "job" => name).increment(1);
    if ok {
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
        gauge!(JOB_LAST_SUCCESS, "job" => name).set(now.as_secs_f64());
    } else {
        counter!(JOB_FAILURES, "job" => name).increment(1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Set in the child process of the test below.
    const FIRST_SCRAPE_PROBE: &str = "TRAGUARDI_TEST_FIRST_SCRAPE";

    /// The first scrape after a start lists every series of [`COUNTERS`] at 0. In a process of
    /// its own (the test binary runs again with only this test): the recorder is one per
    /// process, and the tests beside this one count requests, sign-ins and uploads into it.
    #[test]
    fn the_first_scrape_lists_every_counter_at_zero() {
        if std::env::var_os(FIRST_SCRAPE_PROBE).is_some() {
            println!("first scrape begins\n{}first scrape ends", install().render());
            return;
        }
        let stdout = crate::ops::probe::rerun_alone(
            "ops::metrics::tests::the_first_scrape_lists_every_counter_at_zero",
            |child| {
                child.env(FIRST_SCRAPE_PROBE, "1");
            },
        );
        let scrape = stdout
            .split_once("first scrape begins\n")
            .and_then(|(_, rest)| rest.split_once("first scrape ends"))
            .map(|(text, _)| text)
            .unwrap_or_else(|| panic!("{stdout}"));
        for (name, label) in COUNTERS {
            let lines: Vec<String> = match label {
                None => vec![format!("{name} 0")],
                Some((key, values)) => values.iter().map(|v| format!("{name}{{{key}=\"{v}\"}} 0")).collect(),
            };
            for line in lines {
                assert!(scrape.lines().any(|l| l == line), "missing {line:?} in the first scrape:\n{scrape}");
            }
        }
    }

    /// A label value a counting function is called with must be listed, or it would not be
    /// counted from zero (debug builds check every call).
    #[test]
    #[cfg(debug_assertions)]
    #[should_panic(expected = "does not list")]
    fn a_value_not_listed_is_caught() {
        sign_in_failed("spid");
    }
}
