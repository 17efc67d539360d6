//! The one state of the server, handed to `leptos_routes` so every route and server function
//! reads it from context.

use std::sync::Arc;

use axum::extract::FromRef;
use leptos::prelude::LeptosOptions;

use crate::{
    data::{programme::FONDO_INNOVAZIONE, Db},
    error::AppError,
    evaluation::{Snapshot, SnapshotCache},
};

#[derive(Clone, Debug, FromRef)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    pub db: Db,
    pub snapshots: Arc<SnapshotCache>,
    /// The programme the pages show.
    pub programme: Arc<str>,
}

impl AppState {
    pub fn new(leptos_options: LeptosOptions, db: Db) -> Self {
        AppState { leptos_options, db, snapshots: Arc::default(), programme: FONDO_INNOVAZIONE.into() }
    }

    /// The evaluated programme for today (cached).
    pub async fn snapshot(&self) -> Result<Arc<Snapshot>, AppError> {
        self.snapshots.get(&self.db, &self.programme).await
    }
}

/// The state inside a server function or a component rendered on the server.
pub fn app_state() -> Result<AppState, AppError> {
    leptos::prelude::use_context::<AppState>().ok_or_else(|| {
        tracing::error!("AppState missing from the Leptos context");
        AppError::Internal
    })
}
