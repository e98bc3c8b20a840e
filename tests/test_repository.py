"""The repository itself: what its tracked files may point to.

The clinical reference the default flow was first written from lives outside this repository,
in a shared folder that a clone does not have. The flow, the tests and the docs point to
docs/clinical-basis.md, our own account of the rules and their sources, instead.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = "../shared"
THIS_FILE = "tests/test_repository.py"  # names the folder in order to look for it

# TEMPORARY, to be removed when the benchmark rewrite lands: the benchmark scripts and their
# write-ups still name the shared benchmark harness and its targets.
BENCHMARK_FILES = ("bench/", "docs/benchmarks.md")
BENCHMARK_SECTION = ("README.md", "## Benchmarks")


def tracked_files() -> list[str]:
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    listing = subprocess.run(
        ["git", "-C", str(ROOT), "ls-files", "-z"], capture_output=True, check=True
    )
    return [name for name in listing.stdout.decode().split("\0") if name]


def without_section(text: str, heading: str) -> list[str]:
    """The lines of a Markdown text without the section under ``heading`` (up to the next
    heading of the same level); the lines of that section are left empty, so that line numbers
    stay those of the file."""
    level = heading.split(" ", 1)[0] + " "
    lines = text.splitlines()
    inside = False
    for number, line in enumerate(lines):
        if line.startswith(level):
            inside = line.strip() == heading
        if inside:
            lines[number] = ""
    return lines


def test_no_tracked_file_outside_the_benchmarks_points_to_the_shared_folder() -> None:
    found = []
    for name in tracked_files():
        path = ROOT / name
        if name == THIS_FILE or name.startswith(BENCHMARK_FILES) or not path.is_file():
            continue
        text = path.read_bytes().decode("utf-8", errors="replace")
        if SHARED not in text:
            continue
        lines = text.splitlines()
        if name == BENCHMARK_SECTION[0]:
            lines = without_section(text, BENCHMARK_SECTION[1])
        found += [
            f"{name}:{n}: {line.strip()}" for n, line in enumerate(lines, 1) if SHARED in line
        ]
    assert found == [], "point to docs/clinical-basis.md instead:\n" + "\n".join(found)


def test_the_benchmark_exception_is_only_the_benchmarks() -> None:
    """The README's section named in the exception exists, so the exception hides nothing else."""
    readme = (ROOT / BENCHMARK_SECTION[0]).read_text(encoding="utf-8")
    assert BENCHMARK_SECTION[1] in readme.splitlines()
    kept = without_section(readme, BENCHMARK_SECTION[1])
    assert "## Known limits" in kept and "## Tests" in kept
