//! The page cache over HTTP on both backends (`server::cache`): a public answer is rendered
//! once per data version and compressed once; a write, on this server or on another sharing
//! the database, shows at the next request; nothing a signed-in person sees is kept or served
//! to anybody else; a kept page's scripts are admitted by their hashes, not by a shared nonce.

use axum::{
    body::Body,
    http::{header, Request, StatusCode},
    Router,
};
use leptos::prelude::LeptosOptions;

use super::{
    auth::{app_with, form, get, local, planted, send, sign_in, Answer, CODICE_A, CODICE_B, REGIONE},
    TestDb,
};
use crate::{
    auth::config::AuthConfig,
    data::{on_db, Db},
    server::{
        cache::{inline_scripts, script_hash, CACHE_HEADER},
        router,
    },
    state::AppState,
};

fn config() -> AuthConfig {
    let mut config = local();
    config.limit_per_account = 1000;
    config.limit_per_ip = 1000;
    config
}

/// Another server on the same database (its own cache, as another process has).
fn second_server(db: &Db) -> Router {
    let options = LeptosOptions::builder().output_name("traguardi").build();
    router(AppState::with_auth(options, db.clone(), config()))
}

/// An anonymous GET with a browser's `Accept-Encoding`, decoded.
async fn browse(app: &Router, uri: &str, accept: &str) -> (Answer, String) {
    let req = Request::get(uri).header(header::ACCEPT_ENCODING, accept).body(Body::empty()).unwrap();
    raw(app, req).await
}

/// The answer with its body decoded as its `Content-Encoding` says.
async fn raw(app: &Router, req: Request<Body>) -> (Answer, String) {
    use http_body_util::BodyExt;
    use std::io::Read;
    use tower::ServiceExt;
    let response = app.clone().oneshot(req).await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    let decoded = match headers.get(header::CONTENT_ENCODING).map(|v| v.to_str().unwrap()) {
        None => bytes.to_vec(),
        Some("gzip") => {
            let mut out = Vec::new();
            flate2::read::GzDecoder::new(&bytes[..]).read_to_end(&mut out).unwrap();
            out
        }
        Some("br") => {
            let mut out = Vec::new();
            brotli::BrotliDecompress(&mut &bytes[..], &mut out).unwrap();
            out
        }
        Some(other) => panic!("unexpected encoding {other}"),
    };
    let body = String::from_utf8(decoded).unwrap();
    (Answer { status, headers, body: String::new() }, body)
}

fn cache_state(a: &Answer) -> Option<&str> {
    a.headers.get(CACHE_HEADER).map(|v| v.to_str().unwrap())
}

fn encoding(a: &Answer) -> Option<&str> {
    a.headers.get(header::CONTENT_ENCODING).map(|v| v.to_str().unwrap())
}

async fn adhesion_version(db: &Db) -> i64 {
    on_db!(db, pool => sqlx::query_scalar::<_, i64>(
        "SELECT version FROM adhesion WHERE comune = $1 AND programme = 'fondo-innovazione-2020'",
    )
    .bind(CODICE_A)
    .fetch_one(pool)
    .await
    .unwrap())
}

#[tokio::test]
async fn a_public_answer_is_rendered_once_per_data_version_and_a_write_shows_at_once() {
    for t in TestDb::all().await {
        let a = app_with(&t, config()).await;
        let b = second_server(&t.db);
        let page = format!("/comuni/{CODICE_A}");
        let list = "/comuni?adesione=rinuncia";
        let bari_row = format!("href=\"/comuni/{CODICE_A}\"");

        for (name, app) in [("A", &a), ("B", &b)] {
            let (first, html) = browse(app, &page, "gzip, deflate, br").await;
            assert_eq!((first.status, cache_state(&first)), (StatusCode::OK, Some("miss")), "{name}");
            assert!(html.contains("<dd>Non aderente</dd>") && !html.contains("<dd>Rinuncia</dd>"), "{name}");
            let (again, same) = browse(app, &page, "gzip, deflate, br").await;
            assert_eq!(cache_state(&again), Some("hit"), "{name}: the second visitor reads the kept page");
            assert_eq!(same, html, "{name}: the very same page");
            // Every encoding is the same page: Brotli and gzip made once, none for who asks none.
            assert_eq!(encoding(&again), Some("br"));
            let (gz, gz_html) = browse(app, &page, "gzip").await;
            assert_eq!((encoding(&gz), cache_state(&gz)), (Some("gzip"), Some("hit")));
            let (plain, plain_html) = browse(app, &page, "identity").await;
            assert_eq!((encoding(&plain), cache_state(&plain)), (None, Some("hit")));
            assert_eq!((gz_html.as_str(), plain_html.as_str()), (html.as_str(), html.as_str()));
            assert_eq!(
                plain.headers[header::CONTENT_LENGTH].to_str().unwrap(),
                html.len().to_string(),
                "{name}: the length of what is sent"
            );
            assert_eq!(plain.headers[header::VARY], "accept-encoding");
            let (listed, list_html) = browse(app, list, "gzip").await;
            assert_eq!(cache_state(&listed), Some("miss"));
            assert!(!list_html.contains(&bari_row), "{name}: Bari has not renounced yet");
        }

        // The Region records Bari's renunciation through server A.
        let token = sign_in(&a, REGIONE).await;
        let v = adhesion_version(&t.db).await;
        let body = format!("stato=rinuncia&data=2021-01-15&versione={v}&motivo=Delibera+n.+3");
        let r = send(&a, form(&format!("/comuni/{CODICE_A}/gestione/adesione"), &body, Some(&token))).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", &r.body[..r.body.len().min(600)]);

        // Both servers show it at the next request: A, where it was written, and B, which only
        // shares the database.
        for (name, app) in [("A", &a), ("B", &b)] {
            let (after, html) = browse(app, &page, "gzip, br").await;
            assert_eq!(cache_state(&after), Some("miss"), "{name}: rendered again after the write");
            assert!(
                html.contains("<dd>Rinuncia</dd>") && !html.contains("<dd>Non aderente</dd>"),
                "{name}: the comune's page follows the write"
            );
            let (_, list_html) = browse(app, list, "gzip, br").await;
            assert!(list_html.contains(&bari_row), "{name}: so does the filtered list");
        }
        t.drop_db().await;
    }
}

#[tokio::test]
async fn nothing_a_signed_in_person_sees_is_kept_or_served_to_another() {
    for t in TestDb::all().await {
        let app = app_with(&t, config()).await;
        let token = sign_in(&app, REGIONE).await;
        let secret = planted("nota", CODICE_A);

        // Kept for the anonymous first, then asked for by the Region: the Region gets its own
        // page (its notes), never the kept one.
        let page = format!("/comuni/{CODICE_A}");
        let (anon, html) = browse(&app, &page, "gzip").await;
        assert_eq!(cache_state(&anon), Some("miss"));
        assert!(!html.contains(&secret));
        let region = send(&app, get(&page, Some(&token))).await;
        assert_eq!(region.status, StatusCode::OK);
        assert_eq!(cache_state(&region), None, "a signed-in request never reads the cache");
        assert!(region.body.contains(&secret), "the Region sees its note");

        // Asked for by the Region first: nothing kept, and the anonymous visitor after it gets
        // a page rendered for nobody.
        let other = format!("/comuni/{CODICE_B}");
        let region = send(&app, get(&other, Some(&token))).await;
        assert!(region.body.contains(&planted("nota", CODICE_B)));
        let (anon, html) = browse(&app, &other, "gzip").await;
        assert_eq!(cache_state(&anon), Some("miss"), "the Region's request kept nothing");
        assert!(!html.contains(&planted("nota", CODICE_B)) && !html.contains(REGIONE));

        // Any cookie at all, even a stale or foreign one, and the answer is rendered for it.
        for cookie in ["traguardi_sessione=scaduta", "altro=1"] {
            let req = Request::get(&page).header(header::COOKIE, cookie).body(Body::empty()).unwrap();
            let (a, _) = raw(&app, req).await;
            assert_eq!((a.status, cache_state(&a)), (StatusCode::OK, None), "{cookie}");
        }
        // The private views (a server function) and what is not a page are never kept.
        let fetched =
            send(&app, form("/api/comune-riservato", &format!("codice_istat={CODICE_A}"), Some(&token)))
                .await;
        assert_eq!(cache_state(&fetched), None);
        for uri in ["/healthz", "/readyz", "/comuni/999999"] {
            let (a, _) = browse(&app, uri, "gzip").await;
            assert_ne!(cache_state(&a), Some("hit"), "{uri}");
            let (a, _) = browse(&app, uri, "gzip").await;
            assert_ne!(cache_state(&a), Some("hit"), "{uri}: not kept the first time either");
        }
        t.drop_db().await;
    }
}

#[tokio::test]
async fn a_kept_page_admits_exactly_its_own_scripts_by_hash() {
    for t in TestDb::all().await {
        let app = app_with(&t, config()).await;
        for uri in ["/", &format!("/comuni/{CODICE_A}"), "/comuni", "/opendata"] {
            browse(&app, uri, "br").await;
            let (kept, html) = browse(&app, uri, "br").await;
            assert_eq!(cache_state(&kept), Some("hit"), "{uri}");
            let csp = kept.headers[header::CONTENT_SECURITY_POLICY].to_str().unwrap();
            assert!(!csp.contains("'nonce-") && !html.contains(" nonce="), "{uri}: no shared nonce: {csp}");
            let scripts: Vec<&str> = inline_scripts(&html).collect();
            assert!(!scripts.is_empty(), "{uri}: the hydration script is inline");
            let script_src = csp.split(';').find(|d| d.trim().starts_with("script-src")).unwrap();
            let mut allowed: Vec<&str> =
                script_src.split_whitespace().filter(|s| s.starts_with("'sha256-")).collect();
            let mut needed: Vec<String> = scripts.iter().map(|s| script_hash(s)).collect();
            allowed.sort();
            needed.sort();
            needed.dedup();
            assert_eq!(allowed, needed, "{uri}: one hash per inline script, no other");
            // The rest of the policy is the one every page has.
            assert!(csp.contains("default-src 'self'") && csp.contains("'wasm-unsafe-eval'"));
        }
        // A signed-in page keeps its own per-request nonce.
        let token = sign_in(&app, REGIONE).await;
        let page = send(&app, get("/", Some(&token))).await;
        let csp = page.headers[header::CONTENT_SECURITY_POLICY].to_str().unwrap();
        assert!(csp.contains("'nonce-"), "{csp}");
        t.drop_db().await;
    }
}
