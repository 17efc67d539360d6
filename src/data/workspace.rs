//! The workspace's reads and writes. Every write is one transaction that (1) takes the write lock
//! ([`WriteTx::lock_for_write`]), (2) reads the record as it is now, (3) refuses with
//! [`WriteError::Conflict`] if its version is not the one the form was shown, (4) writes, and
//! (5) appends its trail entry: the change, its trail entry and the new data version commit
//! together or not at all.

use chrono::NaiveDate;

use super::{
    audit::{diff, Action, NewEntry, WriteTx},
    on_db, Db,
};
use crate::{
    rules::{AdhesionStatus, Platform},
    workspace::{
        AdhesionValues, BlockerCategory, BlockerValues, CountValues, IoValues, OnlineValues, Outcome,
        PagoPaValues, ServiceValues, VerificationValues,
    },
};

/// Why a write did not happen.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    /// Somebody saved the record after the form was shown: nothing was written.
    #[error("the record changed since the form was shown")]
    Conflict,
    /// The record is not there (or not of this comune).
    #[error("no such record")]
    NotFound,
    /// A record with the same key exists: `(field, Italian message)`.
    #[error("duplicate: {1}")]
    Duplicate(&'static str, String),
    /// The programme's rules do not allow the change (a saldo renounced after its limit):
    /// `(field, Italian message)`; nothing was written.
    #[error("refused: {1}")]
    Refused(&'static str, String),
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

fn d(v: Option<NaiveDate>) -> Option<String> {
    v.map(|d| d.to_string())
}

fn yes_no(b: bool) -> Option<String> {
    Some(if b { "sì" } else { "no" }.to_string())
}

/// The adhesion of one comune to a programme; version 0 when there is no row (non aderente).
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct AdhesionRow {
    pub status: String,
    pub adhesion_date: Option<NaiveDate>,
    /// `saldo` or `contributo`, with `renunciation_date`; public (a decreto di rinuncia is).
    pub renunciation: Option<String>,
    pub renunciation_date: Option<NaiveDate>,
    pub version: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct PagoPaRow {
    pub id: i64,
    pub taxonomy_code: String,
    pub description: String,
    pub applicable: bool,
    pub active_since: Option<NaiveDate>,
    pub deactivated_on: Option<NaiveDate>,
    pub on_mypay: bool,
    pub version: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct IoRow {
    pub id: i64,
    pub service_id: String,
    pub name: String,
    pub published_since: Option<NaiveDate>,
    pub withdrawn_on: Option<NaiveDate>,
    pub version: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct OnlineRow {
    pub id: i64,
    pub name: String,
    pub spid_since: Option<NaiveDate>,
    pub cie_since: Option<NaiveDate>,
    pub version: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct CountRow {
    pub platform: String,
    pub day: NaiveDate,
    pub active: i64,
    pub version: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct VerificationRow {
    pub objective: String,
    pub outcome: String,
    pub reason: Option<String>,
    pub verified_on: NaiveDate,
    pub verified_by: String,
    pub version: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct BlockerRow {
    pub id: i64,
    pub comune: String,
    pub category: String,
    pub description: String,
    pub opened_on: NaiveDate,
    pub resolved_on: Option<NaiveDate>,
    pub version: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct NoteRow {
    pub id: i64,
    pub body: String,
    pub author: String,
    pub created_at: String,
}

#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct ProposalRow {
    pub id: i64,
    pub comune: String,
    pub platform: String,
    pub payload: String,
    pub status: String,
    pub proposed_by: String,
    pub proposed_at: String,
    pub decided_by: Option<String>,
    pub reason: Option<String>,
    pub version: i64,
    /// The existing service the proposal changes; `None`: a new service.
    pub service_id: Option<i64>,
}

impl ProposalRow {
    pub fn values(&self) -> Option<ServiceValues> {
        serde_json::from_str(&self.payload).ok()
    }

    /// The proposal in words: the service as proposed, said to be a change when it is one.
    pub fn description(&self) -> String {
        let service = self.values().map(|v| v.describe()).unwrap_or_default();
        match self.service_id {
            Some(_) => format!("Modifica del servizio {service}"),
            None => service,
        }
    }
}

/// Everything the workspace page of one comune shows, read in one go (a handful of indexed
/// queries, each by comune).
#[derive(Clone, Debug, Default)]
pub struct ComuneRecords {
    pub adhesion: Option<AdhesionRow>,
    pub pagopa: Vec<PagoPaRow>,
    pub io: Vec<IoRow>,
    pub online: Vec<OnlineRow>,
    pub counts: Vec<CountRow>,
    pub verifications: Vec<VerificationRow>,
    pub blockers: Vec<BlockerRow>,
    pub notes: Vec<NoteRow>,
    pub proposals: Vec<ProposalRow>,
}

const PROPOSAL_COLUMNS: &str =
    "id, comune, platform, payload, status, proposed_by, proposed_at, decided_by, reason, version, service_id";

pub async fn comune_records(db: &Db, programme: &str, comune: &str) -> Result<ComuneRecords, sqlx::Error> {
    on_db!(db, pool => {
        let adhesion = sqlx::query_as::<_, AdhesionRow>(
            "SELECT status, adhesion_date, renunciation, renunciation_date, version FROM adhesion \
             WHERE programme = $1 AND comune = $2",
        )
        .bind(programme)
        .bind(comune)
        .fetch_optional(pool)
        .await?;
        let pagopa = sqlx::query_as::<_, PagoPaRow>(
            "SELECT s.id, s.taxonomy_code, t.description, s.applicable, s.active_since, s.deactivated_on, s.on_mypay, \
             s.version FROM pagopa_service s JOIN taxonomy_entry t ON t.code = s.taxonomy_code \
             WHERE s.comune = $1 ORDER BY s.taxonomy_code",
        )
        .bind(comune)
        .fetch_all(pool)
        .await?;
        let io = sqlx::query_as::<_, IoRow>(
            "SELECT id, service_id, name, published_since, withdrawn_on, version FROM io_service \
             WHERE comune = $1 ORDER BY name, service_id",
        )
        .bind(comune)
        .fetch_all(pool)
        .await?;
        let online = sqlx::query_as::<_, OnlineRow>(
            "SELECT id, name, spid_since, cie_since, version FROM online_service WHERE comune = $1 ORDER BY name, id",
        )
        .bind(comune)
        .fetch_all(pool)
        .await?;
        let counts = sqlx::query_as::<_, CountRow>(
            "SELECT platform, day, active, version FROM service_count WHERE comune = $1 ORDER BY day, platform",
        )
        .bind(comune)
        .fetch_all(pool)
        .await?;
        let verifications = sqlx::query_as::<_, VerificationRow>(
            "SELECT objective, outcome, reason, verified_on, verified_by, version FROM objective_verification \
             WHERE programme = $1 AND comune = $2",
        )
        .bind(programme)
        .bind(comune)
        .fetch_all(pool)
        .await?;
        let blockers = sqlx::query_as::<_, BlockerRow>(
            "SELECT id, comune, category, description, opened_on, resolved_on, version FROM blocker \
             WHERE programme = $1 AND comune = $2 ORDER BY resolved_on IS NOT NULL, opened_on DESC, id DESC",
        )
        .bind(programme)
        .bind(comune)
        .fetch_all(pool)
        .await?;
        let notes = sqlx::query_as::<_, NoteRow>(
            "SELECT id, body, author, created_at FROM comune_note WHERE comune = $1 ORDER BY id DESC",
        )
        .bind(comune)
        .fetch_all(pool)
        .await?;
        let proposals = sqlx::query_as::<_, ProposalRow>(&format!(
            "SELECT {PROPOSAL_COLUMNS} FROM service_proposal WHERE comune = $1 ORDER BY id DESC"
        ))
        .bind(comune)
        .fetch_all(pool)
        .await?;
        Ok(ComuneRecords { adhesion, pagopa, io, online, counts, verifications, blockers, notes, proposals })
    })
}

/// The blockers of one comune, open ones first.
pub async fn blockers_of(db: &Db, programme: &str, comune: &str) -> Result<Vec<BlockerRow>, sqlx::Error> {
    on_db!(db, pool => sqlx::query_as::<_, BlockerRow>(
        "SELECT id, comune, category, description, opened_on, resolved_on, version FROM blocker \
         WHERE programme = $1 AND comune = $2 ORDER BY resolved_on IS NOT NULL, opened_on DESC, id DESC",
    )
    .bind(programme)
    .bind(comune)
    .fetch_all(pool)
    .await)
}

/// The Region's verifications of one comune's objectives.
pub async fn verifications_of(
    db: &Db,
    programme: &str,
    comune: &str,
) -> Result<Vec<VerificationRow>, sqlx::Error> {
    on_db!(db, pool => sqlx::query_as::<_, VerificationRow>(
        "SELECT objective, outcome, reason, verified_on, verified_by, version FROM objective_verification \
         WHERE programme = $1 AND comune = $2",
    )
    .bind(programme)
    .bind(comune)
    .fetch_all(pool)
    .await)
}

/// The taxonomy codes a pagoPA service may carry.
pub async fn taxonomy_codes(db: &Db) -> Result<Vec<String>, sqlx::Error> {
    on_db!(db, pool => sqlx::query_scalar("SELECT code FROM taxonomy_entry ORDER BY code").fetch_all(pool).await)
}

/// The proposals waiting for the Region, oldest first.
pub async fn pending_proposals(db: &Db) -> Result<Vec<ProposalRow>, sqlx::Error> {
    on_db!(db, pool => sqlx::query_as::<_, ProposalRow>(&format!(
        "SELECT {PROPOSAL_COLUMNS} FROM service_proposal WHERE status = 'in_attesa' ORDER BY id"
    ))
    .fetch_all(pool)
    .await)
}

/// One page of [`pending_proposals`] (at most `limit` after `offset`) and how many are pending
/// in all.
pub async fn pending_proposals_page(
    db: &Db,
    limit: usize,
    offset: usize,
) -> Result<(Vec<ProposalRow>, usize), sqlx::Error> {
    let (limit, offset) = crate::paging::sql_bounds(limit, offset);
    on_db!(db, pool => {
        let total: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM service_proposal WHERE status = 'in_attesa'")
            .fetch_one(pool)
            .await?;
        let rows = sqlx::query_as::<_, ProposalRow>(&format!(
            "SELECT {PROPOSAL_COLUMNS} FROM service_proposal WHERE status = 'in_attesa' ORDER BY id LIMIT $1 OFFSET $2"
        ))
        .bind(limit)
        .bind(offset)
        .fetch_all(pool)
        .await?;
        Ok((rows, usize::try_from(total).unwrap_or(0)))
    })
}

/// The writes, on either backend's connection inside a transaction that already holds the write
/// lock. Each appends its trail entry.
#[allow(async_fn_in_trait)] // only implemented for the two concrete connection types below
pub trait Ops {
    async fn set_adhesion_in(
        &mut self,
        actor: &str,
        programme: &str,
        comune: &str,
        v: &AdhesionValues,
        expected_version: i64,
        reason: Option<String>,
    ) -> Result<(), WriteError>;
    async fn add_service_in(
        &mut self,
        actor: &str,
        comune: &str,
        v: &ServiceValues,
        reason: Option<String>,
    ) -> Result<i64, WriteError>;
    async fn update_service_in(
        &mut self,
        actor: &str,
        comune: &str,
        id: i64,
        expected_version: i64,
        v: &ServiceValues,
        reason: Option<String>,
    ) -> Result<(), WriteError>;
    /// Writes the count of one platform on one day, if it is still at `expected_version` (0:
    /// no count for that day yet) — the same conflict detection as every other edit.
    async fn set_count_in(
        &mut self,
        actor: &str,
        comune: &str,
        v: &CountValues,
        expected_version: i64,
        reason: Option<String>,
    ) -> Result<(), WriteError>;
    #[allow(clippy::too_many_arguments)]
    async fn set_verification_in(
        &mut self,
        actor: &str,
        programme: &str,
        comune: &str,
        v: &VerificationValues,
        expected_version: i64,
        today: NaiveDate,
    ) -> Result<(), WriteError>;
    async fn add_blocker_in(
        &mut self,
        actor: &str,
        programme: &str,
        comune: &str,
        v: &BlockerValues,
    ) -> Result<i64, WriteError>;
    async fn resolve_blocker_in(
        &mut self,
        actor: &str,
        comune: &str,
        id: i64,
        expected_version: i64,
        day: NaiveDate,
    ) -> Result<(), WriteError>;
    async fn add_note_in(&mut self, actor: &str, comune: &str, body: &str) -> Result<i64, WriteError>;
    /// A comune's proposal: a new service (`target` `None`) or a change of its existing service
    /// `target`, whose key (taxonomy code, Service ID) must stay the same.
    async fn propose_in(
        &mut self,
        actor: &str,
        comune: &str,
        v: &ServiceValues,
        target: Option<i64>,
    ) -> Result<i64, WriteError>;
    /// Refuses (field `codice`, in Italian) a taxonomy code that is not in the taxonomy or was
    /// withdrawn before today, as the taxonomy stands in this transaction: what a new pagoPA
    /// service, or a change that leaves one active, may not carry.
    async fn usable_taxonomy_code_in(&mut self, code: &str) -> Result<(), WriteError>;
    /// The key (taxonomy code, Service ID; empty for SPID/CIE services) and version of the
    /// comune's service `id` on `platform`, if it exists.
    async fn existing_service_in(
        &mut self,
        comune: &str,
        platform: Platform,
        id: i64,
    ) -> Result<Option<(String, i64)>, WriteError>;
    async fn decide_in(
        &mut self,
        actor: &str,
        comune: &str,
        id: i64,
        expected_version: i64,
        accept: bool,
        reason: Option<String>,
    ) -> Result<(), WriteError>;
}

fn entry(actor: &str, comune: &str, entity: &'static str, record: String, action: Action) -> NewEntry {
    NewEntry {
        actor: actor.to_string(),
        comune: Some(comune.to_string()),
        entity,
        record,
        action,
        changes: Vec::new(),
        reason: None,
    }
}

fn pagopa_fields(v: Option<&PagoPaValues>) -> [(&'static str, Option<String>); 5] {
    [
        ("codice", v.map(|v| v.taxonomy_code.clone())),
        ("applicabile", v.and_then(|v| yes_no(v.applicable))),
        ("attivo_dal", v.and_then(|v| d(v.active_since))),
        ("disattivato_il", v.and_then(|v| d(v.deactivated_on))),
        ("su_mypay", v.and_then(|v| yes_no(v.on_mypay))),
    ]
}

fn io_fields(v: Option<&IoValues>) -> [(&'static str, Option<String>); 4] {
    [
        ("service_id", v.map(|v| v.service_id.clone())),
        ("nome", v.map(|v| v.name.clone())),
        ("pubblicato_dal", v.and_then(|v| d(v.published_since))),
        ("ritirato_il", v.and_then(|v| d(v.withdrawn_on))),
    ]
}

fn online_fields(v: Option<&OnlineValues>) -> [(&'static str, Option<String>); 3] {
    [
        ("nome", v.map(|v| v.name.clone())),
        ("spid_dal", v.and_then(|v| d(v.spid_since))),
        ("cie_dal", v.and_then(|v| d(v.cie_since))),
    ]
}

/// Before → after of two services of the same platform (`before` absent for a new one).
fn service_changes(before: Option<&ServiceValues>, after: &ServiceValues) -> Vec<crate::data::audit::Change> {
    fn pair<const N: usize>(
        b: [(&'static str, Option<String>); N],
        a: [(&'static str, Option<String>); N],
    ) -> Vec<(&'static str, Option<String>, Option<String>)> {
        b.into_iter().zip(a).map(|((name, before), (_, after))| (name, before, after)).collect()
    }
    let fields = match after {
        ServiceValues::PagoPa(a) => {
            let b = match before {
                Some(ServiceValues::PagoPa(b)) => Some(b),
                _ => None,
            };
            pair(pagopa_fields(b), pagopa_fields(Some(a)))
        }
        ServiceValues::Io(a) => {
            let b = match before {
                Some(ServiceValues::Io(b)) => Some(b),
                _ => None,
            };
            pair(io_fields(b), io_fields(Some(a)))
        }
        ServiceValues::Online(a) => {
            let b = match before {
                Some(ServiceValues::Online(b)) => Some(b),
                _ => None,
            };
            pair(online_fields(b), online_fields(Some(a)))
        }
    };
    diff(fields)
}

/// The table and the trail's record key of a service.
fn service_key(comune: &str, v: &ServiceValues, id: i64) -> (&'static str, String) {
    match v {
        ServiceValues::PagoPa(p) => ("pagopa_service", format!("{comune}/{}", p.taxonomy_code)),
        ServiceValues::Io(i) => ("io_service", format!("{comune}/{}", i.service_id)),
        ServiceValues::Online(_) => ("online_service", format!("{comune}/{id}")),
    }
}

macro_rules! impl_ops {
    ($conn:ty) => {
        impl Ops for $conn {
            async fn set_adhesion_in(
                &mut self,
                actor: &str,
                programme: &str,
                comune: &str,
                v: &AdhesionValues,
                expected_version: i64,
                reason: Option<String>,
            ) -> Result<(), WriteError> {
                let now = sqlx::query_as::<_, AdhesionRow>(
                    "SELECT status, adhesion_date, renunciation, renunciation_date, version FROM adhesion \
                     WHERE programme = $1 AND comune = $2",
                )
                .bind(programme)
                .bind(comune)
                .fetch_optional(&mut *self)
                .await?;
                if now.as_ref().map_or(0, |r| r.version) != expected_version {
                    return Err(WriteError::Conflict);
                }
                if let Some(r) = &v.renunciation {
                    if !v.status.is_supported() {
                        return Err(WriteError::Refused(
                            "rinuncia",
                            "Solo un comune aderente (anche in ritardo) può rinunciare al contributo.".into(),
                        ));
                    }
                    // The limit is the programme's data (`programme_step.renounce_by`), read in
                    // the same transaction as the write.
                    let limits: Vec<Option<NaiveDate>> = sqlx::query_scalar(
                        "SELECT renounce_by FROM programme_step WHERE programme = $1",
                    )
                    .bind(programme)
                    .fetch_all(&mut *self)
                    .await?;
                    let limit = limits.into_iter().flatten().min();
                    if let Err(m) = crate::rules::check_renunciation(limit, r.kind, r.on) {
                        return Err(WriteError::Refused("data_rinuncia", m));
                    }
                }
                let before_status = now.as_ref().map(|r| r.status.clone()).unwrap_or_else(|| {
                    AdhesionStatus::NonAderente.code().to_string()
                });
                match &now {
                    None => {
                        sqlx::query(
                            "INSERT INTO adhesion (programme, comune, status, adhesion_date, renunciation, \
                             renunciation_date, version) VALUES ($1, $2, $3, $4, $5, $6, 1)",
                        )
                        .bind(programme)
                        .bind(comune)
                        .bind(v.status.code())
                        .bind(v.date)
                        .bind(v.renunciation.as_ref().map(|r| r.kind.code()))
                        .bind(v.renunciation.as_ref().map(|r| r.on))
                        .execute(&mut *self)
                        .await?;
                    }
                    Some(_) => {
                        sqlx::query(
                            "UPDATE adhesion SET status = $1, adhesion_date = $2, renunciation = $3, \
                             renunciation_date = $4, version = version + 1 \
                             WHERE programme = $5 AND comune = $6 AND version = $7",
                        )
                        .bind(v.status.code())
                        .bind(v.date)
                        .bind(v.renunciation.as_ref().map(|r| r.kind.code()))
                        .bind(v.renunciation.as_ref().map(|r| r.on))
                        .bind(programme)
                        .bind(comune)
                        .bind(expected_version)
                        .execute(&mut *self)
                        .await?;
                    }
                }
                let mut e = entry(
                    actor,
                    comune,
                    "adhesion",
                    format!("{programme}/{comune}"),
                    if now.is_some() { Action::Update } else { Action::Create },
                );
                e.changes = diff(vec![
                    ("stato", Some(before_status), Some(v.status.code().to_string())),
                    ("data", now.as_ref().and_then(|r| d(r.adhesion_date)), d(v.date)),
                    (
                        "rinuncia",
                        now.as_ref().and_then(|r| r.renunciation.clone()),
                        v.renunciation.as_ref().map(|r| r.kind.code().to_string()),
                    ),
                    (
                        "data_rinuncia",
                        now.as_ref().and_then(|r| d(r.renunciation_date)),
                        v.renunciation.as_ref().and_then(|r| d(Some(r.on))),
                    ),
                ]);
                e.reason = reason;
                self.append(&e).await?;
                Ok(())
            }

            async fn add_service_in(
                &mut self,
                actor: &str,
                comune: &str,
                v: &ServiceValues,
                reason: Option<String>,
            ) -> Result<i64, WriteError> {
                let id: i64 = match v {
                    ServiceValues::PagoPa(p) => {
                        let exists: Option<i64> = sqlx::query_scalar(
                            "SELECT id FROM pagopa_service WHERE comune = $1 AND taxonomy_code = $2",
                        )
                        .bind(comune)
                        .bind(&p.taxonomy_code)
                        .fetch_optional(&mut *self)
                        .await?;
                        if exists.is_some() {
                            return Err(WriteError::Duplicate(
                                "codice",
                                format!("Il comune ha già un servizio pagoPA con il codice {}: modificare quello.", p.taxonomy_code),
                            ));
                        }
                        // The code as the taxonomy holds it now, in this transaction: one withdrawn
                        // since the form was filled in (or since a proposal was made) is refused
                        // here, the one write path of the workspace, imports and proposals.
                        self.usable_taxonomy_code_in(&p.taxonomy_code).await?;
                        sqlx::query_scalar(
                            "INSERT INTO pagopa_service (comune, taxonomy_code, applicable, applicable_since, active_since, \
                             deactivated_on, on_mypay) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
                        )
                        .bind(comune)
                        .bind(&p.taxonomy_code)
                        .bind(p.applicable)
                        .bind(p.applicable.then(recorded_on))
                        .bind(p.active_since)
                        .bind(p.deactivated_on)
                        .bind(p.on_mypay)
                        .fetch_one(&mut *self)
                        .await?
                    }
                    ServiceValues::Io(i) => {
                        let exists: Option<i64> =
                            sqlx::query_scalar("SELECT id FROM io_service WHERE comune = $1 AND service_id = $2")
                                .bind(comune)
                                .bind(&i.service_id)
                                .fetch_optional(&mut *self)
                                .await?;
                        if exists.is_some() {
                            return Err(WriteError::Duplicate(
                                "service_id",
                                format!("Il comune ha già un servizio App IO con il Service ID {}: modificare quello.", i.service_id),
                            ));
                        }
                        sqlx::query_scalar(
                            "INSERT INTO io_service (comune, service_id, name, published_since, withdrawn_on) \
                             VALUES ($1, $2, $3, $4, $5) RETURNING id",
                        )
                        .bind(comune)
                        .bind(&i.service_id)
                        .bind(&i.name)
                        .bind(i.published_since)
                        .bind(i.withdrawn_on)
                        .fetch_one(&mut *self)
                        .await?
                    }
                    ServiceValues::Online(o) => {
                        sqlx::query_scalar(
                            "INSERT INTO online_service (comune, name, online_since, spid_since, cie_since) \
                             VALUES ($1, $2, $3, $4, $5) RETURNING id",
                        )
                        .bind(comune)
                        .bind(&o.name)
                        .bind(recorded_on())
                        .bind(o.spid_since)
                        .bind(o.cie_since)
                        .fetch_one(&mut *self)
                        .await?
                    }
                };
                let (entity, record) = service_key(comune, v, id);
                let mut e = entry(actor, comune, entity, record, Action::Create);
                e.changes = service_changes(None, v);
                e.reason = reason;
                self.append(&e).await?;
                Ok(id)
            }

            async fn update_service_in(
                &mut self,
                actor: &str,
                comune: &str,
                id: i64,
                expected_version: i64,
                v: &ServiceValues,
                reason: Option<String>,
            ) -> Result<(), WriteError> {
                let (before, version): (ServiceValues, i64) = match v {
                    ServiceValues::PagoPa(_) => {
                        let row = sqlx::query_as::<_, PagoPaRow>(
                            "SELECT s.id, s.taxonomy_code, t.description, s.applicable, s.active_since, s.deactivated_on, \
                             s.on_mypay, s.version FROM pagopa_service s JOIN taxonomy_entry t ON t.code = s.taxonomy_code \
                             WHERE s.id = $1 AND s.comune = $2",
                        )
                        .bind(id)
                        .bind(comune)
                        .fetch_optional(&mut *self)
                        .await?
                        .ok_or(WriteError::NotFound)?;
                        (ServiceValues::PagoPa(PagoPaValues {
                            taxonomy_code: row.taxonomy_code,
                            applicable: row.applicable,
                            active_since: row.active_since,
                            deactivated_on: row.deactivated_on,
                            on_mypay: row.on_mypay,
                        }), row.version)
                    }
                    ServiceValues::Io(_) => {
                        let row = sqlx::query_as::<_, IoRow>(
                            "SELECT id, service_id, name, published_since, withdrawn_on, version FROM io_service \
                             WHERE id = $1 AND comune = $2",
                        )
                        .bind(id)
                        .bind(comune)
                        .fetch_optional(&mut *self)
                        .await?
                        .ok_or(WriteError::NotFound)?;
                        (ServiceValues::Io(IoValues {
                            service_id: row.service_id,
                            name: row.name,
                            published_since: row.published_since,
                            withdrawn_on: row.withdrawn_on,
                        }), row.version)
                    }
                    ServiceValues::Online(_) => {
                        let row = sqlx::query_as::<_, OnlineRow>(
                            "SELECT id, name, spid_since, cie_since, version FROM online_service WHERE id = $1 AND comune = $2",
                        )
                        .bind(id)
                        .bind(comune)
                        .fetch_optional(&mut *self)
                        .await?
                        .ok_or(WriteError::NotFound)?;
                        (ServiceValues::Online(OnlineValues {
                            name: row.name,
                            spid_since: row.spid_since,
                            cie_since: row.cie_since,
                        }), row.version)
                    }
                };
                if version != expected_version {
                    return Err(WriteError::Conflict);
                }
                // The key of a service (its taxonomy code, its Service ID) does not change: a
                // different key is a different service.
                match (v, &before) {
                    (ServiceValues::PagoPa(a), ServiceValues::PagoPa(b)) if a.taxonomy_code != b.taxonomy_code => {
                        return Err(WriteError::Duplicate("codice", "Il codice di tassonomia di un servizio non si modifica: aggiungere un nuovo servizio.".into()));
                    }
                    (ServiceValues::Io(a), ServiceValues::Io(b)) if a.service_id != b.service_id => {
                        return Err(WriteError::Duplicate("service_id", "Il Service ID di un servizio non si modifica: aggiungere un nuovo servizio.".into()));
                    }
                    _ => {}
                }
                match v {
                    ServiceValues::PagoPa(p) => {
                        sqlx::query(
                            // Applicable from the day it is recorded so; kept while it stays so.
                            "UPDATE pagopa_service SET applicable = $1, active_since = $2, deactivated_on = $3, on_mypay = $4, \
                             applicable_since = CASE WHEN NOT $1 THEN NULL WHEN applicable THEN applicable_since ELSE $7 END, \
                             version = version + 1 WHERE id = $5 AND version = $6",
                        )
                        .bind(p.applicable)
                        .bind(p.active_since)
                        .bind(p.deactivated_on)
                        .bind(p.on_mypay)
                        .bind(id)
                        .bind(expected_version)
                        .bind(recorded_on())
                        .execute(&mut *self)
                        .await?;
                    }
                    ServiceValues::Io(i) => {
                        sqlx::query(
                            "UPDATE io_service SET name = $1, published_since = $2, withdrawn_on = $3, version = version + 1 \
                             WHERE id = $4 AND version = $5",
                        )
                        .bind(&i.name)
                        .bind(i.published_since)
                        .bind(i.withdrawn_on)
                        .bind(id)
                        .bind(expected_version)
                        .execute(&mut *self)
                        .await?;
                    }
                    ServiceValues::Online(o) => {
                        sqlx::query(
                            "UPDATE online_service SET name = $1, spid_since = $2, cie_since = $3, version = version + 1 \
                             WHERE id = $4 AND version = $5",
                        )
                        .bind(&o.name)
                        .bind(o.spid_since)
                        .bind(o.cie_since)
                        .bind(id)
                        .bind(expected_version)
                        .execute(&mut *self)
                        .await?;
                    }
                }
                let (entity, record) = service_key(comune, v, id);
                let mut e = entry(actor, comune, entity, record, Action::Update);
                e.changes = service_changes(Some(&before), v);
                e.reason = reason;
                self.append(&e).await?;
                Ok(())
            }

            async fn set_count_in(
                &mut self,
                actor: &str,
                comune: &str,
                v: &CountValues,
                expected_version: i64,
                reason: Option<String>,
            ) -> Result<(), WriteError> {
                let now: Option<(i64, i64)> = sqlx::query_as(
                    "SELECT active, version FROM service_count WHERE comune = $1 AND platform = $2 AND day = $3",
                )
                .bind(comune)
                .bind(v.platform.code())
                .bind(v.day)
                .fetch_optional(&mut *self)
                .await?;
                // Under the write lock (taken first by every writing transaction), so the version
                // read here is the one the UPDATE below changes.
                if now.map_or(0, |(_, version)| version) != expected_version {
                    return Err(WriteError::Conflict);
                }
                let before = now.map(|(active, _)| active);
                let sql = if now.is_some() {
                    "UPDATE service_count SET active = $4, version = version + 1 \
                     WHERE comune = $1 AND platform = $2 AND day = $3"
                } else {
                    "INSERT INTO service_count (comune, platform, day, active, version) VALUES ($1, $2, $3, $4, 1)"
                };
                sqlx::query(sql)
                    .bind(comune)
                    .bind(v.platform.code())
                    .bind(v.day)
                    .bind(v.active)
                    .execute(&mut *self)
                    .await?;
                let mut e = entry(
                    actor,
                    comune,
                    "service_count",
                    format!("{comune}/{}/{}", v.platform.code(), v.day),
                    if before.is_some() { Action::Update } else { Action::Create },
                );
                e.changes = diff(vec![("attivi", before.map(|n| n.to_string()), Some(v.active.to_string()))]);
                e.reason = reason;
                self.append(&e).await?;
                Ok(())
            }

            async fn set_verification_in(
                &mut self,
                actor: &str,
                programme: &str,
                comune: &str,
                v: &VerificationValues,
                expected_version: i64,
                today: NaiveDate,
            ) -> Result<(), WriteError> {
                let now = sqlx::query_as::<_, VerificationRow>(
                    "SELECT objective, outcome, reason, verified_on, verified_by, version FROM objective_verification \
                     WHERE programme = $1 AND comune = $2 AND objective = $3",
                )
                .bind(programme)
                .bind(comune)
                .bind(&v.objective)
                .fetch_optional(&mut *self)
                .await?;
                if now.as_ref().map_or(0, |r| r.version) != expected_version {
                    return Err(WriteError::Conflict);
                }
                if now.is_some() {
                    sqlx::query(
                        "UPDATE objective_verification SET outcome = $1, reason = $2, verified_on = $3, verified_by = $4, \
                         version = version + 1 WHERE programme = $5 AND comune = $6 AND objective = $7 AND version = $8",
                    )
                    .bind(v.outcome.code())
                    .bind(&v.reason)
                    .bind(today)
                    .bind(actor)
                    .bind(programme)
                    .bind(comune)
                    .bind(&v.objective)
                    .bind(expected_version)
                    .execute(&mut *self)
                    .await?;
                } else {
                    sqlx::query(
                        "INSERT INTO objective_verification (programme, comune, objective, outcome, reason, verified_on, \
                         verified_by, version) VALUES ($1, $2, $3, $4, $5, $6, $7, 1)",
                    )
                    .bind(programme)
                    .bind(comune)
                    .bind(&v.objective)
                    .bind(v.outcome.code())
                    .bind(&v.reason)
                    .bind(today)
                    .bind(actor)
                    .execute(&mut *self)
                    .await?;
                }
                let mut e = entry(
                    actor,
                    comune,
                    "objective_verification",
                    format!("{programme}/{comune}/{}", v.objective),
                    if now.is_some() { Action::Update } else { Action::Create },
                );
                e.changes = diff(vec![
                    ("esito", now.as_ref().map(|r| r.outcome.clone()), Some(v.outcome.code().to_string())),
                    ("motivo", now.as_ref().and_then(|r| r.reason.clone()), v.reason.clone()),
                ]);
                self.append(&e).await?;
                Ok(())
            }

            async fn add_blocker_in(
                &mut self,
                actor: &str,
                programme: &str,
                comune: &str,
                v: &BlockerValues,
            ) -> Result<i64, WriteError> {
                let id: i64 = sqlx::query_scalar(
                    "INSERT INTO blocker (programme, comune, category, description, opened_on) VALUES ($1, $2, $3, $4, $5) \
                     RETURNING id",
                )
                .bind(programme)
                .bind(comune)
                .bind(v.category.code())
                .bind(&v.description)
                .bind(v.opened_on)
                .fetch_one(&mut *self)
                .await?;
                let mut e = entry(actor, comune, "blocker", format!("{comune}/{id}"), Action::Create);
                e.changes = diff(vec![
                    ("categoria", None, Some(v.category.code().to_string())),
                    ("descrizione", None, Some(v.description.clone())),
                    ("dal", None, d(Some(v.opened_on))),
                ]);
                self.append(&e).await?;
                Ok(id)
            }

            async fn resolve_blocker_in(
                &mut self,
                actor: &str,
                comune: &str,
                id: i64,
                expected_version: i64,
                day: NaiveDate,
            ) -> Result<(), WriteError> {
                let now = sqlx::query_as::<_, BlockerRow>(
                    "SELECT id, comune, category, description, opened_on, resolved_on, version FROM blocker \
                     WHERE id = $1 AND comune = $2",
                )
                .bind(id)
                .bind(comune)
                .fetch_optional(&mut *self)
                .await?
                .ok_or(WriteError::NotFound)?;
                if now.version != expected_version {
                    return Err(WriteError::Conflict);
                }
                sqlx::query("UPDATE blocker SET resolved_on = $1, version = version + 1 WHERE id = $2 AND version = $3")
                    .bind(day)
                    .bind(id)
                    .bind(expected_version)
                    .execute(&mut *self)
                    .await?;
                let mut e = entry(actor, comune, "blocker", format!("{comune}/{id}"), Action::Update);
                e.changes = diff(vec![("risolto_il", d(now.resolved_on), d(Some(day)))]);
                self.append(&e).await?;
                Ok(())
            }

            async fn add_note_in(&mut self, actor: &str, comune: &str, body: &str) -> Result<i64, WriteError> {
                let id: i64 = sqlx::query_scalar(
                    "INSERT INTO comune_note (comune, body, author, created_at) VALUES ($1, $2, $3, $4) RETURNING id",
                )
                .bind(comune)
                .bind(body)
                .bind(actor)
                .bind(super::audit::now_rfc3339())
                .fetch_one(&mut *self)
                .await?;
                let mut e = entry(actor, comune, "comune_note", format!("{comune}/{id}"), Action::Create);
                e.changes = diff(vec![("testo", None, Some(body.to_string()))]);
                self.append(&e).await?;
                Ok(id)
            }

            async fn usable_taxonomy_code_in(&mut self, code: &str) -> Result<(), WriteError> {
                let valid_to: Option<Option<NaiveDate>> =
                    sqlx::query_scalar("SELECT valid_to FROM taxonomy_entry WHERE code = $1")
                        .bind(code)
                        .fetch_optional(&mut *self)
                        .await?;
                taxonomy_code_usable(code, valid_to, recorded_on()).map_err(|m| WriteError::Refused("codice", m))
            }

            async fn existing_service_in(
                &mut self,
                comune: &str,
                platform: Platform,
                id: i64,
            ) -> Result<Option<(String, i64)>, WriteError> {
                let sql = match platform {
                    Platform::PagoPa => "SELECT taxonomy_code, version FROM pagopa_service WHERE id = $1 AND comune = $2",
                    Platform::AppIo => "SELECT service_id, version FROM io_service WHERE id = $1 AND comune = $2",
                    Platform::SpidCie => "SELECT '' AS k, version FROM online_service WHERE id = $1 AND comune = $2",
                };
                Ok(sqlx::query_as::<_, (String, i64)>(sql).bind(id).bind(comune).fetch_optional(&mut *self).await?)
            }

            async fn propose_in(
                &mut self,
                actor: &str,
                comune: &str,
                v: &ServiceValues,
                target: Option<i64>,
            ) -> Result<i64, WriteError> {
                if let Some(target) = target {
                    check_change_key(v, self.existing_service_in(comune, v.platform(), target).await?)?;
                }
                let payload = serde_json::to_string(v).expect("plain values serialise");
                let id: i64 = sqlx::query_scalar(
                    "INSERT INTO service_proposal (comune, platform, payload, status, proposed_by, proposed_at, service_id) \
                     VALUES ($1, $2, $3, 'in_attesa', $4, $5, $6) RETURNING id",
                )
                .bind(comune)
                .bind(v.platform().code())
                .bind(&payload)
                .bind(actor)
                .bind(super::audit::now_rfc3339())
                .bind(target)
                .fetch_one(&mut *self)
                .await?;
                let mut e = entry(actor, comune, "service_proposal", format!("{comune}/{id}"), Action::Create);
                e.changes = diff(vec![
                    ("stato", None, Some("in_attesa".to_string())),
                    ("servizio", None, Some(v.describe())),
                    ("modifica_del_servizio", None, target.map(|t| t.to_string())),
                ]);
                self.append(&e).await?;
                Ok(id)
            }

            async fn decide_in(
                &mut self,
                actor: &str,
                comune: &str,
                id: i64,
                expected_version: i64,
                accept: bool,
                reason: Option<String>,
            ) -> Result<(), WriteError> {
                let now = sqlx::query_as::<_, ProposalRow>(&format!(
                    "SELECT {PROPOSAL_COLUMNS} FROM service_proposal WHERE id = $1 AND comune = $2"
                ))
                .bind(id)
                .bind(comune)
                .fetch_optional(&mut *self)
                .await?
                .ok_or(WriteError::NotFound)?;
                if now.version != expected_version || now.status != "in_attesa" {
                    return Err(WriteError::Conflict);
                }
                let status = if accept { "accettata" } else { "respinta" };
                sqlx::query(
                    "UPDATE service_proposal SET status = $1, decided_by = $2, decided_at = $3, reason = $4, \
                     version = version + 1 WHERE id = $5 AND version = $6",
                )
                .bind(status)
                .bind(actor)
                .bind(super::audit::now_rfc3339())
                .bind(&reason)
                .bind(id)
                .bind(expected_version)
                .execute(&mut *self)
                .await?;
                let mut e = entry(actor, comune, "service_proposal", format!("{comune}/{id}"), Action::Update);
                e.changes = diff(vec![("stato", Some(now.status.clone()), Some(status.to_string()))]);
                e.reason = reason.clone();
                self.append(&e).await?;
                if accept {
                    // Acceptance validates the proposal again against today's data: a duplicate, or
                    // a taxonomy code withdrawn since the comune proposed it, is refused on the
                    // decision's own form and nothing is written (the transaction rolls back).
                    let values = now.values().ok_or(WriteError::NotFound)?;
                    let why = Some(format!("Proposta n. {id} del comune accettata"));
                    let added = match now.service_id {
                        None => self.add_service_in(actor, comune, &values, why).await.map(|_| ()),
                        Some(target) => {
                            // A change: the service must still exist with the same key; it is
                            // written over its current version (the Region decides on what it sees
                            // now), and a pagoPA service that stays active needs a code still in
                            // the taxonomy.
                            // Every refusal flows into `added`, so it is said on the decision's form.
                            let current = self.existing_service_in(comune, values.platform(), target).await?;
                            let usable = match (&values, check_change_key(&values, current)) {
                                (_, Err(e)) => Err(e),
                                (ServiceValues::PagoPa(p), Ok(version)) if p.deactivated_on.is_none() => {
                                    self.usable_taxonomy_code_in(&p.taxonomy_code).await.map(|()| version)
                                }
                                (_, Ok(version)) => Ok(version),
                            };
                            match usable {
                                Err(e) => Err(e),
                                Ok(version) => self.update_service_in(actor, comune, target, version, &values, why).await,
                            }
                        }
                    };
                    match added {
                        Ok(_) => {}
                        Err(WriteError::Refused(_, m) | WriteError::Duplicate(_, m)) => {
                            return Err(WriteError::Refused(
                                "esito",
                                format!("La proposta non può essere accettata: {m} Si può respingere indicando il motivo."),
                            ));
                        }
                        Err(e) => return Err(e),
                    }
                }
                Ok(())
            }
        }
    };
}
impl_ops!(sqlx::SqliteConnection);
impl_ops!(sqlx::PgConnection);

/// Runs `$body` (which uses `$tx`, a connection implementing [`Ops`] and [`WriteTx`]) in one
/// transaction that holds the write lock, committing only if it returns `Ok`.
#[macro_export]
macro_rules! write_tx {
    ($db:expr, $tx:ident => $body:expr) => {
        $crate::data::on_db!($db, pool => async {
            #[allow(unused_imports)]
            use $crate::data::{audit::WriteTx as _, evidence::EvidenceOps as _, workspace::Ops as _};
            let mut guard = pool.begin().await.map_err($crate::data::workspace::WriteError::from)?;
            guard.lock_for_write().await.map_err($crate::data::workspace::WriteError::from)?;
            let $tx = &mut *guard;
            let value = $body;
            guard.commit().await.map_err($crate::data::workspace::WriteError::from)?;
            Ok::<_, $crate::data::workspace::WriteError>(value)
        }.await)
    };
}
pub use write_tx;

/// A blocker's category code, decoded (unknown codes, impossible by the CHECK, read as "altro").
pub fn category(code: &str) -> BlockerCategory {
    BlockerCategory::from_code(code).unwrap_or(BlockerCategory::Altro)
}

/// An outcome code, decoded.
pub fn outcome(code: &str) -> Option<Outcome> {
    Outcome::from_code(code)
}

/// A platform code of the database, decoded.
pub fn platform(code: &str) -> Option<Platform> {
    Platform::from_code(code)
}

/// A proposed change keeps the service's key: the service `current` (key, version) must exist
/// and carry the key of `v` (a new key is a new service, proposed as such). Its version, to
/// write the change over.
fn check_change_key(v: &ServiceValues, current: Option<(String, i64)>) -> Result<i64, WriteError> {
    let Some((key, version)) = current else {
        return Err(WriteError::Refused(
            "id",
            "Il servizio da modificare non esiste più: proporlo come nuovo servizio.".to_string(),
        ));
    };
    let (field, proposed) = match v {
        ServiceValues::PagoPa(p) => ("codice", p.taxonomy_code.as_str()),
        ServiceValues::Io(i) => ("service_id", i.service_id.as_str()),
        ServiceValues::Online(_) => return Ok(version),
    };
    if proposed != key {
        return Err(WriteError::Refused(
            field,
            format!("Il codice di un servizio esistente non cambia ({key}): per un codice diverso proporre un nuovo servizio."),
        ));
    }
    Ok(version)
}

/// Whether a new service may carry the taxonomy code `code` on `today`, given the last day the
/// taxonomy keeps it (`valid_to`: `None` outside, `Some(None)` open); the Italian reason when not.
/// A code withdrawn before today is refused; existing services keep their code (an update never
/// changes it), so a withdrawn code can still be switched off.
fn taxonomy_code_usable(
    code: &str,
    valid_to: Option<Option<NaiveDate>>,
    today: NaiveDate,
) -> Result<(), String> {
    match valid_to {
        None => Err(format!("Il codice {code} non è nella tassonomia pagoPA: importare prima la tassonomia ufficiale.")),
        Some(Some(to)) if to < today => Err(format!(
            "Il codice {code} è stato ritirato dalla tassonomia pagoPA il {}: non si può registrare un nuovo servizio con questo codice.",
            to.format("%d/%m/%Y")
        )),
        Some(_) => Ok(()),
    }
}

/// The day a write records a fact on (today, local time, as `evaluation::today`): a service
/// marked applicable, or a new online service, counts in the rules from this day on, so an entry
/// made in 2023 cannot change what a 2021 deadline saw. A service's own dates (activation, SPID)
/// still date it earlier when they say so.
fn recorded_on() -> NaiveDate {
    chrono::Local::now().date_naive()
}
