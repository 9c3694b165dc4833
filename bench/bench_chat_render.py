"""Chat page cost against conversation length (issue 19, item 11): one page run with 10, 50 and 150
answered turns in the session, the 10-turn run as the baseline measured in the same process.

    python bench/bench_chat_render.py [--store DIR] [--turns 10,50,150] [--rounds 5]

Answers are real (the extractive answerer on --store, default corpus/ + the NHS documents, built
once and kept) and put into the session directly, so the figure is the page's own cost: drawing
every earlier turn on every run of the script. Printed: the median run time per length and its
ratio to the baseline.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
import uuid
from pathlib import Path

from _setup import ROOT  # noqa: E402,F401  (offline, quiet, project on sys.path)



def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", default="/tmp/policy-assistant-bench/library")
    parser.add_argument("--turns", default="10,50,150")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()

    import ingest
    from assistant import Assistant
    from evaluation import load_questions
    from index.settings import Settings
    from streamlit.testing.v1 import AppTest
    from ui.views import Turn

    settings = Settings(store=Path(args.store))
    ingest.run([ROOT / "corpus", ROOT.parent / "shared" / "datasets" / "nhs-policy-pdfs"], settings)
    os.environ["POLICY_ASSISTANT_STORE"] = str(settings.store)
    helper = Assistant(settings=settings)
    questions = [q.question for q in load_questions(ROOT / "eval" / "integration-dev.jsonl") if q.answerable]
    lengths = [int(n) for n in args.turns.split(",")]
    answers = [helper.ask(questions[i % len(questions)]) for i in range(max(lengths))]

    results = {}
    for length in lengths:
        at = AppTest.from_file(str(ROOT / "ui" / "app.py"), default_timeout=120)
        at.run()
        at.session_state["turns"] = [Turn(id=uuid.uuid4().hex, question=a.question, answer=a)
                                     for a in answers[:length]]
        times = []
        for _ in range(args.rounds):
            started = time.perf_counter()
            at.run()
            times.append(time.perf_counter() - started)
        assert not at.exception, at.exception
        results[length] = statistics.median(times)
    baseline = results[lengths[0]]
    print("turns  median run (s)  vs baseline")
    for length in lengths:
        print(f"{length:5d}  {results[length]:14.3f}  x{results[length] / baseline:.2f}")


if __name__ == "__main__":
    main()
