"""docs/flow-language.md, the therapist's guide, stays true to the loader."""

from __future__ import annotations

import re
from pathlib import Path

from bot.engine import UI_DEFAULTS
from bot.flow.keys import ALL_STEP_KEYS, SETTING_NAMES, STEP_TYPES, TOP_KEYS

ROOT = Path(__file__).resolve().parents[2]
GUIDE = (ROOT / "docs" / "flow-language.md").read_text(encoding="utf-8")
EXAMPLE = ROOT / "docs" / "examples" / "mini.yaml"


def test_the_complete_example_in_the_guide_is_the_shipped_example_file() -> None:
    section = GUIDE.split("## 12. A complete small example", 1)[1]
    block = re.search(r"```yaml\n(.*?)```", section, re.DOTALL)
    assert block is not None
    assert block.group(1) == EXAMPLE.read_text(encoding="utf-8")


def test_the_guide_explains_every_key_type_setting_and_bot_text() -> None:
    for word in [
        *TOP_KEYS,
        *ALL_STEP_KEYS,
        *STEP_TYPES,
        *UI_DEFAULTS,
        "exclusive",
        "each",
        "if",
        "goto",
    ]:
        assert f"`{word}" in GUIDE, word
    for name in SETTING_NAMES:
        assert f"{{{name}}}" in GUIDE, name
    assert "A missing answer is false" in GUIDE
