"""Read the YAML tree of a flow file into a :class:`~bot.flow.draft.FlowDraft`.

This pass checks the shape of the file: known keys (typos get a "did you mean"), required
keys, ids, value types (a number where a number is needed), texts and translations as
written, and that conditions can be read. Whether the pieces fit together (targets exist,
every answer has a way on, rules can hold) is checked afterwards on the draft.
"""

from __future__ import annotations

import re

from bot.flow.conditions import ConditionSyntaxError, compile_condition, parse_condition
from bot.flow.draft import (
    ConditionDraft,
    FlowDraft,
    ReasonDraft,
    RuleDraft,
    SafetyNetDraft,
    StepDraft,
    TextUse,
)
from bot.flow.errors import closest, did_you_mean
from bot.flow.keys import (
    ALL_STEP_KEYS,
    COLUMNS_RANGE,
    DEFAULT_COLUMNS,
    OPTION_KEYS,
    REASON_RULE_KEYS,
    RULE_KEYS,
    SAFETY_NET_KEYS,
    STEP_KEYS,
    STEP_REQUIRED,
    STEP_TYPES,
    TOP_KEYS,
    TOP_REQUIRED,
)
from bot.flow.model import Condition, LocalText, Option, StepKind
from bot.flow.report import Report
from bot.flow.source import YMap, YNode, YScalar, YSeq, describe

ID = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
LANGUAGE = re.compile(r"^[a-z]{2,3}(-[a-z0-9]{2,8})*$")

_MISSING_STEP_KEY_HINT = {
    "type": "Add type: with one of: " + ", ".join(STEP_TYPES) + ".",
    "text": 'Add text: "..." with what the person reads at this step.',
    "options": 'Add options: with one line per button, like  buttock: "Deep in one buttock".',
    "min": "Add min: with the lowest number allowed, e.g. min: 0.",
    "max": "Add max: with the highest number allowed, e.g. max: 10.",
}
_TOP_HINT = {
    "flow": "Add flow: with a short id for this flow, e.g. flow: sciatica.",
    "version": "Add version: 1 (raise it whenever you change the questions).",
    "start": "Add start: with the id of the first step.",
    "steps": "Add steps: with the steps of the conversation.",
}


def suggest_id(text: str) -> str:
    cleaned = re.sub(r"[^A-Za-z0-9_]+", "_", text).strip("_")
    if cleaned and not cleaned[0].isalpha():
        cleaned = f"n{cleaned}"
    return cleaned or "my_id"


class FlowReader:
    def __init__(self, report: Report, file: str, lines: list[str]) -> None:
        self.report = report
        self.draft = FlowDraft(file=file, lines=lines)

    # -- helpers ------------------------------------------------------------------------------

    def check_keys(self, node: YMap, known: frozenset[str], what: str) -> None:
        names = sorted(known)
        for name, key, _ in node.items():
            if name not in known:
                self.report.error(
                    key,
                    f"'{name}' is not something {what} can have.",
                    did_you_mean(name, names, "Possible keys"),
                )

    def misspelt(self, node: YMap, wanted: str, known: frozenset[str]) -> bool:
        """Is there an unknown key that most likely means ``wanted``? Then the typo is
        reported (with "did you mean"), not the missing key as well."""
        unknown = [name for name in node.entries if name not in known]
        return any(closest(name, sorted(known)) == wanted for name in unknown)

    def misspelling(self, node: YMap, wanted: str) -> str | None:
        for name in node.entries:
            if name not in ALL_STEP_KEYS and closest(name, sorted(ALL_STEP_KEYS)) == wanted:
                return name
        return None

    def ident(self, node: YNode | None, what: str) -> str | None:
        """An id written as a value (``next: location``), checked for its form."""
        if node is None:
            return None
        if not isinstance(node, YScalar) or node.value is None:
            self.report.error(node, f"Expected {what} here, found {describe(node)}.")
            return None
        return self.check_id(node, what)

    def step_ref(self, node: YNode | None) -> str | None:
        """A step named as a value. A badly formed id is reported but kept as written, so
        that the step it names (reported too) still counts as reached."""
        target = self.ident(node, "a step id")
        if target is None and isinstance(node, YScalar) and node.value is not None:
            return node.text
        return target

    def check_id(self, node: YScalar, what: str) -> str | None:
        text = node.text
        if not ID.match(text):
            self.report.error(
                node,
                f"'{text}' cannot be used as {what}: ids use only letters, digits and _, "
                f"and start with a letter.",
                f"For example: {suggest_id(text)}",
            )
            return None
        return text

    def integer(self, node: YNode, what: str) -> int | None:
        if (
            isinstance(node, YScalar)
            and isinstance(node.value, int)
            and not isinstance(node.value, bool)
        ):
            return node.value
        shown = describe(node)
        hint = f"Write {what} in digits, for example 10."
        if isinstance(node, YScalar) and isinstance(node.value, float):
            hint = f"Only whole numbers are possible here; write {what} without a decimal point."
        self.report.error(node, f"{what.capitalize()} must be a whole number, not {shown}.", hint)
        return None

    def boolean(self, node: YNode, what: str) -> bool | None:
        if isinstance(node, YScalar) and isinstance(node.value, bool):
            return node.value
        self.report.error(
            node,
            f"'{what}' must be true or false, not {describe(node)}.",
            f"Write {what}: true  or  {what}: false.",
        )
        return None

    def text(
        self,
        node: YNode | None,
        role: str,
        *,
        step: str | None = None,
        extra_keys: frozenset[str] = frozenset(),
        ui_key: str | None = None,
    ) -> LocalText | None:
        """A text: one string, or a group of languages (``{en: ..., es: ...}``)."""
        if node is None:
            return None
        languages = self.draft.languages
        if isinstance(node, YScalar):
            if node.value is None or node.text.strip() == "":
                self.report.error(
                    node, "This text is empty.", 'Write the text after the colon: "..."'
                )
                return None
            language = self.draft.default_language
            text = LocalText({language: node.text})
            self.draft.texts.append(
                TextUse(text, node, {language: node}, role, step, plain=True, ui_key=ui_key)
            )
            return text
        if isinstance(node, YSeq):
            self.report.error(
                node,
                "A text is either words, or one line per language (en: ..., es: ...), not a list.",
                'Write  text: "..."  or put each language on its own line: en: "...".',
            )
            return None
        by_language: dict[str, str] = {}
        nodes: dict[str, YScalar] = {}
        complete = True
        for language, key, value in node.items():
            if language not in languages:
                complete = False
                what = "Possible keys" if extra_keys else "This flow's languages"
                self.report.error(
                    key,
                    f"'{language}' is not one of this flow's languages.",
                    did_you_mean(language, [*languages, *sorted(extra_keys)], what)
                    + " To add a language, list it in languages: at the top of the file.",
                )
                continue
            if not isinstance(value, YScalar) or value.value is None or not value.text.strip():
                self.report.error(value, f"The '{language}' text is empty or not a text.")
                continue
            by_language[language] = value.text
            nodes[language] = value
        if not by_language:
            if not node.entries:
                self.report.error(node, "This text is empty.")
            return None
        text = LocalText(by_language)
        self.draft.texts.append(
            TextUse(text, node, nodes, role, step, ui_key=ui_key, complete=complete)
        )
        return text

    def condition(self, node: YNode | None) -> ConditionDraft | None:
        if node is None:
            return None
        if not isinstance(node, YScalar) or node.value is None or isinstance(node, YMap):
            self.report.error(
                node,
                f"A condition is one line of text, found {describe(node)}.",
                "For example:  if: severity >= 7",
            )
            return ConditionDraft(None, None, self.draft.lines)
        source = node.text
        draft = ConditionDraft(None, node, self.draft.lines)
        try:
            tree = parse_condition(source)
            test = compile_condition(tree)
        except ConditionSyntaxError as error:
            self.report.error(
                draft.span(error.column, 1),
                f"This condition cannot be read. {error.message}",
                error.hint,
            )
            return draft
        where = self.draft.where(draft.span())
        draft.condition = Condition(source=source, tree=tree, test=test, where=where)
        return draft

    # -- the file -----------------------------------------------------------------------------

    def read(self, root: YNode) -> FlowDraft:
        draft = self.draft
        if not isinstance(root, YMap):
            self.report.error(
                root,
                "A flow file is a group of keys (flow:, version:, start:, steps: ...), "
                f"but this file holds {describe(root)}.",
                "See docs/flow-language.md for a complete small example.",
            )
            return draft
        draft.root = root
        self.check_keys(root, TOP_KEYS, "a flow")
        for name in TOP_REQUIRED:
            if name not in root.entries and not self.misspelt(root, name, TOP_KEYS):
                self.report.error(root.span, f"The flow has no '{name}'.", _TOP_HINT.get(name, ""))
        self.read_languages(root.get("languages"))
        flow_id = self.ident(root.get("flow"), "the flow id")
        draft.id = flow_id or ""
        version = root.get("version")
        if version is not None:
            number = self.integer(version, "the version")
            if number is not None and number < 0:
                self.report.error(version, "The version cannot be negative.")
            draft.version = number or 0
        draft.title = self.text(root.get("title"), "title")
        draft.disclaimer = self.text(root.get("disclaimer"), "disclaimer")
        draft.safety_line = self.text(root.get("safety_line"), "safety_line")
        self.read_reasons(root.get("reasons"))
        self.read_ui(root.get("ui"))
        self.read_steps(root.get("steps"))
        start = root.get("start")
        draft.start_node = start
        draft.start = self.step_ref(start)
        self.read_safety_net(root.get("safety_net"))
        return draft

    def read_languages(self, node: YNode | None) -> None:
        if node is None:
            return
        items = node.items if isinstance(node, YSeq) else [node]
        languages: list[str] = []
        for item in items:
            if not isinstance(item, YScalar) or not LANGUAGE.match(item.text):
                self.report.error(
                    item,
                    f"Expected a language code such as en or es, found {describe(item)}.",
                    "Write languages: [en, es] with two-letter lower-case codes; the first "
                    "one is used when a text has no translation.",
                )
                continue
            if item.text in languages:
                self.report.error(item, f"The language '{item.text}' is listed twice.")
                continue
            languages.append(item.text)
        if languages:
            self.draft.languages = tuple(languages)
        elif isinstance(node, YSeq) and not node.items:
            self.report.error(node, "No languages are listed.", "Write languages: [en].")

    def read_reasons(self, node: YNode | None) -> None:
        if node is None:
            return
        if not isinstance(node, YMap):
            self.report.error(
                node,
                'reasons: lists one reason per line: reason_id: "the text".',
                'For example:  under_16: "you are under 16"',
            )
            return
        for _name, key, value in node.items():
            reason_id = self.check_id(key, "a reason id")
            text = self.text(value, "reason")
            if reason_id is not None and text is not None:
                self.draft.reasons[reason_id] = text
                self.draft.reason_keys[reason_id] = key

    def read_ui(self, node: YNode | None) -> None:
        if node is None:
            return
        from bot.engine import UI_DEFAULTS  # lazily: bot.engine imports this package

        if not isinstance(node, YMap):
            self.report.error(node, 'ui: lists one text per line, e.g.  book_button: "Book".')
            return
        for name, key, value in node.items():
            if name not in UI_DEFAULTS:
                self.report.error(
                    key,
                    f"'{name}' is not a text of the bot that can be changed.",
                    did_you_mean(name, sorted(UI_DEFAULTS), "Texts you can change"),
                )
                continue
            text = self.text(value, "ui", ui_key=name)
            if text is not None:
                self.draft.ui[name] = text

    def read_safety_net(self, node: YNode | None) -> None:
        if node is None:
            return
        if not isinstance(node, YMap):
            self.report.error(
                node,
                "safety_net: needs goto: (an outcome) and phrases: (per language).",
                "See the safety net section of docs/flow-language.md.",
            )
            return
        self.check_keys(node, SAFETY_NET_KEYS, "the safety net")
        target_node = node.get("goto")
        if target_node is None:
            self.report.error(
                node.span,
                "The safety net has no 'goto'.",
                "Add goto: with the id of the emergency outcome.",
            )
        target = self.step_ref(target_node)
        phrases = self.read_phrases(node.get("phrases"), node)
        self.draft.safety_net = SafetyNetDraft(target, target_node, phrases, node)

    def read_phrases(self, node: YNode | None, parent: YMap) -> dict[str, tuple[str, ...]]:
        from bot.engine import normalise_phrase  # lazily: bot.engine imports this package

        if node is None:
            self.report.error(
                parent.span,
                "The safety net has no 'phrases'.",
                "Add phrases: with, per language, a list of words people may type, e.g. "
                'en: ["can\'t pee"].',
            )
            return {}
        groups: list[tuple[str, YNode]] = []
        if isinstance(node, YSeq):
            groups.append((self.draft.default_language, node))
        elif isinstance(node, YMap):
            for language, key, value in node.items():
                if language not in self.draft.languages:
                    self.report.error(
                        key,
                        f"'{language}' is not one of this flow's languages.",
                        did_you_mean(language, list(self.draft.languages), "Languages"),
                    )
                    continue
                groups.append((language, value))
        else:
            self.report.error(
                node,
                "phrases: lists, per language, the words to look for.",
                'For example:  en: ["can\'t pee", "numb down there"]',
            )
            return {}
        phrases: dict[str, tuple[str, ...]] = {}
        for language, value in groups:
            items = value.items if isinstance(value, YSeq) else [value]
            found: list[str] = []
            for item in items:
                phrase = normalise_phrase(item.text) if isinstance(item, YScalar) else ""
                if not phrase:
                    self.report.error(
                        item, "This phrase is empty or has no letters or digits to look for."
                    )
                    continue
                found.append(phrase)
            phrases[language] = tuple(dict.fromkeys(found))
        return phrases

    # -- steps --------------------------------------------------------------------------------

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
            self.report.error(
                step.key
                if node is None or (isinstance(node, YScalar) and node.value is None)
                else node,
                f"The step '{step.id}' has nothing in it.",
                "Indent its keys (type:, text:, ...) under the step id.",
            )
            return
        type_node = node.get("type")
        kind: str | None = None
        if type_node is None:
            self.report.error(
                step.key, f"The step '{step.id}' has no type.", _MISSING_STEP_KEY_HINT["type"]
            )
        elif isinstance(type_node, YScalar) and type_node.text in STEP_TYPES:
            kind = type_node.text
        else:
            shown = type_node.text if isinstance(type_node, YScalar) else describe(type_node)
            self.report.error(
                type_node,
                f"'{shown}' is not a type of step.",
                did_you_mean(shown, list(STEP_TYPES), "Step types"),
            )
        self.check_step_keys(step, node, kind)
        if kind is None:
            # Still follow its text and next, so that one wrong type is reported once and
            # not again as unreachable steps or unknown names further on.
            step.text = self.text(node.get("text"), "step", step=step.id)
            if "next" in node.entries:
                step.next_key = node.key("next")
                self.read_next(step, node.get("next"))
            return
        step.kind = StepKind(kind)
        step.columns = DEFAULT_COLUMNS.get(kind, 1)
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
        step.text = self.text(node.get("text"), "step", step=step.id)
        if "options" in node.entries:
            self.read_options(step, node.get("options"))
        for bound in ("min", "max"):
            value = node.get(bound)
            if value is not None:
                number = self.integer(value, f"'{bound}'")
                if bound == "min":
                    step.minimum = number
                else:
                    step.maximum = number
        if step.minimum is not None and step.maximum is not None and step.minimum > step.maximum:
            at = node.get("min")
            assert at is not None
            self.report.error(
                at,
                f"min ({step.minimum}) is larger than max ({step.maximum}), so no number fits.",
                "Swap the two numbers.",
            )
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
        for flag in ("urgent", "booking"):
            value = node.get(flag)
            if value is not None:
                setattr(step, flag, bool(self.boolean(value, flag)))
        next_name = "next" if "next" in node.entries else self.misspelling(node, "next")
        if next_name is not None:
            # A misspelt `next` (reported above) is still followed, so that the steps after
            # it are not also reported as unreachable.
            step.next_key = node.key(next_name)
            self.read_next(step, node.get(next_name))
        if "reasons" in node.entries:
            self.read_reason_rules(step, node.get("reasons"))

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
            exclusive = False
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
            label = self.text(label_node, "label", step=step.id, extra_keys=OPTION_KEYS)
            step.options.append(Option(option_id, label or LocalText({}), exclusive))
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
