"""Walk a flow by a set of answers, and run the therapist's scenario files.

A *walk* drives the real :class:`~bot.engine.Engine` from the flow's start, answering each
question it asks from a mapping ``answer key -> value``, exactly as a person pressing buttons
would (:class:`Choose`, :class:`Toggle` then :class:`Done`, :class:`Number`). Answers the path
never asks for are ignored; a question on the path without an answer, or with a value the
question does not accept, is an :class:`AnswerError`. ``triage-bot flows try`` and
``triage-bot flows test`` are both built on it.

A scenario file (``flows/<flow>.scenarios.yaml``, next to ``flows/<flow>.yaml``)::

    defaults:                          # optional: answers for scenarios that give none
      doctor_flags: [none]
    scenarios:
      - name: buttock pain worse when sitting
        answers:
          location: buttock
          emergency_flags: [none]      # a multi-select: a list (or "a, b")
          age: 42
          ...
        expect:
          outcome: likely_piriformis
          reasons: [buttock_pain, sitting_worse]   # optional, in order
          path: [location, radiation, ...]         # optional: the questions asked, in order

A bare list of scenarios (the older form) is read too. The file is read with the flow's own
YAML reader (:mod:`bot.flow.source`), so every mistake is told at file:line:column in plain
words with a suggestion, never in the YAML parser's words. :func:`record_results` writes new
results into the file for ``flows test --update``, changing nothing else.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from bot.engine import Choose, Done, Engine, Input, Number, Reply, ReplyKind, Session, Toggle
from bot.errors import SetupError
from bot.flow.errors import Problem, closest, render_problems, sort_problems
from bot.flow.errors import did_you_mean as errors_did_you_mean
from bot.flow.model import Flow, Step, StepKind
from bot.flow.report import Report, read_tree
from bot.flow.source import YMap, YNode, YScalar, YSeq, describe

SCENARIO_SUFFIX = ".scenarios.yaml"


# --- walking a flow by answers -----------------------------------------------------------------


class AnswerError(SetupError, ValueError):
    """A question on the path has no usable answer. ``step`` is the question's id."""

    def __init__(self, step: str, message: str, *, missing: bool = False) -> None:
        super().__init__(message)
        self.step = step
        self.message = message
        self.missing = missing  # no answer given at all (rather than a wrong one)


@dataclass(frozen=True, slots=True)
class Walk:
    """Where a walk ended: the outcome, its reasons and the questions asked on the way."""

    outcome: str
    reasons: tuple[str, ...]
    path: tuple[str, ...]  # question ids, in the order asked
    answers: dict[str, Any]  # the answers the engine recorded (asked questions only)
    session: Session
    replies: tuple[Reply, ...]  # the last replies (the outcome message)

    def to_json_dict(self) -> dict[str, Any]:
        """The ``flows try --json`` object (contract in design.md)."""
        return {
            "outcome": self.outcome,
            "reasons": list(self.reasons),
            "path": list(self.path),
            "answers": self.answers,
        }


def example_value(step: Step) -> str:
    """A value the question accepts, for "add --answer key=..." hints."""
    if step.options:
        plain = [o.id for o in step.options if not o.exclusive]
        return (plain or [step.options[0].id])[0]
    return str(step.minimum if step.minimum is not None else 0)


def _default_example(step: Step) -> str:
    """An answer fit to be everybody's default: "none of these" where a question has it."""
    neutral = [o.id for o in step.options if o.exclusive]
    if step.kind is StepKind.MULTI and neutral:
        return f"[{neutral[0]}]"
    return example_value(step)


def expected_values(step: Step) -> str:
    """What a question accepts, in words, for error messages."""
    ids = ", ".join(o.id for o in step.options)
    if step.kind is StepKind.CHOICE:
        return f"one of: {ids}"
    if step.kind is StepKind.MULTI:
        return f"one or more of (comma-separated): {ids}"
    if step.minimum is not None and step.maximum is not None:
        return f"a whole number from {step.minimum} to {step.maximum}"
    return "a whole number"


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """`` Did you mean 'x'?`` (with a leading space) or an empty string."""
    guess = closest(word, choices)
    return f" Did you mean '{guess}'?" if guess else ""


def unknown_answer_keys(flow: Flow, answers: Mapping[str, Any]) -> dict[str, str]:
    """Answer keys that are not questions of the flow (likely typos) -> a message for each."""
    questions = [step.id for step in flow.questions]
    return {
        key: f"'{key}' is not a question in this flow.{did_you_mean(str(key), questions)}"
        for key in answers
        if key not in flow.steps or not flow.steps[key].is_question
    }


def _as_option(step: Step, value: Any) -> str:
    # YAML reads an unquoted yes/no as true/false; a therapist means the option ids.
    if isinstance(value, bool):
        value = "yes" if value else "no"
    text = str(value).strip()
    if step.option(text) is None:
        raise AnswerError(
            step.id,
            f"'{text}' is not an option of '{step.id}'.{did_you_mean(text, _ids(step))} "
            f"Expected {expected_values(step)}.",
        )
    return text


def _ids(step: Step) -> list[str]:
    return [o.id for o in step.options]


def _as_ticks(step: Step, value: Any) -> list[str]:
    items = value.split(",") if isinstance(value, str) else value
    if not isinstance(items, list | tuple):
        items = [items]
    ticks = list(dict.fromkeys(_as_option(step, item) for item in items if str(item).strip()))
    if not ticks:
        raise AnswerError(step.id, f"'{step.id}' needs at least one option ticked.")
    exclusive = [o.id for o in step.options if o.exclusive and o.id in ticks]
    if exclusive and len(ticks) > 1:
        raise AnswerError(
            step.id,
            f"'{exclusive[0]}' cannot be ticked together with other options of '{step.id}'.",
        )
    return ticks


def _as_number(step: Step, value: Any) -> int:
    if isinstance(value, bool):
        value = None
    try:
        number = int(str(value).strip()) if not isinstance(value, int) else value
    except ValueError:
        number = None
    low, high = step.minimum, step.maximum
    if number is None or (low is not None and number < low) or (high is not None and number > high):
        problem = "is not a number" if number is None else "is out of range"
        raise AnswerError(
            step.id, f"'{value}' {problem}: '{step.id}' expects {expected_values(step)}."
        )
    return number


def inputs_for(step: Step, value: Any) -> list[Input]:
    """The button presses that give ``value`` as the answer to ``step``."""
    if step.kind is StepKind.CHOICE:
        return [Choose(step.id, _as_option(step, value))]
    if step.kind is StepKind.MULTI:
        return [*(Toggle(step.id, tick) for tick in _as_ticks(step, value)), Done(step.id)]
    return [Number(step.id, _as_number(step, value))]


def walk(engine: Engine, answers: Mapping[str, Any], *, language: str | None = None) -> Walk:
    """Answer every question the flow asks from ``answers`` until an outcome is reached."""
    flow = engine.flow
    result = engine.start(language=language)
    # Each answer moves the conversation on, so a flow can ask at most one question per step.
    for _ in range(len(flow.steps) + 1):
        session = result.session
        step = flow.steps[session.step]
        if step.is_outcome:
            return Walk(
                outcome=step.id,
                reasons=tuple(session.reasons),
                path=tuple(session.history),
                answers=dict(session.answers),
                session=session,
                replies=result.replies,
            )
        if step.id not in answers:
            raise AnswerError(
                step.id,
                f"The flow asks '{step.id}' but no answer was given. "
                f"It expects {expected_values(step)}.",
                missing=True,
            )
        for message in inputs_for(step, answers[step.id]):
            result = engine.handle(result.session, message)
            if not result.accepted:
                notices = " ".join(r.text for r in result.replies if r.kind is ReplyKind.NOTICE)
                raise AnswerError(
                    step.id, f"'{step.id}' did not accept {answers[step.id]!r}: {notices}"
                )
    raise AnswerError(session.step, "The flow did not reach an outcome.")


# --- scenario files ------------------------------------------------------------------------------


class ScenarioFileError(SetupError, ValueError):
    """A scenario file that cannot be used. ``problems`` holds every mistake found, each with
    file:line:column, what is wrong in plain words and, where it can, how to fix it;
    ``str()`` renders them as ``flows check`` does."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = sort_problems(problems)
        super().__init__(render_problems(self.problems))

    def __str__(self) -> str:
        return render_problems(self.problems)


@dataclass(frozen=True, slots=True)
class Scenario:
    name: str
    answers: dict[str, Any]  # the scenario's own answers over the file's defaults
    outcome: str
    reasons: tuple[str, ...] | None = None
    path: tuple[str, ...] | None = None
    language: str | None = None
    file: str = "<memory>"
    line: int = 0
    index: int = 0  # its place in the file's list of scenarios (flows test --update)

    @property
    def where(self) -> str:
        return f"{self.file}:{self.line}"


@dataclass(frozen=True, slots=True)
class ScenarioResult:
    scenario: Scenario
    walk: Walk | None = None
    error: str | None = None  # the walk could not finish (a missing or invalid answer)
    differences: tuple[str, ...] = field(default=())

    @property
    def passed(self) -> bool:
        return self.error is None and not self.differences


def flow_path_for(scenario_file: str | Path) -> Path:
    """``flows/sciatica.scenarios.yaml`` tests ``flows/sciatica.yaml``."""
    path = Path(scenario_file)
    if not path.name.endswith(SCENARIO_SUFFIX):
        name = str(path)
        raise ScenarioFileError(
            [Problem(name, 0, 0, f"{name}: a scenario file's name ends in {SCENARIO_SUFFIX}.")]
        )
    return path.with_name(path.name[: -len(SCENARIO_SUFFIX)] + ".yaml")


def scenario_path_for(flow_file: str | Path) -> Path:
    path = Path(flow_file)
    return path.with_name(path.stem + SCENARIO_SUFFIX)


def count_scenarios(path: str | Path) -> int | None:
    """How many scenarios a file holds, when it can be read that far (for messages)."""
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return None
    if isinstance(data, dict):
        data = data.get("scenarios")
    return len(data) if isinstance(data, list) else None


_FILE_KEYS = ("defaults", "scenarios")
_SCENARIO_KEYS = ("name", "answers", "expect", "language")
_EXPECT_KEYS = ("outcome", "reasons", "path")
_EXAMPLES = {"reasons": "buttock_pain, sitting_worse", "path": "location, radiation"}
_SHAPE_HINT = (
    "A scenario file holds  scenarios:  (a list, each starting with '- name:') and, if you "
    "like,  defaults:  (answers used by every scenario that gives none). See the top of "
    "flows/sciatica.scenarios.yaml."
)


def load_scenarios(path: str | Path, flow: Flow, *, text: str | None = None) -> list[Scenario]:
    """Read and check a scenario file against ``flow``; :class:`ScenarioFileError` with every
    mistake at once.

    The file is a list of scenarios, or ``{defaults: {...}, scenarios: [...]}``: a default
    answer is used by every scenario that gives none for that question, so that a new question
    needs one line, not one per scenario.
    """
    file = str(path)
    report, root = read_tree(
        path, text=text, empty="This scenario file is empty.", hint=_SHAPE_HINT
    )
    if root is None:
        raise ScenarioFileError(report.sorted())
    scenarios = _ScenarioReader(report, file, flow).read(root)
    if report.has_errors:
        raise ScenarioFileError(report.sorted())
    return scenarios


def scenario_list(root: YNode) -> tuple[YMap | None, YSeq | None]:
    """The defaults and the list of scenarios of a file's tree (either form)."""
    if isinstance(root, YSeq):
        return None, root
    if isinstance(root, YMap):
        defaults, listed = root.get("defaults"), root.get("scenarios")
        return (
            defaults if isinstance(defaults, YMap) else None,
            listed if isinstance(listed, YSeq) else None,
        )
    return None, None


def answer_value(node: YNode) -> Any:
    """An answer as written: option ids as written (``yes`` stays "yes", never true), whole
    numbers as numbers, a list for a multi-select."""
    if isinstance(node, YSeq):
        return [answer_value(item) for item in node.items]
    if isinstance(node, YScalar):
        value = node.value
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        return node.text
    return None


class _ScenarioReader:
    """Checks the defaults, then one scenario after another, reporting every mistake."""

    def __init__(self, report: Report, file: str, flow: Flow) -> None:
        self.report = report
        self.file = file
        self.flow = flow
        self.outcomes = [step.id for step in flow.outcomes]
        self.questions = [step.id for step in flow.questions]

    def read(self, root: YNode) -> list[Scenario]:
        if isinstance(root, YMap):
            for name, key, _ in root.items():
                if name not in _FILE_KEYS:
                    self.report.error(
                        key,
                        f"'{name}' is not something a scenario file can have.",
                        errors_did_you_mean(name, list(_FILE_KEYS), "Possible keys"),
                    )
            if root.get("scenarios") is None:
                self.report.error(root, "This file has no  scenarios:  list.", _SHAPE_HINT)
                return []
            if not isinstance(root.get("scenarios"), YSeq):
                self.report.error(
                    root.get("scenarios") or root,
                    "scenarios: is a list, each scenario starting with '- name:'.",
                    _SHAPE_HINT,
                )
                return []
            given = root.get("defaults")
            if given is not None and not isinstance(given, YMap):
                self.report.error(
                    given,
                    "defaults: gives answers by question, one per line, like  age: 40.",
                    _SHAPE_HINT,
                )
        elif not isinstance(root, YSeq):
            self.report.error(
                root, f"Expected a list of scenarios, found {describe(root)}.", _SHAPE_HINT
            )
            return []
        defaults_node, listed = scenario_list(root)
        assert listed is not None
        defaults = self.answers(defaults_node, "defaults") if defaults_node else {}
        found = []
        for index, item in enumerate(listed.items):
            scenario = self.scenario(item, index, defaults)
            if scenario is not None:
                found.append(scenario)
        return found

    def scenario(self, node: YNode, index: int, defaults: dict[str, Any]) -> Scenario | None:
        before = len(self.report.problems)
        if not isinstance(node, YMap):
            self.report.error(
                node,
                f"Each scenario has name:, answers: and expect:, not {describe(node)}.",
                "For example:\n  - name: buttock pain worse when sitting\n    answers: {...}\n"
                "    expect: {outcome: likely_piriformis}",
            )
            return None
        for key_name, key, _ in node.items():
            if key_name not in _SCENARIO_KEYS:
                self.report.error(
                    key,
                    f"'{key_name}' is not something a scenario can have.",
                    errors_did_you_mean(key_name, list(_SCENARIO_KEYS), "Possible keys"),
                )
        name_node = node.get("name")
        name = name_node.text.strip() if isinstance(name_node, YScalar) else ""
        if not name:
            self.report.error(
                name_node or node,
                "This scenario has no name.",
                'Add  name: "what it checks"  so that a failure says which scenario it was.',
            )
            name = f"the scenario on line {node.span.line}"
        answers_node = node.get("answers")
        own: dict[str, Any] = {}
        if isinstance(answers_node, YMap):
            own = self.answers(answers_node, name)
        elif answers_node is not None or not defaults:
            self.report.error(
                answers_node or node,
                f"'{name}' needs  answers:  by question, like  {{location: buttock, age: 42}}.",
            )
        outcome, reasons, path = self.expect(node, name)
        language = self.language(node.get("language"))
        if any(p.is_error for p in self.report.problems[before:]):
            return None
        return Scenario(
            name=name,
            answers={**defaults, **own},
            outcome=outcome,
            reasons=reasons,
            path=path,
            language=language,
            file=self.file,
            line=node.span.line,
            index=index,
        )

    def answers(self, node: YMap, name: str) -> dict[str, Any]:
        found: dict[str, Any] = {}
        for key, key_node, value_node in node.items():
            step = self.flow.steps.get(key)
            if step is None or not step.is_question:
                self.report.error(
                    key_node,
                    f"'{key}' is not a question in this flow ({_in(name)}).",
                    errors_did_you_mean(key, self.questions, "Questions"),
                )
                continue
            value = answer_value(value_node)
            if value is None or value == "" or value == []:
                self.report.error(
                    value_node,
                    f"'{key}' has no answer here ({_in(name)}).",
                    f"Write one: it expects {expected_values(step)}; or leave the line out.",
                )
                continue
            try:
                inputs_for(step, value)
            except AnswerError as error:
                self.report.error(value_node, f"{error.message} ({_in(name)})")
                continue
            found[key] = value
        return found

    def expect(
        self, node: YMap, name: str
    ) -> tuple[str, tuple[str, ...] | None, tuple[str, ...] | None]:
        expect = node.get("expect")
        if not isinstance(expect, YMap) or expect.get("outcome") is None:
            self.report.error(
                expect or node,
                f"'{name}' needs  expect:  with at least an outcome.",
                "For example:  expect: {outcome: likely_piriformis, reasons: [buttock_pain]}",
            )
            return "", None, None
        for key_name, key, _ in expect.items():
            if key_name not in _EXPECT_KEYS:
                self.report.error(
                    key,
                    f"'{key_name}' is not something expect: can have ({_in(name)}).",
                    errors_did_you_mean(key_name, list(_EXPECT_KEYS), "Possible keys"),
                )
        outcome_node = expect.get("outcome")
        outcome = outcome_node.text if isinstance(outcome_node, YScalar) else ""
        if outcome not in self.outcomes:
            self.report.error(
                outcome_node or expect,
                f"'{outcome}' is not an outcome of this flow ({_in(name)}).",
                errors_did_you_mean(outcome, self.outcomes, "Outcomes"),
            )
        lists: list[tuple[str, ...] | None] = []
        for key_name in ("reasons", "path"):
            value = expect.get(key_name)
            if value is None:
                lists.append(None)
                continue
            items = value.items if isinstance(value, YSeq) else None
            if items is None or not all(isinstance(i, YScalar) for i in items):
                self.report.error(
                    value,
                    f"'{key_name}' is a list in [brackets] ({_in(name)}).",
                    f"For example:  {key_name}: [{_EXAMPLES[key_name]}]",
                )
                lists.append(None)
                continue
            lists.append(tuple(i.text for i in items if isinstance(i, YScalar)))
        return outcome, lists[0], lists[1]

    def language(self, node: YNode | None) -> str | None:
        if node is None:
            return None
        text = node.text if isinstance(node, YScalar) else ""
        if text not in self.flow.languages:
            self.report.error(
                node,
                f"'{text}' is not one of the flow's languages.",
                errors_did_you_mean(text, list(self.flow.languages), "Languages"),
            )
            return None
        return text


def _in(name: str) -> str:
    return f"in '{name}'"


# --- recording new results (flows test --update) -------------------------------------------------


def _entry(node: yaml.Node | None, key: str) -> tuple[yaml.Node, yaml.Node] | None:
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            if isinstance(key_node, yaml.ScalarNode) and key_node.value == key:
                return key_node, value_node
    return None


def _flow_list(items: Sequence[str]) -> str:
    return "[" + ", ".join(items) + "]"


def record_results(text: str, results: Sequence[ScenarioResult]) -> str:
    """The scenario file's text with the outcome, reasons and path these results got written
    in place of what their scenarios expected: only what the scenario pins (a scenario without
    ``reasons:`` stays without), everything else as it was, comments and order included."""
    root = yaml.compose(text, Loader=yaml.SafeLoader)
    listed = root
    if isinstance(root, yaml.MappingNode):
        found = _entry(root, "scenarios")
        listed = found[1] if found else None
    if not isinstance(listed, yaml.SequenceNode):
        raise ValueError("not a scenario file")
    edits: list[tuple[int, int, str]] = []
    for result in results:
        got = result.walk
        if got is None:
            continue
        found = _entry(listed.value[result.scenario.index], "expect")
        expect = found[1] if found else None
        news = {"outcome": got.outcome, "reasons": got.reasons, "path": got.path}
        for key, new in news.items():
            entry = _entry(expect, key)
            if entry is None:
                continue
            key_node, value_node = entry
            replacement = new if isinstance(new, str) else _flow_list(new)
            if isinstance(value_node, yaml.SequenceNode) and not value_node.flow_style:
                # A list written one item per line becomes [a, b] right after "key:".
                start = text.index(":", key_node.end_mark.index) + 1
                end = value_node.value[-1].end_mark.index if value_node.value else start
                edits.append((start, end, " " + replacement))
            else:
                edits.append((value_node.start_mark.index, value_node.end_mark.index, replacement))
    for start, end, replacement in sorted(edits, reverse=True):
        text = text[:start] + replacement + text[end:]
    return text


def run_scenario(engine: Engine, scenario: Scenario) -> ScenarioResult:
    try:
        got = walk(engine, scenario.answers, language=scenario.language)
    except AnswerError as error:
        message = error.message
        if error.missing:  # a new question, most likely: one line answers it for them all
            example = _default_example(engine.flow.steps[error.step])
            message += (
                " Add it to the scenario's answers or, for every scenario that gives none, "
                f"as a line under defaults: at the top of the file:  {error.step}: {example}"
            )
        return ScenarioResult(scenario, error=message)
    differences: list[str] = []
    if got.outcome != scenario.outcome:
        differences.append(_difference("outcome", scenario.outcome, got.outcome))
    if scenario.reasons is not None and tuple(got.reasons) != scenario.reasons:
        differences.append(_difference("reasons", scenario.reasons, got.reasons))
    if scenario.path is not None and tuple(got.path) != scenario.path:
        differences.append(_difference("path", scenario.path, got.path))
    return ScenarioResult(scenario, walk=got, differences=tuple(differences))


def run_scenarios(engine: Engine, scenarios: Iterable[Scenario]) -> list[ScenarioResult]:
    return [run_scenario(engine, scenario) for scenario in scenarios]


def _show(value: str | Sequence[str]) -> str:
    return value if isinstance(value, str) else "[" + ", ".join(value) + "]"


def _difference(what: str, expected: str | Sequence[str], got: str | Sequence[str]) -> str:
    lines = [f"{what:<8} expected {_show(expected)}", f"{'':<8} got      {_show(got)}"]
    if not isinstance(expected, str) and not isinstance(got, str):
        missing = [x for x in expected if x not in got]
        extra = [x for x in got if x not in expected]
        notes = []
        if missing:
            notes.append("missing " + ", ".join(missing))
        if extra:
            notes.append("not expected " + ", ".join(extra))
        if not notes:
            notes.append("same items in a different order")
        lines.append(f"{'':<8} ({'; '.join(notes)})")
    return "\n".join(lines)


def format_result(result: ScenarioResult) -> str:
    """One line for a pass; for a failure, what was expected against what happened."""
    scenario = result.scenario
    if result.passed:
        return f"ok    {scenario.name}"
    head = f"FAIL  {scenario.name}  ({scenario.where})"
    if result.error is not None:
        return f"{head}\n      {result.error}"
    body = "\n".join(
        "      " + line for difference in result.differences for line in difference.splitlines()
    )
    return f"{head}\n{body}"
