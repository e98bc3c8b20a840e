"""How the fake answers each Bot API method: Telegram's semantics, without HTTP or faults.

Every method runs in a server thread with the fake's lock held and returns the ``result`` of
the answer or raises ApiError with Telegram's own status and description.
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter, deque
from collections.abc import Callable
from typing import Any

from tests.support.records import JSON, ChatMessage, UploadedFile, html_problem, visible_text

NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup "
    "are exactly the same as a current content and reply markup of the message"
)
QUERY_TOO_OLD = "Bad Request: query is too old and response timeout expired or query ID is invalid"


class ApiError(Exception):
    """An error answer of the Bot API: ``{"ok": false, "error_code": ..., ...}``."""

    def __init__(self, code: int, description: str, parameters: JSON | None = None) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.parameters = parameters

    def body(self) -> JSON:
        body: JSON = {"ok": False, "error_code": self.code, "description": self.description}
        if self.parameters:
            body["parameters"] = self.parameters
        return body


class BotApiMethods:
    """The Bot API half of FakeBotApi (which owns the state declared here)."""

    bot_id: int
    username: str
    first_name: str
    long_poll_cap: float
    _cond: threading.Condition
    _stopping: threading.Event
    _updates: list[JSON]
    _redeliveries: deque[JSON]
    _deliveries: Counter[int]
    _confirmed_offset: int
    losing_confirmations: bool
    _allowed_updates: set[str] | None
    _message_ids: Counter[int]
    _chats: dict[int, list[ChatMessage]]
    _chat_json: dict[int, JSON]
    _open_queries: set[str]
    _answered_queries: dict[str, JSON]
    _commands: dict[tuple[str, str], list[JSON]]
    _webhook: JSON

    @property
    def bot_user(self) -> JSON:
        return {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": self.first_name,
            "username": self.username,
        }

    def next_message_id(self, chat_id: int) -> int:
        """Message ids are per chat, shared by the person's and the bot's messages."""
        with self._cond:
            self._message_ids[chat_id] += 1
            return self._message_ids[chat_id]

    def answer(self, method: str, params: JSON, files: dict[str, UploadedFile]) -> Any:
        """The result for a (lower-cased) method; anything unknown is a plain OK."""
        return METHODS.get(method, BotApiMethods._generic_ok)(self, params, files)

    def _generic_ok(self, params: JSON, files: dict[str, UploadedFile]) -> Any:
        return True

    def _get_me(self, params: JSON, files: dict[str, UploadedFile]) -> Any:
        return {
            **self.bot_user,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    def _get_updates(self, params: JSON, files: dict[str, UploadedFile]) -> Any:
        if self._webhook["url"]:
            raise ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )
        offset = _int(params.get("offset"), 0)
        limit = max(1, min(_int(params.get("limit"), 100), 100))
        timeout = max(0.0, float(_int(params.get("timeout"), 0)))
        if isinstance(params.get("allowed_updates"), list) and params["allowed_updates"]:
            self._allowed_updates = set(params["allowed_updates"])
        if offset > 0 and not self.losing_confirmations:
            self._confirm(offset)
        elif offset < 0:
            self._updates = self._updates[offset:]
        deadline = time.monotonic() + min(timeout, self.long_poll_cap)
        while not (self._visible_updates() or self._redeliveries) and not self._stopping.is_set():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            self._cond.wait(remaining)
        batch = list(self._redeliveries)[:limit]
        for _ in batch:
            self._redeliveries.popleft()
        batch += self._visible_updates()[: limit - len(batch)]
        self._deliveries.update(u["update_id"] for u in batch)
        return batch

    def _confirm(self, offset: int) -> None:
        self._confirmed_offset = max(self._confirmed_offset, offset)
        self._updates = [u for u in self._updates if u["update_id"] >= offset]
        self._cond.notify_all()

    def _visible_updates(self) -> list[JSON]:
        if self._allowed_updates is None:
            return self._updates
        # Telegram never delivers (and forgets) kinds the bot did not ask for.
        self._updates = [u for u in self._updates if _update_kind(u) in self._allowed_updates]
        return self._updates

    def _send_message(self, params: JSON, files: dict[str, UploadedFile]) -> Any:
        chat_id = self._chat_id(params)
        text = params.get("text")
        if not isinstance(text, str) or not text.strip():
            raise ApiError(400, "Bad Request: message text is empty")
        shown = self._checked_text(text, params.get("parse_mode"))
        if _utf16_len(shown) > 4096:
            raise ApiError(400, "Bad Request: message is too long")
        message = ChatMessage(
            chat_id=chat_id,
            message_id=self.next_message_id(chat_id),
            from_bot=True,
            date=int(time.time()),
            text=shown,
            raw_text=text,
            parse_mode=params.get("parse_mode"),
            reply_markup=self._checked_markup(params.get("reply_markup")),
        )
        self._chats.setdefault(chat_id, []).append(message)
        return self._message_json(message)

    def _send_file(self, params: JSON, files: dict[str, UploadedFile], field: str) -> Any:
        chat_id = self._chat_id(params)
        upload = files.get(field)
        reference = params.get(field)
        if upload is None and isinstance(reference, str) and reference.startswith("attach://"):
            upload = files.get(reference.removeprefix("attach://"))
        if upload is None and not reference:
            raise ApiError(400, f"Bad Request: there is no {field} in the request")
        caption = params.get("caption")
        shown = self._checked_text(caption, params.get("parse_mode")) if caption else None
        message = ChatMessage(
            chat_id=chat_id,
            message_id=self.next_message_id(chat_id),
            from_bot=True,
            date=int(time.time()),
            kind=field,
            text=shown,
            raw_text=caption,
            parse_mode=params.get("parse_mode"),
            reply_markup=self._checked_markup(params.get("reply_markup")),
            file=upload,
        )
        self._chats.setdefault(chat_id, []).append(message)
        return self._message_json(message)

    def _send_document(self, params: JSON, files: dict[str, UploadedFile]) -> Any:
        return self._send_file(params, files, "document")

    def _send_photo(self, params: JSON, files: dict[str, UploadedFile]) -> Any:
        return self._send_file(params, files, "photo")

    def _edit_message_text(self, params: JSON, files: dict[str, UploadedFile]) -> Any:
        if params.get("inline_message_id"):
            return True
        message = self._editable(params)
        text = params.get("text")
        if not isinstance(text, str) or not text.strip():
            raise ApiError(400, "Bad Request: message text is empty")
        shown = self._checked_text(text, params.get("parse_mode"))
        markup = self._checked_markup(params.get("reply_markup"))
        if shown == message.text and markup == message.reply_markup:
            raise ApiError(400, NOT_MODIFIED)
        if message.text is not None:
            message.history.append(message.text)
        message.text, message.raw_text = shown, text
        message.parse_mode = params.get("parse_mode")
        message.reply_markup = markup  # no reply_markup: Telegram removes the keyboard
        message.edits += 1
        return self._message_json(message)

    def _edit_message_reply_markup(self, params: JSON, files: dict[str, UploadedFile]) -> Any:
        if params.get("inline_message_id"):
            return True
        message = self._editable(params)
        markup = self._checked_markup(params.get("reply_markup"))
        if markup == message.reply_markup:
            raise ApiError(400, NOT_MODIFIED)
        message.reply_markup = markup
        message.edits += 1
        return self._message_json(message)

    def _delete_message(self, params: JSON, files: dict[str, UploadedFile]) -> Any:
        message = self._editable(params, verb="delete")
        self._chats[message.chat_id].remove(message)
        return True

    def _answer_callback_query(self, params: JSON, files: dict[str, UploadedFile]) -> Any:
        query_id = str(params.get("callback_query_id", ""))
        if query_id not in self._open_queries:
            raise ApiError(400, QUERY_TOO_OLD)
        self._open_queries.discard(query_id)
        self._answered_queries[query_id] = dict(params)
        return True

    def _set_my_commands(self, params: JSON, files: dict[str, UploadedFile]) -> Any:
        commands = _json(params.get("commands"))
        if not isinstance(commands, list):
            raise ApiError(400, "Bad Request: can't parse commands JSON object")
        for entry in commands:
            name = str(entry.get("command", ""))
            if not (1 <= len(name) <= 32) or not all(
                ch.islower() or ch.isdigit() or ch == "_" for ch in name
            ):
                raise ApiError(400, "Bad Request: BOT_COMMAND_INVALID")
            if not (1 <= len(str(entry.get("description", ""))) <= 256):
                raise ApiError(400, "Bad Request: BOT_COMMAND_DESCRIPTION_INVALID")
        self._commands[self._command_key(params)] = commands
        return True

    def _get_my_commands(self, params: JSON, files: dict[str, UploadedFile]) -> Any:
        return self._commands.get(self._command_key(params), [])

    def _delete_my_commands(self, params: JSON, files: dict[str, UploadedFile]) -> Any:
        self._commands.pop(self._command_key(params), None)
        return True

    def _set_webhook(self, params: JSON, files: dict[str, UploadedFile]) -> Any:
        url = params.get("url")
        if not isinstance(url, str):
            raise ApiError(400, "Bad Request: bad webhook: URL must be provided")
        self._webhook = {"url": url, "secret_token": params.get("secret_token")}
        if params.get("drop_pending_updates"):
            self._updates.clear()
        return True

    def _delete_webhook(self, params: JSON, files: dict[str, UploadedFile]) -> Any:
        self._webhook = {"url": "", "secret_token": None}
        if params.get("drop_pending_updates"):
            self._updates.clear()
        return True

    def _get_webhook_info(self, params: JSON, files: dict[str, UploadedFile]) -> Any:
        info = {
            "url": self._webhook["url"],
            "has_custom_certificate": False,
            "pending_update_count": len(self._updates),
        }
        error = self._webhook.get("last_error")
        if error:  # (unix time, Telegram's description) of the last failed delivery
            info["last_error_date"], info["last_error_message"] = error
        return info

    def _get_chat(self, params: JSON, files: dict[str, UploadedFile]) -> Any:
        """Telegram knows a private chat only once the person has written to the bot."""
        chat_id = params.get("chat_id")
        if isinstance(chat_id, str) and chat_id.lstrip("-").isdigit():
            chat_id = int(chat_id)
        known = self._chat_json.get(chat_id) if isinstance(chat_id, int) else None
        if known is None:
            raise ApiError(400, "Bad Request: chat not found")
        return {**known, "accent_color_id": 0, "max_reaction_count": 11, "accepted_gift_types":
                {"unlimited_gifts": False, "limited_gifts": False, "unique_gifts": False,
                 "premium_subscription": False, "gifts_from_channels": False}}  # fmt: skip

    # --------------------------------------------------------------- helpers

    def _command_key(self, params: JSON) -> tuple[str, str]:
        scope = _json(params.get("scope")) or {}
        return (str(scope.get("type", "default")), str(params.get("language_code") or ""))

    def _chat_id(self, params: JSON) -> int:
        chat_id = params.get("chat_id")
        if not isinstance(chat_id, int) or isinstance(chat_id, bool):
            raise ApiError(400, "Bad Request: chat not found")
        return chat_id

    def _find(self, chat_id: int, message_id: int) -> ChatMessage | None:
        for message in self._chats.get(chat_id, []):
            if message.message_id == message_id:
                return message
        return None

    def _editable(self, params: JSON, verb: str = "edit") -> ChatMessage:
        chat_id = self._chat_id(params)
        message = self._find(chat_id, _int(params.get("message_id"), -1))
        if message is None:
            raise ApiError(400, f"Bad Request: message to {verb} not found")
        if not message.from_bot and verb == "edit":
            raise ApiError(400, "Bad Request: message can't be edited")
        return message

    def _checked_text(self, text: str, parse_mode: Any) -> str:
        if isinstance(parse_mode, str) and parse_mode.upper() == "HTML":
            problem = html_problem(text)
            if problem:
                raise ApiError(400, f"Bad Request: can't parse entities: {problem}")
        return visible_text(text, parse_mode if isinstance(parse_mode, str) else None)

    def _checked_markup(self, markup: Any) -> JSON | None:
        markup = _json(markup)
        if markup is None:
            return None
        if not isinstance(markup, dict):
            raise ApiError(400, "Bad Request: can't parse reply keyboard markup JSON object")
        for row in markup.get("inline_keyboard", []):
            for button in row:
                data = button.get("callback_data")
                if not button.get("text"):
                    raise ApiError(
                        400, "Bad Request: text buttons are unallowed in the inline keyboard"
                    )
                if data is not None and not (1 <= len(str(data).encode("utf-8")) <= 64):
                    raise ApiError(400, "Bad Request: BUTTON_DATA_INVALID")
                url = button.get("url")
                if url is not None and not str(url).startswith(("http://", "https://", "tg://")):
                    raise ApiError(
                        400,
                        f"Bad Request: inline keyboard button URL '{url}' is "
                        "invalid: Wrong HTTP URL",
                    )
        # Telegram only echoes inline keyboards in the returned Message.
        return markup if "inline_keyboard" in markup else None

    def _chat_of(self, chat_id: int) -> JSON:
        known = self._chat_json.get(chat_id)
        if known:
            return known
        if chat_id > 0:
            return {"id": chat_id, "type": "private", "first_name": "Alex"}
        return {"id": chat_id, "type": "group", "title": "Some group"}

    def _message_json(self, message: ChatMessage) -> JSON:
        body: JSON = {
            "message_id": message.message_id,
            "date": message.date,
            "chat": self._chat_of(message.chat_id),
        }
        if message.from_bot:
            body["from"] = self.bot_user
        if message.edits and message.from_bot:
            body["edit_date"] = int(time.time())
        if message.kind == "text":
            body["text"] = message.text or ""
        elif message.text:
            body["caption"] = message.text
        if message.kind == "document":
            name = message.file.filename if message.file else "file"
            size = message.file.size if message.file else 0
            body["document"] = {
                "file_id": f"doc-{message.chat_id}-{message.message_id}",
                "file_unique_id": f"udoc-{message.message_id}",
                "file_name": name,
                "file_size": size,
            }
        elif message.kind == "photo":
            body["photo"] = [
                {
                    "file_id": f"photo-{message.chat_id}-{message.message_id}",
                    "file_unique_id": f"uphoto-{message.message_id}",
                    "width": 800,
                    "height": 600,
                    "file_size": message.file.size if message.file else 0,
                }
            ]
        if message.reply_markup:
            body["reply_markup"] = message.reply_markup
        return body

    def _remember_person_side(self, update: JSON) -> None:
        """Keep what the person typed in the chat transcript, and open callback queries."""
        query = update.get("callback_query")
        if query:
            self._open_queries.add(str(query["id"]))
            return
        for kind in ("message", "edited_message", "channel_post"):
            body = update.get(kind)
            if not body:
                continue
            chat_id = body["chat"]["id"]
            self._chat_json[chat_id] = body["chat"]
            self._message_ids[chat_id] = max(self._message_ids[chat_id], body["message_id"])
            if kind == "edited_message":
                earlier = self._find(chat_id, body["message_id"])
                if earlier is not None:
                    if earlier.text is not None:
                        earlier.history.append(earlier.text)
                    earlier.text = earlier.raw_text = body.get("text")
                    earlier.edits += 1
                    return
            self._chats.setdefault(chat_id, []).append(
                ChatMessage(
                    chat_id=chat_id,
                    message_id=body["message_id"],
                    from_bot=False,
                    date=body["date"],
                    kind=_content_kind(body),
                    text=body.get("text") or body.get("caption"),
                    raw_text=body.get("text"),
                )
            )


METHODS: dict[str, Callable[[BotApiMethods, JSON, dict[str, UploadedFile]], Any]] = {
    "getme": BotApiMethods._get_me,
    "getupdates": BotApiMethods._get_updates,
    "sendmessage": BotApiMethods._send_message,
    "senddocument": BotApiMethods._send_document,
    "sendphoto": BotApiMethods._send_photo,
    "editmessagetext": BotApiMethods._edit_message_text,
    "editmessagereplymarkup": BotApiMethods._edit_message_reply_markup,
    "deletemessage": BotApiMethods._delete_message,
    "answercallbackquery": BotApiMethods._answer_callback_query,
    "setmycommands": BotApiMethods._set_my_commands,
    "getmycommands": BotApiMethods._get_my_commands,
    "deletemycommands": BotApiMethods._delete_my_commands,
    "setwebhook": BotApiMethods._set_webhook,
    "deletewebhook": BotApiMethods._delete_webhook,
    "getwebhookinfo": BotApiMethods._get_webhook_info,
    "getchat": BotApiMethods._get_chat,
}

_CONTENT_KINDS = (  # noqa: SIM905
    "text sticker photo voice video video_note audio animation document location "
    "venue contact dice poll"
).split(" ")


def _content_kind(body: JSON) -> str:
    return next((kind for kind in _CONTENT_KINDS if kind in body), "other")


def _update_kind(update: JSON) -> str:
    return next((key for key in update if key != "update_id"), "")


def _int(value: Any, default: int) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def _json(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def _utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2
