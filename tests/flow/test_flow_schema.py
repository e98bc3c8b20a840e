"""docs/flow.schema.json: what the therapist's editor completes and checks while typing.

The schema and the loader must agree on every key, or the editor would accept what the bot
refuses (or the other way round); these tests keep the two from drifting apart.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from bot.flow.keys import (
    COLUMNS_RANGE,
    OPTION_KEYS,
    PARAGRAPH_KEYS,
    REASON_RULE_KEYS,
    RULE_KEYS,
    SAFETY_NET_KEYS,
    STEP_KEYS,
    STEP_REQUIRED,
    STEP_TYPES,
    TOP_KEYS,
    TOP_REQUIRED,
)
from bot.flow.source import Reader, to_data
from bot.flow.ui import UI_DEFAULTS
from bot.flow.values import ID, LANGUAGE

ROOT = Path(__file__).resolve().parents[2]
SCHEMA_FILE = ROOT / "docs" / "flow.schema.json"
EXAMPLE = ROOT / "docs" / "examples" / "mini.yaml"
FLOWS = sorted((ROOT / "flows").glob("*.yaml"))
FLOW_FILES = [p for p in FLOWS if not p.name.endswith((".scenarios.yaml", ".safety.yaml"))]


@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    return data


@pytest.fixture(scope="module")
def validator(schema: dict[str, Any]) -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(schema)


def as_loader_reads(path: Path) -> Any:
    """The file's data with keys as written (``yes:`` stays the text "yes")."""
    return to_data(Reader(path.read_text(encoding="utf-8")).read())


def test_schema_is_valid_draft_2020_12(schema: dict[str, Any]) -> None:
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    jsonschema.Draft202012Validator.check_schema(schema)


@pytest.mark.parametrize("path", [EXAMPLE, *FLOW_FILES], ids=lambda p: p.name)
def test_shipped_flows_match_the_schema(
    path: Path, validator: jsonschema.Draft202012Validator
) -> None:
    problems = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(
        as_loader_reads(path)
    )]  # fmt: skip
    assert problems == []


@pytest.mark.parametrize("path", [EXAMPLE, *FLOW_FILES], ids=lambda p: p.name)
def test_flows_point_their_editor_at_the_schema(path: Path) -> None:
    first = path.read_text(encoding="utf-8").splitlines()[0]
    match = re.fullmatch(r"# yaml-language-server: \$schema=(\S+)", first)
    assert match, "the first line tells VS Code's YAML extension where the schema is"
    assert (path.parent / match.group(1)).resolve() == SCHEMA_FILE


def test_schema_allows_exactly_the_loaders_keys(schema: dict[str, Any]) -> None:
    defs = schema["$defs"]
    assert set(schema["properties"]) == TOP_KEYS
    assert schema["required"] == list(TOP_REQUIRED)
    assert schema["additionalProperties"] is False
    assert defs["step"]["properties"]["type"]["enum"] == list(STEP_TYPES)
    for kind in STEP_TYPES:
        step = defs[f"{kind}_step"]
        assert set(step["properties"]) == STEP_KEYS[kind], kind
        assert step["required"] == list(STEP_REQUIRED[kind]), kind
        assert step["additionalProperties"] is False
    assert set(defs["rule"]["properties"]) == RULE_KEYS
    long_option = next(a for a in defs["option"]["anyOf"] if "properties" in a)
    assert set(long_option["properties"]) == OPTION_KEYS
    reason_keys = set().union(*(set(a["properties"]) for a in defs["reason_rule"]["oneOf"]))
    assert reason_keys == REASON_RULE_KEYS
    assert set(defs["paragraph"]["properties"]) == PARAGRAPH_KEYS
    assert set(schema["properties"]["safety_net"]["properties"]) == SAFETY_NET_KEYS
    assert set(schema["properties"]["ui"]["properties"]) == set(UI_DEFAULTS)
    assert defs["id"]["pattern"] == ID.pattern
    text_map = next(a for a in defs["text"]["oneOf"] if a["type"] == "object")
    assert text_map["propertyNames"]["pattern"] == LANGUAGE.pattern
    columns = defs["choice_step"]["properties"]["columns"]
    assert (columns["minimum"], columns["maximum"]) == COLUMNS_RANGE


def test_every_key_is_described_for_the_editor(schema: dict[str, Any]) -> None:
    defs = schema["$defs"]
    described = [schema["properties"], *(defs[f"{k}_step"]["properties"] for k in STEP_TYPES)]
    for properties in described:
        for name, spec in properties.items():
            assert spec.get("description"), name


@pytest.mark.parametrize(
    ("change", "where"),
    [
        (("    min: 0", "    mn: 0"), "'mn' was unexpected"),
        (("    min: 0", "    min: 0\n    options: {a: A}"), "'options' was unexpected"),
        (("type: choice", "type: choise"), "choise"),
        (("version: 1", "version: one"), "'one' is not of type 'integer'"),
    ],
)
def test_schema_catches_typical_typos_while_typing(
    change: tuple[str, str], where: str, validator: jsonschema.Draft202012Validator, tmp_path: Path
) -> None:
    path = tmp_path / "flow.yaml"
    path.write_text(EXAMPLE.read_text(encoding="utf-8").replace(*change, 1), encoding="utf-8")
    messages = [e.message for e in validator.iter_errors(as_loader_reads(path))]
    messages += [c.message for e in validator.iter_errors(as_loader_reads(path)) for c in e.context]
    assert any(where in message for message in messages), messages
