"""The flow as a graph: reachable steps, dead ends, message loops, and which answers are
given by the time a step is reached.

Answers matter because a condition that reads a missing answer is false. A forward
dataflow over the step graph gives, for each step, the questions answered on *every* path
to it (``must``) and on *some* path to it (``may``). The rule analysis (:mod:`bot.flow.cover`)
uses ``must`` to know when "not answered" is one of the possibilities; the condition checks
use ``may`` to catch a rule that reads a question only asked later.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

from bot.flow.draft import FlowDraft, StepDraft
from bot.flow.errors import closest, listing
from bot.flow.model import StepKind
from bot.flow.report import Report


class AnswerSet:
    """Which questions are answered at some point, as a bit mask: membership tests are all
    the checks need, and decoding 200 sets of 200 names would cost more than the checks."""

    __slots__ = ("_bits", "_mask")

    def __init__(self, mask: int, bits: dict[str, int]) -> None:
        self._mask = mask
        self._bits = bits

    def __contains__(self, name: object) -> bool:
        return bool(self._mask & self._bits.get(name, 0)) if isinstance(name, str) else False

    def with_(self, name: str) -> AnswerSet:
        return AnswerSet(self._mask | self._bits.get(name, 0), self._bits)


@dataclass(slots=True)
class Graph:
    """What the checks need to know about the paths through a flow."""

    edges: dict[str, list[str]]
    reachable: set[str]
    # Questions answered on every path into a step (must) and on some path (may), as bit
    # masks over `bits` (question id -> its bit).
    bits: dict[str, int] = field(default_factory=dict)
    must_bits: dict[str, int] = field(default_factory=dict)
    may_bits: dict[str, int] = field(default_factory=dict)
    start: str | None = None  # the first step (its likely meaning when misspelt)

    def must(self, step_id: str) -> AnswerSet | None:
        mask = self.must_bits.get(step_id)
        return None if mask is None else AnswerSet(mask, self.bits)

    def may(self, step_id: str) -> AnswerSet | None:
        mask = self.may_bits.get(step_id)
        return None if mask is None else AnswerSet(mask, self.bits)

    def answered_by_rules(self, step: StepDraft) -> AnswerSet | None:
        """Questions surely answered when ``step``'s rules are evaluated (None: unknown)."""
        must = self.must(step.id)
        if must is None:
            return None
        return must.with_(step.id) if step.is_question else must

    def answerable_at(self, step: StepDraft, *, own: bool) -> AnswerSet | None:
        """Questions that may have an answer at ``step`` (None: unknown, don't judge)."""
        may = self.may(step.id)
        if may is None:
            return None
        return may.with_(step.id) if own and step.is_question else may


def _edges(draft: FlowDraft) -> dict[str, list[str]]:
    """Where each step can go. A mistyped target counts as its likely meaning, so that one
    typo is reported once, not again as an unreachable step and a dead end."""
    steps = draft.steps
    edges: dict[str, list[str]] = {}
    for step in steps.values():
        targets: list[str] = []
        for rule in step.rules:
            target = rule.target
            if target is not None and target not in steps:
                target = closest(target, list(steps))
            if target is not None and target not in targets:
                targets.append(target)
        edges[step.id] = targets
    return edges


def _start(draft: FlowDraft) -> str | None:
    start = draft.start
    if start is not None and start not in draft.steps:
        start = closest(start, list(draft.steps))
    return start


def _net_target(draft: FlowDraft) -> str | None:
    net = draft.safety_net
    if net is None or net.target not in draft.steps:
        return None
    return net.target


def search(roots: list[str], edges: dict[str, list[str]]) -> set[str]:
    seen = set(roots)
    queue = deque(roots)
    while queue:
        for target in edges.get(queue.popleft(), ()):
            if target not in seen:
                seen.add(target)
                queue.append(target)
    return seen


def analyse_graph(draft: FlowDraft, report: Report) -> Graph:
    edges = _edges(draft)
    start = _start(draft)
    net = _net_target(draft)
    if start is None:
        # Without a first step nothing can be said about paths; every step counts as reached.
        return Graph(edges, set(draft.steps))
    roots = [start] + ([net] if net else [])
    reachable = search(roots, edges)
    graph = Graph(edges, reachable, start=start)
    _unreachable(draft, report, graph)
    looping = _message_loops(draft, report, graph)
    _dead_ends(draft, report, graph, looping)
    _answers(draft, graph, start, net)
    return graph


def _unreachable(draft: FlowDraft, report: Report, graph: Graph) -> None:
    """Report each unreachable region once, at the step where it begins."""
    unreached = [s for s in draft.steps if s not in graph.reachable]
    open_ends = [
        s
        for s in draft.steps.values()
        if s.id in graph.reachable and not s.rules and s.kind is not StepKind.OUTCOME
    ]
    if not unreached or open_ends:
        return  # a step without next (reported) may be meant to lead to them
    has_source = {target for targets in graph.edges.values() for target in targets}
    beginnings = [s for s in unreached if s not in has_source]
    beginnings += [s for s in unreached if s in has_source]  # then circles nothing enters
    covered: set[str] = set()
    for step_id in beginnings:
        if step_id in covered:
            continue
        onward = search([step_id], graph.edges)
        behind = [s for s in unreached if s in onward and s not in covered and s != step_id]
        covered.update(behind, {step_id})
        also = ""
        if behind:
            also = f" Nor will they see {listing(behind)}, which only it leads to."
        report.error(
            draft.steps[step_id].key,
            f"Nothing leads to the step '{step_id}', so nobody will ever see it.{also}",
            f"Add '{step_id}' as next: or goto: of another step, or remove it.",
        )


def _dead_ends(draft: FlowDraft, report: Report, graph: Graph, looping: set[str]) -> None:
    """Steps that only lead round in circles, never to an outcome.

    Reported once per closed circle, at its first step; steps that merely lead into such a
    circle are not the mistake and are not reported.
    """
    reverse: dict[str, list[str]] = {step_id: [] for step_id in draft.steps}
    for source, targets in graph.edges.items():
        for target in targets:
            reverse[target].append(source)
    # Steps whose mistakes are reported elsewhere (no type, no next) count as exits, so that
    # one mistake is reported once.
    exits = [s.id for s in draft.steps.values() if s.kind in (StepKind.OUTCOME, None)]
    exits += [s.id for s in draft.steps.values() if not s.rules]
    can_finish = search(exits, reverse)
    trapped = [s for s in draft.steps if s in graph.reachable and s not in can_finish]
    onward = {s: search([s], graph.edges) for s in trapped}
    reported: set[str] = set(looping)  # message loops are reported as such
    for step_id in trapped:
        circle = onward[step_id]
        if step_id in reported or not all(step_id in onward[other] for other in circle):
            continue  # not in a closed circle: it only leads into one
        members = [s for s in draft.steps if s in circle]
        reported.update(members)
        step = draft.steps[members[0]]
        what = (
            f"'{step.id}' only leads back to itself"
            if len(members) == 1
            else f"The steps {listing(members)} only lead to each other"
        )
        report.error(
            step.next_key or step.key,
            f"{what}, so the conversation can never reach an outcome from there.",
            "Every path must end at an outcome step: let one of them go on to an outcome, "
            "or to a step that leads to one.",
        )


def _message_loops(draft: FlowDraft, report: Report, graph: Graph) -> set[str]:
    """Message steps that lead back to themselves would show messages for ever."""
    messages = {s.id for s in draft.steps.values() if s.kind is StepKind.MESSAGE}
    reported: set[str] = set()
    for step_id in draft.steps:
        if step_id not in messages or step_id in reported:
            continue
        path = _message_cycle(step_id, messages, graph.edges)
        if path is None:
            continue
        reported.update(path)
        step = draft.steps[step_id]
        report.error(
            step.next_key or step.key,
            "These message steps lead round in a circle, so the bot would send messages for "
            f"ever: {' → '.join([*path, path[0]])}.",
            "Let one of them go on to a question or an outcome.",
        )
    return reported


def _message_cycle(start: str, messages: set[str], edges: dict[str, list[str]]) -> list[str] | None:
    """The shortest message-only cycle back to ``start``, if any."""
    previous: dict[str, str] = {}
    queue = deque([start])
    while queue:
        current = queue.popleft()
        for target in edges.get(current, ()):
            if target == start:
                path = [current]
                while path[-1] != start:
                    path.append(previous[path[-1]])
                return list(reversed(path))
            if target in messages and target not in previous:
                previous[target] = current
                queue.append(target)
    return None


def _answers(draft: FlowDraft, graph: Graph, start: str, net: str | None) -> None:
    """Forward dataflow: questions answered on every path (must) and some path (may)."""
    order = [s for s in draft.steps if s in graph.reachable]
    bit = {step_id: 1 << i for i, step_id in enumerate(order)}
    question = {s: bit[s] if draft.steps[s].is_question else 0 for s in order}
    preds: dict[str, list[str]] = {s: [] for s in order}
    for source in order:
        for target in graph.edges[source]:
            if target in preds:
                preds[target].append(source)
    everything = (1 << len(order)) - 1
    entries = {start} | ({net} if net else set())
    must = {s: 0 if s in entries else everything for s in order}
    may = dict.fromkeys(order, 0)
    changed = True
    while changed:  # monotone over a finite lattice: ends after a few rounds
        changed = False
        for target in order:
            new_must = 0 if target in entries else everything
            new_may = 0
            for source in preds[target]:
                new_must &= must[source] | question[source]
                new_may |= may[source] | question[source]
            if target == net:
                new_may = everything  # the safety net can fire at any step
            if new_must != must[target] or new_may != may[target]:
                must[target], may[target] = new_must, new_may
                changed = True
    asked = sum(question.values())
    graph.bits = {s: bit[s] for s in order if question[s]}
    graph.must_bits = {s: must[s] & asked for s in order}
    graph.may_bits = {s: may[s] & asked for s in order}
