//! The import page's server function, and the dry run shared by the page, the routes and the
//! command line.

use leptos::prelude::*;

use super::ImportPage;
#[cfg(feature = "ssr")]
use crate::error::set_status_on_error;
use crate::error::AppError;

/// One page (`pagina`, empty: the first) of the imports, newest first, and, with `id`, one
/// import's report: the Region only.
#[server(endpoint = "importazioni")]
pub async fn get_import_page(
    #[server(default)] id: Option<i64>,
    #[server(default)] pagina: String,
) -> Result<ImportPage, AppError> {
    let result = async {
        let user = crate::auth::guard::require_signed_in()?;
        ssr::may_import(&user)?;
        let page = crate::paging::parse_page(&pagina).map_err(AppError::BadRequest)?;
        let state = crate::state::app_state()?;
        ssr::page(&state, id, page).await
    }
    .await;
    set_status_on_error(&result);
    result
}

#[cfg(feature = "ssr")]
pub mod ssr {
    use super::*;
    use crate::{
        auth::{CurrentUser, Role},
        data::{imports, Db},
        imports::{plan::Plan, table, BatchStatus},
        rules::Programme,
        state::AppState,
        workspace::Context,
    };

    /// Imports are the Region's (401 for the public, 403 for other roles).
    pub fn may_import(user: &CurrentUser) -> Result<(), AppError> {
        if user.role == Role::Regione {
            Ok(())
        } else {
            Err(AppError::Forbidden("Solo i referenti della Regione possono importare dati.".into()))
        }
    }

    /// The earliest service date an import takes: pagoPA's rules date from 2012 (DL 179/2012,
    /// art. 15); anything older is a typo. Imports carry the platforms' history, which the rules
    /// read (a service on before the programme is not one activated during it).
    pub const HISTORY_FROM: chrono::NaiveDate = match chrono::NaiveDate::from_ymd_opt(2012, 1, 1) {
        Some(d) => d,
        None => unreachable!(),
    };

    /// What the workspace's validation needs, for `programme`, today.
    pub async fn context(db: &Db, programme: &Programme) -> Result<Context, AppError> {
        Ok(Context {
            programme_start: programme.start,
            history_from: Some(HISTORY_FROM),
            today: crate::evaluation::today(),
            taxonomy: crate::data::workspace::taxonomy_codes(db).await?,
            objectives: programme.objectives.iter().map(|o| o.code.clone()).collect(),
            saldo_renunciation_limit: programme.saldo_renunciation_limit(),
        })
    }

    /// Why a dry run could not even start.
    #[derive(Debug)]
    pub enum DryRunError {
        /// The file is not a readable CSV or XLSX: the Italian sentence says why.
        Unreadable(String),
        /// Other files are being read: try again shortly ([`table::BUSY`]).
        Busy,
        App(AppError),
    }

    impl From<AppError> for DryRunError {
        fn from(e: AppError) -> Self {
            DryRunError::App(e)
        }
    }

    impl From<sqlx::Error> for DryRunError {
        fn from(e: sqlx::Error) -> Self {
            DryRunError::App(e.into())
        }
    }

    /// Reads the file and compares it with the database as it is now (counted in the metrics by
    /// outcome).
    pub async fn dry_run(
        db: &Db,
        programme: &Programme,
        file_name: &str,
        bytes: &[u8],
    ) -> Result<Plan, DryRunError> {
        let planned = plan_against_now(db, programme, file_name, bytes).await;
        crate::ops::metrics::import_dry_run(match &planned {
            Ok(plan) if plan.report.can_apply() => "clean",
            Ok(_) => "problems",
            Err(DryRunError::Unreadable(_)) => "unreadable",
            Err(DryRunError::Busy) => "busy",
            Err(DryRunError::App(_)) => "failed",
        });
        planned
    }

    async fn plan_against_now(
        db: &Db,
        programme: &Programme,
        file_name: &str,
        bytes: &[u8],
    ) -> Result<Plan, DryRunError> {
        let (_, tables) =
            table::read_off_runtime(file_name.to_string(), bytes::Bytes::copy_from_slice(bytes))
                .await
                .map_err(|e| match e {
                    table::ReadError::Refused(m) => DryRunError::Unreadable(m),
                    table::ReadError::Busy => DryRunError::Busy,
                })?;
        let ctx = context(db, programme).await?;
        let current = imports::current(db, &programme.code).await?;
        // Tens of thousands of rows are a few milliseconds of work, but never on the async runtime's time.
        tokio::task::spawn_blocking(move || super::super::plan::plan(&tables, &current, &ctx)).await.map_err(
            |e| {
                tracing::error!(error = %e, "import dry run: the task failed");
                DryRunError::App(AppError::INTERNAL)
            },
        )
    }

    pub async fn page(state: &AppState, id: Option<i64>, page: usize) -> Result<ImportPage, AppError> {
        let (items, page, pages, total) = crate::paging::fetch_page(page, |offset| {
            imports::recent_page(&state.db, crate::paging::PAGE_SIZE, offset)
        })
        .await?;
        let recent = crate::paging::Paged { items, page, pages, total };
        let current = match id {
            None => None,
            Some(id) => {
                let (batch, bytes, stored) = imports::get(&state.db, id).await?.ok_or_else(|| {
                    AppError::not_found(format!(
                        "Importazione non trovata: non esiste l'importazione n. {id}."
                    ))
                })?;
                let report = match (batch.status, stored) {
                    (BatchStatus::Applicata, Some(report)) => report,
                    _ => {
                        let snapshot = state.snapshot().await?;
                        match dry_run(&state.db, &snapshot.programme, &batch.file_name, &bytes).await {
                            Ok(plan) => plan.report,
                            Err(DryRunError::Busy) => crate::imports::Report {
                                problems: vec![crate::imports::Problem {
                                    table: batch.file_name.clone(),
                                    row: 0,
                                    column: String::new(),
                                    message: table::BUSY.into(),
                                }],
                                ..Default::default()
                            },
                            Err(DryRunError::Unreadable(m)) => crate::imports::Report {
                                problems: vec![crate::imports::Problem {
                                    table: batch.file_name.clone(),
                                    row: 0,
                                    column: String::new(),
                                    message: m,
                                }],
                                ..Default::default()
                            },
                            Err(DryRunError::App(e)) => return Err(e),
                        }
                    }
                };
                Some((batch, report))
            }
        };
        Ok(ImportPage { recent, current })
    }
}
