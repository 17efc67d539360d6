//! The regional managers' workspace: the forms that change a comune's programme data
//! (adhesion, services, count snapshots, objective verifications, blockers, notes, the service
//! proposals of the comune's own users) and the audit trail that records every change.
//!
//! This module holds the wire types and the validation: plain functions from the submitted
//! fields to checked values or Italian messages per field, unit-tested without a server. The
//! writes are in `data::workspace` (one transaction each, with its trail entry), the routes in
//! [`routes`], the pages in [`ui`].

use std::collections::HashMap;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::{
    auth::FieldError,
    rules::{AdhesionStatus, Platform, Renunciation, RenunciationFact},
};

#[cfg(feature = "ssr")]
pub mod routes;
pub mod server;
#[cfg(test)]
mod tests;
pub mod ui;

/// The submitted fields of a form, by input name (an unchecked checkbox is absent).
pub type Fields = HashMap<String, String>;

/// Why a comune is late: the fixed list the Region reports by.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum BlockerCategory {
    /// A supplier (software house, technological partner) has not delivered.
    Fornitore,
    /// A resolution (delibera) of the giunta or council is missing.
    Delibera,
    /// No staff to do it.
    Personale,
    /// A technical problem.
    Tecnico,
    Altro,
}

impl BlockerCategory {
    pub const ALL: [BlockerCategory; 5] = [
        BlockerCategory::Fornitore,
        BlockerCategory::Delibera,
        BlockerCategory::Personale,
        BlockerCategory::Tecnico,
        BlockerCategory::Altro,
    ];

    pub fn code(self) -> &'static str {
        match self {
            BlockerCategory::Fornitore => "fornitore",
            BlockerCategory::Delibera => "delibera",
            BlockerCategory::Personale => "personale",
            BlockerCategory::Tecnico => "tecnico",
            BlockerCategory::Altro => "altro",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.code() == code)
    }

    pub fn label(self) -> &'static str {
        match self {
            BlockerCategory::Fornitore => "Fornitore",
            BlockerCategory::Delibera => "Delibera",
            BlockerCategory::Personale => "Personale",
            BlockerCategory::Tecnico => "Tecnico",
            BlockerCategory::Altro => "Altro",
        }
    }
}

/// The Region's check of an objective.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Outcome {
    Confermato,
    Respinto,
}

impl Outcome {
    pub fn code(self) -> &'static str {
        match self {
            Outcome::Confermato => "confermato",
            Outcome::Respinto => "respinto",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        [Outcome::Confermato, Outcome::Respinto].into_iter().find(|o| o.code() == code)
    }

    pub fn label(self) -> &'static str {
        match self {
            Outcome::Confermato => "Confermato dalla Regione",
            Outcome::Respinto => "Respinto dalla Regione",
        }
    }
}

/// What the checks compare against: the programme's dates and the known codes.
#[derive(Clone, Debug)]
pub struct Context {
    /// No service is recorded as activated before the programme began (the fund counts what
    /// a comune did for it; an older service is recorded from the start date).
    pub programme_start: NaiveDate,
    /// Imports carry the platforms' history (a pagoPA service on since 2018), which the rules
    /// need to tell a service already on from one activated during the programme: with
    /// `Some(day)`, service dates may go back to `day` instead of the programme's start.
    pub history_from: Option<NaiveDate>,
    /// Nothing is recorded as happened in the future.
    pub today: NaiveDate,
    /// The pagoPA taxonomy codes known to the database.
    pub taxonomy: Vec<String>,
    /// The programme's objective codes.
    pub objectives: Vec<String>,
    /// The programme's last day for renouncing the saldo ([`crate::rules::Programme::saldo_renunciation_limit`]);
    /// the form and the import's dry run say a late one at once, the write refuses it anyway.
    pub saldo_renunciation_limit: Option<NaiveDate>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdhesionValues {
    pub status: AdhesionStatus,
    pub date: Option<NaiveDate>,
    /// What the comune renounced and when; only for a supported status. Whether a saldo
    /// renunciation is still admissible on its day is the programme's rule, checked where it is
    /// written ([`crate::data::workspace::Ops::set_adhesion_in`]) so forms and imports agree.
    pub renunciation: Option<RenunciationFact>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PagoPaValues {
    pub taxonomy_code: String,
    pub applicable: bool,
    pub active_since: Option<NaiveDate>,
    pub deactivated_on: Option<NaiveDate>,
    pub on_mypay: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct IoValues {
    pub service_id: String,
    pub name: String,
    pub published_since: Option<NaiveDate>,
    pub withdrawn_on: Option<NaiveDate>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OnlineValues {
    pub name: String,
    pub spid_since: Option<NaiveDate>,
    pub cie_since: Option<NaiveDate>,
}

/// A service of one of the three platforms, as a form or a proposal carries it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ServiceValues {
    PagoPa(PagoPaValues),
    Io(IoValues),
    Online(OnlineValues),
}

impl ServiceValues {
    pub fn platform(&self) -> Platform {
        match self {
            ServiceValues::PagoPa(_) => Platform::PagoPa,
            ServiceValues::Io(_) => Platform::AppIo,
            ServiceValues::Online(_) => Platform::SpidCie,
        }
    }

    /// One line for lists of proposals.
    pub fn describe(&self) -> String {
        let d = crate::format::opt_date;
        match self {
            ServiceValues::PagoPa(v) => format!(
                "pagoPA {} — {}, attivo dal {}{}",
                v.taxonomy_code,
                if v.applicable { "applicabile" } else { "non applicabile" },
                d(v.active_since),
                if v.on_mypay { ", su MyPay" } else { "" }
            ),
            ServiceValues::Io(v) => {
                format!("App IO {} «{}», pubblicato dal {}", v.service_id, v.name, d(v.published_since))
            }
            ServiceValues::Online(v) => {
                format!("SPID/CIE «{}», SPID dal {}, CIE dal {}", v.name, d(v.spid_since), d(v.cie_since))
            }
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CountValues {
    pub platform: Platform,
    pub day: NaiveDate,
    pub active: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct VerificationValues {
    pub objective: String,
    pub outcome: Outcome,
    pub reason: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlockerValues {
    pub category: BlockerCategory,
    pub description: String,
    pub opened_on: NaiveDate,
}

/// Collects the messages of one form, field by field.
#[derive(Default)]
struct Check {
    errors: Vec<FieldError>,
}

impl Check {
    fn fail(&mut self, field: &str, message: impl Into<String>) {
        self.errors.push(FieldError { field: field.to_string(), message: message.into() });
    }

    fn finish<T>(self, value: impl FnOnce() -> T) -> Result<T, Vec<FieldError>> {
        if self.errors.is_empty() {
            Ok(value())
        } else {
            Err(self.errors)
        }
    }
}

fn text<'a>(f: &'a Fields, name: &str) -> &'a str {
    f.get(name).map(|s| s.trim()).unwrap_or("")
}

fn checked(f: &Fields, name: &str) -> bool {
    matches!(text(f, name), "on" | "si" | "sì" | "true" | "1")
}

/// A date as `input type=date` sends it (`2021-02-28`) or as people type it (`28/02/2021`).
pub fn parse_date(s: &str) -> Option<NaiveDate> {
    let s = s.trim();
    NaiveDate::parse_from_str(s, "%Y-%m-%d").or_else(|_| NaiveDate::parse_from_str(s, "%d/%m/%Y")).ok()
}

/// An optional date field: empty is `None`; a bad or future date is a message.
fn date_field(c: &mut Check, f: &Fields, name: &str, ctx: &Context) -> Option<NaiveDate> {
    let raw = text(f, name);
    if raw.is_empty() {
        return None;
    }
    match parse_date(raw) {
        None => {
            c.fail(
                name,
                format!("Data non valida: «{raw}». Usare il formato gg/mm/aaaa, ad esempio 28/02/2021."),
            );
            None
        }
        Some(d) if d > ctx.today => {
            c.fail(
                name,
                format!(
                    "La data {} è nel futuro: registrare solo ciò che è già avvenuto.",
                    crate::format::date(d)
                ),
            );
            None
        }
        Some(d) => Some(d),
    }
}

/// A date that may not precede the programme's start (or, for imports, `history_from`).
fn service_date(c: &mut Check, f: &Fields, name: &str, ctx: &Context) -> Option<NaiveDate> {
    let d = date_field(c, f, name, ctx)?;
    if let Some(from) = ctx.history_from {
        if d < from {
            c.fail(
                name,
                format!(
                    "La data {} non è plausibile: le piattaforme nazionali sono registrate dal {} in poi.",
                    crate::format::date(d),
                    crate::format::date(from)
                ),
            );
            return None;
        }
        return Some(d);
    }
    if d < ctx.programme_start {
        c.fail(
            name,
            format!(
                "La data {} precede l'inizio del programma ({}): indicare una data dal {} in poi.",
                crate::format::date(d),
                crate::format::date(ctx.programme_start),
                crate::format::date(ctx.programme_start)
            ),
        );
        return None;
    }
    Some(d)
}

fn required_text(c: &mut Check, f: &Fields, name: &str, what: &str, max: usize) -> String {
    let value = text(f, name);
    if value.is_empty() {
        c.fail(name, format!("Indicare {what}."));
    } else if value.chars().count() > max {
        c.fail(name, format!("Testo troppo lungo: al massimo {max} caratteri."));
    }
    value.to_string()
}

fn optional_text(c: &mut Check, f: &Fields, name: &str, max: usize) -> Option<String> {
    let value = text(f, name);
    if value.chars().count() > max {
        c.fail(name, format!("Testo troppo lungo: al massimo {max} caratteri."));
    }
    Some(value.to_string()).filter(|v| !v.is_empty())
}

/// The version a form was shown (`versione`), for the optimistic-concurrency check.
pub fn version(f: &Fields) -> Option<i64> {
    text(f, "versione").parse().ok().filter(|v| *v >= 0)
}

/// The reason a person gave for a change (`motivo`), kept in the trail.
pub fn reason(f: &Fields) -> Option<String> {
    Some(text(f, "motivo").chars().take(500).collect::<String>()).filter(|r| !r.is_empty())
}

pub fn validate_adhesion(f: &Fields, ctx: &Context) -> Result<AdhesionValues, Vec<FieldError>> {
    let mut c = Check::default();
    let status = AdhesionStatus::from_code(text(f, "stato"));
    if status.is_none() {
        c.fail("stato", "Scegliere uno stato di adesione dall'elenco.");
    }
    let date = date_field(&mut c, f, "data", ctx);
    if status.is_some_and(|s| s.is_supported())
        && date.is_none()
        && !c.errors.iter().any(|e| e.field == "data")
    {
        c.fail("data", "Indicare la data di adesione del comune.");
    }
    // "" or "nessuna": no renunciation.
    let kind = match text(f, "rinuncia") {
        "" | "nessuna" => None,
        code => {
            let kind = Renunciation::from_code(code);
            if kind.is_none() {
                c.fail(
                    "rinuncia",
                    "Scegliere dall'elenco: nessuna, rinuncia al saldo o all'intero contributo.",
                );
            }
            kind
        }
    };
    let renounced_on = date_field(&mut c, f, "data_rinuncia", ctx);
    if kind.is_some() {
        if status.is_some_and(|s| !s.is_supported()) {
            c.fail(
                "rinuncia",
                "Solo un comune aderente (anche in ritardo) può rinunciare al contributo: \
                 indicare lo stato di adesione del comune.",
            );
        }
        if renounced_on.is_none() && !c.errors.iter().any(|e| e.field == "data_rinuncia") {
            c.fail("data_rinuncia", "Indicare la data della rinuncia.");
        }
        if let Some((kind, on)) = kind.zip(renounced_on) {
            if let Err(m) = crate::rules::check_renunciation(ctx.saldo_renunciation_limit, kind, on) {
                c.fail("data_rinuncia", m);
            }
        }
    } else if renounced_on.is_some() {
        c.fail(
            "rinuncia",
            "Indicare a che cosa il comune ha rinunciato, o lasciare vuota la data della rinuncia.",
        );
    }
    if text(f, "motivo").chars().count() > 500 {
        c.fail("motivo", "Testo troppo lungo: al massimo 500 caratteri.");
    }
    c.finish(|| AdhesionValues {
        status: status.expect("checked"),
        date,
        renunciation: kind.zip(renounced_on).map(|(kind, on)| RenunciationFact { kind, on }),
    })
}

/// A pagoPA taxonomy code as people type it: upper case, without spaces.
pub fn normalise_taxonomy_code(s: &str) -> String {
    s.chars().filter(|c| !c.is_whitespace()).collect::<String>().to_uppercase()
}

pub fn validate_pagopa(f: &Fields, ctx: &Context) -> Result<PagoPaValues, Vec<FieldError>> {
    let mut c = Check::default();
    let code = normalise_taxonomy_code(text(f, "codice"));
    if code.is_empty() {
        c.fail(
            "codice",
            "Indicare il codice della Tassonomia dei servizi di incasso pagoPA (ad esempio 9/0101100IM/).",
        );
    } else if !ctx.taxonomy.contains(&code) {
        c.fail(
            "codice",
            format!("Codice di tassonomia sconosciuto: «{code}». Usare un codice della Tassonomia dei servizi di incasso pagoPA (ad esempio 9/0101100IM/)."),
        );
    }
    let active_since = service_date(&mut c, f, "attivo_dal", ctx);
    let deactivated_on = date_field(&mut c, f, "disattivato_il", ctx);
    if let (Some(a), Some(d)) = (active_since, deactivated_on) {
        if d < a {
            c.fail("disattivato_il", "La data di disattivazione precede quella di attivazione.");
        }
    }
    if deactivated_on.is_some() && active_since.is_none() && !c.errors.iter().any(|e| e.field == "attivo_dal")
    {
        c.fail("attivo_dal", "Un servizio disattivato deve avere anche la data di attivazione.");
    }
    c.finish(|| PagoPaValues {
        taxonomy_code: code,
        applicable: checked(f, "applicabile"),
        active_since,
        deactivated_on,
        on_mypay: checked(f, "mypay"),
    })
}

pub fn validate_io(f: &Fields, ctx: &Context) -> Result<IoValues, Vec<FieldError>> {
    let mut c = Check::default();
    let service_id = text(f, "service_id").to_string();
    if service_id.is_empty() {
        c.fail("service_id", "Indicare il Service ID del servizio su App IO.");
    } else if service_id.len() > 64 || !service_id.chars().all(|ch| ch.is_ascii_alphanumeric()) {
        c.fail("service_id", "Il Service ID di App IO è fatto di sole lettere e cifre (al massimo 64).");
    }
    let name = required_text(&mut c, f, "nome", "il nome del servizio", 200);
    let published_since = service_date(&mut c, f, "pubblicato_dal", ctx);
    let withdrawn_on = date_field(&mut c, f, "ritirato_il", ctx);
    if let (Some(p), Some(w)) = (published_since, withdrawn_on) {
        if w < p {
            c.fail("ritirato_il", "La data di ritiro precede quella di pubblicazione.");
        }
    }
    c.finish(|| IoValues { service_id, name, published_since, withdrawn_on })
}

pub fn validate_online(f: &Fields, ctx: &Context) -> Result<OnlineValues, Vec<FieldError>> {
    let mut c = Check::default();
    let name = required_text(&mut c, f, "nome", "il nome del servizio online", 200);
    let spid_since = date_field(&mut c, f, "spid_dal", ctx);
    let cie_since = date_field(&mut c, f, "cie_dal", ctx);
    c.finish(|| OnlineValues { name, spid_since, cie_since })
}

/// The service of a form whose `piattaforma` field says which platform.
pub fn validate_service(f: &Fields, ctx: &Context) -> Result<ServiceValues, Vec<FieldError>> {
    match Platform::from_code(text(f, "piattaforma")) {
        Some(Platform::PagoPa) => validate_pagopa(f, ctx).map(ServiceValues::PagoPa),
        Some(Platform::AppIo) => validate_io(f, ctx).map(ServiceValues::Io),
        Some(Platform::SpidCie) => validate_online(f, ctx).map(ServiceValues::Online),
        None => Err(vec![FieldError {
            field: "piattaforma".into(),
            message: "Scegliere la piattaforma: pagoPA, App IO o SPID/CIE.".into(),
        }]),
    }
}

pub fn validate_count(f: &Fields, ctx: &Context) -> Result<CountValues, Vec<FieldError>> {
    let mut c = Check::default();
    let platform = Platform::from_code(text(f, "piattaforma"));
    if platform.is_none() {
        c.fail("piattaforma", "Scegliere la piattaforma: pagoPA, App IO o SPID/CIE.");
    }
    let day = service_date(&mut c, f, "giorno", ctx);
    if day.is_none() && text(f, "giorno").is_empty() {
        c.fail("giorno", "Indicare il giorno del conteggio.");
    }
    let raw = text(f, "attivi");
    let active = match raw.parse::<i64>() {
        Ok(n) if n < 0 => {
            c.fail("attivi", "Il numero di servizi attivi non può essere negativo.");
            0
        }
        Ok(n) if n > 100_000 => {
            c.fail("attivi", "Numero non plausibile: al massimo 100.000 servizi.");
            0
        }
        Ok(n) => n,
        Err(_) => {
            c.fail(
                "attivi",
                format!("Indicare un numero intero di servizi attivi (è stato scritto «{raw}»)."),
            );
            0
        }
    };
    c.finish(|| CountValues { platform: platform.expect("checked"), day: day.expect("checked"), active })
}

pub fn validate_verification(f: &Fields, ctx: &Context) -> Result<VerificationValues, Vec<FieldError>> {
    let mut c = Check::default();
    let objective = text(f, "obiettivo").to_string();
    if !ctx.objectives.contains(&objective) {
        c.fail("obiettivo", "Obiettivo sconosciuto per questo programma.");
    }
    let outcome = Outcome::from_code(text(f, "esito"));
    if outcome.is_none() {
        c.fail("esito", "Scegliere l'esito della verifica: confermato o respinto.");
    }
    let reason = optional_text(&mut c, f, "motivo", 1000);
    if outcome == Some(Outcome::Respinto) && reason.is_none() {
        c.fail("motivo", "Indicare il motivo del respingimento: il comune lo leggerà.");
    }
    c.finish(|| VerificationValues { objective, outcome: outcome.expect("checked"), reason })
}

pub fn validate_blocker(f: &Fields, ctx: &Context) -> Result<BlockerValues, Vec<FieldError>> {
    let mut c = Check::default();
    let category = BlockerCategory::from_code(text(f, "categoria"));
    if category.is_none() {
        c.fail("categoria", "Scegliere la categoria del blocco dall'elenco.");
    }
    let description = required_text(&mut c, f, "descrizione", "la descrizione del blocco", 2000);
    let opened_on = date_field(&mut c, f, "dal", ctx);
    if opened_on.is_none() && text(f, "dal").is_empty() {
        c.fail("dal", "Indicare da quando c'è il blocco.");
    }
    c.finish(|| BlockerValues {
        category: category.expect("checked"),
        description,
        opened_on: opened_on.expect("checked"),
    })
}

/// Resolving a blocker: the day it was resolved, not before it opened.
pub fn validate_resolution(
    f: &Fields,
    ctx: &Context,
    opened_on: NaiveDate,
) -> Result<NaiveDate, Vec<FieldError>> {
    let mut c = Check::default();
    let day = date_field(&mut c, f, "risolto_il", ctx);
    match day {
        Some(d) if d < opened_on => c.fail(
            "risolto_il",
            format!(
                "Il blocco è stato aperto il {}: la risoluzione non può precederlo.",
                crate::format::date(opened_on)
            ),
        ),
        None if text(f, "risolto_il").is_empty() => {
            c.fail("risolto_il", "Indicare il giorno della risoluzione.")
        }
        _ => {}
    }
    c.finish(|| day.expect("checked"))
}

pub fn validate_note(f: &Fields) -> Result<String, Vec<FieldError>> {
    let mut c = Check::default();
    let body = required_text(&mut c, f, "testo", "il testo della nota", 4000);
    c.finish(|| body)
}

/// The Region's decision on a proposal: accepted, or rejected with a reason.
pub fn validate_decision(f: &Fields) -> Result<(bool, Option<String>), Vec<FieldError>> {
    let mut c = Check::default();
    let accept = match text(f, "esito") {
        "accetta" => Some(true),
        "respingi" => Some(false),
        _ => {
            c.fail("esito", "Scegliere se accettare o respingere la proposta.");
            None
        }
    };
    let reason = optional_text(&mut c, f, "motivo", 1000);
    if accept == Some(false) && reason.is_none() {
        c.fail("motivo", "Indicare il motivo: il comune lo leggerà.");
    }
    c.finish(|| (accept.expect("checked"), reason))
}

/// One entry of the trail, as the pages show it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrailEntry {
    pub seq: i64,
    /// `dd/mm/yyyy HH:MM UTC`.
    pub when: String,
    pub actor: String,
    pub comune: Option<String>,
    /// What was changed, in Italian ("Servizio pagoPA 072006/9/0101100IM/").
    pub what: String,
    pub action: String,
    /// `(field, before, after)`, empty values as "—".
    pub changes: Vec<(String, String, String)>,
    pub reason: Option<String>,
}

/// The Italian name of a trail entity.
pub fn entity_label(entity: &str) -> &str {
    match entity {
        "adhesion" => "Adesione",
        "pagopa_service" => "Servizio pagoPA",
        "io_service" => "Servizio App IO",
        "online_service" => "Servizio online SPID/CIE",
        "service_count" => "Conteggio dei servizi",
        "objective_verification" => "Verifica dell'obiettivo",
        "blocker" => "Blocco",
        "comune_note" => "Nota",
        "service_proposal" => "Proposta di servizio",
        "evidence" => "Evidenza",
        "evidence_review" => "Esame dell'evidenza",
        "dataset" => "Dati",
        other => other,
    }
}

/// The Italian name of a trail action.
pub fn action_label(action: &str) -> &str {
    match action {
        "create" => "Inserimento",
        "update" => "Modifica",
        "delete" => "Eliminazione",
        "load" => "Caricamento",
        "download" => "Scaricamento",
        other => other,
    }
}
