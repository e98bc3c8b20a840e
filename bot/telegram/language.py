"""/language: the person picks one of the flow's languages.

The choice is stored on the chat (and wins over Telegram's language_code from then on, in this
conversation and later ones); a conversation under way switches at once, its question (or
outcome) shown again in the new language, with every answer and tick kept.
"""

from __future__ import annotations

from dataclasses import replace

from bot.engine import Repeat
from bot.telegram import render
from bot.telegram.conversation import Change, ChatView, Decision, engine_turn
from bot.telegram.texts import say
from bot.text import own_name

ACTION = "language"  # the transport button "x|language|<code>"
PREFIX = f"x|{ACTION}|"


def ask_language(chat: ChatView) -> Change:
    """A button per language of the flow, each in its own name ("English", "Español")."""
    buttons = [
        [render.data_button(own_name(code), PREFIX + code)] for code in chat.engine.flow.languages
    ]
    text = say("language_ask", chat.language)
    return Change(outbox=[render.text_message(chat.chat_id, text, buttons)])


def switch_language(code: str, pressed_message_id: int | None) -> Decision:
    """The language button ``code`` was pressed on message ``pressed_message_id``."""

    def decide(chat: ChatView) -> Change:
        engine = chat.engine
        if code not in engine.flow.languages:
            # A forged button, or one from a flow that has since dropped the language.
            return engine_turn(Repeat(notice="moved_on"))(chat)
        done = say("language_set", code, name=own_name(code))
        session = chat.session
        if session is None:
            done = f"{done}\n\n{say('language_start', code)}"
        confirmation = (
            render.text_edit(chat.chat_id, pressed_message_id, done)
            if pressed_message_id is not None
            else render.text_message(chat.chat_id, done)
        )
        if session is None:
            return Change(outbox=[confirmation], language=code)
        switched = replace(session, language=code)
        result = engine.handle(switched, Repeat())
        outbox = [confirmation]
        outbox += render.result_messages(
            chat.chat_id, result, prompt_message_id=chat.prompt_message_id, offering=chat.offering
        )
        return Change(outbox=outbox, session=result.session, language=code)

    return decide
