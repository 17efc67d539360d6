//! Imports (role `regione`): spreadsheets of adhesions, services and count snapshots, brought
//! as CSV or XLSX. Every file goes through a **dry run** first — a report, in Italian, of every
//! problem by row and column and of what would change (added / changed / unchanged) — and only
//! a clean dry run can be applied: in one transaction, one trail entry per changed record, the
//! file kept as the evidence of the change.
//!
//! The kinds of table and their columns are data ([`KINDS`]): the templates, the page's column
//! guide, the header recognition and the parser all read them. A row becomes a record through
//! the same validation as the workspace's forms (`workspace::validate_*`), so a value refused
//! in a form is refused in a file too, with the same words.
//!
//! Types here are shared with the browser; reading files (`table`), planning (`plan`), the HTTP
//! routes and the command line are server-only.

use serde::{Deserialize, Serialize};

pub mod server;
pub mod ui;

#[cfg(feature = "ssr")]
pub mod cli;
#[cfg(feature = "ssr")]
pub mod limits;
#[cfg(feature = "ssr")]
pub mod plan;
#[cfg(all(test, feature = "ssr"))]
mod props;
#[cfg(feature = "ssr")]
pub mod routes;
#[cfg(feature = "ssr")]
pub mod table;
#[cfg(all(test, feature = "ssr"))]
mod tests;

/// What a table holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Kind {
    /// One row per comune: its adhesion to the programme.
    Adesioni,
    /// One row per service: pagoPA (by taxonomy code), App IO (by Service ID), SPID/CIE (by name).
    Servizi,
    /// One row per comune, platform and day: how many services were active.
    Conteggi,
    /// The official pagoPA "Tassonomia dei servizi di incasso" (`;`-separated, as published):
    /// one row per collection-service code.
    Tassonomia,
    /// The PA digitale 2026 candidature files (PNRR), as published: one row per project (CUP).
    Candidature,
}

/// One column of a kind of table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Column {
    pub name: &'static str,
    pub required: bool,
    /// What goes in it, for the page's guide and the template's instructions.
    pub help: &'static str,
    pub example: &'static str,
}

const fn col(name: &'static str, required: bool, help: &'static str, example: &'static str) -> Column {
    Column { name, required, help, example }
}

/// A kind of table: its name, the sheet name of the XLSX template, its columns.
#[derive(Clone, Copy, Debug)]
pub struct KindSpec {
    pub kind: Kind,
    pub label: &'static str,
    /// The template's file stem and the sheet name.
    pub file: &'static str,
    pub sheet: &'static str,
    pub columns: &'static [Column],
    /// What makes a row unique in a file (said in the duplicate-row message).
    pub key: &'static str,
}

const ISTAT: Column = col(
    "codice_istat",
    true,
    "Codice ISTAT del comune, 6 cifre (anche senza lo zero iniziale perso da Excel: 72006 vale 072006).",
    "072006",
);
const NAME: Column =
    col("denominazione", false, "Nome del comune: se presente, deve corrispondere al codice ISTAT.", "Bari");

/// The kinds, in the order the header recognition tries them (the most specific first).
pub const KINDS: [KindSpec; 5] = [
    KindSpec {
        kind: Kind::Candidature,
        label: "Candidature PA digitale 2026 (PNRR)",
        file: "candidature-padigitale2026",
        sheet: "Candidature",
        // The published files' own headers (`cod_comune` and `comune` read as `codice_istat` and
        // `denominazione`): they are imported as teamdigitale publishes them.
        columns: &[
            col("codice_cup", true, "CUP del progetto (15 caratteri).", "F61F22002330006"),
            col("codice_istat", true, "cod_comune: codice ISTAT del comune (anche senza lo zero iniziale).", "072021"),
            col("denominazione", false, "comune: nome del comune.", "Gioia del Colle"),
            col("misura", true, "Misura del PNRR.", "1.4.3 Adozione PagoPA e AppIO"),
            col("stato_candidatura", true, "A (finanziata), R (rinuncia) o E (erogata).", "A"),
            col("importo_finanziamento", false, "Importo in euro.", "16389.0"),
            col("avviso", false, "Avviso a cui il comune ha partecipato.", "1.4.3 - pagoPA - Comuni - Aprile 2022"),
            col("data_invio_candidatura", false, "aaaa-mm-gg (anche con l'ora).", "2022-08-23T06:55:19.000+0000"),
            col("data_finanziamento", false, "aaaa-mm-gg.", "2022-12-07"),
            col("data_stato_candidatura", false, "aaaa-mm-gg.", "2022-12-12"),
            col("decreto_finanziamento", false, "Decreto di finanziamento.", "Decreto n.23 - 5 / 2022 - PNRR"),
            col("regione", false, "Le righe di altre regioni sono ignorate.", "Puglia"),
            col("tipologia_ente", false, "Comune o Comuni; le righe di altri enti sono ignorate.", "Comune"),
        ],
        key: "CUP",
    },
    KindSpec {
        kind: Kind::Tassonomia,
        label: "Tassonomia dei servizi di incasso pagoPA",
        file: "tassonomia",
        sheet: "Tassonomia",
        // The official file's own headers (normalised): it is imported as PagoPA publishes it.
        columns: &[
            col("dati_specifici_di_incasso", true, "Codice del servizio di incasso.", "9/0101100IM/"),
            col("tipo_servizio", true, "Nome del servizio.", "Rendite catastali (ICI, IMU, TUC, ecc.)"),
            col("codice_tipo_ente_creditore", false, "Tipo di ente creditore (1: comuni).", "1"),
            col("data_inizio_validita", false, "Inizio della validità, mm/gg/aaaa come nel file ufficiale.", "01/01/1900"),
            col("data_fine_validita", false, "Fine della validità, mm/gg/aaaa come nel file ufficiale.", "01/01/2080"),
        ],
        key: "codice",
    },
    KindSpec {
        kind: Kind::Conteggi,
        label: "Conteggi dei servizi attivi",
        file: "conteggi",
        sheet: "Conteggi",
        columns: &[
            ISTAT,
            NAME,
            col("piattaforma", true, "pagopa, io o spid_cie (anche pagoPA, App IO, SPID/CIE).", "pagopa"),
            col("giorno", true, "Giorno del conteggio, gg/mm/aaaa o aaaa-mm-gg.", "28/02/2021"),
            col("attivi", true, "Numero di servizi attivi quel giorno (intero, non negativo).", "12"),
        ],
        key: "comune, piattaforma e giorno",
    },
    KindSpec {
        kind: Kind::Servizi,
        label: "Servizi",
        file: "servizi",
        sheet: "Servizi",
        columns: &[
            ISTAT,
            NAME,
            col("piattaforma", true, "pagopa, io o spid_cie (anche pagoPA, App IO, SPID/CIE).", "pagopa"),
            // Required as a column (it tells a services sheet from the export's objectives
            // sheet), empty for SPID/CIE.
            col(
                "codice",
                true,
                "pagoPA: codice della Tassonomia dei servizi di incasso; App IO: Service ID; SPID/CIE: lasciare vuoto.",
                "9/0101100IM/",
            ),
            col(
                "nome",
                false,
                "Nome del servizio (obbligatorio per App IO e SPID/CIE; per pagoPA vale quello della tassonomia).",
                "",
            ),
            col("applicabile", false, "pagoPA: sì o no, se il servizio si applica al comune.", "sì"),
            col("attivo_dal", false, "pagoPA: attivo dal; App IO: pubblicato dal (gg/mm/aaaa).", "15/01/2021"),
            col("disattivato_il", false, "pagoPA: disattivato il; App IO: ritirato il (gg/mm/aaaa).", ""),
            col("su_mypay", false, "pagoPA: sì o no, se il servizio passa da MyPay.", "sì"),
            col("spid_dal", false, "SPID/CIE: accesso con SPID dal (gg/mm/aaaa).", ""),
            col("cie_dal", false, "SPID/CIE: accesso con CIE dal (gg/mm/aaaa).", ""),
        ],
        key: "comune, piattaforma e codice (o nome, per SPID/CIE)",
    },
    KindSpec {
        kind: Kind::Adesioni,
        label: "Adesioni",
        file: "adesioni",
        sheet: "Adesioni",
        columns: &[
            ISTAT,
            NAME,
            col(
                "adesione",
                true,
                "aderente, aderente_in_ritardo, non_aderente o rinuncia (anche «Aderente in ritardo»).",
                "aderente",
            ),
            col("data_adesione", false, "Data di adesione, obbligatoria per chi aderisce (gg/mm/aaaa).", "30/10/2020"),
            col(
                "rinuncia",
                false,
                "saldo, contributo (l'intero contributo) o vuoto; senza la colonna resta la rinuncia registrata.",
                "",
            ),
            col("data_rinuncia", false, "Data della rinuncia, obbligatoria con la rinuncia (gg/mm/aaaa).", ""),
        ],
        key: "comune",
    },
];

impl Kind {
    pub fn spec(self) -> &'static KindSpec {
        KINDS.iter().find(|k| k.kind == self).expect("every kind has a spec")
    }

    pub fn from_file(file: &str) -> Option<Kind> {
        KINDS.iter().find(|k| k.file == file).map(|k| k.kind)
    }
}

/// A problem of the file, said where it is: table (sheet, or the CSV file), spreadsheet row
/// (the header is row 1) and column.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Problem {
    pub table: String,
    /// 0: the table as a whole (its header).
    pub row: u32,
    pub column: String,
    pub message: String,
}

/// What a row does to the database.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Outcome {
    Added,
    Changed,
    Unchanged,
    /// Only demo taxonomy entries, replaced by the official taxonomy.
    Removed,
}

impl Outcome {
    pub fn label(self) -> &'static str {
        match self {
            Outcome::Added => "Aggiunto",
            Outcome::Changed => "Modificato",
            Outcome::Unchanged => "Invariato",
            Outcome::Removed => "Rimosso",
        }
    }
}

/// One record the import would add or change (unchanged ones are only counted).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangeLine {
    pub table: String,
    pub row: u32,
    /// The record in words: "Bari (072006) — pagoPA 9/0101100IM/".
    pub record: String,
    pub outcome: Outcome,
    /// "stato: non_aderente → aderente; data: — → 30/10/2020".
    pub details: String,
}

/// One table of the file and what the dry run found in it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TableSummary {
    pub name: String,
    pub kind: Kind,
    pub rows: u32,
    pub added: u32,
    pub changed: u32,
    pub unchanged: u32,
    #[serde(default)]
    pub removed: u32,
}

/// The dry run's report.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Report {
    pub tables: Vec<TableSummary>,
    /// Sheets not recognised, columns ignored: said, not refused.
    pub notices: Vec<String>,
    pub problems: Vec<Problem>,
    /// The first [`MAX_LINES`] added or changed records.
    pub changes: Vec<ChangeLine>,
    pub added: u32,
    pub changed: u32,
    pub unchanged: u32,
    #[serde(default)]
    pub removed: u32,
}

/// The report lists this many changed records at most (the totals count them all).
pub const MAX_LINES: usize = 500;

/// The report lists this many problems at most (the total counts them all).
pub const MAX_PROBLEMS: usize = 500;

impl Report {
    /// Applicable: no problem, something recognised.
    pub fn can_apply(&self) -> bool {
        self.problems.is_empty() && !self.tables.is_empty()
    }

    /// "3 aggiunti, 1 modificato, 250 invariati".
    pub fn totals(&self) -> String {
        let word = |n: u32, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
        let mut s = format!(
            "{}, {}, {}",
            word(self.added, "aggiunto", "aggiunti"),
            word(self.changed, "modificato", "modificati"),
            word(self.unchanged, "invariato", "invariati")
        );
        if self.removed > 0 {
            s.push_str(&format!(", {}", word(self.removed, "rimosso", "rimossi")));
        }
        s
    }
}

/// Where an import stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum BatchStatus {
    /// Uploaded and tried: nothing changed yet.
    InProva,
    Applicata,
}

impl BatchStatus {
    pub fn code(self) -> &'static str {
        match self {
            BatchStatus::InProva => "in_prova",
            BatchStatus::Applicata => "applicata",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        match code {
            "in_prova" => Some(BatchStatus::InProva),
            "applicata" => Some(BatchStatus::Applicata),
            _ => None,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            BatchStatus::InProva => "Solo provata",
            BatchStatus::Applicata => "Applicata",
        }
    }
}

/// An uploaded file, as the page lists it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Batch {
    pub id: i64,
    pub file_name: String,
    pub size_bytes: i64,
    pub sha256: String,
    pub uploaded_by: String,
    /// dd/mm/yyyy hh:mm (UTC).
    pub uploaded_at: String,
    pub status: BatchStatus,
    pub applied_at: Option<String>,
}

/// `/importazioni` and `/importazioni/{id}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportPage {
    /// One page of the uploads, newest first (`?pagina=`).
    pub recent: crate::paging::Paged<Batch>,
    /// The batch asked for, with its report: the live dry run while it is only tried, the report
    /// as applied afterwards.
    pub current: Option<(Batch, Report)>,
}

/// The largest file taken (a 10,000-row CSV is about 400 KB).
pub const MAX_BYTES: usize = 20 * 1024 * 1024;
