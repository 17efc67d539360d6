//! The dashboard's figures over a small hand-made programme state: each figure, its
//! denominator, the province rows, the map classes and the time series.

use chrono::NaiveDate;

use super::{map::MapStatus, ui::figures, Summary};
use crate::{
    comuni::{ComuniFilter, Milestone, ValidFilter},
    data::facts::{ComuneRecord, CountSnapshot},
    evaluation::Snapshot,
    rules::{
        tests::{aderente, day, fondo_innovazione, full_success},
        AdhesionStatus, ComuneFacts,
    },
};

fn record(codice: &str, sigla: &str, facts: ComuneFacts, counts: Vec<CountSnapshot>) -> ComuneRecord {
    ComuneRecord {
        codice_istat: codice.to_string(),
        denominazione: format!("Comune {codice}"),
        sigla_provincia: sigla.to_string(),
        provincia: sigla.to_string(),
        codice_catastale: format!("X{codice}"),
        codice_ipa: format!("c_{codice}"),
        popolazione: facts.population,
        facts,
        counts_over_time: counts,
        open_blockers: 0,
    }
}

fn point(d: &str, pagopa: i64, io: i64) -> CountSnapshot {
    CountSnapshot { day: day(d), pagopa, io }
}

/// Four comuni on 2022-06-30 (both deadlines passed):
/// - 075001 (LE, 3,000 residents): every objective on time, € 3,900 earned;
/// - 075002 (LE, 6,000): adherent, nothing reached, € 7,950 lost;
/// - 072001 (BA, 50,000): not adhering;
/// - 073001 (TA, 3,000): adhering late, nothing reached, € 3,900 lost; on IO via the Region.
fn snapshot() -> Snapshot {
    let as_of = day("2022-06-30");
    let mut big = aderente();
    big.population = 6000;
    let mut late = aderente();
    late.adhesion = AdhesionStatus::AderenteInRitardo;
    late.io_via_region = true;
    let none = ComuneFacts { population: 50_000, ..Default::default() };
    let records = vec![
        record("072001", "BA", none, vec![]),
        record("073001", "TA", late, vec![point("2021-01-31", 0, 1), point("2021-02-28", 2, 1)]),
        record(
            "075001",
            "LE",
            full_success(),
            vec![point("2021-01-31", 7, 1), point("2021-02-28", 7, 1), point("2021-12-31", 7, 10)],
        ),
        record("075002", "LE", big, vec![point("2021-02-28", 1, 0)]),
    ];
    Snapshot::evaluate(fondo_innovazione(), records, as_of, 1, false)
}

fn filter(q: ComuniFilter) -> ValidFilter {
    q.validate().unwrap()
}

#[test]
fn summary_counts_each_figure_with_its_denominator() {
    let snap = snapshot();
    let s = snap.summary(&ValidFilter::default());
    assert_eq!(s.totale_comuni, 4);
    assert_eq!((s.aderenti, s.in_ritardo, s.supportati), (2, 1, 3));
    assert_eq!((s.primo_step_in_tempo, s.primo_step, s.tutti_obiettivi), (1, 1, 1));
    assert_eq!(s.io_regione, 1);
    assert_eq!(s.contributo_assegnato, 3900 + 7950 + 3900);
    assert_eq!(s.contributo_maturato, 3900);
    assert_eq!(s.contributo_perso, 7950 + 3900);
    assert_eq!(s.contributo_possibile, 0);
    // The earned euros by tranche: 20% and 80% of € 3,900.
    let tranches: Vec<i64> = s.maturato_per_step.iter().map(|t| t.eur).collect();
    assert_eq!(tranches, [780, 3120]);

    let le = s.province.iter().find(|p| p.sigla == "LE").unwrap();
    assert_eq!((le.totale, le.supportati, le.primo_step, le.tutti_obiettivi), (2, 2, 1, 1));
    assert_eq!((le.contributo_maturato, le.contributo_perso), (3900, 7950));
    let ba = s.province.iter().find(|p| p.sigla == "BA").unwrap();
    assert_eq!((ba.totale, ba.non_aderenti, ba.supportati), (1, 1, 0));
}

#[test]
fn figures_say_their_denominators_in_words_and_link_to_their_comuni() {
    let snap = snapshot();
    let s = snap.summary(&ValidFilter::default());
    let f = figures(&s, "");
    let card = |key: &str| f.iter().find(|c| c.key == key).unwrap().clone();
    let adherents = card("supportati");
    assert_eq!(adherents.value, "3");
    assert_eq!(adherents.denominator, "2 aderenti nei termini e 1 in ritardo; su 4 comuni (75,0%)");
    assert_eq!(adherents.href, "/comuni?traguardo=supportati");
    let step1 = card("primo-step-in-tempo");
    assert_eq!(step1.title, "Primo step raggiunto entro il 28/02/2021");
    assert_eq!(step1.denominator, "su 3 comuni aderenti, nei termini o in ritardo (33,3%)");
    // Step 1 at any date is a share of all the comuni (the press release's "more than 50%").
    assert_eq!(card("primo-step").denominator, "su 4 comuni (25,0%)");
    let earned = card("contributo-maturato");
    assert_eq!(earned.value, "€ 3.900");
    assert_eq!(
        earned.denominator,
        "da 1 comune, su € 15.750 assegnati (24,8%): primo step 20% € 780 + obiettivi finali 80% € 3.120"
    );
    let lost = card("contributo-perso");
    assert_eq!(lost.value, "€ 11.850");
    // Each grant figure counts the comuni it names and links to them.
    assert_eq!(lost.denominator, "di 2 comuni: traguardo non raggiunto entro la scadenza");
    assert_eq!(lost.href, "/comuni?traguardo=contributo_perso");
    let renounced = card("contributo-rinunciato");
    assert_eq!(renounced.value, "€ 0");
    assert_eq!(renounced.denominator, "da 0 comuni: rinuncia al saldo o all'intero contributo");
    assert_eq!(renounced.href, "/comuni?traguardo=contributo_rinunciato");
    assert_eq!(card("contributo-possibile").href, "/comuni?traguardo=contributo_possibile");
    // A filter travels with every link.
    let f = figures(&s, "provincia=LE");
    assert!(f.iter().all(|c| c.href.starts_with("/comuni?provincia=LE&traguardo=")), "{f:?}");
}

#[test]
fn every_figure_links_to_exactly_the_comuni_it_counts() {
    let snap = snapshot();
    let s = snap.summary(&ValidFilter::default());
    let listed = |m: Milestone| snap.list(&ValidFilter::default().with_milestone(m)).len() as i64;
    assert_eq!(listed(Milestone::Supportati), s.supportati);
    assert_eq!(listed(Milestone::PrimoStepInTempo), s.primo_step_in_tempo);
    assert_eq!(listed(Milestone::PrimoStep), s.primo_step);
    assert_eq!(listed(Milestone::TuttiObiettivi), s.tutti_obiettivi);
    assert_eq!(listed(Milestone::IoTramiteRegione), s.io_regione);
    assert_eq!(listed(Milestone::ContributoMaturato), s.comuni_maturato);
    assert_eq!(listed(Milestone::ContributoPossibile), s.comuni_possibile);
    assert_eq!(listed(Milestone::ContributoPerso), s.comuni_perso);
    assert_eq!(listed(Milestone::ContributoRinunciato), s.comuni_rinunciato);
    assert_eq!(listed(Milestone::ARischio), s.a_rischio);
    assert_eq!((s.comuni_maturato, s.comuni_perso), (1, 2));
}

#[test]
fn filters_by_population_band_and_platform() {
    let snap = snapshot();
    let small = filter(ComuniFilter { popolazione: Some("0-5000".into()), ..Default::default() });
    let codes: Vec<String> = snap.list(&small).into_iter().map(|r| r.codice_istat).collect();
    assert_eq!(codes, ["073001", "075001"]);
    // On App IO = at least one IO service published on the day of the figures.
    let io = filter(ComuniFilter { piattaforma: Some("io".into()), ..Default::default() });
    let codes: Vec<String> = snap.list(&io).into_iter().map(|r| r.codice_istat).collect();
    assert_eq!(codes, ["075001"]);
    let s = snap.summary(&io);
    assert_eq!((s.totale_comuni, s.supportati), (1, 1));
    // Provinces outside a province filter disappear from the rows.
    let le = filter(ComuniFilter { provincia: Some("LE".into()), ..Default::default() });
    assert_eq!(snap.summary(&le).province.len(), 1);
}

#[test]
fn map_classes_nest_like_the_cards() {
    let snap = snapshot();
    let status = snap.map_status(&ValidFilter::default());
    assert_eq!(status["075001"], MapStatus::TuttiObiettivi);
    assert_eq!(status["075002"], MapStatus::Aderente);
    assert_eq!(status["073001"], MapStatus::Aderente);
    assert_eq!(status["072001"], MapStatus::NonAderente);
    let le = filter(ComuniFilter { provincia: Some("LE".into()), ..Default::default() });
    let status = snap.map_status(&le);
    assert_eq!(status.len(), 2, "comuni outside the filter are absent, hence FuoriFiltro");
}

#[test]
fn series_sums_the_count_snapshots_of_the_filtered_comuni() {
    let snap = snapshot();
    let series = snap.series(&ValidFilter::default());
    let points: Vec<(NaiveDate, i64, i64)> = series.points.iter().map(|p| (p.day, p.pagopa, p.io)).collect();
    // On 31/12/2021 only 075001 was counted: the other two carry their 28/02 counts forward
    // (before, the region's pagoPA fell from 10 to 7 that day).
    assert_eq!(points, [(day("2021-01-31"), 7, 2), (day("2021-02-28"), 10, 2), (day("2021-12-31"), 10, 11)]);
    assert_eq!(
        series.deadlines,
        [("Primo step".to_string(), day("2021-02-28")), ("Obiettivi finali".to_string(), day("2021-12-31"))]
    );
    let ta = filter(ComuniFilter { provincia: Some("TA".into()), ..Default::default() });
    assert_eq!(snap.series(&ta).points.len(), 2);
}

/// The press release's figures as `traguardi check` states them and the dashboard's cards:
/// each figure has one whole, the same in both (before, `check` divided step 1 by 257 and the
/// card by 140, and the card of step 1 at any date by 140 where the press release means 257).
#[test]
fn check_and_the_cards_divide_each_figure_by_the_same_whole() {
    let s = Summary {
        totale_comuni: 257,
        aderenti: 133,
        in_ritardo: 7,
        supportati: 140,
        primo_step_in_tempo: 106,
        primo_step: 130,
        tutti_obiettivi: 120,
        io_regione: 90,
        ..Default::default()
    };
    let cards = figures(&s, "");
    let lines = crate::check::compare(&s);
    let pairs = [
        ("Comuni in ritardo ma supportati", "supportati", "su 257 comuni"),
        (
            "Primo step entro il 28/02/2021",
            "primo-step-in-tempo",
            "su 140 comuni aderenti, nei termini o in ritardo",
        ),
        ("Primo step raggiunto", "primo-step", "su 257 comuni"),
        (
            "Tutti gli obiettivi raggiunti",
            "tutti-obiettivi",
            "su 140 comuni aderenti, nei termini o in ritardo",
        ),
        ("Comuni su App IO tramite la Regione", "io-regione", "su 257 comuni"),
    ];
    for (label, key, whole) in pairs {
        let line = lines.iter().find(|l| l.label == label).unwrap_or_else(|| panic!("{label}"));
        let card = cards.iter().find(|c| c.key == key).unwrap();
        assert_eq!(line.denominator, whole, "{label}: check");
        assert!(card.denominator.contains(&format!("{whole} (")), "{key}: {}", card.denominator);
        assert!(line.agrees, "{label}: {}", line.computed);
    }
    // "Comuni aderenti" is said in words: 133 on time and 7 late, 140 in the programme.
    let adherents = cards.iter().find(|c| c.key == "supportati").unwrap();
    assert_eq!(
        (adherents.title.as_str(), adherents.value.as_str()),
        ("Comuni aderenti, nei termini o in ritardo", "140")
    );
    assert!(adherents.denominator.starts_with("133 aderenti nei termini e 7 in ritardo"));
}

/// A card's link under a filter that names a figure already narrows it, never repeats it.
#[test]
fn card_links_merge_the_milestone_of_the_filter() {
    let snap = snapshot();
    let filter = ValidFilter::default().with_milestone(Milestone::PrimoStep);
    let s = snap.summary(&filter);
    for card in figures(&s, &filter.query()) {
        let query = card.href.trim_start_matches("/comuni?");
        assert_eq!(card.href.matches("traguardo=").count(), 1, "{}", card.href);
        assert!(query.contains("primo_step"), "{}", card.href);
        assert!(
            !query.split('&').any(|p| p == "traguardo=primo_step" && card.key != "primo-step"),
            "{}",
            card.href
        );
    }
    // What the list behind "all objectives" under "step 1" holds: the comuni of both.
    let both = filter.with_milestone(Milestone::TuttiObiettivi);
    assert_eq!(snap.list(&both).len() as i64, s.tutti_obiettivi);
}

/// The MyPay figures count one population (the applicable services on MyPay) and are given at
/// the end of the project, as the press release reports them, and today, each labelled.
#[test]
fn mypay_figures_count_one_population_at_the_end_of_the_project_and_today() {
    use crate::rules::PagoPaService;
    let service = |applicable: bool, since: Option<&str>, until: Option<&str>| PagoPaService {
        applicable,
        active_since: since.map(day),
        deactivated_on: until.map(day),
        on_mypay: true,
        ..Default::default()
    };
    let mut facts = aderente();
    facts.pagopa = vec![
        service(true, Some("2021-01-10"), None),  // active then and now
        service(true, Some("2022-03-01"), None),  // activated after the project
        service(false, Some("2021-02-01"), None), // active but not applicable: in no figure
        service(true, None, None),                // applicable, never active
        service(true, Some("2021-03-01"), Some("2022-01-15")), // active then, switched off since
        PagoPaService { on_mypay: false, ..service(true, Some("2021-01-10"), None) }, // not on MyPay
    ];
    let snap = Snapshot::evaluate(
        fondo_innovazione(),
        vec![record("075001", "LE", facts, vec![])],
        day("2022-06-30"),
        1,
        false,
    );
    let s = snap.summary(&ValidFilter::default());
    assert_eq!(s.fine_progetto, Some(day("2021-12-31")));
    assert_eq!(
        (s.mypay_attivi_fine_progetto, s.mypay_applicabili_fine_progetto, s.mypay_nel_progetto_fine_progetto),
        (2, 4, 2)
    );
    assert_eq!((s.mypay_attivi, s.mypay_applicabili, s.mypay_nel_progetto), (2, 4, 1));

    let f = figures(&s, "");
    let card = |key: &str| f.iter().find(|c| c.key == key).unwrap().clone();
    let active = card("mypay-attivi");
    assert_eq!(active.title, "Servizi di incasso pagoPA attivi su MyPay al 31/12/2021");
    assert_eq!(active.value, "2");
    assert_eq!(
        active.denominator,
        "su 4 servizi applicabili registrati su MyPay (50,0%); oggi (30/06/2022) 2 su 4 (50,0%)"
    );
    let in_project = card("mypay-nel-progetto");
    assert_eq!(in_project.value, "2");
    assert_eq!(
        in_project.denominator,
        "su 2 servizi attivi su MyPay (100,0%); oggi (30/06/2022) 1 su 2 (50,0%)"
    );

    // Before the end of the project, the "end" figures are of the snapshot's day, and say so.
    let facts = snap.comuni[0].record.facts.clone();
    let early = Snapshot::evaluate(
        fondo_innovazione(),
        vec![record("075001", "LE", facts, vec![])],
        day("2021-06-30"),
        1,
        false,
    );
    let s = early.summary(&ValidFilter::default());
    assert_eq!(s.fine_progetto, Some(day("2021-06-30")));
    assert_eq!((s.mypay_attivi_fine_progetto, s.mypay_attivi), (2, 2));
}
