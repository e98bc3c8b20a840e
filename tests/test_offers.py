"""What an outcome offers (the flow declares it, the engine states it, render draws it), and the
session's marks of offers used (their own field, never among the person's answers)."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

from bot.engine import Choose, Done, Engine, Number, Session, Text, Toggle
from bot.flow import check_flow, load_flow
from bot.flow.compiler import compile_flow
from bot.flow.model import OFFERS, StepKind
from bot.telegram import render
from tests.support.records import html_problem, visible_text
from tests.test_engine import SETTINGS, mini_flow, walk_to_pain

PRACTICE = render.Offering(leads=True, checkin_days=3)
DEFAULT_FLOW = Path(__file__).resolve().parents[1] / "flows" / "sciatica.yaml"


def engine_with(**book: Any) -> Engine:
    """The mini flow, its booking outcome changed by ``book`` (e.g. offers=("checkin",))."""
    flow = mini_flow()
    steps = dict(flow.steps)
    steps["book"] = replace(steps["book"], **book)
    return Engine(compile_flow(replace(flow, steps=steps)), SETTINGS)


def at_booking(engine: Engine) -> Session:
    result = engine.handle(walk_to_pain(engine), Number("pain", 2))
    assert result.session.outcome == "book"
    return result.session


def rows(params: dict[str, Any]) -> list[list[dict[str, str]]]:
    return (params.get("reply_markup") or {}).get("inline_keyboard", [])


def test_booking_true_offers_everything_and_render_builds_every_offer() -> None:
    engine = engine_with()
    session = at_booking(engine)
    reply = engine.outcome_reply(session)
    assert reply is not None and reply.offers == OFFERS
    message = render.send(7, reply, PRACTICE)
    assert rows(message.params) == [
        [{"text": "Book an appointment", "url": SETTINGS["booking_url"]}],
        [{"text": "Send my answers to the therapist", "callback_data": render.LEAD}],
        [{"text": "Check in with me in 3 days", "callback_data": render.CHECKIN}],
    ]
    text = message.params["text"]
    assert html_problem(text) is None
    assert visible_text(text, "HTML").endswith("Nothing is shared unless you press it.")


def test_render_shows_only_what_the_practice_has_set_up() -> None:
    engine = engine_with()
    reply = engine.outcome_reply(at_booking(engine))
    assert reply is not None
    alone = render.send(7, reply)  # no admin chats, no check-ins: the booking link alone
    assert [[b["text"] for b in row] for row in rows(alone.params)] == [["Book an appointment"]]
    assert "Nothing is shared" not in alone.params["text"]
    no_leads = render.send(7, reply, render.Offering(checkin_days=1))
    labels = [[b["text"] for b in row] for row in rows(no_leads.params)]
    assert labels == [["Book an appointment"], ["Check in with me tomorrow"]]


def test_an_outcome_that_declares_no_booking_shows_none() -> None:
    engine = engine_with(offers=("lead", "checkin"))
    reply = engine.outcome_reply(at_booking(engine))
    assert reply is not None and reply.link is None and reply.offers == ("lead", "checkin")
    buttons = rows(render.send(7, reply, PRACTICE).params)
    assert [b.get("callback_data") for row in buttons for b in row] == [render.LEAD, render.CHECKIN]

    nothing = engine_with(booking=True, offers=())
    reply = nothing.outcome_reply(at_booking(nothing))
    assert reply is not None and reply.offers == () and reply.link is None
    assert "reply_markup" not in render.send(7, reply, PRACTICE).params


def test_booking_needs_a_booking_page_the_other_offers_do_not() -> None:
    engine = Engine(compile_flow(mini_flow()), {"emergency_number": "999"})
    reply = engine.outcome_reply(at_booking(engine))
    assert reply is not None and reply.link is None
    assert reply.offers == ("lead", "checkin")
    assert engine.booking_link("en") is None


def test_an_urgent_outcome_never_offers_anything_even_if_built_by_hand() -> None:
    flow = mini_flow()
    steps = dict(flow.steps)
    steps["urgent"] = replace(steps["urgent"], booking=True, offers=OFFERS)
    engine = Engine(compile_flow(replace(flow, steps=steps)), SETTINGS)
    result = engine.handle(engine.start().session, Text("I cannot pee"))
    assert result.session.outcome == "urgent"
    assert result.replies[-1].offers == () and result.replies[-1].link is None
    assert engine.offers(result.session) == ()


def test_the_checker_refuses_an_urgent_outcome_that_offers_anything() -> None:
    source = """
flow: f
version: 1
start: end
disclaimer: "We cannot diagnose."
steps:
  end:
    type: outcome
    urgent: true
    offers: [checkin]
    text: "Call {emergency_number} now."
"""
    problems = [problem.message for problem in check_flow("urgent.yaml", text=source)]
    assert any(p.startswith("S1 no-booking-on-urgent") for p in problems), problems


def test_an_offer_used_is_not_offered_again() -> None:
    engine = engine_with()
    session = at_booking(engine)
    session.marks["lead"] = "book"
    reply = engine.outcome_reply(session)
    assert reply is not None and reply.offers == ("booking", "checkin")
    session.marks["checkin"] = 1.0
    reply = engine.outcome_reply(session)
    assert reply is not None and reply.offers == ("booking",)
    assert engine.offers(session) == OFFERS  # what the outcome allows, used or not


def test_marks_are_their_own_field_and_survive_json() -> None:
    engine = engine_with()
    session = at_booking(engine)
    session.marks.update(lead="book", checkin=123.5)
    stored = json.loads(session.to_json())
    assert stored["marks"] == {"lead": "book", "checkin": 123.5}
    assert set(stored["answers"]) == {"where", "flags", "pain"}
    back = Session.from_json(session.to_json())
    assert back.marks == session.marks and back.answers == session.answers
    copy = back.copy()
    copy.marks["pain"] = "typed"
    assert "pain" not in back.marks  # a copy's marks are its own


def test_a_session_stored_with_marks_among_its_answers_reads_them_as_marks() -> None:
    engine = engine_with()
    old = json.loads(at_booking(engine).to_json())
    old["answers"].update({"practice:lead": "book", "practice:checkin": 99.0, "practice:pain": 4})
    session = Session.from_dict(old)
    assert session.marks == {"lead": "book", "checkin": 99.0, "pain": 4}
    assert not any(":" in key for key in session.answers)
    assert "practice" not in json.dumps(engine.answers_in_words(session))
    reply = engine.outcome_reply(session)
    assert reply is not None and reply.offers == ("booking",)


def test_reasons_and_answers_in_words_come_from_the_engine() -> None:
    engine = engine_with()
    session = engine.start().session
    for step, option in (("where", "buttock"), ("flags", "fever")):
        session = engine.handle(
            session, Choose(step, option) if step == "where" else Toggle(step, option)
        ).session
    session = engine.handle(
        engine.handle(session, Done("flags")).session, Number("pain", 8)
    ).session
    assert session.outcome == "doctor"
    words = {"where": "Buttock", "flags": "Fever", "pain": "8"}
    assert engine.answers_in_words(session) == words
    assert engine.reason_texts(session) == ["your pain is 8 out of 10", "Fever"]
    reply = engine.outcome_reply(session)
    assert reply is not None and "• your pain is 8 out of 10\n• Fever" in reply.text
    assert engine.answers_in_words(replace(session, language="es"))["where"] == "Nalga"


def test_the_default_flow_offers_what_it_offered_before() -> None:
    for step in load_flow(DEFAULT_FLOW).steps.values():
        if step.kind is StepKind.OUTCOME:
            expected = OFFERS if step.booking and not step.urgent else ()
            assert step.allowed_offers == expected, step.id
