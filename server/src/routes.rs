use crate::{node::Node, ws, Config};
use app::app::{shell, App};
use axum::{routing::get, Router};
use leptos::config::LeptosOptions;
use leptos_axum::{generate_route_list, LeptosRoutes};
use std::net::SocketAddr;
use std::sync::Arc;

/// The whole HTTP surface: `/ws` for signaling, the app's pages rendered on
/// the server, and the built site's files.
pub fn router(config: &Config, addr: SocketAddr, node: Arc<Node>) -> Router {
    let options = LeptosOptions::builder()
        .output_name("noom")
        .site_root(config.site_root.to_string_lossy().as_ref())
        .site_pkg_dir("pkg")
        .site_addr(addr)
        .build();
    let routes = generate_route_list(App);
    let pages = Router::new()
        .leptos_routes(&options, routes, {
            let options = options.clone();
            move || shell(options.clone())
        })
        .fallback(leptos_axum::file_and_error_handler(shell))
        .with_state(options);
    let signaling = Router::new().route("/ws", get(ws::upgrade)).with_state(node);
    signaling.merge(pages)
}
