"""Read the YAML tree of a flow file into a :class:`~bot.flow.draft.FlowDraft`.

This pass checks the shape of the file: known keys (typos get a "did you mean"), required
keys, ids, value types (a number where a number is needed), texts and translations as
written, and that conditions can be read. Whether the pieces fit together (targets exist,
every answer has a way on, rules can hold) is checked afterwards on the draft.
"""

from __future__ import annotations

from bot.flow.draft import FlowDraft, SafetyNetDraft
from bot.flow.errors import did_you_mean
from bot.flow.keys import SAFETY_NET_KEYS, TOP_KEYS, TOP_REQUIRED
from bot.flow.read_steps import StepReader
from bot.flow.source import YMap, YNode, YScalar, YSeq, describe
from bot.flow.values import LANGUAGE

_TOP_HINT = {
    "flow": "Add flow: with a short id for this flow, e.g. flow: sciatica.",
    "version": "Add version: 1 (raise it whenever you change the questions).",
    "start": "Add start: with the id of the first step.",
    "steps": "Add steps: with the steps of the conversation.",
}


class FlowReader(StepReader):
    """Reads a whole flow file (see :meth:`read`)."""

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
        draft.urgent_disclaimer = self.text(root.get("urgent_disclaimer"), "urgent_disclaimer")
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
