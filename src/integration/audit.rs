//! Signed checkpoints of the audit trail, through the `traguardi audit` command's code path
//! (`crate::audit::cli::run`, which `main` calls and prints), on both backends.

use std::{
    path::{Path, PathBuf},
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc,
    },
};

use super::TestDb;
use crate::{
    audit::cli::{self, AuditCommand},
    data::{audit, on_db, Db},
};

const ACTOR: &str = "regione@test.invalid";
const BARI: &str = "072006";

async fn note(db: &Db, body: &str) {
    crate::data::workspace::write_tx!(db, tx => tx.add_note_in(ACTOR, BARI, body).await?).unwrap();
}

async fn run(db: &Db, command: AuditCommand) -> (String, bool) {
    cli::run(db, command).await.unwrap()
}

fn verify(key: Option<&Path>, public_key: Option<&Path>, checkpoints: Option<&Path>) -> AuditCommand {
    AuditCommand::Verify {
        key: key.map(Path::to_path_buf),
        public_keys: public_key.map(Path::to_path_buf).into_iter().collect(),
        checkpoints: checkpoints.map(Path::to_path_buf),
    }
}

fn checkpoint(key: &Path) -> AuditCommand {
    AuditCommand::Checkpoint { key: key.to_path_buf() }
}

/// A folder with a fresh key `audit.key` (and `audit.key.pub`).
fn key_dir(prefix: &str) -> (PathBuf, PathBuf) {
    let dir = std::env::temp_dir().join(super::unique(prefix));
    std::fs::create_dir_all(&dir).unwrap();
    let key = dir.join("audit.key");
    cli::keygen(&key).unwrap();
    (dir, key)
}

/// Drops the guards on the trail and on the checkpoints, as someone with the schema rights can.
async fn drop_guards(db: &Db) {
    let drops: &[&str] = match db {
        Db::Sqlite(_) => &[
            "DROP TRIGGER audit_entry_no_update",
            "DROP TRIGGER audit_entry_no_delete",
            "DROP TRIGGER audit_checkpoint_no_update",
            "DROP TRIGGER audit_checkpoint_no_delete",
        ],
        Db::Postgres(_) => &[
            "DROP TRIGGER audit_entry_no_update ON audit_entry",
            "DROP TRIGGER audit_checkpoint_no_update ON audit_checkpoint",
        ],
    };
    for sql in drops {
        on_db!(db, pool => sqlx::query(sql).execute(pool).await.map(|_| ()).unwrap());
    }
}

/// Edits entry `seq`'s text in SQL, recomputes the hash of it and of every later entry, and
/// moves the head: the chain is whole again.
async fn rewrite_from(db: &Db, seq: i64) {
    let mut rows = audit::list(db, None, None, 100_000, &[]).await.unwrap();
    rows.reverse();
    let mut prev = rows.iter().find(|r| r.seq == seq - 1).map(|r| r.hash.clone()).unwrap();
    for mut row in rows.into_iter().filter(|r| r.seq >= seq) {
        if row.seq == seq {
            row.changes = r#"[{"field":"testo","before":null,"after":"Nota riscritta"}]"#.to_string();
        }
        row.prev_hash = prev;
        row.hash = row.compute_hash();
        on_db!(db, pool => sqlx::query("UPDATE audit_entry SET changes = $1, prev_hash = $2, hash = $3 WHERE seq = $4")
            .bind(&row.changes).bind(&row.prev_hash).bind(&row.hash).bind(row.seq)
            .execute(pool).await.map(|_| ()).unwrap());
        on_db!(db, pool => sqlx::query("UPDATE app_meta SET value = $1 WHERE key = 'audit_head'")
            .bind(format!("{}:{}", row.seq, row.hash))
            .execute(pool).await.map(|_| ()).unwrap());
        prev = row.hash;
    }
}

/// What `audit verify` checked before checkpoints: the chain alone, and the head.
async fn chain_alone_holds(db: &Db) -> bool {
    let mut rows = audit::list(db, None, None, 100_000, &[]).await.unwrap();
    rows.reverse();
    let mut prev = audit::GENESIS.to_string();
    for (i, row) in rows.iter().enumerate() {
        if audit::check_entry(row, i as i64 + 1, &prev).is_some() {
            return false;
        }
        prev = row.hash.clone();
    }
    let head = db.meta("audit_head").await.unwrap();
    head == rows.last().map(|r| format!("{}:{}", r.seq, r.hash))
}

/// The report counts in words a person reads: «1 entry», not «1 entries» (fails on the code
/// that wrote the plural whatever the number).
#[tokio::test]
async fn verify_says_one_entry_in_the_singular() {
    for t in TestDb::all().await {
        let db = &t.db;
        note(db, "Nota 1").await;
        let (text, ok) = run(db, verify(None, None, None)).await;
        assert!(ok && text.contains("Audit trail intact: 1 entry verified."), "{}: {text}", db.backend());
        t.drop_db().await;
    }
}

#[tokio::test]
async fn a_rewritten_trail_with_a_moved_head_is_found_by_the_checkpoints() {
    for t in TestDb::all().await {
        let db = &t.db;
        let backend = db.backend();
        let (dir, key) = key_dir("traguardi_audit_rewrite");
        let public = crate::audit::public_path(&key);
        let export = dir.join("checkpoints.jsonl");
        for n in 1..=6 {
            note(db, &format!("Nota {n}")).await;
        }
        let (text, ok) = run(db, checkpoint(&key)).await;
        assert!(ok && text.contains("Checkpoint signed: entry 6 "), "{backend}: {text}");
        let (text, ok) = run(db, checkpoint(&key)).await;
        assert!(ok && text.contains("Nothing to sign: entry 6 is already checkpointed"), "{backend}: {text}");
        for n in 7..=10 {
            note(db, &format!("Nota {n}")).await;
        }
        let (text, ok) = run(db, checkpoint(&key)).await;
        assert!(ok && text.contains("Checkpoint signed: entry 10 "), "{backend}: {text}");
        let (text, ok) = run(db, AuditCommand::Checkpoints { export: Some(export.clone()) }).await;
        assert!(ok && text.contains("2 checkpoints written"), "{backend}: {text}");
        // Entries after the last checkpoint.
        for n in 11..=12 {
            note(db, &format!("Nota {n}")).await;
        }
        let (text, ok) = run(db, verify(Some(&key), None, Some(&export))).await;
        assert!(ok, "{backend}: {text}");
        assert!(text.contains("Audit trail intact: 12 entries verified."), "{backend}: {text}");
        assert!(text.contains("4 checkpoints signed by"), "{backend}: 2 stored + 2 exported: {text}");

        // Someone with database access rewrites entry 8, recomputes every later hash and moves
        // the head: the chain alone holds again (what `audit verify` checked before).
        drop_guards(db).await;
        rewrite_from(db, 8).await;
        assert!(chain_alone_holds(db).await, "{backend}: the rewrite passes the chain check");

        // The checkpoint of entry 10 does not match: verify names it, and where the rewrite is.
        let expected = "Audit trail BROKEN at entry 10: its hash is not the one of the checkpoint signed at";
        for (how, command) in [
            ("the private key", verify(Some(&key), None, None)),
            ("the public key file", verify(None, Some(&public), None)),
            ("the stored keys only", verify(None, None, None)),
        ] {
            let (text, ok) = run(db, command).await;
            assert!(!ok, "{backend}, {how}: {text}");
            assert!(text.contains(expected), "{backend}, {how}: {text}");
            assert!(text.contains("among entries 7–10"), "{backend}, {how}: {text}");
            assert!(text.contains("(9 entries verified before it)"), "{backend}, {how}: {text}");
        }
        // Nor is a checkpoint signed over the rewritten trail.
        let (text, ok) = run(db, checkpoint(&key)).await;
        assert!(!ok && text.contains("No checkpoint signed"), "{backend}: {text}");

        // The checkpoint table rewritten too (emptied): the database alone agrees with itself,
        // but not with the exported copy kept elsewhere.
        on_db!(db, pool => sqlx::query("DELETE FROM audit_checkpoint").execute(pool).await.map(|_| ()).unwrap());
        let (text, ok) = run(db, verify(Some(&key), None, None)).await;
        assert!(ok, "{backend}: without the export nothing disagrees: {text}");
        let (text, ok) = run(db, verify(Some(&key), None, Some(&export))).await;
        assert!(!ok, "{backend}: {text}");
        assert!(text.contains("Audit trail BROKEN at entry 10: "), "{backend}: {text}");
        assert!(text.contains("in the exported file"), "{backend}: {text}");

        // A checkpoint forged with another key (stored with that key) is refused.
        let forger = crate::audit::AuditKey::generate();
        let forged = forger.sign(
            12,
            &audit::list(db, None, None, 1, &[]).await.unwrap()[0].hash,
            audit::now_rfc3339(),
        );
        audit::add_checkpoint(db, &forged).await.unwrap();
        let (text, ok) = run(db, verify(None, Some(&public), None)).await;
        assert!(!ok, "{backend}: {text}");
        assert!(
            text.contains("BROKEN at entry 12: the checkpoint of entry 12 in the database is signed by key"),
            "{backend}: {text}"
        );
        assert!(text.contains("not a trusted one"), "{backend}: {text}");
        std::fs::remove_dir_all(&dir).ok();
        t.drop_db().await;
    }
}

#[tokio::test]
async fn entries_removed_from_the_end_are_found_below_a_checkpoint_only() {
    for t in TestDb::all().await {
        let db = &t.db;
        let backend = db.backend();
        let (dir, key) = key_dir("traguardi_audit_truncate");
        let export = dir.join("checkpoints.jsonl");
        for n in 1..=5 {
            note(db, &format!("Nota {n}")).await;
        }
        assert!(run(db, checkpoint(&key)).await.1);
        run(db, AuditCommand::Checkpoints { export: Some(export.clone()) }).await;
        for n in 6..=7 {
            note(db, &format!("Nota {n}")).await;
        }
        drop_guards(db).await;
        // Entries 6 and 7 (after the checkpoint) go, head moved back: not detectable.
        let truncate = |from: i64| async move {
            on_db!(db, pool => sqlx::query("DELETE FROM audit_entry WHERE seq >= $1").bind(from).execute(pool).await.map(|_| ()).unwrap());
            let last = audit::list(db, None, None, 1, &[]).await.unwrap().remove(0);
            on_db!(db, pool => sqlx::query("UPDATE app_meta SET value = $1 WHERE key = 'audit_head'")
                .bind(format!("{}:{}", last.seq, last.hash)).execute(pool).await.map(|_| ()).unwrap());
        };
        truncate(6).await;
        let (text, ok) = run(db, verify(Some(&key), None, Some(&export))).await;
        assert!(ok, "{backend}: entries after the newest checkpoint are not protected: {text}");
        // The stored checkpoint removed: the export still has it.
        on_db!(db, pool => sqlx::query("DELETE FROM audit_checkpoint").execute(pool).await.map(|_| ()).unwrap());
        let (text, ok) = run(db, verify(Some(&key), None, Some(&export))).await;
        assert!(!ok, "{backend}: {text}");
        assert!(
            text.contains("BROKEN at entry 5: the checkpoint of entry 5 signed at")
                && text.contains("is in the exported file but not in the database"),
            "{backend}: {text}"
        );
        // Entries 5 and 4 go too: the database alone agrees with itself, the export does not.
        truncate(4).await;
        let (text, ok) = run(db, verify(Some(&key), None, None)).await;
        assert!(ok, "{backend}: {text}");
        let (text, ok) = run(db, verify(Some(&key), None, Some(&export))).await;
        assert!(!ok, "{backend}: {text}");
        assert!(
            text.contains("Audit trail BROKEN at entry 4: entry 4 is missing, but the checkpoint signed at"),
            "{backend}: {text}"
        );
        assert!(text.contains("vouches for the trail up to entry 5"), "{backend}: {text}");
        std::fs::remove_dir_all(&dir).ok();
        t.drop_db().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verify_during_a_stream_of_writes_finds_nothing_wrong() {
    for t in TestDb::all().await {
        let backend = t.db.backend();
        let (dir, key) = key_dir("traguardi_audit_concurrent");
        for n in 1..=3 {
            note(&t.db, &format!("Nota {n}")).await;
        }
        assert!(run(&t.db, checkpoint(&key)).await.1);
        let stop = Arc::new(AtomicBool::new(false));
        let writer = tokio::spawn({
            let (db, stop) = (t.db.clone(), stop.clone());
            async move {
                let mut written = 0;
                while !stop.load(Ordering::Relaxed) {
                    note(&db, &format!("Nota concorrente {written}")).await;
                    written += 1;
                }
                written
            }
        });
        let before = audit::list(&t.db, None, None, 1, &[]).await.unwrap()[0].seq;
        for round in 0..30 {
            let (text, ok) = run(&t.db, verify(Some(&key), None, None)).await;
            assert!(ok, "{backend}, round {round}: {text}");
            if round % 10 == 5 {
                let (text, ok) = run(&t.db, checkpoint(&key)).await;
                assert!(ok, "{backend}, round {round}: {text}");
            }
        }
        stop.store(true, Ordering::Relaxed);
        let written = writer.await.unwrap();
        let after = audit::list(&t.db, None, None, 1, &[]).await.unwrap()[0].seq;
        assert!(written > 0 && after > before, "{backend}: the writes ran alongside ({written})");
        let (text, ok) = run(&t.db, verify(Some(&key), None, None)).await;
        assert!(ok, "{backend}: {text}");
        std::fs::remove_dir_all(&dir).ok();
        t.drop_db().await;
    }
}
