"""Flow loading, compiling and one engine step: the CPU cost of the product's pure core.

Measures, for the default flow (flows/sciatica.yaml) and a generated 200-step flow
(bench/gen_flow.py):

* ``bot.flow.load_flow`` (read, parse YAML with line numbers, validate, build the model) and
  ``compile_flow`` (one shared transitions machine), each the median of repeated runs, and
  a plain ``yaml.load`` of the same text (libyaml's CSafeLoader when present) as a yardstick
  for the YAML part;
* one engine step, ``Engine.handle(session, input)``, for each kind of input a person sends:
  a button of a single choice (Choose), a tick (Toggle), Done, a number button (Number) and a
  typed number (Text); median and p99 over many calls on the same session (the engine is pure:
  the input session is never changed, so every call does the same work);
* a whole conversation (start to outcome) and the session's JSON round trip, which the
  transport pays once per update.

Targets (docs/benchmarks.md): 200-step compile + validate < 100 ms; one engine step < 50 µs
median. Prints Markdown tables and appends JSON lines to ``--out``.

    .venv/bin/python bench/flow_bench.py [--quick] [--out bench/results/flow.jsonl]
"""

from __future__ import annotations

import argparse
import gc
import json
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.gen_flow import generate  # noqa: E402
from bot.engine import (  # noqa: E402
    Choose,
    Done,
    Engine,
    Input,
    Number,
    Session,
    Text,
    Toggle,
)
from bot.flow import load_flow  # noqa: E402
from bot.flow.compiler import CompiledFlow, compile_flow  # noqa: E402
from bot.flow.model import Step, StepKind  # noqa: E402

DEFAULT_FLOW = ROOT / "flows" / "sciatica.yaml"
SETTINGS = {
    "booking_url": "https://example.com/book",
    "emergency_number": "999",
    "urgent_advice": "call 111",
}
# One person's answers through the default flow (clinical.md, section F): buttock pain that
# stays above the knee, worse when sitting -> likely_piriformis, the longest common path.
SCIATICA_ANSWERS: dict[str, Any] = {
    "emergency_flags": ["none"],
    "age": 34,
    "first_episode": "no",
    "doctor_flags": ["none"],
    "location": "buttock",
    "radiation": "back_of_thigh",
    "severity": 4,
    "worse_sitting": "yes",
    "leg_symptoms": ["none"],
}
# Answers that no generated rule tests for, so a walk goes through the whole generated flow.
GENERATED_DEFAULTS: dict[StepKind, Any] = {
    StepKind.CHOICE: "centre",
    StepKind.MULTI: ["stiffness"],
}


# --- timing helpers ----------------------------------------------------------------------------


def _median_ms(action: Callable[[], object], repeats: int) -> tuple[float, float, list[float]]:
    """Median and minimum of ``repeats`` timed calls, in milliseconds (after one warm-up)."""
    action()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        action()
        times.append((time.perf_counter() - t0) * 1e3)
    return statistics.median(times), min(times), times


def _percentile(sorted_values: list[float], q: float) -> float:
    index = min(len(sorted_values) - 1, max(0, round(q * (len(sorted_values) - 1))))
    return sorted_values[index]


def _per_call_us(action: Callable[[], object], calls: int) -> dict[str, float]:
    """Each call timed on its own (perf_counter_ns), with the garbage collector on as in life."""
    for _ in range(min(calls, 500)):  # warm-up: caches, branch predictors, allocator
        action()
    clock = time.perf_counter_ns
    times = []
    append = times.append
    for _ in range(calls):
        t0 = clock()
        action()
        append(clock() - t0)
    times.sort()
    return {
        "median_us": _percentile(times, 0.5) / 1e3,
        "p99_us": _percentile(times, 0.99) / 1e3,
        "mean_us": sum(times) / len(times) / 1e3,
        "calls": calls,
    }


# --- walking a flow ----------------------------------------------------------------------------


def _inputs_for(step: Step, value: Any) -> Iterator[Input]:
    """What a person sends to answer ``step`` with ``value``: taps, ticks or typed text."""
    if step.kind is StepKind.CHOICE:
        yield Choose(step.id, str(value))
    elif step.kind is StepKind.MULTI:
        for option in value:
            yield Toggle(step.id, option)
        yield Done(step.id)
    elif step.kind is StepKind.NUMBER:
        low, high = step.minimum, step.maximum
        has_buttons = low is not None and high is not None and high - low < 12
        yield Number(step.id, int(value)) if has_buttons else Text(str(value))
    else:
        raise ValueError(f"step {step.id!r} ({step.kind}) takes no answer")


def _generated_value(step: Step) -> Any:
    if step.kind is StepKind.NUMBER:
        low = step.minimum if step.minimum is not None else 0
        high = step.maximum if step.maximum is not None else low + 10
        return (low + high) // 2
    return GENERATED_DEFAULTS[step.kind]


def walk(engine: Engine, answers: Mapping[str, Any] | None) -> list[tuple[Session, Input, str]]:
    """Play one conversation to its outcome: (session before, input, step id) for every input.

    ``answers`` maps answer keys to values; ``None`` answers the generated flow's questions
    with values no rule tests for, which walks through every question.
    """
    flow = engine.flow
    session = engine.start(language="en").session
    played: list[tuple[Session, Input, str]] = []
    while not session.finished:
        step = flow.steps[session.step]
        value = answers[step.id] if answers is not None else _generated_value(step)
        for message in _inputs_for(step, value):
            result = engine.handle(session, message)
            if not result.accepted:
                raise RuntimeError(f"the flow refused {message!r} at {step.id!r}: {result}")
            played.append((session, message, step.id))
            session = result.session
    return played


def _pick(
    played: list[tuple[Session, Input, str]], kind: type, late: bool = False
) -> tuple[Session, Input, str] | None:
    found = [p for p in played if isinstance(p[1], kind)]
    if not found:
        return None
    return found[-1] if late else found[0]


# --- the measurements --------------------------------------------------------------------------


def bench_load(name: str, path: Path, text: str, repeats: int) -> tuple[dict, CompiledFlow]:
    steps = len(yaml.safe_load(text)["steps"])
    gc.collect()
    # the loader composes with libyaml when it is there; the same parse alone, as a yardstick
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    yaml_ms, _, _ = _median_ms(lambda: yaml.load(text, Loader=loader), repeats)
    load_ms, load_min, _ = _median_ms(lambda: load_flow(path), repeats)
    flow = load_flow(path)
    compile_ms, compile_min, _ = _median_ms(lambda: compile_flow(flow), repeats)
    total_ms, total_min, _ = _median_ms(lambda: compile_flow(load_flow(path)), repeats)
    row = {
        "kind": "flow_load",
        "flow": name,
        "steps": steps,
        "bytes": len(text.encode()),
        "repeats": repeats,
        "yaml_load_ms": yaml_ms,
        "load_flow_ms": load_ms,
        "load_flow_min_ms": load_min,
        "compile_flow_ms": compile_ms,
        "compile_flow_min_ms": compile_min,
        "load_and_compile_ms": total_ms,
        "load_and_compile_min_ms": total_min,
    }
    return row, compile_flow(flow)


def bench_engine(
    name: str, compiled: CompiledFlow, answers: Mapping[str, Any] | None, calls: int, late: bool
) -> list[dict]:
    engine = Engine(compiled, SETTINGS)
    played = walk(engine, answers)
    rows = []
    for kind in (Choose, Toggle, Done, Number, Text):
        picked = _pick(played, kind, late=late)
        if picked is None:
            continue
        session, message, step_id = picked

        def one_step(session: Session = session, message: Input = message) -> object:
            return engine.handle(session, message)

        rows.append(
            {
                "kind": "engine_step",
                "flow": name,
                "input": kind.__name__,
                "step": step_id,
                "answers_before": len(session.answers),
                **_per_call_us(one_step, calls),
            }
        )
    # a whole conversation, and what the transport adds per update: the session's JSON trip
    inputs = [message for _, message, _ in played]

    def conversation() -> object:
        result = engine.start(language="en")
        for message in inputs:
            result = engine.handle(result.session, message)
        return result

    whole = _per_call_us(conversation, max(50, calls // (10 * len(inputs))))
    rows.append(
        {
            "kind": "engine_conversation",
            "flow": name,
            "inputs": len(inputs),
            **whole,
            "per_input_us": whole["median_us"] / (len(inputs) + 1),
        }
    )
    last = played[-1][0]
    stored = last.to_json()
    rows.append(
        {
            "kind": "session_json",
            "flow": name,
            "answers": len(last.answers),
            "bytes": len(stored.encode()),
            "to_json": _per_call_us(last.to_json, calls // 2),
            "from_json": _per_call_us(lambda: Session.from_json(stored), calls // 2),
        }
    )
    return rows


def machine_info() -> str:
    cpu = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    import os

    libyaml = "libyaml" if getattr(yaml, "__with_libyaml__", False) else "pure-Python yaml"
    return f"{cpu}, {os.cpu_count()} CPU, Python {platform.python_version()}, {libyaml} available"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats (a smoke run)")
    parser.add_argument("--flow", type=Path, default=DEFAULT_FLOW, help="the default flow")
    parser.add_argument("--steps", type=int, default=200, help="size of the generated flow")
    parser.add_argument("--out", type=Path, help="append JSON lines here")
    args = parser.parse_args(argv)
    repeats = 7 if args.quick else 31
    calls = 3_000 if args.quick else 30_000

    generated_text = generate(args.steps)
    with tempfile.TemporaryDirectory(prefix="flowbench-") as tmp:
        generated_path = Path(tmp) / f"generated_{args.steps}.yaml"
        generated_path.write_text(generated_text, encoding="utf-8")
        rows: list[dict] = []
        default_text = args.flow.read_text(encoding="utf-8")
        row, default_compiled = bench_load(args.flow.stem, args.flow, default_text, repeats)
        rows.append(row)
        row, generated_compiled = bench_load(
            f"generated_{args.steps}", generated_path, generated_text, max(5, repeats // 2)
        )
        rows.append(row)
    rows += bench_engine(args.flow.stem, default_compiled, SCIATICA_ANSWERS, calls, late=False)
    # late in the long flow: ~150 answers in the session, the worst case for per-step work that
    # grows with the answers given so far
    rows += bench_engine(f"generated_{args.steps}", generated_compiled, None, calls // 3, late=True)
    stamp = {"machine": machine_info(), "at": time.strftime("%Y-%m-%dT%H:%M:%S")}
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        with args.out.open("a", encoding="utf-8") as fh:
            for row in rows:
                fh.write(json.dumps({**row, **stamp}) + "\n")
    from bench.report import flow_tables

    print(flow_tables([{**row, **stamp} for row in rows]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
