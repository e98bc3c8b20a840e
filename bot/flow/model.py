"""The flow as data: what the loader builds from a therapist's YAML and the engine runs.

Every object here is immutable and knows nothing of YAML, Telegram or storage. Positions
(file, line, column) live in :class:`Where` so that runtime and validation errors can point
at the line the therapist wrote.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from bot.flow.conditions import Node, Predicate
from bot.flow.safety import Concept, Screener


@dataclass(frozen=True, slots=True)
class Where:
    """A place in a flow file (1-based line and column, as editors show them)."""

    file: str
    line: int
    column: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"


@dataclass(frozen=True, slots=True)
class LocalText:
    """A text given in one or more languages, e.g. ``{"en": "Hello", "es": "Hola"}``."""

    by_language: Mapping[str, str]

    def get(self, language: str, fallback: str) -> str:
        text = self.by_language.get(language)
        if text is None:
            text = self.by_language.get(fallback)
        if text is None:
            text = next(iter(self.by_language.values()), "")
        return text

    @classmethod
    def plain(cls, text: str, language: str = "en") -> LocalText:
        return cls({language: text})


# What an outcome may offer besides its words, in the order the buttons are shown: the booking
# page (BOOKING_URL), sending the answers to the therapist (a lead, when the practice has admin
# chats) and a check-in message a few days later.
OFFERS = ("booking", "lead", "checkin")


class StepKind(StrEnum):
    CHOICE = "choice"  # one button
    MULTI = "multi"  # tick several, then Done
    NUMBER = "number"  # a whole number in a range, buttons or typed
    MESSAGE = "message"  # text only, then on to the next step
    OUTCOME = "outcome"  # the end of the conversation


QUESTION_KINDS = frozenset({StepKind.CHOICE, StepKind.MULTI, StepKind.NUMBER})


@dataclass(frozen=True, slots=True)
class Option:
    id: str
    label: LocalText
    exclusive: bool = False  # in a multi-select: ticking it clears the others ("none")
    emergency: bool = False  # an emergency sign: every answer with it goes to an urgent outcome


@dataclass(frozen=True, slots=True)
class Condition:
    source: str
    tree: Node
    test: Predicate
    where: Where | None = None


@dataclass(frozen=True, slots=True)
class Route:
    """``goto`` when ``condition`` holds (or always, when it is ``None``)."""

    target: str
    condition: Condition | None = None
    where: Where | None = None


@dataclass(frozen=True, slots=True)
class ReasonRule:
    """On an outcome: add ``reason`` when ``condition`` holds, or one reason per option
    ticked in the multi-select ``each`` (exclusive options such as "none" excepted)."""

    reason: str | None = None
    condition: Condition | None = None
    each: str | None = None
    where: Where | None = None


@dataclass(frozen=True, slots=True)
class Paragraph:
    """On an outcome: a text shown after the outcome's own text when ``condition`` holds
    (always, when it is ``None``). One outcome id can then speak to different people in
    their own terms (a child, a pregnant woman) without splitting the outcome, whose id is
    what statistics, scenarios and tests rely on."""

    text: LocalText
    condition: Condition | None = None
    where: Where | None = None


@dataclass(frozen=True, slots=True)
class Step:
    id: str
    kind: StepKind
    text: LocalText
    routes: tuple[Route, ...] = ()
    options: tuple[Option, ...] = ()
    minimum: int | None = None
    maximum: int | None = None
    columns: int = 1  # buttons per row on Telegram
    reasons: tuple[ReasonRule, ...] = ()  # outcomes only
    more: tuple[Paragraph, ...] = ()  # outcomes only: paragraphs shown when they hold
    booking: bool = False  # outcomes only: offer the booking link
    urgent: bool = False  # outcomes only: an emergency; the safety advice leads
    where: Where | None = None
    # Outcomes only: what the outcome offers (OFFERS, in that order), as declared by its
    # ``offers:`` list; None when it has none, and then ``booking`` decides (see allowed_offers).
    offers: tuple[str, ...] | None = None

    @property
    def is_question(self) -> bool:
        return self.kind in QUESTION_KINDS

    @property
    def is_outcome(self) -> bool:
        return self.kind is StepKind.OUTCOME

    def option(self, option_id: str) -> Option | None:
        for option in self.options:
            if option.id == option_id:
                return option
        return None

    @property
    def allowed_offers(self) -> tuple[str, ...]:
        """What this outcome offers: its ``offers:`` list, else everything with ``booking: true``
        (the booking page, sending the answers to the therapist, a check-in later) and nothing
        without it. An urgent outcome offers nothing, whatever it says (safety rule S1, which
        the checker enforces on the file as well)."""
        if not self.is_outcome or self.urgent:
            return ()
        if self.offers is not None:
            return self.offers
        return OFFERS if self.booking else ()


@dataclass(frozen=True, slots=True)
class SafetyConcept:
    """A warning sign the safety net recognises (see :mod:`bot.flow.safety`), with the plain
    words that name it in the yes/no question asked after a negated or doubtful mention."""

    concept: Concept
    sign: LocalText
    where: Where | None = None

    @property
    def id(self) -> str:
        return self.concept.id


@dataclass(frozen=True, slots=True)
class SafetyNet:
    """Warning signs that, typed at any point, lead to ``target`` (an urgent outcome).

    ``words`` holds the word groups (group -> language -> terms as written), ``negations`` and
    ``doubts`` the words that turn a mention into a question, ``ignore`` phrases whose words
    never count, per language."""

    target: str
    words: Mapping[str, Mapping[str, tuple[str, ...]]]
    concepts: tuple[SafetyConcept, ...]
    negations: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    doubts: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    ignore: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    def concept(self, concept_id: str) -> SafetyConcept | None:
        return next((c for c in self.concepts if c.id == concept_id), None)

    def screener(self) -> Screener:
        """The net compiled to read messages."""
        return Screener(
            self.words,
            [c.concept for c in self.concepts],
            negations=self.negations,
            doubts=self.doubts,
            ignore=self.ignore,
        )


@dataclass(frozen=True, slots=True)
class Flow:
    id: str
    version: str
    title: LocalText
    default_language: str
    languages: tuple[str, ...]
    start: str
    steps: Mapping[str, Step]
    disclaimer: LocalText | None = None
    urgent_disclaimer: LocalText | None = None  # instead of `disclaimer` under urgent outcomes
    safety_line: LocalText | None = None
    safety_net: SafetyNet | None = None
    reasons: Mapping[str, LocalText] = field(default_factory=dict)
    ui: Mapping[str, LocalText] = field(default_factory=dict)
    source: str = "<memory>"

    def step(self, step_id: str) -> Step:
        return self.steps[step_id]

    def disclaimer_for(self, step: Step) -> LocalText | None:
        """The closing text of an outcome. An emergency gets its own short one when the flow
        has it: "if you are worried, see your doctor" would undercut "call an ambulance now"."""
        if step.urgent and self.urgent_disclaimer is not None:
            return self.urgent_disclaimer
        return self.disclaimer

    @property
    def outcomes(self) -> tuple[Step, ...]:
        return tuple(step for step in self.steps.values() if step.is_outcome)

    @property
    def questions(self) -> tuple[Step, ...]:
        return tuple(step for step in self.steps.values() if step.is_question)
