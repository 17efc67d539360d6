//! The programme's rules as plain Rust over data.
//!
//! Nothing here touches the database or the UI: the data layer loads a [`Programme`] (its steps,
//! objectives and funding bands are rows, so a second programme needs no code) and one
//! [`ComuneFacts`] per comune, and [`evaluate`] answers what the fund's text asks: which
//! objective was reached and on which day, whether each step was reached by its deadline, and how
//! much of the grant was earned, lost or is still possible. Keeping the rules here, rather than in
//! SQL or in views, is what lets every page, export and the `check` command agree, and lets the
//! edge cases (exactly 70%, 9 against 10 services, a day late) be unit-tested.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

pub mod forecast;
mod types;
pub use types::*;

#[cfg(test)]
pub(crate) mod tests;

/// A programme as the rules need it: steps with deadlines and tranche shares, objectives with
/// their rule and threshold, grant bands by population.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Programme {
    pub code: String,
    pub name: String,
    /// First day of the project: services activated from this day count as "activated during
    /// the project" (Fondo Innovazione: the avviso of 15/12/2020).
    pub start: NaiveDate,
    /// Last day of the project (the final deadline).
    pub end: NaiveDate,
    /// Ordered by `order`.
    pub steps: Vec<Step>,
    pub objectives: Vec<Objective>,
    pub bands: Vec<FundingBand>,
}

/// One step ("primo step", "finale") with its deadline and its share of the grant.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Step {
    pub code: String,
    pub name: String,
    pub order: i64,
    pub deadline: NaiveDate,
    /// Percentage of the grant paid when the step is reached by its deadline.
    pub share_percent: i64,
    /// The last day a comune may renounce this step's tranche alone (a [`Renunciation::Saldo`]);
    /// `None`: the tranche can only go with the whole grant. Fondo Innovazione: the final
    /// step (saldo, 80%), by 26/05/2022 (the Region's letter to the mayors of May 2022).
    pub renounce_by: Option<NaiveDate>,
}

/// A grant band: `min_population` inclusive, `max_population` exclusive (`None` = no upper
/// bound). Fondo Innovazione: a comune of exactly 5,000 residents is in the 5,000–40,000 band.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FundingBand {
    pub min_population: i64,
    pub max_population: Option<i64>,
    pub amount_eur: i64,
}

/// One objective of a step on one platform.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Objective {
    pub code: String,
    pub step: String,
    pub platform: Platform,
    pub rule: RuleKind,
    /// A count for [`RuleKind::MinServices`], a percentage for [`RuleKind::ShareOfApplicable`],
    /// unused for [`RuleKind::AllServicesSpidAndCie`].
    pub threshold: i64,
    /// pagoPA step 1: a comune already on the platform before `new_since` must activate this many
    /// *new* services instead of `threshold` services.
    pub threshold_if_already_on: Option<i64>,
    pub new_since: Option<NaiveDate>,
    /// The comune must have joined the platform (pagoPA, App IO) for the objective to hold.
    pub requires_platform_adhesion: bool,
    pub deadline: NaiveDate,
    /// The rule in Italian words, shown beside the status.
    pub description: String,
    /// False where no primary source confirms the rule (the final SPID/CIE objective).
    pub confirmed_by_source: bool,
}

/// Everything the rules read about one comune. Dates are the days something happened; a
/// service without an activation date is not active.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ComuneFacts {
    pub population: i64,
    pub adhesion: AdhesionStatus,
    pub adhesion_date: Option<NaiveDate>,
    /// Day the comune joined pagoPA (may be years before the programme).
    pub pagopa_joined: Option<NaiveDate>,
    /// Day the comune's App IO adhesion (contract) took effect.
    pub io_joined: Option<NaiveDate>,
    /// On App IO through the Region (ente aggregatore). The rules ignore it; the figures count it.
    pub io_via_region: bool,
    pub pagopa: Vec<PagoPaService>,
    pub io: Vec<IoService>,
    pub online: Vec<OnlineService>,
    /// The evidence uploaded for each objective that has any: how many versions, and the
    /// Region's latest review of the latest version.
    pub evidence: Vec<EvidenceFact>,
    /// What the comune renounced and on which day; read only for supported comuni, and only from
    /// its day on (evaluated before that day, the grant is whole).
    pub renunciation: Option<RenunciationFact>,
}

/// A dated renunciation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RenunciationFact {
    pub kind: Renunciation,
    pub on: NaiveDate,
}

/// Evidence of one objective of one comune, as the rules read it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct EvidenceFact {
    pub objective: String,
    /// Uploaded versions (the latest is the one that counts).
    pub versions: i64,
    /// The latest review of the latest version; `None` while it waits for one.
    pub latest_review: Option<ReviewOutcome>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct PagoPaService {
    /// False for collection services the comune does not run (e.g. imposta di soggiorno where it
    /// is not levied): they are left out of every pagoPA rule, numerator and denominator.
    pub applicable: bool,
    /// The day the service was recorded as applicable (`None`: applicable since always, as for
    /// rows recorded before the day was kept). An active service is applicable at least from its
    /// activation: see [`PagoPaService::applicable_on`].
    pub applicable_since: Option<NaiveDate>,
    pub active_since: Option<NaiveDate>,
    pub deactivated_on: Option<NaiveDate>,
    /// Runs on the Region's MyPay platform. The rules ignore it; the figures count it.
    pub on_mypay: bool,
    /// The validity of the service's taxonomy code (`taxonomy_entry.valid_from`/`valid_to`,
    /// both days included; `None`: open). A code not valid on a day is no collection service
    /// on that day.
    pub code_valid_from: Option<NaiveDate>,
    pub code_valid_to: Option<NaiveDate>,
}

impl PagoPaService {
    /// Whether the service is in the comune's pagoPA rules on `day` (the 70% denominator and
    /// the services step 1 counts): applicable, recorded as such by then (or active by then),
    /// and its taxonomy code valid that day. A service recorded as applicable in 2023 is not
    /// in a 2021 denominator.
    pub fn applicable_on(&self, day: NaiveDate) -> bool {
        let since = self.applicable_since.map(|a| self.active_since.map_or(a, |s| s.min(a)));
        self.applicable
            && since.is_none_or(|s| s <= day)
            && self.code_valid_from.is_none_or(|f| f <= day)
            && self.code_valid_to.is_none_or(|t| day <= t)
    }

    /// Applicable and active on `day`: the numerator of the pagoPA rules.
    pub fn counts_active_on(&self, day: NaiveDate) -> bool {
        self.applicable_on(day) && on_at(self.active_since, self.deactivated_on, day)
    }

    /// The days on which the service enters or leaves the pagoPA rules.
    fn event_days(&self) -> impl Iterator<Item = NaiveDate> {
        [
            self.applicable_since,
            self.active_since,
            self.deactivated_on,
            self.code_valid_from,
            self.code_valid_to.and_then(|t| t.succ_opt()),
        ]
        .into_iter()
        .flatten()
    }
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct IoService {
    pub published_since: Option<NaiveDate>,
    pub withdrawn_on: Option<NaiveDate>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct OnlineService {
    /// The day the service was recorded (`None`: since always, as for rows recorded before the
    /// day was kept). It enters the SPID/CIE denominator from then, or from its SPID/CIE day if
    /// earlier: see [`OnlineService::online_on`].
    pub online_since: Option<NaiveDate>,
    pub spid_since: Option<NaiveDate>,
    pub cie_since: Option<NaiveDate>,
}

impl OnlineService {
    /// Whether the service existed on `day`, for the "every online service" rule: a service put
    /// online in 2023 is not in a 2021 denominator.
    pub fn online_on(&self, day: NaiveDate) -> bool {
        let since = self
            .online_since
            .map(|o| [Some(o), self.spid_since, self.cie_since].into_iter().flatten().min().unwrap_or(o));
        since.is_none_or(|s| s <= day)
    }
}

/// The result of one objective for one comune.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ObjectiveOutcome {
    pub code: String,
    /// First day on which the rule held (not after `as_of`).
    pub reached_on: Option<NaiveDate>,
    /// Reached on or before the objective's deadline.
    pub on_time: bool,
    /// The measured value on `as_of` and the value the rule asks for, for display
    /// ("7 servizi su 10 richiesti").
    pub progress: Progress,
    /// Reached and proven: see [`verified`].
    pub verified: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StepOutcome {
    pub code: String,
    /// The day the last of the step's objectives was reached; `None` while one is missing.
    pub reached_on: Option<NaiveDate>,
    /// Every objective of the step reached by the step's deadline.
    pub on_time: bool,
    pub tranche_eur: i64,
    pub tranche: TrancheStatus,
}

/// The outcome of a whole programme for one comune.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ComuneOutcome {
    pub supported: bool,
    pub objectives: Vec<ObjectiveOutcome>,
    pub steps: Vec<StepOutcome>,
    /// Every objective of every step reached by the programme's last deadline.
    pub all_objectives_on_time: bool,
    /// Day the last objective was reached, if all were.
    pub all_objectives_on: Option<NaiveDate>,
    pub grant_eur: i64,
    pub earned_eur: i64,
    pub lost_eur: i64,
    pub renounced_eur: i64,
    pub possible_eur: i64,
}

impl ComuneOutcome {
    pub fn step(&self, code: &str) -> Option<&StepOutcome> {
        self.steps.iter().find(|s| s.code == code)
    }
}

impl Programme {
    /// The name of the step `code` ("Primo step", …); empty for a code the programme lacks.
    pub fn step_name(&self, code: &str) -> String {
        self.steps.iter().find(|s| s.code == code).map(|s| s.name.clone()).unwrap_or_default()
    }

    /// The grant of a comune of `population` residents; `None` when no band covers it.
    pub fn grant_for(&self, population: i64) -> Option<i64> {
        self.bands
            .iter()
            .find(|b| population >= b.min_population && b.max_population.is_none_or(|max| population < max))
            .map(|b| b.amount_eur)
    }

    /// The first step, by order (step 1).
    pub fn first_step(&self) -> Option<&Step> {
        self.steps.iter().min_by_key(|s| s.order)
    }

    /// The last step, by order (the final objectives).
    pub fn last_step(&self) -> Option<&Step> {
        self.steps.iter().max_by_key(|s| s.order)
    }

    /// The last day a saldo renunciation is accepted: the earliest `renounce_by` of the steps
    /// that have one. `None` when the programme has no step that can be renounced alone.
    pub fn saldo_renunciation_limit(&self) -> Option<NaiveDate> {
        self.steps.iter().filter_map(|s| s.renounce_by).min()
    }

    /// Whether a renunciation of `kind` dated `on` is admissible under this programme: see
    /// [`check_renunciation`].
    pub fn check_renunciation(&self, kind: Renunciation, on: NaiveDate) -> Result<(), String> {
        check_renunciation(self.saldo_renunciation_limit(), kind, on)
    }

    /// Whether `day` falls inside the project (start and end included).
    pub fn during(&self, day: NaiveDate) -> bool {
        day >= self.start && day <= self.end
    }
}

/// Whether a renunciation of `kind` dated `on` is admissible, with the Italian reason when it is
/// not. The whole grant can be renounced on any day; the saldo only up to `saldo_limit`
/// ([`Programme::saldo_renunciation_limit`], a row of `programme_step`, not a constant here), and
/// not at all when the programme has no such limit.
pub fn check_renunciation(
    saldo_limit: Option<NaiveDate>,
    kind: Renunciation,
    on: NaiveDate,
) -> Result<(), String> {
    match kind {
        Renunciation::Contributo => Ok(()),
        Renunciation::Saldo => match saldo_limit {
            None => Err("Il programma non prevede la rinuncia al solo saldo: \
                         si può rinunciare soltanto all'intero contributo."
                .to_string()),
            Some(limit) if on > limit => Err(format!(
                "La rinuncia al saldo si poteva presentare entro il {}: la data indicata, {}, è successiva. \
                 Resta possibile la rinuncia all'intero contributo.",
                limit.format("%d/%m/%Y"),
                on.format("%d/%m/%Y")
            )),
            Some(_) => Ok(()),
        },
    }
}

/// Whether `code` has the shape of a pagoPA collection-service taxonomy code: `9/`, seven digits
/// (type of creditor, macro area, service type), two capital letters (legal reason), `/`, as in
/// `9/0101101IM/` (TARI). The shape is all we can check until the official list is imported.
pub fn is_taxonomy_code(code: &str) -> bool {
    let b = code.as_bytes();
    b.len() == 12
        && code.starts_with("9/")
        && b[2..9].iter().all(u8::is_ascii_digit)
        && b[9..11].iter().all(u8::is_ascii_uppercase)
        && b[11] == b'/'
}

/// Whether something that started on `since` and stopped on `until` (exclusive) is on at `day`.
/// The one definition of "active" for services, shared by the rules and the figures.
pub fn on_at(since: Option<NaiveDate>, until: Option<NaiveDate>, day: NaiveDate) -> bool {
    since.is_some_and(|s| s <= day) && until.is_none_or(|u| u > day)
}

/// The measured value of one objective's rule on `day`, and the value it must reach.
fn measure(objective: &Objective, facts: &ComuneFacts, day: NaiveDate) -> Progress {
    let joined = match objective.platform {
        Platform::PagoPa => facts.pagopa_joined,
        Platform::AppIo => facts.io_joined,
        Platform::SpidCie => None,
    };
    let adhesion_ok = !objective.requires_platform_adhesion || joined.is_some_and(|j| j <= day);
    match objective.rule {
        RuleKind::MinServices => {
            // A comune already on the platform before `new_since` must show new services.
            let already_on = match (objective.new_since, objective.threshold_if_already_on) {
                (Some(since), Some(_)) => joined.is_some_and(|j| j < since),
                _ => false,
            };
            let counts = |active: Option<NaiveDate>| {
                !already_on || active.zip(objective.new_since).is_some_and(|(a, s)| a >= s)
            };
            let value = match objective.platform {
                Platform::PagoPa => facts
                    .pagopa
                    .iter()
                    .filter(|s| s.counts_active_on(day))
                    .filter(|s| counts(s.active_since))
                    .count(),
                Platform::AppIo => facts
                    .io
                    .iter()
                    .filter(|s| on_at(s.published_since, s.withdrawn_on, day))
                    .filter(|s| counts(s.published_since))
                    .count(),
                Platform::SpidCie => {
                    facts.online.iter().filter(|s| s.spid_since.is_some_and(|d| d <= day)).count()
                }
            } as i64;
            let required = if already_on {
                objective.threshold_if_already_on.unwrap_or(objective.threshold)
            } else {
                objective.threshold
            };
            Progress {
                value,
                required,
                unit: if already_on { ProgressUnit::NewServices } else { ProgressUnit::Services },
                holds: adhesion_ok && value >= required,
            }
        }
        RuleKind::ShareOfApplicable => {
            // Numerator and denominator as they stood on `day`: services recorded as applicable
            // later, or whose taxonomy code was not valid then, are in neither.
            let total = facts.pagopa.iter().filter(|s| s.applicable_on(day)).count() as i64;
            let active = facts.pagopa.iter().filter(|s| s.counts_active_on(day)).count() as i64;
            // Integer arithmetic: exactly 70% holds, 69.99% does not.
            let holds = adhesion_ok && total > 0 && active * 100 >= objective.threshold * total;
            Progress {
                value: active,
                required: (objective.threshold * total + 99) / 100,
                unit: ProgressUnit::ApplicableServices { total },
                holds,
            }
        }
        RuleKind::AllServicesSpidAndCie => {
            // "Every online service" means every service online on `day`, not every one known today.
            let online: Vec<&OnlineService> = facts.online.iter().filter(|s| s.online_on(day)).collect();
            let total = online.len() as i64;
            let both = online
                .iter()
                .filter(|s| s.spid_since.is_some_and(|d| d <= day) && s.cie_since.is_some_and(|d| d <= day))
                .count() as i64;
            Progress {
                value: both,
                required: total.max(1),
                unit: ProgressUnit::SpidAndCieServices,
                holds: adhesion_ok && total > 0 && both == total,
            }
        }
    }
}

/// The days on which an objective's rule can switch from false to true: the rule only reads
/// dated events (activation, applicability, a taxonomy code's validity, a service going online,
/// adhesion), so the first such day on which it holds is the day reached. Every fact is read as
/// it stood on the day measured, so rows dated after that day cannot move it.
fn candidate_days(objective: &Objective, facts: &ComuneFacts) -> Vec<NaiveDate> {
    let mut days: Vec<NaiveDate> = match objective.platform {
        Platform::PagoPa => facts.pagopa.iter().flat_map(PagoPaService::event_days).collect(),
        Platform::AppIo => {
            facts.io.iter().flat_map(|s| [s.published_since, s.withdrawn_on]).flatten().collect()
        }
        Platform::SpidCie => {
            facts.online.iter().flat_map(|s| [s.online_since, s.spid_since, s.cie_since]).flatten().collect()
        }
    };
    days.extend(match objective.platform {
        Platform::PagoPa => facts.pagopa_joined,
        Platform::AppIo => facts.io_joined,
        Platform::SpidCie => None,
    });
    days.sort_unstable();
    days.dedup();
    days
}

/// Evaluates one objective for one comune as known on `as_of`.
pub fn evaluate_objective(objective: &Objective, facts: &ComuneFacts, as_of: NaiveDate) -> ObjectiveOutcome {
    let reached_on = candidate_days(objective, facts)
        .into_iter()
        .take_while(|d| *d <= as_of)
        .find(|d| measure(objective, facts, *d).holds);
    let latest_review =
        facts.evidence.iter().find(|e| e.objective == objective.code).and_then(|e| e.latest_review);
    ObjectiveOutcome {
        code: objective.code.clone(),
        reached_on,
        on_time: reached_on.is_some_and(|d| d <= objective.deadline),
        progress: measure(objective, facts, as_of),
        verified: verified(reached_on.is_some(), latest_review),
    }
}

/// An objective is verified when its rule holds on the service data **and** the latest evidence
/// uploaded for it was reviewed `positivo`: the data says it is reached, a document proves it.
/// A positive review of an older version does not count once a newer one is uploaded (the
/// newer one is what the comune now stands by), nor does evidence for an objective the data
/// does not show reached (the document would contradict the registry: the Region must look).
pub fn verified(reached: bool, latest_review: Option<ReviewOutcome>) -> bool {
    reached && latest_review == Some(ReviewOutcome::Positivo)
}

/// Evaluates a whole programme for one comune as known on `as_of` (normally today): objectives,
/// steps, tranches and euros.
///
/// Only supported comuni (`aderente`, `aderente_in_ritardo`) reach steps and earn tranches;
/// objectives are still measured for the others, so a comune page can show where it stands.
/// A comune whose adhesion is `rinuncia` (it withdrew its adhesion) has every tranche marked
/// renounced: payments are not recorded yet, so a tranche paid before cannot be told apart.
/// A supported comune with a dated [`RenunciationFact`] keeps its steps (reached, on time: facts
/// of their deadlines) and, from the renunciation's day, has the renounced tranches marked
/// renounced: the saldo ([`Step::renounce_by`] steps) or all of them.
///
/// An objective counts as reached from the first day its rule held: a service switched off later
/// does not undo it. The sources do not say whether the fund re-checked the state on the
/// deadline day; this is our reading, stated in the README.
pub fn evaluate(programme: &Programme, facts: &ComuneFacts, as_of: NaiveDate) -> ComuneOutcome {
    let supported = facts.adhesion.is_supported();
    let objectives: Vec<ObjectiveOutcome> =
        programme.objectives.iter().map(|o| evaluate_objective(o, facts, as_of)).collect();
    let band = programme.grant_for(facts.population).unwrap_or(0);
    let granted = supported || facts.adhesion == AdhesionStatus::Rinuncia;
    let grant_eur = if granted { band } else { 0 };

    let mut steps = Vec::with_capacity(programme.steps.len());
    for step in &programme.steps {
        let own: Vec<&ObjectiveOutcome> = programme
            .objectives
            .iter()
            .zip(&objectives)
            .filter(|(o, _)| o.step == step.code)
            .map(|(_, r)| r)
            .collect();
        let reached_on = if supported && !own.is_empty() {
            own.iter().map(|r| r.reached_on).collect::<Option<Vec<_>>>().and_then(|d| d.into_iter().max())
        } else {
            None
        };
        let on_time = reached_on.is_some_and(|d| d <= step.deadline);
        let tranche_eur = (grant_eur * step.share_percent + 50) / 100;
        let renounced = supported
            && facts.renunciation.as_ref().is_some_and(|r| {
                r.on <= as_of
                    && match r.kind {
                        Renunciation::Contributo => true,
                        Renunciation::Saldo => step.renounce_by.is_some(),
                    }
            });
        let tranche = if !granted {
            TrancheStatus::NotApplicable
        } else if facts.adhesion == AdhesionStatus::Rinuncia || renounced {
            TrancheStatus::Renounced
        } else if on_time {
            TrancheStatus::Earned
        } else if as_of > step.deadline {
            TrancheStatus::Lost
        } else {
            TrancheStatus::Possible
        };
        steps.push(StepOutcome { code: step.code.clone(), reached_on, on_time, tranche_eur, tranche });
    }

    let final_deadline = programme.last_step().map(|s| s.deadline);
    let all_objectives_on = if supported && !objectives.is_empty() {
        objectives.iter().map(|r| r.reached_on).collect::<Option<Vec<_>>>().and_then(|d| d.into_iter().max())
    } else {
        None
    };
    let all_objectives_on_time = all_objectives_on.zip(final_deadline).is_some_and(|(d, end)| d <= end);
    let sum =
        |status: TrancheStatus| steps.iter().filter(|s| s.tranche == status).map(|s| s.tranche_eur).sum();

    ComuneOutcome {
        supported,
        earned_eur: sum(TrancheStatus::Earned),
        lost_eur: sum(TrancheStatus::Lost),
        renounced_eur: sum(TrancheStatus::Renounced),
        possible_eur: sum(TrancheStatus::Possible),
        objectives,
        steps,
        all_objectives_on_time,
        all_objectives_on,
        grant_eur,
    }
}
