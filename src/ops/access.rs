//! Who may read `/metrics`: clients from configured addresses, or anyone with the token.
//!
//! The counters tell an outsider how the server is used (which pages, how often, how many
//! sign-ins fail): operational data, not public data. Everyone else gets the site's ordinary
//! "page not found", so the address does not even reveal that it exists.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use anyhow::{bail, Context};
use axum::http::HeaderValue;

/// Comma-separated addresses and CIDR blocks allowed to read `/metrics`.
pub const ALLOW_ENV: &str = "TRAGUARDI_METRICS_ALLOW";
/// A bearer token that opens `/metrics` from any address.
pub const TOKEN_ENV: &str = "TRAGUARDI_METRICS_TOKEN";
/// The default allow list: the machine itself (a scraper or `curl` on the server).
pub const DEFAULT_ALLOW: &str = "127.0.0.1, ::1";
/// A shorter token is a configuration error: it could be guessed.
pub const MIN_TOKEN_CHARS: usize = 16;

/// An address block: an address and how many leading bits of it must match.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cidr {
    network: IpAddr,
    prefix: u8,
}

impl Cidr {
    /// `192.0.2.7`, `10.0.0.0/8`, `::1`, `fd00::/8`. Host bits past the prefix are ignored
    /// (`10.1.2.3/8` is `10.0.0.0/8`), as most tools read them.
    pub fn parse(text: &str) -> anyhow::Result<Cidr> {
        let text = text.trim();
        let (address, prefix) = match text.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (text, None),
        };
        let address: IpAddr = address.parse().with_context(|| format!("«{text}» is not an IP address"))?;
        let address = address.to_canonical();
        let max = if address.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            None => max,
            Some(p) => match p.parse::<u8>() {
                Ok(n) if n <= max => n,
                _ => bail!("«{text}»: the prefix length must be a number from 0 to {max}"),
            },
        };
        Ok(Cidr { network: mask(address, prefix), prefix })
    }

    pub fn contains(&self, address: IpAddr) -> bool {
        let address = address.to_canonical();
        address.is_ipv4() == self.network.is_ipv4() && mask(address, self.prefix) == self.network
    }
}

fn mask(address: IpAddr, prefix: u8) -> IpAddr {
    match address {
        IpAddr::V4(a) => {
            let bits = u32::from(a);
            let kept = if prefix == 0 { 0 } else { bits & (u32::MAX << (32 - u32::from(prefix))) };
            IpAddr::V4(Ipv4Addr::from(kept))
        }
        IpAddr::V6(a) => {
            let bits = u128::from(a);
            let kept = if prefix == 0 { 0 } else { bits & (u128::MAX << (128 - u32::from(prefix))) };
            IpAddr::V6(Ipv6Addr::from(kept))
        }
    }
}

/// The checked settings of `/metrics`.
#[derive(Clone, Debug)]
pub struct MetricsAccess {
    allow: Vec<Cidr>,
    token: Option<String>,
}

impl Default for MetricsAccess {
    /// The machine itself only, no token.
    fn default() -> Self {
        MetricsAccess::parse(None, None).expect("the default allow list parses")
    }
}

impl MetricsAccess {
    /// From [`ALLOW_ENV`] and [`TOKEN_ENV`]; a malformed entry or a short token stops the start.
    pub fn from_env() -> anyhow::Result<MetricsAccess> {
        let allow = std::env::var(ALLOW_ENV).ok();
        let token = std::env::var(TOKEN_ENV).ok();
        MetricsAccess::parse(allow.as_deref(), token.as_deref())
    }

    /// `allow` unset: [`DEFAULT_ALLOW`]; set but empty: no address (the token only). `token`
    /// unset or empty: none.
    pub fn parse(allow: Option<&str>, token: Option<&str>) -> anyhow::Result<MetricsAccess> {
        let allow = allow
            .unwrap_or(DEFAULT_ALLOW)
            .split(',')
            .filter(|entry| !entry.trim().is_empty())
            .map(|entry| Cidr::parse(entry).with_context(|| format!("{ALLOW_ENV}: bad entry")))
            .collect::<anyhow::Result<Vec<_>>>()?;
        let token = match token.map(str::trim).filter(|t| !t.is_empty()) {
            None => None,
            Some(t) if t.chars().count() < MIN_TOKEN_CHARS => {
                bail!("{TOKEN_ENV} must be at least {MIN_TOKEN_CHARS} characters long")
            }
            Some(t) if !t.bytes().all(|b| b.is_ascii_graphic()) => {
                bail!("{TOKEN_ENV} must be printable ASCII without spaces")
            }
            Some(t) => Some(t.to_string()),
        };
        Ok(MetricsAccess { allow, token })
    }

    /// Whether a request from `client` with this `Authorization` header may read the metrics:
    /// an allowed address needs no token; the right `Bearer` token opens it from anywhere.
    pub fn permits(&self, client: IpAddr, authorization: Option<&HeaderValue>) -> bool {
        if self.allow.iter().any(|block| block.contains(client)) {
            return true;
        }
        let (Some(expected), Some(given)) = (&self.token, authorization) else { return false };
        let given = given.to_str().unwrap_or_default();
        let Some(given) = given.strip_prefix("Bearer ").or_else(|| given.strip_prefix("bearer ")) else {
            return false;
        };
        same_bytes(given.trim().as_bytes(), expected.as_bytes())
    }

    /// For the start-up log (never the token itself).
    pub fn describe(&self) -> String {
        let blocks: Vec<String> = self.allow.iter().map(|b| format!("{}/{}", b.network, b.prefix)).collect();
        format!(
            "addresses [{}], token {}",
            blocks.join(", "),
            if self.token.is_some() { "set" } else { "unset" }
        )
    }
}

/// Compares without stopping at the first difference, so the time taken tells nothing about
/// how much of a guessed token was right.
fn same_bytes(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn single_addresses_and_blocks_match_what_they_cover() {
        let one = Cidr::parse("192.0.2.7").unwrap();
        assert!(one.contains(ip("192.0.2.7")));
        assert!(!one.contains(ip("192.0.2.8")));
        let block = Cidr::parse(" 10.0.0.0/8 ").unwrap();
        assert!(block.contains(ip("10.255.1.2")));
        assert!(!block.contains(ip("11.0.0.1")));
        // Host bits are ignored.
        assert_eq!(Cidr::parse("10.1.2.3/8").unwrap(), block);
        let v6 = Cidr::parse("fd00::/8").unwrap();
        assert!(v6.contains(ip("fd12:3456::1")));
        assert!(!v6.contains(ip("fe80::1")));
        assert!(!v6.contains(ip("10.0.0.1")), "an IPv6 block never matches an IPv4 address");
        let everything = Cidr::parse("0.0.0.0/0").unwrap();
        assert!(everything.contains(ip("203.0.113.9")));
        assert!(Cidr::parse("::/0").unwrap().contains(ip("2001:db8::1")));
        assert!(Cidr::parse("192.0.2.0/24").unwrap().contains(ip("192.0.2.255")));
        assert!(!Cidr::parse("192.0.2.0/25").unwrap().contains(ip("192.0.2.128")));
    }

    #[test]
    fn an_ipv4_client_on_a_dual_stack_socket_matches_its_ipv4_entry() {
        // A listener on [::] sees 127.0.0.1 as ::ffff:127.0.0.1.
        let access = MetricsAccess::default();
        assert!(access.permits(ip("::ffff:127.0.0.1"), None));
        assert!(access.permits(ip("127.0.0.1"), None));
        assert!(access.permits(ip("::1"), None));
        assert!(!access.permits(ip("127.0.0.2"), None));
        assert!(!access.permits(ip("0.0.0.0"), None));
    }

    #[test]
    fn malformed_entries_are_refused_with_their_text() {
        for bad in ["127.0.0.1/33", "::1/129", "10.0.0.0/x", "10.0.0", "localhost", "10.0.0.0/-1", "/8"] {
            let e = MetricsAccess::parse(Some(&format!("127.0.0.1,{bad}")), None).unwrap_err();
            let text = format!("{e:#}");
            assert!(text.contains(ALLOW_ENV) && text.contains(bad.trim()), "{bad}: {text}");
        }
    }

    #[test]
    fn unset_means_the_machine_itself_and_empty_means_nobody_by_address() {
        let default = MetricsAccess::parse(None, None).unwrap();
        assert_eq!(default.allow.len(), 2);
        let none = MetricsAccess::parse(Some(""), None).unwrap();
        assert!(!none.permits(ip("127.0.0.1"), None));
        let list = MetricsAccess::parse(Some("192.0.2.1, 198.51.100.0/24,"), None).unwrap();
        assert!(list.permits(ip("198.51.100.42"), None));
        assert!(!list.permits(ip("127.0.0.1"), None), "a list replaces the default");
    }

    #[test]
    fn the_token_opens_from_anywhere_and_a_wrong_one_does_not() {
        let token = "s3gret0-di-prova-lungo";
        let access = MetricsAccess::parse(Some(""), Some(token)).unwrap();
        let header = |v: &str| HeaderValue::from_str(v).unwrap();
        assert!(access.permits(ip("203.0.113.9"), Some(&header(&format!("Bearer {token}")))));
        assert!(!access.permits(ip("203.0.113.9"), Some(&header("Bearer s3gret0-di-prova-lungX"))));
        assert!(!access.permits(ip("203.0.113.9"), Some(&header(token))), "the Bearer scheme is required");
        assert!(!access.permits(ip("203.0.113.9"), None));
        // Without a configured token, no header opens it.
        let no_token = MetricsAccess::parse(Some(""), None).unwrap();
        assert!(!no_token.permits(ip("203.0.113.9"), Some(&header("Bearer "))));
    }

    #[test]
    fn a_short_or_spaced_token_stops_the_start() {
        assert!(MetricsAccess::parse(None, Some("corto")).is_err());
        assert!(MetricsAccess::parse(None, Some("un token con spazi dentro")).is_err());
        assert!(MetricsAccess::parse(None, Some("   ")).unwrap().token.is_none(), "empty is unset");
        let d = MetricsAccess::parse(None, Some("abcdefghijklmnopqrstuvwxyz")).unwrap().describe();
        assert!(d.contains("token set") && !d.contains("abcdef"), "{d}");
    }
}
