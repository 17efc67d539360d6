//! Hostile input, on both backends (issue 15):
//! - text that a spreadsheet would run as a formula (`=HYPERLINK(…)`, `+…`, `-…`, `@…`) is
//!   neutralised in the Excel CSVs (a leading `'`) and stays a quote-prefixed string cell in
//!   the workbooks, while the contract CSV and JSON keep it as it was typed;
//! - the private exports carry no open-data licence, the public ones still do;
//! - workbooks built to exhaust the server (a far cell, 100,000 columns, a zip bomb, a huge
//!   announced count of texts) are refused in Italian before anything large is allocated,
//!   nothing is kept, and `/healthz` answers meanwhile.

use std::io::Read;

use axum::{
    body::Body,
    http::{header, Request, StatusCode},
    Router,
};
use chrono::NaiveDate;

use super::{
    auth::{app_with, get, local, send, sign_in, with_cookie, Answer, CODICE_A, REGIONE},
    evidence::multipart,
    TestDb,
};
use crate::{
    data::{on_db, programme::FONDO_INNOVAZIONE, workspace::write_tx, Db},
    imports::limits::tests::{sheet_xml, wide_row, workbook, workbook_with, FAR_CELL},
    workspace::{BlockerValues, OnlineValues, ServiceValues},
};

const HYPERLINK: &str = "=HYPERLINK(\"http://x\",\"y\")";
const PLUS: &str = "+Servizio online di prova";
const MINUS: &str = "-3 giorni di ritardo, motivo di prova";
const AT: &str = "@SUM(1+1)*cmd|' /C calc'!A0.pdf";

async fn fetch(app: &Router, uri: &str, token: Option<&str>) -> (StatusCode, Vec<u8>) {
    use http_body_util::BodyExt;
    use tower::ServiceExt;
    let response = app.clone().oneshot(get(uri, token)).await.unwrap();
    let status = response.status();
    (status, response.into_body().collect().await.unwrap().to_bytes().to_vec())
}

/// The cells of a CSV in either dialect (BOM dropped).
fn csv_cells(body: &[u8], delimiter: u8) -> Vec<Vec<String>> {
    let body = String::from_utf8(body.to_vec()).unwrap();
    let body = body.trim_start_matches('\u{feff}');
    csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .from_reader(body.as_bytes())
        .records()
        .map(|r| r.unwrap().iter().map(String::from).collect())
        .collect()
}

/// One cell of a workbook as it is stored.
#[derive(Debug)]
struct XlsxCell {
    sheet: usize,
    text: Option<String>,
    number: Option<f64>,
    quote_prefix: bool,
    formula: bool,
}

/// Every cell of every sheet of a workbook, read from its XML.
fn xlsx_cells(bytes: &[u8]) -> Vec<XlsxCell> {
    use quick_xml::events::Event;
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
    let mut part = |name: &str| -> Option<String> {
        let mut s = String::new();
        zip.by_name(name).ok()?.read_to_string(&mut s).unwrap();
        Some(s)
    };
    let attr = |e: &quick_xml::events::BytesStart, key: &str| {
        e.attributes()
            .flatten()
            .find(|a| a.key.as_ref() == key)
            .map(|a| quick_xml::escape::unescape(&a.value).unwrap().into_owned())
    };
    // Shared strings, by index.
    let mut strings = Vec::new();
    let sst = part("xl/sharedStrings.xml").unwrap_or_default();
    let mut reader = quick_xml::Reader::from_str(&sst);
    let (mut current, mut in_t) = (None::<String>, false);
    loop {
        match reader.read_event().unwrap() {
            Event::Start(e) if e.local_name().as_ref() == "si" => current = Some(String::new()),
            Event::Start(e) if e.local_name().as_ref() == "t" => in_t = true,
            Event::End(e) if e.local_name().as_ref() == "t" => in_t = false,
            Event::Text(t) if in_t => current.as_mut().unwrap().push_str(&t.xml10_content()),
            Event::GeneralRef(r) if in_t => {
                let c = match r.resolve_char_ref().unwrap() {
                    Some(c) => c.to_string(),
                    None => {
                        quick_xml::escape::resolve_predefined_entity(&r.into_inner()).unwrap().to_string()
                    }
                };
                current.as_mut().unwrap().push_str(&c);
            }
            Event::End(e) if e.local_name().as_ref() == "si" => strings.push(current.take().unwrap()),
            Event::Eof => break,
            _ => {}
        }
    }
    // The cell styles with a quote prefix.
    let styles = part("xl/styles.xml").unwrap();
    let mut reader = quick_xml::Reader::from_str(&styles);
    let (mut in_xfs, mut xf, mut quoted) = (false, 0usize, Vec::new());
    loop {
        match reader.read_event().unwrap() {
            Event::Start(e) if e.local_name().as_ref() == "cellXfs" => in_xfs = true,
            Event::End(e) if e.local_name().as_ref() == "cellXfs" => in_xfs = false,
            Event::Start(e) | Event::Empty(e) if in_xfs && e.local_name().as_ref() == "xf" => {
                if attr(&e, "quotePrefix").as_deref() == Some("1") {
                    quoted.push(xf);
                }
                xf += 1;
            }
            Event::Eof => break,
            _ => {}
        }
    }
    let mut cells = Vec::new();
    for sheet in 1.. {
        let Some(xml) = part(&format!("xl/worksheets/sheet{sheet}.xml")) else { break };
        let mut reader = quick_xml::Reader::from_str(&xml);
        reader.config_mut().expand_empty_elements = true;
        let mut cell: Option<(XlsxCell, Option<String>)> = None;
        let mut in_v = false;
        loop {
            match reader.read_event().unwrap() {
                Event::Start(e) if e.local_name().as_ref() == "c" => {
                    let style: usize = attr(&e, "s").map(|s| s.parse().unwrap()).unwrap_or(0);
                    cell = Some((
                        XlsxCell {
                            sheet,
                            text: None,
                            number: None,
                            quote_prefix: quoted.contains(&style),
                            formula: false,
                        },
                        attr(&e, "t"),
                    ));
                }
                Event::Start(e) if e.local_name().as_ref() == "f" => cell.as_mut().unwrap().0.formula = true,
                Event::Start(e) if e.local_name().as_ref() == "v" => in_v = true,
                Event::End(e) if e.local_name().as_ref() == "v" => in_v = false,
                Event::Text(t) if in_v => {
                    let (c, kind) = cell.as_mut().unwrap();
                    let v = t.xml10_content().into_owned();
                    match kind.as_deref() {
                        Some("s") => c.text = Some(strings[v.parse::<usize>().unwrap()].clone()),
                        Some("str") | Some("inlineStr") => c.text = Some(v),
                        _ => c.number = v.parse().ok(),
                    }
                }
                Event::End(e) if e.local_name().as_ref() == "c" => cells.push(cell.take().unwrap().0),
                Event::Eof => break,
                _ => {}
            }
        }
    }
    cells
}

/// The one cell holding exactly `text`.
fn xlsx_cell<'a>(cells: &'a [XlsxCell], text: &str, ctx: &str) -> &'a XlsxCell {
    let found: Vec<&XlsxCell> = cells.iter().filter(|c| c.text.as_deref() == Some(text)).collect();
    assert_eq!(found.len(), 1, "{ctx}: «{text}» once in {found:?}");
    found[0]
}

#[tokio::test]
async fn formulas_typed_by_people_never_run_in_a_spreadsheet() {
    for t in TestDb::all().await {
        let backend = t.db.backend();
        let app = app_with(&t, local()).await;
        let regione = sign_in(&app, REGIONE).await;
        // A blocker (in the deadlines export, after its category), a service whose name starts
        // with `+` (the comuni workbook), a reason starting with `=` and a note's author with
        // `-` (the trail), an evidence file name with `@` (the review queue).
        let day = NaiveDate::from_ymd_opt(2021, 1, 20).unwrap();
        let q = "al=2021-02-15";
        // A comune with something due on that day.
        let (_, due) = fetch(&app, &format!("/export/scadenze.csv?{q}"), Some(&regione)).await;
        let target = csv_cells(&due, b',')[0][0].clone();
        write_tx!(&t.db, tx => {
            tx.add_blocker_in(
                REGIONE,
                FONDO_INNOVAZIONE,
                &target,
                &BlockerValues {
                    category: crate::data::workspace::category("fornitore"),
                    description: HYPERLINK.into(),
                    opened_on: day,
                },
            )
            .await?;
            let service = ServiceValues::Online(OnlineValues { name: PLUS.into(), spid_since: Some(day), cie_since: None });
            tx.add_service_in(REGIONE, CODICE_A, &service, Some(HYPERLINK.into())).await?;
            tx.add_note_in(MINUS, CODICE_A, "Nota scritta da un autore dal nome ostile").await?;
        })
        .unwrap();
        on_db!(&t.db, pool => sqlx::query(
            "INSERT INTO evidence (programme, comune, objective, version, file_name, content_type, size_bytes, sha256, \
             storage_key, uploaded_by, uploaded_at) VALUES ($1, $2, 'step1_pagopa', 2, $3, 'application/pdf', 10, $4, \
             'evidence/hostile', $5, '2026-11-27T09:00:00Z')",
        )
        .bind(FONDO_INNOVAZIONE)
        .bind(CODICE_A)
        .bind(AT)
        .bind("1".repeat(64))
        .bind(REGIONE)
        .execute(pool)
        .await
        .map(|_| ())
        .unwrap());

        // The deadlines: the blocker follows its category, so no cell starts with it; it is
        // there unchanged in every format (nothing is escaped that need not be), and `giorni`
        // stays a number.
        let (status, contract) = fetch(&app, &format!("/export/scadenze.csv?{q}"), Some(&regione)).await;
        assert_eq!(status, StatusCode::OK, "{backend}");
        let contract = csv_cells(&contract, b',');
        let (_, excel) = fetch(&app, &format!("/export/scadenze-excel.csv?{q}"), Some(&regione)).await;
        let excel = csv_cells(&excel, b';');
        let with_blocker = |rows: &[Vec<String>]| -> Vec<String> {
            rows.iter().filter(|r| r[0] == target).map(|r| r[10].clone()).collect()
        };
        let expected = format!("fornitore: {HYPERLINK}");
        assert!(with_blocker(&contract).iter().all(|c| c.contains(&expected)), "{backend}: {contract:?}");
        assert!(!with_blocker(&contract).is_empty(), "{backend}");
        assert_eq!(with_blocker(&excel), with_blocker(&contract), "{backend}");
        for r in &excel {
            assert!(r[4].parse::<i64>().is_ok(), "{backend}: giorni is a number: {r:?}");
        }
        let (_, xlsx) = fetch(&app, &format!("/export/scadenze.xlsx?{q}"), Some(&regione)).await;
        let cells = xlsx_cells(&xlsx);
        assert!(cells.iter().any(|c| c.text.as_ref().is_some_and(|s| s.contains(&expected))), "{backend}");
        assert!(cells.iter().all(|c| !c.formula), "{backend}: no formula in the workbook");

        // The trail: the reason and the author start cells.
        let (_, body) = fetch(&app, "/export/registro.csv", Some(&regione)).await;
        let contract = csv_cells(&body, b',');
        let (_, body) = fetch(&app, "/export/registro-excel.csv", Some(&regione)).await;
        let excel = csv_cells(&body, b';');
        assert_eq!(excel.len(), contract.len(), "{backend}");
        let reason = contract.iter().position(|r| r[7] == HYPERLINK).expect("the reason, as typed");
        assert_eq!(excel[reason][7], format!("'{HYPERLINK}"), "{backend}: neutralised for Excel");
        let author = contract.iter().position(|r| r[2] == MINUS).expect("the author, as written");
        assert_eq!(excel[author][2], format!("'{MINUS}"), "{backend}");
        // Numbers stay numbers (the entry's number), untouched.
        assert_eq!(excel[author][0], contract[author][0], "{backend}");
        assert!(excel[author][0].parse::<i64>().is_ok(), "{backend}");
        let (_, json) = fetch(&app, "/export/registro.json", Some(&regione)).await;
        let json: serde_json::Value = serde_json::from_slice(&json).unwrap();
        let righe = json["righe"].as_array().unwrap();
        assert!(righe.iter().any(|r| r["motivo"] == HYPERLINK), "{backend}: JSON as typed");
        assert!(righe.iter().any(|r| r["autore"] == MINUS && r["numero"].is_i64()), "{backend}");
        let (_, xlsx) = fetch(&app, "/export/registro.xlsx", Some(&regione)).await;
        let cells = xlsx_cells(&xlsx);
        for text in [HYPERLINK, MINUS] {
            let cell = xlsx_cell(&cells, text, backend);
            assert!(cell.quote_prefix && !cell.formula, "{backend}: «{text}» a quoted string: {cell:?}");
        }
        assert!(cells.iter().all(|c| !c.formula), "{backend}");
        // Ordinary text is not quoted; the entry numbers are numbers.
        assert!(
            cells.iter().any(|c| c.sheet == 1 && c.text.as_deref() == Some(REGIONE) && !c.quote_prefix),
            "{backend}"
        );
        assert!(cells.iter().filter(|c| c.sheet == 1).any(|c| c.number.is_some()), "{backend}");

        // The review queue: the file name.
        let (_, body) = fetch(&app, "/export/evidenze.csv", Some(&regione)).await;
        assert!(csv_cells(&body, b',').iter().any(|r| r[8] == AT), "{backend}");
        let (_, body) = fetch(&app, "/export/evidenze-excel.csv", Some(&regione)).await;
        assert!(csv_cells(&body, b';').iter().any(|r| r[8] == format!("'{AT}")), "{backend}");
        let (_, xlsx) = fetch(&app, "/export/evidenze.xlsx", Some(&regione)).await;
        let cell = xlsx_cell(&xlsx_cells(&xlsx), AT, backend).quote_prefix;
        assert!(cell, "{backend}");

        // The comuni workbook: the service's name (and the blocker, for the Region).
        let (_, xlsx) = fetch(&app, "/export/comuni.xlsx", Some(&regione)).await;
        let cells = xlsx_cells(&xlsx);
        for text in [PLUS, HYPERLINK] {
            let cell = xlsx_cell(&cells, text, backend);
            assert!(cell.quote_prefix && !cell.formula, "{backend}: «{text}»: {cell:?}");
        }
        // The open-data contract CSV is written as before: no cell gains a quote.
        let (_, contract) = fetch(&app, "/export/comuni.csv", None).await;
        assert!(!contract.starts_with(b"\xEF\xBB\xBF"), "{backend}");
        assert!(csv_cells(&contract, b',').iter().flatten().all(|c| !c.starts_with('\'')), "{backend}");
        t.drop_db().await;
    }
}

/// Words of an open-data licence.
fn licence_words(body: &str) -> Vec<&'static str> {
    let lower = body.to_lowercase();
    ["cc by", "cc-by", "creative commons", "iodl", "licenz", "licens"]
        .into_iter()
        .filter(|w| lower.contains(w))
        .collect()
}

#[tokio::test]
async fn private_exports_carry_no_open_data_licence() {
    for t in TestDb::all().await {
        let backend = t.db.backend();
        let app = app_with(&t, local()).await;
        let regione = sign_in(&app, REGIONE).await;
        for stem in ["registro", "evidenze", "proposte", "scadenze"] {
            for ending in [".csv", "-excel.csv", ".xlsx", ".json"] {
                let uri = format!("/export/{stem}{ending}");
                let a = send(&app, get(&uri, Some(&regione))).await;
                assert_eq!(a.status, StatusCode::OK, "{backend} {uri}");
                assert_eq!(licence_words(&a.body), Vec::<&str>::new(), "{backend} {uri}");
            }
            let a = send(&app, get(&format!("/export/{stem}.json"), Some(&regione))).await;
            let json: serde_json::Value = serde_json::from_str(&a.body).unwrap();
            assert_eq!(json["metadati"]["riservato"], true, "{backend} {stem}");
            let a = send(&app, get(&format!("/export/{stem}.xlsx"), Some(&regione))).await;
            assert!(a.body.contains("dati riservati"), "{backend} {stem}");
        }
        // The open data keep theirs.
        let a = send(&app, get("/export/comuni.json", None)).await;
        let json: serde_json::Value = serde_json::from_str(&a.body).unwrap();
        assert_eq!(json["metadati"]["licenza"], "CC-BY-4.0", "{backend}");
        let a = send(&app, get("/export/comuni.xlsx", None)).await;
        assert!(a.body.contains("CC BY 4.0 (Regione Puglia — Traguardi)"), "{backend}");
        assert!(!a.body.contains("riservati"), "{backend}: no blockers for the public");
        // With the blockers (a signed-in reader), the licence leaves them out.
        let a = send(&app, get("/export/comuni.xlsx", Some(&regione))).await;
        assert!(
            a.body.contains("il foglio Blocchi contiene dati riservati, esclusi dalla licenza"),
            "{backend}"
        );
        t.drop_db().await;
    }
}

async fn upload(app: &Router, token: &str, file_name: &str, bytes: &[u8]) -> Answer {
    let body = multipart(file_name, bytes);
    let req = Request::post("/importazioni")
        .header(header::CONTENT_TYPE, "multipart/form-data; boundary=----traguardi-test-boundary")
        .header(header::CONTENT_LENGTH, body.len())
        .body(Body::from(body))
        .unwrap();
    send(app, with_cookie(req, Some(token))).await
}

/// Batches kept and the data version.
async fn kept(db: &Db) -> (i64, i64) {
    let batches: i64 = on_db!(db, pool => sqlx::query_scalar("SELECT COUNT(*) FROM import_batch")
        .fetch_one(pool)
        .await
        .unwrap());
    (batches, db.data_version().await.unwrap())
}

/// The hostile workbooks: (what, file, words of the refusal).
fn bombs() -> Vec<(&'static str, Vec<u8>, &'static str)> {
    let sst = br#"<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="1" uniqueCount="999999999999"><si><t>a</t></si></sst>"#;
    vec![
        (
            "a cell at XFD1048576",
            workbook(&sheet_xml(FAR_CELL)),
            "Il foglio «Foglio1» va oltre il limite di 100.000 righe (ha dati fino alla riga 1.048.576)",
        ),
        (
            "100,000 columns in one row",
            workbook(&sheet_xml(&wide_row(100_000))),
            "Il foglio «Foglio1» va oltre il limite di 200 colonne",
        ),
        (
            "a sheet that expands 30 MB from a few kilobytes",
            workbook(&sheet_xml(&" ".repeat(30 << 20))),
            "compressa in modo anomalo",
        ),
        (
            "a trillion shared texts announced",
            workbook_with(&[
                ("xl/worksheets/sheet1.xml", &sheet_xml(FAR_CELL)),
                ("xl/sharedStrings.xml", sst),
            ]),
            "testi, oltre il limite",
        ),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_workbooks_are_refused_and_the_server_keeps_answering() {
    for t in TestDb::all().await {
        let backend = t.db.backend();
        let app = app_with(&t, local()).await;
        let regione = sign_in(&app, REGIONE).await;
        let before = kept(&t.db).await;
        for (what, bytes, words) in bombs() {
            let a = upload(&app, &regione, "bomba.xlsx", &bytes).await;
            assert_eq!(a.status, StatusCode::BAD_REQUEST, "{backend} {what}");
            let body = a.body.replace("&#x27;", "'");
            assert!(body.contains(words), "{backend} {what}: «{words}» not in the page");
            assert!(body.contains("Il file non è stato caricato."), "{backend} {what}");
            assert_eq!(kept(&t.db).await, before, "{backend} {what}: nothing kept");
        }

        // While uploads wait for their turn and while they are read, `/healthz` answers. The
        // readers' permits are held here first, so the upload is certainly in flight.
        let (_, far, _) = bombs().swap_remove(0);
        let permits = crate::imports::table::PARSING.acquire_many(2).await.unwrap();
        let waiting = tokio::spawn({
            let (app, regione, far) = (app.clone(), regione.clone(), far.clone());
            async move { upload(&app, &regione, "bomba.xlsx", &far).await }
        });
        for _ in 0..5 {
            let a = send(&app, get("/healthz", None)).await;
            assert_eq!((a.status, a.body.as_str()), (StatusCode::OK, "ok"), "{backend}");
        }
        assert!(!waiting.is_finished(), "{backend}: the upload waits for a reader");
        drop(permits);
        // Then read: several at once, with `/healthz` asked all the while.
        let uploads: Vec<_> = (0..4)
            .map(|_| {
                let (app, regione, far) = (app.clone(), regione.clone(), far.clone());
                tokio::spawn(async move { upload(&app, &regione, "bomba.xlsx", &far).await })
            })
            .collect();
        let mut polls = 0;
        while !uploads.iter().all(|u| u.is_finished()) || polls == 0 {
            let a = send(&app, get("/healthz", None)).await;
            assert_eq!(a.status, StatusCode::OK, "{backend}");
            polls += 1;
        }
        for u in uploads.into_iter().chain([waiting]) {
            assert_eq!(u.await.unwrap().status, StatusCode::BAD_REQUEST, "{backend}");
        }
        assert_eq!(kept(&t.db).await, before, "{backend}");
        t.drop_db().await;
    }
}

/// Found by `integration::props`: a parameter given twice (`?provincia=BA&provincia=LE`) was
/// answered by axum's English "Failed to deserialize query string" on every route reading a
/// filter from the query string, and on the OIDC callback. Now a 400 in Italian, and the
/// callback goes back to the sign-in page like any malformed one.
#[tokio::test]
async fn a_repeated_query_parameter_is_refused_in_italian() {
    for t in TestDb::all().await {
        let mut config = local();
        config.oidc = Some(crate::auth::config::OidcConfig {
            issuer: "http://127.0.0.1:9/nessuno".into(),
            client_id: "traguardi".into(),
            client_secret: None,
            redirect_url: "http://127.0.0.1:3000/accedi/oidc/callback".into(),
            fiscal_code_claim: "fiscal_number".into(),
            scopes: vec!["openid".into()],
            label: "Entra con SPID o CIE".into(),
        });
        let app = app_with(&t, config).await;
        let token = sign_in(&app, REGIONE).await;
        for path in [
            "/export/comuni.csv?popolazione=0-5000&popolazione=0-5000",
            "/export/comuni.xlsx?provincia=BA&provincia=LE",
            "/export/comuni.json?ordina=nome&ordina=nome",
            "/export/scadenze.csv?al=2021-02-15&al=2021-02-16",
            "/export/registro.json?comune=072006&comune=072006",
            "/export/evidenze.csv?provincia=BA&provincia=BA",
            "/grafici/servizi.svg?adesione=aderente&adesione=rinuncia",
            "/report.pdf?q=a&q=b",
        ] {
            let (status, body) = fetch(&app, path, Some(&token)).await;
            let body = String::from_utf8_lossy(&body);
            assert_eq!(status, StatusCode::BAD_REQUEST, "{path}: {body}");
            assert_eq!(body, crate::limits::query::UNREADABLE, "{path}");
        }
        let a = send(&app, get("/accedi/oidc/callback?error=code&error=code", None)).await;
        assert_eq!(a.status, StatusCode::SEE_OTHER, "{}", a.body);
        assert_eq!(a.location(), "/accedi?errore=oidc-non-valido");
        let a = send(&app, get("/accedi/oidc/callback?code=a&state=b&state=c", None)).await;
        assert_eq!(a.location(), "/accedi?errore=oidc-non-valido");
        t.drop_db().await;
    }
}
