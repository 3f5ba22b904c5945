#!/usr/bin/env bash
# Benchmark (not a test): chat relay latency and throughput between two
# clients on the same node, and on two nodes sharing rooms through Redis.
# Starts its own redis-server and two server processes on free ports.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh >/dev/null
export PATH="$HOME/.cargo/bin:$PATH"
cargo build --release --bin server --bin relay_bench 2>&1 | tail -1
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
RP=$(port); A=$(port); B=$(port)
# One client sends thousands of messages a second here: lift the per-connection
# rate limit, which would otherwise (rightly) refuse it.
UNLIMITED="--msgs-per-sec 1e9 --msgs-burst 1e9"
redis-server --port "$RP" --bind 127.0.0.1 --save '' --appendonly no >/dev/null & RPID=$!
until redis-cli -p "$RP" ping >/dev/null 2>&1; do sleep 0.1; done
target/release/server --addr "127.0.0.1:$A" --log warn $UNLIMITED --redis-url "redis://127.0.0.1:$RP" >/dev/null & APID=$!
target/release/server --addr "127.0.0.1:$B" --log warn $UNLIMITED --redis-url "redis://127.0.0.1:$RP" >/dev/null & BPID=$!
trap 'kill $APID $BPID $RPID 2>/dev/null || true' EXIT
sleep 1.5
echo "same node:"
target/release/relay_bench "ws://127.0.0.1:$A/ws" "ws://127.0.0.1:$A/ws" "${MESSAGES:-5000}" "${RATE:-1000}"
echo "across nodes (A -> Redis -> B):"
target/release/relay_bench "ws://127.0.0.1:$A/ws" "ws://127.0.0.1:$B/ws" "${MESSAGES:-5000}" "${RATE:-1000}"
