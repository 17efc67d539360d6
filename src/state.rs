//! The one state of the server, handed to `leptos_routes` so every route and server function
//! reads it from context.

use std::sync::Arc;

use axum::extract::FromRef;
use leptos::prelude::LeptosOptions;

use crate::{
    auth::{config::AuthConfig, limit::LoginLimiter, oidc::Oidc},
    comuni::Territory,
    dashboard::graphics::GraphicsCache,
    data::{programme::FONDO_INNOVAZIONE, Db},
    error::AppError,
    evaluation::{Snapshot, SnapshotCache},
    evidence::store::EvidenceStore,
    limits::work::WorkLimits,
    ops::MetricsAccess,
    server::{assets::Assets, cache::PageCache},
};

#[derive(Clone, Debug, FromRef)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    pub db: Db,
    pub snapshots: Arc<SnapshotCache>,
    /// The dashboard's charts and map, per data version and filter.
    pub graphics: Arc<GraphicsCache>,
    /// Public answers, per data version and day, compressed once (`server::cache`).
    pub pages: Arc<PageCache>,
    /// The static files' content hashes, for their addresses (`server::assets`).
    pub assets: Arc<Assets>,
    /// The programme the pages show.
    pub programme: Arc<str>,
    /// The region the deployment follows and its provinces (the filters' allowed values).
    pub territory: Arc<Territory>,
    /// The API's OpenAPI document for the territory, built on the first request that asks.
    openapi: Arc<std::sync::OnceLock<axum::body::Bytes>>,
    pub auth: Arc<AuthState>,
    /// Where evidence files live, and the size limit.
    pub evidence: Arc<EvidenceStore>,
    /// How many expensive answers (report, PNG, charts, workbooks) run and wait at once.
    pub limits: Arc<WorkLimits>,
    /// Who may read `/metrics`.
    pub metrics_access: Arc<MetricsAccess>,
    /// The SMTP server of the reminders; `None`: no reminders.
    pub mailer: Option<Arc<crate::reminders::config::Mailer>>,
}

/// Sign-in settings and the state that goes with them.
#[derive(Debug)]
pub struct AuthState {
    pub config: AuthConfig,
    pub limiter: LoginLimiter,
    /// The Region's identity service, when configured.
    pub oidc: Option<Oidc>,
}

impl AuthState {
    pub fn new(config: AuthConfig) -> AuthState {
        let oidc = config.oidc.clone().map(Oidc::new);
        AuthState { limiter: LoginLimiter::new(&config), oidc, config }
    }

    /// `scheme://host[:port]` of the identity service, for the pages' `form-action`.
    pub fn oidc_origin(&self) -> Option<String> {
        let issuer = &self.config.oidc.as_ref()?.issuer;
        let url = openidconnect::url::Url::parse(issuer).ok()?;
        Some(url.origin().ascii_serialization())
    }
}

impl AppState {
    /// A state with local sign-in only, for a server at the configured site address.
    pub fn new(leptos_options: LeptosOptions, db: Db) -> Self {
        let config = AuthConfig::local(&leptos_options.site_addr.to_string());
        Self::with_auth(leptos_options, db, config)
    }

    pub fn with_auth(leptos_options: LeptosOptions, db: Db, auth: AuthConfig) -> Self {
        let territory = Arc::new(crate::data::registry::territory());
        AppState {
            leptos_options,
            db,
            snapshots: Arc::default(),
            graphics: Arc::new(GraphicsCache::new(territory.clone())),
            pages: Arc::default(),
            assets: Arc::default(),
            programme: FONDO_INNOVAZIONE.into(),
            territory,
            openapi: Arc::default(),
            auth: Arc::new(AuthState::new(auth)),
            evidence: Arc::new(EvidenceStore::memory(crate::evidence::store::DEFAULT_MAX_BYTES)),
            limits: Arc::default(),
            metrics_access: Arc::default(),
            mailer: None,
        }
    }

    /// The same state with these limits on expensive work.
    pub fn with_limits(mut self, limits: WorkLimits) -> Self {
        self.limits = Arc::new(limits);
        self
    }

    /// The same state linking the static files under the hashes of `assets`.
    pub fn with_assets(mut self, assets: Assets) -> Self {
        // The hydration scripts of every page (the router's and those the sign-in and form
        // routes render themselves) load the wasm from its hashed folder.
        if let Some(dir) = assets.pkg_dir() {
            self.leptos_options.site_pkg_dir = dir.into();
        }
        self.assets = Arc::new(assets);
        self
    }

    /// The same state following `territory` (its provinces in the forms, the checks and the
    /// API's document, its outlines on the map).
    pub fn with_territory(mut self, territory: Territory) -> Self {
        self.territory = Arc::new(territory);
        self.openapi = Arc::default();
        self.graphics = Arc::new(GraphicsCache::new(self.territory.clone()));
        self
    }

    /// The same state keeping public answers in `pages`.
    pub fn with_pages(mut self, pages: PageCache) -> Self {
        self.pages = Arc::new(pages);
        self
    }

    /// The same state with these readers of `/metrics`.
    pub fn with_metrics_access(mut self, access: MetricsAccess) -> Self {
        self.metrics_access = Arc::new(access);
        self
    }

    /// The same state sending reminders through `mailer`.
    pub fn with_mailer(mut self, mailer: Option<crate::reminders::config::Mailer>) -> Self {
        self.mailer = mailer.map(Arc::new);
        self
    }

    /// The same state with its evidence files in `store`.
    pub fn with_evidence(mut self, store: EvidenceStore) -> Self {
        self.evidence = Arc::new(store);
        self
    }

    /// The API's OpenAPI document (`/api/v1/openapi.json`), built once per server.
    pub fn openapi_json(&self) -> axum::body::Bytes {
        self.openapi.get_or_init(|| crate::opendata::api::openapi_json(&self.territory).into()).clone()
    }

    /// The evaluated programme for today (cached).
    pub async fn snapshot(&self) -> Result<Arc<Snapshot>, AppError> {
        self.snapshots.get(&self.db, &self.programme).await
    }

    /// The evaluated programme as it stood at the end of `day` (`None` or today: today's
    /// snapshot, exactly as [`AppState::snapshot`]). A day before the programme's start or
    /// after today is a 400 in Italian. Past days are cached per day until the data changes.
    pub async fn snapshot_on(&self, day: Option<chrono::NaiveDate>) -> Result<Arc<Snapshot>, AppError> {
        // Today's snapshot gives the programme's start, today and the current data version.
        let current = self.snapshot().await?;
        let Some(day) = day.filter(|d| *d != current.as_of) else { return Ok(current) };
        crate::evaluation::check_day(&current.programme, day, current.as_of)?;
        self.snapshots.get_on(&self.db, &self.programme, day, current.version).await
    }

    /// `Some(day)` when `snapshot` is of a past day (what the pages' notice and the file names
    /// say), `None` when it is today's.
    pub fn past_day(snapshot: &Snapshot) -> Option<chrono::NaiveDate> {
        (snapshot.as_of < crate::evaluation::today()).then_some(snapshot.as_of)
    }
}

/// The state inside a server function or a component rendered on the server.
pub fn app_state() -> Result<AppState, AppError> {
    leptos::prelude::use_context::<AppState>().ok_or_else(|| {
        tracing::error!("AppState missing from the Leptos context");
        AppError::INTERNAL
    })
}
