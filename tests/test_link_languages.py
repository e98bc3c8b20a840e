"""The website snippet follows the flow's languages: one snippet per language, in its words."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.cli import main
from bot.link import make_link_kit, render_snippet

ROOT = Path(__file__).resolve().parents[1]


def test_a_snippet_per_language_of_the_flow(tmp_path: Path) -> None:
    kit = make_link_kit("triage_bot", "website", tmp_path, ("es", "en"))
    spanish = kit.snippet.read_text(encoding="utf-8")
    assert kit.snippet == tmp_path / "telegram-website.html"  # the first language's
    assert '<div lang="es"' in spanish and ">Escríbenos por Telegram</a>" in spanish
    assert 'alt="Código QR: escanéalo con la cámara del móvil' in spanish
    assert kit.translations == {"en": tmp_path / "telegram-website.en.html"}
    english = kit.translations["en"].read_text(encoding="utf-8")
    assert '<div lang="en"' in english and ">Chat with us on Telegram</a>" in english
    assert 'src="telegram-website.png"' in english  # one QR code for both


def test_a_language_without_wording_falls_back_to_english() -> None:
    snippet = render_snippet("https://t.me/x", "x.png", language="fr")
    assert '<div lang="en"' in snippet and "Chat with us on Telegram" in snippet


def test_the_link_command_reads_the_languages_of_the_flow_the_bot_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("BOT_USERNAME", "practice_bot")
    monkeypatch.setenv("FLOW_FILE", str(ROOT / "flows" / "sciatica.yaml"))  # en and es
    code = main(["link", "--source", "website", "--out", "site"])
    out = capsys.readouterr().out
    assert code == 0
    assert "HTML snippet: site/telegram-website.html" in out
    assert "HTML snippet, es: site/telegram-website.es.html" in out
    assert "Escríbenos por Telegram" in Path("site/telegram-website.es.html").read_text("utf-8")

    monkeypatch.setenv("FLOW_FILE", "nowhere.yaml")
    code = main(["link", "--out", "site"])
    captured = capsys.readouterr()
    assert code == 0 and "the website snippet is in English only" in captured.err
    assert "HTML snippet, " not in captured.out
