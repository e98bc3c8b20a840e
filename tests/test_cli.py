"""The therapist's command line: ``triage-bot`` / ``python -m bot`` (contract: design.md).

Mostly in-process through ``bot.cli.main(argv)`` (fast, real files in tmp_path); one run as a
subprocess proves the ``python -m bot`` entry point and the JSON on stdout.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bot.cli import main

ROOT = Path(__file__).resolve().parents[1]
FLOW = ROOT / "flows" / "sciatica.yaml"
SCENARIOS = ROOT / "flows" / "sciatica.scenarios.yaml"
ADULT_BUTTOCK = [
    "location=buttock",
    "radiation=buttock_only",
    "severity=4",
    "emergency_flags=none",
    "age=42",
    "doctor_flags=none",
    "worse_sitting=yes",
    "leg_symptoms=none",
]


@pytest.fixture(autouse=True)
def in_repo(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Run from the repository (flows/ is found relative to it), with no personal settings."""
    monkeypatch.chdir(ROOT)
    for name in ("BOOKING_URL", "EMERGENCY_NUMBER", "URGENT_ADVICE", "FLOW_FILE"):
        monkeypatch.delenv(name, raising=False)


def answers(*pairs: str) -> list[str]:
    return [part for pair in pairs for part in ("--answer", pair)]


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def broken_copy(tmp_path: Path, old: str, new: str) -> tuple[Path, int]:
    """A copy of the default flow with one mistake; returns its path and the mistake's line."""
    text = FLOW.read_text(encoding="utf-8")
    assert old in text
    broken = text.replace(old, new, 1)
    line = broken[: broken.index(new)].count("\n") + 1
    path = tmp_path / "broken.yaml"
    path.write_text(broken, encoding="utf-8")
    return path, line


# --- flows check ----------------------------------------------------------------------------------


def test_check_passes_the_shipped_flows_by_default(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "flows", "check")
    assert code == 0
    assert "flows/sciatica.yaml: OK" in out
    assert "scenarios" not in out  # scenario files are not flows


def test_check_shows_every_error_with_file_and_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path, line = broken_copy(tmp_path, "    next: radiation\n", "    next: radiaton\n")
    code, out, err = run(capsys, "flows", "check", str(path), str(FLOW))
    assert code == 1
    assert f"{path}:{line}:" in err
    assert "Did you mean 'radiation'?" in err
    assert "Traceback" not in err
    assert "flows/sciatica.yaml: OK" in out  # the good file is still reported


def test_check_of_a_missing_file_is_a_clear_error(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "flows", "check", "flows/no_such_flow.yaml")
    assert code == 1
    assert "There is no flow file at flows/no_such_flow.yaml" in err


# --- flows try ------------------------------------------------------------------------------------


def test_try_json_is_the_contract_object(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "flows", "try", str(FLOW), *answers(*ADULT_BUTTOCK), "--json")
    assert code == 0
    data = json.loads(out)
    assert data == {
        "outcome": "likely_piriformis",
        "reasons": ["buttock_pain", "sitting_worse"],
        "path": [
            "location",
            "radiation",
            "severity",
            "emergency_flags",
            "age",
            "doctor_flags",
            "worse_sitting",
            "leg_symptoms",
        ],
        "answers": {
            "location": "buttock",
            "radiation": "buttock_only",
            "severity": 4,
            "emergency_flags": ["none"],
            "age": 42,
            "doctor_flags": ["none"],
            "worse_sitting": "yes",
            "leg_symptoms": ["none"],
        },
    }


def test_try_ignores_answers_the_path_never_asks(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        capsys,
        "flows",
        "try",
        "sciatica",  # a bare name means flows/sciatica.yaml
        *answers(
            "location=low_back_central",
            "radiation=foot",
            "severity=3",
            "emergency_flags=saddle_numbness,bladder_change",
            "age=30",
            "worse_sitting=yes",
        ),
        "--json",
    )
    assert code == 0
    data = json.loads(out)
    assert data["outcome"] == "emergency"
    assert data["reasons"] == ["saddle_numbness", "bladder_change"]
    assert "age" not in data["answers"] and "worse_sitting" not in data["answers"]


def test_try_prints_path_outcome_and_reasons(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "flows", "try", str(FLOW), *answers(*ADULT_BUTTOCK), "--show")
    assert code == 0
    assert "7. worse_sitting = yes  (Yes, sitting makes it worse)" in out
    assert "Outcome: likely_piriformis" in out
    assert "Reasons: buttock_pain, sitting_worse" in out
    assert "piriformis is a small muscle" in out  # --show prints the message itself


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        (["location=buttock", "radiation=none"], "The flow asks 'severity' but no answer"),
        (["location=buttocks"], "Did you mean 'buttock'?"),
        (["location=buttock", "radiation=none", "severity=11"], "'11' is out of range"),
        (["location=buttock", "radiation=none", "severity=bad"], "'bad' is not a number"),
        (
            ["location=buttock", "radiation=none", "severity=1", "emergency_flags=none,both_legs"],
            "'none' cannot be ticked together",
        ),
        (["location"], "is not KEY=VALUE"),
    ],
)
def test_try_missing_or_invalid_answers_exit_2_with_a_clear_message(
    capsys: pytest.CaptureFixture[str], given: list[str], expected: str
) -> None:
    code, out, err = run(capsys, "flows", "try", str(FLOW), *answers(*given), "--json")
    assert code == 2
    assert out == ""
    assert expected in err
    assert "Traceback" not in err


def test_try_warns_about_answer_keys_that_are_not_questions(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, _, err = run(capsys, "flows", "try", str(FLOW), *answers(*ADULT_BUTTOCK, "sevrity=2"))
    assert code == 0
    assert "'sevrity' is not a question in this flow. Did you mean 'severity'?" in err


def test_try_on_a_broken_flow_shows_the_flow_error(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path, line = broken_copy(tmp_path, "    min: 0\n", "    min: zero\n")
    code, out, err = run(capsys, "flows", "try", str(path), *answers(*ADULT_BUTTOCK))
    assert code == 1
    assert f"{path}:{line}:" in err
    assert "Traceback" not in err and out == ""


def test_python_dash_m_bot_is_the_command_line(tmp_path: Path) -> None:
    emergency = answers(*ADULT_BUTTOCK[:3], "emergency_flags=tummy_pain_faint")
    done = subprocess.run(
        [sys.executable, "-m", "bot", "flows", "try", "flows/sciatica.yaml", "--json", *emergency],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["outcome"] == "emergency"
    missing = subprocess.run(
        [sys.executable, "-m", "bot", "flows", "try", "flows/sciatica.yaml"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert missing.returncode == 2
    assert "no answer was given" in missing.stderr and "Traceback" not in missing.stderr


# --- flows test -----------------------------------------------------------------------------------


def test_test_runs_the_shipped_scenarios(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "flows", "test")
    assert code == 0
    assert " 0 failed." in out and "FAIL" not in out


def scenario_dir(tmp_path: Path, scenarios: str) -> Path:
    shutil.copy(FLOW, tmp_path / "mine.yaml")
    path = tmp_path / "mine.scenarios.yaml"
    path.write_text(scenarios, encoding="utf-8")
    return path


FAILING = """\
- name: passes
  answers: {location: buttock, radiation: foot, severity: 2, emergency_flags: [both_legs]}
  expect: {outcome: emergency, reasons: [both_legs]}
- name: wrongly expects piriformis
  answers:
    location: buttock
    radiation: none
    severity: 3
    emergency_flags: [none]
    age: 40
    doctor_flags: [none]
    worse_sitting: no
    leg_symptoms: [none]
  expect:
    outcome: likely_piriformis
    reasons: [buttock_pain, sitting_worse]
    path: [location, radiation, severity]
"""


def test_a_failing_scenario_shows_expected_against_got(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = scenario_dir(tmp_path, FAILING)
    code, out, _ = run(capsys, "flows", "test", str(path))
    assert code == 1
    assert f"FAIL  wrongly expects piriformis  ({path}:4)" in out
    assert "outcome  expected likely_piriformis" in out
    assert "got      likely_sacroiliac" in out
    assert "reasons  expected [buttock_pain, sitting_worse]" in out
    assert "got      [buttock_pain, sitting_not_worse]" in out
    assert "missing sitting_worse; not expected sitting_not_worse" in out
    assert "path     expected [location, radiation, severity]" in out
    assert "1 passed, 1 failed." in out


def test_a_flow_file_argument_runs_its_scenario_file(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    scenario_dir(tmp_path, FAILING)
    code, out, _ = run(capsys, "flows", "test", str(tmp_path / "mine.yaml"))
    assert code == 1 and "1 passed, 1 failed." in out


def test_a_scenario_with_a_missing_answer_says_which(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = scenario_dir(
        tmp_path,
        "- name: forgot the age\n"
        "  answers: {location: hip_side, radiation: none, severity: 2, emergency_flags: [none]}\n"
        "  expect: {outcome: non_specific}\n",
    )
    code, out, _ = run(capsys, "flows", "test", str(path))
    assert code == 1
    assert "FAIL  forgot the age" in out
    assert "The flow asks 'age' but no answer was given" in out


def test_mistakes_in_a_scenario_file_point_at_their_lines(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = scenario_dir(
        tmp_path,
        "- name: typos\n"
        "  answers:\n"
        "    location: buttock\n"
        "    sevrity: 3\n"
        "  expect: {outcome: likely_piriformiss}\n",
    )
    code, _, err = run(capsys, "flows", "test", str(path))
    assert code == 1
    assert f"{path}:4: 'typos': 'sevrity' is not a question in this flow." in err
    assert "Did you mean 'severity'?" in err
    assert f"{path}:5: 'typos': 'likely_piriformiss' is not an outcome" in err
    assert "Did you mean 'likely_piriformis'?" in err


# --- flows graph ----------------------------------------------------------------------------------


def test_graph_prints_mermaid_with_every_step(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "flows", "graph", "sciatica")
    assert code == 0
    assert "flowchart TD" in out
    from bot.flow import load_flow

    for step_id in load_flow(FLOW).steps:
        assert f"\n    {step_id}" in out, step_id  # a node for every step
    assert "emergency_flags -->" in out and "leg_symptoms -->" in out
    assert "typed_warning -.->" in out  # the safety net
    assert "--out" in err  # says how to get an image


def test_graph_out_writes_the_file_and_says_what_happened_to_the_image(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    out_file = tmp_path / "sciatica.mmd"
    code, out, err = run(capsys, "flows", "graph", str(FLOW), "--out", str(out_file))
    assert code == 0 and out == ""
    assert out_file.read_text(encoding="utf-8").startswith("---\ntitle:")
    assert f"Wrote the Mermaid diagram to {out_file}" in err
    image = tmp_path / "sciatica.png"
    if shutil.which("dot") is None:
        assert "Graphviz's 'dot' program is not installed" in err
        assert not image.exists()
    else:
        assert image.stat().st_size > 0


# --- run ------------------------------------------------------------------------------------------


def test_run_without_a_token_says_so_in_one_sentence(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # no .env here
    monkeypatch.delenv("TELEGRAM_BOT_TOKEN", raising=False)
    code, _, err = run(capsys, "run")
    assert code == 1
    assert "TELEGRAM_BOT_TOKEN" in err and "Traceback" not in err


def test_unknown_commands_are_usage_errors(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stop:
        main(["flows", "frobnicate"])
    assert stop.value.code == 2


def test_link_prints_the_deep_link_and_writes_the_website_kit(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("BOT_USERNAME", "PainCheckBot")
    out = tmp_path / "site"
    assert main(["link", "--source", "website", "--out", str(out)]) == 0
    first_line = capsys.readouterr().out.splitlines()[0]
    assert first_line == "https://t.me/PainCheckBot?start=website"
    assert (out / "telegram-website.png").read_bytes().startswith(b"\x89PNG")
    assert "https://t.me/PainCheckBot?start=website" in (out / "telegram-website.html").read_text()


def test_link_refuses_a_source_telegram_would_reject(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("BOT_USERNAME", "PainCheckBot")
    assert main(["link", "--source", "summer flyer", "--out", str(tmp_path)]) == 2
    assert "summer_flyer" in capsys.readouterr().err
    assert not list(tmp_path.iterdir())
