#!/usr/bin/env bash
# The product on PostgreSQL beside the anchor and the product on SQLite, in ONE run (ratios only
# mean something within one run on this shared 2-core machine), with the same harness as
# bench/product_bench.sh (bench/harness/, method in docs/benchmarks.md):
#
#   1,000 and 10,000 chats walking the whole flow, one update at a time, then CONCURRENCY
#   (default 32) updates of different chats in flight:
#     anchor/pickle, product (SQLite file), product (PostgreSQL), each on a new database
#   two processes: two harnesses driving the product on ONE new PostgreSQL database at the
#     same time (--start-at), each walking its own half of the chats (--chat-offset); one
#     update at a time in each, then CONCURRENCY/2 in flight in each (CONCURRENCY in all).
#     Reported as all their updates ÷ the wall time of the two (bench/report.py combine)
#
# PostgreSQL is a local throw-away server started with `scripts/pg start --durable` (fsync,
# synchronous_commit and full_page_writes on, as SQLite's commits are durable), on 127.0.0.1,
# stopped at the end; PG_DIR=DIR uses a server already started by scripts/pg instead. Every
# PostgreSQL row gets a database of its own (createdb). The product runs in webhook mode there
# (WEBHOOK_URL set, nothing listens: the harness calls process_update itself), the mode that
# lets several processes share a database, so the one- and two-process rows run the same code.
# Its connection pool is the product's default (bot/storage/postgres.py, 10 per process).
# Each PostgreSQL line also records `wal_syncs`: the server's WAL flushes to disk during the row
# (pg_stat_wal, reset before it; the server serves nothing else), i.e. the durable commits paid.
#
#   bench/pg_bench.sh [OUT_DIR]          # 1k and 10k chats
#   QUICK=1 bench/pg_bench.sh            # 1k chats only, a few minutes
#   CHATS="100" bench/pg_bench.sh /tmp/x # other levels (a smoke run)
#   CHATS=10000 FLIGHTS=32 bench/pg_bench.sh   # one level, only the rows with 32 in flight
#   FSYNC_OFF_TOO=1 bench/pg_bench.sh    # and "product (PostgreSQL, fsync off)" on a second
#                                        # server as the tests run it (scripts/pg start): not a
#                                        # comparison, the price of the durable commits
#
# On a 2-core machine the two processes, the server and anything else running share the same
# two cores: the two-process rows measure what a second process adds on THIS machine, not how
# the product scales on a machine with a core per process.
#
# Results: OUT_DIR (default bench/results)/pg-<time>.{jsonl,md,log}; the .md holds the tables.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"  # the harness imports bench.harness and the factory from the current directory
PY="${PYTHON:-$ROOT/.venv/bin/python}"
HARNESS="${HARNESS:-$ROOT/bench/harness}"
OUT="${1:-$ROOT/bench/results}"
QUICK="${QUICK:-0}"
CONCURRENCY="${CONCURRENCY:-32}"
RUN_TIMEOUT="${RUN_TIMEOUT:-900}"  # seconds; a hung run is killed, the rest carry on
TIME_LIMIT="${TIME_LIMIT:-$((RUN_TIMEOUT - 150))}"
STAGGER="${STAGGER:-15}"  # seconds for both processes to start and open before they walk

if [[ "$QUICK" == 1 ]]; then LEVELS=(1000); else LEVELS=(1000 10000); fi
[[ -n "${CHATS:-}" ]] && read -r -a LEVELS <<<"$CHATS"  # e.g. CHATS="100 500": other levels
read -r -a FLIGHTS <<<"${FLIGHTS:-1 $CONCURRENCY}"  # FLIGHTS=32: only the busy rows

mkdir -p "$OUT"
STAMP="$(date +%Y%m%d-%H%M%S)"
SUFFIX=""; [[ "$QUICK" == 1 ]] && SUFFIX="-quick"
RES="$OUT/pg-$STAMP$SUFFIX.jsonl"
LOG="${RES%.jsonl}.log"
TMP="$(mktemp -d "${TMPDIR:-/tmp}/pgbench-XXXXXX")"

STARTED_PG=""
if [[ -z "${PG_DIR:-}" ]]; then
  PG_DIR="$(scripts/pg start --durable)"
  STARTED_PG=1
fi
FAST_DIR=""  # FSYNC_OFF_TOO=1: a second server as the tests run it, for one diagnostic row
[[ "${FSYNC_OFF_TOO:-0}" == 1 ]] && FAST_DIR="$(scripts/pg start)"
cleanup() {
  [[ -n "$STARTED_PG" ]] && scripts/pg stop "$PG_DIR"
  [[ -n "$FAST_DIR" ]] && scripts/pg stop "$FAST_DIR"
  rm -rf "$TMP"
}
trap cleanup EXIT
PG_PORT="$(cat "$PG_DIR/port")"
PG_BIN="$(cat "$PG_DIR/bin")"
psql_() { "$PG_BIN/psql" -h 127.0.0.1 -p "$PG_PORT" -U triage -d postgres -Atc "$1"; }
PG_DESC="PostgreSQL $(psql_ 'show server_version'), fsync $(psql_ 'show fsync'), synchronous_commit $(psql_ 'show synchronous_commit'), local (127.0.0.1)"
DBS=0
wal_reset() { psql_ "SELECT pg_stat_reset_shared('wal')" >/dev/null; }
wal_syncs() { sleep 1; psql_ "SELECT wal_sync FROM pg_stat_wal"; }  # WAL flushes to disk since the reset
DB_URL=""
new_db() {  # a new, empty database; its URL in DB_URL (no subshell: DBS must count)
  DBS=$((DBS + 1))
  "$PG_BIN/createdb" -h 127.0.0.1 -p "$PG_PORT" -U triage "bench_$DBS"
  DB_URL="postgresql://triage@127.0.0.1:$PG_PORT/bench_$DBS"
}

source "$ROOT/bench/pinned_env.sh"  # the settings every run has
PG_WEBHOOK_URL=https://bench.invalid/telegram PG_WEBHOOK_SECRET=bench-secret-token
PG_BOT="product (PostgreSQL)"

run() {  # run BOT HARNESS_ARGS... : one measurement, annotated, appended to $RES
  local bot="$1"; shift
  local one="$TMP/one.jsonl" t0=$SECONDS load
  rm -f "$one"
  load="$(cut -d' ' -f1 /proc/loadavg)"
  [[ "$bot" == "$PG_BOT" ]] && wal_reset
  if ! timeout "$RUN_TIMEOUT" "$PY" "$HARNESS" run --time-limit "$TIME_LIMIT" --out "$one" "$@" \
    >>"$LOG" 2>&1; then
    echo "  FAILED: $bot $* (see $LOG)" >&2
  fi
  if [[ -s "$one" ]]; then
    local extra=()
    [[ "$bot" == "$PG_BOT" ]] && extra=(database="$PG_DESC" wal_syncs="$(wal_syncs)")
    "$PY" bench/report.py annotate "$one" stored_before=0 bot="$bot" loadavg_before="$load" \
      "${extra[@]}" >>"$RES"
  fi
  printf '  %-22s load %-5s %-56s %4ss\n' "$bot" "$load" "$*" $((SECONDS - t0))
}

sqlite_product() {  # sqlite_product CHATS ARGS...
  DBS=$((DBS + 1))
  local dir="$TMP/sqlite-$DBS"
  mkdir -p "$dir"
  DATABASE_PATH="$dir/triage.db" run "product (SQLite)" --app bot.app:build_application \
    --flow bench/flow_product.json --label "product (SQLite)" "$@"
  rm -rf "$dir"
}

pg_product() {  # pg_product ARGS...
  new_db
  DATABASE_URL="$DB_URL" WEBHOOK_URL="$PG_WEBHOOK_URL" WEBHOOK_SECRET_TOKEN="$PG_WEBHOOK_SECRET" \
    run "$PG_BOT" --app bot.app:build_application --flow bench/flow_product.json \
    --label "$PG_BOT" "$@"
}

pg_fast_product() {  # the same on the fsync-off server: what the durable commits cost
  [[ -n "$FAST_DIR" ]] || return 0
  DBS=$((DBS + 1))
  local port
  port="$(cat "$FAST_DIR/port")"
  "$PG_BIN/createdb" -h 127.0.0.1 -p "$port" -U triage "bench_$DBS"
  DATABASE_URL="postgresql://triage@127.0.0.1:$port/bench_$DBS" WEBHOOK_URL="$PG_WEBHOOK_URL" \
    WEBHOOK_SECRET_TOKEN="$PG_WEBHOOK_SECRET" run "$PG_BOT, fsync off" \
    --app bot.app:build_application --flow bench/flow_product.json --label "$PG_BOT, fsync off" "$@"
}

two_processes() {  # two_processes CHATS IN_FLIGHT_EACH AGAINST (the one-process row's in flight)
  local chats="$1" each="$2" against="$3" half=$(($1 / 2)) start_at load t0=$SECONDS i pids=()
  new_db
  load="$(cut -d' ' -f1 /proc/loadavg)"
  start_at=$(($(date +%s) + STAGGER))
  rm -f "$TMP"/part-*.jsonl
  wal_reset
  for i in 0 1; do
    DATABASE_URL="$DB_URL" WEBHOOK_URL="$PG_WEBHOOK_URL" WEBHOOK_SECRET_TOKEN="$PG_WEBHOOK_SECRET" \
      timeout "$RUN_TIMEOUT" "$PY" "$HARNESS" run \
      --app bot.app:build_application --flow bench/flow_product.json --label "$PG_BOT" \
      --chats "$half" --chat-offset $((i * half)) --seed $((i + 1)) --concurrency "$each" \
      --start-at "$start_at" --time-limit "$TIME_LIMIT" --out "$TMP/part-$i.jsonl" \
      >>"$LOG" 2>&1 &
    pids+=($!)
  done
  for i in 0 1; do
    wait "${pids[$i]}" || echo "  FAILED: process $i of two, $chats chats (see $LOG)" >&2
  done
  if [[ -s "$TMP/part-0.jsonl" && -s "$TMP/part-1.jsonl" ]]; then
    cat "$TMP/part-0.jsonl" "$TMP/part-1.jsonl" >"$TMP/parts.jsonl"
    "$PY" bench/report.py combine "$TMP/parts.jsonl" stored_before=0 bot="$PG_BOT" \
      loadavg_before="$load" database="$PG_DESC" against_in_flight="$against" \
      wal_syncs="$(wal_syncs)" >>"$RES"
  fi
  printf '  %-22s load %-5s %-56s %4ss\n' "2 × $PG_BOT" "$load" \
    "2 processes × $half chats, $each in flight each" $((SECONDS - t0))
}

echo "python: $PY ($("$PY" -c 'import sys, telegram; print(sys.version.split()[0], "PTB", telegram.__version__)'))"
echo "server: $PG_DESC ($PG_DIR)"
echo "results: $RES"
for chats in "${LEVELS[@]}"; do
  for flight in "${FLIGHTS[@]}"; do
    echo "== $chats chats, $flight in flight"
    run anchor/pickle --variant anchor --persistence pickle --chats "$chats" --flush-budget 20 \
      --concurrency "$flight"
    sqlite_product --chats "$chats" --concurrency "$flight"
    pg_product --chats "$chats" --concurrency "$flight"
    pg_fast_product --chats "$chats" --concurrency "$flight"
    two_processes "$chats" $(((flight + 1) / 2)) "$flight"
  done
done

echo
"$PY" bench/report.py "$RES" --out "${RES%.jsonl}.md"
