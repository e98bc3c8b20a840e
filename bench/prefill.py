"""Fill a database with many realistic stored conversations, through ``bot.storage``.

For the "100,000 stored conversations" rows of bench/product_bench.sh: the bot must cost the
same per update, and hold about the same memory, however many people have used it before.

The conversations are real: random people walk the default flow with the same engine the bot
runs (random answers, also red flags and ages that end early), 80% to an outcome and 20%
stopped part-way (their session waits at a question). Each one is stored as the bot stores an
update: ``Storage.commit`` with the session JSON, the language and source, their
consent, an update id, and the anonymous events the bot records (started, each step reached,
the outcome); their times are spread over the last ``--days`` days. Chat ids and update ids
are chosen below the harness's (bench/harness/driver.py: chats from 700,000,000, updates from
100,001), so no live chat of a benchmark run is mistaken for a stored one and no live update
for a redelivery.

    .venv/bin/python bench/prefill.py 100000 /tmp/bench/prefilled.db [--out results.jsonl]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import random
import sqlite3
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.flow_bench import SETTINGS, _inputs_for  # noqa: E402
from bot.engine import Done, Engine, Input, Session  # noqa: E402
from bot.flow import load_compiled  # noqa: E402
from bot.flow.model import Flow, Step, StepKind  # noqa: E402
from bot.storage import ChatChange, Event, SessionJSON, Storage, UpdateWrite  # noqa: E402

FIRST_CHAT_ID = 100_000_000  # the harness's live chats start at 700,000,000
LAST_UPDATE_ID = 100_000  # the harness's updates start at 100,001
SOURCES = (None, None, "website", "instagram", "google", "flyer")
DISTINCT_WALKS = 2_000  # sessions are drawn from this many random walks


def _random_value(step: Step, rng: random.Random) -> Any:
    if step.kind is StepKind.CHOICE:
        return rng.choice(step.options).id
    if step.kind is StepKind.MULTI:
        exclusive = [o.id for o in step.options if o.exclusive]
        others = [o.id for o in step.options if not o.exclusive]
        # most people tick "none" on the safety screens
        if exclusive and rng.random() < 0.85:
            return exclusive[:1]
        return rng.sample(others, k=rng.randint(1, min(3, len(others))))
    low = step.minimum if step.minimum is not None else 0
    high = step.maximum if step.maximum is not None else low + 10
    if high - low > 20:  # an age
        return rng.randint(max(low, 12), min(high, 85))
    return rng.randint(low, high)


def random_walk(engine: Engine, rng: random.Random) -> tuple[Session, list[Event], list[Session]]:
    """One random person to an outcome: the final session, its events, and the sessions
    waiting at each question on the way (the candidates for "stopped part-way")."""
    flow: Flow = engine.flow
    source = rng.choice(SOURCES)
    result = engine.start(language="en", source=source)
    session = result.session
    events = [Event.started(source)]
    waiting: list[Session] = []
    while not session.finished:
        step = flow.steps[session.step]
        events.append(Event.reached(step.id))
        waiting.append(session)
        message: Input
        for message in _inputs_for(step, _random_value(step, rng)):
            result = engine.handle(session, message)
            session = result.session
            if isinstance(message, Done) or not result.refresh:
                break
    assert session.outcome is not None
    events.append(Event.finished(session.outcome, source=source))
    return session, events, waiting


def build_walks(count: int, seed: int) -> list[tuple[str, str | None, list[Event], list[str]]]:
    engine = Engine(load_compiled(ROOT / "flows" / "sciatica.yaml"), SETTINGS)
    rng = random.Random(seed)
    walks = []
    for _ in range(count):
        final, events, waiting = random_walk(engine, rng)
        walks.append((final.to_json(), final.source, events, [s.to_json() for s in waiting]))
    return walks


async def prefill(
    path: Path, conversations: int, *, days: float, seed: int, mid_flow_share: float = 0.2
) -> dict[str, Any]:
    rng = random.Random(seed)
    walks = build_walks(min(DISTINCT_WALKS, conversations), seed)
    now = time.time()
    finished = mid_flow = 0
    t0 = time.perf_counter()
    storage = await Storage.open(path)
    try:
        for index in range(conversations):
            final_json, source, events, waiting = rng.choice(walks)
            if rng.random() < mid_flow_share:
                cut = rng.randrange(len(waiting))
                session_json, kept = waiting[cut], events[: cut + 2]  # started + steps reached
                mid_flow += 1
            else:
                session_json, kept = final_json, events
                finished += 1
            update_id = LAST_UPDATE_ID - index if index < LAST_UPDATE_ID else None
            at = now - rng.random() * days * 86_400
            change = ChatChange(
                session=SessionJSON(session_json),
                events=kept,
                language="en",
                source=source,
                consented_at=at,  # everyone with answers stored agreed first
            )
            await storage.commit(UpdateWrite(update_id, FIRST_CHAT_ID + index, change, now=at))
    finally:
        await storage.close()
    with contextlib.closing(sqlite3.connect(path)) as conn:
        (stored,) = conn.execute("SELECT count(*) FROM chats").fetchone()
    seconds = time.perf_counter() - t0
    size = sum(p.stat().st_size for p in path.parent.glob(path.name + "*"))
    return {
        "kind": "prefill",
        "conversations": stored,
        "finished": finished,
        "mid_flow": mid_flow,
        "distinct_walks": len(walks),
        "seconds": seconds,
        "db_mb": size / 1e6,
        "commits_per_s": conversations / seconds if seconds else None,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("conversations", type=int)
    parser.add_argument("database", type=Path, help="a new file (an existing one is refused)")
    parser.add_argument("--days", type=float, default=90.0, help="spread over this many days")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", type=Path, help="append the JSON line here")
    args = parser.parse_args(argv)
    if args.database.exists():
        parser.error(f"{args.database} exists; pre-fill a new file")
    row = asyncio.run(prefill(args.database, args.conversations, days=args.days, seed=args.seed))
    print(json.dumps(row))
    if args.out:
        with args.out.open("a", encoding="utf-8") as fh:
            fh.write(json.dumps(row) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
