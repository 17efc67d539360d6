//! `traguardi import FILE [--dry-run]`: the import page from the command line. The same dry run
//! prints its report; without `--dry-run` a clean file is kept as a batch and applied in one
//! transaction, the trail's actor being `--actor` (default `cli`).

use std::path::PathBuf;

use anyhow::{bail, Context};

use super::{plan::Plan, server::ssr::DryRunError, Report};
use crate::{
    data::{imports, programme::FONDO_INNOVAZIONE, Db},
    evaluation::{today, Snapshot},
};

#[derive(Debug, clap::Args)]
pub struct ImportArgs {
    /// A CSV or XLSX file of adhesions, services or count snapshots (the templates of
    /// /importazioni).
    pub file: PathBuf,
    /// Only say what would change and every problem; change nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Who the audit trail names for the changes.
    #[arg(long, default_value = "cli")]
    pub actor: String,
}

/// The report in words, as the page shows it.
pub fn describe(report: &Report) -> String {
    let mut out = String::new();
    for t in &report.tables {
        let table =
            Report { added: t.added, changed: t.changed, unchanged: t.unchanged, ..Report::default() };
        let rows = if t.rows == 1 { "1 riga".to_string() } else { format!("{} righe", t.rows) };
        out.push_str(&format!("«{}» ({}): {rows} — {}\n", t.name, t.kind.spec().label, table.totals()));
    }
    for n in &report.notices {
        out.push_str(&format!("Avviso: {n}\n"));
    }
    for p in &report.problems {
        let column = if p.column.is_empty() { String::new() } else { format!(", colonna {}", p.column) };
        out.push_str(&format!("Problema — «{}», riga {}{column}: {}\n", p.table, p.row, p.message));
    }
    for c in &report.changes {
        out.push_str(&format!("{} — riga {}: {} ({})\n", c.outcome.label(), c.row, c.record, c.details));
    }
    out.push_str(&format!("Totale: {}.\n", report.totals()));
    out
}

/// Runs the import; `Ok((text, clean))`, `clean` false when the file has problems.
pub async fn run(db: &Db, args: ImportArgs) -> anyhow::Result<(String, bool)> {
    let bytes = std::fs::read(&args.file).with_context(|| format!("reading {}", args.file.display()))?;
    let name = args.file.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let snapshot =
        Snapshot::build(db, FONDO_INNOVAZIONE, today()).await.map_err(|e| anyhow::anyhow!("{e}"))?;
    let plan: Plan = match super::server::ssr::dry_run(db, &snapshot.programme, &name, &bytes).await {
        Ok(p) => p,
        Err(DryRunError::Unreadable(m)) => bail!("{m}"),
        Err(DryRunError::Busy) => bail!("{}", super::table::BUSY),
        Err(DryRunError::App(e)) => bail!("{e}"),
    };
    let mut text = describe(&plan.report);
    if !plan.report.can_apply() {
        text.push_str("Il file non è stato importato: correggere i problemi elencati.\n");
        return Ok((text, false));
    }
    if args.dry_run {
        text.push_str(
            "Prova: nessun dato è stato modificato (senza --dry-run le modifiche sono applicate).\n",
        );
        return Ok((text, true));
    }
    let id = imports::store(db, &args.actor, &name, &bytes).await?;
    imports::apply(db, &args.actor, &snapshot.programme.code, id, &plan.ops, &plan.report)
        .await
        .map_err(|e| anyhow::anyhow!("the import was not applied: {e}"))?;
    let n = plan.ops.len();
    let what = if n == 1 { "1 modifica registrata".to_string() } else { format!("{n} modifiche registrate") };
    text.push_str(&format!("Importazione n. {id} applicata: {what}.\n"));
    Ok((text, true))
}
