"""``triage-bot`` (also ``python -m bot``): run the bot, and the therapist's flow tools.

    triage-bot run                                  start the Telegram bot
    triage-bot chat [FLOW]                          the conversation in this terminal
    triage-bot flows check [FILE ...]               is the flow file correct?
    triage-bot flows try FLOW --answer KEY=VALUE    where do these answers lead?
    triage-bot flows test [FILE ...]                run the scenario tests
    triage-bot flows graph FLOW [--out FILE]        draw the whole conversation

Exit codes: 0 all well; 1 a flow has errors, a scenario failed or the bot could not start;
2 the command was used wrongly (unknown option, a missing or invalid answer).
A flow error is shown as the validator renders it (file:line, the line, the fix), never as
a traceback. FLOW is a path, or the name of a flow in flows/ (``sciatica``).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.engine import Engine
from bot.flow import FlowError, check_flow, load_compiled, render_problems
from bot.scenarios import (
    SCENARIO_SUFFIX,
    AnswerError,
    ScenarioFileError,
    example_value,
    flow_path_for,
    format_result,
    load_scenarios,
    run_scenarios,
    scenario_path_for,
    unknown_answer_keys,
    walk,
)

if TYPE_CHECKING:
    from bot.simulator import ChatSettings

OK, FAILED, USAGE = 0, 1, 2
FLOWS_DIR = Path("flows")

Command = Callable[[argparse.Namespace], int]


# --- helpers -------------------------------------------------------------------------------------


def _err(message: str) -> None:
    print(message, file=sys.stderr)


def resolve_flow(name: str | Path) -> Path:
    """A path as given, or ``flows/<name>.yaml`` for a bare flow name."""
    path = Path(name)
    if not path.exists() and not path.suffix:
        candidate = FLOWS_DIR / f"{path.name}.yaml"
        if candidate.exists():
            return candidate
    return path


def flow_files() -> list[Path]:
    """The shipped flows: flows/*.yaml without the scenario files."""
    return sorted(p for p in FLOWS_DIR.glob("*.yaml") if not p.name.endswith(SCENARIO_SUFFIX))


def _engine(path: Path, texts: dict[str, str] | None = None) -> Engine:
    return Engine(load_compiled(path), texts or {})


def _chat_settings() -> ChatSettings:
    from bot.simulator import chat_settings

    settings = chat_settings()
    if settings.note:
        _err(settings.note)
    return settings


# --- triage-bot run ------------------------------------------------------------------------------


def cmd_run(args: argparse.Namespace) -> int:
    # Imported here so that the flow tools work without the Telegram side installed or written.
    from bot.config import ConfigError, load_settings

    try:
        settings = load_settings()
    except ConfigError as error:
        _err(str(error))
        return FAILED
    from bot.telegram.runner import run_bot

    return run_bot(settings)


# --- triage-bot link ------------------------------------------------------------------------------


def cmd_link(args: argparse.Namespace) -> int:
    import logging

    from bot.config import ConfigError, load_settings
    from bot.link import cli_main

    # httpx logs request URLs at INFO, and a getMe URL carries the token.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    try:
        settings = load_settings(require_token=False)  # BOT_USERNAME alone is enough
    except ConfigError as error:
        _err(str(error))
        return FAILED
    return cli_main(args, settings)


# --- triage-bot chat -----------------------------------------------------------------------------


def cmd_chat(args: argparse.Namespace) -> int:
    from bot.simulator import run_terminal_chat

    settings = _chat_settings()
    engine = _engine(resolve_flow(args.flow) if args.flow else settings.flow_file, settings.texts)
    return run_terminal_chat(engine, language=args.language)


# --- triage-bot flows check ----------------------------------------------------------------------


def cmd_check(args: argparse.Namespace) -> int:
    files = [resolve_flow(f) for f in args.files] or flow_files()
    if not files:
        _err(f"There are no flow files in {FLOWS_DIR}/.")
        return FAILED
    failed = False
    for path in files:
        problems = check_flow(path)
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


def cmd_try(args: argparse.Namespace) -> int:
    path = resolve_flow(args.flow)
    engine = _engine(path, _chat_settings().texts)
    try:
        answers = _parse_answers(args.answer)
        for message in unknown_answer_keys(engine.flow, answers).values():
            _err(f"Note: {message} It is ignored.")
        result = walk(engine, answers, language=args.language)
    except AnswerError as error:
        _err(error.message)
        if error.missing:
            example = example_value(engine.flow.steps[error.step])
            _err(f"Add it, for example: --answer {error.step}={example}")
        return USAGE
    if args.json:
        print(json.dumps(result.to_json_dict(), ensure_ascii=False))
        return OK
    flow = engine.flow
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
        print()
        for reply in result.replies:
            print(reply.text)
            if reply.link is not None:
                print(f"[{reply.link.label}: {reply.link.url}]")
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
        # A flow file stands for its scenario file next to it.
        if not path.name.endswith(SCENARIO_SUFFIX):
            path = scenario_path_for(path)
        files.append(path)
    return files


def cmd_test(args: argparse.Namespace) -> int:
    files = _scenario_files(args.files)
    if not files:
        _err(f"There are no scenario files (*{SCENARIO_SUFFIX}) in {FLOWS_DIR}/.")
        return FAILED
    passed = failed = 0
    for path in files:
        if not path.exists():
            _err(f"{path}: there is no scenario file here.")
            failed += 1
            continue
        try:
            engine = _engine(flow_path_for(path))
            scenarios = load_scenarios(path, engine.flow)
        except (FlowError, ScenarioFileError) as error:
            _err(str(error))
            failed += 1
            continue
        print(f"{path} ({len(scenarios)} scenarios, flow {engine.flow.id} v{engine.flow.version})")
        for result in run_scenarios(engine, scenarios):
            if result.passed:
                passed += 1
                if args.verbose:
                    print(format_result(result))
            else:
                failed += 1
                print(format_result(result))
    print(f"{passed} passed, {failed} failed.")
    return FAILED if failed else OK


# --- triage-bot flows graph ----------------------------------------------------------------------


def cmd_graph(args: argparse.Namespace) -> int:
    from bot.graph import mermaid, render_image

    path = resolve_flow(args.flow)
    flow = load_compiled(path).flow
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

    check = tools.add_parser("check", help="validate flow files (default: flows/*.yaml)")
    check.add_argument("files", nargs="*", metavar="FILE")
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
    try_.add_argument("--json", action="store_true", help="print one JSON object")
    try_.add_argument("--show", action="store_true", help="also print the outcome message")
    try_.add_argument("--language", help="e.g. en or es")
    try_.set_defaults(handler=cmd_try)

    test = tools.add_parser("test", help="run scenario files (default: flows/*.scenarios.yaml)")
    test.add_argument("files", nargs="*", metavar="FILE")
    test.add_argument("-v", "--verbose", action="store_true", help="list passing scenarios too")
    test.set_defaults(handler=cmd_test)

    graph = tools.add_parser("graph", help="draw a flow: Mermaid text, and an image with Graphviz")
    graph.add_argument("flow", metavar="FLOW")
    graph.add_argument("--out", metavar="FILE", help="write the Mermaid text here (e.g. flow.mmd)")
    graph.add_argument("--image", metavar="FILE", help="image file (.png, .svg); needs Graphviz")
    graph.set_defaults(handler=cmd_graph)

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

    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    handler: Command = args.handler
    try:
        return handler(args)
    except FlowError as error:
        _err(str(error))
        return FAILED
    except BrokenPipeError:
        return OK  # e.g. `triage-bot flows graph sciatica | head`
