//! Server functions of the evidence pages.

use leptos::prelude::*;

use super::{EvidencePage, Queue};
#[cfg(feature = "ssr")]
use crate::error::set_status_on_error;
use crate::error::AppError;

/// One comune's evidence, objective by objective: the Region, assessors and the comune's own
/// users (others get the same 404 as for any private data).
#[server(endpoint = "evidenze-comune")]
pub async fn get_evidence_page(codice_istat: String) -> Result<EvidencePage, AppError> {
    let result = async {
        let codice = codice_istat.trim();
        let user = crate::auth::guard::require_private(codice)?;
        let state = crate::state::app_state()?;
        ssr::page(&state, &user, codice).await
    }
    .await;
    set_status_on_error(&result);
    result
}

/// The uploads waiting for review, oldest first, one page (`pagina`, empty: the first) at a
/// time: the Region and assessors.
#[server(endpoint = "evidenze-coda")]
pub async fn get_evidence_queue(
    #[server(default)] provincia: String,
    #[server(default)] piattaforma: String,
    #[server(default)] pagina: String,
) -> Result<Queue, AppError> {
    let result = async {
        let user = crate::auth::guard::require_signed_in()?;
        if !crate::auth::may_read_all(Some(&user)) {
            return Err(AppError::Forbidden(
                "Solo la Regione e gli assessori consultano le evidenze in attesa di esame.".into(),
            ));
        }
        let state = crate::state::app_state()?;
        let page = crate::paging::parse_page(&pagina).map_err(AppError::BadRequest)?;
        ssr::queue(&state, provincia.trim(), piattaforma.trim(), page).await
    }
    .await;
    set_status_on_error(&result);
    result
}

#[cfg(feature = "ssr")]
pub mod ssr {
    use super::*;
    use crate::{
        auth::{may_act_for, CurrentUser, Role},
        comuni::{FilterError, StepState, Territory},
        data::evidence,
        evidence::{
            size_words, sniff::Kind, status_words, EvidenceItem, ObjectiveEvidence, QueueItem, ReviewItem,
        },
        paging::PAGE_SIZE,
        rules::{Platform, ReviewOutcome},
        state::AppState,
        workspace::server::ssr::when,
    };

    pub async fn page(state: &AppState, user: &CurrentUser, codice: &str) -> Result<EvidencePage, AppError> {
        let snapshot = state.snapshot().await?;
        let e = snapshot.find(codice).ok_or_else(|| {
            AppError::not_found(format!("Comune non trovato: nessun comune ha il codice ISTAT «{codice}»."))
        })?;
        let p = &snapshot.programme;
        let (files, reviews) = evidence::of_comune(&state.db, &p.code, codice).await?;
        let objectives = p
            .objectives
            .iter()
            .zip(&e.outcome.objectives)
            .map(|(obj, outcome)| {
                let mine: Vec<_> = files.iter().filter(|f| f.objective == obj.code).collect();
                let newest = mine.iter().map(|f| f.version).max().unwrap_or(0);
                let versions: Vec<EvidenceItem> = mine
                    .iter()
                    .rev()
                    .map(|f| {
                        let reviews: Vec<_> = reviews.iter().filter(|r| r.evidence == f.id).collect();
                        EvidenceItem {
                            id: f.id,
                            version: f.version,
                            file_name: f.file_name.clone(),
                            kind: Kind::from_content_type(&f.content_type)
                                .map(|k| k.label().to_string())
                                .unwrap_or_else(|| f.content_type.clone()),
                            size: size_words(f.size_bytes),
                            sha256: f.sha256.clone(),
                            uploaded_by: f.uploaded_by.clone(),
                            uploaded_at: when(&f.uploaded_at),
                            last_review: reviews.last().map_or(0, |r| r.id),
                            reviews: reviews
                                .iter()
                                .filter_map(|r| {
                                    Some(ReviewItem {
                                        outcome: ReviewOutcome::from_code(&r.outcome)?,
                                        reason: r.reason.clone(),
                                        reviewed_by: r.reviewed_by.clone(),
                                        reviewed_at: when(&r.reviewed_at),
                                    })
                                })
                                .collect(),
                            latest: f.version == newest,
                        }
                    })
                    .collect();
                let latest_review = versions.first().and_then(|v| v.reviews.last()).map(|r| r.outcome);
                ObjectiveEvidence {
                    code: obj.code.clone(),
                    platform: obj.platform.label().to_string(),
                    step: p.step_name(&obj.step),
                    description: obj.description.clone(),
                    deadline: obj.deadline,
                    reached: StepState::reached(outcome.reached_on, outcome.on_time).label(),
                    verified: outcome.verified,
                    status: status_words(outcome.reached_on.is_some(), newest, latest_review).to_string(),
                    versions,
                }
            })
            .collect();
        Ok(EvidencePage {
            codice: codice.to_string(),
            denominazione: e.record.denominazione.clone(),
            programma: p.name.clone(),
            max_bytes: state.evidence.max_bytes,
            limite: format!("{} MB", crate::evidence::progress::megabytes(state.evidence.max_bytes)),
            may_upload: may_act_for(Some(user), codice),
            may_review: user.role == Role::Regione,
            objectives,
        })
    }

    /// The queue's filters, checked (empty: any); the page and its export share them.
    pub fn check_queue_filters(
        territory: &Territory,
        provincia: &str,
        piattaforma: &str,
    ) -> Result<(), AppError> {
        if !provincia.is_empty() && !territory.province.iter().any(|p| p.sigla == provincia) {
            // The filters' own refusal, so the two say the same.
            return Err(
                FilterError::Provincia { sigla: provincia.to_string(), ammesse: territory.sigle() }.into()
            );
        }
        if !piattaforma.is_empty() && Platform::from_code(piattaforma).is_none() {
            return Err(AppError::BadRequest(format!("Piattaforma sconosciuta: «{piattaforma}».")));
        }
        Ok(())
    }

    /// Page `page` of the queue; a page past the last shows the last.
    pub async fn queue(
        state: &AppState,
        provincia: &str,
        piattaforma: &str,
        page: usize,
    ) -> Result<Queue, AppError> {
        check_queue_filters(&state.territory, provincia, piattaforma)?;
        let snapshot = state.snapshot().await?;
        let p = &snapshot.programme;
        let (provincia_f, piattaforma_f) =
            (Some(provincia).filter(|s| !s.is_empty()), Some(piattaforma).filter(|s| !s.is_empty()));
        let (rows, page, pages, total) = crate::paging::fetch_page(page, |offset| {
            evidence::queue_page(&state.db, &p.code, provincia_f, piattaforma_f, PAGE_SIZE, offset)
        })
        .await?;
        let items = rows
            .into_iter()
            .map(|r| QueueItem {
                id: r.id,
                objective: p
                    .objectives
                    .iter()
                    .find(|o| o.code == r.objective)
                    .map(|o| o.description.clone())
                    .unwrap_or_else(|| r.objective.clone()),
                objective_code: r.objective,
                platform: Platform::from_code(&r.platform)
                    .map(|p| p.label().to_string())
                    .unwrap_or(r.platform),
                comune: r.comune,
                denominazione: r.denominazione,
                provincia: r.sigla_provincia,
                version: r.version,
                file_name: r.file_name,
                uploaded_by: r.uploaded_by,
                uploaded_at: when(&r.uploaded_at),
            })
            .collect();
        Ok(Queue {
            items,
            provincia: provincia.to_string(),
            piattaforma: piattaforma.to_string(),
            page,
            pages,
            total,
        })
    }
}
