//! The server-only data layer: one [`Db`] handle over SQLite (the embedded default) or
//! PostgreSQL (the scale-out backend), and plain async functions that load and store rows.
//!
//! Every query is written once in portable SQL (`$1` placeholders work on both drivers) and run
//! through [`on_db!`], which monomorphises the same code for each pool. Queries are set-based:
//! loading a programme's facts for all comuni costs a handful of queries, whatever their number.

use std::{str::FromStr, time::Duration};

use anyhow::Context;
use sqlx::{
    postgres::PgPoolOptions,
    sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions},
    PgPool, SqlitePool,
};

pub mod accounts;
pub mod audit;
pub mod blockers;
pub mod evidence;
pub mod facts;
pub mod feedback;
pub mod imports;
pub mod opendata;
pub mod pnrr;
pub mod programme;
pub mod registry;
pub mod reminders;
pub mod workspace;

/// A connection pool to one of the two supported databases.
#[derive(Clone, Debug)]
pub enum Db {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// Runs `$body` with `$pool` bound to the concrete pool, once per backend.
#[macro_export]
macro_rules! on_db {
    ($db:expr, $pool:ident => $body:expr) => {
        match $db {
            $crate::data::Db::Sqlite($pool) => $body,
            $crate::data::Db::Postgres($pool) => $body,
        }
    };
}
pub use on_db;

/// How long a PostgreSQL connection may sit idle in the pool and still be handed out without a
/// ping. Under load connections come back and go out again within milliseconds and are never
/// pinged, so no request can be cancelled in the middle of a ping (which cost the pool its
/// connection); after a quiet spell each one is checked before use, so one that the database or
/// the network ended meanwhile is replaced instead of failing a request.
pub const PG_PING_AFTER_IDLE: Duration = Duration::from_secs(1);

/// The default database: a file under `data/`, created on first start.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://data/traguardi.sqlite";

impl Db {
    /// Connects to `url` (`sqlite://…` or `postgres://…`), creating a SQLite file and its folder
    /// if missing. Any other scheme is a configuration error.
    pub async fn connect(url: &str) -> anyhow::Result<Db> {
        if let Some(rest) = url.strip_prefix("sqlite:") {
            let options = SqliteConnectOptions::from_str(url)
                .with_context(|| format!("DATABASE_URL is not a valid SQLite URL: {url}"))?
                .create_if_missing(true)
                .foreign_keys(true)
                .journal_mode(SqliteJournalMode::Wal)
                .busy_timeout(Duration::from_secs(5));
            let path = rest.trim_start_matches("//").split('?').next().unwrap_or_default();
            if !path.is_empty() && path != ":memory:" {
                if let Some(parent) =
                    std::path::Path::new(path).parent().filter(|p| !p.as_os_str().is_empty())
                {
                    std::fs::create_dir_all(parent)
                        .with_context(|| format!("cannot create the database folder {}", parent.display()))?;
                }
            }
            // No ping before handing out a connection (sqlx pings by default): a SQLite connection
            // lives in this process and cannot be cut by a network, and an acquire cancelled
            // while its ping waits drops the connection it had taken (sqlx's pool, 0.8). Under the
            // soak something cancels acquires, and the pool opened ten connections a second,
            // each a thread of its own living half a second (README, "Soak"); without the ping
            // the taken connection is handed over at once and goes back on drop.
            let pool = SqlitePoolOptions::new()
                .max_connections(8)
                .test_before_acquire(false)
                .connect_with(options)
                .await
                .with_context(|| format!("cannot open the SQLite database {url}"))?;
            Ok(Db::Sqlite(pool))
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            // sqlx pings every connection before handing it out, and an acquire dropped while
            // that ping waits loses the connection (as on SQLite above): under the soak the pool
            // opened seven PostgreSQL sessions a second. A network connection can be cut while
            // it sits idle, so the check stays for connections idle for a while
            // ([`PG_PING_AFTER_IDLE`], as HikariCP's bypass window); a connection just given
            // back was checked then (sqlx pings on release, in a task of its own that no request
            // can cancel), and is handed over at once.
            let pool = PgPoolOptions::new()
                .max_connections(10)
                .acquire_timeout(Duration::from_secs(5))
                .test_before_acquire(false)
                .before_acquire(|conn, meta| {
                    Box::pin(async move {
                        if meta.idle_for >= PG_PING_AFTER_IDLE {
                            sqlx::Connection::ping(conn).await?;
                        }
                        Ok(true)
                    })
                })
                .connect(url)
                .await
                .with_context(|| format!("cannot connect to PostgreSQL at {}", redact(url)))?;
            Ok(Db::Postgres(pool))
        } else {
            anyhow::bail!("DATABASE_URL must start with sqlite:// or postgres:// (got {})", redact(url))
        }
    }

    /// Applies the migrations of this backend. Start-up stops on failure.
    pub async fn migrate(&self) -> anyhow::Result<()> {
        match self {
            Db::Sqlite(pool) => sqlx::migrate!("./migrations/sqlite").run(pool).await,
            Db::Postgres(pool) => sqlx::migrate!("./migrations/postgres").run(pool).await,
        }
        .context("database migration failed")
    }

    /// Connects, migrates and loads the ISTAT registry: what every command needs first.
    pub async fn open(url: &str) -> anyhow::Result<Db> {
        let db = Db::connect(url).await?;
        db.migrate().await?;
        registry::load(&db).await.context("loading the ISTAT registry of comuni failed")?;
        Ok(db)
    }

    pub fn backend(&self) -> &'static str {
        match self {
            Db::Sqlite(_) => "SQLite",
            Db::Postgres(_) => "PostgreSQL",
        }
    }

    /// A trivial round trip, for `/healthz`.
    pub async fn ping(&self) -> Result<(), sqlx::Error> {
        on_db!(self, pool => sqlx::query("SELECT 1").execute(pool).await.map(|_| ()))
    }

    /// Reads one key of `app_meta`.
    pub async fn meta(&self, key: &str) -> Result<Option<String>, sqlx::Error> {
        on_db!(self, pool => sqlx::query_scalar("SELECT value FROM app_meta WHERE key = $1")
            .bind(key)
            .fetch_optional(pool)
            .await)
    }

    /// A number that changes whenever the data changes; caches compare it to know when to
    /// rebuild, also when another process (the CLI) wrote.
    pub async fn data_version(&self) -> Result<i64, sqlx::Error> {
        Ok(self.meta("data_version").await?.and_then(|v| v.parse().ok()).unwrap_or(0))
    }

    /// Whether the database holds the demo dataset (shown as "Dati dimostrativi").
    pub async fn is_demo(&self) -> Result<bool, sqlx::Error> {
        Ok(self.meta("dataset").await?.as_deref() == Some(audit::DEMO_DATASET))
    }

    /// Whether the database holds anything real (see [`audit::WriteTx::mark_real`]): then it is
    /// never a demo again. Also true of a database written before the mark existed that holds
    /// a non-demo account, an applied import or (without the demo mark) programme data.
    pub async fn holds_real_records(&self) -> Result<bool, sqlx::Error> {
        match self.meta("dataset").await?.as_deref() {
            Some(audit::REAL_DATASET) => return Ok(true),
            Some(audit::DEMO_DATASET) => {}
            _ if crate::demo::has_programme_data(self).await? => return Ok(true),
            _ => {}
        }
        let real: i64 = on_db!(self, pool => sqlx::query_scalar(
            "SELECT (SELECT COUNT(*) FROM app_user WHERE NOT demo) \
             + (SELECT COUNT(*) FROM import_batch WHERE status = 'applicata')",
        )
        .fetch_one(pool)
        .await)?;
        Ok(real > 0)
    }
}

/// Takes the write lock on the `data_version` row without changing it (see
/// [`audit::WriteTx::lock_trail`]).
pub const LOCK_DATA_VERSION: &str = "UPDATE app_meta SET value = value WHERE key = 'data_version'";

/// SQL that bumps `data_version` inside a writing transaction.
pub const BUMP_DATA_VERSION: &str = "INSERT INTO app_meta (key, value) VALUES ('data_version', '1') \
     ON CONFLICT (key) DO UPDATE SET value = CAST(CAST(app_meta.value AS BIGINT) + 1 AS TEXT)";

/// Hides the password of a database URL before it is printed.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let creds = &url[scheme + 3..at];
            match creds.find(':') {
                Some(colon) => format!("{}{}:***{}", &url[..scheme + 3], &creds[..colon], &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

/// A fresh SQLite file name in the temporary folder, for tests that need a database file of
/// their own (unique per process and instant).
#[cfg(test)]
pub(crate) fn temp_sqlite_path(label: &str) -> std::path::PathBuf {
    std::env::temp_dir().join(format!(
        "traguardi_{label}_{}_{}.sqlite",
        std::process::id(),
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0)
    ))
}

#[cfg(test)]
mod tests {
    use futures_util::FutureExt;

    use super::{redact, Db};

    /// Waits (at most two seconds) until every open connection of `pool` is back and idle:
    /// connections go back in a spawned task, after sqlx's ping on release.
    async fn settled<DB: sqlx::Database>(pool: &sqlx::Pool<DB>) {
        for _ in 0..200 {
            if pool.num_idle() == pool.size() as usize {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
    }

    /// Takes `n` connections (the pool may hold more, from its migrations), gives them back,
    /// then drops 50 acquires after their first poll, and checks that the pool still holds
    /// every connection it had, all idle.
    async fn cancelled_acquires_keep_the_pool<DB: sqlx::Database>(pool: &sqlx::Pool<DB>, n: u32) {
        let held = futures_util::future::try_join_all((0..n).map(|_| pool.acquire())).await.unwrap();
        drop(held);
        settled(pool).await;
        let size = pool.size();
        assert!(size >= n, "{size} connections open after taking {n}");
        assert_eq!(pool.num_idle(), size as usize);
        for _ in 0..50 {
            // One poll, then the acquire is dropped, whatever state it reached.
            drop(pool.acquire().now_or_never());
            tokio::task::yield_now().await;
        }
        settled(pool).await;
        assert_eq!(pool.size(), size, "connections lost to cancelled acquires");
        assert_eq!(pool.num_idle(), size as usize);
    }

    /// An acquire given up after its first step (a request dropped mid-way, a `select!`) does
    /// not cost the SQLite pool a connection. With sqlx's ping before acquire the first step
    /// took an idle connection and waited for the ping; dropping it there dropped the
    /// connection, and the pool shrank by one each time (8, 7, … 0, then each acquire opened a
    /// new connection and its thread, to lose it again).
    #[tokio::test]
    async fn a_cancelled_acquire_keeps_the_sqlite_connection() {
        let path = super::temp_sqlite_path("pool");
        let db = Db::connect(&format!("sqlite://{}", path.display())).await.unwrap();
        let Db::Sqlite(pool) = &db else { unreachable!("a sqlite:// URL opens SQLite") };
        cancelled_acquires_keep_the_pool(pool, 8).await;
        drop(db);
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
        }
    }

    /// The same on PostgreSQL, where a lost connection is a new session (a process on the
    /// database server, a TCP connection and a sign-in): the soak opened seven a second before
    /// the ping was kept for connections idle a while only.
    #[tokio::test]
    async fn a_cancelled_acquire_keeps_the_postgres_connection() {
        let Some(test) = crate::integration::TestDb::postgres().await else { return };
        let Db::Postgres(pool) = &test.db else { unreachable!("TestDb::postgres opens PostgreSQL") };
        cancelled_acquires_keep_the_pool(pool, 8).await;
        test.drop_db().await;
    }

    /// What the ping before use is kept for: PostgreSQL ends every connection of the pool while
    /// they sit idle (a restart, `pg_terminate_backend`, a network cut), and after a quiet
    /// spell the next requests still get answers, each on a connection checked and, if dead,
    /// replaced. Without any check before use, the first query on each dead connection fails.
    #[tokio::test]
    async fn postgres_connections_ended_while_idle_are_replaced_before_use() {
        use sqlx::Connection;
        let Some(test) = crate::integration::TestDb::postgres().await else { return };
        let Db::Postgres(pool) = &test.db else { unreachable!("TestDb::postgres opens PostgreSQL") };
        let held = futures_util::future::try_join_all((0..4).map(|_| pool.acquire())).await.unwrap();
        drop(held);
        settled(pool).await;
        let mut admin = sqlx::PgConnection::connect(&test.url).await.unwrap();
        let ended: Vec<bool> = sqlx::query_scalar(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
             WHERE datname = current_database() AND pid <> pg_backend_pid()",
        )
        .fetch_all(&mut admin)
        .await
        .unwrap();
        assert!(ended.len() >= 4 && ended.iter().all(|e| *e), "the pool's sessions were ended: {ended:?}");
        admin.close().await.unwrap();
        tokio::time::sleep(super::PG_PING_AFTER_IDLE + std::time::Duration::from_millis(200)).await;
        for i in 0..8 {
            test.db.ping().await.unwrap_or_else(|e| panic!("query {i} after the sessions ended: {e}"));
        }
        test.drop_db().await;
    }

    #[test]
    fn redact_hides_only_the_password() {
        assert_eq!(redact("postgres://u:secret@h:5432/db"), "postgres://u:***@h:5432/db");
        assert_eq!(redact("postgres://u@h/db"), "postgres://u@h/db");
        assert_eq!(redact("sqlite://data/x.sqlite"), "sqlite://data/x.sqlite");
    }
}
