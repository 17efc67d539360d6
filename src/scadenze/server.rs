//! The server function of `/scadenze`, and the computation it shares with the CSV export.

use leptos::prelude::*;

use super::{ScadenzeData, ScadenzeQuery};
#[cfg(feature = "ssr")]
use crate::error::set_status_on_error;
use crate::error::AppError;

/// The overdue and due-soon objectives for the signed-in person (401 for the public), one page
/// of each table.
#[server(endpoint = "scadenze")]
pub async fn get_scadenze(#[server(default)] query: ScadenzeQuery) -> Result<ScadenzeData, AppError> {
    let result = async {
        let user = crate::auth::guard::require_signed_in()?;
        let state = crate::state::app_state()?;
        let pages = query.validate(&state.territory)?.pages;
        Ok(ssr::scadenze(&state, &user, &query).await?.paginate(pages))
    }
    .await;
    set_status_on_error(&result);
    result
}

#[cfg(feature = "ssr")]
pub mod ssr {
    use std::collections::HashMap;

    use super::*;
    use crate::{
        auth::{may_read_private, CurrentUser},
        data::blockers,
        evaluation::Evaluated,
        scadenze::{
            pending_objectives, sort_by_risk, BlockerCategory, BlockerView, ComuneStanding, RowForecast,
            ScadenzaRow, Urgency, WINDOW_DAYS,
        },
        state::AppState,
    };

    /// The page's data for `user`: the query is checked first (a bad date is a 400 whoever
    /// asks), the comuni are those `user` may read the private data of.
    pub async fn scadenze(
        state: &AppState,
        user: &CurrentUser,
        query: &ScadenzeQuery,
    ) -> Result<ScadenzeData, AppError> {
        let query = query.validate(&state.territory)?;
        // Today's snapshot, or a past day's (cached); a day outside the programme is a 400.
        let snapshot = state.snapshot_on(query.al).await?;
        let as_of = snapshot.as_of;
        let visible = |codice: &str| may_read_private(Some(user), codice);
        let standings = snapshot
            .comuni
            .iter()
            .filter(|e| query.provincia.as_ref().is_none_or(|p| *p == e.record.sigla_provincia))
            .filter(|e| visible(&e.record.codice_istat))
            .map(|e| ComuneStanding {
                codice_istat: &e.record.codice_istat,
                denominazione: &e.record.denominazione,
                adhesion: e.record.facts.adhesion,
                outcome: &e.outcome,
            });
        let pending = pending_objectives(&snapshot.programme, standings, as_of, WINDOW_DAYS);

        // One query for every comune's blockers, grouped here.
        let mut open: HashMap<String, Vec<BlockerView>> = HashMap::new();
        for b in blockers::open_on(&state.db, &state.programme, as_of).await? {
            let Some(category) = BlockerCategory::from_code(&b.category) else {
                tracing::warn!(id = b.id, category = b.category, "blocker with an unknown category");
                continue;
            };
            open.entry(b.comune).or_default().push(BlockerView {
                category,
                description: b.description,
                opened_on: b.opened_on,
                resolved_on: b.resolved_on,
            });
        }

        let (mut overdue, mut due_soon) = (Vec::new(), Vec::new());
        for p in pending {
            let Some(e) = snapshot.find(p.codice_istat) else { continue };
            let row = ScadenzaRow {
                codice_istat: p.codice_istat.to_string(),
                denominazione: p.denominazione.to_string(),
                sigla_provincia: e.record.sigla_provincia.clone(),
                objective_code: p.objective.code.clone(),
                platform_code: p.objective.platform.code().to_string(),
                platform: p.objective.platform.label().to_string(),
                description: p.objective.description.clone(),
                deadline: p.objective.deadline,
                urgency: p.urgency,
                blockers: open.get(p.codice_istat).cloned().unwrap_or_default(),
                previsione: forecast_of(e, &p.objective.code),
            };
            match p.urgency {
                Urgency::Overdue { .. } => overdue.push(row),
                Urgency::DueSoon { .. } => due_soon.push(row),
            }
        }
        // Open objectives due after the window and forecast a rischio: the calls to make now
        // for a deadline that still looks far.
        let mut at_risk = Vec::new();
        for e in snapshot
            .comuni
            .iter()
            .filter(|e| query.provincia.as_ref().is_none_or(|p| *p == e.record.sigla_provincia))
            .filter(|e| visible(&e.record.codice_istat))
        {
            for f in e.forecasts.iter().filter(|f| f.forecast.at_risk) {
                let days = (f.deadline - as_of).num_days();
                let Some(objective) = snapshot.programme.objectives.iter().find(|o| o.code == f.objective)
                else {
                    continue;
                };
                if days <= WINDOW_DAYS {
                    continue;
                }
                at_risk.push(ScadenzaRow {
                    codice_istat: e.record.codice_istat.clone(),
                    denominazione: e.record.denominazione.clone(),
                    sigla_provincia: e.record.sigla_provincia.clone(),
                    objective_code: objective.code.clone(),
                    platform_code: objective.platform.code().to_string(),
                    platform: objective.platform.label().to_string(),
                    description: objective.description.clone(),
                    deadline: objective.deadline,
                    urgency: Urgency::DueSoon { days },
                    blockers: open.get(&e.record.codice_istat).cloned().unwrap_or_default(),
                    previsione: forecast_of(e, &objective.code),
                });
            }
        }
        at_risk.sort_by(|a, b| (a.deadline, &a.denominazione).cmp(&(b.deadline, &b.denominazione)));
        if query.by_risk {
            sort_by_risk(&mut due_soon);
            sort_by_risk(&mut at_risk);
        }
        Ok(ScadenzeData {
            as_of,
            provincia: query.provincia.clone(),
            window_days: WINDOW_DAYS,
            overdue,
            due_soon,
            at_risk,
            by_risk: query.by_risk,
            own_comuni_only: user.role == crate::auth::Role::Comune,
            demo: snapshot.demo,
            al: AppState::past_day(&snapshot),
            counts: Default::default(),
        })
    }

    /// The forecast of objective `code` of comune `e`, if it is open on the snapshot's day.
    fn forecast_of(e: &Evaluated, code: &str) -> Option<RowForecast> {
        e.forecasts
            .iter()
            .find(|f| f.objective == code)
            .map(|f| RowForecast { expected: f.forecast.expected, at_risk: f.forecast.at_risk })
    }
}
