//! The audit trail: every write adds, in its own transaction, one entry saying who changed which
//! record, what changed (before → after) and why. Entries are chained by SHA-256: each hash covers
//! the entry's canonical JSON including the previous entry's hash, and `app_meta.audit_head`
//! holds the last `seq:hash`. An entry edited, deleted or inserted behind the application's back
//! breaks the chain, and [`verify`] names the first entry where it breaks.
//!
//! Writers serialise on one row: [`WriteTx::lock_for_write`] bumps `data_version` as the
//! transaction's first statement, which takes SQLite's write lock (the database has one writer)
//! or PostgreSQL's row lock on that `app_meta` row. Reading the last entry after it is therefore
//! safe from forks, and caches see the new data version as soon as the transaction commits.
//! The table refuses UPDATE and DELETE by trigger; nothing in the application offers either.
//!
//! The chain alone does not stop someone with write access to the database from rewriting the
//! whole trail and recomputing every hash: signed checkpoints (`audit_checkpoint`, signed and
//! trusted by `crate::audit` with a key kept outside the database) pin the hash of an entry, and
//! [`verify_with`] checks the trail against them.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::{on_db, Db, BUMP_DATA_VERSION, LOCK_DATA_VERSION};

/// The `prev_hash` of the first entry.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// One field of a record, before and after a write (`None`: empty or absent).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Change {
    pub field: String,
    pub before: Option<String>,
    pub after: Option<String>,
}

/// The fields that differ, from `(field, before, after)` triples: unchanged ones are left out.
pub fn diff(fields: Vec<(&str, Option<String>, Option<String>)>) -> Vec<Change> {
    fields
        .into_iter()
        .filter(|(_, b, a)| b != a)
        .map(|(field, before, after)| Change { field: field.to_string(), before, after })
        .collect()
}

/// What kind of write an entry records.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    Create,
    Update,
    Delete,
    /// A bulk load (the demo dataset, an import).
    Load,
    /// Somebody downloaded a file (evidence): reading public-money records is recorded too.
    Download,
}

impl Action {
    pub fn code(self) -> &'static str {
        match self {
            Action::Create => "create",
            Action::Update => "update",
            Action::Delete => "delete",
            Action::Load => "load",
            Action::Download => "download",
        }
    }
}

/// What a writer says about its write; the trail adds the time, the sequence and the hashes.
#[derive(Clone, Debug)]
pub struct NewEntry {
    /// The person's e-mail, or `cli`, `demo`, `import`.
    pub actor: String,
    /// The comune the record belongs to, for the comune's own trail.
    pub comune: Option<String>,
    /// The table or concept (`adhesion`, `pagopa_service`, `blocker`, …).
    pub entity: &'static str,
    /// The record's key, e.g. `072006` or `072006/9/0101100IM/`.
    pub record: String,
    pub action: Action,
    pub changes: Vec<Change>,
    pub reason: Option<String>,
}

/// One stored entry.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, sqlx::FromRow)]
pub struct EntryRow {
    pub seq: i64,
    /// RFC 3339, UTC, whole seconds: stored as text so that the hash is the same on both backends.
    pub at: String,
    pub actor: String,
    pub comune: Option<String>,
    pub entity: String,
    pub record: String,
    pub action: String,
    /// The JSON array of [`Change`]s, exactly as hashed.
    pub changes: String,
    pub reason: Option<String>,
    pub prev_hash: String,
    pub hash: String,
}

impl EntryRow {
    /// The SHA-256 (lower-case hex) of the entry's canonical JSON: every column but `hash`, in a
    /// fixed order. Changing any of them, or the previous entry, changes it.
    pub fn compute_hash(&self) -> String {
        #[derive(Serialize)]
        struct Canonical<'a> {
            seq: i64,
            at: &'a str,
            actor: &'a str,
            comune: Option<&'a str>,
            entity: &'a str,
            record: &'a str,
            action: &'a str,
            changes: &'a str,
            reason: Option<&'a str>,
            prev_hash: &'a str,
        }
        let canonical = Canonical {
            seq: self.seq,
            at: &self.at,
            actor: &self.actor,
            comune: self.comune.as_deref(),
            entity: &self.entity,
            record: &self.record,
            action: &self.action,
            changes: &self.changes,
            reason: self.reason.as_deref(),
            prev_hash: &self.prev_hash,
        };
        let json = serde_json::to_vec(&canonical).expect("plain strings serialise");
        format!("{:x}", Sha256::digest(json))
    }

    /// The changes, decoded (an unreadable column shows as no change: `verify` reports it).
    pub fn change_list(&self) -> Vec<Change> {
        serde_json::from_str(&self.changes).unwrap_or_default()
    }
}

/// The entry that would follow `last` (`None`: the trail is empty).
pub fn next_entry(last: Option<(i64, String)>, entry: &NewEntry, at: String) -> EntryRow {
    let (seq, prev_hash) = match last {
        Some((seq, hash)) => (seq + 1, hash),
        None => (1, GENESIS.to_string()),
    };
    let mut row = EntryRow {
        seq,
        at,
        actor: entry.actor.clone(),
        comune: entry.comune.clone(),
        entity: entry.entity.to_string(),
        record: entry.record.clone(),
        action: entry.action.code().to_string(),
        changes: serde_json::to_string(&entry.changes).expect("plain strings serialise"),
        reason: entry.reason.clone().filter(|r| !r.trim().is_empty()),
        prev_hash,
        hash: String::new(),
    };
    row.hash = row.compute_hash();
    row
}

/// `app_meta.dataset` of a database loaded by `traguardi demo` (the "Dati dimostrativi" label).
pub const DEMO_DATASET: &str = "demo";
/// `app_meta.dataset` once the database holds anything real: it never goes back.
pub const REAL_DATASET: &str = "real";

/// Now, as the trail writes it.
pub fn now_rfc3339() -> String {
    chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// The two things every writing transaction does, on either backend's connection.
#[allow(async_fn_in_trait)] // only called on the two concrete connection types below
pub trait WriteTx {
    /// The first statement of every writing transaction: bumps `data_version`, which takes the
    /// write lock (see the module's documentation).
    async fn lock_for_write(&mut self) -> Result<(), sqlx::Error>;
    /// The same lock for a transaction that only appends to the trail (a download): the row is
    /// locked by an update that leaves `data_version` as it is, so the caches stay valid.
    async fn lock_trail(&mut self) -> Result<(), sqlx::Error>;
    /// Appends `entry` to the trail; returns its sequence number.
    async fn append(&mut self, entry: &NewEntry) -> Result<i64, sqlx::Error>;
    /// Records that the database now holds something real (`cause`, in Italian, for the trail):
    /// a demo database stops being one in this same transaction, so its demo accounts, whose
    /// passwords are published, are removed with their sessions and the "Dati dimostrativi"
    /// label goes. Afterwards `traguardi demo` refuses the database. Returns whether a demo
    /// ended here. Call it after [`WriteTx::lock_for_write`], so the label's caches refresh.
    async fn mark_real(&mut self, actor: &str, cause: &str) -> Result<bool, sqlx::Error>;
}

macro_rules! impl_write_tx {
    ($conn:ty) => {
        impl WriteTx for $conn {
            async fn lock_for_write(&mut self) -> Result<(), sqlx::Error> {
                sqlx::query(BUMP_DATA_VERSION).execute(&mut *self).await.map(|_| ())
            }

            async fn lock_trail(&mut self) -> Result<(), sqlx::Error> {
                sqlx::query(LOCK_DATA_VERSION).execute(&mut *self).await.map(|_| ())
            }

            async fn append(&mut self, entry: &NewEntry) -> Result<i64, sqlx::Error> {
                let last: Option<(i64, String)> =
                    sqlx::query_as("SELECT seq, hash FROM audit_entry ORDER BY seq DESC LIMIT 1")
                        .fetch_optional(&mut *self)
                        .await?;
                let row = next_entry(last, entry, now_rfc3339());
                sqlx::query(
                    "INSERT INTO audit_entry (seq, at, actor, comune, entity, record, action, changes, reason, \
                     prev_hash, hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
                )
                .bind(row.seq)
                .bind(&row.at)
                .bind(&row.actor)
                .bind(&row.comune)
                .bind(&row.entity)
                .bind(&row.record)
                .bind(&row.action)
                .bind(&row.changes)
                .bind(&row.reason)
                .bind(&row.prev_hash)
                .bind(&row.hash)
                .execute(&mut *self)
                .await?;
                sqlx::query(
                    "INSERT INTO app_meta (key, value) VALUES ('audit_head', $1) \
                     ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                )
                .bind(format!("{}:{}", row.seq, row.hash))
                .execute(&mut *self)
                .await?;
                Ok(row.seq)
            }

            async fn mark_real(&mut self, actor: &str, cause: &str) -> Result<bool, sqlx::Error> {
                let dataset: Option<String> =
                    sqlx::query_scalar("SELECT value FROM app_meta WHERE key = 'dataset'")
                        .fetch_optional(&mut *self)
                        .await?;
                match dataset.as_deref() {
                    Some(REAL_DATASET) => return Ok(false),
                    Some(DEMO_DATASET) => {}
                    _ => {
                        sqlx::query("INSERT INTO app_meta (key, value) VALUES ('dataset', $1)")
                            .bind(REAL_DATASET)
                            .execute(&mut *self)
                            .await?;
                        return Ok(false);
                    }
                }
                // Sessions first: the cascade would do it, but this does not rely on SQLite's
                // foreign-key pragma being on.
                sqlx::query("DELETE FROM user_session WHERE user_id IN (SELECT id FROM app_user WHERE demo)")
                    .execute(&mut *self)
                    .await?;
                sqlx::query("DELETE FROM user_comune WHERE user_id IN (SELECT id FROM app_user WHERE demo)")
                    .execute(&mut *self)
                    .await?;
                let mut removed: Vec<String> =
                    sqlx::query_scalar("DELETE FROM app_user WHERE demo RETURNING email")
                        .fetch_all(&mut *self)
                        .await?;
                removed.sort();
                sqlx::query("UPDATE app_meta SET value = $1 WHERE key = 'dataset'")
                    .bind(REAL_DATASET)
                    .execute(&mut *self)
                    .await?;
                self.append(&NewEntry {
                    actor: actor.to_string(),
                    comune: None,
                    entity: "dataset",
                    record: "dati dimostrativi".into(),
                    action: Action::Update,
                    changes: diff(vec![
                        ("dati dimostrativi", Some("sì".into()), Some("no".into())),
                        ("account dimostrativi rimossi", None, Some(removed.join(" ")).filter(|r| !r.is_empty())),
                    ]),
                    reason: Some(format!("Il database contiene dati reali: {cause}")),
                })
                .await?;
                Ok(true)
            }
        }
    };
}
impl_write_tx!(sqlx::SqliteConnection);
impl_write_tx!(sqlx::PgConnection);

/// A signed statement that entry `seq` had hash `hash` (see `crate::audit`): kept in the
/// `audit_checkpoint` table and, exported, outside the database.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, sqlx::FromRow)]
pub struct Checkpoint {
    pub seq: i64,
    pub hash: String,
    /// When it was signed (RFC 3339, UTC).
    pub at: String,
    /// The Ed25519 public key that signed it (hex): which key to trust is the verifier's choice.
    pub public_key: String,
    /// The Ed25519 signature (hex) of `crate::audit::signed_message`.
    pub signature: String,
}

/// Checks a checkpoint's signature (`Err`: why it cannot be trusted, completing "the checkpoint
/// of entry N …"). The data layer reads; the caller knows the keys.
pub type SignatureCheck<'a> = dyn Fn(&Checkpoint) -> Result<(), String> + Sync + 'a;

/// What [`verify`] found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verification {
    /// Entries read (before the broken one, if any).
    pub entries: i64,
    /// The first entry that does not hold, and why (`None`: the chain is whole).
    pub broken: Option<(i64, String)>,
    /// Checkpoints (stored and exported) whose signature was accepted and whose entry still has
    /// the signed hash.
    pub checkpoints: i64,
    /// The last entry read, `(seq, hash)`.
    pub last: Option<(i64, String)>,
}

/// Entries read per query while verifying: memory stays flat however long the trail is.
const VERIFY_CHUNK: i64 = 5_000;

/// Walks the whole chain in order: sequence without gaps, each `prev_hash` equal to the previous
/// entry's hash, each hash equal to the one recomputed, and the last entry equal to the head.
/// Stored checkpoints are compared by hash only (their signatures are not checked here: see
/// [`verify_with`]).
pub async fn verify(db: &Db) -> Result<Verification, sqlx::Error> {
    verify_with(db, &|_| Ok(()), &[]).await
}

/// [`verify`], and every checkpoint (stored, and `exported`: a copy kept elsewhere) must pass
/// `check` and name an entry that still has the signed hash.
///
/// Everything is read in one read transaction with snapshot semantics (PostgreSQL: REPEATABLE
/// READ; SQLite: a deferred transaction, whose first SELECT fixes the WAL snapshot), so writes
/// committed meanwhile are not seen: before, the chain was read in batches and the head
/// afterwards, and a write committed in between read as "the last entries were removed".
pub async fn verify_with(
    db: &Db,
    check: &SignatureCheck<'_>,
    exported: &[Checkpoint],
) -> Result<Verification, sqlx::Error> {
    walk(db, check, exported, None).await
}

/// For a new checkpoint under `public_key`: from that key's newest stored checkpoint (whose
/// signature must pass `check`) to the end of the trail, in one snapshot, the entry at the
/// checkpoint must still have the signed hash and every later entry must follow; `last` is the
/// entry to sign. Entries before the checkpoint are vouched for by its hash.
pub async fn verify_since_checkpoint(
    db: &Db,
    check: &SignatureCheck<'_>,
    public_key: &str,
) -> Result<(Verification, Option<Checkpoint>), sqlx::Error> {
    let mut anchor = None;
    let v = walk(db, check, &[], Some((public_key, &mut anchor))).await?;
    Ok((v, anchor))
}

/// The read transaction's first statement, on PostgreSQL (SQLite's deferred `BEGIN` already
/// reads one snapshot from its first SELECT to its end, in WAL mode).
fn snapshot_statement(db: &Db) -> Option<&'static str> {
    match db {
        Db::Sqlite(_) => None,
        Db::Postgres(_) => Some("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY"),
    }
}

async fn walk(
    db: &Db,
    check: &SignatureCheck<'_>,
    exported: &[Checkpoint],
    mut anchor_key: Option<(&str, &mut Option<Checkpoint>)>,
) -> Result<Verification, sqlx::Error> {
    let snapshot = snapshot_statement(db);
    on_db!(db, pool => {
        let mut tx = pool.begin().await?;
        if let Some(sql) = snapshot {
            sqlx::query(sql).execute(&mut *tx).await?;
        }
        // Every checkpoint, or (for a new one) the newest of the signing key.
        let stored: Vec<Checkpoint> = match anchor_key.as_ref() {
            None => sqlx::query_as(
                "SELECT seq, hash, at, public_key, signature FROM audit_checkpoint ORDER BY seq, public_key",
            )
            .fetch_all(&mut *tx)
            .await?,
            Some((key, _)) => sqlx::query_as(
                "SELECT seq, hash, at, public_key, signature FROM audit_checkpoint WHERE public_key = $1 \
                 ORDER BY seq DESC LIMIT 1",
            )
            .bind(*key)
            .fetch_all(&mut *tx)
            .await?,
        };
        let mut walk = match anchor_key.as_mut() {
            None => Walk::new(check, &stored, exported),
            Some((_, anchor)) => {
                **anchor = stored.first().cloned();
                Walk::anchored(check, stored.first())
            }
        };
        while walk.wants_more() {
            let rows: Vec<EntryRow> = sqlx::query_as(
                "SELECT seq, at, actor, comune, entity, record, action, changes, reason, prev_hash, hash \
                 FROM audit_entry WHERE seq >= $1 ORDER BY seq LIMIT $2",
            )
            .bind(walk.expected_seq)
            .bind(VERIFY_CHUNK)
            .fetch_all(&mut *tx)
            .await?;
            let full = rows.len() as i64 == VERIFY_CHUNK;
            for row in rows {
                if !walk.entry(row) {
                    break;
                }
            }
            if !full {
                break;
            }
        }
        let head: Option<String> = sqlx::query_scalar("SELECT value FROM app_meta WHERE key = 'audit_head'")
            .fetch_optional(&mut *tx)
            .await?;
        tx.rollback().await?;
        Ok(walk.finish(head))
    })
}

/// The chain walk of [`verify_with`], fed entry by entry in order.
struct Walk<'a> {
    expected_seq: i64,
    prev_hash: String,
    entries: i64,
    /// The entry whose `prev_hash` is taken on trust (a checkpoint vouches for what precedes).
    anchor: Option<i64>,
    /// Accepted checkpoints by seq, with where they come from.
    by_seq: std::collections::BTreeMap<i64, Vec<(&'a Checkpoint, &'static str)>>,
    /// Checkpoints that cannot be trusted (signature, key), by seq.
    problems: Vec<(i64, String)>,
    /// Exported checkpoints missing from the table: reported only when the trail itself
    /// agrees with every checkpoint (what was rewritten matters more).
    missing: Vec<(i64, String)>,
    /// The entry up to which the trail matched an earlier checkpoint.
    last_matched: i64,
    checkpoints: i64,
    broken: Option<(i64, String)>,
}

impl<'a> Walk<'a> {
    fn new(check: &SignatureCheck<'_>, stored: &'a [Checkpoint], exported: &'a [Checkpoint]) -> Walk<'a> {
        let mut walk = Walk::start(1, GENESIS.to_string(), None);
        for (list, source) in [(stored, "in the database"), (exported, "in the exported file")] {
            for c in list {
                match check(c) {
                    Ok(()) => walk.by_seq.entry(c.seq).or_default().push((c, source)),
                    Err(why) => walk
                        .problems
                        .push((c.seq, format!("the checkpoint of entry {} {source} {why}", c.seq))),
                }
            }
        }
        // A set: a year of checkpoints every 15 minutes is some 35,000 of each.
        let kept: std::collections::HashSet<(i64, &str, &str)> =
            stored.iter().map(|s| (s.seq, s.public_key.as_str(), s.signature.as_str())).collect();
        for c in exported {
            if !kept.contains(&(c.seq, c.public_key.as_str(), c.signature.as_str())) {
                walk.missing.push((
                    c.seq,
                    format!(
                        "the checkpoint of entry {} signed at {} is in the exported file but not in the database \
                         (the checkpoint table was altered)",
                        c.seq, c.at
                    ),
                ));
            }
        }
        walk.problems.sort_by_key(|(seq, _)| *seq);
        walk.missing.sort_by_key(|(seq, _)| *seq);
        walk
    }

    /// From `anchor` (none: from the first entry); its signature must pass `check`.
    fn anchored(check: &SignatureCheck<'_>, anchor: Option<&'a Checkpoint>) -> Walk<'a> {
        let Some(c) = anchor else {
            return Walk::start(1, GENESIS.to_string(), None);
        };
        let mut walk = Walk::start(c.seq, String::new(), Some(c.seq));
        match check(c) {
            Ok(()) => walk.by_seq.entry(c.seq).or_default().push((c, "in the database")),
            Err(why) => {
                walk.broken = Some((c.seq, format!("the newest checkpoint (entry {}) {why}", c.seq)));
            }
        }
        walk
    }

    fn start(expected_seq: i64, prev_hash: String, anchor: Option<i64>) -> Walk<'a> {
        Walk {
            expected_seq,
            prev_hash,
            entries: 0,
            anchor,
            by_seq: Default::default(),
            problems: Vec::new(),
            missing: Vec::new(),
            last_matched: 0,
            checkpoints: 0,
            broken: None,
        }
    }

    fn wants_more(&self) -> bool {
        self.broken.is_none()
    }

    /// Takes the next entry; `false` once something does not hold.
    fn entry(&mut self, row: EntryRow) -> bool {
        let prev_hash =
            if self.anchor == Some(row.seq) { row.prev_hash.clone() } else { self.prev_hash.clone() };
        if let Some(reason) = check_entry(&row, self.expected_seq, &prev_hash) {
            self.broken = Some((row.seq.min(self.expected_seq), reason));
            return false;
        }
        if let Some(signed) = self.by_seq.get(&row.seq) {
            for (c, source) in signed {
                if c.hash != row.hash {
                    let from = self.last_matched + 1;
                    let range = if from == row.seq {
                        format!("entry {from} was rewritten")
                    } else {
                        format!("the trail was rewritten among entries {from}–{}", row.seq)
                    };
                    self.broken = Some((
                        row.seq,
                        format!(
                            "its hash is not the one of the checkpoint signed at {} {source}: {range}, and every \
                             later hash recomputed",
                            c.at
                        ),
                    ));
                    return false;
                }
                self.checkpoints += 1;
            }
            self.last_matched = row.seq;
        }
        if let Some((seq, reason)) = self.problems.first().filter(|(seq, _)| *seq <= row.seq) {
            self.broken = Some((*seq, reason.clone()));
            return false;
        }
        self.entries += 1;
        self.expected_seq = row.seq + 1;
        self.prev_hash = row.hash;
        true
    }

    fn finish(mut self, head: Option<String>) -> Verification {
        let last = (self.expected_seq > 1 && !self.prev_hash.is_empty())
            .then(|| (self.expected_seq - 1, self.prev_hash.clone()));
        if self.broken.is_none() && self.entries == 0 {
            if let Some(seq) = self.anchor {
                // The checkpointed entry itself is gone.
                self.broken = Some((
                    seq,
                    format!(
                        "entry {seq} is missing, but the newest checkpoint vouches for the trail up to it"
                    ),
                ));
            }
        }
        if self.broken.is_none() {
            let read = last.as_ref().map(|(seq, hash)| format!("{seq}:{hash}"));
            if head != read {
                let reason = match &head {
                    Some(h) => {
                        format!("the trail ends before its recorded head {h}: its last entries were removed")
                    }
                    None => "the trail has entries but no recorded head".to_string(),
                };
                self.broken = Some((self.expected_seq, reason));
            }
        }
        if self.broken.is_none() {
            // A checkpoint beyond the end: the newest entries went, head and all.
            if let Some((c, source)) = self.by_seq.range(self.expected_seq..).flat_map(|(_, v)| v).next() {
                self.broken = Some((
                    self.expected_seq,
                    format!(
                        "entry {} is missing, but the checkpoint signed at {} {source} vouches for the trail up to \
                         entry {}: the newest entries were removed",
                        self.expected_seq, c.at, c.seq
                    ),
                ));
            }
        }
        if self.broken.is_none() {
            self.broken = self.problems.into_iter().next();
        }
        if self.broken.is_none() {
            self.broken = self.missing.into_iter().next();
        }
        Verification { entries: self.entries, broken: self.broken, checkpoints: self.checkpoints, last }
    }
}

/// Adds a checkpoint (one already stored for that entry and key is kept as it is).
pub async fn add_checkpoint(db: &Db, c: &Checkpoint) -> Result<(), sqlx::Error> {
    on_db!(db, pool => sqlx::query(
        "INSERT INTO audit_checkpoint (seq, hash, at, public_key, signature) VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT (seq, public_key) DO NOTHING",
    )
    .bind(c.seq)
    .bind(&c.hash)
    .bind(&c.at)
    .bind(&c.public_key)
    .bind(&c.signature)
    .execute(pool)
    .await
    .map(|_| ()))
}

/// Every stored checkpoint, oldest first.
pub async fn checkpoints(db: &Db) -> Result<Vec<Checkpoint>, sqlx::Error> {
    on_db!(db, pool => sqlx::query_as::<_, Checkpoint>(
        "SELECT seq, hash, at, public_key, signature FROM audit_checkpoint ORDER BY seq, public_key",
    )
    .fetch_all(pool)
    .await)
}

/// Why `row` does not follow the entry before it, if it does not.
pub fn check_entry(row: &EntryRow, expected_seq: i64, prev_hash: &str) -> Option<String> {
    if row.seq != expected_seq {
        return Some(format!("entry {expected_seq} is missing (the next one found is {})", row.seq));
    }
    if row.prev_hash != prev_hash {
        return Some("its prev_hash does not match the previous entry's hash".to_string());
    }
    if serde_json::from_str::<Vec<Change>>(&row.changes).is_err() {
        return Some("its changes are not a valid list of changes".to_string());
    }
    if row.compute_hash() != row.hash {
        return Some("its content does not match its hash (the entry was altered)".to_string());
    }
    None
}

/// A page of the trail, newest first: of one comune, or all of it. `before` is the `seq` to
/// start below (keyset pagination: the same cost on page 1 and page 1,000). `hidden` are the
/// kinds of record (`entity`) the reader may not see, left out by the query itself so that a page
/// is always full and the count never tells they exist; the caller takes them from
/// `auth::hidden_trail_entities`, the one rule of who reads which entries. They are constants
/// of the code, never request input.
pub async fn list(
    db: &Db,
    comune: Option<&str>,
    before: Option<i64>,
    limit: i64,
    hidden: &[&'static str],
) -> Result<Vec<EntryRow>, sqlx::Error> {
    let before = before.unwrap_or(i64::MAX);
    debug_assert!(hidden.iter().all(|e| e.bytes().all(|b| b.is_ascii_lowercase() || b == b'_')));
    let hidden = if hidden.is_empty() {
        String::new()
    } else {
        format!(
            " AND entity NOT IN ({})",
            hidden.iter().map(|e| format!("'{e}'")).collect::<Vec<_>>().join(", ")
        )
    };
    on_db!(db, pool => match comune {
        Some(c) => sqlx::query_as::<_, EntryRow>(&format!(
            "SELECT seq, at, actor, comune, entity, record, action, changes, reason, prev_hash, hash \
             FROM audit_entry WHERE comune = $1 AND seq < $2{hidden} ORDER BY seq DESC LIMIT $3",
        ))
        .bind(c)
        .bind(before)
        .bind(limit)
        .fetch_all(pool)
        .await,
        None => sqlx::query_as::<_, EntryRow>(&format!(
            "SELECT seq, at, actor, comune, entity, record, action, changes, reason, prev_hash, hash \
             FROM audit_entry WHERE seq < $1{hidden} ORDER BY seq DESC LIMIT $2",
        ))
        .bind(before)
        .bind(limit)
        .fetch_all(pool)
        .await,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(record: &str) -> NewEntry {
        NewEntry {
            actor: "demo.regione@traguardi.invalid".into(),
            comune: Some("072006".into()),
            entity: "adhesion",
            record: record.into(),
            action: Action::Update,
            changes: diff(vec![
                ("status", Some("aderente".into()), Some("rinuncia".into())),
                ("adhesion_date", Some("2021-01-10".into()), Some("2021-01-10".into())),
            ]),
            reason: Some("delibera n. 12".into()),
        }
    }

    #[test]
    fn diff_keeps_only_the_fields_that_changed() {
        let e = entry("072006");
        assert_eq!(e.changes.len(), 1);
        assert_eq!(e.changes[0].field, "status");
    }

    #[test]
    fn entries_chain_and_any_edit_breaks_the_chain() {
        let first = next_entry(None, &entry("a"), "2026-11-26T10:00:00Z".into());
        assert_eq!(first.seq, 1);
        assert_eq!(first.prev_hash, GENESIS);
        let second =
            next_entry(Some((first.seq, first.hash.clone())), &entry("b"), "2026-11-26T10:01:00Z".into());
        assert_eq!(second.seq, 2);
        assert_eq!(second.prev_hash, first.hash);
        assert_eq!(check_entry(&first, 1, GENESIS), None);
        assert_eq!(check_entry(&second, 2, &first.hash), None);

        let mut edited = second.clone();
        edited.actor = "someone.else@example.org".into();
        assert!(check_entry(&edited, 2, &first.hash).unwrap().contains("altered"));
        let mut rehashed = edited.clone();
        rehashed.hash = rehashed.compute_hash();
        // Re-hashing an edited entry does not help: the next entry's prev_hash no longer matches.
        let third =
            next_entry(Some((second.seq, second.hash.clone())), &entry("c"), "2026-11-26T10:02:00Z".into());
        assert!(check_entry(&third, 3, &rehashed.hash).unwrap().contains("prev_hash"));
        // A deleted entry is a gap.
        assert!(check_entry(&third, 2, &first.hash).unwrap().contains("missing"));
    }

    #[test]
    fn the_hash_covers_every_column() {
        let base = next_entry(None, &entry("a"), "2026-11-26T10:00:00Z".into());
        type Edit = Box<dyn Fn(&mut EntryRow)>;
        let variants: Vec<Edit> = vec![
            Box::new(|r| r.at = "2026-11-26T10:00:01Z".into()),
            Box::new(|r| r.comune = None),
            Box::new(|r| r.entity = "blocker".into()),
            Box::new(|r| r.record = "b".into()),
            Box::new(|r| r.action = "delete".into()),
            Box::new(|r| r.changes = "[]".into()),
            Box::new(|r| r.reason = None),
            Box::new(|r| r.seq = 2),
        ];
        for change in variants {
            let mut r = base.clone();
            change(&mut r);
            assert_ne!(r.compute_hash(), base.hash);
        }
    }
}
