//! Sign-in through the Region's identity service (OpenID Connect, authorization code flow with
//! PKCE, `state` and `nonce`), with the `openidconnect` crate doing the protocol and the ID
//! token checks (signature against the provider's keys, issuer, audience, expiry, nonce).
//!
//! The provider's metadata is discovered on first use and kept for an hour, so the server starts
//! even while the identity service is down (local accounts keep working meanwhile).

use std::{collections::HashMap, sync::Arc, time::Duration};

use openidconnect::{
    core::{CoreAuthenticationFlow, CoreClient, CoreGenderClaim},
    AccessToken, AdditionalClaims, AuthorizationCode, ClientId, ClientSecret, CsrfToken, EndSessionUrl,
    EndpointMaybeSet, EndpointNotSet, EndpointSet, IssuerUrl, Nonce, OAuth2TokenResponse, PkceCodeChallenge,
    PkceCodeVerifier, PostLogoutRedirectUrl, ProviderMetadataWithLogout, RedirectUrl, Scope,
    SubjectIdentifier, UserInfoClaims,
};
use serde::{Deserialize, Serialize};
use tokio::sync::RwLock;

use super::config::OidcConfig;

type DiscoveredClient = CoreClient<
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointMaybeSet,
    EndpointMaybeSet,
>;

struct Provider {
    client: DiscoveredClient,
    end_session: Option<EndSessionUrl>,
    fetched: std::time::Instant,
}

/// Claims beyond the standard ones (the fiscal code claim has a URL for a name in SPID/CIE).
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
struct ExtraClaims {
    #[serde(flatten)]
    rest: HashMap<String, serde_json::Value>,
}
impl AdditionalClaims for ExtraClaims {}

/// Who the identity provider says signed in (already verified).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Identity {
    pub subject: String,
    /// Upper case, without the SPID "TINIT-" prefix.
    pub fiscal_code: Option<String>,
    /// Lower case; only when the provider states it is verified (`email_verified: true`).
    pub email: Option<String>,
    pub id_token: String,
}

/// What went wrong, for the log; people see one of two Italian sentences (see `routes`).
#[derive(Debug, thiserror::Error)]
pub enum OidcError {
    #[error("identity provider unavailable: {0}")]
    Unavailable(String),
    #[error("identity provider answer refused: {0}")]
    Refused(String),
}

/// An authorization request to send the browser to, and what the callback must check.
pub struct Started {
    pub url: String,
    pub state: String,
    pub pkce_verifier: String,
    pub nonce: String,
}

pub struct Oidc {
    pub config: OidcConfig,
    http: reqwest::Client,
    provider: RwLock<Option<Arc<Provider>>>,
}

impl std::fmt::Debug for Oidc {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Oidc").field("issuer", &self.config.issuer).finish()
    }
}

/// `TINIT-rssmra80a01h501u` → `RSSMRA80A01H501U`; anything that is not 16 letters and digits
/// is not a fiscal code.
pub fn normalise_fiscal_code(raw: &str) -> Option<String> {
    let raw = raw.trim();
    let code =
        raw.strip_prefix("TINIT-").or_else(|| raw.strip_prefix("tinit-")).unwrap_or(raw).to_uppercase();
    (code.len() == 16 && code.bytes().all(|b| b.is_ascii_alphanumeric())).then_some(code)
}

impl Oidc {
    pub fn new(config: OidcConfig) -> Oidc {
        // No redirects: an OIDC client must not follow them (SSRF); a 10 s limit per call.
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(10))
            .build()
            .expect("building the HTTP client");
        Oidc { config, http, provider: RwLock::new(None) }
    }

    async fn provider(&self) -> Result<Arc<Provider>, OidcError> {
        if let Some(p) = self.provider.read().await.as_ref() {
            if p.fetched.elapsed() < Duration::from_secs(3600) {
                return Ok(p.clone());
            }
        }
        let mut slot = self.provider.write().await;
        let issuer =
            IssuerUrl::new(self.config.issuer.clone()).map_err(|e| OidcError::Unavailable(e.to_string()))?;
        let metadata = ProviderMetadataWithLogout::discover_async(issuer, &self.http)
            .await
            .map_err(|e| OidcError::Unavailable(format!("discovery: {e}")))?;
        let end_session = metadata.additional_metadata().end_session_endpoint.clone();
        let redirect = RedirectUrl::new(self.config.redirect_url.clone())
            .map_err(|e| OidcError::Unavailable(e.to_string()))?;
        let client = CoreClient::from_provider_metadata(
            metadata,
            ClientId::new(self.config.client_id.clone()),
            self.config.client_secret.clone().map(ClientSecret::new),
        )
        .set_redirect_uri(redirect);
        let provider = Arc::new(Provider { client, end_session, fetched: std::time::Instant::now() });
        *slot = Some(provider.clone());
        Ok(provider)
    }

    /// Checks at start-up that the provider answers (a warning, not a stop, if it does not).
    pub async fn probe(&self) {
        match self.provider().await {
            Ok(_) => tracing::info!(issuer = %self.config.issuer, "OIDC provider discovered"),
            Err(e) => {
                tracing::warn!(error = %e, "OIDC provider not reachable yet; sign-in through it will retry")
            }
        }
    }

    /// The authorization request: PKCE (S256), a random state and nonce.
    pub async fn start(&self) -> Result<Started, OidcError> {
        let provider = self.provider().await?;
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let mut request = provider.client.authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        );
        for scope in self.config.scopes.iter().filter(|s| *s != "openid") {
            request = request.add_scope(Scope::new(scope.clone()));
        }
        let (url, state, nonce) = request.set_pkce_challenge(challenge).url();
        Ok(Started {
            url: url.to_string(),
            state: state.secret().clone(),
            pkce_verifier: verifier.secret().clone(),
            nonce: nonce.secret().clone(),
        })
    }

    /// Exchanges the code (with the PKCE verifier), verifies the ID token and reads who it is.
    /// `iss`, when the provider sends it on the callback (RFC 9207), must be the issuer.
    pub async fn finish(
        &self,
        code: &str,
        iss: Option<&str>,
        pkce_verifier: &str,
        nonce: &str,
    ) -> Result<Identity, OidcError> {
        let provider = self.provider().await?;
        if let Some(iss) = iss {
            if iss.trim_end_matches('/') != self.config.issuer.trim_end_matches('/') {
                return Err(OidcError::Refused(format!("callback iss {iss} is not the issuer")));
            }
        }
        let token = provider
            .client
            .exchange_code(AuthorizationCode::new(code.to_string()))
            .map_err(|e| OidcError::Unavailable(e.to_string()))?
            .set_pkce_verifier(PkceCodeVerifier::new(pkce_verifier.to_string()))
            .request_async(&self.http)
            .await
            .map_err(|e| OidcError::Refused(format!("token exchange: {e}")))?;
        let id_token =
            token.extra_fields().id_token().ok_or_else(|| OidcError::Refused("no ID token".into()))?;
        let verifier = provider.client.id_token_verifier();
        let claims = id_token
            .claims(&verifier, &Nonce::new(nonce.to_string()))
            .map_err(|e| OidcError::Refused(format!("ID token: {e}")))?;
        let subject = claims.subject().clone();
        let raw = id_token.to_string();
        // The signature is verified: the payload's other claims can be read as they are.
        let extra = payload_claims(&raw);
        let mut fiscal_code = extra
            .get(&self.config.fiscal_code_claim)
            .and_then(|v| v.as_str())
            .and_then(normalise_fiscal_code);
        let mut email = verified_email(claims.email().map(|e| e.as_str()), claims.email_verified());
        if fiscal_code.is_none() && email.is_none() {
            // Many providers release claims only through the userinfo endpoint.
            let info = self.user_info(&provider, token.access_token().clone(), subject.clone()).await?;
            fiscal_code = info
                .additional_claims()
                .rest
                .get(&self.config.fiscal_code_claim)
                .and_then(|v| v.as_str())
                .and_then(normalise_fiscal_code);
            email = verified_email(info.email().map(|e| e.as_str()), info.email_verified());
        }
        Ok(Identity { subject: subject.as_str().to_string(), fiscal_code, email, id_token: raw })
    }

    async fn user_info(
        &self,
        provider: &Provider,
        access_token: AccessToken,
        subject: SubjectIdentifier,
    ) -> Result<UserInfoClaims<ExtraClaims, CoreGenderClaim>, OidcError> {
        let request = provider
            .client
            .user_info(access_token, Some(subject))
            .map_err(|e| OidcError::Refused(format!("no userinfo endpoint: {e}")))?;
        let info: UserInfoClaims<ExtraClaims, CoreGenderClaim> = request
            .request_async(&self.http)
            .await
            .map_err(|e| OidcError::Refused(format!("userinfo: {e}")))?;
        Ok(info)
    }

    /// Where to send the browser to end the provider's session too (RP-initiated logout), when
    /// the provider offers it.
    pub async fn logout_url(&self, id_token: Option<&str>, post_logout: &str) -> Option<String> {
        let provider = self.provider().await.ok()?;
        let end = provider.end_session.clone()?;
        let mut url = end.url().clone();
        {
            let mut q = url.query_pairs_mut();
            if let Some(hint) = id_token {
                q.append_pair("id_token_hint", hint);
            }
            q.append_pair("client_id", &self.config.client_id);
            q.append_pair("post_logout_redirect_uri", post_logout);
        }
        let _ = PostLogoutRedirectUrl::new(post_logout.to_string()).ok()?;
        Some(url.to_string())
    }
}

/// The e-mail address, only when the provider states `email_verified: true`: a missing claim is
/// not a yes (an address the provider never checked must not open an account registered by it).
pub fn verified_email(email: Option<&str>, verified: Option<bool>) -> Option<String> {
    email.filter(|_| verified == Some(true)).map(|e| e.trim().to_lowercase()).filter(|e| !e.is_empty())
}

fn payload_claims(jwt: &str) -> HashMap<String, serde_json::Value> {
    use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
    jwt.split('.')
        .nth(1)
        .and_then(|p| URL_SAFE_NO_PAD.decode(p.trim_end_matches('=')).ok())
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .unwrap_or_default()
}

/// Properties of what an identity provider's answer carries (see `crate::fuzz`): a fiscal code
/// is kept only as 16 upper-case letters and digits, stably; an e-mail only when verified.
#[cfg(all(test, feature = "ssr"))]
mod props {
    use proptest::prelude::*;

    use super::*;
    use crate::fuzz::{check, hostile_text};

    #[test]
    fn prop_identity_claims_are_kept_only_well_formed() {
        let code = prop_oneof![hostile_text(), "(TINIT-|tinit-| )?[A-Za-z0-9]{14,18} ?",];
        let input =
            (code, proptest::option::of(hostile_text()), proptest::option::of(any::<bool>()), hostile_text());
        check("auth::oidc claims", input, |(code, email, verified, jwt)| {
            if let Some(c) = normalise_fiscal_code(&code) {
                prop_assert!(
                    c.len() == 16 && c.bytes().all(|b| b.is_ascii_digit() || b.is_ascii_uppercase())
                );
                prop_assert_eq!(normalise_fiscal_code(&c), Some(c.clone()));
            }
            match verified_email(email.as_deref(), verified) {
                Some(e) => {
                    prop_assert_eq!(verified, Some(true));
                    prop_assert!(!e.is_empty() && e == e.trim().to_lowercase());
                }
                None => prop_assert!(
                    verified != Some(true) || email.as_deref().is_none_or(|e| e.trim().is_empty())
                ),
            }
            let _ = payload_claims(&jwt);
            let _ = payload_claims(&format!("x.{}.y", jwt));
            Ok(())
        });
    }
}
