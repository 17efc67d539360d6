//! The server function of `/opendata`.

use leptos::prelude::*;

use super::OpenDataPage;
use crate::error::AppError;

/// The catalogue with the data's dates (public).
#[server(endpoint = "dati-aperti")]
pub async fn get_open_data() -> Result<OpenDataPage, AppError> {
    let state = crate::state::app_state()?;
    let snapshot = state.snapshot().await?;
    let modified = crate::data::opendata::last_change(&state.db).await?;
    Ok(OpenDataPage { datasets: super::datasets(), modified, as_of: snapshot.as_of, demo: snapshot.demo })
}
