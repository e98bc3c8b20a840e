"""Start to first poll: how long ``triage-bot run`` takes until it asks for updates.

A tiny fake Bot API (HTTP on 127.0.0.1, a free port; no network) answers every call with a
valid result and notes the time of the first ``getUpdates``. The bot is started as a real
subprocess with ``TELEGRAM_API_BASE_URL`` pointing at it, exactly as a practice would start it,
and the clock runs from just before the process is spawned (so it includes the interpreter,
the imports, settings, opening and migrating the database, loading and compiling the flow and
the Bot API calls made before polling). The process is then stopped with SIGTERM.

    .venv/bin/python bench/startup_bench.py [--runs 5] [--database FILE] [--out results.jsonl]

``--database FILE`` starts against a copy of an existing database (e.g. the 100k pre-filled
one from bench/prefill.py); without it every run starts on a fresh, empty database.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BOT_ID = 123456
TOKEN = f"{BOT_ID}:AAbench-bench-bench-bench-bench-bench"
BOT_USER = {
    "id": BOT_ID,
    "is_bot": True,
    "first_name": "Bench Bot",
    "username": "bench_triage_bot",
    "can_join_groups": True,
    "can_read_all_group_messages": False,
    "supports_inline_queries": False,
}


class FakeBotAPI(ThreadingHTTPServer):
    """Answers Bot API calls; remembers which calls came before the first ``getUpdates``."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.first_poll = threading.Event()
        self.first_poll_at: float | None = None
        self.calls: list[str] = []
        self.lock = threading.Lock()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/bot"

    def reset(self) -> None:
        with self.lock:
            self.first_poll.clear()
            self.first_poll_at = None
            self.calls = []

    def result_for(self, method: str) -> Any:
        name = method.lower()
        if name == "getme":
            return BOT_USER
        if name == "getupdates":
            return []
        if name in ("getmycommands",):
            return []
        if name == "getwebhookinfo":
            return {"url": "", "has_custom_certificate": False, "pending_update_count": 0}
        if name.startswith(("send", "edit")):
            return {
                "message_id": 1,
                "date": int(time.time()),
                "chat": {"id": 1, "type": "private"},
                "from": BOT_USER,
                "text": "",
            }
        return True


class _Handler(BaseHTTPRequestHandler):
    server: FakeBotAPI

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        method = self.path.rstrip("/").rsplit("/", 1)[-1].split("?", 1)[0]
        api = self.server
        with api.lock:
            if method.lower() == "getupdates" and api.first_poll_at is None:
                api.first_poll_at = time.perf_counter()
                api.first_poll.set()
            if api.first_poll_at is None:
                api.calls.append(method)
        if method.lower() == "getupdates":
            time.sleep(0.2)  # a short long-poll, so a polling bot does not spin
        body = json.dumps({"ok": True, "result": api.result_for(method)}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        # the bot may be stopped during its long poll: then nobody is left to answer
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            self.wfile.write(body)

    do_POST = _answer
    do_GET = _answer

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        return


def bot_command() -> list[str]:
    script = Path(sys.executable).with_name("triage-bot")
    if script.exists():
        return [str(script), "run"]
    return [sys.executable, "-m", "bot", "run"]


def one_start(api: FakeBotAPI, database: Path, workdir: Path, timeout: float) -> float:
    """Seconds from spawning ``triage-bot run`` to its first ``getUpdates``."""
    api.reset()
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("TELEGRAM_", "WEBHOOK_", "DATABASE_", "FLOW_", "BOT_"))
    }
    env.update(
        TELEGRAM_BOT_TOKEN=TOKEN,
        TELEGRAM_API_BASE_URL=api.base_url,
        DATABASE_PATH=str(database),
        FLOW_FILE=str(ROOT / "flows" / "sciatica.yaml"),
        BOOKING_URL="https://example.com/book",
        BOT_USERNAME="bench_triage_bot",
        LOG_LEVEL="WARNING",
    )
    log = (workdir / "bot.log").open("ab")
    t0 = time.perf_counter()
    # cwd is an empty folder, so no developer .env is read
    process = subprocess.Popen(bot_command(), cwd=workdir, env=env, stdout=log, stderr=log)
    try:
        if not api.first_poll.wait(timeout):
            code = process.poll()
            raise RuntimeError(
                f"no getUpdates within {timeout} s (exit code {code}); see {workdir / 'bot.log'}"
            )
        assert api.first_poll_at is not None
        return api.first_poll_at - t0
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)
        log.close()


def import_floor_s(runs: int) -> float:
    """Python start + ``import telegram.ext`` alone: what any PTB bot pays before its own code."""
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-c", "import telegram.ext"], check=True)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--database", type=Path, help="start against a copy of this database")
    parser.add_argument("--label", help="name of the database in the report")
    parser.add_argument("--timeout", type=float, default=30.0)
    parser.add_argument("--out", type=Path, help="append the JSON line here")
    args = parser.parse_args(argv)

    api = FakeBotAPI()
    threading.Thread(target=api.serve_forever, daemon=True).start()
    times: list[float] = []
    calls: list[str] = []
    try:
        with tempfile.TemporaryDirectory(prefix="startbench-") as tmp:
            workdir = Path(tmp)
            for run in range(args.runs):
                database = workdir / f"run{run}" / "triage.db"
                database.parent.mkdir()
                if args.database is not None:
                    shutil.copyfile(args.database, database)
                times.append(one_start(api, database, workdir, args.timeout))
                calls = list(api.calls)
                if args.database is not None:
                    database.unlink()
    finally:
        api.shutdown()
    row = {
        "kind": "startup",
        "database": args.label
        or ("copy of " + args.database.name if args.database else "new, empty"),
        "seconds": times,
        "median_s": statistics.median(times),
        "calls_before_first_poll": calls,
        "python_and_ptb_import_s": import_floor_s(3),
    }
    print(json.dumps(row))
    if args.out:
        with args.out.open("a", encoding="utf-8") as fh:
            fh.write(json.dumps(row) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
