//! Keeping the server's resident memory level under long load: freed memory goes back to the
//! system at once, and no transparent huge pages.
//!
//! Rust's allocations go to mimalloc (`src/main.rs`). mimalloc (v3) keeps memory it has freed
//! committed for a while (`purge_delay`, 1,000 ms by default) before it gives it back, so that a
//! program that frees and allocates again soon need not ask the kernel twice. Under this server's
//! steady load — every request allocates and frees its answer, every write rebuilds the snapshot
//! and empties the page cache — something is always freed within the last second, and in the
//! soak of 04/12/2026 (night, PostgreSQL, 200 operations/s) the delay held half the resident
//! memory: medians of each minute 289–340 MiB with it, 145–175 without, for the same speed
//! (README, "Soak"). So the server asks for freed memory to go back at once
//! ([`purge_freed_memory_at_once`]), unless its operator has set mimalloc's own variable.
//!
//! mimalloc also reserves one large arena and asks the kernel for transparent huge pages on it
//! (`madvise(MADV_HUGEPAGE)`); when it later
//! gives freed memory back (in 64 KiB steps), a range inside a huge page
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

use std::alloc::{GlobalAlloc, Layout};
use std::sync::atomic::{AtomicUsize, Ordering};
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

/// Bytes of Rust's heap in use: handed out by the global allocator and not given back yet.
/// Counted by [`Counting`] (the server's global allocator), read by `/metrics`.
static HEAP_IN_USE: AtomicUsize = AtomicUsize::new(0);

/// A global allocator that counts the bytes in use and passes every call on to `A`.
///
/// Resident memory alone cannot tell data the program holds from memory its allocator keeps
/// (freed but not yet given back, or pages only partly used): `/metrics` shows both, the heap in
/// use (`traguardi_heap_bytes`) beside the resident memory (`traguardi_resident_memory_bytes`).
/// One relaxed atomic addition per call; the soak measures the whole server with it.
pub struct Counting<A>(pub A);

// SAFETY: every call is passed on unchanged to `A`, which upholds `GlobalAlloc`'s contract; the
// counting touches only an atomic integer and never allocates.
unsafe impl<A: GlobalAlloc> GlobalAlloc for Counting<A> {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller's guarantees are passed on.
        let p = unsafe { self.0.alloc(layout) };
        if !p.is_null() {
            HEAP_IN_USE.fetch_add(layout.size(), Ordering::Relaxed);
        }
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: as above.
        let p = unsafe { self.0.alloc_zeroed(layout) };
        if !p.is_null() {
            HEAP_IN_USE.fetch_add(layout.size(), Ordering::Relaxed);
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: as above.
        unsafe { self.0.dealloc(ptr, layout) };
        HEAP_IN_USE.fetch_sub(layout.size(), Ordering::Relaxed);
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: as above.
        let p = unsafe { self.0.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            // Added before subtracted: the count never dips below what is in use.
            HEAP_IN_USE.fetch_add(new_size, Ordering::Relaxed);
            HEAP_IN_USE.fetch_sub(layout.size(), Ordering::Relaxed);
        }
        p
    }
}

/// The bytes of Rust's heap in use, when the global allocator counts them (the server's does;
/// a test binary's does not: `None`).
pub fn heap_in_use() -> Option<usize> {
    // A process whose allocator counts has allocated before anyone asks.
    let bytes = HEAP_IN_USE.load(Ordering::Relaxed);
    (bytes > 0).then_some(bytes)
}

/// The process's resident memory in bytes (`/proc/self/statm`), where Linux says it.
pub fn resident_bytes() -> Option<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    // SAFETY: sysconf reads a constant of the system.
    let page_size = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    Some(pages * u64::try_from(page_size).ok()?)
}

/// mimalloc's `mi_option_purge_delay`: the sixteenth option of `mi_option_e` in `mimalloc.h`
/// (index 15 in v2 and v3). libmimalloc-sys declares the option functions but names only some of
/// the options; the test `the_purge_option_is_mimallocs_purge_delay` checks the index against the
/// option's default and its environment variable.
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// How long mimalloc keeps freed memory before giving it back to the system.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PurgeDelay {
    /// At once: what the server sets.
    AtOnce,
    /// As the operator set it in `MIMALLOC_PURGE_DELAY` (milliseconds; negative: never).
    Operator(i64),
}

/// Asks mimalloc to give freed memory back to the system at once (`purge_delay` 0), unless the
/// operator has set `MIMALLOC_PURGE_DELAY` (mimalloc reads it at start; `mi_option_set_default`
/// leaves a value read from the environment as it is, and sets one that is missing or invalid).
/// The delay is read by mimalloc each time it purges, so the call takes effect from then on; it
/// is made first thing in `main`, before any other thread exists (mimalloc's option functions are
/// not thread-safe). The module's doc says why.
pub fn purge_freed_memory_at_once() -> PurgeDelay {
    // SAFETY: the option functions take and return plain integers and change one entry of
    // mimalloc's option table; the caller runs before other threads (see above).
    let delay = unsafe {
        libmimalloc_sys::mi_option_set_default(MI_OPTION_PURGE_DELAY, 0);
        libmimalloc_sys::mi_option_get(MI_OPTION_PURGE_DELAY)
    };
    // `c_long` is 32 bits on some platforms (Windows), 64 here.
    #[allow(clippy::useless_conversion)]
    match delay {
        0 => PurgeDelay::AtOnce,
        ms => PurgeDelay::Operator(i64::from(ms)),
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

    /// The counting allocator moves the count by exactly what it hands out and takes back, growing
    /// and shrinking blocks included. (The test binary's own allocator does not count, so only
    /// this test moves the count.)
    #[test]
    fn the_counting_allocator_counts_the_bytes_in_use() {
        let counting = Counting(std::alloc::System);
        let before = HEAP_IN_USE.load(Ordering::Relaxed);
        let layout = Layout::from_size_align(1000, 8).unwrap();
        // SAFETY: blocks of a non-zero size, given back with the layout they were made with.
        unsafe {
            let p = counting.alloc(layout);
            assert!(!p.is_null());
            assert_eq!(HEAP_IN_USE.load(Ordering::Relaxed) - before, 1000);
            let p = counting.realloc(p, layout, 3000);
            assert_eq!(HEAP_IN_USE.load(Ordering::Relaxed) - before, 3000);
            let p = counting.realloc(p, Layout::from_size_align(3000, 8).unwrap(), 200);
            assert_eq!(HEAP_IN_USE.load(Ordering::Relaxed) - before, 200);
            let q = counting.alloc_zeroed(layout);
            assert_eq!(HEAP_IN_USE.load(Ordering::Relaxed) - before, 1200);
            counting.dealloc(p, Layout::from_size_align(200, 8).unwrap());
            counting.dealloc(q, layout);
        }
        assert_eq!(HEAP_IN_USE.load(Ordering::Relaxed), before);
        assert!(resident_bytes().is_some_and(|b| b > 1 << 20), "resident memory of a test process");
    }

    /// The child process of the purge test: what it measures, on a line of its own.
    const PURGE_PROBE: &str = "TRAGUARDI_TEST_PURGE_PROBE";

    /// Runs `the_purge_option_is_mimallocs_purge_delay` again in a process of its own with
    /// `mode` in [`PURGE_PROBE`] and the given `MIMALLOC_PURGE_DELAY`, and returns its report
    /// (the delay in force, the MiB given back after 64 MiB were freed, what the server's call
    /// returned). A process of its
    /// own because the measure is the process's resident memory, which the tests running beside
    /// this one move by tens of MiB.
    fn purge_probe(mode: &str, env_delay: Option<&str>) -> (i64, i64, String) {
        let stdout = crate::ops::probe::rerun_alone(
            "ops::memory::tests::the_purge_option_is_mimallocs_purge_delay",
            |child| {
                child
                    .env(PURGE_PROBE, mode)
                    .env_remove("MIMALLOC_PURGE_DELAY")
                    .env_remove("MIMALLOC_RESET_DELAY");
                if let Some(delay) = env_delay {
                    child.env("MIMALLOC_PURGE_DELAY", delay);
                }
            },
        );
        let line = stdout
            .lines()
            // libtest writes the test's name on the same line before the test's own output.
            .find_map(|l| l.split_once("purge probe: ").map(|(_, report)| report))
            .unwrap_or_else(|| panic!("{stdout}"));
        let mut fields = line.splitn(3, ' ');
        let mut number = || fields.next().unwrap().parse::<i64>().unwrap();
        let (delay, given_back) = (number(), number());
        (delay, given_back, fields.next().unwrap().to_owned())
    }

    /// Resident memory of this process in MiB.
    fn resident_mib() -> i64 {
        (resident_bytes().expect("/proc/self/statm") >> 20) as i64
    }

    /// In the child: optionally the server's call, then 64 MiB from mimalloc in 256 KiB blocks
    /// (the size of a dashboard page), written, freed; how much resident memory the frees gave
    /// back, read right after them.
    fn purge_probe_child(mode: &str) {
        let returned = (mode == "server").then(purge_freed_memory_at_once);
        // SAFETY: a read of one option, as in `purge_freed_memory_at_once`.
        let delay = unsafe { libmimalloc_sys::mi_option_get(MI_OPTION_PURGE_DELAY) };
        const BLOCK: usize = 256 * 1024;
        // SAFETY: each block is mimalloc's own, written within its size and freed once.
        let blocks: Vec<*mut u8> = (0..256)
            .map(|_| unsafe {
                let p = libmimalloc_sys::mi_malloc(BLOCK).cast::<u8>();
                assert!(!p.is_null());
                std::ptr::write_bytes(p, 1, BLOCK);
                p
            })
            .collect();
        let full = resident_mib();
        for p in blocks {
            // SAFETY: see above.
            unsafe { libmimalloc_sys::mi_free(p.cast()) };
        }
        let given_back = full - resident_mib();
        println!("purge probe: {delay} {given_back} {returned:?}");
    }

    /// The server gives freed memory back at once, and an operator's own setting wins. Measured
    /// in child processes: with mimalloc's default (1,000 ms) 64 MiB freed stay resident right
    /// after the frees; after the server's call they are given back; with the operator's
    /// `MIMALLOC_PURGE_DELAY=250` the call leaves 250 in force. The default's 1,000 also shows
    /// that index 15 is `purge_delay` (no other option of mimalloc v3 defaults to 1,000).
    #[test]
    fn the_purge_option_is_mimallocs_purge_delay() {
        if let Ok(mode) = std::env::var(PURGE_PROBE) {
            return purge_probe_child(&mode);
        }
        let (default_delay, kept_back, _) = purge_probe("default", None);
        assert_eq!(default_delay, 1000, "mimalloc's default purge delay");
        assert!(kept_back <= 16, "with the default delay {kept_back} MiB of 64 went back at once");
        let (delay, given_back, returned) = purge_probe("server", None);
        assert_eq!(
            (delay, returned.as_str()),
            (0, "Some(AtOnce)"),
            "the server's call did not set the delay"
        );
        assert!(given_back >= 48, "after the server's call only {given_back} MiB of 64 went back");
        let (delay, _, returned) = purge_probe("server", Some("250"));
        assert_eq!(
            (delay, returned.as_str()),
            (250, "Some(Operator(250))"),
            "the operator's MIMALLOC_PURGE_DELAY"
        );
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
