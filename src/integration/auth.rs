//! Sign-in, sessions and their protections over HTTP, through the real router, on both backends.

use std::net::SocketAddr;

use axum::{
    body::Body,
    extract::ConnectInfo,
    http::{header, HeaderMap, Request, StatusCode},
    Router,
};
use http_body_util::BodyExt;
use leptos::prelude::LeptosOptions;
use tower::ServiceExt;

use super::TestDb;
use crate::{
    auth::{config::AuthConfig, users, UserForm},
    data::{accounts, Db},
    demo,
    server::router,
    state::AppState,
};

pub const PASSWORD: &str = "Prova-di-accesso-2021";

/// The people every test here can sign in as, plus two referents whose addresses are the
/// private data the authorization tests look for.
pub const REGIONE: &str = "regione@test.invalid";
pub const COMUNE_A: &str = "comune.a@test.invalid";
pub const ASSESSORE: &str = "assessore@test.invalid";
pub const SECRET_A: &str = "referente.segreto.a@test.invalid";
pub const SECRET_B: &str = "referente.segreto.b@test.invalid";
/// Bari and Lecce.
pub const CODICE_A: &str = "072006";
pub const CODICE_B: &str = "075035";

/// The secret planted in one private field (`kind`: `nota`, `file`, `blocco`, …) of one comune:
/// the authorization tests look for it in every answer.
pub fn planted(kind: &str, codice: &str) -> String {
    format!("segreto-{kind}-{codice}")
}

pub async fn add_user(db: &Db, email: &str, role: &str, comuni: &str, fiscal_code: &str) {
    let form = UserForm {
        email: email.into(),
        name: format!("Persona {email}"),
        role: role.into(),
        fiscal_code: fiscal_code.into(),
        comuni: comuni.into(),
        password: PASSWORD.into(),
    };
    users::add(db, &form, false, "cli").await.unwrap_or_else(|e| panic!("add {email}: {e:?}"));
}

/// A demo database with the test accounts, served with `config`.
pub async fn app_with(t: &TestDb, config: AuthConfig) -> Router {
    demo::load(&t.db).await.unwrap();
    add_user(&t.db, REGIONE, "regione", "", "").await;
    add_user(&t.db, COMUNE_A, "comune", CODICE_A, "").await;
    add_user(&t.db, ASSESSORE, "assessore", "", "").await;
    add_user(&t.db, SECRET_A, "comune", CODICE_A, "").await;
    add_user(&t.db, SECRET_B, "comune", CODICE_B, "").await;
    // The Region's notes are private too (the Region's own): each comune's carries its secret,
    // and so does the comune's trail (the note's entry).
    for codice in [CODICE_A, CODICE_B] {
        let body = format!("Richiamare {}", planted("nota", codice));
        crate::data::workspace::write_tx!(&t.db, tx => tx.add_note_in(REGIONE, codice, &body).await?)
            .unwrap();
    }
    // So is their evidence: each comune's file name and content carry a secret, and its
    // uploader is the comune's referent.
    let store = crate::evidence::store::EvidenceStore::memory(crate::evidence::store::DEFAULT_MAX_BYTES);
    for (codice, secret) in [(CODICE_A, SECRET_A), (CODICE_B, SECRET_B)] {
        let key = format!("evidence/{codice}/planted");
        let bytes = format!("%PDF-1.7\n% {}\n%%EOF\n", planted("file", codice));
        object_store::ObjectStoreExt::put(
            &store.store,
            &object_store::path::Path::from(key.as_str()),
            object_store::PutPayload::from(bytes.clone().into_bytes()),
        )
        .await
        .unwrap();
        crate::data::on_db!(&t.db, pool => sqlx::query(
            "INSERT INTO evidence (programme, comune, objective, version, file_name, content_type, size_bytes, sha256, \
             storage_key, uploaded_by, uploaded_at) VALUES ('fondo-innovazione-2020', $1, 'step1_pagopa', 1, $2, \
             'application/pdf', $3, $4, $5, $6, '2026-11-27T08:00:00Z')",
        )
        .bind(codice)
        .bind(format!("verbale {}.pdf", planted("file", codice)))
        .bind(bytes.len() as i64)
        .bind("0".repeat(64))
        .bind(&key)
        .bind(secret)
        .execute(pool)
        .await
        .map(|_| ())
        .unwrap());
    }
    let options = LeptosOptions::builder().output_name("traguardi").build();
    router(AppState::with_auth(options, t.db.clone(), config).with_evidence(store))
}

pub fn local() -> AuthConfig {
    AuthConfig::local("127.0.0.1:3000")
}

pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: String,
}

impl Answer {
    /// The session token this answer sets, if any.
    pub fn session(&self) -> Option<String> {
        self.headers
            .get_all(header::SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|c| c.contains("traguardi_sessione=") && !c.contains("Max-Age=0"))
            .and_then(|c| c.split(';').next())
            .and_then(|kv| kv.split_once('='))
            .map(|(_, v)| v.to_string())
    }

    pub fn location(&self) -> &str {
        self.headers.get(header::LOCATION).and_then(|v| v.to_str().ok()).unwrap_or_default()
    }
}

pub async fn send(app: &Router, req: Request<Body>) -> Answer {
    let response = app.clone().oneshot(req).await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    // A workbook is a zip: its text is what it shows (the authorization matrix looks for
    // private data in it).
    let is_xlsx = headers.get(header::CONTENT_TYPE).is_some_and(|t| t == crate::comuni::export::XLSX_TYPE);
    let body = if is_xlsx { workbook_text(&body) } else { String::from_utf8_lossy(&body).into_owned() };
    Answer { status, headers, body }
}

/// Every XML part of a workbook, one after the other.
pub fn workbook_text(bytes: &[u8]) -> String {
    use std::io::Read;
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).expect("a workbook is a zip");
    let mut text = String::new();
    for i in 0..zip.len() {
        zip.by_index(i).unwrap().read_to_string(&mut text).unwrap();
    }
    text
}

pub fn with_cookie(mut req: Request<Body>, token: Option<&str>) -> Request<Body> {
    if let Some(t) = token {
        req.headers_mut().insert(header::COOKIE, format!("traguardi_sessione={t}").parse().unwrap());
    }
    req
}

pub fn form(uri: &str, body: &str, token: Option<&str>) -> Request<Body> {
    let req = Request::post(uri)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(Body::from(body.to_string()))
        .unwrap();
    with_cookie(req, token)
}

pub fn get(uri: &str, token: Option<&str>) -> Request<Body> {
    with_cookie(Request::get(uri).body(Body::empty()).unwrap(), token)
}

pub fn from_address(mut req: Request<Body>, ip: [u8; 4]) -> Request<Body> {
    req.extensions_mut().insert(ConnectInfo(SocketAddr::from((ip, 40000))));
    req
}

pub fn login_body(email: &str, password: &str) -> String {
    format!("email={}&password={}", email.replace('@', "%40"), password)
}

/// Signs in and returns the session token.
pub async fn sign_in(app: &Router, email: &str) -> String {
    let a = send(app, form("/accedi", &login_body(email, PASSWORD), None)).await;
    assert_eq!(a.status, StatusCode::SEE_OTHER, "sign-in of {email}: {}", a.body);
    a.session().expect("a session cookie")
}

/// Who the server thinks the token belongs to (`None`: anonymous).
pub async fn who(app: &Router, token: &str) -> Option<String> {
    let a = send(app, form("/api/utente-corrente", "", Some(token))).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    let v: serde_json::Value = serde_json::from_str(&a.body).unwrap();
    v.get("email").and_then(|e| e.as_str()).map(str::to_string)
}

/// The page without the per-request nonce (leptos also writes it as `crossorigin`), to compare
/// two answers.
fn without_nonce(html: &str) -> String {
    let mut html = html.to_string();
    for attribute in ["nonce=\"", "crossorigin=\""] {
        let mut out = String::new();
        for (i, part) in html.split(attribute).enumerate() {
            if i == 0 {
                out.push_str(part);
            } else {
                out.push_str(part.split_once('"').map(|(_, rest)| rest).unwrap_or(part));
            }
        }
        html = out;
    }
    html
}

#[tokio::test]
async fn password_sign_in_opens_a_session_with_safe_cookie_attributes() {
    for t in TestDb::all().await {
        let app = app_with(&t, local()).await;
        let a = send(&app, form("/accedi", &(login_body(COMUNE_A, PASSWORD) + "&next=/comuni/072006"), None))
            .await;
        assert_eq!(a.status, StatusCode::SEE_OTHER);
        assert_eq!(a.location(), "/comuni/072006");
        let cookie = a.headers[header::SET_COOKIE].to_str().unwrap().to_string();
        assert!(
            cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax") && cookie.contains("Path=/"),
            "{cookie}"
        );
        assert!(!cookie.contains("Secure"), "plain http on localhost: {cookie}");
        let token = a.session().unwrap();
        assert_eq!(who(&app, &token).await.as_deref(), Some(COMUNE_A));
        // Only the hash is stored.
        let stored: Vec<String> = crate::on_db!(&t.db, pool => sqlx::query_scalar("SELECT token_hash FROM user_session")
            .fetch_all(pool).await.unwrap());
        assert!(!stored.contains(&token) && stored.contains(&crate::auth::session::hash_token(&token)));
        // An absolute or protocol-relative `next` is not followed (no open redirect).
        for next in ["https://evil.example/", "//evil.example/"] {
            let a =
                send(&app, form("/accedi", &(login_body(COMUNE_A, PASSWORD) + "&next=" + next), None)).await;
            assert_eq!(a.location(), "/profilo", "{next}");
        }
        // Signed-in answers are not cached.
        let a = send(&app, get("/profilo", Some(&token))).await;
        assert_eq!(a.headers[header::CACHE_CONTROL], "private, no-store");
        assert!(a.body.contains(COMUNE_A));
        t.drop_db().await;
    }
}

#[tokio::test]
async fn secure_cookies_take_the_host_prefix_under_https() {
    let t = TestDb::sqlite().await;
    let mut config = local();
    config.cookie_secure = true;
    let app = app_with(&t, config).await;
    let a = send(&app, form("/accedi", &login_body(REGIONE, PASSWORD), None)).await;
    let cookie = a.headers[header::SET_COOKIE].to_str().unwrap();
    assert!(cookie.starts_with("__Host-traguardi_sessione=") && cookie.contains("Secure"), "{cookie}");
    t.drop_db().await;
}

#[tokio::test]
async fn unknown_account_and_wrong_password_get_the_same_answer() {
    for t in TestDb::all().await {
        let app = app_with(&t, local()).await;
        let wrong = send(&app, form("/accedi", &login_body(COMUNE_A, "Non-e-la-password-1"), None)).await;
        let unknown =
            send(&app, form("/accedi", &login_body("nessuno@test.invalid", "Non-e-la-password-1"), None))
                .await;
        assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
        assert_eq!(unknown.status, wrong.status);
        assert!(wrong.session().is_none() && unknown.session().is_none());
        assert!(wrong.body.contains("Indirizzo e-mail o password non corretti."));
        // The same page apart from the e-mail typed (kept, so nothing is lost) and the nonce.
        assert_eq!(
            without_nonce(&wrong.body).replace(COMUNE_A, "X"),
            without_nonce(&unknown.body).replace("nessuno@test.invalid", "X")
        );
        assert!(wrong.body.contains(&format!("value=\"{COMUNE_A}\"")), "typed e-mail kept");
        assert!(!wrong.body.contains("Non-e-la-password-1"), "a password is never echoed");
        // A disabled account with its right password: the same answer again.
        accounts::disable_user(&t.db, ASSESSORE, 0, "cli").await.unwrap();
        let disabled = send(&app, form("/accedi", &login_body(ASSESSORE, PASSWORD), None)).await;
        assert_eq!(disabled.status, StatusCode::UNAUTHORIZED);
        assert_eq!(
            without_nonce(&disabled.body).replace(ASSESSORE, "X"),
            without_nonce(&unknown.body).replace("nessuno@test.invalid", "X")
        );
        t.drop_db().await;
    }
}

#[tokio::test]
async fn a_new_session_id_at_every_sign_in_and_none_accepted_from_outside() {
    for t in TestDb::all().await {
        let app = app_with(&t, local()).await;
        // Fixation: a token planted before sign-in is neither kept nor made valid.
        let planted = "attacker-chosen-session-token";
        let a = send(&app, form("/accedi", &login_body(COMUNE_A, PASSWORD), Some(planted))).await;
        let token = a.session().unwrap();
        assert_ne!(token, planted);
        assert_eq!(who(&app, planted).await, None);
        // Signing in again from a signed-in browser replaces its session.
        let again = send(&app, form("/accedi", &login_body(REGIONE, PASSWORD), Some(&token))).await;
        let second = again.session().unwrap();
        assert_ne!(second, token);
        assert_eq!(who(&app, &token).await, None, "the previous session ended");
        assert_eq!(who(&app, &second).await.as_deref(), Some(REGIONE));
        // Sign-out ends it on the server, not only in the browser.
        let out = send(&app, form("/esci", "", Some(&second))).await;
        assert_eq!((out.status, out.location()), (StatusCode::SEE_OTHER, "/accedi?uscita=1"));
        assert!(out.headers[header::SET_COOKIE].to_str().unwrap().contains("Max-Age=0"));
        assert_eq!(who(&app, &second).await, None);
        t.drop_db().await;
    }
}

#[tokio::test]
async fn sessions_end_when_idle_or_too_old() {
    for t in TestDb::all().await {
        let app = app_with(&t, local()).await;
        let config = local();
        for (column, by) in
            [("last_seen_at", config.idle.as_secs() + 5), ("created_at", config.absolute.as_secs() + 5)]
        {
            let token = sign_in(&app, COMUNE_A).await;
            let hash = crate::auth::session::hash_token(&token);
            let sql = format!("UPDATE user_session SET {column} = {column} - $1 WHERE token_hash = $2");
            crate::on_db!(&t.db, pool => sqlx::query(&sql).bind(by as i64).bind(&hash).execute(pool).await.map(|_| ()))
                .unwrap();
            let a = send(&app, get("/profilo", Some(&token))).await;
            assert_eq!(a.status, StatusCode::UNAUTHORIZED, "{column}");
            assert!(a.body.contains("occorre accedere"), "{column}");
            assert!(a.headers[header::SET_COOKIE].to_str().unwrap().contains("Max-Age=0"), "cookie cleared");
            let left: i64 = crate::on_db!(&t.db, pool => sqlx::query_scalar("SELECT COUNT(*) FROM user_session WHERE token_hash = $1")
                .bind(&hash).fetch_one(pool).await.unwrap());
            assert_eq!(left, 0, "{column}: the session row is gone");
        }
        t.drop_db().await;
    }
}

#[tokio::test]
async fn a_disabled_user_is_signed_out_everywhere() {
    for t in TestDb::all().await {
        let app = app_with(&t, local()).await;
        let laptop = sign_in(&app, COMUNE_A).await;
        let phone = sign_in(&app, COMUNE_A).await;
        let manager = sign_in(&app, REGIONE).await;
        // Only the Region may disable; the comune user cannot disable anyone.
        let refused = send(&app, form("/utenti/disattiva", &format!("email={REGIONE}"), Some(&laptop))).await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN);
        let done = send(&app, form("/utenti/disattiva", &format!("email={COMUNE_A}"), Some(&manager))).await;
        assert_eq!((done.status, done.location()), (StatusCode::SEE_OTHER, "/utenti?esito=disattivato"));
        assert_eq!(who(&app, &laptop).await, None);
        assert_eq!(who(&app, &phone).await, None);
        let a = send(&app, form("/accedi", &login_body(COMUNE_A, PASSWORD), None)).await;
        assert_eq!(a.status, StatusCode::UNAUTHORIZED);
        let listed = accounts::list_users(&t.db).await.unwrap();
        assert!(!listed.iter().find(|u| u.email == COMUNE_A).unwrap().enabled);
        t.drop_db().await;
    }
}

#[tokio::test]
async fn a_guesser_is_stopped_with_an_italian_retry_time_and_cannot_lock_the_owner_out() {
    for t in TestDb::all().await {
        let mut config = local();
        config.limit_per_account = 3;
        config.limit_per_ip = 5;
        let app = app_with(&t, config).await;
        let attempt = |email: &str, password: &str, ip: [u8; 4]| {
            from_address(form("/accedi", &login_body(email, password), None), ip)
        };
        for _ in 0..3 {
            let a = send(&app, attempt(COMUNE_A, "Sbagliata-sbagliata-1", [10, 0, 0, 1])).await;
            assert_eq!(a.status, StatusCode::UNAUTHORIZED);
        }
        // The guesser is stopped on this account, even with the right password…
        let locked = send(&app, attempt(COMUNE_A, PASSWORD, [10, 0, 0, 1])).await;
        assert_eq!(locked.status, StatusCode::TOO_MANY_REQUESTS);
        assert!(
            locked.body.contains("Troppi tentativi di accesso") && locked.body.contains("riprova tra"),
            "{}",
            locked.body
        );
        assert!(locked.headers[header::RETRY_AFTER].to_str().unwrap().parse::<u64>().unwrap() >= 1);
        assert!(locked.session().is_none());
        // …but a stranger cannot keep the owner out: from the owner's own address the right
        // password signs in (and a wrong one is still just wrong).
        let owner = send(&app, attempt(COMUNE_A, "Sbagliata-sbagliata-2", [10, 0, 0, 2])).await;
        assert_eq!(owner.status, StatusCode::UNAUTHORIZED);
        let owner = send(&app, attempt(COMUNE_A, PASSWORD, [10, 0, 0, 2])).await;
        assert_eq!(owner.status, StatusCode::SEE_OTHER, "{}: the owner is not locked out", t.db.backend());
        assert!(owner.session().is_some());
        // An unknown account is limited the same way (the limit tells nothing about existence).
        for _ in 0..3 {
            send(&app, attempt("nessuno@test.invalid", "Sbagliata-sbagliata-1", [10, 0, 0, 3])).await;
        }
        let a = send(&app, attempt("nessuno@test.invalid", "Sbagliata-sbagliata-1", [10, 0, 0, 3])).await;
        assert_eq!(a.status, StatusCode::TOO_MANY_REQUESTS);
        // Per address: past the fifth attempt from 10.0.0.3 (four above, plus these) it is
        // refused for any account; another address still signs in.
        send(&app, attempt(ASSESSORE, "Sbagliata-sbagliata-1", [10, 0, 0, 3])).await;
        send(&app, attempt(ASSESSORE, "Sbagliata-sbagliata-1", [10, 0, 0, 3])).await;
        let a = send(&app, attempt(REGIONE, PASSWORD, [10, 0, 0, 3])).await;
        assert_eq!(a.status, StatusCode::TOO_MANY_REQUESTS, "address limit");
        let a = send(&app, attempt(REGIONE, PASSWORD, [10, 0, 0, 9])).await;
        assert_eq!(a.status, StatusCode::SEE_OTHER, "another address is not affected");
        t.drop_db().await;
    }
}

/// Two server processes on one database (two routers, each with its own state, as two
/// `traguardi serve` have) share the sign-in limits: a guesser who alternates between them gets
/// the allowance once. Failed before the limits moved into the database: each process counted
/// its own, so the fourth attempt (the second on each) was still a 401.
#[tokio::test]
async fn two_servers_on_one_database_share_the_sign_in_limits() {
    for t in TestDb::all().await {
        let mut config = local();
        config.limit_per_account = 3;
        config.limit_per_ip = 1000;
        let first = app_with(&t, config.clone()).await;
        let options = LeptosOptions::builder().output_name("traguardi").build();
        let second = router(AppState::with_auth(options, t.db.clone(), config));
        let attempt = |password: &str| {
            from_address(form("/accedi", &login_body(COMUNE_A, password), None), [10, 0, 0, 7])
        };
        for app in [&first, &second, &first] {
            let a = send(app, attempt("Sbagliata-sbagliata-1")).await;
            assert_eq!(a.status, StatusCode::UNAUTHORIZED, "{}", t.db.backend());
        }
        let a = send(&second, attempt(PASSWORD)).await;
        assert_eq!(
            a.status,
            StatusCode::TOO_MANY_REQUESTS,
            "{}: the other server knows the three failures",
            t.db.backend()
        );
        assert!(a.body.contains("Troppi tentativi di accesso"));
        // What is stored names neither the account nor the address.
        let keys: Vec<String> = crate::on_db!(&t.db, pool => sqlx::query_scalar("SELECT limit_key FROM sign_in_limit")
            .fetch_all(pool).await.unwrap());
        assert_eq!(keys.len(), 2, "the address and the account from it: {keys:?}");
        assert!(
            keys.iter().all(|k| !k.contains("10.0.0.7") && !k.contains('@') && k.len() == 64),
            "{keys:?}"
        );
        t.drop_db().await;
    }
}

/// The statement that keeps a limit in the database is the rule of `auth::limit::gcra`, on both
/// backends: the same sequence of attempts (bursts, waits, refusals) gives the same answers and
/// the same stored times; the sweep forgets only what limits nothing any more.
#[tokio::test]
async fn the_stored_sign_in_limit_follows_the_rate_rule() {
    use crate::auth::limit::{gcra, Allowance};
    for t in TestDb::all().await {
        let allowance = Allowance { period_ms: 60_000, burst: 3 };
        let t0 = 1_800_000_000_000_i64;
        let offsets =
            [0, 10, 20, 30, 40, 59_000, 60_030, 61_000, 119_999, 180_100, 181_000, 400_000, 400_001];
        let mut expected: Option<i64> = None;
        for (i, dt) in offsets.into_iter().enumerate() {
            let now = t0 + dt;
            let (tat, wait) = gcra(expected, now, allowance);
            let stored =
                accounts::take_sign_in_token(&t.db, "k", now, allowance.period_ms, allowance.tolerance_ms())
                    .await
                    .unwrap();
            assert_eq!(stored, (tat, wait.is_none()), "{}: attempt {i} at +{dt} ms", t.db.backend());
            expected = Some(tat);
        }
        accounts::take_sign_in_token(&t.db, "idle", t0, allowance.period_ms, 0).await.unwrap();
        let gone = accounts::sweep_sign_in_limits(&t.db, t0 + 400_000).await.unwrap();
        assert_eq!(gone, 1, "{}: only the key whose time has passed", t.db.backend());
        t.drop_db().await;
    }
}

#[tokio::test]
async fn sign_in_from_another_site_is_refused() {
    let t = TestDb::sqlite().await;
    let app = app_with(&t, local()).await;
    for uri in ["/accedi", "/esci", "/utenti", "/accedi/oidc", "/api/utenti"] {
        let mut req = form(uri, &login_body(REGIONE, PASSWORD), None);
        req.headers_mut().insert("sec-fetch-site", "cross-site".parse().unwrap());
        req.headers_mut().insert("origin", "https://evil.example".parse().unwrap());
        let a = send(&app, req).await;
        assert_eq!(a.status, StatusCode::FORBIDDEN, "{uri}");
        assert!(a.session().is_none());
        assert!(a.body.contains("proviene da un altro sito"), "{uri}");
    }
    t.drop_db().await;
}

#[tokio::test]
async fn demo_accounts_work_only_on_a_demo_database() {
    for t in TestDb::all().await {
        // The demo without the test accounts (real ones: the first would end the demo).
        demo::load(&t.db).await.unwrap();
        let options = LeptosOptions::builder().output_name("traguardi").build();
        let app = router(AppState::with_auth(options, t.db.clone(), local()));
        let lines = users::ensure_demo_accounts(&t.db).await.unwrap();
        assert_eq!(lines.len(), 3);
        let (email, _, _, _, password) = users::DEMO_ACCOUNTS[0];
        let a = send(&app, form("/accedi", &login_body(email, password), None)).await;
        assert_eq!(a.status, StatusCode::SEE_OTHER);
        let token = a.session().unwrap();
        // The same database stops being a demo one behind the application's back (a copy of
        // the mark from elsewhere): the demo accounts are still refused, and their sessions end.
        crate::on_db!(&t.db, pool => sqlx::query("UPDATE app_meta SET value = 'real' WHERE key = 'dataset'")
            .execute(pool).await.map(|_| ()))
        .unwrap();
        assert_eq!(who(&app, &token).await, None, "the open demo session ends");
        let a = send(&app, form("/accedi", &login_body(email, password), None)).await;
        assert_eq!(a.status, StatusCode::UNAUTHORIZED);
        assert!(users::ensure_demo_accounts(&t.db).await.is_err(), "none are created on real data");
        // Real accounts are unaffected.
        add_user(&t.db, REGIONE, "regione", "", "").await;
        sign_in(&app, REGIONE).await;
        t.drop_db().await;
    }
}

#[tokio::test]
async fn the_region_creates_accounts_and_bad_input_comes_back_with_messages() {
    for t in TestDb::all().await {
        let app = app_with(&t, local()).await;
        let manager = sign_in(&app, REGIONE).await;
        let bad = "email=nuovo%40test.invalid&name=Nuova+Persona&role=comune&fiscal_code=ABC&comuni=999999";
        let a = send(&app, form("/utenti", bad, Some(&manager))).await;
        assert_eq!(a.status, StatusCode::BAD_REQUEST);
        assert!(
            a.body.contains("L&#x27;utente non è stato creato")
                || a.body.contains("L'utente non è stato creato"),
            "{}",
            a.body
        );
        assert!(a.body.contains("Il codice fiscale deve avere 16 lettere e cifre."));
        assert!(a.body.contains("value=\"Nuova Persona\""), "typed values kept");
        let good = "email=Nuovo%40Test.invalid&name=Nuova+Persona&role=comune&fiscal_code=rssmra80a01h501u&comuni=72006%2C+75035&password=";
        let a = send(&app, form("/utenti", good, Some(&manager))).await;
        assert_eq!((a.status, a.location()), (StatusCode::SEE_OTHER, "/utenti?esito=creato"), "{}", a.body);
        let created = accounts::list_users(&t.db)
            .await
            .unwrap()
            .into_iter()
            .find(|u| u.email == "nuovo@test.invalid")
            .unwrap();
        assert_eq!(created.comuni, vec!["072006".to_string(), "075035".to_string()]);
        assert_eq!(created.fiscal_code.as_deref(), Some("RSSMRA80A01H501U"));
        assert!(!created.has_password);
        let dup = send(&app, form("/utenti", good, Some(&manager))).await;
        assert_eq!(dup.status, StatusCode::BAD_REQUEST);
        assert!(dup.body.contains("Esiste già un utente"));
        // Others cannot create accounts.
        let assessore = sign_in(&app, ASSESSORE).await;
        assert_eq!(send(&app, form("/utenti", good, Some(&assessore))).await.status, StatusCode::FORBIDDEN);
        assert_eq!(send(&app, form("/utenti", good, None)).await.status, StatusCode::UNAUTHORIZED);
        t.drop_db().await;
    }
}

#[tokio::test]
async fn the_command_line_adds_lists_and_disables_accounts() {
    use crate::auth::cli::{run, UserCommand};
    for t in TestDb::all().await {
        let app = app_with(&t, local()).await;
        let add = |email: &str, comuni: Vec<String>| UserCommand::Add {
            email: email.into(),
            name: "Referente da riga di comando".into(),
            role: "comune".into(),
            comuni,
            fiscal_code: Some("rssmra80a01h501u".into()),
            password_stdin: false,
            demo: false,
        };
        let ok = format!("{:?}", std::process::ExitCode::SUCCESS);
        let failed = format!("{:?}", std::process::ExitCode::FAILURE);
        let code = run(&t.db, add("cli@test.invalid", vec!["72006".into(), "075035".into()])).await.unwrap();
        assert_eq!(format!("{code:?}"), ok);
        let u = accounts::list_users(&t.db)
            .await
            .unwrap()
            .into_iter()
            .find(|u| u.email == "cli@test.invalid")
            .unwrap();
        assert_eq!(
            (u.comuni.len(), u.fiscal_code.as_deref(), u.has_password),
            (2, Some("RSSMRA80A01H501U"), false)
        );
        // Refused, with nothing written: an unknown comune, then a duplicate fiscal code.
        let code = run(&t.db, add("altro@test.invalid", vec!["999999".into()])).await.unwrap();
        assert_eq!(format!("{code:?}"), failed);
        let code = run(&t.db, add("altro@test.invalid", vec!["072006".into()])).await.unwrap();
        assert_eq!(format!("{code:?}"), failed, "same fiscal code as cli@");
        assert!(!accounts::list_users(&t.db).await.unwrap().iter().any(|u| u.email == "altro@test.invalid"));
        assert_eq!(format!("{:?}", run(&t.db, UserCommand::List).await.unwrap()), ok);
        // Disabling from the command line ends the sessions the web server knows.
        let token = sign_in(&app, COMUNE_A).await;
        let code = run(&t.db, UserCommand::Disable { email: COMUNE_A.to_uppercase() }).await.unwrap();
        assert_eq!(format!("{code:?}"), ok);
        assert_eq!(who(&app, &token).await, None);
        let code = run(&t.db, UserCommand::Disable { email: "nessuno@test.invalid".into() }).await.unwrap();
        assert_eq!(format!("{code:?}"), failed);
        t.drop_db().await;
    }
}

/// A value as a form field (`application/x-www-form-urlencoded`).
pub fn field(value: &str) -> String {
    openidconnect::url::form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

#[tokio::test]
async fn hostile_return_paths_after_a_password_sign_in_lead_to_the_profile() {
    // The check is not the database's: SQLite only.
    let t = TestDb::sqlite().await;
    let mut config = local();
    config.limit_per_account = 1000;
    config.limit_per_ip = 1000;
    let app = app_with(&t, config).await;
    for bad in crate::auth::redirect::HOSTILE_RETURNS {
        let body = login_body(COMUNE_A, PASSWORD) + "&next=" + &field(bad);
        let a = send(&app, form("/accedi", &body, None)).await;
        assert_eq!((a.status, a.location()), (StatusCode::SEE_OTHER, "/profilo"), "{bad:?}: {}", a.body);
        assert!(a.session().is_some(), "{bad:?}");
    }
    // A refused sign-in keeps `next` in its hidden field: the checked one, never the hostile one.
    let body = login_body(COMUNE_A, "Non-e-la-password-1") + "&next=" + &field("/\t/evil.example");
    let a = send(&app, form("/accedi", &body, None)).await;
    assert_eq!(a.status, StatusCode::UNAUTHORIZED);
    assert!(!a.body.contains("evil.example"), "{}", a.body);
    t.drop_db().await;
}

/// Rows of `user_session` for one person.
async fn sessions_of(db: &Db, email: &str) -> i64 {
    crate::on_db!(db, pool => sqlx::query_scalar(
        "SELECT COUNT(*) FROM user_session s JOIN app_user u ON u.id = s.user_id WHERE u.email = $1",
    )
    .bind(email)
    .fetch_one(pool)
    .await
    .unwrap())
}

#[tokio::test]
async fn a_password_change_ends_the_other_sessions_and_a_reset_ends_them_all() {
    use crate::auth::{cli::reset_password, password, session::hash_token};
    for t in TestDb::all().await {
        let mut config = local();
        config.limit_per_account = 1000;
        let app = app_with(&t, config).await;
        let laptop = sign_in(&app, COMUNE_A).await;
        let phone = sign_in(&app, COMUNE_A).await;
        let someone_else = sign_in(&app, REGIONE).await;
        // Changed by the person from the laptop: the phone is signed out at once, the laptop
        // stays signed in.
        let hash = password::hash("Una-nuova-frase-segreta-1".into()).await.unwrap();
        let ended = accounts::set_password(&t.db, COMUNE_A, &hash, COMUNE_A, Some(&hash_token(&laptop)))
            .await
            .unwrap();
        assert_eq!(ended, Some(1));
        assert_eq!(who(&app, &phone).await, None, "the other session ended");
        let a = send(&app, get("/profilo", Some(&phone))).await;
        assert_eq!(a.status, StatusCode::UNAUTHORIZED);
        assert_eq!(who(&app, &laptop).await.as_deref(), Some(COMUNE_A), "the current one goes on");
        assert_eq!(who(&app, &someone_else).await.as_deref(), Some(REGIONE), "nobody else's");
        // Reset from the command line: every session of the person ends, the new password works
        // and the old one no longer does.
        let phone = sign_in_with(&app, COMUNE_A, "Una-nuova-frase-segreta-1").await;
        assert_eq!(sessions_of(&t.db, COMUNE_A).await, 2);
        let ended = reset_password(&t.db, " Comune.A@test.invalid ", "Reimpostata-dalla-Regione-2".into())
            .await
            .unwrap();
        assert_eq!(ended, Ok(2));
        assert_eq!(who(&app, &laptop).await, None);
        assert_eq!(who(&app, &phone).await, None);
        assert_eq!(sessions_of(&t.db, COMUNE_A).await, 0);
        assert_eq!(who(&app, &someone_else).await.as_deref(), Some(REGIONE));
        let old = send(&app, form("/accedi", &login_body(COMUNE_A, "Una-nuova-frase-segreta-1"), None)).await;
        assert_eq!(old.status, StatusCode::UNAUTHORIZED);
        sign_in_with(&app, COMUNE_A, "Reimpostata-dalla-Regione-2").await;
        // Refused without a change: the rule, an unknown account.
        assert!(reset_password(&t.db, COMUNE_A, "corta".into()).await.unwrap().is_err());
        assert!(reset_password(&t.db, "nessuno@test.invalid", "Una-frase-lunga-abbastanza".into())
            .await
            .unwrap()
            .is_err());
        assert_eq!(sessions_of(&t.db, COMUNE_A).await, 1);
        t.drop_db().await;
    }
}

/// Signs in with a given password and returns the session token.
async fn sign_in_with(app: &Router, email: &str, password: &str) -> String {
    let a = send(app, form("/accedi", &login_body(email, password), None)).await;
    assert_eq!(a.status, StatusCode::SEE_OTHER, "sign-in of {email}: {}", a.body);
    a.session().expect("a session cookie")
}

/// `/utenti` lists the accounts a page at a time with the total in words; each account on a
/// page shows its own comuni (read for that page only). Before, every account and every link to
/// a comune was read and sent at once.
#[tokio::test]
async fn the_users_are_paginated_with_their_total_and_their_comuni() {
    for t in TestDb::all().await {
        let backend = t.db.backend();
        let app = app_with(&t, local()).await;
        let before = accounts::list_users(&t.db).await.unwrap().len();
        for i in 0..60 {
            let user = accounts::NewUser {
                email: format!("pagina.{i:02}@test.invalid"),
                name: format!("Utente {i:02}"),
                role: crate::auth::Role::Comune,
                fiscal_code: None,
                comuni: vec![if i % 2 == 0 { CODICE_A } else { CODICE_B }.to_string()],
                password: None,
                demo: false,
            };
            accounts::insert_user(&t.db, &user, 1_700_000_000, "cli").await.unwrap();
        }
        let total = before + 60;
        let manager = sign_in(&app, REGIONE).await;
        let listed = |body: &str| -> Vec<usize> {
            (0..60).filter(|i| body.contains(&format!("pagina.{i:02}@test.invalid"))).collect()
        };
        let first = send(&app, get("/utenti", Some(&manager))).await;
        assert_eq!(first.status, StatusCode::OK, "{backend}");
        assert!(
            first.body.contains(&format!(
                "{total} utenti registrati, per ruolo e nome. Pagina 1: righe 1–50 di {total}."
            )),
            "{backend}"
        );
        assert!(first.body.contains("href=\"/utenti?pagina=2\""), "{backend}");
        let second = send(&app, get("/utenti?pagina=2", Some(&manager))).await;
        assert_eq!(second.status, StatusCode::OK, "{backend}");
        let (a, b) = (listed(&first.body), listed(&second.body));
        assert_eq!(a.len() + b.len(), 60, "{backend}: each account on one page: {a:?} {b:?}");
        assert!(a.iter().all(|i| !b.contains(i)), "{backend}");
        // Each account of the page with its own comuni, as the whole list has them.
        let (page, n) = accounts::users_page(&t.db, 50, 50).await.unwrap();
        assert_eq!(n, total, "{backend}");
        assert_eq!(page.len(), total - 50, "{backend}");
        let all = accounts::list_users(&t.db).await.unwrap();
        for u in &page {
            let same = all.iter().find(|x| x.email == u.email).unwrap();
            assert_eq!(u.comuni, same.comuni, "{backend}: {}", u.email);
        }
        assert_eq!(
            page.iter().map(|u| u.email.clone()).collect::<Vec<_>>(),
            all[50..].iter().map(|u| u.email.clone()).collect::<Vec<_>>(),
            "{backend}: the same order"
        );
        assert!(
            all.iter().filter(|u| u.email.starts_with("pagina.")).all(|u| u.comuni.len() == 1),
            "{backend}"
        );
        let bad = send(&app, get("/utenti?pagina=-3", Some(&manager))).await;
        assert_eq!(bad.status, StatusCode::BAD_REQUEST, "{backend}");
        t.drop_db().await;
    }
}
