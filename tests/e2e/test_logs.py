"""The bot token never appears in any log line, even at DEBUG and when things go wrong."""

from __future__ import annotations

from urllib.parse import quote

import pytest

from tests.support import FAKE_TOKEN, FakeBotApi
from tests.support.botprocess import BotProcesses
from tests.support.conversation import PATHS, converse, wait_for_outcome

pytestmark = pytest.mark.slow


async def test_debug_logs_never_show_the_token(fake: FakeBotApi, bots: BotProcesses) -> None:
    bot = await bots.start_polling(fake, LOG_LEVEL="DEBUG")
    person = fake.user(9001)
    # Errors are where tokens leak (exception texts carry the request URL): have some.
    fake.rate_limit_next("sendMessage", retry_after=1)
    fake.fail_next("editMessageText", status=502)
    fake.drop_next("getUpdates")
    fake.block(9002)
    fake.user(9002).start()
    await converse(person, PATHS["emergency"], timeout=20)
    await wait_for_outcome(person, "emergency", timeout=20)
    await fake.wait_for(
        lambda: [c for c in fake.calls() if c.outcome == "403"], what="the blocked send"
    )
    bot.stop()

    output = bots.all_output()
    assert "DEBUG" in output, "the bot really logged at DEBUG"
    secret = FAKE_TOKEN.split(":", 1)[1]
    for form in (FAKE_TOKEN, secret, quote(FAKE_TOKEN), secret[:20]):
        leaks = [line for line in output.splitlines() if form in line]
        assert leaks == [], leaks[:3]
