"""Posting updates to a bot's webhook the way Telegram does (loopback only)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

from tests.support.records import JSON

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


def post_update(url: str, update: JSON, secret_token: str | None, timeout: float = 10.0) -> int:
    """POST one update; returns the HTTP status (403 for a wrong secret, 200 when accepted)."""
    headers = {"Content-Type": "application/json"}
    if secret_token is not None:
        headers[SECRET_HEADER] = secret_token
    request = urllib.request.Request(
        url, data=json.dumps(update).encode("utf-8"), headers=headers, method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return int(error.code)
