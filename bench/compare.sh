#!/usr/bin/env bash
# Side-by-side comparison of portico binaries on the catalog page (20 products with price, as
# alpine's buyer, bench/catalog.lua), SQLite, wrk -t2 -c32 -d10s, the binaries served at once on
# their own demo databases and measured in turn, ROUNDS rounds. Reports, never asserts.
#
#   bench/compare.sh before=/tmp/portico-old after=target/release/portico
set -euo pipefail
cd "$(dirname "$0")/.."
command -v wrk >/dev/null || { echo "wrk is missing: apt-get install wrk" >&2; exit 1; }
ROUNDS="${ROUNDS:-3}"
W="$(mktemp -d)"; port=18400
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$W"' EXIT
declare -A PORT TOK
for nb in "$@"; do n=${nb%%=*}; b=${nb#*=}; port=$((port+1)); PORT[$n]=$port
  "$b" serve --demo --data-dir "$W/$n" --listen "127.0.0.1:$port" > "$W/$n.log" 2>&1 &
done
sleep 8
for nb in "$@"; do n=${nb%%=*}; b=${nb#*=}; TOK[$n]=$("$b" token --user buyer@alpine.test --data-dir "$W/$n")
  TOKEN=${TOK[$n]} HOST=northwind.localhost wrk -t1 -c4 -d2s -s bench/catalog.lua "http://127.0.0.1:${PORT[$n]}/graphql" >/dev/null; done
for round in $(seq 1 "$ROUNDS"); do for nb in "$@"; do n=${nb%%=*}
  echo "round $round $n $(TOKEN=${TOK[$n]} HOST=northwind.localhost wrk -t2 -c32 -d10s --latency -s bench/catalog.lua "http://127.0.0.1:${PORT[$n]}/graphql" | grep '^RESULT')"; done; done
