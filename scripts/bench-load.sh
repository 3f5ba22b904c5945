#!/usr/bin/env bash
# Benchmark (not a test): the signaling load generator against release
# builds of the server, for the budgets in docs/BENCHMARKS.md.
#   1. relay latency at 10,000 messages/s (rooms of 2, half chat, half signals)
#   2. delivered messages per second (rooms of 10, chat)
#   3. 50,000 idle connections: three nodes behind one Redis (one process may
#      hold 20,000 file descriptors here), three generators, rooms of 2
# The generator runs on the same 2 cores as the servers.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh >/dev/null
export PATH="$HOME/.cargo/bin:$PATH"
cargo build --release --bin server --bin loadgen 2>&1 | tail -1
ulimit -n "$(ulimit -Hn)"
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true' EXIT
# Every generated connection comes from 127.0.0.1: no per-address limit.
serve() { target/release/server --addr "127.0.0.1:$1" --log warn --max-conns-per-ip 0 "${@:2}" >/dev/null & pids+=($!); }
wait_port() { until python3 -c "import socket; socket.create_connection(('127.0.0.1',$1))" 2>/dev/null; do sleep 0.1; done; }

# Signaling only: rooms of 10 stay meshes, so no media session is opened
# for a generated connection that cannot answer one.
P=$(port); serve "$P" --media-mode mesh --max-peers 10; wait_port "$P"; SPID=${pids[-1]}
echo "== 1. relay latency at 10,000 msg/s (2,000 connections, rooms of 2)"
target/release/loadgen --url "ws://127.0.0.1:$P/ws" --conns 2000 --room-size 2 --rate 10000 \
    --signal-share 0.5 --duration "${DURATION:-10}" --server-pid "$SPID" --label lat | grep -v '^RESULT'
echo "== 2. throughput (2,000 connections, rooms of 10, 12,000 chat messages/s offered)"
target/release/loadgen --url "ws://127.0.0.1:$P/ws" --conns 2000 --room-size 10 --rate 12000 \
    --signal-share 0 --duration "${DURATION:-10}" --server-pid "$SPID" --label thr | grep -v '^RESULT'
kill "$SPID"

echo "== 3. 50,000 idle connections on three nodes"
# One process may hold 20,000 sockets here, so three processes; they run
# standalone: idle memory is per connection, and the Redis join path is
# measured separately (scenario 4).
nodes=(); npids=()
for _ in 1 2 3; do
    N=$(port); serve "$N"; wait_port "$N"
    nodes+=("$N"); npids+=("${pids[-1]}")
done
rss() { for p in "$@"; do grep VmRSS "/proc/$p/status"; done | awk '{s += $2} END {print s}'; }
before=$(rss "${npids[@]}")
out=$(mktemp -d); gens=()
for i in 0 1 2; do
    # One generator per node (each process may hold 20,000 sockets); they
    # hold their connections idle for 20 s, long enough to overlap.
    target/release/loadgen --url "ws://127.0.0.1:${nodes[$i]}/ws" --conns "${IDLE_PER_NODE:-16667}" \
        --room-size 2 --rate 0 --duration 20 --parallel 100 --label "idle$i" > "$out/$i" &
    gens+=($!)
done
# Sample the nodes' memory while everyone is connected.
peak=0
while kill -0 "${gens[@]}" 2>/dev/null; do
    now=$(rss "${npids[@]}"); [ "$now" -gt "$peak" ] && peak=$now; sleep 1
done
wait "${gens[@]}" || true
for i in 0 1 2; do grep -v '^RESULT' "$out/$i" | head -1; done
joined=$(grep -h '^RESULT' "$out"/* | python3 -c 'import json,sys; print(sum(json.loads(l[7:])["joined"] for l in sys.stdin))')
python3 - "$before" "$peak" "$joined" <<'PY'
import sys
before, peak, joined = (int(x) for x in sys.argv[1:])
print(f"{joined} connections joined; three nodes' RSS {before/1024:.1f} MiB before, peak {peak/1024:.1f} MiB "
      f"({(peak-before)*1024/max(joined,1):.0f} bytes per connection)")
PY
rm -rf "$out"
for p in "${npids[@]}"; do kill "$p"; done

echo "== 4. joins through Redis: 2,000 connections, rooms of 2, on two nodes"
RP=$(port)
redis-server --port "$RP" --bind 127.0.0.1 --save '' --appendonly no >/dev/null & pids+=($!)
until redis-cli -p "$RP" ping >/dev/null 2>&1; do sleep 0.1; done
A=$(port); serve "$A" --redis-url "redis://127.0.0.1:$RP"; wait_port "$A"
B=$(port); serve "$B" --redis-url "redis://127.0.0.1:$RP"; wait_port "$B"
target/release/loadgen --url "ws://127.0.0.1:$A/ws,ws://127.0.0.1:$B/ws" --conns 2000 --room-size 2 \
    --rate 2000 --duration 5 --label cluster | grep -v '^RESULT'
