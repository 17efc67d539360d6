//! Values a visitor sends that come back in a `Location` header: the page to return to after
//! sign-in (`next`) and the anchor of a workspace form (`modulo`).
//!
//! Browsers are lenient with `Location`: they drop tabs and new lines, read `\` as `/`, and a
//! `//host` or `/\host` is another site. So a return path is accepted only when it is, once
//! parsed, a path of this very site ([`local_path`], the one check every sign-in path uses), and
//! it is sent back as the parser serialised it (ASCII, percent-encoded), never as typed. Anything
//! else becomes the default target: a hostile value is never an error page, and never a 500.

use axum::{
    http::{header, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
};
// `url` comes with `openidconnect` (re-exported there), already a server dependency.
use openidconnect::url::Url;
use percent_encoding::percent_decode_str;

/// Where a sign-in goes when no acceptable `next` was given.
pub const DEFAULT_RETURN: &str = "/profilo";

/// A fixed, unreachable base: a return path must resolve against it to the same origin.
const BASE: &str = "http://traguardi.invalid/";

/// `raw` as a path of this site (path, query and fragment, re-serialised by the URL parser), or
/// `None`. Refused: anything not starting with exactly one `/`; control characters (C0, DEL, C1:
/// tab, vertical tab, CR, LF…) and backslashes, typed or percent-encoded (`/%09/evil.example`
/// is `/\t/evil.example` once decoded, which a browser reads as `//evil.example`); whatever the
/// parser resolves to another origin.
pub fn local_path(raw: &str) -> Option<String> {
    let hostile = |s: &str| s.chars().any(|c| c.is_control() || c == '\\');
    if !raw.starts_with('/') || raw.starts_with("//") || hostile(raw) {
        return None;
    }
    let decoded = percent_decode_str(raw).decode_utf8_lossy();
    if decoded.starts_with("//") || hostile(&decoded) {
        return None;
    }
    let base = Url::parse(BASE).expect("a valid base URL");
    let url = base.join(raw).ok()?;
    if url.origin() != base.origin() || !url.username().is_empty() || url.password().is_some() {
        return None;
    }
    let mut out = url.path().to_string();
    if let Some(q) = url.query() {
        out.push('?');
        out.push_str(q);
    }
    if let Some(f) = url.fragment() {
        out.push('#');
        out.push_str(f);
    }
    // The serialisation is ASCII without controls; checked again, so that a parser change can
    // only send people to the default page.
    (out.starts_with('/') && !out.starts_with("//") && HeaderValue::from_str(&out).is_ok()).then_some(out)
}

/// The page to return to after sign-in: `next` if it is a path of this site, else the profile.
/// Used for the password form, for the OIDC return path when the sign-in starts, and again when
/// it is read back at the callback.
pub fn safe_return_to(next: &str) -> String {
    local_path(next.trim_matches(' ')).unwrap_or_else(|| DEFAULT_RETURN.to_string())
}

/// A form's id as sent back in `modulo` (it becomes a query value and the fragment of the
/// redirect): letters, digits, `-` and `_`, at most 100 characters; anything else is `None`.
pub fn form_id(raw: &str) -> Option<&str> {
    (!raw.is_empty()
        && raw.len() <= 100
        && raw.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'))
    .then_some(raw)
}

/// A 303 to `location`, with extra headers. `location` must be one of ours (a constant, or
/// checked by [`local_path`]/[`form_id`]); should one still not be a valid header value, the
/// answer is a 400 in Italian instead of a panic.
pub fn see_other(location: &str, cookies: Vec<HeaderValue>) -> Response {
    let Ok(value) = HeaderValue::from_str(location) else {
        tracing::error!(?location, "redirect to an invalid Location refused");
        return crate::error::AppError::BadRequest(
            "Indirizzo di ritorno non valido: torna alla pagina precedente e riprova.".into(),
        )
        .into_response();
    };
    let mut response = StatusCode::SEE_OTHER.into_response();
    response.headers_mut().insert(header::LOCATION, value);
    for c in cookies {
        response.headers_mut().append(header::SET_COOKIE, c);
    }
    response
}

/// Values that must never leave as a `Location`: each, on its own, would be another site
/// for a browser, break the header, or inject one.
#[cfg(test)]
pub const HOSTILE_RETURNS: [&str; 24] = [
    "https://evil.example/",
    "http://traguardi.invalid/profilo",
    "HTTPS://evil.example",
    "javascript:alert(1)",
    "//evil.example",
    " //evil.example",
    "/\\evil.example",
    "\\\\evil.example",
    "/\t/evil.example",
    "\t//evil.example",
    "/\u{b}/evil.example",
    "/\u{c}x",
    "/\r/evil.example",
    "/\n/evil.example",
    "/a\r\nSet-Cookie: x",
    "/\u{0}x",
    "/\u{7f}x",
    "/\u{85}/evil.example",
    "/%09/evil.example",
    "/%0b/evil.example",
    "/%5Cevil.example",
    "/%2F/evil.example",
    "",
    "profilo",
];

/// Properties of the return path (see `crate::fuzz`): whatever `next` a visitor sends (at
/// sign-in, and read back at the OIDC callback), what comes back is a path of this site that
/// is a valid header value, and checking it again leaves it as it is.
#[cfg(all(test, feature = "ssr"))]
mod props {
    use proptest::prelude::*;

    use super::*;
    use crate::fuzz::{check, hostile_text};

    #[test]
    fn prop_any_return_path_comes_back_local_and_stable() {
        let next = prop_oneof![
            hostile_text(),
            hostile_text().prop_map(|s| format!("/{s}")),
            proptest::sample::select(HOSTILE_RETURNS.to_vec()).prop_map(str::to_string),
            (
                proptest::sample::select(vec!["/", "//", "/\\", "/%2F", "/%5C", "/%09/", "%2F%2F"]),
                hostile_text()
            )
                .prop_map(|(a, b)| format!("{a}{b}")),
        ];
        check("auth::redirect::safe_return_to", next, |next| {
            let to = safe_return_to(&next);
            prop_assert!(to.starts_with('/') && !to.starts_with("//"), "{to}");
            prop_assert!(!to.contains('\\') && !to.chars().any(|c| c.is_control()), "{to}");
            prop_assert!(HeaderValue::from_str(&to).is_ok());
            prop_assert_eq!(safe_return_to(&to), to.clone(), "checked again, the same path");
            let base = Url::parse(BASE).unwrap();
            prop_assert_eq!(base.join(&to).unwrap().origin(), base.origin());
            if let Some(id) = form_id(&next) {
                let location = format!("/x?modulo={id}#{id}");
                prop_assert!(HeaderValue::from_str(&location).is_ok(), "{}", location);
            }
            Ok(())
        });
    }
}
