//! The list pages' exports (`/export/{scadenze,registro,proposte,evidenze}` × CSV, CSV for
//! Excel, XLSX, JSON) on both backends: the four formats hold the same rows; the trail streams
//! across its batches in order without losing or repeating an entry; a comune's trail holds
//! only that comune; a bad filter is refused in Italian. (Who may download which is in the
//! authorization matrix.)

use std::io::Read;

use axum::http::StatusCode;

use super::{
    auth::{app_with, get, send, sign_in, CODICE_A, COMUNE_A, REGIONE},
    TestDb,
};
use crate::auth::config::AuthConfig;

/// The rows of a CSV in either dialect (BOM dropped).
fn csv_rows(body: &str, delimiter: u8) -> (Vec<String>, Vec<Vec<String>>) {
    let body = body.trim_start_matches('\u{feff}');
    let mut reader = csv::ReaderBuilder::new().delimiter(delimiter).from_reader(body.as_bytes());
    let header = reader.headers().unwrap().iter().map(String::from).collect();
    let rows = reader.records().map(|r| r.unwrap().iter().map(String::from).collect()).collect();
    (header, rows)
}

/// (sheet XML of the first sheet, sheet XML of the "Filtri" sheet, shared strings).
fn workbook(bytes: &[u8]) -> (String, String, String) {
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
    let mut read = |name: &str| {
        let mut s = String::new();
        zip.by_name(name).unwrap().read_to_string(&mut s).unwrap();
        s
    };
    (read("xl/worksheets/sheet1.xml"), read("xl/worksheets/sheet2.xml"), read("xl/sharedStrings.xml"))
}

async fn raw(app: &axum::Router, uri: &str, token: &str) -> (StatusCode, axum::http::HeaderMap, Vec<u8>) {
    use http_body_util::BodyExt;
    use tower::ServiceExt;
    let response = app.clone().oneshot(get(uri, Some(token))).await.unwrap();
    let (status, headers) = (response.status(), response.headers().clone());
    (status, headers, response.into_body().collect().await.unwrap().to_bytes().to_vec())
}

/// How many body frames an answer arrives in: more than one means it was streamed, not sent as
/// one buffer.
async fn frames(app: &axum::Router, uri: &str, token: &str) -> usize {
    use http_body_util::BodyExt;
    use tower::ServiceExt;
    let response = app.clone().oneshot(get(uri, Some(token))).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK, "{uri}");
    let mut body = response.into_body();
    let mut n = 0;
    while let Some(frame) = body.frame().await {
        if frame.unwrap().data_ref().is_some_and(|d| !d.is_empty()) {
            n += 1;
        }
    }
    n
}

/// The first bytes of the answer when the client accepts gzip (the compression layer reads the
/// stream to its end and once more: a stream that cannot be polled after its end would panic).
async fn gzipped(app: &axum::Router, uri: &str, token: &str) -> Vec<u8> {
    use http_body_util::BodyExt;
    use tower::ServiceExt;
    let mut request = get(uri, Some(token));
    request.headers_mut().insert("accept-encoding", "gzip".parse().unwrap());
    let response = app.clone().oneshot(request).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK, "{uri}");
    assert_eq!(response.headers()["content-encoding"], "gzip", "{uri}");
    response.into_body().collect().await.unwrap().to_bytes().to_vec()
}

/// The four formats of `/export/{stem}?{query}` agree: same header, same number of rows, the
/// same first column; returns the contract CSV's rows.
async fn four_formats_agree(
    app: &axum::Router,
    token: &str,
    stem: &str,
    query: &str,
    ctx: &str,
) -> Vec<Vec<String>> {
    let q = if query.is_empty() { String::new() } else { format!("?{query}") };
    let (status, headers, body) = raw(app, &format!("/export/{stem}.csv{q}"), token).await;
    assert_eq!(status, StatusCode::OK, "{ctx} {stem}.csv: {}", String::from_utf8_lossy(&body));
    let disposition = headers["content-disposition"].to_str().unwrap().to_string();
    assert!(disposition.starts_with(&format!("attachment; filename=\"{stem}-")), "{disposition}");
    assert!(disposition.ends_with(".csv\""), "{disposition}");
    let (header, rows) = csv_rows(&String::from_utf8(body).unwrap(), b',');

    let (status, _, body) = raw(app, &format!("/export/{stem}-excel.csv{q}"), token).await;
    assert_eq!(status, StatusCode::OK, "{ctx}");
    assert!(body.starts_with("\u{feff}".as_bytes()), "{ctx}: the Excel CSV starts with a BOM");
    let (excel_header, excel_rows) = csv_rows(&String::from_utf8(body).unwrap(), b';');
    assert_eq!(excel_header, header, "{ctx}");
    assert_eq!(excel_rows.len(), rows.len(), "{ctx}");
    for (a, b) in excel_rows.iter().zip(&rows) {
        assert_eq!(a[0], b[0], "{ctx}");
    }

    let (status, headers, body) = raw(app, &format!("/export/{stem}.json{q}"), token).await;
    assert_eq!(status, StatusCode::OK, "{ctx}");
    assert_eq!(headers["content-type"], "application/json", "{ctx}");
    let json: serde_json::Value = serde_json::from_slice(&body).unwrap_or_else(|e| panic!("{ctx}: {e}"));
    let righe = json["righe"].as_array().unwrap();
    assert_eq!(righe.len(), rows.len(), "{ctx}");
    assert_eq!(json["totale"], rows.len(), "{ctx}");
    // Reserved data: no open-data licence (hostile_input checks every format).
    assert_eq!(json["metadati"]["riservato"], true, "{ctx}");
    assert!(json["metadati"].get("licenza").is_none(), "{ctx}");
    assert_eq!(json["metadati"]["colonne"].as_array().unwrap().len(), header.len(), "{ctx}");
    for (j, r) in righe.iter().zip(&rows) {
        let object = j.as_object().unwrap();
        assert_eq!(object.len(), header.len(), "{ctx}");
        let first = &object[&header[0]];
        let first = first.as_str().map(String::from).unwrap_or_else(|| first.to_string());
        assert_eq!(first, r[0], "{ctx}");
    }

    let (status, headers, body) = raw(app, &format!("/export/{stem}.xlsx{q}"), token).await;
    assert_eq!(status, StatusCode::OK, "{ctx}");
    assert_eq!(headers["content-type"], crate::comuni::export::XLSX_TYPE, "{ctx}");
    let (sheet, about, strings) = workbook(&body);
    assert!(sheet.contains("state=\"frozen\""), "{ctx}: frozen header");
    assert!(sheet.contains("<autoFilter"), "{ctx}: autofilter");
    assert_eq!(sheet.matches("<row ").count(), rows.len() + 1, "{ctx}: header and rows");
    for h in &header {
        assert!(strings.contains(&format!(">{h}<")), "{ctx}: column {h}");
    }
    assert!(
        about.contains("<row ") && strings.contains(">Filtri<") && strings.contains(">Dati al<"),
        "{ctx}"
    );
    rows
}

#[tokio::test]
async fn every_list_exports_the_same_rows_in_four_formats() {
    for t in TestDb::all().await {
        let backend = t.db.backend();
        let app = app_with(&t, AuthConfig::local("127.0.0.1:3000")).await;
        let regione = sign_in(&app, REGIONE).await;

        // Deadlines on the day before the first step's deadline: the same rows as the page.
        let rows = four_formats_agree(&app, &regione, "scadenze", "al=2021-02-15", backend).await;
        assert!(!rows.is_empty(), "{backend}: the demo data has objectives due on 15/02/2021");
        let json: serde_json::Value =
            serde_json::from_slice(&raw(&app, "/export/scadenze.json?al=2021-02-15", &regione).await.2)
                .unwrap();
        let first = &json["righe"][0];
        assert!(first["giorni"].is_i64(), "{backend}: numbers are numbers: {first}");
        assert_eq!(first["scadenza"].as_str().unwrap().len(), 10, "{backend}: ISO dates");
        let ta = four_formats_agree(&app, &regione, "scadenze", "al=2021-02-15&provincia=TA", backend).await;
        assert!(ta.iter().all(|r| r[2] == "TA") && ta.len() < rows.len(), "{backend}");

        // The proposals and the review queue (empty in the demo data: header only, valid files).
        four_formats_agree(&app, &regione, "proposte", "", backend).await;
        four_formats_agree(&app, &regione, "evidenze", "", backend).await;
        four_formats_agree(&app, &regione, "evidenze", "provincia=BA&piattaforma=pagopa", backend).await;
        let a = send(&app, get("/export/evidenze.csv?provincia=XX", Some(&regione))).await;
        assert_eq!(a.status, StatusCode::BAD_REQUEST, "{backend}");
        assert!(a.body.contains("Provincia sconosciuta"), "{backend}: {}", a.body);

        // The trail, larger than one batch: 2,100 notes more.
        crate::data::workspace::write_tx!(&t.db, tx => {
            for i in 0..2100 {
                tx.add_note_in(REGIONE, CODICE_A, &format!("Nota di prova {i}")).await?;
            }
        })
        .unwrap();
        let total: i64 = crate::data::on_db!(&t.db, pool => sqlx::query_scalar("SELECT COUNT(*) FROM audit_entry")
            .fetch_one(pool)
            .await
            .unwrap());
        let trail = four_formats_agree(&app, &regione, "registro", "", backend).await;
        assert_eq!(trail.len() as i64, total, "{backend}: every entry, once");
        for pair in trail.windows(2) {
            let (newer, older) = (&pair[0], &pair[1]);
            assert!(
                newer[0].parse::<i64>().unwrap() > older[0].parse::<i64>().unwrap(),
                "{backend}: newest first"
            );
            // Each entry names the previous one's hash: no entry skipped across the batches.
            assert_eq!(newer[8], older[9], "{backend}: chain broken between {} and {}", newer[0], older[0]);
        }
        assert!(trail.iter().any(|r| r[6].contains("Nota di prova 2099")), "{backend}");
        // Streamed: a frame per batch of 1,000 entries (JSON also its head and tail).
        let batches = (total as usize).div_ceil(1000);
        assert_eq!(frames(&app, "/export/registro.csv", &regione).await, batches, "{backend}");
        assert_eq!(frames(&app, "/export/registro.json", &regione).await, batches + 2, "{backend}");
        // Compressed for browsers that ask, to the end.
        for uri in
            ["/export/registro.csv", "/export/registro.json", "/export/proposte.csv", "/export/comuni.csv"]
        {
            let body = gzipped(&app, uri, &regione).await;
            assert!(body.starts_with(&[0x1f, 0x8b]) && body.len() > 20, "{backend} {uri}");
        }
        // So are the comuni (257: two chunks of 256), in CSV and JSON.
        assert_eq!(frames(&app, "/export/comuni.csv", &regione).await, 2, "{backend}");
        assert_eq!(frames(&app, "/export/comuni.json", &regione).await, 4, "{backend}");

        // One comune's trail: for the Region, every entry of the comune (the 2,100 notes
        // included); for that comune's own user, its entries without the Region's notes.
        let of_a =
            four_formats_agree(&app, &regione, "registro", &format!("comune={CODICE_A}"), backend).await;
        assert!(of_a.len() > 2100, "{backend}: {}", of_a.len());
        assert!(of_a.iter().all(|r| r[3] == CODICE_A), "{backend}");
        let comune = sign_in(&app, COMUNE_A).await;
        let own = four_formats_agree(&app, &comune, "registro", &format!("comune={CODICE_A}"), backend).await;
        assert!(own.iter().all(|r| r[3] == CODICE_A && !r[4].starts_with("Nota ")), "{backend}");
        assert_eq!(
            own.len(),
            of_a.iter().filter(|r| !r[4].starts_with("Nota ")).count(),
            "{backend}: everything but the Region's notes"
        );
        let a = send(&app, get("/export/registro.csv", Some(&comune))).await;
        assert_eq!(a.status, StatusCode::FORBIDDEN, "{backend}: the whole trail is the Region's");
        assert!(a.body.contains("Regione"), "{backend}: {}", a.body);
        let a = send(&app, get("/export/registro.csv?comune=075035", Some(&comune))).await;
        assert_eq!(a.status, StatusCode::NOT_FOUND, "{backend}: another comune's trail");
        t.drop_db().await;
    }
}
