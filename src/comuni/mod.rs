//! The comuni: the filterable list, one comune's page and the CSV export (the open-data
//! contract). Types here travel between server and browser; the server functions are in
//! [`server`], the views in [`ui`].

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::rules::{AdhesionStatus, TrancheStatus};

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

/// The filters shared by `/comuni`, the dashboard and `/export/comuni.csv`, as they appear in the
/// URL (`?provincia=LE&adesione=aderente`). Empty values mean "all".
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ComuniFilter {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provincia: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub adesione: Option<String>,
}

/// A filter value that is not one of the known ones, said in Italian.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum FilterError {
    #[error("Provincia sconosciuta: «{0}». Valori ammessi: BA, BT, BR, FG, LE, TA.")]
    Provincia(String),
    #[error("Stato di adesione sconosciuto: «{0}». Valori ammessi: aderente, aderente_in_ritardo, non_aderente, rinuncia.")]
    Adesione(String),
}

/// A validated filter.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ValidFilter {
    pub provincia: Option<&'static str>,
    pub adesione: Option<AdhesionStatus>,
}

impl ComuniFilter {
    /// Checks the raw values; empty strings mean "no filter".
    pub fn validate(&self) -> Result<ValidFilter, FilterError> {
        let provincia = match self.provincia.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            None => None,
            Some(p) => Some(
                PROVINCE
                    .iter()
                    .map(|(s, _)| *s)
                    .find(|s| s.eq_ignore_ascii_case(p))
                    .ok_or_else(|| FilterError::Provincia(p.to_string()))?,
            ),
        };
        let adesione = match self.adesione.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            None => None,
            Some(a) => {
                Some(AdhesionStatus::from_code(a).ok_or_else(|| FilterError::Adesione(a.to_string()))?)
            }
        };
        Ok(ValidFilter { provincia, adesione })
    }
}

impl ValidFilter {
    pub fn matches(&self, sigla_provincia: &str, adesione: AdhesionStatus) -> bool {
        self.provincia.is_none_or(|p| p == sigla_provincia) && self.adesione.is_none_or(|a| a == adesione)
    }

    /// The query string of this filter, for links (`provincia=LE&adesione=aderente`).
    pub fn query(&self) -> String {
        let mut parts = Vec::new();
        if let Some(p) = self.provincia {
            parts.push(format!("provincia={p}"));
        }
        if let Some(a) = self.adesione {
            parts.push(format!("adesione={}", a.code()));
        }
        parts.join("&")
    }
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
        let f = ComuniFilter { provincia: Some("le".into()), adesione: Some("aderente".into()) };
        let v = f.validate().unwrap();
        assert_eq!(v.provincia, Some("LE"));
        assert_eq!(v.adesione, Some(AdhesionStatus::Aderente));
        assert_eq!(v.query(), "provincia=LE&adesione=aderente");
        let empty = ComuniFilter { provincia: Some(String::new()), adesione: Some(" ".into()) };
        assert_eq!(empty.validate().unwrap(), ValidFilter::default());
    }

    #[test]
    fn filter_refuses_unknown_values_in_italian() {
        let f = ComuniFilter { provincia: Some("XX".into()), adesione: None };
        assert_eq!(
            f.validate().unwrap_err().to_string(),
            "Provincia sconosciuta: «XX». Valori ammessi: BA, BT, BR, FG, LE, TA."
        );
        let f = ComuniFilter { provincia: None, adesione: Some("forse".into()) };
        assert!(matches!(f.validate(), Err(FilterError::Adesione(_))));
    }
}
