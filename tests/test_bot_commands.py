"""Commands, things the bot cannot read, groups, old and forged buttons, redelivered updates.

The bot runs in-process against the fake Bot API server over real HTTP (tests/bot_inprocess.py).
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from bot.telegram.texts import say
from tests.bot_inprocess import USERNAME, RunningBot, running_bot, safety_line
from tests.support import FakeUser, updates
from tests.support.conversation import PATHS, agree, begin, converse

MOVED_ON = "That question has moved on"
UNSUPPORTED = "I can only read text and button presses here"


async def started(bot: RunningBot, user_id: int) -> FakeUser:
    """A person who has answered location and radiation and sees the severity question."""
    person = bot.fake.user(user_id)
    await converse(person, PATHS["non_specific"][:2])
    await bot.question(person, "severity")
    return person


async def test_the_command_menu_is_set_in_each_language(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as bot:
        default = [c["command"] for c in bot.fake.commands()]
        spanish = [c["command"] for c in bot.fake.commands(language_code="es")]
    assert default == [
        "start",
        "back",
        "restart",
        "help",
        "language",
        "privacy",
        "mydata",
        "forget",
    ]
    assert spanish == default


@pytest.mark.parametrize(
    ("language", "signs", "worry"),
    [
        (
            "en",
            ["numbness between your legs", "bladder or bowels", "leg or foot getting weaker",
             "both legs", "chest pain", "call 112 straight away"],
            "If you are worried, call",
        ),
        (
            "es",
            ["adormecimiento entre las piernas", "vejiga o el intestino",
             "pierna o un pie cada vez más débil", "las dos piernas", "dolor en el pecho",
             "llama al 112 de inmediato"],
            "Si te preocupa, llama",
        ),
    ],
)  # fmt: skip
def test_help_sends_the_real_warning_signs_not_worry_to_the_emergency_number(
    language: str, signs: list[str], worry: str
) -> None:
    text = say("help", language, emergency_number="112")
    for sign in signs:
        assert sign in text, sign
    assert worry not in text  # worry alone is for the doctor, not for an ambulance


async def test_help_and_privacy_answer_without_losing_the_question(tmp_path: Path) -> None:
    async with running_bot(tmp_path, RETENTION_DAYS="30", EMERGENCY_NUMBER="112") as bot:
        person = await started(bot, 3001)
        before = await bot.session(person.chat_id)

        person.command("help")
        helped = await person.wait_for_text("/forget")
        assert "call 112" in (helped.text or "")
        person.command("privacy")
        privacy = await person.wait_for_text("For how long")
        assert "at most 30 days" in (privacy.text or "")
        assert "/forget" in (privacy.text or "")

        assert await bot.session(person.chat_id) == before
        person.say("3")  # the question on screen still takes its answer
        await bot.question(person, "emergency_flags")


async def test_forget_deletes_everything_after_confirmation(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as bot:
        person = await started(bot, 3002)

        person.command("forget")
        await person.wait_for_button("Yes, delete everything")
        person.press("No, keep it")
        await person.wait_for_text("Nothing was deleted")
        assert await bot.session(person.chat_id) is not None

        person.command("forget")
        ask = await person.wait_for_text("Delete everything we store")
        person.press("Yes, delete everything", message_id=ask.message_id)
        done = await person.wait_for_text("everything we stored about you is deleted")
        assert done.message_id == ask.message_id and done.buttons == []
        async with bot.storage() as storage:
            assert await storage.load_chat(person.chat_id) is None
            # Left: the confirmation itself, until the outbox notes it as sent.
            for _ in range(200):
                held = await storage.export_chat(person.chat_id)
                if not held["messages"]:
                    break
                await asyncio.sleep(0.01)
        assert held == {
            "chat_id": person.chat_id,
            "chat": None,
            "leads": [],
            "followups": [],
            "messages": [],
        }
        assert not bot.fake.unanswered_queries()

        await begin(person)  # and they can begin again from scratch, asked again first
        await bot.question(person, "location")


GARBAGE = {
    "sticker": FakeUser.send_sticker,
    "photo": FakeUser.send_photo,
    "voice": FakeUser.send_voice,
    "location": FakeUser.send_location,
    "document": FakeUser.send_document,
    "contact": FakeUser.send_contact,
    "dice": FakeUser.send_dice,
}


@pytest.mark.parametrize("kind", sorted(GARBAGE))
async def test_what_the_bot_cannot_read_gets_a_kind_reply_the_safety_line_and_the_question(
    tmp_path: Path, kind: str
) -> None:
    async with running_bot(tmp_path, EMERGENCY_NUMBER="112") as bot:
        person = await started(bot, 3003)
        before = await bot.session(person.chat_id)
        shown = person.last_message()
        assert shown is not None

        GARBAGE[kind](person)
        notice = await person.wait_for_text(UNSUPPORTED)
        assert safety_line(emergency_number="112") in (notice.text or "")
        again = await bot.question(person, "severity")
        assert shown.message_id < notice.message_id < again.message_id
        assert await bot.session(person.chat_id) == before


async def test_before_consent_what_the_bot_cannot_read_gets_the_safety_line_then_consent(
    tmp_path: Path,
) -> None:
    async with running_bot(tmp_path) as bot:
        person = bot.fake.user(3010, language_code="es")
        person.send_voice()  # the very first message
        notice = await person.wait_for_text("Aquí solo puedo leer texto y botones")
        assert safety_line("es") in (notice.text or "")
        asked = await person.wait_for_text("necesitamos tu permiso")
        assert notice.message_id < asked.message_id
        assert await bot.session(person.chat_id) is None


async def test_edited_long_and_emoji_messages_are_survived(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as bot:
        person = await started(bot, 3004)
        before = await bot.session(person.chat_id)

        said = person.say("5000 characters follow")
        await person.wait_for_text("whole number from 0 to 10")
        person.edit(said, "actually four")  # an edit is read like a new message
        await bot.fake.wait_for(
            lambda: len([t for t in person.texts() if "whole number" in t]) == 2
        )
        person.say(("Pain <b>&amp; 😖 " * 400)[:5000])  # longer than Telegram even allows
        await person.wait_for_text("longer than I can use here")
        person.say(updates.EMOJI_TEXT)
        await bot.quiet()

        assert await bot.session(person.chat_id) == before
        live = [m for m in person.bot_messages() if m.callback_buttons]
        assert len(live) == 1 and live[0] == person.last_message()  # one live question
        person.say("4")
        await bot.question(person, "emergency_flags")


async def test_unknown_commands_point_to_help(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as bot:
        person = await started(bot, 3005)
        person.say("/notacommand")
        await person.wait_for_text("Send /help")
        await bot.question(person, "severity")


async def test_a_group_gets_one_message_pointing_to_a_private_chat(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as bot:
        group = updates.group_chat(-1000777)
        member = bot.fake.user(3006, chat=group)
        member.start()
        member.say("my back hurts, can you help?")
        member.command("help")
        await bot.quiet()

        said = member.bot_messages()
        assert len(said) == 1, member.transcript()
        assert "only talk one to one" in (said[0].text or "")
        assert [b.url for b in said[0].flat_buttons] == [f"https://t.me/{USERNAME}?start=group"]
        async with bot.storage() as storage:
            state = await storage.load_chat(group.chat_id)
        assert state is not None and state.session_json is None  # no questionnaire there


async def test_a_channel_gets_one_message_too(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as bot:
        channel = updates.channel_chat(-1000888)
        for message_id in (1, 2):
            bot.fake.enqueue(updates.channel_post(channel, message_id, "news"))
        await bot.quiet()
        said = bot.fake.bot_messages(channel.chat_id)
        assert len(said) == 1 and said[0].flat_buttons[0].url is not None


async def test_an_old_button_gets_moved_on_and_the_current_question(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as bot:
        person = bot.fake.user(3007)
        await begin(person)
        location = await bot.question(person, "location")
        old = person.find_button("Deep in one buttock", message_id=location.message_id)
        person.tap(old)
        await bot.question(person, "radiation")
        before = await bot.session(person.chat_id)

        person.tap(old)  # the answered question's button, pressed again much later
        await person.wait_for_text(MOVED_ON)
        await bot.question(person, "radiation")
        assert await bot.session(person.chat_id) == before
        assert not bot.fake.unanswered_queries()


FORGED = [
    "1|c|location|no_such_option",
    "1|c|no_such_step|x",
    "1|t|radiation|foot",  # a tick on a single-choice question
    "1|n|severity|99",
    "9|c|radiation|foot",  # an unknown version
    "x|unknown|action",
    "x|forget",  # a transport button's name without its argument
    "x|lead|send",  # the practice's offers, pressed while no outcome offers them
    "x|checkin|book",
    "x|pain|1|2",  # an answer to a check-in never sent
    "",  # no data at all: python-telegram-bot hands it to every patterned handler
    "garbage",
    "1|c|radiation|" + "x" * 60,  # more than Telegram's 64 bytes
]


async def test_forged_buttons_never_change_the_session(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as bot:
        person = await started(bot, 3008)
        before = await bot.session(person.chat_id)
        question = person.last_message()
        assert question is not None
        for data in FORGED:
            person.press_data(data, message_id=question.message_id)
        await bot.quiet()

        assert await bot.session(person.chat_id) == before
        notices = [t for t in person.texts() if t.startswith(MOVED_ON)]
        assert len(notices) == len(FORGED) - 1  # "1|n|severity|99" is out of range instead
        assert person.has_text("whole number from 0 to 10")
        assert not bot.fake.unanswered_queries()
        person.say("2")
        await bot.question(person, "emergency_flags")


async def test_a_redelivered_update_changes_nothing_and_sends_nothing(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as bot:
        person = bot.fake.user(3009)
        start = person.start()
        await agree(person)
        location = await bot.question(person, "location")
        press = person.press("Deep in one buttock", message_id=location.message_id)
        await bot.question(person, "radiation")
        await bot.quiet()
        sent = len(bot.fake.calls("sendMessage"))
        edits = len(bot.fake.calls("editMessageText"))
        before = await bot.session(person.chat_id)

        bot.fake.redeliver(start)
        bot.fake.redeliver(press)
        await bot.fake.wait_for(lambda: bot.fake.deliveries(press["update_id"]) == 2)
        await bot.quiet()
        person.press("It stays where it is")  # a fresh update after the duplicates
        await bot.question(person, "severity")

        assert len(bot.fake.calls("sendMessage")) == sent + 1  # only the next question
        assert len(bot.fake.calls("editMessageText")) == edits + 1
        after = await bot.session(person.chat_id)
        assert before is not None and after is not None
        assert after.history == [*before.history, "radiation"]
