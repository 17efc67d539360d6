//! The daily run: load what [`plan::plan`] reads (set-based: one snapshot, the open blockers,
//! the review queue, the accounts and their opt-outs), record the day's messages (each once, by
//! its unique key), then send what waits, retrying failures with backoff. The server runs it in
//! the background ([`run_periodically`]); `traguardi promemoria` runs it once.

use std::{collections::HashMap, sync::Arc, time::Duration};

use chrono::NaiveDate;

use super::{
    config::Mailer,
    plan::{self, ComuneState, Headline, OpenObjective, PlanInput, Planned, Recipient},
    Kind,
};
use crate::{
    comuni::Milestone,
    data::{self, Db},
    error::AppError,
    evaluation::Snapshot,
};

/// Messages sent per pass of the sender (the rest wait for the next pass, a minute later).
pub const BATCH: i64 = 200;
/// A message claimed longer ago than this, and never marked, was interrupted mid-send.
pub const INTERRUPTED_AFTER_SECS: i64 = 3600;

/// Now, in Unix seconds.
pub fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// The reminders due on `day`, as they would be recorded (nothing is written).
pub async fn plan_day(
    db: &Db,
    programme_code: &str,
    public_url: &str,
    day: NaiveDate,
) -> Result<Vec<Planned>, AppError> {
    Ok(plan_day_full(db, programme_code, public_url, day).await?.messages)
}

/// A day's plan: the messages, and the comuni a reminder is due about but nobody would get it
/// (no `comune` user registered for them), in words.
#[derive(Clone, Debug, Default)]
pub struct DayPlan {
    pub messages: Vec<Planned>,
    pub unaddressed: Vec<String>,
}

pub async fn plan_day_full(
    db: &Db,
    programme_code: &str,
    public_url: &str,
    day: NaiveDate,
) -> Result<DayPlan, AppError> {
    let snapshot = Snapshot::build(db, programme_code, day).await?;
    let blockers = data::blockers::open_on(db, programme_code, day).await?;
    let evidence_waiting = data::evidence::queue_count(db, programme_code, None, None).await?;
    let users = data::accounts::list_users(db).await?;
    let optouts = data::reminders::optouts(db).await?;
    let comuni = comuni_states(&snapshot, &blockers);
    let headline = headline(&snapshot);
    let mut off: HashMap<i64, Vec<Kind>> = HashMap::new();
    for (user, kind) in optouts {
        if let Some(k) = Kind::from_code(&kind) {
            off.entry(user).or_default().push(k);
        }
    }
    let recipients: Vec<Recipient> = users
        .into_iter()
        .filter(|u| u.enabled)
        .map(|u| Recipient {
            opted_out: off.remove(&u.id).unwrap_or_default(),
            user_id: u.id,
            email: u.email,
            name: u.name,
            role: u.role,
            comuni: u.comuni,
        })
        .collect();
    let input = PlanInput {
        day,
        programme: &snapshot.programme.name,
        public_url: public_url.trim_end_matches('/'),
        comuni: &comuni,
        evidence_waiting,
        headline: &headline,
        recipients: &recipients,
    };
    Ok(DayPlan {
        messages: plan::plan(&input),
        unaddressed: plan::unaddressed(&input).into_iter().map(|(u, n)| u.describe(n)).collect(),
    })
}

/// Each supported comune with an objective not reached on the snapshot's day.
pub fn comuni_states(snapshot: &Snapshot, blockers: &[data::blockers::BlockerRow]) -> Vec<ComuneState> {
    let mut open_blockers: HashMap<&str, Vec<String>> = HashMap::new();
    for b in blockers {
        open_blockers.entry(b.comune.as_str()).or_default().push(format!(
            "{}: {} (dal {})",
            data::workspace::category(&b.category).label(),
            b.description,
            plan::it_date(b.opened_on)
        ));
    }
    snapshot
        .comuni
        .iter()
        .filter(|e| e.outcome.supported)
        .filter_map(|e| {
            let open: Vec<OpenObjective> = snapshot
                .programme
                .objectives
                .iter()
                .zip(&e.outcome.objectives)
                .filter(|(_, o)| o.reached_on.is_none())
                .map(|(objective, o)| OpenObjective {
                    platform: objective.platform.label().to_string(),
                    description: objective.description.clone(),
                    deadline: objective.deadline,
                    progress: o.progress.describe(),
                    at_risk: e.forecasts.iter().any(|f| f.objective == objective.code && f.forecast.at_risk),
                })
                .collect();
            (!open.is_empty()).then(|| ComuneState {
                codice: e.record.codice_istat.clone(),
                name: e.record.denominazione.clone(),
                open,
                blockers: open_blockers.remove(e.record.codice_istat.as_str()).unwrap_or_default(),
            })
        })
        .collect()
}

/// The assessors' figures, with the same tests as the dashboard's cards ([`Snapshot::reached`]).
pub fn headline(s: &Snapshot) -> Headline {
    let count = |m: Milestone| s.comuni.iter().filter(|e| s.reached(e, m)).count();
    Headline {
        supported: count(Milestone::Supportati),
        first_step: count(Milestone::PrimoStep),
        first_step_on_time: count(Milestone::PrimoStepInTempo),
        all_objectives: count(Milestone::TuttiObiettivi),
        overdue: s.comuni.iter().filter(|e| s.overdue(e)).count(),
        at_risk: s.comuni.iter().filter(|e| e.forecasts.iter().any(|f| f.forecast.at_risk)).count(),
        earned_eur: s.comuni.iter().map(|e| e.outcome.earned_eur).sum(),
        possible_eur: s.comuni.iter().map(|e| e.outcome.possible_eur).sum(),
        lost_eur: s.comuni.iter().map(|e| e.outcome.lost_eur).sum(),
    }
}

/// What one pass of the sender did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Delivery {
    pub sent: usize,
    /// Failed, back in the queue for a later attempt.
    pub retrying: usize,
    /// Failed for good (a permanent refusal, or too many attempts).
    pub failed: usize,
    /// Found claimed but never marked (a sender stopped mid-send): given up, not sent again.
    pub interrupted: u64,
}

/// Sends up to `limit` waiting messages whose time has come.
pub async fn deliver(db: &Db, mailer: &Mailer, limit: i64) -> Result<Delivery, AppError> {
    let mut d = Delivery {
        interrupted: data::reminders::give_up_interrupted(db, now() - INTERRUPTED_AFTER_SECS).await?,
        ..Delivery::default()
    };
    if d.interrupted > 0 {
        tracing::warn!(messages = d.interrupted, "reminders interrupted mid-send: given up, not sent twice");
        crate::ops::metrics::reminders("interrupted", d.interrupted);
    }
    for m in data::reminders::claim_due(db, now(), limit).await? {
        match mailer.send(&m.recipient, &m.subject, &m.body, &m.dedup_key).await {
            Ok(()) => {
                data::reminders::mark_sent(db, m.id, now()).await?;
                crate::ops::metrics::reminders("sent", 1);
                d.sent += 1;
            }
            Err(e) => {
                let retry = if e.permanent { None } else { plan::backoff_minutes(m.attempts + 1) };
                let retry_at = retry.map(|mins| now() + mins * 60);
                data::reminders::mark_failed(db, m.id, &e.message, retry_at).await?;
                if retry_at.is_some() {
                    d.retrying += 1;
                    crate::ops::metrics::reminders("retry", 1);
                    tracing::warn!(id = m.id, key = %m.dedup_key, attempt = m.attempts + 1, retry_in_minutes = retry, error = %e.message, "reminder not sent: will retry");
                } else {
                    d.failed += 1;
                    crate::ops::metrics::reminders("failed", 1);
                    tracing::error!(id = m.id, key = %m.dedup_key, attempts = m.attempts + 1, error = %e.message, "reminder not sent: given up");
                }
            }
        }
    }
    Ok(d)
}

/// One run for `day`: plan, record (what is new), send what waits.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Run {
    pub planned: usize,
    pub recorded: u64,
    pub delivery: Delivery,
}

pub async fn run_day(
    db: &Db,
    mailer: &Mailer,
    programme_code: &str,
    public_url: &str,
    day: NaiveDate,
) -> Result<Run, AppError> {
    let planned = plan_day(db, programme_code, public_url, day).await?;
    let recorded = data::reminders::enqueue(db, &planned, now()).await?;
    let delivery = deliver(db, mailer, i64::MAX).await?;
    Ok(Run { planned: planned.len(), recorded, delivery })
}

/// The server's job: the day's reminders are planned and recorded once a day (at the first pass
/// of each day; the unique keys make a second instance's plan a no-op), and the queue is sent
/// every minute, so a retry waits at most a minute past its time.
pub async fn run_periodically(db: Db, mailer: Arc<Mailer>, programme: Arc<str>, public_url: String) {
    let mut tick = tokio::time::interval(Duration::from_secs(60));
    let mut planned_for: Option<NaiveDate> = None;
    loop {
        tick.tick().await;
        let today = crate::evaluation::today();
        if planned_for != Some(today) {
            let recorded = match plan_day(&db, &programme, &public_url, today).await {
                Ok(planned) => data::reminders::enqueue(&db, &planned, now()).await.map_err(AppError::from),
                Err(e) => Err(e),
            };
            crate::ops::metrics::job("reminders_plan", recorded.is_ok());
            match recorded {
                Ok(n) => {
                    tracing::info!(day = %today, recorded = n, "reminders of the day recorded");
                    planned_for = Some(today);
                }
                Err(e) => tracing::warn!(error = %e, "reminders: planning failed (tried again in a minute)"),
            }
        }
        let sent = deliver(&db, &mailer, BATCH).await;
        crate::ops::metrics::job("reminders_send", sent.is_ok());
        match sent {
            Ok(d) if d.sent + d.retrying + d.failed > 0 => {
                tracing::info!(sent = d.sent, retrying = d.retrying, failed = d.failed, "reminders sent")
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "reminders: sending failed"),
        }
    }
}
