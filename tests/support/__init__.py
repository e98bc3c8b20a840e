"""Test support: a fake Telegram Bot API server and a person to talk to the bot through it.

    from tests.support import FAKE_TOKEN, FakeBotApi

    with FakeBotApi(username="triage_test_bot") as fake:
        app = build_application(settings_with(base_url=fake.base_url, token=FAKE_TOKEN))
        person = fake.user(1001)
        person.start()
        person.wait_for_button_sync("buttock")

Modules: fake_botapi (the server: state, faults, waiting), botapi_methods (Telegram's
semantics per method), http_server (HTTP plumbing), driver (FakeUser), updates (update JSON
builders), records (Call, ChatMessage, Button, UploadedFile), webhook (post_update),
botprocess (``python -m bot run`` as a subprocess, kill -9), conversation (walking the
default flow to each outcome).
"""

from tests.support import updates
from tests.support.driver import FakeUser, option_of, step_of
from tests.support.fake_botapi import FAKE_BOT_ID, FAKE_TOKEN, ApiError, FakeBotApi
from tests.support.records import Button, Call, ChatMessage, UploadedFile
from tests.support.webhook import SECRET_HEADER, post_update

__all__ = [
    "FAKE_BOT_ID",
    "FAKE_TOKEN",
    "SECRET_HEADER",
    "ApiError",
    "Button",
    "Call",
    "ChatMessage",
    "FakeBotApi",
    "FakeUser",
    "UploadedFile",
    "option_of",
    "post_update",
    "step_of",
    "updates",
]
