//! `POST /feedback`: the feedback form, a plain `<form method="post">` that works without
//! JavaScript. A refused form comes back as its page with the messages and the values typed
//! (`auth::routes::render_page_with`); a stored one redirects to `/feedback?inviato=1`.
//! Cross-site posts are refused by the `CsrfLayer` of `security.rs`, like every form.

use std::{net::IpAddr, num::NonZeroU32, sync::Arc, time::Duration};

use axum::{
    extract::{Request, State},
    http::{header, StatusCode},
    response::{IntoResponse, Redirect, Response},
    routing::{post, MethodRouter},
    Extension,
};
use governor::{clock::Clock, DefaultKeyedRateLimiter, Quota, RateLimiter};

use super::{validate_feedback, FeedbackForm, FORM_ID};
use crate::{
    auth::{
        routes::{client_address, render_page_with, split_form},
        FormFeedback,
    },
    error::AppError,
    state::AppState,
};

/// Messages a client address may send at once…
pub const BURST: u32 = 10;
/// …then one more every this long.
pub const PERIOD: Duration = Duration::from_secs(60);
/// Past this many addresses the limiter forgets those no longer limited.
const FORGET_ABOVE: usize = 10_000;

/// Stored messages per client address (GCRA from `governor`, in this process). Only messages
/// that pass validation count: correcting a refused form costs nothing. Unlike the sign-in limit
/// (kept in the database, see `auth::limit`) it is per process: it bounds spam in the feedback
/// table, which N processes behind a balancer only multiply by N, and guards no secret.
#[derive(Debug)]
pub struct FeedbackLimiter(DefaultKeyedRateLimiter<IpAddr>);

impl FeedbackLimiter {
    pub fn new(burst: u32, period: Duration) -> FeedbackLimiter {
        let quota = Quota::with_period(period)
            .expect("a positive period")
            .allow_burst(NonZeroU32::new(burst).expect("a positive burst"));
        FeedbackLimiter(RateLimiter::keyed(quota))
    }

    /// Counts one message; `Err(wait)` when the address must wait.
    pub fn attempt(&self, address: IpAddr) -> Result<(), Duration> {
        if self.0.len() > FORGET_ABOVE {
            self.0.retain_recent();
        }
        let clock = governor::clock::DefaultClock::default();
        self.0.check_key(&address).map_err(|not_until| not_until.wait_time_from(clock.now()))
    }
}

/// The route, with a limiter of its own: each router built gets a fresh one (so do tests).
pub fn feedback_route() -> MethodRouter<AppState> {
    post(submit_feedback).layer(Extension(Arc::new(FeedbackLimiter::new(BURST, PERIOD))))
}

/// The message for an address past the limit.
pub fn retry_message(wait: Duration) -> String {
    format!(
        "Hai inviato molti messaggi in poco tempo: il tuo commento non è stato inviato. Riprova tra {}.",
        crate::auth::limit::wait_in_words(wait)
    )
}

/// `POST /feedback`.
pub async fn submit_feedback(
    State(state): State<AppState>,
    Extension(limiter): Extension<Arc<FeedbackLimiter>>,
    req: Request,
) -> Response {
    let (parts, form) = match split_form::<FeedbackForm>(&state, req).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    let feedback = |message: String, errors| FormFeedback {
        form: FORM_ID.into(),
        message,
        errors,
        values: vec![
            ("pagina".into(), super::page_path(&form.page)),
            ("attivita".into(), form.task.clone()),
            ("valutazione".into(), form.rating.clone()),
            ("messaggio".into(), form.message.clone()),
            ("email".into(), form.email.clone()),
        ],
    };
    let valid = match validate_feedback(&form) {
        Ok(v) => v,
        Err(errors) => {
            let f = feedback("Il commento non è stato inviato: correggi i campi indicati.".into(), errors);
            // 200: the page itself is the answer, messages and values included.
            return render_page_with(&state, &parts, "/feedback", f, StatusCode::OK).await;
        }
    };
    if let Err(wait) = limiter.attempt(client_address(&state, &parts)) {
        tracing::warn!("feedback refused by the rate limit");
        crate::ops::metrics::rate_limited("feedback");
        let f = feedback(retry_message(wait), Vec::new());
        let mut response =
            render_page_with(&state, &parts, "/feedback", f, StatusCode::TOO_MANY_REQUESTS).await;
        response.headers_mut().insert(header::RETRY_AFTER, crate::auth::limit::retry_after_secs(wait).into());
        return response;
    }
    match crate::data::feedback::insert(&state.db, &valid, crate::auth::session::now()).await {
        Ok(id) => {
            tracing::info!(id, page = %valid.page, "feedback received");
            Redirect::to("/feedback?inviato=1").into_response()
        }
        Err(e) => AppError::from(e).into_response(),
    }
}
