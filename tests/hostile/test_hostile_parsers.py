"""Hostile input to every parser of what people send: it costs microseconds, never seconds.

One typed answer used to freeze the bot for everyone: "1", 998 spaces and "x" at a number
question cost over a second of CPU in a backtracking regular expression, and the event loop
serves every chat. Here long adversarial strings (up to Telegram's 4,096 characters, and
more) go to the number parsing, the safety net and the normalising behind typed answers,
callback data decoding, the /start payload rule and the HTML rendering; each must stay within
a CPU budget (tests/support/budget.py) far above what linear code needs and far below what a
catastrophic case costs, and must never raise.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from bot import callback
from bot.engine import Action, Button, Engine, Result, Session, Text, normalise_phrase
from bot.flow import load_compiled
from bot.link import SourceError, validate_source
from bot.telegram import render
from bot.telegram.consent import ACTION as CONSENT
from bot.telegram.consent import SIGN_ACTION
from bot.telegram.conversation import SOURCE as START_PAYLOAD
from bot.telegram.conversation import Change, ChatView
from bot.telegram.handlers import FORGET, button_pattern
from bot.telegram.language import ACTION as LANGUAGE
from bot.telegram.practice import followups
from bot.telegram.render import CHECKIN_ACTION, LEAD_ACTION
from tests.support.budget import within_budget

REPO = Path(__file__).resolve().parents[2]

# The number rule as it was written before it was made linear: the reference for what a
# typed number means, used only on short strings (its cost is cubic in the length).
REFERENCE_NUMBER = re.compile(r"^\s*(-?\d{1,4})\s*(?:/\s*10)?\s*[.!]?\s*$")
# The check-in's own rule as it was, the same way: 0-10 typed while a check-in is open.
REFERENCE_CHECKIN = re.compile(r"^\s*(\d{1,2})\s*(?:/\s*10)?\s*[.!]?\s*$")

NUMBER_FLOW = """\
flow: numbers
version: 1
title: Numbers
languages: [en]
start: amount
disclaimer: "A massage therapist cannot diagnose."
safety_net:
  goto: done
  words:
    cannot: {en: [cannot, "lost control"]}
    pee: {en: [pee, urin*]}
    numb: {en: [numb, tingl*]}
    saddle: {en: ["down there", "numb numb numb numb"]}
  concepts:
    bladder:
      sign: "trouble peeing"
      when: [cannot + pee]
    saddle:
      sign: "numbness down there"
      when: [numb + saddle]
steps:
  amount:
    type: number
    text: "Type a number."
    min: -9999
    max: 9999
    next: done
  done:
    type: outcome
    urgent: true
    text: "Thanks."
"""

HOSTILE = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Pieces that make regular expressions backtrack when repeated: runs of spaces (ASCII and
# not), digits, signs, the "/10" and ".!" a number may end with, and words of the safety net.
PIECES = [
    *(" ", "  ", "\t", "\n", "\u00a0", "\u2003"),
    *("1", "42", "٣", "-", "/", "10", ".", "!", "x", "|", "**", "*"),
    *("numb", "can't", "pee", "down", "there", "é", "\u0301", "ﷺ"),
]
ANY_CHARACTER = st.characters(exclude_categories=())  # surrogates included
hostile_text = st.one_of(
    st.lists(st.sampled_from(PIECES), max_size=1200).map("".join),
    st.tuples(st.sampled_from(PIECES), st.integers(1, 4096), st.sampled_from(PIECES)).map(
        lambda t: t[0] * t[1] + t[2]
    ),
    st.text(ANY_CHARACTER, max_size=300),
)


@cache
def number_engine() -> Engine:
    return Engine(load_compiled("numbers.yaml", text=NUMBER_FLOW))


@cache
def default_engine() -> Engine:
    return Engine(load_compiled(REPO / "flows" / "sciatica.yaml"), {"emergency_number": "999"})


def at_number_question() -> Session:
    return number_engine().start().session


def typed(engine: Engine, session: Session, text: str) -> Result:
    return within_budget(lambda: engine.handle(session, Text(text)), what=f"{text[:40]!r}...")


# --- number answers -------------------------------------------------------------------------------


def test_a_number_answer_padded_with_spaces_is_refused_in_microseconds() -> None:
    """The reported case, at the default flow's age question and at a plain number question."""
    padded = "1" + " " * 998 + "x"
    result = typed(number_engine(), at_number_question(), padded)
    assert not result.accepted
    engine = default_engine()
    age = Session.from_dict({**engine.start().session.to_dict(), "step": "age"})
    assert not typed(engine, age, padded).accepted
    assert typed(engine, age, " 42 ").session.answers["age"] == 42


@HOSTILE
@given(text=hostile_text)
@example(text="1" + " " * 998 + "x")
@example(text="-" + "1" * 4000)
@example(text="7" + " " * 600 + "/" + " " * 390 + "10" + " " * 5 + "?")
def test_hostile_text_at_a_number_question_is_cheap_and_never_raises(text: str) -> None:
    result = typed(number_engine(), at_number_question(), text)
    assert result.replies


@HOSTILE
@given(text=st.text(st.sampled_from(" \t1234-/10.!x\u00a0٣"), max_size=24))
@example(text=" 7 / 10 ! ")
@example(text="-12.")
@example(text="٣")
def test_numbers_mean_what_they_meant_before(text: str) -> None:
    """The linear rule accepts exactly what the old one did, with the same value."""
    expected = REFERENCE_NUMBER.match(text)
    result = typed(number_engine(), at_number_question(), text)
    if expected is None:
        assert not result.accepted, text
    else:
        assert result.session.answers.get("amount") == int(expected.group(1)), text


@HOSTILE
@given(text=hostile_text)
@example(text="numb " * 819)
@example(text="can't " * 682 + "pee")
@example(text="numb down " * 409 + "numb")
def test_the_safety_net_reads_hostile_text_cheaply(text: str) -> None:
    engine = default_engine()
    typed(engine, engine.start().session, text)
    words = within_budget(lambda: normalise_phrase(text * 4))  # past Telegram's limit too
    assert words == words.strip() and "  " not in words


def test_a_message_that_grows_when_normalised_is_still_cheap() -> None:
    """One character can expand to eighteen under NFKC: 4,096 of them are still cheap."""
    assert len(within_budget(lambda: normalise_phrase("ﷺ" * 4096))) > 4096 * 10


# --- buttons, /start payloads, rendering ---------------------------------------------------------


@HOSTILE
@given(data=hostile_text)
@example(data="1|c|step|\ud800")
@example(data="\udfff")
@example(data="1|" * 2048)
@example(data="1|n|age|" + "9" * 5000)
def test_callback_data_of_any_kind_decodes_cheaply_or_is_refused(data: str) -> None:
    decoded = within_budget(lambda: callback.decode(data))
    if decoded is not None:
        assert len(data.encode("utf-8")) <= callback.MAX_BYTES


def test_a_lone_surrogate_in_callback_data_is_refused_not_raised() -> None:
    assert callback.decode("1|c|location|\ud800") is None
    assert callback.decode("\udc80") is None
    button = Button(Action.CHOOSE, "location", "buttock", "Buttock")
    assert callback.decode(callback.encode(button)) is not None


@HOSTILE
@given(typed=hostile_text | st.text(st.sampled_from("ab_-1 "), max_size=80))
@example(typed="a" * 4096 + "!")
@example(typed="-" * 64)
def test_the_start_payload_rule_is_cheap_and_agrees_with_the_link_kit(typed: str) -> None:
    """The bot counts a /start source exactly when `triage-bot link` would have made it."""
    payload = " ".join(typed.split())  # what the handler sees: the words after /start
    counted = within_budget(lambda: START_PAYLOAD.match(payload)) is not None
    try:
        validate_source(payload)
        made = True
    except SourceError:
        made = False
    assert counted == made, payload


@HOSTILE
@given(text=hostile_text)
@example(text="**" + "*" * 4094)
@example(text="** x" * 1024)
@example(text="***x" * 1024)
def test_rendering_user_derived_text_is_cheap(text: str) -> None:
    html = within_budget(lambda: render.to_html(text))
    assert html.count("<b>") == html.count("</b>")


# --- the check-in's typed answer, and the transport's own buttons ---------------------------------


def checkin_view(engine: Engine) -> ChatView:
    """A consented chat whose check-in has fallen due and is open (due at the epoch)."""
    session = engine.start().session.copy()
    session.marks[followups.CHECKIN] = 0.0
    return ChatView(
        chat_id=5,
        state=None,
        session=session,
        engine=engine,
        language="en",
        prompt_message_id=None,
        consented=True,
        retention_days=90,
    )


def checkin_reply(text: str) -> Change | None:
    view = checkin_view(default_engine())
    return within_budget(lambda: followups.typed_answer(view, text), what=f"{text[:40]!r}...")


def test_a_check_in_answer_padded_with_spaces_is_refused_in_microseconds() -> None:
    """The check-in's own number rule froze the bot like the engine's once did: "1", 998
    spaces and "x" is a reminder of how to answer, quickly; " 4 / 10 " is a score of 4."""
    reminder = checkin_reply("1" + " " * 998 + "x")
    assert reminder is not None and not reminder.events
    answered = checkin_reply(" 4 / 10 ! ")
    assert answered is not None and [e.outcome for e in answered.events] == ["4"]


@HOSTILE
@given(text=hostile_text)
@example(text="1" + " " * 998 + "x")
@example(text="7" + " " * 600 + "/" + " " * 390 + "10" + " " * 5 + "?")
@example(text="1" + "\u00a0" * 4094 + "!")
def test_hostile_text_as_a_check_in_answer_is_cheap_and_never_raises(text: str) -> None:
    reply = checkin_reply(text)
    assert reply is None or reply.outbox  # the safety net's turn, or an answer or a reminder


@HOSTILE
@given(text=st.text(st.sampled_from(" \t0123456789-/.!x\u00a0٣"), max_size=16))
@example(text=" 7 / 10 ! ")
@example(text="10")
@example(text="11")
@example(text="-3")
def test_a_check_in_reads_a_typed_number_as_any_number_question_does(text: str) -> None:
    """One meaning of a typed number: what the number rule reads, counted when it is 0-10."""
    expected = REFERENCE_NUMBER.match(text)
    reply = checkin_reply(text)
    assert reply is not None
    scores = [event.outcome for event in reply.events]
    if expected is None or int(expected.group(1)) not in followups.SCALE:
        assert scores == [], text
    else:
        assert scores == [str(int(expected.group(1)))], text


# Every button of the transport's own that python-telegram-bot matches a press's data against.
TRANSPORT_BUTTONS = (
    FORGET,
    LANGUAGE,
    CONSENT,
    SIGN_ACTION,
    followups.PAIN_ACTION,
    LEAD_ACTION,
    CHECKIN_ACTION,
)


@HOSTILE
@given(data=hostile_text)
@example(data="x|forget|" + " " * 4096 + "x")
@example(data="x|pain|" + "|" * 4096)
@example(data="x|" * 2048)
@example(data="x|consent|\n" * 512)
def test_the_transports_button_patterns_match_cheaply(data: str) -> None:
    """python-telegram-bot tries each button's pattern on every press's data in turn."""
    for action in TRANSPORT_BUTTONS:
        pattern = button_pattern(action)
        match = within_budget(lambda: pattern.match(data))  # noqa: B023 (called at once)
        prefix = f"x|{action}|"
        assert (match is not None) == data.startswith(prefix)
        if match is not None:
            assert match.group("argument") == data[len(prefix) :]
