#!/usr/bin/env bash
# Installs everything Noom needs to build, run and test, skipping whatever is
# already there, so a second run takes seconds. Safe to run any number of times.
set -euo pipefail
cd "$(dirname "$0")/.."

CARGO_LEPTOS_VERSION=0.3.10
BINARYEN_VERSION=132
TRUNK_VERSION=0.21.14
export PATH="$HOME/.cargo/bin:$PATH"

say() { printf '\n==> %s\n' "$*"; }

as_root() {
    if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi
}

# System packages: Chromium for the browser tests, iproute2 + util-linux for
# the loopback-only network namespace they run in, nftables to cut the
# media path in the ICE-restart test, redis-server for the scale-out tests
# and coturn's turnserver for the TURN tests (they start their own
# instances; none needs to be running), and for
# the deployment check: openssl, curl and systemd-analyze.
missing=()
command -v chromium >/dev/null || missing+=(chromium)
command -v ip >/dev/null || missing+=(iproute2)
command -v unshare >/dev/null || missing+=(util-linux)
command -v nft >/dev/null || missing+=(nftables)
command -v redis-server >/dev/null || missing+=(redis-server)
command -v turnserver >/dev/null || missing+=(coturn)
command -v node >/dev/null || missing+=(nodejs npm)
# Reactions are emoji: drawn in colour, as on people's own machines.
fc-list 2>/dev/null | grep -q NotoColorEmoji || missing+=(fonts-noto-color-emoji)
# deploy/check.sh: a certificate, HTTPS fetches, and checking the unit file.
command -v openssl >/dev/null || missing+=(openssl)
command -v curl >/dev/null || missing+=(curl)
command -v systemd-analyze >/dev/null || missing+=(systemd)
if [ ${#missing[@]} -gt 0 ]; then
    say "installing system packages: ${missing[*]}"
    as_root apt-get update -q
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -q "${missing[@]}"
fi

# rust-toolchain.toml pins the compiler. Where rustup can download, it
# installs it; a machine with one preinstalled toolchain of exactly that
# version (and no way to fetch another) gets the pin as an alias of it.
pinned=$(sed -n 's/^channel = "\(.*\)"$/\1/p' rust-toolchain.toml)
if ! rustup run "$pinned" rustc --version >/dev/null 2>&1; then
    host=$(RUSTUP_TOOLCHAIN=stable rustc -vV | sed -n 's/^host: //p')
    toolchains="${RUSTUP_HOME:-$HOME/.rustup}/toolchains"
    if RUSTUP_TOOLCHAIN=stable rustc --version | grep -q "^rustc $pinned "; then
        say "using the installed stable toolchain as the pinned $pinned"
        ln -s "$toolchains/stable-$host" "$toolchains/$pinned-$host"
    else
        say "installing the pinned toolchain $pinned"
        rustup toolchain install "$pinned"
    fi
fi

if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
    say "adding the wasm32 target"
    rustup target add wasm32-unknown-unknown
fi

# The release wasm rebuilds the standard library for size (build-release.sh);
# the lint gate in test.sh needs rustfmt and clippy.
for component in rust-src rustfmt clippy; do
    if ! rustup component list --installed | grep -q "^$component"; then
        say "adding the $component component"
        rustup component add "$component"
    fi
done

# cargo-leptos 0.3.11+ needs a newer rustc than this machine's; no_downloads
# makes any attempt to fetch a tool an error instead of a hang.
if ! cargo leptos --version 2>/dev/null | grep -q "$CARGO_LEPTOS_VERSION"; then
    say "installing cargo-leptos $CARGO_LEPTOS_VERSION (about 18 minutes on 2 cores)"
    cargo install cargo-leptos --version "$CARGO_LEPTOS_VERSION" --locked --features no_downloads
fi

# cargo-leptos takes wasm-bindgen from PATH; it must equal Cargo.lock's.
WASM_BINDGEN_VERSION=$(grep -A1 '^name = "wasm-bindgen"$' Cargo.lock | sed -n 's/^version = "\(.*\)"/\1/p')
if ! wasm-bindgen --version 2>/dev/null | grep -q " $WASM_BINDGEN_VERSION\$"; then
    say "installing wasm-bindgen-cli $WASM_BINDGEN_VERSION"
    CARGO_RESOLVER_INCOMPATIBLE_RUST_VERSIONS=fallback \
        cargo install wasm-bindgen-cli --version "=$WASM_BINDGEN_VERSION" --force
fi

# Release builds run wasm-opt. Debian's binaryen (v108) emits a broken wasm,
# so use the npm build of a current binaryen.
if ! wasm-opt --version 2>/dev/null | grep -q "version $BINARYEN_VERSION"; then
    say "installing wasm-opt (binaryen $BINARYEN_VERSION from npm)"
    as_root npm install -g --no-fund --no-audit "binaryen@$BINARYEN_VERSION"
fi

# The static build (index.html, Trunk.toml). 0.22 needs a newer rustc; without
# default features there is no update check to phone home.
if ! trunk --version 2>/dev/null | grep -q " $TRUNK_VERSION\$"; then
    say "installing trunk $TRUNK_VERSION (about 8 minutes on 2 cores)"
    cargo install trunk --version "$TRUNK_VERSION" --locked --no-default-features --features rustls
fi

# Playwright drives Debian's Chromium; it must not download browsers.
stamp=end2end/node_modules/.noom-lock-sha
want=$(sha256sum end2end/package-lock.json | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    say "installing end-to-end test dependencies"
    (cd end2end && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-fund --no-audit)
    echo "$want" > "$stamp"
fi

say "setup complete"
