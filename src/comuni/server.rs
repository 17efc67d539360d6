//! Server functions of the comuni pages: thin adapters over the cached snapshot.

use leptos::prelude::*;

use super::{ComuneDetail, ComuniFilter, FilterChoice, ListPage, ListParams};
#[cfg(feature = "ssr")]
use crate::error::set_status_on_error;
use crate::error::AppError;

/// One page of the comuni matching `filter` (search included), sorted as `vista` says, with
/// the total count. A bad filter, sort or page number is a 400 with the reason in Italian.
#[server(endpoint = "comuni")]
pub async fn list_comuni(
    #[server(default)] filter: ComuniFilter,
    #[server(default)] vista: ListParams,
) -> Result<ListPage, AppError> {
    let result = async {
        let state = crate::state::app_state()?;
        let filter = filter.validate_for(crate::auth::guard::viewer().as_ref(), &state.territory)?;
        let vista = vista.validate()?;
        let snapshot = state.snapshot_on(filter.al).await?;
        let mut page = vista.page(snapshot.list(&filter));
        page.al = crate::state::AppState::past_day(&snapshot);
        Ok(page)
    }
    .await;
    set_status_on_error(&result);
    result
}

/// The population bands the filter forms offer: the programme's funding bands.
#[server(endpoint = "scelte-filtri")]
pub async fn filter_choices() -> Result<Vec<FilterChoice>, AppError> {
    let snapshot = crate::state::app_state()?.snapshot().await?;
    Ok(snapshot.population_choices())
}

/// One comune's page, as of `al` (a day, as the filters take it; `None`: today). An unknown
/// code is a 404, a bad day a 400, never a 500.
#[server(endpoint = "comune")]
pub async fn get_comune(
    codice_istat: String,
    #[server(default)] al: Option<String>,
) -> Result<ComuneDetail, AppError> {
    let result = async {
        let state = crate::state::app_state()?;
        let day = ComuniFilter { al, ..Default::default() }.validate()?.al;
        ssr::detail_on(&state, codice_istat.trim(), day).await
    }
    .await;
    set_status_on_error(&result);
    result
}

#[cfg(feature = "ssr")]
pub mod ssr {
    use super::*;
    use crate::{
        comuni::{IoView, ObjectiveView, OnlineView, PagoPaView, StepView},
        data::facts::services_of,
        state::AppState,
    };

    /// The page of `codice_istat` as of `day` (`None`: today): the rules' outcome of that day
    /// and the services chart up to it.
    pub async fn detail_on(
        state: &AppState,
        codice_istat: &str,
        day: Option<chrono::NaiveDate>,
    ) -> Result<ComuneDetail, AppError> {
        let not_found = || {
            AppError::not_found(format!(
                "Comune non trovato: nessun comune ha il codice ISTAT «{codice_istat}»."
            ))
        };
        if !crate::data::registry::is_istat_code(codice_istat) {
            return Err(not_found());
        }
        let snapshot = state.snapshot_on(day).await?;
        let e = snapshot.find(codice_istat).ok_or_else(not_found)?;
        let (mut pagopa, mut io, mut online) = services_of(&state.db, codice_istat).await?;
        // A past day lists the services as they stood that day, like its figures; today's page
        // lists every recorded row, future days included.
        if let Some(day) = AppState::past_day(&snapshot) {
            pagopa = pagopa.into_iter().filter_map(|s| s.as_of(day)).collect();
            io = io.into_iter().filter_map(|s| s.as_of(day)).collect();
            online = online.into_iter().filter_map(|s| s.as_of(day)).collect();
        }
        let series = crate::dashboard::ServicesSeries {
            points: e
                .record
                .counts_over_time
                .iter()
                .filter(|c| c.day <= snapshot.as_of)
                .map(|c| crate::dashboard::SeriesPoint { day: c.day, pagopa: c.pagopa, io: c.io })
                .collect(),
            deadlines: snapshot.programme.steps.iter().map(|s| (s.name.clone(), s.deadline)).collect(),
        };
        // A comune without snapshots gets no chart (the page says so), not an empty frame.
        let grafico = if series.points.is_empty() {
            None
        } else {
            crate::dashboard::chart::services_over_time(&series)
                .inspect_err(|e| tracing::error!(error = %e, "drawing a comune's services chart failed"))
                .ok()
        };
        let p = &snapshot.programme;
        let steps = p
            .steps
            .iter()
            .zip(&e.outcome.steps)
            .map(|(step, o)| StepView {
                name: step.name.clone(),
                deadline: step.deadline,
                share_percent: step.share_percent,
                state: snapshot.step_state(e, &step.code),
                tranche_eur: o.tranche_eur,
                tranche: o.tranche,
            })
            .collect();
        let objectives = p
            .objectives
            .iter()
            .zip(&e.outcome.objectives)
            .map(|(obj, o)| ObjectiveView {
                platform: obj.platform.label().to_string(),
                step: p.step_name(&obj.step),
                description: obj.description.clone(),
                deadline: obj.deadline,
                state: crate::comuni::StepState::reached(o.reached_on, o.on_time),
                progress: o.progress.describe(),
                confirmed_by_source: obj.confirmed_by_source,
                verificato: o.verified,
            })
            .collect();
        let r = &e.record;
        Ok(ComuneDetail {
            al: AppState::past_day(&snapshot),
            codice_istat: r.codice_istat.clone(),
            denominazione: r.denominazione.clone(),
            sigla_provincia: r.sigla_provincia.clone(),
            provincia: r.provincia.clone(),
            codice_catastale: r.codice_catastale.clone(),
            codice_ipa: r.codice_ipa.clone(),
            popolazione: r.popolazione,
            programma: p.name.clone(),
            adesione: r.facts.adhesion,
            data_adesione: r.facts.adhesion_date,
            rinuncia: r.facts.renunciation.as_ref().map(|x| (x.kind.label().to_string(), x.on)),
            contributo_eur: e.outcome.grant_eur,
            maturato_eur: e.outcome.earned_eur,
            perso_eur: e.outcome.lost_eur,
            possibile_eur: e.outcome.possible_eur,
            rinunciato_eur: e.outcome.renounced_eur,
            steps,
            objectives,
            pagopa: pagopa
                .into_iter()
                .map(|s| PagoPaView {
                    demo_code: s.origin == "demo",
                    code: s.taxonomy_code,
                    description: s.description,
                    applicable: s.applicable,
                    active_since: s.active_since,
                    deactivated_on: s.deactivated_on,
                    on_mypay: s.on_mypay,
                })
                .collect(),
            io: io
                .into_iter()
                .map(|s| IoView {
                    service_id: s.service_id,
                    name: s.name,
                    published_since: s.published_since,
                })
                .collect(),
            io_tramite_regione: r.facts.io_via_region,
            grafico,
            previsioni: crate::forecasts::view::views(p, e),
            pnrr: crate::data::pnrr::projects_of(&state.db, codice_istat)
                .await?
                .into_iter()
                .map(|p| crate::comuni::PnrrView {
                    stato: crate::data::pnrr::status_label(&p.status).to_string(),
                    cup: p.cup,
                    misura: p.misura,
                    avviso: p.avviso,
                    importo_centesimi: p.amount_cents,
                    data_finanziamento: p.financed_on,
                    data_stato: p.status_on,
                })
                .collect(),
            online: online
                .into_iter()
                .map(|s| OnlineView { name: s.name, spid_since: s.spid_since, cie_since: s.cie_since })
                .collect(),
        })
    }

    /// The private side of each objective of `codice_istat` (see [`ObjectiveCheck`]); the
    /// caller has checked that the viewer may read the comune's private data.
    pub async fn checks(
        state: &AppState,
        codice_istat: &str,
    ) -> Result<Vec<crate::comuni::ObjectiveCheck>, AppError> {
        let snapshot = state.snapshot().await?;
        let Some(e) = snapshot.find(codice_istat) else { return Ok(Vec::new()) };
        let p = &snapshot.programme;
        let verifications =
            crate::data::workspace::verifications_of(&state.db, &p.code, codice_istat).await?;
        Ok(p.objectives
            .iter()
            .zip(&e.outcome.objectives)
            .map(|(obj, o)| {
                let fact = e.record.facts.evidence.iter().find(|f| f.objective == obj.code);
                let versions = fact.map_or(0, |f| f.versions);
                crate::comuni::ObjectiveCheck {
                    platform: obj.platform.label().to_string(),
                    step: p.step_name(&obj.step),
                    description: obj.description.clone(),
                    verifica: match verifications.iter().find(|v| v.objective == obj.code) {
                        Some(v) => format!(
                            "{} il {}{}",
                            crate::data::workspace::outcome(&v.outcome).map(|o| o.label()).unwrap_or("—"),
                            crate::format::date(v.verified_on),
                            v.reason.as_ref().map(|r| format!(": {r}")).unwrap_or_default()
                        ),
                        None => "Da verificare".to_string(),
                    },
                    evidenze: versions,
                    evidenza: crate::evidence::status_words(
                        o.reached_on.is_some(),
                        versions,
                        fact.and_then(|f| f.latest_review),
                    )
                    .to_string(),
                }
            })
            .collect())
    }
}

/// The part of a comune's page that is not public: its registered referents (names and e-mail
/// addresses are personal data), its blockers, the Region's verifications with their reasons,
/// the state of its evidence and its latest changes.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ComunePrivate {
    pub codice: String,
    pub referenti: Vec<(String, String)>,
    /// Reasons for delay, open ones first.
    pub blocchi: Vec<crate::workspace::server::BlockerItem>,
    /// Each objective's verification by the Region and its evidence (what the public page
    /// reduces to "verified: yes / not yet").
    pub obiettivi: Vec<super::ObjectiveCheck>,
    /// The latest changes (the whole trail is on `/comuni/{codice}/registro`).
    pub modifiche: Vec<crate::workspace::TrailEntry>,
    /// The viewer may act for this comune (upload evidence, propose updates).
    pub may_act: bool,
}

/// Changes shown on a comune's page.
pub const LATEST_CHANGES: i64 = 10;

/// Only for the Region, assessors and the comune's own users; others get a 404 with no data.
#[server(endpoint = "comune-riservato")]
pub async fn get_comune_private(codice_istat: String) -> Result<ComunePrivate, AppError> {
    let result = async {
        let codice = codice_istat.trim();
        let user = crate::auth::guard::require_private(codice)?;
        let state = crate::state::app_state()?;
        let referenti = crate::data::accounts::users_of_comune(&state.db, codice).await?;
        let blocchi = crate::data::workspace::blockers_of(&state.db, &state.programme, codice)
            .await?
            .into_iter()
            .map(crate::workspace::server::ssr::blocker_item)
            .collect();
        let hidden = crate::auth::hidden_trail_entities(Some(&user));
        let modifiche = crate::data::audit::list(&state.db, Some(codice), None, LATEST_CHANGES, hidden)
            .await?
            .into_iter()
            .map(crate::workspace::server::ssr::trail_entry)
            .collect();
        let obiettivi = ssr::checks(&state, codice).await?;
        Ok(ComunePrivate {
            codice: codice.to_string(),
            referenti,
            blocchi,
            obiettivi,
            modifiche,
            may_act: crate::auth::may_act_for(Some(&user), codice),
        })
    }
    .await;
    set_status_on_error(&result);
    result
}
