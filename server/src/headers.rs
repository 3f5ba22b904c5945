//! Security headers. Every response gets the cheap ones; rendered pages
//! also get a Content-Security-Policy whose nonce matches the one leptos
//! puts on its hydration script, so no other inline script can run.

use axum::http::{header, HeaderName, HeaderValue};
use axum::Router;
use tower_http::set_header::SetResponseHeaderLayer;

/// The policy for a page rendered with `nonce`. `'wasm-unsafe-eval'` lets
/// the page compile its WebAssembly without allowing `eval`; inline style
/// attributes are allowed because the SSR markup of a level meter uses one
/// (styles cannot run code); received files and media use `blob:` URLs.
pub fn page_policy(nonce: &str) -> String {
    [
        "default-src 'self'",
        &format!("script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'"),
        "style-src 'self'",
        "style-src-attr 'unsafe-inline'",
        "img-src 'self' data: blob:",
        "media-src 'self' blob:",
        "connect-src 'self' blob:",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
    .join("; ")
}

/// Headers that suit every response, the socket's handshake included.
pub fn common(router: Router) -> Router {
    let set = |name: HeaderName, value: &'static str| {
        SetResponseHeaderLayer::if_not_present(name, HeaderValue::from_static(value))
    };
    router
        .layer(set(header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        // Room names are in page URLs; other sites need not learn them.
        .layer(set(header::REFERRER_POLICY, "no-referrer"))
        .layer(set(
            HeaderName::from_static("permissions-policy"),
            "camera=(self), microphone=(self), display-capture=(self)",
        ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_nonced_script_may_run_inline() {
        let csp = page_policy("abc123");
        let directives: Vec<&str> = csp.split("; ").collect();
        let script = directives.iter().find(|d| d.starts_with("script-src ")).unwrap();
        assert_eq!(*script, "script-src 'self' 'nonce-abc123' 'wasm-unsafe-eval'");
        let inline: Vec<&&str> = directives.iter().filter(|d| d.contains("'unsafe-inline'")).collect();
        assert_eq!(inline, [&"style-src-attr 'unsafe-inline'"]);
        assert!(HeaderValue::from_str(&csp).is_ok());
    }
}
