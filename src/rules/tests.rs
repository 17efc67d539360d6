//! Unit tests of the Fondo Innovazione rules: the edge cases the fund's text turns on (exactly 70%,
//! 9 against 10 services, a day late, already on pagoPA, boundaries of the grant bands) and the
//! euro accounting of tranches for every adhesion status.

use super::*;

// ---------------------------------------------------------------------------------------------
// Test data: the programme as the migration loads it, and small builders for a comune's facts.
// ---------------------------------------------------------------------------------------------

pub(crate) fn day(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap_or_else(|e| panic!("bad test date {s}: {e}"))
}

/// A day well after the end of the programme: everything that happened is known.
fn long_after() -> NaiveDate {
    day("2022-06-30")
}

const STEP1_DEADLINE: &str = "2021-02-28";
const FINAL_DEADLINE: &str = "2021-12-31";
/// The Region's limit for renouncing the saldo (letter to the mayors, May 2022).
const SALDO_RENUNCIATION_LIMIT: &str = "2022-05-26";

/// The Fondo Innovazione 2020-21 as the migrations insert it: the rules' tests run on the very
/// programme rows the application uses (`migrations/*/…_fondo_innovazione.sql`), so the rules and
/// the seed data cannot drift apart. The rows are read the way the application reads them: a
/// fresh SQLite database, migrated, loaded by `data::programme::load` (no SQL parsing of our
/// own). It is built once per test binary, on a thread of its own so that async tests may call
/// it too.
pub(crate) fn fondo_innovazione() -> Programme {
    static PROGRAMME: std::sync::OnceLock<Programme> = std::sync::OnceLock::new();
    PROGRAMME
        .get_or_init(|| {
            std::thread::spawn(|| {
                let runtime =
                    tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a runtime");
                runtime.block_on(async {
                    let path = crate::data::temp_sqlite_path("rules_programme");
                    let db = crate::data::Db::connect(&format!("sqlite://{}", path.display()))
                        .await
                        .expect("open a SQLite database for the programme rows");
                    db.migrate().await.expect("migrate");
                    let programme =
                        crate::data::programme::load(&db, crate::data::programme::FONDO_INNOVAZIONE)
                            .await
                            .expect("load the programme")
                            .expect("the migrations insert the Fondo Innovazione");
                    drop(db);
                    for suffix in ["", "-wal", "-shm"] {
                        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
                    }
                    programme
                })
            })
            .join()
            .expect("loading the programme rows")
        })
        .clone()
}

/// One objective of the programme, by code.
fn rule(code: &str) -> Objective {
    fondo_innovazione()
        .objectives
        .into_iter()
        .find(|o| o.code == code)
        .unwrap_or_else(|| panic!("no objective {code}"))
}

/// Evaluates one objective of the programme for `facts` as known on `as_of`.
fn check(code: &str, facts: &ComuneFacts, as_of: &str) -> ObjectiveOutcome {
    evaluate_objective(&rule(code), facts, day(as_of))
}

fn pagopa(applicable: bool, since: &str) -> PagoPaService {
    PagoPaService { applicable, active_since: Some(day(since)), ..Default::default() }
}

fn pagopa_until(since: &str, until: &str) -> PagoPaService {
    PagoPaService { deactivated_on: Some(day(until)), ..pagopa(true, since) }
}

/// An applicable collection service the comune runs but has not put on pagoPA.
fn pagopa_inactive() -> PagoPaService {
    PagoPaService { applicable: true, ..Default::default() }
}

/// `n` applicable services, activated one a day from `first`.
fn pagopa_daily(first: &str, n: u64) -> Vec<PagoPaService> {
    (0..n)
        .map(|i| PagoPaService { active_since: Some(day(first) + chrono::Days::new(i)), ..pagopa_inactive() })
        .collect()
}

fn io(since: &str) -> IoService {
    IoService { published_since: Some(day(since)), ..Default::default() }
}

fn io_until(since: &str, until: &str) -> IoService {
    IoService { withdrawn_on: Some(day(until)), ..io(since) }
}

/// `n` App IO services, published one a day from `first`.
fn io_daily(first: &str, n: u64) -> Vec<IoService> {
    (0..n)
        .map(|i| IoService { published_since: Some(day(first) + chrono::Days::new(i)), ..Default::default() })
        .collect()
}

fn online(spid: Option<&str>, cie: Option<&str>) -> OnlineService {
    OnlineService { online_since: None, spid_since: spid.map(day), cie_since: cie.map(day) }
}

/// A supported comune of 3,000 residents that joined pagoPA and App IO in January 2021, with no
/// services yet.
pub(crate) fn aderente() -> ComuneFacts {
    ComuneFacts {
        population: 3000,
        adhesion: AdhesionStatus::Aderente,
        adhesion_date: Some(day("2021-01-04")),
        pagopa_joined: Some(day("2021-01-05")),
        io_joined: Some(day("2021-01-05")),
        ..Default::default()
    }
}

/// A comune that meets every objective on time. Step 1 is complete on 2021-02-10 (the SPID
/// service); the final objectives on 2021-11-30 (CIE on the last online service).
pub(crate) fn full_success() -> ComuneFacts {
    let mut pagopa_services = pagopa_daily("2021-01-20", 7); // 7th on 2021-01-26
    pagopa_services.extend([pagopa_inactive(), pagopa_inactive(), pagopa_inactive()]);
    let mut io_services = io_daily("2021-01-25", 1);
    io_services.extend(io_daily("2021-10-01", 9)); // 10th on 2021-10-09
    ComuneFacts {
        pagopa: pagopa_services,
        io: io_services,
        online: vec![
            online(Some("2021-02-10"), Some("2021-06-01")),
            online(Some("2021-03-01"), Some("2021-11-30")),
        ],
        ..aderente()
    }
}

fn objective_outcome<'a>(outcome: &'a ComuneOutcome, code: &str) -> &'a ObjectiveOutcome {
    outcome.objectives.iter().find(|o| o.code == code).unwrap_or_else(|| panic!("no outcome {code}"))
}

fn step<'a>(outcome: &'a ComuneOutcome, code: &str) -> &'a StepOutcome {
    outcome.step(code).unwrap_or_else(|| panic!("no step {code}"))
}

// ---------------------------------------------------------------------------------------------
// Programme and vocabularies
// ---------------------------------------------------------------------------------------------

#[test]
fn programme_first_and_last_step_follow_order_and_project_days_are_inclusive() {
    let mut programme = fondo_innovazione();
    programme.steps.reverse(); // order, not position, decides
    assert_eq!(programme.first_step().map(|s| s.code.as_str()), Some("primo_step"));
    assert_eq!(programme.last_step().map(|s| s.deadline), Some(day("2021-12-31")));
    assert!(!programme.during(day("2020-12-14")));
    assert!(programme.during(day("2020-12-15")));
    assert!(programme.during(day("2021-12-31")));
    assert!(!programme.during(day("2022-01-01")));
}

#[test]
fn codes_round_trip_and_only_aderenti_are_supported() {
    for p in Platform::ALL {
        assert_eq!(Platform::from_code(p.code()), Some(p));
    }
    for s in AdhesionStatus::ALL {
        assert_eq!(AdhesionStatus::from_code(s.code()), Some(s));
    }
    for r in [RuleKind::MinServices, RuleKind::ShareOfApplicable, RuleKind::AllServicesSpidAndCie] {
        assert_eq!(RuleKind::from_code(r.code()), Some(r));
    }
    assert_eq!(Platform::from_code("pagoPA"), None);
    assert_eq!(AdhesionStatus::from_code("aderente_in_ritardo"), Some(AdhesionStatus::AderenteInRitardo));
    assert_eq!(RuleKind::from_code("quota_servizi_applicabili"), Some(RuleKind::ShareOfApplicable));
    assert!(AdhesionStatus::Aderente.is_supported());
    assert!(AdhesionStatus::AderenteInRitardo.is_supported());
    assert!(!AdhesionStatus::NonAderente.is_supported());
    assert!(!AdhesionStatus::Rinuncia.is_supported());
    assert_eq!(AdhesionStatus::default(), AdhesionStatus::NonAderente);
}

#[test]
fn labels_are_italian() {
    assert_eq!(Platform::SpidCie.label(), "SPID/CIE");
    assert_eq!(AdhesionStatus::AderenteInRitardo.label(), "Aderente in ritardo");
    assert_eq!(TrancheStatus::Earned.label(), "Maturata");
    assert_eq!(TrancheStatus::Lost.label(), "Persa");
    assert_eq!(TrancheStatus::Possible.label(), "Ancora possibile");
    assert_eq!(TrancheStatus::Renounced.label(), "Rinunciata");
    assert_eq!(TrancheStatus::NotApplicable.label(), "Non prevista");
}

// ---------------------------------------------------------------------------------------------
// Grant bands and tranches
// ---------------------------------------------------------------------------------------------

#[test]
fn grant_bands_have_min_inclusive_and_max_exclusive_boundaries() {
    let programme = fondo_innovazione();
    let cases = [
        (0, 3900),
        (4999, 3900),
        (5000, 7950),
        (39999, 7950),
        (40000, 11850),
        (199999, 11850),
        (200000, 50000),
        (2_800_000, 50000),
    ];
    for (population, grant) in cases {
        assert_eq!(programme.grant_for(population), Some(grant), "population {population}");
    }
    assert_eq!(programme.grant_for(-1), None);
}

#[test]
fn tranches_are_twenty_and_eighty_percent_of_the_grant_in_every_band() {
    let programme = fondo_innovazione();
    let cases = [(4999, 780, 3120), (5000, 1590, 6360), (40000, 2370, 9480), (200000, 10000, 40000)];
    for (population, first, last) in cases {
        let facts = ComuneFacts { population, ..aderente() };
        let outcome = evaluate(&programme, &facts, day("2021-01-01"));
        assert_eq!(step(&outcome, "primo_step").tranche_eur, first, "population {population}");
        assert_eq!(step(&outcome, "finale").tranche_eur, last, "population {population}");
        assert_eq!(first + last, outcome.grant_eur);
        // Nothing reached and no deadline passed yet: the whole grant is still possible.
        assert_eq!(outcome.possible_eur, outcome.grant_eur);
    }
}

// ---------------------------------------------------------------------------------------------
// Final pagoPA: at least 70% of the applicable services
// ---------------------------------------------------------------------------------------------

#[test]
fn final_pagopa_exactly_seventy_percent_is_reached_on_the_day_of_the_seventh_service() {
    let mut facts = aderente();
    facts.pagopa = pagopa_daily("2021-05-01", 7); // the 7th on 2021-05-07
    facts.pagopa.extend([pagopa_inactive(), pagopa_inactive(), pagopa_inactive()]);

    let outcome = check("final_pagopa", &facts, "2022-06-30");
    assert_eq!(outcome.reached_on, Some(day("2021-05-07")));
    assert!(outcome.on_time);
    assert_eq!(
        outcome.progress,
        Progress { value: 7, required: 7, unit: ProgressUnit::ApplicableServices { total: 10 }, holds: true }
    );

    // The day before the 7th, 6 of 10 (60%) do not hold.
    let before = check("final_pagopa", &facts, "2021-05-06");
    assert_eq!(before.reached_on, None);
    assert!(!before.on_time);
    assert_eq!(before.progress.value, 6);
    assert!(!before.progress.holds);
}

#[test]
fn final_pagopa_sixteen_of_twenty_three_is_short_of_seventy_percent() {
    let mut facts = aderente();
    facts.pagopa = pagopa_daily("2021-03-01", 16);
    facts.pagopa.extend((0..7).map(|_| pagopa_inactive()));

    // 16 / 23 = 69.56%: not enough.
    let outcome = check("final_pagopa", &facts, "2022-06-30");
    assert_eq!(outcome.reached_on, None);
    assert!(!outcome.on_time);
    assert_eq!(
        outcome.progress,
        Progress {
            value: 16,
            required: 17,
            unit: ProgressUnit::ApplicableServices { total: 23 },
            holds: false
        }
    );

    // A 17th (73.9%) reaches it on its day.
    facts.pagopa[16] = pagopa(true, "2021-08-02");
    let outcome = check("final_pagopa", &facts, "2022-06-30");
    assert_eq!(outcome.reached_on, Some(day("2021-08-02")));
    assert!(outcome.on_time);
    assert_eq!(outcome.progress.value, 17);
}

#[test]
fn final_pagopa_leaves_non_applicable_services_out_of_numerator_and_denominator() {
    let mut facts = aderente();
    facts.pagopa = pagopa_daily("2021-05-01", 7);
    facts.pagopa.extend([pagopa_inactive(), pagopa_inactive(), pagopa_inactive()]);
    // Active, but not a service this comune runs: neither 8/11 nor 7/11.
    facts.pagopa.push(pagopa(false, "2021-04-01"));

    let outcome = check("final_pagopa", &facts, "2022-06-30");
    assert_eq!(outcome.reached_on, Some(day("2021-05-07")));
    assert_eq!(
        outcome.progress,
        Progress { value: 7, required: 7, unit: ProgressUnit::ApplicableServices { total: 10 }, holds: true }
    );

    // With only 6 applicable active, the non-applicable one does not make up the 7th.
    facts.pagopa[6] = pagopa_inactive();
    let outcome = check("final_pagopa", &facts, "2022-06-30");
    assert_eq!(outcome.reached_on, None);
    assert_eq!(outcome.progress.value, 6);
    assert!(!outcome.progress.holds);
}

#[test]
fn final_pagopa_with_no_applicable_service_is_never_reached() {
    let mut facts = aderente();
    facts.pagopa = vec![pagopa(false, "2021-03-01"), pagopa(false, "2021-03-02")];
    let outcome = check("final_pagopa", &facts, "2022-06-30");
    assert_eq!(outcome.reached_on, None);
    assert_eq!(
        outcome.progress,
        Progress { value: 0, required: 0, unit: ProgressUnit::ApplicableServices { total: 0 }, holds: false }
    );
}

#[test]
fn final_pagopa_requires_adhesion_to_pagopa() {
    let mut facts = aderente();
    facts.pagopa = pagopa_daily("2021-03-01", 10);

    facts.pagopa_joined = None;
    let never = check("final_pagopa", &facts, "2022-06-30");
    assert_eq!(never.reached_on, None);
    assert_eq!(never.progress.value, 10);
    assert!(!never.progress.holds);

    // Joined after the services went live: reached on the day of the adhesion.
    facts.pagopa_joined = Some(day("2021-04-15"));
    let outcome = check("final_pagopa", &facts, "2022-06-30");
    assert_eq!(outcome.reached_on, Some(day("2021-04-15")));
    assert!(outcome.on_time);
}

// ---------------------------------------------------------------------------------------------
// Step 1 pagoPA: 1 service, or 2 new ones for a comune already on pagoPA
// ---------------------------------------------------------------------------------------------

#[test]
fn step1_pagopa_non_applicable_service_does_not_count() {
    let mut facts = aderente();
    facts.pagopa = vec![pagopa(false, "2021-01-10")];
    let outcome = check("step1_pagopa", &facts, "2022-06-30");
    assert_eq!(outcome.reached_on, None);
    assert_eq!(
        outcome.progress,
        Progress { value: 0, required: 1, unit: ProgressUnit::Services, holds: false }
    );

    facts.pagopa.push(pagopa(true, "2021-02-03"));
    let outcome = check("step1_pagopa", &facts, "2022-06-30");
    assert_eq!(outcome.reached_on, Some(day("2021-02-03")));
    assert!(outcome.on_time);
    assert_eq!(outcome.progress.value, 1);
}

#[test]
fn step1_pagopa_comune_already_on_pagopa_needs_two_new_services() {
    let mut facts = ComuneFacts { pagopa_joined: Some(day("2018-03-01")), ..aderente() };
    // Three services from before the project and one new one: 1 new, 2 required.
    facts.pagopa = vec![
        pagopa(true, "2018-03-01"),
        pagopa(true, "2019-06-01"),
        pagopa(true, "2020-12-14"),
        pagopa(true, "2021-01-20"),
    ];
    let outcome = check("step1_pagopa", &facts, "2022-06-30");
    assert_eq!(outcome.reached_on, None);
    assert!(!outcome.on_time);
    assert_eq!(
        outcome.progress,
        Progress { value: 1, required: 2, unit: ProgressUnit::NewServices, holds: false }
    );

    // The second new service reaches it.
    facts.pagopa.push(pagopa(true, "2021-02-15"));
    let outcome = check("step1_pagopa", &facts, "2022-06-30");
    assert_eq!(outcome.reached_on, Some(day("2021-02-15")));
    assert!(outcome.on_time);
    assert_eq!(
        outcome.progress,
        Progress { value: 2, required: 2, unit: ProgressUnit::NewServices, holds: true }
    );
}

#[test]
fn step1_pagopa_service_activated_on_the_start_day_counts_as_new() {
    let mut facts = ComuneFacts { pagopa_joined: Some(day("2019-01-10")), ..aderente() };
    facts.pagopa = vec![pagopa(true, "2020-12-15"), pagopa(true, "2021-01-08")];
    let outcome = check("step1_pagopa", &facts, "2022-06-30");
    assert_eq!(outcome.reached_on, Some(day("2021-01-08")));
    assert_eq!(outcome.progress.unit, ProgressUnit::NewServices);
    assert_eq!(outcome.progress.value, 2);
}

#[test]
fn step1_pagopa_comune_that_joined_during_the_project_needs_one_service() {
    let mut facts = ComuneFacts { pagopa_joined: Some(day("2021-01-05")), ..aderente() };
    facts.pagopa = vec![pagopa(true, "2021-01-12")];
    let outcome = check("step1_pagopa", &facts, "2022-06-30");
    assert_eq!(outcome.reached_on, Some(day("2021-01-12")));
    assert!(outcome.on_time);
    assert_eq!(
        outcome.progress,
        Progress { value: 1, required: 1, unit: ProgressUnit::Services, holds: true }
    );
}

#[test]
fn step1_pagopa_comune_that_joined_on_the_start_day_is_not_already_on() {
    let mut facts = ComuneFacts { pagopa_joined: Some(day("2020-12-15")), ..aderente() };
    facts.pagopa = vec![pagopa(true, "2020-12-15")];
    let outcome = check("step1_pagopa", &facts, "2022-06-30");
    assert_eq!(outcome.reached_on, Some(day("2020-12-15")));
    assert_eq!(
        outcome.progress,
        Progress { value: 1, required: 1, unit: ProgressUnit::Services, holds: true }
    );

    // Joined the day before: already on, so one new service is not enough.
    facts.pagopa_joined = Some(day("2020-12-14"));
    let outcome = check("step1_pagopa", &facts, "2022-06-30");
    assert_eq!(outcome.reached_on, None);
    assert_eq!(
        outcome.progress,
        Progress { value: 1, required: 2, unit: ProgressUnit::NewServices, holds: false }
    );
}

// ---------------------------------------------------------------------------------------------
// App IO
// ---------------------------------------------------------------------------------------------

#[test]
fn final_io_nine_services_fail_and_ten_pass_on_the_day_of_the_tenth() {
    let mut facts = aderente();
    facts.io = io_daily("2021-06-01", 9);
    let nine = check("final_io", &facts, "2022-06-30");
    assert_eq!(nine.reached_on, None);
    assert!(!nine.on_time);
    assert_eq!(
        nine.progress,
        Progress { value: 9, required: 10, unit: ProgressUnit::Services, holds: false }
    );

    facts.io.push(io("2021-09-20"));
    let ten = check("final_io", &facts, "2022-06-30");
    assert_eq!(ten.reached_on, Some(day("2021-09-20")));
    assert!(ten.on_time);
    assert_eq!(ten.progress, Progress { value: 10, required: 10, unit: ProgressUnit::Services, holds: true });
}

#[test]
fn step1_io_requires_adhesion_to_app_io() {
    let mut facts = ComuneFacts { io_joined: None, ..aderente() };
    facts.io = vec![io("2021-01-10"), io("2021-01-11")];
    let outcome = check("step1_io", &facts, "2022-06-30");
    assert_eq!(outcome.reached_on, None);
    assert!(!outcome.on_time);
    assert_eq!(outcome.progress.value, 2);
    assert!(!outcome.progress.holds);
}

#[test]
fn step1_io_is_reached_on_the_later_of_adhesion_and_first_service() {
    // Services first, adhesion later.
    let mut facts = ComuneFacts { io_joined: Some(day("2021-02-01")), ..aderente() };
    facts.io = vec![io("2021-01-10")];
    let outcome = check("step1_io", &facts, "2022-06-30");
    assert_eq!(outcome.reached_on, Some(day("2021-02-01")));
    assert!(outcome.on_time);

    // Adhesion first, service later.
    facts.io_joined = Some(day("2021-01-05"));
    facts.io = vec![io("2021-01-20")];
    let outcome = check("step1_io", &facts, "2022-06-30");
    assert_eq!(outcome.reached_on, Some(day("2021-01-20")));
    assert!(outcome.on_time);
}

// ---------------------------------------------------------------------------------------------
// SPID and CIE
// ---------------------------------------------------------------------------------------------

#[test]
fn step1_spid_counts_services_with_spid_and_needs_no_adhesion() {
    let mut facts = ComuneFacts { pagopa_joined: None, io_joined: None, ..aderente() };
    facts.online = vec![online(None, Some("2021-01-05"))];
    // CIE only does not count for step 1.
    let cie_only = check("step1_spid", &facts, "2022-06-30");
    assert_eq!(cie_only.reached_on, None);
    assert_eq!(
        cie_only.progress,
        Progress { value: 0, required: 1, unit: ProgressUnit::Services, holds: false }
    );

    facts.online.push(online(Some("2021-02-10"), None));
    let outcome = check("step1_spid", &facts, "2022-06-30");
    assert_eq!(outcome.reached_on, Some(day("2021-02-10")));
    assert!(outcome.on_time);
    assert_eq!(
        outcome.progress,
        Progress { value: 1, required: 1, unit: ProgressUnit::Services, holds: true }
    );
}

#[test]
fn final_spid_cie_needs_both_on_every_service_and_is_reached_on_the_last_date() {
    let mut facts = aderente();
    facts.online = vec![
        online(Some("2021-01-10"), Some("2021-03-01")),
        online(Some("2021-07-15"), Some("2021-04-01")),
        online(Some("2021-02-01"), None),
    ];
    let missing_cie = check("final_spid_cie", &facts, "2022-06-30");
    assert_eq!(missing_cie.reached_on, None);
    assert!(!missing_cie.on_time);
    assert_eq!(
        missing_cie.progress,
        Progress { value: 2, required: 3, unit: ProgressUnit::SpidAndCieServices, holds: false }
    );

    facts.online[2].cie_since = Some(day("2021-06-30"));
    let outcome = check("final_spid_cie", &facts, "2022-06-30");
    // The last of all the SPID and CIE dates: SPID on the second service.
    assert_eq!(outcome.reached_on, Some(day("2021-07-15")));
    assert!(outcome.on_time);
    assert_eq!(
        outcome.progress,
        Progress { value: 3, required: 3, unit: ProgressUnit::SpidAndCieServices, holds: true }
    );
}

#[test]
fn final_spid_cie_with_a_service_lacking_both_is_not_reached() {
    let mut facts = aderente();
    facts.online = vec![online(Some("2021-01-10"), Some("2021-03-01")), online(None, None)];
    let outcome = check("final_spid_cie", &facts, "2022-06-30");
    assert_eq!(outcome.reached_on, None);
    assert_eq!(outcome.progress.value, 1);
    assert_eq!(outcome.progress.required, 2);
}

#[test]
fn final_spid_cie_with_no_online_service_is_never_reached() {
    let facts = aderente();
    let outcome = check("final_spid_cie", &facts, "2022-06-30");
    assert_eq!(outcome.reached_on, None);
    assert!(!outcome.on_time);
    assert_eq!(
        outcome.progress,
        Progress { value: 0, required: 1, unit: ProgressUnit::SpidAndCieServices, holds: false }
    );
}

// ---------------------------------------------------------------------------------------------
// Deactivated and withdrawn services
// ---------------------------------------------------------------------------------------------

#[test]
fn deactivated_pagopa_service_stops_counting_from_its_deactivation_day() {
    let mut facts = aderente();
    facts.pagopa = vec![pagopa_until("2021-01-10", "2021-02-20")];
    let day_before = check("step1_pagopa", &facts, "2021-02-19");
    assert_eq!(day_before.progress.value, 1);
    assert!(day_before.progress.holds);

    let on_the_day = check("step1_pagopa", &facts, "2021-02-20");
    assert_eq!(on_the_day.progress.value, 0);
    assert!(!on_the_day.progress.holds);
    // It held from 2021-01-10, so the objective stays reached on that day.
    assert_eq!(on_the_day.reached_on, Some(day("2021-01-10")));
}

#[test]
fn withdrawn_io_service_stops_counting_from_its_withdrawal_day() {
    let mut facts = aderente();
    facts.io = io_daily("2021-03-01", 9);
    facts.io.push(io_until("2021-03-10", "2021-11-01"));
    assert_eq!(check("final_io", &facts, "2021-10-31").progress.value, 10);
    let after = check("final_io", &facts, "2021-11-01");
    assert_eq!(
        after.progress,
        Progress { value: 9, required: 10, unit: ProgressUnit::Services, holds: false }
    );
    assert_eq!(after.reached_on, Some(day("2021-03-10")));
}

#[test]
fn deactivation_before_the_threshold_delays_the_day_reached() {
    let mut facts = aderente();
    facts.pagopa = pagopa_daily("2021-03-01", 6); // 2021-03-01 .. 2021-03-06
    facts.pagopa[0].deactivated_on = Some(day("2021-04-10"));
    facts.pagopa.push(pagopa(true, "2021-04-10")); // the 7th, on the day the 1st goes off: 6 of 10
    facts.pagopa.push(pagopa(true, "2021-05-03")); // 7 of 10 again
    facts.pagopa.extend([pagopa_inactive(), pagopa_inactive()]);

    let outcome = check("final_pagopa", &facts, "2022-06-30");
    assert_eq!(outcome.reached_on, Some(day("2021-05-03")));
    assert_eq!(outcome.progress.value, 7);
    assert_eq!(outcome.progress.unit, ProgressUnit::ApplicableServices { total: 10 });
}

#[test]
fn deactivated_service_stays_in_the_denominator() {
    let mut facts = aderente();
    facts.pagopa = pagopa_daily("2021-03-01", 7);
    facts.pagopa.extend([pagopa_inactive(), pagopa_inactive()]);
    facts.pagopa.push(pagopa_until("2021-01-10", "2021-02-01"));
    // 7 active of 10 applicable (the switched-off one still applies): exactly 70%.
    let outcome = check("final_pagopa", &facts, "2022-06-30");
    assert_eq!(outcome.progress.unit, ProgressUnit::ApplicableServices { total: 10 });
    assert_eq!(outcome.reached_on, Some(day("2021-03-07")));
}

// ---------------------------------------------------------------------------------------------
// Deadlines: a day late, the deadline day itself
// ---------------------------------------------------------------------------------------------

/// Step 1 complete except App IO, whose only service is published on `io_day`.
fn step1_with_io_on(io_day: &str) -> ComuneFacts {
    ComuneFacts {
        pagopa: vec![pagopa(true, "2021-01-15")],
        io: vec![io(io_day)],
        online: vec![online(Some("2021-01-20"), None)],
        ..aderente()
    }
}

#[test]
fn service_activated_the_day_after_the_deadline_is_late_and_the_tranche_is_lost() {
    let programme = fondo_innovazione();
    let facts = step1_with_io_on("2021-03-01");
    let outcome = evaluate(&programme, &facts, day("2021-03-15"));

    let io = objective_outcome(&outcome, "step1_io");
    assert_eq!(io.reached_on, Some(day("2021-03-01")));
    assert!(!io.on_time);
    assert!(objective_outcome(&outcome, "step1_pagopa").on_time);
    assert!(objective_outcome(&outcome, "step1_spid").on_time);

    let step1 = step(&outcome, "primo_step");
    assert_eq!(step1.reached_on, Some(day("2021-03-01")));
    assert!(!step1.on_time);
    assert_eq!(step1.tranche, TrancheStatus::Lost);
    assert_eq!(step1.tranche_eur, 780);
    assert_eq!(outcome.lost_eur, 780);
    assert_eq!(outcome.earned_eur, 0);
    assert_eq!(outcome.possible_eur, 3120);
    assert_eq!(step(&outcome, "finale").tranche, TrancheStatus::Possible);
}

#[test]
fn before_the_deadline_a_step_not_yet_reached_is_still_possible() {
    let programme = fondo_innovazione();
    let facts = step1_with_io_on("2021-03-01");
    let outcome = evaluate(&programme, &facts, day("2021-02-20"));

    // The IO service of 2021-03-01 is not known yet on 2021-02-20.
    assert_eq!(objective_outcome(&outcome, "step1_io").reached_on, None);
    assert_eq!(objective_outcome(&outcome, "step1_io").progress.value, 0);
    let step1 = step(&outcome, "primo_step");
    assert_eq!(step1.reached_on, None);
    assert!(!step1.on_time);
    assert_eq!(step1.tranche, TrancheStatus::Possible);
    assert_eq!(outcome.possible_eur, 3900);
    assert_eq!(outcome.lost_eur, 0);
}

#[test]
fn service_activated_on_the_deadline_day_is_on_time() {
    let programme = fondo_innovazione();
    let facts = step1_with_io_on(STEP1_DEADLINE);
    let outcome = evaluate(&programme, &facts, day("2021-03-15"));

    let io = objective_outcome(&outcome, "step1_io");
    assert_eq!(io.reached_on, Some(day("2021-02-28")));
    assert!(io.on_time);
    let step1 = step(&outcome, "primo_step");
    assert_eq!(step1.reached_on, Some(day("2021-02-28")));
    assert!(step1.on_time);
    assert_eq!(step1.tranche, TrancheStatus::Earned);
    assert_eq!(outcome.earned_eur, 780);
}

#[test]
fn unreached_step_is_possible_on_its_deadline_day_and_lost_the_day_after() {
    let programme = fondo_innovazione();
    let facts = aderente();
    let on_deadline = evaluate(&programme, &facts, day(STEP1_DEADLINE));
    assert_eq!(step(&on_deadline, "primo_step").tranche, TrancheStatus::Possible);
    assert_eq!(on_deadline.possible_eur, 3900);

    let day_after = evaluate(&programme, &facts, day("2021-03-01"));
    assert_eq!(step(&day_after, "primo_step").tranche, TrancheStatus::Lost);
    assert_eq!(step(&day_after, "finale").tranche, TrancheStatus::Possible);
    assert_eq!(day_after.lost_eur, 780);
    assert_eq!(day_after.possible_eur, 3120);

    let after_end = evaluate(&programme, &facts, day("2022-01-01"));
    assert_eq!(step(&after_end, "finale").tranche, TrancheStatus::Lost);
    assert_eq!(after_end.lost_eur, 3900);
    assert_eq!(after_end.possible_eur, 0);
}

// ---------------------------------------------------------------------------------------------
// As of a past day
// ---------------------------------------------------------------------------------------------

#[test]
fn events_after_as_of_are_ignored() {
    let mut facts = aderente();
    facts.io = io_daily("2021-06-01", 10); // the 10th on 2021-06-10

    let before = check("final_io", &facts, "2021-06-05");
    assert_eq!(before.reached_on, None);
    assert_eq!(
        before.progress,
        Progress { value: 5, required: 10, unit: ProgressUnit::Services, holds: false }
    );

    let on_the_day = check("final_io", &facts, "2021-06-10");
    assert_eq!(on_the_day.reached_on, Some(day("2021-06-10")));
    assert!(on_the_day.progress.holds);

    // Adhesion after as_of is not known either.
    let facts = ComuneFacts { io_joined: Some(day("2021-06-20")), ..facts };
    let not_joined_yet = check("final_io", &facts, "2021-06-15");
    assert_eq!(not_joined_yet.reached_on, None);
    assert!(!not_joined_yet.progress.holds);
    assert_eq!(check("final_io", &facts, "2021-06-20").reached_on, Some(day("2021-06-20")));
}

#[test]
fn whole_programme_as_of_mid_february_sees_only_what_happened_by_then() {
    let programme = fondo_innovazione();
    let outcome = evaluate(&programme, &full_success(), day("2021-02-05"));

    // pagoPA and IO by 2021-02-05; the SPID service comes on 2021-02-10.
    assert_eq!(objective_outcome(&outcome, "step1_pagopa").reached_on, Some(day("2021-01-20")));
    assert_eq!(objective_outcome(&outcome, "step1_io").reached_on, Some(day("2021-01-25")));
    assert_eq!(objective_outcome(&outcome, "step1_spid").reached_on, None);
    assert_eq!(objective_outcome(&outcome, "final_io").progress.value, 1);
    assert_eq!(step(&outcome, "primo_step").reached_on, None);
    assert_eq!(step(&outcome, "primo_step").tranche, TrancheStatus::Possible);
    assert_eq!(outcome.all_objectives_on, None);
    assert!(!outcome.all_objectives_on_time);
    assert_eq!(outcome.possible_eur, 3900);
    assert_eq!(outcome.earned_eur, 0);
}

// ---------------------------------------------------------------------------------------------
// Adhesion status
// ---------------------------------------------------------------------------------------------

#[test]
fn full_success_earns_the_whole_grant() {
    let programme = fondo_innovazione();
    let outcome = evaluate(&programme, &full_success(), long_after());

    assert!(outcome.supported);
    for o in &outcome.objectives {
        assert!(o.on_time, "{} not on time", o.code);
        assert!(o.progress.holds, "{} does not hold", o.code);
    }
    assert_eq!(objective_outcome(&outcome, "final_pagopa").reached_on, Some(day("2021-01-26")));
    assert_eq!(objective_outcome(&outcome, "final_io").reached_on, Some(day("2021-10-09")));
    assert_eq!(objective_outcome(&outcome, "final_spid_cie").reached_on, Some(day("2021-11-30")));

    let step1 = step(&outcome, "primo_step");
    assert_eq!(step1.reached_on, Some(day("2021-02-10")));
    assert!(step1.on_time);
    assert_eq!(step1.tranche, TrancheStatus::Earned);
    let last = step(&outcome, "finale");
    assert_eq!(last.reached_on, Some(day("2021-11-30")));
    assert!(last.on_time);
    assert_eq!(last.tranche, TrancheStatus::Earned);

    assert!(outcome.all_objectives_on_time);
    assert_eq!(outcome.all_objectives_on, Some(day("2021-11-30")));
    assert_eq!(outcome.grant_eur, 3900);
    assert_eq!(outcome.earned_eur, 3900);
    assert_eq!(outcome.lost_eur + outcome.possible_eur + outcome.renounced_eur, 0);
}

#[test]
fn step1_late_but_final_on_time_loses_only_the_first_tranche() {
    let programme = fondo_innovazione();
    let mut facts = full_success();
    facts.online[0].spid_since = Some(day("2021-03-01")); // SPID a day late for step 1
    let outcome = evaluate(&programme, &facts, long_after());

    let step1 = step(&outcome, "primo_step");
    assert_eq!(step1.reached_on, Some(day("2021-03-01")));
    assert!(!step1.on_time);
    assert_eq!(step1.tranche, TrancheStatus::Lost);
    assert_eq!(step(&outcome, "finale").tranche, TrancheStatus::Earned);

    // Every objective was still reached by the programme's last deadline.
    assert!(outcome.all_objectives_on_time);
    assert_eq!(outcome.all_objectives_on, Some(day("2021-11-30")));
    assert_eq!(outcome.earned_eur, 3120);
    assert_eq!(outcome.lost_eur, 780);
    assert_eq!(outcome.possible_eur, 0);
}

#[test]
fn final_objective_reached_after_the_end_loses_the_final_tranche() {
    let programme = fondo_innovazione();
    let mut facts = full_success();
    facts.online[1].cie_since = Some(day("2022-01-01"));
    let outcome = evaluate(&programme, &facts, long_after());

    let spid_cie = objective_outcome(&outcome, "final_spid_cie");
    assert_eq!(spid_cie.reached_on, Some(day("2022-01-01")));
    assert!(!spid_cie.on_time);
    assert_eq!(step(&outcome, "primo_step").tranche, TrancheStatus::Earned);
    assert_eq!(step(&outcome, "finale").tranche, TrancheStatus::Lost);
    assert_eq!(outcome.all_objectives_on, Some(day("2022-01-01")));
    assert!(!outcome.all_objectives_on_time);
    assert_eq!(outcome.earned_eur, 780);
    assert_eq!(outcome.lost_eur, 3120);
}

#[test]
fn non_aderente_gets_nothing_even_when_its_services_meet_every_rule() {
    let programme = fondo_innovazione();
    let facts = ComuneFacts { adhesion: AdhesionStatus::NonAderente, adhesion_date: None, ..full_success() };
    let outcome = evaluate(&programme, &facts, long_after());

    assert!(!outcome.supported);
    // Objectives are still measured, so the comune page can show where it stands.
    assert_eq!(outcome.objectives.len(), 6);
    for o in &outcome.objectives {
        assert!(o.reached_on.is_some(), "{} not measured", o.code);
        assert!(o.on_time, "{} not on time", o.code);
    }
    assert_eq!(objective_outcome(&outcome, "final_spid_cie").reached_on, Some(day("2021-11-30")));
    for s in &outcome.steps {
        assert_eq!(s.reached_on, None, "step {}", s.code);
        assert!(!s.on_time, "step {}", s.code);
        assert_eq!(s.tranche, TrancheStatus::NotApplicable, "step {}", s.code);
        assert_eq!(s.tranche_eur, 0, "step {}", s.code);
    }
    assert_eq!(outcome.all_objectives_on, None);
    assert!(!outcome.all_objectives_on_time);
    assert_eq!(outcome.grant_eur, 0);
    assert_eq!(outcome.earned_eur, 0);
    assert_eq!(outcome.lost_eur, 0);
    assert_eq!(outcome.possible_eur, 0);
    assert_eq!(outcome.renounced_eur, 0);
}

#[test]
fn aderente_in_ritardo_is_supported_like_aderente() {
    let programme = fondo_innovazione();
    let aderente = evaluate(&programme, &full_success(), long_after());
    let late = ComuneFacts {
        adhesion: AdhesionStatus::AderenteInRitardo,
        adhesion_date: Some(day("2021-03-10")),
        ..full_success()
    };
    let in_ritardo = evaluate(&programme, &late, long_after());

    assert!(in_ritardo.supported);
    assert_eq!(in_ritardo.grant_eur, 3900);
    assert_eq!(in_ritardo.earned_eur, 3900);
    assert_eq!(step(&in_ritardo, "primo_step").tranche, TrancheStatus::Earned);
    assert_eq!(in_ritardo, aderente);
}

#[test]
fn rinuncia_renounces_the_whole_grant() {
    let programme = fondo_innovazione();
    let facts = ComuneFacts { adhesion: AdhesionStatus::Rinuncia, population: 12000, ..full_success() };
    let outcome = evaluate(&programme, &facts, long_after());

    assert!(!outcome.supported);
    assert_eq!(objective_outcome(&outcome, "step1_pagopa").reached_on, Some(day("2021-01-20")));
    assert_eq!(step(&outcome, "primo_step").tranche, TrancheStatus::Renounced);
    assert_eq!(step(&outcome, "primo_step").tranche_eur, 1590);
    assert_eq!(step(&outcome, "finale").tranche, TrancheStatus::Renounced);
    assert_eq!(step(&outcome, "finale").tranche_eur, 6360);
    assert!(outcome.steps.iter().all(|s| s.reached_on.is_none()));
    assert_eq!(outcome.grant_eur, 7950);
    assert_eq!(outcome.renounced_eur, 7950);
    assert_eq!(outcome.earned_eur, 0);
    assert_eq!(outcome.lost_eur, 0);
    assert_eq!(outcome.possible_eur, 0);
    assert!(!outcome.all_objectives_on_time);
}

fn renouncing(kind: Renunciation, on: &str, facts: ComuneFacts) -> ComuneFacts {
    ComuneFacts { renunciation: Some(RenunciationFact { kind, on: day(on) }), ..facts }
}

#[test]
fn saldo_renunciation_keeps_step_1_and_renounces_only_the_final_tranche() {
    let programme = fondo_innovazione();
    // Step 1 on time, the final SPID/CIE objective never reached: the comune renounces the saldo.
    let mut base = ComuneFacts { population: 12000, ..full_success() };
    base.online[1].cie_since = None;
    let facts = renouncing(Renunciation::Saldo, "2022-05-20", base.clone());
    let outcome = evaluate(&programme, &facts, long_after());

    // Still supported, and step 1 by its deadline still counts the comune.
    assert!(outcome.supported);
    let step1 = step(&outcome, "primo_step");
    assert_eq!(step1.reached_on, Some(day("2021-02-10")));
    assert!(step1.on_time);
    assert_eq!(step1.tranche, TrancheStatus::Earned);
    assert_eq!(step(&outcome, "finale").tranche, TrancheStatus::Renounced);
    assert_eq!(outcome.grant_eur, 7950);
    assert_eq!(outcome.earned_eur, 1590);
    assert_eq!(outcome.renounced_eur, 6360);
    assert_eq!(outcome.lost_eur, 0);
    assert_eq!(outcome.possible_eur, 0);

    // Dated: the day before the renunciation, the saldo was lost, not renounced.
    let before = evaluate(&programme, &facts, day("2022-05-19"));
    assert_eq!(step(&before, "finale").tranche, TrancheStatus::Lost);
    assert_eq!((before.earned_eur, before.lost_eur, before.renounced_eur), (1590, 6360, 0));
    assert_eq!(before, evaluate(&programme, &base, day("2022-05-19")));
}

#[test]
fn whole_grant_renunciation_renounces_every_tranche_but_keeps_the_steps_reached() {
    let programme = fondo_innovazione();
    let base = ComuneFacts { population: 12000, ..full_success() };
    let facts = renouncing(Renunciation::Contributo, "2022-09-01", base.clone());
    let outcome = evaluate(&programme, &facts, long_after().max(day("2022-09-01")));

    assert!(outcome.supported);
    assert!(step(&outcome, "primo_step").on_time, "step 1 by its deadline still counts");
    assert!(outcome.all_objectives_on_time, "a fact of 31/12/2021");
    assert!(outcome.steps.iter().all(|s| s.tranche == TrancheStatus::Renounced));
    assert_eq!(outcome.renounced_eur, 7950);
    assert_eq!(outcome.earned_eur + outcome.lost_eur + outcome.possible_eur, 0);

    // Evaluated before its day, the grant is whole.
    let before = evaluate(&programme, &facts, day("2022-08-31"));
    assert_eq!(before, evaluate(&programme, &base, day("2022-08-31")));
    assert_eq!(before.earned_eur, 7950);
}

#[test]
fn a_renunciation_counts_only_for_a_supported_comune() {
    let programme = fondo_innovazione();
    let facts = renouncing(
        Renunciation::Saldo,
        "2022-05-01",
        ComuneFacts { adhesion: AdhesionStatus::NonAderente, adhesion_date: None, ..full_success() },
    );
    let outcome = evaluate(&programme, &facts, long_after());
    assert_eq!(outcome.renounced_eur, 0);
    assert!(outcome.steps.iter().all(|s| s.tranche == TrancheStatus::NotApplicable));
}

#[test]
fn saldo_renunciation_is_admissible_up_to_the_programme_limit_only() {
    let programme = fondo_innovazione();
    assert_eq!(programme.saldo_renunciation_limit(), Some(day(SALDO_RENUNCIATION_LIMIT)));
    assert_eq!(programme.check_renunciation(Renunciation::Saldo, day("2022-05-26")), Ok(()));
    let late = programme.check_renunciation(Renunciation::Saldo, day("2022-05-27")).unwrap_err();
    assert_eq!(
        late,
        "La rinuncia al saldo si poteva presentare entro il 26/05/2022: la data indicata, 27/05/2022, è \
         successiva. Resta possibile la rinuncia all'intero contributo."
    );
    // The whole grant can be renounced on any day.
    assert_eq!(programme.check_renunciation(Renunciation::Contributo, day("2023-01-10")), Ok(()));
    // A programme whose steps have no limit has no saldo renunciation at all.
    let mut no_limit = programme.clone();
    no_limit.steps.iter_mut().for_each(|s| s.renounce_by = None);
    assert!(no_limit.check_renunciation(Renunciation::Saldo, day("2021-01-10")).is_err());
    assert_eq!(Renunciation::from_code("saldo"), Some(Renunciation::Saldo));
    assert_eq!(Renunciation::from_code("contributo"), Some(Renunciation::Contributo));
    assert_eq!(Renunciation::from_code("rinuncia"), None);
}

#[test]
fn mypay_and_io_via_region_do_not_change_the_outcome() {
    let programme = fondo_innovazione();
    let plain = evaluate(&programme, &full_success(), long_after());
    let mut facts = full_success();
    facts.io_via_region = true;
    for s in &mut facts.pagopa {
        s.on_mypay = true;
    }
    let flagged = evaluate(&programme, &facts, long_after());
    assert_eq!(flagged, plain);
    assert_eq!(flagged.earned_eur, 3900);
}

// ---------------------------------------------------------------------------------------------
// Progress in words
// ---------------------------------------------------------------------------------------------

#[test]
fn progress_is_described_in_italian() {
    let share = Progress {
        value: 23,
        required: 21,
        unit: ProgressUnit::ApplicableServices { total: 30 },
        holds: true,
    };
    assert_eq!(share.describe(), "23 servizi attivi su 30 applicabili (ne servono 21)");

    let io = Progress { value: 9, required: 10, unit: ProgressUnit::Services, holds: false };
    assert_eq!(io.describe(), "9 servizi (ne servono 10)");

    let new = Progress { value: 1, required: 2, unit: ProgressUnit::NewServices, holds: false };
    assert_eq!(new.describe(), "1 servizio nuovo (ne servono 2)");

    let one = Progress { value: 0, required: 1, unit: ProgressUnit::Services, holds: false };
    assert_eq!(one.describe(), "0 servizi (ne serve 1)");

    let spid = Progress { value: 2, required: 3, unit: ProgressUnit::SpidAndCieServices, holds: false };
    assert_eq!(spid.describe(), "2 servizi online con SPID e CIE su 3");
}

#[test]
fn measured_progress_reads_as_the_rule_asks() {
    let mut facts = aderente();
    facts.pagopa = pagopa_daily("2021-05-01", 16);
    facts.pagopa.extend((0..7).map(|_| pagopa_inactive()));
    assert_eq!(
        check("final_pagopa", &facts, "2022-06-30").progress.describe(),
        "16 servizi attivi su 23 applicabili (ne servono 17)"
    );
}

#[test]
fn taxonomy_codes_are_checked_by_shape() {
    for good in ["9/0101100IM/", "9/0101101IM/", "9/0102100SA/", "9/0199045DM/"] {
        assert!(is_taxonomy_code(good), "{good}");
    }
    for bad in [
        "",
        "9/0101101IM",
        "0101101IM",
        "9/010110IM/",
        "9/0101101im/",
        "9/01011011M/",
        "8/0101101IM/",
        "9/0101101IM//",
    ] {
        assert!(!is_taxonomy_code(bad), "{bad}");
    }
}

// ---------------------------------------------------------------------------------------------
// Facts as of a day (issue 16): each rule reads the facts as they stood on the day it measures.
// ---------------------------------------------------------------------------------------------

/// An applicable collection service recorded as applicable on `recorded` and never activated.
fn pagopa_recorded(recorded: &str) -> PagoPaService {
    PagoPaService { applicable_since: Some(day(recorded)), ..pagopa_inactive() }
}

/// An online service put online on `recorded`, with SPID and CIE from the given days.
fn online_recorded(recorded: &str, spid: Option<&str>, cie: Option<&str>) -> OnlineService {
    OnlineService { online_since: Some(day(recorded)), ..online(spid, cie) }
}

#[test]
fn services_recorded_after_the_deadline_leave_the_2021_outcome_unchanged() {
    let before = evaluate(&fondo_innovazione(), &full_success(), day("2026-12-02"));
    let mut later = full_success();
    // Ten applicable services recorded in 2023 (the share would be 7 of 20 today), one of them
    // activated in 2023; two online services of 2023, one without SPID/CIE, one with both.
    later.pagopa.extend((0..9).map(|_| pagopa_recorded("2023-03-01")));
    later
        .pagopa
        .push(PagoPaService { active_since: Some(day("2023-05-02")), ..pagopa_recorded("2023-03-01") });
    later.online.push(online_recorded("2023-02-01", None, None));
    later.online.push(online_recorded("2023-04-01", Some("2023-06-01"), Some("2023-06-01")));
    let after = evaluate(&fondo_innovazione(), &later, day("2026-12-02"));

    for (b, a) in before.objectives.iter().zip(&after.objectives) {
        assert_eq!((&a.code, a.reached_on, a.on_time), (&b.code, b.reached_on, b.on_time));
    }
    assert_eq!(after.steps, before.steps);
    assert_eq!(
        (after.earned_eur, after.lost_eur, after.all_objectives_on, after.all_objectives_on_time),
        (before.earned_eur, before.lost_eur, before.all_objectives_on, before.all_objectives_on_time)
    );
    assert_eq!(step(&after, "finale").tranche, TrancheStatus::Earned);
    // Today the comune is measured on today's facts: 8 of 20, and one online service without
    // SPID/CIE.
    let today_pagopa = objective_outcome(&after, "final_pagopa");
    assert_eq!(today_pagopa.progress.unit, ProgressUnit::ApplicableServices { total: 20 });
    assert_eq!(today_pagopa.progress.value, 8);
    assert!(!today_pagopa.progress.holds);
    assert!(!objective_outcome(&after, "final_spid_cie").progress.holds);
}

#[test]
fn final_pagopa_denominator_counts_a_service_from_the_day_it_was_recorded_applicable() {
    // 7 of 10 on 2021-01-26; an eleventh applicable service recorded on 2021-06-01 takes the
    // share to 7 of 11 from that day.
    let mut facts = full_success();
    facts.pagopa.push(pagopa_recorded("2021-06-01"));
    assert!(check("final_pagopa", &facts, "2021-05-31").progress.holds);
    let june = check("final_pagopa", &facts, "2021-06-01");
    assert_eq!(
        (june.progress.value, june.progress.unit.clone()),
        (7, ProgressUnit::ApplicableServices { total: 11 })
    );
    assert!(!june.progress.holds);
    // Reached on 2021-01-26, before the new service was recorded: that day does not move.
    assert_eq!(june.reached_on, Some(day("2021-01-26")));
}

#[test]
fn an_active_service_is_applicable_from_its_activation_even_if_recorded_later() {
    // Recorded in 2023 with an activation in 2021: the activation dates it, numerator and
    // denominator alike.
    let mut facts = aderente();
    facts
        .pagopa
        .push(PagoPaService { active_since: Some(day("2021-01-20")), ..pagopa_recorded("2023-01-10") });
    assert_eq!(check("step1_pagopa", &facts, "2026-01-01").reached_on, Some(day("2021-01-20")));
    assert_eq!(check("final_pagopa", &facts, "2026-01-01").reached_on, Some(day("2021-01-20")));
}

#[test]
fn a_taxonomy_code_counts_only_while_it_is_valid() {
    // 7 active of 10; three inactive ones whose code became valid on 2021-06-01 only: 7 of 7
    // until then. A code withdrawn (valid to 2021-08-31) leaves the denominator the next day.
    let mut facts = aderente();
    facts.pagopa = pagopa_daily("2021-01-20", 7);
    let later_code = PagoPaService { code_valid_from: Some(day("2021-06-01")), ..pagopa_inactive() };
    facts.pagopa.extend([later_code.clone(), later_code.clone(), later_code]);
    assert_eq!(
        check("final_pagopa", &facts, "2021-05-31").progress.unit,
        ProgressUnit::ApplicableServices { total: 7 }
    );
    assert_eq!(
        check("final_pagopa", &facts, "2021-06-01").progress.unit,
        ProgressUnit::ApplicableServices { total: 10 }
    );

    let mut short = aderente();
    short.pagopa = pagopa_daily("2021-01-20", 6); // 6 of 9 (66%) until a code is withdrawn
    short.pagopa.push(pagopa_inactive());
    short.pagopa.push(pagopa_inactive());
    short.pagopa.push(PagoPaService { code_valid_to: Some(day("2021-08-31")), ..pagopa_inactive() });
    assert!(!check("final_pagopa", &short, "2021-08-31").progress.holds);
    // 6 of 8 = 75% from 2021-09-01: the withdrawal day is a day the rule can switch on.
    assert_eq!(check("final_pagopa", &short, "2021-12-31").reached_on, Some(day("2021-09-01")));
}

#[test]
fn final_spid_cie_counts_an_online_service_from_the_day_it_went_online() {
    // Every service had SPID and CIE on 2021-11-30; a service without them put online on
    // 2022-02-01 does not undo 2021, but today the rule does not hold.
    let mut facts = full_success();
    facts.online.push(online_recorded("2022-02-01", None, None));
    let outcome = check("final_spid_cie", &facts, "2026-01-01");
    assert_eq!(outcome.reached_on, Some(day("2021-11-30")));
    assert!(outcome.on_time);
    assert!(!outcome.progress.holds);
    assert!(check("final_spid_cie", &facts, "2022-01-31").progress.holds);
    // A service with an earlier SPID day than its recorded day counts from the SPID day.
    let early = online_recorded("2023-01-01", Some("2021-03-01"), None);
    assert!(early.online_on(day("2021-03-01")) && !early.online_on(day("2021-02-28")));
}

#[test]
fn the_programme_comes_from_the_migration_rows() {
    // The hand copy this replaced could drift from the seed; these are the rows' own values.
    let p = fondo_innovazione();
    assert_eq!(p.code, crate::data::programme::FONDO_INNOVAZIONE);
    assert_eq!((p.start, p.end), (day("2020-12-15"), day(FINAL_DEADLINE)));
    let steps: Vec<_> = p.steps.iter().map(|s| (s.code.as_str(), s.deadline, s.share_percent)).collect();
    assert_eq!(steps, [("primo_step", day(STEP1_DEADLINE), 20), ("finale", day(FINAL_DEADLINE), 80)]);
    assert_eq!(p.objectives.len(), 6);
    assert!(p.objectives.iter().all(|o| o.description.starts_with(char::is_uppercase)));
    assert!(!rule("final_spid_cie").confirmed_by_source);
}
