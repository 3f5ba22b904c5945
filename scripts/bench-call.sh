#!/usr/bin/env bash
# Benchmark (not a test): time from pressing "Join now" to the first decoded
# frame from every other participant, for 2 and 4 people, in a mesh and
# through the server (SFU, with its media thread's CPU), in real Chromium
# over loopback; a speaker change to the new speaker's full-size layer, and
# each person's video download in a 5-person mesh vs SFU; and time to
# interactive (navigation start to the app's
# "noom-interactive" mark). Prints RESULT lines; record them in docs/BENCHMARKS.md.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export PATH="$HOME/.cargo/bin:$PATH"
bash scripts/build-release.sh
cd end2end
unshare --net sh -c 'ip link set lo up && exec npx playwright test -c playwright.bench.config.ts' 2>&1 | grep -E "RESULT|passed|failed"
