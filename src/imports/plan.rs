//! The dry run: tables of text against the database as it is, into a [`Report`] and the writes
//! that would apply it. Plain Rust over data (the current records come in a [`Current`] loaded by
//! `data::imports::current` in a few set-based queries), so every rule is unit-tested here.
//!
//! Tolerant where people are messy — ISTAT codes that lost their leading zero, `Sì`/`si`/`SI`,
//! status labels instead of codes, dates dd/mm/yyyy or ISO, `12,0` for 12 — and strict where it
//! matters: every value goes through the workspace's own validation, an unknown code, a name
//! that does not match its code, a duplicate row or a negative count is a problem, and one
//! problem anywhere keeps the whole file from being applied.

use std::collections::{HashMap, HashSet};

use chrono::NaiveDate;

use super::{table::Table, ChangeLine, Kind, KindSpec, Outcome, Problem, Report, TableSummary, KINDS};
use super::{MAX_LINES, MAX_PROBLEMS};
use crate::{
    auth::FieldError,
    data::pnrr::{status_label, Project},
    rules::{AdhesionStatus, Platform},
    workspace::{
        parse_date, validate_adhesion, validate_count, validate_io, validate_online, validate_pagopa,
        AdhesionValues, Context, CountValues, Fields, IoValues, OnlineValues, PagoPaValues, ServiceValues,
    },
};

/// A stored service: its id, its version (for the optimistic check at commit) and its values.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stored<T> {
    pub id: i64,
    pub version: i64,
    pub values: T,
}

/// What the database holds that an import may touch.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Current {
    /// ISTAT code → name, for every comune of the registry.
    pub names: HashMap<String, String>,
    /// Adhesions to the programme, with their version (a comune without one is `non_aderente`,
    /// version 0).
    pub adhesions: HashMap<String, (AdhesionValues, i64)>,
    /// (comune, taxonomy code).
    pub pagopa: HashMap<(String, String), Stored<PagoPaValues>>,
    /// (comune, Service ID).
    pub io: HashMap<(String, String), Stored<IoValues>>,
    /// (comune, name folded by [`fold`]).
    pub online: HashMap<(String, String), Stored<OnlineValues>>,
    /// (comune, platform, day) → (active services, version).
    pub counts: HashMap<(String, Platform, NaiveDate), (i64, i64)>,
    /// The pagoPA taxonomy as stored, by code.
    pub taxonomy: HashMap<String, TaxonomyEntry>,
    /// The taxonomy codes some service uses (never removed).
    pub taxonomy_in_use: HashSet<String>,
    /// PA digitale 2026 projects by CUP, with their version.
    pub projects: HashMap<String, (Project, i64)>,
}

/// A code of the pagoPA taxonomy.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TaxonomyEntry {
    pub description: String,
    /// `ufficiale`, `nota` or `demo`.
    pub origin: String,
    pub valid_from: Option<NaiveDate>,
    pub valid_to: Option<NaiveDate>,
}

/// One write of an applied import.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Op {
    Adhesion {
        comune: String,
        values: AdhesionValues,
        version: i64,
    },
    AddService {
        comune: String,
        values: ServiceValues,
    },
    UpdateService {
        comune: String,
        id: i64,
        version: i64,
        values: ServiceValues,
    },
    Count {
        comune: String,
        values: CountValues,
        /// The count's version at the dry run (0: none that day): changed since, the import stops.
        version: i64,
    },
    /// An official taxonomy entry, added or updated (its origin becomes `ufficiale`).
    Taxonomy {
        code: String,
        entry: TaxonomyEntry,
    },
    /// A demo taxonomy entry no service uses, absent from the official file.
    RemoveTaxonomy {
        code: String,
    },
    /// A PA digitale 2026 project, added or updated (version 0: new).
    Project {
        project: Project,
        version: i64,
    },
}

/// The dry run's outcome: the report, and the writes if it is applied.
#[derive(Clone, Debug, Default)]
pub struct Plan {
    pub report: Report,
    pub ops: Vec<Op>,
}

/// Text compared without case, accents, apostrophes, dashes and repeated spaces:
/// «Sant'Agata di Puglia» and «SANT AGATA DI PUGLIA» are the same name.
pub fn fold(s: &str) -> String {
    let mapped: String = s
        .to_lowercase()
        .chars()
        .map(|c| match c {
            'à' | 'á' | 'â' => 'a',
            'è' | 'é' | 'ê' => 'e',
            'ì' | 'í' | 'î' => 'i',
            'ò' | 'ó' | 'ô' => 'o',
            'ù' | 'ú' | 'û' => 'u',
            '\'' | '’' | '`' | '-' | '_' | '/' | '.' => ' ',
            c => c,
        })
        .collect();
    mapped.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// An ISTAT code as typed: 6 digits, or fewer when Excel dropped the leading zeros.
pub fn istat_code(raw: &str) -> Result<String, String> {
    let s = raw.trim();
    if s.is_empty() {
        return Err("Manca il codice ISTAT del comune.".into());
    }
    if s.len() <= 6 && s.chars().all(|c| c.is_ascii_digit()) {
        return Ok(format!("{s:0>6}"));
    }
    Err(format!("Codice ISTAT non valido: «{s}». Sono 6 cifre, ad esempio 072006."))
}

/// `sì`, `si`, `SI`, `s`, `vero`, `true`, `1`, `x` → true; `no`, `n`, `falso`, `false`, `0`,
/// empty → false.
pub fn yes_no(raw: &str) -> Result<bool, String> {
    match fold(raw).as_str() {
        "si" | "s" | "vero" | "true" | "1" | "x" | "yes" => Ok(true),
        "" | "no" | "n" | "falso" | "false" | "0" => Ok(false),
        _ => Err(format!("Valore non valido: «{}». Scrivere sì o no.", raw.trim())),
    }
}

/// A platform by code or by name.
pub fn platform(raw: &str) -> Result<Platform, String> {
    match fold(raw).replace(' ', "").as_str() {
        "pagopa" => Ok(Platform::PagoPa),
        "io" | "appio" => Ok(Platform::AppIo),
        "spidcie" | "spid" | "cie" | "spidecie" => Ok(Platform::SpidCie),
        _ => Err(format!("Piattaforma sconosciuta: «{}». Scrivere pagopa, io o spid_cie.", raw.trim())),
    }
}

/// An adhesion status by code or by label.
pub fn adhesion_status(raw: &str) -> Result<AdhesionStatus, String> {
    match fold(raw).as_str() {
        "aderente" => Ok(AdhesionStatus::Aderente),
        "aderente in ritardo" | "in ritardo" => Ok(AdhesionStatus::AderenteInRitardo),
        "non aderente" | "" => Ok(AdhesionStatus::NonAderente),
        "rinuncia" | "rinunciatario" => Ok(AdhesionStatus::Rinuncia),
        _ => Err(format!(
            "Stato di adesione sconosciuto: «{}». Scrivere aderente, aderente_in_ritardo, non_aderente o rinuncia.",
            raw.trim()
        )),
    }
}

/// A date as spreadsheets write it, as ISO text for the validators (which give the message when
/// it is not a date): `28/02/2021`, `28-02-2021`, `28.02.2021`, `2021-02-28`.
pub fn date_text(raw: &str) -> String {
    let s = raw.trim();
    if s.is_empty() || parse_date(s).is_some() {
        return s.to_string();
    }
    for f in ["%d-%m-%Y", "%d.%m.%Y", "%d/%m/%y"] {
        if let Ok(d) = NaiveDate::parse_from_str(s, f) {
            return d.format("%Y-%m-%d").to_string();
        }
    }
    s.to_string()
}

/// A whole number as spreadsheets write it: `12`, `12,0`, `12.0`, `1.234` (thousands).
pub fn count_text(raw: &str) -> String {
    let s = raw.trim();
    let s = s.strip_suffix(",0").or_else(|| s.strip_suffix(".0")).unwrap_or(s);
    let digits = s.trim_start_matches('-');
    let thousands = digits.split('.').count() > 1
        && digits.split('.').enumerate().all(|(i, g)| {
            g.chars().all(|c| c.is_ascii_digit())
                && if i == 0 { (1..=3).contains(&g.len()) } else { g.len() == 3 }
        });
    if thousands {
        s.replace('.', "")
    } else {
        s.to_string()
    }
}

/// The kind whose required columns the header has (the most specific first).
pub fn recognise(t: &Table) -> Option<&'static KindSpec> {
    KINDS.iter().find(|k| k.columns.iter().filter(|c| c.required).all(|c| t.column(c.name).is_some()))
}

/// The kind a table comes closest to, and the required columns it lacks.
fn closest(t: &Table) -> (&'static KindSpec, Vec<&'static str>) {
    let missing = |k: &KindSpec| -> Vec<&'static str> {
        k.columns.iter().filter(|c| c.required && t.column(c.name).is_none()).map(|c| c.name).collect()
    };
    let matched = |k: &KindSpec| k.columns.iter().filter(|c| t.column(c.name).is_some()).count();
    let best =
        KINDS.iter().min_by_key(|k| (missing(k).len(), std::cmp::Reverse(matched(k)))).expect("three kinds");
    (best, missing(best))
}

struct Planner<'a> {
    current: &'a Current,
    ctx: &'a Context,
    plan: Plan,
    problems: usize,
    /// Record key → (table, row) where it was first seen.
    seen: HashMap<String, (String, u32)>,
    /// The codes of the official taxonomy in the file, if it holds one.
    taxonomy_codes: Option<HashSet<String>>,
}

impl Planner<'_> {
    fn problem(&mut self, table: &str, row: u32, column: &str, message: impl Into<String>) {
        self.problems += 1;
        if self.plan.report.problems.len() < MAX_PROBLEMS {
            self.plan.report.problems.push(Problem {
                table: table.to_string(),
                row,
                column: column.to_string(),
                message: message.into(),
            });
        }
    }

    /// The validators' messages, named by the file's columns.
    fn field_errors(&mut self, table: &str, row: u32, errors: Vec<FieldError>) {
        for e in errors {
            let column = match e.field.as_str() {
                "stato" => "adesione",
                "data" => "data_adesione",
                "service_id" => "codice",
                "pubblicato_dal" => "attivo_dal",
                "ritirato_il" => "disattivato_il",
                other => other,
            }
            .to_string();
            self.problem(table, row, &column, e.message);
        }
    }

    /// `false` (and a problem) when `key` was already in the file.
    fn first_time(&mut self, table: &str, row: u32, key: String, what: &str) -> bool {
        if let Some((t, r)) = self.seen.get(&key).cloned() {
            let place =
                if t == table { format!("alla riga {r}") } else { format!("alla riga {r} di «{t}»") };
            self.problem(table, row, "", format!("Riga duplicata: {what} è già {place}."));
            return false;
        }
        self.seen.insert(key, (table.to_string(), row));
        true
    }

    fn outcome(&mut self, summary: &mut TableSummary, line: ChangeLine, op: Option<Op>) {
        match line.outcome {
            Outcome::Added => summary.added += 1,
            Outcome::Changed => summary.changed += 1,
            Outcome::Unchanged => summary.unchanged += 1,
            Outcome::Removed => summary.removed += 1,
        }
        if line.outcome != Outcome::Unchanged && self.plan.report.changes.len() < MAX_LINES {
            self.plan.report.changes.push(line);
        }
        self.plan.ops.extend(op);
    }
}

/// Before → after, for the report: only what differs.
fn details(fields: &[(&str, Option<String>, Option<String>)]) -> String {
    fields
        .iter()
        .filter(|(_, b, a)| b != a)
        .map(|(f, b, a)| format!("{f}: {} → {}", b.as_deref().unwrap_or("—"), a.as_deref().unwrap_or("—")))
        .collect::<Vec<_>>()
        .join("; ")
}

fn d(x: Option<NaiveDate>) -> Option<String> {
    x.map(crate::format::date)
}

fn b(x: bool) -> Option<String> {
    Some(if x { "sì" } else { "no" }.to_string())
}

/// The dry run of `tables` against `current`.
pub fn plan(tables: &[Table], current: &Current, ctx: &Context) -> Plan {
    let mut p = Planner {
        current,
        ctx,
        plan: Plan::default(),
        problems: 0,
        seen: HashMap::new(),
        taxonomy_codes: None,
    };
    let mut recognised = 0;
    for t in tables {
        let Some(spec) = recognise(t) else {
            if tables.len() > 1 {
                p.plan.report.notices.push(format!(
                    "Il foglio «{}» è stato ignorato: le sue colonne non sono quelle di un modello.",
                    t.name
                ));
            }
            continue;
        };
        recognised += 1;
        let ignored: Vec<&str> = t
            .headers
            .iter()
            .filter(|h| !h.is_empty() && !spec.columns.iter().any(|c| c.name == h.as_str()))
            .map(String::as_str)
            .collect();
        if !ignored.is_empty() {
            p.plan.report.notices.push(format!(
                "In «{}» ({}) sono ignorate le colonne: {}.",
                t.name,
                spec.label,
                ignored.join(", ")
            ));
        }
        let mut summary = TableSummary {
            name: t.name.clone(),
            kind: spec.kind,
            rows: t.rows.len() as u32,
            added: 0,
            changed: 0,
            unchanged: 0,
            removed: 0,
        };
        if spec.kind == Kind::Tassonomia {
            plan_taxonomy(&mut p, t, &mut summary);
            p.plan.report.tables.push(summary);
            continue;
        }
        if spec.kind == Kind::Candidature {
            plan_candidature(&mut p, t, &mut summary);
            p.plan.report.tables.push(summary);
            continue;
        }
        for (row, cells) in &t.rows {
            plan_row(&mut p, t, spec.kind, *row, cells, &mut summary);
        }
        p.plan.report.tables.push(summary);
    }
    if recognised == 0 {
        let (t, (spec, missing)) = match tables.first() {
            Some(t) => (t.name.clone(), closest(t)),
            None => (String::new(), (&KINDS[0], Vec::new())),
        };
        let message = if tables.len() > 1 {
            "Nessun foglio del file ha le colonne di un modello (adesioni, servizi o conteggi): scaricare un modello da questa pagina.".to_string()
        } else {
            format!(
                "Le colonne non sono quelle di un modello: per «{}» {} {}. Scaricare un modello da questa pagina.",
                spec.label,
                if missing.len() == 1 { "manca la colonna" } else { "mancano le colonne" },
                missing.join(", ")
            )
        };
        p.problem(&t, 1, "", message);
    }
    remove_demo_taxonomy(&mut p);
    let r = &mut p.plan.report;
    r.removed = r.tables.iter().map(|t| t.removed).sum();
    r.added = r.tables.iter().map(|t| t.added).sum();
    r.changed = r.tables.iter().map(|t| t.changed).sum();
    r.unchanged = r.tables.iter().map(|t| t.unchanged).sum();
    if p.problems > r.problems.len() {
        let more = p.problems - r.problems.len();
        r.notices.push(format!("Sono elencati i primi {MAX_PROBLEMS} problemi: ce ne sono altri {more}."));
    }
    if !r.problems.is_empty() {
        p.plan.ops.clear();
    }
    p.plan
}

/// The cell of column `name` in `cells` (empty when the table has no such column).
fn cell<'a>(t: &Table, cells: &'a [String], name: &str) -> &'a str {
    t.column(name).and_then(|i| cells.get(i)).map(String::as_str).unwrap_or("")
}

fn plan_row(
    p: &mut Planner<'_>,
    t: &Table,
    kind: Kind,
    row: u32,
    cells: &[String],
    summary: &mut TableSummary,
) {
    let get = |name: &str| cell(t, cells, name);
    let table = t.name.as_str();
    let comune = match istat_code(get("codice_istat")) {
        Ok(c) => c,
        Err(m) => return p.problem(table, row, "codice_istat", m),
    };
    let Some(name) = p.current.names.get(&comune).cloned() else {
        return p.problem(
            table,
            row,
            "codice_istat",
            format!("Codice ISTAT sconosciuto: {comune} non è un comune dell'anagrafe."),
        );
    };
    let typed = get("denominazione");
    if !typed.is_empty() && fold(typed) != fold(&name) {
        p.problem(
            table,
            row,
            "denominazione",
            format!("Il nome «{typed}» non corrisponde al codice {comune}, che è {name}."),
        );
    }
    let who = format!("{name} ({comune})");
    let mut f = Fields::new();
    let mut put = |k: &str, v: String| {
        f.insert(k.to_string(), v);
    };
    match kind {
        Kind::Adesioni => {
            let status = match adhesion_status(get("adesione")) {
                Ok(s) => s,
                Err(m) => return p.problem(table, row, "adesione", m),
            };
            put("stato", status.code().to_string());
            put("data", date_text(get("data_adesione")));
            // The renunciation columns are optional: a file without them keeps what is recorded.
            let renunciation_columns = t.column("rinuncia").is_some();
            if renunciation_columns {
                put("rinuncia", get("rinuncia").trim().to_lowercase());
                put("data_rinuncia", date_text(get("data_rinuncia")));
            }
            let mut values = match validate_adhesion(&f, p.ctx) {
                Ok(v) => v,
                Err(e) => return p.field_errors(table, row, e),
            };
            if !p.first_time(table, row, format!("adesione/{comune}"), &format!("l'adesione di {who}")) {
                return;
            }
            let (before, version) = p.current.adhesions.get(&comune).cloned().unwrap_or((
                AdhesionValues { status: AdhesionStatus::NonAderente, date: None, renunciation: None },
                0,
            ));
            // The adhesions file carries no renunciation: a recorded one stays while the comune
            // stays supported (a renunciation needs a supported status).
            if !renunciation_columns && values.status.is_supported() {
                values.renunciation = before.renunciation.clone();
            }
            let outcome = if before == values {
                Outcome::Unchanged
            } else if version == 0 {
                Outcome::Added
            } else {
                Outcome::Changed
            };
            let line = ChangeLine {
                table: table.to_string(),
                row,
                record: format!("{who} — adesione"),
                outcome,
                details: details(&[
                    (
                        "stato",
                        Some(before.status.label().to_string()),
                        Some(values.status.label().to_string()),
                    ),
                    ("data", d(before.date), d(values.date)),
                    (
                        "rinuncia",
                        before.renunciation.as_ref().map(|r| r.kind.label().to_string()),
                        values.renunciation.as_ref().map(|r| r.kind.label().to_string()),
                    ),
                    (
                        "data_rinuncia",
                        d(before.renunciation.as_ref().map(|r| r.on)),
                        d(values.renunciation.as_ref().map(|r| r.on)),
                    ),
                ]),
            };
            let op = (outcome != Outcome::Unchanged).then_some(Op::Adhesion { comune, values, version });
            p.outcome(summary, line, op);
        }
        Kind::Conteggi => {
            let platform = match platform(get("piattaforma")) {
                Ok(x) => x,
                Err(m) => return p.problem(table, row, "piattaforma", m),
            };
            put("piattaforma", platform.code().to_string());
            put("giorno", date_text(get("giorno")));
            put("attivi", count_text(get("attivi")));
            let values = match validate_count(&f, p.ctx) {
                Ok(v) => v,
                Err(e) => return p.field_errors(table, row, e),
            };
            let day = crate::format::date(values.day);
            let what = format!("il conteggio {} di {who} del {day}", platform.label());
            if !p.first_time(
                table,
                row,
                format!("conteggio/{comune}/{}/{}", platform.code(), values.day),
                &what,
            ) {
                return;
            }
            let stored = p.current.counts.get(&(comune.clone(), platform, values.day)).copied();
            let before = stored.map(|(active, _)| active);
            let version = stored.map_or(0, |(_, version)| version);
            let outcome = match before {
                None => Outcome::Added,
                Some(n) if n == values.active => Outcome::Unchanged,
                Some(_) => Outcome::Changed,
            };
            let line = ChangeLine {
                table: table.to_string(),
                row,
                record: format!("{who} — {} al {day}", platform.label()),
                outcome,
                details: details(&[(
                    "attivi",
                    before.map(|n| n.to_string()),
                    Some(values.active.to_string()),
                )]),
            };
            let op = (outcome != Outcome::Unchanged).then_some(Op::Count { comune, values, version });
            p.outcome(summary, line, op);
        }
        Kind::Servizi => {
            let platform = match platform(get("piattaforma")) {
                Ok(x) => x,
                Err(m) => return p.problem(table, row, "piattaforma", m),
            };
            let mut bad_flag = None;
            let mut flag = |column: &str| match yes_no(get(column)) {
                Ok(true) => "si".to_string(),
                Ok(false) => String::new(),
                Err(m) => {
                    bad_flag.get_or_insert((column.to_string(), m));
                    String::new()
                }
            };
            let applicable = flag("applicabile");
            let mypay = flag("su_mypay");
            if let Some((column, m)) = bad_flag {
                return p.problem(table, row, &column, m);
            }
            let values = match platform {
                Platform::PagoPa => {
                    put("codice", get("codice").to_string());
                    put("applicabile", applicable);
                    put("mypay", mypay);
                    put("attivo_dal", date_text(get("attivo_dal")));
                    put("disattivato_il", date_text(get("disattivato_il")));
                    validate_pagopa(&f, p.ctx).map(ServiceValues::PagoPa)
                }
                Platform::AppIo => {
                    put("service_id", get("codice").to_string());
                    put("nome", get("nome").to_string());
                    put("pubblicato_dal", date_text(get("attivo_dal")));
                    put("ritirato_il", date_text(get("disattivato_il")));
                    validate_io(&f, p.ctx).map(ServiceValues::Io)
                }
                Platform::SpidCie => {
                    put("nome", get("nome").to_string());
                    put("spid_dal", date_text(get("spid_dal")));
                    put("cie_dal", date_text(get("cie_dal")));
                    validate_online(&f, p.ctx).map(ServiceValues::Online)
                }
            };
            let values = match values {
                Ok(v) => v,
                Err(e) => return p.field_errors(table, row, e),
            };
            plan_service(p, table, row, comune, &who, values, summary);
        }
        Kind::Tassonomia | Kind::Candidature => unreachable!("planned by their own functions"),
    }
}

/// The shape the database's CHECK enforces: the rules' own check, under the name the
/// taxonomy import reads best with.
pub use crate::rules::is_taxonomy_code as taxonomy_code_shape;

/// A validity date of the official file: `mm/gg/aaaa` as its header says (also ISO).
pub fn taxonomy_date(raw: &str) -> Result<Option<NaiveDate>, String> {
    let s = raw.trim();
    if s.is_empty() {
        return Ok(None);
    }
    NaiveDate::parse_from_str(s, "%m/%d/%Y")
        .or_else(|_| NaiveDate::parse_from_str(s, "%Y-%m-%d"))
        .map(Some)
        .map_err(|_| {
            format!("Data non valida: «{s}». Il file ufficiale scrive mm/gg/aaaa, ad esempio 01/31/2021.")
        })
}

/// The official taxonomy: every code with its name and validity. A code repeated (a later
/// version of the taxonomy) keeps the row whose validity starts last, and says so.
fn plan_taxonomy(p: &mut Planner<'_>, t: &Table, summary: &mut TableSummary) {
    let table = t.name.as_str();
    let mut chosen: HashMap<String, (u32, TaxonomyEntry)> = HashMap::new();
    let mut order: Vec<String> = Vec::new();
    let mut repeated = 0;
    for (row, cells) in &t.rows {
        let row = *row;
        let code = crate::workspace::normalise_taxonomy_code(cell(t, cells, "dati_specifici_di_incasso"));
        if !taxonomy_code_shape(&code) {
            p.problem(
                table,
                row,
                "dati_specifici_di_incasso",
                format!(
                    "Codice non valido: «{code}». I codici della tassonomia sono fatti come 9/0101100IM/."
                ),
            );
            continue;
        }
        let description = cell(t, cells, "tipo_servizio").to_string();
        if description.is_empty() || description.chars().count() > 500 {
            p.problem(
                table,
                row,
                "tipo_servizio",
                "Indicare il nome del servizio (al massimo 500 caratteri).",
            );
            continue;
        }
        let (from, to) = match (
            taxonomy_date(cell(t, cells, "data_inizio_validita")),
            taxonomy_date(cell(t, cells, "data_fine_validita")),
        ) {
            (Ok(f), Ok(t)) => (f, t),
            (Err(m), _) => {
                p.problem(table, row, "data_inizio_validita", m);
                continue;
            }
            (_, Err(m)) => {
                p.problem(table, row, "data_fine_validita", m);
                continue;
            }
        };
        if let (Some(f), Some(to)) = (from, to) {
            if to < f {
                p.problem(table, row, "data_fine_validita", "La fine della validità precede il suo inizio.");
                continue;
            }
        }
        let entry = TaxonomyEntry { description, origin: "ufficiale".into(), valid_from: from, valid_to: to };
        match chosen.get(&code) {
            None => {
                order.push(code.clone());
                chosen.insert(code, (row, entry));
            }
            Some((_, kept)) => {
                repeated += 1;
                if entry.valid_from >= kept.valid_from {
                    chosen.insert(code, (row, entry));
                }
            }
        }
    }
    if repeated > 0 {
        p.plan.report.notices.push(format!(
            "In «{table}» {repeated} righe ripetono un codice già presente: per ciascun codice vale la riga la cui validità inizia per ultima."
        ));
    }
    let codes = p.taxonomy_codes.get_or_insert_with(HashSet::new);
    codes.extend(order.iter().cloned());
    let current = p.current;
    for code in order {
        let (row, entry) = chosen.remove(&code).expect("chosen holds every code of order");
        let before = current.taxonomy.get(&code);
        let outcome = match before {
            None => Outcome::Added,
            Some(b) if *b == entry => Outcome::Unchanged,
            Some(_) => Outcome::Changed,
        };
        let line = ChangeLine {
            table: table.to_string(),
            row,
            record: format!("Tassonomia {code} — {}", entry.description),
            outcome,
            details: details(&[
                ("nome", before.map(|b| b.description.clone()), Some(entry.description.clone())),
                ("origine", before.map(|b| b.origin.clone()), Some(entry.origin.clone())),
                ("valida_dal", before.and_then(|b| d(b.valid_from)), d(entry.valid_from)),
                ("valida_al", before.and_then(|b| d(b.valid_to)), d(entry.valid_to)),
            ]),
        };
        let op = (outcome != Outcome::Unchanged).then_some(Op::Taxonomy { code, entry });
        p.outcome(summary, line, op);
    }
}

/// With an official taxonomy in the file, the demo entries it does not hold go, unless a
/// service uses them (those stay, still marked `demo`, and the report says how many).
fn remove_demo_taxonomy(p: &mut Planner<'_>) {
    // An empty taxonomy (a template, a header only) replaces nothing.
    let Some(codes) = p.taxonomy_codes.take().filter(|c| !c.is_empty()) else { return };
    let Some(index) = p.plan.report.tables.iter().rposition(|t| t.kind == Kind::Tassonomia) else { return };
    let current = p.current;
    let mut demo: Vec<(&String, &TaxonomyEntry)> =
        current.taxonomy.iter().filter(|(c, e)| e.origin == "demo" && !codes.contains(*c)).collect();
    demo.sort_by(|a, b| a.0.cmp(b.0));
    let (in_use, unused): (Vec<_>, Vec<_>) =
        demo.into_iter().partition(|(c, _)| current.taxonomy_in_use.contains(*c));
    if !in_use.is_empty() {
        p.plan.report.notices.push(format!(
            "{} voci dimostrative della tassonomia restano perché usate da servizi.",
            in_use.len()
        ));
    }
    let mut summary = p.plan.report.tables[index].clone();
    for (code, entry) in unused {
        let line = ChangeLine {
            table: summary.name.clone(),
            row: 0,
            record: format!("Tassonomia {code} — {}", entry.description),
            outcome: Outcome::Removed,
            details: "voce dimostrativa sostituita dalla tassonomia ufficiale".into(),
        };
        p.outcome(&mut summary, line, Some(Op::RemoveTaxonomy { code: code.clone() }));
    }
    p.plan.report.tables[index] = summary;
}

/// A stored service as the plan compares it: id, version, values, (field, before, after).
type StoredService = (i64, i64, ServiceValues, Vec<(&'static str, Option<String>, Option<String>)>);

fn plan_service(
    p: &mut Planner<'_>,
    table: &str,
    row: u32,
    comune: String,
    who: &str,
    values: ServiceValues,
    summary: &mut TableSummary,
) {
    let (key, record, before): (String, String, Option<StoredService>) = match &values {
        ServiceValues::PagoPa(v) => {
            let s = p.current.pagopa.get(&(comune.clone(), v.taxonomy_code.clone()));
            let fields = |x: Option<&PagoPaValues>, y: &PagoPaValues| {
                vec![
                    ("applicabile", x.and_then(|x| b(x.applicable)), b(y.applicable)),
                    ("attivo_dal", x.and_then(|x| d(x.active_since)), d(y.active_since)),
                    ("disattivato_il", x.and_then(|x| d(x.deactivated_on)), d(y.deactivated_on)),
                    ("su_mypay", x.and_then(|x| b(x.on_mypay)), b(y.on_mypay)),
                ]
            };
            (
                format!("pagopa/{comune}/{}", v.taxonomy_code),
                format!("{who} — pagoPA {}", v.taxonomy_code),
                s.map(|s| {
                    (s.id, s.version, ServiceValues::PagoPa(s.values.clone()), fields(Some(&s.values), v))
                }),
            )
        }
        ServiceValues::Io(v) => {
            let s = p.current.io.get(&(comune.clone(), v.service_id.clone()));
            let fields = |x: Option<&IoValues>, y: &IoValues| {
                vec![
                    ("nome", x.map(|x| x.name.clone()), Some(y.name.clone())),
                    ("pubblicato_dal", x.and_then(|x| d(x.published_since)), d(y.published_since)),
                    ("ritirato_il", x.and_then(|x| d(x.withdrawn_on)), d(y.withdrawn_on)),
                ]
            };
            (
                format!("io/{comune}/{}", v.service_id),
                format!("{who} — App IO {}", v.service_id),
                s.map(|s| (s.id, s.version, ServiceValues::Io(s.values.clone()), fields(Some(&s.values), v))),
            )
        }
        ServiceValues::Online(v) => {
            let s = p.current.online.get(&(comune.clone(), fold(&v.name)));
            let fields = |x: Option<&OnlineValues>, y: &OnlineValues| {
                vec![
                    ("nome", x.map(|x| x.name.clone()), Some(y.name.clone())),
                    ("spid_dal", x.and_then(|x| d(x.spid_since)), d(y.spid_since)),
                    ("cie_dal", x.and_then(|x| d(x.cie_since)), d(y.cie_since)),
                ]
            };
            (
                format!("spid_cie/{comune}/{}", fold(&v.name)),
                format!("{who} — SPID/CIE «{}»", v.name),
                s.map(|s| {
                    (s.id, s.version, ServiceValues::Online(s.values.clone()), fields(Some(&s.values), v))
                }),
            )
        }
    };
    if !p.first_time(table, row, key, &format!("il servizio {record}")) {
        return;
    }
    let (outcome, change, op) = match before {
        None => (Outcome::Added, String::from("nuovo servizio"), Some(Op::AddService { comune, values })),
        Some((_, _, stored, _)) if stored == values => (Outcome::Unchanged, String::new(), None),
        Some((id, version, _, fields)) => {
            (Outcome::Changed, details(&fields), Some(Op::UpdateService { comune, id, version, values }))
        }
    };
    let line = ChangeLine { table: table.to_string(), row, record, outcome, details: change };
    p.outcome(summary, line, op);
}

/// A whole number of cents from the file's amount: `16389.0`, `16389`, `16.389,50`.
pub fn amount_cents(raw: &str) -> Result<i64, String> {
    let s = raw.trim();
    let plain = if s.contains(',') { s.replace('.', "").replace(',', ".") } else { s.to_string() };
    match plain.parse::<f64>() {
        Ok(v) if (0.0..1e12).contains(&v) => Ok((v * 100.0).round() as i64),
        Ok(_) => Err(format!("Importo non valido: «{s}». Deve essere un numero non negativo di euro.")),
        Err(_) => Err(format!("Importo non valido: «{s}». Scrivere l'importo in euro, ad esempio 14000.0.")),
    }
}

/// A date of the candidature files: `2022-12-07` or `2022-08-23T06:55:19.000+0000`.
pub fn iso_date(raw: &str) -> Result<Option<NaiveDate>, String> {
    let s = raw.trim();
    if s.is_empty() {
        return Ok(None);
    }
    s.get(..10)
        .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
        .map(Some)
        .ok_or_else(|| format!("Data non valida: «{s}». I file di PA digitale 2026 scrivono aaaa-mm-gg."))
}

/// Repeated spaces (the avviso names carry double ones) as one.
fn one_space(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The PA digitale 2026 candidature files, as published: rows of other regions and of other
/// kinds of ente are skipped and counted; the rest become projects of Puglia's comuni.
fn plan_candidature(p: &mut Planner<'_>, t: &Table, summary: &mut TableSummary) {
    let table = t.name.as_str();
    let current = p.current;
    let (mut other_regions, mut other_entities) = (0u32, 0u32);
    for (row, cells) in &t.rows {
        let row = *row;
        let get = |name: &str| cell(t, cells, name);
        let region = get("regione");
        if !region.is_empty() && fold(region) != "puglia" {
            other_regions += 1;
            continue;
        }
        let kind = fold(get("tipologia_ente"));
        if !kind.is_empty() && !kind.starts_with("comun") {
            other_entities += 1;
            continue;
        }
        let before = p.problems;
        let comune = match istat_code(get("codice_istat")) {
            Ok(c) if current.names.contains_key(&c) => c,
            Ok(c) => {
                p.problem(
                    table,
                    row,
                    "cod_comune",
                    format!("Codice ISTAT sconosciuto: {c} non è un comune dell'anagrafe."),
                );
                continue;
            }
            Err(m) => {
                p.problem(table, row, "cod_comune", m);
                continue;
            }
        };
        let name = &current.names[&comune];
        let typed = get("denominazione");
        if !typed.is_empty() && fold(typed) != fold(name) {
            p.problem(
                table,
                row,
                "comune",
                format!("Il nome «{typed}» non corrisponde al codice {comune}, che è {name}."),
            );
        }
        let cup = get("codice_cup").to_uppercase();
        if cup.len() != 15 || !cup.chars().all(|c| c.is_ascii_alphanumeric()) {
            p.problem(
                table,
                row,
                "codice_cup",
                format!("CUP non valido: «{cup}». Un CUP è fatto di 15 lettere e cifre."),
            );
        }
        let misura = one_space(get("misura"));
        if misura.is_empty() {
            p.problem(
                table,
                row,
                "misura",
                "Manca la misura del PNRR (ad esempio 1.4.4 Adozione identità digitale).",
            );
        }
        let status = get("stato_candidatura").to_uppercase();
        if !matches!(status.as_str(), "A" | "R" | "E") {
            p.problem(
                table,
                row,
                "stato_candidatura",
                format!("Stato della candidatura sconosciuto: «{status}». Gli stati sono A (finanziata), R (rinuncia), E (erogata)."),
            );
        }
        let amount = amount_cents(get("importo_finanziamento"))
            .map_err(|m| p.problem(table, row, "importo_finanziamento", m))
            .unwrap_or(0);
        let mut date = |column: &str| {
            iso_date(get(column)).map_err(|m| p.problem(table, row, column, m)).unwrap_or(None)
        };
        let submitted_on = date("data_invio_candidatura");
        let financed_on = date("data_finanziamento");
        let status_on = date("data_stato_candidatura");
        if p.problems > before {
            continue;
        }
        let decree = Some(one_space(get("decreto_finanziamento"))).filter(|d| !d.is_empty());
        let project = Project {
            cup: cup.clone(),
            comune: comune.clone(),
            misura,
            avviso: one_space(get("avviso")),
            amount_cents: amount,
            status,
            submitted_on,
            financed_on,
            status_on,
            decree,
        };
        if !p.first_time(table, row, format!("cup/{cup}"), &format!("il progetto con CUP {cup}")) {
            continue;
        }
        let stored = current.projects.get(&cup);
        let outcome = match stored {
            None => Outcome::Added,
            Some((b, _)) if *b == project => Outcome::Unchanged,
            Some(_) => Outcome::Changed,
        };
        let b = stored.map(|(b, _)| b);
        let euro = |c: i64| format!("{} €", crate::format::int(c / 100));
        let line = ChangeLine {
            table: table.to_string(),
            row,
            record: format!("{name} ({comune}) — CUP {cup}, {}", project.misura),
            outcome,
            details: details(&[
                ("comune", b.map(|b| b.comune.clone()), Some(project.comune.clone())),
                (
                    "stato",
                    b.map(|b| status_label(&b.status).to_string()),
                    Some(status_label(&project.status).to_string()),
                ),
                ("importo", b.map(|b| euro(b.amount_cents)), Some(euro(project.amount_cents))),
                ("data_stato", b.and_then(|b| d(b.status_on)), d(project.status_on)),
                ("avviso", b.map(|b| b.avviso.clone()), Some(project.avviso.clone())),
            ]),
        };
        let version = stored.map_or(0, |(_, v)| *v);
        let op = (outcome != Outcome::Unchanged).then_some(Op::Project { project, version });
        p.outcome(summary, line, op);
    }
    if other_regions > 0 {
        p.plan
            .report
            .notices
            .push(format!("In «{table}» {other_regions} righe di altre regioni sono state ignorate."));
    }
    if other_entities > 0 {
        p.plan.report.notices.push(format!(
            "In «{table}» {other_entities} righe di enti che non sono comuni sono state ignorate."
        ));
    }
}
