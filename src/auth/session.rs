//! Server-side sessions: a random token in an HttpOnly cookie, its SHA-256 in the database.
//!
//! [`resolve`] runs before every route: it turns the cookie into a [`RequestAuth`] request
//! extension, which routes read directly and server functions and pages read through
//! [`super::guard`]. A session ends when idle too long, when too old, when its person is
//! disabled, or when a demo account meets a database that is not a demo one.

use axum::{
    extract::{Request, State},
    http::{header, HeaderMap, HeaderValue},
    middleware::Next,
    response::Response,
};
use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use cookie::{Cookie, SameSite};
use sha2::{Digest, Sha256};

use super::{config::AuthConfig, Viewer};
use crate::{data::accounts, error::AppError, state::AppState};

/// Who made this request, and the session it came with.
#[derive(Clone, Debug, Default)]
pub struct RequestAuth {
    pub viewer: Viewer,
    /// The hash of a valid session token (for sign-out).
    pub token_hash: Option<String>,
    /// How the session was opened and the ID token (for RP-initiated logout).
    pub method: Option<String>,
    pub id_token: Option<String>,
}

/// The person of a request, from the extension [`resolve`] set: what plain routes use where
/// server functions use `guard::viewer`. `None` is the public.
pub fn viewer_of(extensions: &axum::http::Extensions) -> super::Viewer {
    extensions.get::<RequestAuth>().and_then(|a| a.viewer.clone())
}

/// Unix seconds now.
pub fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// 256 random bits, URL-safe.
pub fn new_token() -> String {
    let bytes: [u8; 32] = rand::random();
    URL_SAFE_NO_PAD.encode(bytes)
}

/// What the database keeps of a token.
pub fn hash_token(token: &str) -> String {
    let digest = Sha256::digest(token.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// A cookie's value from the request headers.
pub fn cookie_value(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(Cookie::split_parse)
        .filter_map(Result::ok)
        .find(|c| c.name() == name)
        .map(|c| c.value().to_string())
}

/// A `Set-Cookie` value: HttpOnly, SameSite=Lax (sent on top-level navigation back from the
/// identity provider, never on cross-site posts), Secure under https, path `/`. A session cookie
/// has no Max-Age: the server decides when it ends. `None` clears it.
pub fn set_cookie(config: &AuthConfig, name: &'static str, value: Option<&str>) -> HeaderValue {
    let mut c = Cookie::build((name, value.unwrap_or("").to_string()))
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(config.cookie_secure)
        .path("/");
    if value.is_none() {
        c = c.max_age(cookie::time::Duration::ZERO);
    }
    HeaderValue::from_str(&c.build().to_string()).expect("cookie values are URL-safe")
}

/// Why a presented session is not accepted (logged, never shown).
#[derive(Debug, PartialEq, Eq)]
enum Refusal {
    Unknown,
    Idle,
    Expired,
    Disabled,
    DemoOnRealData,
}

async fn check(state: &AppState, token_hash: &str) -> Result<Result<RequestAuth, Refusal>, AppError> {
    let Some(row) = accounts::session(&state.db, token_hash).await? else {
        return Ok(Err(Refusal::Unknown));
    };
    let config = &state.auth.config;
    let now = now();
    let refusal = if !row.enabled {
        Some(Refusal::Disabled)
    } else if now - row.last_seen_at > config.idle.as_secs() as i64 {
        Some(Refusal::Idle)
    } else if now - row.created_at > config.absolute.as_secs() as i64 {
        Some(Refusal::Expired)
    } else if row.user.demo && !state.db.is_demo().await? {
        Some(Refusal::DemoOnRealData)
    } else {
        None
    };
    if let Some(r) = refusal {
        accounts::delete_session(&state.db, token_hash).await?;
        return Ok(Err(r));
    }
    // One write a minute at most per session, not one per request.
    if now - row.last_seen_at >= 60 {
        accounts::touch_session(&state.db, token_hash, now).await?;
    }
    Ok(Ok(RequestAuth {
        viewer: Some(row.user),
        token_hash: Some(token_hash.to_string()),
        method: Some(row.method),
        id_token: row.id_token,
    }))
}

/// The middleware: requests without a session cookie cost no query.
pub async fn resolve(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let cookie_name = state.auth.config.session_cookie();
    let token = cookie_value(req.headers(), cookie_name);
    let mut clear = false;
    let auth = match token {
        None => RequestAuth::default(),
        Some(token) => match check(&state, &hash_token(&token)).await {
            Ok(Ok(auth)) => auth,
            Ok(Err(refusal)) => {
                tracing::info!(?refusal, "session cookie refused");
                clear = true;
                RequestAuth::default()
            }
            Err(_) => RequestAuth::default(),
        },
    };
    let signed_in = auth.viewer.is_some();
    req.extensions_mut().insert(auth);
    let mut response = next.run(req).await;
    // What a signed-in person sees is theirs: no shared cache may keep it.
    if signed_in {
        response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("private, no-store"));
    }
    if clear && !response.headers().contains_key(header::SET_COOKIE) {
        response.headers_mut().append(header::SET_COOKIE, set_cookie(&state.auth.config, cookie_name, None));
    }
    response
}

/// Opens a session for `user_id` and returns the `Set-Cookie` value. The token is always new
/// (a session id chosen before sign-in is never promoted: no fixation), and the session the
/// browser came with, if any, is ended.
pub async fn open(
    state: &AppState,
    previous: Option<&str>,
    user_id: i64,
    method: &str,
    id_token: Option<&str>,
) -> Result<HeaderValue, AppError> {
    if let Some(old) = previous {
        accounts::delete_session(&state.db, old).await?;
    }
    let token = new_token();
    accounts::insert_session(&state.db, &hash_token(&token), user_id, now(), method, id_token).await?;
    Ok(set_cookie(&state.auth.config, state.auth.config.session_cookie(), Some(&token)))
}
