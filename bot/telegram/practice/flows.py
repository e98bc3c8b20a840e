"""Editing the flow while the bot runs: notice a changed FLOW_FILE, swap in a valid version,
keep the last good one when the new one is broken and tell the therapist what to fix.

:class:`FlowKeeper` checks the file (read, validate, compile; in a worker thread, off the
event loop) and, when it is a valid new version, replaces ``runtime.flow.engine`` in one
assignment: every later update sees the new flow, sessions carry on, and the engine restarts
politely a session whose step is gone. A broken version never replaces the running flow; the
admins get the validator's errors (file:line:column, the line, and the fix) once per broken
version. :class:`FlowWatcher` polls the file's size and modification time every
:data:`POLL_SECONDS` and checks it once it has held still for one poll, so an editor's
half-written save is not reported as broken; the content hash then decides whether anything
changed at all. /reload runs the same check at once. A version that breaks one of the safety
rules (:mod:`bot.flow.safety_rules`) is refused like any other error, and the admins are told
which rule and why it exists.
"""

from __future__ import annotations

import asyncio
import hashlib
import html
import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass, replace
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING

from bot.engine import Engine
from bot.flow import CompiledFlow, Problem, check_flow, load_compiled, render_problems
from bot.flow.safety_rules import broken_rules
from bot.telegram import render
from bot.telegram.practice.notify import notify_chats

if TYPE_CHECKING:
    from bot.telegram.runtime import Runtime

log = logging.getLogger(__name__)

POLL_SECONDS = 2.0


class Verdict(StrEnum):
    UNCHANGED = "unchanged"  # the running version is the file's
    LOADED = "loaded"  # a valid new version runs now
    BROKEN = "broken"  # the file has errors (or cannot be read); the old version runs on


@dataclass(frozen=True, slots=True)
class FlowCheck:
    verdict: Verdict
    file: str
    digest: str  # of the file's text (of the problems when it cannot be read)
    version: str  # the version running after the check
    problems: tuple[Problem, ...] = ()  # errors when broken, else warnings

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.is_error]


class FlowKeeper:
    """Checks the flow file and swaps the running flow; tells the admins."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self._reported: set[str] = set()  # broken versions the admins have been told about
        self._checking = asyncio.Lock()  # the watcher and /reload: one check at a time

    async def check(self) -> FlowCheck:
        async with self._checking:
            flow = self.runtime.flow
            running = flow.engine.flow.version
            text, problems, compiled = await asyncio.to_thread(_examine, flow.path, running)
            digest = _digest(text, problems)
            errors = tuple(p for p in problems if p.is_error)
            if errors:
                return FlowCheck(Verdict.BROKEN, flow.path, digest, running, errors)
            if compiled is None:
                return FlowCheck(Verdict.UNCHANGED, flow.path, digest, running, tuple(problems))
            flow.engine = Engine(compiled, self.runtime.settings.texts())
            version = compiled.flow.version
            log.info("Flow %s reloaded: version %s", flow.path, version)
            self._reported.clear()
            return FlowCheck(Verdict.LOADED, flow.path, digest, version, tuple(problems))

    async def announce(self, check: FlowCheck, *, besides: int | None = None) -> None:
        """Tell the admin chats (but ``besides``, who asked) about a new or broken version;
        a broken version only once."""
        if check.verdict is Verdict.UNCHANGED:
            return
        if check.verdict is Verdict.BROKEN:
            if check.digest in self._reported:
                return
            self._reported.add(check.digest)
            log.warning(
                "The flow file %s has %d error(s); still running version %s",
                check.file,
                len(check.errors),
                check.version,
            )
        admins = [a for a in sorted(self.runtime.settings.admin_chat_ids) if a != besides]
        await notify_chats(self.runtime, admins, describe(check))


class FlowWatcher:
    """The background job that notices edits of the flow file."""

    def __init__(self, keeper: FlowKeeper) -> None:
        self.keeper = keeper
        self._seen: tuple[int, int] | None = None
        self._pending = True  # check once at start: the file may have changed since loading

    async def run(self) -> None:
        self._seen = _signature(self.keeper.runtime.flow.path)
        while True:
            await asyncio.sleep(POLL_SECONDS)
            try:
                await self.poll()
            except Exception:  # a bug must not end the watching for good
                log.exception("Checking the flow file failed")

    async def poll(self) -> FlowCheck | None:
        signature = _signature(self.keeper.runtime.flow.path)
        if signature != self._seen:
            self._seen = signature
            self._pending = True
            return None  # still being written, maybe: look again when it has held still
        if not self._pending:
            return None
        self._pending = False
        check = await self.keeper.check()
        await self.keeper.announce(check)
        return check


def describe(check: FlowCheck) -> str:
    """The result for the therapist, HTML (problems in <pre>, escaped)."""
    name = html.escape(check.file)
    version = html.escape(check.version)
    if check.verdict is Verdict.BROKEN:
        count = len(check.errors)
        head = (
            f"⚠️ <b>{name} has {count} error{'s' if count != 1 else ''}</b>, so the bot keeps "
            f"running the last good version ({version})."
        )
        for rule in broken_rules([p.message for p in check.errors]):
            head += (
                f"\nIt breaks the safety rule <b>{html.escape(rule.label)}</b>: "
                f"{html.escape(rule.why)}."
            )
        head += f"\nFix {'these' if count != 1 else 'it'} and save the file again:"
        return (
            f"{head}\n<pre>{_problems_html(check.errors, render.MAX_TEXT - len(head) - 20)}</pre>"
        )
    warnings = len(check.problems)
    note = (
        f"\n{warnings} warning{'s' if warnings != 1 else ''} (such as missing translations): "
        "run <code>triage-bot flows check</code> to see them."
        if warnings
        else ""
    )
    if check.verdict is Verdict.LOADED:
        return (
            f"✅ <b>Flow updated</b>: {name} version {version} is running now. Conversations "
            f"carry on; anyone whose question was removed starts again.{note}"
        )
    return f"The flow file {name} is valid and unchanged: version {version} is running.{note}"


def _examine(path: str, running: str) -> tuple[str | None, list[Problem], CompiledFlow | None]:
    """Read and check the file; compile it only when it is valid and not the running version.
    Runs in a worker thread."""
    try:
        text: str | None = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        text = None  # check_flow reads it again and says what is wrong, in plain words
    problems = check_flow(path, text=text)
    if text is None or any(p.is_error for p in problems):
        return text, problems, None
    if running.rsplit("-", 1)[-1] == _sha256(text)[:8]:  # the version ends in this hash
        return text, problems, None
    return text, problems, load_compiled(path, text=text)


def _signature(path: str) -> tuple[int, int] | None:
    try:
        status = os.stat(path)
    except OSError:
        return None
    return status.st_mtime_ns, status.st_size


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _digest(text: str | None, problems: Sequence[Problem]) -> str:
    if text is not None:
        return _sha256(text)
    return "unreadable:" + _sha256(render_problems(problems))


def _problems_html(problems: Sequence[Problem], limit: int) -> str:
    """The problems rendered as the CLI shows them, escaped, cut at a problem to fit. A
    problem whose source line alone would not fit (a line thousands of characters long) is
    shown without it: its place, what is wrong and the fix still say all that matters."""
    shown: list[str] = []
    used = 0
    for index, problem in enumerate(problems):
        block = html.escape(problem.render(), quote=False)
        if used + len(block) + 2 > limit - 40:
            block = html.escape(replace(problem, excerpt=None).render(), quote=False)
        rest = len(problems) - index
        if used + len(block) + 2 > limit - 40:
            shown.append(f"… and {rest} more: run triage-bot flows check to see all.")
            break
        shown.append(block)
        used += len(block) + 2
    return "\n\n".join(shown)
