#!/usr/bin/env bash
# The HTTP load benchmark: builds a release binary, starts it on a fresh data
# folder (SQLite, then PostgreSQL when reachable), seeds it through its API,
# and measures each scenario with wrk for a fixed time and concurrency.
#
#   bench/load.sh [SECONDS] [CONNECTIONS]      (needs wrk: apt-get install wrk)
#
# Prints one table: requests/s, p50, p99 and non-2xx answers per scenario, and
# exits non-zero if any scenario saw an error answer.
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION="${1:-10}"
CONNECTIONS="${2:-32}"
PORT=3999
BASE="http://127.0.0.1:$PORT"
command -v wrk >/dev/null || { echo "wrk is needed: apt-get install wrk" >&2; exit 2; }
cargo build --release --quiet
BIN=target/release/basic-admin
WORK=$(mktemp -d)
trap 'kill $SERVER 2>/dev/null || true; rm -rf "$WORK"' EXIT

# Latency percentiles and non-2xx counts, from wrk's Lua hooks.
cat > "$WORK/report.lua" <<'LUA'
done = function(summary, latency, requests)
  local errors = summary.errors.status + summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout
  io.write(string.format("RESULT %.0f %.2f %.2f %d\n", summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, errors))
end
LUA

run() { # name, url [, Lua that sets up the request]
  local name=$1 url=$2 setup=${3:-}
  local line
  { printf '%s\n' "$setup"; cat "$WORK/report.lua"; } > "$WORK/scenario.lua"
  line=$(wrk -t2 -c"$CONNECTIONS" -d"${DURATION}s" -s "$WORK/scenario.lua" "$url" | grep '^RESULT')
  read -r _ rps p50 p99 errors <<<"$line"
  printf '%-10s %-44s %10s %9s %9s %7s\n' "$BACKEND" "$name" "$rps" "$p50" "$p99" "$errors"
  [ "$errors" = "0" ] || FAILED=1
}

bench() { # backend, database url
  BACKEND=$1
  rm -rf "$WORK/data"
  "$BIN" serve --listen "127.0.0.1:$PORT" --data-dir "$WORK/data" --database-url "$2" --log warn &
  SERVER=$!
  for _ in $(seq 1 100); do curl -sf "$BASE/" >/dev/null && break; sleep 0.1; done
  local seed project key table item
  seed=$(python3 bench/seed.py "$BASE")
  field() { python3 -c "import json,sys; print(json.load(sys.stdin)['$1'])" <<<"$seed"; }
  project=$(field project_id)
  key=$(field key)
  table=$(field table)
  item=$(field item)
  local as_key="wrk.headers[\"Authorization\"] = \"Bearer $key\""
  run "GET / (the ceiling)" "$BASE/"
  run "GET /project/{id}/schema (cached)" "$BASE/project/$project/schema"
  run "POST /project/{id}/key/verify (cached)" "$BASE/project/$project/key/verify" "$as_key
wrk.method = \"POST\"
wrk.headers[\"Content-Type\"] = \"application/json\"
wrk.body = '{\"key\": \"$key\"}'"
  run "GET /project/{id} with an API key" "$BASE/project/$project" "$as_key"
  run "GET .../db/{table}/{item} (item get)" "$BASE$item" "$as_key"
  run "GET .../db/{table}?limit=100 (table read)" "$BASE$table?limit=100" "$as_key"
  run "POST .../db/{table} (item create)" "$BASE$table" "$as_key
wrk.method = \"POST\"
wrk.headers[\"Content-Type\"] = \"application/json\"
wrk.body = '{\"value\": {\"title\": \"Buy milk\", \"done\": false, \"priority\": 2, \"notes\": \"two litres\", \"tags\": [\"home\"]}}'"
  kill "$SERVER"; wait "$SERVER" 2>/dev/null || true
}

FAILED=0
printf '%-10s %-44s %10s %9s %9s %7s\n' backend scenario 'req/s' 'p50 ms' 'p99 ms' errors
bench sqlite "sqlite://$WORK/data/basic-admin.db"
if pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then
  DB="bench_$$"
  psql -q -h 127.0.0.1 -U postgres -c "CREATE DATABASE $DB" postgres
  bench postgres "postgres://postgres@127.0.0.1:5432/$DB"
  psql -q -h 127.0.0.1 -U postgres -c "DROP DATABASE $DB" postgres
fi
exit $FAILED
