"""`policy-assistant eval QUESTIONS.jsonl`: score retrieval and answers on a question set."""
from __future__ import annotations

import json
import sys

from .evaluation import METRICS, evaluate, load_questions


def add_parser(sub, common) -> None:
    p = sub.add_parser("eval", help="score retrieval and answers on a JSONL question set")
    p.add_argument("questions", help="JSONL question set")
    p.add_argument("--answerer", choices=["extractive", "ollama", "openai", "gguf"])
    p.add_argument("--min", action="append", default=[], metavar="METRIC=VALUE",
                   help=f"fail (exit 1) when a metric is below VALUE; metrics: {', '.join(METRICS)}")
    common(p)


def _thresholds(specs: list[str]) -> dict[str, float]:
    out = {}
    for spec in specs:
        name, _, value = spec.partition("=")
        if name not in METRICS or not value:
            raise ValueError(f"--min takes METRIC=VALUE with METRIC one of {', '.join(METRICS)}")
        out[name] = float(value)
    return out


def run(args) -> int:
    from . import Assistant
    from .cli import _settings

    thresholds = _thresholds(args.min)
    assistant = Assistant(settings=_settings(args))
    result = evaluate(assistant, load_questions(args.questions), answerer=args.answerer)
    summary = result["summary"]
    failed = {m: (summary["metrics"][m], v) for m, v in thresholds.items() if summary["metrics"][m] < v}
    if args.json:
        print(json.dumps(summary | {"failed_thresholds": failed}))
    else:
        for name in METRICS:
            print(f"{name:>20}: {summary['metrics'][name]:.3f}")
        for stage, lat in summary["latency_ms"].items():
            print(f"{stage + ' p50/p95':>20}: {lat['p50']:.0f} / {lat['p95']:.0f} ms")
    for name, (got, wanted) in failed.items():
        print(f"threshold failed: {name} = {got:.3f} < {wanted}", file=sys.stderr)
    return 1 if failed else 0
