"""Check that the pieces of a read flow fit together.

Runs on a :class:`~bot.flow.draft.FlowDraft` (which may be incomplete) and adds every problem
to the report: targets that do not exist, the graph (unreachable steps, dead ends, message
loops), conditions against the questions they read, rules that can never hold or leave a
gap, the safety rules that hold for every flow (:mod:`bot.flow.safety_rules`), reasons,
placeholders, translations and Telegram's limits.
"""

from __future__ import annotations

from bot.flow.analysis import analyse_graph
from bot.flow.cover import analyse_rules
from bot.flow.draft import FlowDraft, Shipped
from bot.flow.errors import did_you_mean
from bot.flow.limits import check_limits
from bot.flow.model import StepKind
from bot.flow.report import Report
from bot.flow.rules import check_conditions
from bot.flow.safety_rules import check_safety_rules
from bot.flow.source import YMap, YNode
from bot.flow.texts import check_texts


def validate(draft: FlowDraft, report: Report, shipped: Shipped | None = None) -> None:
    """Every check; ``shipped`` is the flow a practice's copy was made from (bot.flow.origin),
    which the copy must keep safe (safety rule S7)."""
    check_references(draft, report)
    graph = analyse_graph(draft, report)
    checked = check_conditions(draft, report, graph)
    analyse_rules(draft, report, graph, checked)
    check_safety_rules(draft, report, graph, checked, shipped)
    check_reasons(draft, report)
    check_safety_net(draft, report)
    check_texts(draft, report, graph)
    check_limits(draft, report, graph)


def _target(draft: FlowDraft, report: Report, target: str | None, node: YNode | None) -> None:
    if target is None or node is None or target in draft.steps or not draft.steps:
        return  # without any readable step, the steps: mistake is the one to report
    report.error(
        node,
        f"'{target}' is not a step in this flow.",
        did_you_mean(target, list(draft.steps), "Steps"),
    )


def check_references(draft: FlowDraft, report: Report) -> None:
    """Every step id named in start, next, goto and the safety net exists."""
    _target(draft, report, draft.start, draft.start_node)
    for step in draft.steps.values():
        for rule in step.rules:
            _target(draft, report, rule.target, rule.target_node)
    net = draft.safety_net
    if net is not None and net.target is not None and net.target_node is not None:
        _target(draft, report, net.target, net.target_node)


def check_reasons(draft: FlowDraft, report: Report) -> None:
    """Reason rules of outcomes: ``each`` names a multi-select; every reason has a text."""
    used: set[str] = set()
    for step in draft.steps.values():
        each_options: set[str] = set()
        for rule in step.reasons:
            if rule.each is None or rule.each_node is None:
                continue
            source = draft.steps.get(rule.each)
            if source is None:
                report.error(
                    rule.each_node,
                    f"'{rule.each}' is not a step in this flow.",
                    did_you_mean(
                        rule.each,
                        [s.id for s in draft.steps.values() if s.kind is StepKind.MULTI],
                        "Multi-selects",
                    ),
                )
            elif source.kind is not StepKind.MULTI:
                report.error(
                    rule.each_node,
                    f"each: needs a multi-select, but '{rule.each}' is a {source.kind} step.",
                    "each: gives one reason per ticked option of a multi-select.",
                )
            else:
                each_options.update(o.id for o in source.options if not o.exclusive)
        used.update(each_options)
        for rule in step.reasons:
            if rule.reason is None:
                continue
            used.add(rule.reason)
            if rule.reason in draft.reasons or rule.reason in each_options:
                continue
            at = rule.node.get("reason") if isinstance(rule.node, YMap) else rule.node
            report.error(
                at or rule.node,
                f"The reason '{rule.reason}' has no text in reasons:.",
                did_you_mean(rule.reason, sorted(draft.reasons), "Reasons with a text")
                + f' Add  {rule.reason}: "you told us ..."  under reasons: at the top.',
            )
    for reason_id, key in draft.reason_keys.items():
        concepts = {c.id for c in draft.safety_net.concepts} if draft.safety_net else set()
        if reason_id not in used and reason_id not in concepts:
            report.warning(
                key,
                f"The reason '{reason_id}' is not used by any outcome.",
                "Use it in an outcome's reasons:, or remove it.",
            )


def check_safety_net(draft: FlowDraft, report: Report) -> None:
    """Clauses name existing word groups, and every group is used by some concept."""
    net = draft.safety_net
    if net is None:
        return
    groups = sorted(net.words)
    used: set[str] = set()
    for concept in net.concepts:
        for clause in (*concept.when, *concept.ask, *concept.doubted_by):
            for group in clause.groups:
                used.add(group)
                if group not in net.words:
                    report.error(
                        clause.node,
                        f"'{group}' is not a word group of the safety net.",
                        did_you_mean(group, groups, "Word groups"),
                    )
    for group, key in draft.safety_net_groups.items():
        if group not in used:
            report.warning(
                key,
                f"The word group '{group}' is not used by any concept.",
                "Use it in a concept's when: (like  numb + saddle), or remove it.",
            )
