"""Safety rules: what must hold for ANY flow, whatever the therapist writes.

The other checks make sure a flow works; these make sure it cannot harm. Each rule has a
short id, shown at the start of its message (``S1 no-booking-on-urgent: ...``), so that the
therapist, the admins told about a refused reload and docs/flow-language.md ("Safety rules")
all name it the same way:

* S1 no-booking-on-urgent: an urgent outcome never offers booking (nor, with it, the lead and
  the check-in buttons that only come with booking), and no text it shows (its text,
  paragraphs, reasons, the warning signs of the safety net and its disclaimer) holds the
  booking link ``{booking_url}``.
* S2 emergency-only-to-urgent: every answer that contains an option marked ``emergency: true``
  goes straight to an urgent outcome. Proven with the rule analysis: every combination of
  the answers the rules read is tried (:mod:`bot.flow.cover`).
* S3 safety-net-to-urgent: the safety net's ``goto`` is an urgent outcome.
* S4 disclaimer-on-every-outcome: every outcome closes with the disclaimer (urgent ones may
  use ``urgent_disclaimer:``).
* S5 no-hard-coded-numbers: no emergency or urgent-care number (or "A&E") written into a
  text; ``{emergency_number}`` and ``{urgent_advice}`` follow the country in the settings.
* S6 reasons-when-promised (a warning): an outcome whose text speaks of reasons ("because",
  "why we suggest") can be reached with no reason to show.
* S7 shipped-safety-kept: a practice's copy made by ``triage-bot flows init`` keeps what the
  shipped flow it was made from (its origin, :mod:`bot.flow.origin`) does for safety: every
  option that flow marks ``emergency: true`` is still there and still marked (so S2 holds it
  to an urgent outcome), the question asking them stays on every way to advice when it was
  so in the shipped flow, and its safety net stays (so S3 holds its target) and still alarms
  on every warning and doubtful mention of the shipped flow's safety examples that the
  shipped net alarms on. S2 and S3 trust the marks and the net the file itself has; this rule
  is why deleting them, or emptying the net's words, is no way round.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path
from typing import Any

import yaml

from bot.flow.analysis import AnswerSet, Graph, search
from bot.flow.conditions import compile_condition, parse_condition
from bot.flow.cover import MAX_COMBINATIONS, answer_space, combinations, describe_answers
from bot.flow.draft import (
    ConditionDraft,
    FlowDraft,
    RuleDraft,
    SafetyNetDraft,
    Shipped,
    StepDraft,
    TextUse,
    text_span,
)
from bot.flow.model import Condition, StepKind
from bot.flow.report import Report
from bot.flow.safety import Verdict
from bot.flow.source import YMap, YNode, YScalar, load_yaml
from bot.flow.walks import Walks

GUIDE = "docs/flow-language.md, section 11 (Safety rules)"


@dataclass(frozen=True, slots=True)
class SafetyRule:
    code: str  # S1
    name: str  # no-booking-on-urgent
    why: str  # the reason, in one sentence (also in docs/flow-language.md)

    @property
    def label(self) -> str:
        return f"{self.code} {self.name}"

    def say(self, message: str) -> str:
        return f"{self.label}: {message}"


NO_BOOKING_ON_URGENT = SafetyRule(
    "S1",
    "no-booking-on-urgent",
    "someone who needs medical help now must not be offered a massage, nor asked to send "
    "their answers or wait for a check-in",
)
EMERGENCY_ONLY_TO_URGENT = SafetyRule(
    "S2",
    "emergency-only-to-urgent",
    "an answer the flow itself calls an emergency sign must never lead to another question "
    "or to ordinary advice",
)
SAFETY_NET_TO_URGENT = SafetyRule(
    "S3",
    "safety-net-to-urgent",
    "the safety net fires on warning signs typed in people's own words; where it leads must "
    "be the emergency advice",
)
DISCLAIMER_ON_EVERY_OUTCOME = SafetyRule(
    "S4",
    "disclaimer-on-every-outcome",
    "every piece of advice must say that a massage therapist cannot diagnose",
)
NO_HARD_CODED_NUMBERS = SafetyRule(
    "S5",
    "no-hard-coded-numbers",
    "emergency and urgent-care numbers differ from country to country; a number written "
    "into a text is wrong as soon as the practice (or a person) is elsewhere",
)
REASONS_WHEN_PROMISED = SafetyRule(
    "S6",
    "reasons-when-promised",
    "a text that says 'because' or 'why we suggest this' and then shows no reason leaves "
    "the person guessing what they said that mattered",
)
SHIPPED_SAFETY_KEPT = SafetyRule(
    "S7",
    "shipped-safety-kept",
    "the emergency signs, the question that asks them and the safety net of the shipped flow "
    "are what the other rules guard; a copy that unmarks a sign, goes round the question, "
    "drops the net or empties its words would switch those rules off without a single error",
)
RULES = (
    NO_BOOKING_ON_URGENT,
    EMERGENCY_ONLY_TO_URGENT,
    SAFETY_NET_TO_URGENT,
    DISCLAIMER_ON_EVERY_OUTCOME,
    NO_HARD_CODED_NUMBERS,
    REASONS_WHEN_PROMISED,
    SHIPPED_SAFETY_KEPT,
)


def broken_rules(messages: Sequence[str]) -> list[SafetyRule]:
    """The safety rules named by these problem messages, in the order of :data:`RULES`."""
    return [rule for rule in RULES if any(m.startswith(rule.label + ":") for m in messages)]


def check_safety_rules(
    draft: FlowDraft,
    report: Report,
    graph: Graph,
    skip: set[int],
    shipped: Shipped | None = None,
) -> None:
    """Every safety rule; ``shipped`` is the flow a practice's copy was made from (S7)."""
    no_booking_on_urgent(draft, report)
    emergency_only_to_urgent(draft, report, graph, skip)
    safety_net_to_urgent(draft, report)
    disclaimer_on_every_outcome(draft, report)
    no_hard_coded_numbers(draft, report)
    reasons_when_promised(draft, report, graph, skip)
    if shipped is not None:
        shipped_safety_kept(draft, report, graph, shipped)


# --- S1 ------------------------------------------------------------------------------------------


def no_booking_on_urgent(draft: FlowDraft, report: Report) -> None:
    for step in draft.steps.values():
        if step.kind is not StepKind.OUTCOME or not step.urgent:
            continue
        if step.offers:
            at = step.node.get("offers") if isinstance(step.node, YMap) else None
            offered = ", ".join(step.offers)
            report.error(
                at or step.key,
                NO_BOOKING_ON_URGENT.say(
                    f"'{step.id}' is urgent, so it cannot offer anything (offers: {offered})."
                ),
                "Someone at an urgent outcome needs medical help now, not a massage, nor to "
                f"send their answers or wait for a check-in: write offers: []. See {GUIDE}.",
            )
        elif step.booking:
            at = step.node.get("booking") if isinstance(step.node, YMap) else None
            report.error(
                at or step.key,
                NO_BOOKING_ON_URGENT.say(
                    f"'{step.id}' is urgent, so it cannot offer booking (booking: true)."
                ),
                "Someone at an urgent outcome needs medical help now, not a massage: remove "
                "booking: true (the buttons to send their answers and to check in later only "
                f"come with booking, so they go too). See {GUIDE}.",
            )
    _booking_link_in_urgent_texts(draft, report)


def _booking_link_in_urgent_texts(draft: FlowDraft, report: Report) -> None:
    """``{booking_url}`` in a text shown under an urgent outcome: the booking link would stand
    under the emergency advice, whatever ``offers:`` says."""
    urgent = _urgent_outcomes(draft)
    if not urgent:
        return
    for use in draft.texts:
        shown = _shown_under(draft, use, urgent)
        if shown is None:
            continue
        step_id, where = shown
        for node in use.nodes.values():
            found = _BOOKING_LINK.search(node.text)
            if found is None:
                continue
            own = " (or give urgent outcomes their own, urgent_disclaimer:)"
            report.error(
                text_span(node, draft.lines, found.start(), found.group(0)),
                NO_BOOKING_ON_URGENT.say(
                    f"'{step_id}' is urgent, but {where} holds {{booking_url}}: the booking "
                    "link would be shown under the emergency advice."
                ),
                "Someone at an urgent outcome needs medical help now, not a massage: take "
                f"{{booking_url}} out of this text{own if use.role == 'disclaimer' else ''}. "
                f"See {GUIDE}.",
            )


_BOOKING_LINK = re.compile(r"\{booking_url\}")


def _shown_under(draft: FlowDraft, use: TextUse, urgent: list[str]) -> tuple[str, str] | None:
    """(the urgent outcome, where in it) for a text that an urgent outcome shows, else None."""
    if use.step in urgent and use.role in ("step", "paragraph"):
        return use.step, "its text" if use.role == "step" else "a paragraph of its more:"
    if use.role == "reason":
        names = [name for name, text in draft.reasons.items() if text is use.text]
        for step_id in urgent:
            given = {rule.reason for rule in draft.steps[step_id].reasons}
            if names and names[0] in given:
                return step_id, f"the reason '{names[0]}' it gives"
        return None
    net = draft.safety_net
    if use.role == "sign" and net is not None and net.target in urgent:
        names = [c.id for c in net.concepts if c.sign is use.text]
        sign = f" '{names[0]}'" if names else ""
        return net.target, f"the safety net's sign{sign}, shown as its reason,"
    if use.role in ("disclaimer", "urgent_disclaimer") and use.text is draft.disclaimer_for(
        urgent=True
    ):
        return urgent[0], f"the {use.role}: that closes it"
    return None


# --- S2 ------------------------------------------------------------------------------------------


def _urgent_outcomes(draft: FlowDraft) -> list[str]:
    return [s.id for s in draft.steps.values() if s.kind is StepKind.OUTCOME and s.urgent]


def _leads_to_urgent(draft: FlowDraft, target: str, seen: frozenset[str] = frozenset()) -> bool:
    """Does ``target`` end at an urgent outcome whatever happens? Message steps on the way are
    allowed (they ask nothing); a question is not."""
    step = draft.steps.get(target)
    if step is None or target in seen:
        return False
    if step.kind is StepKind.OUTCOME:
        return step.urgent
    if step.kind is StepKind.MESSAGE and step.rules:
        onward = seen | {target}
        return all(
            rule.target is not None and _leads_to_urgent(draft, rule.target, onward)
            for rule in step.rules
        )
    return False


def _has_emergency(step: StepDraft, value: Any, signs: set[str]) -> list[str]:
    """The emergency options in an answer to ``step``."""
    if step.kind is StepKind.MULTI and isinstance(value, list):
        return [v for v in value if v in signs]
    return [value] if value in signs else []


def emergency_only_to_urgent(
    draft: FlowDraft, report: Report, graph: Graph, skip: set[int]
) -> None:
    for step in draft.steps.values():
        signs = [o.id for o in step.options if o.emergency]
        if not signs or not step.is_question or step.id not in graph.reachable:
            continue
        rules = _until_default(step.rules)
        if not rules or not all(_readable(rule.condition, skip) for rule in rules):
            continue  # a missing next: or an unreadable condition is reported already
        if any(rule.target is None or rule.target not in draft.steps for rule in rules):
            continue  # a target that does not exist is reported already
        answered = graph.answered_by_rules(step) or AnswerSet(0, {})
        trees = [r.condition.condition.tree for r in rules if r.condition and r.condition.condition]
        space = answer_space(draft, trees, answered, also={step.id: signs})
        if space is None:
            report.error(
                step.next_key or step.key,
                EMERGENCY_ONLY_TO_URGENT.say(
                    f"The checker cannot prove that every answer to '{step.id}' with an "
                    "emergency sign goes to an urgent outcome: its rules read too many "
                    f"answers at once (more than {MAX_COMBINATIONS:,} combinations)."
                ),
                "Make the first rule send every emergency sign to the urgent outcome:\n"
                + _first_rule(draft, step, signs),
            )
            continue
        keys, domains = space
        _prove(draft, report, step, rules, set(signs), keys, domains)


def _until_default(rules: list[RuleDraft]) -> list[RuleDraft]:
    for index, rule in enumerate(rules):
        if rule.condition is None:
            return rules[: index + 1]
    return rules


def _readable(condition: ConditionDraft | None, skip: set[int]) -> bool:
    return condition is None or (condition.condition is not None and id(condition) not in skip)


def _prove(
    draft: FlowDraft,
    report: Report,
    step: StepDraft,
    rules: list[RuleDraft],
    signs: set[str],
    keys: list[str],
    domains: list[list[Any]],
) -> None:
    reported: set[int] = set()
    for answers in combinations(keys, domains):
        found = _has_emergency(step, answers.get(step.id), signs)
        if not found:
            continue
        winner = next(
            (
                rule
                for rule in rules
                if rule.condition is None
                or (rule.condition.condition and rule.condition.condition.test(answers))
            ),
            None,
        )
        if winner is None or id(winner) in reported:
            continue  # no rule catches it: the gap is reported by the rule analysis
        assert winner.target is not None
        if _leads_to_urgent(draft, winner.target):
            continue
        reported.add(id(winner))
        target = draft.steps[winner.target]
        what = (
            "an outcome that is not urgent"
            if target.kind is StepKind.OUTCOME
            else f"a {target.kind} step"
            if target.kind
            else "a step"
        )
        report.error(
            winner.target_node or winner.node,
            EMERGENCY_ONLY_TO_URGENT.say(
                f"An answer with '{found[0]}' (marked emergency: true) goes to "
                f"'{winner.target}', {what}."
            ),
            f"For example: {describe_answers(draft, keys, answers)}. Every answer with an "
            "emergency sign must go straight to an urgent outcome; put this rule first:\n"
            + _first_rule(draft, step, sorted(signs, key=step.option_ids.index)),
        )


def _first_rule(draft: FlowDraft, step: StepDraft, signs: list[str]) -> str:
    listed = ", ".join(f'"{s}"' for s in signs)
    test = (
        f"{step.id} has any of [{listed}]"
        if step.kind is StepKind.MULTI
        else (f"{step.id} in [{listed}]")
    )
    urgent = (_urgent_outcomes(draft) or ["emergency"])[0]
    return f"    - if: {test}\n      goto: {urgent}"


# --- S3 ------------------------------------------------------------------------------------------


def safety_net_to_urgent(draft: FlowDraft, report: Report) -> None:
    net = draft.safety_net
    if net is None or net.target is None or net.target_node is None:
        return
    target = draft.steps.get(net.target)
    if target is None or target.kind is None:
        return  # a step that does not exist (or has no type) is reported already
    if target.kind is not StepKind.OUTCOME:
        report.error(
            net.target_node,
            SAFETY_NET_TO_URGENT.say(
                f"The safety net must go to an urgent outcome, but '{net.target}' is a "
                f"{target.kind} step."
            ),
            "Point goto: at the emergency outcome (an outcome with urgent: true).",
        )
    elif not target.urgent:
        report.error(
            net.target_node,
            SAFETY_NET_TO_URGENT.say(
                f"The safety net goes to '{net.target}', which is not marked urgent: true."
            ),
            "The safety net fires on warning signs typed in people's own words: point goto: at "
            "the emergency outcome, or mark this outcome urgent: true if it is the emergency "
            "advice.",
        )


# --- S4 ------------------------------------------------------------------------------------------


def disclaimer_on_every_outcome(draft: FlowDraft, report: Report) -> None:
    root = draft.root
    if root is None or "disclaimer" in root.entries:
        return  # present (an empty or unreadable one is reported where it is written)
    outcomes = [s for s in draft.steps.values() if s.kind is StepKind.OUTCOME]
    if "urgent_disclaimer" in root.entries:
        outcomes = [s for s in outcomes if not s.urgent]
    if not outcomes:
        return
    names = ", ".join(f"'{s.id}'" for s in outcomes[:3]) + (" ..." if len(outcomes) > 3 else "")
    report.error(
        root.key("steps") or root,
        DISCLAIMER_ON_EVERY_OUTCOME.say(
            f"This flow has no disclaimer:, so its outcomes ({names}) would end without "
            "saying that a massage therapist cannot diagnose."
        ),
        "Add it at the top of the file, for example:\n"
        '    disclaimer: "We are massage therapists, not doctors: this check cannot diagnose '
        'anything. If you are worried, please speak to your doctor."',
    )


# --- S5 ------------------------------------------------------------------------------------------

# Emergency numbers (999 UK, 112 EU, 911 US, 000 Australia, 061 Spain's medical line) and
# urgent-care ones (111 NHS), standing alone: not inside a longer number, a price, a time or
# a phone number written in groups ("0161 999 1234").
_NUMBER = re.compile(r"(?<![\w£$€.,:/+-])(?<!\d[ -])(999|112|911|000|061|111)(?![\w%])(?![ -]?\d)")
# "Question 111", "page 112": numbers that count something, not numbers to call.
_COUNTING = frozenset(
    {"question", "pregunta", "step", "paso", "page", "página", "pagina", "room", "nº", "#"}
)
_WORD_BEFORE = re.compile(r"([#\w]+)\W*$")
_AE = re.compile(r"(?<![\w&])A ?& ?E(?![\w&])", re.IGNORECASE)
_URGENT_CARE = {"111"}


def no_hard_coded_numbers(draft: FlowDraft, report: Report) -> None:
    for use in draft.texts:
        for node in use.nodes.values():
            _numbers_in(draft, report, node)


def _numbers_in(draft: FlowDraft, report: Report, node: YScalar) -> None:
    text = node.text
    for match in [*_NUMBER.finditer(text), *_AE.finditer(text)]:
        found = match.group(0)
        before = _WORD_BEFORE.search(text[: match.start()])
        if found[0].isdigit() and before and before.group(1).lower() in _COUNTING:
            continue
        where = text_span(node, draft.lines, match.start(), found)
        if found[0].isdigit():
            urgent_care = found in _URGENT_CARE
            name = "urgent-care" if urgent_care else "emergency"
            placeholder = "{urgent_advice}" if urgent_care else "{emergency_number}"
            setting = "URGENT_ADVICE" if urgent_care else "EMERGENCY_NUMBER"
            example = "call 111 or your GP surgery today" if urgent_care else "999, 112 or 911"
            message = (
                f"'{found}' is an {name} number written into the text, but the number depends "
                "on the country."
            )
            hint = (
                f"Write {placeholder} instead: the bot fills in the {setting} setting "
                f"(e.g. {example}) for the practice's country."
            )
        else:
            message = (
                f"'{found}' is the UK's name for the emergency department, written into the "
                "text; elsewhere people would not know it."
            )
            hint = (
                "Write 'the emergency department' (and {emergency_number} for the number to "
                "call, or {urgent_advice} for urgent care that is not an emergency)."
            )
        report.error(where, NO_HARD_CODED_NUMBERS.say(message), hint)


# --- S6 ------------------------------------------------------------------------------------------

_PROMISE = re.compile(
    r"\b(why we suggest|because|the reasons? (?:below|are)|por qué te (?:lo )?(?:sugerimos|"
    r"recomendamos)|porque|debido a)\b",
    re.IGNORECASE,
)


def reasons_when_promised(draft: FlowDraft, report: Report, graph: Graph, skip: set[int]) -> None:
    walks: Walks | None = None
    for step in draft.steps.values():
        if step.kind is not StepKind.OUTCOME or step.id not in graph.reachable:
            continue
        promise = _promise(draft, step)
        if promise is None:
            continue
        if any(rule.reason is not None and rule.condition is None for rule in step.reasons):
            continue  # a reason without 'if' is always given
        rules = _reason_rules(draft, step, skip)
        if rules is None:
            continue  # an unreadable reason rule: reported already
        example: dict[str, Any] | None = {}
        if rules:
            walks = walks or Walks(draft, graph)
            example = walks.gap_example(step, [], rules)
            if example is None:
                continue
        node, match = promise
        report.warning(
            text_span(node, draft.lines, match.start(), match.group(0)),
            REASONS_WHEN_PROMISED.say(
                f"This text says '{match.group(0)}', but '{step.id}' can be reached with no "
                "reason to show."
            ),
            (
                f"For example: {describe_answers(draft, sorted(example), example)}. "
                if example
                else ""
            )
            + "Give it a reason for every way in (a rule without 'if', such as  - reason: "
            "your_reason), or word the text so that it promises no reasons.",
        )


def _promise(draft: FlowDraft, step: StepDraft) -> tuple[YScalar, re.Match[str]] | None:
    for use in draft.texts:
        if use.step != step.id or use.role not in ("step", "paragraph"):
            continue
        for node in use.nodes.values():
            match = _PROMISE.search(node.text)
            if match:
                return node, match
    return None


def _reason_rules(draft: FlowDraft, step: StepDraft, skip: set[int]) -> list[RuleDraft] | None:
    """The outcome's reason rules as routing rules ("a reason is given"), for the walks."""
    rules: list[RuleDraft] = []
    for reason in step.reasons:
        if reason.each is not None:
            source = draft.steps.get(reason.each)
            options = [o.id for o in source.options if not o.exclusive] if source else []
            if source is None or source.kind is not StepKind.MULTI or not options:
                continue
            listed = ", ".join(f'"{o}"' for o in options)
            text = f"{reason.each} has any of [{listed}]"
            tree = parse_condition(text)
            condition = Condition(text, tree, compile_condition(tree))
            rules.append(
                RuleDraft("reason", None, ConditionDraft(condition, None, []), reason.node)
            )
        elif reason.condition is not None:
            if not _readable(reason.condition, skip):
                return None
            rules.append(RuleDraft("reason", None, reason.condition, reason.node))
    return rules


# --- S7 ------------------------------------------------------------------------------------------

_ORIGIN_HINT = (
    "The files in .origin/ beside the copy are the shipped flow as it was, kept by triage-bot "
    "flows init for this check and for flows diff: never edit them. Make a fresh copy with "
    "triage-bot flows init --to another folder and carry your edits over to it."
)


def shipped_safety_kept(draft: FlowDraft, report: Report, graph: Graph, shipped: Shipped) -> None:
    root = draft.root
    assert root is not None  # validated only when the file is a group of keys
    top = root.key("flow") or root
    if shipped.draft is None:
        report.error(
            top,
            SHIPPED_SAFETY_KEPT.say(
                f"This is a practice's copy of a shipped flow, but {shipped.problem}, so the "
                "copy cannot be held to the emergency signs and the safety net it shipped with."
            ),
            _ORIGIN_HINT,
        )
        return
    origin = shipped.draft
    for question in origin.steps.values():
        signs = [o.id for o in question.options if o.emergency]
        if signs and question.is_question:
            _signs_kept(draft, report, shipped.path, question, signs)
            _asked_on_every_way(draft, report, graph, origin, question.id)
    if origin.safety_net is not None and draft.safety_net is None:
        report.error(
            top,
            SHIPPED_SAFETY_KEPT.say(
                "The shipped flow this copy was made from has a safety net (safety_net:), and "
                "this copy has none: warning signs typed in people's own words would go "
                "unnoticed."
            ),
            "Copy the safety_net: section back (S3 then makes sure it leads to the emergency "
            f"advice) from the shipped flow: {shipped.path}",
        )
    elif origin.safety_net is not None and draft.safety_net is not None and shipped.examples:
        _net_reads_as_shipped(draft, report, origin.safety_net, shipped.path, shipped.examples)


# What a copy's safety net makes of the shipped examples, by (its reading, the examples file):
# a reload checks the file, then loads it, and only the first pays (2-3 s for the
# shipped flow's 7,700 warnings and doubtful mentions; nothing when the net is the shipped one).
_LOST: dict[tuple[str, str, int], list[tuple[str, str, Verdict]]] = {}


def _net_reads_as_shipped(
    draft: FlowDraft, report: Report, origin: SafetyNetDraft, flow: str, examples: str
) -> None:
    """Every warning the shipped flow's examples send to the emergency advice still goes
    there, and every doubtful mention it asks about is still asked about (or sent there):
    words taken out of a group, or put into negations:, doubts:, ignore: or a sign's
    doubted_by:, must not cost a warning the shipped net catches."""
    copy, model = draft.safety_net, draft.safety_net_model()
    assert copy is not None
    if model is None:
        return  # no goto: the checker says so, and there is no net to read with
    reading = copy.reading()
    if reading == origin.reading():
        return
    try:
        changed = os.stat(examples).st_mtime_ns
    except OSError:
        return  # gone since the origin was read: S7 says so at the next check
    key = (hashlib.sha256(repr(reading).encode("utf-8")).hexdigest(), examples, changed)
    if key not in _LOST:
        screener = model.screener()
        _LOST.clear()  # one copy at a time is checked; keep its last verdict only
        _LOST[key] = [
            (want, text, got)
            for want, text in shipped_examples(examples)
            if (got := screener.screen(text).verdict) is not Verdict.EMERGENCY
            and (want == "emergency" or got is Verdict.NONE)
        ]
    lost = _LOST[key]
    if not lost:
        return
    warnings = sum(want == "emergency" for want, _, _ in lost)
    doubtful = len(lost) - warnings
    parts = []
    if warnings:
        parts.append(
            f"{warnings} of the shipped flow's warning example{'s' if warnings != 1 else ''} "
            "no longer get the emergency advice"
        )
    if doubtful:
        parts.append(
            f"{doubtful} of its doubtful mention{'s' if doubtful != 1 else ''} no longer get "
            "the question"
        )
    shown = ", ".join(f"“{text}” (now: {_NOW[got]})" for _, text, got in lost[:3])
    root = draft.root
    assert root is not None
    report.error(
        root.key("safety_net") or copy.node,
        SHIPPED_SAFETY_KEPT.say(
            f"With this copy's safety net, {' and '.join(parts)}, such as {shown}."
        ),
        "Put back the words taken out of its groups, or take out what was added to "
        "negations:, doubts:, ignore: or a sign's doubted_by:, until these examples alarm "
        f"again. The shipped net and its examples: {flow}, {examples}",
    )


def shipped_examples(path: str) -> list[tuple[str, str]]:
    """The origin's safety examples that must alarm: ``(verdict, text)`` for each one under
    ``emergency:`` or ``confirm:``, in every language. The file is the shipped one, checked
    against its hash in the record; anything in it that is not a list of texts is passed by.
    (bot.safety_examples reads the same format with positions and the therapist's mistakes
    in mind; the flow layer cannot import it.)"""
    try:
        data = load_yaml(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return []
    languages = data.get("examples") if isinstance(data, dict) else None
    found: list[tuple[str, str]] = []
    for by_verdict in (languages or {}).values() if isinstance(languages, dict) else ():
        if not isinstance(by_verdict, dict):
            continue
        for verdict in ("emergency", "confirm"):
            by_concept = by_verdict.get(verdict)
            for texts in by_concept.values() if isinstance(by_concept, dict) else ():
                if isinstance(texts, list):
                    found += [(verdict, text) for text in texts if isinstance(text, str)]
    return found


_NOW = {Verdict.NONE: "nothing", Verdict.CONFIRM: "the question", Verdict.EMERGENCY: "urgent"}


def _signs_kept(
    draft: FlowDraft, report: Report, origin: str, question: StepDraft, signs: list[str]
) -> None:
    """Each shipped sign is still an option (of the same question, or of another one) and
    still marked ``emergency: true``."""
    copy = draft.steps.get(question.id)
    if copy is not None and (copy.kind is None or not copy.options):
        return  # its type or its options could not be read: that mistake is reported
    language = draft.default_language
    missing: list[str] = []
    for sign in signs:
        holder = copy if copy is not None and copy.option(sign) else None
        holder = holder or next((s for s in draft.questions.values() if s.option(sign)), None)
        option = holder.option(sign) if holder is not None else None
        if holder is None or option is None:
            missing.append(sign)
            continue
        if option.emergency:
            continue
        flag = _option_entry(holder, sign, "emergency")
        if flag is not None and not (isinstance(flag, YScalar) and flag.value is False):
            continue  # 'emergency: yes please' is reported as not true or false already
        label = option.label.get(language, language)
        report.error(
            flag or holder.option_keys[sign],
            SHIPPED_SAFETY_KEPT.say(
                f"The shipped flow marks '{sign}' ({label}) as an emergency sign, and this copy "
                "no longer does."
            ),
            "Mark it again with  emergency: true  (every answer with it must then go straight "
            f"to an urgent outcome: S2 makes sure of that), as in the shipped flow: {origin}",
        )
    if not missing:
        return
    labels = {o.id: o.label.get(language, language) for o in question.options}
    names = ", ".join(f"'{sign}' ({labels[sign]})" for sign in missing)
    signs_word = "the emergency sign" if len(missing) == 1 else "the emergency signs"
    if copy is not None:
        message = (
            f"'{question.id}' does not ask about {signs_word} {names}, as the shipped flow does."
        )
    else:
        message = (
            f"The shipped flow asks about {signs_word} {names} in '{question.id}', and this "
            "copy has no such question."
        )
    root = draft.root
    assert root is not None
    report.error(
        copy.key if copy is not None else (root.key("steps") or root),
        SHIPPED_SAFETY_KEPT.say(message),
        f"Copy {'them' if len(missing) > 1 else 'it'} back, marked emergency: true, with the "
        "rule that sends every answer with an emergency sign to the urgent outcome, from the "
        f"shipped flow: {origin}",
    )


def _option_entry(step: StepDraft, option: str, key: str) -> YNode | None:
    options = step.node.get("options") if isinstance(step.node, YMap) else None
    value = options.get(option) if isinstance(options, YMap) else None
    return value.get(key) if isinstance(value, YMap) else None


def _asked_on_every_way(
    draft: FlowDraft, report: Report, graph: Graph, origin: FlowDraft, question: str
) -> None:
    """When every way to advice (an outcome that is not urgent) passes the question with the
    emergency signs in the shipped flow, it does so in the copy too."""
    if question not in draft.steps or graph.start is None or origin.start is None:
        return
    shipped_edges = {s.id: [r.target for r in s.rules if r.target] for s in origin.steps.values()}
    shipped_edges.pop(question, None)  # a way that reaches the question stops there
    passed_by = search([origin.start], shipped_edges) if origin.start != question else set()
    if not _advice(origin) or _advice(origin) & passed_by:
        return  # the shipped flow gives advice without asking it too: nothing to keep
    edges = {step: targets for step, targets in graph.edges.items() if step != question}
    path = _way_to(graph.start, _advice(draft), edges) if graph.start != question else None
    if path is None:
        return
    new_way = next(
        ((a, b) for a, b in pairwise(path) if b not in shipped_edges.get(a, [])),
        None,
    )
    at: YNode | None = draft.start_node
    if new_way is not None:
        step = draft.steps[new_way[0]]
        rule = next((r for r in step.rules if r.target == new_way[1]), None)
        at = rule.target_node if rule is not None else step.key
    report.error(
        at or draft.steps[path[-1]].key,
        SHIPPED_SAFETY_KEPT.say(
            f"In the shipped flow every way to advice passes '{question}', the question with "
            f"the emergency signs; in this copy '{path[-1]}' can be reached without it: "
            f"{' → '.join(path)}."
        ),
        f"Let every way to advice pass '{question}', as it does in the shipped flow: someone "
        f"who is never asked about the emergency signs is never sent to the emergency advice. "
        f"See {GUIDE}.",
    )


def _advice(draft: FlowDraft) -> set[str]:
    return {s.id for s in draft.steps.values() if s.kind is StepKind.OUTCOME and not s.urgent}


def _way_to(start: str, ends: set[str], edges: dict[str, list[str]]) -> list[str] | None:
    """The shortest way from ``start`` to one of ``ends`` along ``edges``, or None."""
    before: dict[str, str | None] = {start: None}
    queue = deque([start])
    while queue:
        step = queue.popleft()
        if step in ends:
            path = [step]
            while (previous := before[path[-1]]) is not None:
                path.append(previous)
            return path[::-1]
        for target in edges.get(step, ()):
            if target not in before:
                before[target] = step
                queue.append(target)
    return None
