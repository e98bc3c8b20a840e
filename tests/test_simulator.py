"""The terminal chat (``triage-bot chat``): numbered answers, ticks, back, restart, piped input."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.engine import Engine
from bot.flow import load_compiled
from bot.simulator import TerminalChat, chat_settings

ROOT = Path(__file__).resolve().parents[1]
FLOW = ROOT / "flows" / "sciatica.yaml"
SETTINGS = {
    "booking_url": "https://example.com/book",
    "emergency_number": "999",
    "urgent_advice": "call 111",
}
# Buttock pain worse when sitting, typed as a person would in the terminal.
PIRIFORMIS = ["1", "2", "4", "10", "d", "42", "12", "d", "1", "3", "d"]


@pytest.fixture(scope="module")
def engine() -> Engine:
    return Engine(load_compiled(FLOW), SETTINGS)


def chat(
    engine: Engine, lines: list[str], *, color: bool = False, language: str | None = None
) -> tuple[int, str]:
    out = io.StringIO()
    code = TerminalChat(engine, out, color=color, echo=True, language=language).run(iter(lines))
    return code, out.getvalue()


def test_numbered_answers_reach_an_outcome_with_the_booking_link(engine: Engine) -> None:
    code, out = chat(engine, PIRIFORMIS)
    assert code == 0
    assert "  1) Deep in one buttock" in out
    assert "(Type a number from 0 to 10.)" in out
    assert "  12) [ ] None of these" in out and "  d) Done" in out
    assert "Your answers may involve the piriformis muscle." in out
    assert "→ Book a massage: https://example.com/book" in out
    assert out.rstrip().endswith("Goodbye.")  # ended cleanly when the input ran out


def test_ticks_show_and_exclusive_none_clears_them(engine: Engine) -> None:
    _, out = chat(engine, ["1", "2", "4", "1 5", "10"])
    assert "  1) [x] Numb between legs" in out
    assert "  5) [x] New symptoms in both legs" in out
    last = out.rsplit("  1) [", 1)[1]
    assert last.startswith(" ] Numb between legs")  # "None of these" unticked the others
    assert "  10) [x] None of these" in last


def test_several_numbers_at_once_tick_all_and_show_the_list_once(engine: Engine) -> None:
    _, out = chat(engine, ["1", "2", "4", "1 5 9", "quit"])
    after = out.split("> 1 5 9\n", 1)[1]
    assert after.count("  1) [") == 1  # one redraw, not one per number
    assert "  1) [x] Numb between legs" in after
    assert "  5) [x] New symptoms in both legs" in after and "  9) [x]" in after


def test_the_demo_booking_link_is_marked_and_a_real_one_is_not(engine: Engine) -> None:
    _, out = chat(engine, PIRIFORMIS)
    assert "→ Book a massage: https://example.com/book (demo link: set BOOKING_URL)" in out
    real = Engine(engine.compiled, {**SETTINGS, "booking_url": "https://clinic.example.org/b"})
    _, out = chat(real, PIRIFORMIS)
    assert "→ Book a massage: https://clinic.example.org/b\n" in out
    assert "demo link" not in out


def test_the_spanish_chat_speaks_spanish_throughout(engine: Engine) -> None:
    _, out = chat(engine, ["ayuda", "9", "1", "2", "4", "10", "listo", "quit"], language="es")
    for english in ("Type", "Please", "Goodbye", "The end", "Commands", "flow '"):
        assert english not in out, english
    assert "(flujo 'sciatica', versión" in out
    assert "Escribe el número de una respuesta; 'ayuda' muestra las órdenes." in out
    assert "Órdenes: atrás, reiniciar, ayuda, salir." in out  # the help, in Spanish
    assert "Por favor, escribe un número del 1 al 6." in out
    assert "(Escribe un número del 0 al 10.)" in out
    assert "¿Cuántos años tienes?" in out  # "listo" was Done: the next question is asked
    assert "(Escribe un número del 1 al 120.)" in out
    assert out.rstrip().endswith("Adiós.")


def test_spanish_command_words_work(engine: Engine) -> None:
    _, out = chat(engine, ["1", "atrás", "reiniciar", "empezar", "salir", "1"], language="es")
    assert out.count("¿Dónde te duele más?") == 4  # start, back, restart, start again
    assert out.count("¿Hasta dónde bajan") == 1  # nothing after 'salir'
    _, out = chat(engine, [*PIRIFORMIS[:-1], "listo"], language="es")
    assert "(Fin. Escribe 'reiniciar' para empezar de nuevo o 'salir'.)" in out
    assert "(enlace de ejemplo: define BOOKING_URL)" in out


def test_back_undoes_the_last_answer_and_restart_begins_again(engine: Engine) -> None:
    _, out = chat(engine, ["1", "back", "4", "restart", "quit"])
    asked = out.count("How far down does the pain")
    assert asked == 2  # asked, then asked again after "4" re-answered location via back
    assert out.count("Where is the pain worst?") == 3  # start, back, restart
    assert out.count("Hello, and thank you") == 2


def test_wrong_input_gets_a_kind_hint_and_the_same_question(engine: Engine) -> None:
    _, out = chat(engine, ["9", "banana", "1", "2", "eleven", "11"])
    assert "Please type a number from 1 to 6." in out
    assert "(Please choose one of the options below.)" in out
    assert out.count("(Please send a whole number from 0 to 10.)") == 2


def test_typed_warning_words_show_the_emergency_advice(engine: Engine) -> None:
    _, out = chat(engine, ["1", "I can't pee properly"])
    assert "Please get medical help now." in out
    assert "call 999" in out
    assert "Book" not in out


def test_after_the_outcome_typing_is_answered_and_restart_works(engine: Engine) -> None:
    _, out = chat(engine, [*PIRIFORMIS, "hello", "/restart"])
    assert "(We have finished this check." in out
    assert out.count("Where is the pain worst?") == 2


def test_bold_is_ansi_on_a_terminal_and_plain_otherwise(engine: Engine) -> None:
    _, plain = chat(engine, ["quit"])
    _, styled = chat(engine, ["quit"], color=True)
    assert "\033[" not in plain and "**" not in plain
    assert "\033[1mWhere is the pain worst?\033[0m" in styled


def test_chat_settings_come_from_the_environment_or_demo_values(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text("EMERGENCY_NUMBER=112\n", encoding="utf-8")
    settings = chat_settings({"URGENT_ADVICE": "call the doctor"}, str(env_file))
    assert settings.note is None
    assert settings.texts["emergency_number"] == "112"
    assert settings.texts["urgent_advice"] == "call the doctor"
    assert settings.texts["booking_url"] == "https://example.com/book"  # demo link if none set
    assert settings.flow_file == Path("flows/sciatica.yaml")
    settings = chat_settings({"LOG_LEVEL": "LOUD", "FLOW_FILE": "other.yaml"}, None)
    assert settings.note is not None and "LOG_LEVEL" in settings.note
    assert settings.texts["emergency_number"]  # still usable


def test_triage_bot_chat_reads_piped_input_and_ends_at_eof(tmp_path: Path) -> None:
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("BOOKING", "EMERGENCY"))}
    done = subprocess.run(
        [sys.executable, "-m", "bot", "chat", str(FLOW)],
        input="\n".join(["4", "5", "6", "1", "d"]) + "\n",
        capture_output=True,
        text=True,
        cwd=tmp_path,  # no .env here
        env={**environ, "EMERGENCY_NUMBER": "112"},
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert "Please get medical help now." in done.stdout
    assert "call 112" in done.stdout
    assert "\033[" not in done.stdout  # not a terminal: no ANSI codes
    assert done.stdout.rstrip().endswith("Goodbye.")
