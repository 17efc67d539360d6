//! The `traguardi` command: `serve` (the default), `demo`, `check`, `user`, `audit`, `export`,
//! `import`, `backup`, `restore`, `previsioni` and `promemoria`.

use clap::{Parser, Subcommand};
use traguardi::{
    auth::config::AuthArgs,
    data::{Db, DEFAULT_DATABASE_URL},
};

#[derive(Parser)]
#[command(
    name = "traguardi",
    version,
    about = "Traguardi: the Fondo Innovazione of Regione Puglia, comune by comune"
)]
struct Cli {
    /// Database: sqlite://PATH (created if missing) or postgres://USER@HOST/DB.
    #[arg(long, env = "DATABASE_URL", default_value = DEFAULT_DATABASE_URL, global = true)]
    database_url: String,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the web application (address from LEPTOS_SITE_ADDR, default 127.0.0.1:3000).
    Serve {
        /// Load the demo dataset first if the database holds no programme data yet, create the
        /// demo accounts and print their credentials.
        #[arg(long)]
        demo: bool,
        #[command(flatten)]
        auth: AuthArgs,
        #[command(flatten)]
        audit: traguardi::audit::AuditArgs,
        #[command(flatten)]
        smtp: traguardi::reminders::config::SmtpArgs,
    },
    /// Load the deterministic demo dataset (refuses a database that holds real data).
    Demo,
    /// Print each figure of the press release beside the one computed from the database; exit
    /// non-zero if a demo database disagrees.
    Check,
    /// Manage the people who may sign in.
    #[command(subcommand)]
    User(traguardi::auth::cli::UserCommand),
    /// The audit trail of every change, and its signed checkpoints.
    #[command(subcommand)]
    Audit(traguardi::audit::cli::AuditCommand),
    /// Export the comuni (with filters) as CSV, CSV for Excel, XLSX or JSON, as `/comuni` does.
    Export(traguardi::comuni::cli::ExportArgs),
    /// Import a CSV or XLSX of adhesions, services or count snapshots (dry run with --dry-run);
    /// exits non-zero when the file has problems.
    Import(traguardi::imports::cli::ImportArgs),
    /// Write one archive of every table's rows, the evidence files and a manifest, consistent
    /// while the server runs (the evidence store from TRAGUARDI_EVIDENCE_STORE).
    Backup(traguardi::backup::cli::BackupArgs),
    /// Restore an archive into an empty database and an empty evidence store, of either kind;
    /// exits non-zero if the restored audit trail does not verify.
    Restore(traguardi::backup::cli::RestoreArgs),
    /// The forecasts: `--verifica` checks those made on past days (`--al`, default 31/10/2021
    /// and 30/11/2021) against the outcome on the last deadline.
    Previsioni(traguardi::forecasts::cli::ForecastArgs),
    /// The day's reminders by e-mail (`--al` another day): recorded and sent once each, as the
    /// server's daily job does; `--dry-run` lists them and sends nothing.
    Promemoria(traguardi::reminders::cli::ReminderArgs),
}

/// mimalloc instead of glibc's allocator: the dashboard's pages are a quarter of a megabyte,
/// and glibc serves such blocks with mmap/munmap (and page faults) on every request; measured
/// with `make bench` (README), `/` went from 759 to 1,352 requests/s under the same load. The
/// bytes in use are counted for `/metrics` (`ops::memory::Counting`).
#[global_allocator]
static GLOBAL: traguardi::ops::memory::Counting<mimalloc::MiMalloc> =
    traguardi::ops::memory::Counting(mimalloc::MiMalloc);

/// Transparent huge pages go off and freed memory is set to go back to the system at once before
/// the runtime's threads and mimalloc's first arena exist, and the runtime's blocking pool is
/// bounded and kept (`ops::memory` says why).
fn main() -> std::process::ExitCode {
    let huge_pages_off = traguardi::ops::memory::huge_pages_off();
    let purge = traguardi::ops::memory::purge_freed_memory_at_once();
    let pool = match traguardi::ops::memory::BlockingPool::from_env() {
        Ok(pool) => pool,
        Err(e) => {
            eprintln!("traguardi: {e:#}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let runtime = match pool.runtime() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("traguardi: cannot start the async runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    runtime.block_on(start(huge_pages_off, purge))
}

async fn start(huge_pages_off: bool, purge: traguardi::ops::memory::PurgeDelay) -> std::process::ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,sqlx=warn,tower_http=info".into()),
        )
        .init();
    if !huge_pages_off {
        tracing::info!("transparent huge pages could not be turned off: resident memory may rise under load");
    }
    if let traguardi::ops::memory::PurgeDelay::Operator(ms) = purge {
        tracing::info!(
            "freed memory goes back to the system after {ms} ms (MIMALLOC_PURGE_DELAY; negative: never)"
        );
    }
    let cli = Cli::parse();
    match run(cli).await {
        Ok(code) => code,
        Err(e) => {
            eprintln!("traguardi: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<std::process::ExitCode> {
    // A key is made without a database (none is created for it).
    if let Some(Command::Audit(traguardi::audit::cli::AuditCommand::Keygen { file })) = &cli.command {
        print!("{}", traguardi::audit::cli::keygen(file)?);
        return Ok(std::process::ExitCode::SUCCESS);
    }
    // Fail fast: a bad URL or a failed migration stops here with its reason.
    let db = Db::open(&cli.database_url).await?;
    let command = match cli.command {
        Some(c) => c,
        None => Cli::parse_from(["traguardi", "serve"]).command.expect("serve parses"),
    };
    match command {
        Command::Serve { demo, auth, audit, smtp } => {
            if demo {
                if !traguardi::demo::has_programme_data(&db).await? {
                    let report = traguardi::demo::load(&db).await?;
                    println!("{report}");
                }
                if db.is_demo().await? {
                    let lines = traguardi::auth::users::ensure_demo_accounts(&db).await?;
                    println!("Demo accounts (they work only on this demo database):");
                    for line in lines {
                        println!("{line}");
                    }
                }
            }
            traguardi::server::serve(db, auth, audit, smtp).await?;
            Ok(std::process::ExitCode::SUCCESS)
        }
        Command::Demo => {
            let report = traguardi::demo::load(&db).await?;
            println!("{report}");
            Ok(std::process::ExitCode::SUCCESS)
        }
        Command::Check => {
            let outcome = traguardi::check::run(&db).await?;
            print!("{}", outcome.report);
            Ok(if outcome.failed { std::process::ExitCode::FAILURE } else { std::process::ExitCode::SUCCESS })
        }
        Command::User(command) => traguardi::auth::cli::run(&db, command).await,
        Command::Promemoria(args) => {
            print!("{}", traguardi::reminders::cli::run(&db, args).await?);
            Ok(std::process::ExitCode::SUCCESS)
        }
        Command::Previsioni(args) => {
            print!("{}", traguardi::forecasts::cli::run(&db, args).await?);
            Ok(std::process::ExitCode::SUCCESS)
        }
        Command::Export(args) => {
            let said = traguardi::comuni::cli::run(&db, args).await?;
            if !said.is_empty() {
                eprintln!("{said}");
            }
            Ok(std::process::ExitCode::SUCCESS)
        }
        Command::Import(args) => {
            let (text, clean) = traguardi::imports::cli::run(&db, args).await?;
            print!("{text}");
            Ok(if clean { std::process::ExitCode::SUCCESS } else { std::process::ExitCode::FAILURE })
        }
        Command::Backup(args) => {
            let store = traguardi::evidence::store::EvidenceStore::from_env()?;
            let text =
                traguardi::backup::cli::backup(&db, &store, args, &mut |line| eprintln!("{line}")).await?;
            print!("{text}");
            Ok(std::process::ExitCode::SUCCESS)
        }
        Command::Restore(args) => {
            let store = traguardi::evidence::store::EvidenceStore::from_env()?;
            let (text, ok) =
                traguardi::backup::cli::restore(&db, &store, args, &mut |line| eprintln!("{line}")).await?;
            print!("{text}");
            Ok(if ok { std::process::ExitCode::SUCCESS } else { std::process::ExitCode::FAILURE })
        }
        Command::Audit(command) => {
            let (text, ok) = traguardi::audit::cli::run(&db, command).await?;
            print!("{text}");
            Ok(if ok { std::process::ExitCode::SUCCESS } else { std::process::ExitCode::FAILURE })
        }
    }
}
