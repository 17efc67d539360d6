//! Signed checkpoints of the audit trail (`data::audit`).
//!
//! The hash chain finds an entry edited behind the application's back, but someone who can write
//! to the database can rewrite the whole trail, recompute every hash and move the head, and the
//! chain verifies again. A checkpoint is the statement "entry `seq` had hash `hash`", signed with
//! an Ed25519 key that lives in a file outside the database (`TRAGUARDI_AUDIT_KEY`, made by
//! `traguardi audit keygen FILE`): whoever rewrites the trail before the newest checkpoint cannot
//! sign a matching one, and `traguardi audit verify` names the entry that disagrees. Only the
//! public key is stored with a checkpoint; which keys to trust is the verifier's choice (the
//! configured key, or `--public-key FILE`), so a checkpoint signed with a key planted in the
//! database is refused. Exported (`traguardi audit checkpoints --export FILE`) and kept elsewhere,
//! checkpoints also survive someone rewriting the checkpoint table.

pub mod cli;
#[cfg(test)]
mod tests;

use std::{io::Write, path::Path, time::Duration};

use anyhow::Context;
use ed25519_dalek::{
    pkcs8::{
        spki::der::pem::LineEnding, DecodePrivateKey, DecodePublicKey, EncodePrivateKey, EncodePublicKey,
    },
    Signature, Signer, SigningKey, VerifyingKey,
};
use serde::Serialize;

use crate::data::{
    audit::{self, Checkpoint, Verification},
    Db,
};

/// The environment variable naming the private key file.
pub const KEY_ENV: &str = "TRAGUARDI_AUDIT_KEY";

/// The bytes a checkpoint's signature covers: a canonical JSON object with a purpose string (a
/// signature made for anything else never reads as a checkpoint), the entry and the time.
pub fn signed_message(seq: i64, hash: &str, at: &str) -> Vec<u8> {
    #[derive(Serialize)]
    struct Message<'a> {
        purpose: &'static str,
        seq: i64,
        hash: &'a str,
        at: &'a str,
    }
    let m = Message { purpose: "traguardi audit checkpoint v1", seq, hash, at };
    serde_json::to_vec(&m).expect("plain strings serialise")
}

fn to_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn from_hex<const N: usize>(text: &str) -> Option<[u8; N]> {
    let text = text.trim();
    if text.len() != 2 * N || !text.is_ascii() {
        return None;
    }
    let mut out = [0u8; N];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&text[2 * i..2 * i + 2], 16).ok()?;
    }
    Some(out)
}

/// A public key that checkpoints may be signed with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PublicKey(VerifyingKey);

impl PublicKey {
    /// The key as stored with a checkpoint (64 hex digits).
    pub fn hex(&self) -> String {
        to_hex(self.0.as_bytes())
    }

    pub fn from_hex(text: &str) -> Option<PublicKey> {
        from_hex::<32>(text).and_then(|b| VerifyingKey::from_bytes(&b).ok()).map(PublicKey)
    }

    /// Reads a public key file: the PEM `keygen` writes beside the private key (`FILE.pub`,
    /// also what `openssl pkey -pubout` prints), or the 64 hex digits of an exported checkpoint.
    /// A private key file is accepted too (its public half is taken).
    pub fn load(path: &Path) -> anyhow::Result<PublicKey> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read the public key file {}", path.display()))?;
        if let Some(key) = PublicKey::from_hex(&text) {
            return Ok(key);
        }
        if let Ok(key) = VerifyingKey::from_public_key_pem(&text) {
            return Ok(PublicKey(key));
        }
        if let Ok(key) = SigningKey::from_pkcs8_pem(&text) {
            return Ok(PublicKey(key.verifying_key()));
        }
        anyhow::bail!(
            "{} is not an Ed25519 public key (PEM, or 64 hexadecimal digits): `traguardi audit keygen FILE` \
             writes it to FILE.pub",
            path.display()
        )
    }

    /// Whether `c` carries this key and a valid signature of its entry, hash and time.
    pub fn verifies(&self, c: &Checkpoint) -> bool {
        let Some(signature) = from_hex::<64>(&c.signature) else { return false };
        PublicKey::from_hex(&c.public_key).as_ref() == Some(self)
            && self
                .0
                .verify_strict(&signed_message(c.seq, &c.hash, &c.at), &Signature::from_bytes(&signature))
                .is_ok()
    }
}

/// The private key that signs checkpoints. It lives in a file outside the database and is
/// never written to it.
pub struct AuditKey {
    signing: SigningKey,
}

impl std::fmt::Debug for AuditKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "AuditKey(public {})", self.public().hex())
    }
}

impl AuditKey {
    /// Reads the key file (PKCS#8 PEM, as `keygen` or `openssl genpkey -algorithm ed25519`
    /// write it). Start-up stops here when the file is missing, unreadable or not such a key.
    pub fn load(path: &Path) -> anyhow::Result<AuditKey> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read the audit key file {} ({KEY_ENV})", path.display()))?;
        let signing = SigningKey::from_pkcs8_pem(&text).map_err(|e| {
            anyhow::anyhow!(
                "the audit key file {} ({KEY_ENV}) is not an Ed25519 private key in PKCS#8 PEM ({e}): \
                 `traguardi audit keygen FILE` makes one",
                path.display()
            )
        })?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            if let Ok(meta) = std::fs::metadata(path) {
                if meta.permissions().mode() & 0o077 != 0 {
                    tracing::warn!(
                        file = %path.display(),
                        "the audit key file can be read by other users: chmod 600 it"
                    );
                }
            }
        }
        Ok(AuditKey { signing })
    }

    /// A new key from the operating system's random source (through the thread-local CSPRNG).
    pub fn generate() -> AuditKey {
        let seed: [u8; 32] = rand::random();
        AuditKey { signing: SigningKey::from_bytes(&seed) }
    }

    pub fn public(&self) -> PublicKey {
        PublicKey(self.signing.verifying_key())
    }

    /// The checkpoint of entry `seq` with hash `hash`, signed now.
    pub fn sign(&self, seq: i64, hash: &str, at: String) -> Checkpoint {
        let signature = self.signing.sign(&signed_message(seq, hash, &at));
        Checkpoint {
            seq,
            hash: hash.to_string(),
            at,
            public_key: self.public().hex(),
            signature: to_hex(&signature.to_bytes()),
        }
    }
}

/// Writes a new key to `path` (mode 0600, refusing to overwrite anything) and its public key to
/// `path.pub`; returns the public key.
pub fn keygen(path: &Path) -> anyhow::Result<PublicKey> {
    let public_path = public_path(path);
    for p in [path, public_path.as_path()] {
        if p.exists() || p.symlink_metadata().is_ok() {
            anyhow::bail!("{} already exists: it is not overwritten (choose another file)", p.display());
        }
    }
    let key = AuditKey::generate();
    let pem =
        key.signing.to_pkcs8_pem(LineEnding::LF).map_err(|e| anyhow::anyhow!("encoding the key: {e}"))?;
    create_new(path, 0o600, pem.as_bytes())?;
    let public = key.public();
    let public_pem =
        public.0.to_public_key_pem(LineEnding::LF).map_err(|e| anyhow::anyhow!("encoding the key: {e}"))?;
    create_new(&public_path, 0o644, public_pem.as_bytes())?;
    Ok(public)
}

/// Where `keygen` writes the public key of `path`.
pub fn public_path(path: &Path) -> std::path::PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(".pub");
    name.into()
}

/// Creates `path` only if nothing is there (O_EXCL: not even a symbolic link is followed).
fn create_new(path: &Path, mode: u32, bytes: &[u8]) -> anyhow::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(mode);
    }
    #[cfg(not(unix))]
    let _ = mode;
    let mut file = options.open(path).with_context(|| format!("cannot create {}", path.display()))?;
    file.write_all(bytes).and_then(|_| file.sync_all()).with_context(|| format!("writing {}", path.display()))
}

/// Which keys a verification trusts.
#[derive(Clone, Debug, Default)]
pub struct Trust {
    /// Empty: none given, and each checkpoint is only checked against the key stored with it
    /// (which finds an altered checkpoint, not a forged one).
    pub keys: Vec<PublicKey>,
}

impl Trust {
    /// Why `c` cannot be trusted, completing "the checkpoint of entry N (in the database) …".
    pub fn check(&self, c: &Checkpoint) -> Result<(), String> {
        let stored = PublicKey::from_hex(&c.public_key);
        let key = match (&stored, self.keys.is_empty()) {
            (None, _) => return Err("carries no valid public key (it was altered)".to_string()),
            (Some(k), true) => k,
            (Some(k), false) => match self.keys.iter().find(|t| *t == k) {
                Some(k) => k,
                None => {
                    return Err(format!(
                    "is signed by key {}, which is not a trusted one (a checkpoint forged with another key)",
                    c.public_key
                ))
                }
            },
        };
        if key.verifies(c) {
            Ok(())
        } else {
            Err("has a signature that does not verify (the checkpoint was altered)".to_string())
        }
    }
}

/// [`audit::verify_with`] under `trust`.
pub async fn verify(db: &Db, trust: &Trust, exported: &[Checkpoint]) -> Result<Verification, sqlx::Error> {
    audit::verify_with(db, &|c| trust.check(c), exported).await
}

/// What [`checkpoint`] did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// A new checkpoint was stored.
    Written(Checkpoint),
    /// The newest checkpoint under this key is already at the end of the trail (or the trail is
    /// empty).
    Unchanged(Option<Checkpoint>),
    /// The entries since the newest checkpoint do not verify: nothing is signed.
    Refused(i64, String),
}

/// Signs the end of the trail, after checking the entries since this key's newest checkpoint
/// (an altered trail is never signed); nothing when the trail has not moved.
pub async fn checkpoint(db: &Db, key: &AuditKey) -> Result<Outcome, sqlx::Error> {
    let public = key.public();
    let trust = Trust { keys: vec![public.clone()] };
    let (v, previous) = audit::verify_since_checkpoint(db, &|c| trust.check(c), &public.hex()).await?;
    if let Some((seq, reason)) = v.broken {
        return Ok(Outcome::Refused(seq, reason));
    }
    let Some((seq, hash)) = v.last else { return Ok(Outcome::Unchanged(None)) };
    if previous.as_ref().is_some_and(|p| p.seq == seq) {
        return Ok(Outcome::Unchanged(previous));
    }
    let c = key.sign(seq, &hash, audit::now_rfc3339());
    audit::add_checkpoint(db, &c).await?;
    Ok(Outcome::Written(c))
}

/// The server's background task: a checkpoint every `every` when the trail moved (the first at
/// start-up).
pub async fn checkpoint_periodically(db: Db, key: std::sync::Arc<AuditKey>, every: Duration) {
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let outcome = checkpoint(&db, &key).await;
        // A trail that does not verify is a failed run: the operator must look.
        crate::ops::metrics::job(
            "audit_checkpoint",
            matches!(outcome, Ok(Outcome::Written(_) | Outcome::Unchanged(_))),
        );
        match outcome {
            Ok(Outcome::Written(c)) => tracing::info!(seq = c.seq, "audit trail checkpoint signed"),
            Ok(Outcome::Unchanged(_)) => {}
            Ok(Outcome::Refused(seq, reason)) => tracing::error!(
                seq,
                %reason,
                "audit trail does not verify: no checkpoint signed (run `traguardi audit verify`)"
            ),
            Err(e) => tracing::warn!(error = %e, "audit checkpoint failed"),
        }
    }
}

/// The server's settings for checkpoints.
#[derive(Clone, Debug, clap::Args)]
pub struct AuditArgs {
    /// The Ed25519 private key (PKCS#8 PEM, made by `traguardi audit keygen FILE`) that signs
    /// checkpoints of the audit trail; keep it outside the database. Unset: no checkpoints.
    #[arg(long = "audit-key", env = KEY_ENV)]
    pub audit_key: Option<std::path::PathBuf>,
    /// Minutes between the server's checkpoints (one is signed only when the trail moved).
    #[arg(long, env = "TRAGUARDI_AUDIT_CHECKPOINT_MINUTES", default_value_t = 15,
          value_parser = clap::value_parser!(u64).range(1..=10_080))]
    pub audit_checkpoint_minutes: u64,
}

impl AuditArgs {
    /// The key, read now: start-up stops when it is configured but unusable.
    pub fn load(&self) -> anyhow::Result<Option<AuditKey>> {
        self.audit_key.as_deref().map(AuditKey::load).transpose()
    }
}
