"""The practice's own copy of the flow: ``triage-bot flows init`` and ``flows diff``.

The copy lives apart from the code (practice/, ignored by git) and is compared with the shipped
default through the origin kept beside it, so these tests run in a folder that is not a git
repository, with a copy of the shipped flows standing in for the code's.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from bot import practice_copy
from bot.cli import main

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = ROOT / "flows"


@pytest.fixture
def shipped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the shipped flows that a test may change, as a code update would."""
    folder = tmp_path / "code" / "flows"
    shutil.copytree(SHIPPED, folder)
    monkeypatch.setattr(practice_copy, "SHIPPED_FLOWS", folder)
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    return folder


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_init_copies_the_flow_its_scenarios_and_safety_examples(
    shipped: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, "flows", "init")
    assert (code, err) == (0, "")
    assert out.splitlines()[:6] == [
        "Copied the default flow (version 1) into practice/:",
        "  practice/sciatica.yaml            the conversation",
        "  practice/sciatica.scenarios.yaml  its scenario tests",
        "  practice/sciatica.safety.yaml     its safety examples",
        "To run the bot with it, put this line in .env:",
        "FLOW_FILE=practice/sciatica.yaml",
    ]
    for name in ("sciatica.yaml", "sciatica.scenarios.yaml", "sciatica.safety.yaml"):
        copy = Path("practice", name).read_text(encoding="utf-8")
        origin = Path("practice", ".origin", name).read_text(encoding="utf-8")
        assert origin == (shipped / name).read_text(encoding="utf-8")
        if name != "sciatica.yaml":
            assert copy == origin
    record = json.loads(Path("practice/.origin/sciatica.json").read_text(encoding="utf-8"))
    assert record["flow"] == "sciatica" and record["version"] == 1
    assert record["files"]["sciatica.yaml"] == practice_copy.digest(
        (shipped / "sciatica.yaml").read_text(encoding="utf-8")
    )
    # The editor still finds the schema from the copy's folder (outside the project here).
    first = Path("practice/sciatica.yaml").read_text(encoding="utf-8").splitlines()[0]
    assert first == f"# yaml-language-server: $schema={practice_copy.SCHEMA.as_posix()}"


def test_the_copy_is_checked_and_tested_as_the_practices_own(
    shipped: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(capsys, "flows", "init")[0] == 0
    code, out, _ = run(capsys, "flows", "check", "practice/")
    assert code == 0 and "practice/sciatica.yaml: OK" in out
    code, out, _ = run(capsys, "flows", "test", "practice/")
    assert code == 0 and "practice/sciatica.scenarios.yaml" in out
    assert "practice/sciatica.safety.yaml" in out and " 0 failed." in out


def test_init_never_overwrites_the_practices_copy(
    shipped: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(capsys, "flows", "init", "--to", "mine")[0] == 0
    Path("mine/sciatica.yaml").write_text("my own words\n", encoding="utf-8")
    code, out, err = run(capsys, "flows", "init", "--to", "mine")
    assert (code, out) == (1, "")
    assert err == (
        "mine/sciatica.yaml already exists, and flows init never overwrites the practice's "
        "copy: to see what changed in the shipped flow since, run triage-bot flows diff "
        "mine/sciatica.yaml.\n"
    )
    assert Path("mine/sciatica.yaml").read_text(encoding="utf-8") == "my own words\n"


def test_diff_says_plainly_when_nothing_changed(
    shipped: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run(capsys, "flows", "init")
    Path("practice/sciatica.yaml").write_text("the practice's edits\n", encoding="utf-8")
    code, out, err = run(capsys, "flows", "diff")
    assert (code, err) == (0, "")
    day = json.loads(Path("practice/.origin/sciatica.json").read_text())["copied_at"][:10]
    assert out == (
        f"Nothing changed in the shipped flow since practice/sciatica.yaml was copied from it "
        f"on {day} (version 1): there is nothing to take over.\n"
    )


def test_diff_shows_what_changed_in_the_shipped_flow_without_git(
    shipped: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run(capsys, "flows", "init")
    assert subprocess.run(["git", "status"], capture_output=True, check=False).returncode != 0
    flow = shipped / "sciatica.yaml"
    text = flow.read_text(encoding="utf-8")
    flow.write_text(
        text.replace("version: 1\n", "version: 2\n").replace(
            "Where is the pain worst?", "Where does it hurt most?"
        ),
        encoding="utf-8",
    )
    code, out, _ = run(capsys, "flows", "diff", "practice/sciatica.yaml")
    assert code == 0
    lines = out.splitlines()
    assert lines[0].startswith("The shipped files changed since ")
    assert lines[0].endswith(f", version 1 then and 2 now: {flow}.")
    assert f"--- {flow} on " in out and f"+++ {flow} now" in out
    assert "-version: 1" in lines and "+version: 2" in lines
    assert any(line.startswith("-") and "Where is the pain worst?" in line for line in lines)
    assert any(line.startswith("+") and "Where does it hurt most?" in line for line in lines)
    assert "sciatica.scenarios.yaml" not in out  # unchanged files are not shown
    assert "run this again with --accept" in out

    # Once the practice has taken over what it wants, --accept starts the next diff from here.
    code, out, _ = run(capsys, "flows", "diff", "--accept")
    assert code == 0 and "Recorded the shipped files as they are now" in out
    code, out, _ = run(capsys, "flows", "diff")
    assert code == 0 and out.startswith("Nothing changed in the shipped flow since")
    assert "(version 2)" in out


def test_diff_of_a_file_not_made_by_init_says_so(
    shipped: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    Path("mine.yaml").write_text("flow: x\n", encoding="utf-8")
    code, out, err = run(capsys, "flows", "diff", "mine.yaml")
    assert (code, out) == (1, "")
    assert err.startswith("mine.yaml has no record of the shipped flow it was copied from")
    code, _, err = run(capsys, "flows", "diff")
    assert code == 1 and err.startswith("There is no flow file at practice/sciatica.yaml")


def test_the_practice_folder_is_not_committed() -> None:
    ignored = subprocess.run(
        ["git", "check-ignore", "-q", "practice/sciatica.yaml"], cwd=ROOT, check=False
    )
    assert ignored.returncode == 0
