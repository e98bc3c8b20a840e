#!/usr/bin/env bash
# The product against the harness's floor and anchor (bench/harness/), in ONE run (ratios only
# mean something within one run on this shared 2-core machine):
#
#   1,000 and 10,000 chats walking the whole flow: floor, anchor + PicklePersistence, product
#   100,000 stored conversations: the anchor with 100k chats loaded as stored state, the product
#     with a database pre-filled with 100k conversations (bench/prefill.py); 10k walk live
#   each of those with one update at a time, then the anchor and the product again with
#     CONCURRENCY (default 32) updates of different chats in flight at once (group commit)
#   start to first poll of `triage-bot run` (empty database, and the 100k one)
#   then bench/breakdown.py (where an update's time goes) and bench/flow_bench.py (loading,
#   compiling, one engine step), so that one results file holds every figure
#
# Every update is `await application.process_update(update)` with the Bot API answered
# in-process (bench/harness/, method in docs/benchmarks.md). The product is built by
# bot.app:build_application from the environment alone, and walked by button label with
# bench/flow_product.json.
#
#   bench/product_bench.sh [OUT_DIR]          # about half an hour
#   QUICK=1 bench/product_bench.sh            # about 2-5 minutes: 1k chats, 20k stored
#
# HARNESS (default bench/harness, run as `$PY bench/harness run ...`) may point at another
# harness with the same `run` command line.
#
# BASELINE=DIR (optional): another checkout of the product (e.g. `git archive <commit> | tar -x
# -C DIR`, with this bench/ copied in); its product runs beside ours in every row, labelled
# "product@$BASELINE_LABEL", so a change is measured against what it changes in ONE run. The
# stored conversations are written for it by its own bench/prefill.py (its schema may be older).
#
# Results: OUT_DIR (default bench/results)/product-<time>.{jsonl,md,log}; the .md holds the
# tables for docs/benchmarks.md and the README.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"  # the harness imports bench.harness and the factory from the current directory
PY="${PYTHON:-$ROOT/.venv/bin/python}"
HARNESS="${HARNESS:-$ROOT/bench/harness}"
OUT="${1:-$ROOT/bench/results}"
QUICK="${QUICK:-0}"
CONCURRENCY="${CONCURRENCY:-32}"  # updates of different chats in flight in the busy rows
BASELINE="${BASELINE:-}"
BASELINE_LABEL="${BASELINE_LABEL:-baseline}"
RUN_TIMEOUT="${RUN_TIMEOUT:-480}"  # seconds; a hung run is killed, the rest carry on
# the harness itself stops sending updates after this long (and reports the run as failed),
# leaving time for its persistence timing and shutdown before RUN_TIMEOUT
TIME_LIMIT="${TIME_LIMIT:-$((RUN_TIMEOUT - 150))}"

if [[ "$QUICK" == 1 ]]; then
  LEVELS=(1000); BIG_STORED=20000; BIG_LIVE=1000; STARTUP_RUNS=3
else
  LEVELS=(1000 10000); BIG_STORED=100000; BIG_LIVE=10000; STARTUP_RUNS=5
fi

[[ -e "$HARNESS" ]] || { echo "harness not found at $HARNESS (set HARNESS=...)" >&2; exit 1; }
mkdir -p "$OUT"
STAMP="$(date +%Y%m%d-%H%M%S)"
SUFFIX=""; [[ "$QUICK" == 1 ]] && SUFFIX="-quick"
RES="$OUT/product-$STAMP$SUFFIX.jsonl"
LOG="${RES%.jsonl}.log"
TMP="$(mktemp -d "${TMPDIR:-/tmp}/productbench-XXXXXX")"
trap 'rm -rf "$TMP"' EXIT

source "$ROOT/bench/pinned_env.sh"  # the settings every run has

run() {  # run STORED_BEFORE BOT HARNESS_ARGS... : one measurement, annotated, appended to $RES
  local stored="$1" bot="$2"; shift 2
  local one="$TMP/one.jsonl" t0=$SECONDS load
  rm -f "$one"
  load="$(cut -d' ' -f1 /proc/loadavg)"
  if ! timeout "$RUN_TIMEOUT" "$PY" "$HARNESS" run --time-limit "$TIME_LIMIT" --out "$one" "$@" \
    >>"$LOG" 2>&1; then
    echo "  FAILED: $bot $* (see $LOG)" >&2
  fi
  if [[ -s "$one" ]]; then
    "$PY" bench/report.py annotate "$one" stored_before="$stored" bot="$bot" \
      loadavg_before="$load" >>"$RES"
  fi
  printf '  %-16s %-62s %4ss\n' "$bot" "$*" $((SECONDS - t0))
}

product() {  # product STORED_BEFORE DATABASE ARGS... (and the baseline's, when given)
  local stored="$1" db="$2"; shift 2
  DATABASE_PATH="$db" run "$stored" product --app bot.app:build_application \
    --flow bench/flow_product.json --label product "$@"
  if [[ -n "$BASELINE" ]]; then
    local copy="${db%/*}-baseline/${db##*/}"
    mkdir -p "${copy%/*}"
    [[ "$stored" == 0 ]] || cp "$TMP/prefilled-baseline.db" "$copy"
    # its own bench/harness, run from its folder, imports its own bot package
    (cd "$BASELINE" && DATABASE_PATH="$copy" HARNESS="$BASELINE/bench/harness" \
      run "$stored" "product@$BASELINE_LABEL" --app bot.app:build_application \
      --flow bench/flow_product.json --label "product@$BASELINE_LABEL" "$@")
  fi
}

echo "python: $PY ($("$PY" -c 'import sys, telegram; print(sys.version.split()[0], "PTB", telegram.__version__)'))"
echo "harness: $HARNESS"
echo "results: $RES"
for chats in "${LEVELS[@]}"; do
  echo "== $chats chats"
  run 0 floor --variant floor --chats "$chats"
  run 0 anchor/pickle --variant anchor --persistence pickle --chats "$chats" --flush-budget 20
  product 0 "$TMP/db-$chats/triage.db" --chats "$chats"
  run 0 anchor/pickle --variant anchor --persistence pickle --chats "$chats" --flush-budget 20 \
    --concurrency "$CONCURRENCY"
  product 0 "$TMP/db-$chats-busy/triage.db" --chats "$chats" --concurrency "$CONCURRENCY"
done

echo "== $BIG_STORED stored conversations + $BIG_LIVE live"
t0=$SECONDS
mkdir -p "$TMP/big"
"$PY" bench/prefill.py "$BIG_STORED" "$TMP/prefilled.db" --out "$RES" >>"$LOG" 2>&1
printf '  %-16s %-62s %4ss\n' prefill "$BIG_STORED conversations through bot.storage" $((SECONDS - t0))
if [[ -n "$BASELINE" ]]; then  # the same people through the baseline's own storage and schema
  (cd "$BASELINE" && "$PY" bench/prefill.py "$BIG_STORED" "$TMP/prefilled-baseline.db") \
    >>"$LOG" 2>&1
fi
cp "$TMP/prefilled.db" "$TMP/big/triage.db"
run "$BIG_STORED" anchor/pickle --variant anchor --persistence pickle --chats "$BIG_LIVE" \
  --seed-chats "$BIG_STORED" --flush-budget 20
product "$BIG_STORED" "$TMP/big/triage.db" --chats "$BIG_LIVE"
mkdir -p "$TMP/big-busy"
cp "$TMP/prefilled.db" "$TMP/big-busy/triage.db"
run "$BIG_STORED" anchor/pickle --variant anchor --persistence pickle --chats "$BIG_LIVE" \
  --seed-chats "$BIG_STORED" --flush-budget 20 --concurrency "$CONCURRENCY"
product "$BIG_STORED" "$TMP/big-busy/triage.db" --chats "$BIG_LIVE" --concurrency "$CONCURRENCY"

echo "== start to first poll"
t0=$SECONDS
"$PY" bench/startup_bench.py --runs "$STARTUP_RUNS" --out "$RES" >>"$LOG" 2>&1 \
  || echo "  FAILED: startup (see $LOG)" >&2
"$PY" bench/startup_bench.py --runs "$STARTUP_RUNS" --database "$TMP/prefilled.db" \
  --label "$BIG_STORED stored conversations" --out "$RES" >>"$LOG" 2>&1 \
  || echo "  FAILED: startup with $BIG_STORED stored (see $LOG)" >&2
printf '  %-16s %-62s %4ss\n' startup "$STARTUP_RUNS runs, empty and pre-filled database" $((SECONDS - t0))

echo "== where the product's time goes, and the pure core"
t0=$SECONDS
BREAKDOWN_CHATS=1000; FLOW_ARGS=()
[[ "$QUICK" == 1 ]] && { BREAKDOWN_CHATS=300; FLOW_ARGS=(--quick); }
"$PY" bench/breakdown.py --chats "$BREAKDOWN_CHATS" --out "$RES" >>"$LOG" 2>&1 \
  || echo "  FAILED: breakdown (see $LOG)" >&2
"$PY" bench/breakdown.py --chats "$BREAKDOWN_CHATS" --db-thread --out "$RES" >>"$LOG" 2>&1 \
  || echo "  FAILED: breakdown --db-thread (see $LOG)" >&2
"$PY" bench/flow_bench.py "${FLOW_ARGS[@]}" --out "$RES" >>"$LOG" 2>&1 \
  || echo "  FAILED: flow_bench (see $LOG)" >&2
printf '  %-16s %-62s %4ss\n' breakdown+flow "bench/breakdown.py (both ways), bench/flow_bench.py" $((SECONDS - t0))

echo
"$PY" bench/report.py "$RES" --out "${RES%.jsonl}.md"
