//! The demo dataset through the real rules, on both backends: the published figures come out of
//! rule evaluation of the service rows.

use super::TestDb;
use crate::{
    comuni::ValidFilter,
    data::{on_db, programme::FONDO_INNOVAZIONE},
    demo,
    evaluation::{today, Snapshot},
};

#[tokio::test]
async fn demo_rows_give_the_press_release_figures_on_every_backend() {
    for t in TestDb::all().await {
        let backend = t.db.backend();
        demo::load(&t.db).await.unwrap();
        let snapshot = Snapshot::build(&t.db, FONDO_INNOVAZIONE, today()).await.unwrap();
        assert!(snapshot.demo, "{backend}");
        let s = snapshot.summary(&ValidFilter::default());
        assert_eq!(s.totale_comuni, 257, "{backend}");
        assert_eq!((s.aderenti, s.in_ritardo, s.supportati), (133, 7, 140), "{backend}");
        let by_province: Vec<(String, i64, i64)> =
            s.province.iter().map(|p| (p.sigla.clone(), p.aderenti, p.totale)).collect();
        assert_eq!(
            by_province,
            [("BA", 11, 41), ("BT", 7, 10), ("BR", 9, 20), ("FG", 27, 61), ("LE", 65, 96), ("TA", 14, 29)]
                .map(|(s, a, t)| (s.to_string(), a, t))
                .to_vec(),
            "{backend}"
        );
        assert_eq!(s.primo_step_in_tempo, 106, "{backend}");
        assert_eq!(s.primo_step, 130, "{backend}");
        assert_eq!(s.tutti_obiettivi, 120, "{backend}");
        // The press release reports the MyPay figures at the end of the project.
        assert_eq!(s.fine_progetto, chrono::NaiveDate::from_ymd_opt(2021, 12, 31), "{backend}");
        assert!(s.mypay_attivi_fine_progetto >= 3_500, "{backend}: {}", s.mypay_attivi_fine_progetto);
        assert!(
            (2_200..=2_249).contains(&s.mypay_nel_progetto_fine_progetto),
            "{backend}: {}",
            s.mypay_nel_progetto_fine_progetto
        );
        // The comuni that reach the final step in 2022 activate services after it: today counts them.
        assert!(s.mypay_attivi > s.mypay_attivi_fine_progetto, "{backend}");
        assert!(s.mypay_applicabili >= s.mypay_attivi && s.mypay_attivi >= s.mypay_nel_progetto, "{backend}");
        assert_eq!(s.io_regione, 90, "{backend}");
        // Money follows the tranches: earned + lost = assigned once both deadlines passed.
        assert_eq!(
            s.contributo_maturato + s.contributo_perso + s.contributo_rinunciato,
            s.contributo_assegnato
        );
        assert!(s.contributo_maturato > 0 && s.contributo_perso > 0);

        // The 14 comuni of Taranto are the real ones.
        let ta = snapshot.list(&ValidFilter {
            provincia: Some("TA".into()),
            adesione: Some(crate::rules::AdhesionStatus::Aderente),
            ..Default::default()
        });
        let mut names: Vec<String> = ta.into_iter().map(|r| r.denominazione).collect();
        names.sort();
        let mut expected: Vec<String> = demo::TARANTO_ADERENTI.iter().map(|s| s.to_string()).collect();
        expected.sort();
        assert_eq!(names, expected, "{backend}");

        let check = crate::check::run(&t.db).await.unwrap();
        assert!(!check.failed, "{backend}:\n{}", check.report);
        assert!(check.lines.iter().all(|l| l.agrees));
        t.drop_db().await;
    }
}

#[tokio::test]
async fn loading_the_demo_twice_gives_the_same_rows() {
    for t in TestDb::all().await {
        let first = demo::load(&t.db).await.unwrap();
        let v1 = t.db.data_version().await.unwrap();
        let second = demo::load(&t.db).await.unwrap();
        assert_eq!(
            (first.pagopa, first.io, first.online, first.counts),
            (second.pagopa, second.io, second.online, second.counts)
        );
        assert!(t.db.data_version().await.unwrap() > v1, "a reload bumps the data version");
        let rows: i64 = on_db!(&t.db, pool => sqlx::query_scalar("SELECT COUNT(*) FROM pagopa_service").fetch_one(pool).await).unwrap();
        assert_eq!(rows as usize, second.pagopa);
        t.drop_db().await;
    }
}

#[tokio::test]
async fn demo_refuses_a_database_with_real_data() {
    for t in TestDb::all().await {
        on_db!(&t.db, pool => sqlx::query(
            "INSERT INTO adhesion (programme, comune, status, adhesion_date) VALUES ($1, '073013', 'aderente', $2)",
        )
        .bind(FONDO_INNOVAZIONE)
        .bind(chrono::NaiveDate::from_ymd_opt(2021, 1, 5).unwrap())
        .execute(pool)
        .await
        .map(|_| ()))
        .unwrap();
        let err = demo::load(&t.db).await.unwrap_err().to_string();
        assert!(err.contains("not the demo dataset"), "{err}");
        let rows: i64 =
            on_db!(&t.db, pool => sqlx::query_scalar("SELECT COUNT(*) FROM adhesion").fetch_one(pool).await)
                .unwrap();
        assert_eq!(rows, 1, "the real row is untouched");
        assert!(!t.db.is_demo().await.unwrap());
        t.drop_db().await;
    }
}

#[tokio::test]
async fn registry_loads_257_comuni_with_codes_and_accents() {
    for t in TestDb::all().await {
        let (n, nardo, ipa): (i64, String, String) = on_db!(&t.db, pool => {
            let n = sqlx::query_scalar("SELECT COUNT(*) FROM comune").fetch_one(pool).await.unwrap();
            let nardo = sqlx::query_scalar("SELECT denominazione FROM comune WHERE codice_istat = '075052'").fetch_one(pool).await.unwrap();
            let ipa = sqlx::query_scalar("SELECT codice_ipa FROM comune WHERE codice_istat = '073013'").fetch_one(pool).await.unwrap();
            (n, nardo, ipa)
        });
        assert_eq!((n, nardo.as_str(), ipa.as_str()), (257, "Nardò", "c_e986"));
        // Loading again (every start does) changes nothing.
        crate::data::registry::load(&t.db).await.unwrap();
        let again: i64 =
            on_db!(&t.db, pool => sqlx::query_scalar("SELECT COUNT(*) FROM comune").fetch_one(pool).await)
                .unwrap();
        assert_eq!(again, 257);
        // Italy's 20 regions; the territory's six provinces, each in Puglia — also a province kept
        // from before the regions were (its region NULL), once the next start has loaded.
        on_db!(&t.db, pool => sqlx::query("UPDATE province SET codice_regione = NULL WHERE sigla = 'LE'")
            .execute(pool).await.map(|_| ()))
        .unwrap();
        crate::data::registry::load(&t.db).await.unwrap();
        let (regions, puglia, provinces): (i64, String, Vec<(String, String)>) = on_db!(&t.db, pool => {
            let regions = sqlx::query_scalar("SELECT COUNT(*) FROM regione").fetch_one(pool).await.unwrap();
            let puglia = sqlx::query_scalar("SELECT nome FROM regione WHERE codice_istat = '16'").fetch_one(pool).await.unwrap();
            let provinces = sqlx::query_as(
                "SELECT p.sigla, r.nome FROM province p JOIN regione r ON r.codice_istat = p.codice_regione ORDER BY p.sigla",
            ).fetch_all(pool).await.unwrap();
            (regions, puglia, provinces)
        });
        assert_eq!((regions, puglia.as_str()), (20, "Puglia"), "{}", t.db.backend());
        let sigle: Vec<&str> = provinces.iter().map(|(s, _)| s.as_str()).collect();
        assert_eq!(sigle, ["BA", "BR", "BT", "FG", "LE", "TA"]);
        assert!(provinces.iter().all(|(_, r)| r == "Puglia"), "{provinces:?}");
        t.drop_db().await;
    }
}

#[tokio::test]
async fn bad_configuration_fails_with_a_clear_message() {
    let err = crate::data::Db::open("mysql://root@localhost/x").await.unwrap_err();
    assert!(format!("{err:#}").contains("DATABASE_URL must start with sqlite:// or postgres://"), "{err:#}");
    let err = crate::data::Db::open("sqlite:///proc/traguardi/cannot/be/here.sqlite").await.unwrap_err();
    assert!(format!("{err:#}").contains("cannot"), "{err:#}");
}

#[tokio::test]
async fn a_failed_migration_stops_start_up_with_its_reason() {
    let t = TestDb::sqlite().await;
    let url = match &t.cleanup {
        super::Cleanup::File(path) => format!("sqlite://{}", path.display()),
        super::Cleanup::Postgres { .. } => unreachable!(),
    };
    // An applied migration whose recorded checksum no longer matches the file.
    on_db!(&t.db, pool => sqlx::query("UPDATE _sqlx_migrations SET checksum = X'00' WHERE version = 20261126000001")
        .execute(pool)
        .await
        .map(|_| ()))
    .unwrap();
    let err = crate::data::Db::open(&url).await.unwrap_err();
    let message = format!("{err:#}");
    assert!(message.contains("database migration failed") && message.contains("20261126000001"), "{message}");
    t.drop_db().await;
}

#[tokio::test]
async fn the_database_refuses_a_malformed_taxonomy_code() {
    for t in TestDb::all().await {
        let backend = t.db.backend();
        let insert = |code: &'static str| {
            let db = t.db.clone();
            async move {
                on_db!(&db, pool => sqlx::query(
                    "INSERT INTO taxonomy_entry (code, description, origin) VALUES ($1, 'prova', 'demo')",
                )
                .bind(code)
                .execute(pool)
                .await
                .map(|_| ()))
            }
        };
        insert("9/0199999DM/").await.unwrap_or_else(|e| panic!("{backend}: {e}"));
        for bad in ["9/0101101im/", "0101101IM", "9/01011IM/"] {
            let err = insert(bad).await.expect_err(bad);
            let constraint = err.as_database_error().and_then(|e| e.constraint().map(str::to_string));
            // PostgreSQL names the constraint; SQLite only says CHECK failed.
            assert!(
                constraint.as_deref() == Some("taxonomy_entry_code_shape")
                    || err.to_string().contains("CHECK"),
                "{backend} {bad}: {err}"
            );
        }
        t.drop_db().await;
    }
}

#[tokio::test]
async fn check_fails_when_a_demo_database_disagrees_with_the_press_release() {
    for t in TestDb::all().await {
        demo::load(&t.db).await.unwrap();
        // One adherent of Lecce withdraws: 132 adherents, LE 64.
        on_db!(&t.db, pool => sqlx::query(
            "UPDATE adhesion SET status = 'non_aderente', adhesion_date = NULL WHERE comune = \
             (SELECT MIN(a.comune) FROM adhesion a JOIN comune c ON c.codice_istat = a.comune \
              WHERE c.sigla_provincia = 'LE' AND a.status = 'aderente')",
        )
        .execute(pool)
        .await
        .map(|_| ()))
        .unwrap();
        on_db!(&t.db, pool => sqlx::query(crate::data::BUMP_DATA_VERSION).execute(pool).await.map(|_| ()))
            .unwrap();
        let check = crate::check::run(&t.db).await.unwrap();
        assert!(check.failed, "{}", check.report);
        let differing: Vec<&str> = check.lines.iter().filter(|l| !l.agrees).map(|l| l.label.trim()).collect();
        assert!(
            differing.contains(&"Comuni aderenti") && differing.contains(&"di cui provincia LE"),
            "{differing:?}"
        );
        assert!(check.report.contains("DIFFERS"));
        t.drop_db().await;
    }
}
