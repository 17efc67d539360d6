//! The workspace over HTTP on both backends: each write leaves exactly one trail entry, a
//! refused form changes nothing, two editors of one record get a conflict instead of an
//! overwrite, the dashboard follows at once, and a trail row altered in the database is found
//! by `audit verify`.

use axum::{http::StatusCode, Router};

use super::{
    auth::{app_with, form, get, send, sign_in, Answer, CODICE_A, COMUNE_A, REGIONE},
    TestDb,
};
use crate::{
    auth::config::AuthConfig,
    data::{audit, on_db, Db},
};

/// Bari's workspace forms post here.
fn action(a: &str) -> String {
    format!("/comuni/{CODICE_A}/gestione/{a}")
}

async fn app(t: &TestDb) -> Router {
    let mut config = AuthConfig::local("127.0.0.1:3000");
    config.limit_per_account = 1000;
    config.limit_per_ip = 1000;
    app_with(t, config).await
}

async fn post(app: &Router, token: &str, a: &str, body: &str) -> Answer {
    send(app, form(&action(a), body, Some(token))).await
}

/// Rows of the tables the workspace writes, the data version and the trail length: equal
/// fingerprints mean nothing was written.
async fn fingerprint(db: &Db) -> Vec<i64> {
    let mut out = Vec::new();
    for table in [
        "adhesion",
        "pagopa_service",
        "io_service",
        "online_service",
        "service_count",
        "objective_verification",
        "blocker",
        "comune_note",
        "service_proposal",
        "audit_entry",
    ] {
        let n: i64 = on_db!(db, pool => sqlx::query_scalar(&format!("SELECT COUNT(*) FROM {table}"))
            .fetch_one(pool)
            .await
            .unwrap());
        out.push(n);
    }
    out.push(db.data_version().await.unwrap());
    out
}

async fn last_entry(db: &Db) -> audit::EntryRow {
    audit::list(db, None, None, 1, &[]).await.unwrap().remove(0)
}

async fn trail_len(db: &Db) -> i64 {
    on_db!(db, pool => sqlx::query_scalar("SELECT COUNT(*) FROM audit_entry").fetch_one(pool).await.unwrap())
}

async fn adhesion_version(db: &Db) -> i64 {
    on_db!(db, pool => sqlx::query_scalar::<_, i64>(
        "SELECT version FROM adhesion WHERE comune = $1 AND programme = 'fondo-innovazione-2020'",
    )
    .bind(CODICE_A)
    .fetch_one(pool)
    .await
    .unwrap())
}

#[tokio::test]
async fn every_write_adds_one_correct_trail_entry_and_the_chain_holds() {
    for t in TestDb::all().await {
        let app = app(&t).await;
        let token = sign_in(&app, REGIONE).await;
        let v = adhesion_version(&t.db).await;
        let status_before: String = on_db!(&t.db, pool => sqlx::query_scalar(
            "SELECT status FROM adhesion WHERE comune = $1"
        ).bind(CODICE_A).fetch_one(pool).await.unwrap());
        // (action, body, entity, a change it must record as (field, after))
        let writes: Vec<(&str, String, &str, (&str, &str))> = vec![
            (
                "adesione",
                format!("stato=rinuncia&data=2021-01-15&versione={v}&motivo=Delibera+n.+3"),
                "adhesion",
                ("stato", "rinuncia"),
            ),
            (
                "servizio",
                "piattaforma=pagopa&codice=9%2F0101105IM%2F&applicabile=on&attivo_dal=2021-03-01".into(),
                "pagopa_service",
                ("codice", "9/0101105IM/"),
            ),
            (
                "servizio",
                "piattaforma=io&service_id=01TESTSERVICE&nome=Mensa+scolastica&pubblicato_dal=2021-04-01"
                    .into(),
                "io_service",
                ("nome", "Mensa scolastica"),
            ),
            (
                "servizio",
                "piattaforma=spid_cie&nome=Certificati+anagrafici&spid_dal=2021-02-01".into(),
                "online_service",
                ("spid_dal", "2021-02-01"),
            ),
            (
                "conteggio",
                "piattaforma=io&giorno=2021-05-01&attivi=7&versione=0".into(),
                "service_count",
                ("attivi", "7"),
            ),
            (
                "verifica",
                "obiettivo=final_io&esito=respinto&motivo=Servizi+non+pubblicati&versione=0".into(),
                "objective_verification",
                ("esito", "respinto"),
            ),
            (
                "blocco",
                "categoria=fornitore&descrizione=Il+fornitore+non+risponde&dal=2021-03-10".into(),
                "blocker",
                ("categoria", "fornitore"),
            ),
            (
                "nota",
                "testo=Telefonata+con+il+segretario".into(),
                "comune_note",
                ("testo", "Telefonata con il segretario"),
            ),
        ];
        for (a, body, entity, (field, after)) in writes {
            let before = trail_len(&t.db).await;
            let r = post(&app, &token, a, &body).await;
            assert_eq!(
                r.status,
                StatusCode::SEE_OTHER,
                "{a} on {}: {}",
                t.db.backend(),
                &r.body[..r.body.len().min(600)]
            );
            assert!(
                r.location().starts_with(&format!("/comuni/{CODICE_A}/gestione?salvato=")),
                "{}",
                r.location()
            );
            assert_eq!(trail_len(&t.db).await, before + 1, "{a}: exactly one entry");
            let e = last_entry(&t.db).await;
            assert_eq!(e.entity, entity);
            assert_eq!(e.actor, REGIONE);
            assert_eq!(e.comune.as_deref(), Some(CODICE_A));
            let changes = e.change_list();
            assert!(
                changes.iter().any(|c| c.field == field && c.after.as_deref() == Some(after)),
                "{a}: {changes:?}"
            );
        }
        // The adhesion's entry says before → after and why.
        let adhesion = audit::list(&t.db, Some(CODICE_A), None, 100, &[])
            .await
            .unwrap()
            .into_iter()
            .find(|e| e.entity == "adhesion")
            .unwrap();
        assert_eq!(adhesion.reason.as_deref(), Some("Delibera n. 3"));
        assert!(adhesion
            .change_list()
            .iter()
            .any(|c| c.field == "stato" && c.before.as_deref() == Some(status_before.as_str())));

        // Resolving the blocker: its version is 1.
        let id: i64 = on_db!(&t.db, pool => sqlx::query_scalar("SELECT id FROM blocker").fetch_one(pool).await.unwrap());
        let r =
            post(&app, &token, "blocco-risolto", &format!("id={id}&versione=1&risolto_il=2021-04-01")).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", &r.body[..r.body.len().min(600)]);

        // The whole chain verifies: the demo load, 5 accounts (the first ended the demo: one
        // more entry), 2 planted notes, 9 writes.
        let v = audit::verify(&t.db).await.unwrap();
        assert_eq!(v.broken, None);
        assert_eq!(v.entries, 18);
        let accounts = audit::list(&t.db, None, None, 100, &[]).await.unwrap();
        let created =
            accounts.iter().find(|e| e.entity == "app_user" && e.record == REGIONE).expect("account entry");
        assert_eq!(created.actor, "cli");
        assert!(created
            .change_list()
            .iter()
            .any(|c| c.field == "ruolo" && c.after.as_deref() == Some("regione")));

        // The dashboard and the comune's page follow at once: Bari renounced.
        let page = send(&app, get(&format!("/comuni/{CODICE_A}"), None)).await;
        assert!(page.body.contains("Rinuncia"), "comune page after the change");
        // The public sees whether each objective is verified, never the Region's rejection or
        // its reason; those who read the comune's private data do.
        assert!(page.body.contains(">Verificato</th>"), "the public column");
        for private in
            ["Respinto dalla Regione", "Servizi non pubblicati", "Da verificare", "Nessuna evidenza"]
        {
            assert!(!page.body.contains(private), "the public page shows «{private}»");
        }
        let public = send(&app, form("/api/comune", &format!("codice_istat={CODICE_A}"), None)).await;
        assert!(!public.body.contains("Servizi non pubblicati") && !public.body.contains("Respinto"));
        let page = send(&app, get(&format!("/comuni/{CODICE_A}"), Some(&token))).await;
        assert!(page.body.contains("Respinto dalla Regione il"), "the verification shows to the Region");
        assert!(page.body.contains("Servizi non pubblicati"), "with its reason");
        let list = send(&app, get("/comuni?adesione=rinuncia", None)).await;
        assert!(list.body.contains(">Bari<"), "the filtered list follows");

        // The trail pages show the entries.
        let trail = send(&app, get(&format!("/comuni/{CODICE_A}/registro"), Some(&token))).await;
        assert_eq!(trail.status, StatusCode::OK);
        assert!(
            trail.body.contains(&format!("{status_before} → rinuncia")),
            "before → after on the trail page"
        );
        t.drop_db().await;
    }
}

#[tokio::test]
async fn a_refused_form_changes_nothing_and_says_why_next_to_the_field() {
    for t in TestDb::all().await {
        let app = app(&t).await;
        let token = sign_in(&app, REGIONE).await;
        let before = fingerprint(&t.db).await;
        let cases = [
            (
                "servizio",
                "modulo=nuovo-pagopa&piattaforma=pagopa&codice=9%2F9999999ZZ%2F&attivo_dal=2021-03-01",
                "Codice di tassonomia sconosciuto",
            ),
            (
                "servizio",
                "modulo=nuovo-pagopa&piattaforma=pagopa&codice=9%2F0101100IM%2F&attivo_dal=2020-01-01",
                "inizio del programma (15/12/2020)",
            ),
            (
                "conteggio",
                "modulo=conteggio&piattaforma=pagopa&giorno=2021-03-01&attivi=-4&versione=0",
                "non può essere negativo",
            ),
            (
                "verifica",
                "modulo=verifica-final_io&obiettivo=final_io&esito=respinto&versione=0",
                "Indicare il motivo del respingimento",
            ),
            ("blocco", "modulo=blocco-nuovo&categoria=meteo&descrizione=&dal=ieri", "Scegliere la categoria"),
        ];
        for (a, body, message) in cases {
            let r = post(&app, &token, a, body).await;
            assert_eq!(r.status, StatusCode::BAD_REQUEST, "{a}: {body}");
            assert!(r.body.contains("Le modifiche non sono state salvate"), "{a}: summary at the top");
            assert!(r.body.contains(message), "{a}: «{message}» in the page");
            assert!(r.body.contains("aria-invalid=\"true\""), "{a}: the field is marked");
            assert_eq!(fingerprint(&t.db).await, before, "{a}: nothing written on {}", t.db.backend());
        }
        // What was typed comes back in the form.
        let r = post(
            &app,
            &token,
            "servizio",
            "modulo=nuovo-io&piattaforma=io&service_id=..%2Fx&nome=Mensa+scolastica",
        )
        .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST);
        assert!(r.body.contains("value=\"Mensa scolastica\""), "typed values kept");
        // A duplicate service is refused the same way.
        let ok = "modulo=nuovo-io&piattaforma=io&service_id=01DUP&nome=Tributi";
        assert_eq!(post(&app, &token, "servizio", ok).await.status, StatusCode::SEE_OTHER);
        let before = fingerprint(&t.db).await;
        let r = post(&app, &token, "servizio", ok).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST);
        assert!(r.body.contains("ha già un servizio App IO con il Service ID 01DUP"));
        assert_eq!(fingerprint(&t.db).await, before);
        t.drop_db().await;
    }
}

#[tokio::test]
async fn the_second_of_two_editors_gets_a_conflict_and_the_current_values() {
    for t in TestDb::all().await {
        let app = app(&t).await;
        let first = sign_in(&app, REGIONE).await;
        let second = sign_in(&app, REGIONE).await;
        // Both opened the form at the same version.
        let v = adhesion_version(&t.db).await;
        let page = send(&app, get(&format!("/comuni/{CODICE_A}/gestione"), Some(&first))).await;
        assert!(
            page.body.contains(&format!("name=\"versione\" value=\"{v}\"")),
            "the form carries the version"
        );

        let r = post(&app, &first, "adesione", &format!("stato=rinuncia&data=2021-01-15&versione={v}")).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER);
        let after_first = fingerprint(&t.db).await;
        let r = post(
            &app,
            &second,
            "adesione",
            &format!("stato=aderente_in_ritardo&data=2021-02-01&versione={v}"),
        )
        .await;
        assert_eq!(r.status, StatusCode::CONFLICT, "{}", &r.body[..r.body.len().min(500)]);
        assert!(r.body.contains("un altro utente ha modificato questi dati"));
        assert!(r.body.contains("stato «aderente_in_ritardo»"), "what the second editor typed is not lost");
        // The form now shows the first editor's value and the new version.
        assert!(r.body.contains("<option value=\"rinuncia\" selected"), "current value shown");
        assert!(r.body.contains(&format!("name=\"versione\" value=\"{}\"", v + 1)));
        assert_eq!(fingerprint(&t.db).await, after_first, "no silent overwrite");
        assert_eq!(adhesion_version(&t.db).await, v + 1);

        // The same for a service edited twice from the same form.
        let r =
            post(&app, &first, "servizio", "piattaforma=spid_cie&nome=Certificati&spid_dal=2021-02-01").await;
        assert_eq!(r.status, StatusCode::SEE_OTHER);
        let id: i64 = on_db!(&t.db, pool => sqlx::query_scalar(
            "SELECT id FROM online_service WHERE name = 'Certificati'"
        ).fetch_one(pool).await.unwrap());
        let edit = |cie: &str| {
            format!(
                "piattaforma=spid_cie&id={id}&versione=1&nome=Certificati&spid_dal=2021-02-01&cie_dal={cie}"
            )
        };
        assert_eq!(post(&app, &first, "servizio", &edit("2021-06-01")).await.status, StatusCode::SEE_OTHER);
        assert_eq!(post(&app, &second, "servizio", &edit("2021-07-01")).await.status, StatusCode::CONFLICT);
        t.drop_db().await;
    }
}

/// The Region's list of pending proposals shows 50 a page, oldest first, with the total; the
/// page reads only its rows (before, every pending proposal was on the one page).
#[tokio::test]
async fn the_pending_proposals_are_paginated_with_their_total() {
    for t in TestDb::all().await {
        let backend = t.db.backend();
        let app = app(&t).await;
        let comune = sign_in(&app, COMUNE_A).await;
        let regione = sign_in(&app, REGIONE).await;
        for i in 0..51 {
            let body = format!(
                "piattaforma=io&service_id=01PR{i:02}&nome=Proposta+{i:02}&pubblicato_dal=2021-05-01"
            );
            let r = post(&app, &comune, "proposta", &body).await;
            assert_eq!(
                r.status,
                StatusCode::SEE_OTHER,
                "{backend} {i}: {}",
                &r.body[..r.body.len().min(300)]
            );
        }
        let listed = |body: &str| -> Vec<usize> {
            (0..51).filter(|i| body.contains(&format!("01PR{i:02} «Proposta {i:02}»"))).collect()
        };
        let first = send(&app, get("/proposte", Some(&regione))).await;
        assert_eq!(first.status, StatusCode::OK, "{backend}");
        assert_eq!(listed(&first.body), (0..50).collect::<Vec<_>>(), "{backend}: the 50 oldest");
        assert!(
            first.body.contains(
                "51 proposte in attesa di decisione, dalla più vecchia. Pagina 1: righe 1–50 di 51."
            ),
            "{backend}"
        );
        assert!(first.body.contains("href=\"/proposte?pagina=2\""), "{backend}");
        let second = send(&app, get("/proposte?pagina=2", Some(&regione))).await;
        assert_eq!(listed(&second.body), vec![50], "{backend}: the newest");
        let past = send(&app, get("/proposte?pagina=7", Some(&regione))).await;
        assert_eq!(listed(&past.body), vec![50], "{backend}: past the last page, the last");
        let bad = send(&app, get("/proposte?pagina=zero", Some(&regione))).await;
        assert_eq!(bad.status, StatusCode::BAD_REQUEST, "{backend}");
        assert!(bad.body.contains("Numero di pagina non valido"), "{backend}");
        // The export is every pending proposal.
        let csv = send(&app, get("/export/proposte.csv", Some(&regione))).await;
        assert_eq!((0..51).filter(|i| csv.body.contains(&format!("01PR{i:02}"))).count(), 51, "{backend}");
        t.drop_db().await;
    }
}

#[tokio::test]
async fn a_comune_proposes_and_the_region_decides() {
    for t in TestDb::all().await {
        let app = app(&t).await;
        let comune = sign_in(&app, COMUNE_A).await;
        let regione = sign_in(&app, REGIONE).await;
        // The comune's user may not change services directly…
        let r = post(&app, &comune, "servizio", "piattaforma=io&service_id=01PROP&nome=Tari").await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
        // …but may propose one.
        let r = post(
            &app,
            &comune,
            "proposta",
            "piattaforma=io&service_id=01PROP&nome=Tari&pubblicato_dal=2021-05-01",
        )
        .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", &r.body[..r.body.len().min(500)]);
        let (id, version): (i64, i64) = on_db!(&t.db, pool => sqlx::query_as("SELECT id, version FROM service_proposal")
            .fetch_one(pool).await.unwrap());
        let services = |db: Db| async move {
            on_db!(&db, pool => sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM io_service WHERE service_id = '01PROP'")
                .fetch_one(pool).await.unwrap())
        };
        assert_eq!(services(t.db.clone()).await, 0, "a proposal is not a service yet");
        // The Region finds it on its list of pending proposals, linked to the comune.
        let pending = send(&app, get("/proposte", Some(&regione))).await;
        assert_eq!(pending.status, StatusCode::OK);
        assert!(pending.body.contains("App IO 01PROP «Tari»"), "listed");
        assert!(pending.body.contains(&format!("/comuni/{CODICE_A}/gestione#sezione-proposte")));
        // A rejection needs a reason.
        let r =
            post(&app, &regione, "proposta-decisione", &format!("id={id}&versione={version}&esito=respingi"))
                .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST);
        let r =
            post(&app, &regione, "proposta-decisione", &format!("id={id}&versione={version}&esito=accetta"))
                .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER);
        assert_eq!(services(t.db.clone()).await, 1, "accepted: the service exists");
        let page = send(&app, get(&format!("/comuni/{CODICE_A}/gestione"), Some(&comune))).await;
        assert!(page.body.contains("Stato: Accettata"), "the comune sees the outcome");
        let pending = send(&app, get("/proposte", Some(&regione))).await;
        assert!(pending.body.contains("Nessuna proposta in attesa"), "decided: off the list");
        assert_eq!(audit::verify(&t.db).await.unwrap().broken, None);
        t.drop_db().await;
    }
}

/// A comune proposes a change of one of its services (the day an App IO service was withdrawn);
/// the Region accepts it and the service changes, written over its current version. A change
/// that would alter the service's key is refused in Italian.
#[tokio::test]
async fn a_comune_proposes_a_change_of_an_existing_service() {
    for t in TestDb::all().await {
        let backend = t.db.backend();
        let app = app(&t).await;
        let comune = sign_in(&app, COMUNE_A).await;
        let regione = sign_in(&app, REGIONE).await;
        let base = "piattaforma=io&service_id=01CHG&pubblicato_dal=2021-03-01";
        let r = post(&app, &regione, "servizio", &format!("{base}&nome=Mensa")).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{backend}");
        let (sid, version): (i64, i64) = on_db!(&t.db, pool => sqlx::query_as(
            "SELECT id, version FROM io_service WHERE service_id = '01CHG'"
        ).fetch_one(pool).await.unwrap());

        // The comune's page offers a change form for each of its services.
        let page = send(&app, get(&format!("/comuni/{CODICE_A}/gestione"), Some(&comune))).await;
        assert!(page.body.contains(&format!("id=\"modifica-io-{sid}\"")), "{backend}");
        assert!(page.body.contains("Proponi la modifica"), "{backend}");

        // A different Service ID is a new service, not a change.
        let change = |fields: &str| format!("modulo=modifica-io-{sid}&id={sid}&versione={version}&{fields}");
        let before = fingerprint(&t.db).await;
        let r =
            post(&app, &comune, "proposta", &change("piattaforma=io&service_id=01OTHER&nome=Mensa")).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{backend}");
        assert!(r.body.contains("Il codice di un servizio esistente non cambia (01CHG)"), "{backend}");
        assert_eq!(fingerprint(&t.db).await, before, "{backend}: nothing written");

        let r =
            post(&app, &comune, "proposta", &change(&format!("{base}&nome=Mensa&ritirato_il=2022-01-31")))
                .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{backend}: {}", &r.body[..r.body.len().min(500)]);
        let (pid, pversion): (i64, i64) = on_db!(&t.db, pool => sqlx::query_as(
            "SELECT id, version FROM service_proposal WHERE service_id = $1"
        ).bind(sid).fetch_one(pool).await.unwrap());
        let pending = send(&app, get("/proposte", Some(&regione))).await;
        assert!(pending.body.contains("Modifica del servizio App IO 01CHG"), "{backend}: listed as a change");

        // The Region edits the service meanwhile; the acceptance writes over the current version.
        let r = post(
            &app,
            &regione,
            "servizio",
            &format!("id={sid}&versione={version}&{base}&nome=Mensa+scolastica"),
        )
        .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{backend}");
        let r = post(
            &app,
            &regione,
            "proposta-decisione",
            &format!("modulo=proposta-{pid}&id={pid}&versione={pversion}&esito=accetta"),
        )
        .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{backend}: {}", &r.body[..r.body.len().min(500)]);
        let (name, withdrawn, now): (String, Option<chrono::NaiveDate>, i64) = on_db!(&t.db, pool => sqlx::query_as(
            "SELECT name, withdrawn_on, version FROM io_service WHERE id = $1"
        ).bind(sid).fetch_one(pool).await.unwrap());
        assert_eq!(withdrawn, chrono::NaiveDate::from_ymd_opt(2022, 1, 31), "{backend}: the change is made");
        assert_eq!(
            (name.as_str(), now),
            ("Mensa", version + 2),
            "{backend}: the proposal's values, one more version"
        );
        let services: i64 = on_db!(&t.db, pool => sqlx::query_scalar(
            "SELECT COUNT(*) FROM io_service WHERE service_id = '01CHG'"
        ).fetch_one(pool).await.unwrap());
        assert_eq!(services, 1, "{backend}: changed, not added");
        assert_eq!(audit::verify(&t.db).await.unwrap().broken, None, "{backend}");
        t.drop_db().await;
    }
}

/// A taxonomy code withdrawn after the comune proposed a service with it: the Region's acceptance
/// is refused on the decision's form with the Italian reason (never a 500), nothing is written and
/// the proposal stays pending; adding such a service directly is refused the same way.
#[tokio::test]
async fn a_taxonomy_code_withdrawn_before_the_decision_is_refused_in_italian() {
    for t in TestDb::all().await {
        let backend = t.db.backend();
        let app = app(&t).await;
        let comune = sign_in(&app, COMUNE_A).await;
        let regione = sign_in(&app, REGIONE).await;
        const CODE: &str = "9/0999901ZZ/";
        on_db!(&t.db, pool => sqlx::query(
            "INSERT INTO taxonomy_entry (code, description, origin) VALUES ($1, 'Servizio in ritiro', 'ufficiale')",
        )
        .bind(CODE)
        .execute(pool)
        .await
        .map(|_| ()))
        .unwrap();
        let fields = "piattaforma=pagopa&codice=9%2F0999901ZZ%2F&applicabile=on&attivo_dal=2021-05-03";
        let r = post(&app, &comune, "proposta", fields).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{backend}: {}", &r.body[..r.body.len().min(500)]);
        let (id, version): (i64, i64) = on_db!(&t.db, pool => sqlx::query_as("SELECT id, version FROM service_proposal")
            .fetch_one(pool).await.unwrap());

        // The official taxonomy withdraws the code before the Region decides.
        on_db!(&t.db, pool => sqlx::query("UPDATE taxonomy_entry SET valid_to = '2022-12-31' WHERE code = $1")
            .bind(CODE)
            .execute(pool)
            .await
            .map(|_| ()))
        .unwrap();
        let before = fingerprint(&t.db).await;
        // As the page's form sends it: with its id, so the refusal finds its place.
        let r = post(
            &app,
            &regione,
            "proposta-decisione",
            &format!("modulo=proposta-{id}&id={id}&versione={version}&esito=accetta"),
        )
        .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{backend}");
        assert!(
            r.body.contains("La proposta non può essere accettata: Il codice 9/0999901ZZ/ è stato ritirato dalla tassonomia pagoPA il 31/12/2022"),
            "{backend}: {}",
            r.body.find("ritirato").map_or("no «ritirato» in the page", |at| &r.body[at.saturating_sub(300)..at + 200])
        );
        assert_eq!(fingerprint(&t.db).await, before, "{backend}: nothing written");
        let status: String = on_db!(&t.db, pool => sqlx::query_scalar("SELECT status FROM service_proposal WHERE id = $1")
            .bind(id).fetch_one(pool).await.unwrap());
        assert_eq!(status, "in_attesa", "{backend}: still to decide");

        // The Region's own form refuses the code too; rejecting the proposal still works.
        let r = post(&app, &regione, "servizio", &format!("modulo=nuovo-pagopa&{fields}")).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{backend}");
        assert!(r.body.contains("è stato ritirato dalla tassonomia pagoPA il 31/12/2022"), "{backend}");
        assert_eq!(fingerprint(&t.db).await, before, "{backend}: nothing written");
        let r = post(
            &app,
            &regione,
            "proposta-decisione",
            &format!("id={id}&versione={version}&esito=respingi&motivo=Codice+ritirato"),
        )
        .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{backend}");
        t.drop_db().await;
    }
}

#[tokio::test]
async fn tampering_with_the_trail_in_the_database_is_found() {
    for t in TestDb::all().await {
        let app = app(&t).await;
        let token = sign_in(&app, REGIONE).await;
        for n in 0..3 {
            let r = post(&app, &token, "nota", &format!("testo=Nota+{n}")).await;
            assert_eq!(r.status, StatusCode::SEE_OTHER);
        }
        // The demo load, 5 accounts, the end of the demo, 2 planted notes, 3 notes.
        let total = audit::verify(&t.db).await.unwrap();
        assert_eq!(total.broken, None);
        assert_eq!(total.entries, 12);
        // The application's connection cannot rewrite an entry: the triggers refuse.
        let refused = on_db!(&t.db, pool => sqlx::query("UPDATE audit_entry SET actor = 'x' WHERE seq = 9")
            .execute(pool).await.map(|_| ()));
        assert!(refused.is_err(), "UPDATE refused on {}", t.db.backend());
        let refused = on_db!(&t.db, pool => sqlx::query("DELETE FROM audit_entry WHERE seq = 11")
            .execute(pool).await.map(|_| ()));
        assert!(refused.is_err(), "DELETE refused on {}", t.db.backend());

        // Someone with the schema rights drops the guard and edits entry 9.
        let drop = match t.db {
            Db::Sqlite(_) => "DROP TRIGGER audit_entry_no_update",
            Db::Postgres(_) => "DROP TRIGGER audit_entry_no_update ON audit_entry",
        };
        on_db!(&t.db, pool => sqlx::query(drop).execute(pool).await.map(|_| ()).unwrap());
        if let Db::Sqlite(pool) = &t.db {
            sqlx::query("DROP TRIGGER audit_entry_no_delete").execute(pool).await.unwrap();
        }
        on_db!(&t.db, pool => sqlx::query("UPDATE audit_entry SET changes = '[]' WHERE seq = 9")
            .execute(pool).await.map(|_| ()).unwrap());
        let v = audit::verify(&t.db).await.unwrap();
        let (seq, reason) = v.broken.expect("the edit is found");
        assert_eq!(seq, 9);
        assert!(reason.contains("altered"), "{reason}");
        assert_eq!(v.entries, 8, "entries before the broken one");

        // Deleting the last entry (after restoring nothing) is found too, by the head.
        on_db!(&t.db, pool => sqlx::query("DELETE FROM audit_entry WHERE seq >= 9").execute(pool).await.map(|_| ()).unwrap());
        let v = audit::verify(&t.db).await.unwrap();
        let (seq, reason) = v.broken.expect("the deletion is found");
        assert_eq!(seq, 9);
        assert!(reason.contains("removed"), "{reason}");
        t.drop_db().await;
    }
}

#[tokio::test]
async fn a_hostile_form_id_is_refused_before_anything_is_written() {
    for t in TestDb::all().await {
        let app = app(&t).await;
        let token = sign_in(&app, REGIONE).await;
        let notes = |db: Db| async move {
            on_db!(&db, pool => sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM comune_note")
                .fetch_one(pool)
                .await
                .unwrap())
        };
        let hostile = [
            "nota\u{b}",
            "nota\t",
            "nota\r\nSet-Cookie: x=1",
            "nota\u{7f}",
            "nota\u{85}",
            "nota\\x",
            "//evil.example",
            "/\\evil.example",
            "/%09/evil.example",
            "https://evil.example/",
        ];
        for (n, bad) in hostile.into_iter().enumerate() {
            let before = notes(t.db.clone()).await;
            let body = format!("modulo={}&testo=Nota+{n}", super::auth::field(bad));
            let r = post(&app, &token, "nota", &body).await;
            // Saved once, and answered with the form's default anchor: never a 500 after the
            // write (which a retry would have saved a second time).
            assert_eq!(
                (r.status, r.location()),
                (StatusCode::SEE_OTHER, format!("/comuni/{CODICE_A}/gestione?salvato=nota#nota").as_str()),
                "{bad:?}: {}",
                r.body
            );
            assert_eq!(notes(t.db.clone()).await, before + 1, "{bad:?}");
        }
        // A refused form with a hostile id writes nothing and is no 500 either.
        let before = fingerprint(&t.db).await;
        let r =
            post(&app, &token, "nota", &format!("modulo={}&testo=", super::auth::field("nota\u{b}"))).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
        assert_eq!(fingerprint(&t.db).await, before);
        // An ordinary id still comes back as it was.
        let r = post(&app, &token, "nota", "modulo=nota&testo=Ultima+nota").await;
        assert_eq!(r.location(), format!("/comuni/{CODICE_A}/gestione?salvato=nota#nota"));
        t.drop_db().await;
    }
}

/// Count snapshots have the conflict detection of every other edit: a second editor who saw the
/// day without a count (or an older version of it) gets a 409 and the first editor's count
/// stays; a correction that sends the version it was shown is saved; an import planned before a
/// correction stops.
#[tokio::test]
async fn a_second_editor_of_a_count_gets_a_conflict_never_a_silent_overwrite() {
    for t in TestDb::all().await {
        let backend = t.db.backend();
        let app = app(&t).await;
        let token = sign_in(&app, REGIONE).await;
        let stored = |db: Db| async move {
            on_db!(&db, pool => sqlx::query_as::<_, (i64, i64)>(
                "SELECT active, version FROM service_count WHERE comune = $1 AND platform = 'pagopa' AND day = '2021-05-01'",
            )
            .bind(CODICE_A)
            .fetch_optional(pool)
            .await)
            .unwrap()
        };
        // Both opened the page when 01/05/2021 had no count (version 0).
        let first = post(
            &app,
            &token,
            "conteggio",
            "modulo=conteggio&piattaforma=pagopa&giorno=2021-05-01&attivi=40&versione=0",
        )
        .await;
        assert_eq!(first.status, StatusCode::SEE_OTHER, "{backend}: {}", first.body);
        let trail = audit::verify(&t.db).await.unwrap().entries;
        let second = post(
            &app,
            &token,
            "conteggio",
            "modulo=conteggio&piattaforma=pagopa&giorno=2021-05-01&attivi=41&versione=0",
        )
        .await;
        assert_eq!(
            second.status,
            StatusCode::CONFLICT,
            "{backend}: {}",
            &second.body[..second.body.len().min(400)]
        );
        assert!(second.body.contains("un altro utente ha modificato questi dati"), "{backend}");
        assert_eq!(stored(t.db.clone()).await, Some((40, 1)), "{backend}: the first count stays");
        assert_eq!(audit::verify(&t.db).await.unwrap().entries, trail, "{backend}: nothing written");
        // The row's correction form sends the version it shows.
        let page = send(&app, get(&format!("/comuni/{CODICE_A}/gestione"), Some(&token))).await;
        assert!(
            page.body.contains("id=\"conteggio-pagopa-2021-05-01\""),
            "{backend}: a correction form per count"
        );
        let fix = post(
            &app,
            &token,
            "conteggio",
            "modulo=conteggio-pagopa-2021-05-01&piattaforma=pagopa&giorno=2021-05-01&attivi=42&versione=1",
        )
        .await;
        assert_eq!(fix.status, StatusCode::SEE_OTHER, "{backend}: {}", fix.body);
        assert_eq!(stored(t.db.clone()).await, Some((42, 2)), "{backend}");
        // A stale correction (version 1 again) is refused too.
        let stale = post(
            &app,
            &token,
            "conteggio",
            "modulo=conteggio-pagopa-2021-05-01&piattaforma=pagopa&giorno=2021-05-01&attivi=43&versione=1",
        )
        .await;
        assert_eq!(stale.status, StatusCode::CONFLICT, "{backend}");
        // Without a version the form is incomplete, and nothing is written.
        let bare = post(
            &app,
            &token,
            "conteggio",
            "modulo=conteggio&piattaforma=pagopa&giorno=2021-05-01&attivi=44",
        )
        .await;
        assert_eq!(bare.status, StatusCode::BAD_REQUEST, "{backend}");
        assert_eq!(stored(t.db.clone()).await, Some((42, 2)), "{backend}");

        // An import planned while the count was 42 stops if it changes before the commit.
        let current =
            crate::data::imports::current(&t.db, crate::data::programme::FONDO_INNOVAZIONE).await.unwrap();
        let key = (
            CODICE_A.to_string(),
            crate::rules::Platform::PagoPa,
            chrono::NaiveDate::from_ymd_opt(2021, 5, 1).unwrap(),
        );
        assert_eq!(current.counts.get(&key), Some(&(42, 2)), "{backend}: the dry run sees the version");
        let planned = crate::imports::plan::Op::Count {
            comune: CODICE_A.to_string(),
            values: crate::workspace::CountValues {
                platform: crate::rules::Platform::PagoPa,
                day: key.2,
                active: 50,
            },
            version: 2,
        };
        let fix = post(
            &app,
            &token,
            "conteggio",
            "modulo=conteggio-pagopa-2021-05-01&piattaforma=pagopa&giorno=2021-05-01&attivi=45&versione=2",
        )
        .await;
        assert_eq!(fix.status, StatusCode::SEE_OTHER, "{backend}");
        let applied = crate::data::workspace::write_tx!(&t.db, tx => {
            match &planned {
                crate::imports::plan::Op::Count { comune, values, version } => {
                    tx.set_count_in("import", comune, values, *version, None).await?
                }
                _ => unreachable!(),
            }
        });
        assert!(
            matches!(applied, Err(crate::data::workspace::WriteError::Conflict)),
            "{backend}: {applied:?}"
        );
        assert_eq!(stored(t.db.clone()).await, Some((45, 3)), "{backend}: the correction stays");
        t.drop_db().await;
    }
}
