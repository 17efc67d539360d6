//! Open data: what Traguardi publishes for everyone, under CC BY 4.0.
//!
//! - `/opendata`: the page that lists the datasets, their licence, update date and formats;
//! - `/opendata/catalogo.rdf`: the same catalogue as DCAT-AP_IT metadata (RDF/XML), the profile
//!   dati.gov.it harvests;
//! - `/api/v1/…`: the read-only JSON API with its OpenAPI document ([`api`]).
//!
//! The catalogue is data ([`datasets`]): the page and the RDF are both drawn from it, so they
//! cannot disagree, and a dataset is added in one place.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

#[cfg(feature = "ssr")]
pub mod api;
#[cfg(feature = "ssr")]
pub mod dcat;
#[cfg(feature = "ssr")]
pub mod descriptions;
#[cfg(feature = "ssr")]
pub mod params;
pub mod server;
pub mod ui;

/// The licence of everything published here: SPDX identifier, name, text.
pub const LICENCE_ID: &str = "CC-BY-4.0";
pub const LICENCE_NAME: &str = "Creative Commons Attribuzione 4.0 Internazionale (CC BY 4.0)";
pub const LICENCE_URL: &str = "https://creativecommons.org/licenses/by/4.0/";
/// Who publishes and holds the rights: the Region, by its code in the IPA index.
pub const PUBLISHER_NAME: &str = "Regione Puglia";
pub const PUBLISHER_IPA: &str = "r_puglia";
/// The territory the data cover, by name and by its IRI in the national controlled vocabulary
/// of territorial classifications (OntoPiA, ISTAT region code 16), for `dct:spatial`.
pub const TERRITORY_NAME: &str = "Puglia";
pub const TERRITORY_IRI: &str =
    "https://w3id.org/italia/controlled-vocabulary/territorial-classifications/regions/16";

/// A file format of a distribution, with the EU file-type authority code DCAT-AP_IT asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Format {
    Csv,
    Json,
    Xlsx,
}

impl Format {
    pub fn label(self) -> &'static str {
        match self {
            Format::Csv => "CSV",
            Format::Json => "JSON",
            Format::Xlsx => "XLSX",
        }
    }

    pub fn media_type(self) -> &'static str {
        match self {
            Format::Csv => "text/csv",
            Format::Json => "application/json",
            Format::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        }
    }

    /// The media type as the IRI of its IANA registration: DCAT-AP's `dcat:mediaType` ranges
    /// over `dct:MediaType` resources, so harvesters that validate the profile refuse a literal.
    pub fn media_type_iri(self) -> String {
        format!("https://www.iana.org/assignments/media-types/{}", self.media_type())
    }

    /// `http://publications.europa.eu/resource/authority/file-type/{code}`.
    pub fn eu_code(self) -> &'static str {
        match self {
            Format::Csv => "CSV",
            Format::Json => "JSON",
            Format::Xlsx => "XLSX",
        }
    }
}

/// One way to get a dataset.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Distribution {
    /// A fragment identifier, unique in the catalogue (`comuni-csv`).
    pub id: String,
    pub title: String,
    /// What a reader finds in it (layout, separators, paging): DCAT-AP recommends it.
    pub description: String,
    pub format: Format,
    /// Path on this site (`/export/comuni.csv`).
    pub path: String,
    /// A file downloaded whole (CSV), rather than an API answering queries.
    pub download: bool,
}

/// One dataset of the catalogue.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Dataset {
    /// A fragment identifier, unique in the catalogue (`comuni`).
    pub id: String,
    pub title: String,
    pub description: String,
    pub keywords: Vec<String>,
    pub distributions: Vec<Distribution>,
}

/// The catalogue: the datasets Traguardi publishes. Only public data: the registry, adhesion,
/// objectives and service counts, never people, blockers, notes or evidence.
pub fn datasets() -> Vec<Dataset> {
    let dist = |id: &str, title: &str, description: &str, format, path: &str, download| Distribution {
        id: id.into(),
        title: title.into(),
        description: description.into(),
        format,
        path: path.into(),
        download,
    };
    let words = |w: &[&str]| w.iter().map(|s| s.to_string()).collect();
    vec![
        Dataset {
            id: "comuni".into(),
            title: "Comuni della Puglia nel Fondo Innovazione 2020-2021".into(),
            description: "Per ciascuno dei 257 comuni della Puglia: codici ISTAT, catastale e IPA, provincia, popolazione, adesione al Fondo Innovazione, contributo assegnato, traguardi e obiettivi raggiunti con le date, numero di servizi attivi su pagoPA, App IO e con accesso SPID/CIE.".into(),
            keywords: words(&["Fondo Innovazione", "pagoPA", "App IO", "SPID", "CIE", "comuni", "transizione digitale"]),
            distributions: vec![
                dist(
                    "comuni-csv",
                    "Elenco dei comuni (CSV)",
                    "Una riga per comune, colonne fisse (le versioni successive aggiungono colonne solo in fondo); separatore «,», codifica UTF-8, date aaaa-mm-gg, «si»/«no».",
                    Format::Csv,
                    "/export/comuni.csv",
                    true,
                ),
                dist(
                    "comuni-csv-excel",
                    "Elenco dei comuni per Excel (CSV con separatore «;», date gg/mm/aaaa)",
                    "Le stesse righe del CSV nella forma che Excel apre con le impostazioni italiane: separatore «;», date gg/mm/aaaa, «sì»/«no».",
                    Format::Csv,
                    "/export/comuni-excel.csv",
                    true,
                ),
                dist(
                    "comuni-xlsx",
                    "Comuni, obiettivi e servizi (Excel, un foglio per tabella)",
                    "Una cartella di lavoro con un foglio per tabella: comuni, obiettivi raggiunti e servizi attivi.",
                    Format::Xlsx,
                    "/export/comuni.xlsx",
                    true,
                ),
                dist(
                    "comuni-json-file",
                    "Elenco dei comuni (JSON)",
                    "Tutti i comuni in un solo file: gli oggetti dell'API con i metadati (data dei dati, licenza) e il totale.",
                    Format::Json,
                    "/export/comuni.json",
                    true,
                ),
                dist(
                    "comuni-json",
                    "Elenco dei comuni, con filtri e paginazione (API JSON)",
                    "API in sola lettura descritta dal documento OpenAPI /api/v1/openapi.json: filtri per provincia, adesione, piattaforma e obiettivi, ordinamento e pagine.",
                    Format::Json,
                    "/api/v1/comuni",
                    false,
                ),
            ],
        },
        Dataset {
            id: "province".into(),
            title: "Fondo Innovazione 2020-2021: riepilogo per provincia".into(),
            description: "Per ciascuna provincia della Puglia: comuni aderenti e non aderenti, comuni che hanno raggiunto il primo step e tutti gli obiettivi, contributo assegnato, maturato, possibile, perso e rinunciato.".into(),
            keywords: words(&["Fondo Innovazione", "province", "Puglia", "transizione digitale"]),
            distributions: vec![dist(
                "province-json",
                "Riepilogo per provincia (API JSON)",
                "API in sola lettura descritta dal documento OpenAPI /api/v1/openapi.json: una voce per provincia.",
                Format::Json,
                "/api/v1/province",
                false,
            )],
        },
    ]
}

/// What `/opendata` shows.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OpenDataPage {
    pub datasets: Vec<Dataset>,
    /// The day of the last change to the data (the latest change in the trail or the latest
    /// count snapshot), if any.
    pub modified: Option<NaiveDate>,
    /// The day the figures refer to.
    pub as_of: NaiveDate,
    pub demo: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalogue_identifiers_are_unique_and_paths_are_local() {
        let all = datasets();
        let mut ids: Vec<&str> = all.iter().map(|d| d.id.as_str()).collect();
        ids.extend(all.iter().flat_map(|d| d.distributions.iter().map(|x| x.id.as_str())));
        let before = ids.len();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), before, "every dataset and distribution has its own identifier");
        for d in &all {
            assert!(!d.distributions.is_empty(), "{} has a distribution", d.id);
            for x in &d.distributions {
                assert!(
                    x.path.starts_with('/') && !x.path.starts_with("//"),
                    "{}: a path on this site",
                    x.id
                );
            }
        }
    }

    #[test]
    fn formats_carry_their_eu_codes() {
        assert_eq!(Format::Csv.eu_code(), "CSV");
        assert_eq!(Format::Json.media_type(), "application/json");
        assert_eq!(Format::Csv.media_type_iri(), "https://www.iana.org/assignments/media-types/text/csv");
    }
}
