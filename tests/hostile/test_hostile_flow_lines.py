"""A long line in a flow file is explained in milliseconds, not seconds.

When YAML cannot read a line, the checker looks at it again to say what probably happened
("A ':' seems to be missing after 'type'"). The pattern that recognised a name and a value
without the ':' between them backtracked: one line of 8,000 spaces ending in ':x' took 2.5 s
of CPU, in `flows check`, at start and at every reload of a running bot (where the event loop
serves everyone). Here such lines go to the checker under a CPU budget, and the linear pattern
is held to what the old one recognised.
"""

from __future__ import annotations

import re
from pathlib import Path

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from bot.flow import check_flow
from bot.flow.yaml_errors import _NAME_WITHOUT_COLON
from tests.support.budget import within_budget

BROKEN = Path(__file__).resolve().parents[1] / "flow" / "broken"
# The pattern as it was written before it was made linear: the reference for what it
# recognises, used only on short lines (its cost is quadratic in the length).
REFERENCE = re.compile(r"""^\s*([A-Za-z_][A-Za-z0-9_]*)[ ]+([^\s:#][^:#]*?)\s*(?:#.*)?$""")
FLOW_BUDGET_S = 0.5  # reading and checking the whole small flow, not one regular expression


def checked(tmp_path: Path, line: str) -> list[str]:
    """The checker's errors for the broken example whose `type number` lost its ':', with
    that line replaced by ``line``, read within the budget."""
    source = (BROKEN / "missing_colon_after_type.yaml").read_text(encoding="utf-8")
    assert "    type number\n" in source
    path = tmp_path / "long.yaml"
    path.write_text(source.replace("    type number\n", line + "\n"), encoding="utf-8")
    problems = within_budget(lambda: check_flow(path), budget=FLOW_BUDGET_S, what=line[:40])
    return [f"{p.line}: {p.message}" for p in problems if p.is_error]


def test_a_long_line_of_spaces_before_a_colon_is_explained_quickly(tmp_path: Path) -> None:
    """The reported line: a name, a value, 8,000 spaces and ':x' (YAML's complaint is on the
    next line, and the checker looks back at this one)."""
    errors = checked(tmp_path, "    type number" + " " * 8000 + ":x")
    assert errors == ["23: YAML did not expect a ':' here."]


def test_a_long_line_without_its_colon_is_still_recognised(tmp_path: Path) -> None:
    errors = checked(tmp_path, "    type number" + " " * 8000 + "x")
    assert errors == ["22: A ':' seems to be missing after 'type'."]
    errors = checked(tmp_path, "    type " + "number " * 1500)
    assert errors == ["22: A ':' seems to be missing after 'type'."]


LINE_PIECES = st.sampled_from([" ", "  ", "\t", "type", "x", "_", "1", ":", "#", '"', "-", "é"])


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(line=st.lists(LINE_PIECES, max_size=16).map("".join))
@example(line="  type number   # x")
@example(line="type  a b  c ")
@example(line="type a  :")
@example(line="- type number")
def test_the_linear_pattern_recognises_what_the_old_one_did(line: str) -> None:
    expected = REFERENCE.match(line)
    got = _NAME_WITHOUT_COLON.match(line)
    assert (got is None) == (expected is None), line
    if got is not None and expected is not None:
        assert got.groups() == expected.groups(), line
        assert got.span(1) == expected.span(1), line
