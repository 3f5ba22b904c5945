#!/usr/bin/env bash
# The release build of the site (target/site) and the server
# (target/release/server): what run.sh, test.sh and the benchmarks use, and
# what a deployment ships. Extra arguments go to both cargo-leptos steps.
#
# The browser's wasm is built for size, because its first load is a budget
# (docs/BENCHMARKS.md, "Page weight"): the standard library is rebuilt for
# size (-Zbuild-std, feature optimize_for_size), a panic traps at once
# (panic = immediate-abort) instead of formatting a message nobody sees, and
# panics carry no file:line. That took the lobby's wasm from 258 to 229 KB
# gzip. These are unstable options of the pinned stable toolchain, allowed by
# RUSTC_BOOTSTRAP=1; they need the rust-src component (scripts/setup.sh).
# The server is built in a second step without any of that: it keeps
# unwinding panics, messages and locations, and its cache is not disturbed.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"

# Nothing changed since the last build (no source newer than its stamp, no
# extra arguments): skip it. cargo-leptos would otherwise run wasm-bindgen,
# wasm-opt and the compression again, ~30 s on every start of run.sh.
stamp=target/site/.release-build
inputs=(app server style public Cargo.toml Cargo.lock scripts/build-release.sh)
if [ $# -eq 0 ] && [ -f "$stamp" ] && [ -x target/release/server ] \
    && [ -z "$(find "${inputs[@]}" -newer "$stamp" -print -quit)" ]; then
    echo "release build is up to date (nothing newer than $stamp)"
    exit 0
fi
rm -f "$stamp"

RUSTC_BOOTSTRAP=1 \
CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS="-Zunstable-options -Cpanic=immediate-abort -Zlocation-detail=none" \
    cargo leptos build --release --split --precompress --frontend-only \
    --lib-cargo-args=-Zbuild-std=std,panic_abort \
    --lib-cargo-args=-Zbuild-std-features=optimize_for_size "$@"

cargo leptos build --release --split --precompress --server-only "$@"
touch "$stamp"
