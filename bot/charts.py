"""The /stats answer for the therapist: a short text and a chart image.

Both read a :class:`FlowStats`, the anonymous counts that storage keeps (no chat ids, no
answers), and name what they count in the flow's own words (:class:`Words`: the questions'
texts shortened, the outcomes' titles) in the admin's language, never by id. The funnel shows
how many conversations reached each question, in flow order, and how many stopped there (no
answer for over a day); the second panel shows the outcomes, urgent ones in a warning colour;
a third, when there are any, the check-ins' pain scores beside the scores first given.

matplotlib is imported inside :func:`render_stats_png` (it costs about half a second), and only
the object-oriented API is used (a ``Figure`` on an Agg canvas, no pyplot), so rendering needs
no display and leaves no figures behind. It sets matplotlib's style while it draws, so render
one chart at a time (in a worker thread is fine).
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from bot.markup import headline
from bot.text import Catalogue

if TYPE_CHECKING:
    from matplotlib.axes import Axes

FINISHED = "finished"  # the funnel's last row: conversations that reached an outcome
# Sources are /start payloads, which anyone can invent: the text lists this many, most first,
# and sums the rest, so it stays far below Telegram's 4,096 characters whatever arrives.
TOP_SOURCES = 8

# Sizes chosen for a phone held upright: Telegram shows the image about 360 pt wide.
_WIDTH_INCHES = 6.0
_ROW_INCHES = 0.42
_PAIN_INCHES = 2.6
_DPI = 150
_BAR = "#1c77b5"
_BIGGEST_DROP = "#d9822b"
_OUTCOME = "#5a8f4e"
_URGENT = "#c62828"  # urgent outcomes: the warning colour
_FIRST = "#9aa7b4"  # the pain score given in the conversation
_LATER = "#1c77b5"  # the pain score at the check-in
_STYLE = {
    "font.family": "DejaVu Sans",  # bundled with matplotlib, so the same on every machine
    "font.size": 13,
    "axes.spines.top": False,
    "axes.spines.right": False,
}
LABEL_CHARACTERS = 26  # a question or outcome named in the chart, on a phone
TEXT_CHARACTERS = 80  # ... and in the text message


class FlowStats(Protocol):
    """Anonymous counts over a period: what :class:`bot.storage.records.Stats` holds."""

    @property
    def started(self) -> int: ...
    @property
    def completed(self) -> int: ...
    @property
    def outcomes(self) -> Mapping[str, int]: ...
    @property
    def sources(self) -> Mapping[str, int]: ...
    @property
    def steps(self) -> Mapping[str, int]: ...  # step id -> times reached


# --- the words -----------------------------------------------------------------------------------

FRAME: Mapping[str, Mapping[str, str]] = {
    "en": {
        "period": "the last {days} days",
        "withdrawn": "Emergency answers taken back as a mistake (/back): {count}",
        "other_sources": "other ({count} sources)",
        "day": "the last day",
        "none": "No conversations were started in {period}.",
        "head": "Conversations in {period}",
        "started": "Started",
        "completed": "Completed",
        "outcomes": "Outcomes",
        "sources": "Sources",
        "drop": "Biggest drop-off: at “{step}”, {dropped} of {reached} ({share}) stopped there "
        "and have not answered for over a day.",
        "pain": "Check-ins answered: {count}. Pain on average {first} at first, {later} at the "
        "check-in.",
        "pain_later": "Check-ins answered: {count}. Pain on average {later} at the check-in.",
        "summary": "{started} started, {completed} completed ({share})",
        "empty": "No conversations in this period",
        "funnel": "Reached (−n: stopped there)",
        "no_outcomes": "No outcomes yet",
        "pain_title": "Pain 0–10, first and at the check-in",
        "first": "first",
        "later": "check-in",
        "finished": "Finished",
        "gone": "(no longer in the flow)",
        "urgent": "urgent",
    },
    "es": {
        "period": "los últimos {days} días",
        "withdrawn": "Respuestas de urgencia retiradas por error (/back): {count}",
        "other_sources": "otras ({count} fuentes)",
        "day": "el último día",
        "none": "No se empezó ninguna conversación en {period}.",
        "head": "Conversaciones en {period}",
        "started": "Empezadas",
        "completed": "Terminadas",
        "outcomes": "Resultados",
        "sources": "Orígenes",
        "drop": "Mayor abandono: en «{step}», {dropped} de {reached} ({share}) se quedaron ahí "
        "y llevan más de un día sin responder.",
        "pain": "Seguimientos respondidos: {count}. Dolor medio {first} al principio, {later} en "
        "el seguimiento.",
        "pain_later": "Seguimientos respondidos: {count}. Dolor medio {later} en el seguimiento.",
        "summary": "{started} empezadas, {completed} terminadas ({share})",
        "empty": "Ninguna conversación en este periodo",
        "funnel": "Alcanzadas (−n: se quedaron ahí)",
        "no_outcomes": "Aún no hay resultados",
        "pain_title": "Dolor 0–10, al principio y en el seguimiento",
        "first": "al principio",
        "later": "seguimiento",
        "finished": "Terminadas",
        "gone": "(ya no está en el cuestionario)",
        "urgent": "urgente",
    },
}
_FRAME = Catalogue.by_language(FRAME)


@dataclass(frozen=True)
class Words:
    """How /stats names what it counts: the flow's own words in the admin's language."""

    language: str = "en"
    steps: Mapping[str, str] = field(default_factory=dict)  # question id -> its text
    outcomes: Mapping[str, str] = field(default_factory=dict)  # outcome id -> its title
    urgent: frozenset[str] = frozenset()  # outcome ids shown in the warning colour

    def say(self, key: str, **values: Any) -> str:
        return _FRAME.say(key, self.language, **values)

    def step(self, step_id: str, limit: int = TEXT_CHARACTERS) -> str:
        if step_id == FINISHED:
            return self.say("finished")
        return shorten(self.steps[step_id], limit) if step_id in self.steps else self.say("gone")

    def outcome(self, outcome_id: str, limit: int = TEXT_CHARACTERS) -> str:
        if outcome_id in self.outcomes:
            return shorten(self.outcomes[outcome_id], limit)
        return self.say("gone")


# What a text is about, in its own words (its first **bold** part, else its first line).
title_of = headline


def distinct(texts: Sequence[str], limit: int) -> list[str]:
    """Each text shortened to ``limit``; texts that would read the same ("Your answers may
    involve…" three times) lose the words they share at the start instead."""
    short = [shorten(text, limit) for text in texts]
    for text in set(short):
        same = [i for i, s in enumerate(short) if s == text]
        if len(same) < 2 or len({texts[i] for i in same}) < 2:
            continue
        words = [texts[i].split() for i in same]
        shared = 0
        while all(len(w) > shared + 1 and w[shared] == words[0][shared] for w in words):
            shared += 1
        for index, split in zip(same, words, strict=True):
            short[index] = shorten("…" + " ".join(split[shared:]), limit)
    return short


def shorten(text: str, limit: int) -> str:
    """``text`` cut at a word to at most ``limit`` characters, with "…" when cut."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1].rsplit(" ", 1)[0].rstrip(" ,;:")
    return f"{cut}…"


# --- the funnel ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class FunnelRow:
    step: str
    reached: int
    dropped: int  # reached this step and stopped there


def funnel(stats: FlowStats, step_order: Sequence[str] | None = None) -> list[FunnelRow]:
    """The funnel's rows: the steps in ``step_order`` (the flow's questions, in order), then
    ``finished``. Without ``step_order`` the steps are sorted by how many reached them; steps
    missing from it (say, removed from the flow) are left out.

    A row's drop-off is, when the stats carry ``idle`` (step -> conversations resting at that
    question, untouched for over a day), exactly those: someone who answers within the hour is
    not a drop-off. Otherwise, when they carry ``steps_answered``, reached but never answered;
    failing both, the row's count minus the largest count of any later row (a question asked of
    only some people, a branch, does not make the question before it look like a cliff).
    """
    reached = stats.steps
    idle: Mapping[str, int] | None = getattr(stats, "idle", None)
    answered: Mapping[str, int] | None = getattr(stats, "steps_answered", None)
    order = (
        list(step_order)
        if step_order is not None
        else sorted(reached, key=lambda step: (-reached[step], step))
    )
    counts = [reached.get(step, 0) for step in order]
    rows = []
    for index, (step, count) in enumerate(zip(order, counts, strict=True)):
        if idle is not None:
            dropped = idle.get(step, 0)
        elif answered is not None:
            dropped = count - answered.get(step, 0)
        else:
            dropped = count - max([*counts[index + 1 :], stats.completed])
        rows.append(FunnelRow(step, count, max(0, dropped)))
    rows.append(FunnelRow(FINISHED, stats.completed, 0))
    return rows


def biggest_drop(rows: Sequence[FunnelRow]) -> FunnelRow | None:
    """The row where most conversations stopped (the earliest on a tie), if any."""
    worst = max(rows, key=lambda row: row.dropped, default=None)
    return worst if worst is not None and worst.dropped > 0 else None


def _percent(part: int, whole: int) -> str:
    return f"{round(100 * part / whole)}%" if whole else "-"


def _ranked(counts: Mapping[str, int]) -> list[tuple[str, int]]:
    """Largest first, then by name, so the same numbers always read the same way."""
    return sorted(counts.items(), key=lambda item: (-item[1], item[0]))


# --- check-in pain scores ------------------------------------------------------------------------


@dataclass(frozen=True)
class Pain:
    """The check-ins' scores: how many said each 0-10, first (in the conversation) and later."""

    first: tuple[int, ...]  # 11 counts, 0 to 10
    later: tuple[int, ...]
    answered: int  # check-ins answered
    paired: int  # of which with a first score

    @property
    def first_mean(self) -> float | None:
        return _mean(self.first)

    @property
    def later_mean(self) -> float | None:
        return _mean(self.later)


def _mean(counts: Sequence[int]) -> float | None:
    total = sum(counts)
    return sum(score * n for score, n in enumerate(counts)) / total if total else None


def pain(stats: FlowStats) -> Pain | None:
    """The check-in scores in the stats (``pain``: first, later, count), or None."""
    pairs = getattr(stats, "pain", ()) or ()
    first, later = [0] * 11, [0] * 11
    answered = paired = 0
    for pair in pairs:
        if not 0 <= pair.later <= 10:
            continue
        later[pair.later] += pair.count
        answered += pair.count
        if pair.first is not None and 0 <= pair.first <= 10:
            first[pair.first] += pair.count
            paired += pair.count
    return Pain(tuple(first), tuple(later), answered, paired) if answered else None


def _one_decimal(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


# --- the text ------------------------------------------------------------------------------------


def format_stats_text(
    stats: FlowStats,
    days: int,
    *,
    step_order: Sequence[str] | None = None,
    words: Words | None = None,
) -> str:
    """Plain text for the Telegram message (no markup, so nothing needs escaping)."""
    say = words or Words()
    period = say.say("day") if days == 1 else say.say("period", days=days)
    if stats.started == 0:
        return say.say("none", period=period)
    lines = [
        say.say("head", period=period),
        f"{say.say('started')}: {stats.started}",
        f"{say.say('completed')}: {stats.completed} ({_percent(stats.completed, stats.started)})",
    ]
    if stats.outcomes:
        lines += ["", f"{say.say('outcomes')}:"]
        for name, count in _ranked(stats.outcomes):
            mark = "⚠️ " if name in say.urgent else ""
            label = say.outcome(name) if words is not None else name
            lines.append(f"  {mark}{label}: {count}")
    if stats.sources:
        lines += ["", f"{say.say('sources')}:"]
        ranked = _ranked(stats.sources)
        lines += [f"  {name}: {count}" for name, count in ranked[:TOP_SOURCES]]
        rest = ranked[TOP_SOURCES:]
        if rest:
            others = say.say("other_sources", count=len(rest))
            lines.append(f"  {others}: {sum(count for _, count in rest)}")
    worst = biggest_drop(funnel(stats, step_order))
    if worst is not None:
        share = _percent(worst.dropped, worst.reached)
        step = say.step(worst.step) if words is not None else worst.step
        lines += [
            "",
            say.say("drop", step=step, dropped=worst.dropped, reached=worst.reached, share=share),
        ]
    scores = pain(stats)
    if scores is not None:
        later = _one_decimal(scores.later_mean)
        key = "pain" if scores.paired else "pain_later"
        first = _one_decimal(scores.first_mean)
        lines += ["", say.say(key, count=scores.answered, first=first, later=later)]
    return "\n".join(lines)


# --- the chart -----------------------------------------------------------------------------------


def render_stats_png(
    stats: FlowStats,
    *,
    title: str,
    step_order: Sequence[str] | None = None,
    words: Words | None = None,
) -> bytes:
    """A PNG for a phone: the funnel of steps on top, the outcomes below, the check-ins' pain
    scores last when there are any. The same numbers give the same bytes (fixed font, size and
    no timestamp in the file)."""
    from matplotlib import style
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    say = words or Words()
    rows = funnel(stats, step_order)
    outcomes = _ranked(stats.outcomes)
    scores = pain(stats)
    funnel_rows, outcome_rows = len(rows), max(1, len(outcomes))
    counts = 1.6 + _ROW_INCHES * (funnel_rows + outcome_rows) + 1.2
    height = counts + (_PAIN_INCHES if scores is not None else 0)

    # matplotlib's defaults plus ours, so a matplotlibrc on the server cannot change the picture.
    with style.context(["default", _STYLE]):
        figure = Figure(figsize=(_WIDTH_INCHES, height), dpi=_DPI, layout="constrained")
        FigureCanvasAgg(figure)
        figure.suptitle(f"{title}\n{_summary(stats, say)}", fontsize=15)
        top: Any = figure
        if scores is not None:
            # The pain panel has no long labels: a part of its own, the whole width.
            parts: Any = figure.subfigures(2, 1, height_ratios=[counts - 1.0, _PAIN_INCHES])
            top, bottom = parts
            _draw_pain(bottom.subplots(), scores, say)
        panels = top.subplots(2, 1, height_ratios=[funnel_rows + 0.8, outcome_rows + 0.8])
        _draw_funnel(panels[0], rows, say if words is not None else None)
        _draw_outcomes(panels[1], outcomes, say if words is not None else None)
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png", metadata={"Software": None})
    return buffer.getvalue()


def _summary(stats: FlowStats, say: Words) -> str:
    if stats.started == 0:
        return say.say("empty")
    completion = _percent(stats.completed, stats.started)
    return say.say("summary", started=stats.started, completed=stats.completed, share=completion)


def _draw_funnel(axes: Axes, rows: Sequence[FunnelRow], words: Words | None) -> None:
    say = words or Words()
    worst = biggest_drop(rows)
    labels = (
        distinct([say.step(row.step, 10**6) for row in rows], LABEL_CHARACTERS)
        if words is not None
        else [row.step for row in rows]
    )
    values = [row.reached for row in rows]
    colours = [_BIGGEST_DROP if row is worst else _BAR for row in rows]
    positions = range(len(rows))
    axes.barh(positions, values, color=colours, height=0.7)
    axes.set_yticks(positions, labels)
    axes.invert_yaxis()  # flow order reads top to bottom
    axes.set_title(say.say("funnel"), fontsize=13, loc="left")
    peak = max(values, default=0) or 1
    axes.set_xlim(0, peak * 1.35)  # room for the labels at the end of the bars
    axes.xaxis.set_visible(False)
    axes.spines["bottom"].set_visible(False)
    for position, row in zip(positions, rows, strict=True):
        note = f"{row.reached}" + (f"  −{row.dropped}" if row.dropped else "")
        axes.text(row.reached + peak * 0.02, position, note, va="center", fontsize=12)


def _draw_outcomes(axes: Axes, outcomes: Sequence[tuple[str, int]], words: Words | None) -> None:
    say = words or Words()
    axes.set_title(say.say("outcomes"), fontsize=13, loc="left")
    axes.xaxis.set_visible(False)
    axes.spines["bottom"].set_visible(False)
    if not outcomes:
        axes.set_yticks([])
        axes.spines["left"].set_visible(False)
        axes.text(
            0.5, 0.5, say.say("no_outcomes"), ha="center", va="center", transform=axes.transAxes
        )
        return
    positions = range(len(outcomes))
    values = [count for _, count in outcomes]
    colours = [_URGENT if name in say.urgent else _OUTCOME for name, _ in outcomes]
    labels = (
        distinct([say.outcome(name, 10**6) for name, _ in outcomes], LABEL_CHARACTERS)
        if words is not None
        else [name for name, _ in outcomes]
    )
    axes.barh(positions, values, color=colours, height=0.7)
    axes.set_yticks(positions, labels)
    for tick, (name, _) in zip(axes.get_yticklabels(), outcomes, strict=True):
        if name in say.urgent:
            tick.set_color(_URGENT)
    axes.invert_yaxis()
    peak = max(values) or 1
    axes.set_xlim(0, peak * 1.35)
    for position, (name, count) in zip(positions, outcomes, strict=True):
        note = f"{count}  ⚠ {say.say('urgent')}" if name in say.urgent else str(count)
        colour = _URGENT if name in say.urgent else "black"
        axes.text(count + peak * 0.02, position, note, va="center", fontsize=12, color=colour)


def _draw_pain(axes: Axes, scores: Pain, say: Words) -> None:
    """Two bars per score: how many gave it first, how many at the check-in."""
    axes.set_title(say.say("pain_title"), fontsize=13, loc="left")
    scale = range(11)
    width = 0.4
    if scores.paired:
        axes.bar(
            [s - width / 2 for s in scale],
            scores.first,
            width,
            color=_FIRST,
            label=say.say("first"),
        )
    axes.bar(
        [s + width / 2 for s in scale], scores.later, width, color=_LATER, label=say.say("later")
    )
    axes.set_xticks(list(scale), [str(s) for s in scale])
    axes.yaxis.set_visible(False)
    axes.spines["left"].set_visible(False)
    peak = max([*scores.first, *scores.later, 1])
    axes.set_ylim(0, peak * 1.3)
    for score, (first, later) in enumerate(zip(scores.first, scores.later, strict=True)):
        if later:
            axes.text(score + width / 2, later, str(later), ha="center", va="bottom", fontsize=10)
        if first and scores.paired:
            axes.text(score - width / 2, first, str(first), ha="center", va="bottom", fontsize=10)
    axes.legend(loc="upper right", frameon=False, fontsize=11, ncols=2)
