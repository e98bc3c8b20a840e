"""The clinician's review page: one self-contained HTML page that shows a flow in plain words.

``triage-bot flows review`` writes it for a GP or physiotherapist who never reads YAML, to
approve before a practice goes live: every question with its answers and every outcome text,
in every language side by side; the rules as a decision table ("if ... → go to ..."); the
safety net's warning signs with their words and the example messages, each screened now; the
scenarios and whether they pass; the open questions; and a sign-off box.

:func:`build_review` is pure: a :class:`ReviewInputs` (the flow, its compiled screener, the
scenario results, the safety examples, the open questions as Markdown, the date) in, the
page out. It reads no file and runs nothing but the screener. The page has no scripts, loads
nothing from anywhere, links only within itself and prints cleanly (``@media print``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from bot.flow.model import (
    Condition,
    Flow,
    LocalText,
    ReasonRule,
    Route,
    SafetyConcept,
    SafetyNet,
    Step,
    StepKind,
)
from bot.flow.safety import Screener, Verdict
from bot.flow.ui import UI_DEFAULTS
from bot.review_html import (
    CSS,
    esc,
    flow_text,
    inline,
    language_name,
    markdown,
    placeholders_in,
    tag,
)
from bot.review_words import Words
from bot.safety_examples import Example, ExampleResult, run_examples
from bot.scenarios import ScenarioResult

SETTINGS_HELP: Mapping[str, tuple[str, str]] = {
    "emergency_number": (
        "EMERGENCY_NUMBER",
        "the local emergency telephone number: 999 in the UK, 112 in much of Europe, 911 in the US",
    ),
    "urgent_advice": (
        "URGENT_ADVICE",
        "the local words for same-day urgent care, e.g. “call 111 or your GP surgery today”; "
        "URGENT_ADVICE_ES (and the like) gives it in another language",
    ),
    "booking_url": ("BOOKING_URL", "the practice's online booking page"),
    "doctor": (
        "DOCTOR_NAME",
        "the local name of the family doctor, as in “your {doctor}”: GP in the UK, "
        "“doctor” elsewhere; DOCTOR_NAME_ES (and the like) gives it in another language",
    ),
}
VERDICT_WORDS = {
    Verdict.EMERGENCY: "emergency advice",
    Verdict.CONFIRM: "asks the yes/no question",
    Verdict.NONE: "does nothing",
}
VERDICT_HEADINGS = {
    Verdict.EMERGENCY: "Must go straight to the emergency advice",
    Verdict.CONFIRM: "Must ask the yes/no question first",
    Verdict.NONE: "Must not trigger anything",
}
STEP_KIND_WORDS = {
    StepKind.MESSAGE: "message",
    StepKind.CHOICE: "one answer",
    StepKind.MULTI: "tick all that apply",
    StepKind.NUMBER: "a number",
}
PASS, FAIL = "✓", "✗"

SECTIONS = (
    ("summary", "At a glance"),
    ("settings", "Placeholders and the practice's settings"),
    ("always", "Said with every outcome"),
    ("questions", "The questions"),
    ("outcomes", "The outcomes"),
    ("rules", "The rules: a decision table"),
    ("safety-net", "The safety net: warning signs typed in people's own words"),
    ("scenarios", "Scenarios: situations checked on every change"),
    ("open-questions", "Open questions for the clinician"),
    ("sign-off", "Sign-off"),
)


@dataclass(frozen=True, slots=True)
class ReviewInputs:
    """Everything the page shows. ``scenarios`` and ``examples`` are ``None`` when the flow
    has no such file; ``notes`` are problems with those files, shown at the top."""

    flow: Flow
    screener: Screener
    generated: datetime
    scenarios: Sequence[ScenarioResult] | None = None
    examples: Sequence[Example] | None = None
    open_questions: str | None = None  # Markdown
    settings: Mapping[str, str] = field(default_factory=dict)  # {emergency_number} -> "999"
    files: Mapping[str, str] = field(default_factory=dict)  # what -> path, for the header
    notes: Sequence[str] = ()


@dataclass(frozen=True, slots=True)
class _Page:
    """What every section needs: the inputs, the words for rules, the screened examples."""

    inputs: ReviewInputs
    words: Words
    examples: Sequence[ExampleResult] | None

    @property
    def flow(self) -> Flow:
        return self.inputs.flow

    @property
    def languages(self) -> tuple[str, ...]:
        return self.flow.languages


def build_review(inputs: ReviewInputs) -> str:
    """The whole page as one HTML string."""
    examples = None
    if inputs.examples is not None:
        examples = run_examples(inputs.screener, inputs.examples)
    page = _Page(inputs, Words(inputs.flow), examples)
    parts: list[Callable[[_Page], str]] = [
        _header,
        _contents,
        _summary,
        _settings,
        _always,
        _questions,
        _outcomes,
        _rules,
        _safety_net,
        _scenarios,
        _open_questions,
        _sign_off,
        _footer,
    ]
    body = "\n".join(part(page) for part in parts)
    title = f"Clinical review: {_title(inputs.flow)} ({inputs.flow.id} v{inputs.flow.version})"
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{esc(title)}</title>\n<style>{CSS}</style>\n</head>\n"
        f"<body>\n<main>\n{body}\n</main>\n</body>\n</html>\n"
    )


# --- small helpers ----------------------------------------------------------------------------


def _title(flow: Flow) -> str:
    return flow.title.get(flow.default_language, flow.default_language) or flow.id


def _text(flow: Flow, text: LocalText | None, language: str) -> str:
    """A text in one language as HTML; a missing translation is said so, not filled in."""
    if text is None:
        return ""
    value = text.by_language.get(language)
    if value is None:
        fallback = text.get(language, flow.default_language)
        return tag("p", "<em>No translation: the bot shows</em>", class_="fail") + flow_text(
            fallback
        )
    return flow_text(value)


def _language_table(
    page: _Page,
    rows: Iterable[tuple[str, Mapping[str, str] | None]],
    first: str = "",
    kind: str = "",
) -> str:
    """A table with one column per language: each row a heading (HTML) and HTML per
    language; a row without cells is a heading across the whole table."""
    head = tag("th", esc(first), class_="rowhead") + "".join(
        tag("th", esc(language_name(lang))) for lang in page.languages
    )
    span = str(len(page.languages) + 1)
    body = "".join(
        tag("tr", tag("td", heading, colspan=span), class_="group")
        if cells is None
        else tag(
            "tr",
            tag("th", heading, class_="rowhead")
            + "".join(tag("td", cells.get(lang, "")) for lang in page.languages),
        )
        for heading, cells in rows
    )
    return tag(
        "table",
        tag("thead", tag("tr", head)) + tag("tbody", body),
        class_=f"languages {kind}".strip(),
    )


def _texts(page: _Page, text: LocalText | None) -> dict[str, str]:
    return {lang: _text(page.flow, text, lang) for lang in page.languages}


def _section(anchor: str, content: str, *, major: bool = True) -> str:
    heading = dict(SECTIONS)[anchor]
    number = [a for a, _ in SECTIONS].index(anchor) + 1
    title = tag("h2", f"{number}. {esc(heading)}")
    return tag("section", title + content, id=anchor, class_="major" if major else None)


def _badge(text: str, kind: str) -> str:
    return " " + tag("span", esc(text), class_=f"badge {kind}")


def _mark(passed: bool) -> str:
    return tag("td", PASS if passed else FAIL, class_="mark " + ("pass" if passed else "fail"))


def _step_link(flow: Flow, step_id: str) -> str:
    if step_id not in flow.steps:
        return tag("code", esc(step_id))
    return tag("a", esc(step_id), href=f"#step-{step_id}")


def _outcome_badges(step: Step) -> str:
    if step.urgent:
        return _badge("emergency", "urgent")
    if step.booking:
        return _badge("booking offered", "booking")
    return _badge("no booking offered", "doctor")


def _count(number: int, word: str) -> str:
    return f"{number} {word}{'' if number == 1 else 's'}"


# --- header, contents, summary ----------------------------------------------------------------


def _header(page: _Page) -> str:
    flow, inputs = page.flow, page.inputs
    number, _, fingerprint = flow.version.partition("-")
    facts = [
        ("Flow", tag("code", esc(flow.id)) + f" — {esc(_title(flow))}"),
        (
            "Version",
            esc(number)
            + (
                f" <span class='id'>(file fingerprint {esc(fingerprint)})</span>"
                if fingerprint
                else ""
            ),
        ),
        ("Generated", esc(inputs.generated.strftime("%Y-%m-%d %H:%M"))),
        ("Languages", esc(", ".join(language_name(lang) for lang in flow.languages))),
    ]
    facts += [(esc(what), tag("code", esc(path))) for what, path in inputs.files.items()]
    dl = "".join(tag("dt", k) + tag("dd", v) for k, v in facts)
    purpose = (
        "<p><strong>What this page is for.</strong> Before the practice's triage chatbot talks "
        "to patients, a registered clinician (a GP or a musculoskeletal physiotherapist) should "
        "check what it asks, what it advises and the rules that decide the advice, and sign "
        "below. This page shows all of it in plain words, generated from the flow file the bot "
        "runs; nothing here is written by hand, so what you approve is what the bot does.</p>"
        "<p><strong>How to use it.</strong> Read the questions and outcomes (every language "
        "side by side), the decision table, and the warning signs the bot watches for in "
        "anything a person types. The scenarios and the safety examples show what the bot does "
        "today for real situations: a ✗ marks one that does not behave as intended. Answer the "
        "open questions, note any change you need, then fill in the sign-off box. The approval "
        "covers this version only (the fingerprint above changes with any edit).</p>"
    )
    notes = "".join(tag("p", esc(note), class_="note") for note in inputs.notes)
    return (
        '<header class="page">'
        + tag("h1", "Clinical review of the triage chatbot")
        + tag("p", esc(_title(flow)), class_="subtitle")
        + tag("dl", dl, class_="facts")
        + "</header>"
        + tag("div", purpose, class_="purpose")
        + notes
    )


def _contents(page: _Page) -> str:
    items = "".join(
        tag("li", tag("a", esc(title), href=f"#{anchor}")) for anchor, title in SECTIONS
    )
    return tag("nav", tag("h2", "Contents") + tag("ol", items), class_="toc")


def _summary(page: _Page) -> str:
    flow = page.flow
    questions = [s for s in flow.steps.values() if s.is_question]
    urgent = [s for s in flow.outcomes if s.urgent]
    concepts = flow.safety_net.concepts if flow.safety_net else ()
    rows = [
        ("Questions", f"{len(questions)} (asked in the order shown, each only when needed)"),
        (
            "Outcomes",
            f"{len(flow.outcomes)}, of which {len(urgent)} emergency"
            f" and {sum(1 for s in flow.outcomes if s.booking)} offering a booking",
        ),
        ("Warning signs watched for in typed messages", str(len(concepts))),
        ("Scenarios", _tally(page.inputs.scenarios, "scenarios")),
        ("Safety examples", _tally(page.examples, "examples")),
    ]
    body = "".join(tag("tr", tag("th", esc(k), class_="rowhead") + tag("td", v)) for k, v in rows)
    failing = _failing_list(page)
    return _section("summary", tag("table", tag("tbody", body)) + failing, major=False)


def _tally(results: Sequence[ScenarioResult] | Sequence[ExampleResult] | None, what: str) -> str:
    if results is None:
        return tag("span", f"no {what} file", class_="muted")
    passed = sum(1 for r in results if r.passed)
    failed = len(results) - passed
    text = f"{passed} of {len(results)} behave as intended now"
    if failed:
        return tag("span", esc(f"{text}; {failed} do not (✗ below)"), class_="summary-bad")
    return tag("span", esc(text), class_="summary-ok")


def _failing_list(page: _Page) -> str:
    """Where the things that do not behave as intended are: each failing scenario, and the
    failing safety examples counted per sign and verdict."""
    items = []
    for number, result in enumerate(page.inputs.scenarios or (), start=1):
        if not result.passed:
            link = tag("a", esc(result.scenario.name), href=f"#scenario-{number}")
            items.append(tag("li", "Scenario " + link))
    groups: dict[str, list[ExampleResult]] = {}
    for example in page.examples or ():
        if not example.passed:
            groups.setdefault(_examples_anchor(example.example), []).append(example)
    for anchor, failed in groups.items():
        first = failed[0].example
        what = first.concept or "ordinary messages"
        heading = VERDICT_HEADINGS[first.expect].lower()
        link = tag("a", esc(f"{what}: {heading}"), href=f"#{anchor}")
        items.append(tag("li", f"{_count(len(failed), 'safety example')}, " + link))
    if not items:
        return ""
    return tag("p", "Not behaving as intended now:") + tag("ul", "".join(items))


# --- settings and the texts shown with every outcome -------------------------------------------


def _all_texts(flow: Flow) -> list[str]:
    texts: list[LocalText] = [flow.title]
    texts += [t for t in (flow.disclaimer, flow.safety_line) if t is not None]
    texts += [step.text for step in flow.steps.values()]
    texts += list(flow.reasons.values())
    if flow.safety_net is not None:
        texts += [concept.sign for concept in flow.safety_net.concepts]
    return [value for text in texts for value in text.by_language.values()]


def _settings(page: _Page) -> str:
    flow = page.flow
    names = placeholders_in(_all_texts(flow))
    rows = []
    for name in names:
        shown = inline("{" + name + "}")
        if name in SETTINGS_HELP:
            setting, meaning = SETTINGS_HELP[name]
            value = page.inputs.settings.get(name)
            now = esc(value) if value else tag("em", "not set", class_="muted")
            extra = [
                f"{esc(language_name(k.split(':')[1]))}: {esc(v)}"
                for k, v in page.inputs.settings.items()
                if k.startswith(f"{name}:")
            ]
            if extra:
                now += "<br>" + "<br>".join(extra)
            rows.append((shown, esc(meaning), tag("code", esc(setting)), now))
        elif name in flow.steps:
            meaning = "the person's own answer to the question " + _step_link(flow, name)
            rows.append((shown, meaning, "—", tag("em", "per person", class_="muted")))
        else:
            rows.append((shown, "unknown: shown as written", "—", "—"))
    intro = tag(
        "p",
        "Texts below show some words as placeholders in a dashed box, such as "
        + inline("{emergency_number}")
        + ". The bot fills them in when it sends the message: with the practice's settings "
        "(the same flow serves practices in different countries, so numbers are never written "
        "into the texts) or with the person's own answer. The values shown are those of the "
        "computer that made this page; check them against the practice's local services.",
    )
    if not rows:
        return _section("settings", tag("p", "The texts use no placeholders."), major=False)
    head = "".join(tag("th", h) for h in ("Placeholder", "What it shows", "Setting", "Value now"))
    body = "".join(tag("tr", "".join(tag("td", cell) for cell in row)) for row in rows)
    table = tag("table", tag("thead", tag("tr", head)) + tag("tbody", body))
    return _section("settings", intro + table, major=False)


def _always(page: _Page) -> str:
    flow = page.flow
    rows = []
    if flow.disclaimer is not None:
        rows.append(("Disclaimer (with every outcome)", _texts(page, flow.disclaimer)))
    if flow.safety_line is not None:
        rows.append(("Safety line (with every outcome)", _texts(page, flow.safety_line)))
    if not rows:
        return _section("always", tag("p", "The flow adds no text to its outcomes."))
    intro = tag(
        "p",
        "Added by the bot under every outcome's own text (the emergency outcome puts its "
        "safety advice first).",
    )
    return _section("always", intro + _language_table(page, rows))


# --- questions and outcomes --------------------------------------------------------------------


def _kind_words(step: Step) -> str:
    if step.kind is StepKind.NUMBER:
        return f"a whole number from {step.minimum} to {step.maximum}"
    return STEP_KIND_WORDS.get(step.kind, step.kind.value)


def _questions(page: _Page) -> str:
    intro = tag(
        "p",
        "Every step before an outcome, in the order of the flow file. The conversation starts "
        f"at {_step_link(page.flow, page.flow.start)}; the decision table (section 6) says "
        "which step follows which answer. Each answer is a button, shown with its id in grey.",
    )
    cards = [_question_card(page, step) for step in page.flow.steps.values() if not step.is_outcome]
    return _section("questions", intro + "".join(cards))


def _question_card(page: _Page, step: Step) -> str:
    title = tag("code", esc(step.id)) + _badge(_kind_words(step), "kind")
    rows: list[tuple[str, Mapping[str, str]]] = [("Text", _texts(page, step.text))]
    for option in step.options:
        heading = tag("span", esc(option.id), class_="id")
        if option.exclusive:
            heading += "<br>" + tag("span", "clears the other ticks", class_="small muted")
        labels = {
            lang: esc(option.label.by_language[lang])
            if lang in option.label.by_language
            else tag("em", "no translation", class_="fail")
            for lang in page.languages
        }
        rows.append((heading, labels))
    table = _language_table(page, rows, "Answer id" if step.options else "")
    rules = tag(
        "p",
        "Where it goes next: " + tag("a", "rules for " + esc(step.id), href=f"#rules-{step.id}"),
        class_="small",
    )
    return tag("div", tag("h3", title) + table + rules, class_="card step", id=f"step-{step.id}")


def _outcomes(page: _Page) -> str:
    intro = tag(
        "p",
        "Where a conversation ends. The reasons the bot lists under each outcome are in the "
        "decision table (section 6).",
    )
    cards = [_outcome_card(page, step) for step in page.flow.outcomes]
    return _section("outcomes", intro + "".join(cards))


def _outcome_card(page: _Page, step: Step) -> str:
    title = tag("code", esc(step.id)) + _outcome_badges(step)
    table = _language_table(page, [("Text", _texts(page, step.text))])
    reasons = tag(
        "p",
        "Reasons shown with it: "
        + tag("a", "reasons for " + esc(step.id), href=f"#rules-{step.id}"),
        class_="small",
    )
    return tag("div", tag("h3", title) + table + reasons, class_="card step", id=f"step-{step.id}")


# --- the decision table ------------------------------------------------------------------------


def _rules(page: _Page) -> str:
    intro = (
        "<p>For each question, its rules are tried <strong>in order, and the first that holds "
        "wins</strong>. An answer the person was never asked makes every comparison with it "
        "false (for example, “sitting is worse” is false for someone never asked about "
        "sitting). The rule as written in the flow file is shown in grey under each.</p>"
    )
    steps = page.flow.steps.values()
    routing = "".join(_route_table(page, step) for step in steps if not step.is_outcome)
    reasons = "".join(_reason_table(page, step) for step in page.flow.outcomes)
    return _section(
        "rules",
        intro
        + tag("h3", "Routing: which step comes next")
        + routing
        + tag("h3", "Reasons: what each outcome lists under “why we suggest this”")
        + reasons,
    )


def _condition_cell(page: _Page, condition: Condition) -> str:
    """The condition in plain words, and under it as written in the flow file."""
    words = page.words.condition(condition.tree)
    return words + " " + tag("span", esc(" ".join(condition.source.split())), class_="source")


def _route_table(page: _Page, step: Step) -> str:
    flow = page.flow
    heading = "After " + _step_link(flow, step.id)
    routes: Sequence[Route] = step.routes
    if len(routes) == 1 and routes[0].condition is None:  # no choice here: one line
        line = f"{heading}: always {_goto(flow, routes[0].target)}"
        return tag("p", line, class_="simple", id=f"rules-{step.id}")
    rows = []
    for number, route in enumerate(routes, start=1):
        when = "otherwise"
        if route.condition is not None:
            when = "if " + _condition_cell(page, route.condition)
        cells = tag("td", str(number), class_="num") + tag("td", when)
        rows.append(tag("tr", cells + tag("td", _goto(flow, route.target))))
    head = tag(
        "tr", tag("th", "#", class_="num") + tag("th", "When") + tag("th", "Go to", class_="goto")
    )
    table = tag("table", tag("thead", head) + tag("tbody", "".join(rows)), class_="routes")
    return tag("h4", heading, id=f"rules-{step.id}") + table


def _goto(flow: Flow, target_id: str) -> str:
    target = flow.steps.get(target_id)
    goto = "→ " + _step_link(flow, target_id)
    if target is not None and target.is_outcome:
        goto += _outcome_badges(target)
    return goto


def _reason_table(page: _Page, step: Step) -> str:
    flow = page.flow
    heading = tag(
        "h4",
        "Reasons at " + _step_link(flow, step.id) + _outcome_badges(step),
        id=f"rules-{step.id}",
    )
    rows: list[tuple[str, Mapping[str, str] | None]] = []
    for rule in step.reasons:
        rows.extend(_reason_rows(page, rule))
    if not rows:
        return heading + tag("p", "No reasons are listed with this outcome.", class_="muted")
    return heading + _language_table(page, rows, "When", "reasons")


def _reason_rows(page: _Page, rule: ReasonRule) -> list[tuple[str, Mapping[str, str] | None]]:
    """One row per reason the rule can give; an ``each:`` rule's options under a heading."""
    flow = page.flow
    rows: list[tuple[str, Mapping[str, str] | None]] = []
    if rule.each is not None:
        source_step = flow.steps.get(rule.each)
        if source_step is None:
            return rows
        exclusive = [o for o in source_step.options if o.exclusive]
        but = ""
        if exclusive:
            but = (
                " (except "
                + " and ".join(page.words.option(source_step, o.id) for o in exclusive)
                + ")"
            )
        group = f"One reason for each answer ticked at {page.words.question(rule.each)}{but}:"
        rows.append((group, None))
        for option in source_step.options:
            if not option.exclusive:
                text = flow.reasons.get(option.id) or option.label
                when = page.words.option(source_step, option.id) + " ticked"
                rows.append((when + _reason_id(option.id), _texts(page, text)))
        return rows
    if rule.reason is not None:
        when = "always"
        if rule.condition is not None:
            when = "if " + _condition_cell(page, rule.condition)
        text = flow.reasons.get(rule.reason, LocalText.plain(rule.reason))
        rows.append((when + _reason_id(rule.reason), _texts(page, text)))
    return rows


def _reason_id(reason: str) -> str:
    return "<br>" + tag("span", "reason " + esc(reason), class_="id")


# --- the safety net ------------------------------------------------------------------------------


def _safety_net(page: _Page) -> str:
    net = page.flow.safety_net
    if net is None:
        text = tag("p", "This flow has no safety net: typed messages are not read for warnings.")
        return _section("safety-net", tag("div", text, class_="note"))
    parts = [
        _net_intro(page, net),
        _net_cues(page, net),
        *(_concept_card(page, net, concept) for concept in net.concepts),
        _none_examples(page),
    ]
    return _section("safety-net", "".join(parts))


def _net_intro(page: _Page, net: SafetyNet) -> str:
    flow = page.flow
    question = flow.ui.get("confirm_sign") or LocalText(UI_DEFAULTS["confirm_sign"])
    intro = (
        "<p>People in pain often type instead of pressing a button. The bot reads "
        "<strong>every typed message, at any point</strong>, for the warning signs below. A "
        "warning sign is recognised when words from each of its <em>word groups</em> stand "
        "close together (within the number of words given), in any order: for example a "
        "numbness word near a word for the saddle area. Word endings, capitals, accents and "
        "one-letter typos in long words do not matter; a word ending in * matches any word "
        "starting so; a word starting with = matches only exactly as written. Words of every "
        "language are looked for in every conversation.</p>"
        "<ul>"
        f"<li>A <strong>clear mention</strong> goes straight to {_step_link(flow, net.target)} "
        f"{_outcome_badges(flow.steps[net.target]) if net.target in flow.steps else ''}.</li>"
        "<li>A mention after a <strong>negation or doubt word</strong> (“no numbness down "
        "there”, “not sure if …”), or matching an <em>ask-only</em> clause, gets one yes/no "
        "question naming the sign: yes leads to the emergency advice, no carries on where the "
        "person was. The question reads:</li></ul>"
    )
    cells = {lang: _with_slot(_text(flow, question, lang)) for lang in page.languages}
    return intro + _language_table(page, [("Yes/no question", cells)])


def _with_slot(text: str) -> str:
    """The question's {sign} shown as the slot each warning sign's name goes into."""
    marked = tag("a", esc("{sign}"), class_="ph", href="#settings")
    return text.replace(marked, tag("span", "[the sign, as named below]", class_="slot"))


def _net_cues(page: _Page, net: SafetyNet) -> str:
    rows = [
        ("Negation words (before a sign: ask)", net.negations),
        ("Doubt words (near a sign: ask)", net.doubts),
        ("Ignored phrases (their words never count)", net.ignore),
    ]
    table = _language_table(
        page, [(esc(h), _word_cells(page, words)) for h, words in rows], "Words"
    )
    return tag("h3", "Words that turn a mention into a question, and phrases ignored") + table


def _word_cells(page: _Page, words: Mapping[str, Sequence[str]]) -> dict[str, str]:
    return {
        lang: " ".join(tag("span", esc(w), class_="w") for w in words.get(lang, ()))
        or tag("span", "none", class_="muted")
        for lang in page.languages
    }


def _concept_reason(flow: Flow, net: SafetyNet, concept: SafetyConcept) -> LocalText:
    """What the emergency outcome lists for this sign (the engine's order of choice)."""
    text = flow.reasons.get(concept.id)
    if text is not None:
        return text
    target = flow.steps.get(net.target)
    for rule in target.reasons if target else ():
        source_step = flow.steps.get(rule.each) if rule.each else None
        option = source_step.option(concept.id) if source_step else None
        if option is not None:
            return option.label
    return concept.sign


def _groups_of(concept: SafetyConcept) -> list[str]:
    found: dict[str, None] = {}
    for clause in (*concept.concept.when, *concept.concept.ask):
        for group in clause:
            found.setdefault(group)
    return list(found)


def _clause(concept: SafetyConcept, clause: Sequence[str]) -> str:
    return tag(
        "span",
        " + ".join(tag("a", esc(group), href=f"#concept-{concept.id}-{group}") for group in clause),
        class_="clause",
    )


def _concept_card(page: _Page, net: SafetyNet, concept: SafetyConcept) -> str:
    flow = page.flow
    rows = [
        ("Sign (named in the yes/no question)", _texts(page, concept.sign)),
        (
            "Reason shown with the emergency advice",
            _texts(page, _concept_reason(flow, net, concept)),
        ),
    ]
    near = concept.concept.near
    when = "".join(tag("li", _clause(concept, c)) for c in concept.concept.when)
    ask = "".join(tag("li", _clause(concept, c)) for c in concept.concept.ask)
    clauses = (
        tag("p", f"Recognised when the words of a clause stand within {near} words of each other:")
        + tag("p", tag("strong", "Goes straight to the emergency advice") + " when:")
        + tag("ul", when or tag("li", "—"))
    )
    if ask:
        clauses += tag("p", tag("strong", "Only asks the yes/no question") + " when:") + tag(
            "ul", ask
        )
    groups = [
        (
            tag("span", esc(group), class_="clause", id=f"concept-{concept.id}-{group}"),
            _word_cells(page, net.words.get(group, {})),
        )
        for group in _groups_of(concept)
    ]
    body = (
        tag("h3", "Warning sign " + tag("code", esc(concept.id)))
        + _language_table(page, rows)
        + clauses
        + tag("h4", "Its word groups")
        + _language_table(page, groups, "Group")
        + _concept_examples(page, concept.id)
    )
    return tag("div", body, class_="card concept", id=f"concept-{concept.id}")


def _examples_anchor(example: Example) -> str:
    if example.concept is None:
        return "examples-none"
    return f"examples-{example.concept}-{example.expect.value}"


def _concept_examples(page: _Page, concept_id: str) -> str:
    if page.examples is None:
        return tag("p", "No safety examples file: nothing is tested for this sign.", class_="muted")
    parts = []
    for verdict in (Verdict.EMERGENCY, Verdict.CONFIRM):
        chosen = [
            r
            for r in page.examples
            if r.example.concept == concept_id and r.example.expect is verdict
        ]
        if chosen:
            anchor = f"examples-{concept_id}-{verdict.value}"
            heading = tag("h4", esc(_examples_heading(verdict, chosen)), id=anchor)
            parts.append(heading + _examples_table(page, chosen))
    if not parts:
        return tag("p", "No example messages for this sign yet.", class_="fail")
    return "".join(parts)


def _examples_heading(verdict: Verdict, results: Sequence[ExampleResult]) -> str:
    passed = sum(1 for r in results if r.passed)
    return f"{VERDICT_HEADINGS[verdict]}: {passed} of {len(results)} do now"


def _examples_table(page: _Page, results: Sequence[ExampleResult]) -> str:
    head = tag(
        "tr",
        tag("th", "Now", class_="now")
        + tag("th", "Lang.", class_="lang")
        + tag("th", "Message")
        + tag("th", "What the net does with it now", class_="what"),
    )
    rows = "".join(
        tag(
            "tr",
            _mark(r.passed)
            + tag("td", esc(r.example.language), class_="num")
            + tag("td", esc(r.example.text))
            + tag("td", _screening_words(page, r)),
            class_=None if r.passed else "failed",
        )
        for r in results
    )
    return tag("table", tag("thead", head) + tag("tbody", rows), class_="examples")


def _screening_words(page: _Page, result: ExampleResult) -> str:
    got = result.got
    words = esc(VERDICT_WORDS[got.verdict])
    if got.concept is None:
        return words
    sign = got.concept
    if result.example.concept and got.concept != result.example.concept:
        sign = f"{got.concept} (not {result.example.concept})"
    evidence = f" “{got.evidence}”" if got.evidence else ""
    return words + "<br>" + tag("span", esc(f"{sign}:{evidence}"), class_="small muted")


def _none_examples(page: _Page) -> str:
    if page.examples is None:
        return ""
    chosen = [r for r in page.examples if r.example.expect is Verdict.NONE]
    heading = tag("h3", "Ordinary messages that must not trigger anything", id="examples-none")
    if not chosen:
        return heading + tag("p", "None listed yet.", class_="fail")
    intro = tag(
        "p",
        esc(
            "Pain talk that shares words with the warning signs. "
            + _examples_heading(Verdict.NONE, chosen)
            + "."
        ),
    )
    return heading + intro + _examples_table(page, chosen)


# --- scenarios -------------------------------------------------------------------------------


def _scenarios(page: _Page) -> str:
    results = page.inputs.scenarios
    if results is None:
        return _section("scenarios", tag("p", "This flow has no scenario file.", class_="note"))
    intro = tag(
        "p",
        "Each scenario is a person's answers and the outcome and reasons the flow must give "
        "for them; the whole list runs on every change to the flow. Answers in grey are not "
        "asked on that path.",
    )
    head = tag(
        "tr",
        tag("th", "#", class_="num")
        + tag("th", "Scenario")
        + tag("th", "Answers")
        + tag("th", "Expected outcome and reasons")
        + tag("th", "Now", class_="num"),
    )
    rows = "".join(_scenario_row(page, number, r) for number, r in enumerate(results, 1))
    return _section("scenarios", intro + tag("table", tag("thead", head) + tag("tbody", rows)))


def _scenario_row(page: _Page, number: int, result: ScenarioResult) -> str:
    scenario = result.scenario
    asked = set(result.walk.path) if result.walk is not None else None
    answers = "<br>".join(
        _answer_words(page, key, value, asked is None or key in asked)
        for key, value in scenario.answers.items()
    )
    expected = "→ " + _step_link(page.flow, scenario.outcome)
    if scenario.reasons is not None:
        reasons = ", ".join(esc(r) for r in scenario.reasons) or "none"
        expected += "<br>" + tag("span", "reasons: " + reasons, class_="small")
    name = esc(scenario.name)
    if not result.passed:
        problem = result.error or "\n".join(result.differences)
        name += tag("pre", esc(problem), class_="small fail")
    return tag(
        "tr",
        tag("td", str(number), class_="num")
        + tag("td", name)
        + tag("td", answers, class_="small")
        + tag("td", expected)
        + _mark(result.passed),
        id=f"scenario-{number}",
        class_=None if result.passed else "failed",
    )


def _answer_words(page: _Page, key: str, value: object, asked: bool) -> str:
    """One given answer in words: option labels rather than ids."""
    step = page.flow.steps.get(key)
    if step is not None and step.options:
        shown = ", ".join(_label(page, step, v) for v in _answer_items(step, value))
    else:
        shown = esc(value)
    text = f"{esc(key)}: {shown}"
    return text if asked else tag("span", text, class_="muted")


def _answer_items(step: Step, value: object) -> list[object]:
    """A scenario's answer as a list: a multi-select may be written "a, b" or [a, b]."""
    if isinstance(value, list):
        return value
    if isinstance(value, str) and step.kind is StepKind.MULTI:
        return [item.strip() for item in value.split(",") if item.strip()]
    return [value]


def _label(page: _Page, step: Step, value: object) -> str:
    if isinstance(value, bool):  # YAML's unquoted yes/no
        value = "yes" if value else "no"
    option = step.option(str(value))
    if option is None:
        return esc(value)
    return esc(option.label.get(page.flow.default_language, page.flow.default_language))


# --- open questions, sign-off, footer --------------------------------------------------------


def _open_questions(page: _Page) -> str:
    text = page.inputs.open_questions
    if not text:
        content = tag("p", "No open questions were given.", class_="muted")
    else:
        content = markdown(text)
    space = tag("div", "".join("<div></div>" for _ in range(5)), class_="lines")
    answer = tag("p", tag("strong", "Your answers and any other changes needed:")) + space
    return _section("open-questions", content + answer)


def _sign_off(page: _Page) -> str:
    flow = page.flow
    what = (
        f"I have reviewed the questions, outcomes, decision rules and safety net of the flow "
        f"<code>{esc(flow.id)}</code>, version <code>{esc(flow.version)}</code>, as shown on "
        "this page."
    )
    fields = "".join(
        tag(
            "div",
            tag("span", esc(label)) + tag("div", "", class_=f"line{' tall' if tall else ''}"),
            class_="field",
        )
        for label, tall in (
            ("Reviewer's name", False),
            ("Role (GP, physiotherapist …)", False),
            ("Registration body and number", False),
            ("Date", False),
            ("Signature", True),
        )
    )
    choices = "".join(
        tag("span", tag("span", "", class_="box") + esc(choice))
        for choice in ("Approved", "Approved with changes (listed above)", "Not approved")
    )
    body = (
        tag("p", what)
        + tag("div", choices, class_="choices")
        + fields
        + tag("p", tag("strong", "Changes required before going live:"))
        + tag("div", "".join("<div></div>" for _ in range(4)), class_="lines")
    )
    return _section("sign-off", tag("div", body, class_="signoff"))


def _footer(page: _Page) -> str:
    flow = page.flow
    made = page.inputs.generated.strftime("%Y-%m-%d %H:%M")
    return tag(
        "footer",
        esc(
            f"Generated by “triage-bot flows review” from {flow.source} "
            f"(flow {flow.id}, version {flow.version}) on {made}. Regenerate it after any "
            "change to the flow: an approval covers only the version it names."
        ),
    )
