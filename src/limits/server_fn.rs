//! Calls to the server functions (`/api/…`; not the open-data API under `/api/v1/`) that cannot
//! be decoded are the caller's mistake: 400 (405 for a wrong method, 404 for no such function)
//! with an Italian message in the error's own JSON encoding, never a 500 "Transport".
//!
//! Arguments that fail to decode are mapped where the server-function machinery reports them,
//! in `AppError::from_server_fn_error`. What is checked here is what that machinery would answer
//! in English (an unknown function, a wrong method) or silently misread: a body in another format
//! parsed as a form.

use axum::{
    extract::Request,
    http::{header, HeaderValue, Method, StatusCode},
    middleware::Next,
    response::{IntoResponse, Response},
};

use crate::error::AppError;

/// The only body the server functions take (`PostUrl`, Leptos's default, and `ActionForm`).
const FORM: &str = "application/x-www-form-urlencoded";

/// The middleware (a `layer`: unknown paths reach the fallback, and must be answered too).
pub async fn check(req: Request, next: Next) -> Response {
    let path = req.uri().path();
    if !path.starts_with("/api/") || path.starts_with("/api/v1/") {
        return next.run(req).await;
    }
    let methods: Vec<Method> =
        server_fn::axum::server_fn_paths().filter(|(p, _)| *p == path).map(|(_, m)| m).collect();
    if methods.is_empty() {
        return answer(StatusCode::NOT_FOUND, AppError::not_found("Questa funzione del server non esiste."));
    }
    if !methods.contains(req.method()) {
        let allowed = methods.iter().map(Method::as_str).collect::<Vec<_>>().join(", ");
        let mut response = answer(
            StatusCode::METHOD_NOT_ALLOWED,
            AppError::BadRequest(format!(
                "Richiesta non valida: questa funzione si chiama con il metodo {allowed}."
            )),
        );
        if let Ok(v) = HeaderValue::from_str(&allowed) {
            response.headers_mut().insert(header::ALLOW, v);
        }
        return response;
    }
    if req.method() == Method::POST {
        let content_type = req.headers().get(header::CONTENT_TYPE).map(|v| v.to_str().unwrap_or("?"));
        let essence = content_type.map(|c| c.split(';').next().unwrap_or("").trim().to_ascii_lowercase());
        if essence.as_deref().is_some_and(|e| e != FORM) {
            return answer(StatusCode::BAD_REQUEST, AppError::BadRequest(wrong_format()));
        }
    }
    next.run(req).await
}

/// The message for a body that is not a form.
pub fn wrong_format() -> String {
    format!("Richiesta non valida: i dati vanno inviati come modulo ({FORM}).")
}

/// `error` as the server functions encode it (JSON), with `status`.
fn answer(status: StatusCode, error: AppError) -> Response {
    let body = serde_json::to_string(&error).unwrap_or_else(|_| "\"Internal\"".into());
    (status, [(header::CONTENT_TYPE, "application/json")], body).into_response()
}
