//! The HTTP server: the router (split from `main` so tests drive it with `oneshot`), its plain
//! routes and start-up.

pub mod assets;
pub mod cache;
pub mod shutdown;

use std::time::Duration;

use axum::{
    extract::State,
    http::{Method, StatusCode},
    routing::{get, post, MethodRouter},
    Router,
};
use leptos::prelude::*;
use leptos_axum::{generate_route_list, LeptosRoutes};

use crate::{
    app::{shell, App},
    data::Db,
    state::AppState,
};

/// A route outside Leptos (files, sign-in, forms).
pub struct PlainRoute {
    pub path: &'static str,
    pub method: Method,
    pub handler: MethodRouter<AppState>,
}

/// Every plain route, in one table: the router is built from it and the authorization matrix
/// test walks it, so a route cannot be added without being checked.
pub fn plain_routes() -> Vec<PlainRoute> {
    use crate::{auth::routes as auth, limits::body::UPLOAD_ROUTES, opendata::api};
    // The public API is read by other sites' scripts too: simple GETs, no credentials.
    let cors = || {
        tower_http::cors::CorsLayer::new().allow_origin(tower_http::cors::Any).allow_methods([Method::GET])
    };
    let r = |path, method, handler| PlainRoute { path, method, handler };
    let lists =
        crate::exports::routes::routes().into_iter().map(|(path, handler)| r(path, Method::GET, handler));
    let mut routes = vec![
        r("/healthz", Method::GET, get(healthz)),
        r("/readyz", Method::GET, get(crate::ops::ready::readyz)),
        r("/metrics", Method::GET, get(crate::ops::metrics::scrape)),
        r("/export/comuni.csv", Method::GET, get(crate::comuni::export::comuni_csv)),
        r("/export/comuni-excel.csv", Method::GET, get(crate::comuni::export::comuni_excel_csv)),
        r("/export/comuni.json", Method::GET, get(crate::comuni::export::comuni_json)),
        r("/export/comuni.xlsx", Method::GET, get(crate::comuni::export::comuni_xlsx)),
        r("/grafici/{file}", Method::GET, get(crate::dashboard::server::download_svg)),
        r("/report.pdf", Method::GET, get(crate::report::routes::report_pdf)),
        r("/accedi", Method::POST, post(auth::login)),
        r("/esci", Method::POST, post(auth::logout)),
        r("/accedi/oidc", Method::POST, post(auth::oidc_start)),
        r("/accedi/oidc/callback", Method::GET, get(auth::oidc_callback)),
        r("/utenti", Method::POST, post(auth::add_user)),
        r("/utenti/disattiva", Method::POST, post(auth::disable_user)),
        r("/profilo/promemoria", Method::POST, post(crate::reminders::routes::save_preferences)),
        r("/feedback", Method::POST, crate::site::routes::feedback_route()),
        r("/comuni/{codice}/gestione/{azione}", Method::POST, post(crate::workspace::routes::submit)),
        // The uploads bound their own bodies (see `limits::body`).
        r(UPLOAD_ROUTES[0], Method::POST, post(crate::evidence::upload::upload)),
        r("/evidenze/{id}/esame", Method::POST, post(crate::evidence::routes::review)),
        r("/evidenze/{id}/file", Method::GET, get(crate::evidence::routes::download)),
        r(UPLOAD_ROUTES[1], Method::POST, post(crate::imports::routes::upload)),
        r("/importazioni/{id}/conferma", Method::POST, post(crate::imports::routes::confirm)),
        r("/importazioni/{id}/file", Method::GET, get(crate::imports::routes::download)),
        r("/importazioni/modelli/{file}", Method::GET, get(crate::imports::routes::template)),
        // Open data: the read-only API (any origin may read it) and the DCAT-AP_IT catalogue.
        r("/api/v1/province", Method::GET, get(api::get_province).layer(cors())),
        r("/api/v1/comuni", Method::GET, get(api::get_comuni).layer(cors())),
        r("/api/v1/comuni/{codice_istat}", Method::GET, get(api::get_comune).layer(cors())),
        r("/api/v1/openapi.json", Method::GET, get(api::get_openapi).layer(cors())),
        r("/api/v1/{*resto}", Method::GET, get(api::unknown).layer(cors())),
        r("/opendata/catalogo.rdf", Method::GET, get(crate::opendata::dcat::catalogue)),
    ];
    routes.extend(lists);
    routes
}

/// The Leptos routes, generated once per process. Generating them runs the app with resource
/// loading suppressed through a process-global flag, and a resource first polled meanwhile by
/// another render never resolves (leptos-rs/leptos#4773): so no render may overlap it. Every
/// router is built from this list before it serves, hence after the one generation.
pub fn route_list() -> Vec<leptos_axum::AxumRouteListing> {
    static ROUTES: std::sync::OnceLock<Vec<leptos_axum::AxumRouteListing>> = std::sync::OnceLock::new();
    ROUTES
        .get_or_init(|| {
            crate::ops::install();
            generate_route_list(App)
        })
        .clone()
}

/// Builds the whole application for `state`.
pub fn router(state: AppState) -> Router {
    let routes = route_list();
    let mut router = Router::new();
    for route in plain_routes() {
        router = router.route(route.path, route.handler);
    }
    let router = router
        .leptos_routes(&state, routes, {
            let options = state.leptos_options.clone();
            move || shell(options.clone())
        })
        .fallback(leptos_axum::file_and_error_handler::<AppState, _>(shell))
        // Every route's body bounded (the uploads bound theirs themselves).
        .route_layer(axum::middleware::from_fn(crate::limits::body::limit))
        .layer(axum::middleware::from_fn(crate::limits::server_fn::check))
        .layer(axum::middleware::from_fn_with_state(state.clone(), crate::auth::session::resolve))
        // Outside the session layer: a static file is public, whoever asks for it.
        .layer(axum::middleware::from_fn_with_state(state.clone(), assets::serve));
    // Public answers come from the cache, compressed once per data version (`cache`); the rest
    // is compressed as the browser asks (Brotli or gzip, at a quality quick enough for every
    // request: the dashboard's HTML with the map is ~250 KB, ~60 KB compressed); clients that do
    // not ask get the bytes as they are. Evidence files are sent as stored (PDFs and signed files
    // are compressed already, and keep their Content-Length), and so are workbooks (zip files).
    use tower_http::compression::predicate::{NotForContentType, Predicate};
    let compress = tower_http::compression::predicate::DefaultPredicate::new()
        .and(NotForContentType::const_new("application/pdf"))
        .and(NotForContentType::const_new("application/pkcs7-mime"))
        .and(NotForContentType::const_new(crate::comuni::export::XLSX_TYPE));
    let router = crate::security::protect(router)
        .layer(axum::middleware::from_fn_with_state(state.clone(), cache::serve))
        .layer(
            tower_http::compression::CompressionLayer::new()
                .gzip(true)
                .br(true)
                .quality(tower_http::CompressionLevel::Precise(4))
                .compress_when(compress),
        );
    crate::ops::instrument(router).with_state(state)
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
pub async fn serve(
    db: Db,
    auth: crate::auth::config::AuthArgs,
    audit: crate::audit::AuditArgs,
    smtp: crate::reminders::config::SmtpArgs,
) -> anyhow::Result<()> {
    let conf = get_configuration(None)?;
    let options = conf.leptos_options;
    let addr = options.site_addr;
    let auth = auth.validate(&addr.to_string())?;
    tracing::info!(
        public_url = %auth.public_url,
        secure_cookies = auth.cookie_secure,
        oidc = auth.oidc.as_ref().map(|o| o.issuer.as_str()).unwrap_or("off"),
        "sign-in settings"
    );
    // Fail fast on a bad evidence store; then remove what an interrupted upload left behind.
    let evidence = crate::evidence::store::EvidenceStore::from_env()?;
    tracing::info!(
        store = %evidence.description,
        max_bytes = evidence.max_bytes,
        sweep_min_age_secs = evidence.sweep_min_age.as_secs(),
        "evidence store"
    );
    // Only leftovers older than the safe age: another instance sharing the store may be mid-upload.
    let removed = evidence.sweep_at_start(&db).await?;
    if removed > 0 {
        tracing::info!(files = removed, "evidence sweep: leftovers of interrupted uploads removed");
    }
    // Fail fast on a configured but unusable audit key; then sign checkpoints in the background.
    if let Some(key) = audit.load()? {
        let every = Duration::from_secs(60 * audit.audit_checkpoint_minutes);
        tracing::info!(public_key = %key.public().hex(), minutes = audit.audit_checkpoint_minutes, "audit checkpoints");
        tokio::spawn(crate::audit::checkpoint_periodically(db.clone(), std::sync::Arc::new(key), every));
    } else {
        tracing::info!("audit checkpoints off (no {})", crate::audit::KEY_ENV);
    }
    // Fail fast on half an SMTP configuration or a bad value; none at all: no reminders.
    let mailer = smtp.validate()?;
    match &mailer {
        Some(m) => tracing::info!(server = %m.description, from = %m.from, "reminders by e-mail on"),
        None => tracing::info!(
            "reminders by e-mail off (no TRAGUARDI_SMTP_URL and TRAGUARDI_SMTP_FROM): none are recorded or sent"
        ),
    }
    let limits = crate::limits::work::WorkLimits::from_env()?;
    let metrics_access = crate::ops::MetricsAccess::from_env()?;
    tracing::info!(readers = %metrics_access.describe(), "/metrics");
    let grace = shutdown::grace_from_env()?;
    let site_root = std::path::PathBuf::from(options.site_root.as_ref());
    let assets = assets::Assets::from_site(&site_root)
        .map_err(|e| anyhow::anyhow!("cannot read the static files under {}: {e}", site_root.display()))?;
    match (assets.hash("pkg"), assets.hash("bootstrap-italia")) {
        (Some(pkg), Some(bi)) => tracing::info!(pkg, bootstrap_italia = bi, "static files hashed"),
        _ => tracing::warn!(
            site = %site_root.display(),
            "static files not found (build with `make build`): pages link them by their plain names"
        ),
    }
    let pages = cache::PageCache::from_env()?;
    tracing::info!(max_mb = pages.max_bytes() / (1024 * 1024), "page cache (TRAGUARDI_PAGE_CACHE_MB)");
    let state = AppState::with_auth(options, db, auth)
        .with_pages(pages)
        .with_assets(assets)
        .with_evidence(evidence)
        .with_limits(limits)
        .with_metrics_access(metrics_access)
        .with_mailer(mailer);
    if let Some(oidc) = &state.auth.oidc {
        oidc.probe().await;
    }
    tokio::spawn(sweep_periodically(state.clone()));
    if let Some(mailer) = state.mailer.clone() {
        tokio::spawn(crate::reminders::job::run_periodically(
            state.db.clone(),
            mailer,
            state.programme.clone(),
            state.auth.config.public_url.clone(),
        ));
    }
    // Build the first snapshot now: a broken programme definition fails the start, not a visitor.
    state.snapshot().await.map_err(|e| anyhow::anyhow!("cannot evaluate the programme: {e}"))?;
    let evidence = state.evidence.clone();
    let app = router(state);
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    tracing::info!("Traguardi listening on http://{addr}");
    shutdown::serve_until_stopped(listener, app, grace, evidence).await
}

/// Every ten minutes: expired sessions and abandoned OIDC sign-ins leave the database, idle
/// rate-limit counters leave memory.
async fn sweep_periodically(state: AppState) {
    let mut tick = tokio::time::interval(Duration::from_secs(600));
    loop {
        tick.tick().await;
        sweep_sign_ins(&state).await;
        // Leftovers older than an hour at least (this process's uploads are in flight too).
        let swept = state.evidence.sweep(&state.db, state.evidence.periodic_min_age()).await;
        crate::ops::metrics::job("evidence_sweep", swept.is_ok());
        match swept {
            Ok(n) if n > 0 => tracing::info!(files = n, "evidence sweep: leftovers removed"),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "evidence sweep failed"),
        }
    }
}

/// One pass of the sign-in sweep: sessions past their idle or absolute limit, OIDC sign-ins
/// started more than `OIDC_MAX_AGE_SECS` ago (the callback refuses them anyway), idle
/// rate-limit counters.
pub async fn sweep_sign_ins(state: &AppState) {
    let config = &state.auth.config;
    let now = crate::auth::session::now();
    let result = crate::data::accounts::sweep(
        &state.db,
        now - config.idle.as_secs() as i64,
        now - config.absolute.as_secs() as i64,
        now - crate::auth::routes::OIDC_MAX_AGE_SECS,
    )
    .await;
    crate::ops::metrics::job("session_sweep", result.is_ok());
    match result {
        Ok(n) if n > 0 => tracing::info!(sessions = n, "expired sessions removed"),
        Ok(_) => {}
        Err(e) => tracing::warn!(error = %e, "session sweep failed"),
    }
    if let Err(e) = state.auth.limiter.forget_idle(&state.db).await {
        tracing::warn!(error = %e, "sign-in limit sweep failed");
    }
}
