"""The answers worth trying for a question: one of each kind the conditions tell apart.

Answers come from small finite sets: a choice's options, a multi-select's sets of ticks, a
number from min to max. Options no condition mentions all behave alike, so one of them
stands for the rest; numbers only matter at the bounds and next to the numbers compared.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from typing import Any

from bot.flow.draft import StepDraft
from bot.flow.model import StepKind


def domain(question: StepDraft, mentioned: Sequence[Any]) -> list[Any]:
    """The answers of ``question`` that can make a difference to these conditions."""
    if question.kind is StepKind.CHOICE:
        # Options no rule mentions all behave alike: one of them stands for the rest.
        named = [o for o in question.option_ids if o in mentioned]
        others = [o for o in question.option_ids if o not in mentioned]
        return named + others[:1]
    if question.kind is StepKind.MULTI:
        return _tick_sets(question, {v for v in mentioned if isinstance(v, str)})
    low, high = question.minimum, question.maximum
    if low is None or high is None or low > high:
        return []
    points = {low, high}
    for value in mentioned:
        if isinstance(value, bool) or not isinstance(value, int | float):
            continue
        for near in {math.floor(value), math.ceil(value)}:
            points.update((near - 1, near, near + 1))
    return sorted(p for p in points if low <= p <= high)


def _tick_sets(question: StepDraft, mentioned: set[str]) -> list[Any]:
    plain = [o.id for o in question.options if not o.exclusive]
    exclusive = [o.id for o in question.options if o.exclusive]
    named = [o for o in plain if o in mentioned]
    others = [o for o in plain if o not in mentioned]
    pool = named + others[:1]
    sets: list[Any] = []
    for size in range(1, len(pool) + 1):
        for chosen in itertools.combinations(pool, size):
            sets.append(list(chosen))
    named_exclusive = [o for o in exclusive if o in mentioned]
    other_exclusive = [o for o in exclusive if o not in mentioned][:1]
    sets.extend([o] for o in named_exclusive + other_exclusive)
    return sets
