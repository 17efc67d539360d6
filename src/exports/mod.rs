//! Exports of the list pages (deadlines, change trail, proposals, evidence queue): one table,
//! four formats — CSV (the machine contract: `,`, ISO dates, `si`/`no`), CSV for Italian Excel
//! (`;`, BOM, dd/mm/yyyy, `sì`/`no`), XLSX (typed cells, bold frozen header with an
//! autofilter, a sheet stating the filters and the date) and JSON (`metadati` + `righe`).
//!
//! A list describes its columns once ([`Table`]) and hands over its rows as a stream of
//! batches; CSV and JSON go out batch by batch as the rows arrive (the trail can hold millions
//! of entries: memory stays at one batch), XLSX is assembled off the async runtime (a zip needs
//! its directory at the end). The `/comuni` exports, with their open-data contract, live in
//! [`crate::comuni::export`] and share the CSV dialect.

pub mod ui;

#[cfg(feature = "ssr")]
pub mod formula;
#[cfg(feature = "ssr")]
pub mod routes;
#[cfg(feature = "ssr")]
pub mod sheet;
#[cfg(feature = "ssr")]
pub mod table;

/// The formats every list page offers, with the link's words and the address's ending.
pub const FORMATS: [(&str, &str); 4] =
    [(".csv", "CSV"), ("-excel.csv", "CSV per Excel"), (".xlsx", "Excel (XLSX)"), (".json", "JSON")];
