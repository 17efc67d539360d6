//! The dashboard (`/`): headline figures with their denominators, four province and time
//! charts, the map of the comuni, all following one filter (province, adhesion, population
//! band, platform) that lives in the URL.
//!
//! Figures travel as data ([`DashboardData`]); charts and the map are SVG drawn on the server
//! ([`chart`], [`map`]) and cached per data version and filter ([`graphics`]).

use std::sync::Arc;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::comuni::FilterChoice;

#[cfg(feature = "ssr")]
pub mod chart;
#[cfg(feature = "ssr")]
pub mod graphics;
#[cfg(feature = "ssr")]
pub mod map;
#[cfg(feature = "ssr")]
pub mod png;
pub mod server;
#[cfg(all(test, feature = "ssr"))]
mod tests;
pub mod ui;

/// Everything the dashboard shows except the pictures.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct DashboardData {
    pub summary: Summary,
    /// The validated filter as a query string (`provincia=LE&popolazione=0-5000`), for links.
    pub filtro: String,
    /// The population bands offered by the filter form (the programme's funding bands).
    pub fasce_popolazione: Vec<FilterChoice>,
    /// The map's legend: (label, CSS class, number of comuni), in legend order.
    pub legenda: Vec<LegendEntry>,
    /// The points of the services-over-time chart that its table lists (at each deadline and
    /// the latest).
    pub servizi: Vec<SeriesPoint>,
    /// The past day shown (`None`: today), for the notice.
    #[serde(default)]
    pub al: Option<chrono::NaiveDate>,
}

/// One class of the map with its count.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct LegendEntry {
    pub label: String,
    /// CSS class and SVG pattern of the swatch.
    pub css: String,
    pub pattern: String,
    pub comuni: i64,
}

/// The dashboard's pictures, as SVG markup drawn on the server. Shared, not copied: the cache
/// hands out the same markup to every request (a quarter of a megabyte with the map).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Graphics {
    pub adesione: Arc<str>,
    pub obiettivi: Arc<str>,
    pub servizi: Arc<str>,
    pub contributo: Arc<str>,
    pub mappa: Arc<str>,
}

/// The pictures that can be downloaded as SVG: the file name part of `/grafici/{name}.svg`.
pub const GRAPHICS_NAMES: [&str; 5] = ["adesione", "obiettivi", "servizi", "contributo", "mappa"];

impl Graphics {
    pub fn by_name(&self, name: &str) -> Option<&str> {
        match name {
            "adesione" => Some(&self.adesione),
            "obiettivi" => Some(&self.obiettivi),
            "servizi" => Some(&self.servizi),
            "contributo" => Some(&self.contributo),
            "mappa" => Some(&self.mappa),
            _ => None,
        }
    }
}

/// The headline figures, all computed by the rules from the rows (never stored).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    pub programma: String,
    /// The day the figures refer to (today).
    pub data_riferimento: Option<NaiveDate>,
    pub primo_step_scadenza: Option<NaiveDate>,
    pub finale_scadenza: Option<NaiveDate>,
    pub totale_comuni: i64,
    pub aderenti: i64,
    pub in_ritardo: i64,
    pub rinunce: i64,
    pub supportati: i64,
    pub primo_step_in_tempo: i64,
    pub primo_step: i64,
    pub tutti_obiettivi: i64,
    pub mypay_attivi: i64,
    /// Applicable collection services registered on MyPay: the denominator of `mypay_attivi`.
    pub mypay_applicabili: i64,
    pub mypay_nel_progetto: i64,
    /// The day of the `*_fine_progetto` figures: the project's last day (31/12/2021 for the
    /// Fondo Innovazione, the day the press release reports), or `data_riferimento` if earlier.
    pub fine_progetto: Option<NaiveDate>,
    /// The three MyPay figures on `fine_progetto` (public, like every aggregate of the
    /// dashboard): what the press release's «oltre 3.500» and «2.200» count. The fields
    /// without the suffix are the same figures today.
    pub mypay_attivi_fine_progetto: i64,
    pub mypay_applicabili_fine_progetto: i64,
    pub mypay_nel_progetto_fine_progetto: i64,
    pub io_regione: i64,
    pub contributo_assegnato: i64,
    pub contributo_maturato: i64,
    pub contributo_perso: i64,
    pub contributo_rinunciato: i64,
    pub contributo_possibile: i64,
    /// The comuni behind each grant figure (a comune with earned and lost tranches is behind
    /// both): exactly those listed by the figure's link (`Milestone::Contributo…`).
    pub comuni_maturato: i64,
    pub comuni_possibile: i64,
    pub comuni_perso: i64,
    pub comuni_rinunciato: i64,
    /// Comuni with at least one open objective forecast (only on a day before a deadline), and
    /// those with one forecast after its deadline (`Milestone::ARischio`). Public, like every
    /// aggregate of the dashboard.
    pub con_previsione: i64,
    pub a_rischio: i64,
    /// The earned euros split by step (tranche), in step order.
    pub maturato_per_step: Vec<StepEarned>,
    pub province: Vec<ProvinceRow>,
    /// Each objective, reached by the data and verified with evidence, side by side.
    pub obiettivi: Vec<ObjectiveRow>,
}

/// A headline count and the one whole it is a share of, with that whole in words: the single
/// definition the dashboard's cards, the report and `traguardi check` all use, so no two of
/// them can divide the same count by different wholes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Share {
    pub count: i64,
    pub whole: i64,
    /// What `whole` counts, in Italian, plural ("comuni aderenti, nei termini o in ritardo").
    pub whole_words: &'static str,
}

/// The whole of the programme's figures: comuni that adhered, on time or late (the press
/// release's 140 "supportati").
pub const SUPPORTED_WORDS: &str = "comuni aderenti, nei termini o in ritardo";
/// The whole of the region's figures: every comune of the registry.
pub const ALL_WORDS: &str = "comuni";

impl Summary {
    /// Comuni in the programme (133 on time + 7 late), of all the comuni.
    pub fn supportati_share(&self) -> Share {
        Share { count: self.supportati, whole: self.totale_comuni, whole_words: ALL_WORDS }
    }

    /// Step 1 by its deadline, of the comuni in the programme: the press release's "106" of 140.
    pub fn primo_step_in_tempo_share(&self) -> Share {
        Share { count: self.primo_step_in_tempo, whole: self.supportati, whole_words: SUPPORTED_WORDS }
    }

    /// Step 1 at any date, of **all** the comuni: the press release's "more than 50% of Puglia's
    /// comuni" (a second whole, so a second figure, not a second denominator of one).
    pub fn primo_step_share(&self) -> Share {
        Share { count: self.primo_step, whole: self.totale_comuni, whole_words: ALL_WORDS }
    }

    /// Every objective by the final deadline, of the comuni in the programme ("just over 85%").
    pub fn tutti_obiettivi_share(&self) -> Share {
        Share { count: self.tutti_obiettivi, whole: self.supportati, whole_words: SUPPORTED_WORDS }
    }

    /// Comuni on App IO through the Region, of all the comuni.
    pub fn io_regione_share(&self) -> Share {
        Share { count: self.io_regione, whole: self.totale_comuni, whole_words: ALL_WORDS }
    }
}

/// One objective over the supported comuni that match the filter: how many reached it by the
/// service data, how many of those are verified (latest evidence reviewed positivo).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ObjectiveRow {
    pub codice: String,
    /// "pagoPA, Primo step".
    pub obiettivo: String,
    pub raggiunti: i64,
    pub verificati: i64,
    /// The denominator: supported comuni.
    pub supportati: i64,
}

/// Euros earned on one step's tranche.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct StepEarned {
    pub step: String,
    pub share_percent: i64,
    pub eur: i64,
}

/// One province's figures (of the comuni that match the filter): adhesion against the
/// province's total comuni, objectives against the supported comuni, grant euros.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ProvinceRow {
    pub sigla: String,
    pub nome: String,
    pub aderenti: i64,
    pub in_ritardo: i64,
    /// Non aderenti, including those that renounced.
    pub non_aderenti: i64,
    pub totale: i64,
    /// Aderenti plus aderenti in ritardo: the denominator of the objectives' shares.
    pub supportati: i64,
    /// Step 1 reached, on time or late.
    pub primo_step: i64,
    /// Every objective reached by its deadline.
    pub tutti_obiettivi: i64,
    pub contributo_assegnato: i64,
    pub contributo_maturato: i64,
    /// Still possible: the tranches whose deadline has not passed yet.
    pub contributo_possibile: i64,
    pub contributo_perso: i64,
    pub contributo_rinunciato: i64,
}

/// Active services over time, summed over the comuni that match the filter, from the count
/// snapshots (`service_count`), with the programme's deadlines to mark on the chart.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ServicesSeries {
    /// Ordered by day; one point per snapshot day.
    pub points: Vec<SeriesPoint>,
    /// (step name, deadline), in step order.
    pub deadlines: Vec<(String, NaiveDate)>,
}

/// Active services on one snapshot day.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SeriesPoint {
    pub day: NaiveDate,
    /// Active pagoPA collection services.
    pub pagopa: i64,
    /// Services published on App IO.
    pub io: i64,
}
