//! `/comuni` as a search tool, on both backends, through the real router: search by name or
//! code, the new filters (blocked, overdue, steps), sorting, pagination and the CSV export of
//! exactly the same view.

use axum::{
    body::Body,
    http::{Request, StatusCode},
    Router,
};
use http_body_util::BodyExt;
use leptos::prelude::LeptosOptions;
use tower::ServiceExt;

use super::TestDb;
use crate::{
    data::{on_db, programme::FONDO_INNOVAZIONE, BUMP_DATA_VERSION},
    demo,
    server::router,
    state::AppState,
};

async fn app(t: &TestDb) -> Router {
    demo::load(&t.db).await.unwrap();
    let options = LeptosOptions::builder().output_name("traguardi").build();
    router(AppState::new(options, t.db.clone()))
}

async fn send(app: &Router, uri: &str) -> (StatusCode, String) {
    let response = app.clone().oneshot(Request::get(uri).body(Body::empty()).unwrap()).await.unwrap();
    let status = response.status();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    (status, String::from_utf8_lossy(&body).into_owned())
}

async fn get(app: &Router, uri: &str) -> String {
    let (status, body) = send(app, uri).await;
    assert_eq!(status, StatusCode::OK, "{uri}: {}", &body[..body.len().min(500)]);
    body
}

/// The ISTAT codes of the rows of a `/comuni` page, in order.
fn listed(html: &str) -> Vec<String> {
    let Some(start) = html.find("<tbody") else { return Vec::new() };
    let body = &html[start..start + html[start..].find("</tbody>").unwrap()];
    body.match_indices("href=\"/comuni/")
        .map(|(i, m)| body[i + m.len()..i + m.len() + 6].to_string())
        .collect()
}

/// The ISTAT codes of a CSV export, in order.
fn exported(csv: &str) -> Vec<String> {
    csv::Reader::from_reader(csv.as_bytes()).records().map(|r| r.unwrap()[0].to_string()).collect()
}

/// `href` values as the page writes them (`&` may be escaped).
fn has_link(html: &str, href: &str) -> bool {
    html.contains(&format!("href=\"{href}\""))
        || html.contains(&format!("href=\"{}\"", href.replace('&', "&amp;")))
}

#[tokio::test]
async fn search_finds_comuni_by_name_without_accents_and_by_code() {
    for t in TestDb::all().await {
        let backend = t.db.backend();
        let app = app(&t).await;

        let html = get(&app, "/comuni?q=nardo").await;
        assert_eq!(listed(&html), ["075052"], "{backend}: nardo");
        assert!(html.contains("Nardò"), "{backend}");
        assert!(html.contains("1 comune trovato (pagina 1 di 1)."), "{backend}");
        // The search box shows what was searched.
        assert!(html.contains("value=\"nardo\""), "{backend}");

        let html = get(&app, "/comuni?q=sant%20agata").await;
        assert!(listed(&html).contains(&"071052".to_string()), "{backend}: Sant'Agata di Puglia");
        assert!(!listed(&html).contains(&"071033".to_string()), "{backend}: not Monte Sant'Angelo");
        let html = get(&app, "/comuni?q=Sant%27Agata+di+Puglia").await;
        assert_eq!(listed(&html), ["071052"], "{backend}");

        let html = get(&app, "/comuni?q=073013").await;
        assert_eq!(listed(&html), ["073013"], "{backend}: Martina Franca by ISTAT code");
        assert!(html.contains("Martina Franca"));
        // The beginning of a code: the province of Taranto is 073.
        let html = get(&app, "/comuni?q=073").await;
        assert!(html.contains("29 comuni trovati (pagina 1 di 1)."), "{backend}");
        // The cadastral code, any case.
        let html = get(&app, "/comuni?q=e986").await;
        assert_eq!(listed(&html), ["073013"], "{backend}: cadastral code");
        let html = get(&app, "/comuni?q=MONTE%20SANT%E2%80%99ANGELO").await;
        assert_eq!(listed(&html), ["071033"], "{backend}: typographic apostrophe");

        // Search and filters together.
        let html = get(&app, "/comuni?q=san&provincia=BR").await;
        assert!(listed(&html).contains(&"074016".to_string()), "{backend}: San Pietro Vernotico");
        assert!(listed(&html).iter().all(|c| c.starts_with("074")), "{backend}");
        // What end2end/tests/comuni.spec.ts relies on: some of them reached step 1.
        let html = get(&app, "/comuni?q=san&provincia=BR&primo_step=raggiunto").await;
        assert!(!listed(&html).is_empty(), "{backend}");

        let html = get(&app, "/comuni?q=zzzz").await;
        assert!(html.contains("0 comuni trovati (pagina 1 di 1)."), "{backend}");
        assert!(html.contains("Nessun comune corrisponde"), "{backend}");
        t.drop_db().await;
    }
}

#[tokio::test]
async fn blocked_and_overdue_filters_follow_the_data() {
    for t in TestDb::all().await {
        let backend = t.db.backend();
        let app = app(&t).await;
        // The blocked filter is the Region's and assessors' (the public gets a 400: see
        // `integration::authorization::the_blocked_filter_is_not_public`).
        super::auth::add_user(&t.db, super::auth::REGIONE, "regione", "", "").await;
        let token = super::auth::sign_in(&app, super::auth::REGIONE).await;
        let region = |uri: &'static str| {
            let (app, token) = (app.clone(), token.clone());
            async move {
                let a = super::auth::send(&app, super::auth::get(uri, Some(&token))).await;
                assert_eq!(a.status, StatusCode::OK, "{uri}");
                a.body
            }
        };
        let html = region("/comuni?bloccato=si").await;
        assert!(html.contains("0 comuni trovati"), "{backend}: no blockers in the demo data");

        // Nardò gets two open blockers, Martina Franca a resolved one.
        on_db!(&t.db, pool => {
            let insert = "INSERT INTO blocker (programme, comune, category, description, opened_on) \
                          VALUES ($1, $2, 'fornitore', 'Il fornitore non ha ancora configurato il servizio', '2025-12-01')";
            for comune in ["075052", "075052", "073013"] {
                sqlx::query(insert).bind(FONDO_INNOVAZIONE).bind(comune).execute(pool).await.unwrap();
            }
            sqlx::query("UPDATE blocker SET resolved_on = '2026-01-10' WHERE comune = '073013'")
                .execute(pool)
                .await
                .unwrap();
            sqlx::query(BUMP_DATA_VERSION).execute(pool).await.unwrap();
        });
        let html = region("/comuni?bloccato=si").await;
        assert_eq!(listed(&html), ["075052"], "{backend}: only open blockers count");
        let csv = region("/export/comuni.csv?bloccato=si").await;
        assert_eq!(exported(&csv), ["075052"], "{backend}");

        // Overdue: in the programme with an objective past its deadline and never reached;
        // the demo's dates are in the past, so it is exactly the supported comuni that missed
        // at least one objective.
        let overdue = exported(&get(&app, "/export/comuni.csv?scaduto=si").await);
        assert!(!overdue.is_empty(), "{backend}");
        let supported = exported(&get(&app, "/export/comuni.csv?traguardo=supportati").await);
        let all_on_time = exported(&get(&app, "/export/comuni.csv?traguardo=tutti_obiettivi").await);
        assert!(overdue.iter().all(|c| supported.contains(c)), "{backend}: overdue only in the programme");
        assert!(overdue.iter().all(|c| !all_on_time.contains(c)), "{backend}");
        // Step 1 reached and not reached split the supported comuni.
        let reached = exported(&get(&app, "/export/comuni.csv?primo_step=raggiunto").await);
        let missed = exported(&get(&app, "/export/comuni.csv?primo_step=non_raggiunto").await);
        assert_eq!(reached.len(), 130, "{backend}: the dashboard's step 1 figure");
        assert_eq!(reached.len() + missed.len(), supported.len(), "{backend}");
        assert!(missed.iter().all(|c| overdue.contains(c)), "{backend}: step 1 missed is overdue");

        // Bad values are explained, not a 500.
        for (uri, message) in [
            ("/comuni?bloccato=forse", "Valore non valido per «bloccato»: «forse»"),
            ("/comuni?primo_step=quasi", "Valore non valido per il primo step: «quasi»"),
            ("/comuni?ordina=colore", "Ordinamento sconosciuto: «colore»"),
            ("/comuni?verso=su", "Verso dell&#x27;ordinamento sconosciuto"),
            ("/comuni?pagina=zero", "Numero di pagina non valido: «zero»"),
        ] {
            let (status, html) = send(&app, uri).await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{backend} {uri}");
            let plain = message.replace("&#x27;", "'");
            assert!(html.contains(message) || html.contains(&plain), "{backend} {uri}");
        }
        let (status, body) = send(&app, "/export/comuni.csv?ordina=colore").await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{backend}");
        assert!(body.contains("Ordinamento sconosciuto"), "{backend}: {body}");
        t.drop_db().await;
    }
}

#[tokio::test]
async fn pages_sort_and_export_the_same_view() {
    for t in TestDb::all().await {
        let backend = t.db.backend();
        let app = app(&t).await;

        // 257 comuni, 50 per page.
        let html = get(&app, "/comuni").await;
        assert!(html.contains("257 comuni trovati (pagina 1 di 6)."), "{backend}");
        assert_eq!(listed(&html).len(), 50, "{backend}");
        assert!(html.contains("aria-label=\"Paginazione\""), "{backend}");
        assert!(html.contains("aria-current=\"page\""), "{backend}");
        assert!(has_link(&html, "/comuni?pagina=2"), "{backend}");
        // Sorted by ISTAT code by default, and the header says so.
        assert!(html.contains("aria-sort=\"ascending\""), "{backend}");
        assert!(html.contains("<tbody>"), "{backend}");
        let last = get(&app, "/comuni?pagina=6").await;
        assert_eq!(listed(&last).len(), 7, "{backend}");
        assert!(last.contains("257 comuni trovati (pagina 6 di 6)."), "{backend}");
        // Past the last page: the last page.
        assert_eq!(listed(&get(&app, "/comuni?pagina=99").await), listed(&last), "{backend}");

        // Every page of a sorted, filtered view, put together, is the CSV of that view.
        let view = "provincia=LE&ordina=popolazione&verso=desc";
        let first = get(&app, &format!("/comuni?{view}")).await;
        assert!(first.contains("96 comuni trovati (pagina 1 di 2)."), "{backend}");
        assert!(
            has_link(&first, &format!("/comuni?{view}&pagina=2")),
            "{backend}: pagination keeps the view"
        );
        assert!(
            has_link(&first, "/export/comuni.csv?provincia=LE&ordina=popolazione&verso=desc"),
            "{backend}: the export carries the view"
        );
        // The sorted column's header links to the other direction and is marked.
        assert!(has_link(&first, "/comuni?provincia=LE&ordina=popolazione"), "{backend}");
        assert!(first.contains("aria-sort=\"descending\""), "{backend}");
        let second = get(&app, &format!("/comuni?{view}&pagina=2")).await;
        let mut pages = listed(&first);
        pages.extend(listed(&second));
        let csv = get(&app, &format!("/export/comuni.csv?{view}&pagina=2")).await;
        let rows: Vec<csv::StringRecord> =
            csv::Reader::from_reader(csv.as_bytes()).records().map(Result::unwrap).collect();
        let codes: Vec<String> = rows.iter().map(|r| r[0].to_string()).collect();
        assert_eq!(codes, pages, "{backend}: the CSV is every page of the view, in its order");
        assert_eq!(codes.len(), 96, "{backend}");
        let population: Vec<i64> = rows.iter().map(|r| r[4].parse().unwrap()).collect();
        assert!(population.windows(2).all(|w| w[0] >= w[1]), "{backend}: descending population");
        assert!(rows.iter().all(|r| &r[2] == "LE"), "{backend}");
        // Lecce, the most populous comune of its province, comes first.
        assert_eq!(&rows[0][1], "Lecce", "{backend}");
        // The open-data columns are unchanged.
        assert_eq!(csv.lines().next().unwrap(), crate::comuni::export::HEADER.join(","), "{backend}");

        // By name: accents do not push Nardò to the end.
        let csv = get(&app, "/export/comuni.csv?provincia=LE&ordina=nome").await;
        let names: Vec<String> =
            csv::Reader::from_reader(csv.as_bytes()).records().map(|r| r.unwrap()[1].to_string()).collect();
        let at = |n: &str| names.iter().position(|x| x == n).unwrap();
        assert!(at("Nardò") < at("Neviano"), "{backend}: {names:?}");
        assert!(at("Nardò") > at("Muro Leccese"), "{backend}");
        t.drop_db().await;
    }
}
