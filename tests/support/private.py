"""The guard that keeps every test off the practice's own files (tests/conftest.py uses it).

The developer's settings (``.env``) and the practice's own copy of the flow (``practice/``)
are both ignored by git: the suite pins the shipped default flow only, so that it stays green
whatever they hold (and never writes into them). An audit hook sees every file that is opened,
to read or to write, and every folder that is listed, by the code under test or by any library
it calls; :data:`touched` collects those that are the practice's own, and the fixture fails the
test that touched one.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
PRIVATE_FILES = [ROOT / ".env"]
PRIVATE_FOLDERS = [ROOT / "practice"]
touched: list[str] = []  # since the fixture last looked


def is_private(path: str) -> bool:
    """Is ``path`` (relative to the working folder, or absolute) the developer's .env or in
    the practice's folder?"""
    where = Path(os.path.abspath(path))
    return where in PRIVATE_FILES or any(
        where == folder or folder in where.parents for folder in PRIVATE_FOLDERS
    )


def _watch(event: str, args: tuple[Any, ...]) -> None:
    if event not in ("open", "os.listdir", "os.scandir") or not args:
        return
    path = args[0]
    if isinstance(path, str | bytes | os.PathLike) and is_private(os.fsdecode(path)):
        touched.append(os.path.abspath(os.fsdecode(path)))


sys.addaudithook(_watch)  # once: the module is imported once per test session


def shipped_view(folder: Path) -> Path:
    """``folder`` made to look like the project from inside for the commands run in it: the
    shipped ``flows/`` and ``docs/`` (linked), found by their relative paths as in the project,
    and neither the developer's .env nor the practice's folder beside them."""
    folder.mkdir(parents=True, exist_ok=True)
    for name in ("flows", "docs"):
        (folder / name).symlink_to(ROOT / name, target_is_directory=True)
    return folder
