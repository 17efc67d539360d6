//! Evidence: the files a comune uploads to prove an objective reached, and the Region's review
//! of each (positivo, parzialmente positivo, negativo, as PA digitale 2026's verifiers give it).
//!
//! This module holds the wire types, the review's validation and the status in words, all pure
//! and unit-tested. What a file is ([`sniff`]), where files live ([`store`]), the streaming
//! upload route ([`upload`]), review and download ([`routes`]), the server functions
//! ([`server`]) and the pages ([`ui`]) are beside it; the rows are in `data::evidence`. An
//! objective is *verified* by `rules::verified`: its rule holds and its latest evidence is
//! reviewed positivo.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::{auth::FieldError, rules::ReviewOutcome};

pub mod progress;
#[cfg(feature = "ssr")]
pub mod routes;
pub mod server;
pub mod sniff;
#[cfg(feature = "ssr")]
pub mod store;
pub mod ui;
#[cfg(feature = "ssr")]
pub mod upload;

/// The evidence page of one comune.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EvidencePage {
    pub codice: String,
    pub denominazione: String,
    pub programma: String,
    /// The size limit in bytes, and in words ("20 MB").
    pub max_bytes: u64,
    pub limite: String,
    /// The viewer may upload (the comune's own users, the Region).
    pub may_upload: bool,
    /// The viewer may review (the Region).
    pub may_review: bool,
    pub objectives: Vec<ObjectiveEvidence>,
}

/// One objective with its evidence, newest version first.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ObjectiveEvidence {
    pub code: String,
    pub platform: String,
    pub step: String,
    pub description: String,
    pub deadline: NaiveDate,
    /// "Raggiunto il …" / "Non raggiunto", from the service data.
    pub reached: String,
    pub verified: bool,
    /// The evidence's state in words ([`status_words`]).
    pub status: String,
    pub versions: Vec<EvidenceItem>,
}

/// One uploaded version.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EvidenceItem {
    pub id: i64,
    pub version: i64,
    pub file_name: String,
    pub kind: String,
    pub size: String,
    pub sha256: String,
    pub uploaded_by: String,
    pub uploaded_at: String,
    /// Oldest first; the last one counts.
    pub reviews: Vec<ReviewItem>,
    /// The id of the last review (0: none), sent back by the review form to detect a review
    /// given meanwhile by someone else.
    pub last_review: i64,
    /// The newest version of its objective (only that one can be reviewed).
    pub latest: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReviewItem {
    pub outcome: ReviewOutcome,
    pub reason: Option<String>,
    pub reviewed_by: String,
    pub reviewed_at: String,
}

/// One upload waiting for review, for the queue page.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueueItem {
    pub id: i64,
    pub comune: String,
    pub denominazione: String,
    pub provincia: String,
    pub objective: String,
    pub objective_code: String,
    pub platform: String,
    pub version: i64,
    pub file_name: String,
    pub uploaded_by: String,
    pub uploaded_at: String,
}

/// The queue page: one page of its items, the filters applied and where the page stands.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Queue {
    /// At most [`crate::paging::PAGE_SIZE`] items: the page shown.
    pub items: Vec<QueueItem>,
    pub provincia: String,
    pub piattaforma: String,
    /// The page shown (1-based; a page past the last shows the last) and how many there are.
    pub page: usize,
    pub pages: usize,
    /// Items waiting with these filters, on every page.
    pub total: usize,
}

/// A checked review form.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReviewValues {
    pub outcome: ReviewOutcome,
    pub reason: Option<String>,
    pub expected_last_review: i64,
}

/// The longest reason kept.
pub const MAX_REASON_CHARS: usize = 4000;

/// Checks the review form: a known outcome; a reason for anything but positivo (what to fix,
/// or why it is refused).
pub fn validate_review(
    esito: Option<&str>,
    motivo: Option<&str>,
    ultima: Option<&str>,
) -> Result<ReviewValues, Vec<FieldError>> {
    let mut errors = Vec::new();
    let outcome = esito.and_then(ReviewOutcome::from_code);
    if outcome.is_none() {
        errors.push(FieldError {
            field: "esito".into(),
            message: "Scegli l'esito dell'esame: positivo, parzialmente positivo o negativo.".into(),
        });
    }
    let reason = motivo.map(str::trim).filter(|r| !r.is_empty()).map(str::to_string);
    match (outcome, &reason) {
        (Some(o), None) if o.needs_reason() => errors.push(FieldError {
            field: "motivo".into(),
            message: if o == ReviewOutcome::ParzialmentePositivo {
                "Scrivi che cosa il comune deve correggere.".into()
            } else {
                "Scrivi il motivo per cui l'evidenza è respinta.".into()
            },
        }),
        (_, Some(r)) if r.chars().count() > MAX_REASON_CHARS => errors.push(FieldError {
            field: "motivo".into(),
            message: format!("La motivazione è troppo lunga (al massimo {MAX_REASON_CHARS} caratteri)."),
        }),
        _ => {}
    }
    let expected_last_review = ultima.and_then(|v| v.trim().parse().ok()).unwrap_or(-1);
    if expected_last_review < 0 {
        errors.push(FieldError {
            field: "esito".into(),
            message: "Il modulo è incompleto: ricarica la pagina e riprova.".into(),
        });
    }
    match outcome {
        Some(outcome) if errors.is_empty() => Ok(ReviewValues { outcome, reason, expected_last_review }),
        _ => Err(errors),
    }
}

/// The evidence of one objective in words, from the data's verdict (`reached`), the number of
/// versions and the latest review of the latest one.
pub fn status_words(reached: bool, versions: i64, latest_review: Option<ReviewOutcome>) -> &'static str {
    match (versions, latest_review) {
        (0, _) => "Nessuna evidenza caricata",
        (_, None) => "Evidenza in attesa di esame",
        (_, Some(ReviewOutcome::Positivo)) if reached => "Verificato",
        (_, Some(ReviewOutcome::Positivo)) => {
            "Evidenza positiva, ma i dati non mostrano l'obiettivo raggiunto"
        }
        (_, Some(ReviewOutcome::ParzialmentePositivo)) => "Da correggere: caricare una nuova versione",
        (_, Some(ReviewOutcome::Negativo)) => "Evidenza respinta",
    }
}

/// A size in bytes as people read it ("1,2 MB", "830 KB").
pub fn size_words(bytes: i64) -> String {
    let b = bytes as f64;
    if b >= 1024.0 * 1024.0 {
        format!("{} MB", format!("{:.1}", b / (1024.0 * 1024.0)).replace('.', ","))
    } else if b >= 1024.0 {
        format!("{} KB", (b / 1024.0).round())
    } else {
        format!("{bytes} byte")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_review_other_than_positive_needs_a_reason() {
        let ok = validate_review(Some("positivo"), Some("  "), Some("0")).unwrap();
        assert_eq!(
            ok,
            ReviewValues { outcome: ReviewOutcome::Positivo, reason: None, expected_last_review: 0 }
        );
        let e = validate_review(Some("negativo"), Some(""), Some("0")).unwrap_err();
        assert_eq!(e[0].field, "motivo");
        assert!(e[0].message.contains("motivo"));
        let e = validate_review(Some("parzialmente_positivo"), None, Some("3")).unwrap_err();
        assert!(e[0].message.contains("correggere"));
        let ok = validate_review(Some("negativo"), Some(" Manca la firma "), Some("3")).unwrap();
        assert_eq!(ok.reason.as_deref(), Some("Manca la firma"));
        assert_eq!(ok.expected_last_review, 3);
    }

    #[test]
    fn unknown_outcomes_long_reasons_and_missing_hidden_fields_are_refused() {
        assert_eq!(validate_review(Some("ottimo"), None, Some("0")).unwrap_err()[0].field, "esito");
        assert_eq!(validate_review(None, None, Some("0")).unwrap_err()[0].field, "esito");
        let long = "x".repeat(MAX_REASON_CHARS + 1);
        assert_eq!(validate_review(Some("negativo"), Some(&long), Some("0")).unwrap_err()[0].field, "motivo");
        assert!(validate_review(Some("positivo"), None, None).is_err());
    }

    #[test]
    fn the_status_says_in_words_where_the_evidence_stands() {
        assert_eq!(status_words(true, 0, None), "Nessuna evidenza caricata");
        assert_eq!(status_words(true, 2, None), "Evidenza in attesa di esame");
        assert_eq!(status_words(true, 1, Some(ReviewOutcome::Positivo)), "Verificato");
        assert!(status_words(false, 1, Some(ReviewOutcome::Positivo)).contains("non mostrano"));
        assert!(status_words(true, 1, Some(ReviewOutcome::ParzialmentePositivo)).starts_with("Da correggere"));
        assert_eq!(status_words(true, 1, Some(ReviewOutcome::Negativo)), "Evidenza respinta");
    }

    #[test]
    fn sizes_read_like_a_file_manager() {
        assert_eq!(size_words(512), "512 byte");
        assert_eq!(size_words(850 * 1024), "850 KB");
        assert_eq!(size_words(1_258_291), "1,2 MB");
    }
}
