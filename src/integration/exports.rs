//! `/export/comuni.xlsx` on both backends, read back with calamine: one sheet per table with
//! typed cells holding exactly the CSV contract's rows for the same view, the objectives and
//! services of the exported comuni, blockers only for those who may read them, the filters and
//! dates in words; the header frozen with an autofilter (read from the sheets' XML).

use std::io::{Cursor, Read};

use axum::{
    body::Body,
    http::{header, Request, StatusCode},
    Router,
};
use calamine::{open_workbook_from_rs, Data, DataType, Reader, Xlsx};
use http_body_util::BodyExt;
use tower::ServiceExt;

use super::{
    auth::{app_with, local, sign_in, with_cookie, CODICE_A, COMUNE_A, REGIONE},
    TestDb,
};
use crate::{
    comuni::export::{HEADER, XLSX_TYPE},
    data::{on_db, programme::FONDO_INNOVAZIONE, Db},
};

async fn fetch(app: &Router, uri: &str, token: Option<&str>) -> (StatusCode, header::HeaderMap, Vec<u8>) {
    let request = with_cookie(Request::get(uri).body(Body::empty()).unwrap(), token);
    let response = app.clone().oneshot(request).await.unwrap();
    let (status, headers) = (response.status(), response.headers().clone());
    (status, headers, response.into_body().collect().await.unwrap().to_bytes().to_vec())
}

fn sheet(book: &mut Xlsx<Cursor<Vec<u8>>>, name: &str) -> Vec<Vec<Data>> {
    book.worksheet_range(name).unwrap().rows().map(|r| r.to_vec()).collect()
}

/// A cell as the CSV contract writes it: dates ISO, booleans `si`/`no`, whole numbers plain.
fn as_contract(cell: &Data) -> String {
    match cell {
        Data::Empty => String::new(),
        Data::String(s) => s.clone(),
        Data::Bool(b) => if *b { "si" } else { "no" }.to_string(),
        Data::Float(f) => format!("{f}"),
        Data::Int(i) => i.to_string(),
        Data::DateTime(_) => cell.as_datetime().unwrap().date().format("%Y-%m-%d").to_string(),
        other => panic!("unexpected cell {other:?}"),
    }
}

/// The XML of worksheet `n` (1-based) inside the workbook.
fn sheet_xml(bytes: &[u8], n: usize) -> String {
    let mut zip = zip::ZipArchive::new(Cursor::new(bytes)).unwrap();
    let mut xml = String::new();
    zip.by_name(&format!("xl/worksheets/sheet{n}.xml")).unwrap().read_to_string(&mut xml).unwrap();
    xml
}

async fn count(db: &Db, sql: &str, comuni: &[String]) -> usize {
    let mut total = 0;
    for c in comuni {
        total += on_db!(db, pool => sqlx::query_scalar::<_, i64>(sql).bind(c).fetch_one(pool).await.unwrap())
            as usize;
    }
    total
}

const BLOCKER_A: &str = "Il fornitore non ha ancora configurato il nodo";
const BLOCKER_B: &str = "Delibera di giunta non ancora approvata";

#[tokio::test]
async fn the_workbook_holds_the_view_typed_and_blockers_only_for_readers() {
    for t in TestDb::all().await {
        let backend = t.db.backend();
        let app = app_with(&t, local()).await;
        for (comune, text) in [(CODICE_A, BLOCKER_A), ("073027", BLOCKER_B)] {
            on_db!(&t.db, pool => sqlx::query(
                "INSERT INTO blocker (programme, comune, category, description, opened_on) VALUES ($1, $2, 'fornitore', $3, '2021-01-10')",
            )
            .bind(FONDO_INNOVAZIONE)
            .bind(comune)
            .bind(text)
            .execute(pool)
            .await
            .map(|_| ())
            .unwrap());
        }
        bump(&t.db).await;

        let view = "provincia=TA&ordina=nome";
        let (status, headers, bytes) = fetch(&app, &format!("/export/comuni.xlsx?{view}"), None).await;
        assert_eq!(status, StatusCode::OK, "{backend}");
        assert_eq!(headers[header::CONTENT_TYPE], XLSX_TYPE, "{backend}");
        let disposition = headers[header::CONTENT_DISPOSITION].to_str().unwrap();
        // The test accounts are real ones, so the demo ended: no demo mark in the name.
        assert!(disposition.starts_with("attachment; filename=\"comuni-2"), "{backend}: {disposition}");
        assert!(disposition.ends_with(".xlsx\""), "{backend}");
        let mut book: Xlsx<_> = open_workbook_from_rs(Cursor::new(bytes.clone())).unwrap();
        assert_eq!(book.sheet_names(), ["Comuni", "Obiettivi", "Servizi", "Blocchi", "Filtri"], "{backend}");

        // Comuni: the CSV's rows for the same view, cell by cell, with types.
        let csv = fetch(&app, &format!("/export/comuni.csv?{view}"), None).await.2;
        let csv_rows: Vec<csv::StringRecord> =
            csv::Reader::from_reader(csv.as_slice()).records().map(Result::unwrap).collect();
        let rows = sheet(&mut book, "Comuni");
        let header: Vec<String> = rows[0].iter().map(as_contract).collect();
        assert_eq!(header, HEADER, "{backend}");
        assert_eq!(rows.len() - 1, csv_rows.len(), "{backend}");
        assert_eq!(csv_rows.len(), 29, "{backend}: the 29 comuni of the province of Taranto");
        for (row, expected) in rows[1..].iter().zip(&csv_rows) {
            let got: Vec<String> = row.iter().map(as_contract).collect();
            let expected: Vec<String> = expected.iter().map(str::to_string).collect();
            assert_eq!(got, expected, "{backend}");
            assert!(matches!(row[0], Data::String(_)), "{backend}: the ISTAT code stays text");
            assert!(matches!(row[4], Data::Float(_)), "{backend}: the population is a number");
        }
        let typed_dates = rows[1..].iter().filter(|r| r[6].is_datetime()).count();
        assert!(typed_dates > 0, "{backend}: adhesion dates are dates");
        assert!(rows[1..].iter().any(|r| matches!(r[8], Data::Bool(_))), "{backend}: yes/no are booleans");

        // Objectives: one row per objective of each exported comune in the programme.
        let snapshot = crate::state::AppState::new(
            leptos::prelude::LeptosOptions::builder().output_name("traguardi").build(),
            t.db.clone(),
        )
        .snapshot()
        .await
        .unwrap();
        let codes: Vec<String> = csv_rows.iter().map(|r| r[0].to_string()).collect();
        let supported = codes.iter().filter(|c| snapshot.find(c).unwrap().outcome.supported).count();
        let objectives = sheet(&mut book, "Obiettivi");
        assert_eq!(objectives.len() - 1, supported * snapshot.programme.objectives.len(), "{backend}");
        for r in &objectives[1..] {
            let e = snapshot.find(&as_contract(&r[0])).unwrap();
            let i = snapshot.programme.objectives.iter().position(|o| o.code == as_contract(&r[2])).unwrap();
            let reached = e.outcome.objectives[i].reached_on;
            assert_eq!(r[7], Data::Bool(reached.is_some()), "{backend}");
            assert_eq!(r[9].as_datetime().map(|d| d.date()), reached, "{backend}");
            assert!(r[6].is_datetime(), "{backend}: the deadline is a date");
        }

        // Services: every pagoPA, IO and SPID/CIE service of the exported comuni.
        let services = sheet(&mut book, "Servizi");
        let by = |p: &str| services[1..].iter().filter(|r| as_contract(&r[2]) == p).count();
        let q = |table: &str| format!("SELECT COUNT(*) FROM {table} WHERE comune = $1");
        assert_eq!(by("pagopa"), count(&t.db, &q("pagopa_service"), &codes).await, "{backend}");
        assert_eq!(by("io"), count(&t.db, &q("io_service"), &codes).await, "{backend}");
        assert_eq!(by("spid_cie"), count(&t.db, &q("online_service"), &codes).await, "{backend}");
        assert!(services[1..].iter().all(|r| codes.contains(&as_contract(&r[0]))), "{backend}");

        // Blockers are not public: the sheet says so, and no text leaks anywhere.
        let blocchi = sheet(&mut book, "Blocchi");
        assert!(as_contract(&blocchi[0][0]).contains("non sono dati pubblici"), "{backend}");
        for name in book.sheet_names() {
            let leaked =
                sheet(&mut book, &name).iter().flatten().any(|c| as_contract(c).contains("fornitore"));
            assert!(!leaked, "{backend}: a blocker in sheet {name}");
        }

        // The filters and dates in words.
        let filtri: Vec<String> = sheet(&mut book, "Filtri")
            .iter()
            .map(|r| r.iter().map(as_contract).collect::<Vec<_>>().join(" = "))
            .collect();
        assert!(filtri.contains(&"Filtro = provincia di Taranto".to_string()), "{backend}: {filtri:?}");
        assert!(filtri.contains(&"Dati dimostrativi = no".to_string()), "{backend}: {filtri:?}");
        assert!(filtri.contains(&format!("Dati al = {}", crate::format::date(snapshot.as_of))), "{backend}");
        assert!(
            filtri.contains(&"Vista (parametri) = provincia=TA&ordina=nome".to_string()),
            "{backend}: {filtri:?}"
        );

        // A bold header row, frozen, with an autofilter over the whole table.
        let xml = sheet_xml(&bytes, 1);
        assert!(
            xml.contains(r#"ySplit="1""#) && xml.contains(r#"state="frozen""#),
            "{backend}: frozen header"
        );
        assert!(xml.contains(&format!(r#"<autoFilter ref="A1:V{}"/>"#, csv_rows.len() + 1)), "{backend}");

        // The Region reads every comune's blockers; a comune's user only its own.
        let all_of_puglia = |token: String| {
            let app = app.clone();
            async move {
                let bytes = fetch(&app, "/export/comuni.xlsx", Some(&token)).await.2;
                let mut book: Xlsx<_> = open_workbook_from_rs(Cursor::new(bytes)).unwrap();
                sheet(&mut book, "Blocchi")[1..].iter().map(|r| as_contract(&r[3])).collect::<Vec<_>>()
            }
        };
        let regione = sign_in(&app, REGIONE).await;
        assert_eq!(all_of_puglia(regione).await, [BLOCKER_A, BLOCKER_B], "{backend}");
        let comune = sign_in(&app, COMUNE_A).await;
        assert_eq!(all_of_puglia(comune).await, [BLOCKER_A], "{backend}");

        // A bad filter is refused in Italian, as everywhere.
        let (status, _, body) = fetch(&app, "/export/comuni.xlsx?provincia=XX", None).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{backend}");
        assert!(String::from_utf8_lossy(&body).contains("Provincia sconosciuta"), "{backend}");
        t.drop_db().await;
    }
}

async fn bump(db: &Db) {
    on_db!(db, pool => sqlx::query(crate::data::BUMP_DATA_VERSION).execute(pool).await.map(|_| ()).unwrap());
}

#[tokio::test]
async fn the_command_line_writes_the_same_exports() {
    use crate::comuni::cli::{run, ExportArgs};
    for t in TestDb::all().await {
        let backend = t.db.backend();
        let app = app_with(&t, local()).await;
        on_db!(&t.db, pool => sqlx::query(
            "INSERT INTO blocker (programme, comune, category, description, opened_on) VALUES ($1, '073027', 'fornitore', $2, '2021-01-10')",
        )
        .bind(FONDO_INNOVAZIONE)
        .bind(BLOCKER_B)
        .execute(pool)
        .await
        .map(|_| ())
        .unwrap());
        bump(&t.db).await;
        let dir = std::env::temp_dir().join(format!("traguardi-export-{}-{}", backend, std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();

        // The same bytes as the route, for the contract CSV and the Excel one.
        for (format, route) in [
            ("csv", "/export/comuni.csv"),
            ("csv-excel", "/export/comuni-excel.csv"),
            ("json", "/export/comuni.json"),
        ] {
            let file = dir.join(format!("out-{format}"));
            let args = ExportArgs {
                format: format.into(),
                output: Some(file.clone()),
                provincia: Some("TA".into()),
                ordina: Some("popolazione".into()),
                verso: Some("desc".into()),
                ..ExportArgs::default()
            };
            let said = run(&t.db, args).await.unwrap();
            assert!(said.starts_with("Esportati 29 comuni in "), "{backend}: {said}");
            let web =
                fetch(&app, &format!("{route}?provincia=TA&ordina=popolazione&verso=desc"), None).await.2;
            assert_eq!(std::fs::read(&file).unwrap(), web, "{backend} {format}");
        }
        // The workbook from the command line holds every blocker.
        let file = dir.join("out.xlsx");
        let args = ExportArgs { format: "xlsx".into(), output: Some(file.clone()), ..ExportArgs::default() };
        assert!(run(&t.db, args).await.unwrap().starts_with("Esportati 257 comuni"), "{backend}");
        let mut book: Xlsx<_> = open_workbook_from_rs(Cursor::new(std::fs::read(&file).unwrap())).unwrap();
        let blocchi: Vec<String> =
            sheet(&mut book, "Blocchi")[1..].iter().map(|r| as_contract(&r[3])).collect();
        assert_eq!(blocchi, [BLOCKER_B], "{backend}");

        // A bad format or filter is refused in Italian, and nothing is written.
        let file = dir.join("never");
        let bad = ExportArgs { format: "pdf".into(), output: Some(file.clone()), ..ExportArgs::default() };
        let e = run(&t.db, bad).await.unwrap_err().to_string();
        assert!(e.contains("Formato sconosciuto: «pdf»") && e.contains("csv-excel"), "{backend}: {e}");
        let bad =
            ExportArgs { provincia: Some("RM".into()), output: Some(file.clone()), ..ExportArgs::default() };
        let e = run(&t.db, bad).await.unwrap_err().to_string();
        assert!(e.contains("Provincia sconosciuta: «RM»"), "{backend}: {e}");
        assert!(!file.exists(), "{backend}");
        std::fs::remove_dir_all(&dir).unwrap();
        t.drop_db().await;
    }
}
