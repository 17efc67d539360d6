//! The comuni: the filterable list, one comune's page and the CSV export (the open-data
//! contract). Types here travel between server and browser; the server functions are in
//! [`server`], the views in [`ui`].

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::rules::{AdhesionStatus, Platform, TrancheStatus};

#[cfg(feature = "ssr")]
pub mod cli;
#[cfg(feature = "ssr")]
pub mod export;
#[cfg(all(test, feature = "ssr"))]
mod props;
pub mod search;
pub mod server;
pub mod territory;
pub mod ui;
#[cfg(feature = "ssr")]
pub mod xlsx;

pub use search::Search;
pub use territory::{Provincia, Territory};

/// The filters shared by `/comuni`, the dashboard (cards, charts, map) and `/export/comuni.csv`,
/// as they appear in the URL (`?provincia=LE&adesione=aderente&popolazione=0-5000`). Empty
/// values mean "all". One filter, applied in one place ([`ValidFilter`] over the snapshot), is
/// what keeps the cards, the charts, the map and the CSV in agreement.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::IntoParams))]
#[cfg_attr(feature = "ssr", into_params(parameter_in = Query))]
pub struct ComuniFilter {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provincia: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub adesione: Option<String>,
    /// A population band as `min-max` (max exclusive) or `min-` (no upper bound).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub popolazione: Option<String>,
    /// `pagopa`, `io` or `spid_cie`: comuni with at least one service active on it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub piattaforma: Option<String>,
    /// The comuni behind one headline figure (see [`Milestone`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub traguardo: Option<String>,
    /// Free text: part of the name (accents, case and punctuation ignored), the start of the
    /// ISTAT code or the cadastral code (see [`search`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub q: Option<String>,
    /// `raggiunto` or `non_raggiunto`: step 1 reached (on time or late) or not, among the comuni
    /// in the programme.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub primo_step: Option<String>,
    /// `raggiunto` or `non_raggiunto`: the final step, like `primo_step`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finale: Option<String>,
    /// `si`: comuni in the programme with at least one objective past its deadline and never
    /// reached.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scaduto: Option<String>,
    /// `si`: comuni with at least one open blocker. Reserved to the Region and assessors
    /// (signed in): blockers are not public data, so anyone else gets a 400.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bloccato: Option<String>,
    /// The day the figures are of (`2021-02-28` or `28/02/2021`): the programme as it stood at
    /// the end of that day. Empty: today. It travels with the filters so that every link built
    /// from the filter's query string (pagination, sort, cards, provinces, exports) keeps it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub al: Option<String>,
}

/// A filter value that is not one of the known ones, said in Italian.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum FilterError {
    /// Not a sigla at all; whether a sigla is one of the territory's is checked against the
    /// territory, on the server ([`ComuniFilter::validate_for`]).
    #[error("Sigla di provincia non valida: «{0}». Usare la sigla di due lettere, ad esempio BA.")]
    SiglaProvincia(String),
    #[error("Provincia sconosciuta: «{sigla}». Valori ammessi: {ammesse}.")]
    Provincia { sigla: String, ammesse: String },
    #[error("Stato di adesione sconosciuto: «{0}». Valori ammessi: aderente, aderente_in_ritardo, non_aderente, rinuncia.")]
    Adesione(String),
    #[error("Fascia di popolazione non valida: «{0}». Usare «minimo-massimo» (ad esempio 0-5000) oppure «minimo-» (ad esempio 200000-).")]
    Popolazione(String),
    #[error("Piattaforma sconosciuta: «{0}». Valori ammessi: pagopa, io, spid_cie.")]
    Piattaforma(String),
    #[error("Traguardo sconosciuto: «{0}».")]
    Traguardo(String),
    #[error("Ricerca troppo lunga: al massimo {max} caratteri.", max = search::MAX_SEARCH_CHARS)]
    Ricerca,
    #[error("Valore non valido per il primo step: «{0}». Valori ammessi: raggiunto, non_raggiunto.")]
    PrimoStep(String),
    #[error("Valore non valido per gli obiettivi finali: «{0}». Valori ammessi: raggiunto, non_raggiunto.")]
    Finale(String),
    #[error("Valore non valido per «scaduto»: «{0}». Valore ammesso: si.")]
    Scaduto(String),
    #[error("Valore non valido per «bloccato»: «{0}». Valore ammesso: si.")]
    Bloccato(String),
    /// Blockers are not public data, not even their existence: only those who read every
    /// comune's private data may select comuni by them.
    #[error("Il filtro «bloccato» è riservato alla Regione e agli assessori: i blocchi dei comuni non sono dati pubblici.")]
    BloccatoRiservato,
    #[error("Ordinamento sconosciuto: «{0}». Valori ammessi: nome, istat, provincia, popolazione, adesione, primo_step, finale.")]
    Ordina(String),
    #[error("Verso dell'ordinamento sconosciuto: «{0}». Valori ammessi: asc, desc.")]
    Verso(String),
    #[error("Numero di pagina non valido: «{0}». Usare un numero intero da 1 in su.")]
    Pagina(String),
    /// A day that is not a date (the message of [`crate::scadenze::parse_day`]); whether it
    /// falls inside the programme is checked against the programme, on the server.
    #[error("{0}")]
    Giorno(String),
}

/// A step filter: reached (on time or late) or not yet, among the comuni in the programme.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum StepFilter {
    Raggiunto,
    NonRaggiunto,
}

impl StepFilter {
    pub const ALL: [StepFilter; 2] = [StepFilter::Raggiunto, StepFilter::NonRaggiunto];

    pub fn code(self) -> &'static str {
        match self {
            StepFilter::Raggiunto => "raggiunto",
            StepFilter::NonRaggiunto => "non_raggiunto",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.code() == code)
    }

    pub fn label(self) -> &'static str {
        match self {
            StepFilter::Raggiunto => "Raggiunto (anche in ritardo)",
            StepFilter::NonRaggiunto => "Non raggiunto",
        }
    }
}

/// A population band: `min` inclusive, `max` exclusive (`None` = no upper bound), as the
/// programme's funding bands are written.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PopulationBand {
    pub min: i64,
    pub max: Option<i64>,
}

impl PopulationBand {
    /// `0-5000`, `200000-`.
    pub fn parse(s: &str) -> Option<Self> {
        let (a, b) = s.split_once('-')?;
        let min = a.trim().parse::<i64>().ok().filter(|n| *n >= 0)?;
        let max = match b.trim() {
            "" => None,
            b => Some(b.parse::<i64>().ok().filter(|m| *m > min)?),
        };
        Some(PopulationBand { min, max })
    }

    pub fn code(&self) -> String {
        match self.max {
            Some(max) => format!("{}-{max}", self.min),
            None => format!("{}-", self.min),
        }
    }

    pub fn contains(&self, population: i64) -> bool {
        population >= self.min && self.max.is_none_or(|m| population < m)
    }

    /// In words: "fino a 4.999 abitanti", "da 5.000 a 39.999 abitanti", "200.000 abitanti e oltre".
    pub fn label(&self) -> String {
        use crate::format::int;
        match self.max {
            Some(max) if self.min == 0 => format!("fino a {} abitanti", int(max - 1)),
            Some(max) => format!("da {} a {} abitanti", int(self.min), int(max - 1)),
            None => format!("{} abitanti e oltre", int(self.min)),
        }
    }
}

/// The comuni behind each headline figure of the dashboard: every card links to `/comuni` with
/// its milestone, so the list shows exactly the comuni the figure counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Milestone {
    /// Aderenti and aderenti in ritardo.
    Supportati,
    PrimoStepInTempo,
    /// Step 1 reached, on time or late.
    PrimoStep,
    TuttiObiettivi,
    /// At least one collection service active on MyPay.
    MyPay,
    /// At least one MyPay service activated during the project.
    MyPayNelProgetto,
    IoTramiteRegione,
    ContributoMaturato,
    ContributoPossibile,
    ContributoPerso,
    ContributoRinunciato,
    /// At least one open objective forecast after its deadline (or with no progress): only on a
    /// day before a deadline (`rules::forecast`).
    ARischio,
}

impl Milestone {
    pub const ALL: [Milestone; 12] = [
        Milestone::Supportati,
        Milestone::PrimoStepInTempo,
        Milestone::PrimoStep,
        Milestone::TuttiObiettivi,
        Milestone::MyPay,
        Milestone::MyPayNelProgetto,
        Milestone::IoTramiteRegione,
        Milestone::ContributoMaturato,
        Milestone::ContributoPossibile,
        Milestone::ContributoPerso,
        Milestone::ContributoRinunciato,
        Milestone::ARischio,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Milestone::Supportati => "supportati",
            Milestone::PrimoStepInTempo => "primo_step_in_tempo",
            Milestone::PrimoStep => "primo_step",
            Milestone::TuttiObiettivi => "tutti_obiettivi",
            Milestone::MyPay => "mypay",
            Milestone::MyPayNelProgetto => "mypay_nel_progetto",
            Milestone::IoTramiteRegione => "io_tramite_regione",
            Milestone::ContributoMaturato => "contributo_maturato",
            Milestone::ContributoPossibile => "contributo_possibile",
            Milestone::ContributoPerso => "contributo_perso",
            Milestone::ContributoRinunciato => "contributo_rinunciato",
            Milestone::ARischio => "a_rischio",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|m| m.code() == code)
    }

    /// In words, for the list's heading and the select.
    pub fn label(self) -> &'static str {
        match self {
            Milestone::Supportati => "Aderenti (anche in ritardo)",
            Milestone::PrimoStepInTempo => "Primo step raggiunto entro la scadenza",
            Milestone::PrimoStep => "Primo step raggiunto (anche in ritardo)",
            Milestone::TuttiObiettivi => "Tutti gli obiettivi raggiunti entro le scadenze",
            Milestone::MyPay => "Con servizi pagoPA attivi su MyPay",
            Milestone::MyPayNelProgetto => "Con servizi attivati su MyPay durante il progetto",
            Milestone::IoTramiteRegione => "Su App IO tramite la Regione",
            Milestone::ContributoMaturato => "Con contributo maturato",
            Milestone::ContributoPossibile => "Con contributo ancora possibile",
            Milestone::ContributoPerso => "Con contributo perso",
            Milestone::ContributoRinunciato => "Con contributo rinunciato",
            Milestone::ARischio => "A rischio: obiettivi previsti oltre la scadenza",
        }
    }
}

/// A validated filter.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ValidFilter {
    /// A sigla in capitals; one of the territory's once [`ComuniFilter::validate_for`] passed.
    pub provincia: Option<String>,
    pub adesione: Option<AdhesionStatus>,
    pub popolazione: Option<PopulationBand>,
    pub piattaforma: Option<Platform>,
    /// The comuni counted by every one of these headline figures (a card's link under a
    /// filter that already names a figure narrows it further), in [`Milestone::ALL`]'s order.
    pub traguardo: Vec<Milestone>,
    pub q: Option<Search>,
    pub primo_step: Option<StepFilter>,
    pub finale: Option<StepFilter>,
    /// Only the comuni with an overdue objective.
    pub scaduto: bool,
    /// Only the comuni with an open blocker.
    pub bloccato: bool,
    /// The day asked about; `None` is today. Checked against the programme's start and today
    /// by `AppState::snapshot_on`, which gives the snapshot of that day.
    pub al: Option<NaiveDate>,
}

/// Milestones in [`Milestone::ALL`]'s order, each once: one query string per set.
fn milestone_set(mut set: Vec<Milestone>) -> Vec<Milestone> {
    set.sort_by_key(|m| Milestone::ALL.iter().position(|a| a == m));
    set.dedup();
    set
}

/// `primo_step,tutti_obiettivi`, or `None` for no milestone.
fn milestone_codes(set: &[Milestone]) -> Option<String> {
    (!set.is_empty()).then(|| set.iter().map(|m| m.code()).collect::<Vec<_>>().join(","))
}

/// The parameters [`ValidFilter::query`] writes after `traguardo`.
const AFTER_MILESTONE: [&str; 5] = ["primo_step=", "finale=", "scaduto=", "bloccato=", "al="];

/// The query string `query` (a validated filter's, as the dashboard holds it) narrowed to one
/// more milestone: the link of a card, equal to `with_milestone(m).query()`. Its `traguardo` is
/// merged, never repeated (a repeated parameter was read as its first value, so the list did not
/// match the card).
pub fn query_with_milestone(query: &str, m: Milestone) -> String {
    let mut set = vec![m];
    let mut parts: Vec<String> = Vec::new();
    let mut at = None;
    for part in query.split('&').filter(|p| !p.is_empty()) {
        match part.strip_prefix("traguardo=") {
            Some(codes) => {
                set.extend(codes.split(',').filter_map(Milestone::from_code));
                at.get_or_insert(parts.len());
            }
            None => parts.push(part.to_string()),
        }
    }
    let at = at.unwrap_or_else(|| {
        parts.iter().position(|p| AFTER_MILESTONE.iter().any(|k| p.starts_with(k))).unwrap_or(parts.len())
    });
    parts.insert(at, format!("traguardo={}", milestone_codes(&milestone_set(set)).unwrap_or_default()));
    parts.join("&")
}

fn non_empty(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

impl ComuniFilter {
    /// Checks the raw values; empty strings mean "no filter".
    pub fn validate(&self) -> Result<ValidFilter, FilterError> {
        let provincia = match non_empty(&self.provincia) {
            None => None,
            Some(p) if p.len() == 2 && p.bytes().all(|b| b.is_ascii_alphabetic()) => {
                Some(p.to_ascii_uppercase())
            }
            Some(p) => return Err(FilterError::SiglaProvincia(p.to_string())),
        };
        let adesione = match non_empty(&self.adesione) {
            None => None,
            Some(a) => {
                Some(AdhesionStatus::from_code(a).ok_or_else(|| FilterError::Adesione(a.to_string()))?)
            }
        };
        let popolazione = match non_empty(&self.popolazione) {
            None => None,
            Some(b) => Some(PopulationBand::parse(b).ok_or_else(|| FilterError::Popolazione(b.to_string()))?),
        };
        let piattaforma = match non_empty(&self.piattaforma) {
            None => None,
            Some(p) => Some(Platform::from_code(p).ok_or_else(|| FilterError::Piattaforma(p.to_string()))?),
        };
        let traguardo = match non_empty(&self.traguardo) {
            None => Vec::new(),
            Some(t) => {
                let mut set = Vec::new();
                for code in t.split(',').map(str::trim).filter(|c| !c.is_empty()) {
                    set.push(
                        Milestone::from_code(code).ok_or_else(|| FilterError::Traguardo(code.to_string()))?,
                    );
                }
                milestone_set(set)
            }
        };
        let q = match non_empty(&self.q) {
            None => None,
            Some(q) if q.chars().count() > search::MAX_SEARCH_CHARS => return Err(FilterError::Ricerca),
            Some(q) => Search::new(q),
        };
        let step = |v: &Option<String>, err: fn(String) -> FilterError| match non_empty(v) {
            None => Ok(None),
            Some(s) => StepFilter::from_code(s).map(Some).ok_or_else(|| err(s.to_string())),
        };
        let primo_step = step(&self.primo_step, FilterError::PrimoStep)?;
        let finale = step(&self.finale, FilterError::Finale)?;
        let yes = |v: &Option<String>, err: fn(String) -> FilterError| match non_empty(v) {
            None => Ok(false),
            Some("si") => Ok(true),
            Some(s) => Err(err(s.to_string())),
        };
        let scaduto = yes(&self.scaduto, FilterError::Scaduto)?;
        let bloccato = yes(&self.bloccato, FilterError::Bloccato)?;
        let al = match non_empty(&self.al) {
            None => None,
            Some(raw) => {
                Some(crate::scadenze::parse_day(raw).map_err(|e| FilterError::Giorno(e.to_string()))?)
            }
        };
        Ok(ValidFilter {
            provincia,
            adesione,
            popolazione,
            piattaforma,
            traguardo,
            q,
            primo_step,
            finale,
            scaduto,
            bloccato,
            al,
        })
    }
}

impl ComuniFilter {
    /// [`ComuniFilter::validate`], and the province one of `territory`'s (refused with the
    /// allowed ones). For the operator's command line, who may use every filter; a request's
    /// filter goes through [`ComuniFilter::validate_for`].
    pub fn validate_in(&self, territory: &Territory) -> Result<ValidFilter, FilterError> {
        let valid = self.validate()?;
        if let Some(p) = &valid.provincia {
            if territory.provincia(p).is_none() {
                return Err(FilterError::Provincia { sigla: p.clone(), ammesse: territory.sigle() });
            }
        }
        Ok(valid)
    }

    /// [`ComuniFilter::validate`] for someone in `territory`: a province the territory does not
    /// have is refused with the allowed ones, and a filter that only some may use (`bloccato`,
    /// which tells which comuni have open blockers) is refused for the others, so the public
    /// pages, exports and API never answer it. Every route and server function that takes a
    /// filter from a request validates it here.
    pub fn validate_for(
        &self,
        viewer: Option<&crate::auth::CurrentUser>,
        territory: &Territory,
    ) -> Result<ValidFilter, FilterError> {
        let valid = self.validate_in(territory)?;
        if valid.bloccato && !crate::auth::may_filter_by_blockers(viewer) {
            return Err(FilterError::BloccatoRiservato);
        }
        Ok(valid)
    }
}

impl ValidFilter {
    /// The filter in words, one phrase per filter set ("provincia di Taranto", "adesione
    /// «Aderente»"), for the dashboard's sentence and the exports' filter sheet. `bands` names
    /// the population bands as the forms offer them, `province` the provinces by name.
    pub fn phrases(&self, bands: &[FilterChoice], province: &[Provincia]) -> Vec<String> {
        let v = self;
        let mut parts = Vec::new();
        if let Some(p) = &v.provincia {
            let name = province.iter().find(|x| x.sigla == *p).map_or(p.as_str(), |x| x.nome.as_str());
            parts.push(format!("provincia di {name}"));
        }
        if let Some(a) = v.adesione {
            parts.push(format!("adesione «{}»", a.label()));
        }
        if let Some(b) = v.popolazione {
            let label = bands
                .iter()
                .find(|c| c.value == b.code())
                .map(|c| c.label.clone())
                .unwrap_or_else(|| b.label());
            parts.push(format!("popolazione {label}"));
        }
        if let Some(p) = v.piattaforma {
            parts.push(format!("con servizi attivi su {}", p.label()));
        }
        match v.traguardo.as_slice() {
            [] => {}
            [t] => parts.push(format!("traguardo «{}»", t.label())),
            ts => parts.push(format!(
                "traguardi {}",
                ts.iter().map(|t| format!("«{}»", t.label())).collect::<Vec<_>>().join(" e ")
            )),
        }
        if let Some(q) = &v.q {
            parts.push(format!("ricerca «{}»", q.text()));
        }
        if let Some(st) = v.primo_step {
            parts.push(format!("primo step «{}»", st.label()));
        }
        if let Some(st) = v.finale {
            parts.push(format!("obiettivi finali «{}»", st.label()));
        }
        if v.scaduto {
            parts.push("con obiettivi scaduti e non raggiunti".to_string());
        }
        if v.bloccato {
            parts.push("con blocchi aperti".to_string());
        }
        parts
    }

    /// The query string of this filter, for links (`provincia=LE&adesione=aderente`); the
    /// search is percent-encoded.
    pub fn query(&self) -> String {
        let mut parts = Vec::new();
        if let Some(q) = &self.q {
            parts.push(format!("q={}", search::encode_query_value(q.text())));
        }
        if let Some(p) = &self.provincia {
            parts.push(format!("provincia={p}"));
        }
        if let Some(a) = self.adesione {
            parts.push(format!("adesione={}", a.code()));
        }
        if let Some(b) = self.popolazione {
            parts.push(format!("popolazione={}", b.code()));
        }
        if let Some(p) = self.piattaforma {
            parts.push(format!("piattaforma={}", p.code()));
        }
        if let Some(t) = milestone_codes(&self.traguardo) {
            parts.push(format!("traguardo={t}"));
        }
        if let Some(s) = self.primo_step {
            parts.push(format!("primo_step={}", s.code()));
        }
        if let Some(s) = self.finale {
            parts.push(format!("finale={}", s.code()));
        }
        if self.scaduto {
            parts.push("scaduto=si".to_string());
        }
        if self.bloccato {
            parts.push("bloccato=si".to_string());
        }
        // Last, and only when asked: today's links are those of before days could be asked.
        if let Some(d) = self.al {
            parts.push(format!("al={}", d.format("%Y-%m-%d")));
        }
        parts.join("&")
    }

    /// The same filter on today (the notice's link back to the present).
    pub fn today(&self) -> ValidFilter {
        ValidFilter { al: None, ..self.clone() }
    }

    /// The same filter narrowed to one more milestone (the cards' links): under a filter that
    /// names a figure already, a card counts the comuni of both, and so does its list.
    pub fn with_milestone(&self, m: Milestone) -> ValidFilter {
        let mut traguardo = self.traguardo.clone();
        traguardo.push(m);
        ValidFilter { traguardo: milestone_set(traguardo), ..self.clone() }
    }

    /// The same filter narrowed to one province (the tables' links).
    pub fn with_provincia(&self, sigla: &str) -> ValidFilter {
        ValidFilter { provincia: Some(sigla.to_string()), ..self.clone() }
    }

    /// The query string back as the raw filter (what the browser's URL holds).
    pub fn raw(&self) -> ComuniFilter {
        ComuniFilter {
            provincia: self.provincia.clone(),
            adesione: self.adesione.map(|a| a.code().to_string()),
            popolazione: self.popolazione.map(|b| b.code()),
            piattaforma: self.piattaforma.map(|p| p.code().to_string()),
            traguardo: milestone_codes(&self.traguardo),
            q: self.q.as_ref().map(|q| q.text().to_string()),
            primo_step: self.primo_step.map(|s| s.code().to_string()),
            finale: self.finale.map(|s| s.code().to_string()),
            scaduto: self.scaduto.then(|| "si".to_string()),
            bloccato: self.bloccato.then(|| "si".to_string()),
            al: self.al.map(|d| d.format("%Y-%m-%d").to_string()),
        }
    }
}

/// A choice in a filter's select: the URL value and its label.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FilterChoice {
    pub value: String,
    pub label: String,
}

/// One row of the `/comuni` table.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ComuneListRow {
    pub codice_istat: String,
    pub denominazione: String,
    pub sigla_provincia: String,
    pub popolazione: i64,
    pub adesione: AdhesionStatus,
    pub primo_step: StepState,
    pub finale: StepState,
}

/// The rows of `/comuni` on one page, sorted, with what the count sentence and the pagination
/// need.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ListPage {
    pub rows: Vec<ComuneListRow>,
    /// Comuni matching the filter, on every page.
    pub total: usize,
    /// 1-based, within `1..=pages`.
    pub page: usize,
    /// At least 1 (an empty result is one empty page).
    pub pages: usize,
    /// The past day the list is of (`None`: today): the notice and the comuni's links.
    #[serde(default)]
    pub al: Option<NaiveDate>,
}

/// Rows per page of `/comuni`: the one page size of every list.
pub use crate::paging::PAGE_SIZE;

/// How the list is ordered and which page it shows, as the URL holds it
/// (`?ordina=popolazione&verso=desc&pagina=2`); empty values mean the defaults. List-only: the
/// dashboard ignores it, the CSV uses the order but not the page.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListParams {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ordina: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verso: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pagina: Option<String>,
}

/// A column the list can be sorted by.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum SortKey {
    Nome,
    /// The default: the registry's order (and the CSV's historical order).
    #[default]
    Istat,
    Provincia,
    Popolazione,
    Adesione,
    PrimoStep,
    Finale,
}

impl SortKey {
    pub const ALL: [SortKey; 7] = [
        SortKey::Nome,
        SortKey::Istat,
        SortKey::Provincia,
        SortKey::Popolazione,
        SortKey::Adesione,
        SortKey::PrimoStep,
        SortKey::Finale,
    ];

    pub fn code(self) -> &'static str {
        match self {
            SortKey::Nome => "nome",
            SortKey::Istat => "istat",
            SortKey::Provincia => "provincia",
            SortKey::Popolazione => "popolazione",
            SortKey::Adesione => "adesione",
            SortKey::PrimoStep => "primo_step",
            SortKey::Finale => "finale",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.code() == code)
    }
}

/// Ascending or descending.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Direction {
    #[default]
    Asc,
    Desc,
}

impl Direction {
    pub fn code(self) -> &'static str {
        match self {
            Direction::Asc => "asc",
            Direction::Desc => "desc",
        }
    }

    pub fn flip(self) -> Self {
        match self {
            Direction::Asc => Direction::Desc,
            Direction::Desc => Direction::Asc,
        }
    }

    /// The value of `aria-sort` on the sorted column's header.
    pub fn aria(self) -> &'static str {
        match self {
            Direction::Asc => "ascending",
            Direction::Desc => "descending",
        }
    }
}

/// A validated [`ListParams`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListView {
    pub ordina: SortKey,
    pub verso: Direction,
    /// 1-based; a page past the last shows the last ([`ListView::page_of`]).
    pub pagina: usize,
}

impl Default for ListView {
    fn default() -> Self {
        ListView { ordina: SortKey::default(), verso: Direction::default(), pagina: 1 }
    }
}

impl ListParams {
    pub fn validate(&self) -> Result<ListView, FilterError> {
        let ordina = match non_empty(&self.ordina) {
            None => SortKey::default(),
            Some(o) => SortKey::from_code(o).ok_or_else(|| FilterError::Ordina(o.to_string()))?,
        };
        let verso = match non_empty(&self.verso) {
            None => Direction::default(),
            Some("asc") => Direction::Asc,
            Some("desc") => Direction::Desc,
            Some(v) => return Err(FilterError::Verso(v.to_string())),
        };
        let pagina = match non_empty(&self.pagina) {
            None => 1,
            Some(p) => p
                .parse::<usize>()
                .ok()
                .filter(|n| (1..=1_000_000).contains(n))
                .ok_or_else(|| FilterError::Pagina(p.to_string()))?,
        };
        Ok(ListView { ordina, verso, pagina })
    }
}

impl ListView {
    /// The sort as a query string, defaults left out (`ordina=nome&verso=desc`): what the
    /// filter form, the pagination and the export carry along.
    pub fn sort_query(&self) -> String {
        let mut parts = Vec::new();
        if self.ordina != SortKey::default() {
            parts.push(format!("ordina={}", self.ordina.code()));
        }
        if self.verso != Direction::default() {
            parts.push(format!("verso={}", self.verso.code()));
        }
        parts.join("&")
    }

    /// Sort and page, defaults left out (`ordina=nome&pagina=2`).
    pub fn query(&self) -> String {
        let mut q = self.sort_query();
        if self.pagina > 1 {
            if !q.is_empty() {
                q.push('&');
            }
            q.push_str(&format!("pagina={}", self.pagina));
        }
        q
    }

    /// The view a column header links to: sorted by `key`, ascending, or the other way round if
    /// already sorted by it; back to the first page.
    pub fn sorted_by(&self, key: SortKey) -> ListView {
        let verso = if self.ordina == key { self.verso.flip() } else { Direction::Asc };
        ListView { ordina: key, verso, pagina: 1 }
    }

    pub fn at_page(&self, pagina: usize) -> ListView {
        ListView { pagina, ..*self }
    }

    /// The page shown and the number of pages for `total` rows: at least one page, and a page
    /// past the last shows the last (a shared link outlives the data it was made on).
    pub fn page_of(&self, total: usize) -> (usize, usize) {
        crate::paging::page_of(self.pagina, total)
    }

    /// Sorts `rows` by this view's column and direction; ties (and the direction does not change
    /// this) by ISTAT code, ascending. Stable.
    pub fn sort(&self, rows: &mut [ComuneListRow]) {
        let key = self.ordina;
        rows.sort_by(|a, b| {
            let by_column = match key {
                SortKey::Nome => {
                    search::normalize(&a.denominazione).cmp(&search::normalize(&b.denominazione))
                }
                SortKey::Istat => std::cmp::Ordering::Equal,
                SortKey::Provincia => a.sigla_provincia.cmp(&b.sigla_provincia),
                SortKey::Popolazione => a.popolazione.cmp(&b.popolazione),
                SortKey::Adesione => adhesion_rank(a.adesione).cmp(&adhesion_rank(b.adesione)),
                SortKey::PrimoStep => a.primo_step.sort_key().cmp(&b.primo_step.sort_key()),
                SortKey::Finale => a.finale.sort_key().cmp(&b.finale.sort_key()),
            };
            let by_column = match self.verso {
                Direction::Asc => by_column,
                Direction::Desc => by_column.reverse(),
            };
            let istat = a.codice_istat.cmp(&b.codice_istat);
            match (key, self.verso) {
                // Sorting by the code itself: the direction applies to it.
                (SortKey::Istat, Direction::Desc) => istat.reverse(),
                _ => by_column.then(istat),
            }
        });
    }

    /// This page of the sorted `rows`.
    pub fn page(&self, mut rows: Vec<ComuneListRow>) -> ListPage {
        self.sort(&mut rows);
        let total = rows.len();
        let (page, pages) = self.page_of(total);
        let rows = rows.into_iter().skip((page - 1) * PAGE_SIZE).take(PAGE_SIZE).collect();
        ListPage { rows, total, page, pages, al: None }
    }
}

/// Adhesion in the order of [`AdhesionStatus::ALL`] (in the programme first).
fn adhesion_rank(a: AdhesionStatus) -> usize {
    AdhesionStatus::ALL.iter().position(|s| *s == a).unwrap_or(usize::MAX)
}

pub use crate::paging::page_links;

/// Where a comune stands on one step, in words for the tables.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum StepState {
    /// The comune is not in the programme.
    NotApplicable,
    OnTime(NaiveDate),
    Late(NaiveDate),
    NotReached,
}

impl StepState {
    /// The state of a step or objective that applies to the comune, from when it was reached.
    pub fn reached(reached_on: Option<NaiveDate>, on_time: bool) -> Self {
        match reached_on {
            Some(d) if on_time => StepState::OnTime(d),
            Some(d) => StepState::Late(d),
            None => StepState::NotReached,
        }
    }

    pub fn label(&self) -> String {
        match self {
            StepState::NotApplicable => "Non previsto".to_string(),
            StepState::OnTime(d) => format!("Raggiunto il {}", crate::format::date(*d)),
            StepState::Late(d) => format!("Raggiunto in ritardo il {}", crate::format::date(*d)),
            StepState::NotReached => "Non raggiunto".to_string(),
        }
    }

    /// The order of the list's step columns, ascending: on time, late, not reached, not in the
    /// programme; the earlier the date the earlier the row.
    pub fn sort_key(&self) -> (u8, Option<NaiveDate>) {
        match self {
            StepState::OnTime(d) => (0, Some(*d)),
            StepState::Late(d) => (1, Some(*d)),
            StepState::NotReached => (2, None),
            StepState::NotApplicable => (3, None),
        }
    }

    /// A CSS modifier: the colour only repeats what the label says.
    pub fn css(&self) -> &'static str {
        match self {
            StepState::NotApplicable => "stato stato-na",
            StepState::OnTime(_) => "stato stato-ok",
            StepState::Late(_) => "stato stato-ritardo",
            StepState::NotReached => "stato stato-no",
        }
    }
}

/// Everything a comune's page shows.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ComuneDetail {
    /// The past day the page is of (`None`: today).
    #[serde(default)]
    pub al: Option<NaiveDate>,
    pub codice_istat: String,
    pub denominazione: String,
    pub sigla_provincia: String,
    pub provincia: String,
    pub codice_catastale: String,
    pub codice_ipa: String,
    pub popolazione: i64,
    pub programma: String,
    pub adesione: AdhesionStatus,
    pub data_adesione: Option<NaiveDate>,
    /// What the comune renounced ("Rinuncia al saldo", …) and on which day; public, like the
    /// decreto di rinuncia it records.
    pub rinuncia: Option<(String, NaiveDate)>,
    pub contributo_eur: i64,
    pub maturato_eur: i64,
    pub perso_eur: i64,
    pub possibile_eur: i64,
    pub rinunciato_eur: i64,
    pub steps: Vec<StepView>,
    pub objectives: Vec<ObjectiveView>,
    pub pagopa: Vec<PagoPaView>,
    pub io: Vec<IoView>,
    pub io_tramite_regione: bool,
    pub online: Vec<OnlineView>,
    /// The comune's count snapshots over time, as an SVG chart (none without snapshots).
    pub grafico: Option<String>,
    /// Its PA digitale 2026 (PNRR) projects, from the imported candidature files.
    pub pnrr: Vec<PnrrView>,
    /// The forecasts of its objectives still open on the page's day (none once every deadline
    /// has passed). Public: computed from the public service data above.
    pub previsioni: Vec<crate::forecasts::ForecastView>,
}
/// A PA digitale 2026 (PNRR) project of the comune, as the candidature files publish it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PnrrView {
    pub cup: String,
    pub misura: String,
    pub avviso: String,
    /// Euro cents.
    pub importo_centesimi: i64,
    /// In words: Finanziata, Rinuncia, Erogata.
    pub stato: String,
    pub data_finanziamento: Option<NaiveDate>,
    pub data_stato: Option<NaiveDate>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StepView {
    pub name: String,
    pub deadline: NaiveDate,
    pub share_percent: i64,
    pub state: StepState,
    pub tranche_eur: i64,
    pub tranche: TrancheStatus,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ObjectiveView {
    pub platform: String,
    pub step: String,
    pub description: String,
    pub deadline: NaiveDate,
    pub state: StepState,
    pub progress: String,
    pub confirmed_by_source: bool,
    /// Reached on the service data and proven by evidence reviewed positively: the dashboard's
    /// "verificati" (`rules::verified`). Public: it is a yes or a not-yet, never the review's
    /// outcome, its reason or the evidence behind it (those are in [`ObjectiveCheck`]).
    pub verificato: bool,
}

/// The non-public side of one objective, for those who may read the comune's private data:
/// the Region's verification with its reason, and the state of the evidence.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObjectiveCheck {
    pub platform: String,
    pub step: String,
    pub description: String,
    /// The Region's verification, in words ("Da verificare" until there is one), with its
    /// reason (private).
    pub verifica: String,
    /// The evidence in words ("Verificato", "Evidenza in attesa di esame", …): see
    /// `evidence::status_words` (private: it tells a rejection).
    pub evidenza: String,
    /// Versions of evidence uploaded (private).
    pub evidenze: i64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PagoPaView {
    pub code: String,
    pub description: String,
    pub demo_code: bool,
    pub applicable: bool,
    pub active_since: Option<NaiveDate>,
    pub deactivated_on: Option<NaiveDate>,
    pub on_mypay: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct IoView {
    pub service_id: String,
    pub name: String,
    pub published_since: Option<NaiveDate>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OnlineView {
    pub name: String,
    pub spid_since: Option<NaiveDate>,
    pub cie_since: Option<NaiveDate>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filter_accepts_known_values_and_empty_strings() {
        let f = ComuniFilter {
            provincia: Some("le".into()),
            adesione: Some("aderente".into()),
            popolazione: Some("5000-40000".into()),
            piattaforma: Some("io".into()),
            traguardo: Some("primo_step".into()),
            q: None,
            primo_step: None,
            finale: None,
            scaduto: None,
            bloccato: None,
            al: None,
        };
        let v = f.validate().unwrap();
        assert_eq!(v.provincia.as_deref(), Some("LE"));
        assert_eq!(v.adesione, Some(AdhesionStatus::Aderente));
        assert_eq!(v.popolazione, Some(PopulationBand { min: 5000, max: Some(40000) }));
        assert_eq!(v.piattaforma, Some(Platform::AppIo));
        assert_eq!(v.traguardo, vec![Milestone::PrimoStep]);
        assert_eq!(
            v.query(),
            "provincia=LE&adesione=aderente&popolazione=5000-40000&piattaforma=io&traguardo=primo_step"
        );
        // The raw form of a valid filter validates to itself (links round-trip).
        assert_eq!(v.raw().validate().unwrap(), v);
        let empty = ComuniFilter {
            provincia: Some(String::new()),
            adesione: Some(" ".into()),
            popolazione: Some(String::new()),
            ..Default::default()
        };
        assert_eq!(empty.validate().unwrap(), ValidFilter::default());
    }

    #[test]
    fn filter_refuses_unknown_values_in_italian() {
        // A sigla the territory lacks: refused with the territory's own (for Puglia, in the
        // order the forms list them); whatever is not a sigla, whatever the territory.
        let puglia = crate::data::registry::territory();
        let f = ComuniFilter { provincia: Some("XX".into()), ..Default::default() };
        assert_eq!(
            f.validate_in(&puglia).unwrap_err().to_string(),
            "Provincia sconosciuta: «XX». Valori ammessi: BA, BT, BR, FG, LE, TA."
        );
        assert_eq!(f.validate_for(None, &puglia), f.validate_in(&puglia));
        let molise = Territory::new(
            "14",
            "Molise",
            vec![
                Provincia { sigla: "IS".into(), nome: "Isernia".into() },
                Provincia { sigla: "CB".into(), nome: "Campobasso".into() },
            ],
        );
        let lecce = ComuniFilter { provincia: Some("le".into()), ..Default::default() };
        assert_eq!(lecce.validate_in(&puglia).unwrap().provincia.as_deref(), Some("LE"));
        assert_eq!(
            lecce.validate_in(&molise).unwrap_err().to_string(),
            "Provincia sconosciuta: «LE». Valori ammessi: CB, IS."
        );
        for bad in ["B", "BAR", "B1", "è"] {
            let f = ComuniFilter { provincia: Some(bad.into()), ..Default::default() };
            assert_eq!(
                f.validate().unwrap_err().to_string(),
                format!(
                    "Sigla di provincia non valida: «{bad}». Usare la sigla di due lettere, ad esempio BA."
                )
            );
        }
        let f = ComuniFilter { adesione: Some("forse".into()), ..Default::default() };
        assert!(matches!(f.validate(), Err(FilterError::Adesione(_))));
        for bad in ["5000", "a-b", "40000-5000", "-5", "10-10"] {
            let f = ComuniFilter { popolazione: Some(bad.into()), ..Default::default() };
            assert!(matches!(f.validate(), Err(FilterError::Popolazione(_))), "{bad}");
        }
        let f = ComuniFilter { piattaforma: Some("fax".into()), ..Default::default() };
        assert!(matches!(f.validate(), Err(FilterError::Piattaforma(_))));
        let f = ComuniFilter { traguardo: Some("luna".into()), ..Default::default() };
        assert!(matches!(f.validate(), Err(FilterError::Traguardo(_))));
        let f = ComuniFilter { primo_step: Some("forse".into()), ..Default::default() };
        assert_eq!(
            f.validate().unwrap_err().to_string(),
            "Valore non valido per il primo step: «forse». Valori ammessi: raggiunto, non_raggiunto."
        );
        let f = ComuniFilter { finale: Some("si".into()), ..Default::default() };
        assert!(matches!(f.validate(), Err(FilterError::Finale(_))));
        let f = ComuniFilter { scaduto: Some("no".into()), ..Default::default() };
        assert!(matches!(f.validate(), Err(FilterError::Scaduto(_))));
        let f = ComuniFilter { bloccato: Some("1".into()), ..Default::default() };
        assert!(matches!(f.validate(), Err(FilterError::Bloccato(_))));
        let f = ComuniFilter { q: Some("a".repeat(101)), ..Default::default() };
        assert_eq!(f.validate().unwrap_err().to_string(), "Ricerca troppo lunga: al massimo 100 caratteri.");
    }

    #[test]
    fn the_new_filters_round_trip_through_the_url() {
        let f = ComuniFilter {
            q: Some("  Sant'Agata ".into()),
            primo_step: Some("raggiunto".into()),
            finale: Some("non_raggiunto".into()),
            scaduto: Some("si".into()),
            bloccato: Some("si".into()),
            provincia: Some("FG".into()),
            ..Default::default()
        };
        let v = f.validate().unwrap();
        assert_eq!(v.q.as_ref().map(Search::text), Some("Sant'Agata"));
        assert_eq!(v.primo_step, Some(StepFilter::Raggiunto));
        assert_eq!(v.finale, Some(StepFilter::NonRaggiunto));
        assert!(v.scaduto && v.bloccato);
        assert_eq!(
            v.query(),
            "q=Sant%27Agata&provincia=FG&primo_step=raggiunto&finale=non_raggiunto&scaduto=si&bloccato=si"
        );
        assert_eq!(v.raw().validate().unwrap(), v);
        // A search of punctuation only is no search.
        let f = ComuniFilter { q: Some(" ' ".into()), ..Default::default() };
        assert_eq!(f.validate().unwrap(), ValidFilter::default());
    }

    fn row(
        codice: &str,
        nome: &str,
        sigla: &str,
        pop: i64,
        adesione: AdhesionStatus,
        primo: StepState,
    ) -> ComuneListRow {
        ComuneListRow {
            codice_istat: codice.into(),
            denominazione: nome.into(),
            sigla_provincia: sigla.into(),
            popolazione: pop,
            adesione,
            primo_step: primo,
            finale: StepState::NotApplicable,
        }
    }

    fn rows() -> Vec<ComuneListRow> {
        let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        vec![
            row("071033", "Monte Sant'Angelo", "FG", 11353, AdhesionStatus::Aderente, StepState::NotReached),
            row(
                "071052",
                "Sant'Agata di Puglia",
                "FG",
                1803,
                AdhesionStatus::NonAderente,
                StepState::NotApplicable,
            ),
            row(
                "073013",
                "Martina Franca",
                "TA",
                46900,
                AdhesionStatus::Aderente,
                StepState::Late(d("2021-05-01")),
            ),
            row(
                "074016",
                "San Pietro Vernotico",
                "BR",
                13022,
                AdhesionStatus::Rinuncia,
                StepState::NotApplicable,
            ),
            row("075052", "Nardò", "LE", 30747, AdhesionStatus::Aderente, StepState::OnTime(d("2021-02-01"))),
        ]
    }

    fn sorted(ordina: &str, verso: &str) -> Vec<String> {
        let view = ListParams { ordina: Some(ordina.into()), verso: Some(verso.into()), pagina: None }
            .validate()
            .unwrap();
        let mut r = rows();
        view.sort(&mut r);
        r.into_iter().map(|r| r.codice_istat).collect()
    }

    #[test]
    fn sorting_by_every_column_with_ties_by_istat_code() {
        // Names compare without accents or punctuation: "Nardò" between "Monte" and "San".
        assert_eq!(sorted("nome", "asc"), ["073013", "071033", "075052", "074016", "071052"]);
        assert_eq!(sorted("nome", "desc"), ["071052", "074016", "075052", "071033", "073013"]);
        assert_eq!(sorted("istat", "asc"), ["071033", "071052", "073013", "074016", "075052"]);
        assert_eq!(sorted("istat", "desc"), ["075052", "074016", "073013", "071052", "071033"]);
        // Ties (two in FG) by ISTAT code, ascending in both directions.
        assert_eq!(sorted("provincia", "asc"), ["074016", "071033", "071052", "075052", "073013"]);
        assert_eq!(sorted("provincia", "desc"), ["073013", "075052", "071033", "071052", "074016"]);
        assert_eq!(sorted("popolazione", "desc"), ["073013", "075052", "074016", "071033", "071052"]);
        assert_eq!(sorted("adesione", "asc"), ["071033", "073013", "075052", "071052", "074016"]);
        // On time, late, not reached, not in the programme.
        assert_eq!(sorted("primo_step", "asc"), ["075052", "073013", "071033", "071052", "074016"]);
        // Every row ties on the final step: the ISTAT order stays.
        assert_eq!(sorted("finale", "desc"), ["071033", "071052", "073013", "074016", "075052"]);
    }

    #[test]
    fn list_params_default_and_refuse_bad_values_in_italian() {
        assert_eq!(ListParams::default().validate().unwrap(), ListView::default());
        assert_eq!(ListView::default().query(), "");
        let bad = |p: ListParams| p.validate().unwrap_err().to_string();
        assert_eq!(
            bad(ListParams { ordina: Some("colore".into()), ..Default::default() }),
            "Ordinamento sconosciuto: «colore». Valori ammessi: nome, istat, provincia, popolazione, adesione, primo_step, finale."
        );
        assert_eq!(
            bad(ListParams { verso: Some("su".into()), ..Default::default() }),
            "Verso dell'ordinamento sconosciuto: «su». Valori ammessi: asc, desc."
        );
        for p in ["0", "-1", "due", "1.5", "99999999999999999999"] {
            let e = ListParams { pagina: Some(p.into()), ..Default::default() }.validate();
            assert!(matches!(e, Err(FilterError::Pagina(_))), "{p}");
        }
        let v =
            ListParams { ordina: Some("nome".into()), verso: Some("desc".into()), pagina: Some("3".into()) }
                .validate()
                .unwrap();
        assert_eq!(v.query(), "ordina=nome&verso=desc&pagina=3");
        assert_eq!(v.sort_query(), "ordina=nome&verso=desc");
        // A header link: the same column flips the direction, another starts ascending; page 1.
        assert_eq!(v.sorted_by(SortKey::Nome).query(), "ordina=nome");
        assert_eq!(v.sorted_by(SortKey::Popolazione).query(), "ordina=popolazione");
        assert_eq!(ListView::default().sorted_by(SortKey::Istat).query(), "verso=desc");
    }

    #[test]
    fn pages_of_fifty_within_bounds() {
        let page = |n: usize| ListView { pagina: n, ..Default::default() };
        assert_eq!(page(1).page_of(0), (1, 1), "no rows: one empty page");
        assert_eq!(page(1).page_of(50), (1, 1));
        assert_eq!(page(2).page_of(51), (2, 2));
        assert_eq!(page(6).page_of(257), (6, 6));
        assert_eq!(page(9).page_of(257), (6, 6), "past the last page: the last");
        let many: Vec<ComuneListRow> = (0..257)
            .map(|i| {
                row(
                    &format!("{:06}", 71001 + i),
                    "X",
                    "BA",
                    1,
                    AdhesionStatus::Aderente,
                    StepState::NotReached,
                )
            })
            .collect();
        let last = page(6).page(many.clone());
        assert_eq!((last.total, last.page, last.pages, last.rows.len()), (257, 6, 6, 7));
        assert_eq!(last.rows[0].codice_istat, "071251");
        let first = page(1).page(many);
        assert_eq!(first.rows.len(), PAGE_SIZE);
        assert_eq!(first.rows[0].codice_istat, "071001");
    }

    #[test]
    fn pagination_links_elide_far_pages() {
        let show = |page, pages| {
            page_links(page, pages)
                .into_iter()
                .map(|p| p.map_or("…".to_string(), |p| p.to_string()))
                .collect::<Vec<_>>()
                .join(" ")
        };
        assert_eq!(show(1, 1), "1");
        assert_eq!(show(3, 6), "1 2 3 4 5 6");
        assert_eq!(show(1, 20), "1 2 … 20");
        assert_eq!(show(10, 20), "1 … 9 10 11 … 20");
        assert_eq!(show(3, 20), "1 2 3 4 … 20");
        assert_eq!(show(20, 20), "1 … 19 20");
    }

    #[test]
    fn population_bands_follow_the_funding_bands_bounds() {
        let b = PopulationBand::parse("5000-40000").unwrap();
        assert!(!b.contains(4999));
        assert!(b.contains(5000), "min is inclusive");
        assert!(b.contains(39999));
        assert!(!b.contains(40000), "max is exclusive");
        assert_eq!(b.label(), "da 5.000 a 39.999 abitanti");
        let open = PopulationBand::parse("200000-").unwrap();
        assert!(open.contains(1_000_000));
        assert_eq!(open.code(), "200000-");
        assert_eq!(open.label(), "200.000 abitanti e oltre");
        assert_eq!(PopulationBand::parse("0-5000").unwrap().label(), "fino a 4.999 abitanti");
    }

    #[test]
    fn milestones_combine_and_a_card_link_never_repeats_one() {
        let f = ComuniFilter {
            traguardo: Some("tutti_obiettivi, primo_step,primo_step".into()),
            ..Default::default()
        };
        let v = f.validate().unwrap();
        assert_eq!(v.traguardo, vec![Milestone::PrimoStep, Milestone::TuttiObiettivi], "ordered, once each");
        assert_eq!(v.query(), "traguardo=primo_step,tutti_obiettivi");
        let bad = ComuniFilter { traguardo: Some("primo_step,luna".into()), ..Default::default() };
        assert!(bad.validate().is_err());
        // The string form the dashboard uses equals the typed one, for every filter shape.
        let shapes = [
            "",
            "provincia=LE",
            "q=bari&provincia=BA&traguardo=mypay&primo_step=raggiunto&scaduto=si",
            "adesione=aderente&finale=non_raggiunto",
            "piattaforma=io&traguardo=primo_step,tutti_obiettivi",
        ];
        for shape in shapes {
            let raw: Vec<(String, String)> = shape
                .split('&')
                .filter(|p| !p.is_empty())
                .map(|p| p.split_once('=').map(|(k, v)| (k.to_string(), v.to_string())).unwrap())
                .collect();
            let get = |k: &str| raw.iter().find(|(key, _)| key == k).map(|(_, v)| v.clone());
            let v = ComuniFilter {
                provincia: get("provincia"),
                adesione: get("adesione"),
                popolazione: get("popolazione"),
                piattaforma: get("piattaforma"),
                traguardo: get("traguardo"),
                q: get("q"),
                primo_step: get("primo_step"),
                finale: get("finale"),
                scaduto: get("scaduto"),
                bloccato: get("bloccato"),
                al: get("al"),
            }
            .validate()
            .unwrap();
            assert_eq!(v.query(), shape, "the shapes are canonical");
            for m in Milestone::ALL {
                let link = query_with_milestone(shape, m);
                assert_eq!(link, v.with_milestone(m).query(), "{shape} + {m:?}");
                assert_eq!(link.matches("traguardo=").count(), 1, "{link}");
            }
        }
    }
}
