"""The names a flow file may use at each level.

One source of truth: the loader checks keys against these sets, and a test checks that
docs/flow.schema.json (what the therapist's editor completes) allows exactly the same keys.
"""

from __future__ import annotations

from collections.abc import Mapping

TOP_KEYS = frozenset(
    {
        "flow",
        "version",
        "title",
        "languages",
        "start",
        "disclaimer",
        "urgent_disclaimer",
        "safety_line",
        "safety_net",
        "label_limit",
        "reasons",
        "ui",
        "steps",
    }
)
TOP_REQUIRED = ("flow", "version", "start", "steps")

STEP_TYPES = ("message", "choice", "multi", "number", "outcome")

STEP_KEYS: Mapping[str, frozenset[str]] = {
    "message": frozenset({"type", "text", "next"}),
    "choice": frozenset({"type", "text", "options", "columns", "next"}),
    "multi": frozenset({"type", "text", "options", "columns", "next"}),
    "number": frozenset({"type", "text", "min", "max", "columns", "next"}),
    "outcome": frozenset({"type", "text", "more", "urgent", "booking", "offers", "reasons"}),
}
STEP_REQUIRED: Mapping[str, tuple[str, ...]] = {
    "message": ("type", "text", "next"),
    "choice": ("type", "text", "options", "next"),
    "multi": ("type", "text", "options", "next"),
    "number": ("type", "text", "min", "max", "next"),
    "outcome": ("type", "text"),
}
ALL_STEP_KEYS = frozenset().union(*STEP_KEYS.values())

OPTION_KEYS = frozenset({"label", "exclusive", "emergency"})  # the long form of an option
RULE_KEYS = frozenset({"if", "goto"})  # a routing rule under `next:`
REASON_RULE_KEYS = frozenset({"if", "reason", "each"})  # under an outcome's `reasons:`
PARAGRAPH_KEYS = frozenset({"if", "text"})  # under an outcome's `more:`
SAFETY_NET_KEYS = frozenset({"goto", "negations", "doubts", "ignore", "words", "concepts"})
# one warning sign of the net
CONCEPT_KEYS = frozenset({"sign", "when", "ask", "near", "doubted_by"})

# Settings the engine fills into texts ({booking_url} ...), see bot.engine.Engine(settings).
SETTING_NAMES = ("booking_url", "emergency_number", "urgent_advice", "doctor")

# Words of the condition language: an answer key cannot be one of them.
CONDITION_WORDS = frozenset(
    {"and", "or", "not", "in", "has", "any", "all", "none", "of", "true", "false"}
)

COLUMNS_RANGE = (1, 8)  # Telegram shows at most 8 buttons in a row
DEFAULT_LABEL_LIMIT = 32  # characters on a button (label_limit:); longer is an error
LABEL_LIMIT_RANGE = (8, 64)
DEFAULT_COLUMNS = {"choice": 1, "multi": 1, "number": 6}
