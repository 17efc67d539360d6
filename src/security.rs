//! Response headers and cross-site request protection for every route.
//!
//! - Pages get a Content-Security-Policy whose only inline scripts are Leptos' hydration scripts,
//!   allowed by the per-request nonce that leptos_axum generates; WebAssembly needs
//!   `'wasm-unsafe-eval'`. Every other response (files, CSV, server functions) gets the same
//!   policy without a nonce, so nothing inline runs anywhere.
//! - `nosniff`, `frame-ancestors 'none'` (and `X-Frame-Options` for old browsers), and a
//!   Referrer-Policy that keeps paths (which name comuni) inside the site.
//! - A Permissions-Policy that turns off every powerful browser feature: the site uses none of
//!   them (no camera, location, payment, sensors, devices, WebAuthn…), so a script injected
//!   despite the policy above could not ask for them either. `fullscreen` is left alone: the
//!   browser's own PDF viewer uses it to present `/report.pdf`.
//! - `Cross-Origin-Opener-Policy: same-origin`: a page of another site that opened Traguardi
//!   (or was opened by it) gets no handle on its window.
//! - Cross-site request protection (tower-http's `CsrfLayer`, the Go 1.25 scheme on
//!   `Sec-Fetch-Site` and `Origin`): a state-changing request from another site is refused with
//!   403, server functions included (Leptos has none of its own).

use axum::{
    http::{header, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
    Router,
};
use tower_http::{
    csrf::{CsrfLayer, ProtectionError},
    set_header::SetResponseHeaderLayer,
};

/// The policy; `nonce` admits the hydration scripts of one page; `form_origin` is the identity
/// service's origin, where the sign-in and sign-out forms end up after their redirect (browsers
/// apply `form-action` to a form's redirects too).
pub fn content_security_policy(nonce: Option<&str>, form_origin: Option<&str>) -> String {
    let scripts = match nonce {
        Some(n) => format!("script-src 'self' 'nonce-{n}' 'wasm-unsafe-eval'"),
        None => "script-src 'self' 'wasm-unsafe-eval'".to_string(),
    };
    let forms = match form_origin {
        Some(o) => format!("form-action 'self' {o}"),
        None => "form-action 'self'".to_string(),
    };
    format!(
        "default-src 'self'; {scripts}; style-src 'self'; img-src 'self' data:; font-src 'self'; \
         connect-src 'self'; object-src 'none'; base-uri 'none'; {forms}; frame-ancestors 'none'"
    )
}

/// Called while a page renders on the server: sets the policy with this response's nonce.
pub fn set_page_policy() {
    use leptos::prelude::use_context;
    if let (Some(nonce), Some(response)) =
        (leptos::nonce::use_nonce(), use_context::<leptos_axum::ResponseOptions>())
    {
        let form_origin = use_context::<crate::state::AppState>().and_then(|s| s.auth.oidc_origin());
        if let Ok(value) =
            HeaderValue::from_str(&content_security_policy(Some(&nonce), form_origin.as_deref()))
        {
            response.insert_header(header::CONTENT_SECURITY_POLICY, value);
        }
    }
}

/// Every feature of the Permissions Policy registry the site does not use, turned off for the
/// page and everything it could embed. `fullscreen` is not in it (see the module's comment).
pub const PERMISSIONS_POLICY: &str = "accelerometer=(), ambient-light-sensor=(), autoplay=(), battery=(), \
     bluetooth=(), browsing-topics=(), camera=(), display-capture=(), document-domain=(), \
     encrypted-media=(), gamepad=(), geolocation=(), gyroscope=(), hid=(), idle-detection=(), \
     magnetometer=(), microphone=(), midi=(), payment=(), picture-in-picture=(), \
     publickey-credentials-get=(), screen-wake-lock=(), serial=(), usb=(), web-share=(), \
     xr-spatial-tracking=()";

/// The message a refused cross-site request gets.
const CROSS_SITE_REFUSED: &str =
    "Richiesta rifiutata: proviene da un altro sito. Se hai seguito un collegamento esterno, \
     apri Traguardi direttamente e ripeti l'operazione.";

/// Wraps `router` with the headers and the cross-site protection.
pub fn protect<S: Clone + Send + Sync + 'static>(router: Router<S>) -> Router<S> {
    let default_csp =
        HeaderValue::from_str(&content_security_policy(None, None)).expect("valid header value");
    router
        .layer(CsrfLayer::new().with_rejection_response(|_: ProtectionError| -> Response {
            (StatusCode::FORBIDDEN, [(header::CONTENT_TYPE, "text/plain; charset=utf-8")], CROSS_SITE_REFUSED)
                .into_response()
        }))
        .layer(SetResponseHeaderLayer::if_not_present(header::CONTENT_SECURITY_POLICY, default_csp))
        .layer(SetResponseHeaderLayer::overriding(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::overriding(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")))
        .layer(SetResponseHeaderLayer::overriding(
            header::REFERRER_POLICY,
            HeaderValue::from_static("strict-origin-when-cross-origin"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::HeaderName::from_static("permissions-policy"),
            HeaderValue::from_static(PERMISSIONS_POLICY),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::HeaderName::from_static("cross-origin-opener-policy"),
            HeaderValue::from_static("same-origin"),
        ))
}
