//! `/scadenze`: the objectives of the comuni in the programme that are past their deadline and
//! not reached, and those due within [`WINDOW_DAYS`] days and not reached, with the comune's open
//! blockers; exported as `/export/scadenze.csv`. Signed-in users only (blockers are not public):
//! the Region and assessors see every comune, a `comune` user its own.
//!
//! Types here travel between server and browser (the comune page will reuse
//! [`BlockerCategory`] and [`BlockerView`]); [`pending_objectives`] is the pure rule; the server
//! function is in [`server`], the CSV in `export`, the page in [`ui`].

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::{
    error::AppError,
    rules::{AdhesionStatus, ComuneOutcome, Objective, Programme},
};

#[cfg(feature = "ssr")]
pub mod export;
pub mod server;
pub mod ui;

#[cfg(test)]
mod tests;

/// How far ahead "in scadenza" looks, in days. Thirty days is about one month of municipal
/// work: enough to get a giunta resolution or a supplier's activation done once the Region
/// calls, short enough that the list holds only what needs a call now. The Fondo Innovazione's
/// step-1 deadline (28/02/2021) is 13 days after `?al=2021-02-15`, so the demo shows it.
pub const WINDOW_DAYS: i64 = 30;

/// The categories of the workspace's blocker form (one list for both).
pub use crate::workspace::BlockerCategory;

/// One blocker as the pages show it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlockerView {
    pub category: BlockerCategory,
    pub description: String,
    pub opened_on: NaiveDate,
    pub resolved_on: Option<NaiveDate>,
}

impl BlockerView {
    /// "Fornitore: il partner tecnologico non ha ancora attivato il servizio".
    pub fn text(&self) -> String {
        format!("{}: {}", self.category.label(), self.description)
    }
}

/// The page's query as the URL holds it (`?al=2021-02-15&provincia=LE`); empty values mean
/// "today" and "all provinces".
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScadenzeQuery {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub al: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provincia: Option<String>,
    /// `rischio`: the objectives still open most at risk first (by how far after its deadline
    /// each is forecast); `scadenza` or nothing: by deadline.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ordina: Option<String>,
    /// The page of each table (`pagina_scaduti`, `pagina_in_scadenza`, `pagina_a_rischio`;
    /// empty: the first), see [`SECTIONS`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pagina_scaduti: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pagina_in_scadenza: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pagina_a_rischio: Option<String>,
}

/// The page's three tables in order (overdue, due soon, at risk later): each one's page
/// parameter and its heading's anchor, where its page links land. Each table has its own page:
/// at national scale each can hold thousands of rows.
pub const SECTIONS: [(&str, &str); 3] =
    [("pagina_scaduti", "scaduti"), ("pagina_in_scadenza", "in-scadenza"), ("pagina_a_rischio", "a-rischio")];

/// A checked [`ScadenzeQuery`]; `al: None` is today.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ValidScadenzeQuery {
    pub al: Option<NaiveDate>,
    /// One of the territory's siglas, in capitals.
    pub provincia: Option<String>,
    /// Sort the open objectives by risk (`ordina=rischio`).
    pub by_risk: bool,
    /// The page shown of each table, in [`SECTIONS`]' order (1-based).
    pub pages: [usize; 3],
}

impl Default for ValidScadenzeQuery {
    fn default() -> Self {
        Self { al: None, provincia: None, by_risk: false, pages: [1; 3] }
    }
}

/// The earliest and latest day `?al=` accepts: the rules have nothing to say outside, and a
/// bounded year keeps date arithmetic far from chrono's limits.
const FIRST_YEAR: i32 = 2000;
const LAST_YEAR: i32 = 2100;

/// `2021-02-15` (what a date input sends) or `15/02/2021` (what a person types where the
/// browser shows a text box).
pub fn parse_day(raw: &str) -> Result<NaiveDate, AppError> {
    let raw = raw.trim();
    NaiveDate::parse_from_str(raw, "%Y-%m-%d")
        .or_else(|_| NaiveDate::parse_from_str(raw, "%d/%m/%Y"))
        .ok()
        .filter(|d| (FIRST_YEAR..=LAST_YEAR).contains(&chrono::Datelike::year(d)))
        .ok_or_else(|| {
            AppError::BadRequest(format!(
                "Data non valida: «{raw}». Indicare una data tra il {FIRST_YEAR} e il {LAST_YEAR} nel formato \
                 AAAA-MM-GG (ad esempio 2021-02-15) oppure GG/MM/AAAA (ad esempio 15/02/2021)."
            ))
        })
}

impl ScadenzeQuery {
    /// Checks the raw values; the province must be one of `territory`'s.
    pub fn validate(&self, territory: &crate::comuni::Territory) -> Result<ValidScadenzeQuery, AppError> {
        let al = match self.al.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            None => None,
            Some(raw) => Some(parse_day(raw)?),
        };
        // The same province check, and message, as the comuni filters.
        let provincia =
            crate::comuni::ComuniFilter { provincia: self.provincia.clone(), ..Default::default() }
                .validate_for(None, territory)
                .map_err(|e| AppError::BadRequest(e.to_string()))?
                .provincia;
        let by_risk = match self.ordina.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            None | Some("scadenza") => false,
            Some("rischio") => true,
            Some(other) => {
                return Err(AppError::BadRequest(format!(
                    "Ordinamento non valido: «{other}». Valori ammessi: «scadenza» oppure «rischio»."
                )))
            }
        };
        let mut pages = [1; 3];
        for (page, raw) in
            pages.iter_mut().zip([&self.pagina_scaduti, &self.pagina_in_scadenza, &self.pagina_a_rischio])
        {
            *page = crate::paging::parse_page(raw.as_deref().unwrap_or_default())
                .map_err(AppError::BadRequest)?;
        }
        Ok(ValidScadenzeQuery { al, provincia, by_risk, pages })
    }
}

impl ValidScadenzeQuery {
    /// The query string (`al=2021-02-15&provincia=LE`), for the export link.
    pub fn query(&self) -> String {
        let mut parts = Vec::new();
        if let Some(d) = self.al {
            parts.push(format!("al={}", d.format("%Y-%m-%d")));
        }
        if let Some(p) = &self.provincia {
            parts.push(format!("provincia={p}"));
        }
        if self.by_risk {
            parts.push("ordina=rischio".to_string());
        }
        for ((key, _), page) in SECTIONS.iter().zip(self.pages) {
            if page > 1 {
                parts.push(format!("{key}={page}"));
            }
        }
        parts.join("&")
    }

    /// The same query on the first page of every table (the exports take every row).
    pub fn first_pages(&self) -> Self {
        Self { pages: [1; 3], ..self.clone() }
    }

    /// The address of page `page` of table `section` (an index into [`SECTIONS`]), the other
    /// tables staying where they are, landing on the table's heading.
    pub fn page_href(&self, section: usize, page: usize) -> String {
        let mut q = self.clone();
        q.pages[section] = page;
        let query = q.query();
        let anchor = SECTIONS[section].1;
        if query.is_empty() {
            format!("/scadenze#{anchor}")
        } else {
            format!("/scadenze?{query}#{anchor}")
        }
    }
}

/// How far an objective is from its deadline on the day asked about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Urgency {
    /// The deadline passed this many days ago (at least 1).
    Overdue { days: i64 },
    /// The deadline is this many days ahead (0 = today, at most [`WINDOW_DAYS`]).
    DueSoon { days: i64 },
}

impl Urgency {
    /// In words: the status is never told by colour alone.
    pub fn label(self) -> String {
        match self {
            Urgency::Overdue { days: 1 } => "Scaduto da 1 giorno".to_string(),
            Urgency::Overdue { days } => format!("Scaduto da {} giorni", crate::format::int(days)),
            Urgency::DueSoon { days: 0 } => "In scadenza oggi".to_string(),
            Urgency::DueSoon { days: 1 } => "In scadenza domani".to_string(),
            Urgency::DueSoon { days } => format!("In scadenza tra {days} giorni"),
        }
    }

    /// The CSV's `stato` column.
    pub fn code(self) -> &'static str {
        match self {
            Urgency::Overdue { .. } => "scaduto",
            Urgency::DueSoon { .. } => "in_scadenza",
        }
    }

    pub fn days(self) -> i64 {
        match self {
            Urgency::Overdue { days } | Urgency::DueSoon { days } => days,
        }
    }

    /// A CSS modifier: the colour only repeats the label.
    pub fn css(self) -> &'static str {
        match self {
            Urgency::Overdue { .. } => "stato stato-no",
            Urgency::DueSoon { .. } => "stato stato-ritardo",
        }
    }
}

/// What [`pending_objectives`] reads about one comune.
#[derive(Clone, Copy, Debug)]
pub struct ComuneStanding<'a> {
    pub codice_istat: &'a str,
    pub denominazione: &'a str,
    pub adhesion: AdhesionStatus,
    /// The rules' outcome on the day asked about; its objectives in the programme's order.
    pub outcome: &'a ComuneOutcome,
}

/// One objective of one comune that needs attention.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PendingObjective<'a> {
    pub codice_istat: &'a str,
    pub denominazione: &'a str,
    pub objective: &'a Objective,
    pub urgency: Urgency,
}

/// The objectives not reached on `as_of` whose deadline has passed (before `as_of`) or falls
/// within `window_days` days (from `as_of` itself to `as_of + window_days`, both included), for
/// the comuni in the programme (`aderente`, `aderente_in_ritardo`: the others have no
/// objectives to meet). Ordered by deadline, then comune name, then the programme's order of
/// objectives. An objective reached late, before `as_of`, is reached: it is not listed.
pub fn pending_objectives<'a>(
    programme: &'a Programme,
    comuni: impl IntoIterator<Item = ComuneStanding<'a>>,
    as_of: NaiveDate,
    window_days: i64,
) -> Vec<PendingObjective<'a>> {
    let mut pending = Vec::new();
    for c in comuni {
        if !c.adhesion.is_supported() {
            continue;
        }
        for objective in &programme.objectives {
            let reached =
                c.outcome.objectives.iter().any(|o| o.code == objective.code && o.reached_on.is_some());
            if reached {
                continue;
            }
            // Differences of days, never `as_of + window`: no date arithmetic can overflow.
            let ahead = (objective.deadline - as_of).num_days();
            let urgency = if ahead < 0 {
                Urgency::Overdue { days: -ahead }
            } else if ahead <= window_days {
                Urgency::DueSoon { days: ahead }
            } else {
                continue;
            };
            pending.push(PendingObjective {
                codice_istat: c.codice_istat,
                denominazione: c.denominazione,
                objective,
                urgency,
            });
        }
    }
    // Stable: objectives of one comune with one deadline keep the programme's order.
    pending.sort_by(|a, b| {
        (a.objective.deadline, a.denominazione, a.codice_istat).cmp(&(
            b.objective.deadline,
            b.denominazione,
            b.codice_istat,
        ))
    });
    pending
}

/// One row of the page's tables and of the CSV.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScadenzaRow {
    pub codice_istat: String,
    pub denominazione: String,
    pub sigla_provincia: String,
    pub objective_code: String,
    /// `pagopa`, `io`, `spid_cie`.
    pub platform_code: String,
    /// "pagoPA", "App IO", "SPID/CIE".
    pub platform: String,
    pub description: String,
    pub deadline: NaiveDate,
    pub urgency: Urgency,
    /// The comune's blockers open on the day asked about.
    pub blockers: Vec<BlockerView>,
    /// The forecast of an objective still open (none for an overdue one). Public: computed
    /// from the comune's public service data.
    pub previsione: Option<RowForecast>,
}

/// An open objective's forecast in a row of `/scadenze`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RowForecast {
    /// The expected day; `None`: no progress at the current pace.
    pub expected: Option<NaiveDate>,
    pub at_risk: bool,
}

impl RowForecast {
    /// In words, for the table.
    pub fn label(self) -> String {
        match (self.at_risk, self.expected) {
            (true, Some(d)) => format!("A rischio: prevista il {}", crate::format::date(d)),
            (true, None) => "A rischio: nessun progresso".to_string(),
            (false, Some(d)) => format!("In tempo: prevista il {}", crate::format::date(d)),
            (false, None) => "In tempo".to_string(),
        }
    }

    /// Days the expected day falls after `deadline` (negative: before it); `i64::MAX` with no
    /// expected day: the sort key of `ordina=rischio`, larger is worse.
    pub fn lateness(self, deadline: NaiveDate) -> i64 {
        self.expected.map_or(i64::MAX, |d| (d - deadline).num_days())
    }
}

/// Sorts rows most at risk first (`ordina=rischio`): by [`RowForecast::lateness`], rows without
/// a forecast last, then by deadline and comune as before (a stable sort).
pub fn sort_by_risk(rows: &mut [ScadenzaRow]) {
    rows.sort_by_key(|r| std::cmp::Reverse(r.previsione.map_or(i64::MIN, |f| f.lateness(r.deadline))));
}

/// Everything `/scadenze` shows.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScadenzeData {
    /// The day asked about (today unless `?al=`).
    pub as_of: NaiveDate,
    pub provincia: Option<String>,
    pub window_days: i64,
    /// Past their deadline and not reached.
    pub overdue: Vec<ScadenzaRow>,
    /// Due within `window_days` days and not reached.
    pub due_soon: Vec<ScadenzaRow>,
    /// Due later than `window_days` days, not reached and forecast *a rischio*.
    pub at_risk: Vec<ScadenzaRow>,
    /// Sorted by risk (`ordina=rischio`).
    pub by_risk: bool,
    /// A `comune` user: only the comuni they operate for are listed.
    pub own_comuni_only: bool,
    pub demo: bool,
    /// `Some(as_of)` when the day asked about is a past day: the page says so.
    #[serde(default)]
    pub al: Option<NaiveDate>,
    /// Each table's size and page, in [`SECTIONS`]' order, counted before [`Self::paginate`]
    /// keeps one page of rows.
    #[serde(default)]
    pub counts: [TableCount; 3],
}

/// How many rows a table of `/scadenze` has in all, in how many comuni, and the page shown.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TableCount {
    /// Objectives (rows) in all.
    pub total: usize,
    /// Distinct comuni among them.
    pub comuni: usize,
    pub page: usize,
    pub pages: usize,
}

impl TableCount {
    fn of(rows: &[ScadenzaRow], asked: usize) -> Self {
        let mut comuni: Vec<&str> = rows.iter().map(|r| r.codice_istat.as_str()).collect();
        comuni.sort_unstable();
        comuni.dedup();
        let (page, pages) = crate::paging::page_of(asked, rows.len());
        Self { total: rows.len(), comuni: comuni.len(), page, pages }
    }
}

impl ScadenzeData {
    /// Counts each table and keeps only page `pages[i]` of table `i` ([`crate::paging::PAGE_SIZE`]
    /// rows; a page past the last keeps the last). The page sends one page per table; the
    /// exports take the data whole.
    pub fn paginate(mut self, pages: [usize; 3]) -> Self {
        for (i, rows) in [&mut self.overdue, &mut self.due_soon, &mut self.at_risk].into_iter().enumerate() {
            let count = TableCount::of(rows, pages[i]);
            let start = crate::paging::offset(count.page).min(rows.len());
            let end = (start + crate::paging::PAGE_SIZE).min(rows.len());
            rows.truncate(end);
            rows.drain(..start);
            self.counts[i] = count;
        }
        self
    }
}

/// Properties of `?al=&provincia=` (see `crate::fuzz`): any query string is refused with a 400
/// in words, or validates to a query whose own query string reads back to it.
#[cfg(all(test, feature = "ssr"))]
mod props {
    use axum::extract::Query;
    use proptest::prelude::*;

    use super::ScadenzeQuery;
    use crate::{
        error::AppError,
        fuzz::{check, query_string, uri},
    };

    #[test]
    fn prop_a_valid_deadline_query_reads_back_from_its_own_query_string() {
        let keys = &[
            "al",
            "provincia",
            "2021-02-15",
            "15/02/2021",
            "31/02/2021",
            "2100-12-31",
            "LE",
            "ta",
            "pagina_scaduti",
            "pagina_a_rischio",
            "2",
            "0",
        ];
        let territory = crate::data::registry::territory();
        check("scadenze::ScadenzeQuery::validate", query_string(keys), |query| {
            let Some(uri) = uri(&query) else { return Ok(()) };
            let Ok(Query(raw)) = Query::<ScadenzeQuery>::try_from_uri(&uri) else { return Ok(()) };
            match raw.validate(&territory) {
                Ok(valid) => {
                    let again = crate::fuzz::uri(&valid.query()).expect("a valid URI");
                    let Query(again) = Query::<ScadenzeQuery>::try_from_uri(&again)
                        .map_err(|e| TestCaseError::fail(e.to_string()))?;
                    prop_assert_eq!(again.validate(&territory).ok(), Some(valid));
                }
                Err(AppError::BadRequest(m)) => prop_assert!(!m.is_empty()),
                Err(other) => prop_assert!(false, "not a 400: {other:?}"),
            }
            Ok(())
        });
    }
}
