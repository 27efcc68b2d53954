#!/usr/bin/env bash
# Where the time goes: runs the release binary (with line tables) on SQLite,
# seeds it as bench/load.sh does, and records each data scenario with
# `perf record -g` while wrk loads it; prints the top frames of each.
#
#   bench/profile.sh [SECONDS]     (needs wrk and perf: apt-get install wrk linux-perf)
#
# The profiles stay in target/profile/ (perf.data per scenario), for
# `perf report -i …` or a flamegraph (inferno-collapse-perf | inferno-flamegraph).
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION="${1:-5}"
PORT=3997
BASE="http://127.0.0.1:$PORT"
OUT=target/profile
for tool in wrk perf; do command -v $tool >/dev/null || { echo "$tool is needed" >&2; exit 2; }; done
CARGO_PROFILE_RELEASE_DEBUG=line-tables-only CARGO_TARGET_DIR=target/profile-build cargo build --release --quiet
BIN=target/profile-build/release/basic-admin
mkdir -p "$OUT"
WORK=$(mktemp -d)
trap 'kill ${SERVER:-} 2>/dev/null || true; rm -rf "$WORK"' EXIT
"$BIN" serve --listen "127.0.0.1:$PORT" --data-dir "$WORK/data" --log warn &
SERVER=$!
for _ in $(seq 1 100); do curl -sf "$BASE/" >/dev/null && break; sleep 0.1; done
seed=$(python3 bench/seed.py "$BASE")
field() { python3 -c "import json,sys; print(json.load(sys.stdin)['$1'])" <<<"$seed"; }
key=$(field key); table=$(field table); item=$(field item)
auth="wrk.headers[\"Authorization\"] = \"Bearer $key\""
create="$auth
wrk.method = \"POST\"
wrk.headers[\"Content-Type\"] = \"application/json\"
wrk.body = '{\"value\": {\"title\": \"Buy milk\", \"done\": false, \"priority\": 2, \"notes\": \"two litres\", \"tags\": [\"home\"]}}'"

profile() { # name, url, Lua
  printf '%s\n' "$3" > "$WORK/s.lua"
  perf record -q -g -F 999 -p "$SERVER" -o "$OUT/$1.data" -- sleep "$DURATION" 2>/dev/null &
  local recorder=$!
  wrk -t2 -c32 -d"${DURATION}s" -s "$WORK/s.lua" "$2" | grep Requests/sec
  wait $recorder
  echo "== $1: top frames (self time)"
  perf report -q -i "$OUT/$1.data" --no-children --sort dso,symbol --percent-limit 1.5 --stdio -g none 2>/dev/null \
    | grep -E '^ +[0-9]' | cut -c1-150 | sed -n 1,20p || true
  echo "== $1: top frames (with callees)"
  perf report -q -i "$OUT/$1.data" --children --sort symbol --percent-limit 4 --stdio -g none 2>/dev/null \
    | grep -E '^ +[0-9]' | cut -c1-150 | sed -n 1,45p || true
}
profile item-get "$BASE$item" "$auth"
profile table-read "$BASE$table?limit=100" "$auth"
profile item-create "$BASE$table" "$create"
