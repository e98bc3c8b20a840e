"""Leads: with the person's consent, their summary goes to the therapist.

Pressing "Send my answers to the therapist" under a booking outcome is one update, so the
lead row, the card to every admin chat and the person's thank-you are written in that update's
one transaction (``Change.lead`` and the outbox) and sent after it commits: a crash loses
nothing and sends nothing twice, and a second press finds the session's mark and does nothing.
Without that press nothing identifying leaves the conversation.

The card is HTML built here, every user-derived piece escaped (a name like ``<b>Ann</b>`` is
shown as typed). Answers and reasons are in the flow's first language, the practice's own.
"""

from __future__ import annotations

import html
import time
from datetime import datetime, timezone, tzinfo
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from bot.engine import Engine, Repeat, Session, fill
from bot.storage import NewLead, OutgoingMessage
from bot.telegram import render
from bot.telegram.conversation import Change, ChatView, Decision, engine_turn
from bot.telegram.practice.notify import html_message
from bot.telegram.practice.offers import LEAD_MARK, Offers, booking_outcome
from bot.telegram.practice.texts import say

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
    offers: Offers,
    pressed_message_id: int | None,
    now: float | None = None,
    zone: tzinfo | None = None,
) -> Decision:
    """The decision for a press of the consent button."""
    admin_ids = sorted(admins)

    def decide(chat: ChatView) -> Change:
        session = chat.session
        if not booking_outcome(chat.engine, session) or not admin_ids:
            # An old button from an earlier conversation: say so and show where we are.
            return engine_turn(Repeat(notice="moved_on"))(chat)
        assert session is not None
        if LEAD_MARK in session.answers:
            return Change()  # a double tap: the summary went with the first press
        marked = session.copy()
        marked.answers[LEAD_MARK] = session.outcome
        lead = new_lead(chat.chat_id, person, chat.engine, session)
        at = time.time() if now is None else now
        card = lead_card(lead, session.language, at, zone, withdrawn=session.withdrawn)
        outbox: list[OutgoingMessage] = []
        if pressed_message_id is not None:
            rows = offers.rows(chat.engine, marked)
            outbox.append(keyboard_edit(chat.chat_id, pressed_message_id, rows))
        outbox.append(render.text_message(chat.chat_id, say("consent_sent", session.language)))
        outbox += [card_message(admin, chat.chat_id, card) for admin in admin_ids]
        return Change(outbox=outbox, session=marked, lead=lead)

    return decide


def new_lead(chat_id: int, person: Person, engine: Engine, session: Session) -> NewLead:
    practice = _in_practice_language(engine, session)
    return NewLead(
        chat_id=chat_id,
        name=person.name,
        username=person.username,
        summary=answers_in_words(engine, practice),
        outcome=session.outcome,
        reasons=tuple(reason_words(engine, practice, r) for r in session.reasons),
        source=session.source,
    )


def answers_in_words(engine: Engine, session: Session) -> dict[str, str]:
    """Question id -> the answer in words (option labels), in the order they were asked."""
    return {
        step: engine.answer_words(session, step)
        for step in session.history
        if step in session.answers and step in engine.flow.steps
    }


def reason_words(engine: Engine, session: Session, reason: str) -> str:
    """A reason as the person read it under their outcome ("you told us ...")."""
    flow = engine.flow
    text = flow.reasons.get(reason)
    if text is not None:
        values = dict(engine.settings)
        values.update({key: engine.answer_words(session, key) for key in session.answers})
        return fill(text.get(session.language, flow.default_language), values)
    if reason == "safety_net":
        return engine.ui("safety_net_reason", session.language)
    step = flow.steps.get(session.step)
    for rule in step.reasons if step is not None else ():
        source = flow.steps.get(rule.each) if rule.each else None
        option = source.option(reason) if source is not None else None
        if option is not None:
            return option.label.get(session.language, flow.default_language)
    return reason


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


def keyboard_edit(
    chat_id: int, message_id: int, rows: Sequence[Sequence[dict[str, str]]]
) -> OutgoingMessage:
    params = {
        "chat_id": chat_id,
        "message_id": message_id,
        "reply_markup": {"inline_keyboard": [list(row) for row in rows]},
    }
    return OutgoingMessage(chat_id, "editMessageReplyMarkup", params)


def format_time(at: float, zone: tzinfo | None = None) -> str:
    """``2026-05-04 14:30 Europe/London``: in the practice's time zone (TIMEZONE), UTC without
    one."""
    local = datetime.fromtimestamp(at, zone or timezone.utc)
    return f"{local:%Y-%m-%d %H:%M} {zone or 'UTC'}"


def _in_practice_language(engine: Engine, session: Session) -> Session:
    practice = session.copy()
    practice.language = engine.flow.default_language
    return practice


def _escape(text: str) -> str:
    return html.escape(text, quote=True)
