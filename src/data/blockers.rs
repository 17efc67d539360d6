//! Blockers across comuni (table `blocker`), for `/scadenze`. Reads only; open until
//! `resolved_on`. One comune's blockers and the writes are in `data::workspace`.
//! Not public data: callers check who is asking.

use chrono::NaiveDate;

use super::{on_db, Db};

/// One stored blocker.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct BlockerRow {
    pub id: i64,
    pub comune: String,
    /// A [`crate::scadenze::BlockerCategory`] code (the table's CHECK allows no other).
    pub category: String,
    pub description: String,
    pub opened_on: NaiveDate,
    pub resolved_on: Option<NaiveDate>,
}

const COLUMNS: &str = "id, comune, category, description, opened_on, resolved_on";

/// The blockers of `programme` open on `day`, for every comune, in one query: opened on or
/// before `day` and not resolved by then (a blocker resolved on `day` is no longer open).
/// Ordered by comune, then oldest first.
pub async fn open_on(db: &Db, programme: &str, day: NaiveDate) -> Result<Vec<BlockerRow>, sqlx::Error> {
    let sql = format!(
        "SELECT {COLUMNS} FROM blocker \
         WHERE programme = $1 AND opened_on <= $2 AND (resolved_on IS NULL OR resolved_on > $2) \
         ORDER BY comune, opened_on, id"
    );
    on_db!(db, pool => sqlx::query_as::<_, BlockerRow>(&sql)
        .bind(programme)
        .bind(day)
        .fetch_all(pool)
        .await)
}

/// Every blocker of `programme`, open or resolved, for every comune, in one query; by comune,
/// then oldest first. For exports, which keep only the comuni the person may read.
pub async fn all(db: &Db, programme: &str) -> Result<Vec<BlockerRow>, sqlx::Error> {
    let sql = format!("SELECT {COLUMNS} FROM blocker WHERE programme = $1 ORDER BY comune, opened_on, id");
    on_db!(db, pool => sqlx::query_as::<_, BlockerRow>(&sql).bind(programme).fetch_all(pool).await)
}
