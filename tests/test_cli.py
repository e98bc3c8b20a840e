"""The therapist's command line: ``triage-bot`` / ``python -m bot`` (contract: design.md).

Mostly in-process through ``bot.cli.main(argv)`` (fast, real files in tmp_path); one run as a
subprocess proves the ``python -m bot`` entry point and the JSON on stdout.
"""

from __future__ import annotations

import io
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bot import practice_copy
from bot.cli import main
from tests.support.private import shipped_view
from tests.support.shipped import copy_shipped_flows

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
    """Run as from the repository (flows/ is found relative to it), with no personal settings:
    neither the developer's .env nor their shell's."""
    monkeypatch.chdir(shipped_view(tmp_path / "project"))
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


def test_the_tools_work_on_the_flow_the_bot_runs_when_given_none(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The practice's copy, named by FLOW_FILE in .env as `triage-bot run` reads it (no token):
    # check, test, screen, review and diff all work on it, not on the shipped flow.
    shipped = copy_shipped_flows(tmp_path / "code" / "flows")  # with fewer safety examples
    monkeypatch.setattr(practice_copy, "SHIPPED_FLOWS", shipped)
    assert run(capsys, "flows", "init", "--to", "mine")[0] == 0
    copy = Path("mine/sciatica.yaml")
    Path(".env").write_text(f"FLOW_FILE={copy}\n", encoding="utf-8")
    code, out, _ = run(capsys, "flows", "check")
    assert code == 0 and out.splitlines()[-1].startswith("mine/sciatica.yaml: OK")
    assert "flows/sciatica.yaml" not in out
    code, out, _ = run(capsys, "flows", "test")
    assert code == 0 and "mine/sciatica.scenarios.yaml (" in out
    assert "mine/sciatica.safety.yaml (" in out and "flows/" not in out
    code, _, err = run(capsys, "flows", "review", "--out", str(tmp_path / "page.html"))
    assert code == 0 and "Flow file" in (tmp_path / "page.html").read_text(encoding="utf-8")
    assert "mine/sciatica.yaml" in (tmp_path / "page.html").read_text(encoding="utf-8")
    code, out, _ = run(capsys, "flows", "diff")
    assert code == 0 and out.startswith("Nothing changed in the shipped flow since mine/sciatica")

    # The copy without its safety net: screen says so of the copy. (Refused by the checker as
    # well, S7, so this copy has no origin: the file alone is what screen reads.)
    text = copy.read_text(encoding="utf-8")
    bare = Path("bare.yaml")
    bare.write_text(text[: text.index("\nsafety_net:")] + text[text.index("\nreasons:") :], "utf-8")
    Path(".env").write_text("FLOW_FILE=bare.yaml\n", encoding="utf-8")
    code, _, err = run(capsys, "flows", "screen", "--text", "numb down there")
    assert (code, err) == (1, "bare.yaml has no safety net: every message would pass unread.\n")

    # A FLOW_FILE that is not there is said to be one, and the shell's wins over .env.
    Path(".env").write_text("FLOW_FILE=practice/sciatica.yaml\n", encoding="utf-8")
    code, out, err = run(capsys, "flows", "check")
    assert (code, out) == (1, "")
    assert err.startswith("There is no flow file at practice/sciatica.yaml (FLOW_FILE in the ")
    with pytest.MonkeyPatch.context() as shell:
        shell.setenv("FLOW_FILE", str(copy))
        assert run(capsys, "flows", "check")[0] == 0
    # Settings that cannot be read do not quietly give the shipped flow instead.
    Path(".env").write_text(f"FLOW_FILE={copy}\nLOG_LEVEL=LOUD\n", encoding="utf-8")
    code, out, err = run(capsys, "flows", "test")
    assert (code, out) == (1, "")
    assert err.startswith("The settings say which flow the bot runs (FLOW_FILE), but they ")
    assert "LOG_LEVEL" in err and "triage-bot flows check practice/sciatica.yaml" in err


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


def test_check_of_the_flows_glob_skips_the_scenario_file_with_a_note(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # What the shell makes of `triage-bot flows check flows/*.yaml`.
    code, out, err = run(capsys, "flows", "check", str(FLOW), str(SCENARIOS))
    assert code == 0
    assert f"{FLOW}: OK" in out
    assert f"{SCENARIOS} is a scenario file: run `triage-bot flows test" in err
    assert "holds a list" not in err and "error" not in err


def test_check_of_only_a_scenario_file_is_a_usage_error(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, err = run(capsys, "flows", "check", str(SCENARIOS))
    assert code == 2
    assert out == "" and "is a scenario file" in err


def test_check_of_a_folder_checks_its_flow_files(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    broken, line = broken_copy(tmp_path, "    next: radiation\n", "    next: radiaton\n")
    shutil.copy(FLOW, tmp_path / "good.yaml")
    shutil.copy(SCENARIOS, tmp_path / "good.scenarios.yaml")
    code, out, err = run(capsys, "flows", "check", str(tmp_path))
    assert code == 1
    assert f"{broken}:{line}:" in err
    assert f"{tmp_path / 'good.yaml'}: OK" in out
    assert "scenarios" not in out + err  # a folder's scenario files are left out quietly


@pytest.mark.parametrize(
    "argv",
    [
        ["chat", "sciatica"],
        ["flows", "try", "sciatica", "--answer", "location=buttock"],
        ["flows", "graph", "sciatica"],
    ],
)
def test_a_flow_name_outside_the_project_is_one_clear_sentence(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    argv: list[str],
) -> None:
    monkeypatch.chdir(tmp_path)
    code, out, err = run(capsys, *argv)
    assert code == 1
    assert err == (
        "No flow 'sciatica': looked for sciatica and flows/sciatica.yaml; "
        "run from the project folder or give the file's path.\n"
    )
    assert out == ""


def test_chat_without_a_flow_outside_the_project_names_the_setting(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    code, _, err = run(capsys, "chat")
    assert code == 1
    assert "There is no flow file at flows/sciatica.yaml (FLOW_FILE); run from the project" in err
    assert "Found 1 error" not in err
    # .env.example's FLOW_FILE, before flows init made the practice's copy:
    monkeypatch.setenv("FLOW_FILE", "practice/sciatica.yaml")
    code, _, err = run(capsys, "chat")
    assert code == 1
    assert err.startswith(
        "There is no flow file at practice/sciatica.yaml (FLOW_FILE); make the practice's copy "
        "with triage-bot flows init or give the flow"
    )


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
        "ignored": [],
    }


def test_try_ignores_answers_the_path_never_asks_and_lists_them(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, err = run(
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
    assert data["ignored"] == ["age", "worse_sitting"]
    assert "Note: not asked on this path: age, worse_sitting." in err


def test_try_prints_path_outcome_and_reasons(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "flows", "try", str(FLOW), *answers(*ADULT_BUTTOCK), "--show")
    assert code == 0
    assert "7. worse_sitting = yes  (Yes, sitting makes it worse)" in out
    assert "Outcome: likely_piriformis" in out
    assert "Reasons: buttock_pain, sitting_worse" in out
    assert "piriformis is a small muscle" in out  # --show prints the message itself
    assert "**" not in out  # bold is rendered, not shown as markers (plain when not a terminal)
    assert "Why we suggest this:" in out
    assert "https://example.com/book] (demo link: set BOOKING_URL)" in out


def test_try_show_gives_the_real_booking_link_without_a_demo_note(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BOOKING_URL", "https://massage.example.org/book")
    code, out, _ = run(capsys, "flows", "try", str(FLOW), *answers(*ADULT_BUTTOCK), "--show")
    assert code == 0
    assert "https://massage.example.org/book]" in out and "demo link" not in out


def test_try_with_a_language_the_flow_lacks_exits_2(
    capsys: pytest.CaptureFixture[str],
) -> None:
    argv = ["flows", "try", str(FLOW), *answers(*ADULT_BUTTOCK), "--language", "fr"]
    code, out, err = run(capsys, *argv)
    assert code == 2 and out == ""
    assert "This flow has no 'fr'. Languages: en, es." in err
    code, out, _ = run(capsys, *argv, "--json")
    assert code == 2
    assert json.loads(out)["error"] == "This flow has no 'fr'. Languages: en, es."
    code, out, _ = run(capsys, *argv[:-1], "es-MX", "--json")  # a regional code is its language
    assert code == 0 and json.loads(out)["outcome"] == "likely_piriformis"


def test_chat_with_a_language_the_flow_lacks_says_so_once_and_goes_on_in_english(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO("quit\n"))
    code, out, err = run(capsys, "chat", str(FLOW), "--language", "fr")
    assert code == 0
    assert err.count("This flow has no 'fr'; using English (en). Languages: en, es.") == 1
    assert "Where is the pain worst?" in out and "Goodbye." in out


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
    assert expected in err
    assert "Traceback" not in err
    data = json.loads(out)  # scripts still get an object on stdout
    assert expected in data["error"]
    assert data["outcome"] is None and data["path"] == [] and data["ignored"] == []


def test_try_json_for_a_missing_or_broken_flow_is_still_json(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, out, err = run(capsys, "flows", "try", "nosuch", "--json")
    assert code == 1
    assert json.loads(out)["error"].startswith("No flow 'nosuch': looked for nosuch and")
    assert "No flow 'nosuch'" in err
    path, line = broken_copy(tmp_path, "    min: 0\n", "    min: zero\n")
    code, out, err = run(capsys, "flows", "try", str(path), "--json")
    assert code == 1
    assert f"{path}:{line}:" in json.loads(out)["error"] and f"{path}:{line}:" in err


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
    # From the shipped view (in_repo), not the repository: no developer's .env is read.
    emergency = answers(*ADULT_BUTTOCK[:3], "emergency_flags=tummy_pain_faint")
    done = subprocess.run(
        [sys.executable, "-m", "bot", "flows", "try", "flows/sciatica.yaml", "--json", *emergency],
        cwd=tmp_path / "project",
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["outcome"] == "emergency"
    missing = subprocess.run(
        [sys.executable, "-m", "bot", "flows", "try", "flows/sciatica.yaml"],
        cwd=tmp_path / "project",
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
    assert " scenarios, flow sciatica v" in out


def test_one_scenario_is_counted_in_the_singular(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = scenario_dir(tmp_path, FAILING.split("- name: wrongly")[0])
    code, out, _ = run(capsys, "flows", "test", str(path))
    assert code == 0
    assert f"{path} (1 scenario, flow sciatica v" in out
    assert "1 passed, 0 failed." in out


def test_an_unusable_scenario_file_is_reported_as_such_not_as_failures(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = scenario_dir(tmp_path, FAILING.replace("outcome: emergency", "outcome: emergncy"))
    code, out, err = run(capsys, "flows", "test", str(path))
    assert code == 1
    assert "'emergncy' is not an outcome" in err
    assert f"{path}: the file could not be used (2 scenarios not run)" in err
    assert "0 passed, 0 failed; 1 scenario file could not be used." in out
    assert "1 failed" not in out


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
        "  expect: {outcome: non_specific}\n"
        "- name: forgot the warning signs\n"
        "  answers: {location: hip_side, radiation: none, severity: 2, age: 40}\n"
        "  expect: {outcome: non_specific}\n",
    )
    code, out, _ = run(capsys, "flows", "test", str(path))
    assert code == 1
    assert "FAIL  forgot the age" in out
    assert "The flow asks 'age' but no answer was given. It expects a whole number" in out
    assert (
        "Add it to the scenario's answers or, for every scenario that gives none, as a line "
        "under defaults: at the top of the file:  age: 1\n" in out
    )
    # A tick-several question's suggested default is its "none of these", never a sign.
    assert "at the top of the file:  emergency_flags: [none]\n" in out


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
    assert f"{path}:4:5  'sevrity' is not a question in this flow (in 'typos')." in err
    assert "    4 |     sevrity: 3\n      |     ^^^^^^^\nDid you mean 'severity'?" in err
    assert f"{path}:5:21  'likely_piriformiss' is not an outcome of this flow (in 'typos')." in err
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
    # Settings from the environment alone (no .env in tmp_path), the shipped flow named.
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("BOT_USERNAME", "PainCheckBot")
    monkeypatch.setenv("FLOW_FILE", str(FLOW))
    out = tmp_path / "site"
    assert main(["link", "--source", "website", "--out", str(out)]) == 0
    first_line = capsys.readouterr().out.splitlines()[0]
    assert first_line == "https://t.me/PainCheckBot?start=website"
    assert (out / "telegram-website.png").read_bytes().startswith(b"\x89PNG")
    assert "https://t.me/PainCheckBot?start=website" in (out / "telegram-website.html").read_text()
    # One snippet per language of the flow named: the shipped flow's (en, es).
    assert (out / "telegram-website.es.html").is_file()


def test_link_refuses_a_source_telegram_would_reject(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("BOT_USERNAME", "PainCheckBot")
    out = tmp_path / "site"
    assert main(["link", "--source", "summer flyer", "--out", str(out)]) == 2
    assert "summer_flyer" in capsys.readouterr().err
    assert not out.exists()


def test_the_website_kit_link_writes_by_default_is_not_committed() -> None:
    # `triage-bot link` writes into website/ unless told otherwise.
    done = subprocess.run(
        ["git", "check-ignore", "-q", "website/telegram-website.png"],
        cwd=ROOT,
        capture_output=True,
        timeout=60,
    )
    assert done.returncode == 0


def _without_line_numbers(text: str) -> str:
    # The flow file grows above the mistake; the rest of the message must stay as shown.
    text = re.sub(r"\.yaml:\d+:", ".yaml:N:", text)
    return re.sub(r"(?m)^(\s*)\d+ \|", r"\1N |", text)


def test_the_guides_first_example_is_what_flows_check_prints(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    guide = (ROOT / "docs" / "flow-language.md").read_text(encoding="utf-8")
    block = re.search(r"\n    \$ (triage-bot flows check .*?)\n((?:    .*\n|\n)+?)\n(?! )", guide)
    assert block is not None
    shown = "\n".join(line[4:] for line in block.group(2).splitlines())
    (tmp_path / "flows").mkdir()
    broken = FLOW.read_text(encoding="utf-8").replace(
        "    next: radiation\n", "    next: radiaton\n", 1
    )
    (tmp_path / "flows" / "sciatica.yaml").write_text(broken, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    code, _, err = run(capsys, *block.group(1).split()[1:])
    assert code == 1 and "Found 1 error" in shown
    # The guide leaves out the warnings (labels a small phone may cut short), not the count.
    blocks = [b for b in err.strip().split("\n\n") if "  warning: " not in b.split("\n", 1)[0]]
    printed = "\n\n".join(blocks)
    assert _without_line_numbers(shown.strip()) == _without_line_numbers(printed)
