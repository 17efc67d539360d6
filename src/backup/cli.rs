//! `traguardi backup FILE` and `traguardi restore FILE`: the operator's side of [`super`].
//! Progress (each table and file as it goes) on standard error, the outcome on standard output.

use std::path::PathBuf;

use super::{grouped, size};
use crate::{audit::cli::AuditCommand, data::Db, evidence::store::EvidenceStore};

#[derive(Debug, clap::Args)]
pub struct BackupArgs {
    /// The archive to write (a zip file). It is written to FILE.partial and renamed once
    /// complete, replacing FILE if it exists.
    pub file: PathBuf,
}

#[derive(Debug, clap::Args)]
pub struct RestoreArgs {
    /// An archive written by `traguardi backup`.
    pub file: PathBuf,
}

/// Writes the archive; the text to print.
pub async fn backup(
    db: &Db,
    store: &EvidenceStore,
    args: BackupArgs,
    progress: &mut dyn FnMut(&str),
) -> anyhow::Result<String> {
    let m = super::backup(db, store, &args.file, progress).await?;
    let head = match &m.audit.head {
        Some(head) => format!(" (head {head})"),
        None => String::new(),
    };
    Ok(format!(
        "Backup written to {}: {} tables, {} rows, {} evidence {} ({}), an audit trail of {} entries{head} and {} \
         {}; {} database at migration {}, {}.\n",
        args.file.display(),
        m.tables.len(),
        grouped(m.rows()),
        grouped(m.evidence.len() as u64),
        if m.evidence.len() == 1 { "file" } else { "files" },
        size(m.evidence_bytes().max(0) as u64),
        grouped(m.audit.entries),
        grouped(m.audit.checkpoints),
        if m.audit.checkpoints == 1 { "checkpoint" } else { "checkpoints" },
        m.source_backend,
        m.migration_version,
        m.created_at
    ))
}

/// Restores the archive, then checks the audit trail; `Ok((text, ok))`, `ok` false when the
/// restored trail does not verify (the rows are restored all the same, as they were).
pub async fn restore(
    db: &Db,
    store: &EvidenceStore,
    args: RestoreArgs,
    progress: &mut dyn FnMut(&str),
) -> anyhow::Result<(String, bool)> {
    let r = super::restore(db, store, &args.file, progress).await?;
    let m = &r.manifest;
    let mut text = format!(
        "Restored {} (a backup of {} made at {}): {} tables, {} rows into {}, {} evidence {} ({}, every SHA-256 \
         verified) into {}.\n",
        args.file.display(),
        m.source_backend,
        m.created_at,
        m.tables.len(),
        grouped(m.rows()),
        r.backend,
        grouped(m.evidence.len() as u64),
        if m.evidence.len() == 1 { "file" } else { "files" },
        size(m.evidence_bytes().max(0) as u64),
        r.store
    );
    progress("Checking the restored audit trail…");
    let (verified, ok) = crate::audit::cli::run(
        db,
        AuditCommand::Verify { key: None, public_keys: Vec::new(), checkpoints: None },
    )
    .await?;
    text.push_str(&verified);
    text.push_str(
        "The audit key is not in the archive: give the server the same TRAGUARDI_AUDIT_KEY as before, and check \
         with `traguardi audit verify --public-key FILE.pub`.\n",
    );
    Ok((text, ok))
}
