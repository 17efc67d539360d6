//! Evidence rows and their reviews. Writes run inside a transaction that holds the write lock
//! ([`crate::data::audit::WriteTx`]) and append their audit entry there; reads are set-based
//! (one query per page, never one per objective).

use super::{
    audit::{diff, Action, NewEntry, WriteTx},
    on_db,
    workspace::WriteError,
    Db,
};
use crate::rules::ReviewOutcome;

/// One stored file.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct EvidenceRow {
    pub id: i64,
    pub programme: String,
    pub comune: String,
    pub objective: String,
    pub version: i64,
    pub file_name: String,
    pub content_type: String,
    pub size_bytes: i64,
    pub sha256: String,
    pub storage_key: String,
    pub uploaded_by: String,
    pub uploaded_at: String,
}

const EVIDENCE_COLUMNS: &str =
    "id, programme, comune, objective, version, file_name, content_type, size_bytes, \
     sha256, storage_key, uploaded_by, uploaded_at";

/// One review.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct ReviewRow {
    pub id: i64,
    pub evidence: i64,
    pub outcome: String,
    pub reason: Option<String>,
    pub reviewed_by: String,
    pub reviewed_at: String,
}

/// A file waiting for the Region's review, with what the queue shows about it.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct QueueRow {
    pub id: i64,
    pub comune: String,
    pub denominazione: String,
    pub sigla_provincia: String,
    pub objective: String,
    pub platform: String,
    pub version: i64,
    pub file_name: String,
    pub uploaded_by: String,
    pub uploaded_at: String,
}

/// What an upload writes, once its file is complete under `storage_key`.
#[derive(Clone, Debug)]
pub struct NewEvidence {
    pub programme: String,
    pub comune: String,
    pub objective: String,
    pub file_name: String,
    pub content_type: &'static str,
    pub size_bytes: i64,
    pub sha256: String,
    pub storage_key: String,
}

/// A review the Region gives.
#[derive(Clone, Debug)]
pub struct NewReview {
    pub evidence: i64,
    pub outcome: ReviewOutcome,
    pub reason: Option<String>,
    /// The latest review the reviewer saw (0: none): another review since is a conflict.
    pub expected_last_review: i64,
}

fn record(e: &EvidenceRow) -> String {
    format!("{}/{}/v{}", e.comune, e.objective, e.version)
}

/// The same bytes already uploaded for this objective, if any.
pub async fn find_same(
    db: &Db,
    programme: &str,
    comune: &str,
    objective: &str,
    sha256: &str,
) -> Result<Option<EvidenceRow>, sqlx::Error> {
    on_db!(db, pool => sqlx::query_as::<_, EvidenceRow>(&format!(
        "SELECT {EVIDENCE_COLUMNS} FROM evidence WHERE programme = $1 AND comune = $2 AND objective = $3 AND sha256 = $4"
    ))
    .bind(programme)
    .bind(comune)
    .bind(objective)
    .bind(sha256)
    .fetch_optional(pool)
    .await)
}

pub async fn get(db: &Db, id: i64) -> Result<Option<EvidenceRow>, sqlx::Error> {
    on_db!(db, pool => sqlx::query_as::<_, EvidenceRow>(&format!("SELECT {EVIDENCE_COLUMNS} FROM evidence WHERE id = $1"))
        .bind(id)
        .fetch_optional(pool)
        .await)
}

/// Every version of every objective of one comune, with all their reviews (oldest first).
pub async fn of_comune(
    db: &Db,
    programme: &str,
    comune: &str,
) -> Result<(Vec<EvidenceRow>, Vec<ReviewRow>), sqlx::Error> {
    on_db!(db, pool => {
        let files = sqlx::query_as::<_, EvidenceRow>(&format!(
            "SELECT {EVIDENCE_COLUMNS} FROM evidence WHERE programme = $1 AND comune = $2 ORDER BY objective, version"
        ))
        .bind(programme)
        .bind(comune)
        .fetch_all(pool)
        .await?;
        let reviews = sqlx::query_as::<_, ReviewRow>(
            "SELECT r.id, r.evidence, r.outcome, r.reason, r.reviewed_by, r.reviewed_at FROM evidence_review r \
             JOIN evidence e ON e.id = r.evidence WHERE e.programme = $1 AND e.comune = $2 ORDER BY r.id",
        )
        .bind(programme)
        .bind(comune)
        .fetch_all(pool)
        .await?;
        Ok((files, reviews))
    })
}

/// The queue's rows: the newest version of each objective's file that has no review yet, of
/// programme `$1`, province `$2` and platform `$3` (`''`: any). One text for the list, its
/// pages and its count, so they always agree.
const QUEUE_FROM: &str = "FROM evidence e JOIN comune c ON c.codice_istat = e.comune \
     JOIN objective o ON o.programme = e.programme AND o.code = e.objective \
     WHERE e.programme = $1 \
     AND NOT EXISTS (SELECT 1 FROM evidence_review r WHERE r.evidence = e.id) \
     AND NOT EXISTS (SELECT 1 FROM evidence n WHERE n.programme = e.programme AND n.comune = e.comune \
                     AND n.objective = e.objective AND n.version > e.version) \
     AND ($2 = '' OR c.sigla_provincia = $2) AND ($3 = '' OR o.platform = $3)";

const QUEUE_SELECT: &str =
    "SELECT e.id, e.comune, c.denominazione, c.sigla_provincia, e.objective, o.platform, \
     e.version, e.file_name, e.uploaded_by, e.uploaded_at ";

/// The files waiting for review, oldest first (the export takes them all).
pub async fn queue(
    db: &Db,
    programme: &str,
    provincia: Option<&str>,
    platform: Option<&str>,
) -> Result<Vec<QueueRow>, sqlx::Error> {
    queue_after(db, programme, provincia, platform, ("", 0), usize::MAX).await
}

/// The next `limit` rows of [`queue`] after the row uploaded at `after.0` with id `after.1`
/// (`("", 0)`: from the start), in the queue's order: the export reads the queue in batches,
/// each continuing where the last ended (an index range, however long the queue).
pub async fn queue_after(
    db: &Db,
    programme: &str,
    provincia: Option<&str>,
    platform: Option<&str>,
    after: (&str, i64),
    limit: usize,
) -> Result<Vec<QueueRow>, sqlx::Error> {
    let sql = format!(
        "{QUEUE_SELECT}{QUEUE_FROM} AND (e.uploaded_at > $4 OR (e.uploaded_at = $4 AND e.id > $5)) \
         ORDER BY e.uploaded_at, e.id LIMIT $6"
    );
    let (limit, _) = crate::paging::sql_bounds(limit, 0);
    on_db!(db, pool => sqlx::query_as::<_, QueueRow>(&sql)
        .bind(programme)
        .bind(provincia.unwrap_or(""))
        .bind(platform.unwrap_or(""))
        .bind(after.0)
        .bind(after.1)
        .bind(limit)
        .fetch_all(pool)
        .await)
}

/// One page of [`queue`] (at most `limit` rows after `offset`) and how many rows the whole
/// queue has: the page reads only its rows, however long the queue.
pub async fn queue_page(
    db: &Db,
    programme: &str,
    provincia: Option<&str>,
    platform: Option<&str>,
    limit: usize,
    offset: usize,
) -> Result<(Vec<QueueRow>, usize), sqlx::Error> {
    let total = queue_count(db, programme, provincia, platform).await?;
    let sql = format!("{QUEUE_SELECT}{QUEUE_FROM} ORDER BY e.uploaded_at, e.id LIMIT $4 OFFSET $5");
    let (limit, offset) = crate::paging::sql_bounds(limit, offset);
    let rows = on_db!(db, pool => sqlx::query_as::<_, QueueRow>(&sql)
        .bind(programme)
        .bind(provincia.unwrap_or(""))
        .bind(platform.unwrap_or(""))
        .bind(limit)
        .bind(offset)
        .fetch_all(pool)
        .await)?;
    Ok((rows, total))
}

/// How many files wait for review (the reminders' figure and the queue's total).
pub async fn queue_count(
    db: &Db,
    programme: &str,
    provincia: Option<&str>,
    platform: Option<&str>,
) -> Result<usize, sqlx::Error> {
    let sql = format!("SELECT COUNT(*) {QUEUE_FROM}");
    let n: i64 = on_db!(db, pool => sqlx::query_scalar(&sql)
        .bind(programme)
        .bind(provincia.unwrap_or(""))
        .bind(platform.unwrap_or(""))
        .fetch_one(pool)
        .await)?;
    Ok(usize::try_from(n).unwrap_or(0))
}

/// Every storage key a row names (the sweep keeps these).
pub async fn storage_keys(db: &Db) -> Result<Vec<String>, sqlx::Error> {
    on_db!(db, pool => sqlx::query_scalar("SELECT storage_key FROM evidence").fetch_all(pool).await)
}

/// Whether a row names `key` (the sweep asks right before deleting a file).
pub async fn has_storage_key(db: &Db, key: &str) -> Result<bool, sqlx::Error> {
    on_db!(db, pool => sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM evidence WHERE storage_key = $1")
        .bind(key)
        .fetch_one(pool)
        .await)
    .map(|n| n > 0)
}

/// Row counts of the two tables (tests: "no row left behind").
pub async fn counts(db: &Db) -> Result<(i64, i64), sqlx::Error> {
    on_db!(db, pool => {
        let files: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM evidence").fetch_one(pool).await?;
        let reviews: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM evidence_review").fetch_one(pool).await?;
        Ok((files, reviews))
    })
}

/// Records a download in the trail. Downloads change no data, so the transaction takes the
/// write lock without bumping `data_version` ([`WriteTx::lock_trail`]): the caches stay warm.
pub async fn record_download(db: &Db, actor: &str, e: &EvidenceRow) -> Result<(), sqlx::Error> {
    on_db!(db, pool => {
        let mut tx = pool.begin().await?;
        tx.lock_trail().await?;
        tx.append(&NewEntry {
            actor: actor.to_string(),
            comune: Some(e.comune.clone()),
            entity: "evidence",
            record: record(e),
            action: Action::Download,
            changes: Vec::new(),
            reason: None,
        })
        .await?;
        tx.commit().await
    })
}

/// The writes, on either backend's connection inside a transaction that holds the write lock.
#[allow(async_fn_in_trait)] // only implemented for the two concrete connection types below
pub trait EvidenceOps {
    /// Adds the next version of an objective's evidence; the same bytes twice is a
    /// [`WriteError::Duplicate`].
    async fn add_evidence_in(&mut self, actor: &str, e: &NewEvidence) -> Result<EvidenceRow, WriteError>;
    /// Adds a review of the latest version; returns the reviewed row.
    async fn review_in(&mut self, actor: &str, r: &NewReview) -> Result<EvidenceRow, WriteError>;
}

macro_rules! impl_evidence_ops {
    ($conn:ty) => {
        impl EvidenceOps for $conn {
            async fn add_evidence_in(&mut self, actor: &str, e: &NewEvidence) -> Result<EvidenceRow, WriteError> {
                let same: Option<i64> = sqlx::query_scalar(
                    "SELECT version FROM evidence WHERE programme = $1 AND comune = $2 AND objective = $3 AND sha256 = $4",
                )
                .bind(&e.programme)
                .bind(&e.comune)
                .bind(&e.objective)
                .bind(&e.sha256)
                .fetch_optional(&mut *self)
                .await?;
                if let Some(v) = same {
                    return Err(WriteError::Duplicate(
                        "file",
                        format!("Questo file è già stato caricato per questo obiettivo (versione {v}): non è stato salvato di nuovo."),
                    ));
                }
                let last: Option<i64> = sqlx::query_scalar(
                    "SELECT MAX(version) FROM evidence WHERE programme = $1 AND comune = $2 AND objective = $3",
                )
                .bind(&e.programme)
                .bind(&e.comune)
                .bind(&e.objective)
                .fetch_one(&mut *self)
                .await?;
                let row = sqlx::query_as::<_, EvidenceRow>(&format!(
                    "INSERT INTO evidence (programme, comune, objective, version, file_name, content_type, size_bytes, \
                     sha256, storage_key, uploaded_by, uploaded_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) \
                     RETURNING {EVIDENCE_COLUMNS}"
                ))
                .bind(&e.programme)
                .bind(&e.comune)
                .bind(&e.objective)
                .bind(last.unwrap_or(0) + 1)
                .bind(&e.file_name)
                .bind(e.content_type)
                .bind(e.size_bytes)
                .bind(&e.sha256)
                .bind(&e.storage_key)
                .bind(actor)
                .bind(super::audit::now_rfc3339())
                .fetch_one(&mut *self)
                .await?;
                self.append(&NewEntry {
                    actor: actor.to_string(),
                    comune: Some(row.comune.clone()),
                    entity: "evidence",
                    record: record(&row),
                    action: Action::Create,
                    changes: diff(vec![
                        ("file", None, Some(row.file_name.clone())),
                        ("tipo", None, Some(row.content_type.clone())),
                        ("byte", None, Some(row.size_bytes.to_string())),
                        ("sha256", None, Some(row.sha256.clone())),
                    ]),
                    reason: None,
                })
                .await?;
                // A file from a real account is real evidence: it ends a demo database.
                let by_demo_account: bool =
                    sqlx::query_scalar("SELECT COUNT(*) > 0 FROM app_user WHERE email = $1 AND demo")
                        .bind(actor)
                        .fetch_one(&mut *self)
                        .await?;
                if !by_demo_account {
                    self.mark_real(actor, "una prova è stata caricata da un account non dimostrativo").await?;
                }
                Ok(row)
            }

            async fn review_in(&mut self, actor: &str, r: &NewReview) -> Result<EvidenceRow, WriteError> {
                let row = sqlx::query_as::<_, EvidenceRow>(&format!(
                    "SELECT {EVIDENCE_COLUMNS} FROM evidence WHERE id = $1"
                ))
                .bind(r.evidence)
                .fetch_optional(&mut *self)
                .await?
                .ok_or(WriteError::NotFound)?;
                let newer: Option<i64> = sqlx::query_scalar(
                    "SELECT MAX(version) FROM evidence WHERE programme = $1 AND comune = $2 AND objective = $3",
                )
                .bind(&row.programme)
                .bind(&row.comune)
                .bind(&row.objective)
                .fetch_one(&mut *self)
                .await?;
                if newer.is_some_and(|v| v > row.version) {
                    return Err(WriteError::Duplicate(
                        "esito",
                        "Il comune ha caricato una versione più recente di questo documento: esamina quella.".into(),
                    ));
                }
                let last: Option<(i64, String)> = sqlx::query_as(
                    "SELECT id, outcome FROM evidence_review WHERE evidence = $1 ORDER BY id DESC LIMIT 1",
                )
                .bind(r.evidence)
                .fetch_optional(&mut *self)
                .await?;
                if last.as_ref().map_or(0, |(id, _)| *id) != r.expected_last_review {
                    return Err(WriteError::Conflict);
                }
                sqlx::query(
                    "INSERT INTO evidence_review (evidence, outcome, reason, reviewed_by, reviewed_at) \
                     VALUES ($1, $2, $3, $4, $5)",
                )
                .bind(r.evidence)
                .bind(r.outcome.code())
                .bind(&r.reason)
                .bind(actor)
                .bind(super::audit::now_rfc3339())
                .execute(&mut *self)
                .await?;
                self.append(&NewEntry {
                    actor: actor.to_string(),
                    comune: Some(row.comune.clone()),
                    entity: "evidence_review",
                    record: record(&row),
                    action: Action::Create,
                    changes: diff(vec![(
                        "esito",
                        last.map(|(_, o)| o),
                        Some(r.outcome.code().to_string()),
                    )]),
                    reason: r.reason.clone(),
                })
                .await?;
                Ok(row)
            }
        }
    };
}
impl_evidence_ops!(sqlx::SqliteConnection);
impl_evidence_ops!(sqlx::PgConnection);
