//! `GET /readyz`: whether this instance can serve requests now, for a load balancer or an
//! orchestrator. `/healthz` says the process is alive (and its database answers, as it always
//! did); `/readyz` also asks the evidence store, without which uploads and downloads fail.

use std::time::Duration;

use axum::{extract::State, http::StatusCode};

use crate::state::AppState;

/// How long each check may take: a probe that hangs is a failed probe.
pub const CHECK_TIMEOUT: Duration = Duration::from_secs(5);

/// 200 `pronto` when the database and the evidence store answer; 503 with a short Italian text
/// naming what does not (the cause goes to the log).
pub async fn readyz(State(state): State<AppState>) -> (StatusCode, &'static str) {
    let (db, store) = tokio::join!(
        tokio::time::timeout(CHECK_TIMEOUT, state.db.ping()),
        tokio::time::timeout(CHECK_TIMEOUT, state.evidence.probe()),
    );
    let db_ok = match db {
        Ok(Ok(())) => true,
        Ok(Err(e)) => {
            tracing::error!(error = %e, "readiness: the database does not answer");
            false
        }
        Err(_) => {
            tracing::error!(
                seconds = CHECK_TIMEOUT.as_secs(),
                "readiness: the database did not answer in time"
            );
            false
        }
    };
    let store_ok = match store {
        Ok(Ok(())) => true,
        Ok(Err(e)) => {
            tracing::error!(error = %format!("{e:#}"), store = %state.evidence.description, "readiness: the evidence store does not answer");
            false
        }
        Err(_) => {
            tracing::error!(seconds = CHECK_TIMEOUT.as_secs(), store = %state.evidence.description, "readiness: the evidence store did not answer in time");
            false
        }
    };
    match (db_ok, store_ok) {
        (true, true) => (StatusCode::OK, "pronto"),
        (false, true) => (StatusCode::SERVICE_UNAVAILABLE, "non pronto: database non raggiungibile"),
        (true, false) => {
            (StatusCode::SERVICE_UNAVAILABLE, "non pronto: archivio delle evidenze non raggiungibile")
        }
        (false, false) => (
            StatusCode::SERVICE_UNAVAILABLE,
            "non pronto: database e archivio delle evidenze non raggiungibili",
        ),
    }
}
