"""The repository itself: a clone stands on its own.

The clinical reference and the first benchmark harness the product was built from lived in a
folder beside the repository that a clone does not have. Everything the product needs from
them is ours now (docs/clinical-basis.md, bench/harness/, docs/benchmarks.md), so no tracked
file may point there.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
OUTSIDE = "/".join(("..", "shared"))  # spelled in pieces, so that this file does not name it


def tracked_files() -> list[str]:
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    listing = subprocess.run(
        ["git", "-C", str(ROOT), "ls-files", "-z"], capture_output=True, check=True
    )
    return [name for name in listing.stdout.decode().split("\0") if name]


def test_no_tracked_file_points_outside_the_repository() -> None:
    found = []
    for name in tracked_files():
        path = ROOT / name
        if not path.is_file():
            continue
        text = path.read_bytes().decode("utf-8", errors="replace")
        found += [
            f"{name}:{n}: {line.strip()}"
            for n, line in enumerate(text.splitlines(), 1)
            if OUTSIDE in line
        ]
    assert found == [], "point to docs/clinical-basis.md or bench/ instead:\n" + "\n".join(found)
