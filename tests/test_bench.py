"""The benchmarks' inputs stay valid as the flow and the loader change (no timing here)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from bench.gen_flow import generate
from bench.report import flow_tables, product_tables, targets_table
from bot.engine import Action, Choose, Done, Engine, Number, Text, Toggle
from bot.flow import check_flow, load_compiled

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize(("steps", "seed"), [(20, 1), (200, 1), (200, 2)])
def test_generated_flow_is_valid_with_the_asked_number_of_steps(
    tmp_path: Path, steps: int, seed: int
) -> None:
    path = tmp_path / "generated.yaml"
    path.write_text(generate(steps, seed), encoding="utf-8")
    assert check_flow(path) == []
    flow = load_compiled(path).flow
    assert len(flow.steps) == steps
    kinds = {step.kind.value for step in flow.steps.values()}
    assert kinds == {"message", "choice", "multi", "number", "outcome"}


def test_product_walk_reaches_a_booking_outcome_by_button_labels() -> None:
    """bench/flow_product.json presses the default flow's buttons by label, as the shared
    harness does, and ends where the booking link is offered."""
    walk = json.loads((ROOT / "bench" / "flow_product.json").read_text(encoding="utf-8"))
    engine = Engine(load_compiled(ROOT / "flows" / "sciatica.yaml"), {"booking_url": "https://x"})
    for choice in range(3):  # each alternative of every step, in turn
        result = engine.start(language="en")
        for step in walk["steps"]:
            if step["name"] == "consent":  # the bot's question before the flow, not the flow's
                continue
            if "type" in step:
                result = engine.handle(result.session, Text(step["type"]))
                assert result.accepted, step["name"]
                continue
            buttons = [b for reply in result.replies for b in reply.buttons]
            pattern = re.compile(step["press"][choice % len(step["press"])], re.IGNORECASE)
            pressed = next(b for b in buttons if pattern.search(b.label))
            message = {
                Action.CHOOSE: lambda b: Choose(b.step, b.value),
                Action.TOGGLE: lambda b: Toggle(b.step, b.value),
                Action.DONE: lambda b: Done(b.step),
                Action.NUMBER: lambda b: Number(b.step, int(b.value)),
            }[pressed.action](pressed)
            result = engine.handle(result.session, message)
            assert result.accepted, step["name"]
        last = result.replies[-1]
        assert last.outcome == "likely_piriformis"
        assert last.link is not None and re.search(walk["done_pattern"], last.link.url)


def test_report_tables_show_ratios_and_verdicts() -> None:
    run = {"updates": 7000, "live_chats": 1000, "p50_us": 300.0, "p99_us": 900.0}
    run |= {"max_us": 5000.0, "api_calls_per_update": 2.0, "peak_rss_mb": 50.0}
    rows = [
        {**run, "bot": "anchor/pickle", "stored_before": 0, "updates_per_s": 3000.0},
        {**run, "bot": "product", "stored_before": 0, "updates_per_s": 1500.0},
        {**run, "bot": "product", "stored_before": 99000, "updates_per_s": 1400.0},
        {"kind": "flow_load", "flow": "generated_200", "steps": 200, "bytes": 80_000}
        | {"repeats": 5, "yaml_load_ms": 9.0, "load_flow_ms": 60.0, "compile_flow_ms": 1.0}
        | {"load_and_compile_ms": 61.0},
    ]
    targets = targets_table(rows)
    assert "| 2.00× (1,500 vs 3,000 upd/s) | **missed** |" in targets
    assert "| 61.0 ms | **met** |" in targets
    assert "| 1,000 (1,000) | product | 7,000 | 1,500 | 2.00 |" in product_tables(rows)
    assert "| generated_200 | 200 |" in flow_tables(rows)
