"""The benchmarks' inputs and harness keep working as the flow, the loader and the bot change.

Nothing here asserts a time: the harness tests walk a few chats through the floor, the anchor
and the product with the in-process Bot API, and check what was counted and shown.
"""

from __future__ import annotations

import asyncio
import json
import re
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from telegram import Update

from bench import prefill
from bench.breakdown import wal_pages, wal_table
from bench.gen_flow import generate
from bench.harness import cli
from bench.harness.baselines import (
    SEEDED_FIRST_CHAT_ID,
    build_anchor,
    build_anchor_from_environment,
    build_floor,
    seed_store,
)
from bench.harness.driver import (
    ANCHOR_WALK,
    FIRST_CHAT_ID,
    FIRST_UPDATE_ID,
    Tally,
    Walk,
    build_app,
    close_app,
    drive,
    first_ids,
    open_app,
)
from bench.harness.fake_request import TOKEN, FakeRequest, InProcessBotAPI
from bench.report import combine, flow_tables, processes_table, product_tables, targets_table
from bot.app import build_application
from bot.config import Settings, load_settings
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
    """bench/flow_product.json presses the default flow's buttons by label, as bench/harness
    does, and ends where the booking link is offered."""
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
    rows += [
        {**run, "bot": "anchor/pickle", "stored_before": 0, "updates_per_s": 2800.0}
        | {"concurrency": 16},
        {**run, "bot": "product", "stored_before": 0, "updates_per_s": 2000.0}
        | {"concurrency": 16},
    ]
    targets = targets_table(rows)
    assert "one update at a time | 2.00× (1,500 vs 3,000 upd/s) | **missed** |" in targets
    assert "16 updates in flight | 1.40× (2,000 vs 2,800 upd/s) | **met** |" in targets
    assert "| 61.0 ms | **met** |" in targets
    tables = product_tables(rows)
    assert "| 1,000 (1,000) | 1 | product | 7,000 | 1,500 | 2.00 |" in tables
    assert "| 1,000 (1,000) | 16 | product | 7,000 | 2,000 | 1.40 |" in tables
    assert "| generated_200 | 200 |" in flow_tables(rows)


def test_wal_pages_counts_each_commits_pages_by_the_table_or_index_they_belong_to(
    tmp_path: Path,
) -> None:
    database = tmp_path / "wal.db"
    conn = sqlite3.connect(database, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA wal_autocheckpoint = 0")  # keep every frame in the log
    conn.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, word TEXT)")
    conn.execute("CREATE INDEX notes_by_word ON notes (word)")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # the log starts with the three commits
    for word in ("alpha", "beta", "gamma"):
        conn.execute("INSERT INTO notes (word) VALUES (?)", (word,))

    wal = wal_pages(database)
    conn.close()

    assert wal["commits"] == 3
    assert wal["pages_per_commit"] == {"notes": 1.0, "notes_by_word": 1.0}
    assert "| notes_by_word | 1.00 |" in wal_table(wal)


def test_two_processes_are_combined_over_their_shared_wall_time() -> None:
    """bench/pg_bench.sh: two harness processes on one database become one line, all their
    updates over the time from the first one's start to the last one's end."""
    part = {"live_chats": 500, "updates": 6500, "p50_us": 4000.0, "p99_us": 9000.0}
    part |= {"api_calls_per_update": 2.62, "peak_rss_mb": 150.0, "concurrency": 1}
    parts = [
        {**part, "began_at": 100.0, "ended_at": 150.0, "wall_s": 50.0, "e2e_updates_per_s": 130.0},
        {**part, "began_at": 101.0, "ended_at": 152.0, "wall_s": 51.0, "e2e_updates_per_s": 127.5},
    ]
    line = combine(parts, {"bot": "product (PostgreSQL)", "against_in_flight": 1})
    assert (line["kind"], line["processes"], line["updates"], line["live_chats"]) == (
        "processes",
        2,
        13000,
        1000,
    )
    assert (line["wall_s"], line["overlap_s"], line["updates_per_s_wall"]) == (52.0, 49.0, 250.0)
    one = {**part, "live_chats": 1000, "updates": 13000, "wall_s": 65.0}
    one |= {"e2e_updates_per_s": 200.0, "updates_per_s": 220.0, "max_us": 1e5}
    one |= {"bot": "product (PostgreSQL)", "stored_before": 0}
    table = processes_table([one, line])
    assert "| product (PostgreSQL) | 1 × 1 | 1 | 13,000 | 65.0 | 200 | 1.00 |" in table
    assert "| product (PostgreSQL) | 2 × 1 | 2 | 13,000 | 52.0 | 250 | 1.25 | 130, 128 |" in table


# --- bench/harness ---------------------------------------------------------------------------

LIMIT_S = 30.0  # no harness test may hang: each walk stops sending updates by then


async def _walk(
    factory: Any,
    chats: int,
    *,
    walk: Path = ANCHOR_WALK,
    scripted: bool = False,
    extra: dict[str, Any] | None = None,
    inflight: int = 1000,
    concurrency: int = 1,
    chat_offset: int = 0,
) -> tuple[Tally, InProcessBotAPI, dict[str, Any]]:
    api = InProcessBotAPI(capture=not scripted)
    app, how = await build_app(factory, api, extra)
    await asyncio.wait_for(open_app(app), LIMIT_S)
    try:
        tally = await asyncio.wait_for(
            drive(
                app,
                api,
                Walk.load(walk),
                chats,
                scripted=scripted,
                inflight=inflight,
                time_limit_s=LIMIT_S,
                concurrency=concurrency,
                chat_offset=chat_offset,
            ),
            LIMIT_S + 10,
        )
        state = {"how": how, "user_data": dict(app.user_data), "app": app}
    finally:
        await asyncio.wait_for(close_app(app), LIMIT_S)
    return tally, api, state


async def test_floor_answers_every_update_of_five_chats_with_one_message() -> None:
    tally, _, state = await _walk(build_floor, 5, scripted=True)
    assert (tally.completed, tally.failed, tally.errors) == (5, 0, 0), tally.failures
    assert tally.updates == 5 * 7
    assert tally.calls == {"sendMessage": 35}
    assert state["how"] == "request="
    assert state["user_data"] == {}  # the floor keeps nothing per chat


@pytest.mark.parametrize("persistence", ["none", "pickle"])
async def test_anchor_walks_five_chats_by_label_to_the_booking_button(
    tmp_path: Path, persistence: str
) -> None:
    tally, _, state = await _walk(
        build_anchor, 5, extra={"persistence": persistence, "data_dir": str(tmp_path)}, inflight=2
    )
    assert (tally.completed, tally.failed, tally.errors) == (5, 0, 0), tally.failures
    assert tally.updates == 5 * 7
    # /start and the suggestion are sent; each press is answered and its question edited
    assert tally.calls == {"sendMessage": 10, "answerCallbackQuery": 30, "editMessageText": 30}
    answers = state["user_data"][FIRST_CHAT_ID]
    assert answers["where"] in {"buttock", "lower_back", "thigh", "hip"}
    assert (answers["saddle"], answers["bladder"]) == ("no", "no")
    if persistence == "pickle":
        assert (tmp_path / "anchor.pickle").stat().st_size > 0  # written at shutdown


async def test_anchor_loads_stored_conversations_and_a_stored_chat_can_go_on(
    tmp_path: Path,
) -> None:
    stored = seed_store(40, mid_flow=0.5)
    assert stored["conversations"]  # some stopped at a question
    api = InProcessBotAPI()
    app, _ = await build_app(
        build_anchor, api, {"persistence": "pickle", "data_dir": str(tmp_path), "stored": stored}
    )
    await asyncio.wait_for(open_app(app), LIMIT_S)
    try:
        assert len(app.user_data) == 40
        (chat_id, _), state = next(iter(stored["conversations"].items()))
        assert chat_id >= SEEDED_FIRST_CHAT_ID
        keys = ("where", "leg", "strength", "saddle", "bladder", "sitting")
        key = keys[state]
        press = {
            "update_id": 1,
            "callback_query": {
                "id": "q1",
                "chat_instance": "1",
                "from": {"id": chat_id, "is_bot": False, "first_name": "Seeded"},
                "data": f"{key}=no" if key in ("saddle", "bladder") else f"{key}=1",
                "message": {
                    "message_id": 9,
                    "date": 0,
                    "chat": {"id": chat_id, "type": "private"},
                    "text": "a question",
                },
            },
        }
        await app.process_update(Update.de_json(press, app.bot))
        assert api.calls["answerCallbackQuery"] == 1 and api.calls["editMessageText"] == 1
    finally:
        await asyncio.wait_for(close_app(app), LIMIT_S)


async def test_a_factory_without_request_gets_the_fake_as_its_default_transport(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", TOKEN)
    tally, _, state = await _walk(build_anchor_from_environment, 3)
    assert state["how"] == "default transport"
    assert tally.completed == 3, tally.failures


def product_settings(tmp_path: Path) -> Settings:
    """The product's settings for a walk: a database in ``tmp_path``, the default flow."""
    return load_settings(
        {
            "TELEGRAM_BOT_TOKEN": TOKEN,
            "DATABASE_PATH": str(tmp_path / "triage.db"),
            "FLOW_FILE": str(ROOT / "flows" / "sciatica.yaml"),
            "BOOKING_URL": "https://example.com/book",
            "LOG_LEVEL": "WARNING",
        },
        env_file=None,
    )


async def test_the_product_factory_completes_three_chats(tmp_path: Path) -> None:
    settings = product_settings(tmp_path)
    tally, api, state = await _walk(
        build_application,
        3,
        walk=ROOT / "bench" / "flow_product.json",
        extra={"settings": settings},
    )
    assert (tally.completed, tally.failed, tally.errors) == (3, 0, 0), tally.failures
    assert state["how"] == "request="
    walk = Walk.load(ROOT / "bench" / "flow_product.json")
    assert tally.updates == 3 * walk.updates_per_chat
    assert api.screens == {}  # each finished chat's screen is dropped


async def test_the_product_walks_several_chats_at_once(tmp_path: Path) -> None:
    """Updates of different chats in flight together (group commit has writes to share); each
    chat's own updates still one at a time, in order, so every walk completes."""
    settings = product_settings(tmp_path)
    tally, _, _ = await _walk(
        build_application,
        6,
        walk=ROOT / "bench" / "flow_product.json",
        extra={"settings": settings},
        concurrency=3,
    )
    assert (tally.completed, tally.failed, tally.errors) == (6, 0, 0), tally.failures
    walk = Walk.load(ROOT / "bench" / "flow_product.json")
    assert tally.updates == 6 * walk.updates_per_chat
    assert tally.summary()["concurrency"] == 3


@pytest.mark.parametrize("concurrency", [1, 2])
async def test_runs_with_chat_offsets_share_one_database_without_sharing_chats_or_updates(
    tmp_path: Path, concurrency: int
) -> None:
    """As two processes on one database do (bench/pg_bench.sh): the second run's chats and
    update ids follow the first's, so none of its updates is taken for one already applied
    and every walk completes on the same database."""
    settings = product_settings(tmp_path)
    walk = ROOT / "bench" / "flow_product.json"
    for offset in (0, 3):
        tally, _, _ = await _walk(
            build_application,
            3,
            walk=walk,
            extra={"settings": settings},
            concurrency=concurrency,
            chat_offset=offset,
        )
        assert (tally.completed, tally.failed, tally.errors) == (3, 0, 0), tally.failures
        summary = tally.summary()
        assert 0 < summary["began_at"] <= summary["ended_at"]
    per_chat = Walk.load(walk).updates_per_chat
    assert first_ids(Walk.load(walk), 3) == (FIRST_CHAT_ID + 3, FIRST_UPDATE_ID + 3 * per_chat)


async def test_a_walk_whose_labels_do_not_match_fails_and_says_what_it_saw(
    tmp_path: Path,
) -> None:
    raw = json.loads(ANCHOR_WALK.read_text(encoding="utf-8"))
    raw["steps"][1]["press"] = ["no such label"]
    wrong = tmp_path / "wrong.json"
    wrong.write_text(json.dumps(raw), encoding="utf-8")
    tally, _, _ = await _walk(build_anchor, 2, walk=wrong)
    assert (tally.completed, tally.failed) == (0, 2)
    assert "no label matches" in tally.failures[0] and "below the knee" in tally.failures[0]
    assert tally.summary()["failure_examples"]


async def test_the_fake_answers_like_telegram() -> None:
    api = InProcessBotAPI()
    sent = api.answer(
        "sendMessage",
        {
            "chat_id": 42,
            "text": "Pick one",
            "reply_markup": {
                "inline_keyboard": [
                    [
                        {"text": "A", "callback_data": "a"},
                        {"text": "Site", "url": "https://x.example"},
                    ]
                ]
            },
        },
    )
    assert sent["chat"]["id"] == 42 and sent["text"] == "Pick one"
    assert api.lowest_pressable(42).message_id == sent["message_id"]  # type: ignore[union-attr]
    edited = api.answer("editMessageReplyMarkup", {"chat_id": 42, "message_id": sent["message_id"]})
    assert edited["text"] == "Pick one" and "reply_markup" not in edited  # buttons removed
    assert api.lowest_pressable(42) is None
    assert [s.text for s in api.take_touched(42)] == ["Pick one"]
    assert api.answer("editMessageText", {"inline_message_id": "x", "text": "t"}) is True
    assert api.answer("answerCallbackQuery", {"callback_query_id": "1"}) is True
    assert api.answer("getMe", {})["is_bot"] is True
    assert api.answer("getUpdates", {}) == []

    request = FakeRequest(api)
    code, body = await request.do_request("https://api.telegram.org/botT/setMyCommands", "POST")
    assert code == 200 and json.loads(body) == {"ok": True, "result": True}
    assert api.calls["setMyCommands"] == 1


def test_run_prints_one_json_line_with_what_the_report_reads(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "runs.jsonl"
    args = ["run", "--variant", "anchor", "--persistence", "pickle", "--chats", "5"]
    assert cli.main([*args, "--seed-chats", "20", "--time-limit", "30", "--out", str(out)]) == 0
    row = json.loads(capsys.readouterr().out.strip())
    assert json.loads(out.read_text(encoding="utf-8")) == row
    assert row["label"] == "anchor/pickle" and row["completed"] == 5
    assert (row["live_chats"], row["seeded_chats"], row["updates"]) == (5, 20, 35)
    assert row["update_persistence_file_writes"] > 0 and row["file_bytes"] > 0
    for key in ("updates_per_s", "p50_us", "p90_us", "p99_us", "max_us", "peak_rss_mb"):
        assert row[key] > 0, key
    assert row["api_calls_per_update"] == 2.0 and row["machine"]
    assert product_tables([{**row, "bot": "anchor/pickle", "stored_before": 20}])


def test_run_refuses_stored_conversations_for_the_product() -> None:
    with pytest.raises(SystemExit, match="pre-fill"):
        cli.main(["run", "--variant", "product", "--seed-chats", "10"])


def test_prefilled_conversations_never_collide_with_live_ones() -> None:
    assert prefill.FIRST_CHAT_ID + 1_000_000 < FIRST_CHAT_ID
    assert prefill.LAST_UPDATE_ID < FIRST_UPDATE_ID
