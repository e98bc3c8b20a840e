"""Check the texts: translations for every language, and ``{placeholders}`` that the engine
can fill (an answer given by then, or a setting such as ``{booking_url}``)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.flow.analysis import Graph
from bot.flow.draft import FlowDraft, StepDraft, TextUse, text_span
from bot.flow.errors import did_you_mean
from bot.flow.keys import SETTING_NAMES
from bot.flow.report import Report
from bot.flow.ui import UI_DEFAULTS

# The engine's own pattern (bot.engine.fill): other braces are shown as written.
PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


def check_texts(draft: FlowDraft, report: Report, graph: Graph) -> None:
    names = _Names(
        questions=list(draft.questions),
        unreadable={s.id for s in draft.steps.values() if s.kind is None},
        ui=_ui_placeholders(),
    )
    for use in draft.texts:
        _translations(draft, report, use)
        if any("{" in node.text for node in use.nodes.values()):
            _placeholders(draft, report, graph, use, names)


@dataclass(frozen=True, slots=True)
class _Names:
    """What a {placeholder} may name (computed once per flow)."""

    questions: list[str]
    unreadable: set[str]  # steps whose type could not be read: their mistake is reported
    ui: dict[str, set[str]]

    @property
    def known(self) -> list[str]:
        return [*self.questions, *SETTING_NAMES]


def _translations(draft: FlowDraft, report: Report, use: TextUse) -> None:
    languages = draft.languages
    if not use.complete:
        return
    if len(languages) < 2 and not (set(use.text.by_language) - set(languages)):
        return
    missing = [lang for lang in languages if lang not in use.text.by_language]
    if not missing:
        return
    fallback = (
        draft.default_language
        if draft.default_language in use.text.by_language
        else (next(iter(use.text.by_language)))
    )
    if use.plain:
        report.warning(
            use.node,
            f"This text is only in {fallback}; it has no {_words(missing)} translation.",
            f"People whose Telegram is set to {_words(missing)} will read it in {fallback}. "
            "Write it per language:\n" + "\n".join(f'    {lang}: "..."' for lang in languages),
        )
        return
    report.warning(
        use.node,
        f"This text has no {_words(missing)} translation.",
        f"People whose Telegram is set to {_words(missing)} will read it in {fallback}. "
        + " ".join(f'Add  {lang}: "..."' for lang in missing)
        + ".",
    )


def _words(languages: list[str]) -> str:
    return " or ".join(f"'{lang}'" for lang in languages)


def _ui_placeholders() -> dict[str, set[str]]:
    return {
        key: {name for text in texts.values() for name in PLACEHOLDER.findall(text)}
        for key, texts in UI_DEFAULTS.items()
    }


def _placeholders(
    draft: FlowDraft, report: Report, graph: Graph, use: TextUse, names: _Names
) -> None:
    step = draft.steps.get(use.step) if use.step else None
    ui_names = names.ui
    for node in use.nodes.values():
        for match in PLACEHOLDER.finditer(node.text):
            name = match.group(1)
            where = text_span(node, draft.lines, match.start(), match.group(0))
            if use.role == "label":
                report.warning(
                    where,
                    f"{{{name}}} is not filled in on a button: the button would show "
                    f"'{{{name}}}' as written.",
                    "Put answers and settings in the question's text instead.",
                )
            elif use.role == "ui":
                allowed = sorted(ui_names.get(use.ui_key or "", set()))
                if name not in allowed:
                    report.error(
                        where,
                        f"{{{name}}} cannot be used in this text of the bot.",
                        f"This text can use: {', '.join('{' + a + '}' for a in allowed)}."
                        if allowed
                        else "This text cannot use any {placeholders}.",
                    )
            elif name in names.unreadable:
                continue  # its step's type is wrong, reported there
            elif name not in names.known:
                report.error(
                    where,
                    f"{{{name}}} is neither a question of this flow nor a setting, so it "
                    "would be shown as written.",
                    did_you_mean(name, names.known, "Names you can use"),
                )
            elif name in draft.questions and _unanswered(graph, step, name):
                report.error(
                    where,
                    f"{{{name}}} has no answer yet when this text is shown, so the person "
                    f"would see '{{{name}}}' as written.",
                    f"Use {{{name}}} only in texts of steps that come after the question '{name}'.",
                )


def _unanswered(graph: Graph, step: StepDraft | None, name: str) -> bool:
    """Is the question ``name`` surely not answered yet when ``step`` is shown?"""
    if step is None:
        return False  # a flow-wide text: shown in many places
    available = graph.answerable_at(step, own=False)
    return available is not None and name not in available
