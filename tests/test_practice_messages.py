"""The practice's HTML messages stay within Telegram's limits and stay valid HTML when long:
a lead card of a flow with very many questions, and a flow file with very many errors."""

from __future__ import annotations

from bot.flow import Problem
from bot.storage import NewLead
from bot.telegram import render
from bot.telegram.practice.flows import FlowCheck, Verdict, describe
from bot.telegram.practice.leads import lead_card
from tests.support.records import html_problem


def test_a_long_card_drops_whole_answers_and_stays_valid() -> None:
    summary = {f"question_{n}": f"answer <{n}> & more " * 5 for n in range(200)}
    lead = NewLead(
        chat_id=42,
        name="<b>Ann</b>",
        username="ann",
        summary=summary,
        outcome="likely_piriformis",
        reasons=("the pain is deep in one buttock",),
        source="website",
    )
    card = lead_card(lead, "en", 0.0)
    assert len(card) <= render.MAX_TEXT
    assert html_problem(card) is None
    assert "• Question 0: answer &lt;0&gt; &amp; more" in card  # the first answers stay
    assert "more (/export has them all)" in card
    assert card.endswith("Reply by tapping the name or the @username.")


def test_very_many_flow_errors_fit_one_message() -> None:
    problems = tuple(
        Problem(
            file="flows/x.yaml",
            line=n,
            column=5,
            message=f"'step_{n}' is not a step in this flow <{n}>.",
            hint="Did you mean 'step'?",
            excerpt=f"    next: step_{n} & <more>",
        )
        for n in range(1, 300)
    )
    text = describe(FlowCheck(Verdict.BROKEN, "flows/x.yaml", "d", "1-abc", problems))
    assert len(text) <= render.MAX_TEXT
    assert html_problem(text) is None
    assert "flows/x.yaml:1:5" in text and "&lt;1&gt;" in text
    assert "more: run triage-bot flows check to see all" in text
