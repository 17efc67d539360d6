//! Backup and restore (`traguardi backup FILE`, `traguardi restore FILE`): one zip archive with
//! every table's rows in a portable form, the evidence files, and a manifest.
//!
//! **What the archive holds.** `manifest.json` (format version, the migration version the rows
//! belong to, creation time, source backend, each table with its columns, row count and the
//! SHA-256 of its file, each evidence file with its size and SHA-256, the audit trail's head);
//! `tables/<table>.jsonl`, one JSON object a row, keys sorted, values typed the same way on both
//! backends (integers as numbers, booleans as `true`/`false`, text and dates as strings — dates
//! `YYYY-MM-DD`, as SQLite stores them and PostgreSQL prints them — bytes as base64), rows in
//! primary-key order with text compared byte by byte: the same data gives the same table files
//! from SQLite and from PostgreSQL; `objects/<storage key>`, each evidence file as stored.
//! The audit trail and its checkpoints are rows like the others: their text columns (times
//! included) are copied byte for byte, so every hash of the chain and every signature still
//! holds after a restore, on either backend.
//!
//! **Consistent while the server writes.** Every table is read in one read transaction
//! (PostgreSQL `REPEATABLE READ, READ ONLY`; SQLite a deferred transaction whose first read —
//! the schema's own table list — fixes the WAL snapshot), so the archive is the database at one
//! moment, whatever commits meanwhile. The evidence files copied are exactly those the rows of
//! that snapshot name (a file is immutable once its row committed); each is hashed on the way
//! and must match its row, so a damaged store is found at backup time, not at restore time.
//!
//! **Restore** goes into an empty database (the migrations' and the ISTAT registry's reference
//! rows aside, which the archive's replace) and an empty evidence store, of either kind. The
//! archive's migration version must be the binary's; every evidence file is hashed while it is
//! written and its multipart upload completed only when the hash matches; the rows go in
//! table by table in the order of the schema's foreign keys, in one transaction, each table
//! file checked against the manifest's count and hash; PostgreSQL's identity sequences then
//! continue after the highest id restored. Any failure leaves the database as it was and removes
//! the files written.
//!
//! The table list, the columns, their types and the foreign keys are read from the schema the
//! migrations made (`sqlite_master` and its pragmas, PostgreSQL's catalogue), never from a list
//! kept by hand.

pub mod cli;

use std::{
    collections::{BTreeMap, BTreeSet},
    io::{BufRead, BufReader, Read, Write},
    path::{Path, PathBuf},
};

use anyhow::{anyhow, bail, Context};
use base64::Engine as _;
use futures_util::{StreamExt, TryStreamExt};
use object_store::{path::Path as ObjectPath, ObjectStoreExt as _, WriteMultipart};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use sqlx::Row;

use crate::{
    data::{on_db, Db},
    evidence::store::{EvidenceStore, PART_BYTES},
};

/// What the manifest's `format` says: a zip that is not a Traguardi backup is refused early.
pub const FORMAT: &str = "traguardi-backup";
/// The archive layout's version. A reader refuses a newer one.
pub const FORMAT_VERSION: u32 = 1;
const MANIFEST: &str = "manifest.json";
/// The table whose rows name the evidence files.
const EVIDENCE_TABLE: &str = "evidence";
/// Rows per INSERT: a few thousand parameters, far below both backends' limits.
const PARAMS_PER_INSERT: usize = 4_000;

/// The archive's table of contents.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    pub format: String,
    pub format_version: u32,
    /// The newest migration applied to the database the rows come from: a restore needs a
    /// binary at the same one.
    pub migration_version: i64,
    /// RFC 3339, UTC.
    pub created_at: String,
    /// `SQLite` or `PostgreSQL`.
    pub source_backend: String,
    /// The version of the binary that wrote the archive.
    pub app_version: String,
    /// In an order that satisfies the foreign keys.
    pub tables: Vec<TableEntry>,
    pub evidence: Vec<EvidenceEntry>,
    pub audit: AuditSummary,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TableEntry {
    pub name: String,
    /// `tables/<name>.jsonl`
    pub file: String,
    /// Sorted by name, as the keys of every row.
    pub columns: Vec<ColumnEntry>,
    pub rows: u64,
    /// Of the file's bytes.
    pub sha256: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ColumnEntry {
    pub name: String,
    #[serde(rename = "type")]
    pub kind: Kind,
}

/// How a column's values are written in the archive (the same on both backends).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    Integer,
    Boolean,
    /// Text, and dates as `YYYY-MM-DD`.
    Text,
    /// Base64 (standard alphabet, padded).
    Bytes,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EvidenceEntry {
    /// The storage key, also the file's name in the store after a restore.
    pub key: String,
    /// `objects/<key>`
    pub file: String,
    pub size_bytes: i64,
    pub sha256: String,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditSummary {
    pub entries: u64,
    pub checkpoints: u64,
    /// `app_meta.audit_head` (`seq:hash`), if the trail has entries.
    pub head: Option<String>,
}

impl Manifest {
    pub fn rows(&self) -> u64 {
        self.tables.iter().map(|t| t.rows).sum()
    }

    pub fn evidence_bytes(&self) -> i64 {
        self.evidence.iter().map(|e| e.size_bytes).sum()
    }
}

/// A table of the live schema.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Table {
    pub name: String,
    /// In the schema's order.
    pub columns: Vec<Column>,
    pub primary_key: Vec<String>,
    /// The tables its foreign keys point to.
    pub references: BTreeSet<String>,
    /// A PostgreSQL identity (or serial) column, whose sequence a restore moves on.
    pub identity: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Column {
    pub name: String,
    pub kind: Kind,
    /// A PostgreSQL `DATE` (read and bound as a date, written as text).
    pub date: bool,
}

impl Table {
    fn file(&self) -> String {
        format!("tables/{}.jsonl", self.name)
    }

    /// Column indexes sorted by name: the order of the keys of a row's JSON.
    fn sorted(&self) -> Vec<usize> {
        let mut idx: Vec<usize> = (0..self.columns.len()).collect();
        idx.sort_by(|a, b| self.columns[*a].name.cmp(&self.columns[*b].name));
        idx
    }

    fn entry_columns(&self) -> Vec<ColumnEntry> {
        self.sorted()
            .into_iter()
            .map(|i| ColumnEntry { name: self.columns[i].name.clone(), kind: self.columns[i].kind })
            .collect()
    }
}

fn quote(ident: &str) -> String {
    format!("\"{}\"", ident.replace('"', "\"\""))
}

/// The SELECT that reads a table for the archive, in primary-key order (text compared byte by
/// byte on both backends, so the files come out the same).
fn select_sql(table: &Table, postgres: bool) -> String {
    let columns: Vec<String> = table
        .columns
        .iter()
        .map(|c| match (postgres, c.kind) {
            // smallint and integer read as the one integer type.
            (true, Kind::Integer) => format!("CAST({} AS BIGINT)", quote(&c.name)),
            _ => quote(&c.name),
        })
        .collect();
    let key: Vec<&Column> = if table.primary_key.is_empty() {
        table.columns.iter().filter(|c| c.kind != Kind::Bytes).collect()
    } else {
        table.primary_key.iter().filter_map(|k| table.columns.iter().find(|c| &c.name == k)).collect()
    };
    let order: Vec<String> = key
        .iter()
        .map(|c| match (postgres, c.kind, c.date) {
            (true, Kind::Text, false) => format!("{} COLLATE \"C\"", quote(&c.name)),
            _ => quote(&c.name),
        })
        .collect();
    let mut sql = format!("SELECT {} FROM {}", columns.join(", "), quote(&table.name));
    if !order.is_empty() {
        sql.push_str(&format!(" ORDER BY {}", order.join(", ")));
    }
    sql
}

/// One value read from a row.
#[derive(Clone, Debug, PartialEq)]
enum Value {
    Null,
    Int(i64),
    Bool(bool),
    Text(String),
    Bytes(Vec<u8>),
}

fn read_row<'r, R>(row: &'r R, table: &Table) -> Result<Vec<Value>, sqlx::Error>
where
    R: Row,
    usize: sqlx::ColumnIndex<R>,
    i64: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    bool: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    String: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    Vec<u8>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    chrono::NaiveDate: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    table
        .columns
        .iter()
        .enumerate()
        .map(|(i, c)| {
            Ok(match (c.kind, c.date) {
                (Kind::Integer, _) => row.try_get::<Option<i64>, _>(i)?.map(Value::Int),
                (Kind::Boolean, _) => row.try_get::<Option<bool>, _>(i)?.map(Value::Bool),
                (Kind::Text, true) => row
                    .try_get::<Option<chrono::NaiveDate>, _>(i)?
                    .map(|d| Value::Text(d.format("%Y-%m-%d").to_string())),
                (Kind::Text, false) => row.try_get::<Option<String>, _>(i)?.map(Value::Text),
                (Kind::Bytes, _) => row.try_get::<Option<Vec<u8>>, _>(i)?.map(Value::Bytes),
            }
            .unwrap_or(Value::Null))
        })
        .collect()
}

/// A row as one line of its table's file: keys sorted, no spaces, `\n` at the end.
fn row_line(table: &Table, sorted: &[usize], values: &[Value]) -> String {
    let mut line = String::from("{");
    for (n, &i) in sorted.iter().enumerate() {
        if n > 0 {
            line.push(',');
        }
        line.push_str(&serde_json::Value::from(table.columns[i].name.as_str()).to_string());
        line.push(':');
        match &values[i] {
            Value::Null => line.push_str("null"),
            Value::Int(v) => line.push_str(&v.to_string()),
            Value::Bool(v) => line.push_str(if *v { "true" } else { "false" }),
            Value::Text(s) => line.push_str(&serde_json::Value::from(s.as_str()).to_string()),
            Value::Bytes(b) => {
                line.push_str(&format!("\"{}\"", base64::engine::general_purpose::STANDARD.encode(b)))
            }
        }
    }
    line.push_str("}\n");
    line
}

/// A value to bind on restore, typed for the target column (PostgreSQL wants a typed NULL).
#[derive(Clone, Debug)]
enum Bound {
    Int(Option<i64>),
    Bool(Option<bool>),
    Text(Option<String>),
    Date(Option<chrono::NaiveDate>),
    Bytes(Option<Vec<u8>>),
}

/// Parses one line of `table`'s file into values for its columns (in the schema's order).
fn parse_line(table: &Table, line: &[u8], row: u64) -> anyhow::Result<Vec<Bound>> {
    let at = || format!("table {} row {row}", table.name);
    let object: serde_json::Map<String, serde_json::Value> =
        serde_json::from_slice(line).with_context(|| format!("{}: not a JSON object", at()))?;
    if object.len() != table.columns.len() {
        bail!("{}: {} values for {} columns", at(), object.len(), table.columns.len());
    }
    table
        .columns
        .iter()
        .map(|c| {
            let v = object.get(&c.name).ok_or_else(|| anyhow!("{}: column {} is missing", at(), c.name))?;
            let wrong = || anyhow!("{}: column {} is not of type {:?}: {v}", at(), c.name, c.kind);
            Ok(match (c.kind, c.date) {
                (Kind::Integer, _) => {
                    Bound::Int(if v.is_null() { None } else { Some(v.as_i64().ok_or_else(wrong)?) })
                }
                (Kind::Boolean, _) => {
                    Bound::Bool(if v.is_null() { None } else { Some(v.as_bool().ok_or_else(wrong)?) })
                }
                (Kind::Text, false) => Bound::Text(if v.is_null() {
                    None
                } else {
                    Some(v.as_str().ok_or_else(wrong)?.to_string())
                }),
                (Kind::Text, true) => Bound::Date(match v.as_str() {
                    None if v.is_null() => None,
                    None => return Err(wrong()),
                    Some(s) => Some(
                        chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d")
                            .with_context(|| format!("{}: column {} is not a date: {s}", at(), c.name))?,
                    ),
                }),
                (Kind::Bytes, _) => Bound::Bytes(match v.as_str() {
                    None if v.is_null() => None,
                    None => return Err(wrong()),
                    Some(s) => Some(
                        base64::engine::general_purpose::STANDARD
                            .decode(s)
                            .with_context(|| format!("{}: column {} is not base64", at(), c.name))?,
                    ),
                }),
            })
        })
        .collect()
}

/// Reads the live schema: every table the migrations made (the migrations' own bookkeeping and
/// SQLite's internal tables aside), sorted by name.
#[allow(async_fn_in_trait)] // only implemented for the two connection types below
pub trait SchemaReader {
    async fn tables(&mut self) -> anyhow::Result<Vec<Table>>;
    /// The newest migration applied.
    async fn migration_version(&mut self) -> Result<i64, sqlx::Error>;
}

impl SchemaReader for sqlx::SqliteConnection {
    async fn tables(&mut self) -> anyhow::Result<Vec<Table>> {
        let names: Vec<String> = sqlx::query_scalar(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' \
             AND name <> '_sqlx_migrations' ORDER BY name",
        )
        .fetch_all(&mut *self)
        .await?;
        let mut tables = Vec::new();
        for name in names {
            let cols: Vec<(String, String, i64)> =
                sqlx::query_as("SELECT name, type, pk FROM pragma_table_info($1) ORDER BY cid")
                    .bind(&name)
                    .fetch_all(&mut *self)
                    .await?;
            let mut columns = Vec::new();
            let mut pk: Vec<(i64, String)> = Vec::new();
            for (column, declared, key) in cols {
                let upper = declared.to_ascii_uppercase();
                let kind = if upper.contains("INT") {
                    Kind::Integer
                } else if upper.contains("BOOL") {
                    Kind::Boolean
                } else if upper.contains("TEXT") || upper.contains("CHAR") || upper.contains("CLOB") {
                    Kind::Text
                } else if upper.contains("BLOB") {
                    Kind::Bytes
                } else {
                    bail!("column {name}.{column} has type {declared:?}, which backups do not know yet");
                };
                if key > 0 {
                    pk.push((key, column.clone()));
                }
                columns.push(Column { name: column, kind, date: false });
            }
            pk.sort();
            let references: BTreeSet<String> =
                sqlx::query_scalar::<_, String>("SELECT DISTINCT \"table\" FROM pragma_foreign_key_list($1)")
                    .bind(&name)
                    .fetch_all(&mut *self)
                    .await?
                    .into_iter()
                    .collect();
            tables.push(Table {
                name,
                columns,
                primary_key: pk.into_iter().map(|(_, c)| c).collect(),
                references,
                identity: None,
            });
        }
        Ok(tables)
    }

    async fn migration_version(&mut self) -> Result<i64, sqlx::Error> {
        sqlx::query_scalar("SELECT COALESCE(MAX(version), 0) FROM _sqlx_migrations WHERE success")
            .fetch_one(&mut *self)
            .await
    }
}

impl SchemaReader for sqlx::PgConnection {
    async fn tables(&mut self) -> anyhow::Result<Vec<Table>> {
        let names: Vec<String> = sqlx::query_scalar(
            "SELECT CAST(table_name AS TEXT) FROM information_schema.tables \
             WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' \
             AND table_name <> '_sqlx_migrations' ORDER BY 1",
        )
        .fetch_all(&mut *self)
        .await?;
        let mut tables = Vec::new();
        for name in names {
            let cols: Vec<(String, String, String, Option<String>)> = sqlx::query_as(
                "SELECT CAST(column_name AS TEXT), CAST(data_type AS TEXT), CAST(is_identity AS TEXT), \
                 CAST(column_default AS TEXT) FROM information_schema.columns \
                 WHERE table_schema = current_schema() AND table_name = $1 ORDER BY ordinal_position",
            )
            .bind(&name)
            .fetch_all(&mut *self)
            .await?;
            let mut columns = Vec::new();
            let mut identity = None;
            for (column, data_type, is_identity, default) in cols {
                let (kind, date) = match data_type.as_str() {
                    "bigint" | "integer" | "smallint" => (Kind::Integer, false),
                    "boolean" => (Kind::Boolean, false),
                    "text" | "character varying" | "character" => (Kind::Text, false),
                    "date" => (Kind::Text, true),
                    "bytea" => (Kind::Bytes, false),
                    other => bail!("column {name}.{column} has type {other}, which backups do not know yet"),
                };
                if is_identity == "YES" || default.as_deref().is_some_and(|d| d.starts_with("nextval(")) {
                    identity = Some(column.clone());
                }
                columns.push(Column { name: column, kind, date });
            }
            let primary_key: Vec<String> = sqlx::query_scalar(
                "SELECT CAST(k.column_name AS TEXT) FROM information_schema.table_constraints c \
                 JOIN information_schema.key_column_usage k ON k.constraint_name = c.constraint_name \
                 AND k.constraint_schema = c.constraint_schema AND k.table_name = c.table_name \
                 WHERE c.constraint_type = 'PRIMARY KEY' AND c.table_schema = current_schema() \
                 AND c.table_name = $1 ORDER BY k.ordinal_position",
            )
            .bind(&name)
            .fetch_all(&mut *self)
            .await?;
            let references: BTreeSet<String> = sqlx::query_scalar::<_, String>(
                "SELECT DISTINCT CAST(t.relname AS TEXT) FROM pg_constraint con \
                 JOIN pg_class s ON s.oid = con.conrelid JOIN pg_class t ON t.oid = con.confrelid \
                 JOIN pg_namespace n ON n.oid = s.relnamespace \
                 WHERE con.contype = 'f' AND n.nspname = current_schema() AND s.relname = $1",
            )
            .bind(&name)
            .fetch_all(&mut *self)
            .await?
            .into_iter()
            .collect();
            tables.push(Table { name, columns, primary_key, references, identity });
        }
        Ok(tables)
    }

    async fn migration_version(&mut self) -> Result<i64, sqlx::Error> {
        sqlx::query_scalar("SELECT COALESCE(MAX(version), 0) FROM _sqlx_migrations WHERE success")
            .fetch_one(&mut *self)
            .await
    }
}

/// Orders `tables` so that every table comes after the tables its foreign keys point to
/// (ties by name, so the order is the same on both backends). A cycle is an error: rows could
/// not be inserted table by table.
pub fn foreign_key_order(mut tables: Vec<Table>) -> anyhow::Result<Vec<Table>> {
    tables.sort_by(|a, b| a.name.cmp(&b.name));
    let names: BTreeSet<String> = tables.iter().map(|t| t.name.clone()).collect();
    let mut placed: BTreeSet<String> = BTreeSet::new();
    let mut out = Vec::with_capacity(tables.len());
    while !tables.is_empty() {
        let ready = tables.iter().position(|t| {
            t.references.iter().all(|r| r == &t.name || placed.contains(r) || !names.contains(r))
        });
        match ready {
            Some(i) => {
                let t = tables.remove(i);
                placed.insert(t.name.clone());
                out.push(t);
            }
            None => bail!(
                "the foreign keys of tables {} form a cycle: they cannot be restored table by table",
                tables.iter().map(|t| t.name.as_str()).collect::<Vec<_>>().join(", ")
            ),
        }
    }
    Ok(out)
}

/// The newest migration this binary carries (the same on both backends).
pub fn binary_migration_version(db: &Db) -> i64 {
    let migrator = match db {
        Db::Sqlite(_) => sqlx::migrate!("./migrations/sqlite"),
        Db::Postgres(_) => sqlx::migrate!("./migrations/postgres"),
    };
    migrator.iter().map(|m| m.version).max().unwrap_or(0)
}

/// The tables and their foreign-key order, read from `db`'s schema.
pub async fn schema(db: &Db) -> anyhow::Result<Vec<Table>> {
    let tables = on_db!(db, pool => {
        let mut conn = pool.acquire().await?;
        conn.tables().await
    })?;
    foreign_key_order(tables)
}

/// Rows per table.
pub async fn row_counts(db: &Db) -> anyhow::Result<BTreeMap<String, i64>> {
    let tables = schema(db).await?;
    let mut out = BTreeMap::new();
    for t in tables {
        let sql = format!("SELECT COUNT(*) FROM {}", quote(&t.name));
        let n: i64 = on_db!(db, pool => sqlx::query_scalar(&sql).fetch_one(pool).await)?;
        out.insert(t.name, n);
    }
    Ok(out)
}

/// Every table's rows as the archive writes them (tests compare two databases with it).
pub async fn table_lines(db: &Db, table: &str) -> anyhow::Result<Vec<String>> {
    let tables = schema(db).await?;
    let t = tables.iter().find(|t| t.name == table).ok_or_else(|| anyhow!("no table {table}"))?;
    let sql = select_sql(t, matches!(db, Db::Postgres(_)));
    let sorted = t.sorted();
    on_db!(db, pool => {
        let rows = sqlx::query(&sql).fetch_all(pool).await?;
        rows.iter()
            .map(|r| Ok(row_line(t, &sorted, &read_row(r, t)?)))
            .collect::<anyhow::Result<Vec<String>>>()
    })
}

/// The rows a database has right after its migrations and the ISTAT registry (the programme,
/// its steps, the taxonomy's known codes, the comuni…), per table: measured on a scratch
/// in-memory SQLite database migrated here, so the list never goes stale. A database whose
/// other tables are all empty holds nothing but these, and a restore replaces them with the
/// archive's.
pub async fn reference_counts() -> anyhow::Result<BTreeMap<String, i64>> {
    let pool = sqlx::sqlite::SqlitePoolOptions::new()
        .max_connections(1)
        .min_connections(1)
        .idle_timeout(None)
        .max_lifetime(None)
        .connect("sqlite::memory:")
        .await?;
    let scratch = Db::Sqlite(pool);
    scratch.migrate().await?;
    crate::data::registry::load(&scratch).await?;
    let counts = row_counts(&scratch).await?;
    if let Db::Sqlite(pool) = scratch {
        pool.close().await;
    }
    Ok(counts.into_iter().filter(|(_, n)| *n > 0).collect())
}

/// The tables of `counts` that hold rows a fresh database would not: "table (n rows)".
fn data_held(counts: &BTreeMap<String, i64>, reference: &BTreeMap<String, i64>) -> Vec<String> {
    counts
        .iter()
        .filter(|(t, n)| **n > 0 && !reference.contains_key(*t))
        .map(|(t, n)| format!("{t} ({} {})", grouped(*n as u64), if *n == 1 { "row" } else { "rows" }))
        .collect()
}

/// 12345 → "12,345".
pub fn grouped(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A size in words: "812 bytes", "1.4 MB".
pub fn size(bytes: u64) -> String {
    match bytes {
        0..=9_999 => format!("{} bytes", grouped(bytes)),
        10_000..=999_999 => format!("{:.1} kB", bytes as f64 / 1e3),
        _ => format!("{:.1} MB", bytes as f64 / 1e6),
    }
}

/// A `Write` that hashes and counts what goes through it.
struct Hashing<'a, W: Write> {
    inner: &'a mut W,
    hasher: Sha256,
}

impl<W: Write> Write for Hashing<'_, W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

fn hex(digest: impl AsRef<[u8]>) -> String {
    digest.as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

/// Where a backup is written before it is complete: a failed backup never leaves a file under
/// the final name.
fn partial_path(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(".partial");
    name.into()
}

/// Writes the archive of `db` and `store` to `path` (replacing it once complete). `progress`
/// hears about each table and file as it goes.
pub async fn backup(
    db: &Db,
    store: &EvidenceStore,
    path: &Path,
    progress: &mut dyn FnMut(&str),
) -> anyhow::Result<Manifest> {
    let partial = partial_path(path);
    let written = write_archive(db, store, &partial, progress).await;
    match written {
        Ok(manifest) => {
            std::fs::rename(&partial, path)
                .with_context(|| format!("cannot move {} to {}", partial.display(), path.display()))?;
            Ok(manifest)
        }
        Err(e) => {
            let _ = std::fs::remove_file(&partial);
            Err(e)
        }
    }
}

async fn write_archive(
    db: &Db,
    store: &EvidenceStore,
    path: &Path,
    progress: &mut dyn FnMut(&str),
) -> anyhow::Result<Manifest> {
    let file = std::fs::File::create(path).with_context(|| format!("cannot create {}", path.display()))?;
    let mut zip = zip::ZipWriter::new(std::io::BufWriter::new(file));
    let deflated = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .large_file(true);
    let stored = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Stored)
        .large_file(true);
    let postgres = matches!(db, Db::Postgres(_));
    let created_at = crate::data::audit::now_rfc3339();

    // One read transaction for every table.
    let (migration_version, entries, evidence, audit) = on_db!(db, pool => {
        let mut tx = if postgres {
            pool.begin_with("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY").await?
        } else {
            // Deferred: the snapshot is taken by the first read below, inside the transaction.
            pool.begin().await?
        };
        let tables = foreign_key_order(tx.tables().await?)?;
        let migration_version = tx.migration_version().await?;
        progress(&format!(
            "Reading {} tables from {} in one snapshot (migration {migration_version})…",
            tables.len(),
            db.backend()
        ));
        let mut entries = Vec::new();
        let mut evidence = Vec::new();
        let mut audit = AuditSummary::default();
        for table in &tables {
            let sorted = table.sorted();
            let evidence_columns = (table.name == EVIDENCE_TABLE)
                .then(|| -> anyhow::Result<[usize; 3]> {
                    let find = |n: &str| {
                        table.columns.iter().position(|c| c.name == n)
                            .ok_or_else(|| anyhow!("the evidence table has no column {n}"))
                    };
                    Ok([find("storage_key")?, find("sha256")?, find("size_bytes")?])
                })
                .transpose()?;
            zip.start_file(table.file(), deflated)?;
            let mut out = Hashing { inner: &mut zip, hasher: Sha256::new() };
            let mut rows: u64 = 0;
            let sql = select_sql(table, postgres);
            let mut stream = sqlx::query(&sql).fetch(&mut *tx);
            while let Some(row) = stream.try_next().await? {
                let values = read_row(&row, table)
                    .with_context(|| format!("reading a row of table {}", table.name))?;
                out.write_all(row_line(table, &sorted, &values).as_bytes())?;
                rows += 1;
                if let Some([key, sha, bytes]) = evidence_columns {
                    match (&values[key], &values[sha], &values[bytes]) {
                        (Value::Text(key), Value::Text(sha), Value::Int(bytes)) => evidence.push(EvidenceEntry {
                            file: format!("objects/{key}"),
                            key: key.clone(),
                            size_bytes: *bytes,
                            sha256: sha.clone(),
                        }),
                        _ => bail!("an evidence row lacks its storage key, hash or size"),
                    }
                }
                if table.name == "app_meta" {
                    let value = |n: &str| table.columns.iter().position(|c| c.name == n).map(|i| &values[i]);
                    if let (Some(Value::Text(k)), Some(Value::Text(v))) = (value("key"), value("value")) {
                        if k == "audit_head" {
                            audit.head = Some(v.clone());
                        }
                    }
                }
            }
            drop(stream);
            let sha256 = hex(out.hasher.finalize());
            match table.name.as_str() {
                "audit_entry" => audit.entries = rows,
                "audit_checkpoint" => audit.checkpoints = rows,
                _ => {}
            }
            progress(&format!("  {}: {} {}", table.name, grouped(rows), if rows == 1 { "row" } else { "rows" }));
            entries.push(TableEntry {
                name: table.name.clone(),
                file: table.file(),
                columns: table.entry_columns(),
                rows,
                sha256,
            });
        }
        tx.rollback().await?;
        Ok::<_, anyhow::Error>((migration_version, entries, evidence, audit))
    })?;

    // The files the snapshot's rows name: immutable once their row committed.
    let total: i64 = evidence.iter().map(|e| e.size_bytes).sum();
    progress(&format!(
        "Copying {} evidence {} ({}) from {}…",
        grouped(evidence.len() as u64),
        if evidence.len() == 1 { "file" } else { "files" },
        size(total.max(0) as u64),
        store.description
    ));
    for (n, e) in evidence.iter().enumerate() {
        let location = ObjectPath::parse(&e.key).with_context(|| format!("bad storage key {}", e.key))?;
        let got = store.store.get(&location).await.with_context(|| {
            format!("evidence file {} (named by its row) cannot be read from {}", e.key, store.description)
        })?;
        zip.start_file(&e.file, stored)?;
        let mut out = Hashing { inner: &mut zip, hasher: Sha256::new() };
        let mut bytes: i64 = 0;
        let mut chunks = got.into_stream();
        while let Some(chunk) = chunks.next().await {
            let chunk = chunk.with_context(|| format!("reading evidence file {}", e.key))?;
            bytes += chunk.len() as i64;
            out.write_all(&chunk)?;
        }
        let sha = hex(out.hasher.finalize());
        if sha != e.sha256 || bytes != e.size_bytes {
            bail!(
                "evidence file {} in {} does not match its row ({} bytes with SHA-256 {sha}, the row says {} bytes \
                 with {}): the store is damaged; no backup was written",
                e.key,
                store.description,
                grouped(bytes.max(0) as u64),
                grouped(e.size_bytes.max(0) as u64),
                e.sha256
            );
        }
        progress(&format!(
            "  {}/{} {} ({}, SHA-256 verified)",
            n + 1,
            evidence.len(),
            e.key,
            size(bytes as u64)
        ));
    }

    let manifest = Manifest {
        format: FORMAT.to_string(),
        format_version: FORMAT_VERSION,
        migration_version,
        created_at,
        source_backend: db.backend().to_string(),
        app_version: env!("CARGO_PKG_VERSION").to_string(),
        tables: entries,
        evidence,
        audit,
    };
    zip.start_file(MANIFEST, deflated)?;
    zip.write_all(&serde_json::to_vec_pretty(&manifest)?)?;
    let buffered = zip.finish()?;
    let file = buffered.into_inner().map_err(|e| anyhow!("writing {}: {}", path.display(), e.error()))?;
    file.sync_all().with_context(|| format!("writing {}", path.display()))?;
    Ok(manifest)
}

/// An archive opened for reading, its manifest checked.
pub struct Archive {
    zip: zip::ZipArchive<BufReader<std::fs::File>>,
    pub manifest: Manifest,
}

impl Archive {
    /// Opens `path` and reads its manifest (a truncated or foreign file is refused here).
    pub fn open(path: &Path) -> anyhow::Result<Archive> {
        let file = std::fs::File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
        let mut zip = zip::ZipArchive::new(BufReader::new(file)).map_err(|e| {
            anyhow!("{} is not a readable backup archive (truncated or not a zip file: {e})", path.display())
        })?;
        let mut text = String::new();
        zip.by_name(MANIFEST)
            .map_err(|_| anyhow!("{} is not a Traguardi backup: it has no {MANIFEST}", path.display()))?
            .take(64 * 1024 * 1024)
            .read_to_string(&mut text)
            .with_context(|| {
                format!("{}: its {MANIFEST} cannot be read (the archive is damaged)", path.display())
            })?;
        let manifest: Manifest = serde_json::from_str(&text).with_context(|| {
            format!("{}: its {MANIFEST} is not a Traguardi backup manifest", path.display())
        })?;
        if manifest.format != FORMAT {
            bail!("{} is not a Traguardi backup (format {:?})", path.display(), manifest.format);
        }
        if manifest.format_version != FORMAT_VERSION {
            bail!(
                "{} is a backup of format version {}, this binary reads version {FORMAT_VERSION}: restore it with \
                 the Traguardi version that wrote it ({})",
                path.display(),
                manifest.format_version,
                manifest.app_version
            );
        }
        Ok(Archive { zip, manifest })
    }
}

/// What a restore did.
#[derive(Clone, Debug)]
pub struct Restored {
    pub manifest: Manifest,
    pub backend: &'static str,
    pub store: String,
}

/// Restores the archive at `path` into `db` and `store`, both empty (see the module's
/// documentation). On any failure the database is left as it was and the files written are
/// removed.
pub async fn restore(
    db: &Db,
    store: &EvidenceStore,
    path: &Path,
    progress: &mut dyn FnMut(&str),
) -> anyhow::Result<Restored> {
    let mut archive = Archive::open(path)?;
    let manifest = archive.manifest.clone();
    db.migrate().await?;
    let binary = binary_migration_version(db);
    if manifest.migration_version != binary {
        bail!(
            "the archive's rows belong to migration {}, this binary's database is at migration {binary}: restore \
             with the Traguardi version that wrote the archive ({}), which then upgrades at its next start; \
             nothing was written",
            manifest.migration_version,
            manifest.app_version
        );
    }
    let tables = schema(db).await?;
    check_tables(&tables, &manifest)?;
    let reference = reference_counts().await?;
    let held = data_held(&row_counts(db).await?, &reference);
    if !held.is_empty() {
        bail!("{}", not_empty(db, &held));
    }
    let keys = store.keys().await?;
    if !keys.is_empty() {
        bail!(
            "the evidence store ({}) is not empty ({} {}): restore only into an empty store; nothing was written",
            store.description,
            grouped(keys.len() as u64),
            if keys.len() == 1 { "file" } else { "files" }
        );
    }
    progress(&format!(
        "Restoring a backup of {} made at {} (migration {}, {} tables, {} rows, {} evidence files) into {} and {}…",
        manifest.source_backend,
        manifest.created_at,
        manifest.migration_version,
        manifest.tables.len(),
        grouped(manifest.rows()),
        grouped(manifest.evidence.len() as u64),
        db.backend(),
        store.description
    ));

    let mut written: Vec<ObjectPath> = Vec::new();
    let outcome = async {
        write_evidence(&mut archive, store, &mut written, progress).await?;
        insert_rows(db, &mut archive, &tables, &reference, progress).await
    }
    .await;
    if let Err(e) = outcome {
        for location in &written {
            let _ = store.store.delete(location).await;
        }
        return Err(e);
    }
    Ok(Restored { manifest, backend: db.backend(), store: store.description.clone() })
}

fn not_empty(db: &Db, held: &[String]) -> String {
    format!(
        "the {} database is not empty ({}): restore only into a new, empty database (a new SQLite file, or a \
         PostgreSQL database just created); nothing was written",
        db.backend(),
        held.join(", ")
    )
}

/// The archive's tables and columns must be the database's (same migration, so they are,
/// unless the archive was edited).
fn check_tables(tables: &[Table], manifest: &Manifest) -> anyhow::Result<()> {
    let ours: BTreeSet<&str> = tables.iter().map(|t| t.name.as_str()).collect();
    let theirs: BTreeSet<&str> = manifest.tables.iter().map(|t| t.name.as_str()).collect();
    if ours != theirs {
        bail!(
            "the archive's tables ({}) are not the database's ({}); nothing was written",
            theirs.into_iter().collect::<Vec<_>>().join(", "),
            ours.into_iter().collect::<Vec<_>>().join(", ")
        );
    }
    for t in tables {
        let entry = manifest.tables.iter().find(|e| e.name == t.name).expect("same names");
        if entry.columns != t.entry_columns() {
            bail!("the archive's columns of table {} are not the database's; nothing was written", t.name);
        }
        if entry.file != t.file() {
            bail!("the archive names an unexpected file for table {}", t.name);
        }
    }
    Ok(())
}

/// Writes every evidence file of the archive to `store`, hashing it on the way: a multipart
/// upload is completed only when size and SHA-256 match the manifest (and so the rows).
async fn write_evidence(
    archive: &mut Archive,
    store: &EvidenceStore,
    written: &mut Vec<ObjectPath>,
    progress: &mut dyn FnMut(&str),
) -> anyhow::Result<()> {
    let entries = archive.manifest.evidence.clone();
    let mut seen = BTreeSet::new();
    for (n, e) in entries.iter().enumerate() {
        // A storage key is always `evidence/<comune>/<random>`: anything else is not ours.
        let location = ObjectPath::parse(&e.key).ok().filter(|p| {
            e.key.starts_with("evidence/") && p.to_string() == e.key && !e.key.split('/').any(|s| s == "..")
        });
        let Some(location) = location else { bail!("the archive names an invalid evidence key {:?}", e.key) };
        if !seen.insert(e.key.clone()) || e.file != format!("objects/{}", e.key) {
            bail!("the archive lists evidence file {} twice or under another name", e.key);
        }
        let mut file = archive.zip.by_name(&e.file).map_err(|_| {
            anyhow!("evidence file {} is missing from the archive; nothing was restored", e.key)
        })?;
        let upload = store.store.put_multipart(&location).await?;
        let mut writer = WriteMultipart::new_with_chunk_size(upload, PART_BYTES);
        let mut hasher = Sha256::new();
        let mut bytes: i64 = 0;
        let mut buf = vec![0u8; 256 * 1024];
        let read: anyhow::Result<()> = async {
            loop {
                let n = file.read(&mut buf).with_context(|| {
                    format!("evidence file {} cannot be read from the archive (it is damaged)", e.key)
                })?;
                if n == 0 {
                    return Ok(());
                }
                hasher.update(&buf[..n]);
                bytes += n as i64;
                writer.wait_for_capacity(2).await?;
                writer.write(&buf[..n]);
            }
        }
        .await;
        let sha = hex(hasher.finalize());
        let matches = read.is_ok() && sha == e.sha256 && bytes == e.size_bytes;
        if !matches {
            let _ = writer.abort().await;
            read?;
            bail!(
                "evidence file {} in the archive does not match its SHA-256 ({} bytes with {sha}, the archive's rows \
                 say {} bytes with {}): the archive is damaged; nothing was restored",
                e.key,
                grouped(bytes.max(0) as u64),
                grouped(e.size_bytes.max(0) as u64),
                e.sha256
            );
        }
        writer
            .finish()
            .await
            .with_context(|| format!("writing evidence file {} to {}", e.key, store.description))?;
        written.push(location);
        progress(&format!(
            "  {}/{} {} ({}, SHA-256 verified)",
            n + 1,
            entries.len(),
            e.key,
            size(bytes as u64)
        ));
    }
    Ok(())
}

/// Inserts every table's rows in one transaction (see [`restore`]).
async fn insert_rows(
    db: &Db,
    archive: &mut Archive,
    tables: &[Table],
    reference: &BTreeMap<String, i64>,
    progress: &mut dyn FnMut(&str),
) -> anyhow::Result<()> {
    let postgres = matches!(db, Db::Postgres(_));
    let manifest = archive.manifest.clone();
    on_db!(db, pool => {
        // The write lock first: SQLite's IMMEDIATE transaction, PostgreSQL's lock on the row every
        // writer of the application takes first (`data_version`, in `app_meta`).
        let mut tx = if postgres {
            let mut tx = pool.begin().await?;
            sqlx::query("LOCK TABLE app_meta IN EXCLUSIVE MODE").execute(&mut *tx).await?;
            tx
        } else {
            pool.begin_with("BEGIN IMMEDIATE").await?
        };
        // Checked again under the lock: nothing may have arrived since.
        let mut counts = BTreeMap::new();
        for t in tables {
            let n: i64 = sqlx::query_scalar(&format!("SELECT COUNT(*) FROM {}", quote(&t.name)))
                .fetch_one(&mut *tx)
                .await?;
            counts.insert(t.name.clone(), n);
        }
        let held = data_held(&counts, reference);
        if !held.is_empty() {
            bail!("{}", not_empty(db, &held));
        }
        // The reference rows the migrations and the registry wrote give way to the archive's.
        for t in tables.iter().rev() {
            if counts.get(&t.name).copied().unwrap_or(0) > 0 {
                sqlx::query(&format!("DELETE FROM {}", quote(&t.name))).execute(&mut *tx).await?;
            }
        }
        progress("Inserting rows in one transaction…");
        let mut evidence_rows: BTreeSet<(String, String)> = BTreeSet::new();
        for t in tables {
            let entry = manifest.tables.iter().find(|e| e.name == t.name).expect("checked");
            let per_insert = (PARAMS_PER_INSERT / t.columns.len().max(1)).max(1);
            let key_of = |n: &str| t.columns.iter().position(|c| c.name == n);
            let evidence_columns = (t.name == EVIDENCE_TABLE)
                .then(|| key_of("storage_key").zip(key_of("sha256")))
                .flatten();
            let file = archive.zip.by_name(&entry.file).map_err(|_| {
                anyhow!("table file {} is missing from the archive; nothing was restored", entry.file)
            })?;
            let mut reader = BufReader::new(file);
            let mut hasher = Sha256::new();
            let mut rows: u64 = 0;
            let mut batch: Vec<Vec<Bound>> = Vec::with_capacity(per_insert);
            let mut line = Vec::new();
            loop {
                line.clear();
                let n = reader.read_until(b'\n', &mut line).with_context(|| {
                    format!("table file {} cannot be read from the archive (it is damaged)", entry.file)
                })?;
                if n > 0 {
                    hasher.update(&line);
                    rows += 1;
                    let values = parse_line(t, &line, rows)?;
                    if let Some((key, sha)) = evidence_columns {
                        if let (Bound::Text(Some(key)), Bound::Text(Some(sha))) = (&values[key], &values[sha]) {
                            evidence_rows.insert((key.clone(), sha.clone()));
                        }
                    }
                    batch.push(values);
                }
                if batch.len() == per_insert || (n == 0 && !batch.is_empty()) {
                    let mut qb = sqlx::QueryBuilder::new(format!(
                        "INSERT INTO {} ({}) ",
                        quote(&t.name),
                        t.columns.iter().map(|c| quote(&c.name)).collect::<Vec<_>>().join(", ")
                    ));
                    qb.push_values(batch.drain(..), |mut b, row| {
                        for v in row {
                            match v {
                                Bound::Int(v) => b.push_bind(v),
                                Bound::Bool(v) => b.push_bind(v),
                                Bound::Text(v) => b.push_bind(v),
                                Bound::Date(v) => b.push_bind(v),
                                Bound::Bytes(v) => b.push_bind(v),
                            };
                        }
                    });
                    qb.build()
                        .execute(&mut *tx)
                        .await
                        .with_context(|| format!("inserting the rows of table {}", t.name))?;
                }
                if n == 0 {
                    break;
                }
            }
            let sha = hex(hasher.finalize());
            if rows != entry.rows || sha != entry.sha256 {
                bail!(
                    "table file {} does not match the manifest ({} rows with SHA-256 {sha}, the manifest says {} \
                     rows with {}): the archive is damaged; nothing was restored",
                    entry.file,
                    grouped(rows),
                    grouped(entry.rows),
                    entry.sha256
                );
            }
            if let Some(column) = &t.identity {
                if postgres {
                    sqlx::query(&format!(
                        "SELECT setval(pg_get_serial_sequence($1, $2), COALESCE((SELECT MAX({}) FROM {}), 0) + 1, false)",
                        quote(column),
                        quote(&t.name)
                    ))
                    .bind(quote(&t.name))
                    .bind(column)
                    .execute(&mut *tx)
                    .await?;
                }
            }
            progress(&format!("  {}: {} {}", t.name, grouped(rows), if rows == 1 { "row" } else { "rows" }));
        }
        let listed: BTreeSet<(String, String)> =
            manifest.evidence.iter().map(|e| (e.key.clone(), e.sha256.clone())).collect();
        if listed != evidence_rows {
            bail!(
                "the archive's evidence rows and its evidence files disagree ({} rows, {} files): the archive is \
                 damaged; nothing was restored",
                evidence_rows.len(),
                listed.len()
            );
        }
        tx.commit().await?;
        Ok::<(), anyhow::Error>(())
    })
}

/// Opens the archive's table `name` as lines (tests read archives with it).
pub fn archive_lines(path: &Path, name: &str) -> anyhow::Result<Vec<String>> {
    let mut archive = Archive::open(path)?;
    let file = format!("tables/{name}.jsonl");
    let mut text = String::new();
    archive.zip.by_name(&file)?.read_to_string(&mut text)?;
    Ok(text.lines().map(str::to_string).collect())
}

/// Rewrites the archive at `from` into `to`, passing each entry's bytes through `edit` (tests
/// make damaged but well-formed archives with it).
pub fn rewrite_archive(
    from: &Path,
    to: &Path,
    mut edit: impl FnMut(&str, Vec<u8>) -> Vec<u8>,
) -> anyhow::Result<()> {
    let mut input = zip::ZipArchive::new(BufReader::new(std::fs::File::open(from)?))?;
    let mut output = zip::ZipWriter::new(std::io::BufWriter::new(std::fs::File::create(to)?));
    for i in 0..input.len() {
        let mut file = input.by_index(i)?;
        let name = file.name()?.to_string();
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes)?;
        output.start_file(
            name.clone(),
            zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated),
        )?;
        output.write_all(&edit(&name, bytes))?;
    }
    output.finish()?.flush()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(name: &str, references: &[&str]) -> Table {
        Table {
            name: name.into(),
            columns: vec![Column { name: "id".into(), kind: Kind::Integer, date: false }],
            primary_key: vec!["id".into()],
            references: references.iter().map(|r| r.to_string()).collect(),
            identity: None,
        }
    }

    #[test]
    fn tables_come_after_the_tables_they_reference() {
        let order = foreign_key_order(vec![
            table("evidence_review", &["evidence"]),
            table("evidence", &["comune", "objective"]),
            table("objective", &["programme", "programme_step"]),
            table("programme_step", &["programme"]),
            table("comune", &["province"]),
            table("province", &[]),
            table("programme", &[]),
            table("app_meta", &[]),
        ])
        .unwrap();
        let names: Vec<&str> = order.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "app_meta",
                "programme",
                "programme_step",
                "objective",
                "province",
                "comune",
                "evidence",
                "evidence_review"
            ]
        );
        let err = foreign_key_order(vec![table("a", &["b"]), table("b", &["a"])]).unwrap_err();
        assert!(err.to_string().contains("form a cycle"), "{err}");
    }

    #[test]
    fn a_row_line_round_trips_every_kind() {
        let t = Table {
            name: "t".into(),
            columns: vec![
                Column { name: "z".into(), kind: Kind::Text, date: false },
                Column { name: "a".into(), kind: Kind::Integer, date: false },
                Column { name: "d".into(), kind: Kind::Text, date: true },
                Column { name: "b".into(), kind: Kind::Boolean, date: false },
                Column { name: "c".into(), kind: Kind::Bytes, date: false },
                Column { name: "n".into(), kind: Kind::Text, date: false },
            ],
            primary_key: vec![],
            references: BTreeSet::new(),
            identity: None,
        };
        let values = vec![
            Value::Text("Nardò \"x\"\n".into()),
            Value::Int(-42),
            Value::Text("2021-02-28".into()),
            Value::Bool(true),
            Value::Bytes(vec![0, 255, 10]),
            Value::Null,
        ];
        let line = row_line(&t, &t.sorted(), &values);
        assert_eq!(
            line,
            "{\"a\":-42,\"b\":true,\"c\":\"AP8K\",\"d\":\"2021-02-28\",\"n\":null,\"z\":\"Nardò \\\"x\\\"\\n\"}\n"
        );
        let parsed = parse_line(&t, line.as_bytes(), 1).unwrap();
        assert!(matches!(&parsed[0], Bound::Text(Some(s)) if s == "Nardò \"x\"\n"));
        assert!(matches!(parsed[1], Bound::Int(Some(-42))));
        assert!(matches!(parsed[2], Bound::Date(Some(d)) if d.to_string() == "2021-02-28"));
        assert!(matches!(parsed[3], Bound::Bool(Some(true))));
        assert!(matches!(&parsed[4], Bound::Bytes(Some(b)) if b == &vec![0, 255, 10]));
        assert!(matches!(parsed[5], Bound::Text(None)));
        // A value of the wrong type, a missing or an extra column: refused.
        assert!(parse_line(&t, br#"{"a":"1","b":true,"c":"","d":null,"n":null,"z":""}"#, 1).is_err());
        assert!(parse_line(&t, br#"{"b":true,"c":"","d":null,"n":null,"z":""}"#, 1).is_err());
        assert!(parse_line(&t, br#"{"a":1,"b":true,"c":"","d":null,"n":null,"z":"","x":1}"#, 1).is_err());
    }

    #[test]
    fn numbers_are_grouped_for_the_operator() {
        assert_eq!(grouped(0), "0");
        assert_eq!(grouped(999), "999");
        assert_eq!(grouped(1000), "1,000");
        assert_eq!(grouped(1234567), "1,234,567");
        assert_eq!(size(812), "812 bytes");
        assert_eq!(size(61_540), "61.5 kB");
        assert_eq!(size(1_400_000), "1.4 MB");
    }
}
