//! The forecasts checked against what happened: forecasts made on an earlier day (a snapshot as
//! of that day) against the outcome on the last deadline (a snapshot as of that day). The
//! question a manager asks of a warning is whether it was worth acting on: of the comuni flagged
//! *a rischio*, how many did miss; of those that missed, how many were never flagged.

use chrono::NaiveDate;

use crate::{evaluation::Snapshot, format};

/// The outcome of the forecasts of one day, at the level of objectives and of comuni.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Backtest {
    pub forecast_day: NaiveDate,
    pub outcome_day: NaiveDate,
    pub objectives: Tally,
    pub comuni: Tally,
}

/// Forecasts made, flagged *a rischio*, missed, and their crossings.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Tally {
    /// Objectives (or comuni with at least one objective) forecast.
    pub forecast: usize,
    pub flagged: usize,
    /// Flagged, and missed by the deadline (a warning that was right).
    pub flagged_missed: usize,
    /// Missed by the deadline, flagged or not.
    pub missed: usize,
    /// Missed without having been flagged (a warning that never came).
    pub missed_unflagged: usize,
}

impl Tally {
    fn add(&mut self, flagged: bool, missed: bool) {
        self.forecast += 1;
        self.flagged += usize::from(flagged);
        self.missed += usize::from(missed);
        self.flagged_missed += usize::from(flagged && missed);
        self.missed_unflagged += usize::from(missed && !flagged);
    }
}

/// Compares the forecasts of `at` with the outcome in `end` (a snapshot as of a day on or after
/// every forecast objective's deadline): an objective is missed when it was not reached by its
/// deadline. A comune counts once: flagged when any of its objectives was, missed when any
/// was missed.
pub fn backtest(at: &Snapshot, end: &Snapshot) -> Backtest {
    let mut result = Backtest { forecast_day: at.as_of, outcome_day: end.as_of, ..Default::default() };
    for e in &at.comuni {
        if e.forecasts.is_empty() {
            continue;
        }
        let later = end.find(&e.record.codice_istat);
        let (mut flagged_any, mut missed_any) = (false, false);
        for f in &e.forecasts {
            let on_time = later
                .and_then(|l| l.outcome.objectives.iter().find(|o| o.code == f.objective))
                .is_some_and(|o| o.on_time);
            let missed = !on_time;
            result.objectives.add(f.forecast.at_risk, missed);
            flagged_any |= f.forecast.at_risk;
            missed_any |= missed;
        }
        result.comuni.add(flagged_any, missed_any);
    }
    result
}

/// The backtest in words, for the terminal (`traguardi previsioni --verifica`).
pub fn report(runs: &[Backtest]) -> String {
    let mut out = String::new();
    for b in runs {
        out.push_str(&format!(
            "Previsioni al {} confrontate con l'esito al {}\n",
            format::date(b.forecast_day),
            format::date(b.outcome_day)
        ));
        for (what, t) in [("comuni", b.comuni), ("obiettivi", b.objectives)] {
            out.push_str(&format!(
                "  {what}: {} con previsione, {} «a rischio», di cui {} mancati ({}); {} mancati in tutto, {} senza essere stati segnalati\n",
                t.forecast,
                t.flagged,
                t.flagged_missed,
                format::percent(t.flagged_missed as i64, t.flagged as i64),
                t.missed,
                t.missed_unflagged,
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use chrono::Days;

    use super::*;
    use crate::{
        data::facts::ComuneRecord,
        rules::{tests as rt, ComuneFacts, IoService, OnlineService},
    };

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    fn record(code: &str, province: &str, facts: ComuneFacts) -> ComuneRecord {
        ComuneRecord {
            codice_istat: code.into(),
            denominazione: format!("Comune {code}"),
            sigla_provincia: province.into(),
            provincia: province.into(),
            codice_catastale: String::new(),
            codice_ipa: String::new(),
            popolazione: facts.population,
            facts,
            counts_over_time: Vec::new(),
            open_blockers: 0,
        }
    }

    /// App IO services one every `weeks` weeks from `first`, `n` of them.
    fn every(first: NaiveDate, weeks: u64, n: u64) -> Vec<IoService> {
        (0..n)
            .map(|i| IoService {
                published_since: Some(first + Days::new(7 * weeks * i)),
                ..Default::default()
            })
            .collect()
    }

    /// Four comuni seen on 31/10/2021 and on 31/12/2021 for "full IO" (10 services), each with
    /// every other final objective reached (SPID/CIE and pagoPA done in January), so that only
    /// App IO is forecast:
    /// - 001 keeps its pace of one service every two weeks (7 → 10 by 12/12): not flagged, on time;
    /// - 002 was flat at 3, then published 7 in December: flagged, yet on time (a false alarm);
    /// - 003 was flat at 2 and stayed so: flagged and missed (a warning that was right);
    /// - 004 had the pace (one a fortnight) and then stopped after 31/10: missed, not flagged.
    #[test]
    fn the_backtest_counts_flags_and_misses() {
        let programme = rt::fondo_innovazione();
        // Both online services with SPID and CIE since June: the final SPID/CIE objective is
        // reached, as are pagoPA's (January).
        let both = OnlineService {
            online_since: None,
            spid_since: Some(day(2021, 2, 10)),
            cie_since: Some(day(2021, 6, 1)),
        };
        let done = |io: Vec<IoService>| ComuneFacts {
            io,
            online: vec![both.clone(), both.clone()],
            ..rt::full_success()
        };
        let steady = every(day(2021, 8, 1), 2, 10);
        let mut late_burst = every(day(2021, 1, 20), 1, 3);
        late_burst.extend((0..7).map(|i| IoService {
            published_since: Some(day(2021, 12, 1) + Days::new(i)),
            ..Default::default()
        }));
        let flat = every(day(2021, 1, 20), 1, 2);
        let stopped = every(day(2021, 8, 1), 2, 7);
        let records = || {
            vec![
                record("001", "LE", done(steady.clone())),
                record("002", "LE", done(late_burst.clone())),
                record("003", "BA", done(flat.clone())),
                record("004", "BA", done(stopped.clone())),
            ]
        };
        let at = Snapshot::evaluate(programme.clone(), records(), day(2021, 10, 31), 1, true);
        let end = Snapshot::evaluate(programme, records(), day(2021, 12, 31), 1, true);
        let only_io = at.comuni.iter().all(|e| e.forecasts.iter().all(|f| f.objective == "final_io"));
        assert!(only_io, "{:?}", at.comuni.iter().map(|e| &e.forecasts).collect::<Vec<_>>());
        let b = backtest(&at, &end);
        let want = Tally { forecast: 4, flagged: 2, flagged_missed: 1, missed: 2, missed_unflagged: 1 };
        assert_eq!(b.comuni, want);
        assert_eq!(b.objectives, want);
        let words = report(&[b]);
        assert!(words.contains("Previsioni al 31/10/2021 confrontate con l'esito al 31/12/2021"), "{words}");
        assert!(words.contains("comuni: 4 con previsione, 2 «a rischio», di cui 1 mancati"), "{words}");
        assert!(words.contains("2 mancati in tutto, 1 senza essere stati segnalati"), "{words}");
    }
}
