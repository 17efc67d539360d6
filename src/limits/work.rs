//! At most a few expensive answers at a time, a short queue behind them, and 503 past it.
//!
//! The report's typesetting, the PNG pictures, the charts' drawing and the workbooks take from
//! tens of milliseconds to a second of CPU each, on the blocking pool that uploads and the other
//! pictures share. Anyone may ask for them, as often as they like: without a bound a burst
//! queues without end, every waiting request holding its connection and memory, and the pool
//! fills. A [`WorkLimit`] admits `permits` at once and lets `queue` more wait for a turn; a request
//! beyond that is answered at once with 503 and `Retry-After` ([`AppError::Busy`]), so a burst
//! costs the server a bounded amount of work and memory whatever its size.
//!
//! The permit is owned: the route moves it into the blocking task, so a client that goes away
//! does not free a turn while its work still runs.

use std::sync::{
    atomic::{AtomicUsize, Ordering},
    Arc,
};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::error::AppError;

/// Seconds a refused client is told to wait (`Retry-After`).
pub const RETRY_AFTER_SECONDS: u32 = 5;

/// A turn of expensive work; the turn ends when it is dropped.
pub type Permit = OwnedSemaphorePermit;

/// `permits` pieces of work in progress, at most `queue` waiting for a turn.
#[derive(Debug)]
pub struct WorkLimit {
    /// What the work is, in Italian, for the refusal ("il rapporto PDF").
    what: &'static str,
    /// Its name in the metrics (`report`, `png`, …).
    name: &'static str,
    permits: Arc<Semaphore>,
    queue: usize,
    waiting: AtomicUsize,
}

/// Leaves the queue when dropped (also when the waiting request is cancelled).
struct InQueue<'a>(&'a AtomicUsize);

impl Drop for InQueue<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

impl WorkLimit {
    pub fn new(what: &'static str, permits: usize, queue: usize) -> WorkLimit {
        WorkLimit {
            what,
            name: "other",
            permits: Arc::new(Semaphore::new(permits.max(1))),
            queue,
            waiting: AtomicUsize::new(0),
        }
    }

    /// The same limit, named `name` in the metrics.
    pub fn named(mut self, name: &'static str) -> WorkLimit {
        self.name = name;
        self
    }

    /// A turn now if one is free; else a place in the queue and the turn when it comes; else
    /// (the queue full) [`AppError::Busy`] at once.
    pub async fn acquire(&self) -> Result<Permit, AppError> {
        if let Ok(permit) = self.permits.clone().try_acquire_owned() {
            return Ok(permit);
        }
        let joined = self
            .waiting
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| (n < self.queue).then_some(n + 1));
        if joined.is_err() {
            tracing::warn!(work = self.what, queue = self.queue, "busy: request refused with 503");
            crate::ops::metrics::busy(self.name);
            return Err(self.busy());
        }
        let _in_queue = InQueue(&self.waiting);
        self.permits.clone().acquire_owned().await.map_err(|_| self.busy())
    }

    fn busy(&self) -> AppError {
        AppError::Busy(format!(
            "Il server sta già preparando molte richieste di {}: riprova tra qualche secondo.",
            self.what
        ))
    }

    /// Requests waiting for a turn now.
    pub fn waiting(&self) -> usize {
        self.waiting.load(Ordering::Acquire)
    }
}

/// The limits of the expensive answers, one per kind of work.
#[derive(Debug)]
pub struct WorkLimits {
    /// `/report.pdf`: Typst typesetting, about a second of CPU.
    pub report: WorkLimit,
    /// `/grafici/{name}.png`: resvg rasterisation.
    pub png: WorkLimit,
    /// The dashboard's four charts and map for a filter not drawn yet (drawn once per data
    /// version and filter, see [`crate::dashboard::graphics`]).
    pub drawing: WorkLimit,
    /// `/export/*.xlsx`: workbooks built in memory.
    pub xlsx: WorkLimit,
}

/// `(in progress, queued)` of each limit when no variable says otherwise.
pub const DEFAULTS: [(&str, usize, usize); 4] = [
    ("TRAGUARDI_LIMITE_REPORT", 2, 8),
    ("TRAGUARDI_LIMITE_PNG", 2, 16),
    ("TRAGUARDI_LIMITE_GRAFICI", 2, 32),
    ("TRAGUARDI_LIMITE_XLSX", 2, 8),
];

impl Default for WorkLimits {
    fn default() -> Self {
        let [r, p, d, x] = DEFAULTS.map(|(_, permits, queue)| (permits, queue));
        WorkLimits::new(r, p, d, x)
    }
}

impl WorkLimits {
    /// Each limit as `(in progress, queued)`.
    pub fn new(
        report: (usize, usize),
        png: (usize, usize),
        drawing: (usize, usize),
        xlsx: (usize, usize),
    ) -> Self {
        WorkLimits {
            report: WorkLimit::new("rapporti PDF", report.0, report.1).named("report"),
            png: WorkLimit::new("immagini PNG", png.0, png.1).named("png"),
            drawing: WorkLimit::new("grafici", drawing.0, drawing.1).named("drawing"),
            xlsx: WorkLimit::new("file Excel", xlsx.0, xlsx.1).named("xlsx"),
        }
    }

    /// From `TRAGUARDI_LIMITE_{REPORT,PNG,GRAFICI,XLSX}`, each `in_progress,queued` (e.g. `2,8`);
    /// a missing variable keeps its default, a malformed one is an error (the server does not
    /// start).
    pub fn from_env() -> anyhow::Result<WorkLimits> {
        let read = |(name, permits, queue): (&str, usize, usize)| -> anyhow::Result<(usize, usize)> {
            match std::env::var(name) {
                Err(_) => Ok((permits, queue)),
                Ok(v) => parse_pair(&v).ok_or_else(|| {
                    anyhow::anyhow!(
                        "{name}={v}: expected two numbers, in progress (at least 1) and queued, e.g. 2,8"
                    )
                }),
            }
        };
        let [r, p, d, x] = DEFAULTS;
        Ok(WorkLimits::new(read(r)?, read(p)?, read(d)?, read(x)?))
    }
}

fn parse_pair(v: &str) -> Option<(usize, usize)> {
    let (a, b) = v.split_once(',')?;
    let permits: usize = a.trim().parse().ok()?;
    let queue: usize = b.trim().parse().ok()?;
    (permits >= 1).then_some((permits, queue))
}

#[cfg(test)]
mod tests {
    use futures_util::FutureExt;

    use super::*;

    #[tokio::test]
    async fn one_in_progress_one_queued_the_rest_refused_at_once() {
        let limit = WorkLimit::new("prove", 1, 1);
        let first = limit.acquire().await.expect("a free turn");
        // The second waits for the first; the third finds the queue full.
        let mut second = Box::pin(limit.acquire());
        assert!(second.as_mut().now_or_never().is_none());
        assert_eq!(limit.waiting(), 1);
        let refused = limit.acquire().await.unwrap_err();
        assert!(
            matches!(&refused, AppError::Busy(m) if m.contains("riprova tra qualche secondo")),
            "{refused:?}"
        );
        drop(first);
        let second = second.await.expect("its turn came");
        assert_eq!(limit.waiting(), 0);
        // A waiting request that gives up leaves the queue.
        let mut gives_up = Box::pin(limit.acquire());
        assert!(gives_up.as_mut().now_or_never().is_none());
        drop(gives_up);
        assert_eq!(limit.waiting(), 0);
        drop(second);
        assert!(limit.acquire().await.is_ok());
    }

    #[test]
    fn the_variables_read_in_progress_and_queued() {
        assert_eq!(parse_pair("2,8"), Some((2, 8)));
        assert_eq!(parse_pair(" 1 , 0 "), Some((1, 0)));
        assert_eq!(parse_pair("0,4"), None, "at least one in progress");
        assert_eq!(parse_pair("3"), None);
    }
}
