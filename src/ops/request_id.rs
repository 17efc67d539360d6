//! A request id for every request: made here (or kept from the `x-request-id` the client or a
//! proxy sent), carried by the request's log span, sent back in the `x-request-id` header and
//! printed on the error page, so that a person's report ("Codice della richiesta: …") leads
//! to the request's lines in the log.
//!
//! The id reaches the code that renders an error in two ways: a tokio task-local set around
//! the handler ([`current`]: plain routes, whose errors become responses through
//! `AppError::into_response`), and the request's own headers, which `leptos_axum` puts in the
//! Leptos context as `Parts` (pages and server functions, also when a resource runs in a task
//! of its own). Tasks that Leptos spawns get the span and the task-local too ([`Carrying`]).

use std::{
    future::Future,
    sync::{
        atomic::{AtomicU64, Ordering},
        OnceLock,
    },
};

use axum::{
    extract::Request,
    http::{HeaderName, HeaderValue},
    middleware::Next,
    response::Response,
};
use tower_http::request_id::{MakeRequestId, RequestId};
use tracing::Instrument;

pub const HEADER: HeaderName = HeaderName::from_static("x-request-id");
/// The longest incoming id kept; a longer or odd one is replaced by one of ours.
pub const MAX_INCOMING: usize = 64;

tokio::task_local! {
    static CURRENT: String;
}

/// `<8 hex digits of this process>-<counter>`: short enough to read out over the phone,
/// unique across restarts and instances (the prefix is random per process).
#[derive(Clone, Copy, Debug, Default)]
pub struct MakeId;

impl MakeRequestId for MakeId {
    fn make_request_id<B>(&mut self, _: &axum::http::Request<B>) -> Option<RequestId> {
        HeaderValue::from_str(&next_id()).ok().map(RequestId::new)
    }
}

pub fn next_id() -> String {
    static PREFIX: OnceLock<String> = OnceLock::new();
    static COUNTER: AtomicU64 = AtomicU64::new(1);
    let prefix = PREFIX.get_or_init(|| format!("{:08x}", rand::random::<u32>()));
    format!("{prefix}-{:06}", COUNTER.fetch_add(1, Ordering::Relaxed))
}

/// Whether an incoming id is kept: 1 to [`MAX_INCOMING`] letters, digits, `-`, `_`, `.`. An
/// id goes into the log and onto the error page: nothing else may come through.
pub fn acceptable(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= MAX_INCOMING
        && id.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

/// Runs before `SetRequestIdLayer`: drops an incoming id that is not [`acceptable`] (and all
/// but the first of repeated ones), so that one of ours replaces it.
pub async fn drop_unacceptable(mut req: Request) -> Request {
    let keep = req
        .headers()
        .get(&HEADER)
        .and_then(|v| v.to_str().ok())
        .filter(|v| acceptable(v))
        .map(str::to_string);
    let headers = req.headers_mut();
    headers.remove(&HEADER);
    if let Some(id) = keep {
        headers.insert(HEADER, HeaderValue::from_str(&id).expect("checked characters"));
    }
    req
}

/// The request's id from its extension (set by `SetRequestIdLayer`).
pub fn of_request(req: &Request) -> Option<String> {
    req.extensions().get::<RequestId>().and_then(|id| id.header_value().to_str().ok()).map(str::to_string)
}

/// Middleware: the rest of the request runs with its id in the task-local.
pub async fn scope(req: Request, next: Next) -> Response {
    match of_request(&req) {
        Some(id) => CURRENT.scope(id, next.run(req)).await,
        None => next.run(req).await,
    }
}

/// The id of the request being served, if any: the task-local, else (in a Leptos render or
/// server function) the `x-request-id` of the request in the Leptos context.
pub fn current() -> Option<String> {
    if let Ok(id) = CURRENT.try_with(Clone::clone) {
        return Some(id);
    }
    leptos::prelude::use_context::<axum::http::request::Parts>()
        .and_then(|parts| parts.headers.get(&HEADER).and_then(|v| v.to_str().ok()).map(str::to_string))
}

/// The Italian line printed under an internal error.
pub fn code_line(id: &str) -> String {
    format!("Codice della richiesta: {id}")
}

/// `fut` with the current span and request id, for a task spawned on behalf of the request.
pub fn carried<F: Future>(fut: F) -> impl Future<Output = F::Output> {
    let id = CURRENT.try_with(Clone::clone).ok();
    let fut = fut.instrument(tracing::Span::current());
    async move {
        match id {
            Some(id) => CURRENT.scope(id, fut).await,
            None => fut.await,
        }
    }
}

/// Leptos's task spawner (what `init_tokio` does) plus [`carried`]: the resources a page
/// loads run in tasks of their own, and what they log (a database error behind a 500) must
/// carry the request's id like the rest of its lines.
pub struct Carrying;

impl any_spawner::CustomExecutor for Carrying {
    fn spawn(&self, fut: any_spawner::PinnedFuture<()>) {
        tokio::spawn(carried(fut));
    }

    fn spawn_local(&self, fut: any_spawner::PinnedLocalFuture<()>) {
        tokio::task::spawn_local(carried(fut));
    }

    fn poll_local(&self) {}
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_and_acceptable() {
        let (a, b) = (next_id(), next_id());
        assert_ne!(a, b);
        assert!(acceptable(&a) && acceptable(&b), "{a} {b}");
        assert_eq!(a.split('-').next(), b.split('-').next(), "one prefix per process");
    }

    #[test]
    fn odd_incoming_ids_are_not_kept() {
        assert!(acceptable("abc-123_x.y"));
        for bad in ["", "a b", "<script>", "ä", &"x".repeat(MAX_INCOMING + 1), "a\"b"] {
            assert!(!acceptable(bad), "{bad:?}");
        }
    }

    #[tokio::test]
    async fn a_carried_task_keeps_the_id() {
        let seen = CURRENT
            .scope("prova-1".to_string(), async { tokio::spawn(carried(async { current() })).await.unwrap() })
            .await;
        assert_eq!(seen.as_deref(), Some("prova-1"));
        // …and a plain spawn does not (what the carrying is for).
        let lost = CURRENT
            .scope("prova-2".to_string(), async { tokio::spawn(async { current() }).await.unwrap() })
            .await;
        assert_eq!(lost, None);
    }
}
