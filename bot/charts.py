"""The /stats answer for the therapist: a short text and a chart image.

Both read a :class:`FlowStats`, the anonymous counts that storage keeps (no chat ids, no
answers). The funnel shows how many conversations reached each question, in flow order, and
how many went no further; the second panel shows the outcomes.

matplotlib is imported inside :func:`render_stats_png` (it costs about half a second), and only
the object-oriented API is used (a ``Figure`` on an Agg canvas, no pyplot), so rendering needs
no display and leaves no figures behind. It sets matplotlib's style while it draws, so render
one chart at a time (in a worker thread is fine).
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from matplotlib.axes import Axes

FINISHED = "finished"  # the funnel's last row: conversations that reached an outcome
# Sources are /start payloads, which anyone can invent: the text lists this many, most first,
# and sums the rest, so it stays far below Telegram's 4,096 characters whatever arrives.
TOP_SOURCES = 8

# Sizes chosen for a phone held upright: Telegram shows the image about 360 pt wide.
_WIDTH_INCHES = 6.0
_ROW_INCHES = 0.42
_DPI = 150
_BAR = "#1c77b5"
_BIGGEST_DROP = "#d9822b"
_OUTCOME = "#5a8f4e"
_STYLE = {
    "font.family": "DejaVu Sans",  # bundled with matplotlib, so the same on every machine
    "font.size": 13,
    "axes.spines.top": False,
    "axes.spines.right": False,
}


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


@dataclass(frozen=True)
class FunnelRow:
    step: str
    reached: int
    dropped: int  # reached this step but not the next row of the funnel


def funnel(stats: FlowStats, step_order: Sequence[str] | None = None) -> list[FunnelRow]:
    """The funnel's rows: the steps in ``step_order`` (the flow's questions, in order), then
    ``finished``. Without ``step_order`` the steps are sorted by how many reached them; steps
    missing from it (say, removed from the flow) are left out.

    Counts are anonymous, so who stopped where cannot be traced. When the stats also carry
    ``steps_answered`` (step -> times answered), a row's drop-off is exact: reached but never
    answered. Otherwise it is estimated as the row's count minus the largest count of any later
    row: exact for a straight flow, and a question asked of only some people (a branch) does
    not make the question before it look like a cliff; people sent to an early outcome count
    as going no further.
    """
    reached = stats.steps
    answered: Mapping[str, int] | None = getattr(stats, "steps_answered", None)
    order = (
        list(step_order)
        if step_order is not None
        else sorted(reached, key=lambda step: (-reached[step], step))
    )
    counts = [reached.get(step, 0) for step in order]
    rows = []
    for index, (step, count) in enumerate(zip(order, counts, strict=True)):
        if answered is not None:
            dropped = count - answered.get(step, 0)
        else:
            dropped = count - max([*counts[index + 1 :], stats.completed])
        rows.append(FunnelRow(step, count, max(0, dropped)))
    rows.append(FunnelRow(FINISHED, stats.completed, 0))
    return rows


def biggest_drop(rows: Sequence[FunnelRow]) -> FunnelRow | None:
    """The row where most conversations went no further (the earliest on a tie), if any."""
    worst = max(rows, key=lambda row: row.dropped, default=None)
    return worst if worst is not None and worst.dropped > 0 else None


def _percent(part: int, whole: int) -> str:
    return f"{round(100 * part / whole)}%" if whole else "-"


def _ranked(counts: Mapping[str, int]) -> list[tuple[str, int]]:
    """Largest first, then by name, so the same numbers always read the same way."""
    return sorted(counts.items(), key=lambda item: (-item[1], item[0]))


def format_stats_text(
    stats: FlowStats, days: int, *, step_order: Sequence[str] | None = None
) -> str:
    """Plain text for the Telegram message (no markup, so nothing needs escaping)."""
    period = "the last day" if days == 1 else f"the last {days} days"
    if stats.started == 0:
        return f"No conversations were started in {period}."
    lines = [
        f"Conversations in {period}",
        f"Started: {stats.started}",
        f"Completed: {stats.completed} ({_percent(stats.completed, stats.started)})",
    ]
    if stats.outcomes:
        lines += ["", "Outcomes:"]
        lines += [f"  {name}: {count}" for name, count in _ranked(stats.outcomes)]
    if stats.sources:
        lines += ["", "Sources:"]
        ranked = _ranked(stats.sources)
        lines += [f"  {name}: {count}" for name, count in ranked[:TOP_SOURCES]]
        rest = ranked[TOP_SOURCES:]
        if rest:
            lines.append(f"  other ({len(rest)} sources): {sum(count for _, count in rest)}")
    worst = biggest_drop(funnel(stats, step_order))
    if worst is not None:
        lines += [
            "",
            f"Biggest drop-off: at {worst.step}, {worst.dropped} of {worst.reached} "
            f"({_percent(worst.dropped, worst.reached)}) went no further.",
        ]
    return "\n".join(lines)


def render_stats_png(
    stats: FlowStats, *, title: str, step_order: Sequence[str] | None = None
) -> bytes:
    """A PNG for a phone: the funnel of steps on top, the outcomes below. The same numbers
    give the same bytes (fixed font, size and no timestamp in the file)."""
    from matplotlib import style
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    rows = funnel(stats, step_order)
    outcomes = _ranked(stats.outcomes)
    funnel_rows, outcome_rows = len(rows), max(1, len(outcomes))
    height = 1.6 + _ROW_INCHES * (funnel_rows + outcome_rows) + 1.2

    # matplotlib's defaults plus ours, so a matplotlibrc on the server cannot change the picture.
    with style.context(["default", _STYLE]):
        figure = Figure(figsize=(_WIDTH_INCHES, height), dpi=_DPI, layout="constrained")
        FigureCanvasAgg(figure)
        figure.suptitle(f"{title}\n{_summary(stats)}", fontsize=15)
        top, bottom = figure.subplots(2, 1, height_ratios=[funnel_rows + 0.8, outcome_rows + 0.8])
        _draw_funnel(top, rows)
        _draw_outcomes(bottom, outcomes)
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png", metadata={"Software": None})
    return buffer.getvalue()


def _summary(stats: FlowStats) -> str:
    if stats.started == 0:
        return "No conversations in this period"
    completion = _percent(stats.completed, stats.started)
    return f"{stats.started} started, {stats.completed} completed ({completion})"


def _draw_funnel(axes: Axes, rows: Sequence[FunnelRow]) -> None:
    worst = biggest_drop(rows)
    labels = [row.step for row in rows]
    values = [row.reached for row in rows]
    colours = [_BIGGEST_DROP if row is worst else _BAR for row in rows]
    positions = range(len(rows))
    axes.barh(positions, values, color=colours, height=0.7)
    axes.set_yticks(positions, labels)
    axes.invert_yaxis()  # flow order reads top to bottom
    axes.set_title("Reached each step (−n: went no further)", fontsize=13, loc="left")
    peak = max(values, default=0) or 1
    axes.set_xlim(0, peak * 1.35)  # room for the labels at the end of the bars
    axes.xaxis.set_visible(False)
    axes.spines["bottom"].set_visible(False)
    for position, row in zip(positions, rows, strict=True):
        note = f"{row.reached}" + (f"  −{row.dropped}" if row.dropped else "")
        axes.text(row.reached + peak * 0.02, position, note, va="center", fontsize=12)


def _draw_outcomes(axes: Axes, outcomes: Sequence[tuple[str, int]]) -> None:
    axes.set_title("Outcomes", fontsize=13, loc="left")
    axes.xaxis.set_visible(False)
    axes.spines["bottom"].set_visible(False)
    if not outcomes:
        axes.set_yticks([])
        axes.spines["left"].set_visible(False)
        axes.text(0.5, 0.5, "No outcomes yet", ha="center", va="center", transform=axes.transAxes)
        return
    positions = range(len(outcomes))
    values = [count for _, count in outcomes]
    axes.barh(positions, values, color=_OUTCOME, height=0.7)
    axes.set_yticks(positions, [name for name, _ in outcomes])
    axes.invert_yaxis()
    peak = max(values) or 1
    axes.set_xlim(0, peak * 1.35)
    for position, count in zip(positions, values, strict=True):
        axes.text(count + peak * 0.02, position, str(count), va="center", fontsize=12)
