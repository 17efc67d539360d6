//! `/scadenze`, `/api/scadenze` and `/export/scadenze.csv` on the demo data, on both backends:
//! what is listed on 15/02/2021 (step 1 due on 28/02/2021), the blockers open on that day, the
//! CSV, the province filter, a bad date, and who sees what.

use axum::http::{header, StatusCode};
use chrono::NaiveDate;

use super::{
    auth::{add_user, app_with, form, get, local, send, sign_in, ASSESSORE, COMUNE_A, REGIONE},
    TestDb,
};
use crate::{
    data::{on_db, programme::FONDO_INNOVAZIONE, Db},
    scadenze::{export::HEADER, ScadenzeData, Urgency},
};

fn day(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

async fn add_blocker(
    db: &Db,
    comune: &str,
    category: &str,
    description: &str,
    opened_on: &str,
    resolved_on: Option<&str>,
) {
    on_db!(db, pool => sqlx::query(
        "INSERT INTO blocker (programme, comune, category, description, opened_on, resolved_on) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(FONDO_INNOVAZIONE)
    .bind(comune)
    .bind(category)
    .bind(description)
    .bind(day(opened_on))
    .bind(resolved_on.map(day))
    .execute(pool)
    .await
    .map(|_| ())
    .unwrap());
}

/// The page's data through its server function.
async fn one_page(app: &axum::Router, token: &str, body: &str) -> ScadenzeData {
    let a = send(app, form("/api/scadenze", body, Some(token))).await;
    assert_eq!(a.status, StatusCode::OK, "{body}: {}", a.body);
    serde_json::from_str(&a.body).unwrap()
}

/// Every row of every table: the server function's first page, then each table's other pages
/// (`pagina_…`), checked against the totals the first page gives.
async fn data(app: &axum::Router, token: &str, body: &str) -> ScadenzeData {
    let mut all = one_page(app, token, body).await;
    for (i, (key, _)) in crate::scadenze::SECTIONS.iter().enumerate() {
        let count = all.counts[i];
        for p in 2..=count.pages {
            let more = one_page(app, token, &format!("{body}&query[{key}]={p}")).await;
            assert_eq!(more.counts[i].page, p, "{body}: {key}");
            match i {
                0 => all.overdue.extend(more.overdue),
                1 => all.due_soon.extend(more.due_soon),
                _ => all.at_risk.extend(more.at_risk),
            }
        }
        let rows = [all.overdue.len(), all.due_soon.len(), all.at_risk.len()][i];
        assert_eq!(rows, count.total, "{body}: {key}: the pages hold the whole table");
    }
    all
}

fn csv_rows(body: &str) -> Vec<csv::StringRecord> {
    csv::Reader::from_reader(body.as_bytes()).records().map(Result::unwrap).collect()
}

const OPEN: &str = "Il partner tecnologico non ha ancora attivato il nodo pagoPA";
const RESOLVED: &str = "Delibera di giunta approvata a gennaio";
const LATER: &str = "Ostacolo aperto dopo la data richiesta";
const OTHER: &str = "Ostacolo di un comune che non compare";

#[tokio::test]
async fn deadlines_with_blockers_csv_and_access() {
    for t in TestDb::all().await {
        let backend = t.db.backend();
        let app = app_with(&t, local()).await;
        let regione = sign_in(&app, REGIONE).await;

        // 15/02/2021: nothing is overdue yet; step 1 (28/02/2021) is due in 13 days.
        let d = data(&app, &regione, "query[al]=2021-02-15").await;
        assert_eq!(d.as_of, day("2021-02-15"));
        assert!(d.overdue.is_empty(), "{backend}: {:?}", d.overdue.first());
        assert!(!d.due_soon.is_empty(), "{backend}");
        // Not a demo any more: the test accounts are real (see integration::demo_data).
        assert!(!d.own_comuni_only && !d.demo);
        for r in &d.due_soon {
            assert_eq!(
                (r.deadline, r.urgency),
                (day("2021-02-28"), Urgency::DueSoon { days: 13 }),
                "{backend}"
            );
        }
        // Ordered by deadline, then comune name.
        let names: Vec<&str> = d.due_soon.iter().map(|r| r.denominazione.as_str()).collect();
        let mut sorted = names.clone();
        sorted.sort();
        assert_eq!(names, sorted, "{backend}");
        // Only comuni in the programme: each listed comune is an adherent in the open data.
        let comuni_csv = send(&app, get("/export/comuni.csv", None)).await.body;
        let supported: Vec<String> = csv_rows(&comuni_csv)
            .iter()
            .filter(|r| r[5].starts_with("aderente"))
            .map(|r| r[0].to_string())
            .collect();
        assert!(d.due_soon.iter().all(|r| supported.contains(&r.codice_istat)), "{backend}");

        // Blockers: open on the day, resolved before it, opened after it; and one of a comune
        // that has nothing due.
        // Not Bari: its user (COMUNE_A) is the one who must not see the target.
        let first = d.due_soon.iter().find(|r| r.codice_istat != "072006").unwrap();
        let (target, target_name) = (first.codice_istat.clone(), first.denominazione.clone());
        let listed = |c: &String| d.due_soon.iter().chain(&d.at_risk).any(|r| &r.codice_istat == c);
        let absent = supported.iter().find(|c| !listed(c)).cloned();
        add_blocker(&t.db, &target, "fornitore", OPEN, "2021-01-20", Some("2021-03-15")).await;
        add_blocker(&t.db, &target, "delibera", RESOLVED, "2021-01-05", Some("2021-01-30")).await;
        add_blocker(&t.db, &target, "tecnico", LATER, "2021-02-20", None).await;
        if let Some(absent) = &absent {
            add_blocker(&t.db, absent, "altro", OTHER, "2021-01-01", None).await;
        }

        let d = data(&app, &regione, "query[al]=2021-02-15").await;
        for r in &d.due_soon {
            let texts: Vec<&str> = r.blockers.iter().map(|b| b.description.as_str()).collect();
            if r.codice_istat == target {
                assert_eq!(texts, [OPEN], "{backend}: the blocker open on 15/02/2021 only");
            } else {
                assert!(texts.is_empty(), "{backend}: {texts:?}");
            }
        }

        // The page, as the Region sees it.
        let a = send(&app, get("/scadenze?al=2021-02-15", Some(&regione))).await;
        assert_eq!(a.status, StatusCode::OK, "{backend}");
        let html = a.body;
        assert!(html.contains("<h2 id=\"scaduti\">Obiettivi scaduti e non raggiunti</h2>"), "{backend}");
        assert!(html.contains("In scadenza entro 30 giorni"));
        assert!(html.contains("<caption>Obiettivi scaduti e non raggiunti al 15/02/2021</caption>"));
        assert!(html.contains("Nessun obiettivo scaduto e non raggiunto."));
        assert_eq!(html.matches("<tbody>").count(), 3, "the three tables have a body");
        assert!(html.contains("28/02/2021") && html.contains("In scadenza tra 13 giorni"));
        assert!(
            html.contains(&format!("href=\"/comuni/{target}?al=2021-02-15\"")),
            "{backend}: link to the comune, same day"
        );
        assert!(html.contains(&target_name));
        assert!(html.contains(OPEN) && html.contains("<strong>Fornitore</strong>"), "{backend}");
        assert!(!html.contains(RESOLVED) && !html.contains(LATER) && !html.contains(OTHER));
        assert!(html.contains("Nessuno"), "comuni without blockers say so");
        assert!(html.contains("value=\"2021-02-15\""), "the form keeps the date");
        assert!(html.contains("/export/scadenze.csv?al=2021-02-15"), "the export link keeps the date");
        // A long table: its first page and links to the others, landing on its heading.
        if d.due_soon.len() > crate::paging::PAGE_SIZE {
            assert_eq!(
                html.matches("In scadenza tra 13 giorni").count(),
                crate::paging::PAGE_SIZE,
                "{backend}"
            );
            assert!(
                html.contains("href=\"/scadenze?al=2021-02-15&amp;pagina_in_scadenza=2#in-scadenza\""),
                "{backend}"
            );
            assert!(html.contains(&format!("Pagina 1: righe 1–50 di {}.", d.due_soon.len())), "{backend}");
        }
        assert!(html.contains("href=\"/scadenze\""), "the navigation offers the page when signed in");

        // A day after step 1's deadline, what was due is overdue.
        let march = data(&app, &regione, "query[al]=2021-03-01").await;
        assert!(!march.overdue.is_empty() && march.due_soon.is_empty(), "{backend}");
        assert!(march.overdue.iter().all(|r| r.urgency == Urgency::Overdue { days: 1 }));
        let html = send(&app, get("/scadenze?al=2021-03-01", Some(&regione))).await.body;
        assert!(html.contains("Scaduto da 1 giorno") && html.contains("Nessun obiettivo in scadenza."));

        // The province filter.
        let ta = data(&app, &regione, "query[al]=2021-02-15&query[provincia]=TA").await;
        assert!(ta.due_soon.iter().all(|r| r.sigla_provincia == "TA"), "{backend}");
        assert_eq!(ta.due_soon.len(), d.due_soon.iter().filter(|r| r.sigla_provincia == "TA").count());

        // The CSV: same rows, the date in the file name.
        let a = send(&app, get("/export/scadenze.csv?al=2021-02-15", Some(&regione))).await;
        assert_eq!(a.status, StatusCode::OK, "{backend}: {}", a.body);
        assert!(a.headers[header::CONTENT_TYPE].to_str().unwrap().starts_with("text/csv"));
        let disposition = a.headers[header::CONTENT_DISPOSITION].to_str().unwrap();
        assert!(disposition.contains("scadenze-") && disposition.contains("2021-02-15.csv"), "{disposition}");
        assert_eq!(a.body.lines().next().unwrap(), HEADER.join(","));
        let rows = csv_rows(&a.body);
        // The due-soon rows, then the final objectives forecast a rischio (due in 319 days).
        assert_eq!(rows.len(), d.due_soon.len() + d.at_risk.len(), "{backend}");
        let col = |name: &str| HEADER.iter().position(|h| *h == name).unwrap();
        let (soon, later) = rows.split_at(d.due_soon.len());
        assert!(soon.iter().all(|r| &r[col("stato")] == "in_scadenza" && &r[col("giorni")] == "13"));
        assert!(soon.iter().all(|r| &r[col("scadenza")] == "2021-02-28"));
        assert!(later.iter().all(|r| &r[col("scadenza")] == "2021-12-31" && &r[col("a_rischio")] == "si"));
        let row = rows.iter().find(|r| r[0] == *target).unwrap();
        assert_eq!(&row[col("ostacoli_aperti")], "1");
        assert_eq!(row[col("descrizione_ostacoli")], format!("fornitore: {OPEN}"));
        let a = send(&app, get("/export/scadenze.csv?al=2021-02-15&provincia=TA", Some(&regione))).await;
        assert!(csv_rows(&a.body).iter().all(|r| &r[2] == "TA"));

        // For Excel: the same rows, `;`, a byte-order mark, the deadline dd/mm/yyyy.
        let a = send(&app, get("/export/scadenze-excel.csv?al=2021-02-15", Some(&regione))).await;
        assert_eq!(a.status, StatusCode::OK, "{backend}: {}", a.body);
        let disposition = a.headers[header::CONTENT_DISPOSITION].to_str().unwrap();
        assert!(
            disposition.contains("scadenze-excel-") && disposition.ends_with("2021-02-15.csv\""),
            "{disposition}"
        );
        let text = a.body.strip_prefix('\u{feff}').expect("a UTF-8 byte-order mark first");
        assert_eq!(text.lines().next().unwrap(), HEADER.join(";"));
        let excel: Vec<csv::StringRecord> = csv::ReaderBuilder::new()
            .delimiter(b';')
            .from_reader(text.as_bytes())
            .records()
            .map(Result::unwrap)
            .collect();
        assert_eq!(excel.len(), rows.len(), "{backend}");
        for (e, c) in excel.iter().zip(&rows) {
            for (i, (ev, cv)) in e.iter().zip(c.iter()).enumerate() {
                // Dates dd/mm/yyyy for Excel.
                let expected = if i == col("scadenza") || i == col("previsione") {
                    NaiveDate::parse_from_str(cv, "%Y-%m-%d")
                        .map(|d| d.format("%d/%m/%Y").to_string())
                        .unwrap_or_default()
                } else {
                    cv.to_string()
                };
                assert_eq!(ev, expected, "{backend}: {}", HEADER[i]);
            }
        }

        // Assessors read everything, like the Region.
        let assessore = sign_in(&app, ASSESSORE).await;
        assert_eq!(data(&app, &assessore, "query[al]=2021-02-15").await, d, "{backend}");

        // A comune's user: its own comune only, on the page, the server function and the CSV.
        let own = "comune.scadenze@test.invalid";
        add_user(&t.db, own, "comune", &target, "").await;
        let token = sign_in(&app, own).await;
        let mine = data(&app, &token, "query[al]=2021-02-15").await;
        assert!(mine.own_comuni_only);
        assert!(!mine.due_soon.is_empty());
        assert!(mine.due_soon.iter().all(|r| r.codice_istat == target), "{backend}");
        let html = send(&app, get("/scadenze?al=2021-02-15", Some(&token))).await.body;
        assert!(html.contains(OPEN) && html.contains("Sono mostrati solo i comuni per cui operi."));
        let csv = send(&app, get("/export/scadenze.csv?al=2021-02-15", Some(&token))).await.body;
        assert!(csv_rows(&csv).iter().all(|r| r[0] == *target));
        // Another comune's user never sees that comune or its blocker.
        let bari = sign_in(&app, COMUNE_A).await;
        let theirs = data(&app, &bari, "query[al]=2021-02-15").await;
        assert!(theirs.due_soon.iter().all(|r| r.codice_istat == "072006"), "{backend}");
        let html = send(&app, get("/scadenze?al=2021-02-15", Some(&bari))).await.body;
        assert!(!html.contains(OPEN));
        let csv = send(&app, get("/export/scadenze.csv?al=2021-02-15", Some(&bari))).await.body;
        assert!(!csv.contains(OPEN) && !csv.contains(&*target));

        // The public is asked to sign in, and gets no data.
        for (uri, is_page) in [
            ("/scadenze?al=2021-02-15", true),
            ("/export/scadenze.csv?al=2021-02-15", false),
            ("/export/scadenze-excel.csv?al=2021-02-15", false),
        ] {
            let a = send(&app, get(uri, None)).await;
            assert_eq!(a.status, StatusCode::UNAUTHORIZED, "{backend} {uri}");
            assert!(a.body.contains("Per questa sezione occorre accedere"), "{uri}");
            assert!(!a.body.contains(OPEN) && !a.body.contains("In scadenza tra"), "{uri}");
            if is_page {
                assert!(a.body.contains("href=\"/accedi\""));
                assert!(!a.body.contains("href=\"/scadenze\""), "no navigation link for the public");
            }
        }
        let a = send(&app, form("/api/scadenze", "query[al]=2021-02-15", None)).await;
        assert_eq!(a.status, StatusCode::UNAUTHORIZED);
        assert!(!a.body.contains(OPEN));

        // A bad date: a 400 in Italian, never a panic or a 500.
        for uri in ["/scadenze?al=2021-02-30", "/scadenze?al=ieri", "/export/scadenze.csv?al=2021-13-01"] {
            let a = send(&app, get(uri, Some(&regione))).await;
            assert_eq!(a.status, StatusCode::BAD_REQUEST, "{backend} {uri}");
            assert!(a.body.contains("Data non valida"), "{uri}: {}", &a.body[..a.body.len().min(300)]);
        }
        let a = send(&app, get("/scadenze?provincia=XX", Some(&regione))).await;
        assert_eq!(a.status, StatusCode::BAD_REQUEST);
        assert!(a.body.contains("Provincia sconosciuta: «XX»"));
        // The Italian form of the date works too (a browser without a date picker).
        let a = send(&app, get("/scadenze?al=15%2F02%2F2021", Some(&regione))).await;
        assert_eq!(a.status, StatusCode::OK);
        assert!(a.body.contains("In scadenza tra 13 giorni"));
        t.drop_db().await;
    }
}

/// The forecasts on `/scadenze` (demo data, 15/02/2021): every due-soon objective carries one,
/// the final objectives forecast a rischio are listed apart, `ordina=rischio` puts the latest
/// forecasts first, the CSV has the expected day, and a bad order is a 400 in Italian.
#[tokio::test]
async fn open_objectives_carry_their_forecast_and_sort_by_risk() {
    for t in TestDb::all().await {
        let backend = t.db.backend();
        let app = app_with(&t, local()).await;
        let regione = sign_in(&app, REGIONE).await;
        let d = data(&app, &regione, "query[al]=2021-02-15").await;
        assert!(!d.by_risk);
        assert!(
            d.due_soon.iter().all(|r| r.previsione.is_some()),
            "{backend}: open objectives have a forecast"
        );
        assert!(!d.at_risk.is_empty(), "{backend}: some final objectives look late in February");
        for r in &d.at_risk {
            let f = r.previsione.expect("a forecast");
            assert!(f.at_risk, "{backend}");
            assert_eq!(r.deadline, day("2021-12-31"), "{backend}");
            assert!(f.expected.is_none_or(|e| e > r.deadline), "{backend}: {f:?}");
        }
        // By risk: the same rows, lateness never increasing down the list.
        let by_risk = data(&app, &regione, "query[al]=2021-02-15&query[ordina]=rischio").await;
        assert!(by_risk.by_risk);
        for (sorted, plain) in [(&by_risk.due_soon, &d.due_soon), (&by_risk.at_risk, &d.at_risk)] {
            assert_eq!(sorted.len(), plain.len(), "{backend}");
            let lateness: Vec<i64> =
                sorted.iter().map(|r| r.previsione.map_or(i64::MIN, |f| f.lateness(r.deadline))).collect();
            assert!(lateness.windows(2).all(|w| w[0] >= w[1]), "{backend}: {lateness:?}");
            let mut a: Vec<_> = sorted.iter().map(|r| (&r.codice_istat, &r.objective_code)).collect();
            let mut b: Vec<_> = plain.iter().map(|r| (&r.codice_istat, &r.objective_code)).collect();
            a.sort();
            b.sort();
            assert_eq!(a, b, "{backend}");
        }
        // The page says the forecast in words and keeps the order in its form and export link.
        let html = send(&app, get("/scadenze?al=2021-02-15&ordina=rischio", Some(&regione))).await.body;
        assert!(html.contains("<th scope=\"col\">Previsione</th>"), "{backend}");
        assert!(html.contains("A rischio"), "{backend}");
        assert!(html.contains("<option value=\"rischio\" selected"), "{backend}: the form keeps the order");
        let export = "/export/scadenze.csv?al=2021-02-15&amp;ordina=rischio";
        assert!(html.contains(export) || html.contains(&export.replace("&amp;", "&")), "{backend}");
        // The CSV's expected day is the forecast's.
        let csv = send(&app, get("/export/scadenze.csv?al=2021-02-15", Some(&regione))).await.body;
        let col = |name: &str| HEADER.iter().position(|h| *h == name).unwrap();
        let rows = csv_rows(&csv);
        for (row, r) in rows.iter().skip(d.overdue.len()).zip(d.due_soon.iter().chain(&d.at_risk)) {
            let f = r.previsione.unwrap();
            assert_eq!(
                &row[col("previsione")],
                f.expected.map(|e| e.to_string()).unwrap_or_default(),
                "{backend}"
            );
            assert_eq!(&row[col("a_rischio")], if f.at_risk { "si" } else { "no" }, "{backend}");
        }
        // A bad order.
        let a = send(&app, get("/scadenze?ordina=caso", Some(&regione))).await;
        assert_eq!(a.status, StatusCode::BAD_REQUEST, "{backend}");
        assert!(a.body.contains("Ordinamento non valido: «caso»"), "{backend}");
    }
}
