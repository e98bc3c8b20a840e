"""Builders for Telegram update payloads, shaped like the real Bot API's JSON.

Each builder returns the *body* of an update (``{"message": {...}}``), without an
``update_id``: the fake server stamps ids so that they are global and increasing, the way
Telegram hands them out. Builders are pure functions so tests can also POST them straight to
a webhook.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

JSON = dict[str, Any]

# Telegram's hard limit for a message text; a person can paste this much.
MAX_TEXT = 4096


@dataclass(frozen=True)
class Person:
    """A Telegram user as the bot sees them in ``from``."""

    user_id: int
    first_name: str = "Alex"
    last_name: str | None = None
    username: str | None = None
    language_code: str | None = "en"

    def to_json(self) -> JSON:
        user: JSON = {"id": self.user_id, "is_bot": False, "first_name": self.first_name}
        if self.last_name:
            user["last_name"] = self.last_name
        if self.username:
            user["username"] = self.username
        if self.language_code:
            user["language_code"] = self.language_code
        return user


@dataclass(frozen=True)
class Chat:
    """A chat: private (id == the person's id), group, supergroup or channel."""

    chat_id: int
    type: str = "private"
    title: str | None = None
    first_name: str | None = None

    def to_json(self) -> JSON:
        chat: JSON = {"id": self.chat_id, "type": self.type}
        if self.type == "private":
            chat["first_name"] = self.first_name or "Alex"
        else:
            chat["title"] = self.title or "Some group"
        return chat


def private_chat(person: Person) -> Chat:
    return Chat(person.user_id, "private", first_name=person.first_name)


def group_chat(chat_id: int, title: str = "Back pain support group") -> Chat:
    return Chat(chat_id, "group", title=title)


def supergroup_chat(chat_id: int, title: str = "Clinic community") -> Chat:
    return Chat(chat_id, "supergroup", title=title)


def channel_chat(chat_id: int, title: str = "Clinic news") -> Chat:
    return Chat(chat_id, "channel", title=title)


def _now() -> int:
    return int(time.time())


def _file(kind: str, message_id: int, **extra: Any) -> JSON:
    return {
        "file_id": f"{kind}-file-{message_id}",
        "file_unique_id": f"{kind}-u-{message_id}",
        **extra,
    }


def message(
    chat: Chat, person: Person | None, message_id: int, *, date: int | None = None, **content: Any
) -> JSON:
    """The Message object; ``content`` holds text/sticker/photo/... fields."""
    body: JSON = {"message_id": message_id, "date": date or _now(), "chat": chat.to_json()}
    if person is not None:
        body["from"] = person.to_json()
    body.update(content)
    return body


def text_message(chat: Chat, person: Person, message_id: int, text: str) -> JSON:
    """A typed text; a leading /command gets its bot_command entity like Telegram adds."""
    content: JSON = {"text": text}
    if text.startswith("/"):
        command = text.split(maxsplit=1)[0]
        # Entity offsets are in UTF-16 code units; a command is ASCII so len() is right.
        content["entities"] = [{"type": "bot_command", "offset": 0, "length": len(command)}]
    return {"message": message(chat, person, message_id, **content)}


def command(chat: Chat, person: Person, message_id: int, name: str, payload: str = "") -> JSON:
    """``/start website`` and the like (a deep link arrives exactly like this)."""
    text = f"/{name.lstrip('/')}" + (f" {payload}" if payload else "")
    return text_message(chat, person, message_id, text)


def callback_query(
    query_id: str, person: Person, bot_message: JSON, data: str, *, chat_instance: str = "42"
) -> JSON:
    """A button press on ``bot_message`` (the Message JSON the bot sent, as it looks now)."""
    return {
        "callback_query": {
            "id": query_id,
            "from": person.to_json(),
            "message": bot_message,
            "chat_instance": chat_instance,
            "data": data,
        }
    }


def sticker(chat: Chat, person: Person, message_id: int, emoji: str = "👍") -> JSON:
    content = _file(
        "sticker",
        message_id,
        type="regular",
        width=512,
        height=512,
        is_animated=False,
        is_video=False,
        emoji=emoji,
    )
    return {"message": message(chat, person, message_id, sticker=content)}


def photo(chat: Chat, person: Person, message_id: int, caption: str | None = None) -> JSON:
    sizes = [
        _file("photo-s", message_id, width=90, height=67, file_size=1200),
        _file("photo-m", message_id, width=800, height=600, file_size=48_000),
    ]
    extra: JSON = {"caption": caption} if caption else {}
    return {"message": message(chat, person, message_id, photo=sizes, **extra)}


def voice(chat: Chat, person: Person, message_id: int, seconds: int = 4) -> JSON:
    content = _file("voice", message_id, duration=seconds, mime_type="audio/ogg", file_size=9000)
    return {"message": message(chat, person, message_id, voice=content)}


def location(
    chat: Chat,
    person: Person,
    message_id: int,
    latitude: float = 51.5072,
    longitude: float = -0.1276,
) -> JSON:
    return {
        "message": message(
            chat, person, message_id, location={"latitude": latitude, "longitude": longitude}
        )
    }


def document(
    chat: Chat,
    person: Person,
    message_id: int,
    file_name: str = "mri_report.pdf",
    mime_type: str = "application/pdf",
    caption: str | None = None,
) -> JSON:
    content = _file(
        "document", message_id, file_name=file_name, mime_type=mime_type, file_size=250_000
    )
    extra: JSON = {"caption": caption} if caption else {}
    return {"message": message(chat, person, message_id, document=content, **extra)}


def contact(chat: Chat, person: Person, message_id: int) -> JSON:
    content = {"phone_number": "+447700900123", "first_name": person.first_name}
    return {"message": message(chat, person, message_id, contact=content)}


def dice(chat: Chat, person: Person, message_id: int) -> JSON:
    return {"message": message(chat, person, message_id, dice={"emoji": "🎲", "value": 4})}


def edited_message(chat: Chat, person: Person, message_id: int, text: str) -> JSON:
    body = message(chat, person, message_id, text=text, edit_date=_now())
    return {"edited_message": body}


def channel_post(chat: Chat, message_id: int, text: str) -> JSON:
    """Channel posts have no ``from``; the channel itself is the sender."""
    body = message(chat, None, message_id, text=text, sender_chat=chat.to_json())
    return {"channel_post": body}


def very_long_text() -> str:
    """A maximal message mixing scripts, emoji and HTML-looking characters."""
    unit = "Pain <b>&amp; 'numb' \"leg\" 😖 ñ 痛み "
    return (unit * (MAX_TEXT // len(unit) + 1))[:MAX_TEXT]


EMOJI_TEXT = "😭🔥 my back 🦵⚡️👨‍👩‍👧 ❤️"

# Things people type that a triage bot must survive, in one place for parametrised tests.
GARBAGE_TEXTS: tuple[str, ...] = (
    EMOJI_TEXT,
    "<script>alert(1)</script> & <b>bold</b>",
    "1|choose|location|buttock",  # looks like callback data
    "'; DROP TABLE sessions; --",
    "\u202e\u200b zero-width \u2066isolates\u2069",
    "\n\n  .  \n",
    "11",
    "-3",
    "seven",
    "/notacommand",
    "/start@some_other_bot",
    "{{severity}} {booking_url} %s %(x)s",
)
