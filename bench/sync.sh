#!/usr/bin/env bash
# The live sync benchmark: builds the release server and the load client
# (crates/server/examples/sync_load.rs), then measures on SQLite (one node)
# and, when PostgreSQL is reachable, on two nodes sharing one database:
# push latency from one device's write to another device of the same user,
# changes applied per second with 100 devices writing, and the server's
# memory per idle socket.
#
#   bench/sync.sh [IDLE_SOCKETS]      (default 10000)
set -euo pipefail
cd "$(dirname "$0")/.."
IDLE="${1:-10000}"
cargo build --release --quiet --bin basic-admin --example sync_load
# Both ends hold one descriptor per socket.
ulimit -n "$(ulimit -Hn)"
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
echo "== SQLite, one node"
target/release/examples/sync_load target/release/basic-admin "sqlite://$WORK/bench.db" 1 "$IDLE"
if pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then
  DB="basic_sync_bench_$$"
  psql -q -h 127.0.0.1 -U postgres -c "CREATE DATABASE $DB" postgres
  echo "== PostgreSQL, two nodes"
  target/release/examples/sync_load target/release/basic-admin "postgres://postgres@127.0.0.1:5432/$DB" 2 "$IDLE"
  psql -q -h 127.0.0.1 -U postgres -c "DROP DATABASE $DB" postgres
fi
