//! Scale benchmark: the rules over a synthetic national programme (all 7,896 Italian comuni,
//! about 40 pagoPA, 15 App IO and 4 online services each), in memory, to size the snapshot that
//! every page reads. Prints evaluation time and the memory the snapshot holds.
//!
//! `cargo bench --features ssr --bench scale` (or `make bench`).

use std::time::Instant;

use chrono::{Days, NaiveDate};
use traguardi::{
    data::facts::ComuneRecord,
    evaluation::Snapshot,
    rules::{
        AdhesionStatus, ComuneFacts, EvidenceFact, FundingBand, IoService, Objective, OnlineService,
        PagoPaService, Platform, Programme, ReviewOutcome, RuleKind, Step,
    },
};

const COMUNI: usize = 7_896;

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("date")
}

fn programme() -> Programme {
    let objective = |code: &str, step: &str, platform, rule, threshold, deadline| Objective {
        code: code.into(),
        step: step.into(),
        platform,
        rule,
        threshold,
        threshold_if_already_on: (code == "step1_pagopa").then_some(2),
        new_since: (code == "step1_pagopa").then(|| day(2020, 12, 15)),
        requires_platform_adhesion: platform != Platform::SpidCie,
        deadline,
        description: code.into(),
        confirmed_by_source: true,
    };
    let (d1, d2) = (day(2021, 2, 28), day(2021, 12, 31));
    Programme {
        code: "bench".into(),
        name: "bench".into(),
        start: day(2020, 12, 15),
        end: d2,
        steps: vec![
            Step {
                code: "primo_step".into(),
                name: "Primo step".into(),
                order: 1,
                deadline: d1,
                share_percent: 20,
                renounce_by: None,
            },
            Step {
                code: "finale".into(),
                name: "Finale".into(),
                order: 2,
                deadline: d2,
                share_percent: 80,
                renounce_by: Some(day(2022, 5, 26)),
            },
        ],
        objectives: vec![
            objective("step1_pagopa", "primo_step", Platform::PagoPa, RuleKind::MinServices, 1, d1),
            objective("step1_io", "primo_step", Platform::AppIo, RuleKind::MinServices, 1, d1),
            objective("step1_spid", "primo_step", Platform::SpidCie, RuleKind::MinServices, 1, d1),
            objective("final_pagopa", "finale", Platform::PagoPa, RuleKind::ShareOfApplicable, 70, d2),
            objective("final_io", "finale", Platform::AppIo, RuleKind::MinServices, 10, d2),
            objective("final_spid_cie", "finale", Platform::SpidCie, RuleKind::AllServicesSpidAndCie, 0, d2),
        ],
        bands: vec![FundingBand { min_population: 0, max_population: None, amount_eur: 7_950 }],
    }
}

fn records() -> Vec<ComuneRecord> {
    let base = day(2020, 12, 16);
    (0..COMUNI)
        .map(|i| {
            let at = |k: usize| Some(base + Days::new(((i * 7 + k * 13) % 400) as u64));
            ComuneRecord {
                codice_istat: format!("{:06}", i + 1),
                denominazione: format!("Comune {i}"),
                sigla_provincia: "XX".into(),
                provincia: "Provincia".into(),
                codice_catastale: format!("Z{i:03}"),
                codice_ipa: format!("c_z{i:03}"),
                popolazione: 1_000 + (i as i64 * 37) % 90_000,
                counts_over_time: Vec::new(),
                open_blockers: 0,
                facts: ComuneFacts {
                    population: 1_000 + (i as i64 * 37) % 90_000,
                    adhesion: if i % 10 < 9 { AdhesionStatus::Aderente } else { AdhesionStatus::NonAderente },
                    adhesion_date: Some(day(2021, 1, 10)),
                    pagopa_joined: Some(day(2019, 5, 1)),
                    io_joined: Some(day(2021, 1, 5)),
                    io_via_region: i % 3 == 0,
                    pagopa: (0..40)
                        .map(|k| PagoPaService {
                            applicable: k < 37,
                            // Dated like the real rows, so the bench pays for the day checks.
                            applicable_since: (k < 37).then(|| day(2020, 12, 15)),
                            active_since: if k % 5 == 4 { None } else { at(k) },
                            deactivated_on: None,
                            on_mypay: true,
                            code_valid_from: None,
                            code_valid_to: None,
                        })
                        .collect(),
                    io: (0..15).map(|k| IoService { published_since: at(k), withdrawn_on: None }).collect(),
                    online: (0..4)
                        .map(|k| OnlineService {
                            online_since: Some(day(2020, 12, 15)),
                            spid_since: at(k),
                            cie_since: at(k + 9),
                        })
                        .collect(),
                    // Half the comuni have evidence for the first-step pagoPA objective, most
                    // of it reviewed positive.
                    evidence: (i % 2 == 0)
                        .then(|| EvidenceFact {
                            objective: "step1_pagopa".into(),
                            versions: 1 + (i as i64 % 3),
                            latest_review: (i % 8 != 0).then_some(ReviewOutcome::Positivo),
                        })
                        .into_iter()
                        .collect(),
                    renunciation: None,
                },
            }
        })
        .collect()
}

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("VmRSS:"))?.split_whitespace().nth(1)?.parse().ok())
        .unwrap_or(0)
}

fn main() {
    let as_of = day(2026, 11, 26);
    let before = rss_kib();
    let records = records();
    let loaded = rss_kib();
    let mut timings = Vec::new();
    let mut snapshot = None;
    for _ in 0..5 {
        let input = records.clone();
        let t = Instant::now();
        let s = Snapshot::evaluate(programme(), input, as_of, 1, false);
        timings.push(t.elapsed());
        snapshot = Some(s);
    }
    let snapshot = snapshot.expect("five runs");
    let t = Instant::now();
    let summary = snapshot.summary(&Default::default());
    let summary_time = t.elapsed();
    timings.sort();
    println!("Traguardi scale benchmark: {COMUNI} comuni, {} services", COMUNI * (40 + 15 + 4));
    println!(
        "rules over every comune: median {:.1} ms (min {:.1}, max {:.1}) over 5 runs",
        timings[2].as_secs_f64() * 1e3,
        timings[0].as_secs_f64() * 1e3,
        timings[4].as_secs_f64() * 1e3
    );
    println!("headline figures from the snapshot: {:.2} ms", summary_time.as_secs_f64() * 1e3);
    println!(
        "memory: facts {} MiB, process after evaluation {} MiB (RSS)",
        (loaded.saturating_sub(before)) / 1024,
        rss_kib() / 1024
    );
    println!(
        "check: {} supported, {} reached step 1 on time",
        summary.supportati, summary.primo_step_in_tempo
    );
}
