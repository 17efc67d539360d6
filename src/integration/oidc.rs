//! OIDC sign-in against a small, real OpenID provider started here on 127.0.0.1: discovery,
//! JWKS, token and userinfo endpoints over HTTP, ID tokens signed with a test RSA key
//! (`fixtures/oidc-test-key.pem`, used by nothing else). The test decides what the provider
//! answers, so tampered state, a wrong nonce and an expired ID token can each be tried.
//! (The browser test in end2end/ signs in through the npm `oidc-provider` as well.)

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
};

use axum::{
    extract::{Form, State},
    http::{header, HeaderMap, StatusCode},
    routing::{get, post},
    Json, Router,
};
use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use openidconnect::{
    core::{
        CoreGenderClaim, CoreJweContentEncryptionAlgorithm, CoreJwsSigningAlgorithm, CoreRsaPrivateSigningKey,
    },
    AdditionalClaims, Audience, EndUserEmail, IdToken, IdTokenClaims, IssuerUrl, JsonWebKeyId, Nonce,
    PrivateSigningKey, StandardClaims, SubjectIdentifier,
};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use super::{
    auth::{
        app_with, field, form, from_address, get as get_req, login_body, send, who, Answer, COMUNE_A,
        PASSWORD, REGIONE,
    },
    TestDb,
};
use crate::{
    auth::{
        config::{AuthConfig, OidcConfig},
        redirect::HOSTILE_RETURNS,
        session::hash_token,
    },
    data::{accounts, on_db, Db},
};

const KEY_PEM: &str = include_str!("fixtures/oidc-test-key.pem");
const CLIENT_ID: &str = "traguardi-test";
const CLIENT_SECRET: &str = "segreto-di-prova";
const FISCAL_CLAIM: &str = "https://attributes.eid.gov.it/fiscal_number";

#[derive(Clone, Debug, Default, Deserialize, Serialize)]
struct Extra {
    #[serde(flatten)]
    rest: HashMap<String, Value>,
}
impl AdditionalClaims for Extra {}

/// What the provider will answer next.
#[derive(Clone, Debug, Default)]
struct Script {
    subject: String,
    email: Option<String>,
    fiscal_number: Option<String>,
    /// The `email_verified` claim sent with the address (`None`: not sent at all).
    email_verified: Option<bool>,
    /// Put the claims in the ID token (else only in userinfo).
    claims_in_id_token: bool,
    wrong_nonce: bool,
    expired: bool,
    /// Set by "the browser" visiting the authorization endpoint.
    nonce: String,
    code_challenge: String,
}

#[derive(Clone)]
struct Idp {
    issuer: String,
    script: Arc<Mutex<Script>>,
}

fn key() -> CoreRsaPrivateSigningKey {
    CoreRsaPrivateSigningKey::from_pem(KEY_PEM, Some(JsonWebKeyId::new("test-key".into()))).unwrap()
}

async fn discovery(State(idp): State<Idp>) -> Json<Value> {
    let i = &idp.issuer;
    Json(json!({
        "issuer": i,
        "authorization_endpoint": format!("{i}/auth"),
        "token_endpoint": format!("{i}/token"),
        "userinfo_endpoint": format!("{i}/me"),
        "jwks_uri": format!("{i}/jwks"),
        "end_session_endpoint": format!("{i}/session/end"),
        "response_types_supported": ["code"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "code_challenge_methods_supported": ["S256"],
    }))
}

async fn jwks() -> Json<Value> {
    Json(json!({ "keys": [serde_json::to_value(key().as_verification_key()).unwrap()] }))
}

async fn token(
    State(idp): State<Idp>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> (StatusCode, Json<Value>) {
    let s = idp.script.lock().unwrap().clone();
    let authorised = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).is_some_and(|v| {
        v == format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(format!("{CLIENT_ID}:{CLIENT_SECRET}"))
        )
    });
    // PKCE: the verifier must hash to the challenge the authorization request carried.
    let verifier = form.get("code_verifier").cloned().unwrap_or_default();
    let pkce_ok = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes())) == s.code_challenge;
    if !authorised || !pkce_ok || form.get("grant_type").map(String::as_str) != Some("authorization_code") {
        return (StatusCode::BAD_REQUEST, Json(json!({ "error": "invalid_grant" })));
    }
    let now = chrono::Utc::now();
    let (iat, exp) = if s.expired {
        (now - chrono::Duration::minutes(20), now - chrono::Duration::minutes(10))
    } else {
        (now, now + chrono::Duration::minutes(5))
    };
    let mut standard = StandardClaims::new(SubjectIdentifier::new(s.subject.clone()));
    let mut extra = Extra::default();
    if s.claims_in_id_token {
        standard =
            standard.set_email(s.email.clone().map(EndUserEmail::new)).set_email_verified(s.email_verified);
        if let Some(cf) = &s.fiscal_number {
            extra.rest.insert(FISCAL_CLAIM.into(), json!(cf));
        }
    }
    let nonce = if s.wrong_nonce { "a-different-nonce".to_string() } else { s.nonce.clone() };
    let claims = IdTokenClaims::<Extra, CoreGenderClaim>::new(
        IssuerUrl::new(idp.issuer.clone()).unwrap(),
        vec![Audience::new(CLIENT_ID.into())],
        exp,
        iat,
        standard,
        extra,
    )
    .set_nonce(Some(Nonce::new(nonce)));
    let id_token = IdToken::<
        Extra,
        CoreGenderClaim,
        CoreJweContentEncryptionAlgorithm,
        CoreJwsSigningAlgorithm,
    >::new(claims, &key(), CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256, None, None)
    .unwrap();
    (
        StatusCode::OK,
        Json(json!({
            "access_token": "access-token-di-prova",
            "token_type": "Bearer",
            "expires_in": 300,
            "id_token": id_token.to_string(),
        })),
    )
}

async fn userinfo(State(idp): State<Idp>, headers: HeaderMap) -> (StatusCode, Json<Value>) {
    let s = idp.script.lock().unwrap().clone();
    if headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok())
        != Some("Bearer access-token-di-prova")
    {
        return (StatusCode::UNAUTHORIZED, Json(json!({ "error": "invalid_token" })));
    }
    let mut body = json!({ "sub": s.subject });
    if let Some(e) = &s.email {
        body["email"] = json!(e);
    }
    if let Some(v) = s.email_verified {
        body["email_verified"] = json!(v);
    }
    if let Some(cf) = &s.fiscal_number {
        body[FISCAL_CLAIM] = json!(cf);
    }
    (StatusCode::OK, Json(body))
}

async fn start_idp(script: Script) -> Idp {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let issuer = format!("http://{}", listener.local_addr().unwrap());
    let idp = Idp { issuer, script: Arc::new(Mutex::new(script)) };
    let app = Router::new()
        .route("/.well-known/openid-configuration", get(discovery))
        .route("/jwks", get(jwks))
        .route("/token", post(token))
        .route("/me", get(userinfo))
        .with_state(idp.clone());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    idp
}

fn config_for(idp: &Idp) -> AuthConfig {
    let mut config = AuthConfig::local("127.0.0.1:3000");
    config.oidc = Some(OidcConfig {
        issuer: idp.issuer.clone(),
        client_id: CLIENT_ID.into(),
        client_secret: Some(CLIENT_SECRET.into()),
        redirect_url: "http://127.0.0.1:3000/accedi/oidc/callback".into(),
        fiscal_code_claim: FISCAL_CLAIM.into(),
        scopes: vec!["openid".into(), "email".into(), "profile".into()],
        label: "Entra con SPID, CIE o CNS".into(),
    });
    config
}

/// The registered comune user the provider's identity points to.
const REFERENTE: &str = "referente.oidc@test.invalid";
const CF: &str = "RSSRSO80A41A662K";

struct Flow {
    state: String,
    binding: String,
}

/// Presses the button and plays the provider's authorization step: records the nonce and the
/// PKCE challenge the application sent.
async fn begin(app: &Router, idp: &Idp, next: &str) -> Flow {
    let a = send(app, form("/accedi/oidc", &format!("next={next}"), None)).await;
    assert_eq!(a.status, StatusCode::SEE_OTHER, "{}", a.body);
    let url = openidconnect::url::Url::parse(a.location()).unwrap();
    assert!(url.as_str().starts_with(&format!("{}/auth?", idp.issuer)), "{url}");
    let q: HashMap<String, String> = url.query_pairs().into_owned().collect();
    assert_eq!(q["response_type"], "code");
    assert_eq!(q["client_id"], CLIENT_ID);
    assert_eq!(q["code_challenge_method"], "S256");
    assert!(q["scope"].split(' ').any(|s| s == "openid"));
    assert!(q["state"].len() >= 16 && q["nonce"].len() >= 16);
    {
        let mut s = idp.script.lock().unwrap();
        s.nonce = q["nonce"].clone();
        s.code_challenge = q["code_challenge"].clone();
    }
    let binding = a
        .headers
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|c| c.strip_prefix("traguardi_oidc="))
        .and_then(|c| c.split(';').next())
        .expect("a browser-binding cookie")
        .to_string();
    Flow { state: q["state"].clone(), binding }
}

async fn callback(app: &Router, idp: &Idp, state: &str, binding: Option<&str>) -> Answer {
    let uri =
        format!("/accedi/oidc/callback?code=codice-di-prova&state={}&iss={}", state, url_escape(&idp.issuer));
    let mut req = get_req(&uri, None);
    if let Some(b) = binding {
        req.headers_mut().insert(header::COOKIE, format!("traguardi_oidc={b}").parse().unwrap());
    }
    send(app, req).await
}

fn url_escape(s: &str) -> String {
    openidconnect::url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

async fn setup(t: &TestDb, script: Script) -> (Router, Idp) {
    setup_with(t, script, |_| {}).await
}

/// `setup`, with the configuration adjusted first.
async fn setup_with(t: &TestDb, script: Script, adjust: impl FnOnce(&mut AuthConfig)) -> (Router, Idp) {
    let idp = start_idp(script).await;
    let mut config = config_for(&idp);
    adjust(&mut config);
    let app = app_with(t, config).await;
    super::auth::add_user(&t.db, REFERENTE, "comune", "072006", CF).await;
    (app, idp)
}

fn bari_referent(claims_in_id_token: bool) -> Script {
    Script {
        subject: "comune.bari".into(),
        email: Some("un.altro.indirizzo@example.org".into()),
        fiscal_number: Some(format!("TINIT-{CF}")),
        email_verified: Some(true),
        claims_in_id_token,
        ..Script::default()
    }
}

#[tokio::test]
async fn a_registered_person_signs_in_by_fiscal_code_through_the_provider() {
    // Claims in the ID token, or only from the userinfo endpoint (as `oidc-provider` does).
    for claims_in_id_token in [true, false] {
        for t in TestDb::all().await {
            let (app, idp) = setup(&t, bari_referent(claims_in_id_token)).await;
            let flow = begin(&app, &idp, "/comuni/072006").await;
            let a = callback(&app, &idp, &flow.state, Some(&flow.binding)).await;
            assert_eq!((a.status, a.location()), (StatusCode::SEE_OTHER, "/comuni/072006"), "{}", a.body);
            let token = a.session().expect("a session");
            assert_eq!(who(&app, &token).await.as_deref(), Some(REFERENTE));
            // The page shows the comune's private section to its referent.
            let page = send(&app, get_req("/comuni/072006", Some(&token))).await;
            assert!(page.body.contains("Area riservata"));
            // Sign-out goes on to the provider's end-session endpoint with the ID token hint.
            let out = send(&app, form("/esci", "", Some(&token))).await;
            assert!(
                out.location().starts_with(&format!("{}/session/end?id_token_hint=", idp.issuer)),
                "{}",
                out.location()
            );
            assert!(out.location().contains("post_logout_redirect_uri=http%3A%2F%2F127.0.0.1%3A3000%2F"));
            assert_eq!(who(&app, &token).await, None);
            // Each state works once.
            let replay = callback(&app, &idp, &flow.state, Some(&flow.binding)).await;
            assert_eq!(replay.location(), "/accedi?errore=oidc-non-valido");
            t.drop_db().await;
        }
    }
}

#[tokio::test]
async fn an_identity_that_was_not_registered_is_refused() {
    for t in TestDb::all().await {
        let script = Script {
            subject: "sconosciuto".into(),
            email: Some("nessuno@example.org".into()),
            fiscal_number: Some("TINIT-NSSNSS80A01F205X".into()),
            email_verified: Some(true),
            claims_in_id_token: true,
            ..Script::default()
        };
        let (app, idp) = setup(&t, script).await;
        let flow = begin(&app, &idp, "/profilo").await;
        let a = callback(&app, &idp, &flow.state, Some(&flow.binding)).await;
        assert_eq!(a.location(), "/accedi?errore=oidc-non-registrato");
        assert!(a.session().is_none());
        let page = send(&app, get_req("/accedi?errore=oidc-non-registrato", None)).await;
        assert!(page.body.contains("non risulta registrata in Traguardi"));
        // The sign-in form may lead to the provider (browsers apply form-action to redirects).
        let csp = page.headers[header::CONTENT_SECURITY_POLICY].to_str().unwrap();
        assert!(csp.contains(&format!("form-action 'self' {}", idp.issuer)), "{csp}");
        assert!(page.body.contains("Entra con SPID, CIE o CNS"));
        t.drop_db().await;
    }
}

#[tokio::test]
async fn tampered_state_wrong_nonce_and_expired_tokens_are_refused() {
    for t in TestDb::all().await {
        let (app, idp) = setup(&t, bari_referent(true)).await;
        let refused = |a: &Answer| a.location() == "/accedi?errore=oidc-non-valido" && a.session().is_none();

        // A state the application never issued.
        let flow = begin(&app, &idp, "/profilo").await;
        let a = callback(&app, &idp, &format!("{}x", flow.state), Some(&flow.binding)).await;
        assert!(refused(&a), "tampered state: {}", a.location());

        // The right state, from a browser that did not start the sign-in (login CSRF).
        let flow = begin(&app, &idp, "/profilo").await;
        let a = callback(&app, &idp, &flow.state, None).await;
        assert!(refused(&a), "missing binding cookie");

        // An ID token for another sign-in (wrong nonce).
        idp.script.lock().unwrap().wrong_nonce = true;
        let flow = begin(&app, &idp, "/profilo").await;
        let a = callback(&app, &idp, &flow.state, Some(&flow.binding)).await;
        assert!(refused(&a), "wrong nonce");
        idp.script.lock().unwrap().wrong_nonce = false;

        // An expired ID token.
        idp.script.lock().unwrap().expired = true;
        let flow = begin(&app, &idp, "/profilo").await;
        let a = callback(&app, &idp, &flow.state, Some(&flow.binding)).await;
        assert!(refused(&a), "expired ID token");
        idp.script.lock().unwrap().expired = false;

        // A callback claiming another issuer (RFC 9207 mix-up defence).
        let flow = begin(&app, &idp, "/profilo").await;
        let uri = format!("/accedi/oidc/callback?code=c&state={}&iss=https%3A%2F%2Fevil.example", flow.state);
        let mut req = get_req(&uri, None);
        req.headers_mut().insert(header::COOKIE, format!("traguardi_oidc={}", flow.binding).parse().unwrap());
        assert!(refused(&send(&app, req).await), "other issuer");

        // The provider said no (the person cancelled).
        let a = send(&app, get_req("/accedi/oidc/callback?error=access_denied&state=x", None)).await;
        assert_eq!(a.location(), "/accedi?errore=oidc-annullato");

        // And after all that, an honest sign-in still works.
        let flow = begin(&app, &idp, "/profilo").await;
        let a = callback(&app, &idp, &flow.state, Some(&flow.binding)).await;
        assert_eq!(a.location(), "/profilo");
        let no_sessions_before: i64 = crate::on_db!(&t.db, pool => sqlx::query_scalar("SELECT COUNT(*) FROM user_session")
            .fetch_one(pool).await.unwrap());
        assert_eq!(no_sessions_before, 1, "only the honest sign-in opened a session");
        t.drop_db().await;
    }
}

/// What a refused sign-in must leave as it was: the accounts, the sessions, the trail.
async fn accounts_fingerprint(db: &Db) -> (Vec<accounts::UserRow>, i64, i64) {
    let users = accounts::list_users(db).await.unwrap();
    let count = |table: &'static str| async move {
        on_db!(db, pool => sqlx::query_scalar::<_, i64>(&format!("SELECT COUNT(*) FROM {table}"))
            .fetch_one(pool)
            .await
            .unwrap())
    };
    (users, count("user_session").await, count("audit_entry").await)
}

/// Plays one sign-in with `script` as the provider's answer.
async fn sign_in_as(app: &Router, idp: &Idp, script: Script) -> Answer {
    *idp.script.lock().unwrap() = script;
    let flow = begin(app, idp, "/comuni/072006").await;
    callback(app, idp, &flow.state, Some(&flow.binding)).await
}

#[tokio::test]
async fn an_account_with_a_fiscal_code_is_reached_by_that_fiscal_code_only() {
    for claims_in_id_token in [true, false] {
        for t in TestDb::all().await {
            let (app, idp) = setup(&t, Script::default()).await;
            let before = accounts_fingerprint(&t.db).await;
            // Someone with another fiscal code, or with none, and the registered person's
            // address, verified by the provider: refused, and nothing is written.
            for fiscal_number in [Some("TINIT-NSSNSS80A01F205X".to_string()), None] {
                let script = Script {
                    subject: "impostore".into(),
                    email: Some(REFERENTE.into()),
                    fiscal_number: fiscal_number.clone(),
                    email_verified: Some(true),
                    claims_in_id_token,
                    ..Script::default()
                };
                let a = sign_in_as(&app, &idp, script).await;
                assert_eq!(a.location(), "/accedi?errore=oidc-non-registrato", "{fiscal_number:?}");
                assert!(a.session().is_none(), "{fiscal_number:?}");
            }
            assert_eq!(accounts_fingerprint(&t.db).await, before, "no session, no account, no change");
            // The registered person's own fiscal code opens it, whatever the address.
            let a = sign_in_as(&app, &idp, bari_referent(claims_in_id_token)).await;
            assert_eq!(a.location(), "/comuni/072006");
            assert_eq!(who(&app, &a.session().unwrap()).await.as_deref(), Some(REFERENTE));
            t.drop_db().await;
        }
    }
}

#[tokio::test]
async fn the_address_opens_an_account_without_fiscal_code_only_when_stated_verified() {
    for claims_in_id_token in [true, false] {
        for t in TestDb::all().await {
            let (app, idp) = setup(&t, Script::default()).await;
            // COMUNE_A was registered by e-mail alone (no fiscal code).
            let as_comune_a = |email_verified: Option<bool>| Script {
                subject: "comune.a".into(),
                email: Some(COMUNE_A.to_uppercase()),
                fiscal_number: None,
                email_verified,
                claims_in_id_token,
                ..Script::default()
            };
            let before = accounts_fingerprint(&t.db).await;
            // `email_verified` missing (not a yes), or false.
            for verified in [None, Some(false)] {
                let a = sign_in_as(&app, &idp, as_comune_a(verified)).await;
                assert_eq!(a.location(), "/accedi?errore=oidc-non-registrato", "{verified:?}");
                assert!(a.session().is_none(), "{verified:?}");
            }
            assert_eq!(accounts_fingerprint(&t.db).await, before);
            // Stated true: signed in.
            let a = sign_in_as(&app, &idp, as_comune_a(Some(true))).await;
            assert_eq!((a.status, a.location()), (StatusCode::SEE_OTHER, "/comuni/072006"), "{}", a.body);
            assert_eq!(who(&app, &a.session().unwrap()).await.as_deref(), Some(COMUNE_A));
            t.drop_db().await;
        }
    }
}

#[tokio::test]
async fn a_callback_from_another_browser_does_not_use_up_the_sign_in() {
    for t in TestDb::all().await {
        let (app, idp) = setup(&t, bari_referent(true)).await;
        // The attacker's own sign-in gives them a binding cookie of their own.
        let attacker = begin(&app, &idp, "/profilo").await;
        let victim = begin(&app, &idp, "/comuni/072006").await;
        for cookie in [None, Some(""), Some("un-altro-browser"), Some(attacker.binding.as_str())] {
            let a = callback(&app, &idp, &victim.state, cookie).await;
            assert_eq!(a.location(), "/accedi?errore=oidc-non-valido", "{cookie:?}");
            assert!(a.session().is_none(), "{cookie:?}");
        }
        // The victim's own browser comes back afterwards: its sign-in is still there.
        let a = callback(&app, &idp, &victim.state, Some(&victim.binding)).await;
        assert_eq!((a.status, a.location()), (StatusCode::SEE_OTHER, "/comuni/072006"), "{}", a.body);
        assert_eq!(who(&app, &a.session().unwrap()).await.as_deref(), Some(REFERENTE));
        // And only once.
        let again = callback(&app, &idp, &victim.state, Some(&victim.binding)).await;
        assert_eq!(again.location(), "/accedi?errore=oidc-non-valido");
        t.drop_db().await;
    }
}

async fn pending_sign_ins(db: &Db) -> i64 {
    on_db!(db, pool => sqlx::query_scalar("SELECT COUNT(*) FROM oidc_login").fetch_one(pool).await.unwrap())
}

#[tokio::test]
async fn pressing_the_identity_button_too_often_is_limited_per_address() {
    for t in TestDb::all().await {
        let (app, _idp) = setup_with(&t, bari_referent(true), |c| c.limit_per_ip = 3).await;
        let press = |ip: [u8; 4]| from_address(form("/accedi/oidc", "next=/profilo", None), ip);
        for _ in 0..3 {
            assert_eq!(send(&app, press([10, 0, 0, 1])).await.status, StatusCode::SEE_OTHER);
        }
        let pending = pending_sign_ins(&t.db).await;
        let a = send(&app, press([10, 0, 0, 1])).await;
        assert_eq!(a.status, StatusCode::TOO_MANY_REQUESTS, "{}", a.body);
        assert!(
            a.body.contains("Troppi tentativi di accesso") && a.body.contains("riprova tra"),
            "{}",
            a.body
        );
        assert!(a.headers[header::RETRY_AFTER].to_str().unwrap().parse::<u64>().unwrap() >= 1);
        assert!(a.headers.get(header::LOCATION).is_none());
        assert!(
            !a.headers
                .get_all(header::SET_COOKIE)
                .iter()
                .any(|c| c.to_str().unwrap().starts_with("traguardi_oidc=")),
            "no sign-in started"
        );
        assert_eq!(pending_sign_ins(&t.db).await, pending, "no row written");
        // One allowance per address: the password form from there waits too.
        let a =
            send(&app, from_address(form("/accedi", &login_body(REGIONE, PASSWORD), None), [10, 0, 0, 1]))
                .await;
        assert_eq!(a.status, StatusCode::TOO_MANY_REQUESTS);
        // Another address is not affected.
        assert_eq!(send(&app, press([10, 0, 0, 2])).await.status, StatusCode::SEE_OTHER);
        t.drop_db().await;
    }
}

#[tokio::test]
async fn an_abandoned_sign_in_expires_and_is_swept() {
    use leptos::prelude::LeptosOptions;
    for t in TestDb::all().await {
        let (app, idp) = setup(&t, bari_referent(true)).await;
        let age = |flow: &Flow, secs: i64| {
            let (db, hash) = (t.db.clone(), hash_token(&flow.state));
            async move {
                on_db!(&db, pool => sqlx::query("UPDATE oidc_login SET created_at = created_at - $1 WHERE state_hash = $2")
                    .bind(secs)
                    .bind(&hash)
                    .execute(pool)
                    .await
                    .map(|_| ())
                    .unwrap());
            }
        };
        let exists = |flow: &Flow| {
            let (db, hash) = (t.db.clone(), hash_token(&flow.state));
            async move {
                on_db!(&db, pool => sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM oidc_login WHERE state_hash = $1")
                    .bind(&hash)
                    .fetch_one(pool)
                    .await
                    .unwrap())
                    == 1
            }
        };
        // Older than ten minutes at the callback: refused (before any sweep), and used up.
        let late = begin(&app, &idp, "/profilo").await;
        age(&late, 601).await;
        let a = callback(&app, &idp, &late.state, Some(&late.binding)).await;
        assert_eq!(a.location(), "/accedi?errore=oidc-non-valido");
        assert!(a.session().is_none());
        assert!(!exists(&late).await);
        // The periodic sweep deletes the rows older than ten minutes and keeps the others.
        let stale = begin(&app, &idp, "/profilo").await;
        let fresh = begin(&app, &idp, "/profilo").await;
        age(&stale, 601).await;
        age(&fresh, 540).await;
        let options = LeptosOptions::builder().output_name("traguardi").build();
        let state = crate::state::AppState::with_auth(options, t.db.clone(), config_for(&idp));
        crate::server::sweep_sign_ins(&state).await;
        assert!(!exists(&stale).await, "swept");
        assert!(exists(&fresh).await, "kept");
        let a = callback(&app, &idp, &stale.state, Some(&stale.binding)).await;
        assert_eq!(a.location(), "/accedi?errore=oidc-non-valido");
        // The recent one (whose nonce the provider holds: it started last) still signs in.
        let a = callback(&app, &idp, &fresh.state, Some(&fresh.binding)).await;
        assert_eq!(a.location(), "/profilo");
        assert!(a.session().is_some());
        t.drop_db().await;
    }
}

#[tokio::test]
async fn hostile_return_paths_through_the_provider_lead_to_the_profile() {
    // The check is not the database's: SQLite only.
    let t = TestDb::sqlite().await;
    let (app, idp) = setup_with(&t, bari_referent(true), |c| c.limit_per_ip = 1000).await;
    let stored = |flow: &Flow| {
        let (db, hash) = (t.db.clone(), hash_token(&flow.state));
        async move {
            on_db!(&db, pool => sqlx::query_scalar::<_, String>("SELECT return_to FROM oidc_login WHERE state_hash = $1")
                .bind(&hash)
                .fetch_one(pool)
                .await
                .unwrap())
        }
    };
    for bad in HOSTILE_RETURNS {
        let flow = begin(&app, &idp, &field(bad)).await;
        assert_eq!(stored(&flow).await, "/profilo", "{bad:?}");
        let a = callback(&app, &idp, &flow.state, Some(&flow.binding)).await;
        assert_eq!((a.status, a.location()), (StatusCode::SEE_OTHER, "/profilo"), "{bad:?}");
        assert!(a.session().is_some(), "{bad:?}");
    }
    // A stored return path is checked again when read back (a row written before the rule).
    let flow = begin(&app, &idp, "/comuni/072006").await;
    assert_eq!(stored(&flow).await, "/comuni/072006");
    on_db!(&t.db, pool => sqlx::query("UPDATE oidc_login SET return_to = $1 WHERE state_hash = $2")
        .bind("/\u{b}/evil.example")
        .bind(hash_token(&flow.state))
        .execute(pool)
        .await
        .map(|_| ())
        .unwrap());
    let a = callback(&app, &idp, &flow.state, Some(&flow.binding)).await;
    assert_eq!((a.status, a.location()), (StatusCode::SEE_OTHER, "/profilo"));
    t.drop_db().await;
}
