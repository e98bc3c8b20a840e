"""Rules in plain words for the clinician's review page (:mod:`bot.review`).

A routing condition such as ``emergency_flags has any of ["saddle_numbness", "both_legs"]``
becomes "at *emergency_flags*, any of “Numb between legs” (saddle_numbness), “Both legs”
(both_legs) is ticked": each answer named by its question id (linked to the question), each
option by its label in the flow's first language with its id beside it, numbers compared in
words ("is 7 or more"). Parts joined by ``and``/``or`` keep brackets where they mix, so the
grouping of the rule as written is never lost. Anything the words below do not cover is shown
as written. Every piece of text is escaped here; the result is HTML.
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.flow.conditions import And, Compare, ListLiteral, Literal, Name, Node, Not, Or
from bot.flow.model import Flow, Step, StepKind
from bot.review_html import esc, tag

_NUMBER_WORDS = {
    "==": "is",
    "!=": "is not",
    "<": "is under",
    "<=": "is at most",
    ">": "is over",
    ">=": "is at least",
}


def source(node: Node) -> str:
    """A condition written back as text (plain, not HTML)."""
    if isinstance(node, Name):
        return node.key
    if isinstance(node, Literal):
        if isinstance(node.value, bool):
            return "true" if node.value else "false"
        return f'"{node.value}"' if isinstance(node.value, str) else str(node.value)
    if isinstance(node, ListLiteral):
        return "[" + ", ".join(source(item) for item in node.items) + "]"
    if isinstance(node, Compare):
        return f"{source(node.left)} {node.op} {source(node.right)}"
    if isinstance(node, Not):
        return f"not {_bracketed_source(node.operand)}"
    word = " and " if isinstance(node, And) else " or "
    return word.join(_bracketed_source(part) for part in node.operands)


def _bracketed_source(node: Node) -> str:
    text = source(node)
    return f"({text})" if isinstance(node, And | Or) else text


class Words:
    """Conditions of one flow in plain words (HTML)."""

    def __init__(self, flow: Flow) -> None:
        self.flow = flow
        self.language = flow.default_language

    # -- names --------------------------------------------------------------------------------

    def question(self, key: str) -> str:
        if key in self.flow.steps:
            return tag("a", esc(key), href=f"#step-{key}", class_="q")
        return tag("code", esc(key))

    def option(self, step: Step | None, value: object) -> str:
        option = step.option(str(value)) if step is not None else None
        if option is None:
            return esc(f"“{value}”")
        label = option.label.get(self.language, self.language)
        return f"“{esc(label)}” " + tag("span", esc(option.id), class_="id")

    def options(self, step: Step | None, values: Sequence[object], joiner: str) -> str:
        shown = [self.option(step, value) for value in values]
        if len(shown) <= 1:
            return "".join(shown)
        return ", ".join(shown[:-1]) + f" {joiner} " + shown[-1]

    # -- conditions ---------------------------------------------------------------------------

    def condition(self, node: Node) -> str:
        if isinstance(node, And | Or):
            word = "and" if isinstance(node, And) else "or"
            joiner = " " + tag("span", word, class_="op") + " "
            return joiner.join(self._part(operand) for operand in node.operands)
        if isinstance(node, Not):
            return tag("span", "not", class_="op") + " (" + self.condition(node.operand) + ")"
        if isinstance(node, Compare):
            words = self._compare(node)
            if words is not None:
                return words
        if isinstance(node, Name):
            return f"{self.question(node.key)} has been answered"
        if isinstance(node, Literal) and isinstance(node.value, bool):
            return "always" if node.value else "never"
        return tag("code", esc(source(node)))

    def _part(self, node: Node) -> str:
        words = self.condition(node)
        return f"({words})" if isinstance(node, And | Or) else words

    def _compare(self, node: Compare) -> str | None:
        left, right = node.left, node.right
        if isinstance(left, Literal) and isinstance(right, Name) and node.op in ("in", "has"):
            # "weakness" in leg_symptoms: the option is ticked
            return self._ticked(right.key, [left.value], "all")
        if not isinstance(left, Name):
            return None
        step = self.flow.steps.get(left.key)
        if step is None:
            return None
        if step.kind is StepKind.NUMBER:
            return self._number(left.key, node.op, right)
        if step.kind is StepKind.MULTI and node.op.startswith("has"):
            values = _values(right)
            mode = node.op.split()[1] if " " in node.op else "all"
            return None if values is None else self._ticked(left.key, values, mode)
        if step.kind is StepKind.CHOICE:
            return self._choice(step, node.op, right)
        return None

    def _number(self, key: str, op: str, right: Node) -> str | None:
        if op in _NUMBER_WORDS and isinstance(right, Literal):
            return f"{self.question(key)} {_NUMBER_WORDS[op]} {esc(right.value)}"
        if op in ("in", "not in") and isinstance(right, ListLiteral):
            values = ", ".join(esc(item.value) for item in right.items)
            word = "is one of" if op == "in" else "is none of"
            return f"{self.question(key)} {word} {values}"
        return None

    def _choice(self, step: Step, op: str, right: Node) -> str | None:
        values = _values(right)
        if values is None:
            return None
        key = self.question(step.id)
        if op == "==":
            return f"{key} is {self.options(step, values, 'or')}"
        if op == "!=":
            return f"{key} is not {self.options(step, values, 'or')}"
        if op in ("in", "has any of", "has"):
            return f"{key} is {self.options(step, values, 'or')}"
        if op in ("not in", "has none of"):
            return f"{key} is neither {self.options(step, values, 'nor')}"
        return None

    def _ticked(self, key: str, values: Sequence[object], mode: str) -> str:
        step = self.flow.steps.get(key)
        where = f"at {self.question(key)}"
        if len(values) == 1:
            ticked = "is not ticked" if mode == "none" else "is ticked"
            return f"{self.option(step, values[0])} {ticked} {where}"
        if mode == "all":
            return f"all of {self.options(step, values, 'and')} are ticked {where}"
        listed = self.options(step, values, "or")
        if mode == "none":
            return f"none of {listed} is ticked {where}"
        return f"any of {listed} is ticked {where}"


def _values(node: Node) -> list[object] | None:
    if isinstance(node, Literal):
        return [node.value]
    if isinstance(node, ListLiteral):
        return [item.value for item in node.items]
    return None
