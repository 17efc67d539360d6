//! The rows of `/scadenze` as the export table (`/export/scadenze.csv`, `-excel.csv`, `.xlsx`,
//! `.json`, served by [`crate::exports::routes`]) for the same date and province, with the same
//! access rules (signed-in users; a `comune` user gets its own comuni). Like
//! `/export/comuni.csv`: dates ISO `YYYY-MM-DD`, plain numbers, columns only ever added at the
//! end. Overdue rows first, then due-soon ones, then those due later and forecast a rischio,
//! each by deadline and comune name (or by risk with `ordina=rischio`). `previsione` is the
//! expected day of an open objective (empty: overdue, or no progress), `a_rischio` `si`/`no`
//! (empty for an overdue one).

use super::{ScadenzaRow, ScadenzeData};
use crate::exports::table::Value;

pub const HEADER: [&str; 13] = [
    "codice_istat",
    "denominazione",
    "sigla_provincia",
    "stato",
    "giorni",
    "piattaforma",
    "obiettivo",
    "descrizione_obiettivo",
    "scadenza",
    "ostacoli_aperti",
    "descrizione_ostacoli",
    "previsione",
    "a_rischio",
];

/// The rows of `data`, overdue first. `ostacoli_aperti` counts the comune's open blockers;
/// `descrizione_ostacoli` lists them as `categoria: testo`, separated by ` | `.
pub fn rows(data: &ScadenzeData) -> Vec<Vec<Value>> {
    data.overdue
        .iter()
        .chain(&data.due_soon)
        .chain(&data.at_risk)
        .map(|r: &ScadenzaRow| {
            let blockers = r
                .blockers
                .iter()
                .map(|b| format!("{}: {}", b.category.code(), b.description))
                .collect::<Vec<_>>()
                .join(" | ");
            vec![
                Value::text(r.codice_istat.clone()),
                Value::text(r.denominazione.clone()),
                Value::text(r.sigla_provincia.clone()),
                Value::text(r.urgency.code()),
                Value::Int(r.urgency.days()),
                Value::text(r.platform_code.clone()),
                Value::text(r.objective_code.clone()),
                Value::text(r.description.clone()),
                Value::Date(Some(r.deadline)),
                Value::Int(r.blockers.len() as i64),
                Value::text(blockers),
                Value::Date(r.previsione.and_then(|f| f.expected)),
                Value::text(match r.previsione {
                    Some(f) if f.at_risk => "si",
                    Some(_) => "no",
                    None => "",
                }),
            ]
        })
        .collect()
}
