//! Query strings that cannot be read into a route's parameters (today: a parameter given twice,
//! `?provincia=BA&provincia=LE`) are the caller's mistake: a 400 in Italian, like every other
//! refusal, instead of axum's English "Failed to deserialize query string". The open-data API
//! says the same in its JSON (`opendata::api::ApiError`).

use axum::{extract::FromRequestParts, http::request::Parts};
use serde::de::DeserializeOwned;

use crate::error::AppError;

/// What a person reads when the query string cannot be read.
pub const UNREADABLE: &str =
    "Parametri della richiesta non validi: ogni parametro può comparire una sola volta.";

/// `axum::extract::Query`, refusing in Italian ([`AppError::BadRequest`]).
#[derive(Debug, Clone, Copy, Default)]
pub struct Query<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for Query<T> {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Query::<T>::try_from_uri(&parts.uri).map(|axum::extract::Query(v)| Query(v)).map_err(
            |e| {
                tracing::debug!(error = %e, "query string refused");
                AppError::BadRequest(UNREADABLE.into())
            },
        )
    }
}

#[cfg(test)]
mod tests {
    use axum::{body::Body, http::Request, routing::get, Router};
    use tower::ServiceExt;

    use super::*;

    #[derive(serde::Deserialize)]
    struct One {
        #[allow(dead_code)]
        provincia: Option<String>,
    }

    /// A repeated parameter: 400 with the Italian sentence (axum alone answered in English).
    #[tokio::test]
    async fn a_repeated_parameter_is_refused_in_italian() {
        let app = Router::new().route("/x", get(|Query(_): Query<One>| async { "ok" }));
        let answer = |uri: &'static str| {
            let app = app.clone();
            async move {
                let r = app.oneshot(Request::get(uri).body(Body::empty()).unwrap()).await.unwrap();
                let status = r.status();
                let body = axum::body::to_bytes(r.into_body(), 1 << 16).await.unwrap();
                (status.as_u16(), String::from_utf8(body.to_vec()).unwrap())
            }
        };
        assert_eq!(answer("/x?provincia=BA&provincia=LE").await, (400, UNREADABLE.to_string()));
        assert_eq!(answer("/x?provincia=BA").await, (200, "ok".to_string()));
    }
}
