//! Unit tests of the deadline rule: the window's boundaries (today, 30 and 31 days ahead, a day
//! late), reached objectives and comuni outside the programme; and of the query and the words.

use super::*;
use crate::rules::{
    tests::{day, fondo_innovazione},
    ObjectiveOutcome, Progress, ProgressUnit,
};

/// An outcome where the objectives in `reached` were reached on the given day, the others not.
fn outcome(programme: &Programme, reached: &[(&str, &str)]) -> ComuneOutcome {
    ComuneOutcome {
        supported: true,
        objectives: programme
            .objectives
            .iter()
            .map(|o| {
                let reached_on = reached.iter().find(|(code, _)| *code == o.code).map(|(_, d)| day(d));
                ObjectiveOutcome {
                    code: o.code.clone(),
                    reached_on,
                    on_time: reached_on.is_some_and(|d| d <= o.deadline),
                    progress: Progress { value: 0, required: 1, unit: ProgressUnit::Services, holds: false },
                    verified: false,
                }
            })
            .collect(),
        steps: Vec::new(),
        all_objectives_on_time: false,
        all_objectives_on: None,
        grant_eur: 0,
        earned_eur: 0,
        lost_eur: 0,
        renounced_eur: 0,
        possible_eur: 0,
    }
}

fn standing<'a>(
    codice: &'a str,
    name: &'a str,
    adhesion: AdhesionStatus,
    outcome: &'a ComuneOutcome,
) -> ComuneStanding<'a> {
    ComuneStanding { codice_istat: codice, denominazione: name, adhesion, outcome }
}

/// (comune, objective, urgency) of each pending objective, in order.
fn listed(pending: &[PendingObjective<'_>]) -> Vec<(String, String, Urgency)> {
    pending.iter().map(|p| (p.denominazione.to_string(), p.objective.code.clone(), p.urgency)).collect()
}

const STEP1: [&str; 3] = ["step1_pagopa", "step1_io", "step1_spid"];

#[test]
fn the_window_includes_today_and_the_thirtieth_day_not_the_thirty_first() {
    let p = fondo_innovazione();
    let none = outcome(&p, &[]);
    let comuni = || [standing("073013", "Martina Franca", AdhesionStatus::Aderente, &none)];
    // Step 1 is due on 28/02/2021.
    let at = |d: &str| listed(&pending_objectives(&p, comuni(), day(d), WINDOW_DAYS));

    assert!(at("2021-01-28").is_empty(), "31 days ahead: not yet");
    let thirty = at("2021-01-29");
    assert_eq!(thirty.len(), 3, "30 days ahead: the three step-1 objectives");
    assert!(thirty.iter().all(|(_, _, u)| *u == Urgency::DueSoon { days: 30 }));
    assert_eq!(thirty.iter().map(|(_, c, _)| c.as_str()).collect::<Vec<_>>(), STEP1, "programme order");

    let today = at("2021-02-28");
    assert!(today.iter().all(|(_, _, u)| *u == Urgency::DueSoon { days: 0 }), "due today is not overdue");
    assert_eq!(Urgency::DueSoon { days: 0 }.label(), "In scadenza oggi");

    let late = at("2021-03-01");
    assert!(late.iter().all(|(_, _, u)| *u == Urgency::Overdue { days: 1 }), "{late:?}");
    assert_eq!(Urgency::Overdue { days: 1 }.label(), "Scaduto da 1 giorno");

    // A month before the final deadline, step 1 is long overdue and the finals are due soon.
    let december = at("2021-12-01");
    assert_eq!(december.len(), 6);
    assert_eq!(december[0].2, Urgency::Overdue { days: 276 });
    assert_eq!(december[3].2, Urgency::DueSoon { days: 30 });
    assert_eq!(december[3].1, "final_pagopa");
}

#[test]
fn reached_objectives_are_not_listed_even_when_reached_late() {
    let p = fondo_innovazione();
    // pagoPA reached on time, App IO a week late, SPID never.
    let o = outcome(&p, &[("step1_pagopa", "2021-02-01"), ("step1_io", "2021-03-07")]);
    let comuni = [standing("073013", "Martina Franca", AdhesionStatus::Aderente, &o)];
    let pending = listed(&pending_objectives(&p, comuni, day("2021-03-10"), WINDOW_DAYS));
    assert_eq!(
        pending,
        vec![("Martina Franca".to_string(), "step1_spid".to_string(), Urgency::Overdue { days: 10 })]
    );
}

#[test]
fn only_comuni_in_the_programme_are_listed() {
    let p = fondo_innovazione();
    let none = outcome(&p, &[]);
    let comuni = [
        standing("000001", "Aderente", AdhesionStatus::Aderente, &none),
        standing("000002", "In ritardo", AdhesionStatus::AderenteInRitardo, &none),
        standing("000003", "Non aderente", AdhesionStatus::NonAderente, &none),
        standing("000004", "Rinuncia", AdhesionStatus::Rinuncia, &none),
    ];
    let pending = pending_objectives(&p, comuni, day("2021-02-15"), WINDOW_DAYS);
    let mut names: Vec<&str> = pending.iter().map(|p| p.denominazione).collect();
    names.dedup();
    assert_eq!(names, ["Aderente", "In ritardo"]);
    assert!(pending.iter().all(|p| p.urgency == Urgency::DueSoon { days: 13 }));
}

#[test]
fn rows_are_ordered_by_deadline_then_comune_name() {
    let p = fondo_innovazione();
    let none = outcome(&p, &[]);
    // Zollino has only the finals left; Bari and Altamura everything.
    let step1_done: Vec<(&str, &str)> = STEP1.iter().map(|c| (*c, "2021-02-01")).collect();
    let finals_only = outcome(&p, &step1_done);
    let comuni = [
        standing("075096", "Zollino", AdhesionStatus::Aderente, &finals_only),
        standing("072006", "Bari", AdhesionStatus::Aderente, &none),
        standing("072004", "Altamura", AdhesionStatus::Aderente, &none),
    ];
    let pending = listed(&pending_objectives(&p, comuni, day("2021-12-10"), WINDOW_DAYS));
    let order: Vec<(&str, &str)> = pending.iter().map(|(n, c, _)| (n.as_str(), c.as_str())).collect();
    assert_eq!(
        order,
        [
            ("Altamura", "step1_pagopa"),
            ("Altamura", "step1_io"),
            ("Altamura", "step1_spid"),
            ("Bari", "step1_pagopa"),
            ("Bari", "step1_io"),
            ("Bari", "step1_spid"),
            ("Altamura", "final_pagopa"),
            ("Altamura", "final_io"),
            ("Altamura", "final_spid_cie"),
            ("Bari", "final_pagopa"),
            ("Bari", "final_io"),
            ("Bari", "final_spid_cie"),
            ("Zollino", "final_pagopa"),
            ("Zollino", "final_io"),
            ("Zollino", "final_spid_cie"),
        ]
    );
}

#[test]
fn the_days_in_words() {
    assert_eq!(Urgency::Overdue { days: 1520 }.label(), "Scaduto da 1.520 giorni");
    assert_eq!(Urgency::DueSoon { days: 1 }.label(), "In scadenza domani");
    assert_eq!(Urgency::DueSoon { days: 13 }.label(), "In scadenza tra 13 giorni");
    assert_eq!(
        (Urgency::Overdue { days: 3 }.code(), Urgency::DueSoon { days: 3 }.code()),
        ("scaduto", "in_scadenza")
    );
}

#[test]
fn the_query_accepts_iso_and_italian_dates_and_refuses_others_in_italian() {
    let q = |al: &str, provincia: &str| ScadenzeQuery {
        al: Some(al.into()),
        provincia: Some(provincia.into()),
        ..Default::default()
    };
    let v = q("2021-02-15", "le").validate(&crate::data::registry::territory()).unwrap();
    assert_eq!(
        v,
        ValidScadenzeQuery {
            al: Some(day("2021-02-15")),
            provincia: Some("LE".into()),
            by_risk: false,
            pages: [1; 3]
        }
    );
    assert_eq!(v.query(), "al=2021-02-15&provincia=LE");
    assert_eq!(
        q("15/02/2021", "").validate(&crate::data::registry::territory()).unwrap().al,
        Some(day("2021-02-15"))
    );
    assert_eq!(
        q(" ", " ").validate(&crate::data::registry::territory()).unwrap(),
        ValidScadenzeQuery::default(),
        "empty means today, all"
    );
    assert_eq!(ScadenzeQuery::default().validate(&crate::data::registry::territory()).unwrap().query(), "");
    for bad in ["2021-02-30", "domani", "2021-2", "15-02-2021", "99999-01-01", "1800-01-01"] {
        match q(bad, "").validate(&crate::data::registry::territory()) {
            Err(AppError::BadRequest(m)) => {
                assert!(m.starts_with(&format!("Data non valida: «{bad}»")), "{m}")
            }
            other => panic!("{bad}: {other:?}"),
        }
    }
    match q("", "XX").validate(&crate::data::registry::territory()) {
        Err(AppError::BadRequest(m)) => assert!(m.contains("Provincia sconosciuta: «XX»"), "{m}"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn blocker_categories_have_the_database_codes_and_italian_labels() {
    let labels: Vec<&str> = BlockerCategory::ALL.iter().map(|c| c.label()).collect();
    assert_eq!(labels, ["Fornitore", "Delibera", "Personale", "Tecnico", "Altro"]);
    for c in BlockerCategory::ALL {
        assert_eq!(BlockerCategory::from_code(c.code()), Some(c));
    }
    assert_eq!(BlockerCategory::from_code("Fornitore"), None, "codes are lower case");
}

/// Each table keeps one page of rows and its counts are of the whole table; the page links of
/// one table keep the others' pages and land on its heading.
#[test]
fn each_table_keeps_one_page_and_counts_the_whole() {
    let row = |i: usize| ScadenzaRow {
        codice_istat: format!("{:06}", i / 2),
        denominazione: format!("Comune {i}"),
        sigla_provincia: "BA".into(),
        objective_code: "final_io".into(),
        platform_code: "io".into(),
        platform: "App IO".into(),
        description: String::new(),
        deadline: day("2021-12-31"),
        urgency: Urgency::Overdue { days: 3 },
        blockers: Vec::new(),
        previsione: None,
    };
    let data = ScadenzeData {
        as_of: day("2022-01-03"),
        provincia: None,
        window_days: WINDOW_DAYS,
        overdue: (0..121).map(row).collect(),
        due_soon: (0..3).map(row).collect(),
        at_risk: Vec::new(),
        by_risk: false,
        own_comuni_only: false,
        demo: false,
        al: None,
        counts: Default::default(),
    };
    let paged = data.paginate([3, 9, 1]);
    let names = |rows: &[ScadenzaRow]| rows.iter().map(|r| r.denominazione.clone()).collect::<Vec<_>>();
    assert_eq!(names(&paged.overdue), (100..121).map(|i| format!("Comune {i}")).collect::<Vec<_>>());
    assert_eq!(paged.counts[0], TableCount { total: 121, comuni: 61, page: 3, pages: 3 });
    assert_eq!(paged.due_soon.len(), 3, "a page past the last keeps the last");
    assert_eq!(paged.counts[1], TableCount { total: 3, comuni: 2, page: 1, pages: 1 });
    assert_eq!(paged.counts[2], TableCount { total: 0, comuni: 0, page: 1, pages: 1 });

    let here = ValidScadenzeQuery { provincia: Some("BA".into()), pages: [3, 1, 1], ..Default::default() };
    assert_eq!(
        here.page_href(1, 2),
        "/scadenze?provincia=BA&pagina_scaduti=3&pagina_in_scadenza=2#in-scadenza"
    );
    assert_eq!(here.page_href(0, 1), "/scadenze?provincia=BA#scaduti");
    assert_eq!(ValidScadenzeQuery::default().page_href(2, 1), "/scadenze#a-rischio");
    assert_eq!(here.first_pages().query(), "provincia=BA");
    let q = ScadenzeQuery { pagina_in_scadenza: Some("2".into()), ..Default::default() };
    assert_eq!(q.validate(&crate::data::registry::territory()).unwrap().pages, [1, 2, 1]);
    let bad = ScadenzeQuery { pagina_a_rischio: Some("zero".into()), ..Default::default() };
    assert!(
        matches!(bad.validate(&crate::data::registry::territory()), Err(AppError::BadRequest(m)) if m.starts_with("Numero di pagina non valido"))
    );
}
