"""What makes the bot worth running for a practice, on top of the conversation:

* leads, with consent: under an outcome that offers it, "Send my answers to the therapist" stores the
  summary and sends every admin chat a card (``leads``);
* the gentle check-in: "Check in with me in N days", then "How is your pain now?", answered
  with a button or by typing a number (``followups``);
* the therapist's commands in the admin chats: /stats, /leads, /export, /reload (``admin``);
* editing the flow while the bot runs: a changed FLOW_FILE is checked and swapped in, or its
  errors go to the admins while the last good version keeps running (``flows``).

Everything goes through the transport's one path (decide, commit with the update id, then the
outbox), so none of it can be lost or sent twice. :func:`buttons` gives its buttons' handlers
(``x|lead|…``, ``x|checkin|…``, ``x|pain|…``) and :func:`register` the rest;
``bot.app.build_application`` calls both.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from telegram import Update
from telegram.ext import Application

from bot.telegram.conversation import Decision
from bot.telegram.render import CHECKIN_ACTION, LEAD_ACTION
from bot.telegram.practice.admin import AdminCommands
from bot.telegram.practice.flows import FlowKeeper, FlowWatcher
from bot.telegram.practice.followups import (
    PAIN_ACTION,
    FollowupSender,
    book,
    pain_answer,
    typed_answer,
)
from bot.telegram.practice.leads import Person, consent

if TYPE_CHECKING:
    from bot.telegram.handlers import ButtonHandler, Handlers
    from bot.telegram.runtime import Runtime

__all__ = ["buttons", "register"]

def buttons(runtime: Runtime, handlers: Handlers) -> list[ButtonHandler]:
    """The practice's buttons, for ``Handlers.register``: each its own handler."""
    settings = runtime.settings

    def lead(update: Update, argument: str, pressed: int | None) -> Decision:
        user = update.effective_user
        person = Person(user.full_name if user else None, user.username if user else None)
        return consent(person, settings.admin_chat_ids, pressed, zone=settings.zone)

    return [
        handlers.button(LEAD_ACTION, lead),
        handlers.button(CHECKIN_ACTION, lambda update, argument, pressed: book(pressed)),
        handlers.button(PAIN_ACTION, lambda update, argument, pressed: pain_answer(argument, pressed)),
    ]


def register(
    app: Application[Any, Any, Any, Any, Any, Any], runtime: Runtime, handlers: Handlers
) -> None:
    """Add the practice's commands, typed check-in answers and background jobs to a bot built
    by ``bot.app.build_application`` (its buttons come through :func:`buttons`)."""
    keeper = FlowKeeper(runtime)
    admin = AdminCommands(runtime, keeper)
    admin.register(app)
    handlers.readers.append(typed_answer)
    runtime.jobs.update(
        {
            "flow-watcher": FlowWatcher(keeper).run,
            "follow-ups": FollowupSender(runtime).run,
            "admin-menu": admin.set_menu,
        }
    )
