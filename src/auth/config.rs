//! Sign-in settings, read from the command line or the environment and checked at start-up:
//! a half-configured identity provider or a nonsense timeout stops the server with the reason.

use std::time::Duration;

use anyhow::{bail, Context};

/// Settings as typed (`traguardi serve --help` lists them with their variables).
#[derive(Clone, Debug, clap::Args)]
pub struct AuthArgs {
    /// The address people use to reach Traguardi (e.g. https://traguardi.regione.puglia.it).
    /// Cookies are `Secure` when it is https. Default: http:// + LEPTOS_SITE_ADDR.
    #[arg(long, env = "TRAGUARDI_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// Force the `Secure` cookie flag on or off (default: on exactly when PUBLIC_URL is https).
    #[arg(long, env = "TRAGUARDI_COOKIE_SECURE")]
    pub cookie_secure: Option<bool>,
    /// A session unused for this many minutes ends.
    #[arg(long, env = "TRAGUARDI_SESSION_IDLE_MINUTES", default_value_t = 30)]
    pub session_idle_minutes: u64,
    /// A session ends this many hours after sign-in, however active.
    #[arg(long, env = "TRAGUARDI_SESSION_MAX_HOURS", default_value_t = 12)]
    pub session_max_hours: u64,
    /// Sign-in attempts allowed from one client address before it must wait.
    #[arg(long, env = "TRAGUARDI_LOGIN_LIMIT_PER_IP", default_value_t = 20)]
    pub login_limit_per_ip: u32,
    /// Sign-in attempts allowed for one account before it must wait.
    #[arg(long, env = "TRAGUARDI_LOGIN_LIMIT_PER_ACCOUNT", default_value_t = 5)]
    pub login_limit_per_account: u32,
    /// One more attempt is allowed every this many seconds once the limit is reached.
    #[arg(long, env = "TRAGUARDI_LOGIN_LIMIT_SECONDS", default_value_t = 60)]
    pub login_limit_seconds: u64,
    /// Take the client address from the last X-Forwarded-For hop (only behind a reverse proxy
    /// that overwrites the header).
    #[arg(long, env = "TRAGUARDI_TRUST_FORWARDED_FOR", default_value_t = false)]
    pub trust_forwarded_for: bool,
    /// The Region's identity service (OIDC issuer URL). Unset: local accounts only.
    #[arg(long, env = "TRAGUARDI_OIDC_ISSUER")]
    pub oidc_issuer: Option<String>,
    #[arg(long, env = "TRAGUARDI_OIDC_CLIENT_ID")]
    pub oidc_client_id: Option<String>,
    #[arg(long, env = "TRAGUARDI_OIDC_CLIENT_SECRET", hide_env_values = true)]
    pub oidc_client_secret: Option<String>,
    /// Where the provider sends people back (default: PUBLIC_URL/accedi/oidc/callback).
    #[arg(long, env = "TRAGUARDI_OIDC_REDIRECT_URL")]
    pub oidc_redirect_url: Option<String>,
    /// The claim that carries the Italian fiscal code (SPID/CIE style "TINIT-…" accepted).
    #[arg(
        long,
        env = "TRAGUARDI_OIDC_FISCAL_CODE_CLAIM",
        default_value = "https://attributes.eid.gov.it/fiscal_number"
    )]
    pub oidc_fiscal_code_claim: String,
    /// Space-separated scopes asked for.
    #[arg(long, env = "TRAGUARDI_OIDC_SCOPES", default_value = "openid email profile")]
    pub oidc_scopes: String,
    /// The label of the sign-in button.
    #[arg(long, env = "TRAGUARDI_OIDC_LABEL", default_value = "Entra con SPID, CIE o CNS")]
    pub oidc_label: String,
}

/// Checked settings.
#[derive(Clone, Debug)]
pub struct AuthConfig {
    pub public_url: String,
    pub cookie_secure: bool,
    pub idle: Duration,
    pub absolute: Duration,
    pub limit_per_ip: u32,
    pub limit_per_account: u32,
    pub limit_period: Duration,
    pub trust_forwarded_for: bool,
    pub oidc: Option<OidcConfig>,
}

#[derive(Clone, Debug)]
pub struct OidcConfig {
    pub issuer: String,
    pub client_id: String,
    pub client_secret: Option<String>,
    pub redirect_url: String,
    pub fiscal_code_claim: String,
    pub scopes: Vec<String>,
    pub label: String,
}

impl AuthConfig {
    /// Defaults for a local server at `site_addr` (tests and `make run`).
    pub fn local(site_addr: &str) -> AuthConfig {
        AuthConfig {
            public_url: format!("http://{site_addr}"),
            cookie_secure: false,
            idle: Duration::from_secs(30 * 60),
            absolute: Duration::from_secs(12 * 3600),
            limit_per_ip: 20,
            limit_per_account: 5,
            limit_period: Duration::from_secs(60),
            trust_forwarded_for: false,
            oidc: None,
        }
    }

    /// The cookie that carries the session. With `Secure` it takes the `__Host-` prefix, which
    /// browsers only accept from https, for this host and path `/`.
    pub fn session_cookie(&self) -> &'static str {
        if self.cookie_secure {
            "__Host-traguardi_sessione"
        } else {
            "traguardi_sessione"
        }
    }

    /// The cookie that ties an OIDC sign-in to the browser that started it.
    pub fn oidc_cookie(&self) -> &'static str {
        if self.cookie_secure {
            "__Host-traguardi_oidc"
        } else {
            "traguardi_oidc"
        }
    }
}

impl AuthArgs {
    pub fn validate(&self, site_addr: &str) -> anyhow::Result<AuthConfig> {
        let public_url = self
            .public_url
            .clone()
            .unwrap_or_else(|| format!("http://{site_addr}"))
            .trim_end_matches('/')
            .to_string();
        let https = public_url.starts_with("https://");
        if !https && !public_url.starts_with("http://") {
            bail!("TRAGUARDI_PUBLIC_URL must start with https:// or http:// (got {public_url})");
        }
        if self.session_idle_minutes == 0 || self.session_max_hours == 0 {
            bail!("session timeouts must be at least one minute and one hour");
        }
        if self.session_idle_minutes > self.session_max_hours * 60 {
            bail!("TRAGUARDI_SESSION_IDLE_MINUTES is longer than TRAGUARDI_SESSION_MAX_HOURS");
        }
        if self.login_limit_per_ip == 0 || self.login_limit_per_account == 0 || self.login_limit_seconds == 0
        {
            bail!("sign-in limits must be positive");
        }
        let oidc = match (&self.oidc_issuer, &self.oidc_client_id) {
            (None, None) => None,
            (Some(issuer), Some(client_id)) => {
                let redirect_url = self
                    .oidc_redirect_url
                    .clone()
                    .unwrap_or_else(|| format!("{public_url}/accedi/oidc/callback"));
                openidconnect::IssuerUrl::new(issuer.clone())
                    .context("TRAGUARDI_OIDC_ISSUER is not a URL")?;
                openidconnect::RedirectUrl::new(redirect_url.clone())
                    .context("TRAGUARDI_OIDC_REDIRECT_URL is not a URL")?;
                let scopes: Vec<String> = self.oidc_scopes.split_whitespace().map(str::to_string).collect();
                if !scopes.iter().any(|s| s == "openid") {
                    bail!("TRAGUARDI_OIDC_SCOPES must include openid");
                }
                Some(OidcConfig {
                    issuer: issuer.clone(),
                    client_id: client_id.clone(),
                    client_secret: self.oidc_client_secret.clone().filter(|s| !s.is_empty()),
                    redirect_url,
                    fiscal_code_claim: self.oidc_fiscal_code_claim.clone(),
                    scopes,
                    label: self.oidc_label.clone(),
                })
            }
            _ => bail!("set both TRAGUARDI_OIDC_ISSUER and TRAGUARDI_OIDC_CLIENT_ID, or neither"),
        };
        Ok(AuthConfig {
            cookie_secure: self.cookie_secure.unwrap_or(https),
            public_url,
            idle: Duration::from_secs(self.session_idle_minutes * 60),
            absolute: Duration::from_secs(self.session_max_hours * 3600),
            limit_per_ip: self.login_limit_per_ip,
            limit_per_account: self.login_limit_per_account,
            limit_period: Duration::from_secs(self.login_limit_seconds),
            trust_forwarded_for: self.trust_forwarded_for,
            oidc,
        })
    }
}
