//! Reminders by e-mail (issue 18): before each deadline to the comuni's referents, after a
//! missed one with its open blockers, a weekly digest to the Region and a monthly summary to the
//! assessors, each kind turned off by its reader on `/profilo`.
//!
//! - [`plan`]: who gets what on which day, the unique key, the texts, the backoff (pure).
//! - `config`, `job`, `cli`, `routes`: SMTP settings, the daily run, `traguardi promemoria`,
//!   the profile's form (server only).
//! - [`get_reminders`] and [`RemindersPage`]: the Region's `/promemoria` (tomorrow's preview and
//!   the log of every message).
//!
//! Everything here is private: recipients, subjects and bodies are read by the Region, a comune's
//! reminders also by whoever reads that comune's private data (its trail).

use crate::app::PageHead;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::{auth::Role, error::AppError};

#[cfg(feature = "ssr")]
pub mod cli;
#[cfg(feature = "ssr")]
pub mod config;
#[cfg(feature = "ssr")]
pub mod job;
#[cfg(feature = "ssr")]
pub mod plan;
#[cfg(feature = "ssr")]
pub mod routes;
#[cfg(all(test, feature = "ssr"))]
mod tests;

/// A kind of reminder; each person may turn each kind of their role off.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Kind {
    /// A comune's objectives due in 30, 7 and 1 days.
    Scadenza,
    /// A comune's objectives whose deadline passed unreached (1, 7 and 30 days after).
    Ritardo,
    /// The Region's Monday digest.
    Settimanale,
    /// The assessors' summary on the first of each month.
    Mensile,
}

impl Kind {
    pub const ALL: [Kind; 4] = [Kind::Scadenza, Kind::Ritardo, Kind::Settimanale, Kind::Mensile];

    /// The code stored in the database and the profile form's field name.
    pub fn code(self) -> &'static str {
        match self {
            Kind::Scadenza => "scadenza",
            Kind::Ritardo => "ritardo",
            Kind::Settimanale => "settimanale",
            Kind::Mensile => "mensile",
        }
    }

    pub fn from_code(code: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.code() == code)
    }

    /// The name on the profile page and in the log.
    pub fn label(self) -> &'static str {
        match self {
            Kind::Scadenza => "Promemoria delle scadenze (30, 7 e 1 giorno prima)",
            Kind::Ritardo => "Avvisi degli obiettivi scaduti e non raggiunti (1, 7 e 30 giorni dopo)",
            Kind::Settimanale => "Riepilogo settimanale (il lunedì)",
            Kind::Mensile => "Sintesi mensile (il primo del mese)",
        }
    }

    /// Who receives this kind.
    pub fn roles(self) -> &'static [Role] {
        match self {
            Kind::Scadenza | Kind::Ritardo => &[Role::Comune],
            Kind::Settimanale => &[Role::Regione],
            Kind::Mensile => &[Role::Assessore],
        }
    }

    /// The kinds a role receives.
    pub fn of_role(role: Role) -> Vec<Kind> {
        Kind::ALL.into_iter().filter(|k| k.roles().contains(&role)).collect()
    }
}

/// The Italian word of a message's status (`in_coda`, `invio`, `inviato`, `fallito`).
pub fn status_label(status: &str) -> &'static str {
    match status {
        "in_coda" => "In coda",
        "invio" => "In invio",
        "inviato" => "Inviato",
        "fallito" => "Non inviato",
        _ => "Sconosciuto",
    }
}

/// One kind on the profile page: whether this person receives it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Preference {
    pub kind: Kind,
    pub on: bool,
}

/// A message of tomorrow's preview.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PreviewItem {
    pub recipient: String,
    pub kind: Kind,
    pub subject: String,
    pub body: String,
}

/// A recorded message, as the log and a comune's trail show it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogItem {
    /// `dd/mm/yyyy HH:MM UTC`, when it was recorded.
    pub recorded: String,
    pub recipient: String,
    pub kind: Kind,
    pub comune: Option<String>,
    pub subject: String,
    /// In words, with the attempts and the time of the next one when it waits.
    pub outcome: String,
    /// `dd/mm/yyyy HH:MM UTC`, when the SMTP server accepted it.
    pub sent: Option<String>,
    pub error: Option<String>,
}

/// `/promemoria`, the Region's.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RemindersPage {
    /// The SMTP server in use (without credentials); `None`: reminders are off.
    pub smtp: Option<String>,
    /// `dd/mm/yyyy`.
    pub preview_day: String,
    pub preview: Vec<PreviewItem>,
    /// Comuni a reminder is due about tomorrow with no referent to receive it, in words.
    pub unaddressed: Vec<String>,
    /// `(status in words, count)`.
    pub counts: Vec<(String, i64)>,
    /// Newest first, at most [`LOG_ROWS`].
    pub log: Vec<LogItem>,
}

/// Rows of the log on the page.
pub const LOG_ROWS: i64 = 500;

/// Tomorrow's reminders and the log (the Region only).
#[server(endpoint = "promemoria")]
pub async fn get_reminders() -> Result<RemindersPage, AppError> {
    let result = ssr::page().await;
    crate::error::set_status_on_error(&result);
    result
}

#[cfg(feature = "ssr")]
pub mod ssr {
    use super::*;
    use crate::{auth::guard, data};

    /// `2026-11-26 10:00` from Unix seconds.
    pub fn when(secs: i64) -> String {
        chrono::DateTime::from_timestamp(secs, 0)
            .map(|t| t.format("%d/%m/%Y %H:%M UTC").to_string())
            .unwrap_or_default()
    }

    /// "1 tentativo fallito", "3 tentativi falliti".
    fn attempts(n: i64) -> String {
        if n == 1 {
            "1 tentativo fallito".to_string()
        } else {
            format!("{n} tentativi falliti")
        }
    }

    pub fn log_item(m: data::reminders::MessageRow) -> LogItem {
        let outcome = match m.status.as_str() {
            "in_coda" if m.attempts > 0 => {
                format!("In coda: {}, il prossimo dal {}", attempts(m.attempts), when(m.next_attempt_at))
            }
            "fallito" => format!("Non inviato ({})", attempts(m.attempts)),
            other => status_label(other).to_string(),
        };
        LogItem {
            recorded: when(m.created_at),
            recipient: m.recipient,
            kind: Kind::from_code(&m.kind).unwrap_or(Kind::Scadenza),
            comune: m.comune,
            subject: m.subject,
            outcome,
            sent: m.sent_at.map(when),
            error: m.last_error,
        }
    }

    pub async fn page() -> Result<RemindersPage, AppError> {
        guard::require_users_manager().map_err(|e| match e {
            AppError::Forbidden(_) => {
                AppError::Forbidden("Solo i referenti della Regione consultano i promemoria inviati.".into())
            }
            other => other,
        })?;
        let state = crate::state::app_state()?;
        let tomorrow = crate::evaluation::today() + chrono::Days::new(1);
        let plan =
            super::job::plan_day_full(&state.db, &state.programme, &state.auth.config.public_url, tomorrow)
                .await?;
        let preview = plan
            .messages
            .into_iter()
            .map(|p| PreviewItem { recipient: p.recipient, kind: p.kind, subject: p.subject, body: p.body })
            .collect();
        let counts = data::reminders::status_counts(&state.db)
            .await?
            .into_iter()
            .map(|(s, n)| (status_label(&s).to_string(), n))
            .collect();
        let log = data::reminders::latest(&state.db, LOG_ROWS).await?.into_iter().map(log_item).collect();
        Ok(RemindersPage {
            smtp: state.mailer.as_ref().map(|m| m.description.clone()),
            preview_day: super::plan::it_date(tomorrow),
            preview,
            unaddressed: plan.unaddressed,
            counts,
            log,
        })
    }
}

/// `/promemoria`: tomorrow's messages and the log of every message, for the Region.
#[component]
pub fn RemindersPageView() -> impl IntoView {
    let page = Resource::new(|| (), |_| get_reminders());
    view! {
        <PageHead title="Promemoria via e-mail" description="I promemoria via e-mail di Traguardi: anteprima dei messaggi di domani e registro di quelli inviati." />
        <h1>"Promemoria via e-mail"</h1>
        <Suspense fallback=|| view! { <p>"Caricamento…"</p> }>
            {move || Suspend::new(async move {
                match page.await {
                    Ok(p) => view! { <RemindersView p /> }.into_any(),
                    Err(error) => view! { <crate::auth::ui::SignInNeeded error /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn RemindersView(p: RemindersPage) -> impl IntoView {
    let smtp = match p.smtp {
        Some(s) => format!("Invio attivo tramite il server SMTP {s}."),
        None => "Invio non attivo: nessun server SMTP configurato (TRAGUARDI_SMTP_URL e TRAGUARDI_SMTP_FROM). I promemoria non vengono registrati né inviati.".to_string(),
    };
    let counts = if p.counts.is_empty() {
        "Nessun messaggio registrato finora.".to_string()
    } else {
        p.counts.iter().map(|(s, n)| format!("{s}: {n}")).collect::<Vec<_>>().join(" · ")
    };
    let preview_title = format!("Anteprima dei messaggi di domani, {} ({})", p.preview_day, p.preview.len());
    view! {
        <p role="status">{smtp}</p>
        <h2>{preview_title}</h2>
        {if p.preview.is_empty() {
            view! { <p>"Nessun promemoria previsto per domani."</p> }.into_any()
        } else {
            view! {
                <ul class="elenco-promemoria">
                    {p
                        .preview
                        .into_iter()
                        .map(|m| {
                            let summary = format!("{} — {}: {}", m.recipient, m.kind.label(), m.subject);
                            view! {
                                <li>
                                    <details>
                                        <summary>{summary}</summary>
                                        <pre class="testo-promemoria">{m.body}</pre>
                                    </details>
                                </li>
                            }
                        })
                        .collect_view()}
                </ul>
            }
                .into_any()
        }}
        {(!p.unaddressed.is_empty())
            .then(|| {
                view! {
                    <h3>"Comuni senza referenti a cui scrivere"</h3>
                    <ul>{p.unaddressed.into_iter().map(|l| view! { <li>{l}</li> }).collect_view()}</ul>
                }
            })}
        <h2>"Registro dei messaggi"</h2>
        <p>{counts}</p>
        <ReminderLog items=p.log with_comune=true />
    }
}

/// The recorded messages as a table (the Region's log, a comune's trail).
#[component]
pub fn ReminderLog(items: Vec<LogItem>, with_comune: bool) -> impl IntoView {
    if items.is_empty() {
        return view! { <p>"Nessun promemoria registrato."</p> }.into_any();
    }
    view! {
        <div class="table-wrap" tabindex="0" role="region" aria-label="Promemoria registrati">
            <table class="table">
                <caption>"Promemoria registrati, dal più recente"</caption>
                <thead>
                    <tr>
                        <th scope="col">"Registrato"</th>
                        <th scope="col">"Destinatario"</th>
                        <th scope="col">"Tipo"</th>
                        {with_comune.then(|| view! { <th scope="col">"Comune"</th> })}
                        <th scope="col">"Oggetto"</th>
                        <th scope="col">"Esito"</th>
                        <th scope="col">"Inviato"</th>
                        <th scope="col">"Errore"</th>
                    </tr>
                </thead>
                <tbody>
                    {items
                        .into_iter()
                        .map(|m| {
                            let comune = m.comune.clone().unwrap_or_else(|| "—".into());
                            view! {
                                <tr>
                                    <td>{m.recorded}</td>
                                    <td>{m.recipient}</td>
                                    <td>{m.kind.label()}</td>
                                    {with_comune.then(|| view! { <td>{comune}</td> })}
                                    <td>{m.subject}</td>
                                    <td>{m.outcome}</td>
                                    <td>{m.sent.unwrap_or_else(|| "—".into())}</td>
                                    <td>{m.error.unwrap_or_else(|| "—".into())}</td>
                                </tr>
                            }
                        })
                        .collect_view()}
                </tbody>
            </table>
        </div>
    }
    .into_any()
}

/// The profile's section: one checkbox per kind of the person's role, a plain POST form.
#[component]
pub fn PreferencesForm(preferences: Vec<Preference>, saved: bool) -> impl IntoView {
    if preferences.is_empty() {
        return ().into_any();
    }
    view! {
        <h2 id="promemoria">"Promemoria via e-mail"</h2>
        {saved
            .then(|| {
                view! {
                    <div class="alert alert-success" role="status">
                        <p>"Preferenze dei promemoria salvate."</p>
                    </div>
                }
            })}
        <form method="post" action="/profilo/promemoria">
            <input type="hidden" name="modulo" value="promemoria" />
            <fieldset>
                <legend>"Ricevo via e-mail"</legend>
                {preferences
                    .into_iter()
                    .map(|p| {
                        let id = format!("promemoria-{}", p.kind.code());
                        view! {
                            <div class="form-check">
                                <input
                                    class="form-check-input"
                                    type="checkbox"
                                    id=id.clone()
                                    name=p.kind.code()
                                    value="si"
                                    checked=p.on
                                />
                                <label class="form-check-label" for=id>{p.kind.label()}</label>
                            </div>
                        }
                    })
                    .collect_view()}
            </fieldset>
            <button type="submit" class="btn btn-primary">"Salva le preferenze"</button>
        </form>
    }
    .into_any()
}
