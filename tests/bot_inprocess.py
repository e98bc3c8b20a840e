"""The bot in the test's own event loop, talking to the fake Bot API server over real HTTP.

    async with running_bot(tmp_path) as bot:
        person = bot.fake.user(1001)
        await begin(person)   # /start, then "Agree and start"
        await bot.question(person, "location")

``runner.serve`` runs exactly what ``triage-bot run`` runs (our polling loop, the handlers, a
real SQLite file in ``tmp_path``); only the process boundary is missing, which keeps these
tests fast. ``bot.storage()`` opens a second connection to the same database for looking at
what was stored, through the public Storage API.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

from bot.app import build_application
from bot.config import Settings, load_settings
from bot.engine import Engine, Session
from bot.flow import load_compiled
from bot.run import serve
from bot.storage import Storage
from bot.telegram.runtime import Runtime, runtime_of
from tests.support import FAKE_TOKEN, FakeBotApi, FakeUser
from tests.support.conversation import wait_for_question
from tests.support.records import ChatMessage

REPO = Path(__file__).resolve().parents[1]
FLOW = REPO / "flows" / "sciatica.yaml"
BOOKING_URL = "https://clinic.example/book"
USERNAME = "triage_test_bot"


@dataclass
class RunningBot:
    fake: FakeBotApi
    settings: Settings
    runtime: Runtime  # the running bot's own: its storage is the bot's connection

    async def question(self, person: FakeUser, step: str) -> ChatMessage:
        """Wait until ``step`` is the question at the bottom of the chat; return it."""
        await wait_for_question(person, step)
        message = person.last_message()
        assert message is not None
        return message

    async def quiet(self) -> None:
        """Wait until every queued update was fetched, applied and confirmed."""
        # Our poller confirms an update (next getUpdates with a higher offset) only after it
        # was applied and its replies were handed to the outbox.
        await self.fake.wait_for(lambda: not self.fake.pending_updates(), what="all confirmed")

    @contextlib.asynccontextmanager
    async def storage(self) -> AsyncIterator[Storage]:
        storage = await Storage.open(self.settings.database_path)
        try:
            yield storage
        finally:
            await storage.close()

    async def session(self, chat_id: int) -> Session | None:
        async with self.storage() as storage:
            state = await storage.load_chat(chat_id)
        if state is None or state.session_json is None:
            return None
        return Session.from_json(state.session_json)


def safety_line(language: str = "en", emergency_number: str = "999") -> str:
    """The flow's safety line as the person reads it (bold marks gone), number filled in."""
    engine = Engine(load_compiled(FLOW), {"emergency_number": emergency_number})
    line = engine.safety_line(language)
    assert line is not None
    return line.replace("**", "")


@contextlib.asynccontextmanager
async def running_bot(
    tmp_path: Path, *, fake: FakeBotApi | None = None, **environment: str
) -> AsyncIterator[RunningBot]:
    """Start the bot against a fresh fake server (or ``fake``, left running: a restart of the
    bot against the same Telegram, whose update ids keep growing); stop it cleanly at the end."""
    with contextlib.ExitStack() as stack:
        if fake is None:
            fake = stack.enter_context(FakeBotApi(username=USERNAME))
        settings = load_settings(
            {
                "TELEGRAM_BOT_TOKEN": FAKE_TOKEN,
                "TELEGRAM_API_BASE_URL": fake.base_url,
                "DATABASE_PATH": str(tmp_path / "triage.db"),
                "FLOW_FILE": str(FLOW),
                "BOOKING_URL": BOOKING_URL,
                **environment,
            },
            env_file=None,
        )
        stop = asyncio.Event()
        app = build_application(settings)
        running = asyncio.create_task(serve(settings, stop, app=app))
        try:
            await fake.wait_for(
                lambda: fake.calls("getUpdates") or running.done(), 20, "the first poll"
            )
            assert not running.done(), running.result()
            yield RunningBot(fake, settings, runtime_of(app))
        finally:
            stop.set()
            code = await asyncio.wait_for(running, timeout=20)
        assert code == 0
