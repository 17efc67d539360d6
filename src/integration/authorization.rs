//! The authorization matrix: every route the application registers (Leptos pages, server
//! functions and plain routes, all read from the router's own sources) × every kind of viewer.
//! A route without an expectation here fails the test, so a new one cannot be forgotten; a
//! denied answer must carry none of the private data planted in the database.
//!
//! A secret is planted in **every** private field of two comuni (see [`Planted`]: referents'
//! e-mail addresses, the Region's notes, blockers, the Region's verification reasons, evidence
//! reviews, proposals, evidence file names, reminder e-mails) and in the site's private records (a feedback
//! message, an import's file name). Whatever the route and the role, an answer never holds a
//! secret its reader may not read ([`may_read`], the rule in words); and each secret shows
//! somewhere to the Region, so the planting itself is checked.

use axum::http::{header, Method, StatusCode};

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
    let all_reader = |allowed: StatusCode, shows: bool| match who {
        Anonymous => (StatusCode::UNAUTHORIZED, false),
        Regione | Assessore => (allowed, shows),
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
            | "/readyz"
            | "/export/comuni.csv"
            | "/export/comuni-excel.csv"
            | "/export/comuni.json"
            | "/grafici/{file}"
            | "/report.pdf",
        ) => ok,
        // The comuni workbook adds a sheet of blockers for the comuni its reader may read.
        ("GET", "/export/comuni.xlsx") => (StatusCode::OK, private_reader),
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
        // The metrics, for configured addresses only: these requests carry no client address,
        // and get the site's ordinary 404, whoever signed in (`integration::ops` checks who may).
        ("GET", "/metrics") => (StatusCode::NOT_FOUND, false),
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
        // Assessors read every list (and write nothing): the whole trail (without the Region's
        // notes and the accounts), the review queue and the proposals.
        ("GET", p) if p.starts_with("/export/registro") => all_reader(StatusCode::OK, true),
        ("GET", p) if p.starts_with("/export/evidenze") => all_reader(StatusCode::OK, true),
        ("GET", p) if p.starts_with("/export/proposte") => all_reader(StatusCode::OK, true),
        ("GET", "/utenti") | ("POST", "/api/utenti") => region_only(StatusCode::OK, true),
        // The reminders' log and tomorrow's preview: every comune's recipients and messages.
        ("GET", "/promemoria") | ("POST", "/api/promemoria") => region_only(StatusCode::OK, true),
        // One's own reminder preferences, sent empty: refused (400) once signed in.
        ("POST", "/profilo/promemoria") => match who {
            Anonymous => (StatusCode::UNAUTHORIZED, false),
            _ => (StatusCode::BAD_REQUEST, false),
        },
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
            // Its own blockers and proposals, never the Region's notes (`may_read`).
            ComuneOnOwn => (StatusCode::OK, true),
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
        ("GET", "/registro") => all_reader(StatusCode::OK, true),
        ("GET", "/proposte") | ("POST", "/api/proposte") => all_reader(StatusCode::OK, true),
        // A comune's evidence (its file names are planted private data): whoever reads its
        // private data; the file itself likewise, with its content.
        ("GET", "/comuni/{codice}/evidenze" | "/evidenze/{id}/file") | ("POST", "/api/evidenze-comune") => {
            match who {
                Anonymous => (StatusCode::UNAUTHORIZED, false),
                ComuneOnOther => (StatusCode::NOT_FOUND, false),
                _ => (StatusCode::OK, true),
            }
        }
        // The review queue holds every comune's uploads: the Region, who reviews, and assessors.
        ("GET", "/evidenze") | ("POST", "/api/evidenze-coda") => all_reader(StatusCode::OK, true),
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
        // that does not exist (no import has the id used here); an upload
        // sent as an empty (not multipart) form comes back refused with the page.
        ("GET", "/importazioni") | ("POST", "/api/importazioni") => region_only(StatusCode::OK, false),
        ("GET", "/importazioni/{id}" | "/importazioni/{id}/file" | "/importazioni/modelli/{file}")
        | ("POST", "/importazioni/{id}/conferma") => region_only(StatusCode::NOT_FOUND, false),
        ("POST", "/importazioni") => region_only(StatusCode::BAD_REQUEST, false),
        _ => panic!("no expectation for {method} {path}: add it to the authorization matrix"),
    }
}

/// A private field that holds a planted secret.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Field {
    /// A referent's e-mail address (also the evidence's uploader).
    Email,
    /// The Region's note on the comune.
    Note,
    Blocker,
    /// The reason of the Region's verification of an objective (a rejection).
    Verification,
    /// The text of an evidence review (negative).
    Review,
    /// A service the comune proposed.
    Proposal,
    /// An evidence file's name (and content).
    EvidenceFile,
    /// A message sent with the feedback form (no comune).
    Feedback,
    /// The name of an imported file (no comune).
    ImportFile,
    /// A reminder e-mail about the comune (its subject and body; its recipient is `Email`).
    Reminder,
}

/// One planted secret: the field, the comune it belongs to (none for the site's own records) and
/// the text.
#[derive(Clone, Debug)]
struct Planted {
    field: Field,
    comune: Option<&'static str>,
    text: String,
}

/// Who may read a field, in one place: the Region everything; its own notes, the feedback and
/// the imports nobody else; the rest of a comune's private data whoever reads that comune's
/// private data (its own users, assessors, the Region). The public nothing.
fn may_read(who: Who, p: &Planted) -> bool {
    let viewer = match who {
        Who::Anonymous => return false,
        Who::Regione => return true,
        Who::ComuneOnOwn | Who::ComuneOnOther => Viewer::Comune(CODICE_A),
        Who::Assessore => Viewer::Assessore,
    };
    match (p.field, p.comune) {
        (Field::Note | Field::Feedback | Field::ImportFile, _) => false,
        (_, None) => false,
        (_, Some(c)) => match viewer {
            Viewer::Assessore => true,
            Viewer::Comune(own) => own == c,
        },
    }
}

enum Viewer {
    Comune(&'static str),
    Assessore,
}

/// Plants a secret in every private field of A and B (besides the referents, notes and evidence
/// files `app_with` plants), through the application's own forms where there is one.
async fn plant(app: &axum::Router, t: &TestDb) -> Vec<Planted> {
    use super::auth::planted;
    let regione = sign_in(app, REGIONE).await;
    let mut secrets = Vec::new();
    for (codice, email) in [(CODICE_A, SECRET_A), (CODICE_B, SECRET_B)] {
        let mut ours = vec![Planted { field: Field::Email, comune: Some(codice), text: email.to_string() }];
        let mut add = |field: Field, kind: &str| {
            let text = planted(kind, codice);
            ours.push(Planted { field, comune: Some(codice), text: text.clone() });
            text
        };
        add(Field::Note, "nota");
        add(Field::EvidenceFile, "file");
        let reminder = add(Field::Reminder, "promemoria");
        let writes = [
            (
                "blocco",
                format!("categoria=fornitore&descrizione={}&dal=2021-03-10", add(Field::Blocker, "blocco")),
            ),
            (
                "verifica",
                format!(
                    "obiettivo=final_io&esito=respinto&motivo={}&versione=0",
                    add(Field::Verification, "verifica")
                ),
            ),
            (
                "proposta",
                format!(
                    "piattaforma=io&service_id=01SEGRETO{codice}&nome={}&pubblicato_dal=2021-04-01",
                    add(Field::Proposal, "proposta")
                ),
            ),
        ];
        for (action, body) in writes {
            let a =
                send(app, form(&format!("/comuni/{codice}/gestione/{action}"), &body, Some(&regione))).await;
            assert_eq!(a.status, StatusCode::SEE_OTHER, "planting {action} in {codice}: {}", a.body);
        }
        let evidence: i64 = crate::data::on_db!(&t.db, pool => sqlx::query_scalar(
            "SELECT id FROM evidence WHERE comune = $1",
        )
        .bind(codice)
        .fetch_one(pool)
        .await
        .unwrap());
        let review = add(Field::Review, "esame");
        let a = send(
            app,
            form(
                &format!("/evidenze/{evidence}/esame"),
                &format!("esito=negativo&motivo={review}&ultima=0"),
                Some(&regione),
            ),
        )
        .await;
        assert_eq!(a.status, StatusCode::SEE_OTHER, "planting the review in {codice}: {}", a.body);
        // A second upload, not reviewed: the review queue holds it.
        crate::data::on_db!(&t.db, pool => sqlx::query(
            "INSERT INTO evidence (programme, comune, objective, version, file_name, content_type, size_bytes, \
             sha256, storage_key, uploaded_by, uploaded_at) VALUES ('fondo-innovazione-2020', $1, 'step1_io', 1, \
             $2, 'application/pdf', 10, $3, $4, $5, '2026-11-28T08:00:00Z')",
        )
        .bind(codice)
        .bind(format!("verbale {}.pdf", planted("file", codice)))
        .bind("1".repeat(64))
        .bind(format!("evidence/{codice}/in-attesa"))
        .bind(email)
        .execute(pool)
        .await
        .map(|_| ())
        .unwrap());
        // A reminder sent to the comune's referent: on the Region's log and the comune's trail.
        crate::data::on_db!(&t.db, pool => sqlx::query(
            "INSERT INTO reminder_message (dedup_key, user_id, recipient, kind, occasion, comune, day, subject, body, \
             status, attempts, next_attempt_at, created_at, sent_at) \
             SELECT $1, id, email, 'scadenza', $2, $3, '2021-02-21', $4, $5, 'inviato', 1, 0, 1614000000, 1614000000 \
             FROM app_user WHERE email = $6",
        )
        .bind(format!("scadenza:planted:{codice}"))
        .bind(format!("{codice}/2021-02-28/-7"))
        .bind(codice)
        .bind(format!("Promemoria {reminder}"))
        .bind(format!("Gentile referente, {reminder}"))
        .bind(email)
        .execute(pool)
        .await
        .map(|_| ())
        .unwrap());
        secrets.extend(ours);
    }
    let feedback = super::auth::planted("commento", "sito");
    let a = send(app, form("/feedback", &format!("pagina=%2F&messaggio={feedback}"), None)).await;
    assert!(a.status.is_success() || a.status.is_redirection(), "planting feedback: {}", a.body);
    secrets.push(Planted { field: Field::Feedback, comune: None, text: feedback });
    let file = super::auth::planted("importazione", "sito");
    crate::data::imports::store(
        &t.db,
        REGIONE,
        &format!("{file}.csv"),
        b"codice_istat;stato\n072006;aderente\n",
    )
    .await
    .unwrap();
    secrets.push(Planted { field: Field::ImportFile, comune: None, text: file });
    secrets
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
        let secrets = plant(&app, &t).await;
        // Each secret must show somewhere to the Region: else the planting failed and the
        // matrix would prove nothing.
        let mut seen_by_region = vec![false; secrets.len()];
        let mut checked = 0;
        let mut mismatches = Vec::new();
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
                    .replace(
                        "{id}",
                        &(if path.starts_with("/importazioni") {
                            // No import has it (one is planted: its pages are the Region's).
                            999_999
                        } else if target == CODICE_A {
                            evidence_a
                        } else {
                            evidence_b
                        })
                        .to_string(),
                    );
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
                let other_secret = if target == CODICE_A { SECRET_B } else { SECRET_A };
                // Shows the target's private data: any of its planted secrets.
                let shows = secrets.iter().any(|p| p.comune == Some(target) && a.body.contains(&p.text));
                if shows != shows_private {
                    // Collected, so one run names every route that disagrees.
                    mismatches.push(format!(
                        "{method} {path} as {who:?}: shows private data of {target}: {shows}, expected {shows_private}"
                    ));
                }
                // The lists of everything (users, the whole trail) show every comune's data.
                let of_everyone = matches!(
                    path.as_str(),
                    "/utenti"
                        | "/api/utenti"
                        | "/registro"
                        | "/evidenze"
                        | "/api/evidenze-coda"
                        | "/promemoria"
                        | "/api/promemoria"
                ) || path.starts_with("/export/registro")
                    || path.starts_with("/export/evidenze");
                if !of_everyone {
                    assert!(!a.body.contains(other_secret), "{method} {path} as {who:?}: data of {other}");
                }
                for (i, p) in secrets.iter().enumerate() {
                    if a.body.contains(&p.text) {
                        assert!(
                            may_read(who, p),
                            "{method} {path} as {who:?} shows {:?} of {:?}, which it may not read",
                            p.field,
                            p.comune
                        );
                        seen_by_region[i] |= who == Who::Regione;
                    }
                }
                let denied = [StatusCode::UNAUTHORIZED, StatusCode::FORBIDDEN, StatusCode::NOT_FOUND];
                if denied.contains(&status) {
                    assert!(
                        !secrets.iter().any(|p| a.body.contains(&p.text)),
                        "{method} {path} as {who:?}: a refusal carries private data"
                    );
                }
                // Every page the shell renders, refusals included, has one description.
                let html = a
                    .headers
                    .get(header::CONTENT_TYPE)
                    .is_some_and(|t| t.as_bytes().starts_with(b"text/html"));
                if html && a.body.starts_with("<!DOCTYPE html>") {
                    let tags: Vec<&str> = a
                        .body
                        .match_indices("<meta name=\"description\"")
                        .map(|(at, _)| &a.body[at..at + a.body[at..].find('>').unwrap_or(0)])
                        .collect();
                    let described = tags.len() == 1
                        && !tags[0].contains("content=\"\"")
                        && tags[0].contains("content=\"");
                    if !described {
                        mismatches.push(format!("{method} {path} as {who:?}: meta descriptions {tags:?}"));
                    }
                }
                checked += 1;
            }
        }
        assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
        assert_eq!(checked, routes.len() * EVERYONE.len());
        for (p, seen) in secrets.iter().zip(seen_by_region) {
            assert!(
                seen,
                "{:?} of {:?} ({}) never showed to the Region: not planted?",
                p.field, p.comune, p.text
            );
        }
        t.drop_db().await;
    }
}

/// Blockers are not public data, not even their existence: `bloccato=si` is refused with a 400
/// in Italian, before any work, for the public and for a comune's users (who would learn which
/// other comuni have one) on every page, export, picture, report, server function and API that
/// takes the filter; the Region and assessors use it.
#[tokio::test]
async fn the_blocked_filter_is_not_public() {
    for t in TestDb::all().await {
        let mut config = AuthConfig::local("127.0.0.1:3000");
        config.limit_per_account = 1000;
        let app = app_with(&t, config).await;
        let gets = [
            "/comuni?bloccato=si",
            "/?bloccato=si",
            "/export/comuni.csv?bloccato=si",
            "/export/comuni-excel.csv?bloccato=si",
            "/export/comuni.json?bloccato=si",
            "/export/comuni.xlsx?bloccato=si",
            "/grafici/mappa.svg?bloccato=si",
            "/report.pdf?bloccato=si",
            "/api/v1/comuni?bloccato=si",
            "/api/v1/province?bloccato=si",
        ];
        let posts = ["/api/comuni", "/api/cruscotto", "/api/grafici"];
        let comune = sign_in(&app, COMUNE_A).await;
        let assessore = sign_in(&app, ASSESSORE).await;
        let regione = sign_in(&app, REGIONE).await;
        for (who, token) in [("anonymous", None), ("comune", Some(comune.as_str()))] {
            for uri in gets {
                let a = send(&app, get(uri, token)).await;
                assert_eq!(
                    a.status,
                    StatusCode::BAD_REQUEST,
                    "GET {uri} as {who}: {}",
                    &a.body[..a.body.len().min(300)]
                );
                assert!(a.body.contains("riservato alla Regione e agli assessori"), "GET {uri} as {who}");
            }
            for uri in posts {
                let a = send(&app, form(uri, "filter[bloccato]=si", token)).await;
                assert_eq!(a.status, StatusCode::BAD_REQUEST, "POST {uri} as {who}: {}", a.body);
                assert!(a.body.contains("riservato alla Regione e agli assessori"), "POST {uri} as {who}");
            }
        }
        for (who, token) in [("assessore", assessore.as_str()), ("regione", regione.as_str())] {
            for uri in gets {
                let a = send(&app, get(uri, Some(token))).await;
                assert_eq!(
                    a.status,
                    StatusCode::OK,
                    "GET {uri} as {who}: {}",
                    &a.body[..a.body.len().min(300)]
                );
            }
            for uri in posts {
                let a = send(&app, form(uri, "filter[bloccato]=si", Some(token))).await;
                assert_eq!(
                    a.status,
                    StatusCode::OK,
                    "POST {uri} as {who}: {}",
                    &a.body[..a.body.len().min(300)]
                );
            }
        }
        // The form offers the select only to those who may use it.
        let public = send(&app, get("/comuni", None)).await;
        assert!(!public.body.contains("id=\"bloccato\""), "the public list offers the blocked filter");
        let region = send(&app, get("/comuni", Some(&regione))).await;
        assert!(region.body.contains("id=\"bloccato\""), "the Region's list lacks the blocked filter");
        t.drop_db().await;
    }
}
