//! Accounts, their comuni and their sessions: every query of the sign-in feature.
//! Times are Unix seconds (see the migration).

use super::{
    audit::{diff, Action, NewEntry, WriteTx},
    on_db, Db,
};
use crate::auth::{password::PasswordHash, CurrentUser, Role};

/// One account as the users page and the CLI list it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UserRow {
    pub id: i64,
    pub email: String,
    pub name: String,
    pub role: Role,
    pub fiscal_code: Option<String>,
    pub enabled: bool,
    pub demo: bool,
    pub has_password: bool,
    pub created_at: i64,
    pub comuni: Vec<String>,
}

/// An account to create; `email` lower case, `fiscal_code` upper case (see `auth::users`).
#[derive(Debug)]
pub struct NewUser {
    pub email: String,
    pub name: String,
    pub role: Role,
    pub fiscal_code: Option<String>,
    pub comuni: Vec<String>,
    pub password: Option<PasswordHash>,
    pub demo: bool,
}

/// Why an account could not be created.
#[derive(Debug, thiserror::Error)]
pub enum InsertUserError {
    #[error("esiste già un utente con questo indirizzo e-mail o codice fiscale")]
    Duplicate,
    /// A demo account asked for in a database that is not (or no longer) a demo one.
    #[error("gli account dimostrativi esistono solo in un database dimostrativo")]
    NotADemo,
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

/// What sign-in needs to know about an e-mail address.
#[derive(Debug)]
pub struct LoginCandidate {
    pub id: i64,
    pub password: Option<PasswordHash>,
    pub enabled: bool,
    pub demo: bool,
}

/// A session with its person, as the request middleware checks it.
#[derive(Debug)]
pub struct SessionRow {
    pub user: CurrentUser,
    pub enabled: bool,
    pub created_at: i64,
    pub last_seen_at: i64,
    pub method: String,
    pub id_token: Option<String>,
}

/// An OIDC sign-in under way.
#[derive(Debug)]
pub struct OidcLogin {
    pub binding_hash: String,
    pub pkce_verifier: String,
    pub nonce: String,
    pub return_to: String,
    pub created_at: i64,
}

fn role_of(code: &str) -> Role {
    // The CHECK constraint admits only the three codes.
    Role::from_code(code).unwrap_or(Role::Assessore)
}

/// Which of `codes` are not in the ISTAT registry.
pub async fn unknown_comuni(db: &Db, codes: &[String]) -> Result<Vec<String>, sqlx::Error> {
    if codes.is_empty() {
        return Ok(Vec::new());
    }
    let known: Vec<String> = on_db!(db, pool => sqlx::query_scalar("SELECT codice_istat FROM comune")
        .fetch_all(pool)
        .await)?;
    Ok(codes.iter().filter(|c| !known.contains(c)).cloned().collect())
}

/// The trail entry of a change to an account (accounts belong to no comune: only the Region's
/// whole trail shows them). Password hashes never enter the trail.
fn account_entry(actor: &str, email: &str, action: Action, changes: Vec<super::audit::Change>) -> NewEntry {
    NewEntry {
        actor: actor.to_string(),
        comune: None,
        entity: "app_user",
        record: email.to_string(),
        action,
        changes,
        reason: None,
    }
}

/// Creates an account and its comuni in one transaction, with its trail entry; `actor` is who
/// asked (an e-mail, `cli` or `demo`).
/// Why a demo account was refused (an internal marker, mapped to [`InsertUserError::NotADemo`]).
const NOT_A_DEMO: &str = "demo accounts exist only in a demo database";

pub async fn insert_user(db: &Db, user: &NewUser, now: i64, actor: &str) -> Result<i64, InsertUserError> {
    let entry = account_entry(
        actor,
        &user.email,
        Action::Create,
        diff(vec![
            ("nome", None, Some(user.name.clone())),
            ("ruolo", None, Some(user.role.code().to_string())),
            ("comuni", None, Some(user.comuni.join(" ")).filter(|c| !c.is_empty())),
            ("codice_fiscale", None, user.fiscal_code.clone()),
        ]),
    );
    let result: Result<i64, sqlx::Error> = on_db!(db, pool => async {
        let mut tx = pool.begin().await?;
        tx.lock_for_write().await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO app_user (email, name, role, fiscal_code, password_hash, enabled, demo, created_at) \
             VALUES ($1, $2, $3, $4, $5, TRUE, $6, $7) RETURNING id",
        )
        .bind(&user.email)
        .bind(&user.name)
        .bind(user.role.code())
        .bind(&user.fiscal_code)
        .bind(user.password.as_ref().map(|p| p.as_stored().to_string()))
        .bind(user.demo)
        .bind(now)
        .fetch_one(&mut *tx)
        .await?;
        for codice in &user.comuni {
            sqlx::query("INSERT INTO user_comune (user_id, codice_istat) VALUES ($1, $2)")
                .bind(id)
                .bind(codice)
                .execute(&mut *tx)
                .await?;
        }
        tx.append(&entry).await?;
        if !user.demo {
            tx.mark_real(actor, "è stato creato un account non dimostrativo").await?;
        } else {
            // Checked under the write lock: a real write may have ended the demo meanwhile.
            let dataset: Option<String> = sqlx::query_scalar("SELECT value FROM app_meta WHERE key = 'dataset'")
                .fetch_optional(&mut *tx)
                .await?;
            if dataset.as_deref() != Some(super::audit::DEMO_DATASET) {
                return Err(sqlx::Error::Protocol(NOT_A_DEMO.into()));
            }
        }
        tx.commit().await?;
        Ok(id)
    }.await);
    result.map_err(|e| match &e {
        sqlx::Error::Database(d) if d.is_unique_violation() => InsertUserError::Duplicate,
        sqlx::Error::Protocol(m) if m == NOT_A_DEMO => InsertUserError::NotADemo,
        _ => InsertUserError::Db(e),
    })
}

/// Every account with its comuni: two queries, whatever the number of accounts.
pub async fn list_users(db: &Db) -> Result<Vec<UserRow>, sqlx::Error> {
    Ok(users_page(db, usize::MAX, 0).await?.0)
}

/// One page of the accounts (`limit` after `offset`, by role, name and e-mail) with their
/// comuni, and how many accounts there are: three queries, whatever the number of accounts,
/// and only the page's links to comuni are read.
pub async fn users_page(db: &Db, limit: usize, offset: usize) -> Result<(Vec<UserRow>, usize), sqlx::Error> {
    #[derive(sqlx::FromRow)]
    struct Row {
        id: i64,
        email: String,
        name: String,
        role: String,
        fiscal_code: Option<String>,
        enabled: bool,
        demo: bool,
        has_password: bool,
        created_at: i64,
    }
    let (limit, offset) = crate::paging::sql_bounds(limit, offset);
    let (total, rows, links) = on_db!(db, pool => {
        let total: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM app_user").fetch_one(pool).await?;
        let rows = sqlx::query_as::<_, Row>(
            "SELECT id, email, name, role, fiscal_code, enabled, demo, password_hash IS NOT NULL AS has_password, \
             created_at FROM app_user ORDER BY role, name, email, id LIMIT $1 OFFSET $2",
        )
        .bind(limit)
        .bind(offset)
        .fetch_all(pool)
        .await?;
        let links = sqlx::query_as::<_, (i64, String)>(
            "SELECT user_id, codice_istat FROM user_comune WHERE user_id IN \
             (SELECT id FROM app_user ORDER BY role, name, email, id LIMIT $1 OFFSET $2) \
             ORDER BY user_id, codice_istat",
        )
        .bind(limit)
        .bind(offset)
        .fetch_all(pool)
        .await?;
        (total, rows, links)
    });
    let mut comuni: std::collections::HashMap<i64, Vec<String>> = std::collections::HashMap::new();
    for (user_id, codice) in links {
        comuni.entry(user_id).or_default().push(codice);
    }
    let users = rows
        .into_iter()
        .map(|r| UserRow {
            id: r.id,
            email: r.email,
            name: r.name,
            role: role_of(&r.role),
            fiscal_code: r.fiscal_code,
            enabled: r.enabled,
            demo: r.demo,
            has_password: r.has_password,
            created_at: r.created_at,
            comuni: comuni.remove(&r.id).unwrap_or_default(),
        })
        .collect();
    Ok((users, usize::try_from(total).unwrap_or(0)))
}

/// The people registered for one comune (its referents).
pub async fn users_of_comune(db: &Db, codice_istat: &str) -> Result<Vec<(String, String)>, sqlx::Error> {
    on_db!(db, pool => sqlx::query_as::<_, (String, String)>(
        "SELECT u.name, u.email FROM app_user u JOIN user_comune uc ON uc.user_id = u.id \
         WHERE uc.codice_istat = $1 AND u.enabled ORDER BY u.name",
    )
    .bind(codice_istat)
    .fetch_all(pool)
    .await)
}

/// The account behind an e-mail address, for password sign-in.
pub async fn login_candidate(db: &Db, email: &str) -> Result<Option<LoginCandidate>, sqlx::Error> {
    let row = on_db!(db, pool => sqlx::query_as::<_, (i64, Option<String>, bool, bool)>(
        "SELECT id, password_hash, enabled, demo FROM app_user WHERE email = $1",
    )
    .bind(email)
    .fetch_optional(pool)
    .await)?;
    Ok(row.map(|(id, hash, enabled, demo)| LoginCandidate {
        id,
        password: hash.map(PasswordHash::from_stored),
        enabled,
        demo,
    }))
}

/// The account an identity provider's claims point to. A fiscal code, when the identity has one,
/// is looked up first. The e-mail address (`email`: only one the provider stated verified, see
/// `auth::oidc::verified_email`) matches only accounts registered WITHOUT a fiscal code: an
/// account that has one is reached by that fiscal code alone, so a person with another fiscal
/// code, even with the same address, is refused.
pub async fn find_for_identity(
    db: &Db,
    fiscal_code: Option<&str>,
    email: Option<&str>,
) -> Result<Option<LoginCandidate>, sqlx::Error> {
    let by = |sql: &'static str, value: String| async move {
        let row = on_db!(db, pool => sqlx::query_as::<_, (i64, bool, bool)>(sql)
            .bind(value)
            .fetch_optional(pool)
            .await)?;
        Ok::<_, sqlx::Error>(row.map(|(id, enabled, demo)| LoginCandidate {
            id,
            password: None,
            enabled,
            demo,
        }))
    };
    if let Some(cf) = fiscal_code {
        let found =
            by("SELECT id, enabled, demo FROM app_user WHERE fiscal_code = $1", cf.to_string()).await?;
        if found.is_some() {
            return Ok(found);
        }
    }
    match email {
        Some(e) => {
            by(
                "SELECT id, enabled, demo FROM app_user WHERE email = $1 AND fiscal_code IS NULL",
                e.to_string(),
            )
            .await
        }
        None => Ok(None),
    }
}

/// Replaces an account's password and, in the same transaction, ends the account's sessions:
/// all of them (a reset by the Region or the command line), or all but `keep` (the hash of the
/// session the person changed it from, which stays signed in). The trail says that the password
/// changed, never the hash. `None` if there is no such account; else the number of sessions
/// ended.
pub async fn set_password(
    db: &Db,
    email: &str,
    hash: &PasswordHash,
    actor: &str,
    keep: Option<&str>,
) -> Result<Option<u64>, sqlx::Error> {
    let entry = account_entry(
        actor,
        email,
        Action::Update,
        diff(vec![("password", None, Some("cambiata".to_string()))]),
    );
    on_db!(db, pool => async {
        let mut tx = pool.begin().await?;
        tx.lock_for_write().await?;
        let id: Option<i64> = sqlx::query_scalar("UPDATE app_user SET password_hash = $1 WHERE email = $2 RETURNING id")
            .bind(hash.as_stored())
            .bind(email)
            .fetch_optional(&mut *tx)
            .await?;
        let Some(id) = id else { return Ok(None) };
        // Token hashes are never empty: without `keep`, every session goes.
        let ended = sqlx::query("DELETE FROM user_session WHERE user_id = $1 AND token_hash <> $2")
            .bind(id)
            .bind(keep.unwrap_or(""))
            .execute(&mut *tx)
            .await?;
        tx.append(&entry).await?;
        tx.commit().await?;
        Ok(Some(ended.rows_affected()))
    }.await)
}

/// Disables an account and ends all its sessions, in one transaction. `None` if there is no
/// such account; otherwise the number of sessions ended.
pub async fn disable_user(db: &Db, email: &str, now: i64, actor: &str) -> Result<Option<u64>, sqlx::Error> {
    let entry = account_entry(
        actor,
        email,
        Action::Update,
        diff(vec![("abilitato", Some("sì".to_string()), Some("no".to_string()))]),
    );
    on_db!(db, pool => async {
        let mut tx = pool.begin().await?;
        tx.lock_for_write().await?;
        let id: Option<i64> = sqlx::query_scalar(
            "UPDATE app_user SET enabled = FALSE, disabled_at = COALESCE(disabled_at, $1) WHERE email = $2 RETURNING id",
        )
        .bind(now)
        .bind(email)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(id) = id else { return Ok(None) };
        let ended = sqlx::query("DELETE FROM user_session WHERE user_id = $1").bind(id).execute(&mut *tx).await?;
        tx.append(&entry).await?;
        tx.commit().await?;
        Ok(Some(ended.rows_affected()))
    }.await)
}

/// Starts a session.
pub async fn insert_session(
    db: &Db,
    token_hash: &str,
    user_id: i64,
    now: i64,
    method: &str,
    id_token: Option<&str>,
) -> Result<(), sqlx::Error> {
    on_db!(db, pool => sqlx::query(
        "INSERT INTO user_session (token_hash, user_id, created_at, last_seen_at, method, id_token) \
         VALUES ($1, $2, $3, $3, $4, $5)",
    )
    .bind(token_hash)
    .bind(user_id)
    .bind(now)
    .bind(method)
    .bind(id_token)
    .execute(pool)
    .await
    .map(|r| r.rows_affected()))?;
    Ok(())
}

/// A session and its person (with the person's comuni), in two queries.
pub async fn session(db: &Db, token_hash: &str) -> Result<Option<SessionRow>, sqlx::Error> {
    #[derive(sqlx::FromRow)]
    struct Row {
        created_at: i64,
        last_seen_at: i64,
        method: String,
        id_token: Option<String>,
        id: i64,
        name: String,
        email: String,
        role: String,
        enabled: bool,
        demo: bool,
    }
    let row = on_db!(db, pool => sqlx::query_as::<_, Row>(
        "SELECT s.created_at, s.last_seen_at, s.method, s.id_token, u.id, u.name, u.email, u.role, u.enabled, u.demo \
         FROM user_session s JOIN app_user u ON u.id = s.user_id WHERE s.token_hash = $1",
    )
    .bind(token_hash)
    .fetch_optional(pool)
    .await)?;
    let Some(r) = row else { return Ok(None) };
    let role = role_of(&r.role);
    let comuni = if role == Role::Comune { comuni_of(db, r.id).await? } else { Vec::new() };
    Ok(Some(SessionRow {
        user: CurrentUser { id: r.id, name: r.name, email: r.email, role, comuni, demo: r.demo },
        enabled: r.enabled,
        created_at: r.created_at,
        last_seen_at: r.last_seen_at,
        method: r.method,
        id_token: r.id_token,
    }))
}

async fn comuni_of(db: &Db, user_id: i64) -> Result<Vec<String>, sqlx::Error> {
    on_db!(db, pool => sqlx::query_scalar(
        "SELECT codice_istat FROM user_comune WHERE user_id = $1 ORDER BY codice_istat",
    )
    .bind(user_id)
    .fetch_all(pool)
    .await)
}

pub async fn touch_session(db: &Db, token_hash: &str, now: i64) -> Result<(), sqlx::Error> {
    on_db!(db, pool => sqlx::query("UPDATE user_session SET last_seen_at = $1 WHERE token_hash = $2")
        .bind(now)
        .bind(token_hash)
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(())
}

pub async fn delete_session(db: &Db, token_hash: &str) -> Result<(), sqlx::Error> {
    on_db!(db, pool => sqlx::query("DELETE FROM user_session WHERE token_hash = $1")
        .bind(token_hash)
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(())
}

/// Removes sessions past their idle or absolute limit and OIDC sign-ins older than
/// `oidc_before`; returns how many sessions went.
pub async fn sweep(
    db: &Db,
    seen_before: i64,
    created_before: i64,
    oidc_before: i64,
) -> Result<u64, sqlx::Error> {
    on_db!(db, pool => async {
        let gone = sqlx::query("DELETE FROM user_session WHERE last_seen_at < $1 OR created_at < $2")
            .bind(seen_before)
            .bind(created_before)
            .execute(pool)
            .await?;
        sqlx::query("DELETE FROM oidc_login WHERE created_at < $1").bind(oidc_before).execute(pool).await?;
        Ok(gone.rows_affected())
    }.await)
}

/// Counts one sign-in attempt against `key`'s allowance, in one statement (so that server
/// processes sharing the database share the allowance without a lock of their own): the GCRA of
/// [`crate::auth::limit::gcra`], with the stored theoretical arrival time. Returns the time
/// stored afterwards and whether the attempt was let through. Not a programme write: it does not
/// bump `data_version` (the caches stay valid).
pub async fn take_sign_in_token(
    db: &Db,
    key: &str,
    now_ms: i64,
    period_ms: i64,
    tolerance_ms: i64,
) -> Result<(i64, bool), sqlx::Error> {
    // `later` is max(stored time, now), spelled portably (SQLite's max() and PostgreSQL's
    // GREATEST() differ); every SET expression reads the row as it was before the update.
    const LATER: &str = "(CASE WHEN sign_in_limit.tat_ms > $2 THEN sign_in_limit.tat_ms ELSE $2 END)";
    let sql = format!(
        "INSERT INTO sign_in_limit (limit_key, tat_ms, allowed) VALUES ($1, $2 + $3, TRUE) \
         ON CONFLICT (limit_key) DO UPDATE SET \
           allowed = ({LATER} - $2 <= $4), \
           tat_ms = CASE WHEN {LATER} - $2 <= $4 THEN {LATER} + $3 ELSE sign_in_limit.tat_ms END \
         RETURNING tat_ms, allowed"
    );
    on_db!(db, pool => sqlx::query_as::<_, (i64, bool)>(&sql)
        .bind(key)
        .bind(now_ms)
        .bind(period_ms)
        .bind(tolerance_ms)
        .fetch_one(pool)
        .await)
}

/// Forgets the sign-in limits whose time has passed (they limit nothing any more).
pub async fn sweep_sign_in_limits(db: &Db, now_ms: i64) -> Result<u64, sqlx::Error> {
    on_db!(db, pool => sqlx::query("DELETE FROM sign_in_limit WHERE tat_ms < $1")
        .bind(now_ms)
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))
}

pub async fn insert_oidc_login(db: &Db, state_hash: &str, login: &OidcLogin) -> Result<(), sqlx::Error> {
    on_db!(db, pool => sqlx::query(
        "INSERT INTO oidc_login (state_hash, binding_hash, pkce_verifier, nonce, return_to, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(state_hash)
    .bind(&login.binding_hash)
    .bind(&login.pkce_verifier)
    .bind(&login.nonce)
    .bind(&login.return_to)
    .bind(login.created_at)
    .execute(pool)
    .await
    .map(|r| r.rows_affected()))?;
    Ok(())
}

/// Removes and returns the sign-in under way for a state, if it was started by the browser
/// holding `binding_hash`'s cookie: each state is usable once, and only by that browser (a
/// wrong or missing binding leaves the row for the right browser's callback).
pub async fn take_oidc_login(
    db: &Db,
    state_hash: &str,
    binding_hash: &str,
) -> Result<Option<OidcLogin>, sqlx::Error> {
    let row = on_db!(db, pool => sqlx::query_as::<_, (String, String, String, String, i64)>(
        "DELETE FROM oidc_login WHERE state_hash = $1 AND binding_hash = $2 \
         RETURNING binding_hash, pkce_verifier, nonce, return_to, created_at",
    )
    .bind(state_hash)
    .bind(binding_hash)
    .fetch_optional(pool)
    .await)?;
    Ok(row.map(|(binding_hash, pkce_verifier, nonce, return_to, created_at)| OidcLogin {
        binding_hash,
        pkce_verifier,
        nonce,
        return_to,
        created_at,
    }))
}
