"""Reading single values of a flow file: ids, numbers, yes/no, texts and conditions.

Each helper reports what is wrong with the value in plain words (with "did you mean" where a
typo is likely) and returns ``None`` when the value cannot be used, so that reading goes on
and every problem is found in one pass.
"""

from __future__ import annotations

import re

from bot.flow.conditions import ConditionSyntaxError, compile_condition, parse_condition
from bot.flow.draft import ConditionDraft, FlowDraft, TextUse
from bot.flow.errors import closest, did_you_mean
from bot.flow.keys import ALL_STEP_KEYS
from bot.flow.model import Condition, LocalText
from bot.flow.positions import Span
from bot.flow.report import Report
from bot.flow.safety_rules import DISCLAIMER_ON_EVERY_OUTCOME
from bot.flow.source import YMap, YNode, YScalar, YSeq, describe
from bot.flow.yaml_errors import CURLY, straight

ID = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
LANGUAGE = re.compile(r"^[a-z]{2,3}(-[a-z0-9]{2,8})*$")
# The texts that close an outcome (safety rule S4): empty, they are as good as missing.
_CLOSING = ("disclaimer", "urgent_disclaimer")


def suggest_id(text: str) -> str:
    cleaned = re.sub(r"[^A-Za-z0-9_]+", "_", text).strip("_")
    if cleaned and not cleaned[0].isalpha():
        cleaned = f"n{cleaned}"
    return cleaned or "my_id"


class ValueReader:
    def __init__(self, report: Report, file: str, lines: list[str]) -> None:
        self.report = report
        self.draft = FlowDraft(file=file, lines=lines)

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
            return node.text.strip(CURLY)  # “emergency” (reported) still names emergency
        return target

    def check_id(self, node: YScalar, what: str) -> str | None:
        text = node.text
        if any(char in CURLY for char in text) and ID.match(text.strip(CURLY)):
            self.report.error(
                node,
                f"{text} is in curly quotes, as a word processor types them: {what} needs "
                "no quotes.",
                f"Write: {text.strip(CURLY)}",
            )
            return None
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
        option: str | None = None,
    ) -> LocalText | None:
        """A text: one string, or a group of languages (``{en: ..., es: ...}``)."""
        if node is None:
            return None
        languages = self.draft.languages
        if isinstance(node, YScalar):
            if node.value is None or node.text.strip() == "":
                if role in _CLOSING:
                    self.empty_disclaimer(node, role)
                else:
                    self.report.error(
                        node, "This text is empty.", 'Write the text after the colon: "..."'
                    )
                return None
            self.curly_around(node)
            language = self.draft.default_language
            text = LocalText({language: node.text})
            self.draft.texts.append(
                TextUse(
                    text,
                    node,
                    {language: node},
                    role,
                    step,
                    plain=True,
                    ui_key=ui_key,
                    option=option,
                )
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
        cut: YScalar | None = None  # a text in { } cut at a comma: its first piece
        told: set[int] = set()
        for language, key, value in node.items():
            if language not in languages and self.cut_at_comma(node, cut, key, value, told):
                complete = False
                continue
            cut = value if isinstance(value, YScalar) and not value.quoted else None
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
            self.curly_around(value)
            by_language[language] = value.text
            nodes[language] = value
        if not by_language:
            if role in _CLOSING and complete:
                self.empty_disclaimer(node, role)  # every language empty: none to fall back on
            elif not node.entries:
                self.report.error(node, "This text is empty.")
            return None
        text = LocalText(by_language)
        self.draft.texts.append(
            TextUse(text, node, nodes, role, step, ui_key=ui_key, complete=complete, option=option)
        )
        return text

    def empty_disclaimer(self, node: YNode, role: str) -> None:
        """An empty disclaimer breaks safety rule S4 as surely as a missing one."""
        which, outcomes = (
            ("disclaimer", "the outcomes")
            if role == "disclaimer"
            else ("urgent disclaimer", "the urgent outcomes")
        )
        self.report.error(
            node,
            DISCLAIMER_ON_EVERY_OUTCOME.say(
                f"The {which} is empty, so {outcomes} would end without saying that a massage "
                "therapist cannot diagnose."
            ),
            f"Write it after the colon, for example:  {role}: "
            '"We are massage therapists, not doctors: this check cannot diagnose anything."',
        )

    def curly_around(self, node: YScalar) -> None:
        """A text wrapped in curly quotes: meant as quotes, shown to people as they are."""
        text = node.text.strip()
        if len(text) > 1 and text[0] in "“‘" and text[-1] in "”’" and not node.quoted:
            self.report.warning(
                node,
                f"This text starts and ends with curly quotes ({text[0]} {text[-1]}), as a word "
                "processor types them: YAML does not read them as quotes, so people would see "
                "them.",
                f"If they are meant as the quotes around the text, type straight ones:  "
                f'"{text[1:-1]}"',
            )

    def cut_at_comma(
        self, node: YMap, cut: YScalar | None, key: YScalar, value: YNode | None, told: set[int]
    ) -> bool:
        """``{ en: Worse when you sit, for example at a desk?, es: ... }``: in { } a comma ends
        a text without quotes, and YAML reads the rest as one more language. Reported once,
        at the first comma, with the whole text in quotes; True when this key is such a rest."""
        empty = value is None or (isinstance(value, YScalar) and value.value is None)
        if not (node.flow and empty and cut is not None and cut.span.line == key.span.line):
            return False
        line = self.draft.lines[key.span.line - 1]
        start = cut.span.column - 1
        last = key
        rest = [k for _, k, _ in node.items()]
        for later, later_value in [(k, v) for _, k, v in node.items()][rest.index(key) + 1 :]:
            nothing = later_value is None or (
                isinstance(later_value, YScalar) and later_value.value is None
            )
            languages = self.draft.languages
            if not nothing or later.text in languages or later.span.line != key.span.line:
                break
            last = later  # a text with several commas: all its pieces
        end = (last.span.end_column or len(line) + 1) - 1
        whole = line[start:end]
        if len(whole) <= len(cut.text) or "," not in whole[len(cut.text) :]:
            return False
        if id(cut) in told:
            return True
        told.add(id(cut))
        if whole[0] in CURLY:
            # “No, not really” is meant as quotes: straight ones are the fix, not more quotes.
            if id(node) not in told:  # once for the line, which the hint puts right whole
                told.add(id(node))
                self.report.error(
                    Span(cut.span.line, start + 1, start + 2),
                    f"{whole[0]} is a curly quote, as a word processor types it: YAML only "
                    "understands the straight quotes \" and ' around a text.",
                    "Type the quotes again in this editor (straight quotes):\n    "
                    + straight(line.strip()),
                )
            return True
        comma = start + len(cut.text)
        language = next(name for name, (_, v) in node.entries.items() if v is cut)
        self.report.error(
            Span(cut.span.line, comma + 1, comma + 2),
            "This text has a comma, and inside { } a comma ends a text without quotes: YAML "
            f"read '{key.text}' as one more language.",
            f'Put the text in double quotes:  {language}: "{whole}"',
        )
        return True

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
