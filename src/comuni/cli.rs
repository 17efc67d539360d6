//! `traguardi export`: the exports of `/comuni` from the command line, with the same filters
//! and formats (and all blockers in the workbook: whoever runs it holds the database anyway).

use std::{
    io::Write,
    path::{Path, PathBuf},
    sync::Arc,
};

use anyhow::{bail, Context};

use super::{
    export::{export, BlockerAccess, ExportFormat},
    ComuniFilter, ListParams,
};
use crate::{
    data::{programme::FONDO_INNOVAZIONE, Db},
    evaluation::{today, Snapshot},
};

/// `traguardi export --format … [filters] [--output FILE]`.
#[derive(Debug, clap::Args)]
pub struct ExportArgs {
    /// csv (the open-data contract), csv-excel (`;`, dates dd/mm/yyyy), xlsx or json.
    #[arg(long, default_value = "csv")]
    pub format: String,
    /// Where to write: a file, or `-` for standard output. Default: the dated file name
    /// (`comuni-2026-11-27.csv`) in the current folder.
    #[arg(long, short)]
    pub output: Option<PathBuf>,
    /// Province (sigla: BA, BT, BR, FG, LE, TA).
    #[arg(long)]
    pub provincia: Option<String>,
    /// aderente, aderente_in_ritardo, non_aderente or rinuncia.
    #[arg(long)]
    pub adesione: Option<String>,
    /// Population band, `min-max` (max excluded) or `min-`.
    #[arg(long)]
    pub popolazione: Option<String>,
    /// pagopa, io or spid_cie: at least one active service on it.
    #[arg(long)]
    pub piattaforma: Option<String>,
    /// A headline figure's comuni (supportati, primo_step, tutti_obiettivi, …).
    #[arg(long)]
    pub traguardo: Option<String>,
    /// Part of the name, or the start of the ISTAT or cadastral code.
    #[arg(long)]
    pub q: Option<String>,
    /// raggiunto or non_raggiunto.
    #[arg(long)]
    pub primo_step: Option<String>,
    /// raggiunto or non_raggiunto.
    #[arg(long)]
    pub finale: Option<String>,
    /// `si`: with an objective past its deadline and never reached.
    #[arg(long)]
    pub scaduto: Option<String>,
    /// `si`: with an open blocker.
    #[arg(long)]
    pub bloccato: Option<String>,
    /// The day (`2021-02-28` or `28/02/2021`): the programme as it stood at its end, from the
    /// programme's start to today; the file name says it (`comuni-al-2021-02-28.csv`).
    #[arg(long)]
    pub al: Option<String>,
    /// Sort: nome, provincia, popolazione, adesione, primo_step or finale.
    #[arg(long)]
    pub ordina: Option<String>,
    /// asc or desc.
    #[arg(long)]
    pub verso: Option<String>,
}

/// As with no option given: the contract CSV of every comune.
impl Default for ExportArgs {
    fn default() -> Self {
        ExportArgs {
            format: "csv".into(),
            output: None,
            provincia: None,
            adesione: None,
            popolazione: None,
            piattaforma: None,
            traguardo: None,
            q: None,
            primo_step: None,
            finale: None,
            scaduto: None,
            bloccato: None,
            al: None,
            ordina: None,
            verso: None,
        }
    }
}

/// Writes the export and says what it wrote (or refuses a bad format or filter, in Italian
/// as the pages do).
pub async fn run(db: &Db, args: ExportArgs) -> anyhow::Result<String> {
    let Some(format) = ExportFormat::from_code(&args.format) else {
        bail!(
            "Formato sconosciuto: «{}». Formati disponibili: {}.",
            args.format,
            ExportFormat::ALL.map(ExportFormat::code).join(", ")
        );
    };
    let filter = ComuniFilter {
        provincia: args.provincia,
        adesione: args.adesione,
        popolazione: args.popolazione,
        piattaforma: args.piattaforma,
        traguardo: args.traguardo,
        q: args.q,
        primo_step: args.primo_step,
        finale: args.finale,
        scaduto: args.scaduto,
        bloccato: args.bloccato,
        al: args.al,
    };
    let vista = ListParams { ordina: args.ordina, verso: args.verso, pagina: None };
    // The filter (the province among the territory's) and the day asked about (`--al`), checked
    // as the pages check them.
    let day = filter.validate_in(&crate::data::registry::territory()).map_err(|e| anyhow::anyhow!("{e}"))?.al;
    let snapshot = Snapshot::build(db, FONDO_INNOVAZIONE, day.unwrap_or_else(today))
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    if let Some(day) = day {
        crate::evaluation::check_day(&snapshot.programme, day, today())
            .map_err(|e| anyhow::anyhow!("{e}"))?;
    }
    let snapshot = Arc::new(snapshot);
    let e = export(db, snapshot, &filter, &vista, format, BlockerAccess::Operator)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let target = args.output.unwrap_or_else(|| PathBuf::from(&e.filename));
    if target == Path::new("-") {
        std::io::stdout().write_all(&e.bytes).context("writing to standard output")?;
        return Ok(String::new());
    }
    std::fs::write(&target, &e.bytes).with_context(|| format!("writing {}", target.display()))?;
    Ok(format!("Esportati {} comuni in {} ({} byte).", e.comuni, target.display(), e.bytes.len()))
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::ExportArgs;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        export: ExportArgs,
    }

    #[test]
    fn the_default_is_what_the_command_line_gives_without_options() {
        let parsed = Cli::parse_from(["traguardi-export"]).export;
        let default = ExportArgs::default();
        assert_eq!(parsed.format, default.format);
        assert_eq!(parsed.output, default.output);
        assert_eq!(parsed.provincia, default.provincia);
        let parsed = Cli::parse_from(["x", "--format", "xlsx", "--provincia", "LE", "-o", "-"]).export;
        assert_eq!((parsed.format.as_str(), parsed.provincia.as_deref()), ("xlsx", Some("LE")));
        assert_eq!(parsed.output.as_deref(), Some(std::path::Path::new("-")));
    }
}
