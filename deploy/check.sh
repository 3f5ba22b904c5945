#!/usr/bin/env bash
# Follows README "Deploying: one binary and its site folder" literally, in a
# scratch directory: install the release build the way deploy/noom.service
# expects, start it from elsewhere with the unit's settings (a free port
# instead of 443, a certificate made here), and fetch a page, the wasm and
# the favicon over HTTPS. Run by scripts/test.sh after the release build.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(mktemp -d)
trap 'kill "${pid:-}" 2>/dev/null || true; rm -rf "$root"' EXIT

# The unit file itself must be valid (systemd-analyze checks keys and
# specifiers; the paths it names are created below under --root).
install -D target/release/server "$root/opt/noom/bin/noom-server"
mkdir -p "$root/opt/noom/site" && cp -r target/site/. "$root/opt/noom/site/"
mkdir -p "$root/etc/systemd/system" && cp deploy/noom.service "$root/etc/systemd/system/"
if command -v systemd-analyze >/dev/null; then
    # The targets the unit is ordered against.
    mkdir -p "$root/usr/lib/systemd" && cp -r /usr/lib/systemd/system "$root/usr/lib/systemd/"
    systemd-analyze verify --root="$root" noom.service
else
    echo "systemd-analyze not installed; unit file not verified" >&2
fi

# The unit's environment, with the port and the certificate paths changed.
mkdir -p "$root/creds"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -subj /CN=localhost \
    -addext subjectAltName=DNS:localhost -keyout "$root/creds/key.pem" -out "$root/creds/cert.pem" 2>/dev/null
cd /
env -i PATH=/usr/bin:/bin \
    LEPTOS_SITE_ROOT="$root/opt/noom/site" NOOM_ADDR=127.0.0.1:0 \
    NOOM_TLS_CERT="$root/creds/cert.pem" NOOM_TLS_KEY="$root/creds/key.pem" \
    "$root/opt/noom/bin/noom-server" > "$root/out" 2> "$root/log" &
pid=$!
for _ in $(seq 100); do grep -q 'listening' "$root/out" 2>/dev/null && break; sleep 0.1; done
url=$(sed -n 's/^noom listening on //p' "$root/out")
case "$url" in https://*) ;; *) echo "server did not start over TLS: $(cat "$root/out" "$root/log")" >&2; exit 1 ;; esac
port=${url##*:}
fetch() { curl -sS --fail --cacert "$root/creds/cert.pem" --resolve "localhost:$port:127.0.0.1" "https://localhost:$port$1" "${@:2}"; }
fetch / | grep -q '<title>Noom</title>'
[ "$(fetch /pkg/noom.wasm -o /dev/null -w '%{content_type}')" = application/wasm ]
# The build's precompressed copies are what browsers get.
[ "$(fetch /pkg/noom.wasm -H 'Accept-Encoding: br' -o /dev/null -D - | tr -d '\r' | sed -n 's/^content-encoding: //Ip')" = br ]
[ "$(fetch /pkg/noom.wasm -H 'Accept-Encoding: gzip' -o /dev/null -D - | tr -d '\r' | sed -n 's/^content-encoding: //Ip')" = gzip ]
# A room link's page preloads the room's wasm chunk, and it is served.
page=$(fetch /r/standup)
chunk=$(printf '%s' "$page" | grep -o 'pkg/split_room_chunk_[0-9]*\.wasm' | sed -n 1p)
[ -n "$chunk" ]
[ "$(fetch "/$chunk" -o /dev/null -w '%{content_type}')" = application/wasm ]
fetch /favicon.svg -o /dev/null
echo "deploy recipe: installed binary + site served the lobby, wasm (compressed), room chunk and favicon over HTTPS on $url"
