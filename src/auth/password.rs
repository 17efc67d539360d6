//! Local passwords: argon2id hashes, computed off the async runtime (a hash takes tens of
//! milliseconds of CPU: on a runtime thread it would stall every other request).

use std::sync::OnceLock;

use argon2::{
    password_hash::{rand_core::OsRng, PasswordHasher, PasswordVerifier, SaltString},
    Argon2,
};

use crate::error::AppError;

/// A stored hash (PHC string). Deliberately neither `Serialize` nor `Display`, and its `Debug`
/// hides the value: it cannot end up in a server function's answer or in a log line.
#[derive(Clone)]
pub struct PasswordHash(String);

impl std::fmt::Debug for PasswordHash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PasswordHash(***)")
    }
}

impl PasswordHash {
    /// Wraps a value read from the database.
    pub fn from_stored(phc: String) -> PasswordHash {
        PasswordHash(phc)
    }

    /// The value to store.
    pub fn as_stored(&self) -> &str {
        &self.0
    }
}

fn hash_blocking(password: &str) -> Result<String, argon2::password_hash::Error> {
    let salt = SaltString::generate(&mut OsRng);
    // Argon2::default() is argon2id v19 with the OWASP parameters (19 MiB, 2 passes, 1 lane).
    Ok(Argon2::default().hash_password(password.as_bytes(), &salt)?.to_string())
}

fn verify_blocking(password: &str, phc: &str) -> bool {
    match argon2::PasswordHash::new(phc) {
        Ok(parsed) => Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok(),
        Err(e) => {
            tracing::error!(error = %e, "stored password hash is not a valid PHC string");
            false
        }
    }
}

/// Hashes a new password on the blocking pool.
pub async fn hash(password: String) -> Result<PasswordHash, AppError> {
    tokio::task::spawn_blocking(move || hash_blocking(&password))
        .await
        .map_err(|_| AppError::INTERNAL)?
        .map(PasswordHash)
        .map_err(|e| {
            tracing::error!(error = %e, "password hashing failed");
            AppError::INTERNAL
        })
}

/// A hash of a random password, verified against when the account does not exist or has no
/// password, so that those answers take as long as a wrong password does.
fn decoy() -> &'static str {
    static DECOY: OnceLock<String> = OnceLock::new();
    DECOY.get_or_init(|| {
        let random: [u8; 16] = rand::random();
        hash_blocking(&format!("{random:?}")).expect("hashing a decoy password")
    })
}

/// Checks `password` against `stored`; with no stored hash, spends the same work on the decoy
/// and answers `false`.
pub async fn verify(password: String, stored: Option<PasswordHash>) -> bool {
    tokio::task::spawn_blocking(move || match stored {
        Some(PasswordHash(phc)) => verify_blocking(&password, &phc),
        None => {
            let _ = verify_blocking(&password, decoy());
            false
        }
    })
    .await
    .unwrap_or(false)
}
