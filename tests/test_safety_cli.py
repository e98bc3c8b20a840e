"""The therapist's safety-net tools: ``flows screen``, and the safety-examples file that
``flows check`` validates and ``flows test`` runs."""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path

import pytest

from bot.cli import main
from bot.flow.loader import load_compiled
from bot.safety_examples import read_examples
from tests.support.private import shipped_view

ROOT = Path(__file__).resolve().parents[1]
FLOW = ROOT / "flows" / "sciatica.yaml"
EXAMPLES = ROOT / "flows" / "sciatica.safety.yaml"


@pytest.fixture(autouse=True)
def in_repo(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """As from the repository, without the developer's .env."""
    monkeypatch.chdir(shipped_view(tmp_path / "project"))


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


# --- flows screen -----------------------------------------------------------------------------


def test_screen_json_prints_one_contract_object_per_line_in_order(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    lines = ["i cant feel when i wipe", "no numbness down there", "my back hurts", ""]
    monkeypatch.setattr("sys.stdin", io.StringIO("\n".join(lines) + "\n"))
    code, out, _ = run(capsys, "flows", "screen", "--json")
    assert code == 0
    records = [json.loads(line) for line in out.splitlines()]
    assert [r["text"] for r in records] == lines
    assert [set(r) for r in records] == [{"text", "verdict", "concept", "evidence"}] * 4
    assert [r["verdict"] for r in records] == ["emergency", "confirm", "none", "none"]
    assert records[0]["concept"] == "saddle_numbness"
    assert records[0]["evidence"] == "cant feel when i wipe"
    assert records[2]["concept"] is None and records[2]["evidence"] is None


def test_screen_text_shows_why_in_the_chosen_language(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        capsys, "flows", "screen", "sciatica", "--language", "es", "--text", "no puedo orinar"
    )
    assert code == 0
    first, why = out.splitlines()
    assert first.split() == ["emergency", "no", "puedo", "orinar"]
    assert "bladder_change" in why and "“no puedo orinar”" in why
    assert "problemas nuevos para orinar" in why  # the sign in Spanish


def test_screen_with_a_language_the_flow_lacks_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "flows", "screen", "--language", "fr", "--text", "x")
    assert code == 2 and "no 'fr'" in err


# --- the safety-examples file -----------------------------------------------------------------


def test_the_shipped_examples_are_valid_cover_every_concept_and_pass() -> None:
    compiled = load_compiled(FLOW)
    examples, problems = read_examples(EXAMPLES, compiled.flow)
    assert problems == []  # no error, and no concept without an example in any language
    assert len(examples) >= 300
    for language in ("en", "es"):
        verdicts = {e.expect.value for e in examples if e.language == language}
        assert verdicts == {"emergency", "confirm", "none"}


def _flow_with_examples(tmp_path: Path, examples: str) -> Path:
    flow = tmp_path / "mine.yaml"
    shutil.copy(FLOW, flow)
    (tmp_path / "mine.safety.yaml").write_text(examples, encoding="utf-8")
    return flow


def test_check_reports_mistakes_in_the_examples_file_with_line_and_advice(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    flow = _flow_with_examples(
        tmp_path,
        "examples:\n"
        "  en:\n"
        "    emergency:\n"
        "      saddle_numbnes:\n"
        '        - "numb down there"\n'
        "    maybe:\n"
        '      - "x"\n'
        "  fr:\n"
        "    none: []\n",
    )
    code, _, err = run(capsys, "flows", "check", str(flow))
    assert code == 1
    assert "mine.safety.yaml:4:7  'saddle_numbnes' is not a concept" in err
    assert "Did you mean 'saddle_numbness'?" in err
    assert "mine.safety.yaml:6:5  'maybe' is not a verdict." in err
    assert "mine.safety.yaml:8:3  'fr' is not one of the flow's languages." in err
    assert "warning: No en example for: saddle_numbness, bladder_change," in err


def test_test_runs_the_examples_and_fails_on_a_wrong_one(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    flow = _flow_with_examples(
        tmp_path,
        "examples:\n"
        "  en:\n"
        "    emergency:\n"
        '      bladder_change: ["I cant pee", "my back hurts"]\n'
        "    none:\n"
        '      - "42"\n',
    )
    code, out, _ = run(capsys, "flows", "test", str(flow))
    assert code == 1
    assert "(3 safety examples, flow sciatica)" in out
    assert "FAIL line 4 [en] 'my back hurts'" in out
    assert "expected emergency (bladder_change), got none" in out
    assert "2 passed, 1 failed" in out


def test_an_unusable_examples_file_is_counted_as_such(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    flow = _flow_with_examples(tmp_path, "examples:\n  en:\n    maybe: []\n")
    (tmp_path / "mine.scenarios.yaml").write_text("[]\n", encoding="utf-8")
    code, out, err = run(capsys, "flows", "test", str(flow))
    assert code == 1
    assert "mine.safety.yaml: the file could not be used; fix the mistakes above." in err
    assert out.endswith("0 passed, 0 failed; 1 safety-examples file could not be used.\n")


def test_check_of_the_flows_glob_checks_the_examples_with_their_flow(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, _ = run(capsys, "flows", "check", str(FLOW), str(EXAMPLES))
    assert code == 0
    assert out.count("sciatica.yaml: OK") == 1  # checked once, with its examples
