"""The therapist's flow language: loading with positions, validation, compilation.

    from bot.flow import load_compiled
    compiled = load_compiled("flows/sciatica.yaml")

:func:`load_flow` reads and checks a flow file and raises :class:`FlowError` with every
problem at once; :func:`check_flow` returns the problems (errors and warnings) instead;
:func:`load_compiled` also compiles the flow into its one shared state machine.
The language itself is described in docs/flow-language.md.
"""

from bot.flow.compiler import CompiledFlow, NoRouteError, compile_flow
from bot.flow.errors import FlowError, Problem, render_problems
from bot.flow.loader import check_flow, flow_version, load_compiled, load_flow
from bot.flow.model import (
    Condition,
    Flow,
    LocalText,
    Option,
    Paragraph,
    ReasonRule,
    Route,
    SafetyNet,
    Step,
    StepKind,
    Where,
)

__all__ = [
    "CompiledFlow",
    "Condition",
    "Flow",
    "FlowError",
    "LocalText",
    "NoRouteError",
    "Option",
    "Paragraph",
    "Problem",
    "ReasonRule",
    "Route",
    "SafetyNet",
    "Step",
    "StepKind",
    "Where",
    "check_flow",
    "compile_flow",
    "flow_version",
    "load_compiled",
    "load_flow",
    "render_problems",
]
