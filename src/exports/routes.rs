//! `GET /export/{list}.csv | -excel.csv | .xlsx | .json` for the list pages, with the pages'
//! own access rules and filters:
//! - `scadenze`: every signed-in person (a comune's users get their comuni), `?al=&provincia=`;
//! - `registro`: the whole change trail for the Region, one comune's (`?comune=`) for whoever
//!   reads its private data; streamed from the database a thousand entries at a time;
//! - `proposte`: the comuni's proposals waiting for a decision, the Region only;
//! - `evidenze`: the uploads waiting for review, the Region only, `?provincia=&piattaforma=`.

use axum::{
    extract::State,
    http::Extensions,
    response::Response,
    routing::{get, MethodRouter},
};
use chrono::{DateTime, Utc};
use futures_util::stream;
use serde::Deserialize;

use super::table::{respond, rows_in_memory, Batch, Rows, Table, Value};
use crate::{
    auth::CurrentUser, comuni::export::ExportFormat, error::AppError, limits::query::Query,
    scadenze::ScadenzeQuery, state::AppState,
};

/// Entries per trail query while streaming.
const TRAIL_BATCH: i64 = 1000;

/// Every list export route: (path, handler). The server registers them and the authorization
/// matrix walks them.
pub fn routes() -> Vec<(&'static str, MethodRouter<AppState>)> {
    use ExportFormat::*;
    macro_rules! four {
        ($stem:literal, $handler:ident) => {
            [
                (concat!("/export/", $stem, ".csv"), Csv),
                (concat!("/export/", $stem, "-excel.csv"), CsvExcel),
                (concat!("/export/", $stem, ".xlsx"), Xlsx),
                (concat!("/export/", $stem, ".json"), Json),
            ]
            .map(|(path, format)| {
                let handler: MethodRouter<AppState> =
                    get(move |state: State<AppState>, extensions: Extensions, query: Query<_>| async move {
                        // A workbook is built whole in memory: a few at a time
                        // (`TRAGUARDI_LIMITE_XLSX`), 503 past the queue.
                        let limits = state.limits.clone();
                        let _permit = match format {
                            Xlsx => Some(limits.xlsx.acquire().await?),
                            _ => None,
                        };
                        $handler(state, extensions, query, format).await
                    });
                (path, handler)
            })
        };
    }
    [
        four!("scadenze", scadenze),
        four!("registro", registro),
        four!("proposte", proposte),
        four!("evidenze", evidenze),
    ]
    .into_iter()
    .flatten()
    .collect()
}

fn viewer(extensions: &Extensions) -> Result<CurrentUser, AppError> {
    crate::auth::session::viewer_of(extensions).ok_or_else(AppError::sign_in_required)
}

/// The lists of every comune (the whole trail, the review queue, the proposals): the Region and
/// assessors (`auth::may_read_all`), as their pages.
fn reader_of_all(extensions: &Extensions, refusal: &str) -> Result<CurrentUser, AppError> {
    let user = viewer(extensions)?;
    if crate::auth::may_read_all(Some(&user)) {
        Ok(user)
    } else {
        Err(AppError::Forbidden(refusal.to_string()))
    }
}

/// An RFC 3339 time as stored; a malformed one (never written by Traguardi) is an empty cell.
fn time(at: &str) -> Value {
    Value::Time(DateTime::parse_from_rfc3339(at).ok().map(|t| t.with_timezone(&Utc)))
}

pub const SCADENZE_COLUMNS: [&str; 13] = crate::scadenze::export::HEADER;

async fn scadenze(
    State(state): State<AppState>,
    extensions: Extensions,
    Query(query): Query<ScadenzeQuery>,
    format: ExportFormat,
) -> Result<Response, AppError> {
    let user = viewer(&extensions)?;
    let data = crate::scadenze::server::ssr::scadenze(&state, &user, &query).await?;
    let mut filters = Vec::new();
    if let Some(p) = &data.provincia {
        let name = state.territory.nome_provincia(p);
        filters.push(format!("provincia di {name}"));
    }
    if data.own_comuni_only {
        filters.push("solo i comuni del profilo".to_string());
    }
    if let Some(day) = data.al {
        filters.push(format!("situazione al {}", crate::format::date(day)));
    }
    let table = Table {
        stem: "scadenze",
        title: "Scadenze",
        columns: &SCADENZE_COLUMNS,
        filters,
        as_of: data.as_of,
        demo: data.demo,
        past_day: data.al.is_some(),
    };
    respond(table, format, rows_in_memory(crate::scadenze::export::rows(&data))).await
}

#[derive(Debug, Default, Deserialize)]
pub struct TrailQuery {
    /// One comune's trail (ISTAT code); empty: the whole trail.
    #[serde(default)]
    pub comune: Option<String>,
}

pub const TRAIL_COLUMNS: [&str; 10] = [
    "numero",
    "data_ora_utc",
    "autore",
    "codice_istat",
    "oggetto",
    "azione",
    "modifiche",
    "motivo",
    "hash_precedente",
    "hash",
];

async fn registro(
    State(state): State<AppState>,
    extensions: Extensions,
    Query(query): Query<TrailQuery>,
    format: ExportFormat,
) -> Result<Response, AppError> {
    let comune = query.comune.map(|c| c.trim().to_string()).filter(|c| !c.is_empty());
    let user = viewer(&extensions)?;
    let snapshot = state.snapshot().await?;
    let mut filters = Vec::new();
    match &comune {
        Some(c) => {
            let e = snapshot.find(c).ok_or_else(|| {
                AppError::not_found(format!("Comune non trovato: nessun comune ha il codice ISTAT «{c}»."))
            })?;
            if !crate::auth::may_read_private(Some(&user), c) {
                return Err(AppError::not_found(
                    "Nessun dato riservato di questo comune è accessibile con il tuo profilo.",
                ));
            }
            filters.push(format!("comune di {} ({c})", e.record.denominazione));
        }
        None => {
            reader_of_all(
                &extensions,
                "Solo la Regione e gli assessori possono scaricare il registro completo delle modifiche.",
            )?;
        }
    }
    let table = Table {
        stem: "registro",
        title: "Registro delle modifiche",
        columns: &TRAIL_COLUMNS,
        filters,
        as_of: snapshot.as_of,
        demo: snapshot.demo,
        past_day: false,
    };
    // Newest first, as the page: each query continues below the last entry of the previous one.
    let db = state.db.clone();
    let hidden = crate::auth::hidden_trail_entities(Some(&user));
    let rows: Rows = Box::pin(stream::try_unfold(Some(i64::MAX), move |before| {
        let (db, comune) = (db.clone(), comune.clone());
        async move {
            let Some(before) = before else { return Ok(None) };
            let entries =
                crate::data::audit::list(&db, comune.as_deref(), Some(before), TRAIL_BATCH, hidden).await?;
            let next = (entries.len() as i64 == TRAIL_BATCH).then(|| entries.last().map(|e| e.seq)).flatten();
            if entries.is_empty() {
                return Ok(None);
            }
            let batch: Batch = entries.into_iter().map(trail_row).collect();
            Ok(Some((batch, next)))
        }
    }));
    respond(table, format, rows).await
}

fn trail_row(row: crate::data::audit::EntryRow) -> Vec<Value> {
    let changes = row
        .change_list()
        .into_iter()
        .map(|c| {
            format!(
                "{}: {} → {}",
                c.field,
                c.before.filter(|s| !s.is_empty()).unwrap_or_else(|| "—".into()),
                c.after.filter(|s| !s.is_empty()).unwrap_or_else(|| "—".into())
            )
        })
        .collect::<Vec<_>>()
        .join(" | ");
    vec![
        Value::Int(row.seq),
        time(&row.at),
        Value::text(row.actor),
        Value::text(row.comune.unwrap_or_default()),
        Value::text(format!("{} {}", crate::workspace::entity_label(&row.entity), row.record)),
        Value::text(crate::workspace::action_label(&row.action)),
        Value::text(changes),
        Value::text(row.reason.unwrap_or_default()),
        Value::text(row.prev_hash),
        Value::text(row.hash),
    ]
}

pub const PROPOSAL_COLUMNS: [&str; 7] =
    ["numero", "codice_istat", "denominazione", "piattaforma", "proposta", "proposta_da", "proposta_il_utc"];

async fn proposte(
    State(state): State<AppState>,
    extensions: Extensions,
    Query(()): Query<()>,
    format: ExportFormat,
) -> Result<Response, AppError> {
    reader_of_all(&extensions, "Solo la Regione e gli assessori consultano le proposte dei comuni.")?;
    let snapshot = state.snapshot().await?;
    let rows = crate::data::workspace::pending_proposals(&state.db).await?;
    let batch: Batch = rows
        .into_iter()
        .map(|p| {
            let name = snapshot.find(&p.comune).map(|e| e.record.denominazione.clone()).unwrap_or_default();
            let platform = crate::rules::Platform::from_code(&p.platform)
                .map(|pl| pl.label().to_string())
                .unwrap_or_else(|| p.platform.clone());
            vec![
                Value::Int(p.id),
                Value::text(p.comune.clone()),
                Value::text(name),
                Value::text(platform),
                Value::text(p.description()),
                Value::text(p.proposed_by.clone()),
                time(&p.proposed_at),
            ]
        })
        .collect();
    let table = Table {
        stem: "proposte",
        title: "Proposte in attesa",
        columns: &PROPOSAL_COLUMNS,
        filters: Vec::new(),
        as_of: snapshot.as_of,
        demo: snapshot.demo,
        past_day: false,
    };
    respond(table, format, rows_in_memory(batch)).await
}

#[derive(Debug, Default, Deserialize)]
pub struct QueueQuery {
    #[serde(default)]
    pub provincia: String,
    #[serde(default)]
    pub piattaforma: String,
}

pub const QUEUE_COLUMNS: [&str; 11] = [
    "numero",
    "codice_istat",
    "denominazione",
    "sigla_provincia",
    "piattaforma",
    "obiettivo",
    "descrizione_obiettivo",
    "versione",
    "nome_file",
    "caricata_da",
    "caricata_il_utc",
];

async fn evidenze(
    State(state): State<AppState>,
    extensions: Extensions,
    Query(query): Query<QueueQuery>,
    format: ExportFormat,
) -> Result<Response, AppError> {
    reader_of_all(&extensions, "Solo la Regione e gli assessori consultano le evidenze in attesa di esame.")?;
    let (provincia, piattaforma) = (query.provincia.trim(), query.piattaforma.trim());
    // The page's own checks and query, so the file is the page.
    crate::evidence::server::ssr::check_queue_filters(&state.territory, provincia, piattaforma)?;
    let snapshot = state.snapshot().await?;
    // Oldest first, as the page, a batch at a time: each query continues after the last row of
    // the one before (the queue can be long at national scale).
    let (db, snap) = (state.db.clone(), snapshot.clone());
    let (prov, plat) = (provincia.to_string(), piattaforma.to_string());
    let rows: Rows = Box::pin(stream::try_unfold(Some((String::new(), 0_i64)), move |after| {
        let (db, snap, prov, plat) = (db.clone(), snap.clone(), prov.clone(), plat.clone());
        async move {
            let Some(after) = after else { return Ok(None) };
            let programme = &snap.programme;
            let rows = crate::data::evidence::queue_after(
                &db,
                &programme.code,
                Some(prov.as_str()).filter(|s| !s.is_empty()),
                Some(plat.as_str()).filter(|s| !s.is_empty()),
                (&after.0, after.1),
                QUEUE_BATCH,
            )
            .await?;
            if rows.is_empty() {
                return Ok(None);
            }
            let next = (rows.len() == QUEUE_BATCH)
                .then(|| rows.last().map(|r| (r.uploaded_at.clone(), r.id)))
                .flatten();
            let batch: Batch = rows.into_iter().map(|r| queue_row(programme, r)).collect();
            Ok(Some((batch, next)))
        }
    }));
    let mut filters = Vec::new();
    if let Some(p) = state.territory.provincia(provincia) {
        filters.push(format!("provincia di {}", p.nome));
    }
    if let Some(p) = crate::rules::Platform::from_code(piattaforma) {
        filters.push(format!("piattaforma {}", p.label()));
    }
    let table = Table {
        stem: "evidenze",
        title: "Evidenze da esaminare",
        columns: &QUEUE_COLUMNS,
        filters,
        as_of: snapshot.as_of,
        demo: snapshot.demo,
        past_day: false,
    };
    respond(table, format, rows).await
}

/// Rows per query of the evidence queue's export; in tests, few enough that a test's queue spans
/// several queries (each continuing after the last row of the one before).
const QUEUE_BATCH: usize = if cfg!(test) { 25 } else { 1_000 };

fn queue_row(programme: &crate::rules::Programme, r: crate::data::evidence::QueueRow) -> Vec<Value> {
    let description =
        programme.objectives.iter().find(|o| o.code == r.objective).map(|o| o.description.clone());
    vec![
        Value::Int(r.id),
        Value::text(r.comune),
        Value::text(r.denominazione),
        Value::text(r.sigla_provincia),
        Value::text(
            crate::rules::Platform::from_code(&r.platform)
                .map(|p| p.label().to_string())
                .unwrap_or(r.platform),
        ),
        Value::text(r.objective),
        Value::text(description.unwrap_or_default()),
        Value::Int(r.version),
        Value::text(r.file_name),
        Value::text(r.uploaded_by),
        time(&r.uploaded_at),
    ]
}
