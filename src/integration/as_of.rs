//! Facts as of a day (issue 16): services recorded in 2023 cannot change what the 2021 deadlines
//! saw. A comune of the demo that reached step 1 and the final step in 2021 gains 2023 services
//! (applicable pagoPA services, an active one, online services with and without SPID/CIE, an
//! App IO service); its outcomes, dates, tranches, contract CSV row and the dashboard's figures
//! stay the same.

use chrono::NaiveDate;

use super::TestDb;
use crate::{
    comuni::{export::write_csv, export::Dialect, ValidFilter},
    data::{on_db, programme::FONDO_INNOVAZIONE},
    demo,
    evaluation::{today, Evaluated, Snapshot},
    rules::TrancheStatus,
};

fn ymd(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

/// The contract CSV row of one comune, split in its columns.
fn csv_row(snapshot: &Snapshot, codice: &str) -> Vec<String> {
    let e = snapshot.find(codice).unwrap();
    let bytes = write_csv(snapshot, std::iter::once(e), Dialect::Contract).unwrap();
    let mut rows = csv::Reader::from_reader(bytes.as_slice()).into_records();
    rows.next().unwrap().unwrap().iter().map(str::to_string).collect()
}

/// What the deadlines decided for one comune: every objective's day and punctuality, the steps,
/// the tranches and the euros (today's progress measure is left out: it is about today).
fn decided(e: &Evaluated) -> String {
    let o = &e.outcome;
    let objectives: Vec<_> =
        o.objectives.iter().map(|r| (&r.code, r.reached_on, r.on_time, r.verified)).collect();
    format!(
        "{objectives:?} {:?} {:?} {:?} {} {} {} {} {}",
        o.steps,
        o.all_objectives_on,
        o.all_objectives_on_time,
        o.grant_eur,
        o.earned_eur,
        o.lost_eur,
        o.renounced_eur,
        o.possible_eur
    )
}

#[tokio::test]
async fn services_dated_2023_do_not_change_what_2021_decided() {
    let end_2022 = ymd(2022, 12, 31);
    for t in TestDb::all().await {
        let backend = t.db.backend();
        demo::load(&t.db).await.unwrap();
        let before = Snapshot::build(&t.db, FONDO_INNOVAZIONE, today()).await.unwrap();
        let before_2022 = Snapshot::build(&t.db, FONDO_INNOVAZIONE, end_2022).await.unwrap();
        // A comune that reached both steps in 2021, on time, with every objective, and whose
        // final pagoPA and SPID/CIE objectives a larger denominator would undo.
        let chosen = before
            .comuni
            .iter()
            .find(|e| {
                let o = &e.outcome;
                o.all_objectives_on_time
                    && o.steps.iter().all(|s| s.tranche == TrancheStatus::Earned)
                    && o.all_objectives_on.is_some_and(|d| d <= ymd(2021, 12, 31))
                    && !e.record.facts.online.is_empty()
            })
            .expect("the demo has a comune that reached both steps in 2021");
        let codice = chosen.record.codice_istat.clone();
        let applicable = chosen.counts.pagopa_applicable;
        let summary = before.summary(&ValidFilter::default());
        let summary_2022 = before_2022.summary(&ValidFilter::default());

        // 2023: as many applicable, inactive collection services as the comune had (its share
        // would fall to about 50%), one more activated, two online services without SPID/CIE,
        // one with both, one App IO service.
        let added = applicable + 1;
        on_db!(&t.db, pool => {
            for i in 0..added {
                let code = format!("9/09{i:05}ZZ/");
                sqlx::query("INSERT INTO taxonomy_entry (code, description, origin) VALUES ($1, $2, 'nota')")
                    .bind(&code)
                    .bind(format!("Servizio 2023 n. {i}"))
                    .execute(pool)
                    .await
                    .unwrap();
                let active = (i == 0).then(|| ymd(2023, 5, 2));
                sqlx::query(
                    "INSERT INTO pagopa_service (comune, taxonomy_code, applicable, applicable_since, active_since, on_mypay) \
                     VALUES ($1, $2, TRUE, $3, $4, FALSE)",
                )
                .bind(&codice)
                .bind(&code)
                .bind(ymd(2023, 3, 1))
                .bind(active)
                .execute(pool)
                .await
                .unwrap();
            }
            for (name, spid, cie) in [
                ("Prenotazione sale 2023", None, None),
                ("Iscrizione centri estivi 2023", None, None),
                ("Richiesta contributi 2023", Some(ymd(2023, 6, 1)), Some(ymd(2023, 6, 1))),
            ] {
                sqlx::query(
                    "INSERT INTO online_service (comune, name, online_since, spid_since, cie_since) VALUES ($1, $2, $3, $4, $5)",
                )
                .bind(&codice)
                .bind(name)
                .bind(ymd(2023, 2, 1))
                .bind(spid)
                .bind(cie)
                .execute(pool)
                .await
                .unwrap();
            }
            sqlx::query("INSERT INTO io_service (comune, service_id, name, published_since) VALUES ($1, 'S2023', 'Servizio 2023', $2)")
                .bind(&codice)
                .bind(ymd(2023, 7, 1))
                .execute(pool)
                .await
                .unwrap();
        });

        let after = Snapshot::build(&t.db, FONDO_INNOVAZIONE, today()).await.unwrap();
        let after_2022 = Snapshot::build(&t.db, FONDO_INNOVAZIONE, end_2022).await.unwrap();
        let (b, a) = (before.find(&codice).unwrap(), after.find(&codice).unwrap());
        assert_eq!(decided(a), decided(b), "{backend}: {codice}");
        assert_eq!(decided(after_2022.find(&codice).unwrap()), decided(b), "{backend}: {codice} as of 2022");
        // The dashboard's figures (what /api/cruscotto answers) do not move, today or in 2022.
        assert_eq!(after.summary(&ValidFilter::default()), summary, "{backend}");
        assert_eq!(after_2022.summary(&ValidFilter::default()), summary_2022, "{backend}");
        // The CSV row as of 2022 is the same, byte for byte; today its columns about the
        // deadlines are the same and its counts of today's services grow by the 2023 rows.
        assert_eq!(csv_row(&after_2022, &codice), csv_row(&before_2022, &codice), "{backend}");
        let (rb, ra) = (csv_row(&before, &codice), csv_row(&after, &codice));
        assert_eq!(ra[..13], rb[..13], "{backend}: {codice}");
        assert_eq!(ra[19], rb[19], "{backend}: obiettivi_finali_entro_scadenza");
        let n = |r: &[String], i: usize| r[i].parse::<i64>().unwrap();
        assert_eq!(n(&ra, 13), n(&rb, 13) + 1, "{backend}: servizi_pagopa_attivi");
        assert_eq!(n(&ra, 14), n(&rb, 14) + added, "{backend}: servizi_pagopa_applicabili");
        assert_eq!(n(&ra, 16), n(&rb, 16) + 1, "{backend}: servizi_io_attivi");
        assert_eq!(n(&ra, 18), n(&rb, 18) + 1, "{backend}: servizi_spid_cie");
        // Today the comune is measured on today's facts: the 70% no longer holds.
        let final_pagopa = a.outcome.objectives.iter().find(|o| o.code == "final_pagopa").unwrap();
        assert!(!final_pagopa.progress.holds, "{backend}: {:?}", final_pagopa.progress);
        t.drop_db().await;
    }
}

/// The one write path (workspace, imports, accepted proposals) dates what it records: a service
/// marked applicable counts from the day it is marked so, and keeps that day while it stays
/// applicable; a new online service counts from the day it is recorded.
#[tokio::test]
async fn writes_record_the_day_a_service_becomes_applicable_or_goes_online() {
    use crate::{
        data::workspace::write_tx,
        workspace::{OnlineValues, PagoPaValues, ServiceValues},
    };
    const COMUNE: &str = "072006";
    const ACTOR: &str = "regione@test.invalid";
    for t in TestDb::all().await {
        let backend = t.db.backend();
        let values = |applicable: bool| {
            ServiceValues::PagoPa(PagoPaValues {
                taxonomy_code: "9/0101101IM/".into(),
                applicable,
                active_since: None,
                deactivated_on: None,
                on_mypay: false,
            })
        };
        let state = |id: i64| {
            let db = t.db.clone();
            async move {
                on_db!(&db, pool => sqlx::query_as::<_, (Option<NaiveDate>, i64)>(
                    "SELECT applicable_since, version FROM pagopa_service WHERE id = $1",
                )
                .bind(id)
                .fetch_one(pool)
                .await)
                .unwrap()
            }
        };
        let id =
            write_tx!(&t.db, tx => tx.add_service_in(ACTOR, COMUNE, &values(true), None).await?).unwrap();
        assert_eq!(state(id).await.0, Some(today()), "{backend}: applicable from the day recorded");

        // Kept while it stays applicable (an older day stays).
        on_db!(&t.db, pool => sqlx::query("UPDATE pagopa_service SET applicable_since = $1 WHERE id = $2")
            .bind(ymd(2021, 1, 4)).bind(id).execute(pool).await.map(|_| ()))
        .unwrap();
        let version = state(id).await.1;
        write_tx!(&t.db, tx => tx.update_service_in(ACTOR, COMUNE, id, version, &values(true), None).await?)
            .unwrap();
        assert_eq!(state(id).await.0, Some(ymd(2021, 1, 4)), "{backend}: kept");
        // Not applicable: no day; applicable again: from the day it is marked so.
        let version = state(id).await.1;
        write_tx!(&t.db, tx => tx.update_service_in(ACTOR, COMUNE, id, version, &values(false), None).await?)
            .unwrap();
        assert_eq!(state(id).await.0, None, "{backend}: not applicable");
        let version = state(id).await.1;
        write_tx!(&t.db, tx => tx.update_service_in(ACTOR, COMUNE, id, version, &values(true), None).await?)
            .unwrap();
        assert_eq!(state(id).await.0, Some(today()), "{backend}: applicable again today");

        let online = ServiceValues::Online(OnlineValues {
            name: "Servizio".into(),
            spid_since: None,
            cie_since: None,
        });
        let oid = write_tx!(&t.db, tx => tx.add_service_in(ACTOR, COMUNE, &online, None).await?).unwrap();
        let since: Option<NaiveDate> = on_db!(&t.db, pool => sqlx::query_scalar(
            "SELECT online_since FROM online_service WHERE id = $1",
        )
        .bind(oid)
        .fetch_one(pool)
        .await)
        .unwrap();
        assert_eq!(since, Some(today()), "{backend}: online from the day recorded");
        t.drop_db().await;
    }
}
