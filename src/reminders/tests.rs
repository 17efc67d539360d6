//! The pure parts of the reminders, without a database or SMTP: who gets what on which day, the
//! unique key, the texts, the backoff, the profile form.

use chrono::NaiveDate;

use super::{
    plan::{self, ComuneState, Headline, OpenObjective, PlanInput, Planned, Recipient},
    routes::{kinds_off, PreferencesForm},
    Kind,
};
use crate::auth::Role;

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

const STEP1: (i32, u32, u32) = (2021, 2, 28);

fn objective(platform: &str, deadline: NaiveDate, at_risk: bool) -> OpenObjective {
    OpenObjective {
        platform: platform.into(),
        description: format!("Almeno 1 servizio {platform}"),
        deadline,
        progress: "0 servizi (ne serve 1)".into(),
        at_risk,
    }
}

fn comune(codice: &str, name: &str, open: Vec<OpenObjective>, blockers: Vec<&str>) -> ComuneState {
    ComuneState {
        codice: codice.into(),
        name: name.into(),
        open,
        blockers: blockers.into_iter().map(String::from).collect(),
    }
}

fn person(id: i64, role: Role, comuni: &[&str], off: &[Kind]) -> Recipient {
    Recipient {
        user_id: id,
        email: format!("persona{id}@test.invalid"),
        name: format!("Persona {id}"),
        role,
        comuni: comuni.iter().map(|c| c.to_string()).collect(),
        opted_out: off.to_vec(),
    }
}

fn world() -> (Vec<ComuneState>, Vec<Recipient>) {
    let s1 = day(STEP1.0, STEP1.1, STEP1.2);
    let end = day(2021, 12, 31);
    let comuni = vec![
        comune(
            "072006",
            "Bari",
            vec![
                objective("pagoPA", s1, true),
                objective("App IO", s1, false),
                objective("App IO", end, false),
            ],
            vec!["Fornitore: contratto in attesa (dal 10/02/2021)"],
        ),
        comune("072004", "Altamura", vec![objective("SPID/CIE", end, true)], vec![]),
    ];
    let people = vec![
        person(1, Role::Comune, &["072006", "072004"], &[]),
        person(2, Role::Comune, &["072006"], &[Kind::Scadenza]),
        person(3, Role::Regione, &[], &[]),
        person(4, Role::Assessore, &[], &[]),
        person(5, Role::Regione, &[], &[Kind::Settimanale]),
    ];
    (comuni, people)
}

fn plan_on(on: NaiveDate) -> Vec<Planned> {
    let (comuni, people) = world();
    let headline = Headline { supported: 2, earned_eur: 1_234_567, ..Headline::default() };
    plan::plan(&PlanInput {
        day: on,
        programme: "Fondo Innovazione 2020-2021",
        public_url: "https://traguardi.example",
        comuni: &comuni,
        evidence_waiting: 3,
        headline: &headline,
        recipients: &people,
    })
}

fn keys(p: &[Planned]) -> Vec<&str> {
    p.iter().map(|m| m.key.as_str()).collect()
}

#[test]
fn a_week_before_the_deadline_each_referent_of_the_comune_is_told_once_per_deadline() {
    // 21/02/2021: a Sunday, seven days before the step-1 deadline.
    let p = plan_on(day(2021, 2, 21));
    // Person 1 (Bari and Altamura): one message for Bari's two step-1 objectives; Altamura has
    // nothing due that day. Person 2 turned deadline reminders off.
    assert_eq!(keys(&p), vec!["scadenza:1:072006/2021-02-28/-7"]);
    let m = &p[0];
    assert_eq!(m.recipient, "persona1@test.invalid");
    assert_eq!(m.comune.as_deref(), Some("072006"));
    assert_eq!(m.subject, "Promemoria: Bari, 2 obiettivi da raggiungere entro il 28/02/2021 (tra 7 giorni)");
    for needle in [
        "Gentile Persona 1,",
        "al 21/02/2021 il Comune di Bari non ha ancora raggiunto 2 obiettivi",
        "- pagoPA: Almeno 1 servizio pagoPA",
        "Situazione: 0 servizi (ne serve 1).",
        "Previsione: a rischio",
        "Blocchi aperti:\n- Fornitore: contratto in attesa (dal 10/02/2021)",
        "https://traguardi.example/comuni/072006",
        "https://traguardi.example/profilo",
    ] {
        assert!(m.body.contains(needle), "{needle:?} missing from:\n{}", m.body);
    }
    // The final-step objective (31/12/2021) is not in this message.
    assert_eq!(m.body.matches("\n- ").count(), 3, "two objectives and one blocker:\n{}", m.body);
}

#[test]
fn reminders_fall_on_30_7_and_1_days_before_and_1_7_30_days_after() {
    let s1 = day(STEP1.0, STEP1.1, STEP1.2);
    let mut days_with_deadline_reminders = Vec::new();
    let mut days_with_overdue = Vec::new();
    for offset in -40_i64..=40 {
        let on = s1 + chrono::Duration::days(offset);
        for m in plan_on(on) {
            if m.comune.as_deref() == Some("072006") && m.key.contains("/2021-02-28/") {
                match m.kind {
                    Kind::Scadenza => days_with_deadline_reminders.push(-offset),
                    Kind::Ritardo => days_with_overdue.push(offset),
                    _ => unreachable!("{m:?}"),
                }
            }
        }
    }
    assert_eq!(days_with_deadline_reminders, vec![30, 7, 1]);
    // Person 1 and person 2 (who only turned the deadline reminders off) on each day after.
    assert_eq!(days_with_overdue, vec![1, 1, 7, 7, 30, 30]);
}

#[test]
fn the_day_after_a_missed_deadline_the_overdue_message_names_the_blockers() {
    let p = plan_on(day(2021, 3, 1));
    let overdue: Vec<&Planned> = p.iter().filter(|m| m.kind == Kind::Ritardo).collect();
    assert_eq!(
        keys(&p.iter().filter(|m| m.kind == Kind::Ritardo).cloned().collect::<Vec<_>>()),
        vec!["ritardo:1:072006/2021-02-28/+1", "ritardo:2:072006/2021-02-28/+1"]
    );
    assert_eq!(overdue[0].subject, "Scadenza superata: Bari, 2 obiettivi non raggiunti entro il 28/02/2021");
    assert!(overdue[0].body.contains("Fornitore: contratto in attesa"), "{}", overdue[0].body);
    // No forecast talk once the deadline has passed.
    assert!(!overdue[0].body.contains("Previsione"), "{}", overdue[0].body);
}

#[test]
fn the_region_gets_a_monday_digest_and_the_assessors_a_monthly_summary() {
    // 01/03/2021 is a Monday and the first of the month.
    let p = plan_on(day(2021, 3, 1));
    let digest: Vec<&Planned> = p.iter().filter(|m| m.kind == Kind::Settimanale).collect();
    // Person 5 (Region) turned the digest off.
    assert_eq!(digest.iter().map(|m| m.key.as_str()).collect::<Vec<_>>(), vec!["settimanale:3:2021-W09"]);
    let body = &digest[0].body;
    for needle in [
        "Scaduti e non raggiunti (1):\n- Bari: 2 obiettivi scaduti il 28/02/2021 (1 blocchi aperti)",
        "A rischio secondo le previsioni (1):\n- Altamura: SPID/CIE",
        "Evidenze in attesa di esame: 3.",
        "https://traguardi.example/scadenze",
    ] {
        assert!(body.contains(needle), "{needle:?} missing from:\n{body}");
    }
    let summary: Vec<&Planned> = p.iter().filter(|m| m.kind == Kind::Mensile).collect();
    assert_eq!(summary.iter().map(|m| m.key.as_str()).collect::<Vec<_>>(), vec!["mensile:4:2021-03"]);
    assert!(summary[0].body.contains("Contributo maturato: 1.234.567 €"), "{}", summary[0].body);
    // Tuesday the 2nd: neither.
    assert!(plan_on(day(2021, 3, 2)).iter().all(|m| !matches!(m.kind, Kind::Settimanale | Kind::Mensile)));
}

#[test]
fn roles_only_get_their_own_kinds() {
    for on in [day(2021, 1, 29), day(2021, 2, 21), day(2021, 3, 1), day(2021, 3, 8), day(2021, 4, 1)] {
        let (_, people) = world();
        for m in plan_on(on) {
            let who = people.iter().find(|r| r.user_id == m.user_id).unwrap();
            assert!(m.kind.roles().contains(&who.role), "{m:?} to {who:?}");
            assert!(!who.opted_out.contains(&m.kind), "{m:?} to {who:?}, who turned it off");
            assert_eq!(m.key, plan::key(m.kind, m.user_id, &m.occasion));
        }
    }
}

#[test]
fn the_key_is_one_per_person_kind_and_occasion() {
    assert_eq!(plan::key(Kind::Scadenza, 7, "072006/2021-02-28/-7"), "scadenza:7:072006/2021-02-28/-7");
    assert_ne!(plan::key(Kind::Scadenza, 7, "x"), plan::key(Kind::Ritardo, 7, "x"));
    assert_ne!(plan::key(Kind::Scadenza, 7, "x"), plan::key(Kind::Scadenza, 8, "x"));
    // Planning the same day twice gives the same keys (what makes a second run a no-op).
    let on = day(2021, 3, 1);
    assert_eq!(keys(&plan_on(on)), keys(&plan_on(on)));
    let all = plan_on(on);
    let mut unique = keys(&all);
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), all.len(), "two messages of one run share a key");
}

#[test]
fn backoff_doubles_from_five_minutes_up_to_six_hours_then_stops() {
    let waits: Vec<Option<i64>> = (1..=plan::MAX_ATTEMPTS).map(plan::backoff_minutes).collect();
    assert_eq!(
        waits,
        vec![
            Some(5),
            Some(10),
            Some(20),
            Some(40),
            Some(80),
            Some(160),
            Some(320),
            Some(360),
            Some(360),
            None
        ]
    );
    assert_eq!(plan::backoff_minutes(0), Some(5));
    assert_eq!(plan::backoff_minutes(1000), None);
}

#[test]
fn italian_amounts_and_dates() {
    assert_eq!(plan::it_eur(0), "0 €");
    assert_eq!(plan::it_eur(999), "999 €");
    assert_eq!(plan::it_eur(1000), "1.000 €");
    assert_eq!(plan::it_eur(-25_000_000), "-25.000.000 €");
    assert_eq!(plan::it_date(day(2021, 2, 8)), "08/02/2021");
}

#[test]
fn the_profile_form_turns_off_the_unchecked_kinds_of_the_role_only() {
    let form = |q: &str| -> PreferencesForm { serde_urlencoded_form(q) };
    assert_eq!(kinds_off(&form("modulo=promemoria&scadenza=si&ritardo=si"), Role::Comune).unwrap(), vec![]);
    assert_eq!(kinds_off(&form("modulo=promemoria&ritardo=si"), Role::Comune).unwrap(), vec![Kind::Scadenza]);
    assert_eq!(
        kinds_off(&form("modulo=promemoria"), Role::Comune).unwrap(),
        vec![Kind::Scadenza, Kind::Ritardo]
    );
    assert_eq!(kinds_off(&form("modulo=promemoria"), Role::Regione).unwrap(), vec![Kind::Settimanale]);
    // Refused with a 400 in Italian: no form marker, a kind of another role, a strange value.
    for (q, role) in [
        ("", Role::Comune),
        ("modulo=promemoria&mensile=si", Role::Comune),
        ("modulo=promemoria&scadenza=1", Role::Comune),
    ] {
        let e = kinds_off(&form(q), role).unwrap_err();
        assert!(matches!(e, crate::error::AppError::BadRequest(_)), "{q}: {e:?}");
    }
}

/// The form as the browser sends it (`a=b&c=d`), decoded field by field.
fn serde_urlencoded_form(q: &str) -> PreferencesForm {
    let mut f = PreferencesForm::default();
    for pair in q.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap();
        let v = v.to_string();
        match k {
            "modulo" => f.modulo = v,
            "scadenza" => f.scadenza = Some(v),
            "ritardo" => f.ritardo = Some(v),
            "settimanale" => f.settimanale = Some(v),
            "mensile" => f.mensile = Some(v),
            other => panic!("unknown field {other}"),
        }
    }
    f
}

#[test]
fn each_role_has_its_kinds() {
    assert_eq!(Kind::of_role(Role::Comune), vec![Kind::Scadenza, Kind::Ritardo]);
    assert_eq!(Kind::of_role(Role::Regione), vec![Kind::Settimanale]);
    assert_eq!(Kind::of_role(Role::Assessore), vec![Kind::Mensile]);
    for k in Kind::ALL {
        assert_eq!(Kind::from_code(k.code()), Some(k));
    }
}

#[test]
fn smtp_settings_are_both_or_neither_and_checked_at_start() {
    use super::config::SmtpArgs;
    let args = |url: Option<&str>, from: Option<&str>| SmtpArgs {
        smtp_url: url.map(String::from),
        smtp_from: from.map(String::from),
    };
    assert!(args(None, None).validate().unwrap().is_none(), "none set: no reminders");
    assert!(args(Some(" "), Some("")).validate().unwrap().is_none(), "empty counts as unset");
    for (url, from) in [
        (Some("smtp://127.0.0.1:25"), None),
        (None, Some("traguardi@regione.puglia.it")),
        (Some("http://127.0.0.1:25"), Some("traguardi@regione.puglia.it")),
        (Some("non un indirizzo"), Some("traguardi@regione.puglia.it")),
        (Some("smtp://127.0.0.1:25?tls=forse"), Some("traguardi@regione.puglia.it")),
        (Some("smtp://127.0.0.1:25"), Some("non un indirizzo")),
    ] {
        assert!(args(url, from).validate().is_err(), "{url:?} {from:?} accepted");
    }
    // Plain, STARTTLS and TLS; the credentials never show in the description.
    for (url, shown) in [
        ("smtp://127.0.0.1:2525", "smtp://127.0.0.1:2525"),
        ("smtp://posta.example:587?tls=required", "smtp://posta.example:587?tls=required"),
        ("smtps://utente:segreta@posta.example:465", "smtps://posta.example:465"),
    ] {
        let m = args(Some(url), Some("Traguardi <traguardi@regione.puglia.it>")).validate().unwrap().unwrap();
        assert_eq!(m.description, shown);
        assert!(!format!("{m:?}").contains("segreta"));
        assert_eq!(m.from.email.to_string(), "traguardi@regione.puglia.it");
    }
}

#[test]
fn comuni_with_a_reminder_due_and_no_referent_are_named() {
    let (comuni, _) = world();
    let headline = Headline::default();
    // Only a Region user: nobody receives Bari's reminder a week before step 1.
    let people = vec![person(3, Role::Regione, &[], &[])];
    let input = PlanInput {
        day: day(2021, 2, 21),
        programme: "P",
        public_url: "https://t",
        comuni: &comuni,
        evidence_waiting: 0,
        headline: &headline,
        recipients: &people,
    };
    let list: Vec<String> = plan::unaddressed(&input).into_iter().map(|(u, n)| u.describe(n)).collect();
    assert_eq!(
        list,
        vec![
            "072006 Bari: 2 obiettivi con scadenza il 28/02/2021 (tra 7 giorni), nessun referente registrato"
        ]
    );
    // A referent who turned the reminders off still counts as registered.
    let people = vec![person(2, Role::Comune, &["072006"], &[Kind::Scadenza])];
    assert!(plan::unaddressed(&PlanInput { recipients: &people, ..input }).is_empty());
}
