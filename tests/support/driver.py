"""FakeUser: a person on a phone, talking to the bot through the fake Bot API server.

It only does what a person can do: type, send stickers and photos, press a button that is on
screen (by its label, or by the option id in its callback data). Every action becomes an update
with the next global update id, queued for getUpdates (or handed to ``deliver``, e.g. a POST to
the bot's webhook).

    person = fake.user(1001, language_code="es")
    person.start("website")
    await person.wait_for_button("buttock")
    person.press("buttock")
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from tests.support import updates
from tests.support.records import JSON, Button, ChatMessage
from tests.support.updates import Chat, Person

if TYPE_CHECKING:
    from tests.support.fake_botapi import FakeBotApi

Pattern = str | re.Pattern[str]


def _compiled(pattern: Pattern) -> re.Pattern[str]:
    return pattern if isinstance(pattern, re.Pattern) else re.compile(pattern, re.IGNORECASE)


def option_of(button: Button) -> str | None:
    """The option/value part of our callback data ``1|action|step|value``."""
    if not button.callback_data:
        return None
    parts = button.callback_data.split("|")
    return parts[-1] if len(parts) == 4 else None


def step_of(button: Button) -> str | None:
    if not button.callback_data:
        return None
    parts = button.callback_data.split("|")
    return parts[2] if len(parts) == 4 else None


class FakeUser:
    """One person (and their chat: private by default, or a group they write in)."""

    def __init__(
        self,
        fake: FakeBotApi,
        user_id: int,
        *,
        first_name: str = "Alex",
        language_code: str | None = "en",
        username: str | None = None,
        chat: Chat | None = None,
        deliver: Callable[[JSON], Any] | None = None,
    ) -> None:
        self.fake = fake
        self.person = Person(user_id, first_name, username=username, language_code=language_code)
        self.chat = chat or updates.private_chat(self.person)
        self.deliver = deliver
        self.sent: list[JSON] = []  # every update this person caused, in order

    @property
    def chat_id(self) -> int:
        return self.chat.chat_id

    # ------------------------------------------------------------ acting

    def _send(self, body: JSON) -> JSON:
        if self.deliver is None:
            update = self.fake.enqueue(body)
        else:
            update = self.fake.stamp(body)
            self.deliver(update)
        self.sent.append(update)
        return update

    def _message_id(self) -> int:
        return self.fake.next_message_id(self.chat_id)

    def start(self, payload: str = "") -> JSON:
        return self.command("start", payload)

    def command(self, name: str, payload: str = "") -> JSON:
        return self._send(
            updates.command(self.chat, self.person, self._message_id(), name, payload)
        )

    def say(self, text: str) -> JSON:
        """Type a text message (numbers too: ``person.say("7")``)."""
        return self._send(updates.text_message(self.chat, self.person, self._message_id(), text))

    def press(self, label: Pattern, *, message_id: int | None = None) -> JSON:
        """Press the button whose label matches (regex, case-insensitive) on the newest
        message showing one (or on ``message_id``)."""
        return self.tap(self.find_button(label, message_id=message_id))

    def press_option(
        self, option: str, *, step: str | None = None, message_id: int | None = None
    ) -> JSON:
        """Press the button for an option id (the value in its callback data)."""
        for button in self._candidates(message_id):
            if option_of(button) == option and (step is None or step_of(button) == step):
                return self.tap(button)
        raise AssertionError(
            f"no button for option {option!r} (step {step!r}) in chat {self.chat_id}; "
            f"buttons: {self._available(message_id)}"
        )

    def tap(self, button: Button) -> JSON:
        """Press exactly this button, even if it is no longer on screen (a stale button)."""
        if button.callback_data is None:
            raise AssertionError(f"{button.text!r} is a link button; it opens {button.url}")
        return self.press_data(button.callback_data, message_id=button.message_id)

    def double_tap(self, label: Pattern) -> tuple[JSON, JSON]:
        """Two presses of the same button before the bot has had time to answer."""
        button = self.find_button(label)
        return self.tap(button), self.tap(button)

    def press_data(self, data: str, *, message_id: int) -> JSON:
        """A callback query with any data (forged, old-version or oversized buttons)."""
        try:
            shown = self.fake.message_json(self.chat_id, message_id)
        except KeyError:
            shown = {
                "message_id": message_id,
                "date": 0,
                "chat": self.chat.to_json(),
                "text": "",
            }
        query = updates.callback_query(self.fake.new_query_id(), self.person, shown, data)
        return self._send(query)

    def send_sticker(self) -> JSON:
        return self._send(updates.sticker(self.chat, self.person, self._message_id()))

    def send_photo(self, caption: str | None = None) -> JSON:
        return self._send(updates.photo(self.chat, self.person, self._message_id(), caption))

    def send_voice(self) -> JSON:
        return self._send(updates.voice(self.chat, self.person, self._message_id()))

    def send_location(self) -> JSON:
        return self._send(updates.location(self.chat, self.person, self._message_id()))

    def send_document(self, caption: str | None = None) -> JSON:
        message_id = self._message_id()
        return self._send(updates.document(self.chat, self.person, message_id, caption=caption))

    def send_contact(self) -> JSON:
        return self._send(updates.contact(self.chat, self.person, self._message_id()))

    def send_dice(self) -> JSON:
        return self._send(updates.dice(self.chat, self.person, self._message_id()))

    def edit(self, update: JSON, text: str) -> JSON:
        """Edit a message this person sent earlier (``update`` as returned by say())."""
        message_id = update["message"]["message_id"]
        return self._send(updates.edited_message(self.chat, self.person, message_id, text))

    # ----------------------------------------------------------- looking

    def messages(self) -> list[ChatMessage]:
        return self.fake.chat(self.chat_id)

    def bot_messages(self) -> list[ChatMessage]:
        return self.fake.bot_messages(self.chat_id)

    def last_message(self) -> ChatMessage | None:
        return self.fake.last_bot_message(self.chat_id)

    def keyboard(self) -> list[Button]:
        """Buttons of the newest bot message that has any (what the thumb reaches for)."""
        message = self.fake.last_bot_message(self.chat_id, with_buttons=True)
        return message.flat_buttons if message else []

    def texts(self) -> list[str]:
        return [m.text or "" for m in self.bot_messages()]

    def transcript(self) -> str:
        return self.fake.transcript(self.chat_id)

    def find_button(self, label: Pattern, *, message_id: int | None = None) -> Button:
        wanted = _compiled(label)
        for button in self._candidates(message_id):
            if wanted.search(button.text):
                return button
        raise AssertionError(
            f"no button matching {wanted.pattern!r} in chat {self.chat_id}; "
            f"buttons: {self._available(message_id)}\n{self.transcript()}"
        )

    def has_button(self, label: Pattern) -> bool:
        wanted = _compiled(label)
        return any(wanted.search(b.text) for b in self.keyboard())

    def has_text(self, pattern: Pattern) -> ChatMessage | None:
        wanted = _compiled(pattern)
        for message in reversed(self.bot_messages()):
            if message.text and wanted.search(message.text):
                return message
        return None

    def _candidates(self, message_id: int | None) -> list[Button]:
        if message_id is not None:
            message = self.fake.message(self.chat_id, message_id)
            return message.flat_buttons if message else []
        return self.keyboard()

    def _available(self, message_id: int | None) -> list[str]:
        return [f"{b.text} ({b.callback_data})" for b in self._candidates(message_id)]

    # ----------------------------------------------------------- waiting

    async def wait_for_button(self, label: Pattern, timeout: float = 5.0) -> Button:
        await self.fake.wait_for(
            lambda: self.has_button(label), timeout, f"a button {label!r} in {self.chat_id}"
        )
        return self.find_button(label)

    async def wait_for_text(self, pattern: Pattern, timeout: float = 5.0) -> ChatMessage:
        return await self.fake.wait_for(
            lambda: self.has_text(pattern), timeout, f"a message {pattern!r} in {self.chat_id}"
        )

    def wait_for_button_sync(self, label: Pattern, timeout: float = 5.0) -> Button:
        self.fake.wait_for_sync(
            lambda: self.has_button(label), timeout, f"a button {label!r} in {self.chat_id}"
        )
        return self.find_button(label)

    def wait_for_text_sync(self, pattern: Pattern, timeout: float = 5.0) -> ChatMessage:
        return self.fake.wait_for_sync(
            lambda: self.has_text(pattern), timeout, f"a message {pattern!r} in {self.chat_id}"
        )
