//! Reminders by e-mail against a real SMTP server on 127.0.0.1 (aiosmtpd, started by `make unit`
//! and named by `TRAGUARDI_TEST_SMTP`, its received messages as JSON files in
//! `TRAGUARDI_TEST_SMTP_DIR`; see `.ci/smtp-sink.py`), on SQLite and PostgreSQL: messages
//! received and parsed, the opt-out honoured, a restart or a second sender never sending twice,
//! a refusing server leaving the message queued and reported, the Region's page and a comune's
//! trail. The `--dry-run` on the demo needs no SMTP server.

use std::{collections::HashMap, path::PathBuf};

use axum::http::StatusCode;
use chrono::NaiveDate;

use super::{
    auth::{add_user, form, get, send, sign_in},
    unique, TestDb,
};
use crate::{
    data::{self, Db},
    demo,
    evaluation::Snapshot,
    reminders::{self, config::Mailer, job, Kind},
};

const PROGRAMME: &str = crate::data::programme::FONDO_INNOVAZIONE;
const PUBLIC_URL: &str = "https://traguardi.test";

/// The test SMTP server: its address and the folder of what it received.
struct Sink {
    addr: String,
    dir: PathBuf,
}

/// `None` (with a printed line) when `make unit` did not start it, unless `CI` is set.
fn sink() -> Option<Sink> {
    match (std::env::var("TRAGUARDI_TEST_SMTP"), std::env::var("TRAGUARDI_TEST_SMTP_DIR")) {
        (Ok(addr), Ok(dir)) if !addr.is_empty() && !dir.is_empty() => Some(Sink { addr, dir: dir.into() }),
        _ if std::env::var_os("CI").is_some() => {
            panic!("the SMTP test server is required in CI: TRAGUARDI_TEST_SMTP and TRAGUARDI_TEST_SMTP_DIR are not set")
        }
        _ => {
            println!(
                "SKIPPED: the SMTP tests of the reminders (TRAGUARDI_TEST_SMTP is not set; make unit starts aiosmtpd and sets it)"
            );
            None
        }
    }
}

impl Sink {
    fn mailer(&self) -> Mailer {
        Mailer::new(&format!("smtp://{}", self.addr), "Traguardi <promemoria@traguardi.test>").unwrap()
    }

    /// Every message the server accepted for one of `recipients` (the tests run at once, each
    /// with addresses of its own).
    fn received(&self, recipients: &[&str]) -> Vec<Received> {
        let mut out = Vec::new();
        for entry in std::fs::read_dir(&self.dir).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().to_string();
            if name.starts_with('.') || !name.ends_with(".json") {
                continue;
            }
            let v: serde_json::Value =
                serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
            let rcpt: Vec<String> =
                v["rcpt_tos"].as_array().unwrap().iter().map(|r| r.as_str().unwrap().to_string()).collect();
            if !rcpt.iter().any(|r| recipients.contains(&r.as_str())) {
                continue;
            }
            out.push(Received {
                rcpt,
                to: v["to"].as_str().unwrap().to_string(),
                subject: v["subject"].as_str().unwrap().to_string(),
                key: v["key"].as_str().unwrap().to_string(),
                charset: v["charset"].as_str().unwrap_or_default().to_string(),
                body: v["body"].as_str().unwrap().replace("\r\n", "\n"),
            });
        }
        out.sort_by(|a, b| a.key.cmp(&b.key));
        out
    }
}

#[derive(Debug)]
struct Received {
    rcpt: Vec<String>,
    to: String,
    subject: String,
    key: String,
    charset: String,
    body: String,
}

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

/// The step-1 deadline and a week before it.
fn step1(s: &Snapshot) -> NaiveDate {
    s.programme.steps.iter().map(|st| st.deadline).min().unwrap()
}

/// Supported comuni with an objective of `deadline` not reached on the snapshot's day, by code
/// with their names: the comuni a reminder must be about (read from the rules, not the planner).
fn open_on(s: &Snapshot, deadline: NaiveDate) -> Vec<(String, String)> {
    s.comuni
        .iter()
        .filter(|e| e.outcome.supported)
        .filter(|e| {
            s.programme
                .objectives
                .iter()
                .zip(&e.outcome.objectives)
                .any(|(o, out)| o.deadline == deadline && out.reached_on.is_none())
        })
        .map(|e| (e.record.codice_istat.clone(), e.record.denominazione.clone()))
        .collect()
}

fn user_id(users: &[data::accounts::UserRow], email: &str) -> i64 {
    users.iter().find(|u| u.email == email).unwrap().id
}

async fn users(db: &Db) -> Vec<data::accounts::UserRow> {
    data::accounts::list_users(db).await.unwrap()
}

/// Rows of `reminder_message` by status.
async fn statuses(db: &Db) -> HashMap<String, i64> {
    data::reminders::status_counts(db).await.unwrap().into_iter().collect()
}

#[tokio::test]
async fn reminders_are_received_parsed_honour_the_opt_out_and_go_once() {
    let Some(sink) = sink() else { return };
    let mailer = sink.mailer();
    for t in TestDb::all().await {
        demo::load(&t.db).await.unwrap();
        let week_before = {
            let s = Snapshot::build(&t.db, PROGRAMME, day(2021, 1, 1)).await.unwrap();
            step1(&s) - chrono::Days::new(7)
        };
        let before = Snapshot::build(&t.db, PROGRAMME, week_before).await.unwrap();
        let deadline = step1(&before);
        // Two comuni still missing a step-1 objective a week before it, and still missing one
        // the day after the deadline (so both kinds of comune reminder apply).
        let after_day = deadline + chrono::Days::new(1);
        let after = Snapshot::build(&t.db, PROGRAMME, after_day).await.unwrap();
        let missed: Vec<String> = open_on(&after, deadline).into_iter().map(|(c, _)| c).collect();
        let chosen: Vec<(String, String)> =
            open_on(&before, deadline).into_iter().filter(|(c, _)| missed.contains(c)).take(2).collect();
        assert_eq!(chosen.len(), 2, "the demo has comuni that missed step 1");
        let tag = unique("prom");
        let (a, b, r, s) = (
            format!("{tag}.a@test.invalid"),
            format!("{tag}.b@test.invalid"),
            format!("{tag}.r@test.invalid"),
            format!("{tag}.s@test.invalid"),
        );
        let codes = format!("{} {}", chosen[0].0, chosen[1].0);
        add_user(&t.db, &a, "comune", &codes, "").await;
        add_user(&t.db, &b, "comune", &chosen[0].0, "").await;
        add_user(&t.db, &r, "regione", "", "").await;
        add_user(&t.db, &s, "assessore", "", "").await;
        // A blocker of the first comune, open on both days: named in its messages.
        let blocker = format!("Contratto del fornitore non firmato {tag}");
        data::on_db!(&t.db, pool => sqlx::query(
            "INSERT INTO blocker (programme, comune, category, description, opened_on) VALUES ($1, $2, 'fornitore', $3, $4)",
        )
        .bind(PROGRAMME)
        .bind(&chosen[0].0)
        .bind(&blocker)
        .bind(day(2021, 1, 10))
        .execute(pool)
        .await
        .map(|_| ())
        .unwrap());
        let app = crate::server::router(
            crate::state::AppState::new(
                leptos::prelude::LeptosOptions::builder().output_name("traguardi").build(),
                t.db.clone(),
            )
            .with_mailer(Some(mailer.clone())),
        );
        // B turns the deadline reminders off on the profile page (a plain form).
        let token_b = sign_in(&app, &b).await;
        let page = send(&app, get("/profilo", Some(&token_b))).await;
        assert!(page.body.contains("name=\"scadenza\""), "{}", page.body);
        let saved =
            send(&app, form("/profilo/promemoria", "modulo=promemoria&ritardo=si", Some(&token_b))).await;
        assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
        let page = send(&app, get("/profilo?esito=promemoria", Some(&token_b))).await;
        assert!(page.body.contains("Preferenze dei promemoria salvate"), "{}", page.body);
        assert_eq!(
            data::reminders::optouts_of(&t.db, user_id(&users(&t.db).await, &b)).await.unwrap(),
            vec!["scadenza"]
        );
        // A kind of another role is refused in Italian.
        let refused =
            send(&app, form("/profilo/promemoria", "modulo=promemoria&mensile=si", Some(&token_b))).await;
        assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.body);

        // A week before the deadline: A hears of both comuni, B (opted out) of nothing.
        let run = job::run_day(&t.db, &mailer, PROGRAMME, PUBLIC_URL, week_before).await.unwrap();
        assert_eq!((run.planned, run.recorded as usize, run.delivery.sent), (2, 2, 2), "{run:?}");
        let got = sink.received(&[&a, &b, &r, &s]);
        assert_eq!(got.len(), 2, "{got:#?}");
        let when = crate::reminders::plan::it_date(deadline);
        for (codice, name) in &chosen {
            let m = got
                .iter()
                .find(|m| m.body.contains(&format!("{PUBLIC_URL}/comuni/{codice}\n")))
                .unwrap_or_else(|| panic!("no message about {codice}: {got:#?}"));
            assert_eq!(m.rcpt, vec![a.clone()]);
            assert!(m.to.contains(&a), "{m:?}");
            assert_eq!(m.charset, "utf-8");
            assert!(m.subject.starts_with(&format!("Promemoria: {name}, ")), "{m:?}");
            assert!(m.subject.ends_with(&format!("entro il {when} (tra 7 giorni)")), "{m:?}");
            assert!(m.key.starts_with("scadenza:"), "{m:?}");
            assert!(m.body.contains(&format!("Gentile Persona {a},")), "{}", m.body);
            assert!(m.body.contains(&format!("il Comune di {name} non ha ancora raggiunto")), "{}", m.body);
            assert!(m.body.contains("Cosa manca:\n- "), "{}", m.body);
            assert!(m.body.contains("Situazione: "), "{}", m.body);
            assert!(m.body.contains(&format!("{PUBLIC_URL}/profilo")), "{}", m.body);
            assert_eq!(m.body.contains(&blocker), codice == &chosen[0].0, "{}", m.body);
        }
        // The same day again (a restart, a second instance, cron and the server): nothing new.
        let again = job::run_day(&t.db, &mailer, PROGRAMME, PUBLIC_URL, week_before).await.unwrap();
        assert_eq!((again.planned, again.recorded, again.delivery.sent), (2, 0, 0), "{again:?}");
        assert_eq!(sink.received(&[&a, &b, &r, &s]).len(), 2);

        // The day after the deadline: both referents hear it was missed (B did not turn those
        // off); on a Monday the Region gets its digest, on the first of a month the assessor
        // the summary.
        let run = job::run_day(&t.db, &mailer, PROGRAMME, PUBLIC_URL, after_day).await.unwrap();
        assert_eq!(run.delivery.failed + run.delivery.retrying, 0, "{run:?}");
        let got = sink.received(&[&a, &b, &r, &s]);
        let overdue: Vec<&Received> = got.iter().filter(|m| m.key.starts_with("ritardo:")).collect();
        assert_eq!(overdue.len(), 3, "A for two comuni, B for one: {got:#?}");
        let to_b: Vec<&&Received> = overdue.iter().filter(|m| m.rcpt == vec![b.clone()]).collect();
        assert_eq!(to_b.len(), 1);
        assert!(
            to_b[0].subject.starts_with(&format!("Scadenza superata: {}, ", chosen[0].1)),
            "{:?}",
            to_b[0]
        );
        assert!(
            to_b[0].body.contains(&format!("Blocchi aperti:\n- Fornitore: {blocker} (dal 10/01/2021)")),
            "{}",
            to_b[0].body
        );
        use chrono::Datelike;
        let digests = got.iter().filter(|m| m.rcpt == vec![r.clone()]).count();
        assert_eq!(digests, usize::from(after_day.weekday() == chrono::Weekday::Mon));
        let summaries: Vec<&Received> = got.iter().filter(|m| m.rcpt == vec![s.clone()]).collect();
        assert_eq!(summaries.len(), usize::from(after_day.day() == 1));
        if let Some(m) = summaries.first() {
            assert!(m.body.contains("Contributo maturato: "), "{}", m.body);
        }
        // The Monday after the deadline, the Region's digest (whatever the weekday above).
        let mut monday = after_day;
        while monday.weekday() != chrono::Weekday::Mon {
            monday = monday + chrono::Days::new(1);
        }
        job::run_day(&t.db, &mailer, PROGRAMME, PUBLIC_URL, monday).await.unwrap();
        let digest: Vec<Received> =
            sink.received(&[&r]).into_iter().filter(|m| m.key.starts_with("settimanale:")).collect();
        assert_eq!(digest.len(), 1, "{digest:#?}");
        assert!(digest[0].subject.starts_with("Riepilogo settimanale Traguardi del "), "{:?}", digest[0]);
        for needle in [
            "Scaduti e non raggiunti (",
            "A rischio secondo le previsioni (",
            "Evidenze in attesa di esame: ",
            "/scadenze",
        ] {
            assert!(digest[0].body.contains(needle), "{needle}: {}", digest[0].body);
        }

        // The Region's page: the log names each recipient and outcome; others may not read it.
        let token_r = sign_in(&app, &r).await;
        let log = send(&app, get("/promemoria", Some(&token_r))).await;
        assert_eq!(log.status, StatusCode::OK);
        assert!(log.body.contains("Anteprima dei messaggi di domani"), "{}", log.body);
        assert!(log.body.contains(&a) && log.body.contains(&b), "{}", log.body);
        assert!(log.body.contains("Inviato"), "{}", log.body);
        assert_eq!(send(&app, get("/promemoria", Some(&token_b))).await.status, StatusCode::FORBIDDEN);
        // The comune's trail lists the reminders it received; the other comune's does not.
        let trail = send(&app, get(&format!("/comuni/{}/registro", chosen[0].0), Some(&token_r))).await;
        assert!(trail.body.contains("Promemoria ricevuti"), "{}", trail.body);
        assert!(trail.body.contains(&b), "{}", trail.body);
        let other = send(&app, get(&format!("/comuni/{}/registro", chosen[1].0), Some(&token_r))).await;
        assert!(!other.body.contains(&b), "B's reminders are about the first comune only");
        assert!(statuses(&t.db).await.keys().all(|s| s == "inviato"), "{:?}", statuses(&t.db).await);
        t.drop_db().await;
    }
}

/// Users of a fresh demo database who receive reminders on the day after the step-1 deadline:
/// one comune user per comune that missed it (up to `n`), the day, and their addresses.
async fn many_recipients(t: &TestDb, tag: &str, n: usize, domain: &str) -> (NaiveDate, Vec<String>) {
    demo::load(&t.db).await.unwrap();
    let s = Snapshot::build(&t.db, PROGRAMME, day(2021, 1, 1)).await.unwrap();
    let deadline = step1(&s);
    let after = deadline + chrono::Days::new(1);
    let snap = Snapshot::build(&t.db, PROGRAMME, after).await.unwrap();
    let comuni = open_on(&snap, deadline);
    assert!(comuni.len() >= n, "the demo has {n} comuni that missed step 1");
    let mut emails = Vec::new();
    for (i, (codice, _)) in comuni.iter().take(n).enumerate() {
        let email = format!("{tag}.{i}@{domain}");
        add_user(&t.db, &email, "comune", codice, "").await;
        emails.push(email);
    }
    (after, emails)
}

#[tokio::test]
async fn a_restart_or_a_second_sender_never_sends_twice() {
    let Some(sink) = sink() else { return };
    let mailer = sink.mailer();
    for t in TestDb::all().await {
        let tag = unique("riavvio");
        let (on, emails) = many_recipients(&t, &tag, 6, "test.invalid").await;
        let to: Vec<&str> = emails.iter().map(String::as_str).collect();
        // The run records the day's messages, sends one, and a second sender claims another
        // and stops before marking it (killed mid-send).
        let planned = job::plan_day(&t.db, PROGRAMME, PUBLIC_URL, on).await.unwrap();
        assert_eq!(planned.len(), 6);
        assert_eq!(data::reminders::enqueue(&t.db, &planned, job::now()).await.unwrap(), 6);
        let first = job::deliver(&t.db, &mailer, 1).await.unwrap();
        assert_eq!(first.sent, 1);
        let claimed = data::reminders::claim_due(&t.db, job::now(), 1).await.unwrap();
        assert_eq!(claimed.len(), 1);
        // Restarted: the whole day again, and a second instance at the same time.
        let (one, two) = tokio::join!(
            job::run_day(&t.db, &mailer, PROGRAMME, PUBLIC_URL, on),
            job::deliver(&t.db, &mailer, i64::MAX),
        );
        let (one, two) = (one.unwrap(), two.unwrap());
        assert_eq!(one.recorded, 0, "a restart records nothing twice");
        assert_eq!(1 + one.delivery.sent + two.sent, 5, "{one:?} {two:?}");
        let got = sink.received(&to);
        let mut keys: Vec<&str> = got.iter().map(|m| m.key.as_str()).collect();
        keys.dedup();
        assert_eq!(keys.len(), got.len(), "a message arrived twice: {keys:?}");
        assert_eq!(got.len(), 5);
        assert!(!keys.contains(&claimed[0].dedup_key.as_str()), "the interrupted message was sent");
        // An hour later the interrupted message is given up and reported, never sent again.
        assert_eq!(data::reminders::give_up_interrupted(&t.db, job::now() + 1).await.unwrap(), 1);
        let later = job::run_day(&t.db, &mailer, PROGRAMME, PUBLIC_URL, on).await.unwrap();
        assert_eq!((later.recorded, later.delivery.sent), (0, 0), "{later:?}");
        assert_eq!(sink.received(&to).len(), 5);
        let row = data::reminders::latest(&t.db, 100)
            .await
            .unwrap()
            .into_iter()
            .find(|m| m.id == claimed[0].id)
            .unwrap();
        assert_eq!(row.status, "fallito");
        assert!(row.last_error.unwrap().contains("non ripetuto"));
        t.drop_db().await;
    }
}

#[tokio::test]
async fn a_refusing_server_leaves_the_message_queued_and_reported() {
    let Some(sink) = sink() else { return };
    let mailer = sink.mailer();
    for t in TestDb::all().await {
        let tag = unique("rifiuto");
        // The test server refuses every recipient at @rifiuta.invalid with a 451.
        let (on, emails) = many_recipients(&t, &tag, 2, "rifiuta.invalid").await;
        let run = job::run_day(&t.db, &mailer, PROGRAMME, PUBLIC_URL, on).await.unwrap();
        assert_eq!((run.delivery.sent, run.delivery.retrying, run.delivery.failed), (0, 2, 0), "{run:?}");
        let rows = data::reminders::latest(&t.db, 10).await.unwrap();
        assert_eq!(rows.len(), 2);
        for m in &rows {
            assert_eq!((m.status.as_str(), m.attempts), ("in_coda", 1), "{m:?}");
            let error = m.last_error.as_deref().unwrap();
            assert!(error.contains("451"), "{error}");
            // Retried after the backoff, not at once.
            assert!(m.next_attempt_at >= job::now() + 4 * 60, "{m:?}");
        }
        let again = job::run_day(&t.db, &mailer, PROGRAMME, PUBLIC_URL, on).await.unwrap();
        assert_eq!(again.delivery, job::Delivery::default(), "retried before its time");
        // Reported on the Region's page.
        add_user(&t.db, &format!("{tag}.regione@test.invalid"), "regione", "", "").await;
        let app = crate::server::router(crate::state::AppState::new(
            leptos::prelude::LeptosOptions::builder().output_name("traguardi").build(),
            t.db.clone(),
        ));
        let token = sign_in(&app, &format!("{tag}.regione@test.invalid")).await;
        let page = send(&app, get("/promemoria", Some(&token))).await;
        assert!(page.body.contains("In coda: 1 tentativo fallito"), "{}", page.body);
        assert!(page.body.contains("451"), "{}", page.body);
        assert!(page.body.contains(&emails[0]), "{}", page.body);
        // No SMTP configured in this state: the page says reminders are off.
        assert!(page.body.contains("Invio non attivo"), "{}", page.body);
        assert!(sink.received(&emails.iter().map(String::as_str).collect::<Vec<_>>()).is_empty());
        t.drop_db().await;
    }
}

/// `traguardi promemoria --dry-run --al 2021-02-21` on the demo with its accounts: the reminders
/// of a week before the step-1 deadline for the demo referent's comuni that had not reached it
/// yet, and every other comuni with a step-1 objective still open listed as having nobody to
/// write to; once a referent is registered for two of them, their reminders are listed too.
/// Nothing is recorded. The expectations are read from the rules, not from the planner.
#[tokio::test]
async fn dry_run_on_the_demo_lists_the_week_before_step_one() {
    for t in TestDb::all().await {
        demo::load(&t.db).await.unwrap();
        crate::auth::users::ensure_demo_accounts(&t.db).await.unwrap();
        let on = day(2021, 2, 21);
        let snapshot = Snapshot::build(&t.db, PROGRAMME, on).await.unwrap();
        let deadline = step1(&snapshot);
        assert_eq!(deadline - on, chrono::Duration::days(7));
        let open = open_on(&snapshot, deadline);
        assert!(open.len() > 2, "the demo has comuni with step 1 open a week before it");
        let (demo_email, _, _, demo_comuni, _) = crate::auth::users::DEMO_ACCOUNTS[1];
        let referent = format!("{}.referente@test.invalid", unique("prova"));
        let dry_run = || {
            let db = t.db.clone();
            async move {
                let args = reminders::cli::ReminderArgs {
                    dry_run: true,
                    day: Some(on),
                    programma: PROGRAMME.to_string(),
                    public_url: PUBLIC_URL.to_string(),
                    smtp: Default::default(),
                };
                reminders::cli::run(&db, args).await.unwrap()
            }
        };
        for with_referent in [false, true] {
            let mut served: Vec<(&str, String)> =
                demo_comuni.split_whitespace().map(|c| (demo_email, c.to_string())).collect();
            if with_referent {
                let two = format!("{} {}", open[0].0, open[1].0);
                add_user(&t.db, &referent, "comune", &two, "").await;
                served
                    .extend([(referent.as_str(), open[0].0.clone()), (referent.as_str(), open[1].0.clone())]);
            }
            let out = dry_run().await;
            assert!(
                out.starts_with("Promemoria del 21/02/2021 (prova: nulla è registrato né inviato): "),
                "{out}"
            );
            // 21/02/2021 is a Sunday and not the first of a month: comune reminders only, one
            // per referent and open comune.
            let lines: Vec<&str> = out.lines().filter(|l| l.starts_with("- ")).collect();
            let expected: Vec<(&str, &(String, String))> = served
                .iter()
                .filter_map(|(email, c)| open.iter().find(|(o, _)| o == c).map(|o| (*email, o)))
                .collect();
            assert_eq!(lines.len(), expected.len(), "{out}");
            for (email, (codice, name)) in &expected {
                assert!(
                    lines.iter().any(|l| l
                        .starts_with(&format!("- scadenza | {email} | {codice} | Promemoria: {name}, "))
                        && l.ends_with("entro il 28/02/2021 (tra 7 giorni)")),
                    "{codice} missing:\n{out}"
                );
            }
            // The other comuni with step 1 open: named, with nobody to write to.
            let nobody: Vec<&(String, String)> =
                open.iter().filter(|(c, _)| !served.iter().any(|(_, s)| s == c)).collect();
            assert!(
                out.contains(&format!(
                    "Comuni con una scadenza da ricordare ma nessun referente a cui scrivere: {}\n",
                    nobody.len()
                )),
                "{out}"
            );
            for (codice, name) in &nobody {
                assert!(
                    out.lines().any(|l| l.starts_with(&format!("* {codice} {name}: "))
                        && l.ends_with(
                            "con scadenza il 28/02/2021 (tra 7 giorni), nessun referente registrato"
                        )),
                    "{codice} not listed:\n{out}"
                );
            }
            if with_referent {
                assert_eq!(lines.iter().filter(|l| l.contains(&referent)).count(), 2, "{out}");
            }
        }
        assert!(out_has_keys(&dry_run().await), "the keys are listed");
        assert!(statuses(&t.db).await.is_empty(), "a dry run recorded messages");
        t.drop_db().await;
    }
}

fn out_has_keys(out: &str) -> bool {
    out.lines().filter(|l| l.starts_with("- ")).count()
        == out.lines().filter(|l| l.starts_with(&format!("  chiave {}:", Kind::Scadenza.code()))).count()
}
