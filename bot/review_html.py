"""HTML pieces for the clinician's review page (:mod:`bot.review`): escaping, the flow's own
text markup, a small Markdown reader for docs/open-questions.md, and the page's style.

Everything a flow file or a Markdown file says is escaped with :func:`html.escape` before any
markup is added, so a therapist's text can never become a tag, a script or a link. The only
markup a flow text has is ``**bold**`` and ``{placeholders}``; both are added after escaping,
from patterns that cannot match an angle bracket.
"""

from __future__ import annotations

import html
import re
import textwrap
from collections.abc import Iterable

from bot import markup
from bot.text import PLACEHOLDER as _PLACEHOLDER  # the engine's own (bot.text.fill)
from bot.text import language_name as _english_name

_CODE = re.compile(r"`([^`]+)`")
_LINK = re.compile(r"\[([^\]]+)\]\(([^)\s]+)\)")


def esc(value: object) -> str:
    """Text for an HTML element or a quoted attribute."""
    return html.escape(str(value), quote=True)


def language_name(code: str) -> str:
    """ "Spanish (es)": the page is read in English, whatever the flow's languages."""
    name = _english_name(code)
    return f"{name} ({code})" if name != code else code


def tag(name: str, content: str = "", **attributes: str | None) -> str:
    """``<name a="v">content</name>``; ``content`` is HTML already, attribute values are
    escaped here (``class_`` stands for ``class``)."""
    attrs = "".join(
        f' {key.rstrip("_").replace("_", "-")}="{esc(value)}"'
        for key, value in attributes.items()
        if value is not None
    )
    return f"<{name}{attrs}>{content}</{name}>"


def placeholder(name: str) -> str:
    """A ``{placeholder}`` shown as one, linked to the table that explains it."""
    return tag("a", esc("{" + name + "}"), class_="ph", href="#settings")


def inline(text: str) -> str:
    """One line of a flow text: escaped, ``**bold**`` as <strong>, placeholders marked."""
    escaped = html.escape(text, quote=False)
    bolded = markup.bold_to_html(escaped, tag="strong")
    return _PLACEHOLDER.sub(lambda m: placeholder(m.group(1)), bolded)


def flow_text(text: str) -> str:
    """A flow text as the person would read it: paragraphs at blank lines, line breaks kept."""
    paragraphs = [p.strip("\n") for p in re.split(r"\n\s*\n", text.strip()) if p.strip()]
    return "".join(
        tag("p", "<br>".join(inline(line) for line in paragraph.split("\n")))
        for paragraph in paragraphs
    )


def placeholders_in(texts: Iterable[str]) -> list[str]:
    """The placeholder names used in ``texts``, in order of first use."""
    found: dict[str, None] = {}
    for text in texts:
        for match in _PLACEHOLDER.finditer(text):
            found.setdefault(match.group(1))
    return list(found)


# --- Markdown (the open questions) ------------------------------------------------------------


def _md_inline(text: str) -> str:
    escaped = html.escape(text, quote=False)
    escaped = _CODE.sub(r"<code>\1</code>", escaped)
    escaped = markup.bold_to_html(escaped, tag="strong")
    # Links are shown as their words and address, never followed: the page makes no requests.
    return _LINK.sub(r"\1 (\2)", escaped)


_HEADING = re.compile(r"^(#{1,6})\s+(.*)$")
_ITEM = re.compile(r"^(?:([-*+])|(\d+)[.)])\s+(.*)$")


def markdown(text: str) -> str:
    """Simple Markdown as HTML: headings, paragraphs, bullet and numbered lists (lines
    indented under an item belong to it, nested lists and paragraphs too), ``**bold**``,
    ```code``` and links shown as text."""
    return "\n".join(_blocks(text.expandtabs(4).splitlines()))


def _blocks(lines: list[str]) -> list[str]:
    out: list[str] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        heading = _HEADING.match(line)
        if not line.strip():
            i += 1
        elif heading:
            level = min(len(heading.group(1)) + 2, 6)  # the page's own headings come first
            out.append(tag(f"h{level}", _md_inline(heading.group(2))))
            i += 1
        elif _ITEM.match(line):
            html_list, i = _list(lines, i)
            out.append(html_list)
        else:
            paragraph = [line.strip()]
            i += 1
            while i < len(lines) and lines[i].strip() and not _starts_block(lines[i]):
                paragraph.append(lines[i].strip())
                i += 1
            out.append(tag("p", _md_inline(" ".join(paragraph))))
    return out


def _starts_block(line: str) -> bool:
    return bool(_HEADING.match(line) or _ITEM.match(line))


def _list(lines: list[str], i: int) -> tuple[str, int]:
    """The list starting at ``lines[i]`` (items of one kind at this indent) and where it
    ends."""
    first = _ITEM.match(lines[i])
    assert first is not None
    numbered = first.group(2) is not None
    items: list[str] = []
    while i < len(lines):
        match = _ITEM.match(lines[i])
        if match is None or (match.group(2) is not None) != numbered:
            break
        body, i = _item_lines(lines, i + 1, match.group(3))
        items.append(tag("li", _item(body)))
    return tag("ol" if numbered else "ul", "".join(items)), i


def _item_lines(lines: list[str], i: int, first: str) -> tuple[list[str], int]:
    """An item's own lines: the rest of its first line, then every line indented under it
    (blank lines included when indented text follows them), dedented."""
    rest: list[str] = []
    while i < len(lines):
        line = lines[i]
        if not line.strip():
            j = i
            while j < len(lines) and not lines[j].strip():
                j += 1
            if j < len(lines) and lines[j][:1].isspace():
                rest.extend(lines[i:j])
                i = j
                continue
            break
        if not line[:1].isspace() and _starts_block(line):
            break
        rest.append(line)
        i += 1
    return [first, *textwrap.dedent("\n".join(rest)).splitlines()], i


def _item(lines: list[str]) -> str:
    if any(not line.strip() or _starts_block(line) for line in lines):
        return "".join(_blocks(lines))
    return _md_inline(" ".join(line.strip() for line in lines))


# --- style ------------------------------------------------------------------------------------

CSS = """
:root { --ink: #1d2733; --muted: #5b6675; --line: #cfd6df; --head: #eef2f6;
  --accent: #1f4e79; --ok: #1e7a45; --bad: #b3261e; --warn: #8a5a00; }
* { box-sizing: border-box; }
html { font-size: 15px; }
body { margin: 0; color: var(--ink); background: #fff;
  font-family: "Segoe UI", "Helvetica Neue", Arial, "DejaVu Sans", sans-serif;
  line-height: 1.45; }
main { max-width: 1180px; margin: 0 auto; padding: 24px 32px 64px; }
h1 { font-size: 1.9rem; margin: 0 0 4px; color: var(--accent); }
h2 { font-size: 1.45rem; margin: 40px 0 12px; padding-bottom: 4px; color: var(--accent);
  border-bottom: 2px solid var(--accent); }
h3 { font-size: 1.15rem; margin: 28px 0 8px; }
h4 { font-size: 1rem; margin: 18px 0 6px; }
h5, h6 { font-size: .95rem; margin: 14px 0 6px; }
p { margin: 0 0 .6em; }
li { margin: 0 0 .3em; }
li > p { margin: .2em 0; }
a { color: var(--accent); }
code, .id { font-family: "DejaVu Sans Mono", Consolas, monospace; font-size: .85em; }
.id { color: var(--muted); }
.muted { color: var(--muted); }
.small { font-size: .85rem; }
header.page { border-bottom: 3px solid var(--accent); padding-bottom: 12px; margin-bottom: 8px; }
.subtitle { font-size: 1.1rem; color: var(--muted); margin: 0 0 12px; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: 2px 16px; margin: 8px 0; }
dl.facts dt { color: var(--muted); }
dl.facts dd { margin: 0; }
.purpose { background: #f5f8fb; border-left: 4px solid var(--accent); padding: 10px 14px;
  margin: 12px 0; }
nav.toc ol { columns: 2; margin: 0; padding-left: 1.4em; }
table { border-collapse: collapse; width: 100%; margin: 6px 0 14px; }
th, td { border: 1px solid var(--line); padding: 5px 8px; text-align: left;
  vertical-align: top; }
th { background: var(--head); font-weight: 600; }
td p:last-child { margin-bottom: 0; }
table.languages { table-layout: fixed; }
th.rowhead { width: 13em; }
table.reasons th.rowhead { width: 19em; }
table.reasons tbody th.rowhead { font-weight: normal; }
tr.group td { background: #f7f9fb; font-style: italic; }
table.routes { table-layout: fixed; }
table.routes th.goto { width: 19em; }
p.simple { margin: 10px 0; }
table.examples { table-layout: fixed; }
table.examples th.what { width: 17em; }
table.examples th.lang { width: 3.5em; }
table.examples th.now { width: 3.5em; }
#summary th.rowhead { width: 20em; }
.slot { font-style: italic; color: #6a3d9a; }
td.num, th.num { width: 2.5em; text-align: center; }
td.mark { width: 2em; text-align: center; font-weight: 700; }
.pass { color: var(--ok); }
.fail { color: var(--bad); }
tr.failed td { background: #fdf1f0; }
.card { border: 1px solid var(--line); border-radius: 6px; padding: 12px 16px; margin: 14px 0; }
.card.step { break-inside: avoid-page; }
.card > h3:first-child, .card > h4:first-child { margin-top: 0; }
.badge { display: inline-block; border-radius: 10px; padding: 0 8px; font-size: .8rem;
  font-weight: 600; border: 1px solid currentColor; margin-left: 2px; vertical-align: middle; }
.badge.urgent { color: var(--bad); }
.badge.doctor { color: var(--warn); }
.badge.booking { color: var(--ok); }
.badge.kind { color: var(--muted); }
a.ph { font-family: "DejaVu Sans Mono", Consolas, monospace; font-size: .85em;
  color: #6a3d9a; background: #f4effa; border: 1px dashed #6a3d9a; border-radius: 3px;
  padding: 0 3px; text-decoration: none; white-space: nowrap; }
.w { display: inline-block; border: 1px solid var(--line); border-radius: 3px;
  padding: 0 4px; margin: 1px 2px; background: #fafbfc; font-size: .88rem; }
.clause { font-family: "DejaVu Sans Mono", Consolas, monospace; font-size: .9em; }
.source { display: block; margin-top: 3px; color: var(--muted);
  font-family: "DejaVu Sans Mono", Consolas, monospace; font-size: .78rem; }
.op { font-weight: 600; font-style: italic; }
.summary-ok { color: var(--ok); font-weight: 600; }
.summary-bad { color: var(--bad); font-weight: 600; }
.note { background: #fff8e6; border-left: 4px solid var(--warn); padding: 8px 12px;
  margin: 10px 0; }
.signoff { border: 2px solid var(--ink); border-radius: 6px; padding: 16px 20px;
  margin-top: 16px; break-inside: avoid; }
.signoff .field { display: grid; grid-template-columns: 18em 1fr; align-items: end;
  margin: 18px 0; }
.signoff .line { border-bottom: 1px solid var(--ink); height: 1.6em; }
.signoff .tall { height: 3.2em; }
.signoff .choices { display: flex; gap: 36px; margin: 18px 0 8px; flex-wrap: wrap; }
.box { display: inline-block; width: 1.1em; height: 1.1em; border: 1.5px solid var(--ink);
  vertical-align: -0.2em; margin-right: 8px; }
.lines div { border-bottom: 1px solid var(--line); height: 1.9em; }
footer { margin-top: 40px; color: var(--muted); font-size: .85rem;
  border-top: 1px solid var(--line); padding-top: 8px; }
@page { size: A4; margin: 14mm 12mm 16mm;
  @bottom-right { content: "Page " counter(page) " of " counter(pages);
    font-size: 8pt; color: #5b6675; } }
@media print {
  html { font-size: 10pt; }
  main { max-width: none; padding: 0; }
  a { color: inherit; text-decoration: none; }
  a.ph { color: #4b2a70; }
  h2 { break-after: avoid; }
  h3, h4 { break-after: avoid; }
  section.major { break-before: page; }
  tr, .w { break-inside: avoid; }
  thead { display: table-header-group; }
  table.examples, .w, .source { font-size: 8.5pt; }
  .purpose, th, tr.failed td, a.ph, .w { -webkit-print-color-adjust: exact;
    print-color-adjust: exact; }
}
"""
