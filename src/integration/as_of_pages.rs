//! The programme as of any day (issue 18): every page and output that shows figures takes
//! `?al=`, on both backends, on the demo data. As of 28/02/2021 the dashboard gives the step-1
//! figure of the press release, as of 31/12/2021 every figure `traguardi check` compares; today
//! (no `al`) is what it was; days outside the programme and garbage are 400s in Italian; links,
//! file names and metadata keep the day; past days' snapshots are cached until a write.

use std::sync::Arc;

use axum::{
    body::Body,
    http::{header, Request, StatusCode},
    Router,
};
use chrono::NaiveDate;
use http_body_util::BodyExt;
use tower::ServiceExt;

use super::{
    dashboard::{app, dashboard},
    TestDb,
};
use crate::{
    comuni::ValidFilter,
    data::on_db,
    evaluation::{today, Snapshot},
};

fn ymd(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

/// Status, headers and body of a GET.
async fn fetch(app: &Router, uri: &str) -> (StatusCode, axum::http::HeaderMap, Vec<u8>) {
    let response = app.clone().oneshot(Request::get(uri).body(Body::empty()).unwrap()).await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let body = response.into_body().collect().await.unwrap().to_bytes().to_vec();
    (status, headers, body)
}

async fn page(app: &Router, uri: &str) -> String {
    let (status, _, body) = fetch(app, uri).await;
    let body = String::from_utf8_lossy(&body).into_owned();
    assert_eq!(status, StatusCode::OK, "{uri}: {}", &body[..body.len().min(400)]);
    // Attributes escape `&`: compare links as written in the address bar.
    body.replace("&amp;", "&")
}

fn disposition(headers: &axum::http::HeaderMap) -> String {
    headers[header::CONTENT_DISPOSITION].to_str().unwrap().to_string()
}

/// Every `href="…"` of a page.
fn hrefs(html: &str) -> Vec<&str> {
    html.split("href=\"").skip(1).filter_map(|s| s.split('"').next()).collect()
}

const NOTICE: &str = "i dati sono quelli registrati fino a quel giorno.";

#[tokio::test]
async fn the_dashboard_as_of_28_02_2021_and_31_12_2021_gives_the_published_figures() {
    for t in TestDb::all().await {
        let backend = t.db.backend();
        let (app, state) = app(&t).await;

        // Step 1's deadline: the figure of the press release, reached on time.
        let d = dashboard(&app, "al=2021-02-28").await;
        assert_eq!(d.al, Some(ymd(2021, 2, 28)), "{backend}");
        assert_eq!(d.summary.data_riferimento, Some(ymd(2021, 2, 28)), "{backend}");
        assert_eq!(d.summary.primo_step_in_tempo, 106, "{backend}: step 1 by 28/02/2021");
        // On the deadline's day nothing can be late yet: every step 1 reached is on time.
        assert_eq!(d.summary.primo_step, d.summary.primo_step_in_tempo, "{backend}");
        assert!(d.filtro.ends_with("al=2021-02-28"), "{backend}: {}", d.filtro);
        // The same day typed the Italian way.
        let typed = dashboard(&app, "al=28%2F02%2F2021").await;
        assert_eq!(typed.summary, d.summary, "{backend}");
        // The figures are those of that day's snapshot, whatever happened later.
        let built = Snapshot::build(&t.db, &state.programme, ymd(2021, 2, 28)).await.unwrap();
        assert_eq!(
            d.summary,
            built.summary(&ValidFilter { al: Some(ymd(2021, 2, 28)), ..Default::default() })
        );

        // The page says which day it shows, in words, and the step-1 card has the figure.
        let html = page(&app, "/?al=2021-02-28").await;
        assert!(html.contains("Situazione al 28/02/2021") && html.contains(NOTICE), "{backend}");
        assert!(html.contains("Dati al 28/02/2021"), "{backend}");
        assert!(html.contains("href=\"/\">Torna alla situazione di oggi"), "{backend}");
        assert!(html.contains("value=\"2021-02-28\""), "{backend}: the date field keeps the day");
        let card = html.split("data-figura=\"primo-step-in-tempo\"").nth(1).expect("the step-1 card");
        let card = &card[..card.find("</div>").unwrap()];
        assert!(card.contains("<span class=\"figura-valore\">106</span>"), "{backend}: {card}");

        // The end of the project: everything `traguardi check` compares agrees on that day.
        let end = dashboard(&app, "al=2021-12-31").await;
        assert_eq!(end.summary.aderenti, 133, "{backend}");
        let lines = crate::check::compare(&end.summary);
        for l in &lines {
            assert!(l.agrees, "{backend}: {} published {} computed {}", l.label, l.published, l.computed);
        }
        let sh = end.summary.tutti_obiettivi_share();
        assert!(sh.count * 100 > 85 * sh.whole && sh.count * 100 < 90 * sh.whole, "{backend}");
        t.drop_db().await;
    }
}

#[tokio::test]
async fn today_is_unchanged_by_the_day_and_its_links_carry_none() {
    for t in TestDb::all().await {
        let backend = t.db.backend();
        let (app, state) = app(&t).await;
        let d = dashboard(&app, "").await;
        assert_eq!(d.al, None, "{backend}");
        let snapshot = state.snapshot().await.unwrap();
        assert_eq!(d.summary, snapshot.summary(&ValidFilter::default()), "{backend}");
        assert_eq!(d.summary.data_riferimento, Some(today()), "{backend}");
        // Today named as a day is today: the same snapshot, no notice.
        assert!(Arc::ptr_eq(&state.snapshot_on(Some(today())).await.unwrap(), &snapshot), "{backend}");
        for uri in ["/", "/comuni", "/comuni/072006", "/comuni?provincia=LE&ordina=nome&pagina=2"] {
            let html = page(&app, uri).await;
            assert!(!html.contains(NOTICE), "{backend} {uri}: no day notice today");
            let with_day: Vec<&str> =
                hrefs(&html).into_iter().filter(|h| h.contains("?al=") || h.contains("&al=")).collect();
            assert!(with_day.is_empty(), "{backend} {uri}: {with_day:?}");
        }
        let (_, headers, _) = fetch(&app, "/export/comuni.csv").await;
        assert_eq!(
            disposition(&headers),
            format!("attachment; filename=\"comuni-dati-dimostrativi-{}.csv\"", today().format("%Y-%m-%d")),
            "{backend}"
        );
        t.drop_db().await;
    }
}

#[tokio::test]
async fn days_outside_the_programme_and_garbage_are_400_in_italian() {
    for t in TestDb::all().await {
        let backend = t.db.backend();
        let (app, _) = app(&t).await;
        let tomorrow = today().succ_opt().unwrap().format("%Y-%m-%d").to_string();
        let cases = [
            ("2020-12-14", "Giorno non consultabile: 14/12/2020"),
            (tomorrow.as_str(), "Giorno non consultabile"),
            ("ieri", "Data non valida: «ieri»"),
            ("31%2F02%2F2021", "Data non valida"),
        ];
        for (al, message) in cases {
            for path in [
                "/",
                "/comuni",
                "/comuni/072006",
                "/export/comuni.csv",
                "/export/comuni.xlsx",
                "/export/comuni.json",
                "/report.pdf",
                "/grafici/mappa.svg",
                "/api/v1/comuni",
                "/api/v1/province",
                "/api/v1/comuni/072006",
            ] {
                let uri = format!("{path}?al={al}");
                let (status, _, body) = fetch(&app, &uri).await;
                let body = String::from_utf8_lossy(&body);
                assert_eq!(status, StatusCode::BAD_REQUEST, "{backend} {uri}");
                assert!(body.contains(message), "{backend} {uri}: {}", &body[..body.len().min(300)]);
            }
        }
        // The refusal says the allowed range.
        let (_, _, body) = fetch(&app, "/api/v1/comuni?al=2019-01-01").await;
        let body = String::from_utf8_lossy(&body);
        let range =
            format!("dal 15/12/2020 (inizio del programma) al {} (oggi)", crate::format::date(today()));
        assert!(body.contains(&range), "{backend}: {body}");
        t.drop_db().await;
    }
}

#[tokio::test]
async fn links_keep_the_day() {
    for t in TestDb::all().await {
        let backend = t.db.backend();
        let (app, _) = app(&t).await;
        let day = "al=2021-02-28";

        // The dashboard: cards, province rows, list, exports, report, pictures.
        let html = page(&app, "/?provincia=LE&al=2021-02-28").await;
        let links: Vec<&str> = hrefs(&html)
            .into_iter()
            .filter(|h| {
                h.starts_with("/comuni?")
                    || h.starts_with("/export/")
                    || h.starts_with("/report.pdf")
                    || h.starts_with("/grafici/")
            })
            .collect();
        assert!(links.len() > 20, "{backend}: {links:?}");
        for h in &links {
            assert!(h.contains(day), "{backend}: {h}");
        }
        assert!(
            links.contains(&"/comuni?traguardo=primo_step_in_tempo&provincia=LE&al=2021-02-28")
                || links.iter().any(|h| h.contains("traguardo=primo_step_in_tempo") && h.contains(day))
        );
        // The way back keeps the filters and drops the day.
        assert!(html.contains("href=\"/?provincia=LE\">Torna alla situazione di oggi"), "{backend}");

        // The list: sort headers, pagination, exports and each comune's page.
        let html = page(&app, "/comuni?ordina=nome&al=2021-02-28").await;
        assert!(html.contains("Situazione al 28/02/2021") && html.contains(NOTICE), "{backend}");
        let links = hrefs(&html);
        let comuni: Vec<&&str> = links.iter().filter(|h| h.starts_with("/comuni/")).collect();
        assert!(comuni.len() >= 50, "{backend}: {}", comuni.len());
        assert!(comuni.iter().all(|h| h.ends_with("?al=2021-02-28")), "{backend}: {comuni:?}");
        // Every link keeps the day but the way back to today, which keeps the sort.
        assert!(html.contains("href=\"/comuni?ordina=nome\">Torna alla situazione di oggi"), "{backend}");
        for h in links.iter().filter(|h| h.starts_with("/comuni?") || h.starts_with("/export/")) {
            assert!(h.contains(day) || *h == "/comuni?ordina=nome", "{backend}: {h}");
        }
        assert!(links.iter().any(|h| h.contains("pagina=2") && h.contains(day)), "{backend}: pagination");

        // A comune's page of that day.
        let html = page(&app, "/comuni/072006?al=2021-02-28").await;
        assert!(html.contains("Situazione al 28/02/2021") && html.contains(NOTICE), "{backend}");
        assert!(html.contains("href=\"/comuni?al=2021-02-28\""), "{backend}: back to the list of that day");
        assert!(html.contains("href=\"/comuni/072006\">Torna alla situazione di oggi"), "{backend}");

        // The open-data API answers for that day and says so.
        let (status, _, body) = fetch(&app, "/api/v1/comuni/072006?al=2021-02-28").await;
        assert_eq!(status, StatusCode::OK, "{backend}");
        let json: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(json["metadati"]["data_riferimento"], "2021-02-28", "{backend}");
        assert_eq!(json["metadati"]["situazione_al"], "2021-02-28", "{backend}");
        t.drop_db().await;
    }
}

/// `docProps/core.xml` of a workbook.
fn core_properties(bytes: &[u8]) -> String {
    use std::io::Read;
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
    let mut s = String::new();
    zip.by_name("docProps/core.xml").unwrap().read_to_string(&mut s).unwrap();
    s
}

/// The PDF's document title (its metadata), as text.
fn pdf_title(bytes: &[u8]) -> String {
    use lopdf::{Document, Object};
    let pdf = Document::load_mem(bytes).unwrap();
    let info = match pdf.trailer.get(b"Info").unwrap() {
        Object::Reference(id) => pdf.get_object(*id).unwrap().as_dict().unwrap().clone(),
        Object::Dictionary(d) => d.clone(),
        other => panic!("Info: {other:?}"),
    };
    let Object::String(raw, _) = info.get(b"Title").unwrap() else { panic!("no title") };
    if let Some(utf16) = raw.strip_prefix(&[0xfe, 0xff]) {
        let units: Vec<u16> = utf16.chunks(2).map(|c| u16::from_be_bytes([c[0], c[1]])).collect();
        String::from_utf16_lossy(&units)
    } else {
        String::from_utf8_lossy(raw).into_owned()
    }
}

#[tokio::test]
async fn exports_and_the_report_name_the_day_in_file_and_metadata() {
    for t in TestDb::all().await {
        let backend = t.db.backend();
        let (app, _) = app(&t).await;
        let q = "provincia=TA&al=2021-02-28";
        for (path, file) in [
            ("/export/comuni.csv", "comuni-dati-dimostrativi-al-2021-02-28.csv"),
            ("/export/comuni-excel.csv", "comuni-excel-dati-dimostrativi-al-2021-02-28.csv"),
            ("/export/comuni.xlsx", "comuni-dati-dimostrativi-al-2021-02-28.xlsx"),
            ("/export/comuni.json", "comuni-dati-dimostrativi-al-2021-02-28.json"),
            ("/grafici/mappa.svg", "traguardi-mappa-dati-dimostrativi-al-2021-02-28.svg"),
        ] {
            let (status, headers, _) = fetch(&app, &format!("{path}?{q}")).await;
            assert_eq!(status, StatusCode::OK, "{backend} {path}");
            assert_eq!(disposition(&headers), format!("attachment; filename=\"{file}\""), "{backend}");
        }
        // The CSV holds that day's outcome: the rows of the snapshot of that day.
        let (_, _, csv) = fetch(&app, &format!("/export/comuni.csv?{q}")).await;
        let snapshot = Snapshot::build(&t.db, crate::data::programme::FONDO_INNOVAZIONE, ymd(2021, 2, 28))
            .await
            .unwrap();
        let filter =
            ValidFilter { provincia: Some("TA".into()), al: Some(ymd(2021, 2, 28)), ..Default::default() };
        let expected = crate::comuni::export::write_csv(
            &snapshot,
            snapshot.filtered(&filter),
            crate::comuni::export::Dialect::Contract,
        )
        .unwrap();
        assert_eq!(String::from_utf8(csv).unwrap(), String::from_utf8(expected).unwrap(), "{backend}");

        let (_, _, xlsx) = fetch(&app, &format!("/export/comuni.xlsx?{q}")).await;
        assert!(core_properties(&xlsx).contains("Situazione al 28/02/2021"), "{backend}");
        let (_, _, json) = fetch(&app, &format!("/export/comuni.json?{q}")).await;
        let json: serde_json::Value = serde_json::from_slice(&json).unwrap();
        assert_eq!(json["metadati"]["situazione_al"], "2021-02-28", "{backend}");
        assert_eq!(json["metadati"]["data_riferimento"], "2021-02-28", "{backend}");
        assert_eq!(json["metadati"]["filtro"], "provincia=TA&al=2021-02-28", "{backend}");

        let (status, headers, pdf) = fetch(&app, &format!("/report.pdf?{q}")).await;
        assert_eq!(status, StatusCode::OK, "{backend}");
        assert_eq!(
            disposition(&headers),
            "inline; filename=\"rapporto-dati-dimostrativi-al-2021-02-28.pdf\"",
            "{backend}"
        );
        assert!(pdf_title(&pdf).contains("situazione al 28/02/2021"), "{backend}: {}", pdf_title(&pdf));
        let text: String = pdf_extract::extract_text_from_mem(&pdf)
            .unwrap()
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect();
        assert!(text.contains("situazioneal28/02/2021"), "{backend}: the heading names the day");

        // Today's workbook has no such subject.
        let (_, _, xlsx) = fetch(&app, "/export/comuni.xlsx").await;
        assert!(!core_properties(&xlsx).contains("Situazione al"), "{backend}");
        t.drop_db().await;
    }
}

#[tokio::test]
async fn the_scadenze_exports_name_a_past_day() {
    use super::auth::{app_with, get, local, send, sign_in, REGIONE};
    for t in TestDb::all().await {
        let backend = t.db.backend();
        let app = app_with(&t, local()).await;
        let token = sign_in(&app, REGIONE).await;
        let a = send(&app, get("/export/scadenze.csv?al=2021-02-15", Some(&token))).await;
        assert_eq!(a.status, StatusCode::OK, "{backend}");
        let file = disposition(&a.headers);
        assert!(file.starts_with("attachment; filename=\"scadenze-"), "{backend}: {file}");
        assert!(file.ends_with("-al-2021-02-15.csv\""), "{backend}: {file}");
        let a = send(&app, get("/scadenze?al=2021-02-15", Some(&token))).await;
        assert!(a.body.contains("Situazione al 15/02/2021") && a.body.contains(NOTICE), "{backend}");
        let a = send(&app, get("/scadenze?al=2019-02-15", Some(&token))).await;
        assert_eq!(a.status, StatusCode::BAD_REQUEST, "{backend}: before the programme");
        assert!(a.body.contains("Giorno non consultabile"), "{backend}");
        // Today's list keeps its file name.
        let a = send(&app, get("/export/scadenze.csv", Some(&token))).await;
        assert!(!disposition(&a.headers).contains("-al-"), "{backend}");
        t.drop_db().await;
    }
}

#[tokio::test]
async fn a_past_day_is_evaluated_once_until_a_write() {
    for t in TestDb::all().await {
        let backend = t.db.backend();
        let (app, state) = app(&t).await;
        let day = Some(ymd(2021, 2, 28));
        let first = state.snapshot_on(day).await.unwrap();
        let again = state.snapshot_on(day).await.unwrap();
        assert!(Arc::ptr_eq(&first, &again), "{backend}: asked twice, evaluated once");
        // The pages share it: asking the dashboard of that day evaluates nothing new.
        dashboard(&app, "al=2021-02-28").await;
        assert!(Arc::ptr_eq(&first, &state.snapshot_on(day).await.unwrap()), "{backend}");
        // Another day is another snapshot; the first stays cached.
        let other = state.snapshot_on(Some(ymd(2021, 12, 31))).await.unwrap();
        assert_eq!(other.as_of, ymd(2021, 12, 31), "{backend}");
        assert!(Arc::ptr_eq(&first, &state.snapshot_on(day).await.unwrap()), "{backend}");

        // A write: the kept day is evaluated again, on the new data.
        on_db!(&t.db, pool => sqlx::query(crate::data::BUMP_DATA_VERSION).execute(pool).await.map(|_| ()).unwrap());
        let after = state.snapshot_on(day).await.unwrap();
        assert!(!Arc::ptr_eq(&first, &after), "{backend}: a write invalidates");
        assert!(after.version > first.version, "{backend}");
        assert_eq!(after.as_of, first.as_of, "{backend}");
        assert!(Arc::ptr_eq(&after, &state.snapshot_on(day).await.unwrap()), "{backend}");

        // The cache is bounded: more days than it keeps, and the first is evaluated again.
        for n in 0..crate::evaluation::PAST_DAYS_KEPT as u32 {
            state.snapshot_on(Some(ymd(2021, 3, 1 + n))).await.unwrap();
        }
        assert!(!Arc::ptr_eq(&after, &state.snapshot_on(day).await.unwrap()), "{backend}: dropped");
        t.drop_db().await;
    }
}

/// A comune's page of a past day lists its services as they stood that day, in step with its
/// figures: no service recorded, activated or published later, and exactly the pagoPA and App
/// IO services the rules counted active that day. Today's lists keep every row.
#[tokio::test]
async fn a_comune_page_of_a_past_day_lists_the_services_of_that_day() {
    for t in TestDb::all().await {
        let backend = t.db.backend();
        let (_, state) = app(&t).await;
        // A demo comune whose services came during the programme (Bari's demo has none).
        let today_snapshot = state.snapshot().await.unwrap();
        let codice = today_snapshot
            .comuni
            .iter()
            .find(|e| {
                e.record.facts.io.iter().any(|s| s.published_since.is_some_and(|p| p > ymd(2021, 3, 1)))
                    && e.record
                        .facts
                        .pagopa
                        .iter()
                        .any(|s| s.active_since.is_some_and(|a| a > ymd(2021, 3, 1)))
            })
            .map(|e| e.record.codice_istat.clone())
            .expect("a demo comune with services activated after step 1");
        let codice = codice.as_str();
        let today_detail = crate::comuni::server::ssr::detail_on(&state, codice, None).await.unwrap();
        let (pagopa, io, online) = crate::data::facts::services_of(&state.db, codice).await.unwrap();
        assert_eq!(
            (today_detail.pagopa.len(), today_detail.io.len(), today_detail.online.len()),
            (pagopa.len(), io.len(), online.len()),
            "{backend}: today lists every recorded row"
        );
        let active = |d: &crate::comuni::ComuneDetail| {
            d.pagopa.iter().filter(|s| s.active_since.is_some()).count() + d.io.len()
        };
        let mut shorter = false;
        for d in [ymd(2020, 12, 15), ymd(2021, 2, 28), ymd(2021, 12, 31)] {
            let detail = crate::comuni::server::ssr::detail_on(&state, codice, Some(d)).await.unwrap();
            let snapshot = state.snapshot_on(Some(d)).await.unwrap();
            let facts = &snapshot.find(codice).unwrap().record.facts;
            let counted = facts.pagopa.iter().filter(|s| s.counts_active_on(d)).count();
            let listed = detail
                .pagopa
                .iter()
                .filter(|s| s.applicable && s.active_since.is_some() && s.deactivated_on.is_none())
                .count();
            assert_eq!(listed, counted, "{backend} {codice} {d}: the pagoPA list and the rules agree");
            for s in &detail.pagopa {
                assert!(s.active_since.is_none_or(|a| a <= d), "{backend} {d}: {s:?}");
                assert!(s.deactivated_on.is_none_or(|a| a <= d), "{backend} {d}: {s:?}");
            }
            for s in &detail.io {
                assert!(s.published_since.is_some_and(|p| p <= d), "{backend} {d}: {s:?}");
            }
            assert_eq!(
                detail.io.len(),
                facts.io.iter().filter(|s| crate::rules::on_at(s.published_since, s.withdrawn_on, d)).count(),
                "{backend} {codice} {d}: the App IO list and the rules agree"
            );
            for s in &detail.online {
                assert!(
                    s.spid_since.is_none_or(|x| x <= d) && s.cie_since.is_none_or(|x| x <= d),
                    "{backend} {d}"
                );
            }
            shorter |= active(&detail) < active(&today_detail);
        }
        assert!(shorter, "{backend} {codice}: fewer active services on a past day than today");
        t.drop_db().await;
    }
}

/// The private area of a past day's page is today's (referents, blockers, verifications): the
/// page says so in words with a link to today's; today's page has no such line.
#[tokio::test]
async fn the_private_area_of_a_past_day_says_it_is_todays() {
    use super::auth::{app_with, get, local, send, sign_in, CODICE_A, REGIONE, SECRET_A};
    for t in TestDb::all().await {
        let backend = t.db.backend();
        let app = app_with(&t, local()).await;
        let token = sign_in(&app, REGIONE).await;
        let past = send(&app, get(&format!("/comuni/{CODICE_A}?al=2021-02-28"), Some(&token))).await;
        assert_eq!(past.status, StatusCode::OK, "{backend}");
        assert!(past.body.contains("Area riservata") && past.body.contains(SECRET_A), "{backend}");
        assert!(
            past.body.contains("Quest&#x27;area mostra la situazione di oggi, non quella del 28/02/2021.")
                || past.body.contains("Quest'area mostra la situazione di oggi, non quella del 28/02/2021."),
            "{backend}"
        );
        assert!(past.body.contains(&format!("href=\"/comuni/{CODICE_A}#riservato\"")), "{backend}");
        let today = send(&app, get(&format!("/comuni/{CODICE_A}"), Some(&token))).await;
        assert!(today.body.contains("Area riservata") && !today.body.contains("riservato-oggi"), "{backend}");
        t.drop_db().await;
    }
}
