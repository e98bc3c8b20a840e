"""docs/flow-language.md, the therapist's guide, stays true to the loader."""

from __future__ import annotations

import re
from pathlib import Path

from bot.flow.keys import ALL_STEP_KEYS, OPTION_KEYS, SETTING_NAMES, STEP_TYPES, TOP_KEYS
from bot.flow.safety_rules import RULES
from bot.flow.ui import UI_DEFAULTS

ROOT = Path(__file__).resolve().parents[2]
GUIDE = (ROOT / "docs" / "flow-language.md").read_text(encoding="utf-8")
EXAMPLE = ROOT / "docs" / "examples" / "mini.yaml"


def test_the_complete_example_in_the_guide_is_the_shipped_example_file() -> None:
    section = GUIDE.split("## 13. A complete small example", 1)[1]
    block = re.search(r"```yaml\n(.*?)```", section, re.DOTALL)
    assert block is not None
    assert block.group(1) == EXAMPLE.read_text(encoding="utf-8")


def test_the_guide_explains_every_key_type_setting_and_bot_text() -> None:
    for word in [
        *TOP_KEYS,
        *ALL_STEP_KEYS,
        *STEP_TYPES,
        *UI_DEFAULTS,
        *OPTION_KEYS,
        "each",
        "if",
        "goto",
    ]:
        assert f"`{word}" in GUIDE, word
    for name in SETTING_NAMES:
        assert f"{{{name}}}" in GUIDE, name
    assert "A missing answer is false" in GUIDE


def test_every_safety_rule_is_named_in_the_guide_with_its_reason() -> None:
    section = GUIDE.split("## 11. Safety rules", 1)[1].split("\n## ", 1)[0]
    for rule in RULES:
        row = next(line for line in section.splitlines() if f"**{rule.label}" in line)
        assert rule.why[:40].lower() in row.lower(), rule.label
