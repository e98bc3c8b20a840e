"""``triage-bot`` (also ``python -m bot``): run the bot, and the therapist's flow tools.

    triage-bot run                                  start the Telegram bot
    triage-bot backup [--to FILE]                   copy the database, safely while it runs
    triage-bot restore FILE                         put a backup in place (bot stopped)
    triage-bot doctor                               is everything ready? (✓/✗ per check)
    triage-bot chat [FLOW]                          the conversation in this terminal
    triage-bot flows check [FILE|DIR ...]           is the flow file correct?
    triage-bot flows try FLOW --answer KEY=VALUE    where do these answers lead?
    triage-bot flows test [FILE ...] [--update]     run the scenario tests and safety examples
    triage-bot flows screen [FLOW] [--json]         what the safety net makes of messages
    triage-bot flows graph FLOW [--out FILE]        draw the whole conversation
    triage-bot flows review [FLOW] [--out FILE]     the clinician's review page (HTML)
    triage-bot flows init [--to DIR]                the practice's own copy of the default flow
    triage-bot flows diff [FLOW] [--accept]         what changed in the shipped flow since

Exit codes: 0 all well; 1 a flow has errors or cannot be found, a scenario failed or the bot
could not start; 2 the command was used wrongly (unknown option, a missing or invalid answer,
a language the flow does not have given to ``flows try``, nothing but scenario files given
to ``flows check``). ``chat`` with such a language says so once and goes on in the flow's
first language.
A flow error is shown as the validator renders it (file:line, the line, the fix), and any
other mistake a person can fix (a ``bot.errors.SetupError``) as its one message, never as a
traceback. FLOW is a path, or the name of a flow in flows/ (``sciatica``).
``flows check`` skips scenario and safety-examples files (so ``flows check flows/*.yaml``
works), checks every flow file in a folder it is given, and checks each flow's safety-examples
file (``<flow>.safety.yaml``) with it. Given no flow, ``flows check``, ``test``, ``screen``,
``review`` and ``diff`` (like ``chat``) work on the flow the bot runs, FLOW_FILE, read as
``run`` reads it (the environment, then .env; no token needed); without FLOW_FILE, on the
shipped default in flows/ (``diff``: practice/sciatica.yaml). ``flows try --json`` prints one
JSON object on stdout even when it fails (``"error"`` says why, ``"outcome"`` is null).
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from bot import practice_copy
from bot.config import DEFAULT_FLOW_FILE, ConfigError, load_settings
from bot.engine import Engine
from bot.errors import SetupError
from bot.flow import CompiledFlow, FlowError, check_flow, load_compiled, load_flow, render_problems
from bot.flow.safety_rules import SHIPPED_SAFETY_KEPT
from bot.graph import mermaid, render_image
from bot.link import SourceError, cli_main, validate_source
from bot.ops import commands as ops_commands
from bot.practice_copy import CopyError, shown
from bot.review import build_review
from bot.review_files import ReviewFileError, review_inputs
from bot.safety_examples import (
    examples_path_for,
    flow_path_for_examples,
    is_examples_file,
    read_examples,
    run_examples,
)
from bot.safety_examples import format_result as format_example
from bot.scenarios import (
    SCENARIO_SUFFIX,
    AnswerError,
    ScenarioFileError,
    ScenarioResult,
    count_scenarios,
    example_value,
    flow_path_for,
    format_result,
    load_scenarios,
    record_results,
    run_scenarios,
    scenario_path_for,
    unknown_answer_keys,
    walk,
)
from bot.simulator import (
    ChatSettings,
    chat_settings,
    is_demo,
    language_missing,
    language_note,
    run_terminal_chat,
    say_in,
    styled,
    wants_color,
)

# Everything is imported above but the Telegram side (``triage-bot run`` and ``doctor``):
# python-telegram-bot takes a few tenths of a second to import, which every ``flows check``
# and ``chat`` would pay for nothing. Those two import it when they run, by choice.

OK, FAILED, USAGE = 0, 1, 2
FLOWS_DIR = Path("flows")

Command = Callable[[argparse.Namespace], int]


# --- helpers -------------------------------------------------------------------------------------


def _err(message: str) -> None:
    print(message, file=sys.stderr)


class FlowNotFound(SetupError):
    """A flow file that is not there; ``str()`` is one sentence saying where we looked."""


def _is_bare_name(name: str | Path) -> bool:
    path = Path(name)
    return not path.suffix and len(path.parts) == 1


def resolve_flow(name: str | Path) -> Path:
    """A path as given, or ``flows/<name>.yaml`` for a bare flow name."""
    path = Path(name)
    if not path.exists() and _is_bare_name(path):
        candidate = FLOWS_DIR / f"{path.name}.yaml"
        if candidate.exists():
            return candidate
    return path


def find_flow(name: str | Path) -> Path:
    """The flow file ``name`` means, or :class:`FlowNotFound` saying where we looked."""
    path = resolve_flow(name)
    if path.is_file():
        return path
    # Relative names are looked up from here: the usual slip is running outside the project.
    advice = "" if path.is_absolute() else "; run from the project folder or give the file's path"
    if path.is_dir():
        raise FlowNotFound(
            f"{path} is a folder, not a flow file; give a file such as {path}/x.yaml."
        )
    if _is_bare_name(name):
        raise FlowNotFound(
            f"No flow '{name}': looked for {name} and {FLOWS_DIR / f'{name}.yaml'}{advice}."
        )
    raise FlowNotFound(f"There is no flow file at {path}{advice}.")


def is_scenario_file(path: Path) -> bool:
    return path.name.endswith(SCENARIO_SUFFIX)


def is_companion_file(path: Path) -> bool:
    """A scenario or safety-examples file: it belongs to a flow but is not one."""
    return is_scenario_file(path) or is_examples_file(path)


def flow_files(folder: Path = FLOWS_DIR) -> list[Path]:
    """The flows in a folder: its *.yaml files without their scenario and examples files."""
    return sorted(p for p in folder.glob("*.yaml") if not is_companion_file(p))


def _engine(path: Path, texts: dict[str, str] | None = None) -> Engine:
    return Engine(_compiled(path), texts or {})


def _compiled(path: Path) -> CompiledFlow:
    return load_compiled(find_flow(path))


def _chat_settings() -> ChatSettings:
    settings = chat_settings()
    if settings.note:
        _err(settings.note)
    return settings


def _flow_in_settings() -> Path | None:
    """The flow the bot runs when FLOW_FILE is set (read as ``triage-bot run`` reads it: the
    environment, then .env; no token needed), else None: the shipped flow is meant."""
    try:
        path = load_settings(require_token=False).flow_file
    except ConfigError as error:
        raise FlowNotFound(
            f"The settings say which flow the bot runs (FLOW_FILE), but they cannot be read: "
            f"{error} Fix them, or name the flow file: e.g. triage-bot flows check "
            "practice/sciatica.yaml."
        ) from None
    if path == Path(DEFAULT_FLOW_FILE):
        return None
    if not path.exists():
        raise FlowNotFound(
            f"There is no flow file at {path} (FLOW_FILE in the settings); make the practice's "
            "copy with triage-bot flows init, or name the flow file."
        )
    return path


def _default_flow() -> Path:
    """The flow a tool works on when given none: FLOW_FILE, else the shipped default."""
    return _flow_in_settings() or FLOWS_DIR / f"{practice_copy.DEFAULT_FLOW}.yaml"


# --- triage-bot run ------------------------------------------------------------------------------


def cmd_run(args: argparse.Namespace) -> int:
    try:
        settings = load_settings()
    except ConfigError as error:
        _err(str(error))
        return FAILED
    from bot.run import run_bot  # python-telegram-bot: only when the bot runs (see the imports)

    return run_bot(settings)


# --- triage-bot link ------------------------------------------------------------------------------


def cmd_link(args: argparse.Namespace) -> int:
    # httpx logs request URLs at INFO, and a getMe URL carries the token.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    try:
        settings = load_settings(require_token=False)  # BOT_USERNAME alone is enough
    except ConfigError as error:
        _err(str(error))
        return FAILED
    # A mistake in the arguments is told alone: the flow is read only for a usable source.
    usable = args.source is None or (isinstance(args.source, str) and _valid_source(args.source))
    languages = _flow_languages(settings.flow_file) if usable else ("en",)
    return cli_main(args, settings, languages)


def _valid_source(source: str) -> bool:
    try:
        validate_source(source)
    except SourceError:
        return False
    return True


def _flow_languages(path: Path) -> tuple[str, ...]:
    """The languages of the flow the bot runs, for the website snippets (English when the flow
    cannot be read: its mistakes are for flows check to show)."""
    try:
        return load_flow(path).languages
    except (FlowError, OSError):
        _err(f"The flow {path} cannot be read, so the website snippet is in English only.")
        return ("en",)


# --- triage-bot chat -----------------------------------------------------------------------------


def cmd_chat(args: argparse.Namespace) -> int:
    settings = _chat_settings()
    if args.flow:
        path = Path(args.flow)
    else:
        path = settings.flow_file
        if not path.exists():
            where = (
                "run from the project folder"
                if path == Path(DEFAULT_FLOW_FILE)
                else "make the practice's copy with triage-bot flows init"
            )
            raise FlowNotFound(
                f"There is no flow file at {path} (FLOW_FILE); {where} or give the flow: "
                "triage-bot chat path/to/flow.yaml."
            )
    engine = _engine(path, settings.texts)
    note = language_note(engine.flow, args.language)
    if note:
        _err(note)
    return run_terminal_chat(engine, language=args.language)


# --- triage-bot flows check ----------------------------------------------------------------------


def _files_to_check(names: Sequence[str]) -> tuple[list[Path], bool]:
    """The flow files meant by ``names`` (files, folders, flow names); were any left out?
    None named: the flow the bot runs (FLOW_FILE), else every flow in flows/."""
    if not names:
        configured = _flow_in_settings()
        return ([configured] if configured else flow_files()), False
    files: list[Path] = []
    skipped = False
    for name in names:
        path = resolve_flow(name)
        if path.is_dir():
            found = flow_files(path)
            if not found:
                _err(f"There are no flow files (*.yaml) in {path}/.")
                skipped = True
            files.extend(found)
        elif is_scenario_file(path):
            # `flows check flows/*.yaml` names the scenario files too: say so, don't fail.
            _err(f"{path} is a scenario file: run `triage-bot flows test {path}`.")
            skipped = True
        elif is_examples_file(path):
            # Checked with its flow; a glob that names it as well need not check it twice.
            flow = flow_path_for_examples(path)
            if flow not in files and not (names and str(flow) in names):
                files.append(flow)
        else:
            files.append(path)
    return files, skipped


def cmd_check(args: argparse.Namespace) -> int:
    files, skipped = _files_to_check(args.files)
    if not files:
        if skipped:
            return USAGE
        _err(f"There are no flow files in {FLOWS_DIR}/.")
        return FAILED
    failed = False
    for path in files:
        try:
            path = find_flow(path)
        except FlowNotFound as error:
            _err(str(error))
            failed = True
            continue
        problems = check_flow(path)
        if not any(p.is_error for p in problems) and examples_path_for(path).exists():
            _, found = read_examples(examples_path_for(path), load_compiled(path).flow)
            problems += found
        errors = [p for p in problems if p.is_error]
        failed = failed or bool(errors)
        if problems:
            print(render_problems(problems), end="\n\n", file=sys.stderr if errors else sys.stdout)
        if not errors:
            warnings = f" ({len(problems)} warning{'s' if len(problems) != 1 else ''})"
            print(f"{path}: OK{warnings if problems else ''}")
    return FAILED if failed else OK


# --- triage-bot flows try ------------------------------------------------------------------------


def _parse_answers(pairs: Sequence[str]) -> dict[str, str]:
    answers: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise AnswerError(
                pair, f"--answer {pair!r} is not KEY=VALUE (e.g. --answer severity=7)."
            )
        answers[key.strip()] = value.strip()
    return answers


class TryError(SetupError):
    """``flows try`` cannot give an answer: the message, and the exit code it means."""

    def __init__(self, message: str, code: int) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


def cmd_try(args: argparse.Namespace) -> int:
    try:
        return _try(args)
    except TryError as error:
        _err(error.message)
        if args.json:
            # Scripts read stdout: they get an object on failure too, with the reason.
            failure: dict[str, Any] = {"error": error.message, "outcome": None}
            failure.update(reasons=[], path=[], answers={}, ignored=[])
            print(json.dumps(failure, ensure_ascii=False))
        return error.code


def _try(args: argparse.Namespace) -> int:
    try:
        engine = _engine(Path(args.flow), _chat_settings().texts)
    except FlowNotFound as error:
        raise TryError(str(error), FAILED) from error
    except FlowError as error:
        raise TryError(str(error), FAILED) from error
    flow = engine.flow
    if language_missing(flow, args.language):
        raise TryError(
            f"This flow has no '{args.language}'. Languages: {', '.join(flow.languages)}.", USAGE
        )
    try:
        given = _parse_answers(args.answer)
        unknown = unknown_answer_keys(flow, given)
        for message in unknown.values():
            _err(f"Note: {message} It is ignored.")
        result = walk(engine, given, language=args.language)
    except AnswerError as error:
        message = error.message
        if error.missing:
            example = example_value(flow.steps[error.step])
            message += f"\nAdd it, for example: --answer {error.step}={example}"
        raise TryError(message, USAGE) from error
    ignored = [key for key in given if key not in result.answers]
    not_asked = [key for key in ignored if key not in unknown]
    if not_asked:
        _err(f"Note: not asked on this path: {', '.join(not_asked)}.")
    if args.json:
        print(json.dumps({**result.to_json_dict(), "ignored": ignored}, ensure_ascii=False))
        return OK
    path = find_flow(Path(args.flow))
    print(f"Path through {path}:")
    for number, step_id in enumerate(result.path, start=1):
        words = engine.answer_words(result.session, step_id)
        value = _show_value(result.answers[step_id])
        shown = value if words == value else f"{value}  ({words})"
        print(f"  {number}. {step_id} = {shown}")
    outcome = flow.steps[result.outcome]
    print(f"Outcome: {result.outcome}{'  (urgent)' if outcome.urgent else ''}")
    print(f"Reasons: {', '.join(result.reasons) or '(none)'}")
    if args.show:
        color = wants_color(sys.stdout)
        print()
        for reply in result.replies:
            print(styled(reply.text, color=color))
            if reply.link is not None:
                demo = ""
                if is_demo(reply.link.url):
                    demo = " " + say_in("demo_link", result.session.language)
                print(f"[{reply.link.label}: {reply.link.url}]{demo}")
    return OK


def _show_value(value: Any) -> str:
    return ",".join(map(str, value)) if isinstance(value, list) else str(value)


# --- triage-bot flows test -----------------------------------------------------------------------


def _scenario_files(names: Sequence[str]) -> list[Path]:
    if not names:
        return sorted(FLOWS_DIR.glob(f"*{SCENARIO_SUFFIX}"))
    files = []
    for name in names:
        path = resolve_flow(name)
        if path.is_dir():  # every scenario file in the folder (practice/, say)
            files.extend(sorted(path.glob(f"*{SCENARIO_SUFFIX}")))
            continue
        # A flow file stands for its scenario file next to it.
        if not path.name.endswith(SCENARIO_SUFFIX):
            path = scenario_path_for(path)
        files.append(path)
    return files


def _examples_files(names: Sequence[str]) -> list[Path]:
    """The safety-examples files beside the flows that ``names`` mean (all in flows/ by
    default)."""
    if not names:
        return sorted(FLOWS_DIR.glob("*.safety.yaml"))
    found = []
    for name in names:
        path = resolve_flow(name)
        if path.is_dir():
            found.extend(sorted(path.glob("*.safety.yaml")))
        elif is_examples_file(path):
            found.append(path)
        elif not is_scenario_file(path) and examples_path_for(path).exists():
            found.append(examples_path_for(path))
    return found


def _run_examples_file(path: Path, *, verbose: bool) -> tuple[int, int] | None:
    """(passed, failed) for one safety-examples file, or None when it could not be used."""
    try:
        compiled = _compiled(flow_path_for_examples(path))
    except (FlowError, FlowNotFound) as error:
        _err(str(error))
        return None
    examples, problems = read_examples(path, compiled.flow)
    if any(p.is_error for p in problems):
        _err(render_problems(problems))
        _err(f"{path}: the file could not be used; fix the mistakes above.")
        return None
    results = run_examples(compiled.screener, examples)
    print(f"{path} ({_plural(len(results), 'safety example')}, flow {compiled.flow.id})")
    failed = [r for r in results if not r.passed]
    for result in results if verbose else failed:
        print(format_example(result))
    return len(results) - len(failed), len(failed)


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def cmd_test(args: argparse.Namespace) -> int:
    if not args.files:  # the flow the bot runs (FLOW_FILE), else every flow in flows/
        configured = _flow_in_settings()
        args.files = [str(configured)] if configured else []
    files = _scenario_files(args.files)
    if not files:
        _err(f"There are no scenario files (*{SCENARIO_SUFFIX}) in {FLOWS_DIR}/.")
        return FAILED
    passed = failed = unreadable = recorded = 0
    for path in files:
        if not path.exists():
            _err(f"{path}: there is no scenario file here.")
            unreadable += 1
            continue
        try:
            engine = _engine(flow_path_for(path))
            scenarios = load_scenarios(path, engine.flow)
        except (FlowError, ScenarioFileError, FlowNotFound) as error:
            # The file's own mistakes, not failing scenarios: say so rather than count them.
            _err(str(error))
            held = count_scenarios(path)
            inside = f" ({_plural(held, 'scenario')} not run)" if held else ""
            _err(f"{path}: the file could not be used{inside}; fix the mistakes above.")
            unreadable += 1
            continue
        counted = _plural(len(scenarios), "scenario")
        print(f"{path} ({counted}, flow {engine.flow.id} v{engine.flow.version})")
        approved: list[ScenarioResult] = []
        for result in run_scenarios(engine, scenarios):
            if result.passed:
                passed += 1
                if args.verbose:
                    print(format_result(result))
                continue
            print(format_result(result))
            if args.update and result.walk is not None and _ask("Record the new result?"):
                approved.append(result)
            else:
                failed += 1
        if approved:
            recorded += _record(path, engine, approved)
            failed += len(approved) - recorded
    unusable = 0  # safety-examples files
    for path in _examples_files(args.files):
        outcome = _run_examples_file(path, verbose=args.verbose)
        if outcome is None:
            unusable += 1
            continue
        passed += outcome[0]
        failed += outcome[1]
    summary = f"{passed} passed, {failed} failed"
    if args.update:
        summary += f", {recorded} recorded"
    unused = [_plural(unreadable, "scenario file")] if unreadable else []
    unused += [_plural(unusable, "safety-examples file")] if unusable else []
    if unused:
        summary += f"; {' and '.join(unused)} could not be used"
    print(f"{summary}.")
    return FAILED if failed or unreadable or unusable else OK


def _ask(question: str) -> bool:
    """Ask on the terminal (or whatever stdin is); anything but yes is no, end of input too."""
    print(f"      {question} [y/N] ", end="", flush=True)
    answer = sys.stdin.readline()
    if not sys.stdin.isatty() or not answer.endswith("\n"):
        print(answer.strip())  # piped (or the end of it): show what was answered
    return answer.strip().lower() in ("y", "yes")


def _record(path: Path, engine: Engine, approved: list[ScenarioResult]) -> int:
    """Write the approved results into the scenario file; how many were recorded."""
    text = path.read_text(encoding="utf-8")
    try:
        new = record_results(text, approved)
        load_scenarios(path, engine.flow, text=new)  # never write a file that would not load
    except (ValueError, ScenarioFileError) as error:
        _err(f"{path}: the new results could not be written into the file ({error}).")
        return 0
    path.write_text(new, encoding="utf-8")
    names = ", ".join(f"'{r.scenario.name}'" for r in approved)
    print(f"Recorded the new result of {_plural(len(approved), 'scenario')} in {path}: {names}.")
    return len(approved)


# --- triage-bot flows screen ---------------------------------------------------------------------


def cmd_screen(args: argparse.Namespace) -> int:
    """What the safety net does with each message at a question step: one line (or one JSON
    object) per message, in order, with the words that made it act."""
    compiled = _compiled(Path(args.flow) if args.flow else _default_flow())
    flow = compiled.flow
    if args.language and args.language not in flow.languages:
        _err(f"This flow has no '{args.language}'. Languages: {', '.join(flow.languages)}.")
        return USAGE
    if flow.safety_net is None:
        _err(f"{flow.source} has no safety net: every message would pass unread.")
        return FAILED
    language = args.language or flow.default_language
    messages = [args.text] if args.text is not None else (line.rstrip("\n") for line in sys.stdin)
    for text in messages:
        screening = compiled.screener.screen(text)
        if args.json:
            record = {
                "text": text,
                "verdict": screening.verdict.value,
                "concept": screening.concept,
                "evidence": screening.evidence,
            }
            print(json.dumps(record, ensure_ascii=False), flush=True)
            continue
        print(_screen_line(flow, text, screening, language), flush=True)
    return OK


def _screen_line(flow: Any, text: str, screening: Any, language: str) -> str:
    if screening.concept is None:
        return f"none       {text}"
    concept = flow.safety_net.concept(screening.concept)
    sign = concept.sign.get(language, flow.default_language) if concept else screening.concept
    return (
        f"{screening.verdict.value:<10} {text}\n"
        f"           {screening.concept}: “{screening.evidence}” ({sign})"
    )


# --- triage-bot flows graph ----------------------------------------------------------------------


def cmd_graph(args: argparse.Namespace) -> int:
    flow = _compiled(Path(args.flow)).flow
    text = mermaid(flow)
    if args.out is None:
        sys.stdout.write(text)
    else:
        out = Path(args.out)
        out.write_text(text, encoding="utf-8")
        _err(f"Wrote the Mermaid diagram to {out}.")
    if args.image:
        image = Path(args.image)
    elif args.out:
        image = Path(args.out).with_suffix(".png")
    else:
        _err("For an image as well, add --out FILE (or --image FILE.png).")
        return OK
    problem = render_image(flow, image)
    if problem is None:
        _err(f"Wrote the image to {image} (Graphviz).")
        return OK
    _err(problem[0].upper() + problem[1:])
    return OK if args.image is None else FAILED


# --- triage-bot flows review ---------------------------------------------------------------------


def cmd_review(args: argparse.Namespace) -> int:
    """Write the clinician's review page (bot.review): one self-contained HTML file."""
    try:
        path = find_flow(Path(args.flow) if args.flow else _default_flow())
        compiled = load_compiled(path)
        questions = Path(args.questions) if args.questions else None
        page = build_review(review_inputs(path, compiled, questions=questions))
        Path(args.out).write_text(page, encoding="utf-8")
    except (FlowNotFound, ReviewFileError) as error:
        _err(str(error))
        return FAILED
    except FlowError as error:
        count = _plural(len(error.errors) or 1, "error")
        _err(
            f"{path} has {count}, so no review page was written; "
            f"`triage-bot flows check {path}` shows them."
        )
        return FAILED
    except OSError as error:
        _err(f"Could not write {args.out}: {error.strerror or error}.")
        return FAILED
    _err(f"Wrote the review page for {compiled.flow.id} v{compiled.flow.version} to {args.out}.")
    return OK


# --- triage-bot flows init / diff -----------------------------------------------------------------


def cmd_init(args: argparse.Namespace) -> int:
    try:
        copied = practice_copy.init(Path(args.to))
    except CopyError as error:
        _err(str(error))
        return FAILED
    version = f" (version {copied.version})" if copied.version is not None else ""
    print(f"Copied the default flow{version} into {shown(copied.folder)}/:")
    what = ["the conversation", "its scenario tests", "its safety examples"]
    width = max(len(shown(file)) for file in copied.files)
    for file, words in zip(copied.files, what, strict=False):
        print(f"  {shown(file):<{width}}  {words}")
    print("To run the bot with it, put this line in .env:")
    print(f"FLOW_FILE={shown(copied.flow)}")
    folder = shown(copied.folder)
    print(
        f"After every edit: triage-bot flows check {folder}/ && triage-bot flows test {folder}/"
        "\nWhen the code is updated, triage-bot flows diff shows what changed in the shipped "
        "flow."
    )
    return OK


def cmd_diff(args: argparse.Namespace) -> int:
    default = practice_copy.DEFAULT_FOLDER / f"{practice_copy.DEFAULT_FLOW}.yaml"
    copy = resolve_flow(args.flow) if args.flow else (_flow_in_settings() or default)
    try:
        compared = practice_copy.compare(copy)
    except CopyError as error:
        _err(str(error))
        return FAILED
    since = compared.since
    then = compared.version_then
    for file in compared.missing:
        print(f"{file} is no longer shipped with the code; your copy is unaffected.")
    if not compared.changes:
        version = f" (version {then})" if then is not None else ""
        print(
            f"Nothing changed in the shipped flow since {shown(copy)} was copied from it on "
            f"{since}{version}: there is nothing to take over."
        )
        return OK
    now = compared.version_now
    versions = f", version {then} then and {now} now" if then is not None else ""
    names = ", ".join(shown(change.shipped) for change in compared.changes)
    print(f"The shipped files changed since {since}{versions}: {names}.")
    for change in compared.changes:
        print()
        sys.stdout.write(compared.diff(change))
    print()
    if args.accept:
        practice_copy.accept(compared)
        unsafe = [p for p in check_flow(copy) if p.message.startswith(SHIPPED_SAFETY_KEPT.label)]
        if unsafe:
            practice_copy.undo_accept(compared)
            _err(render_problems(unsafe))
            _err(
                f"\nNot recorded: the shipped flow now has safety that {shown(copy)} lacks "
                f"(rule {SHIPPED_SAFETY_KEPT.label}), and the bot would refuse your copy at its "
                "next start. Take it over into your copy first, then run this again with --accept."
            )
            return FAILED
        print(
            f"Recorded the shipped files as they are now: the next diff of {shown(copy)} shows "
            "only what changes after today."
        )
    else:
        print(
            f"Your copy is {shown(copy)}: take over what you want by hand, check it with "
            f"triage-bot flows check {shown(copy)} and flows test, then run this again with "
            "--accept so that the next diff shows only newer changes."
        )
    return OK


# --- the parser ----------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="triage-bot",
        description="A Telegram triage bot for a massage practice, and the tools to edit it.",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    run = commands.add_parser("run", help="start the Telegram bot (settings from .env)")
    run.set_defaults(handler=cmd_run)

    chat = commands.add_parser("chat", help="talk to a flow in this terminal (no token needed)")
    chat.add_argument(
        "flow", nargs="?", metavar="FLOW", help="default: FLOW_FILE or flows/sciatica.yaml"
    )
    chat.add_argument("--language", help="e.g. en or es (default: the flow's first language)")
    chat.set_defaults(handler=cmd_chat)

    flows = commands.add_parser("flows", help="check, try, test and draw flow files")
    tools = flows.add_subparsers(dest="tool", metavar="TOOL", required=True)

    check = tools.add_parser(
        "check", help="validate flow files (default: FLOW_FILE, else flows/*.yaml)"
    )
    check.add_argument(
        "files", nargs="*", metavar="FILE", help="flow files or folders (scenario files skipped)"
    )
    check.set_defaults(handler=cmd_check)

    try_ = tools.add_parser("try", help="walk a flow with given answers, print path and outcome")
    try_.add_argument("flow", metavar="FLOW")
    try_.add_argument(
        "--answer",
        "-a",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="an answer; a multi-select takes a comma-separated list (doctor_flags=none)",
    )
    try_.add_argument(
        "--json", action="store_true", help="print one JSON object (also on an error)"
    )
    try_.add_argument("--show", action="store_true", help="also print the outcome message")
    try_.add_argument("--language", help="e.g. en or es (one the flow has, else exit 2)")
    try_.set_defaults(handler=cmd_try)

    test = tools.add_parser(
        "test",
        help="run scenario and safety-examples files (default: FLOW_FILE's, else all in flows/)",
    )
    test.add_argument("files", nargs="*", metavar="FILE")
    test.add_argument("-v", "--verbose", action="store_true", help="list passing scenarios too")
    test.add_argument(
        "--update",
        action="store_true",
        help="for each changed scenario, ask whether to record the new result in its file",
    )
    test.set_defaults(handler=cmd_test)

    screen = tools.add_parser(
        "screen", help="what the safety net does with messages (one per line on stdin)"
    )
    screen.add_argument(
        "flow", nargs="?", metavar="FLOW", help="default: FLOW_FILE or flows/sciatica.yaml"
    )
    screen.add_argument("--language", help="the language of the sign's name in the output")
    screen.add_argument("--json", action="store_true", help="one JSON object per message")
    screen.add_argument("--text", help="screen this one message instead of standard input")
    screen.set_defaults(handler=cmd_screen)

    graph = tools.add_parser("graph", help="draw a flow: Mermaid text, and an image with Graphviz")
    graph.add_argument("flow", metavar="FLOW")
    graph.add_argument("--out", metavar="FILE", help="write the Mermaid text here (e.g. flow.mmd)")
    graph.add_argument("--image", metavar="FILE", help="image file (.png, .svg); needs Graphviz")
    graph.set_defaults(handler=cmd_graph)

    review = tools.add_parser(
        "review", help="write the clinician's review page: questions, rules, safety net, sign-off"
    )
    review.add_argument(
        "flow", nargs="?", metavar="FLOW", help="default: FLOW_FILE or flows/sciatica.yaml"
    )
    review.add_argument("--out", default="review.html", metavar="FILE", help="default: review.html")
    review.add_argument(
        "--questions",
        metavar="FILE",
        help="open questions (Markdown; default: docs/open-questions.md)",
    )
    review.set_defaults(handler=cmd_review)

    init = tools.add_parser(
        "init", help="copy the default flow, its scenarios and safety examples for the practice"
    )
    init.add_argument(
        "--to", metavar="DIR", default="practice", help="the practice's folder (default: practice)"
    )
    init.set_defaults(handler=cmd_init)

    diff = tools.add_parser(
        "diff", help="what changed in the shipped default flow since the practice's copy"
    )
    diff.add_argument(
        "flow",
        nargs="?",
        metavar="FLOW",
        help="the practice's copy (default: FLOW_FILE, else practice/sciatica.yaml)",
    )
    diff.add_argument(
        "--accept",
        action="store_true",
        help="record the shipped files as they are now: the next diff starts from here",
    )
    diff.set_defaults(handler=cmd_diff)

    link = commands.add_parser(
        "link", help="print the bot's link for the website; write a QR code and an HTML snippet"
    )
    link.add_argument(
        "--source", metavar="NAME", help="where people come from, e.g. website (shown in /stats)"
    )
    link.add_argument(
        "--out", metavar="DIR", type=Path, help="folder for the files (default: website/)"
    )
    link.set_defaults(handler=cmd_link)

    ops_commands.add_commands(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    handler: Command = args.handler
    try:
        return handler(args)
    except SetupError as error:  # a flow, a setting, a file: a message, never a traceback
        _err(str(error))
        return FAILED
    except BrokenPipeError:
        return OK  # e.g. `triage-bot flows graph sciatica | head`
