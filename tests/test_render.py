"""Rendering engine replies as Bot API calls: escaping, bold, keyboards, edits."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bot import callback
from bot.engine import (
    Action,
    Amend,
    Answered,
    Button,
    Choose,
    Confirm,
    Engine,
    Link,
    Reply,
    ReplyKind,
    Session,
    Text,
    Toggle,
)
from bot.flow import StepKind, load_compiled
from bot.telegram import render
from tests.support.records import html_problem, visible_text

FLOW = Path(__file__).resolve().parents[1] / "flows" / "sciatica.yaml"
SETTINGS = {"booking_url": "https://clinic.example/book?a=1&b=2", "emergency_number": "999"}


@pytest.fixture(scope="module")
def engine() -> Engine:
    return Engine(load_compiled(FLOW), SETTINGS)


def labels(markup: Any) -> list[list[str]]:
    return [[b["text"] for b in row] for row in markup["inline_keyboard"]]


def test_text_is_escaped_then_bold() -> None:
    assert render.to_html("**Tom & Jerry** <3") == "<b>Tom &amp; Jerry</b> &lt;3"
    assert render.to_html("**<script>**") == "<b>&lt;script&gt;</b>"
    assert render.to_html("a ** b") == "a ** b"  # a lone pair of stars stays as typed
    assert render.to_html("x" * 5000) == "x" * (render.MAX_TEXT - 1) + "…"


def test_a_typed_answer_echoed_back_cannot_inject_markup() -> None:
    answered = Answered("age", "**How old are you?**", "<script>alert(1)</script> & <b>x")
    message = render.answered_edit(42, 7, answered)
    text = message.params["text"]
    assert html_problem(text) is None
    assert visible_text(text, "HTML").endswith("→ <script>alert(1)</script> & <b>x")
    assert text.startswith("<b>How old are you?</b>")
    assert message.method == "editMessageText"
    assert (message.params["message_id"], "reply_markup" in message.params) == (7, False)


def test_choices_are_rows_of_the_given_width() -> None:
    buttons = tuple(Button(Action.CHOOSE, "where", v, v.title()) for v in "abcde")
    reply = Reply(ReplyKind.QUESTION, "Where?", "where", buttons, columns=2)
    message = render.send(5, reply)
    assert labels(message.params["reply_markup"]) == [["A", "B"], ["C", "D"], ["E"]]
    rows = message.params["reply_markup"]["inline_keyboard"]
    assert rows[0][0]["callback_data"] == "1|c|where|a"
    assert message.tag == render.PROMPT and message.params["parse_mode"] == "HTML"


def test_multi_select_shows_ticks_and_a_done_row() -> None:
    buttons = (
        Button(Action.TOGGLE, "flags", "numb", "Numb", selected=True),
        Button(Action.TOGGLE, "flags", "none", "None of these"),
        Button(Action.DONE, "flags", "", "Done ✔"),
    )
    reply = Reply(ReplyKind.QUESTION, "Any of these?", "flags", buttons, columns=1)
    markup = render.keyboard(reply)
    assert markup is not None
    assert labels(markup) == [["✅ Numb"], ["▫️ None of these"], ["Done ✔"]]
    assert markup["inline_keyboard"][2][0]["callback_data"] == "1|d|flags|"


def test_a_zero_to_ten_scale_is_a_compact_grid(engine: Engine) -> None:
    session = engine.start().session
    session.step = "severity"
    (question,) = engine.current(session)
    markup = render.keyboard(question)
    assert markup is not None
    assert labels(markup) == [["0", "1", "2", "3", "4", "5"], ["6", "7", "8", "9", "10"]]
    narrow = Reply(ReplyKind.QUESTION, "?", "s", question.buttons, columns=1)
    assert len(labels(render.keyboard(narrow))[0]) == render.NUMBER_COLUMNS


def test_the_booking_link_is_a_url_button() -> None:
    link = Link("Book a massage", SETTINGS["booking_url"])
    reply = Reply(ReplyKind.OUTCOME, "Book!", "done", link=link)
    message = render.send(5, reply)
    assert message.params["reply_markup"] == {
        "inline_keyboard": [[{"text": "Book a massage", "url": SETTINGS["booking_url"]}]]
    }
    assert message.tag is None


def test_every_question_of_the_default_flow_renders_valid_html_and_small_buttons(
    engine: Engine,
) -> None:
    flow = engine.flow
    session = engine.start().session
    for step in flow.steps.values():
        if step.kind is StepKind.MESSAGE:
            continue
        session.step = step.id
        session.outcome = step.id if step.is_outcome else None
        for reply in engine.current(session):
            message = render.send(1, reply)
            assert html_problem(message.params["text"]) is None, step.id
            assert len(visible_text(message.params["text"], "HTML")) <= render.MAX_TEXT
            for row in (message.params.get("reply_markup") or {}).get("inline_keyboard", []):
                for button in row:
                    data = button.get("callback_data")
                    if data is not None:
                        assert len(data.encode("utf-8")) <= callback.MAX_BYTES
                        assert callback.decode(data) is not None, data


def test_oversized_callback_data_is_refused() -> None:
    with pytest.raises(ValueError, match="64 bytes"):
        render.data_button("x", "1|c|" + "s" * 70 + "|v")


def test_a_pressed_answer_edits_the_pressed_message(engine: Engine) -> None:
    first = engine.start()
    result = engine.handle(first.session, Choose("location", "buttock"))
    messages = render.result_messages(9, result, pressed_message_id=3, prompt_message_id=3)
    assert [(m.method, m.params.get("message_id")) for m in messages] == [
        ("editMessageText", 3),
        ("sendMessage", None),
    ]
    assert visible_text(messages[0].params["text"], "HTML").endswith("→ Deep in one buttock")
    assert messages[1].tag == render.PROMPT


def test_a_typed_answer_edits_the_last_question(engine: Engine) -> None:
    session = _at(engine, "severity")
    result = engine.handle(session, Text("6"))
    messages = render.result_messages(9, result, prompt_message_id=11)
    assert (messages[0].method, messages[0].params["message_id"]) == ("editMessageText", 11)
    assert visible_text(messages[0].params["text"], "HTML").endswith("→ 6")


def test_a_tick_redraws_the_keyboard_in_place(engine: Engine) -> None:
    session = _at(engine, "emergency_flags")
    result = engine.handle(session, Toggle("emergency_flags", "both_legs"))
    (message,) = render.result_messages(9, result, pressed_message_id=12, prompt_message_id=12)
    assert message.method == "editMessageReplyMarkup"
    assert message.params["message_id"] == 12
    assert ["✅ New symptoms in both legs"] in labels(message.params["reply_markup"])


def test_a_question_asked_again_takes_the_buttons_off_the_old_copy(engine: Engine) -> None:
    session = _at(engine, "severity")
    result = engine.handle(session, Text("eleven"))  # not a number: notice + question again
    messages = render.result_messages(9, result, prompt_message_id=11)
    assert [m.method for m in messages] == ["editMessageReplyMarkup", "sendMessage", "sendMessage"]
    assert messages[0].params == {
        "chat_id": 9,
        "message_id": 11,
        "reply_markup": {"inline_keyboard": []},
    }
    assert messages[2].tag == render.PROMPT


def test_a_yes_no_question_shows_its_two_buttons_side_by_side(engine: Engine) -> None:
    session = _at(engine, "severity")
    result = engine.handle(session, Text("maybe a bit numb down there?"))  # asks first
    (question,) = result.replies
    markup = render.keyboard(question)
    assert markup is not None
    assert [[b["callback_data"] for b in row] for row in markup["inline_keyboard"]] == [
        ["1|k|severity|yes", "1|k|severity|no"]
    ]
    assert [callback.decode(b["callback_data"]) for b in markup["inline_keyboard"][0]] == [
        Confirm("severity", True),
        Confirm("severity", False),
    ]


def test_a_corrected_answer_is_shown_under_its_own_question(engine: Engine) -> None:
    session = _at(engine, "age")
    answered = engine.handle(session, Text("58"))  # the next question is open now
    result = engine.handle(answered.session, Amend("age", "42"))
    messages = render.result_messages(9, result, prompt_message_id=21, answered_message_id=20)
    assert [(m.method, m.params.get("message_id")) for m in messages] == [
        ("editMessageText", 20),  # "How old are you? → 42"
        ("editMessageReplyMarkup", 21),  # the question that is no longer asked
        ("sendMessage", None),  # the question that follows from 42
    ]
    assert visible_text(messages[0].params["text"], "HTML").endswith("→ 42")


def _at(engine: Engine, step: str) -> Session:
    session = engine.start().session
    session.step = step
    return session
