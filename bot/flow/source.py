"""Read a flow file's YAML into a small tree that remembers where everything was written.

PyYAML's safe loader composes the node tree (with line and column marks) and constructs
scalars safely; we keep the positions that ``yaml.safe_load`` throws away, so that every
problem can point at ``file:line:column``. On the way we catch what YAML silently accepts
but a therapist never means: a key written twice (YAML keeps the last one, so a duplicated
step id would quietly replace a step), tabs used for indentation, and ids that YAML 1.1
would turn into booleans (``yes:``/``no:`` are option ids here, never ``True``/``False``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import yaml
from yaml.constructor import ConstructorError, SafeConstructor

from bot.flow.positions import MAX_DEPTH, TOO_DEEP, TOO_DEEP_HINT, SourceProblem, Span
from bot.flow.yaml_errors import explain

# libyaml composes about ten times faster; the pure-Python parser is used to word errors.
_FAST_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

STR = "tag:yaml.org,2002:str"
INT = "tag:yaml.org,2002:int"
FLOAT = "tag:yaml.org,2002:float"
BOOL = "tag:yaml.org,2002:bool"
NULL = "tag:yaml.org,2002:null"


@dataclass(slots=True, eq=False)
class YScalar:
    span: Span
    value: Any  # str, int, float, bool or None, as YAML resolved it
    text: str  # exactly as written (without quotes): ids are read from this
    style: str | None  # None (plain), "'", '"', "|" or ">"

    @property
    def quoted(self) -> bool:
        return self.style in ("'", '"')


@dataclass(slots=True, eq=False)
class YMap:
    span: Span
    entries: dict[str, tuple[YScalar, YNode]] = field(default_factory=dict)
    flow: bool = False  # written in {curly brackets} on one line, rather than one key a line

    def get(self, key: str) -> YNode | None:
        entry = self.entries.get(key)
        return entry[1] if entry else None

    def key(self, key: str) -> YScalar | None:
        entry = self.entries.get(key)
        return entry[0] if entry else None

    def items(self) -> list[tuple[str, YScalar, YNode]]:
        return [(name, key, value) for name, (key, value) in self.entries.items()]


@dataclass(slots=True, eq=False)
class YSeq:
    span: Span
    items: list[YNode] = field(default_factory=list)


YNode = YScalar | YMap | YSeq


def load_yaml(text: str) -> Any:
    """Plain data from YAML with the safe loader (the C one when PyYAML has it): for files of
    ours whose positions nobody needs (an origin's safety examples)."""
    return yaml.load(text, Loader=_FAST_LOADER)


def describe(node: YNode) -> str:
    """What a node is, in words, for messages such as "expected a text, found a list"."""
    if isinstance(node, YMap):
        return "a group of keys"
    if isinstance(node, YSeq):
        return "a list"
    if node.value is None:
        return "nothing"
    if isinstance(node.value, bool):
        return f"the yes/no value {node.text}"
    if isinstance(node.value, int | float):
        return f"the number {node.text}"
    return f"the text '{node.text}'"


# --- reading ---------------------------------------------------------------------------------

_TAB_INDENT = re.compile(r"^[ ]*\t")


def find_tabs(lines: list[str]) -> list[SourceProblem]:
    """Lines indented with a tab: YAML forbids them and editors show them misleadingly."""
    problems = []
    for number, line in enumerate(lines, start=1):
        match = _TAB_INDENT.match(line)
        if match:
            problems.append(
                SourceProblem(
                    Span(number, match.end(), match.end() + 1),
                    "This line is indented with a tab; use spaces.",
                    "YAML only understands spaces for indentation. Replace the tab with "
                    "spaces so that this line lines up with the lines it belongs with.",
                )
            )
    return problems


class Reader:
    """Turns YAML text into a :data:`YNode` tree plus the problems met on the way."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.lines = text.splitlines()
        self.problems: list[SourceProblem] = []
        self._built: dict[int, YNode] = {}
        self._building: set[int] = set()
        self._construct = SafeConstructor()

    def read(self) -> YNode | None:
        """The tree, or ``None`` when the text cannot be read (see :attr:`problems`)."""
        tabs = find_tabs(self.lines)
        if tabs:
            # Guessing the width of a tab would invent a structure the therapist never saw.
            self.problems.extend(tabs)
            return None
        try:
            root = yaml.compose(self.text, Loader=_FAST_LOADER)
        except yaml.YAMLError as fast_error:
            self.problems.append(self._syntax_problem(fast_error))
            return None
        except RecursionError:  # the pure-Python composer, without libyaml
            self.problems.append(SourceProblem(Span(_deepest_line(self.lines), 1), TOO_DEEP))
            return None
        if root is None:
            return None
        return self._build(root)

    # -- syntax errors ------------------------------------------------------------------------

    def _syntax_problem(self, fast_error: yaml.YAMLError) -> SourceProblem:
        error: yaml.YAMLError = fast_error
        try:  # the pure-Python parser words its errors better than libyaml
            yaml.compose(self.text, Loader=yaml.SafeLoader)
        except yaml.YAMLError as slow_error:
            error = slow_error
        except RecursionError:  # nested too deeply for it: libyaml's words will do
            pass
        return explain(error, self.lines)

    # -- tree ---------------------------------------------------------------------------------

    def _span(self, node: yaml.Node) -> Span:
        start, end = node.start_mark, node.end_mark
        end_column = end.column + 1 if end.line == start.line else None
        return Span(start.line + 1, start.column + 1, end_column)

    def _build(self, node: yaml.Node, depth: int = 0) -> YNode:
        if node.__class__ is yaml.ScalarNode:
            return self._scalar(node)  # the common case, kept short: thousands per file
        # Aliases share one node object; build it once (also stops "billion laughs").
        key = id(node)
        known = self._built.get(key)
        if known is not None:
            return known
        if key in self._building:
            self.problems.append(
                SourceProblem(self._span(node), "This refers to itself (a YAML anchor loop).")
            )
            return YScalar(self._span(node), None, "", None)
        if depth >= MAX_DEPTH:
            self.problems.append(SourceProblem(self._span(node), TOO_DEEP, TOO_DEEP_HINT))
            return YScalar(self._span(node), None, "", None)
        self._building.add(key)
        built = self._collection(node, depth)
        self._building.discard(key)
        self._built[key] = built
        return built

    def _scalar(self, node: yaml.ScalarNode, *, as_key: bool = False) -> YScalar:
        start, end = node.start_mark, node.end_mark
        line = start.line
        span = Span(line + 1, start.column + 1, end.column + 1 if end.line == line else None)
        text = node.value
        value = text if as_key or node.tag == STR else self._scalar_value(node)
        # libyaml marks plain scalars with "" where PyYAML uses None.
        return YScalar(span, value, text, node.style or None)

    def _collection(self, node: yaml.Node, depth: int) -> YNode:
        span = self._span(node)
        if isinstance(node, yaml.SequenceNode):
            items: list[YNode] = []
            for item in node.value:
                pieces = self._without_dash(item)
                if pieces is None:
                    items.append(self._build(item, depth + 1))
                    continue
                for pairs in pieces:  # items that lost their "- ", read as the items meant
                    items.append(
                        self._mapping(self._span(pairs[0][0]), pairs, flow=False, depth=depth + 1)
                    )
            return YSeq(span, items)
        assert isinstance(node, yaml.MappingNode)
        return self._mapping(span, node.value, flow=bool(node.flow_style), depth=depth)

    def _without_dash(self, item: yaml.Node) -> list[list[tuple[yaml.Node, yaml.Node]]] | None:
        """A list item whose first key comes back further down, at the same column:

            - if: flags has "fever"
              goto: doctor
              if: location == "buttock"     <- the '- ' of a second rule is missing
              goto: book

        YAML reads one item with 'if' twice (and keeps the last). Reported once per lost
        dash, and read as the items the therapist meant, so nothing else is reported."""
        if not isinstance(item, yaml.MappingNode) or item.flow_style or len(item.value) < 2:
            return None
        first = item.value[0][0]
        if not isinstance(first, yaml.ScalarNode):
            return None
        column = first.start_mark.column
        pieces: list[list[tuple[yaml.Node, yaml.Node]]] = [[]]
        for key_node, value_node in item.value:
            again = (
                isinstance(key_node, yaml.ScalarNode)
                and key_node.value == first.value
                and key_node.start_mark.column == column
                and pieces[-1]
            )
            if again:
                self.problems.append(
                    SourceProblem(
                        self._span(key_node),
                        f"A '- ' is missing before this {_item_word(first.value)}, so YAML reads "
                        f"it as part of the one above (which has its own '{first.value}').",
                        f"Each {_item_word(first.value)} of the list starts with '- ', in the "
                        f"same column as the one above:\n    - {first.value}: ...",
                    )
                )
                pieces.append([])
            pieces[-1].append((key_node, value_node))
        return pieces if len(pieces) > 1 else None

    def _mapping(
        self, span: Span, pairs: list[tuple[yaml.Node, yaml.Node]], *, flow: bool, depth: int
    ) -> YMap:
        mapping = YMap(span, flow=flow)
        entries = mapping.entries
        for key_node, value_node in pairs:
            if key_node.__class__ is not yaml.ScalarNode:
                self.problems.append(
                    SourceProblem(
                        self._span(key_node),
                        "A key must be a plain name, not a list or a group.",
                        "Write keys as 'name: value'.",
                    )
                )
                continue
            key = self._scalar(key_node, as_key=True)
            name = key.text
            first = entries.get(name)
            if first is not None:
                self.problems.append(self._duplicate(name, first[0], key))
                continue  # keep the first, as the therapist reads the file top to bottom
            entries[name] = (key, self._build(value_node, depth + 1))
        return mapping

    def _duplicate(self, name: str, first: YScalar, again: YScalar) -> SourceProblem:
        return SourceProblem(
            again.span,
            f"'{name}' is written twice here (first on line {first.span.line}).",
            f"Each name may appear only once in the same place; YAML would silently keep "
            f"only the last one. Rename or remove one of the two '{name}'.",
        )

    def _scalar_value(self, node: yaml.ScalarNode) -> Any:
        tag = node.tag
        try:
            if tag == INT:
                return self._construct.construct_yaml_int(node)
            if tag == FLOAT:
                return self._construct.construct_yaml_float(node)
            if tag == BOOL:
                return self._construct.construct_yaml_bool(node)
            if tag == NULL:
                return None
        except (ConstructorError, ValueError):
            return node.value
        # Strings, and timestamps or other exotic tags: keep the text as written.
        return node.value


def _item_word(first_key: str) -> str:
    """What a list item that starts with this key is called in the flow language."""
    return {"if": "rule", "goto": "rule", "reason": "reason rule", "each": "reason rule"}.get(
        first_key, "item"
    )


def _deepest_line(lines: list[str]) -> int:
    """The 1-based line that opens the most levels: indentation, then brackets (roughly:
    for pointing at the trouble when the parser could not say where)."""
    depths = [
        ((len(line) - len(line.lstrip(" "))) // 2 + line.count("[") + line.count("{"), number)
        for number, line in enumerate(lines, start=1)
    ]
    return max(depths, default=(0, 0))[1]


def to_data(node: YNode | None) -> Any:
    """Plain Python data as the loader understands it: keys always as written (strings)."""
    if node is None:
        return None
    if isinstance(node, YScalar):
        return node.value
    if isinstance(node, YSeq):
        return [to_data(item) for item in node.items]
    return {name: to_data(value) for name, _, value in node.items()}
