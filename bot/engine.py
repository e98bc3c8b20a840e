"""The conversation runtime: (compiled flow, session, input) -> (new session, replies).

Pure and transport-free: no Telegram, no SQLite, no clock, no files. The terminal chat, the
therapist's ``flows try``, the tests and the Telegram bot all drive this same engine.

A :class:`Session` is plain data that serialises to JSON. Inputs are small frozen dataclasses
(:class:`Choose`, :class:`Toggle`, :class:`Done`, :class:`Number`, :class:`Text`, :class:`Back`,
:class:`Restart`, :class:`Start`, :class:`Repeat`). Wrong input never changes the session: the
result carries a kind notice and the current question again.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any

from bot.flow.compiler import CompiledFlow
from bot.flow.model import Flow, LocalText, Step, StepKind

# --- sessions --------------------------------------------------------------------------------


class SessionError(ValueError):
    """Stored session data that cannot be read back."""


@dataclass(slots=True)
class Session:
    flow_id: str
    flow_version: str
    step: str
    language: str
    answers: dict[str, Any] = field(default_factory=dict)
    history: list[str] = field(default_factory=list)  # questions answered, in the order asked
    draft: list[str] = field(default_factory=list)  # ticks of the multi-select on screen
    source: str | None = None
    outcome: str | None = None
    reasons: list[str] = field(default_factory=list)

    @property
    def finished(self) -> bool:
        return self.outcome is not None

    def copy(self) -> Session:
        return replace(
            self,
            answers={k: list(v) if isinstance(v, list) else v for k, v in self.answers.items()},
            history=list(self.history),
            draft=list(self.draft),
            reasons=list(self.reasons),
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "flow": self.flow_id,
            "version": self.flow_version,
            "step": self.step,
            "lang": self.language,
            "answers": self.answers,
            "history": self.history,
            "draft": self.draft,
            "source": self.source,
            "outcome": self.outcome,
            "reasons": self.reasons,
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, separators=(",", ":"))

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Session:
        try:
            session = cls(
                flow_id=str(data["flow"]),
                flow_version=str(data["version"]),
                step=str(data["step"]),
                language=str(data["lang"]),
                answers=dict(data.get("answers") or {}),
                history=[str(s) for s in data.get("history") or []],
                draft=[str(s) for s in data.get("draft") or []],
                source=data.get("source"),
                outcome=data.get("outcome"),
                reasons=[str(r) for r in data.get("reasons") or []],
            )
        except (KeyError, TypeError, ValueError) as error:
            raise SessionError(f"unreadable session: {error}") from error
        return session

    @classmethod
    def from_json(cls, text: str | bytes) -> Session:
        try:
            data = json.loads(text)
        except ValueError as error:
            raise SessionError(f"unreadable session: {error}") from error
        if not isinstance(data, dict):
            raise SessionError("unreadable session: not an object")
        return cls.from_dict(data)


# --- inputs ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Start:
    """Begin (or begin again) from the flow's first step."""

    language: str | None = None
    source: str | None = None


@dataclass(frozen=True, slots=True)
class Choose:
    step: str
    option: str


@dataclass(frozen=True, slots=True)
class Toggle:
    step: str
    option: str


@dataclass(frozen=True, slots=True)
class Done:
    step: str


@dataclass(frozen=True, slots=True)
class Number:
    step: str
    value: int


@dataclass(frozen=True, slots=True)
class Text:
    text: str


@dataclass(frozen=True, slots=True)
class Back:
    pass


@dataclass(frozen=True, slots=True)
class Restart:
    pass


@dataclass(frozen=True, slots=True)
class Repeat:
    """Show where we are again (after a sticker, a photo, an unknown command ...)."""

    notice: str | None = None  # a ui text id, e.g. "unsupported"


Input = Start | Choose | Toggle | Done | Number | Text | Back | Restart | Repeat


# --- replies ---------------------------------------------------------------------------------


class ReplyKind(StrEnum):
    MESSAGE = "message"
    QUESTION = "question"
    OUTCOME = "outcome"
    NOTICE = "notice"


class Action(StrEnum):
    """What a button does. The one-letter values go into Telegram's callback data."""

    CHOOSE = "c"
    TOGGLE = "t"
    DONE = "d"
    NUMBER = "n"


@dataclass(frozen=True, slots=True)
class Button:
    action: Action
    step: str
    value: str
    label: str
    selected: bool = False


@dataclass(frozen=True, slots=True)
class Link:
    label: str
    url: str


@dataclass(frozen=True, slots=True)
class Reply:
    kind: ReplyKind
    text: str  # plain text; **double stars** mark bold
    step: str | None = None
    buttons: tuple[Button, ...] = ()
    columns: int = 1
    link: Link | None = None
    outcome: str | None = None
    reasons: tuple[str, ...] = ()
    urgent: bool = False


@dataclass(frozen=True, slots=True)
class Answered:
    """The question just answered, in words, so a transport can echo it under the question."""

    step: str
    question: str
    answer: str


@dataclass(frozen=True, slots=True)
class Result:
    session: Session
    replies: tuple[Reply, ...]
    accepted: bool  # the input moved the conversation (or ticked a box)
    answered: Answered | None = None
    refresh: bool = False  # a multi-select tick: redraw the question in place


# --- texts the engine itself says ------------------------------------------------------------

UI_DEFAULTS: Mapping[str, Mapping[str, str]] = {
    "tap_button": {
        "en": "Please choose one of the options below.",
        "es": "Por favor, elige una de las opciones de abajo.",
    },
    "tick_then_done": {
        "en": "Please tick what applies below, then press “{done}”.",
        "es": "Marca lo que corresponda abajo y después pulsa «{done}».",
    },
    "tick_at_least_one": {
        "en": "Please tick at least one option (or “{none}”), then press “{done}”.",
        "es": "Marca al menos una opción (o «{none}») y después pulsa «{done}».",
    },
    "number_range": {
        "en": "Please send a whole number from {min} to {max}.",
        "es": "Por favor, envía un número entero del {min} al {max}.",
    },
    "moved_on": {
        "en": "That question has moved on. Here is where we are now:",
        "es": "Esa pregunta ya quedó atrás. Estamos aquí:",
    },
    "finished": {
        "en": "We have finished this check. Send /restart to go through it again.",
        "es": "Hemos terminado esta consulta. Envía /restart para empezar de nuevo.",
    },
    "nothing_to_undo": {
        "en": "There is nothing to go back to yet.",
        "es": "Todavía no hay nada a lo que volver.",
    },
    "flow_changed": {
        "en": "We have updated our questions since we last spoke, so let's start again "
        "from the beginning.",
        "es": "Hemos actualizado nuestras preguntas desde la última vez, así que "
        "empecemos de nuevo.",
    },
    "unsupported": {
        "en": "I can only read text and button presses here.",
        "es": "Aquí solo puedo leer texto y botones.",
    },
    "too_long": {
        "en": "That message is longer than I can use here.",
        "es": "Ese mensaje es más largo de lo que puedo usar aquí.",
    },
    "reasons_header": {
        "en": "**Why we suggest this:**",
        "es": "**Por qué te lo sugerimos:**",
    },
    "safety_net_reason": {
        "en": "what you wrote may be a warning sign that needs urgent care",
        "es": "lo que escribiste puede ser una señal de alarma que necesita atención urgente",
    },
    "book_button": {"en": "Book an appointment", "es": "Reservar una cita"},
    "done_button": {"en": "Done ✔", "es": "Listo ✔"},
}

_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
# A typed number: "7", " 7/10 ", "-3.", "7 !". Every run of spaces is possessive (``*+``) and
# followed by something that is not a space, so nothing is ever re-read: linear in the length.
# Written with plain ``\s*`` the runs could split in every way, cubic: "1", 998 spaces and "x"
# cost over a second of CPU on the event loop that serves everyone.
_DIGITS = re.compile(r"\s*+(-?\d{1,4})\s*+(?:/\s*+10\s*+)?(?:[.!]\s*+)?\Z")
_WORDS = re.compile(r"[^\w']+")
MAX_NUMBER_BUTTONS = 12


def normalise_phrase(text: str) -> str:
    """Lower case, no accents, plain apostrophes, punctuation to spaces, single spaces.

    Accents are dropped because people in pain type fast on phones: "perdida" must match
    "pérdida" in the safety net.
    """
    text = unicodedata.normalize("NFKD", text.casefold())
    text = "".join(c for c in text if not unicodedata.combining(c))
    text = unicodedata.normalize("NFKC", text)
    text = text.replace("’", "'").replace("‘", "'").replace("`", "'")
    return " ".join(_WORDS.sub(" ", text).split())


def _phrase_pattern(phrases: Iterable[str]) -> re.Pattern[str] | None:
    """One pattern for the safety net: each phrase's words in order, whole words, with at most
    one other word between two of them ("no siento nada al limpiarme" is "no siento al
    limpiarme"). Over-matching is the intended error here: it shows emergency advice."""
    alternatives = sorted(
        {r"(?: \S+)? ".join(re.escape(word) for word in phrase.split()) for phrase in phrases}
    )
    alternatives = [a for a in alternatives if a]
    if not alternatives:
        return None
    return re.compile(r"(?:^| )(?:" + "|".join(alternatives) + r")(?= |$)")


def fill(template: str, values: Mapping[str, str]) -> str:
    """Replace ``{name}`` by ``values[name]``; unknown names stay as written.

    Only plain names are supported: no attribute access, no indexing, no format specs, so a
    flow text can never reach into Python objects the way ``str.format`` could.
    """
    if "{" not in template:
        return template
    return _PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), template)


class _TextValues(Mapping[str, str]):
    """The values a text may name: settings, and answers in words, worked out only when a
    text actually uses them (most texts use none, and a long flow has many answers)."""

    __slots__ = ("_engine", "_session")

    def __init__(self, engine: Engine, session: Session) -> None:
        self._engine = engine
        self._session = session

    def __getitem__(self, key: str) -> str:
        if key in self._session.answers:
            return self._engine.answer_words(self._session, key)
        settings = self._engine.settings
        # "urgent_advice:es" is the Spanish wording of the setting, where the practice gave one.
        return settings.get(f"{key}:{self._session.language}") or settings[key]

    def get(self, key: str, default: Any = None) -> Any:
        try:
            return self[key]
        except KeyError:
            return default

    def __iter__(self) -> Iterator[str]:
        yield from self._engine.settings
        yield from (k for k in self._session.answers if k not in self._engine.settings)

    def __len__(self) -> int:
        return sum(1 for _ in self)


# --- the engine ------------------------------------------------------------------------------


class Engine:
    """Runs conversations on one compiled flow. Cheap to call; holds no per-person state."""

    def __init__(self, compiled: CompiledFlow, settings: Mapping[str, str] | None = None) -> None:
        self.compiled = compiled
        self.flow: Flow = compiled.flow
        self.settings: dict[str, str] = {k: str(v) for k, v in (settings or {}).items()}
        phrases = [
            phrase
            for phrases in (self.flow.safety_net.phrases.values() if self.flow.safety_net else ())
            for phrase in phrases
        ]
        self._safety_phrases = _phrase_pattern(phrases)
        # Most messages ("42", "yes") share no word with the start of any phrase: one set test.
        self._first_words = frozenset(phrase.split()[0] for phrase in phrases if phrase.split())

    # -- public API ---------------------------------------------------------------------------

    def start(self, *, language: str | None = None, source: str | None = None) -> Result:
        session = Session(
            flow_id=self.flow.id,
            flow_version=self.flow.version,
            step=self.flow.start,
            language=self.pick_language(language),
            source=source,
        )
        replies = self._enter(session, self.flow.start)
        if self.flow.safety_line is not None and replies and not replies[0].urgent:
            first = replies[0]
            safety = self._say(self.flow.safety_line, session)
            replies[0] = replace(first, text=f"{first.text}\n\n{safety}")
        return Result(session, tuple(replies), accepted=True)

    def handle(self, session: Session | None, message: Input) -> Result:
        if isinstance(message, Start):
            language = message.language or (session.language if session else None)
            return self.start(language=language, source=message.source)
        if session is None:
            return self.start()
        if not self.is_current(session):
            fresh = self.start(language=session.language, source=session.source)
            notice = self._notice("flow_changed", fresh.session)
            return replace(fresh, replies=(notice, *fresh.replies))
        if isinstance(message, Restart):
            return self.start(language=session.language, source=session.source)
        if isinstance(message, Back):
            return self._back(session)
        if isinstance(message, Repeat):
            notices = (self._notice(message.notice, session),) if message.notice else ()
            return self._stay(session, *notices)
        if isinstance(message, Text):
            return self._text(session, message.text)
        step = self.flow.steps[session.step]
        if session.finished or message.step != session.step:
            return self._stay(session, self._notice("moved_on", session))
        if isinstance(message, Choose):
            return self._choose(session, step, message.option)
        if isinstance(message, Toggle):
            return self._toggle(session, step, message.option)
        if isinstance(message, Done):
            return self._done(session, step)
        return self._number(session, step, message.value)

    def current(self, session: Session) -> tuple[Reply, ...]:
        """What the person should see now: the open question, or the outcome."""
        step = self.flow.steps[session.step]
        if step.is_outcome:
            return (self._outcome_reply(session, step),)
        return (self._question(session, step),)

    def is_current(self, session: Session) -> bool:
        """Can this stored session carry on with the flow as it is now?"""
        return session.flow_id == self.flow.id and session.step in self.flow.steps

    def pick_language(self, language: str | None) -> str:
        if language:
            code = language.lower().replace("_", "-")
            for candidate in (code, code.split("-")[0]):
                if candidate in self.flow.languages:
                    return candidate
        return self.flow.default_language

    def ui(self, key: str, language: str, **values: str) -> str:
        text = self.flow.ui.get(key)
        if text is not None:
            template = text.get(language, self.flow.default_language)
        else:
            defaults = UI_DEFAULTS[key]
            template = defaults.get(language) or defaults["en"]
        return fill(template, values)

    def answer_words(self, session: Session, key: str) -> str:
        """An answer in the person's language: option labels rather than ids."""
        value = session.answers.get(key)
        step = self.flow.steps.get(key)
        if value is None or step is None:
            return ""
        if isinstance(value, list):
            labels = [self._option_label(step, v, session.language) for v in value]
            return ", ".join(labels)
        if step.kind is StepKind.CHOICE:
            return self._option_label(step, str(value), session.language)
        return str(value)

    # -- inputs -------------------------------------------------------------------------------

    def _text(self, session: Session, text: str) -> Result:
        if self._safety_phrases is not None and self._is_alarming(text):
            return self._safety_net(session)
        step = self.flow.steps[session.step]
        if session.finished:
            return self._stay(session, self._notice("finished", session), show=False)
        if len(text) > 1000:
            return self._stay(session, self._notice("too_long", session))
        if step.kind is StepKind.NUMBER:
            match = _DIGITS.match(text)
            if match is None:
                return self._stay(session, self._range_notice(session, step))
            return self._number(session, step, int(match.group(1)))
        typed = self._typed_option(session, step, text)
        if step.kind is StepKind.CHOICE:
            if typed is not None:
                return self._choose(session, step, typed)
            return self._stay(session, self._notice("tap_button", session))
        if typed is not None:
            return self._toggle(session, step, typed)
        if normalise_phrase(text) == normalise_phrase(self.ui("done_button", session.language)):
            return self._done(session, step)
        return self._stay(session, self._tick_notice(session, step, "tick_then_done"))

    def _typed_option(self, session: Session, step: Step, text: str) -> str | None:
        """The option whose label (or id) the person typed instead of pressing its button."""
        wanted = normalise_phrase(text)
        for option in step.options:
            label = normalise_phrase(option.label.get(session.language, self._fallback))
            if wanted in (label, normalise_phrase(option.id)):
                return option.id
        return None

    def _is_alarming(self, text: str) -> bool:
        said = normalise_phrase(text[:2000])
        if self._safety_phrases is None or self._first_words.isdisjoint(said.split()):
            return False
        return self._safety_phrases.search(said) is not None

    def _choose(self, session: Session, step: Step, option_id: str) -> Result:
        option = step.option(option_id) if step.kind is StepKind.CHOICE else None
        if option is None:
            return self._stay(session, self._notice("moved_on", session))
        new = session.copy()
        new.answers[step.id] = option.id
        label = option.label.get(session.language, self._fallback)
        return self._answered(new, step, label)

    def _toggle(self, session: Session, step: Step, option_id: str) -> Result:
        option = step.option(option_id) if step.kind is StepKind.MULTI else None
        if option is None:
            return self._stay(session, self._notice("moved_on", session))
        new = session.copy()
        ticked = set(new.draft)
        if option.id in ticked:
            ticked.discard(option.id)
        elif option.exclusive:
            ticked = {option.id}
        else:
            exclusive = {o.id for o in step.options if o.exclusive}
            ticked = (ticked - exclusive) | {option.id}
        new.draft = [o.id for o in step.options if o.id in ticked]
        return Result(new, (self._question(new, step),), accepted=True, refresh=True)

    def _done(self, session: Session, step: Step) -> Result:
        if step.kind is not StepKind.MULTI:
            return self._stay(session, self._notice("moved_on", session))
        if not session.draft:
            return self._stay(session, self._tick_notice(session, step, "tick_at_least_one"))
        new = session.copy()
        new.answers[step.id] = list(new.draft)
        new.draft = []
        labels = ", ".join(self._option_label(step, o, session.language) for o in session.draft)
        return self._answered(new, step, labels)

    def _number(self, session: Session, step: Step, value: int) -> Result:
        if step.kind is not StepKind.NUMBER:
            return self._stay(session, self._notice("moved_on", session))
        low, high = step.minimum, step.maximum
        if (low is not None and value < low) or (high is not None and value > high):
            return self._stay(session, self._range_notice(session, step))
        new = session.copy()
        new.answers[step.id] = value
        return self._answered(new, step, str(value))

    def _back(self, session: Session) -> Result:
        if not session.history:
            return self._stay(session, self._notice("nothing_to_undo", session))
        new = session.copy()
        previous = new.history.pop()
        undone = new.answers.pop(previous, None)
        new.step = previous
        new.outcome = None
        new.reasons = []
        new.draft = list(undone) if isinstance(undone, list) else []
        return Result(new, self.current(new), accepted=True)

    def _safety_net(self, session: Session) -> Result:
        assert self.flow.safety_net is not None
        new = session.copy()
        if not session.finished:
            new.history.append(session.step)
        new.draft = []
        target = self.flow.steps[self.flow.safety_net.target]
        new.step = target.id
        new.outcome = target.id
        new.reasons = ["safety_net"]
        return Result(new, (self._outcome_reply(new, target),), accepted=True)

    # -- moving on ----------------------------------------------------------------------------

    def _answered(self, session: Session, step: Step, answer: str) -> Result:
        session.history.append(step.id)
        answered = Answered(step.id, self._say(step.text, session), answer)
        target = self.compiled.route(step.id, session.answers)
        replies = self._enter(session, target)
        return Result(session, tuple(replies), accepted=True, answered=answered)

    def _enter(self, session: Session, step_id: str) -> list[Reply]:
        """Move ``session`` to ``step_id``, passing through message steps."""
        replies: list[Reply] = []
        for _ in range(len(self.flow.steps) + 1):
            step = self.flow.steps[step_id]
            session.step = step.id
            session.draft = []
            if step.kind is StepKind.MESSAGE:
                replies.append(Reply(ReplyKind.MESSAGE, self._say(step.text, session), step.id))
                step_id = self.compiled.route(step.id, session.answers)
                continue
            if step.is_outcome:
                session.outcome = step.id
                session.reasons = self._reasons(session, step)
                replies.append(self._outcome_reply(session, step))
            else:
                session.outcome = None
                session.reasons = []
                replies.append(self._question(session, step))
            return replies
        raise RuntimeError(f"message steps loop forever from {step_id!r}")

    def _reasons(self, session: Session, step: Step) -> list[str]:
        found: list[str] = []
        for rule in step.reasons:
            if rule.each is not None:
                chosen = session.answers.get(rule.each)
                source = self.flow.steps[rule.each]
                if isinstance(chosen, list):
                    exclusive = {o.id for o in source.options if o.exclusive}
                    found.extend(o for o in chosen if o not in exclusive)
            elif rule.condition is not None and rule.reason is not None:
                if rule.condition.test(session.answers):
                    found.append(rule.reason)
            elif rule.reason is not None:
                found.append(rule.reason)
        return list(dict.fromkeys(found))

    # -- rendering ----------------------------------------------------------------------------

    @property
    def _fallback(self) -> str:
        return self.flow.default_language

    def _values(self, session: Session) -> Mapping[str, str]:
        return _TextValues(self, session)

    def _say(self, text: LocalText, session: Session) -> str:
        return fill(text.get(session.language, self._fallback), self._values(session))

    def _option_label(self, step: Step, option_id: str, language: str) -> str:
        option = step.option(option_id)
        return option.label.get(language, self._fallback) if option else option_id

    def _question(self, session: Session, step: Step) -> Reply:
        language = session.language
        buttons: list[Button]
        if step.kind is StepKind.CHOICE:
            buttons = [
                Button(Action.CHOOSE, step.id, o.id, o.label.get(language, self._fallback))
                for o in step.options
            ]
        elif step.kind is StepKind.MULTI:
            ticked = set(session.draft)
            buttons = [
                Button(
                    Action.TOGGLE,
                    step.id,
                    o.id,
                    o.label.get(language, self._fallback),
                    selected=o.id in ticked,
                )
                for o in step.options
            ]
            buttons.append(Button(Action.DONE, step.id, "", self.ui("done_button", language)))
        else:
            low, high = step.minimum, step.maximum
            if low is not None and high is not None and high - low < MAX_NUMBER_BUTTONS:
                buttons = [
                    Button(Action.NUMBER, step.id, str(n), str(n)) for n in range(low, high + 1)
                ]
            else:
                buttons = []
        return Reply(
            ReplyKind.QUESTION,
            self._say(step.text, session),
            step.id,
            tuple(buttons),
            columns=step.columns,
        )

    def _outcome_reply(self, session: Session, step: Step) -> Reply:
        language = session.language
        parts = [self._say(step.text, session)]
        if session.reasons:
            lines = [self.ui("reasons_header", language)]
            lines += [f"• {self._reason_text(session, step, r)}" for r in session.reasons]
            parts.append("\n".join(lines))
        if self.flow.disclaimer is not None:
            parts.append(self._say(self.flow.disclaimer, session))
        if self.flow.safety_line is not None and not step.urgent:
            parts.append(self._say(self.flow.safety_line, session))
        link = None
        booking_url = self.settings.get("booking_url")
        if step.booking and booking_url:
            link = Link(self.ui("book_button", language), booking_url)
        return Reply(
            ReplyKind.OUTCOME,
            "\n\n".join(p for p in parts if p),
            step.id,
            link=link,
            outcome=step.id,
            reasons=tuple(session.reasons),
            urgent=step.urgent,
        )

    def _reason_text(self, session: Session, step: Step, reason: str) -> str:
        text = self.flow.reasons.get(reason)
        if text is not None:
            return self._say(text, session)
        if reason == "safety_net":
            return self.ui("safety_net_reason", session.language)
        for rule in step.reasons:
            if rule.each is not None:
                source = self.flow.steps[rule.each]
                if source.option(reason) is not None:
                    return self._option_label(source, reason, session.language)
        return reason

    def _notice(self, key: str, session: Session) -> Reply:
        return Reply(ReplyKind.NOTICE, self.ui(key, session.language), session.step)

    def _range_notice(self, session: Session, step: Step) -> Reply:
        text = self.ui(
            "number_range", session.language, min=str(step.minimum), max=str(step.maximum)
        )
        return Reply(ReplyKind.NOTICE, text, step.id)

    def _tick_notice(self, session: Session, step: Step, key: str) -> Reply:
        none = next((o for o in step.options if o.exclusive), None)
        text = self.ui(
            key,
            session.language,
            done=self.ui("done_button", session.language).rstrip(" ✔"),
            none=none.label.get(session.language, self._fallback) if none else "",
        )
        return Reply(ReplyKind.NOTICE, text, step.id)

    def _stay(self, session: Session, *notices: Reply, show: bool = True) -> Result:
        replies = (*notices, *self.current(session)) if show else notices
        return Result(session, replies, accepted=False)
