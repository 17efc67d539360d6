//! `traguardi promemoria [--dry-run] [--al DAY]`: the day's reminders, for cron or a test.
//! With `--dry-run` it lists them and writes nothing; otherwise it records and sends them like
//! the server's daily job (and sends what waits in the queue), so running it next to a server,
//! or twice, sends nothing twice.

use chrono::NaiveDate;

use super::{config::SmtpArgs, job, plan::it_date};
use crate::data::Db;

#[derive(clap::Args, Debug)]
pub struct ReminderArgs {
    /// List the reminders that would go out, without recording or sending anything.
    #[arg(long)]
    pub dry_run: bool,
    /// The day (AAAA-MM-GG or GG/MM/AAAA); default today.
    #[arg(long = "al", value_parser = parse_day)]
    pub day: Option<NaiveDate>,
    /// The programme (default the Fondo Innovazione).
    #[arg(long, default_value = crate::data::programme::FONDO_INNOVAZIONE)]
    pub programma: String,
    /// The address people use to reach Traguardi: the links in the messages.
    #[arg(long, env = "TRAGUARDI_PUBLIC_URL", default_value = "http://127.0.0.1:3000")]
    pub public_url: String,
    #[command(flatten)]
    pub smtp: SmtpArgs,
}

fn parse_day(raw: &str) -> Result<NaiveDate, String> {
    crate::scadenze::parse_day(raw).map_err(|e| e.to_string())
}

/// Runs the command: its report.
pub async fn run(db: &Db, args: ReminderArgs) -> anyhow::Result<String> {
    let day = args.day.unwrap_or_else(crate::evaluation::today);
    let public_url = args.public_url.trim_end_matches('/').to_string();
    if args.dry_run {
        let job::DayPlan { messages: planned, unaddressed } =
            job::plan_day_full(db, &args.programma, &public_url, day)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
        let mut out = format!(
            "Promemoria del {} (prova: nulla è registrato né inviato): {}\n",
            it_date(day),
            planned.len()
        );
        for p in planned {
            out.push_str(&format!(
                "- {} | {} | {} | {}\n  chiave {}\n",
                p.kind.code(),
                p.recipient,
                p.comune.as_deref().unwrap_or("—"),
                p.subject,
                p.key
            ));
        }
        out.push_str(&format!(
            "Comuni con una scadenza da ricordare ma nessun referente a cui scrivere: {}\n",
            unaddressed.len()
        ));
        for line in unaddressed {
            out.push_str(&format!("* {line}\n"));
        }
        return Ok(out);
    }
    let mailer = args.smtp.validate()?.ok_or_else(|| {
        anyhow::anyhow!(
            "nessun server SMTP configurato (TRAGUARDI_SMTP_URL e TRAGUARDI_SMTP_FROM): usare --dry-run per l'elenco"
        )
    })?;
    let run = job::run_day(db, &mailer, &args.programma, &public_url, day)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let d = &run.delivery;
    Ok(format!(
        "Promemoria del {}: {} previsti, {} registrati ora (gli altri lo erano già).\n\
         Invio tramite {}: {} inviati, {} da ritentare, {} non inviati, {} interrotti in un invio precedente.\n",
        it_date(day),
        run.planned,
        run.recorded,
        mailer.description,
        d.sent,
        d.retrying,
        d.failed,
        d.interrupted
    ))
}
