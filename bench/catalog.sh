#!/usr/bin/env bash
# Load benchmark of the catalog page: 20 products with the viewer's price, as alpine's buyer,
# with wrk at fixed concurrency, in one run against
#   policy     the server with the shipped policy
#   allow-all  the same server and query with an allow-all policy (bench/allow-all/)
#   uncached   the shipped policy with the catalog page cache off (every page read from SQL)
#   bare       a bare axum handler returning a page-sized JSON body
# on SQLite and (when PORTICO_BENCH_PG is a server URL) PostgreSQL. Prints Markdown; reports,
# never asserts.
#
#   bench/catalog.sh                 # CONCURRENCY=32 DURATION=15s by default
#   PORTICO_BENCH_PG=postgres://postgres@127.0.0.1:5432 bench/catalog.sh
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/portico-target}"
CONCURRENCY="${CONCURRENCY:-32}"
DURATION="${DURATION:-15s}"
THREADS="${THREADS:-2}"
command -v wrk >/dev/null || { echo "wrk is missing: apt-get install wrk" >&2; exit 1; }
cargo build --release --locked -q -p portico -p portico-bench --bin portico --bin bare
BIN="$CARGO_TARGET_DIR/release"
WORK="$(mktemp -d)"
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$WORK"' EXIT

wait_port() { for _ in $(seq 1 100); do curl -s -o /dev/null "http://127.0.0.1:$1/healthz" && return 0; sleep 0.1; done; return 1; }

run() { # name port
  local out
  out=$(TOKEN="$TOKEN" HOST=northwind.localhost wrk -t"$THREADS" -c"$CONCURRENCY" -d"$DURATION" --latency \
    -s bench/catalog.lua "http://127.0.0.1:$2/graphql" | grep '^RESULT')
  echo "| $BACKEND | $1 | $(echo "$out" | sed -E 's/.*rps=([0-9.]+).*/\1/') | $(echo "$out" | sed -E 's/.*p50_ms=([0-9.]+).*/\1/') | $(echo "$out" | sed -E 's/.*p99_ms=([0-9.]+).*/\1/') | $(echo "$out" | sed -E 's/.*non200=([0-9]+).*/\1/') |"
}

serve() { # port policy_dir(or "") database_url(or "") page_cache_entries(or "")
  local env=(PORTICO_LOG__FILTER=warn)
  [ -n "$2" ] && env+=(PORTICO_POLICY_DIR="$2")
  [ -n "$3" ] && env+=(PORTICO_DATABASE_URL="$3")
  [ -n "${4:-}" ] && env+=(PORTICO_CATALOG__PAGE_CACHE_ENTRIES="$4")
  env "${env[@]}" "$BIN/portico" serve --demo --data-dir "$WORK/data" --listen "127.0.0.1:$1" >"$WORK/serve-$1.log" 2>&1 &
  wait_port "$1"
}

echo "# Catalog page load ($(date -u +%Y-%m-%d), wrk -t$THREADS -c$CONCURRENCY -d$DURATION, $(nproc) cores)"
echo
echo "| backend | server | requests/s | p50 ms | p99 ms | non-200 |"
echo "|---|---|---|---|---|---|"
BACKENDS=("sqlite|")
if [ -n "${PORTICO_BENCH_PG:-}" ]; then
  psql "$PORTICO_BENCH_PG/postgres" -qc 'DROP DATABASE IF EXISTS portico_bench WITH (FORCE)' >/dev/null
  psql "$PORTICO_BENCH_PG/postgres" -qc 'CREATE DATABASE portico_bench' >/dev/null
  BACKENDS+=("postgres|$PORTICO_BENCH_PG/portico_bench")
fi
port=18180
for entry in "${BACKENDS[@]}"; do
  BACKEND="${entry%%|*}"; URL="${entry#*|}"
  rm -rf "$WORK/data"
  for variant in policy allow-all uncached; do
    port=$((port + 1))
    policy=""; [ "$variant" = allow-all ] && policy="$PWD/bench/allow-all"
    cache=""; [ "$variant" = uncached ] && cache=0
    serve "$port" "$policy" "$URL" "$cache"
    TOKEN=$(env ${URL:+PORTICO_DATABASE_URL=$URL} "$BIN/portico" token --user buyer@alpine.test --data-dir "$WORK/data")
    # Warm-up: caches, connections, the first scope computation.
    TOKEN="$TOKEN" HOST=northwind.localhost wrk -t1 -c4 -d2s -s bench/catalog.lua "http://127.0.0.1:$port/graphql" >/dev/null
    if [ "$variant" = policy ]; then
      curl -s "http://127.0.0.1:$port/graphql" -H 'content-type: application/json' -H 'Host: northwind.localhost' \
        -H "Authorization: Bearer $TOKEN" -d "$(sed -n "s/^wrk.body = '\(.*\)'$/\1/p" bench/catalog.lua)" >"$WORK/page.json"
    fi
    run "$variant" "$port"
    kill %% 2>/dev/null || true; wait 2>/dev/null || true
  done
  port=$((port + 1))
  "$BIN/bare" "127.0.0.1:$port" "$WORK/page.json" >/dev/null &
  wait_port "$port" || sleep 1
  run bare "$port"
  kill %% 2>/dev/null || true; wait 2>/dev/null || true
done
echo
echo "Page: $(wc -c <"$WORK/page.json") bytes of JSON, 20 products with price and list price."
