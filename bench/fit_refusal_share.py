"""Re-fit Settings.refusal_stated_share: the near-miss refusal of questions that ask for something
specific (an amount, a number, a date, a penalty, a figure; assistant/asked.py).

    python bench/fit_refusal_share.py [--store DIR] [--small-store DIR] [--shares 0.75,0.8,...]

A question of such a kind is refused when no short-listed sentence that states one scores at
least this share of the best sentence's score. Too low and near misses are answered with quotes
about the subject; too high and answerable questions whose figure sits in the second-best
sentence are refused. Fitted on the tuning sets only: eval/dev.jsonl and eval/holdout.jsonl on the
seeds + NHS documents (--small-store), eval/integration-dev.jsonl and eval/integration-holdout.jsonl
eval/integration-tune.jsonl, eval/integration-nearmiss.jsonl and eval/integration-refusals.jsonl,
-refusals2.jsonl to -refusals11.jsonl on corpus/ + the NHS documents (--store). The test sets are never
read here.

For each share it prints, over the four sets together: refusal accuracy, near-miss refusal,
answerable questions refused and key-fact recall; the best share by refusal accuracy is marked
(ties: the higher near-miss refusal, since "the documents do not say" is the promise; then the
lower share, which refuses less).
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from _setup import ROOT, SHARED  # noqa: E402,F401  (offline, quiet, project on sys.path)


TUNING = {"small": ["dev.jsonl", "holdout.jsonl"],
          "library": ["integration-dev.jsonl", "integration-holdout.jsonl", "integration-tune.jsonl",
                      "integration-nearmiss.jsonl", "integration-refusals.jsonl", "integration-refusals2.jsonl",
                      "integration-refusals3.jsonl", "integration-refusals4.jsonl", "integration-refusals5.jsonl",
                      "integration-refusals6.jsonl", "integration-refusals7.jsonl", "integration-refusals8.jsonl",
                      "integration-refusals9.jsonl", "integration-refusals10.jsonl",
                      "integration-refusals11.jsonl"]}


def store_for(folder: Path, paths: list[Path]):
    import ingest
    from index.settings import Settings

    settings = Settings(store=folder)
    report = ingest.run(paths, settings)
    if report.failed:
        raise SystemExit(f"ingest failed: {report.failed}")
    return settings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", default="/tmp/policy-assistant-bench/library")
    parser.add_argument("--small-store", default="/tmp/policy-assistant-bench/small-fit")
    parser.add_argument("--shares", default="0.7,0.75,0.8,0.83,0.85,0.87,0.9,0.93,0.95,1.0")
    args = parser.parse_args()

    from assistant import Assistant
    from evaluation import evaluate, load_questions

    nhs = SHARED / "datasets" / "nhs-policy-pdfs"
    stores = {"small": store_for(Path(args.small_store), [SHARED / "seeds", nhs]),
              "library": store_for(Path(args.store), [ROOT / "corpus", nhs])}
    assistants = {name: Assistant(settings=settings) for name, settings in stores.items()}
    for helper in assistants.values():
        helper.warm_up()
    sets = [(name, load_questions(ROOT / "eval" / file)) for name, files in TUNING.items() for file in files]

    print("share  refusal_acc  near_miss  answerable_refused  fact_recall")
    results = []
    for share in [float(s) for s in args.shares.split(",")]:
        rows = []
        for name, questions in sets:
            helper = assistants[name]
            helper.settings = stores[name].model_copy(update={"refusal_stated_share": share})
            rows += evaluate(helper, questions)["questions"]
        right = sum(r["refused"] != r["answerable"] for r in rows) / len(rows)
        near = [r["refused"] for r in rows if r.get("unanswerable_kind") == "near-miss"]
        answerable_refused = sum(r["refused"] for r in rows if r["answerable"])
        facts = [r["fact_recall"] for r in rows if r.get("fact_recall") is not None]
        results.append((round(right, 3), round(sum(near) / len(near), 3), -share, share))
        print(f"{share:5.2f}  {right:11.3f}  {sum(near) / len(near):9.3f}  {answerable_refused:18d}  "
              f"{sum(facts) / len(facts):11.3f}")
    best = max(results)[-1]
    print(f"best share: {best:.2f} (Settings.refusal_stated_share)")


if __name__ == "__main__":
    main()
