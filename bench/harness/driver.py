"""Traffic for a python-telegram-bot ``Application``: many people walking a flow, one update at a
time through ``await application.process_update(update)``.

**The walk file** (JSON; ``flow_anchor.json`` here, ``bench/flow_product.json`` for our bot) says
what one person does: ``start`` (the first message, ``/start``), then one entry per step, either
``press`` (case-insensitive regexes; the person presses a button whose *label* matches the one
they picked, by ``weights``, trying the others if it is missing) or ``type`` (a text they send
instead), and ``done_pattern``, which the text or a URL button of the bot's last reply must
match for the walk to count as completed.

**The walker** is a black box to the bot: after each update it reads what the chat now shows
(:class:`~bench.harness.fake_request.InProcessBotAPI` keeps every chat's screen), takes the
bottom message that still has callback buttons and presses the matching one, carrying that
message along as Telegram does. A walk fails, with the labels it saw, when the bot shows
nothing, no button matches, or the end has no ``done_pattern``. For bots that show no buttons
at all (the floor) it can run *scripted*: it invents the press (``step:choice`` as data) and only
checks that the bot made at least one Bot API call per update.

**Traffic.** ``chats`` private chats (user id = chat id, from :data:`FIRST_CHAT_ID`) each walk the
whole file. At most ``inflight`` are mid-walk at once, and each next update comes from one of
them drawn at random (seeded), so chats interleave while each chat's own updates stay in order.

**What is timed.** An update is built as the Bot API JSON bytes Telegram would send (not
timed), parsed with ``json.loads`` + ``Update.de_json`` (timed apart: ``parse``), then
``await application.process_update(update)`` is timed: that is the update's latency, and
updates/s = updates ÷ the sum of latencies (the walker's own work is left out).

**Updates in flight at once** (``concurrency``, default 1). With 1, one update at a time, as
above. With K > 1, K updates of K different chats are in ``process_update`` at once (a chat
never has two: its updates stay in order), as a bot serving many people at the same time
has them (the product's polling loop runs one task per busy chat; PTB with
``concurrent_updates``). Latencies then include waiting for the others, so their sum means
nothing: updates/s = updates ÷ (wall time − the driver's own time on the event loop, walker
and parsing, measured around each of its steps).
"""

from __future__ import annotations

import asyncio
import importlib
import inspect
import json
import os
import platform
import random
import re
import resource
import sys
import time
from array import array
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import telegram
from telegram import Update
from telegram.ext import Application

from bench.harness.fake_request import (
    BOT_USER,
    TOKEN,
    FakeRequest,
    InProcessBotAPI,
    Shown,
    replace_default_transport,
)

#: Live chats are numbered from here, and update ids from FIRST_UPDATE_ID: bench/prefill.py
#: stores its conversations below both, so no live chat or update is taken for a stored one.
FIRST_CHAT_ID = 700_000_000
FIRST_UPDATE_ID = 100_001

ANCHOR_WALK = Path(__file__).with_name("flow_anchor.json")

AnyApp = Application[Any, Any, Any, Any, Any, Any]


# --- the walk file ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Step:
    name: str
    press: tuple[re.Pattern[str], ...] = ()
    weights: tuple[float, ...] | None = None
    type: str | None = None  # a typed answer instead of a press


@dataclass(frozen=True)
class Walk:
    start: str
    steps: tuple[Step, ...]
    done: re.Pattern[str]

    @property
    def updates_per_chat(self) -> int:
        return 1 + len(self.steps)

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Walk:
        raw = json.loads(Path(path).read_text(encoding="utf-8"))
        steps = []
        for entry in raw["steps"]:
            press = tuple(re.compile(p, re.IGNORECASE) for p in entry.get("press", ()))
            typed = entry.get("type")
            weights = entry.get("weights")
            if typed is None and not press:
                raise ValueError(f"{path}: step {entry['name']!r} has neither 'press' nor 'type'")
            if weights is not None and len(weights) != len(press):
                raise ValueError(f"{path}: step {entry['name']!r}: one weight per 'press' regex")
            steps.append(Step(entry["name"], press, tuple(weights) if weights else None, typed))
        done = re.compile(raw.get("done_pattern", r"https?://"), re.IGNORECASE)
        return cls(raw.get("start", "/start"), tuple(steps), done)


# --- updates as Telegram sends them ----------------------------------------------------------

FIRST_NAMES = ("Alba", "Bruno", "Carmen", "Dario", "Elena", "Femi", "Gus", "Hana", "Ivo", "June")


class Updates:
    """Bot API ``Update`` JSON for private chats: typed messages and button presses."""

    def __init__(self, api: InProcessBotAPI, first_update_id: int = FIRST_UPDATE_ID) -> None:
        self.api = api
        self.next_update_id = first_update_id

    def _update_id(self) -> int:
        self.next_update_id += 1
        return self.next_update_id - 1

    @staticmethod
    def person(chat_id: int) -> dict[str, Any]:
        return {
            "id": chat_id,
            "is_bot": False,
            "first_name": FIRST_NAMES[chat_id % len(FIRST_NAMES)],
            "language_code": "en",
        }

    @staticmethod
    def chat(chat_id: int) -> dict[str, Any]:
        return {
            "id": chat_id,
            "type": "private",
            "first_name": FIRST_NAMES[chat_id % len(FIRST_NAMES)],
        }

    def message(self, chat_id: int, text: str) -> dict[str, Any]:
        message: dict[str, Any] = {
            "message_id": self.api.new_message_id(chat_id),
            "from": self.person(chat_id),
            "chat": self.chat(chat_id),
            "date": int(time.time()),
            "text": text,
        }
        if text.startswith("/"):
            command = text.split(maxsplit=1)[0]
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(command)}]
        return {"update_id": self._update_id(), "message": message}

    def press(self, chat_id: int, shown: Shown, data: str) -> dict[str, Any]:
        """The person presses the button with ``data`` under the message ``shown``."""
        message: dict[str, Any] = {
            "message_id": shown.message_id,
            "from": BOT_USER,
            "chat": self.chat(chat_id),
            "date": int(time.time()),
            "text": shown.text,
        }
        if shown.markup is not None:
            message["reply_markup"] = shown.markup
        update_id = self._update_id()
        return {
            "update_id": update_id,
            "callback_query": {
                "id": f"{chat_id}-{update_id}",
                "from": self.person(chat_id),
                "message": message,
                "chat_instance": str(chat_id * 7919 % 10**12),
                "data": data,
            },
        }


# --- one person's walk -----------------------------------------------------------------------


@dataclass(slots=True)
class Person:
    chat_id: int
    step: int = 0  # index of the next step; len(steps) after the last press
    next_update: dict[str, Any] | None = None
    finished: bool = False
    completed: bool = False


class Walker:
    """Turns what a chat was shown into that person's next update (see the module docstring)."""

    def __init__(
        self,
        walk: Walk,
        api: InProcessBotAPI,
        rng: random.Random,
        *,
        scripted: bool = False,
        first_update_id: int = FIRST_UPDATE_ID,
    ) -> None:
        self.walk = walk
        self.api = api
        self.rng = rng
        self.scripted = scripted
        self.updates = Updates(api, first_update_id)
        self.failures: list[str] = []
        self.failed = 0

    def begin(self, person: Person) -> dict[str, Any]:
        return self.updates.message(person.chat_id, self.walk.start)

    def after(self, person: Person, calls_made: int) -> None:
        """The bot has handled the person's latest update: prepare the next one, or finish."""
        if self.scripted:
            self._after_scripted(person, calls_made)
        else:
            self._after_looking(person)
        if person.finished:
            self.api.forget(person.chat_id)

    def _after_scripted(self, person: Person, calls_made: int) -> None:
        if calls_made == 0:
            return self._fail(person, "the bot made no Bot API call for the update", [])
        if person.step == len(self.walk.steps):
            person.finished = person.completed = True
            return None
        step = self.walk.steps[person.step]
        person.step += 1
        if step.type is not None:
            person.next_update = self.updates.message(person.chat_id, step.type)
            return None
        choice = self._choose(step)
        shown = Shown(self.api.new_message_id(person.chat_id), step.name)
        person.next_update = self.updates.press(person.chat_id, shown, f"{step.name}:{choice}")
        return None

    def _after_looking(self, person: Person) -> None:
        replies = self.api.take_touched(person.chat_id)
        if not replies:
            return self._fail(person, "the bot showed nothing in reply", replies)
        if person.step == len(self.walk.steps):
            if self._shows_done(replies):
                person.finished = person.completed = True
                return None
            return self._fail(person, "the last reply does not match done_pattern", replies)
        step = self.walk.steps[person.step]
        if step.type is not None:
            person.step += 1
            person.next_update = self.updates.message(person.chat_id, step.type)
            return None
        shown = self.api.lowest_pressable(person.chat_id)
        if shown is None:
            return self._fail(person, f"no buttons to press at step {step.name!r}", replies)
        pressable = [b for b in shown.buttons if b.data is not None]
        first = self._choose(step)
        for choice in (first, *(i for i in range(len(step.press)) if i != first)):
            matching = [b for b in pressable if step.press[choice].search(b.label)]
            if matching:
                button = self.rng.choice(matching)
                break
        else:
            labels = [b.label for b in pressable]
            return self._fail(person, f"step {step.name!r}: no label matches; saw {labels}", [])
        person.step += 1
        assert button.data is not None
        person.next_update = self.updates.press(person.chat_id, shown, button.data)
        return None

    def _choose(self, step: Step) -> int:
        if len(step.press) < 2:
            return 0
        return self.rng.choices(range(len(step.press)), weights=step.weights)[0]

    def _shows_done(self, replies: Sequence[Shown]) -> bool:
        done = self.walk.done
        return any(
            done.search(shown.text) or any(b.url and done.search(b.url) for b in shown.buttons)
            for shown in replies
        )

    def _fail(self, person: Person, why: str, replies: Sequence[Shown]) -> None:
        person.finished = True
        self.failed += 1
        if len(self.failures) < 5:
            seen = [r.text[:70] for r in replies]
            shown = f"; shown {seen}" if seen else ""
            self.failures.append(f"chat {person.chat_id}: {why}{shown}")


# --- results ---------------------------------------------------------------------------------


def peak_rss_mb() -> float:
    """Peak resident memory of this whole process so far (Linux reports kB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def machine() -> str:
    cpu = platform.processor() or "?"
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            names = (line.partition(":")[2].strip() for line in fh if line.startswith("model name"))
            cpu = next(names, cpu)
    except OSError:
        pass
    return (
        f"{cpu}, {os.cpu_count()} CPU, Python {platform.python_version()}, "
        f"PTB {telegram.__version__}"
    )


def _at(sorted_values: Sequence[float], share: float) -> float:
    """The value at ``share`` of a sorted list (nearest rank); NaN when empty."""
    if not sorted_values:
        return float("nan")
    return sorted_values[min(len(sorted_values) - 1, round(share * (len(sorted_values) - 1)))]


@dataclass
class Tally:
    chats: int
    updates: int = 0
    completed: int = 0
    failed: int = 0
    errors: int = 0
    parse_s: float = 0.0
    wall_s: float = 0.0
    fake_s: float = 0.0
    timed_out: bool = False
    calls: dict[str, int] = field(default_factory=dict)
    concurrency: int = 1
    driver_s: float = 0.0  # the driver's own time on the event loop (concurrency > 1)
    began_at: float = 0.0  # wall clock (time.time()) at the first and after the last update:
    ended_at: float = 0.0  # several processes' runs are put on one time line with these
    latencies: array[float] = field(default_factory=lambda: array("d"))
    failures: list[str] = field(default_factory=list)

    @property
    def busy_s(self) -> float:
        """The bot's time: the sum of latencies one at a time; with several in flight, the
        wall time less the driver's own."""
        if self.concurrency > 1:
            return self.wall_s - self.driver_s - self.parse_s
        return sum(self.latencies)

    def summary(self) -> dict[str, Any]:
        ordered = sorted(self.latencies)
        busy = self.busy_s
        per_update = 1 / self.updates if self.updates else 0.0
        row: dict[str, Any] = {
            "updates": self.updates,
            "chats": self.chats,
            "completed": self.completed,
            "failed": self.failed,
            "errors": self.errors,
            "updates_per_s": self.updates / busy if busy else float("nan"),
            "wall_s": round(self.wall_s, 3),
            "concurrency": self.concurrency,
            "e2e_updates_per_s": self.updates / self.wall_s if self.wall_s else float("nan"),
            "began_at": round(self.began_at, 4),
            "ended_at": round(self.ended_at, 4),
            "p50_us": _at(ordered, 0.50) * 1e6,
            "p90_us": _at(ordered, 0.90) * 1e6,
            "p99_us": _at(ordered, 0.99) * 1e6,
            "max_us": ordered[-1] * 1e6 if ordered else float("nan"),
            "parse_us_per_update": self.parse_s * per_update * 1e6,
            "fake_api_us_per_update": self.fake_s * per_update * 1e6,
            "api_calls_per_update": sum(self.calls.values()) * per_update,
            "calls_by_method": dict(self.calls),
        }
        if self.timed_out:
            row["timed_out"] = True
        if self.failures:
            row["failure_examples"] = self.failures[:5]
        return row


# --- driving ---------------------------------------------------------------------------------


def first_ids(walk: Walk, chat_offset: int) -> tuple[int, int]:
    """The first chat id and update id of a run that skips the first ``chat_offset`` chats: a
    chat takes at most ``walk.updates_per_chat`` update ids, so the skipped chats' runs (with
    offsets below this one) never reach this run's ids."""
    if chat_offset < 0:
        raise ValueError("chat_offset is a number of chats, 0 or more")
    return FIRST_CHAT_ID + chat_offset, FIRST_UPDATE_ID + chat_offset * walk.updates_per_chat


async def drive(
    app: AnyApp,
    api: InProcessBotAPI,
    walk: Walk,
    chats: int,
    *,
    inflight: int = 1000,
    seed: int = 1,
    scripted: bool = False,
    time_limit_s: float | None = None,
    concurrency: int = 1,
    chat_offset: int = 0,
) -> Tally:
    """Walk ``chats`` people through ``app``, each update by ``await app.process_update``.

    ``time_limit_s`` bounds the run: once it has passed, no further update is sent and the
    people still walking (or not yet started) count as failed, with ``timed_out`` set.
    ``concurrency``: updates of different chats in flight at once (see the module's doc).
    ``chat_offset``: this run's chats are the ones after the first ``chat_offset``, and its
    update ids follow the ones those would use (:func:`first_ids`), so several runs on one
    database (several processes) never share a chat or an update.
    """
    if concurrency > 1:
        return await _drive_concurrently(
            app, api, walk, chats, inflight=inflight, seed=seed, scripted=scripted,
            time_limit_s=time_limit_s, concurrency=concurrency, chat_offset=chat_offset,
        )  # fmt: skip
    first_chat, first_update = first_ids(walk, chat_offset)
    rng = random.Random(seed)
    walker = Walker(walk, api, rng, scripted=scripted, first_update_id=first_update)
    tally = Tally(chats=chats)

    async def count_error(update: object, context: Any) -> None:
        tally.errors += 1
        if len(tally.failures) < 5:
            tally.failures.append(f"handler error: {context.error!r}")

    app.add_error_handler(count_error)
    bot = app.bot
    walking: list[Person] = []
    started = 0
    latencies = tally.latencies
    perf = time.perf_counter
    api.reset_counters()
    tally.began_at = time.time()
    t_begin = perf()
    deadline = t_begin + time_limit_s if time_limit_s else None
    while walking or started < chats:
        while len(walking) < inflight and started < chats:
            walking.append(Person(first_chat + started))
            started += 1
        index = rng.randrange(len(walking))
        person = walking[index]
        payload = person.next_update or walker.begin(person)
        person.next_update = None
        wire = json.dumps(payload).encode()
        calls_before = api.total_calls() if scripted else 0
        t0 = perf()
        update = Update.de_json(json.loads(wire), bot)
        t1 = perf()
        await app.process_update(update)
        t2 = perf()
        tally.parse_s += t1 - t0
        latencies.append(t2 - t1)
        tally.updates += 1
        walker.after(person, api.total_calls() - calls_before if scripted else 0)
        if person.finished:
            tally.completed += person.completed
            walking[index] = walking[-1]
            walking.pop()
        if deadline is not None and tally.updates % 64 == 0 and perf() > deadline:
            tally.timed_out = True
            break
    return _closed(tally, api, walker, chats, len(walking) + chats - started, t_begin, time_limit_s)


async def _drive_concurrently(
    app: AnyApp,
    api: InProcessBotAPI,
    walk: Walk,
    chats: int,
    *,
    inflight: int,
    seed: int,
    scripted: bool,
    time_limit_s: float | None,
    concurrency: int,
    chat_offset: int = 0,
) -> Tally:
    """:func:`drive` with ``concurrency`` lanes, each sending one update at a time from a
    chat no other lane is serving."""
    first_chat, first_update = first_ids(walk, chat_offset)
    rng = random.Random(seed)
    walker = Walker(walk, api, rng, scripted=scripted, first_update_id=first_update)
    tally = Tally(chats=chats, concurrency=concurrency)

    async def count_error(update: object, context: Any) -> None:
        tally.errors += 1
        if len(tally.failures) < 5:
            tally.failures.append(f"handler error: {context.error!r}")

    app.add_error_handler(count_error)
    bot = app.bot
    idle: list[Person] = []  # walking, and no update of theirs in flight
    started = flying = 0
    stop = False
    returned = asyncio.Event()  # a person is idle again (or everyone is done)
    latencies = tally.latencies
    perf = time.perf_counter
    deadline: float | None = None

    async def lane() -> None:
        nonlocal started, flying, stop
        while not stop:
            t_driver = perf()
            while len(idle) + flying < inflight and started < chats:
                idle.append(Person(first_chat + started))
                started += 1
            if not idle:
                tally.driver_s += perf() - t_driver
                if flying == 0:
                    returned.set()  # nobody left: wake the other lanes to end
                    return
                returned.clear()
                await returned.wait()
                continue
            index = rng.randrange(len(idle))
            person = idle[index]
            idle[index] = idle[-1]
            idle.pop()
            payload = person.next_update or walker.begin(person)
            person.next_update = None
            wire = json.dumps(payload).encode()
            calls_before = api.total_calls() if scripted else 0
            t0 = perf()
            tally.driver_s += t0 - t_driver
            update = Update.de_json(json.loads(wire), bot)
            t1 = perf()
            flying += 1
            try:
                await app.process_update(update)
            finally:
                flying -= 1
            t2 = perf()
            tally.parse_s += t1 - t0
            latencies.append(t2 - t1)
            tally.updates += 1
            # scripted: other lanes' calls count too; it only checks that a call was made
            walker.after(person, api.total_calls() - calls_before if scripted else 0)
            if person.finished:
                tally.completed += person.completed
            else:
                idle.append(person)
            returned.set()
            if deadline is not None and tally.updates % 64 == 0 and perf() > deadline:
                tally.timed_out = True
                stop = True
            tally.driver_s += perf() - t2

    api.reset_counters()
    tally.began_at = time.time()
    t_begin = perf()
    deadline = t_begin + time_limit_s if time_limit_s else None
    await asyncio.gather(*(lane() for _ in range(concurrency)))
    return _closed(tally, api, walker, chats, len(idle) + chats - started, t_begin, time_limit_s)


def _closed(
    tally: Tally,
    api: InProcessBotAPI,
    walker: Walker,
    chats: int,
    left: int,
    t_begin: float,
    time_limit_s: float | None,
) -> Tally:
    """The run is over: its wall time, what failed, and what the fake Bot API counted."""
    tally.wall_s = time.perf_counter() - t_begin
    tally.ended_at = time.time()
    tally.failed = chats - tally.completed
    tally.failures = walker.failures + tally.failures
    if tally.timed_out:
        tally.failures.append(f"stopped at the time limit ({time_limit_s:g} s): {left} not done")
    tally.fake_s = api.seconds
    tally.calls = dict(api.calls)
    return tally


# --- building and running an application ------------------------------------------------------


def import_factory(spec: str) -> Callable[..., Any]:
    """``"package.module:function"`` -> that function (the current directory is importable)."""
    module_name, _, attribute = spec.partition(":")
    if not module_name or not attribute:
        raise SystemExit(f"a factory is module:function (bot.app:build_application), not {spec!r}")
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    target: Any = importlib.import_module(module_name)
    for part in attribute.split("."):
        target = getattr(target, part)
    return target


async def build_app(
    factory: Callable[..., Any], api: InProcessBotAPI, extra: dict[str, Any] | None = None
) -> tuple[AnyApp, str]:
    """Call ``factory`` and make sure its bot talks to ``api`` and nothing else.

    The factory gets whichever of ``token``, ``request``, ``get_updates_request`` and ``extra``
    it declares (all of them if it takes ``**kwargs``); it may be sync or async. If it takes no
    ``request``, python-telegram-bot's default transport is replaced while it runs. Returns the
    application and how the fake got in (``"request="`` or ``"default transport"``).
    """
    extra = dict(extra or {})
    os.environ.setdefault("TELEGRAM_BOT_TOKEN", TOKEN)
    offered = {
        "token": TOKEN,
        "request": FakeRequest(api),
        "get_updates_request": FakeRequest(api),
        **extra,
    }
    parameters = inspect.signature(factory).parameters
    takes_any = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values())
    kwargs = {k: v for k, v in offered.items() if takes_any or k in parameters}
    unused = sorted(set(extra) - set(kwargs))
    if unused:
        raise SystemExit(f"{factory.__name__} takes no {', '.join(unused)}")

    async def call() -> Any:
        made = factory(**kwargs)
        return await made if inspect.isawaitable(made) else made

    if "request" in kwargs:
        app, how = await call(), "request="
    else:
        with replace_default_transport(api):
            app, how = await call(), "default transport"
    if not isinstance(app, Application):
        raise SystemExit(f"{factory.__name__} returned {type(app).__name__}, not an Application")
    for transport in (app.bot.request, app.bot._request[0]):
        # The product wraps its transport to count Bot API failures: look through wrappers.
        while not isinstance(transport, FakeRequest) and hasattr(transport, "inner"):
            transport = transport.inner
        if not isinstance(transport, FakeRequest) or transport.api is not api:
            raise SystemExit("the application's bot does not use the in-process Bot API; refusing")
    return app, how


async def open_app(app: AnyApp) -> None:
    """What ``run_polling`` does before it polls: ``initialize()``, then ``post_init``."""
    await app.initialize()
    if app.post_init is not None:
        await app.post_init(app)


async def close_app(app: AnyApp) -> None:
    """What ``run_polling`` does after polling: ``post_stop``, ``shutdown()``, ``post_shutdown``."""
    if app.running:
        await app.stop()
    if app.post_stop is not None:
        await app.post_stop(app)
    await app.shutdown()
    if app.post_shutdown is not None:
        await app.post_shutdown(app)


async def bounded(awaitable: Awaitable[Any], seconds: float, what: str) -> Any:
    """Await with a hard limit; a hang becomes a clear error instead of a stuck run."""
    try:
        return await asyncio.wait_for(awaitable, seconds)
    except TimeoutError:
        raise SystemExit(f"{what} took over {seconds:g} s; stopped") from None
