//! The dashboard's pictures, drawn once per data version and filter.
//!
//! Drawing four charts and a 257-comuni map takes milliseconds of CPU; a dashboard request must
//! not pay it. [`GraphicsCache`] keeps the drawings of the current snapshot (same data version,
//! same day) per filter and forgets them all when the snapshot changes, so a write shows at once
//! and nothing stale is ever served.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
};

use chrono::NaiveDate;

use super::{chart, map, Graphics};
use crate::{comuni::ValidFilter, error::AppError, evaluation::Snapshot};

/// At most this many filters' drawings are kept (each is ~250 KB); past it the cache starts
/// again, which only costs a redraw.
const MAX_ENTRIES: usize = 256;

#[derive(Debug, Default)]
pub struct GraphicsCache {
    inner: Mutex<Entries>,
}

#[derive(Debug, Default)]
struct Entries {
    /// The snapshot the drawings belong to: (data version, day).
    of: Option<(i64, NaiveDate)>,
    by_filter: HashMap<String, Arc<Graphics>>,
}

impl GraphicsCache {
    /// The drawings for `filter` on `snapshot`, drawn on the blocking pool when missing.
    pub async fn get(
        &self,
        snapshot: &Arc<Snapshot>,
        filter: &ValidFilter,
    ) -> Result<Arc<Graphics>, AppError> {
        let key = filter.query();
        let of = (snapshot.version, snapshot.as_of);
        if let Some(found) = self.lookup(of, &key) {
            return Ok(found);
        }
        let (snap, f) = (snapshot.clone(), filter.clone());
        let drawn = tokio::task::spawn_blocking(move || draw(&snap, &f))
            .await
            .map_err(|e| {
                tracing::error!(error = %e, "drawing task failed");
                AppError::Internal
            })?
            .map_err(|e| {
                tracing::error!(error = %e, "chart drawing failed");
                AppError::Internal
            })?;
        let drawn = Arc::new(drawn);
        let mut entries = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        if entries.of != Some(of) {
            // A newer snapshot may have arrived meanwhile: keep only what matches this one.
            if entries.of.is_some_and(|current| current > of) {
                return Ok(drawn);
            }
            entries.of = Some(of);
            entries.by_filter.clear();
        }
        if entries.by_filter.len() >= MAX_ENTRIES {
            entries.by_filter.clear();
        }
        entries.by_filter.insert(key, drawn.clone());
        Ok(drawn)
    }

    fn lookup(&self, of: (i64, NaiveDate), key: &str) -> Option<Arc<Graphics>> {
        let entries = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        (entries.of == Some(of)).then(|| entries.by_filter.get(key).cloned()).flatten()
    }

    /// How many filters have drawings cached (for tests).
    pub fn len(&self) -> usize {
        self.inner.lock().unwrap_or_else(|e| e.into_inner()).by_filter.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Draws every picture of the dashboard for `filter`. Pure: the same snapshot and filter give
/// the same markup.
pub fn draw(snapshot: &Snapshot, filter: &ValidFilter) -> Result<Graphics, String> {
    let summary = snapshot.summary(filter);
    let series = snapshot.series(filter);
    Ok(Graphics {
        adesione: chart::adhesion_by_province(&summary.province)?.into(),
        obiettivi: chart::objectives_by_province(&summary.province)?.into(),
        servizi: chart::services_over_time(&series)?.into(),
        contributo: chart::grant_by_province(&summary.province)?.into(),
        mappa: map::render(&snapshot.map_status(filter)).into(),
    })
}
