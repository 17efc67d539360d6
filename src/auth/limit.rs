//! Sign-in attempts (the password form and the identity-service button) limited per client
//! address, and password attempts per account *and* address too (GCRA from `governor`): a
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
//! The counters live in this process: with several server processes behind a balancer each
//! counts its own (the limits then multiply by the number of processes).

use std::{net::IpAddr, num::NonZeroU32, time::Duration};

use governor::{clock::Clock, DefaultKeyedRateLimiter, Quota, RateLimiter};

use super::config::AuthConfig;

#[derive(Debug)]
pub struct LoginLimiter {
    by_address: DefaultKeyedRateLimiter<IpAddr>,
    by_account: DefaultKeyedRateLimiter<(String, IpAddr)>,
}

impl LoginLimiter {
    pub fn new(config: &AuthConfig) -> LoginLimiter {
        let quota = |burst: u32| {
            Quota::with_period(config.limit_period)
                .expect("a positive period (checked at start-up)")
                .allow_burst(NonZeroU32::new(burst).expect("a positive limit (checked at start-up)"))
        };
        LoginLimiter {
            by_address: RateLimiter::keyed(quota(config.limit_per_ip)),
            by_account: RateLimiter::keyed(quota(config.limit_per_account)),
        }
    }

    /// Counts one attempt; `Err(wait)` when the address, or this account from this address,
    /// must wait.
    pub fn attempt(&self, address: IpAddr, account: &str) -> Result<(), Duration> {
        let clock = governor::clock::DefaultClock::default();
        let address_key = address;
        let address = self.by_address.check_key(&address);
        let account = self.by_account.check_key(&(account.to_string(), address_key));
        let wait = [address.err(), account.err()]
            .into_iter()
            .flatten()
            .map(|not_until| not_until.wait_time_from(clock.now()))
            .max();
        match wait {
            Some(w) => Err(w),
            None => Ok(()),
        }
    }

    /// Counts one attempt that names no account (pressing the identity-service button): the
    /// same per-address allowance as the password form, shared with it, so that neither can be
    /// used to flood the other's way in or the table of sign-ins under way.
    pub fn attempt_from(&self, address: IpAddr) -> Result<(), Duration> {
        let clock = governor::clock::DefaultClock::default();
        self.by_address.check_key(&address).map_err(|not_until| not_until.wait_time_from(clock.now()))
    }

    /// Forgets keys that are no longer limited (called from the periodic sweep).
    pub fn forget_idle(&self) {
        self.by_address.retain_recent();
        self.by_account.retain_recent();
    }
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
