//! The demo generator alone (no database): determinism and the shape of what it writes. The
//! figures it must produce through the rules are tested end to end in `tests/`.

use super::*;
use crate::data::registry;

fn programme() -> Programme {
    use crate::rules::{FundingBand, Step};
    Programme {
        code: "fondo-innovazione-2020".into(),
        name: "Fondo Innovazione 2020-2021".into(),
        start: ymd(2020, 12, 15),
        end: ymd(2021, 12, 31),
        steps: vec![
            Step {
                code: "primo_step".into(),
                name: "Primo step".into(),
                order: 1,
                deadline: ymd(2021, 2, 28),
                share_percent: 20,
                renounce_by: None,
            },
            Step {
                code: "finale".into(),
                name: "Obiettivi finali".into(),
                order: 2,
                deadline: ymd(2021, 12, 31),
                share_percent: 80,
                renounce_by: Some(ymd(2022, 5, 26)),
            },
        ],
        objectives: vec![],
        bands: vec![FundingBand { min_population: 0, max_population: None, amount_eur: 3900 }],
    }
}

#[test]
fn generation_is_deterministic() {
    let rows = registry::rows();
    let a = generate(&rows, &programme());
    let b = generate(&rows, &programme());
    assert_eq!(a.adhesions, b.adhesions);
    assert_eq!(a.pagopa.len(), b.pagopa.len());
    assert!(a
        .pagopa
        .iter()
        .zip(&b.pagopa)
        .all(|(x, y)| x.code == y.code && x.active_since == y.active_since));
    assert_eq!(a.counts, b.counts);
}

#[test]
fn every_comune_gets_an_adhesion_row_and_the_press_release_counts() {
    let data = generate(&registry::rows(), &programme());
    assert_eq!(data.adhesions.len(), 257);
    let count = |s: AdhesionStatus| data.adhesions.iter().filter(|a| a.1 == s).count();
    assert_eq!(count(AdhesionStatus::Aderente), 133);
    assert_eq!(count(AdhesionStatus::AderenteInRitardo), 7);
    assert_eq!(count(AdhesionStatus::NonAderente), 117);
    assert!(data.adhesions.iter().all(|(_, s, d)| s.is_supported() == d.is_some()));
}

#[test]
fn demo_taxonomy_codes_have_the_official_shape_in_an_unused_macro_area() {
    let data = generate(&registry::rows(), &programme());
    for (code, description) in &data.taxonomy {
        assert!(crate::rules::is_taxonomy_code(code), "{code}");
        // Macro area 99, which the official taxonomy does not use: never mistaken for a real code.
        assert!(code.starts_with("9/0199"), "{code}");
        assert!(!description.is_empty());
    }
}

#[test]
fn counts_follow_the_service_rows() {
    let data = generate(&registry::rows(), &programme());
    // The last month-end counted (30/06/2022) sees every activation of the dataset.
    let last = data.counts.iter().map(|c| c.2).max().unwrap();
    let pagopa_last: i64 =
        data.counts.iter().filter(|c| c.1 == Platform::PagoPa && c.2 == last).map(|c| c.3).sum();
    let active = data.pagopa.iter().filter(|s| s.active_since.is_some_and(|d| d <= last)).count() as i64;
    assert_eq!(pagopa_last, active);
    let io_last: i64 =
        data.counts.iter().filter(|c| c.1 == Platform::AppIo && c.2 == last).map(|c| c.3).sum();
    assert_eq!(io_last, data.io.len() as i64);
}
