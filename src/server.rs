//! The HTTP server: the router (split from `main` so tests drive it with `oneshot`), its plain
//! routes (`/healthz`, `/export/comuni.csv`) and start-up.

use axum::{extract::State, http::StatusCode, routing::get, Router};
use leptos::prelude::*;
use leptos_axum::{generate_route_list, LeptosRoutes};
use tower_http::trace::TraceLayer;

use crate::{
    app::{shell, App},
    data::Db,
    state::AppState,
};

/// Builds the whole application for `state`.
pub fn router(state: AppState) -> Router {
    let routes = generate_route_list(App);
    let router = Router::new()
        .route("/healthz", get(healthz))
        .route("/export/comuni.csv", get(crate::comuni::export::comuni_csv))
        .leptos_routes(&state, routes, {
            let options = state.leptos_options.clone();
            move || shell(options.clone())
        })
        .fallback(leptos_axum::file_and_error_handler::<AppState, _>(shell));
    crate::security::protect(router).layer(TraceLayer::new_for_http()).with_state(state)
}

/// 200 when the database answers, 503 otherwise.
async fn healthz(State(state): State<AppState>) -> (StatusCode, &'static str) {
    match state.db.ping().await {
        Ok(()) => (StatusCode::OK, "ok"),
        Err(e) => {
            tracing::error!(error = %e, "health check: database unreachable");
            (StatusCode::SERVICE_UNAVAILABLE, "database non raggiungibile")
        }
    }
}

/// Serves the application until Ctrl-C or SIGTERM.
pub async fn serve(db: Db) -> anyhow::Result<()> {
    let conf = get_configuration(None)?;
    let options = conf.leptos_options;
    let addr = options.site_addr;
    let state = AppState::new(options, db);
    // Build the first snapshot now: a broken programme definition fails the start, not a visitor.
    state.snapshot().await.map_err(|e| anyhow::anyhow!("cannot evaluate the programme: {e}"))?;
    let app = router(state);
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    tracing::info!("Traguardi listening on http://{addr}");
    axum::serve(listener, app.into_make_service()).with_graceful_shutdown(shutdown_signal()).await?;
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
}
