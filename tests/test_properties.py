"""Property tests: random walks through the default flow with valid and invalid inputs.

Whatever a person (or a stale button, or a forged callback) sends, the engine never raises,
wrong input changes nothing, every conversation can still be finished, going back then giving
the same answer again gives the same session, and sessions survive a JSON round trip.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.engine import (
    UNDO_EMERGENCY,
    Back,
    Choose,
    Confirm,
    Done,
    Engine,
    Input,
    Number,
    Repeat,
    Restart,
    Result,
    Session,
    Start,
    Text,
    Toggle,
)
from bot.flow import load_compiled
from bot.flow.model import Step, StepKind

FLOW = Path(__file__).resolve().parents[1] / "flows" / "sciatica.yaml"
ENGINE = Engine(
    load_compiled(FLOW),
    {
        "booking_url": "https://example.com/book",
        "emergency_number": "999",
        "urgent_advice": "111",
        "doctor": "GP",
    },
)
FLOW_STEPS = ENGINE.flow.steps
STEP_IDS = list(FLOW_STEPS)
QUESTIONS = [step for step in FLOW_STEPS.values() if step.is_question]
OPTION_IDS = sorted({o.id for s in QUESTIONS for o in s.options} | {"", "garbage", "none"})
TYPED = [
    "7",
    " 10 ",
    "7/10",
    "-3",
    "11",
    "999999",
    "forty",
    "Deep in one buttock",
    "none",
    "I can't pee",
    "it’s numb down there",
    "hello",
    "",
    "🙂",
    "x" * 1500,
]
PROPERTY_SETTINGS = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


def any_input(session: Session) -> st.SearchStrategy[Input]:
    return _any_input(session.step)


# Strategies are cached: building (and validating) a fresh one for every draw is slow.
@cache
def _any_input(current: str) -> st.SearchStrategy[Input]:
    """Anything at all: right or wrong step, any option id, any number, typed text, commands."""
    step_ids = st.sampled_from([*STEP_IDS, current, current, "nope"])
    return st.one_of(
        st.builds(Choose, step_ids, st.sampled_from(OPTION_IDS)),
        st.builds(Toggle, step_ids, st.sampled_from(OPTION_IDS)),
        st.builds(Done, step_ids),
        st.builds(Number, step_ids, st.integers(-5, 130)),
        st.builds(Text, st.sampled_from(TYPED) | st.text(max_size=60)),
        st.sampled_from([Back(), Restart(), Repeat(), Repeat("unsupported"), Start()]),
    )


def valid_answer(session: Session) -> st.SearchStrategy[list[Input]]:
    return _valid_answer(session.step, tuple(session.draft))


@cache
def _valid_answer(current: str, draft: tuple[str, ...]) -> st.SearchStrategy[list[Input]]:
    """The presses that answer the current question correctly."""
    step = FLOW_STEPS[current]
    if step.kind is StepKind.CHOICE:
        return st.sampled_from(step.options).map(lambda o: [Choose(step.id, o.id)])
    if step.kind is StepKind.MULTI:
        plain = [o.id for o in step.options if not o.exclusive]
        exclusive = [o.id for o in step.options if o.exclusive]
        wanted = st.lists(st.sampled_from(plain), min_size=1, max_size=3, unique=True)
        wanted = wanted | st.just(exclusive)
        return wanted.map(lambda ids: _ticks(step, draft, ids))
    low, high = step.minimum or 0, step.maximum or 120
    return st.integers(low, high).map(lambda n: [Number(step.id, n)])


def _ticks(step: Step, ticked: tuple[str, ...], wanted: list[str]) -> list[Input]:
    """Untick what is ticked but not wanted (after going back the old ticks are still
    there), tick the rest, press Done."""
    presses: list[Input] = [Toggle(step.id, i) for i in ticked if i not in wanted]
    presses += [Toggle(step.id, i) for i in wanted if i not in ticked]
    return [*presses, Done(step.id)]


def check_result(before: dict[str, object], result: Result) -> None:
    """What must hold after any input."""
    session = result.session
    assert result.replies, "every input gets an answer"
    assert session.step in FLOW_STEPS
    step = FLOW_STEPS[session.step]
    if session.outcome is not None:
        assert step.is_outcome and session.outcome == step.id
    else:
        assert step.is_question
        assert not session.reasons
    if not result.accepted:
        assert session.to_dict() == before, "wrong input must leave the session unchanged"
    assert set(session.answers) <= set(session.history) <= {q.id for q in QUESTIONS}
    assert Session.from_json(session.to_json()) == session
    for reply in result.replies:
        assert "{" not in reply.text, reply.text


def finish(data: st.DataObject, result: Result) -> Result:
    """Answer correctly until the conversation reaches its outcome."""
    for _ in range(len(FLOW_STEPS) + 1):
        if result.session.finished:
            return result
        for message in data.draw(valid_answer(result.session)):
            result = ENGINE.handle(result.session, message)
            assert result.accepted, (message, result.replies)
    return result


@PROPERTY_SETTINGS
@given(data=st.data())
def test_random_inputs_never_raise_and_wrong_input_changes_nothing(data: st.DataObject) -> None:
    result = ENGINE.start(language=data.draw(st.sampled_from([None, "en", "es", "xx-YY"])))
    for _ in range(data.draw(st.integers(1, 40))):
        session = result.session
        if data.draw(st.booleans()) and not session.finished:
            messages = data.draw(valid_answer(session))
        else:
            messages = [data.draw(any_input(session))]
        for message in messages:
            before = result.session.to_dict()
            result = ENGINE.handle(result.session, message)
            check_result(before, result)
    result = finish(data, result)
    assert FLOW_STEPS[result.session.step].is_outcome


@PROPERTY_SETTINGS
@given(data=st.data())
def test_back_then_the_same_answer_gives_the_same_session(data: st.DataObject) -> None:
    result = ENGINE.start()
    while not result.session.finished:
        *ticks, answer = data.draw(valid_answer(result.session))
        for message in ticks:
            result = ENGINE.handle(result.session, message)
        asking = result.session.to_dict()
        answered = ENGINE.handle(result.session, answer)
        back = ENGINE.handle(answered.session, Back())
        assert back.accepted
        if back.session.pending == UNDO_EMERGENCY:  # an emergency is undone only on "yes"
            back = ENGINE.handle(back.session, Confirm(back.session.step, yes=True))
            assert back.withdrawn and back.session.withdrawn
            back.session.withdrawn = False
        assert back.session.to_dict() == asking  # ticks of a multi-select come back too
        again = ENGINE.handle(back.session, answer)
        assert again.session.to_dict() == answered.session.to_dict()
        assert [r.text for r in again.replies] == [r.text for r in answered.replies]
        result = again


@pytest.mark.parametrize("message", [Back(), Repeat(), Text("hello")])
def test_nothing_to_undo_or_unreadable_text_at_the_start_stays_put(message: Input) -> None:
    start = ENGINE.start()
    before = start.session.to_dict()
    result = ENGINE.handle(start.session, message)
    assert not result.accepted
    assert result.session.to_dict() == before


@PROPERTY_SETTINGS
@given(data=st.data())
def test_sessions_survive_a_json_round_trip_mid_conversation(data: st.DataObject) -> None:
    result = ENGINE.start(source=data.draw(st.sampled_from([None, "website", "qr"])))
    for _ in range(data.draw(st.integers(0, 12))):
        if result.session.finished:
            break
        restored = Session.from_json(result.session.to_json())
        assert restored == result.session
        for message in data.draw(valid_answer(restored)):
            result = ENGINE.handle(restored, message)
            restored = Session.from_json(result.session.to_json())
    assert Session.from_json(result.session.to_json()).to_dict() == result.session.to_dict()
