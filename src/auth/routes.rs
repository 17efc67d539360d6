//! The sign-in routes. They are plain HTTP handlers, not server functions, because they set
//! cookies and redirect, and because a plain `<form method="post">` must work without
//! JavaScript: a refused form is answered with its page rendered again, messages and typed
//! values included (see [`render_page_with`]).

use std::net::{IpAddr, SocketAddr};

use axum::{
    body::Body,
    extract::{rejection::QueryRejection, ConnectInfo, FromRequest, Query, Request, State},
    http::{header, request::Parts, Method, StatusCode},
    response::{IntoResponse, Response},
    Form,
};
use leptos::prelude::provide_context;
use serde::Deserialize;

use super::{
    password,
    session::{self, hash_token, new_token, RequestAuth},
    users::{self, AddUserError},
    FieldError, FormFeedback, UserForm,
};
use crate::{data::accounts, error::AppError, state::AppState};

/// Renders the page at `path` for the request `parts` came with, with `feedback` in context
/// (read back by the page through `auth::server::form_feedback`) and the given status.
pub async fn render_page_with(
    state: &AppState,
    parts: &Parts,
    path: &str,
    feedback: FormFeedback,
    status: StatusCode,
) -> Response {
    let handler = leptos_axum::render_app_async_with_context(
        {
            let state = state.clone();
            move || {
                provide_context(state.clone());
                provide_context(feedback.clone());
            }
        },
        {
            let options = state.leptos_options.clone();
            move || crate::app::shell(options.clone())
        },
    );
    let mut req = Request::new(Body::empty());
    *req.method_mut() = Method::GET;
    *req.uri_mut() = path.parse().unwrap_or_default();
    *req.headers_mut() = parts.headers.clone();
    req.headers_mut().remove(header::CONTENT_TYPE);
    req.headers_mut().remove(header::CONTENT_LENGTH);
    *req.extensions_mut() = parts.extensions.clone();
    let mut response = handler(req).await.into_response();
    *response.status_mut() = status;
    response
}

/// The client's address: the socket peer, or the last X-Forwarded-For hop behind a trusted proxy.
pub fn client_address(state: &AppState, parts: &Parts) -> IpAddr {
    if state.auth.config.trust_forwarded_for {
        let forwarded = parts
            .headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .filter_map(|s| s.trim().parse::<IpAddr>().ok())
            .next_back();
        if let Some(ip) = forwarded {
            return ip;
        }
    }
    parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip())
        .unwrap_or(IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED))
}

pub use super::redirect::safe_return_to;

/// The Region manager making this request, or the refusal to send back.
fn manager_of(req: &Request) -> Result<super::CurrentUser, AppError> {
    super::guard::users_manager(super::session::viewer_of(req.extensions()))
}

fn auth_of(parts: &Parts) -> RequestAuth {
    parts.extensions.get::<RequestAuth>().cloned().unwrap_or_default()
}

use super::redirect::see_other;

/// The request's parts and its urlencoded form; an unreadable form is answered with a 400.
pub async fn split_form<T: serde::de::DeserializeOwned>(
    state: &AppState,
    req: Request,
) -> Result<(Parts, T), Response> {
    let (parts, body) = req.into_parts();
    let request = Request::from_parts(parts.clone(), body);
    match Form::<T>::from_request(request, state).await {
        Ok(Form(form)) => Ok((parts, form)),
        Err(_) => Err(AppError::BadRequest(
            "Il modulo inviato non è leggibile: ricarica la pagina e riprova.".into(),
        )
        .into_response()),
    }
}

#[derive(Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    next: String,
}

/// The message for an unknown account, a wrong password, a disabled account and a demo account
/// on real data alike: the answer says nothing about which accounts exist.
pub const WRONG_CREDENTIALS: &str = "Indirizzo e-mail o password non corretti.";

/// `POST /accedi`: sign-in with e-mail and password.
pub async fn login(State(state): State<AppState>, req: Request) -> Response {
    let (parts, form) = match split_form::<LoginForm>(&state, req).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    let email = form.email.trim().to_lowercase();
    let next = safe_return_to(&form.next);
    let feedback = |message: &str, errors: Vec<FieldError>| FormFeedback {
        form: "accesso".into(),
        message: message.into(),
        errors,
        values: vec![("email".into(), email.clone()), ("next".into(), next.clone())],
    };
    let mut missing = Vec::new();
    if email.is_empty() {
        missing.push(FieldError { field: "email".into(), message: "Indica l'indirizzo e-mail.".into() });
    }
    if form.password.is_empty() {
        missing.push(FieldError { field: "password".into(), message: "Indica la password.".into() });
    }
    if !missing.is_empty() {
        let f = feedback("Completa i campi indicati.", missing);
        return render_page_with(&state, &parts, "/accedi", f, StatusCode::BAD_REQUEST).await;
    }
    let limited = match state.auth.limiter.attempt(&state.db, client_address(&state, &parts), &email).await {
        Ok(limited) => limited,
        Err(e) => return AppError::from(e).into_response(),
    };
    if let Err(wait) = limited {
        tracing::warn!(%email, "sign-in attempt refused by the rate limit");
        crate::ops::metrics::rate_limited("sign_in");
        return too_many_attempts(&state, &parts, wait, &email, &next).await;
    }
    let outcome: Result<Option<i64>, AppError> = async {
        let candidate = accounts::login_candidate(&state.db, &email).await?;
        let (id, stored, enabled, demo) = match candidate {
            Some(c) => (Some(c.id), c.password, c.enabled, c.demo),
            None => (None, None, false, false),
        };
        // Always one argon2 verification (against a decoy when there is no hash): the same work,
        // hence about the same time, for an unknown account and a wrong password.
        let matches = password::verify(form.password.clone(), stored).await;
        if !matches || !enabled {
            return Ok(None);
        }
        if demo && !state.db.is_demo().await? {
            tracing::warn!(%email, "demo account refused: this is not a demo database");
            return Ok(None);
        }
        Ok(id)
    }
    .await;
    match outcome {
        Ok(Some(user_id)) => {
            let previous = auth_of(&parts).token_hash;
            match session::open(&state, previous.as_deref(), user_id, "password", None).await {
                Ok(cookie) => {
                    tracing::info!(user_id, "signed in with a password");
                    see_other(&next, vec![cookie])
                }
                Err(e) => e.into_response(),
            }
        }
        Ok(None) => {
            crate::ops::metrics::sign_in_failed("password");
            let f = feedback(WRONG_CREDENTIALS, Vec::new());
            render_page_with(&state, &parts, "/accedi", f, StatusCode::UNAUTHORIZED).await
        }
        Err(e) => e.into_response(),
    }
}

/// The sign-in page again, with the Italian "riprova tra …" and `Retry-After` (429).
async fn too_many_attempts(
    state: &AppState,
    parts: &Parts,
    wait: std::time::Duration,
    email: &str,
    next: &str,
) -> Response {
    let f = FormFeedback {
        form: "accesso".into(),
        message: super::limit::retry_message(wait),
        errors: Vec::new(),
        values: vec![("email".into(), email.to_string()), ("next".into(), next.to_string())],
    };
    let mut response = render_page_with(state, parts, "/accedi", f, StatusCode::TOO_MANY_REQUESTS).await;
    response.headers_mut().insert(header::RETRY_AFTER, super::limit::retry_after_secs(wait).into());
    response
}

/// `POST /esci`: ends the session (and the provider's, when it was an OIDC sign-in and the
/// provider offers RP-initiated logout).
pub async fn logout(State(state): State<AppState>, req: Request) -> Response {
    let auth = req.extensions().get::<RequestAuth>().cloned().unwrap_or_default();
    let clear = session::set_cookie(&state.auth.config, state.auth.config.session_cookie(), None);
    if let Some(hash) = &auth.token_hash {
        if let Err(e) = accounts::delete_session(&state.db, hash).await {
            return AppError::from(e).into_response();
        }
    }
    if auth.method.as_deref() == Some("oidc") {
        if let Some(oidc) = &state.auth.oidc {
            let back = format!("{}/", state.auth.config.public_url);
            if let Some(url) = oidc.logout_url(auth.id_token.as_deref(), &back).await {
                return see_other(&url, vec![clear]);
            }
        }
    }
    see_other("/accedi?uscita=1", vec![clear])
}

#[derive(Deserialize)]
pub struct OidcStartForm {
    #[serde(default)]
    next: String,
}

/// `POST /accedi/oidc`: sends the browser to the identity service. A POST (a form button), so
/// that another site cannot start sign-ins in someone's browser.
pub async fn oidc_start(State(state): State<AppState>, req: Request) -> Response {
    let Some(oidc) = &state.auth.oidc else {
        return AppError::not_found("L'accesso con identità digitale non è configurato.").into_response();
    };
    let (parts, form) = match split_form::<OidcStartForm>(&state, req).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    let return_to = safe_return_to(&form.next);
    // Before the provider is asked and a row written: each press costs both.
    let limited = match state.auth.limiter.attempt_from(&state.db, client_address(&state, &parts)).await {
        Ok(limited) => limited,
        Err(e) => return AppError::from(e).into_response(),
    };
    if let Err(wait) = limited {
        tracing::warn!("OIDC sign-in start refused by the rate limit");
        crate::ops::metrics::rate_limited("sign_in_oidc");
        return too_many_attempts(&state, &parts, wait, "", &return_to).await;
    }
    let started = match oidc.start().await {
        Ok(s) => s,
        Err(e) => {
            tracing::error!(error = %e, "OIDC sign-in could not start");
            return see_other("/accedi?errore=oidc-non-disponibile", Vec::new());
        }
    };
    let binding = new_token();
    let login = accounts::OidcLogin {
        binding_hash: hash_token(&binding),
        pkce_verifier: started.pkce_verifier,
        nonce: started.nonce,
        return_to,
        created_at: session::now(),
    };
    if let Err(e) = accounts::insert_oidc_login(&state.db, &hash_token(&started.state), &login).await {
        return AppError::from(e).into_response();
    }
    let cookie = session::set_cookie(&state.auth.config, state.auth.config.oidc_cookie(), Some(&binding));
    see_other(&started.url, vec![cookie])
}

#[derive(Deserialize)]
pub struct Callback {
    code: Option<String>,
    state: Option<String>,
    iss: Option<String>,
    error: Option<String>,
}

/// An OIDC sign-in is valid for this long between the button and the callback; the periodic
/// sweep deletes rows older than this.
pub const OIDC_MAX_AGE_SECS: i64 = 600;

/// `GET /accedi/oidc/callback`: checks state (once, from the browser that started), exchanges
/// the code, verifies the ID token and signs in the pre-registered person it names.
pub async fn oidc_callback(
    State(state): State<AppState>,
    q: Result<Query<Callback>, QueryRejection>,
    req: Request,
) -> Response {
    let config = &state.auth.config;
    let clear_binding = session::set_cookie(config, config.oidc_cookie(), None);
    let refuse = |code: &str| {
        crate::ops::metrics::sign_in_failed("oidc");
        see_other(&format!("/accedi?errore={code}"), vec![clear_binding.clone()])
    };
    let Some(oidc) = &state.auth.oidc else {
        return AppError::not_found("L'accesso con identità digitale non è configurato.").into_response();
    };
    // A parameter given twice is no provider's answer: back to the sign-in page, like any
    // other malformed callback (axum alone answered a 400 in English).
    let Ok(Query(q)) = q else {
        tracing::warn!("OIDC callback with an unreadable query string");
        return refuse("oidc-non-valido");
    };
    if let Some(error) = &q.error {
        tracing::info!(%error, "identity provider returned an error");
        return refuse("oidc-annullato");
    }
    let (Some(code), Some(st)) = (&q.code, &q.state) else { return refuse("oidc-non-valido") };
    // The state is used up only together with the browser binding it was issued with: a
    // callback carrying someone else's state (without their cookie) leaves their sign-in alone.
    let Some(binding) = session::cookie_value(req.headers(), config.oidc_cookie()) else {
        tracing::warn!("OIDC callback without the browser-binding cookie");
        return refuse("oidc-non-valido");
    };
    let login = match accounts::take_oidc_login(&state.db, &hash_token(st), &hash_token(&binding)).await {
        Ok(Some(l)) => l,
        Ok(None) => {
            tracing::warn!("OIDC callback with an unknown or used state, or from another browser");
            return refuse("oidc-non-valido");
        }
        Err(e) => return AppError::from(e).into_response(),
    };
    if session::now() - login.created_at > OIDC_MAX_AGE_SECS {
        tracing::warn!("OIDC callback for a sign-in started too long ago");
        return refuse("oidc-non-valido");
    }
    let identity = match oidc.finish(code, q.iss.as_deref(), &login.pkce_verifier, &login.nonce).await {
        Ok(i) => i,
        Err(e @ super::oidc::OidcError::Unavailable(_)) => {
            tracing::error!(error = %e, "OIDC sign-in failed");
            return refuse("oidc-non-disponibile");
        }
        Err(e) => {
            tracing::warn!(error = %e, "OIDC sign-in refused");
            return refuse("oidc-non-valido");
        }
    };
    let found =
        accounts::find_for_identity(&state.db, identity.fiscal_code.as_deref(), identity.email.as_deref())
            .await;
    let candidate = match found {
        Ok(c) => c,
        Err(e) => return AppError::from(e).into_response(),
    };
    let demo_db = state.db.is_demo().await.unwrap_or(false);
    let Some(user) = candidate.filter(|c| c.enabled && (!c.demo || demo_db)) else {
        tracing::warn!(subject = %identity.subject, "OIDC identity not registered (or disabled)");
        return refuse("oidc-non-registrato");
    };
    let previous = req.extensions().get::<RequestAuth>().and_then(|a| a.token_hash.clone());
    match session::open(&state, previous.as_deref(), user.id, "oidc", Some(&identity.id_token)).await {
        Ok(cookie) => {
            tracing::info!(user_id = user.id, "signed in through the identity provider");
            // Checked again as it is read back (a row may predate the current rule).
            see_other(&safe_return_to(&login.return_to), vec![cookie, clear_binding])
        }
        Err(e) => e.into_response(),
    }
}

/// `POST /utenti`: a Region manager creates an account.
pub async fn add_user(State(state): State<AppState>, req: Request) -> Response {
    let manager = match manager_of(&req) {
        Ok(m) => m,
        Err(e) => return e.into_response(),
    };
    let (parts, form) = match split_form::<UserForm>(&state, req).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    // An account made by a demo account is a demo account: the demo's passwords are published,
    // so whatever anyone makes with them must go when the demo does (see `WriteTx::mark_real`).
    match users::add(&state.db, &form, manager.demo, &manager.email).await {
        Ok(id) => {
            tracing::info!(user_id = id, "account created from the users page");
            see_other("/utenti?esito=creato", Vec::new())
        }
        Err(AddUserError::Invalid(errors)) => {
            let f = FormFeedback {
                form: "nuovo-utente".into(),
                message: "L'utente non è stato creato: correggi i campi indicati.".into(),
                errors,
                values: vec![
                    ("email".into(), form.email.clone()),
                    ("name".into(), form.name.clone()),
                    ("role".into(), form.role.clone()),
                    ("fiscal_code".into(), form.fiscal_code.clone()),
                    ("comuni".into(), form.comuni.clone()),
                ],
            };
            render_page_with(&state, &parts, "/utenti", f, StatusCode::BAD_REQUEST).await
        }
        Err(AddUserError::Internal(e)) => e.into_response(),
    }
}

#[derive(Deserialize)]
pub struct DisableForm {
    #[serde(default)]
    email: String,
}

/// `POST /utenti/disattiva`: disables an account and ends its sessions everywhere.
pub async fn disable_user(State(state): State<AppState>, req: Request) -> Response {
    let me = match manager_of(&req) {
        Ok(me) => me,
        Err(e) => return e.into_response(),
    };
    let (_, form) = match split_form::<DisableForm>(&state, req).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    let email = form.email.trim().to_lowercase();
    if email == me.email {
        return AppError::BadRequest("Non puoi disattivare il tuo stesso account.".into()).into_response();
    }
    match accounts::disable_user(&state.db, &email, session::now(), &me.email).await {
        Ok(Some(ended)) => {
            tracing::info!(%email, sessions_ended = ended, "account disabled from the users page");
            see_other("/utenti?esito=disattivato", Vec::new())
        }
        Ok(None) => AppError::not_found("Nessun utente con questo indirizzo e-mail.").into_response(),
        Err(e) => AppError::from(e).into_response(),
    }
}
