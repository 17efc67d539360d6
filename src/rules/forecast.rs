//! Forecasts: the day an objective's rule is expected to hold, with a range, from the comune's
//! own history of the rule's measure.
//!
//! **Method.** The measure (active services, services with SPID and CIE, …) is sampled once a
//! week over the last [`WINDOW_DAYS`] before the day of the forecast; its pace is the
//! **Theil–Sen** slope (the median of the slopes between every pair of samples). Counts of
//! services move in steps: a comune activates five services in one afternoon and then nothing
//! for a month, and a late data entry can add a jump. A least-squares line follows such a jump
//! and the noise around it; the median of pairwise slopes ignores up to 29% of wild points and
//! reads a step-wise series as the pace it keeps. The expected day is where the line, anchored at
//! the latest measured value (what the comune has now), meets the value the rule requires.
//!
//! **Range.** Sen's (1968) interval for the slope: the pairwise slopes ranked, cut at
//! `(N ∓ z·σ)/2` where `σ² = n(n−1)(2n+5)/18` is the variance of Kendall's S and `z = 1.645`
//! (90%). The steeper slope gives the earliest day, the flatter the latest; a flatter slope of
//! zero or less means "not at this pace" (no latest day).
//!
//! **Too little history.** With fewer than [`MIN_SAMPLES`] samples (a comune that adhered a few
//! weeks ago, a day early in the programme) the comune's own pace says little; the forecast then
//! takes the **province's pace** (the median of the own slopes of its province's comuni for the
//! same objective, computed by the caller from the same function) and says so.
//!
//! Everything here is a pure function of numbers and days: the caller measures the history
//! (`rules::measure` at each sample day), so the same code serves any programme's rules.

use std::collections::HashMap;

use chrono::{Days, NaiveDate};
use serde::{Deserialize, Serialize};

use super::{ComuneFacts, ComuneOutcome, Objective, Programme};

/// How far back the comune's own pace is read: a quarter (13 weeks). Longer, and the months
/// before a comune started working on an objective flatten the pace it has now.
pub const WINDOW_DAYS: i64 = 91;
/// Days between two samples of the history.
pub const STEP_DAYS: i64 = 7;
/// Fewer samples than this, and the province's pace is used instead of the comune's own.
pub const MIN_SAMPLES: usize = 5;
/// The normal quantile of the range (90%, two-sided).
const Z: f64 = 1.645;

/// Where a forecast's pace comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Method {
    /// The comune's own history (Theil–Sen over its weekly samples).
    OwnTrend,
    /// Too little own history: the median pace of the comuni of its province.
    ProvincePace,
    /// Neither: no pace to project (a single point, no province pace).
    NoPace,
}

/// The pace of a measure: units per day, with its range.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Pace {
    pub per_day: f64,
    /// The flatter end of the range.
    pub low: f64,
    /// The steeper end of the range.
    pub high: f64,
}

/// A forecast for one objective not yet reached.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Forecast {
    pub method: Method,
    /// Units per day used (0 when there is no pace).
    pub per_day: f64,
    /// The day the rule is expected to hold; `None`: not at this pace (no progress).
    pub expected: Option<NaiveDate>,
    /// The earliest day of the range; `None`: not at any pace of the range.
    pub earliest: Option<NaiveDate>,
    /// The latest day of the range; `None`: the flatter end of the range never gets there.
    pub latest: Option<NaiveDate>,
    /// **A rischio**: the expected day falls after the deadline, or there is none.
    pub at_risk: bool,
}

/// The days on which the history is sampled for a forecast made on `as_of`: every
/// [`STEP_DAYS`] back from `as_of` within [`WINDOW_DAYS`], not before `start`, oldest first.
pub fn sample_days(start: NaiveDate, as_of: NaiveDate) -> Vec<NaiveDate> {
    let mut days = Vec::new();
    let mut day = as_of;
    while day >= start && (as_of - day).num_days() <= WINDOW_DAYS {
        days.push(day);
        match day.checked_sub_days(Days::new(STEP_DAYS as u64)) {
            Some(d) => day = d,
            None => break,
        }
    }
    days.reverse();
    days
}

/// The Theil–Sen pace of `history` (day, value) with Sen's 90% range; `None` with fewer than
/// two distinct days.
pub fn theil_sen(history: &[(NaiveDate, f64)]) -> Option<Pace> {
    let mut slopes = Vec::with_capacity(history.len() * history.len().saturating_sub(1) / 2);
    for (i, (d1, v1)) in history.iter().enumerate() {
        for (d2, v2) in &history[i + 1..] {
            let dx = (*d2 - *d1).num_days();
            if dx != 0 {
                slopes.push((v2 - v1) / dx as f64);
            }
        }
    }
    if slopes.is_empty() {
        return None;
    }
    slopes.sort_by(f64::total_cmp);
    let n_pairs = slopes.len();
    let n = history.len() as f64;
    let sigma = (n * (n - 1.0) * (2.0 * n + 5.0) / 18.0).sqrt();
    let c = Z * sigma;
    // 1-based ranks (N − C)/2 and (N + C)/2 + 1, clamped to the slopes there are.
    let rank = |r: f64| (r.round() as i64).clamp(1, n_pairs as i64) as usize - 1;
    let low = slopes[rank((n_pairs as f64 - c) / 2.0)];
    let high = slopes[rank((n_pairs as f64 + c) / 2.0 + 1.0)];
    Some(Pace { per_day: median(&slopes), low, high })
}

/// The median of sorted values (the mean of the middle two for an even count).
fn median(sorted: &[f64]) -> f64 {
    let m = sorted.len() / 2;
    if !sorted.len().is_multiple_of(2) {
        sorted[m]
    } else {
        (sorted[m - 1] + sorted[m]) / 2.0
    }
}

/// The comune's own pace: Theil–Sen over `history` when it has at least [`MIN_SAMPLES`]
/// samples, else `None` (the caller takes the province's pace).
pub fn own_pace(history: &[(NaiveDate, f64)]) -> Option<Pace> {
    if history.len() < MIN_SAMPLES {
        return None;
    }
    theil_sen(history)
}

/// The median of the own paces of a province's comuni (each pace's range too); `None` when
/// none of them has one.
pub fn province_pace(paces: &[Pace]) -> Option<Pace> {
    if paces.is_empty() {
        return None;
    }
    let pick = |f: fn(&Pace) -> f64| {
        let mut v: Vec<f64> = paces.iter().map(f).collect();
        v.sort_by(f64::total_cmp);
        median(&v)
    };
    Some(Pace { per_day: pick(|p| p.per_day), low: pick(|p| p.low), high: pick(|p| p.high) })
}

/// The day a measure now at `current` on `as_of` reaches `required` at `per_day`; `None` when
/// it never does (no progress, or a pace beyond any calendar).
fn day_reached(current: f64, required: f64, per_day: f64, as_of: NaiveDate) -> Option<NaiveDate> {
    if current >= required {
        return Some(as_of);
    }
    if per_day <= 0.0 || !per_day.is_finite() {
        return None;
    }
    let days = ((required - current) / per_day).ceil();
    // Beyond a century is "never" for a programme of a few years.
    if days > 36_500.0 {
        return None;
    }
    as_of.checked_add_days(Days::new(days as u64))
}

/// The forecast for an objective not yet reached: its measure's `history` (weekly samples,
/// oldest first, the last one on `as_of`), the value the rule `required`, the objective's
/// `deadline`, and the province's pace for when the comune's own history is too short.
pub fn forecast(
    history: &[(NaiveDate, f64)],
    required: f64,
    as_of: NaiveDate,
    deadline: NaiveDate,
    province: Option<Pace>,
) -> Forecast {
    let current = history.last().map_or(0.0, |(_, v)| *v);
    let (method, pace) = match (own_pace(history), province) {
        (Some(p), _) => (Method::OwnTrend, Some(p)),
        (None, Some(p)) => (Method::ProvincePace, Some(p)),
        (None, None) => (Method::NoPace, None),
    };
    let at = |per_day: f64| day_reached(current, required, per_day, as_of);
    let (expected, earliest, latest) = match pace {
        Some(p) => (at(p.per_day), at(p.high), at(p.low)),
        None => (None, None, None),
    };
    Forecast {
        method,
        per_day: pace.map_or(0.0, |p| p.per_day),
        expected,
        earliest,
        latest,
        at_risk: expected.is_none_or(|d| d > deadline),
    }
}

/// The forecast of one objective of one comune, with the measure it projects.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ObjectiveForecast {
    pub objective: String,
    /// The measure on the day of the forecast and the value the rule requires then.
    pub current: i64,
    pub required: i64,
    pub deadline: NaiveDate,
    /// The weekly samples the pace was read from (the comune page's chart draws them).
    pub history: Vec<(NaiveDate, f64)>,
    pub forecast: Forecast,
}

/// The first day of a comune's own history for `objective`: the programme's start, or later
/// its adhesion and, for an objective that needs the platform, the day it joined it (before,
/// its measure is zero by construction, not by pace). `None`: it has not joined the platform.
pub fn history_start(programme: &Programme, objective: &Objective, facts: &ComuneFacts) -> Option<NaiveDate> {
    let joined = match objective.platform {
        super::Platform::PagoPa => facts.pagopa_joined,
        super::Platform::AppIo => facts.io_joined,
        super::Platform::SpidCie => Some(programme.start),
    };
    let joined = if objective.requires_platform_adhesion { joined? } else { programme.start };
    Some(programme.start.max(joined).max(facts.adhesion_date.unwrap_or(programme.start)))
}

/// The measure of `objective` for a comune on each of [`sample_days`] from its
/// [`history_start`] up to `as_of` (empty before it).
pub fn history(
    programme: &Programme,
    objective: &Objective,
    facts: &ComuneFacts,
    as_of: NaiveDate,
) -> Vec<(NaiveDate, f64)> {
    let Some(start) = history_start(programme, objective, facts) else { return Vec::new() };
    sample_days(start, as_of)
        .into_iter()
        .map(|d| (d, super::measure(objective, facts, d).value as f64))
        .collect()
}

/// The objectives a forecast is made for on `as_of`: of a supported comune, not reached, with
/// a deadline not yet passed (one past is overdue, not forecast).
pub fn open_objectives<'a>(
    programme: &'a Programme,
    outcome: &'a ComuneOutcome,
    as_of: NaiveDate,
) -> impl Iterator<Item = &'a Objective> + 'a {
    programme.objectives.iter().filter(move |o| {
        outcome.supported
            && o.deadline >= as_of
            && outcome.objectives.iter().any(|r| r.code == o.code && r.reached_on.is_none())
    })
}

/// Weekly samples of a measure: (day, value), oldest first.
type History = Vec<(NaiveDate, f64)>;

/// One comune as the forecasts need it: its province (for the province's pace), facts and
/// outcome on the day of the forecast.
pub struct ForecastInput<'a> {
    pub province: &'a str,
    pub facts: &'a ComuneFacts,
    pub outcome: &'a ComuneOutcome,
}

/// Forecasts for every comune of a programme on `as_of`, in the order of `comuni`: a first pass
/// reads each open objective's history and own pace, the province's pace of each objective is
/// the median of its comuni's own paces, and a second pass projects. Pure, one pass of the rules
/// per sample day; nothing is asked of the database.
pub fn forecast_all(
    programme: &Programme,
    comuni: &[ForecastInput<'_>],
    as_of: NaiveDate,
) -> Vec<Vec<ObjectiveForecast>> {
    let mut paces: HashMap<(&str, &str), Vec<Pace>> = HashMap::new();
    let histories: Vec<Vec<(&Objective, History)>> = comuni
        .iter()
        .map(|c| {
            open_objectives(programme, c.outcome, as_of)
                .map(|o| {
                    let h = history(programme, o, c.facts, as_of);
                    if let Some(p) = own_pace(&h) {
                        paces.entry((c.province, o.code.as_str())).or_default().push(p);
                    }
                    (o, h)
                })
                .collect()
        })
        .collect();
    let province: HashMap<(&str, &str), Pace> =
        paces.iter().filter_map(|(k, v)| province_pace(v).map(|p| (*k, p))).collect();
    comuni
        .iter()
        .zip(histories)
        .map(|(c, objectives)| {
            objectives
                .into_iter()
                .filter_map(|(o, h)| {
                    // The outcome measured it on the day already (`open_objectives` found it there).
                    let progress = &c.outcome.objectives.iter().find(|r| r.code == o.code)?.progress;
                    let pace = province.get(&(c.province, o.code.as_str())).copied();
                    Some(ObjectiveForecast {
                        objective: o.code.clone(),
                        current: progress.value,
                        required: progress.required,
                        deadline: o.deadline,
                        forecast: forecast(&h, progress.required as f64, as_of, o.deadline, pace),
                        history: h,
                    })
                })
                .collect()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    /// Weekly samples ending on `end`, one per value.
    fn weekly(end: NaiveDate, values: &[f64]) -> Vec<(NaiveDate, f64)> {
        let n = values.len() as u64;
        values.iter().enumerate().map(|(i, v)| (end - Days::new(7 * (n - 1 - i as u64)), *v)).collect()
    }

    const AS_OF: (i32, u32, u32) = (2021, 10, 31);

    fn as_of() -> NaiveDate {
        day(AS_OF.0, AS_OF.1, AS_OF.2)
    }

    #[test]
    fn the_samples_are_weekly_within_the_window_and_not_before_the_start() {
        let days = sample_days(day(2020, 12, 15), as_of());
        assert_eq!(days.len(), 14, "13 weeks back and the day itself");
        assert_eq!(days.last(), Some(&as_of()));
        assert_eq!(days[0], as_of() - Days::new(91));
        assert!(days.windows(2).all(|w| (w[1] - w[0]).num_days() == 7));
        // Three weeks after the start: four samples, the first on or after the start.
        let early = sample_days(day(2020, 12, 15), day(2021, 1, 5));
        assert_eq!(early, vec![day(2020, 12, 15), day(2020, 12, 22), day(2020, 12, 29), day(2021, 1, 5)]);
        assert!(sample_days(day(2021, 1, 6), day(2021, 1, 5)).is_empty());
    }

    /// A flat history: no pace, so no day; a rischio.
    #[test]
    fn flat_history_has_no_expected_day_and_is_at_risk() {
        let h = weekly(as_of(), &[3.0; 14]);
        let f = forecast(&h, 10.0, as_of(), day(2021, 12, 31), None);
        assert_eq!(f.method, Method::OwnTrend);
        assert_eq!(f.per_day, 0.0);
        assert_eq!((f.expected, f.latest), (None, None));
        assert!(f.at_risk);
    }

    /// A linear history of one service a week: 7 more services take 49 days.
    #[test]
    fn linear_history_projects_its_own_pace() {
        let values: Vec<f64> = (0..14).map(f64::from).collect();
        let h = weekly(as_of(), &values);
        let f = forecast(&h, 20.0, as_of(), day(2021, 12, 31), None);
        assert!((f.per_day - 1.0 / 7.0).abs() < 1e-12, "{}", f.per_day);
        assert_eq!(f.expected, Some(as_of() + Days::new(49)));
        // Every pairwise slope is the same: the range is that day too.
        assert_eq!((f.earliest, f.latest), (f.expected, f.expected));
        assert!(!f.at_risk, "19/12/2021 is before 31/12/2021");
        // The same pace with a deadline a week earlier: a rischio.
        assert!(forecast(&h, 20.0, as_of(), day(2021, 12, 12), None).at_risk);
    }

    /// Noise around one service a week: the pace stays near it, and the range holds it.
    #[test]
    fn noisy_history_keeps_the_pace_and_widens_the_range() {
        let noise = [0.0, 2.0, -1.0, 1.0, -2.0, 0.0, 1.0, -1.0, 2.0, 0.0, -2.0, 1.0, 0.0, -1.0];
        let values: Vec<f64> = noise.iter().enumerate().map(|(i, e)| 10.0 + i as f64 + e).collect();
        let h = weekly(as_of(), &values);
        let pace = theil_sen(&h).unwrap();
        assert!((pace.per_day * 7.0 - 1.0).abs() < 0.15, "{} a week", pace.per_day * 7.0);
        assert!(pace.low < pace.per_day && pace.per_day < pace.high, "{pace:?}");
        assert!(pace.low * 7.0 > 0.5 && pace.high * 7.0 < 1.5, "{pace:?}");
        let f = forecast(&h, 40.0, as_of(), day(2021, 12, 31), None);
        let (e, x, l) = (f.earliest.unwrap(), f.expected.unwrap(), f.latest.unwrap());
        assert!(e < x && x < l, "{e} {x} {l}");
    }

    /// A jump in the last week (a late data entry) does not make a pace: the median of the
    /// pairwise slopes ignores it, where a least-squares line would not.
    #[test]
    fn a_single_jump_is_not_a_pace() {
        let mut values = vec![2.0; 13];
        values.push(9.0);
        let h = weekly(as_of(), &values);
        let pace = theil_sen(&h).unwrap();
        assert_eq!(pace.per_day, 0.0);
        let f = forecast(&h, 10.0, as_of(), day(2021, 12, 31), None);
        assert_eq!(f.expected, None);
        assert!(f.at_risk);
        // A jump among steady progress: the pace is the steady one.
        let mut steady: Vec<f64> = (0..14).map(|i| i as f64 * 2.0).collect();
        steady[6] += 15.0;
        let pace = theil_sen(&weekly(as_of(), &steady)).unwrap();
        assert!((pace.per_day * 7.0 - 2.0).abs() < 1e-9, "{} a week", pace.per_day * 7.0);
    }

    /// A single point: no own pace; with the province's pace, that one, said so.
    #[test]
    fn a_single_point_takes_the_province_pace_or_none() {
        let h = vec![(as_of(), 4.0)];
        assert_eq!(theil_sen(&h), None);
        let none = forecast(&h, 10.0, as_of(), day(2021, 12, 31), None);
        assert_eq!((none.method, none.expected, none.at_risk), (Method::NoPace, None, true));
        let province = Pace { per_day: 0.5, low: 0.25, high: 1.0 };
        let f = forecast(&h, 10.0, as_of(), day(2021, 12, 31), Some(province));
        assert_eq!(f.method, Method::ProvincePace);
        assert_eq!(f.expected, Some(as_of() + Days::new(12)));
        assert_eq!(f.earliest, Some(as_of() + Days::new(6)));
        assert_eq!(f.latest, Some(as_of() + Days::new(24)));
        assert!(!f.at_risk);
    }

    /// Four samples are too few for an own pace, however clean.
    #[test]
    fn too_short_a_history_takes_the_province_pace() {
        let h = weekly(as_of(), &[0.0, 1.0, 2.0, 3.0]);
        assert_eq!(own_pace(&h), None);
        let f =
            forecast(&h, 10.0, as_of(), day(2021, 12, 31), Some(Pace { per_day: 1.0, low: 1.0, high: 1.0 }));
        assert_eq!((f.method, f.expected), (Method::ProvincePace, Some(as_of() + Days::new(7))));
    }

    #[test]
    fn the_province_pace_is_the_median_of_its_comuni() {
        let p = |x: f64| Pace { per_day: x, low: x / 2.0, high: x * 2.0 };
        let pace = province_pace(&[p(0.1), p(5.0), p(0.3)]).unwrap();
        assert_eq!(pace, p(0.3));
        assert_eq!(province_pace(&[]), None);
        let even = province_pace(&[p(0.2), p(0.4)]).unwrap();
        assert!((even.per_day - 0.3).abs() < 1e-12);
    }

    /// A measure already at the value required is expected today (the caller forecasts only
    /// objectives not yet reached, but a rule may need more than the value: adhesion).
    #[test]
    fn a_measure_already_there_is_expected_on_the_day() {
        let h = weekly(as_of(), &[5.0; 6]);
        let f = forecast(&h, 5.0, as_of(), day(2021, 12, 31), None);
        assert_eq!(
            (f.expected, f.earliest, f.latest, f.at_risk),
            (Some(as_of()), Some(as_of()), Some(as_of()), false)
        );
    }

    /// A falling measure (services switched off) has no day.
    #[test]
    fn a_falling_measure_is_at_risk() {
        let values: Vec<f64> = (0..10).map(|i| 20.0 - i as f64).collect();
        let f = forecast(&weekly(as_of(), &values), 25.0, as_of(), day(2021, 12, 31), None);
        assert!(f.per_day < 0.0);
        assert_eq!(f.expected, None);
        assert!(f.at_risk);
    }

    /// On the real programme: a comune publishing an App IO service every two weeks since August has an
    /// own pace and a day for "full IO"; a comune of the same province that joined App IO two
    /// weeks ago takes the province's pace (and is a rischio at it); one of another province with no services has a flat
    /// pace of its own.
    /// Reached and overdue objectives get no forecast.
    #[test]
    fn forecast_all_on_the_programme_uses_own_then_province_pace() {
        use crate::rules::{evaluate, tests as rt, IoService};
        let programme = rt::fondo_innovazione();
        let as_of = day(2021, 10, 31);
        let every = |first: NaiveDate, weeks: u64, n: u64| -> Vec<IoService> {
            (0..n)
                .map(|i| IoService {
                    published_since: Some(first + Days::new(7 * weeks * i)),
                    ..Default::default()
                })
                .collect()
        };
        // One service every two weeks from 01/08/2021: 7 by 31/10 (samples 1, 1, 2, 2, … 7, 7).
        let steady = ComuneFacts { io: every(day(2021, 8, 1), 2, 7), ..rt::aderente() };
        let late = ComuneFacts {
            io_joined: Some(day(2021, 10, 17)),
            io: every(day(2021, 10, 24), 1, 2),
            ..rt::aderente()
        };
        let elsewhere = rt::aderente();
        let facts = [steady, late, elsewhere];
        let outcomes: Vec<_> = facts.iter().map(|f| evaluate(&programme, f, as_of)).collect();
        let input: Vec<ForecastInput<'_>> = facts
            .iter()
            .zip(&outcomes)
            .zip(["LE", "LE", "BA"])
            .map(|((facts, outcome), province)| ForecastInput { province, facts, outcome })
            .collect();
        let all = forecast_all(&programme, &input, as_of);
        let io = |i: usize| all[i].iter().find(|f| f.objective == "final_io").unwrap();
        // Step-1 objectives are overdue on 31/10/2021: no forecast, only final ones.
        assert!(all.iter().flatten().all(|f| f.deadline == day(2021, 12, 31)), "{all:?}");
        let steady = io(0);
        assert_eq!((steady.current, steady.required), (7, 10));
        assert_eq!(steady.forecast.method, Method::OwnTrend);
        assert!((steady.forecast.per_day - 1.0 / 14.0).abs() < 1e-12, "{}", steady.forecast.per_day);
        // 3 more at one every 14 days: 42 days.
        assert_eq!(steady.forecast.expected, Some(day(2021, 12, 12)));
        assert!(!steady.forecast.at_risk);
        assert_eq!(steady.history.len(), 14);
        // No SPID service ever: an own pace of zero, a rischio.
        let spid = all[2].iter().find(|f| f.objective == "final_spid_cie").unwrap();
        assert!(spid.forecast.at_risk);
        // Joined App IO on 17/10: three samples, too few; Lecce's pace (the steady comune's)
        // from its 2 services: 8 more at that pace.
        let late = io(1);
        assert_eq!((late.history.len(), late.current), (3, 2));
        assert_eq!(late.forecast.method, Method::ProvincePace);
        assert_eq!(late.forecast.per_day, steady.forecast.per_day);
        // 8 more at one every 14 days: 112 days, 20/02/2022, after the deadline.
        assert_eq!(late.forecast.expected, Some(day(2022, 2, 20)));
        assert!(late.forecast.at_risk);
        // Bari's comune has no services: a flat pace of its own, no day, a rischio.
        let flat = io(2);
        assert_eq!(
            (flat.forecast.method, flat.forecast.expected, flat.forecast.at_risk),
            (Method::OwnTrend, None, true)
        );
    }
}
