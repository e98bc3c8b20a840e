"""Where the product's time per update goes: the harness's traffic, with stopwatches.

Builds the product with ``bot.app.build_application`` against the harness's in-process Bot API
(bench/harness/), walks ``--chats`` people through bench/flow_product.json with the harness's
own driver, and times, per update, the pieces of the update path:

* every unit of work on the database (``Storage._run`` and ``Storage._run_short``, by unit: the
  commit, marking rows sent);
* every Bot API call (``Bot.do_api_request``, by method), which includes PTB's request
  building, JSON encoding and the in-process fake's answer;
* the engine (``Engine.handle``) and rendering its replies (``render.result_messages``).

The stopwatches wrap awaits, so a unit run on aiosqlite's thread includes the trip there and
back (``--db-thread`` sends the update's commit that way too, to price the trip).
``--profile FILE`` also writes a cProfile of the run (main thread only); ``--concurrency K``
keeps K chats' updates in flight at once, as the harness does. ``--sql`` also times every SQL
statement (by its first words, inside the units above) and counts the pages the commits wrote
to SQLite's write-ahead log, by the table or index each page belongs to (from the WAL file as
the walk ends: the commits since the log last started again, and ``dbstat``), which is what
COMMIT costs most by.

    .venv/bin/python bench/breakdown.py [--chats 1000] [--out results.jsonl]
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import functools
import json
import os
import sqlite3
import struct
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from telegram import Bot  # noqa: E402

import bot.storage.conversations as conversations_module  # noqa: E402
import bot.telegram.conversation as conversation_module  # noqa: E402
from bench.harness.driver import Walk, build_app, close_app, drive, open_app  # noqa: E402
from bench.harness.fake_request import TOKEN, InProcessBotAPI  # noqa: E402
from bench.report import BACKGROUND, INSIDE, SLOW_S, breakdown_table  # noqa: E402
from bot.app import build_application  # noqa: E402
from bot.engine import Engine  # noqa: E402
from bot.storage import Storage  # noqa: E402
from bot.telegram import render  # noqa: E402

TIME_LIMIT_S = 300.0  # the walk stops sending updates after this long


class Stopwatch:
    def __init__(self) -> None:
        self.seconds: dict[str, float] = defaultdict(float)
        self.calls: dict[str, int] = defaultdict(int)
        self.slow_seconds: dict[str, float] = defaultdict(float)
        self.slow_calls: dict[str, int] = defaultdict(int)

    def add(self, name: str, seconds: float) -> None:
        self.seconds[name] += seconds
        self.calls[name] += 1
        if seconds > SLOW_S:
            self.slow_seconds[name] += seconds
            self.slow_calls[name] += 1

    def clear(self) -> None:
        for counter in (self.seconds, self.calls, self.slow_seconds, self.slow_calls):
            counter.clear()


def _wrap_async(watch: Stopwatch, name_of: Callable[..., str], func: Any) -> Any:
    @functools.wraps(func)
    async def timed(*args: Any, **kwargs: Any) -> Any:
        t0 = time.perf_counter()
        try:
            return await func(*args, **kwargs)
        finally:
            task = asyncio.current_task()
            # the harness awaits each update in its own (main) task; the bot's own tasks, such
            # as the outbox's flush of sent rows, run alongside and overlap the updates
            name = task.get_name() if task is not None else ""
            prefix = BACKGROUND if name.startswith("outbox") else ""
            watch.add(prefix + name_of(*args, **kwargs), time.perf_counter() - t0)

    return timed


def _wrap_sync(watch: Stopwatch, name: str, func: Any) -> Any:
    @functools.wraps(func)
    def timed(*args: Any, **kwargs: Any) -> Any:
        t0 = time.perf_counter()
        try:
            return func(*args, **kwargs)
        finally:
            watch.add(name, time.perf_counter() - t0)

    return timed


def instrument(watch: Stopwatch) -> None:
    def unit_name(self: Storage, unit: Callable[..., Any], *args: Any) -> str:
        return f"db: {unit.__module__.rsplit('.', 1)[-1]}.{unit.__name__}"

    # each unit is timed once, where it runs: a short unit handed to the busy database
    # thread (Storage._run_short -> _run) by _run's stopwatch, one run here by its own
    Storage._run = _wrap_async(watch, unit_name, Storage._run)  # type: ignore[method-assign]
    short_run = Storage._run_short

    async def run_short(self: Storage, unit: Callable[..., Any], *args: Any) -> Any:
        if not self._runs_here():
            return await self._run(unit, *args)
        t0 = time.perf_counter()
        try:
            return await short_run(self, unit, *args)
        finally:
            watch.add(unit_name(self, unit), time.perf_counter() - t0)

    Storage._run_short = run_short  # type: ignore[method-assign]
    Bot.do_api_request = _wrap_async(  # type: ignore[method-assign]
        watch, lambda self, endpoint, *a, **k: f"Bot API: {endpoint}", Bot.do_api_request
    )
    # the same units timed where they run, on the database thread: the SQL and SQLite's own
    # work; the difference to the round trip above is the hop between the threads
    for name in ("commit_writes", "mark_sent", "load_chat"):
        unit = getattr(conversations_module, name)
        timed = _wrap_sync(watch, f"{INSIDE}inside the unit of work: {name}", unit)
        timed.__module__, timed.__name__ = unit.__module__, unit.__name__
        setattr(conversations_module, name, timed)
    Engine.handle = _wrap_sync(watch, "engine: Engine.handle", Engine.handle)  # type: ignore[method-assign]
    timed_render = _wrap_sync(watch, "render: result_messages", render.result_messages)
    render.result_messages = timed_render  # type: ignore[assignment]
    conversation_module.render.result_messages = timed_render  # type: ignore[attr-defined]


class _TimedConnection:
    """A unit of work's connection whose statements are timed, by their first four words."""

    def __init__(self, conn: sqlite3.Connection, watch: Stopwatch) -> None:
        self._conn, self._watch = conn, watch

    def _timed(self, call: Callable[..., Any], label: str, sql: str, *args: Any) -> Any:
        t0 = time.perf_counter()
        try:
            return call(sql, *args)
        finally:
            words = " ".join(sql.split()[:4])
            self._watch.add(f"{INSIDE}SQL {label}{words}", time.perf_counter() - t0)

    def execute(self, sql: str, *args: Any) -> Any:
        return self._timed(self._conn.execute, "", sql, *args)

    def executemany(self, sql: str, *args: Any) -> Any:
        return self._timed(self._conn.executemany, "(many) ", sql, *args)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._conn, name)


def time_sql(watch: Stopwatch) -> None:
    """Every unit of work gets a :class:`_TimedConnection` (before :func:`instrument`, whose
    stopwatches then time the units around it)."""
    run, run_short = Storage._run, Storage._run_short

    def timed_unit(unit: Callable[..., Any]) -> Callable[..., Any]:
        if getattr(unit, "sql_timed", False):  # _run_short hands a busy thread's unit to _run
            return unit

        @functools.wraps(unit)
        def with_timed_sql(conn: sqlite3.Connection, *args: Any, **kwargs: Any) -> Any:
            return unit(_TimedConnection(conn, watch), *args, **kwargs)

        with_timed_sql.sql_timed = True  # type: ignore[attr-defined]
        return with_timed_sql

    async def timed_run(self: Storage, unit: Callable[..., Any], *args: Any) -> Any:
        return await run(self, timed_unit(unit), *args)

    async def timed_run_short(self: Storage, unit: Callable[..., Any], *args: Any) -> Any:
        return await run_short(self, timed_unit(unit), *args)

    Storage._run = timed_run  # type: ignore[method-assign]
    Storage._run_short = timed_run_short  # type: ignore[method-assign]


def wal_pages(database: Path) -> dict[str, Any]:
    """Pages per commit in the write-ahead log, by table or index: the commits since the log
    last started again (a frame belongs to the log while its salt is the header's). A page is
    put down to what holds it when the walk ends, so one freed and taken by another table
    during the walk (the outbox's rows come and go) may count for that one: the total is
    exact, the split close."""
    data = Path(f"{database}-wal").read_bytes()
    if len(data) < 32:
        return {"commits": 0, "pages_per_commit": {}}
    page_size, salts = struct.unpack(">I", data[8:12])[0], data[16:24]
    pages: list[int] = []
    commits: list[list[int]] = []
    offset = 32
    while offset + 24 + page_size <= len(data) and data[offset + 8 : offset + 16] == salts:
        page, size_after_commit = struct.unpack(">II", data[offset : offset + 8])
        pages.append(page)
        if size_after_commit:  # the last frame of a transaction
            commits.append(pages)
            pages = []
        offset += 24 + page_size
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as conn:
        owner = dict(conn.execute("SELECT pageno, name FROM dbstat"))
    counted: dict[str, int] = defaultdict(int)
    for commit in commits:
        for page in commit:
            counted["(header page)" if page == 1 else owner.get(page, "(free page)")] += 1
    n = max(len(commits), 1)
    by_count = sorted(counted.items(), key=lambda item: -item[1])
    return {"commits": len(commits), "pages_per_commit": {k: v / n for k, v in by_count}}


def wal_table(wal: dict[str, Any]) -> str:
    pages: dict[str, float] = wal["pages_per_commit"]
    lines = [
        f"pages written to the WAL per commit, last {wal['commits']:,} commits: "
        f"**{sum(pages.values()):.1f}**\n",
        "| table or index | pages per commit |",
        "|---|---:|",
    ]
    lines += [f"| {name} | {count:.2f} |" for name, count in pages.items()]
    return "\n".join(lines)


def run_db_on_thread() -> None:
    """Experiment: run every unit of work on aiosqlite's thread, the short ones of the update
    path too (as the bot did before 2026-12-06), to see what the trip between threads costs.
    Not how the bot runs."""

    async def on_thread(self: Storage, unit: Callable[..., Any], *args: Any) -> Any:
        return await self._run(unit, *args)

    Storage._run_short = on_thread  # type: ignore[method-assign]


async def run(
    chats: int,
    flow: Path,
    profile: Path | None,
    concurrency: int = 1,
    db_thread: bool = False,
    sql: bool = False,
) -> dict[str, Any]:
    load_before = os.getloadavg()[0]  # other work on the machine slows the thread hops most
    watch = Stopwatch()
    if sql:
        time_sql(watch)
    instrument(watch)
    if db_thread:  # after the stopwatches: the commit is then timed once, as a unit on the thread
        run_db_on_thread()
    tmp = tempfile.mkdtemp(prefix="breakdown-")
    os.environ.update(
        TELEGRAM_BOT_TOKEN=TOKEN,
        DATABASE_PATH=f"{tmp}/triage.db",
        FLOW_FILE=str(ROOT / "flows" / "sciatica.yaml"),
        BOOKING_URL="https://example.com/book",
        LOG_LEVEL="WARNING",
        BOT_USERNAME="bench_triage_bot",
    )
    api = InProcessBotAPI(capture=True)
    app, _ = await build_app(build_application, api)
    await open_app(app)
    watch.clear()
    profiler = cProfile.Profile() if profile else None
    if profiler:
        profiler.enable()
    result = await drive(
        app, api, Walk.load(flow), chats, time_limit_s=TIME_LIMIT_S, concurrency=concurrency
    )
    if profiler:
        profiler.disable()
        profiler.dump_stats(str(profile))
    wal = wal_pages(Path(tmp) / "triage.db") if sql else None  # before closing checkpoints it
    await close_app(app)
    total = result.busy_s
    parts = {
        name: {
            "us_per_update": watch.seconds[name] / result.updates * 1e6,
            "calls_per_update": watch.calls[name] / result.updates,
            "us_per_call": watch.seconds[name] / watch.calls[name] * 1e6,
            "share": watch.seconds[name] / total,
            "stalls_per_1000_updates": watch.slow_calls[name] / result.updates * 1000,
            "stall_us_per_update": watch.slow_seconds[name] / result.updates * 1e6,
        }
        for name in sorted(watch.seconds, key=watch.seconds.get, reverse=True)  # type: ignore[arg-type]
    }
    return {
        "kind": "breakdown",
        "chats": chats,
        "updates": result.updates,
        "completed": result.completed,
        "us_per_update": total / result.updates * 1e6,
        "parts": parts,
        "fake_api_us_per_update": result.fake_s / result.updates * 1e6,
        "loadavg_before": load_before,
        **({"wal": wal} if wal is not None else {}),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--chats", type=int, default=1000)
    parser.add_argument("--flow", type=Path, default=ROOT / "bench" / "flow_product.json")
    parser.add_argument("--profile", type=Path, help="write a cProfile here")
    parser.add_argument(
        "--concurrency", type=int, default=1, help="updates of different chats in flight at once"
    )
    parser.add_argument(
        "--db-thread",
        action="store_true",
        help="experiment: the update's commit on aiosqlite's thread too, not the event loop's",
    )
    parser.add_argument(
        "--sql", action="store_true", help="also time each SQL statement and count WAL pages"
    )
    parser.add_argument("--out", type=Path, help="append the JSON line here")
    args = parser.parse_args(argv)
    row = asyncio.run(
        run(
            args.chats,
            args.flow,
            args.profile,
            args.concurrency,
            db_thread=args.db_thread,
            sql=args.sql,
        )
    )
    row["db_thread"] = args.db_thread
    if args.out:
        with args.out.open("a", encoding="utf-8") as fh:
            fh.write(json.dumps(row) + "\n")
    print(breakdown_table(row))
    if "wal" in row:
        print("\n" + wal_table(row["wal"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
