//! The body of every request but the two uploads: at most [`FORM_BYTES`].
//!
//! Forms go through axum's `Form` (bounded at 2 MB by axum's default), but server functions read
//! their whole body into memory with no bound of their own. This layer refuses a declared
//! `Content-Length` over the bound at once, and cuts a body without one at the bound: the reader
//! gets an error instead of the next chunk, and whatever it answered becomes the same 413 (in
//! Italian, not the reader's own 500). The uploads bound their bodies themselves, with their own
//! limits and pages ([`crate::limits::multipart`]).

use std::sync::{
    atomic::{AtomicBool, Ordering},
    Arc,
};

use axum::{
    body::Body,
    extract::{MatchedPath, Request},
    http::{header, StatusCode},
    middleware::Next,
    response::{IntoResponse, Response},
};

/// A form or a server function's arguments: far above what the site's forms send.
pub const FORM_BYTES: usize = 2 * 1024 * 1024;

/// The routes whose handlers bound their own bodies (the evidence and import uploads).
pub const UPLOAD_ROUTES: [&str; 2] = ["/comuni/{codice}/evidenze/{obiettivo}", "/importazioni"];

/// The middleware (a `route_layer`, so the matched route is known).
pub async fn limit(matched: Option<MatchedPath>, req: Request, next: Next) -> Response {
    if matched.as_ref().is_some_and(|m| UPLOAD_ROUTES.contains(&m.as_str())) {
        return next.run(req).await;
    }
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if declared.is_some_and(|n| n > FORM_BYTES as u64) {
        return too_large();
    }
    let (parts, body) = req.into_parts();
    let exceeded = Arc::new(AtomicBool::new(false));
    let body = Body::new(Flagged {
        inner: http_body_util::Limited::new(body, FORM_BYTES),
        exceeded: exceeded.clone(),
    });
    let response = next.run(Request::from_parts(parts, body)).await;
    if exceeded.load(Ordering::Acquire) {
        return too_large();
    }
    response
}

fn too_large() -> Response {
    (
        StatusCode::PAYLOAD_TOO_LARGE,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        "La richiesta è troppo grande: non è stata elaborata.",
    )
        .into_response()
}

/// A limited body that remembers whether the limit was hit.
struct Flagged {
    inner: http_body_util::Limited<Body>,
    exceeded: Arc<AtomicBool>,
}

impl http_body::Body for Flagged {
    type Data = bytes::Bytes;
    type Error = axum::BoxError;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<http_body::Frame<Self::Data>, Self::Error>>> {
        let frame = std::pin::Pin::new(&mut self.inner).poll_frame(cx);
        if let std::task::Poll::Ready(Some(Err(e))) = &frame {
            if e.is::<http_body_util::LengthLimitError>() {
                self.exceeded.store(true, Ordering::Release);
            }
        }
        frame
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}
