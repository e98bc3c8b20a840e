"""``python -m bench.harness run ...``: one measurement, printed as one JSON line.

    python -m bench.harness run --variant floor --chats 1000
    python -m bench.harness run --variant anchor --persistence pickle --chats 1000
    python -m bench.harness run --variant anchor --persistence pickle --seed-chats 20000
    python -m bench.harness run --app bot.app:build_application --chats 500 --chat-offset 500
    python -m bench.harness run --variant product --app bot.app:build_application \\
        --flow bench/flow_product.json --chats 1000 --out results.jsonl

Run it from the repository root (the factory is imported from the current directory). The
line holds updates/s, p50/p90/p99/max latency in µs, parse µs per update, Bot API calls per
update (and by method), the fake's own µs per update, peak RSS, completed and failed chats and
handler errors; with persistence also one timed ``update_persistence()`` (what the 60-second
timer would write for the whole run, stopped after ``--flush-budget`` seconds and the rest
estimated) and one ``flush()``. Every run is bounded (``--time-limit``); the exit status is 2
when a chat failed, a handler raised or the limit was reached.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from telegram.ext import DictPersistence

from bench.harness.baselines import (
    PERSISTENCE_KINDS,
    MeteredPicklePersistence,
    build_anchor,
    build_floor,
    seed_store,
)
from bench.harness.driver import (
    ANCHOR_WALK,
    AnyApp,
    Walk,
    bounded,
    build_app,
    close_app,
    drive,
    import_factory,
    machine,
    open_app,
    peak_rss_mb,
)
from bench.harness.fake_request import InProcessBotAPI

PRODUCT_FACTORY = "bot.app:build_application"
PRODUCT_WALK = Path(__file__).resolve().parents[1] / "flow_product.json"
SETUP_LIMIT_S = 120.0  # building, initialize() and shutdown() each


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(
        prog="python -m bench.harness", description=__doc__.split("\n\n")[0]
    )
    commands = top.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="one measurement; prints one JSON line")
    run.add_argument("--variant", choices=("floor", "anchor", "product"), default=None)
    run.add_argument("--app", help=f"the product's factory, module:function ({PRODUCT_FACTORY})")
    run.add_argument(
        "--app-kwarg",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="one more keyword for the factory (VALUE read as JSON when it parses; "
        "'{tmp}' becomes a new temporary folder)",
    )
    run.add_argument("--persistence", choices=PERSISTENCE_KINDS, default="none", help="anchor only")
    run.add_argument("--chats", type=int, default=1000, help="people walking the whole flow")
    run.add_argument(
        "--seed-chats",
        type=int,
        default=0,
        help="anchor with persistence: conversations stored before the run, loaded on start",
    )
    run.add_argument(
        "--seed-mid-flow",
        type=float,
        default=0.2,
        help="share of the stored conversations left at a question (0.2)",
    )
    run.add_argument("--inflight", type=int, default=1000, help="people mid-walk at once (1000)")
    run.add_argument(
        "--chat-offset",
        type=int,
        default=0,
        help="skip the first N chats (and their update ids): for several processes on one "
        "database, each walking its own chats (0)",
    )
    run.add_argument(
        "--start-at",
        type=float,
        help="wall-clock time (Unix seconds) to send the first update at, after the app is "
        "open: several processes started together then walk at the same time",
    )
    run.add_argument(
        "--concurrency",
        type=int,
        default=1,
        help="updates of different chats in process_update at once (1: one at a time)",
    )
    run.add_argument("--flow", type=Path, help="the walk file (default: the variant's own)")
    run.add_argument(
        "--driver",
        choices=("blackbox", "scripted"),
        help="press by label (default) or invent presses (default for the floor)",
    )
    run.add_argument(
        "--api-latency-ms",
        type=float,
        default=0.0,
        help="asyncio.sleep in every Bot API call (no network); default 0",
    )
    run.add_argument("--seed", type=int, default=1)
    run.add_argument(
        "--time-limit",
        type=float,
        default=300.0,
        help="stop sending updates after this many seconds (300)",
    )
    run.add_argument(
        "--flush-budget",
        type=float,
        default=30.0,
        help="seconds of file writes allowed in the timed update_persistence() (30)",
    )
    run.add_argument("--label", help="the row's name (default: the variant)")
    run.add_argument("--out", type=Path, help="also append the JSON line to this file")
    return top


def _extra_kwargs(pairs: Sequence[str], tmp: str) -> dict[str, Any]:
    extra: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep:
            raise SystemExit(f"--app-kwarg wants KEY=VALUE, got {pair!r}")
        value = value.replace("{tmp}", tmp)
        try:
            extra[key] = json.loads(value)
        except json.JSONDecodeError:
            extra[key] = value
    return extra


async def _time_persistence(app: AnyApp, budget_s: float) -> dict[str, Any]:
    """One ``update_persistence()`` as the 60-second timer would run it, then one ``flush()``."""
    store = app.persistence
    out: dict[str, Any] = {}
    metered = store if isinstance(store, MeteredPicklePersistence) else None
    writes_before = metered.writes if metered else 0
    started = time.perf_counter()
    if metered:
        metered.stop_writing_at = started + budget_s
    await bounded(app.update_persistence(), budget_s + SETUP_LIMIT_S, "update_persistence()")
    elapsed = time.perf_counter() - started
    if metered:
        out["update_persistence_file_writes"] = metered.writes - writes_before
        if metered.skipped:
            out["update_persistence_s"] = None
            out["update_persistence_timed_out_after_s"] = budget_s
            out["update_persistence_writes_skipped"] = metered.skipped
            out["update_persistence_estimated_s"] = elapsed + metered.skipped * metered.last_write_s
        else:
            out["update_persistence_s"] = elapsed
        if metered.writes:
            out["mean_file_write_s"] = metered.write_s / metered.writes
            out["last_file_write_s"] = metered.last_write_s
        metered.stop_writing_at = None
        metered.on_flush = True  # from here on only flush() writes (shutdown too): once
        started = time.perf_counter()
        await metered.flush()
        out["flush_s"] = time.perf_counter() - started
        out["file_bytes"] = os.path.getsize(metered.filepath)
    else:
        out["update_persistence_s"] = elapsed
    if isinstance(store, DictPersistence):
        started = time.perf_counter()
        texts = (store.conversations_json, store.user_data_json, store.chat_data_json)
        out["json_bytes"] = sum(len(t) for t in texts)
        out["json_serialise_s"] = time.perf_counter() - started
    return out


async def run(args: argparse.Namespace, tmp: str) -> dict[str, Any]:
    """One measurement; ``tmp`` is a folder for the run's files (the anchor's pickle ...)."""
    variant = args.variant or ("product" if args.app else "anchor")
    if args.app and variant != "product":
        raise SystemExit("--app is the product's factory: use it with --variant product")
    if args.seed_chats and variant != "anchor":
        raise SystemExit(
            "--seed-chats is for the anchor; for the product pre-fill its database "
            "(bench/prefill.py), the floor keeps no state"
        )
    if args.persistence != "none" and variant != "anchor":
        raise SystemExit("--persistence is for the anchor")
    scripted = (args.driver or ("scripted" if variant == "floor" else "blackbox")) == "scripted"
    flow = args.flow or (PRODUCT_WALK if variant == "product" else ANCHOR_WALK)
    walk = Walk.load(flow)

    gc.collect()
    rss_before = peak_rss_mb()
    api = InProcessBotAPI(capture=not scripted, latency_s=args.api_latency_ms / 1000)
    extra = _extra_kwargs(args.app_kwarg, tmp)
    factory: Any
    if variant == "floor":
        factory, label = build_floor, "floor"
    elif variant == "anchor":
        factory, label = build_anchor, f"anchor/{args.persistence}"
        extra.setdefault("persistence", args.persistence)
        extra.setdefault("data_dir", tmp)
        if args.seed_chats:
            extra["stored"] = seed_store(
                args.seed_chats, seed=args.seed, mid_flow=args.seed_mid_flow
            )
    else:
        spec = args.app or PRODUCT_FACTORY
        factory, label = import_factory(spec), spec
    app, injected = await bounded(build_app(factory, api, extra), SETUP_LIMIT_S, "building the app")
    extra.pop("stored", None)  # the stored conversations now live where the anchor loads them
    gc.collect()

    started = time.perf_counter()
    await bounded(open_app(app), SETUP_LIMIT_S, "initialize() and post_init")
    startup_s = time.perf_counter() - started
    if args.start_at is not None:
        await asyncio.sleep(max(0.0, args.start_at - time.time()))
    started = time.perf_counter()
    tally = await bounded(
        drive(
            app,
            api,
            walk,
            args.chats,
            inflight=args.inflight,
            seed=args.seed,
            scripted=scripted,
            time_limit_s=args.time_limit,
            concurrency=args.concurrency,
            chat_offset=args.chat_offset,
        ),
        args.time_limit + SETUP_LIMIT_S,
        "walking the chats",
    )
    run_s = time.perf_counter() - started
    row: dict[str, Any] = {
        "label": args.label or label,
        "variant": variant,
        "mode": "direct",
        "driver": "scripted" if scripted else "blackbox",
        "injected": injected,
        "walk": Path(flow).name,
        **tally.summary(),
        "chats": args.chats + args.seed_chats,
        "live_chats": args.chats,
        "seeded_chats": args.seed_chats,
        "inflight": args.inflight,
        "chat_offset": args.chat_offset,
        "api_latency_ms": args.api_latency_ms,
        "startup_s": round(startup_s, 3),
    }
    if app.persistence is not None:
        row |= await _time_persistence(app, args.flush_budget)
    row["user_data_entries"] = len(app.user_data)
    row["chat_data_entries"] = len(app.chat_data)
    row["peak_rss_mb"] = round(peak_rss_mb(), 1)
    row["rss_before_app_mb"] = round(rss_before, 1)
    row["run_s"] = round(run_s, 2)
    await bounded(close_app(app), SETUP_LIMIT_S, "shutdown()")
    row["machine"] = machine()
    return row


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="harness-") as tmp:
        row = asyncio.run(run(args, tmp))
    line = json.dumps(row)
    print(line, flush=True)
    if args.out:
        with args.out.open("a", encoding="utf-8") as fh:
            fh.write(line + "\n")
    if row["failed"] or row["errors"] or row.get("timed_out"):
        for example in row.get("failure_examples", []):
            print(f"  {example}", file=sys.stderr)
        return 2
    return 0
