//! `GET /export/scadenze.csv`: the rows of `/scadenze` for the same date and province, with the
//! same access rules (signed-in users; a `comune` user gets its own comuni). Like
//! `/export/comuni.csv`: dates ISO `YYYY-MM-DD`, plain numbers, columns only ever added at the
//! end. Overdue rows first, then due-soon ones, each by deadline and comune name.

use axum::{
    extract::{Query, State},
    http::{header, Extensions},
    response::{IntoResponse, Response},
};

use super::{ScadenzaRow, ScadenzeData, ScadenzeQuery};
use crate::{auth::session::RequestAuth, comuni::export::Dialect, error::AppError, state::AppState};

pub const HEADER: [&str; 11] = [
    "codice_istat",
    "denominazione",
    "sigla_provincia",
    "stato",
    "giorni",
    "piattaforma",
    "obiettivo",
    "descrizione_obiettivo",
    "scadenza",
    "ostacoli_aperti",
    "descrizione_ostacoli",
];

/// `GET /export/scadenze.csv`.
pub async fn scadenze_csv(
    State(state): State<AppState>,
    extensions: Extensions,
    Query(query): Query<ScadenzeQuery>,
) -> Result<Response, AppError> {
    csv_export(state, extensions, query, Dialect::Contract).await
}

/// `GET /export/scadenze-excel.csv`: the same rows for Excel with Italian settings (`;`, BOM,
/// dates dd/mm/yyyy), as `/export/comuni-excel.csv`.
pub async fn scadenze_excel_csv(
    State(state): State<AppState>,
    extensions: Extensions,
    Query(query): Query<ScadenzeQuery>,
) -> Result<Response, AppError> {
    csv_export(state, extensions, query, Dialect::Excel).await
}

async fn csv_export(
    state: AppState,
    extensions: Extensions,
    query: ScadenzeQuery,
    dialect: Dialect,
) -> Result<Response, AppError> {
    let viewer = extensions.get::<RequestAuth>().and_then(|a| a.viewer.clone());
    let user = viewer.ok_or_else(AppError::sign_in_required)?;
    let data = super::server::ssr::scadenze(&state, &user, &query).await?;
    let body = write_csv(&data, dialect).map_err(|e| {
        tracing::error!(error = %e, "CSV export of the deadlines failed");
        AppError::Internal
    })?;
    // Demo data says so in the file name, as `/export/comuni.csv` does.
    let filename = format!(
        "scadenze-{}{}{}{}.csv",
        if dialect == Dialect::Excel { "excel-" } else { "" },
        if data.demo { "dati-dimostrativi-" } else { "" },
        data.provincia.as_deref().map(|p| format!("{p}-")).unwrap_or_default(),
        data.as_of.format("%Y-%m-%d")
    );
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{filename}\"")),
        ],
        body,
    )
        .into_response())
}

/// The rows of `data` in the export's format. `ostacoli_aperti` counts the comune's open
/// blockers; `descrizione_ostacoli` lists them as `categoria: testo`, separated by ` | `.
pub fn write_csv(data: &ScadenzeData, dialect: Dialect) -> Result<Vec<u8>, csv::Error> {
    let mut w = dialect.writer(Vec::new());
    w.write_record(HEADER)?;
    let rows: Vec<&ScadenzaRow> = data.overdue.iter().chain(&data.due_soon).collect();
    for r in rows {
        let blockers = r
            .blockers
            .iter()
            .map(|b| format!("{}: {}", b.category.code(), b.description))
            .collect::<Vec<_>>()
            .join(" | ");
        w.write_record([
            r.codice_istat.clone(),
            r.denominazione.clone(),
            r.sigla_provincia.clone(),
            r.urgency.code().to_string(),
            r.urgency.days().to_string(),
            r.platform_code.clone(),
            r.objective_code.clone(),
            r.description.clone(),
            dialect.date(Some(r.deadline)),
            r.blockers.len().to_string(),
            blockers,
        ])?;
    }
    w.into_inner().map_err(|e| csv::Error::from(e.into_error()))
}
