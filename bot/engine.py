"""The conversation runtime: (compiled flow, session, input) -> (new session, replies).

Pure and transport-free: no Telegram, no SQLite, no clock, no files. The terminal chat, the
therapist's ``flows try``, the tests and the Telegram bot all drive this same engine.

A :class:`Session` is plain data that serialises to JSON. Inputs are small frozen dataclasses
(:class:`Choose`, :class:`Toggle`, :class:`Done`, :class:`Number`, :class:`Text`, :class:`Back`,
:class:`Restart`, :class:`Start`, :class:`Repeat`); the five a button carries are defined with
its callback data in :mod:`bot.callback`. Wrong input never changes the session: the result
carries a kind notice and the current question again.

The engine also states the facts about a conversation that the transports show: what its
outcome offers (:meth:`Engine.offers`, ``Reply.offers``; the flow declares it per outcome),
its reasons and answers in words (:meth:`Engine.reason_texts`, :meth:`Engine.answers_in_words`)
and the booking link. How they look on Telegram is ``bot.telegram.render``'s alone.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any

from bot.callback import Action, Choose, Confirm, Done, Number, Toggle
from bot.errors import StorageError
from bot.flow.compiler import CompiledFlow
from bot.flow.model import Flow, LocalText, Step, StepKind
from bot.flow.safety import Screening, Verdict
from bot.flow.ui import UI_DEFAULTS
from bot.text import Catalogue, fill, pick_language

UNDO_EMERGENCY = "undo_emergency"  # Session.pending: "was that a mistake?" after /back
# Sessions stored before Session.marks existed kept the marks among the answers, under keys no
# step id can take ("practice:lead"); they are moved to the marks when read.
_OLD_MARK_PREFIX = "practice:"

# --- sessions --------------------------------------------------------------------------------


class SessionError(StorageError, ValueError):
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
    # A yes/no question asked over the open step: a safety-net concept id to confirm, or
    # UNDO_EMERGENCY ("was that a mistake?" after /back at an emergency outcome).
    pending: str | None = None
    withdrawn: bool = False  # an emergency answer was taken back (counted, shown on the lead)
    # What the conversation did with its outcome's offers, by offer: "lead" (the outcome whose
    # summary went to the therapist), "checkin" (when the check-in falls due), "pain" (the
    # check-in was answered). Not answers: an offer used is not offered again, /restart clears
    # them, /back keeps them (one lead per conversation).
    marks: dict[str, Any] = field(default_factory=dict)

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
            marks=dict(self.marks),
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
            **({"pending": self.pending} if self.pending else {}),
            **({"withdrawn": True} if self.withdrawn else {}),
            **({"marks": self.marks} if self.marks else {}),
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, separators=(",", ":"))

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Session:
        try:
            answers = dict(data.get("answers") or {})
            marks = dict(data.get("marks") or {})
            for key in [k for k in answers if k.startswith(_OLD_MARK_PREFIX)]:
                marks.setdefault(key.removeprefix(_OLD_MARK_PREFIX), answers.pop(key))
            session = cls(
                flow_id=str(data["flow"]),
                flow_version=str(data["version"]),
                step=str(data["step"]),
                language=str(data["lang"]),
                answers=answers,
                history=[str(s) for s in data.get("history") or []],
                draft=[str(s) for s in data.get("draft") or []],
                source=data.get("source"),
                outcome=data.get("outcome"),
                reasons=[str(r) for r in data.get("reasons") or []],
                pending=str(data["pending"]) if data.get("pending") else None,
                withdrawn=bool(data.get("withdrawn")),
                marks=marks,
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
class Text:
    text: str


@dataclass(frozen=True, slots=True)
class Amend:
    """The person edited the message that answered ``step``: answer it again with ``text``
    when it is still the last answer given and the next question is open; otherwise the
    edited text is read as a new message."""

    step: str
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


Input = Start | Choose | Toggle | Done | Number | Text | Confirm | Amend | Back | Restart | Repeat


# --- replies ---------------------------------------------------------------------------------


class ReplyKind(StrEnum):
    MESSAGE = "message"
    QUESTION = "question"
    OUTCOME = "outcome"
    NOTICE = "notice"


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
    # Under an outcome: what it offers now (bot.flow.model.OFFERS, in order), not used yet and
    # set up: "booking" comes with ``link``; "lead" and "checkin" are buttons the transport
    # draws (bot.telegram.render) when the practice has them.
    offers: tuple[str, ...] = ()
    language: str | None = None  # an outcome's language, for the words of its offers


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
    screening: Screening | None = None  # what the safety net made of typed text, if alarming
    withdrawn: bool = False  # this input took back an emergency answer


# --- filling texts in, reading typed answers (the bot's own texts: bot.flow.ui) --------------

_UI = Catalogue(UI_DEFAULTS)
# A typed number: "7", " 7/10 ", "-3.", "7 !". Every run of spaces is possessive (``*+``) and
# followed by something that is not a space, so nothing is ever re-read: linear in the length.
# Written with plain ``\s*`` the runs could split in every way, cubic: "1", 998 spaces and "x"
# cost over a second of CPU on the event loop that serves everyone.
_DIGITS = re.compile(r"\s*+(-?\d{1,4})\s*+(?:/\s*+10\s*+)?(?:[.!]\s*+)?\Z")
_WORDS = re.compile(r"[^\w']+")
MAX_NUMBER_BUTTONS = 12
# Typed answers to a yes/no question, after normalise_phrase (the button labels count too).
_YES = frozenset({"yes", "y", "yeah", "yep", "yup", "si", "s", "sip", "claro", "correcto"})
_NO = frozenset({"no", "n", "nope", "nah", "not really", "para nada", "nop"})


def typed_number(text: str) -> int | None:
    """The whole number a person typed ("7", " 7/10 ", "-3.", "7 !"), or None when the text
    is anything else; read in linear time, whatever the text (the check-in reads scores with
    it too)."""
    match = _DIGITS.match(text)
    return None if match is None else int(match.group(1))


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
        # A question's buttons in each of the flow's languages, built once (they are frozen):
        # for a tick question, each option plain and ticked, then Done.
        self._buttons: dict[tuple[str, str], tuple[tuple[Button, ...], tuple[Button, ...]]] = {}

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
        if isinstance(message, Text | Amend):
            # Typed text meets the safety net first, whatever the state of the conversation.
            screening = self.screen(message.text)
            if screening.verdict is Verdict.EMERGENCY:
                return self._safety_net(self._carry_on(session), screening)
            if screening.verdict is Verdict.CONFIRM and (session is None or not session.pending):
                return self._ask(self._carry_on(session), screening)
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
        if session.pending is not None:
            return self._pending(session, message)
        if isinstance(message, Amend):
            return self._amend(session, message)
        if isinstance(message, Text):
            return self._text(session, message.text)
        step = self.flow.steps[session.step]
        if session.finished or message.step != session.step or isinstance(message, Confirm):
            return self._stay(session, self._notice("moved_on", session))
        if isinstance(message, Choose):
            return self._choose(session, step, message.option)
        if isinstance(message, Toggle):
            return self._toggle(session, step, message.option)
        if isinstance(message, Done):
            return self._done(session, step)
        return self._number(session, step, message.value)

    def screen(self, text: str) -> Screening:
        """What the safety net makes of ``text`` (see :mod:`bot.flow.safety`)."""
        return self.compiled.screener.screen(text)

    def urgent_reply(self, screening: Screening, language: str | None) -> Reply:
        """The safety net's outcome for someone with no conversation stored (before consent):
        the advice needs no storage."""
        session = self._carry_on(None, language)
        return self._safety_net(session, screening).replies[-1]

    def safety_line(self, language: str | None) -> str | None:
        """The flow's safety line in ``language``, filled in (None when the flow has none), for
        the transport's own messages that must carry it: a message the bot cannot read, a
        check-in's reply, "No thanks" to consent."""
        if self.flow.safety_line is None:
            return None
        return self._say(self.flow.safety_line, self._blank(language))

    def sign_question(self, concept: str, language: str | None) -> str:
        """ "Do you have <sign> right now?" about a safety-net concept: asked over the open
        step, or by the transport before consent, when no session may be kept."""
        return self._sign_question(concept, self._blank(language))

    def current(self, session: Session) -> tuple[Reply, ...]:
        """What the person should see now: the open question, or the outcome."""
        if session.pending is not None:
            return (self._pending_question(session),)
        step = self.flow.steps[session.step]
        if step.is_outcome:
            return (self._outcome_reply(session, step),)
        return (self._question(session, step),)

    def is_current(self, session: Session) -> bool:
        """Can this stored session carry on with the flow as it is now?"""
        return session.flow_id == self.flow.id and session.step in self.flow.steps

    def pick_language(self, language: str | None) -> str:
        """One of the flow's languages for a code such as Telegram's "es-MX" (the flow's
        first language when it has none that fits)."""
        return pick_language(language, self.flow.languages) or self.flow.default_language

    def ui(self, key: str, language: str, **values: str) -> str:
        """One of the engine's own texts: the flow's wording (its ``ui:`` section) when it
        has one, else the default."""
        text = self.flow.ui.get(key)
        if text is not None:
            return fill(text.get(language, self.flow.default_language), values)
        return _UI.say(key, language, **values)

    def offers(self, session: Session | None) -> tuple[str, ...]:
        """What the conversation's outcome offers, used or not: the flow's declaration (never
        anything under an urgent outcome), the booking page only when BOOKING_URL is set.
        Nothing before an outcome, or when the flow has changed under the session."""
        if session is None or not session.finished or not self.is_current(session):
            return ()
        return self._offers(self.flow.steps[session.step])

    def booking_link(self, language: str | None) -> Link | None:
        """The button to the practice's booking page, in ``language``; None without one."""
        url = self.settings.get("booking_url")
        if not url:
            return None
        return Link(self.ui("book_button", self.pick_language(language)), url)

    def outcome_reply(self, session: Session) -> Reply | None:
        """The outcome as the person sees it now (its offers follow the session's marks);
        None before an outcome, or when the flow has changed under the session."""
        if not session.finished or not self.is_current(session):
            return None
        step = self.flow.steps[session.step]
        return self._outcome_reply(session, step) if step.is_outcome else None

    def answers_in_words(self, session: Session) -> dict[str, str]:
        """Question id -> the answer in the session's language (option labels rather than
        ids), in the order they were answered. An answer to a question the flow has since
        dropped is shown as it was stored: it is still the person's."""
        words: dict[str, str] = {}
        for key in dict.fromkeys([*session.history, *session.answers]):
            if key not in session.answers:
                continue
            if key in self.flow.steps:
                words[key] = self.answer_words(session, key)
            else:
                value = session.answers[key]
                words[key] = ", ".join(map(str, value)) if isinstance(value, list) else str(value)
        return words

    def reason_texts(self, session: Session) -> list[str]:
        """The reasons of the session's outcome, in words, as shown under it."""
        step = self.flow.steps.get(session.step)
        if step is None:
            return list(session.reasons)
        return [self._reason_text(session, step, reason) for reason in session.reasons]

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
        step = self.flow.steps[session.step]
        if session.finished:
            return self._stay(session, self._notice("finished", session), show=False)
        if len(text) > 1000:
            return self._stay(session, self._notice("too_long", session))
        if step.kind is StepKind.NUMBER:
            number = typed_number(text)
            if number is None:
                return self._stay(session, self._range_notice(session, step))
            return self._number(session, step, number)
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

    def _amend(self, session: Session, message: Amend) -> Result:
        """A corrected typed answer: the last answer given, while the next question is open."""
        if session.finished or not session.history or session.history[-1] != message.step:
            return self._text(session, message.text)
        undone = self._back(session).session
        result = self._text(undone, message.text)
        return result if result.accepted else self._stay(session, *result.replies[:-1])

    def _typed_option(self, session: Session, step: Step, text: str) -> str | None:
        """The option whose label (or id) the person typed instead of pressing its button."""
        wanted = normalise_phrase(text)
        for option in step.options:
            label = normalise_phrase(option.label.get(session.language, self._fallback))
            if wanted in (label, normalise_phrase(option.id)):
                return option.id
        return None

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
        if session.pending is not None and session.pending != UNDO_EMERGENCY:
            new = session.copy()  # /back at the safety question: back to where they were
            new.pending = None
            return Result(new, self.current(new), accepted=True)
        if session.finished and self.flow.steps[session.step].urgent and not session.pending:
            new = session.copy()  # an emergency is not undone by one tap: ask first
            new.pending = UNDO_EMERGENCY
            return Result(new, self.current(new), accepted=True)
        return self._undo_last(session)

    def _undo_last(self, session: Session) -> Result:
        """Take the last answer back and ask that question again."""
        if not session.history:
            return self._stay(session, self._notice("nothing_to_undo", session))
        new = session.copy()
        new.pending = None
        previous = new.history.pop()
        undone = new.answers.pop(previous, None)
        new.step = previous
        new.outcome = None
        new.reasons = []
        new.draft = list(undone) if isinstance(undone, list) else []
        return Result(new, self.current(new), accepted=True)

    # -- the safety net -----------------------------------------------------------------------

    def _carry_on(self, session: Session | None, language: str | None = None) -> Session:
        """The session a safety-net answer builds on: the person's own, or a new one (a first
        message, or a conversation the flow has changed under)."""
        if session is not None and self.is_current(session):
            return session
        language = language or (session.language if session else None)
        source = session.source if session else None
        return self.start(language=language, source=source).session

    def _safety_net(self, session: Session, screening: Screening) -> Result:
        assert self.flow.safety_net is not None
        new = session.copy()
        if not session.finished:
            new.history.append(session.step)
        new.draft = []
        new.pending = None
        target = self.flow.steps[self.flow.safety_net.target]
        new.step = target.id
        new.outcome = target.id
        new.reasons = [screening.concept or "safety_net"]
        reply = self._outcome_reply(new, target)
        return Result(new, (reply,), accepted=True, screening=screening)

    def _ask(self, session: Session, screening: Screening) -> Result:
        """A negated or doubtful mention: one yes/no question naming the sign."""
        new = session.copy()
        new.pending = screening.concept
        return Result(new, self.current(new), accepted=True, screening=screening)

    def _pending(self, session: Session, message: Input) -> Result:
        """The answer to the yes/no question; anything else asks it again."""
        answer: bool | None = None
        if isinstance(message, Confirm) and message.step == session.step:
            answer = message.yes
        elif isinstance(message, Text | Amend):
            answer = self._yes_or_no(message.text, session.language)
        if answer is None:
            typed = isinstance(message, Text | Amend)
            return self._stay(session, self._notice("tap_button" if typed else "moved_on", session))
        new = session.copy()
        new.pending = None
        if session.pending == UNDO_EMERGENCY:
            if not answer:
                return Result(new, (self._notice("undo_kept", new),), accepted=True)
            new.withdrawn = True
            return replace(self._undo_last(new), withdrawn=True)
        if answer:
            concept = session.pending or ""
            return self._safety_net(new, Screening(Verdict.EMERGENCY, concept, None))
        key = "confirm_no_finished" if new.finished else "confirm_no"
        replies = (self._notice(key, new), *(() if new.finished else self.current(new)))
        return Result(new, replies, accepted=True)

    def _yes_or_no(self, text: str, language: str) -> bool | None:
        said = normalise_phrase(text)
        if said in _YES or said == normalise_phrase(self.ui("yes_button", language)):
            return True
        if said in _NO or said == normalise_phrase(self.ui("no_button", language)):
            return False
        return None

    def _pending_question(self, session: Session) -> Reply:
        language = session.language
        if session.pending == UNDO_EMERGENCY:
            text = self.ui("undo_emergency", language)
            yes = self.ui("mistake_yes_button", language)
            no = self.ui("mistake_no_button", language)
        else:
            text = self._sign_question(session.pending or "", session)
            yes, no = self.ui("yes_button", language), self.ui("no_button", language)
        buttons = (
            Button(Action.CONFIRM, session.step, "yes", yes),
            Button(Action.CONFIRM, session.step, "no", no),
        )
        return Reply(ReplyKind.QUESTION, text, session.step, buttons, columns=2)

    def _sign_question(self, concept_id: str, session: Session) -> str:
        net = self.flow.safety_net
        concept = net.concept(concept_id) if net else None
        sign = self._say(concept.sign, session) if concept else ""
        return self.ui("confirm_sign", session.language, sign=sign)

    def _blank(self, language: str | None) -> Session:
        """A session with no answers, only for filling texts in a language."""
        return Session(
            self.flow.id, self.flow.version, self.flow.start, self.pick_language(language)
        )

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
        plain, ticked = self._question_buttons(step, session.language)
        buttons = plain
        if step.kind is StepKind.MULTI and session.draft:
            chosen = set(session.draft)
            options, done = plain[: len(ticked)], plain[len(ticked) :]
            buttons = (
                *(t if o.value in chosen else o for o, t in zip(options, ticked, strict=True)),
                *done,
            )
        return Reply(
            ReplyKind.QUESTION,
            self._say(step.text, session),
            step.id,
            buttons,
            columns=step.columns,
        )

    def _question_buttons(
        self, step: Step, language: str
    ) -> tuple[tuple[Button, ...], tuple[Button, ...]]:
        """The question's buttons as first shown, and (tick questions) each option ticked."""
        key = (step.id, language)
        cached = self._buttons.get(key)
        if cached is not None:
            return cached
        plain: tuple[Button, ...]
        ticked: tuple[Button, ...] = ()
        if step.kind in (StepKind.CHOICE, StepKind.MULTI):
            action = Action.CHOOSE if step.kind is StepKind.CHOICE else Action.TOGGLE
            plain = tuple(
                Button(action, step.id, o.id, o.label.get(language, self._fallback))
                for o in step.options
            )
            if step.kind is StepKind.MULTI:
                ticked = tuple(replace(button, selected=True) for button in plain)
                done = Button(Action.DONE, step.id, "", self.ui("done_button", language))
                plain += (done,)
        else:
            low, high = step.minimum, step.maximum
            if low is not None and high is not None and high - low < MAX_NUMBER_BUTTONS:
                plain = tuple(
                    Button(Action.NUMBER, step.id, str(n), str(n)) for n in range(low, high + 1)
                )
            else:
                plain = ()
        if language in self.flow.languages:  # never grows past the flow's own languages
            self._buttons[key] = (plain, ticked)
        return plain, ticked

    def _outcome_reply(self, session: Session, step: Step) -> Reply:
        language = session.language
        parts = [self._say(step.text, session), *self._paragraphs(session, step)]
        if session.reasons:
            lines = [self.ui("reasons_header", language)]
            lines += [f"• {reason}" for reason in self.reason_texts(session)]
            parts.append("\n".join(lines))
        disclaimer = self.flow.disclaimer_for(step)
        if disclaimer is not None:
            parts.append(self._say(disclaimer, session))
        if self.flow.safety_line is not None and not step.urgent:
            parts.append(self._say(self.flow.safety_line, session))
        offers = tuple(offer for offer in self._offers(step) if offer not in session.marks)
        return Reply(
            ReplyKind.OUTCOME,
            "\n\n".join(p for p in parts if p),
            step.id,
            link=self.booking_link(language) if "booking" in offers else None,
            outcome=step.id,
            reasons=tuple(session.reasons),
            urgent=step.urgent,
            offers=offers,
            language=language,
        )

    def _offers(self, step: Step) -> tuple[str, ...]:
        if step.urgent:  # safety rule S1, twice over: the checker refuses such a flow anyway
            return ()
        booking = bool(self.settings.get("booking_url"))
        return tuple(o for o in step.allowed_offers if booking or o != "booking")

    def _paragraphs(self, session: Session, step: Step) -> list[str]:
        """The outcome's ``more:`` paragraphs whose condition holds, in order. A condition that
        reads an answer never given is false (bot.flow.conditions), never an error: the safety
        net reaches an outcome from any step, with whatever answers there are by then."""
        return [
            self._say(paragraph.text, session)
            for paragraph in step.more
            if paragraph.condition is None or paragraph.condition.test(session.answers)
        ]

    def _reason_text(self, session: Session, step: Step, reason: str) -> str:
        text = self.flow.reasons.get(reason)
        if text is not None:
            return self._say(text, session)
        if reason == "safety_net":  # a session stored before the net named its concepts
            return self.ui("safety_net_reason", session.language)
        concept = self.flow.safety_net.concept(reason) if self.flow.safety_net else None
        for rule in step.reasons:
            if rule.each is not None:
                source = self.flow.steps[rule.each]
                if source.option(reason) is not None:
                    return self._option_label(source, reason, session.language)
        if concept is not None:  # a sign typed in the person's own words
            return self._say(concept.sign, session)
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
