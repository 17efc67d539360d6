//! Evidence over HTTP, on both databases and both stores (a local folder, and an S3-compatible
//! server started by `make unit` on 127.0.0.1, named by `TRAGUARDI_TEST_S3`): the whole cycle
//! (upload, review negative, new version, review positive, verified, download), the hostile
//! corpus (each case refused with no row and no file left), a body that lies about its length
//! and a connection cut halfway over real TCP, and the sweep of leftovers.

use std::time::Duration;

use axum::{
    body::Body,
    http::{header, Request, StatusCode},
    Router,
};
use leptos::prelude::LeptosOptions;
use sha2::{Digest, Sha256};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::{
    auth::{add_user, form, get, send, sign_in, with_cookie, Answer, ASSESSORE, COMUNE_A, REGIONE},
    TestDb,
};
use crate::{
    auth::config::AuthConfig,
    data::{audit, evidence, on_db, programme::FONDO_INNOVAZIONE, Db},
    evaluation::{today, Snapshot},
    evidence::store::EvidenceStore,
    server::router,
    state::AppState,
};

/// A small valid PDF whose bytes differ by `tag`.
pub fn pdf(tag: &str) -> Vec<u8> {
    format!(
        "%PDF-1.7\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n% {tag}\n{}\ntrailer << /Root 1 0 R >>\n%%EOF\n",
        "0".repeat(6000)
    )
    .into_bytes()
}

const BOUNDARY: &str = "----traguardi-test-boundary";

/// A `multipart/form-data` body with one file field.
pub fn multipart(file_name: &str, bytes: &[u8]) -> Vec<u8> {
    let mut body = format!(
        "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{file_name}\"\r\n\
         Content-Type: application/octet-stream\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(bytes);
    body.extend_from_slice(format!("\r\n--{BOUNDARY}--\r\n").as_bytes());
    body
}

fn upload_request(uri: &str, body: Vec<u8>, token: Option<&str>) -> Request<Body> {
    let req = Request::post(uri)
        .header(header::CONTENT_TYPE, format!("multipart/form-data; boundary={BOUNDARY}"))
        .header(header::CONTENT_LENGTH, body.len())
        .body(Body::from(body))
        .unwrap();
    with_cookie(req, token)
}

/// The stores the tests run against: a fresh local folder, and a fresh bucket on the S3 server
/// of `TRAGUARDI_TEST_S3` (required in CI, skipped with a line elsewhere).
pub async fn stores(max_bytes: u64) -> Vec<EvidenceStore> {
    let dir = std::env::temp_dir().join(super::unique("traguardi_evidence"));
    let mut out = vec![EvidenceStore::local(dir, max_bytes).unwrap()];
    match std::env::var("TRAGUARDI_TEST_S3") {
        Ok(endpoint) => {
            let bucket = super::unique("evidenze").replace('_', "-");
            let created = reqwest::Client::new().put(format!("{endpoint}/{bucket}")).send().await;
            assert!(
                created.as_ref().is_ok_and(|r| r.status().is_success()),
                "cannot create bucket {bucket} on {endpoint}: {created:?}"
            );
            out.push(EvidenceStore::s3(&endpoint, &bucket, "test", "test", max_bytes).unwrap());
        }
        Err(_) if std::env::var_os("CI").is_some() => {
            panic!(
                "the S3 evidence tests are required in CI: TRAGUARDI_TEST_S3 is not set (make unit sets it)"
            )
        }
        Err(_) => println!(
            "SKIPPED: the S3 half of the evidence tests (TRAGUARDI_TEST_S3 is not set; make unit sets it)"
        ),
    }
    out
}

/// Every database × every store, each pair with a database of its own.
async fn setups(max_bytes: u64) -> Vec<(TestDb, EvidenceStore)> {
    let mut out = Vec::new();
    for t in TestDb::all().await {
        let postgres = matches!(t.db, Db::Postgres(_));
        let mut stores = stores(max_bytes).await.into_iter();
        out.push((t, stores.next().expect("the local store")));
        for store in stores {
            let t =
                if postgres { TestDb::postgres().await.expect("PostgreSQL") } else { TestDb::sqlite().await };
            out.push((t, store));
        }
    }
    out
}

/// The comune the tests upload for: the first one with an objective the demo data shows
/// reached (so that a positive review verifies it), with that objective.
async fn reached_objective(db: &Db) -> (String, String) {
    let snap = Snapshot::build(db, FONDO_INNOVAZIONE, today()).await.unwrap();
    snap.comuni
        .iter()
        .find_map(|e| {
            let o = e.outcome.objectives.iter().find(|o| o.reached_on.is_some())?;
            Some((e.record.codice_istat.clone(), o.code.clone()))
        })
        .expect("a reached objective in the demo data")
}

/// The application with the demo data; `COMUNE_A` is the user of the comune with a reached
/// objective, returned with it.
async fn app(t: &TestDb, store: EvidenceStore) -> (Router, AppState, String, String) {
    crate::demo::load(&t.db).await.unwrap();
    let (codice, objective) = reached_objective(&t.db).await;
    add_user(&t.db, REGIONE, "regione", "", "").await;
    add_user(&t.db, COMUNE_A, "comune", &codice, "").await;
    add_user(&t.db, ASSESSORE, "assessore", "", "").await;
    let state = state(t, store);
    (router(state.clone()), state, codice, objective)
}

/// The application's state on `t` with `store`, the sign-in limits out of the tests' way.
pub(super) fn state(t: &TestDb, store: EvidenceStore) -> AppState {
    let mut config = AuthConfig::local("127.0.0.1:3000");
    config.limit_per_account = 1000;
    config.limit_per_ip = 1000;
    let options = LeptosOptions::builder().output_name("traguardi").build();
    AppState::with_auth(options, t.db.clone(), config).with_evidence(store)
}

async fn verified(db: &Db, codice: &str, objective: &str) -> bool {
    let snap = Snapshot::build(db, FONDO_INNOVAZIONE, today()).await.unwrap();
    snap.find(codice).unwrap().outcome.objectives.iter().find(|o| o.code == objective).unwrap().verified
}

fn sha(bytes: &[u8]) -> String {
    format!("{:x}", Sha256::digest(bytes))
}

async fn trail_len(db: &Db) -> i64 {
    on_db!(db, pool => sqlx::query_scalar("SELECT COUNT(*) FROM audit_entry").fetch_one(pool).await.unwrap())
}

async fn nothing_left(state: &AppState, what: &str) {
    assert_eq!(evidence::counts(&state.db).await.unwrap(), (0, 0), "{what}: rows left");
    assert_eq!(state.evidence.keys().await.unwrap(), Vec::<String>::new(), "{what}: files left");
}

#[tokio::test]
async fn upload_review_new_version_verify_and_download() {
    for (t, store) in setups(crate::evidence::store::DEFAULT_MAX_BYTES).await {
        {
            let where_ = format!("{} + {}", t.db.backend(), store.description);
            let (app, state, codice, objective) = app(&t, store).await;
            let url = format!("/comuni/{codice}/evidenze/{objective}");
            let comune = sign_in(&app, COMUNE_A).await;
            let regione = sign_in(&app, REGIONE).await;

            // Version 1: stored whole, hash recorded, one trail entry.
            let v1 = pdf("prima versione");
            let trail = trail_len(&t.db).await;
            let a =
                send(&app, upload_request(&url, multipart("Delibera n. 12.pdf", &v1), Some(&comune))).await;
            assert_eq!(a.status, StatusCode::SEE_OTHER, "{where_}: {}", a.body);
            assert!(a.location().starts_with(&format!("/comuni/{codice}/evidenze?caricato=")), "{where_}");
            let (files, _) = evidence::of_comune(&t.db, FONDO_INNOVAZIONE, &codice).await.unwrap();
            assert_eq!(files.len(), 1, "{where_}");
            let row1 = files[0].clone();
            assert_eq!((row1.version, row1.size_bytes), (1, v1.len() as i64));
            assert_eq!(row1.sha256, sha(&v1));
            assert_eq!(row1.file_name, "Delibera n. 12.pdf");
            assert_eq!(row1.content_type, "application/pdf");
            assert!(row1.storage_key.starts_with(&format!("evidence/{codice}/")));
            assert!(!row1.storage_key.contains("Delibera"), "keys are generated");
            assert_eq!(state.evidence.keys().await.unwrap(), vec![row1.storage_key.clone()], "{where_}");
            assert_eq!(trail_len(&t.db).await, trail + 1);
            let entry = audit::list(&t.db, None, None, 1, &[]).await.unwrap().remove(0);
            assert_eq!((entry.entity.as_str(), entry.actor.as_str()), ("evidence", COMUNE_A));
            assert!(entry.changes.contains(&sha(&v1)));
            assert!(!verified(&t.db, &codice, &objective).await, "{where_}: not verified before a review");

            // The page shows it to the comune, with the upload form stating the limit.
            let page = send(&app, get(&format!("/comuni/{codice}/evidenze"), Some(&comune))).await;
            assert_eq!(page.status, StatusCode::OK);
            assert!(page.body.contains("Delibera n. 12.pdf") && page.body.contains(&row1.sha256));
            assert!(page.body.contains("Dimensione massima: 20 MB"));
            assert!(page.body.contains("Evidenza in attesa di esame"));
            // …and in the Region's queue, filtered by its province and platform or not.
            let queue = send(&app, get("/evidenze", Some(&regione))).await;
            assert!(queue.body.contains("Delibera n. 12.pdf"), "{where_}: queue");
            let snap = Snapshot::build(&t.db, FONDO_INNOVAZIONE, today()).await.unwrap();
            let provincia = snap.find(&codice).unwrap().record.sigla_provincia.clone();
            let platform = snap.programme.objectives.iter().find(|o| o.code == objective).unwrap().platform;
            let other_province = crate::data::registry::territory()
                .province
                .into_iter()
                .map(|p| p.sigla)
                .find(|s| *s != provincia)
                .unwrap();
            let other_platform =
                crate::rules::Platform::ALL.into_iter().find(|p| *p != platform).unwrap().code();
            for (query, listed) in [
                (format!("provincia={provincia}"), true),
                (format!("piattaforma={}", platform.code()), true),
                (format!("provincia={provincia}&piattaforma={}", platform.code()), true),
                (format!("provincia={other_province}"), false),
                (format!("piattaforma={other_platform}"), false),
            ] {
                let q = send(&app, get(&format!("/evidenze?{query}"), Some(&regione))).await;
                assert_eq!(q.status, StatusCode::OK, "{where_}: {query}");
                assert_eq!(q.body.contains("Delibera n. 12.pdf"), listed, "{where_}: queue ?{query}");
            }
            let q = send(&app, get("/evidenze?provincia=ZZ", Some(&regione))).await;
            assert_eq!(q.status, StatusCode::BAD_REQUEST);
            assert!(q.body.contains("Provincia sconosciuta"));
            // The Region may upload for any comune; the queue keeps the oldest first.
            let elsewhere =
                snap.comuni.iter().map(|e| e.record.codice_istat.clone()).find(|c| *c != codice).unwrap();
            let a = send(
                &app,
                upload_request(
                    &format!("/comuni/{elsewhere}/evidenze/step1_io"),
                    multipart("altro.pdf", &pdf("altro comune")),
                    Some(&regione),
                ),
            )
            .await;
            assert_eq!(a.status, StatusCode::SEE_OTHER, "{where_}: {}", a.body);
            let queue = evidence::queue(&t.db, FONDO_INNOVAZIONE, None, None).await.unwrap();
            assert_eq!(
                queue.iter().map(|q| q.comune.as_str()).collect::<Vec<_>>(),
                vec![codice.as_str(), elsewhere.as_str()]
            );
            // …but the comune's own user may not.
            let a = send(
                &app,
                upload_request(
                    &format!("/comuni/{elsewhere}/evidenze/step1_io"),
                    multipart("x.pdf", &pdf("x")),
                    Some(&comune),
                ),
            )
            .await;
            assert_eq!(a.status, StatusCode::FORBIDDEN);

            // The same bytes again: recognised, not stored twice.
            let a = send(&app, upload_request(&url, multipart("copia.pdf", &v1), Some(&comune))).await;
            assert_eq!(a.status, StatusCode::CONFLICT, "{where_}");
            assert!(a.body.contains("già stato caricato per questo obiettivo (versione 1)"));
            assert_eq!(evidence::counts(&t.db).await.unwrap(), (2, 0));
            assert_eq!(state.evidence.keys().await.unwrap().len(), 2, "{where_}: no second copy");

            // A negative review needs its reason; with it, the comune reads it.
            let review_url = format!("/evidenze/{}/esame", row1.id);
            let a = send(&app, form(&review_url, "esito=negativo&motivo=&ultima=0", Some(&regione))).await;
            assert_eq!(a.status, StatusCode::BAD_REQUEST);
            assert!(a.body.contains("Scrivi il motivo per cui"));
            assert_eq!(evidence::counts(&t.db).await.unwrap(), (2, 0));
            let reason = "Manca+la+firma+del+responsabile";
            let a = send(
                &app,
                form(&review_url, &format!("esito=negativo&motivo={reason}&ultima=0"), Some(&regione)),
            )
            .await;
            assert_eq!(a.status, StatusCode::SEE_OTHER, "{}", a.body);
            // A second reviewer who saw the page before: a conflict, not a silent overwrite.
            let a = send(&app, form(&review_url, "esito=positivo&ultima=0", Some(&regione))).await;
            assert_eq!(a.status, StatusCode::CONFLICT);
            let page = send(&app, get(&format!("/comuni/{codice}/evidenze"), Some(&comune))).await;
            assert!(
                page.body.contains("Manca la firma del responsabile")
                    && page.body.contains("Evidenza respinta")
            );
            assert!(!verified(&t.db, &codice, &objective).await);
            // A comune cannot review.
            let a = send(&app, form(&review_url, "esito=positivo&ultima=1", Some(&comune))).await;
            assert_eq!(a.status, StatusCode::FORBIDDEN);

            // Version 2, reviewed positive: verified. Version 1 can no longer be reviewed.
            let v2 = pdf("seconda versione firmata");
            let a =
                send(&app, upload_request(&url, multipart("Delibera n. 12 firmata.pdf", &v2), Some(&comune)))
                    .await;
            assert_eq!(a.status, StatusCode::SEE_OTHER, "{where_}: {}", a.body);
            let (files, reviews) = evidence::of_comune(&t.db, FONDO_INNOVAZIONE, &codice).await.unwrap();
            assert_eq!((files.len(), reviews.len()), (2, 1));
            let row2 = files.iter().find(|f| f.version == 2).unwrap().clone();
            let queue = evidence::queue(&t.db, FONDO_INNOVAZIONE, None, None).await.unwrap();
            let mine: Vec<i64> = queue.iter().filter(|q| q.comune == codice).map(|q| q.id).collect();
            assert_eq!(mine, vec![row2.id], "only the latest waits");
            let last = reviews[0].id;
            let a =
                send(&app, form(&review_url, &format!("esito=positivo&ultima={last}"), Some(&regione))).await;
            assert_eq!(a.status, StatusCode::CONFLICT);
            assert!(a.body.contains("versione più recente"));
            let a = send(
                &app,
                form(&format!("/evidenze/{}/esame", row2.id), "esito=positivo&ultima=0", Some(&regione)),
            )
            .await;
            assert_eq!(a.status, StatusCode::SEE_OTHER);
            assert!(
                verified(&t.db, &codice, &objective).await,
                "{where_}: verified after the positive review"
            );
            // The dashboard shows reached and verified side by side.
            let snap = Snapshot::build(&t.db, FONDO_INNOVAZIONE, today()).await.unwrap();
            let s = snap.summary(&Default::default());
            let row = s.obiettivi.iter().find(|r| r.codice == objective).unwrap();
            assert_eq!(row.verificati, 1);
            assert!(row.raggiunti >= 1);
            // Every version and every review stays.
            assert_eq!(evidence::counts(&t.db).await.unwrap(), (3, 2));

            // Download: attachment, stored type, nosniff, the exact bytes; recorded in the trail.
            let trail = trail_len(&t.db).await;
            let version = t.db.data_version().await.unwrap();
            let assessore = sign_in(&app, ASSESSORE).await;
            let response = tower::ServiceExt::oneshot(
                app.clone(),
                get(&format!("/evidenze/{}/file", row2.id), Some(&assessore)),
            )
            .await
            .unwrap();
            assert_eq!(response.status(), StatusCode::OK);
            let h = response.headers().clone();
            assert_eq!(h[header::CONTENT_TYPE], "application/pdf");
            assert_eq!(h[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
            let disposition = h[header::CONTENT_DISPOSITION].to_str().unwrap();
            assert!(disposition.starts_with("attachment; filename=\"Delibera n. 12 firmata.pdf\""));
            let bytes = http_body_util::BodyExt::collect(response.into_body()).await.unwrap().to_bytes();
            assert_eq!(sha(&bytes), row2.sha256, "{where_}: the stored bytes");
            assert_eq!(trail_len(&t.db).await, trail + 1);
            let entry = audit::list(&t.db, None, None, 1, &[]).await.unwrap().remove(0);
            assert_eq!((entry.action.as_str(), entry.actor.as_str()), ("download", ASSESSORE));
            assert_eq!(t.db.data_version().await.unwrap(), version, "a download changes no data");
            assert!(audit::verify(&t.db).await.unwrap().broken.is_none());
            // The key is never a name the person gave.
            assert!(!state.evidence.keys().await.unwrap().iter().any(|k| k.contains("Delibera")));
        }
        t.drop_db().await;
    }
}

/// Each hostile upload: its status and a piece of its Italian message.
/// The queue shows 50 files a page, oldest first, with the total in words and links that keep
/// the filters; a page past the last shows the last, a page that is no number is refused. The
/// database reads only the page's rows (`data::evidence::queue_page`), so the page stays the
/// same size however long the queue grows (before, every waiting file was on the one page).
#[tokio::test]
async fn the_queue_is_paginated_with_its_total() {
    use crate::data::evidence::NewEvidence;
    for t in TestDb::all().await {
        let backend = t.db.backend();
        let (app, _state, _, _) =
            app(&t, EvidenceStore::memory(crate::evidence::store::DEFAULT_MAX_BYTES)).await;
        let snap = Snapshot::build(&t.db, FONDO_INNOVAZIONE, today()).await.unwrap();
        let objective = snap.programme.objectives[0].code.clone();
        let comuni: Vec<String> =
            snap.comuni.iter().take(61).map(|e| e.record.codice_istat.clone()).collect();
        for (i, comune) in comuni.iter().enumerate() {
            let new = NewEvidence {
                programme: FONDO_INNOVAZIONE.to_string(),
                comune: comune.clone(),
                objective: objective.clone(),
                file_name: format!("coda-{i:02}.pdf"),
                content_type: "application/pdf",
                size_bytes: 1_000,
                sha256: format!("{i:064x}"),
                storage_key: format!("evidence/{comune}/coda-{i}"),
            };
            crate::write_tx!(&t.db, tx => tx.add_evidence_in(REGIONE, &new).await?).unwrap();
        }
        let regione = sign_in(&app, REGIONE).await;
        let listed = |body: &str| -> Vec<usize> {
            (0..61).filter(|i| body.contains(&format!("coda-{i:02}.pdf"))).collect()
        };

        let first = send(&app, get("/evidenze", Some(&regione))).await;
        assert_eq!(first.status, StatusCode::OK, "{backend}");
        assert_eq!(listed(&first.body), (0..50).collect::<Vec<_>>(), "{backend}: the 50 oldest");
        assert!(first.body.contains("61 evidenze da esaminare. Pagina 1: righe 1–50 di 61."), "{backend}");
        assert!(first.body.contains("aria-label=\"Paginazione\""), "{backend}");
        assert!(first.body.contains("href=\"/evidenze?pagina=2\""), "{backend}");

        let second = send(&app, get("/evidenze?pagina=2", Some(&regione))).await;
        assert_eq!(listed(&second.body), (50..61).collect::<Vec<_>>(), "{backend}: the rest");
        assert!(second.body.contains("Pagina 2: righe 51–61 di 61."), "{backend}");
        assert!(second.body.contains("aria-current=\"page\" aria-label=\"Pagina 2\""), "{backend}");
        // A link made when the queue was longer: the last page.
        let past = send(&app, get("/evidenze?pagina=9", Some(&regione))).await;
        assert_eq!(past.status, StatusCode::OK, "{backend}");
        assert_eq!(listed(&past.body), (50..61).collect::<Vec<_>>(), "{backend}: past the last");
        for bad in ["0", "due", "-1"] {
            let a = send(&app, get(&format!("/evidenze?pagina={bad}"), Some(&regione))).await;
            assert_eq!(a.status, StatusCode::BAD_REQUEST, "{backend}: pagina={bad}");
            assert!(a.body.contains("Numero di pagina non valido"), "{backend}: pagina={bad}");
        }
        // A filter and its pages: the links keep it, the total is the filtered one.
        let provincia = snap.find(&comuni[0]).unwrap().record.sigla_provincia.clone();
        let in_province =
            comuni.iter().filter(|c| snap.find(c).unwrap().record.sigla_provincia == provincia).count();
        let filtered = send(&app, get(&format!("/evidenze?provincia={provincia}"), Some(&regione))).await;
        assert_eq!(filtered.status, StatusCode::OK, "{backend}");
        let n = listed(&filtered.body).len();
        assert_eq!(n, in_province.min(50), "{backend}: {provincia}");
        if in_province > 50 {
            assert!(filtered
                .body
                .contains(&format!("href=\"/evidenze?provincia={provincia}&amp;pagina=2\"")));
        }
        // The export is the whole queue, not a page.
        let csv = send(&app, get("/export/evidenze.csv", Some(&regione))).await;
        assert_eq!(csv.status, StatusCode::OK, "{backend}");
        assert_eq!(listed(&csv.body).len(), 61, "{backend}: the export");
        // Read in batches of 25, each after the last row of the one before: every row once, in
        // the queue's order.
        let files: Vec<&str> =
            csv.body.lines().skip(1).filter_map(|l| l.split(',').find(|f| f.starts_with("coda-"))).collect();
        let expected: Vec<String> = (0..61).map(|i| format!("coda-{i:02}.pdf")).collect();
        assert_eq!(files, expected, "{backend}: the export's rows");
        // The count the reminders use agrees.
        assert_eq!(evidence::queue_count(&t.db, FONDO_INNOVAZIONE, None, None).await.unwrap(), 61);
        t.drop_db().await;
    }
}

#[tokio::test]
async fn the_hostile_corpus_is_refused_with_no_row_and_no_file_left() {
    const LIMIT: u64 = 64 * 1024;
    let html = b"<!DOCTYPE html><html><body><script>alert(1)</script></body></html>".to_vec();
    let polyglot = b"%PDF-1.4\n<html><body><script>fetch('/utenti')</script></body></html>\n%%EOF\n".to_vec();
    let exe = {
        let mut v = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00".to_vec();
        v.extend_from_slice(&[0u8; 4000]);
        v
    };
    let over = {
        let mut v = b"%PDF-1.7\n".to_vec();
        v.resize(LIMIT as usize - 6, b'0');
        v.extend_from_slice(b"%%EOF\n");
        v.push(b'\n');
        assert_eq!(v.len() as u64, LIMIT + 1);
        v
    };
    let truncated = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\nstream\n0000".to_vec();
    let long_name = format!("{}.pdf", "a".repeat(1996));
    let cases: Vec<(&str, String, Vec<u8>, StatusCode, &str)> = vec![
        (
            "HTML renamed .pdf",
            "verbale.pdf".into(),
            html,
            StatusCode::BAD_REQUEST,
            "non è di un tipo accettato",
        ),
        ("PDF/HTML polyglot", "verbale.pdf".into(), polyglot, StatusCode::BAD_REQUEST, "pagina web (HTML)"),
        (
            "executable renamed .png",
            "schermata.png".into(),
            exe,
            StatusCode::BAD_REQUEST,
            "non è di un tipo accettato",
        ),
        ("empty file", "vuoto.pdf".into(), Vec::new(), StatusCode::BAD_REQUEST, "Il file è vuoto"),
        (
            "one byte over the limit",
            "grande.pdf".into(),
            over,
            StatusCode::PAYLOAD_TOO_LARGE,
            "supera il limite di 0,06 MB",
        ),
        (
            "a PDF cut short",
            "troncato.pdf".into(),
            truncated,
            StatusCode::BAD_REQUEST,
            "non è un PDF completo",
        ),
        (
            "a name with ../",
            "../../etc/passwd.pdf".into(),
            pdf("x"),
            StatusCode::BAD_REQUEST,
            "percorsi di cartelle",
        ),
        ("a name with NUL", "verbale\0.pdf".into(), pdf("x"), StatusCode::BAD_REQUEST, ""),
        ("a name of 2,000 characters", long_name, pdf("x"), StatusCode::BAD_REQUEST, "troppo lungo"),
        (
            "a PDF named .png",
            "schermata.png".into(),
            pdf("x"),
            StatusCode::BAD_REQUEST,
            "non corrisponde al contenuto",
        ),
        ("no file chosen", String::new(), Vec::new(), StatusCode::BAD_REQUEST, "Scegli il file"),
    ];
    for (t, store) in setups(LIMIT).await {
        {
            let where_ = format!("{} + {}", t.db.backend(), store.description);
            let (app, state, codice, _) = app(&t, store).await;
            let url = format!("/comuni/{codice}/evidenze/step1_pagopa");
            let comune = sign_in(&app, COMUNE_A).await;
            let trail = trail_len(&t.db).await;
            for (what, name, bytes, status, message) in &cases {
                let a: Answer = send(&app, upload_request(&url, multipart(name, bytes), Some(&comune))).await;
                assert_eq!(a.status, *status, "{where_}: {what}: {}", &a.body[..a.body.len().min(300)]);
                assert!(a.body.contains(message), "{where_}: {what}: message «{message}» missing");
                nothing_left(&state, &format!("{where_}: {what}")).await;
            }
            // A declared Content-Length over the limit is refused before reading the body.
            let mut req = upload_request(&url, multipart("piccolo.pdf", &pdf("y")), Some(&comune));
            req.headers_mut().insert(header::CONTENT_LENGTH, (LIMIT * 4).into());
            let a = send(&app, req).await;
            assert_eq!(a.status, StatusCode::PAYLOAD_TOO_LARGE, "{where_}");
            nothing_left(&state, "declared too large").await;
            assert_eq!(trail_len(&t.db).await, trail, "{where_}: refusals write no trail entry");
        }
        t.drop_db().await;
    }
}

/// Bodies built to exhaust memory: 200 MB without a boundary and a part header that never ends
/// (sent chunked, with no length to refuse up front), and 10,000 tiny fields before a valid file.
/// Each is refused with its Italian message after the server has read at most 1 MB of it, and
/// leaves no row, no stored file and no temporary file.
#[tokio::test]
async fn hostile_bodies_are_refused_before_they_are_buffered() {
    const MB: u64 = 1024 * 1024;
    for (t, store) in setups(crate::evidence::store::DEFAULT_MAX_BYTES).await {
        {
            let where_ = format!("{} + {}", t.db.backend(), store.description);
            let (app, state, codice, _) = app(&t, store).await;
            let url = format!("/comuni/{codice}/evidenze/step1_pagopa");
            let comune = sign_in(&app, COMUNE_A).await;
            let cases = super::hostile_multipart_cases(BOUNDARY);
            for (what, prefix, filler, total) in cases {
                let (body, pulled) = super::generated_body(prefix.as_bytes(), filler, total);
                let req = Request::post(&url)
                    .header(header::CONTENT_TYPE, format!("multipart/form-data; boundary={BOUNDARY}"))
                    .body(body)
                    .unwrap();
                let a = send(&app, with_cookie(req, Some(&comune))).await;
                assert_eq!(a.status, StatusCode::BAD_REQUEST, "{where_}: {what}");
                assert!(
                    a.body.contains("Il modulo inviato non è leggibile"),
                    "{where_}: {what}: message missing"
                );
                let pulled = pulled.await.expect("the body is dropped");
                assert!(pulled <= MB, "{where_}: {what}: {pulled} bytes read before the refusal");
                nothing_left(&state, &format!("{where_}: {what}")).await;
            }
            let mut body = Vec::new();
            for i in 0..10_000 {
                body.extend_from_slice(
                    format!("--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"campo{i}\"\r\n\r\nx\r\n")
                        .as_bytes(),
                );
            }
            body.extend_from_slice(&multipart("verbale.pdf", &pdf("dopo diecimila campi")));
            let a = send(&app, upload_request(&url, body, Some(&comune))).await;
            assert_eq!(a.status, StatusCode::PAYLOAD_TOO_LARGE, "{where_}: 10,000 fields");
            assert!(a.body.contains("troppi campi (più di 16)"), "{where_}: 10,000 fields: message missing");
            nothing_left(&state, &format!("{where_}: 10,000 fields")).await;
        }
        t.drop_db().await;
    }
}

/// Serves `app` on 127.0.0.1 for real TCP clients.
async fn serve(app: Router) -> std::net::SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(listener, app.into_make_service_with_connect_info::<std::net::SocketAddr>())
            .await
            .unwrap();
    });
    addr
}

fn raw_head(addr: std::net::SocketAddr, codice: &str, token: &str, content_length: usize) -> String {
    format!(
        "POST /comuni/{codice}/evidenze/step1_pagopa HTTP/1.1\r\nHost: {addr}\r\nOrigin: http://{addr}\r\n\
         Cookie: traguardi_sessione={token}\r\nContent-Type: multipart/form-data; boundary={BOUNDARY}\r\n\
         Content-Length: {content_length}\r\nConnection: close\r\n\r\n"
    )
}

/// Waits (at most 20 s) until `check` holds; panics naming `what` otherwise.
async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    for _ in 0..200 {
        if check().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{what}: not within 20 s");
}

#[tokio::test]
async fn lying_lengths_and_cut_connections_leave_nothing_behind() {
    for (t, store) in setups(crate::evidence::store::DEFAULT_MAX_BYTES).await {
        {
            let where_ = format!("{} + {}", t.db.backend(), store.description);
            let (app, state, codice, _) = app(&t, store).await;
            let comune = sign_in(&app, COMUNE_A).await;
            let addr = serve(app).await;
            let mut big = pdf("grande");
            big.resize(3 * 1024 * 1024, b'1');
            big.extend_from_slice(b"\n%%EOF\n");
            let body = multipart("grande.pdf", &big);

            // Declared longer than what is sent, then the client stops sending: refused.
            let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
            s.write_all(raw_head(addr, &codice, &comune, body.len() + 5000).as_bytes()).await.unwrap();
            s.write_all(&body).await.unwrap();
            s.shutdown().await.unwrap();
            let mut answer = String::new();
            let _ = s.read_to_string(&mut answer).await;
            assert!(answer.starts_with("HTTP/1.1 400"), "{where_}: {}", &answer[..answer.len().min(200)]);
            nothing_left(&state, &format!("{where_}: longer Content-Length")).await;

            // Declared shorter than the body: the server reads what was declared, which ends
            // inside the file: refused.
            let small = multipart("piccolo.pdf", &pdf("piccolo"));
            let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
            s.write_all(raw_head(addr, &codice, &comune, small.len() / 2).as_bytes()).await.unwrap();
            let _ = s.write_all(&small).await;
            let mut answer = String::new();
            let _ = s.read_to_string(&mut answer).await;
            assert!(answer.starts_with("HTTP/1.1 400"), "{where_}: {}", &answer[..answer.len().min(200)]);
            nothing_left(&state, &format!("{where_}: shorter Content-Length")).await;

            // Cut halfway: the upload has begun in the store, then the connection drops.
            let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
            s.write_all(raw_head(addr, &codice, &comune, body.len()).as_bytes()).await.unwrap();
            s.write_all(&body[..body.len() / 2]).await.unwrap();
            s.flush().await.unwrap();
            tokio::time::sleep(Duration::from_millis(300)).await;
            drop(s);
            let st = state.clone();
            eventually(&format!("{where_}: cut connection cleaned up"), || {
                let st = st.clone();
                async move {
                    evidence::counts(&st.db).await.unwrap() == (0, 0)
                        && st.evidence.keys().await.unwrap().is_empty()
                }
            })
            .await;
            // The server is still fine: a whole upload after it is stored.
            let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
            s.write_all(raw_head(addr, &codice, &comune, body.len()).as_bytes()).await.unwrap();
            s.write_all(&body).await.unwrap();
            let mut answer = String::new();
            let _ = s.read_to_string(&mut answer).await;
            assert!(answer.starts_with("HTTP/1.1 303"), "{where_}: {}", &answer[..answer.len().min(300)]);
            let (files, _) = evidence::of_comune(&t.db, FONDO_INNOVAZIONE, &codice).await.unwrap();
            assert_eq!(files.len(), 1);
            assert_eq!(files[0].sha256, sha(&big), "{where_}: the stored hash");
        }
        t.drop_db().await;
    }
}

#[tokio::test]
async fn the_sweep_removes_leftovers_and_keeps_stored_files() {
    use object_store::{path::Path, ObjectStoreExt, PutPayload};
    for (t, store) in setups(crate::evidence::store::DEFAULT_MAX_BYTES).await {
        {
            let where_ = format!("{} + {}", t.db.backend(), store.description);
            let (app, state, codice, _) = app(&t, store).await;
            let comune = sign_in(&app, COMUNE_A).await;
            let url = format!("/comuni/{codice}/evidenze/step1_io");
            let a =
                send(&app, upload_request(&url, multipart("verbale.pdf", &pdf("da tenere")), Some(&comune)))
                    .await;
            assert_eq!(a.status, StatusCode::SEE_OTHER, "{}", a.body);
            // What a crash leaves: a temporary file, and a final file whose row never committed.
            let s = &state.evidence.store;
            s.put(&Path::from("tmp/interrotto"), PutPayload::from_static(b"%PDF-1.7 met")).await.unwrap();
            s.put(&Path::from(format!("evidence/{codice}/orfano")), PutPayload::from_static(b"%PDF-"))
                .await
                .unwrap();
            assert_eq!(state.evidence.keys().await.unwrap().len(), 3, "{where_}");
            // Recent leftovers are left to the periodic sweep…
            assert_eq!(state.evidence.sweep(&t.db, Duration::from_secs(3600)).await.unwrap(), 0, "{where_}");
            // …the start-up sweep removes them and keeps the stored file.
            assert_eq!(state.evidence.sweep(&t.db, Duration::ZERO).await.unwrap(), 2, "{where_}");
            let keys = state.evidence.keys().await.unwrap();
            assert_eq!(keys, evidence::storage_keys(&t.db).await.unwrap(), "{where_}");
        }
        t.drop_db().await;
    }
}

/// A second instance sharing the store starts while the first has an upload in flight: a fresh
/// temporary file, and a fresh final file whose row has not committed yet. Its start-up sweep
/// keeps both (it used to sweep with a zero age and delete them); leftovers older than the safe
/// age are removed, and a single instance configured with a zero age removes them at once.
#[tokio::test]
async fn a_second_instance_starting_keeps_fresh_uploads_and_removes_old_leftovers() {
    use object_store::{path::Path, ObjectStoreExt, PutPayload};
    for (t, store) in setups(crate::evidence::store::DEFAULT_MAX_BYTES).await {
        {
            let where_ = format!("{} + {}", t.db.backend(), store.description);
            let (_app, state, codice, _) = app(&t, store).await;
            let first = &state.evidence;
            let tmp = Path::from("tmp/in-arrivo");
            let moved = Path::from(format!("evidence/{codice}/riga-in-arrivo"));
            first.store.put(&tmp, PutPayload::from_static(b"%PDF-1.7 met")).await.unwrap();
            first.store.put(&moved, PutPayload::from_static(b"%PDF-1.7 tutto")).await.unwrap();
            let second = first.sharing();
            assert_eq!(second.sweep_at_start(&t.db).await.unwrap(), 0, "{where_}");
            assert_eq!(first.keys().await.unwrap().len(), 2, "{where_}: both files survive");
            match first.local_root() {
                Some(root) => {
                    // Two hours later they are leftovers of a crash: the next start removes them.
                    let old = std::time::SystemTime::now() - Duration::from_secs(7200);
                    for key in [&tmp, &moved] {
                        let f = std::fs::File::options().write(true).open(root.join(key.as_ref())).unwrap();
                        f.set_modified(old).unwrap();
                    }
                    assert_eq!(first.sharing().sweep_at_start(&t.db).await.unwrap(), 2, "{where_}");
                }
                None => {
                    // S3 cannot age an object: a single instance configured with a zero age.
                    let mut single = first.sharing();
                    single.sweep_min_age = Duration::ZERO;
                    assert_eq!(single.sweep_at_start(&t.db).await.unwrap(), 2, "{where_}");
                }
            }
            assert!(first.keys().await.unwrap().is_empty(), "{where_}");
        }
        t.drop_db().await;
    }
}

/// The rows are listed before the files: a row that commits in between must still keep its
/// file. The sweep asks the database again right before deleting a final file.
#[tokio::test]
async fn the_sweep_asks_again_before_deleting_a_final_file() {
    for (t, store) in setups(crate::evidence::store::DEFAULT_MAX_BYTES).await {
        {
            let where_ = format!("{} + {}", t.db.backend(), store.description);
            let (app, state, codice, _) = app(&t, store).await;
            let comune = sign_in(&app, COMUNE_A).await;
            let url = format!("/comuni/{codice}/evidenze/step1_io");
            let a = send(&app, upload_request(&url, multipart("verbale.pdf", &pdf("appena")), Some(&comune)))
                .await;
            assert_eq!(a.status, StatusCode::SEE_OTHER, "{}", a.body);
            let keys = state.evidence.keys().await.unwrap();
            assert_eq!(keys, evidence::storage_keys(&t.db).await.unwrap(), "{where_}");
            // The listing taken before the row committed named no file.
            let listed_before = std::collections::HashSet::new();
            let removed = state.evidence.sweep_listed(&t.db, Duration::ZERO, &listed_before).await.unwrap();
            assert_eq!(removed, 0, "{where_}");
            assert_eq!(state.evidence.keys().await.unwrap(), keys, "{where_}: the file survives");
        }
        t.drop_db().await;
    }
}
