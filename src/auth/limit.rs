//! Sign-in attempts (the password form and the identity-service button) limited per client
//! address, and password attempts per account *and* address too (the GCRA, [`gcra`]): a
//! burst of attempts, then one more every period. Every attempt counts, whether the account
//! exists or not, so the limit itself tells nothing about which accounts exist.
//!
//! Why per account and address, not per account alone: a limit on the account alone lets anyone
//! who knows an e-mail address spend its attempts and keep its owner out. Keyed by the pair, a
//! stranger's failures stop the stranger (on that account, and on every account through the
//! address limit) while the owner, from any other address, signs in as usual. What is given up:
//! guesses spread over many addresses are slowed per address, not per account; argon2's cost per
//! attempt and the password rules bound them instead.
//!
//! The counters live in the database (`sign_in_limit`, one row per key, updated in one
//! statement), so that several server processes behind a balancer share them: an attacker who
//! reaches N processes gets the allowance once, not N times. Each key is stored as a SHA-256
//! digest, never as the e-mail or IP address itself. The rule ([`gcra`]) is plain Rust and the
//! statement in `data::accounts::take_sign_in_token` is the same rule, checked against it on
//! both backends (`integration::auth`).

use std::{net::IpAddr, time::Duration};

use sha2::{Digest, Sha256};

use super::config::AuthConfig;
use crate::data::{accounts, Db};

/// A GCRA allowance: one attempt every `period_ms`, up to `burst` at once.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Allowance {
    pub period_ms: i64,
    pub burst: i64,
}

impl Allowance {
    fn new(period: Duration, burst: u32) -> Allowance {
        Allowance { period_ms: (period.as_millis() as i64).max(1), burst: i64::from(burst.max(1)) }
    }

    /// How far ahead of now the theoretical arrival time may be for an attempt to pass.
    pub fn tolerance_ms(self) -> i64 {
        self.period_ms * (self.burst - 1)
    }
}

/// The generic cell rate algorithm over a stored theoretical arrival time `tat_ms` (none: never
/// seen): an attempt at `now_ms` passes when the time is at most the tolerance ahead of now, and
/// then moves it one period on from max(time, now). Returns the time to store and, for a refused
/// attempt, how long to wait until one would pass.
pub fn gcra(tat_ms: Option<i64>, now_ms: i64, allowance: Allowance) -> (i64, Option<Duration>) {
    let later = tat_ms.map_or(now_ms, |t| t.max(now_ms));
    if later - now_ms <= allowance.tolerance_ms() {
        (later + allowance.period_ms, None)
    } else {
        let tat = tat_ms.unwrap_or(now_ms);
        (tat, Some(wait_after(tat, now_ms, allowance)))
    }
}

/// How long a refused attempt waits: until the stored time is within the tolerance of now.
fn wait_after(tat_ms: i64, now_ms: i64, allowance: Allowance) -> Duration {
    Duration::from_millis((tat_ms - allowance.tolerance_ms() - now_ms).max(1) as u64)
}

/// The sign-in limits: per client address, and per account and address.
#[derive(Debug)]
pub struct LoginLimiter {
    by_address: Allowance,
    by_account: Allowance,
}

impl LoginLimiter {
    pub fn new(config: &AuthConfig) -> LoginLimiter {
        LoginLimiter {
            by_address: Allowance::new(config.limit_period, config.limit_per_ip),
            by_account: Allowance::new(config.limit_period, config.limit_per_account),
        }
    }

    /// Counts one attempt; `Ok(Err(wait))` when the address, or this account from this
    /// address, must wait. Both allowances are spent, as each is its own limit.
    pub async fn attempt(
        &self,
        db: &Db,
        address: IpAddr,
        account: &str,
    ) -> Result<Result<(), Duration>, sqlx::Error> {
        let now = now_ms();
        let a = take(db, &address_key(address), now, self.by_address).await?;
        let b = take(db, &account_key(account, address), now, self.by_account).await?;
        Ok(match a.into_iter().chain(b).max() {
            Some(wait) => Err(wait),
            None => Ok(()),
        })
    }

    /// Counts one attempt that names no account (pressing the identity-service button): the
    /// same per-address allowance as the password form, shared with it, so that neither can be
    /// used to flood the other's way in or the table of sign-ins under way.
    pub async fn attempt_from(&self, db: &Db, address: IpAddr) -> Result<Result<(), Duration>, sqlx::Error> {
        Ok(match take(db, &address_key(address), now_ms(), self.by_address).await? {
            Some(wait) => Err(wait),
            None => Ok(()),
        })
    }

    /// Forgets keys that are no longer limited (called from the periodic sweep).
    pub async fn forget_idle(&self, db: &Db) -> Result<u64, sqlx::Error> {
        accounts::sweep_sign_in_limits(db, now_ms()).await
    }
}

/// One attempt against `key`: `Some(wait)` when refused.
async fn take(db: &Db, key: &str, now: i64, allowance: Allowance) -> Result<Option<Duration>, sqlx::Error> {
    let (tat, allowed) =
        accounts::take_sign_in_token(db, key, now, allowance.period_ms, allowance.tolerance_ms()).await?;
    Ok((!allowed).then(|| wait_after(tat, now, allowance)))
}

/// The stored key of a client address.
pub fn address_key(address: IpAddr) -> String {
    digest(&format!("indirizzo\0{address}"))
}

/// The stored key of an account tried from an address.
pub fn account_key(account: &str, address: IpAddr) -> String {
    digest(&format!("account\0{account}\0{address}"))
}

fn digest(text: &str) -> String {
    format!("{:x}", Sha256::digest(text.as_bytes()))
}

/// Now in Unix milliseconds: the clock every server process shares.
fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// The Italian message for a refused attempt: when to try again, rounded up.
pub fn retry_message(wait: Duration) -> String {
    let when = wait_in_words(wait);
    format!("Troppi tentativi di accesso. Per proteggere l'account l'accesso è sospeso: riprova tra {when}.")
}

/// A wait in Italian words, rounded up: "1 secondo", "45 secondi", "2 minuti".
pub fn wait_in_words(wait: Duration) -> String {
    let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    if secs <= 60 {
        let s = secs.max(1);
        if s == 1 {
            "1 secondo".to_string()
        } else {
            format!("{s} secondi")
        }
    } else {
        let m = secs.div_ceil(60);
        if m == 1 {
            "1 minuto".to_string()
        } else {
            format!("{m} minuti")
        }
    }
}

/// Seconds for a `Retry-After` header.
pub fn retry_after_secs(wait: Duration) -> u64 {
    wait.as_secs() + u64::from(wait.subsec_nanos() > 0)
}
