//! PA digitale 2026 (PNRR): the projects of the published candidature files, attached to the
//! comuni of the registry as a second programme (`padigitale2026`). Written only by imports
//! (`data::imports::apply`); read by the comune's page.

use chrono::NaiveDate;

use super::{on_db, Db};

/// The programme code of PA digitale 2026 (a row of `programme`, migration 0008).
pub const PADIGITALE_2026: &str = "padigitale2026";

/// A project as stored (and as an import plans it).
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct Project {
    pub cup: String,
    pub comune: String,
    /// `1.4.3 Adozione PagoPA e AppIO`, `1.4.4 Adozione identità digitale`, …
    pub misura: String,
    pub avviso: String,
    pub amount_cents: i64,
    /// `A` (finanziata), `R` (rinuncia), `E` (erogata).
    pub status: String,
    pub submitted_on: Option<NaiveDate>,
    pub financed_on: Option<NaiveDate>,
    pub status_on: Option<NaiveDate>,
    pub decree: Option<String>,
}

/// The words of a candidature's state.
pub fn status_label(code: &str) -> &'static str {
    match code {
        "A" => "Finanziata",
        "R" => "Rinuncia",
        "E" => "Erogata",
        _ => "Sconosciuto",
    }
}

pub const COLUMNS: &str =
    "cup, comune, misura, avviso, amount_cents, status, submitted_on, financed_on, status_on, decree";

/// A comune's projects, by measure and CUP.
pub async fn projects_of(db: &Db, comune: &str) -> Result<Vec<Project>, sqlx::Error> {
    on_db!(db, pool => sqlx::query_as::<_, Project>(&format!(
        "SELECT {COLUMNS} FROM pnrr_project WHERE programme = $1 AND comune = $2 ORDER BY misura, cup"
    ))
    .bind(PADIGITALE_2026)
    .bind(comune)
    .fetch_all(pool)
    .await)
}
