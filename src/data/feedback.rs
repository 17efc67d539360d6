//! Messages of the feedback form (`/feedback`): stored as typed, read back by the Region.
//! Times are Unix seconds (see the migration). No IP address or account is stored with them.

use super::{on_db, Db};
use crate::site::ValidFeedback;

/// One stored message.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct FeedbackRow {
    pub id: i64,
    pub created_at: i64,
    pub page: String,
    pub task: Option<String>,
    pub rating: Option<i64>,
    pub message: String,
    pub email: Option<String>,
}

/// Stores a message; returns its id.
pub async fn insert(db: &Db, feedback: &ValidFeedback, now: i64) -> Result<i64, sqlx::Error> {
    on_db!(db, pool => sqlx::query_scalar::<_, i64>(
        "INSERT INTO feedback (created_at, page, task, rating, message, email) \
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
    )
    .bind(now)
    .bind(&feedback.page)
    .bind(&feedback.task)
    .bind(feedback.rating)
    .bind(&feedback.message)
    .bind(&feedback.email)
    .fetch_one(pool)
    .await)
}

/// One page of the messages, newest first (`limit` rows after `offset`), and how many there are
/// in all.
pub async fn page(db: &Db, limit: usize, offset: usize) -> Result<(Vec<FeedbackRow>, usize), sqlx::Error> {
    let (limit, offset) = crate::paging::sql_bounds(limit, offset);
    on_db!(db, pool => {
        let total: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM feedback").fetch_one(pool).await?;
        let rows = sqlx::query_as::<_, FeedbackRow>(
            "SELECT id, created_at, page, task, rating, message, email FROM feedback \
             ORDER BY created_at DESC, id DESC LIMIT $1 OFFSET $2",
        )
        .bind(limit)
        .bind(offset)
        .fetch_all(pool)
        .await?;
        Ok((rows, usize::try_from(total).unwrap_or(0)))
    })
}

/// How many messages are stored.
pub async fn count(db: &Db) -> Result<i64, sqlx::Error> {
    on_db!(db, pool => sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM feedback").fetch_one(pool).await)
}
