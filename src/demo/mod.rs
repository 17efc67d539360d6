//! The demo dataset: deterministic service rows from which the rules compute the figures of the
//! Region's press release.
//!
//! Only the totals follow the press release. Which comuni adhered is real for the 14 of Taranto
//! and illustrative elsewhere; services, dates and most taxonomy codes are made up (the codes
//! are stored with origin `demo`). The generator never writes a total: it writes adhesions,
//! platform memberships and services shaped so that the rules, applied to them, give
//! 106 / 130 / 120 and the MyPay and App IO figures. The integration tests and `traguardi check`
//! verify that on every change.

use std::collections::BTreeMap;

use anyhow::Context;
use chrono::{Days, NaiveDate};
use rand::{seq::SliceRandom, Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::{
    data::{
        audit::{Action, Change, NewEntry, WriteTx},
        on_db, programme,
        registry::RegistryRow,
        Db,
    },
    rules::{AdhesionStatus, Platform, Programme},
};

mod names;

/// The 14 adherents of the province of Taranto, named in the press coverage (domain.md §2).
/// ISTAT spells "San Giorgio Ionico" (the press: "Jonico").
pub const TARANTO_ADERENTI: [&str; 14] = [
    "Carosino",
    "Faggiano",
    "Fragagnano",
    "Ginosa",
    "Laterza",
    "Lizzano",
    "Martina Franca",
    "Massafra",
    "Monteiasi",
    "Montemesola",
    "San Giorgio Ionico",
    "Statte",
    "Taranto",
    "Torricella",
];

/// Adherents per province other than Taranto (press release).
const ADERENTI_PER_PROVINCIA: [(&str, usize); 5] = [("BA", 11), ("BR", 9), ("BT", 7), ("FG", 27), ("LE", 65)];
const IN_RITARDO: usize = 7;

/// How many supported comuni follow each path. Step 1 on time = 100 + 6 = 106; step 1 at all =
/// 130; all objectives by the final deadline = 100 + 20 = 120 of 140.
const PROFILES: [(Profile, usize); 5] = [
    (Profile::AllOnTime, 100),
    (Profile::Step1OnlyOnTime, 6),
    (Profile::Step1LateFinalOnTime, 20),
    (Profile::Step1LateOnly, 4),
    (Profile::NoStep, 10),
];

/// Active pagoPA services on MyPay at the end of the project, and how many of them were activated
/// during it (press release: "over 3,500", "2,200").
const ACTIVE_AT_END: i64 = 3_540;
const ACTIVATED_IN_PROJECT: i64 = 2_224;
/// Comuni on App IO through the Region.
const IO_VIA_REGION: usize = 90;
const SEED: u64 = 20_201_215;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Profile {
    AllOnTime,
    Step1OnlyOnTime,
    Step1LateFinalOnTime,
    Step1LateOnly,
    NoStep,
}

impl Profile {
    fn step1_on_time(self) -> bool {
        matches!(self, Profile::AllOnTime | Profile::Step1OnlyOnTime)
    }
    fn final_on_time(self) -> bool {
        matches!(self, Profile::AllOnTime | Profile::Step1LateFinalOnTime)
    }
    fn on_io(self) -> bool {
        self != Profile::NoStep
    }
}

/// Which final objective a comune misses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Miss {
    None,
    PagoPa,
    Io,
}

/// Rows of the demo dataset, ready to insert.
#[derive(Clone, Debug, Default)]
pub struct DemoData {
    pub adhesions: Vec<(String, AdhesionStatus, Option<NaiveDate>)>,
    pub memberships: Vec<(String, Platform, NaiveDate, bool)>,
    pub taxonomy: Vec<(String, String)>,
    pub pagopa: Vec<DemoPagoPa>,
    pub io: Vec<DemoIo>,
    pub online: Vec<DemoOnline>,
    pub counts: Vec<(String, Platform, NaiveDate, i64)>,
}

#[derive(Clone, Debug)]
pub struct DemoPagoPa {
    pub comune: String,
    pub code: String,
    pub applicable: bool,
    pub active_since: Option<NaiveDate>,
}

#[derive(Clone, Debug)]
pub struct DemoIo {
    pub comune: String,
    pub service_id: String,
    pub name: String,
    pub published_since: NaiveDate,
}

#[derive(Clone, Debug)]
pub struct DemoOnline {
    pub comune: String,
    pub name: String,
    pub spid_since: Option<NaiveDate>,
    pub cie_since: Option<NaiveDate>,
}

fn ymd(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("valid date")
}

/// A uniformly drawn day in `from..=to`.
fn between(rng: &mut ChaCha8Rng, from: NaiveDate, to: NaiveDate) -> NaiveDate {
    let span = (to - from).num_days().max(0) as u64;
    from + Days::new(rng.random_range(0..=span))
}

/// Builds the dataset from the registry. Pure and deterministic: same input, same rows.
pub fn generate(registry: &[RegistryRow], programme: &Programme) -> DemoData {
    let mut rng = ChaCha8Rng::seed_from_u64(SEED);
    let start = programme.start;
    let step1 = programme.first_step().map(|s| s.deadline).unwrap_or(ymd(2021, 2, 28));
    let end = programme.end;

    // 1. Who adheres.
    let mut status: BTreeMap<&str, AdhesionStatus> =
        registry.iter().map(|r| (r.codice_istat.as_str(), AdhesionStatus::NonAderente)).collect();
    for name in TARANTO_ADERENTI {
        let r = registry
            .iter()
            .find(|r| r.sigla_provincia == "TA" && r.denominazione == name)
            .unwrap_or_else(|| panic!("{name} is missing from the registry"));
        status.insert(&r.codice_istat, AdhesionStatus::Aderente);
    }
    for (sigla, n) in ADERENTI_PER_PROVINCIA {
        let mut pool: Vec<&RegistryRow> = registry.iter().filter(|r| r.sigla_provincia == sigla).collect();
        pool.shuffle(&mut rng);
        for r in pool.into_iter().take(n) {
            status.insert(&r.codice_istat, AdhesionStatus::Aderente);
        }
    }
    let mut others: Vec<&str> =
        status.iter().filter(|(_, s)| **s == AdhesionStatus::NonAderente).map(|(c, _)| *c).collect();
    others.shuffle(&mut rng);
    for code in others.into_iter().take(IN_RITARDO) {
        status.insert(code, AdhesionStatus::AderenteInRitardo);
    }

    let mut data = DemoData { taxonomy: names::demo_taxonomy(), ..DemoData::default() };
    let mut supported: Vec<&RegistryRow> =
        registry.iter().filter(|r| status[r.codice_istat.as_str()].is_supported()).collect();
    for r in registry {
        let s = status[r.codice_istat.as_str()];
        let date = match s {
            AdhesionStatus::Aderente => Some(between(&mut rng, ymd(2020, 12, 18), ymd(2021, 1, 15))),
            AdhesionStatus::AderenteInRitardo => Some(between(&mut rng, ymd(2021, 1, 20), ymd(2021, 2, 8))),
            _ => None,
        };
        data.adhesions.push((r.codice_istat.clone(), s, date));
    }

    // 2. Each supported comune's path through the programme.
    supported.shuffle(&mut rng);
    let mut plan: Vec<(&RegistryRow, Profile, Miss)> = Vec::with_capacity(supported.len());
    let mut it = supported.into_iter();
    for (profile, n) in PROFILES {
        for (i, r) in it.by_ref().take(n).enumerate() {
            let miss = match profile {
                Profile::Step1OnlyOnTime | Profile::Step1LateOnly if i % 2 == 0 => Miss::PagoPa,
                Profile::Step1OnlyOnTime | Profile::Step1LateOnly => Miss::Io,
                _ => Miss::None,
            };
            plan.push((r, profile, miss));
        }
    }
    plan.sort_by(|a, b| a.0.codice_istat.cmp(&b.0.codice_istat));

    // 3. pagoPA: how many applicable services, how many active, how many from before the project.
    struct PagoPlan {
        applicable: i64,
        active: i64,
        before: i64,
        prior: bool,
        joined: NaiveDate,
    }
    let mut pago: Vec<PagoPlan> = plan
        .iter()
        .map(|(r, _, _)| {
            let applicable = match r.popolazione {
                p if p < 5_000 => 22 + rng.random_range(0..5),
                p if p < 40_000 => 28 + rng.random_range(0..7),
                p if p < 200_000 => 36 + rng.random_range(0..5),
                _ => 44,
            };
            let prior = rng.random_bool(0.7);
            let joined = if prior {
                between(&mut rng, ymd(2017, 6, 1), ymd(2020, 9, 13))
            } else {
                between(&mut rng, start + Days::new(1), start + Days::new(30))
            };
            PagoPlan { applicable, active: 0, before: 0, prior, joined }
        })
        .collect();
    let need = |applicable: i64| (applicable * 70 + 99) / 100;
    let bounds: Vec<(i64, i64)> = plan
        .iter()
        .zip(&pago)
        .map(|((_, _, miss), p)| {
            let n = need(p.applicable);
            if *miss == Miss::PagoPa {
                (n - 3, n - 1)
            } else {
                (n, p.applicable)
            }
        })
        .collect();
    for (p, (lo, _)) in pago.iter_mut().zip(&bounds) {
        p.active = *lo;
    }
    fill(&mut pago, ACTIVE_AT_END, |p, i| p.active < bounds[i].1, |p| p.active += 1, |p| p.active);
    fill(
        &mut pago,
        ACTIVE_AT_END - ACTIVATED_IN_PROJECT,
        |p, _| p.prior && p.before < p.active - 3,
        |p| p.before += 1,
        |p| p.before,
    );

    // 4. The rows, comune by comune.
    let mut io_comuni: Vec<usize> = (0..plan.len()).filter(|i| plan[*i].1.on_io()).collect();
    io_comuni.shuffle(&mut rng);
    let via_region: Vec<usize> = io_comuni.into_iter().take(IO_VIA_REGION).collect();
    let mut late_final_left = 3; // comuni of profile Step1OnlyOnTime that reach the final in 2022
    for (i, ((r, profile, miss), p)) in plan.iter().zip(&pago).enumerate() {
        let code = &r.codice_istat;
        data.memberships.push((code.clone(), Platform::PagoPa, p.joined, false));

        // pagoPA: the first `active` applicable codes are active, the rest not yet.
        let mut codes = names::applicable_codes(&data.taxonomy);
        codes[3..].shuffle(&mut rng);
        let first_new_by = if profile.step1_on_time() { step1 - Days::new(3) } else { end };
        let new_from = p.joined.max(start);
        let late_extra =
            if *profile == Profile::Step1OnlyOnTime && *miss == Miss::PagoPa && late_final_left > 0 {
                late_final_left -= 1;
                need(p.applicable) - p.active
            } else {
                0
            };
        for (k, code_t) in codes.iter().take(p.applicable as usize).enumerate() {
            let k = k as i64;
            let since = if k < p.before {
                Some(between(&mut rng, p.joined, start - Days::new(1)))
            } else if k < p.before + 2 {
                Some(between(&mut rng, new_from, first_new_by.max(new_from)))
            } else if k < p.active {
                Some(between(&mut rng, new_from, end))
            } else if k < p.active + late_extra {
                Some(between(&mut rng, ymd(2022, 3, 1), ymd(2022, 5, 31)))
            } else {
                None
            };
            data.pagopa.push(DemoPagoPa {
                comune: code.clone(),
                code: code_t.clone(),
                applicable: true,
                active_since: since,
            });
        }
        for code_t in names::NOT_APPLICABLE {
            data.pagopa.push(DemoPagoPa {
                comune: code.clone(),
                code: code_t.to_string(),
                applicable: false,
                active_since: None,
            });
        }

        // App IO.
        if profile.on_io() {
            let joined = between(&mut rng, ymd(2020, 12, 20), ymd(2021, 2, 8));
            data.memberships.push((code.clone(), Platform::AppIo, joined, via_region.contains(&i)));
            let by_deadline = if *miss == Miss::Io { 9 } else { 10 + rng.random_range(0..16) };
            let mut dates: Vec<NaiveDate> = (0..by_deadline)
                .map(|k| match (profile.step1_on_time(), k) {
                    (true, 0) => between(&mut rng, joined, step1 - Days::new(3)),
                    (true, _) => between(&mut rng, joined, end),
                    (false, _) => between(&mut rng, step1 + Days::new(1), end - Days::new(16)),
                })
                .collect();
            if *miss == Miss::Io && *profile == Profile::Step1OnlyOnTime && late_final_left > 0 {
                late_final_left -= 1;
                dates.push(between(&mut rng, ymd(2022, 1, 10), ymd(2022, 2, 28)));
            }
            dates.sort();
            for (k, day) in dates.into_iter().enumerate() {
                data.io.push(DemoIo {
                    comune: code.clone(),
                    service_id: format!("DEMO{code}{:02}", k + 1),
                    name: names::IO_SERVICES[k % names::IO_SERVICES.len()].to_string(),
                    published_since: day,
                });
            }
        }

        // Online services with SPID (step 1) and CIE (final).
        let n = 2 + rng.random_range(0..4usize);
        for k in 0..n {
            let spid = match (profile.step1_on_time(), k) {
                (true, 0) => between(&mut rng, ymd(2021, 1, 10), step1 - Days::new(3)),
                _ => between(&mut rng, ymd(2021, 1, 10), end - Days::new(16)),
            };
            let cie = if profile.final_on_time() || *miss != Miss::None {
                Some(between(&mut rng, step1 + Days::new(1), end - Days::new(16)))
            } else {
                // Comuni that never reach step 1: some services still without CIE.
                rng.random_bool(0.5).then(|| between(&mut rng, step1 + Days::new(1), end))
            };
            data.online.push(DemoOnline {
                comune: code.clone(),
                name: names::ONLINE_SERVICES[k % names::ONLINE_SERVICES.len()].to_string(),
                spid_since: Some(spid),
                cie_since: cie,
            });
        }
    }
    data.counts = monthly_counts(&data);
    data
}

/// Adds one unit at a time, round-robin over the plans that still `can` take one, until the total
/// reaches `target`. Panics if the plans cannot hold it (a broken constant, caught by the tests).
fn fill<T>(
    plans: &mut [T],
    target: i64,
    can: impl Fn(&T, usize) -> bool,
    add: impl Fn(&mut T),
    value: impl Fn(&T) -> i64,
) {
    let mut total: i64 = plans.iter().map(&value).sum();
    assert!(total <= target, "demo plan starts above its target ({total} > {target})");
    while total < target {
        let mut progressed = false;
        for (i, plan) in plans.iter_mut().enumerate() {
            if total == target {
                break;
            }
            if can(plan, i) {
                add(plan);
                total += 1;
                progressed = true;
            }
        }
        assert!(progressed, "demo plan cannot reach its target {target} (stuck at {total})");
    }
}

/// Active services per comune, platform and month end, from the generated rows, so the time
/// series agree with the services.
fn monthly_counts(data: &DemoData) -> Vec<(String, Platform, NaiveDate, i64)> {
    let mut days = Vec::new();
    let mut d = ymd(2020, 11, 30);
    while d <= ymd(2022, 6, 30) {
        days.push(d);
        // The last day of the next month.
        d = (d + Days::new(1) + chrono::Months::new(1)) - Days::new(1);
    }
    let mut per: BTreeMap<(String, Platform), Vec<NaiveDate>> = BTreeMap::new();
    for s in &data.pagopa {
        if let Some(a) = s.active_since {
            per.entry((s.comune.clone(), Platform::PagoPa)).or_default().push(a);
        }
    }
    for s in &data.io {
        per.entry((s.comune.clone(), Platform::AppIo)).or_default().push(s.published_since);
    }
    for s in &data.online {
        if let Some(a) = [s.spid_since, s.cie_since].into_iter().flatten().min() {
            per.entry((s.comune.clone(), Platform::SpidCie)).or_default().push(a);
        }
    }
    let mut out = Vec::with_capacity(per.len() * days.len());
    for ((comune, platform), dates) in per {
        for day in &days {
            out.push((comune.clone(), platform, *day, dates.iter().filter(|a| *a <= day).count() as i64));
        }
    }
    out
}

/// Whether the database already holds programme data (adhesions or services).
pub async fn has_programme_data(db: &Db) -> Result<bool, sqlx::Error> {
    let n: i64 = on_db!(db, pool => sqlx::query_scalar(
        "SELECT (SELECT COUNT(*) FROM adhesion) + (SELECT COUNT(*) FROM pagopa_service) \
         + (SELECT COUNT(*) FROM io_service) + (SELECT COUNT(*) FROM online_service)",
    )
    .fetch_one(pool)
    .await)?;
    Ok(n > 0)
}

/// What `traguardi demo` did.
#[derive(Debug)]
pub struct DemoReport {
    pub backend: &'static str,
    pub adhesions: usize,
    pub pagopa: usize,
    pub io: usize,
    pub online: usize,
    pub counts: usize,
}

impl std::fmt::Display for DemoReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Demo dataset loaded into {}: {} adhesions, {} pagoPA services, {} App IO services, {} online services, {} monthly counts.\n\
             Every page says \"Dati dimostrativi\"; run `traguardi check` to compare with the press release.",
            self.backend, self.adhesions, self.pagopa, self.io, self.online, self.counts
        )
    }
}

/// Replaces the demo rows in one transaction. Refuses a database whose programme data is not the
/// demo's: demo rows must never mix with real ones.
pub async fn load(db: &Db) -> anyhow::Result<DemoReport> {
    // Loading replaces the programme's rows: it must never run where any of them is real.
    if db.holds_real_records().await? {
        anyhow::bail!(
            "this database already holds data that is not the demo dataset (real accounts, imports or records); \
             refusing to load the demo into it (use an empty database, e.g. DATABASE_URL=sqlite://data/demo.sqlite)"
        );
    }
    let programme = programme::load(db, programme::FONDO_INNOVAZIONE)
        .await?
        .context("the Fondo Innovazione programme is missing: migrations did not run")?;
    let data = generate(&crate::data::registry::rows(), &programme);
    write(db, &programme.code, programme.start, &data).await.context("writing the demo dataset failed")?;
    Ok(DemoReport {
        backend: db.backend(),
        adhesions: data.adhesions.len(),
        pagopa: data.pagopa.len(),
        io: data.io.len(),
        online: data.online.len(),
        counts: data.counts.len(),
    })
}

/// Rows per INSERT: far below SQLite's and PostgreSQL's limits on bound parameters.
const CHUNK: usize = 1_000;

/// `known_since`: the programme's first day. The demo describes 2020-21, so a comune's services
/// are recorded (applicable, online) from then, or from the comune's first activation on the
/// platform if earlier: the backfill of migration `…_fact_days.sql`, so a demo loaded today and
/// one migrated from before agree.
async fn write(db: &Db, programme: &str, known_since: NaiveDate, data: &DemoData) -> Result<(), sqlx::Error> {
    let mut pagopa_known: BTreeMap<&str, NaiveDate> = BTreeMap::new();
    for s in &data.pagopa {
        let first = pagopa_known.entry(s.comune.as_str()).or_insert(known_since);
        *first = s.active_since.map_or(*first, |a| a.min(*first));
    }
    let mut online_known: BTreeMap<&str, NaiveDate> = BTreeMap::new();
    for s in &data.online {
        let first = online_known.entry(s.comune.as_str()).or_insert(known_since);
        *first = [s.spid_since, s.cie_since].into_iter().flatten().fold(*first, NaiveDate::min);
    }
    on_db!(db, pool => {
        let mut tx = pool.begin().await?;
        // First the write lock (the data_version bump), last the trail entry: see data::audit.
        tx.lock_for_write().await?;
        // Checked again under the write lock: a real write may have landed since `load` looked.
        let dataset: Option<String> = sqlx::query_scalar("SELECT value FROM app_meta WHERE key = 'dataset'")
            .fetch_optional(&mut *tx)
            .await?;
        if dataset.as_deref() == Some(crate::data::audit::REAL_DATASET) {
            return Err(sqlx::Error::Protocol("the database holds real records: the demo is not loaded".into()));
        }
        for table in ["service_count", "online_service", "io_service", "pagopa_service", "platform_membership"] {
            sqlx::query(&format!("DELETE FROM {table}")).execute(&mut *tx).await?;
        }
        sqlx::query("DELETE FROM adhesion WHERE programme = $1").bind(programme).execute(&mut *tx).await?;
        sqlx::query("DELETE FROM taxonomy_entry WHERE origin = 'demo'").execute(&mut *tx).await?;

        let mut qb = sqlx::QueryBuilder::new("INSERT INTO taxonomy_entry (code, description, origin) ");
        qb.push_values(&data.taxonomy, |mut b, (code, description)| {
            b.push_bind(code).push_bind(description).push_bind("demo");
        });
        qb.build().execute(&mut *tx).await?;

        for chunk in data.adhesions.chunks(CHUNK) {
            let mut qb = sqlx::QueryBuilder::new("INSERT INTO adhesion (programme, comune, status, adhesion_date) ");
            qb.push_values(chunk, |mut b, (comune, status, date)| {
                b.push_bind(programme).push_bind(comune).push_bind(status.code()).push_bind(*date);
            });
            qb.build().execute(&mut *tx).await?;
        }
        for chunk in data.memberships.chunks(CHUNK) {
            let mut qb = sqlx::QueryBuilder::new("INSERT INTO platform_membership (comune, platform, joined_on, via_region) ");
            qb.push_values(chunk, |mut b, (comune, platform, joined, via_region)| {
                b.push_bind(comune).push_bind(platform.code()).push_bind(*joined).push_bind(*via_region);
            });
            qb.build().execute(&mut *tx).await?;
        }
        for chunk in data.pagopa.chunks(CHUNK) {
            let mut qb = sqlx::QueryBuilder::new(
                "INSERT INTO pagopa_service (comune, taxonomy_code, applicable, applicable_since, active_since, on_mypay) ",
            );
            qb.push_values(chunk, |mut b, s| {
                let applicable_since = s.applicable.then(|| pagopa_known[s.comune.as_str()]);
                b.push_bind(&s.comune)
                    .push_bind(&s.code)
                    .push_bind(s.applicable)
                    .push_bind(applicable_since)
                    .push_bind(s.active_since)
                    .push_bind(true);
            });
            qb.build().execute(&mut *tx).await?;
        }
        for chunk in data.io.chunks(CHUNK) {
            let mut qb = sqlx::QueryBuilder::new("INSERT INTO io_service (comune, service_id, name, published_since) ");
            qb.push_values(chunk, |mut b, s| {
                b.push_bind(&s.comune).push_bind(&s.service_id).push_bind(&s.name).push_bind(s.published_since);
            });
            qb.build().execute(&mut *tx).await?;
        }
        for chunk in data.online.chunks(CHUNK) {
            let mut qb =
                sqlx::QueryBuilder::new("INSERT INTO online_service (comune, name, online_since, spid_since, cie_since) ");
            qb.push_values(chunk, |mut b, s| {
                let online_since = online_known[s.comune.as_str()];
                b.push_bind(&s.comune)
                    .push_bind(&s.name)
                    .push_bind(online_since)
                    .push_bind(s.spid_since)
                    .push_bind(s.cie_since);
            });
            qb.build().execute(&mut *tx).await?;
        }
        for chunk in data.counts.chunks(CHUNK) {
            let mut qb = sqlx::QueryBuilder::new("INSERT INTO service_count (comune, platform, day, active) ");
            qb.push_values(chunk, |mut b, (comune, platform, day, active)| {
                b.push_bind(comune).push_bind(platform.code()).push_bind(*day).push_bind(*active);
            });
            qb.build().execute(&mut *tx).await?;
        }
        sqlx::query(
            "INSERT INTO app_meta (key, value) VALUES ('dataset', $1) ON CONFLICT (key) DO UPDATE SET value = $1",
        )
        .bind(crate::data::audit::DEMO_DATASET)
        .execute(&mut *tx)
        .await?;
        let summary = format!(
            "{} adesioni, {} servizi pagoPA, {} servizi App IO, {} servizi online, {} conteggi",
            data.adhesions.len(),
            data.pagopa.len(),
            data.io.len(),
            data.online.len(),
            data.counts.len()
        );
        tx.append(&NewEntry {
            actor: "demo".into(),
            comune: None,
            entity: "dataset",
            record: programme.to_string(),
            action: Action::Load,
            changes: vec![Change { field: "dati dimostrativi".into(), before: None, after: Some(summary) }],
            reason: Some("traguardi demo: dati dimostrativi caricati".into()),
        })
        .await?;
        tx.commit().await
    })
}

#[cfg(test)]
mod tests;
