//! Imports: what an import may touch, loaded in six set-based queries whatever the number of
//! comuni; the uploaded files (`import_batch`); applying a plan in one transaction through the
//! workspace's own writes, so each changed record gets the same trail entry a form would give
//! it, with the batch named as the reason.

use std::collections::HashMap;

use chrono::NaiveDate;
use sha2::{Digest, Sha256};

use super::{
    audit::{diff, Action, NewEntry},
    on_db,
    pnrr::{Project, PADIGITALE_2026},
    workspace::{write_tx, IoRow, OnlineRow, WriteError},
    Db,
};
use crate::{
    imports::{
        plan::{fold, Current, Op, Stored, TaxonomyEntry},
        Batch, BatchStatus, Report,
    },
    rules::{AdhesionStatus, Platform, Renunciation, RenunciationFact},
    workspace::{AdhesionValues, IoValues, OnlineValues, PagoPaValues},
};

#[derive(sqlx::FromRow)]
struct AdhesionKeyed {
    comune: String,
    status: String,
    adhesion_date: Option<NaiveDate>,
    renunciation: Option<String>,
    renunciation_date: Option<NaiveDate>,
    version: i64,
}

#[derive(sqlx::FromRow)]
struct PagoPaKeyed {
    comune: String,
    id: i64,
    taxonomy_code: String,
    applicable: bool,
    active_since: Option<NaiveDate>,
    deactivated_on: Option<NaiveDate>,
    on_mypay: bool,
    version: i64,
}

#[derive(sqlx::FromRow)]
struct IoKeyed {
    comune: String,
    #[sqlx(flatten)]
    row: IoRow,
}

#[derive(sqlx::FromRow)]
struct OnlineKeyed {
    comune: String,
    #[sqlx(flatten)]
    row: OnlineRow,
}

#[derive(sqlx::FromRow)]
struct TaxonomyRow {
    code: String,
    description: String,
    origin: String,
    valid_from: Option<NaiveDate>,
    valid_to: Option<NaiveDate>,
}

#[derive(sqlx::FromRow)]
struct ProjectKeyed {
    #[sqlx(flatten)]
    project: Project,
    version: i64,
}

#[derive(sqlx::FromRow)]
struct CountKeyed {
    comune: String,
    platform: String,
    day: NaiveDate,
    active: i64,
    version: i64,
}

/// Everything a dry run compares against, for one programme.
pub async fn current(db: &Db, programme: &str) -> Result<Current, sqlx::Error> {
    on_db!(db, pool => {
        let names: Vec<(String, String)> =
            sqlx::query_as("SELECT codice_istat, denominazione FROM comune").fetch_all(pool).await?;
        let adhesions: Vec<AdhesionKeyed> = sqlx::query_as(
            "SELECT comune, status, adhesion_date, renunciation, renunciation_date, version FROM adhesion \
             WHERE programme = $1",
        )
        .bind(programme)
        .fetch_all(pool)
        .await?;
        let pagopa: Vec<PagoPaKeyed> = sqlx::query_as(
            "SELECT comune, id, taxonomy_code, applicable, active_since, deactivated_on, on_mypay, version \
             FROM pagopa_service",
        )
        .fetch_all(pool)
        .await?;
        let io: Vec<IoKeyed> = sqlx::query_as(
            "SELECT comune, id, service_id, name, published_since, withdrawn_on, version FROM io_service",
        )
        .fetch_all(pool)
        .await?;
        // Oldest first: when a comune has two services of the same name, the first is the one updated.
        let online: Vec<OnlineKeyed> = sqlx::query_as(
            "SELECT comune, id, name, spid_since, cie_since, version FROM online_service ORDER BY id DESC",
        )
        .fetch_all(pool)
        .await?;
        let counts: Vec<CountKeyed> =
            sqlx::query_as("SELECT comune, platform, day, active, version FROM service_count").fetch_all(pool).await?;
        let taxonomy: Vec<TaxonomyRow> =
            sqlx::query_as("SELECT code, description, origin, valid_from, valid_to FROM taxonomy_entry")
                .fetch_all(pool)
                .await?;
        let in_use: Vec<String> =
            sqlx::query_scalar("SELECT DISTINCT taxonomy_code FROM pagopa_service").fetch_all(pool).await?;
        let projects: Vec<ProjectKeyed> = sqlx::query_as(&format!(
            "SELECT {}, version FROM pnrr_project WHERE programme = $1",
            super::pnrr::COLUMNS
        ))
        .bind(PADIGITALE_2026)
        .fetch_all(pool)
        .await?;
        Ok(Current {
            names: names.into_iter().collect(),
            adhesions: adhesions
                .into_iter()
                .filter_map(|a| {
                    let status = AdhesionStatus::from_code(&a.status)?;
                    let renunciation = a
                        .renunciation
                        .as_deref()
                        .and_then(Renunciation::from_code)
                        .zip(a.renunciation_date)
                        .map(|(kind, on)| RenunciationFact { kind, on });
                    Some((a.comune, (AdhesionValues { status, date: a.adhesion_date, renunciation }, a.version)))
                })
                .collect(),
            pagopa: pagopa
                .into_iter()
                .map(|s| {
                    let values = PagoPaValues {
                        taxonomy_code: s.taxonomy_code.clone(),
                        applicable: s.applicable,
                        active_since: s.active_since,
                        deactivated_on: s.deactivated_on,
                        on_mypay: s.on_mypay,
                    };
                    ((s.comune, s.taxonomy_code), Stored { id: s.id, version: s.version, values })
                })
                .collect(),
            io: io
                .into_iter()
                .map(|IoKeyed { comune, row: r }| {
                    let values = IoValues {
                        service_id: r.service_id.clone(),
                        name: r.name,
                        published_since: r.published_since,
                        withdrawn_on: r.withdrawn_on,
                    };
                    ((comune, r.service_id), Stored { id: r.id, version: r.version, values })
                })
                .collect(),
            online: online
                .into_iter()
                .map(|OnlineKeyed { comune, row: r }| {
                    let key = (comune, fold(&r.name));
                    let values = OnlineValues { name: r.name, spid_since: r.spid_since, cie_since: r.cie_since };
                    (key, Stored { id: r.id, version: r.version, values })
                })
                .collect::<HashMap<_, _>>(),
            counts: counts
                .into_iter()
                .filter_map(|c| Some(((c.comune, Platform::from_code(&c.platform)?, c.day), (c.active, c.version))))
                .collect(),
            taxonomy: taxonomy
                .into_iter()
                .map(|t| {
                    let entry = TaxonomyEntry {
                        description: t.description,
                        origin: t.origin,
                        valid_from: t.valid_from,
                        valid_to: t.valid_to,
                    };
                    (t.code, entry)
                })
                .collect(),
            taxonomy_in_use: in_use.into_iter().collect(),
            projects: projects.into_iter().map(|p| (p.project.cup.clone(), (p.project, p.version))).collect(),
        })
    })
}

#[derive(sqlx::FromRow)]
struct BatchRow {
    id: i64,
    file_name: String,
    sha256: String,
    size_bytes: i64,
    uploaded_by: String,
    uploaded_at: String,
    status: String,
    applied_at: Option<String>,
}

const BATCH_COLUMNS: &str = "id, file_name, sha256, size_bytes, uploaded_by, uploaded_at, status, applied_at";

/// `2026-11-27T10:15:00Z` as the page shows it: `27/11/2026 10:15 (UTC)`.
fn when(rfc3339: &str) -> String {
    chrono::DateTime::parse_from_rfc3339(rfc3339)
        .map(|t| t.format("%d/%m/%Y %H:%M (UTC)").to_string())
        .unwrap_or_else(|_| rfc3339.to_string())
}

impl From<BatchRow> for Batch {
    fn from(r: BatchRow) -> Batch {
        Batch {
            id: r.id,
            file_name: r.file_name,
            size_bytes: r.size_bytes,
            sha256: r.sha256,
            uploaded_by: r.uploaded_by,
            uploaded_at: when(&r.uploaded_at),
            status: BatchStatus::from_code(&r.status).unwrap_or(BatchStatus::InProva),
            applied_at: r.applied_at.as_deref().map(when),
        }
    }
}

/// Keeps an uploaded file (a dry run changes nothing else: no data version, no trail entry).
pub async fn store(db: &Db, actor: &str, file_name: &str, bytes: &[u8]) -> Result<i64, sqlx::Error> {
    let sha = format!("{:x}", Sha256::digest(bytes));
    on_db!(db, pool => {
        sqlx::query_scalar(
            "INSERT INTO import_batch (file_name, sha256, size_bytes, content, uploaded_by, uploaded_at, status) \
             VALUES ($1, $2, $3, $4, $5, $6, 'in_prova') RETURNING id",
        )
        .bind(file_name)
        .bind(&sha)
        .bind(bytes.len() as i64)
        .bind(bytes)
        .bind(actor)
        .bind(super::audit::now_rfc3339())
        .fetch_one(pool)
        .await
    })
}

/// One page of the uploads, newest first (`limit` rows after `offset`), and how many there are
/// in all: the list on `/importazioni` grows with every upload, so it is read a page at a time.
pub async fn recent_page(db: &Db, limit: usize, offset: usize) -> Result<(Vec<Batch>, usize), sqlx::Error> {
    let (limit, offset) = crate::paging::sql_bounds(limit, offset);
    on_db!(db, pool => {
        let total: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM import_batch").fetch_one(pool).await?;
        let rows: Vec<BatchRow> = sqlx::query_as(&format!(
            "SELECT {BATCH_COLUMNS} FROM import_batch ORDER BY id DESC LIMIT $1 OFFSET $2"
        ))
        .bind(limit)
        .bind(offset)
        .fetch_all(pool)
        .await?;
        Ok((rows.into_iter().map(Batch::from).collect(), usize::try_from(total).unwrap_or(0)))
    })
}

/// One upload: its description, its bytes and, once applied, the report it was applied with.
pub async fn get(db: &Db, id: i64) -> Result<Option<(Batch, Vec<u8>, Option<Report>)>, sqlx::Error> {
    on_db!(db, pool => {
        let row: Option<BatchRow> =
            sqlx::query_as(&format!("SELECT {BATCH_COLUMNS} FROM import_batch WHERE id = $1"))
                .bind(id)
                .fetch_optional(pool)
                .await?;
        let Some(row) = row else { return Ok(None) };
        let (content, report): (Vec<u8>, Option<String>) =
            sqlx::query_as("SELECT content, report FROM import_batch WHERE id = $1").bind(id).fetch_one(pool).await?;
        let report = report.and_then(|r| serde_json::from_str(&r).ok());
        Ok(Some((Batch::from(row), content, report)))
    })
}

/// Applies `ops` of batch `id` in one transaction: every write through the workspace's own
/// operations (each appends its trail entry, the batch named as the reason), then the batch is
/// marked applied with its report. A record changed since the dry run is a
/// [`WriteError::Conflict`] and nothing is written; so is a batch already applied.
pub async fn apply(
    db: &Db,
    actor: &str,
    programme: &str,
    id: i64,
    ops: &[Op],
    report: &Report,
) -> Result<(), WriteError> {
    // The reason names the batch, not its file: the file's name stays with the batch (the
    // Region's import pages), while the trail entries are read by the comune's own users too,
    // and a file name can carry a person's name.
    let reason = format!("Importazione n. {id}");
    let report =
        serde_json::to_string(report).map_err(|e| WriteError::Db(sqlx::Error::Protocol(e.to_string())))?;
    // An applied file is real data: the first one ends a demo database (see
    // `WriteTx::mark_real`), which needs the writing transaction below even when nothing changes.
    let already_real = db.meta("dataset").await?.as_deref() == Some(super::audit::REAL_DATASET);
    if ops.is_empty() && already_real {
        // Nothing changes: the batch is marked, the data version (and every cache) stays.
        let marked = on_db!(db, pool => sqlx::query(
            "UPDATE import_batch SET status = 'applicata', applied_at = $1, report = $2 \
             WHERE id = $3 AND status = 'in_prova'",
        )
        .bind(super::audit::now_rfc3339())
        .bind(&report)
        .bind(id)
        .execute(pool)
        .await?
        .rows_affected());
        return if marked == 1 { Ok(()) } else { Err(WriteError::Conflict) };
    }
    write_tx!(db, tx => {
        let status: Option<String> = sqlx::query_scalar("SELECT status FROM import_batch WHERE id = $1")
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?;
        match status.as_deref() {
            None => return Err(WriteError::NotFound),
            Some("in_prova") => {}
            Some(_) => return Err(WriteError::Conflict),
        }
        tx.mark_real(actor, &format!("importazione n. {id}")).await?;
        for op in ops {
            let why = Some(reason.clone());
            match op {
                Op::Adhesion { comune, values, version } => {
                    tx.set_adhesion_in(actor, programme, comune, values, *version, why).await?
                }
                Op::AddService { comune, values } => {
                    tx.add_service_in(actor, comune, values, why).await?;
                }
                Op::UpdateService { comune, id, version, values } => {
                    tx.update_service_in(actor, comune, *id, *version, values, why).await?
                }
                Op::Count { comune, values, version } => {
                    tx.set_count_in(actor, comune, values, *version, why).await?
                }
                Op::Taxonomy { code, entry } => {
                    let before: Option<TaxonomyRow> = sqlx::query_as(
                        "SELECT code, description, origin, valid_from, valid_to FROM taxonomy_entry WHERE code = $1",
                    )
                    .bind(code)
                    .fetch_optional(&mut *tx)
                    .await?;
                    sqlx::query(
                        "INSERT INTO taxonomy_entry (code, description, origin, valid_from, valid_to) \
                         VALUES ($1, $2, 'ufficiale', $3, $4) ON CONFLICT (code) DO UPDATE SET \
                         description = excluded.description, origin = 'ufficiale', \
                         valid_from = excluded.valid_from, valid_to = excluded.valid_to",
                    )
                    .bind(code)
                    .bind(&entry.description)
                    .bind(entry.valid_from)
                    .bind(entry.valid_to)
                    .execute(&mut *tx)
                    .await?;
                    let b = before.as_ref();
                    let date = |d: Option<NaiveDate>| d.map(|d| d.to_string());
                    tx.append(&NewEntry {
                        actor: actor.to_string(),
                        comune: None,
                        entity: "taxonomy_entry",
                        record: code.clone(),
                        action: if before.is_some() { Action::Update } else { Action::Create },
                        changes: diff(vec![
                            ("descrizione", b.map(|b| b.description.clone()), Some(entry.description.clone())),
                            ("origine", b.map(|b| b.origin.clone()), Some("ufficiale".to_string())),
                            ("valida_dal", b.and_then(|b| date(b.valid_from)), date(entry.valid_from)),
                            ("valida_al", b.and_then(|b| date(b.valid_to)), date(entry.valid_to)),
                        ]),
                        reason: why,
                    })
                    .await?;
                }
                Op::Project { project: p, version } => {
                    let before: Option<ProjectKeyed> = sqlx::query_as(&format!(
                        "SELECT {}, version FROM pnrr_project WHERE programme = $1 AND cup = $2",
                        super::pnrr::COLUMNS
                    ))
                    .bind(PADIGITALE_2026)
                    .bind(&p.cup)
                    .fetch_optional(&mut *tx)
                    .await?;
                    if before.as_ref().map_or(0, |b| b.version) != *version {
                        return Err(WriteError::Conflict);
                    }
                    let sql = if before.is_some() {
                        "UPDATE pnrr_project SET comune = $3, misura = $4, avviso = $5, amount_cents = $6, status = $7, \
                         submitted_on = $8, financed_on = $9, status_on = $10, decree = $11, version = version + 1 \
                         WHERE programme = $1 AND cup = $2"
                    } else {
                        "INSERT INTO pnrr_project (programme, cup, comune, misura, avviso, amount_cents, status, \
                         submitted_on, financed_on, status_on, decree) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
                    };
                    sqlx::query(sql)
                        .bind(PADIGITALE_2026)
                        .bind(&p.cup)
                        .bind(&p.comune)
                        .bind(&p.misura)
                        .bind(&p.avviso)
                        .bind(p.amount_cents)
                        .bind(&p.status)
                        .bind(p.submitted_on)
                        .bind(p.financed_on)
                        .bind(p.status_on)
                        .bind(&p.decree)
                        .execute(&mut *tx)
                        .await?;
                    let b = before.as_ref().map(|b| &b.project);
                    let date = |d: Option<NaiveDate>| d.map(|d| d.to_string());
                    tx.append(&NewEntry {
                        actor: actor.to_string(),
                        comune: Some(p.comune.clone()),
                        entity: "pnrr_project",
                        record: format!("{PADIGITALE_2026}/{}", p.cup),
                        action: if b.is_some() { Action::Update } else { Action::Create },
                        changes: diff(vec![
                            ("comune", b.map(|b| b.comune.clone()), Some(p.comune.clone())),
                            ("misura", b.map(|b| b.misura.clone()), Some(p.misura.clone())),
                            ("avviso", b.map(|b| b.avviso.clone()), Some(p.avviso.clone())),
                            ("importo_centesimi", b.map(|b| b.amount_cents.to_string()), Some(p.amount_cents.to_string())),
                            ("stato", b.map(|b| b.status.clone()), Some(p.status.clone())),
                            ("inviata_il", b.and_then(|b| date(b.submitted_on)), date(p.submitted_on)),
                            ("finanziata_il", b.and_then(|b| date(b.financed_on)), date(p.financed_on)),
                            ("stato_dal", b.and_then(|b| date(b.status_on)), date(p.status_on)),
                            ("decreto", b.and_then(|b| b.decree.clone()), p.decree.clone()),
                        ]),
                        reason: why,
                    })
                    .await?;
                }
                Op::RemoveTaxonomy { code } => {
                    // Only a demo entry no service uses (checked again here, inside the lock).
                    let removed = sqlx::query(
                        "DELETE FROM taxonomy_entry WHERE code = $1 AND origin = 'demo' \
                         AND NOT EXISTS (SELECT 1 FROM pagopa_service WHERE taxonomy_code = $1)",
                    )
                    .bind(code)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                    if removed != 1 {
                        return Err(WriteError::Conflict);
                    }
                    tx.append(&NewEntry {
                        actor: actor.to_string(),
                        comune: None,
                        entity: "taxonomy_entry",
                        record: code.clone(),
                        action: Action::Delete,
                        changes: diff(vec![("origine", Some("demo".to_string()), None)]),
                        reason: why,
                    })
                    .await?;
                }
            }
        }
        sqlx::query("UPDATE import_batch SET status = 'applicata', applied_at = $1, report = $2 WHERE id = $3")
            .bind(super::audit::now_rfc3339())
            .bind(&report)
            .bind(id)
            .execute(&mut *tx)
            .await?;
    })
}
