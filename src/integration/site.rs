//! The site's own pages and the feedback form over HTTP, through the real router, on both
//! backends: what is stored, what a refused form gets back, who reads the messages.

use std::net::SocketAddr;

use axum::{
    body::Body,
    extract::ConnectInfo,
    http::{header, Request, StatusCode},
};

use super::{
    auth::{app_with, form, get, local, send, sign_in, ASSESSORE, REGIONE},
    TestDb,
};
use crate::{data::feedback, site::MAX_MESSAGE};

/// `application/x-www-form-urlencoded` for a list of fields.
fn encode(fields: &[(&str, &str)]) -> String {
    let enc = |s: &str| {
        s.bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                    (b as char).to_string()
                }
                b' ' => "+".to_string(),
                _ => format!("%{b:02X}"),
            })
            .collect::<String>()
    };
    fields.iter().map(|(k, v)| format!("{}={}", enc(k), enc(v))).collect::<Vec<_>>().join("&")
}

fn from_address(mut req: Request<Body>, ip: [u8; 4]) -> Request<Body> {
    req.extensions_mut().insert(ConnectInfo(SocketAddr::from((ip, 40000))));
    req
}

/// Static files are linked and served under their folder's content hash, kept by browsers for
/// a year, whoever asks (a signed-in answer is otherwise `private, no-store`); the wasm's
/// scripts load from the hashed folder; another build's hash is a 404; the plain addresses
/// still answer, without the long lifetime. Fails without `server::assets` (plain addresses).
#[tokio::test]
async fn static_files_are_named_by_their_content_and_kept_for_a_year() {
    use leptos::prelude::LeptosOptions;
    let t = TestDb::sqlite().await;
    crate::demo::load(&t.db).await.unwrap();
    super::auth::add_user(&t.db, REGIONE, "regione", "", "").await;
    let site = std::env::temp_dir().join(super::unique("traguardi_site"));
    for (name, content) in [
        ("pkg/traguardi.js", "export default function init() {}"),
        ("pkg/traguardi.wasm", "\0asm"),
        ("pkg/traguardi.css", "main { color: #000 }"),
        ("bootstrap-italia/css/bootstrap-italia.min.css", "body { font-family: Titillium Web }"),
        ("bootstrap-italia/svg/sprites.svg", "<svg xmlns=\"http://www.w3.org/2000/svg\"></svg>"),
    ] {
        let path = site.join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, content).unwrap();
    }
    let assets = crate::server::assets::Assets::from_site(&site).unwrap();
    let (pkg, bi) =
        (assets.hash("pkg").unwrap().to_string(), assets.hash("bootstrap-italia").unwrap().to_string());
    let options = LeptosOptions::builder()
        .output_name("traguardi")
        .site_root(site.to_string_lossy().to_string())
        .build();
    let app = crate::server::router(
        crate::state::AppState::with_auth(options, t.db.clone(), local()).with_assets(assets),
    );
    let token = sign_in(&app, REGIONE).await;
    for cookie in [None, Some(token.as_str())] {
        let page = send(&app, get("/", cookie)).await;
        assert_eq!(page.status, StatusCode::OK);
        for linked in [
            format!("href=\"/bootstrap-italia/{bi}/css/bootstrap-italia.min.css\""),
            format!("href=\"/pkg/{pkg}/traguardi.css\""),
            format!("/bootstrap-italia/{bi}/svg/sprites.svg#it-pa"),
            format!("/pkg/{pkg}/traguardi.js"),
            // Leptos names the wasm `traguardi_bg` when cargo-leptos did not build the binary.
            format!(
                "/pkg/{pkg}/traguardi{}.wasm",
                if option_env!("LEPTOS_OUTPUT_NAME").is_some() { "" } else { "_bg" }
            ),
        ] {
            assert!(page.body.contains(&linked), "{linked} in the page (cookie {cookie:?})");
        }
        assert!(!page.body.contains("\"/pkg/traguardi.") && !page.body.contains("\"/bootstrap-italia/css/"));
        for (path, content) in [
            (format!("/pkg/{pkg}/traguardi.js"), "export default function init() {}"),
            (
                format!("/bootstrap-italia/{bi}/css/bootstrap-italia.min.css"),
                "body { font-family: Titillium Web }",
            ),
        ] {
            let a = send(&app, get(&path, cookie)).await;
            assert_eq!(a.status, StatusCode::OK, "{path}");
            assert_eq!(a.body, content, "{path}");
            assert_eq!(
                a.headers[header::CACHE_CONTROL],
                "public, max-age=31536000, immutable",
                "{path} ({cookie:?})"
            );
        }
    }
    // The pages the sign-in routes render themselves (a refused sign-in) load the same scripts.
    let refused = send(
        &app,
        super::auth::form("/accedi", &super::auth::login_body(REGIONE, "Sbagliata-sbagliata-1"), None),
    )
    .await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED);
    assert!(refused.body.contains(&format!("/pkg/{pkg}/traguardi.js")), "the refused sign-in's page");
    let stale = send(&app, get("/pkg/0123456789abcdef/traguardi.js", None)).await;
    assert_eq!(stale.status, StatusCode::NOT_FOUND, "another build's hash");
    let plain = send(&app, get("/pkg/traguardi.js", None)).await;
    assert_eq!(plain.status, StatusCode::OK);
    assert!(plain
        .headers
        .get(header::CACHE_CONTROL)
        .is_none_or(|v| !v.to_str().unwrap().contains("immutable")));
    let _ = std::fs::remove_dir_all(&site);
    t.drop_db().await;
}

#[tokio::test]
async fn the_footer_pages_render_for_everyone_with_the_frame() {
    for t in TestDb::all().await {
        let app = app_with(&t, local()).await;
        let a = send(&app, get("/", None)).await;
        assert_eq!(a.status, StatusCode::OK);
        // Bootstrap Italia first, our stylesheet after it (ours wins); never its JavaScript.
        let bi = a.body.find("/bootstrap-italia/css/bootstrap-italia.min.css").expect("BI stylesheet");
        let ours = a.body.find("/pkg/traguardi.css").expect("our stylesheet");
        assert!(bi < ours, "Bootstrap Italia must come before traguardi.css");
        assert!(!a.body.contains("bootstrap-italia.bundle") && !a.body.contains("bootstrap-italia.min.js"));
        for href in ["/accessibilita", "/feedback?pagina=/", "/privacy", "/note-legali"] {
            assert!(a.body.contains(&format!("href=\"{href}\"")), "footer link {href}");
        }
        assert!(a.body.contains("class=\"it-header-wrapper\"") && a.body.contains("class=\"it-footer\""));
        assert!(a.body.contains("Regione Puglia") && a.body.contains("Traguardi — Fondo Innovazione"));
        assert!(a.body.contains("id=\"hydration-status\" data-hydrated=\"false\""));

        for (path, title, text) in [
            ("/accessibilita", "Dichiarazione di accessibilità", "parzialmente conforme"),
            (
                "/privacy",
                "Informativa sul trattamento dei dati personali",
                "da completare a cura del titolare",
            ),
            ("/note-legali", "Note legali", "CC BY 4.0"),
            ("/feedback", "Invia un commento", "Cosa stavi cercando di fare?"),
        ] {
            let a = send(&app, get(path, None)).await;
            assert_eq!(a.status, StatusCode::OK, "{path}");
            assert_eq!(a.body.matches("<h1").count(), 1, "{path}: one h1");
            assert!(a.body.contains(&format!("<h1>{title}</h1>")), "{path}");
            assert!(a.body.contains(text), "{path}: {text}");
            assert!(a.body.contains("<main id=\"main\""), "{path}");
        }
        let a = send(&app, get("/accessibilita", None)).await;
        assert!(a.body.contains("https://form.agid.gov.it") && a.body.contains("axe-core"));
        // The form names the page it came from, and only a path of this site.
        let a = send(&app, get("/feedback?pagina=/comuni/073013", None)).await;
        assert!(a.body.contains("name=\"pagina\" value=\"/comuni/073013\""), "{}", a.body);
        let a = send(&app, get("/feedback?pagina=https://evil.example/", None)).await;
        assert!(a.body.contains("name=\"pagina\" value=\"\""));
        assert!(!a.body.contains("evil.example"));
        t.drop_db().await;
    }
}

#[tokio::test]
async fn a_valid_message_is_stored_and_only_the_region_reads_it() {
    for t in TestDb::all().await {
        let app = app_with(&t, local()).await;
        let body = encode(&[
            ("pagina", "/comuni?provincia=LE"),
            ("attivita", "Cercare i comuni di Lecce"),
            ("valutazione", "4"),
            ("messaggio", "Il filtro funziona,\r\nma la tabella è lunga."),
            ("email", " Persona@Example.IT "),
        ]);
        let a = send(&app, form("/feedback", &body, None)).await;
        assert_eq!(a.status, StatusCode::SEE_OTHER, "{}", a.body);
        assert_eq!(a.location(), "/feedback?inviato=1");
        let a = send(&app, get("/feedback?inviato=1", None)).await;
        assert_eq!(a.status, StatusCode::OK);
        assert!(a.body.contains("Grazie, il tuo messaggio è stato ricevuto."));

        let rows = feedback::page(&t.db, 100, 0).await.unwrap().0;
        assert_eq!(rows.len(), 1);
        let r = &rows[0];
        assert_eq!(r.page, "/comuni?provincia=LE");
        assert_eq!(r.task.as_deref(), Some("Cercare i comuni di Lecce"));
        assert_eq!(r.rating, Some(4));
        assert_eq!(r.message, "Il filtro funziona,\nma la tabella è lunga.");
        assert_eq!(r.email.as_deref(), Some("persona@example.it"));
        assert!((crate::auth::session::now() - r.created_at).abs() < 60);

        // Only a message: the optional fields stay empty.
        let a = send(&app, form("/feedback", &encode(&[("messaggio", "Solo testo")]), None)).await;
        assert_eq!(a.status, StatusCode::SEE_OTHER);
        let rows = feedback::page(&t.db, 100, 0).await.unwrap().0;
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].message, "Solo testo", "newest first");
        assert_eq!(
            (rows[0].page.as_str(), &rows[0].task, rows[0].rating, &rows[0].email),
            ("", &None, None, &None)
        );

        // The Region reads them; the public is asked to sign in, other roles are refused, and
        // neither sees a message.
        let anonymous = send(&app, get("/feedback/ricevuti", None)).await;
        assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
        let assessore = sign_in(&app, ASSESSORE).await;
        let refused = send(&app, get("/feedback/ricevuti", Some(&assessore))).await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN);
        for a in [&anonymous, &refused] {
            assert!(!a.body.contains("la tabella è lunga") && !a.body.contains("persona@example.it"));
        }
        let regione = sign_in(&app, REGIONE).await;
        let a = send(&app, get("/feedback/ricevuti", Some(&regione))).await;
        assert_eq!(a.status, StatusCode::OK);
        assert!(a.body.contains("la tabella è lunga") && a.body.contains("persona@example.it"));
        assert!(a.body.contains("4 su 5") && a.body.contains("/comuni?provincia=LE"));
        assert!(a.body.contains("2 commenti ricevuti, dal più recente."));
        // The Region's header links to them.
        assert!(a.body.contains("href=\"/feedback/ricevuti\""));
        t.drop_db().await;
    }
}

#[tokio::test]
async fn a_refused_message_comes_back_with_its_errors_and_values_and_nothing_is_stored() {
    for t in TestDb::all().await {
        let app = app_with(&t, local()).await;
        let too_long = "a".repeat(MAX_MESSAGE + 1);
        // (case, fields sent, the error shown, something typed that must come back)
        type Case<'a> = (&'a str, Vec<(&'a str, &'a str)>, &'a str, &'a str);
        let cases: [Case; 4] = [
            (
                "empty message",
                vec![("messaggio", "  "), ("email", "tiene@example.it")],
                "Scrivi il tuo messaggio.",
                "tiene@example.it",
            ),
            (
                "over-long message",
                vec![("messaggio", &too_long), ("attivita", "Scrivere molto")],
                "Il messaggio può avere al massimo 2000 caratteri (ne ha 2001): accorcialo.",
                "Scrivere molto",
            ),
            (
                "bad e-mail",
                vec![("messaggio", "Testo conservato"), ("email", "non-una-email")],
                "«non-una-email» non è un indirizzo e-mail valido",
                "Testo conservato",
            ),
            (
                "rating 7",
                vec![("messaggio", "Voto sbagliato"), ("valutazione", "7"), ("pagina", "/comuni")],
                "La valutazione va da 1 a 5: scegline una o nessuna.",
                "value=\"/comuni\"",
            ),
        ];
        for (case, fields, error, kept) in cases {
            let a = send(&app, form("/feedback", &encode(&fields), None)).await;
            assert_eq!(a.status, StatusCode::OK, "{case}");
            assert!(a.body.contains("Il commento non è stato inviato: correggi i campi indicati."), "{case}");
            assert!(a.body.contains(error), "{case}: {error}\n{}", a.body);
            assert!(a.body.contains(kept), "{case}: the value typed is kept ({kept})");
            assert!(a.body.contains("aria-invalid=\"true\"") || case == "rating 7", "{case}");
            assert_eq!(a.body.matches("<h1").count(), 1, "{case}");
            assert_eq!(feedback::count(&t.db).await.unwrap(), 0, "{case}: nothing stored");
        }
        t.drop_db().await;
    }
}

#[tokio::test]
async fn messages_are_limited_per_address_and_cross_site_posts_refused() {
    let t = TestDb::sqlite().await;
    let app = app_with(&t, local()).await;
    let body = encode(&[("messaggio", "Ancora io")]);
    let burst = crate::site::routes::BURST as i64;
    for _ in 0..burst {
        let a = send(&app, from_address(form("/feedback", &body, None), [203, 0, 113, 9])).await;
        assert_eq!(a.status, StatusCode::SEE_OTHER);
    }
    let a = send(&app, from_address(form("/feedback", &body, None), [203, 0, 113, 9])).await;
    assert_eq!(a.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(a.body.contains("Hai inviato molti messaggi in poco tempo"), "{}", a.body);
    assert!(a.body.contains("Ancora io"), "the message typed is kept");
    assert!(a.headers.contains_key(header::RETRY_AFTER));
    // Refused forms do not count, and other addresses are not affected.
    let a = send(&app, from_address(form("/feedback", "messaggio=", None), [203, 0, 113, 9])).await;
    assert_eq!(a.status, StatusCode::OK);
    let a = send(&app, from_address(form("/feedback", &body, None), [198, 51, 100, 7])).await;
    assert_eq!(a.status, StatusCode::SEE_OTHER);
    assert_eq!(feedback::count(&t.db).await.unwrap(), burst + 1);

    let cross_site = Request::post("/feedback")
        .header("host", "traguardi.example")
        .header("sec-fetch-site", "cross-site")
        .header("origin", "https://evil.example")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(Body::from(body.clone()))
        .unwrap();
    let a = send(&app, cross_site).await;
    assert_eq!(a.status, StatusCode::FORBIDDEN);
    assert_eq!(feedback::count(&t.db).await.unwrap(), burst + 1);
    t.drop_db().await;
}

/// `/feedback/ricevuti` shows the messages a page at a time, newest first, with the total in
/// words; before, it showed the latest 100 and older messages could no longer be read.
#[tokio::test]
async fn the_received_messages_are_paginated_with_their_total() {
    for t in TestDb::all().await {
        let backend = t.db.backend();
        let app = app_with(&t, local()).await;
        for i in 0..61 {
            let message = crate::site::ValidFeedback {
                page: String::new(),
                task: None,
                rating: None,
                message: format!("messaggio-{i:02}"),
                email: None,
            };
            feedback::insert(&t.db, &message, 1_700_000_000 + i).await.unwrap();
        }
        let listed = |body: &str| -> Vec<i64> {
            (0..61).rev().filter(|i| body.contains(&format!("messaggio-{i:02}"))).collect()
        };
        let regione = sign_in(&app, REGIONE).await;
        let first = send(&app, get("/feedback/ricevuti", Some(&regione))).await;
        assert_eq!(first.status, StatusCode::OK, "{backend}");
        assert_eq!(listed(&first.body), (11..61).rev().collect::<Vec<_>>(), "{backend}: the 50 newest");
        assert!(
            first.body.contains("61 commenti ricevuti, dal più recente. Pagina 1: righe 1–50 di 61."),
            "{backend}"
        );
        assert!(first.body.contains("href=\"/feedback/ricevuti?pagina=2\""), "{backend}");
        let second = send(&app, get("/feedback/ricevuti?pagina=2", Some(&regione))).await;
        assert_eq!(listed(&second.body), (0..11).rev().collect::<Vec<_>>(), "{backend}: the oldest");
        assert!(second.body.contains("Pagina 2: righe 51–61 di 61."), "{backend}");
        let bad = send(&app, get("/feedback/ricevuti?pagina=zero", Some(&regione))).await;
        assert_eq!(bad.status, StatusCode::BAD_REQUEST, "{backend}");
        assert!(bad.body.contains("Numero di pagina non valido"), "{backend}");
        t.drop_db().await;
    }
}

/// Every list of provinces is the territory's, not a list in the code: a server given Molise's
/// territory offers Campobasso and Isernia in its filter forms (dashboard, `/comuni`,
/// `/scadenze`, `/evidenze`) and in its OpenAPI document, refuses Lecce with Molise's siglas and
/// draws Molise's map; the figures' province rows come from the comuni's registry rows, so a
/// database that also holds Molise's comuni shows its provinces too. Fails with a list of
/// provinces in the code (the forms would still offer Lecce).
#[tokio::test]
async fn the_provinces_and_the_map_are_the_territorys() {
    use crate::{data::registry, state::AppState};
    use leptos::prelude::LeptosOptions;
    for t in TestDb::all().await {
        let backend = t.db.backend();
        crate::demo::load(&t.db).await.unwrap();
        super::auth::add_user(&t.db, REGIONE, "regione", "", "").await;
        let molise = registry::territory_of("14").unwrap();
        let options = LeptosOptions::builder().output_name("traguardi").build();
        let app =
            crate::server::router(AppState::with_auth(options, t.db.clone(), local()).with_territory(molise));
        let regione = sign_in(&app, REGIONE).await;
        let option = |sigla: &str| format!("<option value=\"{sigla}\"");
        for page in ["/", "/comuni", "/scadenze", "/evidenze"] {
            let a = send(&app, get(page, Some(&regione))).await;
            assert_eq!(a.status, StatusCode::OK, "{backend} {page}: {}", a.body);
            for (sigla, nome) in [("CB", "Campobasso"), ("IS", "Isernia")] {
                assert!(
                    a.body.contains(&option(sigla)) && a.body.contains(nome),
                    "{backend} {page}: {sigla}"
                );
            }
            assert!(!a.body.contains(&option("LE")), "{backend} {page}: Lecce offered");
        }
        let map = send(&app, get("/grafici/mappa.svg", None)).await;
        assert!(map.body.contains("Mappa dei comuni del Molise per avanzamento"), "{backend}");
        assert!(map.body.contains("aria-label=\"Campobasso: "), "{backend}");
        assert!(!map.body.contains("aria-label=\"Bari: "), "{backend}");
        for page in ["/comuni?provincia=LE", "/api/v1/comuni?provincia=LE", "/scadenze?provincia=LE"] {
            let a = send(&app, get(page, Some(&regione))).await;
            assert_eq!(a.status, StatusCode::BAD_REQUEST, "{backend} {page}");
            assert!(
                a.body.contains("Provincia sconosciuta: «LE». Valori ammessi: CB, IS."),
                "{backend} {page}: {}",
                a.body
            );
        }
        let a = send(&app, get("/evidenze?provincia=LE", Some(&regione))).await;
        assert!(
            a.body.contains("Provincia sconosciuta: «LE». Valori ammessi: CB, IS."),
            "{backend}: {}",
            a.body
        );
        let doc = send(&app, get("/api/v1/openapi.json", None)).await;
        let doc: serde_json::Value = serde_json::from_str(&doc.body).unwrap();
        let provincia = doc["paths"]["/api/v1/comuni"]["get"]["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == "provincia")
            .unwrap()
            .clone();
        assert_eq!(provincia["schema"]["enum"], serde_json::json!(["CB", "IS"]), "{backend}");
        assert_eq!(provincia["example"], "CB", "{backend}");

        // The figures' province rows: Puglia's six, and Molise's two once its comuni are loaded.
        let state = AppState::new(LeptosOptions::builder().output_name("traguardi").build(), t.db.clone());
        let rows = |s: &crate::evaluation::Snapshot| {
            s.summary(&Default::default()).province.iter().map(|p| p.sigla.clone()).collect::<Vec<_>>()
        };
        assert_eq!(rows(&state.snapshot().await.unwrap()), ["BA", "BT", "BR", "FG", "LE", "TA"], "{backend}");
        registry::load_territory(&t.db, "14").await.unwrap();
        crate::data::workspace::write_tx!(&t.db, tx => tx.add_note_in(REGIONE, "070006", "Nuovo comune nel registro").await?)
            .unwrap();
        assert_eq!(
            rows(&state.snapshot().await.unwrap()),
            ["BA", "BT", "BR", "CB", "FG", "IS", "LE", "TA"],
            "{backend}"
        );
        t.drop_db().await;
    }
}
