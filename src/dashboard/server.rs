//! Server functions of the dashboard: thin adapters over the cached [`Snapshot`](crate::evaluation::Snapshot).

use leptos::prelude::*;

use super::Summary;
use crate::error::AppError;

/// The headline figures and the adhesion table, for all comuni.
#[server(endpoint = "riepilogo")]
pub async fn get_summary() -> Result<Summary, AppError> {
    let snapshot = crate::state::app_state()?.snapshot().await?;
    Ok(snapshot.summary(&Default::default()))
}

/// The adhesion-by-province bar chart as SVG, drawn by plotters on the server.
#[server(endpoint = "grafico-adesione")]
pub async fn get_adhesion_chart() -> Result<String, AppError> {
    let snapshot = crate::state::app_state()?.snapshot().await?;
    let rows = snapshot.summary(&Default::default()).province;
    // Drawing is CPU work: keep it off the async workers.
    tokio::task::spawn_blocking(move || super::chart::adhesion_by_province(&rows))
        .await
        .map_err(|e| {
            tracing::error!(error = %e, "chart task failed");
            AppError::Internal
        })?
        .map_err(|e| {
            tracing::error!(error = %e, "chart drawing failed");
            AppError::Internal
        })
}
