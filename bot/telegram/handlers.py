"""python-telegram-bot handlers: each turns one kind of update into a decision, nothing more.

Conversation logic lives in the engine; the single path from decision to database to Telegram
lives in :mod:`bot.telegram.conversation`. A handler here only says *which* input an update is:
a button, a typed answer, a command, something the bot cannot read, or a message in a group.

Buttons are routed by python-telegram-bot itself, one ``CallbackQueryHandler(pattern=...)`` per
kind of the transport's own buttons (``x|<action>|<argument>``: forget, language, consent, sign,
and the practice's lead, check-in and pain buttons, see :meth:`Handlers.button`), then one for
everything else: the engine's question buttons (``1|c|location|buttock``), and any old, forged
or garbled button, which gets the kind "that question has moved on" and the question again.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from telegram import Update
from telegram.constants import ChatType
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bot import callback
from bot.engine import Back, Input, Link, Repeat, Restart
from bot.storage import OutgoingMessage
from bot.telegram import render
from bot.telegram.consent import ACTION as CONSENT
from bot.telegram.consent import SIGN_ACTION, agree_or_decline, sign_answer
from bot.telegram.conversation import (
    Change,
    ChatView,
    Decision,
    Reader,
    engine_turn,
    start_turn,
    typed_turn,
)
from bot.telegram.language import ACTION as LANGUAGE
from bot.telegram.language import ask_language, switch_language
from bot.telegram.mydata import mydata_decision
from bot.telegram.texts import say

if TYPE_CHECKING:
    from bot.telegram.runtime import Runtime

log = logging.getLogger(__name__)

Context = ContextTypes.DEFAULT_TYPE

# What the bot asks Telegram for (polling and webhook alike).
ALLOWED_UPDATES = ("message", "edited_message", "channel_post", "callback_query")

FORGET = "forget"
FORGET_YES = f"{render.ACTION_PREFIX}{FORGET}|yes"
FORGET_NO = f"{render.ACTION_PREFIX}{FORGET}|no"

# A button of the transport's own: (update, argument, id of the pressed message) -> decision.
ButtonAction = Callable[[Update, str, int | None], Decision]
ButtonHandler = CallbackQueryHandler[Any, None]


def button_pattern(action: str) -> re.Pattern[str]:
    """``x|<action>|<argument>``; the argument is the match's ``argument`` group."""
    prefix = re.escape(f"{render.ACTION_PREFIX}{action}|")
    return re.compile(rf"{prefix}(?P<argument>.*)\Z", re.DOTALL)


class Handlers:
    """The handlers, bound to the running bot's :class:`~bot.telegram.runtime.Runtime`."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        # Features that read typed words first when a question of theirs is open.
        self.readers: list[Reader] = []

    def register(
        self,
        app: Application[Any, Any, Any, Any, Any, Any],
        buttons: Sequence[ButtonHandler] = (),
    ) -> None:
        """Add the handlers; ``buttons`` are features' own (:meth:`button`), tried before the
        handler of every other button."""
        private = filters.ChatType.PRIVATE
        fresh = private & filters.UpdateType.MESSAGE  # commands only in new messages
        edited = private & filters.UpdateType.EDITED_MESSAGE
        words = filters.TEXT | filters.CAPTION
        app.add_handlers(
            [
                self.button(FORGET, lambda _, yes, pressed: _forget(yes == "yes", pressed)),
                self.button(LANGUAGE, lambda _, code, pressed: switch_language(code, pressed)),
                self.button(CONSENT, lambda _, a, pressed: agree_or_decline(a == "yes", pressed)),
                self.button(SIGN_ACTION, lambda _, answer, pressed: sign_answer(answer, pressed)),
                *buttons,
                CallbackQueryHandler(self.press),  # the engine's buttons, and stale ones
                MessageHandler(~private, self.group),
                MessageHandler(fresh & filters.TEXT & ~filters.COMMAND, self.typed),
                MessageHandler(fresh & filters.CAPTION, self.typed),  # a photo's words
                MessageHandler(edited & words, self.typed),  # commands too: words to read
                CommandHandler("start", self.start, filters=fresh),
                CommandHandler("restart", self.restart, filters=fresh),
                CommandHandler("back", self.back, filters=fresh),
                CommandHandler("help", self.help, filters=fresh),
                CommandHandler("privacy", self.privacy, filters=fresh),
                CommandHandler("forget", self.forget, filters=fresh),
                CommandHandler("language", self.language, filters=fresh),
                CommandHandler("mydata", self.mydata, filters=fresh),
                MessageHandler(fresh & filters.COMMAND, self.unknown_command),
                # stickers, photos without a caption, voice, locations, contacts ... (edits of
                # those, such as a live location moving, are not messages to answer)
                MessageHandler(fresh, self.unsupported),
            ]
        )
        app.add_error_handler(self.error)

    # -- buttons ---------------------------------------------------------------------------

    def button(self, action: str, decide: ButtonAction) -> ButtonHandler:
        """The handler of the transport's button ``x|<action>|<argument>``: ``decide`` is
        given the update, the argument and the id of the message the button was on."""

        async def pressed(update: Update, context: Context) -> None:
            query = update.callback_query
            assert query is not None
            match = context.match
            if not isinstance(match, re.Match) or not _private(update):
                # A query without data reaches every patterned handler (python-telegram-bot
                # passes what it cannot test, without a match): answered as any stale button.
                await self.press(update, context)
                return
            message_id = query.message.message_id if query.message else None
            turn = decide(update, match.group("argument"), message_id)
            await self._turn(update, turn, query_id=query.id)

        return CallbackQueryHandler(pressed, pattern=button_pattern(action))

    async def press(self, update: Update, context: Context) -> None:
        """An engine question's button; or an old, forged or garbled one, for which the engine
        says "that question has moved on" and asks again."""
        query = update.callback_query
        assert query is not None
        if not _private(update):
            await self._turn(update, self._group_decision(context), query_id=query.id)
            return
        pressed = query.message.message_id if query.message else None
        message: Input = callback.decode(query.data) or Repeat(notice="moved_on")
        decide = engine_turn(message, pressed_message_id=pressed)
        await self._turn(update, decide, query_id=query.id)

    # -- messages --------------------------------------------------------------------------

    async def typed(self, update: Update, context: Context) -> None:
        """Typed text, a photo's or document's caption, or an edit of either: words to read."""
        message = update.effective_message
        assert message is not None
        words = message.text or message.caption or ""
        edited = update.edited_message is not None
        decide = typed_turn(words, message.message_id, edited=edited, readers=self.readers)
        await self._turn(update, decide)

    async def start(self, update: Update, context: Context) -> None:
        # The whole rest of the text: a typed "/start not a link" is no source "not", and
        # "/start I can't feel my legs" is words for the safety net.
        assert update.message is not None
        payload = (update.message.text or "").partition(" ")[2].strip()
        user = update.effective_user
        await self._turn(update, start_turn(user.language_code if user else None, payload))

    async def restart(self, update: Update, context: Context) -> None:
        await self._turn(update, engine_turn(Restart()))

    async def back(self, update: Update, context: Context) -> None:
        await self._turn(update, engine_turn(Back()))

    async def help(self, update: Update, context: Context) -> None:
        number = self.runtime.settings.emergency_number
        await self._turn(update, _say("help", emergency_number=number))

    async def privacy(self, update: Update, context: Context) -> None:
        days = str(self.runtime.settings.retention_days)
        await self._turn(update, _say("privacy", retention_days=days))

    async def forget(self, update: Update, context: Context) -> None:
        await self._turn(update, _ask_forget)

    async def language(self, update: Update, context: Context) -> None:
        await self._turn(update, ask_language)

    async def mydata(self, update: Update, context: Context) -> None:
        chat = update.effective_chat
        assert chat is not None
        # A decision cannot wait on the database, so the copy is read just before the turn.
        # Replies already delivered are removed first: what is left is really still queued.
        await self.runtime.outbox.flush()
        held = await self.runtime.storage.export_chat(chat.id)
        days = self.runtime.settings.retention_days
        await self._turn(update, mydata_decision(held, retention_days=days))

    async def unknown_command(self, update: Update, context: Context) -> None:
        await self._turn(update, _say("unknown_command", repeat=True))

    async def unsupported(self, update: Update, context: Context) -> None:
        await self._turn(update, engine_turn(Repeat(), before=[_unreadable]))

    async def group(self, update: Update, context: Context) -> None:
        await self._turn(update, self._group_decision(context))

    # -- the rest --------------------------------------------------------------------------

    async def error(self, update: object, context: Context) -> None:
        """Log once and carry on; the runner sees the update as not applied."""
        if isinstance(update, Update):
            self.runtime.failed_updates.add(update.update_id)
            where = f"update {update.update_id}"
        else:
            where = "a background task"
        error = context.error
        log.error("%s failed: %s", where, type(error).__name__, exc_info=error)

    async def _turn(self, update: Update, decide: Decision, *, query_id: str | None = None) -> None:
        chat = update.effective_chat
        if chat is None:
            return
        user = update.effective_user
        await self.runtime.conversations.take_turn(
            update_id=update.update_id,
            chat_id=chat.id,
            decide=decide,
            language=user.language_code if user else None,
            query_id=query_id,
        )

    def _group_decision(self, context: Context) -> Decision:
        username = self.runtime.settings.bot_username or context.bot.username
        link = f"https://t.me/{username}?start=group"

        def decide(chat: ChatView) -> Change:
            if chat.state is not None:
                return Change()  # answered once already: groups get one message, ever
            button = render.url_button(Link(say("group_button", chat.language), link))
            text = say("group", chat.language)
            return Change(outbox=[render.text_message(chat.chat_id, text, [[button]])])

        return decide


def _private(update: Update) -> bool:
    chat = update.effective_chat
    return chat is not None and chat.type == ChatType.PRIVATE


# --- decisions of the transport's own ----------------------------------------------------------


def _say(key: str, *, repeat: bool = False, **values: str) -> Decision:
    """A text of ours; with ``repeat``, the open question again after it (mid-conversation)."""

    def decide(chat: ChatView) -> Change:
        message = render.text_message(chat.chat_id, say(key, chat.language, **values))
        if repeat and chat.session is not None and not chat.session.finished:
            return engine_turn(Repeat(), before=[lambda _: message])(chat)
        return Change(outbox=[message])

    return decide


def _unreadable(chat: ChatView) -> OutgoingMessage:
    """A voice message, a sticker, a photo without words ...: what the bot can read, and the
    safety line (whoever cannot or will not type may be the one in trouble), before the open
    question (or the consent question)."""
    engine = chat.engine
    language = engine.pick_language(chat.language)
    parts = [engine.ui("unsupported", language), engine.safety_line(language)]
    return render.text_message(chat.chat_id, "\n\n".join(part for part in parts if part))


def _ask_forget(chat: ChatView) -> Change:
    buttons = [
        [render.data_button(say("forget_yes", chat.language), FORGET_YES)],
        [render.data_button(say("forget_no", chat.language), FORGET_NO)],
    ]
    text = say("forget_ask", chat.language)
    return Change(outbox=[render.text_message(chat.chat_id, text, buttons)])


def _forget(confirmed: bool, pressed_message_id: int | None) -> Decision:
    def decide(chat: ChatView) -> Change:
        text = say("forgotten" if confirmed else "kept", chat.language)
        if pressed_message_id is not None:
            reply = render.text_edit(chat.chat_id, pressed_message_id, text)
        else:
            reply = render.text_message(chat.chat_id, text)
        return Change(outbox=[reply], forget=confirmed)

    return decide
