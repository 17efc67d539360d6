//! The comuni: the filterable list, one comune's page and the CSV export (the open-data
//! contract). Types here travel between server and browser; the server functions are in
//! [`server`], the views in [`ui`].

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::rules::{AdhesionStatus, Platform, TrancheStatus};

#[cfg(feature = "ssr")]
pub mod export;
pub mod server;
pub mod ui;

/// The six provinces of Puglia, as (sigla, name), in the order the UI lists them.
pub const PROVINCE: [(&str, &str); 6] = [
    ("BA", "Bari"),
    ("BT", "Barletta-Andria-Trani"),
    ("BR", "Brindisi"),
    ("FG", "Foggia"),
    ("LE", "Lecce"),
    ("TA", "Taranto"),
];

/// The filters shared by `/comuni`, the dashboard (cards, charts, map) and `/export/comuni.csv`,
/// as they appear in the URL (`?provincia=LE&adesione=aderente&popolazione=0-5000`). Empty
/// values mean "all". One filter, applied in one place ([`ValidFilter`] over the snapshot), is
/// what keeps the cards, the charts, the map and the CSV in agreement.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ComuniFilter {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provincia: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub adesione: Option<String>,
    /// A population band as `min-max` (max exclusive) or `min-` (no upper bound).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub popolazione: Option<String>,
    /// `pagopa`, `io` or `spid_cie`: comuni with at least one service active on it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub piattaforma: Option<String>,
    /// The comuni behind one headline figure (see [`Milestone`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub traguardo: Option<String>,
}

/// A filter value that is not one of the known ones, said in Italian.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum FilterError {
    #[error("Provincia sconosciuta: «{0}». Valori ammessi: BA, BT, BR, FG, LE, TA.")]
    Provincia(String),
    #[error("Stato di adesione sconosciuto: «{0}». Valori ammessi: aderente, aderente_in_ritardo, non_aderente, rinuncia.")]
    Adesione(String),
    #[error("Fascia di popolazione non valida: «{0}». Usare «minimo-massimo» (ad esempio 0-5000) oppure «minimo-» (ad esempio 200000-).")]
    Popolazione(String),
    #[error("Piattaforma sconosciuta: «{0}». Valori ammessi: pagopa, io, spid_cie.")]
    Piattaforma(String),
    #[error("Traguardo sconosciuto: «{0}».")]
    Traguardo(String),
}

/// A population band: `min` inclusive, `max` exclusive (`None` = no upper bound), as the
/// programme's funding bands are written.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PopulationBand {
    pub min: i64,
    pub max: Option<i64>,
}

impl PopulationBand {
    /// `0-5000`, `200000-`.
    pub fn parse(s: &str) -> Option<Self> {
        let (a, b) = s.split_once('-')?;
        let min = a.trim().parse::<i64>().ok().filter(|n| *n >= 0)?;
        let max = match b.trim() {
            "" => None,
            b => Some(b.parse::<i64>().ok().filter(|m| *m > min)?),
        };
        Some(PopulationBand { min, max })
    }

    pub fn code(&self) -> String {
        match self.max {
            Some(max) => format!("{}-{max}", self.min),
            None => format!("{}-", self.min),
        }
    }

    pub fn contains(&self, population: i64) -> bool {
        population >= self.min && self.max.is_none_or(|m| population < m)
    }

    /// In words: "fino a 4.999 abitanti", "da 5.000 a 39.999 abitanti", "200.000 abitanti e oltre".
    pub fn label(&self) -> String {
        use crate::format::int;
        match self.max {
            Some(max) if self.min == 0 => format!("fino a {} abitanti", int(max - 1)),
            Some(max) => format!("da {} a {} abitanti", int(self.min), int(max - 1)),
            None => format!("{} abitanti e oltre", int(self.min)),
        }
    }
}

/// The comuni behind each headline figure of the dashboard: every card links to `/comuni` with
/// its milestone, so the list shows exactly the comuni the figure counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Milestone {
    /// Aderenti and aderenti in ritardo.
    Supportati,
    PrimoStepInTempo,
    /// Step 1 reached, on time or late.
    PrimoStep,
    TuttiObiettivi,
    /// At least one collection service active on MyPay.
    MyPay,
    /// At least one MyPay service activated during the project.
    MyPayNelProgetto,
    IoTramiteRegione,
    ContributoMaturato,
    ContributoPossibile,
    ContributoPerso,
    ContributoRinunciato,
}

impl Milestone {
    pub const ALL: [Milestone; 11] = [
        Milestone::Supportati,
        Milestone::PrimoStepInTempo,
        Milestone::PrimoStep,
        Milestone::TuttiObiettivi,
        Milestone::MyPay,
        Milestone::MyPayNelProgetto,
        Milestone::IoTramiteRegione,
        Milestone::ContributoMaturato,
        Milestone::ContributoPossibile,
        Milestone::ContributoPerso,
        Milestone::ContributoRinunciato,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Milestone::Supportati => "supportati",
            Milestone::PrimoStepInTempo => "primo_step_in_tempo",
            Milestone::PrimoStep => "primo_step",
            Milestone::TuttiObiettivi => "tutti_obiettivi",
            Milestone::MyPay => "mypay",
            Milestone::MyPayNelProgetto => "mypay_nel_progetto",
            Milestone::IoTramiteRegione => "io_tramite_regione",
            Milestone::ContributoMaturato => "contributo_maturato",
            Milestone::ContributoPossibile => "contributo_possibile",
            Milestone::ContributoPerso => "contributo_perso",
            Milestone::ContributoRinunciato => "contributo_rinunciato",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|m| m.code() == code)
    }

    /// In words, for the list's heading and the select.
    pub fn label(self) -> &'static str {
        match self {
            Milestone::Supportati => "Aderenti (anche in ritardo)",
            Milestone::PrimoStepInTempo => "Primo step raggiunto entro la scadenza",
            Milestone::PrimoStep => "Primo step raggiunto (anche in ritardo)",
            Milestone::TuttiObiettivi => "Tutti gli obiettivi raggiunti entro le scadenze",
            Milestone::MyPay => "Con servizi pagoPA attivi su MyPay",
            Milestone::MyPayNelProgetto => "Con servizi attivati su MyPay durante il progetto",
            Milestone::IoTramiteRegione => "Su App IO tramite la Regione",
            Milestone::ContributoMaturato => "Con contributo maturato",
            Milestone::ContributoPossibile => "Con contributo ancora possibile",
            Milestone::ContributoPerso => "Con contributo perso",
            Milestone::ContributoRinunciato => "Con contributo rinunciato",
        }
    }
}

/// A validated filter.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ValidFilter {
    pub provincia: Option<&'static str>,
    pub adesione: Option<AdhesionStatus>,
    pub popolazione: Option<PopulationBand>,
    pub piattaforma: Option<Platform>,
    pub traguardo: Option<Milestone>,
}

fn non_empty(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

impl ComuniFilter {
    /// Checks the raw values; empty strings mean "no filter".
    pub fn validate(&self) -> Result<ValidFilter, FilterError> {
        let provincia = match non_empty(&self.provincia) {
            None => None,
            Some(p) => Some(
                PROVINCE
                    .iter()
                    .map(|(s, _)| *s)
                    .find(|s| s.eq_ignore_ascii_case(p))
                    .ok_or_else(|| FilterError::Provincia(p.to_string()))?,
            ),
        };
        let adesione = match non_empty(&self.adesione) {
            None => None,
            Some(a) => {
                Some(AdhesionStatus::from_code(a).ok_or_else(|| FilterError::Adesione(a.to_string()))?)
            }
        };
        let popolazione = match non_empty(&self.popolazione) {
            None => None,
            Some(b) => Some(PopulationBand::parse(b).ok_or_else(|| FilterError::Popolazione(b.to_string()))?),
        };
        let piattaforma = match non_empty(&self.piattaforma) {
            None => None,
            Some(p) => Some(Platform::from_code(p).ok_or_else(|| FilterError::Piattaforma(p.to_string()))?),
        };
        let traguardo = match non_empty(&self.traguardo) {
            None => None,
            Some(t) => Some(Milestone::from_code(t).ok_or_else(|| FilterError::Traguardo(t.to_string()))?),
        };
        Ok(ValidFilter { provincia, adesione, popolazione, piattaforma, traguardo })
    }
}

impl ValidFilter {
    /// The query string of this filter, for links (`provincia=LE&adesione=aderente`).
    pub fn query(&self) -> String {
        let mut parts = Vec::new();
        if let Some(p) = self.provincia {
            parts.push(format!("provincia={p}"));
        }
        if let Some(a) = self.adesione {
            parts.push(format!("adesione={}", a.code()));
        }
        if let Some(b) = self.popolazione {
            parts.push(format!("popolazione={}", b.code()));
        }
        if let Some(p) = self.piattaforma {
            parts.push(format!("piattaforma={}", p.code()));
        }
        if let Some(t) = self.traguardo {
            parts.push(format!("traguardo={}", t.code()));
        }
        parts.join("&")
    }

    /// The same filter narrowed to one milestone (the cards' links).
    pub fn with_milestone(&self, m: Milestone) -> ValidFilter {
        ValidFilter { traguardo: Some(m), ..self.clone() }
    }

    /// The same filter narrowed to one province (the tables' links).
    pub fn with_provincia(&self, sigla: &'static str) -> ValidFilter {
        ValidFilter { provincia: Some(sigla), ..self.clone() }
    }

    /// The query string back as the raw filter (what the browser's URL holds).
    pub fn raw(&self) -> ComuniFilter {
        ComuniFilter {
            provincia: self.provincia.map(str::to_string),
            adesione: self.adesione.map(|a| a.code().to_string()),
            popolazione: self.popolazione.map(|b| b.code()),
            piattaforma: self.piattaforma.map(|p| p.code().to_string()),
            traguardo: self.traguardo.map(|t| t.code().to_string()),
        }
    }
}

/// A choice in a filter's select: the URL value and its label.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FilterChoice {
    pub value: String,
    pub label: String,
}

/// One row of the `/comuni` table.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ComuneListRow {
    pub codice_istat: String,
    pub denominazione: String,
    pub sigla_provincia: String,
    pub popolazione: i64,
    pub adesione: AdhesionStatus,
    pub primo_step: StepState,
    pub finale: StepState,
}

/// Where a comune stands on one step, in words for the tables.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum StepState {
    /// The comune is not in the programme.
    NotApplicable,
    OnTime(NaiveDate),
    Late(NaiveDate),
    NotReached,
}

impl StepState {
    /// The state of a step or objective that applies to the comune, from when it was reached.
    pub fn reached(reached_on: Option<NaiveDate>, on_time: bool) -> Self {
        match reached_on {
            Some(d) if on_time => StepState::OnTime(d),
            Some(d) => StepState::Late(d),
            None => StepState::NotReached,
        }
    }

    pub fn label(&self) -> String {
        match self {
            StepState::NotApplicable => "Non previsto".to_string(),
            StepState::OnTime(d) => format!("Raggiunto il {}", crate::format::date(*d)),
            StepState::Late(d) => format!("Raggiunto in ritardo il {}", crate::format::date(*d)),
            StepState::NotReached => "Non raggiunto".to_string(),
        }
    }

    /// A CSS modifier: the colour only repeats what the label says.
    pub fn css(&self) -> &'static str {
        match self {
            StepState::NotApplicable => "stato stato-na",
            StepState::OnTime(_) => "stato stato-ok",
            StepState::Late(_) => "stato stato-ritardo",
            StepState::NotReached => "stato stato-no",
        }
    }
}

/// Everything a comune's page shows.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ComuneDetail {
    pub codice_istat: String,
    pub denominazione: String,
    pub sigla_provincia: String,
    pub provincia: String,
    pub codice_catastale: String,
    pub codice_ipa: String,
    pub popolazione: i64,
    pub programma: String,
    pub adesione: AdhesionStatus,
    pub data_adesione: Option<NaiveDate>,
    pub contributo_eur: i64,
    pub maturato_eur: i64,
    pub perso_eur: i64,
    pub possibile_eur: i64,
    pub rinunciato_eur: i64,
    pub steps: Vec<StepView>,
    pub objectives: Vec<ObjectiveView>,
    pub pagopa: Vec<PagoPaView>,
    pub io: Vec<IoView>,
    pub io_tramite_regione: bool,
    pub online: Vec<OnlineView>,
    /// The comune's count snapshots over time, as an SVG chart (none without snapshots).
    pub grafico: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StepView {
    pub name: String,
    pub deadline: NaiveDate,
    pub share_percent: i64,
    pub state: StepState,
    pub tranche_eur: i64,
    pub tranche: TrancheStatus,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ObjectiveView {
    pub platform: String,
    pub step: String,
    pub description: String,
    pub deadline: NaiveDate,
    pub state: StepState,
    pub progress: String,
    pub confirmed_by_source: bool,
    /// The Region's verification, in words ("Da verificare" until there is one).
    pub verifica: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PagoPaView {
    pub code: String,
    pub description: String,
    pub demo_code: bool,
    pub applicable: bool,
    pub active_since: Option<NaiveDate>,
    pub deactivated_on: Option<NaiveDate>,
    pub on_mypay: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct IoView {
    pub service_id: String,
    pub name: String,
    pub published_since: Option<NaiveDate>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OnlineView {
    pub name: String,
    pub spid_since: Option<NaiveDate>,
    pub cie_since: Option<NaiveDate>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filter_accepts_known_values_and_empty_strings() {
        let f = ComuniFilter {
            provincia: Some("le".into()),
            adesione: Some("aderente".into()),
            popolazione: Some("5000-40000".into()),
            piattaforma: Some("io".into()),
            traguardo: Some("primo_step".into()),
        };
        let v = f.validate().unwrap();
        assert_eq!(v.provincia, Some("LE"));
        assert_eq!(v.adesione, Some(AdhesionStatus::Aderente));
        assert_eq!(v.popolazione, Some(PopulationBand { min: 5000, max: Some(40000) }));
        assert_eq!(v.piattaforma, Some(Platform::AppIo));
        assert_eq!(v.traguardo, Some(Milestone::PrimoStep));
        assert_eq!(
            v.query(),
            "provincia=LE&adesione=aderente&popolazione=5000-40000&piattaforma=io&traguardo=primo_step"
        );
        // The raw form of a valid filter validates to itself (links round-trip).
        assert_eq!(v.raw().validate().unwrap(), v);
        let empty = ComuniFilter {
            provincia: Some(String::new()),
            adesione: Some(" ".into()),
            popolazione: Some(String::new()),
            ..Default::default()
        };
        assert_eq!(empty.validate().unwrap(), ValidFilter::default());
    }

    #[test]
    fn filter_refuses_unknown_values_in_italian() {
        let f = ComuniFilter { provincia: Some("XX".into()), ..Default::default() };
        assert_eq!(
            f.validate().unwrap_err().to_string(),
            "Provincia sconosciuta: «XX». Valori ammessi: BA, BT, BR, FG, LE, TA."
        );
        let f = ComuniFilter { adesione: Some("forse".into()), ..Default::default() };
        assert!(matches!(f.validate(), Err(FilterError::Adesione(_))));
        for bad in ["5000", "a-b", "40000-5000", "-5", "10-10"] {
            let f = ComuniFilter { popolazione: Some(bad.into()), ..Default::default() };
            assert!(matches!(f.validate(), Err(FilterError::Popolazione(_))), "{bad}");
        }
        let f = ComuniFilter { piattaforma: Some("fax".into()), ..Default::default() };
        assert!(matches!(f.validate(), Err(FilterError::Piattaforma(_))));
        let f = ComuniFilter { traguardo: Some("luna".into()), ..Default::default() };
        assert!(matches!(f.validate(), Err(FilterError::Traguardo(_))));
    }

    #[test]
    fn population_bands_follow_the_funding_bands_bounds() {
        let b = PopulationBand::parse("5000-40000").unwrap();
        assert!(!b.contains(4999));
        assert!(b.contains(5000), "min is inclusive");
        assert!(b.contains(39999));
        assert!(!b.contains(40000), "max is exclusive");
        assert_eq!(b.label(), "da 5.000 a 39.999 abitanti");
        let open = PopulationBand::parse("200000-").unwrap();
        assert!(open.contains(1_000_000));
        assert_eq!(open.code(), "200000-");
        assert_eq!(open.label(), "200.000 abitanti e oltre");
        assert_eq!(PopulationBand::parse("0-5000").unwrap().label(), "fino a 4.999 abitanti");
    }
}
