"""What the fake Bot API server remembers: calls, uploads, and each chat as a person sees it."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any

JSON = dict[str, Any]


@dataclass(frozen=True)
class UploadedFile:
    """A file the bot uploaded (multipart/form-data part with a filename)."""

    field: str
    filename: str
    content_type: str
    data: bytes

    @property
    def size(self) -> int:
        return len(self.data)


@dataclass
class Call:
    """One HTTP request to the fake, with its parsed parameters and how it was answered.

    ``outcome`` is ``"ok"``, an HTTP status as text (``"429"``, ``"403"``, ``"400"``...),
    ``"dropped"`` (connection closed without a response) or ``"held"`` (never answered).
    """

    method: str
    params: JSON
    token: str
    files: dict[str, UploadedFile] = field(default_factory=dict)
    outcome: str = "pending"
    description: str = ""

    @property
    def ok(self) -> bool:
        return self.outcome == "ok"

    @property
    def chat_id(self) -> int | None:
        value = self.params.get("chat_id")
        return value if isinstance(value, int) else None


@dataclass(frozen=True)
class Button:
    """An inline keyboard button as shown under a message."""

    message_id: int
    text: str
    callback_data: str | None = None
    url: str | None = None


@dataclass
class ChatMessage:
    """A message in a chat as it looks *now* (after edits); ``history`` keeps earlier texts."""

    chat_id: int
    message_id: int
    from_bot: bool
    date: int
    kind: str = "text"  # text, document, photo, sticker, voice, location, ...
    text: str | None = None  # what the person reads (HTML tags stripped)
    raw_text: str | None = None  # exactly as sent, markup included
    parse_mode: str | None = None
    reply_markup: JSON | None = None
    file: UploadedFile | None = None
    history: list[str] = field(default_factory=list)
    edits: int = 0

    @property
    def buttons(self) -> list[list[Button]]:
        rows = (self.reply_markup or {}).get("inline_keyboard") or []
        return [
            [
                Button(self.message_id, b.get("text", ""), b.get("callback_data"), b.get("url"))
                for b in row
            ]
            for row in rows
        ]

    @property
    def flat_buttons(self) -> list[Button]:
        return [button for row in self.buttons for button in row]

    @property
    def callback_buttons(self) -> list[Button]:
        """Buttons that still do something in the bot (link buttons excluded)."""
        return [button for button in self.flat_buttons if button.callback_data]

    @property
    def added_by_edits(self) -> str:
        """What edits added after the text as first sent (the answer under a question)."""
        if not self.history or self.text is None:
            return ""
        first = self.history[0]
        shared = next(
            (i for i, (a, b) in enumerate(zip(first, self.text, strict=False)) if a != b),
            min(len(first), len(self.text)),
        )
        return self.text[shared:].strip()

    @property
    def labels(self) -> list[str]:
        return [button.text for button in self.flat_buttons]

    def describe(self) -> str:
        who = "bot" if self.from_bot else "person"
        body = self.text if self.text is not None else f"<{self.kind}>"
        lines = [f"#{self.message_id} {who}: {body}"]
        for row in self.buttons:
            lines.append("    " + " | ".join(f"[{b.text}]" for b in row))
        return "\n".join(lines)


# Tags Telegram accepts with parse_mode=HTML.
ALLOWED_TAGS = frozenset(
    "b strong i em u ins s strike del span tg-spoiler a code pre blockquote tg-emoji".split()  # noqa: SIM905
)
ENTITY = re.compile(r"&(#\d+|#x[0-9a-fA-F]+|lt|gt|amp|quot);")


class _TelegramHTML(HTMLParser):
    """Checks markup the way the Bot API does, so unescaped user text fails like in production."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)
        self.stack: list[str] = []
        self.error: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in ALLOWED_TAGS:
            self.error = self.error or f'unsupported start tag "{tag}"'
        self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            self.error = self.error or f'unexpected end tag "{tag}"'
        else:
            self.stack.pop()


def html_problem(text: str) -> str | None:
    """Why Telegram would refuse this HTML text, or None when it would accept it."""
    for match in re.finditer(r"&", text):
        if not ENTITY.match(text, match.start()):
            return f"unsupported HTML entity at byte offset {match.start()}"
    for match in re.finditer(r"<", text):
        if not re.match(r"</?[a-zA-Z][\w-]*(\s[^<>]*)?>", text[match.start() :]):
            return f"unsupported start tag at byte offset {match.start()}"
    parser = _TelegramHTML()
    parser.feed(text)
    parser.close()
    if parser.error:
        return parser.error
    if parser.stack:
        return f'can\'t find end tag corresponding to start tag "{parser.stack[-1]}"'
    return None


def visible_text(text: str, parse_mode: str | None) -> str:
    """The text a person reads: HTML markup removed and entities decoded."""
    if (parse_mode or "").upper() != "HTML":
        return text
    return html.unescape(re.sub(r"<[^<>]*>", "", text))
