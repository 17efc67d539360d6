//! The one error type of server functions and routes.
//!
//! What reaches the browser is a fixed Italian sentence per kind: never SQL, constraint names or
//! paths. The cause of an internal error is logged on the server with `tracing`, where operators
//! can read it.

use serde::{Deserialize, Serialize};
use server_fn::{
    codec::JsonEncoding,
    error::{FromServerFnError, ServerFnErrorErr},
};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum AppError {
    /// The thing asked for does not exist (a 404 page).
    #[error("{0}")]
    NotFound(String),
    /// The request is wrong in a way the person can fix; the text says how.
    #[error("{0}")]
    BadRequest(String),
    /// Nobody is signed in and the thing asked for needs someone who is (401).
    #[error("{0}")]
    Unauthorized(String),
    /// The signed-in person's role does not allow it (403).
    #[error("{0}")]
    Forbidden(String),
    /// Too many attempts; the text says when to retry (429).
    #[error("{0}")]
    TooManyRequests(String),
    /// Too many expensive requests at once (503 with `Retry-After`); the text says to retry.
    #[error("{0}")]
    Busy(String),
    /// Something failed on the server; details are in the server log only. `codice` is the id
    /// of the request that met it, which the person can quote and the operator find in the log:
    /// made without one ([`AppError::INTERNAL`]), the error takes the current request's id when
    /// it leaves the server — as a server function's JSON answer or as a plain answer — so a
    /// failure met by a call from the browser (JavaScript on) shows a code as a page rendered on
    /// the server does.
    #[error("Si è verificato un errore interno. Riprova tra qualche minuto; se il problema continua, contatta l'assistenza.")]
    Internal {
        #[serde(default, serialize_with = "with_request_id")]
        codice: Option<String>,
    },
    /// The request did not reach the server function or its answer could not be read.
    #[error("Impossibile comunicare con il server: verifica la connessione e riprova.")]
    Transport,
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    /// On the server these are the caller's arguments that could not be decoded (a number in
    /// letters, a repeated or nested field, a body that is not UTF-8): a 400 with an Italian
    /// message, set on the response here because the function itself never ran. Anything else,
    /// and every failure in the browser, is the connection's.
    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        #[cfg(feature = "ssr")]
        {
            if let Some(message) = bad_arguments(&value) {
                tracing::info!(error = %value, "server function called with arguments it cannot decode");
                if let Some(response) = leptos::prelude::use_context::<leptos_axum::ResponseOptions>() {
                    response.set_status(axum::http::StatusCode::BAD_REQUEST);
                }
                return AppError::BadRequest(message);
            }
            tracing::warn!(error = %value, "server function transport error");
        }
        #[cfg(not(feature = "ssr"))]
        let _ = value;
        AppError::Transport
    }
}

/// The Italian message for a server-side decoding failure (`None`: not the caller's fault).
#[cfg(feature = "ssr")]
fn bad_arguments(value: &ServerFnErrorErr) -> Option<String> {
    Some(match value {
        ServerFnErrorErr::Args(_) => {
            "Richiesta non valida: un parametro non ha il formato atteso (per esempio \
             lettere dove serve un numero) oppure è ripetuto o annidato."
                .to_string()
        }
        ServerFnErrorErr::MissingArg(name) => format!("Richiesta non valida: manca il parametro «{name}»."),
        ServerFnErrorErr::Deserialization(_) => {
            "Richiesta non valida: il corpo della richiesta non è testo leggibile (UTF-8).".to_string()
        }
        ServerFnErrorErr::Request(_) => {
            "Richiesta non valida: il corpo della richiesta non si legge.".to_string()
        }
        ServerFnErrorErr::UnsupportedRequestMethod(m) => {
            format!("Richiesta non valida: questa funzione non si chiama con il metodo {m}.")
        }
        _ => return None,
    })
}

/// Writes an internal error's code: its own, else (on the server) the id of the request being
/// served.
fn with_request_id<S: serde::Serializer>(codice: &Option<String>, serializer: S) -> Result<S::Ok, S::Error> {
    #[cfg(feature = "ssr")]
    let codice = &codice.clone().or_else(crate::ops::request_id::current);
    codice.serialize(serializer)
}

impl AppError {
    /// An internal error, its code to be filled from the request when it leaves the server.
    pub const INTERNAL: Self = AppError::Internal { codice: None };

    /// The code an internal error shows: its own, else (on the server) the current request's id.
    /// `None` for every other error.
    pub fn request_code(&self) -> Option<String> {
        let AppError::Internal { codice } = self else { return None };
        #[cfg(feature = "ssr")]
        return codice.clone().or_else(crate::ops::request_id::current);
        #[cfg(not(feature = "ssr"))]
        codice.clone()
    }

    pub fn not_found(what: impl Into<String>) -> Self {
        AppError::NotFound(what.into())
    }

    pub fn sign_in_required() -> Self {
        AppError::Unauthorized("Per questa sezione occorre accedere a Traguardi.".into())
    }

    #[cfg(feature = "ssr")]
    pub fn status(&self) -> axum::http::StatusCode {
        use axum::http::StatusCode;
        match self {
            AppError::NotFound(_) => StatusCode::NOT_FOUND,
            AppError::BadRequest(_) => StatusCode::BAD_REQUEST,
            AppError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            AppError::Forbidden(_) => StatusCode::FORBIDDEN,
            AppError::TooManyRequests(_) => StatusCode::TOO_MANY_REQUESTS,
            AppError::Busy(_) => StatusCode::SERVICE_UNAVAILABLE,
            AppError::Internal { .. } => StatusCode::INTERNAL_SERVER_ERROR,
            AppError::Transport => StatusCode::BAD_GATEWAY,
        }
    }
}

/// Gives an error its HTTP status: rendered in-process during SSR this sets the page's status
/// (a 404 page, a 400 for a bad filter); called over HTTP, the server function's.
#[cfg(feature = "ssr")]
pub fn set_status_on_error<T>(result: &Result<T, AppError>) {
    if let (Err(e), Some(response)) = (result, leptos::prelude::use_context::<leptos_axum::ResponseOptions>())
    {
        response.set_status(e.status());
    }
}

#[cfg(feature = "ssr")]
impl From<sqlx::Error> for AppError {
    fn from(err: sqlx::Error) -> Self {
        tracing::error!(error = %err, "database error");
        AppError::INTERNAL
    }
}

#[cfg(feature = "ssr")]
impl From<crate::comuni::FilterError> for AppError {
    fn from(err: crate::comuni::FilterError) -> Self {
        AppError::BadRequest(err.to_string())
    }
}

#[cfg(feature = "ssr")]
impl axum::response::IntoResponse for AppError {
    /// An internal error carries the request's id («Codice della richiesta: …»), which the log's
    /// lines of the request carry too.
    fn into_response(self) -> axum::response::Response {
        let mut text = self.to_string();
        if let Some(id) = self.request_code() {
            text = format!("{text}\n{}", crate::ops::request_id::code_line(&id));
        }
        let mut response =
            (self.status(), [("content-type", "text/plain; charset=utf-8")], text).into_response();
        if let AppError::Busy(_) = self {
            response
                .headers_mut()
                .insert(axum::http::header::RETRY_AFTER, crate::limits::work::RETRY_AFTER_SECONDS.into());
        }
        response
    }
}
