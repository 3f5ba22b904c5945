#!/usr/bin/env bash
# Sets up a fresh machine if needed, builds Noom (release) and runs it on
# http://127.0.0.1:3000 (override with --addr or NOOM_ADDR; see --help).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export PATH="$HOME/.cargo/bin:$PATH"
bash scripts/build-release.sh
LEPTOS_SITE_ROOT="${LEPTOS_SITE_ROOT:-target/site}" exec target/release/server "$@"
