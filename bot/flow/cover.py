"""Which answers each rule catches: rules that can never hold, rules hidden behind earlier
ones, and answers that no rule catches (a gap with no default).

Answers come from small finite sets, so instead of reasoning about conditions we try every
combination that matters and run the real compiled conditions on it:

* a choice: each option the rules mention, and one they don't (it stands for the rest);
* a multi-select: every set of ticks over the options the rules mention plus one option they
  don't ("something else"), with an exclusive option ("none") only ever alone;
* a number: min, max, and each number a rule mentions with its neighbours (±1);
* "not answered", when the question is not answered on every path to the step.

Only the questions the step's rules read are combined. When the combinations would be too
many the step is skipped silently: the check must stay fast on big flows.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bot.flow.analysis import AnswerSet, Graph
from bot.flow.conditions import Compare, ListLiteral, Literal, Name, Node, compile_condition, walk
from bot.flow.domains import domain
from bot.flow.draft import ConditionDraft, FlowDraft, RuleDraft, StepDraft
from bot.flow.model import StepKind
from bot.flow.report import Report
from bot.flow.walks import Walks

MAX_COMBINATIONS = 4096  # per step
MAX_EVALUATIONS = 200_000  # per flow: a bound on the whole analysis


class _Unanswered:
    __slots__ = ()

    def __repr__(self) -> str:
        return "<not answered>"


UNANSWERED: Any = _Unanswered()


@dataclass(slots=True)
class Budget:
    left: int = MAX_EVALUATIONS

    def spend(self, amount: int) -> bool:
        if amount > self.left:
            return False
        self.left -= amount
        return True


# --- domains ---------------------------------------------------------------------------------


def _mentioned(trees: Sequence[Node], key: str) -> list[Any]:
    """Literal values compared with ``key`` anywhere in these conditions."""
    values: list[Any] = []
    for tree in trees:
        for node in walk(tree):
            if not isinstance(node, Compare):
                continue
            for side, other in ((node.left, node.right), (node.right, node.left)):
                if isinstance(side, Name) and side.key == key:
                    if isinstance(other, Literal):
                        values.append(other.value)
                    elif isinstance(other, ListLiteral):
                        values.extend(item.value for item in other.items)
    return values


def _space(
    draft: FlowDraft,
    trees: Sequence[Node],
    answered: AnswerSet,
    *,
    also: Mapping[str, Sequence[Any]] | None = None,
) -> tuple[list[str], list[list[Any]]] | None:
    """The questions these conditions read and the answers worth trying for each, or
    ``None`` when they would be too many. ``also`` adds questions (and values of theirs that
    must each be tried) that the conditions may not name."""
    extra = also or {}
    keys = sorted({n.key for tree in trees for n in walk(tree) if isinstance(n, Name)} | set(extra))
    domains: list[list[Any]] = []
    size = 1
    for key in keys:
        question = draft.steps.get(key)
        if question is None or not question.is_question:
            return None
        values = list(domain(question, [*_mentioned(trees, key), *extra.get(key, ())]))
        if not values:
            return None  # a question that could not be read (no options, no min/max)
        if key not in answered:
            values.append(UNANSWERED)
        domains.append(values)
        size *= len(values)
        if size > MAX_COMBINATIONS:
            return None
    return keys, domains


def _combinations(keys: list[str], domains: list[list[Any]]) -> Iterator[dict[str, Any]]:
    """Every combination of the answers in ``domains`` ("not answered" left out)."""
    for values in itertools.product(*domains):
        yield {k: v for k, v in zip(keys, values, strict=True) if v is not UNANSWERED}


# --- words -----------------------------------------------------------------------------------


def describe_answers(draft: FlowDraft, keys: list[str], answers: dict[str, Any]) -> str:
    parts = []
    for key in keys:
        if key not in answers:
            parts.append(f"'{key}' not answered")
            continue
        value = answers[key]
        if isinstance(value, list):
            ticks = ", ".join(f"'{v}'" for v in value)
            parts.append(f"'{key}' with {ticks} ticked")
        elif isinstance(value, str):
            parts.append(f"'{key}' is '{value}'")
        else:
            parts.append(f"'{key}' is {value}")
    return " and ".join(parts) if parts else "any answers"


# --- the checks ------------------------------------------------------------------------------


def analyse_rules(draft: FlowDraft, report: Report, graph: Graph, skip: set[int]) -> None:
    """Impossible, hidden and missing rules of every step; reason rules and paragraphs that
    can never be shown.

    ``skip`` holds the ids of condition drafts that already have a problem (or compare two
    answers with each other): their steps are not analysed, to avoid a second report.
    """
    budget = Budget()
    walks = Walks(draft, graph)
    for step in draft.steps.values():
        if step.id not in graph.reachable:
            continue
        answered = graph.answered_by_rules(step)
        if answered is None:
            continue
        if step.rules:
            _routes(draft, report, step, answered, skip, budget, walks)
        must = graph.must(step.id) or AnswerSet(0, {})
        for rule in step.reasons:
            if rule.condition is not None:
                _never_holds(draft, report, rule.condition, must, skip, budget, _NO_REASON)
        for paragraph in step.more:
            if paragraph.condition is not None:
                _never_holds(draft, report, paragraph.condition, must, skip, budget, _NO_PARAGRAPH)


def _usable(condition: ConditionDraft | None, skip: set[int]) -> bool:
    return condition is None or (condition.condition is not None and id(condition) not in skip)


def _routes(
    draft: FlowDraft,
    report: Report,
    step: StepDraft,
    answered: AnswerSet,
    skip: set[int],
    budget: Budget,
    walks: Walks,
) -> None:
    rules = step.rules
    default = next((i for i, rule in enumerate(rules) if rule.condition is None), None)
    if default is not None:
        rules = rules[: default + 1]  # rules after a default are reported when read
    if not all(_usable(rule.condition, skip) for rule in rules):
        return
    conditional = [r for r in rules if r.condition is not None]
    if not conditional:
        return
    trees = [
        r.condition.condition.tree for r in conditional if r.condition and r.condition.condition
    ]
    space = _space(draft, trees, answered)
    if space is None:
        return
    keys, domains = space
    tests = [
        r.condition.condition.test if r.condition and r.condition.condition else None for r in rules
    ]
    if not budget.spend(math.prod(len(d) for d in domains) * len(rules)):
        return
    ever_true = [False] * len(rules)
    ever_first = [False] * len(rules)
    hidden_by: list[set[int]] = [set() for _ in rules]
    gap: dict[str, Any] | None = None
    unproven = len(rules)  # rules not yet seen winning; with a default, 0 means all is well
    for answers in _combinations(keys, domains):
        if unproven == 0 and default is not None:
            break
        first = -1
        for index, test in enumerate(tests):
            if test is None or test(answers):
                ever_true[index] = True
                if first < 0:
                    first = index
                    if not ever_first[index]:
                        ever_first[index] = True
                        unproven -= 1
                else:
                    hidden_by[index].add(first)
        if first < 0 and gap is None:
            gap = answers
    if gap is not None:
        own = domains[keys.index(step.id)] if step.id in keys else []
        gap = walks.gap_example(step, [v for v in own if v is not UNANSWERED]) or gap
    _report_routes(draft, report, step, rules, keys, ever_true, ever_first, hidden_by, gap)


def _report_routes(
    draft: FlowDraft,
    report: Report,
    step: StepDraft,
    rules: list[RuleDraft],
    keys: list[str],
    ever_true: list[bool],
    ever_first: list[bool],
    hidden_by: list[set[int]],
    gap: dict[str, Any] | None,
) -> None:
    for index, rule in enumerate(rules):
        condition = rule.condition
        if condition is None or condition.node is None or condition.condition is None:
            continue
        where = condition.span(0, len(condition.condition.source))
        if not ever_true[index]:
            report.error(
                where,
                "No answer can make this rule true, so it is never used.",
                impossible_hint(draft, condition),
            )
        elif not ever_first[index]:
            lines = sorted({rules[i].node.span.line for i in hidden_by[index]})
            which = (
                f"the rule on line {lines[0]}"
                if len(lines) == 1
                else "the rules on lines " + ", ".join(map(str, lines))
            )
            report.error(
                where,
                f"This rule is never used: every answer it catches is already caught by {which}.",
                "Rules are tried from the top and the first that holds wins. Move this rule "
                "above the other if it should win, or remove it.",
            )
    if gap is not None:
        report.error(
            step.next_key or step.key,
            f"Some answers match none of the rules of '{step.id}', and there is no rule "
            "without 'if' for everything else, so the conversation would get stuck.",
            f"For example: {describe_answers(draft, keys, gap)}. Add a last rule  "
            "- goto: step_id  (without 'if') for the answers no rule catches.",
        )


_NO_REASON = "No answer can make this reason's rule true, so the reason is never given."
_NO_PARAGRAPH = "No answer can make this paragraph's condition true, so it is never shown."


def _never_holds(
    draft: FlowDraft,
    report: Report,
    condition: ConditionDraft,
    answered: AnswerSet,
    skip: set[int],
    budget: Budget,
    message: str,
) -> None:
    """Report ``message`` when no combination of answers makes ``condition`` true."""
    if not _usable(condition, skip) or condition.condition is None:
        return
    space = _space(draft, [condition.condition.tree], answered)
    if space is None:
        return
    keys, domains = space
    if not budget.spend(math.prod(len(d) for d in domains)):
        return
    test = condition.condition.test
    if any(test(answers) for answers in _combinations(keys, domains)):
        return
    report.error(
        condition.span(0, len(condition.condition.source)),
        message,
        impossible_hint(draft, condition),
    )


def show(node: Node) -> str:
    """A comparison written back as text, e.g. ``severity > 10``."""
    if isinstance(node, Name):
        return node.key
    if isinstance(node, Literal):
        return f'"{node.value}"' if isinstance(node.value, str) else str(node.value).lower()
    if isinstance(node, ListLiteral):
        return "[" + ", ".join(show(item) for item in node.items) + "]"
    if isinstance(node, Compare):
        return f"{show(node.left)} {node.op} {show(node.right)}"
    return "..."


def impossible_hint(draft: FlowDraft, condition: ConditionDraft) -> str:
    """Point at the part of a condition that can never hold, or explain the 'and'."""
    assert condition.condition is not None
    tree = condition.condition.tree
    for node in walk(tree):
        if not isinstance(node, Compare):
            continue
        name = node.left if isinstance(node.left, Name) else node.right
        if not isinstance(name, Name):
            continue
        question = draft.steps.get(name.key)
        if question is None:
            continue
        values = domain(question, _mentioned([node], name.key))
        test = compile_condition(node)
        if any(test({name.key: value}) for value in values):
            continue
        if question.kind is StepKind.NUMBER:
            return (
                f"'{name.key}' is always from {question.minimum} to {question.maximum} (its min "
                f"and max), so '{show(node)}' never holds."
            )
        return f"'{show(node)}' never holds, whatever the answer to '{name.key}'."
    return (
        "Its parts can each be true, but never all at once (check each 'and' and 'not'). "
        "An answer that was not given makes every comparison with it false."
    )


answer_space = _space
combinations = _combinations
