"""Compile a :class:`~bot.flow.model.Flow` into one shared ``transitions`` machine.

Steps become states and every route becomes a transition on the single trigger ``next``,
guarded by the route's condition. ``transitions`` tries the transitions of a trigger in the
order they were added, so "rules are evaluated in order, the first that holds wins" is the
library's own semantics, not something we re-implement.

One machine serves every conversation: it is built with ``model=None`` and each step is taken
by triggering the event on a throw-away :class:`_Cursor` (a slot object holding only a state
name), as the transitions FAQ describes for many light models. No per-person machine, no
``add_model`` per update. The safety net is compiled here too, once per flow.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from transitions import Machine

from bot.errors import TriageBotError
from bot.flow.model import Flow, Step
from bot.flow.safety import Screener

NEXT = "next"


class NoRouteError(TriageBotError, RuntimeError):
    """No route of a step matched: a flow that passed validation never raises this."""


class _Cursor:
    __slots__ = ("state",)

    def __init__(self, state: str) -> None:
        self.state = state


@dataclass(frozen=True, slots=True)
class CompiledFlow:
    flow: Flow
    machine: Machine
    screener: Screener  # the safety net, compiled once with the flow

    def route(self, step_id: str, answers: Mapping[str, Any]) -> str:
        """The step that follows ``step_id`` for these answers."""
        cursor = _Cursor(step_id)
        if not self.machine.events[NEXT].trigger(cursor, answers):
            raise NoRouteError(f"no route out of step {step_id!r} matches these answers")
        return cursor.state

    def step(self, step_id: str) -> Step:
        return self.flow.steps[step_id]


def _always(answers: Mapping[str, Any]) -> bool:
    return True


def compile_flow(flow: Flow) -> CompiledFlow:
    machine = Machine(
        model=None,
        states=list(flow.steps),
        initial=None,
        auto_transitions=False,
        ignore_invalid_triggers=False,
        send_event=False,
    )
    for step in flow.steps.values():
        for route in step.routes:
            test = route.condition.test if route.condition is not None else _always
            machine.add_transition(NEXT, step.id, route.target, conditions=[test])
    return CompiledFlow(flow=flow, machine=machine, screener=compile_screener(flow))


def compile_screener(flow: Flow) -> Screener:
    """The flow's safety net as one :class:`~bot.flow.safety.Screener` (empty without one)."""
    return flow.safety_net.screener() if flow.safety_net is not None else Screener({}, ())
