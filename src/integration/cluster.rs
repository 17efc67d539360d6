//! Several servers on one database and one store (issue 19), against the real server binary as
//! child processes (`#[ignore]`d like the crash tests: `make crash` runs them with
//! `TRAGUARDI_SERVER_BIN=target/release/traguardi` and the test servers of
//! `.ci/with-test-servers`).
//!
//! Two `traguardi serve` processes share one PostgreSQL database and one S3 bucket (moto), and
//! the same SMTP server; the test drives them alternately, as a balancer would, and checks what a
//! deployment of N servers relies on:
//! - a session opened on one works on the other (sessions live in the database);
//! - a write on one is seen by the other at its next request, anonymous pages (served from the
//!   other's page cache until then) and signed-in pages alike;
//! - the sign-in limits hold across them (kept in the database): a guesser who alternates gets
//!   the allowance once;
//! - an upload in flight on one survives the other's start (its start-up sweep) and the file of
//!   a committed upload is served by both; the store holds exactly the rows' files afterwards;
//! - the reminders' queue is sent once, not once per process (each message claimed by one
//!   sender).

use std::{
    collections::BTreeSet,
    sync::{atomic::AtomicU64, Arc},
    time::{Duration, Instant},
};

use super::{
    crash::{count, post_form, request, send_upload, sign_in, until, Case, PdfUpload, Reply, DEADLINE, MB},
    unique, TestDb,
};
use crate::data::on_db;

const BARI: &str = "072006";

/// The S3 server of `TRAGUARDI_TEST_S3`, `None` (with a printed line) without one unless `CI`
/// is set.
fn s3_endpoint() -> Option<String> {
    match std::env::var("TRAGUARDI_TEST_S3") {
        Ok(endpoint) if !endpoint.is_empty() => Some(endpoint),
        _ if std::env::var_os("CI").is_some() => {
            panic!("the several-servers test is required in CI: TRAGUARDI_TEST_S3 is not set (make crash sets it)")
        }
        _ => {
            println!("SKIPPED: the several-servers test (TRAGUARDI_TEST_S3 is not set; make crash starts moto and sets it)");
            None
        }
    }
}

/// The SMTP test server and the folder of what it received (see `.ci/smtp-sink.py`).
fn smtp_sink() -> Option<(String, std::path::PathBuf)> {
    match (std::env::var("TRAGUARDI_TEST_SMTP"), std::env::var("TRAGUARDI_TEST_SMTP_DIR")) {
        (Ok(addr), Ok(dir)) if !addr.is_empty() && !dir.is_empty() => Some((addr, dir.into())),
        _ if std::env::var_os("CI").is_some() => {
            panic!("the several-servers test is required in CI: TRAGUARDI_TEST_SMTP is not set (make crash sets it)")
        }
        _ => {
            println!("SKIPPED: the several-servers test (TRAGUARDI_TEST_SMTP is not set; make crash starts aiosmtpd and sets it)");
            None
        }
    }
}

/// The body of an answer as a browser reads it: chunked framing removed.
fn body_of(r: &Reply) -> String {
    if r.header("transfer-encoding").is_none_or(|v| !v.contains("chunked")) {
        return r.body.clone();
    }
    let mut out = String::new();
    let mut rest = r.body.as_str();
    while let Some((size, after)) = rest.split_once("\r\n") {
        let Ok(n) = usize::from_str_radix(size.split(';').next().unwrap_or_default().trim(), 16) else {
            break;
        };
        if n == 0 || after.len() < n {
            break;
        }
        out.push_str(&after[..n]);
        rest = after[n..].strip_prefix("\r\n").unwrap_or(&after[n..]);
    }
    out
}

async fn get(addr: &str, path: &str, cookie: Option<&str>) -> Reply {
    request(addr, "GET", path, cookie, None, b"")
        .await
        .unwrap_or_else(|e| panic!("GET {path} on {addr}: {e}"))
}

/// How many multipart uploads are open in `bucket` (an upload in flight writes its parts there).
async fn open_multipart_uploads(endpoint: &str, bucket: &str) -> usize {
    let listed = reqwest::Client::new().get(format!("{endpoint}/{bucket}?uploads")).send().await;
    match listed {
        Ok(r) => r.text().await.unwrap_or_default().matches("<UploadId>").count(),
        Err(_) => 0,
    }
}

/// Every object key in `bucket`.
async fn bucket_keys(endpoint: &str, bucket: &str) -> BTreeSet<String> {
    let text = reqwest::Client::new()
        .get(format!("{endpoint}/{bucket}?list-type=2"))
        .send()
        .await
        .expect("list the bucket")
        .text()
        .await
        .expect("the bucket's listing");
    text.split("<Key>").skip(1).filter_map(|s| s.split("</Key>").next()).map(str::to_string).collect()
}

#[tokio::test]
#[ignore = "starts the server binary: make crash"]
async fn two_servers_on_one_database_and_one_bucket_serve_the_same_people() {
    let (Some(endpoint), Some((smtp, smtp_dir))) = (s3_endpoint(), smtp_sink()) else { return };
    let Some(t) = TestDb::postgres().await else { return };
    let case = Case::new(t, "two servers on one database and one bucket").await;
    let bucket = unique("cluster").replace('_', "-");
    let created = reqwest::Client::new().put(format!("{endpoint}/{bucket}")).send().await;
    assert!(created.as_ref().is_ok_and(|r| r.status().is_success()), "bucket {bucket}: {created:?}");

    // The reminders' queue, filled before either server starts: each server's sender runs at
    // once and every minute; both find the same messages waiting.
    let recipients: Vec<String> = (0..12).map(|i| format!("cluster{i}@{bucket}.test")).collect();
    // Addressed to the demo Region's account (a real account would end the demo database).
    crate::auth::users::ensure_demo_accounts(&case.t.db).await.unwrap();
    let user_id: i64 = on_db!(&case.t.db, pool => sqlx::query_scalar("SELECT id FROM app_user WHERE email = $1")
        .bind(crate::auth::users::DEMO_ACCOUNTS[0].0)
        .fetch_one(pool)
        .await
        .unwrap());
    for (i, to) in recipients.iter().enumerate() {
        on_db!(&case.t.db, pool => sqlx::query(
            "INSERT INTO reminder_message (dedup_key, user_id, recipient, kind, occasion, day, subject, body, \
             next_attempt_at, created_at) VALUES ($1, $2, $3, 'mensile', $4, '2026-12-01', $5, 'Prova', 0, 0)",
        )
        .bind(format!("cluster:{bucket}:{i}"))
        .bind(user_id)
        .bind(to)
        .bind(format!("cluster-{i}"))
        .bind(format!("Sintesi di prova {i}"))
        .execute(pool)
        .await
        .map(|_| ())
        .unwrap());
    }

    let store = format!("s3://{bucket}");
    let smtp_url = format!("smtp://{smtp}");
    let env: Vec<(&str, &str)> = vec![
        ("TRAGUARDI_EVIDENCE_STORE", &store),
        ("AWS_ENDPOINT", &endpoint),
        ("AWS_ACCESS_KEY_ID", "test"),
        ("AWS_SECRET_ACCESS_KEY", "test"),
        ("AWS_REGION", "us-east-1"),
        ("AWS_ALLOW_HTTP", "true"),
        ("TRAGUARDI_SMTP_URL", &smtp_url),
        ("TRAGUARDI_SMTP_FROM", "Traguardi <promemoria@traguardi.test>"),
        // The production-like limit the guesser below meets (the Region signs in twice).
        ("TRAGUARDI_LOGIN_LIMIT_PER_ACCOUNT", "3"),
    ];
    let a = case.start(&env).await;

    // An upload in flight on A (half of a 12 MB file sent, its first parts in the bucket) while
    // B starts, and with it B's start-up sweep.
    let region = sign_in(&a.addr).await;
    let upload = Arc::new(PdfUpload::new(12 * MB, 7));
    let resume = Arc::new(tokio::sync::Notify::new());
    let sent = Arc::new(AtomicU64::new(0));
    let path = format!("/comuni/{BARI}/evidenze/step1_pagopa");
    let in_flight = tokio::spawn(send_upload(
        a.addr.clone(),
        path.clone(),
        region.clone(),
        upload.clone(),
        Some(8 * MB),
        resume.clone(),
        sent.clone(),
    ));
    until("8 MB of the upload sent and a multipart upload open in the bucket", || {
        let (sent, endpoint, bucket) = (sent.clone(), endpoint.clone(), bucket.clone());
        async move {
            sent.load(std::sync::atomic::Ordering::SeqCst) >= 8 * MB
                && open_multipart_uploads(&endpoint, &bucket).await > 0
        }
    })
    .await;
    let b = case.start(&env).await;
    resume.notify_one();
    let stored = in_flight.await.expect("the upload task").expect("the upload's answer");
    assert_eq!(stored.status, 303, "{}: the upload in flight while B started: {}", case.name, stored.body);

    // A session opened on A works on B: the workspace is the Region's.
    let workspace = format!("/comuni/{BARI}/gestione");
    let on_b = get(&b.addr, &workspace, Some(&region)).await;
    assert_eq!(on_b.status, 200, "{}: A's session on B: {}", case.name, body_of(&on_b));

    // The committed file is served by both, byte for byte.
    let evidence_id: i64 = on_db!(&case.t.db, pool => sqlx::query_scalar("SELECT MAX(id) FROM evidence")
        .fetch_one(pool)
        .await
        .unwrap());
    let sha: String = on_db!(&case.t.db, pool => sqlx::query_scalar("SELECT sha256 FROM evidence WHERE id = $1")
        .bind(evidence_id)
        .fetch_one(pool)
        .await
        .unwrap());
    assert_eq!(sha, upload.digest, "{}: the stored file's hash", case.name);
    for server in [&a, &b] {
        let client = reqwest::Client::new();
        let file = client
            .get(format!("http://{}/evidenze/{evidence_id}/file", server.addr))
            .header("cookie", &region)
            .send()
            .await
            .expect("download");
        assert_eq!(file.status(), 200, "{}: the file from {}", case.name, server.addr);
        let bytes = file.bytes().await.expect("the file's bytes");
        use sha2::Digest;
        assert_eq!(
            format!("{:x}", sha2::Sha256::digest(&bytes)),
            upload.digest,
            "{}: from {}",
            case.name,
            server.addr
        );
    }

    // A write on A shows on B at its next request: B's page cache holds Bari's page first.
    let page = format!("/comuni/{BARI}");
    for _ in 0..2 {
        let before = get(&b.addr, &page, None).await;
        assert_eq!(before.status, 200);
        assert!(body_of(&before).contains("<dd>Non aderente</dd>"), "{}: Bari before", case.name);
    }
    assert_eq!(get(&b.addr, &page, None).await.header("x-traguardi-cache"), Some("hit"), "{}", case.name);
    let version: i64 = on_db!(&case.t.db, pool => sqlx::query_scalar(
        "SELECT version FROM adhesion WHERE comune = $1 AND programme = 'fondo-innovazione-2020'",
    )
    .bind(BARI)
    .fetch_one(pool)
    .await
    .unwrap());
    let form = format!("stato=rinuncia&data=2021-01-15&versione={version}&motivo=Delibera+n.+3");
    let written =
        post_form(&a.addr, &format!("{workspace}/adesione"), &region, &form).await.expect("the write");
    assert_eq!(written.status, 303, "{}: the renunciation on A: {}", case.name, written.body);
    let after = get(&b.addr, &page, None).await;
    assert!(
        body_of(&after).contains("<dd>Rinuncia</dd>") && !body_of(&after).contains("<dd>Non aderente</dd>"),
        "{}: B shows the write made on A at its next request",
        case.name
    );
    let note = format!("Nota scritta su A {bucket}");
    let written = post_form(
        &a.addr,
        &format!("{workspace}/nota"),
        &region,
        &format!("testo={}", note.replace(' ', "+")),
    )
    .await
    .expect("the note");
    assert_eq!(written.status, 303, "{}: the note on A: {}", case.name, written.body);
    assert!(
        body_of(&get(&b.addr, &workspace, Some(&region)).await).contains(&note),
        "{}: the note on B",
        case.name
    );

    // The sign-in limit holds across both: three wrong passwords, alternating, and the fourth
    // attempt (on B, with the right password) waits.
    let (email, _, _, _, password) = crate::auth::users::DEMO_ACCOUNTS[1];
    let attempt = |pw: &str| format!("email={}&password={pw}&next=/", email.replace('@', "%40"));
    for server in [&a, &b, &a] {
        let r = request(
            &server.addr,
            "POST",
            "/accedi",
            None,
            Some("application/x-www-form-urlencoded"),
            attempt("Sbagliata-sbagliata-1").as_bytes(),
        )
        .await
        .expect("a sign-in attempt");
        assert_eq!(r.status, 401, "{}: a wrong password on {}", case.name, server.addr);
    }
    let r = request(
        &b.addr,
        "POST",
        "/accedi",
        None,
        Some("application/x-www-form-urlencoded"),
        attempt(password).as_bytes(),
    )
    .await
    .expect("the fourth attempt");
    assert_eq!(r.status, 429, "{}: B knows A's failures: {}", case.name, body_of(&r));

    // Each queued reminder was sent once, by one of the two senders.
    let waiting = || async {
        count(
            &case.t.db,
            &format!("SELECT COUNT(*) FROM reminder_message WHERE dedup_key LIKE 'cluster:{bucket}:%' AND status <> 'inviato'"),
        )
        .await
    };
    let started = Instant::now();
    while waiting().await > 0 {
        assert!(
            started.elapsed() < DEADLINE,
            "{}: the reminders were not all sent: {}",
            case.name,
            a.log_text()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let mut received: Vec<String> = Vec::new();
    for entry in std::fs::read_dir(&smtp_dir).expect("the SMTP folder").flatten() {
        let name = entry.file_name().to_string_lossy().to_string();
        if name.starts_with('.') || !name.ends_with(".json") {
            continue;
        }
        let v: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(entry.path()).expect("a message")).expect("JSON");
        for r in v["rcpt_tos"].as_array().into_iter().flatten().filter_map(|r| r.as_str()) {
            if recipients.iter().any(|x| x == r) {
                received.push(r.to_string());
            }
        }
    }
    received.sort();
    assert_eq!(
        received,
        recipients.iter().cloned().collect::<BTreeSet<_>>().into_iter().collect::<Vec<_>>(),
        "{}: each message once",
        case.name
    );

    // The bucket holds exactly the committed upload's file (the demo's own files are in the
    // case's folder): no temporary file left, none lost.
    let key: String = on_db!(&case.t.db, pool => sqlx::query_scalar("SELECT storage_key FROM evidence WHERE id = $1")
        .bind(evidence_id)
        .fetch_one(pool)
        .await
        .unwrap());
    let expected = BTreeSet::from([key]);
    until("the bucket holding the committed file and nothing else", || {
        let (endpoint, bucket, expected) = (endpoint.clone(), bucket.clone(), expected.clone());
        async move { bucket_keys(&endpoint, &bucket).await == expected }
    })
    .await;
    drop((a, b));
    case.audit_verifies();
    case.finish().await;
}
