//! Checks on the built site the server is about to serve.

use leptos::config::LeptosOptions;
use std::path::Path;

/// The app's room page is a lazily loaded wasm chunk. Built without
/// `cargo leptos ... --split`, the JS glue imports a module that does not
/// exist and no page ever becomes interactive, so say so loudly at startup
/// instead of serving dead pages.
pub fn check(options: &LeptosOptions) {
    let glue = Path::new(&*options.site_root)
        .join(&*options.site_pkg_dir)
        .join(format!("{}.js", options.output_name));
    match std::fs::read_to_string(&glue) {
        Ok(js) if built_without_split(&js) => tracing::error!(
            path = %glue.display(),
            "the site was built without wasm splitting: pages will not hydrate; \
             build with `cargo leptos build --release --split` (or `cargo leptos watch --split`)"
        ),
        Ok(_) => {}
        // Signaling-only is fine: the static build may be hosted elsewhere.
        Err(e) => tracing::info!(path = %glue.display(), error = %e, "no built site to serve"),
    }
}

fn built_without_split(js: &str) -> bool {
    js.contains("__wasm_split_placeholder__")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tells_an_unsplit_build_from_a_split_one() {
        assert!(built_without_split(r#"import * as import1 from "__wasm_split_placeholder__""#));
        assert!(!built_without_split(r#"import { initSync } from "./__wasm_split.js""#));
    }
}
