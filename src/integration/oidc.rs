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
    auth::{app_with, form, get as get_req, send, who, Answer},
    TestDb,
};
use crate::auth::config::{AuthConfig, OidcConfig};

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
        standard = standard.set_email(s.email.clone().map(EndUserEmail::new)).set_email_verified(Some(true));
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
    let mut body = json!({ "sub": s.subject, "email_verified": true });
    if let Some(e) = &s.email {
        body["email"] = json!(e);
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
    let idp = start_idp(script).await;
    let app = app_with(t, config_for(&idp)).await;
    super::auth::add_user(&t.db, REFERENTE, "comune", "072006", CF).await;
    (app, idp)
}

fn bari_referent(claims_in_id_token: bool) -> Script {
    Script {
        subject: "comune.bari".into(),
        email: Some("un.altro.indirizzo@example.org".into()),
        fiscal_number: Some(format!("TINIT-{CF}")),
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
