"""What makes the bot worth running for a practice, on top of the conversation:

* leads, with consent: under a booking outcome, "Send my answers to the therapist" stores the
  summary and sends every admin chat a card (``leads``);
* the gentle check-in: "Check in with me in N days", then "How is your pain now?", answered
  with a button or by typing a number (``followups``);
* the therapist's commands in the admin chats: /stats, /leads, /export, /reload (``admin``);
* editing the flow while the bot runs: a changed FLOW_FILE is checked and swapped in, or its
  errors go to the admins while the last good version keeps running (``flows``).

Everything goes through the transport's one path (decide, commit with the update id, then the
outbox), so none of it can be lost or sent twice. :func:`register` wires it into an
application; ``bot.app.build_application`` calls it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from telegram import Update
from telegram.ext import Application

from bot.telegram.conversation import Decision
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
from bot.telegram.practice.offers import Offers

if TYPE_CHECKING:
    from bot.telegram.handlers import Handlers
    from bot.telegram.runtime import Runtime

__all__ = ["register"]


def register(
    app: Application[Any, Any, Any, Any, Any, Any], runtime: Runtime, handlers: Handlers
) -> None:
    """Add the practice features to a bot built by ``bot.app.build_application``."""
    settings = runtime.settings
    offers = Offers(leads=bool(settings.admin_chat_ids), checkin_days=settings.followup_days)
    keeper = FlowKeeper(runtime)
    admin = AdminCommands(runtime, keeper)
    admin.register(app)
    buttons = _Buttons(runtime, offers)
    handlers.actions.update(
        {"lead": buttons.consent, "checkin": buttons.checkin, PAIN_ACTION: buttons.pain}
    )
    handlers.readers.append(typed_answer)
    runtime.amends.append(offers.amend)
    runtime.jobs.update(
        {
            "flow-watcher": FlowWatcher(keeper).run,
            "follow-ups": FollowupSender(runtime).run,
            "admin-menu": admin.set_menu,
        }
    )


class _Buttons:
    """The offer buttons' actions (``x|lead|…``, ``x|checkin|…``, ``x|pain|…``)."""

    def __init__(self, runtime: Runtime, offers: Offers) -> None:
        self.runtime = runtime
        self.offers = offers

    def consent(self, update: Update, argument: str, pressed: int | None) -> Decision:
        user = update.effective_user
        person = Person(user.full_name if user else None, user.username if user else None)
        settings = self.runtime.settings
        return consent(person, settings.admin_chat_ids, self.offers, pressed, zone=settings.zone)

    def checkin(self, update: Update, argument: str, pressed: int | None) -> Decision:
        return book(self.offers, pressed)

    def pain(self, update: Update, argument: str, pressed: int | None) -> Decision:
        return pain_answer(argument, pressed)
