"""The practice's own copy of the flow: ``triage-bot flows init`` and ``flows diff``.

The copy lives apart from the code (practice/, ignored by git) and is compared with the shipped
default through the origin kept beside it, so these tests run in a folder that is not a git
repository, with a copy of the shipped flows standing in for the code's.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bot import practice_copy
from bot.cli import main
from bot.config import load_settings
from bot.flow import check_flow
from tests.support import private
from tests.support.shipped import copy_shipped_flows

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = ROOT / "flows"


@pytest.fixture
def shipped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the shipped flows that a test may change, as a code update would (with fewer
    safety examples: tests/support/shipped.py)."""
    folder = copy_shipped_flows(tmp_path / "code" / "flows")
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


def test_a_test_that_reads_the_practices_files_or_the_developers_settings_is_seen(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    Path(".env").write_text("BOOKING_URL=https://example.com/book\n", encoding="utf-8")
    assert practice_copy.init(Path("practice")).version == 1
    # The suite's guard (tests/support/private.py), pointed at this test's own .env and copy.
    monkeypatch.setattr(private, "PRIVATE_FILES", [tmp_path / ".env"])
    monkeypatch.setattr(private, "PRIVATE_FOLDERS", [tmp_path / "practice"])
    try:
        settings = load_settings(require_token=False)  # reads .env from here, as `run` does
        assert settings.booking_url == "https://example.com/book"
        check_flow("practice/sciatica.yaml")  # and the shipped flow it was made from
        assert Path("practice/sciatica.scenarios.yaml") in Path("practice").iterdir()
        assert sorted(set(private.touched)) == [
            str(tmp_path / name)
            for name in (
                ".env",
                "practice",
                "practice/.origin/sciatica.json",
                "practice/.origin/sciatica.safety.yaml",  # held to its hash
                "practice/.origin/sciatica.yaml",
                "practice/sciatica.yaml",
            )
        ]
    finally:
        del private.touched[:]  # this test's own reads are not the suite's


def test_the_practice_folder_is_not_committed() -> None:
    ignored = subprocess.run(
        ["git", "check-ignore", "-q", "practice/sciatica.yaml"], cwd=ROOT, check=False
    )
    assert ignored.returncode == 0


# --- safety rule S7: the copy keeps the shipped flow's safety ------------------------------------

E1 = '          emergency_flags has any of ["saddle_numbness", "bladder_change", "bowel_change",\n'


def init_copy(capsys: pytest.CaptureFixture[str]) -> tuple[Path, str]:
    """``flows init`` in the current folder: the practice's copy and its text."""
    assert run(capsys, "flows", "init")[0] == 0
    copy = Path("practice/sciatica.yaml")
    return copy, copy.read_text(encoding="utf-8")


def s7_errors(path: str) -> list[str]:
    return [p.message for p in check_flow(path) if p.is_error]


def test_the_copy_cannot_unmark_an_emergency_sign_of_the_shipped_flow(
    shipped: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    copy, text = init_copy(capsys)
    assert s7_errors(str(copy)) == []
    # The audit's edit: saddle numbness no longer an emergency sign, sent to ordinary advice
    # after every rule for the signs still marked (so that S2 alone finds nothing).
    flags = text.index("      saddle_numbness:\n")
    mark = text.index("        emergency: true\n", flags)
    edited = text[:mark] + "        emergency: false\n" + text[mark + 24 :]
    edited = edited.replace(E1, E1.replace('"saddle_numbness", ', ""))
    edited = edited.replace(
        "      - goto: age\n",
        "      - if: '\"saddle_numbness\" in emergency_flags'\n"
        "        goto: likely_piriformis\n      - goto: age\n",
        1,
    )
    copy.write_text(edited, encoding="utf-8")
    code, out, err = run(capsys, "flows", "check", "practice/")
    assert (code, out) == (1, "")
    line = edited[:mark].count("\n") + 1
    where = f"practice/sciatica.yaml:{line}:20"
    assert f"{where}  S7 shipped-safety-kept: The shipped flow marks " in err
    assert "'saddle_numbness' (Numb between legs) as an emergency sign, and this copy " in err
    assert "as in the shipped flow: practice/.origin/sciatica.yaml" in err
    assert re.search(
        r"^Found 1 error( and \d+ warnings?)? in practice/sciatica\.yaml\.$", err, re.M
    )

    # Nor can it drop the option altogether.
    start = text.index("      saddle_numbness:\n")
    end = text.index("      bladder_change:\n")
    dropped = text[:start] + text[end:]
    copy.write_text(dropped.replace(E1, E1.replace('"saddle_numbness", ', "")), encoding="utf-8")
    assert s7_errors(str(copy)) == [
        "S7 shipped-safety-kept: 'emergency_flags' does not ask about the emergency sign "
        "'saddle_numbness' (Numb between legs), as the shipped flow does."
    ]


def test_the_copy_cannot_drop_the_safety_net_nor_go_round_the_emergency_question(
    shipped: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    copy, text = init_copy(capsys)
    net, after = text.index("\nsafety_net:\n"), text.index("\nreasons:\n")
    copy.write_text(text[:net] + "\n" + text[after:], encoding="utf-8")
    assert s7_errors(str(copy)) == [
        "S7 shipped-safety-kept: The shipped flow this copy was made from has a safety net "
        "(safety_net:), and this copy has none: warning signs typed in people's own words "
        "would go unnoticed."
    ]

    # Severity straight on to age: the emergency signs are asked only of people under 16.
    around = text.replace("    next: emergency_flags\n", "    next: age\n", 1).replace(
        "      - if: age < 16\n        goto: see_doctor_soon\n",
        "      - if: age < 16\n        goto: emergency_flags\n",
        1,
    )
    copy.write_text(around, encoding="utf-8")
    (message,) = s7_errors(str(copy))
    assert message.startswith(
        "S7 shipped-safety-kept: In the shipped flow every way to advice passes "
        "'emergency_flags', the question with the emergency signs; in this copy "
    )
    assert "severity → age → " in message


def test_the_copy_cannot_weaken_what_its_safety_net_makes_of_the_shipped_examples(
    shipped: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    copy, text = init_copy(capsys)
    numb = '    numb:\n      en: [numb, tingl*, "pins and needles",'
    saddle = "      when: [numb + saddle, numb + wipe, medical_saddle, as_if + sitting_on"
    saddle += " + numb_image]\n"
    assert numb in text and saddle in text

    # A word of the practice's own added to a group: every shipped example still alarms.
    mine = text.replace(numb, numb.replace("[numb,", '[numb, "gone to sleep",'))
    copy.write_text(mine, encoding="utf-8")
    assert s7_errors(str(copy)) == []

    # "numb" hidden from every sign: warnings the shipped net catches get nothing now.
    hidden = text.replace('  ignore:\n    en: ["chest of drawers",', "  ignore:\n    en: [numb,", 1)
    copy.write_text(hidden, encoding="utf-8")
    (message,) = s7_errors(str(copy))
    assert message.startswith("S7 shipped-safety-kept: With this copy's safety net, ")
    assert "of the shipped flow's warning examples no longer get the emergency advice" in message
    assert "(now: nothing)" in message

    # The sign doubted by its own body part: its clear warnings become a question.
    doubted = text.replace(saddle, saddle + "      doubted_by: [saddle]\n")
    copy.write_text(doubted, encoding="utf-8")
    (message,) = s7_errors(str(copy))
    assert "no longer get the emergency advice, such as " in message
    assert "(now: the question)" in message
    assert "doubtful mentions no longer get the question" not in message  # asked still

    # The shipped examples are held to their hash like the shipped flow.
    copy.write_text(text, encoding="utf-8")
    examples = Path("practice/.origin/sciatica.safety.yaml")
    examples.write_text(examples.read_text(encoding="utf-8") + "\n# mine\n", encoding="utf-8")
    assert s7_errors(str(copy)) == [
        "S7 shipped-safety-kept: This is a practice's copy of a shipped flow, but "
        "practice/.origin/sciatica.safety.yaml was changed since flows init wrote it, so the "
        "copy cannot be held to the emergency signs and the safety net it shipped with."
    ]


def test_the_shipped_flow_kept_beside_the_copy_cannot_be_changed_or_deleted(
    shipped: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(capsys, "flows", "init")[0] == 0
    origin = Path("practice/.origin/sciatica.yaml")
    text = origin.read_text(encoding="utf-8")
    origin.write_text(text.replace("emergency: true", "emergency: false"), encoding="utf-8")
    assert s7_errors("practice/sciatica.yaml") == [
        "S7 shipped-safety-kept: This is a practice's copy of a shipped flow, but "
        "practice/.origin/sciatica.yaml was changed since flows init wrote it, so the copy "
        "cannot be held to the emergency signs and the safety net it shipped with."
    ]
    origin.unlink()
    (message,) = s7_errors("practice/sciatica.yaml")
    assert "but practice/.origin/sciatica.yaml is missing, so the copy cannot be held" in message


COLD_LEG = (
    "      cold_leg:\n"
    '        label: { en: "A cold, pale leg", es: "Una pierna fría y pálida" }\n'
    "        emergency: true\n"
)
NONE_OF_THESE = (
    '      none: { label: { en: "None of these", es: "Ninguno de estos" }, exclusive: true }\n'
)


def test_diff_accept_waits_until_the_copy_has_the_shipped_flows_new_emergency_sign(
    shipped: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run(capsys, "flows", "init")
    flow = shipped / "sciatica.yaml"
    text = flow.read_text(encoding="utf-8")
    assert text.count(NONE_OF_THESE) == 1
    newer = text.replace("version: 1\n", "version: 2\n").replace(
        NONE_OF_THESE, COLD_LEG + NONE_OF_THESE
    )
    newer = newer.replace(
        E1, E1.replace('["saddle_numbness", ', '["cold_leg", "saddle_numbness", ')
    )
    flow.write_text(newer, encoding="utf-8")
    origin = Path("practice/.origin/sciatica.yaml")
    record = Path("practice/.origin/sciatica.json").read_text(encoding="utf-8")

    code, out, err = run(capsys, "flows", "diff", "--accept")
    assert code == 1 and "+      cold_leg:" in out
    assert (
        "S7 shipped-safety-kept: 'emergency_flags' does not ask about the emergency sign "
        "'cold_leg' (A cold, pale leg), as the shipped flow does." in err
    )
    assert "Not recorded: the shipped flow now has safety that practice/sciatica.yaml lacks" in err
    assert origin.read_text(encoding="utf-8") == text
    assert Path("practice/.origin/sciatica.json").read_text(encoding="utf-8") == record
    assert s7_errors("practice/sciatica.yaml") == []  # the copy still runs as it was

    # Once the copy has taken the new sign over, the newer shipped flow is recorded.
    copy = Path("practice/sciatica.yaml")
    taken = copy.read_text(encoding="utf-8").replace(NONE_OF_THESE, COLD_LEG + NONE_OF_THESE)
    copy.write_text(taken.replace(E1, E1.replace('["saddle_n', '["cold_leg", "saddle_n')), "utf-8")
    code, out, _ = run(capsys, "flows", "diff", "--accept")
    assert code == 0 and "Recorded the shipped files as they are now" in out
    assert origin.read_text(encoding="utf-8") == newer


# --- installed as a package (as the container image does) ---------------------------------------


@pytest.mark.long  # a package built and installed with pip: scripts/test-long, run by .ci/run
def test_the_tools_find_what_ships_with_the_code_in_a_package_installed_without_the_project(
    tmp_path: Path,
) -> None:
    # The code as pip installs it without -e (the container image's way): into a folder of
    # its own, built offline with this environment's setuptools, run from a folder that is not
    # the project, so that only the package's own files are there to be found.
    source = tmp_path / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    skip = shutil.ignore_patterns("__pycache__", "*.pyc")
    shutil.copytree(ROOT / "bot", source / "bot", symlinks=True, ignore=skip)
    shutil.copytree(SHIPPED, source / "flows")
    shutil.copytree(ROOT / "docs", source / "docs")  # as the image's build has it
    site = tmp_path / "site"
    pip = [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-index"]
    pip += ["--no-build-isolation", "--target", str(site), str(source)]
    done = subprocess.run(pip, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    work = tmp_path / "work"
    work.mkdir()

    def triage_bot(*argv: str) -> subprocess.CompletedProcess[str]:
        env = {**os.environ, "PYTHONPATH": str(site)}
        command = [sys.executable, "-m", "bot", *argv]
        return subprocess.run(
            command, cwd=work, env=env, capture_output=True, text=True, timeout=60
        )

    init = triage_bot("flows", "init")
    assert init.returncode == 0, init.stderr
    assert init.stdout.startswith("Copied the default flow (version 1) into practice/:\n")
    record = json.loads((work / "practice/.origin/sciatica.json").read_text(encoding="utf-8"))
    # From the package's own files (the project's would be flows/sciatica.yaml):
    assert record["copied_from"] == "bot/shipped_flows/sciatica.yaml"
    for name in ("sciatica.yaml", "sciatica.scenarios.yaml", "sciatica.safety.yaml"):
        shipped_text = (SHIPPED / name).read_text(encoding="utf-8")
        assert (work / "practice" / ".origin" / name).read_text(encoding="utf-8") == shipped_text
    diff = triage_bot("flows", "diff")
    assert (diff.returncode, diff.stderr) == (0, "")
    assert diff.stdout.startswith("Nothing changed in the shipped flow since practice/sciatica")
    assert "no longer shipped" not in diff.stdout
    # The copy's editor line names the schema the package carries, and it is there to read.
    first = (work / "practice" / "sciatica.yaml").read_text(encoding="utf-8").splitlines()[0]
    schema = Path(first.removeprefix("# yaml-language-server: $schema="))
    assert schema.is_absolute() and site in schema.parents, first
    assert json.loads(schema.read_text(encoding="utf-8"))["title"]
    # The review page carries the open questions for the clinician, from the package's copy.
    review = triage_bot("flows", "review", "practice/sciatica.yaml", "--out", "review.html")
    assert review.returncode == 0, review.stderr
    page = (work / "review.html").read_text(encoding="utf-8")
    assert "Sexual dysfunction alone as an emergency?" in page
    assert "No open questions were given." not in page

    # A package without them says so plainly, rather than that nothing is shipped any more.
    shutil.rmtree(site / "bot" / "shipped_flows")
    for argv in (("flows", "diff"), ("flows", "init", "--to", "again")):
        lost = triage_bot(*argv)
        assert (lost.returncode, lost.stdout) == (1, "")
        assert lost.stderr.startswith("Cannot find the shipped flows: they come with the code, in ")
        assert "Traceback" not in lost.stderr
