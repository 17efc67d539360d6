//! Loads what the rules read, for every comune at once: eight queries whatever the number of
//! comuni, grouped in memory by ISTAT code (no query per comune).

use std::collections::HashMap;

use chrono::NaiveDate;

use super::{on_db, Db};
use crate::rules::{
    AdhesionStatus, ComuneFacts, EvidenceFact, IoService, OnlineService, PagoPaService, Renunciation,
    RenunciationFact, ReviewOutcome,
};

/// A comune of the registry with the facts the rules read about it.
#[derive(Clone, Debug)]
pub struct ComuneRecord {
    pub codice_istat: String,
    pub denominazione: String,
    pub sigla_provincia: String,
    pub provincia: String,
    pub codice_catastale: String,
    pub codice_ipa: String,
    pub popolazione: i64,
    pub facts: ComuneFacts,
    /// The count snapshots (`service_count`) of pagoPA and App IO services, ordered by day: the
    /// services-over-time chart sums them over the filtered comuni.
    pub counts_over_time: Vec<CountSnapshot>,
    /// Blockers of the programme not resolved yet (`blocker.resolved_on IS NULL`).
    pub open_blockers: i64,
}

/// Active services of one comune on one snapshot day.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CountSnapshot {
    pub day: NaiveDate,
    pub pagopa: i64,
    pub io: i64,
}

#[derive(sqlx::FromRow)]
struct CountRow {
    comune: String,
    platform: String,
    day: NaiveDate,
    active: i64,
}

#[derive(sqlx::FromRow)]
struct BlockerCountRow {
    comune: String,
    open_blockers: i64,
}

#[derive(sqlx::FromRow)]
struct EvidenceRow {
    comune: String,
    objective: String,
    version: i64,
    outcome: Option<String>,
}

#[derive(sqlx::FromRow)]
struct ComuneRow {
    codice_istat: String,
    denominazione: String,
    sigla_provincia: String,
    provincia: String,
    codice_catastale: String,
    codice_ipa: String,
    popolazione: i64,
    status: Option<String>,
    adhesion_date: Option<NaiveDate>,
    renunciation: Option<String>,
    renunciation_date: Option<NaiveDate>,
}

#[derive(sqlx::FromRow)]
struct MembershipRow {
    comune: String,
    platform: String,
    joined_on: NaiveDate,
    via_region: bool,
}

#[derive(sqlx::FromRow)]
struct PagoPaRow {
    comune: String,
    applicable: bool,
    applicable_since: Option<NaiveDate>,
    active_since: Option<NaiveDate>,
    deactivated_on: Option<NaiveDate>,
    on_mypay: bool,
    valid_from: Option<NaiveDate>,
    valid_to: Option<NaiveDate>,
}

#[derive(sqlx::FromRow)]
struct IoRow {
    comune: String,
    published_since: Option<NaiveDate>,
    withdrawn_on: Option<NaiveDate>,
}

#[derive(sqlx::FromRow)]
struct OnlineRow {
    comune: String,
    online_since: Option<NaiveDate>,
    spid_since: Option<NaiveDate>,
    cie_since: Option<NaiveDate>,
}

/// Every comune of the registry, ordered by ISTAT code, with its facts for `programme`.
pub async fn load_all(db: &Db, programme: &str) -> Result<Vec<ComuneRecord>, sqlx::Error> {
    let (comuni, memberships, pagopa, io, online, counts, blockers, evidence) = on_db!(db, pool => {
        let comuni = sqlx::query_as::<_, ComuneRow>(
            "SELECT c.codice_istat, c.denominazione, c.sigla_provincia, p.nome AS provincia, c.codice_catastale, \
             c.codice_ipa, c.popolazione, a.status, a.adhesion_date, a.renunciation, a.renunciation_date \
             FROM comune c JOIN province p ON p.sigla = c.sigla_provincia \
             LEFT JOIN adhesion a ON a.comune = c.codice_istat AND a.programme = $1 \
             ORDER BY c.codice_istat",
        )
        .bind(programme)
        .fetch_all(pool)
        .await?;
        let memberships = sqlx::query_as::<_, MembershipRow>(
            "SELECT comune, platform, joined_on, via_region FROM platform_membership",
        )
        .fetch_all(pool)
        .await?;
        let pagopa = sqlx::query_as::<_, PagoPaRow>(
            "SELECT s.comune, s.applicable, s.applicable_since, s.active_since, s.deactivated_on, s.on_mypay, \
             t.valid_from, t.valid_to FROM pagopa_service s JOIN taxonomy_entry t ON t.code = s.taxonomy_code",
        )
        .fetch_all(pool)
        .await?;
        let io = sqlx::query_as::<_, IoRow>("SELECT comune, published_since, withdrawn_on FROM io_service")
            .fetch_all(pool)
            .await?;
        let online = sqlx::query_as::<_, OnlineRow>("SELECT comune, online_since, spid_since, cie_since FROM online_service")
            .fetch_all(pool)
            .await?;
        let counts = sqlx::query_as::<_, CountRow>(
            "SELECT comune, platform, day, active FROM service_count WHERE platform IN ('pagopa', 'io') \
             ORDER BY comune, day",
        )
        .fetch_all(pool)
        .await?;
        let blockers = sqlx::query_as::<_, BlockerCountRow>(
            "SELECT comune, COUNT(*) AS open_blockers FROM blocker WHERE programme = $1 AND resolved_on IS NULL \
             GROUP BY comune",
        )
        .bind(programme)
        .fetch_all(pool)
        .await?;
        // The latest version of each objective's evidence with its latest review: both
        // subqueries walk an index (evidence_version_unique, evidence_review_evidence_idx).
        let evidence = sqlx::query_as::<_, EvidenceRow>(
            "SELECT e.comune, e.objective, e.version, \
             (SELECT r.outcome FROM evidence_review r WHERE r.evidence = e.id ORDER BY r.id DESC LIMIT 1) AS outcome \
             FROM evidence e WHERE e.programme = $1 AND e.version = (SELECT MAX(l.version) FROM evidence l \
             WHERE l.programme = e.programme AND l.comune = e.comune AND l.objective = e.objective)",
        )
        .bind(programme)
        .fetch_all(pool)
        .await?;
        (comuni, memberships, pagopa, io, online, counts, blockers, evidence)
    });
    let mut open_blockers: HashMap<String, i64> =
        blockers.into_iter().map(|b| (b.comune, b.open_blockers)).collect();

    // Rows come ordered by comune and day: one point per day, both platforms merged. A day that
    // holds one platform's count carries the other's last known count forward (a snapshot of
    // App IO alone says nothing about pagoPA: it did not drop to zero).
    let mut series: HashMap<String, Vec<CountSnapshot>> = HashMap::new();
    for c in counts {
        let points = series.entry(c.comune).or_default();
        if points.last().is_none_or(|p| p.day != c.day) {
            let carried = points.last().copied().unwrap_or_default();
            points.push(CountSnapshot { day: c.day, ..carried });
        }
        let point = points.last_mut().expect("pushed above");
        match c.platform.as_str() {
            "pagopa" => point.pagopa = c.active,
            _ => point.io = c.active,
        }
    }

    let mut facts: HashMap<String, ComuneFacts> = HashMap::with_capacity(comuni.len());
    for m in memberships {
        let f = facts.entry(m.comune).or_default();
        match m.platform.as_str() {
            "pagopa" => f.pagopa_joined = Some(m.joined_on),
            "io" => {
                f.io_joined = Some(m.joined_on);
                f.io_via_region = m.via_region;
            }
            _ => {}
        }
    }
    for s in pagopa {
        facts.entry(s.comune).or_default().pagopa.push(PagoPaService {
            applicable: s.applicable,
            applicable_since: s.applicable_since,
            active_since: s.active_since,
            deactivated_on: s.deactivated_on,
            on_mypay: s.on_mypay,
            code_valid_from: s.valid_from,
            code_valid_to: s.valid_to,
        });
    }
    for s in io {
        facts
            .entry(s.comune)
            .or_default()
            .io
            .push(IoService { published_since: s.published_since, withdrawn_on: s.withdrawn_on });
    }
    for s in online {
        facts.entry(s.comune).or_default().online.push(OnlineService {
            online_since: s.online_since,
            spid_since: s.spid_since,
            cie_since: s.cie_since,
        });
    }

    for e in evidence {
        facts.entry(e.comune).or_default().evidence.push(EvidenceFact {
            objective: e.objective,
            versions: e.version,
            latest_review: e.outcome.as_deref().and_then(ReviewOutcome::from_code),
        });
    }

    comuni
        .into_iter()
        .map(|c| {
            let mut f = facts.remove(&c.codice_istat).unwrap_or_default();
            f.population = c.popolazione;
            f.adhesion = match c.status.as_deref() {
                None => AdhesionStatus::NonAderente,
                Some(code) => AdhesionStatus::from_code(code).ok_or_else(|| {
                    super::programme::decode_error(format!("unknown adhesion status {code}"))
                })?,
            };
            f.adhesion_date = c.adhesion_date;
            f.renunciation = match (c.renunciation.as_deref(), c.renunciation_date) {
                (Some(code), Some(on)) => Some(RenunciationFact {
                    kind: Renunciation::from_code(code).ok_or_else(|| {
                        super::programme::decode_error(format!("unknown renunciation {code}"))
                    })?,
                    on,
                }),
                _ => None,
            };
            let counts_over_time = series.remove(&c.codice_istat).unwrap_or_default();
            let open_blockers = open_blockers.remove(&c.codice_istat).unwrap_or(0);
            Ok(ComuneRecord {
                codice_istat: c.codice_istat,
                denominazione: c.denominazione,
                sigla_provincia: c.sigla_provincia,
                provincia: c.provincia,
                codice_catastale: c.codice_catastale,
                codice_ipa: c.codice_ipa,
                popolazione: c.popolazione,
                counts_over_time,
                open_blockers,
                facts: f,
            })
        })
        .collect()
}

/// A pagoPA service with its taxonomy name, for a comune's page.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct PagoPaServiceRow {
    pub taxonomy_code: String,
    pub description: String,
    pub origin: String,
    pub applicable: bool,
    pub applicable_since: Option<NaiveDate>,
    pub active_since: Option<NaiveDate>,
    pub deactivated_on: Option<NaiveDate>,
    pub on_mypay: bool,
    pub code_valid_from: Option<NaiveDate>,
    pub code_valid_to: Option<NaiveDate>,
}

impl PagoPaServiceRow {
    /// The row as it stood at the end of `day`, for a comune's page of a past day; `None` when
    /// the service was not in the comune's records yet. The rules decide, so the list and the
    /// figures of that day agree: an applicable service shows from the day it entered the pagoPA
    /// rules ([`PagoPaService::applicable_on`]); one marked not applicable (its day is not kept)
    /// while its taxonomy code was valid. Activation and deactivation after `day` had not
    /// happened yet.
    pub fn as_of(mut self, day: NaiveDate) -> Option<Self> {
        let fact = PagoPaService {
            applicable: self.applicable,
            applicable_since: self.applicable_since,
            active_since: self.active_since,
            deactivated_on: self.deactivated_on,
            on_mypay: self.on_mypay,
            code_valid_from: self.code_valid_from,
            code_valid_to: self.code_valid_to,
        };
        let code_valid = PagoPaService { applicable: true, applicable_since: None, ..fact.clone() };
        let known = if self.applicable { fact.applicable_on(day) } else { code_valid.applicable_on(day) };
        if !known {
            return None;
        }
        self.active_since = self.active_since.filter(|d| *d <= day);
        self.deactivated_on = self.deactivated_on.filter(|d| *d <= day);
        Some(self)
    }
}

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct IoServiceRow {
    pub service_id: String,
    pub name: String,
    pub published_since: Option<NaiveDate>,
    pub withdrawn_on: Option<NaiveDate>,
}

impl IoServiceRow {
    /// The row at the end of `day`: only a service published by then and not yet withdrawn
    /// (what the App IO rules count on that day, [`crate::rules::on_at`]).
    pub fn as_of(self, day: NaiveDate) -> Option<Self> {
        crate::rules::on_at(self.published_since, self.withdrawn_on, day).then_some(self)
    }
}

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct OnlineServiceRow {
    pub name: String,
    pub online_since: Option<NaiveDate>,
    pub spid_since: Option<NaiveDate>,
    pub cie_since: Option<NaiveDate>,
}

impl OnlineServiceRow {
    /// The row at the end of `day`: a service online by then ([`OnlineService::online_on`], the
    /// SPID/CIE denominator of that day), with SPID and CIE only from the days they came.
    pub fn as_of(mut self, day: NaiveDate) -> Option<Self> {
        let fact = OnlineService {
            online_since: self.online_since,
            spid_since: self.spid_since,
            cie_since: self.cie_since,
        };
        if !fact.online_on(day) {
            return None;
        }
        self.spid_since = self.spid_since.filter(|d| *d <= day);
        self.cie_since = self.cie_since.filter(|d| *d <= day);
        Some(self)
    }
}

/// The named services of one comune, for its page.
pub async fn services_of(
    db: &Db,
    codice_istat: &str,
) -> Result<(Vec<PagoPaServiceRow>, Vec<IoServiceRow>, Vec<OnlineServiceRow>), sqlx::Error> {
    on_db!(db, pool => {
        let pagopa = sqlx::query_as::<_, PagoPaServiceRow>(
            "SELECT s.taxonomy_code, t.description, t.origin, s.applicable, s.applicable_since, s.active_since, \
             s.deactivated_on, s.on_mypay, t.valid_from AS code_valid_from, t.valid_to AS code_valid_to \
             FROM pagopa_service s JOIN taxonomy_entry t ON t.code = s.taxonomy_code \
             WHERE s.comune = $1 ORDER BY s.applicable DESC, s.active_since IS NULL, s.active_since, s.taxonomy_code",
        )
        .bind(codice_istat)
        .fetch_all(pool)
        .await?;
        let io = sqlx::query_as::<_, IoServiceRow>(
            "SELECT service_id, name, published_since, withdrawn_on FROM io_service \
             WHERE comune = $1 ORDER BY published_since IS NULL, published_since, service_id",
        )
        .bind(codice_istat)
        .fetch_all(pool)
        .await?;
        let online = sqlx::query_as::<_, OnlineServiceRow>(
            "SELECT name, online_since, spid_since, cie_since FROM online_service WHERE comune = $1 ORDER BY name",
        )
        .bind(codice_istat)
        .fetch_all(pool)
        .await?;
        Ok((pagopa, io, online))
    })
}

/// One service of some comune, for exports: pagoPA (taxonomy code and its name), App IO
/// (Service ID and name) or SPID/CIE (name, `code` empty).
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct ServiceExportRow {
    pub comune: String,
    pub code: String,
    pub name: String,
    pub applicable: bool,
    pub active_since: Option<NaiveDate>,
    pub deactivated_on: Option<NaiveDate>,
    pub on_mypay: bool,
    pub spid_since: Option<NaiveDate>,
    pub cie_since: Option<NaiveDate>,
}

/// Every comune's named services, by platform, ordered by comune: three set-based queries
/// whatever the number of comuni (the exports pick the comuni they show).
#[derive(Clone, Debug, Default)]
pub struct AllServices {
    pub pagopa: Vec<ServiceExportRow>,
    pub io: Vec<ServiceExportRow>,
    pub online: Vec<ServiceExportRow>,
}

pub async fn all_services(db: &Db) -> Result<AllServices, sqlx::Error> {
    on_db!(db, pool => {
        let pagopa = sqlx::query_as::<_, ServiceExportRow>(
            "SELECT s.comune, s.taxonomy_code AS code, t.description AS name, s.applicable, s.active_since, \
             s.deactivated_on, s.on_mypay, NULL AS spid_since, NULL AS cie_since \
             FROM pagopa_service s JOIN taxonomy_entry t ON t.code = s.taxonomy_code \
             ORDER BY s.comune, s.taxonomy_code",
        )
        .fetch_all(pool)
        .await?;
        let io = sqlx::query_as::<_, ServiceExportRow>(
            "SELECT comune, service_id AS code, name, TRUE AS applicable, published_since AS active_since, \
             withdrawn_on AS deactivated_on, FALSE AS on_mypay, NULL AS spid_since, NULL AS cie_since \
             FROM io_service ORDER BY comune, service_id",
        )
        .fetch_all(pool)
        .await?;
        let online = sqlx::query_as::<_, ServiceExportRow>(
            "SELECT comune, '' AS code, name, TRUE AS applicable, NULL AS active_since, NULL AS deactivated_on, \
             FALSE AS on_mypay, spid_since, cie_since FROM online_service ORDER BY comune, name",
        )
        .fetch_all(pool)
        .await?;
        Ok(AllServices { pagopa, io, online })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn pagopa(applicable: bool) -> PagoPaServiceRow {
        PagoPaServiceRow {
            taxonomy_code: "9/0101100IM/".into(),
            description: "Imposta di soggiorno".into(),
            origin: "ufficiale".into(),
            applicable,
            applicable_since: Some(day("2021-01-10")),
            active_since: Some(day("2021-02-01")),
            deactivated_on: Some(day("2021-06-30")),
            on_mypay: true,
            code_valid_from: None,
            code_valid_to: None,
        }
    }

    #[test]
    fn a_pagopa_service_shows_from_its_day_with_only_what_had_happened() {
        // Before it was recorded: not on the page of that day.
        assert!(pagopa(true).as_of(day("2021-01-09")).is_none());
        // Recorded, not active yet: listed, without the later activation.
        let early = pagopa(true).as_of(day("2021-01-31")).unwrap();
        assert_eq!((early.active_since, early.deactivated_on), (None, None));
        // Active, not yet deactivated.
        let active = pagopa(true).as_of(day("2021-02-28")).unwrap();
        assert_eq!((active.active_since, active.deactivated_on), (Some(day("2021-02-01")), None));
        // Both days passed: as today.
        let later = pagopa(true).as_of(day("2021-12-31")).unwrap();
        assert_eq!(later.deactivated_on, Some(day("2021-06-30")));
    }

    #[test]
    fn a_pagopa_service_shows_only_while_its_taxonomy_code_is_valid() {
        let coded = |applicable| PagoPaServiceRow {
            code_valid_from: Some(day("2021-03-01")),
            code_valid_to: Some(day("2021-09-30")),
            ..pagopa(applicable)
        };
        for applicable in [true, false] {
            assert!(coded(applicable).as_of(day("2021-02-28")).is_none(), "{applicable}");
            assert!(coded(applicable).as_of(day("2021-03-01")).is_some(), "{applicable}");
            assert!(coded(applicable).as_of(day("2021-10-01")).is_none(), "{applicable}");
        }
        // One not applicable has no day of its own: it shows whenever its code is valid.
        assert!(pagopa(false).as_of(day("2020-12-15")).is_some());
    }

    #[test]
    fn an_io_service_shows_while_published() {
        let row = || IoServiceRow {
            service_id: "01H".into(),
            name: "Mensa".into(),
            published_since: Some(day("2021-02-10")),
            withdrawn_on: Some(day("2021-11-01")),
        };
        assert!(row().as_of(day("2021-02-09")).is_none());
        assert!(row().as_of(day("2021-02-10")).is_some());
        assert!(row().as_of(day("2021-11-01")).is_none());
        let never = IoServiceRow { published_since: None, ..row() };
        assert!(never.as_of(day("2021-12-31")).is_none());
    }

    #[test]
    fn an_online_service_shows_from_its_day_with_spid_and_cie_from_theirs() {
        let row = || OnlineServiceRow {
            name: "Anagrafe".into(),
            online_since: Some(day("2021-01-15")),
            spid_since: Some(day("2021-02-01")),
            cie_since: Some(day("2021-05-01")),
        };
        assert!(row().as_of(day("2021-01-14")).is_none());
        let feb = row().as_of(day("2021-02-28")).unwrap();
        assert_eq!((feb.spid_since, feb.cie_since), (Some(day("2021-02-01")), None));
        // A row kept before the day was recorded (online_since empty) is there since always.
        let old = OnlineServiceRow { online_since: None, ..row() };
        let dec = old.as_of(day("2020-12-15")).unwrap();
        assert_eq!((dec.spid_since, dec.cie_since), (None, None));
    }
}
