//! Stopping: on SIGTERM (or Ctrl-C) the server stops accepting connections at once, lets the
//! requests in flight finish for a grace period (`TRAGUARDI_SHUTDOWN_GRACE_SECS`, default 30),
//! then removes the temporary files of the uploads the stop cut, and returns (the process exits
//! 0). Without the grace period a slow client (a large upload on a poor line) would hold the
//! stop forever, and an orchestrator would end it with SIGKILL, leaving the cleanup to the next
//! start.

use std::{future::IntoFuture, net::SocketAddr, sync::Arc, time::Duration};

use axum::Router;

use crate::evidence::store::EvidenceStore;

/// The default grace period: long enough for a normal upload to finish, shorter than the usual
/// orchestrators' wait before they kill.
pub const DEFAULT_GRACE: Duration = Duration::from_secs(30);

/// `TRAGUARDI_SHUTDOWN_GRACE_SECS` (whole seconds, default 30); a bad value stops the start.
pub fn grace_from_env() -> anyhow::Result<Duration> {
    match std::env::var("TRAGUARDI_SHUTDOWN_GRACE_SECS") {
        Ok(v) => v.trim().parse::<u64>().map(Duration::from_secs).map_err(|_| {
            anyhow::anyhow!("TRAGUARDI_SHUTDOWN_GRACE_SECS must be a whole number of seconds (0 or more)")
        }),
        Err(_) => Ok(DEFAULT_GRACE),
    }
}

/// Serves `app` on `listener` until Ctrl-C or SIGTERM, then stops as the module says.
pub async fn serve_until_stopped(
    listener: tokio::net::TcpListener,
    app: Router,
    grace: Duration,
    evidence: Arc<EvidenceStore>,
) -> anyhow::Result<()> {
    let (stopping, stopped) = tokio::sync::oneshot::channel::<()>();
    let stop = async move {
        signal().await;
        tracing::info!(
            grace_secs = grace.as_secs(),
            "stop requested: no new connections, waiting for the requests in flight"
        );
        let _ = stopping.send(());
    };
    let server = axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>())
        .with_graceful_shutdown(stop);
    let grace_over = async move {
        match stopped.await {
            Ok(()) => tokio::time::sleep(grace).await,
            // The server ended without a stop (an error): its own branch reports it.
            Err(_) => std::future::pending().await,
        }
    };
    tokio::select! {
        served = server.into_future() => {
            served?;
            tracing::info!("requests in flight finished");
        }
        () = grace_over => tracing::warn!("grace period over: the requests still in flight are cut"),
    }
    let cut = evidence.remove_uploads_in_flight().await;
    if cut > 0 {
        tracing::info!(uploads = cut, "temporary files of the cut uploads removed");
    }
    tracing::info!("Traguardi stopped");
    Ok(())
}

/// Ctrl-C or SIGTERM, whichever comes first.
async fn signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot listen for SIGTERM: only Ctrl-C stops gracefully");
                std::future::pending::<()>().await
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
}
