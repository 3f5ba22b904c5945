#!/usr/bin/env bash
# What a browser downloads on a first visit, from the release build in
# target/site (run `cargo leptos build --release --split --precompress`
# first): each file raw, gzip -9 (the budget's measure) and the brotli copy
# the server actually sends to browsers that accept it.
#   lobby (/):        main wasm + js glue + css + the split loader + crash.js
#   room link (/r/x): the same plus the room's wasm chunks (the manifest's
#                     list: its own and the one it shares with the HTTP fallback)
# and, apart, the HTTP fallback's chunks, fetched only where WebSocket fails.
set -euo pipefail
cd "$(dirname "$0")/.."
pkg=target/site/pkg
[ -f "$pkg/noom.wasm" ] || { echo "no release build in $pkg" >&2; exit 1; }
manifest=$pkg/__wasm_split_manifest.json
[ -f "$manifest" ] || { echo "no split manifest: build with --split" >&2; exit 1; }
# The chunk files a split function needs, from {"name_123": ["chunk_3", "split_name_123"], ...}.
chunks_of() {
    tr -d ' \n' < "$manifest" | grep -o "\"$1[_0-9]*\":\[[^]]*\]" | sed 's/.*:\[//; s/\]//; s/"//g' | tr ',' '\n' |
        sed "s|^|$pkg/|; s|\$|.wasm|"
}
room_chunks=$(chunks_of room_chunk)
[ -n "$room_chunks" ] || { echo "no room chunk in $manifest" >&2; exit 1; }

kb() { echo $(( ($1 + 500) / 1000 )); }  # KB = 1,000 bytes, as in docs/BENCHMARKS.md
br_size() { if [ -f "$1.br" ]; then stat -c%s "$1.br"; else echo 0; fi; }

total_raw=0 total_gz=0 total_br=0
row() {
    local f=$1 raw gz br
    raw=$(stat -c%s "$f")
    gz=$(gzip -9c "$f" | wc -c)
    br=$(br_size "$f")
    total_raw=$((total_raw + raw)) total_gz=$((total_gz + gz)) total_br=$((total_br + br))
    printf '| %s | %s KB | %s KB | %s KB |\n' "$(basename "$f")" "$(kb "$raw")" "$(kb "$gz")" "$(kb "$br")"
}

echo "| file | raw | gzip -9 | brotli (served) |"
echo "|---|---|---|---|"
for f in "$pkg/noom.wasm" "$pkg/noom.js" "$pkg/noom.css" "$pkg"/__wasm_split.*.js "$pkg/../crash.js"; do row "$f"; done
printf '| **lobby first load** | %s KB | **%s KB** | %s KB |\n' "$(kb $total_raw)" "$(kb $total_gz)" "$(kb $total_br)"
for f in $room_chunks; do row "$f"; done
printf '| **room link first load** | %s KB | **%s KB** | %s KB |\n' "$(kb $total_raw)" "$(kb $total_gz)" "$(kb $total_br)"
total_raw=0 total_gz=0 total_br=0
for f in $(chunks_of http_fallback); do row "$f"; done
printf '| HTTP fallback, when WebSocket fails | %s KB | %s KB | %s KB |\n' "$(kb $total_raw)" "$(kb $total_gz)" "$(kb $total_br)"
