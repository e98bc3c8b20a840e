"""Reading a running bot's ``/healthz`` over real HTTP on 127.0.0.1."""

from __future__ import annotations

import asyncio
import urllib.error
import urllib.request
from collections.abc import Callable

HEALTH_TRIES = 400  # GETs at most while waiting for a state (about 20 s with their pauses)


def _get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return int(response.status), response.read().decode()
    except urllib.error.HTTPError as error:
        return int(error.code), error.read().decode()


async def healthz(port: int) -> tuple[int, str]:
    """GET /healthz from another thread (the server runs on the test's own event loop)."""
    return await asyncio.to_thread(_get, f"http://127.0.0.1:{port}/healthz")


async def healthz_until(
    port: int, wanted: Callable[[int, str], bool], what: str
) -> tuple[int, str]:
    """GET /healthz until ``wanted(status, body)``; a bounded number of tries."""
    status, body = await healthz(port)
    for _ in range(HEALTH_TRIES):
        if wanted(status, body):
            return status, body
        await asyncio.sleep(0.05)
        status, body = await healthz(port)
    raise AssertionError(f"/healthz never showed {what}: {status} {body!r}")
