//! `GET /report.pdf?filters`: the assessors' report for the dashboard's filter.

use std::sync::{Arc, OnceLock};

use axum::{
    extract::{Query, State},
    http::header,
    response::{IntoResponse, Response},
};
use tokio::sync::Semaphore;

use crate::{comuni::ComuniFilter, error::AppError, evaluation::Snapshot, state::AppState};

/// Typesetting takes a second of CPU: at most this many reports at once, so a burst of
/// requests queues here instead of filling the blocking pool that uploads and charts share.
const CONCURRENT_REPORTS: usize = 2;

fn permits() -> &'static Semaphore {
    static PERMITS: OnceLock<Semaphore> = OnceLock::new();
    PERMITS.get_or_init(|| Semaphore::new(CONCURRENT_REPORTS))
}

/// The report of the current data for `filter`, as PDF bytes (public data only, like the
/// dashboard).
pub async fn render(
    state: &AppState,
    snapshot: Arc<Snapshot>,
    filter: &ComuniFilter,
) -> Result<Vec<u8>, AppError> {
    let filter = filter.validate()?;
    let graphics = state.graphics.get(&snapshot, &filter).await?;
    let generated_at = chrono::Local::now().format("%d/%m/%Y alle %H:%M").to_string();
    let _permit = permits().acquire().await.map_err(|_| AppError::Internal)?;
    let typeset = tokio::task::spawn_blocking(move || {
        let report = super::pdf::contents(&snapshot, &filter, &graphics, &generated_at);
        super::pdf::typeset(&report)
    })
    .await;
    match typeset {
        Ok(Ok(bytes)) => Ok(bytes),
        Ok(Err(e)) => {
            tracing::error!(error = %e, "report not typeset");
            Err(AppError::Internal)
        }
        Err(e) => {
            tracing::error!(error = %e, "report task failed");
            Err(AppError::Internal)
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
    let viewer = extensions.get::<crate::auth::session::RequestAuth>().and_then(|a| a.viewer.clone());
    filter.validate_for(viewer.as_ref())?;
    let snapshot = state.snapshot().await?;
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
