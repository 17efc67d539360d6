//! `traguardi audit …`: verify the trail (and its checkpoints), sign a checkpoint, export the
//! checkpoints, make a key.

use std::{io::Write, path::PathBuf};

use anyhow::Context;

use super::{AuditKey, Outcome, PublicKey, Trust, KEY_ENV};
use crate::data::{audit, audit::Checkpoint, Db};

#[derive(Debug, clap::Subcommand)]
pub enum AuditCommand {
    /// Check the whole hash chain and every signed checkpoint; name the first entry that does
    /// not hold and exit non-zero if any.
    Verify {
        /// The private key file: its public half is trusted.
        #[arg(long, env = KEY_ENV)]
        key: Option<PathBuf>,
        /// A public key to trust (the FILE.pub `keygen` wrote, or 64 hex digits); repeat for
        /// keys used before a change of key.
        #[arg(long = "public-key")]
        public_keys: Vec<PathBuf>,
        /// Checkpoints exported earlier (`audit checkpoints --export`) and kept elsewhere: the
        /// trail must match them too, even if the checkpoint table was rewritten.
        #[arg(long)]
        checkpoints: Option<PathBuf>,
    },
    /// Sign a checkpoint of the trail's last entry now (after checking the entries since the
    /// previous one).
    Checkpoint {
        /// The private key file.
        #[arg(long, env = KEY_ENV)]
        key: PathBuf,
    },
    /// Write every checkpoint as JSON lines (seq, hash, at, public_key, signature), to keep
    /// outside the database.
    Checkpoints {
        /// The file to write (replaced); standard output without it.
        #[arg(long)]
        export: Option<PathBuf>,
    },
    /// Make a new signing key: FILE (private, mode 0600) and FILE.pub; never overwrites.
    Keygen { file: PathBuf },
}

/// Runs the command; `Ok((text, ok))`, `ok` false when the trail does not verify or nothing
/// could be signed.
pub async fn run(db: &Db, command: AuditCommand) -> anyhow::Result<(String, bool)> {
    match command {
        AuditCommand::Verify { key, public_keys, checkpoints } => {
            verify(db, key, public_keys, checkpoints).await
        }
        AuditCommand::Checkpoint { key } => {
            let key = AuditKey::load(&key)?;
            Ok(match super::checkpoint(db, &key).await? {
                Outcome::Written(c) => {
                    (format!("Checkpoint signed: entry {} ({}) at {}.\n", c.seq, c.hash, c.at), true)
                }
                Outcome::Unchanged(Some(c)) => (
                    format!("Nothing to sign: entry {} is already checkpointed (at {}).\n", c.seq, c.at),
                    true,
                ),
                Outcome::Unchanged(None) => {
                    ("Nothing to sign: the audit trail is empty.\n".to_string(), true)
                }
                Outcome::Refused(seq, reason) => (
                    format!("No checkpoint signed: the audit trail is BROKEN at entry {seq}: {reason}.\n"),
                    false,
                ),
            })
        }
        AuditCommand::Checkpoints { export } => {
            let all = audit::checkpoints(db).await?;
            let mut lines = String::new();
            for c in &all {
                lines.push_str(&serde_json::to_string(c)?);
                lines.push('\n');
            }
            match export {
                None => Ok((lines, true)),
                Some(path) => {
                    let mut file = std::fs::File::create(&path)
                        .with_context(|| format!("cannot create {}", path.display()))?;
                    file.write_all(lines.as_bytes())
                        .and_then(|_| file.sync_all())
                        .with_context(|| format!("writing {}", path.display()))?;
                    let n = match all.len() {
                        1 => "1 checkpoint".to_string(),
                        n => format!("{n} checkpoints"),
                    };
                    Ok((format!("{n} written to {}.\n", path.display()), true))
                }
            }
        }
        AuditCommand::Keygen { file } => Ok((keygen(&file)?, true)),
    }
}

/// `audit keygen FILE` (needs no database).
pub fn keygen(file: &std::path::Path) -> anyhow::Result<String> {
    let public = super::keygen(file)?;
    Ok(format!(
        "Key written to {} (keep it outside the database and its backups; {KEY_ENV}={} for the server), \
         public key to {}: {}\n",
        file.display(),
        file.display(),
        super::public_path(file).display(),
        public.hex()
    ))
}

/// Reads an export of `audit checkpoints`, one JSON object a line.
pub fn read_export(path: &std::path::Path) -> anyhow::Result<Vec<Checkpoint>> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the exported checkpoints {}", path.display()))?;
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| {
            serde_json::from_str(l)
                .with_context(|| format!("{} line {}: not an exported checkpoint", path.display(), i + 1))
        })
        .collect()
}

async fn verify(
    db: &Db,
    key: Option<PathBuf>,
    public_keys: Vec<PathBuf>,
    checkpoints: Option<PathBuf>,
) -> anyhow::Result<(String, bool)> {
    let mut trust = Trust::default();
    if let Some(path) = key {
        trust.keys.push(AuditKey::load(&path)?.public());
    }
    for path in public_keys {
        trust.keys.push(PublicKey::load(&path)?);
    }
    let exported = match &checkpoints {
        Some(path) => read_export(path)?,
        None => Vec::new(),
    };
    let v = super::verify(db, &trust, &exported).await?;
    Ok(match v.broken {
        None => {
            let mut text = format!("Audit trail intact: {} verified.\n", entries(v.entries));
            let (signed, agree) = match v.checkpoints {
                1 => ("1 checkpoint".to_string(), "matches"),
                n => (format!("{n} checkpoints"), "match"),
            };
            if trust.keys.is_empty() {
                if v.checkpoints > 0 {
                    text.push_str(&format!(
                        "{signed} {agree}, checked only against the keys stored with them: give --public-key or \
                         {KEY_ENV} to trust them.\n"
                    ));
                }
            } else {
                let keys: Vec<String> = trust.keys.iter().map(|k| k.hex()).collect();
                text.push_str(&format!("{signed} signed by {} {agree}.\n", keys.join(", ")));
            }
            if let Some(path) = &checkpoints {
                text.push_str(&format!("The exported checkpoints of {} match.\n", path.display()));
            }
            (text, true)
        }
        Some((seq, reason)) => (
            format!(
                "Audit trail BROKEN at entry {seq}: {reason} ({} verified before it).\n",
                entries(v.entries)
            ),
            false,
        ),
    })
}

/// "1 entry", "12 entries".
fn entries(n: impl Into<i64>) -> String {
    match n.into() {
        1 => "1 entry".to_string(),
        n => format!("{n} entries"),
    }
}
