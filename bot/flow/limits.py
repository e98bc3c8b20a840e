"""Telegram's limits: 64 bytes of callback data per button, 4,096 characters per message.

Button data is ``1|<action>|<step>|<value>`` (bot.callback), so long step and option ids can
break a button; messages are measured as the engine builds them (an outcome gets its reasons,
its paragraphs, the disclaimer and the safety line; the first message gets the safety line).
"""

from __future__ import annotations

from bot.flow.draft import FlowDraft, StepDraft
from bot.flow.model import LocalText, StepKind
from bot.flow.report import Report
from bot.flow.source import YMap

MAX_MESSAGE = 4096  # characters in one Telegram message
NUMBER_BUTTON_RANGE = 12  # bot.engine.MAX_NUMBER_BUTTONS: wider ranges are typed, not tapped


def check_limits(draft: FlowDraft, report: Report) -> None:
    shared_too_long = _shared_length(draft, report)
    for step in draft.steps.values():
        _callback_data(report, step)
        if not (shared_too_long and step.kind is StepKind.OUTCOME):
            _message_length(draft, report, step)


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


def _callback_data(report: Report, step: StepDraft) -> None:
    from bot.callback import MAX_BYTES, size  # lazily: bot.callback imports bot.engine
    from bot.engine import Action

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


def _get(text: LocalText | None, language: str, fallback: str) -> str:
    return text.get(language, fallback) if text is not None else ""


def _message_length(draft: FlowDraft, report: Report, step: StepDraft) -> None:
    if step.text is None or step.kind is None:
        return
    node = step.node.get("text") if isinstance(step.node, YMap) else None
    at = node or step.key
    fallback = draft.default_language
    for language in draft.languages:
        parts = [_get(step.text, language, fallback)]
        what = "This text"
        if step.kind is StepKind.OUTCOME:
            parts += [_get(p.text, language, fallback) for p in step.more if p.condition is None]
            parts.append(_get(draft.disclaimer_for(step.urgent), language, fallback))
            if not step.urgent:
                parts.append(_get(draft.safety_line, language, fallback))
            what = "This outcome, with the disclaimer and safety line added,"
        elif step.id == draft.start and draft.safety_line is not None:
            parts.append(_get(draft.safety_line, language, fallback))
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
        if step.kind is StepKind.OUTCOME:
            extra = _reasons_length(draft, step, language)
            extra += sum(
                2 + len(_get(p.text, language, fallback))
                for p in step.more
                if p.condition is not None
            )
            if extra and length + extra > MAX_MESSAGE:
                report.warning(
                    at,
                    f"With every reason and paragraph it can show, this outcome can reach "
                    f"{length + extra:,} characters in '{language}'; Telegram allows "
                    f"{MAX_MESSAGE:,}.",
                    "Shorten the outcome's text, its paragraphs or the reason texts.",
                )
                return


def _reasons_length(draft: FlowDraft, step: StepDraft, language: str) -> int:
    """The longest the reasons block can be: every reason rule giving its reason."""
    fallback = draft.default_language
    texts: list[str] = []
    for rule in step.reasons:
        if rule.reason is not None:
            reason = draft.reasons.get(rule.reason)
            texts.append(_get(reason, language, fallback) or rule.reason)
        elif rule.each is not None and rule.each in draft.steps:
            for option in draft.steps[rule.each].options:
                if not option.exclusive:
                    reason = draft.reasons.get(option.id)
                    texts.append(_get(reason or option.label, language, fallback))
    if not texts:
        return 0
    from bot.engine import UI_DEFAULTS  # lazily: bot.engine imports this package

    custom = draft.ui.get("reasons_header")
    defaults = UI_DEFAULTS["reasons_header"]
    header = custom.get(language, fallback) if custom else defaults.get(language, defaults["en"])
    # "\n\n" before the block, then the header and one "\n• text" line per reason.
    return 2 + len(header) + sum(len(text) + 3 for text in texts)
