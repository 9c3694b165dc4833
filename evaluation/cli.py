"""`policy-assistant eval`: score retrieval and answers on a JSONL question set, write a report,
export RAGAS rows, gate CI on minimums, or turn UI feedback into a question set.

Exit codes: 0 done; 1 a minimum failed; 2 bad usage (unknown metric, unreadable file);
3 the store cannot be used (empty, locked, unreachable)."""
from __future__ import annotations

import json
import sys
from pathlib import Path

from assistant.errors import UsageError
from index.answerers import ANSWERER_NAMES, GENERATIVE

from .from_feedback import questions_from_feedback
from .metrics import METRICS, STAGES
from .questions import load_questions
from .run import evaluate, ragas_rows
from .thresholds import failed_thresholds, load_thresholds, parse_thresholds



def add_parser(sub, common, as_user=None) -> None:
    p = sub.add_parser("eval", help="score retrieval and answers on a JSONL question set",
                       description="Score retrieval, answers and citations on a JSONL question set.")
    p.add_argument("questions", nargs="?", help="JSONL question set (see README, Evaluation)")
    p.add_argument("--answerer", choices=ANSWERER_NAMES)
    p.add_argument("--report", metavar="DIR", help="write report.md, metrics.png and questions.jsonl here")
    p.add_argument("--min", action="append", default=[], metavar="METRIC=VALUE",
                   help=f"exit 1 when METRIC is below VALUE; metrics: {', '.join(METRICS)}")
    p.add_argument("--thresholds", metavar="FILE",
                   help="JSON {metric: minimum} (e.g. eval/thresholds.json); --min overrides it")
    p.add_argument("--judge", action="store_true",
                   help="also score faithfulness with the configured LLM as judge (LLM-judged; off by default)")
    p.add_argument("--export-ragas", metavar="FILE",
                   help="also write question/answer/contexts/ground_truth rows (RAGAS, DeepEval)")
    p.add_argument("--from-feedback", nargs="?", const="", default=None, metavar="FEEDBACK",
                   help="turn UI feedback (default: the store's feedback.jsonl) into a question set")
    p.add_argument("--out", metavar="FILE", help="with --from-feedback: write here instead of stdout")
    if as_user:
        as_user(p)
    common(p)


def run(args, settings) -> int:
    """The eval command with its parsed ``args`` and the ``Settings`` the main command line built."""
    if args.from_feedback is not None:
        return _from_feedback(args, settings)
    if not args.questions:
        raise UsageError("eval needs a question set: policy-assistant eval QUESTIONS.jsonl")
    if args.out:
        raise UsageError("--out goes with --from-feedback; use --report DIR or --export-ragas FILE")
    # Everything that can be wrong with the command line is found before the model loads.
    thresholds = load_thresholds(args.thresholds) if args.thresholds else {}
    thresholds |= parse_thresholds(args.min)
    questions = load_questions(args.questions)
    for target in filter(None, [args.export_ragas]):
        if not Path(target).expanduser().resolve().parent.is_dir():
            raise UsageError(f"cannot write {target}: its folder does not exist")
    kind = args.answerer or settings.answerer
    if args.judge and kind not in GENERATIVE:
        raise UsageError("--judge needs an LLM answerer (--answerer ollama|openai|gguf, "
                         "or POLICY_ASSISTANT_ANSWERER)")

    from index.store import StoreError

    from assistant import Assistant

    assistant = Assistant(settings=settings, answerer=kind)
    assistant.store.require_index()
    if assistant.store.count() == 0:
        raise StoreError(f"the index at {assistant.store.location} is empty: run policy-assistant ingest first")
    judge = assistant._answerer(kind).chat_model if args.judge else None
    from assistant.cli import user_of

    result = evaluate(assistant, questions, answerer=kind, judge=judge, progress=_progress(),
                      user=user_of(args, settings))
    summary = result["summary"]
    summary["question_set"] = str(args.questions)
    failed = failed_thresholds(summary, thresholds)

    if args.export_ragas:
        _write_jsonl(Path(args.export_ragas), ragas_rows(result["questions"]))
    if args.report:
        from .report import write_report

        write_report(result, Path(args.report), thresholds)
    if args.json:
        print(json.dumps(summary | {"thresholds": thresholds, "failed_thresholds": failed}))
    else:
        print(format_summary(summary))
    for name, fail in failed.items():
        got = "not measured" if fail["value"] is None else f"{fail['value']:.3f}"
        print(f"threshold failed: {name} = {got} < {fail['minimum']}", file=sys.stderr)
    return 1 if failed else 0


def format_summary(summary: dict) -> str:
    lines = [f"{summary['questions']} questions, answerer {summary['answerer']}"
             + (f" ({summary['skipped_needs_review']} flagged needs_review skipped)"
                if summary["skipped_needs_review"] else "")]
    for name in METRICS:
        value = summary["metrics"][name]
        if value is None and name == "faithfulness_llm_judged" and not summary["judged"]:
            continue
        shown = "n/a" if value is None else f"{value:.3f}"
        lines.append(f"{name:>24}: {shown}  (on {summary['measured_on'][name]})")
    for stage in STAGES:
        lat = summary["latency_ms"][stage]
        if lat["n"]:
            lines.append(f"{stage + ' p50 / p95':>24}: {lat['p50']:.0f} / {lat['p95']:.0f} ms")
    return "\n".join(lines)


def _from_feedback(args, settings) -> int:
    source = Path(args.from_feedback) if args.from_feedback else settings.feedback_path
    if args.questions:
        raise UsageError("--from-feedback reads feedback, not a question set: "
                         "give the feedback file as --from-feedback FILE")
    try:
        lines = source.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read feedback {source}: {getattr(exc, 'strerror', None) or exc}") from None
    converted = questions_from_feedback(lines)
    text = "".join(json.dumps(q, ensure_ascii=False) + "\n" for q in converted.questions)
    if args.out:
        try:
            Path(args.out).write_text(text, encoding="utf-8")
        except OSError as exc:
            raise UsageError(f"cannot write {args.out}: {exc.strerror or exc}") from None
    else:
        sys.stdout.write(text)
    review = sum(1 for q in converted.questions if q.get("needs_review"))
    print(f"{len(converted.questions)} questions from {source} ({review} flagged needs_review, "
          f"{converted.skipped} feedback lines skipped: unreadable, no question or no rating)", file=sys.stderr)
    return 0


def _write_jsonl(path: Path, rows: list[dict]) -> None:
    try:
        with path.open("w", encoding="utf-8") as out:
            for row in rows:
                out.write(json.dumps(row, ensure_ascii=False) + "\n")
    except OSError as exc:
        raise UsageError(f"cannot write {path}: {exc.strerror or exc}") from None


def _progress():
    if not sys.stderr.isatty():
        return None
    from tqdm import tqdm

    bar = None

    def update(done: int, total: int) -> None:
        nonlocal bar
        if bar is None:
            bar = tqdm(total=total, unit="q", desc="eval", file=sys.stderr, leave=False)
        bar.update(1)
        if done == total:
            bar.close()
    return update
