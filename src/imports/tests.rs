//! The import rules over data: reading, normalising and planning, without a database.

use chrono::NaiveDate;

use super::{
    plan::{
        adhesion_status, count_text, date_text, fold, istat_code, plan, platform, yes_no, Current, Op, Stored,
    },
    table::{decode, header_name, read, sniff_delimiter, FileType},
    Kind, Outcome,
};
use crate::{
    rules::{AdhesionStatus, Platform, Renunciation, RenunciationFact},
    workspace::{AdhesionValues, Context, PagoPaValues},
};

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

pub(super) fn ctx() -> Context {
    Context {
        programme_start: day(2020, 12, 15),
        history_from: Some(day(2012, 1, 1)),
        today: day(2026, 11, 27),
        taxonomy: vec!["9/0101100IM/".into(), "9/0301109SP/".into()],
        objectives: vec![],
        saldo_renunciation_limit: Some(day(2022, 5, 26)),
    }
}

/// Bari with an adhesion and a pagoPA service; Bitonto with nothing; a count of Bari's.
pub(super) fn current() -> Current {
    let mut c = Current::default();
    c.names.insert("072006".into(), "Bari".into());
    c.names.insert("072011".into(), "Bitonto".into());
    c.names.insert("071020".into(), "Foggia".into());
    c.adhesions.insert(
        "072006".into(),
        (
            AdhesionValues {
                status: AdhesionStatus::Aderente,
                date: Some(day(2020, 10, 30)),
                renunciation: None,
            },
            3,
        ),
    );
    c.pagopa.insert(
        ("072006".into(), "9/0101100IM/".into()),
        Stored {
            id: 7,
            version: 2,
            values: PagoPaValues {
                taxonomy_code: "9/0101100IM/".into(),
                applicable: true,
                active_since: Some(day(2021, 1, 15)),
                deactivated_on: None,
                on_mypay: true,
            },
        },
    );
    c.counts.insert(("072006".into(), Platform::PagoPa, day(2021, 2, 28)), (12, 1));
    c
}

fn dry(csv: &str) -> super::plan::Plan {
    let (_, tables) = read("prova.csv", csv.as_bytes()).expect("readable");
    plan(&tables, &current(), &ctx())
}

fn only_problem(csv: &str) -> super::Problem {
    let p = dry(csv);
    assert_eq!(p.report.problems.len(), 1, "{:#?}", p.report.problems);
    assert!(p.ops.is_empty(), "a file with problems plans no write");
    assert!(!p.report.can_apply());
    p.report.problems[0].clone()
}

#[test]
fn istat_codes_get_back_their_leading_zeros() {
    assert_eq!(istat_code("72006").unwrap(), "072006");
    assert_eq!(istat_code(" 072006 ").unwrap(), "072006");
    assert_eq!(istat_code("110001").unwrap(), "110001");
    assert!(istat_code("").unwrap_err().contains("Manca"));
    assert!(istat_code("7200A").unwrap_err().contains("non valido"));
    assert!(istat_code("1234567").unwrap_err().contains("6 cifre"));
}

#[test]
fn yes_and_no_as_people_write_them() {
    for y in ["Sì", "si", "SI", "sì", "S", "vero", "TRUE", "1", "x"] {
        assert_eq!(yes_no(y), Ok(true), "{y}");
    }
    for n in ["", "No", "NO", "n", "falso", "false", "0"] {
        assert_eq!(yes_no(n), Ok(false), "{n}");
    }
    assert!(yes_no("forse").unwrap_err().contains("sì o no"));
}

#[test]
fn platforms_and_statuses_by_code_or_label() {
    assert_eq!(platform("pagoPA"), Ok(Platform::PagoPa));
    assert_eq!(platform("App IO"), Ok(Platform::AppIo));
    assert_eq!(platform("io"), Ok(Platform::AppIo));
    assert_eq!(platform("SPID/CIE"), Ok(Platform::SpidCie));
    assert_eq!(platform("spid_cie"), Ok(Platform::SpidCie));
    assert!(platform("fax").is_err());
    assert_eq!(adhesion_status("Aderente in ritardo"), Ok(AdhesionStatus::AderenteInRitardo));
    assert_eq!(adhesion_status("aderente_in_ritardo"), Ok(AdhesionStatus::AderenteInRitardo));
    assert_eq!(adhesion_status("NON ADERENTE"), Ok(AdhesionStatus::NonAderente));
    assert_eq!(adhesion_status("Rinuncia"), Ok(AdhesionStatus::Rinuncia));
    assert!(adhesion_status("forse").unwrap_err().contains("sconosciuto"));
}

#[test]
fn dates_and_counts_as_spreadsheets_write_them() {
    assert_eq!(date_text("28-02-2021"), "2021-02-28");
    assert_eq!(date_text("28.02.2021"), "2021-02-28");
    assert_eq!(date_text("28/02/2021"), "28/02/2021");
    assert_eq!(date_text("2021-02-28"), "2021-02-28");
    assert_eq!(date_text("31/02/2021"), "31/02/2021", "not a date: left for the validator to refuse");
    assert_eq!(count_text("12"), "12");
    assert_eq!(count_text("12,0"), "12");
    assert_eq!(count_text("12.0"), "12");
    assert_eq!(count_text("1.234"), "1234");
    assert_eq!(count_text("-3"), "-3");
    assert_eq!(count_text("1.5"), "1.5", "not a whole number: left for the validator to refuse");
}

#[test]
fn names_compare_without_case_accents_or_apostrophes() {
    assert_eq!(fold("Sant'Agata di Puglia"), fold("SANT AGATA  DI PUGLIA"));
    assert_eq!(fold("Città"), fold("citta"));
    assert_ne!(fold("Bari"), fold("Bitonto"));
}

#[test]
fn headers_are_normalised() {
    assert_eq!(header_name("Codice ISTAT"), "codice_istat");
    assert_eq!(header_name(" Data adesione* "), "data_adesione");
    assert_eq!(header_name("Comune"), "denominazione");
    assert_eq!(header_name("PRO_COM_T"), "codice_istat");
    assert_eq!(header_name("Su MyPay"), "su_mypay");
}

#[test]
fn csv_separator_bom_and_encoding() {
    assert_eq!(sniff_delimiter("a;b;c\n1;2;3"), b';');
    assert_eq!(sniff_delimiter("a,b,c\n1,2,3"), b',');
    assert_eq!(sniff_delimiter("\"a;b\",c,d\n"), b',', "separators inside quotes do not count");
    assert_eq!(decode(b"\xEF\xBB\xBFabc"), "abc");
    // "Sì" as Italian Excel saves a CSV (Windows-1252).
    assert_eq!(decode(b"S\xEC"), "Sì");
    let (kind, tables) =
        read("a.csv", "\u{feff}Codice ISTAT;Adesione\n72006 ;Aderente\n\n".as_bytes()).unwrap();
    assert_eq!(kind, FileType::Csv);
    assert_eq!(tables[0].headers, vec!["codice_istat", "adesione"]);
    assert_eq!(tables[0].rows, vec![(2, vec!["72006".to_string(), "Aderente".to_string()])]);
}

#[test]
fn unreadable_files_are_refused_in_words() {
    assert!(read("a.csv", b"").unwrap_err().contains("vuoto"));
    assert!(read("a.xls", &[0xD0, 0xCF, 0x11, 0xE0, 0, 0]).unwrap_err().contains(".xlsx"));
    assert!(read("a.pdf", b"%PDF-1.7 ...").unwrap_err().contains("CSV"));
    assert!(read("a.xlsx", b"PK\x03\x04 not really a zip").unwrap_err().contains("XLSX"));
}

#[test]
fn adhesions_added_changed_and_unchanged() {
    let p = dry("codice_istat;denominazione;adesione;data_adesione\n\
         72006;Bari;Aderente;30/10/2020\n\
         072011;BITONTO;aderente in ritardo;2021-01-20\n\
         71020;Foggia;non aderente;\n");
    assert!(p.report.problems.is_empty(), "{:#?}", p.report.problems);
    assert_eq!((p.report.added, p.report.changed, p.report.unchanged), (1, 0, 2));
    assert_eq!(p.report.tables[0].kind, Kind::Adesioni);
    assert_eq!(p.ops.len(), 1);
    assert!(matches!(&p.ops[0], Op::Adhesion { comune, version: 0, .. } if comune == "072011"));
    assert_eq!(p.report.changes[0].outcome, Outcome::Added);
    assert!(p.report.changes[0].details.contains("Aderente in ritardo"), "{}", p.report.changes[0].details);

    let p = dry("codice_istat,adesione,data_adesione\n072006,rinuncia,30/10/2020\n");
    assert_eq!((p.report.added, p.report.changed, p.report.unchanged), (0, 1, 0));
    assert!(
        matches!(&p.ops[0], Op::Adhesion { version: 3, .. }),
        "the version read is the one checked at commit"
    );
}

#[test]
fn adhesions_carry_a_dated_renunciation_and_a_late_saldo_is_a_problem() {
    let p = dry("codice_istat;adesione;data_adesione;rinuncia;data_rinuncia\n72006;aderente;30/10/2020;saldo;20/05/2022\n");
    assert!(p.report.problems.is_empty(), "{:#?}", p.report.problems);
    assert_eq!(p.report.changed, 1);
    match &p.ops[0] {
        Op::Adhesion { values, version: 3, .. } => assert_eq!(
            values.renunciation,
            Some(RenunciationFact { kind: Renunciation::Saldo, on: day(2022, 5, 20) })
        ),
        other => panic!("{other:?}"),
    }
    assert!(p.report.changes[0].details.contains("Rinuncia al saldo"), "{}", p.report.changes[0].details);

    let problem = only_problem(
        "codice_istat;adesione;data_adesione;rinuncia;data_rinuncia\n72006;aderente;30/10/2020;saldo;27/05/2022\n",
    );
    assert_eq!(problem.column, "data_rinuncia");
    assert!(problem.message.contains("entro il 26/05/2022"), "{}", problem.message);

    // Without the columns a recorded renunciation stays: nothing to change.
    let mut current = current();
    let recorded = Some(RenunciationFact { kind: Renunciation::Contributo, on: day(2023, 1, 10) });
    current.adhesions.get_mut("072006").unwrap().0.renunciation = recorded.clone();
    let (_, tables) = read("prova.csv", b"codice_istat;adesione;data_adesione\n72006;aderente;30/10/2020\n")
        .expect("readable");
    let p = plan(&tables, &current, &ctx());
    assert_eq!((p.report.changed, p.report.unchanged), (0, 1));
}

#[test]
fn unknown_istat_code() {
    let p = only_problem("codice_istat;adesione;data_adesione\n99999;aderente;30/10/2020\n");
    assert_eq!((p.row, p.column.as_str()), (2, "codice_istat"));
    assert!(p.message.contains("sconosciuto") && p.message.contains("099999"), "{}", p.message);
}

#[test]
fn name_that_does_not_match_the_code() {
    let p = only_problem(
        "codice_istat;denominazione;adesione;data_adesione\n072006;Bitonto;aderente;30/10/2020\n",
    );
    assert_eq!(p.column, "denominazione");
    assert!(p.message.contains("«Bitonto»") && p.message.contains("Bari"), "{}", p.message);
}

#[test]
fn bad_date() {
    let p = only_problem("codice_istat;adesione;data_adesione\n072011;aderente;31/02/2021\n");
    assert_eq!((p.row, p.column.as_str()), (2, "data_adesione"));
    assert!(p.message.contains("Data non valida"), "{}", p.message);
    let p = only_problem("codice_istat;adesione;data_adesione\n072011;aderente;\n");
    assert!(p.message.contains("data di adesione"), "{}", p.message);
}

#[test]
fn duplicate_row() {
    let p = only_problem(
        "codice_istat;adesione;data_adesione\n072011;aderente;20/01/2021\n72011;aderente;21/01/2021\n",
    );
    assert_eq!(p.row, 3);
    assert!(p.message.contains("duplicata") && p.message.contains("riga 2"), "{}", p.message);
}

#[test]
fn negative_count() {
    let p = only_problem("codice_istat;piattaforma;giorno;attivi\n072006;pagopa;28/02/2021;-3\n");
    assert_eq!((p.row, p.column.as_str()), (2, "attivi"));
    assert!(p.message.contains("negativo"), "{}", p.message);
}

#[test]
fn unknown_taxonomy_code() {
    let p = only_problem("codice_istat;piattaforma;codice;applicabile\n072006;pagopa;9/9999999XX/;sì\n");
    assert_eq!(p.column, "codice");
    assert!(p.message.contains("sconosciuto"), "{}", p.message);
}

#[test]
fn bad_yes_no_and_platform() {
    let p = only_problem("codice_istat;piattaforma;codice;su_mypay\n072006;pagopa;9/0301109SP/;forse\n");
    assert_eq!(p.column, "su_mypay");
    let p = only_problem("codice_istat;piattaforma;giorno;attivi\n072006;fax;28/02/2021;1\n");
    assert_eq!(p.column, "piattaforma");
}

#[test]
fn counts_and_services_compare_with_what_is_stored() {
    let p = dry("codice_istat;piattaforma;giorno;attivi\n\
         072006;pagoPA;28/02/2021;12,0\n\
         072006;pagopa;31/03/2021;14\n\
         072011;App IO;31/03/2021;1.234\n");
    assert!(p.report.problems.is_empty(), "{:#?}", p.report.problems);
    assert_eq!((p.report.added, p.report.changed, p.report.unchanged), (2, 0, 1));
    assert!(p.ops.iter().any(|o| matches!(o, Op::Count { values, .. } if values.active == 1234)));

    let p = dry("codice_istat;piattaforma;codice;nome;applicabile;attivo_dal;su_mypay\n\
         072006;pagopa;9/0101100IM/;;SI;15/01/2021;Sì\n\
         072006;pagopa;9/0301109SP/;;si;01/02/2021;no\n\
         072011;io;abc123;Tari;;01/03/2021;\n\
         072011;spid_cie;;Anagrafe online;;;\n");
    assert!(p.report.problems.is_empty(), "{:#?}", p.report.problems);
    assert_eq!((p.report.added, p.report.changed, p.report.unchanged), (3, 0, 1));
    let p = dry("codice_istat;piattaforma;codice;applicabile;attivo_dal;su_mypay\n072006;pagopa;9/0101100IM/;sì;15/01/2021;no\n");
    assert_eq!(p.report.changed, 1);
    assert!(matches!(&p.ops[0], Op::UpdateService { id: 7, version: 2, .. }));
    assert_eq!(p.report.changes[0].details, "su_mypay: sì → no");
}

#[test]
fn a_file_that_matches_no_template() {
    let p = only_problem("codice_istat;stato;data_adesione\n072006;aderente;30/10/2020\n");
    assert_eq!(p.row, 1);
    assert!(p.message.contains("«Adesioni» manca la colonna adesione"), "{}", p.message);
}

#[test]
fn problems_everywhere_are_all_reported_and_nothing_is_planned() {
    let p = dry(
        "codice_istat;adesione;data_adesione\n99999;aderente;30/10/2020\n072011;aderente;xx\n072006;rinuncia;30/10/2020\n",
    );
    assert_eq!(p.report.problems.len(), 2);
    assert_eq!(p.report.changed, 1, "the clean row is still counted");
    assert!(p.ops.is_empty());
}

#[test]
fn services_may_carry_their_history_but_not_absurd_dates() {
    // A service on pagoPA since 2018, before the programme: the rules need that date.
    let p = dry(
        "codice_istat;piattaforma;codice;applicabile;attivo_dal\n072011;pagopa;9/0301109SP/;sì;10/10/2018\n",
    );
    assert!(p.report.problems.is_empty(), "{:#?}", p.report.problems);
    let p = only_problem(
        "codice_istat;piattaforma;codice;applicabile;attivo_dal\n072011;pagopa;9/0301109SP/;sì;10/10/2005\n",
    );
    assert_eq!(p.column, "attivo_dal");
    assert!(p.message.contains("non è plausibile"), "{}", p.message);
    let p = only_problem(
        "codice_istat;piattaforma;codice;applicabile;attivo_dal\n072011;pagopa;9/0301109SP/;sì;10/10/2099\n",
    );
    assert!(p.message.contains("nel futuro"), "{}", p.message);
}

const TAXONOMY: &str = include_str!("../integration/fixtures/tassonomia-pagopa.csv");

#[test]
fn taxonomy_codes_and_dates_as_the_official_file_writes_them() {
    use super::plan::{taxonomy_code_shape, taxonomy_date};
    assert!(taxonomy_code_shape("9/0101100IM/"));
    for bad in ["9/0101100im/", "9/010110IM/", "0101100IM", "9/0101100IM", "8/0101100IM/"] {
        assert!(!taxonomy_code_shape(bad), "{bad}");
    }
    // mm/gg/aaaa, as the header says: 02/01/2021 is the first of February.
    assert_eq!(taxonomy_date("02/01/2021"), Ok(Some(day(2021, 2, 1))));
    assert_eq!(taxonomy_date("2021-02-01"), Ok(Some(day(2021, 2, 1))));
    assert_eq!(taxonomy_date(""), Ok(None));
    assert!(taxonomy_date("31/01/2021").unwrap_err().contains("mm/gg/aaaa"));
}

fn with_taxonomy() -> Current {
    let mut c = current();
    let entry = |d: &str, origin: &str| super::plan::TaxonomyEntry {
        description: d.into(),
        origin: origin.into(),
        valid_from: None,
        valid_to: None,
    };
    c.taxonomy.insert("9/0101100IM/".into(), entry("IMU - Imposta municipale propria", "nota"));
    c.taxonomy.insert(
        "9/0102100SA/".into(),
        super::plan::TaxonomyEntry {
            description: "Multe / Verbali di Contravvenzione".into(),
            origin: "ufficiale".into(),
            valid_from: Some(day(1900, 1, 1)),
            valid_to: Some(day(2080, 1, 1)),
        },
    );
    c.taxonomy.insert("9/0199001DM/".into(), entry("Servizio dimostrativo usato", "demo"));
    c.taxonomy.insert("9/0199002DM/".into(), entry("Servizio dimostrativo libero", "demo"));
    c.taxonomy_in_use.insert("9/0199001DM/".into());
    c.taxonomy_in_use.insert("9/0101100IM/".into());
    c
}

#[test]
fn the_official_taxonomy_replaces_the_demo_entries_no_service_uses() {
    let (_, tables) = read("tassonomia.csv", TAXONOMY.as_bytes()).unwrap();
    assert_eq!(tables[0].column("data_inizio_validita"), Some(11), "the header's (mm/gg/aaaa) is dropped");
    let p = plan(&tables, &with_taxonomy(), &ctx());
    let r = &p.report;
    assert!(r.problems.is_empty(), "{:#?}", r.problems);
    assert_eq!(r.tables[0].kind, Kind::Tassonomia);
    // IMU renamed and made official, multe unchanged, TARI, mensa and the central PA's code new;
    // the unused demo entry removed, the used one kept (and said).
    assert_eq!((r.added, r.changed, r.unchanged, r.removed), (3, 1, 1, 1));
    assert!(r.totals().ends_with(", 1 rimosso"), "{}", r.totals());
    assert!(r.notices.iter().any(|n| n.contains("1 voci dimostrative")), "{:?}", r.notices);
    assert!(p.ops.contains(&Op::RemoveTaxonomy { code: "9/0199002DM/".into() }));
    let mensa = p.ops.iter().find_map(|o| match o {
        Op::Taxonomy { code, entry } if code == "9/0104106SP/" => Some(entry.clone()),
        _ => None,
    });
    let mensa = mensa.expect("the canteen's code is added");
    assert_eq!((mensa.valid_from, mensa.valid_to), (Some(day(2020, 9, 1)), Some(day(2080, 1, 1))));
    let imu = r.changes.iter().find(|c| c.record.contains("9/0101100IM/")).unwrap();
    assert!(imu.details.contains("origine: nota → ufficiale"), "{}", imu.details);
}

#[test]
fn a_repeated_taxonomy_code_keeps_its_latest_validity_and_a_bad_one_is_a_problem() {
    let header = TAXONOMY.lines().next().unwrap();
    let row = |code: &str, from: &str, name: &str| {
        format!("1;COMUNE;1;TRIBUTI;x;100;{name};IM;x;31;{code};{from};01/01/2080;x;1")
    };
    let csv = [
        header.to_string(),
        row("9/0101100IM/", "01/01/1900", "IMU vecchia"),
        row("9/0101100IM/", "01/01/2022", "IMU nuova"),
    ]
    .join("\n");
    let (_, tables) = read("t.csv", csv.as_bytes()).unwrap();
    let p = plan(&tables, &with_taxonomy(), &ctx());
    assert!(p.report.notices.iter().any(|n| n.contains("1 righe ripetono")), "{:?}", p.report.notices);
    assert!(
        p.report.changes.iter().any(|c| c.row == 3 && c.record.contains("IMU nuova")),
        "{:?}",
        p.report.changes
    );
    let csv = [header.to_string(), row("9/01011IM/", "01/01/1900", "IMU")].join("\n");
    let (_, tables) = read("t.csv", csv.as_bytes()).unwrap();
    let p = plan(&tables, &with_taxonomy(), &ctx());
    assert_eq!(p.report.problems.len(), 1);
    assert_eq!(p.report.problems[0].column, "dati_specifici_di_incasso");
    assert!(p.ops.is_empty());
}

const CANDIDATURE: &str = include_str!("../integration/fixtures/padigitale2026-candidature.csv");

#[test]
fn amounts_and_dates_of_the_candidature_files() {
    use super::plan::{amount_cents, iso_date};
    assert_eq!(amount_cents("16389.0"), Ok(1_638_900));
    assert_eq!(amount_cents("14000"), Ok(1_400_000));
    assert_eq!(amount_cents("16.389,50"), Ok(1_638_950));
    assert!(amount_cents("-1").is_err());
    assert!(amount_cents("molti").is_err());
    assert_eq!(iso_date("2022-08-23T06:55:19.000+0000"), Ok(Some(day(2022, 8, 23))));
    assert_eq!(iso_date("2022-12-07"), Ok(Some(day(2022, 12, 7))));
    assert_eq!(iso_date(""), Ok(None));
    assert!(iso_date("07/12/2022").unwrap_err().contains("aaaa-mm-gg"));
}

fn with_comuni_of_the_sample() -> Current {
    let mut c = current();
    for (code, name) in
        [("072021", "Gioia del Colle"), ("074008", "Francavilla Fontana"), ("072034", "Poggiorsini")]
    {
        c.names.insert(code.into(), name.into());
    }
    c
}

#[test]
fn pa_digitale_2026_projects_of_puglia_and_the_known_quirks() {
    let (_, tables) = read("candidature.csv", CANDIDATURE.as_bytes()).unwrap();
    assert_eq!(tables[0].column("codice_istat"), Some(4), "cod_comune is the ISTAT code");
    let p = plan(&tables, &with_comuni_of_the_sample(), &ctx());
    let r = &p.report;
    assert!(r.problems.is_empty(), "{:#?}", r.problems);
    assert_eq!(r.tables[0].kind, Kind::Candidature);
    // Napoli (Campania, empty province) is skipped and counted; the four of Puglia are new,
    // Bari's numeric code 72006 included; `Comune` and `Comuni` both read as comuni.
    assert_eq!((r.added, r.changed, r.unchanged), (4, 0, 0));
    assert!(r.notices.iter().any(|n| n.contains("1 righe di altre regioni")), "{:?}", r.notices);
    let projects: Vec<&crate::data::pnrr::Project> = p
        .ops
        .iter()
        .filter_map(|o| match o {
            Op::Project { project, version: 0 } => Some(project),
            _ => None,
        })
        .collect();
    let gioia = projects.iter().find(|x| x.cup == "F61F22002330006").unwrap();
    assert_eq!(
        (gioia.comune.as_str(), gioia.amount_cents, gioia.status.as_str()),
        ("072021", 1_638_900, "R")
    );
    assert_eq!(gioia.submitted_on, Some(day(2022, 8, 23)));
    assert_eq!(gioia.avviso, "1.4.3 - pagoPA - Comuni - Aprile 2022");
    let spid = projects.iter().find(|x| x.cup == "G61F22000040006").unwrap();
    assert_eq!(spid.avviso, "1.4.4 Adozione SPID CIE - Comuni - Aprile 2022", "double spaces collapsed");
    assert!(projects.iter().any(|x| x.comune == "072006" && x.status == "E"));

    // The same file again against what it wrote: nothing to do.
    let mut after = with_comuni_of_the_sample();
    for x in &projects {
        after.projects.insert(x.cup.clone(), ((*x).clone(), 1));
    }
    let again = plan(&tables, &after, &ctx());
    assert_eq!((again.report.added, again.report.changed, again.report.unchanged), (0, 0, 4));
}

#[test]
fn a_malformed_candidature_is_a_problem() {
    let header = CANDIDATURE.lines().next().unwrap();
    let line = CANDIDATURE.lines().nth(2).unwrap();
    for (bad, column) in [
        (line.replace(",A,2022-08-02,", ",X,2022-08-02,"), "stato_candidatura"),
        (line.replace("G61F22000040006", "G61F2200"), "codice_cup"),
        (line.replace("074008", "074999"), "cod_comune"),
        (line.replace("14000.0", "-5"), "importo_finanziamento"),
        (line.replace(",Francavilla Fontana,074008", ",Francavilla,074008"), "comune"),
    ] {
        let (_, tables) = read("c.csv", format!("{header}\n{bad}\n").as_bytes()).unwrap();
        let p = plan(&tables, &with_comuni_of_the_sample(), &ctx());
        assert_eq!(p.report.problems.len(), 1, "{column}: {:#?}", p.report.problems);
        assert_eq!(p.report.problems[0].column, column);
        assert!(p.ops.is_empty());
    }
}
