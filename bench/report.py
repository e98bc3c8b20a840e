"""Turn benchmark results (JSON lines) into the Markdown tables of docs/benchmarks.md.

Reads what bench/flow_bench.py, bench/product_bench.sh (bench/harness's ``run`` lines,
annotated), bench/prefill.py and bench/startup_bench.py append to bench/results/*.jsonl, and
prints ready-to-paste tables, with the ratios and the performance targets listed in
docs/benchmarks.md. Several runs of the same row are reduced to their median.

    .venv/bin/python bench/report.py bench/results/product-*.jsonl [--out bench/results/x.md]
    .venv/bin/python bench/report.py RESULTS.jsonl --docs docs/benchmarks.md  # fill its results
    .venv/bin/python bench/report.py annotate RUN.jsonl KEY=VALUE ...   # used by the scripts
    .venv/bin/python bench/report.py combine PARTS.jsonl KEY=VALUE ...  # several processes' run
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from collections import defaultdict
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

# The performance targets (docs/benchmarks.md)
TARGET_VS_ANCHOR = 1.5  # per-update cost, product / anchor
TARGET_P50_GROWTH = 1.2  # p50 at 100k stored / p50 at 1k
TARGET_RSS_GROWTH_MB = 30.0  # peak RSS at 100k stored - at 1k
TARGET_COMPILE_MS = 100.0  # 200-step flow, load (parse + validate) + compile
TARGET_STEP_US = 50.0  # one engine step, median
TARGET_STARTUP_S = 1.5  # `triage-bot run` start to first getUpdates

# bench/breakdown.py
SLOW_S = 0.002  # a call over 2 ms is a stall (a WAL checkpoint, the OS scheduling us out ...)
BACKGROUND = "[background] "  # rows timed outside the update's own task (they overlap it)
INSIDE = "↳ "  # rows that are part of the row above (not added again)


def read_rows(paths: Iterable[str | Path]) -> list[dict[str, Any]]:
    rows = []
    for path in paths:
        for line in Path(path).read_text(encoding="utf-8").splitlines():
            line = line.strip()
            if line.startswith("{"):
                rows.append(json.loads(line))
    return rows


def _median(values: Iterable[Any]) -> float | None:
    numbers = [v for v in values if isinstance(v, int | float) and not isinstance(v, bool)]
    return statistics.median(numbers) if numbers else None


def _num(value: float | None, digits: int = 0) -> str:
    if value is None:
        return "–"
    return f"{value:,.{digits}f}"


def _ok(good: bool | None) -> str:
    if good is None:
        return "not measured"
    return "**met**" if good else "**missed**"


def _machine(rows: Sequence[dict[str, Any]]) -> str:
    return next((r["machine"] for r in rows if r.get("machine")), "?")


# --- flow and engine ---------------------------------------------------------------------------


def flow_tables(rows: Sequence[dict[str, Any]]) -> str:
    out: list[str] = []
    loads = [r for r in rows if r.get("kind") == "flow_load"]
    steps = [r for r in rows if r.get("kind") == "engine_step"]
    convs = [r for r in rows if r.get("kind") == "engine_conversation"]
    jsons = [r for r in rows if r.get("kind") == "session_json"]
    if loads:
        out.append(f"Machine: {_machine(loads)}\n")
        out.append(
            "| flow | steps | file KB | YAML parse alone ms | `load_flow` (parse + validate) ms "
            "| `compile_flow` ms | load + compile ms | target | runs |"
        )
        out.append("|---|---:|---:|---:|---:|---:|---:|---|---:|")
        for name, group in _grouped(loads, "flow").items():
            total = _median(r["load_and_compile_ms"] for r in group)
            generated = name.startswith("generated")
            met = total is not None and total < TARGET_COMPILE_MS
            target = f"< {TARGET_COMPILE_MS:.0f} ms: {_ok(met)}" if generated else ""
            out.append(
                f"| {name} | {group[0]['steps']} | {group[0]['bytes'] / 1024:,.1f} "
                f"| {_num(_median(r['yaml_load_ms'] for r in group), 2)} "
                f"| {_num(_median(r['load_flow_ms'] for r in group), 2)} "
                f"| {_num(_median(r['compile_flow_ms'] for r in group), 2)} "
                f"| {_num(total, 2)} | {target} | {len(group) * group[0]['repeats']} |"
            )
        out.append("")
    if steps:
        out.append(
            "| flow | input | at step | answers in session | median µs | p99 µs | mean µs "
            "| target (median < 50 µs) |"
        )
        out.append("|---|---|---|---:|---:|---:|---:|---|")
        for (name, kind), group in _grouped(steps, "flow", "input").items():
            median = _median(r["median_us"] for r in group)
            out.append(
                f"| {name} | {kind} | `{group[0]['step']}` | {group[0]['answers_before']} "
                f"| {_num(median, 1)} | {_num(_median(r['p99_us'] for r in group), 1)} "
                f"| {_num(_median(r['mean_us'] for r in group), 1)} "
                f"| {_ok(median is not None and median < TARGET_STEP_US)} |"
            )
        out.append("")
    if convs or jsons:
        out.append(
            "| flow | whole conversation (start + inputs) µs | inputs | µs per input "
            "| session JSON bytes | `to_json` µs | `from_json` µs |"
        )
        out.append("|---|---:|---:|---:|---:|---:|---:|")
        for name, group in _grouped(convs, "flow").items():
            js = [r for r in jsons if r["flow"] == name]
            out.append(
                f"| {name} | {_num(_median(r['median_us'] for r in group))} | {group[0]['inputs']} "
                f"| {_num(_median(r['per_input_us'] for r in group), 1)} "
                f"| {_num(_median(r['bytes'] for r in js))} "
                f"| {_num(_median(r['to_json']['median_us'] for r in js), 1)} "
                f"| {_num(_median(r['from_json']['median_us'] for r in js), 1)} |"
            )
    return "\n".join(out)


def _grouped(rows: Iterable[dict[str, Any]], *keys: str) -> dict[Any, list[dict[str, Any]]]:
    groups: dict[Any, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        key = row[keys[0]] if len(keys) == 1 else tuple(row[k] for k in keys)
        groups[key].append(row)
    return dict(groups)


# --- the product through the harness ----------------------------------------------------------


def _level(row: dict[str, Any]) -> int:
    """Conversations stored when the run ends: seeded / pre-filled ones plus the live ones."""
    return int(row.get("stored_before", row.get("seeded_chats", 0)) + row.get("live_chats", 0))


def _bot(row: dict[str, Any]) -> str:
    return str(row.get("bot") or row.get("label"))


def _flight(row: dict[str, Any]) -> int:
    """Updates of different chats in flight at once in the run (1: one at a time)."""
    return int(row.get("concurrency", 1))


def _marked(row: dict[str, Any]) -> dict[str, Any]:
    return {**row, "_level": _level(row), "_bot": _bot(row), "_flight": _flight(row)}


def product_tables(rows: Sequence[dict[str, Any]]) -> str:
    runs = [r for r in rows if "updates_per_s" in r]
    out: list[str] = []
    if not runs:
        return ""
    out.append(f"Machine: {_machine(runs)}\n")
    groups = _grouped((_marked(r) for r in runs), "_level", "_flight", "_bot")
    anchor: dict[tuple[int, int], float] = {}
    floor: dict[tuple[int, int], float] = {}
    for (level, flight, bot), group in groups.items():
        ups = _median(r["updates_per_s"] for r in group)
        if ups and bot.startswith("anchor") and "pickle" in bot:
            anchor[level, flight] = ups
        if ups and bot == "floor":
            floor[level, flight] = ups
    out.append(
        "| stored conversations (walking live) | in flight | bot | updates | upd/s "
        "| cost × anchor | × floor (upd/s) | p50 µs | p99 µs | max µs | µs per conversation "
        "| API calls/upd | peak RSS MB | runs |"
    )
    out.append("|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    order = {"floor": 0}
    for (level, flight, bot), group in sorted(
        groups.items(),
        key=lambda kv: (
            kv[0][0], kv[0][1], order.get(kv[0][2], 1 if "anchor" in kv[0][2] else 2), kv[0][2],
        ),
    ):  # fmt: skip
        ups = _median(r["updates_per_s"] for r in group)
        base = anchor.get((level, flight))
        cost = f"{base / ups:.2f}" if base and ups else "–"
        low = floor.get((level, flight))
        vs_floor = f"{ups / low:.2f}" if ups and low else "–"
        per_chat = group[0]["updates"] / max(1, group[0]["live_chats"])
        bad = sum(r.get("failed", 0) + r.get("errors", 0) for r in group)
        warn = f" ⚠ {bad} failed" if bad else ""
        out.append(
            f"| {level:,} ({group[0]['live_chats']:,}) | {flight} | {bot}{warn} "
            f"| {group[0]['updates']:,} "
            f"| {_num(ups)} | {cost} | {vs_floor} "
            f"| {_num(_median(r['p50_us'] for r in group))} "
            f"| {_num(_median(r['p99_us'] for r in group))} "
            f"| {_num(_median(r['max_us'] for r in group))} "
            f"| {_num(per_chat * 1e6 / ups if ups else None)} "
            f"| {_num(_median(r['api_calls_per_update'] for r in group), 2)} "
            f"| {_num(_median(r['peak_rss_mb'] for r in group))} | {len(group)} |"
        )
    out.append("")
    out.append(
        "“in flight” = updates of different chats in `process_update` at once (1: one at a "
        "time; more: the latencies include waiting for the others). "
        "“cost × anchor” = the anchor's upd/s ÷ this row's (anchor = ConversationHandler + "
        "PicklePersistence with PTB's defaults, at the same number of conversations and in "
        "flight; < 1 is cheaper). “µs per conversation” = time to walk one person from /start "
        "to the outcome (the product's walk has more updates: ticks, Done and a typed age)."
    )
    prefills = [r for r in rows if r.get("kind") == "prefill"]
    if prefills:
        p = prefills[-1]
        out.append(
            f"\nPre-filled database: {p['conversations']:,} stored conversations "
            f"({p['finished']:,} finished, {p['mid_flow']:,} mid-flow), "
            f"{p['db_mb']:,.1f} MB, written in {p['seconds']:,.1f} s through `bot.storage`."
        )
    return "\n".join(out)


def startup_table(rows: Sequence[dict[str, Any]]) -> str:
    starts = [r for r in rows if r.get("kind") == "startup"]
    if not starts:
        return ""
    out = [
        "| database | runs | start → first `getUpdates` s (median) | min | max "
        "| of which Python + `import telegram.ext` alone | Bot API calls before the first poll "
        "| target (< 1.5 s) |",
        "|---|---:|---:|---:|---:|---:|---|---|",
    ]
    for name, group in _grouped(starts, "database").items():
        times = [t for r in group for t in r["seconds"]]
        median = _median(times)
        calls = group[-1].get("calls_before_first_poll", [])
        out.append(
            f"| {name} | {len(times)} | {_num(median, 2)} | {_num(min(times), 2)} "
            f"| {_num(max(times), 2)} "
            f"| {_num(_median(r.get('python_and_ptb_import_s') for r in group), 2)} "
            f"| {', '.join(calls)} "
            f"| {_ok(median is not None and median < TARGET_STARTUP_S)} |"
        )
    return "\n".join(out)


def targets_table(rows: Sequence[dict[str, Any]]) -> str:
    """One line per performance target, from whatever rows are present."""
    lines = ["| target | measured | verdict |", "|---|---|---|"]
    runs = [_marked(r) for r in rows if "updates_per_s" in r]
    product = [r for r in runs if r["_bot"] == "product"]
    for level, flight in sorted({(r["_level"], r["_flight"]) for r in product}):
        mine = _median(
            r["updates_per_s"] for r in product if (r["_level"], r["_flight"]) == (level, flight)
        )
        theirs = _median(
            r["updates_per_s"]
            for r in runs
            if (r["_level"], r["_flight"]) == (level, flight)
            and r["_bot"].startswith("anchor")
            and "pickle" in r["_bot"]
        )
        if mine and theirs:
            ratio = theirs / mine
            how = "one update at a time" if flight == 1 else f"{flight} updates in flight"
            lines.append(
                f"| per-update cost ≤ {TARGET_VS_ANCHOR}× the anchor's, {level:,} conversations, "
                f"{how} | {ratio:.2f}× ({mine:,.0f} vs {theirs:,.0f} upd/s) "
                f"| {_ok(ratio <= TARGET_VS_ANCHOR)} |"
            )
    product = [r for r in product if r["_flight"] == 1]  # growth: one update at a time
    levels = sorted({r["_level"] for r in product})
    if len(levels) >= 2:
        low, high = levels[0], levels[-1]
        p50_low = _median(r["p50_us"] for r in product if r["_level"] == low)
        p50_high = _median(r["p50_us"] for r in product if r["_level"] == high)
        rss_low = _median(r["peak_rss_mb"] for r in product if r["_level"] == low)
        rss_high = _median(r["peak_rss_mb"] for r in product if r["_level"] == high)
        if p50_low and p50_high:
            ratio = p50_high / p50_low
            lines.append(
                f"| p50 at {high:,} ≤ {TARGET_P50_GROWTH}× p50 at {low:,} "
                f"| {ratio:.2f}× ({p50_high:,.0f} vs {p50_low:,.0f} µs) "
                f"| {_ok(ratio <= TARGET_P50_GROWTH)} |"
            )
        if rss_low and rss_high:
            growth = rss_high - rss_low
            lines.append(
                f"| peak RSS at {high:,} ≤ RSS at {low:,} + {TARGET_RSS_GROWTH_MB:.0f} MB "
                f"| {growth:+.0f} MB ({rss_high:,.0f} vs {rss_low:,.0f} MB) "
                f"| {_ok(growth <= TARGET_RSS_GROWTH_MB)} |"
            )
    loads = [r for r in rows if r.get("kind") == "flow_load" and r["flow"].startswith("generated")]
    if loads:
        total = _median(r["load_and_compile_ms"] for r in loads)
        assert total is not None
        lines.append(
            f"| {loads[0]['steps']}-step flow: compile + validate < {TARGET_COMPILE_MS:.0f} ms "
            f"| {total:.1f} ms | {_ok(total < TARGET_COMPILE_MS)} |"
        )
    steps = [r for r in rows if r.get("kind") == "engine_step" and not r["flow"].startswith("gen")]
    if steps:
        worst = max(
            (_median(r["median_us"] for r in g) or 0.0, k)
            for k, g in _grouped(steps, "input").items()
        )
        lines.append(
            f"| one engine step < {TARGET_STEP_US:.0f} µs median (default flow) "
            f"| slowest input {worst[1]}: {worst[0]:.1f} µs | {_ok(worst[0] < TARGET_STEP_US)} |"
        )
    starts = [t for r in rows if r.get("kind") == "startup" for t in r["seconds"]]
    if starts:
        median = statistics.median(starts)
        lines.append(
            f"| start to first poll < {TARGET_STARTUP_S} s | {median:.2f} s (median) "
            f"| {_ok(median < TARGET_STARTUP_S)} |"
        )
    return "\n".join(lines) if len(lines) > 2 else ""


def breakdown_table(row: dict[str, Any]) -> str:
    """One bench/breakdown.py run: where the time of one update goes."""
    if row.get("db_thread"):
        how = "every unit of work on aiosqlite's thread, the update's commit too (experiment)"
    elif row.get("db_inline"):  # runs before 2026-12-06: the experiment was the other way round
        how = "SQL run inline on the event loop's thread (experiment)"
    elif "db_thread" in row:
        how = "as the bot runs (the update's commit on the event loop's thread when idle)"
    else:
        how = "as the bot ran before 2026-12-06 (SQL on aiosqlite's thread)"
    lines = [
        f"{how}: {row['chats']:,} chats, {row['updates']:,} updates, "
        f"**{row['us_per_update']:,.0f} µs per update** in `process_update` "
        f"(of which the in-process fake Bot API: {row['fake_api_us_per_update']:,.0f} µs); "
        f"load average before the run {row.get('loadavg_before', 0):.1f}\n",
        "| part of the update path | µs per update | share | calls per update | µs per call "
        f"| calls over {SLOW_S * 1e3:.0f} ms per 1,000 updates | µs per update in those |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    counted = 0.0
    parts: dict[str, dict[str, Any]] = row["parts"]
    ordered: list[str] = []
    for name in parts:  # each unit of work's "inside" row right under its round trip
        if name.startswith(INSIDE):
            continue
        ordered.append(name)
        unit = name.rsplit(".", 1)[-1]
        ordered += [n for n in parts if n.startswith(INSIDE) and n.endswith(f": {unit}")]
    ordered += [n for n in parts if n not in ordered]
    for name in ordered:
        part = parts[name]
        # "inside" rows are part of their round trip's row; background rows overlap updates
        if not name.startswith((INSIDE, BACKGROUND)):
            counted += part["us_per_update"]
        lines.append(
            f"| {name} | {part['us_per_update']:,.0f} | {part['share']:.0%} "
            f"| {part['calls_per_update']:.2f} | {part['us_per_call']:,.0f} "
            f"| {part['stalls_per_1000_updates']:.1f} | {part['stall_us_per_update']:,.0f} |"
        )
    rest = row["us_per_update"] - counted
    lines.append(
        f"| the rest (PTB dispatch, handlers, locks, session JSON, event loop) | {rest:,.0f} "
        f"| {rest / row['us_per_update']:.0%} | | | | |"
    )
    return "\n".join(lines)


def combine(rows: Sequence[dict[str, Any]], extra: dict[str, Any]) -> dict[str, Any]:
    """Several harness processes that walked their own chats on one database at the same
    time (bench/pg_bench.sh) as one ``kind: processes`` line: updates ÷ the wall time from
    the first process's first update to the last one's last (``began_at``, ``ended_at``)."""
    began = min(r["began_at"] for r in rows)
    ended = max(r["ended_at"] for r in rows)
    updates = sum(r["updates"] for r in rows)
    wall = ended - began
    return {
        "kind": "processes",
        "processes": len(rows),
        "concurrency": rows[0].get("concurrency", 1),  # in flight in each process
        "live_chats": sum(r["live_chats"] for r in rows),
        "updates": updates,
        "wall_s": round(wall, 3),
        "updates_per_s_wall": updates / wall if wall > 0 else None,
        # the time all of them were walking at once, and each one's own figures
        "overlap_s": round(min(r["ended_at"] for r in rows) - max(r["began_at"] for r in rows), 3),
        "each_updates_per_s_wall": [r["e2e_updates_per_s"] for r in rows],
        "each_wall_s": [r["wall_s"] for r in rows],
        "p50_us": _median(r["p50_us"] for r in rows),
        "p99_us": max(r["p99_us"] for r in rows),
        "api_calls_per_update": _median(r["api_calls_per_update"] for r in rows),
        "peak_rss_mb": max(r["peak_rss_mb"] for r in rows),
        "failed": sum(r.get("failed", 0) for r in rows),
        "errors": sum(r.get("errors", 0) for r in rows),
        "machine": _machine(rows),
        **extra,
    }


def processes_table(rows: Sequence[dict[str, Any]]) -> str:
    """One process against several on one database (``kind: processes`` lines, and the one-
    process rows of the same bot and level they name: ``against_in_flight``), by wall time."""
    combined = [r for r in rows if r.get("kind") == "processes"]
    if not combined:
        return ""
    single = [_marked(r) for r in rows if "updates_per_s" in r]
    out = [
        "| stored conversations (walking live) | bot | processes × in flight each "
        "| in flight in all | updates | wall s | upd/s (updates ÷ wall) | × one process "
        "| each process's upd/s | p50 µs | p99 µs | load before |",
        "|---|---|---|---:|---:|---:|---:|---:|---|---:|---:|---:|",
    ]
    for row in combined:
        level = int(row.get("stored_before", 0) + row["live_chats"])
        total = row["processes"] * row["concurrency"]
        bot = str(row.get("bot", "product"))
        against = row.get("against_in_flight", total)  # the one-process row it stands beside
        ones = [
            r for r in single if (r["_level"], r["_flight"], r["_bot"]) == (level, against, bot)
        ]
        one = _median(r["e2e_updates_per_s"] for r in ones)
        for r in ones:
            out.append(
                f"| {level:,} ({r['live_chats']:,}) | {bot} | 1 × {against} | {against} "
                f"| {r['updates']:,} | {_num(r['wall_s'], 1)} | {_num(r['e2e_updates_per_s'])} "
                f"| 1.00 | | {_num(r['p50_us'])} | {_num(r['p99_us'])} "
                f"| {_num(r.get('loadavg_before'), 1)} |"
            )
        ups = row.get("updates_per_s_wall")
        bad = row.get("failed", 0) + row.get("errors", 0)
        warn = f" ⚠ {bad} failed" if bad else ""
        each = ", ".join(_num(u) for u in row["each_updates_per_s_wall"])
        out.append(
            f"| {level:,} ({row['live_chats']:,}) | {bot}{warn} "
            f"| {row['processes']} × {row['concurrency']} | {total} | {row['updates']:,} "
            f"| {_num(row['wall_s'], 1)} | {_num(ups)} "
            f"| {f'{ups / one:.2f}' if ups and one else '–'} | {each} "
            f"| {_num(row['p50_us'])} | {_num(row['p99_us'])} "
            f"| {_num(row.get('loadavg_before'), 1)} |"
        )
    out += [
        "",
        "“upd/s (updates ÷ wall)” = all the processes' updates ÷ the wall time from the first "
        "update sent by any of them to the last one answered, the driver's own work included "
        "(so a one-process row here reads lower than its upd/s in the table above, which "
        "leaves the driver out). Each process walks its own half of the chats.",
    ]
    return "\n".join(out)


def full_report(rows: Sequence[dict[str, Any]]) -> str:
    parts = []
    targets = targets_table(rows)
    if targets:
        parts += ["### Targets", "", targets, ""]
    product = product_tables(rows)
    if product:
        parts += ["### Throughput, latency and memory (one run)", "", product, ""]
    processes = processes_table(rows)
    if processes:
        parts += ["### Several processes on one database", "", processes, ""]
    startup = startup_table(rows)
    if startup:
        parts += ["### Start to first poll (`triage-bot run`, local fake Bot API)", "", startup, ""]
    breakdowns = [r for r in rows if r.get("kind") == "breakdown"]
    if breakdowns:
        parts += ["### Where the product's time per update goes (bench/breakdown.py)", ""]
        for row in breakdowns:
            parts += [breakdown_table(row), ""]
    flow = flow_tables(rows)
    if flow:
        parts += ["### Flow loading and the engine", "", flow, ""]
    return "\n".join(parts)


def _pairs(pairs: Sequence[str]) -> dict[str, Any]:
    extra: dict[str, Any] = {}
    for pair in pairs:
        key, _, value = pair.partition("=")
        try:
            extra[key] = json.loads(value)
        except json.JSONDecodeError:
            extra[key] = value
    return extra


def annotate(path: Path, pairs: Sequence[str]) -> None:
    """Print the JSON lines of ``path`` with KEY=VALUE fields added (VALUE as JSON if it parses)."""
    extra = _pairs(pairs)
    for row in read_rows([path]):
        print(json.dumps({**row, **extra}))


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "annotate":
        annotate(Path(argv[1]), argv[2:])
        return 0
    if argv and argv[0] == "combine":
        print(json.dumps(combine(read_rows([Path(argv[1])]), _pairs(argv[2:]))))
        return 0
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("results", nargs="+", help="JSON-lines files")
    parser.add_argument("--out", type=Path, help="also write the Markdown here")
    parser.add_argument(
        "--docs", type=Path, help="replace the results between the markers in this Markdown file"
    )
    args = parser.parse_args(argv)
    text = full_report(read_rows(args.results))
    print(text)
    if args.out:
        args.out.write_text(text + "\n", encoding="utf-8")
    if args.docs:
        sources = ", ".join(f"`{Path(p).as_posix()}`" for p in args.results)
        fill_docs(args.docs, f"<!-- generated by bench/report.py from {sources} -->\n\n{text}")
    return 0


RESULTS_START = "<!-- results:start -->"
RESULTS_END = "<!-- results:end -->"


def fill_docs(path: Path, text: str) -> None:
    """Put ``text`` between the results markers of a Markdown file (the rest is kept)."""
    doc = path.read_text(encoding="utf-8")
    head, start, rest = doc.partition(RESULTS_START)
    _, end, tail = rest.partition(RESULTS_END)
    if not start or not end:
        raise SystemExit(f"{path} has no {RESULTS_START} ... {RESULTS_END} markers")
    path.write_text(f"{head}{start}\n{text.strip()}\n{end}{tail}", encoding="utf-8")


if __name__ == "__main__":
    sys.exit(main())
