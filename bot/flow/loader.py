"""Load a therapist's flow file: read, check everything, build the model, compile.

    flow = load_flow("flows/sciatica.yaml")          # raises FlowError with every problem
    problems = check_flow("flows/sciatica.yaml")     # errors and warnings, in file order
    compiled = load_compiled("flows/sciatica.yaml")  # ready for bot.engine.Engine

A flow's version is the therapist's ``version:`` plus a hash of the file's text, so any edit
gives a new version even when the therapist forgets to raise the number. A practice's copy
made by ``triage-bot flows init`` is also checked against the shipped flow it was made from,
kept beside it in ``.origin/`` (safety rule S7, :mod:`bot.flow.origin`).
"""

from __future__ import annotations

import hashlib
import logging
from os import PathLike
from pathlib import Path

from bot.flow.compiler import CompiledFlow, compile_flow
from bot.flow.draft import FlowDraft
from bot.flow.errors import FlowError, Problem
from bot.flow.model import Flow
from bot.flow.origin import shipped_for
from bot.flow.positions import Span
from bot.flow.read import FlowReader
from bot.flow.report import Report
from bot.flow.source import Reader
from bot.flow.validate import validate

logger = logging.getLogger(__name__)

PathArg = str | PathLike[str]


def _read_text(path: PathArg, text: str | None) -> tuple[str, str | Problem]:
    name = str(path)
    if text is not None:
        return name, text
    try:
        return name, Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        message = f"There is no flow file at {name}."
    except IsADirectoryError:
        message = f"{name} is a folder, not a flow file."
    except UnicodeDecodeError:
        message = f"{name} is not a text file in UTF-8."
    except OSError as error:
        message = f"{name} cannot be read: {error.strerror or error}."
    return name, Problem(file=name, line=0, column=0, message=message)


def _check(path: PathArg, text: str | None) -> tuple[list[Problem], FlowDraft | None, str]:
    name, content = _read_text(path, text)
    if isinstance(content, Problem):
        return [content], None, ""
    lines = content.splitlines()
    report = Report(name, lines)
    reader = Reader(content)
    root = reader.read()
    for problem in reader.problems:
        report.source(problem)
    if root is None:
        if not reader.problems:
            report.error(
                Span(1, 1),
                "This flow file is empty.",
                "See docs/flow-language.md for a complete small example.",
            )
        return report.sorted(), None, content
    draft = FlowReader(report, name, lines).read(root)
    if draft.root is not None:
        validate(draft, report, shipped_for(Path(path)))
    return report.sorted(), draft, content


def flow_version(version: int, text: str) -> str:
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()[:8]
    return f"{version}-{digest}"


def check_flow(path: PathArg, *, text: str | None = None) -> list[Problem]:
    """Every problem in the flow file (errors and warnings), in file order."""
    problems, _, _ = _check(path, text)
    return problems


def load_flow(path: PathArg, *, text: str | None = None) -> Flow:
    """The flow in ``path`` (or in ``text``, reported as ``path``), fully checked.

    Raises :class:`FlowError` with every problem when there is at least one error; warnings
    alone (such as missing translations) do not stop loading.
    """
    problems, draft, content = _check(path, text)
    if draft is None or any(p.is_error for p in problems):
        raise FlowError(problems)
    warnings = len(problems)
    if warnings:
        logger.info(
            "flow %s loaded with %d warning(s); run 'triage-bot flows check'", path, warnings
        )
    return draft.to_flow(flow_version(draft.version, content))


def load_compiled(path: PathArg, *, text: str | None = None) -> CompiledFlow:
    """Load, check and compile a flow into the one machine that serves every conversation."""
    return compile_flow(load_flow(path, text=text))
