"""``python -m tests.support.image_run IMAGE``: the container image against the fake Bot API.

Used by ``scripts/test-image`` once it has built the image. Starts the fake Bot API on the
host's 127.0.0.1, runs the image with ``--network=host`` (so the container reaches it), a fresh
named volume on /data and the repository's flows/ on /practice, then checks what the
deployment guide promises: the bot polls, one person walks a conversation to an outcome, the
image's HEALTHCHECK passes, ``triage-bot backup`` works inside the container, the logs are
JSON lines without the token, and ``podman stop`` (SIGTERM) ends it with exit code 0.
Prints each step with its time; exit code 0 when all held.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from tests.support import FAKE_TOKEN, FakeBotApi
from tests.support.conversation import PATHS, converse, wait_for_outcome

REPO = Path(__file__).resolve().parents[2]
OUTCOME = "likely_piriformis"
PODMAN = os.environ.get("PODMAN", "podman")
# Extra `podman run` options for machines where the defaults cannot run (scripts/test-image).
RUN_ARGS = os.environ.get("PODMAN_RUN_ARGS", "").split()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def podman(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run([PODMAN, *args], capture_output=True, text=True, check=check,
                          timeout=120)  # fmt: skip


class Steps:
    def __init__(self) -> None:
        self.start = time.monotonic()
        self.last = self.start

    def done(self, what: str) -> None:
        now = time.monotonic()
        print(f"  ok  {what:<58} {now - self.last:6.2f} s", flush=True)
        self.last = now


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m tests.support.image_run IMAGE", file=sys.stderr)
        return 2
    image = argv[0]
    name = f"triage-image-test-{os.getpid()}"
    volume = f"{name}-data"
    health_port = free_port()
    steps = Steps()
    podman("volume", "create", volume)
    with FakeBotApi() as fake, tempfile.TemporaryDirectory() as tmp:
        log_path = Path(tmp) / "container.log"
        command = [
            PODMAN, "run", *RUN_ARGS, "--name", name, "--network=host",
            "-e", f"TELEGRAM_BOT_TOKEN={FAKE_TOKEN}",
            "-e", f"TELEGRAM_API_BASE_URL={fake.base_url}",
            "-e", "BOOKING_URL=https://clinic.example/book",
            "-e", f"HEALTH_PORT={health_port}",
            "-v", f"{volume}:/data", "-v", f"{REPO / 'flows'}:/practice:ro",
            image,
        ]  # fmt: skip
        with log_path.open("wb") as log:
            container = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        try:
            return _check(fake, container, name, health_port, log_path, steps)
        finally:
            if container.poll() is None:
                podman("kill", name, check=False)
                container.wait(timeout=30)
            podman("rm", "--force", name, check=False)
            podman("volume", "rm", "--force", volume, check=False)
            print(f"  total {time.monotonic() - steps.start:.1f} s")


def _check(
    fake: FakeBotApi, container: subprocess.Popen[bytes], name: str, health_port: int,
    log_path: Path, steps: Steps,
) -> int:  # fmt: skip
    def output() -> str:
        """What the bot wrote (podman's own notes, e.g. about systemd timers for periodic
        health checks, go to ``log_path`` instead)."""
        logs = podman("logs", name, check=False)
        return logs.stdout + logs.stderr or log_path.read_text("utf-8", errors="replace")

    try:
        fake.wait_for_sync(lambda: fake.calls("getUpdates") or container.poll() is not None,
                           60, "the first poll")  # fmt: skip
    except AssertionError:
        print(output())
        raise
    if container.poll() is not None:
        print(f"the container ended at start:\n{output()}")
        return 1
    steps.done("container started, connected, polling")

    async def walk() -> None:
        person = fake.user(4242)
        await converse(person, PATHS[OUTCOME], timeout=30)
        await wait_for_outcome(person, OUTCOME, timeout=30)

    asyncio.run(walk())
    steps.done(f"one conversation walked to its outcome ({OUTCOME})")

    with urllib.request.urlopen(f"http://127.0.0.1:{health_port}/healthz", timeout=10) as got:
        assert got.status == 200, got.status
    health = podman("healthcheck", "run", name, check=False)
    assert health.returncode == 0, f"HEALTHCHECK failed: {health.stdout}{health.stderr}"
    steps.done("/healthz 200 and the image's HEALTHCHECK passes")

    backup = podman("exec", name, "triage-bot", "backup")
    assert "Backed up /data/triage.db to /data/backups/triage-" in backup.stdout, backup
    steps.done("triage-bot backup inside the container")

    stopped = podman("stop", "--time", "30", name)
    code = container.wait(timeout=60)
    assert stopped.returncode == 0 and code == 0, f"exit code {code}\n{output()}"
    steps.done("podman stop (SIGTERM): exit code 0")

    lines = [line for line in output().splitlines() if line.strip()]
    not_json = [line for line in lines if not line.startswith("{")]
    assert not not_json, "lines that are not JSON:\n" + "\n".join(not_json[:5])
    records = [json.loads(line) for line in lines]
    assert any(r["message"].startswith("Connected to the Bot API") for r in records)
    assert FAKE_TOKEN not in output() and FAKE_TOKEN.split(":")[1] not in output()
    assert not [r for r in records if r["logger"].startswith("transitions")]
    steps.done(f"{len(records)} log lines, all JSON, no token")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
