//! The server function of the site pages: the messages of the feedback form, for the Region.
//! (Sending one is a plain route, `routes::submit_feedback`, so the form works without
//! JavaScript.)

use leptos::prelude::*;

use super::ReceivedFeedback;
#[cfg(feature = "ssr")]
use crate::error::set_status_on_error;
use crate::error::AppError;

/// One page (`pagina`, empty: the first) of the messages, newest first (the Region only).
#[server(endpoint = "feedback-ricevuti")]
pub async fn list_feedback(
    #[server(default)] pagina: String,
) -> Result<crate::paging::Paged<ReceivedFeedback>, AppError> {
    let result = async {
        crate::auth::guard::require_feedback_reader()?;
        let page = crate::paging::parse_page(&pagina).map_err(AppError::BadRequest)?;
        let state = crate::state::app_state()?;
        let (rows, page, pages, total) = crate::paging::fetch_page(page, |offset| {
            crate::data::feedback::page(&state.db, crate::paging::PAGE_SIZE, offset)
        })
        .await?;
        let items = rows
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
            .collect();
        Ok(crate::paging::Paged { items, page, pages, total })
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
