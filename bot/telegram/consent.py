"""Consent before health questions: the person's "Agree and start" or "No thanks".

Health data is special-category data: keeping it needs the person's explicit consent and a
notice at collection. So the bot asks before the flow starts (not as a question of the flow
file: ``flows try``, scenario files and the terminal chat know nothing of it), in two short
lines (what is kept, for how long, who sees it; /privacy has the rest), with "Agree and start"
and "No thanks". Until they agree no session is stored: :func:`bot.telegram.conversation.
engine_turn` holds that line for every path, and answers anything with the consent question;
the safety net still reads what they type, and answers a warning sign with the emergency
advice, or a doubtful one with a yes/no question whose sign travels in its Yes button, so
nothing about it needs storing either. The consent's time is kept on the chat; /mydata shows
it, /forget and the retention purge remove it (the person is then asked again).

The buttons are the transport's own ("x|consent|yes", "x|consent|no", "x|sign|yes|<concept>",
"x|sign|no"); the messages are built in :mod:`bot.telegram.consent_messages`.
"""

from __future__ import annotations

import time
from dataclasses import replace

from bot.engine import Input, Repeat, Start
from bot.flow.safety import Screening, Verdict
from bot.telegram import consent_messages as messages
from bot.telegram import render
from bot.telegram.consent_messages import ACTION, SIGN_ACTION
from bot.telegram.conversation import Change, ChatView, Decision, engine_turn
from bot.telegram.texts import say

__all__ = ["ACTION", "SIGN_ACTION", "agree_or_decline", "sign_answer"]


def agree_or_decline(agreed: bool, pressed_message_id: int | None) -> Decision:
    """ "Agree and start" or "No thanks" under the consent question."""

    def decide(chat: ChatView) -> Change:
        if chat.consented:
            # A double tap, or an old copy of the question: they agreed already.
            return Change() if agreed else engine_turn(Repeat(notice="moved_on"))(chat)
        language = chat.engine.pick_language(chat.language)
        question = messages.request_text(language, chat.retention_days)
        label = say("consent_yes" if agreed else "consent_no", language)
        echo = messages.answered(chat.chat_id, pressed_message_id, question, label)
        change = _agree(chat, language, pressed_message_id) if agreed else _decline(chat, language)
        return replace(change, outbox=[*echo, *change.outbox])

    return decide


def _agree(chat: ChatView, language: str, pressed_message_id: int | None) -> Change:
    """The conversation begins (one stored before consent existed carries on), and the time
    of the consent is kept with it."""
    source = chat.state.source if chat.state else None
    message: Input = Repeat() if chat.session else Start(language=language, source=source)
    # The question they answered is edited above: no prompt to take the buttons off.
    prompt = None if chat.prompt_message_id == pressed_message_id else chat.prompt_message_id
    change = engine_turn(message)(replace(chat, consented=True, prompt_message_id=prompt))
    return replace(change, consented_at=time.time())


def _decline(chat: ChatView, language: str) -> Change:
    """Nothing more is kept (the link they came by goes too, and a conversation stored before
    consent existed); the safety line and the practice's page instead."""
    reply = messages.declined(chat.chat_id, chat.engine, language)
    # session=None also tells the practice's offers there is no outcome to add buttons to.
    return Change(outbox=[reply], session=None, forget=chat.session is not None, source=None)


def sign_answer(argument: str, pressed_message_id: int | None) -> Decision:
    """Yes or No to the safety net's question asked before consent ("x|sign|yes|<sign>")."""
    answer, _, concept = argument.partition("|")

    def decide(chat: ChatView) -> Change:
        engine = chat.engine
        language = engine.pick_language(chat.language)
        yes = answer == "yes"
        net = engine.flow.safety_net
        known = concept if net is not None and net.concept(concept) is not None else None
        label = engine.ui("yes_button" if yes else "no_button", language)
        question = engine.sign_question(known or "", language)
        echo = messages.answered(chat.chat_id, pressed_message_id, question, label)
        if yes:  # urgent whatever else is going on: stored or not, nothing waits for it
            screening = Screening(Verdict.EMERGENCY, known)
            urgent = messages.urgent(chat.chat_id, engine, screening, language)
            return Change(outbox=[*echo, urgent])
        if chat.consented:  # an old copy: their conversation has its own questions
            return engine_turn(Repeat(notice="moved_on"))(chat)
        thanks = render.text_message(chat.chat_id, engine.ui("confirm_no_finished", language))
        # Then the consent question, as anything sent before consent gets.
        ask = engine_turn(Repeat(), pressed_message_id=pressed_message_id)(chat)
        return replace(ask, outbox=[*echo, thanks, *ask.outbox])

    return decide
