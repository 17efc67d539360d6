//! Property-based tests of every parser of outside input ("fuzzing" on stable Rust, with
//! `proptest`): the shared configuration and the strategies more than one parser uses. The
//! properties themselves live next to their parsers, in modules named `props`, each test named
//! `prop_*`, so one filter (`props::`) runs them all.
//!
//! How many cases: `TRAGUARDI_FUZZ_CASES` (default [`DEFAULT_CASES`], what `make test` runs);
//! `make fuzz` sets 100,000. No failure file is written into the sources (a failure prints
//! its minimal input; it then becomes a regular test next to the parser, with the fix). When
//! `TRAGUARDI_FUZZ_REPORT` names a file, each property appends a line `name cases seconds` to
//! it, which `make fuzz` prints as its summary.

use std::{io::Write, time::Instant};

use proptest::{
    prelude::*,
    test_runner::{Config, TestCaseResult, TestRunner},
};

/// Cases per property in an ordinary test run: cheap (the whole set adds seconds to a debug
/// test run), and every run draws new ones.
pub const DEFAULT_CASES: u32 = 128;

/// Cases per property: `TRAGUARDI_FUZZ_CASES`, or [`DEFAULT_CASES`].
pub fn cases() -> u32 {
    std::env::var("TRAGUARDI_FUZZ_CASES").ok().and_then(|v| v.trim().parse().ok()).unwrap_or(DEFAULT_CASES)
}

/// The one configuration of every property: [`cases`] cases, no failure file, no forking.
pub fn config() -> Config {
    Config {
        cases: cases(),
        failure_persistence: None,
        // A failure is shrunk to its minimal input, within bounds (a router call is slow).
        max_shrink_iters: 2_000,
        ..Config::default()
    }
}

/// Runs `test` over `strategy` for [`cases`] cases; a failure (a panic included: proptest
/// catches it) fails the calling test with the minimal input. Reports to
/// `TRAGUARDI_FUZZ_REPORT` when set.
pub fn check<S: Strategy>(name: &str, strategy: S, test: impl Fn(S::Value) -> TestCaseResult) {
    let config = config();
    let cases = config.cases;
    let mut runner = TestRunner::new(config);
    let started = Instant::now();
    let result = runner.run(&strategy, test);
    report(name, cases, started.elapsed().as_secs_f64(), result.is_ok());
    if let Err(e) = result {
        panic!("{name}: {e}");
    }
}

fn report(name: &str, cases: u32, seconds: f64, ok: bool) {
    let Ok(path) = std::env::var("TRAGUARDI_FUZZ_REPORT") else { return };
    if let Ok(mut f) = std::fs::OpenOptions::new().create(true).append(true).open(path) {
        let _ = writeln!(f, "{name} {cases} {seconds:.1} {}", if ok { "ok" } else { "FAILED" });
    }
}

/// Text people and attackers type: mostly short, from an alphabet rich in what parsers trip
/// on (separators, quotes, digits, accents, controls, bidi marks, NUL, wide characters), and
/// sometimes anything at all.
pub fn hostile_text() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => proptest::collection::vec(hostile_char(), 0..24).prop_map(|v| v.into_iter().collect()),
        1 => any::<String>(),
        1 => "[0-9+-]{0,25}",
    ]
}

/// One character of [`hostile_text`].
pub fn hostile_char() -> impl Strategy<Value = char> {
    prop_oneof![
        6 => proptest::sample::select(vec![
            'a', 'Z', '0', '9', '1', '-', '_', '.', ',', ';', ':', '/', '\\', '"', '\'', ' ', '\t', '\n',
            '\r', '\0', '%', '&', '=', '+', '?', '#', '<', '>', '(', ')', '[', ']', '*', '@', 'à', 'è',
            'ò', 'Ò', 'ß', 'İ', '\u{a0}', '\u{feff}', '\u{202e}', '\u{200f}', '\u{2066}', '\u{7f}',
            '\u{85}', '€', '’', '𝕏', '\u{fffd}',
        ]),
        1 => any::<char>(),
    ]
}

/// The keys of the filter, sort and paging parameters and some of their values, so that
/// generated queries get past the first refusal now and then (the parsers' properties and the
/// filtered routes' one).
pub const FILTER_KEYS: &[&str] = &[
    "provincia",
    "adesione",
    "popolazione",
    "piattaforma",
    "traguardo",
    "q",
    "primo_step",
    "finale",
    "scaduto",
    "bloccato",
    "ordina",
    "verso",
    "pagina",
    "per_pagina",
    "al",
    "comune",
    "LE",
    "ba",
    "aderente",
    "aderente_in_ritardo",
    "0-5000",
    "5000-",
    "pagopa",
    "io",
    "spid_cie",
    "primo_step,tutti_obiettivi",
    "mypay",
    "raggiunto",
    "non_raggiunto",
    "si",
    "nome",
    "popolazione",
    "desc",
    "asc",
    "2",
    "2021-02-15",
    "15/02/2021",
    "072006",
    "075035",
];

/// A query string as a browser or a script may send it: `key=value` pairs joined by `&`, the
/// keys mostly among `keys` (and repeated), the values hostile text percent-encoded in one of
/// several ways (or not at all, or with broken escapes), huge numbers included.
pub fn query_string(keys: &'static [&'static str]) -> impl Strategy<Value = String> {
    let key = prop_oneof![
        6 => proptest::sample::select(keys).prop_map(str::to_string),
        1 => "[a-z_\\[\\]]{0,12}",
    ];
    let value = prop_oneof![
        3 => proptest::sample::select(keys).prop_map(str::to_string),
        3 => hostile_text(),
        1 => "[0-9]{15,40}",
        1 => "-?[0-9]{1,6}-[0-9]{0,8}",
    ];
    let pair = (key, value, 0..4u8, any::<bool>()).prop_map(|(k, v, encoding, bare)| {
        if bare {
            return encode(&k, encoding);
        }
        format!("{}={}", encode(&k, encoding), encode(&v, encoding))
    });
    prop_oneof![
        8 => proptest::collection::vec(pair, 0..8).prop_map(|p| p.join("&")),
        1 => "[ -~]{0,64}",
    ]
}

/// `s` in a query string: 0 every byte outside the unreserved set as `%XX`, 1 spaces as `+`,
/// 2 lower-case escapes, 3 as typed (what `http::Uri` refuses is dropped by the caller).
fn encode(s: &str, how: u8) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        let plain = b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~');
        match how {
            _ if plain => out.push(b as char),
            1 if b == b' ' => out.push('+'),
            2 => out.push_str(&format!("%{b:02x}")),
            3 if b.is_ascii_graphic() => out.push(b as char),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// `/x?{query}` as a URI, or `None` when `http` refuses it (a request the server never sees).
pub fn uri(query: &str) -> Option<axum::http::Uri> {
    format!("/x?{query}").parse().ok()
}
