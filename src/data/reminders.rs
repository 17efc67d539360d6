//! Reminders by e-mail (tables `reminder_message`, `reminder_optout`): the queue, its log and
//! who turned what off. Private data: callers check who is asking. Times are Unix seconds.

use super::{on_db, Db};
use crate::reminders::plan::Planned;

/// One recorded message.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct MessageRow {
    pub id: i64,
    pub dedup_key: String,
    pub user_id: i64,
    pub recipient: String,
    pub kind: String,
    pub occasion: String,
    pub comune: Option<String>,
    pub day: String,
    pub subject: String,
    pub body: String,
    pub status: String,
    pub attempts: i64,
    pub next_attempt_at: i64,
    pub last_error: Option<String>,
    pub created_at: i64,
    pub sent_at: Option<i64>,
}

const COLUMNS: &str =
    "id, dedup_key, user_id, recipient, kind, occasion, comune, day, subject, body, status, \
     attempts, next_attempt_at, last_error, created_at, sent_at";

/// Records `messages` as waiting, in one transaction; a key already recorded (by an earlier run,
/// before a restart, or by another instance) is left as it is. Returns how many were new.
pub async fn enqueue(db: &Db, messages: &[Planned], now: i64) -> Result<u64, sqlx::Error> {
    on_db!(db, pool => {
        let mut tx = pool.begin().await?;
        let mut added = 0;
        for m in messages {
            added += sqlx::query(
                "INSERT INTO reminder_message (dedup_key, user_id, recipient, kind, occasion, comune, day, subject, \
                 body, status, attempts, next_attempt_at, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'in_coda', 0, $10, $10) \
                 ON CONFLICT (dedup_key) DO NOTHING",
            )
            .bind(&m.key)
            .bind(m.user_id)
            .bind(&m.recipient)
            .bind(m.kind.code())
            .bind(&m.occasion)
            .bind(&m.comune)
            .bind(m.day.to_string())
            .bind(&m.subject)
            .bind(&m.body)
            .bind(now)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        }
        tx.commit().await?;
        Ok(added)
    })
}

/// Which of `keys` are recorded already (the preview marks them).
pub async fn recorded_keys(db: &Db, day: &str) -> Result<Vec<String>, sqlx::Error> {
    on_db!(db, pool => sqlx::query_scalar("SELECT dedup_key FROM reminder_message WHERE day = $1")
        .bind(day)
        .fetch_all(pool)
        .await)
}

/// Claims up to `limit` waiting messages whose time has come, for this sender alone: each is
/// moved to `invio` by a conditional update, so two instances never both take one.
pub async fn claim_due(db: &Db, now: i64, limit: i64) -> Result<Vec<MessageRow>, sqlx::Error> {
    let sql = format!(
        "SELECT {COLUMNS} FROM reminder_message WHERE status = 'in_coda' AND next_attempt_at <= $1 \
         ORDER BY next_attempt_at, id LIMIT $2"
    );
    on_db!(db, pool => {
        let candidates = sqlx::query_as::<_, MessageRow>(&sql).bind(now).bind(limit).fetch_all(pool).await?;
        let mut claimed = Vec::new();
        for m in candidates {
            let taken = sqlx::query(
                "UPDATE reminder_message SET status = 'invio', claimed_at = $2 WHERE id = $1 AND status = 'in_coda'",
            )
            .bind(m.id)
            .bind(now)
            .execute(pool)
            .await?
            .rows_affected();
            if taken == 1 {
                claimed.push(m);
            }
        }
        Ok(claimed)
    })
}

/// The SMTP server accepted message `id`.
pub async fn mark_sent(db: &Db, id: i64, now: i64) -> Result<(), sqlx::Error> {
    on_db!(db, pool => sqlx::query(
        "UPDATE reminder_message SET status = 'inviato', sent_at = $2, attempts = attempts + 1, last_error = NULL \
         WHERE id = $1",
    )
    .bind(id)
    .bind(now)
    .execute(pool)
    .await
    .map(|_| ()))
}

/// A failed attempt: back to the queue for `retry_at`, or given up (`retry_at` `None`).
pub async fn mark_failed(db: &Db, id: i64, error: &str, retry_at: Option<i64>) -> Result<(), sqlx::Error> {
    let (status, at) = match retry_at {
        Some(at) => ("in_coda", at),
        None => ("fallito", 0),
    };
    on_db!(db, pool => sqlx::query(
        "UPDATE reminder_message SET status = $2, attempts = attempts + 1, last_error = $3, \
         next_attempt_at = CASE WHEN $4 > 0 THEN $4 ELSE next_attempt_at END WHERE id = $1",
    )
    .bind(id)
    .bind(status)
    .bind(error)
    .bind(at)
    .execute(pool)
    .await
    .map(|_| ()))
}

/// Messages claimed before `cutoff` and never marked: their sender stopped mid-send. Whether the
/// SMTP server got them is unknown, and sending again could deliver twice: they are given up and
/// reported instead. Returns how many.
pub async fn give_up_interrupted(db: &Db, cutoff: i64) -> Result<u64, sqlx::Error> {
    on_db!(db, pool => sqlx::query(
        "UPDATE reminder_message SET status = 'fallito', \
         last_error = 'invio interrotto (riavvio del server): non ripetuto per non recapitarlo due volte' \
         WHERE status = 'invio' AND claimed_at < $1",
    )
    .bind(cutoff)
    .execute(pool)
    .await
    .map(|r| r.rows_affected()))
}

/// The latest `limit` messages, newest first (the Region's log).
pub async fn latest(db: &Db, limit: i64) -> Result<Vec<MessageRow>, sqlx::Error> {
    let sql = format!("SELECT {COLUMNS} FROM reminder_message ORDER BY created_at DESC, id DESC LIMIT $1");
    on_db!(db, pool => sqlx::query_as::<_, MessageRow>(&sql).bind(limit).fetch_all(pool).await)
}

/// The latest `limit` messages about one comune, newest first (its trail).
pub async fn of_comune(db: &Db, comune: &str, limit: i64) -> Result<Vec<MessageRow>, sqlx::Error> {
    let sql = format!(
        "SELECT {COLUMNS} FROM reminder_message WHERE comune = $1 ORDER BY created_at DESC, id DESC LIMIT $2"
    );
    on_db!(db, pool => sqlx::query_as::<_, MessageRow>(&sql).bind(comune).bind(limit).fetch_all(pool).await)
}

/// Messages per status, for the log page's counts and the metrics.
pub async fn status_counts(db: &Db) -> Result<Vec<(String, i64)>, sqlx::Error> {
    on_db!(db, pool => sqlx::query_as::<_, (String, i64)>(
        "SELECT status, COUNT(*) FROM reminder_message GROUP BY status ORDER BY status",
    )
    .fetch_all(pool)
    .await)
}

/// Every opt-out: (person, kind code).
pub async fn optouts(db: &Db) -> Result<Vec<(i64, String)>, sqlx::Error> {
    on_db!(db, pool => sqlx::query_as::<_, (i64, String)>("SELECT user_id, kind FROM reminder_optout")
        .fetch_all(pool)
        .await)
}

/// The kinds one person turned off.
pub async fn optouts_of(db: &Db, user_id: i64) -> Result<Vec<String>, sqlx::Error> {
    on_db!(db, pool => sqlx::query_scalar("SELECT kind FROM reminder_optout WHERE user_id = $1 ORDER BY kind")
        .bind(user_id)
        .fetch_all(pool)
        .await)
}

/// Replaces one person's opt-outs with `off` (kind codes), in one transaction.
pub async fn set_optouts(db: &Db, user_id: i64, off: &[&str]) -> Result<(), sqlx::Error> {
    on_db!(db, pool => {
        let mut tx = pool.begin().await?;
        sqlx::query("DELETE FROM reminder_optout WHERE user_id = $1").bind(user_id).execute(&mut *tx).await?;
        for kind in off {
            sqlx::query("INSERT INTO reminder_optout (user_id, kind) VALUES ($1, $2)")
                .bind(user_id)
                .bind(*kind)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await
    })
}
