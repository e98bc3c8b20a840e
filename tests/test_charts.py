"""The /stats answer: the funnel arithmetic, the text, and the chart image."""

from __future__ import annotations

import io
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from PIL import Image

from bot.charts import (
    FINISHED,
    FunnelRow,
    Words,
    biggest_drop,
    format_stats_text,
    funnel,
    render_stats_png,
    shorten,
    title_of,
)
from bot.storage.records import PainScores, Stats

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
ORDER = ["emergency_flags", "age", "first_episode", "doctor_flags", "location", "severity"]


def month() -> Stats:
    return Stats(
        since=0.0,
        started=120,
        completed=84,
        outcomes={
            "non_specific": 40,
            "see_doctor_soon": 30,
            "emergency": 6,
            "likely_piriformis": 8,
        },
        sources={"website": 70, "direct": 30, "flyer": 20},
        steps={
            "emergency_flags": 118,
            "age": 108,
            "first_episode": 31,  # asked of some ages only: a branch, not a drop-off
            "doctor_flags": 105,
            "location": 76,
            "severity": 74,
        },
    )


# -- the funnel -----------------------------------------------------------------------------


def test_funnel_follows_the_flow_order_and_ends_with_finished() -> None:
    rows = funnel(month(), ORDER)
    assert [row.step for row in rows] == [*ORDER, FINISHED]
    assert [row.reached for row in rows] == [118, 108, 31, 105, 76, 74, 84]


def test_drop_off_is_exact_for_a_straight_flow() -> None:
    stats = Stats(since=0, started=10, completed=4, steps={"a": 10, "b": 7, "c": 4})
    assert funnel(stats, ["a", "b", "c"]) == [
        FunnelRow("a", 10, 3),
        FunnelRow("b", 7, 3),
        FunnelRow("c", 4, 0),
        FunnelRow(FINISHED, 4, 0),
    ]


def test_a_branch_does_not_look_like_a_cliff() -> None:
    dropped = {row.step: row.dropped for row in funnel(month(), ORDER)}
    assert dropped["age"] == 108 - 105  # not 108 - 31: most people skip first_episode
    assert dropped["first_episode"] == 0
    assert dropped["doctor_flags"] == 105 - 84  # the most that went on: those who finished


def test_without_an_order_the_steps_are_sorted_by_count() -> None:
    rows = funnel(Stats(since=0, started=5, completed=1, steps={"b": 3, "a": 5, "c": 3}))
    assert [row.step for row in rows] == ["a", "b", "c", FINISHED]


def test_steps_not_in_the_order_are_left_out() -> None:
    stats = Stats(since=0, started=5, completed=1, steps={"a": 5, "removed": 4})
    assert [row.step for row in funnel(stats, ["a", "new"])] == ["a", "new", FINISHED]


@dataclass(frozen=True)
class StatsWithAnswers:
    started: int
    completed: int
    outcomes: Mapping[str, int] = field(default_factory=dict)
    sources: Mapping[str, int] = field(default_factory=dict)
    steps: Mapping[str, int] = field(default_factory=dict)
    steps_answered: Mapping[str, int] = field(default_factory=dict)


def test_answer_counts_make_the_drop_off_exact() -> None:
    # Of 10 at "flags", 4 went to an early outcome: they answered, so they did not drop off.
    stats = StatsWithAnswers(
        started=10,
        completed=9,
        steps={"flags": 10, "age": 6},
        steps_answered={"flags": 10, "age": 5},
    )
    assert funnel(stats, ["flags", "age"])[:2] == [
        FunnelRow("flags", 10, 0),
        FunnelRow("age", 6, 1),
    ]


def test_biggest_drop_is_the_earliest_largest_and_none_without_drops() -> None:
    rows = [FunnelRow("a", 10, 2), FunnelRow("b", 8, 5), FunnelRow("c", 3, 5)]
    assert biggest_drop(rows) == rows[1]
    assert biggest_drop([FunnelRow("a", 3, 0), FunnelRow(FINISHED, 3, 0)]) is None


# -- the text -------------------------------------------------------------------------------


def test_text_has_the_counts_outcomes_sources_and_the_biggest_drop() -> None:
    text = format_stats_text(month(), 30, step_order=ORDER)
    assert text.splitlines()[:3] == [
        "Conversations in the last 30 days",
        "Started: 120",
        "Completed: 84 (70%)",
    ]
    outcomes = text[text.index("Outcomes:") : text.index("Sources:")].split()
    assert outcomes[1:] == [
        "non_specific:", "40", "see_doctor_soon:", "30", "likely_piriformis:", "8",
        "emergency:", "6",
    ]  # fmt: skip
    assert "  website: 70\n  direct: 30\n  flyer: 20" in text
    assert text.endswith(
        "Biggest drop-off: at “doctor_flags”, 21 of 105 (20%) stopped there and have not "
        "answered for over a day."
    )


def test_text_for_a_quiet_period() -> None:
    empty = Stats(since=0, started=0, completed=0)
    assert format_stats_text(empty, 7) == "No conversations were started in the last 7 days."
    assert "last day" in format_stats_text(empty, 1)


def test_text_without_drop_offs_says_nothing_about_them() -> None:
    stats = Stats(since=0, started=3, completed=3, outcomes={"non_specific": 3}, steps={"a": 3})
    text = format_stats_text(stats, 7, step_order=["a"])
    assert "Completed: 3 (100%)" in text
    assert "drop-off" not in text


# -- the chart ------------------------------------------------------------------------------


def test_chart_is_a_tall_png_that_depends_on_the_data() -> None:
    first = render_stats_png(month(), title="Sciatica check: last 30 days", step_order=ORDER)
    again = render_stats_png(month(), title="Sciatica check: last 30 days", step_order=ORDER)
    changed = render_stats_png(
        replace(month(), outcomes={**month().outcomes, "emergency": 7}),
        title="Sciatica check: last 30 days",
        step_order=ORDER,
    )

    assert first.startswith(PNG_SIGNATURE)
    with Image.open(io.BytesIO(first)) as image:
        image.verify()
    with Image.open(io.BytesIO(first)) as image:
        assert image.height > image.width >= 800  # upright, for a phone
    assert again == first  # deterministic: same numbers, same bytes
    assert changed != first


def test_chart_for_no_data_still_renders() -> None:
    png = render_stats_png(Stats(since=0, started=0, completed=0), title="Last 7 days")
    with Image.open(io.BytesIO(png)) as image:
        image.verify()


def test_importing_charts_does_not_import_matplotlib() -> None:
    probe = "import sys, bot.charts; print('matplotlib' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60
    )
    assert result.stdout.strip() == "False"


# -- in the flow's own words ------------------------------------------------------------------

WORDS = Words(
    language="en",
    steps={
        "emergency_flags": "Do you have any of these?",
        "age": "How old are you?",
        "first_episode": "Is this the first time you've had pain like this?",
        "doctor_flags": "Do any of these apply to you?",
        "location": "Where is the pain worst?",
        "severity": "At its worst in the last 24 hours, how bad is the pain?",
    },
    outcomes={
        "non_specific": "Your answers fit the most common kind of back pain.",
        "see_doctor_soon": "Please see a doctor first.",
        "emergency": "Please get medical help now.",
        "likely_piriformis": "Your answers may involve the piriformis muscle.",
    },
    urgent=frozenset({"emergency"}),
)


def test_the_text_names_questions_and_outcomes_in_the_flows_words_never_ids() -> None:
    text = format_stats_text(month(), 30, step_order=ORDER, words=WORDS)
    assert "  Your answers fit the most common kind of back pain.: 40" in text
    assert "  ⚠️ Please get medical help now.: 6" in text  # urgent, marked
    assert "at “Do any of these apply to you?”, 21 of 105" in text
    for identifier in (*month().outcomes, "doctor_flags"):
        assert identifier not in text


def test_the_words_come_in_the_admins_language() -> None:
    spanish = Words(language="es", outcomes={"non_specific": "Tu dolor es el más común."})
    text = format_stats_text(month(), 7, step_order=ORDER, words=spanish)
    assert text.startswith("Conversaciones en los últimos 7 días\nEmpezadas: 120")
    assert "  Tu dolor es el más común.: 40" in text
    assert "  (ya no está en el cuestionario): 30" in text  # an outcome since removed: no id


def test_a_title_is_the_first_bold_part_or_line_shortened_at_a_word() -> None:
    assert title_of("🚨 **Please get medical help now.**\n\nWhat you told us ...") == (
        "Please get medical help now."
    )
    assert title_of("How old are you?\nType it.") == "How old are you?"
    assert shorten("At its worst in the last 24 hours, how bad is the pain?", 30) == (
        "At its worst in the last 24…"
    )


def test_drop_off_counts_only_conversations_idle_for_over_a_day() -> None:
    # 10 reached "age" this week; 2 are still answering (today), 3 stopped days ago.
    stats = replace(month(), idle={"age": 3, "location": 1})
    dropped = {row.step: row.dropped for row in funnel(stats, ORDER)}
    assert dropped == {**dict.fromkeys(ORDER, 0), "age": 3, "location": 1, FINISHED: 0}


def test_check_in_pain_scores_first_and_later() -> None:
    stats = replace(
        month(),
        pain=(PainScores(7, 3, 2), PainScores(5, 5, 1), PainScores(None, 2, 1)),
    )
    text = format_stats_text(stats, 30, step_order=ORDER, words=WORDS)
    assert text.endswith(
        "Check-ins answered: 4. Pain on average 6.3 at first, 3.2 at the check-in."
    )
    plain = render_stats_png(month(), title="t", step_order=ORDER, words=WORDS)
    with_pain = render_stats_png(stats, title="t", step_order=ORDER, words=WORDS)
    with Image.open(io.BytesIO(plain)) as small, Image.open(io.BytesIO(with_pain)) as tall:
        assert tall.height > small.height  # a panel of its own


def _reds(png: bytes) -> int:
    with Image.open(io.BytesIO(png)) as image:
        data = image.convert("RGB").tobytes()
    return sum(
        1 for i in range(0, len(data), 3) if data[i] > 180 and data[i + 1] < 70 and data[i + 2] < 70
    )


def test_urgent_outcomes_are_drawn_in_the_warning_colour() -> None:
    calm = Words(outcomes=WORDS.outcomes)
    assert _reds(render_stats_png(month(), title="t", words=calm)) == 0
    assert _reds(render_stats_png(month(), title="t", words=WORDS)) > 500
