//! The SMTP settings, from the command line or the environment, checked at start-up like the
//! other settings: none set means no reminders (said once in the log); a bad value stops the start.

use std::time::Duration;

use anyhow::{bail, Context};
use lettre::{
    message::{header::ContentType, Mailbox},
    AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor,
};

/// Settings as typed (`traguardi serve --help` lists them with their variables).
#[derive(Clone, Debug, Default, clap::Args)]
pub struct SmtpArgs {
    /// The SMTP server of the reminders: `smtp://host:port` (no encryption, e.g. a relay on the
    /// same host), `smtp://host:587?tls=required` (STARTTLS), `smtps://host:465` (TLS from the
    /// start); `user:password@` before the host to authenticate. Unset: no reminders are sent.
    #[arg(long, env = "TRAGUARDI_SMTP_URL", hide_env_values = true)]
    pub smtp_url: Option<String>,
    /// The sender of the reminders, e.g. `Traguardi <traguardi@regione.puglia.it>`.
    #[arg(long, env = "TRAGUARDI_SMTP_FROM")]
    pub smtp_from: Option<String>,
}

/// A checked SMTP configuration.
#[derive(Clone)]
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    pub from: Mailbox,
    /// The server without credentials, for the log and the Region's page.
    pub description: String,
}

impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mailer")
            .field("server", &self.description)
            .field("from", &self.from.to_string())
            .finish()
    }
}

/// Why one message was not sent.
#[derive(Debug)]
pub struct SendError {
    /// The server refused it for good (a 5xx answer): retrying would not help.
    pub permanent: bool,
    pub message: String,
}

impl SmtpArgs {
    /// `None` when neither setting is given; an error for half a configuration or a bad value.
    pub fn validate(&self) -> anyhow::Result<Option<Mailer>> {
        let url = self.smtp_url.as_deref().map(str::trim).filter(|s| !s.is_empty());
        let from = self.smtp_from.as_deref().map(str::trim).filter(|s| !s.is_empty());
        match (url, from) {
            (None, None) => Ok(None),
            (Some(url), Some(from)) => Mailer::new(url, from).map(Some),
            _ => bail!("set both TRAGUARDI_SMTP_URL and TRAGUARDI_SMTP_FROM, or neither"),
        }
    }
}

impl Mailer {
    pub fn new(url: &str, from: &str) -> anyhow::Result<Mailer> {
        let checked = url::Url::parse(url).with_context(|| "TRAGUARDI_SMTP_URL is not a URL".to_string())?;
        if !matches!(checked.scheme(), "smtp" | "smtps") {
            bail!("TRAGUARDI_SMTP_URL must start with smtp:// or smtps:// (got {}://)", checked.scheme());
        }
        let description = format!(
            "{}://{}:{}{}",
            checked.scheme(),
            checked.host_str().unwrap_or_default(),
            checked.port().map(|p| p.to_string()).unwrap_or_else(|| "predefinita".into()),
            checked.query().map(|q| format!("?{q}")).unwrap_or_default()
        );
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
            .map_err(|e| anyhow::anyhow!("TRAGUARDI_SMTP_URL is not usable ({description}): {e}"))?
            .timeout(Some(Duration::from_secs(30)))
            .build();
        let from: Mailbox = from
            .parse()
            .map_err(|e| anyhow::anyhow!("TRAGUARDI_SMTP_FROM is not an e-mail address ({from}): {e}"))?;
        Ok(Mailer { transport, from, description })
    }

    /// Sends one plain-text message (UTF-8) to `to`, with its unique key in a header so the
    /// receiving side (and the tests) can tell copies apart.
    pub async fn send(&self, to: &str, subject: &str, body: &str, key: &str) -> Result<(), SendError> {
        let to: Mailbox = to
            .parse()
            .map_err(|e| SendError { permanent: true, message: format!("indirizzo non valido: {e}") })?;
        let message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(subject)
            .raw_header(lettre::message::header::HeaderValue::new(
                lettre::message::header::HeaderName::new_from_ascii_str("X-Traguardi-Chiave"),
                key.to_string(),
            ))
            .header(ContentType::TEXT_PLAIN)
            .body(body.to_string())
            .map_err(|e| SendError { permanent: true, message: format!("messaggio non valido: {e}") })?;
        match self.transport.send(message).await {
            Ok(_) => Ok(()),
            Err(e) => Err(SendError { permanent: e.is_permanent(), message: describe(&e) }),
        }
    }
}

/// An SMTP error in words, without the server's credentials.
fn describe(e: &lettre::transport::smtp::Error) -> String {
    let text = e.to_string();
    if let Some(code) = e.status() {
        format!("il server SMTP ha risposto {code}: {text}")
    } else {
        format!("server SMTP non raggiungibile o connessione interrotta: {text}")
    }
}
