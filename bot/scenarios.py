"""Walk a flow by a set of answers, and run the therapist's scenario files.

A *walk* drives the real :class:`~bot.engine.Engine` from the flow's start, answering each
question it asks from a mapping ``answer key -> value``, exactly as a person pressing buttons
would (:class:`Choose`, :class:`Toggle` then :class:`Done`, :class:`Number`). Answers the path
never asks for are ignored; a question on the path without an answer, or with a value the
question does not accept, is an :class:`AnswerError`. ``triage-bot flows try`` and
``triage-bot flows test`` are both built on it.

A scenario file (``flows/<flow>.scenarios.yaml``, next to ``flows/<flow>.yaml``) is a list::

    - name: buttock pain worse when sitting
      answers:
        location: buttock
        emergency_flags: [none]        # a multi-select: a list (or "a, b")
        age: 42
        ...
      expect:
        outcome: likely_piriformis
        reasons: [buttock_pain, sitting_worse]   # optional, in order
        path: [location, radiation, ...]         # optional: the questions asked, in order
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from bot.engine import Choose, Done, Engine, Input, Number, Reply, ReplyKind, Session, Toggle
from bot.flow.errors import closest
from bot.flow.model import Flow, Step, StepKind

SCENARIO_SUFFIX = ".scenarios.yaml"


# --- walking a flow by answers -----------------------------------------------------------------


class AnswerError(ValueError):
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


class ScenarioFileError(ValueError):
    """A scenario file that cannot be read; ``str()`` gives file:line and what is wrong."""

    def __init__(self, problems: Sequence[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = list(problems)


@dataclass(frozen=True, slots=True)
class Scenario:
    name: str
    answers: dict[str, Any]
    outcome: str
    reasons: tuple[str, ...] | None = None
    path: tuple[str, ...] | None = None
    language: str | None = None
    file: str = "<memory>"
    line: int = 0

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
        raise ScenarioFileError([f"{path}: a scenario file's name ends in {SCENARIO_SUFFIX}"])
    return path.with_name(path.name[: -len(SCENARIO_SUFFIX)] + ".yaml")


def scenario_path_for(flow_file: str | Path) -> Path:
    path = Path(flow_file)
    return path.with_name(path.stem + SCENARIO_SUFFIX)


def count_scenarios(path: str | Path) -> int | None:
    """How many scenarios a file holds, when it is at least a YAML list (for messages)."""
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return None
    return len(data) if isinstance(data, list) else None


_SCENARIO_KEYS = {"name", "answers", "expect", "language"}
_EXPECT_KEYS = {"outcome", "reasons", "path"}


def _line(node: yaml.Node) -> int:
    return node.start_mark.line + 1


def _child(node: yaml.Node | None, key: str) -> yaml.Node | None:
    """The value node of ``key`` in a YAML mapping node (for its line number)."""
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            if key_node.value == key:
                return value_node
    return None


def load_scenarios(path: str | Path, flow: Flow, *, text: str | None = None) -> list[Scenario]:
    """Read and check a scenario file against ``flow``; every problem at once."""
    file = str(path)
    source = Path(path).read_text(encoding="utf-8") if text is None else text
    try:
        root = yaml.compose(source, Loader=yaml.SafeLoader)
        data = yaml.safe_load(source)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"{file}:{mark.line + 1}" if mark is not None else file
        raise ScenarioFileError([f"{where}: this is not valid YAML ({error})."]) from error
    if not isinstance(root, yaml.SequenceNode) or not isinstance(data, list):
        raise ScenarioFileError(
            [f"{file}:1: a scenario file is a list of scenarios, each starting with '- name:'."]
        )
    reader = _ScenarioReader(file, flow)
    scenarios = [reader.read(node, item) for node, item in zip(root.value, data, strict=True)]
    if reader.problems:
        raise ScenarioFileError(reader.problems)
    return [scenario for scenario in scenarios if scenario is not None]


class _ScenarioReader:
    """Checks one scenario after another, collecting every problem with its line."""

    def __init__(self, file: str, flow: Flow) -> None:
        self.file = file
        self.flow = flow
        self.problems: list[str] = []

    def problem(self, node: yaml.Node | None, fallback: yaml.Node, message: str) -> None:
        self.problems.append(f"{self.file}:{_line(node or fallback)}: {message}")

    def read(self, node: yaml.Node, item: Any) -> Scenario | None:
        before = len(self.problems)
        if not isinstance(item, dict):
            self.problem(node, node, "each scenario has 'name', 'answers' and 'expect'.")
            return None
        for key in item:
            if key not in _SCENARIO_KEYS:
                hint = did_you_mean(str(key), _SCENARIO_KEYS)
                self.problem(_child(node, key), node, f"unknown key '{key}' in a scenario.{hint}")
        name = item.get("name")
        if not isinstance(name, str) or not name.strip():
            self.problem(node, node, "this scenario has no 'name'.")
            name = f"scenario at line {_line(node)}"
        answers = self.answers(node, name, item.get("answers"))
        expect = item.get("expect")
        expect_node = _child(node, "expect")
        if not isinstance(expect, dict) or "outcome" not in expect:
            self.problem(expect_node, node, f"'{name}': 'expect' needs at least an 'outcome'.")
            expect = {}
        for key in expect:
            if key not in _EXPECT_KEYS:
                hint = did_you_mean(str(key), _EXPECT_KEYS)
                self.problem(
                    _child(expect_node, key), node, f"'{name}': unknown key '{key}'.{hint}"
                )
        outcome = str(expect.get("outcome", ""))
        outcomes = [step.id for step in self.flow.outcomes]
        if expect and outcome not in outcomes:
            self.problem(
                _child(expect_node, "outcome"),
                node,
                f"'{name}': '{outcome}' is not an outcome of this flow."
                f"{did_you_mean(outcome, outcomes)} Outcomes are: {', '.join(outcomes)}.",
            )
        lists = {key: expect.get(key) for key in ("reasons", "path")}
        for key, value in lists.items():
            if value is not None and not isinstance(value, list):
                self.problem(_child(expect_node, key), node, f"'{name}': '{key}' must be a list.")
        language = item.get("language")
        if len(self.problems) > before:
            return None
        reasons, path = lists["reasons"], lists["path"]
        return Scenario(
            name=name,
            answers=answers,
            outcome=outcome,
            reasons=None if reasons is None else tuple(str(r) for r in reasons),
            path=None if path is None else tuple(str(p) for p in path),
            language=str(language) if language else None,
            file=self.file,
            line=_line(node),
        )

    def answers(self, node: yaml.Node, name: str, answers: Any) -> dict[str, Any]:
        answers_node = _child(node, "answers")
        if not isinstance(answers, dict):
            message = f"'{name}': 'answers' must be a mapping of question: answer."
            self.problem(answers_node, node, message)
            return {}
        for key, message in unknown_answer_keys(self.flow, answers).items():
            self.problem(_child(answers_node, key), node, f"'{name}': {message}")
        return dict(answers)


def run_scenario(engine: Engine, scenario: Scenario) -> ScenarioResult:
    try:
        got = walk(engine, scenario.answers, language=scenario.language)
    except AnswerError as error:
        return ScenarioResult(scenario, error=error.message)
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
