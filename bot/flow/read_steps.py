"""Reading the steps of a flow file: types, keys per type, options, routing rules and the
reason rules of outcomes."""

from __future__ import annotations

from bot.flow.draft import ParagraphDraft, ReasonDraft, RuleDraft, StepDraft
from bot.flow.errors import did_you_mean
from bot.flow.keys import (
    ALL_STEP_KEYS,
    COLUMNS_RANGE,
    CONDITION_WORDS,
    DEFAULT_COLUMNS,
    OPTION_KEYS,
    PARAGRAPH_KEYS,
    REASON_RULE_KEYS,
    RULE_KEYS,
    SETTING_NAMES,
    STEP_KEYS,
    STEP_REQUIRED,
    STEP_TYPES,
)
from bot.flow.model import OFFERS, LocalText, Option, StepKind
from bot.flow.source import YMap, YNode, YScalar, YSeq, describe
from bot.flow.values import ValueReader

_MISSING_STEP_KEY_HINT = {
    "type": "Add type: with one of: " + ", ".join(STEP_TYPES) + ".",
    "text": 'Add text: "..." with what the person reads at this step.',
    "options": 'Add options: with one line per button, like  buttock: "Deep in one buttock".',
    "min": "Add min: with the lowest number allowed, e.g. min: 0.",
    "max": "Add max: with the highest number allowed, e.g. max: 10.",
}


class StepReader(ValueReader):
    def read_steps(self, node: YNode | None) -> None:
        if node is None:
            return
        if not isinstance(node, YMap):
            hint = "Write each step as  step_id:  followed by its keys, indented."
            if isinstance(node, YSeq):
                hint = (
                    "Steps are not a list: remove the '- ' and write each step as  "
                    "step_id:  with its keys indented below it."
                )
            self.report.error(
                node, f"steps: should hold the steps by id, found {describe(node)}.", hint
            )
            return
        if not node.entries:
            self.report.error(node, "There are no steps.", "Add at least one step under steps:.")
        for name, key, value in node.items():
            step_id = self.check_id(key, "a step id") or name
            step = StepDraft(step_id, key, value)
            self.draft.steps[step_id] = step
            self.read_step(step)

    def read_step(self, step: StepDraft) -> None:
        node = step.node
        if not isinstance(node, YMap):
            empty = node is None or (isinstance(node, YScalar) and node.value is None)
            self.report.error(
                step.key if empty else node,
                f"The step '{step.id}' has nothing in it.",
                "Indent its keys (type:, text:, ...) under the step id.",
            )
            return
        kind = self.step_type(step, node)
        self.check_step_keys(step, node, kind)
        if kind is not None:
            step.kind = StepKind(kind)
            step.columns = DEFAULT_COLUMNS.get(kind, 1)
            self.check_required(step, node, kind)
            if step.is_question:
                self.check_answer_name(step)
        # A step whose type is wrong is still followed (text and next), so that its one
        # mistake is not reported again as unreachable steps or unknown names further on.
        step.text = self.text(node.get("text"), "step", step=step.id)
        if kind is not None:
            if "options" in node.entries and "options" in STEP_KEYS[kind]:
                self.read_options(step, node.get("options"))
            self.read_range(step, node)
            self.read_looks(step, node)
        next_name = "next" if "next" in node.entries else self.misspelling(node, "next")
        if next_name is not None:
            # A misspelt `next` (reported) is still followed, for the same reason.
            step.next_key = node.key(next_name)
            self.read_next(step, node.get(next_name))
        if kind == "outcome" and "reasons" in node.entries:
            self.read_reason_rules(step, node.get("reasons"))
        if kind == "outcome" and "more" in node.entries:
            self.read_more(step, node.get("more"))

    def check_answer_name(self, step: StepDraft) -> None:
        """A question's id is the name of its answer in conditions and placeholders."""
        if step.id in CONDITION_WORDS:
            self.report.error(
                step.key,
                f"'{step.id}' cannot be the id of a question: it is a word of the condition "
                "language, so rules could not name its answer.",
                f"Choose another id, for example {step.id}_answer.",
            )
        elif step.id in SETTING_NAMES:
            self.report.error(
                step.key,
                f"'{step.id}' cannot be the id of a question: {{{step.id}}} already means a "
                "setting in texts.",
                f"Choose another id, for example {step.id}_answer.",
            )

    def step_type(self, step: StepDraft, node: YMap) -> str | None:
        type_node = node.get("type")
        if type_node is None:
            self.report.error(
                step.key, f"The step '{step.id}' has no type.", _MISSING_STEP_KEY_HINT["type"]
            )
            return None
        if isinstance(type_node, YScalar) and type_node.text in STEP_TYPES:
            return type_node.text
        shown = type_node.text if isinstance(type_node, YScalar) else describe(type_node)
        self.report.error(
            type_node,
            f"'{shown}' is not a type of step.",
            did_you_mean(shown, list(STEP_TYPES), "Step types"),
        )
        return None

    def check_required(self, step: StepDraft, node: YMap, kind: str) -> None:
        for required in STEP_REQUIRED[kind]:
            if required in node.entries or self.misspelt(node, required, STEP_KEYS[kind]):
                continue
            if required == "next":
                self.report.error(
                    step.key,
                    f"The step '{step.id}' is a dead end: it has no 'next', so the conversation "
                    "would stop here without an outcome.",
                    "Add next: with the id of the step that follows, or rules in a list. Only "
                    "outcome steps end the conversation.",
                )
            elif required != "type":
                self.report.error(
                    step.key,
                    f"The {kind} step '{step.id}' has no '{required}'.",
                    _MISSING_STEP_KEY_HINT.get(required, ""),
                )

    def read_range(self, step: StepDraft, node: YMap) -> None:
        low, high = node.get("min"), node.get("max")
        step.minimum = self.integer(low, "'min'") if low is not None else None
        step.maximum = self.integer(high, "'max'") if high is not None else None
        if step.minimum is not None and step.maximum is not None and step.minimum > step.maximum:
            assert low is not None
            self.report.error(
                low,
                f"min ({step.minimum}) is larger than max ({step.maximum}), so no number fits.",
                "Swap the two numbers.",
            )

    def read_looks(self, step: StepDraft, node: YMap) -> None:
        """How the step is shown: buttons per row, and an outcome's urgency and booking."""
        columns = node.get("columns")
        if columns is not None:
            number = self.integer(columns, "'columns'")
            low, high = COLUMNS_RANGE
            if number is not None and not low <= number <= high:
                self.report.error(
                    columns,
                    f"columns must be from {low} to {high} (buttons per row), not {number}.",
                    "Telegram shows at most 8 buttons in a row.",
                )
            elif number is not None:
                step.columns = number
        urgent, booking = node.get("urgent"), node.get("booking")
        if urgent is not None:
            step.urgent = bool(self.boolean(urgent, "urgent"))
        if booking is not None:
            step.booking = bool(self.boolean(booking, "booking"))
        offers = node.get("offers")
        if offers is not None:
            self.read_offers(step, offers, booking)

    def read_offers(self, step: StepDraft, node: YNode, booking: YNode | None) -> None:
        """``offers: [booking, lead, checkin]``: what the outcome offers, any of the three."""
        if booking is not None:
            self.report.error(
                booking,
                "An outcome has either booking: or offers:, not both.",
                "Keep offers: and list booking in it (offers: [booking, lead, checkin]), "
                "or keep booking: true, which offers all three.",
            )
        items = node.items if isinstance(node, YSeq) else None
        if items is None:
            self.report.error(
                node,
                f"offers: is a list, not {describe(node)}.",
                "Write  offers: [booking, lead, checkin]  (any of them), or  offers: []  for none.",
            )
            return
        chosen: set[str] = set()
        for item in items:
            name = item.text if isinstance(item, YScalar) else None
            if name not in OFFERS:
                self.report.error(
                    item,
                    f"'{describe(item) if name is None else name}' is not something an outcome "
                    "can offer.",
                    did_you_mean(name or "", list(OFFERS), "Offers"),
                )
                continue
            chosen.add(name)
        step.offers = tuple(offer for offer in OFFERS if offer in chosen)
        step.booking = "booking" in chosen

    def check_step_keys(self, step: StepDraft, node: YMap, kind: str | None) -> None:
        allowed = STEP_KEYS[kind] if kind else ALL_STEP_KEYS
        for name, key, _ in node.items():
            if name in allowed:
                continue
            if name in ALL_STEP_KEYS:
                users = [t for t in STEP_TYPES if name in STEP_KEYS[t]]
                hint = f"'{name}' belongs to {' and '.join(users)} steps."
                if name == "next" and kind == "outcome":
                    hint = "An outcome ends the conversation; remove 'next' (or change the type)."
                article = "An" if kind == "outcome" else "A"
                self.report.error(key, f"{article} {kind} step has no '{name}'.", hint)
                continue
            self.report.error(
                key,
                f"'{name}' is not something a {kind or ''} step can have.".replace("a  ", "a "),
                did_you_mean(name, sorted(allowed), "Possible keys"),
            )

    def read_options(self, step: StepDraft, node: YNode | None) -> None:
        if not isinstance(node, YMap) or not node.entries:
            hint = 'Write one option per line:  option_id: "Label on the button"'
            if isinstance(node, YSeq):
                hint = (
                    "Options are not a list: remove the '- ' and write  " + hint.split("  ", 1)[1]
                )
            self.report.error(
                node or step.key, "options: should list the buttons, one per line.", hint
            )
            return
        for _name, key, value in node.items():
            option_id = self.check_id(key, "an option id")
            if option_id is None:
                continue
            exclusive = emergency = False
            label_node: YNode | None = value
            if isinstance(value, YMap) and any(k in OPTION_KEYS for k in value.entries):
                self.check_keys(value, OPTION_KEYS, "an option")
                label_node = value.get("label")
                if label_node is None:
                    self.report.error(
                        key, f"The option '{option_id}' has no label.", 'Add label: "..." under it.'
                    )
                flag = value.get("exclusive")
                if flag is not None:
                    exclusive = bool(self.boolean(flag, "exclusive"))
                    if exclusive and step.kind is not StepKind.MULTI:
                        self.report.error(
                            flag,
                            "Only options of a multi-select can be exclusive.",
                            "exclusive: true means 'ticking this clears the others' (like "
                            "'None of these'); a choice step already allows only one answer.",
                        )
                sign = value.get("emergency")
                if sign is not None:
                    emergency = bool(self.boolean(sign, "emergency"))
            label = self.text(
                label_node, "label", step=step.id, extra_keys=OPTION_KEYS, option=option_id
            )
            step.options.append(Option(option_id, label or LocalText({}), exclusive, emergency))
            step.option_keys[option_id] = key

    def read_next(self, step: StepDraft, node: YNode | None) -> None:
        if isinstance(node, YScalar) and node.value is not None:
            target = self.step_ref(node)
            step.rules.append(RuleDraft(target, node, None, node))
            return
        if isinstance(node, YMap):
            self.report.error(
                node,
                "next: holds either the id of the next step, or a list of rules that each "
                "start with '- '.",
                "Write\n    next:\n      - if: severity >= 7\n        goto: see_doctor_soon\n"
                "      - goto: age",
            )
            return
        if not isinstance(node, YSeq) or not node.items:
            self.report.error(
                node or step.key,
                "next: is empty.",
                "Write the id of the next step, or a list of rules.",
            )
            return
        default: RuleDraft | None = None
        for item in node.items:
            if not isinstance(item, YMap):
                self.report.error(
                    item,
                    "A rule is written as '- if: ...' with 'goto: ...' below it, "
                    f"not as {describe(item)}.",
                    "For the last rule (everything else) write  - goto: step_id",
                )
                continue
            self.check_keys(item, RULE_KEYS, "a rule")
            target_node = item.get("goto")
            if target_node is None:
                self.report.error(
                    item,
                    "This rule has no 'goto'.",
                    "Add goto: with the step to go to when the rule holds.",
                )
            target = self.step_ref(target_node)
            condition = self.condition(item.get("if")) if "if" in item.entries else None
            rule = RuleDraft(target, target_node, condition, item)
            if default is not None:
                self.report.error(
                    item,
                    f"This rule is never used: the rule on line {default.node.span.line} has "
                    "no 'if', so it always applies and the rules after it are never looked at.",
                    "Move the rule without 'if' to the end: it is the default for everything else.",
                )
            elif condition is None:
                default = rule
            step.rules.append(rule)

    def read_reason_rules(self, step: StepDraft, node: YNode | None) -> None:
        if not isinstance(node, YSeq):
            self.report.error(
                node or step.key,
                "reasons: lists rules, each starting with '- '.",
                "For example:\n    reasons:\n      - if: severity >= 7\n        reason: severe_pain"
                "\n      - each: doctor_flags",
            )
            return
        for item in node.items:
            if not isinstance(item, YMap):
                self.report.error(
                    item,
                    "A reason rule is written as '- reason: id' (with an optional 'if: ...'), "
                    "or '- each: multi_select_id'.",
                )
                continue
            self.check_keys(item, REASON_RULE_KEYS, "a reason rule")
            each_node = item.get("each")
            each = self.ident(each_node, "a step id") if each_node is not None else None
            reason = self.ident(item.get("reason"), "a reason id")
            if each_node is not None and ("reason" in item.entries or "if" in item.entries):
                self.report.error(
                    item,
                    "A rule with 'each' gives one reason per ticked option; it cannot also "
                    "have 'reason' or 'if'.",
                    "Split it into two rules.",
                )
            elif each_node is None and "reason" not in item.entries:
                self.report.error(
                    item,
                    "This reason rule has no 'reason'.",
                    "Add reason: with a reason id from reasons: at the top of the file.",
                )
            condition = self.condition(item.get("if")) if "if" in item.entries else None
            step.reasons.append(ReasonDraft(reason, condition, each, each_node, item))

    def read_more(self, step: StepDraft, node: YNode | None) -> None:
        """An outcome's paragraphs: ``- if: <condition>`` (optional) and ``text:``."""
        example = (
            'For example:\n    more:\n      - if: age < 16\n        text: "This check is '
            'made for adults ..."'
        )
        if not isinstance(node, YSeq) or not node.items:
            self.report.error(
                node or step.key, "more: lists paragraphs, each starting with '- '.", example
            )
            return
        for item in node.items:
            if not isinstance(item, YMap):
                self.report.error(
                    item,
                    "A paragraph is written as '- if: ...' with 'text: ...' below it, "
                    f"not as {describe(item)}.",
                    example,
                )
                continue
            self.check_keys(item, PARAGRAPH_KEYS, "a paragraph")
            if "text" not in item.entries and not self.misspelt(item, "text", PARAGRAPH_KEYS):
                self.report.error(
                    item,
                    "This paragraph has no 'text'.",
                    'Add text: "..." with what the person reads when the condition holds.',
                )
            text = self.text(item.get("text"), "paragraph", step=step.id)
            condition = self.condition(item.get("if")) if "if" in item.entries else None
            step.more.append(ParagraphDraft(text, condition, item))
