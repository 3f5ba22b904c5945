use crate::limits::PerAddress;
use crate::origin::OriginPolicy;
use crate::{fallback, headers, node::Node, ws, Config};
use app::app::shell;
use app::protocol::{HTTP_EVENTS_PATH, HTTP_SEND_PATH};
use axum::extract::DefaultBodyLimit;
use axum::http::{header, HeaderValue};
use axum::routing::{get, post};
use axum::Router;
use leptos::config::LeptosOptions;
use leptos::prelude::use_context;
use leptos_axum::ResponseOptions;
use std::net::SocketAddr;
use std::sync::Arc;

/// The whole HTTP surface: `/ws` for signaling (and its HTTP fallback), the app's pages rendered on
/// the server, and the built site's files.
pub fn router(config: &Config, addr: SocketAddr, node: Arc<Node>) -> Router {
    let options = LeptosOptions::builder()
        .output_name("noom")
        .site_root(config.site_root.to_string_lossy().as_ref())
        .site_pkg_dir("pkg")
        .site_addr(addr)
        .build();
    crate::site::check(&options);
    // Rendering spawns tasks on leptos's executor; generate_route_list used
    // to set it up, so without a route list it is ours to do. Err only means
    // it already is (several routers in one test process).
    let _ = any_spawner::Executor::init_tokio();
    // The app's pages (app/src/nav.rs maps the same paths); any other path
    // is a file of the site or, rendered with status 404, the "not found" page.
    let page = leptos_axum::render_app_to_stream_with_context(content_security_policy, {
        let options = options.clone();
        move || shell(options.clone())
    });
    let pages = Router::new()
        .route("/", get(page.clone()))
        .route("/r/{room}", get(page))
        .fallback(leptos_axum::file_and_error_handler_with_context(content_security_policy, shell))
        .with_state(options);
    let origins = Arc::new(OriginPolicy::new(&config.allowed_origins));
    let limits = ws::Limits {
        max_frame_bytes: config.max_frame_bytes.max(1024),
        rate: config.rate_limit(),
        per_address: PerAddress::new(config.max_conns_per_ip),
        nickname_timeout: std::time::Duration::from_secs(config.nickname_timeout_secs.max(1)),
        proxies: Arc::new(config.trusted_proxies()),
    };
    // A POST carries a batch of messages, each within the frame limit.
    let post_limit = DefaultBodyLimit::max(limits.max_frame_bytes.saturating_mul(4));
    let http = Arc::new(fallback::Sessions::default());
    let mut signaling = Router::new()
        .route("/ws", get(ws::upgrade))
        .route(&format!("/ws{HTTP_EVENTS_PATH}"), get(fallback::events))
        .route(&format!("/ws{HTTP_SEND_PATH}"), post(fallback::send).layer(post_limit))
        .with_state(ws::Signaling { node, origins, limits, http });
    if config.metrics {
        signaling = signaling.route("/metrics", get(|| async { crate::metrics::render() }));
    }
    headers::common(signaling.merge(pages))
}

/// Runs while a page renders: leptos_axum has already made this request's
/// nonce, which its hydration script carries.
fn content_security_policy() {
    let (Some(nonce), Some(response)) = (leptos::nonce::use_nonce(), use_context::<ResponseOptions>()) else {
        return;
    };
    if let Ok(value) = HeaderValue::from_str(&headers::page_policy(&nonce)) {
        response.insert_header(header::CONTENT_SECURITY_POLICY, value);
    }
}
