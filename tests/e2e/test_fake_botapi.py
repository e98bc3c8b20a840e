"""The fake Bot API server, checked with a real python-telegram-bot client over real HTTP."""

from __future__ import annotations

import asyncio
import json
import urllib.request
from collections.abc import AsyncIterator

import pytest
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, InputFile, Update
from telegram.error import BadRequest, Conflict, Forbidden, NetworkError, RetryAfter, TimedOut

from tests.support import FAKE_TOKEN, FakeBotApi, updates


@pytest.fixture
async def bot(fake: FakeBotApi) -> AsyncIterator[Bot]:
    async with Bot(FAKE_TOKEN, base_url=fake.base_url) as client:
        yield client


def keyboard(*pairs: tuple[str, str]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[InlineKeyboardButton(t, callback_data=d)] for t, d in pairs])


async def test_get_me_returns_the_configured_bot() -> None:
    with FakeBotApi(username="clinic_helper_bot") as fake:
        async with Bot(FAKE_TOKEN, base_url=fake.base_url) as bot:
            me = await bot.get_me()
    assert me.username == "clinic_helper_bot"
    assert me.is_bot
    assert fake.calls("getMe")[0].token == FAKE_TOKEN


async def test_send_message_with_keyboard_is_echoed_and_transcribed(
    fake: FakeBotApi, bot: Bot
) -> None:
    first = await bot.send_message(
        1001,
        "<b>Where</b> is the pain &amp; ache?",
        parse_mode="HTML",
        reply_markup=keyboard(("Buttock", "1|choose|location|buttock"), ("Other", "1|c|l|o")),
    )
    second = await bot.send_message(1001, "next")
    other_chat = await bot.send_message(2002, "hello")

    assert (first.message_id, second.message_id, other_chat.message_id) == (1, 2, 1)
    assert first.reply_markup is not None
    assert first.reply_markup.inline_keyboard[0][0].callback_data == "1|choose|location|buttock"
    assert first.from_user is not None and first.from_user.is_bot
    shown = fake.chat(1001)[0]
    assert shown.text == "Where is the pain & ache?"
    assert shown.raw_text == "<b>Where</b> is the pain &amp; ache?"
    assert shown.labels == ["Buttock", "Other"]
    assert fake.calls("sendMessage")[0].params["chat_id"] == 1001


async def test_edits_replace_text_and_drop_the_keyboard_unless_resent(
    fake: FakeBotApi, bot: Bot
) -> None:
    sent = await bot.send_message(1001, "Question?", reply_markup=keyboard(("Yes", "y")))
    await bot.edit_message_text("Question? Yes", chat_id=1001, message_id=sent.message_id)

    message = fake.message(1001, sent.message_id)
    assert message is not None
    assert (message.text, message.buttons, message.history) == ("Question? Yes", [], ["Question?"])
    with pytest.raises(BadRequest, match="not modified"):
        await bot.edit_message_text("Question? Yes", chat_id=1001, message_id=sent.message_id)
    with pytest.raises(BadRequest, match="not found"):
        await bot.edit_message_text("x", chat_id=1001, message_id=99)
    await bot.edit_message_reply_markup(1001, sent.message_id, reply_markup=keyboard(("Ok", "o")))
    assert fake.chat(1001)[0].labels == ["Ok"]


async def test_get_updates_offset_confirms_and_drops_earlier_updates(
    fake: FakeBotApi, bot: Bot
) -> None:
    person = fake.user(1001)
    ids = [person.say(text)["update_id"] for text in ("one", "two", "three")]

    everything = await bot.get_updates()
    assert [u.update_id for u in everything] == ids
    assert [u.message.text for u in everything if u.message] == ["one", "two", "three"]
    # Not confirmed yet, so asked again they come again (redelivery after a crash).
    assert [u.update_id for u in await bot.get_updates()] == ids
    rest = await bot.get_updates(offset=ids[1])
    assert [u.update_id for u in rest] == ids[1:]
    assert fake.confirmed_offset == ids[1]
    assert [u.update_id for u in await bot.get_updates(offset=ids[2] + 1)] == []
    assert fake.is_confirmed(ids[2]) and fake.deliveries(ids[0]) == 2
    # Once confirmed, an update is gone even without an offset.
    assert await bot.get_updates() == ()


async def test_long_poll_is_capped_and_wakes_up_for_a_new_update(
    fake: FakeBotApi, bot: Bot
) -> None:
    assert await bot.get_updates(timeout=30) == ()  # capped: returns instead of hanging
    person = fake.user(1001)
    poll = asyncio.create_task(bot.get_updates(timeout=30))
    await fake.wait_for(lambda: fake.calls("getUpdates")[1:], what="the second poll")
    person.say("hi")
    received = await asyncio.wait_for(poll, timeout=5)
    assert [u.message.text for u in received if u.message] == ["hi"]


async def test_redeliver_hands_out_a_confirmed_update_again(fake: FakeBotApi, bot: Bot) -> None:
    update = fake.user(1001).say("once")
    await bot.get_updates(offset=update["update_id"] + 1)
    fake.redeliver(update)
    again = await bot.get_updates(offset=update["update_id"] + 1)
    assert [u.update_id for u in again] == [update["update_id"]]


# PTB warns that RetryAfter.retry_after becomes a timedelta in v23; not our concern here.
@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
async def test_429_is_seen_by_ptb_as_retry_after(fake: FakeBotApi, bot: Bot) -> None:
    fake.rate_limit_next("sendMessage", retry_after=3)
    with pytest.raises(RetryAfter) as raised:
        await bot.send_message(1001, "hi")
    assert "Retry in 3" in str(raised.value)
    assert (await bot.send_message(1001, "hi")).text == "hi"
    assert [c.outcome for c in fake.calls("sendMessage")] == ["429", "ok"]
    assert [m.text for m in fake.chat(1001)] == ["hi"]


async def test_blocked_chat_answers_403_forbidden_only_for_that_chat(
    fake: FakeBotApi, bot: Bot
) -> None:
    fake.block(1001)
    with pytest.raises(Forbidden, match="bot was blocked by the user"):
        await bot.send_message(1001, "hi")
    assert (await bot.send_message(2002, "hi")).chat_id == 2002
    assert fake.chat(1001) == []


@pytest.mark.parametrize(
    "inject",
    [
        lambda fake: fake.fail_next("sendMessage", status=500),
        lambda fake: fake.fail_next("sendMessage", status=502),
        lambda fake: fake.drop_next("sendMessage"),
        lambda fake: fake.fail_next("*", status=500),
    ],
    ids=["500", "502", "dropped", "any-method"],
)
async def test_server_errors_and_dropped_connections_are_network_errors(
    fake: FakeBotApi, bot: Bot, inject: object
) -> None:
    inject(fake)  # type: ignore[operator]
    with pytest.raises(NetworkError):
        await bot.send_message(1001, "hi")
    assert (await bot.send_message(1001, "again")).message_id == 1
    assert [m.text for m in fake.chat(1001)] == ["again"]


async def test_held_calls_are_recorded_but_never_answered(fake: FakeBotApi) -> None:
    fake.hold("sendMessage")
    async with Bot(FAKE_TOKEN, base_url=fake.base_url) as bot:
        with pytest.raises(TimedOut):
            await bot.send_message(1001, "lost in flight", read_timeout=0.3)
        assert [c.params["text"] for c in fake.held_calls("sendMessage")] == ["lost in flight"]
        assert fake.chat(1001) == []
        fake.release("sendMessage")
        assert (await bot.send_message(1001, "delivered")).text == "delivered"


async def test_uploads_record_filename_size_and_bytes(fake: FakeBotApi, bot: Bot) -> None:
    pdf = b"%PDF-1.4 fake report\x00\xff"
    await bot.send_document(1001, InputFile(pdf, filename="summary.pdf"), caption="Your summary")
    await bot.send_photo(1001, InputFile(b"\x89PNG...", filename="flow.png"))

    document, picture = fake.chat(1001)
    assert document.kind == "document" and document.text == "Your summary"
    assert document.file is not None
    assert (document.file.filename, document.file.size, document.file.data) == (
        "summary.pdf",
        len(pdf),
        pdf,
    )
    assert picture.kind == "photo" and picture.file is not None
    assert picture.file.filename == "flow.png"


async def test_callback_queries_can_be_answered_once(fake: FakeBotApi, bot: Bot) -> None:
    sent = await bot.send_message(
        1001, "Where?", reply_markup=keyboard(("Deep in one buttock", "1|choose|location|buttock"))
    )
    person = fake.user(1001)
    press = person.press("buttock")
    [update] = await bot.get_updates()
    query = update.callback_query
    assert query is not None and query.message is not None
    assert (query.data, query.message.message_id) == ("1|choose|location|buttock", sent.message_id)
    assert update.update_id == press["update_id"]

    await bot.answer_callback_query(query.id)
    assert query.id in fake.answered_queries() and not fake.unanswered_queries()
    with pytest.raises(BadRequest, match=r"(?i)query is too old"):
        await bot.answer_callback_query(query.id)


async def test_fake_user_presses_by_option_and_sends_deep_link_start(
    fake: FakeBotApi, bot: Bot
) -> None:
    await bot.send_message(
        1001,
        "Where?",
        reply_markup=keyboard(("A", "1|choose|location|buttock"), ("B", "1|choose|location|other")),
    )
    person = fake.user(1001, language_code="es")
    person.start("website")
    person.press_option("other", step="location")
    start, press = await bot.get_updates()

    assert start.message is not None and start.message.text == "/start website"
    assert start.message.from_user is not None
    assert start.message.from_user.language_code == "es"
    assert start.message.parse_entities(["bot_command"])  # CommandHandler needs this entity
    assert press.callback_query is not None
    assert press.callback_query.data == "1|choose|location|other"
    assert start.update_id < press.update_id
    # The person's own message sits in the chat before the press, ids shared with the bot.
    assert [(m.from_bot, m.message_id) for m in fake.chat(1001)] == [(True, 1), (False, 2)]
    with pytest.raises(AssertionError, match="no button"):
        person.press("no such label")


@pytest.mark.parametrize(
    ("action", "field"),
    [
        (lambda p: p.send_sticker(), "sticker"),
        (lambda p: p.send_photo("my MRI"), "photo"),
        (lambda p: p.send_voice(), "voice"),
        (lambda p: p.send_location(), "location"),
        (lambda p: p.send_document(), "document"),
        (lambda p: p.send_contact(), "contact"),
        (lambda p: p.send_dice(), "dice"),
        (lambda p: p.say(updates.very_long_text()), "text"),
        (lambda p: p.say(updates.EMOJI_TEXT), "text"),
    ],
)
async def test_every_update_builder_parses_as_a_ptb_update(
    fake: FakeBotApi, bot: Bot, action: object, field: str
) -> None:
    action(fake.user(1001))  # type: ignore[operator]
    [update] = await bot.get_updates()
    assert update.message is not None and getattr(update.message, field)
    assert update.effective_chat is not None and update.effective_chat.type == "private"


async def test_edited_group_and_channel_updates_parse(fake: FakeBotApi, bot: Bot) -> None:
    person = fake.user(1001)
    said = person.say("my leg hurts")
    person.edit(said, "my left leg hurts")
    member = fake.user(1002, chat=updates.group_chat(-4001))
    member.start()
    channel = updates.channel_chat(-1009001)
    fake.enqueue(updates.channel_post(channel, fake.next_message_id(channel.chat_id), "News"))

    _, edited, group, post = await bot.get_updates()
    assert edited.edited_message is not None
    assert edited.edited_message.text == "my left leg hurts"
    assert group.effective_chat is not None and group.effective_chat.type == "group"
    assert post.channel_post is not None and post.channel_post.sender_chat is not None
    assert fake.chat(1001)[0].history == ["my leg hurts"]


async def test_commands_and_webhook_are_remembered(fake: FakeBotApi, bot: Bot) -> None:
    await bot.set_my_commands([("start", "Begin the check"), ("privacy", "What we store")])
    assert [c.command for c in await bot.get_my_commands()] == ["start", "privacy"]
    with pytest.raises(BadRequest, match=r"(?i)BOT_COMMAND_INVALID"):
        await bot.set_my_commands([("Start!", "bad name")])

    await bot.set_webhook("https://clinic.example/hook", secret_token="s3cret")
    assert fake.webhook == {"url": "https://clinic.example/hook", "secret_token": "s3cret"}
    assert (await bot.get_webhook_info()).url == "https://clinic.example/hook"
    with pytest.raises(Conflict):
        await bot.get_updates()
    await bot.delete_webhook()
    assert await bot.get_updates() == ()


async def test_telegram_refuses_bad_html_and_oversized_buttons(fake: FakeBotApi, bot: Bot) -> None:
    with pytest.raises(BadRequest, match=r"(?i)can't parse entities"):
        await bot.send_message(1001, "you said <script> & more", parse_mode="HTML")
    with pytest.raises(BadRequest, match=r"(?i)BUTTON_DATA_INVALID"):
        await bot.send_message(1001, "x", reply_markup=keyboard(("big", "x" * 65)))
    with pytest.raises(BadRequest, match="too long"):
        await bot.send_message(1001, "y" * 4097)
    assert fake.chat(1001) == []


async def test_json_and_form_bodies_are_both_understood(fake: FakeBotApi) -> None:
    def post(body: bytes, content_type: str) -> dict[str, object]:
        request = urllib.request.Request(
            f"{fake.base_url}{FAKE_TOKEN}/sendMessage",
            data=body,
            headers={"Content-Type": content_type},
        )
        with urllib.request.urlopen(request, timeout=5) as response:
            return dict(json.load(response))

    as_json = post(json.dumps({"chat_id": 5, "text": "123"}).encode(), "application/json")
    as_form = post(b"chat_id=5&text=true", "application/x-www-form-urlencoded")
    assert as_json["ok"] and as_form["ok"]
    assert [m.text for m in fake.chat(5)] == ["123", "true"]


async def test_wait_for_times_out_with_a_description(fake: FakeBotApi) -> None:
    with pytest.raises(AssertionError, match=r"timed out after 0\.05s waiting for nothing"):
        await fake.wait_for(lambda: False, timeout=0.05, what="nothing")
    with pytest.raises(AssertionError, match="last calls"):
        fake.wait_for_sync(lambda: False, timeout=0.05, what="nothing")


def test_update_ids_are_global_and_increasing(fake: FakeBotApi) -> None:
    one, two = fake.user(1), fake.user(2)
    ids = [one.say("a")["update_id"], two.say("b")["update_id"], one.start()["update_id"]]
    assert ids == sorted(ids) and len(set(ids)) == 3
    assert Update.de_json(fake.pending_updates()[0], None).update_id == ids[0]


async def test_lost_confirmations_keep_updates_coming_back(fake: FakeBotApi, bot: Bot) -> None:
    update = fake.user(1001).say("again and again")
    fake.losing_confirmations = True
    await bot.get_updates()
    assert [u.update_id for u in await bot.get_updates(offset=update["update_id"] + 1)] == [
        update["update_id"]
    ]
    fake.losing_confirmations = False
    assert await bot.get_updates(offset=update["update_id"] + 1) == ()
    assert fake.deliveries(update["update_id"]) == 2
