//! The authorization matrix: every route the application registers (Leptos pages, server
//! functions and plain routes, all read from the router's own sources) × every kind of viewer.
//! A route without an expectation here fails the test, so a new one cannot be forgotten; a
//! denied answer must carry none of the private data planted in the database.

use axum::http::{Method, StatusCode};

use super::{
    auth::{
        app_with, form, get, send, sign_in, ASSESSORE, CODICE_A, CODICE_B, COMUNE_A, REGIONE, SECRET_A,
        SECRET_B,
    },
    TestDb,
};
use crate::auth::config::AuthConfig;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Who {
    Anonymous,
    /// A `comune` user of A, asking about A.
    ComuneOnOwn,
    /// The same user, asking about B.
    ComuneOnOther,
    Assessore,
    Regione,
}

const EVERYONE: [Who; 5] =
    [Who::Anonymous, Who::ComuneOnOwn, Who::ComuneOnOther, Who::Assessore, Who::Regione];

/// Every route: (method, path template).
fn registered_routes() -> Vec<(Method, String)> {
    let mut routes = Vec::new();
    for listing in crate::server::route_list() {
        for m in listing.methods() {
            let method = match m {
                leptos_router::Method::Get => Method::GET,
                leptos_router::Method::Post => Method::POST,
                leptos_router::Method::Put => Method::PUT,
                leptos_router::Method::Delete => Method::DELETE,
                leptos_router::Method::Patch => Method::PATCH,
            };
            routes.push((method, listing.path().to_string()));
        }
    }
    for (path, method) in server_fn::axum::server_fn_paths() {
        routes.push((method, path.to_string()));
    }
    for r in crate::server::plain_routes() {
        routes.push((r.method, r.path.to_string()));
    }
    routes.sort_by(|a, b| (a.1.as_str(), a.0.as_str()).cmp(&(b.1.as_str(), b.0.as_str())));
    routes.dedup();
    routes
}

/// (status, shows the target comune's private data).
fn expected(method: &Method, path: &str, who: Who) -> (StatusCode, bool) {
    use Who::*;
    let ok = (StatusCode::OK, false);
    let signed_in_only = if who == Anonymous { (StatusCode::UNAUTHORIZED, false) } else { ok };
    let region_only = |allowed: StatusCode, shows: bool| match who {
        Anonymous => (StatusCode::UNAUTHORIZED, false),
        Regione => (allowed, shows),
        _ => (StatusCode::FORBIDDEN, false),
    };
    let private_reader = matches!(who, ComuneOnOwn | Assessore | Regione);
    match (method.as_str(), path) {
        // Public pages and reads: what open data would publish.
        (
            "GET",
            "/"
            | "/comuni"
            | "/accedi"
            | "/healthz"
            | "/export/comuni.csv"
            | "/export/comuni-excel.csv"
            | "/export/comuni.json"
            | "/export/comuni.xlsx"
            | "/grafici/{file}"
            | "/report.pdf",
        ) => ok,
        // Open data: the page, the DCAT-AP_IT catalogue and the read-only API (never private
        // data: the planted evidence must not show). An unknown API address is a JSON 404.
        (
            "GET",
            "/opendata"
            | "/opendata/catalogo.rdf"
            | "/api/v1/province"
            | "/api/v1/comuni"
            | "/api/v1/comuni/{codice_istat}"
            | "/api/v1/openapi.json",
        ) => ok,
        ("GET", "/api/v1/{*resto}") => (StatusCode::NOT_FOUND, false),
        (
            "POST",
            "/api/sito"
            | "/api/utente-corrente"
            | "/api/esito-modulo"
            | "/api/comuni"
            | "/api/comune"
            | "/api/cruscotto"
            | "/api/grafici"
            | "/api/scelte-filtri"
            | "/api/dati-aperti"
            | "/api/accesso-oidc",
        ) => ok,
        // A comune's page is public; its private section only for those who may read it.
        ("GET", "/comuni/{codice}") => (StatusCode::OK, private_reader),
        ("POST", "/api/comune-riservato") => match who {
            Anonymous => (StatusCode::UNAUTHORIZED, false),
            ComuneOnOther => (StatusCode::NOT_FOUND, false),
            _ => (StatusCode::OK, true),
        },
        // The site's own pages (footer links) and the feedback form, sent empty: anyone gets the
        // form back with its messages; only the Region reads what was sent.
        ("GET", "/accessibilita" | "/privacy" | "/note-legali" | "/feedback") => ok,
        ("POST", "/feedback") => ok,
        ("GET", "/feedback/ricevuti") | ("POST", "/api/feedback-ricevuti") => {
            region_only(StatusCode::OK, false)
        }
        ("GET", "/profilo") | ("POST", "/api/profilo") => signed_in_only,
        // Overdue objectives with the comuni's blockers: every signed-in role (a comune's user
        // gets its own comuni; `integration::scadenze` checks who sees which rows and blockers).
        ("GET", "/scadenze") | ("POST", "/api/scadenze") => signed_in_only,
        ("GET", p) if p.starts_with("/export/scadenze") => signed_in_only,
        // The list pages' exports follow their pages: the whole trail and the review queue
        // hold every comune's private data, the proposals none.
        ("GET", p) if p.starts_with("/export/registro") => region_only(StatusCode::OK, true),
        ("GET", p) if p.starts_with("/export/evidenze") => region_only(StatusCode::OK, true),
        ("GET", p) if p.starts_with("/export/proposte") => region_only(StatusCode::OK, false),
        ("GET", "/utenti") | ("POST", "/api/utenti") => region_only(StatusCode::OK, true),
        // Forms, sent empty: the Region's get past authorization to validation (and the users
        // page comes back with its messages).
        ("POST", "/utenti") => region_only(StatusCode::BAD_REQUEST, true),
        ("POST", "/utenti/disattiva") => region_only(StatusCode::NOT_FOUND, false),
        ("POST", "/accedi") => (StatusCode::BAD_REQUEST, false),
        ("POST", "/esci") => (StatusCode::SEE_OTHER, false),
        // Not configured in this application.
        ("POST", "/accedi/oidc") | ("GET", "/accedi/oidc/callback") => (StatusCode::NOT_FOUND, false),
        // The workspace of a comune: every form for the Region, proposals for the comune's own
        // users (whose page holds none of the Region's notes); nothing for the others.
        ("GET", "/comuni/{codice}/gestione") | ("POST", "/api/gestione") => match who {
            Anonymous => (StatusCode::UNAUTHORIZED, false),
            Regione => (StatusCode::OK, true),
            ComuneOnOwn => (StatusCode::OK, false),
            _ => (StatusCode::FORBIDDEN, false),
        },
        // Its forms, sent empty (here the Region's note form): the Region gets the page back with
        // the messages; a comune's own user may only propose services.
        ("POST", "/comuni/{codice}/gestione/{azione}") => match who {
            Anonymous => (StatusCode::UNAUTHORIZED, false),
            Regione => (StatusCode::BAD_REQUEST, true),
            _ => (StatusCode::FORBIDDEN, false),
        },
        // A comune's trail: whoever reads its private data; the whole trail: the Region.
        ("GET", "/comuni/{codice}/registro") | ("POST", "/api/registro") => match who {
            Anonymous => (StatusCode::UNAUTHORIZED, false),
            ComuneOnOther => (StatusCode::NOT_FOUND, false),
            _ => (StatusCode::OK, true),
        },
        ("GET", "/registro") => region_only(StatusCode::OK, true),
        ("GET", "/proposte") | ("POST", "/api/proposte") => region_only(StatusCode::OK, false),
        // A comune's evidence (its file names are planted private data): whoever reads its
        // private data; the file itself likewise, with its content.
        ("GET", "/comuni/{codice}/evidenze" | "/evidenze/{id}/file") | ("POST", "/api/evidenze-comune") => {
            match who {
                Anonymous => (StatusCode::UNAUTHORIZED, false),
                ComuneOnOther => (StatusCode::NOT_FOUND, false),
                _ => (StatusCode::OK, true),
            }
        }
        // The review queue holds every comune's uploads: the Region only.
        ("GET", "/evidenze") | ("POST", "/api/evidenze-coda") => region_only(StatusCode::OK, true),
        // Upload, sent as an empty (not multipart) form: the comune's own users and the Region
        // get past authorization to the refusal, shown on the evidence page.
        ("POST", "/comuni/{codice}/evidenze/{obiettivo}") => match who {
            Anonymous => (StatusCode::UNAUTHORIZED, false),
            ComuneOnOwn | Regione => (StatusCode::BAD_REQUEST, true),
            _ => (StatusCode::FORBIDDEN, false),
        },
        // Review, sent empty: the Region gets the evidence page back with the messages.
        ("POST", "/evidenze/{id}/esame") => region_only(StatusCode::BAD_REQUEST, true),
        // Imports are the Region's: the page; a report, a file, a confirmation or a template
        // that does not exist (the ids here are evidence ids, no import has them); an upload
        // sent as an empty (not multipart) form comes back refused with the page.
        ("GET", "/importazioni") | ("POST", "/api/importazioni") => region_only(StatusCode::OK, false),
        ("GET", "/importazioni/{id}" | "/importazioni/{id}/file" | "/importazioni/modelli/{file}")
        | ("POST", "/importazioni/{id}/conferma") => region_only(StatusCode::NOT_FOUND, false),
        ("POST", "/importazioni") => region_only(StatusCode::BAD_REQUEST, false),
        _ => panic!("no expectation for {method} {path}: add it to the authorization matrix"),
    }
}

fn body_for(path: &str, codice: &str) -> String {
    match path {
        "/api/comune"
        | "/api/comune-riservato"
        | "/api/gestione"
        | "/api/registro"
        | "/api/evidenze-comune" => {
            format!("codice_istat={codice}")
        }
        "/api/comuni" => "filter[provincia]=BA".into(),
        _ => String::new(),
    }
}

#[tokio::test]
async fn every_route_for_every_role() {
    let routes = registered_routes();
    assert!(routes.len() >= 20, "routes found: {routes:?}");
    // State-changing server functions never use GET: none of them does. (`/api/v1/` is the
    // read-only open-data API, GET only.)
    for (method, path) in &routes {
        if path.starts_with("/api/") && !path.starts_with("/api/v1/") {
            assert_eq!(method, Method::POST, "{path} must be POST");
        }
    }
    for t in TestDb::all().await {
        let mut config = AuthConfig::local("127.0.0.1:3000");
        config.limit_per_account = 1000;
        config.limit_per_ip = 1000;
        let app = app_with(&t, config).await;
        // The planted evidence of each comune (see `app_with`).
        let evidence_of = |codice: &str| {
            let db = t.db.clone();
            let codice = codice.to_string();
            async move {
                crate::data::on_db!(&db, pool => sqlx::query_scalar::<_, i64>(
                    "SELECT id FROM evidence WHERE comune = $1",
                )
                .bind(&codice)
                .fetch_one(pool)
                .await
                .unwrap())
            }
        };
        let (evidence_a, evidence_b) = (evidence_of(CODICE_A).await, evidence_of(CODICE_B).await);
        let mut checked = 0;
        for (method, path) in &routes {
            for who in EVERYONE {
                let (target, other) =
                    if who == Who::ComuneOnOther { (CODICE_B, CODICE_A) } else { (CODICE_A, CODICE_B) };
                // A fresh session for each request: `/esci` ends it.
                let token = match who {
                    Who::Anonymous => None,
                    Who::ComuneOnOwn | Who::ComuneOnOther => Some(COMUNE_A),
                    Who::Assessore => Some(ASSESSORE),
                    Who::Regione => Some(REGIONE),
                };
                let token = match token {
                    Some(email) => Some(
                        tokio::time::timeout(std::time::Duration::from_secs(60), sign_in(&app, email))
                            .await
                            .unwrap_or_else(|_| {
                                panic!("sign-in of {email} before {method} {path}: no answer within 60 s")
                            }),
                    ),
                    None => None,
                };
                let uri = path
                    .replace("{codice}", target)
                    .replace("{codice_istat}", target)
                    .replace("{*resto}", "sconosciuta")
                    .replace("{file}", "mappa.svg")
                    .replace("{azione}", "nota")
                    .replace("{obiettivo}", "step1_pagopa")
                    .replace("{id}", &(if target == CODICE_A { evidence_a } else { evidence_b }).to_string());
                let req = if *method == Method::GET {
                    get(&uri, token.as_deref())
                } else {
                    form(&uri, &body_for(path, target), token.as_deref())
                };
                // A hang would otherwise stall the whole suite without naming the request.
                let a = tokio::time::timeout(std::time::Duration::from_secs(60), send(&app, req))
                    .await
                    .unwrap_or_else(|_| panic!("{method} {path} as {who:?}: no answer within 60 s"));
                let (status, shows_private) = expected(method, path, who);
                assert_eq!(
                    a.status,
                    status,
                    "{method} {path} as {who:?}: {}",
                    &a.body[..a.body.len().min(400)]
                );
                let (secret, other_secret) =
                    if target == CODICE_A { (SECRET_A, SECRET_B) } else { (SECRET_B, SECRET_A) };
                assert_eq!(
                    a.body.contains(secret),
                    shows_private,
                    "{method} {path} as {who:?}: private data of {target}"
                );
                // The lists of everything (users, the whole trail) show every comune's data.
                let of_everyone = matches!(
                    path.as_str(),
                    "/utenti" | "/api/utenti" | "/registro" | "/evidenze" | "/api/evidenze-coda"
                ) || path.starts_with("/export/registro")
                    || path.starts_with("/export/evidenze");
                if !of_everyone {
                    assert!(!a.body.contains(other_secret), "{method} {path} as {who:?}: data of {other}");
                }
                let denied = [StatusCode::UNAUTHORIZED, StatusCode::FORBIDDEN, StatusCode::NOT_FOUND];
                if denied.contains(&status) {
                    assert!(
                        !a.body.contains(SECRET_A) && !a.body.contains(SECRET_B),
                        "{method} {path} as {who:?}"
                    );
                }
                checked += 1;
            }
        }
        assert_eq!(checked, routes.len() * EVERYONE.len());
        t.drop_db().await;
    }
}
