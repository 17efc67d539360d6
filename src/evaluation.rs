//! The rules applied to every comune: a [`Snapshot`] of the whole programme, from which the
//! dashboard, the list, the comune pages, the CSV export and `traguardi check` all read, so the
//! figures cannot disagree.
//!
//! Building a snapshot costs eight set-based queries (none per comune) and one pass of the rules;
//! [`SnapshotCache`] keeps it until the data changes (the `data_version` counter, which every
//! write bumps, also from other processes) or the day changes (the rules depend on "today").

use std::{
    collections::{BTreeMap, HashMap},
    sync::Arc,
};

use chrono::NaiveDate;
use tokio::sync::RwLock;

use crate::{
    comuni::{
        territory::{in_listing_order, Provincia},
        ComuneListRow, FilterChoice, Milestone, PopulationBand, StepFilter, StepState, ValidFilter,
    },
    dashboard::{
        map::MapStatus, ObjectiveRow, ProvinceRow, SeriesPoint, ServicesSeries, StepEarned, Summary,
    },
    data::{facts::ComuneRecord, programme, Db},
    error::AppError,
    rules::{
        self,
        forecast::{self, ForecastInput, ObjectiveForecast},
        AdhesionStatus, ComuneFacts, ComuneOutcome, Platform, Programme, TrancheStatus,
    },
};

/// One comune with the outcome of the rules.
#[derive(Clone, Debug)]
pub struct Evaluated {
    pub record: ComuneRecord,
    pub outcome: ComuneOutcome,
    pub counts: ServiceCounts,
    /// The same counts on the project's last day (or on the snapshot's day, if earlier): the
    /// MyPay figures the press release reports are of 31/12/2021, not of today.
    pub counts_at_end: ServiceCounts,
    /// The forecasts of the objectives still open on the snapshot's day (supported comune, not
    /// reached, deadline not passed): empty once every deadline has passed.
    pub forecasts: Vec<ObjectiveForecast>,
}

/// Service counts of one comune on the snapshot's day (the CSV columns and the MyPay figures).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ServiceCounts {
    pub pagopa_active: i64,
    pub pagopa_applicable: i64,
    pub pagopa_activated_in_project: i64,
    pub mypay_active: i64,
    pub mypay_applicable: i64,
    pub mypay_activated_in_project: i64,
    pub io_active: i64,
    /// Online services reachable with SPID or CIE.
    pub online_spid_or_cie: i64,
}

impl ServiceCounts {
    pub fn of(programme: &Programme, facts: &ComuneFacts, as_of: NaiveDate) -> Self {
        let active = |since, until| rules::on_at(since, until, as_of);
        let mut c = ServiceCounts::default();
        for s in &facts.pagopa {
            let is_active = active(s.active_since, s.deactivated_on);
            let in_project = is_active && s.active_since.is_some_and(|d| programme.during(d));
            // Applicable as of the snapshot's day, as the rules read it.
            let applicable = s.applicable_on(as_of);
            c.pagopa_applicable += i64::from(applicable);
            c.pagopa_active += i64::from(is_active);
            c.pagopa_activated_in_project += i64::from(in_project);
            // The three MyPay counts are of one population, the applicable services on MyPay:
            // the active ones are a part of the applicable ones, those activated during the
            // project a part of the active ones (an active service marked not applicable is in
            // none of them).
            let on_mypay = applicable && s.on_mypay;
            c.mypay_active += i64::from(is_active && on_mypay);
            c.mypay_applicable += i64::from(on_mypay);
            c.mypay_activated_in_project += i64::from(in_project && on_mypay);
        }
        c.io_active = facts.io.iter().filter(|s| active(s.published_since, s.withdrawn_on)).count() as i64;
        c.online_spid_or_cie = facts
            .online
            .iter()
            .filter(|s| s.spid_since.is_some_and(|d| d <= as_of) || s.cie_since.is_some_and(|d| d <= as_of))
            .count() as i64;
        c
    }
}

/// The programme evaluated for every comune on one day.
#[derive(Clone, Debug)]
pub struct Snapshot {
    pub programme: Programme,
    pub as_of: NaiveDate,
    pub version: i64,
    pub demo: bool,
    /// Ordered by ISTAT code.
    pub comuni: Vec<Evaluated>,
    /// The provinces the comuni lie in, by name (the order of the figures' province rows):
    /// taken from the registry's rows, so the territory's provinces whatever it is.
    pub province: Vec<Provincia>,
}

impl Snapshot {
    /// Loads the facts and applies the rules.
    pub async fn build(db: &Db, programme_code: &str, as_of: NaiveDate) -> Result<Snapshot, AppError> {
        let version = db.data_version().await?;
        let demo = db.is_demo().await?;
        let programme = programme::load(db, programme_code).await?.ok_or_else(|| {
            tracing::error!(programme = programme_code, "programme missing from the database");
            AppError::INTERNAL
        })?;
        let records = crate::data::facts::load_all(db, programme_code).await?;
        Ok(Self::evaluate(programme, records, as_of, version, demo))
    }

    /// The pure part of [`Snapshot::build`]: rules over loaded records.
    pub fn evaluate(
        programme: Programme,
        records: Vec<ComuneRecord>,
        as_of: NaiveDate,
        version: i64,
        demo: bool,
    ) -> Snapshot {
        let mut comuni: Vec<Evaluated> = records
            .into_iter()
            .map(|record| Evaluated {
                outcome: rules::evaluate(&programme, &record.facts, as_of),
                counts: ServiceCounts::of(&programme, &record.facts, as_of),
                counts_at_end: ServiceCounts::of(&programme, &record.facts, as_of.min(programme.end)),
                forecasts: Vec::new(),
                record,
            })
            .collect();
        // Forecasts need every comune first: a short history takes its province's pace.
        let inputs: Vec<ForecastInput<'_>> = comuni
            .iter()
            .map(|e| ForecastInput {
                province: &e.record.sigla_provincia,
                facts: &e.record.facts,
                outcome: &e.outcome,
            })
            .collect();
        let forecasts = forecast::forecast_all(&programme, &inputs, as_of);
        drop(inputs);
        for (e, f) in comuni.iter_mut().zip(forecasts) {
            e.forecasts = f;
        }
        let province = in_listing_order(
            comuni
                .iter()
                .map(|e| Provincia {
                    sigla: e.record.sigla_provincia.clone(),
                    nome: e.record.provincia.clone(),
                })
                .collect::<std::collections::BTreeSet<_>>()
                .into_iter()
                .collect(),
        );
        Snapshot { programme, as_of, version, demo, comuni, province }
    }

    pub fn find(&self, codice_istat: &str) -> Option<&Evaluated> {
        self.comuni
            .binary_search_by(|e| e.record.codice_istat.as_str().cmp(codice_istat))
            .ok()
            .map(|i| &self.comuni[i])
    }

    /// The comuni that match `filter`: the one place where filters are applied, so the cards,
    /// the charts, the map, the list and the CSV always count the same comuni.
    pub fn filtered<'a>(&'a self, filter: &'a ValidFilter) -> impl Iterator<Item = &'a Evaluated> + 'a {
        self.comuni.iter().filter(move |e| self.matches(filter, e))
    }

    pub fn matches(&self, filter: &ValidFilter, e: &Evaluated) -> bool {
        let (r, c) = (&e.record, &e.counts);
        filter.provincia.as_ref().is_none_or(|p| *p == r.sigla_provincia)
            && filter.adesione.is_none_or(|a| a == r.facts.adhesion)
            && filter.popolazione.is_none_or(|b| b.contains(r.popolazione))
            && filter.piattaforma.is_none_or(|p| match p {
                Platform::PagoPa => c.pagopa_active > 0,
                Platform::AppIo => c.io_active > 0,
                Platform::SpidCie => c.online_spid_or_cie > 0,
            })
            && filter.traguardo.iter().all(|&m| self.reached(e, m))
            && filter
                .q
                .as_ref()
                .is_none_or(|q| q.matches(&r.denominazione, &r.codice_istat, &r.codice_catastale))
            && filter.primo_step.is_none_or(|f| self.step_matches(e, self.first_step_code(), f))
            && filter.finale.is_none_or(|f| self.step_matches(e, self.last_step_code(), f))
            && (!filter.scaduto || self.overdue(e))
            && (!filter.bloccato || r.open_blockers > 0)
    }

    /// Whether comune `e` is in the programme and has (`Raggiunto`, on time or late) or has not
    /// (`NonRaggiunto`) reached step `code`. Comuni outside the programme match neither.
    fn step_matches(&self, e: &Evaluated, code: &str, f: StepFilter) -> bool {
        match self.step_state(e, code) {
            StepState::OnTime(_) | StepState::Late(_) => f == StepFilter::Raggiunto,
            StepState::NotReached => f == StepFilter::NonRaggiunto,
            StepState::NotApplicable => false,
        }
    }

    /// Whether comune `e`, in the programme, has an objective whose deadline is before the
    /// snapshot's day and that was never reached (reached late is no longer overdue).
    pub fn overdue(&self, e: &Evaluated) -> bool {
        e.outcome.supported
            && self
                .programme
                .objectives
                .iter()
                .zip(&e.outcome.objectives)
                .any(|(objective, o)| objective.deadline < self.as_of && o.reached_on.is_none())
    }

    /// Whether comune `e` is counted by the headline figure of milestone `m` (the same tests
    /// as in [`Snapshot::summary`]).
    pub fn reached(&self, e: &Evaluated, m: Milestone) -> bool {
        let (o, f, c) = (&e.outcome, &e.record.facts, &e.counts);
        let step1 = o.step(self.first_step_code());
        match m {
            Milestone::Supportati => o.supported,
            Milestone::PrimoStepInTempo => o.supported && step1.is_some_and(|st| st.on_time),
            Milestone::PrimoStep => o.supported && step1.is_some_and(|st| st.reached_on.is_some()),
            Milestone::TuttiObiettivi => o.all_objectives_on_time,
            Milestone::MyPay => c.mypay_active > 0,
            Milestone::MyPayNelProgetto => c.mypay_activated_in_project > 0,
            Milestone::IoTramiteRegione => f.io_via_region,
            Milestone::ContributoMaturato => o.earned_eur > 0,
            Milestone::ContributoPossibile => o.possible_eur > 0,
            Milestone::ContributoPerso => o.lost_eur > 0,
            Milestone::ContributoRinunciato => o.renounced_eur > 0,
            Milestone::ARischio => e.forecasts.iter().any(|f| f.forecast.at_risk),
        }
    }

    /// Where each comune stands on the map; comuni outside `filter` are [`MapStatus::FuoriFiltro`]
    /// (by being absent). The classes nest like the cards: "all objectives" is
    /// [`Milestone::TuttiObiettivi`], "step 1" the rest of [`Milestone::PrimoStep`], "adherent"
    /// the rest of [`Milestone::Supportati`].
    pub fn map_status(&self, filter: &ValidFilter) -> HashMap<String, MapStatus> {
        self.filtered(filter)
            .map(|e| {
                let status = if self.reached(e, Milestone::TuttiObiettivi) {
                    MapStatus::TuttiObiettivi
                } else if self.reached(e, Milestone::PrimoStep) {
                    MapStatus::PrimoStep
                } else if self.reached(e, Milestone::Supportati) {
                    MapStatus::Aderente
                } else {
                    MapStatus::NonAderente
                };
                (e.record.codice_istat.clone(), status)
            })
            .collect()
    }

    /// Active pagoPA and App IO services per snapshot day, summed over the comuni matching
    /// `filter`, with the programme's deadlines. On every day that any comune has a snapshot,
    /// each comune counts with its last snapshot up to that day (carried forward; nothing
    /// before its first): a day on which only some comuni were counted does not make the others
    /// drop to zero, so imports of arbitrary days give a series without dents.
    pub fn series(&self, filter: &ValidFilter) -> ServicesSeries {
        let comuni: Vec<&Evaluated> = self.filtered(filter).collect();
        // Nothing after the snapshot's day: the programme as of a past day has no future.
        let days: std::collections::BTreeSet<NaiveDate> = comuni
            .iter()
            .flat_map(|e| e.record.counts_over_time.iter().map(|p| p.day))
            .filter(|d| *d <= self.as_of)
            .collect();
        let mut by_day: BTreeMap<NaiveDate, (i64, i64)> = days.iter().map(|d| (*d, (0, 0))).collect();
        for e in comuni {
            let points = &e.record.counts_over_time;
            if points.is_empty() {
                continue;
            }
            // Both walk the days in order: one pass per comune.
            let mut next = 0;
            let mut last: Option<&crate::data::facts::CountSnapshot> = None;
            for (day, total) in by_day.iter_mut() {
                while next < points.len() && points[next].day <= *day {
                    last = Some(&points[next]);
                    next += 1;
                }
                if let Some(p) = last {
                    total.0 += p.pagopa;
                    total.1 += p.io;
                }
            }
        }
        ServicesSeries {
            points: by_day.into_iter().map(|(day, (pagopa, io))| SeriesPoint { day, pagopa, io }).collect(),
            deadlines: self.programme.steps.iter().map(|s| (s.name.clone(), s.deadline)).collect(),
        }
    }

    /// The population bands offered by the filters: the programme's funding bands.
    pub fn population_choices(&self) -> Vec<FilterChoice> {
        self.programme
            .bands
            .iter()
            .map(|b| {
                let band = PopulationBand { min: b.min_population, max: b.max_population };
                FilterChoice { value: band.code(), label: band.label() }
            })
            .collect()
    }

    /// Where a comune stands on step `code`.
    pub fn step_state(&self, e: &Evaluated, code: &str) -> StepState {
        if !e.outcome.supported {
            return StepState::NotApplicable;
        }
        match e.outcome.step(code) {
            Some(s) => StepState::reached(s.reached_on, s.on_time),
            None => StepState::NotApplicable,
        }
    }

    pub fn first_step_code(&self) -> &str {
        self.programme.first_step().map(|s| s.code.as_str()).unwrap_or_default()
    }

    pub fn last_step_code(&self) -> &str {
        self.programme.last_step().map(|s| s.code.as_str()).unwrap_or_default()
    }

    /// The rows of `/comuni`.
    pub fn list(&self, filter: &ValidFilter) -> Vec<ComuneListRow> {
        let (first, last) = (self.first_step_code(), self.last_step_code());
        self.filtered(filter)
            .map(|e| ComuneListRow {
                codice_istat: e.record.codice_istat.clone(),
                denominazione: e.record.denominazione.clone(),
                sigla_provincia: e.record.sigla_provincia.clone(),
                popolazione: e.record.popolazione,
                adesione: e.record.facts.adhesion,
                primo_step: self.step_state(e, first),
                finale: self.step_state(e, last),
            })
            .collect()
    }

    /// The headline figures and the province table for the comuni matching `filter`.
    pub fn summary(&self, filter: &ValidFilter) -> Summary {
        let mut s = Summary {
            programma: self.programme.name.clone(),
            data_riferimento: Some(self.as_of),
            fine_progetto: Some(self.as_of.min(self.programme.end)),
            primo_step_scadenza: self.programme.first_step().map(|s| s.deadline),
            finale_scadenza: self.programme.last_step().map(|s| s.deadline),
            maturato_per_step: self
                .programme
                .steps
                .iter()
                .map(|st| StepEarned { step: st.name.clone(), share_percent: st.share_percent, eur: 0 })
                .collect(),
            ..Summary::default()
        };
        let mut obiettivi: Vec<ObjectiveRow> = self
            .programme
            .objectives
            .iter()
            .map(|o| ObjectiveRow {
                codice: o.code.clone(),
                obiettivo: format!(
                    "{}, {}",
                    o.platform.label(),
                    self.programme.steps.iter().find(|s| s.code == o.step).map_or("", |s| s.name.as_str())
                ),
                ..Default::default()
            })
            .collect();
        let mut province: Vec<ProvinceRow> = self
            .province
            .iter()
            .filter(|p| filter.provincia.as_ref().is_none_or(|f| *f == p.sigla))
            .map(|p| ProvinceRow { sigla: p.sigla.clone(), nome: p.nome.clone(), ..Default::default() })
            .collect();
        for e in self.filtered(filter) {
            let (o, f, c) = (&e.outcome, &e.record.facts, &e.counts);
            let reached = |m| i64::from(self.reached(e, m));
            s.totale_comuni += 1;
            s.aderenti += i64::from(f.adhesion == AdhesionStatus::Aderente);
            s.in_ritardo += i64::from(f.adhesion == AdhesionStatus::AderenteInRitardo);
            s.rinunce += i64::from(f.adhesion == AdhesionStatus::Rinuncia);
            s.supportati += reached(Milestone::Supportati);
            if self.reached(e, Milestone::Supportati) {
                // Outcome objectives come in programme order, like `obiettivi`.
                for (row, objective) in obiettivi.iter_mut().zip(&o.objectives) {
                    row.supportati += 1;
                    row.raggiunti += i64::from(objective.reached_on.is_some());
                    row.verificati += i64::from(objective.verified);
                }
            }
            s.primo_step_in_tempo += reached(Milestone::PrimoStepInTempo);
            s.primo_step += reached(Milestone::PrimoStep);
            s.tutti_obiettivi += reached(Milestone::TuttiObiettivi);
            s.mypay_attivi += c.mypay_active;
            s.mypay_applicabili += c.mypay_applicable;
            s.mypay_nel_progetto += c.mypay_activated_in_project;
            let end = &e.counts_at_end;
            s.mypay_attivi_fine_progetto += end.mypay_active;
            s.mypay_applicabili_fine_progetto += end.mypay_applicable;
            s.mypay_nel_progetto_fine_progetto += end.mypay_activated_in_project;
            s.io_regione += reached(Milestone::IoTramiteRegione);
            s.contributo_assegnato += o.grant_eur;
            s.contributo_maturato += o.earned_eur;
            s.contributo_perso += o.lost_eur;
            s.contributo_rinunciato += o.renounced_eur;
            s.contributo_possibile += o.possible_eur;
            s.comuni_maturato += reached(Milestone::ContributoMaturato);
            s.comuni_possibile += reached(Milestone::ContributoPossibile);
            s.comuni_perso += reached(Milestone::ContributoPerso);
            s.comuni_rinunciato += reached(Milestone::ContributoRinunciato);
            s.con_previsione += i64::from(!e.forecasts.is_empty());
            s.a_rischio += reached(Milestone::ARischio);
            // Outcome steps come in programme order, like `maturato_per_step`.
            for (earned, step) in s.maturato_per_step.iter_mut().zip(&o.steps) {
                if step.tranche == TrancheStatus::Earned {
                    earned.eur += step.tranche_eur;
                }
            }
            if let Some(row) = province.iter_mut().find(|p| p.sigla == e.record.sigla_provincia) {
                row.totale += 1;
                row.supportati += reached(Milestone::Supportati);
                row.primo_step += reached(Milestone::PrimoStep);
                row.tutti_obiettivi += reached(Milestone::TuttiObiettivi);
                row.contributo_assegnato += o.grant_eur;
                row.contributo_maturato += o.earned_eur;
                row.contributo_possibile += o.possible_eur;
                row.contributo_perso += o.lost_eur;
                row.contributo_rinunciato += o.renounced_eur;
                match f.adhesion {
                    AdhesionStatus::Aderente => row.aderenti += 1,
                    AdhesionStatus::AderenteInRitardo => row.in_ritardo += 1,
                    AdhesionStatus::NonAderente | AdhesionStatus::Rinuncia => row.non_aderenti += 1,
                }
            }
        }
        s.province = province;
        s.obiettivi = obiettivi;
        s
    }
}

/// Past days' snapshots kept at once: a handful of days compared in a meeting (each is a few
/// MB with 257 comuni); past it the least recently asked day is dropped, which only costs a
/// rebuild.
pub const PAST_DAYS_KEPT: usize = 8;

/// The current [`Snapshot`], rebuilt when the data or the day changes, and the snapshots of a
/// few past days (`?al=`), rebuilt when the data changes.
#[derive(Debug, Default)]
pub struct SnapshotCache {
    current: RwLock<Option<Arc<Snapshot>>>,
    /// Most recently asked last. One lock held across a build: requests for a past day that
    /// arrive together (the dashboard asks for its figures and its pictures at once) wait for
    /// one evaluation instead of each doing it, and past days never evaluate in parallel.
    past: tokio::sync::Mutex<std::collections::VecDeque<Arc<Snapshot>>>,
}

impl SnapshotCache {
    /// The snapshot for today. One cheap query (the data version) per call; a rebuild only after
    /// a write or at midnight. Concurrent callers wait for one rebuild instead of each doing it.
    pub async fn get(&self, db: &Db, programme_code: &str) -> Result<Arc<Snapshot>, AppError> {
        let version = db.data_version().await?;
        self.get_at(db, programme_code, version).await
    }

    /// The snapshot for today for a caller that read data `version`. A snapshot built at that
    /// version **or a later one** serves it: it holds every write the caller could know of. An
    /// equality test made every request that had read the version before a write, and then
    /// queued behind the rebuild, rebuild once more on its turn; under load the queue grew with
    /// the rebuilds (the soak at 200 operations/s of 04/12/2026: 2,712 rebuilds for 391 data
    /// versions in seven minutes, then every answer later than 30 s).
    pub async fn get_at(
        &self,
        db: &Db,
        programme_code: &str,
        version: i64,
    ) -> Result<Arc<Snapshot>, AppError> {
        let today = today();
        let fresh = |s: &Option<Arc<Snapshot>>| {
            s.as_ref()
                .filter(|s| s.version >= version && s.as_of == today && s.programme.code == programme_code)
                .cloned()
        };
        if let Some(s) = fresh(&*self.current.read().await) {
            return Ok(s);
        }
        let mut slot = self.current.write().await;
        if let Some(s) = fresh(&slot) {
            return Ok(s);
        }
        let started = std::time::Instant::now();
        let built = Snapshot::build(db, programme_code, today).await;
        if built.is_err() {
            crate::ops::metrics::snapshot_failed();
        }
        let snapshot = Arc::new(built?);
        crate::ops::metrics::snapshot_rebuilt(started.elapsed());
        tracing::info!(
            version,
            comuni = snapshot.comuni.len(),
            elapsed_ms = started.elapsed().as_millis() as u64,
            "snapshot rebuilt"
        );
        *slot = Some(snapshot.clone());
        Ok(snapshot)
    }

    /// The snapshot of `day` (a past day, already checked by the caller) for data `version`
    /// (the current one): cached per day, dropped when the data changes. A set of
    /// [`Snapshot::build`]'s set-based queries on a miss, nothing else.
    pub async fn get_on(
        &self,
        db: &Db,
        programme_code: &str,
        day: NaiveDate,
        version: i64,
    ) -> Result<Arc<Snapshot>, AppError> {
        let mut past = self.past.lock().await;
        // A write made every kept day stale; a day built at a later version than `version` (the
        // caller's) is not stale for it (see [`SnapshotCache::get_at`]).
        past.retain(|s| s.version >= version && s.programme.code == programme_code);
        if let Some(i) = past.iter().position(|s| s.as_of == day) {
            let s = past.remove(i).expect("position is inside");
            past.push_back(s.clone());
            return Ok(s);
        }
        let started = std::time::Instant::now();
        let snapshot = Arc::new(Snapshot::build(db, programme_code, day).await?);
        tracing::info!(
            day = %day,
            version = snapshot.version,
            elapsed_ms = started.elapsed().as_millis() as u64,
            "snapshot of a past day built"
        );
        if past.len() >= PAST_DAYS_KEPT {
            past.pop_front();
        }
        past.push_back(snapshot.clone());
        Ok(snapshot)
    }
}

/// Whether `day` may be asked about: from the programme's start to `today`, both included
/// (before the start the rules have nothing to say; after today nothing is recorded yet). The
/// refusal says the allowed range in words.
pub fn check_day(programme: &Programme, day: NaiveDate, today: NaiveDate) -> Result<(), AppError> {
    if day < programme.start || day > today {
        return Err(AppError::BadRequest(format!(
            "Giorno non consultabile: {}. Si può indicare un giorno dal {} (inizio del programma) al {} (oggi).",
            crate::format::date(day),
            crate::format::date(programme.start),
            crate::format::date(today)
        )));
    }
    Ok(())
}

/// Today by the server clock (run it with TZ=Europe/Rome): the rules' "as of" day.
pub fn today() -> NaiveDate {
    chrono::Local::now().date_naive()
}
