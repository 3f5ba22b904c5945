#!/usr/bin/env bash
# Benchmark (not a test): the SFU under load from native WebRTC clients
# (tools/loadgen's sfu_load, on str0m like the server). For each room count
# in ROOMS it starts a fresh release server routing every room through its
# media engine, pinned to core 0, and the generator pinned to core 1, and
# prints the generator's report. docs/BENCHMARKS.md ("The SFU under load")
# has the figures and how to read them.
#   ROOMS="2 4 8" ROOM_SIZE=5 DURATION=10 KBPS=150,500,1500 scripts/bench-sfu.sh
# MEDIA_THREADS=2 SERVER_CORES=0,1 runs the server with two media threads on
# both cores (the generator stays on GENERATOR_CORES, default 1).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
bash scripts/build-release.sh >/dev/null
cargo build --release -p loadgen --bin sfu_load 2>&1 | tail -1
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
# exec: in the background, `$!` must be the server itself, not a subshell.
pin() { if [ "$(nproc)" -ge 2 ]; then exec taskset -c "$1" "${@:2}"; else exec "${@:2}"; fi; }
for rooms in ${ROOMS:-2 4 8 12}; do
    P=$(port)
    # Every participant connects from 127.0.0.1: lift the per-address cap.
    (pin "${SERVER_CORES:-0}" target/release/server --addr "127.0.0.1:$P" --log warn --media-mode sfu \
        --max-conns-per-ip 0 --media-threads "${MEDIA_THREADS:-1}" >/dev/null) &
    SPID=$!
    trap 'kill $SPID 2>/dev/null || true' EXIT
    until curl -sf "http://127.0.0.1:$P/metrics" >/dev/null; do sleep 0.1; done
    echo "== $rooms rooms of ${ROOM_SIZE:-5}"
    (pin "${GENERATOR_CORES:-1}" target/release/sfu_load --url "ws://127.0.0.1:$P/ws" --rooms "$rooms" \
        --room-size "${ROOM_SIZE:-5}" --duration "${DURATION:-10}" --kbps "${KBPS:-150,500,1500}" \
        --speaker-every "${SPEAKER_EVERY:-0}" --server-pid "$SPID")
    kill "$SPID"; wait "$SPID" 2>/dev/null || true
done
