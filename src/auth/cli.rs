//! `traguardi user …`: accounts from the command line (the first `regione` account is made here).

use std::{io::BufRead, process::ExitCode};

use super::{password, users, users::AddUserError, UserForm};
use crate::data::{accounts, Db};

#[derive(Debug, clap::Subcommand)]
pub enum UserCommand {
    /// Register a person, who then signs in through the identity service (matched on the fiscal
    /// code; on the e-mail only for a person registered without one, and only when the provider
    /// states the address verified) or with a password.
    Add {
        #[arg(long)]
        email: String,
        /// First name and surname.
        #[arg(long)]
        name: String,
        /// regione, comune or assessore.
        #[arg(long)]
        role: String,
        /// ISTAT code of a comune the person operates for (role comune; repeat for several).
        #[arg(long = "comune")]
        comuni: Vec<String>,
        /// Italian fiscal code, matched against the identity service's claim.
        #[arg(long)]
        fiscal_code: Option<String>,
        /// Read an initial password from standard input (one line).
        #[arg(long)]
        password_stdin: bool,
        /// A demo account: refused unless the database is a demo one, removed when it stops
        /// being one. Without this flag the account is real and ends a demo database.
        #[arg(long)]
        demo: bool,
    },
    /// List every account.
    List,
    /// Disable an account and end all its sessions at once.
    Disable {
        #[arg(long)]
        email: String,
    },
    /// Set a new password, read from standard input (one line); every session of the person ends.
    Password {
        #[arg(long)]
        email: String,
    },
}

fn read_password() -> anyhow::Result<String> {
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    Ok(line.trim_end_matches(['\r', '\n']).to_string())
}

pub async fn run(db: &Db, command: UserCommand) -> anyhow::Result<ExitCode> {
    match command {
        UserCommand::Add { email, name, role, comuni, fiscal_code, password_stdin, demo } => {
            let form = UserForm {
                email,
                name,
                role,
                fiscal_code: fiscal_code.unwrap_or_default(),
                comuni: comuni.join(","),
                password: if password_stdin { read_password()? } else { String::new() },
            };
            match users::add(db, &form, demo, "cli").await {
                Ok(id) => {
                    println!("user {} created (id {id})", form.email.trim().to_lowercase());
                    Ok(ExitCode::SUCCESS)
                }
                Err(AddUserError::Invalid(errors)) => {
                    for e in errors {
                        eprintln!("{}: {}", e.field, e.message);
                    }
                    Ok(ExitCode::FAILURE)
                }
                Err(AddUserError::Internal(e)) => anyhow::bail!("{e}"),
            }
        }
        UserCommand::List => {
            for u in accounts::list_users(db).await? {
                println!(
                    "{:<34} {:<10} {:<9} {}{}{}",
                    u.email,
                    u.role.code(),
                    if u.enabled { "active" } else { "disabled" },
                    u.name,
                    if u.comuni.is_empty() { String::new() } else { format!(" [{}]", u.comuni.join(" ")) },
                    if u.demo { " (demo)" } else { "" },
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        UserCommand::Disable { email } => {
            let email = email.trim().to_lowercase();
            match accounts::disable_user(db, &email, super::session::now(), "cli").await? {
                Some(ended) => {
                    println!("user {email} disabled; {ended} session(s) ended");
                    Ok(ExitCode::SUCCESS)
                }
                None => {
                    eprintln!("no user with e-mail {email}");
                    Ok(ExitCode::FAILURE)
                }
            }
        }
        UserCommand::Password { email } => {
            let new = read_password()?;
            match reset_password(db, &email, new).await? {
                Ok(ended) => {
                    println!("password of {} set; {ended} session(s) ended", email.trim().to_lowercase());
                    Ok(ExitCode::SUCCESS)
                }
                Err(message) => {
                    eprintln!("{message}");
                    Ok(ExitCode::FAILURE)
                }
            }
        }
    }
}

/// `traguardi user password`: sets a new password and ends every session of the person at once
/// (whoever knew the old one is signed out too). `Ok(Err(message))` when the password breaks the
/// rule or there is no such account; else the number of sessions ended.
pub async fn reset_password(db: &Db, email: &str, new: String) -> anyhow::Result<Result<u64, String>> {
    let email = email.trim().to_lowercase();
    if let Err(m) = super::check_password_rule(&new, &email) {
        return Ok(Err(m));
    }
    let hash = password::hash(new).await.map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(accounts::set_password(db, &email, &hash, "cli", None)
        .await?
        .ok_or_else(|| format!("no user with e-mail {email}")))
}
