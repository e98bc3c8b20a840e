"""A CPU budget for code that reads what people type, so a catastrophic case fails loudly.

The budgets are generous on purpose: the code under test needs microseconds, a catastrophic
case (a regular expression that backtracks) needs seconds, so a limit of a tenth of a second
is orders of magnitude away from both and never flaky on a busy machine. It is the CPU time of
this thread, not the wall clock, so time spent waiting for other processes does not count, and
the garbage collector is held off while it runs: late in a long test session a full collection
of a large heap can cost more than the whole budget, and that is not the code's cost.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")

BUDGET_S = 0.1  # per call: linear parsing of 4,096 characters costs well under a millisecond


def within_budget(call: Callable[[], T], *, budget: float = BUDGET_S, what: str = "") -> T:
    """Run ``call`` once and fail when it took more than ``budget`` seconds of CPU."""
    gc.disable()
    try:
        started = time.thread_time()
        result = call()
        spent = time.thread_time() - started
    finally:
        gc.enable()
    assert spent < budget, f"{what or call!r} took {spent:.3f}s of CPU (budget {budget}s)"
    return result
