//! `traguardi previsioni --verifica`: the forecasts of chosen days checked against the outcome on
//! the programme's last deadline (see [`super::backtest`]).

use chrono::NaiveDate;

use super::backtest::{backtest, report};
use crate::{data::Db, evaluation::Snapshot};

#[derive(clap::Args, Debug)]
pub struct ForecastArgs {
    /// Check the forecasts made on each `--al` day against the outcome on the programme's last
    /// deadline.
    #[arg(long)]
    pub verifica: bool,
    /// Days the forecasts are made on (AAAA-MM-GG or GG/MM/AAAA); default 31/10/2021 and 30/11/2021.
    #[arg(long = "al", value_parser = parse_day)]
    pub days: Vec<NaiveDate>,
    /// The programme (default the Fondo Innovazione).
    #[arg(long, default_value = crate::data::programme::FONDO_INNOVAZIONE)]
    pub programma: String,
}

fn parse_day(raw: &str) -> Result<NaiveDate, String> {
    crate::scadenze::parse_day(raw).map_err(|e| e.to_string())
}

/// Runs the command: the report's text.
pub async fn run(db: &Db, args: ForecastArgs) -> anyhow::Result<String> {
    if !args.verifica {
        anyhow::bail!("indicare --verifica (il confronto delle previsioni con l'esito)");
    }
    let days = if args.days.is_empty() {
        vec![
            NaiveDate::from_ymd_opt(2021, 10, 31).expect("day"),
            NaiveDate::from_ymd_opt(2021, 11, 30).expect("day"),
        ]
    } else {
        args.days
    };
    let programme = crate::data::programme::load(db, &args.programma)
        .await?
        .ok_or_else(|| anyhow::anyhow!("programma sconosciuto: {}", args.programma))?;
    let last_deadline = programme.steps.iter().map(|s| s.deadline).max().unwrap_or(programme.end);
    let end =
        Snapshot::build(db, &args.programma, last_deadline).await.map_err(|e| anyhow::anyhow!("{e}"))?;
    let mut runs = Vec::new();
    for day in days {
        if day >= last_deadline {
            anyhow::bail!(
                "il giorno delle previsioni deve precedere l'ultima scadenza ({})",
                crate::format::date(last_deadline)
            );
        }
        let at = Snapshot::build(db, &args.programma, day).await.map_err(|e| anyhow::anyhow!("{e}"))?;
        runs.push(backtest(&at, &end));
    }
    Ok(report(&runs))
}
