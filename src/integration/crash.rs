//! Crash safety and stopping, against the real server binary as a child process (`#[ignore]`d:
//! `make crash` runs them with `TRAGUARDI_SERVER_BIN=target/release/traguardi`).
//!
//! Each case gets a fresh database (SQLite file, or a PostgreSQL database of its own), loads the
//! demo data with `traguardi demo`, starts `traguardi serve --demo` on a free port of 127.0.0.1
//! with an evidence folder of its own, signs in as the demo Region user over real TCP and:
//! - kills the server (SIGKILL) in the middle of a 50 MB evidence upload, while the commit of a
//!   10,000-row import runs, or during a burst of workspace edits from several clients;
//! - restarts it on the same database and folder and checks: no partial rows, no file without
//!   its row nor row without its file once the start-up sweep has run, `traguardi audit verify`
//!   passes, and every write acknowledged to its client (303) is there;
//! - or stops it with SIGTERM: new connections are refused, the request in flight completes and
//!   the process exits 0; with a grace of 1 s a request that would take longer is cut, the
//!   process still exits 0 and the cut upload's temporary file is gone.
//!
//! The clients speak HTTP/1.1 on plain sockets (one request per connection), so a test controls
//! exactly how much of a body has been sent when the server is killed. Nothing waits for a
//! fixed time: each step waits for an observable state (a temporary file in the store, a
//! transaction open in the database, a number of acknowledged writes), with a generous deadline
//! that only turns a hang into a failure.

use std::{
    collections::BTreeSet,
    io::Read,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    sync::{
        atomic::{AtomicU64, AtomicUsize, Ordering},
        Arc, Mutex,
    },
    time::{Duration, Instant},
};

use sha2::{Digest, Sha256};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
};

use super::TestDb;
use crate::data::{on_db, Db};

pub(super) const MB: u64 = 1024 * 1024;
/// How long a step may take before the test calls it a hang (never a pass/fail threshold).
pub(super) const DEADLINE: Duration = Duration::from_secs(300);
const BOUNDARY: &str = "traguardi-crash-3f9a1c7e";

/// The server binary under test, from `TRAGUARDI_SERVER_BIN`.
fn server_bin() -> PathBuf {
    let Some(bin) = std::env::var_os("TRAGUARDI_SERVER_BIN") else {
        panic!(
            "TRAGUARDI_SERVER_BIN is not set: the crash tests start the server binary as a child process. \
             Run `make crash` (target/release/traguardi), or build one (`cargo build --features ssr --bin \
             traguardi`) and set TRAGUARDI_SERVER_BIN=target/debug/traguardi"
        )
    };
    let bin = PathBuf::from(bin);
    let bin = if bin.is_relative() { app_root().join(bin) } else { bin };
    assert!(bin.is_file(), "TRAGUARDI_SERVER_BIN names {} which is not a file", bin.display());
    bin
}

/// The app's root (its Cargo.toml holds the Leptos settings the server reads at start-up).
fn app_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A port of 127.0.0.1 free right now.
fn free_addr() -> String {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    l.local_addr().expect("its address").to_string()
}

/// One case: a database with the demo data, an evidence folder and a scratch folder for logs.
pub(super) struct Case {
    pub(super) name: String,
    pub(super) t: TestDb,
    bin: PathBuf,
    store: PathBuf,
    scratch: PathBuf,
    starts: AtomicUsize,
}

impl Case {
    pub(super) async fn new(t: TestDb, what: &str) -> Case {
        let name = format!("{what} on {}", t.db.backend());
        let scratch = std::env::temp_dir().join(super::unique("traguardi_crash"));
        std::fs::create_dir_all(&scratch).expect("scratch folder");
        let store = scratch.join("evidenze");
        let case = Case { name, t, bin: server_bin(), store, scratch, starts: AtomicUsize::new(0) };
        let (ok, out) = case.run(&["demo"]);
        assert!(ok, "{}: `traguardi demo` failed: {out}", case.name);
        case
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut c = Command::new(&self.bin);
        c.args(args)
            .current_dir(app_root())
            .env("DATABASE_URL", &self.t.url)
            .env("TRAGUARDI_EVIDENCE_STORE", &self.store)
            .env("TRAGUARDI_EVIDENCE_MAX_BYTES", (64 * MB).to_string())
            .env("RUST_LOG", "info,sqlx=warn,tower_http=warn")
            .env_remove("TRAGUARDI_AUDIT_KEY");
        c
    }

    /// Runs a subcommand to its end: (success, stdout and stderr).
    pub(super) fn run(&self, args: &[&str]) -> (bool, String) {
        let out = self.command(args).output().expect("run the server binary");
        let text =
            format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        (out.status.success(), text)
    }

    /// Starts `serve --demo` with `env` and waits until `/healthz` answers 200 (the start-up
    /// sweep has run by then: it runs before the server listens).
    pub(super) async fn start(&self, env: &[(&str, &str)]) -> Server {
        let n = self.starts.fetch_add(1, Ordering::SeqCst) + 1;
        let addr = free_addr();
        let log = self.scratch.join(format!("server-{n}.log"));
        let file = std::fs::File::create(&log).expect("server log");
        let mut c = self.command(&["serve", "--demo"]);
        c.env("LEPTOS_SITE_ADDR", &addr)
            // Many sign-ins and writes from one address: no rate limit in the way.
            .env("TRAGUARDI_LOGIN_LIMIT_PER_IP", "1000")
            .env("TRAGUARDI_LOGIN_LIMIT_PER_ACCOUNT", "1000")
            .stdin(Stdio::null())
            .stdout(file.try_clone().expect("log"))
            .stderr(file);
        for (k, v) in env {
            c.env(k, v);
        }
        let child = c.spawn().expect("start the server binary");
        let mut server = Server { child: Some(child), addr, log };
        let started = Instant::now();
        loop {
            if let Some(status) = server.child.as_mut().and_then(|c| c.try_wait().expect("server status")) {
                panic!("{}: the server exited at start ({status}): {}", self.name, server.log_text());
            }
            if let Ok(r) = request(&server.addr, "GET", "/healthz", None, None, b"").await {
                if r.status == 200 {
                    return server;
                }
            }
            assert!(started.elapsed() < DEADLINE, "{}: no /healthz: {}", self.name, server.log_text());
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// `traguardi audit verify` passes.
    pub(super) fn audit_verifies(&self) {
        let (ok, out) = self.run(&["audit", "verify"]);
        assert!(ok && out.contains("Audit trail intact"), "{}: audit verify: {out}", self.name);
    }

    /// Every file in the evidence folder (keys relative to it), partial files included.
    fn store_files(&self) -> BTreeSet<String> {
        fn walk(dir: &Path, root: &Path, out: &mut BTreeSet<String>) {
            for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
                let path = entry.path();
                if path.is_dir() {
                    walk(&path, root, out);
                } else {
                    out.insert(
                        path.strip_prefix(root).expect("under the root").to_string_lossy().into_owned(),
                    );
                }
            }
        }
        let mut out = BTreeSet::new();
        walk(&self.store, &self.store, &mut out);
        out
    }

    /// No orphan file and no row without its file: the folder holds exactly the rows' keys.
    async fn store_matches_rows(&self) {
        let rows: BTreeSet<String> =
            crate::data::evidence::storage_keys(&self.t.db).await.unwrap().into_iter().collect();
        assert_eq!(self.store_files(), rows, "{}: the evidence folder against the rows", self.name);
    }

    pub(super) async fn finish(self) {
        let _ = std::fs::remove_dir_all(&self.scratch);
        self.t.drop_db().await;
    }
}

/// The server child process; killed when dropped.
pub(super) struct Server {
    child: Option<Child>,
    pub(super) addr: String,
    log: PathBuf,
}

impl Server {
    fn pid(&self) -> u32 {
        self.child.as_ref().expect("running").id()
    }

    /// SIGKILL, and the process reaped.
    fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            c.kill().expect("SIGKILL the server");
            c.wait().expect("reap the server");
        }
    }

    /// SIGTERM (the process keeps running until it stops by itself).
    fn terminate(&self) {
        let status =
            Command::new("kill").args(["-TERM", &self.pid().to_string()]).status().expect("kill -TERM");
        assert!(status.success(), "kill -TERM {} failed", self.pid());
    }

    /// Waits for the process to exit by itself.
    async fn exit_status(&mut self) -> std::process::ExitStatus {
        let started = Instant::now();
        let mut child = self.child.take().expect("running");
        loop {
            if let Some(status) = child.try_wait().expect("server status") {
                return status;
            }
            if started.elapsed() > DEADLINE {
                let _ = child.kill();
                let _ = child.wait();
                panic!("the server did not exit after SIGTERM: {}", self.log_text());
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    pub(super) fn log_text(&self) -> String {
        let mut s = String::new();
        let _ = std::fs::File::open(&self.log).and_then(|mut f| f.read_to_string(&mut s));
        let tail: Vec<&str> = s.lines().rev().take(40).collect();
        tail.into_iter().rev().collect::<Vec<_>>().join("\n")
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}

/// An answer: status, headers (lower-case names) and body (as sent: chunked framing kept).
pub(super) struct Reply {
    pub(super) status: u16,
    pub(super) headers: Vec<(String, String)>,
    pub(super) body: String,
}

impl Reply {
    pub(super) fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }
}

fn head(
    method: &str,
    path: &str,
    addr: &str,
    cookie: Option<&str>,
    content_type: Option<&str>,
    len: u64,
) -> String {
    let mut h = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nOrigin: http://{addr}\r\nConnection: close\r\nContent-Length: {len}\r\n"
    );
    if let Some(c) = cookie {
        h.push_str(&format!("Cookie: {c}\r\n"));
    }
    if let Some(t) = content_type {
        h.push_str(&format!("Content-Type: {t}\r\n"));
    }
    h.push_str("\r\n");
    h
}

async fn read_reply(stream: &mut TcpStream) -> std::io::Result<Reply> {
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).await?;
    parse_reply(&raw)
}

fn parse_reply(raw: &[u8]) -> std::io::Result<Reply> {
    let bad = || std::io::Error::new(std::io::ErrorKind::InvalidData, "no HTTP answer");
    let end = raw.windows(4).position(|w| w == b"\r\n\r\n").ok_or_else(bad)?;
    let head = String::from_utf8_lossy(&raw[..end]);
    let mut lines = head.lines();
    let status =
        lines.next().and_then(|l| l.split(' ').nth(1)).and_then(|s| s.parse().ok()).ok_or_else(bad)?;
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    Ok(Reply { status, headers, body: String::from_utf8_lossy(&raw[end + 4..]).into_owned() })
}

/// One request on a connection of its own.
pub(super) async fn request(
    addr: &str,
    method: &str,
    path: &str,
    cookie: Option<&str>,
    content_type: Option<&str>,
    body: &[u8],
) -> std::io::Result<Reply> {
    let mut s = TcpStream::connect(addr).await?;
    s.write_all(head(method, path, addr, cookie, content_type, body.len() as u64).as_bytes()).await?;
    s.write_all(body).await?;
    read_reply(&mut s).await
}

pub(super) async fn post_form(addr: &str, path: &str, cookie: &str, body: &str) -> std::io::Result<Reply> {
    request(addr, "POST", path, Some(cookie), Some("application/x-www-form-urlencoded"), body.as_bytes())
        .await
}

/// Signs in as the demo Region user: the session cookie (`name=value`).
pub(super) async fn sign_in(addr: &str) -> String {
    let (email, _, _, _, password) = crate::auth::users::DEMO_ACCOUNTS[0];
    let form = format!("email={}&password={password}&next=/", email.replace('@', "%40"));
    let r =
        request(addr, "POST", "/accedi", None, Some("application/x-www-form-urlencoded"), form.as_bytes())
            .await
            .expect("sign-in");
    assert_eq!(r.status, 303, "sign-in as {email}: {}", r.body);
    r.headers
        .iter()
        .filter(|(n, _)| n == "set-cookie")
        .filter_map(|(_, v)| v.split(';').next())
        .map(str::trim)
        .find(|c| c.split_once('=').is_some_and(|(n, v)| n.ends_with("traguardi_sessione") && !v.is_empty()))
        .expect("a session cookie")
        .to_string()
}

pub(super) async fn count(db: &Db, sql: &str) -> i64 {
    on_db!(db, pool => sqlx::query_scalar::<_, i64>(sql).fetch_one(pool).await.unwrap())
}

/// A PDF of `bytes` bytes (header, pseudo-random bytes from `seed` without `<`, trailer) in a
/// multipart body, produced 64 KiB at a time; and the file's SHA-256 when complete.
pub(super) struct PdfUpload {
    parts: Vec<Vec<u8>>,
    pub(super) digest: String,
}

impl PdfUpload {
    pub(super) fn new(bytes: u64, seed: u64) -> PdfUpload {
        let header = b"%PDF-1.7\n".to_vec();
        let trailer = b"\n%%EOF\n".to_vec();
        let mut rng = seed | 1;
        let mut left = bytes - (header.len() + trailer.len()) as u64;
        let mut hasher = Sha256::new();
        let mut parts = vec![format!(
            "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"verbale.pdf\"\r\n\
             Content-Type: application/pdf\r\n\r\n"
        )
        .into_bytes()];
        hasher.update(&header);
        parts.push(header);
        while left > 0 {
            let n = left.min(64 * 1024) as usize;
            let mut chunk = Vec::with_capacity(n + 8);
            while chunk.len() < n {
                rng ^= rng >> 12;
                rng ^= rng << 25;
                rng ^= rng >> 27;
                chunk.extend_from_slice(&rng.wrapping_mul(0x2545_f491_4f6c_dd1d).to_le_bytes());
            }
            chunk.truncate(n);
            for b in &mut chunk {
                if *b == b'<' {
                    *b = b'>';
                }
            }
            hasher.update(&chunk);
            parts.push(chunk);
            left -= n as u64;
        }
        hasher.update(&trailer);
        parts.push(trailer);
        parts.push(format!("\r\n--{BOUNDARY}--\r\n").into_bytes());
        PdfUpload { parts, digest: format!("{:x}", hasher.finalize()) }
    }

    fn len(&self) -> u64 {
        self.parts.iter().map(|p| p.len() as u64).sum()
    }
}

/// An upload sent part by part; it stops before the part at which `pause_at` bytes are reached
/// until `resume` is notified (never, for an upload the test cuts). `sent` counts the bytes.
pub(super) async fn send_upload(
    addr: String,
    path: String,
    cookie: String,
    upload: Arc<PdfUpload>,
    pause_at: Option<u64>,
    resume: Arc<tokio::sync::Notify>,
    sent: Arc<AtomicU64>,
) -> std::io::Result<Reply> {
    let mut s = TcpStream::connect(&addr).await?;
    let ct = format!("multipart/form-data; boundary={BOUNDARY}");
    s.write_all(head("POST", &path, &addr, Some(&cookie), Some(&ct), upload.len()).as_bytes()).await?;
    let mut paused = false;
    for part in &upload.parts {
        if !paused && pause_at.is_some_and(|p| sent.load(Ordering::SeqCst) >= p) {
            paused = true;
            resume.notified().await;
        }
        s.write_all(part).await?;
        sent.fetch_add(part.len() as u64, Ordering::SeqCst);
    }
    read_reply(&mut s).await
}

/// Waits until `ready` holds, polling; panics after [`DEADLINE`] with `what`.
pub(super) async fn until<F, Fut>(what: &str, mut ready: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let started = Instant::now();
    while !ready().await {
        assert!(started.elapsed() < DEADLINE, "gave up waiting: {what}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// An upload is being written to the store: its temporary file exists (the server creates it
/// once the file's first bytes passed the kind check).
fn has_temp_file(store: &Path) -> bool {
    std::fs::read_dir(store.join("tmp")).map(|mut d| d.next().is_some()).unwrap_or(false)
}

const COMUNE: &str = "072006";

/// An upload started in the background and paused halfway: it returns once `half` bytes are
/// sent and the server has created the upload's temporary file in `store`. The test then kills
/// or stops the server and, if it wants the rest sent, calls `resume.notify_one()`.
struct PausedUpload {
    task: tokio::task::JoinHandle<std::io::Result<Reply>>,
    resume: Arc<tokio::sync::Notify>,
}

impl PausedUpload {
    async fn start(
        addr: &str,
        path: String,
        cookie: String,
        upload: Arc<PdfUpload>,
        half: u64,
        store: &Path,
    ) -> Self {
        let (sent, resume) = (Arc::new(AtomicU64::new(0)), Arc::new(tokio::sync::Notify::new()));
        let task = tokio::spawn(send_upload(
            addr.to_owned(),
            path,
            cookie,
            upload,
            Some(half),
            resume.clone(),
            sent.clone(),
        ));
        let store = store.to_path_buf();
        until("half of the upload sent and its temporary file in the store", || {
            let (sent, store) = (sent.clone(), store.clone());
            async move { sent.load(Ordering::SeqCst) >= half && has_temp_file(&store) }
        })
        .await;
        PausedUpload { task, resume }
    }
}

/// (a) SIGKILL in the middle of a 50 MB upload: after the restart the upload acknowledged
/// before it is there, byte for byte; the cut one left no row and, once the start-up sweep has
/// run, no file.
#[tokio::test]
#[ignore = "starts the server binary: make crash"]
async fn crash_during_a_50_mb_upload_loses_nothing_acknowledged() {
    for t in TestDb::all().await {
        let case = Case::new(t, "SIGKILL during a 50 MB upload").await;
        let mut server = case.start(&[]).await;
        let cookie = sign_in(&server.addr).await;
        let rows_before = count(&case.t.db, "SELECT COUNT(*) FROM evidence").await;
        // One upload acknowledged before the crash.
        let done = Arc::new(PdfUpload::new(MB, 1));
        let path = format!("/comuni/{COMUNE}/evidenze/step1_pagopa");
        let sent = Arc::new(AtomicU64::new(0));
        let r =
            send_upload(server.addr.clone(), path, cookie.clone(), done.clone(), None, Arc::default(), sent)
                .await
                .expect("first upload");
        assert_eq!(r.status, 303, "{}: the first upload: {}", case.name, r.body);
        let acknowledged = vec![done.digest.clone()];

        // The 50 MB upload, paused halfway until the server is killed.
        let big = Arc::new(PdfUpload::new(50 * MB, 2));
        let path = format!("/comuni/{COMUNE}/evidenze/step1_io");
        let cut =
            PausedUpload::start(&server.addr, path, cookie.clone(), big.clone(), 25 * MB, &case.store).await;
        server.kill();
        // The client tries to send the rest to the dead server.
        cut.resume.notify_one();
        let answer = cut.task.await.expect("upload task");
        assert!(
            !matches!(answer, Ok(ref r) if r.status == 303),
            "{}: the cut upload cannot have been acknowledged",
            case.name
        );
        assert!(
            case.store_files().iter().any(|k| k.starts_with("tmp/")),
            "{}: the kill left the upload's temporary file (the sweep's work)",
            case.name
        );

        // Restart: a single instance uses this folder, so the start-up sweep may take every
        // leftover at once (TRAGUARDI_SWEEP_MIN_AGE_SECS=0).
        let server = case.start(&[("TRAGUARDI_SWEEP_MIN_AGE_SECS", "0")]).await;
        case.store_matches_rows().await;
        let rows = count(&case.t.db, "SELECT COUNT(*) FROM evidence").await;
        assert_eq!(rows, rows_before + acknowledged.len() as i64, "{}: no partial row", case.name);
        for digest in &acknowledged {
            let key: String = on_db!(&case.t.db, pool => sqlx::query_scalar(
                "SELECT storage_key FROM evidence WHERE sha256 = $1",
            )
            .bind(digest)
            .fetch_one(pool)
            .await
            .unwrap_or_else(|e| panic!("{}: the acknowledged upload {digest} is lost: {e}", case.name)));
            let bytes = std::fs::read(case.store.join(&key)).expect("the acknowledged file");
            assert_eq!(&format!("{:x}", Sha256::digest(&bytes)), digest, "{}: file intact", case.name);
        }
        drop(server);
        case.audit_verifies();
        case.finish().await;
    }
}

/// A writing transaction of the server is open right now (the import's commit).
async fn commit_in_progress(db: &Db, sqlite_url: &str) -> bool {
    match db {
        Db::Postgres(pool) => {
            sqlx::query_scalar::<_, i64>(
                "SELECT COUNT(*) FROM pg_stat_activity WHERE datname = current_database() \
             AND pid <> pg_backend_pid() AND backend_xid IS NOT NULL",
            )
            .fetch_one(pool)
            .await
            .unwrap()
                > 0
        }
        Db::Sqlite(_) => {
            // SQLite's write lock is taken: a connection of our own cannot begin a write.
            use sqlx::{ConnectOptions, Connection};
            let options: sqlx::sqlite::SqliteConnectOptions = sqlite_url.parse().unwrap();
            let mut c = options.busy_timeout(Duration::ZERO).connect().await.unwrap();
            let locked = sqlx::query("BEGIN IMMEDIATE").execute(&mut c).await.is_err();
            if !locked {
                sqlx::query("ROLLBACK").execute(&mut c).await.unwrap();
            }
            let _ = c.close().await;
            locked
        }
    }
}

/// (b) SIGKILL while the commit of a 10,000-row import runs: the import is all or nothing (the
/// data version moved by 0 or 1 and the rows and trail entries by 0 or 10,000 with it), an
/// acknowledged commit is there, and after the restart the same import applies whole.
#[tokio::test]
#[ignore = "starts the server binary: make crash"]
async fn crash_during_an_import_commit_is_all_or_nothing() {
    for t in TestDb::all().await {
        let case = Case::new(t, "SIGKILL during the commit of a 10,000-row import").await;
        let mut server = case.start(&[]).await;
        let cookie = sign_in(&server.addr).await;
        let csv = super::ten_thousand_new_counts_csv(&case.t.db).await;
        let body = format!(
            "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"conteggi.csv\"\r\n\
             Content-Type: text/csv\r\n\r\n{csv}\r\n--{BOUNDARY}--\r\n"
        );
        let ct = format!("multipart/form-data; boundary={BOUNDARY}");
        let r = request(&server.addr, "POST", "/importazioni", Some(&cookie), Some(&ct), body.as_bytes())
            .await
            .expect("import upload");
        assert_eq!(r.status, 303, "{}: the upload of the import: {}", case.name, r.body);
        let id: i64 = r
            .header("location")
            .and_then(|l| l.strip_prefix("/importazioni/"))
            .and_then(|l| l.parse().ok())
            .expect("the batch's address");
        // The dry run.
        let page = request(&server.addr, "GET", &format!("/importazioni/{id}"), Some(&cookie), None, b"")
            .await
            .expect("dry run");
        assert_eq!(page.status, 200);
        assert!(page.body.contains("10000 aggiunti"), "{}: the dry run: {}", case.name, page.body);

        let db = &case.t.db;
        // (data version, count snapshots, trail entries, the import's entries, entries marking
        // the dataset as real: the first import into the demo data writes one, in its transaction).
        let named = format!("SELECT COUNT(*) FROM audit_entry WHERE reason = 'Importazione n. {id}'");
        let named: &str = &named;
        let fingerprint = move || async move {
            (
                db.data_version().await.unwrap(),
                count(db, "SELECT COUNT(*) FROM service_count").await,
                count(db, "SELECT COUNT(*) FROM audit_entry").await,
                count(db, named).await,
                count(db, "SELECT COUNT(*) FROM audit_entry WHERE entity = 'dataset'").await,
            )
        };
        let before = fingerprint().await;
        let addr = server.addr.clone();
        let confirm = {
            let cookie = cookie.clone();
            tokio::spawn(async move {
                post_form(&addr, &format!("/importazioni/{id}/conferma"), &cookie, "").await
            })
        };
        // A writing transaction seen open on three probes in a row: the import's (a request's
        // session bookkeeping writes for well under a probe's interval).
        let url = case.t.url.clone();
        let seen = Arc::new(AtomicUsize::new(0));
        until("the import's transaction open", || {
            let (url, seen) = (url.clone(), seen.clone());
            async move {
                if commit_in_progress(db, &url).await {
                    seen.fetch_add(1, Ordering::SeqCst) + 1 >= 3
                } else {
                    seen.store(0, Ordering::SeqCst);
                    false
                }
            }
        })
        .await;
        server.kill();
        let acknowledged = confirm.await.expect("confirm task").is_ok_and(|r| r.status == 303);

        let server = case.start(&[]).await;
        let after = fingerprint().await;
        let moved = after.0 - before.0;
        println!(
            "{}: killed during the commit; the import {}",
            case.name,
            if moved == 1 { "had committed" } else { "had not committed" }
        );
        assert!(moved == 0 || moved == 1, "{}: data version moved by {moved}", case.name);
        assert_eq!(after.1 - before.1, 10_000 * moved, "{}: rows all or nothing", case.name);
        assert_eq!(after.3 - before.3, 10_000 * moved, "{}: trail entries all or nothing", case.name);
        assert!(after.4 - before.4 <= moved, "{}: the dataset's mark goes with the import", case.name);
        assert_eq!(
            after.2 - before.2,
            (after.3 - before.3) + (after.4 - before.4),
            "{}: no other trail entry",
            case.name
        );
        if acknowledged {
            assert_eq!(moved, 1, "{}: an acknowledged import is lost", case.name);
        }
        let status: String = on_db!(db, pool => sqlx::query_scalar("SELECT status FROM import_batch WHERE id = $1")
            .bind(id)
            .fetch_one(pool)
            .await
            .unwrap());
        assert_eq!(
            status,
            if moved == 1 { "applicata" } else { "in_prova" },
            "{}: the batch's status",
            case.name
        );
        case.audit_verifies();
        // Nothing half-done stands in the way: the import applies (or has applied) whole.
        let cookie = sign_in(&server.addr).await;
        // (The sign-in itself may leave a trail entry: the trail is counted from here.)
        let signed_in = fingerprint().await;
        let r = post_form(&server.addr, &format!("/importazioni/{id}/conferma"), &cookie, "")
            .await
            .expect("confirm");
        assert_eq!(r.status, 303, "{}: confirm after the restart: {}", case.name, r.body);
        let last = fingerprint().await;
        assert_eq!(
            (last.0 - before.0, last.1 - before.1, last.3 - before.3),
            (1, 10_000, 10_000),
            "{}",
            case.name
        );
        assert_eq!(
            last.2 - signed_in.2,
            (last.3 - signed_in.3) + (last.4 - signed_in.4),
            "{}: the retry's trail entries",
            case.name
        );
        drop(server);
        case.audit_verifies();
        case.finish().await;
    }
}

/// One write a client saw acknowledged.
#[derive(Clone, Debug)]
enum Write {
    Note { comune: String, body: String },
    Count { comune: String, day: String, active: i64 },
}

/// (c) SIGKILL during a burst of workspace edits (notes and counts) from several clients:
/// every acknowledged write is there after the restart, each write present has its one trail
/// entry, and the trail verifies.
#[tokio::test]
#[ignore = "starts the server binary: make crash"]
async fn crash_during_a_burst_of_workspace_edits_loses_no_acknowledged_write() {
    const CLIENTS: usize = 6;
    for t in TestDb::all().await {
        let case = Case::new(t, "SIGKILL during a burst of workspace edits").await;
        let mut server = case.start(&[]).await;
        let comuni: Vec<String> = on_db!(&case.t.db, pool => sqlx::query_scalar(
            "SELECT codice_istat FROM comune ORDER BY codice_istat LIMIT 6",
        )
        .fetch_all(pool)
        .await
        .unwrap());
        let db = &case.t.db;
        let fingerprint = move || async move {
            (
                count(db, "SELECT COUNT(*) FROM comune_note").await,
                count(db, "SELECT COUNT(*) FROM service_count").await,
                count(db, "SELECT COUNT(*) FROM audit_entry").await,
            )
        };
        let mut cookies = Vec::new();
        for _ in 0..CLIENTS {
            cookies.push(sign_in(&server.addr).await);
        }
        let before = fingerprint().await;
        let acked: Arc<Mutex<Vec<Write>>> = Arc::default();
        let acked_count = Arc::new(AtomicUsize::new(0));
        let mut clients = Vec::new();
        for (k, cookie) in cookies.into_iter().enumerate() {
            let (addr, acked, acked_count) = (server.addr.clone(), acked.clone(), acked_count.clone());
            let comune = comuni[k % comuni.len()].clone();
            clients.push(tokio::spawn(async move {
                let start = chrono::NaiveDate::from_ymd_opt(2022, 1, 3).unwrap();
                for i in 0.. {
                    let path = format!(
                        "/comuni/{comune}/gestione/{}",
                        if i % 2 == 0 { "nota" } else { "conteggio" }
                    );
                    let (form, write) = if i % 2 == 0 {
                        let body = format!("crash client {k} write {i}");
                        (
                            format!("testo={}", body.replace(' ', "+")),
                            Write::Note { comune: comune.clone(), body },
                        )
                    } else {
                        // One new day per count (a week apart from the demo's, after them).
                        let day = (start + chrono::Duration::days(i)).format("%Y-%m-%d").to_string();
                        let active = (k * 1000 + i as usize) as i64 % 90_000;
                        (
                            format!("piattaforma=io&giorno={day}&attivi={active}&versione=0"),
                            Write::Count { comune: comune.clone(), day, active },
                        )
                    };
                    match post_form(&addr, &path, &cookie, &form).await {
                        Ok(r) if r.status == 303 => {
                            acked.lock().unwrap().push(write);
                            acked_count.fetch_add(1, Ordering::SeqCst);
                        }
                        Ok(r) if r.status < 500 => {
                            panic!("client {k}: write {i} refused: {} {}", r.status, r.body)
                        }
                        // The server is gone: this write was not acknowledged.
                        _ => return,
                    }
                }
            }));
        }
        until("60 writes acknowledged", || {
            let n = acked_count.load(Ordering::SeqCst);
            async move { n >= 60 }
        })
        .await;
        server.kill();
        for c in clients {
            c.await.expect("client");
        }
        let acked = acked.lock().unwrap().clone();

        let server = case.start(&[]).await;
        let after = fingerprint().await;
        let (notes, counts) = (after.0 - before.0, after.1 - before.1);
        assert_eq!(after.2 - before.2, notes + counts, "{}: one trail entry per write present", case.name);
        assert!(notes + counts >= acked.len() as i64, "{}", case.name);
        let mut lost = Vec::new();
        for w in &acked {
            let found =
                match w {
                    Write::Note { comune, body } => {
                        on_db!(db, pool => sqlx::query_scalar::<_, i64>(
                    "SELECT COUNT(*) FROM comune_note WHERE comune = $1 AND body = $2",
                )
                .bind(comune)
                .bind(body)
                .fetch_one(pool)
                .await
                .unwrap()) == 1
                    }
                    Write::Count { comune, day, active } => {
                        on_db!(db, pool => sqlx::query_scalar::<_, i64>(
                    "SELECT COUNT(*) FROM service_count WHERE comune = $1 AND platform = 'io' \
                     AND CAST(day AS TEXT) = $2 AND active = $3",
                )
                .bind(comune)
                .bind(day)
                .bind(active)
                .fetch_one(pool)
                .await
                .unwrap()) == 1
                    }
                };
            if !found {
                lost.push(w.clone());
            }
        }
        println!(
            "{}: {} writes acknowledged before the kill, {} present after the restart",
            case.name,
            acked.len(),
            notes + counts
        );
        assert!(lost.is_empty(), "{}: acknowledged writes lost: {lost:?}", case.name);
        drop(server);
        case.audit_verifies();
        case.finish().await;
    }
}

/// Whether a new connection to `addr` is refused.
async fn refused(addr: &str) -> bool {
    TcpStream::connect(addr).await.is_err()
}

/// The server binary counts its heap for `/metrics` (its global allocator, `main.rs`): the heap
/// in use is there, above a megabyte (the demo snapshot alone is more) and below the resident
/// memory. A library test cannot see it: its binary's allocator is the system's.
#[tokio::test]
#[ignore = "starts the server binary: make crash"]
async fn the_server_binary_counts_its_heap_for_metrics() {
    let case = Case::new(TestDb::sqlite().await, "heap in /metrics").await;
    let server = case.start(&[]).await;
    // A page first, so that the snapshot is built.
    let page = request(&server.addr, "GET", "/", None, None, b"").await.expect("the dashboard");
    assert_eq!(page.status, 200, "{}", server.log_text());
    let metrics = request(&server.addr, "GET", "/metrics", None, None, b"").await.expect("/metrics");
    assert_eq!(metrics.status, 200, "{}", metrics.body);
    // A series that is missing reads as 0.
    let gauge = |name: &str| super::ops::value(&metrics.body, name, &[]);
    let (heap, resident) = (gauge("traguardi_heap_bytes"), gauge("traguardi_resident_memory_bytes"));
    assert!(heap > 1_048_576.0 && heap < resident, "heap {heap}, resident {resident}:\n{}", metrics.body);
    drop(server);
    case.finish().await;
}

/// SIGTERM during a slow upload: new connections are refused at once, the upload in flight
/// completes (303, its row and file there) and the process exits 0.
#[tokio::test]
#[ignore = "starts the server binary: make crash"]
async fn sigterm_lets_the_request_in_flight_finish_and_exits_0() {
    for t in TestDb::all().await {
        let case = Case::new(t, "SIGTERM during an upload").await;
        let mut server = case.start(&[]).await;
        let cookie = sign_in(&server.addr).await;
        let upload = Arc::new(PdfUpload::new(8 * MB, 3));
        let path = format!("/comuni/{COMUNE}/evidenze/step1_pagopa");
        let in_flight =
            PausedUpload::start(&server.addr, path, cookie, upload.clone(), 6 * MB, &case.store).await;
        server.terminate();
        let addr = server.addr.clone();
        until("new connections refused after SIGTERM", || {
            let addr = addr.clone();
            async move { refused(&addr).await }
        })
        .await;
        // The rest of the upload, after the stop began.
        in_flight.resume.notify_one();
        let r = in_flight.task.await.expect("upload task").expect("the upload in flight is answered");
        assert_eq!(r.status, 303, "{}: the upload in flight completes: {}", case.name, r.body);
        let status = server.exit_status().await;
        assert_eq!(status.code(), Some(0), "{}: exit status after SIGTERM: {}", case.name, server.log_text());
        let stored: i64 = on_db!(&case.t.db, pool => sqlx::query_scalar(
            "SELECT COUNT(*) FROM evidence WHERE sha256 = $1",
        )
        .bind(&upload.digest)
        .fetch_one(pool)
        .await
        .unwrap());
        assert_eq!(stored, 1, "{}: the completed upload's row", case.name);
        case.store_matches_rows().await;
        case.finish().await;
    }
}

/// SIGTERM with a grace of 1 s and an upload that would take longer: the process exits 0 after
/// the grace, with the cut upload's temporary file removed and no row.
#[tokio::test]
#[ignore = "starts the server binary: make crash"]
async fn sigterm_cuts_a_request_longer_than_the_grace_and_removes_its_temporary_file() {
    for t in TestDb::all().await {
        let case = Case::new(t, "SIGTERM with a grace of 1 s").await;
        let mut server = case.start(&[("TRAGUARDI_SHUTDOWN_GRACE_SECS", "1")]).await;
        let cookie = sign_in(&server.addr).await;
        let rows_before = count(&case.t.db, "SELECT COUNT(*) FROM evidence").await;
        let upload = Arc::new(PdfUpload::new(8 * MB, 4));
        // Paused halfway and never resumed: it would take forever.
        let path = format!("/comuni/{COMUNE}/evidenze/step1_pagopa");
        let endless = PausedUpload::start(&server.addr, path, cookie, upload, 6 * MB, &case.store).await;
        server.terminate();
        let status = server.exit_status().await;
        assert_eq!(
            status.code(),
            Some(0),
            "{}: exit status after the grace: {}",
            case.name,
            server.log_text()
        );
        endless.task.abort();
        let left: Vec<String> = case.store_files().into_iter().filter(|k| k.starts_with("tmp/")).collect();
        assert!(left.is_empty(), "{}: temporary files left by the cut upload: {left:?}", case.name);
        assert_eq!(
            count(&case.t.db, "SELECT COUNT(*) FROM evidence").await,
            rows_before,
            "{}: no row",
            case.name
        );
        case.store_matches_rows().await;
        case.finish().await;
    }
}

#[test]
fn replies_parse() {
    let r = parse_reply(b"HTTP/1.1 303 See Other\r\nLocation: /x\r\nSet-Cookie: a=b\r\n\r\nbody").unwrap();
    assert_eq!((r.status, r.header("location"), r.body.as_str()), (303, Some("/x"), "body"));
    assert!(parse_reply(b"garbage").is_err());
}
