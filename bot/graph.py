"""Diagrams of a flow: Mermaid text always, and an image when Graphviz is installed.

Why not transitions' own diagram support: its Mermaid engine (0.9.3) labels states by id only
(``State`` takes no label), writes the title as bare front matter without ``title:``, and
paints the initial state as "active"; its Graphviz engines need the ``graphviz`` or
``pygraphviz`` Python packages on top of the ``dot`` program. A flow is already plain data,
so both texts are written here from it: each step a box (its id and the start of its
question), each route an arrow labelled with its rule number and condition, the free-text
safety net as a dotted arrow. The image is drawn by Graphviz's ``dot`` program when it is on
the PATH.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import textwrap
from dataclasses import dataclass
from pathlib import Path

from bot import markup
from bot.flow.model import Flow, Step, StepKind

SAFETY_NET_NODE = "typed_warning"
_WRAP = 34  # characters per line inside a box
_SENTENCE = re.compile(r"(.+?[.?!:])(?:\s|$)")
_MERMAID_RESERVED = {"end", "graph", "subgraph", "flowchart", "class", "classdef", "style"}


@dataclass(frozen=True, slots=True)
class Edge:
    source: str
    target: str
    label: str = ""
    dotted: bool = False


def _summary(step: Step, flow: Flow) -> str:
    """A short label for a box: the first bold phrase of the step's text (the question
    itself, by convention), else its first sentence, shortened."""
    text = step.text.get(flow.default_language, flow.default_language)
    found = markup.BOLD.search(text)
    text = " ".join(markup.plain(found.group(1) if found else text).replace("**", "").split())
    sentence = _SENTENCE.match(text)
    return textwrap.shorten(sentence.group(1) if sentence else text, width=70, placeholder=" …")


def _group(step: Step) -> str:
    if step.kind is StepKind.MESSAGE:
        return "message"
    if not step.is_outcome:
        return "question"
    if step.urgent:
        return "urgent"
    return "booking" if step.booking else "doctor"


def edges(flow: Flow) -> list[Edge]:
    """Every route of every step, same source and target joined with "or", in file order."""
    found: dict[tuple[str, str], list[str]] = {}
    for step in flow.steps.values():
        ruled = len(step.routes) > 1
        for number, route in enumerate(step.routes, start=1):
            if route.condition is not None:
                label = f"{number}) {route.condition.source}"
            else:
                label = f"{number}) otherwise" if ruled else ""
            found.setdefault((step.id, route.target), []).append(label)
    result = [
        Edge(source, target, " or ".join(label for label in labels if label))
        for (source, target), labels in found.items()
    ]
    if flow.safety_net is not None:
        result.append(Edge(SAFETY_NET_NODE, flow.safety_net.target, "typed at any step", True))
    return result


def _wrapped(text: str, separator: str) -> str:
    return separator.join(textwrap.wrap(text, _WRAP)) or text


# --- Mermaid -------------------------------------------------------------------------------------

_MERMAID_SHAPES = {
    "message": ('("', '")'),
    "question": ('["', '"]'),
    "urgent": ('{{"', '"}}'),
    "doctor": ('(["', '"])'),
    "booking": ('(["', '"])'),
}
_MERMAID_STYLES = {
    "message": "fill:#eef3fb,stroke:#6b8cc7",
    "question": "fill:#ffffff,stroke:#333333",
    "urgent": "fill:#f8d7da,stroke:#b02a37,stroke-width:2px",
    "doctor": "fill:#fff3cd,stroke:#b58100",
    "booking": "fill:#d1e7dd,stroke:#2f7d4f",
    "note": "fill:#ffffff,stroke:#b02a37,stroke-dasharray:4 3",
}


def _mermaid_text(text: str) -> str:
    """Text inside a quoted Mermaid label: its own entity codes, never raw quotes or <>."""
    for raw, code in (("#", "#35;"), ('"', "#quot;"), ("<", "#lt;"), (">", "#gt;")):
        text = text.replace(raw, code)
    return text


def _mermaid_id(step_id: str) -> str:
    # A node called "end" (and a few other keywords) breaks a Mermaid flowchart.
    return f"{step_id}_" if step_id.lower() in _MERMAID_RESERVED else step_id


def _mermaid_label(*lines: str) -> str:
    return "<br/>".join(
        _mermaid_text(_wrapped(line, "\n")).replace("\n", "<br/>") for line in lines
    )


def mermaid(flow: Flow) -> str:
    """The whole conversation as a Mermaid flowchart (paste into mermaid.live, GitHub, ...)."""
    title = flow.title.get(flow.default_language, flow.default_language)
    lines = ["---", f"title: {_mermaid_text(title)} ({flow.id} v{flow.version})", "---"]
    lines.append("flowchart TD")
    groups: dict[str, list[str]] = {}
    for step in flow.steps.values():
        group = _group(step)
        left, right = _MERMAID_SHAPES[group]
        label = _mermaid_label(f"{step.id}", _summary(step, flow))
        lines.append(f"    {_mermaid_id(step.id)}{left}{label}{right}")
        groups.setdefault(group, []).append(_mermaid_id(step.id))
    if flow.safety_net is not None:
        concepts = [c.id.replace("_", " ") for c in flow.safety_net.concepts]
        example = ", ".join(concepts[:3])
        label = _mermaid_label("Typed at any step:", f"{example} …")
        lines.append(f'    {SAFETY_NET_NODE}["{label}"]')
        groups.setdefault("note", []).append(SAFETY_NET_NODE)
    lines.append("")
    for edge in edges(flow):
        arrow = "-.->" if edge.dotted else "-->"
        label = f'|"{_mermaid_label(edge.label)}"|' if edge.label else ""
        source, target = _mermaid_id(edge.source), _mermaid_id(edge.target)
        lines.append(f"    {source} {arrow}{label} {target}")
    lines.append("")
    for group, members in groups.items():
        lines.append(f"    classDef {group} {_MERMAID_STYLES[group]}")
        lines.append(f"    class {','.join(members)} {group}")
    return "\n".join(lines) + "\n"


# --- Graphviz ------------------------------------------------------------------------------------

_DOT_STYLES = {
    "message": 'shape=box, style="rounded,filled", fillcolor="#eef3fb"',
    "question": 'shape=box, style="filled", fillcolor="#ffffff"',
    "urgent": 'shape=octagon, style="filled,bold", fillcolor="#f8d7da", color="#b02a37"',
    "doctor": 'shape=box, style="rounded,filled", fillcolor="#fff3cd"',
    "booking": 'shape=box, style="rounded,filled", fillcolor="#d1e7dd"',
    "note": 'shape=note, style="dashed", color="#b02a37"',
}


def _dot_text(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def dot(flow: Flow) -> str:
    """The same diagram in Graphviz's DOT language."""
    title = flow.title.get(flow.default_language, flow.default_language)
    lines = [
        "digraph flow {",
        f'    label="{_dot_text(title)} ({flow.id} v{flow.version})"; labelloc=t;',
        '    rankdir=TB; fontname="Helvetica";',
        '    node [fontname="Helvetica", fontsize=11];',
        '    edge [fontname="Helvetica", fontsize=9];',
    ]
    for step in flow.steps.values():
        label = _dot_text(step.id + "\n" + _wrapped(_summary(step, flow), "\n"))
        lines.append(f'    {step.id} [label="{label}", {_DOT_STYLES[_group(step)]}];')
    if flow.safety_net is not None:
        lines.append(f'    {SAFETY_NET_NODE} [label="typed warning words", {_DOT_STYLES["note"]}];')
    for edge in edges(flow):
        style = ", style=dashed" if edge.dotted else ""
        label = _dot_text(_wrapped(edge.label, "\n"))
        lines.append(f'    {edge.source} -> {edge.target} [label="{label}"{style}];')
    lines.append("}")
    return "\n".join(lines) + "\n"


def render_image(flow: Flow, path: Path) -> str | None:
    """Draw the flow into ``path`` (its suffix is the format: .png, .svg, .pdf) with Graphviz.

    Returns ``None`` on success, else one sentence saying why there is no image.
    """
    program = shutil.which("dot")
    if program is None:
        return (
            "no image: Graphviz's 'dot' program is not installed. Paste the Mermaid text into "
            "https://mermaid.live to see the diagram, or install Graphviz "
            "(e.g. 'apt install graphviz')."
        )
    image_format = path.suffix.lstrip(".").lower() or "png"
    try:
        subprocess.run(
            [program, f"-T{image_format}", "-o", str(path)],
            input=dot(flow),
            text=True,
            capture_output=True,
            check=True,
            timeout=60,
        )
    except subprocess.CalledProcessError as error:
        return f"no image: Graphviz could not draw it ({error.stderr.strip() or error})."
    except (OSError, subprocess.TimeoutExpired) as error:
        return f"no image: Graphviz could not be run ({error})."
    return None
