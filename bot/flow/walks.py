"""An example of answers no rule catches that a person can really give.

The rule analysis (:mod:`bot.flow.cover`) combines the answers a step's rules read as if
each could be anything, so its first uncaught combination may be one the routing before the
step never lets through ("buttock pain above the knee, worse_sitting not answered", when
every such path asks worse_sitting). Here we walk the flow from its first step as a person
would, trying the answers that make a difference to some rule at each question, and stop
at the first walk that reaches the step with answers none of its rules catch. Every walk
uses the real conditions, so an example found here can happen.

The walk only remembers answers some rule reads, and visits a step again only with answers
that still matter after it; a budget bounds the whole search on big flows. Without a
result the caller keeps the example it had.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from bot.flow.analysis import Graph, search
from bot.flow.conditions import Compare, ListLiteral, Literal, Name, Node, walk
from bot.flow.domains import domain
from bot.flow.draft import FlowDraft, RuleDraft, StepDraft
from bot.flow.model import StepKind

MAX_VISITS = 2_500  # steps visited per flow, over all its gaps (about 20 µs each)
MAX_TICK_SETS = 64  # above this, a multi-select is walked with one tick at a time


@dataclass(slots=True)
class Walks:
    """The walks through one flow: set up once, asked for each step with a gap."""

    draft: FlowDraft
    graph: Graph
    visits_left: int = MAX_VISITS
    _reads: dict[str, frozenset[str]] = field(default_factory=dict)
    _mentioned: dict[str, list[Any]] = field(default_factory=dict)
    _domains: dict[str, list[Any]] = field(default_factory=dict)
    _reverse: dict[str, list[str]] = field(default_factory=dict)

    def _index(self) -> None:
        """What each step's rules read, once, when the first gap is met: a flow without
        gaps never pays for it."""
        for step in self.draft.steps.values():
            self._reads[step.id] = _reads_of(step.rules, self._mentioned)
        for source, targets in self.graph.edges.items():
            for target in targets:
                self._reverse.setdefault(target, []).append(source)

    # -- the search ---------------------------------------------------------------------------

    def gap_example(
        self, step: StepDraft, own: Sequence[Any], rules: Sequence[RuleDraft] | None = None
    ) -> dict[str, Any] | None:
        """Answers that reach ``step`` and that none of its rules catch, or ``None``.

        ``own`` are the answers to ``step`` itself worth trying (none when its rules do not
        read it). ``rules`` replaces the step's own rules (the reason rules of an outcome,
        say: "reached with no reason" is a gap in them).
        """
        start = self.graph.start
        if start is None or start not in self.draft.steps:
            return None
        if not self._reads:
            self._index()
        if rules is None:
            rules = step.rules
            wanted = self._reads[step.id]
        else:
            wanted = _reads_of(rules, self._mentioned)
            self._domains.clear()  # these rules may compare with values not tried so far
        later = self._later_reads(step.id, wanted)
        if start not in later:
            return None
        stack: list[tuple[str, dict[str, Any]]] = [(start, {})]
        seen: set[tuple[str, tuple[tuple[str, Any], ...]]] = set()
        while stack:
            step_id, answers = stack.pop()
            if step_id == step.id:
                found = self._uncaught(rules, step.id, answers, own)
                if found is not None:
                    return {k: v for k, v in found.items() if k in wanted}
            here = self.draft.steps[step_id]
            reads = later[step_id]
            kept = sorted((k, _frozen(v)) for k, v in answers.items() if k in reads)
            state = (step_id, tuple(kept))
            if state in seen:
                continue
            seen.add(state)
            self.visits_left -= 1
            if self.visits_left < 0:
                return None
            following: list[tuple[str, dict[str, Any]]] = []
            for given in self._answer(here, answers, reads):
                following.extend(
                    (target, given) for target in _routes(here.rules, given) if target in later
                )
            stack.extend(reversed(following))  # the first answers are walked first
        return None

    def _uncaught(
        self, rules: Sequence[RuleDraft], step_id: str, answers: dict[str, Any], own: Sequence[Any]
    ) -> dict[str, Any] | None:
        tries = [{**answers, step_id: value} for value in own] if own else [answers]
        for given in tries:
            if not _routes(rules, given, unknown_holds=True):
                return given
        return None

    def _answer(
        self, step: StepDraft, answers: dict[str, Any], later: frozenset[str]
    ) -> list[dict[str, Any]]:
        """The answers after ``step``: one per answer to it that some later rule can tell
        apart (an answer no later rule reads is not remembered)."""
        if not step.is_question or step.id not in later:
            return [answers] if step.kind is not StepKind.OUTCOME else []
        return [{**answers, step.id: value} for value in self._domain(step)]

    def _domain(self, question: StepDraft) -> list[Any]:
        known = self._domains.get(question.id)
        if known is None:
            known = walk_domain(question, self._mentioned.get(question.id, []))
            self._domains[question.id] = known
        return known

    def _later_reads(self, goal: str, goal_reads: frozenset[str]) -> dict[str, frozenset[str]]:
        """For each step that can lead to ``goal``: the answers read by its rules or by the
        rules of a step after it on the way to ``goal`` (``goal_reads`` for ``goal`` itself).
        Only these can still change whether a walk gets there, and how."""
        reached = search([goal], self._reverse)
        toward = [s for s in reversed(self.draft.steps) if s in reached]  # mostly onward first
        later = {s: self._reads.get(s, frozenset()) for s in toward}
        later[goal] = goal_reads
        changed = True
        while changed:  # a few rounds: sets only grow, over a finite set of names
            changed = False
            for source in toward:
                grown = later[source].union(
                    *(later[t] for t in self.graph.edges.get(source, ()) if t in later)
                )
                if grown != later[source]:
                    later[source] = grown
                    changed = True
        return later


def _reads_of(rules: Sequence[RuleDraft], mentioned: dict[str, list[Any]]) -> frozenset[str]:
    """The answers these rules read (noting the values they compare with)."""
    keys: set[str] = set()
    for rule in rules:
        tree = _tree(rule)
        if tree is None:
            continue
        for node in walk(tree):
            if isinstance(node, Name):
                keys.add(node.key)
            elif isinstance(node, Compare):
                _note_values(node, mentioned)
    return frozenset(keys)


def _tree(rule: RuleDraft) -> Node | None:
    condition = rule.condition
    if condition is None or condition.condition is None:
        return None
    return condition.condition.tree


def _routes(
    rules: Sequence[RuleDraft], answers: Mapping[str, Any], *, unknown_holds: bool = False
) -> list[str]:
    """Where a step can go with these answers: the first rule that holds; a condition that
    could not be read (reported already) may or may not hold, so both ways are tried."""
    targets: list[str] = []
    for rule in rules:
        condition = rule.condition
        if condition is not None and condition.condition is None:
            if rule.target is not None:
                targets.append(rule.target)
            if unknown_holds:
                return targets
            continue
        if condition is None or (condition.condition and condition.condition.test(answers)):
            if rule.target is not None:
                targets.append(rule.target)
            return targets
    return targets


def _note_values(node: Compare, mentioned: dict[str, list[Any]]) -> None:
    for side, other in ((node.left, node.right), (node.right, node.left)):
        if not isinstance(side, Name):
            continue
        values = mentioned.setdefault(side.key, [])
        if isinstance(other, Literal):
            values.append(other.value)
        elif isinstance(other, ListLiteral):
            values.extend(item.value for item in other.items)


def walk_domain(question: StepDraft, mentioned: Sequence[Any]) -> list[Any]:
    """The answers to try at ``question``: those the rules tell apart, and when every set of
    ticks would be too many, each tick alone (enough for ``has any of`` and ``in``)."""
    if question.kind is not StepKind.MULTI:
        return domain(question, mentioned)
    named = {v for v in mentioned if isinstance(v, str)}
    plain = [o.id for o in question.options if not o.exclusive]
    pool = [o for o in plain if o in named] + [o for o in plain if o not in named][:1]
    if 2 ** len(pool) <= MAX_TICK_SETS:
        return domain(question, mentioned)
    exclusive = [o.id for o in question.options if o.exclusive]
    singles = [[o] for o in itertools.chain(pool, exclusive)]
    return [*singles, pool]  # and everything ticked at once


def _frozen(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else value
