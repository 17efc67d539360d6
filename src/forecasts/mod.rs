//! Forecasts: when each open objective is expected to be reached, and whether that is after its
//! deadline (*a rischio*). The method is in `rules::forecast` (pure, over the rules' measures);
//! the snapshot carries each comune's forecasts (`evaluation::Evaluated::forecasts`); here is
//! what reads them: the comune page's section ([`ForecastView`], [`ui`]), the backtest against
//! what happened and its command.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

pub use crate::rules::forecast::Method;

#[cfg(feature = "ssr")]
pub mod backtest;
#[cfg(feature = "ssr")]
pub mod cli;
pub mod ui;
#[cfg(feature = "ssr")]
pub mod view;

/// One open objective's forecast as the comune page shows it. Public: it is computed from the
/// comune's public service data (the same the page lists), like the objectives' states.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ForecastView {
    pub objective_code: String,
    /// "pagoPA", "App IO", "SPID/CIE".
    pub platform: String,
    pub description: String,
    /// What is measured, in words ("Servizi pubblicati su App IO").
    pub measure: String,
    pub current: i64,
    pub required: i64,
    pub deadline: NaiveDate,
    pub expected: Option<NaiveDate>,
    pub earliest: Option<NaiveDate>,
    pub latest: Option<NaiveDate>,
    pub at_risk: bool,
    pub method: Method,
    /// Units a week (the pace), for the sentence under the chart.
    pub per_week: f64,
    /// The weekly samples, for the table beside the chart.
    pub history: Vec<(NaiveDate, f64)>,
    /// The chart (SVG drawn on the server); `None` if drawing failed (logged).
    pub grafico: Option<String>,
}

/// How the pace was read, in words.
pub fn method_label(method: Method) -> &'static str {
    match method {
        Method::OwnTrend => "andamento del comune nelle ultime 13 settimane (stima robusta di Theil–Sen)",
        Method::ProvincePace => {
            "ritmo mediano dei comuni della stessa provincia (la storia del comune è troppo breve)"
        }
        Method::NoPace => "nessun andamento disponibile",
    }
}

impl ForecastView {
    /// The verdict in words: never said by colour alone.
    pub fn verdict(&self) -> String {
        match (self.at_risk, self.expected) {
            (true, None) => "A rischio: nessun progresso al ritmo attuale".to_string(),
            (true, Some(d)) => {
                format!("A rischio: raggiungimento previsto il {}, dopo la scadenza", crate::format::date(d))
            }
            (false, Some(d)) => {
                format!("In tempo: raggiungimento previsto il {}", crate::format::date(d))
            }
            (false, None) => "In tempo".to_string(),
        }
    }

    /// The range in words ("tra il 05/12/2021 e il 20/12/2021"; "dal 05/12/2021, forse mai").
    pub fn range(&self) -> String {
        use crate::format::date;
        match (self.earliest, self.latest) {
            (Some(a), Some(b)) if a == b => format!("il {}", date(a)),
            (Some(a), Some(b)) => format!("tra il {} e il {}", date(a), date(b)),
            (Some(a), None) => format!("dal {} in poi, o mai al ritmo più lento", date(a)),
            (None, _) => "nessuna data al ritmo attuale".to_string(),
        }
    }

    /// The pace in words, with a decimal comma ("1,5 a settimana").
    pub fn pace(&self) -> String {
        format!("{} a settimana", format!("{:.1}", self.per_week).replace('.', ","))
    }
}
