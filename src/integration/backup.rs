//! Backup and restore through the commands' code (`backup::cli`), across backends (SQLite →
//! PostgreSQL and back) and stores (a folder ↔ S3, when `TRAGUARDI_TEST_S3` names a server):
//! every table's rows, every evidence file's bytes, the audit trail with its checkpoint and the
//! dashboard's figures come back equal; a database or store that is not empty, and a damaged
//! archive, are refused with nothing written; a backup taken while edits stream in is one
//! moment of the database.

use std::{
    collections::BTreeMap,
    path::{Path, PathBuf},
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc,
    },
};

use axum::{
    body::Body,
    http::{header, Request, StatusCode},
    Router,
};
use object_store::{path::Path as ObjectPath, ObjectStoreExt as _};
use sha2::{Digest, Sha256};

use super::{
    auth::{add_user, form, send, sign_in, with_cookie, ASSESSORE, CODICE_A, CODICE_B, COMUNE_A, REGIONE},
    evidence::{multipart, pdf, stores},
    TestDb,
};
use crate::{
    audit::cli::{self as audit_cli, AuditCommand},
    backup::{
        self,
        cli::{BackupArgs, RestoreArgs},
    },
    data::{audit, evidence, on_db, programme::FONDO_INNOVAZIONE, Db},
    evaluation::{today, Snapshot},
    evidence::store::EvidenceStore,
    server::router,
};

const BOUNDARY: &str = "----traguardi-test-boundary";

fn temp_dir(prefix: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(super::unique(prefix));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn sha(bytes: &[u8]) -> String {
    format!("{:x}", Sha256::digest(bytes))
}

async fn upload(app: &Router, token: &str, codice: &str, objective: &str, name: &str, bytes: &[u8]) {
    let body = multipart(name, bytes);
    let req = Request::post(format!("/comuni/{codice}/evidenze/{objective}"))
        .header(header::CONTENT_TYPE, format!("multipart/form-data; boundary={BOUNDARY}"))
        .header(header::CONTENT_LENGTH, body.len())
        .body(Body::from(body))
        .unwrap();
    let a = send(app, with_cookie(req, Some(token))).await;
    assert_eq!(a.status, StatusCode::SEE_OTHER, "upload {name}: {}", a.body);
}

async fn note(db: &Db, comune: &str, body: &str) {
    crate::data::workspace::write_tx!(db, tx => tx.add_note_in(REGIONE, comune, body).await?).unwrap();
}

async fn run_audit(db: &Db, command: AuditCommand) -> (String, bool) {
    audit_cli::run(db, command).await.unwrap()
}

fn verify_with(key: &Path) -> AuditCommand {
    AuditCommand::Verify { key: Some(key.to_path_buf()), public_keys: Vec::new(), checkpoints: None }
}

/// A database worth backing up: the demo data, accounts with sessions, three evidence files
/// (one reviewed positive), notes with accents and quotes, an import file with bytes that are not
/// text, a signed checkpoint and an entry after it. Returns the audit key's path and the store.
async fn populate(t: &TestDb, store: EvidenceStore, dir: &Path) -> (PathBuf, Arc<EvidenceStore>) {
    crate::demo::load(&t.db).await.unwrap();
    add_user(&t.db, REGIONE, "regione", "", "").await;
    add_user(&t.db, COMUNE_A, "comune", CODICE_A, "").await;
    add_user(&t.db, ASSESSORE, "assessore", "", "").await;
    let state = super::evidence::state(t, store);
    let app = router(state.clone());
    let comune = sign_in(&app, COMUNE_A).await;
    let regione = sign_in(&app, REGIONE).await;
    upload(&app, &comune, CODICE_A, "step1_pagopa", "Delibera n. 12.pdf", &pdf("prima")).await;
    upload(&app, &comune, CODICE_A, "step1_pagopa", "Delibera n. 12 firmata.pdf", &pdf("seconda")).await;
    upload(&app, &regione, CODICE_B, "step1_io", "Verbale «Lecce».pdf", &pdf("lecce")).await;
    let (files, _) = evidence::of_comune(&t.db, FONDO_INNOVAZIONE, CODICE_A).await.unwrap();
    let latest = files.iter().max_by_key(|f| f.version).unwrap();
    let a = send(
        &app,
        form(&format!("/evidenze/{}/esame", latest.id), "esito=positivo&ultima=0", Some(&regione)),
    )
    .await;
    assert_eq!(a.status, StatusCode::SEE_OTHER, "review: {}", a.body);
    note(&t.db, CODICE_A, "Telefonata con l'ufficio tributi: «promessa» entro il 30/06 — \"ok\"").await;
    crate::data::imports::store(&t.db, REGIONE, "adesioni è.csv", b"Comune;Stato\r\nBari;\xe8\x00\xff\n")
        .await
        .unwrap();
    let key = dir.join("audit.key");
    audit_cli::keygen(&key).unwrap();
    let (text, ok) = run_audit(&t.db, AuditCommand::Checkpoint { key: key.clone() }).await;
    assert!(ok, "{text}");
    note(&t.db, CODICE_B, "Dopo il checkpoint").await;
    (key, state.evidence)
}

/// Everything `traguardi check` and the dashboard compute.
async fn figures(db: &Db) -> (crate::dashboard::Summary, Vec<(String, String, String, bool)>) {
    let snap = Snapshot::build(db, FONDO_INNOVAZIONE, today()).await.unwrap();
    let summary = snap.summary(&Default::default());
    let check = crate::check::run(db).await.unwrap();
    let lines = check.lines.into_iter().map(|l| (l.label, l.computed, l.denominator, l.agrees)).collect();
    (summary, lines)
}

async fn do_backup(db: &Db, store: &EvidenceStore, file: &Path) -> (String, Vec<String>) {
    let mut lines = Vec::new();
    let text = backup::cli::backup(db, store, BackupArgs { file: file.to_path_buf() }, &mut |l| {
        lines.push(l.to_string())
    })
    .await
    .unwrap();
    (text, lines)
}

async fn do_restore(db: &Db, store: &EvidenceStore, file: &Path) -> anyhow::Result<(String, bool)> {
    backup::cli::restore(db, store, RestoreArgs { file: file.to_path_buf() }, &mut |_| {}).await
}

/// A fresh database of the other backend (the same one when PostgreSQL is not there).
async fn other_backend(db: &Db) -> TestDb {
    match db {
        Db::Sqlite(_) => match TestDb::postgres().await {
            Some(t) => t,
            None => TestDb::sqlite().await,
        },
        Db::Postgres(_) => TestDb::sqlite().await,
    }
}

fn is_s3(store: &EvidenceStore) -> bool {
    store.description.starts_with("S3")
}

/// A fresh store of the other kind (a folder when no S3 server is given).
async fn other_store(store: &EvidenceStore) -> EvidenceStore {
    let mut fresh = stores(crate::evidence::store::DEFAULT_MAX_BYTES).await;
    if is_s3(store) || fresh.len() == 1 {
        fresh.swap_remove(0)
    } else {
        fresh.pop().unwrap()
    }
}

/// The sources: SQLite with a folder, PostgreSQL with S3 (or a folder without an S3 server).
async fn sources() -> Vec<(TestDb, EvidenceStore)> {
    let mut out = Vec::new();
    for t in TestDb::all().await {
        let mut s = stores(crate::evidence::store::DEFAULT_MAX_BYTES).await;
        let store = match t.db {
            Db::Postgres(_) => s.pop().unwrap(),
            Db::Sqlite(_) => s.swap_remove(0),
        };
        out.push((t, store));
    }
    out
}

async fn store_bytes(store: &EvidenceStore, key: &str) -> Vec<u8> {
    store.store.get(&ObjectPath::from(key)).await.unwrap().bytes().await.unwrap().to_vec()
}

async fn all_lines(db: &Db) -> BTreeMap<String, Vec<String>> {
    let mut out = BTreeMap::new();
    for t in backup::schema(db).await.unwrap() {
        out.insert(t.name.clone(), backup::table_lines(db, &t.name).await.unwrap());
    }
    out
}

#[tokio::test]
async fn a_backup_restores_on_the_other_backend_and_store_with_everything_equal() {
    for (src, src_store) in sources().await {
        let dir = temp_dir("traguardi_backup_roundtrip");
        let file = dir.join("traguardi.zip");
        let src_description = src_store.description.clone();
        let src_s3 = is_s3(&src_store);
        let (key, src_store) = populate(&src, src_store, &dir).await;
        let (text, progress) = do_backup(&src.db, &src_store, &file).await;
        let from = format!("{} + {src_description}", src.db.backend());
        assert!(text.contains("3 evidence files") && text.contains("1 checkpoint;"), "{from}: {text}");
        assert!(!dir.join("traguardi.zip.partial").exists(), "{from}: no partial file left");
        // Progress names every table and every file as it goes.
        let schema = backup::schema(&src.db).await.unwrap();
        for t in &schema {
            assert!(progress.iter().any(|l| l.starts_with(&format!("  {}: ", t.name))), "{from}: {}", t.name);
        }
        assert_eq!(progress.iter().filter(|l| l.contains("SHA-256 verified")).count(), 3, "{from}");

        let dst = other_backend(&src.db).await;
        let dst_store = other_store(&src_store).await;
        let to = format!("{} + {}", dst.db.backend(), dst_store.description);
        assert_eq!(is_s3(&dst_store), !src_s3 && std::env::var_os("TRAGUARDI_TEST_S3").is_some(), "{to}");
        let (text, ok) = do_restore(&dst.db, &dst_store, &file).await.unwrap();
        assert!(ok, "{from} → {to}: {text}");
        assert!(text.contains("Audit trail intact:"), "{from} → {to}: {text}");

        // Every table: the same number of rows, the same rows.
        assert_eq!(
            backup::row_counts(&dst.db).await.unwrap(),
            backup::row_counts(&src.db).await.unwrap(),
            "{to}"
        );
        let (before, after) = (all_lines(&src.db).await, all_lines(&dst.db).await);
        assert_eq!(before.keys().collect::<Vec<_>>(), after.keys().collect::<Vec<_>>());
        for (table, rows) in &before {
            assert_eq!(rows, &after[table], "{from} → {to}: table {table}");
        }
        // …read back through the application's own queries too.
        assert_eq!(
            audit::list(&dst.db, None, None, 100_000, &[]).await.unwrap(),
            audit::list(&src.db, None, None, 100_000, &[]).await.unwrap(),
            "{to}: the trail"
        );
        assert_eq!(audit::checkpoints(&dst.db).await.unwrap(), audit::checkpoints(&src.db).await.unwrap());
        assert_eq!(audit::checkpoints(&dst.db).await.unwrap().len(), 1);
        let imported = crate::data::imports::get(&dst.db, 1).await.unwrap().unwrap().1;
        assert_eq!(imported, b"Comune;Stato\r\nBari;\xe8\x00\xff\n".to_vec(), "{to}: bytes");

        // Every evidence file, read back from the new store: the recorded hash.
        let mut keys = evidence::storage_keys(&dst.db).await.unwrap();
        keys.sort();
        assert_eq!(keys.len(), 3);
        assert_eq!(dst_store.keys().await.unwrap(), keys, "{to}: exactly the files the rows name");
        for codice in [CODICE_A, CODICE_B] {
            let old = evidence::of_comune(&src.db, FONDO_INNOVAZIONE, codice).await.unwrap();
            let new = evidence::of_comune(&dst.db, FONDO_INNOVAZIONE, codice).await.unwrap();
            assert_eq!(old, new, "{to}: evidence rows and reviews of {codice}");
            for row in &new.0 {
                let bytes = store_bytes(&dst_store, &row.storage_key).await;
                assert_eq!(sha(&bytes), row.sha256, "{to}: {}", row.storage_key);
                assert_eq!(bytes, store_bytes(&src_store, &row.storage_key).await);
            }
        }

        // The trail verifies with the key, its checkpoint included.
        let (text, ok) = run_audit(&dst.db, verify_with(&key)).await;
        assert!(ok && text.contains("1 checkpoint signed by"), "{from} → {to}: {text}");

        // The dashboard's figures and `traguardi check`'s.
        assert_eq!(figures(&dst.db).await, figures(&src.db).await, "{from} → {to}: figures");

        // The same data gives the same table files from the other backend.
        let again = dir.join("again.zip");
        do_backup(&dst.db, &dst_store, &again).await;
        let (a, b) =
            (backup::Archive::open(&file).unwrap().manifest, backup::Archive::open(&again).unwrap().manifest);
        assert_eq!(a.tables, b.tables, "{from} → {to}: table files");
        assert_eq!(a.evidence, b.evidence);
        assert_eq!(a.audit, b.audit);
        assert_eq!(a.migration_version, backup::binary_migration_version(&dst.db));

        // Writing goes on after the restore: new ids follow the restored ones.
        let notes = |db: Db| async move {
            on_db!(&db, pool => sqlx::query_scalar::<_, i64>("SELECT COALESCE(MAX(id), 0) FROM comune_note")
                .fetch_one(pool).await.unwrap())
        };
        let last = notes(dst.db.clone()).await;
        note(&dst.db, CODICE_A, "Dopo il ripristino").await;
        assert!(notes(dst.db.clone()).await > last, "{to}");
        add_user(&dst.db, "nuova.persona@test.invalid", "assessore", "", "").await;
        let (text, ok) = run_audit(&dst.db, verify_with(&key)).await;
        assert!(ok, "{to}: {text}");

        std::fs::remove_dir_all(&dir).ok();
        src.drop_db().await;
        dst.drop_db().await;
    }
}

/// A populated SQLite source and its archive.
async fn archived(dir: &Path) -> (TestDb, Arc<EvidenceStore>, PathBuf) {
    let src = TestDb::sqlite().await;
    let store =
        EvidenceStore::local(dir.join("evidenze"), crate::evidence::store::DEFAULT_MAX_BYTES).unwrap();
    let (_, store) = populate(&src, store, dir).await;
    let file = dir.join("traguardi.zip");
    do_backup(&src.db, &store, &file).await;
    (src, store, file)
}

#[tokio::test]
async fn restore_refuses_a_database_or_store_that_is_not_empty_and_writes_nothing() {
    let dir = temp_dir("traguardi_backup_refuse");
    let (src, src_store, file) = archived(&dir).await;
    for t in TestDb::all().await {
        let backend = t.db.backend();
        // A database with data (one note, through the application).
        note(&t.db, CODICE_A, "Un dato vero").await;
        let counts = backup::row_counts(&t.db).await.unwrap();
        let lines = all_lines(&t.db).await;
        let store = EvidenceStore::local(temp_dir("traguardi_backup_refuse_store"), 1 << 20).unwrap();
        let err = do_restore(&t.db, &store, &file).await.unwrap_err().to_string();
        assert!(
            err.contains(&format!("the {backend} database is not empty ("))
                && err.contains("comune_note (1 row)"),
            "{backend}: {err}"
        );
        assert!(err.contains("nothing was written"), "{backend}: {err}");
        assert_eq!(backup::row_counts(&t.db).await.unwrap(), counts, "{backend}");
        assert_eq!(all_lines(&t.db).await, lines, "{backend}");
        assert!(store.keys().await.unwrap().is_empty(), "{backend}: no file written");
        t.drop_db().await;

        // An empty database, but a store with files.
        let t = if backend == "SQLite" { TestDb::sqlite().await } else { TestDb::postgres().await.unwrap() };
        let counts = backup::row_counts(&t.db).await.unwrap();
        let keys = src_store.keys().await.unwrap();
        let err = do_restore(&t.db, &src_store, &file).await.unwrap_err().to_string();
        assert!(
            err.contains("is not empty (3 files)") && err.contains("nothing was written"),
            "{backend}: {err}"
        );
        assert_eq!(backup::row_counts(&t.db).await.unwrap(), counts, "{backend}");
        assert_eq!(src_store.keys().await.unwrap(), keys);
        t.drop_db().await;
    }
    src.drop_db().await;
    std::fs::remove_dir_all(&dir).ok();
}

#[tokio::test]
async fn a_damaged_archive_is_refused_and_leaves_nothing() {
    let dir = temp_dir("traguardi_backup_damaged");
    let (src, _store, file) = archived(&dir).await;
    let manifest = backup::Archive::open(&file).unwrap().manifest;
    let object = manifest.evidence[1].file.clone();
    let good = std::fs::read(&file).unwrap();

    // One byte of an evidence file changed, the zip itself well formed (its CRC recomputed).
    let changed_byte = dir.join("changed-byte.zip");
    backup::rewrite_archive(&file, &changed_byte, |name, mut bytes| {
        if name == object {
            bytes[100] ^= 0x20;
        }
        bytes
    })
    .unwrap();
    // One byte of an evidence file changed in place (the zip's CRC no longer agrees).
    let flipped = dir.join("flipped.zip");
    let mut raw = good.clone();
    let marker = b"% seconda";
    let at = raw.windows(marker.len()).position(|w| w == marker).expect("evidence is stored uncompressed");
    raw[at + 2] ^= 0x01;
    std::fs::write(&flipped, &raw).unwrap();
    // The file cut in half.
    let truncated = dir.join("truncated.zip");
    std::fs::write(&truncated, &good[..good.len() / 2]).unwrap();
    // An audit entry edited in its table file.
    let edited_row = dir.join("edited-row.zip");
    backup::rewrite_archive(&file, &edited_row, |name, bytes| {
        if name == "tables/audit_entry.jsonl" {
            String::from_utf8(bytes).unwrap().replacen(REGIONE, "qualcun.altro@test.invalid", 1).into_bytes()
        } else {
            bytes
        }
    })
    .unwrap();

    let cases = [
        (&changed_byte, "does not match its SHA-256"),
        (&flipped, "cannot be read from the archive (it is damaged)"),
        (&truncated, "is not a readable backup archive"),
        (&edited_row, "tables/audit_entry.jsonl does not match the manifest"),
    ];
    for t in TestDb::all().await {
        let backend = t.db.backend();
        let counts = backup::row_counts(&t.db).await.unwrap();
        for (archive, message) in &cases {
            let store = EvidenceStore::local(temp_dir("traguardi_backup_damaged_store"), 1 << 20).unwrap();
            let err = do_restore(&t.db, &store, archive).await.unwrap_err();
            let err = format!("{err:#}");
            assert!(err.contains(message), "{backend}, {}: {err}", archive.display());
            assert_eq!(backup::row_counts(&t.db).await.unwrap(), counts, "{backend}, {}", archive.display());
            assert!(store.keys().await.unwrap().is_empty(), "{backend}, {}: files left", archive.display());
        }
        // The intact archive still restores into that same database.
        let store = EvidenceStore::local(temp_dir("traguardi_backup_damaged_store"), 1 << 20).unwrap();
        let (text, ok) = do_restore(&t.db, &store, &file).await.unwrap();
        assert!(ok, "{backend}: {text}");
        t.drop_db().await;
    }
    src.drop_db().await;
    std::fs::remove_dir_all(&dir).ok();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_taken_during_writes_is_one_moment() {
    for t in TestDb::all().await {
        let backend = t.db.backend();
        let dir = temp_dir("traguardi_backup_concurrent");
        crate::demo::load(&t.db).await.unwrap();
        let store = EvidenceStore::memory(1 << 20);
        let count = |db: Db, table: &'static str| async move {
            on_db!(&db, pool => sqlx::query_scalar::<_, i64>(&format!("SELECT COUNT(*) FROM {table}"))
                .fetch_one(pool).await.unwrap())
        };
        let (notes0, entries0) =
            (count(t.db.clone(), "comune_note").await, count(t.db.clone(), "audit_entry").await);
        let stop = Arc::new(AtomicBool::new(false));
        let writer = tokio::spawn({
            let (db, stop) = (t.db.clone(), stop.clone());
            async move {
                let mut written = 0;
                while !stop.load(Ordering::Relaxed) {
                    note(&db, CODICE_A, &format!("Nota concorrente {written}")).await;
                    written += 1;
                }
                written
            }
        });
        let mut during = 0;
        let mut files = Vec::new();
        for round in 0..3 {
            let file = dir.join(format!("round-{round}.zip"));
            let before = count(t.db.clone(), "comune_note").await;
            do_backup(&t.db, &store, &file).await;
            during += count(t.db.clone(), "comune_note").await - before;
            files.push(file);
        }
        stop.store(true, Ordering::Relaxed);
        let written = writer.await.unwrap();
        assert!(
            written > 0 && during > 0,
            "{backend}: writes ran alongside the backups ({written}, {during})"
        );
        for file in &files {
            // One moment: every note has its trail entry, and the head is the last entry.
            let notes = backup::archive_lines(file, "comune_note").unwrap().len() as i64;
            let entries = backup::archive_lines(file, "audit_entry").unwrap();
            assert_eq!(notes - notes0, entries.len() as i64 - entries0, "{backend}: {}", file.display());
            let last: serde_json::Value = serde_json::from_str(entries.last().unwrap()).unwrap();
            let head = format!("{}:{}", last["seq"], last["hash"].as_str().unwrap());
            let manifest = backup::Archive::open(file).unwrap().manifest;
            assert_eq!(manifest.audit.head.as_deref(), Some(head.as_str()), "{backend}");
            // Restored, its trail verifies.
            let dst = other_backend(&t.db).await;
            let (text, ok) = do_restore(&dst.db, &EvidenceStore::memory(1 << 20), file).await.unwrap();
            assert!(ok && text.contains("Audit trail intact"), "{backend} → {}: {text}", dst.db.backend());
            assert_eq!(count(dst.db.clone(), "comune_note").await, notes);
            dst.drop_db().await;
        }
        std::fs::remove_dir_all(&dir).ok();
        t.drop_db().await;
    }
}
