"""Telegram callback data for the engine's buttons: small, versioned, never trusted.

Format: ``1|<action>|<step>|<value>`` (UTF-8, at most 64 bytes, Telegram's limit). The
version prefix lets a future format change recognise old buttons still sitting in chats.
Parsing never raises: anything that does not look right is ``None`` and the transport
answers "this question has moved on".
"""

from __future__ import annotations

from bot.engine import Action, Button, Choose, Confirm, Done, Input, Number, Toggle

VERSION = "1"
MAX_BYTES = 64  # Telegram's limit for callback_data
SEPARATOR = "|"


def encode(button: Button) -> str:
    return SEPARATOR.join((VERSION, button.action.value, button.step, button.value))


def size(action: Action, step: str, value: str) -> int:
    """Bytes of the callback data for a button (used by the flow validator)."""
    return len(SEPARATOR.join((VERSION, action.value, step, value)).encode("utf-8"))


def decode(data: str | None) -> Input | None:
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
