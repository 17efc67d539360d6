//! `POST /comuni/{codice}/evidenze/{obiettivo}`: one evidence file, as `multipart/form-data`
//! from a plain HTML form (the progress bar is an island on top of it).
//!
//! The body is streamed: each chunk goes into the SHA-256 and into a multipart upload to the
//! object store, [`PART_BYTES`] at a time, so memory stays flat whatever the file's size. The
//! kind is decided from the first bytes before anything is stored. The file is written under a
//! temporary key; only a complete, accepted file is moved to its final key, and its row and
//! audit entry commit right after (the file is deleted again if they do not). A refused file, a
//! connection cut halfway or a body that ends before its declared length leave no row and no
//! file. The work runs in its own task: a client that goes away cannot cancel the cleanup.
//!
//! Before the parser sees a chunk, the framing guard ([`crate::limits::multipart`]) checks it:
//! a body longer than the limit and its framing, a preamble without a boundary, a part header
//! that never ends or too many parts stop the reading at once (413 or 400, nothing stored), so
//! neither the parser nor the server ever holds more than a chunk or two.

use axum::{
    extract::{Path as UrlPath, Request, State},
    http::{header, request::Parts, StatusCode},
    response::{IntoResponse, Redirect, Response},
};
use object_store::ObjectStoreExt;
use sha2::{Digest, Sha256};

use super::{
    sniff::{self, HEAD_BYTES, TAIL_BYTES},
    store::{EvidenceStore, PART_BYTES},
};
use crate::{
    auth::{may_act_for, routes::render_page_with, CurrentUser, FieldError, FormFeedback},
    data::{
        evidence::{EvidenceRow, NewEvidence},
        workspace::{write_tx, WriteError},
    },
    error::AppError,
    limits::multipart::{violation, BodyError, Bounds, Framing, Violation},
    state::AppState,
};

/// Room for the multipart framing around the file (boundaries, headers of the parts).
pub const MULTIPART_OVERHEAD: u64 = 64 * 1024;

/// Why an upload was not kept: the status and the Italian sentence shown next to the field.
#[derive(Debug)]
pub struct Refused {
    pub status: StatusCode,
    pub message: String,
}

impl Refused {
    fn bad(message: impl Into<String>) -> Self {
        Refused { status: StatusCode::BAD_REQUEST, message: message.into() }
    }

    fn too_large(limit: u64) -> Self {
        Refused {
            status: StatusCode::PAYLOAD_TOO_LARGE,
            message: format!(
                "Il file supera il limite di {} MB: non è stato salvato.",
                super::progress::megabytes(limit)
            ),
        }
    }

    fn broken(cause: impl std::fmt::Display) -> Self {
        tracing::info!(cause = %cause, "evidence upload interrupted");
        Refused::bad("Il caricamento si è interrotto prima della fine: il file non è stato salvato. Riprova.")
    }

    /// The parser's error: the framing guard's refusal, or a body that broke off.
    fn parser(e: multer::Error, limit: u64) -> Self {
        match violation(&e) {
            Some(Violation::TooLarge(_)) => Refused::too_large(limit),
            Some(v) => {
                tracing::info!(refusal = %v, "evidence upload refused before parsing");
                Refused { status: v.status(), message: v.message() }
            }
            None => Refused::broken(e),
        }
    }
}

/// What went wrong: a refusal the person can act on, or an internal failure (logged).
enum Failure {
    Refused(Refused),
    App(AppError),
}

impl From<Refused> for Failure {
    fn from(r: Refused) -> Self {
        Failure::Refused(r)
    }
}

fn internal(what: &str, e: impl std::fmt::Display) -> Failure {
    tracing::error!(error = %e, "evidence upload: {what}");
    Failure::App(AppError::INTERNAL)
}

pub async fn upload(
    State(state): State<AppState>,
    UrlPath((codice, obiettivo)): UrlPath<(String, String)>,
    req: Request,
) -> Response {
    let (parts, body) = req.into_parts();
    let viewer = crate::auth::session::viewer_of(&parts.extensions);
    let Some(user) = viewer else {
        return AppError::sign_in_required().into_response();
    };
    if !may_act_for(Some(&user), &codice) {
        return AppError::Forbidden("Il tuo profilo non può caricare evidenze per questo comune.".into())
            .into_response();
    }
    let snapshot = match state.snapshot().await {
        Ok(s) => s,
        Err(e) => return e.into_response(),
    };
    if snapshot.find(&codice).is_none() || !snapshot.programme.objectives.iter().any(|o| o.code == obiettivo)
    {
        return AppError::not_found(format!(
            "Obiettivo non trovato: il comune «{codice}» non ha l'obiettivo «{obiettivo}»."
        ))
        .into_response();
    }
    let limit = state.evidence.max_bytes;
    let declared = parts
        .headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    // A body declared too large is refused before a byte of it is read.
    if declared.is_some_and(|len| len > limit + MULTIPART_OVERHEAD) {
        return refusal(&state, &parts, &codice, &obiettivo, Refused::too_large(limit)).await;
    }
    let boundary = parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|ct| multer::parse_boundary(ct).ok());
    let Some(boundary) = boundary else {
        let r = Refused::bad("Il modulo inviato non è leggibile: ricarica la pagina e riprova.");
        return refusal(&state, &parts, &codice, &obiettivo, r).await;
    };
    let (multipart, body_outcome) = pump(body, limit + MULTIPART_OVERHEAD, boundary);
    // The task logs on the request's behalf: it carries the request's span and id.
    let task = tokio::spawn(crate::ops::request_id::carried(receive(
        state.clone(),
        user,
        codice.clone(),
        obiettivo.clone(),
        snapshot.programme.code.clone(),
        multipart,
        body_outcome,
    )));
    match task.await {
        Ok(Ok(row)) => {
            crate::ops::metrics::evidence_upload("stored", u64::try_from(row.size_bytes).unwrap_or(0));
            tracing::info!(comune = %codice, objective = %obiettivo, version = row.version, bytes = row.size_bytes, "evidence stored");
            Redirect::to(&format!("/comuni/{codice}/evidenze?caricato={obiettivo}#obiettivo-{obiettivo}"))
                .into_response()
        }
        Ok(Err(Failure::Refused(r))) => refusal(&state, &parts, &codice, &obiettivo, r).await,
        Ok(Err(Failure::App(e))) => {
            crate::ops::metrics::evidence_upload("failed", 0);
            e.into_response()
        }
        Err(e) => {
            crate::ops::metrics::evidence_upload("failed", 0);
            tracing::error!(error = %e, "evidence upload: the task failed");
            AppError::INTERNAL.into_response()
        }
    }
}

/// The evidence page again, with the reason next to the objective's file field.
async fn refusal(state: &AppState, parts: &Parts, codice: &str, obiettivo: &str, r: Refused) -> Response {
    crate::ops::metrics::evidence_upload("refused", 0);
    let feedback = FormFeedback {
        form: format!("evidenza-{obiettivo}"),
        message: "Il file non è stato salvato.".into(),
        errors: vec![FieldError { field: "file".into(), message: r.message }],
        values: Vec::new(),
    };
    render_page_with(state, parts, &format!("/comuni/{codice}/evidenze"), feedback, r.status).await
}

/// Whether the request body arrived whole: `Err` when it ended before its declared length or
/// the connection failed.
type BodyOutcome = tokio::sync::oneshot::Receiver<Result<(), String>>;

/// Feeds the body to the multipart parser through a short channel (so memory stays flat) and
/// reads it to its very end even after the parser has stopped: a multipart body can be complete
/// while the request is not (its `Content-Length` promised more, then the connection ended), and
/// only the end of the body tells. At most `budget` bytes are read in all. Every chunk passes
/// the framing guard first: a refused one goes no further and the reading stops there.
fn pump(body: axum::body::Body, budget: u64, boundary: String) -> (multer::Multipart<'static>, BodyOutcome) {
    use futures_util::StreamExt;
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<bytes::Bytes, BodyError>>(2);
    let (done_tx, done_rx) = tokio::sync::oneshot::channel();
    let mut framing = Framing::new(&boundary, Bounds::form(budget));
    tokio::spawn(async move {
        let mut stream = body.into_data_stream();
        let mut read = 0u64;
        let mut parsing = true;
        let outcome = loop {
            match stream.next().await {
                None => break Ok(()),
                Some(Err(e)) => {
                    let _ = tx.send(Err(BodyError::Read(e.to_string()))).await;
                    break Err(e.to_string());
                }
                Some(Ok(chunk)) => {
                    read += chunk.len() as u64;
                    if parsing {
                        if let Err(v) = framing.feed(&chunk) {
                            let _ = tx.send(Err(BodyError::Refused(v))).await;
                            break Err(v.to_string());
                        }
                        // The parser gone (it finished or refused), the rest is only read to its
                        // end, up to the budget.
                        parsing = tx.send(Ok(chunk)).await.is_ok();
                    }
                    if !parsing && read > budget {
                        break Err("body longer than allowed".into());
                    }
                }
            }
        };
        let _ = done_tx.send(outcome);
    });
    (multer::Multipart::new(OneChunkPerPoll { rx, yielded: false }, boundary), done_rx)
}

/// The body's chunks for `multer`, one per poll. `multer` reads its stream until it is pending,
/// into a buffer of its own: fed by a fast client it could buffer as fast as the network
/// delivers, not as fast as the store takes. Answering "pending" after each chunk (and asking to
/// be polled again at once) makes it take one chunk per read, so its buffer stays at a chunk or
/// two.
struct OneChunkPerPoll {
    rx: tokio::sync::mpsc::Receiver<Result<bytes::Bytes, BodyError>>,
    yielded: bool,
}

impl futures_util::Stream for OneChunkPerPoll {
    type Item = Result<bytes::Bytes, BodyError>;

    fn poll_next(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Self::Item>> {
        if self.yielded {
            self.yielded = false;
            cx.waker().wake_by_ref();
            return std::task::Poll::Pending;
        }
        let next = self.rx.poll_recv(cx);
        if matches!(next, std::task::Poll::Ready(Some(_))) {
            self.yielded = true;
        }
        next
    }
}

/// Reads the form, stores the file and writes its row; see the module's documentation.
async fn receive(
    state: AppState,
    user: CurrentUser,
    codice: String,
    obiettivo: String,
    programme: String,
    mut multipart: multer::Multipart<'static>,
    body_outcome: BodyOutcome,
) -> Result<EvidenceRow, Failure> {
    let limit = state.evidence.max_bytes;
    let mut field = loop {
        match multipart.next_field().await {
            Ok(Some(f)) if f.name() == Some("file") => break f,
            Ok(Some(_)) => continue,
            Ok(None) => return Err(Refused::bad("Scegli il file da caricare.").into()),
            Err(e) => return Err(Refused::parser(e, limit).into()),
        }
    };
    let raw_name = field.file_name().unwrap_or_default().to_string();
    let mut received = Received::default();
    let name = match raw_name.as_str() {
        "" => Err(Refused::bad("Scegli il file da caricare.")),
        raw => sniff::clean_name(raw).map_err(Refused::bad),
    };
    // A refused file's remaining bytes are read and dropped by the pump, so the browser, still
    // sending, receives the page that explains the refusal instead of a reset connection.
    let name = name?;

    // The head: enough bytes to decide the kind, before anything is stored.
    let mut pending = Vec::new();
    let mut head = Vec::with_capacity(HEAD_BYTES);
    // Whether the whole file fitted in the head (a field must not be read past its end).
    let mut ended = false;
    while head.len() < HEAD_BYTES {
        match field.chunk().await {
            Ok(Some(chunk)) => {
                received.take(&chunk, limit)?;
                let room = HEAD_BYTES - head.len();
                head.extend_from_slice(&chunk[..chunk.len().min(room)]);
                pending.push(chunk);
            }
            Ok(None) => {
                ended = true;
                break;
            }
            Err(e) => return Err(Refused::parser(e, limit).into()),
        }
    }
    let kind = sniff::check_head(&head, &name).map_err(|r| Refused::bad(r.message()))?;

    // The body, streamed to a temporary key.
    let store = &state.evidence.store;
    let temp = state.evidence.start_upload();
    // Whatever happens next, the upload is over when this function returns.
    let _in_flight = InFlight { store: &state.evidence, key: temp.clone() };
    let upload = store.put_multipart(&temp).await.map_err(|e| internal("cannot start the upload", e))?;
    let mut writer = PartWriter::new(upload);
    let streamed: Result<(), Failure> = async {
        for chunk in pending.drain(..) {
            writer.write(&chunk).await.map_err(|e| internal("store write", e))?;
        }
        while !ended {
            match field.chunk().await {
                Ok(Some(chunk)) => {
                    received.take(&chunk, limit)?;
                    writer.write(&chunk).await.map_err(|e| internal("store write", e))?;
                }
                Ok(None) => ended = true,
                Err(e) => return Err(Refused::parser(e, limit).into()),
            }
        }
        if !sniff::complete(kind, &received.tail) {
            return Err(Refused::bad(sniff::Refusal::Incomplete(kind).message()).into());
        }
        // The rest of the form (its closing boundary), then the end of the request itself.
        drop(field);
        loop {
            match multipart.next_field().await {
                Ok(Some(_)) => continue,
                Ok(None) => break,
                Err(e) => return Err(Refused::parser(e, limit).into()),
            }
        }
        drop(multipart);
        match body_outcome.await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(Refused::broken(e).into()),
            Err(e) => Err(Refused::broken(e).into()),
        }
    }
    .await;
    if let Err(failure) = streamed {
        if let Err(e) = writer.abort().await {
            tracing::warn!(error = %e, key = %temp, "evidence upload: abort failed (the sweep will remove it)");
        }
        return Err(failure);
    }
    writer.finish().await.map_err(|e| internal("cannot complete the upload", e))?;

    // Complete and accepted: move it to its final key, then write the row.
    let final_key = EvidenceStore::final_key(&codice);
    if let Err(e) = store.rename(&temp, &final_key).await {
        let _ = store.delete(&temp).await;
        return Err(internal("cannot move the file to its final key", e));
    }
    let new = NewEvidence {
        programme,
        comune: codice,
        objective: obiettivo,
        file_name: name,
        content_type: kind.content_type(),
        size_bytes: received.size as i64,
        sha256: format!("{:x}", received.hasher.finalize()),
        storage_key: final_key.to_string(),
    };
    let db = &state.db;
    let written = write_tx!(db, tx => tx.add_evidence_in(&user.email, &new).await?);
    match written {
        Ok(row) => Ok(row),
        Err(e) => {
            if let Err(d) = store.delete(&final_key).await {
                tracing::warn!(error = %d, key = %final_key, "evidence upload: cleanup failed (the sweep will remove it)");
            }
            Err(match e {
                WriteError::Duplicate(_, message) => Refused { status: StatusCode::CONFLICT, message }.into(),
                other => internal("cannot write the evidence row", other),
            })
        }
    }
}

/// An upload of this process in flight, until dropped (see [`EvidenceStore::start_upload`]).
struct InFlight<'a> {
    store: &'a EvidenceStore,
    key: object_store::path::Path,
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.store.upload_ended(&self.key);
    }
}

/// Writes a file to a multipart upload in parts of [`PART_BYTES`]: one part's buffer filling while
/// the previous part is written, so memory holds two parts whatever the file's size.
/// (`object_store`'s `WriteMultipart` copies into 8 KiB blocks that, freed on the store's writer
/// threads, the allocator kept: a 100 MB upload grew the server by 53 MB.)
struct PartWriter {
    upload: Box<dyn object_store::MultipartUpload>,
    buffer: Vec<u8>,
    in_flight: Option<tokio::task::JoinHandle<object_store::Result<()>>>,
}

impl PartWriter {
    fn new(upload: Box<dyn object_store::MultipartUpload>) -> Self {
        PartWriter { upload, buffer: Vec::with_capacity(PART_BYTES), in_flight: None }
    }

    async fn write(&mut self, mut bytes: &[u8]) -> Result<(), String> {
        while !bytes.is_empty() {
            let take = bytes.len().min(PART_BYTES - self.buffer.len());
            self.buffer.extend_from_slice(&bytes[..take]);
            bytes = &bytes[take..];
            if self.buffer.len() == PART_BYTES {
                self.send_part().await?;
            }
        }
        Ok(())
    }

    /// Waits for the part in flight, then starts writing the buffer as the next one.
    async fn send_part(&mut self) -> Result<(), String> {
        self.wait().await?;
        let full = std::mem::replace(&mut self.buffer, Vec::with_capacity(PART_BYTES));
        self.in_flight = Some(tokio::spawn(self.upload.put_part(full.into())));
        Ok(())
    }

    async fn wait(&mut self) -> Result<(), String> {
        match self.in_flight.take() {
            Some(part) => part.await.map_err(|e| e.to_string())?.map_err(|e| e.to_string()),
            None => Ok(()),
        }
    }

    async fn finish(mut self) -> Result<(), String> {
        if !self.buffer.is_empty() {
            self.send_part().await?;
        }
        self.wait().await?;
        self.upload.complete().await.map(|_| ()).map_err(|e| e.to_string())
    }

    async fn abort(mut self) -> Result<(), String> {
        let _ = self.wait().await;
        self.upload.abort().await.map_err(|e| e.to_string())
    }
}

/// Size, hash and last bytes of what arrived so far.
struct Received {
    size: u64,
    hasher: Sha256,
    tail: Vec<u8>,
}

impl Default for Received {
    fn default() -> Self {
        Received { size: 0, hasher: Sha256::new(), tail: Vec::with_capacity(2 * TAIL_BYTES) }
    }
}

impl Received {
    fn take(&mut self, chunk: &[u8], limit: u64) -> Result<(), Refused> {
        self.size += chunk.len() as u64;
        if self.size > limit {
            return Err(Refused::too_large(limit));
        }
        self.hasher.update(chunk);
        let keep = &chunk[chunk.len().saturating_sub(TAIL_BYTES)..];
        self.tail.extend_from_slice(keep);
        if self.tail.len() > TAIL_BYTES {
            self.tail.drain(..self.tail.len() - TAIL_BYTES);
        }
        Ok(())
    }
}
