//! Where evidence files live: one `object_store` behind `Arc<dyn ObjectStore>`, local disk by
//! default, any S3-compatible store by configuration, in memory for tests that do not look at
//! files.
//!
//! Keys are generated (`tmp/<random>` while a file arrives, `evidence/<comune>/<random>` once
//! it is checked); the person's file name never reaches the store. A file reaches its final key
//! just before its database row is written, and is deleted again if the row does not commit;
//! [`EvidenceStore::sweep`] removes what a crash left between the two.

use std::{
    collections::HashSet,
    path::PathBuf,
    sync::{Arc, Mutex},
    time::Duration,
};

use futures_util::StreamExt;
use object_store::{local::LocalFileSystem, memory::InMemory, path::Path, ObjectStore, ObjectStoreExt};

use crate::data::Db;

/// The default size limit of one file: 20 MB (binary megabytes, as file managers show them).
pub const DEFAULT_MAX_BYTES: u64 = 20 * 1024 * 1024;
/// Bytes of one part of a multipart upload: S3's minimum part size. An upload holds two parts
/// in memory (one filling, one being written), whatever the file's size.
pub const PART_BYTES: usize = 5 * 1024 * 1024;
/// The default age below which the sweeps leave a leftover alone: one hour. Another instance
/// sharing the store may be writing a temporary file, or be between a file's move to its final
/// key and its row's commit; an hour is far longer than any upload takes.
pub const DEFAULT_SWEEP_MIN_AGE: Duration = Duration::from_secs(3600);

#[derive(Debug)]
pub struct EvidenceStore {
    pub store: Arc<dyn ObjectStore>,
    /// The largest file accepted, in bytes.
    pub max_bytes: u64,
    /// For a local store, its folder: the sweep also removes the partial files of uploads cut
    /// by a crash, which `object_store` keeps out of its listings.
    local_root: Option<PathBuf>,
    /// What the start-up log says about the store (no credentials).
    pub description: String,
    /// Leftovers younger than this are kept by the start-up sweep (`TRAGUARDI_SWEEP_MIN_AGE_SECS`,
    /// default [`DEFAULT_SWEEP_MIN_AGE`]): at start-up this process has no upload in flight, but
    /// another instance sharing the store may. A single instance may lower it to 0.
    pub sweep_min_age: Duration,
    /// The temporary keys of this process's uploads in flight: a stop that cuts them removes
    /// them ([`EvidenceStore::remove_uploads_in_flight`]).
    in_flight: Arc<Mutex<HashSet<Path>>>,
}

impl EvidenceStore {
    /// A folder on local disk (created if missing).
    pub fn local(root: impl Into<PathBuf>, max_bytes: u64) -> anyhow::Result<Self> {
        let root = root.into();
        std::fs::create_dir_all(&root)
            .map_err(|e| anyhow::anyhow!("cannot create the evidence folder {}: {e}", root.display()))?;
        let root = root.canonicalize()?;
        let store = LocalFileSystem::new_with_prefix(&root)?.with_automatic_cleanup(true);
        Ok(EvidenceStore {
            store: Arc::new(store),
            max_bytes,
            description: format!("local folder {}", root.display()),
            local_root: Some(root),
            sweep_min_age: DEFAULT_SWEEP_MIN_AGE,
            in_flight: Arc::default(),
        })
    }

    /// An S3-compatible bucket, `s3://bucket`, with the standard `AWS_*` variables
    /// (`AWS_ENDPOINT`, `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_REGION`,
    /// `AWS_ALLOW_HTTP`).
    pub fn s3_from_env(url: &str, max_bytes: u64) -> anyhow::Result<Self> {
        install_crypto_provider();
        let store = object_store::aws::AmazonS3Builder::from_env()
            .with_url(url)
            .build()
            .map_err(|e| anyhow::anyhow!("bad S3 evidence store {url}: {e}"))?;
        Ok(EvidenceStore {
            store: Arc::new(store),
            max_bytes,
            local_root: None,
            description: format!("S3 {url}"),
            sweep_min_age: DEFAULT_SWEEP_MIN_AGE,
            in_flight: Arc::default(),
        })
    }

    /// An S3-compatible bucket at `endpoint` with explicit credentials (tests, benchmarks).
    pub fn s3(endpoint: &str, bucket: &str, key: &str, secret: &str, max_bytes: u64) -> anyhow::Result<Self> {
        install_crypto_provider();
        let store = object_store::aws::AmazonS3Builder::new()
            .with_endpoint(endpoint)
            .with_bucket_name(bucket)
            .with_access_key_id(key)
            .with_secret_access_key(secret)
            .with_region("us-east-1")
            .with_allow_http(true)
            .build()?;
        Ok(EvidenceStore {
            store: Arc::new(store),
            max_bytes,
            local_root: None,
            description: format!("S3 {endpoint}/{bucket}"),
            sweep_min_age: DEFAULT_SWEEP_MIN_AGE,
            in_flight: Arc::default(),
        })
    }

    /// In memory: for tests and states that never keep files.
    pub fn memory(max_bytes: u64) -> Self {
        EvidenceStore {
            store: Arc::new(InMemory::new()),
            max_bytes,
            local_root: None,
            description: "memory".into(),
            sweep_min_age: DEFAULT_SWEEP_MIN_AGE,
            in_flight: Arc::default(),
        }
    }

    /// Another handle on the same store, as a second instance sharing it would have (tests).
    #[cfg(test)]
    pub fn sharing(&self) -> Self {
        EvidenceStore {
            store: self.store.clone(),
            max_bytes: self.max_bytes,
            local_root: self.local_root.clone(),
            description: self.description.clone(),
            sweep_min_age: DEFAULT_SWEEP_MIN_AGE,
            in_flight: Arc::default(),
        }
    }

    /// The folder of a local store (tests).
    #[cfg(test)]
    pub fn local_root(&self) -> Option<&std::path::Path> {
        self.local_root.as_deref()
    }

    /// From `TRAGUARDI_EVIDENCE_STORE` (a folder, default `data/evidenze`, or `s3://bucket`),
    /// `TRAGUARDI_EVIDENCE_MAX_BYTES` (default 20 MB) and `TRAGUARDI_SWEEP_MIN_AGE_SECS` (default
    /// 3600). A bad value stops the start.
    pub fn from_env() -> anyhow::Result<Self> {
        let sweep_min_age = match std::env::var("TRAGUARDI_SWEEP_MIN_AGE_SECS") {
            Ok(v) => Duration::from_secs(v.trim().parse::<u64>().map_err(|_| {
                anyhow::anyhow!("TRAGUARDI_SWEEP_MIN_AGE_SECS must be a whole number of seconds (0 or more)")
            })?),
            Err(_) => DEFAULT_SWEEP_MIN_AGE,
        };
        let mut store = Self::from_env_store()?;
        store.sweep_min_age = sweep_min_age;
        Ok(store)
    }

    fn from_env_store() -> anyhow::Result<Self> {
        let max_bytes = match std::env::var("TRAGUARDI_EVIDENCE_MAX_BYTES") {
            Ok(v) => v.trim().parse::<u64>().ok().filter(|n| *n > 0).ok_or_else(|| {
                anyhow::anyhow!("TRAGUARDI_EVIDENCE_MAX_BYTES must be a positive number of bytes")
            })?,
            Err(_) => DEFAULT_MAX_BYTES,
        };
        let location = std::env::var("TRAGUARDI_EVIDENCE_STORE").unwrap_or_else(|_| "data/evidenze".into());
        if location.starts_with("s3://") {
            Self::s3_from_env(&location, max_bytes)
        } else {
            Self::local(location.strip_prefix("file://").unwrap_or(&location), max_bytes)
        }
    }

    /// A new temporary key, where a file is written while it arrives.
    pub fn temp_key() -> Path {
        Path::from(format!("tmp/{}", random_hex()))
    }

    /// A new temporary key for an upload of this process, remembered until
    /// [`EvidenceStore::upload_ended`]: a stop that cuts the upload removes its file.
    pub fn start_upload(&self) -> Path {
        let key = Self::temp_key();
        self.in_flight.lock().unwrap_or_else(|e| e.into_inner()).insert(key.clone());
        key
    }

    /// The upload of `key` is over (stored, refused or aborted): its temporary file is no
    /// longer this process's to remove at a stop.
    pub fn upload_ended(&self, key: &Path) {
        self.in_flight.lock().unwrap_or_else(|e| e.into_inner()).remove(key);
    }

    /// At a stop, after the grace period: removes the temporary files (and, in a folder, their
    /// partial parts) of the uploads still in flight, which the stop cuts. Returns how many
    /// uploads were cut.
    pub async fn remove_uploads_in_flight(&self) -> usize {
        let keys: Vec<Path> = self.in_flight.lock().unwrap_or_else(|e| e.into_inner()).drain().collect();
        for key in &keys {
            if let Err(e) = self.store.delete(key).await {
                if !matches!(e, object_store::Error::NotFound { .. }) {
                    tracing::warn!(error = %e, key = %key, "stop: cannot remove a cut upload (the sweep will)");
                }
            }
            if let (Some(root), Some(name)) = (&self.local_root, key.filename()) {
                // A local multipart upload writes `tmp/<key>#<n>` until it completes.
                let partial = format!("{name}#");
                if let Ok(entries) = std::fs::read_dir(root.join("tmp")) {
                    for entry in entries.flatten() {
                        if entry.file_name().to_string_lossy().starts_with(&partial) {
                            let _ = std::fs::remove_file(entry.path());
                        }
                    }
                }
            }
        }
        keys.len()
    }

    /// The start-up sweep: [`EvidenceStore::sweep`] with `sweep_min_age`.
    pub async fn sweep_at_start(&self, db: &Db) -> anyhow::Result<usize> {
        self.sweep(db, self.sweep_min_age).await
    }

    /// The periodic sweep's age: never below [`DEFAULT_SWEEP_MIN_AGE`], as this process's own
    /// uploads are in flight while it runs.
    pub fn periodic_min_age(&self) -> Duration {
        self.sweep_min_age.max(DEFAULT_SWEEP_MIN_AGE)
    }

    /// A new final key for a file of `comune`.
    pub fn final_key(comune: &str) -> Path {
        Path::from(format!("evidence/{comune}/{}", random_hex()))
    }

    /// Removes what interrupted uploads left: every temporary file, and every final file that
    /// no database row names (a crash between the file's move and the row's commit), when
    /// older than `min_age`. A younger one may belong to an upload in flight here or in another
    /// instance sharing the store. A final file is checked against the database again right
    /// before it is deleted: its row may have committed after the rows were listed. Returns how
    /// many files were removed.
    pub async fn sweep(&self, db: &Db, min_age: Duration) -> anyhow::Result<usize> {
        let known: HashSet<String> = crate::data::evidence::storage_keys(db).await?.into_iter().collect();
        self.sweep_listed(db, min_age, &known).await
    }

    /// [`EvidenceStore::sweep`] with the rows' keys as listed in `known` (public for the test
    /// of a row that commits after the listing).
    pub async fn sweep_listed(
        &self,
        db: &Db,
        min_age: Duration,
        known: &HashSet<String>,
    ) -> anyhow::Result<usize> {
        let cutoff = chrono::Utc::now() - chrono::Duration::from_std(min_age)?;
        let mut removed = 0;
        if let Some(root) = &self.local_root {
            // Partial files of cut uploads (`tmp/<key>#<n>`) are invisible to listings.
            let tmp = root.join("tmp");
            if let Ok(entries) = std::fs::read_dir(&tmp) {
                for entry in entries.flatten() {
                    let old = entry
                        .metadata()
                        .and_then(|m| m.modified())
                        .map(|t| chrono::DateTime::<chrono::Utc>::from(t) <= cutoff)
                        .unwrap_or(true);
                    if old && std::fs::remove_file(entry.path()).is_ok() {
                        removed += 1;
                    }
                }
            }
        } else {
            let mut tmp = self.store.list(Some(&Path::from("tmp")));
            while let Some(meta) = tmp.next().await {
                let meta = meta?;
                if meta.last_modified <= cutoff {
                    self.store.delete(&meta.location).await?;
                    removed += 1;
                }
            }
        }
        let mut finals = self.store.list(Some(&Path::from("evidence")));
        while let Some(meta) = finals.next().await {
            let meta = meta?;
            if meta.last_modified > cutoff || known.contains(meta.location.as_ref()) {
                continue;
            }
            // The row may have committed since the listing: ask again for this very file.
            if crate::data::evidence::has_storage_key(db, meta.location.as_ref()).await? {
                continue;
            }
            self.store.delete(&meta.location).await?;
            removed += 1;
        }
        Ok(removed)
    }

    /// Every key in the store (tests: "no file left behind").
    pub async fn keys(&self) -> anyhow::Result<Vec<String>> {
        let mut keys: Vec<String> = Vec::new();
        let mut all = self.store.list(None);
        while let Some(meta) = all.next().await {
            keys.push(meta?.location.to_string());
        }
        if let Some(root) = &self.local_root {
            // …including partial files, which listings hide.
            if let Ok(entries) = std::fs::read_dir(root.join("tmp")) {
                for entry in entries.flatten() {
                    let key = format!("tmp/{}", entry.file_name().to_string_lossy());
                    if !keys.contains(&key) {
                        keys.push(key);
                    }
                }
            }
        }
        keys.sort();
        Ok(keys)
    }

    /// A cheap question to the store, for `/readyz`: one listing of the top level of
    /// `evidence/` (one request to S3). A local store must also still be a folder: a listing
    /// under a missing or replaced folder comes back empty rather than failing.
    pub async fn probe(&self) -> anyhow::Result<()> {
        if let Some(root) = &self.local_root {
            let meta = tokio::fs::metadata(root)
                .await
                .map_err(|e| anyhow::anyhow!("evidence folder {}: {e}", root.display()))?;
            if !meta.is_dir() {
                anyhow::bail!("evidence folder {} is not a folder", root.display());
            }
        }
        self.store.list_with_delimiter(Some(&Path::from("evidence"))).await?;
        Ok(())
    }
}

fn random_hex() -> String {
    let bytes: [u8; 16] = rand::random();
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The S3 client's TLS uses ring (as sign-in does): make it the process's provider once.
fn install_crypto_provider() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}
