"""The shipped flows copied for a test that may change them, with fewer safety examples.

Tests of the practice's copy run the copy's checks and tests many times; with every one of
the shipped flow's eleven thousand examples each run takes seconds. The same file cut to the
first few examples of each list keeps every section, sign and language, and so every check
these tests make."""

from __future__ import annotations

import shutil
from functools import cache
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = "sciatica.safety.yaml"


def copy_shipped_flows(folder: Path, *, keep: int = 20) -> Path:
    """``flows/`` copied into ``folder``, its safety examples cut to ``keep`` per list."""
    shutil.copytree(ROOT / "flows", folder)
    (folder / EXAMPLES).write_text(_fewer_examples(keep), encoding="utf-8")
    return folder


@cache
def _fewer_examples(keep: int) -> str:
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    data = yaml.load((ROOT / "flows" / EXAMPLES).read_text(encoding="utf-8"), Loader=loader)
    return yaml.safe_dump(_cut(data, keep), allow_unicode=True, sort_keys=False, width=100)


def _cut(value: Any, keep: int) -> Any:
    if isinstance(value, dict):
        return {key: _cut(item, keep) for key, item in value.items()}
    if isinstance(value, list):
        return value[:keep]
    return value
