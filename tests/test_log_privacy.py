"""Logs at INFO and above carry no names, usernames, answers or message text (issue 4).

A whole conversation runs in-process over real HTTP (the fake Bot API, a real SQLite file) with
every logger of the process captured at INFO: the bot's, python-telegram-bot's, httpx's. The
person has a name and a username, sends a photo with a warning in its caption before agreeing,
types their age and corrects it by editing, types a safety phrase, asks for /mydata (which
echoes their answers back to them), switches language and deletes everything; none of it may
reach a log record.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path

import pytest

from tests.bot_inprocess import running_bot
from tests.support.conversation import Answer, begin, converse, wait_for_outcome

NAME = "Ann Example"
USERNAME = "ann_example_77"
AGE = "87"
CORRECTED = "48"
CAPTION = "On Wednesday my privates went numb"
PHRASE = "Since Tuesday I can't pee properly"

PATH: list[tuple[str, Answer]] = [
    ("location", "buttock"),
    ("radiation", "below_knee"),
    ("severity", 7),
    ("emergency_flags", ["none"]),
    ("age", AGE),
]

# What must never be logged: the person, what they typed, what they chose, what we told them.
SECRETS = [
    NAME,
    "Ann",
    USERNAME,
    PHRASE,
    "Tuesday",
    "Wednesday",
    "privates",
    "can't pee",
    "buttock",  # an answer's option id and its label
    "Below the knee",
    "What we hold about you",  # the /mydata copy
    "Please get medical help now",  # the outcome shown to them
]


async def test_info_logs_hold_nothing_about_the_person(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    async with running_bot(tmp_path, LOG_LEVEL="INFO") as bot:
        person = bot.fake.user(6001, first_name=NAME, username=USERNAME)
        person.send_photo(CAPTION)  # before consent: the safety net answers a caption too
        await wait_for_outcome(person, "emergency")
        await begin(person, "website")
        await converse(person, PATH, start=False)
        await bot.question(person, "first_episode")
        person.edit(person.sent[-1], CORRECTED)  # the typed age, corrected
        await bot.question(person, "doctor_flags")
        person.say(PHRASE)  # the safety net catches it
        await wait_for_outcome(person, "emergency")
        person.command("mydata")
        await person.wait_for_text("What we hold about you")
        person.command("language")
        person.tap(await person.wait_for_button("Español"))
        await person.wait_for_text("Idioma: Español")
        person.command("forget")
        person.tap(await person.wait_for_button("Sí, borrarlo todo"))
        await person.wait_for_text("hemos borrado todo")
        await bot.quiet()

    records = [r for r in caplog.records if r.levelno >= logging.INFO]
    assert any(r.name.startswith("bot.") for r in records), "the bot logged at INFO at all"
    logged = "\n".join(r.getMessage() for r in records) + "\n" + caplog.text
    for secret in SECRETS:
        assert secret.lower() not in logged.lower(), secret
    assert not re.search(rf"\b{AGE}\b", logged), "the typed age"
    assert not re.search(rf"\b{CORRECTED}\b", logged), "the corrected age"
