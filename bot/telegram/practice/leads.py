"""Leads: with the person's consent, their summary goes to the therapist.

Pressing "Send my answers to the therapist" under an outcome that offers it is one update, so the
lead row, the card to every admin chat and the person's thank-you are written in that update's
one transaction (``Change.lead`` and the outbox) and sent after it commits: a crash loses
nothing and sends nothing twice, and a second press finds the session's mark
(``Session.marks["lead"]``) and does nothing.
Without that press nothing identifying leaves the conversation.

The card is HTML built here, every user-derived piece escaped (a name like ``<b>Ann</b>`` is
shown as typed). Answers and reasons are in the flow's first language, the practice's own.
"""

from __future__ import annotations

import html
import time
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime, timezone, tzinfo

from bot.engine import Engine, Repeat, Session
from bot.storage import NewLead, OutgoingMessage
from bot.telegram import render
from bot.telegram.conversation import Change, ChatView, Decision, engine_turn
from bot.telegram.practice.notify import html_message
from bot.telegram.texts import say

WITHDRAWN_LINE = (
    "⚠️ <b>They took back an emergency answer</b> (said it was a mistake after the urgent "
    "advice): please check their warning signs with them."
)


@dataclass(frozen=True, slots=True)
class Person:
    """Who pressed the button, as Telegram tells us (only used once they consent)."""

    name: str | None
    username: str | None


def consent(
    person: Person,
    admins: Iterable[int],
    pressed_message_id: int | None,
    now: float | None = None,
    zone: tzinfo | None = None,
) -> Decision:
    """The decision for a press of the consent button."""
    admin_ids = sorted(admins)

    def decide(chat: ChatView) -> Change:
        session = chat.session
        if session is None or "lead" not in chat.engine.offers(session) or not admin_ids:
            # An old button from an earlier conversation: say so and show where we are.
            return engine_turn(Repeat(notice="moved_on"))(chat)
        if "lead" in session.marks:
            return Change()  # a double tap: the summary went with the first press
        marked = session.copy()
        marked.marks["lead"] = session.outcome
        lead = new_lead(chat.chat_id, person, chat.engine, session)
        at = time.time() if now is None else now
        card = lead_card(lead, session.language, at, zone, withdrawn=session.withdrawn)
        outbox = offers_edit(chat, pressed_message_id, marked)
        outbox.append(render.text_message(chat.chat_id, say("consent_sent", session.language)))
        outbox += [card_message(admin, chat.chat_id, card) for admin in admin_ids]
        return Change(outbox=outbox, session=marked, lead=lead)

    return decide


def new_lead(chat_id: int, person: Person, engine: Engine, session: Session) -> NewLead:
    """The summary for the therapist: answers and reasons in the practice's own language (the
    flow's first), as the person read them in theirs."""
    practice = session.copy()
    practice.language = engine.flow.default_language
    return NewLead(
        chat_id=chat_id,
        name=person.name,
        username=person.username,
        summary=engine.answers_in_words(practice),
        outcome=session.outcome,
        reasons=tuple(engine.reason_texts(practice)),
        source=session.source,
    )


def offers_edit(
    chat: ChatView, pressed_message_id: int | None, marked: Session
) -> list[OutgoingMessage]:
    """The outcome's buttons redrawn without the offer just used (nothing when we do not
    know the message, or the outcome is no longer shown)."""
    reply = chat.engine.outcome_reply(marked)
    if pressed_message_id is None or reply is None:
        return []
    return [render.keyboard_edit(chat.chat_id, pressed_message_id, reply, chat.offering)]


def humanise(identifier: str) -> str:
    """``emergency_flags`` -> ``Emergency flags``: the flow's ids read as plain words."""
    words = identifier.replace("_", " ").strip()
    return words[:1].upper() + words[1:]


def lead_card(
    lead: NewLead, language: str, at: float, zone: tzinfo | None = None, *, withdrawn: bool = False
) -> str:
    """The admin's card, HTML: who, how to reach them, the outcome and why, the answers.

    ``withdrawn``: the person was given the emergency advice in this conversation and took
    that answer back as a mistake, which the therapist should know before seeing them.

    Too long for one message (a flow with very many questions)? Whole lines go, answers first,
    never part of one: a cut tag or entity would make Telegram refuse the card.
    """
    e = _escape
    contact = f" (@{e(lead.username)})" if lead.username else ""
    head = [
        "📋 <b>New request from the triage bot</b>",
        f'<a href="tg://user?id={int(lead.chat_id)}">{e(lead.name or "Someone")}</a>{contact}',
        f"Outcome: <b>{e(humanise(lead.outcome or '?'))}</b>",
    ]
    if withdrawn:
        head.append(WITHDRAWN_LINE)
    reasons = [f"• {e(reason)}" for reason in lead.reasons]
    answers = [f"• {e(humanise(step))}: {e(str(words))}" for step, words in lead.summary.items()]
    tail = [
        f"Source: {e(lead.source or 'direct')} · Language: {e(language)}",
        f"Sent: {format_time(at, zone)}",
        "Reply by tapping the name" + (" or the @username." if lead.username else "."),
    ]
    omitted = 0
    while True:
        shown = [*answers, f"… and {omitted} more (/export has them all)"] if omitted else answers
        body = [*(["Why:", *reasons] if reasons else []), *(["Answers:", *shown] if shown else [])]
        text = "\n".join([*head, *body, *tail])
        if len(text) <= render.MAX_TEXT or not (answers or reasons):
            return text
        if answers:
            answers.pop()
            omitted += 1
        else:
            reasons.pop()


def card_message(admin_chat_id: int, about_chat_id: int, card: str) -> OutgoingMessage:
    # about_chat_id: /forget withdraws the card while it is still unsent.
    return replace(html_message(admin_chat_id, card), about_chat_id=about_chat_id)


def format_time(at: float, zone: tzinfo | None = None) -> str:
    """``2026-05-04 14:30 Europe/London``: in the practice's time zone (TIMEZONE), UTC without
    one."""
    local = datetime.fromtimestamp(at, zone or timezone.utc)
    return f"{local:%Y-%m-%d %H:%M} {zone or 'UTC'}"


def _escape(text: str) -> str:
    return html.escape(text, quote=True)
