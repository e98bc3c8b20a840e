"""What ``triage-bot flows review`` reads for the page: the flow's scenario and safety-example
files beside it, the open questions, and the practice's settings.

:mod:`bot.review` builds the page from these and reads nothing itself. A companion file
that is missing is shown as missing; one that cannot be used is named in a note at the top of
the page (with where to see why) rather than stopping the page: the clinician should still
see the flow, and see that its tests could not run.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from pathlib import Path

from bot.config import DEFAULT_EMERGENCY_NUMBER, DEFAULT_URGENT_ADVICE, ConfigError, load_settings
from bot.engine import Engine
from bot.errors import SetupError
from bot.flow import CompiledFlow, FlowError
from bot.review import ReviewInputs
from bot.safety_examples import Example, examples_path_for, read_examples
from bot.scenarios import (
    ScenarioFileError,
    ScenarioResult,
    load_scenarios,
    run_scenarios,
    scenario_path_for,
)
from bot.shipped import shipped_doc

# The project's list, beside the flow language guide.
OPEN_QUESTIONS = shipped_doc("open-questions.md")


class ReviewFileError(SetupError):
    """A file the review page needs cannot be read; ``str()`` is one sentence."""


def review_inputs(
    flow_path: Path,
    compiled: CompiledFlow,
    *,
    questions: Path | None = None,
    environ: Mapping[str, str] | None = None,
    env_file: str | None = ".env",
    generated: datetime | None = None,
) -> ReviewInputs:
    notes: list[str] = []
    scenarios = _scenarios(flow_path, compiled, notes)
    examples = _examples(flow_path, compiled, notes)
    settings = _settings(environ, env_file, notes)
    questions_path = questions or OPEN_QUESTIONS
    files = {"Flow file": str(flow_path)}
    if scenarios is not None:
        files["Scenarios"] = str(scenario_path_for(flow_path))
    if examples is not None:
        files["Safety examples"] = str(examples_path_for(flow_path))
    open_questions = _read_questions(questions_path, explicit=questions is not None)
    if open_questions is not None:
        files["Open questions"] = _shown_path(questions_path)
    return ReviewInputs(
        flow=compiled.flow,
        screener=compiled.screener,
        generated=generated or datetime.now().astimezone(),
        scenarios=scenarios,
        examples=examples,
        open_questions=open_questions,
        settings=settings,
        files=files,
        notes=notes,
    )


def _scenarios(
    flow_path: Path, compiled: CompiledFlow, notes: list[str]
) -> list[ScenarioResult] | None:
    path = scenario_path_for(flow_path)
    if not path.exists():
        return None
    engine = Engine(compiled)
    try:
        scenarios = load_scenarios(path, compiled.flow)
    except (ScenarioFileError, FlowError, OSError, UnicodeDecodeError):
        notes.append(
            f"The scenario file {path} could not be used, so no scenario is shown; "
            f"`triage-bot flows test {path}` says why."
        )
        return None
    return run_scenarios(engine, scenarios)


def _examples(flow_path: Path, compiled: CompiledFlow, notes: list[str]) -> list[Example] | None:
    path = examples_path_for(flow_path)
    if not path.exists():
        return None
    examples, problems = read_examples(path, compiled.flow)
    if any(p.is_error for p in problems):
        notes.append(
            f"The safety examples file {path} has mistakes, so no example is shown; "
            f"`triage-bot flows check {flow_path}` lists them."
        )
        return None
    return examples


def _settings(
    environ: Mapping[str, str] | None, env_file: str | None, notes: list[str]
) -> dict[str, str]:
    try:
        return load_settings(environ, env_file, require_token=False).texts()
    except ConfigError as error:
        notes.append(f"The settings could not be read ({error}); the defaults are shown.")
        return {
            "emergency_number": DEFAULT_EMERGENCY_NUMBER,
            "urgent_advice": DEFAULT_URGENT_ADVICE,
        }


def _read_questions(path: Path, *, explicit: bool) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        if explicit:
            raise ReviewFileError(f"There is no open-questions file at {path}.") from None
        return None
    except (OSError, UnicodeDecodeError) as error:
        raise ReviewFileError(f"The open-questions file {path} cannot be read ({error}).") from None


def _shown_path(path: Path) -> str:
    """The path relative to where we are when it is inside, else as it is."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)
