//! Keeping the server's resident memory level under long load: no transparent huge pages.
//!
//! Rust's allocations go to mimalloc (`src/main.rs`). mimalloc reserves one large arena and
//! asks the kernel for transparent huge pages on it (`madvise(MADV_HUGEPAGE)`); when it later
//! gives freed memory back (in 64 KiB steps, a second after the free), a range inside a huge page
//! stays resident unless the page is split, and the kernel's `khugepaged` collapses split ranges
//! into 2 MiB pages again (most likely the mechanism; what is measured is below). On 04/12/2026,
//! SQLite, 200 operations/s: the median resident memory of each
//! minute was 420–497 MiB, 223 MiB of it in huge pages of mimalloc's arena, while
//! `malloc_trim` (the C allocator's own free memory, SQLite's) gave back only 9 MiB; with huge
//! pages off for the process the same load ran at 316–335 MiB for six minutes (README, "Soak").
//! That run also showed what the huge pages had hidden: a rise to 420 MiB in the last four
//! minutes, found later to follow the SQLite pool's replaced connections, a thread each
//! (`data::Db::connect` says why the SQLite pool no longer pings).
//!
//! Huge pages would save TLB misses on a large, long-lived heap; this server's heap is mostly
//! short-lived answers: with them off, wrk at 64 connections (8 s each, Puglia demo) served
//! `/` from the page cache at 12,950 requests/s against 8,663 with them on, and a comune page
//! rendered anew (a request with a cookie) at 1,441 against 1,161.

use std::time::Duration;

/// The shape of tokio's blocking pool, where the server compresses the cached pages, hashes
/// passwords, draws pictures, typesets the report, writes workbooks, reads imports and touches
/// the evidence folder.
///
/// tokio's defaults (up to 512 threads, each ending after 10 s idle) suit a large machine with
/// short bursts; here every write empties the page cache and the next readers' pages are
/// compressed at once, so a burst would start a thread per page (each with its 2 MiB stack and
/// its own mimalloc heap) that ends ten seconds later, to be started again by the next burst. A
/// pool of 16 threads kept for an hour is started once: on two cores more than 16 blocking jobs
/// at once only wait for the processor anyway, and the expensive kinds are bounded before they
/// get here (`TRAGUARDI_LIMITE_*`). In the soak of 04/12/2026 (evening) the process had at
/// most 27 threads in all at any reading (every 5 s for ten minutes). Alone it did not stop the
/// soak's memory from rising: threads were also started by the SQLite pool (no longer, see
/// `data::Db::connect`) and still are by the workbook writer (README, "Soak").
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BlockingPool {
    /// At most this many threads besides the workers (`TRAGUARDI_BLOCKING_THREADS`, 1–512).
    pub max_threads: usize,
    /// A thread idle this long ends (`TRAGUARDI_BLOCKING_KEEP_ALIVE_SECS`, 1–86400).
    pub keep_alive: Duration,
}

impl BlockingPool {
    /// 16 threads, kept for an hour idle.
    pub const DEFAULT: Self = Self { max_threads: 16, keep_alive: Duration::from_secs(3600) };

    /// The pool as configured; a value out of range or not a whole number stops the start.
    pub fn from_env() -> anyhow::Result<Self> {
        Self::from_vars(
            std::env::var("TRAGUARDI_BLOCKING_THREADS").ok().as_deref(),
            std::env::var("TRAGUARDI_BLOCKING_KEEP_ALIVE_SECS").ok().as_deref(),
        )
    }

    fn from_vars(threads: Option<&str>, keep_alive: Option<&str>) -> anyhow::Result<Self> {
        fn whole(
            name: &str,
            value: Option<&str>,
            range: std::ops::RangeInclusive<u64>,
        ) -> anyhow::Result<Option<u64>> {
            let Some(value) = value else { return Ok(None) };
            match value.trim().parse::<u64>() {
                Ok(n) if range.contains(&n) => Ok(Some(n)),
                _ => anyhow::bail!(
                    "{name} must be a whole number from {} to {} (got {value:?})",
                    range.start(),
                    range.end()
                ),
            }
        }
        let mut pool = Self::DEFAULT;
        if let Some(n) = whole("TRAGUARDI_BLOCKING_THREADS", threads, 1..=512)? {
            pool.max_threads = n as usize;
        }
        if let Some(secs) = whole("TRAGUARDI_BLOCKING_KEEP_ALIVE_SECS", keep_alive, 1..=86_400)? {
            pool.keep_alive = Duration::from_secs(secs);
        }
        Ok(pool)
    }

    /// The server's runtime: tokio's multi-threaded scheduler with this blocking pool.
    pub fn runtime(self) -> std::io::Result<tokio::runtime::Runtime> {
        tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .max_blocking_threads(self.max_threads)
            .thread_keep_alive(self.keep_alive)
            .build()
    }
}

/// Turns transparent huge pages off for this process (`prctl(PR_SET_THP_DISABLE)`), whatever the
/// machine's setting (`always` or `madvise`), for the mappings made before the call as well.
/// Called first thing in `main`. `true` when they are off (always `false` where the call does
/// not exist).
pub fn huge_pages_off() -> bool {
    #[cfg(target_os = "linux")]
    {
        // SAFETY: PR_SET_THP_DISABLE takes plain integers and only sets a flag of the process's
        // memory map; it touches no memory of ours.
        unsafe { libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0) == 0 && huge_pages_are_off() }
    }
    #[cfg(not(target_os = "linux"))]
    {
        false
    }
}

/// Whether transparent huge pages are off for this process (`prctl(PR_GET_THP_DISABLE)`).
pub fn huge_pages_are_off() -> bool {
    #[cfg(target_os = "linux")]
    {
        // SAFETY: as above, a read of the same flag.
        unsafe { libc::prctl(libc::PR_GET_THP_DISABLE, 0, 0, 0, 0) == 1 }
    }
    #[cfg(not(target_os = "linux"))]
    {
        false
    }
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;

    /// The switch really reaches the kernel: the flag reads back as set, and the kernel's own
    /// view of the process (`THP_enabled` in /proc/self/status, Linux 5.0 and later) agrees.
    #[test]
    fn huge_pages_are_turned_off_for_the_whole_process() {
        assert!(huge_pages_off(), "prctl(PR_SET_THP_DISABLE) did not take");
        assert!(huge_pages_are_off());
        let status = std::fs::read_to_string("/proc/self/status").unwrap();
        if let Some(line) = status.lines().find(|l| l.starts_with("THP_enabled:")) {
            assert_eq!(line.split_whitespace().nth(1), Some("0"), "{line}");
        }
    }

    /// Blocking jobs `burst` at a time, each long enough that they overlap; the threads that ran them.
    fn burst(
        runtime: &tokio::runtime::Runtime,
        jobs: usize,
    ) -> std::collections::HashSet<std::thread::ThreadId> {
        runtime.block_on(async {
            let handles = (0..jobs)
                .map(|_| {
                    tokio::task::spawn_blocking(|| {
                        std::thread::sleep(Duration::from_millis(30));
                        std::thread::current().id()
                    })
                })
                .collect::<Vec<_>>();
            let mut ids = std::collections::HashSet::new();
            for h in handles {
                ids.insert(h.await.unwrap());
            }
            ids
        })
    }

    /// The server's blocking pool neither grows past its bound under a burst nor lets its
    /// threads end between bursts: after a pause longer than tokio's default keep-alive (10 s)
    /// the same threads do the work. With tokio's defaults the first burst ran on 64 threads and
    /// the second on 64 new ones.
    #[test]
    fn the_blocking_pool_is_bounded_and_its_threads_stay() {
        let runtime = BlockingPool::from_vars(None, None).unwrap().runtime().unwrap();
        let first = burst(&runtime, 64);
        assert!(first.len() <= BlockingPool::DEFAULT.max_threads, "{} threads for one burst", first.len());
        std::thread::sleep(Duration::from_secs(11));
        let second = burst(&runtime, 64);
        let new = second.difference(&first).count();
        assert_eq!(new, 0, "{new} threads were started again after a pause");
    }

    #[test]
    fn the_blocking_pool_is_configured_or_the_start_stops() {
        let pool = BlockingPool::from_vars(Some(" 4 "), Some("60")).unwrap();
        assert_eq!(pool, BlockingPool { max_threads: 4, keep_alive: Duration::from_secs(60) });
        for (threads, keep_alive) in [
            (Some("0"), None),
            (Some("513"), None),
            (Some("otto"), None),
            (None, Some("0")),
            (None, Some("-1")),
        ] {
            let e = BlockingPool::from_vars(threads, keep_alive).unwrap_err().to_string();
            assert!(e.contains("must be a whole number"), "{e}");
        }
    }
}
