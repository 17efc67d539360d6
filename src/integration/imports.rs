//! Imports on both backends, through HTTP as the Region uses them: the XLSX export imported
//! back changes nothing; each malformed file is reported with its message and leaves the data
//! as they were (only the uploaded file is kept); 10,000 count snapshots commit in one
//! transaction; a record changed between the dry run and the commit stops the whole import;
//! templates and the kept file download; other roles are refused.

use axum::{
    body::Body,
    http::{header, Request, StatusCode},
    Router,
};

use super::{
    auth::{app_with, get, local, send, sign_in, with_cookie, Answer, COMUNE_A, REGIONE},
    evidence::multipart,
    TestDb,
};
use crate::{
    data::{audit, imports, on_db, programme::FONDO_INNOVAZIONE, Db},
    imports::{plan::Current, KINDS},
};

const BOUNDARY: &str = "----traguardi-test-boundary";

async fn upload(app: &Router, token: Option<&str>, file_name: &str, bytes: &[u8]) -> Answer {
    let body = multipart(file_name, bytes);
    let req = Request::post("/importazioni")
        .header(header::CONTENT_TYPE, format!("multipart/form-data; boundary={BOUNDARY}"))
        .header(header::CONTENT_LENGTH, body.len())
        .body(Body::from(body))
        .unwrap();
    send(app, with_cookie(req, token)).await
}

async fn confirm(app: &Router, token: &str, id: i64) -> Answer {
    let req = Request::post(format!("/importazioni/{id}/conferma"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(Body::empty())
        .unwrap();
    send(app, with_cookie(req, Some(token))).await
}

/// Uploads and follows the redirect to the report: (batch id, report page).
async fn try_file(app: &Router, token: &str, file_name: &str, bytes: &[u8]) -> (i64, Answer) {
    let a = upload(app, Some(token), file_name, bytes).await;
    assert_eq!(a.status, StatusCode::SEE_OTHER, "{}", &a.body[..a.body.len().min(600)]);
    let id: i64 = a.location().trim_start_matches("/importazioni/").parse().expect("a batch id");
    let page = send(app, get(&format!("/importazioni/{id}"), Some(token))).await;
    assert_eq!(page.status, StatusCode::OK);
    (id, page)
}

/// Everything an import may change, the data version and the trail's length.
async fn fingerprint(db: &Db) -> (Current, i64, i64) {
    let current = imports::current(db, FONDO_INNOVAZIONE).await.unwrap();
    let trail: i64 = on_db!(db, pool => sqlx::query_scalar("SELECT COUNT(*) FROM audit_entry")
        .fetch_one(pool)
        .await
        .unwrap());
    (current, db.data_version().await.unwrap(), trail)
}

/// The page's text with tags and entities reduced, for looking for sentences.
fn text(html: &str) -> String {
    let mut out = String::new();
    let mut tag = false;
    for c in html.chars() {
        match c {
            '<' => tag = true,
            '>' => {
                tag = false;
                out.push(' ');
            }
            c if !tag => out.push(c),
            _ => {}
        }
    }
    out.replace("&#x27;", "'")
        .replace("&quot;", "\"")
        .replace("&amp;", "&")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

#[tokio::test]
async fn the_xlsx_export_imported_back_changes_nothing() {
    for t in TestDb::all().await {
        let app = app_with(&t, local()).await;
        let token = sign_in(&app, REGIONE).await;
        let req = with_cookie(Request::get("/export/comuni.xlsx").body(Body::empty()).unwrap(), Some(&token));
        let response = tower::ServiceExt::oneshot(app.clone(), req).await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        let xlsx = http_body_util::BodyExt::collect(response.into_body()).await.unwrap().to_bytes();
        let before = fingerprint(&t.db).await;
        let (id, page) = try_file(&app, &token, "comuni.xlsx", &xlsx).await;
        let words = text(&page.body);
        assert!(!words.contains("Problemi"), "{}: {words}", t.db.backend());
        // Every comune's adhesion and every service of the demo data, read back unchanged.
        let services: i64 = on_db!(&t.db, pool => sqlx::query_scalar(
            "SELECT (SELECT COUNT(*) FROM pagopa_service) + (SELECT COUNT(*) FROM io_service) \
             + (SELECT COUNT(*) FROM online_service)",
        )
        .fetch_one(pool)
        .await
        .unwrap());
        assert!(services > 100, "the demo data has services: {services}");
        let expected = format!("Esito: 0 aggiunti, 0 modificati, {} invariati.", 257 + services);
        assert!(words.contains(&expected), "{}: expected «{expected}» in {words}", t.db.backend());
        assert!(words.contains("Il file non cambia nulla"), "{words}");
        assert!(words.contains("Il foglio «Obiettivi» è stato ignorato"), "{words}");
        // Nothing to apply: a confirmation applies no change either.
        let a = confirm(&app, &token, id).await;
        assert_eq!(a.status, StatusCode::SEE_OTHER);
        assert_eq!(fingerprint(&t.db).await, before);
        t.drop_db().await;
    }
}

/// (what the file holds, the column named, words of the message).
fn malformed() -> Vec<(&'static str, String, &'static str, &'static str)> {
    vec![
        (
            "unknown ISTAT code",
            "codice_istat;adesione;data_adesione\n099999;aderente;30/10/2020\n".into(),
            "codice_istat",
            "Codice ISTAT sconosciuto: 099999",
        ),
        (
            "name that does not match the code",
            "codice_istat;denominazione;adesione;data_adesione\n72006;Bitonto;aderente;30/10/2020\n".into(),
            "denominazione",
            "Il nome «Bitonto» non corrisponde al codice 072006, che è Bari.",
        ),
        (
            "bad date",
            "codice_istat;adesione;data_adesione\n072006;aderente;31/02/2021\n".into(),
            "data_adesione",
            "Data non valida: «31/02/2021».",
        ),
        (
            "duplicate row",
            "codice_istat;adesione;data_adesione\n072006;rinuncia;30/10/2020\n72006;rinuncia;30/10/2020\n"
                .into(),
            "—",
            "Riga duplicata: l'adesione di Bari (072006) è già alla riga 2.",
        ),
        (
            "negative count",
            "codice_istat;piattaforma;giorno;attivi\n072006;pagopa;28/02/2021;-4\n".into(),
            "attivi",
            "Il numero di servizi attivi non può essere negativo.",
        ),
        (
            "unknown taxonomy code",
            "codice_istat;piattaforma;codice;applicabile;su_mypay\n072006;pagopa;9/9999999ZZ/;sì;sì\n".into(),
            "codice",
            "Codice di tassonomia sconosciuto: «9/9999999ZZ/».",
        ),
    ]
}

#[tokio::test]
async fn each_malformed_file_is_reported_and_changes_nothing() {
    for t in TestDb::all().await {
        let app = app_with(&t, local()).await;
        let token = sign_in(&app, REGIONE).await;
        for (case, csv, column, message) in malformed() {
            let before = fingerprint(&t.db).await;
            // A good row beside the bad one: it is not applied either.
            let (id, page) = try_file(&app, &token, "prova.csv", csv.as_bytes()).await;
            let words = text(&page.body);
            assert!(words.contains(message), "{case} on {}: «{message}» not in {words}", t.db.backend());
            assert!(words.contains(&format!("{column} {message}")), "{case}: column {column} in {words}");
            assert!(words.contains("Il file non può essere importato"), "{case}: {words}");
            assert!(!words.contains("Applica l'importazione"), "{case}: no button to apply");
            let a = confirm(&app, &token, id).await;
            assert_eq!(a.status, StatusCode::BAD_REQUEST, "{case}");
            assert!(text(&a.body).contains("L'importazione non è stata applicata"), "{case}");
            assert_eq!(fingerprint(&t.db).await, before, "{case} on {}: the data changed", t.db.backend());
        }
        // Unreadable files are refused before anything is kept.
        let kept = imports::recent_page(&t.db, 100, 0).await.unwrap().0.len();
        for (name, bytes, words) in [
            ("vuoto.csv", &b""[..], "Scegliere un file CSV o XLSX"),
            ("vecchio.xls", &[0xD0, 0xCF, 0x11, 0xE0, 1, 2, 3][..], "Cartella di lavoro di Excel"),
            ("rotto.xlsx", &b"PK\x03\x04 rotto"[..], "Il file XLSX non è leggibile"),
        ] {
            let a = upload(&app, Some(&token), name, bytes).await;
            assert_eq!(a.status, StatusCode::BAD_REQUEST, "{name}");
            assert!(text(&a.body).contains(words), "{name}: {}", text(&a.body));
        }
        assert_eq!(imports::recent_page(&t.db, 100, 0).await.unwrap().0.len(), kept);
        t.drop_db().await;
    }
}

#[tokio::test]
async fn ten_thousand_count_snapshots_commit_in_one_transaction() {
    for t in TestDb::all().await {
        let app = app_with(&t, local()).await;
        let token = sign_in(&app, REGIONE).await;
        let csv = super::ten_thousand_new_counts_csv(&t.db).await;
        let (version, trail) = {
            let (_, v, n) = fingerprint(&t.db).await;
            (v, n)
        };
        let counts_before: i64 = on_db!(&t.db, pool => sqlx::query_scalar("SELECT COUNT(*) FROM service_count")
            .fetch_one(pool)
            .await
            .unwrap());
        let (id, page) = try_file(&app, &token, "conteggi.csv", csv.as_bytes()).await;
        let words = text(&page.body);
        assert!(words.contains("Esito: 10000 aggiunti, 0 modificati, 0 invariati."), "{words}");
        assert!(words.contains("Sono elencate le prime 500 modifiche su 10000."), "{words}");
        assert!(words.contains("Applica l'importazione (10000 modifiche)"), "{words}");
        let a = confirm(&app, &token, id).await;
        assert_eq!(a.status, StatusCode::SEE_OTHER, "{}", text(&a.body));
        assert_eq!(a.location(), format!("/importazioni/{id}?applicata=1"));
        let counts_after: i64 = on_db!(&t.db, pool => sqlx::query_scalar("SELECT COUNT(*) FROM service_count")
            .fetch_one(pool)
            .await
            .unwrap());
        assert_eq!(counts_after - counts_before, 10_000);
        let (_, version_after, trail_after) = fingerprint(&t.db).await;
        // One writing transaction bumps the data version once.
        assert_eq!(version_after, version + 1, "{}: one transaction", t.db.backend());
        assert_eq!(trail_after - trail, 10_000, "one trail entry per changed record");
        let reason = format!("Importazione n. {id}");
        let named: i64 = on_db!(&t.db, pool => sqlx::query_scalar("SELECT COUNT(*) FROM audit_entry WHERE reason = $1")
            .bind(&reason)
            .fetch_one(pool)
            .await
            .unwrap());
        assert_eq!(named, 10_000);
        assert!(audit::verify(&t.db).await.unwrap().broken.is_none());
        // The report as applied, and a second click applies nothing twice.
        let words =
            text(&send(&app, get(&format!("/importazioni/{id}?applicata=1"), Some(&token))).await.body);
        assert!(words.contains("Importazione applicata"), "{words}");
        assert!(words.contains("Esito: 10000 aggiunti"), "{words}");
        assert!(!words.contains("Applica l'importazione"), "{words}");
        assert_eq!(confirm(&app, &token, id).await.status, StatusCode::SEE_OTHER);
        assert_eq!(fingerprint(&t.db).await.2, trail_after);
        // The file is kept as it was uploaded.
        let file = send(&app, get(&format!("/importazioni/{id}/file"), Some(&token))).await;
        assert_eq!(file.status, StatusCode::OK);
        assert_eq!(file.body, csv);
        t.drop_db().await;
    }
}

#[tokio::test]
async fn a_record_changed_after_the_dry_run_stops_the_whole_import() {
    for t in TestDb::all().await {
        let app = app_with(&t, local()).await;
        let token = sign_in(&app, REGIONE).await;
        let csv =
            "codice_istat;adesione;data_adesione\n072006;rinuncia;30/10/2020\n075035;rinuncia;01/11/2020\n";
        let (id, page) = try_file(&app, &token, "adesioni.csv", csv.as_bytes()).await;
        assert!(text(&page.body).contains("Applica l'importazione (2 modifiche)"), "{}", text(&page.body));
        // Somebody edits Bari's adhesion meanwhile (through the workspace's own write).
        let values = crate::workspace::AdhesionValues {
            status: crate::rules::AdhesionStatus::AderenteInRitardo,
            date: chrono::NaiveDate::from_ymd_opt(2020, 11, 2),
            renunciation: None,
        };
        let version = imports::current(&t.db, FONDO_INNOVAZIONE).await.unwrap().adhesions["072006"].1;
        let mut current = imports::current(&t.db, FONDO_INNOVAZIONE).await.unwrap();
        crate::data::workspace::write_tx!(&t.db, tx => tx
            .set_adhesion_in("altro@test.invalid", FONDO_INNOVAZIONE, "072006", &values, version, None)
            .await?)
        .unwrap();
        current.adhesions.insert("072006".into(), (values, version + 1));
        let before = fingerprint(&t.db).await;
        assert_eq!(before.0, current);
        // The plan read before the edit is stale: applying it writes nothing at all.
        let snapshot =
            crate::evaluation::Snapshot::build(&t.db, FONDO_INNOVAZIONE, crate::evaluation::today())
                .await
                .unwrap();
        let stale = {
            let (_, tables) = crate::imports::table::read("adesioni.csv", csv.as_bytes()).unwrap();
            let mut old = current.clone();
            old.adhesions.get_mut("072006").unwrap().1 = version;
            let ctx = crate::imports::server::ssr::context(&t.db, &snapshot.programme).await.unwrap();
            crate::imports::plan::plan(&tables, &old, &ctx)
        };
        let r = imports::apply(&t.db, REGIONE, FONDO_INNOVAZIONE, id, &stale.ops, &stale.report).await;
        assert!(matches!(r, Err(crate::data::workspace::WriteError::Conflict)), "{r:?}");
        assert_eq!(fingerprint(&t.db).await, before, "{}: nothing written", t.db.backend());
        // Confirming through the page plans again against the data as they are now.
        let a = confirm(&app, &token, id).await;
        assert_eq!(a.status, StatusCode::SEE_OTHER, "{}", text(&a.body));
        let after = imports::current(&t.db, FONDO_INNOVAZIONE).await.unwrap();
        assert_eq!(after.adhesions["072006"].0.status, crate::rules::AdhesionStatus::Rinuncia);
        assert_eq!(after.adhesions["075035"].0.status, crate::rules::AdhesionStatus::Rinuncia);
        t.drop_db().await;
    }
}

/// Bodies built to exhaust memory, sent to the import: 200 MB without a boundary, a part header
/// that never ends (both chunked, with no length to refuse up front) and 10,000 tiny fields
/// before a valid file. Each is refused with its Italian message after the server has read at
/// most 1 MB of it, and no batch is kept.
#[tokio::test]
async fn hostile_bodies_are_refused_before_they_are_buffered() {
    const MB: u64 = 1024 * 1024;
    let batches = |db: Db| async move {
        on_db!(&db, pool => sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM import_batch")
            .fetch_one(pool)
            .await
            .unwrap())
    };
    for t in TestDb::all().await {
        let backend = t.db.backend();
        let app = app_with(&t, local()).await;
        let region = sign_in(&app, REGIONE).await;
        let before = batches(t.db.clone()).await;
        let cases = super::hostile_multipart_cases(BOUNDARY);
        for (what, prefix, filler, total) in cases {
            let (body, pulled) = super::generated_body(prefix.as_bytes(), filler, total);
            let req = Request::post("/importazioni")
                .header(header::CONTENT_TYPE, format!("multipart/form-data; boundary={BOUNDARY}"))
                .body(body)
                .unwrap();
            let a = send(&app, with_cookie(req, Some(&region))).await;
            assert_eq!(a.status, StatusCode::BAD_REQUEST, "{backend}: {what}");
            assert!(text(&a.body).contains("Il modulo inviato non è leggibile"), "{backend}: {what}");
            let pulled = pulled.await.expect("the body is dropped");
            assert!(pulled <= MB, "{backend}: {what}: {pulled} bytes read before the refusal");
        }
        let mut body = Vec::new();
        for i in 0..10_000 {
            body.extend_from_slice(
                format!("--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"campo{i}\"\r\n\r\nx\r\n")
                    .as_bytes(),
            );
        }
        body.extend_from_slice(&multipart("adesioni.csv", b"codice_istat;adesione;data_adesione\n"));
        let req = Request::post("/importazioni")
            .header(header::CONTENT_TYPE, format!("multipart/form-data; boundary={BOUNDARY}"))
            .header(header::CONTENT_LENGTH, body.len())
            .body(Body::from(body))
            .unwrap();
        let a = send(&app, with_cookie(req, Some(&region))).await;
        assert_eq!(a.status, StatusCode::PAYLOAD_TOO_LARGE, "{backend}: 10,000 fields");
        assert!(text(&a.body).contains("troppi campi (più di 16)"), "{backend}: 10,000 fields");
        assert_eq!(batches(t.db.clone()).await, before, "{backend}: no batch kept");
        t.drop_db().await;
    }
}

#[tokio::test]
async fn templates_and_roles() {
    let t = TestDb::sqlite().await;
    let app = app_with(&t, local()).await;
    let region = sign_in(&app, REGIONE).await;
    for k in KINDS {
        let a = send(&app, get(&format!("/importazioni/modelli/{}.csv", k.file), Some(&region))).await;
        assert_eq!(a.status, StatusCode::OK);
        assert!(a.body.starts_with('\u{feff}'), "a CSV for Italian Excel starts with the BOM");
        let header: Vec<&str> = k.columns.iter().map(|c| c.name).collect();
        assert_eq!(a.body.trim_start_matches('\u{feff}').trim_end(), header.join(";"));
        // An empty template uploaded as it is: recognised, nothing to do.
        let (_, page) = try_file(&app, &region, &format!("{}.csv", k.file), a.body.as_bytes()).await;
        let words = text(&page.body);
        assert!(words.contains("Esito: 0 aggiunti, 0 modificati, 0 invariati."), "{words}");
        assert!(words.contains(k.label), "{words}");
    }
    let req = with_cookie(
        Request::get("/importazioni/modelli/modello.xlsx").body(Body::empty()).unwrap(),
        Some(&region),
    );
    let response = tower::ServiceExt::oneshot(app.clone(), req).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let bytes = http_body_util::BodyExt::collect(response.into_body()).await.unwrap().to_bytes();
    let (_, tables) = crate::imports::table::read("modello.xlsx", &bytes).unwrap();
    let names: Vec<&str> = tables.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, ["Adesioni", "Servizi", "Conteggi", "Tassonomia", "Candidature", "Istruzioni"]);
    for table in &tables[..5] {
        assert!(crate::imports::plan::recognise(table).is_some(), "{}", table.name);
    }
    // Other roles: refused; nobody else may upload.
    let comune = sign_in(&app, COMUNE_A).await;
    let csv = b"codice_istat;adesione;data_adesione\n072006;rinuncia;30/10/2020\n";
    assert_eq!(upload(&app, Some(&comune), "a.csv", csv).await.status, StatusCode::FORBIDDEN);
    assert_eq!(upload(&app, None, "a.csv", csv).await.status, StatusCode::UNAUTHORIZED);
    let page = send(&app, get("/importazioni", Some(&comune))).await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    assert!(text(&page.body).contains("Solo i referenti della Regione possono importare dati."));
    // The Region's page: the form, the templates, the recent uploads.
    let words = text(&send(&app, get("/importazioni", Some(&region))).await.body);
    assert!(words.contains("Prova l'importazione"), "{words}");
    assert!(words.contains("Modello completo (XLSX)"), "{words}");
    assert!(words.contains("Importazioni recenti"), "{words}");
    t.drop_db().await;
}

#[tokio::test]
async fn the_command_line_tries_and_applies() {
    for t in TestDb::all().await {
        crate::demo::load(&t.db).await.unwrap();
        let dir = std::env::temp_dir().join(super::unique("traguardi_import_cli"));
        std::fs::create_dir_all(&dir).unwrap();
        let run = |file: &str, body: &str, dry_run: bool| {
            let path = dir.join(file);
            std::fs::write(&path, body).unwrap();
            let db = t.db.clone();
            async move {
                let args = crate::imports::cli::ImportArgs { file: path, dry_run, actor: "cli-test".into() };
                crate::imports::cli::run(&db, args).await.unwrap()
            }
        };
        let before = fingerprint(&t.db).await;
        let (text, clean) =
            run("a.csv", "Codice ISTAT;Adesione;Data adesione\n99999;aderente;01/01/2021\n", false).await;
        assert!(!clean);
        assert!(text.contains("riga 2, colonna codice_istat: Codice ISTAT sconosciuto: 099999"), "{text}");
        let csv = "codice_istat;adesione;data_adesione\n75035;Rinuncia;30/10/2020\n";
        let (text, clean) = run("b.csv", csv, true).await;
        assert!(clean && text.contains("Prova: nessun dato è stato modificato"), "{text}");
        assert_eq!(fingerprint(&t.db).await, before, "{}: a dry run changes nothing", t.db.backend());
        let (text, clean) = run("b.csv", csv, false).await;
        assert!(clean && text.contains("applicata: 1 modifica registrata."), "{text}");
        let applied = imports::recent_page(&t.db, 1, 0).await.unwrap().0.remove(0);
        assert_eq!((applied.file_name.as_str(), applied.uploaded_by.as_str()), ("b.csv", "cli-test"));
        let (text, _) = run("b.csv", csv, true).await;
        assert!(text.contains("Totale: 0 aggiunti, 0 modificati, 1 invariato."), "{text}");
        std::fs::remove_dir_all(&dir).ok();
        t.drop_db().await;
    }
}

#[tokio::test]
async fn the_official_taxonomy_names_and_validates_service_codes() {
    for t in TestDb::all().await {
        let app = app_with(&t, local()).await;
        let token = sign_in(&app, REGIONE).await;
        let demo_unused: i64 = on_db!(&t.db, pool => sqlx::query_scalar(
            "SELECT COUNT(*) FROM taxonomy_entry WHERE origin = 'demo' \
             AND code NOT IN (SELECT taxonomy_code FROM pagopa_service)",
        )
        .fetch_one(pool)
        .await
        .unwrap());
        let demo_used: i64 = on_db!(&t.db, pool => sqlx::query_scalar(
            "SELECT COUNT(*) FROM taxonomy_entry WHERE origin = 'demo' \
             AND code IN (SELECT taxonomy_code FROM pagopa_service)",
        )
        .fetch_one(pool)
        .await
        .unwrap());
        // The canteen's code is not in the demo taxonomy: a service with it is refused first.
        let service = "codice_istat;piattaforma;codice;applicabile;attivo_dal;su_mypay\n072006;pagopa;9/0104106SP/;sì;01/03/2021;sì\n";
        let (_, page) = try_file(&app, &token, "servizi.csv", service.as_bytes()).await;
        assert!(text(&page.body).contains("Codice di tassonomia sconosciuto: «9/0104106SP/»"));

        let file = include_bytes!("fixtures/tassonomia-pagopa.csv");
        let (id, page) = try_file(&app, &token, "tassonomia.csv", file).await;
        let words = text(&page.body);
        assert!(words.contains("Tassonomia dei servizi di incasso pagoPA"), "{words}");
        assert!(!words.contains("Problemi"), "{words}");
        let a = confirm(&app, &token, id).await;
        assert_eq!(a.status, StatusCode::SEE_OTHER, "{}", text(&a.body));
        let rows: Vec<(String, String, String)> = on_db!(&t.db, pool => sqlx::query_as(
            "SELECT code, origin, description FROM taxonomy_entry WHERE origin = 'ufficiale' ORDER BY code",
        )
        .fetch_all(pool)
        .await
        .unwrap());
        let codes: Vec<&str> = rows.iter().map(|r| r.0.as_str()).collect();
        assert_eq!(codes, ["9/0101100IM/", "9/0101101IM/", "9/0102100SA/", "9/0104106SP/", "9/0702133TS/"]);
        assert_eq!(rows[3].2, "Mensa scolastica");
        let (from, to): (Option<chrono::NaiveDate>, Option<chrono::NaiveDate>) = on_db!(&t.db, pool => sqlx::query_as(
            "SELECT valid_from, valid_to FROM taxonomy_entry WHERE code = '9/0104106SP/'",
        )
        .fetch_one(pool)
        .await
        .unwrap());
        assert_eq!(
            (from, to),
            (chrono::NaiveDate::from_ymd_opt(2020, 9, 1), chrono::NaiveDate::from_ymd_opt(2080, 1, 1))
        );
        let demo_left: i64 = on_db!(&t.db, pool => sqlx::query_scalar(
            "SELECT COUNT(*) FROM taxonomy_entry WHERE origin = 'demo'",
        )
        .fetch_one(pool)
        .await
        .unwrap());
        assert_eq!(
            demo_left,
            demo_used,
            "{}: the unused demo entries ({demo_unused}) are gone",
            t.db.backend()
        );
        let entries: i64 = on_db!(&t.db, pool => sqlx::query_scalar(
            "SELECT COUNT(*) FROM audit_entry WHERE entity = 'taxonomy_entry' AND reason = $1",
        )
        .bind(format!("Importazione n. {id}"))
        .fetch_one(pool)
        .await
        .unwrap());
        assert_eq!(entries, 5 + demo_unused, "one trail entry per code written or removed");
        // Now the canteen's code names a service.
        let (_, page) = try_file(&app, &token, "servizi.csv", service.as_bytes()).await;
        let words = text(&page.body);
        assert!(words.contains("Esito: 1 aggiunto"), "{words}");
        assert!(audit::verify(&t.db).await.unwrap().broken.is_none());
        t.drop_db().await;
    }
}

#[tokio::test]
async fn pa_digitale_2026_projects_attach_to_the_comuni_as_a_second_programme() {
    for t in TestDb::all().await {
        let app = app_with(&t, local()).await;
        let token = sign_in(&app, REGIONE).await;
        let file = include_bytes!("fixtures/padigitale2026-candidature.csv");
        let (id, page) = try_file(&app, &token, "candidature_comuni_finanziate.csv", file).await;
        let words = text(&page.body);
        assert!(words.contains("Candidature PA digitale 2026 (PNRR)"), "{words}");
        assert!(words.contains("Esito: 4 aggiunti, 0 modificati, 0 invariati."), "{words}");
        assert!(words.contains("1 righe di altre regioni sono state ignorate"), "{words}");
        let a = confirm(&app, &token, id).await;
        assert_eq!(a.status, StatusCode::SEE_OTHER, "{}", text(&a.body));
        let rows: Vec<(String, String, i64, String)> = on_db!(&t.db, pool => sqlx::query_as(
            "SELECT cup, comune, amount_cents, status FROM pnrr_project WHERE programme = 'padigitale2026' ORDER BY cup",
        )
        .fetch_all(pool)
        .await
        .unwrap());
        assert_eq!(rows.len(), 4, "{}", t.db.backend());
        assert!(rows.contains(&("F61F22002330006".into(), "072021".into(), 1_638_900, "R".into())));
        assert!(rows.iter().any(|r| r.1 == "072006"), "Bari's code read without its zero");
        // The comune's public page lists its project.
        let page = send(&app, get("/comuni/072021", None)).await;
        let words = text(&page.body);
        assert!(words.contains("PA digitale 2026 (PNRR)"), "{words}");
        assert!(words.contains("F61F22002330006"), "{words}");
        assert!(words.contains("€ 16.389 Rinuncia 07/12/2022 12/12/2022"), "{words}");
        let other = text(&send(&app, get("/comuni/075035", None)).await.body);
        assert!(other.contains("Nessun progetto PA digitale 2026 registrato per questo comune."));
        // One trail entry per project, on the comune's own trail; the same file again changes nothing.
        let entries: i64 = on_db!(&t.db, pool => sqlx::query_scalar(
            "SELECT COUNT(*) FROM audit_entry WHERE entity = 'pnrr_project' AND comune IS NOT NULL",
        )
        .fetch_one(pool)
        .await
        .unwrap());
        assert_eq!(entries, 4);
        let (_, page) = try_file(&app, &token, "candidature_comuni_finanziate.csv", file).await;
        assert!(text(&page.body).contains("Esito: 0 aggiunti, 0 modificati, 4 invariati."));
        // The first programme is untouched: its figures still check against the press release.
        let outcome = crate::check::run(&t.db).await.unwrap();
        assert!(!outcome.failed, "{}", outcome.report);
        t.drop_db().await;
    }
}

/// `/importazioni` lists the uploads a page at a time, newest first, with the total in words and
/// links to the other pages; `/importazioni/{id}` keeps its import on screen across those links.
/// Before, the page showed the latest 20 and every older upload could no longer be reached.
#[tokio::test]
async fn the_imports_are_paginated_with_their_total() {
    for t in TestDb::all().await {
        let backend = t.db.backend();
        let app = app_with(&t, local()).await;
        let region = sign_in(&app, REGIONE).await;
        let mut ids = Vec::new();
        for i in 0..61 {
            let csv = format!("codice_istat;adesione\n{i:06}\n");
            ids.push(
                imports::store(&t.db, REGIONE, &format!("prova-{i:02}.csv"), csv.as_bytes()).await.unwrap(),
            );
        }
        let listed = |body: &str| -> Vec<usize> {
            (0..61).rev().filter(|i| body.contains(&format!("prova-{i:02}.csv"))).collect()
        };
        let first = send(&app, get("/importazioni", Some(&region))).await;
        assert_eq!(first.status, StatusCode::OK, "{backend}");
        assert_eq!(listed(&first.body), (11..61).rev().collect::<Vec<_>>(), "{backend}: the 50 newest");
        let words = text(&first.body);
        assert!(
            words.contains("61 file caricati, dal più recente. Pagina 1: righe 1–50 di 61."),
            "{backend}: {words}"
        );
        assert!(first.body.contains("href=\"/importazioni?pagina=2\""), "{backend}");

        let second = send(&app, get("/importazioni?pagina=2", Some(&region))).await;
        assert_eq!(listed(&second.body), (0..11).rev().collect::<Vec<_>>(), "{backend}: the oldest");
        assert!(text(&second.body).contains("Pagina 2: righe 51–61 di 61."), "{backend}");
        // One import's page: its report, and the list's links stay on it.
        let oldest = ids[0];
        let one = send(&app, get(&format!("/importazioni/{oldest}?pagina=2"), Some(&region))).await;
        assert_eq!(one.status, StatusCode::OK, "{backend}");
        assert!(text(&one.body).contains(&format!("Importazione n. {oldest} — prova-00.csv")), "{backend}");
        assert_eq!(listed(&one.body), (0..11).rev().collect::<Vec<_>>(), "{backend}: page 2 under it");
        assert!(one.body.contains(&format!("href=\"/importazioni/{oldest}\"")), "{backend}: back to page 1");
        // A link made when there were more: the last page; a malformed page number: refused.
        let past = send(&app, get("/importazioni?pagina=7", Some(&region))).await;
        assert_eq!(listed(&past.body), (0..11).rev().collect::<Vec<_>>(), "{backend}: past the last");
        for bad in ["0", "tre"] {
            let a = send(&app, get(&format!("/importazioni?pagina={bad}"), Some(&region))).await;
            assert_eq!(a.status, StatusCode::BAD_REQUEST, "{backend}: pagina={bad}");
            assert!(a.body.contains("Numero di pagina non valido"), "{backend}: pagina={bad}");
        }
        t.drop_db().await;
    }
}
