"""Telegram's limits and what a phone shows: button data, button labels, message length.

* Button data is ``1|<action>|<step>|<value>`` (bot.callback), at most 64 bytes, so long step
  and option ids can break a button.
* Button labels: two buttons of one question must not say the same thing; a label longer than
  the flow's ``label_limit:`` (default 32 characters) is an error; one longer than what a phone
  shows on one line (about 24 characters, shared by the buttons of a row) a warning.
* Messages hold at most 4,096 characters; a longer one is cut off. A question is measured with
  the safety line when it is the first message. An outcome is measured as the engine builds it:
  its text, the ``more:`` paragraphs whose conditions hold, the reasons under their heading,
  the disclaimer and the safety line, placeholders filled with the longest they can be. Every
  combination of the answers its conditions read is tried (the rule analysis's domains), so an
  error names answers that really give too long a message; when there are too many
  combinations, everything at once is the (warned) bound.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bot.callback import MAX_BYTES, Action, size
from bot.flow.analysis import AnswerSet, Graph
from bot.flow.conditions import names_in
from bot.flow.cover import _mentioned, answer_space, combinations, describe_answers
from bot.flow.draft import ConditionDraft, FlowDraft, StepDraft, TextUse
from bot.flow.model import LocalText, StepKind
from bot.flow.report import Report
from bot.flow.source import YMap, YScalar
from bot.flow.texts import PLACEHOLDER
from bot.flow.ui import UI_DEFAULTS

MAX_MESSAGE = 4096  # characters in one Telegram message
NUMBER_BUTTON_RANGE = 12  # bot.engine.MAX_NUMBER_BUTTONS: wider ranges are typed, not tapped
PHONE_LINE = 24  # characters of a button's label a phone shows across one line
TICK_WIDTH = 2  # "✅ " before the label of a multi-select's option (bot.telegram.render)

# The longest a setting's value usually is (bot.config's defaults), for measuring texts.
SETTING_SAMPLES = {
    "emergency_number": "999",
    "urgent_advice": "call 111 or your GP surgery today",
    "doctor": "médico de familia",
}


def check_limits(draft: FlowDraft, report: Report, graph: Graph | None = None) -> None:
    shared_too_long = _shared_length(draft, report)
    labels = _labels_by_option(draft)
    for step in draft.steps.values():
        _callback_data(report, step)
        if step.kind in (StepKind.CHOICE, StepKind.MULTI):
            _labels(draft, report, step, labels.get(step.id, {}))
        if not (shared_too_long and step.kind is StepKind.OUTCOME):
            _message_length(draft, report, step, graph)


def _shared_length(draft: FlowDraft, report: Report) -> bool:
    """The disclaimer and safety line go under every outcome: too long together, they are
    the one mistake to report (not every outcome)."""
    if draft.root is None:
        return False
    fallback = draft.default_language
    for language in draft.languages:
        parts = [
            _get(draft.disclaimer, language, fallback),
            _get(draft.safety_line, language, fallback),
        ]
        length = len("\n\n".join(p for p in parts if p))
        if length > MAX_MESSAGE:
            at = draft.root.get("disclaimer") or draft.root.get("safety_line") or draft.root
            report.error(
                at,
                f"The disclaimer and the safety line together are {length:,} characters long "
                f"in '{language}'; every outcome adds them to its text, and Telegram allows "
                f"{MAX_MESSAGE:,} characters in a message.",
                "Shorten them: they are repeated under every outcome.",
            )
            return True
    return False


# --- button data -------------------------------------------------------------------------------


def _callback_data(report: Report, step: StepDraft) -> None:
    def too_long(action: Action, value: str) -> int | None:
        used = size(action, step.id, value)
        return used if used > MAX_BYTES else None

    hint = (
        f"Telegram allows {MAX_BYTES} bytes of data per button and the data holds the step id "
        "and the option id; use shorter ids (the texts on the buttons can stay as they are)."
    )
    if step.kind in (StepKind.CHOICE, StepKind.MULTI):
        action = Action.CHOOSE if step.kind is StepKind.CHOICE else Action.TOGGLE
        for option in step.options:
            used = too_long(action, option.id)
            if used is not None:
                report.error(
                    step.option_keys[option.id],
                    f"The button for '{option.id}' would carry {used} bytes of data.",
                    hint,
                )
    if step.kind is StepKind.MULTI:
        used = too_long(Action.DONE, "")
        if used is not None:
            report.error(
                step.key, f"The Done button of '{step.id}' would carry {used} bytes.", hint
            )
    low, high = step.minimum, step.maximum
    buttons = low is not None and high is not None and high - low < NUMBER_BUTTON_RANGE
    if step.kind is StepKind.NUMBER and buttons:
        assert low is not None and high is not None
        values = [str(n) for n in range(low, high + 1)]
        used = max((size(Action.NUMBER, step.id, v) for v in values), default=0)
        if used > MAX_BYTES:
            report.error(
                step.key, f"The number buttons of '{step.id}' would carry {used} bytes.", hint
            )


# --- button labels -----------------------------------------------------------------------------


def _labels_by_option(draft: FlowDraft) -> dict[str, dict[str, TextUse]]:
    """step id -> option id -> the label as written (with its place per language)."""
    found: dict[str, dict[str, TextUse]] = {}
    for use in draft.texts:
        if use.role == "label" and use.step is not None and use.option is not None:
            found.setdefault(use.step, {})[use.option] = use
    return found


@dataclass(frozen=True, slots=True)
class _Label:
    option: str
    language: str
    text: str
    node: YScalar


def _labels(draft: FlowDraft, report: Report, step: StepDraft, uses: dict[str, TextUse]) -> None:
    labels = [
        _Label(option, language, node.text, node)
        for option, use in uses.items()
        for language, node in use.nodes.items()
    ]
    _same_labels(draft, report, step, uses)
    limit = draft.label_limit
    for label in labels:
        if len(label.text) > limit:
            report.error(
                label.node,
                f"This button's label is {len(label.text)} characters long; this flow's "
                f"buttons hold at most {limit} (label_limit).",
                "A phone cuts a label that does not fit with '…'. Shorten it and say more in "
                "the question's text, or raise label_limit: at the top of the file.",
            )
    tick = TICK_WIDTH if step.kind is StepKind.MULTI else 0
    line = max(1, PHONE_LINE // max(1, step.columns))
    long = [lb for lb in labels if line < len(lb.text) + tick and len(lb.text) <= limit]
    if not long:
        return
    first = long[0]
    others = len(long) - 1
    which = "This label" + (f" and {others} more" if others else "")
    verb = "are" if others else "is"
    several = len(draft.languages) > 1
    listed = "; ".join(
        f"{lb.option}{f' ({lb.language})' if several else ''}: '{lb.text}', {len(lb.text)}"
        for lb in long[:8]
    ) + (" ..." if len(long) > 8 else "")
    shared = f", {step.columns} buttons share each row" if step.columns > 1 else ""
    report.warning(
        first.node,
        f"{which} of '{step.id}' {verb} longer than a phone shows on one line (about "
        f"{line} characters{shared}), so a smaller phone cuts {'them' if others else 'it'} "
        "short with '…'.",
        f"Too long for one line: {listed}. Telegram shows a button's label on a single line: "
        f"with the default text size a phone about 360 points wide fits about {PHONE_LINE} "
        "characters across (fewer with larger text); buttons in one row share it, and a "
        f"multi-select's tick takes {TICK_WIDTH}. Shorten the labels and explain in the "
        "question's text.",
    )


def _same_labels(
    draft: FlowDraft, report: Report, step: StepDraft, uses: dict[str, TextUse]
) -> None:
    """Two buttons of one question that say the same thing (in any language)."""
    fallback = draft.default_language
    reported: set[str] = set()
    for language in draft.languages:
        seen: dict[str, str] = {}
        for option in step.options:
            use = uses.get(option.id)
            if use is None or option.id in reported:
                continue
            said = " ".join(option.label.get(language, fallback).split()).casefold()
            first = seen.setdefault(said, option.id)
            if first == option.id:
                continue
            reported.add(option.id)
            node = use.nodes.get(language) or next(iter(use.nodes.values()), None)
            shown = option.label.get(language, fallback)
            report.error(
                node or step.option_keys[option.id],
                f"Two buttons of '{step.id}' say '{shown}': the options '{first}' and "
                f"'{option.id}'.",
                "People could not tell them apart, and a typed answer always picks the first. "
                "Give each option its own label"
                + (f" (in '{language}')." if len(draft.languages) > 1 else "."),
            )


# --- message length ----------------------------------------------------------------------------


def _get(text: LocalText | None, language: str, fallback: str) -> str:
    return text.get(language, fallback) if text is not None else ""


def _filled(draft: FlowDraft, text: str, language: str) -> str:
    """The text with each placeholder as long as it can be shown (or as written, if longer)."""
    if "{" not in text:
        return text
    fallback = draft.default_language

    def longest(match: Any) -> str:
        name = match.group(1)
        written: str = match.group(0)
        value = SETTING_SAMPLES.get(name, "")
        question = draft.steps.get(name)
        if question is not None and question.is_question:
            labels = [_get(o.label, language, fallback) for o in question.options]
            if question.kind is StepKind.MULTI:
                value = ", ".join(labels)
            elif question.kind is StepKind.CHOICE:
                value = max(labels, key=len, default="")
            else:
                value = str(max(abs(question.minimum or 0), abs(question.maximum or 0)))
        return value if len(value) > len(written) else written

    return PLACEHOLDER.sub(longest, text)


def _message_length(draft: FlowDraft, report: Report, step: StepDraft, graph: Graph | None) -> None:
    if step.text is None or step.kind is None:
        return
    node = step.node.get("text") if isinstance(step.node, YMap) else None
    at = node or step.key
    fallback = draft.default_language
    for language in draft.languages:
        parts = [_filled(draft, _get(step.text, language, fallback), language)]
        what = "This text"
        if step.kind is StepKind.OUTCOME:
            parts += [
                _filled(draft, _get(p.text, language, fallback), language)
                for p in step.more
                if p.condition is None
            ]
            parts.append(
                _filled(
                    draft, _get(draft.disclaimer_for(step.urgent), language, fallback), language
                )
            )
            if not step.urgent:
                parts.append(_filled(draft, _get(draft.safety_line, language, fallback), language))
            what = "This outcome, with the disclaimer and safety line added,"
        elif step.id == draft.start and draft.safety_line is not None:
            parts.append(_filled(draft, _get(draft.safety_line, language, fallback), language))
            what = "This first message, with the safety line added,"
        length = len("\n\n".join(p for p in parts if p))
        if length > MAX_MESSAGE:
            report.error(
                at,
                f"{what} is {length:,} characters long in '{language}'; Telegram allows "
                f"{MAX_MESSAGE:,}.",
                "Shorten it, or split it into a message step and a shorter text.",
            )
            return
        if step.kind is StepKind.OUTCOME and _outcome_length(
            draft, report, step, language, at, graph
        ):
            return


# --- outcomes: every paragraph and reason that can show at once ----------------------------------


@dataclass(frozen=True, slots=True)
class _Extra:
    """A paragraph or a reason shown when ``condition`` holds (always, when it is None)."""

    condition: ConditionDraft | None
    length: int
    reason: str | None = None  # the reason id (reasons are shown once each)


@dataclass(frozen=True, slots=True)
class _Each:
    """Reasons given one per ticked option of a multi-select."""

    key: str
    lengths: Mapping[str, int]  # option id -> its reason's length


def _outcome_length(
    draft: FlowDraft,
    report: Report,
    step: StepDraft,
    language: str,
    at: Any,
    graph: Graph | None,
) -> bool:
    """Report an outcome that can grow too long with its paragraphs and reasons; True when
    reported."""
    fallback = draft.default_language
    shown = [_filled(draft, _get(step.text, language, fallback), language)]
    shown += [
        _filled(draft, _get(p.text, language, fallback), language)
        for p in step.more
        if p.condition is None and p.text is not None
    ]
    shown.append(
        _filled(draft, _get(draft.disclaimer_for(step.urgent), language, fallback), language)
    )
    if not step.urgent:
        shown.append(_filled(draft, _get(draft.safety_line, language, fallback), language))
    shown = [p for p in shown if p]
    base = sum(len(p) for p in shown) + 2 * max(0, len(shown) - 1)
    paragraphs = [
        _Extra(p.condition, 2 + len(_filled(draft, _get(p.text, language, fallback), language)))
        for p in step.more
        if p.condition is not None and p.text is not None
    ]
    reasons, each = _reasons(draft, step, language)
    if not paragraphs and not reasons and not each:
        return False
    header = 2 + len(_reasons_header(draft, language))
    conditions = [e.condition for e in (*paragraphs, *reasons) if e.condition is not None]
    if any(c.condition is None for c in conditions):
        return False  # an unreadable condition is reported already
    trees = [c.condition.tree for c in conditions if c.condition is not None]
    answered = (graph.must(step.id) if graph else None) or AnswerSet(0, {})
    space = answer_space(draft, trees, answered) if graph is not None else None
    if space is None:
        # Too many combinations to try: everything at once is the bound.
        total = base + sum(e.length for e in paragraphs)
        lengths = [e.length for e in reasons] + [n for e in each for n in e.lengths.values()]
        total += header + sum(lengths) if lengths else 0
        if total > MAX_MESSAGE:
            report.warning(
                at,
                f"With every reason and paragraph it can show, this outcome can reach "
                f"{total:,} characters in '{language}'; Telegram allows {MAX_MESSAGE:,}.",
                "Shorten the outcome's text, its paragraphs or the reason texts.",
            )
            return True
        return False
    keys, domains = space
    widening = _widening(draft, trees, each)
    longest, example = 0, None
    for answers in combinations(keys, domains):
        given = _widest_ticks(answers, widening)
        length = base + sum(e.length for e in paragraphs if _holds(e.condition, given))
        ids: dict[str, int] = {}
        for extra in reasons:
            if _holds(extra.condition, given) and extra.reason is not None:
                ids.setdefault(extra.reason, extra.length)
        for rule in each:
            ticks = given.get(rule.key)
            for option in ticks if isinstance(ticks, list) else ():
                if option in rule.lengths:
                    ids.setdefault(option, rule.lengths[option])
        if ids:
            length += header + sum(ids.values())
        if length > longest:
            longest, example = length, given
    if longest <= MAX_MESSAGE or example is None:
        return False
    named = sorted(set(keys) | {e.key for e in each if e.key in example})
    report.error(
        at,
        f"With the paragraphs and reasons it shows for some answers, this outcome reaches "
        f"{longest:,} characters in '{language}'; Telegram allows {MAX_MESSAGE:,}, so its end, "
        "where the disclaimer is, would be cut off.",
        f"For example: {describe_answers(draft, named, example)}. Shorten the outcome's text, "
        "its paragraphs or the reason texts, or move some of it into a message step.",
    )
    return True


def _holds(condition: ConditionDraft | None, answers: Mapping[str, Any]) -> bool:
    if condition is None:
        return True
    return condition.condition is not None and condition.condition.test(answers)


@dataclass(frozen=True, slots=True)
class _Widen:
    """How to tick the most options of a multi-select that gives one reason per tick."""

    key: str
    plain: tuple[str, ...]  # its options, exclusive ones excepted
    unnamed: tuple[str, ...]  # those no condition names (they all behave alike)
    read: bool  # do the conditions read it at all?


def _widening(draft: FlowDraft, trees: Sequence[Any], each: Sequence[_Each]) -> list[_Widen]:
    read = set().union(*(names_in(tree) for tree in trees)) if trees else set()
    found = []
    for rule in each:
        question = draft.steps[rule.key]
        plain = tuple(o.id for o in question.options if not o.exclusive)
        named = set(_mentioned(trees, rule.key))
        unnamed = tuple(o for o in plain if o not in named)
        found.append(_Widen(rule.key, plain, unnamed, rule.key in read))
    return found


def _widest_ticks(answers: dict[str, Any], widening: Sequence[_Widen]) -> dict[str, Any]:
    """The answers with the most reasons: every option no condition names is ticked with the
    one that stands for them (conditions cannot tell them apart), or every option when no
    condition reads the multi-select at all."""
    given = dict(answers)
    for rule in widening:
        ticks = given.get(rule.key)
        if not rule.read:
            given[rule.key] = list(rule.plain)
        elif isinstance(ticks, list) and rule.unnamed and rule.unnamed[0] in ticks:
            given[rule.key] = [o for o in rule.plain if o in ticks or o in rule.unnamed]
    return given


def _reasons(draft: FlowDraft, step: StepDraft, language: str) -> tuple[list[_Extra], list[_Each]]:
    fallback = draft.default_language
    single: list[_Extra] = []
    each: list[_Each] = []
    for rule in step.reasons:
        if rule.reason is not None:
            reason = draft.reasons.get(rule.reason)
            text = _filled(draft, _get(reason, language, fallback) or rule.reason, language)
            single.append(_Extra(rule.condition, 3 + len(text), rule.reason))
        elif rule.each is not None:
            source = draft.steps.get(rule.each)
            if source is None or source.kind is not StepKind.MULTI:
                continue
            lengths = {}
            for option in source.options:
                if not option.exclusive:
                    text = _get(draft.reasons.get(option.id) or option.label, language, fallback)
                    lengths[option.id] = 3 + len(_filled(draft, text, language))
            each.append(_Each(rule.each, lengths))
    return single, each


def _reasons_header(draft: FlowDraft, language: str) -> str:
    custom = draft.ui.get("reasons_header")
    if custom:
        return custom.get(language, draft.default_language)
    defaults = UI_DEFAULTS["reasons_header"]
    return defaults.get(language, defaults["en"])
