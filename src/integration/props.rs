//! Properties through the real router (see `crate::fuzz`), on the demo data with the accounts
//! of the authorization tests, one database for all the cases of a property:
//! - every registered server function, called as anonymous, a comune's user or the Region with
//!   an arbitrary form body (its own argument names and others, hostile values, repeats,
//!   nesting, bytes that are not UTF-8): never a 5xx, and a refusal is the error's JSON;
//! - the routes that read filters from the query string (exports, the pictures, the open-data
//!   API) with an arbitrary query string: never a 5xx, and a refusal is in Italian;
//! - the OIDC callback with arbitrary `code`, `state`, `iss` and `error` (and a binding cookie
//!   or none): always back to the sign-in page with the reason's code.
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
