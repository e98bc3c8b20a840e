"""The practice's own copy of the flow, apart from the code: ``flows init`` and ``flows diff``.

The project ships a default flow (``flows/sciatica.yaml``, with its scenario tests and safety
examples); the project's tests pin that file. A practice edits its own copy, made once with
``triage-bot flows init`` (into ``practice/`` by default, which git ignores), and runs it by
setting ``FLOW_FILE``. Updates of the code then never touch the practice's words, and
``triage-bot flows diff`` shows what changed in the shipped default since the copy was made,
so that the therapist can take over what they want.

At ``init`` the shipped files are copied twice: once for the practice to edit, once, as they
were, into ``<folder>/.origin/`` with a small record (``<flow>.json``: the shipped flow's
``version:``, the hash of every file and when). ``diff`` compares that origin with the shipped
files now, so it needs neither git nor network. The checker reads the origin too: the copy
keeps the shipped flow's emergency signs and safety net (safety rule S7, bot.flow.origin), so
``diff --accept`` does not record a newer shipped flow whose safety the copy has not taken
over yet.
"""

from __future__ import annotations

import difflib
import json
import os
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.errors import SetupError
from bot.flow.origin import ORIGIN, digest
from bot.safety_examples import EXAMPLES_SUFFIX
from bot.scenarios import SCENARIO_SUFFIX
from bot.shipped import PROJECT, shipped, shipped_doc

DEFAULT_FOLDER = Path("practice")
DEFAULT_FLOW = "sciatica"
# The defaults that come with the code. An installed package has them as package data
# (bot/shipped_flows/, in the project a link to flows/, copied into the wheel); the project
# folder has them in flows/ too.
SHIPPED_FLOWS = shipped("shipped_flows", "flows", f"{DEFAULT_FLOW}.yaml").parent
SCHEMA = shipped_doc("flow.schema.json")

_VERSION = re.compile(r"^version:\s*(\d+)\s*(?:#.*)?$", re.MULTILINE)
_SCHEMA_LINE = re.compile(r"^# yaml-language-server: \$schema=(\S+)$", re.MULTILINE)


class CopyError(SetupError):
    """Why the copy cannot be made or compared: one sentence, fit to show as it is."""


def _shipped(folder: Path | None) -> Path:
    """The folder of the shipped flows, or :class:`CopyError` when the code came without it."""
    found = folder or SHIPPED_FLOWS
    if not found.is_dir():
        raise CopyError(
            f"Cannot find the shipped flows: they come with the code, in {found}, and that "
            "folder is not there. Install the package again from the project folder (pip "
            "install .), which puts them there."
        )
    return found


def flow_version(text: str) -> int | None:
    """The ``version:`` a flow file's text declares (None when it has none)."""
    match = _VERSION.search(text)
    return int(match.group(1)) if match else None


def shown(path: Path) -> str:
    """A path as the therapist would type it: relative to here when it is below here."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def companions(name: str) -> list[str]:
    """The files that go with flow ``name``, in the order they are copied."""
    return [f"{name}.yaml", f"{name}{SCENARIO_SUFFIX}", f"{name}{EXAMPLES_SUFFIX}"]


@dataclass(frozen=True, slots=True)
class Copied:
    folder: Path
    flow: Path
    files: list[Path]
    version: int | None


def init(
    folder: Path = DEFAULT_FOLDER, *, name: str = DEFAULT_FLOW, shipped: Path | None = None
) -> Copied:
    """Copy the shipped flow ``name`` and its companions into ``folder``, and record their
    origin. Never overwrites: :class:`CopyError` when a copy is there already."""
    source_dir = _shipped(shipped)
    sources = [source_dir / file for file in companions(name)]
    if not sources[0].is_file():
        raise CopyError(f"There is no shipped flow at {shown(sources[0])} to copy.")
    sources = [s for s in sources if s.is_file()]
    targets = [folder / s.name for s in sources]
    there = [t for t in targets if t.exists()]
    if there:
        raise CopyError(
            f"{shown(there[0])} already exists, and flows init never overwrites the practice's "
            "copy: to see what changed in the shipped flow since, run triage-bot flows diff "
            f"{shown(targets[0])}."
        )
    texts = {s.name: s.read_text(encoding="utf-8") for s in sources}
    version = flow_version(texts[sources[0].name])
    try:
        origin = folder / ORIGIN
        origin.mkdir(parents=True, exist_ok=True)
        for source, target in zip(sources, targets, strict=True):
            text = texts[source.name]
            (origin / source.name).write_text(text, encoding="utf-8")
            target.write_text(_schema_from(text, folder), encoding="utf-8")
        record = {
            "flow": name,
            "version": version,
            "copied_from": _relative_to_project(sources[0]),
            "copied_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "files": {file: digest(text) for file, text in texts.items()},
        }
        (origin / f"{name}.json").write_text(json.dumps(record, indent=2) + "\n", "utf-8")
    except OSError as error:
        raise CopyError(
            f"Could not write the copy into {shown(folder)}: {error.strerror or error}."
        ) from None
    return Copied(folder, targets[0], targets, version)


def _relative_to_project(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(PROJECT))
    except ValueError:
        return str(path)


def _schema_from(text: str, folder: Path) -> str:
    """Point the editor's schema line at docs/flow.schema.json from the copy's folder."""
    match = _SCHEMA_LINE.search(text)
    if match is None or not SCHEMA.is_file():
        return text
    place = folder.resolve()
    inside = place == PROJECT or PROJECT in place.parents
    target = Path(os.path.relpath(SCHEMA, place)).as_posix() if inside else SCHEMA.as_posix()
    return text[: match.start(1)] + target + text[match.end(1) :]


# --- diff ----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Change:
    file: str  # e.g. sciatica.yaml
    shipped: Path  # the shipped file now
    before: str  # its text when the copy was made
    now: str


@dataclass(frozen=True, slots=True)
class Compared:
    copy: Path
    record: dict[str, Any]
    version_then: int | None
    version_now: int | None
    changes: list[Change] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)  # shipped files gone since

    @property
    def since(self) -> str:
        """The day of the origin: the copy, or the last ``diff --accept``."""
        return str(self.record.get("accepted_at") or self.record.get("copied_at", "?"))[:10]

    def diff(self, change: Change) -> str:
        return "".join(
            difflib.unified_diff(
                change.before.splitlines(keepends=True),
                change.now.splitlines(keepends=True),
                fromfile=f"{shown(change.shipped)} on {self.since}",
                tofile=f"{shown(change.shipped)} now",
            )
        )


def origin_record(copy: Path) -> tuple[Path, dict[str, Any]]:
    """The origin folder and record of a practice copy, or :class:`CopyError`."""
    if not copy.is_file():
        raise CopyError(
            f"There is no flow file at {shown(copy)}; make the practice's copy with "
            "triage-bot flows init."
        )
    origin = copy.parent / ORIGIN
    record_file = origin / f"{copy.stem}.json"
    try:
        record = json.loads(record_file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CopyError(
            f"{shown(copy)} has no record of the shipped flow it was copied from "
            f"({shown(record_file)}), so there is nothing to compare: copies made with "
            "triage-bot flows init have one."
        ) from None
    except (OSError, UnicodeDecodeError, ValueError):
        raise CopyError(f"{shown(record_file)} cannot be read; make the copy again.") from None
    if not isinstance(record, dict) or not isinstance(record.get("files"), dict):
        raise CopyError(f"{shown(record_file)} is not an origin record; make the copy again.")
    return origin, record


def compare(copy: Path, *, shipped: Path | None = None) -> Compared:
    """What changed in the shipped files since ``copy`` was made from them."""
    origin, record = origin_record(copy)
    source_dir = _shipped(shipped)
    changes: list[Change] = []
    missing: list[str] = []
    then = now_version = None
    for file in record["files"]:
        try:
            before = (origin / file).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            raise CopyError(
                f"The origin copy {shown(origin / file)} is missing; the record cannot be compared."
            ) from None
        current = source_dir / file
        if not current.is_file():
            missing.append(file)
            continue
        text = current.read_text(encoding="utf-8")
        if file == f"{record.get('flow', copy.stem)}.yaml":
            then, now_version = flow_version(before), flow_version(text)
        if text != before:
            changes.append(Change(file, current, before, text))
    return Compared(copy, record, then, now_version, changes, missing)


def accept(compared: Compared) -> None:
    """Make the shipped files as they are now the origin: the next diff starts from here."""
    origin = compared.copy.parent / ORIGIN
    record = dict(compared.record)
    files = dict(record["files"])
    for change in compared.changes:
        (origin / change.file).write_text(change.now, encoding="utf-8")
        files[change.file] = digest(change.now)
    record["files"] = files
    record["version"] = compared.version_now
    record["accepted_at"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    _write_record(compared, record)


def undo_accept(compared: Compared) -> None:
    """Put the origin back as it was before :func:`accept` (the copy lacks the safety of the
    newer shipped flow, safety rule S7: the bot would refuse it at its next start)."""
    origin = compared.copy.parent / ORIGIN
    for change in compared.changes:
        (origin / change.file).write_text(change.before, encoding="utf-8")
    _write_record(compared, compared.record)


def _write_record(compared: Compared, record: dict[str, Any]) -> None:
    record_file = compared.copy.parent / ORIGIN / f"{compared.copy.stem}.json"
    record_file.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
