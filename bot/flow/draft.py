"""What the reader understood of a flow file, with the place of every piece.

A draft may be incomplete (a broken condition, a step without a type): the checks that
follow work on whatever could be read, so that the therapist sees every problem at once.
Only a draft without errors becomes a :class:`~bot.flow.model.Flow`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from bot.flow.keys import DEFAULT_LABEL_LIMIT
from bot.flow.model import (
    Condition,
    Flow,
    LocalText,
    Option,
    Paragraph,
    ReasonRule,
    Route,
    SafetyConcept,
    SafetyNet,
    Step,
    StepKind,
    Where,
)
from bot.flow.positions import Span
from bot.flow.safety import Concept
from bot.flow.source import YMap, YNode, YScalar


@dataclass(eq=False, slots=True)
class ConditionDraft:
    condition: Condition | None  # None when it could not be read (already reported)
    node: YScalar | None
    lines: list[str]

    def span(self, offset: int = 0, length: int = 0) -> Span:
        """The place of ``offset`` (0-based) inside the condition text, as written in YAML."""
        assert self.node is not None
        if offset == 0 and length >= len(self.node.text):
            return condition_span(self.node, self.lines, offset, length)
        # Inside a condition written over several lines, look for the piece itself.
        piece = self.node.text[offset : offset + max(1, length)]
        return text_span(self.node, self.lines, offset, piece)


def condition_span(node: YScalar, lines: list[str], offset: int, length: int) -> Span:
    start = node.span
    if node.style in (None, "'", '"') and start.end_column is not None:
        shift = 1 if node.quoted else 0
        line = lines[start.line - 1] if start.line <= len(lines) else ""
        first = start.column - 1 + shift
        # Escapes ('' or \") would shift the columns; only map when the text is verbatim.
        if line[first : first + len(node.text)] == node.text:
            column = first + 1 + offset
            return Span(start.line, column, column + max(1, length))
    return start


def text_span(node: YScalar, lines: list[str], offset: int, needle: str) -> Span:
    """The place of ``needle`` (found at ``offset`` in the text) as written in the file.

    Texts over several lines (``>-`` or ``|``) are searched line by line, since folding
    changes the offsets.
    """
    span = condition_span(node, lines, offset, len(needle))
    if span != node.span or node.span.end_column is not None:
        return span
    first = node.span.line - 1
    last = min(len(lines), first + 2 + len(node.text))  # a folded line holds >= 1 character
    escaped = re.escape(needle)
    pattern = re.compile(rf"\b{escaped}\b" if needle.isidentifier() else escaped)
    for index in range(first, last):
        match = pattern.search(lines[index], node.span.column - 1 if index == first else 0)
        if match:
            return Span(index + 1, match.start() + 1, match.end() + 1)
    return span


@dataclass(eq=False, slots=True)
class RuleDraft:
    """A route: ``goto`` a step, when ``if`` holds (or always)."""

    target: str | None
    target_node: YNode | None
    condition: ConditionDraft | None
    node: YNode  # the rule as written (the `next:` value for a plain `next: step`)

    @property
    def is_default(self) -> bool:
        return self.condition is None


@dataclass(eq=False, slots=True)
class ReasonDraft:
    reason: str | None
    condition: ConditionDraft | None
    each: str | None
    each_node: YNode | None
    node: YNode


@dataclass(eq=False, slots=True)
class ParagraphDraft:
    """A paragraph of an outcome's ``more:``; ``text`` is None when it could not be read."""

    text: LocalText | None
    condition: ConditionDraft | None
    node: YNode


@dataclass(eq=False, slots=True)
class TextUse:
    """A text as written, with where and how it is shown (for the text checks)."""

    text: LocalText
    node: YNode
    nodes: dict[str, YScalar]  # language -> the scalar holding that text
    role: str  # step | paragraph | label | reason | disclaimer | urgent_disclaimer | ...
    step: str | None = None  # the step showing it, for step texts and labels
    plain: bool = False  # written as one string, not per language
    ui_key: str | None = None
    complete: bool = True  # False when a language key was wrong (reported already)
    option: str | None = None  # for a label: the option it names


@dataclass(eq=False, slots=True)
class StepDraft:
    id: str
    key: YScalar
    node: YNode
    kind: StepKind | None = None
    text: LocalText | None = None
    options: list[Option] = field(default_factory=list)
    option_keys: dict[str, YScalar] = field(default_factory=dict)
    minimum: int | None = None
    maximum: int | None = None
    columns: int = 1
    urgent: bool = False
    booking: bool = False
    offers: tuple[str, ...] | None = None  # the outcome's offers: list, when it has one
    rules: list[RuleDraft] = field(default_factory=list)
    next_key: YScalar | None = None
    reasons: list[ReasonDraft] = field(default_factory=list)
    more: list[ParagraphDraft] = field(default_factory=list)

    @property
    def is_question(self) -> bool:
        return self.kind in (StepKind.CHOICE, StepKind.MULTI, StepKind.NUMBER)

    def option(self, option_id: str) -> Option | None:
        for option in self.options:
            if option.id == option_id:
                return option
        return None

    @property
    def option_ids(self) -> list[str]:
        return [option.id for option in self.options]


@dataclass(eq=False, slots=True)
class SafetyNetDraft:
    target: str | None
    target_node: YNode | None
    node: YMap
    words: dict[str, dict[str, tuple[str, ...]]] = field(default_factory=dict)
    negations: dict[str, tuple[str, ...]] = field(default_factory=dict)
    doubts: dict[str, tuple[str, ...]] = field(default_factory=dict)
    ignore: dict[str, tuple[str, ...]] = field(default_factory=dict)
    concepts: list[ConceptDraft] = field(default_factory=list)

    def reading(self) -> tuple[object, ...]:
        """Everything that decides what the net makes of a message, and nothing else (not
        where it stands in the file, nor how a sign is named): equal readings, equal verdicts."""
        return (
            self.words,
            self.negations,
            self.doubts,
            self.ignore,
            [concept.concept() for concept in self.concepts],
        )


@dataclass(frozen=True, slots=True)
class ClauseDraft:
    groups: tuple[str, ...]
    node: YNode


@dataclass(frozen=True, slots=True)
class ConceptDraft:
    id: str
    key: YNode
    sign: LocalText | None
    when: tuple[ClauseDraft, ...]
    ask: tuple[ClauseDraft, ...]
    near: int
    doubted_by: tuple[ClauseDraft, ...] = ()

    def concept(self) -> Concept:
        return Concept(
            self.id,
            tuple(clause.groups for clause in self.when),
            tuple(clause.groups for clause in self.ask),
            self.near,
            tuple(group for clause in self.doubted_by for group in clause.groups),
        )


@dataclass(frozen=True, slots=True)
class Shipped:
    """The shipped flow a practice's copy was made from (bot.flow.origin), as read, or the
    reason it cannot be trusted."""

    path: str  # the origin copy, <folder>/.origin/<flow>.yaml
    draft: FlowDraft | None
    problem: str | None = None  # e.g. "... was changed since flows init wrote it"
    examples: str | None = None  # its safety examples, <folder>/.origin/<flow>.safety.yaml


@dataclass(eq=False, slots=True)
class FlowDraft:
    file: str
    lines: list[str]
    id: str = ""
    version: int = 0
    title: LocalText | None = None
    languages: tuple[str, ...] = ("en",)
    start: str | None = None
    start_node: YNode | None = None
    steps: dict[str, StepDraft] = field(default_factory=dict)
    disclaimer: LocalText | None = None
    urgent_disclaimer: LocalText | None = None
    safety_line: LocalText | None = None
    safety_net: SafetyNetDraft | None = None
    reasons: dict[str, LocalText] = field(default_factory=dict)
    reason_keys: dict[str, YScalar] = field(default_factory=dict)
    safety_net_groups: dict[str, YScalar] = field(default_factory=dict)
    ui: dict[str, LocalText] = field(default_factory=dict)
    texts: list[TextUse] = field(default_factory=list)
    label_limit: int = DEFAULT_LABEL_LIMIT
    root: YMap | None = None
    _questions: dict[str, StepDraft] | None = None

    @property
    def default_language(self) -> str:
        return self.languages[0]

    def disclaimer_for(self, urgent: bool) -> LocalText | None:
        """The closing text of an outcome, as :meth:`Flow.disclaimer_for` picks it."""
        if urgent and self.urgent_disclaimer is not None:
            return self.urgent_disclaimer
        return self.disclaimer

    @property
    def questions(self) -> dict[str, StepDraft]:
        """The question steps by id (cached: ask only once reading is finished)."""
        if self._questions is None:
            self._questions = {k: s for k, s in self.steps.items() if s.is_question}
        return self._questions

    def where(self, node: YNode | Span) -> Where:
        span = node if isinstance(node, Span) else node.span
        return Where(self.file, span.line, span.column)

    # -- the model ----------------------------------------------------------------------------

    def to_flow(self, version: str) -> Flow:
        """The immutable flow; call only when the draft has no errors."""
        steps = {step_id: self._step(step) for step_id, step in self.steps.items()}
        return Flow(
            id=self.id,
            version=version,
            title=self.title or LocalText.plain(self.id, self.default_language),
            default_language=self.default_language,
            languages=self.languages,
            start=self.start or next(iter(self.steps)),
            steps=steps,
            disclaimer=self.disclaimer,
            urgent_disclaimer=self.urgent_disclaimer,
            safety_line=self.safety_line,
            safety_net=self.safety_net_model(),
            reasons=dict(self.reasons),
            ui=dict(self.ui),
            source=self.file,
        )

    def safety_net_model(self) -> SafetyNet | None:
        """The safety net as the compiled flow has it (None without one, or without its
        ``goto``, which the checker reports)."""
        net = self.safety_net
        if net is None or net.target is None:
            return None
        concepts = tuple(
            SafetyConcept(
                c.concept(),
                c.sign or LocalText.plain(c.id, self.default_language),
                self.where(c.key),
            )
            for c in net.concepts
        )
        return SafetyNet(
            net.target,
            dict(net.words),
            concepts,
            dict(net.negations),
            dict(net.doubts),
            dict(net.ignore),
        )

    def _step(self, step: StepDraft) -> Step:
        assert step.kind is not None and step.text is not None
        routes = tuple(
            Route(
                target=rule.target or "",
                condition=rule.condition.condition if rule.condition else None,
                where=self.where(rule.node),
            )
            for rule in step.rules
        )
        reasons = tuple(
            ReasonRule(
                reason=rule.reason,
                condition=rule.condition.condition if rule.condition else None,
                each=rule.each,
                where=self.where(rule.node),
            )
            for rule in step.reasons
        )
        more = tuple(
            Paragraph(
                text=paragraph.text,
                condition=paragraph.condition.condition if paragraph.condition else None,
                where=self.where(paragraph.node),
            )
            for paragraph in step.more
            if paragraph.text is not None
        )
        return Step(
            id=step.id,
            kind=step.kind,
            text=step.text,
            routes=routes,
            options=tuple(step.options),
            minimum=step.minimum,
            maximum=step.maximum,
            columns=step.columns,
            reasons=reasons,
            more=more,
            booking=step.booking,
            urgent=step.urgent,
            where=self.where(step.key),
            offers=step.offers,
        )
