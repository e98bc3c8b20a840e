"""The shipped flow a practice's copy was made from, for safety rule S7.

``triage-bot flows init`` copies the shipped flow for the practice to edit, and keeps it as it
was in ``<folder>/.origin/`` with a record (``<flow>.json``: its version and the hash of every
file). ``flows diff`` compares that origin with the shipped files of a newer version; the
checker reads it to hold the copy to what the shipped flow promises for safety: its emergency
signs stay marked, the question that asks them stays on every way to advice, and its safety
net stays (:func:`bot.flow.safety_rules.shipped_safety_kept`). A file without an origin (the
shipped flow itself, a flow written from scratch) is held to S1 to S6 alone.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from bot.flow.draft import Shipped
from bot.flow.read import FlowReader
from bot.flow.report import Report
from bot.flow.source import Reader

ORIGIN = ".origin"  # the folder beside the practice's copy
EXAMPLES_SUFFIX = ".safety.yaml"  # a flow's safety examples: <flow>.safety.yaml beside it


def digest(text: str) -> str:
    """The hash by which the origin record names each file's text."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def shipped_for(path: Path) -> Shipped | None:
    """The origin of the flow file ``path``, or None when it was not made by ``flows init``."""
    folder = path.parent / ORIGIN
    origin = folder / path.name
    record = _record(folder / f"{path.stem}.json")
    recorded = record.get(path.name) if record is not None else None
    try:
        text = origin.read_text(encoding="utf-8")
    except FileNotFoundError:
        if recorded is None:
            return None
        return Shipped(str(origin), None, f"{origin} is missing")
    except (OSError, UnicodeDecodeError):
        return Shipped(str(origin), None, f"{origin} cannot be read")
    if recorded is not None and recorded != digest(text):
        return Shipped(str(origin), None, f"{origin} was changed since flows init wrote it")
    examples = folder / f"{path.stem}{EXAMPLES_SUFFIX}"
    problem = _changed(examples, record)
    if problem is not None:
        return Shipped(str(origin), None, problem)
    lines = text.splitlines()
    root = Reader(text).read()
    if root is None:
        return Shipped(str(origin), None, f"{origin} cannot be read")
    # Its own mistakes, if any, are not the copy's: the reader's report is put aside.
    draft = FlowReader(Report(str(origin), lines), str(origin), lines).read(root)
    return Shipped(str(origin), draft, examples=str(examples) if examples.is_file() else None)


def _changed(path: Path, record: dict[str, object] | None) -> str | None:
    """Why an origin file beside the flow cannot be trusted, if it cannot."""
    recorded = record.get(path.name) if record is not None else None
    if recorded is None:
        return None
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return f"{path} is missing"
    except (OSError, UnicodeDecodeError):
        return f"{path} cannot be read"
    return f"{path} was changed since flows init wrote it" if recorded != digest(text) else None


def _record(path: Path) -> dict[str, object] | None:
    """The hashes of the origin record's files, by file name (None without a record)."""
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError, ValueError):
        return {}
    files = record.get("files") if isinstance(record, dict) else None
    return files if isinstance(files, dict) else {}
