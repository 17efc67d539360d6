//! The dashboard's pictures, drawn once per data version and filter.
//!
//! Drawing four charts and a 257-comuni map takes milliseconds of CPU; a dashboard request must
//! not pay it. [`GraphicsCache`] keeps the drawings of the current data version per day and
//! filter and forgets them all when the data change, so a write shows at once and nothing stale
//! is ever served.
//!
//! Each filter's entry is a cell filled once: requests that miss at the same time wait for the
//! one drawing instead of drawing again each (a burst on a new data version draws once), and the
//! drawing waits for a turn of the drawing [`WorkLimit`] (many different filters at once queue,
//! then are refused with 503).

use std::{
    collections::HashMap,
    sync::{
        atomic::{AtomicUsize, Ordering},
        Arc, Mutex, OnceLock,
    },
};

use tokio::sync::OnceCell;

use super::{chart, map, Graphics};
use crate::{
    comuni::{Territory, ValidFilter},
    error::AppError,
    evaluation::Snapshot,
    limits::work::WorkLimit,
};

/// At most this many filters' drawings are kept (each is ~250 KB); past it the cache starts
/// again, which only costs a redraw.
const MAX_ENTRIES: usize = 256;

/// One filter's drawings, drawn by the first request that needs them.
type Cell = Arc<OnceCell<Arc<Graphics>>>;

#[derive(Debug)]
pub struct GraphicsCache {
    inner: Mutex<Entries>,
    /// Drawings made since the start (what the single flight saves is visible in tests).
    draws: AtomicUsize,
    /// The territory the map shows.
    territory: Arc<Territory>,
    /// Its outlines, built by the first drawing that needs them (tens of milliseconds, once).
    geometry: OnceLock<Arc<map::Geometry>>,
}

#[derive(Debug, Default)]
struct Entries {
    /// The data version the drawings belong to (the day is in each key).
    of: Option<i64>,
    by_filter: HashMap<String, Cell>,
}

impl GraphicsCache {
    /// An empty cache for the pictures of `territory`.
    pub fn new(territory: Arc<Territory>) -> GraphicsCache {
        GraphicsCache {
            inner: Mutex::default(),
            draws: AtomicUsize::new(0),
            territory,
            geometry: OnceLock::new(),
        }
    }

    /// The map's outlines of the territory, built on the first call.
    pub fn geometry(&self) -> Arc<map::Geometry> {
        self.geometry.get_or_init(|| Arc::new(map::Geometry::of(&self.territory))).clone()
    }

    /// The drawings for `filter` on `snapshot`, drawn on the blocking pool (in a turn of
    /// `limit`) when missing, once however many requests ask at the same time.
    pub async fn get(
        &self,
        snapshot: &Arc<Snapshot>,
        filter: &ValidFilter,
        limit: &WorkLimit,
    ) -> Result<Arc<Graphics>, AppError> {
        // The day is in the key: a past day's drawings (`?al=`) are kept beside today's, and
        // a new day at midnight simply misses. A write (a new data version) forgets them all.
        let key = format!("{}|{}", snapshot.as_of, filter.query());
        let of = snapshot.version;
        let cell = self.cell(of, key);
        let drawn = cell
            .get_or_try_init(|| async {
                let permit = limit.acquire().await?;
                let (snap, f) = (snapshot.clone(), filter.clone());
                self.draws.fetch_add(1, Ordering::Relaxed);
                let drawn = tokio::task::spawn_blocking({
                    let geometry = self.geometry.get().cloned();
                    let territory = self.territory.clone();
                    move || {
                        let _permit = permit;
                        // The first drawing builds the outlines here, off the async runtime.
                        let geometry = geometry.unwrap_or_else(|| Arc::new(map::Geometry::of(&territory)));
                        draw(&snap, &f, &geometry).map(|g| (g, geometry))
                    }
                })
                .await
                .map_err(|e| {
                    tracing::error!(error = %e, "drawing task failed");
                    AppError::INTERNAL
                })?
                .map_err(|e| {
                    tracing::error!(error = %e, "chart drawing failed");
                    AppError::INTERNAL
                })?;
                let (drawn, geometry) = drawn;
                let _ = self.geometry.set(geometry);
                Ok::<_, AppError>(Arc::new(drawn))
            })
            .await?;
        Ok(drawn.clone())
    }

    /// The cell of `key` for the snapshot `of`: the cached one, or a new one (kept unless a
    /// newer snapshot's drawings are already cached).
    fn cell(&self, of: i64, key: String) -> Cell {
        let mut entries = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        if entries.of != Some(of) {
            // An older snapshot than the cached one: draw for it, keep nothing.
            if entries.of.is_some_and(|current| current > of) {
                return Cell::default();
            }
            entries.of = Some(of);
            entries.by_filter.clear();
        }
        if !entries.by_filter.contains_key(&key) && entries.by_filter.len() >= MAX_ENTRIES {
            entries.by_filter.clear();
        }
        entries.by_filter.entry(key).or_default().clone()
    }

    /// How many filters have drawings cached or being drawn (for tests).
    pub fn len(&self) -> usize {
        self.inner.lock().unwrap_or_else(|e| e.into_inner()).by_filter.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// How many times the pictures were drawn since the start.
    pub fn draws(&self) -> usize {
        self.draws.load(Ordering::Relaxed)
    }
}

/// Draws every picture of the dashboard for `filter`, the map with `geometry`. Pure: the same
/// snapshot, filter and outlines give the same markup.
pub fn draw(snapshot: &Snapshot, filter: &ValidFilter, geometry: &map::Geometry) -> Result<Graphics, String> {
    let summary = snapshot.summary(filter);
    let series = snapshot.series(filter);
    Ok(Graphics {
        adesione: chart::adhesion_by_province(&summary.province)?.into(),
        obiettivi: chart::objectives_by_province(&summary.province)?.into(),
        servizi: chart::services_over_time(&series)?.into(),
        contributo: chart::grant_by_province(&summary.province)?.into(),
        mappa: map::render(geometry, &snapshot.map_status(filter)).into(),
    })
}
