"""What a button can say, and the callback data it travels in: small, versioned, never trusted.

A press of one of the engine's buttons is one of five small inputs (:class:`Choose`,
:class:`Toggle`, :class:`Done`, :class:`Number`, :class:`Confirm`); the engine takes them with
its other inputs (``bot.engine.Input``). On the wire a button's data is
``1|<action>|<step>|<value>`` (UTF-8, at most 64 bytes, Telegram's limit). The version prefix
lets a future format change recognise old buttons still sitting in chats. Parsing never
raises: anything that does not look right is ``None`` and the transport answers "this
question has moved on".

A leaf: it imports nothing from ``bot``, so the flow validator (will every button of this
flow fit in 64 bytes?), the engine (its buttons and inputs) and the transport (encode,
decode) share one format without importing each other.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

VERSION = "1"
MAX_BYTES = 64  # Telegram's limit for callback_data
SEPARATOR = "|"


class Action(StrEnum):
    """What a button does. The one-letter values go into Telegram's callback data."""

    CHOOSE = "c"
    TOGGLE = "t"
    DONE = "d"
    NUMBER = "n"
    CONFIRM = "k"  # value "yes" or "no"


# --- what a press says -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Choose:
    step: str
    option: str


@dataclass(frozen=True, slots=True)
class Toggle:
    step: str
    option: str


@dataclass(frozen=True, slots=True)
class Done:
    step: str


@dataclass(frozen=True, slots=True)
class Number:
    step: str
    value: int


@dataclass(frozen=True, slots=True)
class Confirm:
    """The answer to the yes/no question over ``step`` (``bot.engine.Session.pending``)."""

    step: str
    yes: bool


Press = Choose | Toggle | Done | Number | Confirm


class Pressable(Protocol):
    """A button as far as its data goes (``bot.engine.Button`` is one)."""

    @property
    def action(self) -> Action: ...

    @property
    def step(self) -> str: ...

    @property
    def value(self) -> str: ...


# --- the wire format ---------------------------------------------------------------------------


def encode(button: Pressable) -> str:
    return SEPARATOR.join((VERSION, button.action.value, button.step, button.value))


def size(action: Action, step: str, value: str) -> int:
    """Bytes of the callback data for a button (used by the flow validator)."""
    return len(SEPARATOR.join((VERSION, action.value, step, value)).encode("utf-8"))


def decode(data: str | None) -> Press | None:
    """The button's input, or None for anything that is not one of ours.

    Checked in order of cost: the length in characters first (64 bytes are at most 64
    characters), then the bytes; text that is not valid UTF-8 (a lone surrogate, which JSON
    can carry) is refused rather than raised, so a forged button cannot fail its update.
    """
    if not data or len(data) > MAX_BYTES:
        return None
    try:
        if len(data.encode("utf-8")) > MAX_BYTES:
            return None
    except UnicodeEncodeError:
        return None
    parts = data.split(SEPARATOR)
    if len(parts) != 4 or parts[0] != VERSION:
        return None
    _, action, step, value = parts
    if action == Action.CHOOSE:
        return Choose(step, value)
    if action == Action.TOGGLE:
        return Toggle(step, value)
    if action == Action.DONE:
        return Done(step)
    if action == Action.CONFIRM and value in ("yes", "no"):
        return Confirm(step, value == "yes")
    if action == Action.NUMBER:
        try:
            return Number(step, int(value))
        except ValueError:
            return None
    return None
