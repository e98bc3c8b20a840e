"""Read the YAML tree of a flow file into a :class:`~bot.flow.draft.FlowDraft`.

This pass checks the shape of the file: known keys (typos get a "did you mean"), required
keys, ids, value types (a number where a number is needed), texts and translations as
written, and that conditions can be read. Whether the pieces fit together (targets exist,
every answer has a way on, rules can hold) is checked afterwards on the draft.
"""

from __future__ import annotations

from bot.flow.draft import ClauseDraft, ConceptDraft, FlowDraft, SafetyNetDraft
from bot.flow.errors import did_you_mean
from bot.flow.keys import (
    CONCEPT_KEYS,
    DEFAULT_LABEL_LIMIT,
    LABEL_LIMIT_RANGE,
    SAFETY_NET_KEYS,
    TOP_KEYS,
    TOP_REQUIRED,
)
from bot.flow.read_steps import StepReader
from bot.flow.safety import DEFAULT_NEAR, STEMMERS, term_problem
from bot.flow.source import YMap, YNode, YScalar, YSeq, describe
from bot.flow.ui import UI_DEFAULTS
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
        self.read_label_limit(root.get("label_limit"))
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
            if isinstance(item, YScalar) and "," in item.text and not isinstance(node, YSeq):
                codes = ", ".join(code.strip() for code in item.text.split(","))
                self.report.error(
                    item,
                    f"The languages are one text here, '{item.text}': a list needs [square "
                    "brackets].",
                    f"Write  languages: [{codes}]  (the first one is used when a text has no "
                    "translation).",
                )
                meant = [code.strip() for code in item.text.split(",")]
                if all(LANGUAGE.match(code) for code in meant):
                    self.draft.languages = tuple(dict.fromkeys(meant))  # read on with them
                return
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

    def read_label_limit(self, node: YNode | None) -> None:
        if node is None:
            return
        number = self.integer(node, "label_limit")
        low, high = LABEL_LIMIT_RANGE
        if number is not None and not low <= number <= high:
            self.report.error(
                node,
                f"label_limit must be from {low} to {high} (characters on a button), not {number}.",
                f"The default is {DEFAULT_LABEL_LIMIT}, about what fits on a phone's button.",
            )
        elif number is not None:
            self.draft.label_limit = number

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
                "safety_net: needs goto: (an outcome), words: (word groups) and concepts: "
                "(the warning signs).",
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
        net = SafetyNetDraft(self.step_ref(target_node), target_node, node)
        net.words = self.read_word_groups(node.get("words"), node)
        net.negations = self.read_terms(node.get("negations"), "negations") or {}
        net.doubts = self.read_terms(node.get("doubts"), "doubts") or {}
        net.ignore = self.read_terms(node.get("ignore"), "ignore") or {}
        self.read_concepts(node.get("concepts"), node, net)
        self.draft.safety_net = net

    def read_word_groups(
        self, node: YNode | None, parent: YMap
    ) -> dict[str, dict[str, tuple[str, ...]]]:
        if node is None or not isinstance(node, YMap):
            self.report.error(
                node or parent.span,
                "The safety net needs words: with its word groups, one per line.",
                'For example:  words:\n    numb:\n      en: [numb, tingling, "no feeling"]',
            )
            return {}
        groups: dict[str, dict[str, tuple[str, ...]]] = {}
        for _name, key, value in node.items():
            group = self.check_id(key, "a word group")
            terms = self.read_terms(value, "a word group")
            if group is not None and terms is not None:
                groups[group] = terms
                self.draft.safety_net_groups[group] = key
        return groups

    def read_terms(self, node: YNode | None, what: str) -> dict[str, tuple[str, ...]] | None:
        """Words per language: ``en: [numb, "no feeling"]``; a plain list is the first
        language's."""
        if node is None:
            return None
        lists: list[tuple[str, YNode]] = []
        if isinstance(node, YSeq):
            lists.append((self.draft.default_language, node))
        elif isinstance(node, YMap):
            for language, key, value in node.items():
                if language not in self.draft.languages:
                    self.report.error(
                        key,
                        f"'{language}' is not one of this flow's languages.",
                        did_you_mean(language, list(self.draft.languages), "Languages"),
                    )
                    continue
                if language not in STEMMERS:
                    self.report.warning(
                        key,
                        f"Word endings are not understood for '{language}': its words are "
                        "matched as written.",
                        "Add the word forms people type, or a * at the end of a word.",
                    )
                lists.append((language, value))
        else:
            self.report.error(
                node,
                f"{what} lists, per language, the words to look for.",
                'For example:  en: [numb, tingling, "no feeling"]',
            )
            return None
        terms: dict[str, tuple[str, ...]] = {}
        for language, value in lists:
            items = value.items if isinstance(value, YSeq) else [value]
            found: list[str] = []
            for item in items:
                text = item.text if isinstance(item, YScalar) and item.value is not None else ""
                problem = term_problem(text) if text else "This word is empty."
                if problem is not None:
                    self.report.error(item, problem)
                    continue
                found.append(" ".join(text.split()))
            terms[language] = tuple(dict.fromkeys(found))
        return terms

    def read_concepts(self, node: YNode | None, parent: YMap, net: SafetyNetDraft) -> None:
        if node is None or not isinstance(node, YMap):
            self.report.error(
                node or parent.span,
                "The safety net needs concepts: with the warning signs it looks for.",
                "For example:  concepts:\n    saddle_numbness:\n      sign: ...\n"
                "      when: [numb + saddle]",
            )
            return
        for _name, key, value in node.items():
            concept_id = self.check_id(key, "a concept id")
            if concept_id is None:
                continue
            if not isinstance(value, YMap):
                self.report.error(
                    value or key,
                    f"The concept '{concept_id}' needs sign: and when:.",
                    "sign: names it in plain words; when: lists the word groups that mean it, "
                    "like  when: [numb + saddle].",
                )
                continue
            self.check_keys(value, CONCEPT_KEYS, "a safety-net concept")
            sign = self.text(value.get("sign"), "sign")
            if value.get("sign") is None:
                self.report.error(
                    key,
                    f"The concept '{concept_id}' has no sign:.",
                    'Add sign: with the sign in plain words, as in "do you have ...?".',
                )
            when = self.read_clauses(value.get("when"), net)
            if value.get("when") is None:
                self.report.error(
                    key,
                    f"The concept '{concept_id}' has no when:.",
                    "Add when: with the word groups that mean it, like  when: [numb + saddle].",
                )
            ask = self.read_clauses(value.get("ask"), net)
            near = DEFAULT_NEAR
            near_node = value.get("near")
            if near_node is not None:
                number = self.integer(near_node, "near")
                if number is not None and not 2 <= number <= 30:
                    self.report.error(near_node, "near: is a number of words from 2 to 30.")
                elif number is not None:
                    near = number
            doubted_by = self.read_groups(value.get("doubted_by"))
            net.concepts.append(
                ConceptDraft(concept_id, key, sign, tuple(when), tuple(ask), near, doubted_by)
            )

    def read_groups(self, node: YNode | None) -> tuple[ClauseDraft, ...]:
        """``doubted_by: [long_ago]``: word groups, each on its own (no +)."""
        if node is None:
            return ()
        items = node.items if isinstance(node, YSeq) else [node]
        groups: list[ClauseDraft] = []
        for item in items:
            text = item.text.strip() if isinstance(item, YScalar) and item.value is not None else ""
            if not text or "+" in text:
                self.report.error(
                    item,
                    "doubted_by: lists word groups, one name each, like  doubted_by: [long_ago].",
                    "A word of any of them in the same sentence as the sign makes it a question.",
                )
                continue
            groups.append(ClauseDraft((text,), item))
        return tuple(groups)

    def read_clauses(self, node: YNode | None, net: SafetyNetDraft) -> list[ClauseDraft]:
        """``[numb + saddle, cauda_equina]``: each clause names word groups joined by +."""
        if node is None:
            return []
        items = node.items if isinstance(node, YSeq) else [node]
        clauses: list[ClauseDraft] = []
        for item in items:
            text = item.text if isinstance(item, YScalar) and item.value is not None else ""
            groups = tuple(part.strip() for part in text.split("+"))
            if not text.strip() or not all(groups):
                self.report.error(
                    item,
                    "Expected word groups joined by +, like  numb + saddle.",
                    "Each name is a group under words:.",
                )
                continue
            if len(groups) > 4:
                self.report.error(item, "A clause joins at most four word groups.")
                continue
            clauses.append(ClauseDraft(groups, item))
        return clauses

    # -- steps --------------------------------------------------------------------------------
