#!/usr/bin/env bash
# The lint gate (part of scripts/test.sh): formatting, then clippy with every
# warning an error, for the native build (server, app's server side, tests,
# benches) and for both browser builds of the app (hydrate: the site; csr:
# the static Trunk build), which compile code the native build never sees.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"

cargo fmt --all --check
cargo clippy --workspace --all-targets --locked -- -D warnings
for feature in hydrate csr; do
    cargo clippy -p app --lib --target wasm32-unknown-unknown --features "$feature" --locked -- -D warnings
done
