//! Server functions called with arguments they cannot decode answer 400 (405, 404) with an
//! Italian message in the error's JSON encoding, never 500 "Transport", on both backends. Every
//! registered server function is called: with a body that is not UTF-8, with a body in another
//! format, and with the wrong method; those that take arguments also with a value of the wrong
//! type, a repeated field and a nested one.

use axum::{
    body::Body,
    http::{header, Request, StatusCode},
    Router,
};

use super::{
    auth::{app_with, form, local, send, sign_in, with_cookie, Answer, REGIONE},
    TestDb,
};
use crate::error::AppError;

/// Each server function that takes arguments, with an argument it cannot decode: a number in
/// letters, or a field nested where a value is expected (their other fields are text, checked
/// by the functions themselves). A function added with arguments must be listed here: the test
/// checks the list against the registered functions.
const UNDECODABLE: [(&str, &str); 18] = [
    ("/api/registro", "before=abc"),
    ("/api/importazioni", "id=ventidue"),
    ("/api/importazioni", "pagina[x]=2"),
    ("/api/comuni", "vista[pagina][x]=prima"),
    ("/api/cruscotto", "filter[adesione][x]=forse"),
    ("/api/grafici", "filter[piattaforma][x]=fax"),
    ("/api/scadenze", "query[al][x]=ieri"),
    ("/api/gestione", "codice_istat[x]=072006"),
    ("/api/comune", "codice_istat[x]=072006"),
    ("/api/comune-riservato", "codice_istat[x]=072006"),
    ("/api/evidenze-comune", "codice_istat[x]=072006"),
    ("/api/evidenze-coda", "provincia[x]=BA"),
    ("/api/evidenze-coda", "piattaforma[x]=io"),
    ("/api/evidenze-coda", "pagina[x]=2"),
    ("/api/proposte", "pagina[x]=2"),
    ("/api/feedback-ricevuti", "pagina[x]=2"),
    ("/api/utenti", "pagina[x]=2"),
    ("/api/scadenze", "query[pagina_scaduti][x]=2"),
];

/// A required field missing, and a field given twice where one value is expected.
const REPEATED: [(&str, &str); 4] = [
    ("/api/comune", ""),
    ("/api/registro", "before=1&before=2"),
    ("/api/gestione", "codice_istat=072006&codice_istat=075035"),
    ("/api/comuni", "filter[provincia]=BA&filter[provincia]=LE"),
];

/// The functions without arguments (only the body and the method can be wrong).
const NO_ARGUMENTS: [&str; 8] = [
    "/api/accesso-oidc",
    "/api/utente-corrente",
    "/api/esito-modulo",
    "/api/profilo",
    "/api/sito",
    "/api/scelte-filtri",
    "/api/dati-aperti",
    "/api/promemoria",
];

fn raw(uri: &str, content_type: Option<&str>, body: Vec<u8>, token: &str) -> Request<Body> {
    let mut req = Request::post(uri);
    if let Some(c) = content_type {
        req = req.header(header::CONTENT_TYPE, c);
    }
    with_cookie(req.body(Body::from(body)).unwrap(), Some(token))
}

/// A 400-class answer carrying `AppError::BadRequest` (or `NotFound`) in Italian.
fn assert_refused(a: &Answer, status: StatusCode, what: &str) {
    assert_eq!(a.status, status, "{what}: {}", a.body);
    assert!(!a.body.contains("Transport"), "{what}: {}", a.body);
    let error: AppError = serde_json::from_str(&a.body).unwrap_or_else(|e| panic!("{what}: {e}: {}", a.body));
    match error {
        AppError::BadRequest(m) | AppError::NotFound(m) => {
            assert!(m.starts_with("Richiesta non valida") || m.contains("non esiste"), "{what}: {m}")
        }
        other => panic!("{what}: {other:?}"),
    }
}

async fn check_every_function(app: &Router, token: &str, backend: &str) {
    let mut paths: Vec<(&'static str, axum::http::Method)> = server_fn::axum::server_fn_paths().collect();
    paths.sort_by_key(|(p, _)| *p);
    assert!(paths.len() >= 20, "{backend}: the server functions are registered ({})", paths.len());
    for (path, method) in &paths {
        assert_eq!(method, axum::http::Method::POST, "{path}: the table below assumes POST");
        let what = format!("{backend} {path}");
        // Not UTF-8: no function can read it, with arguments or without.
        let a =
            send(app, raw(path, Some("application/x-www-form-urlencoded"), vec![0xff, 0xfe, b'='], token))
                .await;
        assert_refused(&a, StatusCode::BAD_REQUEST, &format!("{what}, not UTF-8"));
        // Another format than a form.
        let a = send(app, raw(path, Some("application/json"), b"{\"before\": 1}".to_vec(), token)).await;
        assert_refused(&a, StatusCode::BAD_REQUEST, &format!("{what}, JSON"));
        let a = send(app, raw(path, Some("multipart/form-data; boundary=x"), b"--x--".to_vec(), token)).await;
        assert_refused(&a, StatusCode::BAD_REQUEST, &format!("{what}, multipart"));
        // The wrong method.
        let a = send(app, with_cookie(Request::get(*path).body(Body::empty()).unwrap(), Some(token))).await;
        assert_refused(&a, StatusCode::METHOD_NOT_ALLOWED, &format!("{what}, GET"));
        assert_eq!(a.headers[header::ALLOW], "POST", "{what}");
    }
    // Every function is in one of the tables, and every table names a function.
    for (path, _) in &paths {
        let listed = UNDECODABLE.iter().any(|(p, _)| p == path) || NO_ARGUMENTS.contains(path);
        assert!(listed, "{path}: a new server function; list it with an undecodable call");
    }
    for (path, body) in UNDECODABLE.iter().chain(REPEATED.iter()) {
        assert!(paths.iter().any(|(p, _)| p == path), "{path} is not a server function");
        let a = send(app, form(path, body, Some(token))).await;
        assert_refused(&a, StatusCode::BAD_REQUEST, &format!("{backend} {path} {body}"));
    }
    // The example of the issue, and what it says.
    let a = send(app, form("/api/registro", "before=abc", Some(token))).await;
    let AppError::BadRequest(message) = serde_json::from_str(&a.body).unwrap() else { panic!("{}", a.body) };
    assert!(message.contains("lettere dove serve un numero"), "{message}");
    // An unknown function, in Italian too; the good calls still answer.
    let a = send(app, form("/api/nessuna-funzione", "", Some(token))).await;
    assert_refused(&a, StatusCode::NOT_FOUND, &format!("{backend} unknown function"));
    let a = send(app, form("/api/registro", "before=10", Some(token))).await;
    assert_eq!(a.status, StatusCode::OK, "{backend}: {}", a.body);
    let a = send(app, raw("/api/sito", None, Vec::new(), token)).await;
    assert_eq!(a.status, StatusCode::OK, "{backend}: no content type, no body: {}", a.body);
    let a = send(
        app,
        raw("/api/sito", Some("application/x-www-form-urlencoded; charset=UTF-8"), Vec::new(), token),
    )
    .await;
    assert_eq!(a.status, StatusCode::OK, "{backend}: a form with its charset: {}", a.body);
}

#[tokio::test]
async fn every_server_function_refuses_undecodable_arguments_with_an_italian_400() {
    for t in TestDb::all().await {
        let app = app_with(&t, local()).await;
        let token = sign_in(&app, REGIONE).await;
        check_every_function(&app, &token, t.db.backend()).await;
        t.drop_db().await;
    }
}

/// What `make fuzz` found (100,000 cases, PostgreSQL): the Region asking a comune's private data
/// or evidence with a code holding a NUL byte got a 500, PostgreSQL refusing NUL in text. A code
/// that is not six digits is now the guard's 404, on both backends, before any query.
#[tokio::test]
async fn a_comune_code_with_a_nul_byte_is_a_404_not_a_500() {
    for t in TestDb::all().await {
        let backend = t.db.backend();
        let app = app_with(&t, local()).await;
        let token = sign_in(&app, REGIONE).await;
        for path in ["/api/comune-riservato", "/api/evidenze-comune"] {
            for body in ["codice_istat=%00", "codice_istat=07200%00", "codice_istat=072006%00"] {
                let a = send(&app, form(path, body, Some(&token))).await;
                assert_eq!(a.status, StatusCode::NOT_FOUND, "{backend} {path} {body}: {}", a.body);
                let error: AppError = serde_json::from_str(&a.body).unwrap();
                assert!(matches!(error, AppError::NotFound(_)), "{backend} {path} {body}: {error:?}");
            }
            // The well-formed code still answers.
            let ok = send(&app, form(path, "codice_istat=072006", Some(&token))).await;
            assert_eq!(ok.status, StatusCode::OK, "{backend} {path}: {}", ok.body);
        }
        t.drop_db().await;
    }
}
