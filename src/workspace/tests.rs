//! The workspace's checks, on the messages people read.

use chrono::NaiveDate;

use super::*;

fn ctx() -> Context {
    Context {
        programme_start: NaiveDate::from_ymd_opt(2020, 12, 15).unwrap(),
        history_from: None,
        today: NaiveDate::from_ymd_opt(2026, 11, 26).unwrap(),
        taxonomy: vec!["9/0101100IM/".into(), "9/0101101IM/".into()],
        objectives: vec!["step1_pagopa".into(), "final_io".into()],
        saldo_renunciation_limit: NaiveDate::from_ymd_opt(2022, 5, 26),
    }
}

fn fields(pairs: &[(&str, &str)]) -> Fields {
    pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

fn messages(e: Vec<FieldError>) -> Vec<(String, String)> {
    e.into_iter().map(|e| (e.field, e.message)).collect()
}

#[test]
fn a_pagopa_service_needs_a_known_code_and_a_date_within_the_programme() {
    let ok = validate_pagopa(
        &fields(&[("codice", " 9/0101100im/ "), ("applicabile", "on"), ("attivo_dal", "2021-02-01")]),
        &ctx(),
    )
    .unwrap();
    assert_eq!(ok.taxonomy_code, "9/0101100IM/");
    assert!(ok.applicable);
    assert!(!ok.on_mypay, "an unchecked box is absent from the form");
    assert_eq!(ok.active_since, NaiveDate::from_ymd_opt(2021, 2, 1));

    let refused = messages(
        validate_pagopa(&fields(&[("codice", "9/9999999XX/"), ("attivo_dal", "01/12/2020")]), &ctx())
            .unwrap_err(),
    );
    assert_eq!(refused.len(), 2);
    assert_eq!(refused[0].0, "codice");
    assert!(refused[0].1.starts_with("Codice di tassonomia sconosciuto: «9/9999999XX/»"), "{}", refused[0].1);
    assert_eq!(refused[1].0, "attivo_dal");
    assert_eq!(
        refused[1].1,
        "La data 01/12/2020 precede l'inizio del programma (15/12/2020): indicare una data dal 15/12/2020 in poi."
    );
}

#[test]
fn dates_are_read_as_typed_and_never_in_the_future() {
    assert_eq!(parse_date("28/02/2021"), NaiveDate::from_ymd_opt(2021, 2, 28));
    assert_eq!(parse_date("2021-02-28"), NaiveDate::from_ymd_opt(2021, 2, 28));
    assert_eq!(parse_date("31/02/2021"), None);
    let e = messages(
        validate_online(&fields(&[("nome", "Certificati"), ("spid_dal", "domani")]), &ctx()).unwrap_err(),
    );
    assert_eq!(e[0].1, "Data non valida: «domani». Usare il formato gg/mm/aaaa, ad esempio 28/02/2021.");
    let e = messages(
        validate_online(&fields(&[("nome", "Certificati"), ("cie_dal", "2030-01-01")]), &ctx()).unwrap_err(),
    );
    assert!(e[0].1.contains("è nel futuro"));
}

#[test]
fn a_count_is_a_whole_non_negative_number() {
    let ok =
        validate_count(&fields(&[("piattaforma", "io"), ("giorno", "2021-03-01"), ("attivi", "12")]), &ctx())
            .unwrap();
    assert_eq!(
        ok,
        CountValues {
            platform: Platform::AppIo,
            day: NaiveDate::from_ymd_opt(2021, 3, 1).unwrap(),
            active: 12
        }
    );
    let e = messages(
        validate_count(&fields(&[("piattaforma", "io"), ("giorno", "2021-03-01"), ("attivi", "-3")]), &ctx())
            .unwrap_err(),
    );
    assert_eq!(e, vec![("attivi".into(), "Il numero di servizi attivi non può essere negativo.".into())]);
    let e =
        messages(validate_count(&fields(&[("piattaforma", "fax"), ("attivi", "tre")]), &ctx()).unwrap_err());
    let names: Vec<_> = e.iter().map(|(f, _)| f.as_str()).collect();
    assert_eq!(names, ["piattaforma", "giorno", "attivi"]);
}

#[test]
fn a_rejection_needs_its_reason() {
    let e = messages(
        validate_verification(&fields(&[("obiettivo", "final_io"), ("esito", "respinto")]), &ctx())
            .unwrap_err(),
    );
    assert_eq!(
        e,
        vec![("motivo".into(), "Indicare il motivo del respingimento: il comune lo leggerà.".into())]
    );
    let ok = validate_verification(&fields(&[("obiettivo", "final_io"), ("esito", "confermato")]), &ctx())
        .unwrap();
    assert_eq!(ok.outcome, Outcome::Confermato);
    assert!(
        validate_verification(&fields(&[("obiettivo", "luna"), ("esito", "confermato")]), &ctx()).is_err()
    );
    assert!(validate_decision(&fields(&[("esito", "respingi")])).is_err());
    assert_eq!(validate_decision(&fields(&[("esito", "accetta")])).unwrap(), (true, None));
}

#[test]
fn adhesion_blockers_and_notes() {
    let e = messages(validate_adhesion(&fields(&[("stato", "aderente")]), &ctx()).unwrap_err());
    assert_eq!(e, vec![("data".into(), "Indicare la data di adesione del comune.".into())]);
    let ok = validate_adhesion(&fields(&[("stato", "non_aderente")]), &ctx()).unwrap();
    assert_eq!(ok, AdhesionValues { status: AdhesionStatus::NonAderente, date: None, renunciation: None });
    assert!(validate_adhesion(&fields(&[("stato", "forse")]), &ctx()).is_err());

    let b = validate_blocker(
        &fields(&[
            ("categoria", "delibera"),
            ("descrizione", "Manca la delibera di giunta"),
            ("dal", "2021-01-10"),
        ]),
        &ctx(),
    )
    .unwrap();
    assert_eq!(b.category, BlockerCategory::Delibera);
    let opened = NaiveDate::from_ymd_opt(2021, 1, 10).unwrap();
    let e =
        messages(validate_resolution(&fields(&[("risolto_il", "2021-01-09")]), &ctx(), opened).unwrap_err());
    assert_eq!(e[0].1, "Il blocco è stato aperto il 10/01/2021: la risoluzione non può precederlo.");
    assert!(validate_note(&fields(&[("testo", "   ")])).is_err());
    let long = "x".repeat(4001);
    assert!(validate_note(&fields(&[("testo", &long)])).is_err());
}

#[test]
fn the_adhesion_form_reads_a_dated_renunciation() {
    let base = [("stato", "aderente"), ("data", "2020-10-30")];
    let with = |extra: &[(&str, &str)]| {
        let mut all = base.to_vec();
        all.extend_from_slice(extra);
        validate_adhesion(&fields(&all), &ctx())
    };
    let ok = with(&[("rinuncia", "saldo"), ("data_rinuncia", "2022-05-20")]).unwrap();
    assert_eq!(
        ok.renunciation,
        Some(RenunciationFact {
            kind: Renunciation::Saldo,
            on: NaiveDate::from_ymd_opt(2022, 5, 20).unwrap()
        })
    );
    assert_eq!(with(&[("rinuncia", "nessuna")]).unwrap().renunciation, None);
    let e = messages(with(&[("rinuncia", "contributo")]).unwrap_err());
    assert_eq!(e, vec![("data_rinuncia".into(), "Indicare la data della rinuncia.".into())]);
    let e = messages(with(&[("data_rinuncia", "2022-05-20")]).unwrap_err());
    assert_eq!(e[0].0, "rinuncia");
    assert!(with(&[("rinuncia", "tutto"), ("data_rinuncia", "2022-05-20")]).is_err());
    // After the programme's limit the saldo is refused next to the date; the whole grant is not.
    let e = messages(with(&[("rinuncia", "saldo"), ("data_rinuncia", "2022-05-27")]).unwrap_err());
    assert_eq!(e[0].0, "data_rinuncia");
    assert!(e[0].1.starts_with("La rinuncia al saldo si poteva presentare entro il 26/05/2022"), "{e:?}");
    assert!(with(&[("rinuncia", "contributo"), ("data_rinuncia", "2022-05-27")]).is_ok());
    // Only a supported comune renounces.
    let e = messages(
        validate_adhesion(
            &fields(&[("stato", "non_aderente"), ("rinuncia", "saldo"), ("data_rinuncia", "2022-05-20")]),
            &ctx(),
        )
        .unwrap_err(),
    );
    assert_eq!(e[0].0, "rinuncia");
}

#[test]
fn a_service_form_says_its_platform() {
    let v = validate_service(
        &fields(&[("piattaforma", "io"), ("service_id", "01ABC"), ("nome", "TARI")]),
        &ctx(),
    )
    .unwrap();
    assert_eq!(v.platform(), Platform::AppIo);
    let e = messages(
        validate_service(&fields(&[("piattaforma", "io"), ("service_id", "../x"), ("nome", "")]), &ctx())
            .unwrap_err(),
    );
    assert_eq!(e.len(), 2);
    assert!(validate_service(&fields(&[("piattaforma", "fax")]), &ctx()).is_err());
}
