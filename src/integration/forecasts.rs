//! Forecasts on the demo data, on both backends: the programme as of 31/10/2021 (two months
//! before the final deadline) has open objectives with forecasts; the comune page's views carry
//! a chart and a verdict in words; the dashboard's «a rischio» figure counts exactly the comuni
//! its link lists; today (every deadline past) there is no forecast and no card; the backtest
//! command's report reads the same snapshots.

use chrono::NaiveDate;

use super::TestDb;
use crate::{
    comuni::{Milestone, ValidFilter},
    dashboard::ui::figures,
    data::programme::FONDO_INNOVAZIONE,
    evaluation::{today, Snapshot},
    forecasts::{self, backtest},
};

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

#[tokio::test]
async fn the_demo_has_forecasts_before_the_final_deadline_and_none_today() {
    for t in TestDb::all().await {
        let backend = t.db.backend();
        crate::demo::load(&t.db).await.unwrap();
        let october = Snapshot::build(&t.db, FONDO_INNOVAZIONE, day(2021, 10, 31)).await.unwrap();
        let with: Vec<_> = october.comuni.iter().filter(|e| !e.forecasts.is_empty()).collect();
        assert!(!with.is_empty(), "{backend}: open final objectives on 31/10/2021");
        for e in &with {
            assert!(e.outcome.supported, "{backend}: only comuni in the programme");
            for f in &e.forecasts {
                assert_eq!(f.deadline, day(2021, 12, 31), "{backend}: step 1 is past, only final objectives");
                let o = e.outcome.objectives.iter().find(|o| o.code == f.objective).unwrap();
                assert!(o.reached_on.is_none(), "{backend}: only objectives not reached");
                assert_eq!((f.current, f.required), (o.progress.value, o.progress.required), "{backend}");
                // The samples end on the day; none when the comune has not joined the platform
                // (then its province's pace, or none).
                match f.history.last() {
                    Some((d, _)) => assert_eq!(*d, day(2021, 10, 31), "{backend}"),
                    None => {
                        assert_ne!(f.forecast.method, crate::rules::forecast::Method::OwnTrend, "{backend}")
                    }
                }
            }
        }

        // The comune page's views: one per forecast, each with its chart and words.
        let e = with[0];
        let views = forecasts::view::views(&october.programme, e);
        assert_eq!(views.len(), e.forecasts.len(), "{backend}");
        for v in &views {
            let svg = v.grafico.as_deref().expect("a chart");
            assert!(svg.contains("role=\"img\""), "{backend}");
            assert!(v.verdict().starts_with(if v.at_risk { "A rischio" } else { "In tempo" }), "{backend}");
            assert!(!v.history.is_empty());
        }

        // The dashboard's figure: the comuni a rischio, exactly those its link lists.
        let s = october.summary(&ValidFilter::default());
        assert_eq!(s.con_previsione, with.len() as i64, "{backend}");
        let listed = october.filtered(&ValidFilter::default().with_milestone(Milestone::ARischio)).count();
        assert_eq!(s.a_rischio, listed as i64, "{backend}");
        assert!(
            s.a_rischio > 0 && s.a_rischio <= s.con_previsione,
            "{backend}: {} of {}",
            s.a_rischio,
            s.con_previsione
        );
        let cards = figures(&s, "");
        let card = cards.iter().find(|c| c.key == "a-rischio").expect("the card before the deadline");
        assert_eq!(card.value, s.a_rischio.to_string(), "{backend}");
        assert!(card.href.ends_with("traguardo=a_rischio"), "{}", card.href);

        // Today every deadline has passed: no forecast, no card.
        let now = Snapshot::build(&t.db, FONDO_INNOVAZIONE, today()).await.unwrap();
        assert!(now.comuni.iter().all(|e| e.forecasts.is_empty()), "{backend}");
        let s = now.summary(&ValidFilter::default());
        assert_eq!((s.con_previsione, s.a_rischio), (0, 0));
        assert!(!figures(&s, "").iter().any(|c| c.key == "a-rischio"), "{backend}");

        // The backtest: every comune forecast on 31/10 is counted once, flags and misses add up.
        let end = Snapshot::build(&t.db, FONDO_INNOVAZIONE, day(2021, 12, 31)).await.unwrap();
        let b = backtest::backtest(&october, &end);
        assert_eq!(b.comuni.forecast, with.len(), "{backend}");
        assert_eq!(b.comuni.flagged, s_a_rischio(&october), "{backend}");
        assert_eq!(b.comuni.missed, b.comuni.flagged_missed + b.comuni.missed_unflagged, "{backend}");
        assert!(backtest::report(&[b]).contains("Previsioni al 31/10/2021"), "{backend}");
    }
}

fn s_a_rischio(s: &Snapshot) -> usize {
    s.summary(&ValidFilter::default()).a_rischio as usize
}

/// Through the router, as of 31/10/2021 (`?al=`): a comune with open objectives shows its
/// «Previsioni» with a chart and the verdict in words, the dashboard shows the «a rischio» card
/// whose link keeps the day; today neither appears.
#[tokio::test]
async fn pages_as_of_a_day_before_the_deadline_show_the_forecasts() {
    use axum::http::StatusCode;

    use super::auth::{app_with, get, local, send};
    for t in TestDb::all().await {
        let backend = t.db.backend();
        let app = app_with(&t, local()).await;
        let october = Snapshot::build(&t.db, FONDO_INNOVAZIONE, day(2021, 10, 31)).await.unwrap();
        let e = october.comuni.iter().find(|e| !e.forecasts.is_empty()).expect("a comune with forecasts");
        let code = &e.record.codice_istat;
        let a = send(&app, get(&format!("/comuni/{code}?al=2021-10-31"), None)).await;
        assert_eq!(a.status, StatusCode::OK, "{backend}: {}", a.body);
        assert!(a.body.contains("<h2 id=\"previsioni\">Previsioni</h2>"), "{backend}");
        assert_eq!(a.body.matches("data-previsione=").count(), e.forecasts.len(), "{backend}");
        assert!(a.body.contains("A rischio") || a.body.contains("In tempo"), "{backend}");
        assert!(a.body.contains("role=\"img\" aria-label=\"Previsione: "), "{backend}: the chart");
        let today = send(&app, get(&format!("/comuni/{code}"), None)).await;
        assert!(
            !today.body.contains("id=\"previsioni\""),
            "{backend}: no forecast once the deadlines passed"
        );

        let a = send(&app, get("/?al=2021-10-31", None)).await;
        assert_eq!(a.status, StatusCode::OK, "{backend}");
        assert!(a.body.contains("data-figura=\"a-rischio\""), "{backend}: the card");
        assert!(a.body.contains("Comuni a rischio secondo la previsione"), "{backend}");
        let card = &a.body[a.body.find("data-figura=\"a-rischio\"").unwrap()..];
        let href = &card[card.find("href=\"").unwrap() + 6..];
        let href = &href[..href.find('"').unwrap()];
        assert!(href.contains("traguardo=a_rischio") && href.contains("al=2021-10-31"), "{backend}: {href}");
        let dashboard_today = send(&app, get("/", None)).await;
        assert!(!dashboard_today.body.contains("data-figura=\"a-rischio\""), "{backend}");
    }
}
