//! Demo data never mixes with real data, on both backends: each way real data can arrive (a
//! real account, an applied import, evidence from a real account) ends the demo in its own
//! transaction — demo accounts removed with their sessions, the "Dati dimostrativi" label gone,
//! one trail entry — and `traguardi demo` then refuses the database, leaving its rows alone.

use axum::{
    body::Body,
    http::{header, Request, StatusCode},
    Router,
};
use leptos::config::LeptosOptions;

use super::{
    auth::{form, get, local, login_body, send, who, with_cookie},
    evidence::{multipart, pdf},
    TestDb,
};
use crate::{
    auth::{cli, users},
    data::{accounts, audit, on_db, programme::FONDO_INNOVAZIONE, Db},
    demo,
    evaluation::{today, Snapshot},
    evidence::store::{EvidenceStore, DEFAULT_MAX_BYTES},
    server::router,
    state::AppState,
};

const BOUNDARY: &str = "----traguardi-test-boundary";

/// A demo database as `traguardi serve --demo` leaves it: the dataset and the demo accounts.
async fn demo_app(t: &TestDb) -> Router {
    demo::load(&t.db).await.unwrap();
    assert_eq!(users::ensure_demo_accounts(&t.db).await.unwrap().len(), users::DEMO_ACCOUNTS.len());
    let options = LeptosOptions::builder().output_name("traguardi").build();
    let state = AppState::with_auth(options, t.db.clone(), local())
        .with_evidence(EvidenceStore::memory(DEFAULT_MAX_BYTES));
    router(state)
}

/// Signs in with demo account `i` of [`users::DEMO_ACCOUNTS`]; returns the session token.
async fn demo_sign_in(app: &Router, i: usize) -> String {
    let (email, _, _, _, password) = users::DEMO_ACCOUNTS[i];
    let a = send(app, form("/accedi", &login_body(email, password), None)).await;
    assert_eq!(a.status, StatusCode::SEE_OTHER, "{email}: {}", a.body);
    a.session().expect("a session cookie")
}

/// Programme rows: what `traguardi demo` would replace.
async fn programme_rows(db: &Db) -> i64 {
    on_db!(db, pool => sqlx::query_scalar(
        "SELECT (SELECT COUNT(*) FROM adhesion) + (SELECT COUNT(*) FROM pagopa_service) \
         + (SELECT COUNT(*) FROM io_service) + (SELECT COUNT(*) FROM service_count)",
    )
    .fetch_one(pool)
    .await)
    .unwrap()
}

async fn label_shown(app: &Router) -> bool {
    let page = send(app, get("/", None)).await;
    assert_eq!(page.status, StatusCode::OK);
    page.body.contains("Dati dimostrativi")
}

/// Still a demo: the label, the demo accounts and their sessions are all there.
async fn assert_still_demo(t: &TestDb, app: &Router, tokens: &[String]) {
    let backend = t.db.backend();
    assert!(t.db.is_demo().await.unwrap(), "{backend}");
    assert!(label_shown(app).await, "{backend}: the label stays");
    let demo_accounts = accounts::list_users(&t.db).await.unwrap().into_iter().filter(|u| u.demo).count();
    assert!(demo_accounts >= users::DEMO_ACCOUNTS.len(), "{backend}");
    for token in tokens {
        assert!(who(app, token).await.is_some(), "{backend}: the demo session goes on");
    }
}

/// What every path must leave: no demo account nor session, no label, one trail entry naming
/// `cause`, and a `traguardi demo` that refuses and changes nothing.
async fn assert_demo_ended(t: &TestDb, app: &Router, tokens: &[String], cause: &str) {
    let backend = t.db.backend();
    assert!(!t.db.is_demo().await.unwrap(), "{backend}: {cause}");
    assert!(t.db.holds_real_records().await.unwrap(), "{backend}");
    let left: Vec<String> =
        accounts::list_users(&t.db).await.unwrap().into_iter().filter(|u| u.demo).map(|u| u.email).collect();
    assert!(left.is_empty(), "{backend}: demo accounts left: {left:?}");
    for token in tokens {
        assert_eq!(who(app, token).await, None, "{backend}: a demo session survived");
    }
    let sessions: i64 = on_db!(&t.db, pool => sqlx::query_scalar(
        "SELECT COUNT(*) FROM user_session s JOIN app_user u ON u.id = s.user_id WHERE u.demo",
    )
    .fetch_one(pool)
    .await)
    .unwrap();
    assert_eq!(sessions, 0, "{backend}");
    let (email, _, _, _, password) = users::DEMO_ACCOUNTS[0];
    let again = send(app, form("/accedi", &login_body(email, password), None)).await;
    assert_eq!(again.status, StatusCode::UNAUTHORIZED, "{backend}: the published password no longer works");
    assert!(!label_shown(app).await, "{backend}: the label goes");

    let entries = audit::list(&t.db, None, None, 50, &[]).await.unwrap();
    let ended: Vec<_> = entries.iter().filter(|e| e.entity == "dataset" && e.action == "update").collect();
    assert_eq!(ended.len(), 1, "{backend}: one entry ends the demo");
    assert!(ended[0].reason.as_deref().unwrap_or("").contains(cause), "{backend}: {:?}", ended[0].reason);
    assert!(ended[0].changes.contains("demo.regione@traguardi.invalid"), "{backend}: {}", ended[0].changes);
    assert_eq!(audit::verify(&t.db).await.unwrap().broken, None, "{backend}: the chain holds");

    let rows = programme_rows(&t.db).await;
    let err = demo::load(&t.db).await.expect_err("the demo must refuse a database with real records");
    assert!(err.to_string().contains("not the demo dataset"), "{backend}: {err}");
    assert_eq!(programme_rows(&t.db).await, rows, "{backend}: nothing was wiped");
    assert!(users::ensure_demo_accounts(&t.db).await.is_err(), "{backend}: no demo account comes back");
}

#[tokio::test]
async fn a_real_account_ends_the_demo_and_demo_accounts_stay_demo_only() {
    for t in TestDb::all().await {
        let app = demo_app(&t).await;
        let tokens = vec![demo_sign_in(&app, 0).await, demo_sign_in(&app, 1).await];
        let add = |email: &str, demo: bool| cli::UserCommand::Add {
            email: email.into(),
            name: "Persona di prova".into(),
            role: "assessore".into(),
            comuni: vec![],
            fiscal_code: None,
            password_stdin: false,
            demo,
        };
        let ok = format!("{:?}", std::process::ExitCode::SUCCESS);
        let failed = format!("{:?}", std::process::ExitCode::FAILURE);
        // A demo account added on the demo database keeps it a demo.
        let code = cli::run(&t.db, add("ospite@traguardi.invalid", true)).await.unwrap();
        assert_eq!(format!("{code:?}"), ok);
        assert_eq!(users::DEMO_ACCOUNTS.len() + 1, accounts::list_users(&t.db).await.unwrap().len());

        // So is one the demo Region makes on the users page: whatever the published passwords
        // make goes with the demo.
        let made = "email=fatto.dalla.demo%40comune.example&name=Fatto+dalla+demo&role=regione&fiscal_code=&comuni=&password=Una-password-lunga-2021";
        let a = send(&app, form("/utenti", made, Some(&tokens[0]))).await;
        assert_eq!((a.status, a.location()), (StatusCode::SEE_OTHER, "/utenti?esito=creato"), "{}", a.body);
        let made = accounts::list_users(&t.db).await.unwrap();
        assert!(made.iter().any(|u| u.email == "fatto.dalla.demo@comune.example" && u.demo));
        assert_still_demo(&t, &app, &tokens).await;

        let code = cli::run(&t.db, add("vera.persona@regione.example", false)).await.unwrap();
        assert_eq!(format!("{code:?}"), ok);
        assert_demo_ended(&t, &app, &tokens, "account non dimostrativo").await;
        let users = accounts::list_users(&t.db).await.unwrap();
        assert_eq!(
            users.iter().map(|u| u.email.as_str()).collect::<Vec<_>>(),
            ["vera.persona@regione.example"]
        );
        // …and no demo account can be added to it any more.
        let code = cli::run(&t.db, add("ospite2@traguardi.invalid", true)).await.unwrap();
        assert_eq!(format!("{code:?}"), failed);
        assert_eq!(accounts::list_users(&t.db).await.unwrap().len(), 1);
        t.drop_db().await;
    }
}

#[tokio::test]
async fn an_applied_import_ends_the_demo_and_its_importer_session() {
    for t in TestDb::all().await {
        let app = demo_app(&t).await;
        let regione = demo_sign_in(&app, 0).await;
        let assessore = demo_sign_in(&app, 2).await;
        let csv = "codice_istat;adesione;data_adesione\n75035;Rinuncia;30/10/2020\n";
        let body = multipart("adesioni.csv", csv.as_bytes());
        let req = Request::post("/importazioni")
            .header(header::CONTENT_TYPE, format!("multipart/form-data; boundary={BOUNDARY}"))
            .header(header::CONTENT_LENGTH, body.len())
            .body(Body::from(body))
            .unwrap();
        let a = send(&app, with_cookie(req, Some(&regione))).await;
        assert_eq!(a.status, StatusCode::SEE_OTHER, "{}", a.body);
        let id: i64 = a.location().trim_start_matches("/importazioni/").parse().unwrap();
        // The dry run alone does not end it: nothing real is in the records yet.
        assert_still_demo(&t, &app, &[regione.clone(), assessore.clone()]).await;

        let confirm = Request::post(format!("/importazioni/{id}/conferma"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(Body::empty())
            .unwrap();
        let a = send(&app, with_cookie(confirm, Some(&regione))).await;
        assert_eq!(a.status, StatusCode::SEE_OTHER, "{}", a.body);
        assert_demo_ended(&t, &app, &[regione, assessore], &format!("importazione n. {id}")).await;
        let status: String = on_db!(&t.db, pool => sqlx::query_scalar(
            "SELECT status FROM adhesion WHERE comune = '075035' AND programme = $1",
        )
        .bind(FONDO_INNOVAZIONE)
        .fetch_one(pool)
        .await)
        .unwrap();
        assert_eq!(status, "rinuncia", "{}: the import itself was applied", t.db.backend());
        t.drop_db().await;
    }
}

#[tokio::test]
async fn evidence_from_a_real_account_ends_the_demo_and_from_a_demo_account_does_not() {
    for t in TestDb::all().await {
        let app = demo_app(&t).await;
        let backend = t.db.backend();
        // The demo comune user's adherent comune, and an objective of it.
        let codice = "072004";
        let snap = Snapshot::build(&t.db, FONDO_INNOVAZIONE, today()).await.unwrap();
        let objective = snap.find(codice).unwrap().outcome.objectives[0].code.clone();
        let url = format!("/comuni/{codice}/evidenze/{objective}");
        let upload = |file: &str, bytes: Vec<u8>, token: &str| {
            let body = multipart(file, &bytes);
            let req = Request::post(url.as_str())
                .header(header::CONTENT_TYPE, format!("multipart/form-data; boundary={BOUNDARY}"))
                .header(header::CONTENT_LENGTH, body.len())
                .body(Body::from(body))
                .unwrap();
            with_cookie(req, Some(token))
        };

        let demo_comune = demo_sign_in(&app, 1).await;
        let a = send(&app, upload("prova dimostrativa.pdf", pdf("demo"), &demo_comune)).await;
        assert_eq!(a.status, StatusCode::SEE_OTHER, "{backend}: {}", a.body);
        assert_still_demo(&t, &app, std::slice::from_ref(&demo_comune)).await;

        // A real account that exists beside the demo ones (as in a database written before
        // accounts ended the demo): inserted directly, since adding it would end the demo.
        let hash = crate::auth::password::hash(super::auth::PASSWORD.to_string()).await.unwrap();
        let hash = hash.as_stored().to_string();
        on_db!(&t.db, pool => async {
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO app_user (email, name, role, password_hash, enabled, demo, created_at) \
                 VALUES ('referente@comune.example', 'Referente', 'comune', $1, TRUE, FALSE, 0) RETURNING id",
            )
            .bind(&hash)
            .fetch_one(pool)
            .await?;
            sqlx::query("INSERT INTO user_comune (user_id, codice_istat) VALUES ($1, $2)")
                .bind(id)
                .bind(codice)
                .execute(pool)
                .await
                .map(|_| ())
        }.await)
        .unwrap();
        assert!(t.db.is_demo().await.unwrap());
        let real = super::auth::sign_in(&app, "referente@comune.example").await;
        let a = send(&app, upload("delibera.pdf", pdf("reale"), &real)).await;
        assert_eq!(a.status, StatusCode::SEE_OTHER, "{backend}: {}", a.body);
        assert_demo_ended(&t, &app, &[demo_comune], "prova è stata caricata da un account non dimostrativo")
            .await;
        assert!(who(&app, &real).await.is_some(), "{backend}: the real session goes on");
        t.drop_db().await;
    }
}
