//! Server functions of the workspace pages: what the forms of one comune are filled with, and the
//! trail pages. The writes are plain POST routes ([`super::routes`]) so the forms work without
//! JavaScript.

use chrono::NaiveDate;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use super::{ServiceValues, TrailEntry};
#[cfg(feature = "ssr")]
use crate::error::set_status_on_error;
use crate::error::AppError;

/// A service with what its edit form needs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceItem {
    pub id: i64,
    pub version: i64,
    pub values: ServiceValues,
    /// The taxonomy description of a pagoPA service; the name otherwise.
    pub label: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObjectiveItem {
    pub code: String,
    pub label: String,
    /// Computed from the services, in words.
    pub state: String,
    /// The Region's verification: (outcome label, reason, date, by whom).
    pub verification: Option<(String, Option<String>, NaiveDate, String)>,
    pub version: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlockerItem {
    pub id: i64,
    pub version: i64,
    pub category: String,
    pub description: String,
    pub opened_on: NaiveDate,
    pub resolved_on: Option<NaiveDate>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProposalItem {
    pub id: i64,
    pub version: i64,
    pub description: String,
    pub status: String,
    pub pending: bool,
    pub proposed_by: String,
    pub reason: Option<String>,
}

/// Everything the workspace page of one comune shows and fills its forms with.
/// One count snapshot of the workspace, with the version a correction sends back.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CountItem {
    /// The platform's code (`pagopa`, `io`, `spid_cie`) and its label.
    pub platform: String,
    pub label: String,
    pub day: NaiveDate,
    pub active: i64,
    pub version: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkspaceView {
    pub codice_istat: String,
    pub denominazione: String,
    pub programma: String,
    /// A Region user: every form. Otherwise (the comune's own users) only the proposals.
    pub full: bool,
    pub adhesion_status: String,
    pub adhesion_date: Option<NaiveDate>,
    pub adhesion_version: i64,
    /// `saldo`, `contributo` or empty (no renunciation), and its day.
    pub renunciation: String,
    pub renunciation_date: Option<NaiveDate>,
    /// The programme's last day for renouncing the saldo, for the form's hint.
    pub saldo_renunciation_limit: Option<NaiveDate>,
    pub pagopa: Vec<ServiceItem>,
    pub io: Vec<ServiceItem>,
    pub online: Vec<ServiceItem>,
    /// The count snapshots, by day.
    pub counts: Vec<CountItem>,
    pub objectives: Vec<ObjectiveItem>,
    pub blockers: Vec<BlockerItem>,
    /// (text, author, when).
    pub notes: Vec<(String, String, String)>,
    pub proposals: Vec<ProposalItem>,
}

/// The workspace of one comune: the Region, or the comune's own users (proposals only).
#[server(endpoint = "gestione")]
pub async fn get_workspace(codice_istat: String) -> Result<WorkspaceView, AppError> {
    let result = ssr::workspace(codice_istat.trim()).await;
    set_status_on_error(&result);
    result
}

/// A page of the trail: one comune's (`codice_istat` set: whoever may read its private data) or
/// all of it (the Region). `before`: the entry to continue below.
#[server(endpoint = "registro")]
pub async fn get_trail(
    #[server(default)] codice_istat: Option<String>,
    #[server(default)] before: Option<i64>,
) -> Result<TrailPage, AppError> {
    let result = ssr::trail(codice_istat.as_deref().map(str::trim), before).await;
    set_status_on_error(&result);
    result
}

/// A proposal waiting for the Region, with its comune.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingProposal {
    pub codice_istat: String,
    pub denominazione: String,
    pub description: String,
    pub proposed_by: String,
    /// `dd/mm/yyyy HH:MM UTC`.
    pub proposed_at: String,
}

/// The proposals of every comune waiting for a decision, oldest first, one page (`pagina`,
/// empty: the first) at a time (the Region and assessors).
#[server(endpoint = "proposte")]
pub async fn get_pending_proposals(
    #[server(default)] pagina: String,
) -> Result<crate::paging::Paged<PendingProposal>, AppError> {
    let result = async {
        let page = crate::paging::parse_page(&pagina).map_err(AppError::BadRequest)?;
        ssr::pending(page).await
    }
    .await;
    set_status_on_error(&result);
    result
}

/// Entries per trail page.
pub const TRAIL_PAGE: i64 = 50;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrailPage {
    /// The comune's name, on a comune's trail.
    pub comune: Option<(String, String)>,
    pub entries: Vec<TrailEntry>,
    /// The `before` of the next page, when there is one.
    pub next: Option<i64>,
    /// On a comune's trail (first page), the reminders recorded about it, newest first.
    pub reminders: Vec<crate::reminders::LogItem>,
}

#[cfg(feature = "ssr")]
pub mod ssr {
    use super::*;
    use crate::{
        auth::{guard, may_act_for, Role},
        data::{audit, workspace as data},
        workspace::{action_label, entity_label, IoValues, OnlineValues, PagoPaValues},
    };

    fn not_found(codice: &str) -> AppError {
        AppError::not_found(format!("Comune non trovato: nessun comune ha il codice ISTAT «{codice}»."))
    }

    pub async fn workspace(codice: &str) -> Result<WorkspaceView, AppError> {
        let user = guard::require_signed_in()?;
        if !may_act_for(Some(&user), codice) {
            return Err(AppError::Forbidden(
                "Solo la Regione e i referenti del comune possono modificare i suoi dati.".into(),
            ));
        }
        let state = crate::state::app_state()?;
        let snapshot = state.snapshot().await?;
        let e = snapshot.find(codice).ok_or_else(|| not_found(codice))?;
        let r = data::comune_records(&state.db, &state.programme, codice).await?;
        let p = &snapshot.programme;
        let objectives = p
            .objectives
            .iter()
            .zip(&e.outcome.objectives)
            .map(|(obj, o)| {
                let v = r.verifications.iter().find(|v| v.objective == obj.code);
                ObjectiveItem {
                    code: obj.code.clone(),
                    label: format!("{} — {}", obj.platform.label(), obj.description),
                    state: crate::comuni::StepState::reached(o.reached_on, o.on_time).label(),
                    verification: v.map(|v| {
                        (
                            data::outcome(&v.outcome).map(|o| o.label()).unwrap_or("—").to_string(),
                            v.reason.clone(),
                            v.verified_on,
                            v.verified_by.clone(),
                        )
                    }),
                    version: v.map_or(0, |v| v.version),
                }
            })
            .collect();
        Ok(WorkspaceView {
            codice_istat: e.record.codice_istat.clone(),
            denominazione: e.record.denominazione.clone(),
            programma: p.name.clone(),
            full: user.role == Role::Regione,
            adhesion_status: r
                .adhesion
                .as_ref()
                .map(|a| a.status.clone())
                .unwrap_or_else(|| crate::rules::AdhesionStatus::NonAderente.code().into()),
            adhesion_date: r.adhesion.as_ref().and_then(|a| a.adhesion_date),
            adhesion_version: r.adhesion.as_ref().map_or(0, |a| a.version),
            renunciation: r.adhesion.as_ref().and_then(|a| a.renunciation.clone()).unwrap_or_default(),
            renunciation_date: r.adhesion.as_ref().and_then(|a| a.renunciation_date),
            saldo_renunciation_limit: p.saldo_renunciation_limit(),
            pagopa: r
                .pagopa
                .into_iter()
                .map(|s| ServiceItem {
                    id: s.id,
                    version: s.version,
                    label: s.description.clone(),
                    values: ServiceValues::PagoPa(PagoPaValues {
                        taxonomy_code: s.taxonomy_code,
                        applicable: s.applicable,
                        active_since: s.active_since,
                        deactivated_on: s.deactivated_on,
                        on_mypay: s.on_mypay,
                    }),
                })
                .collect(),
            io: r
                .io
                .into_iter()
                .map(|s| ServiceItem {
                    id: s.id,
                    version: s.version,
                    label: s.name.clone(),
                    values: ServiceValues::Io(IoValues {
                        service_id: s.service_id,
                        name: s.name,
                        published_since: s.published_since,
                        withdrawn_on: s.withdrawn_on,
                    }),
                })
                .collect(),
            online: r
                .online
                .into_iter()
                .map(|s| ServiceItem {
                    id: s.id,
                    version: s.version,
                    label: s.name.clone(),
                    values: ServiceValues::Online(OnlineValues {
                        name: s.name,
                        spid_since: s.spid_since,
                        cie_since: s.cie_since,
                    }),
                })
                .collect(),
            counts: r
                .counts
                .into_iter()
                .map(|c| CountItem {
                    label: data::platform(&c.platform).map(|p| p.label()).unwrap_or("—").to_string(),
                    platform: c.platform,
                    day: c.day,
                    active: c.active,
                    version: c.version,
                })
                .collect(),
            objectives,
            blockers: r.blockers.into_iter().map(blocker_item).collect(),
            // The Region's notes are its own: a comune's user never receives them.
            notes: if user.role == Role::Regione {
                r.notes.into_iter().map(|n| (n.body, n.author, when(&n.created_at))).collect()
            } else {
                Vec::new()
            },
            proposals: r
                .proposals
                .into_iter()
                .map(|p| ProposalItem {
                    id: p.id,
                    version: p.version,
                    description: p.description(),
                    status: match p.status.as_str() {
                        "in_attesa" => "In attesa della Regione",
                        "accettata" => "Accettata",
                        _ => "Respinta",
                    }
                    .to_string(),
                    pending: p.status == "in_attesa",
                    proposed_by: p.proposed_by,
                    reason: p.reason,
                })
                .collect(),
        })
    }

    pub fn blocker_item(b: data::BlockerRow) -> BlockerItem {
        BlockerItem {
            id: b.id,
            version: b.version,
            category: data::category(&b.category).label().to_string(),
            description: b.description,
            opened_on: b.opened_on,
            resolved_on: b.resolved_on,
        }
    }

    /// `2026-11-26T10:00:00Z` as `26/11/2026 10:00 UTC`.
    pub fn when(at: &str) -> String {
        chrono::DateTime::parse_from_rfc3339(at)
            .map(|t| t.format("%d/%m/%Y %H:%M UTC").to_string())
            .unwrap_or_else(|_| at.to_string())
    }

    pub fn trail_entry(row: audit::EntryRow) -> TrailEntry {
        let dash = |v: Option<String>| v.filter(|s| !s.is_empty()).unwrap_or_else(|| "—".to_string());
        TrailEntry {
            seq: row.seq,
            when: when(&row.at),
            changes: row
                .change_list()
                .into_iter()
                .map(|c| (c.field, dash(c.before), dash(c.after)))
                .collect(),
            what: format!("{} {}", entity_label(&row.entity), row.record),
            action: action_label(&row.action).to_string(),
            actor: row.actor,
            comune: row.comune,
            reason: row.reason,
        }
    }

    /// Page `page` of the pending proposals; a page past the last shows the last.
    pub async fn pending(page: usize) -> Result<crate::paging::Paged<PendingProposal>, AppError> {
        let user = guard::require_signed_in()?;
        if !crate::auth::may_read_all(Some(&user)) {
            return Err(AppError::Forbidden(
                "Solo la Regione e gli assessori consultano le proposte dei comuni.".into(),
            ));
        }
        let state = crate::state::app_state()?;
        let snapshot = state.snapshot().await?;
        let (rows, shown, pages, total) = crate::paging::fetch_page(page, |offset| {
            data::pending_proposals_page(&state.db, crate::paging::PAGE_SIZE, offset)
        })
        .await?;
        let items = rows
            .into_iter()
            .map(|p| PendingProposal {
                denominazione: snapshot
                    .find(&p.comune)
                    .map(|e| e.record.denominazione.clone())
                    .unwrap_or_default(),
                description: p.description(),
                proposed_at: when(&p.proposed_at),
                codice_istat: p.comune,
                proposed_by: p.proposed_by,
            })
            .collect();
        Ok(crate::paging::Paged { items, page: shown, pages, total })
    }

    pub async fn trail(codice: Option<&str>, before: Option<i64>) -> Result<TrailPage, AppError> {
        let state = crate::state::app_state()?;
        let hidden = crate::auth::hidden_trail_entities(guard::viewer().as_ref());
        let comune = match codice {
            Some(c) => {
                guard::require_private(c)?;
                let snapshot = state.snapshot().await?;
                let e = snapshot.find(c).ok_or_else(|| not_found(c))?;
                Some((e.record.codice_istat.clone(), e.record.denominazione.clone()))
            }
            None => {
                let user = guard::require_signed_in()?;
                if !crate::auth::may_read_all(Some(&user)) {
                    return Err(AppError::Forbidden(
                        "Solo la Regione e gli assessori possono consultare il registro completo delle modifiche."
                            .into(),
                    ));
                }
                None
            }
        };
        let rows = audit::list(&state.db, codice, before, TRAIL_PAGE + 1, hidden).await?;
        let next = (rows.len() as i64 > TRAIL_PAGE).then(|| rows[TRAIL_PAGE as usize - 1].seq);
        let entries = rows.into_iter().take(TRAIL_PAGE as usize).map(trail_entry).collect();
        let reminders = match (codice, before) {
            (Some(c), None) => crate::data::reminders::of_comune(&state.db, c, TRAIL_PAGE)
                .await?
                .into_iter()
                .map(crate::reminders::ssr::log_item)
                .collect(),
            _ => Vec::new(),
        };
        Ok(TrailPage { comune, entries, next, reminders })
    }
}
