"""What a booking outcome offers besides the booking link: sending the summary to the
therapist (a lead, with consent) and a gentle check-in a few days later.

The offers are added to the outcome message as it leaves the engine (:meth:`Offers.amend`, run
on every update's change before it is committed), so every path that shows an outcome (the
last answer, a repeat after a sticker, a flow change) shows the same buttons. Whether a
conversation has already used an offer is kept in the session itself, under answer keys that
no flow step can have (step ids are letters, digits and ``_``): a double tap, or a press on an
old copy of the outcome, then finds the mark and does nothing twice. /restart starts a session
without marks; /forget deletes it with everything else.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from bot.engine import Engine, Session
from bot.storage import UNCHANGED
from bot.telegram import render
from bot.telegram.conversation import Change, ChatView
from bot.telegram.practice.texts import checkin_button, say

# Session marks (answer keys no step id can take).
LEAD_MARK = "practice:lead"  # the summary went to the therapist (value: the outcome id)
CHECKIN_MARK = "practice:checkin"  # a check-in is booked (value: its due time)
PAIN_MARK = "practice:pain"  # the last check-in answered (value: the follow-up id)

# Callback data of the offer buttons (the transport's "x|<action>|<argument>" form).
CONSENT = "x|lead|send"
CHECKIN = "x|checkin|book"

Rows = list[list[dict[str, str]]]


def booking_outcome(engine: Engine, session: Session | None) -> bool:
    """Is the conversation at an outcome that offers booking (and is a booking page set)?"""
    if session is None or not session.finished or not engine.is_current(session):
        return False
    step = engine.flow.steps[session.step]
    # Never under an urgent outcome (safety rule S1; the checker refuses such a flow anyway).
    offered = step.is_outcome and step.booking and not step.urgent
    return offered and bool(engine.settings.get("booking_url"))


@dataclass(frozen=True, slots=True)
class Offers:
    leads: bool  # are there admin chats to send a summary to?
    checkin_days: int

    def rows(self, engine: Engine, session: Session) -> Rows:
        """The outcome's keyboard: the booking link, then the offers not used yet."""
        language = session.language
        url = engine.settings["booking_url"]
        rows: Rows = [[render.url_button(engine.ui("book_button", language), url)]]
        if self.offers_lead(session):
            rows.append([render.data_button(say("consent_button", language), CONSENT)])
        if CHECKIN_MARK not in session.answers:
            label = checkin_button(self.checkin_days, language)
            rows.append([render.data_button(label, CHECKIN)])
        return rows

    def offers_lead(self, session: Session) -> bool:
        return self.leads and LEAD_MARK not in session.answers

    def amend(self, chat: ChatView, change: Change) -> Change:
        """Add the offers to an outcome message in ``change`` (cheap when there is none)."""
        if change.session is UNCHANGED:
            session = chat.session
        else:
            session = change.session if isinstance(change.session, Session) else None
        if session is None or not session.finished:
            return change  # the hot path: a question was asked
        engine = chat.engine
        if not booking_outcome(engine, session):
            return change
        url = engine.settings["booking_url"]
        outbox = list(change.outbox)
        found = False
        for index, message in enumerate(outbox):
            if message.method == "sendMessage" and _links_to(message.params, url):
                params = self._with_offers(dict(message.params), engine, session)
                outbox[index] = replace(message, params=params)
                found = True
        return replace(change, outbox=outbox) if found else change

    def _with_offers(self, params: dict[str, Any], engine: Engine, session: Session) -> dict:
        params["reply_markup"] = {"inline_keyboard": self.rows(engine, session)}
        if self.offers_lead(session):
            line = f"\n\n<i>{html.escape(say('consent_line', session.language), quote=False)}</i>"
            if len(params["text"]) + len(line) <= render.MAX_TEXT:
                params["text"] += line
        return params


def _links_to(params: Any, url: str) -> bool:
    markup = params.get("reply_markup") if isinstance(params, dict) else None
    rows: Sequence[Sequence[dict[str, str]]] = (markup or {}).get("inline_keyboard") or ()
    return any(button.get("url") == url for row in rows for button in row)
