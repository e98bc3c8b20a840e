"""Messages of the practice features in HTML built here (cards, lists, flow problems), and
messages to a chat that no update caused (the therapist told about a flow edit): the latter
take the same commit-then-outbox path as every reply, without an update id."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from bot.storage import ChatChange, OutgoingMessage, UpdateWrite
from bot.telegram import render

if TYPE_CHECKING:
    from bot.telegram.runtime import Runtime


def html_message(chat_id: int, html_text: str) -> OutgoingMessage:
    """A message whose text is HTML already (every user-derived part escaped by the caller)."""
    params = {
        "chat_id": chat_id,
        "text": html_text,
        "parse_mode": render.PARSE_MODE,
        "link_preview_options": {"is_disabled": True},
    }
    return OutgoingMessage(chat_id, "sendMessage", params)


async def notify_chats(runtime: Runtime, chat_ids: Iterable[int], html_text: str) -> None:
    """Queue ``html_text`` for each chat in one transaction per chat, then send it; the
    outbox retries what does not get through."""
    for chat_id in chat_ids:
        async with runtime.locks(chat_id):
            change = ChatChange(outbox=[html_message(chat_id, html_text)])
            items = await runtime.storage.commit(UpdateWrite(None, chat_id, change))
            if items:
                await runtime.outbox.deliver(chat_id, items)
