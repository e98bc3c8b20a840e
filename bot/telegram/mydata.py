"""/mydata: a person's copy of everything we hold about them.

The copy comes from :meth:`bot.storage.Store.export_chat` (their session, language, source,
leads, follow-ups and messages still queued) and is shown as readable text in their language:
the answers in words, where the conversation is, what they sent to the practice. When that
does not fit in one message, the text is cut and the whole copy follows as a JSON document.

Nothing about anybody else goes out: a queued lead card addressed to the practice is shown as
"to the practice", without the practice's chat id.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from typing import Any

from bot.engine import Engine, Session, SessionError
from bot.flow.model import LocalText
from bot.markup import headline
from bot.storage import OutgoingMessage
from bot.telegram import render
from bot.telegram.conversation import Change, ChatView, Decision
from bot.telegram.outbox import upload
from bot.telegram.texts import say
from bot.text import fill, own_name

# Room left in one message (Telegram: 4096 characters) for the readable copy, with some to
# spare for the HTML the bold headings become.
MAX_TEXT = 3500
TITLE_CHARS = 120
FILENAME = "my-data.json"
PRACTICE = "the practice"


def mydata_messages(
    chat_id: int,
    held: Mapping[str, Any],
    engine: Engine,
    language: str | None,
    *,
    retention_days: int,
    now: float | None = None,
) -> list[OutgoingMessage]:
    """The reply to /mydata: readable text, plus the JSON copy when the text is too long."""
    lines = readable(held, engine, language, retention_days=retention_days)
    text = "\n".join(lines)
    if len(text) <= MAX_TEXT:
        return [render.text_message(chat_id, text)]
    kept: list[str] = []
    budget = MAX_TEXT - 200
    for line in lines:
        if sum(len(k) + 1 for k in kept) + len(line) > budget:
            break
        kept.append(line)
    kept.append(say("mydata_more", language))
    data = json.dumps(copy_for_person(held, now=now), ensure_ascii=False, indent=2)
    return [
        render.text_message(chat_id, "\n".join(kept)),
        document_message(chat_id, data.encode("utf-8"), say("mydata_file", language)),
    ]


def document_message(chat_id: int, data: bytes, caption: str) -> OutgoingMessage:
    params = {
        "chat_id": chat_id,
        "document": upload(FILENAME, data),
        "caption": render.to_html(caption),
        "parse_mode": render.PARSE_MODE,
    }
    return OutgoingMessage(chat_id, "sendDocument", params)


def holds_anything(held: Mapping[str, Any]) -> bool:
    """Is there anything personal? A bare chat row (the id we answer on) does not count."""
    chat = held.get("chat") or {}
    personal = (
        chat.get("session")
        or chat.get("language")
        or chat.get("source")
        or chat.get("consented_at")
    )
    return bool(personal or held.get("leads") or held.get("followups") or held.get("messages"))


def readable(
    held: Mapping[str, Any], engine: Engine, language: str | None, *, retention_days: int
) -> list[str]:
    title = say("mydata_title", language)
    if not holds_anything(held):
        return [title, "", say("mydata_nothing", language)]
    lines = [title, ""]
    chat = held.get("chat") or {}
    if chat.get("consented_at"):
        lines += [say("mydata_consent", language, when=when(chat["consented_at"])), ""]
    session = _session(chat.get("session"))
    if session is not None:
        lines.append(say("mydata_answers", language, when=when(chat.get("updated_at"))))
        answered = answers_in_words(engine, session)
        lines += [f"• {question}: {answer}" for question, answer in answered]
        if not answered:
            lines.append(say("mydata_no_answers", language))
        lines.append(where_now(engine, session, language))
        lines.append("")
    if chat.get("language"):
        lines.append(say("mydata_language", language, name=own_name(chat["language"])))
    source = chat.get("source") or (session.source if session else None)
    if source:
        lines.append(say("mydata_source", language, source=source))
    leads = held.get("leads") or []
    if leads:
        lines += ["", say("mydata_leads", language)]
        for lead in leads:
            who = " ".join(
                part
                for part in (
                    lead.get("name"),
                    f"@{lead['username']}" if lead.get("username") else None,
                )
                if part
            )
            outcome = _outcome_title(engine, lead.get("outcome"), language)
            created = when(lead.get("created_at"))
            line = say("mydata_lead", language, when=created, who=who or "–", outcome=outcome)
            lines.append(f"• {line}")
            summary = lead.get("summary") or {}
            if isinstance(summary, Mapping):
                lines += [f"   – {question}: {answer}" for question, answer in summary.items()]
    followups = held.get("followups") or []
    if followups:
        lines += ["", say("mydata_followups", language)]
        for followup in followups:
            state = (
                "cancelled"
                if followup.get("cancelled")
                else "sent"
                if followup.get("sent_at")
                else "planned"
            )
            lines.append(
                "• " + say(f"mydata_followup_{state}", language, when=when(followup.get("due_at")))
            )
    pending = [m for m in held.get("messages") or [] if m.get("to_chat_id") == held.get("chat_id")]
    if pending:
        lines += ["", say("mydata_pending", language, count=str(len(pending)))]
    lines += ["", say("mydata_footer", language, retention_days=str(retention_days))]
    return lines


def answers_in_words(engine: Engine, session: Session) -> list[tuple[str, str]]:
    """(question, answer) in the session's language, in the order they were answered. The
    practice's marks (summary sent, check-in booked) are not answers: they are not here."""
    pairs: list[tuple[str, str]] = []
    for key, words in engine.answers_in_words(session).items():
        step = engine.flow.steps.get(key)
        # a question the flow has since dropped: still theirs to see, under its id
        pairs.append((_title(engine, step.text, session.language) if step else key, words))
    return pairs


def where_now(engine: Engine, session: Session, language: str | None) -> str:
    if session.finished:
        return say(
            "mydata_result",
            language,
            outcome=_outcome_title(engine, session.outcome, session.language),
        )
    step = engine.flow.steps.get(session.step)
    question = _title(engine, step.text, session.language) if step is not None else session.step
    return say("mydata_now", language, question=question)


def copy_for_person(held: Mapping[str, Any], *, now: float | None = None) -> dict[str, Any]:
    """The export as the person gets it: their data, and no other chat's id."""
    chat_id = held.get("chat_id")
    messages = []
    for message in held.get("messages") or []:
        message = dict(message)
        if message.get("to_chat_id") != chat_id:
            message["to_chat_id"] = PRACTICE
            params = dict(message.get("params") or {})
            params.pop("chat_id", None)
            message["params"] = params
        messages.append(message)
    return {
        **held,
        "messages": messages,
        "exported_at": time.time() if now is None else now,
    }


def when(timestamp: Any) -> str:
    """A time everyone reads the same way, whatever their language: 2025-05-03 14:02 UTC."""
    if not isinstance(timestamp, int | float):
        return "–"
    return time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(timestamp))


def _title(engine: Engine, text: LocalText, language: str) -> str:
    """A question's or outcome's headline: its first bold part, else its first line."""
    title = headline(fill(text.get(language, engine.flow.default_language), engine.settings))
    title = title.rstrip(":")
    return title if len(title) <= TITLE_CHARS else title[: TITLE_CHARS - 1] + "…"


def _outcome_title(engine: Engine, outcome: str | None, language: str | None) -> str:
    step = engine.flow.steps.get(outcome or "")
    if step is None:
        return outcome or "–"
    return _title(engine, step.text, engine.pick_language(language))


def _session(data: Any) -> Session | None:
    if not isinstance(data, Mapping):
        return None
    try:
        return Session.from_dict(data)
    except SessionError:
        return None


def mydata_decision(held: Mapping[str, Any], *, retention_days: int) -> Decision:
    """The /mydata turn, given the copy read just before it."""

    def decide(chat: ChatView) -> Change:
        messages = mydata_messages(
            chat.chat_id, held, chat.engine, chat.language, retention_days=retention_days
        )
        return Change(outbox=messages)

    return decide
