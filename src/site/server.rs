//! The server function of the site pages: the messages of the feedback form, for the Region.
//! (Sending one is a plain route, `routes::submit_feedback`, so the form works without
//! JavaScript.)

use leptos::prelude::*;

use super::ReceivedFeedback;
#[cfg(feature = "ssr")]
use crate::error::set_status_on_error;
use crate::error::AppError;

/// How many messages `/feedback/ricevuti` shows, newest first.
pub const LATEST: i64 = 100;

/// The latest messages (the Region only).
#[server(endpoint = "feedback-ricevuti")]
pub async fn list_feedback() -> Result<Vec<ReceivedFeedback>, AppError> {
    let result = async {
        crate::auth::guard::require_feedback_reader()?;
        let state = crate::state::app_state()?;
        let rows = crate::data::feedback::latest(&state.db, LATEST).await?;
        Ok(rows
            .into_iter()
            .map(|r| ReceivedFeedback {
                id: r.id,
                received: received_at(r.created_at),
                page: r.page,
                task: r.task,
                rating: r.rating,
                message: r.message,
                email: r.email,
            })
            .collect())
    }
    .await;
    set_status_on_error(&result);
    result
}

/// Unix seconds as `dd/mm/yyyy hh:mm` in the server's time zone (`TZ`).
#[cfg(feature = "ssr")]
fn received_at(secs: i64) -> String {
    use chrono::TimeZone;
    match chrono::Local.timestamp_opt(secs, 0).single() {
        Some(t) => t.format("%d/%m/%Y %H:%M").to_string(),
        None => "–".to_string(),
    }
}
