//! The assessors' report: `/report.pdf`, the dashboard of the current filter as a printable,
//! tagged PDF (headline figures with their denominators, the verified objectives, the map, the
//! province charts, the list of comuni with their status, the data's date, the demo mark).
//!
//! The figures are not computed again: [`pdf::contents`] takes the same
//! [`Snapshot`](crate::evaluation::Snapshot) summary and the same
//! [`figures`](crate::dashboard::ui::figures) sentences as the dashboard, and the same cached
//! SVG drawings, so the paper and the screen cannot disagree. Typst (as a library, no browser,
//! no network) typesets `template.typ` off the async runtime.

#[cfg(feature = "ssr")]
pub mod pdf;
#[cfg(feature = "ssr")]
pub mod routes;

/// The report's address for a filter query (`provincia=LE`), as the dashboard links it.
pub fn href(filtro: &str) -> String {
    if filtro.is_empty() {
        "/report.pdf".to_string()
    } else {
        format!("/report.pdf?{filtro}")
    }
}
