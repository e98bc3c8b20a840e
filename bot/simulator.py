"""The conversation in a terminal, on the same engine as the Telegram bot: no token, no network.

Choices are numbered: type the number of an answer. In a tick-several question each number
ticks or unticks an option (several at once: ``1 3``) and ``d`` means Done. Numbers such as
a pain score or an age are typed as they are. ``back`` (or ``/back``) undoes the last
answer, ``restart`` starts again, ``quit`` ends; anything else is passed to the engine as
typed text, so the free-text safety net works here too. Reads any line source (a terminal,
a pipe, a test's list of lines) and ends cleanly when it runs out.

The tool's own lines follow the conversation's language (English or Spanish), and the Spanish
command words (``atrás``, ``reiniciar``, ``salir``, ``ayuda``, ``listo``) work in any language.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from bot import markup
from bot.config import DEFAULT_FLOW_FILE, ConfigError, Settings, load_settings
from bot.engine import (
    Action,
    Back,
    Choose,
    Done,
    Engine,
    Input,
    Repeat,
    Reply,
    ReplyKind,
    Restart,
    Result,
    Session,
    Text,
    Toggle,
)
from bot.flow.model import Flow, StepKind
from bot.text import Catalogue, language_name, pick_language

DEMO_BOOKING_URL = "https://example.com/book"
# Both languages' words work whatever the conversation's language: a Spanish speaker reading
# English questions still types "salir", and the other way round.
QUIT = {"quit", "/quit", "exit", "/exit", "q", "salir", "/salir", "adios", "adiós"}
BACK = {"back", "/back", "b", "atrás", "atras", "/atras", "volver"}
RESTART = {"restart", "/restart", "/start", "reiniciar", "/reiniciar", "empezar"}
HELP = {"help", "/help", "?", "ayuda", "/ayuda"}
DONE = {"d", "done", "listo"}

# The terminal's own lines (the flow's texts and the engine's notices come from the engine).
TEXTS: Mapping[str, Mapping[str, str]] = {
    "heading": {
        "en": "{title} (flow '{flow}', version {version})",
        "es": "{title} (flujo '{flow}', versión {version})",
    },
    "intro": {
        "en": "Type the number of an answer; 'help' shows the commands.",
        "es": "Escribe el número de una respuesta; 'ayuda' muestra las órdenes.",
    },
    "help": {
        "en": "Type the number of an answer. In a question where you can tick several, each "
        "number ticks or unticks one (e.g. '1 3'), then 'd' for Done. Type numbers such as a "
        "pain score or an age as they are. Commands: back, restart, help, quit.",
        "es": "Escribe el número de una respuesta. En una pregunta donde puedes marcar varias, "
        "cada número marca o desmarca una (p. ej. '1 3'); después 'listo' (o 'd'). Escribe los "
        "números, como la intensidad del dolor o la edad, tal cual. Órdenes: atrás, reiniciar, "
        "ayuda, salir.",
    },
    "number_range": {
        "en": "(Type a number from {min} to {max}.)",
        "es": "(Escribe un número del {min} al {max}.)",
    },
    "number": {"en": "(Type a number.)", "es": "(Escribe un número.)"},
    "pick_range": {
        "en": "Please type a number from 1 to {count}.",
        "es": "Por favor, escribe un número del 1 al {count}.",
    },
    "just_one": {"en": "Please type just one number.", "es": "Por favor, escribe un solo número."},
    "the_end": {
        "en": "(The end. Type 'restart' to go again or 'quit'.)",
        "es": "(Fin. Escribe 'reiniciar' para empezar de nuevo o 'salir'.)",
    },
    "demo_link": {
        "en": "(demo link: set BOOKING_URL)",
        "es": "(enlace de ejemplo: define BOOKING_URL)",
    },
    "goodbye": {"en": "Goodbye.", "es": "Adiós."},
}

TERMINAL = Catalogue(TEXTS)

# Kept for callers that show the help outside a chat (English).
HELP_TEXT = TEXTS["help"]["en"]

_NUMBERS = re.compile(r"^\d+(?:[\s,]+\d+)*$")


def say_in(key: str, language: str, **values: object) -> str:
    """One of the terminal's own lines in ``language`` (English when it has no translation)."""
    return TERMINAL.say(key, language, **values)


def styled(text: str, *, color: bool) -> str:
    """``**bold**`` as ANSI bold on a terminal, without the stars otherwise."""
    return markup.to_ansi(text, color=color)


def language_missing(flow: Flow, language: str | None) -> bool:
    """Was a language asked for that the flow does not have (``es-MX`` counts as ``es``)?"""
    return bool(language) and pick_language(language, flow.languages) is None


def language_note(flow: Flow, language: str | None) -> str | None:
    """What to say when ``language`` is not one of the flow's (None when it is, or not given)."""
    if not language_missing(flow, language):
        return None
    fallback = flow.default_language
    return (
        f"This flow has no '{language}'; using {language_name(fallback)} ({fallback}). "
        f"Languages: {', '.join(flow.languages)}."
    )


@dataclass(frozen=True, slots=True)
class ChatSettings:
    texts: dict[str, str]  # what the engine fills in: {emergency_number}, {booking_url} ...
    flow_file: Path
    note: str | None = None  # why the settings could not be used, if they could not


def chat_settings(
    environ: Mapping[str, str] | None = None, env_file: str | None = ".env"
) -> ChatSettings:
    """The bot's own settings (bot.config), so the terminal says what the bot would say, with
    a demo booking link when none is set; demo values when the settings cannot be read."""
    # The defaults of every text setting (emergency number, urgent advice, the doctor's name).
    demo = {**Settings(telegram_bot_token="").texts(), "booking_url": DEMO_BOOKING_URL}
    try:
        settings = load_settings(environ, env_file, require_token=False)
    except ConfigError as error:
        note = f"Your settings were not used ({error}) Demo values instead."
        return ChatSettings(demo, Path(DEFAULT_FLOW_FILE), note)
    return ChatSettings({**demo, **settings.texts()}, settings.flow_file)


class TerminalChat:
    """One conversation at a time, printed to ``out``."""

    def __init__(
        self,
        engine: Engine,
        out: TextIO,
        *,
        color: bool = False,
        echo: bool = False,
        language: str | None = None,
    ) -> None:
        self.engine = engine
        self.out = out
        self.color = color
        self.echo = echo  # show what was typed (piped input is not echoed by a terminal)
        self.language = language
        self.session: Session | None = None

    # -- the loop -------------------------------------------------------------------------------

    @property
    def spoken(self) -> str:
        """The conversation's language, which the terminal's own lines follow."""
        if self.session is not None:
            return self.session.language
        return self.engine.pick_language(self.language)

    def text(self, key: str, **values: object) -> str:
        return say_in(key, self.spoken, **values)

    def run(self, lines: Iterable[str]) -> int:
        flow = self.engine.flow
        title = flow.title.get(self.spoken, flow.default_language)
        heading = self.text("heading", title=self.bold(title), flow=flow.id, version=flow.version)
        self.say(heading)
        self.say(self.dim(self.text("intro")))
        self.show(self.engine.start(language=self.language, source="terminal"))
        for line in _prompted(lines, self.out):
            typed = line.strip()
            if self.echo:
                self.say(typed)
            word = typed.lower()
            if word in QUIT:
                break
            if word in HELP:
                self.say(self.text("help"))
                continue
            self.answer(self.inputs(typed))
        else:
            self.out.write("\n")  # end of input: finish the prompt line
        self.say(self.dim(self.text("goodbye")))
        return 0

    def answer(self, messages: list[Input]) -> None:
        """Hand the inputs to the engine; several ticks typed at once redraw the list once."""
        results = []
        for message in messages:
            result = self.engine.handle(self.session, message)
            self.session = result.session
            results.append(result)
        for index, result in enumerate(results):
            later = results[index + 1] if index + 1 < len(results) else None
            if result.refresh and later is not None and later.refresh:
                continue  # the next redraw shows this tick too
            self.show(result)

    def inputs(self, typed: str) -> list[Input]:
        """What a typed line means at the current step."""
        word = typed.lower()
        if word in BACK:
            return [Back()]
        if word in RESTART:
            return [Restart()]
        if not typed:
            return [Repeat()]
        assert self.session is not None
        step = self.engine.flow.steps[self.session.step]
        if step.kind is StepKind.MULTI and word in DONE:
            return [Done(step.id)]
        if step.kind in (StepKind.CHOICE, StepKind.MULTI) and _NUMBERS.match(typed):
            picked = [int(n) for n in re.split(r"[\s,]+", typed)]
            if not all(1 <= n <= len(step.options) for n in picked):
                self.say(self.text("pick_range", count=len(step.options)))
                return []
            options = [step.options[n - 1].id for n in picked]
            if step.kind is StepKind.MULTI:
                return [Toggle(step.id, option) for option in options]
            if len(options) > 1:
                self.say(self.text("just_one"))
                return []
            return [Choose(step.id, options[0])]
        # Typed text: a number for a number question, a label, or words for the safety net.
        return [Text(typed)]

    # -- showing replies ----------------------------------------------------------------------

    def show(self, result: Result) -> None:
        self.session = result.session
        if result.refresh:
            # A tick: only the ticks changed, so show just the options again.
            self.say(self.options(result.replies[-1]))
            return
        for reply in result.replies:
            self.say(self.render(reply))

    def render(self, reply: Reply) -> str:
        if reply.kind is ReplyKind.NOTICE:
            return self.dim(f"({reply.text.replace('**', '')})")
        text = self.styled(reply.text)
        if reply.kind is ReplyKind.QUESTION:
            return f"\n{text}\n{self.options(reply)}"
        if reply.kind is ReplyKind.OUTCOME:
            parts = [f"\n{text}"]
            if reply.link is not None:
                demo = f" {self.dim(self.text('demo_link'))}" if is_demo(reply.link.url) else ""
                parts.append(f"\n→ {self.bold(reply.link.label)}: {reply.link.url}{demo}")
            parts.append("\n" + self.dim(self.text("the_end")))
            return "\n".join(parts)
        return f"\n{text}"

    def options(self, reply: Reply) -> str:
        assert self.session is not None
        step = self.engine.flow.steps[reply.step or self.session.step]
        if step.kind is StepKind.NUMBER:
            low, high = step.minimum, step.maximum
            if low is not None and high is not None:
                return self.dim(self.text("number_range", min=low, max=high))
            return self.dim(self.text("number"))
        lines = []
        choices = [b for b in reply.buttons if b.action is not Action.DONE]
        for number, button in enumerate(choices, start=1):
            tick = ("[x] " if button.selected else "[ ] ") if step.kind is StepKind.MULTI else ""
            lines.append(f"  {number}) {tick}{button.label}")
        for button in reply.buttons:
            if button.action is Action.DONE:
                lines.append(f"  d) {button.label}")
        return "\n".join(lines)

    # -- text styles --------------------------------------------------------------------------

    def say(self, text: str) -> None:
        self.out.write(text + "\n")
        self.out.flush()

    def styled(self, text: str) -> str:
        return styled(text, color=self.color)

    def bold(self, text: str) -> str:
        return f"\033[1m{text}\033[0m" if self.color else text

    def dim(self, text: str) -> str:
        return f"\033[2m{text}\033[0m" if self.color else text


def is_demo(url: str) -> bool:
    """The stand-in booking link used when BOOKING_URL is not set."""
    return url == DEMO_BOOKING_URL


def _prompted(lines: Iterable[str], out: TextIO) -> Iterator[str]:
    """Each line, after writing a prompt."""
    iterator = iter(lines)
    while True:
        out.write("> ")
        out.flush()
        try:
            line = next(iterator)
        except StopIteration:
            return
        yield line


def _stdin_lines() -> Iterator[str]:
    while True:
        try:
            line = input()
        except EOFError:
            return
        yield line


def wants_color(stream: TextIO) -> bool:
    return stream.isatty() and "NO_COLOR" not in os.environ


def run_terminal_chat(engine: Engine, *, language: str | None = None) -> int:
    """``triage-bot chat``: stdin to stdout, ANSI bold only on a real terminal."""
    interactive = sys.stdin.isatty()
    chat = TerminalChat(
        engine,
        sys.stdout,
        color=wants_color(sys.stdout),
        echo=not interactive,
        language=language,
    )
    try:
        return chat.run(_stdin_lines() if interactive else sys.stdin)
    except KeyboardInterrupt:
        sys.stdout.write("\n")
        return 130
