"""The two python-telegram-bot applications our bot is measured against.

* **floor** (:func:`build_floor`): a ``MessageHandler`` and a ``CallbackQueryHandler``, each
  answering with one ``sendMessage`` and doing nothing else. No python-telegram-bot bot can
  handle an update for less.
* **anchor** (:func:`build_anchor`): the triage conversation as python-telegram-bot's own
  examples would have it: a ``ConversationHandler`` (``/start``, where the pain is, whether it
  goes down the leg, 0-10, numbness in the saddle area, bladder or bowel trouble, worse when
  sitting, then a suggestion with a booking button), an inline keyboard per question, one
  ``CallbackQueryHandler`` per state that answers the press and edits the question in place,
  the answers in ``context.user_data``, and optionally persistence (``PicklePersistence`` with
  python-telegram-bot's defaults, its ``on_flush=True`` variant, or ``DictPersistence``).
  bench/harness/flow_anchor.json is its walk: 7 updates, 2 Bot API calls per update.

The anchor keeps every conversation in memory and writes nothing durable per update: persistence
is written by ``Application.update_persistence()``, every 60 s in a running application and at
shutdown. :class:`MeteredPicklePersistence` counts and times those file writes, and can stop
writing after a deadline so that a benchmark run stays bounded.

``seed_store`` makes the state of chats seen before a run (as the anchor itself leaves it), for
the rows with many stored conversations.
"""

from __future__ import annotations

import html
import json
import os
import random
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ParseMode
from telegram.ext import (
    Application,
    BasePersistence,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    ConversationHandler,
    DictPersistence,
    MessageHandler,
    PicklePersistence,
    filters,
)
from telegram.request import BaseRequest
from telegram.warnings import PTBUserWarning

from bench.harness.driver import FIRST_CHAT_ID, AnyApp
from bench.harness.fake_request import TOKEN, FakeRequest

BOOKING_URL = "https://example.com/book?utm_source=telegram"
PERSISTENCE_KINDS = ("none", "dict", "pickle", "pickle-onflush")
CONVERSATION = "triage"
#: chats of a seeded store start here, far from the live ones
SEEDED_FIRST_CHAT_ID = FIRST_CHAT_ID + 50_000_000

Context = ContextTypes.DEFAULT_TYPE


def _application(
    token: str,
    request: BaseRequest | None,
    get_updates_request: BaseRequest | None,
    persistence: BasePersistence[Any, Any, Any] | None = None,
) -> AnyApp:
    builder = Application.builder().token(token).updater(None)
    if request is not None:
        builder = builder.request(request).get_updates_request(get_updates_request or FakeRequest())
    if persistence is not None:
        builder = builder.persistence(persistence)
    return builder.build()


# --- floor ------------------------------------------------------------------------------------


async def _one_message(update: Update, context: Context) -> None:
    assert update.effective_chat is not None
    await context.bot.send_message(update.effective_chat.id, "ok")


def build_floor(
    token: str = TOKEN,
    request: BaseRequest | None = None,
    get_updates_request: BaseRequest | None = None,
) -> AnyApp:
    """FLOOR: one ``sendMessage`` for every message and every button press."""
    app = _application(token, request, get_updates_request)
    app.add_handler(MessageHandler(filters.ALL, _one_message))
    app.add_handler(CallbackQueryHandler(_one_message))
    return app


# --- anchor: questions, keyboards, outcome ------------------------------------------------------

WHERE, DOWN_THE_LEG, HOW_STRONG, SADDLE, BLADDER, SITTING = range(6)
STATE_NAMES = ("where", "leg", "strength", "saddle", "bladder", "sitting")


def _keyboard(key: str, *rows: tuple[tuple[str, str], ...]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [InlineKeyboardButton(label, callback_data=f"{key}={value}") for label, value in row]
            for row in rows
        ]
    )


def _yes_no(key: str) -> InlineKeyboardMarkup:
    return _keyboard(key, (("Yes", "yes"), ("No", "no")))


QUESTIONS: dict[int, tuple[str, InlineKeyboardMarkup]] = {
    WHERE: (
        "Hello {name}, I help the practice find out what is going on before you book. "
        "A few quick questions; I don't diagnose, I point you the right way.\n\n"
        "<b>Where do you feel the pain most?</b>",
        _keyboard(
            "where",
            (("Buttock", "buttock"), ("Lower back", "lower_back")),
            (("Back of the thigh", "thigh"), ("Hip or outer side", "hip")),
        ),
    ),
    DOWN_THE_LEG: (
        "Does it spread down your leg?",
        _keyboard(
            "leg",
            (("Yes, below the knee", "below_knee"),),
            (("Yes, but not past the knee", "above_knee"),),
            (("No, it stays put", "none"),),
        ),
    ),
    HOW_STRONG: (
        "How bad is it right now? 0 is no pain, 10 the worst you can imagine.",
        _keyboard(
            "strength",
            tuple((str(n), str(n)) for n in range(6)),
            tuple((str(n), str(n)) for n in range(6, 11)),
        ),
    ),
    SADDLE: (
        "Any numbness or pins and needles between your legs or around your bottom "
        "(where you would sit on a saddle)?",
        _yes_no("saddle"),
    ),
    BLADDER: (
        "Any new problem holding or passing urine, or controlling your bowels?",
        _yes_no("bladder"),
    ),
    SITTING: ("Does sitting for a while make it worse?", _yes_no("sitting")),
}
BOOK = InlineKeyboardMarkup([[InlineKeyboardButton("Book a session", url=BOOKING_URL)]])
SEE_A_DOCTOR_NOW = (
    "<b>Please get medical help today</b>: call the emergency number or go to the emergency "
    "department. Numbness in that area or trouble with your bladder or bowels can mean the "
    "nerves at the bottom of the spine are squeezed, and that needs a doctor first, not a "
    "massage."
)


def outcome_text(answers: dict[str, Any]) -> str:
    """The suggestion at the end, from the answers (a plausible stand-in, not clinical advice)."""
    if answers.get("where") == "buttock" and answers.get("sitting") == "yes":
        cause = (
            "the <b>piriformis</b>, a deep buttock muscle that can press on the sciatic nerve "
            "when you sit"
        )
    elif answers.get("where") in ("lower_back", "hip"):
        cause = "the <b>sacro-iliac joint</b> at the base of the spine"
    else:
        cause = "tight muscles along the path of the sciatic nerve"
    note = ""
    if answers.get("leg") == "below_knee" and int(answers.get("strength", 0)) >= 7:
        note = "\n\nStrong pain below the knee is also worth a visit to your GP."
    name = html.escape(str(answers.get("name", "")))
    return (
        f"Thank you, {name}. What you describe fits {cause}.{note}\n\n"
        "This is not a diagnosis; if it gets worse or you notice new numbness or weakness, "
        "see a doctor. When you are ready, book a session here:"
    )


# --- anchor: handlers ---------------------------------------------------------------------------


async def _start(update: Update, context: Context) -> int:
    assert update.message is not None and update.effective_user is not None
    answers = context.user_data
    assert answers is not None
    answers.clear()
    answers["name"] = update.effective_user.first_name
    text, keyboard = QUESTIONS[WHERE]
    await update.message.reply_text(
        text.format(name=html.escape(update.effective_user.first_name)),
        reply_markup=keyboard,
        parse_mode=ParseMode.HTML,
    )
    return WHERE


async def _answer(update: Update, context: Context) -> tuple[str, str]:
    """Acknowledge the press, keep the answer; return (question key, value)."""
    query = update.callback_query
    assert query is not None and query.data is not None and context.user_data is not None
    await query.answer()
    key, _, value = query.data.partition("=")
    context.user_data[key] = value
    return key, value


def _next_question(state: int) -> Any:
    """Handler for a plain question: store the answer, show the next question in place."""
    text, keyboard = QUESTIONS[state + 1]

    async def handle(update: Update, context: Context) -> int:
        await _answer(update, context)
        assert update.callback_query is not None
        await update.callback_query.edit_message_text(text, reply_markup=keyboard)
        return state + 1

    handle.__name__ = f"after_{STATE_NAMES[state]}"
    return handle


def _red_flag(state: int) -> Any:
    """Handler for a red-flag question: "Yes" ends the conversation with urgent advice."""
    text, keyboard = QUESTIONS[state + 1]

    async def handle(update: Update, context: Context) -> int:
        _, value = await _answer(update, context)
        assert update.callback_query is not None
        if value == "yes":
            await update.callback_query.edit_message_text(
                SEE_A_DOCTOR_NOW, parse_mode=ParseMode.HTML
            )
            return ConversationHandler.END
        await update.callback_query.edit_message_text(text, reply_markup=keyboard)
        return state + 1

    handle.__name__ = f"after_{STATE_NAMES[state]}"
    return handle


async def _last_answer(update: Update, context: Context) -> int:
    _, value = await _answer(update, context)
    query = update.callback_query
    assert query is not None and update.effective_chat is not None
    assert context.user_data is not None
    await query.edit_message_text(f"{QUESTIONS[SITTING][0]}\n→ {value.capitalize()}")
    await context.bot.send_message(
        update.effective_chat.id,
        outcome_text(context.user_data),
        parse_mode=ParseMode.HTML,
        reply_markup=BOOK,
    )
    return ConversationHandler.END


async def _cancel(update: Update, context: Context) -> int:
    assert update.effective_message is not None
    await update.effective_message.reply_text("Stopped. Send /start to begin again.")
    return ConversationHandler.END


async def _old_button(update: Update, context: Context) -> None:
    assert update.callback_query is not None
    await update.callback_query.answer("That question is closed; send /start to begin again.")


def anchor_conversation(persistent: bool) -> ConversationHandler[Any]:
    states: dict[object, list[Any]] = {
        state: [CallbackQueryHandler(_next_question(state), pattern=f"^{STATE_NAMES[state]}=")]
        for state in (WHERE, DOWN_THE_LEG, HOW_STRONG)
    }
    for state in (SADDLE, BLADDER):
        states[state] = [CallbackQueryHandler(_red_flag(state), pattern=f"^{STATE_NAMES[state]}=")]
    states[SITTING] = [CallbackQueryHandler(_last_answer, pattern="^sitting=")]
    with warnings.catch_warnings():
        # CallbackQueryHandlers with per_message=False: python-telegram-bot warns, most bots do it
        warnings.simplefilter("ignore", PTBUserWarning)
        return ConversationHandler(
            entry_points=[CommandHandler("start", _start)],
            states=states,
            fallbacks=[CommandHandler("cancel", _cancel)],
            allow_reentry=True,
            name=CONVERSATION,
            persistent=persistent,
        )


# --- anchor: persistence and stored state -------------------------------------------------------


class MeteredPicklePersistence(PicklePersistence[Any, Any, Any]):
    """``PicklePersistence`` that counts and times its file writes; otherwise unchanged.

    Every write goes through ``_dump_singlefile`` (a private method of python-telegram-bot 22,
    overridden here only to watch it). ``stop_writing_at``: once ``time.perf_counter()`` passes
    it, writes are skipped and counted instead. ``update_persistence()`` starts one write per
    changed entry in a single pass of the event loop, so a timeout around it could not stop it
    midway; this can, and the skipped writes are then estimated at the cost of the last one.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.writes = 0
        self.write_s = 0.0
        self.last_write_s = 0.0
        self.skipped = 0
        self.stop_writing_at: float | None = None

    def _dump_singlefile(self) -> None:
        started = time.perf_counter()
        if self.stop_writing_at is not None and started > self.stop_writing_at:
            self.skipped += 1
            return
        super()._dump_singlefile()
        self.last_write_s = time.perf_counter() - started
        self.write_s += self.last_write_s
        self.writes += 1


def seed_store(
    count: int, *, seed: int = 1, mid_flow: float = 0.2, first_chat_id: int = SEEDED_FIRST_CHAT_ID
) -> dict[str, Any]:
    """The state ``count`` earlier chats left in the anchor: ``mid_flow`` of them stopped at a
    question (their conversation is still open, the answers so far in ``user_data``), the rest
    reached the end (conversation closed, every answer kept). ``chat_data`` is the empty dict
    python-telegram-bot stores for every chat it saw."""
    rng = random.Random(seed)
    answers = [("where", "buttock"), ("leg", "above_knee"), ("strength", "5")]
    answers += [("saddle", "no"), ("bladder", "no"), ("sitting", "yes")]
    conversations: dict[tuple[int, int], int] = {}
    user_data: dict[int, dict[str, Any]] = {}
    chat_data: dict[int, dict[str, Any]] = {}
    for chat_id in range(first_chat_id, first_chat_id + count):
        given = len(answers)
        if rng.random() < mid_flow:
            given = rng.randrange(SITTING)  # waiting at a question with at least one left
            conversations[(chat_id, chat_id)] = given
        user_data[chat_id] = {"name": "Seeded", **dict(answers[:given])}
        chat_data[chat_id] = {}
    return {"conversations": conversations, "user_data": user_data, "chat_data": chat_data}


async def write_pickle(path: Path, store: dict[str, Any]) -> None:
    """Leave ``store`` in a pickle file the way a previous run of the anchor would have."""
    writer = PicklePersistence(path, on_flush=True)
    for (chat_id, user_id), state in store["conversations"].items():
        await writer.update_conversation(CONVERSATION, (chat_id, user_id), state)
    for user_id, data in store["user_data"].items():
        await writer.update_user_data(user_id, data)
    for chat_id, data in store["chat_data"].items():
        await writer.update_chat_data(chat_id, data)
    await writer.update_bot_data({})
    await writer.flush()


def dict_persistence(store: dict[str, Any] | None) -> DictPersistence:
    if not store:
        return DictPersistence()
    conversations = {json.dumps(list(key)): state for key, state in store["conversations"].items()}
    return DictPersistence(
        conversations_json=json.dumps({CONVERSATION: conversations}),
        user_data_json=json.dumps(store["user_data"]),
        chat_data_json=json.dumps(store["chat_data"]),
    )


async def build_anchor(
    token: str = TOKEN,
    request: BaseRequest | None = None,
    get_updates_request: BaseRequest | None = None,
    persistence: str = "none",
    data_dir: str | None = None,
    stored: dict[str, Any] | None = None,
) -> AnyApp:
    """ANCHOR (see the module docstring). ``persistence``: one of :data:`PERSISTENCE_KINDS`.
    ``stored``: chats seen before (:func:`seed_store`), left where the persistence will load
    them in ``initialize()``, as after a restart; needs persistence."""
    if persistence not in PERSISTENCE_KINDS:
        raise ValueError(f"persistence is one of {PERSISTENCE_KINDS}, not {persistence!r}")
    store: BasePersistence[Any, Any, Any] | None = None
    if persistence == "dict":
        store = dict_persistence(stored)
    elif persistence.startswith("pickle"):
        path = Path(data_dir or tempfile.mkdtemp(prefix="anchor-")) / "anchor.pickle"
        if stored:
            await write_pickle(path, stored)
        store = MeteredPicklePersistence(path, on_flush=persistence == "pickle-onflush")
    elif stored:
        raise ValueError("stored conversations need persistence (dict or pickle) to be loaded")
    app = _application(token, request, get_updates_request, store)
    app.add_handler(anchor_conversation(persistent=store is not None))
    app.add_handler(CallbackQueryHandler(_old_button))  # buttons of a finished conversation
    return app


async def build_anchor_from_environment() -> AnyApp:
    """The anchor behind a factory shaped like ours (no transport arguments, the token from the
    environment): proves the harness reaches a bot that builds its own transport."""
    return await build_anchor(token=os.environ["TELEGRAM_BOT_TOKEN"])
