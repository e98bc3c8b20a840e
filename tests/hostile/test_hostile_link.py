"""``triage-bot link`` with odd arguments and a folder someone has prepared.

``--source=--`` ended in a traceback (argparse hands over an empty list for it), and ``--out``
followed a symbolic link already sitting in the folder, overwriting whatever it pointed at.
Both are refused with one sentence now; files are written atomically (a temporary file in the
folder, then ``os.replace``), so a reader never sees half a QR code and a link is never
followed.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bot.cli import main

USERNAME = "PainCheckBot"
KIT = ("telegram-website.png", "telegram-website.svg", "telegram-website.html")


@pytest.fixture(autouse=True)
def username(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)  # no developer .env
    monkeypatch.setenv("BOT_USERNAME", USERNAME)


def said(capsys: pytest.CaptureFixture[str]) -> list[str]:
    return [line for line in capsys.readouterr().err.splitlines() if line.strip()]


@pytest.mark.parametrize("argv", [["--source=--"], ["--source=--", "--out=site"]])
def test_a_source_of_dashes_only_is_a_usage_error_not_a_traceback(
    argv: list[str], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    assert main(["link", *argv]) == 2
    (line,) = said(capsys)
    assert "--source" in line and "Traceback" not in line
    assert not (tmp_path / "site").exists() and not (tmp_path / "website").exists()


@pytest.mark.parametrize("name", KIT)
def test_a_symbolic_link_in_the_folder_is_refused_and_its_target_untouched(
    name: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    victim = tmp_path / "precious.txt"
    victim.write_text("do not overwrite me")
    out = tmp_path / "site"
    out.mkdir()
    (out / name).symlink_to(victim)

    assert main(["link", "--source", "website", "--out", str(out)]) == 1
    line = said(capsys)[-1]  # (after a note when this folder has no flow to read languages from)
    assert name in line and "symbolic link" in line
    assert victim.read_text() == "do not overwrite me"
    assert (out / name).is_symlink()
    assert sorted(p.name for p in out.iterdir()) == [name], "nothing written, nothing left"


def test_files_are_replaced_whole_and_nothing_temporary_is_left(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    out = tmp_path / "site"
    out.mkdir()
    (out / "telegram-website.png").write_bytes(b"an old picture")
    hard = out / "telegram-website.html"
    hard.write_text("old snippet")
    elsewhere = tmp_path / "hard-link.html"
    os.link(hard, elsewhere)  # a second name for the old file: it keeps the old text

    assert main(["link", "--source", "website", "--out", str(out)]) == 0
    assert sorted(p.name for p in out.iterdir()) == sorted(KIT)
    assert (out / "telegram-website.png").read_bytes().startswith(b"\x89PNG")
    assert f"https://t.me/{USERNAME}?start=website" in hard.read_text()
    assert elsewhere.read_text() == "old snippet"  # replaced, not written through
    for name in KIT:
        assert (out / name).stat().st_mode & 0o444 == 0o444, "readable for a web server"
