//! Traguardi: tracks a public digitalisation programme (the Fondo Innovazione of Regione Puglia)
//! comune by comune.
//!
//! Feature folders hold their types, server functions and views (`dashboard`, `comuni`,
//! `scadenze`, `workspace`, `evidence`, `imports`, `opendata`, `reminders`, `auth`, `site`, `backup`); the programme's rules are plain Rust in `rules`; the server-only data layer is `data`.

#![recursion_limit = "256"]

pub mod app;
pub mod auth;
pub mod comuni;
pub mod dashboard;
pub mod error;
pub mod evidence;
pub mod exports;
pub mod forecasts;
pub mod format;
pub mod imports;
pub mod opendata;
pub mod paging;
pub mod reminders;
pub mod report;
pub mod rules;
pub mod scadenze;
pub mod site;
pub mod workspace;

#[cfg(feature = "ssr")]
pub mod audit;
#[cfg(feature = "ssr")]
pub mod backup;
#[cfg(feature = "ssr")]
pub mod check;
#[cfg(feature = "ssr")]
pub mod data;
#[cfg(feature = "ssr")]
pub mod demo;
#[cfg(feature = "ssr")]
pub mod evaluation;
#[cfg(all(test, feature = "ssr"))]
mod fuzz;
#[cfg(all(test, feature = "ssr"))]
mod integration;
#[cfg(feature = "ssr")]
pub mod limits;
#[cfg(feature = "ssr")]
pub mod ops;
#[cfg(feature = "ssr")]
pub mod security;
#[cfg(feature = "ssr")]
pub mod server;
#[cfg(feature = "ssr")]
pub mod state;

/// The browser entry point: hydrate the server-rendered page.
#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    // Islands: only the `#[island]` components run in the browser; every other component is
    // rendered on the server alone, so the wasm holds just the islands' code.
    leptos::mount::hydrate_islands();
}
