//! The dashboard (`/`): headline figures, each with its denominator, and adhesion by province.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

#[cfg(feature = "ssr")]
pub mod chart;
#[cfg(feature = "ssr")]
pub mod map;
pub mod server;
pub mod ui;

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
    pub io_regione: i64,
    pub contributo_assegnato: i64,
    pub contributo_maturato: i64,
    pub contributo_perso: i64,
    pub contributo_rinunciato: i64,
    pub contributo_possibile: i64,
    pub province: Vec<ProvinceRow>,
}

/// Adhesion in one province, against the province's total comuni.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ProvinceRow {
    pub sigla: String,
    pub nome: String,
    pub aderenti: i64,
    pub in_ritardo: i64,
    /// Non aderenti, including those that renounced.
    pub non_aderenti: i64,
    pub totale: i64,
}
