//! The import routes (the Region only), plain HTML forms that work without JavaScript:
//! - `POST /importazioni`: a multipart upload (`file`). A file that cannot be read as CSV or
//!   XLSX is refused with the page rendered again and the reason next to the field (nothing
//!   stored); a readable one is kept as a batch `in_prova` and the browser is sent (303) to
//!   `/importazioni/{id}`, whose page shows the dry run.
//! - `POST /importazioni/{id}/conferma`: the dry run again, against the data as they are now,
//!   then, if it has no problem, every change in one transaction (303 back to the page).
//! - `GET /importazioni/{id}/file`: the file as uploaded, the evidence of what changed.
//! - `GET /importazioni/modelli/{file}`: the templates (`adesioni.csv`, `servizi.csv`,
//!   `conteggi.csv` for Italian Excel, `modello.xlsx` with a sheet per kind and instructions).

use axum::{
    extract::{Path as UrlPath, Request, State},
    http::{header, request::Parts, HeaderValue, StatusCode},
    response::{IntoResponse, Redirect, Response},
};

use super::{
    server::ssr::{dry_run, may_import, DryRunError},
    table, BatchStatus, KINDS, MAX_BYTES,
};
use crate::{
    auth::{routes::render_page_with, CurrentUser, FieldError, FormFeedback},
    comuni::export::{attachment, Dialect, XLSX_TYPE},
    data::{imports, workspace::WriteError},
    error::AppError,
    state::AppState,
};

/// The person, if a Region manager; else the refusal (401 or 403).
fn importer(parts: &Parts) -> Result<CurrentUser, AppError> {
    let viewer = crate::auth::session::viewer_of(&parts.extensions);
    let user = viewer.ok_or_else(AppError::sign_in_required)?;
    may_import(&user)?;
    Ok(user)
}

/// The page at `path` again, with `message` next to the file field (or in the summary).
async fn refusal(
    state: &AppState,
    parts: &Parts,
    path: &str,
    message: String,
    status: StatusCode,
) -> Response {
    if path == "/importazioni" {
        let busy = status == StatusCode::SERVICE_UNAVAILABLE;
        crate::ops::metrics::import_upload(if busy { "busy" } else { "refused" });
    }
    let feedback = FormFeedback {
        form: "importazione".into(),
        message: if path == "/importazioni" {
            "Il file non è stato caricato.".into()
        } else {
            "L'importazione non è stata applicata: nessun dato è stato modificato.".into()
        },
        // The summary links to the field on the upload page, to the problems on a report.
        errors: vec![FieldError {
            field: if path == "/importazioni" { "file" } else { "problemi" }.into(),
            message,
        }],
        values: Vec::new(),
    };
    render_page_with(state, parts, path, feedback, status).await
}

/// The page at `path` again, saying that other files are being read: 503 with `Retry-After`.
async fn busy(state: &AppState, parts: &Parts, path: &str) -> Response {
    let mut response =
        refusal(state, parts, path, table::BUSY.to_string(), StatusCode::SERVICE_UNAVAILABLE).await;
    response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(table::RETRY_AFTER_SECONDS));
    response
}

/// Room for the multipart framing around the file (boundaries, headers of the parts).
const FRAMING_BYTES: usize = 64 * 1024;

/// `POST /importazioni`. The body is parsed as it arrives, through the framing guard
/// ([`crate::limits::multipart`]): a body over the limit, without a boundary, with a header that
/// never ends or with too many parts is refused before any of it is buffered; only the file's
/// own bytes are kept (at most [`MAX_BYTES`]), as they are stored whole with the batch.
pub async fn upload(State(state): State<AppState>, req: Request) -> Response {
    use crate::limits::multipart::{guarded, violation, Bounds, Framing, Violation};

    let (parts, body) = req.into_parts();
    let user = match importer(&parts) {
        Ok(u) => u,
        Err(e) => return e.into_response(),
    };
    let page = "/importazioni";
    let too_large = || format!("Il file supera il limite di {} MB.", MAX_BYTES / (1024 * 1024));
    let declared = parts
        .headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<usize>().ok());
    if declared.is_some_and(|n| n > MAX_BYTES + FRAMING_BYTES) {
        return refusal(&state, &parts, page, too_large(), StatusCode::PAYLOAD_TOO_LARGE).await;
    }
    let boundary = parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|ct| multer::parse_boundary(ct).ok());
    let unreadable = "Il modulo inviato non è leggibile: ricarica la pagina e riprova.".to_string();
    let Some(boundary) = boundary else {
        return refusal(&state, &parts, page, unreadable, StatusCode::BAD_REQUEST).await;
    };
    let framing = Framing::new(&boundary, Bounds::form((MAX_BYTES + FRAMING_BYTES) as u64));
    let mut multipart = multer::Multipart::new(guarded(body.into_data_stream(), framing), boundary);
    // The parser's error as the page's message: the guard's refusal, or an unreadable form.
    let refused = |e: multer::Error| match violation(&e) {
        Some(Violation::TooLarge(_)) => (too_large(), StatusCode::PAYLOAD_TOO_LARGE),
        Some(v) => (v.message(), v.status()),
        None => (unreadable.clone(), StatusCode::BAD_REQUEST),
    };
    let mut file: Option<(String, bytes::Bytes)> = None;
    loop {
        match multipart.next_field().await {
            Ok(Some(mut field)) if field.name() == Some("file") => {
                let name = field.file_name().unwrap_or_default().to_string();
                let mut bytes = bytes::BytesMut::new();
                loop {
                    match field.chunk().await {
                        Ok(Some(chunk)) if bytes.len() + chunk.len() > MAX_BYTES => {
                            return refusal(&state, &parts, page, too_large(), StatusCode::PAYLOAD_TOO_LARGE)
                                .await
                        }
                        Ok(Some(chunk)) => bytes.extend_from_slice(&chunk),
                        Ok(None) => break,
                        Err(e) => {
                            let (m, status) = refused(e);
                            return refusal(&state, &parts, page, m, status).await;
                        }
                    }
                }
                file = Some((name, bytes.freeze()));
            }
            // Another field: the parser skips it (the guard bounds its size and their number).
            Ok(Some(_)) => {}
            Ok(None) => break,
            Err(e) => {
                let (m, status) = refused(e);
                return refusal(&state, &parts, page, m, status).await;
            }
        }
    }
    let (name, bytes) = match file {
        Some((name, bytes)) if !bytes.is_empty() => (name, bytes),
        _ => {
            let m = "Scegliere un file CSV o XLSX da importare.".to_string();
            return refusal(&state, &parts, page, m, StatusCode::BAD_REQUEST).await;
        }
    };
    // The base name only (some browsers send a path), at most 200 characters.
    let name: String = name.rsplit(['/', '\\']).next().unwrap_or_default().trim().chars().take(200).collect();
    let name = if name.is_empty() { "importazione".to_string() } else { name };
    // Read now (off the async runtime, a few at a time) so that an unreadable or hostile file is
    // refused at once and never kept.
    match table::read_off_runtime(name.clone(), bytes.clone()).await {
        Ok(_) => {}
        Err(table::ReadError::Refused(m)) => {
            return refusal(&state, &parts, page, m, StatusCode::BAD_REQUEST).await;
        }
        Err(table::ReadError::Busy) => return busy(&state, &parts, page).await,
    }
    match imports::store(&state.db, &user.email, &name, &bytes).await {
        Ok(id) => {
            tracing::info!(batch = id, file = %name, bytes = bytes.len(), "import uploaded for a dry run");
            crate::ops::metrics::import_upload("stored");
            Redirect::to(&format!("/importazioni/{id}")).into_response()
        }
        Err(e) => AppError::from(e).into_response(),
    }
}

/// `POST /importazioni/{id}/conferma`.
pub async fn confirm(State(state): State<AppState>, UrlPath(id): UrlPath<i64>, req: Request) -> Response {
    let (parts, _) = req.into_parts();
    let user = match importer(&parts) {
        Ok(u) => u,
        Err(e) => return e.into_response(),
    };
    let page = format!("/importazioni/{id}");
    let (batch, bytes) = match imports::get(&state.db, id).await {
        Ok(Some((batch, bytes, _))) => (batch, bytes),
        Ok(None) => {
            return AppError::not_found(format!(
                "Importazione non trovata: non esiste l'importazione n. {id}."
            ))
            .into_response()
        }
        Err(e) => return AppError::from(e).into_response(),
    };
    if batch.status == BatchStatus::Applicata {
        // A second click on the button: it was applied once, and that is what the page says.
        return Redirect::to(&page).into_response();
    }
    let snapshot = match state.snapshot().await {
        Ok(s) => s,
        Err(e) => return e.into_response(),
    };
    let plan = match dry_run(&state.db, &snapshot.programme, &batch.file_name, &bytes).await {
        Ok(p) => p,
        Err(DryRunError::Unreadable(m)) => {
            return refusal(&state, &parts, &page, m, StatusCode::BAD_REQUEST).await
        }
        Err(DryRunError::Busy) => return busy(&state, &parts, &page).await,
        Err(DryRunError::App(e)) => return e.into_response(),
    };
    if !plan.report.can_apply() {
        crate::ops::metrics::import_apply("refused");
        let m = "Il file ha dei problemi (elencati qui sotto): correggerli e caricare di nuovo il file."
            .to_string();
        return refusal(&state, &parts, &page, m, StatusCode::BAD_REQUEST).await;
    }
    let programme = &snapshot.programme.code;
    match imports::apply(&state.db, &user.email, programme, id, &plan.ops, &plan.report).await {
        Ok(()) => {
            tracing::info!(batch = id, writes = plan.ops.len(), "import applied");
            crate::ops::metrics::import_apply("applied");
            Redirect::to(&format!("{page}?applicata=1")).into_response()
        }
        Err(WriteError::Conflict) | Err(WriteError::NotFound) => {
            crate::ops::metrics::import_apply("conflict");
            let m = "Alcuni dati sono cambiati dopo la prova: rivedere il resoconto aggiornato qui sotto e confermare di nuovo."
                .to_string();
            refusal(&state, &parts, &page, m, StatusCode::CONFLICT).await
        }
        Err(WriteError::Duplicate(_, m) | WriteError::Refused(_, m)) => {
            crate::ops::metrics::import_apply("refused");
            refusal(&state, &parts, &page, m, StatusCode::CONFLICT).await
        }
        Err(WriteError::Db(e)) => {
            crate::ops::metrics::import_apply("failed");
            AppError::from(e).into_response()
        }
    }
}

/// `GET /importazioni/{id}/file`: the file as it was uploaded.
pub async fn download(State(state): State<AppState>, UrlPath(id): UrlPath<i64>, req: Request) -> Response {
    let (parts, _) = req.into_parts();
    if let Err(e) = importer(&parts) {
        return e.into_response();
    }
    let (batch, bytes) = match imports::get(&state.db, id).await {
        Ok(Some((batch, bytes, _))) => (batch, bytes),
        Ok(None) => {
            return AppError::not_found(format!(
                "Importazione non trovata: non esiste l'importazione n. {id}."
            ))
            .into_response()
        }
        Err(e) => return AppError::from(e).into_response(),
    };
    // What `table::read` takes for a workbook (the file was read when it was uploaded).
    let content_type = if bytes.starts_with(b"PK\x03\x04") { XLSX_TYPE } else { "text/csv; charset=utf-8" };
    let mut response = bytes.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    if let Ok(v) = HeaderValue::from_str(&crate::evidence::routes::content_disposition(&batch.file_name)) {
        headers.insert(header::CONTENT_DISPOSITION, v);
    }
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// `GET /importazioni/modelli/{file}`.
pub async fn template(UrlPath(file): UrlPath<String>, req: Request) -> Response {
    let (parts, _) = req.into_parts();
    if let Err(e) = importer(&parts) {
        return e.into_response();
    }
    if file == "modello.xlsx" {
        return match workbook() {
            Ok(bytes) => attachment(XLSX_TYPE, "modello-importazione.xlsx", bytes),
            Err(e) => {
                tracing::error!(error = %e, "import template workbook");
                AppError::INTERNAL.into_response()
            }
        };
    }
    let spec = file.strip_suffix(".csv").and_then(super::Kind::from_file).map(super::Kind::spec);
    let Some(spec) = spec else {
        return AppError::not_found(format!(
            "Modello non trovato: «{file}». I modelli sono adesioni.csv, servizi.csv, conteggi.csv e modello.xlsx."
        ))
        .into_response();
    };
    attachment("text/csv; charset=utf-8", &format!("modello-{}.csv", spec.file), csv_template(spec))
}

/// A kind's CSV template for Italian Excel (`;`, BOM): the header only, so that a template
/// uploaded as it is changes nothing (the page and the workbook show examples).
pub fn csv_template(spec: &super::KindSpec) -> Vec<u8> {
    let mut w = Dialect::Excel.writer(Vec::new());
    let header: Vec<&str> = spec.columns.iter().map(|c| c.name).collect();
    // Writing to memory cannot fail.
    w.write_record(&header).ok();
    w.into_inner().unwrap_or_default()
}

/// One workbook: a sheet per kind (its header, frozen; codes typed as text keep their zeros) and
/// the instructions with an example of every column.
pub fn workbook() -> Result<Vec<u8>, rust_xlsxwriter::XlsxError> {
    use rust_xlsxwriter::{Format, Workbook};

    use crate::exports::sheet::{self, Widths};
    let bold = Format::new().set_bold();
    let mut book = Workbook::new();
    for spec in KINDS.iter().rev() {
        let sheet = sheet::add(&mut book)?.set_name(spec.sheet)?;
        let mut widths = Widths::default();
        for (c, column) in spec.columns.iter().enumerate() {
            sheet.write_string_with_format(0, c as u16, column.name, &bold)?;
            widths.text(c as u16, column.name);
        }
        sheet.set_freeze_panes(1, 0)?;
        widths.apply(sheet)?;
    }
    let sheet = sheet::add(&mut book)?.set_name("Istruzioni")?;
    let mut widths = Widths::default();
    for (c, h) in ["Foglio", "Colonna", "Obbligatoria", "Contenuto", "Esempio"].iter().enumerate() {
        sheet.write_string_with_format(0, c as u16, *h, &bold)?;
        widths.text(c as u16, h);
    }
    let mut r = 1;
    for spec in KINDS.iter().rev() {
        for column in spec.columns {
            let required = if column.required { "sì" } else { "no" };
            for (c, text) in
                [spec.sheet, column.name, required, column.help, column.example].into_iter().enumerate()
            {
                sheet.write_string(r, c as u16, text)?;
                widths.text(c as u16, text);
            }
            r += 1;
        }
    }
    // The note below the table is one long line: it is left out of the first column's width.
    sheet.write_string(r + 1, 0, "Le righe assenti dal file non vengono cancellate dal database: un'importazione aggiunge e modifica soltanto.")?;
    sheet.set_freeze_panes(1, 0)?;
    widths.apply(sheet)?;
    book.save_to_buffer()
}
