//! Who gets which reminder on which day, and what it says: plain functions over plain data (no
//! database, no SMTP), so the calendar, the unique key, the texts and the backoff are unit-tested
//! on their own (`reminders::tests`). The job (`reminders::job`) loads the data, calls [`plan`]
//! and records what it returns before sending.

use std::collections::HashMap;

use chrono::{Datelike, NaiveDate, Weekday};

use super::Kind;
use crate::auth::Role;

/// Days before a deadline on which a comune's users are reminded of its open objectives.
pub const DAYS_BEFORE: [i64; 3] = [30, 7, 1];
/// Days after a missed deadline on which they are told it was missed (then no more).
pub const DAYS_AFTER: [i64; 3] = [1, 7, 30];
/// The Region's digest goes out on this weekday.
pub const DIGEST_WEEKDAY: Weekday = Weekday::Mon;
/// How many comuni a Region digest names in each list before it points to the page.
pub const DIGEST_LIST: usize = 20;

/// A person who may receive reminders.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Recipient {
    pub user_id: i64,
    pub email: String,
    pub name: String,
    pub role: Role,
    /// The comuni of a `comune` user.
    pub comuni: Vec<String>,
    /// The kinds this person turned off.
    pub opted_out: Vec<Kind>,
}

/// An objective a supported comune has not reached.
#[derive(Clone, Debug, PartialEq)]
pub struct OpenObjective {
    /// "pagoPA", "App IO", "SPID/CIE".
    pub platform: String,
    pub description: String,
    pub deadline: NaiveDate,
    /// What is missing, in words ("0 servizi (ne serve 1)").
    pub progress: String,
    /// The forecast says the deadline will be missed (open objectives before their deadline).
    pub at_risk: bool,
}

/// A supported comune as the reminders read it on the day.
#[derive(Clone, Debug, PartialEq)]
pub struct ComuneState {
    pub codice: String,
    pub name: String,
    pub open: Vec<OpenObjective>,
    /// Open blockers, in words ("Fornitore: contratto in attesa (dal 10/03/2021)").
    pub blockers: Vec<String>,
}

/// The headline figures of the assessors' monthly summary.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Headline {
    pub supported: usize,
    pub first_step: usize,
    pub first_step_on_time: usize,
    pub all_objectives: usize,
    pub overdue: usize,
    pub at_risk: usize,
    pub earned_eur: i64,
    pub possible_eur: i64,
    pub lost_eur: i64,
}

/// Everything [`plan`] reads.
#[derive(Clone, Debug)]
pub struct PlanInput<'a> {
    pub day: NaiveDate,
    pub programme: &'a str,
    /// `https://host` without the final slash: the links in the messages.
    pub public_url: &'a str,
    /// Supported comuni only.
    pub comuni: &'a [ComuneState],
    /// Evidence waiting for the Region's review.
    pub evidence_waiting: usize,
    pub headline: &'a Headline,
    pub recipients: &'a [Recipient],
}

/// One message to record and send.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Planned {
    pub key: String,
    pub user_id: i64,
    pub recipient: String,
    pub kind: Kind,
    pub occasion: String,
    pub comune: Option<String>,
    pub day: NaiveDate,
    pub subject: String,
    pub body: String,
}

/// The unique key of a message: one per person, kind and occasion. Built from the person's id
/// (an e-mail address may change), so the same reminder is never recorded twice.
pub fn key(kind: Kind, user_id: i64, occasion: &str) -> String {
    format!("{}:{user_id}:{occasion}", kind.code())
}

/// Minutes to wait before attempt `attempts + 1`, after `attempts` failed ones: 5, 10, 20, …
/// doubling up to 6 hours. `None`: stop trying (after [`MAX_ATTEMPTS`]).
pub fn backoff_minutes(attempts: i64) -> Option<i64> {
    if attempts >= MAX_ATTEMPTS {
        return None;
    }
    let doubled = 5_i64.saturating_mul(1_i64 << (attempts - 1).clamp(0, 20));
    Some(doubled.min(6 * 60))
}

/// Attempts before a message is given up (about a day and a half of retries).
pub const MAX_ATTEMPTS: i64 = 10;

/// `dd/mm/yyyy`.
pub fn it_date(d: NaiveDate) -> String {
    d.format("%d/%m/%Y").to_string()
}

/// An amount in euros the Italian way: `1.234.567 €`.
pub fn it_eur(eur: i64) -> String {
    let digits = eur.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push('.');
        }
        out.push(c);
    }
    format!("{}{out} €", if eur < 0 { "-" } else { "" })
}

fn when_words(days: i64) -> String {
    match days {
        1 => "domani".to_string(),
        n => format!("tra {n} giorni"),
    }
}

fn objectives_words(n: usize) -> String {
    if n == 1 {
        "1 obiettivo".to_string()
    } else {
        format!("{n} obiettivi")
    }
}

/// The reminders due on `input.day`, in a stable order (person, kind, occasion).
pub fn plan(input: &PlanInput<'_>) -> Vec<Planned> {
    let by_code: HashMap<&str, &ComuneState> = input.comuni.iter().map(|c| (c.codice.as_str(), c)).collect();
    let mut out = Vec::new();
    for r in input.recipients {
        let wants = |k: Kind| k.roles().contains(&r.role) && !r.opted_out.contains(&k);
        if wants(Kind::Scadenza) || wants(Kind::Ritardo) {
            for codice in &r.comuni {
                let Some(c) = by_code.get(codice.as_str()) else { continue };
                if wants(Kind::Scadenza) {
                    out.extend(deadline_reminders(input, r, c));
                }
                if wants(Kind::Ritardo) {
                    out.extend(overdue_reminders(input, r, c));
                }
            }
        }
        if wants(Kind::Settimanale) && input.day.weekday() == DIGEST_WEEKDAY {
            out.push(weekly_digest(input, r));
        }
        if wants(Kind::Mensile) && input.day.day() == 1 {
            out.push(monthly_summary(input, r));
        }
    }
    out
}

/// A comune that a deadline or overdue reminder is due about on the day, but that has no
/// `comune` user to receive it: the Region learns of it from the dry run and the preview.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unaddressed {
    pub codice: String,
    pub name: String,
    pub deadline: NaiveDate,
    /// Days from the day to the deadline: positive before it, negative after.
    pub days: i64,
}

impl Unaddressed {
    /// "072006 Bari: 2 obiettivi con scadenza il 28/02/2021 (tra 7 giorni), nessun referente registrato".
    pub fn describe(&self, objectives: usize) -> String {
        let when =
            if self.days > 0 { when_words(self.days) } else { format!("scaduta da {} giorni", -self.days) };
        format!(
            "{} {}: {} con scadenza il {} ({when}), nessun referente registrato",
            self.codice,
            self.name,
            objectives_words(objectives),
            it_date(self.deadline)
        )
    }
}

/// The comuni with a reminder due on `input.day` and nobody to send it to, with how many open
/// objectives each such deadline has.
pub fn unaddressed(input: &PlanInput<'_>) -> Vec<(Unaddressed, usize)> {
    let served: std::collections::HashSet<&str> = input
        .recipients
        .iter()
        .filter(|r| r.role == Role::Comune)
        .flat_map(|r| r.comuni.iter().map(String::as_str))
        .collect();
    let mut out = Vec::new();
    for c in input.comuni.iter().filter(|c| !served.contains(c.codice.as_str())) {
        for (deadline, list) in by_deadline(c) {
            let days = (deadline - input.day).num_days();
            if DAYS_BEFORE.contains(&days) || DAYS_AFTER.contains(&-days) {
                out.push((
                    Unaddressed { codice: c.codice.clone(), name: c.name.clone(), deadline, days },
                    list.len(),
                ));
            }
        }
    }
    out
}

/// The distinct deadlines of `c`'s open objectives, each with its objectives.
fn by_deadline(c: &ComuneState) -> Vec<(NaiveDate, Vec<&OpenObjective>)> {
    let mut groups: Vec<(NaiveDate, Vec<&OpenObjective>)> = Vec::new();
    for o in &c.open {
        match groups.iter_mut().find(|(d, _)| *d == o.deadline) {
            Some((_, list)) => list.push(o),
            None => groups.push((o.deadline, vec![o])),
        }
    }
    groups.sort_by_key(|(d, _)| *d);
    groups
}

fn objective_lines(list: &[&OpenObjective], with_risk: bool) -> String {
    list.iter()
        .map(|o| {
            let risk = if with_risk && o.at_risk {
                "\n  Previsione: a rischio (al ritmo attuale non sarà raggiunto in tempo)."
            } else {
                ""
            };
            format!("- {}: {}\n  Situazione: {}.{risk}", o.platform, o.description, o.progress)
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn blocker_lines(c: &ComuneState) -> String {
    if c.blockers.is_empty() {
        "Nessun blocco aperto registrato.".to_string()
    } else {
        format!(
            "Blocchi aperti:\n{}",
            c.blockers.iter().map(|b| format!("- {b}")).collect::<Vec<_>>().join("\n")
        )
    }
}

fn footer(input: &PlanInput<'_>) -> String {
    format!(
        "Può disattivare questo tipo di promemoria dal suo profilo: {}/profilo\n\
         Messaggio automatico di Traguardi ({}): non rispondere a questo indirizzo.",
        input.public_url, input.programme
    )
}

fn deadline_reminders(input: &PlanInput<'_>, r: &Recipient, c: &ComuneState) -> Vec<Planned> {
    let mut out = Vec::new();
    for (deadline, list) in by_deadline(c) {
        let days = (deadline - input.day).num_days();
        if !DAYS_BEFORE.contains(&days) {
            continue;
        }
        let occasion = format!("{}/{deadline}/-{days}", c.codice);
        let subject = format!(
            "Promemoria: {}, {} da raggiungere entro il {} ({})",
            c.name,
            objectives_words(list.len()),
            it_date(deadline),
            when_words(days)
        );
        let body = format!(
            "Gentile {name},\n\n\
             al {today} il Comune di {comune} non ha ancora raggiunto {n} del programma {programme} \
             con scadenza il {deadline} ({when}).\n\n\
             Cosa manca:\n{lines}\n\n{blockers}\n\n\
             La pagina del comune: {url}/comuni/{codice}\n\n{footer}\n",
            name = r.name,
            today = it_date(input.day),
            comune = c.name,
            n = objectives_words(list.len()),
            programme = input.programme,
            deadline = it_date(deadline),
            when = when_words(days),
            lines = objective_lines(&list, true),
            blockers = blocker_lines(c),
            url = input.public_url,
            codice = c.codice,
            footer = footer(input),
        );
        out.push(planned(input, r, Kind::Scadenza, occasion, Some(&c.codice), subject, body));
    }
    out
}

fn overdue_reminders(input: &PlanInput<'_>, r: &Recipient, c: &ComuneState) -> Vec<Planned> {
    let mut out = Vec::new();
    for (deadline, list) in by_deadline(c) {
        let days = (input.day - deadline).num_days();
        if !DAYS_AFTER.contains(&days) {
            continue;
        }
        let occasion = format!("{}/{deadline}/+{days}", c.codice);
        let subject = format!(
            "Scadenza superata: {}, {} non raggiunti entro il {}",
            c.name,
            objectives_words(list.len()),
            it_date(deadline)
        );
        let body = format!(
            "Gentile {name},\n\n\
             al {today} il Comune di {comune} non ha raggiunto {n} del programma {programme} \
             scaduti il {deadline}.\n\n\
             Cosa manca:\n{lines}\n\n{blockers}\n\n\
             La pagina del comune: {url}/comuni/{codice}\n\n{footer}\n",
            name = r.name,
            today = it_date(input.day),
            comune = c.name,
            n = objectives_words(list.len()),
            programme = input.programme,
            deadline = it_date(deadline),
            lines = objective_lines(&list, false),
            blockers = blocker_lines(c),
            url = input.public_url,
            codice = c.codice,
            footer = footer(input),
        );
        out.push(planned(input, r, Kind::Ritardo, occasion, Some(&c.codice), subject, body));
    }
    out
}

/// A list of comuni, at most [`DIGEST_LIST`] named, "e altri N" after.
fn named_list(lines: &[String]) -> String {
    if lines.is_empty() {
        return "- nessuno".to_string();
    }
    let mut text: Vec<String> = lines.iter().take(DIGEST_LIST).map(|l| format!("- {l}")).collect();
    if lines.len() > DIGEST_LIST {
        text.push(format!("- … e altri {}", lines.len() - DIGEST_LIST));
    }
    text.join("\n")
}

fn weekly_digest(input: &PlanInput<'_>, r: &Recipient) -> Planned {
    let day = input.day;
    let iso = day.iso_week();
    let occasion = format!("{}-W{:02}", iso.year(), iso.week());
    let mut due = Vec::new();
    let mut overdue = Vec::new();
    let mut risk = Vec::new();
    for c in input.comuni {
        for (deadline, list) in by_deadline(c) {
            let days = (deadline - day).num_days();
            if (0..=30).contains(&days) {
                due.push(format!(
                    "{}: {} entro il {}",
                    c.name,
                    objectives_words(list.len()),
                    it_date(deadline)
                ));
            } else if days < 0 {
                overdue.push(format!(
                    "{}: {} scaduti il {}{}",
                    c.name,
                    objectives_words(list.len()),
                    it_date(deadline),
                    if c.blockers.is_empty() {
                        String::new()
                    } else {
                        format!(" ({} blocchi aperti)", c.blockers.len())
                    }
                ));
            }
        }
        let at_risk: Vec<&OpenObjective> = c.open.iter().filter(|o| o.at_risk && o.deadline >= day).collect();
        if !at_risk.is_empty() {
            let which: Vec<&str> = at_risk.iter().map(|o| o.platform.as_str()).collect();
            risk.push(format!("{}: {}", c.name, which.join(", ")));
        }
    }
    let subject = format!(
        "Riepilogo settimanale Traguardi del {}: {} comuni in scadenza, {} in ritardo, {} a rischio",
        it_date(day),
        due.len(),
        overdue.len(),
        risk.len()
    );
    let body = format!(
        "Gentile {name},\n\n\
         ecco la situazione del programma {programme} al {today}.\n\n\
         In scadenza nei prossimi 30 giorni ({due_n}):\n{due}\n\n\
         Scaduti e non raggiunti ({over_n}):\n{over}\n\n\
         A rischio secondo le previsioni ({risk_n}):\n{risk}\n\n\
         Evidenze in attesa di esame: {evidence}. Coda delle evidenze: {url}/evidenze\n\n\
         Scadenze e blocchi di ogni comune: {url}/scadenze\n\n{footer}\n",
        name = r.name,
        programme = input.programme,
        today = it_date(day),
        due_n = due.len(),
        due = named_list(&due),
        over_n = overdue.len(),
        over = named_list(&overdue),
        risk_n = risk.len(),
        risk = named_list(&risk),
        evidence = input.evidence_waiting,
        url = input.public_url,
        footer = footer(input),
    );
    planned(input, r, Kind::Settimanale, occasion, None, subject, body)
}

fn monthly_summary(input: &PlanInput<'_>, r: &Recipient) -> Planned {
    let h = input.headline;
    let occasion = input.day.format("%Y-%m").to_string();
    let subject = format!("Sintesi mensile Traguardi al {}", it_date(input.day));
    let body = format!(
        "Gentile {name},\n\n\
         la sintesi del programma {programme} al {today}:\n\n\
         - Comuni aderenti: {supported}\n\
         - Primo step raggiunto: {first} (di cui in tempo: {first_on_time})\n\
         - Tutti gli obiettivi raggiunti in tempo: {all}\n\
         - Comuni con obiettivi scaduti e non raggiunti: {overdue}\n\
         - Comuni a rischio secondo le previsioni: {risk}\n\
         - Contributo maturato: {earned}\n\
         - Contributo ancora possibile: {possible}\n\
         - Contributo perso: {lost}\n\n\
         Il cruscotto: {url}/\n\n{footer}\n",
        name = r.name,
        programme = input.programme,
        today = it_date(input.day),
        supported = h.supported,
        first = h.first_step,
        first_on_time = h.first_step_on_time,
        all = h.all_objectives,
        overdue = h.overdue,
        risk = h.at_risk,
        earned = it_eur(h.earned_eur),
        possible = it_eur(h.possible_eur),
        lost = it_eur(h.lost_eur),
        url = input.public_url,
        footer = footer(input),
    );
    planned(input, r, Kind::Mensile, occasion, None, subject, body)
}

fn planned(
    input: &PlanInput<'_>,
    r: &Recipient,
    kind: Kind,
    occasion: String,
    comune: Option<&str>,
    subject: String,
    body: String,
) -> Planned {
    Planned {
        key: key(kind, r.user_id, &occasion),
        user_id: r.user_id,
        recipient: r.email.clone(),
        kind,
        occasion,
        comune: comune.map(str::to_string),
        day: input.day,
        subject,
        body,
    }
}
