//! The access rules, the form and password rules, and the helpers of sign-in.

use super::*;

fn user(role: Role, comuni: &[&str]) -> CurrentUser {
    CurrentUser {
        id: 1,
        name: "Persona".into(),
        email: "persona@test.invalid".into(),
        role,
        comuni: comuni.iter().map(|c| c.to_string()).collect(),
        demo: false,
    }
}

#[test]
fn private_data_of_a_comune_is_for_the_region_assessors_and_its_own_users() {
    let bari = user(Role::Comune, &["072006"]);
    let consultant = user(Role::Comune, &["072006", "075035"]);
    assert!(may_read_private(Some(&user(Role::Regione, &[])), "075035"));
    assert!(may_read_private(Some(&user(Role::Assessore, &[])), "075035"));
    assert!(may_read_private(Some(&bari), "072006"));
    assert!(!may_read_private(Some(&bari), "075035"));
    assert!(may_read_private(Some(&consultant), "075035"));
    assert!(!may_read_private(None, "072006"));
}

#[test]
fn only_the_region_and_a_comunes_own_users_act_for_it_and_only_the_region_manages_users() {
    let bari = user(Role::Comune, &["072006"]);
    assert!(may_act_for(Some(&user(Role::Regione, &[])), "075035"));
    assert!(may_act_for(Some(&bari), "072006"));
    assert!(!may_act_for(Some(&bari), "075035"));
    assert!(!may_act_for(Some(&user(Role::Assessore, &[])), "072006"), "assessors write nothing");
    assert!(!may_act_for(None, "072006"));
    assert!(may_manage_users(Some(&user(Role::Regione, &[]))));
    for role in [Role::Comune, Role::Assessore] {
        assert!(!may_manage_users(Some(&user(role, &["072006"]))));
    }
    assert!(!may_manage_users(None));
}

#[test]
fn roles_round_trip_their_codes() {
    for role in Role::ALL {
        assert_eq!(Role::from_code(role.code()), Some(role));
    }
    assert_eq!(Role::from_code(" Regione "), Some(Role::Regione));
    assert_eq!(Role::from_code("admin"), None);
}

#[test]
fn the_password_rule_says_what_is_wrong() {
    assert!(check_password_rule("Ulivi-e-trulli-2021", "a@b.it").is_ok());
    assert!(check_password_rule("corta", "a@b.it").unwrap_err().contains("almeno 12 caratteri (ne ha 5)"));
    assert!(check_password_rule(&"x".repeat(129), "a@b.it").unwrap_err().contains("al massimo 128"));
    assert!(check_password_rule("mario.rossi-2021", "mario.rossi@comune.bari.it")
        .unwrap_err()
        .contains("e-mail"));
    assert!(check_password_rule("aaaaaaaaaaaaaaaa", "a@b.it").unwrap_err().contains("5 caratteri diversi"));
    // Length is counted in characters, not bytes.
    assert!(check_password_rule("àèìòùàèìòùà", "a@b.it").is_err());
}

fn form(email: &str, role: &str, comuni: &str) -> UserForm {
    UserForm {
        email: email.into(),
        name: "Nuova Persona".into(),
        role: role.into(),
        comuni: comuni.into(),
        ..UserForm::default()
    }
}

#[test]
fn the_account_form_normalises_and_checks_every_field() {
    let ok = validate_user_form(&UserForm {
        fiscal_code: " rssmra80a01h501u ".into(),
        ..form(" Mario.Rossi@Comune.Bari.IT ", "comune", "72006, 075035;072006")
    })
    .unwrap();
    assert_eq!(ok.email, "mario.rossi@comune.bari.it");
    assert_eq!(ok.role, Role::Comune);
    assert_eq!(ok.fiscal_code.as_deref(), Some("RSSMRA80A01H501U"));
    assert_eq!(ok.comuni, vec!["072006", "075035"], "leading zero restored, duplicates removed");
    assert_eq!(ok.password, None);

    let fields = |f: UserForm| -> Vec<String> {
        validate_user_form(&f).unwrap_err().into_iter().map(|e| e.field).collect()
    };
    assert_eq!(fields(form("", "regione", "")), vec!["email"]);
    assert_eq!(fields(form("non-un-indirizzo", "regione", "")), vec!["email"]);
    assert_eq!(fields(form("a@b", "regione", "")), vec!["email"]);
    assert_eq!(fields(form("a@b.it", "capo", "")), vec!["role"]);
    assert_eq!(fields(form("a@b.it", "comune", "")), vec!["comuni"], "a comune user needs a comune");
    assert_eq!(fields(form("a@b.it", "assessore", "072006")), vec!["comuni"]);
    assert_eq!(fields(form("a@b.it", "comune", "BARI")), vec!["comuni"]);
    assert_eq!(
        fields(UserForm { fiscal_code: "ABC".into(), ..form("a@b.it", "regione", "") }),
        vec!["fiscal_code"]
    );
    assert_eq!(
        fields(UserForm { password: "corta".into(), ..form("a@b.it", "regione", "") }),
        vec!["password"]
    );
    assert_eq!(fields(UserForm { name: " ".into(), ..form("", "", "") }), vec!["email", "name", "role"]);
}

#[test]
fn sign_in_error_codes_have_italian_sentences() {
    for code in [
        "oidc-non-registrato",
        "oidc-non-valido",
        "oidc-annullato",
        "oidc-non-disponibile",
        "sessione-scaduta",
    ] {
        assert!(sign_in_error(code).is_some_and(|m| m.ends_with('.')), "{code}");
    }
    assert_eq!(sign_in_error("<script>"), None, "unknown codes show nothing");
}

#[test]
fn form_feedback_finds_values_and_errors_by_name() {
    let f = FormFeedback {
        form: "accesso".into(),
        message: "m".into(),
        errors: vec![FieldError { field: "email".into(), message: "no".into() }],
        values: vec![("email".into(), "a@b.it".into())],
    };
    assert_eq!(f.value("email"), "a@b.it");
    assert_eq!(f.value("password"), "");
    assert_eq!(f.error("email").as_deref(), Some("no"));
    assert_eq!(f.error("password"), None);
}

#[cfg(feature = "ssr")]
mod server_side {
    use std::{net::IpAddr, time::Duration};

    use super::super::{
        config::*,
        limit::*,
        oidc::{normalise_fiscal_code, verified_email},
        password,
        redirect::{form_id, local_path, HOSTILE_RETURNS},
        routes::safe_return_to,
        session,
    };

    #[test]
    fn return_addresses_stay_on_this_site() {
        assert_eq!(safe_return_to("/comuni/072006?x=1"), "/comuni/072006?x=1");
        assert_eq!(safe_return_to("/comuni/072006#obiettivo-step1"), "/comuni/072006#obiettivo-step1");
        assert_eq!(safe_return_to("/"), "/");
        // Sent as the parser serialises it: ASCII only, fit for a header.
        assert_eq!(safe_return_to("/comuni?q=Città di Bari"), "/comuni?q=Citt%C3%A0%20di%20Bari");
        assert_eq!(safe_return_to("/a/../comuni"), "/comuni");
        for bad in HOSTILE_RETURNS {
            assert_eq!(safe_return_to(bad), "/profilo", "{bad:?}");
            assert_eq!(local_path(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn a_form_id_is_a_plain_token() {
        for good in ["nota", "blocco-nuovo", "verifica-step1_pagopa", "proposta-12"] {
            assert_eq!(form_id(good), Some(good));
        }
        let long = "a".repeat(101);
        for bad in ["", "nota\u{b}", "nota\t", "nota\r\nX: y", "nota#x", "a b", "../x", "nòta", long.as_str()]
        {
            assert_eq!(form_id(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn an_email_counts_only_when_the_provider_states_it_verified() {
        assert_eq!(
            verified_email(Some(" Rosa@Example.org "), Some(true)).as_deref(),
            Some("rosa@example.org")
        );
        assert_eq!(verified_email(Some("rosa@example.org"), None), None, "a missing claim is not a yes");
        assert_eq!(verified_email(Some("rosa@example.org"), Some(false)), None);
        assert_eq!(verified_email(None, Some(true)), None);
    }

    #[test]
    fn fiscal_codes_from_spid_claims_are_normalised() {
        assert_eq!(normalise_fiscal_code("TINIT-RSSMRA80A01H501U").as_deref(), Some("RSSMRA80A01H501U"));
        assert_eq!(normalise_fiscal_code(" rssmra80a01h501u ").as_deref(), Some("RSSMRA80A01H501U"));
        assert_eq!(normalise_fiscal_code("TINIT-123"), None);
        assert_eq!(normalise_fiscal_code("RSSMRA80A01H501U-X"), None);
    }

    #[test]
    fn the_rate_rule_allows_a_burst_then_says_how_long_to_wait() {
        use crate::auth::limit::{gcra, Allowance};
        let two_a_minute = Allowance { period_ms: 60_000, burst: 2 };
        let t0 = 1_700_000_000_000;
        let (tat, wait) = gcra(None, t0, two_a_minute);
        assert_eq!((tat, wait), (t0 + 60_000, None), "the first attempt passes");
        let (tat, wait) = gcra(Some(tat), t0 + 1_000, two_a_minute);
        assert_eq!((tat, wait), (t0 + 120_000, None), "the burst's second attempt passes");
        let (same, wait) = gcra(Some(tat), t0 + 2_000, two_a_minute);
        assert_eq!(same, tat, "a refused attempt leaves the time as it was");
        assert_eq!(wait, Some(Duration::from_secs(58)), "until one period has been earned back");
        // After the wait, exactly one more passes.
        let (tat, wait) = gcra(Some(tat), t0 + 60_000, two_a_minute);
        assert_eq!((tat, wait), (t0 + 180_000, None));
        assert!(gcra(Some(tat), t0 + 60_001, two_a_minute).1.is_some());
        // A key idle for longer than the burst takes is as good as new.
        assert_eq!(
            gcra(Some(tat), t0 + 10 * 60_000, two_a_minute),
            gcra(None, t0 + 10 * 60_000, two_a_minute)
        );
        // A burst of one allows one attempt per period.
        let one = Allowance { period_ms: 1_000, burst: 1 };
        let (tat, _) = gcra(None, 0, one);
        assert_eq!(gcra(Some(tat), 999, one).1, Some(Duration::from_millis(1)));
        assert_eq!(gcra(Some(tat), 1_000, one).1, None);
    }

    #[test]
    fn the_limiter_stores_digests_not_addresses() {
        use crate::auth::limit::{account_key, address_key};
        let ip: IpAddr = "10.1.1.1".parse().unwrap();
        let (a, b) = (address_key(ip), account_key("mario.rossi@comune.bari.it", ip));
        for key in [&a, &b] {
            assert_eq!(key.len(), 64);
            assert!(key.chars().all(|c| c.is_ascii_hexdigit()), "{key}");
            assert!(!key.contains("10.1.1.1") && !key.contains("rossi"));
        }
        assert_ne!(a, b);
        assert_ne!(b, account_key("mario.rossi@comune.bari.it", "10.1.1.2".parse().unwrap()));
    }

    #[test]
    fn the_retry_message_is_italian_and_rounds_up() {
        assert!(retry_message(Duration::from_millis(200)).ends_with("riprova tra 1 secondo."));
        assert!(retry_message(Duration::from_secs(42)).ends_with("riprova tra 42 secondi."));
        assert!(retry_message(Duration::from_secs(61)).ends_with("riprova tra 2 minuti."));
        assert_eq!(retry_after_secs(Duration::from_millis(1500)), 2);
    }

    #[test]
    fn settings_are_checked_at_start_up() {
        use clap::Parser;
        #[derive(Parser)]
        struct Cli {
            #[command(flatten)]
            auth: AuthArgs,
        }
        let parse = |args: &[&str]| {
            let mut all = vec!["traguardi"];
            all.extend_from_slice(args);
            Cli::try_parse_from(all).unwrap().auth.validate("127.0.0.1:3000")
        };
        let local = parse(&[]).unwrap();
        assert!(!local.cookie_secure && local.oidc.is_none());
        assert_eq!(local.public_url, "http://127.0.0.1:3000");
        let https = parse(&["--public-url", "https://traguardi.regione.puglia.it/"]).unwrap();
        assert!(https.cookie_secure, "https means Secure cookies");
        assert_eq!(https.session_cookie(), "__Host-traguardi_sessione");
        assert!(parse(&["--oidc-issuer", "https://iam.example"]).is_err(), "issuer without client id");
        assert!(parse(&["--oidc-issuer", "non un url", "--oidc-client-id", "x"]).is_err());
        assert!(parse(&["--public-url", "ftp://x"]).is_err());
        assert!(parse(&["--session-idle-minutes", "900", "--session-max-hours", "1"]).is_err());
        let oidc = parse(&[
            "--public-url",
            "https://t.example",
            "--oidc-issuer",
            "https://iam.example",
            "--oidc-client-id",
            "c",
        ])
        .unwrap()
        .oidc
        .unwrap();
        assert_eq!(oidc.redirect_url, "https://t.example/accedi/oidc/callback");
        assert_eq!(oidc.scopes, vec!["openid", "email", "profile"]);
    }

    #[test]
    fn session_tokens_are_random_and_stored_hashed() {
        let (a, b) = (session::new_token(), session::new_token());
        assert_ne!(a, b);
        assert_eq!(a.len(), 43, "256 bits, base64url");
        assert_eq!(session::hash_token(&a).len(), 64);
        assert_ne!(session::hash_token(&a), a);
    }

    #[tokio::test]
    async fn passwords_hash_with_argon2id_and_the_hash_never_shows() {
        let hash = password::hash("Ulivi-e-trulli-2021".into()).await.unwrap();
        assert!(hash.as_stored().starts_with("$argon2id$"));
        assert_eq!(format!("{hash:?}"), "PasswordHash(***)");
        assert!(password::verify("Ulivi-e-trulli-2021".into(), Some(hash.clone())).await);
        assert!(!password::verify("Ulivi-e-trulli-2022".into(), Some(hash)).await);
        assert!(!password::verify("qualsiasi".into(), None).await, "no account: the decoy, then no");
        let broken = password::PasswordHash::from_stored("non-un-hash".into());
        assert!(!password::verify("x".into(), Some(broken)).await);
    }
}
