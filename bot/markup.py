"""The one markup our texts have: ``**bold**``, turned into what each screen shows.

A flow's texts and the bot's own are plain text in which ``**double stars**`` mark bold.
Telegram gets HTML (escaped first, so a person's or a therapist's words can never become a
tag), the terminal chat ANSI bold (or the words without stars when it is not a terminal), the
review page ``<strong>``, charts and titles the words alone. A leaf module.
"""

from __future__ import annotations

import html
import re

BOLD = re.compile(r"\*\*(.+?)\*\*", re.DOTALL)
_ANSI_BOLD = "\033[1m\\1\033[0m"


def to_html(text: str, *, tag: str = "b") -> str:
    """``text`` escaped for HTML, its ``**bold**`` as ``<b>`` (or ``tag``)."""
    return bold_to_html(html.escape(text, quote=False), tag=tag)


def bold_to_html(escaped: str, *, tag: str = "b") -> str:
    """``**bold**`` as ``<b>`` in text that is HTML already (escaped by the caller)."""
    return BOLD.sub(rf"<{tag}>\1</{tag}>", escaped)


def to_ansi(text: str, *, color: bool = True) -> str:
    """``**bold**`` as ANSI bold on a terminal; without ``color``, the words alone."""
    return BOLD.sub(_ANSI_BOLD if color else r"\1", text)


def plain(text: str) -> str:
    """The words without the stars."""
    return BOLD.sub(r"\1", text)


def headline(text: str) -> str:
    """What a text is about, in its own words: its first bold part, else its first line, on
    one line and without stars."""
    found = BOLD.search(text)
    first = found.group(1) if found else text.strip().split("\n", 1)[0]
    return " ".join(first.replace("**", "").split())
