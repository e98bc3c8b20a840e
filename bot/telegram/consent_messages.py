"""What the person is asked and told before they agree to their answers being kept (the
consent question, "No thanks", the safety net's answers that need no session), as Bot API
messages. See :mod:`bot.telegram.consent` for why and how; the gate that sends them is
``bot.telegram.conversation.engine_turn``.
"""

from __future__ import annotations

from bot import callback
from bot.engine import Answered, Engine
from bot.flow.safety import Screening
from bot.storage import OutgoingMessage
from bot.telegram import render
from bot.telegram.texts import say

ACTION = "consent"  # the buttons "x|consent|yes" and "x|consent|no"
AGREE = f"x|{ACTION}|yes"
DECLINE = f"x|{ACTION}|no"
SIGN_ACTION = "sign"  # "x|sign|yes|<concept>" and "x|sign|no": the yes/no before consent
_SIGN_YES = f"x|{SIGN_ACTION}|yes|"
SIGN_NO = f"x|{SIGN_ACTION}|no"


def request_text(language: str, retention_days: int) -> str:
    return say("consent_ask", language, retention_days=str(retention_days))


def request(chat_id: int, language: str, retention_days: int) -> OutgoingMessage:
    """The consent question, its two buttons side by side."""
    buttons = [
        render.data_button(say("consent_yes", language), AGREE),
        render.data_button(say("consent_no", language), DECLINE),
    ]
    return render.text_message(chat_id, request_text(language, retention_days), [buttons])


def answered(
    chat_id: int, message_id: int | None, question: str, answer: str
) -> list[OutgoingMessage]:
    """The question as it was asked, the answer under it and no buttons left (as the flow's
    questions look once answered); nothing when we do not know the message."""
    if message_id is None:
        return []
    return [render.answered_edit(chat_id, message_id, Answered(ACTION, question, answer))]


def declined(chat_id: int, engine: Engine, language: str) -> OutgoingMessage:
    """ "No thanks": nothing kept, the safety line, and the practice's page when there is one."""
    parts = [say("consent_declined", language), engine.safety_line(language)]
    booking = engine.booking_link(language)
    buttons = []
    if booking is not None:
        parts.append(say("consent_contact", language))
        buttons = [[render.url_button(booking)]]
    text = "\n\n".join(part for part in parts if part)
    return render.text_message(chat_id, text, buttons)


def urgent(chat_id: int, engine: Engine, screening: Screening, language: str) -> OutgoingMessage:
    """The safety net's emergency advice, for someone of whom nothing is stored."""
    return render.send(chat_id, engine.urgent_reply(screening, language))


def sign_question(chat_id: int, engine: Engine, concept: str, language: str) -> OutgoingMessage:
    """ "Do you have <sign> right now?" with Yes and No side by side. The concept rides in the
    Yes button (when it fits Telegram's 64 bytes), so the answer needs no stored session."""
    yes = _SIGN_YES + concept
    if len(yes.encode("utf-8")) > callback.MAX_BYTES:
        yes = _SIGN_YES  # the advice then names no particular sign
    buttons = [
        render.data_button(engine.ui("yes_button", language), yes),
        render.data_button(engine.ui("no_button", language), SIGN_NO),
    ]
    return render.text_message(chat_id, engine.sign_question(concept, language), [buttons])
