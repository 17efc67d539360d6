//! The routes and server functions over HTTP, on both backends, through the real router.

use axum::{
    body::Body,
    http::{Request, StatusCode},
    Router,
};
use http_body_util::BodyExt;
use leptos::prelude::LeptosOptions;
use tower::ServiceExt;

use super::TestDb;
use crate::{demo, server::router, state::AppState};

async fn app(t: &TestDb) -> Router {
    demo::load(&t.db).await.unwrap();
    let options = LeptosOptions::builder().output_name("traguardi").build();
    router(AppState::new(options, t.db.clone()))
}

async fn get(app: &Router, uri: &str) -> (StatusCode, String, String) {
    let response = app.clone().oneshot(Request::get(uri).body(Body::empty()).unwrap()).await.unwrap();
    let status = response.status();
    let content_type = response
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap_or_default().to_string())
        .unwrap_or_default();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    (status, content_type, String::from_utf8_lossy(&body).into_owned())
}

fn csv_rows(body: &str) -> Vec<Vec<String>> {
    csv::Reader::from_reader(body.as_bytes())
        .records()
        .map(|r| r.unwrap().iter().map(str::to_string).collect())
        .collect()
}

#[tokio::test]
async fn pages_render_on_the_server_with_the_computed_figures() {
    for t in TestDb::all().await {
        let app = app(&t).await;
        let (status, _, body) = get(&app, "/healthz").await;
        assert_eq!((status, body.as_str()), (StatusCode::OK, "ok"));

        let (status, _, html) = get(&app, "/").await;
        assert_eq!(status, StatusCode::OK);
        assert!(html.contains("<html lang=\"it\""));
        assert!(html.contains("Dati dimostrativi"));
        assert!(html.contains("data-figura=\"supportati\""));
        assert!(html.contains("<span class=\"figura-valore\">140</span>"), "adherents figure");
        assert!(html.contains("133 aderenti nei termini e 7 in ritardo; su 257 comuni (54,5%)"), "{html}");
        assert!(html.contains("<span class=\"figura-valore\">106</span>"));
        assert!(html.contains("su 257 comuni (50,6%)"), "130 of all the 257 comuni");
        assert!(html.contains("su 140 comuni aderenti, nei termini o in ritardo (75,7%)"), "106 of 140");
        assert!(html.contains("<svg role=\"img\""), "server-rendered chart");
        assert!(html.contains("<caption>Adesione per provincia</caption>"));
        assert_eq!(html.matches("<h1").count(), 1);

        let (status, _, html) = get(&app, "/comuni?provincia=TA&adesione=aderente").await;
        assert_eq!(status, StatusCode::OK);
        assert!(html.contains("Martina Franca") && html.contains("href=\"/comuni/073013\""));
        assert!(html.contains("14 comuni trovati (pagina 1 di 1)."));
        let export = "/export/comuni.csv?provincia=TA&amp;adesione=aderente";
        assert!(
            html.contains(export) || html.contains(&export.replace("&amp;", "&")),
            "the export link keeps the filter"
        );

        let (status, _, html) = get(&app, "/comuni").await;
        assert_eq!(status, StatusCode::OK);
        assert!(html.contains("257 comuni trovati (pagina 1 di 6)."));

        let (status, _, html) = get(&app, "/comuni/073013").await;
        assert_eq!(status, StatusCode::OK);
        assert!(html.contains("<h1>Martina Franca</h1>"));
        assert!(html.contains("c_e986") && html.contains("E986"));
        assert!(html.contains("Almeno 10 servizi pubblicati su App IO"));
        t.drop_db().await;
    }
}

#[tokio::test]
async fn unknown_comuni_and_pages_are_404_and_bad_filters_400_never_500() {
    for t in TestDb::all().await {
        let app = app(&t).await;
        for uri in ["/comuni/999999", "/comuni/abc", "/comuni/0730131"] {
            let (status, _, html) = get(&app, uri).await;
            assert_eq!(status, StatusCode::NOT_FOUND, "{uri}");
            assert!(html.contains("Comune non trovato"), "{uri}");
        }
        let (status, _, html) = get(&app, "/comuni?provincia=XX").await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(html.contains("Provincia sconosciuta: «XX»"), "the page says what is wrong");
        let (status, _, html) = get(&app, "/nessuna-pagina").await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert!(html.contains("Pagina non trovata"));
        t.drop_db().await;
    }
}

#[tokio::test]
async fn server_function_errors_carry_no_internals() {
    for t in TestDb::all().await {
        let app = app(&t).await;
        let response = app
            .clone()
            .oneshot(
                Request::post("/api/comune")
                    .header("content-type", "application/x-www-form-urlencoded")
                    .body(Body::from("codice_istat=999999"))
                    .unwrap(),
            )
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::NOT_FOUND);
        let body =
            String::from_utf8_lossy(&response.into_body().collect().await.unwrap().to_bytes()).into_owned();
        assert!(body.contains("Comune non trovato"), "{body}");
        for secret in ["SELECT", "sqlx", "sqlite", "postgres"] {
            assert!(!body.to_lowercase().contains(&secret.to_lowercase()), "{secret} leaked: {body}");
        }
        t.drop_db().await;
    }
}

#[tokio::test]
async fn csv_export_keeps_the_contract_and_agrees_with_the_figures() {
    for t in TestDb::all().await {
        let app = app(&t).await;
        let (status, content_type, body) = get(&app, "/export/comuni.csv").await;
        assert_eq!(status, StatusCode::OK);
        assert!(content_type.starts_with("text/csv"));
        assert_eq!(body.lines().next().unwrap(), crate::comuni::export::HEADER.join(","));
        let rows = csv_rows(&body);
        assert_eq!(rows.len(), 257);
        let col = |name: &str| crate::comuni::export::HEADER.iter().position(|h| *h == name).unwrap();
        let count = |name: &str, value: &str| rows.iter().filter(|r| r[col(name)] == value).count();
        assert_eq!(count("adesione", "aderente"), 133);
        assert_eq!(count("primo_step_entro_scadenza", "si"), 106);
        assert_eq!(count("primo_step", "si"), 130);
        // The headline "every objective by 31/12/2021" comes from the CSV; the final step at any
        // date is more.
        assert_eq!(count("obiettivi_finali_entro_scadenza", "si"), 120);
        assert_eq!(count("obiettivi_finali", "si"), 123);
        assert_eq!(count("io_tramite_regione", "si"), 90);
        // Non-adherents: steps and grant are empty, not "no".
        let non = rows.iter().find(|r| r[col("adesione")] == "non_aderente").unwrap();
        assert_eq!((non[col("contributo_eur")].as_str(), non[col("primo_step")].as_str()), ("", ""));
        let martina = rows.iter().find(|r| r[0] == "073013").unwrap();
        assert_eq!(
            (martina[1].as_str(), martina[3].as_str(), martina[4].as_str()),
            ("Martina Franca", "c_e986", "46900")
        );
        assert_eq!(martina[col("contributo_eur")], "11850");
        let nardo = rows.iter().find(|r| r[0] == "075052").unwrap();
        assert_eq!(nardo[1], "Nardò");

        // Filters: per province, the CSV agrees with the dashboard's province table.
        for (sigla, aderenti) in [("BA", 11), ("BT", 7), ("BR", 9), ("FG", 27), ("LE", 65), ("TA", 14)] {
            let (_, _, body) =
                get(&app, &format!("/export/comuni.csv?provincia={sigla}&adesione=aderente")).await;
            let rows = csv_rows(&body);
            assert_eq!(rows.len(), aderenti, "{sigla}");
            assert!(rows.iter().all(|r| r[2] == sigla && r[5] == "aderente"));
        }
        let (status, _, body) = get(&app, "/export/comuni.csv?provincia=XX").await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(body.contains("Provincia sconosciuta"), "{body}");
        t.drop_db().await;
    }
}

#[tokio::test]
async fn every_response_carries_the_security_headers() {
    let t = TestDb::sqlite().await;
    let app = app(&t).await;
    // A page rendered for its own request (any cookie: the page cache stays out of it) admits
    // exactly the nonce its hydration scripts carry; a kept page, its scripts' hashes
    // (`integration::page_cache`).
    let response = app
        .clone()
        .oneshot(Request::get("/").header("cookie", "altro=1").body(Body::empty()).unwrap())
        .await
        .unwrap();
    let csp = response.headers()["content-security-policy"].to_str().unwrap().to_string();
    let html =
        String::from_utf8_lossy(&response.into_body().collect().await.unwrap().to_bytes()).into_owned();
    let nonce =
        csp.split("'nonce-").nth(1).and_then(|s| s.split('\'').next()).expect("a nonce in the policy");
    assert!(nonce.len() >= 16, "{nonce}");
    assert!(html.contains(&format!("nonce=\"{nonce}\"")), "hydration scripts carry the nonce");
    assert!(csp.contains("frame-ancestors 'none'") && csp.contains("'wasm-unsafe-eval'"));
    assert!(!csp.contains("unsafe-inline"));

    // Pages, exports, pictures, the API, static files, errors, a server function.
    let uris = [
        "/",
        "/export/comuni.csv",
        "/export/comuni.xlsx",
        "/grafici/adesione.svg",
        "/api/v1/province",
        "/healthz",
        "/favicon.png",
        "/nessuna-pagina",
    ];
    let server_function = || {
        Request::post("/api/scelte-filtri")
            .header("content-type", "application/x-www-form-urlencoded")
            .body(Body::empty())
            .unwrap()
    };
    let requests = uris
        .iter()
        .map(|uri| (uri.to_string(), Request::get(*uri).body(Body::empty()).unwrap()))
        .chain([("POST /api/scelte-filtri".to_string(), server_function())]);
    for (uri, request) in requests {
        let response = app.clone().oneshot(request).await.unwrap();
        let h = response.headers();
        // Every powerful feature off, and no window handle for other sites.
        let permissions = h["permissions-policy"].to_str().unwrap();
        for feature in [
            "camera",
            "microphone",
            "geolocation",
            "payment",
            "usb",
            "browsing-topics",
            "xr-spatial-tracking",
        ] {
            assert!(permissions.contains(&format!("{feature}=()")), "{uri}: {feature} in {permissions}");
        }
        assert!(!permissions.contains("fullscreen"), "{uri}: the PDF viewer presents in full screen");
        assert_eq!(h["cross-origin-opener-policy"], "same-origin", "{uri}");
        assert_eq!(h["x-content-type-options"], "nosniff", "{uri}");
        assert_eq!(h["x-frame-options"], "DENY", "{uri}");
        assert_eq!(h["referrer-policy"], "strict-origin-when-cross-origin", "{uri}");
        assert!(h["content-security-policy"].to_str().unwrap().contains("default-src 'self'"), "{uri}");
    }
    // A second page gets a nonce of its own.
    let again = app
        .clone()
        .oneshot(Request::get("/").header("cookie", "altro=1").body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert!(!again.headers()["content-security-policy"].to_str().unwrap().contains(nonce));
    t.drop_db().await;
}

#[tokio::test]
async fn cross_site_requests_are_refused_same_site_ones_served() {
    let t = TestDb::sqlite().await;
    let app = app(&t).await;
    let post = |site: &'static str, origin: &'static str| {
        Request::post("/api/scelte-filtri")
            .header("host", "traguardi.example")
            .header("sec-fetch-site", site)
            .header("origin", origin)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(Body::empty())
            .unwrap()
    };
    let response = app.clone().oneshot(post("cross-site", "https://evil.example")).await.unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let body =
        String::from_utf8_lossy(&response.into_body().collect().await.unwrap().to_bytes()).into_owned();
    assert!(body.contains("proviene da un altro sito"), "{body}");

    let response = app.clone().oneshot(post("same-origin", "https://traguardi.example")).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    // Reading is never blocked: a link from another site still opens the page.
    let response = app
        .clone()
        .oneshot(Request::get("/comuni").header("sec-fetch-site", "cross-site").body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    t.drop_db().await;
}
