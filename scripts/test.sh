#!/usr/bin/env bash
# Runs every Noom test: unit and integration tests, then the browser tests in
# real Chromium inside a loopback-only network namespace. Installs what is
# missing first (scripts/setup.sh), so it works on a fresh machine.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export PATH="$HOME/.cargo/bin:$PATH"
# A one-shot CI build gains nothing from incremental caches, which are the
# larger part of target/debug; disk there can be tight.
if [ "${CI:-}" = true ]; then
    export CARGO_INCREMENTAL=0
fi

echo "==> lint: rustfmt, clippy -D warnings (native, wasm hydrate and csr)"
bash scripts/lint.sh

echo "==> unit and integration tests (the real server binary, real WebSockets)"
cargo test --workspace --locked

if [ "${CI:-}" = true ]; then
    # Nothing below uses the debug build; free its disk for the release ones.
    rm -rf target/debug
fi

echo "==> building the site and server (release, with wasm-opt)"
bash scripts/build-release.sh

echo "==> building the static client (Trunk, client-side rendering) into dist/"
trunk build --release

echo "==> deployment recipe: installed binary and site folder, over HTTPS"
bash deploy/check.sh

echo "==> browser tests: Playwright + Chromium, loopback-only network namespace"
cd end2end
rm -rf test-results screenshots
mkdir -p screenshots
# In its own network namespace nothing can leave the machine and ICE can
# only pair 127.0.0.1 candidates; the tests start the server inside it too.
run_isolated='ip link set lo up && exec npx playwright test "$@"'
if [ "$(id -u)" = 0 ]; then
    unshare --net sh -c "$run_isolated" sh "$@"
else
    unshare --map-root-user --net sh -c "$run_isolated" sh "$@"
fi
