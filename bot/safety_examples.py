"""The therapist's safety examples: messages the safety net must (or must not) act on.

A safety-examples file sits next to its flow (``flows/sciatica.safety.yaml`` for
``flows/sciatica.yaml``). ``triage-bot flows check`` validates it (its problems are shown like
the flow's, with file:line:column and advice) and ``triage-bot flows test`` runs it::

    examples:
      en:
        emergency:                 # must go straight to the emergency advice
          saddle_numbness:
            - "cant feel anything when i wipe"
        confirm:                   # must ask the yes/no question about that sign
          saddle_numbness:
            - "no numbness down there"
        none:                      # ordinary pain talk: must not trigger anything
          - "my bum hurts when i sit on the toilet"

A concept of the flow with no example in a language gets a warning: every warning sign should
be shown working in every language the bot speaks.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from bot.flow.errors import Problem, closest, did_you_mean
from bot.flow.model import Flow
from bot.flow.origin import EXAMPLES_SUFFIX
from bot.flow.report import Report, read_tree
from bot.flow.safety import Screener, Screening, Verdict
from bot.flow.source import YMap, YNode, YScalar, YSeq, describe

VERDICTS = tuple(v.value for v in Verdict)


@dataclass(frozen=True, slots=True)
class Example:
    text: str
    language: str
    expect: Verdict
    concept: str | None  # the sign meant (None for "none")
    line: int


@dataclass(frozen=True, slots=True)
class ExampleResult:
    example: Example
    got: Screening

    @property
    def passed(self) -> bool:
        return self.got.verdict is self.example.expect


def examples_path_for(flow_file: str | Path) -> Path:
    path = Path(flow_file)
    return path.with_name(path.stem + EXAMPLES_SUFFIX)


def flow_path_for_examples(examples_file: str | Path) -> Path:
    path = Path(examples_file)
    return path.with_name(path.name[: -len(EXAMPLES_SUFFIX)] + ".yaml")


def is_examples_file(path: Path) -> bool:
    return path.name.endswith(EXAMPLES_SUFFIX)


def read_examples(path: str | Path, flow: Flow) -> tuple[list[Example], list[Problem]]:
    """The examples in ``path`` and every problem found in the file (errors and warnings)."""
    report, root = read_tree(path, empty="This safety-examples file is empty.", hint=_SHAPE_HINT)
    if root is None:
        return [], report.sorted()
    examples = _ExampleReader(report, flow).read(root)
    return examples, report.sorted()


def run_examples(screener: Screener, examples: Iterable[Example]) -> list[ExampleResult]:
    return [ExampleResult(example, screener.screen(example.text)) for example in examples]


def format_result(result: ExampleResult) -> str:
    example, got = result.example, result.got
    mark = "ok  " if result.passed else "FAIL"
    wanted = example.expect.value + (f" ({example.concept})" if example.concept else "")
    found = got.verdict.value + (f" ({got.concept}: “{got.evidence}”)" if got.concept else "")
    return f"  {mark} line {example.line} [{example.language}] {example.text!r}\n" + (
        "" if result.passed else f"       expected {wanted}, got {found}"
    )


_SHAPE_HINT = (
    "The file holds  examples:  then one group per language (en:), each with emergency:, "
    "confirm: and none:. See the top of flows/sciatica.safety.yaml."
)


class _ExampleReader:
    def __init__(self, report: Report, flow: Flow) -> None:
        self.report = report
        self.flow = flow
        net = flow.safety_net
        self.concepts = [c.id for c in net.concepts] if net else []

    def read(self, root: YNode) -> list[Example]:
        if not isinstance(root, YMap) or root.get("examples") is None:
            misspelt = (
                [name for name in root.entries if closest(name, ["examples"])]
                if isinstance(root, YMap)
                else []
            )
            if misspelt:
                key = root.key(misspelt[0]) if isinstance(root, YMap) else None
                self.report.error(
                    key or root,
                    f"'{misspelt[0]}' is not something this file can have.",
                    "Did you mean 'examples'? " + _SHAPE_HINT,
                )
                return []
            self.report.error(root, "Expected  examples:  at the top of the file.", _SHAPE_HINT)
            return []
        for name, key, _ in root.items():
            if name != "examples":
                self.report.error(
                    key,
                    f"'{name}' is not something this file can have.",
                    did_you_mean(name, ["examples"], "Possible keys"),
                )
        by_language = root.get("examples")
        if not isinstance(by_language, YMap):
            self.report.error(by_language or root, "examples: holds one group per language.")
            return []
        examples: list[Example] = []
        for language, key, value in by_language.items():
            if language not in self.flow.languages:
                self.report.error(
                    key,
                    f"'{language}' is not one of the flow's languages.",
                    did_you_mean(language, list(self.flow.languages), "Languages"),
                )
                continue
            examples.extend(self._language(language, key, value))
        self._warn_uncovered(examples, by_language)
        return examples

    def _language(self, language: str, key: YScalar, node: YNode) -> list[Example]:
        if not isinstance(node, YMap):
            self.report.error(node, f"{language}: holds emergency:, confirm: and none:.")
            return []
        found: list[Example] = []
        for name, verdict_key, value in node.items():
            if name not in VERDICTS:
                self.report.error(
                    verdict_key,
                    f"'{name}' is not a verdict.",
                    did_you_mean(name, list(VERDICTS), "Verdicts"),
                )
                continue
            verdict = Verdict(name)
            if verdict is Verdict.NONE:
                found.extend(self._messages(value, language, verdict, None))
                continue
            if not isinstance(value, YMap):
                self.report.error(
                    value,
                    f"{name}: lists the messages under the sign they mean, "
                    f"found {describe(value)}.",
                    f'For example:  {name}:\n    saddle_numbness:\n      - "numb down there"',
                )
                continue
            for concept, concept_key, messages in value.items():
                if concept not in self.concepts:
                    self.report.error(
                        concept_key,
                        f"'{concept}' is not a concept of the flow's safety net.",
                        did_you_mean(concept, self.concepts, "Concepts"),
                    )
                    continue
                found.extend(self._messages(messages, language, verdict, concept))
        return found

    def _messages(
        self, node: YNode, language: str, verdict: Verdict, concept: str | None
    ) -> list[Example]:
        items: Sequence[YNode] = node.items if isinstance(node, YSeq) else [node]
        found = []
        for item in items:
            if not isinstance(item, YScalar) or not isinstance(item.value, str | int):
                self.report.error(item, 'Each example is one message in quotes: - "...".')
                continue
            if not item.text.strip():
                self.report.error(item, "This example is empty.")
                continue
            found.append(Example(item.text, language, verdict, concept, item.span.line))
        return found

    def _warn_uncovered(self, examples: list[Example], node: YMap) -> None:
        for language in self.flow.languages:
            covered = {e.concept for e in examples if e.language == language}
            missing = [c for c in self.concepts if c not in covered]
            if missing:
                self.report.warning(
                    node,
                    f"No {language} example for: {', '.join(missing)}.",
                    "Add at least one message per warning sign and language, so that a "
                    "change to the words is tested.",
                )
