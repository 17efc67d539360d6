//! Vital signs for the operator: `/metrics` (Prometheus text, for configured readers only),
//! `/readyz` (the database and the evidence store answer), and a request id on every request,
//! in its log lines, its `x-request-id` header and its error page.

pub mod access;
pub mod memory;
pub mod metrics;
#[cfg(test)]
pub mod probe;
pub mod ready;
pub mod request_id;

use axum::{http::Request, Router};
use tower_http::{
    request_id::{PropagateRequestIdLayer, SetRequestIdLayer},
    trace::TraceLayer,
};

pub use access::MetricsAccess;

/// What the process needs once, before the first router: the metrics recorder and Leptos's task
/// spawner that carries the request id (set before `leptos_axum` sets its own, which it then
/// leaves alone).
pub fn install() {
    metrics::install();
    if any_spawner::Executor::init_custom_executor(request_id::Carrying).is_err() {
        tracing::debug!("a task spawner was set already: Leptos's tasks do not carry the request id");
    }
}

/// The router wrapped in the request id, the request's log span and the request metrics.
/// Outermost first: an incoming id that will not do is dropped, the id is set (kept or made),
/// copied onto the response, carried by the span and the task-local, and the request is counted
/// and timed.
pub fn instrument<S: Clone + Send + Sync + 'static>(router: Router<S>) -> Router<S> {
    router
        .layer(axum::middleware::from_fn(metrics::observe))
        .layer(axum::middleware::from_fn(request_id::scope))
        .layer(TraceLayer::new_for_http().make_span_with(|req: &Request<axum::body::Body>| {
            let id = req.headers().get(&request_id::HEADER).and_then(|v| v.to_str().ok()).unwrap_or("-");
            // The path only: a query string may carry a sign-in code.
            tracing::info_span!("request", request_id = %id, method = %req.method(), path = %req.uri().path())
        }))
        .layer(PropagateRequestIdLayer::new(request_id::HEADER))
        .layer(SetRequestIdLayer::new(request_id::HEADER, request_id::MakeId))
        .layer(axum::middleware::map_request(request_id::drop_unacceptable))
}
