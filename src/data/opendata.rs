//! What the open-data catalogue reads besides the snapshot: when the data last changed.

use chrono::NaiveDate;

use super::{audit::Action, on_db, Db};

/// The day of the first entry of the trail (the data's first load, or the first change made
/// here): when the catalogue was first published. `None` on an empty trail. One indexed
/// single-row read (the trail's primary key).
pub async fn first_change(db: &Db) -> Result<Option<NaiveDate>, sqlx::Error> {
    let at = on_db!(db, pool => {
        sqlx::query_scalar::<_, String>("SELECT at FROM audit_entry ORDER BY seq LIMIT 1")
            .fetch_optional(pool)
            .await?
    });
    Ok(day_of(at))
}

/// The day an ISO text starts with (an RFC 3339 time or a date).
fn day_of(text: Option<String>) -> Option<NaiveDate> {
    text.and_then(|s| NaiveDate::parse_from_str(s.get(..10)?, "%Y-%m-%d").ok())
}

/// The day of the last change to the data: the latest entry of the trail that changed something
/// (downloads are recorded there too but change nothing) or the latest count snapshot, whichever
/// is later; `None` on an empty database. Two indexed single-row reads (the trail's primary key
/// backwards, `service_count`'s maximum).
pub async fn last_change(db: &Db) -> Result<Option<NaiveDate>, sqlx::Error> {
    let (at, day) = on_db!(db, pool => {
        let at = sqlx::query_scalar::<_, String>(
            "SELECT at FROM audit_entry WHERE action <> $1 ORDER BY seq DESC LIMIT 1",
        )
        .bind(Action::Download.code())
        .fetch_optional(pool)
        .await?;
        let day = sqlx::query_scalar::<_, Option<String>>("SELECT CAST(MAX(day) AS TEXT) FROM service_count")
            .fetch_one(pool)
            .await?;
        (at, day)
    });
    // Both are ISO text: the trail's RFC 3339 time starts with the day.
    Ok(day_of(at).max(day_of(day)))
}
