"""Walking a person through the default flow, step by step, like someone on a phone.

Steps are found by the step id in the buttons' callback data (``1|<action>|<step>|<value>``,
bot/callback.py), so the walk does not depend on labels; a typed question (age) is found by its
text. Each answer waits until the question is actually on screen, and a multi-select waits for
each tick to show before the next tap.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import partial

from tests.support.driver import FakeUser, option_of, step_of
from tests.support.records import Button, ChatMessage

Answer = str | int | list[str]
Path = Sequence[tuple[str, Answer]]

# Questions answered by typing (no buttons) and how to recognise them.
TYPED_PROMPTS = {"age": r"How old are you"}

# How each outcome of flows/sciatica.yaml (docs/clinical-basis.md) reads to the person.
OUTCOME_TEXT = {
    "emergency": r"Please get medical help now",
    "see_doctor_soon": r"Please see a doctor first",
    "likely_nerve_root": r"irritated nerve root",
    "likely_piriformis": r"piriformis muscle",
    "likely_sacroiliac": r"sacro-iliac",
    "non_specific": r"most common kind of back pain",
}

# What people type that the safety net must catch (flows/sciatica.safety.yaml has hundreds):
# a clear warning sign, which gets the emergency advice, and a doubtful mention of one, which
# gets a yes/no question first.
WARNING = "I can't feel anything down there"
DOUBTFUL = "maybe a bit numb down there?"

_CLEAR: list[tuple[str, Answer]] = [("emergency_flags", ["none"]), ("age", 35)]

# One answer path per outcome (answers in the order the flow asks them).
PATHS: dict[str, list[tuple[str, Answer]]] = {
    "emergency": [
        ("location", "buttock"),
        ("radiation", "foot"),
        ("severity", 5),
        ("emergency_flags", ["saddle_numbness", "both_legs"]),
    ],
    "see_doctor_soon": [
        ("location", "low_back_central"),
        ("radiation", "none"),
        ("severity", 3),
        ("emergency_flags", ["none"]),
        ("age", 58),
        ("first_episode", "no"),
        ("doctor_flags", ["cancer_history"]),
    ],
    "likely_nerve_root": [
        ("location", "buttock"),
        ("radiation", "below_knee"),
        ("severity", 4),
        *_CLEAR,
        ("doctor_flags", ["none"]),
        ("leg_symptoms", ["numbness_tingling"]),
    ],
    "likely_piriformis": [
        ("location", "buttock"),
        ("radiation", "buttock_only"),
        ("severity", 4),
        *_CLEAR,
        ("doctor_flags", ["none"]),
        ("worse_sitting", "yes"),
        ("leg_symptoms", ["none"]),
    ],
    "likely_sacroiliac": [
        ("location", "low_back_near_dimples"),
        ("radiation", "none"),
        ("severity", 2),
        *_CLEAR,
        ("doctor_flags", ["none"]),
        ("leg_symptoms", ["none"]),
    ],
    "non_specific": [
        ("location", "tailbone"),
        ("radiation", "none"),
        ("severity", 3),
        *_CLEAR,
        ("doctor_flags", ["none"]),
        ("leg_symptoms", ["none"]),
    ],
}


def question_buttons(person: FakeUser, step: str) -> list[Button]:
    """The buttons of ``step`` on the newest message that shows any buttons."""
    return [b for b in person.keyboard() if step_of(b) == step]


def asks(person: FakeUser, step: str) -> bool:
    """Is ``step`` the question on screen now: the newest message asks it?

    Waiting for the *newest* message matters: after a stale press the bot says "moved on"
    and asks again, and a person answers the copy at the bottom of the chat.
    """
    last = person.last_message()
    if last is None:
        return False
    if step in TYPED_PROMPTS:
        return bool(last.text and re.search(TYPED_PROMPTS[step], last.text))
    return any(step_of(b) == step for b in last.callback_buttons)


async def wait_for_question(person: FakeUser, step: str, timeout: float = 10.0) -> None:
    await person.fake.wait_for(
        lambda: asks(person, step), timeout, f"question {step!r} in chat {person.chat_id}"
    )


def _button(person: FakeUser, step: str, option: str, action: str) -> Button | None:
    for button in question_buttons(person, step):
        parts = (button.callback_data or "").split("|")
        if option_of(button) == option and len(parts) == 4 and parts[1] == action:
            return button
    return None


def _relabelled(person: FakeUser, step: str, before: Button) -> bool:
    now = _button(person, step, option_of(before) or "", "t")
    return now is not None and now.text != before.text


async def answer(person: FakeUser, step: str, value: Answer, timeout: float = 10.0) -> None:
    """Wait for the question, then answer it the way a person would."""
    await wait_for_question(person, step, timeout)
    if step in TYPED_PROMPTS:
        person.say(str(value))
        return
    if not isinstance(value, list):
        person.press_option(str(value), step=step)
        return
    for option in value:
        before = _button(person, step, option, "t")
        assert before is not None, f"no option {option!r} for {step!r}:\n{person.transcript()}"
        person.tap(before)
        # Wait for the tick to show before the next tap, as a person looking at the screen.
        await person.fake.wait_for(
            partial(_relabelled, person, step, before),
            timeout,
            f"the tick on {option!r} in chat {person.chat_id}",
        )
    done = _button(person, step, "", "d")
    assert done is not None, f"no Done button for {step!r}:\n{person.transcript()}"
    person.tap(done)


AGREE = "x|consent|yes"  # "Agree and start" under the consent question (bot/telegram/consent.py)


async def agree(person: FakeUser, timeout: float = 10.0) -> None:
    """Wait for the consent question, then press "Agree and start" (in any language)."""
    await person.fake.wait_for(
        lambda: any(b.callback_data == AGREE for b in person.keyboard()),
        timeout,
        f"the consent question in chat {person.chat_id}",
    )
    person.tap(next(b for b in person.keyboard() if b.callback_data == AGREE))


async def begin(person: FakeUser, payload: str = "", timeout: float = 10.0) -> None:
    """/start (with a deep-link ``payload``) and agree to the answers being kept: what every
    person does before the first question."""
    person.start(payload)
    await agree(person, timeout)


async def wait_for_outcome(person: FakeUser, outcome: str, timeout: float = 10.0) -> ChatMessage:
    return await person.wait_for_text(OUTCOME_TEXT[outcome], timeout)


async def converse(
    person: FakeUser, path: Path, *, start: bool = True, timeout: float = 10.0
) -> None:
    """/start and agree (optionally), then answer every question of ``path`` in order."""
    if start:
        await begin(person, timeout=timeout)
    for step, value in path:
        await answer(person, step, value, timeout)
