"""The one text lookup (bot.text) and the one markup (bot.markup) every screen shares."""

from __future__ import annotations

from bot import markup
from bot.engine import Engine
from bot.flow import load_compiled
from bot.simulator import language_missing, say_in
from bot.telegram.texts import checkin_button, say
from bot.text import Catalogue, fill, language_name, own_name, pick_language
from tests.test_render import FLOW

TEXTS = Catalogue({"hi": {"en": "Hello {name}", "es": "Hola {name}", "pt-br": "Olá {name}"}})


def test_a_language_code_means_the_same_everywhere() -> None:
    for code in ("es", "es-MX", "ES_mx", " es-419 "):
        assert pick_language(code, ("en", "es")) == "es", code
    assert pick_language("pt-BR", ("pt-br", "pt")) == "pt-br"
    assert pick_language("de", ("en", "es")) is None
    assert pick_language(None, ("en",)) is None and pick_language("", ("en",)) is None
    engine = Engine(load_compiled(FLOW), {})
    flow = engine.flow
    for code in ("es-MX", "ES_es", "de"):  # the engine, the transport and the terminal agree
        picked = engine.pick_language(code)
        assert say("language_start", code) == say("language_start", picked), code
        assert language_missing(flow, code) == (pick_language(code, flow.languages) is None)


def test_the_lookup_falls_back_and_fills_plain_names_only() -> None:
    assert TEXTS.say("hi", "es-AR", name="Ana") == "Hola Ana"
    assert TEXTS.say("hi", "pt-BR", name="Ana") == "Olá Ana"
    assert TEXTS.say("hi", "fr", name="Ana") == "Hello Ana"
    assert TEXTS.say("hi", None, name="{name}") == "Hello {name}"  # filled once, not again
    assert fill("{a.__class__} {b} {c}", {"b": "B"}) == "{a.__class__} B {c}"
    written = Catalogue.by_language({"en": {"x": "X", "y": "Y"}, "es": {"x": "EquiS"}})
    assert (written.say("x", "es"), written.say("y", "es")) == ("EquiS", "Y")
    assert say_in("goodbye", "es-ES") == "Adiós."
    assert checkin_button(1, "es-MX") == "Pregúntame mañana"


def test_one_table_names_each_language_in_english_and_in_its_own_words() -> None:
    assert (language_name("es"), own_name("es")) == ("Spanish", "Español")
    assert (language_name("xx"), own_name("xx")) == ("xx", "xx")


def test_bold_is_one_pattern_shown_four_ways() -> None:
    text = "**Tom & Jerry** <3, **twice**"
    assert markup.to_html(text) == "<b>Tom &amp; Jerry</b> &lt;3, <b>twice</b>"
    assert markup.to_html("**x**", tag="strong") == "<strong>x</strong>"
    assert markup.to_ansi("**x** y") == "\033[1mx\033[0m y"
    assert markup.to_ansi("**x** y", color=False) == markup.plain("**x** y") == "x y"
    assert markup.headline("Intro\n\n**What now?**\nmore") == "What now?"
    assert markup.headline("  First line\nsecond") == "First line"
    assert markup.to_html("a ** b") == "a ** b"  # a lone pair of stars stays as typed
