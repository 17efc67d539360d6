//! Vital signs through the real router, on both backends: `/metrics` (what it counts, who may
//! read it), `/readyz` (the database and the evidence store), and the request id (its header,
//! and the 500 page that shows it).
//!
//! The metrics recorder is one per process, shared by every test running at the same time.
//! Exact counts are read only where no other test can move them: `/metrics` answered with 200
//! (the authorization matrix is refused with 404, having no client address) and `/readyz`
//! answered with 503 (only these tests break a store), with the tests of this file taking
//! turns ([`TURN`]). Counters that other tests move too (sign-in failures, snapshot rebuilds)
//! are checked to have moved by at least what the test did.

use std::net::SocketAddr;

use axum::{
    body::Body,
    extract::ConnectInfo,
    http::{header, Request, StatusCode},
    Router,
};
use leptos::prelude::LeptosOptions;

use super::{
    auth::{app_with, form, get, login_body, send, Answer, COMUNE_A, PASSWORD, REGIONE},
    TestDb,
};
use crate::{
    auth::config::AuthConfig,
    evidence::store::{EvidenceStore, DEFAULT_MAX_BYTES},
    ops::MetricsAccess,
    server::router,
    state::AppState,
};

/// The tests of this file read exact counts: one at a time.
static TURN: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

const TOKEN: &str = "prova-token-metriche-0123456789";

fn at(mut req: Request<Body>, ip: [u8; 4]) -> Request<Body> {
    req.extensions_mut().insert(ConnectInfo(SocketAddr::from((ip, 40000))));
    req
}

fn bearer(mut req: Request<Body>, token: &str) -> Request<Body> {
    req.headers_mut().insert(header::AUTHORIZATION, format!("Bearer {token}").parse().unwrap());
    req
}

const LOCAL: [u8; 4] = [127, 0, 0, 1];
const OUTSIDE: [u8; 4] = [192, 0, 2, 10];

/// A router over `t`'s (already seeded) database with these settings.
fn app(t: &TestDb, config: AuthConfig, access: MetricsAccess, store: EvidenceStore) -> Router {
    let options = LeptosOptions::builder().output_name("traguardi").build();
    router(
        AppState::with_auth(options, t.db.clone(), config).with_evidence(store).with_metrics_access(access),
    )
}

fn config() -> AuthConfig {
    let mut c = AuthConfig::local("127.0.0.1:3000");
    c.limit_per_account = 1000;
    c.limit_per_ip = 1000;
    c
}

async fn scrape(app: &Router) -> String {
    let a = send(app, at(get("/metrics", None), LOCAL)).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    a.body
}

/// The sum of the samples of `name` whose labels include every pair of `labels` (0 when there
/// is none yet: a counter appears on its first increment).
pub(super) fn value(text: &str, name: &str, labels: &[(&str, &str)]) -> f64 {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| {
            let (series, v) = l.rsplit_once(' ')?;
            let (n, rest) = match series.split_once('{') {
                Some((n, rest)) => (n, rest.trim_end_matches('}')),
                None => (series, ""),
            };
            (n == name && labels.iter().all(|(k, val)| rest.contains(&format!("{k}=\"{val}\""))))
                .then(|| v.parse::<f64>().unwrap())
        })
        .sum()
}

fn local_store() -> (std::path::PathBuf, EvidenceStore) {
    let dir = std::env::temp_dir().join(super::unique("traguardi_ops_store"));
    let store = EvidenceStore::local(&dir, DEFAULT_MAX_BYTES).unwrap();
    (dir, store)
}

#[tokio::test]
async fn metrics_count_requests_sign_ins_limits_and_rebuilds() {
    let _turn = TURN.lock().await;
    for t in TestDb::all().await {
        let mut limited = config();
        limited.limit_per_ip = 2;
        let seeded = app_with(&t, limited.clone()).await;
        drop(seeded);
        let app = app(&t, limited, MetricsAccess::default(), EvidenceStore::memory(DEFAULT_MAX_BYTES));
        let before = scrape(&app).await;
        let ok = [("method", "GET"), ("route", "/metrics"), ("status", "200")];
        // Exactly the calls made: the first scrape, then three more, each counted once answered.
        for _ in 0..3 {
            scrape(&app).await;
        }
        let after = scrape(&app).await;
        assert_eq!(
            value(&after, "traguardi_http_requests_total", &ok),
            value(&before, "traguardi_http_requests_total", &ok) + 4.0,
            "{}",
            t.db.backend()
        );
        // The latency histogram of the route, with the configured buckets.
        let count = |text: &str| {
            value(text, "traguardi_http_request_duration_seconds_count", &[("route", "/metrics")])
        };
        assert!(count(&after) >= count(&before) + 4.0);
        for le in ["0.001", "0.25", "10", "+Inf"] {
            assert!(
                after.contains(&format!("traguardi_http_request_duration_seconds_bucket{{method=\"GET\",route=\"/metrics\",le=\"{le}\"}}")),
                "no bucket le={le}"
            );
        }
        let inf = [("route", "/metrics"), ("le", "+Inf")];
        assert_eq!(value(&after, "traguardi_http_request_duration_seconds_bucket", &inf), count(&after));
        assert!(after.contains("# HELP traguardi_http_requests_total HTTP requests answered"));
        assert!(after.contains("# TYPE traguardi_http_request_duration_seconds histogram"));
        // An address that matches no route is counted as such, never under its raw path.
        let a = send(&app, get("/nessuna-pagina-072006", None)).await;
        assert_eq!(a.status, StatusCode::NOT_FOUND);
        let text = scrape(&app).await;
        assert!(
            value(&text, "traguardi_http_requests_total", &[("route", "unmatched"), ("status", "404")])
                >= 1.0
        );
        assert!(!text.contains("nessuna-pagina"), "a raw path became a label");
        // A page with a path parameter: its template, not the comune's code.
        let a = send(&app, get("/comuni/072006", None)).await;
        assert_eq!(a.status, StatusCode::OK);
        let text = scrape(&app).await;
        assert!(value(&text, "traguardi_http_requests_total", &[("route", "/comuni/{codice}")]) >= 1.0);
        assert!(!text.contains("route=\"/comuni/072006\""));

        // A wrong password, then the address limit (2 attempts): a failure and a refusal counted.
        let failures =
            |text: &str| value(text, "traguardi_sign_in_failures_total", &[("method", "password")]);
        let refusals =
            |text: &str| value(text, "traguardi_rate_limit_refusals_total", &[("limit", "sign_in")]);
        let before = scrape(&app).await;
        for expected in [StatusCode::UNAUTHORIZED, StatusCode::UNAUTHORIZED, StatusCode::TOO_MANY_REQUESTS] {
            let a =
                send(&app, at(form("/accedi", &login_body(COMUNE_A, "Sbagliata-1234"), None), [10, 9, 8, 7]))
                    .await;
            assert_eq!(a.status, expected);
        }
        let after = scrape(&app).await;
        assert!(failures(&after) >= failures(&before) + 2.0, "sign-in failures not counted");
        assert!(refusals(&after) >= refusals(&before) + 1.0, "rate-limit refusal not counted");
        // A right password is not a failure: signed in (303) from another address.
        let a = send(&app, at(form("/accedi", &login_body(REGIONE, PASSWORD), None), [10, 9, 8, 6])).await;
        assert_eq!(a.status, StatusCode::SEE_OTHER);

        // A write moves the data version; the next page rebuilds the snapshot, counted and timed.
        let rebuilds = |text: &str| value(text, "traguardi_snapshot_rebuilds_total", &[]);
        let timed = |text: &str| value(text, "traguardi_snapshot_rebuild_duration_seconds_count", &[]);
        let before = scrape(&app).await;
        crate::data::workspace::write_tx!(&t.db, tx => tx.add_note_in(REGIONE, "072006", "Nota per le metriche").await?)
            .unwrap();
        assert_eq!(send(&app, get("/", None)).await.status, StatusCode::OK);
        let after = scrape(&app).await;
        assert!(rebuilds(&after) >= rebuilds(&before) + 1.0, "snapshot rebuild not counted");
        assert!(timed(&after) >= timed(&before) + 1.0, "snapshot rebuild not timed");
        // The page cache, read at scrape time: the dashboard just asked anonymously is kept,
        // with its bytes (at least the page itself, uncompressed).
        assert!(value(&after, "traguardi_page_cache_entries", &[]) >= 1.0);
        assert!(value(&after, "traguardi_page_cache_bytes", &[]) > 10_000.0);

        // The pool, read at scrape time (no other test scrapes meanwhile): this backend's size.
        let max = if t.db.backend() == "SQLite" { 8.0 } else { 10.0 };
        assert_eq!(value(&after, "traguardi_db_pool_max_connections", &[]), max);
        let open = value(&after, "traguardi_db_pool_connections", &[]);
        assert!(open >= 1.0 && open <= max, "{open} connections");
        // The process's memory, read at scrape time (the heap in use only where the global
        // allocator counts it: the server's, not this test binary's).
        let resident = value(&after, "traguardi_resident_memory_bytes", &[]);
        assert!(resident > 1_048_576.0, "{resident} bytes resident");
        t.drop_db().await;
    }
}

#[tokio::test]
async fn metrics_are_private_to_configured_addresses_and_the_token() {
    let t = TestDb::sqlite().await;
    let access = MetricsAccess::parse(None, Some(TOKEN)).unwrap();
    let app = app(&t, config(), access.clone(), EvidenceStore::memory(DEFAULT_MAX_BYTES));
    let refused = |a: &Answer, what: &str| {
        assert_eq!(a.status, StatusCode::NOT_FOUND, "{what}");
        assert!(a.body.contains("Pagina non trovata"), "{what}: not the site's ordinary 404");
        assert!(!a.body.contains("traguardi_http") && !a.body.contains("# TYPE"), "{what}: metrics leaked");
    };
    let allowed = |a: &Answer, what: &str| {
        assert_eq!(a.status, StatusCode::OK, "{what}");
        assert!(a.body.contains("# TYPE traguardi_build_info gauge"), "{what}: {}", a.body);
        assert!(a.headers[header::CONTENT_TYPE].to_str().unwrap().starts_with("text/plain; version=0.0.4"));
    };
    allowed(&send(&app, at(get("/metrics", None), LOCAL)).await, "from 127.0.0.1");
    refused(&send(&app, at(get("/metrics", None), OUTSIDE)).await, "from another address");
    refused(&send(&app, get("/metrics", None)).await, "without a client address");
    allowed(&send(&app, bearer(at(get("/metrics", None), OUTSIDE), TOKEN)).await, "with the token");
    refused(
        &send(&app, bearer(at(get("/metrics", None), OUTSIDE), "prova-token-metriche-0123456788")).await,
        "with a wrong token",
    );
    // The same answer as any unknown address (the nonce aside): nothing tells it exists.
    let unknown = send(&app, at(get("/metriche", None), OUTSIDE)).await;
    let hidden = send(&app, at(get("/metrics", None), OUTSIDE)).await;
    let strip = |s: &str| s.split("nonce=").next().unwrap_or_default().len();
    assert_eq!(unknown.status, hidden.status);
    assert_eq!(strip(&unknown.body), strip(&hidden.body));
    // Behind a trusted proxy the address is the forwarded one, as for the sign-in limit; a
    // forwarded address is ignored when the proxy is not trusted.
    let forwarded = |ip: &str| {
        let mut req = at(get("/metrics", None), OUTSIDE);
        req.headers_mut().insert("x-forwarded-for", ip.parse().unwrap());
        req
    };
    refused(&send(&app, forwarded("127.0.0.1")).await, "untrusted X-Forwarded-For");
    let mut trusting = config();
    trusting.trust_forwarded_for = true;
    let proxied = self::app(&t, trusting, access, EvidenceStore::memory(DEFAULT_MAX_BYTES));
    allowed(&send(&proxied, forwarded("127.0.0.1")).await, "trusted proxy forwarding 127.0.0.1");
    refused(&send(&proxied, forwarded("198.51.100.1")).await, "trusted proxy forwarding another address");
    t.drop_db().await;
}

#[tokio::test]
async fn readyz_checks_the_database_and_the_evidence_store() {
    let _turn = TURN.lock().await;
    for t in TestDb::all().await {
        let (dir, store) = local_store();
        let app = app(&t, config(), MetricsAccess::default(), store);
        let a = send(&app, get("/readyz", None)).await;
        assert_eq!((a.status, a.body.as_str()), (StatusCode::OK, "pronto"));
        // The folder replaced by a file: not ready, and the text says which part.
        let unready = [("route", "/readyz"), ("status", "503")];
        let before = value(&scrape(&app).await, "traguardi_http_requests_total", &unready);
        std::fs::remove_dir_all(&dir).unwrap();
        std::fs::write(&dir, b"non una cartella").unwrap();
        for _ in 0..2 {
            let a = send(&app, get("/readyz", None)).await;
            assert_eq!(a.status, StatusCode::SERVICE_UNAVAILABLE);
            assert_eq!(a.body, "non pronto: archivio delle evidenze non raggiungibile");
        }
        let after = value(&scrape(&app).await, "traguardi_http_requests_total", &unready);
        assert_eq!(after, before + 2.0, "{}: /readyz 503 counted exactly", t.db.backend());
        // Liveness is unchanged: the process and its database are fine.
        assert_eq!(send(&app, get("/healthz", None)).await.status, StatusCode::OK);
        std::fs::remove_file(&dir).unwrap();
        // A closed database: not ready (and not alive either, as before).
        let app = self::app(&t, config(), MetricsAccess::default(), EvidenceStore::memory(DEFAULT_MAX_BYTES));
        crate::on_db!(&t.db, pool => pool.close().await);
        let a = send(&app, get("/readyz", None)).await;
        assert_eq!(
            (a.status, a.body.as_str()),
            (StatusCode::SERVICE_UNAVAILABLE, "non pronto: database non raggiungibile")
        );
        assert_eq!(send(&app, get("/healthz", None)).await.status, StatusCode::SERVICE_UNAVAILABLE);
        t.drop_db().await;
    }
}

#[tokio::test]
async fn every_answer_carries_a_request_id_and_a_500_page_shows_it() {
    for t in TestDb::all().await {
        let seeded = app_with(&t, config()).await;
        drop(seeded);
        let app = app(&t, config(), MetricsAccess::default(), EvidenceStore::memory(DEFAULT_MAX_BYTES));
        let id_of = |a: &Answer| a.headers["x-request-id"].to_str().unwrap().to_string();
        let (a, b) = (send(&app, get("/healthz", None)).await, send(&app, get("/comuni", None)).await);
        let (first, second) = (id_of(&a), id_of(&b));
        assert_ne!(first, second);
        assert!(crate::ops::request_id::acceptable(&first), "{first}");
        // One sent by a proxy or the client is kept; one that will not do is replaced.
        let with_id = |uri: &str, id: &str| {
            let mut req = get(uri, None);
            req.headers_mut().insert("x-request-id", id.parse().unwrap());
            req
        };
        assert_eq!(id_of(&send(&app, with_id("/healthz", "dal-proxy-42")).await), "dal-proxy-42");
        let replaced = id_of(&send(&app, with_id("/healthz", "non va bene")).await);
        assert!(replaced != "non va bene" && crate::ops::request_id::acceptable(&replaced));

        // Internal errors: the database gone. A plain route (the CSV export) and a page (the
        // list of comuni) answer 500 with the fixed Italian sentence and the request's id.
        crate::on_db!(&t.db, pool => pool.close().await);
        let csv = send(&app, with_id("/export/comuni.csv", "guasto-csv-1")).await;
        assert_eq!(csv.status, StatusCode::INTERNAL_SERVER_ERROR, "{}", csv.body);
        assert!(csv.body.contains("errore interno"), "{}", csv.body);
        assert!(csv.body.contains("Codice della richiesta: guasto-csv-1"), "{}", csv.body);
        assert!(!csv.body.contains("closed"), "internals leaked: {}", csv.body);
        let page = send(&app, get("/comuni", None)).await;
        assert_eq!(page.status, StatusCode::INTERNAL_SERVER_ERROR);
        let id = id_of(&page);
        assert!(page.body.contains(&format!("Codice della richiesta: {id}")), "{}", page.body);
        // A server function called from the browser (JavaScript on): its JSON error carries the
        // request's id, which the page shows under the message.
        let mut call = form("/api/cruscotto", "", None);
        call.headers_mut().insert("x-request-id", "guasto-funzione-1".parse().unwrap());
        let answer = send(&app, call).await;
        assert_eq!(answer.status, StatusCode::INTERNAL_SERVER_ERROR, "{}", answer.body);
        let error: crate::error::AppError = serde_json::from_str(&answer.body).unwrap();
        assert_eq!(error.request_code().as_deref(), Some("guasto-funzione-1"), "{}", answer.body);
        assert!(
            error.to_string().contains("errore interno") && !answer.body.contains("closed"),
            "{}",
            answer.body
        );
        t.drop_db().await;
    }
}
