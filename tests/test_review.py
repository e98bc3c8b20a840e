"""The clinician's review page (``triage-bot flows review``, bot/review.py).

The page must show everything a clinician approves (every question, option and outcome text
in every language, every rule, every warning sign with its words and examples, the scenarios,
the open questions and a sign-off box), escape whatever the flow files say, and be one file
that needs nothing else. The last test opens it in a real headless Chromium: the DOM it
builds, its internal links, and printing it to PDF.
"""

from __future__ import annotations

import html
import re
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime
from html.parser import HTMLParser
from pathlib import Path

import pytest

from bot.cli import main
from bot.flow import CompiledFlow, load_compiled
from bot.flow.conditions import parse_condition
from bot.flow.safety import Verdict
from bot.review import ReviewInputs, build_review
from bot.review_files import review_inputs
from bot.review_html import markdown
from bot.review_words import Words
from bot.safety_examples import Example, examples_path_for, read_examples
from bot.scenarios import Scenario, ScenarioResult, load_scenarios, scenario_path_for
from tests.support.private import shipped_view

ROOT = Path(__file__).resolve().parents[1]
FLOW = ROOT / "flows" / "sciatica.yaml"
MINI = ROOT / "docs" / "examples" / "mini.yaml"
CHROMIUM = Path("/usr/bin/chromium")
WHEN = datetime(2026, 1, 2, 9, 30)
SECTIONS = (
    "summary",
    "settings",
    "always",
    "questions",
    "outcomes",
    "rules",
    "safety-net",
    "scenarios",
    "open-questions",
    "sign-off",
)


@pytest.fixture(scope="module")
def compiled() -> CompiledFlow:
    return load_compiled(FLOW)


@pytest.fixture(scope="module")
def page(compiled: CompiledFlow) -> str:
    """The default flow's page, as the command builds it, without this machine's settings."""
    inputs = review_inputs(FLOW, compiled, environ={}, env_file=None, generated=WHEN)
    return build_review(inputs)


_BLOCK = re.compile(r"</?(?:p|br|div|li|ul|ol|td|th|tr|table|h[1-6]|section|dd|dt)\b[^>]*>")


def plain(markup: str) -> str:
    """What a reader sees: tags gone (blocks apart), entities decoded, white space collapsed."""
    text = re.sub(r"<[^>]+>", "", _BLOCK.sub(" ", markup))
    return " ".join(html.unescape(text).split())


def shown(text: str) -> str:
    """A flow text as the page shows it: bold markers gone, white space collapsed."""
    return " ".join(text.replace("**", "").split())


# --- what the page contains ---------------------------------------------------------------------


def test_every_question_option_and_outcome_text_is_there_in_both_languages(
    page: str, compiled: CompiledFlow
) -> None:
    flow = compiled.flow
    seen = plain(page)
    assert flow.languages == ("en", "es")
    for step in flow.steps.values():
        assert f'id="step-{step.id}"' in page
        for language in flow.languages:
            assert shown(step.text.by_language[language]) in seen, (step.id, language)
            for option in step.options:
                label = option.label.by_language[language]
                assert f"<td>{html.escape(label)}</td>" in page, (step.id, option.id, language)
    for text in (flow.disclaimer, flow.safety_line, *flow.reasons.values()):
        assert text is not None
        for language in flow.languages:
            assert shown(text.by_language[language]) in seen


def test_bold_is_strong_and_placeholders_are_shown_as_placeholders(
    page: str, compiled: CompiledFlow
) -> None:
    for step in compiled.flow.steps.values():
        for text in step.text.by_language.values():
            for bold in re.findall(r"\*\*(.+?)\*\*", text, flags=re.DOTALL):
                expected = re.sub(
                    r"\{(\w+)\}",
                    r'<a class="ph" href="#settings">{\1}</a>',
                    html.escape(bold, quote=False),
                )
                assert f"<strong>{expected}</strong>" in page
    assert "**" not in plain(page)
    assert '<a class="ph" href="#settings">{emergency_number}</a>' in page
    settings = page[page.index('id="settings"') : page.index('id="always"')]
    for name, setting in (
        ("emergency_number", "EMERGENCY_NUMBER"),
        ("urgent_advice", "URGENT_ADVICE"),
        ("doctor", "DOCTOR_NAME"),
    ):
        assert "{" + name + "}" in settings
        assert setting in settings
    assert "999" in settings  # the default, since no settings were given
    assert "unknown: shown as written" not in plain(settings)  # every setting is explained
    assert "{age}" in settings and "answer to the question" in plain(settings)


def test_the_settings_shown_are_the_practices(compiled: CompiledFlow) -> None:
    environ = {"EMERGENCY_NUMBER": "112", "URGENT_ADVICE_ES": "llama al 061"}
    inputs = review_inputs(FLOW, compiled, environ=environ, env_file=None, generated=WHEN)
    settings = plain(build_review(inputs).split('id="settings"')[1].split('id="always"')[0])
    assert "112" in settings
    assert "Spanish (es): llama al 061" in settings


def test_header_says_what_the_page_is_for(page: str, compiled: CompiledFlow) -> None:
    header = plain(page[: page.index('id="summary"')])
    assert "sciatica" in header
    assert "2026-01-02 09:30" in header
    number, _, fingerprint = compiled.flow.version.partition("-")
    assert f"Version {number} (file fingerprint {fingerprint})" in header
    assert "What this page is for" in header
    assert "registered clinician" in header


def test_rules_are_a_decision_table_in_plain_words(page: str, compiled: CompiledFlow) -> None:
    flow = compiled.flow
    words = Words(flow)
    rules = page[page.index('id="rules"') : page.index('id="safety-net"')]
    # every question's rules, in order: the condition in words, as written, and where it goes
    for step in flow.steps.values():
        assert f'id="rules-{step.id}"' in rules
        table = plain(rules.split(f'id="rules-{step.id}"')[1].split('id="rules-')[0])
        position = 0
        for route in step.routes:
            expected = "always" if len(step.routes) == 1 else "otherwise"
            if route.condition is not None:
                condition = route.condition
                expected = "if " + plain(words.condition(condition.tree))
                expected += " " + " ".join(condition.source.split())
            expected += f" → {route.target}"
            found = table.find(expected, position)
            assert found >= position, (step.id, expected)
            position = found + len(expected)
    # every outcome's reasons, in both languages; an `each:` rule option by option
    for outcome in flow.outcomes:
        table = plain(rules.split(f'id="rules-{outcome.id}"')[1].split('id="rules-')[0])
        for rule in outcome.reasons:
            each = flow.steps[rule.each] if rule.each else None
            ids = [o.id for o in each.options if not o.exclusive] if each else [rule.reason]
            for reason in ids:
                assert f"reason {reason}" in table
                text = flow.reasons[str(reason)]
                for language in flow.languages:
                    assert shown(text.by_language[language]) in table
    words_of = plain(rules)
    assert "One reason for each answer ticked at doctor_flags (except “" in words_of
    assert "if age is under 16 age < 16 → see_doctor_soon" in words_of


WORDS_FLOW = """
flow: words
version: 1
languages: [en]
start: where
disclaimer: "A massage therapist cannot diagnose."
steps:
  where:
    type: choice
    text: "Where?"
    options:
      buttock: "Deep in <one> buttock"
      tailbone: "On the tailbone"
      foot: "Down to the foot"
    next: signs
  signs:
    type: multi
    text: "Any of these?"
    options:
      weak: "It feels weak"
      numb: "Numbness"
      none: { label: "None of these", exclusive: true }
    next: age
  age:
    type: number
    text: "How old?"
    min: 1
    max: 120
    next:
      - if: age > 50 and where == "buttock"
        goto: doctor
      - goto: book
  doctor: { type: outcome, text: "See a doctor." }
  book: { type: outcome, text: "Book.", booking: true }
"""


@pytest.mark.parametrize(
    ("condition", "words"),
    [
        ("age >= 7", "age is at least 7"),
        ("age < 16", "age is under 16"),
        ("age == 16", "age is 16"),
        ('where == "buttock"', "where is “Deep in <one> buttock” buttock"),
        ('where != "tailbone"', "where is not “On the tailbone” tailbone"),
        (
            'where in ["foot", "tailbone"]',
            "where is “Down to the foot” foot or “On the tailbone” tailbone",
        ),
        (
            'where not in ["foot", "tailbone"]',
            "where is neither “Down to the foot” foot nor “On the tailbone” tailbone",
        ),
        ('"none" in signs', "“None of these” none is ticked at signs"),
        ('signs has "weak"', "“It feels weak” weak is ticked at signs"),
        (
            'signs has any of ["weak", "numb"]',
            "any of “It feels weak” weak or “Numbness” numb is ticked at signs",
        ),
        (
            'signs has none of ["weak", "numb"]',
            "none of “It feels weak” weak or “Numbness” numb is ticked at signs",
        ),
        (
            'signs has all of ["weak", "numb"]',
            "all of “It feels weak” weak and “Numbness” numb are ticked at signs",
        ),
        (
            'not (age > 50 and where == "foot") or age < 20 and signs has "numb"',
            "not (age is over 50 and where is “Down to the foot” foot) or "
            "(age is under 20 and “Numbness” numb is ticked at signs)",
        ),
    ],
)
def test_conditions_read_as_words(condition: str, words: str) -> None:
    flow = load_compiled("words.yaml", text=WORDS_FLOW).flow
    shown_words = Words(flow).condition(parse_condition(condition))
    assert html.unescape(re.sub(r"<[^>]+>", "", shown_words)) == words
    assert "<one>" not in shown_words  # labels are escaped


def test_every_concept_its_clauses_and_its_words_are_shown(
    page: str, compiled: CompiledFlow
) -> None:
    net = compiled.flow.safety_net
    assert net is not None
    section = page[page.index('id="safety-net"') : page.index('id="scenarios"')]
    cards = section.split('<div class="card concept"')[1:]
    assert len(cards) == len(net.concepts)
    for concept, card in zip(net.concepts, cards, strict=True):
        assert card.startswith(f' id="concept-{concept.id}"')
        for clause in (*concept.concept.when, *concept.concept.ask):
            assert " + ".join(clause) in plain(card), (concept.id, clause)
            for group in clause:
                assert f'id="concept-{concept.id}-{group}"' in card
                for language in compiled.flow.languages:
                    for term in net.words[group].get(language, ()):
                        assert f'<span class="w">{html.escape(term)}</span>' in card
        for language in compiled.flow.languages:
            assert shown(concept.sign.by_language[language]) in plain(card)
    for cues in (net.negations, net.doubts, net.ignore):
        for terms in cues.values():
            for term in terms:
                assert f'<span class="w">{html.escape(term)}</span>' in section
    assert "Only asks the yes/no question" in plain(section)


def test_safety_examples_are_grouped_by_verdict_and_screened_now(
    page: str, compiled: CompiledFlow
) -> None:
    section = page[page.index('id="safety-net"') : page.index('id="scenarios"')]
    for anchor in ("saddle_numbness-emergency", "saddle_numbness-confirm", "none"):
        assert f'id="examples-{anchor}"' in section
    examples, _ = read_examples(examples_path_for(FLOW), compiled.flow)
    rows = section.split("<tr")
    cells = set(re.findall(r"<td>(.*?)</td>", section))  # one look-up per example, not a scan
    for example in examples:
        assert html.escape(example.text) in cells, example.text
    # every example has a mark, and the mark is the screener's verdict now
    marks = section.count('class="mark pass"') + section.count('class="mark fail"')
    assert marks == len(examples) > 300
    text = examples[0].text
    row = next(row for row in rows if f"<td>{html.escape(text)}</td>" in row)
    passed = compiled.screener.screen(text).verdict is examples[0].expect
    assert ('class="mark pass">✓' if passed else 'class="mark fail">✗') in row


def test_examples_marks_follow_the_screener(compiled: CompiledFlow) -> None:
    """One example expecting what the screener says now, one expecting something else."""
    text = "cant feel anything when i wipe"
    now = compiled.screener.screen(text).verdict
    other = Verdict.NONE if now is not Verdict.NONE else Verdict.CONFIRM
    examples = [
        Example(text, "en", now, None if now is Verdict.NONE else "saddle_numbness", 1),
        Example(text + "!", "en", other, None if other is Verdict.NONE else "saddle_numbness", 2),
    ]
    inputs = ReviewInputs(compiled.flow, compiled.screener, WHEN, examples=examples)
    rows = [row for row in build_review(inputs).split("</tr>") if "when i wipe" in row]
    assert len(rows) == 2
    passing = next(row for row in rows if "wipe!" not in row)
    failing = next(row for row in rows if "wipe!" in row)
    assert 'class="mark pass">✓' in passing
    assert 'class="mark fail">✗' in failing and 'tr class="failed"' in failing


def test_the_scenario_table_names_each_scenario_with_its_result(
    page: str, compiled: CompiledFlow
) -> None:
    section = page[page.index('id="scenarios"') : page.index('id="open-questions"')]
    scenarios = load_scenarios(scenario_path_for(FLOW), compiled.flow)
    assert len(scenarios) >= 40
    assert section.count("<tr") == len(scenarios) + 1
    for number, scenario in enumerate(scenarios, start=1):
        row = section.split(f'id="scenario-{number}"')[1].split("</tr>")[0]
        assert html.escape(scenario.name) in row
        assert f"→ {scenario.outcome}" in plain(row)
        if scenario.reasons:
            assert "reasons: " + ", ".join(scenario.reasons) in plain(row)
        assert 'class="mark pass">✓' in row or 'class="mark fail">✗' in row
    buttock = compiled.flow.steps["location"].option("buttock")
    assert buttock is not None
    assert f"location: {html.escape(buttock.label.by_language['en'])}" in section


def test_a_failing_scenario_is_marked_and_says_why(compiled: CompiledFlow) -> None:
    scenario = Scenario("a <b>wrong</b> expectation", {"location": "buttock"}, "emergency")
    failed = ScenarioResult(scenario, error="The flow asks 'radiation' but no answer was given.")
    inputs = ReviewInputs(compiled.flow, compiled.screener, WHEN, scenarios=[failed])
    page = build_review(inputs)
    assert "a &lt;b&gt;wrong&lt;/b&gt; expectation" in page
    assert 'class="mark fail">✗' in page
    assert "no answer was given" in page
    assert "0 of 1 behave as intended now" in plain(page)
    assert 'href="#scenario-1"' in page and 'id="scenario-1"' in page


def test_open_questions_are_included_from_the_docs(page: str) -> None:
    section = plain(page[page.index('id="open-questions"') : page.index('id="sign-off"')])
    for question in (
        "Sexual dysfunction alone as an emergency?",
        "A leg getting weaker, or foot drop, on one side: emergency or same-day?",
        "Blood thinners and pregnancy: block booking or not?",
        "Local numbers for each practice.",
        "The safety net's over-triage choices.",
        "my legs hurt",
    ):
        assert question in section


def test_markdown_lists_nest_and_everything_is_escaped() -> None:
    text = "# Title\n\nSome <i>text</i>\n\n1. **one**\n2. two\n\n   - inner `x`\n\n   more two\n"
    assert markdown(text) == (
        "<h3>Title</h3>\n<p>Some &lt;i&gt;text&lt;/i&gt;</p>\n"
        "<ol><li><strong>one</strong></li><li><p>two</p><ul><li>inner <code>x</code></li></ul>"
        "<p>more two</p></li></ol>"
    )
    assert markdown("[a link](https://example.org)") == "<p>a link (https://example.org)</p>"


def test_the_sign_off_box(page: str, compiled: CompiledFlow) -> None:
    section = page[page.index('id="sign-off"') :]
    words = plain(section)
    for field in ("Reviewer's name", "Registration body and number", "Date", "Signature"):
        assert field in words
    assert "Role (GP, physiotherapist" in words
    assert section.count('class="box"') == 3
    for choice in ("Approved", "Approved with changes", "Not approved"):
        assert choice in words
    assert compiled.flow.version in words


# --- escaping and a page that needs nothing else -------------------------------------------------


HOSTILE = "<script>alert(1)</script>"


def hostile_flow(tmp_path: Path) -> Path:
    """The small example flow with markup in its title, a question, an option, a reason, a
    warning sign's name and a word of the safety net."""
    text = MINI.read_text(encoding="utf-8")
    for old, new in (
        ('en: "Quick back check"', 'en: "Back </title><script>x()</script>"'),
        ('en: "How far down does the pain go?"', f'en: "How far down? **{HOSTILE}**"'),
        ('above_knee: { en: "Down to the knee"', 'above_knee: { en: "<b>knee</b>"'),
        ('en: "the pain goes below your knee"', 'en: "below <img src=x>"'),
        ('en: "numbness between your legs"', 'en: "numb <a href=//x.org>legs</a>"'),
        ('en: ["down there",', 'en: ["<i>there</i>", "down there",'),
    ):
        assert old in text, old
        text = text.replace(old, new, 1)
    path = tmp_path / "hostile.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_flow_texts_are_escaped(tmp_path: Path) -> None:
    compiled = load_compiled(hostile_flow(tmp_path))
    questions = "Is <script>x()</script> right?"
    examples = [Example(f"numb down there {HOSTILE}", "en", Verdict.EMERGENCY, None, 1)]
    scenario = Scenario(f"a {HOSTILE} scenario", {"radiation": "<b>"}, "book")
    inputs = ReviewInputs(
        compiled.flow,
        compiled.screener,
        WHEN,
        scenarios=[ScenarioResult(scenario, error=f"'{HOSTILE}' is not an option")],
        examples=examples,
        open_questions=questions,
    )
    page = build_review(inputs)
    assert "<script" not in page and "<img" not in page and "<b>" not in page
    assert "<i>there" not in page and "x.org>" not in page
    assert "<title>Clinical review: Back &lt;/title&gt;&lt;script&gt;x()" in page
    assert "How far down? <strong>&lt;script&gt;alert(1)&lt;/script&gt;</strong>" in page
    assert "&lt;b&gt;knee&lt;/b&gt;" in page
    assert "below &lt;img src=x&gt;" in page
    assert "numb &lt;a href=//x.org&gt;legs&lt;/a&gt;" in page
    assert '<span class="w">&lt;i&gt;there&lt;/i&gt;</span>' in page
    assert "Is &lt;script&gt;x()&lt;/script&gt; right?" in page
    assert page.count("&lt;script&gt;alert(1)&lt;/script&gt;") >= 4  # question, example, scenario
    _assert_internal_links_resolve(page)


def test_the_page_is_self_contained(page: str) -> None:
    assert page.startswith("<!DOCTYPE html>")
    assert '<meta charset="utf-8">' in page
    assert "<script" not in page and "<link" not in page and "<img" not in page
    assert not re.search(r"""(?:src|href)\s*=\s*["']?(?:https?:|//|file:)""", page)
    assert "@media print" in page and "@import" not in page and "url(" not in page
    _assert_internal_links_resolve(page)


def test_a_flow_without_scenarios_or_examples_says_so(tmp_path: Path) -> None:
    flow = tmp_path / "mini.yaml"
    shutil.copy(MINI, flow)
    compiled = load_compiled(flow)
    page = build_review(review_inputs(flow, compiled, environ={}, env_file=None))
    words = plain(page)
    assert "This flow has no scenario file." in words
    assert "No safety examples file: nothing is tested for this sign." in words
    assert "Scenarios no scenarios file" in words
    _assert_internal_links_resolve(page)


def test_an_unusable_companion_file_is_a_note_not_a_failure(tmp_path: Path) -> None:
    flow = tmp_path / "mini.yaml"
    shutil.copy(MINI, flow)
    (tmp_path / "mini.scenarios.yaml").write_text("- name: x\n  answers: 3\n", encoding="utf-8")
    (tmp_path / "mini.safety.yaml").write_text("examples:\n  fr: {}\n", encoding="utf-8")
    page = build_review(review_inputs(flow, load_compiled(flow), environ={}, env_file=None))
    words = plain(page)
    assert f"The scenario file {tmp_path / 'mini.scenarios.yaml'} could not be used" in words
    assert f"The safety examples file {tmp_path / 'mini.safety.yaml'} has mistakes" in words


# --- the command ---------------------------------------------------------------------------------


@pytest.fixture()
def in_repo(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """As from the repository, without the developer's .env or their shell's settings."""
    monkeypatch.chdir(shipped_view(tmp_path / "project"))
    for name in ("EMERGENCY_NUMBER", "URGENT_ADVICE", "BOOKING_URL"):
        monkeypatch.delenv(name, raising=False)


@pytest.mark.usefixtures("in_repo")
def test_the_command_writes_the_page(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    out = tmp_path / "review.html"
    assert main(["flows", "review", "--out", str(out)]) == 0
    err = capsys.readouterr().err
    assert err.startswith("Wrote the review page for sciatica v1-") and str(out) in err
    page = out.read_text(encoding="utf-8")
    assert "Clinical review of the triage chatbot" in page
    assert "Sexual dysfunction alone as an emergency?" in page  # docs/open-questions.md


def test_the_page_written_by_default_is_not_committed() -> None:
    done = subprocess.run(
        ["git", "check-ignore", "-q", "review.html"], cwd=ROOT, capture_output=True, timeout=60
    )
    assert done.returncode == 0


@pytest.mark.usefixtures("in_repo")
def test_the_command_takes_a_flow_name_and_other_questions(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    out = tmp_path / "page.html"
    questions = tmp_path / "q.md"
    questions.write_text("- Is **this** right?\n", encoding="utf-8")
    assert (
        main(["flows", "review", "sciatica", "--out", str(out), "--questions", str(questions)]) == 0
    )
    assert "<li>Is <strong>this</strong> right?</li>" in out.read_text(encoding="utf-8")


@pytest.mark.usefixtures("in_repo")
@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["nowhere"], "No flow 'nowhere': looked for nowhere and flows/nowhere.yaml"),
        (["flows/missing.yaml"], "There is no flow file at flows/missing.yaml"),
        (["flows"], "flows is a folder, not a flow file"),
        (
            ["sciatica", "--questions", "no-such.md"],
            "There is no open-questions file at no-such.md.",
        ),
    ],
)
def test_the_command_errors_plainly(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, argv: list[str], message: str
) -> None:
    out = tmp_path / "review.html"
    assert main(["flows", "review", *argv, "--out", str(out)]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith(message)
    assert captured.err.count("\n") == 1 and "Traceback" not in captured.err
    assert not out.exists()


@pytest.mark.usefixtures("in_repo")
def test_a_broken_flow_is_one_sentence(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text(FLOW.read_text(encoding="utf-8").replace("next: radiation", "next: radiaton"))
    out = tmp_path / "review.html"
    assert main(["flows", "review", str(broken), "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert err == (
        f"{broken} has 1 error, so no review page was written; "
        f"`triage-bot flows check {broken}` shows them.\n"
    )
    assert not out.exists()


@pytest.mark.usefixtures("in_repo")
def test_an_unwritable_out_file_is_one_sentence(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    out = tmp_path / "no-such-folder" / "review.html"
    assert main(["flows", "review", "--out", str(out)]) == 1
    assert capsys.readouterr().err == f"Could not write {out}: No such file or directory.\n"


# --- in a real browser ---------------------------------------------------------------------------


class _Document(HTMLParser):
    """The ids, internal links and outside references of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.ids: set[str] = set()
        self.fragments: list[str] = []
        self.outside: list[str] = []
        self.tags: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        values = dict(attrs)
        if values.get("id"):
            self.ids.add(str(values["id"]))
        href = values.get("href") or ""
        if tag == "a" and href.startswith("#"):
            self.fragments.append(href[1:])
        elif tag in ("img", "link", "script", "iframe", "source", "object", "embed"):
            self.outside.append(f"<{tag}> {values.get('src') or href}")
        elif href:
            self.outside.append(f"<{tag} href={href}>")


def _assert_internal_links_resolve(markup: str) -> _Document:
    document = _Document()
    document.feed(markup)
    missing = sorted(set(document.fragments) - document.ids)
    assert not missing, f"links to ids that are not on the page: {missing}"
    assert not document.outside, document.outside
    return document


@pytest.fixture(scope="module")
def chromium() -> Iterator[Path]:
    """Headless Chromium, installed by scripts/ensure-chromium when it is missing."""
    if not CHROMIUM.exists():
        done = subprocess.run(
            [str(ROOT / "scripts" / "ensure-chromium")],
            capture_output=True,
            text=True,
            timeout=1200,
            check=False,
        )
        if not CHROMIUM.exists():
            reason = done.stderr.strip().splitlines()[-1:] or ["no output"]
            pytest.skip(f"{CHROMIUM} is not installed and could not be: {reason[0]}")
    yield CHROMIUM


def _browse(chromium: Path, profile: Path, *arguments: str) -> subprocess.CompletedProcess[bytes]:
    command = [
        str(chromium),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={profile}",
        *arguments,
    ]
    done = subprocess.run(command, capture_output=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr.decode(errors="replace")[-2000:]
    return done


@pytest.fixture(scope="module")
def browsed_page(compiled: CompiledFlow) -> str:
    """The default flow's page with one safety example in twenty-five: every section, link and
    kind of row, at a size Chromium lays out and prints in seconds (the whole examples file
    is ten thousand rows; the tests above read all of them)."""
    inputs = review_inputs(FLOW, compiled, environ={}, env_file=None, generated=WHEN)
    assert inputs.examples is not None
    return build_review(replace(inputs, examples=inputs.examples[::25]))


@pytest.mark.browser
def test_the_page_in_headless_chromium(chromium: Path, browsed_page: str, tmp_path: Path) -> None:
    page = browsed_page
    path = tmp_path / "review.html"
    path.write_text(page, encoding="utf-8")
    url = path.as_uri()

    # 1. the DOM Chromium builds: every section, every internal link resolves, nothing outside
    dom = _browse(chromium, tmp_path / "profile-dom", "--dump-dom", url).stdout.decode()
    document = _assert_internal_links_resolve(dom)
    assert set(SECTIONS) <= document.ids
    assert {"step-location", "rules-leg_symptoms", "concept-saddle_numbness"} <= document.ids
    assert "table" in document.tags and "script" not in document.tags
    assert len(document.fragments) > 100

    # 2. printing it: a real PDF of many pages
    pdf = tmp_path / "review.pdf"
    _browse(
        chromium, tmp_path / "profile-pdf", "--no-pdf-header-footer", f"--print-to-pdf={pdf}", url
    )
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF")
    pages = len(re.findall(rb"/Type\s*/Page[^s]", data))
    assert pages > 1 or len(data) > 10_000

    # 3. a screenshot (for a person to look at; only its being a picture is checked here)
    png = tmp_path / "review.png"
    _browse(
        chromium, tmp_path / "profile-png", "--window-size=1280,2000", f"--screenshot={png}", url
    )
    assert png.read_bytes().startswith(b"\x89PNG")
