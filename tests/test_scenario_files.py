"""Scenario files that survive a new question, ``flows test --update``, and mistakes in the
scenario and safety-examples files told in plain words at file:line:column."""

from __future__ import annotations

import io
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bot.cli import main
from bot.flow import load_flow
from bot.safety_examples import read_examples
from bot.scenarios import ScenarioFileError, load_scenarios

ROOT = Path(__file__).resolve().parents[1]
FLOW = ROOT / "flows" / "sciatica.yaml"

ADULT = "{location: hip_side, radiation: none, severity: 2, emergency_flags: [none], age: 30}"


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    shutil.copy(FLOW, tmp_path / "mine.yaml")
    monkeypatch.chdir(tmp_path)
    for name in ("BOOKING_URL", "FLOW_FILE"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path


def write(folder: Path, text: str) -> Path:
    path = folder / "mine.scenarios.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


# --- defaults ------------------------------------------------------------------------------------


def test_defaults_answer_what_a_scenario_leaves_out(folder: Path) -> None:
    path = write(
        folder,
        "defaults:\n  doctor_flags: [none]\n  leg_symptoms: [none]\n  age: 40\n"
        "scenarios:\n"
        f"  - name: uses the defaults\n    answers: {ADULT}\n"
        "    expect: {outcome: non_specific}\n"
        "  - name: its own answer wins\n"
        "    answers: {location: hip_side, radiation: none, severity: 2, "
        "emergency_flags: [none], leg_symptoms: [weakness]}\n"
        "    expect: {outcome: see_doctor_soon, reasons: [leg_weakness]}\n",
    )
    first, second = load_scenarios(path, load_flow(folder / "mine.yaml"))
    assert first.answers["doctor_flags"] == ["none"] and first.answers["age"] == 30
    assert second.answers["leg_symptoms"] == ["weakness"] and second.answers["age"] == 40


def test_a_bare_list_of_scenarios_is_still_read(folder: Path) -> None:
    path = write(folder, f"- name: old style\n  answers: {ADULT}\n  expect: {{outcome: x}}\n")
    with pytest.raises(ScenarioFileError) as caught:
        load_scenarios(path, load_flow(folder / "mine.yaml"))
    assert "'x' is not an outcome of this flow (in 'old style')." in str(caught.value)


def test_scenarios_survive_a_new_question_with_one_default(
    folder: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    flow = folder / "mine.yaml"
    text = flow.read_text(encoding="utf-8")
    flow.write_text(
        text.replace(
            "    next: leg_symptoms\n\n  leg_symptoms:",
            "    next: duration\n\n"
            '  duration:\n    type: choice\n    text: "How long have you had it?"\n'
            '    options:\n      weeks: "A few weeks"\n      months: "Months"\n'
            "    next: leg_symptoms\n\n  leg_symptoms:",
        ).replace(
            "    next: doctor_flags\n\n  doctor_flags:", "    next: doctor_flags\n\n  doctor_flags:"
        ),
        encoding="utf-8",
    )
    text = flow.read_text(encoding="utf-8")
    flow.write_text(
        text.replace(
            '          location == "buttock" and radiation in ["none", "buttock_only", '
            '"back_of_thigh"]\n        goto: worse_sitting\n      - goto: leg_symptoms',
            '          location == "buttock" and radiation in ["none", "buttock_only", '
            '"back_of_thigh"]\n        goto: worse_sitting\n      - goto: duration',
        ),
        encoding="utf-8",
    )
    assert "duration" in load_flow(flow).steps
    shipped = (ROOT / "flows" / "sciatica.scenarios.yaml").read_text(encoding="utf-8")
    path = write(folder, shipped)
    code, out, _ = run(capsys, "flows", "test", str(path))
    assert code == 1 and "The flow asks 'duration' but no answer was given" in out
    assert "as a line under defaults: at the top of the file:  duration: weeks\n" in out

    write(folder, shipped.replace("defaults:\n", "defaults:\n  duration: weeks\n", 1))
    code, out, _ = run(capsys, "flows", "test", str(path))
    assert code == 1 and "no answer was given" not in out
    # What is left are the scenarios that pin the questions asked: one more now. Recorded.
    failed = out.count("FAIL  ")
    assert failed == out.count("(not expected duration)") > 0
    monkeypatch.setattr(sys, "stdin", io.StringIO("y\n" * failed))
    code, out, _ = run(capsys, "flows", "test", str(path), "--update")
    assert code == 0 and out.endswith(f"{40 - failed} passed, 0 failed, {failed} recorded.\n")
    code, out, _ = run(capsys, "flows", "test", str(path))
    assert code == 0 and "40 passed, 0 failed." in out


# --- flows test --update -------------------------------------------------------------------------

CHANGED = """\
# my scenarios
defaults:
  doctor_flags: [none]   # most people say none

scenarios:
  # this one passes
  - name: passes
    answers: {location: buttock, radiation: foot, severity: 2, emergency_flags: [both_legs]}
    expect: {outcome: emergency, reasons: [both_legs]}
  - name: sitting is not worse
    answers:
      location: buttock
      radiation: none
      severity: 3
      emergency_flags: [none]
      age: 40
      worse_sitting: no
      leg_symptoms: [none]
    expect:
      outcome: likely_piriformis   # what we thought
      reasons:
        - buttock_pain
        - sitting_worse
  - name: hip pain
    answers: {location: hip_side, radiation: none, severity: 2, emergency_flags: [none], age: 30,
              leg_symptoms: [none]}
    expect: {outcome: likely_piriformis}
  # the end
"""


def test_update_records_only_the_approved_results_keeping_comments_and_order(
    folder: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write(folder, CHANGED)
    monkeypatch.setattr(sys, "stdin", io.StringIO("y\nn\n"))
    code, out, _ = run(capsys, "flows", "test", str(path), "--update")
    assert code == 1  # "hip pain" still fails: it was not approved
    assert out.count("Record the new result? [y/N]") == 2
    assert "outcome  expected likely_piriformis\n               got      likely_sacroiliac" in out
    assert f"Recorded the new result of 1 scenario in {path}: 'sitting is not worse'." in out
    assert out.endswith("1 passed, 1 failed, 1 recorded.\n")
    assert path.read_text(encoding="utf-8") == CHANGED.replace(
        "      outcome: likely_piriformis   # what we thought\n"
        "      reasons:\n        - buttock_pain\n        - sitting_worse\n",
        "      outcome: likely_sacroiliac   # what we thought\n"
        "      reasons: [buttock_pain, sitting_not_worse]\n",
    )
    code, out, _ = run(capsys, "flows", "test", str(path))
    assert code == 1 and "2 passed, 1 failed." in out


def test_update_through_a_pipe_and_a_flow_style_expectation(folder: Path) -> None:
    """The command as the therapist types it, answers piped in: yes to both."""
    path = write(folder, CHANGED)
    done = subprocess.run(
        [sys.executable, "-m", "bot", "flows", "test", str(path), "--update"],
        input="yes\nY\n",
        capture_output=True,
        text=True,
        cwd=folder,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Record the new result? [y/N] yes\n" in done.stdout
    assert done.stdout.endswith("1 passed, 0 failed, 2 recorded.\n")
    text = path.read_text(encoding="utf-8")
    assert "    expect: {outcome: non_specific}\n  # the end\n" in text
    assert "# my scenarios\n" in text and "# most people say none" in text


def test_update_with_no_answers_changes_nothing(
    folder: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write(folder, CHANGED)
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))  # the end of the input: no
    code, out, _ = run(capsys, "flows", "test", str(path), "--update")
    assert code == 1 and out.endswith("1 passed, 2 failed, 0 recorded.\n")
    assert path.read_text(encoding="utf-8") == CHANGED


# --- mistakes in plain words ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            'scenarios:\n  - name: "unclosed\n    answers: {age: 30}\n    expect: {outcome: x}\n',
            ":2:11  The text in quotes that starts here is never closed.",
        ),
        (
            "scenarios:\n  - name: a\n    answers: {location: buttok}\n"
            "    expect: {outcome: non_specific}\n",
            ":3:25  'buttok' is not an option of 'location'. Did you mean 'buttock'?",
        ),
        (
            "defaults:\n  sevrity: 3\nscenarios: []\n",
            ":2:3  'sevrity' is not a question in this flow (in 'defaults').",
        ),
        (
            "scenario:\n  - name: a\n",
            ":1:1  'scenario' is not something a scenario file can have.",
        ),
        (
            "scenarios:\n  - name: a\n    answer: {age: 3}\n    expect: {outcome: non_specific}\n",
            ":3:5  'answer' is not something a scenario can have.",
        ),
        (
            "scenarios:\n  - name: a\n    answers: {age: }\n    expect: {outcome: non_specific}\n",
            ":3:20  'age' has no answer here (in 'a').",
        ),
    ],
)
def test_mistakes_in_a_scenario_file_are_told_in_plain_words(
    folder: Path, text: str, expected: str
) -> None:
    path = write(folder, text)
    with pytest.raises(ScenarioFileError) as caught:
        load_scenarios(path, load_flow(folder / "mine.yaml"))
    rendered = str(caught.value)
    assert f"{path}{expected}" in rendered
    for parser_words in ("<block end>", "<scalar>", "while scanning", "found unexpected"):
        assert parser_words not in rendered


def test_the_hint_suggests_the_file_key_and_the_scenario_key(folder: Path) -> None:
    path = write(folder, "scenario:\n  - name: a\n")
    with pytest.raises(ScenarioFileError) as caught:
        load_scenarios(path, load_flow(folder / "mine.yaml"))
    assert "Did you mean 'scenarios'?" in str(caught.value)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            'examples:\n  en:\n    none:\n      - "it hurts\n      - "ok"\n',
            ":4:9  The text in quotes that starts here is never closed.",
        ),
        ("exampels:\n  en: {}\n", ":1:1  'exampels' is not something this file can have."),
        ("examples:\n  en:\n    emergncy: {}\n", ":3:5  'emergncy' is not a verdict."),
    ],
)
def test_mistakes_in_a_safety_examples_file_are_told_in_plain_words(
    folder: Path, text: str, expected: str
) -> None:
    path = folder / "mine.safety.yaml"
    path.write_text(text, encoding="utf-8")
    _, problems = read_examples(path, load_flow(folder / "mine.yaml"))
    rendered = "\n".join(p.render() for p in problems)
    assert f"{path}{expected}" in rendered
    assert "Did you mean" in rendered or "closing" in rendered
    assert "<block end>" not in rendered and "while scanning" not in rendered
