//! `GET /export/comuni.csv`: the open-data contract. Columns are fixed; later versions only add
//! columns at the end. Booleans `si`/`no`, dates ISO `YYYY-MM-DD`, empty when not applicable.
//!
//! The same rows for people who open them in Excel with Italian settings
//! (`/export/comuni-excel.csv`: `;` separator, UTF-8 byte-order mark so accents survive, dates
//! dd/mm/yyyy, `sì`/`no`) and as JSON (`/export/comuni.json`: the API's objects, all of them).

use axum::{
    extract::State,
    http::{header, Extensions},
    response::{IntoResponse, Response},
};

use std::sync::Arc;

use crate::limits::query::Query;

use super::{ComuniFilter, ListParams, ValidFilter};
use crate::{
    auth::CurrentUser,
    data::Db,
    error::AppError,
    evaluation::{Evaluated, Snapshot},
    state::AppState,
};

pub const HEADER: [&str; 22] = [
    "codice_istat",
    "denominazione",
    "sigla_provincia",
    "codice_ipa",
    "popolazione",
    "adesione",
    "data_adesione",
    "contributo_eur",
    "primo_step",
    "primo_step_entro_scadenza",
    "data_primo_step",
    "obiettivi_finali",
    "data_obiettivi_finali",
    "servizi_pagopa_attivi",
    "servizi_pagopa_applicabili",
    "servizi_pagopa_attivati_nel_progetto",
    "servizi_io_attivi",
    "io_tramite_regione",
    "servizi_spid_cie",
    // Added after the first version (columns are only ever added at the end): the headline
    // "every objective by the final deadline", which `obiettivi_finali` (any date) cannot give.
    "obiettivi_finali_entro_scadenza",
    // What the comune renounced (`saldo`, `contributo` or empty) and from which day: public like
    // the grant it changes.
    "rinuncia",
    "data_rinuncia",
];

/// How a CSV is written: the open-data contract, or for Excel with Italian settings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dialect {
    /// `,`, ISO dates, `si`/`no`, no byte-order mark: for programs.
    Contract,
    /// `;` (Excel's list separator in Italy), a UTF-8 byte-order mark (without it Excel reads
    /// the file as Windows-1252 and mangles «Nardò»), dates dd/mm/yyyy, `sì`/`no`. The figures
    /// are whole numbers written without thousands separators, so no decimal separator arises.
    Excel,
}

impl Dialect {
    /// A CSV writer in this dialect over `out`, the byte-order mark already written.
    pub fn writer(self, mut out: Vec<u8>) -> csv::Writer<Vec<u8>> {
        if self == Dialect::Excel {
            out.extend_from_slice("\u{feff}".as_bytes());
        }
        csv::WriterBuilder::new().delimiter(self.delimiter()).from_writer(out)
    }

    fn delimiter(self) -> u8 {
        match self {
            Dialect::Contract => b',',
            Dialect::Excel => b';',
        }
    }

    pub fn date(self, d: Option<chrono::NaiveDate>) -> String {
        match (self, d) {
            (_, None) => String::new(),
            (Dialect::Contract, Some(d)) => d.format("%Y-%m-%d").to_string(),
            (Dialect::Excel, Some(d)) => crate::format::date(d),
        }
    }

    /// A writer for the rest of a file whose start (and byte-order mark) is already out.
    pub fn writer_without_bom(self, out: Vec<u8>) -> csv::Writer<Vec<u8>> {
        csv::WriterBuilder::new().delimiter(self.delimiter()).from_writer(out)
    }

    /// A text field: as it is in the contract; for Excel, neutralised when a spreadsheet would
    /// take it for a formula ([`crate::exports::formula`]).
    pub fn text(self, s: &str) -> String {
        match self {
            Dialect::Contract => s.to_string(),
            Dialect::Excel => crate::exports::formula::excel_csv_text(s).into_owned(),
        }
    }

    pub fn yes_no(self, b: bool) -> String {
        match (self, b) {
            (Dialect::Contract, true) => "si",
            (Dialect::Excel, true) => "sì",
            (_, false) => "no",
        }
        .to_string()
    }
}

/// The comuni matching the filter and the search (all pages), in the list's order (`ordina`,
/// `verso`; `pagina` is ignored): exactly what `/comuni` shows with the same query.
fn selected(snapshot: &Snapshot, filter: &ComuniFilter, vista: &ListParams) -> Result<Vec<String>, AppError> {
    let filter = filter.validate()?;
    let vista = vista.validate()?;
    let mut rows = snapshot.list(&filter);
    vista.sort(&mut rows);
    Ok(rows.into_iter().map(|r| r.codice_istat).collect())
}

/// The file name of an export: the data's date in it, and the demo label, since a file has no
/// room for the banner (`comuni-dati-dimostrativi-2026-11-27.csv`); a past day asked with
/// `?al=` is said as such (`comuni-al-2021-02-28.csv`), so two files of different days are
/// never taken for one another.
pub fn file_name(snapshot: &Snapshot, stem: &str, extension: &str) -> String {
    format!(
        "{stem}-{}{}{}.{extension}",
        if snapshot.demo { "dati-dimostrativi-" } else { "" },
        if AppState::past_day(snapshot).is_some() { "al-" } else { "" },
        snapshot.as_of.format("%Y-%m-%d")
    )
}

/// A download: its type, its (ASCII, quote-free) file name, its bytes.
pub fn attachment(content_type: &str, filename: &str, body: Vec<u8>) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type.to_string()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{filename}\"")),
        ],
        body,
    )
        .into_response()
}

/// The formats of a view's export, as the command line names them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExportFormat {
    Csv,
    CsvExcel,
    Xlsx,
    Json,
}

impl ExportFormat {
    pub const ALL: [ExportFormat; 4] =
        [ExportFormat::Csv, ExportFormat::CsvExcel, ExportFormat::Xlsx, ExportFormat::Json];

    pub fn code(self) -> &'static str {
        match self {
            ExportFormat::Csv => "csv",
            ExportFormat::CsvExcel => "csv-excel",
            ExportFormat::Xlsx => "xlsx",
            ExportFormat::Json => "json",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|f| f.code() == code)
    }
}

/// Whose blockers the workbook may hold (they are not public).
#[derive(Clone, Debug)]
pub enum BlockerAccess {
    /// Nobody signed in: none.
    Public,
    /// A signed-in person: the comuni whose private data they may read.
    Viewer(CurrentUser),
    /// The operator at the command line, who holds the database anyway: all.
    Operator,
}

/// A finished export.
pub struct Export {
    pub filename: String,
    pub content_type: &'static str,
    pub bytes: Vec<u8>,
    /// Comuni exported.
    pub comuni: usize,
}

/// The view (`filter`, `vista`) of `snapshot` in `format`: what the routes send and
/// `traguardi export` writes. The workbook is built off the async runtime.
pub async fn export(
    db: &Db,
    snapshot: Arc<Snapshot>,
    filter: &ComuniFilter,
    vista: &ListParams,
    format: ExportFormat,
    access: BlockerAccess,
) -> Result<Export, AppError> {
    let codes = selected(&snapshot, filter, vista)?;
    let valid = filter.validate()?;
    let comuni = codes.len();
    // The cause goes to the log; the person gets the fixed sentence of `AppError::Internal`.
    let failed = |what: &str, e: &dyn std::fmt::Display| {
        tracing::error!(error = %e, "{what} export failed");
        AppError::INTERNAL
    };
    let (filename, content_type, bytes) = match format {
        ExportFormat::Csv | ExportFormat::CsvExcel | ExportFormat::Json => {
            let c = chunked(snapshot.clone(), codes.clone(), &valid, format)?;
            let mut bytes = c.head;
            for chunk in c.chunks {
                bytes.extend(chunk.map_err(|e| failed("CSV/JSON", &e))?);
            }
            bytes.extend(c.tail);
            (c.filename, c.content_type, bytes)
        }
        ExportFormat::Xlsx => {
            let view_query = [valid.query(), vista.validate()?.sort_query()]
                .into_iter()
                .filter(|q| !q.is_empty())
                .collect::<Vec<_>>()
                .join("&");
            let services = crate::data::facts::all_services(db).await?;
            let blockers = match access {
                BlockerAccess::Public => None,
                _ => Some(crate::data::blockers::all(db, &snapshot.programme.code).await?),
            };
            let filters = valid.phrases(&snapshot.population_choices(), &snapshot.province);
            let made_at = chrono::Local::now().format("%d/%m/%Y %H:%M").to_string();
            let filename = file_name(&snapshot, "comuni", "xlsx");
            let bytes = tokio::task::spawn_blocking(move || {
                let visible = |comune: &str| match &access {
                    BlockerAccess::Public => false,
                    BlockerAccess::Viewer(user) => crate::auth::may_read_private(Some(user), comune),
                    BlockerAccess::Operator => true,
                };
                let contents = super::xlsx::Contents {
                    snapshot: &snapshot,
                    comuni: codes.iter().filter_map(|c| snapshot.find(c)).collect(),
                    services: &services,
                    blockers: blockers
                        .as_ref()
                        .map(|rows| rows.iter().filter(|b| visible(&b.comune)).collect()),
                    filters,
                    query: view_query,
                    made_at,
                };
                super::xlsx::workbook(&contents)
            })
            .await
            .map_err(|e| failed("XLSX", &e))?
            .map_err(|e| failed("XLSX", &e))?;
            (filename, XLSX_TYPE, bytes)
        }
    };
    Ok(Export { filename, content_type, bytes, comuni })
}

/// The route of one format: the person's blockers access from the session.
async fn respond(
    state: AppState,
    extensions: Extensions,
    filter: ComuniFilter,
    vista: ListParams,
    format: ExportFormat,
) -> Result<Response, AppError> {
    let viewer = crate::auth::session::viewer_of(&extensions);
    // Refused before anything is read: `bloccato` is not a filter the public may use.
    let valid = filter.validate_for(viewer.as_ref(), &state.territory)?;
    let access = match viewer {
        Some(user) => BlockerAccess::Viewer(user),
        None => BlockerAccess::Public,
    };
    let snapshot = state.snapshot_on(valid.al).await?;
    if format == ExportFormat::Xlsx {
        // A workbook is built whole in memory: a few at a time (`TRAGUARDI_LIMITE_XLSX`).
        let _permit = state.limits.xlsx.acquire().await?;
        let e = export(&state.db, snapshot, &filter, &vista, format, access).await?;
        return Ok(attachment(e.content_type, &e.filename, e.bytes));
    }
    stream_view(snapshot, &filter, &vista, format)
}

/// Comuni per chunk of a streamed export.
const STREAM_CHUNK: usize = 256;

/// A CSV or JSON export cut in chunks of [`STREAM_CHUNK`] comuni, each encoded only when it is
/// asked for: the route streams them (with 7,896 comuni the answer starts at once and the server
/// never holds the whole file), the command line writes them one after the other — the same
/// bytes either way.
struct Chunked {
    filename: String,
    content_type: &'static str,
    head: Vec<u8>,
    chunks: Box<dyn Iterator<Item = std::io::Result<Vec<u8>>> + Send>,
    tail: Vec<u8>,
}

fn chunked(
    snapshot: Arc<Snapshot>,
    codes: Vec<String>,
    valid: &ValidFilter,
    format: ExportFormat,
) -> Result<Chunked, AppError> {
    let (stem, extension, content_type) = match format {
        ExportFormat::Csv => ("comuni", "csv", "text/csv; charset=utf-8"),
        ExportFormat::CsvExcel => ("comuni-excel", "csv", "text/csv; charset=utf-8"),
        _ => ("comuni", "json", "application/json"),
    };
    let filename = file_name(&snapshot, stem, extension);
    let total = codes.len();
    // JSON: `{"metadati": …, "totale": n, "comuni": [` + the comuni + `]}`, as the API's
    // `Esportazione`.
    let (head, tail) = if format == ExportFormat::Json {
        let metadati = crate::opendata::api::Metadati::of(&snapshot, valid);
        let metadati = serde_json::to_string(&metadati).map_err(|e| {
            tracing::error!(error = %e, "JSON export failed");
            AppError::INTERNAL
        })?;
        (format!("{{\"metadati\":{metadati},\"totale\":{total},\"comuni\":[").into_bytes(), b"]}\n".to_vec())
    } else {
        (Vec::new(), Vec::new())
    };
    // At least one chunk: an empty CSV still has its header.
    let starts = (0..total.max(1)).step_by(STREAM_CHUNK);
    let chunks = starts.map(move |start| {
        let rows = codes[start.min(total)..(start + STREAM_CHUNK).min(total)]
            .iter()
            .filter_map(|c| snapshot.find(c));
        match format {
            ExportFormat::Json => {
                let mut out = Vec::new();
                for (i, e) in rows.enumerate() {
                    if start + i > 0 {
                        out.push(b',');
                    }
                    serde_json::to_writer(&mut out, &crate::opendata::api::comune(&snapshot, e))
                        .map_err(std::io::Error::other)?;
                }
                Ok(out)
            }
            _ => {
                let dialect = if format == ExportFormat::Csv { Dialect::Contract } else { Dialect::Excel };
                csv_chunk(&snapshot, rows, dialect, start == 0).map_err(std::io::Error::other)
            }
        }
    });
    Ok(Chunked { filename, content_type, head, chunks: Box::new(chunks), tail })
}

/// The CSV and JSON exports of the view, streamed chunk by chunk.
fn stream_view(
    snapshot: Arc<Snapshot>,
    filter: &ComuniFilter,
    vista: &ListParams,
    format: ExportFormat,
) -> Result<Response, AppError> {
    use futures_util::StreamExt;
    let codes = selected(&snapshot, filter, vista)?;
    let Chunked { filename, content_type, head, chunks, tail } =
        chunked(snapshot, codes, &filter.validate()?, format)?;
    let body = futures_util::stream::once(async move { Ok::<_, std::io::Error>(head) })
        .chain(futures_util::stream::iter(chunks))
        .chain(futures_util::stream::once(async move { Ok(tail) }));
    Ok((
        [
            (header::CONTENT_TYPE, content_type.to_string()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{filename}\"")),
        ],
        axum::body::Body::from_stream(body),
    )
        .into_response())
}

/// `GET /export/comuni.csv`: the open-data contract.
pub async fn comuni_csv(
    State(state): State<AppState>,
    extensions: Extensions,
    Query(filter): Query<ComuniFilter>,
    Query(vista): Query<ListParams>,
) -> Result<Response, AppError> {
    respond(state, extensions, filter, vista, ExportFormat::Csv).await
}

/// `GET /export/comuni-excel.csv`: the same rows for Excel with Italian settings.
pub async fn comuni_excel_csv(
    State(state): State<AppState>,
    extensions: Extensions,
    Query(filter): Query<ComuniFilter>,
    Query(vista): Query<ListParams>,
) -> Result<Response, AppError> {
    respond(state, extensions, filter, vista, ExportFormat::CsvExcel).await
}

/// `GET /export/comuni.json`: every comune of the view as the API describes it
/// (`opendata::api::Comune`), with the API's `metadati`.
pub async fn comuni_json(
    State(state): State<AppState>,
    extensions: Extensions,
    Query(filter): Query<ComuniFilter>,
    Query(vista): Query<ListParams>,
) -> Result<Response, AppError> {
    respond(state, extensions, filter, vista, ExportFormat::Json).await
}

/// `GET /export/comuni.xlsx`: the view as a workbook (see [`super::xlsx`]); blockers only for
/// the comuni the person may read.
pub async fn comuni_xlsx(
    State(state): State<AppState>,
    extensions: Extensions,
    Query(filter): Query<ComuniFilter>,
    Query(vista): Query<ListParams>,
) -> Result<Response, AppError> {
    respond(state, extensions, filter, vista, ExportFormat::Xlsx).await
}

/// The media type of Excel workbooks.
pub const XLSX_TYPE: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// Writes the rows of `comuni` in the contract's columns, in `dialect`.
pub fn write_csv<'a>(
    snapshot: &Snapshot,
    comuni: impl Iterator<Item = &'a Evaluated>,
    dialect: Dialect,
) -> Result<Vec<u8>, csv::Error> {
    csv_chunk(snapshot, comuni, dialect, true)
}

/// Rows of the contract in `dialect`; `head`: the file's start (BOM for Excel, header row).
fn csv_chunk<'a>(
    snapshot: &Snapshot,
    comuni: impl Iterator<Item = &'a Evaluated>,
    dialect: Dialect,
    head: bool,
) -> Result<Vec<u8>, csv::Error> {
    let mut w = if head { dialect.writer(Vec::new()) } else { dialect.writer_without_bom(Vec::new()) };
    if head {
        w.write_record(HEADER)?;
    }
    let (first, last) = (snapshot.first_step_code(), snapshot.last_step_code());
    let yes_no = |b: bool| dialect.yes_no(b);
    let date = |d: Option<chrono::NaiveDate>| dialect.date(d);
    for e in comuni {
        let (r, o, c) = (&e.record, &e.outcome, &e.counts);
        let supported = o.supported;
        let step1 = o.step(first).filter(|_| supported);
        let fin = o.step(last).filter(|_| supported);
        let if_supported = |v: String| if supported { v } else { String::new() };
        w.write_record([
            dialect.text(&r.codice_istat),
            dialect.text(&r.denominazione),
            dialect.text(&r.sigla_provincia),
            dialect.text(&r.codice_ipa),
            r.popolazione.to_string(),
            r.facts.adhesion.code().to_string(),
            date(r.facts.adhesion_date),
            if o.grant_eur > 0 { o.grant_eur.to_string() } else { String::new() },
            if_supported(yes_no(step1.is_some_and(|s| s.reached_on.is_some()))),
            if_supported(yes_no(step1.is_some_and(|s| s.on_time))),
            date(step1.and_then(|s| s.reached_on)),
            if_supported(yes_no(fin.is_some_and(|s| s.reached_on.is_some()))),
            date(fin.and_then(|s| s.reached_on)),
            c.pagopa_active.to_string(),
            c.pagopa_applicable.to_string(),
            c.pagopa_activated_in_project.to_string(),
            c.io_active.to_string(),
            yes_no(r.facts.io_via_region),
            c.online_spid_or_cie.to_string(),
            if_supported(yes_no(o.all_objectives_on_time)),
            r.facts.renunciation.as_ref().map(|x| x.kind.code()).unwrap_or_default().to_string(),
            date(r.facts.renunciation.as_ref().map(|x| x.on)),
        ])?;
    }
    w.into_inner().map_err(|e| csv::Error::from(e.into_error()))
}
