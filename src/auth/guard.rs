//! The checks server functions and pages make. The person comes from the request extension the
//! session middleware set; leptos_axum hands the request parts to every server function and
//! page render as context.

use leptos::prelude::use_context;

use super::{session::RequestAuth, CurrentUser, Viewer};
use crate::error::AppError;

/// The request's authentication (empty outside a request).
pub fn request_auth() -> RequestAuth {
    use_context::<axum::http::request::Parts>()
        .and_then(|parts| parts.extensions.get::<RequestAuth>().cloned())
        .unwrap_or_default()
}

pub fn viewer() -> Viewer {
    request_auth().viewer
}

/// Anyone signed in.
pub fn require_signed_in() -> Result<CurrentUser, AppError> {
    viewer().ok_or_else(AppError::sign_in_required)
}

/// The Region's managers (server functions and pages).
pub fn require_users_manager() -> Result<CurrentUser, AppError> {
    users_manager(viewer())
}

/// `viewer`, if a Region manager; else the refusal (401 for the public, 403 for other roles).
/// Plain routes call it with the viewer of their request extension.
pub fn users_manager(viewer: Viewer) -> Result<CurrentUser, AppError> {
    let user = viewer.ok_or_else(AppError::sign_in_required)?;
    if super::may_manage_users(Some(&user)) {
        Ok(user)
    } else {
        Err(AppError::Forbidden("Solo i referenti della Regione possono gestire gli utenti.".into()))
    }
}

/// The Region, reading the messages of the feedback form (401 for the public, 403 for others).
pub fn require_feedback_reader() -> Result<CurrentUser, AppError> {
    let user = require_signed_in()?;
    if super::may_read_feedback(Some(&user)) {
        Ok(user)
    } else {
        Err(AppError::Forbidden("Solo i referenti della Regione possono leggere i commenti ricevuti.".into()))
    }
}

/// Someone who may read this comune's non-public data. Others get a 404 that says nothing about
/// what exists.
///
/// A code that is not six digits names no comune: the same 404, before any query (PostgreSQL
/// refuses a NUL byte in text, which `make fuzz` found as a 500 for the Region).
pub fn require_private(codice_istat: &str) -> Result<CurrentUser, AppError> {
    let user = require_signed_in()?;
    if crate::data::registry::is_istat_code(codice_istat)
        && super::may_read_private(Some(&user), codice_istat)
    {
        Ok(user)
    } else {
        Err(AppError::not_found("Nessun dato riservato di questo comune è accessibile con il tuo profilo."))
    }
}
