//! Properties through the real router (see `crate::fuzz`), on the demo data with the accounts
//! of the authorization tests, one database for all the cases of a property:
//! - every registered server function, called as anonymous, a comune's user or the Region with
//!   an arbitrary form body (its own argument names and others, hostile values, repeats,
//!   nesting, bytes that are not UTF-8): never a 5xx, and a refusal is the error's JSON;
//! - the routes that read filters from the query string (exports, the pictures, the open-data
//!   API) with an arbitrary query string: never a 5xx, and a refusal is in Italian;
//! - the OIDC callback with arbitrary `code`, `state`, `iss` and `error` (and a binding cookie
//!   or none): always back to the sign-in page with the reason's code;
//! - the open-data API with values generated from its own OpenAPI document (each parameter's
//!   enumeration, bounds, pattern, length or date): every value the document allows is
//!   accepted, and every answer fits the document's schema for its status.
//!
//! The workbook, PNG and PDF variants of the exports read the same filters through the same
//! extractor as the CSV and JSON ones, and are left out: each valid case would build a file.
//!
//! On SQLite, and on PostgreSQL when it answers (`TRAGUARDI_FUZZ_POSTGRES=0` leaves it out).

use axum::{
    body::Body,
    http::{header, Request, StatusCode},
    Router,
};
use proptest::{prelude::*, test_runner::TestCaseResult};

use super::{
    auth::{app_with, local, send, sign_in, with_cookie, Answer, COMUNE_A, REGIONE},
    TestDb,
};
use crate::{
    auth::config::OidcConfig,
    error::AppError,
    fuzz::{check, hostile_text, query_string},
};

/// The server functions' argument names (as Leptos encodes them in a form), their fields,
/// and values they take.
const ARGUMENT_KEYS: &[&str] = &[
    "before",
    "id",
    "codice_istat",
    "provincia",
    "piattaforma",
    "filter[provincia]",
    "filter[adesione]",
    "filter[popolazione]",
    "filter[piattaforma]",
    "filter[traguardo]",
    "filter[q]",
    "filter[primo_step]",
    "filter[finale]",
    "filter[scaduto]",
    "filter[bloccato]",
    "filter[provincia][x]",
    "vista[ordina]",
    "vista[verso]",
    "vista[pagina]",
    "query[al]",
    "query[provincia]",
    "filter",
    "vista",
    "072006",
    "075035",
    "BA",
    "LE",
    "aderente",
    "0-5000",
    "pagopa",
    "io",
    "mypay,primo_step",
    "si",
    "popolazione",
    "desc",
    "2021-02-15",
    "-9223372036854775808",
    "9223372036854775807",
];

/// A database, its router with OIDC configured (towards an address where no provider
/// answers: no case gets that far), and sessions of the Region and of a comune's user.
struct World {
    rt: tokio::runtime::Runtime,
    app: Router,
    sessions: Vec<Option<String>>,
    dbs: Vec<TestDb>,
}

fn worlds() -> Vec<World> {
    let mut out = Vec::new();
    let postgres = std::env::var("TRAGUARDI_FUZZ_POSTGRES").map_or(true, |v| v != "0");
    for backend in ["sqlite", "postgres"] {
        let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        let t = rt.block_on(async {
            match backend {
                "sqlite" => Some(TestDb::sqlite().await),
                _ if postgres => TestDb::postgres().await,
                _ => None,
            }
        });
        let Some(t) = t else { continue };
        let (app, sessions) = rt.block_on(async {
            let mut config = local();
            config.oidc = Some(OidcConfig {
                issuer: "http://127.0.0.1:9/nessuno".into(),
                client_id: "traguardi".into(),
                client_secret: Some("segreto".into()),
                redirect_url: "http://127.0.0.1:3000/accedi/oidc/callback".into(),
                fiscal_code_claim: "fiscal_number".into(),
                scopes: vec!["openid".into()],
                label: "Entra con SPID o CIE".into(),
            });
            let app = app_with(&t, config).await;
            let regione = sign_in(&app, REGIONE).await;
            let comune = sign_in(&app, COMUNE_A).await;
            (app, vec![None, Some(comune), Some(regione)])
        });
        out.push(World { rt, app, sessions, dbs: vec![t] });
    }
    out
}

impl World {
    fn send(&self, req: Request<Body>) -> Answer {
        self.rt.block_on(send(&self.app, req))
    }

    fn close(self) {
        for t in self.dbs {
            self.rt.block_on(t.drop_db());
        }
    }

    fn backend(&self) -> &'static str {
        self.dbs[0].db.backend()
    }
}

/// A refusal a person can read: not a 5xx, and not the framework's English.
fn check_answer(what: &str, a: &Answer) -> TestCaseResult {
    prop_assert!(a.status.as_u16() < 500, "{what}: {} {}", a.status, a.body);
    prop_assert!(
        !a.body.contains("Failed to deserialize") && !a.body.contains("Transport"),
        "{what}: {}",
        a.body
    );
    Ok(())
}

#[test]
fn prop_server_functions_never_answer_5xx_whatever_their_arguments() {
    let mut paths: Vec<&'static str> = server_fn::axum::server_fn_paths().map(|(p, _)| p).collect();
    paths.sort();
    paths.dedup();
    for world in worlds() {
        let body = prop_oneof![
            8 => query_string(ARGUMENT_KEYS).prop_map(String::into_bytes),
            1 => proptest::collection::vec(any::<u8>(), 0..64),
        ];
        let input = (proptest::sample::select(paths.clone()), body, 0..world.sessions.len());
        let name = format!("server functions through the router ({})", world.backend());
        check(&name, input, |(path, body, who)| {
            let req = Request::post(path)
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(Body::from(body.clone()))
                .unwrap();
            let a = world.send(with_cookie(req, world.sessions[who].as_deref()));
            let what = format!("{path} {:?}", String::from_utf8_lossy(&body));
            check_answer(&what, &a)?;
            // A server function's refusal is its error, in JSON (what the page shows).
            if !a.status.is_success() {
                let e = serde_json::from_str::<AppError>(&a.body);
                prop_assert!(e.is_ok(), "{what}: {} {}", a.status, a.body);
            }
            Ok(())
        });
        world.close();
    }
}

/// The routes that read a filter from the query string.
const FILTERED_ROUTES: &[&str] = &[
    "/export/comuni.csv",
    "/export/comuni-excel.csv",
    "/export/comuni.json",
    "/export/scadenze.csv",
    "/export/scadenze.json",
    "/export/registro.csv",
    "/export/registro.json",
    "/export/proposte.csv",
    "/export/evidenze.csv",
    "/export/evidenze.json",
    "/grafici/servizi.svg",
    "/grafici/servizi.csv",
    "/grafici/mappa.svg",
    "/api/v1/comuni",
    "/api/v1/province",
];

#[test]
fn prop_filtered_routes_never_answer_5xx_whatever_their_query() {
    for world in worlds() {
        let input = (
            proptest::sample::select(FILTERED_ROUTES),
            query_string(crate::fuzz::FILTER_KEYS),
            0..world.sessions.len(),
        );
        let name = format!("filtered routes through the router ({})", world.backend());
        check(&name, input, |(path, query, who)| {
            let Ok(req) = Request::get(format!("{path}?{query}")).body(Body::empty()) else { return Ok(()) };
            let a = world.send(with_cookie(req, world.sessions[who].as_deref()));
            check_answer(&format!("{path}?{query}"), &a)
        });
        world.close();
    }
}

#[test]
fn prop_the_oidc_callback_always_returns_to_the_sign_in_page() {
    const KEYS: &[&str] = &["code", "state", "iss", "error", "error_description", "session_state"];
    for world in worlds() {
        let cookie = proptest::option::of(prop_oneof![hostile_text(), "[A-Za-z0-9_-]{43}"]);
        let input = (query_string(KEYS), cookie);
        let name = format!("OIDC callback through the router ({})", world.backend());
        check(&name, input, |(query, cookie)| {
            let Ok(mut req) = Request::get(format!("/accedi/oidc/callback?{query}")).body(Body::empty())
            else {
                return Ok(());
            };
            if let Some(Ok(v)) = cookie.map(|c| format!("traguardi_oidc={c}").parse()) {
                req.headers_mut().insert(header::COOKIE, v);
            }
            let a = world.send(req);
            let what = format!("callback ?{query}");
            check_answer(&what, &a)?;
            prop_assert_eq!(a.status, StatusCode::SEE_OTHER, "{}: {}", what, a.body);
            prop_assert!(
                ["/accedi?errore=oidc-annullato", "/accedi?errore=oidc-non-valido"].contains(&a.location()),
                "{what}: {}",
                a.location()
            );
            Ok(())
        });
        world.close();
    }
}

/// One parameter of an operation of the OpenAPI document, as a client reads it.
#[derive(Clone, Debug)]
struct DocParam {
    name: String,
    in_path: bool,
    schema: serde_json::Value,
}

/// Values the schema of a parameter allows, as they go into the URL (not yet encoded): a
/// choice of an enumeration, an integer within its bounds (its bounds included), a text of
/// the pattern or of at most `maxLength` characters of anything, a day from `days`, a list of
/// distinct items joined by commas.
fn allowed_values(
    schema: &serde_json::Value,
    days: (chrono::NaiveDate, chrono::NaiveDate),
) -> BoxedStrategy<String> {
    use serde_json::Value;
    if let Some(values) = schema["enum"].as_array() {
        let values: Vec<String> =
            values.iter().map(|v| v.as_str().expect("text values").to_string()).collect();
        return proptest::sample::select(values).boxed();
    }
    match schema["type"].as_str() {
        Some("array") => {
            let items: Vec<String> = schema["items"]["enum"]
                .as_array()
                .expect("lists of an enumeration")
                .iter()
                .map(|v| v.as_str().unwrap().to_string())
                .collect();
            let most = items.len().min(4);
            proptest::sample::subsequence(items, 1..=most).prop_shuffle().prop_map(|v| v.join(",")).boxed()
        }
        Some("integer") => {
            let min = schema["minimum"].as_i64().expect("integers are bounded");
            let max = schema["maximum"].as_i64().expect("integers are bounded");
            prop_oneof![1 => Just(min), 1 => Just(max), 4 => min..=max].prop_map(|n| n.to_string()).boxed()
        }
        Some("string") if schema["format"] == "date" => {
            let span = (days.1 - days.0).num_days();
            (0..=span).prop_map(move |n| (days.0 + chrono::Days::new(n as u64)).to_string()).boxed()
        }
        Some("string") if schema["pattern"].is_string() => {
            // The document's patterns are anchored; the generator makes whole strings anyway.
            let pattern = schema["pattern"].as_str().unwrap().trim_start_matches('^').trim_end_matches('$');
            proptest::string::string_regex(pattern).expect("a pattern proptest reads").boxed()
        }
        Some("string") => {
            let most = schema["maxLength"].as_u64().map_or(64, |m| m as usize);
            proptest::collection::vec(crate::fuzz::hostile_char(), 0..=most)
                .prop_map(|v| v.into_iter().collect::<String>())
                .boxed()
        }
        other => panic!("a parameter's schema of type {other:?}: {}", Value::to_string(schema)),
    }
}

/// `s` percent-encoded for a query string or a path segment.
fn encoded(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~' | b',') {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

#[test]
fn prop_every_value_the_openapi_document_allows_is_accepted() {
    let doc: serde_json::Value =
        serde_json::from_str(&crate::opendata::api::openapi_json(&crate::data::registry::territory()))
            .unwrap();
    let mut operations: Vec<(String, Vec<DocParam>)> = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        let params = item["get"]["parameters"]
            .as_array()
            .map(|ps| {
                ps.iter()
                    .map(|p| DocParam {
                        name: p["name"].as_str().unwrap().to_string(),
                        in_path: p["in"] == "path",
                        schema: p["schema"].clone(),
                    })
                    .collect()
            })
            .unwrap_or_default();
        operations.push((path.clone(), params));
    }
    assert_eq!(operations.len(), 3, "the API's three operations");
    for world in worlds() {
        let (start, known) = world.rt.block_on(async {
            // The worlds' router holds the demo data: the programme's start, and its comuni.
            let a =
                send(&world.app, Request::get("/api/v1/comuni?per_pagina=500").body(Body::empty()).unwrap())
                    .await;
            let all: serde_json::Value = serde_json::from_str(&a.body).unwrap();
            let codes: Vec<String> = all["comuni"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| c["codice_istat"].as_str().unwrap().to_string())
                .collect();
            let options = leptos::prelude::LeptosOptions::builder().output_name("traguardi").build();
            let state = crate::state::AppState::new(options, world.dbs[0].db.clone());
            (state.snapshot().await.unwrap().programme.start, codes)
        });
        let days = (start, chrono::Local::now().date_naive());
        let cases: Vec<BoxedStrategy<(usize, Vec<Option<String>>)>> = operations
            .iter()
            .enumerate()
            .map(|(i, (_, params))| {
                let values: Vec<BoxedStrategy<Option<String>>> = params
                    .iter()
                    .map(|p| {
                        let value = allowed_values(&p.schema, days);
                        if p.in_path {
                            // A path parameter is always there: one of the registry's codes or
                            // any the pattern allows (mostly no comune's: the documented 404).
                            prop_oneof![1 => proptest::sample::select(known.clone()), 1 => value]
                                .prop_map(Some)
                                .boxed()
                        } else {
                            proptest::option::weighted(0.4, value).boxed()
                        }
                    })
                    .collect();
                (Just(i), values).boxed()
            })
            .collect();
        let input = (proptest::sample::select((0..cases.len()).collect::<Vec<_>>()), 0..2usize)
            .prop_flat_map(move |(op, who)| (cases[op].clone(), Just(who)));
        let name = format!("values the OpenAPI document allows, through the router ({})", world.backend());
        check(&name, input, |((op, values), who)| {
            let (path, params) = &operations[op];
            let mut uri = path.clone();
            let mut query = Vec::new();
            for (p, v) in params.iter().zip(&values) {
                let Some(v) = v else { continue };
                if p.in_path {
                    uri = uri.replace(&format!("{{{}}}", p.name), &encoded(v));
                } else {
                    query.push(format!("{}={}", p.name, encoded(v)));
                }
            }
            if !query.is_empty() {
                uri = format!("{uri}?{}", query.join("&"));
            }
            // Anonymous, or the Region (for whom the document allows `bloccato`).
            let session = if who == 0 { None } else { world.sessions.last().cloned().flatten() };
            let req = Request::get(&uri).body(Body::empty()).unwrap();
            let a = world.send(with_cookie(req, session.as_deref()));
            let value = |name: &str| {
                params.iter().zip(&values).find(|(p, _)| p.name == name).and_then(|(_, v)| v.clone())
            };
            // What the descriptions say besides the schemas: an inverted population band, the
            // blocked filter for the public and a code of no comune have their documented
            // answers; everything else is a 200.
            let inverted = value("popolazione").is_some_and(|band| {
                let (min, max) = band.split_once('-').unwrap();
                !max.is_empty() && max.parse::<u64>().unwrap() <= min.parse::<u64>().unwrap()
            });
            let expected = if inverted || (who == 0 && value("bloccato").is_some()) {
                400
            } else if value("codice_istat").is_some_and(|c| !known.contains(&c)) {
                404
            } else {
                200
            };
            prop_assert_eq!(a.status.as_u16(), expected, "{}: {}", uri, a.body);
            let body: serde_json::Value = serde_json::from_str(&a.body).unwrap();
            super::opendata::fits(&doc, path, expected, &body);
            Ok(())
        });
        world.close();
    }
}
