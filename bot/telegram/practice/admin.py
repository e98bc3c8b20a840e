"""The therapist's commands, for the people in ADMIN_CHAT_IDS only, in their private chat
with the bot: /stats, /leads, /export, /reload.

They are registered in a handler group that runs before the public handlers, filtered by chat
type, chat id and sender; anyone else's /stats (a listed person's in a group, too) does not
match and falls through to the public bot, which answers it as it answers any unknown command
or group message, so nobody learns that these exist. After an admin command
the update stops there (``ApplicationHandlerStop``), so the public bot does not answer it too.

Replies take the usual path (commit with the update id, then the outbox), so a redelivered
command is answered once and a failed send is retried. Files (the chart, the CSV) go through
the outbox too, as uploads (``bot.telegram.outbox.upload``: the bytes ride in the row as
base64). They are made before the commit, since a decision cannot wait: a redelivered command
makes them again and throws them away, which is rare and harmless.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Coroutine, Sequence
from typing import TYPE_CHECKING, Any

from telegram import BotCommand, BotCommandScopeChat, Update
from telegram.error import TelegramError
from telegram.ext import Application, ApplicationHandlerStop, CommandHandler, ContextTypes, filters

from bot.charts import Words, format_stats_text, render_stats_png
from bot.engine import Engine
from bot.flow import Step
from bot.markup import headline
from bot.storage import OutgoingMessage, Stats
from bot.telegram import render
from bot.telegram.conversation import Change, ChatView
from bot.telegram.outbox import upload
from bot.telegram.practice.export import leads_csv, leads_html
from bot.telegram.practice.flows import FlowKeeper, describe
from bot.telegram.practice.notify import html_message
from bot.telegram.retention import STATS_DAYS
from bot.telegram.texts import COMMANDS, FALLBACK
from bot.text import fill

if TYPE_CHECKING:
    from bot.telegram.runtime import Runtime

log = logging.getLogger(__name__)

Context = ContextTypes.DEFAULT_TYPE
Command = Callable[[Update, Context], Coroutine[Any, Any, None]]

ADMIN_GROUP = -1  # before the public handlers (group 0)
DAY = 86400.0
PERIODS = (7, 30, STATS_DAYS)  # the longest is how long retention keeps the events
RECENT_LEADS = 10
ADMIN_COMMANDS = (
    ("stats", "Statistics for 7, 30 or 90 days"),
    ("leads", "The newest leads"),
    ("export", "All leads as a CSV file"),
    ("reload", "Reload the flow file now"),
)


class AdminCommands:
    def __init__(self, runtime: Runtime, keeper: FlowKeeper) -> None:
        self.runtime = runtime
        self.keeper = keeper
        self._drawing = asyncio.Lock()  # matplotlib draws one chart at a time

    @property
    def admins(self) -> frozenset[int]:
        return self.runtime.settings.admin_chat_ids

    def register(self, app: Application[Any, Any, Any, Any, Any, Any]) -> None:
        if not self.admins:
            return
        only = (
            filters.ChatType.PRIVATE
            & filters.Chat(chat_id=self.admins)
            & filters.User(user_id=self.admins)
            & filters.UpdateType.MESSAGE
        )
        commands: dict[str, Command] = {
            "stats": self.stats,
            "leads": self.leads,
            "export": self.export,
            "reload": self.reload,
        }
        app.add_handlers(
            [
                CommandHandler(name, _final(command), filters=only)
                for name, command in commands.items()
            ],
            group=ADMIN_GROUP,
        )

    # -- the commands ------------------------------------------------------------------------

    async def stats(self, update: Update, context: Context) -> None:
        chat_id = _chat_id(update)
        days = _period(context.args or ())
        if days is None:
            usage = "Use /stats 7, /stats 30 or /stats 90 (days)."
            await self._commit(update, render.text_message(chat_id, usage))
            return
        # Drop-off: conversations resting at a question with no answer for over a day.
        stats = await self.runtime.storage.stats(since=time.time() - days * DAY, idle_for=DAY)
        engine = self.runtime.flow.engine
        flow = engine.flow
        user = update.effective_user
        language = engine.pick_language(user.language_code if user else None)
        words = stats_words(engine, language)
        order = [step.id for step in flow.questions]
        text = format_stats_text(stats, days, step_order=order, words=words)
        title = f"{fill(flow.title.get(language, flow.default_language), engine.settings)}: "
        title += words.say("period", days=days)
        chart = await self._draw(stats, title, order, words)
        if stats.withdrawn:
            text += "\n\n" + words.say("withdrawn", count=str(stats.withdrawn))
        photo = {"chat_id": chat_id, "photo": upload(f"stats-{days}-days.png", chart)}
        await self._commit(
            update,
            render.text_message(chat_id, text),
            OutgoingMessage(chat_id, "sendPhoto", photo),
        )

    async def leads(self, update: Update, context: Context) -> None:
        recent = await self.runtime.storage.recent_leads(RECENT_LEADS)
        zone = self.runtime.settings.zone
        await self._commit(update, html_message(_chat_id(update), leads_html(recent, zone)))

    async def export(self, update: Update, context: Context) -> None:
        chat_id = _chat_id(update)
        every = await self.runtime.storage.all_leads()
        if not every:
            empty = "No leads yet, so there is nothing to export."
            await self._commit(update, render.text_message(chat_id, empty))
            return
        count = len(every)
        text = f"{count} lead{'s' if count != 1 else ''}: the CSV file follows."
        day = time.strftime("%Y-%m-%d", time.gmtime())
        document = {"chat_id": chat_id, "document": upload(f"leads-{day}.csv", leads_csv(every))}
        await self._commit(
            update,
            render.text_message(chat_id, text),
            OutgoingMessage(chat_id, "sendDocument", document),
        )

    async def reload(self, update: Update, context: Context) -> None:
        chat_id = _chat_id(update)
        check = await self.keeper.check()
        await self._commit(update, html_message(chat_id, describe(check)))
        await self.keeper.announce(check, besides=chat_id)

    # -- the menu ----------------------------------------------------------------------------

    async def set_menu(self) -> None:
        """The public commands plus the admin ones, in the admin chats' own command menu."""
        commands = [BotCommand(n, d) for n, d in (*COMMANDS[FALLBACK], *ADMIN_COMMANDS)]
        for chat_id in sorted(self.admins):
            try:
                await self.runtime.bot.set_my_commands(commands, scope=BotCommandScopeChat(chat_id))
            except TelegramError as error:
                # e.g. "chat not found": the therapist has not written to the bot yet
                log.warning("Could not set the admin command menu: %s", error.message)

    # -- helpers -----------------------------------------------------------------------------

    async def _commit(self, update: Update, *messages: OutgoingMessage) -> None:
        def decide(view: ChatView) -> Change:
            return Change(outbox=messages)

        await self.runtime.conversations.take_turn(
            update_id=update.update_id, chat_id=_chat_id(update), decide=decide
        )

    async def _draw(
        self, stats: Stats, title: str, order: Sequence[str], words: Words
    ) -> bytes:
        async with self._drawing:
            return await asyncio.to_thread(
                render_stats_png, stats, title=title, step_order=order, words=words
            )


def stats_words(engine: Engine, language: str) -> Words:
    """The flow's own words for /stats in ``language``: each question's text shortened to
    what it asks (its first bold part, or first line), each outcome's title."""
    flow = engine.flow
    fallback = flow.default_language

    def said(step: Step) -> str:
        return headline(fill(step.text.get(language, fallback), engine.settings))

    return Words(
        language=language,
        steps={step.id: said(step) for step in flow.questions},
        outcomes={step.id: said(step) for step in flow.outcomes},
        urgent=frozenset(step.id for step in flow.outcomes if step.urgent),
    )


def _final(command: Command) -> Command:
    """Run an admin command, then stop: the public handlers must not answer it too."""

    async def handle(update: Update, context: Context) -> None:
        await command(update, context)
        raise ApplicationHandlerStop

    return handle


def _chat_id(update: Update) -> int:
    chat = update.effective_chat
    assert chat is not None  # commands come in messages, which always have a chat
    return chat.id


def _period(args: Sequence[str]) -> int | None:
    if not args:
        return PERIODS[0]
    try:
        days = int(args[0])
    except ValueError:
        return None
    return days if days in PERIODS and len(args) == 1 else None
