"""The small condition language of flow files, parsed and compiled without ``eval``.

A therapist writes routing rules that read like what they mean::

    severity >= 7
    "saddle_numbness" in emergency_flags
    emergency_flags has any of ["saddle_numbness", "bladder_change"]
    location == "buttock" and worse_sitting == "yes"
    radiation in ["below_knee", "foot"]
    not (age >= 16)

Grammar (lowest precedence first)::

    expr       := and_expr ("or" and_expr)*
    and_expr   := not_expr ("and" not_expr)*
    not_expr   := "not" not_expr | comparison
    comparison := operand [op operand]
    op         := "==" | "!=" | "<" | "<=" | ">" | ">=" | "in" | "not in"
                | "has" | "has any of" | "has all of" | "has none of"
    operand    := NUMBER | STRING | NAME | list | "(" expr ")"
    list       := "[" [literal ("," literal)*] "]"

A name is an answer key. An answer the person was never asked is *missing*, and every
comparison that reads a missing answer is false: ``worse_sitting == "no"`` does not hold for
someone who was never asked about sitting. The parser keeps the column of every piece so
that the validator can point at the exact spot of a mistake.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bot.errors import SetupError

Answers = Mapping[str, Any]
Predicate = Callable[[Answers], bool]

__all__ = [
    "And",
    "Compare",
    "ConditionSyntaxError",
    "ListLiteral",
    "Literal",
    "Name",
    "Node",
    "Not",
    "Or",
    "compile_condition",
    "names_in",
    "parse_condition",
    "walk",
]


class ConditionSyntaxError(SetupError, ValueError):
    """A condition that cannot be read. ``column`` is 0-based within the condition text."""

    def __init__(self, message: str, column: int, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.column = column
        self.hint = hint


# --- syntax tree -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Name:
    key: str
    column: int


@dataclass(frozen=True, slots=True)
class Literal:
    value: str | int | float | bool
    column: int


@dataclass(frozen=True, slots=True)
class ListLiteral:
    items: tuple[Literal, ...]
    column: int


@dataclass(frozen=True, slots=True)
class Compare:
    op: str
    left: Node
    right: Node
    column: int


@dataclass(frozen=True, slots=True)
class Not:
    operand: Node
    column: int


@dataclass(frozen=True, slots=True)
class And:
    operands: tuple[Node, ...]
    column: int


@dataclass(frozen=True, slots=True)
class Or:
    operands: tuple[Node, ...]
    column: int


Node = Name | Literal | ListLiteral | Compare | Not | And | Or

COMPARISONS = ("==", "!=", "<", "<=", ">", ">=")
MEMBERSHIP = ("in", "not in", "has", "has any of", "has all of", "has none of")


# --- tokens ----------------------------------------------------------------------------------

_TOKEN = re.compile(
    r"""
    (?P<space>\s+)
  | (?P<number>-?\d+(?:\.\d+)?)
  | (?P<string>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')
  | (?P<op>==|!=|<=|>=|<|>|=)
  | (?P<punct>[()\[\],])
  | (?P<word>[A-Za-z_][A-Za-z0-9_]*)
    """,
    re.VERBOSE,
)
_KEYWORDS = {"and", "or", "not", "in", "has", "any", "all", "none", "of", "true", "false"}


@dataclass(frozen=True, slots=True)
class _Token:
    kind: str  # number | string | op | punct | word | end
    text: str
    column: int


_CURLY = "“”‘’„«»"
_STRAIGHT = str.maketrans({"“": '"', "”": '"', "„": '"', "«": '"', "»": '"', "‘": "'", "’": "'"})


def _tokens(source: str) -> list[_Token]:
    out: list[_Token] = []
    pos = 0
    while pos < len(source):
        match = _TOKEN.match(source, pos)
        if match is None:
            char = source[pos]
            if char in _CURLY:
                raise ConditionSyntaxError(
                    f"{char} is a curly quote, as a word processor types it: conditions only "
                    "understand straight quotes around an option id.",
                    pos,
                    f"Type the quotes again in this editor:  {source.translate(_STRAIGHT)}",
                )
            if char in "\"'":
                raise _unclosed(source, out, pos, char)
            raise ConditionSyntaxError(
                f"'{char}' cannot be used in a condition.",
                pos,
                'Conditions use answer names, "quoted option ids", numbers, '
                "==, !=, <, <=, >, >=, in, has, and, or, not and brackets.",
            )
        kind = match.lastgroup or ""
        if kind != "space":
            out.append(_Token(kind, match.group(), pos))
        pos = match.end()
    out.append(_Token("end", "", len(source)))
    return out


# An option id, then what follows a comparison: a text that reads like this ran on past its
# closing quote (``"buttock and worse_sitting == "``).
_RAN_ON = re.compile(r"^(\w+)(?=\s+(?:and|or)\s|\s*\))")


def _unclosed(source: str, tokens: list[_Token], pos: int, char: str) -> ConditionSyntaxError:
    """A quote never closed. When an earlier text runs on into the next one, the quote to
    close is that earlier one, not the last: ``["fever, "weight"]`` reads ``"fever, "`` and
    then ``weight"``; ``location == "buttock and worse_sitting == "yes"`` reads ``"buttock and
    worse_sitting == "`` and then ``yes"``."""
    for index, token in enumerate(tokens):
        inside = token.text[1:-1]
        following = tokens[index + 1] if index + 1 < len(tokens) else None
        joined = following is not None and following.column == token.column + len(token.text)
        if token.kind != "string" or not joined:
            continue
        ran_on = _RAN_ON.match(inside)
        if inside.endswith((", ", ": ")):
            option = inside.rstrip(":, ")
        elif ran_on is not None:
            option = ran_on.group(1)
        else:
            continue
        at = token.column + 1 + len(option)
        fixed = source[:at] + token.text[0] + source[at:]
        if ran_on is None or _parses(fixed):  # a run-on guessed from 'and' must be the fix
            return ConditionSyntaxError(
                "This text in quotes is never closed.", token.column, f"Write: {fixed}"
            )
    return ConditionSyntaxError(
        "This text in quotes is never closed.", pos, f"Add a closing {char}."
    )


def _parses(source: str) -> bool:
    try:
        parse_condition(source)
    except ConditionSyntaxError:
        return False
    return True


# --- parser ----------------------------------------------------------------------------------


# Brackets and 'not's a condition may nest: the parser, the checker's analysis and the
# compiled predicate all recurse once per level, and a real rule needs two or three.
MAX_NESTING = 32


class _Parser:
    def __init__(self, source: str) -> None:
        self.source = source
        self.tokens = _tokens(source)
        self.index = 0
        self.depth = 0  # brackets and 'not's open around the token being read

    def nested(self, column: int) -> None:
        """One level deeper; a condition nested past MAX_NESTING is refused, not recursed."""
        self.depth += 1
        if self.depth > MAX_NESTING:
            raise ConditionSyntaxError(
                f"This condition is nested too deeply (more than {MAX_NESTING} brackets or "
                "'not's inside each other).",
                column,
                "Write it more simply: a rule needs only a few brackets.",
            )

    @property
    def token(self) -> _Token:
        return self.tokens[self.index]

    def advance(self) -> _Token:
        token = self.tokens[self.index]
        self.index += 1
        return token

    def at_word(self, *words: str) -> bool:
        token = self.token
        return token.kind == "word" and token.text in words

    def expect_word(self, word: str, hint: str) -> None:
        if not self.at_word(word):
            raise ConditionSyntaxError(f"Expected the word '{word}' here.", self.token.column, hint)
        self.advance()

    def parse(self) -> Node:
        if self.token.kind == "end":
            raise ConditionSyntaxError(
                "The condition is empty.", 0, "Write something like: severity >= 7"
            )
        node = self.parse_or()
        if self.token.kind != "end":
            raise ConditionSyntaxError(
                f"I did not expect '{self.token.text}' here.",
                self.token.column,
                "Join two checks with 'and' or 'or'.",
            )
        return node

    def parse_or(self) -> Node:
        start = self.token.column
        operands = [self.parse_and()]
        while self.at_word("or"):
            self.advance()
            operands.append(self.parse_and())
        return operands[0] if len(operands) == 1 else Or(tuple(operands), start)

    def parse_and(self) -> Node:
        start = self.token.column
        operands = [self.parse_not()]
        while self.at_word("and"):
            self.advance()
            operands.append(self.parse_not())
        return operands[0] if len(operands) == 1 else And(tuple(operands), start)

    def parse_not(self) -> Node:
        if self.at_word("not"):
            column = self.advance().column
            self.nested(column)
            operand = self.parse_not()
            self.depth -= 1
            return Not(operand, column)
        return self.parse_comparison()

    def parse_comparison(self) -> Node:
        left = self.parse_operand()
        token = self.token
        if token.kind == "op":
            if token.text == "=":
                raise ConditionSyntaxError(
                    "A single '=' is not a comparison.", token.column, "Use '==' to compare."
                )
            self.advance()
            return Compare(token.text, left, self.parse_operand(), token.column)
        if self.at_word("in"):
            self.advance()
            return Compare("in", left, self.listed("in", left), token.column)
        if self.at_word("not") and self.tokens[self.index + 1].text == "in":
            self.advance()
            self.advance()
            return Compare("not in", left, self.listed("not in", left), token.column)
        if self.at_word("has"):
            self.advance()
            op = "has"
            if self.at_word("any", "all", "none"):
                op = f"has {self.advance().text} of"
                self.expect_word("of", f"Write '{op}' followed by a list in [brackets].")
            return Compare(op, left, self.listed(op, left), token.column)
        return left

    def listed(self, op: str, left: Node) -> Node:
        """The operand after ``in`` or ``has any of``: several values without their [brackets]
        (``has any of "a", "b"``) are pointed out with the bracket form."""
        operand = self.parse_operand()
        following = self.token
        if not (
            isinstance(operand, Literal) and following.kind == "punct" and following.text == ","
        ):
            return operand
        values = [operand]
        while self.token.kind == "punct" and self.token.text == ",":
            self.advance()
            item = self.parse_operand()
            if not isinstance(item, Literal):
                break
            values.append(item)
        shown = ", ".join(_shown(v) for v in values)
        name = left.key if isinstance(left, Name) else "answer"
        return_hint = f"Write: {name} {op} [{shown}]"
        raise ConditionSyntaxError(
            f"After '{op}', several options go in [square brackets].", operand.column, return_hint
        )

    def parse_operand(self) -> Node:
        token = self.token
        if token.kind == "number":
            self.advance()
            number = float(token.text) if "." in token.text else int(token.text)
            return Literal(number, token.column)
        if token.kind == "string":
            self.advance()
            return Literal(_unquote(token.text), token.column)
        if token.kind == "punct" and token.text == "(":
            self.advance()
            self.nested(token.column)
            inner = self.parse_or()
            if not (self.token.kind == "punct" and self.token.text == ")"):
                raise ConditionSyntaxError(
                    "A '(' is never closed.", token.column, "Add the matching ')'."
                )
            self.advance()
            self.depth -= 1
            return inner
        if token.kind == "punct" and token.text == "[":
            return self.parse_list()
        if token.kind == "word":
            if token.text in ("true", "false"):
                self.advance()
                return Literal(token.text == "true", token.column)
            if token.text in _KEYWORDS:
                raise ConditionSyntaxError(
                    f"'{token.text}' is a keyword and cannot stand here.",
                    token.column,
                    'Put an answer name, a "quoted" option id or a number here.',
                )
            self.advance()
            return Name(token.text, token.column)
        if token.kind == "end":
            raise ConditionSyntaxError(
                "The condition stops too early.",
                token.column,
                "Something is missing at the end, such as the value to compare with.",
            )
        raise ConditionSyntaxError(
            f"I did not expect '{token.text}' here.",
            token.column,
            'Put an answer name, a "quoted" option id or a number here.',
        )

    def parse_list(self) -> ListLiteral:
        start = self.advance().column
        items: list[Literal] = []
        while not (self.token.kind == "punct" and self.token.text == "]"):
            item = self.parse_operand()
            if not isinstance(item, Literal):
                raise ConditionSyntaxError(
                    'A list may hold only "quoted" option ids and numbers.',
                    _column(item),
                    'For example: ["below_knee", "foot"]',
                )
            items.append(item)
            if self.token.kind == "punct" and self.token.text == ",":
                self.advance()
            elif not (self.token.kind == "punct" and self.token.text == "]"):
                raise ConditionSyntaxError(
                    "Items in a list are separated by commas and the list ends with ']'.",
                    self.token.column,
                    'For example: ["below_knee", "foot"]',
                )
        self.advance()
        return ListLiteral(tuple(items), start)


def _shown(literal: Literal) -> str:
    value = literal.value
    return f'"{value}"' if isinstance(value, str) else str(value).lower()


def _unquote(text: str) -> str:
    body = text[1:-1]
    return re.sub(r"\\(.)", r"\1", body)


def _column(node: Node) -> int:
    return node.column


def parse_condition(source: str) -> Node:
    """Parse a condition into a syntax tree, or raise :class:`ConditionSyntaxError`."""
    return _Parser(source).parse()


def walk(node: Node) -> Iterator[Node]:
    """Every node of the tree, parents before children."""
    yield node
    if isinstance(node, Compare):
        yield from walk(node.left)
        yield from walk(node.right)
    elif isinstance(node, Not):
        yield from walk(node.operand)
    elif isinstance(node, And | Or):
        for operand in node.operands:
            yield from walk(operand)
    elif isinstance(node, ListLiteral):
        yield from node.items


def names_in(node: Node) -> set[str]:
    """The answer keys a condition reads."""
    return {n.key for n in walk(node) if isinstance(n, Name)}


# --- compiler --------------------------------------------------------------------------------


class _Missing:
    """An answer that was never given. Every comparison with it is false."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "<missing>"


MISSING: Any = _Missing()
Getter = Callable[[Answers], Any]


def _getter(node: Node) -> Getter:
    if isinstance(node, Name):
        key = node.key
        return lambda answers: answers.get(key, MISSING)
    if isinstance(node, Literal):
        value = node.value
        return lambda answers: value
    if isinstance(node, ListLiteral):
        values = tuple(item.value for item in node.items)
        return lambda answers: values
    predicate = _compile(node)
    return predicate


def _as_collection(value: Any) -> Sequence[Any] | None:
    if isinstance(value, list | tuple | set | frozenset):
        return value  # type: ignore[return-value]
    return None


def _ordered(op: str) -> Callable[[Any, Any], bool]:
    def compare(a: Any, b: Any) -> bool:
        if a is MISSING or b is MISSING:
            return False
        if isinstance(a, bool) or isinstance(b, bool):
            return False
        if not (isinstance(a, int | float) and isinstance(b, int | float)):
            return False
        if op == "<":
            return a < b
        if op == "<=":
            return a <= b
        if op == ">":
            return a > b
        return a >= b

    return compare


def _equal(a: Any, b: Any) -> bool:
    if a is MISSING or b is MISSING:
        return False
    return bool(a == b)


def _member(item: Any, container: Any) -> bool:
    if item is MISSING or container is MISSING:
        return False
    items = _as_collection(container)
    return items is not None and item in items


def _has(container: Any, wanted: Any, mode: str) -> bool:
    if container is MISSING or wanted is MISSING:
        return False
    have = _as_collection(container)
    if have is None:
        have = (container,)
    wanted_items = _as_collection(wanted)
    if wanted_items is None:
        wanted_items = (wanted,)
    if mode == "any":
        return any(w in have for w in wanted_items)
    if mode == "all":
        return all(w in have for w in wanted_items)
    return not any(w in have for w in wanted_items)


def _compile(node: Node) -> Predicate:
    if isinstance(node, And):
        parts = tuple(_compile(operand) for operand in node.operands)
        return lambda answers: all(part(answers) for part in parts)
    if isinstance(node, Or):
        parts = tuple(_compile(operand) for operand in node.operands)
        return lambda answers: any(part(answers) for part in parts)
    if isinstance(node, Not):
        inner = _compile(node.operand)
        return lambda answers: not inner(answers)
    if isinstance(node, Compare):
        left, right, op = _getter(node.left), _getter(node.right), node.op
        if op == "==":
            return lambda answers: _equal(left(answers), right(answers))
        if op == "!=":
            return lambda answers: (
                left(answers) is not MISSING
                and right(answers) is not MISSING
                and left(answers) != right(answers)
            )
        if op in ("<", "<=", ">", ">="):
            compare = _ordered(op)
            return lambda answers: compare(left(answers), right(answers))
        if op == "in":
            return lambda answers: _member(left(answers), right(answers))
        if op == "not in":
            return lambda answers: (
                left(answers) is not MISSING
                and right(answers) is not MISSING
                and not _member(left(answers), right(answers))
            )
        mode = {"has": "all", "has any of": "any", "has all of": "all", "has none of": "none"}[op]
        return lambda answers: _has(left(answers), right(answers), mode)
    if isinstance(node, Name):
        key = node.key
        # A bare name is true when the answer was given and is not empty.
        return lambda answers: answers.get(key, MISSING) not in (MISSING, None, "", [], ())
    if isinstance(node, Literal):
        value = bool(node.value)
        return lambda answers: value
    raise ConditionSyntaxError("A list on its own is not a condition.", node.column)


def compile_condition(node: Node | str) -> Predicate:
    """Turn a condition (text or tree) into a fast predicate over a person's answers."""
    tree = parse_condition(node) if isinstance(node, str) else node
    return _compile(tree)
