"""Check each condition against the questions it reads.

A name must be a question asked before the rule (its id is its answer key); an option id
must be one of that question's options; values must have the right type for the question:
an option id in quotes for a choice, a number for a number question, ``has``/``in`` for a
multi-select. Mistakes are pointed at the exact spot inside the condition.
"""

from __future__ import annotations

from bot.flow.analysis import AnswerSet, Graph
from bot.flow.conditions import And, Compare, ListLiteral, Literal, Name, Node, Not, Or
from bot.flow.cover import show
from bot.flow.draft import ConditionDraft, FlowDraft, StepDraft
from bot.flow.errors import did_you_mean, listing
from bot.flow.model import StepKind
from bot.flow.report import Report

ORDERED = ("<", "<=", ">", ">=")
FLIPPED = {"<": ">", "<=": ">=", ">": "<", ">=": "<=", "==": "==", "!=": "!="}
KIND_WORDS = {
    StepKind.CHOICE: "a single choice",
    StepKind.MULTI: "a multi-select",
    StepKind.NUMBER: "a number question",
}


def check_conditions(draft: FlowDraft, report: Report, graph: Graph) -> set[int]:
    """Report every naming and type mistake; return the ids of conditions not to analyse."""
    skip: set[int] = set()
    for step in draft.steps.values():
        for rule in step.rules:
            if rule.condition is not None:
                available = graph.answerable_at(step, own=True)
                _Checker(draft, report, graph, rule.condition, available, skip).run()
        # Reasons and paragraphs of an outcome read the answers given on the way to it.
        shown = [r.condition for r in step.reasons] + [p.condition for p in step.more]
        for condition in shown:
            if condition is not None:
                available = graph.answerable_at(step, own=False)
                _Checker(draft, report, graph, condition, available, skip).run()
    return skip


def _length(node: Node) -> int:
    if isinstance(node, Name):
        return len(node.key)
    if isinstance(node, Literal):
        return len(show(node))
    return 1


class _Checker:
    def __init__(
        self,
        draft: FlowDraft,
        report: Report,
        graph: Graph,
        condition: ConditionDraft,
        available: AnswerSet | None,
        skip: set[int],
    ) -> None:
        self.draft = draft
        self.report = report
        self.graph = graph
        self.shown_op = "=="
        self.condition = condition
        self.available = available
        self.skip = skip

    def run(self) -> None:
        if self.condition.condition is None:
            self.skip.add(id(self.condition))
            return
        self.visit(self.condition.condition.tree)

    def problem(self, node: Node, message: str, hint: str = "", length: int | None = None) -> None:
        self.skip.add(id(self.condition))
        size = _length(node) if length is None else length
        self.report.error(self.condition.span(node.column, size), message, hint)

    # -- walking ------------------------------------------------------------------------------

    def visit(self, node: Node) -> None:
        if isinstance(node, Compare):
            self.compare(node)
        elif isinstance(node, Not):
            self.visit(node.operand)
        elif isinstance(node, And | Or):
            for operand in node.operands:
                self.visit(operand)
        elif isinstance(node, Name):
            self.question(node)
        elif isinstance(node, Literal) and not isinstance(node.value, bool):
            self.problem(
                node,
                f"{show(node)} on its own is only a value, not a check.",
                'Compare it with an answer, for example: location == "buttock"',
            )

    def question(self, name: Name, partner: Name | None = None, op: str = "==") -> StepDraft | None:
        """The question ``name`` reads, or ``None`` after reporting why it cannot. ``partner``
        is the name on the other side of a comparison: ``sitting == yes`` most likely means
        the option 'yes' of 'sitting', whatever other question has a 'yes' too."""
        key = name.key
        step = self.draft.steps.get(key)
        questions = list(self.draft.questions)
        if step is not None and step.is_question:
            reached = self.graph.reachable
            if self.available is not None and key not in self.available and key in reached:
                self.problem(
                    name,
                    f"'{key}' is never answered before this point, so every check of it "
                    "here is false.",
                    f"The question '{key}' is only asked later (or on another path). Move "
                    "this rule to a step after it, or ask it earlier.",
                )
                return None
            return step
        self.skip.add(id(self.condition))
        if step is not None:
            if step.kind is not None:
                self.problem(
                    name,
                    f"'{key}' is {'an' if step.kind is StepKind.OUTCOME else 'a'} {step.kind} "
                    "step, not a question, so it has no answer to check.",
                    did_you_mean(key, questions, "Questions"),
                )
            return None
        owners = [q.id for q in self.draft.questions.values() if q.option(key) is not None]
        if partner is not None and partner.key in owners:
            owners.insert(0, partner.key)
        if owners:
            example = f'{owners[0]} {op if partner is not None else "=="} "{key}"'
            self.problem(
                name,
                f"'{key}' is not a question. If you mean the option '{key}' of "
                f"'{owners[0]}', put it in quotes: \"{key}\".",
                f"For example: {example}",
            )
            return None
        self.problem(
            name,
            f"'{key}' is not a question in this flow.",
            did_you_mean(key, questions, "Questions")
            + " A question's id is the name of its answer.",
        )
        return None

    # -- comparisons --------------------------------------------------------------------------

    def compare(self, node: Compare) -> None:
        left, right, op = node.left, node.right, node.op
        nested = [side for side in (left, right) if isinstance(side, Compare | And | Or | Not)]
        if nested:
            for side in nested:
                self.visit(side)
            self.skip.add(id(self.condition))  # too clever to analyse; it still runs
            return
        if isinstance(left, Name) and isinstance(right, Name):
            self.two_questions(node, left, right)
            return
        if isinstance(left, Name):
            name, value, flipped = left, right, False
        elif isinstance(right, Name):
            name, value, flipped = right, left, True
        else:
            self.problem(
                node,
                f"'{show(node)}' compares two fixed values, so it never changes.",
                "Put the name of a question on one side.",
                length=len(op),
            )
            return
        question = self.question(name)
        if question is None or question.kind is None:
            return
        assert isinstance(value, Literal | ListLiteral)
        self.shown_op = FLIPPED.get(op, op) if flipped else op  # as if the name came first
        if op in ("in", "not in"):
            self.membership(node, question, name, value, flipped)
        elif op.startswith("has"):
            self.has(node, question, name, value, flipped)
        elif op in ("==", "!="):
            self.equality(node, question, name, value)
        else:
            self.ordered(node, question, name, value)

    def two_questions(self, node: Compare, left: Name, right: Name) -> None:
        self.skip.add(id(self.condition))
        flipped = FLIPPED.get(node.op, node.op)
        found = [self.question(left, right, flipped), self.question(right, left, node.op)]
        if node.op in ORDERED:
            for side, question in zip((left, right), found, strict=True):
                if question is not None and question.kind is not StepKind.NUMBER:
                    self.not_a_number(node, question, side)
                    return

    def not_a_number(self, node: Compare, question: StepDraft, name: Name) -> None:
        self.problem(
            node,
            f"'{node.op}' compares numbers, but '{name.key}' is "
            f"{KIND_WORDS.get(question.kind or StepKind.CHOICE, 'not a number')}.",
            f"To check which option was chosen use == or in, for example: "
            f'{name.key} == "{(question.option_ids or ["option"])[0]}"',
            length=len(node.op),
        )

    def membership(
        self,
        node: Compare,
        question: StepDraft,
        name: Name,
        value: Literal | ListLiteral,
        flipped: bool,
    ) -> None:
        key, kind = name.key, question.kind
        if flipped:  # "x" in key
            if kind is StepKind.MULTI and isinstance(value, Literal):
                self.option(question, value)
            elif kind is StepKind.MULTI:
                self.problem(
                    node,
                    f"A list cannot be '{node.op}' the ticks of '{key}'.",
                    f"To check for any of several ticks write: {key} has any of {show(value)}",
                    length=len(node.op),
                )
            else:
                example = (
                    f'{key} == "{value.value}"'
                    if isinstance(value, Literal)
                    else f"{key} in {show(value)}"
                )
                self.problem(
                    node,
                    f"'{key}' holds one answer, not a list of ticks, so '{node.op}' does not "
                    "work this way round.",
                    f"Write: {example}",
                    length=len(node.op),
                )
            return
        # key in [...]
        if kind is StepKind.MULTI:
            self.problem(
                node,
                f"'{key}' is a multi-select (a list of ticks); '{node.op}' with a list does "
                "not check its ticks.",
                f"Write: {key} has any of {show(value)}   (or has all of / has none of)",
                length=len(node.op),
            )
            return
        if isinstance(value, Literal):
            self.problem(
                value,
                f"After '{node.op}' comes a list in [square brackets].",
                f"Write: {key} {node.op} [{show(value)}]   or   {key} == {show(value)}",
            )
            return
        for item in value.items:
            self.value(question, name, item)

    def has(
        self,
        node: Compare,
        question: StepDraft,
        name: Name,
        value: Literal | ListLiteral,
        flipped: bool,
    ) -> None:
        key = name.key
        if flipped:
            self.problem(
                node,
                f"'{node.op}' needs the question first.",
                f"Write: {key} {node.op} {show(value)}",
                length=len(node.op),
            )
            return
        if question.kind is StepKind.NUMBER:
            self.problem(
                node,
                f"'{node.op}' checks the ticks of a multi-select, but '{key}' is a number "
                "question.",
                f"Compare numbers with ==, <, <=, >, >=, for example: {key} >= 7",
                length=len(node.op),
            )
            return
        items = value.items if isinstance(value, ListLiteral) else (value,)
        for item in items:
            self.option(question, item)

    def equality(
        self, node: Compare, question: StepDraft, name: Name, value: Literal | ListLiteral
    ) -> None:
        key = name.key
        if isinstance(value, ListLiteral):
            self.problem(
                node,
                f"'{node.op}' compares with one value, not a list.",
                f"To allow several values write: {key} {'in' if node.op == '==' else 'not in'} "
                f"{show(value)}",
                length=len(node.op),
            )
            return
        if question.kind is StepKind.MULTI:
            self.problem(
                node,
                f"'{key}' is a multi-select (a list of ticks), so '{node.op}' never matches "
                "one option.",
                f'Write: {key} has "{value.value}"   (or "{value.value}" in {key})',
                length=len(node.op),
            )
            return
        self.value(question, name, value, self.shown_op)

    def ordered(
        self, node: Compare, question: StepDraft, name: Name, value: Literal | ListLiteral
    ) -> None:
        if question.kind is not StepKind.NUMBER:
            self.not_a_number(node, question, name)
            return
        if isinstance(value, ListLiteral):
            self.problem(value, f"'{node.op}' compares with one number, not a list.")
            return
        self.value(question, name, value, self.shown_op)

    # -- values -------------------------------------------------------------------------------

    def value(self, question: StepDraft, name: Name, value: Literal, op: str = "==") -> None:
        """A value compared with the answer to ``question`` has the answer's type."""
        key = name.key
        literal = value.value
        if question.kind is StepKind.NUMBER:
            if isinstance(literal, bool) or not isinstance(literal, int | float):
                digits = str(literal).strip()
                hint = (
                    f"Remove the quotes: {key} {op} {digits}"
                    if digits.lstrip("-").isdigit()
                    else f"'{key}' is a number from {question.minimum} to {question.maximum}; "
                    "compare it with a number, for example 7."
                )
                self.problem(
                    value,
                    f"{show(value)} is a text, but '{key}' is a number, so this never matches.",
                    hint,
                )
            return
        self.option(question, value)

    def option(self, question: StepDraft, value: Literal) -> None:
        literal = value.value
        key = question.id
        options = question.option_ids
        if not options:
            self.skip.add(id(self.condition))
            return  # its options could not be read: reported there
        if isinstance(literal, bool) or not isinstance(literal, str):
            what = "the value" if isinstance(literal, bool) else "the number"
            kind = KIND_WORDS.get(question.kind or StepKind.CHOICE, "a question")
            self.problem(
                value,
                f"'{key}' is {kind}: its answers are option ids, not {what} {show(value)}.",
                f"Compare it with an option id in quotes. Options of '{key}' are: "
                f"{listing(options)}.",
            )
            return
        if literal in options:
            return
        elsewhere = [
            q.id for q in self.draft.questions.values() if q.id != key and q.option(literal)
        ]
        message = f"'{literal}' is not an option of '{key}'."
        if elsewhere:
            message = (
                f"'{literal}' is not an option of '{key}' (it is an option of '{elsewhere[0]}')."
            )
        self.problem(value, message, did_you_mean(literal, options, f"Options of '{key}'"))
