//! Renunciation on both backends (issue 16): a comune renounces the saldo by the programme's
//! limit and keeps the 20% of step 1; another renounces its whole grant; both still count for
//! the step 1 they reached by its deadline; the grant cards show earned, at risk, lost and
//! renounced euros with exactly the comuni behind each; a saldo renunciation after the limit
//! is refused in Italian and writes nothing, through the form and through the data layer.

use axum::{http::StatusCode, Router};

use super::{
    auth::{app_with, form, get, local, send, sign_in, REGIONE},
    TestDb,
};
use crate::{
    comuni::{Milestone, ValidFilter},
    data::{on_db, programme::FONDO_INNOVAZIONE, workspace::WriteError, Db},
    evaluation::{today, Snapshot},
    format,
    rules::{AdhesionStatus, Renunciation, RenunciationFact, TrancheStatus},
    workspace::AdhesionValues,
};

const LIMIT_MESSAGE: &str = "La rinuncia al saldo si poteva presentare entro il 26/05/2022";

/// (status, adhesion date as typed in the form, version) of a comune's adhesion.
async fn adhesion(db: &Db, codice: &str) -> (String, String, i64) {
    let (status, date, version): (String, Option<chrono::NaiveDate>, i64) = on_db!(db, pool => sqlx::query_as(
        "SELECT status, adhesion_date, version FROM adhesion WHERE comune = $1 AND programme = $2",
    )
    .bind(codice)
    .bind(FONDO_INNOVAZIONE)
    .fetch_one(pool)
    .await
    .unwrap());
    (status, date.map(|d| d.to_string()).unwrap_or_default(), version)
}

/// Adhesion rows with a renunciation, the trail's length and the data version: equal
/// fingerprints mean nothing was written.
async fn fingerprint(db: &Db) -> (i64, i64, i64, i64) {
    on_db!(db, pool => {
        let renounced: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM adhesion WHERE renunciation IS NOT NULL")
            .fetch_one(pool).await.unwrap();
        let versions: i64 = sqlx::query_scalar("SELECT CAST(SUM(version) AS BIGINT) FROM adhesion").fetch_one(pool).await.unwrap();
        let trail: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM audit_entry").fetch_one(pool).await.unwrap();
        (renounced, versions, trail, db.data_version().await.unwrap())
    })
}

async fn renounce(
    app: &Router,
    token: &str,
    db: &Db,
    codice: &str,
    kind: &str,
    on: &str,
) -> super::auth::Answer {
    let (status, date, version) = adhesion(db, codice).await;
    let body = format!("stato={status}&data={date}&rinuncia={kind}&data_rinuncia={on}&versione={version}");
    send(app, form(&format!("/comuni/{codice}/gestione/adesione"), &body, Some(token))).await
}

/// The value and the denominator of the dashboard card `key`.
fn card(html: &str, key: &str) -> (String, String) {
    let at = html.find(&format!("data-figura=\"{key}\"")).unwrap_or_else(|| panic!("card {key}"));
    let rest = &html[at..];
    let span = |class: &str| {
        let open = format!("<span class=\"{class}\">");
        let start = rest.find(&open).unwrap() + open.len();
        rest[start..start + rest[start..].find('<').unwrap()].to_string()
    };
    (span("figura-valore"), span("figura-denominatore"))
}

/// The ISTAT codes listed by a `/comuni` page.
fn listed(html: &str) -> Vec<String> {
    let Some(start) = html.find("<tbody") else { return Vec::new() };
    let body = &html[start..start + html[start..].find("</tbody>").unwrap()];
    let mut codes: Vec<String> = body
        .match_indices("href=\"/comuni/")
        .map(|(i, m)| body[i + m.len()..i + m.len() + 6].to_string())
        .collect();
    codes.sort();
    codes.dedup();
    codes
}

#[tokio::test]
async fn saldo_and_whole_grant_renunciations_follow_into_every_figure() {
    for t in TestDb::all().await {
        let backend = t.db.backend();
        let app = app_with(&t, local()).await;
        let token = sign_in(&app, REGIONE).await;
        let before = Snapshot::build(&t.db, FONDO_INNOVAZIONE, today()).await.unwrap();
        let s0 = before.summary(&ValidFilter::default());
        assert_eq!(s0.contributo_rinunciato, 0, "{backend}: the demo has no renunciation");
        // Two aderenti that reached step 1 by its deadline (the demo has 106).
        let on_time: Vec<String> = before
            .list(&ValidFilter::default().with_milestone(Milestone::PrimoStepInTempo))
            .into_iter()
            .map(|r| r.codice_istat)
            .filter(|c| before.find(c).is_some_and(|e| e.record.facts.adhesion == AdhesionStatus::Aderente))
            .collect();
        let (saldo, whole) = (on_time[0].clone(), on_time[1].clone());
        let grant = |c: &str| before.find(c).unwrap().outcome.grant_eur;
        let tranche = |c: &str, i: usize| before.find(c).unwrap().outcome.steps[i].tranche_eur;

        // The saldo, renounced on the last admissible day.
        let r = renounce(&app, &token, &t.db, &saldo, "saldo", "2022-05-26").await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{backend}: {}", &r.body[..r.body.len().min(800)]);
        // The whole grant, renounced a year later.
        let r = renounce(&app, &token, &t.db, &whole, "contributo", "2023-03-01").await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{backend}: {}", &r.body[..r.body.len().min(800)]);

        let after = Snapshot::build(&t.db, FONDO_INNOVAZIONE, today()).await.unwrap();
        let o = &after.find(&saldo).unwrap().outcome;
        assert_eq!(o.steps[0].tranche, TrancheStatus::Earned, "{backend}: the 20% of step 1 stays");
        assert_eq!(o.steps[1].tranche, TrancheStatus::Renounced, "{backend}");
        assert_eq!((o.earned_eur, o.renounced_eur), (tranche(&saldo, 0), tranche(&saldo, 1)), "{backend}");
        let o = &after.find(&whole).unwrap().outcome;
        assert!(o.steps.iter().all(|s| s.tranche == TrancheStatus::Renounced), "{backend}");
        assert_eq!((o.earned_eur, o.renounced_eur), (0, grant(&whole)), "{backend}");

        // Step 1 by the deadline still counts both; the euros move to "renounced".
        let s = after.summary(&ValidFilter::default());
        assert_eq!(s.primo_step_in_tempo, s0.primo_step_in_tempo, "{backend}");
        assert_eq!(s.supportati, s0.supportati, "{backend}");
        assert_eq!(s.contributo_assegnato, s0.contributo_assegnato, "{backend}");
        assert_eq!(s.contributo_rinunciato, tranche(&saldo, 1) + grant(&whole), "{backend}");
        assert_eq!(
            s.contributo_maturato + s.contributo_perso + s.contributo_rinunciato + s.contributo_possibile,
            s.contributo_assegnato,
            "{backend}"
        );
        assert_eq!(s.comuni_rinunciato, 2, "{backend}");

        // The cards: each grant figure with its comuni, each link lists exactly those comuni.
        let html = send(&app, get("/", None)).await.body;
        for (key, eur, comuni, m) in [
            ("contributo-maturato", s.contributo_maturato, s.comuni_maturato, Milestone::ContributoMaturato),
            (
                "contributo-possibile",
                s.contributo_possibile,
                s.comuni_possibile,
                Milestone::ContributoPossibile,
            ),
            ("contributo-perso", s.contributo_perso, s.comuni_perso, Milestone::ContributoPerso),
            (
                "contributo-rinunciato",
                s.contributo_rinunciato,
                s.comuni_rinunciato,
                Milestone::ContributoRinunciato,
            ),
        ] {
            let (value, words) = card(&html, key);
            assert_eq!(value, format::eur(eur), "{backend}: {key}");
            let named = format::comuni(comuni);
            assert!(words.contains(&named), "{backend}: {key} says «{words}», not {named}");
            assert!(html.contains(&format!("href=\"/comuni?traguardo={}\"", m.code())), "{backend}: {key}");
            let expected: Vec<String> = after
                .list(&ValidFilter::default().with_milestone(m))
                .into_iter()
                .map(|r| r.codice_istat)
                .collect();
            assert_eq!(expected.len() as i64, comuni, "{backend}: {key}");
        }
        // The comune's page says what was renounced and from which day.
        let page = send(&app, get(&format!("/comuni/{saldo}"), None)).await;
        assert!(page.body.contains("Rinuncia al saldo, dal 26/05/2022"), "{backend}");
        let page = send(&app, get(&format!("/comuni/{whole}"), None)).await;
        assert!(
            page.body.contains("Rinuncia all&#x27;intero contributo, dal 01/03/2023")
                || page.body.contains("Rinuncia all'intero contributo, dal 01/03/2023"),
            "{backend}"
        );
        // Open data: the CSV's last two columns and the API's adhesion say it too.
        let csv = send(&app, get("/export/comuni.csv", None)).await.body;
        let rows: Vec<csv::StringRecord> =
            csv::Reader::from_reader(csv.as_bytes()).records().map(Result::unwrap).collect();
        let tail = |c: &str| {
            let row = rows.iter().find(|r| &r[0] == c).unwrap();
            (row[row.len() - 2].to_string(), row[row.len() - 1].to_string())
        };
        assert_eq!(tail(&saldo), ("saldo".into(), "2022-05-26".into()), "{backend}");
        assert_eq!(tail(&whole), ("contributo".into(), "2023-03-01".into()), "{backend}");
        assert_eq!(tail(&on_time[2]), (String::new(), String::new()), "{backend}");
        let api: serde_json::Value =
            serde_json::from_str(&send(&app, get(&format!("/api/v1/comuni/{saldo}"), None)).await.body)
                .unwrap();
        assert_eq!(api["comune"]["adesione"]["rinuncia"], "saldo", "{backend}");
        assert_eq!(api["comune"]["adesione"]["data_rinuncia"], "2022-05-26", "{backend}");
        assert_eq!(api["comune"]["adesione"]["contributo_rinunciato_eur"], tranche(&saldo, 1), "{backend}");

        let list = send(&app, get("/comuni?traguardo=contributo_rinunciato", None)).await;
        assert_eq!(list.status, StatusCode::OK, "{backend}");
        let mut both = vec![saldo.clone(), whole.clone()];
        both.sort();
        assert_eq!(listed(&list.body), both, "{backend}: exactly the comuni that renounced");
        t.drop_db().await;
    }
}

#[tokio::test]
async fn a_saldo_renunciation_after_the_limit_is_refused_and_nothing_is_written() {
    for t in TestDb::all().await {
        let backend = t.db.backend();
        let app = app_with(&t, local()).await;
        let token = sign_in(&app, REGIONE).await;
        let snapshot = Snapshot::build(&t.db, FONDO_INNOVAZIONE, today()).await.unwrap();
        let codice = snapshot
            .list(&ValidFilter::default().with_milestone(Milestone::PrimoStepInTempo))
            .remove(0)
            .codice_istat;
        let before = fingerprint(&t.db).await;

        // Through the form: a day after the limit.
        let r = renounce(&app, &token, &t.db, &codice, "saldo", "2022-05-27").await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{backend}");
        assert!(r.body.contains(LIMIT_MESSAGE), "{backend}: {}", &r.body[..r.body.len().min(800)]);
        assert!(r.body.contains("27/05/2022"), "{backend}");
        assert_eq!(fingerprint(&t.db).await, before, "{backend}: nothing written");

        // Through the data layer (what imports use): refused the same way.
        let (status, _, version) = adhesion(&t.db, &codice).await;
        let values = AdhesionValues {
            status: AdhesionStatus::from_code(&status).unwrap(),
            date: snapshot.find(&codice).unwrap().record.facts.adhesion_date,
            renunciation: Some(RenunciationFact {
                kind: Renunciation::Saldo,
                on: chrono::NaiveDate::from_ymd_opt(2022, 6, 1).unwrap(),
            }),
        };
        let written = crate::data::workspace::write_tx!(&t.db, tx => tx
            .set_adhesion_in(REGIONE, FONDO_INNOVAZIONE, &codice, &values, version, None)
            .await?);
        match written {
            Err(WriteError::Refused("data_rinuncia", m)) => assert!(m.starts_with(LIMIT_MESSAGE), "{m}"),
            other => panic!("{backend}: {other:?}"),
        }
        assert_eq!(fingerprint(&t.db).await, before, "{backend}: nothing written");

        // The whole grant, on the same late day, is accepted.
        let r = renounce(&app, &token, &t.db, &codice, "contributo", "2022-05-27").await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{backend}");
        let (renounced, ..) = fingerprint(&t.db).await;
        assert_eq!(renounced, before.0 + 1, "{backend}");
        t.drop_db().await;
    }
}
