//! Creating, listing and disabling accounts: shared by the users page and `traguardi user`.

use super::{password, validate_user_form, FieldError, Role, UserForm};
use crate::{
    data::{
        accounts::{self, InsertUserError, NewUser},
        Db,
    },
    error::AppError,
};

/// Why an account was not created: field messages (the form shows them), or a server fault.
#[derive(Debug)]
pub enum AddUserError {
    Invalid(Vec<FieldError>),
    Internal(AppError),
}

impl From<sqlx::Error> for AddUserError {
    fn from(e: sqlx::Error) -> Self {
        AddUserError::Internal(e.into())
    }
}

/// Validates and creates an account. `demo` accounts exist only in demo databases. `actor` is
/// who asked, for the trail (an e-mail, `cli` or `demo`).
pub async fn add(db: &Db, form: &UserForm, demo: bool, actor: &str) -> Result<i64, AddUserError> {
    let user = validate_user_form(form).map_err(AddUserError::Invalid)?;
    let unknown = accounts::unknown_comuni(db, &user.comuni).await?;
    if !unknown.is_empty() {
        return Err(AddUserError::Invalid(vec![FieldError {
            field: "comuni".into(),
            message: format!("Codici ISTAT non presenti nell'elenco dei comuni: {}.", unknown.join(", ")),
        }]));
    }
    let password = match user.password {
        Some(p) => Some(password::hash(p).await.map_err(AddUserError::Internal)?),
        None => None,
    };
    let new = NewUser {
        email: user.email,
        name: user.name,
        role: user.role,
        fiscal_code: user.fiscal_code,
        comuni: user.comuni,
        password,
        demo,
    };
    match accounts::insert_user(db, &new, super::session::now(), actor).await {
        Ok(id) => Ok(id),
        Err(InsertUserError::Duplicate) => Err(AddUserError::Invalid(vec![FieldError {
            field: "email".into(),
            message: "Esiste già un utente con questo indirizzo e-mail o con questo codice fiscale.".into(),
        }])),
        Err(InsertUserError::NotADemo) => Err(AddUserError::Invalid(vec![FieldError {
            field: "email".into(),
            message: "Gli account dimostrativi esistono solo in un database dimostrativo.".into(),
        }])),
        Err(InsertUserError::Db(e)) => Err(e.into()),
    }
}

/// One demo account per role, with its password (documented in the README and printed by
/// `make run`; they only work on the demo database).
pub const DEMO_ACCOUNTS: [(&str, &str, Role, &str, &str); 3] = [
    ("demo.regione@traguardi.invalid", "Demo Regione", Role::Regione, "", "Demo-Regione-2021"),
    (
        "demo.comune@traguardi.invalid",
        "Demo Comune di Bari e Altamura",
        Role::Comune,
        "072006 072004",
        "Demo-Comune-2021",
    ),
    ("demo.assessore@traguardi.invalid", "Demo Assessore", Role::Assessore, "", "Demo-Assessore-2021"),
];

/// Creates the demo accounts that are missing; refuses a database without the demo dataset.
/// Returns the lines to print (e-mail, password, role).
pub async fn ensure_demo_accounts(db: &Db) -> anyhow::Result<Vec<String>> {
    if !db.is_demo().await? {
        anyhow::bail!("demo accounts can only be created in a database that holds the demo dataset");
    }
    let existing: Vec<String> = accounts::list_users(db).await?.into_iter().map(|u| u.email).collect();
    let mut lines = Vec::new();
    for (email, name, role, comuni, pw) in DEMO_ACCOUNTS {
        if !existing.iter().any(|e| e == email) {
            let form = UserForm {
                email: email.into(),
                name: name.into(),
                role: role.code().into(),
                fiscal_code: String::new(),
                comuni: comuni.into(),
                password: pw.into(),
            };
            match add(db, &form, true, "demo").await {
                Ok(_) => {}
                Err(AddUserError::Invalid(errors)) => anyhow::bail!("demo account {email}: {errors:?}"),
                Err(AddUserError::Internal(e)) => anyhow::bail!("demo account {email}: {e}"),
            }
        }
        let scope = if comuni.is_empty() { String::new() } else { format!(" (comuni {comuni})") };
        lines.push(format!("  {:<10} {email:<34} password {pw}{scope}", role.code()));
    }
    Ok(lines)
}
