//! `GET /report.pdf?filters`: the assessors' report for the dashboard's filter.

use std::sync::Arc;

use axum::{
    extract::State,
    http::header,
    response::{IntoResponse, Response},
};

use crate::{
    comuni::ComuniFilter, error::AppError, evaluation::Snapshot, limits::query::Query, state::AppState,
};

/// The report of the current data for `filter`, as PDF bytes (public data only, like the
/// dashboard). Typesetting takes a second of CPU: it waits for a turn of the report's
/// [`WorkLimit`](crate::limits::work::WorkLimit) (`TRAGUARDI_LIMITE_REPORT`), and a burst past
/// its queue is answered 503 at once instead of filling the blocking pool that uploads and
/// charts share. The turn is held by the typesetting task itself, to its end.
pub async fn render(
    state: &AppState,
    snapshot: Arc<Snapshot>,
    filter: &ComuniFilter,
) -> Result<Vec<u8>, AppError> {
    let filter = filter.validate()?;
    let permit = state.limits.report.acquire().await?;
    let graphics = state.graphics.get(&snapshot, &filter, &state.limits.drawing).await?;
    let geometry = state.graphics.geometry();
    let generated_at = chrono::Local::now().format("%d/%m/%Y alle %H:%M").to_string();
    let typeset = tokio::task::spawn_blocking(move || {
        let _permit = permit;
        let report = super::pdf::contents(&snapshot, &filter, &graphics, &geometry, &generated_at);
        super::pdf::typeset(&report)
    })
    .await;
    match typeset {
        Ok(Ok(bytes)) => Ok(bytes),
        Ok(Err(e)) => {
            tracing::error!(error = %e, "report not typeset");
            Err(AppError::INTERNAL)
        }
        Err(e) => {
            tracing::error!(error = %e, "report task failed");
            Err(AppError::INTERNAL)
        }
    }
}

/// `GET /report.pdf`: shown in the browser (to print or save), named with the data's date.
pub async fn report_pdf(
    State(state): State<AppState>,
    Query(filter): Query<ComuniFilter>,
    extensions: axum::http::Extensions,
) -> Result<Response, AppError> {
    // Refused before any work: `bloccato` is not a filter the public may use.
    let viewer = crate::auth::session::viewer_of(&extensions);
    let valid = filter.validate_for(viewer.as_ref(), &state.territory)?;
    let snapshot = state.snapshot_on(valid.al).await?;
    let filename = crate::comuni::export::file_name(&snapshot, "rapporto", "pdf");
    let bytes = render(&state, snapshot, &filter).await?;
    Ok((
        [
            (header::CONTENT_TYPE, "application/pdf".to_string()),
            (header::CONTENT_DISPOSITION, format!("inline; filename=\"{filename}\"")),
        ],
        bytes,
    )
        .into_response())
}
