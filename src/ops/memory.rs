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
//! minutes, not explained yet.
//!
//! Huge pages would save TLB misses on a large, long-lived heap; this server's heap is mostly
//! short-lived answers: with them off, wrk at 64 connections (8 s each, Puglia demo) served
//! `/` from the page cache at 12,950 requests/s against 8,663 with them on, and a comune page
//! rendered anew (a request with a cookie) at 1,441 against 1,161.

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
}
